/*
 * Integration tests of stock fences (guaranteed availability for loyal
 * customers): two shelfline-inventory processes on one fresh database,
 * called over real gRPC.
 *   - bad input for each fence RPC: the status and the field named, and
 *     nothing written (no fence row, stock unchanged);
 *   - members take fenced units first, then free stock; other customers
 *     never take fenced units; a hold released while the fence runs goes
 *     back to the fence; a scheduled fence gives nobody its units; replace
 *     drops members;
 *   - the end of the window under two reapers, with one process SIGKILLed
 *     while fences are ending: every fence returns its unused units
 *     exactly once, and a hold released after the end goes to free stock;
 *   - a race of 64 clients (members and not) over one SKU with a stock
 *     fence, a promotion and free stock, one process SIGKILLed mid-race
 *     (retries on the survivor): exact counts, no oversell, no fenced unit
 *     to a non-member, CheckInvariants clean.
 * Times are relative to the database's clock.  Loops are bounded in count
 * and time.
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
#include "sl_log.h"
#include "sl_test.h"
#include "shelfline/v1/inventory.pb-c.h"

#define THREADS 64
#define DESC(x) &shelfline__v1__##x##__descriptor

static invt_svc svc;
static sl_arena *A;
static const char *const env[] = {"SHELFLINE_WORKERS=40", "SHELFLINE_DB_POOL=40",
                                  "SHELFLINE_INVENTORY_REAP_INTERVAL=100ms", NULL};

static int group_setup(void **state)
{
    (void)state;
    if (invt_start(&svc, "inv_fence", 2, env) != 0)
        return -1;
    A = sl_arena_create(0);
    const char *skus[] = {"F-BAD", "F-ELIG", "F-MIX", "F-LATE", "F-RACE"};
    if (invt_seed(svc.ch[0], skus, 5) != 0)
        return -1;
    char sku[32];
    for (int i = 0; i < 6; i++) {
        snprintf(sku, sizeof sku, "F-END-%d", i);
        const char *one[] = {sku};
        if (invt_seed(svc.ch[0], one, 1) != 0)
            return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sl_arena_destroy(A);
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

static int64_t db_now_ms(void)
{
    return sql("SELECT (extract(epoch FROM now()) * 1000)::int8");
}

/* ---- calls ---- */

typedef struct fence_def {
    const char *id, *sku, *warehouse, *region, *segment;
    int64_t qty, starts, ends;
} fence_def;

static sl_status create_fence(sl_channel *ch, const fence_def *d, Shelfline__V1__StockFence **out,
                              sl_err *err)
{
    Shelfline__V1__StockFence f = SHELFLINE__V1__STOCK_FENCE__INIT;
    f.fence_id = (char *)d->id;
    f.sku = (char *)d->sku;
    f.warehouse_id = (char *)(d->warehouse != NULL ? d->warehouse : "");
    f.region = (char *)(d->region != NULL ? d->region : "");
    f.segment = (char *)d->segment;
    f.qty = d->qty;
    f.starts_at_ms = d->starts;
    f.ends_at_ms = d->ends;
    Shelfline__V1__CreateStockFenceRequest r = SHELFLINE__V1__CREATE_STOCK_FENCE_REQUEST__INIT;
    r.fence = &f;
    return invt_call(ch, "CreateStockFence", &r.base, DESC(stock_fence), A, out, err);
}

static sl_status get_fence(const char *id, Shelfline__V1__StockFence **out, sl_err *err)
{
    Shelfline__V1__GetStockFenceRequest r = SHELFLINE__V1__GET_STOCK_FENCE_REQUEST__INIT;
    r.fence_id = (char *)id;
    return invt_call(svc.ch[0], "GetStockFence", &r.base, DESC(stock_fence), A, out, err);
}

static sl_status set_members(const char *id, const char *segment, const char *const *customers,
                             size_t n, bool replace,
                             Shelfline__V1__SetStockFenceEligibilityResponse **out, sl_err *err)
{
    Shelfline__V1__SetStockFenceEligibilityRequest r =
        SHELFLINE__V1__SET_STOCK_FENCE_ELIGIBILITY_REQUEST__INIT;
    r.fence_id = (char *)id;
    r.segment = (char *)segment;
    r.customer_ids = (char **)customers;
    r.n_customer_ids = n;
    r.replace = replace;
    return invt_call(svc.ch[0], "SetStockFenceEligibility", &r.base,
                     DESC(set_stock_fence_eligibility_response), A, out, err);
}

