/*
 * Integration tests of real service processes (shelfline-inventory as the
 * example; all four share sl_service): health flipping while PostgreSQL is
 * stopped and started, several replicas migrating one fresh database at
 * once, clean drain on SIGTERM, configuration errors naming the variable,
 * the HTTP face's /metrics (checked by promtool) and its "off".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grpc/health/v1/health.pb-c.h"
#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_client.h"
#include "sl_health.h"
#include "sl_log.h"
#include "sl_test.h"
#include "sl_test_auth.h"
#include "sl_testpg.h"

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts a service binary with the database URL and a free port. */
static pid_t start_service(const char *name, const char *conninfo, int port, const char *extra)
{
    static char env[4][600];
    snprintf(env[0], sizeof env[0], "SHELFLINE_DATABASE_URL=%s", conninfo);
    snprintf(env[1], sizeof env[1], "SHELFLINE_LISTEN=127.0.0.1:%d", port);
    snprintf(env[2], sizeof env[2], "SHELFLINE_HEALTH_INTERVAL=200ms");
    snprintf(env[3], sizeof env[3], "%s", extra != NULL ? extra : "SHELFLINE_LOG_LEVEL=warn");
    char *envp[] = {env[0], env[1], env[2], env[3], NULL};
    char *bin = sl_test_bin(name);
    char *argv[] = {bin, NULL};
    pid_t pid = sl_test_spawn(argv, envp);
    free(bin);
    return pid;
}

static int health(sl_channel *ch, const char *service)
{
    sl_arena *a = sl_arena_create(0);
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    ProtobufCMessage *resp;
    sl_err err;
    sl_call_options o = {.timeout_ms = 2000};
    int r = -1;
    if (sl_client_unary(ch, "/grpc.health.v1.Health/Check", &req.base,
                        &grpc__health__v1__health_check_response__descriptor, a, &resp, &o,
                        &err) == SL_OK)
        r = ((Grpc__Health__V1__HealthCheckResponse *)resp)->status;
    sl_arena_destroy(a);
    return r;
}

static bool wait_health(sl_channel *ch, const char *service, int want, int64_t timeout_ms)
{
    int64_t until = sl_test_now_ms() + timeout_ms;
    while (sl_test_now_ms() < until) {
        if (health(ch, service) == want)
            return true;
        sleep_ms(100);
    }
    return false;
}

/* The private cluster of test_health_follows_database, destroyed by its
 * teardown even when an assertion failed half-way. */
static char private_dir[512];

static void test_health_follows_database(void **state)
{
    (void)state;
    char *dir = private_dir, conninfo[512];
    const char *base = getenv("SHELFLINE_TEST_PG_DIR");
    snprintf(private_dir, sizeof private_dir, "%s-private-%d",
             base != NULL ? base : "/tmp/shelfline-testpg", (int)getpid());
    assert_int_equal(sl_testpg_cluster_start(dir, conninfo, sizeof conninfo), 0);
    int port = sl_test_free_port();
    pid_t pid = start_service("shelfline-inventory", conninfo, port, NULL);
    assert_true(sl_test_wait_child_port(pid, port, 20000));
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    sl_channel *ch;
    sl_err err;
    /* A probe's channel: it must reach the server while it reports
     * NOT_SERVING, which client-side health checking would route around. */
    sl_channel_options probe = {.no_health_check = true};
    assert_int_equal(sl_channel_create(target, &probe, &ch, &err), SL_OK);
    assert_true(wait_health(ch, "", SL_HEALTH_SERVING, 5000));
    assert_true(wait_health(ch, "shelfline.v1.InventoryService", SL_HEALTH_SERVING, 5000));

    /* Watch sees the flips too. */
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = "shelfline.v1.InventoryService";
    sl_client_stream *w;
    assert_int_equal(sl_client_stream_open(ch, "/grpc.health.v1.Health/Watch", &req.base,
                                           &grpc__health__v1__health_check_response__descriptor,
                                           NULL, &w, &err),
                     SL_OK);
    sl_arena *a = sl_arena_create(0);
    ProtobufCMessage *m;
    assert_int_equal(sl_client_stream_next(w, a, &m, 5000, NULL, &err), SL_OK);
    assert_int_equal(((Grpc__Health__V1__HealthCheckResponse *)m)->status, SL_HEALTH_SERVING);

    assert_int_equal(sl_testpg_cluster_stop(dir), 0);
    assert_true(wait_health(ch, "", SL_HEALTH_NOT_SERVING, 10000));
    assert_true(wait_health(ch, "shelfline.v1.InventoryService", SL_HEALTH_NOT_SERVING, 5000));
    /* Liveness ignores the database: no restart storm during a fail-over. */
    assert_int_equal(health(ch, SL_HEALTH_LIVENESS), SL_HEALTH_SERVING);
    assert_int_equal(sl_client_stream_next(w, a, &m, 5000, NULL, &err), SL_OK);
    assert_int_equal(((Grpc__Health__V1__HealthCheckResponse *)m)->status, SL_HEALTH_NOT_SERVING);

    assert_int_equal(sl_testpg_cluster_start_again(dir), 0);
    assert_true(wait_health(ch, "", SL_HEALTH_SERVING, 15000));
    assert_int_equal(sl_client_stream_next(w, a, &m, 5000, NULL, &err), SL_OK);
    assert_int_equal(((Grpc__Health__V1__HealthCheckResponse *)m)->status, SL_HEALTH_SERVING);
    sl_client_stream_close(w);
    sl_arena_destroy(a);

    /* SIGTERM: drains and exits 0. */
    int status = sl_test_stop(pid, SIGTERM, 30000);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    sl_channel_destroy(ch);
}

