/*
 * sd_bis: back-in-stock subscriptions and their batched notification (see
 * sd_bis.h).
 */
#include "sd_bis.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_arena.h"
#include "sd_store.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_log.h"
#include "sl_metrics.h"

struct sd_bis {
    sd_app *app;
    pthread_t thread;
    atomic_bool stop;
};

/* ---- the consumer's part ---------------------------------------------------- */

sl_status sd_bis_on_event(sd_app *app, sl_db_conn *conn, const Shelfline__V1__Event *ev,
                          sl_err *err)
{
    (void)app;
    Shelfline__V1__RegionStockAlert *al =
        shelfline__v1__region_stock_alert__unpack(NULL, ev->payload.len, ev->payload.data);
    if (al == NULL) {
        SL_LOG(SL_LOG_ERROR, "back_in_stock", NULL, "could not decode event %" PRId64, ev->id);
        return SL_OK; /* never decodes: retrying would stall the subscription */
    }
    sl_status st = strcmp(ev->topic, "BACK_IN_STOCK") == 0
                       ? sd_store_restock_record(conn, ev->id, al->sku, al->region, al->available,
                                                 sl_db_now_ms(), err)
                       : sd_store_restock_stop(conn, al->sku, al->region, err);
    shelfline__v1__region_stock_alert__free_unpacked(al, NULL);
    return st;
}

/* ---- the scheduler ----------------------------------------------------------- */

typedef struct batch_ctx {
    sd_app *app;
    bool claimed;
    bool sent; /* a batch notified someone */
    int notified;
} batch_ctx;

static sl_status available_now(sd_app *app, const char *sku, const char *region, int64_t *out,
                               sl_err *err)
{
    sl_arena *a = sl_arena_create(0);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    char *skus[1] = {(char *)sku};
    Shelfline__V1__GetAvailabilityRequest r = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
    r.skus = skus;
    r.n_skus = 1;
    r.region = (char *)region;
    ProtobufCMessage *m;
    /* Background work (a restock batch): no caller to bound or name it. */
    sl_call_options policy = {.timeout_ms = app->cfg.inventory_timeout_ms, .idempotent = true};
    sl_status st = sl_client_call_from(
        NULL, app->inventory, "/shelfline.v1.InventoryService/GetAvailability", &r.base,
        &shelfline__v1__get_availability_response__descriptor, a, &m, &policy, err);
    if (st == SL_OK) {
        const Shelfline__V1__GetAvailabilityResponse *av = (const void *)m;
        *out = av->n_items > 0 ? av->items[0]->available : 0;
    }
    sl_arena_destroy(a);
    return st;
}

/* One batch of the earliest due restock:
 *  1. claim it (SKIP LOCKED: each replica takes another);
 *  2. the units available: the event's figure for the first batch, a
 *     fresh GetAvailability for later ones;
 *  3. notify that many of the oldest active subscribers (each leaves
 *     ACTIVE with its notification, so nobody is notified twice);
 *  4. set the next batch, or close the restock when nobody is left or
 *     the stock is gone. */
static sl_status batch_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    batch_ctx *c = vctx;
    sd_app *app = c->app;
    c->notified = 0;
    c->sent = false;
    int64_t now = sl_db_now_ms();
    sl_arena *a = sl_arena_create(0);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sd_restock r;
    sl_status st = sd_store_restock_claim(conn, now, a, &r, &c->claimed, err);
    if (st != SL_OK || !c->claimed)
        goto done;
    int64_t avail = r.available;
    if (r.batches > 0 && (st = available_now(app, r.sku, r.region, &avail, err)) != SL_OK)
        goto done;
    bool done = avail <= 0;
    int batches = r.batches;
    if (!done) {
        int64_t n = avail < app->cfg.bis_max_batch ? avail : app->cfg.bis_max_batch, pending;
        char body[256];
        snprintf(body, sizeof body, "%s is back in stock in %s", r.sku, r.region);
        if ((st = sd_store_restock_batch(conn, app->events, &r, n, body, &c->notified, &pending,
                                         err)) != SL_OK)
            goto done;
        done = pending == 0;
        batches++;
        c->sent = c->notified > 0;
    }
    st = sd_store_restock_update(conn, r.restock_id, batches, now + app->cfg.bis_interval_ms, done,
                                 err);
done:
    sl_arena_destroy(a);
    return st;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *run(void *arg)
{
    sd_bis *b = arg;
    while (!atomic_load(&b->stop)) {
        batch_ctx c = {.app = b->app};
        sl_err err;
        sl_status st = sl_db_tx(b->app->db, NULL, batch_tx, &c, &err);
        if (st != SL_OK)
            SL_LOG(SL_LOG_WARN, "back_in_stock", NULL, "back-in-stock batch failed: %s", err.msg);
        else if (c.sent)
            sl_metric_add(sl_metric_with(sl_metric_counter(
                                             "shelfline_service_desk_back_in_stock_batches_total",
                                             "Back-in-stock notification batches that notified "
                                             "subscribers (up to SHELFLINE_SD_BIS_MAX_BATCH "
                                             "each).",
                                             NULL),
                                         NULL),
                          1);
        else if (c.notified > 0)
            SL_LOG(SL_LOG_INFO, "back_in_stock", NULL, "notified %d subscribers", c.notified);
        if (st == SL_OK && c.claimed)
            continue; /* more may be due now */
        for (int64_t slept = 0; slept < b->app->cfg.bis_poll_ms && !atomic_load(&b->stop);
             slept += 50)
            sleep_ms(50);
    }
    return NULL;
}

sl_status sd_bis_start(sd_app *app, sd_bis **out, sl_err *err)
{
    sd_bis *b = sl_calloc(1, sizeof *b);
    if (b == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    b->app = app;
    atomic_init(&b->stop, false);
    if (pthread_create(&b->thread, NULL, run, b) != 0) {
        free(b);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "could not start the back-in-stock thread");
    }
    *out = b;
    return SL_OK;
}

void sd_bis_stop(sd_bis *b)
{
    if (b == NULL)
        return;
    atomic_store(&b->stop, true);
    pthread_join(b->thread, NULL);
    free(b);
}

/* ---- RPCs ---------------------------------------------------------------- */

sl_status sd_bis_subscribe(sl_call *call, const Shelfline__V1__SubscribeBackInStockRequest *r,
                           Shelfline__V1__Subscription *out, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    sl_arena *a = sl_call_arena(call);
    /* the SKU must exist */
    Shelfline__V1__GetProductRequest gp = SHELFLINE__V1__GET_PRODUCT_REQUEST__INIT;
    gp.sku = r->sku;
    ProtobufCMessage *m;
    sl_call_options policy = {.timeout_ms = app->cfg.inventory_timeout_ms, .idempotent = true};
    sl_status st =
        sl_client_call_from(call, app->inventory, "/shelfline.v1.InventoryService/GetProduct",
                            &gp.base, &shelfline__v1__product__descriptor, a, &m, &policy, err);
    if (st == SL_NOT_FOUND)
        return sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND", "sku \"%s\" not found", r->sku);
    if (st != SL_OK)
        return st;
    Shelfline__V1__Subscription *s = NULL;
    for (int attempt = 0; attempt < 3 && s == NULL; attempt++) /* notified in between: again */
        if ((st = sd_store_subscribe(app->db, sl_call_deadline_ms(call), r->customer_id, r->sku,
                                     r->region, a, &s, err)) != SL_OK)
            return st;
    if (s == NULL)
        return sl_err_reason(err, SL_ABORTED, "CONCURRENT_UPDATE",
                             "subscription kept changing; retry");
    *out = *s;
    return SL_OK;
}
