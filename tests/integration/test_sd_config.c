/*
 * Integration tests of what configures service-desk's answers, with real
 * processes: one shelfline-inventory and one shelfline-service-desk on a
 * fresh database, over loopback gRPC.
 *
 *  - warehouse shipping calendars: InventoryService/SetWarehouseCalendar
 *    (bad input named, nothing written; read back by GetWarehouse and
 *    ListWarehouses; kept by UpdateWarehouse and a CreateWarehouse retry),
 *    and service-desk's ETAs following it within its network TTL: a
 *    holiday on the would-be ship day moves QuoteEta and GetOrderEta to
 *    the next shipping day; a warehouse shipping on Saturdays ships a
 *    Friday-evening order on Saturday.
 *
 * Dates are fixed instants of November 2026 given to the RPCs (placed_at_ms,
 * at_ms), never today's.
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
#include <unistd.h>

#include "inv_test.h"
#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_test.h"

#define DESC(x) &shelfline__v1__##x##__descriptor

/* service-desk's warehouse cache TTL here: the staleness bound the
 * calendar tests wait out. */
#define NETWORK_TTL_MS 300

static invt_svc inv;
static sl_channel *ich;
static pid_t sd_pid;
static int sd_port, sd_http, cv_port;
static sl_channel *sd_ch;
static sl_arena *A;

/* W-NEAR (America/New_York, cut-off 16:00, EAST p50 1 / p90 2 days). */
#define WED_10_NY INT64_C(1795014000000) /* 2026-11-18T15:00:00Z, Wednesday 10:00 */
#define FRI_17_NY INT64_C(1795212000000) /* 2026-11-20T22:00:00Z, Friday 17:00 */

/* ---- processes ---- */

static pid_t sd_spawn(void)
{
    char e[8][640];
    char *envp[9];
    int n = 0;
    snprintf(e[n++], sizeof e[0], "SHELFLINE_DATABASE_URL=%s", inv.conninfo);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_LISTEN=127.0.0.1:%d", sd_port);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_HTTP_LISTEN=127.0.0.1:%d", sd_http);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_INVENTORY_ADDR=127.0.0.1:%d", inv.port[0]);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_LOG_LEVEL=%s",
             getenv("SDT_LOG_LEVEL") ? getenv("SDT_LOG_LEVEL") : "error");
    snprintf(e[n++], sizeof e[0], "SHELFLINE_SD_NETWORK_TTL=%dms", NETWORK_TTL_MS);
    /* no customer-value: tiers are "unknown" */
    snprintf(e[n++], sizeof e[0], "SHELFLINE_CUSTOMER_VALUE_ADDR=127.0.0.1:%d", cv_port);
    for (int k = 0; k < n; k++)
        envp[k] = e[k];
    envp[n] = NULL;
    return sl_test_spawn_bin("shelfline-service-desk", envp);
}

static sl_status sd(const char *method, const void *req, const ProtobufCMessageDescriptor *d,
                    void *out, sl_err *err)
{
    return sl_test_call(sd_ch, "ServiceDeskService", method, req, d, A, out, 0, err);
}

static sl_status inv_call(const char *method, const void *req, const ProtobufCMessageDescriptor *d,
                          void *out, sl_err *err)
{
    return invt_call(ich, method, req, d, A, out, err);
}

static long long q(const char *sql)
{
    return invt_sql_int(inv.conninfo, sql);
}

static int group_setup(void **state)
{
    (void)state;
    A = sl_arena_create(0);
    if (invt_start(&inv, "sd_config", 1, NULL) != 0)
        return -1;
    ich = inv.ch[0];
    const char *skus[] = {"SKU-CAL", "SKU-SAT", "SKU-LANG"};
    if (invt_seed(ich, skus, 3) != 0 || invt_stock(ich, "SKU-CAL", "W-NEAR", 100) != 0 ||
        invt_stock(ich, "SKU-SAT", "W-NEAR", 100) != 0)
        return -1;
    cv_port = sl_test_free_port();
    sd_port = sl_test_free_port();
    sd_http = sl_test_free_port();
    if ((sd_pid = sd_spawn()) <= 0 || !sl_test_wait_child_port(sd_pid, sd_port, 30000))
        return -1;
    sd_ch = sl_test_channel(sd_port);
    return sd_ch != NULL && sl_test_wait_serving(sd_ch, 30000) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    int bad = 0;
    if (sd_pid > 0) {
        int s = sl_test_stop(sd_pid, SIGTERM, 30000);
        if (s < 0 || !WIFEXITED(s) || WEXITSTATUS(s) != 0)
            bad++;
    }
    sl_channel_destroy(sd_ch);
    bad += invt_stop(&inv);
    sl_arena_destroy(A);
    return bad == 0 ? 0 : -1;
}

/* ---- warehouse calendars ---- */

