/*
 * sl_outbox: appending, sequencing and reading events, and the per-process
 * notifier thread (the design is explained in sl_outbox.h).
 */
#include "sl_outbox.h"
#include "sl_db_int.h"
#include "sl_log.h"
#include "sl_trace.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sl_arena.h"

#define MAX_READ 10000
#define SEQUENCE_BATCH "10000" /* rows numbered per sequencer run */
#define MAX_PAYLOAD (1u << 30) /* bytea's limit */

/* NOTIFY payloads: a writer's commit ("w": something to sequence), a
 * sequencer's ("s": something to read) and sl_outbox_wake's ("k": something
 * else streams read changed). */
#define NOTIFY_WRITE "w"
#define NOTIFY_SEQUENCED "s"
#define NOTIFY_WAKE "k"

const sl_db_stmt sl__outbox_stmts[] = {
    {"sl__outbox_append",
     "INSERT INTO outbox (topic, key, payload, traceparent) VALUES ($1, $2, $3::bytea, $4)", 4},
    {"sl__outbox_seq_lock",
     "SELECT pg_catalog.pg_try_advisory_xact_lock(" SL__LOCK_CLASS_SEQUENCER
     ", pg_catalog.hashtext($1))",
     1},
    /* One statement, one snapshot: the xmin, the max(pos) and the rows all
     * come from the same snapshot (see sl_outbox.h for why the rows below
     * xmin are final).  "unsequenced" counts, in that snapshot, the rows
     * still without a position, including those numbered here. */
    {"sl__outbox_seq_assign",
     "WITH horizon AS (SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot()) "
     "AS xmin), "
     "base AS (SELECT coalesce(max(pos), 0) AS p FROM outbox), "
     "ready AS (SELECT o.id, row_number() OVER (ORDER BY o.xid, o.id) AS rn "
     "  FROM outbox o, horizon h WHERE o.pos IS NULL AND o.xid < h.xmin "
     "  ORDER BY o.xid, o.id LIMIT " SEQUENCE_BATCH "), "
     "numbered AS (UPDATE outbox o SET pos = base.p + ready.rn FROM ready, base "
     "  WHERE o.id = ready.id RETURNING 1) "
     "SELECT (SELECT count(*) FROM numbered) AS assigned, "
     "(SELECT count(*) FROM outbox WHERE pos IS NULL) AS unsequenced",
     0},
    {"sl__outbox_notify", "SELECT pg_catalog.pg_notify($1, '" NOTIFY_SEQUENCED "')", 1},
    {"sl__outbox_wake", "SELECT pg_catalog.pg_notify($1, '" NOTIFY_WAKE "')", 1},
    {"sl__outbox_notify_write", "SELECT pg_catalog.pg_notify($1, '" NOTIFY_WRITE "')", 1},
    {"sl__outbox_read",
     "SELECT pos, topic, key, payload, (extract(epoch FROM created_at) * 1000)::int8 "
     "AS created_ms, traceparent FROM outbox WHERE pos > $1::int8 ORDER BY pos LIMIT $2::int4",
     2},
    {"sl__outbox_read_topics",
     "SELECT pos, topic, key, payload, (extract(epoch FROM created_at) * 1000)::int8 "
     "AS created_ms, traceparent FROM outbox WHERE pos > $1::int8 AND topic = ANY ($3::text[]) "
     "ORDER BY pos LIMIT $2::int4",
     3},
    {"sl__outbox_bounds", "SELECT coalesce(min(pos), 0), coalesce(max(pos), 0) FROM outbox", 0},
    {"sl__outbox_prune",
     "DELETE FROM outbox WHERE pos < (SELECT max(pos) FROM outbox) "
     "AND created_at < now() - $1::int8 * interval '1 millisecond'",
     1},
    {NULL, NULL, 0},
};

bool sl__outbox_channel(const char *schema, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s_outbox", schema);
    return n > 0 && (size_t)n < cap && n < 64;
}

static sl_status conn_channel(sl_db_conn *conn, char *buf, size_t cap, sl_err *err)
{
    const char *schema = sl_db_schema(sl_db_conn_db(conn));
    if (schema == NULL)
        return sl_err_set(err, SL_FAILED_PRECONDITION, "the outbox needs a pool with a schema");
    if (!sl__outbox_channel(schema, buf, cap))
        return sl_err_set(err, SL_INTERNAL, "schema name \"%s\" too long for a channel", schema);
    return SL_OK;
}

