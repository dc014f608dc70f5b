/*
 * cv_load: a closed-loop gRPC load client for the customer-value service's
 * benchmark (tests/bench/cv_service_bench.sh), on sl_client.
 *
 * C client threads each keep one call in flight (a blocking unary call,
 * then the next) over a few channels (separate HTTP/2 connections).  After
 * a warm-up, calls that finish inside the measured window are counted: OK
 * ones into the throughput and an exact latency distribution, every other
 * status as an error, reported apart.
 *
 * Modes (--mode):
 *   value       GetCustomerValue of a random customer among c-00001..c-<n>
 *               (the demo loader's ids) [default]
 *   recommend   Recommend(n = 10) for a random customer
 *   reminders   GetRepurchaseReminders(horizon 7 days, limit 1,000)
 * The first OK answer's item count is printed on stderr (a sanity check).
 *
 * usage: cv_load --target=H:P [--mode=value] [--clients=16]
 *                [--customers=10000] [--duration=10] [--warmup=2]
 * Output: one line on stdout,
 *   calls_per_s=N p50_us=N p99_us=N max_us=N ok=N errors=N window_s=N
 * and the first error's message on stderr.  Exit 0 when the run completed
 * (even with errors), 1 when it could not run, 2 on bad arguments.
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

#include "shelfline/v1/customer_value.pb-c.h"
#include "sl_client.h"

#define MAX_CLIENTS 256
#define CHANNELS 8

typedef struct run {
    sl_channel *ch[CHANNELS];
    int customers;
    int mode; /* 0 value, 1 recommend, 2 reminders */
    atomic_int shown;
    int64_t t_start, t_end; /* measured window, ms of CLOCK_MONOTONIC */
    atomic_long ok, errors;
    pthread_mutex_t mu;
    char first_error[600];
    int64_t *lat[MAX_CLIENTS];
    size_t nlat[MAX_CLIENTS], cap[MAX_CLIENTS];
} run;

typedef struct worker_arg {
    run *r;
    int id;
} worker_arg;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *worker(void *p)
{
    worker_arg *w = p;
    run *r = w->r;
    sl_arena *a = sl_arena_create(64 * 1024);
    uint64_t s = 0x9E3779B97F4A7C15ULL * (uint64_t)(w->id + 1);
    char id[16];
    while (now_us() < r->t_end) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        snprintf(id, sizeof id, "c-%05d", (int)(s % (uint64_t)r->customers) + 1);
        sl_call_options o = {.timeout_ms = 10000};
        ProtobufCMessage *m;
        sl_err err;
        sl_status st;
        int64_t t0 = now_us();
        size_t items = 0;
        if (r->mode == 0) {
            Shelfline__V1__GetCustomerValueRequest req =
                SHELFLINE__V1__GET_CUSTOMER_VALUE_REQUEST__INIT;
            req.customer_id = id;
            st = sl_client_unary(r->ch[w->id % CHANNELS],
                                 "/shelfline.v1.CustomerValueService/GetCustomerValue", &req.base,
                                 &shelfline__v1__customer_value__descriptor, a, &m, &o, &err);
            if (st == SL_OK)
                items = ((Shelfline__V1__CustomerValue *)m)->n_top_categories;
        } else if (r->mode == 1) {
            Shelfline__V1__RecommendRequest req = SHELFLINE__V1__RECOMMEND_REQUEST__INIT;
            req.customer_id = id;
            req.n = 10;
            st = sl_client_unary(r->ch[w->id % CHANNELS],
                                 "/shelfline.v1.CustomerValueService/Recommend", &req.base,
                                 &shelfline__v1__recommend_response__descriptor, a, &m, &o, &err);
            if (st == SL_OK)
                items = ((Shelfline__V1__RecommendResponse *)m)->n_items;
        } else {
            Shelfline__V1__GetRepurchaseRemindersRequest req =
                SHELFLINE__V1__GET_REPURCHASE_REMINDERS_REQUEST__INIT;
            req.horizon_days = 7;
            st = sl_client_unary(
                r->ch[w->id % CHANNELS],
                "/shelfline.v1.CustomerValueService/GetRepurchaseReminders", &req.base,
                &shelfline__v1__get_repurchase_reminders_response__descriptor, a, &m, &o, &err);
            if (st == SL_OK)
                items = ((Shelfline__V1__GetRepurchaseRemindersResponse *)m)->n_reminders;
        }
        if (st == SL_OK && atomic_fetch_add(&r->shown, 1) == 0)
            fprintf(stderr, "cv_load: first answer (%s) has %zu items\n", id, items);
        int64_t t1 = now_us();
        sl_arena_reset(a);
        if (t1 < r->t_start || t1 > r->t_end)
            continue;
        if (st != SL_OK) {
            if (atomic_fetch_add(&r->errors, 1) == 0) {
                pthread_mutex_lock(&r->mu);
                snprintf(r->first_error, sizeof r->first_error, "%s: %.500s", sl_status_name(st),
                         err.msg);
                pthread_mutex_unlock(&r->mu);
            }
            continue;
        }
        atomic_fetch_add(&r->ok, 1);
        if (r->nlat[w->id] == r->cap[w->id]) {
            size_t nc = r->cap[w->id] == 0 ? 4096 : 2 * r->cap[w->id];
            int64_t *nl = realloc(r->lat[w->id], nc * sizeof *nl);
            if (nl == NULL)
                continue;
            r->lat[w->id] = nl;
            r->cap[w->id] = nc;
        }
        r->lat[w->id][r->nlat[w->id]++] = t1 - t0;
    }
    sl_arena_destroy(a);
    return NULL;
}

