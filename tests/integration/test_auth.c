/*
 * Identity, roles and audit on a real shelfline-inventory process with a
 * JWT key: a customer-service agent cannot write off stock (the shared
 * token of old let it), a stock administrator can, and the ledger then
 * names the administrator -- the token's subject -- with the call's request
 * id and trace id, which ListLedger shows the agent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inv_test.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_client.h"
#include "sl_log.h"
#include "sl_test.h"
#include "sl_test_auth.h"

#define TRACE_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define TRACEPARENT "00-" TRACE_ID "-00f067aa0ba902b7-01"

typedef struct fixture {
    sl_test_keys keys;
    invt_svc svc;
    sl_channel *admin; /* every role but service: seeds the network */
    sl_arena *a;
    char *agent, *stock_admin, *storefront;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || sl_test_keys_make(&f->keys) != 0)
        return -1;
    const char *env[] = {f->keys.public_env, NULL};
    if (invt_start(&f->svc, "auth", 1, env) != 0)
        return -1;
    char *admin = sl_test_bearer(&f->keys, "seeder", "storefront,cs-agent,planner,stock-admin");
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", f->svc.port[0]);
    sl_channel_options o = {.authorization = admin};
    sl_err err;
    if (admin == NULL || sl_channel_create(target, &o, &f->admin, &err) != SL_OK)
        return -1;
    free(admin);
    const char *skus[] = {"AUD-1"};
    if (invt_seed(f->admin, skus, 1) != 0)
        return -1;
    f->agent = sl_test_bearer(&f->keys, "agent-ann", "cs-agent");
    f->stock_admin = sl_test_bearer(&f->keys, "admin-bo", "stock-admin");
    f->storefront = sl_test_bearer(&f->keys, "shop-web", "storefront");
    f->a = sl_arena_create(0);
    *state = f;
    return f->agent != NULL && f->stock_admin != NULL && f->storefront != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sl_channel_destroy(f->admin);
    int bad = invt_stop(&f->svc);
    sl_test_keys_remove(&f->keys);
    sl_arena_destroy(f->a);
    free(f->agent);
    free(f->stock_admin);
    free(f->storefront);
    free(f);
    return bad == 0 ? 0 : -1;
}

/* An inventory call as the bearer of auth, with a request id and a trace. */
static sl_status call_as(fixture *f, const char *auth, const char *method,
                         const ProtobufCMessage *req, const ProtobufCMessageDescriptor *rd,
                         void *out, const char *request_id, sl_err *err)
{
    char full[128];
    snprintf(full, sizeof full, "/shelfline.v1.InventoryService/%s", method);
    sl_call_options o = {.authorization = auth,
                         .request_id = request_id,
                         .traceparent = TRACEPARENT,
                         .timeout_ms = 10000};
    return sl_client_unary(f->svc.ch[0], full, req, rd, f->a, (ProtobufCMessage **)out, &o, err);
}

static Shelfline__V1__AdjustStockRequest shrinkage(const char *id)
{
    Shelfline__V1__AdjustStockRequest r = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
    r.request_id = (char *)id;
    r.sku = "AUD-1";
    r.warehouse_id = "W-NEAR";
    r.delta = -5;
    r.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__SHRINKAGE;
    return r;
}

/* The attack of the issue: AdjustStock -5 SHRINKAGE with a cs-agent's
 * credentials is refused before the handler, naming the role it lacks;
 * nothing reaches the ledger. */
static void test_a_cs_agent_cannot_write_off_stock(void **state)
{
    fixture *f = *state;
    assert_int_equal(invt_stock(f->admin, "AUD-1", "W-NEAR", 20), 0);
    Shelfline__V1__AdjustStockRequest r = shrinkage("agent-writes-off");
    Shelfline__V1__AdjustStockResponse *resp;
    sl_err err;
    assert_int_equal(call_as(f, f->agent, "AdjustStock", &r.base,
                             &shelfline__v1__adjust_stock_response__descriptor, &resp, NULL, &err),
                     SL_PERMISSION_DENIED);
    if (strstr(err.msg, "needs role stock-admin") == NULL ||
        strstr(err.msg, "\"agent-ann\" has cs-agent") == NULL)
        fail_msg("refusal does not name the missing role: %s", err.msg);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM inventory.ledger WHERE reference = 'agent-writes-off'");
    assert_int_equal(invt_sql_int(f->svc.conninfo, sql), 0);
}

