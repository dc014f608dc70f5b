/*
 * loadgen: a closed-loop unary gRPC load generator on gRPC core, used by
 * tests/bench/run.sh to drive both Shelfline's server and the C++ reference
 * with exactly the same client.
 *
 * C connections (one channel each, forced onto separate TCP connections),
 * O calls kept outstanding on each, spread over T threads that each poll
 * their own completion queue; a finished call immediately starts the next
 * one on the same slot.  After a warm-up, only calls that finish inside the
 * measurement window with grpc-status OK and a response message are counted;
 * every other finished call (warm-up included) is an error, reported apart,
 * because a benchmark that quietly counts failures measures nothing.
 *
 * The run is bounded twice: by time (warm-up + duration, then the
 * outstanding calls drain, each bounded by its deadline) and by a maximum
 * number of calls started.
 *
 * Output: one line on stdout,
 *   calls_per_s=N p50_us=N p90_us=N p99_us=N p999_us=N max_us=N ok=N
 *   errors=N window_s=N client_cpu=N machine_cpu=N [server_cpu=N]
 * (cpu figures in cores used during the window: this process, the whole
 * machine, the process given by --server-pid); diagnostics on stderr.
 * Exit status 0 when the run completed, even with errors (the caller
 * decides), 1 when it could not run at all, 2 on bad arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#define UNARY_METHOD "/grpc.testing.TestService/UnaryCall"
#define EMPTY_METHOD "/grpc.testing.TestService/EmptyCall"
#define MAX_PAYLOAD (4 * 1024 * 1024)

/* ---- latency histogram ----
 * Log-linear buckets over microseconds: exact below 256 us, then 128
 * buckets per power of two, i.e. within 0.8% everywhere up to 2^32 us.
 * Fixed size, so per-thread histograms merge by addition and recording
 * costs no allocation. */
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((32 - HIST_SUB_BITS) * HIST_SUB + HIST_SUB)

typedef struct hist {
    uint64_t count[HIST_BUCKETS];
    uint64_t total;
} hist;

static unsigned hist_index(uint32_t v)
{
    int msb = v ? 31 - __builtin_clz(v) : 0;
    int shift = msb > (int)HIST_SUB_BITS ? msb - (int)HIST_SUB_BITS : 0;
    return (unsigned)shift * HIST_SUB + (v >> shift);
}

/* Highest value that falls into bucket i: percentiles err on the high side. */
static uint32_t hist_bucket_max(unsigned i)
{
    unsigned shift = i < 2 * HIST_SUB ? 0 : i / HIST_SUB - 1;
    uint64_t sub = i - shift * HIST_SUB;
    uint64_t top = ((sub + 1) << shift) - 1;
    return top > UINT32_MAX ? UINT32_MAX : (uint32_t)top;
}

static void hist_add(hist *h, uint64_t us)
{
    h->count[hist_index(us > UINT32_MAX ? UINT32_MAX : (uint32_t)us)]++;
    h->total++;
}

static void hist_merge(hist *into, const hist *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->count[i] += from->count[i];
    into->total += from->total;
}

/* Value at quantile q (0 < q <= 1); 0 for an empty histogram. */
static uint32_t hist_quantile(const hist *h, double q)
{
    if (h->total == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->total + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->count[i];
        if (seen >= rank)
            return hist_bucket_max(i);
    }
    return UINT32_MAX;
}

/* ---- options ---- */

typedef struct options {
    const char *target; /* host:port */
    const char *method;
    int connections;
    int outstanding; /* per connection */
    int threads;
    double warmup_s;
    double duration_s;
    long long max_calls;
    int timeout_ms;      /* deadline of each call */
    int wait_ms;         /* how long the first call may wait for the server */
    long server_pid;     /* 0: no server CPU figure */
    unsigned char *body; /* serialized request */
    size_t body_len;
} options;

