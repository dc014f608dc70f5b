/*
 * inv_reaper: expiry of holds and the end of promotions (see inv_reaper.h).
 */
#include "inv_reaper.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "sl_arena.h"
#include "inv_promo.h"
#include "inv_resv.h"
#include "inv_store.h"
#include "sl_log.h"
#include "sl_metrics.h"

struct inv_reaper {
    inv_app *app;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

typedef struct expire_ctx {
    inv_app *app;
    sl_arena *arena;
    int limit;
    int64_t expired;
    size_t candidates;
} expire_ctx;

static sl_status expire_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    expire_ctx *c = p;
    sl_arena_reset(c->arena);
    c->expired = 0;
    const char **ids;
    sl_status st = inv_store_resv_expired(conn, c->arena, c->limit, &ids, &c->candidates, err);
    if (st != SL_OK || c->candidates == 0)
        return st;
    inv_close_outcome *out = sl_arena_alloc(c->arena, c->candidates * sizeof *out);
    if (out == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    st = inv_resv_close(conn, c->app->events, c->arena, ids, NULL, c->candidates, INV_CLOSE_EXPIRE,
                        out, err);
    for (size_t i = 0; st == SL_OK && i < c->candidates; i++)
        c->expired += out[i].changed;
    return st;
}

typedef struct end_ctx {
    inv_app *app;
    sl_arena *arena;
    const char *id;
    bool ended;
} end_ctx;

static sl_status end_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    end_ctx *c = p;
    return inv_promo_end(conn, c->app->events, c->arena, c->id, &c->ended, err);
}

typedef struct list_ctx {
    sl_arena *arena;
    const char **ids;
    size_t n;
} list_ctx;

static sl_status ending_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    list_ctx *c = p;
    return inv_store_promo_ending(conn, c->arena, 100, &c->ids, &c->n, err);
}

sl_status inv_reaper_pass(inv_app *app, int64_t max_holds, int64_t *expired, int64_t *ended,
                          sl_err *err)
{
    sl_status st = SL_OK;
    int64_t nexp = 0, nend = 0;
    sl_arena *a = sl_arena_create(64 * 1024), *b = sl_arena_create(16 * 1024);
    if (a == NULL || b == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    /* Holds, a transaction per batch, until none are due. */
    for (int64_t left = max_holds; left > 0;) {
        int limit = (int)(left < app->cfg.reap_batch ? left : app->cfg.reap_batch);
        expire_ctx c = {app, a, limit, 0, 0};
        st = sl_db_tx(app->db, NULL, expire_tx, &c, err);
        if (st != SL_OK)
            goto done;
        nexp += c.expired;
        sl_metric_add(sl_metric_with(sl_metric_counter(
                                         "shelfline_inventory_holds_expired_total",
                                         "Reservations released because their hold expired.", NULL),
                                     NULL),
                      (double)c.expired);
        left -= (int64_t)c.candidates;
        if (c.candidates < (size_t)limit)
            break;
    }
    list_ctx l = {b, NULL, 0};
    st = sl_db_tx(app->db, NULL, ending_tx, &l, err);
    for (size_t i = 0; st == SL_OK && i < l.n; i++) {
        sl_arena_reset(a);
        end_ctx c = {app, a, l.ids[i], false};
        st = sl_db_tx(app->db, NULL, end_tx, &c, err);
        nend += c.ended;
    }
done:
    sl_arena_destroy(a);
    sl_arena_destroy(b);
    if (expired != NULL)
        *expired = nexp;
    if (ended != NULL)
        *ended = nend;
    return st;
}

static void *reaper_main(void *arg)
{
    inv_reaper *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        pthread_mutex_unlock(&r->mu);
        sl_err err;
        sl_err_clear(&err);
        int64_t expired = 0, ended = 0;
        sl_status st = inv_reaper_pass(r->app, 10000, &expired, &ended, &err);
        if (st != SL_OK)
            SL_LOG(SL_LOG_WARN, "reaper", NULL, "reaper pass failed: %s", err.msg);
        else if (expired > 0 || ended > 0)
            SL_LOG(SL_LOG_INFO, "reaper", NULL, "expired %lld holds, ended %lld promotions",
                   (long long)expired, (long long)ended);
        pthread_mutex_lock(&r->mu);
        if (r->stop)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (r->app->cfg.reap_interval_ms % 1000) * 1000000L;
        ts.tv_sec += r->app->cfg.reap_interval_ms / 1000 + ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

sl_status inv_reaper_start(inv_app *app, inv_reaper **out, sl_err *err)
{
    *out = NULL;
    inv_reaper *r = sl_calloc(1, sizeof *r);
    if (r == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    r->app = app;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, reaper_main, r) != 0) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "could not start the reaper thread");
    }
    *out = r;
    return SL_OK;
}

void inv_reaper_stop(inv_reaper *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