static int destroy_private_cluster(void **state)
{
    (void)state;
    sl_test_kill_all();
    if (private_dir[0] != '\0')
        sl_testpg_cluster_destroy(private_dir);
    return 0;
}

static void test_replicas_migrate_together(void **state)
{
    (void)state;
    char conninfo[512];
    assert_int_equal(sl_testpg_fresh_db("replicas", conninfo, sizeof conninfo), 0);
    enum { N = 4 };
    const char *bins[N] = {"shelfline-inventory", "shelfline-inventory", "shelfline-service-desk",
                           "shelfline-service-desk"};
    pid_t pids[N];
    int ports[N];
    for (int i = 0; i < N; i++) {
        ports[i] = sl_test_free_port();
        pids[i] = start_service(bins[i], conninfo, ports[i], NULL);
    }
    for (int i = 0; i < N; i++) {
        assert_true(sl_test_wait_child_port(pids[i], ports[i], 30000));
        char target[64];
        snprintf(target, sizeof target, "127.0.0.1:%d", ports[i]);
        sl_channel *ch;
        sl_err err;
        assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);
        /* Generous: four processes start at once, under the sanitizers and
         * beside other tests in CI (10 s was once too short there). */
        bool serving = wait_health(ch, "", SL_HEALTH_SERVING, 30000);
        sl_channel_destroy(ch);
        assert_true(serving);
    }
    for (int i = 0; i < N; i++) {
        int status = sl_test_stop(pids[i], SIGTERM, 30000);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    /* Each schema's migrations were recorded exactly once. */
    PGconn *c = PQconnectdb(conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    const char *sql[] = {
        "SELECT count(*) - count(DISTINCT (component, version)), count(*) "
        "FROM inventory.schema_migrations",
        "SELECT count(*) - count(DISTINCT (component, version)), count(*) "
        "FROM service_desk.schema_migrations",
    };
    for (int i = 0; i < 2; i++) {
        PGresult *r = PQexec(c, sql[i]);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(r, 0, 0), "0"); /* no version twice */
        assert_true(atoi(PQgetvalue(r, 0, 1)) >= 2);   /* the outbox and cursor tables */
        PQclear(r);
    }
    PQfinish(c);
    sl_testpg_drop_db("replicas");
}

