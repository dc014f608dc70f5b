/*
 * peak_load: the open-loop load generator of `make peak` (tests/peak/peak.sh
 * starts the suite, seeds it, injects the faults and audits; this program
 * only drives the load and measures what clients see), on sl_client.
 *
 * Open loop, and why.  A closed-loop generator (N clients, each waiting for
 * its answer before sending the next call) slows down exactly when the
 * system does: a 2 s stall delays every client's next call, so the calls
 * that would have waited are never sent and never measured -- coordinated
 * omission, which makes p99 look good precisely when it is bad.  Here
 * arrivals follow a schedule fixed in advance: per request class a Poisson
 * process whose rate follows the profile's phases.  One scheduler thread
 * computes each arrival's intended start time and hands it to a pool of
 * worker threads that make the blocking calls.  A call's latency is
 * measured from its intended start, so the time it waited in the queue --
 * because the system or this generator was slow -- counts.  Its deadline
 * runs from there too, as a real client's runs from the customer's click,
 * so no call outlives its deadline whatever the backlog.  An arrival that
 * finds QUEUE_MAX waiting, or whose deadline passed before a worker was
 * free, is not sent but counted as client_overload (reported apart: this
 * generator could not keep the schedule -- too few --threads for the rate
 * times the deadline -- and the run measured less than asked).
 *
 * Follow-ups are arrivals too: payment or cancellation 0.5-3 s after an
 * order is acknowledged, a return's steps after payment, a back-in-stock
 * subscription after a sold-out answer; each goes into a timer heap at its
 * intended time.  Three scenario threads run the timed moments of the day:
 * an inbound delay with its backordered orders (and how long until the
 * last customer's delay notice is readable), a restock, and visibility
 * probes (stock change -> service-desk's QuoteEta shows it).
 *
 * Every call carries a deadline and, being idempotent by its key (order id,
 * ticket id, request id), is retried by sl_client on UNAVAILABLE with the
 * same request until that deadline, as a real client does.
 *
 * Bounded: the schedule ends with the last phase (follow-ups of placed
 * orders run DRAIN_S more seconds), calls are capped by --max-calls, every
 * poll loop has a time limit.
 *
 * Command line (usage() lists every flag and its default):
 *   peak_load run --inventory T --service-desk T [--customer-value T]
 *       [--forecasting T] --phases normal:60:20,surge:90:200 --run RUNID
 *       --out DIR [--skus 100000] [--customers 50000] [--hot-customers 500]
 *       [--regions NA-EAST,NA-WEST,EU-CENTRAL] [--hot P-000001,...]
 *       [--promos PEAK-FLASH-1,...] [--backorder-sku P-BACKORDER
 *       --backorder-inbound PEAK-IN-DELAY [--backorder-orders 1000]
 *       [--backorder-region R]] [--restock-sku P-SOLDOUT-1]
 *       [--visibility-skus P-VIS-001] [--visibility-probes 20]
 *       [--visibility-region NA-EAST] [--threads 256] [--channels 4]
 *       [--max-calls 5000000] [--seed 1]
 *   peak_load check --inventory T
 * T is a gRPC target (ipv4:127.0.0.1:50051,127.0.0.1:50151).  Customers
 * are c-%06d, their region --regions[n mod count]; SKUs P-%06d.  The surge
 * is the phase named "surge" (else the fastest); --max-calls caps the
 * scheduled arrivals (follow-ups are bounded by the orders).  Each target
 * given must answer its health check within 10 s.
 *
 * Output in --out: calls.csv, latency.csv (t_ms,class,result,latency_us: one
 * row per finished call, by intended start), errors.csv (t_ms,class,code,
 * message: every failed call, to tell one fault's failures from another's),
 * orders.csv, summary.json,
 * events.csv (formats
 * in write_calls, write_orders, write_summary).  Exit 0 when the run
 * completed (whatever it measured: the caller's gates decide), 1 when it
 * could not run, 2 on bad arguments.  `peak_load check` runs inventory's
 * CheckInvariants: each violation on stdout, exit 1 if any, 0 when clean.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "grpc/health/v1/health.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_client.h"
#include "sl_log.h"

#define MAX_PHASES 16
#define MAX_NAMED 16      /* hot SKUs, promotions, regions */
#define QUEUE_MAX 20000   /* pending arrivals before client_overload */
#define HEAP_MAX 2000000  /* pending follow-ups */
#define DRAIN_S 7         /* follow-ups of the last orders still run (ack <= 3 s, then <= 3 s) */
#define FIRST_ERRORS 20   /* error messages kept per class */
#define MAX_CHANNELS 16   /* per service */
#define DELAY_WAIT_S 60   /* longest wait for the delay notices */
#define VIS_WAIT_MS 10000 /* longest wait for one visibility probe */
#define NS 1000000000LL

/* Request classes: name, rate as a multiple of the phase's order rate (0:
 * follow-ups only, never a Poisson arrival of its own). */
#define CLASS_LIST(X)                                                                              \
    X(AVAILABILITY, "availability", 3.0)                                                           \
    X(QUOTE_ETA, "quote_eta", 2.0)                                                                 \
    X(PLACE_ORDER, "place_order", 1.0)                                                             \
    X(CONFIRM_PAYMENT, "confirm_payment", 0.0)                                                     \
    X(CANCEL_ORDER, "cancel_order", 0.0)                                                           \
    X(ORDER_ETA, "order_eta", 0.5)                                                                 \
    X(OPEN_TICKET, "open_ticket", 0.05)                                                            \
    X(SUBSCRIBE, "subscribe", 0.0)                                                                 \
    X(RETURNS, "returns", 0.0)

typedef enum call_class {
#define CLASS_ENUM(id, name, mult) C_##id,
    CLASS_LIST(CLASS_ENUM)
#undef CLASS_ENUM
        NCLASS
} call_class;

static const char *const class_name[NCLASS] = {
#define CLASS_NAME(id, name, mult) name,
    CLASS_LIST(CLASS_NAME)
#undef CLASS_NAME
};

static const double class_mult[NCLASS] = {
#define CLASS_MULT(id, name, mult) mult,
    CLASS_LIST(CLASS_MULT)
#undef CLASS_MULT
};

/* What a worker does with a task. */
typedef enum task_kind {
    T_AVAILABILITY,
    T_QUOTE_ETA,
    T_PLACE_ORDER,
    T_PLACE_BACKORDER,
    T_CONFIRM,
    T_CANCEL,
    T_ORDER_ETA,
    T_TICKET,
    T_SUBSCRIBE,
    T_RETURN
} task_kind;

typedef struct task {
    int64_t due_ns; /* intended start, since the run's start */
    task_kind kind;
    int32_t order; /* index into the order table, or -1 */
    int32_t sku;   /* T_SUBSCRIBE: sku reference (see sku_name) */
} task;

/* ---- options ---- */

typedef struct phase {
    char name[32];
    double seconds, rate; /* rate: orders per second */
    int64_t start_ns, end_ns;
} phase;

typedef struct opts {
    const char *inventory, *service_desk, *customer_value, *forecasting;
    phase phases[MAX_PHASES];
    int nphases;
    long skus, customers, hot_customers;
    char *regions[MAX_NAMED], *hot[MAX_NAMED], *promos[MAX_NAMED];
    int nregions, nhot, npromos;
    const char *backorder_sku, *backorder_inbound, *restock_sku, *vis_prefix, *vis_region;
    const char *backorder_region; /* NULL: any customer */
    /* Visibility SKUs: vis_stem + (vis_first + i) in vis_width digits, from
     * --visibility-skus "P-VIS-001" (or the stem alone, "P-VIS-": 001). */
    char vis_stem[64];
    long vis_first;
    int vis_width;
    int backorder_region_ix;
    long backorder_orders, vis_probes;
    long delay_at_pct, restock_at_pct; /* into the surge phase, in percent */
    const char *run, *out;
    long threads, channels, max_calls;
    uint64_t seed;
    char lists[3][1024]; /* storage for the split lists */
} opts;

/* ---- histogram ----
 * Log-linear over microseconds: exact below 2^(SUB_BITS+1) us, then 2^SUB_BITS
 * buckets per power of two (within 1/32 = 3% everywhere, up to 2^32 us).  It
 * is small (3.5 KiB) because one exists per second per class.  Quantiles
 * answer a bucket's upper bound: they err on the high side. */
#define HIST_SUB_BITS 5
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((32 - HIST_SUB_BITS) * HIST_SUB + HIST_SUB)

typedef struct hist {
    uint32_t count[HIST_BUCKETS];
    uint64_t total;
    uint32_t max_us;
} hist;

static unsigned hist_index(uint32_t v)
{
    int msb = v ? 31 - __builtin_clz(v) : 0;
    int shift = msb > (int)HIST_SUB_BITS ? msb - (int)HIST_SUB_BITS : 0;
    /* v >> shift is in [SUB, 2 SUB) once shift > 0: one bucket per sub-step. */
    return (unsigned)shift * HIST_SUB + (v >> shift);
}

static uint32_t hist_bucket_max(unsigned i)
{
    unsigned shift = i < 2 * HIST_SUB ? 0 : i / HIST_SUB - 1;
    uint64_t sub = i - shift * HIST_SUB;
    uint64_t top = ((sub + 1) << shift) - 1;
    return top > UINT32_MAX ? UINT32_MAX : (uint32_t)top;
}

static void hist_add(hist *h, int64_t us)
{
    uint32_t v = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    h->count[hist_index(v)]++;
    h->total++;
    if (v > h->max_us)
        h->max_us = v;
}

/* Value in ms at quantile q (0 < q <= 1), never above the maximum seen; 0
 * when empty. */
static double hist_quantile_ms(const hist *h, double q)
{
    if (h == NULL || h->total == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)h->total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->count[i];
        if (seen >= rank) {
            uint32_t v = hist_bucket_max(i);
            return (v < h->max_us ? v : h->max_us) / 1000.0;
        }
    }
    return h->max_us / 1000.0;
}

/* ---- shared state ---- */

typedef enum placed_kind { PLACED_NONE, PLACED_OK, PLACED_BUSINESS, PLACED_ERROR } placed_kind;
typedef enum outcome_kind {
    OUT_NONE,
    OUT_PAID,
    OUT_CANCELLED,
    OUT_UNPAID,
    OUT_PAY_FAILED,
    OUT_CANCEL_FAILED
} outcome_kind;
typedef enum order_kind { K_TAIL, K_HOT, K_BACKORDER } order_kind;

typedef struct order {
    int32_t num; /* the n of RUNID-o-<n> / RUNID-b-<n> */
    int32_t customer;
    int32_t sku[3]; /* sku references */
    uint8_t qty[3];
    int8_t promo[3]; /* index into promos, -1: none */
    uint8_t nlines, kind, placed, outcome;
    bool split, on_inbound; /* on_inbound: allocated to --backorder-inbound */
    bool returned;
} order;

typedef struct cell {
    uint32_t ok, business, errors;
    hist *h; /* allocated at the first ok or business call */
} cell;

typedef struct err_note {
    double t_s;
    char msg[200];
} err_note;

typedef struct vis_result {
    double lag_ms;
    bool ok;
} vis_result;

