/*
 * Integration tests of the event feed end to end: events published in
 * transactions (sl_events_publish), served by WatchEvents over real gRPC
 * (sl_events_watch), followed live (LISTEN/NOTIFY), and consumed by
 * replicas of a consumer (sl_consumer) with a durable cursor and takeover.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shelfline/test/feed.pb-c.h"
#include "shelfline/v1/common.pb-c.h"
#include "sl_client.h"
#include "sl_consumer.h"
#include "sl_events.h"
#include "sl_log.h"
#include "sl_migrate.h"
#include "sl_server.h"
#include "sl_test.h"
#include "sl_testpg.h"

static const sl_event_topic topics[] = {
    {"TICK", &shelfline__test__tick__descriptor},
    {"TOCK", &shelfline__test__tick__descriptor},
    {NULL, NULL},
};

static const sl_migration no_migrations[] = {{0, NULL, NULL}};

typedef struct fixture {
    char conninfo[512];
    sl_db *db;
    sl_events *events;
    sl_server *srv;
    sl_channel *ch;
    sl_arena *arena;
} fixture;

static sl_status t_watch(sl_call *call, const ProtobufCMessage *req, sl_err *err)
{
    return sl_events_watch(sl_call_ctx(call), call, req, err);
}

static const sl_method feed_methods[] = {
    {"/shelfline.test.FeedTest/WatchEvents", SL_RPC_SERVER_STREAMING,
     &shelfline__v1__watch_events_request__descriptor, &shelfline__v1__event__descriptor, NULL,
     t_watch},
};
static sl_service_def feed_def = {
    .descriptor = &shelfline__test__feed_test__descriptor,
    .methods = feed_methods,
    .n_methods = 1,
};

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(sl_testpg_fresh_db("events", f->conninfo, sizeof f->conninfo), 0);
    sl_err err;
    sl_db_options o = {.conninfo = f->conninfo, .schema = "feed", .pool_size = 24};
    assert_int_equal(sl_db_open(&o, &f->db, &err), SL_OK);
    assert_int_equal(sl_migrate_apply(f->db, no_migrations, &err), SL_OK);
    assert_int_equal(sl_events_create(f->db, topics, &f->events, &err), SL_OK);
    sl_server_options so = {.listen = "127.0.0.1:0", .workers = 2};
    assert_int_equal(sl_server_create(&so, &f->srv, &err), SL_OK);
    feed_def.ctx = f->events;
    assert_int_equal(sl_server_add_service(f->srv, &feed_def, &err), SL_OK);
    assert_int_equal(sl_server_start(f->srv, &err), SL_OK);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", sl_server_port(f->srv));
    assert_int_equal(sl_channel_create(target, NULL, &f->ch, &err), SL_OK);
    f->arena = sl_arena_create(0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sl_channel_destroy(f->ch);
    sl_server_destroy(f->srv);
    sl_events_destroy(f->events);
    sl_db_close(f->db);
    sl_arena_destroy(f->arena);
    sl_testpg_drop_db("events");
    free(f);
    return 0;
}

typedef struct pub_ctx {
    sl_events *events;
    const char *topic;
    int writer, seq, count;
    int64_t hold_ms; /* sleep inside the transaction, after publishing */
    bool rollback;
} pub_ctx;

static sl_status pub_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    pub_ctx *c = p;
    for (int i = 0; i < c->count; i++) {
        Shelfline__Test__Tick t = SHELFLINE__TEST__TICK__INIT;
        t.writer = c->writer;
        t.seq = c->seq + i;
        char key[32];
        snprintf(key, sizeof key, "w%d", c->writer);
        sl_status st = sl_events_publish(c->events, conn, c->topic, key, &t.base, err);
        if (st != SL_OK)
            return st;
    }
    if (c->hold_ms > 0)
        sleep_ms(c->hold_ms);
    if (c->rollback)
        return sl_err_set(err, SL_ABORTED, "rolled back on purpose");
    return SL_OK;
}

static void publish(fixture *f, const char *topic, int writer, int seq, int count)
{
    pub_ctx c = {f->events, topic, writer, seq, count, 0, false};
    sl_err err;
    assert_int_equal(sl_db_tx(f->db, NULL, pub_tx, &c, &err), SL_OK);
}

