/*
 * Integration tests of sl_server and sl_client over loopback: real gRPC
 * servers and clients, in process (and a real process for the SIGTERM
 * drain).  The service under test is grpc.testing.TestService with handlers
 * defined here, so each behaviour has a precise trigger.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grpc/health/v1/health.pb-c.h"
#include "grpc/testing/empty.pb-c.h"
#include "grpc/testing/messages.pb-c.h"
#include "grpc/testing/test.pb-c.h"
#include "sl_client.h"
#include "sl_log.h"
#include "sl_server.h"
#include "sl_test.h"

static atomic_int active_streams;
static atomic_int streams_finished;

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* UnaryCall: echoes the payload, answers response_status when set, sleeps
 * response_size milliseconds when fill_server_id is set, and returns the
 * request id it saw in username. */
static sl_status t_unary(sl_call *call, const ProtobufCMessage *req_msg, ProtobufCMessage *resp_msg,
                         sl_err *err)
{
    const Grpc__Testing__SimpleRequest *req = (const Grpc__Testing__SimpleRequest *)req_msg;
    Grpc__Testing__SimpleResponse *resp = (Grpc__Testing__SimpleResponse *)resp_msg;
    if (req->response_status != NULL && req->response_status->code != 0)
        return sl_err_set(err, sl_status_from_grpc_code(req->response_status->code), "%s",
                          req->response_status->message);
    if (req->fill_server_id) {
        sleep_ms(req->response_size);
    } else if (req->response_size > 0) {
        Grpc__Testing__Payload *p = sl_arena_alloc(sl_call_arena(call), sizeof *p);
        grpc__testing__payload__init(p);
        p->body.len = (size_t)req->response_size;
        p->body.data = sl_arena_zalloc(sl_call_arena(call), p->body.len);
        resp->payload = p;
    } else if (req->payload != NULL) {
        resp->payload = req->payload; /* the request outlives the reply's packing */
    }
    resp->username = (char *)sl_call_request_id(call);
    resp->hostname = (char *)sl_call_peer(call);
    return SL_OK;
}

/* EmptyCall: counts itself in the service's context when it has one. */
static sl_status t_empty(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                         sl_err *err)
{
    atomic_int *calls = sl_call_ctx(call);
    if (calls != NULL)
        atomic_fetch_add(calls, 1);
    (void)req;
    (void)resp;
    (void)err;
    return SL_OK;
}

/* StreamingOutputCall: sends the requested responses; with none requested,
 * streams until the call is done (cancellation / shutdown tests). */
static sl_status t_stream_out(sl_call *call, const ProtobufCMessage *req_msg, sl_err *err)
{
    const Grpc__Testing__StreamingOutputCallRequest *req =
        (const Grpc__Testing__StreamingOutputCallRequest *)req_msg;
    atomic_fetch_add(&active_streams, 1);
    sl_status st = SL_OK;
    Grpc__Testing__StreamingOutputCallResponse resp =
        GRPC__TESTING__STREAMING_OUTPUT_CALL_RESPONSE__INIT;
    if (req->n_response_parameters == 0) {
        while (!sl_call_done(call) && st == SL_OK) {
            st = sl_call_send(call, &resp.base, err);
            sleep_ms(20);
        }
        if (st == SL_OK)
            st = sl_err_set(err, SL_UNAVAILABLE, "stream ended by the server");
    }
    for (size_t i = 0; i < req->n_response_parameters && st == SL_OK; i++) {
        sleep_ms(req->response_parameters[i]->interval_us / 1000);
        Grpc__Testing__Payload p = GRPC__TESTING__PAYLOAD__INIT;
        p.body.len = (size_t)req->response_parameters[i]->size;
        p.body.data = sl_arena_zalloc(sl_call_arena(call), p.body.len + 1);
        resp.payload = &p;
        st = sl_call_send(call, &resp.base, err);
    }
    atomic_fetch_sub(&active_streams, 1);
    atomic_fetch_add(&streams_finished, 1);
    return st;
}

static sl_status t_stream_in(sl_call *call, const ProtobufCMessage *unused, sl_err *err)
{
    (void)unused;
    int32_t total = 0;
    for (;;) {
        ProtobufCMessage *m;
        sl_status st = sl_call_recv(call, NULL, &m, err);
        if (st != SL_OK)
            return st;
        if (m == NULL)
            break;
        const Grpc__Testing__StreamingInputCallRequest *r =
            (const Grpc__Testing__StreamingInputCallRequest *)m;
        if (r->payload != NULL)
            total += (int32_t)r->payload->body.len;
    }
    Grpc__Testing__StreamingInputCallResponse resp =
        GRPC__TESTING__STREAMING_INPUT_CALL_RESPONSE__INIT;
    resp.aggregated_payload_size = total;
    return sl_call_send(call, &resp.base, err);
}

/* FullDuplexCall: answers each request, as it arrives, with one response
 * per requested ResponseParameters, until the client half-closes. */
static sl_status t_duplex(sl_call *call, const ProtobufCMessage *unused, sl_err *err)
{
    (void)unused;
    for (;;) {
        ProtobufCMessage *m;
        sl_status st = sl_call_recv(call, NULL, &m, err);
        if (st != SL_OK || m == NULL)
            return st;
        const Grpc__Testing__StreamingOutputCallRequest *r =
            (const Grpc__Testing__StreamingOutputCallRequest *)m;
        for (size_t i = 0; i < r->n_response_parameters; i++) {
            Grpc__Testing__StreamingOutputCallResponse resp =
                GRPC__TESTING__STREAMING_OUTPUT_CALL_RESPONSE__INIT;
            Grpc__Testing__Payload p = GRPC__TESTING__PAYLOAD__INIT;
            p.body.len = (size_t)r->response_parameters[i]->size;
            p.body.data = sl_arena_zalloc(sl_call_arena(call), p.body.len + 1);
            resp.payload = &p;
            st = sl_call_send(call, &resp.base, err);
            if (st != SL_OK)
                return st;
        }
    }
}

static sl_status t_unimpl(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err)
{
    (void)call;
    (void)req;
    (void)resp;
    return sl_err_set(err, SL_UNIMPLEMENTED, "UnimplementedCall");
}

