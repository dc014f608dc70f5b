/*
 * fc_api_override: planner overrides and their tracked accuracy --
 * SetForecastOverride, ListForecastOverrides, RemoveForecastOverride and
 * GetForecastAccuracy.
 *
 * An override is stored day by day (forecast_override) and applied by
 * fc_demand_run to every forecast of its days, so plans, transfers and
 * the sales check use it without knowing about it.  What the forecast was
 * when it was issued, statistical and overridden, is kept per day
 * (issued_forecast, by ForecastDemand and here); GetForecastAccuracy
 * scores those figures against the sales recorded since (fc_accuracy.c).
 * Scoring what was issued rather than re-forecasting the past is the
 * point: a re-run would use history the forecaster did not have.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_accuracy.h"
#include "fc_app.h"
#include "fc_valid.h"

#define OVERRIDE_MAX_DAYS 92
#define OVERRIDE_AHEAD 364 /* the last day ForecastDemand's 365-day horizon reaches */
#define MAX_QUANTITY 1e8
#define MAX_UPLIFT 100.0
#define ACC_MAX_PAIRS 1000
#define ACC_MAX_ROWS 200000
#define SCALE_DAYS 365 /* history before the window behind a series' MASE scale */

/* ---- SetForecastOverride ---- */

typedef struct override_ctx {
    const Shelfline__V1__SetForecastOverrideRequest *r;
    int32_t from, to;
    const char *kind;
    double value;
    sl_arena *a;
    /* out */
    int changed;
    fc_demand d;
    bool have_forecast;
} override_ctx;

/* One transaction: the overrides, then the forecast of the period with
 * them applied, stored as issued (so the record shows what the planner
 * saw when overriding). */
static sl_status override_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    override_ctx *c = p;
    const Shelfline__V1__SetForecastOverrideRequest *r = c->r;
    fc_demand_free(&c->d);
    c->changed = 0;
    c->have_forecast = false;
    sl_status st = SL_OK;
    for (int32_t day = c->from; st == SL_OK && day <= c->to; day++) {
        bool ch = false;
        st = fc_store_override_set(conn, r->sku, r->region, day, c->kind, c->value, r->reason,
                                   r->author, &ch, err);
        c->changed += ch;
    }
    if (st != SL_OK)
        return st;
    int32_t today = fc_day_today();
    int horizon = c->to - today + 1;
    sl_err e2;
    st = fc_demand_run(conn, r->sku, r->region, horizon, NULL, c->a, &c->d, &e2);
    size_t n = (size_t)(c->to - c->from + 1), off = (size_t)(c->from - today);
    if (st == SL_NOT_FOUND) {
        /* A product without history (a launch): the planner's figure is
         * the forecast; the model's is zero. */
        double *zero = sl_arena_zalloc(c->a, n * sizeof *zero);
        double *fin = sl_arena_alloc(c->a, n * sizeof *fin);
        uint8_t *ovr = sl_arena_alloc(c->a, n);
        if (zero == NULL || fin == NULL || ovr == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        for (size_t i = 0; i < n; i++) {
            fin[i] = strcmp(c->kind, "uplift") == 0 ? 0.0 : c->value;
            ovr[i] = 1;
        }
        return fc_store_issue(conn, r->sku, r->region, today, c->from, n, zero, fin, ovr, c->a,
                              err);
    }
    if (st != SL_OK)
        return sl_err_set(err, st, "%s", e2.msg);
    c->have_forecast = true;
    return fc_store_issue(conn, r->sku, r->region, today, c->from, n, c->d.statistical + off,
                          c->d.issued + off, c->d.overridden + off, c->a, err);
}