static void usage(void)
{
    fputs("usage: loadgen --target=HOST:PORT [options]\n"
          "  --connections=N    separate connections (4)\n"
          "  --outstanding=N    calls in flight per connection (32)\n"
          "  --threads=N        client threads, each with its own queue (1)\n"
          "  --warmup=SEC       not measured (2)\n"
          "  --duration=SEC     measured window (10)\n"
          "  --max-calls=N      stop starting calls after N in all (100000000)\n"
          "  --timeout-ms=N     deadline of each call (5000)\n"
          "  --wait-ms=N        how long to wait for the server to answer (10000)\n"
          "  --server-pid=PID   also report that process's CPU use\n"
          "  --method=PATH      (" UNARY_METHOD ")\n"
          "  --empty            EmptyCall with an empty request\n"
          "  --payload=HEX      request message bytes, as hex\n"
          "  --request-size=N   built-in SimpleRequest: payload of N bytes (0)\n"
          "  --response-size=N  built-in SimpleRequest: response_size (0)\n",
          stdout);
}

/* "--name=value" -> value, or NULL when arg is not that option. */
static const char *opt_value(const char *arg, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0 || arg[n] != '=')
        return NULL;
    return arg + n + 1;
}

static bool parse_ll(const char *name, const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
        fprintf(stderr, "loadgen: invalid %s \"%s\" (expected %lld..%lld)\n", name, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_int(const char *name, const char *s, int lo, int hi, int *out)
{
    long long v;
    if (!parse_ll(name, s, lo, hi, &v))
        return false;
    *out = (int)v;
    return true;
}

static bool parse_seconds(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno != 0 || !(v >= lo && v <= hi)) {
        fprintf(stderr, "loadgen: invalid %s \"%s\" (expected %g..%g seconds)\n", name, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool parse_hex(const char *s, unsigned char **out, size_t *len)
{
    size_t n = strlen(s);
    if (n % 2 != 0 || n / 2 > MAX_PAYLOAD) {
        fprintf(stderr, "loadgen: invalid --payload \"%.40s\" (even number of hex digits)\n", s);
        return false;
    }
    unsigned char *b = malloc(n / 2 + 1);
    if (!b) {
        fprintf(stderr, "loadgen: out of memory\n");
        return false;
    }
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "loadgen: invalid --payload: \"%c%c\" is not hex\n", s[2 * i],
                    s[2 * i + 1]);
            free(b);
            return false;
        }
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    *out = b;
    *len = n / 2;
    return true;
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* grpc.testing.SimpleRequest{response_size, payload{body: request_size
 * zero bytes}}, encoded by hand so the load generator needs no protobuf
 * library.  Fields left at their default are omitted, as protobuf does. */
static bool build_simple_request(int request_size, int response_size, unsigned char **out,
                                 size_t *len)
{
    unsigned char *b = calloc(1, (size_t)request_size + 32);
    if (!b) {
        fprintf(stderr, "loadgen: out of memory\n");
        return false;
    }
    size_t n = 0;
    if (response_size > 0) {
        b[n++] = 2 << 3 | 0; /* response_size, varint */
        n += put_varint(b + n, (uint64_t)response_size);
    }
    if (request_size > 0) {
        unsigned char body_hdr[16];
        size_t h = 0;
        body_hdr[h++] = 2 << 3 | 2; /* Payload.body, bytes */
        h += put_varint(body_hdr + h, (uint64_t)request_size);
        b[n++] = 3 << 3 | 2; /* payload, message */
        n += put_varint(b + n, h + (uint64_t)request_size);
        memcpy(b + n, body_hdr, h);
        n += h + (size_t)request_size; /* the body's bytes are calloc's zeros */
    }
    *out = b;
    *len = n;
    return true;
}

static bool parse_options(int argc, char **argv, options *o)
{
    *o = (options){.method = UNARY_METHOD,
                   .connections = 4,
                   .outstanding = 32,
                   .threads = 1,
                   .warmup_s = 2,
                   .duration_s = 10,
                   .max_calls = 100000000,
                   .timeout_ms = 5000,
                   .wait_ms = 10000};
    const char *payload = NULL, *method = NULL;
    bool empty = false;
    int request_size = -1, response_size = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool ok = true;
        if ((v = opt_value(a, "--target")))
            o->target = v;
        else if ((v = opt_value(a, "--connections")))
            ok = parse_int("--connections", v, 1, 1000, &o->connections);
        else if ((v = opt_value(a, "--outstanding")))
            ok = parse_int("--outstanding", v, 1, 10000, &o->outstanding);
        else if ((v = opt_value(a, "--threads")))
            ok = parse_int("--threads", v, 1, 256, &o->threads);
        else if ((v = opt_value(a, "--warmup")))
            ok = parse_seconds("--warmup", v, 0, 3600, &o->warmup_s);
        else if ((v = opt_value(a, "--duration")))
            ok = parse_seconds("--duration", v, 0.1, 3600, &o->duration_s);
        else if ((v = opt_value(a, "--max-calls")))
            ok = parse_ll("--max-calls", v, 1, LLONG_MAX / 2, &o->max_calls);
        else if ((v = opt_value(a, "--timeout-ms")))
            ok = parse_int("--timeout-ms", v, 1, 3600000, &o->timeout_ms);
        else if ((v = opt_value(a, "--wait-ms")))
            ok = parse_int("--wait-ms", v, 1, 3600000, &o->wait_ms);
        else if ((v = opt_value(a, "--server-pid"))) {
            long long pid;
            ok = parse_ll("--server-pid", v, 1, INT_MAX, &pid);
            o->server_pid = (long)pid;
        } else if ((v = opt_value(a, "--method")))
            method = v;
        else if (strcmp(a, "--empty") == 0)
            empty = true;
        else if ((v = opt_value(a, "--payload")))
            payload = v;
        else if ((v = opt_value(a, "--request-size")))
            ok = parse_int("--request-size", v, 0, MAX_PAYLOAD, &request_size);
        else if ((v = opt_value(a, "--response-size")))
            ok = parse_int("--response-size", v, 0, MAX_PAYLOAD, &response_size);
        else if (strcmp(a, "--help") == 0) {
            usage();
            exit(0);
        } else {
            fprintf(stderr, "loadgen: unknown argument \"%s\"\n", a);
            ok = false;
        }
        if (!ok)
            return false;
    }
    if (!o->target) {
        fprintf(stderr, "loadgen: --target is required\n");
        return false;
    }
    if (o->threads > o->connections) {
        fprintf(stderr, "loadgen: invalid --threads \"%d\" (at most --connections, %d)\n",
                o->threads, o->connections);
        return false;
    }
    bool built_in = request_size >= 0 || response_size >= 0;
    if ((payload != NULL) + empty + built_in > 1) {
        fprintf(stderr, "loadgen: --payload, --empty and --request-size/--response-size "
                        "exclude each other\n");
        return false;
    }
    if (empty)
        o->method = EMPTY_METHOD;
    if (method)
        o->method = method;
    if (payload)
        return parse_hex(payload, &o->body, &o->body_len);
    if (empty) {
        o->body = calloc(1, 1);
        o->body_len = 0;
        return o->body != NULL;
    }
    return build_simple_request(request_size > 0 ? request_size : 0,
                                response_size > 0 ? response_size : 0, &o->body, &o->body_len);
}

/* ---- load ---- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One connection: a channel of its own and the method registered on it, so
 * creating a call interns nothing. */
typedef struct conn {
    grpc_channel *channel;
    void *method;
} conn;

struct worker;

/* One outstanding-call slot; it runs its calls one after the other. */
typedef struct slot {
    struct worker *w;
    conn *c;
    grpc_call *call;
    int64_t start_ns;
    grpc_byte_buffer *request; /* reused for every call of the slot */
    grpc_byte_buffer *response;
    grpc_metadata_array initial_md;
    grpc_metadata_array trailing_md;
    grpc_status_code status;
    grpc_slice details;
} slot;

#define N_CODES 17 /* gRPC status codes 0..16 */

/* Shared, read-only once the workers run, except the atomics. */
typedef struct run {
    const options *o;
    int64_t warm_ns; /* measurement window [warm_ns, end_ns) */
    int64_t end_ns;
    atomic_llong started;
    atomic_int workers_done;
} run;

typedef struct worker {
    run *r;
    grpc_completion_queue *cq;
    pthread_t thread;
    slot *slots;
    int n_slots;
    hist h;
    uint64_t ok;
    uint64_t errors[N_CODES + 1]; /* by status code; the last: batch failed */
    char first_error[160];
    int64_t last_ns; /* when the worker's last call finished */
    bool hit_max;    /* stopped by --max-calls rather than by time */
} worker;

static const char *code_name(int code)
{
    static const char *names[N_CODES + 1] = {"OK",
                                             "CANCELLED",
                                             "UNKNOWN",
                                             "INVALID_ARGUMENT",
                                             "DEADLINE_EXCEEDED",
                                             "NOT_FOUND",
                                             "ALREADY_EXISTS",
                                             "PERMISSION_DENIED",
                                             "RESOURCE_EXHAUSTED",
                                             "FAILED_PRECONDITION",
                                             "ABORTED",
                                             "OUT_OF_RANGE",
                                             "UNIMPLEMENTED",
                                             "INTERNAL",
                                             "UNAVAILABLE",
                                             "DATA_LOSS",
                                             "UNAUTHENTICATED",
                                             "batch failed"};
    return code >= 0 && code <= N_CODES ? names[code] : "?";
}

/* The one batch of a unary call: send the request and half-close, receive
 * the response and the status, so each call costs one completion. */
static void unary_ops(grpc_op ops[6], uint32_t md_flags, grpc_byte_buffer *request,
                      grpc_byte_buffer **response, grpc_metadata_array *initial_md,
                      grpc_metadata_array *trailing_md, grpc_status_code *status,
                      grpc_slice *details)
{
    memset(ops, 0, 6 * sizeof *ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].flags = md_flags;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = response;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = trailing_md;
    ops[5].data.recv_status_on_client.status = status;
    ops[5].data.recv_status_on_client.status_details = details;
}

/* Starts the slot's next call unless the run is over.  Returns whether a
 * call was started; failing to start a batch is a bug, so it aborts. */
static bool slot_start(slot *s)
{
    worker *w = s->w;
    run *r = w->r;
    int64_t now = now_ns();
    if (now >= r->end_ns)
        return false;
    if (atomic_fetch_add_explicit(&r->started, 1, memory_order_relaxed) >= r->o->max_calls) {
        w->hit_max = true;
        return false;
    }
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                         gpr_time_from_millis(r->o->timeout_ms, GPR_TIMESPAN));
    s->start_ns = now;
    s->call = grpc_channel_create_registered_call(s->c->channel, NULL, GRPC_PROPAGATE_DEFAULTS,
                                                  w->cq, s->c->method, deadline, NULL);
    grpc_op ops[6];
    unary_ops(ops, 0, s->request, &s->response, &s->initial_md, &s->trailing_md, &s->status,
              &s->details);
    grpc_call_error e = grpc_call_start_batch(s->call, ops, 6, s, NULL);
    if (e != GRPC_CALL_OK) {
        fprintf(stderr, "loadgen: could not start a call: grpc_call_error %d\n", (int)e);
        abort();
    }
    return true;
}

/* Accounts for the slot's finished call and releases it. */
static void slot_finish(slot *s, bool batch_ok)
{
    worker *w = s->w;
    int64_t now = now_ns();
    w->last_ns = now;
    int code = !batch_ok ? N_CODES : (int)s->status;
    if (code == GRPC_STATUS_OK && s->response == NULL)
        code = GRPC_STATUS_INTERNAL; /* a unary call must answer a message */
    if (code == GRPC_STATUS_OK) {
        if (now >= w->r->warm_ns && now < w->r->end_ns) {
            w->ok++;
            hist_add(&w->h, (uint64_t)(now - s->start_ns) / 1000);
        }
    } else {
        if (code < 0 || code > N_CODES)
            code = GRPC_STATUS_UNKNOWN; /* a code from a newer gRPC */
        w->errors[code]++;
        if (w->first_error[0] == '\0') {
            char *d = grpc_slice_to_c_string(s->details);
            snprintf(w->first_error, sizeof w->first_error, "%s: %s", code_name(code), d);
            gpr_free(d);
        }
    }
    grpc_byte_buffer_destroy(s->response);
    s->response = NULL;
    grpc_slice_unref(s->details);
    s->details = grpc_empty_slice();
    /* The arrays keep their storage for the next call; the entries pointed
     * into the call, which goes now. */
    s->initial_md.count = 0;
    s->trailing_md.count = 0;
    grpc_call_unref(s->call);
    s->call = NULL;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    int inflight = 0;
    for (int i = 0; i < w->n_slots; i++)
        inflight += slot_start(&w->slots[i]);
    while (inflight > 0) {
        grpc_event ev =
            grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type != GRPC_OP_COMPLETE) {
            fprintf(stderr, "loadgen: unexpected completion queue event %d\n", (int)ev.type);
            abort();
        }
        slot *s = ev.tag;
        slot_finish(s, ev.success != 0);
        inflight--;
        inflight += slot_start(s);
    }
    atomic_fetch_add(&w->r->workers_done, 1);
    return NULL;
}

