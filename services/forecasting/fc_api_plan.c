/*
 * fc_api_plan: the read side -- ForecastDemand, GetReplenishmentPlan,
 * SuggestTransfers, GetInventoryKpis -- and the calls to inventory they
 * need (stock, open inbound, warehouses, products).  ForecastDemand also
 * records the forecast it issued (issued_forecast), which
 * GetForecastAccuracy scores once the days' sales are in.
 *
 * Inventory is read over gRPC with a deadline: when it cannot answer, the
 * RPC fails (UNAVAILABLE / DEADLINE_EXCEEDED) rather than plan on stock it
 * does not know.  A SKU with no recorded sales has zero forecast demand
 * (not an error: a new product is still planned for).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_app.h"
#include "fc_plan.h"
#include "fc_transfer.h"
#include "fc_valid.h"
#include "shelfline/v1/inventory.pb-c.h"

#define Z95 1.959963984540054

static double upper95(const fc_forecast *f, size_t step)
{
    for (size_t i = 0; i < fc_forecast_n_levels(f); i++)
        if (fabs(fc_forecast_level(f, i) - 95.0) < 1e-9)
            return fc_forecast_upper(f, i)[step];
    return fc_forecast_points(f)[step];
}

static double span_mean(const double *v, size_t n, size_t k)
{
    if (k > n)
        k = n;
    if (k == 0)
        return 0;
    double s = 0;
    for (size_t i = 0; i < k; i++)
        s += v[i];
    return s / (double)k;
}

static char *day_str(sl_arena *a, int32_t day)
{
    char *s = sl_arena_alloc(a, 16);
    if (s != NULL)
        fc_day_format(day, s, 16);
    return s;
}

/* Demand over the next horizon days: points (arena), or zeros when no
 * sales were ever recorded (*model says so). */
static sl_status demand_points(fc_app *app, sl_call *call, const char *sku, const char *region,
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
    sl_status st = fc_demand_run_db(app->db, sl_call_deadline_ms(call), sku, region, horizon, NULL,
                                    a, &d, err);
    if (st == SL_NOT_FOUND)
        return SL_OK;
    if (st != SL_OK)
        return st;
    memcpy(p, fc_forecast_points(d.fc), (size_t)horizon * sizeof *p);
    /* sigma_d: the one-step forecast error, read off the upper half of the
     * first day's 95% interval (the lower half may be clipped at zero). */
    double s = (upper95(d.fc, 0) - p[0]) / Z95;
    *sd = s > 0 && isfinite(s) ? s : 0;
    fc_info info;
    fc_forecast_info(d.fc, &info);
    *model = sl_arena_strdup(a, info.model);
    fc_demand_free(&d);
    return *model != NULL ? SL_OK : sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
}

/* ---- ForecastDemand ---- */

typedef struct promo_ctx {
    const char *sku, *region;
    int32_t from, to;
    sl_arena *a;
    fc_event_row *rows;
    size_t n;
} promo_ctx;

static sl_status promo_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    promo_ctx *c = p;
    return fc_store_event_list(conn, c->from, c->to, c->sku, c->region, c->a, &c->rows, &c->n, err);
}

/* The quota capping PROMOTION days of the horizon: the remaining units of
 * every inventory promotion linked to a calendar event in it (a SKU's
 * PROMOTION events only, see SetEvent).  *n_quotas is 0 when none is
 * linked or none could be read; *why (arena, NULL when all went well)
 * says why a linked promotion was left out.  A promotion that cannot be
 * read is not an error: the forecast is made without its cap. */
