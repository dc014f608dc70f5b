/*
 * sl_db: the libpq connection pool, statement registry, SQLSTATE mapping
 * and transaction helper (see sl_db.h for the model).
 *
 * Locking: db->mu guards the slots' in_use flags and the dedicated count;
 * db->reg_lock (a rwlock, since every statement execution reads it) guards
 * the statement registry.  A connection's own fields belong to whoever holds
 * it and are touched without locks.
 */
#include "sl_db.h"
#include "sl_db_int.h"
#include "sl_arena.h"
#include "sl_log.h"
#include "sl_metrics.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_POOL_SIZE 4
#define MAX_POOL_SIZE 256
#define DEFAULT_ACQUIRE_TIMEOUT_MS 5000
#define DEFAULT_MAX_RETRIES 8
/* Backoff between transaction attempts: exponential from BASE, capped at
 * CAP, with full jitter in [half, whole] so that two transactions that just
 * deadlocked with each other do not retry in lockstep. */
#define RETRY_BASE_MS 5
#define RETRY_CAP_MS 200

/* Connects a pool makes at once.  When the database comes back after a
 * restart every slot of every replica needs a new session; each costs the
 * server a process and a cold catalogue cache, and a few hundred at once on
 * a small server take seconds each.  A few at a time finish in
 * milliseconds and the pool refills from them as calls release them. */
#define MAX_CONNECTING 4

/* A connect left half-made longer than this is started again: the server
 * drops sessions that do not finish authenticating (authentication_timeout,
 * 60 s by default). */
#define STARTING_MAX_AGE_MS 10000

/* What a connection knows about one registered statement. */
enum { PREP_NONE = 0, PREP_COMMAND = 1, PREP_ROWS = 2 };

struct sl_db_conn {
    sl_db *db;
    PGconn *pg;
    /* A connection still being made when the caller who began it ran out
     * of time (pooled slots only): the next caller to take the slot goes on
     * with it instead of starting over.  After a database restart every
     * pool reconnects at once and a connect can take longer than a short
     * call deadline; thrown away at each deadline, no connect would ever
     * finish while calls keep coming. */
    PGconn *starting;
    PostgresPollingStatusType starting_ps;
    int64_t starting_since; /* CLOCK_MONOTONIC ms */
    uint8_t *prep;          /* by registry index: PREP_* */
    size_t nprep;
    bool in_use;
    bool dedicated;
    bool connected_before; /* a later connect of this slot is a reconnect */
    /* Sticky within a transaction attempt (sl_db_tx resets them): a
     * serialization failure or deadlock was reported, or the connection
     * broke.  Kept on the connection so that sl_db_tx decides on retrying
     * from what the server said, whatever status fn turned it into. */
    bool saw_retryable;
    char retry_state[6]; /* the SQLSTATE that set saw_retryable */
    bool lost;
    /* The server sent a FATAL message while we were idle (it terminated
     * the session or is shutting down); the socket may not show EOF yet. */
    bool server_fatal;
    /* The BEGIN of the current sl_db_tx attempt (a statement name) and its
     * statement_timeout ("" for none), not sent yet: they travel in one
     * round trip with the transaction's first statement.  NULL when no
     * BEGIN is pending. */
    const char *begin_pending;
    char timeout_pending[24];
    /* Outside sl_db_tx, from sl_db_acquire_by: every statement runs under
     * statement_timeout = the time left (CLOCK_REALTIME ms; 0: none). */
    int64_t deadline_ms;
    /* Inside sl_db_tx: what to run once the attempt has committed. */
    bool in_tx;
    struct {
        void (*fn)(void *);
        void *ctx;
    } after[SL_DB_AFTER_COMMIT_MAX];
    size_t nafter;
    char sqlstate[6];
    char constraint[64];
};

struct sl_db {
    char *conninfo;
    char *schema;
    char *app_name;
    bool generic_plans;
    int pool_size;
    int acquire_timeout_ms;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* a slot was released or a connect ended; CLOCK_MONOTONIC */
    sl_db_conn *slots;
    int connecting; /* pooled connects in progress, at most MAX_CONNECTING */
    int waiting;    /* callers waiting for a slot */
    int dedicated_open;
    uint64_t rng; /* backoff jitter; under mu */

    pthread_rwlock_t reg_lock;
    const sl_db_stmt **stmts; /* registry, by index */
    size_t nstmts, stmts_cap;
    const sl_db_stmt **tables; /* tables registered, to make re-registration a no-op */
    size_t ntables, tables_cap;
    uint32_t *hash; /* open addressing: index + 1, 0 empty */
    size_t hash_cap;

    /* The pool's series of the shelfline_db_* metrics; see db_metrics_*. */
    const char *pool_label;
    sl_metric_child *m_in_use, *m_idle, *m_connecting, *m_waiting, *m_size, *m_dedicated;
    sl_metric_child *m_wait, *m_reconnects, *m_connect_failures;
};

static const sl_db_stmt db_stmts[] = {
    {"sl__db_begin_rc", "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE", 0},
    {"sl__db_begin_rr", "BEGIN ISOLATION LEVEL REPEATABLE READ READ WRITE", 0},
    {"sl__db_begin_ser", "BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE", 0},
    {"sl__db_begin_rc_ro", "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY", 0},
    {"sl__db_begin_rr_ro", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0},
    {"sl__db_begin_ser_ro", "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY", 0},
    {"sl__db_commit", "COMMIT", 0},
    {"sl__db_rollback", "ROLLBACK", 0},
    {"sl__db_ping", "SELECT 1", 0},
    /* set_config rather than SET: SET takes no parameters. */
    {"sl__db_search_path", "SELECT pg_catalog.set_config('search_path', $1, false)", 1},
    {"sl__db_stmt_timeout", "SELECT pg_catalog.set_config('statement_timeout', $1, true)", 1},
    {"sl__db_generic_plans",
     "SELECT pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', false)", 0},
    {"sl__db_try_lock",
     "SELECT pg_catalog.pg_try_advisory_lock(" SL__LOCK_CLASS_SESSION
     ", pg_catalog.hashtext($1 || '/' || $2))",
     2},
    {"sl__db_unlock",
     "SELECT pg_catalog.pg_advisory_unlock(" SL__LOCK_CLASS_SESSION
     ", pg_catalog.hashtext($1 || '/' || $2))",
     2},
    {NULL, NULL, 0},
};

/* BEGIN statements by [isolation][read_only]. */
static const char *const begin_names[3][2] = {
    {"sl__db_begin_rc", "sl__db_begin_rc_ro"},
    {"sl__db_begin_rr", "sl__db_begin_rr_ro"},
    {"sl__db_begin_ser", "sl__db_begin_ser_ro"},
};

/* ---- metrics ----
 *
 * Per pool (label pool: the schema, "default" without one): connections by
 * state and waiting callers, read at scrape time; acquire waits; each
 * statement's latency by name; transaction retries by reason (the SQLSTATE
 * 40001 / 40P01, or "connection" when the session broke before COMMIT,
 * "connect" when no connection could be made); reconnects.  A pipeline's
 * statements are timed one by one, each from the previous result's
 * arrival (or the round trip's start) to its own: the server runs them in
 * order, so that is its time on the server plus the transfer. */

static struct {
    pthread_once_t once;
    sl_metric *conns, *waiting, *size, *dedicated, *wait, *stmt, *retries, *reconnects,
        *connect_failures;
} dbm = {.once = PTHREAD_ONCE_INIT};

static const double wait_buckets[] = {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                      0.05,   0.1,    0.25,  0.5,    1,     2.5,  5};