struct sl_outbox_notifier {
    sl_db *db;
    char channel[64];
    bool sequencer;
    int idle_poll_ms;

    pthread_t thread;
    int stop_pipe[2]; /* written once by stop to wake the thread's poll */
    int kick_fd;      /* eventfd: a writer of this process committed events */

    pthread_mutex_t mu;
    pthread_cond_t cv; /* version changed or stopping; CLOCK_MONOTONIC */
    uint64_t version;
    bool stopping;
    bool connected;
    sl_outbox_watch *watches;
    /* Tables the sequencer numbers besides the outbox (under mu). */
    const sl_outbox_table *tables[SL_OUTBOX_MAX_TABLES];
    size_t ntables;
};

/* ---- writing ---- */

static void kick(void *n);

sl_status sl_outbox_append(sl_db_conn *conn, sl_outbox_notifier *n, const char *topic,
                           const char *key, const void *payload, size_t len, sl_err *err)
{
    sl_outbox_new e = {topic, key, payload, len};
    return sl_outbox_append_many(conn, n, 1, &e, err);
}

sl_status sl_outbox_append_many(sl_db_conn *conn, sl_outbox_notifier *n, size_t count,
                                const sl_outbox_new *events, sl_err *err)
{
    char channel[64];
    sl_status st = conn_channel(conn, channel, sizeof channel, err);
    if (st != SL_OK || count == 0)
        return st;
    for (size_t i = 0; i < count; i++) {
        if (events[i].topic == NULL || events[i].topic[0] == '\0')
            return sl_err_set(err, SL_INVALID_ARGUMENT, "event topic must not be empty");
        if (events[i].len >= MAX_PAYLOAD)
            return sl_err_set(err, SL_INVALID_ARGUMENT, "event payload of %zu bytes is over 1 GiB",
                              events[i].len);
    }
    /* Every insert of a chunk in one round trip, in order (ids, and so
     * positions within the transaction, follow the array). */
    static const int formats[4] = {0, 0, 1, 0};
    /* The writer's span, as the parent of whatever consumes the events. */
    char tp[SL_TRACEPARENT_LEN + 1] = "";
    if (sl_trace_current() != NULL)
        sl_trace_traceparent(sl_trace_current(), tp, sizeof tp);
    for (size_t first = 0; first < count; first += SL_DB_PIPELINE_MAX) {
        size_t k = count - first < SL_DB_PIPELINE_MAX ? count - first : SL_DB_PIPELINE_MAX;
        const char *v[SL_DB_PIPELINE_MAX][4];
        int lengths[SL_DB_PIPELINE_MAX][4];
        sl_db_query q[SL_DB_PIPELINE_MAX];
        for (size_t i = 0; i < k; i++) {
            const sl_outbox_new *e = &events[first + i];
            v[i][0] = e->topic;
            v[i][1] = e->key != NULL ? e->key : "";
            v[i][2] = e->payload != NULL ? e->payload : "";
            v[i][3] = tp;
            lengths[i][0] = lengths[i][1] = lengths[i][3] = 0;
            lengths[i][2] = (int)e->len;
            q[i] = (sl_db_query){"sl__outbox_append", 4, v[i], NULL, lengths[i], formats};
        }
        st = sl_db_exec_pipeline(conn, q, k, err);
        for (size_t i = 0; i < k; i++)
            PQclear(q[i].res);
        if (st != SL_OK)
            return st;
    }
    return sl_outbox_written(conn, n, err);
}

sl_status sl_outbox_written(sl_db_conn *conn, sl_outbox_notifier *n, sl_err *err)
{
    char channel[64];
    sl_status st = conn_channel(conn, channel, sizeof channel, err);
    if (st != SL_OK)
        return st;
    /* A NOTIFY makes PostgreSQL serialize the commits of every notifying
     * transaction of the database, WAL flush included (about 3x fewer
     * commits per second).  With a sequencing notifier in this process, the
     * commit kicks it instead, and its sequencer's one NOTIFY per run wakes
     * every process; otherwise one NOTIFY for all the rows. */
    if (n != NULL && n->sequencer && sl_db_after_commit(conn, kick, n))
        return SL_OK;
    const char *c[1] = {channel};
    return sl_db_exec(conn, "sl__outbox_notify_write", 1, c, NULL, NULL, NULL, err);
}

