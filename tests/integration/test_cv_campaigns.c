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

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
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
    F.sd_pid[i] =
        spawn("shelfline-service-desk", F.sd_port[i], cv_addr, "SHELFLINE_SD_CONSUMER=false");
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
    sl_status st = cv("UpsertCustomer", &r.base,
                      &shelfline__v1__upsert_customer_response__descriptor, NULL, &err);
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
    sl_status st = cv("RecordPurchase", &r.base,
                      &shelfline__v1__record_purchase_response__descriptor, NULL, &err);
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
    /* COF-1 in stock everywhere; COF-0 (also a consumable) nowhere.  For
     * campaigns: christmas gifts XM-1 (gifts) and XM-2 (coffee) in stock,
     * XM-3 in stock nowhere, SU-1 out of season in November, G-1 a gift
     * that is no seasonal product.  Every warehouse serves EAST and WEST;
     * none serves SOUTH. */
    if (create_product("COF-1", "coffee", 30, NULL, 1000) != 0 ||
        create_product("COF-0", "coffee", 30, NULL, 1000) != 0 ||
        create_product("XM-1", "gifts", 0, "christmas", 2500) != 0 ||
        create_product("XM-2", "coffee", 0, "christmas", 1999) != 0 ||
        create_product("XM-3", "gifts", 0, "christmas", 900) != 0 ||
        create_product("SU-1", "gifts", 0, "summer", 900) != 0 ||
        create_product("G-1", "gifts", 0, NULL, 900) != 0 ||
        invt_stock(F.inv.ch[0], "COF-1", "W-NEAR", 500) != 0 ||
        invt_stock(F.inv.ch[0], "XM-1", "W-NEAR", 50) != 0 ||
        invt_stock(F.inv.ch[0], "XM-2", "W-NEAR", 5000) != 0 ||
        invt_stock(F.inv.ch[0], "SU-1", "W-NEAR", 50) != 0 ||
        invt_stock(F.inv.ch[0], "G-1", "W-NEAR", 50) != 0)
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

#define REPURCHASE_COUNT "SELECT count(*) FROM service_desk.notification WHERE kind = 'REPURCHASE'"

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
    sl_status st =
        sl_test_call(F.sd[0], "ServiceDeskService", "ListNotifications", &lr.base,
                     &shelfline__v1__list_notifications_response__descriptor, F.a, &ln, 0, &err);
    if (st != SL_OK)
        fail_msg("ListNotifications: %s %s", sl_status_name(st), err.msg);
    assert_int_equal(ln->n_notifications, 1);
    assert_int_equal(ln->notifications[0]->kind,
                     SHELFLINE__V1__NOTIFICATION_KIND__NOTIFICATION_REPURCHASE);
    assert_string_equal(ln->notifications[0]->idempotency_key, "repurchase:r-0007:COF-1:20493");
}

/* ---- campaigns ---- */

/* 2026-11-20 00:00 UTC: christmas (Nov 20 - Dec 24) has begun. */
#define XMAS_MS 1795132800000LL

static int64_t wall_ms(void)
{
    return (int64_t)time(NULL) * 1000;
}

static Shelfline__V1__BuildCampaignRequest
build_req(const char *id, Shelfline__V1__CampaignKind kind, const char *region, int64_t starts)
{
    Shelfline__V1__BuildCampaignRequest r = SHELFLINE__V1__BUILD_CAMPAIGN_REQUEST__INIT;
    r.campaign_id = (char *)id;
    r.kind = kind;
    r.region = (char *)region;
    r.starts_at_ms = starts;
    /* Open until a month after today, whenever the test runs: a window
     * that has begun and not ended. */
    r.ends_at_ms = wall_ms() + 30 * DAY;
    return r;
}

static sl_status build_campaign(const Shelfline__V1__BuildCampaignRequest *r,
                                Shelfline__V1__Campaign **out, sl_err *err)
{
    return cv("BuildCampaign", &r->base, &shelfline__v1__campaign__descriptor, out, err);
}

static Shelfline__V1__Campaign *must_build(const Shelfline__V1__BuildCampaignRequest *r)
{
    Shelfline__V1__Campaign *c = NULL;
    sl_err err;
    sl_status st = build_campaign(r, &c, &err);
    if (st != SL_OK)
        fail_msg("BuildCampaign %s: %s %s", r->campaign_id, sl_status_name(st), err.msg);
    return c;
}

