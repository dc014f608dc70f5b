/*
 * sl_connect: the Connect protocol's unary form over sl_http (see
 * sl_connect.h).
 *
 * A request is served start to finish on the libmicrohttpd thread that
 * read it, with an arena of its own: headers checked, the body handed to
 * the dispatcher (JSON transcoded to protobuf bytes on the way in, by
 * sl_json, so every check downstream sees what a gRPC call would), the
 * reply or the error written out.
 */
#include "sl_connect.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_arena.h"
#include "sl_json.h"
#include "sl_log.h"
#include "sl_rpc_status.h"

/* The request headers the dispatcher sees as metadata. */
static const char *const passed_headers[] = {"authorization", "x-request-id", "traceparent",
                                             "tracestate"};
#define N_PASSED (sizeof passed_headers / sizeof passed_headers[0])

static const char media_json[] = "application/json";
static const char media_proto[] = "application/proto";

const char *sl_connect_code(sl_status st)
{
    switch (st) {
    case SL_OK:
        return "ok";
    case SL_CANCELLED:
        return "canceled";
    case SL_UNKNOWN:
        return "unknown";
    case SL_INVALID_ARGUMENT:
        return "invalid_argument";
    case SL_DEADLINE_EXCEEDED:
        return "deadline_exceeded";
    case SL_NOT_FOUND:
        return "not_found";
    case SL_ALREADY_EXISTS:
        return "already_exists";
    case SL_PERMISSION_DENIED:
        return "permission_denied";
    case SL_RESOURCE_EXHAUSTED:
        return "resource_exhausted";
    case SL_FAILED_PRECONDITION:
        return "failed_precondition";
    case SL_ABORTED:
        return "aborted";
    case SL_OUT_OF_RANGE:
        return "out_of_range";
    case SL_UNIMPLEMENTED:
        return "unimplemented";
    case SL_INTERNAL:
        return "internal";
    case SL_UNAVAILABLE:
        return "unavailable";
    case SL_DATA_LOSS:
        return "data_loss";
    case SL_UNAUTHENTICATED:
        return "unauthenticated";
    }
    return "unknown";
}

int sl_connect_http_status(sl_status st)
{
    switch (st) {
    case SL_OK:
        return 200;
    case SL_CANCELLED:
        return 499;
    case SL_UNKNOWN:
    case SL_INTERNAL:
    case SL_DATA_LOSS:
        return 500;
    case SL_INVALID_ARGUMENT:
    case SL_FAILED_PRECONDITION:
    case SL_OUT_OF_RANGE:
        return 400;
    case SL_DEADLINE_EXCEEDED:
        return 504;
    case SL_NOT_FOUND:
        return 404;
    case SL_ALREADY_EXISTS:
    case SL_ABORTED:
        return 409;
    case SL_PERMISSION_DENIED:
        return 403;
    case SL_RESOURCE_EXHAUSTED:
        return 429;
    case SL_UNIMPLEMENTED:
        return 501;
    case SL_UNAVAILABLE:
        return 503;
    case SL_UNAUTHENTICATED:
        return 401;
    }
    return 500;
}

/* Connect's error body: code, message, and each detail of the call's
 * google.rpc.Status as {type: its full name, value: unpadded base64}.
 * http_status overrides the code's (404 for a path naming no method). */