/* Reserve of one line (promo NULL: normal stock), split allowed. */
static sl_status reserve1(sl_channel *ch, sl_arena *a, const char *id, const char *customer,
                          const char *sku, int64_t qty, const char *promo, int64_t ttl,
                          Shelfline__V1__ReserveResponse **out, sl_err *err)
{
    Shelfline__V1__ReserveLine l = SHELFLINE__V1__RESERVE_LINE__INIT, *lp = &l;
    l.sku = (char *)sku;
    l.qty = qty;
    l.promotion_id = (char *)(promo != NULL ? promo : "");
    Shelfline__V1__ReserveRequest r = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    r.reservation_id = (char *)id;
    r.customer_id = (char *)customer;
    r.region = "EAST";
    r.lines = &lp;
    r.n_lines = 1;
    r.allow_split = true;
    r.hold_ttl_ms = ttl;
    return invt_call(ch, "Reserve", &r.base, DESC(reserve_response), a, out, err);
}

static sl_status close_resv(sl_channel *ch, const char *method, const char *id, sl_err *err)
{
    Shelfline__V1__CommitRequest r = SHELFLINE__V1__COMMIT_REQUEST__INIT;
    r.reservation_id = (char *)id;
    return invt_call(ch, method, &r.base, DESC(reservation), A, NULL, err);
}

/* Units of a reservation's allocations drawn from fence (NULL: from no
 * fence). */
static int64_t fenced_units(const Shelfline__V1__Reservation *r, const char *fence)
{
    int64_t n = 0;
    for (size_t i = 0; i < r->n_lines; i++)
        for (size_t k = 0; k < r->lines[i]->n_allocations; k++) {
            const Shelfline__V1__Allocation *x = r->lines[i]->allocations[k];
            if (fence == NULL ? x->stock_fence_id[0] == '\0'
                              : strcmp(x->stock_fence_id, fence) == 0)
                n += x->qty;
        }
    return n;
}

static long long free_units(const char *sku)
{
    return sql("SELECT coalesce(sum(on_hand - reserved), 0) FROM inventory.stock WHERE sku = '%s'",
               sku);
}

/* ---- bad input ---- */

static void expect_refusal(const fence_def *d, sl_status want, const char *field)
{
    sl_err err;
    sl_status st = create_fence(svc.ch[0], d, NULL, &err);
    if (st != want || strstr(err.msg, field) == NULL)
        fprintf(stderr, "fence %s: %s %s (wanted %s naming %s)\n", d->id, sl_status_name(st),
                err.msg, sl_status_name(want), field);
    assert_int_equal(st, want);
    assert_non_null(strstr(err.msg, field));
}

