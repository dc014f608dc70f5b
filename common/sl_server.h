/*
 * sl_server: a gRPC server on gRPC core serving protoc-c services from
 * method tables.
 *
 * Design (see docs/ARCHITECTURE.md):
 *  - N worker threads, each with its own completion queue, keep several
 *    requests armed per registered method; unary calls are decoded, checked,
 *    handled and answered in one batch on the worker that received them.
 *  - Streaming calls (server, client and bidirectional) are handed to a
 *    thread of their own with a private completion queue, so a long-lived
 *    stream (WatchEvents, health Watch) never holds a worker.
 *  - An unregistered request slot is armed on every queue, so an unknown
 *    method answers UNIMPLEMENTED instead of hanging until its deadline.
 *  - Every call passes through one dispatcher before its handler: size and
 *    decode checks, deadline check, the interceptor (authentication), then
 *    logging and metrics after it.  Handler statuses become gRPC statuses
 *    only there.
 *  - grpc.health.v1.Health is always served (see sl_health.h).
 *  - Test builds (SL_FAULT_INJECTION, sl_arena.h): a unary call carrying
 *    metadata "x-shelfline-fail-alloc: n" runs with the n-th allocation its
 *    worker makes for it failing, and when one did, its trailers carry
 *    "x-shelfline-fail-alloc-hit: 1".  Other builds ignore the key.
 *
 * Services never include grpc/grpc.h; everything they need is here.
 */
#ifndef SL_SERVER_H
#define SL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "sl_arena.h"
#include "sl_auth.h"
#include "sl_health.h"
#include "sl_status.h"
#include "sl_tls.h"
#include "sl_trace.h"

typedef struct sl_server sl_server;
typedef struct sl_call sl_call;

typedef enum sl_rpc_kind {
    SL_RPC_UNARY,
    SL_RPC_SERVER_STREAMING,
    SL_RPC_CLIENT_STREAMING,
    SL_RPC_BIDI_STREAMING,
} sl_rpc_kind;

/* Unary handler: req is the decoded request (owned by the dispatcher,
 * read-only), resp an initialised message of the response type to fill.
 * Memory for resp's fields comes from sl_call_arena(call).  Returns OK or an
 * error status with err's message sent to the client. */
typedef sl_status (*sl_unary_handler)(sl_call *call, const ProtobufCMessage *req,
                                      ProtobufCMessage *resp, sl_err *err);

/* Streaming handler: req is the request of a server-streaming call, NULL for
 * client-streaming and bidirectional calls (read them with sl_call_recv).
 * Sends with sl_call_send; the returned status ends the call. */
typedef sl_status (*sl_stream_handler)(sl_call *call, const ProtobufCMessage *req, sl_err *err);

/* A method's own request check, run by the dispatcher after decoding (and
 * after the deadline and interceptor checks) and before the handler: the
 * service's rules for the request's fields (id grammars, ranges, sizes),
 * with nothing read from the database.  Returns OK or INVALID_ARGUMENT
 * (or another status) with err naming the field; the handler is then not
 * called. */
typedef sl_status (*sl_validate_fn)(const ProtobufCMessage *req, sl_err *err);

/* What a method promises its callers, as bits of sl_method.flags.  Whether
 * a method streams is its kind. */
typedef enum sl_method_flag {
    /* A retry with the same request (and key) returns the first result and
     * changes nothing more: a caller may retry it on UNAVAILABLE. */
    SL_METHOD_IDEMPOTENT = 1u << 0,
    /* Changes nothing (implies idempotent). */
    SL_METHOD_READ_ONLY = 1u << 1,
} sl_method_flag;

/* One row of a service's method table: the index of the service.  Rows
 * spell the handler's full name, so grep and ctags lead from the proto's
 * method to its code.  The request and response descriptors come from the
 * protoc-c service descriptor (sl_service_def.descriptor); a row may still
 * name them (the grpc.testing tables do), and then they are checked. */
typedef struct sl_method {
    /* The proto's method name ("Reserve"), or the full path
     * ("/shelfline.v1.InventoryService/Reserve"). */
    const char *name;
    sl_rpc_kind kind;
    const ProtobufCMessageDescriptor *request;  /* NULL: the descriptor's */
    const ProtobufCMessageDescriptor *response; /* NULL: the descriptor's */
    sl_unary_handler unary;                     /* for SL_RPC_UNARY */
    sl_stream_handler stream;                   /* for the three streaming kinds */
    sl_validate_fn validate;                    /* NULL: the handler checks alone */
    unsigned flags;                             /* sl_method_flag bits */
    /* What sl_call_ctx returns in this row's handler; NULL: the service's
     * ctx.  For rows a library adds to a service's table (WatchEvents). */
    void *ctx;
    /* The roles that may call it (SL_ROLE_* bits, sl_auth.h): with
     * sl_server_options.check_roles, a caller whose identity holds none of
     * them gets PERMISSION_DENIED before the handler. */
    unsigned roles;
} sl_method;