/* The audit: the actor of an AdjustStock is the token's subject, with the
 * call's request id and trace id -- in the reply, in the table, and in
 * ListLedger, which a cs-agent may read and a storefront may not. */
static void test_the_ledger_names_the_token_subject(void **state)
{
    fixture *f = *state;
    assert_int_equal(invt_stock(f->admin, "AUD-1", "W-NEAR", 20), 0);
    Shelfline__V1__AdjustStockRequest r = shrinkage("admin-writes-off");
    Shelfline__V1__AdjustStockResponse *resp;
    sl_err err;
    assert_int_equal(call_as(f, f->stock_admin, "AdjustStock", &r.base,
                             &shelfline__v1__adjust_stock_response__descriptor, &resp,
                             "req-audit-1", &err),
                     SL_OK);
    assert_non_null(resp->entry);
    assert_string_equal(resp->entry->actor, "admin-bo");
    assert_string_equal(resp->entry->request_id, "req-audit-1");
    assert_string_equal(resp->entry->trace_id, TRACE_ID);
    assert_int_equal(invt_sql_int(f->svc.conninfo,
                                  "SELECT count(*) FROM inventory.ledger WHERE actor = 'admin-bo' "
                                  "AND request_id = 'req-audit-1' AND trace_id = '" TRACE_ID "'"),
                     1);

    Shelfline__V1__ListLedgerRequest lr = SHELFLINE__V1__LIST_LEDGER_REQUEST__INIT;
    lr.sku = "AUD-1";
    lr.warehouse_id = "W-NEAR";
    Shelfline__V1__ListLedgerResponse *page;
    assert_int_equal(call_as(f, f->storefront, "ListLedger", &lr.base,
                             &shelfline__v1__list_ledger_response__descriptor, &page, NULL, &err),
                     SL_PERMISSION_DENIED);
    assert_int_equal(call_as(f, f->agent, "ListLedger", &lr.base,
                             &shelfline__v1__list_ledger_response__descriptor, &page, NULL, &err),
                     SL_OK);
    assert_true(page->n_entries >= 2);
    /* Newest first: the write-off, then the receipt the seeder made. */
    const Shelfline__V1__LedgerEntry *e = page->entries[0];
    assert_string_equal(e->actor, "admin-bo");
    assert_int_equal(e->delta, -5);
    assert_int_equal(e->reason, SHELFLINE__V1__LEDGER_ENTRY__REASON__SHRINKAGE);
    assert_string_equal(e->reference, "admin-writes-off");
    assert_string_equal(e->request_id, "req-audit-1");
    assert_string_equal(e->trace_id, TRACE_ID);
    assert_true(e->created_at_ms > 0);
    assert_string_equal(page->entries[1]->actor, "seeder");
    assert_true(page->entries[0]->ledger_id > page->entries[1]->ledger_id);
}

