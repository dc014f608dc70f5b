/*
 * sl_trace: W3C Trace Context (traceparent / tracestate) and the request id
 * of the work a thread is doing.
 *
 * Every call the server accepts starts a span: the trace id and the
 * caller's span id come from an incoming valid traceparent (a new trace
 * otherwise), the span id is new.  While its handler runs, the call's
 * context is the thread's current one (sl_trace_current), so that
 *   - every outbound call (sl_client) sends x-request-id and a traceparent
 *     whose parent is this span, without any call site passing them;
 *   - every event published (sl_events) carries the traceparent, and a
 *     consumer applying it runs in a child span of the same trace;
 *   - every log line names trace_id and span_id.
 *
 * https://www.w3.org/TR/trace-context/ -- traceparent is
 * "version-traceid-parentid-flags": 2, 32, 16 and 2 lower-case hex digits;
 * all-zero ids and version ff are invalid; a later version may append
 * "-..." fields, which this version-00 reader ignores.  An invalid
 * traceparent starts a new trace and drops tracestate with it.
 */
#ifndef SL_TRACE_H
#define SL_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_TRACE_STATE_MAX 512 /* the spec's 32 members of up to 256 chars are cut here */
#define SL_TRACE_REQUEST_ID_MAX 64
#define SL_TRACEPARENT_LEN 55

typedef struct sl_trace {
    char trace_id[33];                        /* 32 lower-case hex digits */
    char span_id[17];                         /* this unit of work */
    char parent_id[17];                       /* the caller's span; "" at a trace's root */
    uint8_t flags;                            /* trace-flags; 01 = sampled */
    char state[SL_TRACE_STATE_MAX];           /* tracestate as received; "" none */
    char request_id[SL_TRACE_REQUEST_ID_MAX]; /* x-request-id; "" none */
} sl_trace;

/* Parses a traceparent of len bytes.  False when it is not valid. */
bool sl_trace_parse(const char *traceparent, size_t len, char trace_id[33], char parent_id[17],
                    uint8_t *flags);

/* Starts a span in *t: a child of traceparent (len bytes) when it is valid
 * (then tracestate, slen bytes, is kept), else the root of a new trace.
 * Either header may be NULL. */
void sl_trace_begin(sl_trace *t, const char *traceparent, size_t len, const char *tracestate,
                    size_t slen);

/* Sets *t's request id from id (len bytes, cut to fit), or a new random one
 * when id is NULL or empty. */
void sl_trace_set_request_id(sl_trace *t, const char *id, size_t len);

/* The traceparent that makes *t's span the parent of the next hop, into
 * out (at least SL_TRACEPARENT_LEN + 1 bytes). */
void sl_trace_traceparent(const sl_trace *t, char *out, size_t cap);

/* The thread's current context (NULL: none), and setting it: returns the
 * previous one, to be restored when the work ends.  t must stay valid while
 * it is current. */
const sl_trace *sl_trace_current(void);
const sl_trace *sl_trace_swap(const sl_trace *t);

#endif