/* Rows of a service's own table: the proto's method name, the handler and
 * the validate function spelled in full (a row never builds a name), the
 * flags, the roles that may call it; the message types come from the
 * descriptor. */
#define SL_UNARY(name, handler, validate, flags, roles)                                            \
    {                                                                                              \
        (name), SL_RPC_UNARY, NULL, NULL, (handler), NULL, (validate), (flags), NULL, (roles)      \
    }
#define SL_SERVER_STREAM(name, handler, validate, flags, roles)                                    \
    {                                                                                              \
        (name), SL_RPC_SERVER_STREAMING, NULL, NULL, NULL, (handler), (validate), (flags), NULL,   \
            (roles)                                                                                \
    }
/* Client-streaming and bidirectional rows: the handler reads the requests
 * itself (sl_call_recv), so the dispatcher has none to validate. */
#define SL_CLIENT_STREAM(name, handler, flags, roles)                                              \
    {                                                                                              \
        (name), SL_RPC_CLIENT_STREAMING, NULL, NULL, NULL, (handler), NULL, (flags), NULL, (roles) \
    }
#define SL_BIDI_STREAM(name, handler, flags, roles)                                                \
    {                                                                                              \
        (name), SL_RPC_BIDI_STREAMING, NULL, NULL, NULL, (handler), NULL, (flags), NULL, (roles)   \
    }

typedef struct sl_service_def {
    /* The protoc-c service descriptor the table is checked against at
     * sl_server_add_service (see sl_server_check_table). */
    const ProtobufCServiceDescriptor *descriptor;
    const sl_method *methods;
    size_t n_methods;
    void *ctx; /* handed to handlers through sl_call_ctx */
} sl_service_def;

/* Checks a method table against its descriptor: every method of the proto
 * has exactly one row, every row is a method of the proto, a row's types
 * (when it names them) are the proto's, and each row has the handler of
 * its kind and nothing else.  INVALID_ARGUMENT naming the first method
 * that breaks a rule. */
sl_status sl_server_check_table(const sl_service_def *def, sl_err *err);

/* Runs before every handler (after decoding), e.g. for authentication:
 * it sets the caller's identity (sl_call_set_identity).  A non-OK status
 * rejects the call with err's message. */
typedef sl_status (*sl_interceptor)(sl_call *call, void *ctx, sl_err *err);

/* Which calls get an access-log line (event "rpc"). */
typedef enum sl_access_log {
    SL_ACCESS_LOG_ALL = 0, /* every call */
    SL_ACCESS_LOG_ERRORS,  /* calls that did not answer OK */
    SL_ACCESS_LOG_OFF,
} sl_access_log;

typedef struct sl_server_options {
    const char *listen;                  /* host:port; port 0 picks a free one */
    int workers;                         /* worker threads; 0: number of CPUs */
    int slots_per_method;                /* armed requests per method per worker; 0: 16 */
    int64_t max_recv_bytes;              /* 0: 4 MiB + 64 KiB */
    int64_t max_send_bytes;              /* 0: 4 MiB + 64 KiB */
    int64_t max_connection_age_ms;       /* 0: none */
    int64_t max_connection_age_grace_ms; /* 0: none */
    int64_t max_streams;                 /* concurrent streaming calls; 0: 1024 */
    /* Concurrent health Watch streams, counted apart from max_streams so
     * that watchers nobody authenticates (health is open to kubelets) can
     * never take the budget of WatchEvents consumers.  0: 256. */
    int64_t max_health_watches;
    /* HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: calls one connection may have
     * open at once; a client past it waits for one to end.  0: 256. */
    int64_t max_concurrent_streams;
    /* Largest request header block (HTTP/2 bytes: names, values and 32 per
     * field) a call may carry; a larger one fails that call alone with
     * RESOURCE_EXHAUSTED.  gRPC's transport refuses blocks over 32 times
     * this (at least 256 KiB), and then fails the connection's other calls
     * too.  0: 8192. */
    int64_t max_header_bytes;
    /* TLS on the port with these certificate files (re-read when they
     * change; see sl_tls.h); NULL: plaintext.  Must outlive the server. */
    sl_tls_server *tls;
    /* Longest a unary call may run, whatever deadline its client gave (or
     * none): its deadline becomes the earlier of the two, so handlers that
     * bound their database work by sl_call_deadline_ms are bounded even
     * for clients without deadlines.  0: no cap.  Streams are not capped:
     * WatchEvents lives as long as its client wants. */
    int64_t max_call_ms;
    sl_access_log access_log;
    sl_interceptor interceptor;
    void *interceptor_ctx;
    /* After the interceptor, the call's identity must hold one of the
     * method row's roles, else PERMISSION_DENIED naming the roles it lacks
     * (fail closed: an interceptor that set no identity leaves none).
     * Health is never checked. */
    bool check_roles;
} sl_server_options;

