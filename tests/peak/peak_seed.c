/*
 * peak_seed: the part of the peak day's catalogue that has logic behind its
 * creation, made through the API after tests/peak/seed.sql restored the
 * bulk rows (see its header for the layout):
 *
 *   - the flash sales PEAK-FLASH-1..3 on P-000001..P-000003 (quota and
 *     per-customer cap from the command line, fenced by inventory itself);
 *   - the inbound PEAK-IN-DELAY of P-BACKORDER into DC-ATL, expected in five
 *     days, which the run's backorders wait on and its DelayInbound slips;
 *   - an open purchase order for every long-tail SKU that holds under three
 *     units in its North American warehouse (a realistic share of the
 *     catalogue on its way), expected in 3-20 days;
 *   - back-in-stock subscribers of the sold-out P-SOLDOUT-1 in NA-EAST, the
 *     ones the mid-surge restock wakes.
 *
 * Every write is idempotent by its key, so a re-run changes nothing.
 *
 * usage: peak_seed INVENTORY_TARGET SERVICE_DESK_TARGET SKUS QUOTA CAP SUBSCRIBERS
 *        peak_seed wait ADDRESS SECONDS
 *        peak_seed probe ADDRESS SERVICE SECONDS
 * The second form waits until grpc.health.v1.Health/Check of the server as
 * a whole ("") answers SERVING at ADDRESS (what a readiness probe asks):
 * peak.sh's start-ups and rolling restart wait on it.  The third asks
 * Check(SERVICE) every 200 ms for SECONDS, each with a 1 s deadline like a
 * kubelet's probe, and prints "probes=N failed=N max_ms=N" (exit 1 when any
 * failed): the lock fault's liveness watch.
 * Exit 0 when everything is in place (or SERVING), 1 with the first error
 * on stderr (or not SERVING in time), 2 on bad arguments.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grpc/health/v1/health.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_arena.h"
#include "sl_client.h"

#define DAY_MS (24LL * 3600 * 1000)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long arg_long(const char *s, const char *what, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "peak_seed: %s must be %ld..%ld (got \"%s\")\n", what, lo, hi, s);
        exit(2);
    }
    return v;
}

/* One unary call; ALREADY_EXISTS is what a re-run gets and counts as done. */
static int call(sl_channel *ch, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *rd, sl_arena *a, const char *what)
{
    sl_err err = {0};
    ProtobufCMessage *resp = NULL;
    sl_call_options o = {.timeout_ms = 10000, .idempotent = true};
    sl_status st = sl_client_unary(ch, method, req, rd, a, &resp, &o, &err);
    if (st == SL_OK || st == SL_ALREADY_EXISTS) {
        return 0;
    }
    fprintf(stderr, "peak_seed: %s: %s\n", what, err.msg);
    return -1;
}

static int promotions(sl_channel *inv, long quota, long cap, sl_arena *a)
{
    int64_t now = now_ms();
    for (int i = 1; i <= 3; i++) {
        char id[32], sku[32];
        snprintf(id, sizeof id, "PEAK-FLASH-%d", i);
        snprintf(sku, sizeof sku, "P-%06d", i);
        Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
        price.minor_units = 999;
        price.currency = "USD";
        Shelfline__V1__Promotion p = SHELFLINE__V1__PROMOTION__INIT;
        p.promotion_id = id;
        p.sku = sku;
        p.quota = quota;
        p.per_customer_limit = cap;
        p.starts_at_ms = now - 60000;
        p.ends_at_ms = now + DAY_MS;
        p.price = &price;
        Shelfline__V1__CreatePromotionRequest r = SHELFLINE__V1__CREATE_PROMOTION_REQUEST__INIT;
        r.promotion = &p;
        if (call(inv, "/shelfline.v1.InventoryService/CreatePromotion", &r.base,
                 &shelfline__v1__promotion__descriptor, a, id) != 0) {
            return -1;
        }
    }
    return 0;
}