sl_status fc_api_set_override(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    const Shelfline__V1__SetForecastOverrideRequest *r =
        (const Shelfline__V1__SetForecastOverrideRequest *)req;
    Shelfline__V1__ForecastOverride *out = (Shelfline__V1__ForecastOverride *)resp;
    sl_arena *a = sl_call_arena(call);
    int32_t today = fc_day_today();
    override_ctx c = {.r = r, .a = a};
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, false, err)) != SL_OK ||
        (st = fc_valid_region("region", r->region, false, err)) != SL_OK)
        return st;
    if (r->period == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "period is required");
    if ((st = fc_valid_period("period", r->period->start_day, r->period->end_day, today,
                              OVERRIDE_MAX_DAYS, OVERRIDE_AHEAD, &c.from, &c.to, err)) != SL_OK)
        return st;
    switch (r->adjustment_case) {
    case SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT_QUANTITY:
        if (!isfinite(r->quantity) || r->quantity < 0 || r->quantity > MAX_QUANTITY)
            return sl_err_set(err, SL_INVALID_ARGUMENT, "quantity must be in 0..%g, got %g",
                              MAX_QUANTITY, r->quantity);
        c.kind = "quantity";
        c.value = r->quantity;
        break;
    case SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT_UPLIFT:
        if (!isfinite(r->uplift) || r->uplift < 0 || r->uplift > MAX_UPLIFT)
            return sl_err_set(err, SL_INVALID_ARGUMENT, "uplift must be in 0..%g, got %g",
                              MAX_UPLIFT, r->uplift);
        c.kind = "uplift";
        c.value = r->uplift;
        break;
    case SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT__NOT_SET:
    case _SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT__CASE_IS_INT_SIZE:
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "exactly one of quantity and uplift must be set");
    }
    if ((st = fc_valid_text("reason", r->reason, 500, err)) != SL_OK ||
        (st = fc_valid_text("author", r->author, 200, err)) != SL_OK)
        return st;

    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    st = sl_db_tx(FC_APP(call)->db, &o, override_tx, &c, err);
    if (st != SL_OK) {
        fc_demand_free(&c.d);
        return st;
    }
    size_t n = (size_t)(c.to - c.from + 1), off = (size_t)(c.from - today);
    out->sku = r->sku;
    out->region = r->region;
    out->period = r->period;
    out->quantity =
        r->adjustment_case == SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT_QUANTITY
            ? r->quantity
            : 0;
    out->uplift =
        r->adjustment_case == SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT_UPLIFT
            ? r->uplift
            : 0;
    out->reason = r->reason;
    out->author = r->author;
    out->changed_days = c.changed;
    out->days = sl_arena_alloc(a, n * sizeof *out->days);
    Shelfline__V1__OverrideDay *days = sl_arena_alloc(a, n * sizeof *days);
    if (out->days == NULL || days == NULL) {
        fc_demand_free(&c.d);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        shelfline__v1__override_day__init(&days[i]);
        days[i].day = sl_arena_alloc(a, 16);
        if (days[i].day == NULL) {
            fc_demand_free(&c.d);
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        }
        fc_day_format(c.from + (int32_t)i, days[i].day, 16);
        days[i].statistical = c.have_forecast ? c.d.statistical[off + i] : 0;
        days[i].overridden =
            c.have_forecast ? c.d.issued[off + i] : (strcmp(c.kind, "uplift") == 0 ? 0 : c.value);
        out->days[i] = &days[i];
    }
    out->n_days = n;
    fc_demand_free(&c.d);
    return SL_OK;
}

/* ---- GetForecastAccuracy ---- */

typedef struct accuracy_ctx {
    const char *sku, *region;
    int32_t from, to;
    sl_arena *a;
    fc_acc_day *days;
    size_t n_days, pairs;
} accuracy_ctx;

/* The scale of a pair's MASE from its last SCALE_DAYS days before the
 * window (stock-out days are not demand: left out). */
static sl_status pair_scale(sl_db_conn *conn, const char *sku, const char *region, int32_t before,
                            sl_arena *a, double *scale, sl_err *err)
{
    fc_history h;
    sl_status st = fc_store_history(conn, sku, region, before, a, &h, err);
    if (st != SL_OK)
        return st;
    size_t first = h.n > SCALE_DAYS ? h.n - SCALE_DAYS : 0;
    for (size_t i = first; i < h.n; i++)
        if (h.stockout[i])
            h.units[i] = NAN;
    *scale = fc_accuracy_scale(h.units + first, h.n - first, 7);
    return SL_OK;
}

