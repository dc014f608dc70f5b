/*
 * sl_server: gRPC server on gRPC core.
 *
 * Threads and queues.  The service workers share one completion queue
 * (CQ_NEXT) on which each keeps `slots_per_method` requests armed for every
 * unary method, two for every streaming method and two unregistered ones;
 * whichever worker is free takes the next call.  (With a queue per worker,
 * gRPC core matched a call to any queue holding an armed request, a busy
 * worker's included, and the call waited behind that worker's handler while
 * others idled: at the peak day's surge, service-desk's QuoteEta calls
 * reached their handler after their deadline had passed.)  A unary call is
 * served start to finish on the worker that took it: decode into that
 * worker's arena, dispatch, pack, and answer with one batch (initial
 * metadata, message, status, close) whose completion comes back to the
 * shared queue, where any worker recycles it.  Streaming slots are armed
 * with a private pluck queue bound to the call, so the call can be handed to
 * a thread of its own that blocks on that queue without holding a worker.
 * The health worker has a queue of its own (see struct worker).
 *
 * Tags.  Every tag given to gRPC starts with a `tag_kind`, so a worker knows
 * what completed.
 *
 * Shutdown.  grpc_server_shutdown_and_notify stops admitting calls and fails
 * armed slots; in-flight unary calls finish on their workers, streams see
 * sl_call_done() and return; after the grace period whatever is left is
 * cancelled.  Then the worker queues are shut down and drained.
 */
#include "sl_server.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "grpc/health/v1/health.pb-c.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_rpc_status.h"
#include "sl_tls_int.h"
#include "sl_trace.h"
#include "sl_valid.h"

#define DEFAULT_MAX_MSG (4 * 1024 * 1024 + 64 * 1024)
#define STREAM_SLOTS 2
#define UNREGISTERED_SLOTS 2
#define DONE_POLL_MS 100

enum tag_kind {
    TAG_SLOT = 1,
    TAG_UNARY_DONE,
    TAG_REJECT_DONE,
};

/* gRPC's status codes, 0 (OK) to 16 (UNAUTHENTICATED). */
#define GRPC_CODES 17

typedef struct method_rt {
    const sl_method *m;
    const sl_service_def *svc;
    /* "/package.Service/Method" and the message types, from the service
     * descriptor (rows may give the short name and leave the types out). */
    char *name;
    const ProtobufCMessageDescriptor *request, *response;
    void *handle; /* grpc_server_register_method */
    _Atomic uint64_t calls, errors, total_us;
    /* This method's series of the grpc_server_* metrics (sl_metrics),
     * looked up once; handled by code on first use of each code. */
    sl_metric_child *m_started, *m_received, *m_sent, *m_seconds;
    _Atomic(sl_metric_child *) m_handled[GRPC_CODES];
} method_rt;

typedef struct worker worker;

/* An armed request.  For unregistered slots mrt is NULL. */
typedef struct slot {
    int tag_kind;
    worker *w;
    method_rt *mrt;
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *payload;
    grpc_call_details details;
    grpc_completion_queue *call_cq; /* private queue of a streaming slot */
} slot;

/* Metadata we send; slices are ours until the batch carrying them ends. */
typedef struct md_list {
    grpc_metadata *v;
    size_t n, cap;
} md_list;

struct sl_call {
    int tag_kind;
    sl_server *srv;
    method_rt *mrt;
    worker *w;
    grpc_call *call;
    grpc_completion_queue *cq; /* worker queue (unary) or private queue */
    gpr_timespec deadline;
    int64_t deadline_ms;
    grpc_metadata_array req_md;
    grpc_byte_buffer *payload;
    sl_arena *arena;
    sl_trace trace;         /* its span, request id; the thread's current context while it runs */
    sl_identity identity;   /* set by the interceptor */
    const char *local_peer; /* in-process calls: the caller's name (NULL: "local") */
    /* An in-process stream (sl_server_stream_local): where its messages go
     * and how it learns the client went away. */
    const sl_local_call *local_stream;
    size_t bytes_in, bytes_out; /* message bytes, for the access log */
    md_list init_md, trail_md;
    /* The handler's own error details (sl_call_add_error_detail), arena
     * memory, sent before the standard ones if the call fails. */
    sl_rpc_detail *details;
    size_t n_details, cap_details;
    bool initial_sent;
    bool streaming;
    /* completion state */
    grpc_byte_buffer *resp_bb;
    grpc_slice status_details;
    bool has_details;
    int cancelled;
    bool close_done;
    int close_tag, op_tag;
    struct timespec started;
};

/* A status answer to a call we do not dispatch (unknown method, too many
 * streams). */
typedef struct reject {
    int tag_kind;
    grpc_call *call;
    grpc_slice details;
    int cancelled;
    grpc_metadata_array md;
    grpc_call_details call_details;
} reject;

struct worker {
    sl_server *srv;
    int index;
    /* The one worker that serves grpc.health.v1.Health and nothing else, so
     * a pool blocked on the database cannot fail a liveness probe (the
     * kubelet would restart the pod exactly when it is busiest). */
    bool health_only;
    grpc_completion_queue *cq; /* the shared queue, or the health worker's own */
    pthread_t thread;
    sl_arena *arena;
    sl_call *free_calls; /* reused unary call objects (next in mrt) */
};

struct sl_server {
    sl_server_options opts;
    grpc_server *server;
    grpc_completion_queue *shutdown_cq;
    /* The service workers' queue; shut down by the last of them to stop
     * (closing_workers counts them up to service_threads). */
    grpc_completion_queue *shared_cq;
    atomic_int closing_workers;
    int service_threads;
    bool shared_drained;
    sl_health *health;
    method_rt *methods;
    size_t n_methods, cap_methods;
    const sl_service_def **services;
    size_t n_services, cap_services;
    sl_service_def health_def;
    worker *workers;
    int n_workers;
    int n_threads; /* workers whose thread runs */
    int port;
    bool started, stopped;
    atomic_bool shutting_down;
    atomic_bool stop_workers; /* set once no call can need a worker queue */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t active_streams;
    int64_t active_health_watches; /* counted apart: see max_health_watches */
};

/* ---------------------------------------------------------------- time -- */

static int64_t now_realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t elapsed_us(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - since->tv_sec) * 1000000 + (now.tv_nsec - since->tv_nsec) / 1000;
}

static int64_t deadline_to_ms(gpr_timespec d)
{
    if (gpr_time_cmp(d, gpr_inf_future(d.clock_type)) == 0)
        return INT64_MAX;
    gpr_timespec rt = gpr_convert_clock_type(d, GPR_CLOCK_REALTIME);
    return (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000;
}

/* A unary call's deadline is at most max_call_ms from now: a client
 * without a deadline (or with an hour) must not hold a worker and a
 * database connection behind a lock for longer than the server allows. */
static int64_t cap_deadline(const sl_server *s, int64_t deadline_ms, bool streaming)
{
    if (streaming || s->opts.max_call_ms <= 0)
        return deadline_ms;
    int64_t cap = now_realtime_ms() + s->opts.max_call_ms;
    return cap < deadline_ms ? cap : deadline_ms;
}

static gpr_timespec ms_from_now(int64_t ms)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

/* ------------------------------------------------------------ metadata -- */

static sl_status md_add(md_list *l, const char *key, const void *value, size_t len, sl_err *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        grpc_metadata *v = sl_realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory adding metadata");
        l->v = v;
        l->cap = cap;
    }
    grpc_metadata *m = &l->v[l->n++];
    memset(m, 0, sizeof *m);
    m->key = grpc_slice_from_copied_string(key);
    m->value = grpc_slice_from_copied_buffer(value, len);
    return SL_OK;
}

static void md_clear(md_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        grpc_slice_unref(l->v[i].key);
        grpc_slice_unref(l->v[i].value);
    }
    l->n = 0;
}

static void md_free(md_list *l)
{
    md_clear(l);
    free(l->v);
    l->v = NULL;
    l->cap = 0;
}

/* ------------------------------------------------------- byte buffers -- */

static sl_status decode_bytes(const uint8_t *data, size_t len,
                              const ProtobufCMessageDescriptor *desc, sl_arena *arena,
                              int64_t max_bytes, ProtobufCMessage **out, sl_err *err)
{
    if ((int64_t)len > max_bytes)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED,
                          "request message of %zu bytes exceeds %" PRId64, len, max_bytes);
    /* Before decoding: what protobuf-c would lose or let through (a NUL in
     * a string, field number 0) is still visible in the bytes, and nothing
     * is allocated for a request that is refused. */
    sl_status st = sl_valid_request(desc, data, len, err);
    if (st != SL_OK)
        return st;
    unsigned long oom = sl_arena_oom_count();
    *out = protobuf_c_message_unpack(desc, sl_arena_pb_allocator(arena), len, data);
    if (*out == NULL && sl_arena_oom_count() != oom)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory decoding request as %s",
                          desc->name);
    if (*out == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "could not decode request as %s", desc->name);
    return SL_OK;
}

/* Decodes a received byte buffer as desc into arena memory. */
static sl_status decode(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc,
                        sl_arena *arena, int64_t max_bytes, ProtobufCMessage **out, sl_err *err)
{
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "could not read request message");
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    sl_status st = decode_bytes(GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), desc, arena,
                                max_bytes, out, err);
    grpc_slice_unref(s);
    return st;
}

static sl_status encode(const ProtobufCMessage *msg, int64_t max_bytes, grpc_byte_buffer **out,
                        sl_err *err)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    if ((int64_t)len > max_bytes)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED,
                          "response message of %zu bytes exceeds the limit of %" PRId64, len,
                          max_bytes);
    grpc_slice s = grpc_slice_malloc(len);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
    *out = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return SL_OK;
}

/* --------------------------------------------------------------- calls -- */

static const char *md_lookup(const grpc_metadata_array *md, const char *key, size_t *len)
{
    for (size_t i = 0; i < md->count; i++) {
        if (grpc_slice_str_cmp(md->metadata[i].key, key) == 0) {
            if (len != NULL)
                *len = GRPC_SLICE_LENGTH(md->metadata[i].value);
            return (const char *)GRPC_SLICE_START_PTR(md->metadata[i].value);
        }
    }
    return NULL;
}

