/*
 * sl_metrics and sl_http: the exposition format (checked by Prometheus's
 * own promtool as well as line by line), lock-free updates that lose
 * nothing under threads, registration rules; and the HTTP face over a
 * real socket: routes, 404, 405 with Allow, 413 before a handler sees an
 * oversized body, bad listen addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sl_http.h"
#include "sl_metrics.h"
#include "sl_test.h"

/* ---- metrics ---- */

static void test_register_and_render(void **state)
{
    (void)state;
    sl_metric *c =
        sl_metric_counter("t_calls_total", "Calls made.", (const char *[]){"method", "code", NULL});
    assert_non_null(c);
    /* Same name, same shape: the same family; another shape: refused. */
    assert_ptr_equal(
        sl_metric_counter("t_calls_total", "Calls made.", (const char *[]){"method", "code", NULL}),
        c);
    assert_null(sl_metric_gauge("t_calls_total", "x", (const char *[]){"method", "code", NULL}));
    assert_null(sl_metric_counter("t_calls_total", "x", (const char *[]){"method", NULL}));
    assert_null(sl_metric_counter("9bad", "x", NULL));
    assert_null(sl_metric_counter("t_bad_label_total", "x", (const char *[]){"a-b", NULL}));
    assert_null(
        sl_metric_histogram("t_h_le", "x", (const char *[]){"le", NULL}, (const double[]){1}, 1));
    assert_null(sl_metric_histogram("t_h_order", "x", NULL, (const double[]){2, 1}, 2));

    sl_metric_child *ok = sl_metric_with(c, (const char *[]){"Reserve", "OK"});
    assert_ptr_equal(sl_metric_with(c, (const char *[]){"Reserve", "OK"}), ok);
    sl_metric_add(ok, 2);
    sl_metric_add(ok, -5); /* a counter never goes down */
    sl_metric_add(sl_metric_with(c, (const char *[]){"Say \"hi\"\\\n", "OK"}), 1);
    assert_true(sl_metric_value(ok) == 2);

    sl_metric *g = sl_metric_gauge("t_pool_in_use", "Connections in use.", NULL);
    sl_metric_set(sl_metric_with(g, NULL), 3.5);

    sl_metric *h =
        sl_metric_histogram("t_latency_seconds", "Latency.", (const char *[]){"method", NULL},
                            (const double[]){0.01, 0.1}, 2);
    sl_metric_child *hc = sl_metric_with(h, (const char *[]){"Reserve"});
    sl_metric_observe(hc, 0.005);
    sl_metric_observe(hc, 0.01); /* on a bound: that bucket (le is <=) */
    sl_metric_observe(hc, 0.05);
    sl_metric_observe(hc, 7);
    assert_true(sl_metric_value(hc) == 4);

    /* A family with no sample is left out of the exposition. */
    assert_non_null(sl_metric_counter("t_unused_total", "Never used.", NULL));

    size_t len;
    char *text = sl_metrics_render(&len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    const char *want[] = {
        "# HELP t_calls_total Calls made.\n# TYPE t_calls_total counter\n",
        "t_calls_total{method=\"Reserve\",code=\"OK\"} 2\n",
        "t_calls_total{method=\"Say \\\"hi\\\"\\\\\\n\",code=\"OK\"} 1\n",
        "# TYPE t_pool_in_use gauge\nt_pool_in_use 3.5\n",
        "# TYPE t_latency_seconds histogram\n",
        "t_latency_seconds_bucket{method=\"Reserve\",le=\"0.01\"} 2\n",
        "t_latency_seconds_bucket{method=\"Reserve\",le=\"0.1\"} 3\n",
        "t_latency_seconds_bucket{method=\"Reserve\",le=\"+Inf\"} 4\n",
        "t_latency_seconds_sum{method=\"Reserve\"} 7.0650000000000004\n",
        "t_latency_seconds_count{method=\"Reserve\"} 4\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (strstr(text, want[i]) == NULL)
            fprintf(stderr, "missing:\n%s\nin:\n%s\n", want[i], text);
        assert_non_null(strstr(text, want[i]));
    }
    assert_null(strstr(text, "t_unused_total"));
    /* Families come sorted by name. */
    assert_true(strstr(text, "t_calls_total") < strstr(text, "t_latency_seconds"));
    assert_true(strstr(text, "t_latency_seconds") < strstr(text, "t_pool_in_use"));
    free(text);
}

/* A gauge unset leaves the exposition until it is set again; a family
 * whose children are all unset leaves it too; counters ignore unset. */
static void test_unset_gauge_leaves_the_exposition_until_set(void **state)
{
    (void)state;
    sl_metric *g = sl_metric_gauge("t_units", "Units.", (const char *[]){"id", NULL});
    sl_metric_child *a = sl_metric_with(g, (const char *[]){"a"});
    sl_metric_child *b = sl_metric_with(g, (const char *[]){"b"});
    sl_metric_set(a, 1);
    sl_metric_set(b, 2);
    sl_metric_unset(a);
    char *text = sl_metrics_render(NULL);
    assert_non_null(text);
    assert_null(strstr(text, "t_units{id=\"a\"}"));
    assert_non_null(strstr(text, "t_units{id=\"b\"} 2\n"));
    free(text);
    sl_metric_unset(b);
    text = sl_metrics_render(NULL);
    assert_non_null(text);
    assert_null(strstr(text, "t_units"));
    free(text);
    sl_metric_set(a, 5);
    text = sl_metrics_render(NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "# TYPE t_units gauge\nt_units{id=\"a\"} 5\n"));
    assert_null(strstr(text, "t_units{id=\"b\"}"));
    free(text);
    sl_metric_child *c = sl_metric_with(sl_metric_counter("t_unset_total", "Counted.", NULL), NULL);
    sl_metric_add(c, 1);
    sl_metric_unset(c);
    text = sl_metrics_render(NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "t_unset_total 1\n"));
    free(text);
}

