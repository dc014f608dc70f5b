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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_arena.h"
#include "sl_cursor.h"
#include "sl_events.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_trace.h"

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
    /* Its series of the shelfline_consumer_* metrics (label subscription). */
    sl_metric_child *m_cursor, *m_active, *m_applied, *m_lag_s, *m_lag_events;
};

typedef struct apply_ctx {
    sl_consumer *c;
    const Shelfline__V1__Event *ev;
    bool applied;
} apply_ctx;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void metrics_init(sl_consumer *c)
{
    static const char *const sub[] = {"subscription", NULL};
    const char *v[] = {c->o.subscription};
    c->m_cursor = sl_metric_with(
        sl_metric_gauge("shelfline_consumer_cursor",
                        "The id of the last event this subscription applied (its durable cursor).",
                        sub),
        v);
    c->m_active = sl_metric_with(
        sl_metric_gauge("shelfline_consumer_active",
                        "1 while this replica holds the subscription and consumes, else 0.", sub),
        v);
    c->m_applied =
        sl_metric_with(sl_metric_counter("shelfline_consumer_applied_total",
                                         "Events this replica applied for the subscription.", sub),
                       v);
    c->m_lag_s =
        sl_metric_with(sl_metric_gauge("shelfline_consumer_lag_seconds",
                                       "Age of the event being applied (0 once caught up).", sub),
                       v);
    c->m_lag_events = sl_metric_with(
        sl_metric_gauge("shelfline_consumer_lag_events",
                        "Events the producer had logged beyond the cursor (0 once caught up; "
                        "counted over all topics, so an upper bound when the subscription "
                        "filters topics).",
                        sub),
        v);
}

/* How far behind the cursor is, from the producer's newest id (the stream's
 * header, then every event received) -- or caught up. */
static void note_lag(sl_consumer *c, int64_t cursor, int64_t *newest, int64_t created_at_ms,
                     bool caught_up)
{
    if (caught_up || *newest < cursor)
        *newest = cursor;
    sl_metric_set(c->m_cursor, (double)cursor);
    sl_metric_set(c->m_lag_events, (double)(*newest - cursor));
    int64_t age = caught_up ? 0 : wall_ms() - created_at_ms;
    sl_metric_set(c->m_lag_s, age > 0 ? (double)age / 1000.0 : 0.0);
}

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
    sl_metric_set(c->m_cursor, (double)cursor);
    int64_t newest = cursor;
    bool header_read = false;
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
        if (!header_read && m != NULL) {
            char hv[24];
            header_read = true;
            if (sl_client_stream_header(s, SL_EVENTS_NEWEST_HEADER, hv, sizeof hv) != NULL)
                newest = strtoll(hv, NULL, 10);
        }
        if (timed_out)
            note_lag(c, cursor, &newest, 0, true);
        if (m != NULL) {
            apply_ctx a = {.c = c, .ev = (const Shelfline__V1__Event *)m};
            /* The event's work is a span of the trace that wrote it, with
             * "<subscription>/<id>" as its request id: its logs, the peer
             * calls it makes and the events it publishes join that trace. */
            sl_trace span;
            const char *tp = a.ev->traceparent != NULL ? a.ev->traceparent : "";
            sl_trace_begin(&span, tp, strlen(tp), NULL, 0);
            char rid[SL_TRACE_REQUEST_ID_MAX];
            int rn = snprintf(rid, sizeof rid, "%s/%lld", c->o.subscription, (long long)a.ev->id);
            sl_trace_set_request_id(&span, rid,
                                    rn > 0 && (size_t)rn < sizeof rid ? (size_t)rn : strlen(rid));
            const sl_trace *prev = sl_trace_swap(&span);
            /* The stream starts after the cursor, and only this replica
             * moves it while it holds the lock, so a local copy tells
             * whether an event still needs preparing. */
            st = SL_OK;
            if (c->o.prepare != NULL && a.ev->id > cursor)
                st = c->o.prepare(sl_db_conn_db(lock_conn), a.ev, c->o.ctx, &err);
            if (st == SL_OK)
                st = sl_db_tx(sl_db_conn_db(lock_conn), NULL, apply_tx, &a, &err);
            sl_trace_swap(prev);
            if (st != SL_OK) {
                SL_LOG(SL_LOG_ERROR, "consumer", NULL, "%s: event %lld (%s) failed, will retry: %s",
                       c->o.subscription, (long long)a.ev->id, a.ev->topic, err.msg);
                break;
            }
            if (a.applied) {
                atomic_fetch_add(&c->applied, 1);
                sl_metric_add(c->m_applied, 1);
            }
            if (a.ev->id > cursor)
                cursor = a.ev->id;
            if (a.ev->id > newest)
                newest = a.ev->id;
            note_lag(c, cursor, &newest, a.ev->created_at_ms, false);
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
        sl_metric_set(c->m_active, 1);
        SL_LOG(SL_LOG_INFO, "consumer", NULL, "%s: active on this replica", c->o.subscription);
        int64_t started = now_ms();
        consume(c, lock_conn);
        atomic_store(&c->active, false);
        sl_metric_set(c->m_active, 0);
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
    metrics_init(c);
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