#define M(name) "/grpc.testing.TestService/" name
static const sl_method methods[] = {
    {M("EmptyCall"), SL_RPC_UNARY, &grpc__testing__empty__descriptor,
     &grpc__testing__empty__descriptor, t_empty, NULL},
    {M("UnaryCall"), SL_RPC_UNARY, &grpc__testing__simple_request__descriptor,
     &grpc__testing__simple_response__descriptor, t_unary, NULL},
    {M("CacheableUnaryCall"), SL_RPC_UNARY, &grpc__testing__simple_request__descriptor,
     &grpc__testing__simple_response__descriptor, t_unary, NULL},
    {M("StreamingOutputCall"), SL_RPC_SERVER_STREAMING,
     &grpc__testing__streaming_output_call_request__descriptor,
     &grpc__testing__streaming_output_call_response__descriptor, NULL, t_stream_out},
    {M("StreamingInputCall"), SL_RPC_CLIENT_STREAMING,
     &grpc__testing__streaming_input_call_request__descriptor,
     &grpc__testing__streaming_input_call_response__descriptor, NULL, t_stream_in},
    {M("FullDuplexCall"), SL_RPC_BIDI_STREAMING,
     &grpc__testing__streaming_output_call_request__descriptor,
     &grpc__testing__streaming_output_call_response__descriptor, NULL, t_duplex},
    {M("HalfDuplexCall"), SL_RPC_BIDI_STREAMING,
     &grpc__testing__streaming_output_call_request__descriptor,
     &grpc__testing__streaming_output_call_response__descriptor, NULL, t_duplex},
    {M("UnimplementedCall"), SL_RPC_UNARY, &grpc__testing__empty__descriptor,
     &grpc__testing__empty__descriptor, t_unimpl, NULL},
};

static const sl_service_def service = {
    .descriptor = &grpc__testing__test_service__descriptor,
    .methods = methods,
    .n_methods = sizeof methods / sizeof methods[0],
};

/* Rejects calls whose authorization is "Bearer wrong". */
static sl_status t_auth(sl_call *call, void *ctx, sl_err *err)
{
    (void)ctx;
    const char *a = sl_call_metadata(call, "authorization", NULL);
    if (a != NULL && strcmp(a, "Bearer wrong") == 0)
        return sl_err_set(err, SL_UNAUTHENTICATED, "bad token");
    return SL_OK;
}

