/*
 * sd_service: start-up of the service-desk service -- configuration, the
 * zone database, the warehouse cache, statements, the method table, the
 * consumer of inventory's events -- and their orderly stop.
 */
#include "sd_service.h"

#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"
#include "sd_api.h"
#include "sd_app.h"
#include "sd_bis.h"
#include "sd_metrics.h"
#include "sd_slapol.h"
#include "sd_store.h"
#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_config.h"

extern const sl_migration service_desk_migrations[];

sl_status sd_sync_apply(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx, sl_err *err);
sl_status sd_sync_prepare(sl_db *db, const Shelfline__V1__Event *ev, void *ctx, sl_err *err);
sl_status sd_sync_apply_orders(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx,
                               sl_err *err);
sl_status sd_cv_sync_apply(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx,
                           sl_err *err);

sl_status sd_config_load(sd_config *cfg, sl_err *err)
{
    sl_status st;
    const char *tiers, *currency, *key;
    if ((st = sl_config_duration_ms("SHELFLINE_SD_HOLD_TTL", 3600 * 1000, 1000,
                                    7 * 24 * 3600 * 1000LL, &cfg->hold_ttl_ms, err)) != SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_SD_INVENTORY_TIMEOUT", 5000, 10, 600 * 1000,
                                    &cfg->inventory_timeout_ms, err)) != SL_OK ||
        (st = sl_config_int("SHELFLINE_SD_HANDLING_DAYS", 1, 0, 30, &cfg->handling_days, err)) !=
            SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_SD_NETWORK_TTL", 60 * 1000, 100, 24 * 3600 * 1000LL,
                                    &cfg->network_ttl_ms, err)) != SL_OK ||
        (st = sl_config_string("SHELFLINE_SD_COMP_TIERS", "2:500,5:1500", &tiers, err)) != SL_OK ||
        (st = sl_config_string("SHELFLINE_SD_COMP_CURRENCY", "EUR", &currency, err)) != SL_OK ||
        (st = sl_config_string("SHELFLINE_SD_COUPON_KEY", "000102030405060708090a0b0c0d0e0f", &key,
                               err)) != SL_OK ||
        (st = sl_config_bool("SHELFLINE_SD_CONSUMER", true, &cfg->consumer, err)) != SL_OK ||
        (st = sl_config_bool("SHELFLINE_SD_CV_CONSUMER", true, &cfg->cv_consumer, err)) != SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_SD_BIS_INTERVAL", 10000, 10, 24 * 3600 * 1000LL,
                                    &cfg->bis_interval_ms, err)) != SL_OK ||
        (st = sl_config_int("SHELFLINE_SD_BIS_MAX_BATCH", 1000, 1, 100000, &cfg->bis_max_batch,
                            err)) != SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_SD_BIS_POLL", 500, 10, 60000, &cfg->bis_poll_ms,
                                    err)) != SL_OK ||
        (st = sl_config_string("SHELFLINE_SD_SLA_ZONE", "UTC", &cfg->sla_zone, err)) != SL_OK ||
        (st = sl_config_string("SHELFLINE_SD_SLA_HOURS", "Mon-Fri 09:00-18:00", &cfg->sla_hours,
                               err)) != SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_SD_TIER_TIMEOUT", 300, 1, 60000,
                                    &cfg->tier_timeout_ms, err)) != SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_SD_RETURN_WINDOW", 30 * 86400000LL, 0,
                                    3650 * 86400000LL, &cfg->return_window_ms, err)) != SL_OK ||
        (st = sl_config_int("SHELFLINE_SD_DELAY_BATCH", 200, 1, 100000, &cfg->delay_batch, err)) !=
            SL_OK)
        return st;
    if ((st = sd_comp_policy_parse(tiers, currency, &cfg->comp, err)) != SL_OK) {
        sl_err_wrap(err, "invalid SHELFLINE_SD_COMP_TIERS or SHELFLINE_SD_COMP_CURRENCY");
        return st;
    }
    if ((st = sd_coupon_key_parse(key, cfg->coupon_key, err)) != SL_OK) {
        sl_err_wrap(err, "invalid SHELFLINE_SD_COUPON_KEY");
        return st;
    }
    return SL_OK;
}

