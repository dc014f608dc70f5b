/*
 * shelfline-inventory-demo: loads the demo network into a running
 * inventory service through its gRPC API (so the ledger, the events and
 * every invariant are exactly as in production use).
 *
 * What it loads (deterministic: a fixed seed, the same data every run):
 *   - 3 customer regions: NA-EAST, NA-WEST, EU-CENTRAL;
 *   - 6 warehouses of every kind, with time zones and ship cut-offs:
 *       DC-ATL   distribution centre  NA-EAST     America/New_York     17:00
 *       ST-NYC   store                NA-EAST     America/New_York     14:00
 *       DC-RNO   distribution centre  NA-WEST     America/Los_Angeles  16:00
 *       MFC-SFO  micro-fulfilment     NA-WEST     America/Los_Angeles  20:00
 *       DC-FRA   distribution centre  EU-CENTRAL  Europe/Berlin        18:00
 *       3PL-WAW  third-party (3PL)    EU-CENTRAL  Europe/Warsaw        15:00
 *     and transit times from each to each region it serves (EU sites do
 *     not ship to North America and back, apart from DC-FRA -> NA-EAST);
 *   - 2,000 SKUs in 10 categories, each with a brand, a price, a repeat-
 *     purchase cycle for consumables and seasonal tags (black-friday,
 *     christmas, back-to-school, summer, winter);
 *   - stock for every SKU in 2-4 warehouses: about 5% of SKUs out of stock
 *     everywhere, about 10% low (a few units under a threshold of 10), the
 *     rest 20-500 units, with safety stock and low-stock thresholds;
 *   - about 150 open purchase orders arriving over the next 3-20 days
 *     (some already delayed), most for the low and out-of-stock SKUs;
 *   - a running flash sale: promotion BF-FLASH on ELEC-0001 (quota 300,
 *     2 per customer, at 30% off) ending in 7 days.
 *
 * Idempotent: re-running changes nothing.  Catalogue and network creates
 * are idempotent by key; stock arrives as AdjustStock with a fixed
 * request id per SKU x warehouse; purchase orders and the promotion, whose
 * dates depend on when they were first loaded, are created only if
 * missing.
 *
 * usage: shelfline-inventory-demo   (address from SHELFLINE_INVENTORY_ADDR,
 *                                    default 127.0.0.1:50051)
 * Exit status 0 when everything is loaded, 1 otherwise (with the first
 * error on stderr).
 */
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
#include "sl_config.h"
#include "sl_log.h"

#define NSKUS 2000
#define NWH 6
#define THREADS 8
#define SEED 20241129ULL
#define DAY_MS (24LL * 3600 * 1000)

typedef struct wh_def {
    const char *id, *name, *region, *location, *tz, *cutoff;
    Shelfline__V1__Warehouse__Kind kind;
} wh_def;

static const wh_def warehouses[NWH] = {
    {"DC-ATL", "Atlanta distribution centre", "NA-EAST", "Atlanta, GA, US", "America/New_York",
     "17:00", SHELFLINE__V1__WAREHOUSE__KIND__DISTRIBUTION_CENTER},
    {"ST-NYC", "Manhattan flagship store", "NA-EAST", "New York, NY, US", "America/New_York",
     "14:00", SHELFLINE__V1__WAREHOUSE__KIND__STORE},
    {"DC-RNO", "Reno distribution centre", "NA-WEST", "Reno, NV, US", "America/Los_Angeles",
     "16:00", SHELFLINE__V1__WAREHOUSE__KIND__DISTRIBUTION_CENTER},
    {"MFC-SFO", "San Francisco micro-fulfilment", "NA-WEST", "San Francisco, CA, US",
     "America/Los_Angeles", "20:00", SHELFLINE__V1__WAREHOUSE__KIND__MICRO_FULFILLMENT},
    {"DC-FRA", "Frankfurt distribution centre", "EU-CENTRAL", "Frankfurt, DE", "Europe/Berlin",
     "18:00", SHELFLINE__V1__WAREHOUSE__KIND__DISTRIBUTION_CENTER},
    {"3PL-WAW", "Warsaw 3PL partner", "EU-CENTRAL", "Warsaw, PL", "Europe/Warsaw", "15:00",
     SHELFLINE__V1__WAREHOUSE__KIND__THIRD_PARTY_LOGISTICS},
};