static sl_status accuracy_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    accuracy_ctx *c = p;
    fc_scored_row *rows;
    size_t n;
    sl_status st = fc_store_scored(conn, c->sku, c->region, c->from, c->to, ACC_MAX_ROWS, c->a,
                                   &rows, &n, err);
    if (st != SL_OK)
        return st;
    c->days = sl_arena_alloc(c->a, (n > 0 ? n : 1) * sizeof *c->days);
    if (c->days == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    c->n_days = 0;
    c->pairs = 0;
    /* When the row cap cut the answer, the last pair may be partial: it is
     * left out rather than scored on some of its days. */
    size_t end = n;
    if (n == ACC_MAX_ROWS)
        while (end > 0 && rows[end - 1].sku == rows[n - 1].sku &&
               rows[end - 1].region == rows[n - 1].region)
            end--;
    double scale = NAN;
    for (size_t i = 0; i < end; i++) {
        bool first =
            i == 0 || rows[i].sku != rows[i - 1].sku || rows[i].region != rows[i - 1].region;
        if (first) {
            if (c->pairs == ACC_MAX_PAIRS)
                break;
            c->pairs++;
            if ((st = pair_scale(conn, rows[i].sku, rows[i].region, c->from, c->a, &scale, err)) !=
                SL_OK)
                return st;
        }
        fc_acc_day *d = &c->days[c->n_days++];
        d->actual = rows[i].actual;
        d->statistical = rows[i].statistical;
        d->final = rows[i].final;
        d->overridden = rows[i].overridden;
        d->scale = scale;
    }
    return SL_OK;
}

static void measures(sl_arena *a, const fc_acc_measure *m, Shelfline__V1__AccuracyMeasures **out)
{
    Shelfline__V1__AccuracyMeasures *x = sl_arena_alloc(a, sizeof *x);
    *out = x;
    if (x == NULL)
        return;
    shelfline__v1__accuracy_measures__init(x);
    x->days = (int32_t)m->days;
    x->mae = m->mae;
    x->mase = m->mase;
    x->bias = m->bias;
}

sl_status fc_api_accuracy(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err)
{
    const Shelfline__V1__GetForecastAccuracyRequest *r =
        (const Shelfline__V1__GetForecastAccuracyRequest *)req;
    Shelfline__V1__ForecastAccuracy *out = (Shelfline__V1__ForecastAccuracy *)resp;
    sl_arena *a = sl_call_arena(call);
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, true, err)) != SL_OK ||
        (st = fc_valid_region("region", r->region, true, err)) != SL_OK)
        return st;
    if (r->window < 7 || r->window > 730)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "window must be in 7..730, got %d", r->window);
    int32_t today = fc_day_today();
    accuracy_ctx c = {r->sku[0] != '\0' ? r->sku : NULL,
                      r->region[0] != '\0' ? r->region : NULL,
                      today - r->window,
                      today,
                      a,
                      NULL,
                      0,
                      0};
    sl_db_tx_options o = {.isolation = SL_DB_REPEATABLE_READ,
                          .read_only = true,
                          .deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(FC_APP(call)->db, &o, accuracy_tx, &c, err)) != SL_OK)
        return st;
    fc_acc_report rep;
    fc_accuracy_score(c.days, c.n_days, &rep);
    out->sku = r->sku;
    out->region = r->region;
    out->window = r->window;
    out->pairs = (int32_t)c.pairs;
    measures(a, &rep.statistical, &out->statistical);
    measures(a, &rep.statistical_ovr, &out->statistical_overridden_days);
    measures(a, &rep.overridden, &out->overridden);
    if (out->statistical == NULL || out->statistical_overridden_days == NULL ||
        out->overridden == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    out->forecast_value_added = rep.fva;
    out->overrides_helped = (int32_t)rep.helped;
    out->overrides_hurt = (int32_t)rep.hurt;
    return SL_OK;
}

/* ---- ListForecastOverrides ---- */

#define LIST_MAX_ENTRIES 1000
#define LIST_MAX_ROWS 100000
#define LIST_MAX_DAYS 730
#define LIST_BACK 3660 /* as far back as history is kept (RecordSales) */

typedef struct list_ctx {
    const char *sku, *region;
    int32_t from, to;
    sl_arena *a;
    fc_override_entry *rows;
    size_t n;
} list_ctx;

