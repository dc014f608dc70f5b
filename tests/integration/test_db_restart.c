/*
 * Surviving a PostgreSQL restart, on a private cluster (deploy/local/pg.sh)
 * that the test stops and starts again on the same port:
 *  - while the server is down, pings and transactions fail fast with
 *    UNAVAILABLE and the notifier reports itself disconnected;
 *  - once it is back, the pool's stale connections are replaced without an
 *    error reaching callers, statements are prepared again, and the
 *    notifier reconnects and wakes waiters for new events;
 *  - a transaction in flight when the server goes down is retried and
 *    commits once after it comes back;
 *  - against a server that accepts and then says nothing (as a restarted
 *    server under a storm of connects): a connect cut short by a caller's
 *    deadline is continued by the next caller, not started again, and a
 *    pool makes at most a few connects at once however many callers wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
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

/* A "server" that accepts TCP connections and never answers: counts
 * accepted connections and the most open at once. */
typedef struct silent_server {
    int lfd, port;
    atomic_bool stop;
    atomic_int accepted, open_max;
    int fds[64];
    int nfds;
    pthread_t th;
} silent_server;

static void *silent_main(void *arg)
{
    silent_server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p[65];
        p[0] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
        for (int i = 0; i < s->nfds; i++)
            p[i + 1] = (struct pollfd){.fd = s->fds[i], .events = POLLIN};
        if (poll(p, (nfds_t)s->nfds + 1, 50) <= 0)
            continue;
        /* Closed by the client: forget it (the startup packet is ignored). */
        for (int i = s->nfds - 1; i >= 0; i--) {
            if (p[i + 1].revents == 0)
                continue;
            char buf[512];
            ssize_t n = read(s->fds[i], buf, sizeof buf);
            if (n <= 0) {
                close(s->fds[i]);
                s->fds[i] = s->fds[--s->nfds];
            }
        }
        if ((p[0].revents & POLLIN) && s->nfds < 64) {
            int fd = accept(s->lfd, NULL, NULL);
            if (fd >= 0) {
                s->fds[s->nfds++] = fd;
                atomic_fetch_add(&s->accepted, 1);
                if (s->nfds > atomic_load(&s->open_max))
                    atomic_store(&s->open_max, s->nfds);
            }
        }
    }
    for (int i = 0; i < s->nfds; i++)
        close(s->fds[i]);
    return NULL;
}

static void silent_start(silent_server *s)
{
    memset(s, 0, sizeof *s);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 128), 0);
    socklen_t len = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    pthread_create(&s->th, NULL, silent_main, s);
}

static void silent_stop(silent_server *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
    close(s->lfd);
}

typedef struct acq_arg {
    sl_db *db;
    sl_status st;
} acq_arg;

static void *acq_main(void *arg)
{
    acq_arg *a = arg;
    sl_db_conn *c = NULL;
    sl_err e;
    a->st = sl_db_acquire(a->db, 300, &c, &e);
    sl_db_release(a->db, c);
    return NULL;
}

static void test_slow_connects_are_kept_and_bounded(void **state)
{
    (void)state;
    silent_server srv;
    silent_start(&srv);
    char url[128];
    snprintf(url, sizeof url, "host=127.0.0.1 port=%d dbname=x user=x sslmode=disable", srv.port);
    sl_db_options o = {.conninfo = url, .pool_size = 1, .acquire_timeout_ms = 200};
    sl_db *db;
    sl_err e;
    assert_int_equal(sl_db_open(&o, &db, &e), SL_OK);

    /* Three callers in turn, each out of time before the server answers:
     * one connection, carried from each to the next. */
    for (int i = 0; i < 3; i++) {
        sl_db_conn *c = NULL;
        assert_int_equal(sl_db_acquire(db, 150, &c, &e), SL_UNAVAILABLE);
        assert_non_null(strstr(e.msg, "the connect goes on"));
    }
    assert_int_equal(atomic_load(&srv.accepted), 1);
    sl_db_close(db);

    /* Thirty-two callers at once on a pool of 32: at most four connects
     * at a time reach the server. */
    o.pool_size = 32;
    assert_int_equal(sl_db_open(&o, &db, &e), SL_OK);
    acq_arg args[32];
    pthread_t th[32];
    for (int i = 0; i < 32; i++) {
        args[i] = (acq_arg){.db = db};
        pthread_create(&th[i], NULL, acq_main, &args[i]);
    }
    for (int i = 0; i < 32; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].st, SL_UNAVAILABLE);
    }
    fprintf(stderr, "silent server: %d connections accepted, at most %d open at once\n",
            atomic_load(&srv.accepted), atomic_load(&srv.open_max));
    assert_true(atomic_load(&srv.open_max) <= 4);
    assert_true(atomic_load(&srv.accepted) >= 1);
    sl_db_close(db);
    silent_stop(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_down_and_back),
        cmocka_unit_test(test_transaction_across_restart),
        cmocka_unit_test(test_slow_connects_are_kept_and_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
