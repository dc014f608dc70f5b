/*
 * Integration test of customer-value's messages delivered through
 * service-desk's notifications outbox: real shelfline-inventory,
 * shelfline-customer-value and two shelfline-service-desk replicas on one
 * fresh database.
 *
 *  - repurchase reminders (GetRepurchaseReminders with publish) become
 *    REPURCHASE notifications exactly once per customer, product and due
 *    day, only for products in stock in the customer's region, while the
 *    replica holding the subscription is killed mid-stream, the cursor is
 *    reset (a full replay) and the cycle is run again;
 *  - campaigns (BuildCampaign, ListCampaignRecipients, SendCampaign) pick
 *    only products available in each recipient's region, re-check them at
 *    send time, and become CAMPAIGN notifications exactly once per
 *    recipient per campaign.
 *
 * Every date is fixed (the data's), never today's.
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
#include <unistd.h>

#include "inv_test.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_client.h"
#include "sl_test.h"

#define DAY 86400000LL
/* 2026-01-10 00:00 UTC: the customers' purchases. */
#define BOUGHT_MS 1768003200000LL
#define REMINDER_CUSTOMERS 600

typedef struct fixture {
    invt_svc inv;
    pid_t cv_pid, sd_pid[2];
    int cv_port, sd_port[2];
    sl_channel *cv, *sd[2];
    sl_arena *a;
} fixture;

static fixture F;

static pid_t spawn(const char *bin_name, int port, const char *extra1, const char *extra2)
{
    char e[7][640];
    snprintf(e[0], sizeof e[0], "SHELFLINE_DATABASE_URL=%s", F.inv.conninfo);
    snprintf(e[1], sizeof e[1], "SHELFLINE_LISTEN=127.0.0.1:%d", port);
    snprintf(e[2], sizeof e[2], "SHELFLINE_INVENTORY_ADDR=127.0.0.1:%d", F.inv.port[0]);
    snprintf(e[3], sizeof e[3], "SHELFLINE_LOG_LEVEL=error");
    snprintf(e[4], sizeof e[4], "SHELFLINE_DRAIN_GRACE=5s");
    snprintf(e[5], sizeof e[5], "%s", extra1);
    snprintf(e[6], sizeof e[6], "%s", extra2);
    char *envp[] = {e[0], e[1], e[2], e[3], e[4], e[5], e[6], NULL};
    char *bin = sl_test_bin(bin_name);
    char *argv[] = {bin, NULL};
    pid_t pid = sl_test_spawn(argv, envp);
    free(bin);
    return pid;
}

/* Service-desk replica i, following customer-value (and not inventory:
 * nothing here needs it). */
static int start_sd(int i)
{
    char cv_addr[80];
    snprintf(cv_addr, sizeof cv_addr, "SHELFLINE_CUSTOMER_VALUE_ADDR=127.0.0.1:%d", F.cv_port);
    F.sd_pid[i] = spawn("shelfline-service-desk", F.sd_port[i], cv_addr, "SHELFLINE_SD_CONSUMER=false");
    return F.sd_pid[i] > 0 && sl_test_wait_child_port(F.sd_pid[i], F.sd_port[i], 30000) ? 0 : -1;
}

static long long sql(const char *q)
{
    return invt_sql_int(F.inv.conninfo, q);
}

static sl_status cv(const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *rd, void *out, sl_err *err)
{
    return sl_test_call(F.cv, "CustomerValueService", method, req, rd, F.a, out, 0, err);
}

static int create_product(const char *sku, const char *cat, int repeat_days, const char *tag,
                          int64_t price)
{
    Shelfline__V1__Money m = SHELFLINE__V1__MONEY__INIT;
    m.minor_units = price;
    m.currency = "USD";
    Shelfline__V1__Product p = SHELFLINE__V1__PRODUCT__INIT;
    char *tags[1] = {(char *)tag};
    p.sku = (char *)sku;
    p.name = (char *)sku;
    p.category = (char *)cat;
    p.price = &m;
    p.repeat_purchase_days = repeat_days;
    if (tag != NULL) {
        p.seasonal_tags = tags;
        p.n_seasonal_tags = 1;
    }
    Shelfline__V1__CreateProductRequest r = SHELFLINE__V1__CREATE_PRODUCT_REQUEST__INIT;
    r.product = &p;
    sl_err err;
    sl_status st = invt_call(F.inv.ch[0], "CreateProduct", &r.base,
                             &shelfline__v1__product__descriptor, F.a, NULL, &err);
    if (st != SL_OK)
        fprintf(stderr, "CreateProduct %s: %s\n", sku, err.msg);
    return st == SL_OK ? 0 : -1;
}

static int customer(const char *id, const char *region)
{
    Shelfline__V1__UpsertCustomerRequest r = SHELFLINE__V1__UPSERT_CUSTOMER_REQUEST__INIT;
    r.customer_id = (char *)id;
    r.region = (char *)region;
    r.signed_up_at_ms = BOUGHT_MS - 100 * DAY;
    sl_err err;
    sl_status st =
        cv("UpsertCustomer", &r.base, &shelfline__v1__upsert_customer_response__descriptor, NULL,
           &err);
    if (st != SL_OK)
        fprintf(stderr, "UpsertCustomer %s: %s\n", id, err.msg);
    return st == SL_OK ? 0 : -1;
}