typedef struct inc_arg {
    sl_metric *c, *h;
    int id;
} inc_arg;

static void *inc_main(void *p)
{
    inc_arg *a = p;
    char id[8];
    snprintf(id, sizeof id, "%d", a->id % 4);
    for (int i = 0; i < 100000; i++) {
        /* Looked up every time, as a cold path would, and racing the
         * first creation of each child with the other threads. */
        sl_metric_add(sl_metric_with(a->c, (const char *[]){id}), 1);
        sl_metric_observe(sl_metric_with(a->h, NULL), 0.5);
    }
    return NULL;
}

static void test_updates_lose_nothing_under_threads(void **state)
{
    (void)state;
    inc_arg args[8];
    pthread_t th[8];
    sl_metric *c = sl_metric_counter("t_race_total", "Race.", (const char *[]){"id", NULL});
    sl_metric *h = sl_metric_histogram("t_race_seconds", "Race.", NULL, (const double[]){1}, 1);
    for (int i = 0; i < 8; i++) {
        args[i] = (inc_arg){c, h, i};
        pthread_create(&th[i], NULL, inc_main, &args[i]);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "%d", i);
        assert_true(sl_metric_value(sl_metric_with(c, (const char *[]){id})) == 200000);
    }
    assert_true(sl_metric_value(sl_metric_with(h, NULL)) == 800000);
    size_t len;
    char *text = sl_metrics_render(&len);
    assert_non_null(strstr(text, "t_race_seconds_sum 400000\n"));
    /* Exactly four children: no duplicate made by the creation race. */
    int n = 0;
    for (const char *p = text; (p = strstr(p, "t_race_total{")) != NULL; p++)
        n++;
    assert_int_equal(n, 4);
    free(text);
}

static void test_process_metrics_pass_promtool(void **state)
{
    (void)state;
    sl_metrics_process("test", "0.1.0", "abc123");
    size_t len;
    char *text = sl_metrics_render(&len);
    assert_non_null(strstr(text, "shelfline_build_info{service=\"test\",version=\"0.1.0\","
                                 "commit=\"abc123\"} 1\n"));
    const char *names[] = {"\nprocess_cpu_seconds_total ",
                           "\nprocess_resident_memory_bytes ",
                           "\nprocess_virtual_memory_bytes ",
                           "\nprocess_open_fds ",
                           "\nprocess_max_fds ",
                           "\nprocess_threads ",
                           "\nprocess_start_time_seconds "};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *line = strstr(text, names[i]);
        assert_non_null(line);
        double v = strtod(line + strlen(names[i]), NULL);
        if (i > 0 && !(v > 0)) { /* CPU time may still read 0 */
            fprintf(stderr, "%s%g\n", names[i] + 1, v);
            fail();
        }
    }
    /* Prometheus's own linter over the whole exposition. */
    char path[] = "/tmp/sl_metrics_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s", path);
    int rc = system(cmd);
    unlink(path);
    free(text);
    assert_int_equal(rc, 0);
}

