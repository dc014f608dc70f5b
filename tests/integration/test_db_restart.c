/*
 * Surviving a PostgreSQL restart, on a private cluster (deploy/local/pg.sh)
 * that the test stops and starts again on the same port:
 *  - while the server is down, pings and transactions fail fast with
 *    UNAVAILABLE and the notifier reports itself disconnected;
 *  - once it is back, the pool's stale connections are replaced without an
 *    error reaching callers, statements are prepared again, and the
 *    notifier reconnects and wakes waiters for new events;
 *  - a transaction in flight when the server goes down is retried and
 *    commits once after it comes back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_migrate.h"
#include "sl_outbox.h"
#include "sl_testpg.h"

static const sl_migration restart_migrations[] = {
    {1, "0001_rlog.sql", "CREATE TABLE rlog (tag text NOT NULL);"},
    {0, NULL, NULL},
};

static const sl_db_stmt test_stmts[] = {
    {"t_log", "INSERT INTO rlog (tag) VALUES ($1)", 1},
    {"t_log_count", "SELECT count(*) FROM rlog WHERE tag = $1", 1},
    {"t_sleep", "SELECT pg_sleep($1::float8)", 1},
    {NULL, NULL, 0},
};

typedef struct fixture {
    char dir[64];
    char url[512];
    sl_db *db;
} fixture;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sl_pgrestart_XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    if (sl_testpg_cluster_start(f->dir, f->url, sizeof f->url) != 0) {
        rmdir(f->dir);
        free(f);
        return -1;
    }
    sl_db_options o = {
        .conninfo = f->url, .schema = "rs", .pool_size = 2, .acquire_timeout_ms = 2000};
    sl_err e;
    if (sl_db_open(&o, &f->db, &e) != SL_OK ||
        sl_migrate_apply(f->db, restart_migrations, &e) != SL_OK ||
        sl_db_register(f->db, test_stmts, &e) != SL_OK) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sl_db_close(f->db);
    sl_testpg_cluster_destroy(f->dir);
    free(f);
    return 0;
}

typedef struct tx_ctx {
    const char *tag;
    int calls;
    double first_sleep_s;
} tx_ctx;

static sl_status log_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    tx_ctx *x = ctx;
    x->calls++;
    if (x->calls == 1 && x->first_sleep_s > 0) {
        char s[16];
        snprintf(s, sizeof s, "%.3f", x->first_sleep_s);
        const char *v[1] = {s};
        sl_status st = sl_db_exec(c, "t_sleep", 1, v, NULL, NULL, NULL, err);
        if (st != SL_OK)
            return st;
    }
    const char *v[1] = {x->tag};
    return sl_db_exec(c, "t_log", 1, v, NULL, NULL, NULL, err);
}

static sl_status append_fn(sl_db_conn *c, void *ctx, sl_err *err)
{
    const char *payload = ctx;
    return sl_outbox_append(c, NULL, "restart", NULL, payload, strlen(payload), err);
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

static bool wait_for(sl_outbox_notifier *n, bool want, int ms)
{
    int64_t until = now_ms() + ms;
    while (sl_outbox_notifier_connected(n) != want) {
        if (now_ms() > until)
            return false;
        usleep(20 * 1000);
    }
    return true;
}

static void test_down_and_back(void **state)
{
    fixture *f = *state;
    sl_err e;
    sl_outbox_notifier *n = NULL;
    sl_arena *arena = sl_arena_create(0);

    /* Warm up: both pool connections connected, statements prepared. */
    tx_ctx x = {.tag = "before"};
    assert_int_equal(sl_db_tx(f->db, NULL, log_fn, &x, &e), SL_OK);
    assert_int_equal(sl_db_ping(f->db, -1, &e), SL_OK);
    assert_int_equal(sl_outbox_notifier_start(f->db, NULL, &n, &e), SL_OK);
    assert_true(wait_for(n, true, 10000));

    assert_int_equal(sl_testpg_cluster_stop(f->dir), 0);
    int64_t t0 = now_ms();
    assert_int_equal(sl_db_ping(f->db, -1, &e), SL_UNAVAILABLE);
    fprintf(stderr, "server down: ping said \"%s\"\n", e.msg);
    x = (tx_ctx){.tag = "while-down"};
    sl_db_tx_options o = {.max_retries = 1};
    assert_int_equal(sl_db_tx(f->db, &o, log_fn, &x, &e), SL_UNAVAILABLE);
    assert_int_equal(x.calls, 0);
    assert_true(now_ms() - t0 < 3000);
    assert_true(wait_for(n, false, 5000));

    uint64_t seen = sl_outbox_notifier_version(n);
    assert_int_equal(sl_testpg_cluster_start_again(f->dir), 0);

    /* Back: no error reaches callers. */
    assert_int_equal(sl_db_ping(f->db, -1, &e), SL_OK);
    x = (tx_ctx){.tag = "after"};
    assert_int_equal(sl_db_tx(f->db, NULL, log_fn, &x, &e), SL_OK);
    assert_int_equal(x.calls, 1);
    assert_int_equal(log_count(f->db, "before"), 1);
    assert_int_equal(log_count(f->db, "after"), 1);

    /* The notifier reconnects by itself, and a new event wakes waiters
     * and is numbered. */
    assert_true(wait_for(n, true, 15000));
    assert_int_equal(sl_db_tx(f->db, NULL, append_fn, "after-restart", &e), SL_OK);
    int64_t until = now_ms() + 10000;
    size_t cnt = 0;
    while (cnt == 0 && now_ms() < until) {
        seen = sl_outbox_notifier_wait(n, seen, 1000);
        sl_db_conn *c = NULL;
        sl_outbox_event *ev = NULL;
        assert_int_equal(sl_db_acquire(f->db, -1, &c, &e), SL_OK);
        assert_int_equal(sl_outbox_read(c, 0, NULL, 0, 10, arena, &ev, &cnt, &e), SL_OK);
        sl_db_release(f->db, c);
        if (cnt == 1)
            assert_string_equal(ev[0].topic, "restart");
    }
    assert_int_equal(cnt, 1);
    sl_outbox_notifier_stop(n);
    sl_arena_destroy(arena);
}

