/*
 * sl_db against a real PostgreSQL: parameters and error statuses, the pool
 * under threads, rollback on release, idle connections killed by the
 * server, and sl_db_tx's retries (serialization failure, deadlock, lost
 * connection), deadlines and non-retried failures; pipelines (several
 * statements in one round trip) and the BEGIN that travels with a
 * transaction's first statement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_db.h"
#include "sl_testpg.h"

typedef struct fixture {
    sl_db *db;
    char conninfo[1024];
} fixture;

static const sl_db_stmt test_stmts[] = {
    {"t_put", "INSERT INTO kv (k, v, n, note) VALUES ($1, $2, $3::int, $4)", 4},
    {"t_get", "SELECT v, n, note FROM kv WHERE k = $1", 1},
    {"t_count", "SELECT count(*) FROM kv", 0},
    {"t_fail", "SELECT fail_with($1)", 1},
    {"t_schema", "SELECT current_schema()", 0},
    {"t_pid", "SELECT pg_backend_pid()", 0},
    {"t_kill_self", "SELECT pg_terminate_backend(pg_backend_pid())", 0},
    {"t_kill", "SELECT pg_terminate_backend($1::int)", 1},
    {"t_sleep", "SELECT pg_sleep($1::float8)", 1},
    {"t_bad_sql", "SELEC 1", 0},
    {"t_ss_count", "SELECT count(*) FROM sset WHERE g = 1", 0},
    {"t_ss_add", "INSERT INTO sset (g, c) VALUES (1, $1::int)", 1},
    {"t_dl_upd", "UPDATE dl SET v = v + 1 WHERE id = $1::int", 1},
    {"t_log", "INSERT INTO txlog (tag) VALUES ($1)", 1},
    {"t_log_count", "SELECT count(*) FROM txlog WHERE tag = $1", 1},
    {"t_setting", "SELECT current_setting($1)", 1},
    {"t_in_tx", "SELECT now() = statement_timestamp()", 0},
    {"t_xact_lock", "SELECT pg_advisory_xact_lock($1::int8)", 1},
    {NULL, NULL, 0},
};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->db = sl_testpg_open("test_db", "tdb", 4, f->conninfo, sizeof f->conninfo);
    if (f->db == NULL)
        return -1;
    if (sl_testpg_exec(f->conninfo,
                       "CREATE SCHEMA tdb;"
                       "CREATE TABLE tdb.kv (k text PRIMARY KEY, v bytea, n int CHECK (n >= 0),"
                       " note text);"
                       "CREATE TABLE tdb.sset (g int, c int);"
                       "CREATE TABLE tdb.dl (id int PRIMARY KEY, v int);"
                       "INSERT INTO tdb.dl VALUES (1, 0), (2, 0);"
                       "CREATE TABLE tdb.txlog (tag text);"
                       "CREATE FUNCTION tdb.fail_with(code text) RETURNS void LANGUAGE plpgsql"
                       " AS $$ BEGIN RAISE EXCEPTION 'forced %', code USING ERRCODE = code; END"
                       " $$;") != 0)
        return -1;
    /* Deadlocks are found after deadlock_timeout (1 s by default); a
     * superuser can make the deadlock test quicker.  Not fatal otherwise. */
    char sql[256];
    snprintf(sql, sizeof sql, "ALTER DATABASE test_db_%ld SET deadlock_timeout = '100ms'",
             (long)getpid());
    sl_testpg_exec(f->conninfo, sql);
    sl_err e;
    if (sl_db_register(f->db, test_stmts, &e) != SL_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sl_db_close(f->db);
    sl_testpg_drop_db("test_db");
    free(f);
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- parameters and statuses ---- */

static void test_params_and_statuses(void **state)
{
    fixture *f = *state;
    sl_db_conn *c = NULL;
    sl_err e;
    PGresult *res = NULL;

    assert_int_equal(sl_db_acquire(f->db, -1, &c, &e), SL_OK);
    assert_int_equal(sl_db_exec(c, "t_schema", 0, NULL, NULL, NULL, &res, &e), SL_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "tdb");
    PQclear(res);

    /* Binary bytes with zeros, hostile text, a NULL parameter: all stored
     * verbatim because they travel as parameters. */
    const char bytes[] = {'a', 0, 'b', '\'', 0, (char)0xff};
    const char *note = "'); DROP TABLE kv; -- \xc3\xa9\xe2\x82\xac";
    const char *v[4] = {"k1", bytes, NULL, note};
    int len[4] = {0, (int)sizeof bytes, 0, 0};
    int fmt[4] = {0, 1, 0, 0};
    assert_int_equal(sl_db_exec(c, "t_put", 4, v, len, fmt, NULL, &e), SL_OK);
    const char *k[1] = {"k1"};
    assert_int_equal(sl_db_exec_fmt(c, "t_get", 1, k, NULL, NULL, 1, &res, &e), SL_OK);
    assert_int_equal(PQntuples(res), 1);
    assert_int_equal(PQgetlength(res, 0, 0), (int)sizeof bytes);
    assert_memory_equal(PQgetvalue(res, 0, 0), bytes, sizeof bytes);
    assert_true(PQgetisnull(res, 0, 1));
    assert_string_equal(PQgetvalue(res, 0, 2), note);
    PQclear(res);

    /* 23505 -> ALREADY_EXISTS, with the constraint named. */
    assert_int_equal(sl_db_exec(c, "t_put", 4, v, len, fmt, &res, &e), SL_ALREADY_EXISTS);
    assert_null(res);
    assert_string_equal(sl_db_conn_sqlstate(c), "23505");
    assert_string_equal(sl_db_conn_constraint(c), "kv_pkey");
    assert_non_null(strstr(e.msg, "could not execute statement \"t_put\""));
    assert_int_equal(e.status, SL_ALREADY_EXISTS);

    /* 23514 -> FAILED_PRECONDITION; 22P02 -> INVALID_ARGUMENT. */
    const char *v2[4] = {"k2", "x", "-1", NULL};
    assert_int_equal(sl_db_exec(c, "t_put", 4, v2, NULL, NULL, NULL, &e), SL_FAILED_PRECONDITION);
    assert_string_equal(sl_db_conn_sqlstate(c), "23514");
    const char *v3[4] = {"k3", "x", "abc", NULL};
    assert_int_equal(sl_db_exec(c, "t_put", 4, v3, NULL, NULL, NULL, &e), SL_INVALID_ARGUMENT);
    assert_string_equal(sl_db_conn_sqlstate(c), "22P02");

    /* Raised codes map through the one function. */
    struct {
        const char *code;
        sl_status st;
    } cases[] = {{"40001", SL_ABORTED},
                 {"40P01", SL_ABORTED},
                 {"57014", SL_DEADLINE_EXCEEDED},
                 {"08006", SL_UNAVAILABLE},
                 {"23503", SL_FAILED_PRECONDITION},
                 {"XX000", SL_INTERNAL},
                 {"42P01", SL_INTERNAL}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p[1] = {cases[i].code};
        assert_int_equal(sl_db_exec(c, "t_fail", 1, p, NULL, NULL, NULL, &e), cases[i].st);
        assert_string_equal(sl_db_conn_sqlstate(c), cases[i].code);
    }
    /* Success clears the recorded SQLSTATE. */
    assert_int_equal(sl_db_exec(c, "t_count", 0, NULL, NULL, NULL, NULL, &e), SL_OK);
    assert_string_equal(sl_db_conn_sqlstate(c), "");

    /* Misuse is INTERNAL and sends nothing. */
    assert_int_equal(sl_db_exec(c, "t_nope", 0, NULL, NULL, NULL, NULL, &e), SL_INTERNAL);
    assert_non_null(strstr(e.msg, "unknown statement \"t_nope\""));
    assert_int_equal(sl_db_exec(c, "t_get", 2, k, NULL, NULL, NULL, &e), SL_INTERNAL);
    assert_non_null(strstr(e.msg, "takes 1 parameters, got 2"));
    assert_int_equal(sl_db_exec(c, "t_bad_sql", 0, NULL, NULL, NULL, NULL, &e), SL_INTERNAL);
    assert_non_null(strstr(e.msg, "could not prepare statement \"t_bad_sql\""));
    assert_string_equal(sl_db_conn_sqlstate(c), "42601");

    /* The connection is still good. */
    assert_int_equal(sl_db_conn_check(c, &e), SL_OK);
    sl_db_release(f->db, c);
    assert_int_equal(sl_db_ping(f->db, -1, &e), SL_OK);
}

/* ---- the pool under threads ---- */

typedef struct pool_run {
    sl_db *db;
    atomic_int in_use;
    atomic_int max_in_use;
    atomic_int failures;
    pthread_mutex_t mu;
    int pids[64];
    int npids;
} pool_run;

static void *pool_worker(void *arg)
{
    pool_run *r = arg;
    for (int i = 0; i < 100; i++) {
        sl_db_conn *c = NULL;
        sl_err e;
        PGresult *res = NULL;
        if (sl_db_acquire(r->db, 10000, &c, &e) != SL_OK) {
            fprintf(stderr, "acquire: %s\n", e.msg);
            atomic_fetch_add(&r->failures, 1);
            continue;
        }
        int now = atomic_fetch_add(&r->in_use, 1) + 1;
        int prev = atomic_load(&r->max_in_use);
        while (now > prev && !atomic_compare_exchange_weak(&r->max_in_use, &prev, now))
            ;
        /* On the first round, hold the connection until another thread has
         * one too (at most 2 s): on a loaded machine the threads could
         * otherwise run one after the other and never overlap, and the
         * check that the pool hands out several at once would depend on
         * the scheduler. */
        for (int64_t until = now_ms() + 2000;
             i == 0 && atomic_load(&r->max_in_use) < 2 && now_ms() < until;)
            usleep(1000);
        if (sl_db_exec(c, "t_pid", 0, NULL, NULL, NULL, &res, &e) != SL_OK) {
            atomic_fetch_add(&r->failures, 1);
        } else {
            int pid = atoi(PQgetvalue(res, 0, 0));
            pthread_mutex_lock(&r->mu);
            int seen = 0;
            for (int j = 0; j < r->npids; j++)
                seen |= r->pids[j] == pid;
            if (!seen && r->npids < 64)
                r->pids[r->npids++] = pid;
            pthread_mutex_unlock(&r->mu);
        }
        PQclear(res);
        atomic_fetch_sub(&r->in_use, 1);
        sl_db_release(r->db, c);
    }
    return NULL;
}

static void test_pool_threads(void **state)
{
    fixture *f = *state;
    pool_run r = {.db = f->db};
    pthread_mutex_init(&r.mu, NULL);
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, pool_worker, &r);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&r.failures), 0);
    assert_true(atomic_load(&r.max_in_use) <= 4);
    assert_true(atomic_load(&r.max_in_use) >= 2);
    assert_true(r.npids <= 4);
    pthread_mutex_destroy(&r.mu);

    /* All taken: a bounded wait, then RESOURCE_EXHAUSTED. */
    sl_db_conn *c[4];
    sl_err e;
    for (int i = 0; i < 4; i++)
        assert_int_equal(sl_db_acquire(f->db, -1, &c[i], &e), SL_OK);
    sl_db_conn *extra = NULL;
    int64_t t0 = now_ms();
    assert_int_equal(sl_db_acquire(f->db, 100, &extra, &e), SL_RESOURCE_EXHAUSTED);
    int64_t waited = now_ms() - t0;
    assert_true(waited >= 95 && waited < 2000);
    assert_null(extra);
    assert_non_null(strstr(e.msg, "all 4 are in use"));
    /* A release hands the connection to a waiter. */
    sl_db_release(f->db, c[0]);
    assert_int_equal(sl_db_acquire(f->db, 100, &c[0], &e), SL_OK);
    for (int i = 0; i < 4; i++)
        sl_db_release(f->db, c[i]);
}