/* Creates a server (not yet listening).  The caller owns it
 * (sl_server_destroy).  Fails with INVALID_ARGUMENT on bad options. */
sl_status sl_server_create(const sl_server_options *opts, sl_server **out, sl_err *err);

/* Adds a service from its method table, after checking it against the
 * descriptor.  def and everything it points to must outlive the server.
 * Must be called before sl_server_start. */
sl_status sl_server_add_service(sl_server *s, const sl_service_def *def, sl_err *err);

/* Binds the listen address, starts the workers and marks every added service
 * SERVING.  Fails with UNAVAILABLE when the address cannot be bound. */
sl_status sl_server_start(sl_server *s, sl_err *err);

/* The full names of the services added so far, in the order they were
 * added (grpc.health.v1.Health first): up to cap of them into names
 * (which may be NULL when cap is 0).  Returns how many there are.  The
 * names live as long as the server. */
size_t sl_server_services(const sl_server *s, const char **names, size_t cap);

/* The bound port (useful with port 0). */
int sl_server_port(const sl_server *s);

/* The server's health registry (owned by the server). */
sl_health *sl_server_health(sl_server *s);

/* First step of a graceful stop: health answers NOT_SERVING (open Watch
 * streams are told at once) while calls are still served.  Clients that
 * check health -- sl_client's channels, gRPC clients with a
 * healthCheckConfig -- stop picking this replica; a call already on its way
 * is still answered.  Without this step a call racing the GOAWAY of
 * sl_server_shutdown could be failed by the server before any handler saw
 * it.  Idempotent; sl_server_shutdown implies it. */
void sl_server_drain_begin(sl_server *s);

/* Graceful stop: health goes NOT_SERVING, no new calls are accepted,
 * in-flight calls get up to grace_ms to finish, streams are told to end (see
 * sl_call_done) and whatever remains after the grace period is cancelled.
 * Returns when every worker and stream thread has exited.  Idempotent. */
void sl_server_shutdown(sl_server *s, int64_t grace_ms);

/* Shuts down if still running and frees everything. */
void sl_server_destroy(sl_server *s);

/* Runs a unary method in-process, without the network: the same decoding,
 * checks, interceptor, handler and encoding as a call over gRPC (no request
 * metadata, no deadline, peer "local").  Works before sl_server_start.  For
 * fuzzing the decode and validation paths and for handler benchmarks.
 * *resp_bytes is arena memory.  Returns the status the client would get. */
sl_status sl_server_call_local(sl_server *s, const char *method, const void *req_bytes,
                               size_t req_len, sl_arena *arena, void **resp_bytes, size_t *resp_len,
                               sl_err *err);

/* What sl_server_call_local_ex takes besides the request, and what it
 * gives back besides the reply: for the HTTP face (sl_connect), whose
 * calls are served like gRPC calls. */
typedef struct sl_local_call {
    /* Request metadata as key, value pairs (keys lower case): what
     * sl_call_metadata answers, e.g. "authorization" for the interceptor,
     * "x-request-id" and "traceparent" for the call's trace context. */
    const char *const *metadata;
    size_t n_metadata;
    const char *peer;   /* sl_call_peer and the access log's; NULL: "local" */
    int64_t timeout_ms; /* the client's deadline from now; 0: none */
    /* Counted in the grpc_server_* metrics and the per-method stats, with
     * an access-log line, as a network call is. */
    bool account;
    /* When set, the request bytes are not protobuf: this turns them into
     * protobuf bytes (arena memory) first, and its failure is the call's
     * (e.g. JSON naming an unknown field: INVALID_ARGUMENT).  What it
     * makes then passes the same checks as gRPC bytes. */
    sl_status (*transcode)(void *ctx, const ProtobufCMessageDescriptor *request, const void *in,
                           size_t in_len, sl_arena *a, void **out, size_t *out_len, sl_err *err);
    void *transcode_ctx;
    /* Out: on OK the handler's reply (arena memory); when the call fails,
     * the google.rpc.Status a gRPC client would get in
     * grpc-status-details-bin (arena memory; NULL when none). */
    const ProtobufCMessage *response;
    const uint8_t *status_details;
    size_t status_details_len;
    /* For sl_server_stream_local: where each message the handler sends
     * goes (sl_call_send's work: it returns what sl_call_send returns,
     * CANCELLED once the client went away), and whether the client went
     * away (sl_call_done's question, asked every DONE_POLL_MS while the
     * stream waits).  Both run on the thread that called
     * sl_server_stream_local. */
    sl_status (*send)(void *ctx, const ProtobufCMessage *msg, sl_err *err);
    bool (*gone)(void *ctx);
    void *stream_ctx;
} sl_local_call;