typedef struct inflight {
    sl_db *db;
    tx_ctx x;
    sl_status st;
    char msg[SL_ERR_MSG_MAX];
} inflight;

static void *inflight_main(void *arg)
{
    inflight *t = arg;
    sl_err e = {0};
    /* Enough retries (with backoff up to 200 ms) to outlast a restart,
     * bounded by a deadline. */
    sl_db_tx_options o = {.max_retries = 100, .deadline_ms = sl_db_now_ms() + 30000};
    t->st = sl_db_tx(t->db, &o, log_fn, &t->x, &e);
    snprintf(t->msg, sizeof t->msg, "%s", e.msg);
    return NULL;
}

static void test_transaction_across_restart(void **state)
{
    fixture *f = *state;
    inflight t = {.db = f->db, .x = {.tag = "inflight", .first_sleep_s = 5}};
    pthread_t th;
    pthread_create(&th, NULL, inflight_main, &t);
    usleep(300 * 1000); /* inside pg_sleep of the first attempt */
    assert_int_equal(sl_testpg_cluster_stop(f->dir), 0);
    usleep(300 * 1000);
    assert_int_equal(sl_testpg_cluster_start_again(f->dir), 0);
    pthread_join(th, NULL);
    if (t.st != SL_OK)
        fprintf(stderr, "in-flight transaction: %s\n", t.msg);
    assert_int_equal(t.st, SL_OK);
    assert_true(t.x.calls >= 2);
    assert_int_equal(log_count(f->db, "inflight"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_down_and_back),
        cmocka_unit_test(test_transaction_across_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