/* Transit p50/p90 days, warehouse x region (NA-EAST, NA-WEST, EU-CENTRAL);
 * -1: does not ship there. */
static const int transit[NWH][3][2] = {
    {{1, 2}, {4, 6}, {-1, -1}}, {{0, 1}, {5, 7}, {-1, -1}},  {{4, 6}, {1, 2}, {-1, -1}},
    {{5, 8}, {0, 1}, {-1, -1}}, {{7, 12}, {-1, -1}, {1, 3}}, {{-1, -1}, {-1, -1}, {2, 4}},
};
static const char *const regions[3] = {"NA-EAST", "NA-WEST", "EU-CENTRAL"};

typedef struct category {
    const char *code, *name;
    const char *brands[3];
    int64_t price_lo, price_hi; /* minor units */
    int repeat_days;
    const char *tags[2];
} category;

static const category categories[10] = {
    {"ELEC",
     "electronics",
     {"Voltix", "Nimbus", "Arcwave"},
     1999,
     89999,
     0,
     {"black-friday", "christmas"}},
    {"HOME", "home", {"Hearth", "Linden", "Casa Nova"}, 999, 24999, 0, {"christmas", "winter"}},
    {"KITCH",
     "kitchen",
     {"Copperleaf", "Brisk", "Umami"},
     599,
     19999,
     0,
     {"black-friday", "christmas"}},
    {"TOYS", "toys", {"Blokk", "Whimsy", "Kite & Co"}, 499, 9999, 0, {"christmas", "black-friday"}},
    {"BOOK", "books", {"Quill", "Folio", "Marginalia"}, 799, 4999, 0, {"back-to-school", "summer"}},
    {"SPORT", "sports", {"Stride", "Peakline", "Tidal"}, 1499, 29999, 0, {"summer", "winter"}},
    {"BEAUTY", "beauty", {"Lumen", "Dew", "Saffron"}, 399, 7999, 45, {"christmas", ""}},
    {"GROC", "grocery", {"Harvest", "Pantry Co", "Old Mill"}, 149, 2999, 14, {"", ""}},
    {"PET", "pets", {"Pawsome", "Feral", "Kibble King"}, 299, 9999, 30, {"", ""}},
    {"APPAR",
     "apparel",
     {"Threadline", "Norrland", "Kinfolk"},
     1299,
     19999,
     0,
     {"winter", "back-to-school"}},
};

static const char *const nouns[] = {"Lamp",     "Kettle", "Headphones", "Blanket", "Blender",
                                    "Puzzle",   "Novel",  "Yoga Mat",   "Serum",   "Coffee",
                                    "Treats",   "Jacket", "Speaker",    "Mug",     "Board Game",
                                    "Backpack", "Candle", "Scarf",      "Tea",     "Charger"};
static const char *const adjectives[] = {"Classic",  "Compact", "Deluxe", "Eco",     "Pro",
                                         "Everyday", "Travel",  "Smart",  "Organic", "Premium"};

/* splitmix64: the one source of randomness, seeded per SKU so that every
 * SKU's data is independent of thread scheduling. */
static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next(rng *r)
{
    r->s = mix(r->s);
    return r->s;
}

static int64_t between(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(next(r) % (uint64_t)(hi - lo + 1));
}

typedef struct ctx {
    sl_channel *ch;
    int64_t now_ms;
    atomic_int failed;
    atomic_int calls;
    char first_error[1024];
    pthread_mutex_t mu;
} ctx;

static void failure(ctx *c, const char *what, const sl_err *err)
{
    pthread_mutex_lock(&c->mu);
    if (atomic_fetch_add(&c->failed, 1) == 0)
        snprintf(c->first_error, sizeof c->first_error, "%.400s: %.500s", what, err->msg);
    pthread_mutex_unlock(&c->mu);
}

/* One call; ALREADY_EXISTS is fine when `exists_ok` (created earlier with
 * time-dependent values). */