static sl_client_stream *watch(fixture *f, int64_t after, const char **tps, size_t ntps)
{
    Shelfline__V1__WatchEventsRequest req = SHELFLINE__V1__WATCH_EVENTS_REQUEST__INIT;
    req.after_id = after;
    req.topics = (char **)tps;
    req.n_topics = ntps;
    sl_client_stream *s;
    sl_err err;
    assert_int_equal(sl_client_stream_open(f->ch, "/shelfline.test.FeedTest/WatchEvents", &req.base,
                                           &shelfline__v1__event__descriptor, NULL, &s, &err),
                     SL_OK);
    return s;
}

static Shelfline__V1__Event *next_event(fixture *f, sl_client_stream *s, int64_t timeout_ms)
{
    ProtobufCMessage *m = NULL;
    bool timed_out;
    sl_err err;
    sl_status st = sl_client_stream_next(s, f->arena, &m, timeout_ms, &timed_out, &err);
    assert_int_equal(st, SL_OK);
    return (Shelfline__V1__Event *)m;
}

static void test_replay_then_live(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 10; i++)
        publish(f, "TICK", 1, i * 10, 10);
    sl_client_stream *s = watch(f, 0, NULL, 0);
    for (int i = 1; i <= 100; i++) {
        Shelfline__V1__Event *e = next_event(f, s, 5000);
        assert_non_null(e);
        assert_int_equal(e->id, i);
        assert_string_equal(e->topic, "TICK");
        assert_string_equal(e->key, "w1");
        assert_string_equal(e->payload_type, "shelfline.test.Tick");
        Shelfline__Test__Tick *t =
            shelfline__test__tick__unpack(NULL, e->payload.len, e->payload.data);
        assert_non_null(t);
        assert_int_equal(t->seq, i - 1);
        shelfline__test__tick__free_unpacked(t, NULL);
        assert_true(e->created_at_ms > 0);
    }
    /* Caught up: nothing more until something commits. */
    assert_null(next_event(f, s, 200));
    /* Live: each new event arrives promptly (woken, not polled). */
    for (int i = 0; i < 20; i++) {
        int64_t t0 = sl_test_now_ms();
        publish(f, "TICK", 2, i, 1);
        Shelfline__V1__Event *e = next_event(f, s, 5000);
        assert_non_null(e);
        assert_int_equal(e->id, 101 + i);
        assert_true(sl_test_now_ms() - t0 < 900);
    }
    sl_client_stream_close(s);
    /* Resume from any cursor: exactly the suffix. */
    s = watch(f, 115, NULL, 0);
    for (int i = 116; i <= 120; i++) {
        Shelfline__V1__Event *e = next_event(f, s, 5000);
        assert_non_null(e);
        assert_int_equal(e->id, i);
    }
    assert_null(next_event(f, s, 200));
    sl_client_stream_close(s);
}