/* A call's span and request id, from its traceparent, tracestate and
 * x-request-id (new ones where absent or invalid). */
static void context_from_md(const grpc_metadata_array *md, sl_trace *t)
{
    size_t rlen = 0, tlen = 0, slen = 0;
    const char *rid = md_lookup(md, "x-request-id", &rlen);
    const char *tp = md_lookup(md, "traceparent", &tlen);
    const char *ts = md_lookup(md, "tracestate", &slen);
    sl_trace_begin(t, tp, tlen, ts, slen);
    sl_trace_set_request_id(t, rid, rlen);
}

void *sl_call_ctx(const sl_call *call)
{
    return call->mrt->m->ctx != NULL ? call->mrt->m->ctx : call->mrt->svc->ctx;
}

sl_arena *sl_call_arena(sl_call *call)
{
    return call->arena;
}

const char *sl_call_method(const sl_call *call)
{
    return call->mrt->name;
}

const char *sl_call_peer(sl_call *call)
{
    if (call->call == NULL)
        return call->local_peer != NULL ? call->local_peer : "local";
    char *p = grpc_call_get_peer(call->call);
    char *copy = sl_arena_strdup(call->arena, p != NULL ? p : "");
    gpr_free(p);
    return copy != NULL ? copy : "";
}

const char *sl_call_peer_identity(sl_call *call)
{
    if (call->call == NULL || call->srv->opts.tls == NULL)
        return NULL;
    return sl__tls_peer_identity(call->call, call->arena);
}

const char *sl_call_metadata(const sl_call *call, const char *key, size_t *len)
{
    size_t n = 0;
    const char *v = md_lookup(&call->req_md, key, &n);
    if (v == NULL)
        return NULL;
    if (len != NULL)
        *len = n;
    /* Slices are not NUL-terminated; hand out a terminated copy. */
    char *copy = sl_arena_alloc(call->arena, n + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, v, n);
    copy[n] = '\0';
    return copy;
}

const sl_trace *sl_call_trace(const sl_call *call)
{
    return &call->trace;
}

const sl_identity *sl_call_identity(const sl_call *call)
{
    return &call->identity;
}

void sl_call_set_identity(sl_call *call, const sl_identity *id)
{
    call->identity = *id;
}

/* The call this thread is serving (NULL: none), like sl_trace's current
 * context: set around each dispatch, for sl_call_audit_current. */
static _Thread_local const sl_call *current_call;

static const sl_call *call_swap(const sl_call *c)
{
    const sl_call *prev = current_call;
    current_call = c;
    return prev;
}

sl_audit sl_call_audit_current(void)
{
    if (current_call != NULL)
        return sl_call_audit(current_call);
    return sl_audit_background("system");
}

sl_audit sl_call_audit(const sl_call *call)
{
    return (sl_audit){
        .actor = call->identity.subject[0] != '\0' ? call->identity.subject : "anonymous",
        .request_id = call->trace.request_id,
        .trace_id = call->trace.trace_id,
    };
}

const char *sl_call_request_id(const sl_call *call)
{
    return call->trace.request_id;
}

int64_t sl_call_deadline_ms(const sl_call *call)
{
    return call->deadline_ms;
}

int64_t sl_call_remaining_ms(const sl_call *call)
{
    if (call->deadline_ms == INT64_MAX)
        return INT64_MAX;
    return call->deadline_ms - now_realtime_ms();
}

sl_status sl_call_add_initial_metadata(sl_call *call, const char *key, const void *value,
                                       size_t len, sl_err *err)
{
    if (call->initial_sent)
        return sl_err_set(err, SL_FAILED_PRECONDITION, "initial metadata already sent");
    return md_add(&call->init_md, key, value, len, err);
}

sl_status sl_call_add_trailing_metadata(sl_call *call, const char *key, const void *value,
                                        size_t len, sl_err *err)
{
    return md_add(&call->trail_md, key, value, len, err);
}

/* ---- rich error details: google.rpc.Status in grpc-status-details-bin ---- */

#define DETAILS_KEY "grpc-status-details-bin"

