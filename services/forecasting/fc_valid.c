/*
 * fc_valid: days and the request checks (see fc_valid.h).  Civil-date
 * conversion after Howard Hinnant's days_from_civil / civil_from_days.
 */
#include "fc_valid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fc_class.h"
#include "fc_engine.h"
#include "sl_date.h"
#include "sl_page.h"
#include "sl_valid.h"

int32_t fc_day_from_civil(int y, int m, int d)
{
    return (int32_t)sl_days_from_civil(y, m, d);
}

void fc_day_format(int32_t day, char *buf, size_t cap)
{
    int y, m, d;
    sl_civil_from_days(day, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
}

char *fc_day_dup(sl_arena *a, int32_t day)
{
    char *s = sl_arena_alloc(a, 16);
    if (s != NULL)
        fc_day_format(day, s, 16);
    return s;
}

int32_t fc_day_min(void)
{
    return fc_day_from_civil(1900, 1, 1);
}

int32_t fc_day_max(void)
{
    return fc_day_from_civil(2999, 12, 31);
}

sl_status fc_day_parse(const char *field, const char *s, int32_t *day, sl_err *err)
{
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        goto bad;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            goto bad;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1)
        goto bad;
    int32_t n = fc_day_from_civil(y, m, d);
    int y2, m2, d2;
    sl_civil_from_days(n, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)
        goto bad;
    *day = n;
    return SL_OK;
bad:
    return sl_err_field(err, field, "%s must be a date \"YYYY-MM-DD\", got \"%.40s\"", field,
                        s != NULL ? s : "");
}

sl_status fc_hour_parse(const char *prefix, int64_t hour_start_ms, const char *day, int32_t hour,
                        int64_t *out, sl_err *err)
{
    bool by_day = day != NULL && day[0] != '\0';
    if (hour_start_ms != 0 && by_day)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "%s.hour_start_ms and %s.day are exclusive: set one", prefix, prefix);
    if (hour_start_ms != 0) {
        if (hour_start_ms < 0 || hour_start_ms % 3600000 != 0)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "%s.hour_start_ms must be the start of an hour (a positive "
                              "multiple of 3600000), got %lld",
                              prefix, (long long)hour_start_ms);
        if (hour != 0)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "%s.hour must be 0 with %s.hour_start_ms, got %d", prefix, prefix,
                              (int)hour);
        *out = hour_start_ms;
        return SL_OK;
    }
    if (!by_day)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s.hour_start_ms or %s.day is required",
                          prefix, prefix);
    char f[64];
    snprintf(f, sizeof f, "%s.day", prefix);
    int32_t d;
    sl_status st = fc_day_parse(f, day, &d, err);
    if (st != SL_OK)
        return st;
    if (hour < 0 || hour > 23)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s.hour must be in 0..23, got %d", prefix,
                          (int)hour);
    *out = (int64_t)d * 86400000LL + (int64_t)hour * 3600000LL;
    return SL_OK;
}

int32_t fc_day_today(void)
{
    return (int32_t)(time(NULL) / 86400);
}

int64_t fc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fc_day_weekday(int32_t day)
{
    /* 1970-01-01 was a Thursday (3 counting from Monday = 0). */
    int w = (int)((day + 3) % 7);
    return w < 0 ? w + 7 : w;
}

/* The grammar is the suite's (sl_valid.h); allow_empty makes the id an
 * optional filter. */

sl_status fc_valid_id(const char *field, const char *s, bool allow_empty, sl_err *err)
{
    return allow_empty ? sl_valid_opt_id(field, s, SL_ID, err) : sl_valid_id(field, s, SL_ID, err);
}

sl_status fc_valid_region(const char *field, const char *s, bool allow_empty, sl_err *err)
{
    return allow_empty ? sl_valid_opt_id(field, s, SL_ID_REGION, err)
                       : sl_valid_id(field, s, SL_ID_REGION, err);
}

sl_status fc_valid_text(const char *field, const char *s, size_t max, sl_err *err)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return sl_err_field(err, field, "%s must be 1..%zu bytes, got %zu", field, max, n);
    return SL_OK;
}

