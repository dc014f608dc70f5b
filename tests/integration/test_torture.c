/*
 * Allocation failures, every one of them (the torture run of SQLite and
 * curl): for a representative set of calls of each of the four services
 * (bad input, a read, a write, a NOT_FOUND), the call is made again and
 * again with the server failing its n-th allocation for the call, n = 1, 2,
 * ... (the test builds' switch, sl_arena.h: metadata x-shelfline-fail-alloc),
 * until it runs through without reaching n.  Each time:
 *
 *  - the answer is RESOURCE_EXHAUSTED or INTERNAL, or the call's normal
 *    answer when the server absorbed the failure (a best-effort allocation)
 *    or did not reach n;
 *  - the process is still serving (a crash would answer UNAVAILABLE, and
 *    the next call too);
 *  - nothing was written: the fingerprint of every table of the four
 *    schemas is the one before the case (rows as text, hashed), unless the
 *    call answered OK -- or the write had committed and only its reply
 *    failed (a handler that answers with what it read back after the
 *    commit): then a retry with the same key must answer OK and write
 *    nothing more, as after a reply lost on the network ("lost replies",
 *    counted and printed).
 *
 * The processes then stop with exit status 0, which under the sanitizers
 * (the test is in the Makefile's SANITIZED_TESTS) means no leak either.
 * The four services run as real processes on one fresh database, wired to
 * each other as in production (suite_test.h).
 *
 * Bound: at most MAX_N allocations per call; a call needing more fails the
 * test (raise the bound with the reason).
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
#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/forecasting.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_log.h"
#include "sl_test.h"
#include "suite_test.h"

#define MAX_N 3000

enum { INV = SUITET_NSPAWN }; /* channel index of inventory in chan() */

static suitet S;
static sl_arena *A;
static char yesterday[16];

static sl_channel *chan(int k)
{
    return k == INV ? S.inv.ch[0] : S.ch[k];
}

/* One call of the run: builds its request for iteration n (writes use a
 * fresh key each time, so every iteration runs the whole write path rather
 * than an idempotent replay) into A. */
typedef struct torture_case {
    const char *name;
    int service; /* SUITET_FC, SUITET_CV, SUITET_SD or INV */
    const char *method;
    ProtobufCMessage *(*build)(unsigned long n);
    const ProtobufCMessageDescriptor *response;
    sl_status normal; /* the answer without a failure */
} torture_case;

static char *key(const char *prefix, unsigned long n)
{
    char k[64];
    snprintf(k, sizeof k, "%s-%lu", prefix, n);
    return sl_arena_strdup(A, k);
}

/* ------------------------------------------------------------ inventory -- */

static ProtobufCMessage *inv_availability(unsigned long n)
{
    (void)n;
    Shelfline__V1__GetAvailabilityRequest *r = sl_arena_alloc(A, sizeof *r);
    shelfline__v1__get_availability_request__init(r);
    char **skus = sl_arena_alloc(A, 2 * sizeof *skus);
    skus[0] = "SKU-A";
    skus[1] = "SKU-B";
    r->skus = skus;
    r->n_skus = 2;
    r->region = "EAST";
    return &r->base;
}

static ProtobufCMessage *inv_adjust(unsigned long n)
{
    Shelfline__V1__AdjustStockRequest *r = sl_arena_alloc(A, sizeof *r);
    shelfline__v1__adjust_stock_request__init(r);
    r->request_id = key("tt-adjust", n);
    r->sku = "SKU-B";
    r->warehouse_id = "W-MID";
    r->delta = 3;
    r->reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT;
    return &r->base;
}

static ProtobufCMessage *inv_reserve_req(const char *id, const char *sku)
{
    Shelfline__V1__ReserveRequest *r = sl_arena_alloc(A, sizeof *r);
    Shelfline__V1__ReserveLine *l = sl_arena_alloc(A, sizeof *l);
    Shelfline__V1__ReserveLine **lp = sl_arena_alloc(A, sizeof *lp);
    shelfline__v1__reserve_request__init(r);
    shelfline__v1__reserve_line__init(l);
    l->sku = (char *)sku;
    l->qty = 1;
    *lp = l;
    r->reservation_id = (char *)id;
    r->customer_id = "cust-1";
    r->region = "EAST";
    r->lines = lp;
    r->n_lines = 1;
    return &r->base;
}

