/*
 * sl_connect: the Connect protocol over sl_http (see sl_connect.h).
 *
 * A unary request is served start to finish on the libmicrohttpd thread
 * that read it, with an arena of its own: headers checked, the body handed
 * to the dispatcher (JSON transcoded to protobuf bytes on the way in, by
 * sl_json, so every check downstream sees what a gRPC call would), the
 * reply or the error written out.
 *
 * A server stream answers 200 at once with a streamed body (sl_http's
 * streams) and runs on a thread of its own, as a gRPC stream does: the
 * dispatcher's in-process stream (sl_server_stream_local) calls back with
 * each message, which goes out enveloped; the end-stream message carries
 * the status.  What the request carried (headers, peer, the one enveloped
 * message) is copied for that thread, since the connection may close
 * under it.
 */
#include "sl_connect.h"

#include <jansson.h>
#include <pthread.h>
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
static const char media_stream_json[] = "application/connect+json";
static const char media_stream_proto[] = "application/connect+proto";

/* Envelope flags of the streaming form: the end-stream message's bit. */
#define ENVELOPE_END_STREAM 0x02
#define ENVELOPE_HEADER 5

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

/* Connect's Error: code, message, and each detail of the call's
 * google.rpc.Status as {type: its full name, value: unpadded base64}.
 * NULL when out of memory. */
static json_t *error_object(sl_status st, const char *msg, const uint8_t *status, size_t status_len,
                            sl_arena *a)
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
    return body;
}

/* The unary form's error: the Error as the body, with the HTTP status of
 * its code (http_status overrides it: 404 for a path naming no method). */