static Shelfline__V1__Warehouse *get_wh(const char *id)
{
    sl_err err;
    Shelfline__V1__GetWarehouseRequest g = SHELFLINE__V1__GET_WAREHOUSE_REQUEST__INIT;
    g.warehouse_id = (char *)id;
    Shelfline__V1__Warehouse *w;
    assert_int_equal(inv_call("GetWarehouse", &g, DESC(warehouse), &w, &err), SL_OK);
    return w;
}

static sl_status set_calendar(const char *id, const Shelfline__V1__Weekday *days, size_t n_days,
                              const char *const *holidays, size_t n_holidays,
                              Shelfline__V1__Warehouse **out, sl_err *err)
{
    Shelfline__V1__SetWarehouseCalendarRequest r =
        SHELFLINE__V1__SET_WAREHOUSE_CALENDAR_REQUEST__INIT;
    r.warehouse_id = (char *)id;
    r.ship_weekdays = (Shelfline__V1__Weekday *)days;
    r.n_ship_weekdays = n_days;
    r.holidays = (char **)holidays;
    r.n_holidays = n_holidays;
    return inv_call("SetWarehouseCalendar", &r, DESC(warehouse), out, err);
}

static const Shelfline__V1__Weekday MON_FRI[] = {
    SHELFLINE__V1__WEEKDAY__WEEKDAY_MONDAY, SHELFLINE__V1__WEEKDAY__WEEKDAY_TUESDAY,
    SHELFLINE__V1__WEEKDAY__WEEKDAY_WEDNESDAY, SHELFLINE__V1__WEEKDAY__WEEKDAY_THURSDAY,
    SHELFLINE__V1__WEEKDAY__WEEKDAY_FRIDAY};
static const Shelfline__V1__Weekday MON_SAT[] = {
    SHELFLINE__V1__WEEKDAY__WEEKDAY_SATURDAY, SHELFLINE__V1__WEEKDAY__WEEKDAY_MONDAY,
    SHELFLINE__V1__WEEKDAY__WEEKDAY_TUESDAY,  SHELFLINE__V1__WEEKDAY__WEEKDAY_WEDNESDAY,
    SHELFLINE__V1__WEEKDAY__WEEKDAY_THURSDAY, SHELFLINE__V1__WEEKDAY__WEEKDAY_FRIDAY};

/* QuoteEta of one unit of sku in EAST at at_ms: its p50 date into p50. */
static void quote_p50(const char *sku, int64_t at_ms, char p50[11])
{
    sl_err err;
    char *skus[] = {(char *)sku};
    Shelfline__V1__QuoteEtaRequest qr = SHELFLINE__V1__QUOTE_ETA_REQUEST__INIT;
    qr.region = "EAST";
    qr.skus = skus;
    qr.n_skus = 1;
    qr.at_ms = at_ms;
    Shelfline__V1__QuoteEtaResponse *qa;
    assert_int_equal(sd("QuoteEta", &qr, DESC(quote_eta_response), &qa, &err), SL_OK);
    assert_int_equal(qa->n_quotes, 1);
    assert_int_equal(qa->quotes[0]->status, SHELFLINE__V1__QUOTE_STATUS__QUOTE_IN_STOCK);
    snprintf(p50, 11, "%s", qa->quotes[0]->eta->p50_date);
}

/* Polls QuoteEta until its p50 is want, at most 10 s; the milliseconds it
 * took, or -1. */
static int64_t await_quote(const char *sku, int64_t at_ms, const char *want)
{
    int64_t t0 = invt_now_ms();
    for (int i = 0; i < 200 && invt_now_ms() - t0 < 10000; i++) {
        char p50[11];
        quote_p50(sku, at_ms, p50);
        if (strcmp(p50, want) == 0)
            return invt_now_ms() - t0;
        invt_sleep_ms(50);
    }
    return -1;
}

static Shelfline__V1__PlaceOrderResponse *place(const char *id, const char *sku, int64_t at_ms)
{
    sl_err err;
    Shelfline__V1__OrderLineRequest l = SHELFLINE__V1__ORDER_LINE_REQUEST__INIT;
    Shelfline__V1__OrderLineRequest *lp[] = {&l};
    l.sku = (char *)sku;
    l.qty = 1;
    Shelfline__V1__PlaceOrderRequest r = SHELFLINE__V1__PLACE_ORDER_REQUEST__INIT;
    r.order_id = (char *)id;
    r.customer_id = "cust-cal";
    r.region = "EAST";
    r.lines = lp;
    r.n_lines = 1;
    r.placed_at_ms = at_ms;
    Shelfline__V1__PlaceOrderResponse *out;
    assert_int_equal(sd("PlaceOrder", &r, DESC(place_order_response), &out, &err), SL_OK);
    return out;
}

