/*
 * inventory_load: a closed-loop gRPC load client for the inventory
 * service's benchmark (tests/bench/inventory_bench.sh), on sl_client.
 *
 * C client threads each keep one call in flight (a blocking unary call,
 * then the next), spread over a few channels (separate HTTP/2
 * connections).  After a warm-up, calls that finish inside the measured
 * window are counted: OK ones into the throughput and an exact latency
 * distribution (every latency kept, sorted at the end), every other
 * status as an error, reported apart -- a benchmark that quietly counts
 * failures measures nothing.  Bounded twice: by time (warm-up + duration)
 * and by a maximum number of calls started.
 *
 * Modes:
 *   reserve       Reserve of one unit of a random SKU among --skus
 *                 ("B-000001".."B-<n>"), or of --sku when given (the hot
 *                 SKU); unique reservation ids per run (--run).
 *   availability  GetAvailability of --batch random SKUs for --region.
 *   commit        Reserve as above, then Commit of it: one order's two
 *                 calls, counted as one.
 *   adjust        AdjustStock +1 (RECEIPT) of a random SKU, unique request
 *                 ids: a transaction that writes a ledger entry and an event.
 *   product       GetProduct of a random SKU (the cost of the smallest
 *                 database-backed call: the server's ceiling).
 *
 * Output: one line on stdout,
 *   calls_per_s=N p50_us=N p99_us=N max_us=N ok=N errors=N window_s=N
 * and the first error's message on stderr.  Exit 0 when the run
 * completed (even with errors: the caller decides), 1 when it could not
 * run, 2 on bad arguments.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shelfline/v1/inventory.pb-c.h"
#include "sl_client.h"
#include "sl_log.h"

#define MAX_CHANNELS 64

typedef struct opts {
    const char *target, *mode, *sku, *region, *run;
    int clients, channels, batch;
    long skus;
    double warmup_s, duration_s;
    long max_calls;
} opts;

typedef struct shared {
    opts o;
    sl_channel *ch[MAX_CHANNELS];
    int64_t start_ns, measure_ns, end_ns;
    atomic_long started;
    pthread_mutex_t mu;
    char first_error[640];
} shared;

typedef struct thread_st {
    shared *s;
    int id;
    int64_t *lat;
    size_t nlat, cap;
    long errors;
} thread_st;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void *client_main(void *p)
{
    thread_st *t = p;
    shared *s = t->s;
    sl_channel *ch = s->ch[t->id % s->o.channels];
    sl_arena *a = sl_arena_create(64 * 1024);
    uint64_t rnd = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)t->id * 7919 + 1);
    bool reserve = strcmp(s->o.mode, "reserve") == 0 || strcmp(s->o.mode, "commit") == 0;
    bool commit = strcmp(s->o.mode, "commit") == 0;
    char id[96], sku[32];
    char **skus = calloc((size_t)s->o.batch, sizeof *skus);
    char(*skubuf)[32] = calloc((size_t)s->o.batch, sizeof *skubuf);
    for (long i = 0; a != NULL && skus != NULL && skubuf != NULL; i++) {
        int64_t t0 = now_ns();
        if (t0 >= s->end_ns || atomic_fetch_add(&s->started, 1) >= s->o.max_calls)
            break;
        sl_status st;
        sl_err err;
        sl_call_options co = {.timeout_ms = 10000};
        ProtobufCMessage *resp;
        if (reserve) {
            if (s->o.sku != NULL)
                snprintf(sku, sizeof sku, "%s", s->o.sku);
            else
                snprintf(sku, sizeof sku, "B-%06ld",
                         1 + (long)(xorshift(&rnd) % (uint64_t)s->o.skus));
            snprintf(id, sizeof id, "%s-%d-%ld", s->o.run, t->id, i);
            Shelfline__V1__ReserveLine l = SHELFLINE__V1__RESERVE_LINE__INIT;
            l.sku = sku;
            l.qty = 1;
            Shelfline__V1__ReserveLine *lp[1] = {&l};
            Shelfline__V1__ReserveRequest r = SHELFLINE__V1__RESERVE_REQUEST__INIT;
            r.reservation_id = id;
            r.customer_id = "bench";
            r.region = (char *)s->o.region;
            r.lines = lp;
            r.n_lines = 1;
            r.hold_ttl_ms = 24 * 3600 * 1000LL;
            st = sl_client_unary(ch, "/shelfline.v1.InventoryService/Reserve", &r.base,
                                 &shelfline__v1__reserve_response__descriptor, a, &resp, &co, &err);
            if (st == SL_OK && commit) {
                Shelfline__V1__CommitRequest cr = SHELFLINE__V1__COMMIT_REQUEST__INIT;
                cr.reservation_id = id;
                st = sl_client_unary(ch, "/shelfline.v1.InventoryService/Commit", &cr.base,
                                     &shelfline__v1__reservation__descriptor, a, &resp, &co, &err);
            }
        } else if (strcmp(s->o.mode, "adjust") == 0) {
            snprintf(sku, sizeof sku, "B-%06ld", 1 + (long)(xorshift(&rnd) % (uint64_t)s->o.skus));
            snprintf(id, sizeof id, "%s-%d-%ld", s->o.run, t->id, i);
            Shelfline__V1__AdjustStockRequest r = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
            r.request_id = id;
            r.sku = sku;
            r.warehouse_id = "BW-1";
            r.delta = 1;
            r.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT;
            st = sl_client_unary(ch, "/shelfline.v1.InventoryService/AdjustStock", &r.base,
                                 &shelfline__v1__adjust_stock_response__descriptor, a, &resp, &co,
                                 &err);
        } else if (strcmp(s->o.mode, "product") == 0) {
            snprintf(sku, sizeof sku, "B-%06ld", 1 + (long)(xorshift(&rnd) % (uint64_t)s->o.skus));
            Shelfline__V1__GetProductRequest r = SHELFLINE__V1__GET_PRODUCT_REQUEST__INIT;
            r.sku = sku;
            st = sl_client_unary(ch, "/shelfline.v1.InventoryService/GetProduct", &r.base,
                                 &shelfline__v1__product__descriptor, a, &resp, &co, &err);
        } else {
            for (int k = 0; k < s->o.batch; k++) {
                snprintf(skubuf[k], sizeof skubuf[k], "B-%06ld",
                         1 + (long)(xorshift(&rnd) % (uint64_t)s->o.skus));
                skus[k] = skubuf[k];
            }
            Shelfline__V1__GetAvailabilityRequest r = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
            r.skus = skus;
            r.n_skus = (size_t)s->o.batch;
            r.region = (char *)s->o.region;
            st = sl_client_unary(ch, "/shelfline.v1.InventoryService/GetAvailability", &r.base,
                                 &shelfline__v1__get_availability_response__descriptor, a, &resp,
                                 &co, &err);
        }
        int64_t t1 = now_ns();
        sl_arena_reset(a);
        if (t1 < s->measure_ns || t1 > s->end_ns)
            continue;
        if (st != SL_OK) {
            t->errors++;
            pthread_mutex_lock(&s->mu);
            if (s->first_error[0] == '\0')
                snprintf(s->first_error, sizeof s->first_error, "%s: %s", sl_status_name(st),
                         err.msg);
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        if (t->nlat == t->cap) {
            size_t cap = t->cap * 2 + 4096;
            int64_t *nl = realloc(t->lat, cap * sizeof *nl);
            if (nl == NULL)
                break;
            t->lat = nl;
            t->cap = cap;
        }
        t->lat[t->nlat++] = (t1 - t0) / 1000;
    }
    free(skus);
    free(skubuf);
    sl_arena_destroy(a);
    return NULL;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: inventory_load --target HOST:PORT --mode "
            "reserve|commit|availability|product|adjust\n"
            "         [--skus N] [--sku HOT] [--region R] [--run ID] [--clients C]\n"
            "         [--channels K] [--batch B] [--warmup S] [--duration S] [--max-calls M]\n");
}

int main(int argc, char **argv)
{
    shared s;
    memset(&s, 0, sizeof s);
    s.o = (opts){.target = "127.0.0.1:50051",
                 .mode = "reserve",
                 .region = "BENCH",
                 .run = "run",
                 .clients = 64,
                 .channels = 4,
                 .batch = 100,
                 .skus = 100000,
                 .warmup_s = 2,
                 .duration_s = 10,
                 .max_calls = 5000000};
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            usage();
            return 2;
        }
        i++;
        if (strcmp(k, "--target") == 0)
            s.o.target = v;
        else if (strcmp(k, "--mode") == 0)
            s.o.mode = v;
        else if (strcmp(k, "--sku") == 0)
            s.o.sku = v;
        else if (strcmp(k, "--skus") == 0)
            s.o.skus = strtol(v, NULL, 10);
        else if (strcmp(k, "--region") == 0)
            s.o.region = v;
        else if (strcmp(k, "--run") == 0)
            s.o.run = v;
        else if (strcmp(k, "--clients") == 0)
            s.o.clients = (int)strtol(v, NULL, 10);
        else if (strcmp(k, "--channels") == 0)
            s.o.channels = (int)strtol(v, NULL, 10);
        else if (strcmp(k, "--batch") == 0)
            s.o.batch = (int)strtol(v, NULL, 10);
        else if (strcmp(k, "--warmup") == 0)
            s.o.warmup_s = strtod(v, NULL);
        else if (strcmp(k, "--duration") == 0)
            s.o.duration_s = strtod(v, NULL);
        else if (strcmp(k, "--max-calls") == 0)
            s.o.max_calls = strtol(v, NULL, 10);
        else {
            usage();
            return 2;
        }
    }
    if (s.o.clients < 1 || s.o.clients > 4096 || s.o.channels < 1 || s.o.channels > MAX_CHANNELS ||
        s.o.skus < 1 || s.o.batch < 1 || s.o.batch > 1000 || s.o.duration_s <= 0 ||
        s.o.max_calls < 1 ||
        (strcmp(s.o.mode, "reserve") != 0 && strcmp(s.o.mode, "availability") != 0 &&
         strcmp(s.o.mode, "product") != 0 && strcmp(s.o.mode, "adjust") != 0 &&
         strcmp(s.o.mode, "commit") != 0)) {
        usage();
        return 2;
    }
    sl_log_init("inventory-load", SL_LOG_ERROR);
    pthread_mutex_init(&s.mu, NULL);
    sl_err err;
    for (int i = 0; i < s.o.channels; i++) {
        /* Distinct channel args make gRPC open separate connections. */
        sl_channel_options co = {.max_recv_bytes = 16 * 1024 * 1024 + i};
        if (sl_channel_create(s.o.target, &co, &s.ch[i], &err) != SL_OK) {
            fprintf(stderr, "inventory_load: %s\n", err.msg);
            return 1;
        }
    }
    s.start_ns = now_ns();
    s.measure_ns = s.start_ns + (int64_t)(s.o.warmup_s * 1e9);
    s.end_ns = s.measure_ns + (int64_t)(s.o.duration_s * 1e9);
    pthread_t *th = calloc((size_t)s.o.clients, sizeof *th);
    thread_st *ts = calloc((size_t)s.o.clients, sizeof *ts);
    if (th == NULL || ts == NULL)
        return 1;
    for (int i = 0; i < s.o.clients; i++) {
        ts[i] = (thread_st){.s = &s, .id = i};
        pthread_create(&th[i], NULL, client_main, &ts[i]);
    }
    size_t total = 0;
    long errors = 0;
    for (int i = 0; i < s.o.clients; i++) {
        pthread_join(th[i], NULL);
        total += ts[i].nlat;
        errors += ts[i].errors;
    }
    int64_t *all = malloc((total + 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; all != NULL && i < s.o.clients; i++) {
        memcpy(all + k, ts[i].lat, ts[i].nlat * sizeof *all);
        k += ts[i].nlat;
        free(ts[i].lat);
    }
    if (all == NULL)
        return 1;
    qsort(all, total, sizeof *all, cmp_i64);
    double window = s.o.duration_s;
    int64_t p50 = total ? all[total / 2] : 0, p99 = total ? all[(size_t)(total * 0.99)] : 0;
    int64_t mx = total ? all[total - 1] : 0;
    printf("calls_per_s=%.0f p50_us=%" PRId64 " p99_us=%" PRId64 " max_us=%" PRId64
           " ok=%zu errors=%ld window_s=%.1f\n",
           (double)total / window, p50, p99, mx, total, errors, window);
    if (s.first_error[0] != '\0')
        fprintf(stderr, "inventory_load: first error: %s\n", s.first_error);
    for (int i = 0; i < s.o.channels; i++)
        sl_channel_destroy(s.ch[i]);
    free(all);
    free(th);
    free(ts);
    return 0;
}
