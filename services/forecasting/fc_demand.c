/*
 * fc_demand: from stored history and the event calendar to an fc_engine
 * forecast (see fc_app.h).
 *
 * The series runs from the first recorded day of the SKU x region to
 * yesterday; a day without a row sold nothing.  Day flags: stock-out days
 * (FC_DAY_STOCKOUT, so a sold-out day does not teach the model that nobody
 * wanted the SKU).  Event ids handed to the engine are EventKind numbers,
 * so that every occurrence of a kind (last year's Black Friday, this
 * year's) shares one uplift estimate; a day flagged on_promotion without a
 * calendar entry counts as PROMOTION.  Quotas (opts) cap the uplifted
 * demand of an event kind over the horizon.
 *
 * Planner overrides (SetForecastOverride) replace the engine's figure of
 * their days (fc_forecast_override keeps a spread around it) before the
 * intraday refresh, so plans, transfers and the sales check all see the
 * planner's figure, and a day sold faster than even the planner thought is
 * still refreshed.  The engine's points are kept beside (d->statistical),
 * so that both can be stored as issued and scored later.
 *
 * Intraday refresh: when today has hourly sales (RecordHourlySales), step 0
 * is refreshed by fc_forecast_intraday.  The hourly profile is each hour of
 * day's share of the pair's hourly sales over the 28 days before today
 * (flat, 1/24 each, when there are none).  Hours elapsed are the hours of
 * today before the current UTC hour, extended to the latest hour already
 * recorded (a feed that sends the running hour has it count as done); an
 * elapsed hour without a row sold nothing, as a day without a row does.
 * When a calendar event runs today, the rate's ratio also scales its
 * following days in the horizon (the rest of a running promotion).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fc_app.h"
#include "fc_valid.h"

#define FC_KIND_PROMOTION SHELFLINE__V1__EVENT_KIND__PROMOTION
#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL
#define PROFILE_DAYS 28

static double hi95_of(const fc_forecast *f, size_t step)
{
    for (size_t i = 0; i < fc_forecast_n_levels(f); i++)
        if (fabs(fc_forecast_level(f, i) - 95.0) < 1e-9)
            return fc_forecast_upper(f, i)[step];
    return fc_forecast_points(f)[step];
}

/* Refreshes d->fc's step 0 from today's hourly sales, if any. */
static sl_status intraday(sl_db_conn *conn, const char *sku, const char *region, fc_demand *d,
                          sl_err *err)
{
    int64_t day0 = (int64_t)d->today * DAY_MS;
    double today_h[24], hist_h[24], profile[24];
    int last = -1, hist_last = -1;
    sl_status st =
        fc_store_hourly_by_hour(conn, sku, region, day0, day0 + DAY_MS, today_h, &last, err);
    if (st != SL_OK || last < 0)
        return st;
    st = fc_store_hourly_by_hour(conn, sku, region, day0 - PROFILE_DAYS * DAY_MS, day0, hist_h,
                                 &hist_last, err);
    if (st != SL_OK)
        return st;
    double hist_total = 0;
    for (int i = 0; i < 24; i++)
        hist_total += hist_h[i];
    if ((st = fc_intraday_profile(hist_h, 1, 24, profile, err)) != SL_OK)
        return st;
    int64_t elapsed = (fc_now_ms() - day0) / HOUR_MS;
    int done = elapsed < 0 ? 0 : (elapsed > 24 ? 24 : (int)elapsed);
    if (last + 1 > done)
        done = last + 1;
    double units = 0;
    for (int i = 0; i < done; i++)
        units += today_h[i];
    size_t carry = 0;
    if (d->future_kind[0] != 0)
        while (carry + 1 < (size_t)d->horizon && d->future_kind[carry + 1] == d->future_kind[0])
            carry++;
    double ratio = 1;
    st = fc_forecast_intraday(d->fc, profile, 24, today_h, (size_t)done, carry, &ratio, err);
    if (st != SL_OK) {
        sl_err_wrap(err, "intraday refresh");
        return st;
    }
    d->intraday = true;
    d->flat_profile = !(hist_total > 0);
    d->hours_done = done;
    d->today_units = units;
    d->ratio = ratio;
    return SL_OK;
}

