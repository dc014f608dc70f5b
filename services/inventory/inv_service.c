/*
 * inv_service: start-up of the inventory service and its method table.
 */
#include "inv_service.h"

#include <stdlib.h>

#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"

extern const sl_migration inventory_migrations[];

typedef struct inv_app {
    sl_events *events;
} inv_app;

static sl_status watch_events(sl_call *call, const ProtobufCMessage *req, sl_err *err)
{
    inv_app *app = sl_call_ctx(call);
    return sl_events_watch(app->events, call, req, err);
}

static const sl_method methods[] = {
    {"/shelfline.v1.InventoryService/WatchEvents", SL_RPC_SERVER_STREAMING,
     &shelfline__v1__watch_events_request__descriptor, &shelfline__v1__event__descriptor, NULL,
     watch_events},
};

static const sl_event_topic topics[] = {
    {NULL, NULL},
};

static sl_service_def service_def = {
    .descriptor = &shelfline__v1__inventory_service__descriptor,
    .methods = methods,
    .n_methods = sizeof methods / sizeof methods[0],
};

static sl_status init(sl_service *svc, void **out, sl_err *err)
{
    inv_app *app = calloc(1, sizeof *app);
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

const sl_service_spec inv_service_spec = {
    .name = "inventory",
    .schema = "inventory",
    .migrations = inventory_migrations,
    .default_listen = "127.0.0.1:50051",
    .topics = topics,
    .init = init,
    .fini = fini,
};
