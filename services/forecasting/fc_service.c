/*
 * fc_service: start-up of the forecasting service and its method table.
 */
#include "fc_service.h"

#include <stdlib.h>

#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/forecasting.pb-c.h"

extern const sl_migration forecasting_migrations[];

typedef struct fc_app {
    sl_events *events;
} fc_app;

static sl_status watch_events(sl_call *call, const ProtobufCMessage *req, sl_err *err)
{
    fc_app *app = sl_call_ctx(call);
    return sl_events_watch(app->events, call, req, err);
}

static const sl_method methods[] = {
    {"/shelfline.v1.ForecastingService/WatchEvents", SL_RPC_SERVER_STREAMING,
     &shelfline__v1__watch_events_request__descriptor, &shelfline__v1__event__descriptor, NULL,
     watch_events},
};

static const sl_event_topic topics[] = {
    {NULL, NULL},
};

static sl_service_def service_def = {
    .descriptor = &shelfline__v1__forecasting_service__descriptor,
    .methods = methods,
    .n_methods = sizeof methods / sizeof methods[0],
};

static sl_status init(sl_service *svc, void **out, sl_err *err)
{
    fc_app *app = calloc(1, sizeof *app);
    if (app == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    app->events = sl_service_events(svc);
    service_def.ctx = app;
    sl_status st = sl_service_add(svc, &service_def, err);
    if (st != SL_OK) {
        free(app);
        return st;
    }
    *out = app;
    return SL_OK;
}

static void fini(sl_service *svc, void *app)
{
    (void)svc;
    free(app);
}

const sl_service_spec fc_service_spec = {
    .name = "forecasting",
    .schema = "forecasting",
    .migrations = forecasting_migrations,
    .default_listen = "127.0.0.1:50052",
    .topics = topics,
    .init = init,
    .fini = fini,
};