/* Keeps the engine's points, then applies the planner's overrides of the
 * horizon's days (quantity: the day's units; uplift: a multiple of the
 * engine's point) and keeps the result as the forecast issued. */
static sl_status apply_overrides(sl_db_conn *conn, const char *sku, const char *region, sl_arena *a,
                                 fc_demand *d, sl_err *err)
{
    size_t h = (size_t)d->horizon;
    d->statistical = sl_arena_alloc(a, h * sizeof *d->statistical);
    d->issued = sl_arena_alloc(a, h * sizeof *d->issued);
    d->overridden = sl_arena_zalloc(a, h);
    if (d->statistical == NULL || d->issued == NULL || d->overridden == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(d->statistical, fc_forecast_points(d->fc), h * sizeof *d->statistical);
    fc_override_row *o;
    size_t n;
    sl_status st = fc_store_override_list(conn, sku, region, d->today, d->today + d->horizon - 1, a,
                                          &o, &n, err);
    for (size_t i = 0; st == SL_OK && i < n; i++) {
        size_t step = (size_t)(o[i].day - d->today);
        double v = o[i].uplift ? o[i].value * d->statistical[step] : o[i].value;
        st = fc_forecast_override(d->fc, step, v, err);
        d->overridden[step] = 1;
        d->n_overridden++;
    }
    if (st == SL_OK)
        memcpy(d->issued, fc_forecast_points(d->fc), h * sizeof *d->issued);
    return st;
}

sl_status fc_demand_issue(sl_db_conn *conn, const char *sku, const char *region, const fc_demand *d,
                          sl_arena *a, sl_err *err)
{
    return fc_store_issue(conn, sku, region, d->today, d->today, (size_t)d->horizon, d->statistical,
                          d->issued, d->overridden, a, err);
}

sl_status fc_demand_run(sl_db_conn *conn, const char *sku, const char *region, int horizon,
                        const fc_demand_opts *opts, sl_arena *a, fc_demand *d, sl_err *err)
{
    memset(d, 0, sizeof *d);
    d->today = fc_day_today();
    d->horizon = horizon;
    d->ratio = 1;
    fc_config cfg;
    fc_config_init(&cfg);
    const char *method = opts != NULL ? opts->method : NULL;
    if (opts != NULL && opts->n_quotas > 0) {
        cfg.quotas = opts->quotas;
        cfg.n_quotas = opts->n_quotas;
    }
    if (method != NULL && method[0] != '\0') {
        sl_status st = fc_method_parse(method, &cfg.method, err);
        if (st != SL_OK) {
            sl_err_wrap(err, "method");
            return st;
        }
    }
    sl_status st = fc_store_history(conn, sku, region, d->today, a, &d->hist, err);
    if (st != SL_OK)
        return st;
    if (d->hist.n == 0)
        return sl_err_reason(err, SL_NOT_FOUND, "NO_SALES_HISTORY",
                             "no sales recorded for sku \"%s\" in region \"%s\"", sku, region);
    size_t n = d->hist.n;
    uint8_t *flags = sl_arena_zalloc(a, n);
    int32_t *events = sl_arena_zalloc(a, n * sizeof *events);
    d->future_kind = sl_arena_zalloc(a, (size_t)horizon * sizeof *d->future_kind);
    if (flags == NULL || events == NULL || d->future_kind == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (d->hist.stockout[i]) {
            flags[i] = FC_DAY_STOCKOUT;
            d->stockout_days++;
        }
        if (d->hist.promo[i])
            events[i] = FC_KIND_PROMOTION;
    }
    fc_event_row *ev;
    size_t nev;
    st = fc_store_event_list(conn, d->hist.first_day, d->today + horizon - 1, sku, region, a, &ev,
                             &nev, err);
    if (st != SL_OK)
        return st;
    for (size_t k = 0; k < nev; k++) {
        for (int32_t day = ev[k].start_day; day <= ev[k].end_day; day++) {
            if (day >= d->hist.first_day && day < d->today)
                events[day - d->hist.first_day] = ev[k].kind;
            else if (day >= d->today && day < d->today + horizon)
                d->future_kind[day - d->today] = ev[k].kind;
        }
    }
    fc_series s = {.values = d->hist.units, .n = n, .flags = flags, .events = events};
    cfg.period = 7;
    cfg.long_period = 365.25;
    cfg.horizon = horizon;
    cfg.future_events = d->future_kind;
    st = fc_forecast_run(&s, &cfg, &d->fc, err);
    if (st != SL_OK) {
        sl_err_wrap(err, "could not forecast sku \"%s\" in region \"%s\"", sku, region);
        return st;
    }
    if ((st = apply_overrides(conn, sku, region, a, d, err)) != SL_OK) {
        sl_err_wrap(err, "could not forecast sku \"%s\" in region \"%s\"", sku, region);
        return st;
    }
    d->prior_point = fc_forecast_points(d->fc)[0];
    d->prior_hi95 = hi95_of(d->fc, 0);
    st = intraday(conn, sku, region, d, err);
    if (st != SL_OK)
        sl_err_wrap(err, "could not forecast sku \"%s\" in region \"%s\"", sku, region);
    return st;
}

typedef struct run_ctx {
    const char *sku, *region;
    const fc_demand_opts *opts;
    int horizon;
    sl_arena *a;
    fc_demand *d;
} run_ctx;

static sl_status run_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    run_ctx *c = p;
    fc_demand_free(c->d);
    return fc_demand_run(conn, c->sku, c->region, c->horizon, c->opts, c->a, c->d, err);
}

