/*
 * sl_client: unary calls and server streams on gRPC core.
 *
 * Every call gets a private pluck queue: calls are blocking from the
 * caller's point of view, and a pluck queue lets one thread wait for exactly
 * its own operation.  Channels are thread-safe in gRPC core and shared.
 */
#include "sl_client.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "sl_config.h"
#include "sl_metrics.h"
#include "sl_rpc_status.h"
#include "sl_tls_int.h"
#include "sl_trace.h"

#define DEFAULT_MAX_MSG (4 * 1024 * 1024 + 64 * 1024)
#define DEFAULT_TIMEOUT_MS 10000
#define BACKOFF_BASE_MS 25
#define BACKOFF_MAX_MS 1000
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 2000

struct sl_channel {
    grpc_channel *ch;
    char *target;
    char *authorization;       /* default for calls; NULL: none */
    sl_token_file *token_file; /* default for calls before authorization; not owned */
};

/* One call's series of the grpc_client_* metrics. */
typedef struct client_series {
    char service[200];
    const char *method;
    const char *type;
    sl_metric_child *started, *sent, *received, *seconds;
    struct timespec t0;
} client_series;

struct sl_client_stream {
    client_series m;
    grpc_call *call;
    grpc_completion_queue *cq;
    const ProtobufCMessageDescriptor *resp_desc;
    grpc_metadata_array init_md, trail_md;
    grpc_byte_buffer *recv_bb;
    bool recv_pending;
    bool got_initial;
    bool finished;
    int tag;
};

/* Appends an integer channel argument. */
static void arg_int(grpc_arg *args, size_t *n, const char *key, int value)
{
    args[*n].type = GRPC_ARG_INTEGER;
    args[*n].key = (char *)key;
    args[*n].value.integer = value;
    (*n)++;
}

/* The channel's SSL credentials from opts' files, or *out NULL for
 * plaintext.  INVALID_ARGUMENT naming an unreadable file. */
static sl_status tls_credentials(const sl_channel_options *opts, grpc_channel_credentials **out,
                                 sl_err *err)
{
    *out = NULL;
    if (opts == NULL || opts->tls_ca_file == NULL)
        return SL_OK;
    char *ca = NULL, *cert = NULL, *key = NULL;
    sl_status st = sl_tls_read_file("TLS CA file", opts->tls_ca_file, &ca, err);
    if (st == SL_OK && opts->tls_cert_file != NULL) {
        st = sl_tls_read_file("TLS client certificate file", opts->tls_cert_file, &cert, err);
        if (st == SL_OK)
            st = sl_tls_read_file("TLS client key file",
                                  opts->tls_key_file != NULL ? opts->tls_key_file : "", &key, err);
    }
    /* Read here to refuse an unreadable file at once; gRPC's watcher reads
     * them again, and again when they change. */
    if (st == SL_OK) {
        *out =
            sl__tls_channel_credentials(opts->tls_ca_file, opts->tls_cert_file, opts->tls_key_file);
        if (*out == NULL)
            st = sl_err_set(err, SL_INVALID_ARGUMENT, "could not make TLS credentials from %s",
                            opts->tls_ca_file);
    }
    free(ca);
    free(cert);
    free(key);
    return st;
}