/* One call with wait-for-ready on each connection before the clock starts:
 * it waits for the server to come up, establishes every connection, and
 * fails fast with the server's status when the method is wrong. */
static bool probe(conn *c, const options *o, int index)
{
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(o->wait_ms, GPR_TIMESPAN));
    grpc_call *call = grpc_channel_create_registered_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS,
                                                          cq, c->method, deadline, NULL);
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)o->body, o->body_len);
    grpc_byte_buffer *request = grpc_raw_byte_buffer_create(&body, 1);
    grpc_byte_buffer *response = NULL;
    grpc_metadata_array initial_md, trailing_md;
    grpc_metadata_array_init(&initial_md);
    grpc_metadata_array_init(&trailing_md);
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    grpc_op ops[6];
    unary_ops(ops, GRPC_INITIAL_METADATA_WAIT_FOR_READY, request, &response, &initial_md,
              &trailing_md, &status, &details);
    bool ok = false;
    if (grpc_call_start_batch(call, ops, 6, call, NULL) != GRPC_CALL_OK) {
        fprintf(stderr, "loadgen: could not start the first call on connection %d\n", index);
    } else {
        grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type != GRPC_OP_COMPLETE || !ev.success) {
            fprintf(stderr, "loadgen: first call on connection %d failed\n", index);
        } else if (status != GRPC_STATUS_OK || response == NULL) {
            char *d = grpc_slice_to_c_string(details);
            fprintf(stderr, "loadgen: first call %s on connection %d to %s failed: %s: %s\n",
                    o->method, index, o->target, code_name((int)status),
                    response == NULL && status == GRPC_STATUS_OK ? "no response message" : d);
            gpr_free(d);
        } else {
            ok = true;
        }
    }
    grpc_byte_buffer_destroy(response);
    grpc_byte_buffer_destroy(request);
    grpc_slice_unref(body);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&initial_md);
    grpc_metadata_array_destroy(&trailing_md);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    return ok;
}