/* ---- release rolls back; prepared statements survive rollbacks ---- */

static void test_release_rolls_back(void **state)
{
    fixture *f = *state;
    sl_db_options o = {.conninfo = f->conninfo, .schema = "tdb", .pool_size = 1};
    sl_db *db = NULL;
    sl_db_conn *c = NULL;
    sl_err e;
    PGresult *res = NULL;
    assert_int_equal(sl_db_open(&o, &db, &e), SL_OK);
    assert_int_equal(sl_db_register(db, test_stmts, &e), SL_OK);

    assert_int_equal(sl_db_acquire(db, -1, &c, &e), SL_OK);
    assert_int_equal(sl_db_exec(c, "sl__db_begin_rc", 0, NULL, NULL, NULL, NULL, &e), SL_OK);
    const char *v[1] = {"release-rollback"};
    /* First use of t_log on this connection: prepared inside the
     * transaction that is about to be rolled back. */
    assert_int_equal(sl_db_exec(c, "t_log", 1, v, NULL, NULL, NULL, &e), SL_OK);
    sl_db_release(db, c);

    assert_int_equal(sl_db_acquire(db, -1, &c, &e), SL_OK);
    assert_int_equal(PQtransactionStatus(sl_db_pgconn(c)), PQTRANS_IDLE);
    assert_int_equal(sl_db_exec(c, "t_log_count", 1, v, NULL, NULL, &res, &e), SL_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "0");
    PQclear(res);
    /* Still prepared after the rollback (protocol-level statements are
     * not transactional). */
    assert_int_equal(sl_db_exec(c, "t_log", 1, v, NULL, NULL, NULL, &e), SL_OK);

    /* A transaction left in the failed state is rolled back too. */
    assert_int_equal(sl_db_exec(c, "sl__db_begin_rc", 0, NULL, NULL, NULL, NULL, &e), SL_OK);
    assert_int_equal(sl_db_exec(c, "t_bad_sql", 0, NULL, NULL, NULL, NULL, &e), SL_INTERNAL);
    assert_int_equal(PQtransactionStatus(sl_db_pgconn(c)), PQTRANS_INERROR);
    sl_db_release(db, c);
    assert_int_equal(sl_db_acquire(db, -1, &c, &e), SL_OK);
    assert_int_equal(PQtransactionStatus(sl_db_pgconn(c)), PQTRANS_IDLE);
    sl_db_release(db, c);
    sl_db_close(db);
}

