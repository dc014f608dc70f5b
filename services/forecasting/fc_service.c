/*
 * fc_service: start-up of the forecasting service -- its method table,
 * published topics (alerts) and the consumer of inventory's events.
 *
 * Configuration (besides sl_service's):
 *   SHELFLINE_FC_INVENTORY_TIMEOUT  deadline of each call to inventory [5s]
 *   SHELFLINE_FC_CONSUME            follow inventory's events (sales from
 *                                   RESERVATION_COMMITTED, stock-out days
 *                                   from OUT_OF_STOCK to BACK_IN_STOCK,
 *                                   suppliers' lead times from
 *                                   INBOUND_RECEIVED) [true]
 */
#include "fc_service.h"

#include <stdlib.h>

#include "sl_arena.h"
#include "fc_api.h"
#include "fc_app.h"
#include "fc_valid.h"
#include "sl_config.h"

extern const sl_migration forecasting_migrations[];

/* The index of the service: one row per RPC of forecasting.proto
 * (WatchEvents is sl_service's), with the handler, the request check the
 * dispatcher runs before it (fc_valid.c), and what the method promises.  ForecastDemand and
 * GetReplenishmentPlan store the forecasts they issue (for GetForecastAccuracy), so they are not
 * read-only. */
static const sl_method methods[] = {
    SL_UNARY("RecordSales", fc_api_record_sales, fc_valid_record_sales_request,
             SL_METHOD_IDEMPOTENT, SL_ROLE_PLANNER),
    SL_UNARY("RecordHourlySales", fc_api_record_hourly_sales, fc_valid_record_hourly_sales_request,
             SL_METHOD_IDEMPOTENT, SL_ROLE_PLANNER),
    SL_UNARY("SetEvent", fc_api_set_event, fc_valid_set_event_request, SL_METHOD_IDEMPOTENT,
             SL_ROLE_PLANNER),
    SL_UNARY("ListEvents", fc_api_list_events, fc_valid_list_events_request, SL_METHOD_READ_ONLY,
             SL_ROLE_PLANNER),
    SL_UNARY("ForecastDemand", fc_api_forecast, fc_valid_forecast_request, SL_METHOD_IDEMPOTENT,
             SL_ROLE_PLANNER),
    SL_UNARY("GetReplenishmentPlan", fc_api_plan, fc_valid_plan_request, SL_METHOD_IDEMPOTENT,
             SL_ROLE_PLANNER),
    SL_UNARY("SuggestTransfers", fc_api_transfers, fc_valid_transfers_request, SL_METHOD_READ_ONLY,
             SL_ROLE_PLANNER),
    SL_UNARY("GetInventoryKpis", fc_api_kpis, fc_valid_kpis_request, SL_METHOD_READ_ONLY,
             SL_ROLE_PLANNER),
    SL_UNARY("SetForecastOverride", fc_api_set_override, fc_valid_set_override_request,
             SL_METHOD_IDEMPOTENT, SL_ROLE_PLANNER),
    SL_UNARY("ListForecastOverrides", fc_api_list_overrides, fc_valid_list_overrides_request,
             SL_METHOD_READ_ONLY, SL_ROLE_PLANNER),
    SL_UNARY("RemoveForecastOverride", fc_api_remove_override, fc_valid_remove_override_request,
             SL_METHOD_IDEMPOTENT, SL_ROLE_PLANNER),
    SL_UNARY("GetForecastAccuracy", fc_api_accuracy, fc_valid_accuracy_request, SL_METHOD_READ_ONLY,
             SL_ROLE_PLANNER),
    SL_UNARY("ClassifySkus", fc_api_classify, fc_valid_classify_request, SL_METHOD_IDEMPOTENT,
             SL_ROLE_PLANNER),
    SL_UNARY("ListSkusByClass", fc_api_list_classes, fc_valid_list_classes_request,
             SL_METHOD_READ_ONLY, SL_ROLE_PLANNER),
    SL_UNARY("SetServiceLevelTarget", fc_api_set_target, fc_valid_set_target_request,
             SL_METHOD_IDEMPOTENT, SL_ROLE_PLANNER),
    SL_UNARY("GetLeadTimes", fc_api_lead_times, fc_valid_lead_times_request, SL_METHOD_READ_ONLY,
             SL_ROLE_PLANNER),
    SL_SERVER_STREAM("WatchAlerts", fc_api_watch_alerts, fc_valid_watch_alerts_request,
                     SL_METHOD_READ_ONLY, SL_ROLE_PLANNER),
};

/* The services forecasting calls (sl_service_peer). */
enum { FC_PEER_INVENTORY };
static const sl_peer_spec peers[] = {
    [FC_PEER_INVENTORY] = {"SHELFLINE_INVENTORY_ADDR", "127.0.0.1:50051"},
};

static const sl_event_topic topics[] = {
    {"ALERT_SELLING_ABOVE_FORECAST", &shelfline__v1__alert__descriptor},
    {"ALERT_PROJECTED_STOCKOUT", &shelfline__v1__alert__descriptor},
    {"ALERT_OVERSTOCK", &shelfline__v1__alert__descriptor},
    {NULL, NULL},
};

static const char *const consumed_topics[] = {"RESERVATION_COMMITTED", "OUT_OF_STOCK",
                                              "BACK_IN_STOCK", "INBOUND_RECEIVED"};

static void app_free(fc_app *app)
{
    if (app == NULL)
        return;
    sl_consumer_stop(app->consumer);
    free(app);
}

static sl_status init(sl_service *svc, void **out, sl_err *err)
{
    fc_app *app = sl_calloc(1, sizeof *app);
    if (app == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    app->db = sl_service_db(svc);
    app->events = sl_service_events(svc);
    app->inventory = sl_service_peer(svc, FC_PEER_INVENTORY);
    bool consume = true;
    sl_status st =
        app->inventory != NULL ? SL_OK : sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    if (st == SL_OK)
        st = sl_config_duration_ms("SHELFLINE_FC_INVENTORY_TIMEOUT", 5000, 100, 600000,
                                   &app->inventory_timeout_ms, err);
    if (st == SL_OK)
        st = sl_config_bool("SHELFLINE_FC_CONSUME", true, &consume, err);
    if (st == SL_OK)
        st = fc_store_register(app->db, err);
    if (st == SL_OK && consume) {
        sl_consumer_options co = {
            .subscription = "forecasting/inventory",
            .db = app->db,
            .channel = app->inventory,
            .method = "/shelfline.v1.InventoryService/WatchEvents",
            .topics = consumed_topics,
            .n_topics = sizeof consumed_topics / sizeof consumed_topics[0],
            .fn = fc_apply_inventory_event,
            .ctx = app,
            .lock_retry_ms = 1000,
        };
        st = sl_consumer_start(&co, &app->consumer, err);
    }
    if (st != SL_OK) {
        app_free(app);
        return st;
    }
    *out = app;
    return SL_OK;
}

static void fini(sl_service *svc, void *app)
{
    (void)svc;
    app_free(app);
}

const sl_service_spec fc_service_spec = {
    .name = "forecasting",
    .schema = "forecasting",
    .migrations = forecasting_migrations,
    .default_listen = "127.0.0.1:50052",
    .default_http_listen = "127.0.0.1:8052",
    .peers = peers,
    .n_peers = sizeof peers / sizeof peers[0],
    .descriptor = &shelfline__v1__forecasting_service__descriptor,
    .methods = methods,
    .n_methods = sizeof methods / sizeof methods[0],
    .topics = topics,
    .init = init,
    .fini = fini,
};
