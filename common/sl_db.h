/*
 * sl_db: PostgreSQL access for the whole suite -- a pool of libpq
 * connections, named prepared statements, a transaction helper with bounded
 * retry, and the one SQLSTATE -> sl_status mapping.
 *
 * Model:
 *  - An sl_db is a fixed-size pool.  Connections are made lazily, on the
 *    first acquire that needs one, so a service starts even while the
 *    database is still coming up; a connection found broken (the server
 *    restarted, the network dropped) is replaced on the next acquire.
 *  - Every connection gets search_path = the service's schema, so SQL in
 *    common/ and in services names its tables unqualified.
 *  - SQL lives in statement tables (sl_db_stmt) that modules register once.
 *    A statement is prepared on a connection the first time it is used there
 *    and stays prepared for the connection's life.  No SQL is ever built
 *    from strings; values are always $n parameters.
 *  - Errors: sl_db_exec checks the result status exactly and turns SQLSTATEs
 *    into statuses in one place, sl_db_status_from_sqlstate.  A connection
 *    failure is UNAVAILABLE.
 *  - Every connection gets TCP keepalives and tcp_user_timeout (unless the
 *    connection string sets them), so a silently dropped path to the
 *    server fails within seconds.
 *  - Round trips: a transaction's BEGIN (and statement_timeout) travel with
 *    its first statement, and sl_db_exec_pipeline sends several statements
 *    at once (libpq's pipeline mode); the server runs them exactly as if
 *    sent one by one.
 *  - sl_db_tx runs a function inside BEGIN/COMMIT and retries it on
 *    serialization failures and deadlocks (40001, 40P01) and on a connection
 *    lost before COMMIT was sent, a bounded number of times with jittered
 *    backoff; after that the status is ABORTED.
 *
 * Thread safety: an sl_db may be used from any number of threads.  An
 * sl_db_conn belongs to the thread that acquired it until it is released.
 *
 * Pooled connections are shared: code must not leave session state behind
 * (SET without LOCAL, LISTEN, session advisory locks, temporary tables).
 * For LISTEN and session locks, use sl_db_connect_dedicated.
 */
#ifndef SL_DB_H
#define SL_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "sl_status.h"

typedef struct sl_db sl_db;
typedef struct sl_db_conn sl_db_conn;

typedef struct sl_db_options {
    /* libpq connection string, URL or key=value form.  Required. */
    const char *conninfo;
    /* The service's schema, set as search_path on every connection.
     * Lower-case letters, digits and '_', starting with a letter or '_', at
     * most SL_DB_SCHEMA_MAX bytes, not starting with "pg_".  NULL leaves the
     * server's search_path alone (then migrations and the outbox are not
     * available). */
    const char *schema;
    int pool_size;                /* connections; 0: 4; at most 256 */
    int acquire_timeout_ms;       /* default wait in sl_db_acquire, connecting included; 0: 5000 */
    const char *application_name; /* NULL: the conninfo's, else "shelfline" */
    /* plan_cache_mode = force_generic_plan on every connection: prepared
     * statements are planned once per connection instead of on every
     * execution.  For statements keyed by array parameters (= ANY($1),
     * unnest), whose custom plans cost more to make than to run and come
     * out the same. */
    bool generic_plans;
} sl_db_options;

/* Schema names are kept short enough that derived names (the outbox
 * notification channel "<schema>_outbox") stay within PostgreSQL's 63-byte
 * identifier limit. */
#define SL_DB_SCHEMA_MAX 48

/* One SQL statement of a module's table.  Tables end with a row whose name
 * is NULL.  Names are global within an sl_db: use the module's prefix
 * (inv_, sd_, ...; sl__ is the library's own). */
typedef struct sl_db_stmt {
    const char *name;
    const char *sql; /* parameters as $1..$nparams */
    int nparams;
} sl_db_stmt;

typedef enum sl_db_isolation {
    SL_DB_READ_COMMITTED = 0,
    SL_DB_REPEATABLE_READ,
    SL_DB_SERIALIZABLE,
} sl_db_isolation;

typedef struct sl_db_tx_options {
    sl_db_isolation isolation;
    bool read_only;
    /* Retries after the first attempt; 0: 8; negative: never retry. */
    int max_retries;
    /* Absolute deadline in milliseconds of CLOCK_REALTIME, as given by
     * sl_call_deadline_ms; 0 or INT64_MAX: none.  Waiting for a connection
     * and backoff never pass it, and each statement runs under
     * statement_timeout = the time left when the transaction began. */
    int64_t deadline_ms;
} sl_db_tx_options;

/* The body of a transaction.  It may run several times (once per attempt),
 * so it must not have effects outside the database, or must undo them when
 * called again.  It returns OK to commit; any other status rolls back and is
 * returned by sl_db_tx (unless it was caused by a retryable failure). */
typedef sl_status (*sl_db_tx_fn)(sl_db_conn *conn, void *ctx, sl_err *err);