static void db_metrics_families(void)
{
    static const char *const pool[] = {"pool", NULL};
    static const char *const pool_state[] = {"pool", "state", NULL};
    static const char *const pool_stmt[] = {"pool", "statement", NULL};
    static const char *const pool_reason[] = {"pool", "reason", NULL};
    dbm.conns = sl_metric_gauge("shelfline_db_pool_connections",
                                "Pooled database connections by state (in_use, idle, connecting).",
                                pool_state);
    dbm.waiting = sl_metric_gauge("shelfline_db_pool_waiting",
                                  "Callers waiting for a pooled database connection.", pool);
    dbm.size =
        sl_metric_gauge("shelfline_db_pool_size", "Maximum pooled database connections.", pool);
    dbm.dedicated = sl_metric_gauge(
        "shelfline_db_dedicated_connections",
        "Dedicated database connections open (event listeners, subscription holders).", pool);
    dbm.wait =
        sl_metric_histogram("shelfline_db_pool_wait_seconds",
                            "Time callers waited to acquire a pooled connection "
                            "(including a connect made for them).",
                            pool, wait_buckets, sizeof wait_buckets / sizeof wait_buckets[0]);
    dbm.stmt = sl_metric_histogram(
        "shelfline_db_statement_seconds", "Latency of each database statement, by statement name.",
        pool_stmt, sl_metrics_latency_buckets, sl_metrics_latency_nbuckets);
    dbm.retries = sl_metric_counter(
        "shelfline_db_tx_retries_total",
        "Transactions run again, by reason (SQLSTATE 40001 or 40P01, connection, connect).",
        pool_reason);
    dbm.reconnects = sl_metric_counter(
        "shelfline_db_reconnects_total",
        "Pooled connections made again after the slot's previous one was lost.", pool);
    dbm.connect_failures =
        sl_metric_counter("shelfline_db_connect_failures_total",
                          "Attempts to connect to the database that failed.", pool);
}

/* Scrape time: the pool's gauges. */
static void db_metrics_collect(void *ctx)
{
    sl_db *db = ctx;
    int in_use = 0, idle = 0;
    pthread_mutex_lock(&db->mu);
    for (int i = 0; i < db->pool_size; i++) {
        if (db->slots[i].in_use)
            in_use++;
        else if (db->slots[i].pg != NULL)
            idle++;
    }
    int connecting = db->connecting, waiting = db->waiting, dedicated = db->dedicated_open;
    pthread_mutex_unlock(&db->mu);
    /* A slot being connected is in use by its caller; count it once. */
    sl_metric_set(db->m_in_use, in_use - connecting);
    sl_metric_set(db->m_idle, idle);
    sl_metric_set(db->m_connecting, connecting);
    sl_metric_set(db->m_waiting, waiting);
    sl_metric_set(db->m_size, db->pool_size);
    sl_metric_set(db->m_dedicated, dedicated);
}

static void db_metrics_open(sl_db *db)
{
    pthread_once(&dbm.once, db_metrics_families);
    db->pool_label = db->schema != NULL ? db->schema : "default";
    const char *p = db->pool_label;
    db->m_in_use = sl_metric_with(dbm.conns, (const char *[]){p, "in_use"});
    db->m_idle = sl_metric_with(dbm.conns, (const char *[]){p, "idle"});
    db->m_connecting = sl_metric_with(dbm.conns, (const char *[]){p, "connecting"});
    db->m_waiting = sl_metric_with(dbm.waiting, (const char *[]){p});
    db->m_size = sl_metric_with(dbm.size, (const char *[]){p});
    db->m_dedicated = sl_metric_with(dbm.dedicated, (const char *[]){p});
    db->m_wait = sl_metric_with(dbm.wait, (const char *[]){p});
    db->m_reconnects = sl_metric_with(dbm.reconnects, (const char *[]){p});
    db->m_connect_failures = sl_metric_with(dbm.connect_failures, (const char *[]){p});
    sl_metrics_on_collect(db_metrics_collect, db);
}

static void db_metrics_statement(const sl_db *db, const char *name, const struct timespec *from,
                                 struct timespec *to)
{
    clock_gettime(CLOCK_MONOTONIC, to);
    double secs = (double)(to->tv_sec - from->tv_sec) + (double)(to->tv_nsec - from->tv_nsec) / 1e9;
    sl_metric_observe(sl_metric_with(dbm.stmt, (const char *[]){db->pool_label, name}), secs);
}

/* ---- time ---- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl_db_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- SQLSTATE mapping: the one place ---- */

sl_status sl_db_status_from_sqlstate(const char *s)
{
    if (s == NULL || strlen(s) != 5)
        return SL_INTERNAL;
    if (strcmp(s, "23505") == 0)
        return SL_ALREADY_EXISTS;
    if (strcmp(s, "23514") == 0 || strcmp(s, "23503") == 0)
        return SL_FAILED_PRECONDITION;
    if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
        return SL_ABORTED;
    if (strncmp(s, "08", 2) == 0)
        return SL_UNAVAILABLE;
    /* admin_shutdown, crash_shutdown, cannot_connect_now: the server is
     * going away or not up yet.  Not in the house list, but they mean the
     * same as a class 08 failure -- try again later -- and INTERNAL would
     * tell a client the request itself is broken. */
    if (strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 || strcmp(s, "57P03") == 0)
        return SL_UNAVAILABLE;
    if (strcmp(s, "57014") == 0)
        return SL_DEADLINE_EXCEEDED;
    if (strncmp(s, "22", 2) == 0)
        return SL_INVALID_ARGUMENT;
    return SL_INTERNAL;
}

static bool sqlstate_is_retryable(const char *s)
{
    return s != NULL && (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0);
}

/* ---- messages ---- */

/* Copies the first line of a libpq message (they end in "\n" and may carry
 * a "HINT"-style second line) without its trailing newline. */
static void first_line(char *buf, size_t cap, const char *msg)
{
    if (msg == NULL || *msg == '\0') {
        snprintf(buf, cap, "unknown error");
        return;
    }
    size_t n = strcspn(msg, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, msg, n);
    buf[n] = '\0';
}

/* libpq hands notices, and errors that arrive while no command runs, to
 * this receiver.  Such an error is the server explaining why it is about to
 * close the session (57P01 on shutdown, pg_terminate_backend): remember it
 * so the idle connection is not handed out again. */
static void notice_receiver(void *arg, const PGresult *res)
{
    sl_db_conn *c = arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (sev != NULL && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
        c->server_fatal = true;
    if (sl_log_enabled(SL_LOG_DEBUG)) {
        char line[256];
        first_line(line, sizeof line, PQresultErrorMessage(res));
        SL_LOG(SL_LOG_DEBUG, "db_notice", NULL, "%s", line);
    }
}

/* ---- options ---- */

static bool schema_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SL_DB_SCHEMA_MAX || strncmp(s, "pg_", 3) == 0)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (s == NULL)
        return NULL;
    char *d = sl_strdup(s);
    if (d == NULL)
        *oom = true;
    return d;
}

/* ---- registry ---- */

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

/* Index of name in the registry, or -1.  Caller holds reg_lock. */
static long reg_find(const sl_db *db, const char *name)
{
    if (db->hash_cap == 0)
        return -1;
    size_t mask = db->hash_cap - 1;
    for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        uint32_t slot = db->hash[i];
        if (slot == 0)
            return -1;
        if (strcmp(db->stmts[slot - 1]->name, name) == 0)
            return (long)slot - 1;
    }
}

static void hash_insert(uint32_t *hash, size_t cap, const char *name, uint32_t idx)
{
    size_t mask = cap - 1;
    size_t i = name_hash(name) & mask;
    while (hash[i] != 0)
        i = (i + 1) & mask;
    hash[i] = idx + 1;
}

/* Makes room for extra more statements (table arrays and a hash kept at
 * most half full).  Caller holds reg_lock for writing. */
