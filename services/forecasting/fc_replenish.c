/*
 * fc_replenish: a replenishment plan (see fc_replenish.h).
 */
#include "fc_replenish.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fc_valid.h"

/* The SKU's ABC/XYZ class in the plan's region and, when the request
 * leaves service_level 0, the class's target as the level; the named
 * supplier's learned lead times.  One read-only transaction. */
typedef struct class_ctx {
    const char *sku, *region;
    double level;
    char code[3];
    bool found;
    /* and the supplier's learned lead times, when one is named */
    const char *supplier, *warehouse_id;
    sl_arena *a;
    fc_lead_stats lead_sw, lead_s;
} class_ctx;

static sl_status class_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    class_ctx *c = p;
    double target = 0;
    sl_status st = fc_class_target(conn, c->sku, c->region, &target, c->code, &c->found, err);
    if (st == SL_OK && c->found && c->level == 0)
        c->level = target;
    if (st == SL_OK && c->supplier != NULL)
        st = fc_lead_time_learned(conn, c->supplier, c->warehouse_id, c->a, &c->lead_sw, &c->lead_s,
                                  err);
    return st;
}

/* The service level and lead time of the plan into p. */
static sl_status plan_terms(fc_app *app, sl_call *call,
                            const Shelfline__V1__GetReplenishmentPlanRequest *r, fc_replenish *p,
                            sl_err *err)
{
    bool by_wh = r->warehouse_id[0] != '\0';
    bool by_supplier = r->supplier[0] != '\0';
    class_ctx cc = {r->sku, p->stock.region, r->service_level, "", false};
    cc.supplier = by_supplier ? r->supplier : NULL;
    cc.warehouse_id = by_wh ? r->warehouse_id : NULL;
    cc.a = sl_call_arena(call);
    sl_db_tx_options ro = {.read_only = true, .deadline_ms = sl_call_deadline_ms(call)};
    sl_status st = sl_db_tx(app->db, &ro, class_tx, &cc, err);
    if (st != SL_OK)
        return st;
    if (r->service_level == 0 && !cc.found)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "SKU_NOT_CLASSIFIED",
                             "service_level is 0 but sku \"%s\" has no ABC/XYZ class in region "
                             "\"%s\" nor in the network (ClassifySkus)",
                             r->sku, p->stock.region);
    p->service_level = cc.level;
    memcpy(p->class_code, cc.code, sizeof p->class_code);
    p->lead_src =
        fc_plan_lead_time(by_supplier ? &cc.lead_sw : NULL, by_supplier ? &cc.lead_s : NULL,
                          r->lead_time_days, r->lead_time_stddev_days, &p->lead, &p->lead_sd);
    if (p->lead_src == FC_LEAD_NONE)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "LEAD_TIME_UNKNOWN",
                             "lead_time_days is 0 but supplier \"%s\" has fewer than %d receipts "
                             "in the last 365 days to learn a lead time from",
                             r->supplier, FC_LEAD_MIN_RECEIPTS);
    p->lead_receipts = p->lead_src == FC_LEAD_SUPPLIER_WAREHOUSE ? cc.lead_sw.receipts
                       : p->lead_src == FC_LEAD_SUPPLIER         ? cc.lead_s.receipts
                                                                 : 0;
    return SL_OK;
}

typedef struct alerts_ctx {
    fc_app *app;
    Shelfline__V1__Alert **alerts;
    size_t n;
} alerts_ctx;

