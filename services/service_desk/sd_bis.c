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

#include <libpq-fe.h>

#include "sd_api.h"
#include "sd_store.h"
#include "sd_valid.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_log.h"

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
    sl_status st;
    char b[3][24];
    if (strcmp(ev->topic, "BACK_IN_STOCK") == 0) {
        const char *p[5] = {sd_i64(b[0], ev->id), al->sku, al->region, sd_i64(b[1], al->available),
                            sd_i64(b[2], sl_db_now_ms())};
        st = sl_db_exec(conn, "sd_restock_insert", 5, p, NULL, NULL, NULL, err);
    } else {
        const char *p[2] = {al->sku, al->region};
        st = sl_db_exec(conn, "sd_restock_stop", 2, p, NULL, NULL, NULL, err);
    }
    shelfline__v1__region_stock_alert__free_unpacked(al, NULL);
    return st;
}

/* ---- the scheduler ----------------------------------------------------------- */

typedef struct batch_ctx {
    sd_app *app;
    bool claimed;
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
    sl_call_options o = {.timeout_ms = app->cfg.inventory_timeout_ms, .idempotent = true};
    sl_status st =
        sl_client_unary(app->inventory, "/shelfline.v1.InventoryService/GetAvailability", &r.base,
                        &shelfline__v1__get_availability_response__descriptor, a, &m, &o, err);
    if (st == SL_OK) {
        const Shelfline__V1__GetAvailabilityResponse *av = (const void *)m;
        *out = av->n_items > 0 ? av->items[0]->available : 0;
    }
    sl_arena_destroy(a);
    return st;
}

static sl_status batch_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    batch_ctx *c = vctx;
    sd_app *app = c->app;
    c->claimed = false;
    c->notified = 0;
    char b[6][24];
    int64_t now = sl_db_now_ms();
    const char *p[6] = {sd_i64(b[0], now)};
    PGresult *r = NULL, *rb = NULL, *rp = NULL;
    sl_status st = sl_db_exec(conn, "sd_restock_claim", 1, p, NULL, NULL, &r, err);
    if (st != SL_OK || PQntuples(r) == 0)
        goto done;
    c->claimed = true;
    const char *id = PQgetvalue(r, 0, 0), *sku = PQgetvalue(r, 0, 1), *region = PQgetvalue(r, 0, 2);
    int64_t avail = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
    int batches = (int)strtol(PQgetvalue(r, 0, 4), NULL, 10);
    if (batches > 0 && (st = available_now(app, sku, region, &avail, err)) != SL_OK)
        goto done;
    bool done = avail <= 0;
    if (!done) {
        int64_t n = avail < app->cfg.bis_max_batch ? avail : app->cfg.bis_max_batch;
        char body[256];
        snprintf(body, sizeof body, "%s is back in stock in %s", sku, region);
        const char *pb[6] = {sku, region, sd_i64(b[1], n), id, sd_i64(b[2], batches + 1), body};
        if ((st = sd_store_notif_begin(conn, err)) != SL_OK)
            goto done;
        if ((st = sl_db_exec(conn, "sd_restock_batch", 6, pb, NULL, NULL, &rb, err)) != SL_OK)
            goto done;
        c->notified = PQntuples(rb);
        const char *pp[2] = {sku, region};
        if ((st = sl_db_exec(conn, "sd_restock_pending", 2, pp, NULL, NULL, &rp, err)) != SL_OK)
            goto done;
        done = strtoll(PQgetvalue(rp, 0, 0), NULL, 10) == 0;
        batches++;
    }
    const char *pu[4] = {id, sd_i64(b[3], batches), sd_i64(b[4], now + app->cfg.bis_interval_ms),
                         done ? "true" : "false"};
    st = sl_db_exec(conn, "sd_restock_update", 4, pu, NULL, NULL, NULL, err);
done:
    PQclear(r);
    PQclear(rb);
    PQclear(rp);
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
    sd_bis *b = calloc(1, sizeof *b);
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

static Shelfline__V1__Subscription *sub_row(sl_arena *a, PGresult *r, int i)
{
    Shelfline__V1__Subscription *s = sl_arena_alloc(a, sizeof *s);
    if (s == NULL)
        return NULL;
    shelfline__v1__subscription__init(s);
    s->subscription_id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
    s->customer_id = sl_arena_strdup(a, PQgetvalue(r, i, 1));
    s->sku = sl_arena_strdup(a, PQgetvalue(r, i, 2));
    s->region = sl_arena_strdup(a, PQgetvalue(r, i, 3));
    const char *st = PQgetvalue(r, i, 4);
    s->status = strcmp(st, "ACTIVE") == 0 ? SHELFLINE__V1__SUBSCRIPTION_STATUS__SUBSCRIPTION_ACTIVE
                : strcmp(st, "NOTIFIED") == 0
                    ? SHELFLINE__V1__SUBSCRIPTION_STATUS__SUBSCRIPTION_NOTIFIED
                    : SHELFLINE__V1__SUBSCRIPTION_STATUS__SUBSCRIPTION_CANCELLED;
    s->created_at_ms = strtoll(PQgetvalue(r, i, 5), NULL, 10);
    s->notified_at_ms = strtoll(PQgetvalue(r, i, 6), NULL, 10);
    return s;
}