/* The status for a SQLSTATE: 23505 ALREADY_EXISTS; 23514, 23503
 * FAILED_PRECONDITION; 40001, 40P01 ABORTED (sl_db_tx retries these first);
 * class 08 and 57P01..57P03 (the server is shutting down or starting up)
 * UNAVAILABLE; 57014 DEADLINE_EXCEEDED; class 22 INVALID_ARGUMENT; anything
 * else, NULL or malformed INTERNAL. */
sl_status sl_db_status_from_sqlstate(const char *sqlstate);

/* Validates opts (INVALID_ARGUMENT naming the first bad one, e.g. a
 * conninfo libpq cannot parse) and creates the pool without connecting.
 * Registers the library's own statements.  The caller owns *out
 * (sl_db_close). */
sl_status sl_db_open(const sl_db_options *opts, sl_db **out, sl_err *err);

/* Closes every connection and frees the pool.  Every pooled connection must
 * have been released and every dedicated one closed.  NULL is a no-op. */
void sl_db_close(sl_db *db);

/* Registers a NULL-name-terminated statement table.  The table is used in
 * place and must outlive db (a static const array).  Registering the same
 * table again is a no-op; ALREADY_EXISTS when a name is taken by a different
 * statement; INVALID_ARGUMENT for a row without SQL or with nparams outside
 * 0..65535.  Safe to call at any time, from any thread. */
sl_status sl_db_register(sl_db *db, const sl_db_stmt *table, sl_err *err);

/* Takes a connection from the pool, waiting up to timeout_ms (negative:
 * the pool's acquire_timeout_ms) for a free one and connecting it if needed.
 * A connection the server closed meanwhile is replaced.  Fails with
 * RESOURCE_EXHAUSTED when every connection stayed in use, UNAVAILABLE when
 * the server cannot be reached.  Release with sl_db_release. */
sl_status sl_db_acquire(sl_db *db, int timeout_ms, sl_db_conn **out, sl_err *err);

/* As sl_db_acquire for work done on behalf of a call with a deadline
 * (deadline_ms as sl_call_deadline_ms; 0 or INT64_MAX: none, then as
 * sl_db_acquire with the pool's timeout): waits for a connection at most
 * until the deadline (DEADLINE_EXCEEDED when it passes first), and every
 * statement run on the connection outside sl_db_tx gets statement_timeout
 * = the time left, sent in the same round trip; one cancelled for it fails
 * with DEADLINE_EXCEEDED (57014) and leaves the connection usable.  The
 * deadline ends with sl_db_release. */
sl_status sl_db_acquire_by(sl_db *db, int64_t deadline_ms, sl_db_conn **out, sl_err *err);

/* Returns a pooled connection.  A transaction left open is rolled back; a
 * broken connection is closed (the slot reconnects on a later acquire).
 * NULL is a no-op. */
void sl_db_release(sl_db *db, sl_db_conn *conn);

/* Opens a connection outside the pool with the pool's settings (conninfo,
 * search_path, application name, registered statements), for LISTEN and for
 * holding session advisory locks.  UNAVAILABLE when the server cannot be
 * reached within timeout_ms (negative: the pool's acquire_timeout_ms).  The
 * caller owns *out (sl_db_close_dedicated). */
sl_status sl_db_connect_dedicated(sl_db *db, int timeout_ms, sl_db_conn **out, sl_err *err);

/* Closes a dedicated connection (which releases its session locks and
 * LISTENs).  NULL is a no-op. */
void sl_db_close_dedicated(sl_db_conn *conn);

/* Executes the registered statement stmt_name with nparams parameters.
 * values[i] NULL is SQL NULL; lengths and formats may be NULL when every
 * parameter is text (format 0); a binary parameter (format 1) needs its
 * length.  Results are in text format.  The result status must be exactly
 * what the statement produces (rows or none); anything else fails.
 * On success *res (if res is not NULL) receives the result, which the caller
 * owns (PQclear); on failure *res is NULL.  Errors: the SQLSTATE's status
 * (sl_db_status_from_sqlstate), UNAVAILABLE when the connection broke,
 * INTERNAL for an unknown statement or a wrong number of parameters. */
sl_status sl_db_exec(sl_db_conn *conn, const char *stmt_name, int nparams,
                     const char *const *values, const int *lengths, const int *formats,
                     PGresult **res, sl_err *err);

/* As sl_db_exec, with the result format chosen: 0 text, 1 binary (every
 * column in binary, e.g. bytea as raw bytes). */
sl_status sl_db_exec_fmt(sl_db_conn *conn, const char *stmt_name, int nparams,
                         const char *const *values, const int *lengths, const int *formats,
                         int result_format, PGresult **res, sl_err *err);

/* At most this many statements in one sl_db_exec_pipeline. */
#define SL_DB_PIPELINE_MAX 64

/* One statement of a pipeline: parameters as for sl_db_exec (values[i]
 * NULL is SQL NULL; lengths and formats NULL when every parameter is
 * text), results in text format. */
typedef struct sl_db_query {
    const char *stmt;
    int nparams;
    const char *const *values;
    PGresult *res; /* out: owned by the caller (PQclear) */
    const int *lengths, *formats;
} sl_db_query;

