/*
 * sd_load: load client for tests/bench/sd_bench.sh (service desk).
 *
 *   sd_load SD INV place N PREFIX SKU BACKORDER THREADS
 *       places orders PREFIX-000000.. (1 unit of SKU, region BENCH) with
 *       THREADS threads; prints placed=N errors=N secs=S
 *   sd_load SD INV read SECONDS THREADS NORDERS PREFIX NSKUS
 *       THREADS closed-loop clients, alternately GetOrderEta of a random
 *       order PREFIX-<0..NORDERS) and QuoteEta of 10 random SKUs
 *       B-000001..NSKUS, while one more thread places orders (W-…) the
 *       whole time; prints one line per method: calls/s p50 p99 errors
 *   sd_load SD INV delay INBOUND NEW_EXPECTED_MS COUNT
 *       DelayInbound on inventory, then follows ListNotifications until
 *       COUNT new DELAY notifications exist; prints the elapsed ms
 *
 * Only loopback addresses are used by the script that runs it.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_arena.h"
#include "sl_client.h"

static sl_channel *sd_ch, *inv_ch;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static sl_status sd_call(const char *m, const ProtobufCMessage *req,
                         const ProtobufCMessageDescriptor *rd, sl_arena *a, void *out)
{
    char full[128];
    snprintf(full, sizeof full, "/shelfline.v1.ServiceDeskService/%s", m);
    sl_call_options o = {.timeout_ms = 10000};
    return sl_client_unary(sd_ch, full, req, rd, a, (ProtobufCMessage **)out, &o, NULL);
}

static sl_status place(const char *id, const char *sku, bool backorder, sl_arena *a)
{
    Shelfline__V1__OrderLineRequest l = SHELFLINE__V1__ORDER_LINE_REQUEST__INIT;
    Shelfline__V1__OrderLineRequest *lp = &l;
    l.sku = (char *)sku;
    l.qty = 1;
    Shelfline__V1__PlaceOrderRequest r = SHELFLINE__V1__PLACE_ORDER_REQUEST__INIT;
    r.order_id = (char *)id;
    r.customer_id = "bench";
    r.region = "BENCH";
    r.lines = &lp;
    r.n_lines = 1;
    r.allow_backorder = backorder;
    ProtobufCMessage *m;
    return sd_call("PlaceOrder", &r.base, &shelfline__v1__place_order_response__descriptor, a, &m);
}

/* ---- place ---- */

typedef struct place_job {
    int from, to;
    const char *prefix, *sku;
    bool backorder;
    int errors;
} place_job;

