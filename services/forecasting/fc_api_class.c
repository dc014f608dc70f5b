/*
 * fc_api_class: ABC/XYZ classes and their service levels --
 * ClassifySkus, ListSkusByClass, SetServiceLevelTarget, and the lookup a
 * replenishment plan makes when asked for its class's service level.
 *
 * Classification needs revenue, so prices: the catalogue comes from
 * inventory (ListProducts, the list price as in GetInventoryKpis) and a
 * SKU with sales but no product is left out (nothing to price it with).
 * It is stored (sku_class) rather than recomputed by every plan: it ranks
 * the whole catalogue, which is a batch job, not a per-plan query, and a
 * class that moves between two plans of one morning would be noise.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_app.h"
#include "fc_class.h"
#include "fc_valid.h"
#include "shelfline/v1/inventory.pb-c.h"

#define CLASS_MAX_SKUS 5000

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

/* ---- replies ---- */

static sl_status class_reply(sl_arena *a, const char *region, const fc_class_row *rows, size_t n,
                             const double targets[9], Shelfline__V1__ClassifySkusResponse *out,
                             sl_err *err)
{
    out->region = (char *)region;
    out->skus = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *out->skus);
    Shelfline__V1__SkuClass *m = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *m);
    char *codes = sl_arena_alloc(a, 4 * (n > 0 ? n : 1));
    out->classified_on = sl_arena_alloc(a, 16);
    if (out->skus == NULL || m == NULL || codes == NULL || out->classified_on == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    out->classified_on[0] = '\0';
    if (n > 0) {
        fc_day_format(rows[0].classified_on, out->classified_on, 16);
        out->period_days = rows[0].period_days;
    }
    for (size_t i = 0; i < n; i++) {
        const fc_class_row *x = &rows[i];
        shelfline__v1__sku_class__init(&m[i]);
        char *c = &codes[4 * i];
        c[0] = x->abc, c[1] = '\0', c[2] = x->xyz, c[3] = '\0';
        m[i].sku = (char *)x->sku;
        m[i].abc = c;
        m[i].xyz = c + 2;
        m[i].revenue_minor_units = x->revenue_minor;
        m[i].revenue_share = x->share;
        m[i].cumulative_share = x->cumulative;
        m[i].weekly_cv = x->cv;
        m[i].units = x->units;
        int k = fc_class_index(x->abc, x->xyz);
        m[i].service_level =
            isnan(targets[k]) ? fc_class_default_target(x->abc, x->xyz) : targets[k];
        out->skus[i] = &m[i];
    }
    out->n_skus = n;
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

typedef struct priced {
    const char *sku;
    int64_t price;
} priced;

static int by_sku(const void *a, const void *b)
{
    return strcmp(((const priced *)a)->sku, ((const priced *)b)->sku);
}

static int by_week_sku(const void *a, const void *b)
{
    return strcmp(((const fc_weekly_row *)a)->sku, ((const fc_weekly_row *)b)->sku);
}

/* The catalogue and its prices, from inventory (at most CLASS_MAX_SKUS
 * products). */
static sl_status class_catalogue(fc_app *app, sl_call *call, sl_arena *a, priced **out, size_t *n,
                                 sl_err *err)
{
    sl_status st;
    priced *prod = sl_arena_alloc(a, CLASS_MAX_SKUS * sizeof *prod);
    if (prod == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    size_t np = 0;
    Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
    pg.page_size = 1000;
    pg.page_token = "";
    do {
        Shelfline__V1__ListProductsRequest lp = SHELFLINE__V1__LIST_PRODUCTS_REQUEST__INIT;
        lp.page = &pg;
        lp.category = "";
        Shelfline__V1__ListProductsResponse *pr;
        if ((st = fc_inventory_call(app, call, "ListProducts", &lp.base,
                                    &shelfline__v1__list_products_response__descriptor, a, &pr,
                                    err)) != SL_OK)
            return st;
        for (size_t i = 0; i < pr->n_products && np < CLASS_MAX_SKUS; i++)
            prod[np++] =
                (priced){pr->products[i]->sku,
                         pr->products[i]->price != NULL ? pr->products[i]->price->minor_units : 0};
        pg.page_token = pr->next_page_token;
    } while (pg.page_token[0] != '\0' && np < CLASS_MAX_SKUS);
    *out = prod;
    *n = np;
    return SL_OK;
}

sl_status fc_api_classify(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err)
{
    const Shelfline__V1__ClassifySkusRequest *r = (const Shelfline__V1__ClassifySkusRequest *)req;
    Shelfline__V1__ClassifySkusResponse *out = (Shelfline__V1__ClassifySkusResponse *)resp;
    fc_app *app = FC_APP(call);
    sl_arena *a = sl_call_arena(call);
    sl_status st;
    if ((st = fc_valid_region("region", r->region, true, err)) != SL_OK)
        return st;
    if (r->period_days < 28 || r->period_days > 730)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "period_days must be in 28..730, got %d",
                          r->period_days);
    fc_class_opts opts = {r->a_share, r->b_share, r->x_cv, r->y_cv};
    if ((st = fc_class_opts_check(&opts, err)) != SL_OK)
        return st;

    /* 1. The catalogue and its prices, from inventory. */
    priced *prod = NULL;
    size_t np = 0;
    if ((st = class_catalogue(app, call, a, &prod, &np, err)) != SL_OK)
        return st;

    /* 2. Weekly units over whole weeks ending yesterday. */
    int32_t today = fc_day_today();
    int n_weeks = r->period_days / 7;
    classify_ctx c = {.region = r->region, .from = today - 7 * n_weeks, .to = today, .a = a};
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
    if ((st = fc_classify(in, np, &opts, cls, err)) != SL_OK)
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
                                   .period_days = r->period_days};
    }
    c.n = np;

    /* 4. Replace the region's classification in one transaction. */
    sl_db_tx_options wo = {.deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(app->db, &wo, replace_tx, &c, err)) != SL_OK)
        return st;
    return class_reply(a, r->region, c.rows, c.n, c.targets, out, err);
}