sl_status sl_outbox_wake(sl_db_conn *conn, sl_err *err)
{
    char channel[64];
    sl_status st = conn_channel(conn, channel, sizeof channel, err);
    if (st != SL_OK)
        return st;
    const char *v[1] = {channel};
    return sl_db_exec(conn, "sl__outbox_wake", 1, v, NULL, NULL, NULL, err);
}

/* ---- sequencing ---- */

/* One sequencer run: the numbering statement assign, under the try-lock
 * keyed on lock_key (see sl_outbox.h for the whole protocol):
 *  1. BEGIN READ COMMITTED;
 *  2. try the transaction advisory lock: another session sequencing the
 *     same rows means "pending", nothing else to do;
 *  3. the numbering statement, one snapshot taken after the lock;
 *  4. NOTIFY the channel when it numbered something;
 *  5. COMMIT, which releases the lock. */
static sl_status sequence_run(sl_db_conn *conn, const char *lock_key, const char *assign,
                              int *assigned, bool *pending, sl_err *err)
{
    sl_status st;
    PGresult *res = NULL;
    char channel[64];
    PGconn *pg = sl_db_pgconn(conn);

    if (assigned != NULL)
        *assigned = 0;
    if (pending != NULL)
        *pending = false;
    st = conn_channel(conn, channel, sizeof channel, err);
    if (st != SL_OK)
        return st;
    if (PQtransactionStatus(pg) != PQTRANS_IDLE)
        return sl_err_set(err, SL_INTERNAL, "the outbox sequencer must run outside a transaction");

    /* READ COMMITTED explicitly (whatever the server's default): the
     * numbering statement needs a snapshot taken after the lock was
     * granted, i.e. a new snapshot per statement. */
    st = sl_db_exec(conn, "sl__db_begin_rc", 0, NULL, NULL, NULL, NULL, err);
    if (st != SL_OK)
        goto done;
    const char *v[1] = {lock_key};
    st = sl_db_exec(conn, "sl__outbox_seq_lock", 1, v, NULL, NULL, &res, err);
    if (st != SL_OK)
        goto done;
    bool got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    res = NULL;
    if (!got) {
        /* Another sequencer is at work; it will notify when done. */
        if (pending != NULL)
            *pending = true;
        goto done;
    }
    st = sl_db_exec(conn, assign, 0, NULL, NULL, NULL, &res, err);
    if (st != SL_OK)
        goto done;
    int c_done = PQfnumber(res, "assigned"), c_left = PQfnumber(res, "unsequenced");
    if (PQntuples(res) != 1 || c_done < 0 || c_left < 0) {
        st = sl_err_set(err, SL_INTERNAL,
                        "sequencer statement \"%s\" must answer one row with \"assigned\" and "
                        "\"unsequenced\"",
                        assign);
        goto done;
    }
    long long done_n = strtoll(PQgetvalue(res, 0, c_done), NULL, 10);
    long long left_n = strtoll(PQgetvalue(res, 0, c_left), NULL, 10);
    if (done_n > 0) {
        const char *c[1] = {channel};
        st = sl_db_exec(conn, "sl__outbox_notify", 1, c, NULL, NULL, NULL, err);
        if (st != SL_OK)
            goto done;
    }
    st = sl_db_exec(conn, "sl__db_commit", 0, NULL, NULL, NULL, NULL, err);
    if (st != SL_OK)
        goto done;
    if (assigned != NULL)
        *assigned = (int)done_n;
    if (pending != NULL)
        *pending = left_n > done_n;
done:
    PQclear(res);
    if (PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) != PQTRANS_IDLE)
        sl_db_exec(conn, "sl__db_rollback", 0, NULL, NULL, NULL, NULL, NULL);
    return st;
}

sl_status sl_outbox_sequence(sl_db_conn *conn, int *assigned, bool *pending, sl_err *err)
{
    /* The outbox's lock is keyed on the bare schema name (replicas of
     * earlier versions take the same one). */
    const char *schema = sl_db_schema(sl_db_conn_db(conn));
    return sequence_run(conn, schema != NULL ? schema : "", "sl__outbox_seq_assign", assigned,
                        pending, err);
}

