/*
 * The suite's peer-call policy (sl_client_call_from), a method's validate
 * slot and rich error details, over loopback: a "front" server whose
 * handlers call a "back" server, both grpc.testing.TestService with
 * handlers defined here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grpc/testing/empty.pb-c.h"
#include "grpc/testing/messages.pb-c.h"
#include "grpc/testing/test.pb-c.h"
#include "sl_client.h"
#include "sl_log.h"
#include "sl_server.h"
#include "sl_test.h"

#define M(name) "/grpc.testing.TestService/" name
#define PAYLOAD_TYPE_URL "type.googleapis.com/grpc.testing.Payload"

static sl_channel *back_channel; /* the front's channel to the back */
static atomic_int back_calls;    /* UnaryCall calls the back served */
static atomic_int front_empty_calls;

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Back UnaryCall: answers what it saw: x-request-id in username,
 * traceparent in oauth_scope, tracestate in server_id, the milliseconds
 * left before its deadline in hostname. */
static sl_status back_unary(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp_msg,
                            sl_err *err)
{
    (void)req;
    (void)err;
    atomic_fetch_add(&back_calls, 1);
    Grpc__Testing__SimpleResponse *resp = (Grpc__Testing__SimpleResponse *)resp_msg;
    const char *tp = sl_call_metadata(call, "traceparent", NULL);
    const char *ts = sl_call_metadata(call, "tracestate", NULL);
    resp->username = (char *)sl_call_request_id(call);
    resp->oauth_scope = (char *)(tp != NULL ? tp : "");
    resp->server_id = (char *)(ts != NULL ? ts : "");
    char *left = sl_arena_alloc(sl_call_arena(call), 32);
    snprintf(left, 32, "%lld", (long long)sl_call_remaining_ms(call));
    resp->hostname = left;
    return SL_OK;
}

/* Front UnaryCall: sleeps response_size ms, then asks the back under a
 * 10 s budget and answers what the back answered, with its own span id as
 * the payload's body.  With fill_oauth_scope it calls the back with plain
 * sl_client_unary and no options, as a call site that forgets everything
 * would. */
static sl_status front_unary(sl_call *call, const ProtobufCMessage *req_msg,
                             ProtobufCMessage *resp_msg, sl_err *err)
{
    const Grpc__Testing__SimpleRequest *req = (const Grpc__Testing__SimpleRequest *)req_msg;
    if (req->response_size > 0)
        sleep_ms(req->response_size);
    static const sl_call_options policy = {.timeout_ms = 10000, .idempotent = true};
    Grpc__Testing__SimpleRequest breq = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    ProtobufCMessage *bresp = NULL;
    sl_status st = req->fill_oauth_scope
                       ? sl_client_unary(back_channel, M("UnaryCall"), &breq.base,
                                         &grpc__testing__simple_response__descriptor,
                                         sl_call_arena(call), &bresp, NULL, err)
                       : sl_client_call_from(call, back_channel, M("UnaryCall"), &breq.base,
                                             &grpc__testing__simple_response__descriptor,
                                             sl_call_arena(call), &bresp, &policy, err);
    if (st != SL_OK)
        return st;
    Grpc__Testing__SimpleResponse *resp = (Grpc__Testing__SimpleResponse *)resp_msg;
    *resp = *(Grpc__Testing__SimpleResponse *)bresp;
    Grpc__Testing__Payload *p = sl_arena_alloc(sl_call_arena(call), sizeof *p);
    grpc__testing__payload__init(p);
    p->body.data = (uint8_t *)sl_call_trace(call)->span_id;
    p->body.len = strlen(sl_call_trace(call)->span_id);
    resp->payload = p;
    return SL_OK;
}

/* Front EmptyCall: counts itself; its validate slot refuses everything. */
static sl_status front_empty(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                             sl_err *err)
{
    (void)call;
    (void)req;
    (void)resp;
    (void)err;
    atomic_fetch_add(&front_empty_calls, 1);
    return SL_OK;
}

