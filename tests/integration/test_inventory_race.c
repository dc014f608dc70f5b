/*
 * Integration tests that try to break the inventory service: two
 * shelfline-inventory processes on one database, 64 client threads
 * racing over real gRPC.
 *   - 1,000 units of a SKU, single-line reservations (some retried with
 *     the same id): exactly 1,000 reserved, never more, no ABORTED or
 *     deadlock errors, the ledger sums to stock, CheckInvariants clean;
 *     then commits and releases racing.
 *   - multi-line orders over two SKUs with lines in both orders: no
 *     deadlock surfaces, every order all-or-nothing.
 *   - a flash sale: quota and per-customer limits hold under the race.
 *   - holds expiring with two reapers: each released exactly once.
 *   - one process SIGKILLed mid-race: every answered reservation is in
 *     the database whole, nothing half-applied, retries on the survivor
 *     get the first answer.
 *   - a rolling restart (SIGTERM, start again, one replica at a time)
 *     under reads and reservations over a round_robin channel with no
 *     retries: not one call fails.
 * Loops are bounded in count and time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inv_test.h"
#include "sl_test.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_log.h"

#define THREADS 64
#define DESC(x) &shelfline__v1__##x##__descriptor

static invt_svc svc;
static const char *const env[] = {"SHELFLINE_WORKERS=32", "SHELFLINE_DB_POOL=40",
                                  "SHELFLINE_INVENTORY_REAP_INTERVAL=100ms", NULL};

static int group_setup(void **state)
{
    (void)state;
    if (invt_start(&svc, "inv_race", 2, env) != 0)
        return -1;
    const char *skus[] = {"R-HOT", "R-X", "R-Y", "R-PROMO", "R-TTL", "R-KILL", "R-ROLL"};
    return invt_seed(svc.ch[0], skus, 7);
}

static int group_teardown(void **state)
{
    (void)state;
    return invt_stop(&svc) == 0 ? 0 : -1;
}

static long long sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long sql(const char *fmt, ...)
{
    char q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    return invt_sql_int(svc.conninfo, q);
}

typedef struct rline {
    const char *sku;
    int64_t qty;
    const char *promo;
} rline;

static sl_status reserve(sl_channel *ch, sl_arena *a, const char *id, const char *customer,
                         const char *region, const rline *lines, int n, bool split, int64_t ttl,
                         Shelfline__V1__ReserveResponse **out, sl_err *err)
{
    Shelfline__V1__ReserveLine l[4], *lp[4];
    for (int i = 0; i < n; i++) {
        shelfline__v1__reserve_line__init(&l[i]);
        l[i].sku = (char *)lines[i].sku;
        l[i].qty = lines[i].qty;
        l[i].promotion_id = (char *)(lines[i].promo != NULL ? lines[i].promo : "");
        lp[i] = &l[i];
    }
    Shelfline__V1__ReserveRequest r = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    r.reservation_id = (char *)id;
    r.customer_id = (char *)customer;
    r.region = (char *)region;
    r.lines = lp;
    r.n_lines = (size_t)n;
    r.allow_split = split;
    r.hold_ttl_ms = ttl;
    return invt_call(ch, "Reserve", &r.base, DESC(reserve_response), a, out, err);
}

static sl_status close_resv(sl_channel *ch, sl_arena *a, const char *method, const char *id,
                            sl_err *err)
{
    Shelfline__V1__CommitRequest r = SHELFLINE__V1__COMMIT_REQUEST__INIT;
    r.reservation_id = (char *)id;
    return invt_call(ch, method, &r.base, DESC(reservation), a, NULL, err);
}

static int64_t total_qty(const Shelfline__V1__Reservation *r, const char *sku)
{
    int64_t n = 0;
    for (size_t i = 0; i < r->n_lines; i++) {
        if (strcmp(r->lines[i]->sku, sku) != 0)
            continue;
        int64_t parts = 0;
        for (size_t k = 0; k < r->lines[i]->n_allocations; k++)
            parts += r->lines[i]->allocations[k]->qty;
        /* No cmocka assertions off the test's thread: a wrong split shows
         * up as a wildly wrong total instead. */
        n += parts == r->lines[i]->qty ? parts : 1000000;
    }
    return n;
}

/* ---- 1,000 units, single lines ---- */

typedef struct hot_arg {
    int t;
    atomic_llong *units;
    atomic_int *bad;
    int accepted;
    char (*ids)[32]; /* accepted ids */
    int nids;
} hot_arg;