static Shelfline__V1__OrderEta *order_eta(const char *id)
{
    sl_err err;
    Shelfline__V1__GetOrderEtaRequest g = SHELFLINE__V1__GET_ORDER_ETA_REQUEST__INIT;
    g.order_id = (char *)id;
    Shelfline__V1__OrderEta *e;
    assert_int_equal(sd("GetOrderEta", &g, DESC(order_eta), &e, &err), SL_OK);
    return e;
}

static void test_calendar_bad_input_names_the_field(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__Warehouse *w;
    const char *ok_holiday[] = {"2026-12-25"};
    Shelfline__V1__Weekday none[1];
    assert_int_equal(set_calendar("W-MID", none, 0, ok_holiday, 1, &w, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "ship_weekdays"));
    Shelfline__V1__Weekday bad[] = {SHELFLINE__V1__WEEKDAY__WEEKDAY_MONDAY,
                                    (Shelfline__V1__Weekday)9};
    assert_int_equal(set_calendar("W-MID", bad, 2, NULL, 0, &w, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "ship_weekdays[1]"));
    Shelfline__V1__Weekday twice[] = {SHELFLINE__V1__WEEKDAY__WEEKDAY_MONDAY,
                                      SHELFLINE__V1__WEEKDAY__WEEKDAY_MONDAY};
    assert_int_equal(set_calendar("W-MID", twice, 2, NULL, 0, &w, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "ship_weekdays[1]"));
    const char *bad_dates[][2] = {{"2026-12-25", "2026-02-30"},
                                  {"2026-12-25", "2026-2-3"},
                                  {"2026-12-25", ""},
                                  {"2026-12-25", "2025-02-29"}};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(set_calendar("W-MID", MON_FRI, 5, bad_dates[i], 2, &w, &err),
                         SL_INVALID_ARGUMENT);
        assert_non_null(strstr(err.msg, "holidays[1]"));
    }
    const char **many = sl_arena_alloc(A, 1001 * sizeof *many);
    for (size_t i = 0; i < 1001; i++)
        many[i] = "2026-12-25";
    assert_int_equal(set_calendar("W-MID", MON_FRI, 5, many, 1001, &w, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "holidays"));
    assert_int_equal(set_calendar("W-NOPE", MON_FRI, 5, ok_holiday, 1, &w, &err), SL_NOT_FOUND);
    assert_non_null(strstr(err.msg, "warehouse_id"));
    /* nothing written by any of them */
    assert_int_equal(q("SELECT count(*) FROM inventory.warehouse WHERE warehouse_id = 'W-MID' "
                       "AND ship_weekdays = 31 AND holidays = '{}'"),
                     1);
    /* the default calendar as the API shows it: Monday to Friday */
    w = get_wh("W-MID");
    assert_int_equal(w->n_ship_weekdays, 5);
    assert_int_equal(w->ship_weekdays[0], SHELFLINE__V1__WEEKDAY__WEEKDAY_MONDAY);
    assert_int_equal(w->ship_weekdays[4], SHELFLINE__V1__WEEKDAY__WEEKDAY_FRIDAY);
    assert_int_equal(w->n_holidays, 0);
    sl_arena_reset(A);
}