typedef struct run {
    opts o;
    sl_channel *inv[MAX_CHANNELS], *sd[MAX_CHANNELS];
    int64_t t0_ns, sched_end_ns, drain_end_ns;
    int surge; /* index of the surge phase */

    /* The ready queue (a ring) and the timer heap of follow-ups. */
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    task *ring;
    size_t rhead, rlen;
    bool closing;
    pthread_mutex_t hmu;
    task *heap;
    size_t hlen, hcap;

    /* Orders: slots handed out by next_order; acked lists the indexes of
     * orders acknowledged OK (for GetOrderEta and tickets). */
    order *orders;
    int32_t norders_cap;
    atomic_int next_order, next_tail_num, next_bo_num, next_ticket;
    pthread_mutex_t amu;
    int32_t *acked;
    int32_t nacked;

    /* Statistics, under smu. */
    pthread_mutex_t smu;
    cell *cells; /* [nsec][NCLASS] */
    int64_t nsec;
    hist phase_hist[MAX_PHASES][NCLASS];
    uint64_t phase_calls[MAX_PHASES][NCLASS], phase_sched[MAX_PHASES], phase_overload[MAX_PHASES];
    uint64_t tot[NCLASS][4]; /* ok, business, errors, client_overload */
    err_note errs[NCLASS][FIRST_ERRORS];
    int nerrs[NCLASS];
    atomic_long calls_started;
    bool max_calls_hit;
    long returns_received, subscriptions;
    long place_short, place_promo_out, place_cap; /* PlaceOrder's business answers */

    /* Scenarios. */
    pthread_mutex_t emu;
    FILE *events;
    /* latency.csv, one row per finished call (under smu): exact
     * percentiles over any window and error spans to the millisecond for
     * the report, which per-second rows cannot give. */
    FILE *lat;
    /* errors.csv: every failed call with its status and message (under smu). */
    FILE *errs_out;
    double delay_last_ms, restock_at_s;
    long delay_orders, delay_notices, delay_dups, delay_seen;
    bool delay_done, delay_complete, restock_done;
    char scenario_err[3][300];
    vis_result *vis;
    long nvis;
} run;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t elapsed_ns(const run *r)
{
    return mono_ns() - r->t0_ns;
}

