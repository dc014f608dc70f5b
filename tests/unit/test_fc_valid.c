/*
 * Unit tests of forecasting's request checks (fc_valid.c): each refusal
 * is INVALID_ARGUMENT with a message that starts with the field as the
 * client wrote it, on the suite's one id / region grammar (sl_valid);
 * "today" is a parameter, so the rules about past and future days are
 * tested without a clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fc_valid.h"

#define TODAY_S "2026-03-10"

static int32_t today(void)
{
    return fc_day_from_civil(2026, 3, 10);
}

/* st must be INVALID_ARGUMENT and err must start with field. */
static void refused(sl_status st, const sl_err *err, const char *field)
{
    if (st != SL_INVALID_ARGUMENT || strncmp(err->msg, field, strlen(field)) != 0)
        fprintf(stderr, "want INVALID_ARGUMENT starting with \"%s\", got %d \"%s\"\n", field,
                (int)st, err->msg);
    assert_int_equal(st, SL_INVALID_ARGUMENT);
    assert_memory_equal(err->msg, field, strlen(field));
}

/* Two good rows of RecordSales (a on today, b the day before). */
typedef struct sales_req {
    Shelfline__V1__RecordSalesRequest r;
    Shelfline__V1__SalesRow a, b, *rows[2];
    int32_t days[2];
    fc_row_key keys[2];
} sales_req;

static Shelfline__V1__RecordSalesRequest *sales(sales_req *s)
{
    shelfline__v1__record_sales_request__init(&s->r);
    shelfline__v1__sales_row__init(&s->a);
    s->a.sku = "SKU-B", s->a.region = "EAST", s->a.day = TODAY_S, s->a.units = 3;
    s->b = s->a;
    s->b.sku = "SKU-A", s->b.day = "2026-03-09";
    s->rows[0] = &s->a, s->rows[1] = &s->b;
    s->r.rows = s->rows;
    s->r.n_rows = 2;
    return &s->r;
}

static sl_status check_sales(sales_req *s, sl_err *err)
{
    return fc_valid_record_sales(&s->r, today(), s->days, s->keys, err);
}

static void test_sales_rows_name_the_row_and_field(void **state)
{
    (void)state;
    sales_req s;
    sl_err err;
    sales(&s);
    assert_int_equal(check_sales(&s, &err), SL_OK);
    /* days parsed, keys sorted by sku: SKU-A (row 1) first */
    assert_int_equal(s.days[0], today());
    assert_int_equal(s.days[1], today() - 1);
    assert_int_equal(s.keys[0].idx, 1);
    assert_string_equal(s.keys[0].sku, "SKU-A");
    sales(&s)->n_rows = 0;
    refused(check_sales(&s, &err), &err, "rows");
    sales(&s);
    s.b.units = -1;
    refused(check_sales(&s, &err), &err, "rows[1].units");
    sales(&s);
    s.b.region = "east";
    refused(check_sales(&s, &err), &err, "rows[1].region");
    sales(&s);
    s.a.sku = "";
    refused(check_sales(&s, &err), &err, "rows[0].sku");
    sales(&s);
    s.b.day = "2026-02-30";
    refused(check_sales(&s, &err), &err, "rows[1].day");
    sales(&s);
    s.b.day = "2026-03-11";
    refused(check_sales(&s, &err), &err, "rows[1].day");
    assert_non_null(strstr(err.msg, "in the future"));
    sales(&s);
    s.b.day = "2000-01-01";
    refused(check_sales(&s, &err), &err, "rows[1].day");
    assert_non_null(strstr(err.msg, "in the past"));
}

static void test_two_rows_of_one_series_on_one_day_are_refused(void **state)
{
    (void)state;
    sales_req s;
    sl_err err;
    sales(&s);
    s.b.sku = s.a.sku, s.b.day = s.a.day;
    refused(check_sales(&s, &err), &err, "rows[1] repeats");
    s.b.region = "WEST"; /* another series */
    assert_int_equal(check_sales(&s, &err), SL_OK);
}