static void test_calendar_read_back_and_kept(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__Warehouse *w;
    const char *hol[] = {"2026-12-25", "2026-01-01", "2026-12-25"};
    assert_int_equal(set_calendar("W-MID", MON_SAT, 6, hol, 3, &w, &err), SL_OK);
    /* sorted, repeats once, weekdays Monday first */
    assert_int_equal(w->n_holidays, 2);
    assert_string_equal(w->holidays[0], "2026-01-01");
    assert_string_equal(w->holidays[1], "2026-12-25");
    assert_int_equal(w->n_ship_weekdays, 6);
    assert_int_equal(w->ship_weekdays[0], SHELFLINE__V1__WEEKDAY__WEEKDAY_MONDAY);
    assert_int_equal(w->ship_weekdays[5], SHELFLINE__V1__WEEKDAY__WEEKDAY_SATURDAY);
    int64_t updated = w->updated_at_ms;
    /* the same calendar again: nothing changes, not even updated_at */
    invt_sleep_ms(20);
    assert_int_equal(set_calendar("W-MID", MON_SAT, 6, hol, 3, &w, &err), SL_OK);
    assert_int_equal(w->updated_at_ms, updated);
    /* UpdateWarehouse and a CreateWarehouse retry keep it */
    Shelfline__V1__Warehouse in = *get_wh("W-MID");
    in.n_ship_weekdays = 0;
    in.ship_weekdays = NULL;
    in.n_holidays = 0;
    in.holidays = NULL;
    Shelfline__V1__CreateWarehouseRequest cr = SHELFLINE__V1__CREATE_WAREHOUSE_REQUEST__INIT;
    cr.warehouse = &in;
    assert_int_equal(inv_call("CreateWarehouse", &cr, DESC(warehouse), &w, &err), SL_OK);
    assert_int_equal(w->n_holidays, 2);
    in.location = "moved";
    Shelfline__V1__UpdateWarehouseRequest ur = SHELFLINE__V1__UPDATE_WAREHOUSE_REQUEST__INIT;
    ur.warehouse = &in;
    assert_int_equal(inv_call("UpdateWarehouse", &ur, DESC(warehouse), &w, &err), SL_OK);
    assert_string_equal(w->location, "moved");
    assert_int_equal(w->n_ship_weekdays, 6);
    assert_int_equal(w->n_holidays, 2);
    /* ListWarehouses carries it too (service-desk reads it there) */
    Shelfline__V1__ListWarehousesRequest lr = SHELFLINE__V1__LIST_WAREHOUSES_REQUEST__INIT;
    Shelfline__V1__ListWarehousesResponse *ls;
    assert_int_equal(inv_call("ListWarehouses", &lr, DESC(list_warehouses_response), &ls, &err),
                     SL_OK);
    bool seen = false;
    for (size_t i = 0; i < ls->n_warehouses; i++)
        if (strcmp(ls->warehouses[i]->warehouse_id, "W-MID") == 0)
            seen = ls->warehouses[i]->n_holidays == 2 && ls->warehouses[i]->n_ship_weekdays == 6;
    assert_true(seen);
    /* back to the default for the other tests */
    assert_int_equal(set_calendar("W-MID", MON_FRI, 5, NULL, 0, &w, &err), SL_OK);
    assert_int_equal(w->n_holidays, 0);
    sl_arena_reset(A);
}

/* A holiday on the would-be ship day: QuoteEta and GetOrderEta move to the
 * next shipping day once service-desk's cache has refreshed. */
static void test_holiday_moves_etas_to_next_shipping_day(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__Warehouse *w;
    /* Mon-Fri, no holidays: Wednesday 10:00 ships the same day */
    Shelfline__V1__PlaceOrderResponse *r = place("o-cal-hol", "SKU-CAL", WED_10_NY);
    assert_string_equal(r->order->promised->ship_date, "2026-11-18");
    assert_string_equal(r->order->promised->p50_date, "2026-11-19");
    char p50[11];
    quote_p50("SKU-CAL", WED_10_NY, p50);
    assert_string_equal(p50, "2026-11-19");

    const char *hol[] = {"2026-11-18"};
    assert_int_equal(set_calendar("W-NEAR", MON_FRI, 5, hol, 1, &w, &err), SL_OK);
    int64_t took = await_quote("SKU-CAL", WED_10_NY, "2026-11-20");
    assert_true(took >= 0);
    printf("calendar change seen by QuoteEta after %lld ms (TTL %d ms)\n", (long long)took,
           NETWORK_TTL_MS);
    /* the bound: the TTL plus one refresh and the polling step */
    assert_true(took <= NETWORK_TTL_MS + 2000);
    Shelfline__V1__OrderEta *e = order_eta("o-cal-hol");
    assert_string_equal(e->current->ship_date, "2026-11-19");
    assert_string_equal(e->current->p50_date, "2026-11-20");
    assert_string_equal(e->current->p90_date, "2026-11-21");
    assert_true(e->moved);
    assert_string_equal(e->promised->p50_date, "2026-11-19");
    /* an order placed now on the holiday ships the next day too */
    r = place("o-cal-hol-2", "SKU-CAL", WED_10_NY);
    assert_string_equal(r->order->promised->ship_date, "2026-11-19");

    /* the holiday removed: back to the same day */
    assert_int_equal(set_calendar("W-NEAR", MON_FRI, 5, NULL, 0, &w, &err), SL_OK);
    assert_true(await_quote("SKU-CAL", WED_10_NY, "2026-11-19") >= 0);
    e = order_eta("o-cal-hol");
    assert_string_equal(e->current->ship_date, "2026-11-18");
    assert_false(e->moved);
    sl_arena_reset(A);
}

/* Friday 17:00, after the 16:00 cut-off: Monday on Mon-Fri, Saturday once
 * the warehouse ships on Saturdays. */
