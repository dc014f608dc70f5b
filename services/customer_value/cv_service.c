/*
 * cv_service: start-up of the customer-value service, its method table and
 * its event topics.  The handlers live in cv_api_*.c (see cv_app.h).
 */
#include "cv_service.h"

#include <stdlib.h>

#include "sl_arena.h"
#include "cv_app.h"
#include "cv_store.h"
#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "sl_config.h"

extern const sl_migration customer_value_migrations[];

/* The index of the service: one row per RPC of customer_value.proto
 * (WatchEvents is sl_service's), with the handler and what the method
 * promises. */
static const sl_method methods[] = {
    SL_UNARY("UpsertCustomer", cv_api_upsert_customer, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOREFRONT),
    SL_UNARY("UpsertCustomers", cv_api_upsert_customers, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOREFRONT),
    SL_UNARY("RecordPurchase", cv_api_record_purchase, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOREFRONT),
    SL_UNARY("RecordPurchases", cv_api_record_purchases, NULL, SL_METHOD_IDEMPOTENT,
             SL_ROLE_STOREFRONT),
    SL_UNARY("RecordReturn", cv_api_record_return, NULL, SL_METHOD_IDEMPOTENT, SL_ROLE_STOREFRONT),
    SL_UNARY("FitModels", cv_api_fit_models, NULL, 0, SL_ROLE_PLANNER),
    SL_UNARY("GetCustomerValue", cv_api_get_customer_value, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_CS_AGENT | SL_ROLE_PLANNER | SL_ROLE_SERVICE),
    SL_UNARY("GetRetentionReport", cv_api_get_retention_report, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_CS_AGENT | SL_ROLE_PLANNER),
    SL_UNARY("ListSegment", cv_api_list_segment, NULL, SL_METHOD_READ_ONLY,
             SL_ROLE_CS_AGENT | SL_ROLE_PLANNER),
    SL_UNARY("GetRepurchaseReminders", cv_api_get_repurchase_reminders, cv_valid_reminders_request,
             SL_METHOD_READ_ONLY, SL_ROLE_CS_AGENT | SL_ROLE_PLANNER),
    SL_UNARY("Recommend", cv_api_recommend, cv_valid_recommend_request, SL_METHOD_READ_ONLY,
             SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT),
    SL_UNARY("SuggestSubstitutes", cv_api_suggest_substitutes, cv_valid_substitutes_request,
             SL_METHOD_READ_ONLY, SL_ROLE_STOREFRONT | SL_ROLE_CS_AGENT),
    SL_UNARY("BuildCampaign", cv_api_build_campaign, cv_valid_build_campaign_request,
             SL_METHOD_IDEMPOTENT, SL_ROLE_PLANNER),
    SL_UNARY("ListCampaignRecipients", cv_api_list_campaign_recipients,
             cv_valid_campaign_id_request, SL_METHOD_READ_ONLY, SL_ROLE_CS_AGENT | SL_ROLE_PLANNER),
    SL_UNARY("SendCampaign", cv_api_send_campaign, cv_valid_campaign_id_request,
             SL_METHOD_IDEMPOTENT, SL_ROLE_PLANNER),
};

static const sl_peer_spec peers[] = {
    [CV_PEER_INVENTORY] = {"SHELFLINE_INVENTORY_ADDR", "127.0.0.1:50051"},
    [CV_PEER_SERVICE_DESK] = {"SHELFLINE_SERVICE_DESK_ADDR", "127.0.0.1:50054"},
};

static const sl_event_topic topics[] = {
    {"CUSTOMER_UPSERTED", &shelfline__v1__customer__descriptor},
    {"PURCHASE_RECORDED", &shelfline__v1__purchase_recorded__descriptor},
    {"RETURN_RECORDED", &shelfline__v1__return_recorded__descriptor},
    {"MODELS_FITTED", &shelfline__v1__model_fit__descriptor},
    {"REPURCHASE_DUE", &shelfline__v1__repurchase_reminder__descriptor},
    {"CAMPAIGN_MESSAGE", &shelfline__v1__campaign_message__descriptor},
    {NULL, NULL},
};

static sl_status init(sl_service *svc, void **out, sl_err *err)
{
    cv_app *app = sl_calloc(1, sizeof *app);
    if (app == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    app->svc = svc;
    app->db = sl_service_db(svc);
    app->events = sl_service_events(svc);
    /* SHELFLINE_CV_CONSUME_ORDERS: follow service-desk's order events
     * (default true; tests of this service alone turn it off). */
    bool consume;
    sl_status st = sl_config_bool("SHELFLINE_CV_CONSUME_ORDERS", true, &consume, err);
    if (st != SL_OK)
        goto fail;
    /* SHELFLINE_CV_HISTORY_CACHE: answer Recommend and
     * GetRepurchaseReminders from the purchase lines in memory (cv_history;
     * default true; false reads them with SQL on every call, as the tests
     * that compare the two do). */
    bool cache;
    if ((st = sl_config_bool("SHELFLINE_CV_HISTORY_CACHE", true, &cache, err)) != SL_OK)
        goto fail;
    if ((st = cv_store_register(app->db, err)) != SL_OK)
        goto fail;
    if (cache && (app->history = cv_history_create()) == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    if ((app->catalog = cv_catalog_create(svc)) == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto fail;
    }
    if (consume && (st = cv_orders_start(app, &app->orders, err)) != SL_OK)
        goto fail;
    *out = app;
    return SL_OK;
fail:
    sl_consumer_stop(app->orders);
    cv_catalog_destroy(app->catalog);
    cv_history_destroy(app->history);
    free(app);
    return st;
}

static void fini(sl_service *svc, void *p)
{
    (void)svc;
    cv_app *app = p;
    if (app == NULL)
        return;
    sl_consumer_stop(app->orders);
    cv_catalog_destroy(app->catalog);
    cv_history_destroy(app->history);
    free(app);
}

const sl_service_spec cv_service_spec = {
    .name = "customer-value",
    .schema = "customer_value",
    .migrations = customer_value_migrations,
    .default_listen = "127.0.0.1:50053",
    .default_http_listen = "127.0.0.1:8053",
    .peers = peers,
    .n_peers = sizeof peers / sizeof peers[0],
    .descriptor = &shelfline__v1__customer_value_service__descriptor,
    .methods = methods,
    .n_methods = sizeof methods / sizeof methods[0],
    .topics = topics,
    .init = init,
    .fini = fini,
};
