/*
 * inv_service: start-up of the inventory service -- its configuration,
 * statements, event topics, method table, the Reserve combiner and the
 * reaper -- and their orderly stop.
 */
#include "inv_service.h"

#include <stdlib.h>

#include "sl_arena.h"
#include "inv_api.h"
#include "inv_app.h"
#include "inv_metrics.h"
#include "inv_reaper.h"
#include "inv_reserve.h"
#include "inv_resv.h"
#include "inv_store.h"
#include "inv_valid.h"
#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"

extern const sl_migration inventory_migrations[];

/* The index of the service: one row per RPC of inventory.proto in its
 * order (WatchEvents is sl_service's), with the handler, the request check
 * the dispatcher runs before it, and what the method promises. */
static const sl_method methods[] = {
    SL_UNARY("CreateProduct", inv_api_create_product, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOCK_ADMIN),
    SL_UNARY("UpdateProduct", inv_api_update_product, NULL, 0, SL_ROLE_STOCK_ADMIN),
    SL_UNARY("GetProduct", inv_api_get_product, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN |
                 SL_ROLE_SERVICE),
    SL_UNARY("ListProducts", inv_api_list_products, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN |
                 SL_ROLE_SERVICE),
    SL_UNARY("CreateWarehouse", inv_api_create_warehouse, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOCK_ADMIN),
    SL_UNARY("UpdateWarehouse", inv_api_update_warehouse, NULL, 0, SL_ROLE_STOCK_ADMIN),
    SL_UNARY("SetWarehouseCalendar", inv_api_set_warehouse_calendar, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOCK_ADMIN),
    SL_UNARY("GetWarehouse", inv_api_get_warehouse, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN |
                 SL_ROLE_SERVICE),
    SL_UNARY("ListWarehouses", inv_api_list_warehouses, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN |
                 SL_ROLE_SERVICE),
    SL_UNARY("CreateTransitTime", inv_api_create_transit_time, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOCK_ADMIN),
    SL_UNARY("UpdateTransitTime", inv_api_update_transit_time, NULL, 0, SL_ROLE_STOCK_ADMIN),
    SL_UNARY("GetTransitTime", inv_api_get_transit_time, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN |
                 SL_ROLE_SERVICE),
    SL_UNARY("ListTransitTimes", inv_api_list_transit_times, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN |
                 SL_ROLE_SERVICE),
    SL_UNARY("AdjustStock", inv_api_adjust_stock, inv_valid_adjust_request, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOCK_ADMIN | SL_ROLE_SERVICE),
    SL_UNARY("SetStockCount", inv_api_set_stock_count, inv_valid_count_request,
             SL_METHOD_IDEMPOTENT, SL_ROLE_STOCK_ADMIN),
    SL_UNARY("SetStockPolicy", inv_api_set_stock_policy, inv_valid_policy_request,
             SL_METHOD_IDEMPOTENT, SL_ROLE_PLANNER),
    SL_UNARY("GetStock", inv_api_get_stock, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN | SL_ROLE_SERVICE),
    SL_UNARY("GetAverageStock", inv_api_get_average_stock, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN | SL_ROLE_SERVICE),
    SL_UNARY("GetAvailability", inv_api_get_availability, inv_valid_availability_request,
             SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN |
                 SL_ROLE_SERVICE),
    SL_UNARY("GetStockFeed", inv_api_get_stock_feed, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN |
                 SL_ROLE_SERVICE),
    SL_UNARY("ListLowStock", inv_api_list_low_stock, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN),
    SL_UNARY("Reserve", inv_api_reserve, inv_valid_reserve_request, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOREFRONT | SL_ROLE_SERVICE),
    SL_UNARY("Commit", inv_api_commit, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOREFRONT | SL_ROLE_SERVICE),
    SL_UNARY("Release", inv_api_release, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOREFRONT | SL_ROLE_SERVICE),
    SL_UNARY("GetReservation", inv_api_get_reservation, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT | SL_ROLE_SERVICE),
    SL_UNARY("CreatePromotion", inv_api_create_promotion, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOCK_ADMIN),
    SL_UNARY("GetPromotion", inv_api_get_promotion, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN |
                 SL_ROLE_SERVICE),
    SL_UNARY("CreateStockFence", inv_api_create_stock_fence, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOCK_ADMIN),
    SL_UNARY("GetStockFence", inv_api_get_stock_fence, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN |
                 SL_ROLE_SERVICE),
    SL_UNARY("ListStockFences", inv_api_list_stock_fences, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN | SL_ROLE_SERVICE),
    /* Only a service (customer-value, from its segment) says who is
     * eligible: never the storefront or an admin's list. */
    SL_UNARY("SetStockFenceEligibility", inv_api_set_stock_fence_eligibility, NULL,
             SL_METHOD_IDEMPOTENT, SL_ROLE_SERVICE),
    SL_UNARY("CreateInbound", inv_api_create_inbound, inv_valid_inbound_request,
             SL_METHOD_IDEMPOTENT, SL_ROLE_PLANNER),
    SL_UNARY("DelayInbound", inv_api_delay_inbound, inv_valid_delay_request, SL_METHOD_IDEMPOTENT,
             SL_ROLE_PLANNER),
    SL_UNARY("ReceiveInbound", inv_api_receive_inbound, inv_valid_receive_request,
             SL_METHOD_IDEMPOTENT, SL_ROLE_PLANNER),
    SL_UNARY("Transfer", inv_api_transfer, inv_valid_transfer_request, SL_METHOD_IDEMPOTENT,
             SL_ROLE_PLANNER),
    SL_UNARY("GetInbound", inv_api_get_inbound, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN | SL_ROLE_SERVICE),
    SL_UNARY("ListInbound", inv_api_list_inbound, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN | SL_ROLE_SERVICE),
    SL_UNARY("ListLedger", inv_api_list_ledger, inv_valid_ledger_request, SL_METHOD_READ_ONLY,
             SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_STOCK_ADMIN),
    SL_UNARY("CheckInvariants", inv_api_check_invariants, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOCK_ADMIN),
};

