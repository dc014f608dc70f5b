/*
 * Integration test of cv_history (the purchase history in memory): two
 * shelfline-customer-value processes on one database, one answering
 * Recommend and GetRepurchaseReminders from memory (the default), the other
 * with SQL on every call (SHELFLINE_CV_HISTORY_CACHE=false, the definition),
 * both asking one real shelfline-inventory.  After every change -- new
 * orders through either process, a return, a customer moving region -- the
 * two answer byte for byte the same, and the answers did change, so a
 * stale copy could not pass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "inv_test.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_client.h"
#include "sl_test.h"

#define DAY (24LL * 3600 * 1000)
#define MEMORY 0 /* the process answering from memory */
#define SQL 1    /* the one reading with SQL */

typedef struct fixture {
    invt_svc inv;
    pid_t pid[2];
    sl_channel *ch[2];
    sl_arena *a;
    int64_t now;
} fixture;

static fixture F;

static const char *const customers[] = {"h-1", "h-2", "h-3", "h-4", "h-5", "h-6", "h-new"};
#define NCUST (sizeof customers / sizeof customers[0])

static sl_status cv(int which, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *rd, void *out, sl_err *err)
{
    return sl_test_call(F.ch[which], "CustomerValueService", method, req, rd, F.a, out, 0, err);
}

static void upsert(int which, const char *id, const char *region)
{
    Shelfline__V1__UpsertCustomerRequest r = SHELFLINE__V1__UPSERT_CUSTOMER_REQUEST__INIT;
    r.customer_id = (char *)id;
    r.region = (char *)region;
    r.signed_up_at_ms = F.now - 300 * DAY;
    sl_err err;
    assert_int_equal(cv(which, "UpsertCustomer", &r.base,
                        &shelfline__v1__upsert_customer_response__descriptor, NULL, &err),
                     SL_OK);
}

/* An order of "SKU:category:units" lines, days_ago days ago, through
 * process which. */
static void order(int which, const char *id, const char *cust, int days_ago, int n,
                  const char *const *lines)
{
    Shelfline__V1__Money total = SHELFLINE__V1__MONEY__INIT, m[4];
    Shelfline__V1__PurchaseLine l[4], *lp[4];
    char sku[4][32], cat[4][32];
    total.currency = "USD";
    for (int i = 0; i < n; i++) {
        int units = 0;
        assert_int_equal(sscanf(lines[i], "%31[^:]:%31[^:]:%d", sku[i], cat[i], &units), 3);
        shelfline__v1__money__init(&m[i]);
        m[i].minor_units = 1000 * units;
        m[i].currency = "USD";
        shelfline__v1__purchase_line__init(&l[i]);
        l[i].sku = sku[i];
        l[i].category = cat[i];
        l[i].qty = units;
        l[i].amount = &m[i];
        lp[i] = &l[i];
        total.minor_units += m[i].minor_units;
    }
    Shelfline__V1__RecordPurchaseRequest r = SHELFLINE__V1__RECORD_PURCHASE_REQUEST__INIT;
    r.order_id = (char *)id;
    r.customer_id = (char *)cust;
    r.at_ms = F.now - days_ago * DAY;
    r.amount = &total;
    r.lines = lp;
    r.n_lines = (size_t)n;
    sl_err err;
    assert_int_equal(cv(which, "RecordPurchase", &r.base,
                        &shelfline__v1__record_purchase_response__descriptor, NULL, &err),
                     SL_OK);
}

/* The packed bytes of every customer's Recommend and of the reminders, as
 * process which answers them, appended to a malloc'd buffer. */
static uint8_t *answers(int which, size_t *len)
{
    size_t cap = 1 << 16;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    *len = 0;
    for (size_t i = 0; i <= NCUST; i++) {
        ProtobufCMessage *m;
        sl_err err;
        if (i < NCUST) {
            Shelfline__V1__RecommendRequest r = SHELFLINE__V1__RECOMMEND_REQUEST__INIT;
            r.customer_id = (char *)customers[i];
            r.n = 5;
            assert_int_equal(cv(which, "Recommend", &r.base,
                                &shelfline__v1__recommend_response__descriptor, &m, &err),
                             SL_OK);
        } else {
            Shelfline__V1__GetRepurchaseRemindersRequest r =
                SHELFLINE__V1__GET_REPURCHASE_REMINDERS_REQUEST__INIT;
            r.horizon_days = 10;
            assert_int_equal(cv(which, "GetRepurchaseReminders", &r.base,
                                &shelfline__v1__get_repurchase_reminders_response__descriptor, &m,
                                &err),
                             SL_OK);
        }
        size_t need = protobuf_c_message_get_packed_size(m) + 1;
        assert_true(*len + need <= cap);
        *len += protobuf_c_message_pack(m, buf + *len);
        buf[(*len)++] = 0xff; /* a separator */
        sl_arena_reset(F.a);
    }
    return buf;
}