/* Runs q[0..n-1] in order in one round trip.  Each runs as it would alone
 * (in READ COMMITTED with its own snapshot, so a statement after a lock
 * sees what committed before the lock was granted); after a failure the
 * server skips the rest.  Outside a transaction the pipeline is one
 * implicit transaction: a failure undoes the statements before it too.  On success every q[i].res
 * holds its result; on failure none does, and the status is that of the first statement that
 * failed, as sl_db_exec would give it.  INTERNAL for n outside
 * 1..SL_DB_PIPELINE_MAX. */
sl_status sl_db_exec_pipeline(sl_db_conn *conn, sl_db_query *q, size_t n, sl_err *err);

/* Runs fn(conn, ctx, err) in a transaction on a pooled connection: BEGIN
 * (with opts' isolation and access mode), fn, COMMIT.  opts may be NULL
 * (READ COMMITTED, read-write, 8 retries, no deadline).
 * Retried, with jittered exponential backoff, while retries remain and the
 * deadline allows: a serialization failure or deadlock (40001, 40P01) in fn
 * or at COMMIT; a connection that broke (or could not be made) before COMMIT
 * was sent.  A connection lost after COMMIT was sent is not retried -- the
 * transaction may have committed -- and gives UNAVAILABLE: callers make
 * mutations idempotent with keys so that their own retry is safe.
 * Returns OK after COMMIT; fn's status when fn failed otherwise; ABORTED
 * when serialization failures outlasted the retries; UNAVAILABLE when the
 * connection failures did; DEADLINE_EXCEEDED when the deadline passed.
 * If fn returns OK after swallowing a statement error, COMMIT rolls back and
 * the result is INTERNAL. */
sl_status sl_db_tx(sl_db *db, const sl_db_tx_options *opts, sl_db_tx_fn fn, void *ctx, sl_err *err);

/* At most this many sl_db_after_commit hooks per transaction. */
#define SL_DB_AFTER_COMMIT_MAX 8

/* Inside sl_db_tx's fn: runs fn(ctx) once after this attempt has committed
 * (on the committing thread, before sl_db_tx returns) -- not when it rolls
 * back, nor for an attempt that is retried (the retry's fn registers
 * again), nor when the connection was lost during COMMIT.  Registering the
 * same (fn, ctx) again is a no-op.  Returns false, registering nothing,
 * outside sl_db_tx or when SL_DB_AFTER_COMMIT_MAX hooks are registered
 * already: the caller then needs another way. */
bool sl_db_after_commit(sl_db_conn *conn, void (*fn)(void *), void *ctx);

/* Acquires a connection and runs SELECT 1 (a readiness probe), all within
 * timeout_ms (negative: the pool's acquire timeout) even when the server
 * never answers: then the connection is closed and the status is
 * UNAVAILABLE.  OK, or UNAVAILABLE / RESOURCE_EXHAUSTED as sl_db_acquire. */
sl_status sl_db_ping(sl_db *db, int timeout_ms, sl_err *err);

/* Runs SELECT 1 on conn: UNAVAILABLE if it broke.  A consumer holding a
 * session lock calls this on the lock's connection to learn it still holds
 * the lock. */
sl_status sl_db_conn_check(sl_db_conn *conn, sl_err *err);

/* Session advisory lock named by (schema, name), on conn -- normally a
 * dedicated connection, since the lock lives as long as the session.  Never
 * waits: *acquired says whether this session now holds it.  The lock dies
 * with the connection, which is what lets another replica take over a
 * subscription when the holder crashes.  Locks of different schemas never
 * collide (the key hashes "schema/name"). */
sl_status sl_db_try_lock_session(sl_db_conn *conn, const char *name, bool *acquired, sl_err *err);

/* Releases one hold of the lock; FAILED_PRECONDITION if this session did not
 * hold it. */
sl_status sl_db_unlock_session(sl_db_conn *conn, const char *name, sl_err *err);

/* The libpq connection (for PQsocket, PQconsumeInput, PQnotifies).  Owned by
 * conn: never PQfinish it.  Inside sl_db_tx, the transaction's BEGIN goes
 * out with its first sl_db_exec: before that the session is still idle. */
PGconn *sl_db_pgconn(sl_db_conn *conn);

/* The pool a connection came from. */
sl_db *sl_db_conn_db(const sl_db_conn *conn);

/* SQLSTATE of the last statement error on conn ("" if the last statement
 * succeeded or failed without one), and the constraint it names ("" if
 * none) -- e.g. to tell an idempotency-key conflict from another unique
 * violation.  Valid until the next statement on conn. */
const char *sl_db_conn_sqlstate(const sl_db_conn *conn);
const char *sl_db_conn_constraint(const sl_db_conn *conn);

/* The options as validated; owned by db. */
const char *sl_db_conninfo(const sl_db *db);
const char *sl_db_schema(const sl_db *db); /* NULL when none was given */
int sl_db_pool_size(const sl_db *db);

/* Milliseconds of CLOCK_REALTIME (the clock of deadline_ms). */
int64_t sl_db_now_ms(void);

#endif