static void test_saturday_shipping_warehouse_ships_saturday(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__Warehouse *w;
    Shelfline__V1__PlaceOrderResponse *r = place("o-cal-fri", "SKU-SAT", FRI_17_NY);
    assert_string_equal(r->order->promised->ship_date, "2026-11-23");
    assert_int_equal(set_calendar("W-NEAR", MON_SAT, 6, NULL, 0, &w, &err), SL_OK);
    assert_true(await_quote("SKU-SAT", FRI_17_NY, "2026-11-22") >= 0);
    Shelfline__V1__OrderEta *e = order_eta("o-cal-fri");
    assert_string_equal(e->current->ship_date, "2026-11-21");
    assert_string_equal(e->current->p50_date, "2026-11-22");
    assert_string_equal(e->current->p90_date, "2026-11-23");
    r = place("o-cal-sat", "SKU-SAT", FRI_17_NY);
    assert_string_equal(r->order->promised->ship_date, "2026-11-21");
    /* a holiday on that Saturday: Monday again */
    const char *hol[] = {"2026-11-21"};
    assert_int_equal(set_calendar("W-NEAR", MON_SAT, 6, hol, 1, &w, &err), SL_OK);
    assert_true(await_quote("SKU-SAT", FRI_17_NY, "2026-11-24") >= 0);
    /* back to the default for the other tests */
    assert_int_equal(set_calendar("W-NEAR", MON_FRI, 5, NULL, 0, &w, &err), SL_OK);
    sl_arena_reset(A);
}

/* ---- SLA policies ---- */

/* 2026-11-18T10:00:00Z, a Wednesday: inside the default hours (UTC,
 * Monday to Friday 09:00-18:00). */
#define WED_10_UTC INT64_C(1794996000000)

static Shelfline__V1__Ticket *open_ticket(const char *id, int64_t at_ms)
{
    sl_err err;
    Shelfline__V1__OpenTicketRequest r = SHELFLINE__V1__OPEN_TICKET_REQUEST__INIT;
    r.ticket_id = (char *)id;
    r.customer_id = "cust-sla";
    r.channel = SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_EMAIL;
    r.subject = "Payment question";
    r.body = "I was charged twice for the same purchase, please refund one charge.";
    r.opened_at_ms = at_ms;
    Shelfline__V1__Ticket *t;
    assert_int_equal(sd("OpenTicket", &r, DESC(ticket), &t, &err), SL_OK);
    return t;
}

static Shelfline__V1__Ticket *get_ticket(const char *id)
{
    sl_err err;
    Shelfline__V1__GetTicketRequest g = SHELFLINE__V1__GET_TICKET_REQUEST__INIT;
    g.ticket_id = (char *)id;
    Shelfline__V1__Ticket *t;
    assert_int_equal(sd("GetTicket", &g, DESC(ticket), &t, &err), SL_OK);
    return t;
}

static sl_status get_policy(int64_t version, Shelfline__V1__SlaPolicy **out, sl_err *err)
{
    Shelfline__V1__GetSlaPolicyRequest g = SHELFLINE__V1__GET_SLA_POLICY_REQUEST__INIT;
    g.version = version;
    return sd("GetSlaPolicy", &g, DESC(sla_policy), out, err);
}

/* A policy around the clock in Paris with targets per priority (minutes):
 * first response 10/20/45/90, resolution 60/120/300/600. */
typedef struct policy_buf {
    Shelfline__V1__SlaPolicy p;
    Shelfline__V1__SlaTarget t[4];
    Shelfline__V1__SlaTarget *tp[4];
    char *hol[3];
} policy_buf;

static Shelfline__V1__SlaPolicy *new_policy(policy_buf *b)
{
    static const int fr[4] = {10, 20, 45, 90}, rs[4] = {60, 120, 300, 600};
    static const char *const names[4] = {"P4", "P2", "P1", "P3"}; /* any order */
    static const int idx[4] = {3, 1, 0, 2};
    shelfline__v1__sla_policy__init(&b->p);
    b->p.time_zone = "Europe/Paris";
    b->p.business_hours = "Mon-Sun 00:00-24:00";
    b->hol[0] = "2026-12-25";
    b->hol[1] = "2026-12-24";
    b->hol[2] = "2026-12-25";
    b->p.holidays = b->hol;
    b->p.n_holidays = 3;
    for (int i = 0; i < 4; i++) {
        shelfline__v1__sla_target__init(&b->t[i]);
        b->t[i].priority = (char *)names[i];
        b->t[i].first_response_minutes = fr[idx[i]];
        b->t[i].resolution_minutes = rs[idx[i]];
        b->tp[i] = &b->t[i];
    }
    b->p.targets = b->tp;
    b->p.n_targets = 4;
    return &b->p;
}

static sl_status set_policy(const Shelfline__V1__SlaPolicy *p, Shelfline__V1__SlaPolicy **out,
                            sl_err *err)
{
    Shelfline__V1__SetSlaPolicyRequest r = SHELFLINE__V1__SET_SLA_POLICY_REQUEST__INIT;
    r.policy = (Shelfline__V1__SlaPolicy *)p;
    return sd("SetSlaPolicy", &r, DESC(sla_policy), out, err);
}