/* The index of the service: one row per RPC of service_desk.proto
 * (WatchEvents is sl_service's), with the handler and what the method
 * promises. */
static const sl_method methods[] = {
    SL_UNARY("PlaceOrder", sd_api_place_order, NULL, SL_METHOD_IDEMPOTENT, SL_ROLE_STOREFRONT),
    SL_UNARY("ConfirmPayment", sd_api_confirm_payment, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOREFRONT),
    SL_UNARY("CancelOrder", sd_api_cancel_order, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT),
    SL_UNARY("UpdateShipment", sd_api_update_shipment, NULL, 0,
             SL_ROLE_STOCK_ADMIN | SL_ROLE_SERVICE),
    SL_UNARY("GetOrder", sd_api_get_order, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT),
    SL_UNARY("ListOrders", sd_api_list_orders, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT),
    SL_UNARY("GetOrderEta", sd_api_get_order_eta, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT),
    SL_UNARY("ListEtaChanges", sd_api_list_eta_changes, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT),
    SL_UNARY("QuoteEta", sd_api_quote_eta, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT),
    SL_UNARY("OpenTicket", sd_api_open_ticket, NULL, SL_METHOD_IDEMPOTENT, SL_ROLE_CS_AGENT),
    SL_UNARY("RespondTicket", sd_api_respond_ticket, NULL, 0, SL_ROLE_CS_AGENT),
    SL_UNARY("ResolveTicket", sd_api_resolve_ticket, NULL, SL_METHOD_IDEMPOTENT, SL_ROLE_CS_AGENT),
    SL_UNARY("GetTicket", sd_api_get_ticket, NULL, SL_METHOD_READ_ONLY, SL_ROLE_CS_AGENT),
    SL_UNARY("ListTickets", sd_api_list_tickets, NULL, SL_METHOD_READ_ONLY, SL_ROLE_CS_AGENT),
    SL_UNARY("GetSlaReport", sd_api_get_sla_report, NULL, SL_METHOD_READ_ONLY, SL_ROLE_CS_AGENT),
    /* the desk's configuration: administrators and the suite's own tools
     * write it, like UpdateShipment; agents read it */
    SL_UNARY("SetSlaPolicy", sd_api_set_sla_policy, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOCK_ADMIN | SL_ROLE_SERVICE),
    SL_UNARY("GetSlaPolicy", sd_api_get_sla_policy, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_CS_AGENT | SL_ROLE_STOCK_ADMIN | SL_ROLE_SERVICE),
    SL_UNARY("CreateReturn", sd_api_create_return, NULL, SL_METHOD_IDEMPOTENT, SL_ROLE_CS_AGENT),
    SL_UNARY("ReceiveReturn", sd_api_receive_return, NULL, SL_METHOD_IDEMPOTENT, SL_ROLE_CS_AGENT),
    SL_UNARY("GetReturn", sd_api_get_return, NULL, SL_METHOD_READ_ONLY, SL_ROLE_CS_AGENT),
    SL_UNARY("ListReturns", sd_api_list_returns, NULL, SL_METHOD_READ_ONLY, SL_ROLE_CS_AGENT),
    SL_UNARY("SubscribeBackInStock", sd_api_subscribe_back_in_stock, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT),
    SL_UNARY("Unsubscribe", sd_api_unsubscribe, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT),
    SL_UNARY("ListSubscriptions", sd_api_list_subscriptions, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT),
    /* planner: customers waiting for a SKU are demand not yet served. */
    SL_UNARY("GetBackInStockQueue", sd_api_get_back_in_stock_queue, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_CS_AGENT | SL_ROLE_PLANNER),
    SL_UNARY("ListNotifications", sd_api_list_notifications, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_CS_AGENT | SL_ROLE_SERVICE),
    /* cs-agent: the console follows an open order's notices live (it may
     * list them already). */
    SL_SERVER_STREAM("WatchNotifications", sd_api_watch_notifications, NULL, SL_METHOD_READ_ONLY,
                     SL_ROLE_CS_AGENT | SL_ROLE_SERVICE),
    SL_UNARY("AckNotification", sd_api_ack_notification, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_SERVICE),
};