sl_status fc_valid_period(const char *prefix, const char *start_day, const char *end_day,
                          int32_t today, int max_days, int ahead, int32_t *from, int32_t *to,
                          sl_err *err)
{
    char f[64];
    snprintf(f, sizeof f, "%s.start_day", prefix);
    sl_status st = fc_day_parse(f, start_day, from, err);
    if (st != SL_OK)
        return st;
    if (*from < today)
        return sl_err_field(err, f, "%s must not be before today (\"%s\")", f, start_day);
    snprintf(f, sizeof f, "%s.end_day", prefix);
    if ((st = fc_day_parse(f, end_day, to, err)) != SL_OK)
        return st;
    if (*to < *from || *to - *from >= max_days)
        return sl_err_field(err, f, "%s must be 0..%d days after %s.start_day", f, max_days - 1,
                            prefix);
    if (*to - today > ahead)
        return sl_err_field(err, f, "%s must be at most %d days after today", f, ahead);
    return SL_OK;
}

/* ---- whole requests ---- */

static sl_status check_range(const char *field, double v, double lo, double hi, sl_err *err)
{
    if (!isfinite(v) || v < lo || v > hi)
        return sl_err_field(err, field, "%s must be in %g..%g, got %g", field, lo, hi, v);
    return SL_OK;
}

static int cmp_key(const void *pa, const void *pb)
{
    const fc_row_key *a = pa, *b = pb;
    int c = strcmp(a->sku, b->sku);
    if (c == 0)
        c = strcmp(a->region, b->region);
    if (c == 0)
        c = (a->at > b->at) - (a->at < b->at);
    if (c == 0)
        c = (a->idx > b->idx) - (a->idx < b->idx);
    return c;
}

sl_status fc_valid_row_count(size_t n, sl_err *err)
{
    if (n == 0)
        return sl_err_field(err, "rows", "rows must hold at least one row");
    if (n > FC_MAX_ROWS)
        return sl_err_field(err, "rows", "rows holds %zu rows, at most %d allowed", n, FC_MAX_ROWS);
    return SL_OK;
}

static sl_status valid_row_series(size_t i, const char *sku, const char *region, sl_err *err)
{
    char f[48];
    snprintf(f, sizeof f, "rows[%zu].sku", i);
    sl_status st = fc_valid_id(f, sku, false, err);
    if (st != SL_OK)
        return st;
    snprintf(f, sizeof f, "rows[%zu].region", i);
    return fc_valid_region(f, region, false, err);
}

static sl_status valid_row_units(size_t i, int64_t units, sl_err *err)
{
    if (units < 0 || units > FC_MAX_UNITS)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "rows[%zu].units must be in 0..%lld, got %lld",
                          i, FC_MAX_UNITS, (long long)units);
    return SL_OK;
}

/* Sorts keys and refuses two rows of one series at the same time; unit
 * ("day", "hour") names that time in the message. */
static sl_status sort_unique(fc_row_key *keys, size_t n, const char *unit, sl_err *err)
{
    qsort(keys, n, sizeof *keys, cmp_key);
    for (size_t i = 1; i < n; i++)
        if (strcmp(keys[i].sku, keys[i - 1].sku) == 0 &&
            strcmp(keys[i].region, keys[i - 1].region) == 0 && keys[i].at == keys[i - 1].at)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "rows[%zu] repeats the sku, region and %s of rows[%zu]", keys[i].idx,
                              unit, keys[i - 1].idx);
    return SL_OK;
}

sl_status fc_valid_record_sales(const Shelfline__V1__RecordSalesRequest *r, int32_t today,
                                int32_t *days, fc_row_key *keys, sl_err *err)
{
    sl_status st = fc_valid_row_count(r->n_rows, err);
    if (st != SL_OK)
        return st;
    for (size_t i = 0; i < r->n_rows; i++) {
        const Shelfline__V1__SalesRow *row = r->rows[i];
        char f[48];
        if ((st = valid_row_series(i, row->sku, row->region, err)) != SL_OK)
            return st;
        snprintf(f, sizeof f, "rows[%zu].day", i);
        if ((st = fc_day_parse(f, row->day, &days[i], err)) != SL_OK)
            return st;
        if (days[i] > today)
            return sl_err_field(err, f, "%s \"%s\" is in the future", f, row->day);
        if (days[i] < today - FC_MAX_AGE_DAYS)
            return sl_err_field(err, f, "%s \"%s\" is more than %d days in the past", f, row->day,
                                FC_MAX_AGE_DAYS);
        if ((st = valid_row_units(i, row->units, err)) != SL_OK)
            return st;
        keys[i] = (fc_row_key){row->sku, row->region, days[i], i};
    }
    return sort_unique(keys, r->n_rows, "day", err);
}