static ProtobufCMessage *inv_reserve(unsigned long n)
{
    return inv_reserve_req(key("tt-reserve", n), "SKU-A");
}

static ProtobufCMessage *inv_reserve_bad(unsigned long n)
{
    (void)n;
    return inv_reserve_req("tt reserve with spaces", "SKU-A");
}

static ProtobufCMessage *inv_reserve_unknown_sku(unsigned long n)
{
    return inv_reserve_req(key("tt-reserve-unknown", n), "SKU-NOPE");
}

/* ---------------------------------------------------------- forecasting -- */

static ProtobufCMessage *fc_sales_req(const char *day, int64_t units)
{
    Shelfline__V1__RecordSalesRequest *r = sl_arena_alloc(A, sizeof *r);
    Shelfline__V1__SalesRow *row = sl_arena_alloc(A, sizeof *row);
    Shelfline__V1__SalesRow **rp = sl_arena_alloc(A, sizeof *rp);
    shelfline__v1__record_sales_request__init(r);
    shelfline__v1__sales_row__init(row);
    row->sku = "SKU-A";
    row->region = "EAST";
    row->day = (char *)day;
    row->units = units;
    *rp = row;
    r->rows = rp;
    r->n_rows = 1;
    return &r->base;
}

static ProtobufCMessage *fc_sales(unsigned long n)
{
    return fc_sales_req(yesterday, (int64_t)n);
}

static ProtobufCMessage *fc_sales_bad(unsigned long n)
{
    (void)n;
    return fc_sales_req("2026-13-45", 1);
}

static ProtobufCMessage *fc_events(unsigned long n)
{
    (void)n;
    Shelfline__V1__ListEventsRequest *r = sl_arena_alloc(A, sizeof *r);
    shelfline__v1__list_events_request__init(r);
    return &r->base;
}

static ProtobufCMessage *fc_set_event(unsigned long n)
{
    Shelfline__V1__CalendarEvent *e = sl_arena_alloc(A, sizeof *e);
    shelfline__v1__calendar_event__init(e);
    e->event_id = key("tt-event", n);
    e->name = "torture";
    e->kind = SHELFLINE__V1__EVENT_KIND__OTHER;
    e->start_day = yesterday;
    e->end_day = yesterday;
    Shelfline__V1__SetEventRequest *r = sl_arena_alloc(A, sizeof *r);
    shelfline__v1__set_event_request__init(r);
    r->event = e;
    return &r->base;
}

/* ------------------------------------------------------- customer value -- */

static ProtobufCMessage *cv_upsert_req(char *id, const char *region)
{
    Shelfline__V1__UpsertCustomerRequest *r = sl_arena_alloc(A, sizeof *r);
    shelfline__v1__upsert_customer_request__init(r);
    r->customer_id = id;
    r->region = (char *)region;
    r->signed_up_at_ms = (int64_t)time(NULL) * 1000 - 86400000;
    return &r->base;
}

static ProtobufCMessage *cv_upsert(unsigned long n)
{
    return cv_upsert_req(key("tt-cust", n), "EAST");
}

static ProtobufCMessage *cv_upsert_bad(unsigned long n)
{
    return cv_upsert_req(key("tt-cust", n), "east coast");
}

static ProtobufCMessage *cv_value_req(const char *id)
{
    Shelfline__V1__GetCustomerValueRequest *r = sl_arena_alloc(A, sizeof *r);
    shelfline__v1__get_customer_value_request__init(r);
    r->customer_id = (char *)id;
    return &r->base;
}

static ProtobufCMessage *cv_value(unsigned long n)
{
    (void)n;
    return cv_value_req("cust-1");
}

