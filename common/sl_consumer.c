/*
 * sl_consumer: the loop of one subscription --
 *   take the lock -> read the cursor -> stream from it -> prepare each event
 *   (optional, its own transactions) -> apply it with the cursor in one
 *   transaction -> on any failure, back off and start again from the
 *   durable cursor.
 */
#include "sl_consumer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_arena.h"
#include "sl_cursor.h"
#include "sl_log.h"

#define NEXT_WAIT_MS 500
#define LOCK_CHECK_MS 1000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct sl_consumer {
    sl_consumer_options o;
    pthread_t thread;
    atomic_bool stop;
    atomic_bool active;
    atomic_uint_least64_t applied;
};

typedef struct apply_ctx {
    sl_consumer *c;
    const Shelfline__V1__Event *ev;
    bool applied;
} apply_ctx;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps up to ms, waking early when asked to stop. */
static void nap(sl_consumer *c, int64_t ms)
{
    int64_t until = now_ms() + ms;
    while (!atomic_load(&c->stop) && now_ms() < until) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static sl_status apply_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    apply_ctx *a = p;
    /* Cursor first: its row lock orders us after any other holder, and a
     * cursor already at or past this event means it is applied. */
    bool advanced = false;
    sl_status st = sl_cursor_set(conn, a->c->o.subscription, a->ev->id, &advanced, err);
    if (st != SL_OK || !advanced) {
        a->applied = false;
        return st;
    }
    a->applied = true;
    return a->c->o.fn(conn, a->ev, a->c->o.ctx, err);
}

/* Streams from the cursor while this replica holds the lock.  Returns when
 * the stream fails, the lock connection breaks, or stop is set. */
static void consume(sl_consumer *c, sl_db_conn *lock_conn)
{
    sl_err err;
    int64_t cursor;
    if (sl_cursor_get(lock_conn, c->o.subscription, &cursor, &err) != SL_OK) {
        SL_LOG(SL_LOG_WARN, "consumer", NULL, "%s: could not read the cursor: %s",
               c->o.subscription, err.msg);
        return;
    }
    Shelfline__V1__WatchEventsRequest req = SHELFLINE__V1__WATCH_EVENTS_REQUEST__INIT;
    req.after_id = cursor;
    req.n_topics = c->o.n_topics;
    req.topics = (char **)c->o.topics;
    sl_call_options co = {.authorization = c->o.authorization};
    sl_client_stream *s;
    if (sl_client_stream_open(c->o.channel, c->o.method, &req.base,
                              &shelfline__v1__event__descriptor, &co, &s, &err) != SL_OK) {
        SL_LOG(SL_LOG_WARN, "consumer", NULL, "%s: could not open %s: %s", c->o.subscription,
               c->o.method, err.msg);
        return;
    }
    sl_arena *arena = sl_arena_create(0);
    int64_t last_check = now_ms();
    while (arena != NULL && !atomic_load(&c->stop)) {
        ProtobufCMessage *m = NULL;
        bool timed_out = false;
        sl_status st = sl_client_stream_next(s, arena, &m, NEXT_WAIT_MS, &timed_out, &err);
        if (st != SL_OK || (m == NULL && !timed_out)) {
            SL_LOG(SL_LOG_INFO, "consumer", NULL, "%s: stream from %s ended: %s %s",
                   c->o.subscription, sl_channel_target(c->o.channel), sl_status_name(st),
                   st == SL_OK ? "" : err.msg);
            break;
        }
        if (m != NULL) {
            apply_ctx a = {.c = c, .ev = (const Shelfline__V1__Event *)m};
            /* The stream starts after the cursor, and only this replica
             * moves it while it holds the lock, so a local copy tells
             * whether an event still needs preparing. */
            st = SL_OK;
            if (c->o.prepare != NULL && a.ev->id > cursor)
                st = c->o.prepare(sl_db_conn_db(lock_conn), a.ev, c->o.ctx, &err);
            if (st == SL_OK)
                st = sl_db_tx(sl_db_conn_db(lock_conn), NULL, apply_tx, &a, &err);
            if (st != SL_OK) {
                SL_LOG(SL_LOG_ERROR, "consumer", NULL, "%s: event %lld (%s) failed, will retry: %s",
                       c->o.subscription, (long long)a.ev->id, a.ev->topic, err.msg);
                break;
            }
            if (a.applied)
                atomic_fetch_add(&c->applied, 1);
            if (a.ev->id > cursor)
                cursor = a.ev->id;
            sl_arena_reset(arena);
        }
        if (now_ms() - last_check >= LOCK_CHECK_MS) {
            last_check = now_ms();
            if (sl_db_conn_check(lock_conn, &err) != SL_OK) {
                SL_LOG(SL_LOG_WARN, "consumer", NULL, "%s: lost the lock connection: %s",
                       c->o.subscription, err.msg);
                break;
            }
        }
    }
    sl_arena_destroy(arena);
    sl_client_stream_close(s);
}

static void *consumer_main(void *p)
{
    sl_consumer *c = p;
    sl_db_conn *lock_conn = NULL;
    int64_t backoff = BACKOFF_MIN_MS;
    while (!atomic_load(&c->stop)) {
        sl_err err;
        if (lock_conn == NULL &&
            sl_db_connect_dedicated(c->o.db, 2000, &lock_conn, &err) != SL_OK) {
            lock_conn = NULL;
            nap(c, backoff);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        bool got = false;
        if (sl_db_try_lock_session(lock_conn, c->o.subscription, &got, &err) != SL_OK) {
            sl_db_close_dedicated(lock_conn);
            lock_conn = NULL;
            continue;
        }
        if (!got) {
            nap(c, c->o.lock_retry_ms);
            continue;
        }
        atomic_store(&c->active, true);
        SL_LOG(SL_LOG_INFO, "consumer", NULL, "%s: active on this replica", c->o.subscription);
        int64_t started = now_ms();
        consume(c, lock_conn);
        atomic_store(&c->active, false);
        /* Give the subscription up while backing off, so a healthy replica
         * can take it; closing the connection releases the lock. */
        sl_db_close_dedicated(lock_conn);
        lock_conn = NULL;
        if (now_ms() - started > 10 * BACKOFF_MAX_MS)
            backoff = BACKOFF_MIN_MS;
        nap(c, backoff);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    sl_db_close_dedicated(lock_conn);
    return NULL;
}

sl_status sl_consumer_start(const sl_consumer_options *opts, sl_consumer **out, sl_err *err)
{
    *out = NULL;
    if (opts->subscription == NULL || opts->subscription[0] == '\0' || opts->db == NULL ||
        opts->channel == NULL || opts->method == NULL || opts->fn == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "consumer needs a subscription, database, channel, method and handler");
    sl_consumer *c = sl_calloc(1, sizeof *c);
    if (c == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    c->o = *opts;
    if (c->o.lock_retry_ms <= 0)
        c->o.lock_retry_ms = 2000;
    atomic_init(&c->stop, false);
    atomic_init(&c->active, false);
    atomic_init(&c->applied, 0);
    if (pthread_create(&c->thread, NULL, consumer_main, c) != 0) {
        free(c);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "could not start the consumer thread");
    }
    *out = c;
    return SL_OK;
}

void sl_consumer_stop(sl_consumer *c)
{
    if (c == NULL)
        return;
    atomic_store(&c->stop, true);
    pthread_join(c->thread, NULL);
    free(c);
}

bool sl_consumer_active(const sl_consumer *c)
{
    return atomic_load(&c->active);
}

uint64_t sl_consumer_applied(const sl_consumer *c)
{
    return atomic_load(&c->applied);
}