static void error_response(sl_http_response *resp, int http_status, sl_status st, const char *msg,
                           const uint8_t *status, size_t status_len, sl_arena *a)
{
    json_t *body = error_object(st, msg, status, status_len, a);
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

static bool media_is(const char *content_type, size_t n, const char *media)
{
    return n == strlen(media) && strncasecmp(content_type, media, n) == 0;
}

/* The media type of a Content-Type value, parameters (";charset=utf-8")
 * dropped: media_json, media_proto (the unary form), media_stream_json,
 * media_stream_proto (the streaming form), or NULL for anything else or
 * for the other form's. */
static const char *codec_of(const char *content_type, bool streaming)
{
    if (content_type == NULL)
        return NULL;
    size_t n = strcspn(content_type, "; \t");
    if (streaming)
        return media_is(content_type, n, media_stream_json)    ? media_stream_json
               : media_is(content_type, n, media_stream_proto) ? media_stream_proto
                                                               : NULL;
    return media_is(content_type, n, media_json)    ? media_json
           : media_is(content_type, n, media_proto) ? media_proto
                                                    : NULL;
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
static sl_status check_headers(const sl_http_request *req, bool streaming, const char **codec,
                               int64_t *timeout_ms, int *http_status, sl_err *err)
{
    *http_status = 0;
    *timeout_ms = 0;
    const char *ct = sl_http_header(req, "Content-Type");
    *codec = codec_of(ct, streaming);
    if (*codec == NULL) {
        *http_status = 415;
        return sl_err_set(
            err, SL_INVALID_ARGUMENT, "content type \"%s\" is not served for %s: use %s or %s",
            ct != NULL ? ct : "", req->path, streaming ? media_stream_json : media_json,
            streaming ? media_stream_proto : media_proto);
    }
    const char *version = sl_http_header(req, "Connect-Protocol-Version");
    if (version != NULL && strcmp(version, "1") != 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "Connect-Protocol-Version must be \"1\": got \"%s\"", version);
    const char *enc =
        sl_http_header(req, streaming ? "Connect-Content-Encoding" : "Content-Encoding");
    if (enc != NULL && strcasecmp(enc, "identity") != 0)
        return sl_err_set(err, SL_UNIMPLEMENTED,
                          "Content-Encoding \"%s\" is not supported: send the body uncompressed",
                          enc);
    if (!parse_timeout(sl_http_header(req, "Connect-Timeout-Ms"), timeout_ms))
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "Connect-Timeout-Ms must be 1 to 10 digits of milliseconds");
    return SL_OK;
}

/* ------------------------------------------------------------ streams -- */

/* What a stream's thread needs of its request, copied off the connection. */
typedef struct stream_job {
    sl_server *s;
    sl_http_stream *hs;
    const char *codec; /* media_stream_json or media_stream_proto */
    char *path;
    char *msg; /* the request message, out of its envelope */
    size_t msg_len;
    const char *md[2 * N_PASSED];
    char *md_values[N_PASSED];
    size_t n_md;
    char peer[80];
    int64_t timeout_ms;
} stream_job;

static void job_free(stream_job *j)
{
    for (size_t i = 0; i < j->n_md; i++)
        free(j->md_values[i]);
    free(j->msg);
    free(j->path);
    free(j);
}

/* Writes one enveloped message: flags, the length big-endian, the bytes
 * -- in one piece, so the reader never sees half an envelope ahead of a
 * stall.  False when the client is gone (or out of memory). */
static bool write_envelope(sl_http_stream *hs, uint8_t flags, const void *data, size_t len)
{
    if (len > UINT32_MAX)
        return false;
    uint8_t *buf = sl_malloc(ENVELOPE_HEADER + len);
    if (buf == NULL)
        return false;
    buf[0] = flags;
    buf[1] = (uint8_t)(len >> 24);
    buf[2] = (uint8_t)(len >> 16);
    buf[3] = (uint8_t)(len >> 8);
    buf[4] = (uint8_t)len;
    if (len > 0)
        memcpy(buf + ENVELOPE_HEADER, data, len);
    bool ok = sl_http_stream_write(hs, buf, ENVELOPE_HEADER + len);
    free(buf);
    return ok;
}

/* The stream's last message: {} when it ended OK, else {"error": Error},
 * then the end of the body.  Gives back the writer's reference. */
static void end_stream(sl_http_stream *hs, sl_status st, const char *msg, const uint8_t *status,
                       size_t status_len, sl_arena *a)
{
    json_t *end = json_object();
    if (end != NULL && st != SL_OK)
        json_object_set_new(end, "error", error_object(st, msg, status, status_len, a));
    char *text = end != NULL ? json_dumps(end, JSON_COMPACT) : NULL;
    json_decref(end);
    /* Out of memory: an end-stream message still, with the code alone. */
    static const char oom[] = "{\"error\":{\"code\":\"resource_exhausted\"}}";
    write_envelope(hs, ENVELOPE_END_STREAM, text != NULL ? text : oom,
                   text != NULL ? strlen(text) : strlen(oom));
    free(text);
    sl_http_stream_end(hs);
}

/* sl_local_call's send: one message of the stream, in the request's
 * codec, enveloped. */
static sl_status stream_send(void *ctx, const ProtobufCMessage *msg, sl_err *err)
{
    stream_job *j = ctx;
    char *data;
    size_t len;
    if (j->codec == media_stream_json) {
        sl_status st = sl_json_encode(msg, &data, &len, err);
        if (st != SL_OK)
            return st;
    } else {
        len = protobuf_c_message_get_packed_size(msg);
        data = sl_malloc(len + 1);
        if (data == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        protobuf_c_message_pack(msg, (uint8_t *)data);
    }
    bool ok = write_envelope(j->hs, 0, data, len);
    free(data);
    if (!ok)
        return sl_err_set(err, SL_CANCELLED, "the client went away");
    return SL_OK;
}

static bool stream_gone(void *ctx)
{
    stream_job *j = ctx;
    return sl_http_stream_gone(j->hs);
}

/* A stream's thread: the call through the dispatcher, then the
 * end-stream message with its status. */
static void *stream_main(void *arg)
{
    stream_job *j = arg;
    sl_err err;
    sl_err_clear(&err);
    sl_arena *a = sl_arena_create(0);
    sl_local_call lc = {
        .metadata = j->md,
        .n_metadata = j->n_md,
        .peer = j->peer,
        .timeout_ms = j->timeout_ms,
        .account = true,
        .transcode = j->codec == media_stream_json ? json_to_proto : NULL,
        .send = stream_send,
        .gone = stream_gone,
        .stream_ctx = j,
    };
    sl_status st = a != NULL ? sl_server_stream_local(j->s, j->path, j->msg != NULL ? j->msg : "",
                                                      j->msg_len, &lc, a, &err)
                             : sl_err_set(&err, SL_RESOURCE_EXHAUSTED, "out of memory");
    end_stream(j->hs, st, err.msg, lc.status_details, lc.status_details_len, a);
    sl_arena_destroy(a);
    job_free(j);
    return NULL;
}

/* The request body of a server stream: exactly one enveloped message,
 * uncompressed.  Points *msg into body. */
static sl_status unwrap_request(const sl_http_request *req, const char **msg, size_t *len,
                                sl_err *err)
{
    const uint8_t *b = (const uint8_t *)req->body;
    if (req->body_len < ENVELOPE_HEADER)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "request message missing: a stream's body is one enveloped message "
                          "(flags, 4-byte big-endian length, message)");
    size_t n = (size_t)b[1] << 24 | (size_t)b[2] << 16 | (size_t)b[3] << 8 | (size_t)b[4];
    if (b[0] != 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "request envelope flags 0x%02x: only 0 (uncompressed) is accepted", b[0]);
    if (n != req->body_len - ENVELOPE_HEADER)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "request envelope says %zu bytes but %zu follow: a server stream takes "
                          "exactly one message",
                          n, req->body_len - ENVELOPE_HEADER);
    *msg = req->body + ENVELOPE_HEADER;
    *len = n;
    return SL_OK;
}