/* Each bad policy: the status, the field named, nothing stored. */
static void expect_bad_policy(const Shelfline__V1__SlaPolicy *p, const char *field)
{
    sl_err err;
    Shelfline__V1__SlaPolicy *out;
    assert_int_equal(set_policy(p, &out, &err), SL_INVALID_ARGUMENT);
    if (strstr(err.msg, field) == NULL)
        fail_msg("expected \"%s\" named in \"%s\"", field, err.msg);
}

static void test_sla_policy_bad_input_names_the_field(void **state)
{
    (void)state;
    policy_buf b;
    expect_bad_policy(NULL, "policy");
    new_policy(&b)->time_zone = "Mars/Olympus";
    expect_bad_policy(&b.p, "policy.time_zone");
    new_policy(&b)->business_hours = "Mon-Fri 09:00-25:00";
    expect_bad_policy(&b.p, "policy.business_hours");
    new_policy(&b)->business_hours = "Mon-Fri 12:00-09:00";
    expect_bad_policy(&b.p, "policy.business_hours");
    new_policy(&b)->business_hours = "";
    expect_bad_policy(&b.p, "policy.business_hours");
    new_policy(&b)->holidays[1] = "2026-02-30";
    expect_bad_policy(&b.p, "policy.holidays[1]");
    new_policy(&b)->targets[2]->first_response_minutes = 0;
    expect_bad_policy(&b.p, "policy.targets[2].first_response_minutes");
    new_policy(&b)->targets[0]->resolution_minutes = 5; /* P4: first response 90 */
    expect_bad_policy(&b.p, "policy.targets[0].resolution_minutes");
    new_policy(&b)->targets[1]->priority = "P1"; /* targets[2] is P1 */
    expect_bad_policy(&b.p, "policy.targets[2].priority repeats P1");
    new_policy(&b)->targets[3]->priority = "P5";
    expect_bad_policy(&b.p, "policy.targets[3].priority");
    new_policy(&b)->n_targets = 3;
    expect_bad_policy(&b.p, "policy.targets");
    assert_int_equal(q("SELECT count(*) FROM service_desk.sla_policy"), 0);
    /* GetSlaPolicy before any is set: version 0, the configured one */
    sl_err err;
    Shelfline__V1__SlaPolicy *cur;
    assert_int_equal(get_policy(0, &cur, &err), SL_OK);
    assert_int_equal(cur->version, 0);
    assert_string_equal(cur->time_zone, "UTC");
    assert_string_equal(cur->business_hours, "Mon-Fri 09:00-18:00");
    assert_int_equal(cur->n_targets, 4);
    assert_string_equal(cur->targets[0]->priority, "P1");
    assert_int_equal(cur->targets[0]->first_response_minutes, 30);
    assert_int_equal(cur->targets[3]->resolution_minutes, 2700);
    assert_int_equal(get_policy(-1, &cur, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "version"));
    assert_int_equal(get_policy(1, &cur, &err), SL_NOT_FOUND);
    assert_non_null(strstr(err.msg, "version"));
    sl_arena_reset(A);
}

/* The first-response target of a priority ("P1".."P4") in new_policy's. */
static int new_fr(const char *prio)
{
    static const int fr[4] = {10, 20, 45, 90};
    return fr[prio[1] - '1'];
}

/*
 * A ticket opened before SetSlaPolicy keeps the policy it opened with (its
 * targets and due times do not move); one opened after runs on the new
 * one.  Setting the same policy again is no new version.
 */