static void test_bad_fences_are_refused_naming_the_field_and_write_nothing(void **state)
{
    (void)state;
    assert_int_equal(invt_stock(svc.ch[0], "F-BAD", "W-NEAR", 10), 0);
    int64_t now = db_now_ms(), h = 3600 * 1000;
    fence_def ok = {"bad-1", "F-BAD", NULL, "EAST", "champions", 5, now, now + h};
    fence_def d;
    d = ok, d.qty = 0;
    expect_refusal(&d, SL_INVALID_ARGUMENT, "fence.qty");
    d = ok, d.ends = d.starts;
    expect_refusal(&d, SL_INVALID_ARGUMENT, "fence.ends_at_ms");
    d = ok, d.warehouse = "W-NEAR";
    expect_refusal(&d, SL_INVALID_ARGUMENT, "fence.warehouse_id");
    d = ok, d.region = NULL;
    expect_refusal(&d, SL_INVALID_ARGUMENT, "fence.warehouse_id");
    d = ok, d.segment = "";
    expect_refusal(&d, SL_INVALID_ARGUMENT, "fence.segment");
    d = ok, d.sku = "NO-SUCH";
    expect_refusal(&d, SL_NOT_FOUND, "fence.sku");
    d = ok, d.region = NULL, d.warehouse = "W-NOWHERE";
    expect_refusal(&d, SL_NOT_FOUND, "fence.warehouse_id");
    d = ok, d.region = "NORTH";
    expect_refusal(&d, SL_INVALID_ARGUMENT, "fence.region");
    d = ok, d.starts = now - 2 * h, d.ends = now - h;
    expect_refusal(&d, SL_INVALID_ARGUMENT, "fence.ends_at_ms");
    /* More than the free stock: refused like a promotion's quota. */
    d = ok, d.qty = 11;
    expect_refusal(&d, SL_FAILED_PRECONDITION, "fence.qty");
    assert_int_equal(sql("SELECT count(*) FROM inventory.promotion WHERE sku = 'F-BAD'"), 0);
    assert_int_equal(sql("SELECT reserved FROM inventory.stock WHERE sku = 'F-BAD'"), 0);

    /* Created, then idempotent; the same id with other values or as a
     * promotion is ALREADY_EXISTS. */
    sl_err err;
    Shelfline__V1__StockFence *f;
    assert_int_equal(create_fence(svc.ch[0], &ok, &f, &err), SL_OK);
    assert_int_equal(f->remaining, 5);
    assert_int_equal(create_fence(svc.ch[1], &ok, &f, &err), SL_OK);
    assert_int_equal(f->qty, 5);
    assert_int_equal(sql("SELECT reserved FROM inventory.stock WHERE sku = 'F-BAD'"), 5);
    d = ok, d.qty = 4;
    assert_int_equal(create_fence(svc.ch[0], &d, NULL, &err), SL_ALREADY_EXISTS);
    Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
    price.minor_units = 100;
    price.currency = "USD";
    Shelfline__V1__Promotion p = SHELFLINE__V1__PROMOTION__INIT;
    p.promotion_id = "bad-1";
    p.sku = "F-BAD";
    p.quota = 1;
    p.per_customer_limit = 1;
    p.starts_at_ms = now;
    p.ends_at_ms = now + h;
    p.price = &price;
    Shelfline__V1__CreatePromotionRequest cp = SHELFLINE__V1__CREATE_PROMOTION_REQUEST__INIT;
    cp.promotion = &p;
    assert_int_equal(
        invt_call(svc.ch[0], "CreatePromotion", &cp.base, DESC(promotion), A, NULL, &err),
        SL_ALREADY_EXISTS);
    /* A fence is not a promotion, in either direction. */
    Shelfline__V1__GetPromotionRequest gp = SHELFLINE__V1__GET_PROMOTION_REQUEST__INIT;
    gp.promotion_id = "bad-1";
    assert_int_equal(invt_call(svc.ch[0], "GetPromotion", &gp.base, DESC(promotion), A, NULL, &err),
                     SL_NOT_FOUND);
    assert_int_equal(reserve1(svc.ch[0], A, "bad-r1", "c1", "F-BAD", 1, "bad-1", 0, NULL, &err),
                     SL_NOT_FOUND);
    assert_non_null(strstr(err.msg, "lines[0].promotion_id"));
    assert_int_equal(get_fence("no-such", NULL, &err), SL_NOT_FOUND);
    assert_non_null(strstr(err.msg, "fence_id"));

    /* Eligibility: the fence's own segment only, known fences, good ids. */
    const char *who[] = {"c1", "bad id!"};
    assert_int_equal(set_members("bad-1", "loyal", who, 1, false, NULL, &err),
                     SL_FAILED_PRECONDITION);
    assert_non_null(strstr(err.msg, "segment"));
    assert_int_equal(set_members("no-such", "champions", who, 1, false, NULL, &err), SL_NOT_FOUND);
    assert_int_equal(set_members("bad-1", "champions", who, 2, false, NULL, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "customer_ids[1]"));
    assert_int_equal(sql("SELECT count(*) FROM inventory.stock_fence_member"), 0);
    assert_int_equal(invt_violations(svc.ch[0]), 0);
}

/* ---- who takes what ---- */