static void *hot_main(void *p)
{
    hot_arg *h = p;
    sl_channel *ch = svc.ch[h->t % 2];
    sl_arena *a = sl_arena_create(0);
    unsigned seed = (unsigned)h->t * 7919u + 1;
    int misses = 0;
    int64_t until = invt_now_ms() + 30000;
    for (int i = 0; i < 400 && misses < 3 && invt_now_ms() < until; i++) {
        char id[32];
        snprintf(id, sizeof id, "hot-%d-%d", h->t, i);
        int64_t qty = misses > 0 ? 1 : 1 + rand_r(&seed) % 3;
        bool split = misses > 0 || rand_r(&seed) % 2 == 0;
        rline l[] = {{"R-HOT", qty, NULL}};
        const char *region = rand_r(&seed) % 2 ? "EAST" : "WEST";
        Shelfline__V1__ReserveResponse *out;
        sl_err err;
        sl_status st = reserve(ch, a, id, "c", region, l, 1, split, 0, &out, &err);
        if (st == SL_OK) {
            if (out->replayed)
                atomic_fetch_add(h->bad, 1);
            atomic_fetch_add(h->units, total_qty(out->reservation, "R-HOT"));
            snprintf(h->ids[h->nids++], 32, "%s", id);
            misses = 0;
            /* Sometimes the client retries: the same answer, nothing more. */
            if (rand_r(&seed) % 8 == 0) {
                Shelfline__V1__ReserveResponse *again;
                st = reserve(svc.ch[(h->t + 1) % 2], a, id, "c", region, l, 1, split, 0, &again,
                             &err);
                if (st != SL_OK || !again->replayed ||
                    again->reservation->expires_at_ms != out->reservation->expires_at_ms) {
                    fprintf(stderr, "retry of %s: %s %s\n", id, sl_status_name(st), err.msg);
                    atomic_fetch_add(h->bad, 1);
                }
            }
        } else if (st == SL_FAILED_PRECONDITION) {
            misses++;
        } else {
            fprintf(stderr, "reserve %s: %s %s\n", id, sl_status_name(st), err.msg);
            atomic_fetch_add(h->bad, 1);
        }
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return NULL;
}

typedef struct close_arg {
    int t;
    hot_arg *h;
    atomic_int *bad;
    atomic_llong *committed;
} close_arg;

static void *close_main(void *p)
{
    close_arg *c = p;
    sl_arena *a = sl_arena_create(0);
    for (int i = 0; i < c->h->nids; i++) {
        const char *method = i % 2 == 0 ? "Commit" : "Release";
        sl_err err;
        /* Each on a random replica, and once more on the other one. */
        for (int k = 0; k < 2; k++) {
            sl_status st = close_resv(svc.ch[(c->t + i + k) % 2], a, method, c->h->ids[i], &err);
            if (st != SL_OK) {
                fprintf(stderr, "%s %s: %s %s\n", method, c->h->ids[i], sl_status_name(st),
                        err.msg);
                atomic_fetch_add(c->bad, 1);
            }
        }
        /* The opposite transition is refused. */
        sl_status st =
            close_resv(svc.ch[c->t % 2], a, i % 2 == 0 ? "Release" : "Commit", c->h->ids[i], &err);
        if (st != SL_FAILED_PRECONDITION)
            atomic_fetch_add(c->bad, 1);
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return NULL;
}

static void test_race_1000_units(void **state)
{
    (void)state;
    assert_int_equal(invt_stock(svc.ch[0], "R-HOT", "W-NEAR", 400), 0);
    assert_int_equal(invt_stock(svc.ch[1], "R-HOT", "W-MID", 300), 0);
    assert_int_equal(invt_stock(svc.ch[0], "R-HOT", "W-FAR", 300), 0);
    atomic_llong units = 0;
    atomic_int bad = 0;
    pthread_t th[THREADS];
    static hot_arg args[THREADS];
    static char ids[THREADS][400][32];
    int64_t t0 = invt_now_ms();
    for (int i = 0; i < THREADS; i++) {
        args[i] = (hot_arg){i, &units, &bad, 0, ids[i], 0};
        pthread_create(&th[i], NULL, hot_main, &args[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    int accepted = 0;
    for (int i = 0; i < THREADS; i++)
        accepted += args[i].nids;
    fprintf(stderr, "race: %d reservations, %lld units in %lld ms\n", accepted,
            (long long)atomic_load(&units), (long long)(invt_now_ms() - t0));
    assert_int_equal(atomic_load(&bad), 0);
    assert_int_equal(atomic_load(&units), 1000);
    assert_int_equal(sql("SELECT sum(reserved) FROM inventory.stock WHERE sku = 'R-HOT'"), 1000);
    assert_int_equal(sql("SELECT count(*) FROM inventory.stock WHERE sku = 'R-HOT' "
                         "AND reserved <> on_hand"),
                     0);
    assert_int_equal(sql("SELECT count(*) FROM inventory.reservation r "
                         "WHERE id LIKE 'hot-%%'"),
                     accepted);
    assert_int_equal(sql("SELECT sum(qty) FROM inventory.reservation_alloc WHERE sku = 'R-HOT'"),
                     1000);
    assert_int_equal(invt_violations(svc.ch[1]), 0);

    /* Commit even ones, release odd ones, from both replicas at once. */
    atomic_llong committed = 0;
    static close_arg cargs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        cargs[i] = (close_arg){i, &args[i], &bad, &committed};
        pthread_create(&th[i], NULL, close_main, &cargs[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&bad), 0);
    long long shipped = sql("SELECT -sum(delta) FROM inventory.ledger WHERE sku = 'R-HOT' "
                            "AND reason = 'SHIPMENT'");
    long long committed_units =
        sql("SELECT sum(a.qty) FROM inventory.reservation_alloc a JOIN inventory.reservation r "
            "ON r.id = a.reservation_id WHERE a.sku = 'R-HOT' AND r.status = 'COMMITTED'");
    assert_int_equal(shipped, committed_units);
    assert_int_equal(sql("SELECT sum(on_hand) FROM inventory.stock WHERE sku = 'R-HOT'"),
                     1000 - committed_units);
    assert_int_equal(sql("SELECT sum(reserved) FROM inventory.stock WHERE sku = 'R-HOT'"), 0);
    assert_int_equal(sql("SELECT count(*) FROM inventory.outbox WHERE topic IN "
                         "('RESERVATION_COMMITTED', 'RESERVATION_RELEASED') AND key LIKE 'hot-%%'"),
                     accepted);
    assert_int_equal(invt_violations(svc.ch[0]), 0);
}

/* ---- multi-line orders across two SKUs ---- */

typedef struct multi_arg {
    int t;
    atomic_llong *x, *y;
    atomic_int *bad;
} multi_arg;

static void *multi_main(void *p)
{
    multi_arg *m = p;
    sl_channel *ch = svc.ch[m->t % 2];
    sl_arena *a = sl_arena_create(0);
    unsigned seed = (unsigned)m->t * 104729u + 3;
    int misses = 0;
    int64_t until = invt_now_ms() + 30000;
    for (int i = 0; i < 200 && misses < 3 && invt_now_ms() < until; i++) {
        char id[32];
        snprintf(id, sizeof id, "multi-%d-%d", m->t, i);
        int64_t qx = 1 + rand_r(&seed) % 3, qy = 1 + rand_r(&seed) % 3;
        rline l[2];
        /* Lines in either order: the locks are still taken in one order. */
        if (rand_r(&seed) % 2) {
            l[0] = (rline){"R-X", qx, NULL};
            l[1] = (rline){"R-Y", qy, NULL};
        } else {
            l[0] = (rline){"R-Y", qy, NULL};
            l[1] = (rline){"R-X", qx, NULL};
        }
        Shelfline__V1__ReserveResponse *out;
        sl_err err;
        sl_status st = reserve(ch, a, id, "c", "EAST", l, 2, true, 0, &out, &err);
        if (st == SL_OK) {
            if (total_qty(out->reservation, "R-X") != qx ||
                total_qty(out->reservation, "R-Y") != qy)
                atomic_fetch_add(m->bad, 1);
            atomic_fetch_add(m->x, qx);
            atomic_fetch_add(m->y, qy);
            misses = 0;
        } else if (st == SL_FAILED_PRECONDITION) {
            misses++;
        } else {
            fprintf(stderr, "reserve %s: %s %s\n", id, sl_status_name(st), err.msg);
            atomic_fetch_add(m->bad, 1);
        }
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return NULL;
}

static void test_race_multi_line(void **state)
{
    (void)state;
    assert_int_equal(invt_stock(svc.ch[0], "R-X", "W-NEAR", 300), 0);
    assert_int_equal(invt_stock(svc.ch[0], "R-X", "W-MID", 200), 0);
    assert_int_equal(invt_stock(svc.ch[1], "R-Y", "W-MID", 300), 0);
    assert_int_equal(invt_stock(svc.ch[1], "R-Y", "W-FAR", 200), 0);
    atomic_llong x = 0, y = 0;
    atomic_int bad = 0;
    pthread_t th[THREADS];
    static multi_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (multi_arg){i, &x, &y, &bad};
        pthread_create(&th[i], NULL, multi_main, &args[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    fprintf(stderr, "multi: %lld x, %lld y\n", (long long)atomic_load(&x),
            (long long)atomic_load(&y));
    assert_int_equal(atomic_load(&bad), 0);
    assert_true(atomic_load(&x) <= 500 && atomic_load(&y) <= 500);
    assert_true(atomic_load(&x) >= 497 || atomic_load(&y) >= 497);
    assert_int_equal(sql("SELECT sum(reserved) FROM inventory.stock WHERE sku = 'R-X'"),
                     atomic_load(&x));
    assert_int_equal(sql("SELECT sum(reserved) FROM inventory.stock WHERE sku = 'R-Y'"),
                     atomic_load(&y));
    /* Every order has both of its lines. */
    assert_int_equal(sql("SELECT count(*) FROM inventory.reservation r WHERE r.id LIKE 'multi-%%' "
                         "AND (SELECT count(DISTINCT line_no) FROM inventory.reservation_alloc a "
                         "WHERE a.reservation_id = r.id) <> 2"),
                     0);
    assert_int_equal(invt_violations(svc.ch[0]), 0);
}

/* ---- flash sale ---- */

#define CUSTOMERS_PER_THREAD 8

typedef struct promo_arg {
    int t;
    atomic_llong *units;
    atomic_int *bad;
    int64_t per_customer[CUSTOMERS_PER_THREAD];
} promo_arg;

static void *promo_main(void *p)
{
    promo_arg *m = p;
    sl_channel *ch = svc.ch[m->t % 2];
    sl_arena *a = sl_arena_create(0);
    unsigned seed = (unsigned)m->t * 31337u + 5;
    int sold_out = 0;
    int64_t until = invt_now_ms() + 30000;
    for (int i = 0; i < 300 && sold_out < 2 && invt_now_ms() < until; i++) {
        int c = rand_r(&seed) % CUSTOMERS_PER_THREAD;
        char id[32], customer[32];
        snprintf(id, sizeof id, "promo-%d-%d", m->t, i);
        snprintf(customer, sizeof customer, "cust-%d-%d", m->t, c);
        int64_t qty = 1 + rand_r(&seed) % 2;
        rline l[] = {{"R-PROMO", qty, "flash"}};
        Shelfline__V1__ReserveResponse *out;
        sl_err err;
        sl_status st = reserve(ch, a, id, customer, "EAST", l, 1, true, 0, &out, &err);
        if (st == SL_OK) {
            m->per_customer[c] += qty;
            atomic_fetch_add(m->units, qty);
        } else if (st == SL_RESOURCE_EXHAUSTED) {
            if (strstr(err.msg, "sold out") != NULL)
                sold_out++;
        } else {
            fprintf(stderr, "reserve %s: %s %s\n", id, sl_status_name(st), err.msg);
            atomic_fetch_add(m->bad, 1);
        }
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return NULL;
}

static void test_race_promotion(void **state)
{
    (void)state;
    assert_int_equal(invt_stock(svc.ch[0], "R-PROMO", "W-NEAR", 150), 0);
    assert_int_equal(invt_stock(svc.ch[0], "R-PROMO", "W-MID", 150), 0);
    sl_arena *a = sl_arena_create(0);
    sl_err err;
    long long now = sql("SELECT (extract(epoch FROM now()) * 1000)::int8");
    Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
    price.minor_units = 100;
    price.currency = "USD";
    Shelfline__V1__Promotion p = SHELFLINE__V1__PROMOTION__INIT;
    p.promotion_id = "flash";
    p.sku = "R-PROMO";
    p.quota = 200;
    p.per_customer_limit = 3;
    p.starts_at_ms = now - 1000;
    p.ends_at_ms = now + 3600 * 1000;
    p.price = &price;
    Shelfline__V1__CreatePromotionRequest cr = SHELFLINE__V1__CREATE_PROMOTION_REQUEST__INIT;
    cr.promotion = &p;
    assert_int_equal(
        invt_call(svc.ch[0], "CreatePromotion", &cr.base, DESC(promotion), a, NULL, &err), SL_OK);
    atomic_llong units = 0;
    atomic_int bad = 0;
    pthread_t th[THREADS];
    static promo_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].t = i;
        args[i].units = &units;
        args[i].bad = &bad;
        pthread_create(&th[i], NULL, promo_main, &args[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&bad), 0);
    fprintf(stderr, "promotion: %lld units sold\n", (long long)atomic_load(&units));
    /* Exactly the quota (demand is far above it), no customer over 3. */
    assert_int_equal(atomic_load(&units), 200);
    for (int i = 0; i < THREADS; i++)
        for (int c = 0; c < CUSTOMERS_PER_THREAD; c++)
            assert_true(args[i].per_customer[c] <= 3);
    assert_int_equal(sql("SELECT max(qty) FROM inventory.promotion_usage "
                         "WHERE promotion_id = 'flash'") <= 3,
                     1);
    assert_int_equal(sql("SELECT sum(qty) FROM inventory.promotion_usage "
                         "WHERE promotion_id = 'flash'"),
                     200);
    assert_int_equal(sql("SELECT held FROM inventory.promotion WHERE id = 'flash'"), 200);
    assert_int_equal(sql("SELECT remaining FROM inventory.promotion WHERE id = 'flash'"), 0);
    /* Normal stock was never touched by the sale: 100 left. */
    assert_int_equal(sql("SELECT sum(on_hand - reserved) FROM inventory.stock "
                         "WHERE sku = 'R-PROMO'"),
                     100);
    assert_int_equal(invt_violations(svc.ch[1]), 0);
    sl_arena_destroy(a);
}

/* ---- expiry with two reapers ---- */

typedef struct ttl_arg {
    int t;
    atomic_int *bad;
} ttl_arg;

static void *ttl_main(void *p)
{
    ttl_arg *m = p;
    sl_arena *a = sl_arena_create(0);
    for (int i = 0; i < 5; i++) {
        char id[32];
        snprintf(id, sizeof id, "ttl-%d-%d", m->t, i);
        rline l[] = {{"R-TTL", 1, NULL}};
        sl_err err;
        sl_status st =
            reserve(svc.ch[(m->t + i) % 2], a, id, "c", "EAST", l, 1, true, 400, NULL, &err);
        if (st != SL_OK) {
            fprintf(stderr, "reserve %s: %s %s\n", id, sl_status_name(st), err.msg);
            atomic_fetch_add(m->bad, 1);
        }
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return NULL;
}

static void test_ttl_expiry_two_reapers(void **state)
{
    (void)state;
    assert_int_equal(invt_stock(svc.ch[0], "R-TTL", "W-NEAR", 500), 0);
    atomic_int bad = 0;
    pthread_t th[40];
    static ttl_arg args[40];
    for (int i = 0; i < 40; i++) {
        args[i] = (ttl_arg){i, &bad};
        pthread_create(&th[i], NULL, ttl_main, &args[i]);
    }
    for (int i = 0; i < 40; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&bad), 0);
    int64_t until = invt_now_ms() + 15000;
    while (invt_now_ms() < until &&
           sql("SELECT count(*) FROM inventory.reservation WHERE id LIKE 'ttl-%%' "
               "AND status = 'HELD'") > 0)
        invt_sleep_ms(100);
    assert_int_equal(sql("SELECT count(*) FROM inventory.reservation WHERE id LIKE 'ttl-%%' "
                         "AND status = 'EXPIRED'"),
                     200);
    /* Released exactly once: one event each, stock back where it was. */
    assert_int_equal(sql("SELECT count(*) FROM inventory.outbox WHERE key LIKE 'ttl-%%' "
                         "AND topic = 'RESERVATION_EXPIRED'"),
                     200);
    assert_int_equal(
        sql("SELECT count(DISTINCT key) FROM inventory.outbox WHERE key LIKE 'ttl-%%'"), 200);
    assert_int_equal(sql("SELECT reserved FROM inventory.stock WHERE sku = 'R-TTL'"), 0);
    assert_int_equal(sql("SELECT on_hand FROM inventory.stock WHERE sku = 'R-TTL'"), 500);
    assert_int_equal(invt_violations(svc.ch[0]), 0);
}

/* ---- SIGKILL mid-race ---- */

typedef struct kill_arg {
    int t;
    atomic_int *bad;
    atomic_int *retried;
    atomic_llong *units;
    int nok;
} kill_arg;

static void *kill_main(void *p)
{
    kill_arg *m = p;
    sl_arena *a = sl_arena_create(0);
    unsigned seed = (unsigned)m->t * 7u + 11;
    int misses = 0;
    int64_t until = invt_now_ms() + 20000;
    for (int i = 0; i < 300 && misses < 3 && invt_now_ms() < until; i++) {
        char id[32];
        snprintf(id, sizeof id, "kill-%d-%d", m->t, i);
        int64_t qty = misses > 0 ? 1 : 1 + rand_r(&seed) % 2;
        rline l[] = {{"R-KILL", qty, NULL}};
        Shelfline__V1__ReserveResponse *out;
        sl_err err;
        sl_status st = reserve(svc.ch[m->t % 2], a, id, "c", "EAST", l, 1, true, 0, &out, &err);
        if (st != SL_OK && st != SL_FAILED_PRECONDITION) {
            /* The replica died: the outcome is unknown, so retry the same id
             * on the survivor -- it answers the first result if there was
             * one, or reserves now. */
            atomic_fetch_add(m->retried, 1);
            st = reserve(svc.ch[0], a, id, "c", "EAST", l, 1, true, 0, &out, &err);
        }
        if (st == SL_OK) {
            atomic_fetch_add(m->units, total_qty(out->reservation, "R-KILL"));
            m->nok++;
            misses = 0;
        } else if (st == SL_FAILED_PRECONDITION) {
            misses++;
        } else {
            fprintf(stderr, "reserve %s: %s %s\n", id, sl_status_name(st), err.msg);
            atomic_fetch_add(m->bad, 1);
        }
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return NULL;
}

static void test_sigkill_mid_race(void **state)
{
    (void)state;
    assert_int_equal(invt_stock(svc.ch[0], "R-KILL", "W-NEAR", 600), 0);
    assert_int_equal(invt_stock(svc.ch[0], "R-KILL", "W-MID", 400), 0);
    atomic_int bad = 0, retried = 0;
    atomic_llong units = 0;
    pthread_t th[THREADS];
    static kill_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (kill_arg){i, &bad, &retried, &units, 0};
        pthread_create(&th[i], NULL, kill_main, &args[i]);
    }
    /* Kill replica 1 once the race is under way. */
    int64_t until = invt_now_ms() + 10000;
    while (invt_now_ms() < until &&
           sql("SELECT coalesce(sum(reserved), 0) FROM inventory.stock WHERE sku = 'R-KILL'") < 200)
        invt_sleep_ms(10);
    kill(svc.pid[1], SIGKILL);
    int status;
    waitpid(svc.pid[1], &status, 0);
    svc.pid[1] = 0;
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    int nok = 0;
    for (int i = 0; i < THREADS; i++)
        nok += args[i].nok;
    fprintf(stderr, "kill: %d reservations answered, %lld units, %d retried on the survivor\n", nok,
            (long long)atomic_load(&units), atomic_load(&retried));
    assert_int_equal(atomic_load(&bad), 0);
    /* Everything answered is there, whole; nothing else is. */
    assert_int_equal(atomic_load(&units), 1000);
    assert_int_equal(sql("SELECT count(*) FROM inventory.reservation WHERE id LIKE 'kill-%%'"),
                     nok);
    assert_int_equal(sql("SELECT sum(qty) FROM inventory.reservation_alloc "
                         "WHERE reservation_id LIKE 'kill-%%'"),
                     1000);
    assert_int_equal(sql("SELECT count(*) FROM inventory.reservation r WHERE id LIKE 'kill-%%' "
                         "AND NOT EXISTS (SELECT 1 FROM inventory.reservation_alloc a "
                         "WHERE a.reservation_id = r.id)"),
                     0);
    assert_int_equal(sql("SELECT sum(reserved) FROM inventory.stock WHERE sku = 'R-KILL'"), 1000);
    assert_int_equal(invt_violations(svc.ch[0]), 0);
    /* The replica comes back and serves the same state. */
    assert_int_equal(invt_restart(&svc, 1, env), 0);
    assert_int_equal(invt_violations(svc.ch[1]), 0);
}

typedef struct roll_arg {
    sl_channel *ch;
    int id;
    atomic_bool *stop;
    long calls, failed;
    char first_failure[SL_ERR_MSG_MAX + 64];
} roll_arg;

/* Reads and reservations with no retry (not idempotent to sl_client, as a
 * client with gRPC's defaults), so any call the drain fails shows. */
static void *roll_main(void *p)
{
    roll_arg *r = p;
    sl_arena *a = sl_arena_create(0);
    sl_call_options o = {.timeout_ms = 5000};
    for (long n = 0; !atomic_load(r->stop) && n < 200000; n++) {
        sl_err err;
        sl_status st;
        ProtobufCMessage *resp;
        if (n % 4 == 3) {
            char id[64];
            snprintf(id, sizeof id, "roll-%d-%ld", r->id, n);
            Shelfline__V1__ReserveLine l = SHELFLINE__V1__RESERVE_LINE__INIT, *lp = &l;
            l.sku = "R-ROLL";
            l.qty = 1;
            Shelfline__V1__ReserveRequest q = SHELFLINE__V1__RESERVE_REQUEST__INIT;
            q.reservation_id = id;
            q.customer_id = "c-roll";
            q.region = "EAST";
            q.lines = &lp;
            q.n_lines = 1;
            st = sl_client_unary(r->ch, "/shelfline.v1.InventoryService/Reserve", &q.base,
                                 DESC(reserve_response), a, &resp, &o, &err);
        } else {
            Shelfline__V1__GetProductRequest q = SHELFLINE__V1__GET_PRODUCT_REQUEST__INIT;
            q.sku = "R-ROLL";
            st = sl_client_unary(r->ch, "/shelfline.v1.InventoryService/GetProduct", &q.base,
                                 DESC(product), a, &resp, &o, &err);
        }
        r->calls++;
        if (st != SL_OK && r->failed++ == 0)
            snprintf(r->first_failure, sizeof r->first_failure, "%s: %s", sl_status_name(st),
                     err.msg);
        sl_arena_reset(a);
        /* A client's pace, not a spin: with every core busy the replicas'
         * own work (start-up, drain, health) must still get the CPU, and a
         * failing call must not turn into a hot loop that starves them. */
        invt_sleep_ms(st == SL_OK ? 1 : 10);
    }
    sl_arena_destroy(a);
    return NULL;
}

static void test_rolling_restart_fails_no_call(void **state)
{
    (void)state;
    enum { N = 6 };
    assert_int_equal(invt_stock(svc.ch[0], "R-ROLL", "W-NEAR", 1000000), 0);
    char target[128];
    snprintf(target, sizeof target, "ipv4:127.0.0.1:%d,127.0.0.1:%d", svc.port[0], svc.port[1]);
    sl_channel *ch;
    sl_err err;
    assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);
    atomic_bool stop = false;
    static roll_arg args[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        args[i] = (roll_arg){.ch = ch, .id = i, .stop = &stop};
        pthread_create(&th[i], NULL, roll_main, &args[i]);
    }
    /* The rollout, twice over: each replica drained and replaced while
     * the other serves. */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2; i++) {
            invt_sleep_ms(500);
            int status = sl_test_stop(svc.pid[i], SIGTERM, 30000);
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
            assert_int_equal(invt_restart(&svc, i, env), 0);
        }
    }
    invt_sleep_ms(500);
    atomic_store(&stop, true);
    long calls = 0, failed = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        calls += args[i].calls;
        failed += args[i].failed;
        if (args[i].failed > 0)
            fprintf(stderr, "thread %d: %ld failed, first: %s\n", i, args[i].failed,
                    args[i].first_failure);
    }
    fprintf(stderr, "rolling restart: %ld calls, %ld failed\n", calls, failed);
    sl_channel_destroy(ch);
    assert_true(calls > 100);
    assert_int_equal(failed, 0);
    assert_int_equal(invt_violations(svc.ch[0]), 0);
}

int main(void)
{
    sl_log_init("test-inventory-race", SL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_race_1000_units),
        cmocka_unit_test(test_race_multi_line),
        cmocka_unit_test(test_race_promotion),
        cmocka_unit_test(test_ttl_expiry_two_reapers),
        cmocka_unit_test(test_sigkill_mid_race),
        cmocka_unit_test(test_rolling_restart_fails_no_call),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