static sl_status add_detail(sl_call *c, const sl_rpc_detail *d, sl_err *err)
{
    if (c->n_details == c->cap_details) {
        size_t cap = c->cap_details ? c->cap_details * 2 : 4;
        sl_rpc_detail *v = sl_arena_alloc(c->arena, cap * sizeof *v);
        if (v == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        if (c->n_details > 0)
            memcpy(v, c->details, c->n_details * sizeof *v);
        c->details = v;
        c->cap_details = cap;
    }
    c->details[c->n_details++] = *d;
    return SL_OK;
}

sl_status sl_call_add_error_detail(sl_call *call, const ProtobufCMessageDescriptor *detail,
                                   const void *packed, size_t len, sl_err *err)
{
    size_t n = strlen(SL_RPC_TYPE_URL_PREFIX) + strlen(detail->name) + 1;
    char *url = sl_arena_alloc(call->arena, n);
    uint8_t *value = sl_arena_alloc(call->arena, len + 1);
    if (url == NULL || value == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    snprintf(url, n, "%s%s", SL_RPC_TYPE_URL_PREFIX, detail->name);
    if (len > 0)
        memcpy(value, packed, len);
    return add_detail(call, &(sl_rpc_detail){url, value, len}, err);
}

sl_status sl_call_forward_error_details(sl_call *call, const void *status, size_t len, sl_err *err)
{
    sl_rpc_detail *d;
    size_t n;
    if (!sl_rpc_status_details(status, len, call->arena, &d, &n))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "the peer's error details do not decode");
    for (size_t i = 0; i < n; i++) {
        sl_status st = add_detail(call, &d[i], err);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

/* The call's google.rpc.Status as a trailer, when st is an error that has
 * details (sl_rpc_status.h says which).  Best effort: out of memory, the
 * client still gets the status and its message. */
static void add_status_details(sl_call *c, sl_status st, const sl_err *err)
{
    uint8_t *buf;
    size_t len;
    if (st == SL_OK ||
        !sl_rpc_status_pack(st, err, c->mrt != NULL ? c->mrt->request : NULL, c->details,
                            c->n_details, c->arena, &buf, &len) ||
        len == 0)
        return;
    md_add(&c->trail_md, DETAILS_KEY, buf, len, NULL);
}

/* ---- metrics: go-grpc-prometheus's names, so its dashboards work ---- */

static struct {
    pthread_once_t once;
    sl_metric *started, *handled, *seconds, *received, *sent;
} fam = {.once = PTHREAD_ONCE_INIT};

static const char *const grpc_labels[] = {"grpc_type", "grpc_service", "grpc_method", NULL};
static const char *const grpc_code_labels[] = {"grpc_type", "grpc_service", "grpc_method",
                                               "grpc_code", NULL};

static void families_init(void)
{
    fam.started = sl_metric_counter("grpc_server_started_total",
                                    "Total number of RPCs started on the server.", grpc_labels);
    fam.handled = sl_metric_counter("grpc_server_handled_total",
                                    "Total number of RPCs completed on the server, regardless of "
                                    "success or failure.",
                                    grpc_code_labels);
    fam.seconds = sl_metric_histogram(
        "grpc_server_handling_seconds",
        "Histogram of response latency (seconds) of gRPC that had been application-level "
        "handled by the server.",
        grpc_labels, sl_metrics_latency_buckets, sl_metrics_latency_nbuckets);
    fam.received = sl_metric_counter("grpc_server_msg_received_total",
                                     "Total number of RPC stream messages received on the server.",
                                     grpc_labels);
    fam.sent =
        sl_metric_counter("grpc_server_msg_sent_total",
                          "Total number of gRPC stream messages sent by the server.", grpc_labels);
}

static const char *grpc_type(sl_rpc_kind k)
{
    switch (k) {
    case SL_RPC_UNARY:
        return "unary";
    case SL_RPC_SERVER_STREAMING:
        return "server_stream";
    case SL_RPC_CLIENT_STREAMING:
        return "client_stream";
    case SL_RPC_BIDI_STREAMING:
        return "bidi_stream";
    }
    return "unary";
}

/* The method's labels from "/package.Service/Method". */
static void method_labels(const method_rt *m, char *service, size_t cap, const char **method)
{
    const char *slash = strrchr(m->name, '/');
    size_t n = (size_t)(slash - m->name - 1);
    snprintf(service, cap, "%.*s", (int)(n < cap ? n : cap - 1), m->name + 1);
    *method = slash + 1;
}

static void method_metrics_init(method_rt *m)
{
    pthread_once(&fam.once, families_init);
    char service[256];
    const char *method;
    method_labels(m, service, sizeof service, &method);
    const char *v[] = {grpc_type(m->m->kind), service, method};
    m->m_started = sl_metric_with(fam.started, v);
    m->m_received = sl_metric_with(fam.received, v);
    m->m_sent = sl_metric_with(fam.sent, v);
    m->m_seconds = sl_metric_with(fam.seconds, v);
}

static void count_handled(method_rt *m, sl_status st, int64_t us)
{
    int code = sl_status_grpc_code(st);
    if (code < 0 || code >= GRPC_CODES)
        code = sl_status_grpc_code(SL_UNKNOWN);
    sl_metric_child *h = atomic_load_explicit(&m->m_handled[code], memory_order_acquire);
    if (h == NULL) {
        char service[256];
        const char *method;
        method_labels(m, service, sizeof service, &method);
        const char *v[] = {grpc_type(m->m->kind), service, method,
                           sl_status_name(sl_status_from_grpc_code(code))};
        h = sl_metric_with(fam.handled, v);
        atomic_store_explicit(&m->m_handled[code], h, memory_order_release);
    }
    sl_metric_add(h, 1);
    sl_metric_observe(m->m_seconds, (double)us / 1e6);
    if (st == SL_OK && m->m->kind == SL_RPC_UNARY)
        sl_metric_add(m->m_sent, 1);
}

/* The access log's level for a status: our own faults are errors, a
 * dependency's unavailability a warning; everything else -- OK, bad
 * requests and business answers (sold out, not found) -- info, as
 * docs/OPERATIONS.md says. */
static sl_log_level access_level(sl_status st)
{
    if (st == SL_INTERNAL || st == SL_UNKNOWN || st == SL_DATA_LOSS)
        return SL_LOG_ERROR;
    return st == SL_UNAVAILABLE ? SL_LOG_WARN : SL_LOG_INFO;
}

/* One access-log line per call (event "rpc"): method, code, duration_ms,
 * peer, bytes_in, bytes_out, with the call's request_id, trace_id and
 * span_id; an error's message is msg.  Counts the call in the metrics
 * whatever the log level. */
static void status_log(sl_call *c, sl_status st, const sl_err *err, int64_t us)
{
    method_rt *m = c->mrt;
    count_handled(m, st, us);
    atomic_fetch_add_explicit(&m->calls, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->total_us, (uint64_t)us, memory_order_relaxed);
    if (st != SL_OK)
        atomic_fetch_add_explicit(&m->errors, 1, memory_order_relaxed);
    sl_access_log mode = c->srv->opts.access_log;
    sl_log_level lvl = access_level(st);
    if (mode == SL_ACCESS_LOG_OFF || (mode == SL_ACCESS_LOG_ERRORS && st == SL_OK) ||
        !sl_log_enabled(lvl))
        return;
    char *peer = c->call != NULL ? grpc_call_get_peer(c->call) : NULL;
    const sl_log_field f[] = {
        {"method", m->name, 0},
        {"code", sl_status_name(st), 0},
        {"duration_ms", NULL, (double)us / 1000.0},
        {"peer",
         peer != NULL            ? peer
         : c->local_peer != NULL ? c->local_peer
                                 : "local",
         0},
        {"bytes_in", NULL, (double)c->bytes_in},
        {"bytes_out", NULL, (double)c->bytes_out},
    };
    sl__log_write_fields(lvl, "rpc", &c->trace, f, sizeof f / sizeof f[0], "%s",
                         st != SL_OK && err != NULL ? err->msg : "");
    gpr_free(peer);
}

bool sl_server_method_stats(sl_server *s, const char *method, sl_method_stats *out)
{
    for (size_t i = 0; i < s->n_methods; i++) {
        method_rt *m = &s->methods[i];
        if (strcmp(m->name, method) == 0) {
            out->calls = atomic_load(&m->calls);
            out->errors = atomic_load(&m->errors);
            out->total_us = atomic_load(&m->total_us);
            return true;
        }
    }
    return false;
}

/* The size HTTP/2 counts for a header block (RFC 7540 6.5.2: each field's
 * name and value and 32 bytes), so the limit means what a client's
 * SETTINGS_MAX_HEADER_LIST_SIZE means. */
static size_t header_bytes(const grpc_metadata_array *md)
{
    size_t n = 0;
    for (size_t i = 0; i < md->count; i++)
        n += GRPC_SLICE_LENGTH(md->metadata[i].key) + GRPC_SLICE_LENGTH(md->metadata[i].value) + 32;
    return n;
}

/* Checks that run before every handler: header size, deadline, the
 * interceptor, then
 * the method's own validation of its request (req is NULL for client and
 * bidirectional streams, which validate what they receive themselves).
 * The interceptor goes before validation so a caller it refuses learns
 * nothing of the request rules. */
static sl_status pre_dispatch(sl_call *c, const ProtobufCMessage *req, sl_err *err)
{
    size_t hb = header_bytes(&c->req_md);
    if ((int64_t)hb > c->srv->opts.max_header_bytes)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED,
                          "request headers of %zu bytes: more than the %lld allowed", hb,
                          (long long)c->srv->opts.max_header_bytes);
    if (c->deadline_ms != INT64_MAX && c->deadline_ms <= now_realtime_ms())
        return sl_err_set(err, SL_DEADLINE_EXCEEDED, "deadline passed before %s started",
                          c->mrt->name);
    sl_server *s = c->srv;
    if (s->opts.interceptor != NULL && c->mrt->svc != &s->health_def) {
        sl_status st = s->opts.interceptor(c, s->opts.interceptor_ctx, err);
        if (st != SL_OK)
            return st;
    }
    if (s->opts.check_roles && c->mrt->svc != &s->health_def &&
        (c->identity.roles & c->mrt->m->roles) == 0) {
        char need[128], has[128];
        return sl_err_set(
            err, SL_PERMISSION_DENIED, "%s needs role %s; \"%s\" has %s", c->mrt->name,
            sl_roles_format(c->mrt->m->roles, " or ", need, sizeof need), c->identity.subject,
            sl_roles_format(c->identity.roles, ", ", has, sizeof has));
    }
    if (req != NULL && c->mrt->m->validate != NULL)
        return c->mrt->m->validate(req, err);
    return SL_OK;
}

static void fill_status_ops(sl_call *c, grpc_op *op, sl_status st, const sl_err *err)
{
    add_status_details(c, st, err);
    memset(op, 0, sizeof *op);
    op->op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    op->data.send_status_from_server.status = (grpc_status_code)sl_status_grpc_code(st);
    op->data.send_status_from_server.trailing_metadata_count = c->trail_md.n;
    op->data.send_status_from_server.trailing_metadata = c->trail_md.v;
    if (st != SL_OK && err != NULL && err->msg[0] != '\0') {
        c->status_details = grpc_slice_from_copied_string(err->msg);
        c->has_details = true;
        op->data.send_status_from_server.status_details = &c->status_details;
    }
}

/* Appends the SEND_INITIAL_METADATA op (with the handler's metadata) once
 * per call: gRPC requires it before the first message or the status. */
static void add_initial_md_op(sl_call *c, grpc_op *ops, size_t *n)
{
    if (c->initial_sent)
        return;
    ops[*n].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[*n].data.send_initial_metadata.count = c->init_md.n;
    ops[*n].data.send_initial_metadata.metadata = c->init_md.v;
    (*n)++;
    c->initial_sent = true;
}

static void call_release_grpc(sl_call *c)
{
    if (c->resp_bb != NULL) {
        grpc_byte_buffer_destroy(c->resp_bb);
        c->resp_bb = NULL;
    }
    if (c->payload != NULL) {
        grpc_byte_buffer_destroy(c->payload);
        c->payload = NULL;
    }
    if (c->has_details) {
        grpc_slice_unref(c->status_details);
        c->has_details = false;
    }
    md_clear(&c->init_md);
    md_clear(&c->trail_md);
    grpc_metadata_array_destroy(&c->req_md);
    if (c->call != NULL) {
        grpc_call_unref(c->call);
        c->call = NULL;
    }
}

/* -------------------------------------------------------------- unary -- */

static sl_call *unary_call_get(worker *w)
{
    sl_call *c = w->free_calls;
    if (c != NULL) {
        w->free_calls = (sl_call *)c->mrt;
        md_list init = c->init_md, trail = c->trail_md;
        memset(c, 0, sizeof *c);
        c->init_md = init;
        c->trail_md = trail;
        return c;
    }
    return sl_calloc(1, sizeof *c);
}

static void unary_call_put(worker *w, sl_call *c)
{
    call_release_grpc(c);
    /* The free list reuses mrt as its link: the object is dead until reused. */
    c->mrt = (method_rt *)w->free_calls;
    w->free_calls = c;
}

/* The failure switch of test builds (sl_arena.h): armed from the call's
 * metadata for its decoding, handler and encoding, on this worker thread
 * only, so the worker's other calls and the service's background threads
 * allocate as usual.  The trailer tells the test whether n was reached. */
#ifdef SL_FAULT_INJECTION
static void fault_arm(sl_call *c)
{
    size_t len = 0;
    const char *v = md_lookup(&c->req_md, "x-shelfline-fail-alloc", &len);
    char digits[21];
    if (v == NULL || len == 0 || len >= sizeof digits)
        return;
    memcpy(digits, v, len);
    digits[len] = '\0';
    char *end;
    unsigned long n = strtoul(digits, &end, 10);
    if (*end == '\0')
        sl_arena_fail_at(n);
}

static void fault_end(sl_call *c)
{
    if (sl_arena_fail_end())
        md_add(&c->trail_md, "x-shelfline-fail-alloc-hit", "1", 1, NULL);
}
#else
static void fault_arm(sl_call *c)
{
    (void)c;
}

static void fault_end(sl_call *c)
{
    (void)c;
}
#endif

/* Out of memory funnels through one exit (SQLite): when an allocation
 * failed on this thread while serving the call, whatever the handler made
 * of the NULL it got (an empty result, an id it could not find), the answer
 * is RESOURCE_EXHAUSTED -- INTERNAL stays.  Its transactions rolled back
 * (sl_db_tx).  Ends the call's bracket (sl_arena_oom_call_begin). */
static sl_status oom_funnel(const method_rt *m, sl_status st, sl_err *err)
{
    bool oom = sl_arena_oom_count() != sl_arena_oom_base();
    sl_arena_oom_call_end();
    if (!oom || st == SL_RESOURCE_EXHAUSTED || st == SL_INTERNAL)
        return st;
    return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory serving %s", m->name);
}

/* Checks, interceptor and handler of a decoded unary request; on OK *resp
 * is the handler's reply (arena memory). */
static sl_status unary_pipeline(sl_call *c, const ProtobufCMessage *req, ProtobufCMessage **resp,
                                sl_err *err)
{
    const method_rt *m = c->mrt;
    sl_status st = pre_dispatch(c, req, err);
    if (st != SL_OK)
        return st;
    *resp = sl_arena_alloc(c->arena, m->response->sizeof_message);
    if (*resp == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    m->response->message_init(*resp);
    return m->m->unary(c, req, *resp, err);
}

static void serve_unary(worker *w, sl_call *c)
{
    sl_server *s = w->srv;
    const method_rt *m = c->mrt;
    sl_err err;
    sl_err_clear(&err);
    ProtobufCMessage *req = NULL, *resp = NULL;
    sl_status st;

    sl_metric_add(m->m_started, 1);
    sl_arena_oom_call_begin();
    fault_arm(c);
    const sl_trace *prev = sl_trace_swap(&c->trace);
    const sl_call *prev_call = call_swap(c);
    c->bytes_out = 0;
    c->bytes_in = c->payload != NULL ? grpc_byte_buffer_length(c->payload) : 0;
    if (c->payload == NULL)
        st = sl_err_set(&err, SL_INVALID_ARGUMENT, "request message missing");
    else
        st = decode(c->payload, m->request, c->arena, s->opts.max_recv_bytes, &req, &err);
    if (st == SL_OK) {
        sl_metric_add(m->m_received, 1);
        st = unary_pipeline(c, req, &resp, &err);
    }
    if (st == SL_OK)
        st = encode(resp, s->opts.max_send_bytes, &c->resp_bb, &err);
    if (st == SL_OK)
        c->bytes_out = grpc_byte_buffer_length(c->resp_bb);
    st = oom_funnel(m, st, &err);
    fault_end(c);
    call_swap(prev_call);
    sl_trace_swap(prev);

    grpc_op ops[4];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    add_initial_md_op(c, ops, &n);
    if (st == SL_OK) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = c->resp_bb;
        n++;
    }
    fill_status_ops(c, &ops[n++], st, &err);
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n].data.recv_close_on_server.cancelled = &c->cancelled;
    n++;
    c->tag_kind = TAG_UNARY_DONE;
    status_log(c, st, &err, elapsed_us(&c->started));
    /* Once the batch is started another worker may take its completion
     * from the shared queue and recycle c: nothing of c is read after it
     * unless it failed to start. */
    sl_arena *arena = c->arena;
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, c, NULL);
    /* Everything the batch needs is in gRPC slices now. */
    sl_arena_reset(arena);
    if (e != GRPC_CALL_OK) {
        SL_LOG(SL_LOG_ERROR, "rpc", c->trace.request_id, "could not start reply batch: error %d",
               e);
        unary_call_put(w, c);
    }
}