static bool reg_reserve(sl_db *db, size_t extra)
{
    size_t need = db->nstmts + extra;
    if (need > db->stmts_cap) {
        size_t cap = db->stmts_cap ? db->stmts_cap : 64;
        while (cap < need)
            cap *= 2;
        const sl_db_stmt **p = sl_realloc(db->stmts, cap * sizeof *p);
        if (p == NULL)
            return false;
        db->stmts = p;
        db->stmts_cap = cap;
    }
    if (need * 2 > db->hash_cap) {
        size_t cap = db->hash_cap ? db->hash_cap : 128;
        while (need * 2 > cap)
            cap *= 2;
        uint32_t *h = sl_calloc(cap, sizeof *h);
        if (h == NULL)
            return false;
        for (size_t i = 0; i < db->nstmts; i++)
            hash_insert(h, cap, db->stmts[i]->name, (uint32_t)i);
        free(db->hash);
        db->hash = h;
        db->hash_cap = cap;
    }
    if (db->ntables == db->tables_cap) {
        size_t cap = db->tables_cap ? db->tables_cap * 2 : 16;
        const sl_db_stmt **t = sl_realloc(db->tables, cap * sizeof *t);
        if (t == NULL)
            return false;
        db->tables = t;
        db->tables_cap = cap;
    }
    return true;
}

sl_status sl_db_register(sl_db *db, const sl_db_stmt *table, sl_err *err)
{
    sl_status st = SL_OK;
    size_t n = 0;
    if (table == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "statement table is NULL");
    pthread_rwlock_wrlock(&db->reg_lock);
    for (size_t t = 0; t < db->ntables; t++) {
        if (db->tables[t] == table)
            goto done;
    }
    /* Validate every row before adding any, so a bad table leaves the
     * registry as it was. */
    for (; table[n].name != NULL; n++) {
        const sl_db_stmt *s = &table[n];
        if (s->name[0] == '\0' || s->sql == NULL || s->nparams < 0 || s->nparams > 65535) {
            st = sl_err_set(err, SL_INVALID_ARGUMENT,
                            "invalid statement \"%s\": needs a name, SQL and 0..65535 parameters",
                            s->name);
            goto done;
        }
        long found = reg_find(db, s->name);
        const sl_db_stmt *other = found >= 0 ? db->stmts[found] : NULL;
        for (size_t j = 0; other == NULL && j < n; j++) {
            if (strcmp(table[j].name, s->name) == 0)
                other = &table[j];
        }
        if (other != NULL && (strcmp(other->sql, s->sql) != 0 || other->nparams != s->nparams)) {
            st = sl_err_set(err, SL_ALREADY_EXISTS,
                            "statement \"%s\" is already registered with different SQL", s->name);
            goto done;
        }
    }
    if (!reg_reserve(db, n)) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory registering statements");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (reg_find(db, table[i].name) >= 0)
            continue; /* the same statement under the same name: shared */
        db->stmts[db->nstmts] = &table[i];
        hash_insert(db->hash, db->hash_cap, table[i].name, (uint32_t)db->nstmts);
        db->nstmts++;
    }
    db->tables[db->ntables++] = table;
done:
    pthread_rwlock_unlock(&db->reg_lock);
    return st;
}

/* ---- open / close ---- */

static void conn_drop_starting(sl_db_conn *c)
{
    if (c->starting != NULL)
        PQfinish(c->starting);
    c->starting = NULL;
}

static void conn_free_state(sl_db_conn *c)
{
    if (c->pg != NULL)
        PQfinish(c->pg);
    c->pg = NULL;
    free(c->prep);
    c->prep = NULL;
    c->nprep = 0;
    c->begin_pending = NULL;
}

sl_status sl_db_open(const sl_db_options *opts, sl_db **out, sl_err *err)
{
    sl_status st = SL_OK;
    sl_db *db = NULL;
    char *perr = NULL;
    PQconninfoOption *parsed = NULL;
    bool oom = false;
    bool mu_init = false, cv_init = false, rw_init = false;

    *out = NULL;
    if (opts == NULL || opts->conninfo == NULL || opts->conninfo[0] == '\0')
        return sl_err_set(err, SL_INVALID_ARGUMENT, "missing database connection string");
    parsed = PQconninfoParse(opts->conninfo, &perr);
    if (parsed == NULL) {
        char why[256];
        first_line(why, sizeof why, perr != NULL ? perr : "out of memory");
        /* The connection string itself is not echoed: it may hold a password. */
        st = sl_err_set(err, SL_INVALID_ARGUMENT, "invalid database connection string: %s", why);
        goto fail;
    }
    if (opts->schema != NULL && !schema_name_valid(opts->schema)) {
        st = sl_err_set(err, SL_INVALID_ARGUMENT,
                        "invalid schema \"%.64s\": expected 1 to %d lower-case letters, digits "
                        "or '_', starting with a letter or '_', not \"pg_\"",
                        opts->schema, SL_DB_SCHEMA_MAX);
        goto fail;
    }
    if (opts->pool_size < 0 || opts->pool_size > MAX_POOL_SIZE) {
        st = sl_err_set(err, SL_INVALID_ARGUMENT,
                        "invalid pool size %d: expected 1 to %d (0 for the default)",
                        opts->pool_size, MAX_POOL_SIZE);
        goto fail;
    }
    if (opts->acquire_timeout_ms < 0) {
        st = sl_err_set(err, SL_INVALID_ARGUMENT,
                        "invalid acquire timeout %d ms: must not be negative",
                        opts->acquire_timeout_ms);
        goto fail;
    }
    if (opts->application_name != NULL && strlen(opts->application_name) >= 64) {
        st = sl_err_set(err, SL_INVALID_ARGUMENT,
                        "invalid application name \"%.64s...\": at most 63 bytes",
                        opts->application_name);
        goto fail;
    }

    db = sl_calloc(1, sizeof *db);
    if (db == NULL) {
        oom = true;
        goto fail;
    }
    db->pool_size = opts->pool_size ? opts->pool_size : DEFAULT_POOL_SIZE;
    db->acquire_timeout_ms =
        opts->acquire_timeout_ms ? opts->acquire_timeout_ms : DEFAULT_ACQUIRE_TIMEOUT_MS;
    db->conninfo = dup_or_null(opts->conninfo, &oom);
    db->schema = dup_or_null(opts->schema, &oom);
    db->app_name = dup_or_null(opts->application_name, &oom);
    db->generic_plans = opts->generic_plans;
    db->slots = sl_calloc((size_t)db->pool_size, sizeof *db->slots);
    if (oom || db->slots == NULL) {
        oom = true;
        goto fail;
    }
    for (int i = 0; i < db->pool_size; i++)
        db->slots[i].db = db;
    db->rng = (uint64_t)mono_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid() ^ (uintptr_t)db;
    if (db->rng == 0)
        db->rng = 1;

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    cv_init = pthread_cond_init(&db->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    mu_init = pthread_mutex_init(&db->mu, NULL) == 0;
    rw_init = pthread_rwlock_init(&db->reg_lock, NULL) == 0;
    if (!cv_init || !mu_init || !rw_init) {
        st = sl_err_set(err, SL_INTERNAL, "could not initialise the connection pool's locks");
        goto fail;
    }

    const sl_db_stmt *const own[] = {db_stmts, sl__migrate_stmts, sl__outbox_stmts,
                                     sl__cursor_stmts};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        st = sl_db_register(db, own[i], err);
        if (st != SL_OK)
            goto fail;
    }
    PQconninfoFree(parsed);
    db_metrics_open(db);
    *out = db;
    return SL_OK;

fail:
    if (oom)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory creating the connection pool");
    if (db != NULL) {
        if (rw_init)
            pthread_rwlock_destroy(&db->reg_lock);
        if (mu_init)
            pthread_mutex_destroy(&db->mu);
        if (cv_init)
            pthread_cond_destroy(&db->cv);
        free(db->stmts);
        free(db->tables);
        free(db->hash);
        free(db->slots);
        free(db->app_name);
        free(db->schema);
        free(db->conninfo);
        free(db);
    }
    PQconninfoFree(parsed);
    PQfreemem(perr);
    return st;
}