/* Every recipient of a campaign, through pages of page_size. */
static Shelfline__V1__CampaignRecipient **all_recipients(const char *id, int page_size, size_t *n,
                                                         int *pages)
{
    size_t cap = 2048, k = 0;
    Shelfline__V1__CampaignRecipient **all = sl_arena_alloc(F.a, cap * sizeof *all);
    char *token = "";
    *pages = 0;
    for (int guard = 0; guard < 100; guard++) {
        Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
        pg.page_size = page_size;
        pg.page_token = token;
        Shelfline__V1__ListCampaignRecipientsRequest r =
            SHELFLINE__V1__LIST_CAMPAIGN_RECIPIENTS_REQUEST__INIT;
        r.campaign_id = (char *)id;
        r.page = &pg;
        Shelfline__V1__ListCampaignRecipientsResponse *out = NULL;
        sl_err err;
        sl_status st =
            cv("ListCampaignRecipients", &r.base,
               &shelfline__v1__list_campaign_recipients_response__descriptor, &out, &err);
        if (st != SL_OK)
            fail_msg("ListCampaignRecipients: %s %s", sl_status_name(st), err.msg);
        (*pages)++;
        for (size_t i = 0; i < out->n_recipients && k < cap; i++)
            all[k++] = out->recipients[i];
        if (out->next_page_token == NULL || out->next_page_token[0] == '\0')
            break;
        token = out->next_page_token;
    }
    *n = k;
    return all;
}

static const Shelfline__V1__CampaignRecipient *find_recipient(Shelfline__V1__CampaignRecipient **v,
                                                              size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i]->customer_id, id) == 0)
            return v[i];
    return NULL;
}

/* Sets the count of sku in W-NEAR (the only warehouse stocking it). */
static void set_stock(const char *sku, int64_t counted)
{
    static int seq;
    char id[64];
    snprintf(id, sizeof id, "cvc-count-%d-%d", (int)getpid(), ++seq);
    Shelfline__V1__SetStockCountRequest r = SHELFLINE__V1__SET_STOCK_COUNT_REQUEST__INIT;
    r.request_id = id;
    r.sku = (char *)sku;
    r.warehouse_id = "W-NEAR";
    r.counted = counted;
    sl_err err;
    assert_int_equal(invt_call(F.inv.ch[0], "SetStockCount", &r.base,
                               &shelfline__v1__set_stock_count_response__descriptor, F.a, NULL,
                               &err),
                     SL_OK);
}

typedef struct sender {
    const char *id;
    sl_status st;
    int32_t sent, skipped, dropped;
    char msg[SL_ERR_MSG_MAX];
} sender;

/* SendCampaign on a channel and an arena of its own (one thread each). */
static void *send_thread(void *p)
{
    sender *s = p;
    sl_channel *ch = sl_test_channel(F.cv_port);
    sl_arena *a = sl_arena_create(0);
    Shelfline__V1__SendCampaignRequest r = SHELFLINE__V1__SEND_CAMPAIGN_REQUEST__INIT;
    r.campaign_id = (char *)s->id;
    Shelfline__V1__SendCampaignResponse *out = NULL;
    sl_err err;
    s->st = sl_test_call(ch, "CustomerValueService", "SendCampaign", &r.base,
                         &shelfline__v1__send_campaign_response__descriptor, a, &out, 0, &err);
    if (s->st == SL_OK) {
        s->sent = out->sent;
        s->skipped = out->skipped;
        s->dropped = out->picks_dropped;
    } else
        snprintf(s->msg, sizeof s->msg, "%s", err.msg);
    sl_arena_destroy(a);
    sl_channel_destroy(ch);
    return NULL;
}

static void expect_invalid(const Shelfline__V1__BuildCampaignRequest *r, const char *field)
{
    sl_err err;
    sl_status st = build_campaign(r, NULL, &err);
    if (st != SL_INVALID_ARGUMENT || strstr(err.msg, field) == NULL)
        fail_msg("%s: want INVALID_ARGUMENT naming %s, got %s %s", r->campaign_id, field,
                 sl_status_name(st), err.msg);
}