/* ---------------------------------------------------------- streaming -- */

static bool pluck(sl_call *c, void *tag, gpr_timespec deadline, bool *ok)
{
    grpc_event ev = grpc_completion_queue_pluck(c->cq, tag, deadline, NULL);
    if (ev.type != GRPC_OP_COMPLETE)
        return false;
    *ok = ev.success != 0;
    return true;
}

bool sl_call_done(sl_call *call)
{
    if (atomic_load(&call->srv->shutting_down))
        return true;
    if (call->deadline_ms != INT64_MAX && call->deadline_ms <= now_realtime_ms())
        return true;
    if (call->local_stream != NULL) {
        const sl_local_call *lc = call->local_stream;
        if (!call->close_done && lc->gone != NULL && lc->gone(lc->stream_ctx))
            call->close_done = true;
        return call->close_done;
    }
    if (!call->streaming)
        return false;
    if (!call->close_done) {
        bool ok;
        if (pluck(call, &call->close_tag, gpr_inf_past(GPR_CLOCK_MONOTONIC), &ok))
            call->close_done = true;
    }
    return call->close_done;
}

sl_status sl_call_done_status(sl_call *call, sl_err *err)
{
    if (atomic_load(&call->srv->shutting_down))
        return sl_err_set(err, SL_UNAVAILABLE, "server is shutting down");
    if (call->deadline_ms != INT64_MAX && call->deadline_ms <= now_realtime_ms())
        return sl_err_set(err, SL_DEADLINE_EXCEEDED, "deadline passed");
    if (sl_call_done(call))
        return sl_err_set(err, SL_CANCELLED, "the client cancelled the call");
    return SL_OK;
}

int sl_call_wait_fd(sl_call *call, int fd, int64_t timeout_ms)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (sl_call_done(call))
            return -1;
        int64_t slice = DONE_POLL_MS;
        if (timeout_ms >= 0) {
            int64_t left = timeout_ms - elapsed_us(&start) / 1000;
            if (left <= 0)
                return 0;
            if (left < slice)
                slice = left;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)slice);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

/* sl_call_send of an in-process stream: the size limit gRPC's path
 * checks (encode), then the caller's send. */
static sl_status local_send(sl_call *call, const ProtobufCMessage *msg, sl_err *err)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    if ((int64_t)len > call->srv->opts.max_send_bytes)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED,
                          "response message of %zu bytes exceeds the limit of %" PRId64, len,
                          call->srv->opts.max_send_bytes);
    const sl_local_call *lc = call->local_stream;
    sl_status st = lc->send(lc->stream_ctx, msg, err);
    if (st != SL_OK)
        return st;
    call->bytes_out += len;
    sl_metric_add(call->mrt->m_sent, 1);
    return SL_OK;
}

/* Runs one batch on a stream's private queue and waits for it. */
static bool stream_batch(sl_call *c, grpc_op *ops, size_t n)
{
    if (grpc_call_start_batch(c->call, ops, n, &c->op_tag, NULL) != GRPC_CALL_OK)
        return false;
    bool ok = false;
    pluck(c, &c->op_tag, gpr_inf_future(GPR_CLOCK_MONOTONIC), &ok);
    return ok;
}

sl_status sl_call_send(sl_call *call, const ProtobufCMessage *msg, sl_err *err)
{
    if (!call->streaming)
        return sl_err_set(err, SL_INTERNAL, "sl_call_send on a unary call");
    if (call->local_stream != NULL)
        return local_send(call, msg, err);
    grpc_byte_buffer *bb = NULL;
    sl_status st = encode(msg, call->srv->opts.max_send_bytes, &bb, err);
    if (st != SL_OK)
        return st;
    grpc_op ops[2];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    add_initial_md_op(call, ops, &n);
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n].data.send_message.send_message = bb;
    n++;
    size_t len = grpc_byte_buffer_length(bb);
    bool ok = stream_batch(call, ops, n);
    grpc_byte_buffer_destroy(bb);
    if (!ok)
        return sl_err_set(err, SL_CANCELLED, "call ended before the message was sent");
    call->bytes_out += len;
    sl_metric_add(call->mrt->m_sent, 1);
    return SL_OK;
}

sl_status sl_call_recv(sl_call *call, sl_arena *arena, ProtobufCMessage **msg, sl_err *err)
{
    *msg = NULL;
    if (!call->streaming || call->local_stream != NULL)
        return sl_err_set(err, SL_INTERNAL, "sl_call_recv on a unary or in-process call");
    grpc_byte_buffer *bb = NULL;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &bb;
    if (!stream_batch(call, &op, 1))
        return sl_err_set(err, SL_CANCELLED, "call ended while receiving");
    if (bb == NULL)
        return SL_OK; /* half-closed */
    sl_status st = decode(bb, call->mrt->request, arena != NULL ? arena : call->arena,
                          call->srv->opts.max_recv_bytes, msg, err);
    grpc_byte_buffer_destroy(bb);
    sl_metric_add(call->mrt->m_received, 1);
    return st;
}

static void stream_finish(sl_call *c, sl_status st, const sl_err *err)
{
    grpc_op ops[2];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    add_initial_md_op(c, ops, &n);
    fill_status_ops(c, &ops[n++], st, err);
    stream_batch(c, ops, n);
    if (!c->close_done) {
        bool ok;
        pluck(c, &c->close_tag, gpr_inf_future(GPR_CLOCK_MONOTONIC), &ok);
        c->close_done = true;
    }
}

/* Takes a place among the server's streams (health Watch streams have
 * their own budget); false when there is none left. */
static bool stream_enter(sl_server *s, bool health_watch)
{
    pthread_mutex_lock(&s->mu);
    int64_t *n = health_watch ? &s->active_health_watches : &s->active_streams;
    bool admit = *n < (health_watch ? s->opts.max_health_watches : s->opts.max_streams);
    if (admit)
        (*n)++;
    pthread_mutex_unlock(&s->mu);
    return admit;
}