static void test_members_take_fenced_units_first_and_others_never(void **state)
{
    (void)state;
    sl_err err;
    assert_int_equal(invt_stock(svc.ch[0], "F-ELIG", "W-NEAR", 10), 0);
    int64_t now = db_now_ms(), h = 3600 * 1000;
    fence_def d = {"elig", "F-ELIG", "W-NEAR", NULL, "champions", 6, now - 1000, now + h};
    Shelfline__V1__StockFence *f;
    assert_int_equal(create_fence(svc.ch[0], &d, &f, &err), SL_OK);
    assert_int_equal(f->status, SHELFLINE__V1__STOCK_FENCE__STATUS__ACTIVE);
    assert_int_equal(f->n_fences, 1);
    assert_string_equal(f->fences[0]->warehouse_id, "W-NEAR");
    /* Free availability leaves the fenced units out. */
    assert_int_equal(free_units("F-ELIG"), 4);

    const char *gold[] = {"gold-1", "gold-2"};
    Shelfline__V1__SetStockFenceEligibilityResponse *m;
    assert_int_equal(set_members("elig", "champions", gold, 2, false, &m, &err), SL_OK);
    assert_int_equal(m->added, 2);
    assert_int_equal(m->members, 2);
    assert_int_equal(set_members("elig", "champions", gold, 2, false, &m, &err), SL_OK);
    assert_int_equal(m->added, 0); /* a repeat changes nothing */

    /* A non-member sees only the free units, and takes them. */
    Shelfline__V1__ReserveResponse *r;
    assert_int_equal(reserve1(svc.ch[0], A, "e-plain-1", "plain-1", "F-ELIG", 5, NULL, 0, &r, &err),
                     SL_FAILED_PRECONDITION);
    assert_int_equal(reserve1(svc.ch[1], A, "e-plain-2", "plain-1", "F-ELIG", 4, NULL, 0, &r, &err),
                     SL_OK);
    assert_int_equal(fenced_units(r->reservation, NULL), 4);
    assert_int_equal(reserve1(svc.ch[0], A, "e-plain-3", "plain-2", "F-ELIG", 1, NULL, 0, &r, &err),
                     SL_FAILED_PRECONDITION);
    /* Members take fenced units. */
    assert_int_equal(reserve1(svc.ch[0], A, "e-gold-1", "gold-1", "F-ELIG", 3, NULL, 0, &r, &err),
                     SL_OK);
    assert_int_equal(fenced_units(r->reservation, "elig"), 3);
    assert_int_equal(reserve1(svc.ch[1], A, "e-gold-2", "gold-2", "F-ELIG", 4, NULL, 0, &r, &err),
                     SL_FAILED_PRECONDITION);
    assert_int_equal(reserve1(svc.ch[1], A, "e-gold-3", "gold-2", "F-ELIG", 3, NULL, 0, &r, &err),
                     SL_OK);
    assert_int_equal(fenced_units(r->reservation, "elig"), 3);
    /* GetReservation shows where the units came from. */
    Shelfline__V1__GetReservationRequest gr = SHELFLINE__V1__GET_RESERVATION_REQUEST__INIT;
    gr.reservation_id = "e-gold-1";
    Shelfline__V1__Reservation *got;
    assert_int_equal(
        invt_call(svc.ch[0], "GetReservation", &gr.base, DESC(reservation), A, &got, &err), SL_OK);
    assert_int_equal(fenced_units(got, "elig"), 3);
    /* A hold released while the fence runs goes back to the fence, not to
     * free stock. */
    assert_int_equal(close_resv(svc.ch[1], "Release", "e-gold-1", &err), SL_OK);
    assert_int_equal(free_units("F-ELIG"), 0);
    assert_int_equal(reserve1(svc.ch[0], A, "e-plain-4", "plain-2", "F-ELIG", 1, NULL, 0, &r, &err),
                     SL_FAILED_PRECONDITION);
    assert_int_equal(close_resv(svc.ch[1], "Commit", "e-gold-3", &err), SL_OK);
    assert_int_equal(get_fence("elig", &f, &err), SL_OK);
    assert_int_equal(f->held, 0);
    assert_int_equal(f->sold, 3);
    assert_int_equal(f->remaining, 3);
    assert_int_equal(f->members, 2);
    assert_int_equal(f->fences[0]->remaining, 3);
    /* replace drops the members not pushed again: gold-1 is out. */
    const char *only2[] = {"gold-2"};
    assert_int_equal(set_members("elig", "champions", only2, 1, true, &m, &err), SL_OK);
    assert_int_equal(m->removed, 1);
    assert_int_equal(m->members, 1);
    assert_int_equal(reserve1(svc.ch[0], A, "e-gold-4", "gold-1", "F-ELIG", 1, NULL, 0, &r, &err),
                     SL_FAILED_PRECONDITION);
    assert_int_equal(invt_violations(svc.ch[0]), 0);
}

static void test_a_members_line_takes_fenced_then_free_units(void **state)
{
    (void)state;
    sl_err err;
    assert_int_equal(invt_stock(svc.ch[0], "F-MIX", "W-NEAR", 10), 0);
    int64_t now = db_now_ms(), h = 3600 * 1000;
    fence_def d = {"mix", "F-MIX", NULL, "EAST", "loyal", 3, now - 1000, now + h};
    assert_int_equal(create_fence(svc.ch[0], &d, NULL, &err), SL_OK);
    const char *who[] = {"loyal-1"};
    assert_int_equal(set_members("mix", "loyal", who, 1, false, NULL, &err), SL_OK);
    Shelfline__V1__ReserveResponse *r;
    assert_int_equal(reserve1(svc.ch[0], A, "m-1", "loyal-1", "F-MIX", 5, NULL, 0, &r, &err),
                     SL_OK);
    assert_int_equal(fenced_units(r->reservation, "mix"), 3);
    assert_int_equal(fenced_units(r->reservation, NULL), 2);
    assert_int_equal(free_units("F-MIX"), 5);
    /* A member can have every unit there is, fenced and free. */
    assert_int_equal(reserve1(svc.ch[1], A, "m-2", "loyal-1", "F-MIX", 5, NULL, 0, &r, &err),
                     SL_OK);
    assert_int_equal(fenced_units(r->reservation, NULL), 5);
    assert_int_equal(sql("SELECT reserved FROM inventory.stock WHERE sku = 'F-MIX'"), 10);
    assert_int_equal(invt_violations(svc.ch[0]), 0);
}