static void test_hourly_rows_name_the_hour_field(void **state)
{
    (void)state;
    Shelfline__V1__HourlySalesRow a = SHELFLINE__V1__HOURLY_SALES_ROW__INIT, b;
    a.sku = "SKU-1", a.region = "EAST", a.day = "2026-03-09", a.hour = 3, a.units = 1;
    b = a;
    b.hour = 4;
    Shelfline__V1__HourlySalesRow *rows[] = {&a, &b};
    Shelfline__V1__RecordHourlySalesRequest r = SHELFLINE__V1__RECORD_HOURLY_SALES_REQUEST__INIT;
    r.rows = rows;
    r.n_rows = 2;
    int64_t now = (int64_t)today() * 86400000LL + 10 * 3600000LL, hours[2];
    fc_row_key keys[2];
    sl_err err;
    assert_int_equal(fc_valid_record_hourly_sales(&r, now, hours, keys, &err), SL_OK);
    assert_int_equal(hours[1], (int64_t)(today() - 1) * 86400000LL + 4 * 3600000LL);
    b.hour = 3;
    refused(fc_valid_record_hourly_sales(&r, now, hours, keys, &err), &err, "rows[1] repeats");
    b.hour = 24;
    refused(fc_valid_record_hourly_sales(&r, now, hours, keys, &err), &err, "rows[1].hour");
    b.hour = 0, b.day = "", b.hour_start_ms = now + 3600000LL - now % 3600000LL + 3600000LL;
    refused(fc_valid_record_hourly_sales(&r, now, hours, keys, &err), &err, "rows[1]");
    assert_non_null(strstr(err.msg, "future"));
    b.hour_start_ms = 1800000LL;
    refused(fc_valid_record_hourly_sales(&r, now, hours, keys, &err), &err,
            "rows[1].hour_start_ms");
}

static void test_events(void **state)
{
    (void)state;
    Shelfline__V1__CalendarEvent e = SHELFLINE__V1__CALENDAR_EVENT__INIT;
    Shelfline__V1__SetEventRequest r = SHELFLINE__V1__SET_EVENT_REQUEST__INIT;
    fc_event_row row;
    sl_err err;
    refused(fc_valid_set_event(&r, &row, &err), &err, "event");
    r.event = &e;
    e.event_id = "bf-2026", e.name = "Black Friday", e.kind = SHELFLINE__V1__EVENT_KIND__PROMOTION;
    e.start_day = "2026-11-27", e.end_day = "2026-11-30", e.sku = "SKU-1";
    e.promotion_id = "flash-1";
    assert_int_equal(fc_valid_set_event(&r, &row, &err), SL_OK);
    assert_int_equal(row.end_day - row.start_day, 3);
    assert_string_equal(row.promotion_id, "flash-1");
    assert_int_equal(fc_valid_set_event(&r, NULL, &err), SL_OK);
    e.kind = SHELFLINE__V1__EVENT_KIND__OTHER;
    refused(fc_valid_set_event(&r, &row, &err), &err, "event.promotion_id");
    e.promotion_id = "", e.end_day = "2026-11-26";
    refused(fc_valid_set_event(&r, &row, &err), &err, "event.end_day");
    e.end_day = "2026-11-30", e.kind = 0;
    refused(fc_valid_set_event(&r, &row, &err), &err, "event.kind");

    Shelfline__V1__ListEventsRequest l = SHELFLINE__V1__LIST_EVENTS_REQUEST__INIT;
    int32_t from, to;
    assert_int_equal(fc_valid_list_events(&l, &from, &to, &err), SL_OK);
    assert_int_equal(from, INT32_MIN);
    assert_int_equal(to, INT32_MAX);
    l.from_day = "2026-03-02", l.to_day = "2026-03-01";
    refused(fc_valid_list_events(&l, &from, &to, &err), &err, "to_day");
    l.to_day = "", l.sku = "a b";
    refused(fc_valid_list_events(&l, &from, &to, &err), &err, "sku");
}