static int inbound(sl_channel *inv, const char *id, const char *sku, const char *wh, long qty,
                   int64_t expected, sl_arena *a)
{
    Shelfline__V1__CreateInboundRequest r = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    r.inbound_id = (char *)id;
    r.sku = (char *)sku;
    r.warehouse_id = (char *)wh;
    r.qty = qty;
    r.expected_at_ms = expected;
    r.supplier = "Peak Supplier Co";
    r.reference = "peak-seed";
    return call(inv, "/shelfline.v1.InventoryService/CreateInbound", &r.base,
                &shelfline__v1__inbound__descriptor, a, id);
}

/* Open purchase orders for the long-tail SKUs seed.sql left low in North
 * America, read back with ListLowStock (a page of 1,000 at a time) rather
 * than re-deriving seed.sql's hashes here: one definition of "low". */
static int open_purchase_orders(sl_channel *inv, sl_arena *a)
{
    int64_t now = now_ms();
    char token[256] = "";
    long made = 0;
    for (int page = 0; page < 1000; page++) {
        Shelfline__V1__PageRequest pr = SHELFLINE__V1__PAGE_REQUEST__INIT;
        pr.page_size = 1000;
        pr.page_token = token;
        Shelfline__V1__ListLowStockRequest r = SHELFLINE__V1__LIST_LOW_STOCK_REQUEST__INIT;
        r.page = &pr;
        r.region = "NA-EAST";
        sl_err err = {0};
        Shelfline__V1__ListLowStockResponse *resp = NULL;
        sl_call_options o = {.timeout_ms = 30000, .idempotent = true};
        if (sl_client_unary(inv, "/shelfline.v1.InventoryService/ListLowStock", &r.base,
                            &shelfline__v1__list_low_stock_response__descriptor, a,
                            (ProtobufCMessage **)&resp, &o, &err) != SL_OK) {
            fprintf(stderr, "peak_seed: ListLowStock: %s\n", err.msg);
            return -1;
        }
        for (size_t i = 0; i < resp->n_items; i++) {
            const Shelfline__V1__StockLevel *s = resp->items[i]->stock;
            if (!s || strncmp(s->sku, "P-0", 3) != 0 || resp->items[i]->next_inbound) {
                continue;
            }
            char id[80];
            snprintf(id, sizeof id, "PO-%s-%s", s->sku, s->warehouse_id);
            long h = (long)(strtol(s->sku + 2, NULL, 10) % 18);
            if (inbound(inv, id, s->sku, s->warehouse_id, 50, now + (3 + h) * DAY_MS, a) != 0) {
                return -1;
            }
            made++;
        }
        const char *next = resp->next_page_token;
        if (!next || !*next) {
            break;
        }
        snprintf(token, sizeof token, "%s", next);
        sl_arena_reset(a);
    }
    printf("peak_seed: %ld open purchase orders for low long-tail SKUs\n", made);
    return 0;
}

static int subscribers(sl_channel *sd, long n, sl_arena *a)
{
    for (long i = 1; i <= n; i++) {
        char cust[32];
        /* NA-EAST customers: number mod 3 == 1 (seed.sql's region rule). */
        snprintf(cust, sizeof cust, "c-%06ld", 3 * i + 1);
        Shelfline__V1__SubscribeBackInStockRequest r =
            SHELFLINE__V1__SUBSCRIBE_BACK_IN_STOCK_REQUEST__INIT;
        r.customer_id = cust;
        r.sku = "P-SOLDOUT-1";
        r.region = "NA-EAST";
        if (call(sd, "/shelfline.v1.ServiceDeskService/SubscribeBackInStock", &r.base,
                 &shelfline__v1__subscription__descriptor, a, cust) != 0) {
            return -1;
        }
        sl_arena_reset(a);
    }
    return 0;
}

/* One grpc.health.v1.Health/Check of a service name: 1 SERVING, 0 any
 * other answer or none within timeout_ms. */