/* Every topic the service publishes, with its payload (inventory.proto). */
static const sl_event_topic topics[] = {
    {"STOCK_CHANGED", &shelfline__v1__stock_changed__descriptor},
    {"LOW_STOCK", &shelfline__v1__region_stock_alert__descriptor},
    {"OUT_OF_STOCK", &shelfline__v1__region_stock_alert__descriptor},
    {"BACK_IN_STOCK", &shelfline__v1__region_stock_alert__descriptor},
    {"INBOUND_CREATED", &shelfline__v1__inbound_created__descriptor},
    {"INBOUND_DELAYED", &shelfline__v1__inbound_delayed__descriptor},
    {"INBOUND_RECEIVED", &shelfline__v1__inbound_received__descriptor},
    {"RESERVATION_COMMITTED", &shelfline__v1__reservation_event__descriptor},
    {"RESERVATION_RELEASED", &shelfline__v1__reservation_event__descriptor},
    {"RESERVATION_EXPIRED", &shelfline__v1__reservation_event__descriptor},
    {NULL, NULL},
};

static void app_free(inv_app *app)
{
    if (app == NULL)
        return;
    inv_metrics_stop(app->metrics);
    inv_reaper_stop(app->reaper);
    inv_closer_stop(app->closer);
    inv_combiner_stop(app->combiner);
    free(app);
}

static sl_status init(sl_service *svc, void **out, sl_err *err)
{
    inv_app *app = sl_calloc(1, sizeof *app);
    if (app == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    app->db = sl_service_db(svc);
    app->events = sl_service_events(svc);
    sl_status st = inv_config_load(&app->cfg, err);
    if (st == SL_OK)
        st = inv_store_register(app->db, err);
    if (st == SL_OK)
        st = inv_combiner_start(app, &app->combiner, err);
    if (st == SL_OK)
        st = inv_closer_start(app, &app->closer, err);
    if (st == SL_OK)
        st = inv_reaper_start(app, &app->reaper, err);
    if (st == SL_OK)
        st = inv_metrics_start(app, &app->metrics, err);
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

const sl_service_spec inv_service_spec = {
    .name = "inventory",
    .schema = "inventory",
    .migrations = inventory_migrations,
    /* Its hot statements take arrays (= ANY, unnest): a custom plan per
     * execution cost Reserve more than running them (docs/INVENTORY.md). */
    .generic_plans = true,
    .default_listen = "127.0.0.1:50051",
    .default_http_listen = "127.0.0.1:8051",
    .descriptor = &shelfline__v1__inventory_service__descriptor,
    .methods = methods,
    .n_methods = sizeof methods / sizeof methods[0],
    .topics = topics,
    .init = init,
    .fini = fini,
};