static int buy(const char *order, const char *cust, int64_t at, const char *sku, const char *cat,
               int64_t qty)
{
    Shelfline__V1__Money m = SHELFLINE__V1__MONEY__INIT;
    m.minor_units = 1000 * qty;
    m.currency = "USD";
    Shelfline__V1__PurchaseLine l = SHELFLINE__V1__PURCHASE_LINE__INIT, *lp = &l;
    l.sku = (char *)sku;
    l.category = (char *)cat;
    l.qty = qty;
    l.amount = &m;
    Shelfline__V1__RecordPurchaseRequest r = SHELFLINE__V1__RECORD_PURCHASE_REQUEST__INIT;
    r.order_id = (char *)order;
    r.customer_id = (char *)cust;
    r.at_ms = at;
    r.amount = &m;
    r.lines = &lp;
    r.n_lines = 1;
    sl_err err;
    sl_status st =
        cv("RecordPurchase", &r.base, &shelfline__v1__record_purchase_response__descriptor, NULL,
           &err);
    if (st != SL_OK)
        fprintf(stderr, "RecordPurchase %s: %s\n", order, err.msg);
    return st == SL_OK ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    F.a = sl_arena_create(0);
    if (invt_start(&F.inv, "cvcampaigns", 1, NULL) != 0 || invt_seed(F.inv.ch[0], NULL, 0) != 0)
        return -1;
    /* COF-1 in stock everywhere; COF-0 (also a consumable) nowhere. */
    if (create_product("COF-1", "coffee", 30, NULL, 1000) != 0 ||
        create_product("COF-0", "coffee", 30, NULL, 1000) != 0 ||
        invt_stock(F.inv.ch[0], "COF-1", "W-NEAR", 500) != 0)
        return -1;
    F.cv_port = sl_test_free_port();
    F.cv_pid = spawn("shelfline-customer-value", F.cv_port, "SHELFLINE_CV_CONSUME_ORDERS=false",
                     "SHELFLINE_CV_HISTORY_CACHE=true");
    if (F.cv_pid <= 0 || !sl_test_wait_child_port(F.cv_pid, F.cv_port, 30000))
        return -1;
    F.cv = sl_test_channel(F.cv_port);
    for (int i = 0; i < 2; i++) {
        F.sd_port[i] = sl_test_free_port();
        if (start_sd(i) != 0 || (F.sd[i] = sl_test_channel(F.sd_port[i])) == NULL)
            return -1;
    }
    return F.cv != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    pid_t pids[3] = {F.sd_pid[0], F.sd_pid[1], F.cv_pid};
    for (int i = 0; i < 3; i++)
        if (pids[i] > 0) {
            int status = sl_test_stop(pids[i], SIGTERM, 30000);
            bad += status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        }
    for (int i = 0; i < 2; i++)
        sl_channel_destroy(F.sd[i]);
    sl_channel_destroy(F.cv);
    invt_stop(&F.inv);
    sl_arena_destroy(F.a);
    sl_test_kill_all();
    return bad ? -1 : 0;
}

/* Polls q until it answers want (or 30 s pass); returns the last answer. */
static long long wait_sql(const char *q, long long want)
{
    long long v = -1;
    for (int i = 0; i < 600 && (v = sql(q)) != want; i++)
        invt_sleep_ms(50);
    return v;
}

static Shelfline__V1__GetRepurchaseRemindersResponse *reminder_cycle(int64_t as_of)
{
    Shelfline__V1__GetRepurchaseRemindersRequest r =
        SHELFLINE__V1__GET_REPURCHASE_REMINDERS_REQUEST__INIT;
    r.as_of_ms = as_of;
    r.horizon_days = 30;
    r.limit = 10000;
    r.publish = true;
    Shelfline__V1__GetRepurchaseRemindersResponse *out = NULL;
    sl_err err;
    sl_status st = cv("GetRepurchaseReminders", &r.base,
                      &shelfline__v1__get_repurchase_reminders_response__descriptor, &out, &err);
    if (st != SL_OK)
        fail_msg("GetRepurchaseReminders: %s %s", sl_status_name(st), err.msg);
    return out;
}

#define REPURCHASE_COUNT                                                                           \
    "SELECT count(*) FROM service_desk.notification WHERE kind = 'REPURCHASE'"