/* ListLedger pages newest first and checks its input like every list. */
static void test_list_ledger_pages_and_checks_its_request(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(invt_stock(f->admin, "AUD-1", "W-MID", 1 + i), 0);
    Shelfline__V1__PageRequest pr = SHELFLINE__V1__PAGE_REQUEST__INIT;
    pr.page_size = 2;
    Shelfline__V1__ListLedgerRequest lr = SHELFLINE__V1__LIST_LEDGER_REQUEST__INIT;
    lr.sku = "AUD-1";
    lr.warehouse_id = "W-MID";
    lr.page = &pr;
    Shelfline__V1__ListLedgerResponse *page;
    sl_err err;
    assert_int_equal(call_as(f, f->agent, "ListLedger", &lr.base,
                             &shelfline__v1__list_ledger_response__descriptor, &page, NULL, &err),
                     SL_OK);
    assert_int_equal(page->n_entries, 2);
    assert_int_equal(page->entries[0]->delta, 3);
    assert_int_equal(page->entries[1]->delta, 2);
    assert_string_not_equal(page->next_page_token, "");
    pr.page_token = page->next_page_token;
    assert_int_equal(call_as(f, f->agent, "ListLedger", &lr.base,
                             &shelfline__v1__list_ledger_response__descriptor, &page, NULL, &err),
                     SL_OK);
    assert_int_equal(page->n_entries, 1);
    assert_int_equal(page->entries[0]->delta, 1);
    assert_string_equal(page->next_page_token, "");

    lr.page = NULL;
    lr.sku = "";
    assert_int_equal(call_as(f, f->agent, "ListLedger", &lr.base,
                             &shelfline__v1__list_ledger_response__descriptor, &page, NULL, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "sku"));
    lr.sku = "NO-SUCH-SKU";
    assert_int_equal(call_as(f, f->agent, "ListLedger", &lr.base,
                             &shelfline__v1__list_ledger_response__descriptor, &page, NULL, &err),
                     SL_NOT_FOUND);
    assert_non_null(strstr(err.msg, "sku"));
    lr.sku = "AUD-1";
    lr.page = &pr;
    pr.page_token = "zz";
    assert_int_equal(call_as(f, f->agent, "ListLedger", &lr.base,
                             &shelfline__v1__list_ledger_response__descriptor, &page, NULL, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "page.page_token"));
}

/* Inbound changes name their actor too: the planner who announced a
 * shipment and the one who delayed it, each with the call's request id. */
static void test_inbound_changes_name_their_actor(void **state)
{
    fixture *f = *state;
    char *planner = sl_test_bearer(&f->keys, "planner-pat", "planner");
    char *other = sl_test_bearer(&f->keys, "planner-quinn", "planner");
    assert_non_null(planner);
    assert_non_null(other);
    Shelfline__V1__CreateInboundRequest cr = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    cr.inbound_id = "PO-AUDIT-1";
    cr.sku = "AUD-1";
    cr.warehouse_id = "W-FAR";
    cr.qty = 10;
    cr.expected_at_ms = (int64_t)time(NULL) * 1000 + 3 * 86400000LL;
    cr.supplier = "ACME";
    Shelfline__V1__Inbound *in;
    sl_err err;
    /* A cs-agent never changes inbound shipments. */
    assert_int_equal(call_as(f, f->agent, "CreateInbound", &cr.base,
                             &shelfline__v1__inbound__descriptor, &in, NULL, &err),
                     SL_PERMISSION_DENIED);
    assert_int_equal(call_as(f, planner, "CreateInbound", &cr.base,
                             &shelfline__v1__inbound__descriptor, &in, "req-po-1", &err),
                     SL_OK);
    Shelfline__V1__DelayInboundRequest dr = SHELFLINE__V1__DELAY_INBOUND_REQUEST__INIT;
    dr.inbound_id = "PO-AUDIT-1";
    dr.new_expected_at_ms = cr.expected_at_ms + 86400000LL;
    dr.reason = "storm";
    assert_int_equal(call_as(f, other, "DelayInbound", &dr.base,
                             &shelfline__v1__inbound__descriptor, &in, "req-po-2", &err),
                     SL_OK);
    assert_int_equal(invt_sql_int(f->svc.conninfo,
                                  "SELECT count(*) FROM inventory.inbound WHERE id = 'PO-AUDIT-1' "
                                  "AND actor = 'planner-pat' AND request_id = 'req-po-1' "
                                  "AND trace_id = '" TRACE_ID "'"),
                     1);
    assert_int_equal(invt_sql_int(f->svc.conninfo,
                                  "SELECT count(*) FROM inventory.inbound_delay WHERE inbound_id = "
                                  "'PO-AUDIT-1' AND actor = 'planner-quinn' AND request_id = "
                                  "'req-po-2'"),
                     1);
    free(planner);
    free(other);
}

int main(void)
{
    sl_log_init("test-auth", SL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_cs_agent_cannot_write_off_stock),
        cmocka_unit_test(test_the_ledger_names_the_token_subject),
        cmocka_unit_test(test_list_ledger_pages_and_checks_its_request),
        cmocka_unit_test(test_inbound_changes_name_their_actor),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