/* ---- an idle connection the server killed is replaced on acquire ---- */

static void test_idle_connection_killed(void **state)
{
    fixture *f = *state;
    sl_db_options o = {.conninfo = f->conninfo, .schema = "tdb", .pool_size = 1};
    sl_db *db = NULL;
    sl_db_conn *c = NULL, *d = NULL;
    sl_err e;
    PGresult *res = NULL;
    assert_int_equal(sl_db_open(&o, &db, &e), SL_OK);
    assert_int_equal(sl_db_register(db, test_stmts, &e), SL_OK);
    assert_int_equal(sl_db_acquire(db, -1, &c, &e), SL_OK);
    assert_int_equal(sl_db_exec(c, "t_pid", 0, NULL, NULL, NULL, &res, &e), SL_OK);
    char pid[16];
    snprintf(pid, sizeof pid, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    sl_db_release(db, c);

    assert_int_equal(sl_db_connect_dedicated(f->db, -1, &d, &e), SL_OK);
    const char *v[1] = {pid};
    assert_int_equal(sl_db_exec(d, "t_kill", 1, v, NULL, NULL, NULL, &e), SL_OK);
    sl_db_close_dedicated(d);
    usleep(200 * 1000);

    /* No error reaches the caller: acquire sees the closed socket. */
    assert_int_equal(sl_db_acquire(db, -1, &c, &e), SL_OK);
    sl_status st = sl_db_exec(c, "t_pid", 0, NULL, NULL, NULL, &res, &e);
    if (st != SL_OK)
        fprintf(stderr, "exec: %s\n", e.msg);
    assert_int_equal(st, SL_OK);
    assert_string_not_equal(PQgetvalue(res, 0, 0), pid);
    PQclear(res);
    sl_db_release(db, c);
    sl_db_close(db);
}

/* ---- sl_db_tx ---- */

typedef struct race {
    sl_db *db;
    pthread_barrier_t barrier;
    atomic_int attempts;
} race;

typedef struct racer {
    race *r;
    int who;
    int attempts;
    sl_status st;
    char msg[SL_ERR_MSG_MAX];
} racer;

/* Write skew under SERIALIZABLE: both read the count, both insert. */
static sl_status skew_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    racer *me = ctx;
    PGresult *res = NULL;
    me->attempts++;
    atomic_fetch_add(&me->r->attempts, 1);
    sl_status st = sl_db_exec(c, "t_ss_count", 0, NULL, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    char count[16];
    snprintf(count, sizeof count, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (me->attempts == 1)
        pthread_barrier_wait(&me->r->barrier);
    const char *v[1] = {count};
    return sl_db_exec(c, "t_ss_add", 1, v, NULL, NULL, NULL, err);
}

static void *skew_thread(void *arg)
{
    racer *me = arg;
    sl_err e = {0};
    sl_db_tx_options o = {.isolation = SL_DB_SERIALIZABLE};
    me->st = sl_db_tx(me->r->db, &o, skew_fn, me, &e);
    snprintf(me->msg, sizeof me->msg, "%s", e.msg);
    return NULL;
}

static void test_tx_serialization_retry(void **state)
{
    fixture *f = *state;
    race r = {.db = f->db};
    racer a = {.r = &r, .who = 0}, b = {.r = &r, .who = 1};
    pthread_barrier_init(&r.barrier, NULL, 2);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, skew_thread, &a);
    pthread_create(&tb, NULL, skew_thread, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&r.barrier);
    if (a.st != SL_OK || b.st != SL_OK)
        fprintf(stderr, "a: %s\nb: %s\n", a.msg, b.msg);
    assert_int_equal(a.st, SL_OK);
    assert_int_equal(b.st, SL_OK);
    /* One of them lost the race and ran again, seeing the other's row. */
    assert_true(a.attempts + b.attempts >= 3);
    sl_db_conn *c = NULL;
    sl_err e;
    PGresult *res = NULL;
    static const sl_db_stmt q[] = {
        {"t_ss_rows", "SELECT string_agg(c::text, ',' ORDER BY c) FROM sset", 0}, {NULL, NULL, 0}};
    assert_int_equal(sl_db_register(f->db, q, &e), SL_OK);
    assert_int_equal(sl_db_acquire(f->db, -1, &c, &e), SL_OK);
    assert_int_equal(sl_db_exec(c, "t_ss_rows", 0, NULL, NULL, NULL, &res, &e), SL_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "0,1");
    PQclear(res);
    sl_db_release(f->db, c);
}

/* Deadlock: a updates 1 then 2, b updates 2 then 1. */
static sl_status deadlock_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    racer *me = ctx;
    me->attempts++;
    const char *first[1] = {me->who == 0 ? "1" : "2"};
    const char *second[1] = {me->who == 0 ? "2" : "1"};
    sl_status st = sl_db_exec(c, "t_dl_upd", 1, first, NULL, NULL, NULL, err);
    if (st != SL_OK)
        return st;
    if (me->attempts == 1)
        pthread_barrier_wait(&me->r->barrier);
    return sl_db_exec(c, "t_dl_upd", 1, second, NULL, NULL, NULL, err);
}

