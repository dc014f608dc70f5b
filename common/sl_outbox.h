/*
 * sl_outbox: a service's events, written in the same transaction as the
 * change they describe, and served in an order a cursor can follow without
 * ever skipping one.
 *
 * Why not "SELECT ... WHERE id > cursor" over a bigserial: sequence values
 * are handed out before commit.  Transaction A takes id 10, B takes id 11
 * and commits first; a reader sees 11 and moves its cursor to 11; then A
 * commits and 10 lands below the cursor -- lost for good.  Any scheme that
 * numbers events before they commit has this hole.
 *
 * The scheme here (table in common/migrations/0001_outbox.sql):
 *  - Writers insert rows with pos NULL; each row records the writer's
 *    transaction id (xid, a 64-bit xid8 that never wraps).  Nothing is
 *    numbered yet.  The insert also NOTIFYs the schema's channel, delivered
 *    only if the transaction commits.
 *  - The sequencer numbers rows after they commit, in one statement with
 *    one snapshot: pos = max(pos) + row_number() over (order by xid, id),
 *    for the rows with pos NULL and xid < xmin of that snapshot.  Every
 *    transaction that was running when the snapshot was taken has an xid
 *    >= xmin, and every transaction that starts later gets a larger xid
 *    still; so the set of rows with xid < xmin is final -- each such row is
 *    committed (visible) or rolled back (invisible), and no new one can
 *    appear.  Numbering exactly that set can never be "undercut" by a late
 *    commit: a late writer has xid >= xmin and is numbered by a later run,
 *    after everything numbered now.  Sequencer runs are serialized by a
 *    transaction advisory lock taken in a statement before the numbering
 *    one, so each run's snapshot sees the previous run's numbers.
 *  - The public event id is pos: dense (1, 2, 3, ...), increasing, assigned
 *    once.  A reader's cursor is the last pos it handled, and
 *    "pos > cursor ORDER BY pos" returns every event exactly once over any
 *    number of reads, restarts and replicas.
 *  - Cost: an event becomes readable only when every transaction that was
 *    writing when it committed has ended.  Snapshots are cluster-wide, so
 *    that means any transaction holding an xid in any database of the
 *    server, not only those writing events: a long one delays events, never
 *    loses them.  The sequencer reports "pending" so the caller retries
 *    after a short backoff, because a transaction holding xmin back may end
 *    without notifying anyone (a rollback, or one that wrote no event).
 *
 * Order within a key: positions follow (xid, id), and a transaction's xid
 * is assigned at its first write.  A transaction that writes, then waits
 * for a row lock held by a later-xid transaction, commits after it but is
 * numbered before it.  Writers that need per-key commit order take their
 * locks (SELECT ... FOR UPDATE, advisory locks) before their first write,
 * as the inventory service does.
 *
 * The notifier (one per process) keeps one LISTEN connection for all of a
 * process's streams, runs the sequencer when writers notify, and wakes
 * waiting streams through a version counter (condition variable) or a
 * pollable fd per stream.  A stream loop (e.g. WatchEvents) is:
 *
 *     sl_outbox_watch *w;  sl_outbox_watch_open(notifier, &w, err);
 *     for (;;) {
 *         sl_outbox_watch_reset(w);          // before reading: no lost wake-up
 *         acquire; sl_outbox_read(conn, cursor, topics, n, 100, arena, &ev, &k, err); release;
 *         send ev[0..k); cursor = ev[k-1].id; sl_arena_reset(arena);
 *         if (k == 100) continue;            // more to read now
 *         if (sl_call_wait_fd(call, sl_outbox_watch_fd(w), 1000) < 0) break;
 *     }
 *     sl_outbox_watch_close(w);
 */
#ifndef SL_OUTBOX_H
#define SL_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_arena.h"
#include "sl_db.h"
#include "sl_status.h"

/* One event as read.  Strings and payload live in the arena given to
 * sl_outbox_read. */
typedef struct sl_outbox_event {
    int64_t id; /* the position: 1, 2, 3, ... in commit-safe order */
    const char *topic;
    const char *key; /* "" when none */
    const uint8_t *payload;
    size_t payload_len;
    int64_t created_at_ms;   /* Unix time in ms, the writer's transaction time */
    const char *traceparent; /* the writer's span (sl_trace); "" when none */
} sl_outbox_event;

typedef struct sl_outbox_notifier sl_outbox_notifier;