static ProtobufCMessage *cv_value_unknown(unsigned long n)
{
    (void)n;
    return cv_value_req("tt-nobody");
}

/* --------------------------------------------------------- service desk -- */

static ProtobufCMessage *sd_ticket_req(char *id, const char *subject)
{
    Shelfline__V1__OpenTicketRequest *r = sl_arena_alloc(A, sizeof *r);
    shelfline__v1__open_ticket_request__init(r);
    r->ticket_id = id;
    r->customer_id = "cust-1";
    r->order_id = "o-1";
    r->channel = SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_EMAIL;
    r->subject = (char *)subject;
    r->body = "My parcel is late, where is my order?";
    return &r->base;
}

static ProtobufCMessage *sd_ticket(unsigned long n)
{
    return sd_ticket_req(key("tt-ticket", n), "late parcel");
}

static ProtobufCMessage *sd_ticket_bad(unsigned long n)
{
    return sd_ticket_req(key("tt-ticket", n), "");
}

static ProtobufCMessage *sd_order_req(const char *id)
{
    Shelfline__V1__GetOrderRequest *r = sl_arena_alloc(A, sizeof *r);
    shelfline__v1__get_order_request__init(r);
    r->order_id = (char *)id;
    return &r->base;
}

static ProtobufCMessage *sd_order(unsigned long n)
{
    (void)n;
    return sd_order_req("o-1");
}

static ProtobufCMessage *sd_order_unknown(unsigned long n)
{
    (void)n;
    return sd_order_req("o-nobody");
}

#define RESP(x) &shelfline__v1__##x##__descriptor

static const torture_case cases[] = {
    {"inventory bad input", INV, "/shelfline.v1.InventoryService/Reserve", inv_reserve_bad,
     RESP(reserve_response), SL_INVALID_ARGUMENT},
    {"inventory read", INV, "/shelfline.v1.InventoryService/GetAvailability", inv_availability,
     RESP(get_availability_response), SL_OK},
    {"inventory write", INV, "/shelfline.v1.InventoryService/AdjustStock", inv_adjust,
     RESP(adjust_stock_response), SL_OK},
    {"inventory reserve", INV, "/shelfline.v1.InventoryService/Reserve", inv_reserve,
     RESP(reserve_response), SL_OK},
    {"inventory not found", INV, "/shelfline.v1.InventoryService/Reserve", inv_reserve_unknown_sku,
     RESP(reserve_response), SL_NOT_FOUND},
    {"forecasting bad input", SUITET_FC, "/shelfline.v1.ForecastingService/RecordSales",
     fc_sales_bad, RESP(record_sales_response), SL_INVALID_ARGUMENT},
    {"forecasting read", SUITET_FC, "/shelfline.v1.ForecastingService/ListEvents", fc_events,
     RESP(list_events_response), SL_OK},
    {"forecasting write", SUITET_FC, "/shelfline.v1.ForecastingService/RecordSales", fc_sales,
     RESP(record_sales_response), SL_OK},
    {"forecasting event", SUITET_FC, "/shelfline.v1.ForecastingService/SetEvent", fc_set_event,
     RESP(calendar_event), SL_OK},
    {"customer-value bad input", SUITET_CV, "/shelfline.v1.CustomerValueService/UpsertCustomer",
     cv_upsert_bad, RESP(upsert_customer_response), SL_INVALID_ARGUMENT},
    {"customer-value read", SUITET_CV, "/shelfline.v1.CustomerValueService/GetCustomerValue",
     cv_value, RESP(customer_value), SL_OK},
    {"customer-value not found", SUITET_CV, "/shelfline.v1.CustomerValueService/GetCustomerValue",
     cv_value_unknown, RESP(customer_value), SL_NOT_FOUND},
    {"customer-value write", SUITET_CV, "/shelfline.v1.CustomerValueService/UpsertCustomer",
     cv_upsert, RESP(upsert_customer_response), SL_OK},
    {"service-desk bad input", SUITET_SD, "/shelfline.v1.ServiceDeskService/OpenTicket",
     sd_ticket_bad, RESP(ticket), SL_INVALID_ARGUMENT},
    {"service-desk read", SUITET_SD, "/shelfline.v1.ServiceDeskService/GetOrder", sd_order,
     RESP(order), SL_OK},
    {"service-desk not found", SUITET_SD, "/shelfline.v1.ServiceDeskService/GetOrder",
     sd_order_unknown, RESP(order), SL_NOT_FOUND},
    {"service-desk write", SUITET_SD, "/shelfline.v1.ServiceDeskService/OpenTicket", sd_ticket,
     RESP(ticket), SL_OK},
};