static void test_topic_filter_and_validation(void **state)
{
    fixture *f = *state;
    publish(f, "TICK", 1, 0, 3);
    publish(f, "TOCK", 1, 3, 2);
    publish(f, "TICK", 1, 5, 1);
    const char *only_tock[] = {"TOCK"};
    sl_client_stream *s = watch(f, 0, only_tock, 1);
    Shelfline__V1__Event *e = next_event(f, s, 5000);
    assert_int_equal(e->id, 4);
    e = next_event(f, s, 5000);
    assert_int_equal(e->id, 5);
    assert_string_equal(e->topic, "TOCK");
    assert_null(next_event(f, s, 200));
    sl_client_stream_close(s);

    struct {
        int64_t after;
        const char *topic;
        sl_status want;
        const char *field;
    } bad[] = {
        {-1, NULL, SL_INVALID_ARGUMENT, "after_id"},
        {0, "NOPE", SL_INVALID_ARGUMENT, "topics[0]"},
        {1000, NULL, SL_OUT_OF_RANGE, "after_id"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *t[] = {bad[i].topic};
        s = watch(f, bad[i].after, t, bad[i].topic != NULL ? 1 : 0);
        ProtobufCMessage *m;
        sl_err err;
        assert_int_equal(sl_client_stream_next(s, f->arena, &m, 5000, NULL, &err), bad[i].want);
        assert_non_null(strstr(err.msg, bad[i].field));
        sl_client_stream_close(s);
    }
}

typedef struct writer_arg {
    fixture *f;
    int writer;
    int txs;
    atomic_int *committed;
    atomic_int *finished;
} writer_arg;

static void *writer_main(void *p)
{
    writer_arg *w = p;
    unsigned seed = (unsigned)w->writer * 7919u;
    for (int i = 0; i < w->txs; i++) {
        pub_ctx c = {w->f->events,
                     "TICK",
                     w->writer,
                     i * 3,
                     1 + rand_r(&seed) % 3,
                     rand_r(&seed) % 15,
                     rand_r(&seed) % 5 == 0};
        sl_err err;
        sl_status st = sl_db_tx(w->f->db, NULL, pub_tx, &c, &err);
        if (st == SL_OK)
            atomic_fetch_add(w->committed, c.count);
    }
    atomic_fetch_add(w->finished, 1);
    return NULL;
}

/* The cursor must never skip an event: many writers hold their
 * transactions open for random times after taking sequence numbers, some
 * roll back, while a stream follows live.  Every committed event arrives
 * once, with dense ids. */
static void test_no_loss_with_concurrent_writers(void **state)
{
    fixture *f = *state;
    enum { WRITERS = 16, TXS = 40 };
    sl_client_stream *s = watch(f, 0, NULL, 0);
    atomic_int committed = 0, finished = 0;
    pthread_t t[WRITERS];
    writer_arg args[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (writer_arg){f, i + 1, TXS, &committed, &finished};
        pthread_create(&t[i], NULL, writer_main, &args[i]);
    }
    /* seen[writer][seq] counts deliveries of each event. */
    static unsigned char seen[WRITERS + 1][TXS * 3 + 3];
    memset(seen, 0, sizeof seen);
    int64_t expect_id = 1;
    int received = 0;
    int64_t quiet_since = 0;
    for (;;) {
        Shelfline__V1__Event *e = next_event(f, s, 300);
        if (e == NULL) {
            if (atomic_load(&finished) == WRITERS && received == atomic_load(&committed)) {
                if (quiet_since == 0)
                    quiet_since = sl_test_now_ms();
                if (sl_test_now_ms() - quiet_since > 500)
                    break;
            }
            continue;
        }
        assert_int_equal(e->id, expect_id);
        expect_id++;
        Shelfline__Test__Tick *tk =
            shelfline__test__tick__unpack(NULL, e->payload.len, e->payload.data);
        assert_non_null(tk);
        assert_true(tk->writer >= 1 && tk->writer <= WRITERS);
        seen[tk->writer][tk->seq]++;
        assert_int_equal(seen[tk->writer][tk->seq], 1);
        shelfline__test__tick__free_unpacked(tk, NULL);
        received++;
        sl_arena_reset(f->arena);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(received, atomic_load(&committed));
    assert_true(received > WRITERS * TXS / 2);
    sl_client_stream_close(s);
    /* A second reader from scratch sees exactly the same log. */
    s = watch(f, 0, NULL, 0);
    for (int i = 1; i <= received; i++) {
        Shelfline__V1__Event *e = next_event(f, s, 5000);
        assert_non_null(e);
        assert_int_equal(e->id, i);
        sl_arena_reset(f->arena);
    }
    assert_null(next_event(f, s, 200));
    sl_client_stream_close(s);
}

/* ---- consumer ---- */

typedef struct sink {
    char conninfo[512];
} sink;

static sl_status apply_event(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx,
                             sl_err *err)
{
    (void)ctx;
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)ev->id);
    const char *v[] = {id};
    return sl_db_exec(conn, "t_apply", 1, v, NULL, NULL, NULL, err);
}

static const sl_db_stmt sink_stmts[] = {
    {"t_apply",
     "INSERT INTO applied (event_id, n) VALUES ($1::bigint, 1) "
     "ON CONFLICT (event_id) DO UPDATE SET n = applied.n + 1",
     1},
    {NULL, NULL, 0},
};

static const sl_migration sink_migrations[] = {
    {1, "0001_applied.sql", "CREATE TABLE applied (event_id bigint PRIMARY KEY, n int NOT NULL);"},
    {0, NULL, NULL},
};