void sl_db_close(sl_db *db)
{
    if (db == NULL)
        return;
    sl_metrics_remove_collector(db_metrics_collect, db);
    for (int i = 0; i < db->pool_size; i++) {
        assert(!db->slots[i].in_use && "sl_db_close with a connection still acquired");
        conn_free_state(&db->slots[i]);
        conn_drop_starting(&db->slots[i]);
    }
    assert(db->dedicated_open == 0 && "sl_db_close with a dedicated connection still open");
    pthread_rwlock_destroy(&db->reg_lock);
    pthread_mutex_destroy(&db->mu);
    pthread_cond_destroy(&db->cv);
    free(db->stmts);
    free(db->tables);
    free(db->hash);
    free(db->slots);
    free(db->app_name);
    free(db->schema);
    free(db->conninfo);
    free(db);
}

/* ---- connecting ---- */

/* Begins a connection without blocking; NULL when out of memory. */
static PGconn *pg_connect_start(const sl_db *db)
{
    const char *keys[10], *vals[10];
    int k = 0;

    /* Keywords after dbname override the connection string, those before
     * it are defaults it may override (libpq processes them in order). */
    keys[k] = "fallback_application_name";
    vals[k++] = "shelfline";
    /* A path to the server that silently drops packets (a partition, a
     * dead host) must fail in seconds, not after the kernel's minutes of
     * retransmissions: keepalives find an idle connection dead after
     * about 2 + 3 x 1 s, and tcp_user_timeout drops one whose sent data
     * stays unacknowledged for 2.5 s.  The connection string may say
     * otherwise.  (connect_timeout is not set: libpq applies it only to
     * blocking connects; ours is bounded by the caller's deadline.) */
    keys[k] = "keepalives";
    vals[k++] = "1";
    keys[k] = "keepalives_idle";
    vals[k++] = "2";
    keys[k] = "keepalives_interval";
    vals[k++] = "1";
    keys[k] = "keepalives_count";
    vals[k++] = "3";
    keys[k] = "tcp_user_timeout";
    vals[k++] = "2500";
    keys[k] = "dbname";
    vals[k++] = db->conninfo;
    if (db->app_name != NULL) {
        keys[k] = "application_name";
        vals[k++] = db->app_name;
    }
    keys[k] = NULL;
    vals[k] = NULL;

    return PQconnectStartParams(keys, vals, 1);
}

/* Makes c->pg, without blocking past deadline (CLOCK_MONOTONIC ms): libpq's
 * own connect_timeout only bounds the blocking PQconnectdb, and a request's
 * deadline should bound everything it waits for.  A connect the deadline
 * cut short stays in c->starting for the next caller to finish (see struct
 * sl_db_conn); one that failed is started once more within the deadline
 * when it was an old one, since the server may have dropped it meanwhile. */
static sl_status pg_connect(sl_db_conn *c, int64_t deadline, sl_err *err)
{
    char why[256];
    bool resumed = false;

    if (c->starting != NULL && mono_ms() - c->starting_since > STARTING_MAX_AGE_MS)
        conn_drop_starting(c);
    if (c->starting != NULL) {
        resumed = true;
    } else {
        c->starting = pg_connect_start(c->db);
        if (c->starting == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED,
                              "out of memory connecting to the database");
        c->starting_ps = PGRES_POLLING_WRITING;
        c->starting_since = mono_ms();
        if (PQstatus(c->starting) == CONNECTION_BAD)
            c->starting_ps = PGRES_POLLING_FAILED;
    }
    while (c->starting_ps != PGRES_POLLING_OK) {
        if (c->starting_ps == PGRES_POLLING_FAILED) {
            first_line(why, sizeof why, PQerrorMessage(c->starting));
            conn_drop_starting(c);
            if (resumed) {
                resumed = false;
                c->starting = pg_connect_start(c->db);
                if (c->starting == NULL)
                    return sl_err_set(err, SL_RESOURCE_EXHAUSTED,
                                      "out of memory connecting to the database");
                c->starting_ps = PQstatus(c->starting) == CONNECTION_BAD ? PGRES_POLLING_FAILED
                                                                         : PGRES_POLLING_WRITING;
                c->starting_since = mono_ms();
                continue;
            }
            return sl_err_set(err, SL_UNAVAILABLE, "could not connect to the database: %s", why);
        }
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return sl_err_set(err, SL_UNAVAILABLE,
                              "could not connect to the database: timed out after %" PRId64
                              " ms (the connect goes on for the next caller)",
                              mono_ms() - c->starting_since);
        /* The socket can change between polls (several hosts, SSL retry). */
        struct pollfd pfd = {.fd = PQsocket(c->starting),
                             .events = c->starting_ps == PGRES_POLLING_READING ? POLLIN : POLLOUT};
        int r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (r < 0 && errno != EINTR) {
            int e = errno;
            conn_drop_starting(c);
            return sl_err_set(err, SL_UNAVAILABLE, "could not connect to the database: poll: %s",
                              strerror(e));
        }
        if (r > 0)
            c->starting_ps = PQconnectPoll(c->starting);
    }
    c->pg = c->starting;
    c->starting = NULL;
    return SL_OK;
}

/* Replaces c's connection with a fresh one (prepared-statement state
 * restarts from nothing) and applies the session settings. */
static sl_status conn_connect(sl_db_conn *c, int64_t deadline, sl_err *err)
{
    sl_status st;
    conn_free_state(c);
    c->server_fatal = false;
    st = pg_connect(c, deadline, err);
    if (st != SL_OK)
        return st;
    PQsetNoticeReceiver(c->pg, notice_receiver, c);
    if (c->db->schema != NULL) {
        /* search_path is a list of identifiers: quote the name so the value
         * means exactly this schema whatever it is called. */
        char *quoted = PQescapeIdentifier(c->pg, c->db->schema, strlen(c->db->schema));
        if (quoted == NULL) {
            st = sl_err_set(err, SL_INTERNAL, "could not quote schema \"%s\"", c->db->schema);
        } else {
            const char *v[1] = {quoted};
            st = sl_db_exec(c, "sl__db_search_path", 1, v, NULL, NULL, NULL, err);
            PQfreemem(quoted);
        }
    }
    if (st == SL_OK && c->db->generic_plans)
        st = sl_db_exec(c, "sl__db_generic_plans", 0, NULL, NULL, NULL, NULL, err);
    if (st != SL_OK) {
        sl_err_wrap(err, "could not set up a database connection");
        conn_free_state(c);
        if (st == SL_INTERNAL)
            st = SL_UNAVAILABLE;
    }
    return st;
}

/* Whether an idle connection still works, without a round trip: a server
 * that restarted or terminated the session has sent an error and closed the
 * socket, so it reads as ready; consuming the input then marks the
 * connection bad.  A silent network failure is not seen here; the next
 * statement fails with UNAVAILABLE (and sl_db_tx retries it). */
static bool conn_healthy(sl_db_conn *c)
{
    if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK ||
        PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        return false;
    struct pollfd pfd = {.fd = PQsocket(c->pg), .events = POLLIN};
    if (pfd.fd < 0)
        return false;
    if (poll(&pfd, 1, 0) > 0) {
        if (PQconsumeInput(c->pg) == 0 || PQstatus(c->pg) != CONNECTION_OK)
            return false;
        PGnotify *n;
        while ((n = PQnotifies(c->pg)) != NULL)
            PQfreemem(n);
    }
    return !c->server_fatal;
}