/* Runs a statement returning subscription rows on a pooled connection;
 * *res is the caller's (PQclear). */
static sl_status sub_exec(sd_app *app, const char *stmt, int n, const char *const *p,
                          PGresult **res, sl_err *err)
{
    sl_db_conn *conn;
    sl_status st = sl_db_acquire(app->db, -1, &conn, err);
    if (st != SL_OK)
        return st;
    st = sl_db_exec(conn, stmt, n, p, NULL, NULL, res, err);
    sl_db_release(app->db, conn);
    return st;
}

SD_API(subscribe_back_in_stock)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__SubscribeBackInStockRequest *r = (const void *)req;
    sl_arena *a = sl_call_arena(call);
    if (sd_valid_subscribe(r, err) != SL_OK)
        return SL_INVALID_ARGUMENT;
    /* the SKU must exist */
    Shelfline__V1__GetProductRequest gp = SHELFLINE__V1__GET_PRODUCT_REQUEST__INIT;
    gp.sku = r->sku;
    ProtobufCMessage *m;
    sl_call_options o = {.timeout_ms = app->cfg.inventory_timeout_ms, .idempotent = true};
    sl_status st = sl_client_unary(app->inventory, "/shelfline.v1.InventoryService/GetProduct",
                                   &gp.base, &shelfline__v1__product__descriptor, a, &m, &o, err);
    if (st == SL_NOT_FOUND)
        return sl_err_set(err, SL_NOT_FOUND, "sku \"%s\" not found", r->sku);
    if (st != SL_OK)
        return st;
    const char *p[3] = {r->customer_id, r->sku, r->region};
    PGresult *res = NULL;
    for (int attempt = 0; attempt < 3; attempt++) {
        if ((st = sub_exec(app, "sd_sub_insert", 3, p, &res, err)) != SL_OK)
            return st;
        if (PQntuples(res) == 0) { /* already active: return it */
            PQclear(res);
            if ((st = sub_exec(app, "sd_sub_find_active", 3, p, &res, err)) != SL_OK)
                return st;
        }
        if (PQntuples(res) == 1)
            break;
        PQclear(res); /* notified in between: subscribe again */
        res = NULL;
    }
    if (res == NULL)
        return sl_err_set(err, SL_ABORTED, "subscription kept changing; retry");
    Shelfline__V1__Subscription *s = sub_row(a, res, 0);
    PQclear(res);
    if (s == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    *(Shelfline__V1__Subscription *)resp = *s;
    return SL_OK;
}

SD_API(unsubscribe)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__UnsubscribeRequest *r = (const void *)req;
    if (sd_valid_positive("subscription_id", r->subscription_id, err) != SL_OK)
        return SL_INVALID_ARGUMENT;
    char b[24];
    const char *p[1] = {sd_i64(b, r->subscription_id)};
    PGresult *res = NULL;
    sl_status st = sub_exec(app, "sd_sub_cancel", 1, p, &res, err);
    if (st != SL_OK)
        return st;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return sl_err_set(err, SL_NOT_FOUND, "subscription_id %" PRId64 " not found",
                          r->subscription_id);
    }
    Shelfline__V1__Subscription *s = sub_row(sl_call_arena(call), res, 0);
    PQclear(res);
    if (s == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    *(Shelfline__V1__Subscription *)resp = *s;
    return SL_OK;
}

SD_API(list_subscriptions)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__ListSubscriptionsRequest *r = (const void *)req;
    Shelfline__V1__ListSubscriptionsResponse *out = (void *)resp;
    sl_arena *a = sl_call_arena(call);
    if (sd_valid_id("customer_id", r->customer_id, err) != SL_OK)
        return SL_INVALID_ARGUMENT;
    const char *p[1] = {r->customer_id};
    PGresult *res = NULL;
    sl_status st = sub_exec(app, "sd_sub_list", 1, p, &res, err);
    if (st != SL_OK)
        return st;
    int n = PQntuples(res);
    out->subscriptions = sl_arena_zalloc(a, (size_t)(n + 1) * sizeof *out->subscriptions);
    for (int i = 0; out->subscriptions != NULL && i < n; i++)
        if ((out->subscriptions[out->n_subscriptions] = sub_row(a, res, i)) != NULL)
            out->n_subscriptions++;
    PQclear(res);
    if (out->n_subscriptions != (size_t)n)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    return SL_OK;
}