static void stream_leave(sl_server *s, bool health_watch)
{
    pthread_mutex_lock(&s->mu);
    if (health_watch)
        s->active_health_watches--;
    else
        s->active_streams--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *stream_main(void *arg)
{
    sl_call *c = arg;
    sl_server *s = c->srv;
    bool health_watch = c->mrt->svc == &s->health_def;
    const sl_method *m = c->mrt->m;
    const ProtobufCMessageDescriptor *request = c->mrt->request;
    sl_err err;
    sl_err_clear(&err);
    sl_status st = SL_OK;

    /* Learn of cancellation as soon as it happens (see sl_call_done). */
    grpc_op close_op;
    memset(&close_op, 0, sizeof close_op);
    close_op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    close_op.data.recv_close_on_server.cancelled = &c->cancelled;
    if (grpc_call_start_batch(c->call, &close_op, 1, &c->close_tag, NULL) != GRPC_CALL_OK) {
        c->close_done = true;
        st = sl_err_set(&err, SL_INTERNAL, "could not watch the call for cancellation");
    }

    ProtobufCMessage *req = NULL;
    sl_metric_add(c->mrt->m_started, 1);
    const sl_trace *prev = sl_trace_swap(&c->trace);
    const sl_call *prev_call = call_swap(c);
    c->bytes_in = c->payload != NULL ? grpc_byte_buffer_length(c->payload) : 0;
    if (st == SL_OK && m->kind == SL_RPC_SERVER_STREAMING) {
        if (c->payload == NULL)
            st = sl_err_set(&err, SL_INVALID_ARGUMENT, "request message missing");
        else
            st = decode(c->payload, request, c->arena, s->opts.max_recv_bytes, &req, &err);
        if (st == SL_OK)
            sl_metric_add(c->mrt->m_received, 1);
    }
    if (st == SL_OK)
        st = pre_dispatch(c, req, &err);
    if (st == SL_OK)
        st = m->stream(c, req, &err);
    status_log(c, st, &err, elapsed_us(&c->started));
    stream_finish(c, st, &err);
    call_swap(prev_call);
    sl_trace_swap(prev);

    call_release_grpc(c);
    md_free(&c->init_md);
    md_free(&c->trail_md);
    grpc_completion_queue_shutdown(c->cq);
    grpc_completion_queue_destroy(c->cq);
    sl_arena_destroy(c->arena);
    free(c);

    stream_leave(s, health_watch);
    return NULL;
}

/* ---------------------------------------------------- reject (status) -- */

static void reject_call(grpc_call *call, sl_status st, const char *msg)
{
    reject *r = sl_calloc(1, sizeof *r);
    if (r == NULL) {
        grpc_call_cancel_with_status(call, (grpc_status_code)sl_status_grpc_code(st), msg, NULL);
        grpc_call_unref(call);
        return;
    }
    r->tag_kind = TAG_REJECT_DONE;
    r->call = call;
    r->details = grpc_slice_from_copied_string(msg);
    grpc_op ops[3];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[1].data.send_status_from_server.status = (grpc_status_code)sl_status_grpc_code(st);
    ops[1].data.send_status_from_server.status_details = &r->details;
    ops[2].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[2].data.recv_close_on_server.cancelled = &r->cancelled;
    if (grpc_call_start_batch(call, ops, 3, r, NULL) != GRPC_CALL_OK) {
        grpc_slice_unref(r->details);
        grpc_call_unref(call);
        free(r);
    }
}

static void reject_done(reject *r)
{
    grpc_slice_unref(r->details);
    grpc_call_unref(r->call);
    free(r);
}

bool sl_server_method_info(const sl_server *s, const char *method, sl_rpc_kind *kind,
                           const ProtobufCMessageDescriptor **request,
                           const ProtobufCMessageDescriptor **response)
{
    for (size_t i = 0; i < s->n_methods; i++) {
        const method_rt *m = &s->methods[i];
        if (strcmp(m->name, method) == 0) {
            *kind = m->m->kind;
            *request = m->request;
            *response = m->response;
            return true;
        }
    }
    return false;
}

sl_status sl_server_call_local(sl_server *s, const char *method, const void *req_bytes,
                               size_t req_len, sl_arena *arena, void **resp_bytes, size_t *resp_len,
                               sl_err *err)
{
    return sl_server_call_local_ex(s, method, req_bytes, req_len, NULL, arena, resp_bytes, resp_len,
                                   err);
}

/* The local call's metadata as gRPC's received metadata (slices we own:
 * local_md_free unrefs them), so sl_call_metadata and the header-size
 * check see them as they see a network call's. */
static void local_md_fill(grpc_metadata_array *md, const sl_local_call *lc)
{
    if (lc == NULL || lc->n_metadata == 0)
        return;
    md->metadata = gpr_malloc(lc->n_metadata * sizeof *md->metadata);
    md->capacity = lc->n_metadata;
    for (size_t i = 0; i < lc->n_metadata; i++) {
        const char *k = lc->metadata[2 * i], *v = lc->metadata[2 * i + 1];
        memset(&md->metadata[i], 0, sizeof md->metadata[i]);
        md->metadata[i].key = grpc_slice_from_copied_string(k);
        md->metadata[i].value = grpc_slice_from_copied_string(v != NULL ? v : "");
        md->count = i + 1;
    }
}

static void local_md_free(grpc_metadata_array *md)
{
    for (size_t i = 0; i < md->count; i++) {
        grpc_slice_unref(md->metadata[i].key);
        grpc_slice_unref(md->metadata[i].value);
    }
    md->count = 0;
    grpc_metadata_array_destroy(md);
}

/* The in-process call's trace context: the one its metadata carries (the
 * HTTP face's traceparent and x-request-id), else a child span of whatever
 * the thread is doing, else a new trace with request id "local". */
static void local_trace(sl_call *c, const sl_local_call *lc)
{
    if (lc != NULL && lc->n_metadata > 0) {
        context_from_md(&c->req_md, &c->trace);
        return;
    }
    const sl_trace *cur = sl_trace_current();
    if (cur != NULL) {
        char tp[SL_TRACEPARENT_LEN + 1];
        sl_trace_traceparent(cur, tp, sizeof tp);
        sl_trace_begin(&c->trace, tp, strlen(tp), cur->state, strlen(cur->state));
        sl_trace_set_request_id(&c->trace, cur->request_id, strlen(cur->request_id));
    } else {
        sl_trace_begin(&c->trace, NULL, 0, NULL, 0);
        sl_trace_set_request_id(&c->trace, "local", 5);
    }
}

static method_rt *method_by_name(sl_server *s, const char *method)
{
    for (size_t i = 0; i < s->n_methods; i++)
        if (strcmp(s->methods[i].name, method) == 0)
            return &s->methods[i];
    return NULL;
}

/* The call object of an in-process call (unary or stream): metadata,
 * trace context, deadline (a unary one capped by max_call_ms), start
 * time.  local_call_end releases what this took. */
static void local_call_begin(sl_call *c, sl_server *s, method_rt *mrt, const sl_local_call *lc,
                             sl_arena *arena, bool streaming)
{
    memset(c, 0, sizeof *c);
    c->srv = s;
    c->mrt = mrt;
    c->arena = arena;
    c->streaming = streaming;
    c->local_peer = lc != NULL ? lc->peer : NULL;
    int64_t deadline = INT64_MAX;
    if (lc != NULL && lc->timeout_ms > 0)
        deadline = now_realtime_ms() + lc->timeout_ms;
    c->deadline_ms = cap_deadline(s, deadline, streaming);
    grpc_metadata_array_init(&c->req_md);
    local_md_fill(&c->req_md, lc);
    local_trace(c, lc);
    clock_gettime(CLOCK_MONOTONIC, &c->started);
}

/* Transcodes (when lc asks) and decodes an in-process request, as gRPC
 * bytes are decoded (size, sl_valid, unpack). */
static sl_status local_decode(sl_call *c, const sl_local_call *lc, const void *req_bytes,
                              size_t req_len, ProtobufCMessage **req, sl_err *err)
{
    sl_status st = SL_OK;
    if (lc != NULL && lc->transcode != NULL) {
        void *pb = NULL;
        size_t pb_len = 0;
        st = lc->transcode(lc->transcode_ctx, c->mrt->request, req_bytes, req_len, c->arena, &pb,
                           &pb_len, err);
        req_bytes = pb;
        req_len = pb_len;
    }
    c->bytes_in = req_len;
    if (st == SL_OK)
        st = decode_bytes(req_bytes, req_len, c->mrt->request, c->arena,
                          c->srv->opts.max_recv_bytes, req, err);
    return st;
}

/* The google.rpc.Status of a failed in-process call into lc (arena
 * memory), as a gRPC client finds it in grpc-status-details-bin. */
static void local_status_details(sl_call *c, sl_local_call *lc, sl_status st, const sl_err *err)
{
    lc->status_details = NULL;
    lc->status_details_len = 0;
    uint8_t *buf;
    size_t len;
    if (st != SL_OK && sl_rpc_status_pack(st, err, c->mrt->request, c->details, c->n_details,
                                          c->arena, &buf, &len)) {
        lc->status_details = buf;
        lc->status_details_len = len;
    }
}

static void local_call_end(sl_call *c)
{
    md_free(&c->init_md);
    md_free(&c->trail_md);
    local_md_free(&c->req_md);
}

/* Runs a unary call in-process:
 *   1. find the method (UNIMPLEMENTED) and check it is unary;
 *   2. make the call object: metadata, trace context, deadline;
 *   3. transcode the request when asked (JSON), then decode it as gRPC
 *      bytes are decoded (size, sl_valid, unpack);
 *   4. the pipeline: header size, deadline, interceptor, roles,
 *      validation, handler -- what serve_unary runs;
 *   5. pack the reply, or on an error the google.rpc.Status details;
 *   6. when accounted, metrics and the access log. */
sl_status sl_server_call_local_ex(sl_server *s, const char *method, const void *req_bytes,
                                  size_t req_len, sl_local_call *lc, sl_arena *arena,
                                  void **resp_bytes, size_t *resp_len, sl_err *err)
{
    method_rt *mrt = method_by_name(s, method);
    if (mrt == NULL)
        return sl_err_set(err, SL_UNIMPLEMENTED, "unknown method \"%s\"", method);
    if (mrt->m->kind != SL_RPC_UNARY)
        return sl_err_set(err, SL_FAILED_PRECONDITION, "%s is not unary", method);
    /* As gRPC stops admitting calls at shutdown: the HTTP face may still
     * take requests while the process drains. */
    if (lc != NULL && atomic_load(&s->shutting_down))
        return sl_err_set(err, SL_UNAVAILABLE, "server is shutting down");
    sl_call c;
    local_call_begin(&c, s, mrt, lc, arena, false);
    bool account = lc != NULL && lc->account;
    if (account)
        sl_metric_add(mrt->m_started, 1);
    ProtobufCMessage *req = NULL, *resp = NULL;
    sl_arena_oom_call_begin();
    const sl_trace *prev = sl_trace_swap(&c.trace);
    const sl_call *prev_call = call_swap(&c);
    sl_status st = local_decode(&c, lc, req_bytes, req_len, &req, err);
    if (st == SL_OK) {
        if (account)
            sl_metric_add(mrt->m_received, 1);
        st = unary_pipeline(&c, req, &resp, err);
    }
    st = oom_funnel(mrt, st, err);
    call_swap(prev_call);
    sl_trace_swap(prev);
    if (st == SL_OK) {
        *resp_len = protobuf_c_message_get_packed_size(resp);
        *resp_bytes = sl_arena_alloc(arena, *resp_len + 1);
        if (*resp_bytes == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        else
            protobuf_c_message_pack(resp, *resp_bytes);
        c.bytes_out = *resp_len;
    }
    if (lc != NULL) {
        lc->response = st == SL_OK ? resp : NULL;
        local_status_details(&c, lc, st, err);
    }
    if (account)
        status_log(&c, st, err, elapsed_us(&c.started));
    local_call_end(&c);
    return st;
}

/* Runs a server stream in-process (see sl_server.h):
 *   1. find the method and check it is server-streaming;
 *   2. a place among the server's streams, as on_registered takes one;
 *   3. the call object, marked as a local stream so that sl_call_send,
 *      sl_call_done and sl_call_wait_fd go to lc;
 *   4. decode, then pre_dispatch and the handler -- what stream_main runs;
 *   5. the status's details, metrics and the access log. */
sl_status sl_server_stream_local(sl_server *s, const char *method, const void *req_bytes,
                                 size_t req_len, sl_local_call *lc, sl_arena *arena, sl_err *err)
{
    method_rt *mrt = method_by_name(s, method);
    if (mrt == NULL)
        return sl_err_set(err, SL_UNIMPLEMENTED, "unknown method \"%s\"", method);
    if (mrt->m->kind != SL_RPC_SERVER_STREAMING || lc == NULL || lc->send == NULL)
        return sl_err_set(err, SL_FAILED_PRECONDITION, "%s is not served as a local stream",
                          method);
    lc->status_details = NULL;
    lc->status_details_len = 0;
    if (atomic_load(&s->shutting_down))
        return sl_err_set(err, SL_UNAVAILABLE, "server is shutting down");
    bool health_watch = mrt->svc == &s->health_def;
    if (!stream_enter(s, health_watch)) {
        SL_LOG(SL_LOG_WARN, "rpc", NULL, "%s rejected: too many streams", mrt->name);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "too many concurrent streams");
    }
    sl_call c;
    local_call_begin(&c, s, mrt, lc, arena, true);
    c.local_stream = lc;
    sl_metric_add(mrt->m_started, 1);
    ProtobufCMessage *req = NULL;
    const sl_trace *prev = sl_trace_swap(&c.trace);
    const sl_call *prev_call = call_swap(&c);
    sl_status st = local_decode(&c, lc, req_bytes, req_len, &req, err);
    if (st == SL_OK) {
        sl_metric_add(mrt->m_received, 1);
        st = pre_dispatch(&c, req, err);
    }
    if (st == SL_OK)
        st = mrt->m->stream(&c, req, err);
    call_swap(prev_call);
    sl_trace_swap(prev);
    local_status_details(&c, lc, st, err);
    status_log(&c, st, err, elapsed_us(&c.started));
    local_call_end(&c);
    stream_leave(s, health_watch);
    return st;
}

/* -------------------------------------------------------------- slots -- */

static bool arm(slot *sl)
{
    sl_server *s = sl->w->srv;
    grpc_metadata_array_init(&sl->md);
    sl->payload = NULL;
    sl->call = NULL;
    grpc_call_error e;
    if (sl->mrt == NULL) {
        grpc_call_details_init(&sl->details);
        e = grpc_server_request_call(s->server, &sl->call, &sl->details, &sl->md, sl->w->cq,
                                     sl->w->cq, sl);
    } else {
        grpc_completion_queue *bound = sl->w->cq;
        bool streaming = sl->mrt->m->kind != SL_RPC_UNARY;
        if (streaming) {
            sl->call_cq = grpc_completion_queue_create_for_pluck(NULL);
            bound = sl->call_cq;
        }
        bool has_payload =
            sl->mrt->m->kind == SL_RPC_UNARY || sl->mrt->m->kind == SL_RPC_SERVER_STREAMING;
        e = grpc_server_request_registered_call(
            s->server, sl->mrt->handle, &sl->call, &sl->deadline, &sl->md,
            has_payload ? &sl->payload : NULL, bound, sl->w->cq, sl);
    }
    if (e != GRPC_CALL_OK) {
        SL_LOG(SL_LOG_ERROR, "server", NULL, "could not arm a request slot: error %d", e);
        grpc_metadata_array_destroy(&sl->md);
        if (sl->mrt == NULL)
            grpc_call_details_destroy(&sl->details);
        if (sl->call_cq != NULL) {
            grpc_completion_queue_shutdown(sl->call_cq);
            grpc_completion_queue_destroy(sl->call_cq);
            sl->call_cq = NULL;
        }
        return false;
    }
    return true;
}

static void slot_discard(slot *sl)
{
    grpc_metadata_array_destroy(&sl->md);
    if (sl->mrt == NULL)
        grpc_call_details_destroy(&sl->details);
    if (sl->payload != NULL)
        grpc_byte_buffer_destroy(sl->payload);
    if (sl->call_cq != NULL) {
        grpc_completion_queue_shutdown(sl->call_cq);
        grpc_completion_queue_destroy(sl->call_cq);
    }
    free(sl);
}

static void on_unregistered(worker *w, slot *sl)
{
    char method[256];
    size_t len = GRPC_SLICE_LENGTH(sl->details.method);
    if (len >= sizeof method)
        len = sizeof method - 1;
    memcpy(method, GRPC_SLICE_START_PTR(sl->details.method), len);
    method[len] = '\0';
    char msg[320];
    snprintf(msg, sizeof msg, "unknown method \"%s\"", method);
    /* Refused before any handler, and logged like any call. */
    if (sl_log_enabled(SL_LOG_INFO)) {
        sl_trace t;
        context_from_md(&sl->md, &t);
        char *peer = grpc_call_get_peer(sl->call);
        const sl_log_field f[] = {
            {"method", method, 0},
            {"code", "UNIMPLEMENTED", 0},
            {"duration_ms", NULL, 0},
            {"peer", peer != NULL ? peer : "", 0},
        };
        sl__log_write_fields(SL_LOG_INFO, "rpc", &t, f, sizeof f / sizeof f[0], "%s", msg);
        gpr_free(peer);
    }
    grpc_call *call = sl->call;
    grpc_metadata_array_destroy(&sl->md);
    grpc_call_details_destroy(&sl->details);
    (void)w;
    reject_call(call, SL_UNIMPLEMENTED, msg);
}

static void on_registered(worker *w, slot *sl)
{
    sl_server *s = w->srv;
    method_rt *mrt = sl->mrt;
    bool streaming = mrt->m->kind != SL_RPC_UNARY;
    sl_call *c;
    if (streaming) {
        c = sl_calloc(1, sizeof *c);
        if (c != NULL) {
            c->arena = sl_arena_create(0);
            if (c->arena == NULL) {
                free(c);
                c = NULL;
            }
        }
    } else {
        c = unary_call_get(w);
        if (c != NULL)
            c->arena = w->arena;
    }
    if (c == NULL) {
        grpc_metadata_array_destroy(&sl->md);
        if (sl->payload != NULL)
            grpc_byte_buffer_destroy(sl->payload);
        if (sl->call_cq != NULL) {
            grpc_call_cancel_with_status(sl->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory",
                                         NULL);
            grpc_call_unref(sl->call);
            grpc_completion_queue_shutdown(sl->call_cq);
            grpc_completion_queue_destroy(sl->call_cq);
            sl->call_cq = NULL;
        } else {
            reject_call(sl->call, SL_RESOURCE_EXHAUSTED, "out of memory");
        }
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &c->started);
    c->srv = s;
    c->mrt = mrt;
    c->w = w;
    c->call = sl->call;
    c->deadline = sl->deadline;
    c->deadline_ms = cap_deadline(s, deadline_to_ms(sl->deadline), streaming);
    c->req_md = sl->md; /* moves ownership */
    c->payload = sl->payload;
    c->streaming = streaming;
    c->cq = streaming ? sl->call_cq : w->cq;
    sl->call_cq = NULL;
    context_from_md(&c->req_md, &c->trace);

    if (!streaming) {
        serve_unary(w, c);
        return;
    }

    bool health_watch = mrt->svc == &s->health_def;
    bool admit = stream_enter(s, health_watch);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (!admit || pthread_create(&t, &attr, stream_main, c) != 0) {
        if (admit)
            stream_leave(s, health_watch);
        SL_LOG(SL_LOG_WARN, "rpc", c->trace.request_id, "%s rejected: too many streams", mrt->name);
        /* A health Watch over its budget answers UNIMPLEMENTED: that is
         * what makes a client-side health checker (gRPC proposal A17: every
         * sl_client channel) count the server as healthy, where any other
         * status would mark the connection unhealthy -- so watchers that
         * spent the budget cannot cut the suite's own channels off.  Check
         * stays served.  A status batch rather than a cancel, so the
         * answer carries its details (RetryInfo); nothing waits for the
         * client's close. */
        sl_err e;
        sl_status st =
            health_watch
                ? sl_err_set(&e, SL_UNIMPLEMENTED, "health Watch streams are all taken: use Check")
                : sl_err_set(&e, SL_RESOURCE_EXHAUSTED, "too many concurrent streams");
        c->close_done = true;
        stream_finish(c, st, &e);
        call_release_grpc(c);
        md_free(&c->init_md);
        md_free(&c->trail_md);
        grpc_completion_queue_shutdown(c->cq);
        grpc_completion_queue_destroy(c->cq);
        sl_arena_destroy(c->arena);
        free(c);
    }
    pthread_attr_destroy(&attr);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    /* Only the worker starts batches on its queue, so only the worker may
     * shut it down: it does so on the first wake-up after stop_workers is
     * set, never in the middle of a handler. */
    bool closing = false;
    for (;;) {
        gpr_timespec until =
            closing ? gpr_inf_future(GPR_CLOCK_MONOTONIC) : ms_from_now(DONE_POLL_MS);
        grpc_event ev = grpc_completion_queue_next(w->cq, until, NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type == GRPC_QUEUE_TIMEOUT) {
            if (atomic_load(&w->srv->stop_workers)) {
                /* The shared queue is shut down by the last service worker
                 * to get here: each comes only between handlers, so none
                 * starts a batch on it afterwards. */
                if (w->health_only ||
                    atomic_fetch_add(&w->srv->closing_workers, 1) + 1 == w->srv->service_threads)
                    grpc_completion_queue_shutdown(w->cq);
                closing = true;
            }
            continue;
        }
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        switch (*(int *)ev.tag) {
        case TAG_SLOT: {
            slot *sl = ev.tag;
            if (!ev.success) {
                /* The server is shutting down: the request will not come. */
                slot_discard(sl);
                break;
            }
            if (sl->mrt == NULL)
                on_unregistered(w, sl);
            else
                on_registered(w, sl);
            if (atomic_load(&w->srv->shutting_down) || !arm(sl))
                free(sl);
            break;
        }
        case TAG_UNARY_DONE:
            unary_call_put(w, ev.tag);
            break;
        case TAG_REJECT_DONE:
            reject_done(ev.tag);
            break;
        default:
            SL_LOG(SL_LOG_ERROR, "server", NULL, "unknown completion tag");
            break;
        }
    }
    while (w->free_calls != NULL) {
        sl_call *c = w->free_calls;
        w->free_calls = (sl_call *)c->mrt;
        md_free(&c->init_md);
        md_free(&c->trail_md);
        free(c);
    }
    return NULL;
}

/* ------------------------------------------------------------- health -- */

static sl_status health_check(sl_call *call, const ProtobufCMessage *req_msg,
                              ProtobufCMessage *resp_msg, sl_err *err)
{
    sl_server *s = call->srv;
    const Grpc__Health__V1__HealthCheckRequest *req =
        (const Grpc__Health__V1__HealthCheckRequest *)req_msg;
    Grpc__Health__V1__HealthCheckResponse *resp = (Grpc__Health__V1__HealthCheckResponse *)resp_msg;
    const char *name = req->service != NULL ? req->service : "";
    sl_health_status st = sl_health_get(s->health, name, NULL);
    if (st == SL_HEALTH_SERVICE_UNKNOWN)
        return sl_err_set(err, SL_NOT_FOUND, "unknown service \"%s\"", name);
    resp->status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)st;
    return SL_OK;
}