sl_status fc_valid_record_hourly_sales(const Shelfline__V1__RecordHourlySalesRequest *r,
                                       int64_t now_ms, int64_t *hours, fc_row_key *keys,
                                       sl_err *err)
{
    sl_status st = fc_valid_row_count(r->n_rows, err);
    if (st != SL_OK)
        return st;
    int32_t today = (int32_t)(now_ms / 86400000LL);
    for (size_t i = 0; i < r->n_rows; i++) {
        const Shelfline__V1__HourlySalesRow *row = r->rows[i];
        char f[48];
        if ((st = valid_row_series(i, row->sku, row->region, err)) != SL_OK)
            return st;
        snprintf(f, sizeof f, "rows[%zu]", i);
        if ((st = fc_hour_parse(f, row->hour_start_ms, row->day, row->hour, &hours[i], err)) !=
            SL_OK)
            return st;
        if (hours[i] > now_ms)
            return sl_err_set(err, SL_INVALID_ARGUMENT, "rows[%zu] names an hour in the future", i);
        if (hours[i] < (int64_t)(today - FC_MAX_AGE_DAYS) * 86400000LL)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "rows[%zu] names an hour more than %d days in the past", i,
                              FC_MAX_AGE_DAYS);
        if ((st = valid_row_units(i, row->units, err)) != SL_OK)
            return st;
        keys[i] = (fc_row_key){row->sku, row->region, hours[i], i};
    }
    return sort_unique(keys, r->n_rows, "hour", err);
}

sl_status fc_valid_set_event(const Shelfline__V1__SetEventRequest *r, fc_event_row *row,
                             sl_err *err)
{
    const Shelfline__V1__CalendarEvent *e = r->event;
    fc_event_row scratch;
    if (row == NULL)
        row = &scratch;
    if (e == NULL)
        return sl_err_field(err, "event", "event is required");
    sl_status st = fc_valid_id("event.event_id", e->event_id, false, err);
    if (st != SL_OK)
        return st;
    size_t nl = strlen(e->name);
    if (nl == 0 || nl > 200)
        return sl_err_field(err, "event.name", "event.name must be 1..200 characters");
    if (e->kind < SHELFLINE__V1__EVENT_KIND__BLACK_FRIDAY ||
        e->kind > SHELFLINE__V1__EVENT_KIND__OTHER)
        return sl_err_field(err, "event.kind", "event.kind must be set (1..7), got %d",
                            (int)e->kind);
    if ((st = fc_day_parse("event.start_day", e->start_day, &row->start_day, err)) != SL_OK ||
        (st = fc_day_parse("event.end_day", e->end_day, &row->end_day, err)) != SL_OK)
        return st;
    if (row->end_day < row->start_day || row->end_day - row->start_day > 92)
        return sl_err_field(err, "event.end_day",
                            "event.end_day must be 0..92 days after event.start_day");
    if ((st = fc_valid_id("event.sku", e->sku, true, err)) != SL_OK ||
        (st = fc_valid_region("event.region", e->region, true, err)) != SL_OK ||
        (st = fc_valid_id("event.promotion_id", e->promotion_id, true, err)) != SL_OK)
        return st;
    /* A quota caps one SKU's promotion: on any other event it would cap
     * demand it does not fence. */
    if (e->promotion_id[0] != '\0' &&
        (e->kind != SHELFLINE__V1__EVENT_KIND__PROMOTION || e->sku[0] == '\0'))
        return sl_err_field(err, "event.promotion_id",
                            "event.promotion_id is allowed only on a PROMOTION event with a sku");
    row->event_id = e->event_id;
    row->name = e->name;
    row->kind = (int)e->kind;
    row->sku = e->sku;
    row->region = e->region;
    row->promotion_id = e->promotion_id;
    return SL_OK;
}