sl_status sl_outbox_sequence_table(sl_db_conn *conn, const sl_outbox_table *t, int *assigned,
                                   bool *pending, sl_err *err)
{
    const char *schema = sl_db_schema(sl_db_conn_db(conn));
    char key[160];
    int k = snprintf(key, sizeof key, "%s/%s", schema != NULL ? schema : "", t->name);
    if (k < 0 || (size_t)k >= sizeof key)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "sequenced table name \"%s\" is too long",
                          t->name);
    return sequence_run(conn, key, t->assign, assigned, pending, err);
}

/* ---- reading ---- */

static int64_t be64(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | u[i];
    return (int64_t)v;
}

/* Copies a binary text/bytea value into the arena, NUL-terminated. */
static char *arena_copy(sl_arena *a, const char *p, size_t n)
{
    char *d = sl_arena_alloc(a, n + 1);
    if (d != NULL) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* A text[] literal {"a","b"} for topics, in the arena; elements are quoted
 * with '\' before '"' and '\' as array input requires. */
static char *text_array(sl_arena *a, const char *const *items, size_t n)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 2 * strlen(items[i]) + 3;
    char *out = sl_arena_alloc(a, cap);
    if (out == NULL)
        return NULL;
    size_t k = 0;
    out[k++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            out[k++] = ',';
        out[k++] = '"';
        for (const char *s = items[i]; *s != '\0'; s++) {
            if (*s == '"' || *s == '\\')
                out[k++] = '\\';
            out[k++] = *s;
        }
        out[k++] = '"';
    }
    out[k++] = '}';
    out[k] = '\0';
    return out;
}