/* ---- acquire / release ---- */

static void deadline_timespec(int64_t deadline, struct timespec *ts)
{
    ts->tv_sec = deadline / 1000;
    ts->tv_nsec = (long)(deadline % 1000) * 1000000L;
}

static sl_status acquire_until(sl_db *db, int64_t deadline, int timeout_ms, sl_db_conn **out,
                               sl_err *err)
{
    sl_db_conn *c = NULL;
    sl_status st;
    int64_t t0 = mono_ms();

    pthread_mutex_lock(&db->mu);
    for (;;) {
        /* Prefer a slot that is already connected, then one whose connect
         * is half made, then an empty one: the pool grows only under load,
         * and by at most MAX_CONNECTING connects at a time. */
        sl_db_conn *idle = NULL, *half = NULL, *empty = NULL;
        for (int i = 0; i < db->pool_size; i++) {
            sl_db_conn *s = &db->slots[i];
            if (s->in_use)
                continue;
            if (s->pg != NULL) {
                idle = s;
                break;
            }
            if (s->starting != NULL) {
                if (half == NULL)
                    half = s;
            } else if (empty == NULL) {
                empty = s;
            }
        }
        if (idle != NULL) {
            idle->in_use = true;
            pthread_mutex_unlock(&db->mu);
            if (conn_healthy(idle)) {
                c = idle;
                break;
            }
            /* The server ended it (a restart): the slot is empty now. */
            conn_free_state(idle);
            pthread_mutex_lock(&db->mu);
            idle->in_use = false;
            continue;
        }
        c = half != NULL ? half : empty;
        if (c != NULL && db->connecting < MAX_CONNECTING) {
            c->in_use = true;
            db->connecting++;
            pthread_mutex_unlock(&db->mu);
            st = conn_connect(c, deadline, err);
            if (st == SL_OK && c->connected_before)
                sl_metric_add(db->m_reconnects, 1);
            else if (st == SL_OK)
                c->connected_before = true;
            else if (c->starting == NULL)
                sl_metric_add(db->m_connect_failures, 1); /* not merely cut short */
            pthread_mutex_lock(&db->mu);
            assert(db->connecting > 0 && c->in_use);
            db->connecting--;
            if (st != SL_OK)
                c->in_use = false;
            /* Waiters for a connect slot, and for this slot on failure. */
            pthread_cond_broadcast(&db->cv);
            pthread_mutex_unlock(&db->mu);
            if (st != SL_OK)
                return st;
            break;
        }
        if (mono_ms() >= deadline) {
            int connecting = db->connecting;
            pthread_mutex_unlock(&db->mu);
            if (c != NULL)
                return sl_err_set(err, SL_UNAVAILABLE,
                                  "could not connect to the database within %d ms: %d connects "
                                  "of this pool were still under way",
                                  timeout_ms, connecting);
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED,
                              "could not acquire a database connection within %d ms: all %d "
                              "are in use",
                              timeout_ms, db->pool_size);
        }
        struct timespec ts;
        deadline_timespec(deadline, &ts);
        db->waiting++;
        pthread_cond_timedwait(&db->cv, &db->mu, &ts);
        db->waiting--;
    }
    sl_metric_observe(db->m_wait, (double)(mono_ms() - t0) / 1000.0);
    c->saw_retryable = false;
    c->lost = false;
    *out = c;
    return SL_OK;
}

sl_status sl_db_acquire(sl_db *db, int timeout_ms, sl_db_conn **out, sl_err *err)
{
    *out = NULL;
    if (timeout_ms < 0)
        timeout_ms = db->acquire_timeout_ms;
    return acquire_until(db, mono_ms() + timeout_ms, timeout_ms, out, err);
}

sl_status sl_db_acquire_by(sl_db *db, int64_t deadline_ms, sl_db_conn **out, sl_err *err)
{
    *out = NULL;
    if (deadline_ms == INT64_MAX)
        deadline_ms = 0;
    int wait = db->acquire_timeout_ms;
    bool cut = false;
    if (deadline_ms != 0) {
        int64_t left = deadline_ms - sl_db_now_ms();
        if (left <= 0)
            return sl_err_set(err, SL_DEADLINE_EXCEEDED,
                              "deadline exceeded before a database connection was free");
        if (left < wait) {
            wait = (int)left;
            cut = true;
        }
    }
    sl_status st = acquire_until(db, mono_ms() + wait, wait, out, err);
    if (st == SL_RESOURCE_EXHAUSTED && cut)
        return sl_err_set(err, SL_DEADLINE_EXCEEDED,
                          "deadline exceeded waiting for a database connection");
    if (st == SL_OK)
        (*out)->deadline_ms = deadline_ms;
    return st;
}

void sl_db_release(sl_db *db, sl_db_conn *c)
{
    if (c == NULL)
        return;
    assert(!c->dedicated && c->db == db);
    /* Released once per acquire, and never inside sl_db_tx's attempt. */
    assert(c->in_use && !c->in_tx);
    c->begin_pending = NULL;
    c->deadline_ms = 0;
    if (c->pg != NULL) {
        bool keep = PQstatus(c->pg) == CONNECTION_OK;
        if (keep) {
            PGTransactionStatusType ts = PQtransactionStatus(c->pg);
            switch (ts) {
            case PQTRANS_IDLE:
                break;
            case PQTRANS_INTRANS:
            case PQTRANS_INERROR:
                keep = sl_db_exec(c, "sl__db_rollback", 0, NULL, NULL, NULL, NULL, NULL) == SL_OK;
                break;
            case PQTRANS_ACTIVE:
            case PQTRANS_UNKNOWN:
                /* A command still running or a broken session: nothing
                 * cheap makes it safe for the next user. */
                keep = false;
                break;
            }
        }
        if (!keep)
            conn_free_state(c);
    }
    pthread_mutex_lock(&db->mu);
    c->in_use = false;
    pthread_cond_signal(&db->cv);
    pthread_mutex_unlock(&db->mu);
}

sl_status sl_db_connect_dedicated(sl_db *db, int timeout_ms, sl_db_conn **out, sl_err *err)
{
    *out = NULL;
    if (timeout_ms < 0)
        timeout_ms = db->acquire_timeout_ms;
    sl_db_conn *c = sl_calloc(1, sizeof *c);
    if (c == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    c->db = db;
    c->dedicated = true;
    c->in_use = true;
    sl_status st = conn_connect(c, mono_ms() + timeout_ms, err);
    if (st != SL_OK) {
        conn_free_state(c);
        conn_drop_starting(c);
        free(c);
        return st;
    }
    pthread_mutex_lock(&db->mu);
    db->dedicated_open++;
    pthread_mutex_unlock(&db->mu);
    *out = c;
    return SL_OK;
}

void sl_db_close_dedicated(sl_db_conn *c)
{
    if (c == NULL)
        return;
    assert(c->dedicated);
    sl_db *db = c->db;
    conn_free_state(c);
    free(c);
    pthread_mutex_lock(&db->mu);
    assert(db->dedicated_open > 0);
    db->dedicated_open--;
    pthread_mutex_unlock(&db->mu);
}

/* ---- executing ---- */

/* Turns a failed result (res may be NULL) into a status and message, and
 * records what sl_db_tx and callers need to know on the connection. */
static sl_status result_error(sl_db_conn *c, const PGresult *res, const char *what,
                              const char *name, sl_err *err)
{
    char msg[320];
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    sl_status st;

    snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state != NULL ? state : "");
    snprintf(c->constraint, sizeof c->constraint, "%s", cons != NULL ? cons : "");
    if (sqlstate_is_retryable(state)) {
        c->saw_retryable = true;
        snprintf(c->retry_state, sizeof c->retry_state, "%s", state);
    }
    if (primary != NULL)
        snprintf(msg, sizeof msg, "%s", primary);
    else
        first_line(msg, sizeof msg, PQerrorMessage(c->pg));

    if (PQstatus(c->pg) == CONNECTION_BAD) {
        c->lost = true;
        st = SL_UNAVAILABLE;
    } else if (state != NULL) {
        st = sl_db_status_from_sqlstate(state);
    } else {
        st = SL_INTERNAL;
    }
    return sl_err_set(err, st, "could not %s statement \"%s\": %s", what, name, msg);
}