typedef struct fixture {
    sl_server *srv;
    sl_channel *ch;
    sl_arena *arena;
    char target[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    sl_server_options o = {.listen = "127.0.0.1:0", .workers = 4, .interceptor = t_auth};
    sl_err err;
    assert_int_equal(sl_server_create(&o, &f->srv, &err), SL_OK);
    assert_int_equal(sl_server_add_service(f->srv, &service, &err), SL_OK);
    assert_int_equal(sl_server_start(f->srv, &err), SL_OK);
    snprintf(f->target, sizeof f->target, "127.0.0.1:%d", sl_server_port(f->srv));
    assert_int_equal(sl_channel_create(f->target, NULL, &f->ch, &err), SL_OK);
    f->arena = sl_arena_create(0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sl_channel_destroy(f->ch);
    sl_server_destroy(f->srv);
    sl_arena_destroy(f->arena);
    free(f);
    return 0;
}

static sl_status unary(fixture *f, Grpc__Testing__SimpleRequest *req,
                       Grpc__Testing__SimpleResponse **resp, const sl_call_options *o, sl_err *err)
{
    return sl_client_unary(f->ch, M("UnaryCall"), &req->base,
                           &grpc__testing__simple_response__descriptor, f->arena,
                           (ProtobufCMessage **)resp, o, err);
}

static void test_unary_echo_and_request_id(void **state)
{
    fixture *f = *state;
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    Grpc__Testing__Payload p = GRPC__TESTING__PAYLOAD__INIT;
    p.body.data = (uint8_t *)"hello";
    p.body.len = 5;
    req.payload = &p;
    Grpc__Testing__SimpleResponse *resp;
    sl_err err;
    sl_call_options o = {.request_id = "req-42"};
    assert_int_equal(unary(f, &req, &resp, &o, &err), SL_OK);
    assert_non_null(resp->payload);
    assert_int_equal(resp->payload->body.len, 5);
    assert_memory_equal(resp->payload->body.data, "hello", 5);
    assert_string_equal(resp->username, "req-42");
    assert_non_null(strstr(resp->hostname, "127.0.0.1"));
    /* Without a request id the server makes one up. */
    assert_int_equal(unary(f, &req, &resp, NULL, &err), SL_OK);
    assert_int_equal(strlen(resp->username), 16);
}

static void test_error_status_and_message(void **state)
{
    fixture *f = *state;
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    Grpc__Testing__EchoStatus es = GRPC__TESTING__ECHO_STATUS__INIT;
    es.code = 9;
    es.message = "field \"qty\" must be positive";
    req.response_status = &es;
    Grpc__Testing__SimpleResponse *resp;
    sl_err err;
    assert_int_equal(unary(f, &req, &resp, NULL, &err), SL_FAILED_PRECONDITION);
    assert_string_equal(err.msg, "field \"qty\" must be positive");
}

static void test_server_streaming(void **state)
{
    fixture *f = *state;
    Grpc__Testing__StreamingOutputCallRequest req =
        GRPC__TESTING__STREAMING_OUTPUT_CALL_REQUEST__INIT;
    Grpc__Testing__ResponseParameters rp[3];
    Grpc__Testing__ResponseParameters *rpp[3];
    for (int i = 0; i < 3; i++) {
        grpc__testing__response_parameters__init(&rp[i]);
        rp[i].size = 10 * (i + 1);
        rpp[i] = &rp[i];
    }
    req.n_response_parameters = 3;
    req.response_parameters = rpp;
    sl_client_stream *s;
    sl_err err;
    assert_int_equal(
        sl_client_stream_open(f->ch, M("StreamingOutputCall"), &req.base,
                              &grpc__testing__streaming_output_call_response__descriptor, NULL, &s,
                              &err),
        SL_OK);
    for (int i = 0; i < 3; i++) {
        ProtobufCMessage *m;
        assert_int_equal(sl_client_stream_next(s, f->arena, &m, 5000, NULL, &err), SL_OK);
        assert_non_null(m);
        Grpc__Testing__StreamingOutputCallResponse *r = (void *)m;
        assert_int_equal(r->payload->body.len, 10 * (i + 1));
    }
    ProtobufCMessage *m;
    assert_int_equal(sl_client_stream_next(s, f->arena, &m, 5000, NULL, &err), SL_OK);
    assert_null(m);
    sl_client_stream_close(s);
}

static void test_deadline_exceeded(void **state)
{
    fixture *f = *state;
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    req.fill_server_id = 1;
    req.response_size = 800; /* handler sleeps 800 ms */
    Grpc__Testing__SimpleResponse *resp;
    sl_err err;
    sl_call_options o = {.timeout_ms = 100};
    int64_t t0 = sl_test_now_ms();
    assert_int_equal(unary(f, &req, &resp, &o, &err), SL_DEADLINE_EXCEEDED);
    assert_true(sl_test_now_ms() - t0 < 700);
}

static void test_client_cancellation_ends_stream(void **state)
{
    fixture *f = *state;
    atomic_store(&streams_finished, 0);
    Grpc__Testing__StreamingOutputCallRequest req =
        GRPC__TESTING__STREAMING_OUTPUT_CALL_REQUEST__INIT;
    sl_client_stream *s;
    sl_err err;
    assert_int_equal(
        sl_client_stream_open(f->ch, M("StreamingOutputCall"), &req.base,
                              &grpc__testing__streaming_output_call_response__descriptor, NULL, &s,
                              &err),
        SL_OK);
    ProtobufCMessage *m;
    assert_int_equal(sl_client_stream_next(s, f->arena, &m, 5000, NULL, &err), SL_OK);
    assert_non_null(m);
    assert_int_equal(atomic_load(&active_streams), 1);
    sl_client_stream_close(s); /* cancels */
    int64_t until = sl_test_now_ms() + 3000;
    while (atomic_load(&streams_finished) == 0 && sl_test_now_ms() < until)
        sleep_ms(10);
    assert_int_equal(atomic_load(&streams_finished), 1);
    assert_int_equal(atomic_load(&active_streams), 0);
}

static void test_stream_next_timeout_keeps_stream(void **state)
{
    fixture *f = *state;
    Grpc__Testing__StreamingOutputCallRequest req =
        GRPC__TESTING__STREAMING_OUTPUT_CALL_REQUEST__INIT;
    Grpc__Testing__ResponseParameters rp = GRPC__TESTING__RESPONSE_PARAMETERS__INIT;
    Grpc__Testing__ResponseParameters *rpp = &rp;
    rp.size = 1;
    rp.interval_us = 400 * 1000;
    req.n_response_parameters = 1;
    req.response_parameters = &rpp;
    sl_client_stream *s;
    sl_err err;
    assert_int_equal(
        sl_client_stream_open(f->ch, M("StreamingOutputCall"), &req.base,
                              &grpc__testing__streaming_output_call_response__descriptor, NULL, &s,
                              &err),
        SL_OK);
    ProtobufCMessage *m;
    bool timed_out;
    assert_int_equal(sl_client_stream_next(s, f->arena, &m, 50, &timed_out, &err), SL_OK);
    assert_true(timed_out);
    assert_null(m);
    assert_int_equal(sl_client_stream_next(s, f->arena, &m, 5000, &timed_out, &err), SL_OK);
    assert_false(timed_out);
    assert_non_null(m);
    sl_client_stream_close(s);
}

static void test_client_streaming(void **state)
{
    /* sl_client has no client-streaming call (no service needs one; the Go
     * interop client covers long client streams).  On the wire one message
     * then half-close is a valid client stream, so a unary call drives the
     * server's client-streaming path. */
    fixture *f = *state;
    Grpc__Testing__StreamingInputCallRequest req =
        GRPC__TESTING__STREAMING_INPUT_CALL_REQUEST__INIT;
    Grpc__Testing__Payload p = GRPC__TESTING__PAYLOAD__INIT;
    uint8_t body[1234] = {0};
    p.body.data = body;
    p.body.len = sizeof body;
    req.payload = &p;
    ProtobufCMessage *resp;
    sl_err err;
    assert_int_equal(sl_client_unary(f->ch, M("StreamingInputCall"), &req.base,
                                     &grpc__testing__streaming_input_call_response__descriptor,
                                     f->arena, &resp, NULL, &err),
                     SL_OK);
    assert_int_equal(((Grpc__Testing__StreamingInputCallResponse *)resp)->aggregated_payload_size,
                     1234);
}

/* The bidirectional path (stream thread, sl_call_recv then sl_call_send),
 * driven the same way: one request, half-close, one response. */
static void test_bidi_streaming(void **state)
{
    fixture *f = *state;
    Grpc__Testing__StreamingOutputCallRequest req =
        GRPC__TESTING__STREAMING_OUTPUT_CALL_REQUEST__INIT;
    Grpc__Testing__ResponseParameters rp = GRPC__TESTING__RESPONSE_PARAMETERS__INIT;
    Grpc__Testing__ResponseParameters *rpp = &rp;
    rp.size = 321;
    req.n_response_parameters = 1;
    req.response_parameters = &rpp;
    ProtobufCMessage *resp;
    sl_err err;
    assert_int_equal(sl_client_unary(f->ch, M("FullDuplexCall"), &req.base,
                                     &grpc__testing__streaming_output_call_response__descriptor,
                                     f->arena, &resp, NULL, &err),
                     SL_OK);
    assert_int_equal(((Grpc__Testing__StreamingOutputCallResponse *)resp)->payload->body.len, 321);
}

static void test_four_mib_messages(void **state)
{
    fixture *f = *state;
    size_t big = 4 * 1024 * 1024;
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    Grpc__Testing__Payload p = GRPC__TESTING__PAYLOAD__INIT;
    p.body.data = calloc(1, big);
    p.body.len = big;
    p.body.data[big - 1] = 7;
    req.payload = &p;
    Grpc__Testing__SimpleResponse *resp;
    sl_err err;
    assert_int_equal(unary(f, &req, &resp, NULL, &err), SL_OK);
    assert_int_equal(resp->payload->body.len, big);
    assert_int_equal(resp->payload->body.data[big - 1], 7);
    /* Beyond the limit (4 MiB + 64 KiB) the transport refuses. */
    free(p.body.data);
    p.body.len = 5 * 1024 * 1024;
    p.body.data = calloc(1, p.body.len);
    assert_int_equal(unary(f, &req, &resp, NULL, &err), SL_RESOURCE_EXHAUSTED);
    /* A reply over the limit: the handler's answer is refused, not sent. */
    req.payload = NULL;
    req.response_size = 5 * 1024 * 1024;
    assert_int_equal(unary(f, &req, &resp, NULL, &err), SL_RESOURCE_EXHAUSTED);
    free(p.body.data);
}

static void test_unknown_method_and_service(void **state)
{
    fixture *f = *state;
    void *out;
    size_t n;
    sl_err err;
    sl_call_options o = {.timeout_ms = 5000};
    int64_t t0 = sl_test_now_ms();
    assert_int_equal(sl_client_unary_raw(f->ch, "/grpc.testing.TestService/NoSuch", "", 0, f->arena,
                                         &out, &n, &o, &err),
                     SL_UNIMPLEMENTED);
    assert_non_null(strstr(err.msg, "NoSuch"));
    assert_int_equal(
        sl_client_unary_raw(f->ch, "/no.such.Service/Call", "", 0, f->arena, &out, &n, &o, &err),
        SL_UNIMPLEMENTED);
    /* Answered at once, not at the deadline. */
    assert_true(sl_test_now_ms() - t0 < 2000);
}

static void test_garbage_payload(void **state)
{
    fixture *f = *state;
    void *out;
    size_t n;
    sl_err err;
    const unsigned char garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99};
    assert_int_equal(sl_client_unary_raw(f->ch, M("UnaryCall"), garbage, sizeof garbage, f->arena,
                                         &out, &n, NULL, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "grpc.testing.SimpleRequest"));
    /* Random bytes, many times: every answer is OK or INVALID_ARGUMENT and
     * the server stays up. */
    unsigned seed = 12345;
    unsigned char buf[64];
    for (int i = 0; i < 2000; i++) {
        size_t len = (size_t)(rand_r(&seed) % (int)sizeof buf);
        for (size_t j = 0; j < len; j++)
            buf[j] = (unsigned char)rand_r(&seed);
        sl_status st =
            sl_client_unary_raw(f->ch, M("EmptyCall"), buf, len, f->arena, &out, &n, NULL, &err);
        assert_true(st == SL_OK || st == SL_INVALID_ARGUMENT);
        sl_arena_reset(f->arena);
    }
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    Grpc__Testing__SimpleResponse *resp;
    assert_int_equal(unary(f, &req, &resp, NULL, &err), SL_OK);
}

static void test_interceptor_rejects(void **state)
{
    fixture *f = *state;
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    Grpc__Testing__SimpleResponse *resp;
    sl_err err;
    sl_call_options o = {.authorization = "Bearer wrong"};
    assert_int_equal(unary(f, &req, &resp, &o, &err), SL_UNAUTHENTICATED);
    assert_string_equal(err.msg, "bad token");
    /* Health is never behind the interceptor: probes carry no token. */
    Grpc__Health__V1__HealthCheckRequest hreq = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    ProtobufCMessage *hresp;
    assert_int_equal(sl_client_unary(f->ch, "/grpc.health.v1.Health/Check", &hreq.base,
                                     &grpc__health__v1__health_check_response__descriptor, f->arena,
                                     &hresp, &o, &err),
                     SL_OK);
}

typedef struct conc_arg {
    fixture *f;
    pthread_barrier_t *barrier;
    int index;
    atomic_int *ok;
} conc_arg;

static void *conc_thread(void *p)
{
    conc_arg *a = p;
    sl_arena *arena = sl_arena_create(0);
    char body[32];
    int len = snprintf(body, sizeof body, "call-%d", a->index);
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    Grpc__Testing__Payload pl = GRPC__TESTING__PAYLOAD__INIT;
    pl.body.data = (uint8_t *)body;
    pl.body.len = (size_t)len;
    req.payload = &pl;
    pthread_barrier_wait(a->barrier);
    ProtobufCMessage *resp;
    sl_err err;
    sl_call_options o = {.timeout_ms = 60000, .wait_for_ready = true};
    if (sl_client_unary(a->f->ch, M("UnaryCall"), &req.base,
                        &grpc__testing__simple_response__descriptor, arena, &resp, &o,
                        &err) == SL_OK) {
        Grpc__Testing__SimpleResponse *r = (void *)resp;
        if (r->payload != NULL && r->payload->body.len == (size_t)len &&
            memcmp(r->payload->body.data, body, (size_t)len) == 0)
            atomic_fetch_add(a->ok, 1);
    }
    sl_arena_destroy(arena);
    return NULL;
}

static void test_2000_concurrent_calls(void **state)
{
    fixture *f = *state;
    enum { N = 2000 };
    pthread_t *t = calloc(N, sizeof *t);
    conc_arg *args = calloc(N, sizeof *args);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N);
    atomic_int ok = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < N; i++) {
        args[i] = (conc_arg){f, &barrier, i, &ok};
        assert_int_equal(pthread_create(&t[i], &attr, conc_thread, &args[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&ok), N);
    sl_method_stats ms;
    assert_true(sl_server_method_stats(f->srv, M("UnaryCall"), &ms));
    assert_true(ms.calls >= N);
    pthread_attr_destroy(&attr);
    pthread_barrier_destroy(&barrier);
    free(t);
    free(args);
}

static void test_health_check_and_watch(void **state)
{
    fixture *f = *state;
    sl_err err;
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    ProtobufCMessage *m;
    assert_int_equal(sl_client_unary(f->ch, "/grpc.health.v1.Health/Check", &req.base,
                                     &grpc__health__v1__health_check_response__descriptor, f->arena,
                                     &m, NULL, &err),
                     SL_OK);
    assert_int_equal(((Grpc__Health__V1__HealthCheckResponse *)m)->status, SL_HEALTH_SERVING);
    req.service = "grpc.testing.TestService";
    assert_int_equal(sl_client_unary(f->ch, "/grpc.health.v1.Health/Check", &req.base,
                                     &grpc__health__v1__health_check_response__descriptor, f->arena,
                                     &m, NULL, &err),
                     SL_OK);
    assert_int_equal(((Grpc__Health__V1__HealthCheckResponse *)m)->status, SL_HEALTH_SERVING);
    req.service = "no.such.Service";
    assert_int_equal(sl_client_unary(f->ch, "/grpc.health.v1.Health/Check", &req.base,
                                     &grpc__health__v1__health_check_response__descriptor, f->arena,
                                     &m, NULL, &err),
                     SL_NOT_FOUND);

    req.service = "grpc.testing.TestService";
    sl_client_stream *s;
    assert_int_equal(sl_client_stream_open(f->ch, "/grpc.health.v1.Health/Watch", &req.base,
                                           &grpc__health__v1__health_check_response__descriptor,
                                           NULL, &s, &err),
                     SL_OK);
    assert_int_equal(sl_client_stream_next(s, f->arena, &m, 5000, NULL, &err), SL_OK);
    assert_int_equal(((Grpc__Health__V1__HealthCheckResponse *)m)->status, SL_HEALTH_SERVING);
    sl_health_set_degraded(sl_server_health(f->srv), true);
    assert_int_equal(sl_client_stream_next(s, f->arena, &m, 5000, NULL, &err), SL_OK);
    assert_non_null(m);
    assert_int_equal(((Grpc__Health__V1__HealthCheckResponse *)m)->status, SL_HEALTH_NOT_SERVING);
    sl_health_set_degraded(sl_server_health(f->srv), false);
    assert_int_equal(sl_client_stream_next(s, f->arena, &m, 5000, NULL, &err), SL_OK);
    assert_int_equal(((Grpc__Health__V1__HealthCheckResponse *)m)->status, SL_HEALTH_SERVING);
    sl_client_stream_close(s);
}

/* A maximum connection age makes clients reconnect (GOAWAY), which is how
 * they spread onto replicas added later: the same channel shows up from a
 * new client port once the age has passed. */
static void test_max_connection_age_reconnects(void **state)
{
    (void)state;
    sl_server *srv;
    sl_err err;
    sl_server_options o = {.listen = "127.0.0.1:0",
                           .workers = 1,
                           .max_connection_age_ms = 300,
                           .max_connection_age_grace_ms = 200};
    assert_int_equal(sl_server_create(&o, &srv, &err), SL_OK);
    assert_int_equal(sl_server_add_service(srv, &service, &err), SL_OK);
    assert_int_equal(sl_server_start(srv, &err), SL_OK);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", sl_server_port(srv));
    sl_channel *ch;
    assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);
    sl_arena *a = sl_arena_create(0);
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    sl_call_options co = {.timeout_ms = 5000, .wait_for_ready = true};
    ProtobufCMessage *m;
    assert_int_equal(sl_client_unary(ch, M("UnaryCall"), &req.base,
                                     &grpc__testing__simple_response__descriptor, a, &m, &co, &err),
                     SL_OK);
    char first[128];
    snprintf(first, sizeof first, "%s", ((Grpc__Testing__SimpleResponse *)m)->hostname);
    bool moved = false;
    int64_t until = sl_test_now_ms() + 5000;
    while (!moved && sl_test_now_ms() < until) {
        sleep_ms(100);
        assert_int_equal(sl_client_unary(ch, M("UnaryCall"), &req.base,
                                         &grpc__testing__simple_response__descriptor, a, &m, &co,
                                         &err),
                         SL_OK);
        moved = strcmp(first, ((Grpc__Testing__SimpleResponse *)m)->hostname) != 0;
    }
    assert_true(moved);
    sl_arena_destroy(a);
    sl_channel_destroy(ch);
    sl_server_destroy(srv);
}

