/*
 * shelfline-customer-value-demo: loads about 10,000 demo customers with
 * purchase histories into a running customer-value service through its
 * gRPC API -- in batches, UpsertCustomers and RecordPurchases of up to
 * 1,000 orders, a transaction each -- then fits the models (FitModels).
 *
 * What it loads (deterministic: seed DEMO_SEED, the same data every run on
 * the same UTC day):
 *   - customers c-00001 .. c-10000 across the demo regions NA-EAST (40%),
 *     NA-WEST (35%) and EU-CENTRAL (25%), signed up over the last two
 *     years; one in ten was referred by an earlier customer;
 *   - purchase histories drawn the way BG/NBD assumes customers behave:
 *     each customer buys at their own rate (gamma-distributed across
 *     customers, a purchase every ~45 days on average) and may drop out
 *     after each purchase (beta-distributed probability), from sign-up to
 *     today; every order has 1-3 lines, mostly from the customer's one or
 *     two favourite categories, and consumables (products with a
 *     repeat-purchase cycle) are bought again about once per cycle;
 *   - products from the inventory catalogue (ListProducts on
 *     SHELFLINE_INVENTORY_ADDR) with their categories and prices, so the
 *     histories match the demo catalogue and stock; when inventory cannot
 *     be reached, the inventory demo's own scheme (2,000 SKUs ELEC-0001 ..
 *     APPAR-0200 in its ten categories) with deterministic prices;
 *   - amounts in USD (the demo catalogue's currency); a few orders (3%)
 *     are partly returned.
 *
 * Idempotent: customers, orders and returns are keyed (c-NNNNN,
 * o-NNNNN-K, rt-NNNNN-K).  Histories are anchored at today's UTC midnight;
 * customer c-10000 is written last, so when it exists the load is complete
 * and a re-run only fits the models again.
 *
 * usage: shelfline-customer-value-demo  (addresses from
 *        SHELFLINE_CUSTOMER_VALUE_ADDR [127.0.0.1:50053] and
 *        SHELFLINE_INVENTORY_ADDR [127.0.0.1:50051])
 * Exit status 0 when everything is loaded and fitted, 1 otherwise (with the
 * first error on stderr).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_client.h"
#include "sl_config.h"

#define NCUST 10000
#define THREADS 8
#define DEMO_SEED 20251123ULL
#define DAY_MS (24LL * 3600 * 1000)
#define MAX_ORDERS 60

typedef struct product {
    char sku[72], category[72];
    int64_t price;
    int repeat_days;
} product;

typedef struct catalogue {
    product *p;
    size_t n;
    /* products grouped by category: cat_first[k] .. + cat_n[k] in p */
    char cats[32][72];
    size_t cat_first[32], cat_n[32];
    size_t ncats;
} catalogue;

typedef struct ctx {
    sl_channel *cv;
    catalogue cat;
    int64_t today_ms;
    atomic_int failed;
    atomic_long orders;
    char first_error[1024];
    pthread_mutex_t mu;
    int thread_no;
} ctx;

/* ---- randomness: splitmix64 seeded per customer ---- */

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

static double unif(rng *r)
{
    r->s = mix(r->s);
    return ((double)(r->s >> 11) + 0.5) / 9007199254740992.0;
}

static int64_t between(rng *r, int64_t lo, int64_t hi)
{
    r->s = mix(r->s);
    return lo + (int64_t)(r->s % (uint64_t)(hi - lo + 1));
}