static void test_a_scheduled_fence_gives_nobody_its_units(void **state)
{
    (void)state;
    sl_err err;
    assert_int_equal(invt_stock(svc.ch[0], "F-LATE", "W-MID", 4), 0);
    int64_t now = db_now_ms(), h = 3600 * 1000;
    fence_def d = {"late", "F-LATE", "W-MID", NULL, "champions", 4, now + h, now + 2 * h};
    Shelfline__V1__StockFence *f;
    assert_int_equal(create_fence(svc.ch[0], &d, &f, &err), SL_OK);
    assert_int_equal(f->status, SHELFLINE__V1__STOCK_FENCE__STATUS__SCHEDULED);
    const char *who[] = {"gold-1"};
    assert_int_equal(set_members("late", "champions", who, 1, false, NULL, &err), SL_OK);
    assert_int_equal(reserve1(svc.ch[0], A, "l-1", "gold-1", "F-LATE", 1, NULL, 0, NULL, &err),
                     SL_FAILED_PRECONDITION);
    assert_int_equal(reserve1(svc.ch[0], A, "l-2", "other", "F-LATE", 1, NULL, 0, NULL, &err),
                     SL_FAILED_PRECONDITION);
    /* Listed, with the live filter and by SKU. */
    Shelfline__V1__ListStockFencesRequest lr = SHELFLINE__V1__LIST_STOCK_FENCES_REQUEST__INIT;
    lr.sku = "F-LATE";
    lr.live_only = true;
    Shelfline__V1__ListStockFencesResponse *ls;
    assert_int_equal(invt_call(svc.ch[1], "ListStockFences", &lr.base,
                               DESC(list_stock_fences_response), A, &ls, &err),
                     SL_OK);
    assert_int_equal(ls->n_fences, 1);
    assert_string_equal(ls->fences[0]->fence_id, "late");
    assert_int_equal(ls->fences[0]->members, 1);
}

static void test_list_stock_fences_pages_in_id_order(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__PageRequest page = SHELFLINE__V1__PAGE_REQUEST__INIT;
    page.page_size = 2;
    Shelfline__V1__ListStockFencesRequest lr = SHELFLINE__V1__LIST_STOCK_FENCES_REQUEST__INIT;
    lr.page = &page;
    char seen[16][65];
    int n = 0;
    for (int calls = 0; calls < 10; calls++) {
        Shelfline__V1__ListStockFencesResponse *ls;
        assert_int_equal(invt_call(svc.ch[0], "ListStockFences", &lr.base,
                                   DESC(list_stock_fences_response), A, &ls, &err),
                         SL_OK);
        for (size_t i = 0; i < ls->n_fences && n < 16; i++)
            snprintf(seen[n++], sizeof seen[0], "%s", ls->fences[i]->fence_id);
        if (ls->next_page_token[0] == '\0')
            break;
        page.page_token = sl_arena_strdup(A, ls->next_page_token);
    }
    /* bad-1, elig, late, mix (promotions are not listed). */
    assert_int_equal(n, sql("SELECT count(*) FROM inventory.promotion WHERE kind = 'STOCK_FENCE'"));
    assert_true(n >= 4);
    for (int i = 1; i < n; i++)
        assert_true(strcmp(seen[i - 1], seen[i]) < 0);
    page.page_size = 1001;
    assert_int_equal(invt_call(svc.ch[0], "ListStockFences", &lr.base,
                               DESC(list_stock_fences_response), A, NULL, &err),
                     SL_INVALID_ARGUMENT);
}

/* ---- the end of the window: exactly once, under two reapers and a kill ---- */

#define END_SKUS 6
#define END_FENCES_PER_SKU 5

