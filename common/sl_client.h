/*
 * sl_client: calling other services over gRPC core.
 *
 * A channel is created once per peer and shared by all threads.  Unary calls
 * carry a deadline and the caller's request id; calls marked idempotent are
 * retried on UNAVAILABLE with jittered exponential backoff while the deadline
 * allows.  Server streams are read one message at a time.
 *
 * Health: channels check their servers' health "" (gRPC client-side health
 * checking, a Watch stream per connection), and round robin picks only
 * replicas reporting SERVING -- one whose database is unreachable is
 * routed around while still connected.  The choice when every replica of a
 * target is NOT_SERVING (a single-address target included): no connection
 * is ready, so an idempotent (wait-for-ready) call waits until one is
 * SERVING again or its deadline passes, and a fail-fast call fails
 * UNAVAILABLE at once.  That is deliberate: a replica that says it cannot
 * reach its database would answer UNAVAILABLE anyway, and waiting lets the
 * call succeed when the replica recovers within the caller's deadline.
 * Servers without the health service count as SERVING.
 */
#ifndef SL_CLIENT_H
#define SL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "sl_arena.h"
#include "sl_auth.h"
#include "sl_server.h"
#include "sl_status.h"

typedef struct sl_channel sl_channel;
typedef struct sl_client_stream sl_client_stream;

typedef struct sl_channel_options {
    int64_t max_recv_bytes; /* 0: 4 MiB + 64 KiB */
    int64_t max_send_bytes; /* 0: 4 MiB + 64 KiB */
    /* Sent as authorization on every call that does not set its own
     * (e.g. "Bearer <token>" for peers that require one); copied. */
    const char *authorization;
    /* When set, the authorization of calls that do not set their own, read
     * from this token file (re-read when it changes; see sl_auth.h), in
     * place of authorization.  Not owned: it must outlive the channel. */
    sl_token_file *token_file;
    /* Leave out client-side health checking: calls go to a replica whatever
     * its readiness.  For clients that ask about health themselves (probes,
     * monitoring): with it, a replica reporting NOT_SERVING cannot even be
     * asked, since no call is routed to it. */
    bool no_health_check;
    /* TLS (gRPC core's SSL credentials): verify the server against the PEM
     * CA bundle in tls_ca_file and, when tls_cert_file is set, present that
     * certificate with the key in tls_key_file (mTLS).  The files are
     * checked here, and re-read by gRPC core every few seconds: a rotated
     * certificate is used from the next handshake on.  tls_ca_file NULL:
     * plaintext. */
    const char *tls_ca_file;
    const char *tls_cert_file;
    const char *tls_key_file;
    /* The name the server's certificate must carry when it is not the
     * target's host (e.g. a target listing several addresses); NULL: the
     * target's. */
    const char *tls_server_name;
} sl_channel_options;

/* Opens a channel to target, a gRPC target URI: "host:port",
 * "ipv4:127.0.0.1:50051,127.0.0.1:50151", "dns:///inventory-headless:50051"
 * (every address takes calls, round robin); opts may be NULL.  Reconnects
 * within 100 ms to 2 s of losing a peer, and keeps idle connections alive.
 * Connection is lazy, so this only fails on bad arguments (an unreadable
 * TLS file: INVALID_ARGUMENT naming it) or out of memory.
 * The caller owns the channel (sl_channel_destroy), which must outlive its
 * calls. */
sl_status sl_channel_create(const char *target, const sl_channel_options *opts, sl_channel **out,
                            sl_err *err);
void sl_channel_destroy(sl_channel *ch);

/* The options of a command-line client (the demo loaders, `shelfline`)
 * from the variables the services read for their own peer calls:
 *   SHELFLINE_TOKEN_FILE            bearer token file (re-read on change)
 *   SHELFLINE_TLS_CA_FILE           TLS on: verify the server with this CA
 *   SHELFLINE_TLS_CLIENT_CERT_FILE  with SHELFLINE_TLS_CLIENT_KEY_FILE:
 *                                   present this certificate (mTLS)
 *   SHELFLINE_TLS_SERVER_NAME       the name the server's certificate
 *                                   carries, when not the target's host
 * Unset or empty: no token, plaintext.  INVALID_ARGUMENT naming the
 * variable for an unreadable file or a certificate without its key or CA.
 * The strings point into the environment; the caller destroys
 * o->token_file (sl_token_file_destroy) after the channel. */
sl_status sl_channel_options_from_env(sl_channel_options *o, sl_err *err);
const char *sl_channel_target(const sl_channel *ch);