/* ---- ListSkusByClass ---- */

typedef struct list_ctx {
    const char *region, *abc, *xyz;
    sl_arena *a;
    fc_class_row *rows;
    size_t n;
    double targets[9];
} list_ctx;

static sl_status list_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    list_ctx *c = p;
    sl_status st = fc_store_class_list(conn, c->region, c->abc, c->xyz, c->a, &c->rows, &c->n, err);
    return st == SL_OK ? fc_store_targets(conn, c->region, c->targets, err) : st;
}

sl_status fc_api_list_classes(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    const Shelfline__V1__ListSkusByClassRequest *r =
        (const Shelfline__V1__ListSkusByClassRequest *)req;
    Shelfline__V1__ClassifySkusResponse *out = (Shelfline__V1__ClassifySkusResponse *)resp;
    sl_status st;
    if ((st = fc_valid_region("region", r->region, true, err)) != SL_OK)
        return st;
    if (r->abc[0] != '\0' && (r->abc[1] != '\0' || r->abc[0] < 'A' || r->abc[0] > 'C'))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "abc must be \"A\", \"B\", \"C\" or empty");
    if (r->xyz[0] != '\0' && (r->xyz[1] != '\0' || r->xyz[0] < 'X' || r->xyz[0] > 'Z'))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "xyz must be \"X\", \"Y\", \"Z\" or empty");
    list_ctx c = {r->region, r->abc[0] != '\0' ? r->abc : NULL, r->xyz[0] != '\0' ? r->xyz : NULL,
                  sl_call_arena(call)};
    sl_db_tx_options o = {.read_only = true, .deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(FC_APP(call)->db, &o, list_tx, &c, err)) != SL_OK)
        return st;
    return class_reply(sl_call_arena(call), r->region, c.rows, c.n, c.targets, out, err);
}

/* ---- SetServiceLevelTarget ---- */

typedef struct target_ctx {
    const char *region, *code;
    double level;
} target_ctx;

static sl_status target_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    target_ctx *c = p;
    return fc_store_target_set(conn, c->region, c->code, c->level, err);
}

sl_status fc_api_set_target(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err)
{
    const Shelfline__V1__SetServiceLevelTargetRequest *r =
        (const Shelfline__V1__SetServiceLevelTargetRequest *)req;
    Shelfline__V1__ServiceLevelTarget *out = (Shelfline__V1__ServiceLevelTarget *)resp;
    sl_status st;
    char abc, xyz;
    if ((st = fc_valid_region("region", r->region, true, err)) != SL_OK)
        return st;
    if (!fc_class_parse(r->class_code, &abc, &xyz))
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "class_code must be A, B or C followed by X, Y or Z, got \"%s\"",
                          r->class_code);
    if (!isfinite(r->service_level) || r->service_level < 0.5 || r->service_level > 0.9999)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "service_level must be in 0.5..0.9999, got %g",
                          r->service_level);
    target_ctx c = {r->region, r->class_code, r->service_level};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(FC_APP(call)->db, &o, target_tx, &c, err)) != SL_OK)
        return st;
    out->region = r->region;
    out->class_code = r->class_code;
    out->service_level = r->service_level;
    return SL_OK;
}