sl_status fc_valid_list_events(const Shelfline__V1__ListEventsRequest *r, int32_t *from,
                               int32_t *to, sl_err *err)
{
    sl_status st;
    *from = INT32_MIN;
    *to = INT32_MAX;
    if (r->from_day[0] != '\0' && (st = fc_day_parse("from_day", r->from_day, from, err)) != SL_OK)
        return st;
    if (r->to_day[0] != '\0' && (st = fc_day_parse("to_day", r->to_day, to, err)) != SL_OK)
        return st;
    if (*from != INT32_MIN && *to != INT32_MAX && *to < *from)
        return sl_err_field(err, "to_day", "to_day must not be before from_day");
    return fc_valid_id("sku", r->sku, true, err);
}

sl_status fc_valid_forecast(const Shelfline__V1__ForecastDemandRequest *r, sl_err *err)
{
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, false, err)) != SL_OK ||
        (st = fc_valid_region("region", r->region, false, err)) != SL_OK)
        return st;
    if (r->horizon_days < 1 || r->horizon_days > FC_MAX_HORIZON)
        return sl_err_field(err, "horizon_days", "horizon_days must be in 1..%d, got %d",
                            FC_MAX_HORIZON, r->horizon_days);
    fc_method m;
    if (r->method[0] != '\0' && (st = fc_method_parse(r->method, &m, err)) != SL_OK) {
        sl_err_wrap(err, "method");
        return st;
    }
    return SL_OK;
}

sl_status fc_valid_plan(const Shelfline__V1__GetReplenishmentPlanRequest *r, sl_err *err)
{
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, false, err)) != SL_OK)
        return st;
    bool by_wh = r->warehouse_id[0] != '\0', by_region = r->region[0] != '\0';
    if (by_wh == by_region)
        return sl_err_field(err, "warehouse_id",
                            "exactly one of warehouse_id and region must be set");
    if ((by_wh && (st = fc_valid_id("warehouse_id", r->warehouse_id, false, err)) != SL_OK) ||
        (by_region && (st = fc_valid_region("region", r->region, false, err)) != SL_OK))
        return st;
    bool by_supplier = r->supplier[0] != '\0';
    if (strlen(r->supplier) > 200)
        return sl_err_field(err, "supplier", "supplier must be at most 200 bytes");
    if ((r->service_level != 0 &&
         (st = check_range("service_level", r->service_level, 0.5, 0.9999, err)) != SL_OK) ||
        ((!by_supplier || r->lead_time_days != 0) &&
         (st = check_range("lead_time_days", r->lead_time_days, 1, 365, err)) != SL_OK) ||
        (st = check_range("lead_time_stddev_days", r->lead_time_stddev_days, 0, 365, err)) !=
            SL_OK ||
        (st = check_range("review_period_days", r->review_period_days, 0, 365, err)) != SL_OK)
        return st;
    if (r->moq < 0 || r->moq > 1000000000)
        return sl_err_field(err, "moq", "moq must be in 0..1000000000, got %lld",
                            (long long)r->moq);
    if (r->pack_size < 0 || r->pack_size > 1000000)
        return sl_err_field(err, "pack_size", "pack_size must be in 0..1000000, got %lld",
                            (long long)r->pack_size);
    return SL_OK;
}

sl_status fc_valid_transfers(const Shelfline__V1__SuggestTransfersRequest *r, sl_err *err)
{
    sl_status st = fc_valid_id("sku", r->sku, false, err);
    if (st != SL_OK)
        return st;
    if (r->target_cover_days < 0 || r->target_cover_days > 365)
        return sl_err_field(err, "target_cover_days", "target_cover_days must be in 0..365, got %d",
                            r->target_cover_days);
    return SL_OK;
}

sl_status fc_valid_kpis(const Shelfline__V1__GetInventoryKpisRequest *r, sl_err *err)
{
    sl_status st;
    bool by_sku = r->sku[0] != '\0', by_cat = r->category[0] != '\0';
    if (by_sku == by_cat)
        return sl_err_field(err, "sku", "exactly one of sku and category must be set");
    if (by_sku && (st = fc_valid_id("sku", r->sku, false, err)) != SL_OK)
        return st;
    if (by_cat && strlen(r->category) > 64)
        return sl_err_field(err, "category", "category is longer than 64 characters");
    int limit;
    char after[256];
    if (by_cat && (st = sl_page_read(r->page, &limit, after, sizeof after, err)) != SL_OK)
        return st;
    if (r->period_days < 7 || r->period_days > 730)
        return sl_err_field(err, "period_days", "period_days must be in 7..730, got %d",
                            r->period_days);
    return SL_OK;
}

