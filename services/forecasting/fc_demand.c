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
 * calendar entry counts as PROMOTION.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fc_app.h"
#include "fc_valid.h"

#define FC_KIND_PROMOTION SHELFLINE__V1__EVENT_KIND__PROMOTION

sl_status fc_demand_run(sl_db_conn *conn, const char *sku, const char *region, int horizon,
                        const char *method, sl_arena *a, fc_demand *d, sl_err *err)
{
    memset(d, 0, sizeof *d);
    d->today = fc_day_today();
    d->horizon = horizon;
    fc_config cfg;
    fc_config_init(&cfg);
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
        return sl_err_set(err, SL_NOT_FOUND, "no sales recorded for sku \"%s\" in region \"%s\"",
                          sku, region);
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
    if (st != SL_OK)
        sl_err_wrap(err, "could not forecast sku \"%s\" in region \"%s\"", sku, region);
    return st;
}

typedef struct run_ctx {
    const char *sku, *region, *method;
    int horizon;
    sl_arena *a;
    fc_demand *d;
} run_ctx;

static sl_status run_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    run_ctx *c = p;
    fc_demand_free(c->d);
    return fc_demand_run(conn, c->sku, c->region, c->horizon, c->method, c->a, c->d, err);
}

sl_status fc_demand_run_db(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                           int horizon, const char *method, sl_arena *a, fc_demand *d, sl_err *err)
{
    memset(d, 0, sizeof *d);
    run_ctx c = {sku, region, method, horizon, a, d};
    sl_db_tx_options o = {
        .isolation = SL_DB_REPEATABLE_READ, .read_only = true, .deadline_ms = deadline_ms};
    sl_status st = sl_db_tx(db, &o, run_tx, &c, err);
    if (st != SL_OK)
        fc_demand_free(d);
    return st;
}

void fc_demand_free(fc_demand *d)
{
    if (d != NULL && d->fc != NULL) {
        fc_forecast_free(d->fc);
        d->fc = NULL;
    }
}