sl_status sl_outbox_read(sl_db_conn *conn, int64_t after_id, const char *const *topics,
                         size_t ntopics, int limit, sl_arena *arena, sl_outbox_event **events,
                         size_t *n, sl_err *err)
{
    sl_status st;
    PGresult *res = NULL;
    char after[24], lim[16];
    const char *v[3];

    *events = NULL;
    *n = 0;
    if (limit < 1 || limit > MAX_READ)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid read limit %d: expected 1 to %d",
                          limit, MAX_READ);
    if (after_id < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid event id %" PRId64 ": must not be negative", after_id);
    snprintf(after, sizeof after, "%" PRId64, after_id);
    snprintf(lim, sizeof lim, "%d", limit);
    v[0] = after;
    v[1] = lim;
    if (ntopics > 0) {
        for (size_t i = 0; i < ntopics; i++) {
            if (topics[i] == NULL)
                return sl_err_set(err, SL_INVALID_ARGUMENT, "topic %zu is NULL", i);
        }
        v[2] = text_array(arena, topics, ntopics);
        if (v[2] == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory reading events");
        st = sl_db_exec_fmt(conn, "sl__outbox_read_topics", 3, v, NULL, NULL, 1, &res, err);
    } else {
        st = sl_db_exec_fmt(conn, "sl__outbox_read", 2, v, NULL, NULL, 1, &res, err);
    }
    if (st != SL_OK)
        return st;

    int rows = PQntuples(res);
    int c_pos = PQfnumber(res, "pos"), c_topic = PQfnumber(res, "topic");
    int c_key = PQfnumber(res, "key"), c_payload = PQfnumber(res, "payload");
    int c_created = PQfnumber(res, "created_ms"), c_trace = PQfnumber(res, "traceparent");
    sl_outbox_event *ev = NULL;
    if (rows > 0) {
        ev = sl_arena_alloc(arena, (size_t)rows * sizeof *ev);
        if (ev == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory reading events");
            goto done;
        }
    }
    for (int r = 0; r < rows; r++) {
        ev[r].id = be64(PQgetvalue(res, r, c_pos));
        ev[r].topic =
            arena_copy(arena, PQgetvalue(res, r, c_topic), (size_t)PQgetlength(res, r, c_topic));
        ev[r].key =
            arena_copy(arena, PQgetvalue(res, r, c_key), (size_t)PQgetlength(res, r, c_key));
        ev[r].payload_len = (size_t)PQgetlength(res, r, c_payload);
        ev[r].payload =
            (const uint8_t *)arena_copy(arena, PQgetvalue(res, r, c_payload), ev[r].payload_len);
        ev[r].created_at_ms = be64(PQgetvalue(res, r, c_created));
        ev[r].traceparent =
            arena_copy(arena, PQgetvalue(res, r, c_trace), (size_t)PQgetlength(res, r, c_trace));
        if (ev[r].topic == NULL || ev[r].key == NULL || ev[r].payload == NULL ||
            ev[r].traceparent == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory reading events");
            goto done;
        }
    }
    *events = ev;
    *n = (size_t)rows;
done:
    PQclear(res);
    return st;
}

sl_status sl_outbox_bounds(sl_db_conn *conn, int64_t *first, int64_t *last, sl_err *err)
{
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sl__outbox_bounds", 0, NULL, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    *first = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    *last = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    return SL_OK;
}

sl_status sl_outbox_prune(sl_db_conn *conn, int64_t older_than_ms, int64_t *deleted, sl_err *err)
{
    PGresult *res = NULL;
    char ms[24];
    if (older_than_ms < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid retention %" PRId64 " ms: must not be negative", older_than_ms);
    snprintf(ms, sizeof ms, "%" PRId64, older_than_ms);
    const char *v[1] = {ms};
    sl_status st = sl_db_exec(conn, "sl__outbox_prune", 1, v, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    if (deleted != NULL)
        *deleted = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return SL_OK;
}

/* ---- notifier ---- */

struct sl_outbox_watch {
    sl_outbox_notifier *n;
    int fd; /* eventfd */
    sl_outbox_watch *next;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void bump(sl_outbox_notifier *n)
{
    uint64_t one = 1;
    pthread_mutex_lock(&n->mu);
    n->version++;
    for (sl_outbox_watch *w = n->watches; w != NULL; w = w->next) {
        /* A full counter (never in practice) already reads as ready. */
        ssize_t r = write(w->fd, &one, sizeof one);
        (void)r;
    }
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
}

static void set_connected(sl_outbox_notifier *n, bool up)
{
    pthread_mutex_lock(&n->mu);
    n->connected = up;
    pthread_mutex_unlock(&n->mu);
}

/* Sleeps up to ms, returning true at once if stop was requested. */
static bool wait_stop(sl_outbox_notifier *n, int64_t ms)
{
    struct pollfd p = {.fd = n->stop_pipe[0], .events = POLLIN};
    return poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms) > 0;
}

/* LISTEN on the channel.  A utility statement without parameters: the
 * channel is an identifier, quoted with libpq's quoting. */
static sl_status listen_on(sl_db_conn *c, const char *channel, sl_err *err)
{
    sl_status st = SL_OK;
    PGconn *pg = sl_db_pgconn(c);
    char *q = PQescapeIdentifier(pg, channel, strlen(channel));
    char sql[160];
    PGresult *res = NULL;
    if (q == NULL)
        return sl_err_set(err, SL_INTERNAL, "could not quote channel \"%s\"", channel);
    snprintf(sql, sizeof sql, "LISTEN %s", q);
    res = PQexec(pg, sql);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        char why[200];
        snprintf(why, sizeof why, "%s", PQerrorMessage(pg));
        why[strcspn(why, "\n")] = '\0';
        st = sl_err_set(err, PQstatus(pg) == CONNECTION_OK ? SL_INTERNAL : SL_UNAVAILABLE,
                        "could not listen on channel \"%s\": %s", channel, why);
    }
    PQclear(res);
    PQfreemem(q);
    return st;
}

/* Drains received notifications: *writes when a writer committed events,
 * *wake when a sequencer numbered events or sl_outbox_wake was called. */
static void drain(PGconn *pg, bool *writes, bool *wake)
{
    PGnotify *nt;
    while ((nt = PQnotifies(pg)) != NULL) {
        if (strcmp(nt->extra, NOTIFY_SEQUENCED) == 0 || strcmp(nt->extra, NOTIFY_WAKE) == 0)
            *wake = true;
        else
            *writes = true;
        PQfreemem(nt);
    }
}

/* One round of the notifier's sequencer: the outbox, then each added
 * table, each in its own short transaction.  *assigned: rows numbered in
 * all; *pending: some remain unnumbered.  The first failure stops the
 * round (the caller retries it whole: numbering what is final twice is
 * harmless, it finds nothing the second time). */
static sl_status sequence_all(sl_outbox_notifier *n, sl_db_conn *c, int *assigned, bool *pending,
                              sl_err *err)
{
    const sl_outbox_table *tables[SL_OUTBOX_MAX_TABLES];
    pthread_mutex_lock(&n->mu);
    size_t nt = n->ntables;
    memcpy(tables, n->tables, nt * sizeof tables[0]);
    pthread_mutex_unlock(&n->mu);

    int got = 0;
    bool left = false;
    sl_status st = sl_outbox_sequence(c, &got, &left, err);
    *assigned = got;
    *pending = left;
    for (size_t i = 0; i < nt && st == SL_OK; i++) {
        st = sl_outbox_sequence_table(c, tables[i], &got, &left, err);
        *assigned += got;
        *pending = *pending || left;
    }
    return st;
}

/* The notifier thread's state between steps. */
typedef struct notifier_loop {
    bool need_seq;       /* run the sequencer now */
    bool pending;        /* the last run left committed events unnumbered */
    int64_t seq_backoff; /* ms between runs while pending */
    int64_t next_seq;    /* when to run again while pending (monotonic ms) */
    int64_t next_idle;   /* the next run without any notification */
} notifier_loop;

enum { STEP_OK, STEP_LOST, STEP_STOP };

/* One round on a connected LISTEN session: handle queued notifications,
 * sequence if there is reason to, else sleep in poll until a notification,
 * a timer or stop.  Returns STEP_LOST when the session broke. */
static int notifier_step(sl_outbox_notifier *n, sl_db_conn *c, notifier_loop *s)
{
    PGconn *pg = sl_db_pgconn(c);
    bool writes = false, wake = false;
    sl_err e;

    drain(pg, &writes, &wake);
    uint64_t kicks;
    if (read(n->kick_fd, &kicks, sizeof kicks) == (ssize_t)sizeof kicks)
        writes = true; /* this process committed events */
    if (writes) {
        s->need_seq = true;
        if (!n->sequencer)
            wake = true; /* waiters sequence for themselves */
    }
    if (wake)
        bump(n);

    int64_t now = mono_ms();
    if (now >= s->next_idle) {
        s->next_idle = now + n->idle_poll_ms;
        s->need_seq = true;
        if (!n->sequencer)
            bump(n);
    }
    if (n->sequencer && (s->need_seq || (s->pending && now >= s->next_seq))) {
        int assigned = 0;
        s->need_seq = false;
        if (sequence_all(n, c, &assigned, &s->pending, &e) != SL_OK) {
            if (PQstatus(pg) != CONNECTION_OK)
                return STEP_LOST;
            SL_LOG(SL_LOG_WARN, "outbox_sequence_failed", NULL, "%s", e.msg);
            s->pending = true;
        }
        if (assigned > 0)
            bump(n);
        if (s->pending) {
            /* Back off while a long transaction holds xmin back. */
            s->seq_backoff = s->seq_backoff == 0 ? 10 : s->seq_backoff * 2;
            if (s->seq_backoff > 250)
                s->seq_backoff = 250;
            s->next_seq = mono_ms() + s->seq_backoff;
        } else {
            s->seq_backoff = 0;
        }
        /* Notifications that arrived meanwhile are queued: no poll yet. */
        return STEP_OK;
    }

    int64_t until = s->next_idle;
    if (n->sequencer && s->pending && s->next_seq < until)
        until = s->next_seq;
    int64_t wait = until - mono_ms();
    if (wait < 0)
        wait = 0;
    struct pollfd p[3] = {{.fd = PQsocket(pg), .events = POLLIN},
                          {.fd = n->stop_pipe[0], .events = POLLIN},
                          {.fd = n->kick_fd, .events = POLLIN}};
    int r = poll(p, 3, wait > INT_MAX ? INT_MAX : (int)wait);
    if (r < 0)
        return errno == EINTR ? STEP_OK : STEP_LOST;
    if (r > 0 && (p[1].revents & POLLIN))
        return STEP_STOP;
    if (r > 0 && p[0].revents != 0 && (PQconsumeInput(pg) == 0 || PQstatus(pg) != CONNECTION_OK))
        return STEP_LOST;
    return STEP_OK;
}

static bool stopping(sl_outbox_notifier *n)
{
    pthread_mutex_lock(&n->mu);
    bool stop = n->stopping;
    pthread_mutex_unlock(&n->mu);
    return stop;
}

/* The thread: (re)connects and LISTENs with backoff, then steps until the
 * session breaks or stop is requested. */
static void *notifier_main(void *arg)
{
    sl_outbox_notifier *n = arg;
    sl_db_conn *c = NULL;
    int64_t reconnect_ms = 100;
    bool warned = false;
    notifier_loop s = {.next_idle = mono_ms() + n->idle_poll_ms};
    sl_err e;

    while (!stopping(n)) {
        if (c == NULL) {
            /* Short, so that stop is not held up long by an unreachable
             * server. */
            sl_status st = sl_db_connect_dedicated(n->db, 3000, &c, &e);
            if (st == SL_OK)
                st = listen_on(c, n->channel, &e);
            if (st != SL_OK) {
                sl_db_close_dedicated(c);
                c = NULL;
                if (!warned)
                    SL_LOG(SL_LOG_WARN, "outbox_listen_failed", NULL, "%s", e.msg);
                warned = true;
                if (wait_stop(n, reconnect_ms))
                    break;
                reconnect_ms = reconnect_ms * 2 > 5000 ? 5000 : reconnect_ms * 2;
                continue;
            }
            if (warned)
                SL_LOG(SL_LOG_INFO, "outbox_listen_restored", NULL,
                       "listening on channel \"%s\" again", n->channel);
            warned = false;
            reconnect_ms = 100;
            set_connected(n, true);
            /* Whatever committed while we were away was not notified to us. */
            s.need_seq = true;
            bump(n);
        }
        int r = notifier_step(n, c, &s);
        if (r == STEP_STOP)
            break;
        if (r == STEP_LOST) {
            SL_LOG(SL_LOG_WARN, "outbox_listen_lost", NULL,
                   "lost the notification connection of channel \"%s\"; reconnecting", n->channel);
            warned = true;
            set_connected(n, false);
            sl_db_close_dedicated(c);
            c = NULL;
        }
    }
    set_connected(n, false);
    sl_db_close_dedicated(c);
    return NULL;
}

sl_status sl_outbox_notifier_start(sl_db *db, const sl_outbox_notifier_options *opts,
                                   sl_outbox_notifier **out, sl_err *err)
{
    sl_status st = SL_OK;
    sl_outbox_notifier *n = NULL;
    bool mu = false, cv = false;

    *out = NULL;
    if (sl_db_schema(db) == NULL)
        return sl_err_set(err, SL_FAILED_PRECONDITION, "the outbox needs a pool with a schema");
    if (opts != NULL && opts->idle_poll_ms < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid idle poll interval %d ms: must not be negative",
                          opts->idle_poll_ms);
    n = sl_calloc(1, sizeof *n);
    if (n == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    n->stop_pipe[0] = n->stop_pipe[1] = -1;
    n->kick_fd = -1;
    n->db = db;
    n->sequencer = opts == NULL || !opts->no_sequencer;
    n->idle_poll_ms = opts != NULL && opts->idle_poll_ms > 0 ? opts->idle_poll_ms : 5000;
    if (!sl__outbox_channel(sl_db_schema(db), n->channel, sizeof n->channel)) {
        st = sl_err_set(err, SL_INTERNAL, "schema name too long for a channel");
        goto fail;
    }
    n->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->kick_fd < 0) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "could not create an eventfd: %s",
                        strerror(errno));
        goto fail;
    }
    if (pipe2(n->stop_pipe, O_CLOEXEC) != 0) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "could not create a pipe: %s", strerror(errno));
        goto fail;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    cv = pthread_cond_init(&n->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    mu = pthread_mutex_init(&n->mu, NULL) == 0;
    if (!cv || !mu) {
        st = sl_err_set(err, SL_INTERNAL, "could not initialise the notifier's locks");
        goto fail;
    }
    int r = pthread_create(&n->thread, NULL, notifier_main, n);
    if (r != 0) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "could not start the notifier thread: %s",
                        strerror(r));
        goto fail;
    }
    *out = n;
    return SL_OK;