static sl_status refuse_all(const ProtobufCMessage *req, sl_err *err)
{
    (void)req;
    return sl_err_set(err, SL_INVALID_ARGUMENT, "field must be something else");
}

/* Front CacheableUnaryCall: fails FAILED_PRECONDITION with a Payload of
 * the request's payload body as its rich error detail. */
static sl_status front_detail(sl_call *call, const ProtobufCMessage *req_msg,
                              ProtobufCMessage *resp, sl_err *err)
{
    (void)resp;
    const Grpc__Testing__SimpleRequest *req = (const Grpc__Testing__SimpleRequest *)req_msg;
    Grpc__Testing__Payload p = GRPC__TESTING__PAYLOAD__INIT;
    if (req->payload != NULL)
        p.body = req->payload->body;
    size_t len = protobuf_c_message_get_packed_size(&p.base);
    uint8_t *buf = sl_arena_alloc(sl_call_arena(call), len + 1);
    protobuf_c_message_pack(&p.base, buf);
    sl_err_set(err, SL_FAILED_PRECONDITION, "not now");
    assert_int_equal(
        sl_call_add_error_detail(call, &grpc__testing__payload__descriptor, buf, len, NULL), SL_OK);
    return SL_FAILED_PRECONDITION;
}

static sl_status unused_unary(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    (void)call;
    (void)req;
    (void)resp;
    return sl_err_set(err, SL_UNIMPLEMENTED, "not in this test");
}

static sl_status unused_stream(sl_call *call, const ProtobufCMessage *req, sl_err *err)
{
    (void)call;
    (void)req;
    return sl_err_set(err, SL_UNIMPLEMENTED, "not in this test");
}

#define STREAMS(kind_out, kind_in)                                                                 \
    {"StreamingOutputCall", kind_out, NULL, NULL, NULL, unused_stream, NULL, 0, NULL},             \
        {"StreamingInputCall", kind_in, NULL, NULL, NULL, unused_stream, NULL, 0, NULL},           \
        {"FullDuplexCall", SL_RPC_BIDI_STREAMING, NULL, NULL, NULL, unused_stream, NULL, 0, NULL}, \
    {                                                                                              \
        "HalfDuplexCall", SL_RPC_BIDI_STREAMING, NULL, NULL, NULL, unused_stream, NULL, 0, NULL    \
    }

static const sl_method back_methods[] = {
    SL_UNARY("EmptyCall", unused_unary, NULL, 0, SL_ROLES_ANY),
    SL_UNARY("UnaryCall", back_unary, NULL, SL_METHOD_READ_ONLY, SL_ROLES_ANY),
    SL_UNARY("CacheableUnaryCall", unused_unary, NULL, 0, SL_ROLES_ANY),
    SL_UNARY("UnimplementedCall", unused_unary, NULL, 0, SL_ROLES_ANY),
    STREAMS(SL_RPC_SERVER_STREAMING, SL_RPC_CLIENT_STREAMING),
};

static const sl_method front_methods[] = {
    SL_UNARY("EmptyCall", front_empty, refuse_all, 0, SL_ROLES_ANY),
    SL_UNARY("UnaryCall", front_unary, NULL, SL_METHOD_READ_ONLY, SL_ROLES_ANY),
    SL_UNARY("CacheableUnaryCall", front_detail, NULL, 0, SL_ROLES_ANY),
    SL_UNARY("UnimplementedCall", unused_unary, NULL, 0, SL_ROLES_ANY),
    STREAMS(SL_RPC_SERVER_STREAMING, SL_RPC_CLIENT_STREAMING),
};

typedef struct fixture {
    sl_server *back, *front;
    sl_channel *ch; /* the test's channel to the front */
    sl_arena *arena;
} fixture;

