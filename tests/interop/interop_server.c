/*
 * shelfline-interop-server: the standard grpc.testing.TestService served by
 * the common library, so that the official interop clients of other gRPC
 * implementations can check our server against the spec
 * (doc/interop-test-descriptions.md in the gRPC repository).
 *
 * usage: shelfline-interop-server --port=N [--workers=N] [--use_tls=false]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grpc/testing/empty.pb-c.h"
#include "grpc/testing/messages.pb-c.h"
#include "grpc/testing/test.pb-c.h"
#include "sl_config.h"
#include "sl_log.h"
#include "sl_server.h"

#define ECHO_INITIAL "x-grpc-test-echo-initial"
#define ECHO_TRAILING "x-grpc-test-echo-trailing-bin"

/* Echoes the custom-metadata test's keys back, as the spec asks. */
static sl_status echo_metadata(sl_call *call, sl_err *err)
{
    size_t len;
    const char *v = sl_call_metadata(call, ECHO_INITIAL, &len);
    if (v != NULL) {
        sl_status st = sl_call_add_initial_metadata(call, ECHO_INITIAL, v, len, err);
        if (st != SL_OK)
            return st;
    }
    v = sl_call_metadata(call, ECHO_TRAILING, &len);
    if (v != NULL)
        return sl_call_add_trailing_metadata(call, ECHO_TRAILING, v, len, err);
    return SL_OK;
}

static sl_status requested_status(const Grpc__Testing__EchoStatus *es, sl_err *err)
{
    if (es == NULL || es->code == 0)
        return SL_OK;
    return sl_err_set(err, sl_status_from_grpc_code(es->code), "%s",
                      es->message != NULL ? es->message : "");
}

