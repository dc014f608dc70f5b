/*
 * sl_consumer: follows another service's event stream (WatchEvents) and
 * applies each event exactly once to this service's database.
 *
 * Delivery is at-least-once (a stream may replay after a reconnect); the
 * effect is exactly-once because each event is applied in one transaction
 * together with the durable cursor (sl_cursor), which refuses to move
 * backwards.  Among replicas only the holder of the subscription's session
 * advisory lock consumes; when it dies its connection -- and so its lock --
 * goes away and another replica takes over within lock_retry_ms.
 */
#ifndef SL_CONSUMER_H
#define SL_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shelfline/v1/common.pb-c.h"
#include "sl_client.h"
#include "sl_db.h"
#include "sl_status.h"

/* Applies one event inside the transaction that also advances the cursor.
 * Returning a non-OK status rolls both back; the consumer retries the event
 * after a backoff (so a poison event stalls the subscription, loudly, rather
 * than being skipped). */
typedef sl_status (*sl_consumer_fn)(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx,
                                    sl_err *err);

/* Optional: runs before an event's apply transaction, outside any
 * transaction, for work too large for one transaction (an event that
 * touches thousands of rows).  It may commit in as many transactions of
 * its own as it likes, so its results are seen at once, but the cursor
 * moves past the event only in the apply transaction after it: when the
 * process dies between two of its transactions, the event is delivered
 * again and prepared again.  So every one of its transactions must be
 * idempotent by itself (keyed on what the event changes, not on the
 * cursor), and fn must finish whatever prepare left.  Not called for an
 * event this consumer has already applied.  A non-OK status is handled as
 * fn's: the event is retried after a backoff. */
typedef sl_status (*sl_consumer_prepare_fn)(sl_db *db, const Shelfline__V1__Event *ev, void *ctx,
                                            sl_err *err);

typedef struct sl_consumer_options {
    const char *subscription; /* cursor and lock name, e.g. "inventory-events" */
    sl_db *db;                /* this service's database (cursor, effects) */
    sl_channel *channel;      /* the producing service */
    const char *method;       /* "/shelfline.v1.InventoryService/WatchEvents" */
    const char *const *topics;
    size_t n_topics;
    sl_consumer_fn fn;
    sl_consumer_prepare_fn prepare; /* NULL: none */
    void *ctx;
    int64_t lock_retry_ms;     /* 0: 2000 */
    const char *authorization; /* sent to the producer; NULL: none */
} sl_consumer_options;

typedef struct sl_consumer sl_consumer;

/* Starts the consumer thread.  opts' strings and arrays must outlive it.
 * The caller owns *out (sl_consumer_stop). */
sl_status sl_consumer_start(const sl_consumer_options *opts, sl_consumer **out, sl_err *err);

/* Stops the thread (within about a second) and frees the consumer.  NULL is
 * a no-op. */
void sl_consumer_stop(sl_consumer *c);

/* Whether this replica currently holds the subscription. */
bool sl_consumer_active(const sl_consumer *c);

/* Events applied by this consumer since it started (for tests/metrics). */
uint64_t sl_consumer_applied(const sl_consumer *c);

#endif