static void error_response(sl_http_response *resp, int http_status, sl_status st, const char *msg,
                           const uint8_t *status, size_t status_len, sl_arena *a)
{
    json_t *body = json_object();
    json_t *details = json_array();
    sl_rpc_detail *d = NULL;
    size_t n = 0;
    if (status != NULL && status_len > 0 && !sl_rpc_status_details(status, status_len, a, &d, &n))
        n = 0;
    size_t pl = strlen(SL_RPC_TYPE_URL_PREFIX);
    for (size_t i = 0; i < n && details != NULL; i++) {
        const char *type = d[i].type_url;
        if (strncmp(type, SL_RPC_TYPE_URL_PREFIX, pl) == 0)
            type += pl;
        char *value = sl_base64_encode(d[i].value, d[i].len, false, a);
        if (value != NULL)
            json_array_append_new(details, json_pack("{s:s, s:s}", "type", type, "value", value));
    }
    if (body != NULL) {
        json_object_set_new(body, "code", json_string(sl_connect_code(st)));
        if (msg != NULL && msg[0] != '\0')
            json_object_set_new(body, "message", json_string(msg));
        if (details != NULL && json_array_size(details) > 0)
            json_object_set(body, "details", details);
    }
    json_decref(details);
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL) {
        sl_http_text(resp, 500, NULL, "out of memory\n");
        return;
    }
    /* jansson's text comes from the C library's allocator (the suite
     * installs no other), the one sl_http releases the body with. */
    free(resp->body);
    resp->status = http_status > 0 ? http_status : sl_connect_http_status(st);
    resp->content_type = media_json;
    resp->body = text;
    resp->body_len = strlen(text);
}

static void simple_error(sl_http_response *resp, int http_status, sl_status st, const char *msg)
{
    error_response(resp, http_status, st, msg, NULL, 0, NULL);
}

/* sl_local_call's transcode: JSON text -> protobuf bytes of the request
 * type, so the dispatcher checks and decodes it as it does gRPC bytes. */
static sl_status json_to_proto(void *ctx, const ProtobufCMessageDescriptor *request, const void *in,
                               size_t in_len, sl_arena *a, void **out, size_t *out_len, sl_err *err)
{
    (void)ctx;
    ProtobufCMessage *m;
    sl_status st = sl_json_decode(request, in, in_len, a, &m, err);
    if (st != SL_OK)
        return st;
    *out_len = protobuf_c_message_get_packed_size(m);
    *out = sl_arena_alloc(a, *out_len + 1);
    if (*out == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    protobuf_c_message_pack(m, *out);
    return SL_OK;
}

/* The media type of a Content-Type value, parameters (";charset=utf-8")
 * dropped: media_json, media_proto, or NULL for anything else. */
static const char *unary_codec(const char *content_type)
{
    if (content_type == NULL)
        return NULL;
    size_t n = strcspn(content_type, "; \t");
    if (n == strlen(media_json) && strncasecmp(content_type, media_json, n) == 0)
        return media_json;
    if (n == strlen(media_proto) && strncasecmp(content_type, media_proto, n) == 0)
        return media_proto;
    return NULL;
}

/* Connect-Timeout-Ms: at most 10 digits.  False when malformed. */
static bool parse_timeout(const char *v, int64_t *ms)
{
    *ms = 0;
    if (v == NULL)
        return true;
    size_t n = strlen(v);
    if (n == 0 || n > 10 || strspn(v, "0123456789") != n)
        return false;
    *ms = strtoll(v, NULL, 10);
    /* 0 ms is a deadline already passed, not "none". */
    if (*ms == 0)
        *ms = -1;
    return true;
}

/* The protocol's header checks, in the order a client would want them
 * named; OK or the error (with its HTTP status in *http_status, 0: the
 * code's). */
static sl_status check_headers(const sl_http_request *req, const char **codec, int64_t *timeout_ms,
                               int *http_status, sl_err *err)
{
    *http_status = 0;
    const char *ct = sl_http_header(req, "Content-Type");
    *codec = unary_codec(ct);
    if (*codec == NULL) {
        *http_status = 415;
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "content type \"%s\" is not served: use application/json or "
                          "application/proto",
                          ct != NULL ? ct : "");
    }
    const char *version = sl_http_header(req, "Connect-Protocol-Version");
    if (version != NULL && strcmp(version, "1") != 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "Connect-Protocol-Version must be \"1\": got \"%s\"", version);
    const char *enc = sl_http_header(req, "Content-Encoding");
    if (enc != NULL && strcasecmp(enc, "identity") != 0)
        return sl_err_set(err, SL_UNIMPLEMENTED,
                          "Content-Encoding \"%s\" is not supported: send the body uncompressed",
                          enc);
    if (!parse_timeout(sl_http_header(req, "Connect-Timeout-Ms"), timeout_ms))
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "Connect-Timeout-Ms must be 1 to 10 digits of milliseconds");
    return SL_OK;
}

