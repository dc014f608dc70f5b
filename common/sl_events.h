/*
 * sl_events: a service's event feed over gRPC -- publishing protobuf events
 * into the outbox, and serving WatchEvents(after_id, topics) from it.
 *
 * A service declares its topics (name + payload message type) once; the
 * table validates requests and fills Event.payload_type.  Streams replay
 * from the cursor, then follow live events woken by the process's one
 * LISTEN connection (sl_outbox notifier), never by busy polling.
 */
#ifndef SL_EVENTS_H
#define SL_EVENTS_H

#include <protobuf-c/protobuf-c.h>

#include "sl_arena.h"
#include "sl_db.h"
#include "sl_outbox.h"
#include "sl_server.h"
#include "sl_status.h"

typedef struct sl_event_topic {
    const char *name;                          /* "STOCK_CHANGED" */
    const ProtobufCMessageDescriptor *payload; /* its payload message */
} sl_event_topic;

typedef struct sl_events sl_events;

/* Starts the feed of db's schema; topics is a table ending with a NULL
 * name, which must outlive the feed.  The caller owns *out
 * (sl_events_destroy). */
sl_status sl_events_create(sl_db *db, const sl_event_topic *topics, sl_events **out, sl_err *err);

/* Call after the server has drained (no stream may still be running). */
void sl_events_destroy(sl_events *ev);

/* Appends one event in the caller's transaction: payload must be of the
 * topic's declared type (INTERNAL otherwise: a programming error). */
sl_status sl_events_publish(sl_events *ev, sl_db_conn *conn, const char *topic, const char *key,
                            const ProtobufCMessage *payload, sl_err *err);

/* One event for sl_events_publish_many. */
typedef struct sl_event_pub {
    const char *topic;
    const char *key;
    const ProtobufCMessage *payload;
} sl_event_pub;

/* sl_events_publish of n events, in order, in as few round trips as the
 * outbox allows (sl_outbox_append_many); packed payloads go to arena. */
sl_status sl_events_publish_many(sl_events *ev, sl_db_conn *conn, const sl_event_pub *evs, size_t n,
                                 sl_arena *arena, sl_err *err);

/* The feed's notifier, for streams over a service's own tables that wake
 * like event streams (sl_outbox_watch_open, writers call sl_outbox_wake). */
sl_outbox_notifier *sl_events_notifier(sl_events *ev);

/* WatchEvents' response header: the log's newest event id when the
 * stream began (decimal). */
#define SL_EVENTS_NEWEST_HEADER "shelfline-newest-id"

/* ---- feeds of a service's own tables (sl_outbox_table) ---- */

/* From now on the feed's sequencer numbers t's rows too (t's assign
 * statement registered first; t must outlive ev).  As
 * sl_outbox_notifier_add_table. */
sl_status sl_events_add_table(sl_events *ev, const sl_outbox_table *t, sl_err *err);

/* Inside the transaction that wrote rows of a table added to ev: numbers
 * them soon after the commit and wakes every process's streams
 * (sl_outbox_written with ev's notifier). */
sl_status sl_events_written(sl_events *ev, sl_db_conn *conn, sl_err *err);

/* Runs t's sequencer now on a pooled connection (a stream about to read,
 * so as not to wait for the notifier's next run); *pending as in
 * sl_outbox_sequence.  Errors as sl_db_acquire and sl_outbox_sequence. */
sl_status sl_events_sequence_table(sl_events *ev, const sl_outbox_table *t, bool *pending,
                                   sl_err *err);

/* One page of a followed feed: sends (sl_call_send) the rows after
 * *cursor in id order, moving *cursor to each one sent; *more when it read
 * a full page (there may be more right now); *pending when committed rows
 * may still be waiting for their ids.  arena is reset after each page. */
typedef sl_status (*sl_events_page_fn)(sl_call *call, void *ctx, sl_arena *arena, int64_t *cursor,
                                       bool *more, bool *pending, sl_err *err);

typedef struct sl_events_feed {
    sl_events_page_fn page;
    void *ctx;
    int idle_ms; /* re-read this often without a wake-up (a guard only) */
    /* When set ("event"), the status of a stream ended by the client or a
     * drain says "<name> stream ended after id N; resume from there". */
    const char *name;
} sl_events_feed;

/* The stream loop of every feed (WatchEvents is one): pages from after_id
 * until the client goes away (CANCELLED) or the server drains
 * (UNAVAILABLE), sleeping between pages until the notifier says new rows
 * may be readable, or 20 ms while rows are pending, or f->idle_ms.
 * Errors as page. */
sl_status sl_events_follow(sl_events *ev, sl_call *call, int64_t after_id, const sl_events_feed *f,
                           sl_err *err);

/* The body of a WatchEvents handler: req is a shelfline.v1.WatchEventsRequest.
 * Validates it (INVALID_ARGUMENT naming after_id or topics; OUT_OF_RANGE
 * for a cursor beyond the newest event), streams, and returns when the
 * client goes away (CANCELLED) or the server drains (UNAVAILABLE, with the
 * last id sent in the message so the client can resume). */
sl_status sl_events_watch(sl_events *ev, sl_call *call, const ProtobufCMessage *req, sl_err *err);

#endif