static void test_campaign_bad_input_writes_nothing(void **state)
{
    (void)state;
    Shelfline__V1__BuildCampaignRequest r =
        build_req("bad-1", SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_UNSPECIFIED, "", XMAS_MS);
    expect_invalid(&r, "kind");
    r = build_req("bad 2", SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_SEASONAL, "", XMAS_MS);
    expect_invalid(&r, "campaign_id");
    r = build_req("bad-3", SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_GEO, "", XMAS_MS);
    expect_invalid(&r, "region");
    r = build_req("bad-4", SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_SEASONAL, "", XMAS_MS);
    r.ends_at_ms = r.starts_at_ms;
    expect_invalid(&r, "ends_at_ms");
    r = build_req("bad-5", SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_SEASONAL, "", XMAS_MS);
    r.picks_per_recipient = 11;
    expect_invalid(&r, "picks_per_recipient");
    r.picks_per_recipient = 0;
    r.max_recipients = -1;
    expect_invalid(&r, "max_recipients");
    r.max_recipients = 0;
    Shelfline__V1__ListSegmentRequest aud = SHELFLINE__V1__LIST_SEGMENT_REQUEST__INIT;
    aud.segment = "vip";
    r.audience = &aud;
    expect_invalid(&r, "audience.segment");
    aud.segment = "";
    aud.region = "EAST";
    expect_invalid(&r, "audience.region");
    assert_int_equal(sql("SELECT count(*) FROM customer_value.campaign"), 0);

    /* No product in season on 2026-04-10. */
    r = build_req("spring", SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_SEASONAL, "",
                  XMAS_MS - 224 * DAY);
    sl_err err;
    assert_int_equal(build_campaign(&r, NULL, &err), SL_FAILED_PRECONDITION);
    assert_non_null(strstr(err.msg, "in season"));

    Shelfline__V1__SendCampaignRequest s = SHELFLINE__V1__SEND_CAMPAIGN_REQUEST__INIT;
    s.campaign_id = "nope";
    assert_int_equal(
        cv("SendCampaign", &s.base, &shelfline__v1__send_campaign_response__descriptor, NULL, &err),
        SL_NOT_FOUND);
    Shelfline__V1__ListCampaignRecipientsRequest l =
        SHELFLINE__V1__LIST_CAMPAIGN_RECIPIENTS_REQUEST__INIT;
    l.campaign_id = "nope";
    assert_int_equal(cv("ListCampaignRecipients", &l.base,
                        &shelfline__v1__list_campaign_recipients_response__descriptor, NULL, &err),
                     SL_NOT_FOUND);
    l.campaign_id = "";
    assert_int_equal(cv("ListCampaignRecipients", &l.base,
                        &shelfline__v1__list_campaign_recipients_response__descriptor, NULL, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "campaign_id"));
    assert_int_equal(sql("SELECT count(*) FROM customer_value.campaign"), 0);
}