/* One POST /<service>/<method>:
 *   1. the method (404 unimplemented when the server has none of that
 *      path; 501 for a streaming one);
 *   2. the headers (content type, protocol version, compression, timeout);
 *   3. the call through the dispatcher, with the passed headers as
 *      metadata and JSON transcoded;
 *   4. the reply in the request's codec, or Connect's error body. */
static void connect_handler(void *ctx, const sl_http_request *req, sl_http_response *resp)
{
    sl_server *s = ctx;
    sl_rpc_kind kind;
    const ProtobufCMessageDescriptor *rq, *rs;
    sl_err err;
    sl_err_clear(&err);
    if (!sl_server_method_info(s, req->path, &kind, &rq, &rs)) {
        sl_err_set(&err, SL_UNIMPLEMENTED, "unknown method \"%s\"", req->path);
        simple_error(resp, 404, SL_UNIMPLEMENTED, err.msg);
        return;
    }
    if (kind != SL_RPC_UNARY) {
        sl_err_set(&err, SL_UNIMPLEMENTED,
                   "%s streams: served over gRPC, not yet over the Connect protocol", req->path);
        simple_error(resp, 0, SL_UNIMPLEMENTED, err.msg);
        return;
    }
    const char *codec;
    int64_t timeout_ms;
    int http_status;
    sl_status st = check_headers(req, &codec, &timeout_ms, &http_status, &err);
    if (st != SL_OK) {
        simple_error(resp, http_status, st, err.msg);
        return;
    }
    sl_arena *a = sl_arena_create(0);
    if (a == NULL) {
        simple_error(resp, 0, SL_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    const char *md[2 * N_PASSED];
    size_t n_md = 0;
    for (size_t i = 0; i < N_PASSED; i++) {
        const char *v = sl_http_header(req, passed_headers[i]);
        if (v != NULL) {
            md[2 * n_md] = passed_headers[i];
            md[2 * n_md + 1] = v;
            n_md++;
        }
    }
    char peer[80];
    sl_local_call lc = {
        .metadata = md,
        .n_metadata = n_md,
        .peer = sl_http_peer(req, peer, sizeof peer),
        .timeout_ms = timeout_ms,
        .account = true,
        .transcode = codec == media_json ? json_to_proto : NULL,
    };
    void *out = NULL;
    size_t out_len = 0;
    st = sl_server_call_local_ex(s, req->path, req->body != NULL ? req->body : "", req->body_len,
                                 &lc, a, &out, &out_len, &err);
    if (st == SL_OK && codec == media_json) {
        char *text;
        size_t len;
        st = sl_json_encode(lc.response, &text, &len, &err);
        if (st == SL_OK) {
            resp->body = text;
            resp->body_len = len;
        }
    } else if (st == SL_OK) {
        resp->body = sl_malloc(out_len + 1);
        if (resp->body == NULL)
            st = sl_err_set(&err, SL_RESOURCE_EXHAUSTED, "out of memory");
        else if (out_len > 0)
            memcpy(resp->body, out, out_len);
        resp->body_len = resp->body != NULL ? out_len : 0;
    }
    if (st == SL_OK) {
        resp->status = 200;
        resp->content_type = codec;
    } else {
        error_response(resp, 0, st, err.msg, lc.status_details, lc.status_details_len, a);
    }
    sl_arena_destroy(a);
}

sl_status sl_connect_route(sl_http *h, sl_server *s, sl_err *err)
{
    const char *names[32];
    size_t n = sl_server_services(s, names, sizeof names / sizeof names[0]);
    if (n > sizeof names / sizeof names[0])
        n = sizeof names / sizeof names[0];
    for (size_t i = 0; i < n; i++) {
        char path[256];
        snprintf(path, sizeof path, "/%s/", names[i]);
        sl_status st = sl_http_route(h, "POST", path, true, connect_handler, s, err);
        if (st != SL_OK)
            return st;
    }
    /* Any other path of the suite's package: a Connect 404, so a client
     * with a typo in the service name learns it in the protocol's terms. */
    return sl_http_route(h, "POST", "/shelfline.v1.", true, connect_handler, s, err);
}