/* CPU seconds (user + system) used so far by this process, or by pid. */
static double cpu_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double cpu_of(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields 14 and 15 (utime, stime) follow the parenthesised command
     * name, which may itself contain spaces and parentheses. */
    char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds the whole machine has spent busy (user, nice, system, irq,
 * softirq; guest time is already inside user), or -1.  Anything beyond the
 * client's and the server's share was other work disturbing the run. */
static double cpu_machine(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    unsigned long long user, nice, sys, irq, softirq;
    int n = fscanf(f, "cpu %llu %llu %llu %*u %*u %llu %llu", &user, &nice, &sys, &irq, &softirq);
    fclose(f);
    if (n != 5)
        return -1;
    return (double)(user + nice + sys + irq + softirq) / (double)sysconf(_SC_CLK_TCK);
}

static void sleep_until(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

int main(int argc, char **argv)
{
    options o;
    if (!parse_options(argc, argv, &o)) {
        fprintf(stderr, "loadgen: --help lists the options\n");
        return 2;
    }
    grpc_init();
    int rc = 1;
    int n_conns = o.connections, n_workers = o.threads;
    conn *conns = calloc((size_t)n_conns, sizeof *conns);
    worker *workers = calloc((size_t)n_workers, sizeof *workers);
    hist *total = calloc(1, sizeof *total);
    run r = {.o = &o};
    atomic_init(&r.started, 0);
    atomic_init(&r.workers_done, 0);
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)o.body, o.body_len);
    if (!conns || !workers || !total) {
        fprintf(stderr, "loadgen: out of memory\n");
        goto cleanup;
    }

    for (int i = 0; i < n_conns; i++) {
        /* Channels with identical arguments share one subchannel, i.e. one
         * TCP connection: a local subchannel pool plus an argument unique to
         * each channel make every channel dial its own.  Retries are off so
         * the client spends nothing on buffering for them. */
        grpc_arg args[3] = {
            {.type = GRPC_ARG_INTEGER,
             .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL,
             .value.integer = 1},
            {.type = GRPC_ARG_INTEGER, .key = "shelfline.loadgen.connection", .value.integer = i},
            {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ENABLE_RETRIES, .value.integer = 0},
        };
        grpc_channel_args ca = {.num_args = 3, .args = args};
        conns[i].channel = grpc_channel_create(o.target, creds, &ca);
        conns[i].method = grpc_channel_register_call(conns[i].channel, o.method, NULL, NULL);
    }
    for (int i = 0; i < n_conns; i++)
        if (!probe(&conns[i], &o, i))
            goto cleanup;
    fprintf(stderr,
            "loadgen: %s %s, %d connection(s) x %d outstanding, %d thread(s), "
            "request %zu bytes, warm-up %gs, window %gs\n",
            o.target, o.method, n_conns, o.outstanding, n_workers, o.body_len, o.warmup_s,
            o.duration_s);

    /* Connections go round-robin to workers; each connection's slots stay
     * with its worker, so a call never crosses threads. */
    for (int t = 0; t < n_workers; t++) {
        worker *w = &workers[t];
        w->r = &r;
        w->cq = grpc_completion_queue_create_for_next(NULL);
        int mine = 0;
        for (int i = t; i < n_conns; i += n_workers)
            mine++;
        w->slots = calloc((size_t)(mine * o.outstanding), sizeof *w->slots);
        if (!w->slots) {
            fprintf(stderr, "loadgen: out of memory\n");
            goto cleanup;
        }
        for (int i = t; i < n_conns; i += n_workers) {
            for (int k = 0; k < o.outstanding; k++) {
                slot *s = &w->slots[w->n_slots++];
                s->w = w;
                s->c = &conns[i];
                s->request = grpc_raw_byte_buffer_create(&body, 1);
                s->details = grpc_empty_slice();
                grpc_metadata_array_init(&s->initial_md);
                grpc_metadata_array_init(&s->trailing_md);
            }
        }
    }

    int64_t start = now_ns();
    r.warm_ns = start + (int64_t)(o.warmup_s * 1e9);
    r.end_ns = r.warm_ns + (int64_t)(o.duration_s * 1e9);
    for (int t = 0; t < n_workers; t++) {
        if (pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]) != 0) {
            fprintf(stderr, "loadgen: could not start a thread\n");
            abort(); /* the started workers hold the queues; no clean way back */
        }
    }

    /* CPU use is sampled at the window's edges, or when every worker has
     * stopped early (--max-calls). */
    sleep_until(r.warm_ns);
    double client0 = cpu_self(), server0 = o.server_pid ? cpu_of(o.server_pid) : 0;
    double machine0 = cpu_machine();
    int64_t t0 = now_ns();
    while (now_ns() < r.end_ns && atomic_load(&r.workers_done) < n_workers) {
        int64_t next = now_ns() + 10000000;
        sleep_until(next < r.end_ns ? next : r.end_ns);
    }
    double client1 = cpu_self(), server1 = o.server_pid ? cpu_of(o.server_pid) : 0;
    double machine1 = cpu_machine();
    int64_t t1 = now_ns();

    bool hit_max = false;
    int64_t last_ns = 0;
    uint64_t ok = 0, errors = 0;
    for (int t = 0; t < n_workers; t++) {
        worker *w = &workers[t];
        pthread_join(w->thread, NULL);
        hist_merge(total, &w->h);
        ok += w->ok;
        hit_max |= w->hit_max;
        if (w->last_ns > last_ns)
            last_ns = w->last_ns;
        for (int c = 0; c <= N_CODES; c++)
            errors += w->errors[c];
    }
    /* Stopped by --max-calls: the window ends with the last call. */
    int64_t window_end = hit_max && last_ns < r.end_ns ? last_ns : r.end_ns;
    double window_s = (double)(window_end - r.warm_ns) / 1e9;
    if (hit_max)
        fprintf(stderr, "loadgen: stopped by --max-calls=%lld before the window ended\n",
                o.max_calls);
    if (errors > 0) {
        for (int c = 0; c <= N_CODES; c++) {
            uint64_t n = 0;
            for (int t = 0; t < n_workers; t++)
                n += workers[t].errors[c];
            if (n > 0)
                fprintf(stderr, "loadgen: %" PRIu64 " call(s) failed with %s\n", n, code_name(c));
        }
        for (int t = 0; t < n_workers; t++)
            if (workers[t].first_error[0] != '\0')
                fprintf(stderr, "loadgen: first error seen by thread %d: %s\n", t,
                        workers[t].first_error);
    }
    double cpu_window = (double)(t1 - t0) / 1e9;
    printf("calls_per_s=%.0f p50_us=%" PRIu32 " p90_us=%" PRIu32 " p99_us=%" PRIu32
           " p999_us=%" PRIu32 " max_us=%" PRIu32 " ok=%" PRIu64 " errors=%" PRIu64
           " window_s=%.3f client_cpu=%.2f",
           window_s > 0 ? (double)ok / window_s : 0.0, hist_quantile(total, 0.50),
           hist_quantile(total, 0.90), hist_quantile(total, 0.99), hist_quantile(total, 0.999),
           hist_quantile(total, 1.0), ok, errors, window_s,
           cpu_window > 0 ? (client1 - client0) / cpu_window : 0.0);
    if (machine0 >= 0 && machine1 >= 0 && cpu_window > 0)
        printf(" machine_cpu=%.2f", (machine1 - machine0) / cpu_window);
    if (o.server_pid) {
        if (server0 < 0 || server1 < 0)
            printf(" server_cpu=unknown");
        else
            printf(" server_cpu=%.2f", cpu_window > 0 ? (server1 - server0) / cpu_window : 0.0);
    }
    printf("\n");
    rc = 0;

cleanup:
    for (int t = 0; t < n_workers && workers; t++) {
        worker *w = &workers[t];
        for (int k = 0; k < w->n_slots; k++) {
            grpc_byte_buffer_destroy(w->slots[k].request);
            grpc_metadata_array_destroy(&w->slots[k].initial_md);
            grpc_metadata_array_destroy(&w->slots[k].trailing_md);
        }
        free(w->slots);
        if (w->cq) {
            grpc_completion_queue_shutdown(w->cq);
            while (
                grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
                GRPC_QUEUE_SHUTDOWN)
                ;
            grpc_completion_queue_destroy(w->cq);
        }
    }
    for (int i = 0; i < n_conns && conns; i++)
        if (conns[i].channel)
            grpc_channel_destroy(conns[i].channel);
    grpc_slice_unref(body);
    grpc_channel_credentials_release(creds);
    free(total);
    free(workers);
    free(conns);
    free(o.body);
    grpc_shutdown();
    return rc;
}