static void test_method_table_checked(void **state)
{
    (void)state;
    sl_server *srv;
    sl_err err;
    sl_server_options o = {.listen = "127.0.0.1:0", .workers = 1};
    assert_int_equal(sl_server_create(&o, &srv, &err), SL_OK);
    sl_service_def short_def = service;
    short_def.n_methods = 3;
    assert_int_equal(sl_server_add_service(srv, &short_def, &err), SL_INVALID_ARGUMENT);
    sl_method wrong[sizeof methods / sizeof methods[0]];
    memcpy(wrong, methods, sizeof wrong);
    wrong[1].response = &grpc__testing__empty__descriptor;
    sl_service_def wrong_def = service;
    wrong_def.methods = wrong;
    assert_int_equal(sl_server_add_service(srv, &wrong_def, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "UnaryCall"));
    sl_server_destroy(srv);
}

static void test_retry_until_server_appears(void **state)
{
    (void)state;
    int port = sl_test_free_port();
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    sl_channel *ch;
    sl_err err;
    assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);
    sl_arena *arena = sl_arena_create(0);
    Grpc__Testing__Empty req = GRPC__TESTING__EMPTY__INIT;
    ProtobufCMessage *resp;
    /* Not idempotent: one attempt, UNAVAILABLE. */
    sl_call_options once = {.timeout_ms = 2000};
    assert_int_equal(sl_client_unary(ch, M("EmptyCall"), &req.base,
                                     &grpc__testing__empty__descriptor, arena, &resp, &once, &err),
                     SL_UNAVAILABLE);
    sl_channel_destroy(ch);

    /* Idempotent: retried with backoff until a server listens (a real
     * server process started 600 ms late). */
    char *bin = sl_test_bin("shelfline-interop-server");
    char script[512];
    snprintf(script, sizeof script, "sleep 0.6; exec %s --port=%d", bin, port);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    pid_t child = sl_test_spawn(argv, NULL);
    assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);
    sl_call_options retry = {.timeout_ms = 8000, .idempotent = true, .max_attempts = 30};
    assert_int_equal(sl_client_unary(ch, M("EmptyCall"), &req.base,
                                     &grpc__testing__empty__descriptor, arena, &resp, &retry, &err),
                     SL_OK);
    sl_channel_destroy(ch);
    sl_arena_destroy(arena);
    assert_int_not_equal(sl_test_stop(child, SIGTERM, 10000), -1);
    free(bin);
}