static sl_status health_watch(sl_call *call, const ProtobufCMessage *req_msg, sl_err *err)
{
    sl_server *s = call->srv;
    const Grpc__Health__V1__HealthCheckRequest *req =
        (const Grpc__Health__V1__HealthCheckRequest *)req_msg;
    const char *name = req->service != NULL ? req->service : "";
    int last = -1;
    for (;;) {
        uint64_t version;
        sl_health_status st = sl_health_get(s->health, name, &version);
        if ((int)st != last) {
            Grpc__Health__V1__HealthCheckResponse resp =
                GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
            resp.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)st;
            sl_status rc = sl_call_send(call, &resp.base, err);
            if (rc != SL_OK)
                return rc;
            last = (int)st;
        }
        if (sl_call_done(call))
            return SL_OK;
        sl_health_wait(s->health, version, DONE_POLL_MS);
    }
}

static const sl_method health_methods[] = {
    {"/grpc.health.v1.Health/Check", SL_RPC_UNARY,
     &grpc__health__v1__health_check_request__descriptor,
     &grpc__health__v1__health_check_response__descriptor, health_check, NULL},
    {"/grpc.health.v1.Health/Watch", SL_RPC_SERVER_STREAMING,
     &grpc__health__v1__health_check_request__descriptor,
     &grpc__health__v1__health_check_response__descriptor, NULL, health_watch},
};

