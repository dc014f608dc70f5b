/*
 * Signals between the services, with every process real (suite_test):
 *
 *   - a ticket's priority from customer value: customer-value scores a
 *     frequent, recent, big spender platinum and a one-off buyer of long
 *     ago lower; service-desk asks it for the tier when the ticket opens,
 *     so the same where-is-my-order question gets a higher priority and a
 *     shorter first-response target for the first; with customer-value
 *     stopped the ticket still opens, its tier "unknown" (priced as a new
 *     customer's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_test.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_db.h"
#include "sl_test.h"
#include "suite_test.h"

#define DESC(x) &shelfline__v1__##x##__descriptor
#define DAY INT64_C(86400000)

static suitet S;
static sl_arena *A;

static int group_setup(void **state)
{
    (void)state;
    A = sl_arena_create(0);
    return suitet_start(&S, "suite_signals");
}

static int group_teardown(void **state)
{
    (void)state;
    int bad = suitet_stop(&S);
    sl_arena_destroy(A);
    return bad == 0 ? 0 : -1;
}

static sl_status cv(const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *d, void *out, sl_err *err)
{
    return sl_test_call(S.ch[SUITET_CV], "CustomerValueService", method, req, d, A, out, 0, err);
}

/* A customer of region EAST with n single-line purchases of amount minor
 * units, the latest `last_ago` days ago, one every `every` days before. */
static void customer(const char *id, int n, int64_t amount, int last_ago, int every)
{
    sl_err err;
    int64_t now = sl_db_now_ms();
    Shelfline__V1__UpsertCustomerRequest u = SHELFLINE__V1__UPSERT_CUSTOMER_REQUEST__INIT;
    u.customer_id = (char *)id;
    u.region = "EAST";
    u.signed_up_at_ms = now - 700 * DAY;
    assert_int_equal(cv("UpsertCustomer", &u.base, DESC(upsert_customer_response), NULL, &err),
                     SL_OK);
    for (int k = 0; k < n; k++) {
        char oid[64];
        snprintf(oid, sizeof oid, "po-%s-%d", id, k);
        Shelfline__V1__Money m = SHELFLINE__V1__MONEY__INIT;
        m.minor_units = amount;
        m.currency = "USD";
        Shelfline__V1__PurchaseLine l = SHELFLINE__V1__PURCHASE_LINE__INIT;
        Shelfline__V1__PurchaseLine *lp = &l;
        l.sku = "SKU-A";
        l.category = "coffee";
        l.qty = 1;
        l.amount = &m;
        Shelfline__V1__RecordPurchaseRequest r = SHELFLINE__V1__RECORD_PURCHASE_REQUEST__INIT;
        r.order_id = oid;
        r.customer_id = (char *)id;
        r.at_ms = now - (int64_t)(last_ago + every * k) * DAY;
        r.amount = &m;
        r.lines = &lp;
        r.n_lines = 1;
        assert_int_equal(cv("RecordPurchase", &r.base, DESC(record_purchase_response), NULL, &err),
                         SL_OK);
    }
}

static Shelfline__V1__Ticket *wismo(const char *ticket_id, const char *customer_id)
{
    sl_err err;
    Shelfline__V1__OpenTicketRequest r = SHELFLINE__V1__OPEN_TICKET_REQUEST__INIT;
    r.ticket_id = (char *)ticket_id;
    r.customer_id = (char *)customer_id;
    r.channel = SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_EMAIL;
    r.subject = "Where is my order?";
    r.body = "Hello, where is my order? It has not arrived yet and I have no tracking number.";
    Shelfline__V1__Ticket *t = NULL;
    assert_int_equal(sl_test_call(S.ch[SUITET_SD], "ServiceDeskService", "OpenTicket", &r.base,
                                  DESC(ticket), A, &t, 0, &err),
                     SL_OK);
    assert_string_equal(t->category, "where_is_my_order");
    return t;
}

static void test_priority_from_live_customer_value(void **state)
{
    (void)state;
    /* twenty customers: "vip" bought 15 times, every 10 days, the latest
     * two days ago, 90.00 each; the others once or twice long ago, small */
    customer("vip", 15, 9000, 2, 10);
    for (int i = 0; i < 19; i++) {
        char id[16];
        snprintf(id, sizeof id, "c-%02d", i);
        customer(id, 1 + i % 2, 500 + 100 * i, 120 + 20 * i, 30);
    }
    sl_err err;
    Shelfline__V1__GetCustomerValueRequest g = SHELFLINE__V1__GET_CUSTOMER_VALUE_REQUEST__INIT;
    g.customer_id = "vip";
    Shelfline__V1__CustomerValue *v;
    assert_int_equal(cv("GetCustomerValue", &g.base, DESC(customer_value), &v, &err), SL_OK);
    assert_int_equal(v->tier, SHELFLINE__V1__CUSTOMER_TIER__CUSTOMER_TIER_PLATINUM);

    Shelfline__V1__Ticket *hi = wismo("t-sig-vip", "vip");
    Shelfline__V1__Ticket *lo = wismo("t-sig-c01", "c-01");
    assert_string_equal(hi->tier, "platinum");
    assert_string_not_equal(lo->tier, "platinum");
    assert_string_not_equal(lo->tier, "unknown");
    assert_true(strcmp(hi->priority, lo->priority) < 0); /* "P2" before "P3" */
    assert_true(hi->first_response->target_minutes < lo->first_response->target_minutes);
    assert_true(hi->resolution->target_minutes < lo->resolution->target_minutes);

    /* customer-value down: the ticket opens all the same, tier unknown,
     * priced as a new customer's */
    assert_true(sl_test_stop(S.pid[SUITET_CV], SIGTERM, 15000) == 0);
    S.pid[SUITET_CV] = 0;
    Shelfline__V1__Ticket *down = wismo("t-sig-vip-down", "vip");
    assert_string_equal(down->tier, "unknown");
    assert_true(strcmp(down->priority, hi->priority) > 0);
    assert_true(down->first_response->target_minutes > hi->first_response->target_minutes);
    sl_arena_reset(A);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_from_live_customer_value),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