/* A copy of what the stream's thread needs of the request.  NULL when out
 * of memory. */
static stream_job *job_make(sl_server *s, const sl_http_request *req, const char *codec,
                            int64_t timeout_ms, const char *msg, size_t msg_len)
{
    stream_job *j = sl_calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->s = s;
    j->codec = codec;
    j->timeout_ms = timeout_ms;
    j->path = sl_strdup(req->path);
    j->msg = sl_malloc(msg_len + 1);
    bool ok = j->path != NULL && j->msg != NULL;
    if (ok) {
        memcpy(j->msg, msg, msg_len);
        j->msg_len = msg_len;
    }
    for (size_t i = 0; i < N_PASSED && ok; i++) {
        const char *v = sl_http_header(req, passed_headers[i]);
        if (v == NULL)
            continue;
        j->md_values[j->n_md] = sl_strdup(v);
        ok = j->md_values[j->n_md] != NULL;
        j->md[2 * j->n_md] = passed_headers[i];
        j->md[2 * j->n_md + 1] = j->md_values[j->n_md];
        if (ok)
            j->n_md++;
    }
    sl_http_peer(req, j->peer, sizeof j->peer);
    if (!ok) {
        job_free(j);
        return NULL;
    }
    return j;
}

/* A POST to a server-streaming method:
 *   1. the content type (415 unless the streaming form's);
 *   2. 200 with a streamed body in that type, from here on every error
 *      is an end-stream message;
 *   3. the other headers and the request's envelope;
 *   4. the call on a thread of its own (stream_main). */
static void serve_stream(sl_server *s, const sl_http_request *req, sl_http_response *resp)
{
    sl_err err;
    sl_err_clear(&err);
    const char *codec;
    int64_t timeout_ms;
    int http_status;
    sl_status st = check_headers(req, true, &codec, &timeout_ms, &http_status, &err);
    if (http_status != 0 && codec_of(sl_http_header(req, "Content-Type"), false) != NULL) {
        /* The unary form of a stream: no such thing (what this face
         * answered before it served streams). */
        sl_err_set(&err, SL_UNIMPLEMENTED,
                   "%s is a server stream: call it in the streaming form (%s or %s)", req->path,
                   media_stream_json, media_stream_proto);
        simple_error(resp, 0, SL_UNIMPLEMENTED, err.msg);
        return;
    }
    if (http_status != 0) {
        simple_error(resp, http_status, st, err.msg);
        return;
    }
    sl_http_stream *hs = sl_http_stream_open(req, resp);
    if (hs == NULL) {
        simple_error(resp, 0, SL_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    resp->status = 200;
    resp->content_type = codec;
    const char *msg = NULL;
    size_t msg_len = 0;
    if (st == SL_OK)
        st = unwrap_request(req, &msg, &msg_len, &err);
    stream_job *j = NULL;
    if (st == SL_OK && (j = job_make(s, req, codec, timeout_ms, msg, msg_len)) == NULL)
        st = sl_err_set(&err, SL_RESOURCE_EXHAUSTED, "out of memory");
    if (st == SL_OK) {
        j->hs = hs;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, stream_main, j) != 0) {
            job_free(j);
            st = sl_err_set(&err, SL_RESOURCE_EXHAUSTED, "could not start a thread for %s",
                            req->path);
        }
        pthread_attr_destroy(&attr);
    }
    if (st != SL_OK) {
        SL_LOG(SL_LOG_INFO, "connect", NULL, "%s stream refused: %s", req->path, err.msg);
        end_stream(hs, st, err.msg, NULL, 0, NULL);
    }
}

/* ------------------------------------------------------------- unary -- */

/* One POST /<service>/<method>:
 *   1. the method (404 unimplemented when the server has none of that
 *      path; a server stream goes to serve_stream, a client or
 *      bidirectional one answers 501);
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
    if (kind == SL_RPC_SERVER_STREAMING) {
        serve_stream(s, req, resp);
        return;
    }
    if (kind != SL_RPC_UNARY) {
        sl_err_set(&err, SL_UNIMPLEMENTED,
                   "%s streams from the client: served over gRPC, not over the Connect protocol",
                   req->path);
        simple_error(resp, 0, SL_UNIMPLEMENTED, err.msg);
        return;
    }
    const char *codec;
    int64_t timeout_ms;
    int http_status;
    sl_status st = check_headers(req, false, &codec, &timeout_ms, &http_status, &err);
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