/* Appends an event to the outbox of conn's schema.  Call it inside the
 * transaction that makes the change the event describes (sl_db_tx), so that
 * both commit or neither does.  key may be NULL; payload may be NULL when
 * len is 0.
 * Waking readers: with n, this process's sequencing notifier, inside
 * sl_db_tx, the commit kicks n (sl_db_after_commit), whose sequencer then
 * numbers the event and NOTIFYs every process.  Otherwise (n NULL, n not
 * sequencing, outside sl_db_tx) the transaction NOTIFYs the channel itself,
 * which PostgreSQL pays for by serializing the commits of all notifying
 * transactions.
 * Errors: INVALID_ARGUMENT for an empty topic or a payload over 1 GiB,
 * FAILED_PRECONDITION when the pool has no schema, else as sl_db_exec. */
sl_status sl_outbox_append(sl_db_conn *conn, sl_outbox_notifier *n, const char *topic,
                           const char *key, const void *payload, size_t len, sl_err *err);

/* One event for sl_outbox_append_many. */
typedef struct sl_outbox_new {
    const char *topic;
    const char *key; /* may be NULL */
    const void *payload;
    size_t len;
} sl_outbox_new;

/* sl_outbox_append of count events, in order, in as few round trips as
 * the pipeline allows (SL_DB_PIPELINE_MAX statements each); readers are
 * woken once for all of them.  Errors as sl_outbox_append (nothing is
 * appended when one event is invalid). */
sl_status sl_outbox_append_many(sl_db_conn *conn, sl_outbox_notifier *n, size_t count,
                                const sl_outbox_new *events, sl_err *err);

/* Wakes the watches (sl_outbox_watch) of every process on conn's schema
 * when the current transaction commits -- nothing if it rolls back.  For
 * streams that read something besides the outbox and numbered tables
 * (those wake through their sequencer: sl_outbox_written): their writers
 * call it, their readers wait on a watch like event streams do.  Errors as
 * sl_db_exec. */
sl_status sl_outbox_wake(sl_db_conn *conn, sl_err *err);

/* The sequencer: gives positions to committed events that are final (see
 * above), in its own short transaction on conn, which must not be in a
 * transaction (INTERNAL otherwise).  If another session is sequencing the
 * schema right now, does nothing.  *assigned (may be NULL) receives how many
 * events got positions; *pending (may be NULL) whether committed events
 * remain unnumbered (held back by a running transaction, or by the other
 * sequencer): the caller should run it again after a short backoff.  When
 * it assigns positions it NOTIFYs the channel so that other processes'
 * readers wake.  Errors as sl_db_exec. */
sl_status sl_outbox_sequence(sl_db_conn *conn, int *assigned, bool *pending, sl_err *err);

/* ---- tables of a service's own, numbered like the outbox ---- */

/*
 * A feed whose rows must stay in a table of their own (rows with mutable
 * state, ids clients already hold: service-desk's notifications) gets its
 * ids by the same scheme as the outbox instead of a writers' lock:
 *  - the table has a row id (bigserial), a position column (bigint UNIQUE,
 *    NULL until sequenced: the public id), and xid xid8 NOT NULL DEFAULT
 *    pg_current_xact_id(), with a partial index on (xid, row id) WHERE the
 *    position IS NULL;
 *  - its assign statement, registered by the service (sl_db_register), is
 *    the numbering statement of the scheme for that table: in ONE
 *    statement, the rows whose position is NULL and whose xid is below
 *    pg_snapshot_xmin(pg_current_snapshot()) get max(position) +
 *    row_number() OVER (ORDER BY xid, row id), a bounded number per run; it
 *    answers one row with the bigint columns "assigned" and "unsequenced"
 *    (rows still NULL in its snapshot, those numbered by it included) --
 *    the outbox's own statement, sl__outbox_seq_assign, is the model;
 *  - writers call sl_outbox_written in the writing transaction; readers
 *    follow "position > cursor ORDER BY position", which returns every row
 *    exactly once, in the order of (xid, row id).
 */
typedef struct sl_outbox_table {
    const char *name;   /* unique among the schema's tables: names the sequencer's lock */
    const char *assign; /* the registered name of its assign statement */
} sl_outbox_table;

/* sl_outbox_sequence for table t: the same transaction, lock discipline,
 * NOTIFY and results, with t's assign statement and a lock of its own (so
 * the outbox's and t's sequencers never wait for each other). */
sl_status sl_outbox_sequence_table(sl_db_conn *conn, const sl_outbox_table *t, int *assigned,
                                   bool *pending, sl_err *err);

/* Inside the transaction that wrote rows of a table that n sequences
 * (sl_outbox_notifier_add_table), or events: wakes n's sequencer when the
 * transaction commits, and through its NOTIFY the readers of every process
 * -- nothing if it rolls back.  Without a sequencing n, or outside sl_db_tx,
 * the transaction NOTIFYs the channel itself (see sl_outbox_append).
 * Errors as sl_db_exec; FAILED_PRECONDITION when the pool has no schema. */