/* ------------------------------------------------------------- server -- */

sl_status sl_server_create(const sl_server_options *opts, sl_server **out, sl_err *err)
{
    *out = NULL;
    if (opts == NULL || opts->listen == NULL || opts->listen[0] == '\0')
        return sl_err_set(err, SL_INVALID_ARGUMENT, "listen address missing");
    if (opts->workers < 0 || opts->workers > 1024)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid worker count %d", opts->workers);
    if (opts->max_call_ms < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid longest call %lld ms: must not be negative",
                          (long long)opts->max_call_ms);
    sl_server *s = sl_calloc(1, sizeof *s);
    if (s == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    s->opts = *opts;
    if (s->opts.workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->opts.workers = n > 0 ? (int)n : 1;
    }
    if (s->opts.slots_per_method <= 0)
        s->opts.slots_per_method = 16;
    if (s->opts.max_recv_bytes <= 0)
        s->opts.max_recv_bytes = DEFAULT_MAX_MSG;
    if (s->opts.max_send_bytes <= 0)
        s->opts.max_send_bytes = DEFAULT_MAX_MSG;
    if (s->opts.max_streams <= 0)
        s->opts.max_streams = 1024;
    if (s->opts.max_health_watches <= 0)
        s->opts.max_health_watches = 256;
    if (s->opts.max_concurrent_streams <= 0)
        s->opts.max_concurrent_streams = 256;
    if (s->opts.max_header_bytes <= 0)
        s->opts.max_header_bytes = 8192;
    s->health = sl_health_create();
    if (s->health == NULL) {
        free(s);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_init(&s->shutting_down, false);
    atomic_init(&s->stop_workers, false);
    atomic_init(&s->closing_workers, 0);
    grpc_init();

    s->health_def.descriptor = &grpc__health__v1__health__descriptor;
    s->health_def.methods = health_methods;
    s->health_def.n_methods = sizeof health_methods / sizeof health_methods[0];
    sl_status st = sl_server_add_service(s, &s->health_def, err);
    if (st != SL_OK) {
        sl_server_destroy(s);
        return st;
    }
    *out = s;
    return SL_OK;
}

/* The row of def for the proto's method md, or NULL; *count gets how many
 * rows name it (by its short or its full name). */
static const sl_method *row_for(const sl_service_def *def, const ProtobufCMethodDescriptor *md,
                                size_t *count)
{
    const char *svc = def->descriptor->name;
    size_t svc_len = strlen(svc);
    const sl_method *found = NULL;
    *count = 0;
    for (size_t j = 0; j < def->n_methods; j++) {
        const char *n = def->methods[j].name;
        if (n == NULL)
            continue;
        /* "/package.Service/Method" names the method in full. */
        if (n[0] == '/') {
            if (strncmp(n + 1, svc, svc_len) != 0 || n[1 + svc_len] != '/')
                continue;
            n += svc_len + 2;
        }
        if (strcmp(n, md->name) == 0) {
            found = &def->methods[j];
            (*count)++;
        }
    }
    return found;
}

sl_status sl_server_check_table(const sl_service_def *def, sl_err *err)
{
    const ProtobufCServiceDescriptor *d = def->descriptor;
    if (d == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "service descriptor missing");
    for (unsigned i = 0; i < d->n_methods; i++) {
        const ProtobufCMethodDescriptor *md = &d->methods[i];
        size_t count;
        const sl_method *m = row_for(def, md, &count);
        if (m == NULL)
            return sl_err_set(err, SL_INVALID_ARGUMENT, "service %s: no handler for /%s/%s",
                              d->name, d->name, md->name);
        if (count > 1)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "service %s: /%s/%s has %zu rows in the method table", d->name,
                              d->name, md->name, count);
        if ((m->request != NULL && m->request != md->input) ||
            (m->response != NULL && m->response != md->output))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "service %s: /%s/%s has the wrong message types", d->name, d->name,
                              md->name);
        if ((m->kind == SL_RPC_UNARY) != (m->unary != NULL) ||
            (m->kind != SL_RPC_UNARY) != (m->stream != NULL))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "service %s: /%s/%s needs exactly the handler of its kind", d->name,
                              d->name, md->name);
    }
    /* Every method of the proto has exactly one row, so any further row
     * names no method of it. */
    if (def->n_methods != d->n_methods) {
        for (size_t j = 0; j < def->n_methods; j++) {
            bool known = false;
            for (unsigned i = 0; i < d->n_methods && !known; i++) {
                size_t count;
                known = row_for(def, &d->methods[i], &count) == &def->methods[j];
            }
            if (!known)
                return sl_err_set(
                    err, SL_INVALID_ARGUMENT,
                    "service %s: method table row \"%s\" is not a method of the proto", d->name,
                    def->methods[j].name != NULL ? def->methods[j].name : "");
        }
    }
    return SL_OK;
}