static void test_seasonal_and_geo_campaigns_respect_stock(void **state)
{
    (void)state;
    /* Besides the reminder test's 601 customers (COF-1 or COF-0 bought on
     * BOUGHT_MS, EAST or WEST): a gift buyer and a coffee buyer in EAST,
     * an XM-1 buyer in WEST, a customer in SOUTH (served by no
     * warehouse). */
    assert_int_equal(customer("c-e1", "EAST"), 0);
    assert_int_equal(buy("co-e1", "c-e1", BOUGHT_MS, "G-1", "gifts", 1), 0);
    assert_int_equal(customer("c-e2", "EAST"), 0);
    assert_int_equal(buy("co-e2", "c-e2", BOUGHT_MS, "COF-1", "coffee", 1), 0);
    assert_int_equal(customer("c-w1", "WEST"), 0);
    assert_int_equal(buy("co-w1", "c-w1", BOUGHT_MS, "XM-1", "gifts", 1), 0);
    assert_int_equal(customer("c-s1", "SOUTH"), 0);
    assert_int_equal(buy("co-s1", "c-s1", BOUGHT_MS, "COF-1", "coffee", 1), 0);

    /* SEASONAL, one pick each: XM-1 or XM-2 by category interest, never
     * XM-3 (no stock) nor SU-1 (summer); nobody in SOUTH. */
    Shelfline__V1__BuildCampaignRequest r =
        build_req("xmas-1", SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_SEASONAL, "", XMAS_MS);
    r.picks_per_recipient = 1;
    Shelfline__V1__Campaign *c = must_build(&r);
    assert_int_equal(c->audience_size, REMINDER_CUSTOMERS + 4);
    assert_int_equal(c->state, SHELFLINE__V1__CAMPAIGN_STATE__CAMPAIGN_STATE_BUILT);
    assert_false(c->replayed);
    /* The same request again: the stored campaign. */
    c = must_build(&r);
    assert_true(c->replayed);
    assert_int_equal(c->audience_size, REMINDER_CUSTOMERS + 4);
    Shelfline__V1__BuildCampaignRequest other = r;
    other.picks_per_recipient = 2;
    sl_err err;
    assert_int_equal(build_campaign(&other, NULL, &err), SL_ALREADY_EXISTS);

    size_t n;
    int pages;
    Shelfline__V1__CampaignRecipient **all = all_recipients("xmas-1", 100, &n, &pages);
    assert_int_equal(n, REMINDER_CUSTOMERS + 4);
    assert_int_equal(pages, (REMINDER_CUSTOMERS + 4 + 99) / 100);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(all[i]->n_picks, 1);
        const char *sku = all[i]->picks[0]->sku;
        assert_true(strcmp(sku, "XM-1") == 0 || strcmp(sku, "XM-2") == 0);
        assert_true(all[i]->picks[0]->available > 0);
        if (i > 0)
            assert_true(strcmp(all[i - 1]->customer_id, all[i]->customer_id) < 0);
    }
    assert_null(find_recipient(all, n, "c-s1"));
    assert_string_equal(find_recipient(all, n, "c-e1")->picks[0]->sku, "XM-1");
    assert_string_equal(find_recipient(all, n, "c-e2")->picks[0]->sku, "XM-2");
    /* c-w1 bought XM-1 already. */
    assert_string_equal(find_recipient(all, n, "c-w1")->picks[0]->sku, "XM-2");
    assert_string_equal(find_recipient(all, n, "r-0001")->picks[0]->sku, "XM-2");

    /* GEO: WEST's bestsellers WEST can get, with its delivery promise
     * (W-NEAR, 4-6 days to WEST); SOUTH can get nothing. */
    Shelfline__V1__BuildCampaignRequest g = build_req(
        "geo-west", SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_GEO, "WEST", BOUGHT_MS + 30 * DAY);
    c = must_build(&g);
    assert_int_equal(c->audience_size, REMINDER_CUSTOMERS / 2 + 1);
    Shelfline__V1__CampaignRecipient **west = all_recipients("geo-west", 1000, &n, &pages);
    assert_int_equal(n, REMINDER_CUSTOMERS / 2 + 1);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(west[i]->region, "WEST");
        assert_true(west[i]->n_picks >= 1);
        assert_int_equal(west[i]->picks[0]->delivery_p50_days, 4);
        assert_int_equal(west[i]->picks[0]->delivery_p90_days, 6);
    }
    /* r-0001 bought COF-1: offered WEST's other bestseller, XM-1. */
    assert_string_equal(find_recipient(west, n, "r-0001")->picks[0]->sku, "XM-1");
    assert_string_equal(find_recipient(west, n, "c-w1")->picks[0]->sku, "COF-1");
    g = build_req("geo-south", SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_GEO, "SOUTH",
                  BOUGHT_MS + 30 * DAY);
    assert_int_equal(must_build(&g)->audience_size, 0);

    /* XM-1 sells out before the send: c-e1's only pick is dropped and
     * c-e1 skipped; everyone else is sent once, by two concurrent
     * SendCampaign calls together. */
    set_stock("XM-1", 0);
    sender s[2] = {{.id = "xmas-1"}, {.id = "xmas-1"}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, send_thread, &s[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++)
        if (s[i].st != SL_OK)
            fail_msg("SendCampaign %d: %s %s", i, sl_status_name(s[i].st), s[i].msg);
    fprintf(stderr, "concurrent sends: %d+%d sent, %d+%d skipped\n", s[0].sent, s[1].sent,
            s[0].skipped, s[1].skipped);
    assert_int_equal(s[0].sent + s[1].sent, REMINDER_CUSTOMERS + 3);
    assert_int_equal(s[0].skipped + s[1].skipped, 1);
    assert_int_equal(sql("SELECT count(*) FROM customer_value.outbox WHERE topic = "
                         "'CAMPAIGN_MESSAGE'"),
                     REMINDER_CUSTOMERS + 3);
    /* Once more: nothing left to send. */
    sender again = {.id = "xmas-1"};
    send_thread(&again);
    assert_int_equal(again.st, SL_OK);
    assert_int_equal(again.sent + again.skipped, 0);

    all = all_recipients("xmas-1", 1000, &n, &pages);
    assert_int_equal(find_recipient(all, n, "c-e1")->state,
                     SHELFLINE__V1__RECIPIENT_STATE__RECIPIENT_STATE_SKIPPED);
    assert_int_equal(find_recipient(all, n, "c-e2")->state,
                     SHELFLINE__V1__RECIPIENT_STATE__RECIPIENT_STATE_SENT);

    /* Service-desk: one CAMPAIGN notification per recipient sent. */
    const char *q = "SELECT count(*) FROM service_desk.notification WHERE kind = 'CAMPAIGN'";
    assert_int_equal(wait_sql(q, REMINDER_CUSTOMERS + 3), REMINDER_CUSTOMERS + 3);
    assert_int_equal(sql("SELECT count(*) FROM service_desk.notification WHERE "
                         "idempotency_key = 'campaign:xmas-1:c-e2' AND body LIKE '%XM-2%' AND "
                         "body LIKE '%19.99 USD%' AND body LIKE '%Offer ends%'"),
                     1);
    assert_int_equal(sql("SELECT count(*) FROM service_desk.notification WHERE customer_id = "
                         "'c-e1' AND kind = 'CAMPAIGN'"),
                     0);
    invt_sleep_ms(500);
    assert_int_equal(sql(q), REMINDER_CUSTOMERS + 3);

    /* A window that ended: nothing is sent. */
    g = build_req("geo-old", SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_GEO, "EAST",
                  BOUGHT_MS + 10 * DAY);
    g.ends_at_ms = BOUGHT_MS + 11 * DAY;
    must_build(&g);
    Shelfline__V1__SendCampaignRequest sr = SHELFLINE__V1__SEND_CAMPAIGN_REQUEST__INIT;
    sr.campaign_id = "geo-old";
    assert_int_equal(cv("SendCampaign", &sr.base,
                        &shelfline__v1__send_campaign_response__descriptor, NULL, &err),
                     SL_FAILED_PRECONDITION);
    assert_non_null(strstr(err.msg, "ended"));
}