/* A call that blocks the only worker for 2 s must not block liveness:
 * health has a worker of its own, so a kubelet probe gets SERVING while
 * every service worker waits on the database. */
typedef struct slow_call {
    const char *target;
    sl_status st;
} slow_call;

static void *slow_call_main(void *arg)
{
    slow_call *sc = arg;
    sl_channel *ch;
    sl_arena *a = sl_arena_create(0);
    sl_channel_create(sc->target, NULL, &ch, NULL);
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    req.fill_server_id = 1;
    req.response_size = 2000; /* the handler sleeps 2 s */
    ProtobufCMessage *resp;
    sl_call_options o = {.timeout_ms = 10000};
    sc->st = sl_client_unary(ch, M("UnaryCall"), &req.base,
                             &grpc__testing__simple_response__descriptor, a, &resp, &o, NULL);
    sl_channel_destroy(ch);
    sl_arena_destroy(a);
    return NULL;
}

static void test_health_answers_while_workers_are_blocked(void **state)
{
    (void)state;
    sl_server *srv;
    sl_err err;
    sl_server_options o = {.listen = "127.0.0.1:0", .workers = 1, .slots_per_method = 4};
    assert_int_equal(sl_server_create(&o, &srv, &err), SL_OK);
    assert_int_equal(sl_server_add_service(srv, &service, &err), SL_OK);
    assert_int_equal(sl_server_start(srv, &err), SL_OK);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", sl_server_port(srv));
    slow_call sc = {.target = target, .st = SL_UNKNOWN};
    pthread_t t;
    pthread_create(&t, NULL, slow_call_main, &sc);
    sleep_ms(300); /* the slow call holds the worker now */

    sl_channel *ch;
    assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);
    sl_arena *a = sl_arena_create(0);
    for (int i = 0; i < 3; i++) {
        Grpc__Health__V1__HealthCheckRequest hr = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        hr.service = (char *)SL_HEALTH_LIVENESS;
        ProtobufCMessage *m;
        sl_call_options ho = {.timeout_ms = 500};
        int64_t t0 = sl_test_now_ms();
        assert_int_equal(sl_client_unary(ch, "/grpc.health.v1.Health/Check", &hr.base,
                                         &grpc__health__v1__health_check_response__descriptor, a,
                                         &m, &ho, &err),
                         SL_OK);
        assert_int_equal((int)((Grpc__Health__V1__HealthCheckResponse *)m)->status,
                         (int)SL_HEALTH_SERVING);
        assert_true(sl_test_now_ms() - t0 < 400);
    }
    /* and the worker was indeed busy: a second UnaryCall waits for it */
    Grpc__Testing__SimpleRequest q = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    ProtobufCMessage *m;
    sl_call_options qo = {.timeout_ms = 300};
    assert_int_equal(sl_client_unary(ch, M("UnaryCall"), &q.base,
                                     &grpc__testing__simple_response__descriptor, a, &m, &qo, &err),
                     SL_DEADLINE_EXCEEDED);
    pthread_join(t, NULL);
    assert_int_equal(sc.st, SL_OK);
    sl_arena_destroy(a);
    sl_channel_destroy(ch);
    sl_server_destroy(srv);
}

