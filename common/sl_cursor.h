/*
 * sl_cursor: durable cursors of a consumer of another service's event
 * stream, kept in the consumer's own schema (table consumer_cursor, from
 * common/migrations).
 *
 * Exactly-once effects over at-least-once delivery: the consumer applies an
 * event's effects and moves its cursor in the same transaction, so after a
 * crash it resumes from the last committed event and never half-applies
 * one.  The cursor only moves forward: sl_cursor_set reports whether it
 * advanced, and when called first in the transaction its row lock
 * serializes two consumers that briefly both believe they hold the
 * subscription (the old holder's lock connection died but its process has
 * not noticed yet); the loser sees advanced == false and rolls back.
 *
 * One active consumer per subscription among replicas: each replica tries
 * sl_db_try_lock_session(dedicated_conn, subscription) and only the holder
 * consumes; the others retry every few seconds and take over when the
 * holder's connection dies.  The holder checks its lock connection with
 * sl_db_conn_check between batches and stops if it broke.
 */
#ifndef SL_CURSOR_H
#define SL_CURSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_db.h"
#include "sl_status.h"

/* The last event id handled for subscription, 0 when it never ran.
 * Errors: INVALID_ARGUMENT for an empty name, else as sl_db_exec. */
sl_status sl_cursor_get(sl_db_conn *conn, const char *subscription, int64_t *last_id, sl_err *err);

/* Moves the cursor to last_id if that is beyond where it is (creating it
 * on first use).  *advanced (may be NULL) says whether it moved.  Call it in
 * the transaction of the effects.  Errors: INVALID_ARGUMENT for an empty
 * name or a negative id, else as sl_db_exec. */
sl_status sl_cursor_set(sl_db_conn *conn, const char *subscription, int64_t last_id, bool *advanced,
                        sl_err *err);

#endif
