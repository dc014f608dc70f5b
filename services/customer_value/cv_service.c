/*
 * cv_service: start-up of the customer-value service, its method table and
 * its event topics.  The handlers live in cv_api_*.c (see cv_app.h).
 */
#include "cv_service.h"

#include <stdlib.h>

#include "cv_app.h"
#include "cv_store.h"
#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "sl_config.h"

extern const sl_migration customer_value_migrations[];

static sl_status watch_events(sl_call *call, const ProtobufCMessage *req, sl_err *err)
{
    cv_app *app = sl_call_ctx(call);
    return sl_events_watch(app->events, call, req, err);
}

#define UNARY(method, reqtype, resptype, handler)                                                  \
    {                                                                                              \
        "/shelfline.v1.CustomerValueService/" method, SL_RPC_UNARY,                                \
            &shelfline__v1__##reqtype##__descriptor, &shelfline__v1__##resptype##__descriptor,     \
            cv_api_##handler, NULL                                                                 \
    }

static const sl_method methods[] = {
    UNARY("UpsertCustomer", upsert_customer_request, upsert_customer_response, upsert_customer),
    UNARY("RecordPurchase", record_purchase_request, record_purchase_response, record_purchase),
    UNARY("RecordReturn", record_return_request, record_return_response, record_return),
    UNARY("FitModels", fit_models_request, model_fit, fit_models),
    UNARY("GetCustomerValue", get_customer_value_request, customer_value, get_customer_value),
    UNARY("GetRetentionReport", get_retention_report_request, retention_report,
          get_retention_report),
    UNARY("ListSegment", list_segment_request, list_segment_response, list_segment),
    UNARY("GetRepurchaseReminders", get_repurchase_reminders_request,
          get_repurchase_reminders_response, get_repurchase_reminders),
    UNARY("Recommend", recommend_request, recommend_response, recommend),
    {"/shelfline.v1.CustomerValueService/WatchEvents", SL_RPC_SERVER_STREAMING,
     &shelfline__v1__watch_events_request__descriptor, &shelfline__v1__event__descriptor, NULL,
     watch_events},
};

static const sl_event_topic topics[] = {
    {"CUSTOMER_UPSERTED", &shelfline__v1__customer__descriptor},
    {"PURCHASE_RECORDED", &shelfline__v1__purchase_recorded__descriptor},
    {"RETURN_RECORDED", &shelfline__v1__return_recorded__descriptor},
    {"MODELS_FITTED", &shelfline__v1__model_fit__descriptor},
    {"REPURCHASE_DUE", &shelfline__v1__repurchase_reminder__descriptor},
    {NULL, NULL},
};

static sl_service_def service_def = {
    .descriptor = &shelfline__v1__customer_value_service__descriptor,
    .methods = methods,
    .n_methods = sizeof methods / sizeof methods[0],
};

static sl_status init(sl_service *svc, void **out, sl_err *err)
{
    cv_app *app = calloc(1, sizeof *app);
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
    if ((st = cv_store_register(app->db, err)) != SL_OK)
        goto fail;
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
    free(app);
}

const sl_service_spec cv_service_spec = {
    .name = "customer-value",
    .schema = "customer_value",
    .migrations = customer_value_migrations,
    .default_listen = "127.0.0.1:50053",
    .def = &service_def,
    .topics = topics,
    .init = init,
    .fini = fini,
};