/* A call blocking one of four workers for 2 s holds up no other call: the
 * workers share one queue, so each of 40 quick calls made meanwhile goes to
 * a free worker.  (With a queue per worker, gRPC core matched calls to the
 * busy worker's armed requests too, and about one in four waited the full
 * 2 s behind it.) */
static void test_no_call_waits_behind_a_busy_worker(void **state)
{
    (void)state;
    sl_server *srv;
    sl_err err;
    sl_server_options o = {.listen = "127.0.0.1:0", .workers = 4, .slots_per_method = 2};
    assert_int_equal(sl_server_create(&o, &srv, &err), SL_OK);
    assert_int_equal(sl_server_add_service(srv, &service, &err), SL_OK);
    assert_int_equal(sl_server_start(srv, &err), SL_OK);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", sl_server_port(srv));
    slow_call sc = {.target = target, .st = SL_UNKNOWN};
    pthread_t t;
    pthread_create(&t, NULL, slow_call_main, &sc);
    sleep_ms(300); /* the slow call holds one worker now */

    sl_channel *ch;
    assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);
    sl_arena *a = sl_arena_create(0);
    int64_t worst = 0;
    for (int i = 0; i < 40; i++) {
        Grpc__Testing__Empty q = GRPC__TESTING__EMPTY__INIT;
        ProtobufCMessage *m;
        sl_call_options qo = {.timeout_ms = 1500};
        int64_t t0 = sl_test_now_ms();
        assert_int_equal(sl_client_unary(ch, M("EmptyCall"), &q.base,
                                         &grpc__testing__empty__descriptor, a, &m, &qo, &err),
                         SL_OK);
        int64_t took = sl_test_now_ms() - t0;
        worst = took > worst ? took : worst;
        sl_arena_reset(a);
    }
    fprintf(stderr, "40 calls beside a busy worker: slowest %lld ms\n", (long long)worst);
    assert_true(worst < 500);
    pthread_join(t, NULL);
    assert_int_equal(sc.st, SL_OK);
    sl_arena_destroy(a);
    sl_channel_destroy(ch);
    sl_server_destroy(srv);
}

/* A peer killed and started again 3 s later: an idempotent call made while
 * it is down waits for it within its deadline and succeeds, and the channel
 * reconnects soon after the peer listens again (reconnect backoff at most
 * 2 s; gRPC's default, up to 120 s, kept callers failing for 9-15 s after
 * inventory was back). */
typedef struct port_watch {
    int port;
    int64_t up_at;
} port_watch;

static void *port_watch_main(void *arg)
{
    port_watch *pw = arg;
    if (sl_test_wait_port(pw->port, 20000))
        pw->up_at = sl_test_now_ms();
    return NULL;
}