static bool call(ctx *c, sl_arena *a, const char *method, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *resp, bool exists_ok, const char *what)
{
    char full[96];
    snprintf(full, sizeof full, "/shelfline.v1.InventoryService/%s", method);
    sl_call_options o = {
        .timeout_ms = 20000, .idempotent = true, .wait_for_ready = true, .max_attempts = 8};
    ProtobufCMessage *out;
    sl_err err;
    sl_status st = sl_client_unary(c->ch, full, req, resp, a, &out, &o, &err);
    atomic_fetch_add(&c->calls, 1);
    if (st == SL_OK || (exists_ok && st == SL_ALREADY_EXISTS))
        return true;
    char w[160];
    snprintf(w, sizeof w, "%s %s (%s)", method, what, sl_status_name(st));
    failure(c, w, &err);
    return false;
}

static void sku_name(int i, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s-%04d", categories[i % 10].code, i / 10 + 1);
}

static bool load_network(ctx *c, sl_arena *a)
{
    for (int i = 0; i < NWH; i++) {
        const wh_def *d = &warehouses[i];
        Shelfline__V1__Warehouse w = SHELFLINE__V1__WAREHOUSE__INIT;
        w.warehouse_id = (char *)d->id;
        w.name = (char *)d->name;
        w.region = (char *)d->region;
        w.kind = d->kind;
        w.location = (char *)d->location;
        w.time_zone = (char *)d->tz;
        w.ship_cutoff = (char *)d->cutoff;
        w.active = true;
        Shelfline__V1__CreateWarehouseRequest r = SHELFLINE__V1__CREATE_WAREHOUSE_REQUEST__INIT;
        r.warehouse = &w;
        if (!call(c, a, "CreateWarehouse", &r.base, &shelfline__v1__warehouse__descriptor, false,
                  d->id))
            return false;
        for (int g = 0; g < 3; g++) {
            if (transit[i][g][0] < 0)
                continue;
            Shelfline__V1__TransitTime t = SHELFLINE__V1__TRANSIT_TIME__INIT;
            t.warehouse_id = (char *)d->id;
            t.region = (char *)regions[g];
            t.p50_days = transit[i][g][0];
            t.p90_days = transit[i][g][1];
            Shelfline__V1__CreateTransitTimeRequest tr =
                SHELFLINE__V1__CREATE_TRANSIT_TIME_REQUEST__INIT;
            tr.transit_time = &t;
            if (!call(c, a, "CreateTransitTime", &tr.base, &shelfline__v1__transit_time__descriptor,
                      false, d->id))
                return false;
        }
        sl_arena_reset(a);
    }
    return true;
}