/* Prepares statement idx on c if it is not yet, and learns whether it
 * returns rows so that the result status can be checked exactly. */
static sl_status ensure_prepared(sl_db_conn *c, size_t idx, const sl_db_stmt *s, sl_err *err)
{
    sl_status st = SL_OK;
    PGresult *res = NULL;

    if (idx >= c->nprep) {
        size_t n = c->nprep ? c->nprep : 64;
        while (n <= idx)
            n *= 2;
        uint8_t *p = sl_realloc(c->prep, n);
        if (p == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        memset(p + c->nprep, PREP_NONE, n - c->nprep);
        c->prep = p;
        c->nprep = n;
    }
    if (c->prep[idx] != PREP_NONE)
        return SL_OK;

    res = PQprepare(c->pg, s->name, s->sql, s->nparams, NULL);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        st = result_error(c, res, "prepare", s->name, err);
        goto done;
    }
    PQclear(res);
    res = PQdescribePrepared(c->pg, s->name);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        st = result_error(c, res, "describe", s->name, err);
        goto done;
    }
    c->prep[idx] = PQnfields(res) > 0 ? PREP_ROWS : PREP_COMMAND;
done:
    PQclear(res);
    return st;
}

/* One statement of a round trip. */
typedef struct pipe_item {
    const sl_db_stmt *s;
    size_t idx;
    int nparams;
    const char *const *values;
    const int *lengths, *formats;
    int result_format;
    bool keep;     /* hand the result to the caller */
    PGresult *res; /* the kept result */
} pipe_item;

/* Fills *it for the registered statement name, preparing it on c first if
 * needed. */
static sl_status item_for(sl_db_conn *c, const char *name, int nparams, const char *const *values,
                          const int *lengths, const int *formats, int result_format, bool keep,
                          pipe_item *it, sl_err *err)
{
    const sl_db_stmt *s = NULL;
    pthread_rwlock_rdlock(&c->db->reg_lock);
    long idx = reg_find(c->db, name);
    if (idx >= 0)
        s = c->db->stmts[idx];
    pthread_rwlock_unlock(&c->db->reg_lock);
    if (s == NULL)
        return sl_err_set(err, SL_INTERNAL, "unknown statement \"%s\"", name);
    if (nparams != s->nparams)
        return sl_err_set(err, SL_INTERNAL, "statement \"%s\" takes %d parameters, got %d", name,
                          s->nparams, nparams);
    sl_status st = ensure_prepared(c, (size_t)idx, s, err);
    if (st != SL_OK)
        return st;
    *it = (pipe_item){s, (size_t)idx, nparams, values, lengths, formats, result_format, keep, NULL};
    return SL_OK;
}

/* Queues the transaction's pending BEGIN (and statement_timeout) in front
 * of what is about to be sent; *tv holds the timeout's parameter.  On a
 * connection acquired with a deadline and outside a transaction, queues
 * only the timeout: the statements of one round trip are one implicit
 * transaction, so a local setting bounds them and ends with them. */
static sl_status begin_items(sl_db_conn *c, pipe_item *it, size_t *n, const char **tv, sl_err *err)
{
    *n = 0;
    if (c->begin_pending == NULL && c->deadline_ms != 0 && !c->in_tx &&
        PQtransactionStatus(c->pg) == PQTRANS_IDLE) {
        int64_t left = c->deadline_ms - sl_db_now_ms();
        if (left <= 0)
            return sl_err_set(err, SL_DEADLINE_EXCEEDED, "deadline exceeded before a statement");
        snprintf(c->timeout_pending, sizeof c->timeout_pending, "%" PRId64, left);
        *tv = c->timeout_pending;
        sl_status st = item_for(c, "sl__db_stmt_timeout", 1, tv, NULL, NULL, 0, false, &it[0], err);
        if (st == SL_OK)
            *n = 1;
        return st;
    }
    if (c->begin_pending == NULL)
        return SL_OK;
    const char *begin = c->begin_pending;
    c->begin_pending = NULL;
    sl_status st = item_for(c, begin, 0, NULL, NULL, NULL, 0, false, &it[0], err);
    if (st != SL_OK)
        return st;
    *n = 1;
    if (c->timeout_pending[0] == '\0')
        return SL_OK;
    *tv = c->timeout_pending;
    st = item_for(c, "sl__db_stmt_timeout", 1, tv, NULL, NULL, 0, false, &it[1], err);
    if (st == SL_OK)
        *n = 2;
    return st;
}

/* The result of it must be exactly what its statement produces. */
static sl_status check_result(sl_db_conn *c, const pipe_item *it, const PGresult *res, sl_err *err)
{
    ExecStatusType want = c->prep[it->idx] == PREP_ROWS ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;
    if (res != NULL && PQresultStatus(res) == want)
        return SL_OK;
    if (res != NULL && PQresultStatus(res) != PGRES_FATAL_ERROR && PQstatus(c->pg) == CONNECTION_OK)
        return sl_err_set(err, SL_INTERNAL, "statement \"%s\" returned %s, expected %s",
                          it->s->name, PQresStatus(PQresultStatus(res)), PQresStatus(want));
    return result_error(c, res, "execute", it->s->name, err);
}

static void clear_items(pipe_item *it, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        PQclear(it[i].res);
        it[i].res = NULL;
    }
}

/* Runs the items in order.  Several go in one round trip (libpq's pipeline
 * mode): the server still runs them one after the other, each with its own
 * snapshot, and skips the rest after a failure (outside a transaction they
 * form one implicit transaction).  The send is blocking: it cannot
 * deadlock against the server as long as what the server answers while
 * we are still sending fits in the socket buffers, which holds for our
 * pipelines (at most SL_DB_PIPELINE_MAX statements, results of a few
 * kilobytes).  On failure no result is kept. */