static void *deadlock_thread(void *arg)
{
    racer *me = arg;
    sl_err e = {0};
    me->st = sl_db_tx(me->r->db, NULL, deadlock_fn, me, &e);
    snprintf(me->msg, sizeof me->msg, "%s", e.msg);
    return NULL;
}

static void test_tx_deadlock_retry(void **state)
{
    fixture *f = *state;
    race r = {.db = f->db};
    racer a = {.r = &r, .who = 0}, b = {.r = &r, .who = 1};
    pthread_barrier_init(&r.barrier, NULL, 2);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, deadlock_thread, &a);
    pthread_create(&tb, NULL, deadlock_thread, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&r.barrier);
    if (a.st != SL_OK || b.st != SL_OK)
        fprintf(stderr, "a: %s\nb: %s\n", a.msg, b.msg);
    assert_int_equal(a.st, SL_OK);
    assert_int_equal(b.st, SL_OK);
    assert_int_equal(a.attempts + b.attempts, 3);
}

typedef struct counter {
    int calls;
    const char *code; /* for fail_fn */
    const char *tag;  /* for log_fn */
    sl_status ret;
} counter;

static sl_status fail_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    counter *k = ctx;
    k->calls++;
    const char *v[1] = {k->code};
    return sl_db_exec(c, "t_fail", 1, v, NULL, NULL, NULL, err);
}