/* Loads SKU i: product, stock with policies, and maybe a purchase order. */
static void load_sku(ctx *c, sl_arena *a, int i)
{
    rng r = {SEED ^ mix((uint64_t)i)};
    const category *cat = &categories[i % 10];
    char sku[32], name[128];
    sku_name(i, sku, sizeof sku);
    snprintf(name, sizeof name, "%s %s %s", cat->brands[next(&r) % 3], adjectives[next(&r) % 10],
             nouns[next(&r) % 20]);
    Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
    price.minor_units = between(&r, cat->price_lo, cat->price_hi) / 100 * 100 + 99;
    price.currency = "USD";
    char *tags[2];
    size_t ntags = 0;
    for (int k = 0; k < 2; k++)
        if (cat->tags[k][0] != '\0' && next(&r) % 3 != 0)
            tags[ntags++] = (char *)cat->tags[k];
    Shelfline__V1__Product p = SHELFLINE__V1__PRODUCT__INIT;
    p.sku = sku;
    p.name = name;
    p.category = (char *)cat->name;
    p.brand = (char *)cat->brands[i % 3];
    p.price = &price;
    p.repeat_purchase_days = cat->repeat_days;
    p.seasonal_tags = tags;
    p.n_seasonal_tags = ntags;
    Shelfline__V1__CreateProductRequest pr = SHELFLINE__V1__CREATE_PRODUCT_REQUEST__INIT;
    pr.product = &p;
    if (!call(c, a, "CreateProduct", &pr.base, &shelfline__v1__product__descriptor, false, sku))
        return;

    /* Stock profile: the flash-sale SKU is deep; ~5% out, ~10% low. */
    int profile = i == 0 ? 3 : (int)(next(&r) % 100);
    bool out = profile >= 95 && i != 0, low = profile >= 85 && profile < 95;
    int nwh = 2 + (int)(next(&r) % 3);
    int first = (int)(next(&r) % NWH);
    if (i == 0) {
        nwh = 4;
        first = 0;
    }
    for (int k = 0; k < nwh; k++) {
        const char *wh = warehouses[(first + k) % NWH].id;
        Shelfline__V1__SetStockPolicyRequest sp = SHELFLINE__V1__SET_STOCK_POLICY_REQUEST__INIT;
        sp.sku = sku;
        sp.warehouse_id = (char *)wh;
        sp.low_stock_threshold = 10;
        sp.safety_stock = 5;
        if (!call(c, a, "SetStockPolicy", &sp.base, &shelfline__v1__stock_level__descriptor, false,
                  sku))
            return;
        int64_t qty = out ? 0 : low ? between(&r, 1, 5) : between(&r, 20, 500);
        if (i == 0)
            qty = 1000;
        if (qty == 0)
            continue;
        char id[96];
        snprintf(id, sizeof id, "demo-stock-%s-%s", sku, wh);
        Shelfline__V1__AdjustStockRequest as = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
        as.request_id = id;
        as.sku = sku;
        as.warehouse_id = (char *)wh;
        as.delta = qty;
        as.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT;
        as.reference = "demo opening stock";
        if (!call(c, a, "AdjustStock", &as.base, &shelfline__v1__adjust_stock_response__descriptor,
                  false, sku))
            return;
    }

    /* Purchase orders: every out-of-stock SKU, half the low ones, a few more. */
    if (out || (low && next(&r) % 2 == 0) || next(&r) % 100 < 2) {
        char po[48];
        snprintf(po, sizeof po, "PO-%s", sku);
        Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
        ci.inbound_id = po;
        ci.sku = sku;
        ci.warehouse_id = (char *)warehouses[first].id;
        ci.qty = between(&r, 50, 400);
        ci.expected_at_ms = c->now_ms + between(&r, 3, 20) * DAY_MS;
        ci.supplier = (char *)cat->brands[i % 3];
        ci.reference = "demo replenishment";
        if (!call(c, a, "CreateInbound", &ci.base, &shelfline__v1__inbound__descriptor, true, po))
            return;
        /* One in six has already slipped. */
        if (next(&r) % 6 == 0) {
            Shelfline__V1__GetInboundRequest gi = SHELFLINE__V1__GET_INBOUND_REQUEST__INIT;
            gi.inbound_id = po;
            char full[] = "/shelfline.v1.InventoryService/GetInbound";
            ProtobufCMessage *m;
            sl_err err;
            sl_call_options o = {.timeout_ms = 20000, .idempotent = true};
            if (sl_client_unary(c->ch, full, &gi.base, &shelfline__v1__inbound__descriptor, a, &m,
                                &o, &err) == SL_OK &&
                ((Shelfline__V1__Inbound *)m)->n_delays == 0) {
                Shelfline__V1__DelayInboundRequest dr = SHELFLINE__V1__DELAY_INBOUND_REQUEST__INIT;
                dr.inbound_id = po;
                dr.new_expected_at_ms = ((Shelfline__V1__Inbound *)m)->expected_at_ms + 4 * DAY_MS;
                dr.reason = "supplier capacity shortfall";
                call(c, a, "DelayInbound", &dr.base, &shelfline__v1__inbound__descriptor, false,
                     po);
            }
        }
    }
}

typedef struct worker {
    ctx *c;
    int first, step;
} worker;

