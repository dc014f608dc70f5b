/*
 * fc_classify: ABC/XYZ classification of the catalogue and the class
 * lookup of plans (see fc_classify.h).
 */
#include "fc_classify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fc_stock.h"
#include "fc_valid.h"
#include "shelfline/v1/inventory.pb-c.h"

/* ---- the lookup of plans ---- */

sl_status fc_class_target(sl_db_conn *conn, const char *sku, const char *region, double *level,
                          char code[3], bool *found, sl_err *err)
{
    char abc = 0, xyz = 0;
    *found = false;
    code[0] = '\0';
    sl_status st = fc_store_class_get(conn, sku, region, &abc, &xyz, found, err);
    if (st == SL_OK && !*found && region[0] != '\0')
        st = fc_store_class_get(conn, sku, "", &abc, &xyz, found, err);
    if (st != SL_OK || !*found)
        return st;
    double t[9];
    if ((st = fc_store_targets(conn, region, t, err)) != SL_OK)
        return st;
    int k = fc_class_index(abc, xyz);
    *level = isnan(t[k]) ? fc_class_default_target(abc, xyz) : t[k];
    code[0] = abc, code[1] = xyz, code[2] = '\0';
    return SL_OK;
}

/* ---- ClassifySkus ---- */

typedef struct classify_ctx {
    const char *region;
    int32_t from, to;
    sl_arena *a;
    fc_weekly_row *weeks;
    size_t n_weeks;
    fc_class_row *rows;
    size_t n;
    double targets[9];
} classify_ctx;

static sl_status weeks_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    classify_ctx *c = p;
    return fc_store_weekly_units(conn, c->region, c->from, c->to, c->a, &c->weeks, &c->n_weeks,
                                 err);
}

static sl_status replace_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    classify_ctx *c = p;
    sl_status st = fc_store_class_replace(conn, c->region, c->rows, c->n, err);
    return st == SL_OK ? fc_store_targets(conn, c->region, c->targets, err) : st;
}

static int by_sku(const void *a, const void *b)
{
    return strcmp(((const fc_stock_product *)a)->sku, ((const fc_stock_product *)b)->sku);
}

static int by_week_sku(const void *a, const void *b)
{
    return strcmp(((const fc_weekly_row *)a)->sku, ((const fc_weekly_row *)b)->sku);
}

/*
 * fc_classify_region -- in four steps:
 *
 *   1. The catalogue and its prices, from inventory.
 *   2. Weekly units over whole weeks ending yesterday (read-only).
 *   3. Classify (fc_classify), merging products and weekly rows.
 *   4. Replace the region's classification in one transaction.
 */
sl_status fc_classify_region(fc_app *app, sl_call *call, const char *region, int period_days,
                             fc_class_opts *opts, fc_class_row **rows, size_t *n, double targets[9],
                             sl_err *err)
{
    sl_arena *a = sl_call_arena(call);
    sl_status st;

    /* 1. The catalogue and its prices, from inventory. */
    fc_stock_product *prod = NULL;
    size_t np = 0;
    if ((st = fc_stock_products(app, call, "", "", FC_CLASSIFY_MAX_SKUS, a, &prod, &np, NULL,
                                err)) != SL_OK)
        return st;

    /* 2. Weekly units over whole weeks ending yesterday. */
    int32_t today = fc_day_today();
    int n_weeks = period_days / 7;
    classify_ctx c = {.region = region, .from = today - 7 * n_weeks, .to = today, .a = a};
    sl_db_tx_options ro = {.read_only = true, .deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(app->db, &ro, weeks_tx, &c, err)) != SL_OK)
        return st;

    /* 3. Classify, merging products and weekly rows both sorted by SKU
     * here: the orders the database and inventory answer in follow their
     * collation, which need not be strcmp's. */
    qsort(prod, np, sizeof *prod, by_sku);
    qsort(c.weeks, c.n_weeks, sizeof *c.weeks, by_week_sku);
    fc_class_in *in = sl_arena_zalloc(a, (np > 0 ? np : 1) * sizeof *in);
    double *weekly = sl_arena_zalloc(a, (np > 0 ? np : 1) * (size_t)n_weeks * sizeof *weekly);
    fc_class_out *cls = sl_arena_alloc(a, (np > 0 ? np : 1) * sizeof *cls);
    int64_t *units = sl_arena_zalloc(a, (np > 0 ? np : 1) * sizeof *units);
    c.rows = sl_arena_alloc(a, (np > 0 ? np : 1) * sizeof *c.rows);
    if (in == NULL || weekly == NULL || cls == NULL || units == NULL || c.rows == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    size_t w = 0;
    for (size_t i = 0; i < np; i++) {
        while (w < c.n_weeks && strcmp(c.weeks[w].sku, prod[i].sku) < 0)
            w++;
        double *wk = &weekly[i * (size_t)n_weeks];
        for (; w < c.n_weeks && strcmp(c.weeks[w].sku, prod[i].sku) == 0; w++) {
            if (c.weeks[w].week >= 0 && c.weeks[w].week < n_weeks)
                wk[c.weeks[w].week] += c.weeks[w].units;
            units[i] += (int64_t)llround(c.weeks[w].units);
        }
        in[i].revenue = (double)units[i] * (double)prod[i].price;
        in[i].weekly = wk;
        in[i].n_weeks = (size_t)n_weeks;
    }
    if ((st = fc_classify(in, np, opts, cls, err)) != SL_OK)
        return st;
    for (size_t k = 0; k < np; k++) {
        size_t i = cls[k].index;
        c.rows[k] = (fc_class_row){.sku = prod[i].sku,
                                   .abc = cls[k].abc,
                                   .xyz = cls[k].xyz,
                                   .revenue_minor = (int64_t)llround(in[i].revenue),
                                   .units = units[i],
                                   .share = cls[k].share,
                                   .cumulative = cls[k].cumulative,
                                   .cv = cls[k].cv,
                                   .classified_on = today,
                                   .period_days = period_days};
    }
    c.n = np;

    /* 4. Replace the region's classification in one transaction. */
    sl_db_tx_options wo = {.deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(app->db, &wo, replace_tx, &c, err)) != SL_OK)
        return st;
    *rows = c.rows;
    *n = c.n;
    memcpy(targets, c.targets, sizeof c.targets);
    return SL_OK;
}