static void test_tx_retries_bounded(void **state)
{
    fixture *f = *state;
    sl_err e;
    counter k = {.code = "40001"};
    sl_db_tx_options o = {.max_retries = 2};
    assert_int_equal(sl_db_tx(f->db, &o, fail_fn, &k, &e), SL_ABORTED);
    assert_int_equal(k.calls, 3);
    assert_non_null(strstr(e.msg, "gave up after 3 attempts"));
    assert_int_equal(e.status, SL_ABORTED);

    k = (counter){.code = "40P01"};
    o.max_retries = -1;
    assert_int_equal(sl_db_tx(f->db, &o, fail_fn, &k, &e), SL_ABORTED);
    assert_int_equal(k.calls, 1);

    /* Other failures are not retried. */
    k = (counter){.code = "23505"};
    assert_int_equal(sl_db_tx(f->db, NULL, fail_fn, &k, &e), SL_ALREADY_EXISTS);
    assert_int_equal(k.calls, 1);
}

static sl_status log_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    counter *k = ctx;
    k->calls++;
    const char *v[1] = {k->tag};
    sl_status st = sl_db_exec(c, "t_log", 1, v, NULL, NULL, NULL, err);
    if (st != SL_OK)
        return st;
    if (k->ret != SL_OK)
        return sl_err_set(err, k->ret, "handler said no");
    return SL_OK;
}

static int log_count(sl_db *db, const char *tag)
{
    sl_db_conn *c = NULL;
    sl_err e;
    PGresult *res = NULL;
    if (sl_db_acquire(db, -1, &c, &e) != SL_OK)
        return -1;
    const char *v[1] = {tag};
    int n = -1;
    if (sl_db_exec(c, "t_log_count", 1, v, NULL, NULL, &res, &e) == SL_OK)
        n = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    sl_db_release(db, c);
    return n;
}

static void test_tx_commit_and_fn_error(void **state)
{
    fixture *f = *state;
    sl_err e;
    counter k = {.tag = "commit-ok", .ret = SL_OK};
    assert_int_equal(sl_db_tx(f->db, NULL, log_fn, &k, &e), SL_OK);
    assert_int_equal(log_count(f->db, "commit-ok"), 1);

    k = (counter){.tag = "fn-error", .ret = SL_NOT_FOUND};
    assert_int_equal(sl_db_tx(f->db, NULL, log_fn, &k, &e), SL_NOT_FOUND);
    assert_string_equal(e.msg, "handler said no");
    assert_int_equal(k.calls, 1);
    assert_int_equal(log_count(f->db, "fn-error"), 0);

    /* Read-only transactions refuse writes (25006 -> INTERNAL). */
    k = (counter){.tag = "read-only", .ret = SL_OK};
    sl_db_tx_options ro = {.read_only = true};
    assert_int_equal(sl_db_tx(f->db, &ro, log_fn, &k, &e), SL_INTERNAL);
    assert_int_equal(log_count(f->db, "read-only"), 0);
}

/* fn swallows a statement error and returns OK: COMMIT answers ROLLBACK. */
static sl_status swallow_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    (void)ctx;
    const char *v[1] = {"swallowed"};
    sl_db_exec(c, "t_log", 1, v, NULL, NULL, NULL, err);
    sl_db_exec(c, "t_bad_sql", 0, NULL, NULL, NULL, NULL, NULL);
    return SL_OK;
}

static void test_tx_swallowed_error(void **state)
{
    fixture *f = *state;
    sl_err e;
    assert_int_equal(sl_db_tx(f->db, NULL, swallow_fn, NULL, &e), SL_INTERNAL);
    assert_non_null(strstr(e.msg, "rolled back at commit"));
    assert_int_equal(log_count(f->db, "swallowed"), 0);
}

/* The first attempt's connection is killed mid-transaction. */
static sl_status lost_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    counter *k = ctx;
    k->calls++;
    const char *v[1] = {k->tag};
    sl_status st = sl_db_exec(c, "t_log", 1, v, NULL, NULL, NULL, err);
    if (st != SL_OK)
        return st;
    if (k->calls == 1) {
        st = sl_db_exec(c, "t_kill_self", 0, NULL, NULL, NULL, NULL, err);
        /* The server ends the session: UNAVAILABLE, whatever we return. */
        return st == SL_OK ? sl_err_set(err, SL_INTERNAL, "still alive") : st;
    }
    return SL_OK;
}

static void test_tx_connection_lost_retry(void **state)
{
    fixture *f = *state;
    sl_err e;
    counter k = {.tag = "lost-then-ok"};
    assert_int_equal(sl_db_tx(f->db, NULL, lost_fn, &k, &e), SL_OK);
    assert_int_equal(k.calls, 2);
    assert_int_equal(log_count(f->db, "lost-then-ok"), 1);
}