static sl_status make_payload(sl_call *call, int32_t size, Grpc__Testing__Payload **out,
                              sl_err *err)
{
    if (size < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "response_size must not be negative");
    Grpc__Testing__Payload *p = sl_arena_alloc(sl_call_arena(call), sizeof *p);
    uint8_t *body = sl_arena_zalloc(sl_call_arena(call), (size_t)size + 1);
    if (p == NULL || body == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    grpc__testing__payload__init(p);
    p->body.data = body;
    p->body.len = (size_t)size;
    *out = p;
    return SL_OK;
}

static sl_status empty_call(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err)
{
    (void)req;
    (void)resp;
    return echo_metadata(call, err);
}

static sl_status unary_call(sl_call *call, const ProtobufCMessage *req_msg,
                            ProtobufCMessage *resp_msg, sl_err *err)
{
    const Grpc__Testing__SimpleRequest *req = (const Grpc__Testing__SimpleRequest *)req_msg;
    Grpc__Testing__SimpleResponse *resp = (Grpc__Testing__SimpleResponse *)resp_msg;
    sl_status st = echo_metadata(call, err);
    if (st != SL_OK)
        return st;
    st = requested_status(req->response_status, err);
    if (st != SL_OK)
        return st;
    return make_payload(call, req->response_size, &resp->payload, err);
}

static sl_status unimplemented_call(sl_call *call, const ProtobufCMessage *req,
                                    ProtobufCMessage *resp, sl_err *err)
{
    (void)call;
    (void)req;
    (void)resp;
    return sl_err_set(err, SL_UNIMPLEMENTED, "UnimplementedCall is not implemented");
}

static void sleep_us(int32_t us)
{
    if (us <= 0)
        return;
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Sends the responses one StreamingOutputCallRequest asks for. */
static sl_status send_responses(sl_call *call, const Grpc__Testing__StreamingOutputCallRequest *req,
                                sl_err *err)
{
    for (size_t i = 0; i < req->n_response_parameters; i++) {
        const Grpc__Testing__ResponseParameters *rp = req->response_parameters[i];
        sleep_us(rp->interval_us);
        Grpc__Testing__StreamingOutputCallResponse resp =
            GRPC__TESTING__STREAMING_OUTPUT_CALL_RESPONSE__INIT;
        sl_status st = make_payload(call, rp->size, &resp.payload, err);
        if (st == SL_OK)
            st = sl_call_send(call, &resp.base, err);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

static sl_status streaming_output_call(sl_call *call, const ProtobufCMessage *req_msg, sl_err *err)
{
    const Grpc__Testing__StreamingOutputCallRequest *req =
        (const Grpc__Testing__StreamingOutputCallRequest *)req_msg;
    sl_status st = echo_metadata(call, err);
    if (st == SL_OK)
        st = send_responses(call, req, err);
    if (st == SL_OK)
        st = requested_status(req->response_status, err);
    return st;
}

static sl_status streaming_input_call(sl_call *call, const ProtobufCMessage *unused, sl_err *err)
{
    (void)unused;
    sl_status st = echo_metadata(call, err);
    if (st != SL_OK)
        return st;
    sl_arena *scratch = sl_arena_create(0);
    if (scratch == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    int64_t total = 0;
    for (;;) {
        ProtobufCMessage *m;
        st = sl_call_recv(call, scratch, &m, err);
        if (st != SL_OK || m == NULL)
            break;
        const Grpc__Testing__StreamingInputCallRequest *r =
            (const Grpc__Testing__StreamingInputCallRequest *)m;
        if (r->payload != NULL)
            total += (int64_t)r->payload->body.len;
        sl_arena_reset(scratch);
    }
    sl_arena_destroy(scratch);
    if (st != SL_OK)
        return st;
    Grpc__Testing__StreamingInputCallResponse resp =
        GRPC__TESTING__STREAMING_INPUT_CALL_RESPONSE__INIT;
    resp.aggregated_payload_size = (int32_t)total;
    return sl_call_send(call, &resp.base, err);
}

static sl_status full_duplex_call(sl_call *call, const ProtobufCMessage *unused, sl_err *err)
{
    (void)unused;
    sl_status st = echo_metadata(call, err);
    if (st != SL_OK)
        return st;
    sl_arena *scratch = sl_arena_create(0);
    if (scratch == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (;;) {
        ProtobufCMessage *m;
        st = sl_call_recv(call, scratch, &m, err);
        if (st != SL_OK || m == NULL)
            break;
        const Grpc__Testing__StreamingOutputCallRequest *r =
            (const Grpc__Testing__StreamingOutputCallRequest *)m;
        st = requested_status(r->response_status, err);
        if (st == SL_OK)
            st = send_responses(call, r, err);
        sl_arena_reset(scratch);
        if (st != SL_OK)
            break;
    }
    sl_arena_destroy(scratch);
    return st;
}

/* Reads every request first, then answers them in order. */
static sl_status half_duplex_call(sl_call *call, const ProtobufCMessage *unused, sl_err *err)
{
    (void)unused;
    sl_status st = echo_metadata(call, err);
    if (st != SL_OK)
        return st;
    ProtobufCMessage **reqs = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        ProtobufCMessage *m;
        st = sl_call_recv(call, NULL, &m, err);
        if (st != SL_OK || m == NULL)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            ProtobufCMessage **v = sl_arena_alloc(sl_call_arena(call), cap * sizeof *v);
            if (v == NULL)
                return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            if (n > 0)
                memcpy(v, reqs, n * sizeof *v);
            reqs = v;
        }
        reqs[n++] = m;
    }
    for (size_t i = 0; st == SL_OK && i < n; i++)
        st = send_responses(call, (const Grpc__Testing__StreamingOutputCallRequest *)reqs[i], err);
    return st;
}

#define M(name) "/grpc.testing.TestService/" name
static const sl_method test_methods[] = {
    {M("EmptyCall"), SL_RPC_UNARY, &grpc__testing__empty__descriptor,
     &grpc__testing__empty__descriptor, empty_call, NULL},
    {M("UnaryCall"), SL_RPC_UNARY, &grpc__testing__simple_request__descriptor,
     &grpc__testing__simple_response__descriptor, unary_call, NULL},
    {M("CacheableUnaryCall"), SL_RPC_UNARY, &grpc__testing__simple_request__descriptor,
     &grpc__testing__simple_response__descriptor, unary_call, NULL},
    {M("StreamingOutputCall"), SL_RPC_SERVER_STREAMING,
     &grpc__testing__streaming_output_call_request__descriptor,
     &grpc__testing__streaming_output_call_response__descriptor, NULL, streaming_output_call},
    {M("StreamingInputCall"), SL_RPC_CLIENT_STREAMING,
     &grpc__testing__streaming_input_call_request__descriptor,
     &grpc__testing__streaming_input_call_response__descriptor, NULL, streaming_input_call},
    {M("FullDuplexCall"), SL_RPC_BIDI_STREAMING,
     &grpc__testing__streaming_output_call_request__descriptor,
     &grpc__testing__streaming_output_call_response__descriptor, NULL, full_duplex_call},
    {M("HalfDuplexCall"), SL_RPC_BIDI_STREAMING,
     &grpc__testing__streaming_output_call_request__descriptor,
     &grpc__testing__streaming_output_call_response__descriptor, NULL, half_duplex_call},
    {M("UnimplementedCall"), SL_RPC_UNARY, &grpc__testing__empty__descriptor,
     &grpc__testing__empty__descriptor, unimplemented_call, NULL},
};
#undef M

static int usage(const char *why)
{
    fprintf(stderr,
            "shelfline-interop-server: %s\n"
            "usage: shelfline-interop-server --port=N [--workers=N] [--use_tls=false]\n",
            why);
    return 2;
}

int main(int argc, char **argv)
{
    int64_t port = -1, workers = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--port=", 7) == 0) {
            if (sl_parse_int64(a + 7, &port) != 0 || port < 0 || port > 65535)
                return usage("invalid --port");
        } else if (strncmp(a, "--workers=", 10) == 0) {
            if (sl_parse_int64(a + 10, &workers) != 0 || workers < 1 || workers > 256)
                return usage("invalid --workers (1-256)");
        } else if (strncmp(a, "--use_tls=", 10) == 0) {
            bool tls;
            if (sl_parse_bool(a + 10, &tls) != 0 || tls)
                return usage("only --use_tls=false is supported");
        } else {
            return usage("unknown argument");
        }
    }
    if (port < 0)
        return usage("--port is required");

    sl_log_init("interop-server", SL_LOG_WARN);
    sl_server_block_signals();
    char listen[64];
    /* Loopback only (v4 and v6): the interop tests never leave the machine. */
    snprintf(listen, sizeof listen, "localhost:%d", (int)port);
    sl_server_options opts = {.listen = listen, .workers = (int)workers};
    sl_service_def def = {
        .descriptor = &grpc__testing__test_service__descriptor,
        .methods = test_methods,
        .n_methods = sizeof test_methods / sizeof test_methods[0],
    };
    sl_err err;
    sl_err_clear(&err);
    sl_server *srv = NULL;
    sl_status st = sl_server_create(&opts, &srv, &err);
    if (st == SL_OK)
        st = sl_server_add_service(srv, &def, &err);
    if (st == SL_OK)
        st = sl_server_start(srv, &err);
    if (st != SL_OK) {
        fprintf(stderr, "shelfline-interop-server: %s\n", err.msg);
        sl_server_destroy(srv);
        return 1;
    }
    fprintf(stderr, "shelfline-interop-server: listening on port %d\n", sl_server_port(srv));
    sl_server_wait_signal();
    sl_server_shutdown(srv, 5000);
    sl_server_destroy(srv);
    return 0;
}