/* Both processes answer the same; the answers differ from *before (the
 * previous step's, freed and replaced) unless first. */
static void same_answers(const char *step, uint8_t **before, size_t *before_len)
{
    size_t nm, ns;
    uint8_t *mem = answers(MEMORY, &nm), *sql = answers(SQL, &ns);
    if (nm != ns || memcmp(mem, sql, nm) != 0)
        fail_msg("%s: the answers from memory differ from SQL's", step);
    if (*before != NULL && *before_len == ns && memcmp(*before, sql, ns) == 0)
        fail_msg("%s: the answers did not change, so the step proves nothing", step);
    free(mem);
    free(*before);
    *before = sql;
    *before_len = ns;
}

static int product(const char *sku, const char *cat, int repeat_days)
{
    Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
    price.minor_units = 1000;
    price.currency = "USD";
    Shelfline__V1__Product p = SHELFLINE__V1__PRODUCT__INIT;
    p.sku = (char *)sku;
    p.name = (char *)sku;
    p.category = (char *)cat;
    p.price = &price;
    p.repeat_purchase_days = repeat_days;
    Shelfline__V1__CreateProductRequest r = SHELFLINE__V1__CREATE_PRODUCT_REQUEST__INIT;
    r.product = &p;
    sl_err err;
    if (invt_call(F.inv.ch[0], "CreateProduct", &r.base, &shelfline__v1__product__descriptor, F.a,
                  NULL, &err) != SL_OK ||
        invt_stock(F.inv.ch[0], sku, "W-NEAR", 40) != 0)
        return -1;
    return 0;
}

static pid_t start_cv(int port, bool memory)
{
    char e[6][640];
    snprintf(e[0], sizeof e[0], "SHELFLINE_DATABASE_URL=%s", F.inv.conninfo);
    snprintf(e[1], sizeof e[1], "SHELFLINE_LISTEN=127.0.0.1:%d", port);
    snprintf(e[2], sizeof e[2], "SHELFLINE_INVENTORY_ADDR=127.0.0.1:%d", F.inv.port[0]);
    snprintf(e[3], sizeof e[3], "SHELFLINE_HTTP_LISTEN=127.0.0.1:%d", sl_test_free_port());
    snprintf(e[4], sizeof e[4], "SHELFLINE_CV_CONSUME_ORDERS=false");
    snprintf(e[5], sizeof e[5], "SHELFLINE_CV_HISTORY_CACHE=%s", memory ? "true" : "false");
    char *envp[] = {e[0], e[1], e[2], e[3], e[4], e[5], "SHELFLINE_LOG_LEVEL=error", NULL};
    pid_t pid = sl_test_spawn_bin("shelfline-customer-value", envp);
    return pid > 0 && sl_test_wait_child_port(pid, port, 30000) ? pid : -1;
}