static sl_status sleep_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    counter *k = ctx;
    k->calls++;
    const char *v[1] = {"3"};
    return sl_db_exec(c, "t_sleep", 1, v, NULL, NULL, NULL, err);
}

static void test_tx_deadline(void **state)
{
    fixture *f = *state;
    sl_err e;
    counter k = {0};
    sl_db_tx_options o = {.deadline_ms = sl_db_now_ms() + 300};
    int64_t t0 = now_ms();
    assert_int_equal(sl_db_tx(f->db, &o, sleep_fn, &k, &e), SL_DEADLINE_EXCEEDED);
    int64_t took = now_ms() - t0;
    assert_true(took >= 250 && took < 2000);
    assert_int_equal(k.calls, 1);

    k = (counter){0};
    o.deadline_ms = sl_db_now_ms() - 1;
    assert_int_equal(sl_db_tx(f->db, &o, sleep_fn, &k, &e), SL_DEADLINE_EXCEEDED);
    assert_int_equal(k.calls, 0);

    /* Without a deadline the statement is not limited by us. */
    k = (counter){.tag = "no-deadline", .ret = SL_OK};
    o.deadline_ms = INT64_MAX;
    assert_int_equal(sl_db_tx(f->db, &o, log_fn, &k, &e), SL_OK);
}

/* ---- pipelines ---- */

static void test_pipeline(void **state)
{
    fixture *f = *state;
    sl_err e;
    sl_db_conn *c = NULL;
    assert_int_equal(sl_db_acquire(f->db, -1, &c, &e), SL_OK);

    /* Results come back each in its place; a write is seen by the read
     * after it in the same round trip. */
    const char *put[4] = {"pipe-1", NULL, "7", "first"};
    const char *get[1] = {"pipe-1"};
    sl_db_query q[3] = {
        {"t_put", 4, put, NULL}, {"t_get", 1, get, NULL}, {"t_count", 0, NULL, NULL}};
    assert_int_equal(sl_db_exec_pipeline(c, q, 3, &e), SL_OK);
    assert_non_null(q[0].res);
    assert_string_equal(PQcmdTuples(q[0].res), "1");
    assert_int_equal(PQntuples(q[1].res), 1);
    assert_string_equal(PQgetvalue(q[1].res, 0, 1), "7");
    assert_string_equal(PQgetvalue(q[1].res, 0, 2), "first");
    assert_true(atoi(PQgetvalue(q[2].res, 0, 0)) >= 1);
    for (int i = 0; i < 3; i++)
        PQclear(q[i].res);

    /* A failure in the middle: its own status and message, no results,
     * and, outside a transaction, none of it happened (the pipeline is one
     * implicit transaction). */
    const char *put2[4] = {"pipe-2", NULL, "1", NULL};
    const char *dup[4] = {"pipe-1", NULL, "1", NULL};
    const char *put3[4] = {"pipe-3", NULL, "1", NULL};
    sl_db_query bad[3] = {
        {"t_put", 4, put2, NULL}, {"t_put", 4, dup, NULL}, {"t_put", 4, put3, NULL}};
    assert_int_equal(sl_db_exec_pipeline(c, bad, 3, &e), SL_ALREADY_EXISTS);
    assert_non_null(strstr(e.msg, "t_put"));
    assert_string_equal(sl_db_conn_sqlstate(c), "23505");
    for (int i = 0; i < 3; i++)
        assert_null(bad[i].res);
    PGresult *r = NULL;
    const char *k2[1] = {"pipe-2"}, *k3[1] = {"pipe-3"};
    assert_int_equal(sl_db_exec(c, "t_get", 1, k2, NULL, NULL, &r, &e), SL_OK);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    assert_int_equal(sl_db_exec(c, "t_get", 1, k3, NULL, NULL, &r, &e), SL_OK);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);

    /* The connection is back in normal mode and still usable. */
    assert_int_equal(sl_db_exec(c, "t_count", 0, NULL, NULL, NULL, NULL, &e), SL_OK);
    assert_int_equal(PQpipelineStatus(sl_db_pgconn(c)), PQ_PIPELINE_OFF);

    /* Bounds and unknown statements. */
    assert_int_equal(sl_db_exec_pipeline(c, q, 0, &e), SL_INTERNAL);
    sl_db_query unknown[2] = {{"t_count", 0, NULL, NULL}, {"t_nope", 0, NULL, NULL}};
    assert_int_equal(sl_db_exec_pipeline(c, unknown, 2, &e), SL_INTERNAL);
    assert_non_null(strstr(e.msg, "t_nope"));
    sl_db_release(f->db, c);
}

/* A pipeline whose session the server ends half-way. */
static sl_status pipe_lost_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    counter *k = ctx;
    k->calls++;
    const char *v[1] = {k->tag};
    sl_db_query q[3] = {
        {"t_log", 1, v, NULL}, {"t_kill_self", 0, NULL, NULL}, {"t_log", 1, v, NULL}};
    if (k->calls > 1)
        q[1] = (sl_db_query){"t_log_count", 1, v, NULL};
    sl_status st = sl_db_exec_pipeline(c, q, 3, err);
    for (int i = 0; i < 3; i++)
        PQclear(q[i].res);
    return st;
}

