/*
 * fc_kpi: inventory KPIs (see fc_kpi.h).
 */
#include "fc_kpi.h"

#include <string.h>

#include "fc_stock.h"
#include "fc_valid.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_page.h"

#define KPI_AVG_BATCH 1000 /* SKUs per GetAverageStock call (its limit) */

static sl_status kpi_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    fc_kpi *c = p;
    c->stockout_days = 0;
    for (size_t i = 0; i < c->n; i++) {
        int64_t so = 0;
        char xyz;
        bool found;
        sl_status st =
            fc_store_period(conn, c->skus[i].sku, c->from, c->to, &c->units[i], &so, err);
        if (st == SL_OK)
            st = fc_store_class_get(conn, c->skus[i].sku, "", &c->abc[i], &xyz, &found, err);
        if (st != SL_OK)
            return st;
        if (!found)
            c->abc[i] = 0;
        c->stockouts[i] = so;
        c->stockout_days += so;
    }
    return SL_OK;
}

/* The SKUs a KPI request is about, with their prices: the one SKU (and
 * *category becomes its category) or a page of the category's products
 * (FC_KPI_MAX_SKUS without a page; *more says whether others follow), from
 * inventory. */
static sl_status kpi_skus(fc_app *app, sl_call *call,
                          const Shelfline__V1__GetInventoryKpisRequest *r, sl_arena *a,
                          fc_stock_product **out, size_t *count, bool *more, const char **category,
                          sl_err *err)
{
    sl_status st;
    fc_stock_product *skus;
    size_t n = 0;
    if (r->sku[0] != '\0') {
        skus = sl_arena_alloc(a, sizeof *skus);
        if (skus == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        Shelfline__V1__GetProductRequest gp = SHELFLINE__V1__GET_PRODUCT_REQUEST__INIT;
        gp.sku = (char *)r->sku;
        Shelfline__V1__Product *p;
        if ((st = fc_inventory_call(app, call, "GetProduct", &gp.base,
                                    &shelfline__v1__product__descriptor, a, &p, err)) != SL_OK)
            return st;
        *category = p->category;
        skus[n++] = (fc_stock_product){p->sku, p->price != NULL ? p->price->minor_units : 0};
    } else {
        int limit;
        char after[256];
        if ((st = sl_page_read(r->page, &limit, after, sizeof after, err)) != SL_OK)
            return st;
        if (r->page == NULL)
            limit = FC_KPI_MAX_SKUS;
        if ((st = fc_stock_products(app, call, r->category, after, (size_t)limit, a, &skus, &n,
                                    more, err)) != SL_OK)
            return st;
        /* A later page is never empty (fc_stock_products looks ahead),
         * unless products left the category in between. */
        if (n == 0 && after[0] == '\0')
            return sl_err_reason(err, SL_NOT_FOUND, "CATEGORY_NOT_FOUND",
                                 "no products in category \"%s\"", r->category);
    }
    *out = skus;
    *count = n;
    return SL_OK;
}

/* Average inventory of the n SKUs over the request's period into avg[],
 * with its total in units and value. */
static sl_status kpi_average_stock(fc_app *app, sl_call *call,
                                   const Shelfline__V1__GetInventoryKpisRequest *r,
                                   const fc_stock_product *skus, size_t n, sl_arena *a, double *avg,
                                   double *units_out, double *value_out, sl_err *err)
{
    sl_status st;
    double inv_units = 0, inv_value = 0;
    /* Average inventory over the same period, time-weighted from
     * inventory's ledger (up to 1,000 SKUs per call). */
    int64_t to_ms = sl_db_now_ms();
    const char **names = sl_arena_alloc(a, n * sizeof *names);
    if (names == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++)
        names[i] = skus[i].sku;
    for (size_t first = 0; first < n; first += KPI_AVG_BATCH) {
        Shelfline__V1__GetAverageStockRequest ga = SHELFLINE__V1__GET_AVERAGE_STOCK_REQUEST__INIT;
        ga.skus = (char **)&names[first];
        ga.n_skus = n - first < KPI_AVG_BATCH ? n - first : KPI_AVG_BATCH;
        ga.warehouse_id = "";
        ga.from_at_ms = to_ms - (int64_t)r->period_days * 86400000;
        ga.to_at_ms = to_ms;
        Shelfline__V1__GetAverageStockResponse *s;
        if ((st = fc_inventory_call(app, call, "GetAverageStock", &ga.base,
                                    &shelfline__v1__get_average_stock_response__descriptor, a, &s,
                                    err)) != SL_OK)
            return st;
        if (s->n_stock != ga.n_skus)
            return sl_err_set(err, SL_INTERNAL, "inventory answered %zu averages for %zu SKUs",
                              s->n_stock, ga.n_skus);
        for (size_t k = 0; k < s->n_stock; k++) {
            double x = s->stock[k]->average_on_hand;
            avg[first + k] = x;
            inv_units += x;
            inv_value += x * (double)skus[first + k].price;
        }
    }
    *units_out = inv_units;
    *value_out = inv_value;
    return SL_OK;
}

sl_status fc_kpi_run(fc_app *app, sl_call *call, const Shelfline__V1__GetInventoryKpisRequest *r,
                     fc_kpi *k, sl_err *err)
{
    sl_arena *a = sl_call_arena(call);
    sl_status st;
    memset(k, 0, sizeof *k);
    k->category = r->category;
    if ((st = kpi_skus(app, call, r, a, &k->skus, &k->n, &k->more, &k->category, err)) != SL_OK)
        return st;
    int32_t today = fc_day_today();
    k->from = today - r->period_days;
    k->to = today;
    k->units = sl_arena_zalloc(a, (k->n + 1) * sizeof *k->units);
    k->stockouts = sl_arena_zalloc(a, (k->n + 1) * sizeof *k->stockouts);
    k->abc = sl_arena_zalloc(a, k->n + 1);
    k->avg = sl_arena_zalloc(a, (k->n + 1) * sizeof *k->avg);
    if (k->units == NULL || k->stockouts == NULL || k->abc == NULL || k->avg == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_db_tx_options o = {.read_only = true, .deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(app->db, &o, kpi_tx, k, err)) != SL_OK)
        return st;
    if ((st = kpi_average_stock(app, call, r, k->skus, k->n, a, k->avg, &k->inv_units,
                                &k->inv_value, err)) != SL_OK)
        return st;
    for (size_t i = 0; i < k->n; i++) {
        k->cogs += (double)k->units[i] * (double)k->skus[i].price;
        k->units_sold += k->units[i];
    }
    return SL_OK;
}

void fc_kpi_class_sum(const fc_kpi *k, char abc, fc_kpi_class *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < k->n; i++) {
        if (k->abc[i] != abc)
            continue;
        out->skus++;
        out->units_sold += k->units[i];
        out->stockout_days += (int32_t)k->stockouts[i];
        out->cogs += (double)k->units[i] * (double)k->skus[i].price;
        out->value += k->avg[i] * (double)k->skus[i].price;
        out->units_avg += k->avg[i];
    }
}