/* sl_server_call_local with request metadata, a peer name, a deadline,
 * accounting and transcoding (lc may be NULL: sl_server_call_local). */
sl_status sl_server_call_local_ex(sl_server *s, const char *method, const void *req_bytes,
                                  size_t req_len, sl_local_call *lc, sl_arena *arena,
                                  void **resp_bytes, size_t *resp_len, sl_err *err);

/* Runs a server-streaming method in-process, on the calling thread until
 * its handler returns: for the HTTP face's streams (sl_connect).  The same
 * pipeline as a gRPC stream: a place among the server's streams
 * (max_streams, shared with gRPC streams: RESOURCE_EXHAUSTED when none is
 * left), decoding (after lc->transcode), the interceptor, roles,
 * validation, the handler, metrics and the access log.  Each message the
 * handler sends goes to lc->send; lc->gone ends the stream (CANCELLED)
 * as a client's cancel does, and so do the deadline and the server's
 * shutdown.  lc->send is required.  Returns the status the stream ends
 * with; when it is an error, lc->status_details as for
 * sl_server_call_local_ex.  FAILED_PRECONDITION for a method that is not
 * server-streaming. */
sl_status sl_server_stream_local(sl_server *s, const char *method, const void *req_bytes,
                                 size_t req_len, sl_local_call *lc, sl_arena *arena, sl_err *err);

/* A method's kind and message types by its full path
 * ("/shelfline.v1.InventoryService/GetAvailability"); false for a path the
 * server does not serve. */
bool sl_server_method_info(const sl_server *s, const char *method, sl_rpc_kind *kind,
                           const ProtobufCMessageDescriptor **request,
                           const ProtobufCMessageDescriptor **response);

/* Blocks SIGTERM and SIGINT in the calling thread (call before creating any
 * thread, so all threads inherit the mask) and then waits for one of them;
 * returns the signal number.  The usual service main is:
 *   sl_server_block_signals(); start...; sl_server_wait_signal(); shutdown. */
void sl_server_block_signals(void);
int sl_server_wait_signal(void);

/* Like sl_server_wait_signal, for at most timeout_ms: returns 0 when no
 * signal came in time (a second SIGTERM during a drain cuts it short). */
int sl_server_wait_signal_for(int64_t timeout_ms);

/* ---- inside a handler ---- */

void *sl_call_ctx(const sl_call *call);
sl_arena *sl_call_arena(sl_call *call);
const char *sl_call_method(const sl_call *call);
/* "ipv4:127.0.0.1:12345" style peer address (arena memory). */
const char *sl_call_peer(sl_call *call);
/* The verified identity of the client's certificate under mTLS: its first
 * SAN URI, else its first SAN DNS name (arena memory); NULL on a plaintext
 * or TLS-only connection, or for a certificate with neither.  What roles
 * are mapped from. */
const char *sl_call_peer_identity(sl_call *call);
/* The value of request metadata key (lower case), or NULL.  *len (if not
 * NULL) receives its length (binary "-bin" values may hold zero bytes).
 * The returned memory lives as long as the call. */
const char *sl_call_metadata(const sl_call *call, const char *key, size_t *len);
/* The call's trace context: its own span in the caller's trace (W3C
 * traceparent, or a new trace) and its request id.  While the handler runs
 * it is also the thread's sl_trace_current(). */
const sl_trace *sl_call_trace(const sl_call *call);
/* x-request-id from the client, or one generated for this call. */
const char *sl_call_request_id(const sl_call *call);
/* Who is calling, as the interceptor set it: subject "" and no roles
 * until then. */
const sl_identity *sl_call_identity(const sl_call *call);
/* For the interceptor: the caller's identity (copied). */
void sl_call_set_identity(sl_call *call, const sl_identity *id);
/* What a change made by this call records: the caller's subject
 * ("anonymous" when no identity was set), the call's request id and trace
 * id.  Valid as long as the call. */