sl_status fc_valid_set_override(const Shelfline__V1__SetForecastOverrideRequest *r, int32_t today,
                                int32_t *from, int32_t *to, sl_err *err)
{
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, false, err)) != SL_OK ||
        (st = fc_valid_region("region", r->region, false, err)) != SL_OK)
        return st;
    if (r->period == NULL)
        return sl_err_field(err, "period", "period is required");
    if ((st = fc_valid_period("period", r->period->start_day, r->period->end_day, today,
                              FC_OVERRIDE_MAX_DAYS, FC_OVERRIDE_AHEAD, from, to, err)) != SL_OK)
        return st;
    switch (r->adjustment_case) {
    case SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT_QUANTITY:
        if (!isfinite(r->quantity) || r->quantity < 0 || r->quantity > FC_OVERRIDE_MAX_QUANTITY)
            return sl_err_field(err, "quantity", "quantity must be in 0..%g, got %g",
                                FC_OVERRIDE_MAX_QUANTITY, r->quantity);
        break;
    case SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT_UPLIFT:
        if (!isfinite(r->uplift) || r->uplift < 0 || r->uplift > FC_OVERRIDE_MAX_UPLIFT)
            return sl_err_field(err, "uplift", "uplift must be in 0..%g, got %g",
                                FC_OVERRIDE_MAX_UPLIFT, r->uplift);
        break;
    case SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT__NOT_SET:
    case _SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT__CASE_IS_INT_SIZE:
        return sl_err_field(err, "quantity", "exactly one of quantity and uplift must be set");
    }
    if ((st = fc_valid_text("reason", r->reason, 500, err)) != SL_OK ||
        (st = fc_valid_text("author", r->author, 200, err)) != SL_OK)
        return st;
    return SL_OK;
}

/* The listing's period: both days, end not before start, at most
 * FC_OVERRIDE_LIST_DAYS, between FC_MAX_AGE_DAYS back and
 * FC_OVERRIDE_AHEAD ahead. */
static sl_status list_period(const Shelfline__V1__DayPeriod *p, int32_t today, int32_t *from,
                             int32_t *to, sl_err *err)
{
    if (p == NULL) {
        *from = today;
        *to = today + FC_OVERRIDE_AHEAD;
        return SL_OK;
    }
    sl_status st;
    if ((st = fc_day_parse("period.start_day", p->start_day, from, err)) != SL_OK ||
        (st = fc_day_parse("period.end_day", p->end_day, to, err)) != SL_OK)
        return st;
    if (*from < today - FC_MAX_AGE_DAYS || *from > today + FC_OVERRIDE_AHEAD)
        return sl_err_field(err, "period.start_day",
                            "period.start_day must be between %d days back and %d days ahead",
                            FC_MAX_AGE_DAYS, FC_OVERRIDE_AHEAD);
    if (*to < *from || *to - *from >= FC_OVERRIDE_LIST_DAYS)
        return sl_err_field(err, "period.end_day",
                            "period.end_day must be 0..%d days after period.start_day",
                            FC_OVERRIDE_LIST_DAYS - 1);
    if (*to > today + FC_OVERRIDE_AHEAD)
        return sl_err_field(err, "period.end_day",
                            "period.end_day must be at most %d days after today",
                            FC_OVERRIDE_AHEAD);
    return SL_OK;
}

sl_status fc_valid_list_overrides(const Shelfline__V1__ListForecastOverridesRequest *r,
                                  int32_t today, int32_t *from, int32_t *to, sl_err *err)
{
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, true, err)) != SL_OK ||
        (st = fc_valid_region("region", r->region, true, err)) != SL_OK)
        return st;
    return list_period(r->period, today, from, to, err);
}