static void test_forecast_plan_and_transfers(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__ForecastDemandRequest f = SHELFLINE__V1__FORECAST_DEMAND_REQUEST__INIT;
    f.sku = "SKU-1", f.region = "EAST", f.horizon_days = 28;
    assert_int_equal(fc_valid_forecast(&f, &err), SL_OK);
    f.horizon_days = 366;
    refused(fc_valid_forecast(&f, &err), &err, "horizon_days");
    f.horizon_days = 28, f.method = "magic";
    refused(fc_valid_forecast(&f, &err), &err, "method");

    Shelfline__V1__GetReplenishmentPlanRequest p =
        SHELFLINE__V1__GET_REPLENISHMENT_PLAN_REQUEST__INIT;
    p.sku = "SKU-1", p.region = "EAST", p.lead_time_days = 5;
    assert_int_equal(fc_valid_plan(&p, &err), SL_OK);
    p.warehouse_id = "W-1";
    refused(fc_valid_plan(&p, &err), &err, "exactly one of warehouse_id and region");
    p.warehouse_id = "", p.lead_time_days = 0;
    refused(fc_valid_plan(&p, &err), &err, "lead_time_days");
    p.supplier = "ACME"; /* a supplier's lead time may be learned */
    assert_int_equal(fc_valid_plan(&p, &err), SL_OK);
    p.service_level = 0.3;
    refused(fc_valid_plan(&p, &err), &err, "service_level");
    p.service_level = 0, p.pack_size = -1;
    refused(fc_valid_plan(&p, &err), &err, "pack_size");

    Shelfline__V1__SuggestTransfersRequest t = SHELFLINE__V1__SUGGEST_TRANSFERS_REQUEST__INIT;
    t.sku = "SKU-1";
    assert_int_equal(fc_valid_transfers(&t, &err), SL_OK);
    t.target_cover_days = 366;
    refused(fc_valid_transfers(&t, &err), &err, "target_cover_days");

    Shelfline__V1__GetInventoryKpisRequest k = SHELFLINE__V1__GET_INVENTORY_KPIS_REQUEST__INIT;
    k.category = "grocery", k.period_days = 30;
    assert_int_equal(fc_valid_kpis(&k, &err), SL_OK);
    k.sku = "SKU-1";
    refused(fc_valid_kpis(&k, &err), &err, "exactly one of sku and category");
    k.category = "", k.period_days = 6;
    refused(fc_valid_kpis(&k, &err), &err, "period_days");
}

static void test_override_periods_are_checked_against_today(void **state)
{
    (void)state;
    sl_err err;
    int32_t from, to;
    Shelfline__V1__DayPeriod p = SHELFLINE__V1__DAY_PERIOD__INIT;
    p.start_day = "2026-03-11", p.end_day = "2026-03-13";
    Shelfline__V1__SetForecastOverrideRequest s =
        SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__INIT;
    s.sku = "SKU-1", s.region = "EAST", s.period = &p, s.reason = "launch", s.author = "ann";
    refused(fc_valid_set_override(&s, today(), &from, &to, &err), &err, "exactly one of quantity");
    s.adjustment_case = SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT_UPLIFT;
    s.uplift = 2;
    assert_int_equal(fc_valid_set_override(&s, today(), &from, &to, &err), SL_OK);
    assert_int_equal(from, today() + 1);
    assert_int_equal(to, today() + 3);
    s.uplift = 101;
    refused(fc_valid_set_override(&s, today(), &from, &to, &err), &err, "uplift");
    s.uplift = 2, p.start_day = "2026-03-09";
    refused(fc_valid_set_override(&s, today(), &from, &to, &err), &err, "period.start_day");
    p.start_day = "2026-03-11", p.end_day = "2026-07-01"; /* more than 92 days */
    refused(fc_valid_set_override(&s, today(), &from, &to, &err), &err, "period.end_day");
    p.end_day = "2026-03-13", s.author = "";
    refused(fc_valid_set_override(&s, today(), &from, &to, &err), &err, "author");

    Shelfline__V1__RemoveForecastOverrideRequest r =
        SHELFLINE__V1__REMOVE_FORECAST_OVERRIDE_REQUEST__INIT;
    r.sku = "SKU-1", r.region = "EAST";
    refused(fc_valid_remove_override(&r, today(), &from, &to, &err), &err, "period");
    r.period = &p, p.end_day = "2027-01-10"; /* 306 days: a removal may span 365 */
    assert_int_equal(fc_valid_remove_override(&r, today(), &from, &to, &err), SL_OK);

    Shelfline__V1__ListForecastOverridesRequest l =
        SHELFLINE__V1__LIST_FORECAST_OVERRIDES_REQUEST__INIT;
    assert_int_equal(fc_valid_list_overrides(&l, today(), &from, &to, &err), SL_OK);
    assert_int_equal(from, today());
    assert_int_equal(to, today() + FC_OVERRIDE_AHEAD);
    l.period = &p, p.start_day = "2025-03-10", p.end_day = "2025-03-20"; /* the past is listed */
    assert_int_equal(fc_valid_list_overrides(&l, today(), &from, &to, &err), SL_OK);
    p.end_day = "2025-03-01";
    refused(fc_valid_list_overrides(&l, today(), &from, &to, &err), &err, "period.end_day");
    l.region = "east";
    refused(fc_valid_list_overrides(&l, today(), &from, &to, &err), &err, "region");
}