/* The services service-desk calls (sl_service_peer). */
enum { SD_PEER_INVENTORY, SD_PEER_CUSTOMER_VALUE };
static const sl_peer_spec peers[] = {
    [SD_PEER_INVENTORY] = {"SHELFLINE_INVENTORY_ADDR", "127.0.0.1:50051"},
    [SD_PEER_CUSTOMER_VALUE] = {"SHELFLINE_CUSTOMER_VALUE_ADDR", "127.0.0.1:50053"},
};

/* Every topic the service publishes (service_desk.proto). */
static const sl_event_topic topics[] = {
    {"ORDER_PLACED", &shelfline__v1__order_event__descriptor},
    {"ORDER_PAID", &shelfline__v1__order_event__descriptor},
    {"ORDER_CANCELLED", &shelfline__v1__order_event__descriptor},
    {"ORDER_DELIVERED", &shelfline__v1__order_event__descriptor},
    {"RETURN_RECEIVED", &shelfline__v1__return_event__descriptor},
    {"UNMET_DEMAND", &shelfline__v1__unmet_demand__descriptor},
    {NULL, NULL},
};

static const char *const consumed_topics[] = {"INBOUND_DELAYED", "BACK_IN_STOCK", "OUT_OF_STOCK",
                                              "INBOUND_RECEIVED"};
/* A subscription of its own (its own cursor and stream): every order's
 * payment is one of these events, and behind them in one stream an
 * INBOUND_DELAYED waited its turn -- on the peak day the delay notices came
 * 15-40 s late. */
static const char *const order_topics[] = {"RESERVATION_COMMITTED", "RESERVATION_RELEASED"};
/* customer-value's messages to customers (sd_cv_sync.c). */
static const char *const cv_topics[] = {"CAMPAIGN_MESSAGE", "REPURCHASE_DUE"};

static void app_free(sd_app *app)
{
    if (app == NULL)
        return;
    sd_metrics_stop(app->metrics);
    sl_consumer_stop(app->consumer);
    sl_consumer_stop(app->order_consumer);
    sl_consumer_stop(app->cv_consumer);
    sd_bis_stop(app->bis);
    sd_net_destroy(app->net);
    sd_slabook_free(app->slas);
    sd_classifier_free(app->classifier);
    sd_tzdb_free(app->tz);
    free(app);
}

/* SLA policy version 0: SHELFLINE_SD_SLA_ZONE and SHELFLINE_SD_SLA_HOURS
 * with the default targets (sd_sla_config_defaults), until SetSlaPolicy
 * stores version 1. */
static sl_status sla_policy(sd_app *app, sl_err *err)
{
    sd_sla_config def;
    sd_sla_config_defaults(&def);
    Shelfline__V1__SlaTarget t[SD_PRIORITY_COUNT];
    Shelfline__V1__SlaTarget *tp[SD_PRIORITY_COUNT];
    for (int p = 0; p < SD_PRIORITY_COUNT; p++) {
        shelfline__v1__sla_target__init(&t[p]);
        t[p].priority = (char *)sd_priority_name((sd_priority)p);
        t[p].first_response_minutes = def.targets[p].first_response_minutes;
        t[p].resolution_minutes = def.targets[p].resolution_minutes;
        tp[p] = &t[p];
    }
    Shelfline__V1__SlaPolicy m = SHELFLINE__V1__SLA_POLICY__INIT;
    m.time_zone = (char *)app->cfg.sla_zone;
    m.business_hours = (char *)app->cfg.sla_hours;
    m.targets = tp;
    m.n_targets = SD_PRIORITY_COUNT;
    sl_status st = sd_slabook_new(app->tz, &m, &app->slas, err);
    if (st != SL_OK)
        sl_err_wrap(err, "invalid SHELFLINE_SD_SLA_ZONE \"%s\" or SHELFLINE_SD_SLA_HOURS",
                    app->cfg.sla_zone);
    return st;
}

/* The customer-service console (services/service_desk/console, built
 * into SHELFLINE_CONSOLE_DIR) at / of the HTTP face, when there is one.
 * Its default is where the build puts it; "off" serves no console. */