static void test_bad_configuration_names_variable(void **state)
{
    (void)state;
    /* A peer's target is read by the services that call it (inventory
     * calls none; forecasting calls inventory). */
    const char *cases[][3] = {
        {"SHELFLINE_LISTEN=nowhere", "SHELFLINE_LISTEN", "shelfline-inventory"},
        {"SHELFLINE_WORKERS=lots", "SHELFLINE_WORKERS", "shelfline-inventory"},
        {"SHELFLINE_DRAIN_GRACE=soon", "SHELFLINE_DRAIN_GRACE", "shelfline-inventory"},
        {"SHELFLINE_INVENTORY_ADDR=:1", "SHELFLINE_INVENTORY_ADDR", "shelfline-forecasting"},
        {"SHELFLINE_HTTP_LISTEN=8051", "SHELFLINE_HTTP_LISTEN", "shelfline-service-desk"},
        {"SHELFLINE_DRAIN_DELAY=later", "SHELFLINE_DRAIN_DELAY", "shelfline-inventory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        if (pid == 0) {
            dup2(fds[1], 2);
            close(fds[0]);
            putenv((char *)cases[i][0]);
            char *bin = sl_test_bin(cases[i][2]);
            execl(bin, bin, (char *)NULL);
            _exit(127);
        }
        close(fds[1]);
        char out[2048];
        ssize_t n, len = 0;
        while ((n = read(fds[0], out + len, sizeof out - 1 - (size_t)len)) > 0)
            len += n;
        out[len] = '\0';
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 2);
        assert_non_null(strstr(out, cases[i][1]));
    }
}

/* With a JWT key configured, calls need a token signed by its private
 * key with a role of the method (WatchEvents: service); health probes
 * never do.  A refusal says why. */
static void test_auth_token(void **state)
{
    (void)state;
    sl_test_keys keys, other;
    assert_int_equal(sl_test_keys_make(&keys), 0);
    assert_int_equal(sl_test_keys_make(&other), 0);
    char conninfo[512];
    assert_int_equal(sl_testpg_fresh_db("auth", conninfo, sizeof conninfo), 0);
    int port = sl_test_free_port();
    pid_t pid = start_service("shelfline-inventory", conninfo, port, keys.public_env);
    assert_true(sl_test_wait_child_port(pid, port, 20000));
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    sl_channel *ch;
    sl_err err;
    assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);
    /* Health without any credentials (kubelet probes). */
    assert_true(wait_health(ch, "", SL_HEALTH_SERVING, 5000));
    sl_arena *a = sl_arena_create(0);
    Shelfline__V1__WatchEventsRequest req = SHELFLINE__V1__WATCH_EVENTS_REQUEST__INIT;
    int64_t now = (int64_t)time(NULL);
    char *tok[] = {
        NULL,
        strdup("Bearer wrong"),
        sl_test_bearer(&other, "forger", "service"),
        sl_test_bearer_at(&keys, "late", "service", NULL, 0, now - 120),
        sl_test_bearer_at(&keys, "elsewhere", "service", "another-suite", 0, now + 600),
        sl_test_bearer(&keys, "cs-tool", "cs-agent"),
        sl_test_bearer(&keys, "service-desk", "service"),
    };
    sl_status want[] = {SL_UNAUTHENTICATED,
                        SL_UNAUTHENTICATED,
                        SL_UNAUTHENTICATED,
                        SL_UNAUTHENTICATED,
                        SL_UNAUTHENTICATED,
                        SL_PERMISSION_DENIED,
                        SL_OK};
    const char *why[] = {"missing credentials",
                         "malformed bearer token",
                         "signature does not verify",
                         "expired",
                         "audience",
                         "needs role service; \"cs-tool\" has cs-agent",
                         NULL};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_true(i == 0 || tok[i] != NULL);
        sl_call_options o = {.authorization = tok[i]};
        sl_client_stream *s;
        assert_int_equal(sl_client_stream_open(ch, "/shelfline.v1.InventoryService/WatchEvents",
                                               &req.base, &shelfline__v1__event__descriptor, &o, &s,
                                               &err),
                         SL_OK);
        ProtobufCMessage *m;
        bool timed_out = false;
        sl_status st = sl_client_stream_next(s, a, &m, 300, &timed_out, &err);
        if (want[i] == SL_OK) {
            /* Accepted: an empty feed waits for events. */
            assert_int_equal(st, SL_OK);
            assert_true(timed_out);
        } else {
            assert_int_equal(st, want[i]);
            if (strstr(err.msg, why[i]) == NULL)
                fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err.msg, why[i]);
        }
        sl_client_stream_close(s);
        free(tok[i]);
    }
    sl_arena_destroy(a);
    sl_channel_destroy(ch);
    int status = sl_test_stop(pid, SIGTERM, 30000);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    sl_testpg_drop_db("auth");
    sl_test_keys_remove(&keys);
    sl_test_keys_remove(&other);
}