static void test_idempotent_call_rides_over_a_peer_restart(void **state)
{
    (void)state;
    int port = sl_test_free_port();
    char portarg[32], target[64];
    snprintf(portarg, sizeof portarg, "--port=%d", port);
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    char *bin = sl_test_bin("shelfline-interop-server");
    char *argv[] = {bin, portarg, NULL};
    pid_t pid = sl_test_spawn(argv, NULL);
    assert_true(sl_test_wait_port(port, 10000));
    sl_channel *ch;
    sl_err err;
    assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);
    sl_arena *a = sl_arena_create(0);
    Grpc__Testing__Empty req = GRPC__TESTING__EMPTY__INIT;
    ProtobufCMessage *resp;
    sl_call_options o = {.timeout_ms = 10000, .idempotent = true};
    assert_int_equal(sl_client_unary(ch, M("EmptyCall"), &req.base,
                                     &grpc__testing__empty__descriptor, a, &resp, &o, &err),
                     SL_OK);

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char script[512];
    snprintf(script, sizeof script, "sleep 3; exec %s --port=%d", bin, port);
    char *argv2[] = {"/bin/sh", "-c", script, NULL};
    pid_t again = sl_test_spawn(argv2, NULL);
    sleep_ms(200); /* gone for sure: the call below starts while it is down */
    port_watch pw = {.port = port, .up_at = 0};
    pthread_t t;
    pthread_create(&t, NULL, port_watch_main, &pw);
    int64_t t0 = sl_test_now_ms();
    sl_status st = sl_client_unary(ch, M("EmptyCall"), &req.base, &grpc__testing__empty__descriptor,
                                   a, &resp, &o, &err);
    int64_t ok_at = sl_test_now_ms();
    pthread_join(t, NULL);
    fprintf(stderr, "restart: call took %lld ms; answered %lld ms after the peer listened\n",
            (long long)(ok_at - t0), (long long)(ok_at - pw.up_at));
    assert_int_equal(st, SL_OK);
    assert_true(pw.up_at > 0);
    assert_true(ok_at - pw.up_at < 2500);

    /* Not idempotent: fails fast while the peer is down, as before. */
    kill(again, SIGKILL);
    waitpid(again, NULL, 0);
    sl_call_options once = {.timeout_ms = 5000};
    t0 = sl_test_now_ms();
    assert_int_equal(sl_client_unary(ch, M("EmptyCall"), &req.base,
                                     &grpc__testing__empty__descriptor, a, &resp, &once, &err),
                     SL_UNAVAILABLE);
    assert_true(sl_test_now_ms() - t0 < 3000);
    sl_arena_destroy(a);
    sl_channel_destroy(ch);
    free(bin);
}

/* SIGTERM with calls in flight, against the real interop server process:
 * the in-flight stream completes, new calls are refused, exit code 0. */
static void test_sigterm_drain(void **state)
{
    (void)state;
    int port = sl_test_free_port();
    char portarg[32];
    snprintf(portarg, sizeof portarg, "--port=%d", port);
    char *bin = sl_test_bin("shelfline-interop-server");
    char *argv[] = {bin, portarg, NULL};
    pid_t pid = sl_test_spawn(argv, NULL);
    assert_true(sl_test_wait_port(port, 10000));

    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    sl_channel *ch;
    sl_err err;
    assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);
    sl_arena *arena = sl_arena_create(0);
    /* Five responses 200 ms apart: about a second in flight. */
    Grpc__Testing__StreamingOutputCallRequest req =
        GRPC__TESTING__STREAMING_OUTPUT_CALL_REQUEST__INIT;
    Grpc__Testing__ResponseParameters rp[5], *rpp[5];
    for (int i = 0; i < 5; i++) {
        grpc__testing__response_parameters__init(&rp[i]);
        rp[i].size = 8;
        rp[i].interval_us = 200 * 1000;
        rpp[i] = &rp[i];
    }
    req.n_response_parameters = 5;
    req.response_parameters = rpp;
    sl_client_stream *s;
    assert_int_equal(
        sl_client_stream_open(ch, M("StreamingOutputCall"), &req.base,
                              &grpc__testing__streaming_output_call_response__descriptor, NULL, &s,
                              &err),
        SL_OK);
    ProtobufCMessage *m;
    assert_int_equal(sl_client_stream_next(s, arena, &m, 5000, NULL, &err), SL_OK);
    assert_non_null(m);
    kill(pid, SIGTERM);
    int got = 1;
    for (;;) {
        sl_status st = sl_client_stream_next(s, arena, &m, 5000, NULL, &err);
        assert_int_equal(st, SL_OK);
        if (m == NULL)
            break;
        got++;
    }
    assert_int_equal(got, 5);
    sl_client_stream_close(s);
    int status = sl_test_stop(pid, SIGTERM, 10000);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* Nobody listens any more. */
    Grpc__Testing__Empty e = GRPC__TESTING__EMPTY__INIT;
    sl_call_options o = {.timeout_ms = 1000};
    assert_int_equal(sl_client_unary(ch, M("EmptyCall"), &e.base, &grpc__testing__empty__descriptor,
                                     arena, &m, &o, &err),
                     SL_UNAVAILABLE);
    sl_channel_destroy(ch);
    sl_arena_destroy(arena);
    free(bin);
}

/* Shutdown with a never-ending stream open: the stream is told to end and
 * the server stops within the grace period. */
static void test_shutdown_ends_streams(void **state)
{
    (void)state;
    fixture f0, *f = &f0;
    void *st = NULL;
    setup(&st);
    f = st;
    Grpc__Testing__StreamingOutputCallRequest req =
        GRPC__TESTING__STREAMING_OUTPUT_CALL_REQUEST__INIT;
    sl_client_stream *s;
    sl_err err;
    assert_int_equal(
        sl_client_stream_open(f->ch, M("StreamingOutputCall"), &req.base,
                              &grpc__testing__streaming_output_call_response__descriptor, NULL, &s,
                              &err),
        SL_OK);
    ProtobufCMessage *m;
    assert_int_equal(sl_client_stream_next(s, f->arena, &m, 5000, NULL, &err), SL_OK);
    int64_t t0 = sl_test_now_ms();
    sl_server_shutdown(f->srv, 5000);
    assert_true(sl_test_now_ms() - t0 < 2000);
    sl_status rc;
    do {
        rc = sl_client_stream_next(s, f->arena, &m, 5000, NULL, &err);
    } while (rc == SL_OK && m != NULL);
    assert_int_equal(rc, SL_UNAVAILABLE);
    sl_client_stream_close(s);
    teardown(&st);
}

