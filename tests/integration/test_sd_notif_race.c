/*
 * Integration test of service-desk's notification feed under concurrent
 * writers, with real processes: one shelfline-inventory and two
 * shelfline-service-desk replicas on a fresh database, read over loopback
 * gRPC, written by this process through the service's own store
 * (sd_store_notify inside sl_db_tx, the path the delay consumer takes),
 * with no writers' lock anywhere.
 *
 *  - a transaction that wrote first and commits last: a cursor on write
 *    order (the row id) passes it for good, while the feed holds the
 *    later one back until the earlier one commits, then serves both, in
 *    write order, with consecutive ids;
 *  - many writers whose transactions stay open for random times, write
 *    one to three notifications each, and sometimes roll back, while two
 *    WatchNotifications streams (one of them closed and resumed from its
 *    last id halfway) and a ListNotifications pager (pages of 7, on both
 *    replicas in turn) follow the feed: each reader gets every committed
 *    notification exactly once, none that rolled back, in strictly
 *    increasing and consecutive ids.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "inv_test.h"
#include "sd_store.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_db.h"
#include "sl_events.h"
#include "sl_test.h"

#define WRITERS 6
#define TX_PER_WRITER 40
#define PAGE 7
#define READ_LIMIT_MS 90000

#define DESC(x) &shelfline__v1__##x##__descriptor

/* The notifications one reader received, in arrival order. */
typedef struct got {
    int64_t *id;
    char **key;
    size_t n, cap;
} got;

static struct {
    invt_svc inv;
    pid_t sd_pid[2];
    int sd_port[2];
    sl_channel *sd[2];
    sl_db *db;       /* the writers' pool */
    sl_events *feed; /* the writers' feed: its sequencer numbers what they commit */
    pthread_mutex_t mu;
    got committed; /* keys of the notifications whose transaction committed */
    atomic_bool writers_done;
    char failed[512]; /* the first failure of a thread (cmocka asserts only in main) */
} F;

/* Records a thread's failure, for the main thread to report. */
static void thread_failed(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&F.mu);
    if (F.failed[0] == '\0')
        vsnprintf(F.failed, sizeof F.failed, fmt, ap);
    pthread_mutex_unlock(&F.mu);
    va_end(ap);
}

static void check_threads(void)
{
    if (F.failed[0] != '\0')
        fail_msg("%s", F.failed);
}

/* ---- bookkeeping ---- */

static void got_add(got *g, int64_t id, const char *key)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 256;
        g->id = realloc(g->id, g->cap * sizeof *g->id);
        g->key = realloc(g->key, g->cap * sizeof *g->key);
        if (g->id == NULL || g->key == NULL)
            abort(); /* a test out of memory */
    }
    g->id[g->n] = id;
    if ((g->key[g->n] = strdup(key)) == NULL)
        abort();
    g->n++;
}

static void got_free(got *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->key[i]);
    free(g->id);
    free(g->key);
    memset(g, 0, sizeof *g);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A reader's notifications are the committed ones, each once, in strictly
 * increasing ids without a gap: the feed kept its order, repeated
 * nothing, skipped nothing, invented nothing.  Prints what is wrong on
 * stderr; returns the number of checks that failed. */