/* Holds qty units of promotion P-XM2 for a new customer in EAST. */
static void reserve_promo(const char *id, int64_t qty)
{
    Shelfline__V1__ReserveLine l = SHELFLINE__V1__RESERVE_LINE__INIT, *lp = &l;
    l.sku = "XM-2";
    l.qty = qty;
    l.promotion_id = "P-XM2";
    Shelfline__V1__ReserveRequest r = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    r.reservation_id = (char *)id;
    r.customer_id = (char *)id;
    r.region = "EAST";
    r.lines = &lp;
    r.n_lines = 1;
    r.hold_ttl_ms = 3600 * 1000;
    sl_err err;
    sl_status st = invt_call(F.inv.ch[0], "Reserve", &r.base,
                             &shelfline__v1__reserve_response__descriptor, F.a, NULL, &err);
    if (st != SL_OK)
        fail_msg("Reserve %s: %s %s", id, sl_status_name(st), err.msg);
}

static Shelfline__V1__BuildCampaignRequest urgency_req(const char *id,
                                                       Shelfline__V1__ListSegmentRequest *aud)
{
    Shelfline__V1__BuildCampaignRequest r =
        build_req(id, SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_URGENCY, "", wall_ms() - DAY);
    r.ends_at_ms = wall_ms() + 2 * DAY;
    r.promotion_id = "P-XM2";
    r.audience = aud;
    return r;
}