static void test_window_end_returns_unused_units_exactly_once(void **state)
{
    (void)state;
    sl_err err;
    char sku[32], id[32];
    /* Fences on six SKUs, five each, all ending together in ~2 s. */
    for (int s = 0; s < END_SKUS; s++) {
        snprintf(sku, sizeof sku, "F-END-%d", s);
        assert_int_equal(invt_stock(svc.ch[0], sku, "W-NEAR", 100), 0);
    }
    int64_t now = db_now_ms();
    int64_t ends = now + 2000;
    const char *who[] = {"gold-end"};
    for (int s = 0; s < END_SKUS; s++)
        for (int k = 0; k < END_FENCES_PER_SKU; k++) {
            snprintf(sku, sizeof sku, "F-END-%d", s);
            snprintf(id, sizeof id, "end-%d-%d", s, k);
            fence_def d = {id, sku, "W-NEAR", NULL, "champions", 10, now - 1000, ends};
            assert_int_equal(create_fence(svc.ch[k % 2], &d, NULL, &err), SL_OK);
            assert_int_equal(set_members(id, "champions", who, 1, false, NULL, &err), SL_OK);
        }
    /* The member holds 4 units of each SKU (from the soonest-ending fence,
     * then by id: end-S-0). */
    for (int s = 0; s < END_SKUS; s++) {
        snprintf(sku, sizeof sku, "F-END-%d", s);
        snprintf(id, sizeof id, "end-hold-%d", s);
        Shelfline__V1__ReserveResponse *r;
        assert_int_equal(reserve1(svc.ch[0], A, id, "gold-end", sku, 4, NULL, 0, &r, &err), SL_OK);
        char fid[32];
        snprintf(fid, sizeof fid, "end-%d-0", s);
        assert_int_equal(fenced_units(r->reservation, fid), 4);
    }
    assert_int_equal(sql("SELECT sum(reserved) FROM inventory.stock WHERE sku LIKE 'F-END-%%'"),
                     END_SKUS * END_FENCES_PER_SKU * 10);
    /* SIGKILL replica 1 right at the end, while both reapers work. */
    int64_t until = invt_now_ms() + 10000;
    while (invt_now_ms() < until && db_now_ms() < ends)
        invt_sleep_ms(20);
    invt_sleep_ms(60);
    kill(svc.pid[1], SIGKILL);
    int status;
    waitpid(svc.pid[1], &status, 0);
    svc.pid[1] = 0;
    until = invt_now_ms() + 15000;
    while (invt_now_ms() < until &&
           sql("SELECT count(*) FROM inventory.promotion WHERE id LIKE 'end-%%' AND NOT ended") > 0)
        invt_sleep_ms(100);
    assert_int_equal(
        sql("SELECT count(*) FROM inventory.promotion WHERE id LIKE 'end-%%' AND ended"),
        END_SKUS * END_FENCES_PER_SKU);
    /* Each fence returned exactly its unused units: 6 for the held-from
     * one, 10 for the others; only the holds stay reserved. */
    assert_int_equal(sql("SELECT count(*) FROM inventory.promotion WHERE id LIKE 'end-%%-0' "
                         "AND returned = 6 AND held = 4 AND remaining = 0"),
                     END_SKUS);
    assert_int_equal(sql("SELECT count(*) FROM inventory.promotion WHERE id LIKE 'end-%%' "
                         "AND id NOT LIKE 'end-%%-0' AND returned = 10 AND remaining = 0"),
                     END_SKUS * (END_FENCES_PER_SKU - 1));
    assert_int_equal(sql("SELECT sum(reserved) FROM inventory.stock WHERE sku LIKE 'F-END-%%'"),
                     END_SKUS * 4);
    assert_int_equal(sql("SELECT sum(on_hand) FROM inventory.stock WHERE sku LIKE 'F-END-%%'"),
                     END_SKUS * 100);
    Shelfline__V1__StockFence *f;
    assert_int_equal(get_fence("end-0-0", &f, &err), SL_OK);
    assert_int_equal(f->status, SHELFLINE__V1__STOCK_FENCE__STATUS__ENDED);
    assert_int_equal(f->returned, 6);
    /* A hold released after the end goes to free stock, not to the fence;
     * the member then takes free stock like anyone. */
    assert_int_equal(close_resv(svc.ch[0], "Release", "end-hold-0", &err), SL_OK);
    assert_int_equal(sql("SELECT reserved FROM inventory.stock WHERE sku = 'F-END-0'"), 0);
    assert_int_equal(get_fence("end-0-0", &f, &err), SL_OK);
    assert_int_equal(f->returned, 10);
    assert_int_equal(f->held, 0);
    Shelfline__V1__ReserveResponse *r;
    assert_int_equal(
        reserve1(svc.ch[0], A, "end-after", "gold-end", "F-END-0", 2, NULL, 0, &r, &err), SL_OK);
    assert_int_equal(fenced_units(r->reservation, NULL), 2);
    /* An ended fence takes no more members. */
    assert_int_equal(set_members("end-0-1", "champions", who, 1, false, NULL, &err),
                     SL_FAILED_PRECONDITION);
    assert_int_equal(invt_violations(svc.ch[0]), 0);
    assert_int_equal(invt_restart(&svc, 1, env), 0);
    assert_int_equal(invt_violations(svc.ch[1]), 0);
}

/* ---- the race: fence, promotion and free stock on one SKU ---- */

