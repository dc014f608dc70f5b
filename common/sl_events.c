/*
 * sl_events: publishing and WatchEvents over sl_outbox.
 */
#include "sl_events.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"
#include "shelfline/v1/common.pb-c.h"
#include "sl_metrics.h"
#include "sl_outbox.h"

#define MAX_TOPICS 64
#define READ_BATCH 256
/* With committed events held back by a running transaction, look again
 * this soon (the transaction may end without anyone notifying). */
#define PENDING_RETRY_MS 20
#define IDLE_WAIT_MS 1000

struct sl_events {
    sl_db *db;
    const sl_event_topic *topics;
    sl_outbox_notifier *notifier;
};

sl_outbox_notifier *sl_events_notifier(sl_events *ev)
{
    return ev->notifier;
}

sl_status sl_events_create(sl_db *db, const sl_event_topic *topics, sl_events **out, sl_err *err)
{
    *out = NULL;
    sl_events *ev = sl_calloc(1, sizeof *ev);
    if (ev == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    ev->db = db;
    ev->topics = topics;
    sl_status st = sl_outbox_notifier_start(db, NULL, &ev->notifier, err);
    if (st != SL_OK) {
        free(ev);
        return st;
    }
    *out = ev;
    return SL_OK;
}

void sl_events_destroy(sl_events *ev)
{
    if (ev == NULL)
        return;
    sl_outbox_notifier_stop(ev->notifier);
    free(ev);
}

static const sl_event_topic *find_topic(const sl_events *ev, const char *name)
{
    for (const sl_event_topic *t = ev->topics; t->name != NULL; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

/* Checks one event against the declared topics and packs its payload
 * into arena memory. */
static sl_status pack_event(sl_events *ev, const sl_event_pub *p, sl_arena *arena,
                            sl_outbox_new *out, sl_err *err)
{
    const sl_event_topic *t = find_topic(ev, p->topic);
    if (t == NULL || p->payload->descriptor != t->payload)
        return sl_err_set(err, SL_INTERNAL,
                          "event topic \"%s\" is undeclared or has the wrong payload type",
                          p->topic);
    size_t len = protobuf_c_message_get_packed_size(p->payload);
    uint8_t *buf = sl_arena_alloc(arena, len + 1);
    if (buf == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    protobuf_c_message_pack(p->payload, buf);
    *out = (sl_outbox_new){p->topic, p->key, buf, len};
    return SL_OK;
}

sl_status sl_events_publish_many(sl_events *ev, sl_db_conn *conn, const sl_event_pub *evs, size_t n,
                                 sl_arena *arena, sl_err *err)
{
    if (n == 0)
        return SL_OK;
    sl_outbox_new *out = sl_arena_alloc(arena, n * sizeof *out);
    if (out == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++) {
        sl_status st = pack_event(ev, &evs[i], arena, &out[i], err);
        if (st != SL_OK)
            return st;
    }
    return sl_outbox_append_many(conn, ev->notifier, n, out, err);
}

sl_status sl_events_publish(sl_events *ev, sl_db_conn *conn, const char *topic, const char *key,
                            const ProtobufCMessage *payload, sl_err *err)
{
    /* One event: its packed payload lives only as long as this call (one
     * small block, grown only for a large payload). */
    sl_arena *arena = sl_arena_create(1024);
    if (arena == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_event_pub p = {topic, key, payload};
    sl_status st = sl_events_publish_many(ev, conn, &p, 1, arena, err);
    sl_arena_destroy(arena);
    return st;
}

/* One read: sequence what is final, then fetch after *cursor.  Uses a
 * pooled connection only for the duration of the read, so thousands of
 * idle streams hold no connection. */
static sl_status read_batch(sl_events *ev, int64_t cursor, const char *const *topics,
                            size_t ntopics, sl_arena *arena, sl_outbox_event **out, size_t *n,
                            bool *pending, sl_err *err)
{
    sl_db_conn *conn;
    sl_status st = sl_db_acquire(ev->db, -1, &conn, err);
    if (st != SL_OK)
        return st;
    st = sl_outbox_sequence(conn, NULL, pending, err);
    if (st == SL_OK)
        st = sl_outbox_read(conn, cursor, topics, ntopics, READ_BATCH, arena, out, n, err);
    sl_db_release(ev->db, conn);
    return st;
}

/* ---- metrics ----
 *
 * shelfline_events_newest_id{topic}: the newest event id of each topic this
 * process has read from its outbox (serving a stream).  Every replica reads
 * the same log, so max by (topic) over the replicas is the service's.
 * shelfline_events_stream_subscribers: WatchEvents streams open now. */

static struct {
    pthread_once_t once;
    sl_metric *newest;
    sl_metric_child *subscribers;
} evm = {.once = PTHREAD_ONCE_INIT};

static void events_metrics_init(void)
{
    static const char *const topic[] = {"topic", NULL};
    evm.newest = sl_metric_gauge("shelfline_events_newest_id",
                                 "The newest event id of each topic read from the outbox.", topic);
    evm.subscribers = sl_metric_with(
        sl_metric_gauge("shelfline_events_stream_subscribers", "WatchEvents streams open.", NULL),
        NULL);
}

static void note_newest(const sl_outbox_event *e)
{
    sl_metric_child *c = sl_metric_with(evm.newest, (const char *[]){e->topic});
    if (sl_metric_value(c) < (double)e->id)
        sl_metric_set(c, (double)e->id);
}

static sl_status check_cursor(sl_events *ev, int64_t after_id, int64_t *newest, sl_err *err)
{
    sl_db_conn *conn;
    sl_status st = sl_db_acquire(ev->db, -1, &conn, err);
    if (st != SL_OK)
        return st;
    int64_t first, last;
    st = sl_outbox_bounds(conn, &first, &last, err);
    sl_db_release(ev->db, conn);
    *newest = last;
    if (st == SL_OK && after_id > last)
        st = sl_err_set(err, SL_OUT_OF_RANGE,
                        "after_id %lld is beyond the newest event %lld (a cursor from another "
                        "database?)",
                        (long long)after_id, (long long)last);
    return st;
}

sl_status sl_events_add_table(sl_events *ev, const sl_outbox_table *t, sl_err *err)
{
    return sl_outbox_notifier_add_table(ev->notifier, t, err);
}

sl_status sl_events_written(sl_events *ev, sl_db_conn *conn, sl_err *err)
{
    return sl_outbox_written(conn, ev->notifier, err);
}

sl_status sl_events_sequence_table(sl_events *ev, const sl_outbox_table *t, bool *pending,
                                   sl_err *err)
{
    sl_db_conn *conn;
    sl_status st = sl_db_acquire(ev->db, -1, &conn, err);
    if (st != SL_OK)
        return st;
    st = sl_outbox_sequence_table(conn, t, NULL, pending, err);
    sl_db_release(ev->db, conn);
    return st;
}

/* A stream's life:
 *  1. open a watch on the notifier -- before the first read, so that a row
 *     numbered during it leaves the watch signalled;
 *  2. reset the watch, then read and send one page after the cursor;
 *  3. a full page: read on at once; else sleep until the watch fires, the
 *     client goes, or the timeout (short while rows are pending, since the
 *     transaction holding them back may end without notifying anyone);
 *  4. back to 2 until a send or a read fails or the call is done. */
sl_status sl_events_follow(sl_events *ev, sl_call *call, int64_t after_id, const sl_events_feed *f,
                           sl_err *err)
{
    int64_t cursor = after_id;
    sl_outbox_watch *watch;
    sl_status st = sl_outbox_watch_open(ev->notifier, &watch, err);
    if (st != SL_OK)
        return st;
    sl_arena *arena = sl_arena_create(64 * 1024);
    if (arena == NULL) {
        sl_outbox_watch_close(watch);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (;;) {
        sl_outbox_watch_reset(watch);
        bool more = false, pending = false;
        st = f->page(call, f->ctx, arena, &cursor, &more, &pending, err);
        sl_arena_reset(arena);
        if (st != SL_OK)
            break;
        if (more && !sl_call_done(call))
            continue;
        int w = sl_call_wait_fd(call, sl_outbox_watch_fd(watch),
                                pending ? PENDING_RETRY_MS : f->idle_ms);
        if (w < 0) {
            st = sl_call_done_status(call, err);
            if (st == SL_OK) /* the wait failed without the call being done */
                st = sl_err_set(err, SL_INTERNAL, "could not wait for new rows");
            if (f->name != NULL)
                sl_err_wrap(err, "%s stream ended after id %lld; resume from there", f->name,
                            (long long)cursor);
            break;
        }
    }
    sl_arena_destroy(arena);
    sl_outbox_watch_close(watch);
    return st;
}

/* WatchEvents' request, validated. */
typedef struct watch_req {
    sl_events *ev;
    const char *const *topics;
    size_t ntopics;
} watch_req;

/* One page of WatchEvents: sequence, read, send. */
static sl_status events_page(sl_call *call, void *ctx, sl_arena *arena, int64_t *cursor, bool *more,
                             bool *pending, sl_err *err)
{
    watch_req *w = ctx;
    sl_outbox_event *evs;
    size_t n = 0;
    sl_status st = read_batch(w->ev, *cursor, w->topics, w->ntopics, arena, &evs, &n, pending, err);
    for (size_t i = 0; i < n && st == SL_OK; i++) {
        Shelfline__V1__Event e = SHELFLINE__V1__EVENT__INIT;
        const sl_event_topic *t = find_topic(w->ev, evs[i].topic);
        e.id = evs[i].id;
        e.topic = (char *)evs[i].topic;
        e.key = (char *)evs[i].key;
        e.payload_type = t != NULL ? (char *)t->payload->name : (char *)"";
        e.payload.data = (uint8_t *)evs[i].payload;
        e.payload.len = evs[i].payload_len;
        e.created_at_ms = evs[i].created_at_ms;
        e.traceparent = (char *)evs[i].traceparent;
        note_newest(&evs[i]);
        st = sl_call_send(call, &e.base, err);
        if (st == SL_OK)
            *cursor = evs[i].id;
    }
    *more = n == READ_BATCH;
    return st;
}

sl_status sl_events_watch(sl_events *ev, sl_call *call, const ProtobufCMessage *req_msg,
                          sl_err *err)
{
    const Shelfline__V1__WatchEventsRequest *req =
        (const Shelfline__V1__WatchEventsRequest *)req_msg;
    if (req->after_id < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "after_id must not be negative (got %lld)",
                          (long long)req->after_id);
    if (req->n_topics > MAX_TOPICS)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "topics: at most %d topics (got %zu)",
                          MAX_TOPICS, req->n_topics);
    for (size_t i = 0; i < req->n_topics; i++)
        if (find_topic(ev, req->topics[i]) == NULL)
            return sl_err_set(err, SL_INVALID_ARGUMENT, "topics[%zu]: unknown topic \"%s\"", i,
                              req->topics[i]);
    int64_t newest = 0;
    sl_status st = check_cursor(ev, req->after_id, &newest, err);
    if (st != SL_OK)
        return st;
    /* The log's newest id when the stream began, so a consumer can tell
     * how far behind it starts (shelfline_consumer_lag_events). */
    char hv[24];
    int hn = snprintf(hv, sizeof hv, "%" PRId64, newest);
    st = sl_call_add_initial_metadata(call, SL_EVENTS_NEWEST_HEADER, hv, (size_t)hn, err);
    if (st != SL_OK)
        return st;
    pthread_once(&evm.once, events_metrics_init);
    sl_metric_add(evm.subscribers, 1);
    watch_req w = {ev, (const char *const *)req->topics, req->n_topics};
    sl_events_feed f = {events_page, &w, IDLE_WAIT_MS, "event"};
    st = sl_events_follow(ev, call, req->after_id, &f, err);
    sl_metric_add(evm.subscribers, -1);
    return st;
}