typedef struct sl_call_options {
    int64_t timeout_ms; /* 0: 10 s */
    /* Sent as x-request-id; NULL: the thread's current context's
     * (sl_trace_current), if any. */
    const char *request_id;
    /* W3C trace context, sent as traceparent and tracestate; NULL: from the
     * thread's current context (a child of its span), if any. */
    const char *traceparent;
    const char *tracestate;
    const char *authorization; /* sent as authorization; NULL: none */
    /* Retry on UNAVAILABLE with jittered backoff until the deadline, and
     * wait for the channel to connect (wait-for-ready) within it. */
    bool idempotent;
    int max_attempts;    /* idempotent calls: 0 means until the deadline */
    bool wait_for_ready; /* wait for the channel to connect */
    /* Idempotent calls only: fail at once while the channel is down (no
     * wait-for-ready), e.g. for an optional dependency with a short budget. */
    bool fail_fast;
    /* Out, when set: a failed unary call's grpc-status-details-bin (a
     * serialized google.rpc.Status with structured details, e.g.
     * inventory's ReserveShortfall), copied into the call's arena; NULL and
     * 0 when the server sent none.  See sl_client_status_detail. */
    const uint8_t **status_details;
    size_t *status_details_len;
    /* Tests: when > 0, sent as x-shelfline-fail-alloc, so a server built
     * with the failure switch (sl_server.h) fails the n-th allocation it
     * makes for the call; other servers ignore it.  Never forwarded to
     * peers by sl_client_call_from. */
    unsigned long fail_alloc_at;
    /* Out, when set: true when the server reported failing that allocation
     * (its x-shelfline-fail-alloc-hit trailer). */
    bool *fail_alloc_hit;
} sl_call_options;

/* Calls a unary method ("/pkg.Service/Method").  On OK, *resp is the decoded
 * response allocated from arena (the caller resets the arena).  Any other
 * status is the server's (or DEADLINE_EXCEEDED / UNAVAILABLE from the
 * transport), with its message in err.  opts may be NULL. */
sl_status sl_client_unary(sl_channel *ch, const char *method, const ProtobufCMessage *req,
                          const ProtobufCMessageDescriptor *resp_desc, sl_arena *arena,
                          ProtobufCMessage **resp, const sl_call_options *opts, sl_err *err);

/* Milliseconds of the caller's deadline a peer call leaves the caller, to
 * answer its own client after the peer's answer or failure. */
#define SL_CLIENT_REPLY_MARGIN_MS 20

/* A unary call to a peer made while serving call (NULL for work outside a
 * call: consumers, background threads), under the suite's one peer-call
 * policy:
 *  - the callee's deadline is the method's own budget (policy->timeout_ms,
 *    0: 10 s) cut to the caller's remaining time less
 *    SL_CLIENT_REPLY_MARGIN_MS; when nothing is left the peer is not
 *    called and the status is DEADLINE_EXCEEDED;
 *  - the caller's request id (x-request-id) and trace context travel with
 *    the call: traceparent names the caller's call's own span as the
 *    parent (sl_trace), tracestate is passed on;
 *  - the method's retry policy is policy's (idempotent, max_attempts,
 *    fail_fast): the caller's service states it once per peer method.
 * policy's request_id, traceparent and tracestate are replaced by the
 * caller's when call is not NULL; status_details works as for
 * sl_client_unary.  *resp is arena memory.  Returns the peer's status (or
 * the transport's) with its message in err. */
sl_status sl_client_call_from(sl_call *call, sl_channel *ch, const char *method,
                              const ProtobufCMessage *req,
                              const ProtobufCMessageDescriptor *resp_desc, sl_arena *arena,
                              ProtobufCMessage **resp, const sl_call_options *policy, sl_err *err);

/* Same with raw bytes in and out, for tests and proxies.  *resp_bytes is
 * arena memory. */
sl_status sl_client_unary_raw(sl_channel *ch, const char *method, const void *req_bytes,
                              size_t req_len, sl_arena *arena, void **resp_bytes, size_t *resp_len,
                              const sl_call_options *opts, sl_err *err);

/* Finds, in a serialized google.rpc.Status (status, len), the first detail
 * whose Any type URL is type_url ("type.googleapis.com/shelfline.v1.
 * ReserveShortfall") and points *value at its packed message (arena
 * memory).  False when there is none or the bytes are malformed.  (A
 * shelfline.v1 ErrorInfo's reason and metadata need no call: a failed call
 * copies them into its sl_err.) */
bool sl_client_status_detail(const void *status, size_t len, const char *type_url, sl_arena *arena,
                             const uint8_t **value, size_t *value_len);

/* Starts a server-streaming call.  The caller owns the stream
 * (sl_client_stream_close).  opts->timeout_ms bounds the whole stream
 * (0 here: no deadline). */
sl_status sl_client_stream_open(sl_channel *ch, const char *method, const ProtobufCMessage *req,
                                const ProtobufCMessageDescriptor *resp_desc,
                                const sl_call_options *opts, sl_client_stream **out, sl_err *err);

/* Waits up to timeout_ms (negative: forever) for the next message.
 * Returns OK with *msg set (arena memory); OK with *msg NULL and *timed_out
 * true when timeout_ms passed first (the stream stays usable; timed_out may
 * be NULL when timeout_ms is negative); OK with *msg NULL at the end of a
 * stream whose status was OK; or the server's error status when it ended
 * with one. */
sl_status sl_client_stream_next(sl_client_stream *st, sl_arena *arena, ProtobufCMessage **msg,
                                int64_t timeout_ms, bool *timed_out, sl_err *err);

/* The value of the server's response header (initial metadata) key, copied
 * into buf (cap bytes, truncated) -- available once sl_client_stream_next
 * has returned a message or the end; NULL before that or when absent. */
const char *sl_client_stream_header(const sl_client_stream *st, const char *key, char *buf,
                                    size_t cap);

/* Cancels the call (the server sees CANCELLED) and frees the stream. */
void sl_client_stream_close(sl_client_stream *st);

#endif