static int check_reader(const char *who, const got *g, const got *want)
{
    int bad = 0;
    /* 1. order: strictly increasing ids, so nothing came twice */
    size_t backwards = 0, gaps = 0;
    for (size_t i = 1; i < g->n; i++) {
        backwards += g->id[i] <= g->id[i - 1];
        gaps += g->id[i] > g->id[i - 1] + 1;
    }
    if (backwards > 0 && ++bad)
        fprintf(stderr, "%s: %zu ids out of order or repeated\n", who, backwards);
    /* 2. completeness: exactly the committed keys */
    char **a = calloc(g->n + 1, sizeof *a), **b = calloc(want->n + 1, sizeof *b);
    if (a == NULL || b == NULL)
        abort();
    memcpy(a, g->key, g->n * sizeof *a);
    memcpy(b, want->key, want->n * sizeof *b);
    qsort(a, g->n, sizeof *a, cmp_str);
    qsort(b, want->n, sizeof *b, cmp_str);
    size_t i = 0, j = 0, skipped = 0, extra = 0;
    while (i < g->n || j < want->n) {
        int c = i == g->n ? 1 : j == want->n ? -1 : strcmp(a[i], b[j]);
        extra += c < 0;
        skipped += c > 0;
        i += c <= 0;
        j += c >= 0;
    }
    free(a);
    free(b);
    if (skipped > 0 && ++bad)
        fprintf(stderr, "%s: skipped %zu of %zu committed notifications\n", who, skipped, want->n);
    if (extra > 0 && ++bad)
        fprintf(stderr, "%s: got %zu notifications that never committed, or twice\n", who, extra);
    /* 3. density: the ids are consecutive */
    if (gaps > 0 && ++bad)
        fprintf(stderr, "%s: %zu gaps between ids\n", who, gaps);
    return bad;
}

/* ---- processes ---- */

/* Replica i of service-desk, on the inventory's database. */
static pid_t sd_spawn(int i)
{
    char e[5][640];
    snprintf(e[0], sizeof e[0], "SHELFLINE_DATABASE_URL=%s", F.inv.conninfo);
    snprintf(e[1], sizeof e[1], "SHELFLINE_LISTEN=127.0.0.1:%d", F.sd_port[i]);
    snprintf(e[2], sizeof e[2], "SHELFLINE_INVENTORY_ADDR=127.0.0.1:%d", F.inv.port[0]);
    snprintf(e[3], sizeof e[3], "SHELFLINE_LOG_LEVEL=error");
    snprintf(e[4], sizeof e[4], "SHELFLINE_DRAIN_GRACE=5s");
    char *envp[] = {e[0], e[1], e[2], e[3], e[4], NULL};
    return sl_test_spawn_bin("shelfline-service-desk", envp);
}

static const sl_event_topic no_topics[] = {{NULL, NULL}};