static int cmp64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static const char *opt(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

int main(int argc, char **argv)
{
    const char *target = NULL;
    int clients = 16, customers = 10000, mode = 0;
    double duration = 10, warmup = 2;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = opt(argv[i], "--target")))
            target = v;
        else if ((v = opt(argv[i], "--mode"))) {
            mode = strcmp(v, "value") == 0       ? 0
                   : strcmp(v, "recommend") == 0 ? 1
                   : strcmp(v, "reminders") == 0 ? 2
                                                 : -1;
        } else if ((v = opt(argv[i], "--clients")))
            clients = (int)strtol(v, NULL, 10);
        else if ((v = opt(argv[i], "--customers")))
            customers = (int)strtol(v, NULL, 10);
        else if ((v = opt(argv[i], "--duration")))
            duration = strtod(v, NULL);
        else if ((v = opt(argv[i], "--warmup")))
            warmup = strtod(v, NULL);
        else {
            fprintf(stderr, "cv_load: unknown argument \"%s\"\n", argv[i]);
            return 2;
        }
    }
    if (target == NULL || mode < 0 || clients < 1 || clients > MAX_CLIENTS || customers < 1 ||
        duration <= 0 || warmup < 0) {
        fprintf(stderr,
                "usage: cv_load --target=H:P [--mode=value|recommend|reminders] [--clients=1..%d] "
                "[--customers=N] "
                "[--duration=S] [--warmup=S]\n",
                MAX_CLIENTS);
        return 2;
    }
    static run r;
    pthread_mutex_init(&r.mu, NULL);
    r.customers = customers;
    r.mode = mode;
    for (int i = 0; i < CHANNELS; i++) {
        sl_err err;
        if (sl_channel_create(target, NULL, &r.ch[i], &err) != SL_OK) {
            fprintf(stderr, "cv_load: %s\n", err.msg);
            return 1;
        }
    }
    r.t_start = now_us() + (int64_t)(warmup * 1e6);
    r.t_end = r.t_start + (int64_t)(duration * 1e6);
    pthread_t th[MAX_CLIENTS];
    worker_arg args[MAX_CLIENTS];
    for (int i = 0; i < clients; i++) {
        args[i] = (worker_arg){&r, i};
        pthread_create(&th[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    size_t n = 0;
    for (int i = 0; i < clients; i++)
        n += r.nlat[i];
    int64_t *all = malloc((n > 0 ? n : 1) * sizeof *all);
    if (all == NULL)
        return 1;
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        if (r.nlat[i] > 0)
            memcpy(all + k, r.lat[i], r.nlat[i] * sizeof *all);
        k += r.nlat[i];
    }
    qsort(all, n, sizeof *all, cmp64);
    printf("calls_per_s=%.0f p50_us=%" PRId64 " p99_us=%" PRId64 " max_us=%" PRId64
           " ok=%ld errors=%ld window_s=%.1f\n",
           (double)n / duration, n > 0 ? all[n / 2] : 0, n > 0 ? all[n * 99 / 100] : 0,
           n > 0 ? all[n - 1] : 0, atomic_load(&r.ok), atomic_load(&r.errors), duration);
    if (atomic_load(&r.errors) > 0)
        fprintf(stderr, "cv_load: first error: %s\n", r.first_error);
    return 0;
}