sl_status fc_valid_remove_override(const Shelfline__V1__RemoveForecastOverrideRequest *r,
                                   int32_t today, int32_t *from, int32_t *to, sl_err *err)
{
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, false, err)) != SL_OK ||
        (st = fc_valid_region("region", r->region, false, err)) != SL_OK)
        return st;
    if (r->period == NULL)
        return sl_err_field(err, "period", "period is required");
    return fc_valid_period("period", r->period->start_day, r->period->end_day, today,
                           FC_OVERRIDE_REMOVE_DAYS, FC_OVERRIDE_AHEAD, from, to, err);
}

sl_status fc_valid_accuracy(const Shelfline__V1__GetForecastAccuracyRequest *r, sl_err *err)
{
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, true, err)) != SL_OK ||
        (st = fc_valid_region("region", r->region, true, err)) != SL_OK)
        return st;
    if (r->window < 7 || r->window > 730)
        return sl_err_field(err, "window", "window must be in 7..730, got %d", r->window);
    return SL_OK;
}

sl_status fc_valid_classify(const Shelfline__V1__ClassifySkusRequest *r, sl_err *err)
{
    sl_status st;
    if ((st = fc_valid_region("region", r->region, true, err)) != SL_OK)
        return st;
    if (r->period_days < 28 || r->period_days > 730)
        return sl_err_field(err, "period_days", "period_days must be in 28..730, got %d",
                            r->period_days);
    fc_class_opts opts = {r->a_share, r->b_share, r->x_cv, r->y_cv};
    return fc_class_opts_check(&opts, err);
}

sl_status fc_valid_list_classes(const Shelfline__V1__ListSkusByClassRequest *r, sl_err *err)
{
    sl_status st;
    if ((st = fc_valid_region("region", r->region, true, err)) != SL_OK)
        return st;
    if (r->abc[0] != '\0' && (r->abc[1] != '\0' || r->abc[0] < 'A' || r->abc[0] > 'C'))
        return sl_err_field(err, "abc", "abc must be \"A\", \"B\", \"C\" or empty");
    if (r->xyz[0] != '\0' && (r->xyz[1] != '\0' || r->xyz[0] < 'X' || r->xyz[0] > 'Z'))
        return sl_err_field(err, "xyz", "xyz must be \"X\", \"Y\", \"Z\" or empty");
    return SL_OK;
}

sl_status fc_valid_set_target(const Shelfline__V1__SetServiceLevelTargetRequest *r, sl_err *err)
{
    sl_status st;
    char abc, xyz;
    if ((st = fc_valid_region("region", r->region, true, err)) != SL_OK)
        return st;
    if (!fc_class_parse(r->class_code, &abc, &xyz))
        return sl_err_field(err, "class_code",
                            "class_code must be A, B or C followed by X, Y or Z, got \"%s\"",
                            r->class_code);
    if (!isfinite(r->service_level) || r->service_level < 0.5 || r->service_level > 0.9999)
        return sl_err_field(err, "service_level", "service_level must be in 0.5..0.9999, got %g",
                            r->service_level);
    return SL_OK;
}

sl_status fc_valid_lead_times(const Shelfline__V1__GetLeadTimesRequest *r, sl_err *err)
{
    if (strlen(r->supplier) > 200)
        return sl_err_field(err, "supplier", "supplier must be at most 200 bytes");
    return fc_valid_id("warehouse_id", r->warehouse_id, true, err);
}

sl_status fc_valid_watch_alerts(const Shelfline__V1__WatchAlertsRequest *r, sl_err *err)
{
    if (r->after_id < 0)
        return sl_err_field(err, "after_id", "after_id must not be negative");
    return SL_OK;
}

/* ---- the method table's validate slots ---- */

/* The sales checks need room for the rows' days (hours) and sorted keys:
 * the slot takes it from the heap, after the row count is known to be
 * within FC_MAX_ROWS, and gives it back. */
sl_status fc_valid_record_sales_request(const ProtobufCMessage *req, sl_err *err)
{
    const Shelfline__V1__RecordSalesRequest *r = (const Shelfline__V1__RecordSalesRequest *)req;
    sl_status st = fc_valid_row_count(r->n_rows, err);
    if (st != SL_OK)
        return st;
    int32_t *days = sl_malloc(r->n_rows * sizeof *days);
    fc_row_key *keys = sl_malloc(r->n_rows * sizeof *keys);
    st = days != NULL && keys != NULL ? fc_valid_record_sales(r, fc_day_today(), days, keys, err)
                                      : sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    free(keys);
    free(days);
    return st;
}

