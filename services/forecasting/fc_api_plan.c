/*
 * fc_api_plan: the read side -- ForecastDemand, GetReplenishmentPlan,
 * SuggestTransfers, GetInventoryKpis: each handler hands its (validated)
 * request to its domain module and builds the reply.
 *
 *   ForecastDemand        fc_promo (the promotion cap), fc_demand (the
 *                         forecast, and the record of it as issued, which
 *                         GetForecastAccuracy scores once the days' sales
 *                         are in)
 *   GetReplenishmentPlan  fc_replenish
 *   SuggestTransfers      fc_stock (the network), fc_demand, fc_transfer
 *   GetInventoryKpis      fc_kpi
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

#include "fc_api.h"
#include "fc_app.h"
#include "fc_kpi.h"
#include "fc_plan.h"
#include "fc_promo.h"
#include "fc_replenish.h"
#include "fc_stock.h"
#include "fc_transfer.h"
#include "fc_valid.h"
#include "sl_metrics.h"
#include "sl_page.h"

/* ---- ForecastDemand ---- */

/* The event uplifts of d's forecast (quota: the promotion cap applied
 * when n_quotas is 1). */
static sl_status forecast_uplifts(sl_arena *a, const fc_demand *d, const fc_quota *quota,
                                  size_t n_quotas, Shelfline__V1__ForecastDemandResponse *out,
                                  sl_err *err)
{
    size_t nu = fc_forecast_n_uplifts(d->fc);
    out->uplifts = sl_arena_alloc(a, (nu > 0 ? nu : 1) * sizeof *out->uplifts);
    Shelfline__V1__EventUplift *ups = sl_arena_alloc(a, (nu > 0 ? nu : 1) * sizeof *ups);
    if (out->uplifts == NULL || ups == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < nu; i++) {
        fc_uplift u;
        fc_forecast_uplift(d->fc, i, &u);
        shelfline__v1__event_uplift__init(&ups[i]);
        ups[i].kind = (Shelfline__V1__EventKind)u.event;
        ups[i].factor = u.factor;
        ups[i].past_days = (int32_t)u.past_days;
        bool capped = n_quotas > 0 && quota->event == u.event;
        ups[i].quota_units = capped ? quota->units : -1;
        ups[i].quota_left = capped && isfinite(u.quota_left) ? u.quota_left : -1;
        out->uplifts[i] = &ups[i];
    }
    out->n_uplifts = nu;
    return SL_OK;
}

/* ForecastDemand's answer from the forecast d (quota: the promotion cap
 * applied when n_quotas is 1; quota_why: why none was, or NULL). */