static sl_status console_route(sl_service *svc, sl_err *err)
{
    sl_http *http = sl_service_http(svc);
    const char *dir = NULL;
    sl_status st = sl_config_string("SHELFLINE_CONSOLE_DIR", SD_CONSOLE_DEFAULT_DIR, &dir, err);
    if (st != SL_OK || http == NULL || strcmp(dir, "off") == 0)
        return st;
    return sl_http_static(http, "/", dir, err);
}

static sl_status init(sl_service *svc, void **out, sl_err *err)
{
    sd_app *app = sl_calloc(1, sizeof *app);
    if (app == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    app->db = sl_service_db(svc);
    app->events = sl_service_events(svc);
    app->inventory = sl_service_peer(svc, SD_PEER_INVENTORY);
    app->customer_value = sl_service_peer(svc, SD_PEER_CUSTOMER_VALUE);
    sl_status st =
        app->inventory != NULL ? SL_OK : sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    if (st == SL_OK)
        st = sd_config_load(&app->cfg, err);
    if (st == SL_OK)
        st = sd_tzdb_new(NULL, &app->tz, err);
    if (st == SL_OK)
        st = sd_net_create(app->inventory, app->tz, app->cfg.network_ttl_ms,
                           (int)app->cfg.handling_days, app->cfg.inventory_timeout_ms, &app->net,
                           err);
    if (st == SL_OK)
        st = sla_policy(app, err);
    if (st == SL_OK)
        st = sd_classifier_new_default(&app->classifier, err);
    if (st == SL_OK)
        st = sd_store_register(app->db, err);
    /* The notifications are numbered by the feed's sequencer from now on. */
    if (st == SL_OK)
        st = sl_events_add_table(app->events, &sd_store_notif_table, err);
    if (st == SL_OK && app->cfg.consumer) {
        sl_consumer_options co = {
            .subscription = "service-desk/inventory",
            .db = app->db,
            .channel = app->inventory,
            .method = "/shelfline.v1.InventoryService/WatchEvents",
            .topics = consumed_topics,
            .n_topics = sizeof consumed_topics / sizeof consumed_topics[0],
            .fn = sd_sync_apply,
            .prepare = sd_sync_prepare,
            .ctx = app,
            .lock_retry_ms = 1000,
        };
        st = sl_consumer_start(&co, &app->consumer, err);
    }
    if (st == SL_OK && app->cfg.consumer) {
        sl_consumer_options co = {
            .subscription = "service-desk/inventory-orders",
            .db = app->db,
            .channel = app->inventory,
            .method = "/shelfline.v1.InventoryService/WatchEvents",
            .topics = order_topics,
            .n_topics = sizeof order_topics / sizeof order_topics[0],
            .fn = sd_sync_apply_orders,
            .ctx = app,
            .lock_retry_ms = 1000,
        };
        st = sl_consumer_start(&co, &app->order_consumer, err);
    }
    if (st == SL_OK && app->cfg.cv_consumer) {
        sl_consumer_options co = {
            .subscription = "service-desk/customer-value",
            .db = app->db,
            .channel = app->customer_value,
            .method = "/shelfline.v1.CustomerValueService/WatchEvents",
            .topics = cv_topics,
            .n_topics = sizeof cv_topics / sizeof cv_topics[0],
            .fn = sd_cv_sync_apply,
            .ctx = app,
            .lock_retry_ms = 1000,
        };
        st = app->customer_value != NULL ? sl_consumer_start(&co, &app->cv_consumer, err)
                                         : sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (st == SL_OK)
        st = console_route(svc, err);
    if (st == SL_OK)
        st = sd_bis_start(app, &app->bis, err);
    if (st == SL_OK)
        st = sd_metrics_start(app, &app->metrics, err);
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

const sl_service_spec sd_service_spec = {
    .name = "service-desk",
    .schema = "service_desk",
    .migrations = service_desk_migrations,
    .default_listen = "127.0.0.1:50054",
    .default_http_listen = "127.0.0.1:8054",
    .peers = peers,
    .n_peers = sizeof peers / sizeof peers[0],
    .descriptor = &shelfline__v1__service_desk_service__descriptor,
    .methods = methods,
    .n_methods = sizeof methods / sizeof methods[0],
    .topics = topics,
    .init = init,
    .fini = fini,
};
