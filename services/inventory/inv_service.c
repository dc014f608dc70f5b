/*
 * inv_service: start-up of the inventory service -- its configuration,
 * statements, event topics, method table, the Reserve combiner and the
 * reaper -- and their orderly stop.
 */
#include "inv_service.h"

#include <stdlib.h>

#include "inv_api.h"
#include "inv_app.h"
#include "inv_reaper.h"
#include "inv_reserve.h"
#include "inv_resv.h"
#include "inv_store.h"
#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"

extern const sl_migration inventory_migrations[];

static sl_status watch_events(sl_call *call, const ProtobufCMessage *req, sl_err *err)
{
    inv_app *app = sl_call_ctx(call);
    return sl_events_watch(app->events, call, req, err);
}

#define M(name) "/shelfline.v1.InventoryService/" name
#define UNARY(name, req, resp, fn)                                                                 \
    {                                                                                              \
        M(name), SL_RPC_UNARY, &shelfline__v1__##req##__descriptor,                                \
            &shelfline__v1__##resp##__descriptor, inv_api_##fn, NULL                               \
    }

static const sl_method methods[] = {
    UNARY("CreateProduct", create_product_request, product, create_product),
    UNARY("UpdateProduct", update_product_request, product, update_product),
    UNARY("GetProduct", get_product_request, product, get_product),
    UNARY("ListProducts", list_products_request, list_products_response, list_products),
    UNARY("CreateWarehouse", create_warehouse_request, warehouse, create_warehouse),
    UNARY("UpdateWarehouse", update_warehouse_request, warehouse, update_warehouse),
    UNARY("GetWarehouse", get_warehouse_request, warehouse, get_warehouse),
    UNARY("ListWarehouses", list_warehouses_request, list_warehouses_response, list_warehouses),
    UNARY("CreateTransitTime", create_transit_time_request, transit_time, create_transit_time),
    UNARY("UpdateTransitTime", update_transit_time_request, transit_time, update_transit_time),
    UNARY("GetTransitTime", get_transit_time_request, transit_time, get_transit_time),
    UNARY("ListTransitTimes", list_transit_times_request, list_transit_times_response,
          list_transit_times),
    UNARY("AdjustStock", adjust_stock_request, adjust_stock_response, adjust_stock),
    UNARY("SetStockCount", set_stock_count_request, set_stock_count_response, set_stock_count),
    UNARY("SetStockPolicy", set_stock_policy_request, stock_level, set_stock_policy),
    UNARY("GetStock", get_stock_request, get_stock_response, get_stock),
    UNARY("GetAverageStock", get_average_stock_request, get_average_stock_response,
          get_average_stock),
    UNARY("GetAvailability", get_availability_request, get_availability_response, get_availability),
    UNARY("ListLowStock", list_low_stock_request, list_low_stock_response, list_low_stock),
    UNARY("Reserve", reserve_request, reserve_response, reserve),
    UNARY("Commit", commit_request, reservation, commit),
    UNARY("Release", release_request, reservation, release),
    UNARY("GetReservation", get_reservation_request, reservation, get_reservation),
    UNARY("CreatePromotion", create_promotion_request, promotion, create_promotion),
    UNARY("GetPromotion", get_promotion_request, promotion, get_promotion),
    UNARY("CreateInbound", create_inbound_request, inbound, create_inbound),
    UNARY("DelayInbound", delay_inbound_request, inbound, delay_inbound),
    UNARY("ReceiveInbound", receive_inbound_request, receive_inbound_response, receive_inbound),
    UNARY("Transfer", transfer_request, transfer_response, transfer),
    UNARY("GetInbound", get_inbound_request, inbound, get_inbound),
    UNARY("ListInbound", list_inbound_request, list_inbound_response, list_inbound),
    {M("WatchEvents"), SL_RPC_SERVER_STREAMING, &shelfline__v1__watch_events_request__descriptor,
     &shelfline__v1__event__descriptor, NULL, watch_events},
    UNARY("CheckInvariants", check_invariants_request, check_invariants_response, check_invariants),
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

static sl_service_def service_def = {
    .descriptor = &shelfline__v1__inventory_service__descriptor,
    .methods = methods,
    .n_methods = sizeof methods / sizeof methods[0],
};

static void app_free(inv_app *app)
{
    if (app == NULL)
        return;
    inv_reaper_stop(app->reaper);
    inv_closer_stop(app->closer);
    inv_combiner_stop(app->combiner);
    free(app);
}

static sl_status init(sl_service *svc, void **out, sl_err *err)
{
    inv_app *app = calloc(1, sizeof *app);
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
    .def = &service_def,
    .topics = topics,
    .init = init,
    .fini = fini,
};