static sl_status promo_quota(fc_app *app, sl_call *call, const char *sku, const char *region,
                             int32_t today, int horizon, sl_arena *a, fc_quota *q, size_t *n_quotas,
                             const char **why, sl_err *err)
{
    *n_quotas = 0;
    *why = NULL;
    promo_ctx c = {sku, region, today, today + horizon - 1, a, NULL, 0};
    sl_db_tx_options o = {.read_only = true, .deadline_ms = sl_call_deadline_ms(call)};
    sl_status st = sl_db_tx(app->db, &o, promo_tx, &c, err);
    if (st != SL_OK)
        return st;
    double units = 0;
    bool any = false;
    for (size_t i = 0; i < c.n; i++) {
        const fc_event_row *e = &c.rows[i];
        if (e->kind != SHELFLINE__V1__EVENT_KIND__PROMOTION || e->promotion_id[0] == '\0')
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(c.rows[k].promotion_id, e->promotion_id) == 0;
        if (seen)
            continue;
        Shelfline__V1__GetPromotionRequest gp = SHELFLINE__V1__GET_PROMOTION_REQUEST__INIT;
        gp.promotion_id = (char *)e->promotion_id;
        Shelfline__V1__Promotion *p;
        sl_err e2;
        char *msg = NULL;
        if (fc_inventory_call(app, call, "GetPromotion", &gp.base,
                              &shelfline__v1__promotion__descriptor, a, &p, &e2) != SL_OK) {
            size_t len = strlen(e->promotion_id) + strlen(e2.msg) + 16;
            msg = sl_arena_alloc(a, len);
            if (msg != NULL)
                snprintf(msg, len, "promotion \"%s\": %s", e->promotion_id, e2.msg);
        } else if (strcmp(p->sku, sku) != 0) {
            size_t len = strlen(e->promotion_id) + strlen(p->sku) + 32;
            msg = sl_arena_alloc(a, len);
            if (msg != NULL)
                snprintf(msg, len, "promotion \"%s\" is on sku \"%s\"", e->promotion_id, p->sku);
        } else {
            units += p->remaining > 0 ? (double)p->remaining : 0.0;
            any = true;
            continue;
        }
        if (*why == NULL)
            *why = msg != NULL ? msg : "a linked promotion could not be read";
    }
    if (any) {
        q->event = SHELFLINE__V1__EVENT_KIND__PROMOTION;
        q->units = units;
        *n_quotas = 1;
    }
    return SL_OK;
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

sl_status fc_api_forecast(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err)
{
    const Shelfline__V1__ForecastDemandRequest *r =
        (const Shelfline__V1__ForecastDemandRequest *)req;
    Shelfline__V1__ForecastDemandResponse *out = (Shelfline__V1__ForecastDemandResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, false, err)) != SL_OK ||
        (st = fc_valid_region("region", r->region, false, err)) != SL_OK)
        return st;
    if (r->horizon_days < 1 || r->horizon_days > 365)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "horizon_days must be in 1..365, got %d",
                          r->horizon_days);
    fc_method m;
    if (r->method[0] != '\0' && (st = fc_method_parse(r->method, &m, err)) != SL_OK) {
        sl_err_wrap(err, "method");
        return st;
    }
    fc_quota quota;
    const char *quota_why = NULL;
    fc_demand_opts opts = {.method = r->method, .quotas = &quota};
    if ((st = promo_quota(FC_APP(call), call, r->sku, r->region, fc_day_today(), r->horizon_days, a,
                          &quota, &opts.n_quotas, &quota_why, err)) != SL_OK)
        return st;
    fc_demand d;
    st = fc_demand_run_db(FC_APP(call)->db, sl_call_deadline_ms(call), r->sku, r->region,
                          r->horizon_days, &opts, a, &d, err);
    if (st != SL_OK)
        return st;
    size_t h = fc_forecast_horizon(d.fc), nl = fc_forecast_n_levels(d.fc);
    const double *pt = fc_forecast_points(d.fc);
    const double *lo80 = pt, *hi80 = pt, *lo95 = pt, *hi95 = pt;
    for (size_t i = 0; i < nl; i++) {
        double lv = fc_forecast_level(d.fc, i);
        if (fabs(lv - 80) < 1e-9)
            lo80 = fc_forecast_lower(d.fc, i), hi80 = fc_forecast_upper(d.fc, i);
        if (fabs(lv - 95) < 1e-9)
            lo95 = fc_forecast_lower(d.fc, i), hi95 = fc_forecast_upper(d.fc, i);
    }
    fc_info info;
    fc_forecast_info(d.fc, &info);
    out->sku = r->sku;
    out->region = r->region;
    out->points = sl_arena_alloc(a, h * sizeof *out->points);
    Shelfline__V1__ForecastPoint *pts = sl_arena_alloc(a, h * sizeof *pts);
    size_t nu = fc_forecast_n_uplifts(d.fc);
    out->uplifts = sl_arena_alloc(a, (nu > 0 ? nu : 1) * sizeof *out->uplifts);
    Shelfline__V1__EventUplift *ups = sl_arena_alloc(a, (nu > 0 ? nu : 1) * sizeof *ups);
    out->model = sl_arena_strdup(a, info.model);
    out->method = sl_arena_strdup(a, fc_method_name(info.method));
    out->reason = sl_arena_strdup(a, info.reason != NULL ? info.reason : "");
    if (out->reason != NULL && quota_why != NULL) {
        size_t len = strlen(out->reason) + strlen(quota_why) + 40;
        char *why = sl_arena_alloc(a, len);
        if (why != NULL)
            snprintf(why, len, "%s; promotion quota not applied: %s", out->reason, quota_why);
        out->reason = why;
    }
    if (out->points == NULL || pts == NULL || out->uplifts == NULL || ups == NULL ||
        out->model == NULL || out->method == NULL || out->reason == NULL) {
        fc_demand_free(&d);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (size_t i = 0; i < h; i++) {
        shelfline__v1__forecast_point__init(&pts[i]);
        pts[i].day = day_str(a, d.today + (int32_t)i);
        if (pts[i].day == NULL) {
            fc_demand_free(&d);
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        }
        pts[i].point = pt[i];
        pts[i].lo80 = lo80[i], pts[i].hi80 = hi80[i];
        pts[i].lo95 = lo95[i], pts[i].hi95 = hi95[i];
        pts[i].event = (Shelfline__V1__EventKind)d.future_kind[i];
        pts[i].overridden = d.overridden[i] != 0;
        pts[i].statistical = d.statistical[i];
        out->points[i] = &pts[i];
    }
    out->n_points = h;
    for (size_t i = 0; i < nu; i++) {
        fc_uplift u;
        fc_forecast_uplift(d.fc, i, &u);
        shelfline__v1__event_uplift__init(&ups[i]);
        ups[i].kind = (Shelfline__V1__EventKind)u.event;
        ups[i].factor = u.factor;
        ups[i].past_days = (int32_t)u.past_days;
        bool capped = opts.n_quotas > 0 && quota.event == u.event;
        ups[i].quota_units = capped ? quota.units : -1;
        ups[i].quota_left = capped && isfinite(u.quota_left) ? u.quota_left : -1;
        out->uplifts[i] = &ups[i];
    }
    out->n_uplifts = nu;
    out->backtest_mase = isfinite(info.backtest_mase) ? info.backtest_mase : -1;
    out->backtest_smape = isfinite(info.backtest_smape) ? info.backtest_smape : -1;
    out->history_days = (int32_t)d.hist.n;
    out->stockout_days = (int32_t)d.stockout_days;
    out->yearly_seasonality = info.long_season != 0;
    out->intraday_refreshed = d.intraday;
    out->intraday_ratio = d.ratio;
    out->intraday_hours = d.hours_done;
    out->intraday_units = (int64_t)llround(d.today_units);
    out->intraday_flat_profile = d.intraday && d.flat_profile;
    /* The forecast as issued is kept for GetForecastAccuracy.  Storing it
     * is part of answering: a forecast the service cannot score later is
     * still a good forecast, but failing quietly would leave holes in the
     * record that bias the accuracy report, so an error is an error. */
    issue_ctx ic = {r->sku, r->region, &d, a};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    st = sl_db_tx(FC_APP(call)->db, &o, issue_tx, &ic, err);
    fc_demand_free(&d);
    return st;
}