static void test_pipeline_connection_lost(void **state)
{
    fixture *f = *state;
    sl_err e;
    counter k = {.tag = "pipe-lost"};
    assert_int_equal(sl_db_tx(f->db, NULL, pipe_lost_fn, &k, &e), SL_OK);
    /* The first attempt died with its session (and rolled back), the
     * second committed both of its rows. */
    assert_int_equal(k.calls, 2);
    assert_int_equal(log_count(f->db, "pipe-lost"), 2);
}

/* Two transactions take the same lock; the second's read after the lock,
 * in the same round trip, sees what the first committed. */
typedef struct lock_ctx {
    const char *tag;
    int hold_ms;
    long seen;
} lock_ctx;

static sl_status lock_read_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    lock_ctx *x = ctx;
    const char *key[1] = {"4242"}, *tag[1] = {"lock-read"};
    sl_db_query q[2] = {{"t_xact_lock", 1, key, NULL}, {"t_log_count", 1, tag, NULL}};
    sl_status st = sl_db_exec_pipeline(c, q, 2, err);
    if (st != SL_OK)
        return st;
    x->seen = atol(PQgetvalue(q[1].res, 0, 0));
    PQclear(q[0].res);
    PQclear(q[1].res);
    if ((st = sl_db_exec(c, "t_log", 1, tag, NULL, NULL, NULL, err)) != SL_OK)
        return st;
    usleep((useconds_t)x->hold_ms * 1000);
    return SL_OK;
}

typedef struct lock_thread {
    sl_db *db;
    lock_ctx x;
    sl_status st;
} lock_thread;

static void *lock_thread_main(void *arg)
{
    lock_thread *t = arg;
    sl_err e;
    t->st = sl_db_tx(t->db, NULL, lock_read_fn, &t->x, &e);
    return NULL;
}

static void test_pipeline_read_after_lock(void **state)
{
    fixture *f = *state;
    lock_thread a = {.db = f->db, .x = {.hold_ms = 400}};
    lock_thread b = {.db = f->db, .x = {.hold_ms = 0}};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, lock_thread_main, &a);
    usleep(100 * 1000); /* a holds the lock and has written, not committed */
    pthread_create(&tb, NULL, lock_thread_main, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.st, SL_OK);
    assert_int_equal(b.st, SL_OK);
    assert_int_equal(a.x.seen, 0);
    /* Read with a snapshot taken after the lock was granted. */
    assert_int_equal(b.x.seen, 1);
}

/* ---- the BEGIN that goes with the first statement ---- */

static sl_status in_tx_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    bool *in_tx = ctx;
    PGresult *r = NULL;
    /* now() is the transaction's start: it differs from this statement's
     * own time only inside a transaction begun earlier. */
    usleep(20 * 1000);
    const char *v[1] = {"in-tx"};
    sl_status st = sl_db_exec(c, "t_log", 1, v, NULL, NULL, NULL, err);
    if (st == SL_OK)
        usleep(20 * 1000);
    if (st == SL_OK && (st = sl_db_exec(c, "t_in_tx", 0, NULL, NULL, NULL, &r, err)) == SL_OK)
        *in_tx = strcmp(PQgetvalue(r, 0, 0), "f") == 0;
    PQclear(r);
    if (st == SL_OK)
        assert_int_equal(PQtransactionStatus(sl_db_pgconn(c)), PQTRANS_INTRANS);
    return st;
}

static sl_status nothing_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    (void)err;
    (*(int *)ctx)++;
    /* Nothing sent yet: the session is idle. */
    assert_int_equal(PQtransactionStatus(sl_db_pgconn(c)), PQTRANS_IDLE);
    return SL_OK;
}

static sl_status timeout_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    PGresult *r = NULL;
    const char *v[1] = {"statement_timeout"};
    sl_status st = sl_db_exec(c, "t_setting", 1, v, NULL, NULL, &r, err);
    if (st == SL_OK)
        snprintf(ctx, 32, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return st;
}

static void test_tx_begin_with_first_statement(void **state)
{
    fixture *f = *state;
    sl_err e;
    bool in_tx = false;
    assert_int_equal(sl_db_tx(f->db, NULL, in_tx_fn, &in_tx, &e), SL_OK);
    assert_true(in_tx);
    assert_int_equal(log_count(f->db, "in-tx"), 1);

    int calls = 0;
    assert_int_equal(sl_db_tx(f->db, NULL, nothing_fn, &calls, &e), SL_OK);
    assert_int_equal(calls, 1);

    /* The deadline's statement_timeout is in force for the first statement
     * and set for this transaction only. */
    char t[32] = "";
    sl_db_tx_options o = {.deadline_ms = sl_db_now_ms() + 60000};
    assert_int_equal(sl_db_tx(f->db, &o, timeout_fn, t, &e), SL_OK);
    assert_true(strcmp(t, "0") != 0 && strlen(t) > 0);
    assert_int_equal(sl_db_tx(f->db, NULL, timeout_fn, t, &e), SL_OK);
    assert_string_equal(t, "0");
}

/* ---- after-commit hooks ---- */

static void count_hook(void *ctx)
{
    (*(int *)ctx)++;
}