static void *worker_main(void *p)
{
    worker *w = p;
    sl_arena *a = sl_arena_create(0);
    if (a == NULL)
        return NULL;
    for (int i = w->first; i < NSKUS && atomic_load(&w->c->failed) == 0; i += w->step) {
        load_sku(w->c, a, i);
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return NULL;
}

static bool load_flash_sale(ctx *c, sl_arena *a)
{
    Shelfline__V1__GetPromotionRequest g = SHELFLINE__V1__GET_PROMOTION_REQUEST__INIT;
    g.promotion_id = "BF-FLASH";
    ProtobufCMessage *m;
    sl_err err;
    sl_call_options o = {.timeout_ms = 20000, .idempotent = true};
    sl_status st = sl_client_unary(c->ch, "/shelfline.v1.InventoryService/GetPromotion", &g.base,
                                   &shelfline__v1__promotion__descriptor, a, &m, &o, &err);
    if (st == SL_OK)
        return true;
    if (st != SL_NOT_FOUND) {
        failure(c, "GetPromotion BF-FLASH", &err);
        return false;
    }
    char sku[32];
    sku_name(0, sku, sizeof sku);
    Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
    price.currency = "USD";
    price.minor_units = 0;
    Shelfline__V1__GetProductRequest gp = SHELFLINE__V1__GET_PRODUCT_REQUEST__INIT;
    gp.sku = sku;
    if (sl_client_unary(c->ch, "/shelfline.v1.InventoryService/GetProduct", &gp.base,
                        &shelfline__v1__product__descriptor, a, &m, &o, &err) != SL_OK) {
        failure(c, "GetProduct ELEC-0001", &err);
        return false;
    }
    price.minor_units = ((Shelfline__V1__Product *)m)->price->minor_units * 7 / 10;
    Shelfline__V1__Promotion p = SHELFLINE__V1__PROMOTION__INIT;
    p.promotion_id = "BF-FLASH";
    p.sku = sku;
    p.quota = 300;
    p.per_customer_limit = 2;
    p.starts_at_ms = c->now_ms - 3600 * 1000;
    p.ends_at_ms = c->now_ms + 7 * DAY_MS;
    p.price = &price;
    p.region = "NA-EAST";
    Shelfline__V1__CreatePromotionRequest cr = SHELFLINE__V1__CREATE_PROMOTION_REQUEST__INIT;
    cr.promotion = &p;
    return call(c, a, "CreatePromotion", &cr.base, &shelfline__v1__promotion__descriptor, true,
                "BF-FLASH");
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: shelfline-inventory-demo (address from "
                        "SHELFLINE_INVENTORY_ADDR, default 127.0.0.1:50051)\n");
        return 2;
    }
    sl_log_init("inventory-demo", SL_LOG_ERROR);
    sl_err err;
    const char *addr;
    if (sl_config_hostport("SHELFLINE_INVENTORY_ADDR", "127.0.0.1:50051", &addr, &err) != SL_OK) {
        fprintf(stderr, "shelfline-inventory-demo: %s\n", err.msg);
        return 2;
    }
    ctx c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    c.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    /* The services authenticate: the token make run issued the loaders. */
    sl_channel_options co;
    if (sl_channel_options_from_env(&co, &err) != SL_OK ||
        sl_channel_create(addr, &co, &c.ch, &err) != SL_OK) {
        fprintf(stderr, "shelfline-inventory-demo: %s\n", err.msg);
        return 1;
    }
    sl_arena *a = sl_arena_create(0);
    bool ok = a != NULL && load_network(&c, a);
    if (ok) {
        pthread_t th[THREADS];
        worker w[THREADS];
        for (int i = 0; i < THREADS; i++) {
            w[i] = (worker){&c, i, THREADS};
            pthread_create(&th[i], NULL, worker_main, &w[i]);
        }
        for (int i = 0; i < THREADS; i++)
            pthread_join(th[i], NULL);
        ok = atomic_load(&c.failed) == 0 && load_flash_sale(&c, a);
    }
    sl_arena_destroy(a);
    sl_channel_destroy(c.ch);
    if (!ok || atomic_load(&c.failed) > 0) {
        fprintf(stderr, "shelfline-inventory-demo: could not load the demo into %s: %s\n", addr,
                c.first_error[0] != '\0' ? c.first_error : "out of memory");
        return 1;
    }
    printf("inventory demo loaded into %s: 3 regions, %d warehouses, %d SKUs, flash sale "
           "BF-FLASH (%d calls)\n",
           addr, NWH, NSKUS, atomic_load(&c.calls));
    return 0;
}