static sl_status alerts_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    alerts_ctx *c = p;
    for (size_t i = 0; i < c->n; i++) {
        sl_status st = fc_alert_raise(c->app, conn, c->alerts[i], NULL, err);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

/* One alert of the plan: kind, its id "<tag>/<sku>/<where>/<today>" and
 * message; the rest is filled by plan_alerts. */
static Shelfline__V1__Alert *alert_new(sl_arena *a, Shelfline__V1__AlertKind kind, const char *tag,
                                       const char *sku, const char *where, const char *today_s)
{
    Shelfline__V1__Alert *x = sl_arena_alloc(a, sizeof *x);
    char *id = sl_arena_alloc(a, 200), *msg = sl_arena_alloc(a, 256);
    if (x == NULL || id == NULL || msg == NULL)
        return NULL;
    shelfline__v1__alert__init(x);
    snprintf(id, 200, "%s/%s/%s/%s", tag, sku, where, today_s);
    msg[0] = '\0';
    x->alert_id = id;
    x->kind = kind;
    x->message = msg;
    x->stockout_day = "";
    x->next_inbound_day = "";
    return x;
}

/* The plan's alerts: running out (from available stock alone) before the
 * next inbound arrives; cover beyond three times the order-up-to level.
 * Raised (stored and published) once, in one transaction. */
static sl_status plan_alerts(fc_app *app, sl_call *call,
                             const Shelfline__V1__GetReplenishmentPlanRequest *r, fc_replenish *p,
                             sl_err *err)
{
    sl_arena *a = sl_call_arena(call);
    const char *where = r->warehouse_id[0] != '\0' ? r->warehouse_id : r->region;
    char *today_s = fc_day_dup(a, p->today);
    long dry = fc_plan_stockout_day(p->demand, NULL, FC_PLAN_HORIZON, (double)p->in.available);
    if (today_s == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    int32_t next = p->stock.next_inbound;
    if (dry >= 0 && (next == INT32_MAX || p->today + dry < next)) {
        Shelfline__V1__Alert *x = alert_new(a, SHELFLINE__V1__ALERT_KIND__PROJECTED_STOCKOUT, "PSO",
                                            r->sku, where, today_s);
        char *dry_s = fc_day_dup(a, p->today + (int32_t)dry);
        char *next_s = next != INT32_MAX ? fc_day_dup(a, next) : "";
        if (x == NULL || dry_s == NULL || next_s == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        snprintf(x->message, 256, "%s in %s runs out on %s, %s", r->sku, where, dry_s,
                 next == INT32_MAX ? "with no inbound open" : "before its next inbound");
        x->stockout_day = dry_s;
        x->next_inbound_day = next_s;
        p->alerts[p->n_alerts++] = x;
    }
    if ((double)p->out.position > 3 * p->out.order_up_to && p->out.position > 0) {
        Shelfline__V1__Alert *x =
            alert_new(a, SHELFLINE__V1__ALERT_KIND__OVERSTOCK, "OVS", r->sku, where, today_s);
        if (x == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        snprintf(x->message, 256, "%s in %s holds %lld units, over 3x its order-up-to level %.1f",
                 r->sku, where, (long long)p->out.position, p->out.order_up_to);
        p->alerts[p->n_alerts++] = x;
    }
    for (size_t i = 0; i < p->n_alerts; i++) {
        Shelfline__V1__Alert *x = p->alerts[i];
        x->sku = r->sku;
        x->region = (char *)p->stock.region;
        x->warehouse_id = r->warehouse_id;
        x->day = today_s;
        x->forecast = p->in.mean_demand;
        x->stock = (double)p->out.position;
    }
    if (p->n_alerts == 0)
        return SL_OK;
    alerts_ctx ac = {app, p->alerts, p->n_alerts};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    return sl_db_tx(app->db, &o, alerts_tx, &ac, err);
}

/*
 * fc_replenish_run -- a plan in five steps:
 *
 *   1. Stock: what the warehouse (or the region's serving warehouses)
 *      holds and has inbound, from inventory.
 *   2. Terms: the service level (the request's, else the class's target)
 *      and the lead time (the supplier's learned one, else the request's),
 *      in one read-only transaction; FAILED_PRECONDITION when either is
 *      missing.
 *   3. Demand: the forecast of the next FC_PLAN_HORIZON days of the
 *      stock's region (zeros for a SKU never sold).
 *   4. Arithmetic (fc_plan_compute): safety stock, reorder point,
 *      order-up-to level and the order; the projected stock-out day and
 *      the days of cover.
 *   5. Alerts, raised in a transaction of their own.
 */
sl_status fc_replenish_run(fc_app *app, sl_call *call,
                           const Shelfline__V1__GetReplenishmentPlanRequest *r, fc_replenish *p,
                           sl_err *err)
{
    sl_arena *a = sl_call_arena(call);
    bool by_wh = r->warehouse_id[0] != '\0';
    sl_status st;
    memset(p, 0, sizeof *p);
    p->today = fc_day_today();
    if ((st = fc_stock_load(app, call, r->sku, by_wh ? r->warehouse_id : NULL,
                            by_wh ? NULL : r->region, p->today, FC_PLAN_HORIZON, a, &p->stock,
                            err)) != SL_OK ||
        (st = plan_terms(app, call, r, p, err)) != SL_OK ||
        (st = fc_demand_points(app->db, sl_call_deadline_ms(call), r->sku, p->stock.region,
                               FC_PLAN_HORIZON, a, &p->demand, &p->demand_sd, &p->model, err)) !=
            SL_OK)
        return st;
    size_t lr = (size_t)ceil(p->lead + r->review_period_days);
    p->in = (fc_plan_in){
        .mean_demand = fc_plan_span_mean(p->demand, FC_PLAN_HORIZON, lr),
        .demand_sd = p->demand_sd,
        .service_level = p->service_level,
        .lead_time = p->lead,
        .lead_time_sd = p->lead_sd,
        .review_period = r->review_period_days,
        .moq = r->moq,
        .pack = r->pack_size,
        .available = p->stock.available < 0 ? 0 : p->stock.available,
        .open_inbound = p->stock.open_inbound,
    };
    if ((st = fc_plan_compute(&p->in, &p->out, err)) != SL_OK)
        return st;
    p->stockout = fc_plan_stockout_day(p->demand, p->stock.arrivals, FC_PLAN_HORIZON,
                                       (double)p->in.available);
    double m28 = fc_plan_span_mean(p->demand, FC_PLAN_HORIZON, FC_PLAN_COVER_DAYS);
    p->days_of_cover = fc_plan_cover((double)p->out.position, m28);
    return plan_alerts(app, call, r, p, err);
}