sl_status fc_valid_record_hourly_sales_request(const ProtobufCMessage *req, sl_err *err)
{
    const Shelfline__V1__RecordHourlySalesRequest *r =
        (const Shelfline__V1__RecordHourlySalesRequest *)req;
    sl_status st = fc_valid_row_count(r->n_rows, err);
    if (st != SL_OK)
        return st;
    int64_t *hours = sl_malloc(r->n_rows * sizeof *hours);
    fc_row_key *keys = sl_malloc(r->n_rows * sizeof *keys);
    st = hours != NULL && keys != NULL
             ? fc_valid_record_hourly_sales(r, fc_now_ms(), hours, keys, err)
             : sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    free(keys);
    free(hours);
    return st;
}

sl_status fc_valid_set_event_request(const ProtobufCMessage *req, sl_err *err)
{
    return fc_valid_set_event((const Shelfline__V1__SetEventRequest *)req, NULL, err);
}

sl_status fc_valid_list_events_request(const ProtobufCMessage *req, sl_err *err)
{
    int32_t from, to;
    return fc_valid_list_events((const Shelfline__V1__ListEventsRequest *)req, &from, &to, err);
}

sl_status fc_valid_forecast_request(const ProtobufCMessage *req, sl_err *err)
{
    return fc_valid_forecast((const Shelfline__V1__ForecastDemandRequest *)req, err);
}

sl_status fc_valid_plan_request(const ProtobufCMessage *req, sl_err *err)
{
    return fc_valid_plan((const Shelfline__V1__GetReplenishmentPlanRequest *)req, err);
}

sl_status fc_valid_transfers_request(const ProtobufCMessage *req, sl_err *err)
{
    return fc_valid_transfers((const Shelfline__V1__SuggestTransfersRequest *)req, err);
}

sl_status fc_valid_kpis_request(const ProtobufCMessage *req, sl_err *err)
{
    return fc_valid_kpis((const Shelfline__V1__GetInventoryKpisRequest *)req, err);
}

sl_status fc_valid_set_override_request(const ProtobufCMessage *req, sl_err *err)
{
    int32_t from, to;
    return fc_valid_set_override((const Shelfline__V1__SetForecastOverrideRequest *)req,
                                 fc_day_today(), &from, &to, err);
}

sl_status fc_valid_list_overrides_request(const ProtobufCMessage *req, sl_err *err)
{
    int32_t from, to;
    return fc_valid_list_overrides((const Shelfline__V1__ListForecastOverridesRequest *)req,
                                   fc_day_today(), &from, &to, err);
}

sl_status fc_valid_remove_override_request(const ProtobufCMessage *req, sl_err *err)
{
    int32_t from, to;
    return fc_valid_remove_override((const Shelfline__V1__RemoveForecastOverrideRequest *)req,
                                    fc_day_today(), &from, &to, err);
}

sl_status fc_valid_accuracy_request(const ProtobufCMessage *req, sl_err *err)
{
    return fc_valid_accuracy((const Shelfline__V1__GetForecastAccuracyRequest *)req, err);
}

sl_status fc_valid_classify_request(const ProtobufCMessage *req, sl_err *err)
{
    return fc_valid_classify((const Shelfline__V1__ClassifySkusRequest *)req, err);
}

sl_status fc_valid_list_classes_request(const ProtobufCMessage *req, sl_err *err)
{
    return fc_valid_list_classes((const Shelfline__V1__ListSkusByClassRequest *)req, err);
}

sl_status fc_valid_set_target_request(const ProtobufCMessage *req, sl_err *err)
{
    return fc_valid_set_target((const Shelfline__V1__SetServiceLevelTargetRequest *)req, err);
}

sl_status fc_valid_lead_times_request(const ProtobufCMessage *req, sl_err *err)
{
    return fc_valid_lead_times((const Shelfline__V1__GetLeadTimesRequest *)req, err);
}

sl_status fc_valid_watch_alerts_request(const ProtobufCMessage *req, sl_err *err)
{
    return fc_valid_watch_alerts((const Shelfline__V1__WatchAlertsRequest *)req, err);
}