static void query_int(const char *conninfo, const char *sql, long long *out)
{
    PGconn *c = PQconnectdb(conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    *out = PQgetisnull(r, 0, 0) ? -1 : atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
}

static void test_consumer_takeover_exactly_once(void **state)
{
    fixture *f = *state;
    sl_err err;
    /* Two replicas of a consumer: separate pools on the consumer's schema. */
    sl_db *db[2];
    sl_consumer *c[2];
    for (int i = 0; i < 2; i++) {
        sl_db_options o = {.conninfo = f->conninfo, .schema = "sink", .pool_size = 4};
        assert_int_equal(sl_db_open(&o, &db[i], &err), SL_OK);
        assert_int_equal(sl_db_register(db[i], sink_stmts, &err), SL_OK);
        assert_int_equal(sl_migrate_apply(db[i], sink_migrations, &err), SL_OK);
        sl_consumer_options co = {
            .subscription = "feed-to-sink",
            .db = db[i],
            .channel = f->ch,
            .method = "/shelfline.test.FeedTest/WatchEvents",
            .fn = apply_event,
            .lock_retry_ms = 200,
        };
        assert_int_equal(sl_consumer_start(&co, &c[i], &err), SL_OK);
    }
    for (int i = 0; i < 10; i++)
        publish(f, "TICK", 1, i * 10, 10);
    int64_t until = sl_test_now_ms() + 10000;
    long long n = 0;
    while (sl_test_now_ms() < until) {
        query_int(f->conninfo, "SELECT count(*) FROM sink.applied", &n);
        if (n == 100)
            break;
        sleep_ms(50);
    }
    assert_int_equal(n, 100);
    assert_true(sl_consumer_active(c[0]) != sl_consumer_active(c[1]));
    int holder = sl_consumer_active(c[0]) ? 0 : 1;

    /* The holder dies while events keep coming; the other takes over. */
    for (int i = 10; i < 15; i++)
        publish(f, "TICK", 1, i * 10, 10);
    sl_consumer_stop(c[holder]);
    c[holder] = NULL;
    for (int i = 15; i < 20; i++)
        publish(f, "TICK", 1, i * 10, 10);
    until = sl_test_now_ms() + 15000;
    while (sl_test_now_ms() < until) {
        query_int(f->conninfo, "SELECT count(*) FROM sink.applied", &n);
        if (n == 200)
            break;
        sleep_ms(50);
    }
    assert_int_equal(n, 200);
    assert_true(sl_consumer_active(c[1 - holder]));
    long long dup, cursor;
    query_int(f->conninfo, "SELECT count(*) FROM sink.applied WHERE n <> 1", &dup);
    assert_int_equal(dup, 0);
    query_int(f->conninfo,
              "SELECT last_id FROM sink.consumer_cursor WHERE subscription = 'feed-to-sink'",
              &cursor);
    assert_int_equal(cursor, 200);

    /* A restarted replica resumes from the durable cursor: nothing again. */
    sl_consumer_stop(c[1 - holder]);
    sl_consumer_options co = {
        .subscription = "feed-to-sink",
        .db = db[holder],
        .channel = f->ch,
        .method = "/shelfline.test.FeedTest/WatchEvents",
        .fn = apply_event,
        .lock_retry_ms = 200,
    };
    sl_consumer *again;
    assert_int_equal(sl_consumer_start(&co, &again, &err), SL_OK);
    publish(f, "TICK", 1, 500, 1);
    until = sl_test_now_ms() + 10000;
    while (sl_test_now_ms() < until) {
        query_int(f->conninfo, "SELECT count(*) FROM sink.applied", &n);
        if (n == 201)
            break;
        sleep_ms(50);
    }
    assert_int_equal(n, 201);
    assert_int_equal(sl_consumer_applied(again), 1);
    query_int(f->conninfo, "SELECT count(*) FROM sink.applied WHERE n <> 1", &dup);
    assert_int_equal(dup, 0);
    sl_consumer_stop(again);
    for (int i = 0; i < 2; i++)
        sl_db_close(db[i]);
}

int main(void)
{
    sl_log_init("test-events", SL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_then_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic_filter_and_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_loss_with_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumer_takeover_exactly_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