sl_status sl_channel_create(const char *target, const sl_channel_options *opts, sl_channel **out,
                            sl_err *err)
{
    *out = NULL;
    if (target == NULL || target[0] == '\0')
        return sl_err_set(err, SL_INVALID_ARGUMENT, "channel target missing");
    sl_channel *c = sl_calloc(1, sizeof *c);
    if (c == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    c->target = sl_strdup(target);
    c->token_file = opts != NULL ? opts->token_file : NULL;
    if (opts != NULL && opts->authorization != NULL)
        c->authorization = sl_strdup(opts->authorization);
    if (c->target == NULL ||
        (opts != NULL && opts->authorization != NULL && c->authorization == NULL)) {
        free(c->target);
        free(c->authorization);
        free(c);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    grpc_init();
    grpc_channel_credentials *creds = NULL;
    sl_status st = tls_credentials(opts, &creds, err);
    if (st != SL_OK) {
        grpc_shutdown();
        free(c->target);
        free(c->authorization);
        free(c);
        return st;
    }
    grpc_arg args[12];
    size_t n = 0;
    memset(args, 0, sizeof args);
    arg_int(
        args, &n, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
        (int)(opts != NULL && opts->max_recv_bytes > 0 ? opts->max_recv_bytes : DEFAULT_MAX_MSG));
    arg_int(
        args, &n, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
        (int)(opts != NULL && opts->max_send_bytes > 0 ? opts->max_send_bytes : DEFAULT_MAX_MSG));
    /* Every address the target resolves to takes calls (round_robin), so a
     * peer given as "ipv4:a,b" or "dns:///headless:port" spreads over its
     * replicas and a dead one is left out at once; the service config of
     * the name service (DNS TXT) is not consulted.  Client-side health
     * checking (gRPC proposal A17): each connection Watches the server's
     * health "" and round_robin picks only replicas reporting SERVING, so
     * one cut off from its database (NOT_SERVING) is routed around while
     * it stays connected, and taken back when SERVING again.  A server
     * without the health service counts as healthy. */
    args[n].type = GRPC_ARG_STRING;
    args[n].key = GRPC_ARG_SERVICE_CONFIG;
    args[n++].value.string = opts != NULL && opts->no_health_check
                                 ? "{\"loadBalancingConfig\": [{\"round_robin\": {}}]}"
                                 : "{\"loadBalancingConfig\": [{\"round_robin\": {}}],"
                                   " \"healthCheckConfig\": {\"serviceName\": \"\"}}";
    arg_int(args, &n, GRPC_ARG_SERVICE_CONFIG_DISABLE_RESOLUTION, 1);
    /* Reconnect soon after a peer restarts: gRPC's default backoff (1 s,
     * x1.6, up to 120 s) left service-desk failing for 9-15 s after
     * inventory was SERVING again. */
    arg_int(args, &n, GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, RECONNECT_MIN_MS);
    arg_int(args, &n, GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, RECONNECT_MIN_MS);
    arg_int(args, &n, GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, RECONNECT_MAX_MS);
    /* Keepalive: find a dead connection in 30 s + 10 s even when no call
     * is running (consumers' event streams can be quiet for long).  The
     * server accepts a ping every 10 s (sl_server), so these never earn a
     * GOAWAY too_many_pings. */
    arg_int(args, &n, GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
    arg_int(args, &n, GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    arg_int(args, &n, GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    arg_int(args, &n, GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    if (opts != NULL && opts->tls_server_name != NULL) {
        args[n].type = GRPC_ARG_STRING;
        args[n].key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
        args[n++].value.string = (char *)opts->tls_server_name;
    }
    grpc_channel_args cargs = {.num_args = n, .args = args};
    if (creds == NULL)
        creds = grpc_insecure_credentials_create();
    c->ch = grpc_channel_create(target, creds, &cargs);
    grpc_channel_credentials_release(creds);
    *out = c;
    return SL_OK;
}

void sl_channel_destroy(sl_channel *ch)
{
    if (ch == NULL)
        return;
    grpc_channel_destroy(ch->ch);
    free(ch->target);
    free(ch->authorization);
    free(ch);
    grpc_shutdown();
}

sl_status sl_channel_options_from_env(sl_channel_options *o, sl_err *err)
{
    memset(o, 0, sizeof *o);
    sl_tls_config t;
    memset(&t, 0, sizeof t);
    /* sl_config_string never fails. */
    sl_config_string("SHELFLINE_TLS_CA_FILE", NULL, &t.ca_file, err);
    sl_config_string("SHELFLINE_TLS_CLIENT_CERT_FILE", NULL, &t.client_cert_file, err);
    sl_config_string("SHELFLINE_TLS_CLIENT_KEY_FILE", NULL, &t.client_key_file, err);
    sl_config_string("SHELFLINE_TLS_SERVER_NAME", NULL, &o->tls_server_name, err);
    sl_status st = sl_tls_check_files(&t, err);
    if (st != SL_OK)
        return st;
    o->tls_ca_file = t.ca_file;
    o->tls_cert_file = t.client_cert_file;
    o->tls_key_file = t.client_key_file;
    return sl_token_file_from_env("SHELFLINE_TOKEN_FILE", &o->token_file, err);
}

const char *sl_channel_target(const sl_channel *ch)
{
    return ch->target;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* gRPC's monotonic clock has its own epoch: express the deadline as now +
 * what remains of it. */
static gpr_timespec mono_deadline(int64_t abs_ms)
{
    int64_t left = abs_ms - now_ms();
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                        gpr_time_from_millis(left > 0 ? left : 0, GPR_TIMESPAN));
}

/* Request metadata from the options and the channel's default
 * authorization; slices are static views of strings that outlive the call
 * (num, the failure switch's count as text, and tp, room for a
 * traceparent, are the caller's and kept until the call ends).  What the
 * options leave out comes from the thread's current context (sl_trace): a
 * call made while serving a call, or applying an event, carries its request
 * id and trace without the call site passing them. */
#define MAX_MD 5
static size_t fill_md(grpc_metadata md[MAX_MD], char num[24], const sl_channel *ch,
                      const sl_call_options *o, char tp[SL_TRACEPARENT_LEN + 1])
{
    size_t n = 0;
    memset(md, 0, MAX_MD * sizeof *md);
    const char *keys[3] = {"x-request-id", "traceparent", "tracestate"};
    const char *values[3] = {o != NULL ? o->request_id : NULL, o != NULL ? o->traceparent : NULL,
                             o != NULL ? o->tracestate : NULL};
    const sl_trace *cur = sl_trace_current();
    if (cur != NULL) {
        if (values[0] == NULL)
            values[0] = cur->request_id;
        if (values[1] == NULL) {
            sl_trace_traceparent(cur, tp, SL_TRACEPARENT_LEN + 1);
            values[1] = tp;
            values[2] = cur->state;
        }
    }
    for (int i = 0; i < 3; i++)
        if (values[i] != NULL && values[i][0] != '\0') {
            md[n].key = grpc_slice_from_static_string(keys[i]);
            md[n].value = grpc_slice_from_static_string(values[i]);
            n++;
        }
    const char *auth = o != NULL && o->authorization != NULL ? o->authorization
                       : ch->token_file != NULL ? sl_token_file_authorization(ch->token_file)
                                                : ch->authorization;
    if (auth != NULL && auth[0] != '\0') {
        md[n].key = grpc_slice_from_static_string("authorization");
        md[n].value = grpc_slice_from_static_string(auth);
        n++;
    }
    if (o != NULL && o->fail_alloc_at > 0) {
        snprintf(num, 24, "%lu", o->fail_alloc_at);
        md[n].key = grpc_slice_from_static_string("x-shelfline-fail-alloc");
        md[n].value = grpc_slice_from_static_string(num);
        n++;
    }
    return n;
}

/* The three sending ops every call starts with: metadata, the request,
 * half-close.  ops must have room for three. */
static void fill_send_ops(grpc_op *ops, grpc_metadata *md, size_t nmd, grpc_byte_buffer *bb,
                          const sl_call_options *o)
{
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = nmd;
    ops[0].data.send_initial_metadata.metadata = md;
    if (o != NULL && o->wait_for_ready)
        ops[0].flags = GRPC_INITIAL_METADATA_WAIT_FOR_READY;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
}

static void copy_details(sl_err *err, grpc_status_code code, grpc_slice details)
{
    size_t len = GRPC_SLICE_LENGTH(details);
    char msg[SL_ERR_MSG_MAX];
    if (len >= sizeof msg)
        len = sizeof msg - 1;
    memcpy(msg, GRPC_SLICE_START_PTR(details), len);
    msg[len] = '\0';
    sl_err_set(err, sl_status_from_grpc_code((int)code), "%s", msg);
}

static sl_status pluck_ok(grpc_completion_queue *cq, void *tag, sl_err *err)
{
    grpc_event ev = grpc_completion_queue_pluck(cq, tag, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    if (ev.type != GRPC_OP_COMPLETE)
        return sl_err_set(err, SL_INTERNAL, "completion queue failed");
    return SL_OK;
}

/* A failed call's grpc-status-details-bin: a shelfline.v1 ErrorInfo's
 * reason and metadata go into err (so a refusal passed on keeps them), and
 * the bytes to the caller when it asked for them (arena memory). */
static void read_status_details(const grpc_metadata_array *md, const sl_call_options *o,
                                sl_arena *arena, sl_err *err)
{
    for (size_t i = 0; arena != NULL && i < md->count; i++) {
        if (grpc_slice_str_cmp(md->metadata[i].key, "grpc-status-details-bin") != 0)
            continue;
        size_t n = GRPC_SLICE_LENGTH(md->metadata[i].value);
        uint8_t *p = sl_arena_alloc(arena, n + 1);
        if (p == NULL)
            return;
        memcpy(p, GRPC_SLICE_START_PTR(md->metadata[i].value), n);
        sl_rpc_status_read_reason(p, n, arena, err);
        if (o != NULL && o->status_details != NULL && o->status_details_len != NULL) {
            *o->status_details = p;
            *o->status_details_len = n;
        }
        return;
    }
}

/* Sets *o->fail_alloc_hit from the trailers, when the caller asked. */
static void keep_fail_alloc_hit(const grpc_metadata_array *md, const sl_call_options *o)
{
    if (o == NULL || o->fail_alloc_hit == NULL)
        return;
    for (size_t i = 0; i < md->count; i++)
        if (grpc_slice_str_cmp(md->metadata[i].key, "x-shelfline-fail-alloc-hit") == 0)
            *o->fail_alloc_hit = true;
}

/* ---- metrics: go-grpc-prometheus's client names ----
 *
 * Each attempt is a call on the wire and counts once: a call that
 * sl_client_unary retried after UNAVAILABLE shows as two started and two
 * handled, as the server it reached counts them. */

static struct {
    pthread_once_t once;
    sl_metric *started, *handled, *seconds, *received, *sent;
} fam = {.once = PTHREAD_ONCE_INIT};

static void families_init(void)
{
    static const char *const l[] = {"grpc_type", "grpc_service", "grpc_method", NULL};
    static const char *const lc[] = {"grpc_type", "grpc_service", "grpc_method", "grpc_code", NULL};
    fam.started = sl_metric_counter("grpc_client_started_total",
                                    "Total number of RPCs started on the client.", l);
    fam.handled = sl_metric_counter(
        "grpc_client_handled_total",
        "Total number of RPCs completed by the client, regardless of success or failure.", lc);
    fam.seconds = sl_metric_histogram(
        "grpc_client_handling_seconds",
        "Histogram of response latency (seconds) of the gRPC until it is finished by the "
        "application.",
        l, sl_metrics_latency_buckets, sl_metrics_latency_nbuckets);
    fam.received =
        sl_metric_counter("grpc_client_msg_received_total",
                          "Total number of RPC stream messages received by the client.", l);
    fam.sent = sl_metric_counter("grpc_client_msg_sent_total",
                                 "Total number of gRPC stream messages sent by the client.", l);
}

/* Starts counting a call of method ("/package.Service/Method"). */
static void series_start(client_series *m, const char *method, const char *type)
{
    pthread_once(&fam.once, families_init);
    const char *slash = strrchr(method, '/');
    if (slash == NULL || method[0] != '/' || slash == method) {
        snprintf(m->service, sizeof m->service, "%s", "");
        m->method = method;
    } else {
        size_t n = (size_t)(slash - method - 1);
        snprintf(m->service, sizeof m->service, "%.*s",
                 (int)(n < sizeof m->service ? n : sizeof m->service - 1), method + 1);
        m->method = slash + 1;
    }
    m->type = type;
    const char *v[] = {m->type, m->service, m->method};
    m->started = sl_metric_with(fam.started, v);
    m->sent = sl_metric_with(fam.sent, v);
    m->received = sl_metric_with(fam.received, v);
    m->seconds = sl_metric_with(fam.seconds, v);
    clock_gettime(CLOCK_MONOTONIC, &m->t0);
    sl_metric_add(m->started, 1);
    sl_metric_add(m->sent, 1);
}

/* Counts the call's end with its status. */
static void series_end(const client_series *m, sl_status st)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - m->t0.tv_sec) + (double)(t1.tv_nsec - m->t0.tv_nsec) / 1e9;
    const char *v[] = {m->type, m->service, m->method, sl_status_name(st)};
    sl_metric_add(sl_metric_with(fam.handled, v), 1);
    sl_metric_observe(m->seconds, secs);
}

/* One attempt of a unary call. */
static sl_status attempt(sl_channel *ch, const char *method, const void *req, size_t req_len,
                         int64_t deadline_ms, const sl_call_options *o, sl_arena *arena,
                         void **resp, size_t *resp_len, sl_err *err)
{
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_slice mslice = grpc_slice_from_static_string(method);
    grpc_call *call = grpc_channel_create_call(ch->ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, mslice,
                                               NULL, mono_deadline(deadline_ms), NULL);
    client_series m;
    series_start(&m, method, "unary");
    grpc_slice payload = grpc_slice_from_copied_buffer(req, req_len);
    grpc_byte_buffer *send_bb = grpc_raw_byte_buffer_create(&payload, 1);
    grpc_slice_unref(payload);
    grpc_metadata md[MAX_MD];
    char num[24];
    char tp[SL_TRACEPARENT_LEN + 1];
    size_t nmd = fill_md(md, num, ch, o, tp);
    grpc_metadata_array init_md, trail_md;
    grpc_metadata_array_init(&init_md);
    grpc_metadata_array_init(&trail_md);
    grpc_byte_buffer *recv_bb = NULL;
    grpc_status_code code = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    fill_send_ops(ops, md, nmd, send_bb, o);
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &init_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv_bb;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trail_md;
    ops[5].data.recv_status_on_client.status = &code;
    ops[5].data.recv_status_on_client.status_details = &details;

    int tag;
    sl_status st;
    if (grpc_call_start_batch(call, ops, 6, &tag, NULL) != GRPC_CALL_OK) {
        st = sl_err_set(err, SL_INTERNAL, "could not start call to %s", method);
        goto out;
    }
    st = pluck_ok(cq, &tag, err);
    if (st != SL_OK)
        goto out;
    keep_fail_alloc_hit(&trail_md, o);
    if (code != GRPC_STATUS_OK) {
        copy_details(err, code, details);
        st = sl_status_from_grpc_code((int)code);
        read_status_details(&trail_md, o, arena, err);
        goto out;
    }
    if (recv_bb == NULL) {
        st = sl_err_set(err, SL_INTERNAL, "%s answered OK without a message", method);
        goto out;
    }
    sl_metric_add(m.received, 1);
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, recv_bb)) {
        st = sl_err_set(err, SL_INTERNAL, "could not read the response of %s", method);
        goto out;
    }
    grpc_slice all = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    *resp_len = GRPC_SLICE_LENGTH(all);
    *resp = sl_arena_alloc(arena, *resp_len + 1);
    if (*resp == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    } else {
        memcpy(*resp, GRPC_SLICE_START_PTR(all), *resp_len);
        st = SL_OK;
    }
    grpc_slice_unref(all);
out:
    series_end(&m, st);
    if (recv_bb != NULL)
        grpc_byte_buffer_destroy(recv_bb);
    grpc_byte_buffer_destroy(send_bb);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&init_md);
    grpc_metadata_array_destroy(&trail_md);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    grpc_completion_queue_destroy(cq);
    return st;
}

/* Full jitter: a random delay in [d/2, d) so retrying clients spread out. */
static int64_t backoff_ms(int attempt_no, uint64_t *rng)
{
    int64_t d = BACKOFF_BASE_MS << (attempt_no < 6 ? attempt_no : 6);
    if (d > BACKOFF_MAX_MS)
        d = BACKOFF_MAX_MS;
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    return d / 2 + (int64_t)(*rng % (uint64_t)(d / 2 + 1));
}

sl_status sl_client_unary_raw(sl_channel *ch, const char *method, const void *req_bytes,
                              size_t req_len, sl_arena *arena, void **resp_bytes, size_t *resp_len,
                              const sl_call_options *opts, sl_err *err)
{
    if (opts != NULL && opts->status_details != NULL && opts->status_details_len != NULL) {
        *opts->status_details = NULL;
        *opts->status_details_len = 0;
    }
    if (opts != NULL && opts->fail_alloc_hit != NULL)
        *opts->fail_alloc_hit = false;
    int64_t timeout = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    int64_t deadline = now_ms() + timeout;
    bool idem = opts != NULL && opts->idempotent;
    /* An idempotent call is retried on UNAVAILABLE until its deadline (or
     * max_attempts when set): a peer restarting or a replica going away is
     * exactly what a retry with the same key rides over.  It also waits for
     * the channel to connect instead of failing at once while it is down
     * (wait-for-ready), unless the caller asked to fail fast. */
    int max_attempts = idem ? (opts->max_attempts > 0 ? opts->max_attempts : INT32_MAX) : 1;
    sl_call_options eff;
    if (opts != NULL) {
        eff = *opts;
        if (idem && !opts->fail_fast)
            eff.wait_for_ready = true;
        opts = &eff;
    }
    uint64_t rng = (uint64_t)now_ms() * 6364136223846793005ULL + (uintptr_t)&rng;
    sl_status st = SL_OK;
    for (int i = 0; i < max_attempts; i++) {
        st = attempt(ch, method, req_bytes, req_len, deadline, opts, arena, resp_bytes, resp_len,
                     err);
        if (st != SL_UNAVAILABLE || i + 1 == max_attempts)
            break;
        int64_t wait = backoff_ms(i, &rng);
        if (now_ms() + wait >= deadline)
            break;
        struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    /* A call that waited for the channel and ran out of time without it ever
     * connecting met no slow server: the peer is down.  Say UNAVAILABLE
     * (retryable elsewhere, what callers and their clients act on), not
     * DEADLINE_EXCEEDED. */
    if (st == SL_DEADLINE_EXCEEDED && opts != NULL && opts->wait_for_ready) {
        grpc_connectivity_state cs = grpc_channel_check_connectivity_state(ch->ch, 0);
        if (cs != GRPC_CHANNEL_READY)
            st = sl_err_set(err, SL_UNAVAILABLE,
                            "could not reach %s within the deadline of %s (%" PRId64 " ms)",
                            ch->target, method, timeout);
    }
    return st;
}

sl_status sl_client_unary(sl_channel *ch, const char *method, const ProtobufCMessage *req,
                          const ProtobufCMessageDescriptor *resp_desc, sl_arena *arena,
                          ProtobufCMessage **resp, const sl_call_options *opts, sl_err *err)
{
    *resp = NULL;
    size_t len = protobuf_c_message_get_packed_size(req);
    uint8_t *buf = sl_arena_alloc(arena, len + 1);
    if (buf == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    protobuf_c_message_pack(req, buf);
    void *out = NULL;
    size_t out_len = 0;
    sl_status st = sl_client_unary_raw(ch, method, buf, len, arena, &out, &out_len, opts, err);
    if (st != SL_OK)
        return st;
    *resp = protobuf_c_message_unpack(resp_desc, sl_arena_pb_allocator(arena), out_len, out);
    if (*resp == NULL)
        return sl_err_set(err, SL_INTERNAL, "could not decode the response of %s as %s", method,
                          resp_desc->name);
    return SL_OK;
}

sl_status sl_client_call_from(sl_call *call, sl_channel *ch, const char *method,
                              const ProtobufCMessage *req,
                              const ProtobufCMessageDescriptor *resp_desc, sl_arena *arena,
                              ProtobufCMessage **resp, const sl_call_options *policy, sl_err *err)
{
    sl_call_options o;
    if (policy != NULL)
        o = *policy;
    else
        memset(&o, 0, sizeof o);
    if (o.timeout_ms <= 0)
        o.timeout_ms = DEFAULT_TIMEOUT_MS;
    o.fail_alloc_at = 0;
    if (call != NULL) {
        int64_t left = sl_call_remaining_ms(call);
        if (left != INT64_MAX) {
            left -= SL_CLIENT_REPLY_MARGIN_MS;
            if (left <= 0) {
                *resp = NULL;
                return sl_err_set(err, SL_DEADLINE_EXCEEDED, "deadline passed before calling %s",
                                  method);
            }
            if (left < o.timeout_ms)
                o.timeout_ms = left;
        }
    }
    /* The request id and trace context: the caller's call as the thread's
     * current context, so the callee's span is a child of this call's. */
    if (call != NULL) {
        o.request_id = NULL;
        o.traceparent = NULL;
        o.tracestate = NULL;
    }
    const sl_trace *prev = call != NULL ? sl_trace_swap(sl_call_trace(call)) : NULL;
    sl_status st = sl_client_unary(ch, method, req, resp_desc, arena, resp, &o, err);
    if (call != NULL)
        sl_trace_swap(prev);
    return st;
}

sl_status sl_client_stream_open(sl_channel *ch, const char *method, const ProtobufCMessage *req,
                                const ProtobufCMessageDescriptor *resp_desc,
                                const sl_call_options *opts, sl_client_stream **out, sl_err *err)
{
    *out = NULL;
    sl_client_stream *s = sl_calloc(1, sizeof *s);
    if (s == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    s->resp_desc = resp_desc;
    series_start(&s->m, method, "server_stream");
    s->cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_metadata_array_init(&s->init_md);
    grpc_metadata_array_init(&s->trail_md);
    gpr_timespec deadline = opts != NULL && opts->timeout_ms > 0
                                ? mono_deadline(now_ms() + opts->timeout_ms)
                                : gpr_inf_future(GPR_CLOCK_MONOTONIC);
    s->call = grpc_channel_create_call(ch->ch, NULL, GRPC_PROPAGATE_DEFAULTS, s->cq,
                                       grpc_slice_from_static_string(method), NULL, deadline, NULL);

    size_t len = protobuf_c_message_get_packed_size(req);
    grpc_slice payload = grpc_slice_malloc(len);
    protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(payload));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&payload, 1);
    grpc_slice_unref(payload);
    grpc_metadata md[MAX_MD];
    char num[24];
    char tp[SL_TRACEPARENT_LEN + 1];
    size_t nmd = fill_md(md, num, ch, opts, tp);
    grpc_op ops[3];
    memset(ops, 0, sizeof ops);
    fill_send_ops(ops, md, nmd, bb, opts);
    sl_status st = SL_OK;
    if (grpc_call_start_batch(s->call, ops, 3, &s->tag, NULL) != GRPC_CALL_OK)
        st = sl_err_set(err, SL_INTERNAL, "could not start stream %s", method);
    else
        st = pluck_ok(s->cq, &s->tag, err);
    grpc_byte_buffer_destroy(bb);
    /* A failed send shows up as the stream's final status on the first
     * next(); only a local failure is reported here. */
    if (st != SL_OK) {
        sl_client_stream_close(s);
        return st;
    }
    *out = s;
    return SL_OK;
}

/* Receives the final status after the server ended the stream. */
static sl_status finish(sl_client_stream *s, sl_err *err)
{
    grpc_status_code code = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    op.data.recv_status_on_client.trailing_metadata = &s->trail_md;
    op.data.recv_status_on_client.status = &code;
    op.data.recv_status_on_client.status_details = &details;
    sl_status st;
    if (grpc_call_start_batch(s->call, &op, 1, &s->tag, NULL) != GRPC_CALL_OK) {
        st = sl_err_set(err, SL_INTERNAL, "could not receive the stream's status");
    } else {
        st = pluck_ok(s->cq, &s->tag, err);
        if (st == SL_OK && code != GRPC_STATUS_OK) {
            copy_details(err, code, details);
            st = sl_status_from_grpc_code((int)code);
        }
    }
    grpc_slice_unref(details);
    s->finished = true;
    series_end(&s->m, st);
    return st;
}

sl_status sl_client_stream_next(sl_client_stream *s, sl_arena *arena, ProtobufCMessage **msg,
                                int64_t timeout_ms, bool *timed_out, sl_err *err)
{
    *msg = NULL;
    if (timed_out != NULL)
        *timed_out = false;
    if (s->finished)
        return sl_err_set(err, SL_FAILED_PRECONDITION, "stream already ended");
    if (!s->recv_pending) {
        grpc_op ops[2];
        size_t n = 0;
        memset(ops, 0, sizeof ops);
        if (!s->got_initial) {
            ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
            ops[n].data.recv_initial_metadata.recv_initial_metadata = &s->init_md;
            n++;
            s->got_initial = true;
        }
        ops[n].op = GRPC_OP_RECV_MESSAGE;
        ops[n].data.recv_message.recv_message = &s->recv_bb;
        n++;
        s->recv_bb = NULL;
        if (grpc_call_start_batch(s->call, ops, n, &s->recv_pending, NULL) != GRPC_CALL_OK)
            return sl_err_set(err, SL_INTERNAL, "could not start receiving");
        s->recv_pending = true;
    }
    gpr_timespec until =
        timeout_ms < 0 ? gpr_inf_future(GPR_CLOCK_MONOTONIC) : mono_deadline(now_ms() + timeout_ms);
    grpc_event ev = grpc_completion_queue_pluck(s->cq, &s->recv_pending, until, NULL);
    if (ev.type == GRPC_QUEUE_TIMEOUT) {
        if (timed_out != NULL)
            *timed_out = true;
        return SL_OK;
    }
    s->recv_pending = false;
    if (s->recv_bb == NULL)
        return finish(s, err);
    grpc_byte_buffer_reader r;
    sl_status st = SL_OK;
    if (!grpc_byte_buffer_reader_init(&r, s->recv_bb)) {
        st = sl_err_set(err, SL_INTERNAL, "could not read a stream message");
    } else {
        grpc_slice all = grpc_byte_buffer_reader_readall(&r);
        grpc_byte_buffer_reader_destroy(&r);
        *msg = protobuf_c_message_unpack(s->resp_desc, sl_arena_pb_allocator(arena),
                                         GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
        grpc_slice_unref(all);
        sl_metric_add(s->m.received, 1);
        if (*msg == NULL)
            st = sl_err_set(err, SL_INTERNAL, "could not decode a stream message as %s",
                            s->resp_desc->name);
    }
    grpc_byte_buffer_destroy(s->recv_bb);
    s->recv_bb = NULL;
    return st;
}

const char *sl_client_stream_header(const sl_client_stream *s, const char *key, char *buf,
                                    size_t cap)
{
    if (!s->got_initial || s->recv_pending || cap == 0)
        return NULL;
    for (size_t i = 0; i < s->init_md.count; i++) {
        if (grpc_slice_str_cmp(s->init_md.metadata[i].key, key) != 0)
            continue;
        size_t n = GRPC_SLICE_LENGTH(s->init_md.metadata[i].value);
        if (n >= cap)
            n = cap - 1;
        memcpy(buf, GRPC_SLICE_START_PTR(s->init_md.metadata[i].value), n);
        buf[n] = '\0';
        return buf;
    }
    return NULL;
}

void sl_client_stream_close(sl_client_stream *s)
{
    if (s == NULL)
        return;
    if (!s->finished) {
        grpc_call_cancel(s->call, NULL);
        if (s->recv_pending) {
            grpc_completion_queue_pluck(s->cq, &s->recv_pending,
                                        gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
            if (s->recv_bb != NULL)
                grpc_byte_buffer_destroy(s->recv_bb);
        }
        finish(s, NULL);
    }
    grpc_metadata_array_destroy(&s->init_md);
    grpc_metadata_array_destroy(&s->trail_md);
    grpc_call_unref(s->call);
    grpc_completion_queue_shutdown(s->cq);
    grpc_completion_queue_destroy(s->cq);
    free(s);
}

/* ---- google.rpc.Status details ---- */

bool sl_client_status_detail(const void *status, size_t len, const char *type_url, sl_arena *arena,
                             const uint8_t **value, size_t *value_len)
{
    sl_rpc_detail *d;
    size_t n;
    if (!sl_rpc_status_details(status, len, arena, &d, &n))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (d[i].type_url != NULL && strcmp(d[i].type_url, type_url) == 0) {
            *value = d[i].value;
            *value_len = d[i].len;
            return true;
        }
    }
    return false;
}