#define CUSTOMERS_PER_THREAD 4

typedef struct race_arg {
    int t;
    bool member;
    atomic_int *bad;
    atomic_int *retried;
    atomic_llong *fenced, *promo, *free_taken;
    int64_t nonmember_fenced;
    int nok;
} race_arg;

/* One client: normal lines (1 or 2 units) and promotion lines, until
 * both are refused three times in a row.  A call that fails for the
 * killed replica is retried with the same id on the survivor. */
static void *race_main(void *p)
{
    race_arg *m = p;
    sl_arena *a = sl_arena_create(0);
    unsigned seed = (unsigned)m->t * 7919u + 3;
    int misses = 0, promo_misses = 0;
    int64_t until = invt_now_ms() + 30000;
    for (int i = 0; i < 400 && (misses < 3 || promo_misses < 3) && invt_now_ms() < until; i++) {
        bool promo = promo_misses < 3 && (misses >= 3 || rand_r(&seed) % 3 == 0);
        char id[32], customer[32];
        snprintf(id, sizeof id, "race-%d-%d", m->t, i);
        snprintf(customer, sizeof customer, "%s-%d-%d", m->member ? "gold" : "plain", m->t,
                 (int)(rand_r(&seed) % CUSTOMERS_PER_THREAD));
        int64_t qty = (promo ? promo_misses : misses) > 0 ? 1 : 1 + rand_r(&seed) % 2;
        const char *pid = promo ? "race-promo" : NULL;
        Shelfline__V1__ReserveResponse *out;
        sl_err err;
        sl_status st =
            reserve1(svc.ch[m->t % 2], a, id, customer, "F-RACE", qty, pid, 0, &out, &err);
        if (st != SL_OK && st != SL_FAILED_PRECONDITION && st != SL_RESOURCE_EXHAUSTED) {
            atomic_fetch_add(m->retried, 1);
            st = reserve1(svc.ch[0], a, id, customer, "F-RACE", qty, pid, 0, &out, &err);
        }
        if (st == SL_OK) {
            m->nok++;
            int64_t f = fenced_units(out->reservation, "race-fence");
            int64_t total = 0;
            for (size_t k = 0; k < out->reservation->lines[0]->n_allocations; k++)
                total += out->reservation->lines[0]->allocations[k]->qty;
            if (total != qty)
                atomic_fetch_add(m->bad, 1);
            if (promo) {
                atomic_fetch_add(m->promo, total);
                promo_misses = 0;
            } else {
                atomic_fetch_add(m->fenced, f);
                atomic_fetch_add(m->free_taken, total - f);
                if (!m->member)
                    m->nonmember_fenced += f;
                misses = 0;
            }
        } else if (st == SL_FAILED_PRECONDITION && !promo) {
            misses++;
        } else if (st == SL_RESOURCE_EXHAUSTED && promo) {
            /* Sold out, or this customer's limit: either way try on. */
            if (strstr(err.msg, "sold out") != NULL || strstr(err.msg, "only") != NULL)
                promo_misses++;
        } else {
            fprintf(stderr, "reserve %s: %s %s\n", id, sl_status_name(st), err.msg);
            atomic_fetch_add(m->bad, 1);
            break;
        }
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return NULL;
}

static void test_race_fence_promotion_and_free_stock_with_a_kill(void **state)
{
    (void)state;
    sl_err err;
    /* 300 units: 100 fenced for members, 100 for the flash sale, 100 free. */
    assert_int_equal(invt_stock(svc.ch[0], "F-RACE", "W-NEAR", 150), 0);
    assert_int_equal(invt_stock(svc.ch[0], "F-RACE", "W-MID", 150), 0);
    int64_t now = db_now_ms(), h = 3600 * 1000;
    Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
    price.minor_units = 100;
    price.currency = "USD";
    Shelfline__V1__Promotion p = SHELFLINE__V1__PROMOTION__INIT;
    p.promotion_id = "race-promo";
    p.sku = "F-RACE";
    p.quota = 100;
    p.per_customer_limit = 3;
    p.starts_at_ms = now - 1000;
    p.ends_at_ms = now + h;
    p.price = &price;
    Shelfline__V1__CreatePromotionRequest cp = SHELFLINE__V1__CREATE_PROMOTION_REQUEST__INIT;
    cp.promotion = &p;
    assert_int_equal(
        invt_call(svc.ch[0], "CreatePromotion", &cp.base, DESC(promotion), A, NULL, &err), SL_OK);
    fence_def d = {"race-fence", "F-RACE", NULL, "EAST", "champions", 100, now - 1000, now + h};
    assert_int_equal(create_fence(svc.ch[1], &d, NULL, &err), SL_OK);
    assert_int_equal(free_units("F-RACE"), 100);
    /* The members: every customer of the even threads. */
    static char names[THREADS / 2 * CUSTOMERS_PER_THREAD][32];
    const char *members[THREADS / 2 * CUSTOMERS_PER_THREAD];
    size_t nm = 0;
    for (int t = 0; t < THREADS; t += 2)
        for (int c = 0; c < CUSTOMERS_PER_THREAD; c++) {
            snprintf(names[nm], sizeof names[0], "gold-%d-%d", t, c);
            members[nm] = names[nm];
            nm++;
        }
    Shelfline__V1__SetStockFenceEligibilityResponse *mr;
    assert_int_equal(set_members("race-fence", "champions", members, nm, true, &mr, &err), SL_OK);
    assert_int_equal(mr->members, (int64_t)nm);

    atomic_int bad = 0, retried = 0;
    atomic_llong fenced = 0, promo = 0, free_taken = 0;
    pthread_t th[THREADS];
    static race_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (race_arg){i, i % 2 == 0, &bad, &retried, &fenced, &promo, &free_taken, 0, 0};
        pthread_create(&th[i], NULL, race_main, &args[i]);
    }
    /* Kill replica 1 once the race is under way. */
    int64_t until = invt_now_ms() + 10000;
    while (invt_now_ms() < until &&
           sql("SELECT count(*) FROM inventory.reservation WHERE id LIKE 'race-%%'") < 60)
        invt_sleep_ms(10);
    kill(svc.pid[1], SIGKILL);
    int status;
    waitpid(svc.pid[1], &status, 0);
    svc.pid[1] = 0;
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    int nok = 0;
    int64_t nonmember_fenced = 0;
    for (int i = 0; i < THREADS; i++) {
        nok += args[i].nok;
        nonmember_fenced += args[i].nonmember_fenced;
    }
    fprintf(stderr,
            "fence race: %d reservations, %lld fenced, %lld promotion, %lld free units, "
            "%d retried on the survivor\n",
            nok, (long long)atomic_load(&fenced), (long long)atomic_load(&promo),
            (long long)atomic_load(&free_taken), atomic_load(&retried));
    assert_int_equal(atomic_load(&bad), 0);
    /* Exactly what there was, each from its own pool. */
    assert_int_equal(atomic_load(&fenced), 100);
    assert_int_equal(atomic_load(&promo), 100);
    assert_int_equal(atomic_load(&free_taken), 100);
    assert_int_equal(nonmember_fenced, 0);
    /* The database agrees: every answered reservation whole, nothing else;
     * no fenced unit went to a non-member; nothing oversold. */
    assert_int_equal(sql("SELECT count(*) FROM inventory.reservation WHERE id LIKE 'race-%%'"),
                     nok);
    assert_int_equal(sql("SELECT sum(qty) FROM inventory.reservation_alloc "
                         "WHERE reservation_id LIKE 'race-%%'"),
                     300);
    assert_int_equal(
        sql("SELECT coalesce(sum(a.qty), 0) FROM inventory.reservation_alloc a "
            "JOIN inventory.reservation r ON r.id = a.reservation_id "
            "WHERE a.promotion_id = 'race-fence' AND r.customer_id NOT LIKE 'gold-%%'"),
        0);
    assert_int_equal(sql("SELECT held FROM inventory.promotion WHERE id = 'race-fence'"), 100);
    assert_int_equal(sql("SELECT remaining FROM inventory.promotion WHERE id = 'race-fence'"), 0);
    assert_int_equal(sql("SELECT held FROM inventory.promotion WHERE id = 'race-promo'"), 100);
    assert_int_equal(sql("SELECT sum(reserved) FROM inventory.stock WHERE sku = 'F-RACE'"), 300);
    assert_int_equal(free_units("F-RACE"), 0);
    assert_int_equal(invt_violations(svc.ch[0]), 0);
    assert_int_equal(invt_restart(&svc, 1, env), 0);
    assert_int_equal(invt_violations(svc.ch[1]), 0);
}

int main(void)
{
    sl_log_init("test-inv-fence", SL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_fences_are_refused_naming_the_field_and_write_nothing),
        cmocka_unit_test(test_members_take_fenced_units_first_and_others_never),
        cmocka_unit_test(test_a_members_line_takes_fenced_then_free_units),
        cmocka_unit_test(test_a_scheduled_fence_gives_nobody_its_units),
        cmocka_unit_test(test_list_stock_fences_pages_in_id_order),
        cmocka_unit_test(test_window_end_returns_unused_units_exactly_once),
        cmocka_unit_test(test_race_fence_promotion_and_free_stock_with_a_kill),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
