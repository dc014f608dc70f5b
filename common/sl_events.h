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

/* The body of a WatchEvents handler: req is a shelfline.v1.WatchEventsRequest.
 * Validates it (INVALID_ARGUMENT naming after_id or topics; OUT_OF_RANGE
 * for a cursor beyond the newest event), streams, and returns when the
 * client goes away (CANCELLED) or the server drains (UNAVAILABLE, with the
 * last id sent in the message so the client can resume). */
sl_status sl_events_watch(sl_events *ev, sl_call *call, const ProtobufCMessage *req, sl_err *err);

#endif