static void test_urgency_campaign_follows_the_quota(void **state)
{
    (void)state;
    /* A running promotion of XM-2: 10 units, 2 per customer, at 14.99. */
    Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
    price.minor_units = 1499;
    price.currency = "USD";
    Shelfline__V1__Promotion p = SHELFLINE__V1__PROMOTION__INIT;
    p.promotion_id = "P-XM2";
    p.sku = "XM-2";
    p.quota = 10;
    p.per_customer_limit = 2;
    p.starts_at_ms = wall_ms() - 1000;
    p.ends_at_ms = wall_ms() + 7 * DAY;
    p.price = &price;
    Shelfline__V1__CreatePromotionRequest cr = SHELFLINE__V1__CREATE_PROMOTION_REQUEST__INIT;
    cr.promotion = &p;
    sl_err err;
    sl_status st = invt_call(F.inv.ch[0], "CreatePromotion", &cr.base,
                             &shelfline__v1__promotion__descriptor, F.a, NULL, &err);
    if (st != SL_OK)
        fail_msg("CreatePromotion: %s %s", sl_status_name(st), err.msg);

    /* Bad input and preconditions, nothing written. */
    Shelfline__V1__ListSegmentRequest aud = SHELFLINE__V1__LIST_SEGMENT_REQUEST__INIT;
    aud.category = "coffee";
    Shelfline__V1__BuildCampaignRequest r = urgency_req("urg-bad", &aud);
    r.promotion_id = "";
    expect_invalid(&r, "promotion_id");
    r = build_req("seasonal-promo", SHELFLINE__V1__CAMPAIGN_KIND__CAMPAIGN_KIND_SEASONAL, "",
                  XMAS_MS);
    r.promotion_id = "P-XM2";
    expect_invalid(&r, "promotion_id");
    r = urgency_req("urg-bad", &aud);
    r.promotion_id = "P-NONE";
    assert_int_equal(build_campaign(&r, NULL, &err), SL_NOT_FOUND);
    assert_non_null(strstr(err.msg, "promotion_id"));
    r = urgency_req("urg-bad", &aud);
    r.ends_at_ms = wall_ms() + 8 * DAY;
    assert_int_equal(build_campaign(&r, NULL, &err), SL_FAILED_PRECONDITION);
    assert_non_null(strstr(err.msg, "ends_at_ms"));
    assert_int_equal(sql("SELECT count(*) FROM customer_value.campaign WHERE kind = 'URGENCY'"), 0);

    /* Coffee buyers, sized to the quota: ceil(10 / 2) = 5 of them, each
     * offered XM-2 at the promotion's price with its 10 units; nobody in
     * SOUTH (no warehouse of the fence serves it). */
    r = urgency_req("urg-1", &aud);
    Shelfline__V1__Campaign *c = must_build(&r);
    assert_int_equal(c->audience_size, 5);
    assert_string_equal(c->promotion_id, "P-XM2");
    size_t n;
    int pages;
    Shelfline__V1__CampaignRecipient **rs = all_recipients("urg-1", 100, &n, &pages);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rs[i]->n_picks, 1);
        assert_string_equal(rs[i]->picks[0]->sku, "XM-2");
        assert_int_equal(rs[i]->picks[0]->price->minor_units, 1499);
        assert_int_equal(rs[i]->picks[0]->available, 10);
        assert_string_not_equal(rs[i]->customer_id, "c-s1");
    }
    r = urgency_req("urg-2", &aud);
    assert_int_equal(must_build(&r)->audience_size, 5);

    /* 4 units held: the offer states the 6 really left. */
    reserve_promo("u-hold-1", 2);
    reserve_promo("u-hold-2", 2);
    sender s1 = {.id = "urg-1"};
    send_thread(&s1);
    if (s1.st != SL_OK)
        fail_msg("SendCampaign urg-1: %s %s", sl_status_name(s1.st), s1.msg);
    assert_int_equal(s1.sent, 5);
    const char *q = "SELECT count(*) FROM service_desk.notification WHERE kind = 'CAMPAIGN' AND "
                    "idempotency_key LIKE 'campaign:urg-1:%' AND body LIKE '%only 6 left at this "
                    "price, at most 2 per customer%'";
    assert_int_equal(wait_sql(q, 5), 5);

    /* Sold out: sending stops, everyone left is skipped. */
    reserve_promo("u-hold-3", 2);
    reserve_promo("u-hold-4", 2);
    reserve_promo("u-hold-5", 2);
    Shelfline__V1__SendCampaignRequest sr = SHELFLINE__V1__SEND_CAMPAIGN_REQUEST__INIT;
    sr.campaign_id = "urg-2";
    Shelfline__V1__SendCampaignResponse *out = NULL;
    st = cv("SendCampaign", &sr.base, &shelfline__v1__send_campaign_response__descriptor, &out,
            &err);
    if (st != SL_OK)
        fail_msg("SendCampaign urg-2: %s %s", sl_status_name(st), err.msg);
    assert_true(out->sold_out);
    assert_int_equal(out->sent, 0);
    assert_int_equal(out->skipped, 5);
    assert_int_equal(out->campaign->state, SHELFLINE__V1__CAMPAIGN_STATE__CAMPAIGN_STATE_SENT);
    assert_int_equal(
        sql("SELECT count(*) FROM customer_value.outbox WHERE topic = "
            "'CAMPAIGN_MESSAGE' AND payload IS NOT NULL AND key IN (SELECT customer_id "
            "FROM customer_value.campaign_recipient WHERE campaign_id = 'urg-2' AND "
            "state = 'SENT')"),
        0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repurchase_reminders_become_notifications_once),
        cmocka_unit_test(test_campaign_bad_input_writes_nothing),
        cmocka_unit_test(test_seasonal_and_geo_campaigns_respect_stock),
        cmocka_unit_test(test_urgency_campaign_follows_the_quota),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