static void test_sla_policy_applies_to_tickets_opened_after_it(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__Ticket *before = open_ticket("t-sla-before", WED_10_UTC);
    assert_int_equal(before->sla_policy_version, 0);
    const char *prio = sl_arena_strdup(A, before->priority);
    int64_t due_fr = before->first_response->due_at_ms, due_rs = before->resolution->due_at_ms;
    int64_t target_fr = before->first_response->target_minutes;
    assert_true(due_fr > WED_10_UTC);
    /* the default policy: due within Wednesday's or a later day's hours */
    assert_true(target_fr == 30 || target_fr == 120 || target_fr == 240 || target_fr == 540);

    policy_buf b;
    Shelfline__V1__SlaPolicy *set;
    assert_int_equal(set_policy(new_policy(&b), &set, &err), SL_OK);
    assert_int_equal(set->version, 1);
    assert_true(set->created_at_ms > 0);
    assert_int_equal(set->n_holidays, 2);
    assert_string_equal(set->holidays[0], "2026-12-24");
    assert_string_equal(set->holidays[1], "2026-12-25");
    assert_string_equal(set->targets[0]->priority, "P1");
    assert_int_equal(set->targets[0]->first_response_minutes, 10);
    assert_string_equal(set->targets[3]->priority, "P4");
    assert_int_equal(set->targets[3]->resolution_minutes, 600);
    /* the same policy again (holidays in another order): still version 1 */
    b.hol[0] = "2026-12-24";
    b.hol[1] = "2026-12-25";
    assert_int_equal(set_policy(&b.p, &set, &err), SL_OK);
    assert_int_equal(set->version, 1);
    assert_int_equal(q("SELECT count(*) FROM service_desk.sla_policy"), 1);
    Shelfline__V1__SlaPolicy *cur;
    assert_int_equal(get_policy(0, &cur, &err), SL_OK);
    assert_int_equal(cur->version, 1);
    assert_string_equal(cur->time_zone, "Europe/Paris");

    /* opened after: version 1, around the clock */
    Shelfline__V1__Ticket *after = open_ticket("t-sla-after", WED_10_UTC);
    assert_string_equal(after->priority, prio); /* the same text, the same priority */
    assert_int_equal(after->sla_policy_version, 1);
    assert_int_equal(after->first_response->target_minutes, new_fr(prio));
    assert_int_equal(after->first_response->due_at_ms, WED_10_UTC + new_fr(prio) * 60000LL);
    /* opened before: unchanged */
    Shelfline__V1__Ticket *again = get_ticket("t-sla-before");
    assert_int_equal(again->sla_policy_version, 0);
    assert_int_equal(again->first_response->target_minutes, target_fr);
    assert_int_equal(again->first_response->due_at_ms, due_fr);
    assert_int_equal(again->resolution->due_at_ms, due_rs);
    assert_int_equal(q("SELECT count(*) FROM service_desk.ticket WHERE sla_version = 1"), 1);

    /* a second change: version 2 for new tickets, 1 stays readable */
    b.p.business_hours = "Mon-Fri 08:00-20:00";
    assert_int_equal(set_policy(&b.p, &set, &err), SL_OK);
    assert_int_equal(set->version, 2);
    assert_int_equal(get_policy(1, &cur, &err), SL_OK);
    assert_string_equal(cur->business_hours, "Mon-Sun 00:00-24:00");
    after = get_ticket("t-sla-after");
    assert_int_equal(after->first_response->due_at_ms, WED_10_UTC + new_fr(prio) * 60000LL);
    Shelfline__V1__Ticket *later = open_ticket("t-sla-later", WED_10_UTC);
    assert_int_equal(later->sla_policy_version, 2);
    sl_arena_reset(A);
}

/* ---- the customer's language ---- */

static Shelfline__V1__Ticket *open_wismo(const char *id, const char *subject, const char *body)
{
    sl_err err;
    Shelfline__V1__OpenTicketRequest r = SHELFLINE__V1__OPEN_TICKET_REQUEST__INIT;
    r.ticket_id = (char *)id;
    r.customer_id = "cust-lang";
    r.order_id = "o-lang";
    r.channel = SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_WEB;
    r.subject = (char *)subject;
    r.body = (char *)body;
    Shelfline__V1__Ticket *t;
    assert_int_equal(sd("OpenTicket", &r, DESC(ticket), &t, &err), SL_OK);
    /* both get the live ETA as their answer */
    if (strcmp(t->category, "where_is_my_order") != 0 && strcmp(t->category, "delivery_delay") != 0)
        fail_msg("ticket %s classified %s", id, t->category);
    return t;
}

/* A where-is-my-order ticket is answered in the language it is written
 * in, with the order's live ETA (W-NEAR, Wednesday 10:00: p50 Thursday
 * 19, p90 Friday 20 November 2026) in that language's date form. */
static void test_wismo_answer_in_ticket_language(void **state)
{
    (void)state;
    place("o-lang", "SKU-CAL", WED_10_NY);
    Shelfline__V1__Ticket *t = open_wismo(
        "t-lang-fr", "Où est ma commande ?",
        "Bonjour, où est ma commande ? Je l'attends depuis une semaine et je n'ai aucune "
        "nouvelle de la livraison.");
    assert_string_equal(t->language, "fr");
    assert_string_equal(t->suggested_answer,
                        "Commande o-lang : livraison prévue le jeudi 19 novembre 2026, au plus "
                        "tard le vendredi 20 novembre 2026.");
    t = open_wismo("t-lang-ru", "Где мой заказ?",
                   "Здравствуйте, где мой заказ? Я жду его уже неделю, а посылки всё нет.");
    assert_string_equal(t->language, "ru");
    assert_string_equal(t->suggested_answer, "Заказ o-lang: доставка ожидается 19 ноября 2026 г., "
                                             "не позднее 20 ноября 2026 г.");
    assert_null(strstr(t->suggested_answer, "г.."));
    t = open_wismo("t-lang-zh", "我的订单在哪里？",
                   "你好，我的订单在哪里？已经等了一个星期了，还没有收到包裹。");
    assert_string_equal(t->language, "zh");
    assert_string_equal(
        t->suggested_answer,
        "订单 o-lang：预计2026年11月19日（星期四）送达，最晚2026年11月20日（星期五）。");
    t = open_wismo("t-lang-en", "Where is my order?",
                   "Hello, where is my order? I have been waiting for a week and have no news.");
    assert_string_equal(t->language, "en");
    assert_non_null(strstr(t->suggested_answer, "Order o-lang: "));
    assert_non_null(strstr(t->suggested_answer, "Delivery expected 2026-11-19, at the latest "
                                                "2026-11-20."));
    sl_arena_reset(A);
}