fail:
    if (mu)
        pthread_mutex_destroy(&n->mu);
    if (cv)
        pthread_cond_destroy(&n->cv);
    if (n->stop_pipe[0] >= 0) {
        close(n->stop_pipe[0]);
        close(n->stop_pipe[1]);
    }
    if (n->kick_fd >= 0)
        close(n->kick_fd);
    free(n);
    return st;
}

void sl_outbox_notifier_stop(sl_outbox_notifier *n)
{
    if (n == NULL)
        return;
    pthread_mutex_lock(&n->mu);
    n->stopping = true;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    char b = 1;
    ssize_t w = write(n->stop_pipe[1], &b, 1);
    (void)w;
    pthread_join(n->thread, NULL);
    close(n->stop_pipe[0]);
    close(n->stop_pipe[1]);
    close(n->kick_fd);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    free(n);
}

sl_status sl_outbox_notifier_add_table(sl_outbox_notifier *n, const sl_outbox_table *t, sl_err *err)
{
    sl_status st = SL_OK;
    pthread_mutex_lock(&n->mu);
    if (n->ntables == SL_OUTBOX_MAX_TABLES)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED,
                        "could not sequence table \"%s\": at most %d tables per notifier", t->name,
                        SL_OUTBOX_MAX_TABLES);
    else
        n->tables[n->ntables++] = t;
    pthread_mutex_unlock(&n->mu);
    /* Rows written before now were not the sequencer's business: look. */
    if (st == SL_OK)
        kick(n);
    return st;
}