/* Gamma(shape k, scale 1) by Marsaglia-Tsang (k < 1 via the boost). */
static double gamma1(rng *r, double k)
{
    if (k < 1) {
        double u = unif(r);
        return gamma1(r, k + 1) * pow(u, 1.0 / k);
    }
    double d = k - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x, v;
        do {
            /* Box-Muller normal */
            x = sqrt(-2 * log(unif(r))) * cos(2 * 3.14159265358979323846 * unif(r));
            v = 1 + c * x;
        } while (v <= 0);
        v = v * v * v;
        double u = unif(r);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

static double beta(rng *r, double a, double b)
{
    double x = gamma1(r, a), y = gamma1(r, b);
    return x / (x + y);
}

/* ---- the catalogue ---- */

static const struct {
    const char *code, *name;
    int64_t lo, hi;
    int repeat_days;
} fallback[10] = {
    {"ELEC", "electronics", 1999, 89999, 0}, {"HOME", "home", 999, 24999, 0},
    {"KITCH", "kitchen", 599, 19999, 0},     {"TOYS", "toys", 499, 9999, 0},
    {"BOOK", "books", 799, 4999, 0},         {"SPORT", "sports", 1499, 29999, 0},
    {"BEAUTY", "beauty", 399, 7999, 45},     {"GROC", "grocery", 149, 2999, 14},
    {"PET", "pets", 299, 9999, 30},          {"APPAR", "apparel", 1299, 19999, 0},
};

static int product_cmp(const void *x, const void *y)
{
    const product *a = x, *b = y;
    int c = strcmp(a->category, b->category);
    return c != 0 ? c : strcmp(a->sku, b->sku);
}

static void group(catalogue *c)
{
    qsort(c->p, c->n, sizeof *c->p, product_cmp);
    c->ncats = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->ncats == 0 || strcmp(c->cats[c->ncats - 1], c->p[i].category) != 0) {
            if (c->ncats == 32)
                break;
            snprintf(c->cats[c->ncats], sizeof c->cats[0], "%s", c->p[i].category);
            c->cat_first[c->ncats] = i;
            c->cat_n[c->ncats] = 0;
            c->ncats++;
        }
        c->cat_n[c->ncats - 1]++;
    }
}

/* Reads the catalogue from inventory; false when it cannot (or it is
 * empty). */