static sl_status list_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    list_ctx *c = p;
    return fc_store_override_entries(conn, c->sku, c->region, c->from, c->to, LIST_MAX_ROWS + 1,
                                     c->a, &c->rows, &c->n, err);
}

/* Whether row b continues the run that row a ends: the next day of the
 * same pair, set by the same request (adjustment, reason, author, time). */
static bool same_run(const fc_override_entry *a, const fc_override_entry *b)
{
    return b->day == a->day + 1 && strcmp(a->sku, b->sku) == 0 &&
           strcmp(a->region, b->region) == 0 && a->uplift == b->uplift && a->value == b->value &&
           a->set_at_ms == b->set_at_ms && strcmp(a->reason, b->reason) == 0 &&
           strcmp(a->author, b->author) == 0;
}

/* The listing's period: both days, end not before start, at most
 * LIST_MAX_DAYS, between LIST_BACK days back and OVERRIDE_AHEAD ahead. */
static sl_status list_period(const Shelfline__V1__DayPeriod *p, int32_t today, int32_t *from,
                             int32_t *to, sl_err *err)
{
    if (p == NULL) {
        *from = today;
        *to = today + OVERRIDE_AHEAD;
        return SL_OK;
    }
    sl_status st;
    if ((st = fc_day_parse("period.start_day", p->start_day, from, err)) != SL_OK ||
        (st = fc_day_parse("period.end_day", p->end_day, to, err)) != SL_OK)
        return st;
    if (*from < today - LIST_BACK || *from > today + OVERRIDE_AHEAD)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "period.start_day must be between %d days back and %d days ahead",
                          LIST_BACK, OVERRIDE_AHEAD);
    if (*to < *from || *to - *from >= LIST_MAX_DAYS)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "period.end_day must be 0..%d days after period.start_day",
                          LIST_MAX_DAYS - 1);
    if (*to > today + OVERRIDE_AHEAD)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "period.end_day must be at most %d days after today", OVERRIDE_AHEAD);
    return SL_OK;
}

/* Fills one listed override from the rows [first, last] of a run. */
static sl_status list_entry(sl_arena *a, const fc_override_entry *first,
                            const fc_override_entry *last, Shelfline__V1__ForecastOverride **out,
                            sl_err *err)
{
    Shelfline__V1__ForecastOverride *o = sl_arena_alloc(a, sizeof *o);
    Shelfline__V1__DayPeriod *p = sl_arena_alloc(a, sizeof *p);
    char *d1 = sl_arena_alloc(a, 16), *d2 = sl_arena_alloc(a, 16);
    if (o == NULL || p == NULL || d1 == NULL || d2 == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    shelfline__v1__forecast_override__init(o);
    shelfline__v1__day_period__init(p);
    fc_day_format(first->day, d1, 16);
    fc_day_format(last->day, d2, 16);
    p->start_day = d1;
    p->end_day = d2;
    o->sku = (char *)first->sku;
    o->region = (char *)first->region;
    o->period = p;
    o->quantity = first->uplift ? 0 : first->value;
    o->uplift = first->uplift ? first->value : 0;
    o->reason = (char *)first->reason;
    o->author = (char *)first->author;
    o->set_at_ms = first->set_at_ms;
    *out = o;
    return SL_OK;
}

sl_status fc_api_list_overrides(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    const Shelfline__V1__ListForecastOverridesRequest *r =
        (const Shelfline__V1__ListForecastOverridesRequest *)req;
    Shelfline__V1__ListForecastOverridesResponse *out =
        (Shelfline__V1__ListForecastOverridesResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, true, err)) != SL_OK ||
        (st = fc_valid_region("region", r->region, true, err)) != SL_OK)
        return st;
    list_ctx c = {r->sku[0] != '\0' ? r->sku : NULL, r->region[0] != '\0' ? r->region : NULL};
    c.a = a;
    if ((st = list_period(r->period, fc_day_today(), &c.from, &c.to, err)) != SL_OK)
        return st;
    sl_db_tx_options o = {.read_only = true, .deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(FC_APP(call)->db, &o, list_tx, &c, err)) != SL_OK)
        return st;
    bool truncated = c.n > LIST_MAX_ROWS;
    size_t n = truncated ? LIST_MAX_ROWS : c.n;
    out->overrides = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *out->overrides);
    if (out->overrides == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && same_run(&c.rows[j], &c.rows[j + 1]))
            j++;
        if (k == LIST_MAX_ENTRIES) {
            truncated = true;
            break;
        }
        if ((st = list_entry(a, &c.rows[i], &c.rows[j], &out->overrides[k], err)) != SL_OK)
            return st;
        k++;
        i = j + 1;
    }
    out->n_overrides = k;
    out->truncated = truncated;
    return SL_OK;
}