static int setup(void **state)
{
    (void)state;
    F.a = sl_arena_create(0);
    F.now = (int64_t)time(NULL) * 1000;
    if (invt_start(&F.inv, "cvhist", 1, NULL) != 0 || invt_seed(F.inv.ch[0], NULL, 0) != 0)
        return -1;
    if (product("TEA-1", "tea", 20) != 0 || product("TEA-2", "tea", 20) != 0 ||
        product("CUP-1", "kitchen", 0) != 0 || product("CUP-2", "kitchen", 0) != 0 ||
        product("PAN-1", "kitchen", 0) != 0 || product("SOAP-1", "home", 30) != 0)
        return -1;
    /* The SQL process first: it applies the migrations. */
    for (int i = SQL; i >= MEMORY; i--) {
        int port = sl_test_free_port();
        if ((F.pid[i] = start_cv(port, i == MEMORY)) <= 0 ||
            (F.ch[i] = sl_test_channel(port)) == NULL)
            return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    for (int i = 0; i < 2; i++) {
        if (F.pid[i] > 0) {
            int status = sl_test_stop(F.pid[i], SIGTERM, 30000);
            bad |= status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        }
        sl_channel_destroy(F.ch[i]);
    }
    invt_stop(&F.inv);
    sl_arena_destroy(F.a);
    sl_test_kill_all();
    return bad ? -1 : 0;
}

static void test_memory_answers_as_sql_after_every_change(void **state)
{
    (void)state;
    uint8_t *before = NULL;
    size_t before_len = 0;
    upsert(MEMORY, "h-1", "EAST");
    upsert(MEMORY, "h-2", "EAST");
    upsert(SQL, "h-3", "EAST");
    upsert(SQL, "h-4", "WEST");
    upsert(MEMORY, "h-5", "WEST");
    upsert(MEMORY, "h-6", "WEST");
    upsert(SQL, "h-new", "EAST");
    const char *o1[] = {"TEA-1:tea:1", "CUP-1:kitchen:1"};
    const char *o2[] = {"TEA-1:tea:2", "PAN-1:kitchen:1"};
    const char *o3[] = {"CUP-1:kitchen:1", "CUP-2:kitchen:1", "SOAP-1:home:1"};
    const char *o4[] = {"TEA-2:tea:1"};
    const char *o5[] = {"SOAP-1:home:2", "PAN-1:kitchen:1"};
    order(MEMORY, "ho-1", "h-1", 25, 2, o1);
    order(SQL, "ho-2", "h-2", 40, 2, o2);
    order(SQL, "ho-3", "h-3", 5, 3, o3);
    order(MEMORY, "ho-4", "h-4", 15, 1, o4);
    order(MEMORY, "ho-5", "h-5", 28, 2, o5);
    order(SQL, "ho-6", "h-1", 200, 1, o4); /* outside the bestseller window */
    same_answers("first orders", &before, &before_len);
    /* Asked again without a change: the same. */
    size_t n;
    uint8_t *again = answers(MEMORY, &n);
    assert_true(n == before_len && memcmp(again, before, n) == 0);
    free(again);

    /* New orders through the other process. */
    const char *o7[] = {"TEA-2:tea:1", "CUP-2:kitchen:1", "PAN-1:kitchen:1"};
    const char *o8[] = {"TEA-2:tea:1", "SOAP-1:home:1"};
    order(SQL, "ho-7", "h-6", 12, 3, o7);
    order(SQL, "ho-8", "h-4", 3, 2, o8);
    same_answers("orders through the SQL process", &before, &before_len);

    /* And through this one. */
    const char *o9[] = {"TEA-1:tea:1", "TEA-2:tea:1", "CUP-1:kitchen:1"};
    order(MEMORY, "ho-9", "h-2", 22, 3, o9);
    same_answers("an order through the memory process", &before, &before_len);

    /* A return of everything of one line: no longer a bestseller line,
     * nor a repeat purchase. */
    Shelfline__V1__Money back = SHELFLINE__V1__MONEY__INIT;
    back.minor_units = 1000;
    back.currency = "USD";
    Shelfline__V1__ReturnedItem item = SHELFLINE__V1__RETURNED_ITEM__INIT, *ip = &item;
    item.sku = "TEA-1";
    item.qty = 1;
    item.amount = &back;
    Shelfline__V1__RecordReturnRequest rr = SHELFLINE__V1__RECORD_RETURN_REQUEST__INIT;
    rr.return_id = "hr-1";
    rr.order_id = "ho-1";
    rr.at_ms = F.now - 20 * DAY;
    rr.amount = &back;
    rr.lines = &ip;
    rr.n_lines = 1;
    sl_err err;
    assert_int_equal(cv(SQL, "RecordReturn", &rr.base,
                        &shelfline__v1__record_return_response__descriptor, NULL, &err),
                     SL_OK);
    same_answers("a return", &before, &before_len);

    /* A customer moves region: the regional bestsellers change. */
    upsert(SQL, "h-5", "EAST");
    same_answers("a move to another region", &before, &before_len);
    free(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_answers_as_sql_after_every_change),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