/* After a commit that appended events without a NOTIFY (sl_outbox_append):
 * the notifier thread sequences them, as if it had been notified. */
static void kick(void *arg)
{
    sl_outbox_notifier *n = arg;
    uint64_t one = 1;
    ssize_t w = write(n->kick_fd, &one, sizeof one);
    (void)w; /* only fails when the counter is saturated: a kick is pending */
}

uint64_t sl_outbox_notifier_version(sl_outbox_notifier *n)
{
    pthread_mutex_lock(&n->mu);
    uint64_t v = n->version;
    pthread_mutex_unlock(&n->mu);
    return v;
}

uint64_t sl_outbox_notifier_wait(sl_outbox_notifier *n, uint64_t seen, int timeout_ms)
{
    struct timespec ts;
    if (timeout_ms >= 0) {
        int64_t d = mono_ms() + timeout_ms;
        ts.tv_sec = d / 1000;
        ts.tv_nsec = (long)(d % 1000) * 1000000L;
    }
    pthread_mutex_lock(&n->mu);
    while (n->version == seen && !n->stopping) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&n->cv, &n->mu);
        } else if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) == ETIMEDOUT) {
            break;
        }
    }
    uint64_t v = n->version;
    pthread_mutex_unlock(&n->mu);
    return v;
}