static sl_status place_backorder(const char *id, const char *language,
                                 Shelfline__V1__PlaceOrderResponse **out, sl_err *err)
{
    Shelfline__V1__OrderLineRequest l = SHELFLINE__V1__ORDER_LINE_REQUEST__INIT;
    Shelfline__V1__OrderLineRequest *lp[] = {&l};
    l.sku = "SKU-LANG";
    l.qty = 1;
    Shelfline__V1__PlaceOrderRequest r = SHELFLINE__V1__PLACE_ORDER_REQUEST__INIT;
    r.order_id = (char *)id;
    r.customer_id = "cust-lang";
    r.region = "EAST";
    r.lines = lp;
    r.n_lines = 1;
    r.allow_backorder = true;
    r.language = (char *)language;
    return sd("PlaceOrder", &r, DESC(place_order_response), out, err);
}

/* A delay notice is written in the language of the order's customer:
 * French for an order placed with language "fr-CA", English for one
 * without. */
static void test_delay_notice_in_customer_language(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__PlaceOrderResponse *r;
    assert_int_equal(place_backorder("o-lang-bad", "1fr", &r, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "language"));
    assert_int_equal(q("SELECT count(*) FROM service_desk.orders WHERE order_id = 'o-lang-bad'"),
                     0);
    /* an inbound three weeks from now: relative to the clock, never overdue */
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    ci.inbound_id = "IN-LANG";
    ci.sku = "SKU-LANG";
    ci.warehouse_id = "W-NEAR";
    ci.qty = 10;
    ci.expected_at_ms = now_ms + 21 * 86400000LL;
    assert_int_equal(inv_call("CreateInbound", &ci, DESC(inbound), NULL, &err), SL_OK);
    assert_int_equal(place_backorder("o-lang-fr", "fr-CA", &r, &err), SL_OK);
    assert_string_equal(r->order->language, "fr");
    assert_int_equal(place_backorder("o-lang-en", "", &r, &err), SL_OK);
    assert_string_equal(r->order->language, "en");

    Shelfline__V1__DelayInboundRequest d = SHELFLINE__V1__DELAY_INBOUND_REQUEST__INIT;
    d.inbound_id = "IN-LANG";
    d.new_expected_at_ms = now_ms + 28 * 86400000LL;
    d.reason = "supplier strike";
    assert_int_equal(inv_call("DelayInbound", &d, DESC(inbound), NULL, &err), SL_OK);
    const char *both = "SELECT count(*) FROM service_desk.notification WHERE kind = 'DELAY' "
                       "AND order_id IN ('o-lang-fr', 'o-lang-en')";
    int64_t t0 = invt_now_ms();
    while (q(both) < 2 && invt_now_ms() - t0 < 20000)
        invt_sleep_ms(100);
    assert_int_equal(q(both), 2);
    assert_int_equal(q("SELECT count(*) FROM service_desk.notification WHERE kind = 'DELAY' "
                       "AND order_id = 'o-lang-fr' AND body LIKE 'Votre commande o-lang-fr est "
                       "retardée : livraison prévue le % 20__ au lieu du % 20__, au plus tard le "
                       "% 20__. Motif : supplier strike.'"),
                     1);
    /* no English left in it */
    assert_int_equal(q("SELECT count(*) FROM service_desk.notification WHERE order_id = "
                       "'o-lang-fr' AND kind = 'DELAY' AND (body LIKE '%delayed%' OR body ~ "
                       "'(January|February|March|April|May|June|July|August|September|October|"
                       "November|December)')"),
                     0);
    assert_int_equal(q("SELECT count(*) FROM service_desk.notification WHERE kind = 'DELAY' "
                       "AND order_id = 'o-lang-en' AND body LIKE 'the shipment from W-NEAR was "
                       "delayed from %: supplier strike'"),
                     1);
    sl_arena_reset(A);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar_bad_input_names_the_field),
        cmocka_unit_test(test_calendar_read_back_and_kept),
        cmocka_unit_test(test_holiday_moves_etas_to_next_shipping_day),
        cmocka_unit_test(test_saturday_shipping_warehouse_ships_saturday),
        cmocka_unit_test(test_sla_policy_bad_input_names_the_field),
        cmocka_unit_test(test_sla_policy_applies_to_tickets_opened_after_it),
        cmocka_unit_test(test_wismo_answer_in_ticket_language),
        cmocka_unit_test(test_delay_notice_in_customer_language),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