/* ---------------------------------------------------------------- setup -- */

static int group_setup(void **state)
{
    (void)state;
    time_t t = time(NULL) - 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(yesterday, sizeof yesterday, "%Y-%m-%d", &tm);
    A = sl_arena_create(0);
    if (suitet_start(&S, "torture") != 0)
        return -1;
    const char *skus[] = {"SKU-A", "SKU-B"};
    if (invt_seed(S.inv.ch[0], skus, 2) != 0 ||
        invt_stock(S.inv.ch[0], "SKU-A", "W-NEAR", 5000) != 0)
        return -1;
    sl_err err;
    if (sl_client_unary(S.ch[SUITET_CV], "/shelfline.v1.CustomerValueService/UpsertCustomer",
                        cv_upsert_req("cust-1", "EAST"), RESP(upsert_customer_response), A,
                        &(ProtobufCMessage *){NULL}, NULL, &err) != SL_OK) {
        fprintf(stderr, "UpsertCustomer: %s\n", err.msg);
        return -1;
    }
    if (suitet_place_order(&S, "o-1", "SKU-A", 2) != 0)
        return -1;
    sl_arena_reset(A);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int bad = suitet_stop(&S);
    sl_arena_destroy(A);
    sl_test_kill_all();
    return bad == 0 ? 0 : -1;
}

/* ----------------------------------------------------------------- run -- */

typedef struct tally {
    unsigned long allocations; /* the call's allocations: the n that ran through, less one */
    int failed;                /* answered RESOURCE_EXHAUSTED or INTERNAL */
    int absorbed;              /* failure reached, normal answer all the same */
    int lost;                  /* committed, then the reply could not be built */
} tally;

/* After a failure answered once the write had committed (the handler
 * reads back what it stored to answer, and that read ran out of memory):
 * the client sees what a reply lost on the network looks like, and
 * recovers the same way, by retrying with the same key.  True when that
 * retry answers OK and writes nothing more; the failure is then a lost
 * reply, not a partial write (prints why not otherwise). */
static bool replays_exactly(const torture_case *tc, unsigned long n, const char *after)
{
    if (tc->normal != SL_OK)
        return false;
    sl_call_options o = {.timeout_ms = 30000};
    ProtobufCMessage *resp = NULL;
    sl_err err;
    sl_err_clear(&err);
    sl_status st = sl_client_unary(chan(tc->service), tc->method, tc->build(n), tc->response, A,
                                   &resp, &o, &err);
    sl_arena_reset(A);
    char *again = suitet_fingerprint(S.inv.conninfo);
    bool same = strcmp(after, again) == 0;
    free(again);
    if (st != SL_OK || !same)
        fprintf(stderr, "%s, allocation %lu: its retry answered %s \"%s\"%s\n", tc->name, n,
                sl_status_name(st), err.msg, same ? "" : " and wrote again");
    return st == SL_OK && same;
}

/* Runs one case to its end; returns the number of wrong answers (each
 * printed).  Fails the test at once when a process stops serving. */