bool sl_outbox_notifier_connected(sl_outbox_notifier *n)
{
    pthread_mutex_lock(&n->mu);
    bool up = n->connected;
    pthread_mutex_unlock(&n->mu);
    return up;
}

sl_status sl_outbox_watch_open(sl_outbox_notifier *n, sl_outbox_watch **out, sl_err *err)
{
    *out = NULL;
    sl_outbox_watch *w = sl_calloc(1, sizeof *w);
    if (w == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->fd < 0) {
        sl_status st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "could not create an eventfd: %s",
                                  strerror(errno));
        free(w);
        return st;
    }
    w->n = n;
    pthread_mutex_lock(&n->mu);
    w->next = n->watches;
    n->watches = w;
    pthread_mutex_unlock(&n->mu);
    *out = w;
    return SL_OK;
}

int sl_outbox_watch_fd(const sl_outbox_watch *w)
{
    return w->fd;
}

void sl_outbox_watch_reset(sl_outbox_watch *w)
{
    uint64_t v;
    ssize_t r = read(w->fd, &v, sizeof v); /* EAGAIN when not signalled: fine */
    (void)r;
}

void sl_outbox_watch_close(sl_outbox_watch *w)
{
    if (w == NULL)
        return;
    sl_outbox_notifier *n = w->n;
    pthread_mutex_lock(&n->mu);
    for (sl_outbox_watch **p = &n->watches; *p != NULL; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    pthread_mutex_unlock(&n->mu);
    close(w->fd);
    free(w);
}
