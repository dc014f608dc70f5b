/*
 * fc_service: start-up of the forecasting service -- its method table,
 * published topics (alerts) and the consumer of inventory's events.
 *
 * Configuration (besides sl_service's):
 *   SHELFLINE_FC_INVENTORY_TIMEOUT  deadline of each call to inventory [5s]
 *   SHELFLINE_FC_CONSUME            follow inventory's events (sales from
 *                                   RESERVATION_COMMITTED, stock-out days
 *                                   from OUT_OF_STOCK, suppliers' lead
 *                                   times from INBOUND_RECEIVED) [true]
 */
#include "fc_service.h"

#include <stdlib.h>

#include "fc_app.h"
#include "sl_config.h"

extern const sl_migration forecasting_migrations[];

static sl_status watch_events(sl_call *call, const ProtobufCMessage *req, sl_err *err)
{
    return sl_events_watch(FC_APP(call)->events, call, req, err);
}

#define UNARY(name, reqd, respd, fn)                                                               \
    {                                                                                              \
        "/shelfline.v1.ForecastingService/" name, SL_RPC_UNARY, &reqd, &respd, fn, NULL            \
    }

static const sl_method methods[] = {
    {"/shelfline.v1.ForecastingService/WatchEvents", SL_RPC_SERVER_STREAMING,
     &shelfline__v1__watch_events_request__descriptor, &shelfline__v1__event__descriptor, NULL,
     watch_events},
    UNARY("RecordSales", shelfline__v1__record_sales_request__descriptor,
          shelfline__v1__record_sales_response__descriptor, fc_api_record_sales),
    UNARY("RecordHourlySales", shelfline__v1__record_hourly_sales_request__descriptor,
          shelfline__v1__record_hourly_sales_response__descriptor, fc_api_record_hourly_sales),
    UNARY("SetEvent", shelfline__v1__set_event_request__descriptor,
          shelfline__v1__calendar_event__descriptor, fc_api_set_event),
    UNARY("ListEvents", shelfline__v1__list_events_request__descriptor,
          shelfline__v1__list_events_response__descriptor, fc_api_list_events),
    UNARY("ForecastDemand", shelfline__v1__forecast_demand_request__descriptor,
          shelfline__v1__forecast_demand_response__descriptor, fc_api_forecast),
    UNARY("GetReplenishmentPlan", shelfline__v1__get_replenishment_plan_request__descriptor,
          shelfline__v1__replenishment_plan__descriptor, fc_api_plan),
    UNARY("SuggestTransfers", shelfline__v1__suggest_transfers_request__descriptor,
          shelfline__v1__suggest_transfers_response__descriptor, fc_api_transfers),
    UNARY("GetInventoryKpis", shelfline__v1__get_inventory_kpis_request__descriptor,
          shelfline__v1__inventory_kpis__descriptor, fc_api_kpis),
    UNARY("SetForecastOverride", shelfline__v1__set_forecast_override_request__descriptor,
          shelfline__v1__forecast_override__descriptor, fc_api_set_override),
    UNARY("ListForecastOverrides", shelfline__v1__list_forecast_overrides_request__descriptor,
          shelfline__v1__list_forecast_overrides_response__descriptor, fc_api_list_overrides),
    UNARY("RemoveForecastOverride", shelfline__v1__remove_forecast_override_request__descriptor,
          shelfline__v1__remove_forecast_override_response__descriptor, fc_api_remove_override),
    UNARY("GetForecastAccuracy", shelfline__v1__get_forecast_accuracy_request__descriptor,
          shelfline__v1__forecast_accuracy__descriptor, fc_api_accuracy),
    UNARY("ClassifySkus", shelfline__v1__classify_skus_request__descriptor,
          shelfline__v1__classify_skus_response__descriptor, fc_api_classify),
    UNARY("ListSkusByClass", shelfline__v1__list_skus_by_class_request__descriptor,
          shelfline__v1__classify_skus_response__descriptor, fc_api_list_classes),
    UNARY("SetServiceLevelTarget", shelfline__v1__set_service_level_target_request__descriptor,
          shelfline__v1__service_level_target__descriptor, fc_api_set_target),
    UNARY("GetLeadTimes", shelfline__v1__get_lead_times_request__descriptor,
          shelfline__v1__get_lead_times_response__descriptor, fc_api_lead_times),
    {"/shelfline.v1.ForecastingService/WatchAlerts", SL_RPC_SERVER_STREAMING,
     &shelfline__v1__watch_alerts_request__descriptor, &shelfline__v1__event__descriptor, NULL,
     fc_api_watch_alerts},
};

static const sl_event_topic topics[] = {
    {"ALERT_SELLING_ABOVE_FORECAST", &shelfline__v1__alert__descriptor},
    {"ALERT_PROJECTED_STOCKOUT", &shelfline__v1__alert__descriptor},
    {"ALERT_OVERSTOCK", &shelfline__v1__alert__descriptor},
    {NULL, NULL},
};

static const char *const consumed_topics[] = {"RESERVATION_COMMITTED", "OUT_OF_STOCK",
                                              "INBOUND_RECEIVED"};

static sl_service_def service_def = {
    .descriptor = &shelfline__v1__forecasting_service__descriptor,
    .methods = methods,
    .n_methods = sizeof methods / sizeof methods[0],
};

static void app_free(fc_app *app)
{
    if (app == NULL)
        return;
    sl_consumer_stop(app->consumer);
    free(app);
}

static sl_status init(sl_service *svc, void **out, sl_err *err)
{
    fc_app *app = calloc(1, sizeof *app);
    if (app == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    app->db = sl_service_db(svc);
    app->events = sl_service_events(svc);
    app->inventory = sl_service_peer(svc, SL_PEER_INVENTORY);
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
    .def = &service_def,
    .topics = topics,
    .init = init,
    .fini = fini,
};