static void test_classes_targets_lead_times_and_alerts(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__GetForecastAccuracyRequest a =
        SHELFLINE__V1__GET_FORECAST_ACCURACY_REQUEST__INIT;
    a.window = 28;
    assert_int_equal(fc_valid_accuracy(&a, &err), SL_OK);
    a.window = 731;
    refused(fc_valid_accuracy(&a, &err), &err, "window");

    Shelfline__V1__ClassifySkusRequest c = SHELFLINE__V1__CLASSIFY_SKUS_REQUEST__INIT;
    c.period_days = 56;
    assert_int_equal(fc_valid_classify(&c, &err), SL_OK);
    c.b_share = 0.5, c.a_share = 0.6;
    refused(fc_valid_classify(&c, &err), &err, "b_share");
    c.a_share = c.b_share = 0, c.period_days = 27;
    refused(fc_valid_classify(&c, &err), &err, "period_days");

    Shelfline__V1__ListSkusByClassRequest l = SHELFLINE__V1__LIST_SKUS_BY_CLASS_REQUEST__INIT;
    l.abc = "C", l.xyz = "Z";
    assert_int_equal(fc_valid_list_classes(&l, &err), SL_OK);
    l.xyz = "W";
    refused(fc_valid_list_classes(&l, &err), &err, "xyz");

    Shelfline__V1__SetServiceLevelTargetRequest t =
        SHELFLINE__V1__SET_SERVICE_LEVEL_TARGET_REQUEST__INIT;
    t.class_code = "AX", t.service_level = 0.99;
    assert_int_equal(fc_valid_set_target(&t, &err), SL_OK);
    t.class_code = "XA";
    refused(fc_valid_set_target(&t, &err), &err, "class_code");

    Shelfline__V1__GetLeadTimesRequest g = SHELFLINE__V1__GET_LEAD_TIMES_REQUEST__INIT;
    assert_int_equal(fc_valid_lead_times(&g, &err), SL_OK);
    g.warehouse_id = "W 1";
    refused(fc_valid_lead_times(&g, &err), &err, "warehouse_id");

    Shelfline__V1__WatchAlertsRequest w = SHELFLINE__V1__WATCH_ALERTS_REQUEST__INIT;
    assert_int_equal(fc_valid_watch_alerts(&w, &err), SL_OK);
    w.after_id = -1;
    refused(fc_valid_watch_alerts(&w, &err), &err, "after_id");
}

/* The slots the dispatcher calls take the message as the table passes
 * it, and refuse as the typed checks do. */
static void test_table_slots_refuse_like_the_checks(void **state)
{
    (void)state;
    sl_err err;
    sales_req s;
    sales(&s)->n_rows = 0;
    refused(fc_valid_record_sales_request(&s.r.base, &err), &err, "rows");
    Shelfline__V1__WatchAlertsRequest w = SHELFLINE__V1__WATCH_ALERTS_REQUEST__INIT;
    w.after_id = -5;
    refused(fc_valid_watch_alerts_request(&w.base, &err), &err, "after_id");
    Shelfline__V1__ForecastDemandRequest f = SHELFLINE__V1__FORECAST_DEMAND_REQUEST__INIT;
    f.sku = "SKU-1", f.region = "EAST", f.horizon_days = 7;
    assert_int_equal(fc_valid_forecast_request(&f.base, &err), SL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sales_rows_name_the_row_and_field),
        cmocka_unit_test(test_two_rows_of_one_series_on_one_day_are_refused),
        cmocka_unit_test(test_hourly_rows_name_the_hour_field),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_forecast_plan_and_transfers),
        cmocka_unit_test(test_override_periods_are_checked_against_today),
        cmocka_unit_test(test_classes_targets_lead_times_and_alerts),
        cmocka_unit_test(test_table_slots_refuse_like_the_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