static bool load_inventory(catalogue *c, const char *addr, const sl_channel_options *co)
{
    sl_channel *ch;
    sl_err err;
    if (sl_channel_create(addr, co, &ch, &err) != SL_OK)
        return false;
    sl_arena *a = sl_arena_create(256 * 1024);
    char token[256] = "";
    size_t cap = 0;
    bool ok = a != NULL;
    while (ok) {
        Shelfline__V1__PageRequest pr = SHELFLINE__V1__PAGE_REQUEST__INIT;
        pr.page_size = 1000;
        pr.page_token = token;
        Shelfline__V1__ListProductsRequest req = SHELFLINE__V1__LIST_PRODUCTS_REQUEST__INIT;
        req.page = &pr;
        sl_call_options o = {.timeout_ms = 10000, .idempotent = true};
        ProtobufCMessage *m;
        if (sl_client_unary(ch, "/shelfline.v1.InventoryService/ListProducts", &req.base,
                            &shelfline__v1__list_products_response__descriptor, a, &m, &o,
                            &err) != SL_OK) {
            fprintf(stderr,
                    "customer-value demo: inventory catalogue not available (%s); using "
                    "the inventory demo's SKU scheme\n",
                    err.msg);
            ok = false;
            break;
        }
        Shelfline__V1__ListProductsResponse *r = (Shelfline__V1__ListProductsResponse *)m;
        for (size_t i = 0; i < r->n_products; i++) {
            if (c->n == cap) {
                cap = cap == 0 ? 1024 : 2 * cap;
                product *np = realloc(c->p, cap * sizeof *np);
                if (np == NULL) {
                    ok = false;
                    break;
                }
                c->p = np;
            }
            product *d = &c->p[c->n++];
            snprintf(d->sku, sizeof d->sku, "%s", r->products[i]->sku);
            snprintf(d->category, sizeof d->category, "%s", r->products[i]->category);
            d->price = r->products[i]->price != NULL ? r->products[i]->price->minor_units : 999;
            if (d->price <= 0)
                d->price = 999;
            d->repeat_days = r->products[i]->repeat_purchase_days;
        }
        if (!ok || r->next_page_token[0] == '\0')
            break;
        snprintf(token, sizeof token, "%s", r->next_page_token);
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    sl_channel_destroy(ch);
    return ok && c->n > 0;
}

static bool load_fallback(catalogue *c)
{
    c->n = 0;
    free(c->p);
    c->p = calloc(2000, sizeof *c->p);
    if (c->p == NULL)
        return false;
    for (int i = 0; i < 2000; i++) {
        product *d = &c->p[c->n++];
        int k = i % 10;
        snprintf(d->sku, sizeof d->sku, "%s-%04d", fallback[k].code, i / 10 + 1);
        snprintf(d->category, sizeof d->category, "%s", fallback[k].name);
        rng r = {DEMO_SEED ^ (uint64_t)i};
        d->price = between(&r, fallback[k].lo, fallback[k].hi) / 100 * 100 + 99;
        d->repeat_days = fallback[k].repeat_days;
    }
    return true;
}

/* ---- loading ---- */

static void failure(ctx *c, const char *what, const sl_err *err)
{
    pthread_mutex_lock(&c->mu);
    if (atomic_fetch_add(&c->failed, 1) == 0)
        snprintf(c->first_error, sizeof c->first_error, "%.400s: %.500s", what, err->msg);
    pthread_mutex_unlock(&c->mu);
}

static bool call(ctx *c, sl_arena *a, const char *method, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *resp, bool exists_ok, const char *what)
{
    char full[96];
    snprintf(full, sizeof full, "/shelfline.v1.CustomerValueService/%s", method);
    sl_call_options o = {
        .timeout_ms = 60000, .idempotent = true, .wait_for_ready = true, .max_attempts = 8};
    ProtobufCMessage *out;
    sl_err err;
    sl_status st = sl_client_unary(c->cv, full, req, resp, a, &out, &o, &err);
    if (st == SL_OK || (exists_ok && st == SL_ALREADY_EXISTS))
        return true;
    char w[160];
    snprintf(w, sizeof w, "%s %s (%s)", method, what, sl_status_name(st));
    failure(c, w, &err);
    return false;
}

static const char *region_of(rng *r)
{
    double u = unif(r);
    return u < 0.40 ? "NA-EAST" : u < 0.75 ? "NA-WEST" : "EU-CENTRAL";
}

/* ---- batches: one UpsertCustomers and one RecordPurchases call for many
 * customers and orders (a transaction each, not one per order) ---- */

/* Orders per RecordPurchases call (the service takes up to 1,000). */
#define BATCH_ORDERS 1000

typedef struct batch {
    sl_arena *a; /* everything queued; reset after each flush */
    Shelfline__V1__UpsertCustomerRequest *cust[BATCH_ORDERS];
    size_t ncust;
    Shelfline__V1__RecordPurchaseRequest *ord[BATCH_ORDERS];
    size_t nord;
    Shelfline__V1__RecordReturnRequest *ret[BATCH_ORDERS];
    size_t nret;
} batch;

/* Sends what is queued: customers first (orders name them), then orders,
 * then returns (which name orders).  Returns are few (3%): one call each. */
static bool flush(ctx *c, batch *b)
{
    bool ok = true;
    if (b->ncust > 0) {
        Shelfline__V1__UpsertCustomersRequest u = SHELFLINE__V1__UPSERT_CUSTOMERS_REQUEST__INIT;
        u.customers = b->cust;
        u.n_customers = b->ncust;
        ok = call(c, b->a, "UpsertCustomers", &u.base,
                  &shelfline__v1__upsert_customers_response__descriptor, false,
                  b->cust[0]->customer_id);
    }
    if (ok && b->nord > 0) {
        Shelfline__V1__RecordPurchasesRequest r = SHELFLINE__V1__RECORD_PURCHASES_REQUEST__INIT;
        r.purchases = b->ord;
        r.n_purchases = b->nord;
        ok =
            call(c, b->a, "RecordPurchases", &r.base,
                 &shelfline__v1__record_purchases_response__descriptor, false, b->ord[0]->order_id);
        if (ok)
            atomic_fetch_add(&c->orders, (long)b->nord);
    }
    for (size_t i = 0; ok && i < b->nret; i++)
        ok = call(c, b->a, "RecordReturn", &b->ret[i]->base,
                  &shelfline__v1__record_return_response__descriptor, false, b->ret[i]->return_id);
    b->ncust = b->nord = b->nret = 0;
    sl_arena_reset(b->a);
    return ok;
}

static Shelfline__V1__Money *money(sl_arena *a, int64_t minor)
{
    Shelfline__V1__Money *m = sl_arena_alloc(a, sizeof *m);
    if (m != NULL) {
        shelfline__v1__money__init(m);
        m->minor_units = minor;
        m->currency = "USD";
    }
    return m;
}

static bool out_of_memory(ctx *c)
{
    sl_err err;
    sl_err_set(&err, SL_RESOURCE_EXHAUSTED, "out of memory");
    failure(c, "queueing", &err);
    return false;
}

/* Queues customer i (1-based) and their history in b, flushing first when
 * b could not take a whole history. */
static bool load_customer(ctx *c, batch *b, int i)
{
    if ((b->nord + MAX_ORDERS > BATCH_ORDERS || b->ncust == BATCH_ORDERS ||
         b->nret + MAX_ORDERS > BATCH_ORDERS) &&
        !flush(c, b))
        return false;
    sl_arena *a = b->a;
    rng r = {DEMO_SEED * 1000003ULL + (uint64_t)i};
    char id[16], ref[16] = "";
    snprintf(id, sizeof id, "c-%05d", i);
    int signup_days = (int)between(&r, 1, 730);
    /* Referral chains point at earlier customers, which other threads may
     * not have written yet: the referral is only kept when the referrer is
     * in this thread's chunk (same residue), written earlier by this thread
     * or queued before this customer in the same batch. */
    if (i > 100 && unif(&r) < 0.10) {
        long referrer = (long)between(&r, 1, i - 1);
        if (referrer % THREADS == (long)(i % THREADS))
            snprintf(ref, sizeof ref, "c-%05ld", referrer);
    }
    Shelfline__V1__UpsertCustomerRequest *u = sl_arena_alloc(a, sizeof *u);
    if (u == NULL)
        return out_of_memory(c);
    shelfline__v1__upsert_customer_request__init(u);
    u->customer_id = sl_arena_strdup(a, id);
    u->region = (char *)region_of(&r);
    u->signed_up_at_ms = c->today_ms - (int64_t)signup_days * DAY_MS + between(&r, 0, DAY_MS - 1);
    u->referred_by = sl_arena_strdup(a, ref);
    if (u->customer_id == NULL || u->referred_by == NULL)
        return out_of_memory(c);
    b->cust[b->ncust++] = u;

    /* BG/NBD-like behaviour in days. */
    double lambda = gamma1(&r, 0.9) / 40.0; /* purchases per day */
    double p_drop = beta(&r, 1.0, 4.0);
    size_t fav[2] = {(size_t)between(&r, 0, (int64_t)c->cat.ncats - 1),
                     (size_t)between(&r, 0, (int64_t)c->cat.ncats - 1)};
    double t = (double)signup_days - unif(&r) * 3; /* days before today */
    int norders = 0;
    while (t > 0 && norders < MAX_ORDERS) {
        char oid[32];
        snprintf(oid, sizeof oid, "o-%05d-%d", i, norders);
        int nlines = (int)between(&r, 1, 3);
        Shelfline__V1__PurchaseLine *lines = sl_arena_alloc(a, 3 * sizeof *lines);
        Shelfline__V1__PurchaseLine **lp = sl_arena_alloc(a, 3 * sizeof *lp);
        Shelfline__V1__Money *total = money(a, 0);
        Shelfline__V1__RecordPurchaseRequest *pr = sl_arena_alloc(a, sizeof *pr);
        if (lines == NULL || lp == NULL || total == NULL || pr == NULL)
            return out_of_memory(c);
        int nl = 0;
        for (int k = 0; k < nlines; k++) {
            size_t ci =
                unif(&r) < 0.7 ? fav[k % 2] : (size_t)between(&r, 0, (int64_t)c->cat.ncats - 1);
            /* Popularity is skewed: a few products per category sell most. */
            double u3 = unif(&r);
            size_t pi = c->cat.cat_first[ci] + (size_t)((double)c->cat.cat_n[ci] * u3 * u3 * u3);
            const product *p = &c->cat.p[pi];
            bool dup = false;
            for (int q = 0; q < nl; q++)
                dup = dup || strcmp(lines[q].sku, p->sku) == 0;
            if (dup)
                continue;
            shelfline__v1__purchase_line__init(&lines[nl]);
            lines[nl].sku = (char *)p->sku;
            lines[nl].category = (char *)p->category;
            lines[nl].qty = p->repeat_days > 0 ? between(&r, 1, 2) : 1;
            if ((lines[nl].amount = money(a, p->price * lines[nl].qty)) == NULL)
                return out_of_memory(c);
            total->minor_units += lines[nl].amount->minor_units;
            lp[nl] = &lines[nl];
            nl++;
        }
        shelfline__v1__record_purchase_request__init(pr);
        if ((pr->order_id = sl_arena_strdup(a, oid)) == NULL)
            return out_of_memory(c);
        pr->customer_id = u->customer_id;
        pr->at_ms = c->today_ms - (int64_t)(t * (double)DAY_MS);
        pr->amount = total;
        pr->lines = lp;
        pr->n_lines = (size_t)nl;
        b->ord[b->nord++] = pr;
        if (unif(&r) < 0.03) {
            char rid[32];
            snprintf(rid, sizeof rid, "rt-%05d-%d", i, norders);
            Shelfline__V1__ReturnedItem *rl = sl_arena_alloc(a, sizeof *rl);
            Shelfline__V1__ReturnedItem **rlp = sl_arena_alloc(a, sizeof *rlp);
            Shelfline__V1__RecordReturnRequest *rr = sl_arena_alloc(a, sizeof *rr);
            if (rl == NULL || rlp == NULL || rr == NULL)
                return out_of_memory(c);
            shelfline__v1__returned_item__init(rl);
            rl->sku = lines[0].sku;
            rl->qty = 1;
            if ((rl->amount = money(a, lines[0].amount->minor_units / lines[0].qty)) == NULL)
                return out_of_memory(c);
            *rlp = rl;
            shelfline__v1__record_return_request__init(rr);
            rr->order_id = pr->order_id;
            if ((rr->return_id = sl_arena_strdup(a, rid)) == NULL)
                return out_of_memory(c);
            rr->at_ms = pr->at_ms + 7 * DAY_MS < c->today_ms ? pr->at_ms + 7 * DAY_MS : pr->at_ms;
            rr->amount = rl->amount;
            rr->lines = rlp;
            rr->n_lines = 1;
            b->ret[b->nret++] = rr;
        }
        norders++;
        if (unif(&r) < p_drop)
            break; /* dropped out */
        /* Next purchase: exponential wait at rate lambda; consumables
         * nudge it toward their cycle. */
        double wait = -log(unif(&r)) / lambda;
        const product *first = NULL;
        for (size_t q = 0; q < c->cat.n && first == NULL; q++)
            if (strcmp(c->cat.p[q].sku, lines[0].sku) == 0)
                first = &c->cat.p[q];
        if (first != NULL && first->repeat_days > 0 && unif(&r) < 0.6)
            wait = first->repeat_days * (double)lines[0].qty * (0.8 + 0.4 * unif(&r));
        t -= wait < 1 ? 1 : wait;
    }
    return true;
}

static void *worker(void *arg)
{
    ctx *c = arg;
    pthread_mutex_lock(&c->mu);
    int me = c->thread_no++;
    pthread_mutex_unlock(&c->mu);
    static _Thread_local batch b; /* 24 KiB of pointers: not on the stack */
    if ((b.a = sl_arena_create(256 * 1024)) == NULL)
        return NULL;
    /* Customer i goes to thread i % THREADS; c-10000 is written last, by
     * main, as the "load complete" mark. */
    bool ok = true;
    for (int i = me == 0 ? THREADS : me; ok && i < NCUST && atomic_load(&c->failed) == 0;
         i += THREADS)
        ok = load_customer(c, &b, i);
    if (ok && atomic_load(&c->failed) == 0)
        flush(c, &b);
    sl_arena_destroy(b.a);
    return NULL;
}

int main(void)
{
    const char *cv_addr, *inv_addr;
    sl_err err;
    if (sl_config_hostport("SHELFLINE_CUSTOMER_VALUE_ADDR", "127.0.0.1:50053", &cv_addr, &err) !=
            SL_OK ||
        sl_config_hostport("SHELFLINE_INVENTORY_ADDR", "127.0.0.1:50051", &inv_addr, &err) !=
            SL_OK) {
        fprintf(stderr, "customer-value demo: %s\n", err.msg);
        return 1;
    }
    static ctx c;
    pthread_mutex_init(&c.mu, NULL);
    c.today_ms = (int64_t)time(NULL) * 1000 / DAY_MS * DAY_MS;
    /* The services authenticate: the token make run issued the loaders. */
    sl_channel_options co;
    if (sl_channel_options_from_env(&co, &err) != SL_OK) {
        fprintf(stderr, "customer-value demo: %s\n", err.msg);
        return 1;
    }
    if (!load_inventory(&c.cat, inv_addr, &co) && !load_fallback(&c.cat)) {
        fprintf(stderr, "customer-value demo: out of memory\n");
        return 1;
    }
    group(&c.cat);
    if (sl_channel_create(cv_addr, &co, &c.cv, &err) != SL_OK) {
        fprintf(stderr, "customer-value demo: %s\n", err.msg);
        return 1;
    }
    sl_arena *a = sl_arena_create(0);

    /* Already loaded?  c-10000 is written last. */
    Shelfline__V1__GetCustomerValueRequest g = SHELFLINE__V1__GET_CUSTOMER_VALUE_REQUEST__INIT;
    char last[16];
    snprintf(last, sizeof last, "c-%05d", NCUST);
    g.customer_id = last;
    sl_call_options o = {.timeout_ms = 60000, .wait_for_ready = true};
    ProtobufCMessage *m;
    sl_status st =
        sl_client_unary(c.cv, "/shelfline.v1.CustomerValueService/GetCustomerValue", &g.base,
                        &shelfline__v1__customer_value__descriptor, a, &m, &o, &err);
    if (st != SL_OK && st != SL_NOT_FOUND) {
        fprintf(stderr, "customer-value demo: GetCustomerValue: %s\n", err.msg);
        return 1;
    }
    time_t t0 = time(NULL);
    if (st == SL_NOT_FOUND) {
        pthread_t th[THREADS];
        for (int i = 0; i < THREADS; i++)
            pthread_create(&th[i], NULL, worker, &c);
        for (int i = 0; i < THREADS; i++)
            pthread_join(th[i], NULL);
        static batch last_b;
        if (atomic_load(&c.failed) == 0 && (last_b.a = sl_arena_create(0)) != NULL &&
            load_customer(&c, &last_b, NCUST))
            flush(&c, &last_b);
        if (last_b.a != NULL)
            sl_arena_destroy(last_b.a);
        if (atomic_load(&c.failed) != 0) {
            fprintf(stderr, "customer-value demo: %d failures; first: %s\n", atomic_load(&c.failed),
                    c.first_error);
            return 1;
        }
        printf("customer-value demo: %d customers, %ld orders from %zu products in %zu "
               "categories in %lds\n",
               NCUST, atomic_load(&c.orders), c.cat.n, c.cat.ncats, (long)(time(NULL) - t0));
    } else {
        printf("customer-value demo: customers already loaded\n");
    }

    Shelfline__V1__FitModelsRequest f = SHELFLINE__V1__FIT_MODELS_REQUEST__INIT;
    sl_arena_reset(a);
    if (!call(&c, a, "FitModels", &f.base, &shelfline__v1__model_fit__descriptor, false, "all")) {
        fprintf(stderr, "customer-value demo: %s\n", c.first_error);
        return 1;
    }
    printf("customer-value demo: models fitted\n");
    sl_arena_destroy(a);
    sl_channel_destroy(c.cv);
    free(c.cat.p);
    return 0;
}