sl_status sl_server_add_service(sl_server *s, const sl_service_def *def, sl_err *err)
{
    if (s->started)
        return sl_err_set(err, SL_FAILED_PRECONDITION, "server already started");
    sl_status st = sl_server_check_table(def, err);
    if (st != SL_OK)
        return st;
    if (s->n_services == s->cap_services) {
        size_t cap = s->cap_services ? s->cap_services * 2 : 4;
        const sl_service_def **v = sl_realloc(s->services, cap * sizeof *v);
        if (v == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        s->services = v;
        s->cap_services = cap;
    }
    size_t need = s->n_methods + def->n_methods;
    if (need > s->cap_methods) {
        size_t cap = s->cap_methods ? s->cap_methods : 8;
        while (cap < need)
            cap *= 2;
        method_rt *v = sl_realloc(s->methods, cap * sizeof *v);
        if (v == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        s->methods = v;
        s->cap_methods = cap;
    }
    const ProtobufCServiceDescriptor *d = def->descriptor;
    size_t first = s->n_methods;
    for (unsigned i = 0; i < d->n_methods; i++) {
        size_t count;
        method_rt *m = &s->methods[first + i];
        memset(m, 0, sizeof *m);
        m->m = row_for(def, &d->methods[i], &count);
        m->svc = def;
        m->request = d->methods[i].input;
        m->response = d->methods[i].output;
        size_t len = strlen(d->name) + strlen(d->methods[i].name) + 3;
        m->name = sl_malloc(len);
        if (m->name == NULL) {
            for (unsigned k = 0; k < i; k++)
                free(s->methods[first + k].name);
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        }
        snprintf(m->name, len, "/%s/%s", d->name, d->methods[i].name);
        method_metrics_init(m);
    }
    s->n_methods += d->n_methods;
    s->services[s->n_services++] = def;
    return SL_OK;
}

/* Appends an integer channel argument. */
static void arg_int(grpc_arg *args, size_t *n, const char *key, int value)
{
    args[*n].type = GRPC_ARG_INTEGER;
    args[*n].key = (char *)key;
    args[*n].value.integer = value;
    (*n)++;
}

sl_status sl_server_start(sl_server *s, sl_err *err)
{
    if (s->started)
        return sl_err_set(err, SL_FAILED_PRECONDITION, "server already started");
    grpc_arg args[12];
    size_t nargs = 0;
    memset(args, 0, sizeof args);
    /* Keepalive: the server pings a connection idle for a minute and drops
     * it if no answer comes in 20 s (a peer that vanished without a FIN, a
     * NAT or load balancer that forgot the flow).  Clients ping every 30 s
     * (sl_client), so the server must accept pings that often, also on a
     * connection without calls, or it would answer GOAWAY too_many_pings;
     * 10 s leaves room for clients configured more eagerly. */
    arg_int(args, &nargs, GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
    arg_int(args, &nargs, GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
    arg_int(args, &nargs, GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    arg_int(args, &nargs, GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
    arg_int(args, &nargs, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, (int)s->opts.max_recv_bytes);
    arg_int(args, &nargs, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, (int)s->opts.max_send_bytes);
    arg_int(args, &nargs, GRPC_ARG_MAX_CONCURRENT_STREAMS, (int)s->opts.max_concurrent_streams);
    /* The transport's own limit is far above max_header_bytes, which the
     * dispatcher enforces per call: gRPC 1.51 answers a header block past
     * its limit by failing every call of the connection (a 100 KiB header
     * over a 64 KiB limit ended the other streams in integration_tls),
     * while the dispatcher fails the one call and says which limit. */
    int64_t transport_headers = 32 * s->opts.max_header_bytes;
    if (transport_headers < 256 * 1024)
        transport_headers = 256 * 1024;
    arg_int(args, &nargs, GRPC_ARG_MAX_METADATA_SIZE,
            (int)(transport_headers < INT32_MAX ? transport_headers : INT32_MAX));
    if (s->opts.max_connection_age_ms > 0) {
        arg_int(args, &nargs, GRPC_ARG_MAX_CONNECTION_AGE_MS, (int)s->opts.max_connection_age_ms);
    }
    if (s->opts.max_connection_age_grace_ms > 0) {
        arg_int(args, &nargs, GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                (int)s->opts.max_connection_age_grace_ms);
    }
    grpc_channel_args cargs = {.num_args = nargs, .args = args};
    s->server = grpc_server_create(&cargs, NULL);

    for (size_t i = 0; i < s->n_methods; i++) {
        method_rt *m = &s->methods[i];
        bool payload = m->m->kind == SL_RPC_UNARY || m->m->kind == SL_RPC_SERVER_STREAMING;
        m->handle = grpc_server_register_method(
            s->server, m->name, NULL,
            payload ? GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER : GRPC_SRM_PAYLOAD_NONE, 0);
        if (m->handle == NULL)
            return sl_err_set(err, SL_INVALID_ARGUMENT, "could not register method %s (duplicate?)",
                              m->name);
    }

    /* opts.workers for the services' methods, one more for health. */
    s->workers = sl_calloc((size_t)s->opts.workers + 1, sizeof *s->workers);
    if (s->workers == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < s->opts.workers + 1; i++) {
        worker *w = &s->workers[i];
        w->srv = s;
        w->index = i;
        w->health_only = i == s->opts.workers;
        if (w->health_only || s->shared_cq == NULL) {
            w->cq = grpc_completion_queue_create_for_next(NULL);
            grpc_server_register_completion_queue(s->server, w->cq, NULL);
            if (!w->health_only)
                s->shared_cq = w->cq;
        } else {
            w->cq = s->shared_cq;
        }
        w->arena = sl_arena_create(64 * 1024);
        if (w->arena == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        s->n_workers = i + 1;
    }
    s->shutdown_cq = grpc_completion_queue_create_for_pluck(NULL);

    grpc_server_credentials *creds = s->opts.tls != NULL
                                         ? sl__tls_server_credentials(s->opts.tls)
                                         : grpc_insecure_server_credentials_create();
    s->port = grpc_server_add_http2_port(s->server, s->opts.listen, creds);
    grpc_server_credentials_release(creds);
    if (s->port == 0)
        return sl_err_set(err, SL_UNAVAILABLE, "could not listen on \"%s\"", s->opts.listen);
    grpc_server_start(s->server);
    s->started = true;
    for (int i = 0; i < s->n_workers; i++) {
        if (pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]) != 0)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "could not start worker thread");
        s->n_threads = i + 1;
    }

    for (int i = 0; i < s->n_workers; i++) {
        worker *w = &s->workers[i];
        for (size_t k = 0; k < s->n_methods; k++) {
            if ((s->methods[k].svc == &s->health_def) != w->health_only)
                continue;
            int n = s->methods[k].m->kind == SL_RPC_UNARY ? s->opts.slots_per_method : STREAM_SLOTS;
            for (int j = 0; j < n; j++) {
                slot *sl = sl_calloc(1, sizeof *sl);
                if (sl == NULL)
                    return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
                sl->tag_kind = TAG_SLOT;
                sl->w = w;
                sl->mrt = &s->methods[k];
                if (!arm(sl)) {
                    free(sl);
                    return sl_err_set(err, SL_INTERNAL, "could not arm request slots");
                }
            }
        }
        for (int j = 0; j < UNREGISTERED_SLOTS && !w->health_only; j++) {
            slot *sl = sl_calloc(1, sizeof *sl);
            if (sl == NULL)
                return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            sl->tag_kind = TAG_SLOT;
            sl->w = w;
            if (!arm(sl)) {
                free(sl);
                return sl_err_set(err, SL_INTERNAL, "could not arm request slots");
            }
        }
    }
    sl_health_set(s->health, "", SL_HEALTH_SERVING);
    sl_health_set(s->health, SL_HEALTH_LIVENESS, SL_HEALTH_SERVING);
    for (size_t i = 0; i < s->n_services; i++)
        sl_health_set(s->health, s->services[i]->descriptor->name, SL_HEALTH_SERVING);
    SL_LOG(SL_LOG_INFO, "server", NULL,
           "listening on %s (port %d, %s, %d workers and one for health)", s->opts.listen, s->port,
           s->opts.tls == NULL ? "plaintext" : "TLS", s->opts.workers);
    return SL_OK;
}

size_t sl_server_services(const sl_server *s, const char **names, size_t cap)
{
    for (size_t i = 0; i < s->n_services && i < cap; i++)
        names[i] = s->services[i]->descriptor->name;
    return s->n_services;
}

int sl_server_port(const sl_server *s)
{
    return s->port;
}

sl_health *sl_server_health(sl_server *s)
{
    return s->health;
}

void sl_server_drain_begin(sl_server *s)
{
    sl_health_set_shutdown(s->health);
}

void sl_server_shutdown(sl_server *s, int64_t grace_ms)
{
    if (s->stopped)
        return;
    s->stopped = true;
    atomic_store(&s->shutting_down, true);
    sl_health_set_shutdown(s->health);
    if (s->server == NULL)
        return;
    if (s->started) {
        SL_LOG(SL_LOG_INFO, "server", NULL, "draining (grace %" PRId64 "ms)", grace_ms);
        int tag;
        grpc_server_shutdown_and_notify(s->server, s->shutdown_cq, &tag);
        grpc_event ev =
            grpc_completion_queue_pluck(s->shutdown_cq, &tag, ms_from_now(grace_ms), NULL);
        if (ev.type == GRPC_QUEUE_TIMEOUT) {
            SL_LOG(SL_LOG_WARN, "server", NULL, "grace period over: cancelling remaining calls");
            grpc_server_cancel_all_calls(s->server);
            grpc_completion_queue_pluck(s->shutdown_cq, &tag, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                        NULL);
        }
        pthread_mutex_lock(&s->mu);
        while (s->active_streams > 0 || s->active_health_watches > 0)
            pthread_cond_wait(&s->cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
    }
    s->service_threads = s->n_threads < s->opts.workers ? s->n_threads : s->opts.workers;
    atomic_store(&s->stop_workers, true);
    for (int i = 0; i < s->n_threads; i++)
        pthread_join(s->workers[i].thread, NULL);
    /* Queues without a thread (a failed start) are drained here: the shared
     * one once, when no service worker ran to shut it down. */
    for (int i = s->n_threads; i < s->n_workers; i++) {
        if (!s->workers[i].health_only) {
            if (s->service_threads > 0 || s->shared_drained)
                continue;
            s->shared_drained = true;
        }
        grpc_completion_queue_shutdown(s->workers[i].cq);
        grpc_event ev;
        do {
            ev = grpc_completion_queue_next(s->workers[i].cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                            NULL);
            if (ev.type == GRPC_OP_COMPLETE && *(int *)ev.tag == TAG_SLOT)
                slot_discard(ev.tag);
        } while (ev.type != GRPC_QUEUE_SHUTDOWN);
    }
    SL_LOG(SL_LOG_INFO, "server", NULL, "stopped");
}

void sl_server_destroy(sl_server *s)
{
    if (s == NULL)
        return;
    sl_server_shutdown(s, 0);
    if (s->server != NULL)
        grpc_server_destroy(s->server);
    for (int i = 0; i < s->n_workers; i++) {
        if (s->workers[i].cq != s->shared_cq)
            grpc_completion_queue_destroy(s->workers[i].cq);
        sl_arena_destroy(s->workers[i].arena);
    }
    if (s->shared_cq != NULL)
        grpc_completion_queue_destroy(s->shared_cq);
    if (s->shutdown_cq != NULL) {
        grpc_completion_queue_shutdown(s->shutdown_cq);
        grpc_completion_queue_destroy(s->shutdown_cq);
    }
    free(s->workers);
    for (size_t i = 0; i < s->n_methods; i++)
        free(s->methods[i].name);
    free(s->methods);
    free(s->services);
    sl_health_destroy(s->health);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
    grpc_shutdown();
}

void sl_server_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int sl_server_wait_signal(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    return sig;
}

int sl_server_wait_signal_for(int64_t timeout_ms)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int64_t until = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int64_t left = until - mono_ms();
        if (left <= 0)
            return 0;
        struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (long)(left % 1000) * 1000000L};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig > 0)
            return sig;
        if (errno == EAGAIN)
            return 0;
    }
}