sl_status fc_demand_run_db(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                           int horizon, const fc_demand_opts *opts, sl_arena *a, fc_demand *d,
                           sl_err *err)
{
    memset(d, 0, sizeof *d);
    run_ctx c = {sku, region, opts, horizon, a, d};
    sl_db_tx_options o = {
        .isolation = SL_DB_REPEATABLE_READ, .read_only = true, .deadline_ms = deadline_ms};
    sl_status st = sl_db_tx(db, &o, run_tx, &c, err);
    if (st != SL_OK)
        fc_demand_free(d);
    return st;
}

typedef struct issue_ctx {
    const char *sku, *region;
    const fc_demand *d;
    sl_arena *a;
} issue_ctx;

static sl_status issue_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    issue_ctx *c = p;
    return fc_demand_issue(conn, c->sku, c->region, c->d, c->a, err);
}

sl_status fc_demand_issue_db(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                             const fc_demand *d, sl_arena *a, sl_err *err)
{
    issue_ctx c = {sku, region, d, a};
    sl_db_tx_options o = {.deadline_ms = deadline_ms};
    return sl_db_tx(db, &o, issue_tx, &c, err);
}

#define Z95 1.959963984540054

sl_status fc_demand_points(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                           int horizon, sl_arena *a, double **points, double *sd,
                           const char **model, sl_err *err)
{
    double *p = sl_arena_zalloc(a, (size_t)horizon * sizeof *p);
    if (p == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    *points = p;
    *sd = 0;
    *model = "none (no sales recorded)";
    fc_demand d;
    sl_status st = fc_demand_run_db(db, deadline_ms, sku, region, horizon, NULL, a, &d, err);
    if (st == SL_NOT_FOUND)
        return SL_OK;
    if (st != SL_OK)
        return st;
    memcpy(p, fc_forecast_points(d.fc), (size_t)horizon * sizeof *p);
    /* sigma_d: the one-step forecast error, read off the upper half of the
     * first day's 95% interval (the lower half may be clipped at zero). */
    double s = (hi95_of(d.fc, 0) - p[0]) / Z95;
    *sd = s > 0 && isfinite(s) ? s : 0;
    fc_info info;
    fc_forecast_info(d.fc, &info);
    *model = sl_arena_strdup(a, info.model);
    fc_demand_free(&d);
    return *model != NULL ? SL_OK : sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
}

void fc_demand_free(fc_demand *d)
{
    if (d != NULL && d->fc != NULL) {
        fc_forecast_free(d->fc);
        d->fc = NULL;
    }
}