/* Runs name with env (NULL-terminated) added, its stdout and stderr into
 * out (cap bytes, terminated) until it exits or timeout_ms passes (then it
 * is stopped with SIGTERM); returns its waitpid status. */
static int run_captured(const char *name, char *const env[], int64_t timeout_ms, char *out,
                        size_t cap)
{
    char path[] = "/tmp/shelfline-run-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        for (size_t i = 0; env[i] != NULL; i++)
            putenv(env[i]);
        char *bin = sl_test_bin(name);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    int64_t until = sl_test_now_ms() + timeout_ms;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (sl_test_now_ms() >= until) {
            kill(pid, SIGTERM);
            waitpid(pid, &status, 0);
            break;
        }
        sleep_ms(50);
    }
    ssize_t n = pread(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return status;
}

/* Fail closed: with neither a JWT key nor SHELFLINE_AUTH=none the service
 * refuses to start, saying what to set; with SHELFLINE_AUTH=none it
 * serves, and warns at every start. */
static void test_no_authentication_fails_closed(void **state)
{
    (void)state;
    char conninfo[512], db[600], listen[64], out[8192];
    assert_int_equal(sl_testpg_fresh_db("closed", conninfo, sizeof conninfo), 0);
    snprintf(db, sizeof db, "SHELFLINE_DATABASE_URL=%s", conninfo);
    char *refused[] = {db, "SHELFLINE_AUTH=", "SHELFLINE_JWT_PUBLIC_KEY_FILE=",
                       "SHELFLINE_LISTEN=127.0.0.1:1", NULL};
    int status = run_captured("shelfline-inventory", refused, 20000, out, sizeof out);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    if (strstr(out, "no authentication configured: set SHELFLINE_JWT_PUBLIC_KEY_FILE") == NULL)
        fail_msg("refusal does not say what to set: %s", out);
    for (int start = 0; start < 2; start++) {
        snprintf(listen, sizeof listen, "SHELFLINE_LISTEN=127.0.0.1:%d", sl_test_free_port());
        char *open_env[] = {db, "SHELFLINE_AUTH=none", listen, "SHELFLINE_LOG_LEVEL=info", NULL};
        /* It runs until stopped: 3 s is long enough to log its start. */
        status = run_captured("shelfline-inventory", open_env, 3000, out, sizeof out);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        const char *warn = strstr(out, "SHELFLINE_AUTH=none: serving every caller unauthenticated");
        if (warn == NULL)
            fail_msg("start %d logged no warning: %s", start, out);
        /* On the warning's own JSON line, at level warn. */
        const char *line = warn;
        while (line > out && line[-1] != '\n')
            line--;
        assert_non_null(strstr(line, "\"level\":\"warn\""));
    }
    sl_testpg_drop_db("closed");
}

/* After a failed assertion, leave no service process behind. */
static int kill_children(void **state)
{
    (void)state;
    sl_test_kill_all();
    return 0;
}