/* ---- stock and inbound from inventory ---- */

typedef struct stock_view {
    const char *region;
    int64_t available, open_inbound;
    double *arrivals;     /* per forecast day */
    int32_t next_inbound; /* day number, INT32_MAX: none */
} stock_view;

/* Adds the open inbound of sku (to warehouse, or to any of the n_wh
 * warehouses in whs) into v over horizon days from today. */
static sl_status add_inbound(fc_app *app, sl_call *call, const char *sku, const char *warehouse,
                             char **whs, size_t n_wh, int32_t today, int horizon, sl_arena *a,
                             stock_view *v, sl_err *err)
{
    Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
    pg.page_size = 1000;
    Shelfline__V1__ListInboundRequest lr = SHELFLINE__V1__LIST_INBOUND_REQUEST__INIT;
    lr.page = &pg;
    lr.sku = (char *)sku;
    lr.warehouse_id = (char *)(warehouse != NULL ? warehouse : "");
    lr.open_only = true;
    Shelfline__V1__Inbound **inb;
    size_t n_inb;
    sl_status st = fc_inventory_list(app, call, "ListInbound", &lr.base, &pg,
                                     &shelfline__v1__list_inbound_response__descriptor, "inbounds",
                                     a, &inb, &n_inb, err);
    if (st != SL_OK)
        return st;
    for (size_t i = 0; i < n_inb; i++) {
        const Shelfline__V1__Inbound *in = inb[i];
        if (in->closed || in->open_qty <= 0)
            continue;
        if (warehouse == NULL) {
            bool mine = false;
            for (size_t k = 0; k < n_wh && !mine; k++)
                mine = strcmp(whs[k], in->warehouse_id) == 0;
            if (!mine)
                continue;
        }
        v->open_inbound += in->open_qty;
        int32_t day = (int32_t)(in->expected_at_ms / 86400000LL);
        if (day < v->next_inbound)
            v->next_inbound = day;
        long idx = day - today;
        if (idx < 0)
            idx = 0;
        if (idx < horizon)
            v->arrivals[idx] += (double)in->open_qty;
    }
    return SL_OK;
}

/* Stock of sku in one warehouse (and its region), or over a region's
 * serving warehouses. */
static sl_status load_stock(fc_app *app, sl_call *call, const char *sku, const char *warehouse,
                            const char *region, int32_t today, int horizon, sl_arena *a,
                            stock_view *v, sl_err *err)
{
    memset(v, 0, sizeof *v);
    v->next_inbound = INT32_MAX;
    v->arrivals = sl_arena_zalloc(a, (size_t)horizon * sizeof *v->arrivals);
    if (v->arrivals == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_status st;
    if (warehouse != NULL) {
        Shelfline__V1__GetWarehouseRequest gw = SHELFLINE__V1__GET_WAREHOUSE_REQUEST__INIT;
        gw.warehouse_id = (char *)warehouse;
        Shelfline__V1__Warehouse *w;
        if ((st = fc_inventory_call(app, call, "GetWarehouse", &gw.base,
                                    &shelfline__v1__warehouse__descriptor, a, &w, err)) != SL_OK)
            return st;
        v->region = w->region;
        Shelfline__V1__GetStockRequest gs = SHELFLINE__V1__GET_STOCK_REQUEST__INIT;
        gs.sku = (char *)sku;
        gs.warehouse_id = (char *)warehouse;
        Shelfline__V1__GetStockResponse *s;
        if ((st = fc_inventory_call(app, call, "GetStock", &gs.base,
                                    &shelfline__v1__get_stock_response__descriptor, a, &s, err)) !=
            SL_OK)
            return st;
        for (size_t i = 0; i < s->n_levels; i++)
            v->available += s->levels[i]->available;
        return add_inbound(app, call, sku, warehouse, NULL, 0, today, horizon, a, v, err);
    }
    v->region = region;
    char *skus[] = {(char *)sku};
    Shelfline__V1__GetAvailabilityRequest ga = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
    ga.skus = skus;
    ga.n_skus = 1;
    ga.region = (char *)region;
    Shelfline__V1__GetAvailabilityResponse *av;
    if ((st = fc_inventory_call(app, call, "GetAvailability", &ga.base,
                                &shelfline__v1__get_availability_response__descriptor, a, &av,
                                err)) != SL_OK)
        return st;
    if (av->n_items < 1)
        return sl_err_set(err, SL_INTERNAL, "inventory GetAvailability answered no item");
    const Shelfline__V1__Availability *it = av->items[0];
    v->available = it->available;
    char **whs = sl_arena_alloc(a, (it->n_warehouses > 0 ? it->n_warehouses : 1) * sizeof *whs);
    if (whs == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < it->n_warehouses; i++)
        whs[i] = it->warehouses[i]->warehouse_id;
    return add_inbound(app, call, sku, NULL, whs, it->n_warehouses, today, horizon, a, v, err);
}

/* ---- GetReplenishmentPlan ---- */

#define PLAN_HORIZON 365
#define COVER_DAYS 28

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

static sl_status check_range(const char *field, double v, double lo, double hi, sl_err *err)
{
    if (!isfinite(v) || v < lo || v > hi)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s must be in %g..%g, got %g", field, lo, hi,
                          v);
    return SL_OK;
}

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