/* ---- RemoveForecastOverride ---- */

#define REMOVE_MAX_DAYS 365

typedef struct remove_ctx {
    const Shelfline__V1__RemoveForecastOverrideRequest *r;
    int32_t from, to;
    sl_arena *a;
    /* out */
    int removed;
    fc_demand d;
    bool have_forecast;
} remove_ctx;

/* One transaction: the overrides' days deleted, then the forecast of the
 * period without them stored as issued (what forecasts use from now on). */
static sl_status remove_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    remove_ctx *c = p;
    const Shelfline__V1__RemoveForecastOverrideRequest *r = c->r;
    fc_demand_free(&c->d);
    c->have_forecast = false;
    sl_status st =
        fc_store_override_remove(conn, r->sku, r->region, c->from, c->to, &c->removed, err);
    if (st != SL_OK)
        return st;
    int32_t today = fc_day_today();
    sl_err e2;
    st = fc_demand_run(conn, r->sku, r->region, c->to - today + 1, NULL, c->a, &c->d, &e2);
    if (st == SL_NOT_FOUND)
        return SL_OK; /* no history: nothing was issued but the planner's figures */
    if (st != SL_OK)
        return sl_err_set(err, st, "%s", e2.msg);
    c->have_forecast = true;
    size_t n = (size_t)(c->to - c->from + 1), off = (size_t)(c->from - today);
    return fc_store_issue(conn, r->sku, r->region, today, c->from, n, c->d.statistical + off,
                          c->d.issued + off, c->d.overridden + off, c->a, err);
}

sl_status fc_api_remove_override(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err)
{
    const Shelfline__V1__RemoveForecastOverrideRequest *r =
        (const Shelfline__V1__RemoveForecastOverrideRequest *)req;
    Shelfline__V1__RemoveForecastOverrideResponse *out =
        (Shelfline__V1__RemoveForecastOverrideResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    int32_t today = fc_day_today();
    remove_ctx c = {.r = r, .a = a};
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, false, err)) != SL_OK ||
        (st = fc_valid_region("region", r->region, false, err)) != SL_OK)
        return st;
    if (r->period == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "period is required");
    if ((st = fc_valid_period("period", r->period->start_day, r->period->end_day, today,
                              REMOVE_MAX_DAYS, OVERRIDE_AHEAD, &c.from, &c.to, err)) != SL_OK)
        return st;
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(FC_APP(call)->db, &o, remove_tx, &c, err)) != SL_OK) {
        fc_demand_free(&c.d);
        return st;
    }
    size_t n = (size_t)(c.to - c.from + 1), off = (size_t)(c.from - today);
    out->removed_days = c.removed;
    out->days = sl_arena_alloc(a, n * sizeof *out->days);
    Shelfline__V1__OverrideDay *days = sl_arena_alloc(a, n * sizeof *days);
    if (out->days == NULL || days == NULL) {
        fc_demand_free(&c.d);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        shelfline__v1__override_day__init(&days[i]);
        days[i].day = sl_arena_alloc(a, 16);
        if (days[i].day == NULL) {
            fc_demand_free(&c.d);
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        }
        fc_day_format(c.from + (int32_t)i, days[i].day, 16);
        days[i].statistical = c.have_forecast ? c.d.statistical[off + i] : 0;
        days[i].overridden = c.have_forecast ? c.d.issued[off + i] : 0;
        out->days[i] = &days[i];
    }
    out->n_days = n;
    fc_demand_free(&c.d);
    return SL_OK;
}