static void test_metrics_endpoint(void **state)
{
    (void)state;
    char conninfo[512];
    assert_int_equal(sl_testpg_fresh_db("metrics", conninfo, sizeof conninfo), 0);
    int port = sl_test_free_port(), http_port = sl_test_free_port();
    char http_env[64];
    snprintf(http_env, sizeof http_env, "SHELFLINE_HTTP_LISTEN=127.0.0.1:%d", http_port);
    pid_t pid = start_service("shelfline-inventory", conninfo, port, http_env);
    assert_true(sl_test_wait_child_port(pid, port, 30000));
    assert_true(sl_test_wait_port(http_port, 10000));

    /* Two calls: one answered NOT_FOUND, one refused INVALID_ARGUMENT
     * before any handler ran. */
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    sl_channel *ch;
    sl_err err;
    assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);
    sl_arena *a = sl_arena_create(0);
    Shelfline__V1__GetProductRequest q = SHELFLINE__V1__GET_PRODUCT_REQUEST__INIT;
    q.sku = "NO-SUCH-SKU";
    ProtobufCMessage *resp;
    assert_int_equal(sl_client_unary(ch, "/shelfline.v1.InventoryService/GetProduct", &q.base,
                                     &shelfline__v1__product__descriptor, a, &resp, NULL, &err),
                     SL_NOT_FOUND);
    q.sku = "bad sku with spaces";
    assert_int_equal(sl_client_unary(ch, "/shelfline.v1.InventoryService/GetProduct", &q.base,
                                     &shelfline__v1__product__descriptor, a, &resp, NULL, &err),
                     SL_INVALID_ARGUMENT);
    sl_arena_destroy(a);
    sl_channel_destroy(ch);

    char *r = sl_test_http_get(http_port, "/metrics");
    assert_non_null(r);
    const char *lab = "{grpc_type=\"unary\",grpc_service=\"shelfline.v1.InventoryService\","
                      "grpc_method=\"GetProduct\"";
    char want[512];
    const char *series[][2] = {
        {"grpc_server_started_total", "} 2\n"},
        {"grpc_server_msg_received_total", "} 2\n"},
        {"grpc_server_msg_sent_total", "} 0\n"},
        {"grpc_server_handled_total", ",grpc_code=\"NOT_FOUND\"} 1\n"},
        {"grpc_server_handled_total", ",grpc_code=\"INVALID_ARGUMENT\"} 1\n"},
        {"grpc_server_handling_seconds_count", "} 2\n"},
    };
    for (size_t i = 0; i < sizeof series / sizeof series[0]; i++) {
        snprintf(want, sizeof want, "\n%s%s%s", series[i][0], lab, series[i][1]);
        if (strstr(r, want) == NULL)
            fprintf(stderr, "missing %s", want + 1);
        assert_non_null(strstr(r, want));
    }
    assert_null(strstr(r, "grpc_method=\"GetProduct\",grpc_code=\"OK\""));
    assert_non_null(strstr(r, "HTTP/1.1 200"));
    assert_non_null(strstr(r, "text/plain; version=0.0.4"));
    assert_non_null(strstr(r, "\nshelfline_build_info{service=\"inventory\",version=\""));
    assert_non_null(strstr(r, "\nprocess_resident_memory_bytes "));
    assert_non_null(strstr(r, "\nprocess_open_fds "));
    /* Health: serving, after exactly one change (NOT_SERVING at start-up,
     * then SERVING once migrated and listening). */
    assert_true(sl_test_metric(r, "shelfline_health_serving{service=\"\"}") == 1);
    assert_true(sl_test_metric(r, "shelfline_health_serving{service=\"liveness\"}") == 1);
    assert_true(sl_test_metric(r, "shelfline_health_changes_total{service=\"\"}") == 1);
    /* Prometheus's linter over the body. */
    assert_int_equal(sl_test_promtool_check(r), 0);
    free(r);

    r = sl_test_http_get(http_port, "/nothing");
    assert_non_null(strstr(r, "HTTP/1.1 404"));
    free(r);
    int status = sl_test_stop(pid, SIGTERM, 30000);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* "off": no HTTP port at all. */
    port = sl_test_free_port();
    pid = start_service("shelfline-inventory", conninfo, port, "SHELFLINE_HTTP_LISTEN=off");
    assert_true(sl_test_wait_child_port(pid, port, 30000));
    assert_null(sl_test_http_get(http_port, "/metrics"));
    status = sl_test_stop(pid, SIGTERM, 30000);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    sl_testpg_drop_db("metrics");
}

int main(void)
{
    sl_log_init("test-service-process", SL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_configuration_names_variable),
        cmocka_unit_test_teardown(test_metrics_endpoint, kill_children),
        cmocka_unit_test_teardown(test_replicas_migrate_together, kill_children),
        cmocka_unit_test_teardown(test_auth_token, kill_children),
        cmocka_unit_test_teardown(test_no_authentication_fails_closed, kill_children),
        cmocka_unit_test_teardown(test_health_follows_database, destroy_private_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