sl_audit sl_call_audit(const sl_call *call);
/* sl_call_audit of the call this thread is handling now, or for work
 * outside any call (consumers, background threads) the audit of
 * sl_audit_background("system").  For store modules deep below the
 * handler, the way sl_trace_current serves peer calls: valid while the
 * handler runs. */
sl_audit sl_call_audit_current(void);
/* Absolute deadline in milliseconds of CLOCK_REALTIME (INT64_MAX: none):
 * the client's, or for a unary call the server's cap (max_call_ms) when
 * that is earlier. */
int64_t sl_call_deadline_ms(const sl_call *call);
/* Milliseconds left before the deadline (INT64_MAX: none; <= 0: passed). */
int64_t sl_call_remaining_ms(const sl_call *call);

/* Adds metadata sent with the response headers (before the first message)
 * or with the trailers.  key and value are copied. */
sl_status sl_call_add_initial_metadata(sl_call *call, const char *key, const void *value,
                                       size_t len, sl_err *err);
sl_status sl_call_add_trailing_metadata(sl_call *call, const char *key, const void *value,
                                        size_t len, sl_err *err);

/* Rich error details.  When a call ends with an error the dispatcher sends
 * a google.rpc.Status {code and message: the call's, details} in the
 * grpc-status-details-bin trailer, which gRPC libraries expose to clients
 * as the error's details.  The standard details come from the handler's
 * sl_err (sl_status.h: a BadRequest for INVALID_ARGUMENT, a RetryInfo for
 * UNAVAILABLE and RESOURCE_EXHAUSTED, an ErrorInfo for an error with a
 * reason; mapping in sl_rpc_status.h).  A handler adds its own typed
 * details here: detail's message already packed (len bytes, copied), sent
 * as Any{type.googleapis.com/<detail's full name>} before the standard ones
 * and only if the call fails.  RESOURCE_EXHAUSTED when out of memory; the
 * call's status is unaffected. */
sl_status sl_call_add_error_detail(sl_call *call, const ProtobufCMessageDescriptor *detail,
                                   const void *packed, size_t len, sl_err *err);

/* Passes a peer's rich error details (its grpc-status-details-bin, as
 * sl_call_options.status_details returned them) on to this call's client,
 * for a handler that returns the peer's status as its own: each of the
 * peer's details is added as by sl_call_add_error_detail (the Status
 * itself gets this call's code and message).  INVALID_ARGUMENT when status
 * does not decode. */
sl_status sl_call_forward_error_details(sl_call *call, const void *status, size_t len, sl_err *err);

/* Per-method counters kept by the dispatcher (for metrics and tests).
 * Returns false for an unknown method name. */
typedef struct sl_method_stats {
    uint64_t calls;
    uint64_t errors;   /* calls that ended with a status other than OK */
    uint64_t total_us; /* summed handler latency */
} sl_method_stats;
bool sl_server_method_stats(sl_server *s, const char *method, sl_method_stats *out);

/* Streaming calls: sends one message; blocks until gRPC has taken it.
 * Fails with CANCELLED when the client went away, UNAVAILABLE when the
 * server is shutting down. */
sl_status sl_call_send(sl_call *call, const ProtobufCMessage *msg, sl_err *err);

/* Client/bidi streaming: receives the next message into *msg, allocated
 * from arena (the call's arena when NULL; a long stream should pass its own
 * and reset it between messages).  *msg is NULL once the client has
 * half-closed.  Fails with CANCELLED when the call ended, INVALID_ARGUMENT
 * when a message does not decode. */
sl_status sl_call_recv(sl_call *call, sl_arena *arena, ProtobufCMessage **msg, sl_err *err);

/* True once the client cancelled, the deadline passed or the server is
 * shutting down: a long-running stream should then return. */
bool sl_call_done(sl_call *call);

/* Why the call is done, as the status a stream should end with:
 * UNAVAILABLE (server draining: the client should reconnect, perhaps to
 * another replica), DEADLINE_EXCEEDED, CANCELLED (client went away), or OK
 * when it is not done.  err gets the matching message. */
sl_status sl_call_done_status(sl_call *call, sl_err *err);

/* Waits until fd is readable, the call is done or timeout_ms passes
 * (negative: no timeout).  Returns 1 (readable), 0 (timeout) or -1 (done).
 * Lets a stream sleep on a socket (e.g. PostgreSQL LISTEN) and still notice
 * cancellation and shutdown promptly. */
int sl_call_wait_fd(sl_call *call, int fd, int64_t timeout_ms);

#endif