/* Two replicas behind "ipv4:a,b": while one reports NOT_SERVING (its
 * database is unreachable) every call lands on the other, though both stay
 * connected; once it is SERVING again both take calls.  The client learns
 * it from the health Watch stream (healthCheckConfig), not from failed
 * calls. */
static void test_round_robin_skips_a_not_serving_replica(void **state)
{
    (void)state;
    sl_server *srv[2];
    sl_service_def def[2];
    atomic_int calls[2];
    char target[96];
    sl_err err;
    for (int i = 0; i < 2; i++) {
        atomic_init(&calls[i], 0);
        def[i] = service;
        def[i].ctx = &calls[i];
        sl_server_options o = {.listen = "127.0.0.1:0", .workers = 2};
        assert_int_equal(sl_server_create(&o, &srv[i], &err), SL_OK);
        assert_int_equal(sl_server_add_service(srv[i], &def[i], &err), SL_OK);
        assert_int_equal(sl_server_start(srv[i], &err), SL_OK);
    }
    snprintf(target, sizeof target, "ipv4:127.0.0.1:%d,127.0.0.1:%d", sl_server_port(srv[0]),
             sl_server_port(srv[1]));
    sl_health_set_degraded(sl_server_health(srv[1]), true);
    sl_channel *ch;
    assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);
    sl_arena *a = sl_arena_create(0);
    Grpc__Testing__Empty req = GRPC__TESTING__EMPTY__INIT;
    ProtobufCMessage *resp;
    sl_call_options o = {.timeout_ms = 5000, .idempotent = true};
    for (int k = 0; k < 40; k++)
        assert_int_equal(sl_client_unary(ch, M("EmptyCall"), &req.base,
                                         &grpc__testing__empty__descriptor, a, &resp, &o, &err),
                         SL_OK);
    fprintf(stderr, "replica 1 NOT_SERVING: calls %d / %d\n", atomic_load(&calls[0]),
            atomic_load(&calls[1]));
    assert_int_equal(atomic_load(&calls[0]), 40);
    assert_int_equal(atomic_load(&calls[1]), 0);

    /* back to SERVING: the Watch stream tells the client at once */
    sl_health_set_degraded(sl_server_health(srv[1]), false);
    int64_t t0 = sl_test_now_ms();
    while (atomic_load(&calls[1]) == 0 && sl_test_now_ms() - t0 < 3000) {
        assert_int_equal(sl_client_unary(ch, M("EmptyCall"), &req.base,
                                         &grpc__testing__empty__descriptor, a, &resp, &o, &err),
                         SL_OK);
        sleep_ms(5);
    }
    fprintf(stderr, "replica 1 SERVING again: it took calls after %lld ms\n",
            (long long)(sl_test_now_ms() - t0));
    assert_true(atomic_load(&calls[1]) > 0);
    atomic_store(&calls[0], 0);
    atomic_store(&calls[1], 0);
    for (int k = 0; k < 40; k++)
        assert_int_equal(sl_client_unary(ch, M("EmptyCall"), &req.base,
                                         &grpc__testing__empty__descriptor, a, &resp, &o, &err),
                         SL_OK);
    assert_true(atomic_load(&calls[0]) >= 15 && atomic_load(&calls[1]) >= 15);

    /* and NOT_SERVING again while connected: routed around within moments */
    sl_health_set_degraded(sl_server_health(srv[0]), true);
    sleep_ms(200);
    atomic_store(&calls[0], 0);
    atomic_store(&calls[1], 0);
    for (int k = 0; k < 40; k++)
        assert_int_equal(sl_client_unary(ch, M("EmptyCall"), &req.base,
                                         &grpc__testing__empty__descriptor, a, &resp, &o, &err),
                         SL_OK);
    assert_int_equal(atomic_load(&calls[0]), 0);
    assert_int_equal(atomic_load(&calls[1]), 40);

    /* every replica NOT_SERVING: no subchannel is READY; a wait-for-ready
     * call waits (and times out), a fail-fast call fails UNAVAILABLE */
    sl_health_set_degraded(sl_server_health(srv[1]), true);
    sleep_ms(200);
    sl_call_options wait = {.timeout_ms = 500, .idempotent = true};
    sl_status st = sl_client_unary(ch, M("EmptyCall"), &req.base, &grpc__testing__empty__descriptor,
                                   a, &resp, &wait, &err);
    fprintf(stderr, "every replica NOT_SERVING: %s %s\n", sl_status_name(st), err.msg);
    assert_true(st == SL_DEADLINE_EXCEEDED || st == SL_UNAVAILABLE);
    assert_int_equal(atomic_load(&calls[0]) + atomic_load(&calls[1]), 40);

    sl_arena_destroy(a);
    sl_channel_destroy(ch);
    for (int i = 0; i < 2; i++)
        sl_server_destroy(srv[i]);
}

int main(void)
{
    sl_log_init("test-server", SL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unary_echo_and_request_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_status_and_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_streaming, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_exceeded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_cancellation_ends_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_next_timeout_keeps_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_streaming, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bidi_streaming, setup, teardown),
        cmocka_unit_test_setup_teardown(test_four_mib_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_method_and_service, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_payload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interceptor_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_2000_concurrent_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_check_and_watch, setup, teardown),
        cmocka_unit_test(test_method_table_checked),
        cmocka_unit_test(test_max_connection_age_reconnects),
        cmocka_unit_test(test_retry_until_server_appears),
        cmocka_unit_test(test_health_answers_while_workers_are_blocked),
        cmocka_unit_test(test_no_call_waits_behind_a_busy_worker),
        cmocka_unit_test(test_idempotent_call_rides_over_a_peer_restart),
        cmocka_unit_test(test_round_robin_skips_a_not_serving_replica),
        cmocka_unit_test(test_sigterm_drain),
        cmocka_unit_test(test_shutdown_ends_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