static int run_case(const torture_case *tc, tally *t)
{
    int wrong = 0;
    char *before = suitet_settled_fingerprint(S.inv.conninfo);
    memset(t, 0, sizeof *t);
    unsigned long n;
    for (n = 1; n <= MAX_N; n++) {
        bool hit = false;
        sl_call_options o = {.timeout_ms = 30000, .fail_alloc_at = n, .fail_alloc_hit = &hit};
        ProtobufCMessage *resp = NULL;
        sl_err err;
        sl_err_clear(&err);
        sl_status st = sl_client_unary(chan(tc->service), tc->method, tc->build(n), tc->response, A,
                                       &resp, &o, &err);
        sl_arena_reset(A);
        if (st == SL_UNAVAILABLE || st == SL_DEADLINE_EXCEEDED) {
            free(before);
            fail_msg("%s, allocation %lu: %s \"%s\": the process stopped serving", tc->name, n,
                     sl_status_name(st), err.msg);
        }
        if (!hit) {
            if (st != tc->normal) {
                fprintf(stderr, "%s: without a failure: %s \"%s\", want %s\n", tc->name,
                        sl_status_name(st), err.msg, sl_status_name(tc->normal));
                wrong++;
            }
            break;
        }
        if (st == SL_RESOURCE_EXHAUSTED || st == SL_INTERNAL) {
            t->failed++;
        } else if (st == tc->normal) {
            t->absorbed++;
        } else {
            fprintf(stderr,
                    "%s, allocation %lu failed: %s \"%s\", want RESOURCE_EXHAUSTED or"
                    " INTERNAL\n",
                    tc->name, n, sl_status_name(st), err.msg);
            wrong++;
        }
        if (st != SL_OK) {
            char *now = suitet_fingerprint(S.inv.conninfo);
            if (strcmp(before, now) != 0) {
                if (replays_exactly(tc, n, now)) {
                    t->lost++;
                    free(before);
                    before = suitet_settled_fingerprint(S.inv.conninfo);
                } else {
                    fprintf(stderr, "%s, allocation %lu failed (%s): the database changed\n",
                            tc->name, n, sl_status_name(st));
                    wrong++;
                }
            }
            free(now);
        } else {
            /* A write that went through: its state is the new reference. */
            char *now = suitet_fingerprint(S.inv.conninfo);
            bool changed = strcmp(before, now) != 0;
            free(now);
            if (changed) {
                free(before);
                before = suitet_settled_fingerprint(S.inv.conninfo);
            }
        }
    }
    free(before);
    t->allocations = n - 1;
    if (n > MAX_N) {
        fprintf(stderr, "%s: still failing after %d allocations\n", tc->name, MAX_N);
        wrong++;
    }
    return wrong;
}

static void test_every_allocation_failure_is_answered_cleanly(void **state)
{
    (void)state;
    int wrong = 0;
    int64_t start = sl_test_now_ms();
    /* TORTURE_CASES=text runs only the cases whose name contains it. */
    const char *only = getenv("TORTURE_CASES");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (only != NULL && strstr(cases[i].name, only) == NULL)
            continue;
        tally t;
        int64_t t0 = sl_test_now_ms();
        int w = run_case(&cases[i], &t);
        fprintf(stderr,
                "torture: %-26s %5lu allocations, %4d failed cleanly, %3d absorbed, %3d lost"
                " replies, %d wrong (%.1f s)\n",
                cases[i].name, t.allocations, t.failed, t.absorbed, t.lost, w,
                (double)(sl_test_now_ms() - t0) / 1000);
        /* The switch works: every call allocates, so n = 1 was reached. */
        if (t.allocations == 0) {
            fprintf(stderr, "%s: no allocation failed: is the switch compiled in?\n",
                    cases[i].name);
            w++;
        }
        wrong += w;
    }
    fprintf(stderr, "torture: %d wrong answers in %.1f s\n", wrong,
            (double)(sl_test_now_ms() - start) / 1000);
    assert_int_equal(wrong, 0);
    for (int k = 0; k < SUITET_NSPAWN; k++)
        assert_true(sl_test_wait_serving(S.ch[k], 10000));
    assert_true(sl_test_wait_serving(S.inv.ch[0], 10000));
    assert_int_equal(invt_violations(S.inv.ch[0]), 0);
}

int main(void)
{
    sl_log_init("test_torture", SL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_failure_is_answered_cleanly),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