static sl_status run_items(sl_db_conn *c, pipe_item *it, size_t n, sl_err *err)
{
    sl_status st = SL_OK;
    c->sqlstate[0] = '\0';
    c->constraint[0] = '\0';
    struct timespec t, t_next;
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (n == 1) {
        PGresult *res = PQexecPrepared(c->pg, it->s->name, it->nparams, it->values, it->lengths,
                                       it->formats, it->result_format);
        db_metrics_statement(c->db, it->s->name, &t, &t_next);
        st = check_result(c, it, res, err);
        if (st == SL_OK && it->keep)
            it->res = res;
        else
            PQclear(res);
        return st;
    }
    if (PQenterPipelineMode(c->pg) == 0)
        return result_error(c, NULL, "start a pipeline for", it[0].s->name, err);
    size_t sent = 0;
    while (sent < n &&
           PQsendQueryPrepared(c->pg, it[sent].s->name, it[sent].nparams, it[sent].values,
                               it[sent].lengths, it[sent].formats, it[sent].result_format) == 1)
        sent++;
    if (sent < n || PQpipelineSync(c->pg) == 0) {
        st = result_error(c, NULL, "send", it[sent < n ? sent : n - 1].s->name, err);
        /* The pipeline cannot be read back in step: the session is unusable. */
        c->lost = true;
        conn_free_state(c);
        return st;
    }
    /* Each statement's result is followed by a NULL; the sync's result ends
     * the round trip.  After a failure the server answers PIPELINE_ABORTED
     * for the statements it skipped. */
    size_t i = 0;
    for (;;) {
        PGresult *res = PQgetResult(c->pg);
        if (res == NULL) {
            if (PQstatus(c->pg) != CONNECTION_OK) {
                if (st == SL_OK)
                    st = result_error(c, NULL, "execute", it[i < n ? i : n - 1].s->name, err);
                break;
            }
            i++;
            continue;
        }
        ExecStatusType rs = PQresultStatus(res);
        if (rs == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        if (i < n && rs != PGRES_PIPELINE_ABORTED) {
            db_metrics_statement(c->db, it[i].s->name, &t, &t_next);
            t = t_next;
        }
        if (i < n && st == SL_OK) {
            st = check_result(c, &it[i], res, err);
            if (st == SL_OK && it[i].keep && it[i].res == NULL) {
                it[i].res = res;
                res = NULL;
            }
        }
        PQclear(res);
    }
    /* A session the server ended (57P01 and the like) is noticed only
     * after its error result: the statement failed with the connection. */
    if (PQstatus(c->pg) != CONNECTION_OK) {
        c->lost = true;
    } else if (PQexitPipelineMode(c->pg) == 0) {
        if (st == SL_OK)
            st = result_error(c, NULL, "finish the pipeline of", it[n - 1].s->name, err);
        c->lost = true;
        conn_free_state(c);
    }
    if (st != SL_OK)
        clear_items(it, n);
    return st;
}

sl_status sl_db_exec_fmt(sl_db_conn *c, const char *stmt_name, int nparams,
                         const char *const *values, const int *lengths, const int *formats,
                         int result_format, PGresult **out, sl_err *err)
{
    if (out != NULL)
        *out = NULL;
    if (c == NULL || c->pg == NULL)
        return sl_err_set(err, SL_INTERNAL, "statement \"%s\" run without a connection", stmt_name);
    pipe_item it[3];
    size_t n;
    const char *tv[1];
    sl_status st = begin_items(c, it, &n, tv, err);
    if (st == SL_OK)
        st = item_for(c, stmt_name, nparams, values, lengths, formats, result_format, out != NULL,
                      &it[n], err);
    if (st != SL_OK)
        return st;
    n++;
    st = run_items(c, it, n, err);
    if (st == SL_OK && out != NULL)
        *out = it[n - 1].res;
    return st;
}

sl_status sl_db_exec(sl_db_conn *c, const char *stmt_name, int nparams, const char *const *values,
                     const int *lengths, const int *formats, PGresult **out, sl_err *err)
{
    return sl_db_exec_fmt(c, stmt_name, nparams, values, lengths, formats, 0, out, err);
}

sl_status sl_db_exec_pipeline(sl_db_conn *c, sl_db_query *q, size_t n, sl_err *err)
{
    for (size_t i = 0; i < n; i++)
        q[i].res = NULL;
    if (n == 0 || n > SL_DB_PIPELINE_MAX)
        return sl_err_set(err, SL_INTERNAL, "a pipeline takes 1 to %d statements, got %zu",
                          SL_DB_PIPELINE_MAX, n);
    if (c == NULL || c->pg == NULL)
        return sl_err_set(err, SL_INTERNAL, "statement \"%s\" run without a connection", q[0].stmt);
    pipe_item it[SL_DB_PIPELINE_MAX + 2];
    size_t k;
    const char *tv[1];
    sl_status st = begin_items(c, it, &k, tv, err);
    size_t first = k;
    for (size_t i = 0; st == SL_OK && i < n; i++, k++)
        st = item_for(c, q[i].stmt, q[i].nparams, q[i].values, q[i].lengths, q[i].formats, 0, true,
                      &it[k], err);
    if (st == SL_OK)
        st = run_items(c, it, k, err);
    if (st != SL_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        q[i].res = it[first + i].res;
    return SL_OK;
}

/* ---- transactions ---- */

static int64_t jitter_ms(sl_db *db, int attempt)
{
    int64_t base = RETRY_BASE_MS;
    for (int i = 0; i < attempt && base < RETRY_CAP_MS; i++)
        base *= 2;
    if (base > RETRY_CAP_MS)
        base = RETRY_CAP_MS;
    pthread_mutex_lock(&db->mu);
    uint64_t x = db->rng; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    db->rng = x;
    pthread_mutex_unlock(&db->mu);
    return base / 2 + (int64_t)(x % (uint64_t)(base / 2 + 1));
}

static bool has_deadline(int64_t d)
{
    return d != 0 && d != INT64_MAX;
}

/* One attempt: BEGIN, fn, COMMIT on a connection of the pool.  *retry says
 * whether a failure may be retried safely, and why[RETRY_WHY_MAX] why (the
 * label of shelfline_db_tx_retries_total). */
#define RETRY_WHY_MAX 12
static sl_status tx_attempt(sl_db *db, const sl_db_tx_options *o, sl_db_tx_fn fn, void *ctx,
                            bool *retry, char *why, sl_err *err)
{
    sl_status st;
    sl_db_conn *c = NULL;
    PGresult *res = NULL;
    bool commit_sent = false;
    int wait = db->acquire_timeout_ms;
    bool wait_cut = false;

    *retry = false;
    if (has_deadline(o->deadline_ms)) {
        int64_t left = o->deadline_ms - sl_db_now_ms();
        if (left <= 0)
            return sl_err_set(err, SL_DEADLINE_EXCEEDED,
                              "deadline exceeded before the transaction began");
        if (left < wait) {
            wait = (int)left;
            wait_cut = true;
        }
    }
    st = sl_db_acquire(db, wait, &c, err);
    if (st != SL_OK) {
        /* Nothing was sent: a failure to connect may be retried. */
        *retry = st == SL_UNAVAILABLE;
        snprintf(why, RETRY_WHY_MAX, "connect");
        if (st == SL_RESOURCE_EXHAUSTED && wait_cut)
            st = sl_err_set(err, SL_DEADLINE_EXCEEDED,
                            "deadline exceeded waiting for a database connection");
        return st;
    }

    c->in_tx = true;
    c->nafter = 0;
    /* BEGIN and the timeout go out with fn's first statement. */
    c->begin_pending = begin_names[o->isolation][o->read_only ? 1 : 0];
    c->timeout_pending[0] = '\0';
    if (has_deadline(o->deadline_ms)) {
        int64_t left = o->deadline_ms - sl_db_now_ms();
        if (left <= 0) {
            st = sl_err_set(err, SL_DEADLINE_EXCEEDED,
                            "deadline exceeded before the transaction began");
            goto done;
        }
        snprintf(c->timeout_pending, sizeof c->timeout_pending, "%" PRId64, left);
    }
    unsigned long oom = sl_arena_oom_base();
    st = fn(c, ctx, err);
    if (st != SL_OK)
        goto done;
    /* fn (or the call it serves) met an allocation failure and went on:
     * what it wrote may lack what it could not allocate (sl_arena.h). */
    if (sl_arena_oom_count() != oom) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory: transaction rolled back");
        goto done;
    }
    if (c->begin_pending != NULL) {
        /* fn ran no statement: there is no transaction to commit. */
        c->begin_pending = NULL;
        goto done;
    }
    commit_sent = true;
    st = sl_db_exec(c, "sl__db_commit", 0, NULL, NULL, NULL, &res, err);
    if (st == SL_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        /* COMMIT of a failed transaction answers ROLLBACK: fn ignored an
         * error and returned OK. */
        st = sl_err_set(err, SL_INTERNAL,
                        "transaction rolled back at commit: a statement in it had failed");
    }
    for (size_t i = 0; st == SL_OK && i < c->nafter; i++)
        c->after[i].fn(c->after[i].ctx);
done:
    c->in_tx = false;
    c->nafter = 0;
    /* Retry when the server said the transaction lost a serialization race
     * (it did not commit, even if COMMIT itself said so), or the connection
     * broke before COMMIT went out.  After COMMIT was sent a broken
     * connection leaves the outcome unknown, and running fn again could
     * apply it twice. */
    if (st != SL_OK) {
        *retry = c->saw_retryable || (c->lost && !commit_sent);
        snprintf(why, RETRY_WHY_MAX, "%s", c->saw_retryable ? c->retry_state : "connection");
        if (c->lost && commit_sent && !c->saw_retryable)
            sl_err_wrap(err, "connection lost during commit; the transaction may have committed");
    }
    PQclear(res);
    sl_db_release(db, c);
    return st;
}

sl_status sl_db_tx(sl_db *db, const sl_db_tx_options *opts, sl_db_tx_fn fn, void *ctx, sl_err *err)
{
    sl_db_tx_options o = {0};
    if (opts != NULL)
        o = *opts;
    if ((int)o.isolation < 0 || o.isolation > SL_DB_SERIALIZABLE)
        return sl_err_set(err, SL_INTERNAL, "invalid isolation level %d", (int)o.isolation);
    int max_retries = o.max_retries == 0  ? DEFAULT_MAX_RETRIES
                      : o.max_retries < 0 ? 0
                                          : o.max_retries;

    for (int attempt = 0;; attempt++) {
        bool retry;
        char why[RETRY_WHY_MAX] = "";
        sl_status st = tx_attempt(db, &o, fn, ctx, &retry, why, err);
        if (st == SL_OK) {
            sl_err_clear(err);
            return SL_OK;
        }
        if (!retry)
            return st;
        if (attempt >= max_retries) {
            sl_err_wrap(err, "gave up after %d attempts", attempt + 1);
            return st;
        }
        int64_t pause = jitter_ms(db, attempt);
        if (has_deadline(o.deadline_ms) && sl_db_now_ms() + pause >= o.deadline_ms) {
            sl_err_wrap(err, "deadline exceeded after %d attempts", attempt + 1);
            if (err != NULL)
                err->status = SL_DEADLINE_EXCEEDED;
            return SL_DEADLINE_EXCEEDED;
        }
        sl_metric_add(sl_metric_with(dbm.retries, (const char *[]){db->pool_label, why}), 1);
        SL_LOG(SL_LOG_DEBUG, "db_tx_retry", NULL, "retrying transaction (attempt %d): %s",
               attempt + 2, err != NULL ? err->msg : sl_status_name(st));
        sleep_ms(pause);
    }
}

bool sl_db_after_commit(sl_db_conn *c, void (*fn)(void *), void *ctx)
{
    if (!c->in_tx)
        return false;
    for (size_t i = 0; i < c->nafter; i++)
        if (c->after[i].fn == fn && c->after[i].ctx == ctx)
            return true;
    if (c->nafter == SL_DB_AFTER_COMMIT_MAX)
        return false;
    c->after[c->nafter].fn = fn;
    c->after[c->nafter].ctx = ctx;
    c->nafter++;
    return true;
}

/* ---- small helpers ---- */

/* Sends sql on c and waits for its answer until deadline (CLOCK_MONOTONIC
 * ms) without blocking in libpq: a server behind a partition never
 * answers, and the readiness probe must say so within its interval.  On a
 * timeout the connection is closed (its state is unknown). */
static sl_status exec_until(sl_db_conn *c, const char *name, const char *sql, int64_t deadline,
                            sl_err *err)
{
    sl_status st = SL_OK;
    PGresult *res = NULL;
    if (PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0) == 0)
        return result_error(c, NULL, "send", name, err);
    for (;;) {
        if (PQconsumeInput(c->pg) == 0)
            return result_error(c, NULL, "execute", name, err);
        if (!PQisBusy(c->pg))
            break;
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            c->lost = true;
            conn_free_state(c);
            return sl_err_set(err, SL_UNAVAILABLE,
                              "could not execute statement \"%s\": no answer in time", name);
        }
        struct pollfd pfd = {.fd = PQsocket(c->pg), .events = POLLIN};
        if (poll(&pfd, 1, left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR)
            return sl_err_set(err, SL_UNAVAILABLE, "could not execute statement \"%s\": poll: %s",
                              name, strerror(errno));
    }
    while ((res = PQgetResult(c->pg)) != NULL) {
        if (st == SL_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
            st = result_error(c, res, "execute", name, err);
        PQclear(res);
    }
    return st;
}

sl_status sl_db_ping(sl_db *db, int timeout_ms, sl_err *err)
{
    sl_db_conn *c = NULL;
    if (timeout_ms < 0)
        timeout_ms = db->acquire_timeout_ms;
    int64_t deadline = mono_ms() + timeout_ms;
    sl_status st = acquire_until(db, deadline, timeout_ms, &c, err);
    if (st != SL_OK)
        return st;
    /* The statement's text from the registry, sent unprepared: preparing
     * is a round trip of its own that could block. */
    const sl_db_stmt *s = NULL;
    pthread_rwlock_rdlock(&db->reg_lock);
    long idx = reg_find(db, "sl__db_ping");
    if (idx >= 0)
        s = db->stmts[idx];
    pthread_rwlock_unlock(&db->reg_lock);
    st = s == NULL ? sl_err_set(err, SL_INTERNAL, "unknown statement \"sl__db_ping\"")
                   : exec_until(c, s->name, s->sql, deadline, err);
    sl_db_release(db, c);
    return st;
}

sl_status sl_db_conn_check(sl_db_conn *c, sl_err *err)
{
    return sl_db_exec(c, "sl__db_ping", 0, NULL, NULL, NULL, NULL, err);
}

/* Runs a lock statement returning one boolean. */
static sl_status lock_call(sl_db_conn *c, const char *stmt, const char *name, bool *result,
                           sl_err *err)
{
    PGresult *res = NULL;
    const char *schema = c->db->schema != NULL ? c->db->schema : "";
    if (name == NULL || name[0] == '\0')
        return sl_err_set(err, SL_INVALID_ARGUMENT, "lock name must not be empty");
    const char *v[2] = {schema, name};
    sl_status st = sl_db_exec(c, stmt, 2, v, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    *result = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return SL_OK;
}

sl_status sl_db_try_lock_session(sl_db_conn *c, const char *name, bool *acquired, sl_err *err)
{
    *acquired = false;
    return lock_call(c, "sl__db_try_lock", name, acquired, err);
}

sl_status sl_db_unlock_session(sl_db_conn *c, const char *name, sl_err *err)
{
    bool released = false;
    sl_status st = lock_call(c, "sl__db_unlock", name, &released, err);
    if (st == SL_OK && !released)
        st = sl_err_set(err, SL_FAILED_PRECONDITION,
                        "could not release lock \"%s\": not held by this session", name);
    return st;
}

/* ---- accessors ---- */

PGconn *sl_db_pgconn(sl_db_conn *c)
{
    return c->pg;
}

sl_db *sl_db_conn_db(const sl_db_conn *c)
{
    return c->db;
}

const char *sl_db_conn_sqlstate(const sl_db_conn *c)
{
    return c->sqlstate;
}

const char *sl_db_conn_constraint(const sl_db_conn *c)
{
    return c->constraint;
}

const char *sl_db_conninfo(const sl_db *db)
{
    return db->conninfo;
}

const char *sl_db_schema(const sl_db *db)
{
    return db->schema;
}

int sl_db_pool_size(const sl_db *db)
{
    return db->pool_size;
}
