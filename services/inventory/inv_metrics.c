/*
 * inv_metrics: see inv_metrics.h.
 *
 * Why read at scrape time rather than kept by the code: a promotion's
 * units change in whichever replica serves the Reserve, Commit or Release,
 * so no replica's own count is the promotion's; the row in PostgreSQL is.
 * Every replica therefore shows the same figures (aggregate with max, not
 * sum), at the cost of one indexed, bounded read per scrape.
 */
#include "inv_metrics.h"

#include <stdlib.h>
#include <string.h>

#include "inv_store.h"
#include "sl_arena.h"
#include "sl_log.h"
#include "sl_metrics.h"

#define STATES 3

struct inv_metrics {
    inv_app *app;
    sl_arena *arena; /* one scrape's rows */
    sl_metric *units;
    /* The children set by the last successful read, STATES per promotion:
     * those not set again are hidden (the promotion ended). */
    sl_metric_child *shown[STATES * INV_METRICS_PROMOTIONS_MAX];
    size_t nshown;
};

typedef struct units_ctx {
    sl_arena *arena;
    inv_promo_units *rows;
    size_t n;
} units_ctx;

static sl_status units_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    units_ctx *c = p;
    return inv_store_promo_units(conn, c->arena, INV_METRICS_PROMOTIONS_MAX, &c->rows, &c->n, err);
}

static bool in(sl_metric_child *const *set, size_t n, const sl_metric_child *c)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == c)
            return true;
    return false;
}

/* The collector: one read of the promotions, then the gauges. */
static void collect(void *p)
{
    inv_metrics *m = p;
    sl_arena_reset(m->arena);
    units_ctx c = {m->arena, NULL, 0};
    sl_db_tx_options o = {
        .read_only = true, .max_retries = -1, .deadline_ms = sl_db_now_ms() + INV_METRICS_READ_MS};
    sl_err err;
    sl_status st = sl_db_tx(m->app->db, &o, units_tx, &c, &err);
    if (st != SL_OK) {
        SL_LOG(SL_LOG_WARN, "metrics", NULL, "could not read the promotions' units: %s", err.msg);
        return;
    }
    sl_metric_child *now[STATES * INV_METRICS_PROMOTIONS_MAX];
    size_t nnow = 0;
    for (size_t i = 0; i < c.n; i++) {
        const inv_promo_units *u = &c.rows[i];
        const char *state[STATES] = {"sold", "held", "remaining"};
        const int64_t v[STATES] = {u->sold, u->held, u->remaining};
        for (int k = 0; k < STATES; k++) {
            sl_metric_child *ch = sl_metric_with(m->units, (const char *[]){u->id, state[k]});
            sl_metric_set(ch, (double)v[k]);
            if (ch != NULL)
                now[nnow++] = ch;
        }
    }
    for (size_t i = 0; i < m->nshown; i++)
        if (!in(now, nnow, m->shown[i]))
            sl_metric_unset(m->shown[i]);
    memcpy(m->shown, now, nnow * sizeof now[0]);
    m->nshown = nnow;
}

sl_status inv_metrics_start(inv_app *app, inv_metrics **out, sl_err *err)
{
    inv_metrics *m = sl_calloc(1, sizeof *m);
    if (m == NULL || (m->arena = sl_arena_create(16 * 1024)) == NULL) {
        free(m);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    m->app = app;
    m->units = sl_metric_gauge("shelfline_inventory_promotion_units",
                               "Units of each promotion not ended, by state (sold, held, "
                               "remaining), read from the database at the scrape.",
                               (const char *[]){"promotion", "state", NULL});
    sl_metrics_on_collect(collect, m);
    *out = m;
    return SL_OK;
}

void inv_metrics_stop(inv_metrics *m)
{
    if (m == NULL)
        return;
    sl_metrics_remove_collector(collect, m);
    sl_arena_destroy(m->arena);
    free(m);
}
