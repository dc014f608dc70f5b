/*
 * shelfline's planning commands: `forecast SKU REGION` (forecasting's
 * ForecastDemand) and `clv CUSTOMER` (customer-value's GetCustomerValue).
 */
#include <stdio.h>

#include "cli.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/forecasting.pb-c.h"

int cli_forecast(cli *c)
{
    Shelfline__V1__ForecastDemandRequest req = SHELFLINE__V1__FORECAST_DEMAND_REQUEST__INIT;
    req.sku = (char *)c->pos[0];
    req.region = (char *)c->pos[1];
    int64_t horizon = 14;
    if (cli_value(c, "horizon") != NULL &&
        !cli_int(c, "--horizon", cli_value(c, "horizon"), 1, 365, &horizon))
        return CLI_EXIT_USAGE;
    req.horizon_days = (int32_t)horizon;
    if (cli_value(c, "method") != NULL)
        req.method = (char *)cli_value(c, "method");
    ProtobufCMessage *m;
    if (cli_call(c, "ForecastDemand", &req.base,
                 &shelfline__v1__forecast_demand_response__descriptor, &m) != CLI_EXIT_OK)
        return CLI_EXIT_FAILED;
    if (c->json)
        return cli_print_json(c, m);
    const Shelfline__V1__ForecastDemandResponse *r =
        (const Shelfline__V1__ForecastDemandResponse *)m;
    cli_kv("sku", "%s", r->sku);
    cli_kv("region", "%s", r->region);
    cli_kv("model", "%s (%s)", r->model, r->method);
    cli_kv("why", "%s", r->reason);
    if (r->backtest_mase >= 0)
        cli_kv("backtest", "MASE %.3f, sMAPE %.1f%%", r->backtest_mase, r->backtest_smape);
    cli_kv("history", "%d days (%d stock-out days)", r->history_days, r->stockout_days);
    static const char *const head[] = {"DAY", "POINT", "LO80", "HI80", "LO95", "HI95", "EVENT"};
    cli_table t;
    cli_table_init(&t, c, 7, head);
    for (size_t i = 0; i < r->n_points; i++) {
        const Shelfline__V1__ForecastPoint *p = r->points[i];
        cli_table_cell(&t, p->day);
        cli_table_cell(&t, cli_fmt(c, "%.1f%s", p->point, p->overridden ? "*" : ""));
        cli_table_cell(&t, cli_fmt(c, "%.1f", p->lo80));
        cli_table_cell(&t, cli_fmt(c, "%.1f", p->hi80));
        cli_table_cell(&t, cli_fmt(c, "%.1f", p->lo95));
        cli_table_cell(&t, cli_fmt(c, "%.1f", p->hi95));
        cli_table_cell(&t, p->event != 0 ? cli_enum(&shelfline__v1__event_kind__descriptor,
                                                    (int)p->event, "EVENT_KIND_")
                                         : "");
    }
    cli_table_print(&t);
    return CLI_EXIT_OK;
}

static const char *money_or_dash(cli *c, const Shelfline__V1__Money *m)
{
    return m != NULL ? cli_money(c, m->minor_units, m->currency) : "-";
}

int cli_clv(cli *c)
{
    Shelfline__V1__GetCustomerValueRequest req = SHELFLINE__V1__GET_CUSTOMER_VALUE_REQUEST__INIT;
    req.customer_id = (char *)c->pos[0];
    ProtobufCMessage *m;
    if (cli_call(c, "GetCustomerValue", &req.base, &shelfline__v1__customer_value__descriptor,
                 &m) != CLI_EXIT_OK)
        return CLI_EXIT_FAILED;
    if (c->json)
        return cli_print_json(c, m);
    const Shelfline__V1__CustomerValue *v = (const Shelfline__V1__CustomerValue *)m;
    cli_kv("customer", "%s", v->customer_id);
    cli_kv("region", "%s", v->region);
    cli_kv("tier", "%s",
           cli_enum(&shelfline__v1__customer_tier__descriptor, (int)v->tier, "CUSTOMER_TIER_"));
    cli_kv("orders", "%lld (last %s)", (long long)v->orders, cli_time(c, v->last_purchase_at_ms));
    cli_kv("spend", "%s", money_or_dash(c, v->total_spend));
    cli_kv("simple clv", "%s", money_or_dash(c, v->simple_clv));
    if (v->model_fitted) {
        cli_kv("model clv", "%s (fit %lld)", money_or_dash(c, v->model_clv), (long long)v->fit_id);
        cli_kv("p(alive)", "%.3f", v->p_alive);
        cli_kv("expected", "%.2f purchases in 30 d, %.2f in 90 d, %.2f in 365 d",
               v->expected_purchases_30d, v->expected_purchases_90d, v->expected_purchases_365d);
    } else {
        cli_kv("model clv", "- (no model fit yet)");
    }
    cli_kv("next order", "%s", money_or_dash(c, v->expected_order_value));
    if (v->rfm != NULL)
        cli_kv("rfm", "R%d F%d M%d, %s", v->rfm->recency, v->rfm->frequency, v->rfm->monetary,
               v->rfm->segment);
    for (size_t i = 0; i < v->n_top_categories; i++)
        cli_kv(i == 0 ? "interests" : "", "%s (%.2f)", v->top_categories[i]->category,
               v->top_categories[i]->score);
    return CLI_EXIT_OK;
}