sl_status sl_outbox_written(sl_db_conn *conn, sl_outbox_notifier *n, sl_err *err);

/* Reads up to limit (1..10000) numbered events with id > after_id, in id
 * order, restricted to the ntopics topics when ntopics > 0.  The array and
 * everything it points to are allocated from arena; *n receives the count
 * (< limit means the reader has caught up for now).  Errors:
 * INVALID_ARGUMENT for a bad limit or a negative after_id,
 * RESOURCE_EXHAUSTED when the arena is out of memory, else as
 * sl_db_exec. */
sl_status sl_outbox_read(sl_db_conn *conn, int64_t after_id, const char *const *topics,
                         size_t ntopics, int limit, sl_arena *arena, sl_outbox_event **events,
                         size_t *n, sl_err *err);

/* The lowest and highest numbered event ids still stored (both 0 when
 * there are none), e.g. to refuse a cursor beyond the head or below what
 * pruning kept. */
sl_status sl_outbox_bounds(sl_db_conn *conn, int64_t *first, int64_t *last, sl_err *err);

/* Deletes numbered events older than older_than_ms, always keeping the
 * newest (positions continue from max(pos)).  Only safe once every
 * consumer's cursor has passed them.  *deleted may be NULL. */
sl_status sl_outbox_prune(sl_db_conn *conn, int64_t older_than_ms, int64_t *deleted, sl_err *err);

/* ---- notifier ---- */

typedef struct sl_outbox_watch sl_outbox_watch;

typedef struct sl_outbox_notifier_options {
    /* Do not run the sequencer in the notifier thread (then readers call
     * sl_outbox_sequence themselves, and every writer's NOTIFY wakes them). */
    bool no_sequencer;
    /* Without notifications, run the sequencer and wake waiters this often,
     * as a guard against anything missed; 0: 5000. */
    int idle_poll_ms;
} sl_outbox_notifier_options;

/* Starts the notifier thread for db's schema.  It connects (and reconnects
 * after the server restarts, with backoff) by itself; each (re)connection
 * bumps the version, since notifications may have been missed meanwhile.
 * opts may be NULL.  The caller owns *out (sl_outbox_notifier_stop).
 * Errors: FAILED_PRECONDITION when db has no schema; RESOURCE_EXHAUSTED
 * when the thread or its pipe cannot be created. */
sl_status sl_outbox_notifier_start(sl_db *db, const sl_outbox_notifier_options *opts,
                                   sl_outbox_notifier **out, sl_err *err);

/* From now on n's sequencer also numbers t's rows, whenever it numbers
 * events (after a kick, a writer's NOTIFY, a reconnection, its idle poll,
 * and again while rows are pending).  Register t's assign statement first;
 * t must outlive n.  RESOURCE_EXHAUSTED beyond SL_OUTBOX_MAX_TABLES. */
#define SL_OUTBOX_MAX_TABLES 4
sl_status sl_outbox_notifier_add_table(sl_outbox_notifier *n, const sl_outbox_table *t,
                                       sl_err *err);

/* Stops the thread, closes its connection and frees the notifier.  Nothing
 * may use n any more: every watch closed, every sl_outbox_notifier_wait
 * returned (streams end first, then the notifier).  NULL is a no-op. */
void sl_outbox_notifier_stop(sl_outbox_notifier *n);

/* The version: grows whenever new events may be readable. */
uint64_t sl_outbox_notifier_version(sl_outbox_notifier *n);

/* Waits until the version differs from seen, the notifier is stopping, or
 * timeout_ms passes (negative: no timeout); returns the version then.  Read
 * the version before reading events, and wait with that value, so that an
 * event arriving in between is never slept through. */
uint64_t sl_outbox_notifier_wait(sl_outbox_notifier *n, uint64_t seen, int timeout_ms);

/* Whether the LISTEN connection is up (for health reporting). */
bool sl_outbox_notifier_connected(sl_outbox_notifier *n);

/* A pollable wake-up for one stream: its fd becomes readable whenever the
 * version grows, until sl_outbox_watch_reset.  The caller owns *out
 * (sl_outbox_watch_close). */
sl_status sl_outbox_watch_open(sl_outbox_notifier *n, sl_outbox_watch **out, sl_err *err);
int sl_outbox_watch_fd(const sl_outbox_watch *w);
void sl_outbox_watch_reset(sl_outbox_watch *w);
void sl_outbox_watch_close(sl_outbox_watch *w);

#endif