sl_status fc_api_plan(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                      sl_err *err)
{
    const Shelfline__V1__GetReplenishmentPlanRequest *r =
        (const Shelfline__V1__GetReplenishmentPlanRequest *)req;
    Shelfline__V1__ReplenishmentPlan *out = (Shelfline__V1__ReplenishmentPlan *)resp;
    fc_app *app = FC_APP(call);
    sl_arena *a = sl_call_arena(call);
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, false, err)) != SL_OK)
        return st;
    bool by_wh = r->warehouse_id[0] != '\0', by_region = r->region[0] != '\0';
    if (by_wh == by_region)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "exactly one of warehouse_id and region must be set");
    if ((by_wh && (st = fc_valid_id("warehouse_id", r->warehouse_id, false, err)) != SL_OK) ||
        (by_region && (st = fc_valid_region("region", r->region, false, err)) != SL_OK))
        return st;
    bool by_supplier = r->supplier[0] != '\0';
    if (strlen(r->supplier) > 200)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "supplier must be at most 200 bytes");
    if ((r->service_level != 0 &&
         (st = check_range("service_level", r->service_level, 0.5, 0.9999, err)) != SL_OK) ||
        ((!by_supplier || r->lead_time_days != 0) &&
         (st = check_range("lead_time_days", r->lead_time_days, 1, 365, err)) != SL_OK) ||
        (st = check_range("lead_time_stddev_days", r->lead_time_stddev_days, 0, 365, err)) !=
            SL_OK ||
        (st = check_range("review_period_days", r->review_period_days, 0, 365, err)) != SL_OK)
        return st;
    if (r->moq < 0 || r->moq > 1000000000)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "moq must be in 0..1000000000, got %lld",
                          (long long)r->moq);
    if (r->pack_size < 0 || r->pack_size > 1000000)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "pack_size must be in 0..1000000, got %lld",
                          (long long)r->pack_size);

    int32_t today = fc_day_today();
    stock_view v;
    if ((st = load_stock(app, call, r->sku, by_wh ? r->warehouse_id : NULL,
                         by_wh ? NULL : r->region, today, PLAN_HORIZON, a, &v, err)) != SL_OK)
        return st;
    class_ctx cc = {r->sku, v.region, r->service_level, "", false};
    cc.supplier = by_supplier ? r->supplier : NULL;
    cc.warehouse_id = by_wh ? r->warehouse_id : NULL;
    cc.a = a;
    sl_db_tx_options ro = {.read_only = true, .deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(app->db, &ro, class_tx, &cc, err)) != SL_OK)
        return st;
    if (r->service_level == 0 && !cc.found)
        return sl_err_set(err, SL_FAILED_PRECONDITION,
                          "service_level is 0 but sku \"%s\" has no ABC/XYZ class in region "
                          "\"%s\" nor in the network (ClassifySkus)",
                          r->sku, v.region);
    double lead = 0, lead_sd = 0;
    fc_lead_source src =
        fc_plan_lead_time(by_supplier ? &cc.lead_sw : NULL, by_supplier ? &cc.lead_s : NULL,
                          r->lead_time_days, r->lead_time_stddev_days, &lead, &lead_sd);
    if (src == FC_LEAD_NONE)
        return sl_err_set(err, SL_FAILED_PRECONDITION,
                          "lead_time_days is 0 but supplier \"%s\" has fewer than %d receipts "
                          "in the last 365 days to learn a lead time from",
                          r->supplier, FC_LEAD_MIN_RECEIPTS);
    double *pts, sd;
    const char *model;
    if ((st = demand_points(app, call, r->sku, v.region, PLAN_HORIZON, a, &pts, &sd, &model,
                            err)) != SL_OK)
        return st;
    size_t lr = (size_t)ceil(lead + r->review_period_days);
    fc_plan_in in = {
        .mean_demand = span_mean(pts, PLAN_HORIZON, lr),
        .demand_sd = sd,
        .service_level = cc.level,
        .lead_time = lead,
        .lead_time_sd = lead_sd,
        .review_period = r->review_period_days,
        .moq = r->moq,
        .pack = r->pack_size,
        .available = v.available < 0 ? 0 : v.available,
        .open_inbound = v.open_inbound,
    };
    fc_plan_out p;
    if ((st = fc_plan_compute(&in, &p, err)) != SL_OK)
        return st;
    out->sku = r->sku;
    out->warehouse_id = r->warehouse_id;
    out->region = (char *)v.region;
    out->mean_daily_demand = in.mean_demand;
    out->daily_demand_stddev = sd;
    out->z = p.z;
    out->safety_stock = p.safety_stock;
    out->reorder_point = p.reorder_point;
    out->order_up_to = p.order_up_to;
    out->available = in.available;
    out->open_inbound = v.open_inbound;
    out->inventory_position = p.position;
    out->suggested_order_qty = p.order_qty;
    out->model = (char *)model;
    out->service_level = cc.level;
    out->lead_time_days = lead;
    out->lead_time_stddev_days = lead_sd;
    out->lead_time_source = src == FC_LEAD_SUPPLIER_WAREHOUSE ? "supplier x warehouse"
                            : src == FC_LEAD_SUPPLIER         ? "supplier"
                                                              : "request";
    out->lead_time_receipts = (int32_t)(src == FC_LEAD_SUPPLIER_WAREHOUSE ? cc.lead_sw.receipts
                                        : src == FC_LEAD_SUPPLIER         ? cc.lead_s.receipts
                                                                          : 0);
    out->abc_xyz_class = sl_arena_strdup(a, cc.code);
    if (out->abc_xyz_class == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    long so = fc_plan_stockout_day(pts, v.arrivals, PLAN_HORIZON, (double)in.available);
    out->projected_stockout_day = so >= 0 ? day_str(a, today + (int32_t)so) : "";
    double m28 = span_mean(pts, PLAN_HORIZON, COVER_DAYS);
    out->days_of_cover = fc_plan_cover((double)p.position, m28);
    out->next_inbound_day = v.next_inbound != INT32_MAX ? day_str(a, v.next_inbound) : "";
    if (out->projected_stockout_day == NULL || out->next_inbound_day == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");

    /* Alerts: running out (from available stock alone) before the next
     * inbound arrives; cover beyond three times the order-up-to level. */
    Shelfline__V1__Alert *al[2];
    size_t nal = 0;
    const char *where = by_wh ? r->warehouse_id : r->region;
    char *today_s = day_str(a, today);
    long dry = fc_plan_stockout_day(pts, NULL, PLAN_HORIZON, (double)in.available);
    if (today_s == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    if (dry >= 0 && (v.next_inbound == INT32_MAX || today + dry < v.next_inbound)) {
        Shelfline__V1__Alert *x = sl_arena_alloc(a, sizeof *x);
        char *id = sl_arena_alloc(a, 200), *msg = sl_arena_alloc(a, 256);
        char *dry_s = day_str(a, today + (int32_t)dry);
        if (x == NULL || id == NULL || msg == NULL || dry_s == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__alert__init(x);
        snprintf(id, 200, "PSO/%s/%s/%s", r->sku, where, today_s);
        snprintf(msg, 256, "%s in %s runs out on %s, %s", r->sku, where, dry_s,
                 v.next_inbound == INT32_MAX ? "with no inbound open" : "before its next inbound");
        x->alert_id = id;
        x->kind = SHELFLINE__V1__ALERT_KIND__PROJECTED_STOCKOUT;
        x->stockout_day = dry_s;
        x->next_inbound_day = out->next_inbound_day;
        x->message = msg;
        al[nal++] = x;
    }
    if ((double)p.position > 3 * p.order_up_to && p.position > 0) {
        Shelfline__V1__Alert *x = sl_arena_alloc(a, sizeof *x);
        char *id = sl_arena_alloc(a, 200), *msg = sl_arena_alloc(a, 256);
        if (x == NULL || id == NULL || msg == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__alert__init(x);
        snprintf(id, 200, "OVS/%s/%s/%s", r->sku, where, today_s);
        snprintf(msg, 256, "%s in %s holds %lld units, over 3x its order-up-to level %.1f", r->sku,
                 where, (long long)p.position, p.order_up_to);
        x->alert_id = id;
        x->kind = SHELFLINE__V1__ALERT_KIND__OVERSTOCK;
        x->message = msg;
        x->stockout_day = "";
        x->next_inbound_day = "";
        al[nal++] = x;
    }
    for (size_t i = 0; i < nal; i++) {
        al[i]->sku = r->sku;
        al[i]->region = (char *)v.region;
        al[i]->warehouse_id = r->warehouse_id;
        al[i]->day = today_s;
        al[i]->forecast = in.mean_demand;
        al[i]->stock = (double)p.position;
    }
    if (nal > 0) {
        alerts_ctx ac = {app, al, nal};
        sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
        if ((st = sl_db_tx(app->db, &o, alerts_tx, &ac, err)) != SL_OK)
            return st;
        out->alerts = sl_arena_alloc(a, nal * sizeof *out->alerts);
        if (out->alerts == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        memcpy(out->alerts, al, nal * sizeof *al);
        out->n_alerts = nal;
    }
    return SL_OK;
}

/* ---- SuggestTransfers ---- */

/* The SKU's network as SuggestTransfers sees it: regions with their
 * available units, next inbound and warehouses, and every transit time. */
typedef struct transfer_net {
    fc_transfer_region *regions;
    int32_t *next_inbound; /* per region: day number, INT32_MAX: none */
    int64_t *source_avail; /* per region: what its source warehouse holds */
    size_t n;
    fc_transfer_route *routes;
    size_t n_routes;
} transfer_net;

/* The region of net named region, added when new (NULL when there are
 * already FC_TRANSFER_MAX_REGIONS). */
static fc_transfer_region *net_region(transfer_net *net, const char *region)
{
    for (size_t i = 0; i < net->n; i++)
        if (strcmp(net->regions[i].region, region) == 0)
            return &net->regions[i];
    if (net->n >= FC_TRANSFER_MAX_REGIONS)
        return NULL;
    fc_transfer_region *x = &net->regions[net->n];
    memset(x, 0, sizeof *x);
    x->region = region;
    net->source_avail[net->n] = 0;
    net->next_inbound[net->n++] = INT32_MAX;
    return x;
}

/* Reads sku's network from inventory, every list to its last page: the
 * warehouses (active ones hold stock; a region's source is its warehouse
 * with the most available, its destination its first), the stock levels,
 * the open inbound (a region's earliest), and the transit times -- one
 * call for all regions, not one per short region. */
static sl_status transfer_network(fc_app *app, sl_call *call, const char *sku, sl_arena *a,
                                  transfer_net *net, sl_err *err)
{
    Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
    pg.page_size = 1000;
    Shelfline__V1__ListWarehousesRequest lw = SHELFLINE__V1__LIST_WAREHOUSES_REQUEST__INIT;
    lw.page = &pg;
    Shelfline__V1__Warehouse **whs;
    size_t n_whs;
    sl_status st = fc_inventory_list(app, call, "ListWarehouses", &lw.base, &pg,
                                     &shelfline__v1__list_warehouses_response__descriptor,
                                     "warehouses", a, &whs, &n_whs, err);
    if (st != SL_OK)
        return st;
    Shelfline__V1__GetStockRequest gs = SHELFLINE__V1__GET_STOCK_REQUEST__INIT;
    gs.sku = (char *)sku;
    Shelfline__V1__GetStockResponse *stock;
    if ((st = fc_inventory_call(app, call, "GetStock", &gs.base,
                                &shelfline__v1__get_stock_response__descriptor, a, &stock, err)) !=
        SL_OK)
        return st;
    net->regions = sl_arena_zalloc(a, FC_TRANSFER_MAX_REGIONS * sizeof *net->regions);
    net->next_inbound = sl_arena_zalloc(a, FC_TRANSFER_MAX_REGIONS * sizeof *net->next_inbound);
    net->source_avail = sl_arena_zalloc(a, FC_TRANSFER_MAX_REGIONS * sizeof *net->source_avail);
    if (net->regions == NULL || net->next_inbound == NULL || net->source_avail == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n_whs; i++) {
        const Shelfline__V1__Warehouse *w = whs[i];
        if (!w->active)
            continue;
        fc_transfer_region *x = net_region(net, w->region);
        if (x == NULL)
            break;
        if (x->dest_wh == NULL)
            x->dest_wh = w->warehouse_id;
        int64_t *best = &net->source_avail[x - net->regions];
        for (size_t k = 0; k < stock->n_levels; k++) {
            const Shelfline__V1__StockLevel *l = stock->levels[k];
            if (strcmp(l->warehouse_id, w->warehouse_id) != 0)
                continue;
            x->available += l->available;
            if (x->source_wh == NULL || l->available > *best)
                x->source_wh = w->warehouse_id, *best = l->available;
        }
    }
    Shelfline__V1__ListInboundRequest li = SHELFLINE__V1__LIST_INBOUND_REQUEST__INIT;
    li.page = &pg;
    li.sku = (char *)sku;
    li.open_only = true;
    Shelfline__V1__Inbound **inb;
    size_t n_inb;
    if ((st = fc_inventory_list(app, call, "ListInbound", &li.base, &pg,
                                &shelfline__v1__list_inbound_response__descriptor, "inbounds", a,
                                &inb, &n_inb, err)) != SL_OK)
        return st;
    for (size_t i = 0; i < n_inb; i++)
        for (size_t k = 0; k < n_whs; k++) {
            if (strcmp(whs[k]->warehouse_id, inb[i]->warehouse_id) != 0)
                continue;
            fc_transfer_region *x = net_region(net, whs[k]->region);
            int32_t day = (int32_t)(inb[i]->expected_at_ms / 86400000LL);
            if (x != NULL && inb[i]->open_qty > 0 && day < net->next_inbound[x - net->regions])
                net->next_inbound[x - net->regions] = day;
        }
    Shelfline__V1__ListTransitTimesRequest lt = SHELFLINE__V1__LIST_TRANSIT_TIMES_REQUEST__INIT;
    lt.page = &pg;
    Shelfline__V1__TransitTime **tts;
    if ((st = fc_inventory_list(app, call, "ListTransitTimes", &lt.base, &pg,
                                &shelfline__v1__list_transit_times_response__descriptor,
                                "transit_times", a, &tts, &net->n_routes, err)) != SL_OK)
        return st;
    net->routes = sl_arena_alloc(a, (net->n_routes + 1) * sizeof *net->routes);
    if (net->routes == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < net->n_routes; i++)
        net->routes[i] =
            (fc_transfer_route){tts[i]->warehouse_id, tts[i]->region, tts[i]->p50_days};
    return SL_OK;
}

/* The answer: the moves, each with why, and every region's position. */
static sl_status transfers_reply(sl_arena *a, const transfer_net *net, const fc_transfer_move *mv,
                                 size_t n_mv, int T, int32_t today,
                                 Shelfline__V1__SuggestTransfersResponse *out, sl_err *err)
{
    size_t nr = net->n;
    out->regions = sl_arena_alloc(a, (nr > 0 ? nr : 1) * sizeof *out->regions);
    out->transfers = sl_arena_alloc(a, (nr > 0 ? nr : 1) * sizeof *out->transfers);
    Shelfline__V1__TransferSuggestion *t = sl_arena_alloc(a, (n_mv + 1) * sizeof *t);
    Shelfline__V1__RegionPosition *p = sl_arena_alloc(a, (nr + 1) * sizeof *p);
    if (out->regions == NULL || out->transfers == NULL || t == NULL || p == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n_mv; i++) {
        const fc_transfer_region *from = &net->regions[mv[i].from], *to = &net->regions[mv[i].to];
        int32_t next = net->next_inbound[mv[i].to];
        char *why = sl_arena_alloc(a, 200);
        if (why == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        long dry = fc_plan_stockout_day(to->demand, NULL, (size_t)T, (double)to->available);
        if (next == INT32_MAX)
            snprintf(why, 200, "%s runs out in %ld days with no inbound open", to->region, dry);
        else
            snprintf(why, 200, "%s runs out in %ld days, next inbound in %d", to->region, dry,
                     (int)(next - today));
        shelfline__v1__transfer_suggestion__init(&t[i]);
        t[i].from_warehouse_id = (char *)from->source_wh;
        t[i].from_region = (char *)from->region;
        t[i].to_region = (char *)to->region;
        t[i].to_warehouse_id = (char *)to->dest_wh;
        t[i].qty = mv[i].qty;
        t[i].transit_days = mv[i].transit_days;
        t[i].reason = why;
        out->transfers[out->n_transfers++] = &t[i];
    }
    for (size_t i = 0; i < nr; i++) {
        const fc_transfer_region *x = &net->regions[i];
        double mean = span_mean(x->demand, (size_t)T, (size_t)T);
        shelfline__v1__region_position__init(&p[i]);
        p[i].region = (char *)x->region;
        p[i].available = x->available;
        p[i].mean_daily_demand = mean;
        p[i].days_of_cover = fc_plan_cover((double)x->available, mean);
        p[i].days_to_next_inbound = x->days_to_inbound == INT32_MAX ? -1 : x->days_to_inbound;
        p[i].surplus = x->surplus;
        p[i].shortage = x->shortage;
        out->regions[i] = &p[i];
    }
    out->n_regions = nr;
    return SL_OK;
}

sl_status fc_api_transfers(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err)
{
    const Shelfline__V1__SuggestTransfersRequest *r =
        (const Shelfline__V1__SuggestTransfersRequest *)req;
    Shelfline__V1__SuggestTransfersResponse *out = (Shelfline__V1__SuggestTransfersResponse *)resp;
    fc_app *app = FC_APP(call);
    sl_arena *a = sl_call_arena(call);
    sl_status st;
    if ((st = fc_valid_id("sku", r->sku, false, err)) != SL_OK)
        return st;
    int T = r->target_cover_days == 0 ? 28 : r->target_cover_days;
    if (T < 1 || T > 365)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "target_cover_days must be in 0..365, got %d",
                          r->target_cover_days);
    int32_t today = fc_day_today();
    transfer_net net = {0};
    if ((st = transfer_network(app, call, r->sku, a, &net, err)) != SL_OK)
        return st;
    for (size_t i = 0; i < net.n; i++) {
        fc_transfer_region *x = &net.regions[i];
        double sd, *pts;
        const char *model;
        if ((st = demand_points(app, call, r->sku, x->region, T, a, &pts, &sd, &model, err)) !=
            SL_OK)
            return st;
        x->demand = pts;
        x->days_to_inbound =
            net.next_inbound[i] == INT32_MAX ? INT32_MAX : net.next_inbound[i] - today;
    }
    fc_transfer_positions(net.regions, net.n, T);
    fc_transfer_move *mv = sl_arena_alloc(a, (net.n + 1) * sizeof *mv);
    if (mv == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    size_t n_mv = fc_transfer_match(net.regions, net.n, T, net.routes, net.n_routes, mv);
    out->sku = r->sku;
    return transfers_reply(a, &net, mv, n_mv, T, today, out, err);
}

/* ---- GetInventoryKpis ---- */

#define KPI_AVG_BATCH 1000 /* SKUs per GetAverageStock call (its limit) */
#define KPI_MAX_SKUS 5000

typedef struct kpi_sku {
    const char *sku;
    int64_t price;
} kpi_sku;

typedef struct kpi_ctx {
    kpi_sku *skus;
    size_t n;
    int32_t from, to;
    int64_t *units;
    int64_t *sku_stockouts;
    char *abc; /* per SKU: its network ABC class, 0 when unclassified */
    int64_t stockouts;
} kpi_ctx;

static sl_status kpi_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    kpi_ctx *c = p;
    c->stockouts = 0;
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
        c->sku_stockouts[i] = so;
        c->stockouts += so;
    }
    return SL_OK;
}

/* KPIs per ABC class of the SKUs the network classification has. */
static sl_status kpi_classes(sl_arena *a, const kpi_ctx *kc, const double *avg, int period_days,
                             Shelfline__V1__InventoryKpis *out, sl_err *err)
{
    out->classes = sl_arena_alloc(a, 3 * sizeof *out->classes);
    Shelfline__V1__ClassKpis *m = sl_arena_alloc(a, 3 * sizeof *m);
    if (out->classes == NULL || m == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    static char *const names[3] = {"A", "B", "C"};
    for (int k = 0; k < 3; k++) {
        double cogs = 0, value = 0, units_avg = 0;
        shelfline__v1__class_kpis__init(&m[k]);
        m[k].abc = names[k];
        for (size_t i = 0; i < kc->n; i++) {
            if (kc->abc[i] != 'A' + k)
                continue;
            m[k].skus++;
            m[k].units_sold += kc->units[i];
            m[k].stockout_days += (int32_t)kc->sku_stockouts[i];
            cogs += (double)kc->units[i] * (double)kc->skus[i].price;
            value += avg[i] * (double)kc->skus[i].price;
            units_avg += avg[i];
        }
        if (m[k].skus == 0)
            continue;
        m[k].cogs_minor_units = (int64_t)llround(cogs);
        m[k].average_inventory_units = units_avg;
        m[k].turnover = fc_plan_turnover(cogs, value, period_days);
        out->classes[out->n_classes++] = &m[k];
    }
    return SL_OK;
}

sl_status fc_api_kpis(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                      sl_err *err)
{
    const Shelfline__V1__GetInventoryKpisRequest *r =
        (const Shelfline__V1__GetInventoryKpisRequest *)req;
    Shelfline__V1__InventoryKpis *out = (Shelfline__V1__InventoryKpis *)resp;
    fc_app *app = FC_APP(call);
    sl_arena *a = sl_call_arena(call);
    sl_status st;
    bool by_sku = r->sku[0] != '\0', by_cat = r->category[0] != '\0';
    if (by_sku == by_cat)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "exactly one of sku and category must be set");
    if (by_sku && (st = fc_valid_id("sku", r->sku, false, err)) != SL_OK)
        return st;
    if (by_cat && strlen(r->category) > 64)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "category is longer than 64 characters");
    if (r->period_days < 7 || r->period_days > 730)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "period_days must be in 7..730, got %d",
                          r->period_days);
    kpi_sku *skus = sl_arena_alloc(a, KPI_MAX_SKUS * sizeof *skus);
    if (skus == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    size_t n = 0;
    const char *category = r->category;
    if (by_sku) {
        Shelfline__V1__GetProductRequest gp = SHELFLINE__V1__GET_PRODUCT_REQUEST__INIT;
        gp.sku = (char *)r->sku;
        Shelfline__V1__Product *p;
        if ((st = fc_inventory_call(app, call, "GetProduct", &gp.base,
                                    &shelfline__v1__product__descriptor, a, &p, err)) != SL_OK)
            return st;
        category = p->category;
        skus[n++] = (kpi_sku){p->sku, p->price != NULL ? p->price->minor_units : 0};
    } else {
        Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
        pg.page_size = 1000;
        pg.page_token = "";
        do {
            Shelfline__V1__ListProductsRequest lp = SHELFLINE__V1__LIST_PRODUCTS_REQUEST__INIT;
            lp.page = &pg;
            lp.category = (char *)r->category;
            Shelfline__V1__ListProductsResponse *pr;
            if ((st = fc_inventory_call(app, call, "ListProducts", &lp.base,
                                        &shelfline__v1__list_products_response__descriptor, a, &pr,
                                        err)) != SL_OK)
                return st;
            for (size_t i = 0; i < pr->n_products && n < KPI_MAX_SKUS; i++)
                skus[n++] = (kpi_sku){
                    pr->products[i]->sku,
                    pr->products[i]->price != NULL ? pr->products[i]->price->minor_units : 0};
            pg.page_token = pr->next_page_token;
        } while (pg.page_token[0] != '\0' && n < KPI_MAX_SKUS);
        if (n == 0)
            return sl_err_set(err, SL_NOT_FOUND, "no products in category \"%s\"", r->category);
    }
    int32_t today = fc_day_today();
    kpi_ctx kc = {skus,
                  n,
                  today - r->period_days,
                  today,
                  sl_arena_zalloc(a, n * sizeof(int64_t)),
                  sl_arena_zalloc(a, n * sizeof(int64_t)),
                  sl_arena_zalloc(a, n),
                  0};
    double *avg = sl_arena_zalloc(a, n * sizeof *avg);
    if (kc.units == NULL || kc.sku_stockouts == NULL || kc.abc == NULL || avg == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_db_tx_options o = {.read_only = true, .deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(app->db, &o, kpi_tx, &kc, err)) != SL_OK)
        return st;
    double cogs = 0, inv_value = 0, inv_units = 0;
    int64_t units = 0;
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
    for (size_t i = 0; i < n; i++) {
        cogs += (double)kc.units[i] * (double)skus[i].price;
        units += kc.units[i];
    }
    int kind;
    double lo, hi;
    fc_plan_benchmark(category, &kind, &lo, &hi);
    double turnover = fc_plan_turnover(cogs, inv_value, r->period_days);
    out->sku = r->sku;
    out->category = (char *)category;
    out->period_days = r->period_days;
    out->skus = (int32_t)n;
    out->units_sold = units;
    out->cogs_minor_units = (int64_t)llround(cogs);
    out->average_inventory_units = inv_units;
    out->turnover = turnover;
    out->days_of_inventory = turnover > 0 ? 365.0 / turnover : (turnover < 0 ? 0 : -1);
    out->stockout_days = (int32_t)kc.stockouts;
    out->benchmark = (Shelfline__V1__KpiBenchmark)kind;
    out->benchmark_low = lo;
    out->benchmark_high = hi;
    out->overstock = turnover >= 0 && turnover < lo && inv_units > 0;
    out->understock = turnover < 0 || turnover > hi;
    return kpi_classes(a, &kc, avg, r->period_days, out, err);
}