static int setup(void **state)
{
    (void)state;
    sl_err err;
    pthread_mutex_init(&F.mu, NULL);
    if (invt_start(&F.inv, "sdnotifrace", 1, NULL) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        F.sd_port[i] = sl_test_free_port();
        F.sd_pid[i] = sd_spawn(i);
        if (F.sd_pid[i] <= 0 || !sl_test_wait_child_port(F.sd_pid[i], F.sd_port[i], 30000) ||
            (F.sd[i] = sl_test_channel(F.sd_port[i])) == NULL ||
            !sl_test_wait_serving(F.sd[i], 30000))
            return -1;
    }
    /* The replicas migrated the schema: write into it as they do. */
    sl_db_options o = {
        .conninfo = F.inv.conninfo, .schema = "service_desk", .pool_size = WRITERS + 2};
    if (sl_db_open(&o, &F.db, &err) != SL_OK || sd_store_register(F.db, &err) != SL_OK ||
        sl_events_create(F.db, no_topics, &F.feed, &err) != SL_OK ||
        sl_events_add_table(F.feed, &sd_store_notif_table, &err) != SL_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    sl_events_destroy(F.feed);
    sl_db_close(F.db);
    for (int i = 0; i < 2; i++) {
        if (F.sd_pid[i] > 0) {
            int status = sl_test_stop(F.sd_pid[i], SIGTERM, 30000);
            bad += status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        }
        sl_channel_destroy(F.sd[i]);
    }
    invt_stop(&F.inv);
    got_free(&F.committed);
    sl_test_kill_all();
    return bad ? -1 : 0;
}

/* ---- writing ---- */

/* One writing transaction: n notifications, then hold_ms with the
 * transaction open (and hold(hold_ctx) when set), then commit -- or roll
 * back when rollback. */
typedef struct write_tx {
    char keys[3][64];
    int n;
    int hold_ms;
    bool rollback;
    void (*hold)(void *);
    void *hold_ctx;
} write_tx;

static sl_status write_fn(sl_db_conn *conn, void *ctx, sl_err *err)
{
    write_tx *w = ctx;
    for (int i = 0; i < w->n; i++) {
        sd_notice nt = {w->keys[i], "DELAY", "c-race", "", "your order is late", "", 0, ""};
        sl_status st = sd_store_notify(conn, F.feed, &nt, err);
        if (st != SL_OK)
            return st;
    }
    if (w->hold_ms > 0)
        invt_sleep_ms(w->hold_ms);
    if (w->hold != NULL)
        w->hold(w->hold_ctx);
    return w->rollback ? sl_err_set(err, SL_FAILED_PRECONDITION, "rolled back on purpose") : SL_OK;
}

/* Runs w; its keys join F.committed when it committed. */
static void write_notices(write_tx *w)
{
    sl_err err;
    sl_db_tx_options o = {.isolation = SL_DB_READ_COMMITTED};
    sl_status st = sl_db_tx(F.db, &o, write_fn, w, &err);
    if (st != (w->rollback ? SL_FAILED_PRECONDITION : SL_OK)) {
        thread_failed("writing %s: %s %s", w->keys[0], sl_status_name(st), err.msg);
        return;
    }
    if (w->rollback)
        return;
    pthread_mutex_lock(&F.mu);
    for (int i = 0; i < w->n; i++)
        got_add(&F.committed, 0, w->keys[i]);
    pthread_mutex_unlock(&F.mu);
}

/* ---- reading ---- */

/* ListNotifications after *cursor on replica i: the page goes into g. */
static size_t list_page(int i, int64_t *cursor, int limit, sl_arena *a, got *g)
{
    Shelfline__V1__ListNotificationsRequest r = SHELFLINE__V1__LIST_NOTIFICATIONS_REQUEST__INIT;
    r.after_id = *cursor;
    r.limit = limit;
    Shelfline__V1__ListNotificationsResponse *resp;
    sl_err err;
    sl_status st = sl_test_call(F.sd[i], "ServiceDeskService", "ListNotifications", &r.base,
                                DESC(list_notifications_response), a, &resp, 10000, &err);
    if (st != SL_OK) {
        thread_failed("ListNotifications after %lld: %s %s", (long long)*cursor, sl_status_name(st),
                      err.msg);
        return 0;
    }
    for (size_t k = 0; k < resp->n_notifications; k++) {
        got_add(g, resp->notifications[k]->notification_id,
                resp->notifications[k]->idempotency_key);
        *cursor = resp->notifications[k]->notification_id;
    }
    sl_arena_reset(a);
    return resp->n_notifications;
}

static int64_t newest_id(void)
{
    return invt_sql_int(F.inv.conninfo,
                        "SELECT coalesce(max(notification_id), 0) FROM service_desk.notification");
}

/* ---- a transaction that wrote first and commits last ---- */

typedef struct handshake {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool written, go;
} handshake;

/* The slow transaction, with its notification written: says so, then
 * waits for go. */
static void slow_hold(void *ctx)
{
    handshake *h = ctx;
    pthread_mutex_lock(&h->mu);
    h->written = true;
    pthread_cond_broadcast(&h->cv);
    while (!h->go)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

static void *slow_writer(void *ctx)
{
    write_tx w = {.n = 1, .hold = slow_hold, .hold_ctx = ctx};
    snprintf(w.keys[0], sizeof w.keys[0], "race:slow");
    write_notices(&w);
    return NULL;
}

/* The row id of "race:<which>", given in the order of writes (the only
 * ids notifications had before they were numbered after commit). */
static int64_t row_id_of(bool slow)
{
    return invt_sql_int(F.inv.conninfo, slow ? "SELECT row_id FROM service_desk.notification"
                                               " WHERE idempotency_key = 'race:slow'"
                                             : "SELECT row_id FROM service_desk.notification"
                                               " WHERE idempotency_key = 'race:fast'");
}

static void test_late_commit_is_served_in_write_order_not_skipped(void **state)
{
    (void)state;
    sl_arena *a = sl_arena_create(0);
    int64_t start = newest_id();
    handshake h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
    pthread_t slow;
    assert_int_equal(pthread_create(&slow, NULL, slow_writer, &h), 0);
    pthread_mutex_lock(&h.mu);
    while (!h.written)
        pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);

    /* "race:fast" is written after "race:slow" and commits while the slow
     * one is still open. */
    write_tx fast = {.n = 1};
    snprintf(fast.keys[0], sizeof fast.keys[0], "race:fast");
    write_notices(&fast);
    int64_t fast_row = row_id_of(false);
    assert_true(fast_row > 0);

    /* The feed holds it back: no replica serves it while the earlier
     * writer is open, however long we look (the sequencers run on every
     * page read and on the writers' commits). */
    got early = {0};
    int64_t cursor = start;
    for (int k = 0; k < 10; k++) {
        list_page(k % 2, &cursor, PAGE, a, &early);
        invt_sleep_ms(50);
    }
    check_threads();
    assert_int_equal(early.n, 0);

    pthread_mutex_lock(&h.mu);
    h.go = true;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    assert_int_equal(pthread_join(slow, NULL), 0);
    check_threads();

    /* The slow one was written first: a cursor on write order would have
     * moved past it to fast_row while it was invisible, and lost it. */
    int64_t slow_row = row_id_of(true);
    assert_true(slow_row > 0 && slow_row < fast_row);

    /* The feed serves both, the slow one first, with consecutive ids. */
    got g = {0};
    int64_t until = invt_now_ms() + 20000;
    while (g.n < 2 && invt_now_ms() < until)
        if (list_page(0, &cursor, PAGE, a, &g) == 0)
            invt_sleep_ms(20);
    check_threads();
    assert_int_equal(g.n, 2);
    assert_string_equal(g.key[0], "race:slow");
    assert_string_equal(g.key[1], "race:fast");
    assert_int_equal(g.id[0], start + 1);
    assert_int_equal(g.id[1], start + 2);
    got_free(&g);
    got_free(&early);
    sl_arena_destroy(a);
}

/* ---- many writers, three readers ---- */

static void *writer(void *arg)
{
    int t = (int)(intptr_t)arg;
    unsigned seed = 7919u * (unsigned)(t + 1);
    for (int k = 0; k < TX_PER_WRITER; k++) {
        write_tx w = {.n = 1 + (int)(rand_r(&seed) % 3),
                      .hold_ms = (int)(rand_r(&seed) % 16),
                      .rollback = rand_r(&seed) % 8 == 0};
        for (int i = 0; i < w.n; i++)
            snprintf(w.keys[i], sizeof w.keys[i], "race:%d:%d:%d", t, k, i);
        write_notices(&w);
    }
    return NULL;
}

/* The total to expect, once the writers are done (else SIZE_MAX). */
static size_t expected(void)
{
    if (!atomic_load(&F.writers_done))
        return SIZE_MAX;
    pthread_mutex_lock(&F.mu);
    size_t n = F.committed.n;
    pthread_mutex_unlock(&F.mu);
    return n;
}

typedef struct reader {
    const char *name;
    int replica;
    int64_t start;
    size_t resume_after; /* close the stream and resume after this many; 0: never */
    got g;
} reader;

static sl_client_stream *watch_open(int replica, int64_t after_id)
{
    Shelfline__V1__WatchNotificationsRequest r = SHELFLINE__V1__WATCH_NOTIFICATIONS_REQUEST__INIT;
    r.after_id = after_id;
    sl_client_stream *st;
    sl_err err;
    sl_call_options o = {.timeout_ms = READ_LIMIT_MS + 30000};
    if (sl_client_stream_open(F.sd[replica], "/shelfline.v1.ServiceDeskService/WatchNotifications",
                              &r.base, &shelfline__v1__notification__descriptor, &o, &st,
                              &err) != SL_OK)
        return NULL;
    return st;
}

/* WatchNotifications until every committed notification has come (or
 * the time limit), resumed once from the last id when resume_after. */
static void *stream_reader(void *arg)
{
    reader *r = arg;
    sl_arena *a = sl_arena_create(0);
    int64_t cursor = r->start, until = invt_now_ms() + READ_LIMIT_MS;
    sl_client_stream *st = watch_open(r->replica, cursor);
    if (st == NULL)
        thread_failed("%s: could not open the stream", r->name);
    while (st != NULL && r->g.n < expected() && invt_now_ms() < until) {
        ProtobufCMessage *m = NULL;
        bool timed_out = false;
        sl_err err;
        sl_status s = sl_client_stream_next(st, a, &m, 500, &timed_out, &err);
        if (s != SL_OK || m == NULL) {
            if (timed_out)
                continue;
            thread_failed("%s: the stream ended: %s %s", r->name, sl_status_name(s), err.msg);
            break;
        }
        const Shelfline__V1__Notification *n = (const void *)m;
        got_add(&r->g, n->notification_id, n->idempotency_key);
        cursor = n->notification_id;
        sl_arena_reset(a);
        if (r->resume_after > 0 && r->g.n == r->resume_after) {
            sl_client_stream_close(st);
            st = watch_open(r->replica == 0 ? 1 : 0, cursor);
        }
    }
    if (st != NULL)
        sl_client_stream_close(st);
    sl_arena_destroy(a);
    return NULL;
}

/* ListNotifications in pages of PAGE, on both replicas in turn. */
static void *pager(void *arg)
{
    reader *r = arg;
    sl_arena *a = sl_arena_create(0);
    int64_t cursor = r->start, until = invt_now_ms() + READ_LIMIT_MS;
    for (int k = 0; r->g.n < expected() && invt_now_ms() < until; k++)
        if (list_page(k % 2, &cursor, PAGE, a, &r->g) == 0)
            invt_sleep_ms(5);
    sl_arena_destroy(a);
    return NULL;
}

static void test_concurrent_writers_every_reader_gets_each_once_in_id_order(void **state)
{
    (void)state;
    /* Only what this test writes: the earlier test's notifications are
     * before start. */
    got_free(&F.committed);
    int64_t start = newest_id();
    reader rd[3] = {{.name = "WatchNotifications on replica 0", .replica = 0, .start = start},
                    {.name = "WatchNotifications resumed on the other replica",
                     .replica = 1,
                     .start = start,
                     .resume_after = WRITERS * TX_PER_WRITER / 3},
                    {.name = "ListNotifications pages", .start = start}};
    pthread_t rt[3], wt[WRITERS];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&rt[i], NULL, i < 2 ? stream_reader : pager, &rd[i]), 0);
    for (int t = 0; t < WRITERS; t++)
        assert_int_equal(pthread_create(&wt[t], NULL, writer, (void *)(intptr_t)t), 0);
    for (int t = 0; t < WRITERS; t++)
        assert_int_equal(pthread_join(wt[t], NULL), 0);
    atomic_store(&F.writers_done, true);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(rt[i], NULL), 0);
    check_threads();

    fprintf(stderr, "%zu notifications committed by %d writers (%lld rows written in all)\n",
            F.committed.n, WRITERS,
            invt_sql_int(F.inv.conninfo, "SELECT count(*) FROM service_desk.notification"));
    assert_true(F.committed.n > (size_t)WRITERS * TX_PER_WRITER / 2);
    int bad = 0;
    for (int i = 0; i < 3; i++) {
        bad += check_reader(rd[i].name, &rd[i].g, &F.committed);
        got_free(&rd[i].g);
    }
    assert_int_equal(bad, 0);
    /* Every row written got its id: none is left waiting. */
    assert_int_equal(invt_sql_int(F.inv.conninfo, "SELECT count(*) FROM service_desk.notification"
                                                  " WHERE notification_id IS NULL"),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_late_commit_is_served_in_write_order_not_skipped),
        cmocka_unit_test(test_concurrent_writers_every_reader_gets_each_once_in_id_order),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