static void *place_run(void *arg)
{
    place_job *j = arg;
    sl_arena *a = sl_arena_create(0);
    for (int i = j->from; i < j->to; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s-%06d", j->prefix, i);
        if (place(id, j->sku, j->backorder, a) != SL_OK)
            j->errors++;
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return NULL;
}

/* ---- read ---- */

#define MAX_SAMPLES 4000000
typedef struct lat {
    int64_t *us;
    atomic_long n, errors;
} lat;

static lat eta_lat, quote_lat;
static atomic_bool stop;
static atomic_long writes, write_errors;
static int n_orders, n_skus;
static const char *order_prefix;

static void record(lat *l, int64_t us, bool ok)
{
    if (!ok) {
        atomic_fetch_add(&l->errors, 1);
        return;
    }
    long k = atomic_fetch_add(&l->n, 1);
    if (k < MAX_SAMPLES)
        l->us[k] = us;
}

static void *read_run(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
    sl_arena *a = sl_arena_create(0);
    for (long k = 0; !atomic_load(&stop); k++) {
        int64_t t0 = now_us();
        ProtobufCMessage *m;
        if (k % 2 == 0) {
            char id[64];
            snprintf(id, sizeof id, "%s-%06d", order_prefix, (int)(rand_r(&seed) % n_orders));
            Shelfline__V1__GetOrderEtaRequest r = SHELFLINE__V1__GET_ORDER_ETA_REQUEST__INIT;
            r.order_id = id;
            sl_status st =
                sd_call("GetOrderEta", &r.base, &shelfline__v1__order_eta__descriptor, a, &m);
            record(&eta_lat, now_us() - t0, st == SL_OK);
        } else {
            char buf[10][16];
            char *skus[10];
            for (int i = 0; i < 10; i++) {
                snprintf(buf[i], sizeof buf[i], "B-%06d", 1 + (int)(rand_r(&seed) % n_skus));
                skus[i] = buf[i];
            }
            Shelfline__V1__QuoteEtaRequest r = SHELFLINE__V1__QUOTE_ETA_REQUEST__INIT;
            r.region = "BENCH";
            r.skus = skus;
            r.n_skus = 10;
            sl_status st =
                sd_call("QuoteEta", &r.base, &shelfline__v1__quote_eta_response__descriptor, a, &m);
            record(&quote_lat, now_us() - t0, st == SL_OK);
        }
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return NULL;
}

static void *write_run(void *arg)
{
    (void)arg;
    sl_arena *a = sl_arena_create(0);
    char id[64];
    for (long i = 0; !atomic_load(&stop); i++) {
        snprintf(id, sizeof id, "W-%d-%06ld", (int)getpid(), i);
        if (place(id, "B-000001", false, a) == SL_OK)
            atomic_fetch_add(&writes, 1);
        else
            atomic_fetch_add(&write_errors, 1);
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name, lat *l, double secs)
{
    long n = atomic_load(&l->n);
    if (n > MAX_SAMPLES)
        n = MAX_SAMPLES;
    qsort(l->us, (size_t)n, sizeof *l->us, cmp64);
    printf("%s calls_per_s=%.0f p50_us=%" PRId64 " p99_us=%" PRId64 " errors=%ld\n", name,
           (double)n / secs, n ? l->us[n / 2] : 0, n ? l->us[(n * 99) / 100] : 0,
           atomic_load(&l->errors));
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: see the top of sd_load.c\n");
        return 2;
    }
    if (sl_channel_create(argv[1], NULL, &sd_ch, NULL) != SL_OK ||
        sl_channel_create(argv[2], NULL, &inv_ch, NULL) != SL_OK)
        return 1;
    const char *mode = argv[3];
    if (strcmp(mode, "place") == 0 && argc == 9) {
        int n = (int)strtol(argv[4], NULL, 10), threads = (int)strtol(argv[8], NULL, 10);
        place_job jobs[64];
        pthread_t th[64];
        if (threads < 1 || threads > 64)
            return 2;
        int64_t t0 = now_us();
        for (int t = 0; t < threads; t++) {
            jobs[t] = (place_job){n * t / threads,
                                  n * (t + 1) / threads,
                                  argv[5],
                                  argv[6],
                                  (int)strtol(argv[7], NULL, 10) != 0,
                                  0};
            pthread_create(&th[t], NULL, place_run, &jobs[t]);
        }
        int errors = 0;
        for (int t = 0; t < threads; t++) {
            pthread_join(th[t], NULL);
            errors += jobs[t].errors;
        }
        printf("placed=%d errors=%d secs=%.1f\n", n - errors, errors,
               (double)(now_us() - t0) / 1e6);
        return errors ? 1 : 0;
    }
    if (strcmp(mode, "read") == 0 && argc == 9) {
        double secs = strtod(argv[4], NULL);
        int threads = (int)strtol(argv[5], NULL, 10);
        n_orders = (int)strtol(argv[6], NULL, 10);
        order_prefix = argv[7];
        n_skus = (int)strtol(argv[8], NULL, 10);
        eta_lat.us = malloc(MAX_SAMPLES * sizeof(int64_t));
        quote_lat.us = malloc(MAX_SAMPLES * sizeof(int64_t));
        pthread_t th[257];
        if (threads < 1 || threads > 256 || eta_lat.us == NULL || quote_lat.us == NULL)
            return 2;
        for (int t = 0; t < threads; t++)
            pthread_create(&th[t], NULL, read_run, (void *)(uintptr_t)t);
        pthread_create(&th[threads], NULL, write_run, NULL);
        struct timespec ts = {.tv_sec = (time_t)secs,
                              .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9)};
        nanosleep(&ts, NULL);
        atomic_store(&stop, true);
        for (int t = 0; t <= threads; t++)
            pthread_join(th[t], NULL);
        report("GetOrderEta", &eta_lat, secs);
        report("QuoteEta", &quote_lat, secs);
        printf("PlaceOrder concurrent_calls_per_s=%.0f errors=%ld\n",
               (double)atomic_load(&writes) / secs, atomic_load(&write_errors));
        return 0;
    }
    if (strcmp(mode, "delay") == 0 && argc == 7) {
        long count = strtol(argv[6], NULL, 10);
        sl_arena *a = sl_arena_create(0);
        /* the current head of the outbox */
        int64_t cursor = 0;
        for (;;) {
            Shelfline__V1__ListNotificationsRequest r =
                SHELFLINE__V1__LIST_NOTIFICATIONS_REQUEST__INIT;
            r.after_id = cursor;
            r.limit = 1000;
            Shelfline__V1__ListNotificationsResponse *resp;
            if (sd_call("ListNotifications", &r.base,
                        &shelfline__v1__list_notifications_response__descriptor, a, &resp) != SL_OK)
                return 1;
            if (resp->n_notifications == 0)
                break;
            cursor = resp->notifications[resp->n_notifications - 1]->notification_id;
            sl_arena_reset(a);
        }
        Shelfline__V1__DelayInboundRequest d = SHELFLINE__V1__DELAY_INBOUND_REQUEST__INIT;
        d.inbound_id = argv[4];
        d.new_expected_at_ms = strtoll(argv[5], NULL, 10);
        d.reason = "bench delay";
        ProtobufCMessage *m;
        sl_call_options o = {.timeout_ms = 30000};
        int64_t t0 = now_us();
        if (sl_client_unary(inv_ch, "/shelfline.v1.InventoryService/DelayInbound", &d.base,
                            &shelfline__v1__inbound__descriptor, a, &m, &o, NULL) != SL_OK)
            return 1;
        long seen = 0;
        int64_t last_us = 0;
        while (seen < count && now_us() - t0 < 600 * 1000000LL) {
            Shelfline__V1__ListNotificationsRequest r =
                SHELFLINE__V1__LIST_NOTIFICATIONS_REQUEST__INIT;
            r.after_id = cursor;
            r.limit = 1000;
            Shelfline__V1__ListNotificationsResponse *resp;
            sl_arena_reset(a);
            if (sd_call("ListNotifications", &r.base,
                        &shelfline__v1__list_notifications_response__descriptor, a, &resp) != SL_OK)
                return 1;
            for (size_t i = 0; i < resp->n_notifications; i++) {
                cursor = resp->notifications[i]->notification_id;
                if (resp->notifications[i]->kind ==
                    SHELFLINE__V1__NOTIFICATION_KIND__NOTIFICATION_DELAY) {
                    seen++;
                    last_us = now_us() - t0;
                }
            }
            if (resp->n_notifications == 0) {
                struct timespec ts = {0, 20 * 1000000L};
                nanosleep(&ts, NULL);
            }
        }
        printf("delay_notifications=%ld last_notification_ms=%.0f\n", seen,
               (double)last_us / 1000.0);
        return seen == count ? 0 : 1;
    }
    fprintf(stderr, "usage: see the top of sd_load.c\n");
    return 2;
}