static sl_server *start(const sl_method *methods, size_t n)
{
    sl_server *srv;
    sl_err err;
    sl_server_options o = {.listen = "127.0.0.1:0", .workers = 2};
    assert_int_equal(sl_server_create(&o, &srv, &err), SL_OK);
    static sl_service_def defs[2];
    static int used;
    sl_service_def *def = &defs[used++ % 2];
    *def = (sl_service_def){&grpc__testing__test_service__descriptor, methods, n, NULL};
    if (sl_server_add_service(srv, def, &err) != SL_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(sl_server_start(srv, &err), SL_OK);
    return srv;
}

static int setup(void **state)
{
    sl_log_init("test_peer_call", SL_LOG_WARN);
    fixture *f = calloc(1, sizeof *f);
    f->back = start(back_methods, sizeof back_methods / sizeof back_methods[0]);
    f->front = start(front_methods, sizeof front_methods / sizeof front_methods[0]);
    char target[64];
    sl_err err;
    snprintf(target, sizeof target, "127.0.0.1:%d", sl_server_port(f->back));
    assert_int_equal(sl_channel_create(target, NULL, &back_channel, &err), SL_OK);
    snprintf(target, sizeof target, "127.0.0.1:%d", sl_server_port(f->front));
    assert_int_equal(sl_channel_create(target, NULL, &f->ch, &err), SL_OK);
    f->arena = sl_arena_create(0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sl_channel_destroy(f->ch);
    sl_server_destroy(f->front);
    sl_channel_destroy(back_channel);
    sl_server_destroy(f->back);
    sl_arena_destroy(f->arena);
    free(f);
    return 0;
}

static void test_peer_call_carries_request_id_and_trace_context(void **state)
{
    fixture *f = *state;
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    ProtobufCMessage *m;
    sl_err err;
    sl_call_options o = {.timeout_ms = 5000,
                         .request_id = "order-42-attempt-1",
                         .traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                         .tracestate = "shelfline=1"};
    assert_int_equal(sl_client_unary(f->ch, M("UnaryCall"), &req.base,
                                     &grpc__testing__simple_response__descriptor, f->arena, &m, &o,
                                     &err),
                     SL_OK);
    for (int plain = 0; plain < 2; plain++) {
        /* Through sl_client_call_from, then through a bare sl_client_unary
         * that passes nothing: both carry the context. */
        req.fill_oauth_scope = plain;
        assert_int_equal(sl_client_unary(f->ch, M("UnaryCall"), &req.base,
                                         &grpc__testing__simple_response__descriptor, f->arena, &m,
                                         &o, &err),
                         SL_OK);
        const Grpc__Testing__SimpleResponse *r = (const Grpc__Testing__SimpleResponse *)m;
        assert_string_equal(r->username, "order-42-attempt-1");
        /* The same trace; the parent is the front's own span, new, not the
         * client's. */
        char want[64];
        assert_non_null(r->payload);
        assert_int_equal(r->payload->body.len, 16);
        snprintf(want, sizeof want, "00-4bf92f3577b34da6a3ce929d0e0e4736-%.16s-01",
                 (const char *)r->payload->body.data);
        assert_string_equal(r->oauth_scope, want);
        assert_memory_not_equal(r->payload->body.data, "00f067aa0ba902b7", 16);
        assert_string_equal(r->server_id, "shelfline=1");
    }

    /* An invalid traceparent (upper-case hex) starts a new trace, and its
     * tracestate goes with it; no headers at all: a new trace and a new
     * request id, still forwarded. */
    o.traceparent = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01";
    req.fill_oauth_scope = 0;
    for (int none = 0; none < 2; none++) {
        if (none)
            o = (sl_call_options){.timeout_ms = 5000};
        assert_int_equal(sl_client_unary(f->ch, M("UnaryCall"), &req.base,
                                         &grpc__testing__simple_response__descriptor, f->arena, &m,
                                         &o, &err),
                         SL_OK);
        const Grpc__Testing__SimpleResponse *r = (const Grpc__Testing__SimpleResponse *)m;
        char trace_id[33], parent[17];
        uint8_t flags;
        assert_true(
            sl_trace_parse(r->oauth_scope, strlen(r->oauth_scope), trace_id, parent, &flags));
        assert_string_not_equal(trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_memory_equal(parent, r->payload->body.data, 16);
        assert_string_equal(r->server_id, "");
        assert_int_equal(strlen(r->username), none ? 16 : strlen("order-42-attempt-1"));
    }
}

static void test_callee_deadline_is_bounded_by_the_callers(void **state)
{
    fixture *f = *state;
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    ProtobufCMessage *m;
    sl_err err;
    /* The front's own budget for the back is 10 s; its caller gave 2 s. */
    sl_call_options o = {.timeout_ms = 2000};
    assert_int_equal(sl_client_unary(f->ch, M("UnaryCall"), &req.base,
                                     &grpc__testing__simple_response__descriptor, f->arena, &m, &o,
                                     &err),
                     SL_OK);
    long long left = strtoll(((const Grpc__Testing__SimpleResponse *)m)->hostname, NULL, 10);
    assert_true(left > 0);
    /* Unbounded, the back would have had about 10 s.  (gRPC rounds the
     * grpc-timeout it sends up to a coarser unit, so the margin the front
     * keeps is not visible to the millisecond.) */
    if (left > 2000)
        fail_msg("the back had %lld ms", left);
}

static void test_no_time_left_fails_without_calling_the_peer(void **state)
{
    fixture *f = *state;
    int before = atomic_load(&back_calls);
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    req.response_size = 300; /* the front works past its caller's deadline */
    ProtobufCMessage *m;
    sl_err err;
    sl_call_options o = {.timeout_ms = 250};
    assert_int_equal(sl_client_unary(f->ch, M("UnaryCall"), &req.base,
                                     &grpc__testing__simple_response__descriptor, f->arena, &m, &o,
                                     &err),
                     SL_DEADLINE_EXCEEDED);
    sleep_ms(200); /* the front's handler has finished by now */
    assert_int_equal(atomic_load(&back_calls), before);
}

static void test_validate_slot_refuses_before_the_handler(void **state)
{
    fixture *f = *state;
    Grpc__Testing__Empty req = GRPC__TESTING__EMPTY__INIT;
    ProtobufCMessage *m;
    sl_err err;
    sl_call_options o = {.timeout_ms = 5000};
    EXPECT(sl_client_unary(f->ch, M("EmptyCall"), &req.base, &grpc__testing__empty__descriptor,
                           f->arena, &m, &o, &err),
           SL_INVALID_ARGUMENT, err, "field must be something else");
    assert_int_equal(atomic_load(&front_empty_calls), 0);
}

static void test_rich_error_detail_reaches_the_client(void **state)
{
    fixture *f = *state;
    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    Grpc__Testing__Payload p = GRPC__TESTING__PAYLOAD__INIT;
    p.body.data = (uint8_t *)"short by 3";
    p.body.len = 10;
    req.payload = &p;
    ProtobufCMessage *m;
    sl_err err;
    const uint8_t *details = NULL;
    size_t details_len = 0;
    sl_call_options o = {
        .timeout_ms = 5000, .status_details = &details, .status_details_len = &details_len};
    EXPECT(sl_client_unary(f->ch, M("CacheableUnaryCall"), &req.base,
                           &grpc__testing__simple_response__descriptor, f->arena, &m, &o, &err),
           SL_FAILED_PRECONDITION, err, "not now");
    assert_true(details_len > 0);
    const uint8_t *v;
    size_t vlen;
    assert_true(
        sl_client_status_detail(details, details_len, PAYLOAD_TYPE_URL, f->arena, &v, &vlen));
    Grpc__Testing__Payload *got = grpc__testing__payload__unpack(NULL, vlen, v);
    assert_non_null(got);
    assert_int_equal(got->body.len, 10);
    assert_memory_equal(got->body.data, "short by 3", 10);
    grpc__testing__payload__free_unpacked(got, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_call_carries_request_id_and_trace_context),
        cmocka_unit_test(test_callee_deadline_is_bounded_by_the_callers),
        cmocka_unit_test(test_no_time_left_fails_without_calling_the_peer),
        cmocka_unit_test(test_validate_slot_refuses_before_the_handler),
        cmocka_unit_test(test_rich_error_detail_reaches_the_client),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