static void test_repurchase_reminders_become_notifications_once(void **state)
{
    (void)state;
    char id[32], order[32];
    /* REMINDER_CUSTOMERS customers in EAST or WEST who bought one COF-1 on
     * BOUGHT_MS (due 30 days later); one who bought COF-0 (never in
     * stock: no reminder). */
    for (int i = 0; i < REMINDER_CUSTOMERS; i++) {
        snprintf(id, sizeof id, "r-%04d", i);
        snprintf(order, sizeof order, "ro-%04d", i);
        assert_int_equal(customer(id, i % 2 ? "WEST" : "EAST"), 0);
        assert_int_equal(buy(order, id, BOUGHT_MS, "COF-1", "coffee", 1), 0);
    }
    assert_int_equal(customer("r-none", "EAST"), 0);
    assert_int_equal(buy("ro-none", "r-none", BOUGHT_MS, "COF-0", "coffee", 1), 0);

    int64_t as_of = BOUGHT_MS + 25 * DAY;
    Shelfline__V1__GetRepurchaseRemindersResponse *out = reminder_cycle(as_of);
    assert_int_equal(out->n_reminders, REMINDER_CUSTOMERS);
    assert_false(out->truncated);

    /* Kill -9 the replicas one after the other while the stream is
     * applied: the survivor (then the restarted one) takes over from the
     * durable cursor. */
    long long seen = 0;
    for (int i = 0; i < 400 && (seen = sql(REPURCHASE_COUNT)) == 0; i++)
        invt_sleep_ms(5);
    assert_true(seen > 0);
    assert_int_equal(sl_test_stop(F.sd_pid[0], SIGKILL, 10000) >= 0, 1);
    F.sd_pid[0] = 0;
    long long mid = sql(REPURCHASE_COUNT);
    assert_int_equal(start_sd(0), 0);
    assert_int_equal(sl_test_stop(F.sd_pid[1], SIGKILL, 10000) >= 0, 1);
    F.sd_pid[1] = 0;
    assert_int_equal(start_sd(1), 0);
    assert_int_equal(wait_sql(REPURCHASE_COUNT, REMINDER_CUSTOMERS), REMINDER_CUSTOMERS);
    fprintf(stderr, "reminders: %lld notified when the first replica was killed, %lld after\n",
            seen, mid);

    /* The same cycle again: nothing new is published, nothing notified. */
    out = reminder_cycle(as_of);
    assert_int_equal(out->n_reminders, REMINDER_CUSTOMERS);
    assert_int_equal(sql("SELECT count(*) FROM customer_value.outbox WHERE topic = "
                         "'REPURCHASE_DUE'"),
                     REMINDER_CUSTOMERS);

    /* A full replay: the cursor back to 0, both replicas restarted. */
    for (int i = 0; i < 2; i++) {
        assert_true(sl_test_stop(F.sd_pid[i], SIGTERM, 30000) == 0);
        F.sd_pid[i] = 0;
    }
    assert_int_equal(sql("WITH u AS (UPDATE service_desk.consumer_cursor SET last_id = 0 WHERE "
                         "subscription = 'service-desk/customer-value' RETURNING 1) "
                         "SELECT count(*) FROM u"),
                     1);
    for (int i = 0; i < 2; i++)
        assert_int_equal(start_sd(i), 0);
    long long last = sql("SELECT max(pos) FROM customer_value.outbox");
    char q[256];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM service_desk.consumer_cursor WHERE subscription = "
             "'service-desk/customer-value' AND last_id >= %lld",
             last);
    assert_int_equal(wait_sql(q, 1), 1);
    assert_int_equal(sql(REPURCHASE_COUNT), REMINDER_CUSTOMERS);
    assert_int_equal(sql("SELECT count(DISTINCT customer_id) FROM service_desk.notification "
                         "WHERE kind = 'REPURCHASE'"),
                     REMINDER_CUSTOMERS);
    /* Due 2026-02-09 (30 days after 2026-01-10, day 20493). */
    assert_int_equal(sql("SELECT count(*) FROM service_desk.notification WHERE idempotency_key = "
                         "'repurchase:r-0007:COF-1:20493' AND body LIKE '%2026-02-09%'"),
                     1);
    assert_int_equal(sql("SELECT count(*) FROM service_desk.notification WHERE customer_id = "
                         "'r-none'"),
                     0);

    /* What the sender integration reads: ListNotifications. */
    Shelfline__V1__ListNotificationsRequest lr = SHELFLINE__V1__LIST_NOTIFICATIONS_REQUEST__INIT;
    lr.customer_id = "r-0007";
    Shelfline__V1__ListNotificationsResponse *ln = NULL;
    sl_err err;
    sl_status st = sl_test_call(F.sd[0], "ServiceDeskService", "ListNotifications", &lr.base,
                                &shelfline__v1__list_notifications_response__descriptor, F.a, &ln,
                                0, &err);
    if (st != SL_OK)
        fail_msg("ListNotifications: %s %s", sl_status_name(st), err.msg);
    assert_int_equal(ln->n_notifications, 1);
    assert_int_equal(ln->notifications[0]->kind,
                     SHELFLINE__V1__NOTIFICATION_KIND__NOTIFICATION_REPURCHASE);
    assert_string_equal(ln->notifications[0]->idempotency_key, "repurchase:r-0007:COF-1:20493");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repurchase_reminders_become_notifications_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