/* ---- HTTP ---- */

static void echo(void *ctx, const sl_http_request *req, sl_http_response *resp)
{
    (*(int *)ctx)++;
    resp->status = 201;
    resp->content_type = "application/octet-stream";
    resp->body = malloc(req->body_len + 1);
    memcpy(resp->body, req->body != NULL ? req->body : "", req->body_len);
    resp->body_len = req->body_len;
}

static void hello(void *ctx, const sl_http_request *req, sl_http_response *resp)
{
    (void)ctx;
    const char *agent = sl_http_header(req, "X-Test");
    char msg[128];
    snprintf(msg, sizeof msg, "hello %s %s", req->path, agent != NULL ? agent : "-");
    sl_http_text(resp, 200, NULL, msg);
}

static void test_http_routes(void **state)
{
    (void)state;
    sl_http *h;
    sl_err err;
    int echoed = 0;
    sl_http_options o = {.max_body_bytes = 1000};
    assert_int_equal(sl_http_create("127.0.0.1:0", &o, &h, &err), SL_OK);
    assert_int_equal(sl_http_route(h, "POST", "/echo", false, echo, &echoed, &err), SL_OK);
    assert_int_equal(sl_http_route(h, "GET", "/hello/", true, hello, NULL, &err), SL_OK);
    assert_int_equal(sl_http_start(h, &err), SL_OK);
    assert_int_equal(sl_http_route(h, "GET", "/late", false, hello, NULL, &err),
                     SL_FAILED_PRECONDITION);
    int port = sl_http_port(h);
    assert_true(port > 0);

    char *r = sl_test_http(
        port, "GET /hello/world HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nConnection: close\r\n\r\n",
        NULL, 0);
    assert_non_null(r);
    assert_non_null(strstr(r, "HTTP/1.1 200"));
    assert_non_null(strstr(r, "text/plain; charset=utf-8"));
    assert_non_null(strstr(r, "\r\n\r\nhello /hello/world yes"));
    free(r);

    r = sl_test_http(
        port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: close\r\n\r\n",
        "hello\0world", 11);
    assert_non_null(strstr(r, "HTTP/1.1 201"));
    assert_memory_equal(strstr(r, "\r\n\r\n") + 4, "hello\0world", 11);
    free(r);
    assert_int_equal(echoed, 1);

    r = sl_test_http(port, "GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NULL,
                     0);
    assert_non_null(strstr(r, "HTTP/1.1 404"));
    free(r);

    r = sl_test_http(port, "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NULL, 0);
    assert_non_null(strstr(r, "HTTP/1.1 405"));
    assert_non_null(strstr(r, "Allow: POST"));
    free(r);

    /* Over the limit: 413, and the handler never ran. */
    char big[5000];
    memset(big, 'x', sizeof big);
    r = sl_test_http(
        port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n",
        big, sizeof big);
    assert_non_null(strstr(r, "HTTP/1.1 413"));
    free(r);
    assert_int_equal(echoed, 1);

    /* The port is taken: the second server says so. */
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    sl_http *h2;
    assert_int_equal(sl_http_create(addr, NULL, &h2, &err), SL_OK);
    assert_int_equal(sl_http_start(h2, &err), SL_UNAVAILABLE);
    assert_non_null(strstr(err.msg, addr));
    sl_http_destroy(h2);
    sl_http_destroy(h);
}

static void test_http_bad_listen(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "8051", ":8051", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:80x", "no such host!:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_http *h = NULL;
        sl_err err;
        assert_int_equal(sl_http_create(bad[i], NULL, &h, &err), SL_INVALID_ARGUMENT);
        assert_null(h);
        assert_non_null(strstr(err.msg, "HTTP listen address"));
    }
    sl_http *h;
    sl_err err;
    assert_int_equal(sl_http_create("[::1]:0", NULL, &h, &err), SL_OK);
    sl_http_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_and_render),
        cmocka_unit_test(test_unset_gauge_leaves_the_exposition_until_set),
        cmocka_unit_test(test_updates_lose_nothing_under_threads),
        cmocka_unit_test(test_process_metrics_pass_promtool),
        cmocka_unit_test(test_http_routes),
        cmocka_unit_test(test_http_bad_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