static sl_status forecast_reply(sl_arena *a, const Shelfline__V1__ForecastDemandRequest *r,
                                const fc_demand *d, const fc_quota *quota, size_t n_quotas,
                                const char *quota_why, Shelfline__V1__ForecastDemandResponse *out,
                                sl_err *err)
{
    size_t h = fc_forecast_horizon(d->fc), nl = fc_forecast_n_levels(d->fc);
    const double *pt = fc_forecast_points(d->fc);
    const double *lo80 = pt, *hi80 = pt, *lo95 = pt, *hi95 = pt;
    for (size_t i = 0; i < nl; i++) {
        double lv = fc_forecast_level(d->fc, i);
        if (fabs(lv - 80) < 1e-9)
            lo80 = fc_forecast_lower(d->fc, i), hi80 = fc_forecast_upper(d->fc, i);
        if (fabs(lv - 95) < 1e-9)
            lo95 = fc_forecast_lower(d->fc, i), hi95 = fc_forecast_upper(d->fc, i);
    }
    fc_info info;
    fc_forecast_info(d->fc, &info);
    out->sku = r->sku;
    out->region = r->region;
    out->points = sl_arena_alloc(a, h * sizeof *out->points);
    Shelfline__V1__ForecastPoint *pts = sl_arena_alloc(a, h * sizeof *pts);
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
    if (out->points == NULL || pts == NULL || out->model == NULL || out->method == NULL ||
        out->reason == NULL) {
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (size_t i = 0; i < h; i++) {
        shelfline__v1__forecast_point__init(&pts[i]);
        pts[i].day = fc_day_dup(a, d->today + (int32_t)i);
        if (pts[i].day == NULL) {
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        }
        pts[i].point = pt[i];
        pts[i].lo80 = lo80[i], pts[i].hi80 = hi80[i];
        pts[i].lo95 = lo95[i], pts[i].hi95 = hi95[i];
        pts[i].event = (Shelfline__V1__EventKind)d->future_kind[i];
        pts[i].overridden = d->overridden[i] != 0;
        pts[i].statistical = d->statistical[i];
        out->points[i] = &pts[i];
    }
    out->n_points = h;
    out->backtest_mase = isfinite(info.backtest_mase) ? info.backtest_mase : -1;
    out->backtest_smape = isfinite(info.backtest_smape) ? info.backtest_smape : -1;
    out->history_days = (int32_t)d->hist.n;
    out->stockout_days = (int32_t)d->stockout_days;
    out->yearly_seasonality = info.long_season != 0;
    out->intraday_refreshed = d->intraday;
    out->intraday_ratio = d->ratio;
    out->intraday_hours = d->hours_done;
    out->intraday_units = (int64_t)llround(d->today_units);
    out->intraday_flat_profile = d->intraday && d->flat_profile;
    return forecast_uplifts(a, d, quota, n_quotas, out, err);
}
/* shelfline_forecasting_forecasts_total{model}: ForecastDemand answers by
 * the method that made the forecast (out->method, one of FC_METHOD_LIST's
 * names, never "auto": what the automatic choice picked), so bounded. */
static void count_forecast(const char *method)
{
    sl_metric_add(sl_metric_with(sl_metric_counter("shelfline_forecasting_forecasts_total",
                                                   "ForecastDemand answers by the method that "
                                                   "made the forecast (the chosen model).",
                                                   (const char *[]){"model", NULL}),
                                 (const char *[]){method}),
                  1);
}

sl_status fc_api_forecast(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err)
{
    const Shelfline__V1__ForecastDemandRequest *r =
        (const Shelfline__V1__ForecastDemandRequest *)req;
    Shelfline__V1__ForecastDemandResponse *out = (Shelfline__V1__ForecastDemandResponse *)resp;
    fc_app *app = FC_APP(call);
    sl_arena *a = sl_call_arena(call);
    int64_t deadline = sl_call_deadline_ms(call);
    fc_quota quota;
    const char *quota_why = NULL;
    fc_demand_opts opts = {.method = r->method, .quotas = &quota};
    sl_status st = fc_promo_quota(app, call, r->sku, r->region, fc_day_today(), r->horizon_days, a,
                                  &quota, &opts.n_quotas, &quota_why, err);
    if (st != SL_OK)
        return st;
    fc_demand d;
    st = fc_demand_run_db(app->db, deadline, r->sku, r->region, r->horizon_days, &opts, a, &d, err);
    if (st != SL_OK)
        return st;
    st = forecast_reply(a, r, &d, &quota, opts.n_quotas, quota_why, out, err);
    /* The forecast as issued is kept for GetForecastAccuracy.  Storing it
     * is part of answering: a forecast the service cannot score later is
     * still a good forecast, but failing quietly would leave holes in the
     * record that bias the accuracy report, so an error is an error. */
    if (st == SL_OK)
        st = fc_demand_issue_db(app->db, deadline, r->sku, r->region, &d, a, err);
    if (st == SL_OK)
        count_forecast(out->method);
    fc_demand_free(&d);
    return st;
}

/* ---- GetReplenishmentPlan ---- */

static const char *lead_source_name(fc_lead_source src)
{
    switch (src) {
    case FC_LEAD_SUPPLIER_WAREHOUSE:
        return "supplier x warehouse";
    case FC_LEAD_SUPPLIER:
        return "supplier";
    case FC_LEAD_NONE:
    case FC_LEAD_REQUEST:
        break;
    }
    return "request";
}

sl_status fc_api_plan(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                      sl_err *err)
{
    const Shelfline__V1__GetReplenishmentPlanRequest *r =
        (const Shelfline__V1__GetReplenishmentPlanRequest *)req;
    Shelfline__V1__ReplenishmentPlan *out = (Shelfline__V1__ReplenishmentPlan *)resp;
    sl_arena *a = sl_call_arena(call);
    fc_replenish p;
    sl_status st = fc_replenish_run(FC_APP(call), call, r, &p, err);
    if (st != SL_OK)
        return st;
    out->sku = r->sku;
    out->warehouse_id = r->warehouse_id;
    out->region = (char *)p.stock.region;
    out->mean_daily_demand = p.in.mean_demand;
    out->daily_demand_stddev = p.demand_sd;
    out->z = p.out.z;
    out->safety_stock = p.out.safety_stock;
    out->reorder_point = p.out.reorder_point;
    out->order_up_to = p.out.order_up_to;
    out->available = p.in.available;
    out->open_inbound = p.stock.open_inbound;
    out->inventory_position = p.out.position;
    out->suggested_order_qty = p.out.order_qty;
    out->model = (char *)p.model;
    out->service_level = p.service_level;
    out->lead_time_days = p.lead;
    out->lead_time_stddev_days = p.lead_sd;
    out->lead_time_source = (char *)lead_source_name(p.lead_src);
    out->lead_time_receipts = (int32_t)p.lead_receipts;
    out->abc_xyz_class = sl_arena_strdup(a, p.class_code);
    out->projected_stockout_day =
        p.stockout >= 0 ? fc_day_dup(a, p.today + (int32_t)p.stockout) : "";
    out->days_of_cover = p.days_of_cover;
    out->next_inbound_day =
        p.stock.next_inbound != INT32_MAX ? fc_day_dup(a, p.stock.next_inbound) : "";
    out->alerts = sl_arena_alloc(a, (p.n_alerts > 0 ? p.n_alerts : 1) * sizeof *out->alerts);
    if (out->abc_xyz_class == NULL || out->projected_stockout_day == NULL ||
        out->next_inbound_day == NULL || out->alerts == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(out->alerts, p.alerts, p.n_alerts * sizeof *p.alerts);
    out->n_alerts = p.n_alerts;
    return SL_OK;
}

/* ---- SuggestTransfers ---- */

/* The answer: the moves, each with why, and every region's position. */
static sl_status transfers_reply(sl_arena *a, const fc_stock_net *net, const fc_transfer_move *mv,
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
        double mean = fc_plan_span_mean(x->demand, (size_t)T, (size_t)T);
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
    int T = r->target_cover_days == 0 ? 28 : r->target_cover_days;
    int32_t today = fc_day_today();
    fc_stock_net net = {0};
    sl_status st = fc_stock_network(app, call, r->sku, a, &net, err);
    if (st != SL_OK)
        return st;
    for (size_t i = 0; i < net.n; i++) {
        fc_transfer_region *x = &net.regions[i];
        double sd, *pts;
        const char *model;
        if ((st = fc_demand_points(app->db, sl_call_deadline_ms(call), r->sku, x->region, T, a,
                                   &pts, &sd, &model, err)) != SL_OK)
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

/* KPIs per ABC class of the SKUs the network classification has. */
static sl_status kpi_classes(sl_arena *a, const fc_kpi *k, int period_days,
                             Shelfline__V1__InventoryKpis *out, sl_err *err)
{
    out->classes = sl_arena_alloc(a, 3 * sizeof *out->classes);
    Shelfline__V1__ClassKpis *m = sl_arena_alloc(a, 3 * sizeof *m);
    if (out->classes == NULL || m == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    static char *const names[3] = {"A", "B", "C"};
    for (int i = 0; i < 3; i++) {
        fc_kpi_class c;
        fc_kpi_class_sum(k, (char)('A' + i), &c);
        if (c.skus == 0)
            continue;
        shelfline__v1__class_kpis__init(&m[i]);
        m[i].abc = names[i];
        m[i].skus = c.skus;
        m[i].units_sold = c.units_sold;
        m[i].stockout_days = c.stockout_days;
        m[i].cogs_minor_units = (int64_t)llround(c.cogs);
        m[i].average_inventory_units = c.units_avg;
        m[i].average_inventory_value_minor_units = c.value;
        m[i].turnover = fc_plan_turnover(c.cogs, c.value, period_days);
        out->classes[out->n_classes++] = &m[i];
    }
    return SL_OK;
}

sl_status fc_api_kpis(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                      sl_err *err)
{
    const Shelfline__V1__GetInventoryKpisRequest *r =
        (const Shelfline__V1__GetInventoryKpisRequest *)req;
    Shelfline__V1__InventoryKpis *out = (Shelfline__V1__InventoryKpis *)resp;
    fc_kpi k;
    sl_status st = fc_kpi_run(FC_APP(call), call, r, &k, err);
    if (st != SL_OK)
        return st;
    int kind;
    double lo, hi;
    fc_plan_benchmark(k.category, &kind, &lo, &hi);
    double turnover = fc_plan_turnover(k.cogs, k.inv_value, r->period_days);
    out->sku = r->sku;
    out->category = (char *)k.category;
    out->period_days = r->period_days;
    out->skus = (int32_t)k.n;
    out->units_sold = k.units_sold;
    out->cogs_minor_units = (int64_t)llround(k.cogs);
    out->average_inventory_units = k.inv_units;
    out->average_inventory_value_minor_units = k.inv_value;
    if (k.more && (out->next_page_token =
                       sl_page_token_encode(sl_call_arena(call), k.skus[k.n - 1].sku)) == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    out->turnover = turnover;
    out->days_of_inventory = turnover > 0 ? 365.0 / turnover : (turnover < 0 ? 0 : -1);
    out->stockout_days = (int32_t)k.stockout_days;
    out->benchmark = (Shelfline__V1__KpiBenchmark)kind;
    out->benchmark_low = lo;
    out->benchmark_high = hi;
    out->overstock = turnover >= 0 && turnover < lo && k.inv_units > 0;
    out->understock = turnover < 0 || turnover > hi;
    return kpi_classes(sl_call_arena(call), &k, r->period_days, out, err);
}