static int health_check(sl_channel *ch, const char *service, int64_t timeout_ms, sl_arena *a,
                        sl_err *err)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    ProtobufCMessage *resp = NULL;
    sl_call_options o = {.timeout_ms = timeout_ms, .wait_for_ready = true};
    sl_status st =
        sl_client_unary(ch, "/grpc.health.v1.Health/Check", &req.base,
                        &grpc__health__v1__health_check_response__descriptor, a, &resp, &o, err);
    return st == SL_OK && ((Grpc__Health__V1__HealthCheckResponse *)resp)->status ==
                              GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* wait: readiness, Check(""), every 100 ms until SERVING or the time is up.
 * probe: Check(service) every 200 ms for the whole time, each with a 1 s
 * deadline the way a kubelet's probe has one; prints how many failed. */
static int health_loop(const char *addr, const char *service, long seconds, bool until_serving)
{
    sl_channel *ch = NULL;
    sl_err err = {0};
    /* Like a kubelet's probe: ask the replica itself, whatever it reports
     * (client-side health checking would not route a call to a replica
     * that is NOT_SERVING). */
    sl_channel_options co = {.no_health_check = true};
    if (sl_channel_create(addr, &co, &ch, &err) != SL_OK) {
        fprintf(stderr, "peak_seed: %s\n", err.msg);
        return 1;
    }
    sl_arena *a = sl_arena_create(4096);
    int64_t until = now_ms() + seconds * 1000;
    long probes = 0, failed = 0;
    int64_t worst = 0;
    int rc = 1;
    while (a && now_ms() < until) {
        int64_t t = now_ms();
        int ok = health_check(ch, service, until_serving ? 500 : 1000, a, &err);
        int64_t took = now_ms() - t;
        sl_arena_reset(a);
        if (until_serving && ok) {
            rc = 0;
            break;
        }
        probes++;
        failed += !ok;
        worst = took > worst ? took : worst;
        sleep_ms(until_serving ? 100 : 200);
    }
    if (until_serving && rc != 0) {
        fprintf(stderr, "peak_seed: %s not SERVING within %ld s (last: %s)\n", addr, seconds,
                err.msg[0] ? err.msg : "NOT_SERVING");
    }
    if (!until_serving) {
        printf("probes=%ld failed=%ld max_ms=%" PRId64 "\n", probes, failed, worst);
        rc = failed ? 1 : 0;
    }
    sl_arena_destroy(a);
    sl_channel_destroy(ch);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "wait") == 0) {
        return health_loop(argv[2], "", arg_long(argv[3], "SECONDS", 1, 3600), true);
    }
    if (argc == 5 && strcmp(argv[1], "probe") == 0) {
        return health_loop(argv[2], argv[3], arg_long(argv[4], "SECONDS", 1, 3600), false);
    }
    if (argc != 7) {
        fprintf(stderr, "usage: peak_seed INVENTORY_TARGET SERVICE_DESK_TARGET SKUS QUOTA CAP "
                        "SUBSCRIBERS\n       peak_seed wait ADDRESS SECONDS\n"
                        "       peak_seed probe ADDRESS SERVICE SECONDS\n");
        return 2;
    }
    (void)arg_long(argv[3], "SKUS", 4, 999999);
    long quota = arg_long(argv[4], "QUOTA", 1, 1000000);
    long cap = arg_long(argv[5], "CAP", 1, 1000);
    long subs = arg_long(argv[6], "SUBSCRIBERS", 0, 10000);

    sl_channel *inv = NULL, *sd = NULL;
    sl_err err = {0};
    if (sl_channel_create(argv[1], NULL, &inv, &err) != SL_OK ||
        sl_channel_create(argv[2], NULL, &sd, &err) != SL_OK) {
        fprintf(stderr, "peak_seed: %s\n", err.msg);
        return 1;
    }
    sl_arena *a = sl_arena_create(64 * 1024);
    int rc = 1;
    if (a && promotions(inv, quota, cap, a) == 0 &&
        inbound(inv, "PEAK-IN-DELAY", "P-BACKORDER", "DC-ATL", 5000, now_ms() + 5 * DAY_MS, a) ==
            0 &&
        open_purchase_orders(inv, a) == 0 && subscribers(sd, subs, a) == 0) {
        rc = 0;
    }
    sl_arena_destroy(a);
    sl_channel_destroy(sd);
    sl_channel_destroy(inv);
    return rc;
}