typedef struct hook_ctx {
    int calls, hooks;
    bool kill_first, fail;
} hook_ctx;

static sl_status hook_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    hook_ctx *h = ctx;
    h->calls++;
    const char *v[1] = {"hooked"};
    sl_status st = sl_db_exec(c, "t_log", 1, v, NULL, NULL, NULL, err);
    if (st != SL_OK)
        return st;
    assert_true(sl_db_after_commit(c, count_hook, &h->hooks));
    assert_true(sl_db_after_commit(c, count_hook, &h->hooks)); /* the same: once */
    if (h->kill_first && h->calls == 1)
        return sl_db_exec(c, "t_kill_self", 0, NULL, NULL, NULL, NULL, err);
    return h->fail ? sl_err_set(err, SL_NOT_FOUND, "no") : SL_OK;
}

static void test_after_commit(void **state)
{
    fixture *f = *state;
    sl_err e;
    hook_ctx h = {0};
    assert_int_equal(sl_db_tx(f->db, NULL, hook_fn, &h, &e), SL_OK);
    assert_int_equal(h.hooks, 1);

    /* Rolled back: not run. */
    h = (hook_ctx){.fail = true};
    assert_int_equal(sl_db_tx(f->db, NULL, hook_fn, &h, &e), SL_NOT_FOUND);
    assert_int_equal(h.hooks, 0);

    /* The first attempt's session dies: only the committed retry runs it. */
    h = (hook_ctx){.kill_first = true};
    assert_int_equal(sl_db_tx(f->db, NULL, hook_fn, &h, &e), SL_OK);
    assert_int_equal(h.calls, 2);
    assert_int_equal(h.hooks, 1);

    /* Outside sl_db_tx there is no commit to wait for. */
    sl_db_conn *c = NULL;
    int n = 0;
    assert_int_equal(sl_db_acquire(f->db, -1, &c, &e), SL_OK);
    assert_false(sl_db_after_commit(c, count_hook, &n));
    sl_db_release(f->db, c);
}

static void test_generic_plans(void **state)
{
    fixture *f = *state;
    sl_err e;
    sl_db_options o = {.conninfo = f->conninfo, .schema = "tdb", .pool_size = 1};
    for (int generic = 0; generic <= 1; generic++) {
        o.generic_plans = generic == 1;
        sl_db *db = NULL;
        assert_int_equal(sl_db_open(&o, &db, &e), SL_OK);
        assert_int_equal(sl_db_register(db, test_stmts, &e), SL_OK);
        sl_db_conn *c = NULL;
        assert_int_equal(sl_db_acquire(db, -1, &c, &e), SL_OK);
        PGresult *r = NULL;
        const char *v[1] = {"plan_cache_mode"};
        assert_int_equal(sl_db_exec(c, "t_setting", 1, v, NULL, NULL, &r, &e), SL_OK);
        assert_string_equal(PQgetvalue(r, 0, 0), generic ? "force_generic_plan" : "auto");
        PQclear(r);
        sl_db_release(db, c);
        sl_db_close(db);
    }
}

/* ---- a server that is not there ---- */

static void test_unreachable(void **state)
{
    (void)state;
    sl_db_options o = {.conninfo = "postgresql://postgres@127.0.0.1:1/none",
                       .schema = "x",
                       .pool_size = 2,
                       .acquire_timeout_ms = 2000};
    sl_db *db = NULL;
    sl_err e;
    assert_int_equal(sl_db_open(&o, &db, &e), SL_OK); /* lazy: no connection yet */
    int64_t t0 = now_ms();
    assert_int_equal(sl_db_ping(db, -1, &e), SL_UNAVAILABLE);
    assert_non_null(strstr(e.msg, "could not connect to the database"));
    counter k = {0};
    sl_db_tx_options to = {.max_retries = 2};
    assert_int_equal(sl_db_tx(db, &to, fail_fn, &k, &e), SL_UNAVAILABLE);
    assert_int_equal(k.calls, 0);
    assert_non_null(strstr(e.msg, "gave up after 3 attempts"));
    sl_db_conn *c = NULL;
    assert_int_equal(sl_db_connect_dedicated(db, 500, &c, &e), SL_UNAVAILABLE);
    assert_null(c);
    assert_true(now_ms() - t0 < 3000);
    sl_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_and_statuses),
        cmocka_unit_test(test_pool_threads),
        cmocka_unit_test(test_release_rolls_back),
        cmocka_unit_test(test_idle_connection_killed),
        cmocka_unit_test(test_tx_serialization_retry),
        cmocka_unit_test(test_tx_deadlock_retry),
        cmocka_unit_test(test_tx_retries_bounded),
        cmocka_unit_test(test_tx_commit_and_fn_error),
        cmocka_unit_test(test_tx_swallowed_error),
        cmocka_unit_test(test_tx_connection_lost_retry),
        cmocka_unit_test(test_tx_deadline),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_pipeline_connection_lost),
        cmocka_unit_test(test_pipeline_read_after_lock),
        cmocka_unit_test(test_tx_begin_with_first_statement),
        cmocka_unit_test(test_after_commit),
        cmocka_unit_test(test_generic_plans),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