static void sleep_until(const run *r, int64_t at_ns)
{
    int64_t abs_ns = r->t0_ns + at_ns;
    struct timespec ts = {.tv_sec = abs_ns / NS, .tv_nsec = abs_ns % NS};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* splitmix64: a per-thread generator, seeded from --seed and the thread. */
static uint64_t rnd_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rnd_unit(uint64_t *s)
{
    return (double)(rnd_next(s) >> 11) / 9007199254740992.0;
}

/* Uniform in [lo, hi]. */
static long rnd_range(uint64_t *s, long lo, long hi)
{
    return lo + (long)(rnd_next(s) % (uint64_t)(hi - lo + 1));
}

/* ---- names ----
 * A SKU reference is n >= 1 for P-%06d, or -1 - k for hot SKU k, or
 * SKU_BACKORDER. */
#define SKU_BACKORDER (-100)

static void sku_name(const run *r, int32_t ref, char *buf, size_t len)
{
    if (ref >= 1)
        snprintf(buf, len, "P-%06d", (int)ref);
    else if (ref == SKU_BACKORDER)
        snprintf(buf, len, "%s", r->o.backorder_sku);
    else
        snprintf(buf, len, "%s", r->o.hot[-1 - ref]);
}

/* The reference for a SKU name, or 0 when it is none of ours. */
static int32_t sku_ref(const run *r, const char *name)
{
    for (int k = 0; k < r->o.nhot; k++)
        if (strcmp(name, r->o.hot[k]) == 0)
            return -1 - k;
    if (r->o.backorder_sku != NULL && strcmp(name, r->o.backorder_sku) == 0)
        return SKU_BACKORDER;
    if (strncmp(name, "P-", 2) == 0 && strlen(name) == 8) {
        char *end;
        long n = strtol(name + 2, &end, 10);
        if (*end == '\0' && n >= 1 && n <= r->o.skus)
            return (int32_t)n;
    }
    return 0;
}

static void order_id(const run *r, const order *o, char *buf, size_t len)
{
    snprintf(buf, len, "%s-%c-%d", r->o.run, o->kind == K_BACKORDER ? 'b' : 'o', (int)o->num);
}

static void customer_id(int32_t c, char *buf, size_t len)
{
    snprintf(buf, len, "c-%06d", (int)c);
}

static const char *customer_region(const run *r, int32_t c)
{
    return r->o.regions[c % r->o.nregions];
}

/* ---- statistics ---- */

typedef enum result_kind { R_OK, R_BUSINESS, R_ERROR } result_kind;

static int phase_at(const run *r, int64_t t_ns)
{
    for (int i = 0; i < r->o.nphases; i++)
        if (t_ns < r->o.phases[i].end_ns)
            return i;
    return r->o.nphases - 1;
}

/* Records one finished call of class c that was intended to start at
 * due_ns and finished at end_ns. */
static void record(run *r, call_class c, int64_t due_ns, int64_t end_ns, result_kind k,
                   sl_status st, const char *msg)
{
    int64_t sec = due_ns < 0 ? 0 : due_ns / NS;
    if (sec >= r->nsec)
        sec = r->nsec - 1;
    int p = phase_at(r, due_ns);
    int64_t us = (end_ns - due_ns) / 1000;
    pthread_mutex_lock(&r->smu);
    if (r->lat != NULL)
        fprintf(r->lat, "%" PRId64 ",%s,%s,%" PRId64 "\n", due_ns / 1000000, class_name[c],
                k == R_OK         ? "ok"
                : k == R_BUSINESS ? "business"
                                  : "error",
                us);
    cell *ce = &r->cells[sec * NCLASS + c];
    r->phase_calls[p][c]++;
    r->tot[c][k]++;
    if (k == R_ERROR) {
        ce->errors++;
        if (r->errs_out != NULL) {
            /* The message as one CSV field: quotes doubled, no newline. */
            fprintf(r->errs_out, "%" PRId64 ",%s,%s,\"", due_ns / 1000000, class_name[c],
                    sl_status_name(st));
            for (const char *m = msg != NULL ? msg : ""; *m != '\0'; m++) {
                if (*m == '"')
                    fputc('"', r->errs_out);
                fputc(*m == '\n' ? ' ' : *m, r->errs_out);
            }
            fputs("\"\n", r->errs_out);
        }
        if (r->nerrs[c] < FIRST_ERRORS) {
            err_note *e = &r->errs[c][r->nerrs[c]++];
            e->t_s = (double)due_ns / NS;
            snprintf(e->msg, sizeof e->msg, "%s: %.170s", sl_status_name(st), msg);
        }
    } else {
        if (k == R_OK)
            ce->ok++;
        else
            ce->business++;
        if (ce->h == NULL)
            ce->h = calloc(1, sizeof *ce->h);
        if (ce->h != NULL)
            hist_add(ce->h, us);
        hist_add(&r->phase_hist[p][c], us);
    }
    pthread_mutex_unlock(&r->smu);
}

static void record_overload(run *r, call_class c, int64_t due_ns)
{
    pthread_mutex_lock(&r->smu);
    r->tot[c][3]++;
    r->phase_overload[phase_at(r, due_ns)]++;
    pthread_mutex_unlock(&r->smu);
}

/* Appends "t_s,what" to events.csv (what must hold no comma or newline). */
static void event(run *r, const char *what, const char *subject)
{
    pthread_mutex_lock(&r->emu);
    if (r->events != NULL) {
        fprintf(r->events, "%.3f,%s %s\n", (double)elapsed_ns(r) / NS, what, subject);
        fflush(r->events);
    }
    pthread_mutex_unlock(&r->emu);
}

/* ---- queue and timers ---- */

static call_class task_class(task_kind k)
{
    switch (k) {
    case T_AVAILABILITY:
        return C_AVAILABILITY;
    case T_QUOTE_ETA:
        return C_QUOTE_ETA;
    case T_PLACE_ORDER:
    case T_PLACE_BACKORDER:
        return C_PLACE_ORDER;
    case T_CONFIRM:
        return C_CONFIRM_PAYMENT;
    case T_CANCEL:
        return C_CANCEL_ORDER;
    case T_ORDER_ETA:
        return C_ORDER_ETA;
    case T_TICKET:
        return C_OPEN_TICKET;
    case T_SUBSCRIBE:
        return C_SUBSCRIBE;
    case T_RETURN:
        return C_RETURNS;
    }
    return C_AVAILABILITY;
}

/* Queues a due task for the workers; false (counted as client_overload)
 * when QUEUE_MAX are already waiting. */
static bool enqueue(run *r, const task *t)
{
    pthread_mutex_lock(&r->qmu);
    bool ok = r->rlen < QUEUE_MAX;
    if (ok) {
        r->ring[(r->rhead + r->rlen) % QUEUE_MAX] = *t;
        r->rlen++;
        pthread_cond_signal(&r->qcv);
    }
    pthread_mutex_unlock(&r->qmu);
    if (!ok)
        record_overload(r, task_class(t->kind), t->due_ns);
    return ok;
}

/* Takes the next task; false once the queue is closed and empty. */
static bool dequeue(run *r, task *t)
{
    pthread_mutex_lock(&r->qmu);
    while (r->rlen == 0 && !r->closing)
        pthread_cond_wait(&r->qcv, &r->qmu);
    bool ok = r->rlen > 0;
    if (ok) {
        *t = r->ring[r->rhead];
        r->rhead = (r->rhead + 1) % QUEUE_MAX;
        r->rlen--;
    }
    pthread_mutex_unlock(&r->qmu);
    return ok;
}

/* Puts a follow-up into the timer heap; false when it is full or due after
 * the drain. */
static bool schedule(run *r, const task *t)
{
    if (t->due_ns >= r->drain_end_ns)
        return false;
    pthread_mutex_lock(&r->hmu);
    bool ok = r->hlen < HEAP_MAX;
    if (ok && r->hlen == r->hcap) {
        size_t cap = r->hcap * 2 + 1024;
        task *nh = realloc(r->heap, cap * sizeof *nh);
        if (nh == NULL)
            ok = false;
        else {
            r->heap = nh;
            r->hcap = cap;
        }
    }
    if (ok) {
        size_t i = r->hlen++;
        while (i > 0 && r->heap[(i - 1) / 2].due_ns > t->due_ns) {
            r->heap[i] = r->heap[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        r->heap[i] = *t;
    }
    pthread_mutex_unlock(&r->hmu);
    return ok;
}

/* Pops the earliest follow-up if it is due by now_ns. */
static bool heap_pop_due(run *r, int64_t now_ns, task *out)
{
    pthread_mutex_lock(&r->hmu);
    bool ok = r->hlen > 0 && r->heap[0].due_ns <= now_ns;
    if (ok) {
        *out = r->heap[0];
        task last = r->heap[--r->hlen];
        size_t i = 0;
        for (;;) {
            size_t c = 2 * i + 1;
            if (c >= r->hlen)
                break;
            if (c + 1 < r->hlen && r->heap[c + 1].due_ns < r->heap[c].due_ns)
                c++;
            if (r->heap[c].due_ns >= last.due_ns)
                break;
            r->heap[i] = r->heap[c];
            i = c;
        }
        if (r->hlen > 0)
            r->heap[i] = last;
    }
    pthread_mutex_unlock(&r->hmu);
    return ok;
}

/* ---- calls ---- */

typedef struct worker {
    run *r;
    int id;
    uint64_t rnd;
    sl_arena *a;
} worker;

static sl_channel *inv_ch(const run *r, uint64_t *rnd)
{
    return r->inv[rnd_next(rnd) % (uint64_t)r->o.channels];
}

static sl_channel *sd_ch(const run *r, uint64_t *rnd)
{
    return r->sd[rnd_next(rnd) % (uint64_t)r->o.channels];
}

/* One unary call with the real client's habits: a deadline, the key as
 * request id, retries of UNAVAILABLE with the same request until then. */
static sl_status call(sl_channel *ch, const char *method, const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *rd, sl_arena *a, ProtobufCMessage **resp,
                      int64_t timeout_ms, const char *key, const uint8_t **details,
                      size_t *details_len, sl_err *err)
{
    sl_call_options co = {.timeout_ms = timeout_ms,
                          .request_id = key,
                          .idempotent = true,
                          .status_details = details,
                          .status_details_len = details_len};
    sl_err_clear(err);
    return sl_client_unary(ch, method, req, rd, a, resp, &co, err);
}

/* The time a call has left, in *ms: its deadline runs from the intended
 * start, as a real client's runs from the customer's click.  True (and
 * the arrival counted as client_overload, the call not sent) when waiting
 * for a free worker used it all: the generator lacked threads, and the
 * call would measure this program, not the suite.  Without this, workers
 * blocked through an outage would make every later call wait, and queueing
 * here would look like the suite's latency long after it recovered. */
static bool late(run *r, const task *t, int64_t deadline_ms, int64_t *ms)
{
    *ms = deadline_ms - (elapsed_ns(r) - t->due_ns) / 1000000;
    if (*ms > 0)
        return false;
    record_overload(r, task_class(t->kind), t->due_ns);
    return true;
}

static int32_t pick_acked(run *r, uint64_t *rnd)
{
    pthread_mutex_lock(&r->amu);
    int32_t i = r->nacked > 0 ? r->acked[rnd_next(rnd) % (uint64_t)r->nacked] : -1;
    pthread_mutex_unlock(&r->amu);
    return i;
}

/* Order states change under amu: the delay thread reads them while the
 * workers run. */
static void set_outcome(run *r, order *o, outcome_kind k)
{
    pthread_mutex_lock(&r->amu);
    o->outcome = (uint8_t)k;
    pthread_mutex_unlock(&r->amu);
}

static void do_availability(worker *w, const task *t)
{
    run *r = w->r;
    int64_t ms;
    if (late(r, t, 1000, &ms))
        return;
    char buf[20][16], *skus[20];
    for (int i = 0; i < 20; i++) {
        sku_name(r, (int32_t)rnd_range(&w->rnd, 1, r->o.skus), buf[i], sizeof buf[i]);
        skus[i] = buf[i];
    }
    Shelfline__V1__GetAvailabilityRequest q = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
    q.skus = skus;
    q.n_skus = 20;
    q.region = (char *)customer_region(r, (int32_t)rnd_range(&w->rnd, 1, r->o.customers));
    ProtobufCMessage *resp;
    sl_err err;
    sl_status st = call(inv_ch(r, &w->rnd), "/shelfline.v1.InventoryService/GetAvailability",
                        &q.base, &shelfline__v1__get_availability_response__descriptor, w->a, &resp,
                        ms, NULL, NULL, NULL, &err);
    record(r, C_AVAILABILITY, t->due_ns, elapsed_ns(r), st == SL_OK ? R_OK : R_ERROR, st, err.msg);
}

static void do_quote_eta(worker *w, const task *t)
{
    run *r = w->r;
    int64_t ms;
    if (late(r, t, 1000, &ms))
        return;
    char buf[5][16], *skus[5];
    int n = (int)rnd_range(&w->rnd, 1, 5);
    for (int i = 0; i < n; i++) {
        sku_name(r, (int32_t)rnd_range(&w->rnd, 1, r->o.skus), buf[i], sizeof buf[i]);
        skus[i] = buf[i];
    }
    Shelfline__V1__QuoteEtaRequest q = SHELFLINE__V1__QUOTE_ETA_REQUEST__INIT;
    q.skus = skus;
    q.n_skus = (size_t)n;
    q.region = (char *)customer_region(r, (int32_t)rnd_range(&w->rnd, 1, r->o.customers));
    ProtobufCMessage *resp;
    sl_err err;
    sl_status st = call(sd_ch(r, &w->rnd), "/shelfline.v1.ServiceDeskService/QuoteEta", &q.base,
                        &shelfline__v1__quote_eta_response__descriptor, w->a, &resp, ms, NULL, NULL,
                        NULL, &err);
    record(r, C_QUOTE_ETA, t->due_ns, elapsed_ns(r), st == SL_OK ? R_OK : R_ERROR, st, err.msg);
}

/* Fills a new order's lines: long tail (70%) or hot SKU with its promotion
 * (30%), or the backorder SKU. */
static void make_order(run *r, uint64_t *rnd, order *o, bool backorder)
{
    if (backorder) {
        o->kind = K_BACKORDER;
        o->num = atomic_fetch_add(&r->next_bo_num, 1) + 1;
        o->customer = (int32_t)rnd_range(rnd, 1, r->o.customers);
        if (r->o.backorder_region != NULL) {
            /* A customer of that region: number = region index (mod count). */
            long ix = r->o.backorder_region_ix, nr = r->o.nregions;
            long k = rnd_range(rnd, ix == 0 ? 1 : 0, (r->o.customers - ix) / nr);
            o->customer = (int32_t)(ix + nr * k);
        }
        o->nlines = 1;
        o->sku[0] = SKU_BACKORDER;
        o->qty[0] = 1;
        o->promo[0] = -1;
        return;
    }
    o->num = atomic_fetch_add(&r->next_tail_num, 1) + 1;
    if (r->o.nhot > 0 && rnd_unit(rnd) < 0.30) {
        int k = (int)rnd_range(rnd, 0, r->o.nhot - 1);
        o->kind = K_HOT;
        o->customer = (int32_t)rnd_range(rnd, 1, r->o.hot_customers);
        o->nlines = 1;
        o->sku[0] = -1 - k;
        o->qty[0] = (uint8_t)rnd_range(rnd, 1, 2);
        o->promo[0] = (int8_t)k;
        return;
    }
    o->kind = K_TAIL;
    o->customer = (int32_t)rnd_range(rnd, 1, r->o.customers);
    o->nlines = (uint8_t)rnd_range(rnd, 1, 3);
    o->split = rnd_unit(rnd) < 0.30;
    for (int i = 0; i < o->nlines; i++) {
        int32_t s;
        bool dup;
        int tries = 0;
        do { /* distinct SKUs (a few tries; 100,000 SKUs make a clash rare) */
            s = (int32_t)rnd_range(rnd, 1, r->o.skus);
            dup = false;
            for (int j = 0; j < i; j++)
                dup = dup || o->sku[j] == s;
        } while (dup && ++tries < 8);
        if (dup) {
            o->nlines = (uint8_t)i;
            break;
        }
        o->sku[i] = s;
        o->qty[i] = 1;
        o->promo[i] = -1;
    }
}

/* PlaceOrder's answer classified: sold out and promotion limits are the
 * business answers (inventory's FAILED_PRECONDITION with a shortfall, its
 * RESOURCE_EXHAUSTED "promotion ... is sold out" / "may have at most"). */
static result_kind place_result(sl_status st, const char *msg)
{
    if (st == SL_OK)
        return R_OK;
    /* A retry that found its own hold gone is the system's failure. */
    if (st == SL_FAILED_PRECONDITION)
        return strstr(msg, "released before the order was recorded") ? R_ERROR : R_BUSINESS;
    if (st == SL_RESOURCE_EXHAUSTED && strstr(msg, "promotion") != NULL)
        return R_BUSINESS;
    return R_ERROR;
}

/* After a sold-out answer: one customer in two subscribes back-in-stock
 * for the first short SKU named in the ReserveShortfall detail. */
static void maybe_subscribe(worker *w, int32_t oi, const uint8_t *details, size_t len)
{
    run *r = w->r;
    const uint8_t *v;
    size_t vlen;
    if (details == NULL || rnd_unit(&w->rnd) >= 0.5 ||
        !sl_client_status_detail(details, len, "type.googleapis.com/shelfline.v1.ReserveShortfall",
                                 w->a, &v, &vlen))
        return;
    Shelfline__V1__ReserveShortfall *sf =
        shelfline__v1__reserve_shortfall__unpack(sl_arena_pb_allocator(w->a), vlen, v);
    if (sf == NULL || sf->n_lines == 0 || sf->lines[0]->sku == NULL)
        return;
    int32_t ref = sku_ref(r, sf->lines[0]->sku);
    if (ref == 0)
        return;
    task t = {.due_ns = elapsed_ns(r), .kind = T_SUBSCRIBE, .order = oi, .sku = ref};
    enqueue(r, &t);
}

/* What follows an acknowledged order: payment (90%, all backorders),
 * cancellation (5%) 0.5-3 s later, or nothing (5%, the hold expires). */
static void follow_order(worker *w, int32_t oi, int64_t now_ns)
{
    run *r = w->r;
    order *o = &r->orders[oi];
    double u = rnd_unit(&w->rnd);
    task t = {.due_ns = now_ns + (int64_t)((0.5 + 2.5 * rnd_unit(&w->rnd)) * NS), .order = oi};
    if (o->kind == K_BACKORDER || u < 0.90)
        t.kind = T_CONFIRM;
    else if (u < 0.95)
        t.kind = T_CANCEL;
    else {
        set_outcome(r, o, OUT_UNPAID);
        return;
    }
    /* Never sent (heap full, or due after the drain): left unpaid. */
    if (!schedule(r, &t))
        set_outcome(r, o, OUT_UNPAID);
}

static bool order_on_inbound(const run *r, const Shelfline__V1__PlaceOrderResponse *pr)
{
    if (r->o.backorder_inbound == NULL || pr->order == NULL)
        return false;
    for (size_t i = 0; i < pr->order->n_lines; i++)
        for (size_t j = 0; j < pr->order->lines[i]->n_allocations; j++) {
            const char *in = pr->order->lines[i]->allocations[j]->inbound_id;
            if (in != NULL && strcmp(in, r->o.backorder_inbound) == 0)
                return true;
        }
    return false;
}

static void do_place_order(worker *w, const task *t)
{
    run *r = w->r;
    int64_t ms;
    if (late(r, t, 3000, &ms))
        return;
    int32_t oi = atomic_fetch_add(&r->next_order, 1);
    if (oi >= r->norders_cap) {
        record_overload(r, C_PLACE_ORDER, t->due_ns);
        return;
    }
    order *o = &r->orders[oi];
    make_order(r, &w->rnd, o, t->kind == T_PLACE_BACKORDER);
    char id[96], cust[16], skus[3][48];
    Shelfline__V1__OrderLineRequest lines[3], *lp[3];
    for (int i = 0; i < o->nlines; i++) {
        shelfline__v1__order_line_request__init(&lines[i]);
        sku_name(r, o->sku[i], skus[i], sizeof skus[i]);
        lines[i].sku = skus[i];
        lines[i].qty = o->qty[i];
        if (o->promo[i] >= 0)
            lines[i].promotion_id = r->o.promos[o->promo[i]];
        lp[i] = &lines[i];
    }
    order_id(r, o, id, sizeof id);
    customer_id(o->customer, cust, sizeof cust);
    Shelfline__V1__PlaceOrderRequest q = SHELFLINE__V1__PLACE_ORDER_REQUEST__INIT;
    q.order_id = id;
    q.customer_id = cust;
    q.region = (char *)customer_region(r, o->customer);
    q.lines = lp;
    q.n_lines = o->nlines;
    q.allow_split = o->split;
    q.allow_backorder = o->kind == K_BACKORDER;
    ProtobufCMessage *resp = NULL;
    const uint8_t *details = NULL;
    size_t dlen = 0;
    sl_err err;
    sl_status st = call(sd_ch(r, &w->rnd), "/shelfline.v1.ServiceDeskService/PlaceOrder", &q.base,
                        &shelfline__v1__place_order_response__descriptor, w->a, &resp, ms, id,
                        &details, &dlen, &err);
    int64_t end = elapsed_ns(r);
    result_kind k = place_result(st, err.msg);
    record(r, C_PLACE_ORDER, t->due_ns, end, k, st, err.msg);
    if (k == R_BUSINESS) {
        pthread_mutex_lock(&r->smu);
        if (st == SL_FAILED_PRECONDITION)
            r->place_short++;
        else if (strstr(err.msg, "may have at most") != NULL)
            r->place_cap++;
        else
            r->place_promo_out++;
        pthread_mutex_unlock(&r->smu);
    }
    bool on_inbound = k == R_OK && order_on_inbound(r, (const void *)resp);
    pthread_mutex_lock(&r->amu);
    o->placed = k == R_OK ? PLACED_OK : k == R_BUSINESS ? PLACED_BUSINESS : PLACED_ERROR;
    o->on_inbound = on_inbound;
    if (k == R_OK)
        r->acked[r->nacked++] = oi;
    pthread_mutex_unlock(&r->amu);
    if (k == R_OK) {
        follow_order(w, oi, end);
    } else if (st == SL_FAILED_PRECONDITION) {
        maybe_subscribe(w, oi, details, dlen);
    }
}

static void do_confirm_or_cancel(worker *w, const task *t)
{
    run *r = w->r;
    order *o = &r->orders[t->order];
    char id[96];
    order_id(r, o, id, sizeof id);
    ProtobufCMessage *resp;
    sl_err err;
    sl_status st;
    bool confirm = t->kind == T_CONFIRM;
    int64_t ms;
    if (late(r, t, 3000, &ms)) {
        set_outcome(r, o, OUT_UNPAID); /* never sent: the hold expires */
        return;
    }
    if (confirm) {
        Shelfline__V1__ConfirmPaymentRequest q = SHELFLINE__V1__CONFIRM_PAYMENT_REQUEST__INIT;
        q.order_id = id;
        st = call(sd_ch(r, &w->rnd), "/shelfline.v1.ServiceDeskService/ConfirmPayment", &q.base,
                  &shelfline__v1__order__descriptor, w->a, &resp, ms, id, NULL, NULL, &err);
    } else {
        Shelfline__V1__CancelOrderRequest q = SHELFLINE__V1__CANCEL_ORDER_REQUEST__INIT;
        q.order_id = id;
        q.reason = "changed my mind";
        st = call(sd_ch(r, &w->rnd), "/shelfline.v1.ServiceDeskService/CancelOrder", &q.base,
                  &shelfline__v1__order__descriptor, w->a, &resp, ms, id, NULL, NULL, &err);
    }
    int64_t end = elapsed_ns(r);
    /* An expired hold (payment) or a paid order (cancellation) is the
     * customer's business, not the system's failure. */
    result_kind k = st == SL_OK ? R_OK : st == SL_FAILED_PRECONDITION ? R_BUSINESS : R_ERROR;
    record(r, confirm ? C_CONFIRM_PAYMENT : C_CANCEL_ORDER, t->due_ns, end, k, st, err.msg);
    if (!confirm) {
        set_outcome(r, o, st == SL_OK ? OUT_CANCELLED : OUT_CANCEL_FAILED);
        return;
    }
    set_outcome(r, o, st == SL_OK ? OUT_PAID : OUT_PAY_FAILED);
    if (st == SL_OK && o->kind != K_BACKORDER && rnd_unit(&w->rnd) < 0.01) {
        task f = {.due_ns = end + (int64_t)((0.5 + 2.5 * rnd_unit(&w->rnd)) * NS),
                  .kind = T_RETURN,
                  .order = t->order};
        schedule(r, &f);
    }
}

static void do_order_eta(worker *w, const task *t)
{
    run *r = w->r;
    int64_t ms;
    int32_t oi = pick_acked(r, &w->rnd);
    if (oi < 0 || late(r, t, 1000, &ms))
        return; /* oi < 0: nothing acknowledged yet, no agent would look */
    char id[96];
    order_id(r, &r->orders[oi], id, sizeof id);
    Shelfline__V1__GetOrderEtaRequest q = SHELFLINE__V1__GET_ORDER_ETA_REQUEST__INIT;
    q.order_id = id;
    ProtobufCMessage *resp;
    sl_err err;
    sl_status st =
        call(sd_ch(r, &w->rnd), "/shelfline.v1.ServiceDeskService/GetOrderEta", &q.base,
             &shelfline__v1__order_eta__descriptor, w->a, &resp, ms, NULL, NULL, NULL, &err);
    record(r, C_ORDER_ETA, t->due_ns, elapsed_ns(r), st == SL_OK ? R_OK : R_ERROR, st, err.msg);
}

static void do_ticket(worker *w, const task *t)
{
    run *r = w->r;
    int64_t ms;
    int32_t oi = pick_acked(r, &w->rnd);
    if (oi < 0 || late(r, t, 3000, &ms))
        return;
    const order *o = &r->orders[oi];
    char oid[96], tid[96], cust[16], body[200];
    order_id(r, o, oid, sizeof oid);
    customer_id(o->customer, cust, sizeof cust);
    snprintf(tid, sizeof tid, "%s-t-%d", r->o.run, atomic_fetch_add(&r->next_ticket, 1) + 1);
    snprintf(body, sizeof body,
             "Where is my order %s? It was supposed to arrive by now, please tell me when it "
             "will be delivered.",
             oid);
    Shelfline__V1__OpenTicketRequest q = SHELFLINE__V1__OPEN_TICKET_REQUEST__INIT;
    q.ticket_id = tid;
    q.customer_id = cust;
    q.order_id = oid;
    q.channel = (Shelfline__V1__TicketChannel)rnd_range(&w->rnd, 1, 4);
    q.subject = "Where is my order?";
    q.body = body;
    q.language = "en";
    ProtobufCMessage *resp;
    sl_err err;
    sl_status st = call(sd_ch(r, &w->rnd), "/shelfline.v1.ServiceDeskService/OpenTicket", &q.base,
                        &shelfline__v1__ticket__descriptor, w->a, &resp, ms, tid, NULL, NULL, &err);
    record(r, C_OPEN_TICKET, t->due_ns, elapsed_ns(r), st == SL_OK ? R_OK : R_ERROR, st, err.msg);
}

static void do_subscribe(worker *w, const task *t)
{
    run *r = w->r;
    int64_t ms;
    if (late(r, t, 3000, &ms))
        return;
    const order *o = &r->orders[t->order];
    char cust[16], sku[48];
    customer_id(o->customer, cust, sizeof cust);
    sku_name(r, t->sku, sku, sizeof sku);
    Shelfline__V1__SubscribeBackInStockRequest q =
        SHELFLINE__V1__SUBSCRIBE_BACK_IN_STOCK_REQUEST__INIT;
    q.customer_id = cust;
    q.sku = sku;
    q.region = (char *)customer_region(r, o->customer);
    ProtobufCMessage *resp;
    sl_err err;
    sl_status st =
        call(sd_ch(r, &w->rnd), "/shelfline.v1.ServiceDeskService/SubscribeBackInStock", &q.base,
             &shelfline__v1__subscription__descriptor, w->a, &resp, ms, NULL, NULL, NULL, &err);
    record(r, C_SUBSCRIBE, t->due_ns, elapsed_ns(r), st == SL_OK ? R_OK : R_ERROR, st, err.msg);
    if (st == SL_OK) {
        pthread_mutex_lock(&r->smu);
        r->subscriptions++;
        pthread_mutex_unlock(&r->smu);
    }
}

/* A return, as the warehouse and the customer drive it: shipped,
 * delivered, one unit returned, received resellable.  Each step is a call
 * of class returns whose latency runs from the previous step's end (the
 * first from the task's intended start); the flow stops at the first
 * failure. */
static void do_return(worker *w, const task *t)
{
    run *r = w->r;
    int64_t ms;
    if (late(r, t, 3000, &ms))
        return;
    order *o = &r->orders[t->order];
    char oid[96], rma[96], trk[96], sku[48];
    order_id(r, o, oid, sizeof oid);
    snprintf(rma, sizeof rma, "%s-r-%d", r->o.run, (int)o->num);
    snprintf(trk, sizeof trk, "TRK-%s-%d", r->o.run, (int)o->num);
    sku_name(r, o->sku[0], sku, sizeof sku);
    sl_channel *ch = sd_ch(r, &w->rnd);
    int64_t due = t->due_ns;
    ProtobufCMessage *resp;
    sl_err err;
    sl_status st;
    for (int step = 0; step < 4; step++) {
        Shelfline__V1__UpdateShipmentRequest us = SHELFLINE__V1__UPDATE_SHIPMENT_REQUEST__INIT;
        Shelfline__V1__ReturnLine rl = SHELFLINE__V1__RETURN_LINE__INIT;
        Shelfline__V1__ReturnLine *rlp[1] = {&rl};
        Shelfline__V1__CreateReturnRequest cr = SHELFLINE__V1__CREATE_RETURN_REQUEST__INIT;
        Shelfline__V1__ReceiveReturnRequest rr = SHELFLINE__V1__RECEIVE_RETURN_REQUEST__INIT;
        us.order_id = oid;
        if (step == 0) {
            us.step = SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_SHIPPED;
            us.carrier = "UPS";
            us.tracking = trk;
        } else {
            us.step = SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_DELIVERED;
        }
        if (step < 2) {
            st = call(ch, "/shelfline.v1.ServiceDeskService/UpdateShipment", &us.base,
                      &shelfline__v1__order__descriptor, w->a, &resp, ms, oid, NULL, NULL, &err);
        } else if (step == 2) {
            rl.sku = sku;
            rl.qty = 1;
            cr.rma_id = rma;
            cr.order_id = oid;
            cr.lines = rlp;
            cr.n_lines = 1;
            cr.reason = "did not fit";
            st = call(ch, "/shelfline.v1.ServiceDeskService/CreateReturn", &cr.base,
                      &shelfline__v1__return__descriptor, w->a, &resp, ms, rma, NULL, NULL, &err);
        } else {
            rr.rma_id = rma;
            rr.condition = SHELFLINE__V1__RETURN_CONDITION__RETURN_RESELLABLE;
            st = call(ch, "/shelfline.v1.ServiceDeskService/ReceiveReturn", &rr.base,
                      &shelfline__v1__return__descriptor, w->a, &resp, ms, rma, NULL, NULL, &err);
        }
        int64_t end = elapsed_ns(r);
        record(r, C_RETURNS, due, end, st == SL_OK ? R_OK : R_ERROR, st, err.msg);
        sl_arena_reset(w->a);
        if (st != SL_OK)
            return;
        due = end;
        ms = 3000; /* the next step is a new call, its own deadline */
    }
    o->returned = true;
    pthread_mutex_lock(&r->smu);
    r->returns_received++;
    pthread_mutex_unlock(&r->smu);
}

static void *worker_main(void *p)
{
    worker *w = p;
    task t;
    while (dequeue(w->r, &t)) {
        switch (t.kind) {
        case T_AVAILABILITY:
            do_availability(w, &t);
            break;
        case T_QUOTE_ETA:
            do_quote_eta(w, &t);
            break;
        case T_PLACE_ORDER:
        case T_PLACE_BACKORDER:
            do_place_order(w, &t);
            break;
        case T_CONFIRM:
        case T_CANCEL:
            do_confirm_or_cancel(w, &t);
            break;
        case T_ORDER_ETA:
            do_order_eta(w, &t);
            break;
        case T_TICKET:
            do_ticket(w, &t);
            break;
        case T_SUBSCRIBE:
            do_subscribe(w, &t);
            break;
        case T_RETURN:
            do_return(w, &t);
            break;
        }
        sl_arena_reset(w->a);
    }
    return NULL;
}

/* ---- the schedule ---- */

/* The next arrival after from_ns of a Poisson process whose rate is
 * mult x the phase's order rate, piecewise constant over the phases: an
 * exponential gap at the current phase's rate, and when it would cross
 * the phase's end, a fresh draw from the end at the next rate (the process
 * is memoryless, so this is exact).  INT64_MAX after the last phase. */
static int64_t next_arrival(const run *r, double mult, int64_t from_ns, uint64_t *rnd)
{
    for (int p = phase_at(r, from_ns); p < r->o.nphases; p++) {
        const phase *ph = &r->o.phases[p];
        if (from_ns < ph->start_ns)
            from_ns = ph->start_ns;
        double rate = mult * ph->rate;
        if (rate > 0) {
            double gap = -log(1.0 - rnd_unit(rnd)) / rate;
            int64_t at = from_ns + (int64_t)(gap * NS);
            if (at < ph->end_ns)
                return at;
        }
        from_ns = ph->end_ns;
    }
    return INT64_MAX;
}

static task_kind class_task(call_class c)
{
    switch (c) {
    case C_AVAILABILITY:
        return T_AVAILABILITY;
    case C_QUOTE_ETA:
        return T_QUOTE_ETA;
    case C_PLACE_ORDER:
        return T_PLACE_ORDER;
    case C_ORDER_ETA:
        return T_ORDER_ETA;
    case C_OPEN_TICKET:
        return T_TICKET;
    case C_CONFIRM_PAYMENT:
    case C_CANCEL_ORDER:
    case C_SUBSCRIBE:
    case C_RETURNS:
    case NCLASS:
        break;
    }
    return T_AVAILABILITY;
}

/* The scheduler: merges the Poisson arrivals of every class with the due
 * follow-ups, in intended-time order, sleeping until each is due (at most
 * 20 ms at a time, so follow-ups added meanwhile are never late by more).
 * Ends at the drain's end. */
static void *scheduler_main(void *p)
{
    run *r = p;
    uint64_t rnd = r->o.seed ^ 0x5C4EDULL;
    int64_t next[NCLASS];
    for (int c = 0; c < NCLASS; c++)
        next[c] = class_mult[c] > 0 ? next_arrival(r, class_mult[c], 0, &rnd) : INT64_MAX;
    for (;;) {
        int64_t now = elapsed_ns(r);
        if (now >= r->drain_end_ns)
            break;
        task t;
        bool any = false;
        while (heap_pop_due(r, now, &t)) {
            /* A payment or cancellation never sent leaves the order unpaid. */
            if (!enqueue(r, &t) && (t.kind == T_CONFIRM || t.kind == T_CANCEL))
                set_outcome(r, &r->orders[t.order], OUT_UNPAID);
            any = true;
        }
        int best = -1;
        for (int c = 0; c < NCLASS; c++)
            if (next[c] != INT64_MAX && (best < 0 || next[c] < next[best]))
                best = c;
        if (best >= 0 && next[best] <= now) {
            t = (task){.due_ns = next[best], .kind = class_task(best), .order = -1};
            if (atomic_fetch_add(&r->calls_started, 1) < r->o.max_calls) {
                pthread_mutex_lock(&r->smu);
                r->phase_sched[phase_at(r, t.due_ns)]++;
                pthread_mutex_unlock(&r->smu);
                enqueue(r, &t);
            } else {
                r->max_calls_hit = true;
            }
            next[best] = next_arrival(r, class_mult[best], next[best], &rnd);
            continue;
        }
        if (any)
            continue;
        int64_t wake = now + 20 * 1000000LL;
        if (best >= 0 && next[best] < wake)
            wake = next[best];
        sleep_until(r, wake);
    }
    return NULL;
}

/* ---- scenarios ---- */

static void scenario_error(run *r, int which, const char *what, sl_status st, const sl_err *err)
{
    pthread_mutex_lock(&r->emu);
    if (r->scenario_err[which][0] == '\0')
        snprintf(r->scenario_err[which], sizeof r->scenario_err[which], "%s: %s: %.200s", what,
                 sl_status_name(st), err->msg);
    pthread_mutex_unlock(&r->emu);
}

/* The first warehouse holding sku (GetStock), else the first serving
 * region (GetAvailability); false when neither names one. */
static bool find_warehouse(run *r, sl_arena *a, const char *sku, const char *region, char *out,
                           size_t len, sl_err *err)
{
    ProtobufCMessage *resp;
    uint64_t rnd = 1;
    Shelfline__V1__GetAvailabilityRequest q = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
    char *skus[1] = {(char *)sku};
    q.skus = skus;
    q.n_skus = 1;
    q.region = (char *)region;
    if (region != NULL && call(inv_ch(r, &rnd), "/shelfline.v1.InventoryService/GetAvailability",
                               &q.base, &shelfline__v1__get_availability_response__descriptor, a,
                               &resp, 3000, NULL, NULL, NULL, err) == SL_OK) {
        const Shelfline__V1__GetAvailabilityResponse *ar = (const void *)resp;
        if (ar->n_items > 0 && ar->items[0]->n_warehouses > 0) {
            snprintf(out, len, "%s", ar->items[0]->warehouses[0]->warehouse_id);
            return true;
        }
    }
    Shelfline__V1__GetStockRequest g = SHELFLINE__V1__GET_STOCK_REQUEST__INIT;
    g.sku = (char *)sku;
    if (call(inv_ch(r, &rnd), "/shelfline.v1.InventoryService/GetStock", &g.base,
             &shelfline__v1__get_stock_response__descriptor, a, &resp, 3000, NULL, NULL, NULL,
             err) != SL_OK)
        return false;
    const Shelfline__V1__GetStockResponse *gr = (const void *)resp;
    if (gr->n_levels == 0) {
        sl_err_set(err, SL_NOT_FOUND, "no warehouse holds \"%s\"", sku);
        return false;
    }
    snprintf(out, len, "%s", gr->levels[0]->warehouse_id);
    return true;
}

static sl_status receipt(run *r, sl_arena *a, const char *request_id, const char *sku,
                         const char *wh, int64_t delta, sl_err *err)
{
    uint64_t rnd = 2;
    Shelfline__V1__AdjustStockRequest q = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
    q.request_id = (char *)request_id;
    q.sku = (char *)sku;
    q.warehouse_id = (char *)wh;
    q.delta = delta;
    q.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT;
    q.reference = "peak day";
    ProtobufCMessage *resp;
    return call(inv_ch(r, &rnd), "/shelfline.v1.InventoryService/AdjustStock", &q.base,
                &shelfline__v1__adjust_stock_response__descriptor, a, &resp, 3000, request_id, NULL,
                NULL, err);
}

static int64_t surge_at(const run *r, double frac)
{
    const phase *s = &r->o.phases[r->surge];
    return s->start_ns + (int64_t)((double)(s->end_ns - s->start_ns) * frac);
}

static void *restock_main(void *p)
{
    run *r = p;
    sl_arena *a = sl_arena_create(64 * 1024);
    if (a == NULL)
        return NULL;
    sleep_until(r, surge_at(r, (double)r->o.restock_at_pct / 100));
    char wh[96], rid[128];
    sl_err err;
    sl_status st = SL_NOT_FOUND;
    snprintf(rid, sizeof rid, "%s-restock", r->o.run);
    if (find_warehouse(r, a, r->o.restock_sku, NULL, wh, sizeof wh, &err))
        st = receipt(r, a, rid, r->o.restock_sku, wh, 50, &err);
    if (st == SL_OK) {
        r->restock_at_s = (double)elapsed_ns(r) / NS;
        r->restock_done = true;
        event(r, "restock", r->o.restock_sku);
    } else {
        scenario_error(r, 1, "restock", err.status, &err);
    }
    sl_arena_destroy(a);
    return NULL;
}

/* Reads every notification after *cursor (pages of 1,000, at most 100
 * pages a call), counting DELAY notices of this run's backorder orders per
 * order in counts.  Returns the status of the last page read. */
static sl_status read_notices(run *r, sl_arena *a, int64_t *cursor, uint16_t *counts, long nbo,
                              bool count, sl_err *err)
{
    char prefix[96];
    int plen = snprintf(prefix, sizeof prefix, "%s-b-", r->o.run);
    uint64_t rnd = 3;
    for (int page = 0; page < 100; page++) {
        Shelfline__V1__ListNotificationsRequest q = SHELFLINE__V1__LIST_NOTIFICATIONS_REQUEST__INIT;
        q.after_id = *cursor;
        q.limit = 1000;
        ProtobufCMessage *resp;
        sl_status st = call(sd_ch(r, &rnd), "/shelfline.v1.ServiceDeskService/ListNotifications",
                            &q.base, &shelfline__v1__list_notifications_response__descriptor, a,
                            &resp, 2000, NULL, NULL, NULL, err);
        if (st != SL_OK)
            return st;
        const Shelfline__V1__ListNotificationsResponse *lr = (const void *)resp;
        for (size_t i = 0; i < lr->n_notifications; i++) {
            const Shelfline__V1__Notification *n = lr->notifications[i];
            if (n->notification_id > *cursor)
                *cursor = n->notification_id;
            if (!count || n->kind != SHELFLINE__V1__NOTIFICATION_KIND__NOTIFICATION_DELAY ||
                n->order_id == NULL || strncmp(n->order_id, prefix, (size_t)plen) != 0)
                continue;
            char *end;
            long k = strtol(n->order_id + plen, &end, 10);
            if (*end == '\0' && k >= 1 && k <= nbo && counts[k - 1] < UINT16_MAX)
                counts[k - 1]++;
        }
        bool last = lr->n_notifications < 1000;
        sl_arena_reset(a);
        if (last)
            break;
    }
    return SL_OK;
}

/* The inbound delay, at --delay-at percent of the surge (a third):
 *  1. skip past every notification already there (the cursor);
 *  2. note the backorder orders waiting on the inbound (acknowledged on
 *     it, not failed at payment): each is owed one delay notice;
 *  3. DelayInbound by 3 days (from its current expected time);
 *  4. poll ListNotifications every 20 ms until each owed order has its
 *     notice or DELAY_WAIT_S pass: the time from DelayInbound's answer to
 *     the poll that saw the last one is delay_notice_last_ms;
 *  5. keep reading every 500 ms until the schedule ends, counting notices
 *     and duplicates (more than one per order) that come late. */
static void *delay_main(void *p)
{
    run *r = p;
    long nbo = r->o.backorder_orders;
    sl_arena *a = sl_arena_create(256 * 1024);
    uint16_t *counts = calloc((size_t)nbo + 1, sizeof *counts);
    bool *owed = calloc((size_t)nbo + 1, sizeof *owed);
    uint64_t rnd = 4;
    sl_err err;
    sl_status st;
    int64_t cursor = 0;
    if (a == NULL || counts == NULL || owed == NULL)
        goto cleanup;
    sleep_until(r, surge_at(r, (double)r->o.delay_at_pct / 100));
    if ((st = read_notices(r, a, &cursor, counts, nbo, false, &err)) != SL_OK) {
        scenario_error(r, 0, "reading notifications", st, &err);
        goto cleanup;
    }
    int32_t n = atomic_load(&r->next_order);
    pthread_mutex_lock(&r->amu);
    for (int32_t i = 0; i < n && i < r->norders_cap; i++) {
        const order *o = &r->orders[i];
        if (o->kind == K_BACKORDER && o->placed == PLACED_OK && o->on_inbound &&
            o->outcome != OUT_PAY_FAILED && o->num >= 1 && o->num <= nbo) {
            owed[o->num - 1] = true;
            r->delay_orders++;
        }
    }
    pthread_mutex_unlock(&r->amu);
    ProtobufCMessage *resp;
    Shelfline__V1__GetInboundRequest gq = SHELFLINE__V1__GET_INBOUND_REQUEST__INIT;
    gq.inbound_id = (char *)r->o.backorder_inbound;
    st = call(inv_ch(r, &rnd), "/shelfline.v1.InventoryService/GetInbound", &gq.base,
              &shelfline__v1__inbound__descriptor, a, &resp, 3000, NULL, NULL, NULL, &err);
    if (st != SL_OK) {
        scenario_error(r, 0, "GetInbound", st, &err);
        goto cleanup;
    }
    Shelfline__V1__DelayInboundRequest dq = SHELFLINE__V1__DELAY_INBOUND_REQUEST__INIT;
    dq.inbound_id = (char *)r->o.backorder_inbound;
    dq.new_expected_at_ms =
        ((const Shelfline__V1__Inbound *)resp)->expected_at_ms + 3 * 24 * 3600 * 1000LL;
    dq.reason = "carrier capacity on peak day: the truck leaves three days later";
    st = call(inv_ch(r, &rnd), "/shelfline.v1.InventoryService/DelayInbound", &dq.base,
              &shelfline__v1__inbound__descriptor, a, &resp, 3000, NULL, NULL, NULL, &err);
    if (st != SL_OK) {
        scenario_error(r, 0, "DelayInbound", st, &err);
        goto cleanup;
    }
    int64_t t_ans = elapsed_ns(r);
    r->delay_done = true;
    event(r, "delay", r->o.backorder_inbound);
    sl_arena_reset(a);
    int64_t give_up = t_ans + DELAY_WAIT_S * NS;
    for (long polls = 0; polls < 1000000; polls++) {
        int64_t now = elapsed_ns(r);
        bool waiting = !r->delay_complete && now < give_up;
        if (!waiting && now >= r->sched_end_ns)
            break;
        if ((st = read_notices(r, a, &cursor, counts, nbo, true, &err)) != SL_OK)
            scenario_error(r, 0, "ListNotifications", st, &err);
        long seen = 0;
        for (long k = 0; k < nbo; k++)
            seen += owed[k] && counts[k] > 0;
        if (!r->delay_complete && seen > r->delay_seen)
            r->delay_last_ms = (double)(elapsed_ns(r) - t_ans) / 1e6;
        r->delay_seen = seen;
        if (!r->delay_complete && seen == r->delay_orders) {
            r->delay_complete = true;
            event(r, "delay notices complete for", r->o.backorder_inbound);
        }
        sleep_until(r, now + (waiting ? 20 : 500) * 1000000LL);
    }
    for (long k = 0; k < nbo; k++) {
        r->delay_notices += counts[k];
        r->delay_dups += counts[k] > 1 ? counts[k] - 1 : 0;
    }
cleanup:
    free(counts);
    free(owed);
    sl_arena_destroy(a);
    return NULL;
}

/* Whether service-desk's QuoteEta shows sku in stock in the probe region. */
static sl_status quote_in_stock(run *r, sl_arena *a, char *sku, bool *in_stock, sl_err *err)
{
    uint64_t rnd = 5;
    char *skus[1] = {sku};
    Shelfline__V1__QuoteEtaRequest q = SHELFLINE__V1__QUOTE_ETA_REQUEST__INIT;
    q.region = (char *)r->o.vis_region;
    q.skus = skus;
    q.n_skus = 1;
    ProtobufCMessage *resp = NULL;
    sl_status st =
        call(sd_ch(r, &rnd), "/shelfline.v1.ServiceDeskService/QuoteEta", &q.base,
             &shelfline__v1__quote_eta_response__descriptor, a, &resp, 1000, NULL, NULL, NULL, err);
    const Shelfline__V1__QuoteEtaResponse *qr = (const void *)resp;
    *in_stock = st == SL_OK && qr->n_quotes > 0 &&
                qr->quotes[0]->status == SHELFLINE__V1__QUOTE_STATUS__QUOTE_IN_STOCK;
    sl_arena_reset(a);
    return st;
}

/* One visibility probe:
 *  1. the SKU must not be in stock yet (else the probe would measure
 *     nothing: it fails);
 *  2. +5 units into a warehouse serving the region (AdjustStock RECEIPT);
 *  3. QuoteEta every 10 ms until it says IN_STOCK, at most VIS_WAIT_MS.
 * Returns the lag from AdjustStock's answer in ms, or -1. */
static double probe(run *r, sl_arena *a, long i, char *wh, size_t whlen)
{
    char sku[96], rid[128];
    snprintf(sku, sizeof sku, "%s%0*ld", r->o.vis_stem, r->o.vis_width, r->o.vis_first + i);
    snprintf(rid, sizeof rid, "%s-vis-%ld", r->o.run, i + 1);
    sl_err err;
    sl_status st;
    bool in_stock;
    if ((st = quote_in_stock(r, a, sku, &in_stock, &err)) != SL_OK || in_stock) {
        if (in_stock)
            sl_err_set(&err, SL_FAILED_PRECONDITION, "\"%s\" was in stock before the probe", sku);
        scenario_error(r, 2, "visibility QuoteEta before", err.status, &err);
        return -1;
    }
    if (wh[0] == '\0' && !find_warehouse(r, a, sku, r->o.vis_region, wh, whlen, &err)) {
        scenario_error(r, 2, "visibility warehouse", err.status, &err);
        return -1;
    }
    if ((st = receipt(r, a, rid, sku, wh, 5, &err)) != SL_OK) {
        scenario_error(r, 2, "visibility AdjustStock", st, &err);
        return -1;
    }
    sl_arena_reset(a);
    int64_t t_ans = elapsed_ns(r);
    for (int k = 0; k < VIS_WAIT_MS / 10; k++) {
        int64_t sent = elapsed_ns(r);
        st = quote_in_stock(r, a, sku, &in_stock, &err);
        int64_t now = elapsed_ns(r);
        if (in_stock)
            return (double)(now - t_ans) / 1e6;
        if (st != SL_OK)
            scenario_error(r, 2, "visibility QuoteEta", st, &err);
        if (now - t_ans > (int64_t)VIS_WAIT_MS * 1000000)
            break;
        sleep_until(r, sent + 10 * 1000000LL);
    }
    return -1;
}

static void *visibility_main(void *p)
{
    run *r = p;
    sl_arena *a = sl_arena_create(64 * 1024);
    char wh[96] = "";
    for (long i = 0; a != NULL && i < r->o.vis_probes; i++) {
        sleep_until(r, surge_at(r, (i + 0.5) / (double)r->o.vis_probes));
        double lag = probe(r, a, i, wh, sizeof wh);
        r->vis[i] = (vis_result){.lag_ms = lag, .ok = lag >= 0};
        r->nvis = i + 1;
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return NULL;
}

/* ---- output ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static FILE *open_out(const run *r, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", r->o.out, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        fprintf(stderr, "peak_load: could not open \"%s\": %s\n", path, strerror(errno));
    return f;
}

/* calls.csv: t_s,class,started,ok,business,errors,p50_ms,p99_ms,max_ms --
 * one row per second (of intended start) per class with any call. */
static bool write_calls(const run *r)
{
    FILE *f = open_out(r, "calls.csv");
    if (f == NULL)
        return false;
    fprintf(f, "t_s,class,started,ok,business,errors,p50_ms,p99_ms,max_ms\n");
    for (int64_t s = 0; s < r->nsec; s++)
        for (int c = 0; c < NCLASS; c++) {
            const cell *ce = &r->cells[s * NCLASS + c];
            uint32_t n = ce->ok + ce->business + ce->errors;
            if (n == 0)
                continue;
            fprintf(f, "%" PRId64 ",%s,%u,%u,%u,%u,%.3f,%.3f,%.3f\n", s, class_name[c], n, ce->ok,
                    ce->business, ce->errors, hist_quantile_ms(ce->h, 0.50),
                    hist_quantile_ms(ce->h, 0.99), ce->h ? ce->h->max_us / 1000.0 : 0.0);
        }
    return fclose(f) == 0;
}

/* orders.csv: order_id,customer_id,kind,lines,placed,outcome -- one row per
 * PlaceOrder attempted; lines are sku:qty:promo joined by ';'. */
static bool write_orders(const run *r)
{
    static const char *const kinds[] = {"tail", "hot", "backorder"};
    static const char *const placed[] = {"none", "ok", "business", "error"};
    static const char *const outcomes[] = {"none",   "paid",       "cancelled",
                                           "unpaid", "pay_failed", "cancel_failed"};
    FILE *f = open_out(r, "orders.csv");
    if (f == NULL)
        return false;
    fprintf(f, "order_id,customer_id,kind,lines,placed,outcome\n");
    int32_t n = atomic_load(&r->next_order);
    for (int32_t i = 0; i < n && i < r->norders_cap; i++) {
        const order *o = &r->orders[i];
        if (o->placed == PLACED_NONE)
            continue;
        char id[96], cust[16], sku[48];
        order_id(r, o, id, sizeof id);
        customer_id(o->customer, cust, sizeof cust);
        fprintf(f, "%s,%s,%s,", id, cust, kinds[o->kind]);
        for (int l = 0; l < o->nlines; l++) {
            sku_name(r, o->sku[l], sku, sizeof sku);
            fprintf(f, "%s%s:%u:%s", l ? ";" : "", sku, o->qty[l],
                    o->promo[l] >= 0 ? r->o.promos[o->promo[l]] : "");
        }
        fprintf(f, ",%s,%s\n", placed[o->placed], outcomes[o->outcome]);
    }
    return fclose(f) == 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* p50, p99 and max of the successful visibility probes; -1 when none. */
static void vis_stats(const run *r, double out[3], long *failed)
{
    double *v = calloc((size_t)r->nvis + 1, sizeof *v);
    long n = 0;
    *failed = 0;
    for (long i = 0; v != NULL && i < r->nvis; i++) {
        if (r->vis[i].ok)
            v[n++] = r->vis[i].lag_ms;
        else
            (*failed)++;
    }
    out[0] = out[1] = out[2] = -1;
    if (n > 0) {
        qsort(v, (size_t)n, sizeof *v, cmp_double);
        out[0] = v[(n - 1) / 2];
        out[1] = v[(long)ceil(0.99 * (double)n) - 1];
        out[2] = v[n - 1];
    }
    free(v);
}

static void write_phases(FILE *f, const run *r)
{
    fprintf(f, "  \"phases\": [\n");
    for (int p = 0; p < r->o.nphases; p++) {
        const phase *ph = &r->o.phases[p];
        double intended = 0;
        uint64_t done = 0;
        for (int c = 0; c < NCLASS; c++) {
            intended += class_mult[c] * ph->rate;
            done += r->phase_calls[p][c];
        }
        fprintf(f, "    {\"name\": ");
        json_str(f, ph->name);
        /* intended: the profile's arrival rate (every Poisson class);
         * scheduled: the arrivals drawn; overload: arrivals not queued;
         * completed: calls finished, follow-ups included; orders: PlaceOrder
         * calls finished (backorder orders included) against order_rate. */
        fprintf(f,
                ", \"start_s\": %.3f, \"seconds\": %.3f, \"order_rate\": %.3f, "
                "\"achieved_orders_per_s\": %.3f,\n     \"intended_arrivals_per_s\": %.3f, "
                "\"scheduled_arrivals_per_s\": %.3f, \"client_overload_per_s\": %.3f, "
                "\"completed_calls_per_s\": %.3f,\n     \"classes\": {",
                (double)ph->start_ns / NS, ph->seconds, ph->rate,
                (double)r->phase_calls[p][C_PLACE_ORDER] / ph->seconds, intended,
                (double)r->phase_sched[p] / ph->seconds, (double)r->phase_overload[p] / ph->seconds,
                (double)done / ph->seconds);
        bool first = true;
        for (int c = 0; c < NCLASS; c++) {
            const hist *h = &r->phase_hist[p][c];
            if (r->phase_calls[p][c] == 0)
                continue;
            fprintf(f,
                    "%s\n       \"%s\": {\"calls\": %" PRIu64 ", \"p50_ms\": %.3f, "
                    "\"p99_ms\": %.3f, \"max_ms\": %.3f}",
                    first ? "" : ",", class_name[c], r->phase_calls[p][c],
                    hist_quantile_ms(h, 0.50), hist_quantile_ms(h, 0.99), h->max_us / 1000.0);
            first = false;
        }
        fprintf(f, "}}%s\n", p + 1 < r->o.nphases ? "," : "");
    }
    fprintf(f, "  ],\n");
}

static void write_classes(FILE *f, const run *r)
{
    fprintf(f, "  \"classes\": {");
    for (int c = 0; c < NCLASS; c++) {
        const uint64_t *t = r->tot[c];
        fprintf(f,
                "%s\n    \"%s\": {\"started\": %" PRIu64 ", \"ok\": %" PRIu64
                ", \"business\": %" PRIu64 ", \"errors\": %" PRIu64
                ", \"client_overload\": %" PRIu64 ", \"first_errors\": [",
                c ? "," : "", class_name[c], t[0] + t[1] + t[2], t[0], t[1], t[2], t[3]);
        for (int e = 0; e < r->nerrs[c]; e++) {
            fprintf(f, "%s{\"t_s\": %.3f, \"msg\": ", e ? ", " : "", r->errs[c][e].t_s);
            json_str(f, r->errs[c][e].msg);
            fputc('}', f);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "\n  },\n");
}

/* summary.json: see the keys below; times in ms unless named _s; -1 for a
 * figure that could not be measured (scenario not run or failed). */
static bool write_summary(const run *r, double duration_s)
{
    FILE *f = open_out(r, "summary.json");
    if (f == NULL)
        return false;
    double vis[3];
    long vis_failed;
    vis_stats(r, vis, &vis_failed);
    fprintf(f, "{\n  \"run\": ");
    json_str(f, r->o.run);
    fprintf(f, ",\n  \"duration_s\": %.3f,\n  \"threads\": %ld,\n  \"max_calls_reached\": %s,\n",
            duration_s, r->o.threads, r->max_calls_hit ? "true" : "false");
    write_classes(f, r);
    write_phases(f, r);
    fprintf(f,
            "  \"delay_done\": %s,\n  \"delay_complete\": %s,\n  \"delay_notice_last_ms\": %.3f,\n"
            "  \"delay_orders\": %ld,\n  \"delay_orders_notified\": %ld,\n"
            "  \"delay_notices\": %ld,\n  \"delay_duplicates\": %ld,\n",
            r->delay_done ? "true" : "false", r->delay_complete ? "true" : "false",
            r->delay_done ? r->delay_last_ms : -1.0, r->delay_orders, r->delay_seen,
            r->delay_notices, r->delay_dups);
    fprintf(f, "  \"restock_at_s\": %.3f,\n", r->restock_done ? r->restock_at_s : -1.0);
    fprintf(f,
            "  \"visibility_probes\": %ld,\n  \"visibility_failed\": %ld,\n"
            "  \"visibility_p50_ms\": %.3f,\n  \"visibility_p99_ms\": %.3f,\n"
            "  \"visibility_max_ms\": %.3f,\n",
            r->nvis, vis_failed, vis[0], vis[1], vis[2]);
    fprintf(f, "  \"subscriptions\": %ld,\n  \"returns_received\": %ld,\n", r->subscriptions,
            r->returns_received);
    fprintf(f,
            "  \"place_order_business\": {\"stock_short\": %ld, \"promotion_sold_out\": %ld, "
            "\"promotion_cap\": %ld},\n",
            r->place_short, r->place_promo_out, r->place_cap);
    fprintf(f, "  \"scenario_errors\": {\"delay\": ");
    json_str(f, r->scenario_err[0]);
    fprintf(f, ", \"restock\": ");
    json_str(f, r->scenario_err[1]);
    fprintf(f, ", \"visibility\": ");
    json_str(f, r->scenario_err[2]);
    fprintf(f, "}\n}\n");
    return fclose(f) == 0;
}

static void print_summary(const run *r, double duration_s)
{
    printf("peak_load: run %s, %.1f s\n", r->o.run, duration_s);
    printf("  %-16s %9s %9s %9s %7s %8s %9s %9s\n", "class", "calls", "ok", "business", "errors",
           "overload", "p50_ms", "p99_ms");
    int sp = r->surge;
    for (int c = 0; c < NCLASS; c++) {
        const uint64_t *t = r->tot[c];
        printf("  %-16s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %7" PRIu64 " %8" PRIu64
               " %9.2f %9.2f\n",
               class_name[c], t[0] + t[1] + t[2], t[0], t[1], t[2], t[3],
               hist_quantile_ms(&r->phase_hist[sp][c], 0.5),
               hist_quantile_ms(&r->phase_hist[sp][c], 0.99));
    }
    printf("  (percentiles: phase \"%s\")\n", r->o.phases[sp].name);
    double vis[3];
    long vf;
    vis_stats(r, vis, &vf);
    if (r->delay_done)
        printf("  delay: %ld orders owed a notice, %ld notified%s, last notice after %.0f ms; "
               "%ld notices, %ld duplicates\n",
               r->delay_orders, r->delay_seen, r->delay_complete ? "" : " (INCOMPLETE)",
               r->delay_last_ms, r->delay_notices, r->delay_dups);
    else
        printf("  delay: not done\n");
    if (r->restock_done)
        printf("  restock at %.1f s\n", r->restock_at_s);
    else
        printf("  restock: not done\n");
    printf("  visibility: %ld probes, %ld failed; p50 %.1f p99 %.1f max %.1f ms\n", r->nvis, vf,
           vis[0], vis[1], vis[2]);
    uint64_t overload = 0;
    for (int c = 0; c < NCLASS; c++)
        overload += r->tot[c][3];
    if (overload > 0)
        printf("  warning: %" PRIu64
               " arrivals not sent (client_overload): more --threads needed\n",
               overload);
    for (int i = 0; i < 3; i++)
        if (r->scenario_err[i][0] != '\0')
            printf("  scenario error: %s\n", r->scenario_err[i]);
    if (r->max_calls_hit)
        printf("  warning: --max-calls reached, the schedule was cut short\n");
}

/* ---- command line ---- */

static void usage(void)
{
    fprintf(stderr,
            "usage: peak_load run --inventory T --service-desk T [--customer-value T]\n"
            "         [--forecasting T] --phases NAME:SECONDS:ORDERS_PER_S,...\n"
            "         --run RUNID --out DIR [--skus N] [--customers N] [--hot-customers N]\n"
            "         [--regions R1,R2,...] [--hot SKU,...] [--promos PROMO,...]\n"
            "         [--backorder-sku SKU --backorder-inbound ID] [--backorder-orders N]\n"
            "         [--backorder-region R]\n"
            "         [--restock-sku SKU] [--visibility-skus FIRST] [--visibility-probes N]\n"
            "         [--visibility-region R] [--threads N] [--channels N] [--max-calls N]\n"
            "         [--delay-at PERCENT_OF_SURGE] [--restock-at PERCENT_OF_SURGE] [--seed N]\n"
            "       peak_load check --inventory T\n"
            "T is a gRPC target, e.g. ipv4:127.0.0.1:50051,127.0.0.1:50151\n");
}

static bool parse_long(const char *flag, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
        fprintf(stderr, "peak_load: %s must be an integer in %ld..%ld (got \"%s\")\n", flag, lo, hi,
                v);
        return false;
    }
    *out = n;
    return true;
}

/* Splits a comma list (copied into buf) into out; false when empty, too
 * long or with too many items. */
static bool parse_list(const char *flag, const char *v, char *buf, size_t len, char **out, int *n)
{
    if ((size_t)snprintf(buf, len, "%s", v) >= len) {
        fprintf(stderr, "peak_load: %s is too long\n", flag);
        return false;
    }
    *n = 0;
    for (char *p = buf; p != NULL;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (*p == '\0' || *n == MAX_NAMED) {
            fprintf(stderr, "peak_load: %s must be 1..%d non-empty names (got \"%s\")\n", flag,
                    MAX_NAMED, v);
            return false;
        }
        out[(*n)++] = p;
        p = comma != NULL ? comma + 1 : NULL;
    }
    return true;
}

/* --phases name:seconds:rate,... */
static bool parse_phases(const char *v, opts *o)
{
    const char *p = v;
    o->nphases = 0;
    int64_t at = 0;
    while (*p != '\0') {
        if (o->nphases == MAX_PHASES)
            goto bad;
        phase *ph = &o->phases[o->nphases];
        const char *c1 = strchr(p, ':');
        if (c1 == NULL || c1 == p || (size_t)(c1 - p) >= sizeof ph->name)
            goto bad;
        snprintf(ph->name, sizeof ph->name, "%.*s", (int)(c1 - p), p);
        char *end;
        ph->seconds = strtod(c1 + 1, &end);
        if (*end != ':' || !(ph->seconds > 0 && ph->seconds <= 86400))
            goto bad;
        ph->rate = strtod(end + 1, &end);
        if ((*end != ',' && *end != '\0') || !(ph->rate >= 0 && ph->rate <= 100000))
            goto bad;
        ph->start_ns = at;
        at += (int64_t)(ph->seconds * NS);
        ph->end_ns = at;
        o->nphases++;
        p = *end == ',' ? end + 1 : end;
    }
    if (o->nphases > 0)
        return true;
bad:
    fprintf(stderr,
            "peak_load: --phases must be NAME:SECONDS:ORDERS_PER_S,... with 1..%d phases, "
            "0 < SECONDS <= 86400 and 0 <= ORDERS_PER_S <= 100000 (got \"%s\")\n",
            MAX_PHASES, v);
    return false;
}

/* One flag and its value; false (after a message) when either is bad. */
static bool parse_flag(opts *o, const char *k, const char *v)
{
    long n;
    const struct {
        const char *flag;
        const char **dst;
    } strs[] = {{"--inventory", &o->inventory},
                {"--service-desk", &o->service_desk},
                {"--customer-value", &o->customer_value},
                {"--forecasting", &o->forecasting},
                {"--backorder-sku", &o->backorder_sku},
                {"--backorder-inbound", &o->backorder_inbound},
                {"--backorder-region", &o->backorder_region},
                {"--restock-sku", &o->restock_sku},
                {"--visibility-skus", &o->vis_prefix},
                {"--visibility-region", &o->vis_region},
                {"--run", &o->run},
                {"--out", &o->out}};
    const struct {
        const char *flag;
        long *dst, lo, hi;
    } nums[] = {{"--skus", &o->skus, 1, 999999},
                {"--customers", &o->customers, 1, 999999},
                {"--hot-customers", &o->hot_customers, 1, 999999},
                {"--backorder-orders", &o->backorder_orders, 0, 60000},
                {"--visibility-probes", &o->vis_probes, 0, 999},
                {"--delay-at", &o->delay_at_pct, 0, 100},
                {"--restock-at", &o->restock_at_pct, 0, 100},
                {"--threads", &o->threads, 1, 4096},
                {"--channels", &o->channels, 1, MAX_CHANNELS},
                {"--max-calls", &o->max_calls, 1, 1000000000}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (strcmp(k, strs[i].flag) == 0) {
            *strs[i].dst = v;
            return true;
        }
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (strcmp(k, nums[i].flag) == 0)
            return parse_long(k, v, nums[i].lo, nums[i].hi, nums[i].dst);
    if (strcmp(k, "--phases") == 0)
        return parse_phases(v, o);
    if (strcmp(k, "--regions") == 0)
        return parse_list(k, v, o->lists[0], sizeof o->lists[0], o->regions, &o->nregions);
    if (strcmp(k, "--hot") == 0)
        return parse_list(k, v, o->lists[1], sizeof o->lists[1], o->hot, &o->nhot);
    if (strcmp(k, "--promos") == 0)
        return parse_list(k, v, o->lists[2], sizeof o->lists[2], o->promos, &o->npromos);
    if (strcmp(k, "--seed") == 0) {
        if (!parse_long(k, v, 0, LONG_MAX, &n))
            return false;
        o->seed = (uint64_t)n;
        return true;
    }
    fprintf(stderr, "peak_load: unknown option \"%s\"\n", k);
    return false;
}

static bool parse_args(int argc, char **argv, opts *o)
{
    static char default_regions[] = "NA-EAST,NA-WEST,EU-CENTRAL";
    *o = (opts){.skus = 100000,
                .customers = 50000,
                .hot_customers = 500,
                .backorder_orders = 1000,
                .vis_prefix = "P-VIS-",
                .vis_region = "NA-EAST",
                .vis_probes = 20,
                .delay_at_pct = 33,
                .restock_at_pct = 50,
                .threads = 256,
                .channels = 4,
                .max_calls = 5000000,
                .seed = 1};
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) {
            fprintf(stderr, "peak_load: option \"%s\" needs a value\n", argv[i]);
            return false;
        }
        if (!parse_flag(o, argv[i], argv[i + 1]))
            return false;
    }
    if (o->nregions == 0 && !parse_list("--regions", default_regions, o->lists[0],
                                        sizeof o->lists[0], o->regions, &o->nregions))
        return false;
    const char *missing = o->inventory == NULL      ? "--inventory"
                          : o->service_desk == NULL ? "--service-desk"
                          : o->nphases == 0         ? "--phases"
                          : o->run == NULL          ? "--run"
                          : o->out == NULL          ? "--out"
                                                    : NULL;
    if (missing != NULL) {
        fprintf(stderr, "peak_load: %s is required\n", missing);
        return false;
    }
    if (o->nhot != o->npromos) {
        fprintf(stderr, "peak_load: --hot and --promos must name as many items (%d and %d)\n",
                o->nhot, o->npromos);
        return false;
    }
    if ((o->backorder_sku == NULL) != (o->backorder_inbound == NULL)) {
        fprintf(stderr, "peak_load: --backorder-sku and --backorder-inbound go together\n");
        return false;
    }
    o->backorder_region_ix = -1;
    for (int i = 0; o->backorder_region != NULL && i < o->nregions; i++)
        if (strcmp(o->regions[i], o->backorder_region) == 0)
            o->backorder_region_ix = i;
    if (o->backorder_region != NULL && (o->backorder_region_ix < 0 || o->customers < o->nregions)) {
        fprintf(stderr, "peak_load: --backorder-region \"%s\" is not one of --regions\n",
                o->backorder_region);
        return false;
    }
    size_t vl = strlen(o->vis_prefix), digits = 0;
    while (digits < vl && digits < 9 && o->vis_prefix[vl - 1 - digits] >= '0' &&
           o->vis_prefix[vl - 1 - digits] <= '9')
        digits++;
    if (vl - digits >= sizeof o->vis_stem) {
        fprintf(stderr, "peak_load: --visibility-skus is too long\n");
        return false;
    }
    snprintf(o->vis_stem, sizeof o->vis_stem, "%.*s", (int)(vl - digits), o->vis_prefix);
    o->vis_first = digits > 0 ? strtol(o->vis_prefix + vl - digits, NULL, 10) : 1;
    o->vis_width = digits > 0 ? (int)digits : 3;
    if (strlen(o->run) > 40) {
        fprintf(stderr, "peak_load: --run must be at most 40 characters (got \"%s\")\n", o->run);
        return false;
    }
    if (o->hot_customers > o->customers)
        o->hot_customers = o->customers;
    return true;
}

/* ---- main ---- */

static sl_status open_channels(const char *target, long n, sl_channel **out, sl_err *err)
{
    for (long i = 0; i < n; i++) {
        /* Distinct channel arguments make gRPC open separate connections. */
        sl_channel_options co = {.max_recv_bytes = 16 * 1024 * 1024 + i};
        sl_status st = sl_channel_create(target, &co, &out[i], err);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

/* Health-checks a target, waiting up to 10 s for it to connect. */
static sl_status health(const char *target, sl_err *err)
{
    sl_channel *ch;
    sl_status st = sl_channel_create(target, NULL, &ch, err);
    if (st != SL_OK)
        return st;
    sl_arena *a = sl_arena_create(0);
    Grpc__Health__V1__HealthCheckRequest q = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    ProtobufCMessage *resp;
    sl_call_options co = {.timeout_ms = 10000, .idempotent = true};
    st = a == NULL ? SL_RESOURCE_EXHAUSTED
                   : sl_client_unary(ch, "/grpc.health.v1.Health/Check", &q.base,
                                     &grpc__health__v1__health_check_response__descriptor, a, &resp,
                                     &co, err);
    if (st == SL_OK && ((Grpc__Health__V1__HealthCheckResponse *)resp)->status !=
                           GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
        st = sl_err_set(err, SL_UNAVAILABLE, "not SERVING");
    if (st != SL_OK)
        sl_err_wrap(err, "health check of \"%s\"", target);
    sl_arena_destroy(a);
    sl_channel_destroy(ch);
    return st;
}

static int check_main(int argc, char **argv)
{
    const char *target = NULL;
    if (argc == 4 && strcmp(argv[2], "--inventory") == 0)
        target = argv[3];
    if (target == NULL) {
        usage();
        return 2;
    }
    sl_channel *ch;
    sl_err err;
    sl_arena *a = sl_arena_create(0);
    if (a == NULL || sl_channel_create(target, NULL, &ch, &err) != SL_OK) {
        fprintf(stderr, "peak_load: could not open a channel to \"%s\"\n", target);
        return 1;
    }
    Shelfline__V1__CheckInvariantsRequest q = SHELFLINE__V1__CHECK_INVARIANTS_REQUEST__INIT;
    ProtobufCMessage *resp;
    sl_call_options co = {.timeout_ms = 300000, .idempotent = true};
    sl_status st =
        sl_client_unary(ch, "/shelfline.v1.InventoryService/CheckInvariants", &q.base,
                        &shelfline__v1__check_invariants_response__descriptor, a, &resp, &co, &err);
    int rc = 0;
    if (st != SL_OK) {
        fprintf(stderr, "peak_load: CheckInvariants failed: %s: %s\n", sl_status_name(st), err.msg);
        rc = 1;
    } else {
        const Shelfline__V1__CheckInvariantsResponse *cr = (const void *)resp;
        for (size_t i = 0; i < cr->n_violations; i++) {
            const Shelfline__V1__InvariantViolation *v = cr->violations[i];
            printf("violation kind=%d sku=%s warehouse=%s subject=%s expected=%" PRId64
                   " actual=%" PRId64 ": %s\n",
                   (int)v->kind, v->sku, v->warehouse_id, v->subject_id, v->expected, v->actual,
                   v->detail);
        }
        printf("invariants: %s, %" PRId64 " stock rows, %zu violations\n",
               cr->ok && cr->n_violations == 0 ? "clean" : "BROKEN", cr->stock_rows,
               cr->n_violations);
        rc = cr->ok && cr->n_violations == 0 ? 0 : 1;
    }
    sl_channel_destroy(ch);
    sl_arena_destroy(a);
    return rc;
}

/* Sizes the tables from the profile; false when out of memory. */
static bool run_alloc(run *r)
{
    double orders = (double)r->o.backorder_orders + 1000;
    int64_t end = 0;
    r->surge = 0;
    for (int p = 0; p < r->o.nphases; p++) {
        const phase *ph = &r->o.phases[p];
        double n = ph->rate * ph->seconds;
        orders += n + 6 * sqrt(n) + n * 0.05; /* Poisson: six sigma and some */
        end = ph->end_ns;
        if (strcmp(ph->name, "surge") == 0 || (strcmp(r->o.phases[r->surge].name, "surge") != 0 &&
                                               ph->rate > r->o.phases[r->surge].rate))
            r->surge = p;
    }
    if (orders > 20000000)
        orders = 20000000;
    r->norders_cap = (int32_t)orders;
    r->sched_end_ns = end;
    r->drain_end_ns = end + DRAIN_S * NS;
    r->nsec = r->drain_end_ns / NS + 2;
    r->ring = calloc(QUEUE_MAX, sizeof *r->ring);
    r->orders = calloc((size_t)r->norders_cap, sizeof *r->orders);
    r->acked = calloc((size_t)r->norders_cap, sizeof *r->acked);
    r->cells = calloc((size_t)r->nsec * NCLASS, sizeof *r->cells);
    r->vis = calloc((size_t)r->o.vis_probes + 1, sizeof *r->vis);
    return r->ring != NULL && r->orders != NULL && r->acked != NULL && r->cells != NULL &&
           r->vis != NULL;
}

static void run_free(run *r)
{
    for (int64_t i = 0; r->cells != NULL && i < r->nsec * NCLASS; i++)
        free(r->cells[i].h);
    free(r->cells);
    free(r->ring);
    free(r->heap);
    free(r->orders);
    free(r->acked);
    free(r->vis);
    for (long i = 0; i < r->o.channels; i++) {
        if (r->inv[i] != NULL)
            sl_channel_destroy(r->inv[i]);
        if (r->sd[i] != NULL)
            sl_channel_destroy(r->sd[i]);
    }
}

/* Schedules the backorder orders evenly over the first phase. */
static void schedule_backorders(run *r)
{
    if (r->o.backorder_sku == NULL)
        return;
    const phase *first = &r->o.phases[0];
    for (long i = 0; i < r->o.backorder_orders; i++) {
        task t = {.due_ns = first->start_ns +
                            (int64_t)((double)(first->end_ns - first->start_ns) *
                                      ((double)i + 0.5) / (double)r->o.backorder_orders),
                  .kind = T_PLACE_BACKORDER,
                  .order = -1};
        if (!schedule(r, &t))
            record_overload(r, C_PLACE_ORDER, t.due_ns);
    }
}

/* The run:
 *  1. check every service answers its health check (else exit 1);
 *  2. open the channels, the output directory and events.csv;
 *  3. start the workers, the scenario threads and the scheduler;
 *  4. wait for the scheduler (the drain's end), close the queue, join;
 *  5. leftover follow-ups: their orders were left unpaid;
 *  6. write the files and the summary. */
static int run_main(run *r)
{
    sl_err err;
    const char *targets[] = {r->o.inventory, r->o.service_desk, r->o.customer_value,
                             r->o.forecasting};
    for (int i = 0; i < 4; i++)
        if (targets[i] != NULL && health(targets[i], &err) != SL_OK) {
            fprintf(stderr, "peak_load: could not reach a service: %s\n", err.msg);
            return 1;
        }
    if (open_channels(r->o.inventory, r->o.channels, r->inv, &err) != SL_OK ||
        open_channels(r->o.service_desk, r->o.channels, r->sd, &err) != SL_OK) {
        fprintf(stderr, "peak_load: %s\n", err.msg);
        return 1;
    }
    if (mkdir(r->o.out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "peak_load: could not create \"%s\": %s\n", r->o.out, strerror(errno));
        return 1;
    }
    if ((r->events = open_out(r, "events.csv")) == NULL)
        return 1;
    fprintf(r->events, "t_s,event\n");
    if ((r->lat = open_out(r, "latency.csv")) == NULL)
        return 1;
    fprintf(r->lat, "t_ms,class,result,latency_us\n");
    if ((r->errs_out = open_out(r, "errors.csv")) == NULL)
        return 1;
    fprintf(r->errs_out, "t_ms,class,code,message\n");
    for (int p = 0; p < r->o.nphases; p++) /* the phases at their intended starts */
        fprintf(r->events, "%.3f,phase %s\n", (double)r->o.phases[p].start_ns / NS,
                r->o.phases[p].name);
    worker *ws = calloc((size_t)r->o.threads, sizeof *ws);
    pthread_t *th = calloc((size_t)r->o.threads, sizeof *th);
    if (ws == NULL || th == NULL) {
        fprintf(stderr, "peak_load: out of memory\n");
        return 1;
    }
    r->t0_ns = mono_ns();
    schedule_backorders(r);
    long started = 0;
    for (long i = 0; i < r->o.threads; i++) {
        ws[i] = (worker){.r = r, .id = (int)i, .rnd = r->o.seed * 1000003 + (uint64_t)i};
        if ((ws[i].a = sl_arena_create(64 * 1024)) == NULL ||
            pthread_create(&th[i], NULL, worker_main, &ws[i]) != 0)
            break;
        started++;
    }
    pthread_t sched, delay, restock, vis;
    bool has_delay = r->o.backorder_sku != NULL && r->o.backorder_orders > 0;
    bool has_restock = r->o.restock_sku != NULL, has_vis = r->o.vis_probes > 0;
    has_delay = has_delay && pthread_create(&delay, NULL, delay_main, r) == 0;
    has_restock = has_restock && pthread_create(&restock, NULL, restock_main, r) == 0;
    has_vis = has_vis && pthread_create(&vis, NULL, visibility_main, r) == 0;
    int rc = 0;
    if (started < r->o.threads || pthread_create(&sched, NULL, scheduler_main, r) != 0) {
        fprintf(stderr, "peak_load: could not start %ld threads\n", r->o.threads);
        rc = 1;
    } else {
        pthread_join(sched, NULL);
    }
    pthread_mutex_lock(&r->qmu);
    r->closing = true;
    pthread_cond_broadcast(&r->qcv);
    pthread_mutex_unlock(&r->qmu);
    for (long i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (has_delay)
        pthread_join(delay, NULL);
    if (has_restock)
        pthread_join(restock, NULL);
    if (has_vis)
        pthread_join(vis, NULL);
    double duration_s = (double)elapsed_ns(r) / NS;
    task t;
    while (heap_pop_due(r, INT64_MAX, &t))
        if (t.order >= 0 && (t.kind == T_CONFIRM || t.kind == T_CANCEL))
            r->orders[t.order].outcome = OUT_UNPAID;
    event(r, "end", r->o.run);
    fclose(r->events);
    pthread_mutex_lock(&r->smu);
    fclose(r->lat);
    fclose(r->errs_out);
    r->lat = NULL;
    r->errs_out = NULL;
    pthread_mutex_unlock(&r->smu);
    r->events = NULL;
    for (long i = 0; i < started; i++)
        sl_arena_destroy(ws[i].a);
    free(ws);
    free(th);
    if (rc == 0 && !(write_calls(r) && write_orders(r) && write_summary(r, duration_s)))
        rc = 1;
    if (rc == 0)
        print_summary(r, duration_s);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "check") == 0) {
        sl_log_init("peak-load", SL_LOG_ERROR);
        return check_main(argc, argv);
    }
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        usage();
        return 2;
    }
    static run r; /* large (histograms per phase): not on the stack */
    if (!parse_args(argc, argv, &r.o)) {
        usage();
        return 2;
    }
    sl_log_init("peak-load", SL_LOG_ERROR);
    pthread_mutex_init(&r.qmu, NULL);
    pthread_cond_init(&r.qcv, NULL);
    pthread_mutex_init(&r.hmu, NULL);
    pthread_mutex_init(&r.amu, NULL);
    pthread_mutex_init(&r.smu, NULL);
    pthread_mutex_init(&r.emu, NULL);
    if (!run_alloc(&r)) {
        fprintf(stderr, "peak_load: out of memory\n");
        return 1;
    }
    int rc = run_main(&r);
    run_free(&r);
    return rc;
}
