/*
 * Integration tests proving CheckInvariants can fail: one real
 * shelfline-inventory process on a fresh database; each test builds a
 * clean state over the API, plants one kind of drift directly in the
 * database as the superuser (the ledger is append-only, so the drift goes
 * into the other side: stock, promotion or inbound rows), sees the RPC
 * report exactly that disagreement with its expected and actual values,
 * then repairs the row and sees the check clean again.
 * Every test uses its own SKU, and asks about that SKU only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "inv_test.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_test.h"

#define DESC(x) &shelfline__v1__##x##__descriptor

typedef Shelfline__V1__InvariantViolation__Kind vkind;

static invt_svc svc;
static sl_channel *ch;
static sl_arena *A;

static int group_setup(void **state)
{
    (void)state;
    if (invt_start(&svc, "inv_drift", 1, NULL) != 0)
        return -1;
    ch = svc.ch[0];
    A = sl_arena_create(0);
    const char *skus[] = {"D-LEDGER", "D-RESERVED", "D-OVERSOLD",
                          "D-PROMO",  "D-INBOUND",  "D-FENCE"};
    return invt_seed(ch, skus, 6);
}

static int group_teardown(void **state)
{
    (void)state;
    sl_arena_destroy(A);
    return invt_stop(&svc) == 0 ? 0 : -1;
}

/* Runs one statement as the superuser; returns the first column of its
 * first row (write statements wrap themselves in a counting CTE). */
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

/* CheckInvariants for one SKU; fails the test when the call fails. */
static const Shelfline__V1__CheckInvariantsResponse *check(const char *sku)
{
    sl_arena_reset(A);
    Shelfline__V1__CheckInvariantsRequest r = SHELFLINE__V1__CHECK_INVARIANTS_REQUEST__INIT;
    r.sku = (char *)sku;
    Shelfline__V1__CheckInvariantsResponse *resp = NULL;
    sl_err err;
    sl_status st =
        invt_call(ch, "CheckInvariants", &r.base, DESC(check_invariants_response), A, &resp, &err);
    if (st != SL_OK)
        fprintf(stderr, "CheckInvariants: %s: %s\n", sl_status_name(st), err.msg);
    assert_int_equal(st, SL_OK);
    for (size_t i = 0; i < resp->n_violations; i++) {
        const Shelfline__V1__InvariantViolation *v = resp->violations[i];
        fprintf(stderr, "violation: kind %d sku %s wh %s subject %s expected %lld actual %lld\n",
                v->kind, v->sku, v->warehouse_id, v->subject_id, (long long)v->expected,
                (long long)v->actual);
    }
    return resp;
}

static void assert_clean(const char *sku)
{
    const Shelfline__V1__CheckInvariantsResponse *r = check(sku);
    assert_true(r->ok);
    assert_int_equal(r->n_violations, 0);
    assert_true(r->stock_rows >= 1);
}

/* Asserts the check of sku reports exactly one violation, of this kind,
 * on this warehouse and subject, with these values. */
static void assert_one(const char *sku, vkind kind, const char *wh, const char *subject,
                       long long expected, long long actual)
{
    const Shelfline__V1__CheckInvariantsResponse *r = check(sku);
    assert_false(r->ok);
    assert_int_equal(r->n_violations, 1);
    const Shelfline__V1__InvariantViolation *v = r->violations[0];
    assert_int_equal(v->kind, kind);
    assert_string_equal(v->sku, sku);
    assert_string_equal(v->warehouse_id, wh);
    assert_string_equal(v->subject_id, subject);
    assert_int_equal(v->expected, expected);
    assert_int_equal(v->actual, actual);
    assert_true(v->detail[0] != '\0');
}

static void reserve(const char *id, const char *sku, int64_t qty, const char *promo)
{
    sl_arena_reset(A);
    Shelfline__V1__ReserveLine l = SHELFLINE__V1__RESERVE_LINE__INIT;
    l.sku = (char *)sku;
    l.qty = qty;
    l.promotion_id = (char *)(promo != NULL ? promo : "");
    Shelfline__V1__ReserveLine *lines[] = {&l};
    Shelfline__V1__ReserveRequest r = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    r.reservation_id = (char *)id;
    r.customer_id = "C-DRIFT";
    r.region = "EAST";
    r.n_lines = 1;
    r.lines = lines;
    sl_err err;
    sl_status st = invt_call(ch, "Reserve", &r.base, DESC(reserve_response), A, NULL, &err);
    if (st != SL_OK)
        fprintf(stderr, "Reserve: %s: %s\n", sl_status_name(st), err.msg);
    assert_int_equal(st, SL_OK);
}

static void test_on_hand_off_the_ledger_is_reported(void **state)
{
    (void)state;
    assert_int_equal(invt_stock(ch, "D-LEDGER", "W-NEAR", 10), 0);
    assert_clean("D-LEDGER");
    /* Seven units appear on the shelf without a ledger entry. */
    assert_int_equal(sql("WITH u AS (UPDATE inventory.stock SET on_hand = on_hand + 7 "
                         "WHERE sku = 'D-LEDGER' AND warehouse_id = 'W-NEAR' RETURNING 1) "
                         "SELECT count(*) FROM u"),
                     1);
    assert_one("D-LEDGER", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__ON_HAND_VS_LEDGER, "W-NEAR",
               "", 10, 17);
    assert_int_equal(sql("WITH u AS (UPDATE inventory.stock SET on_hand = on_hand - 7 "
                         "WHERE sku = 'D-LEDGER' AND warehouse_id = 'W-NEAR' RETURNING 1) "
                         "SELECT count(*) FROM u"),
                     1);
    assert_clean("D-LEDGER");
}

static void test_reserved_off_the_holds_is_reported(void **state)
{
    (void)state;
    assert_int_equal(invt_stock(ch, "D-RESERVED", "W-NEAR", 10), 0);
    reserve("drift-resv-1", "D-RESERVED", 4, NULL);
    assert_clean("D-RESERVED");
    /* Three units reserved by no hold. */
    assert_int_equal(sql("WITH u AS (UPDATE inventory.stock SET reserved = reserved + 3 "
                         "WHERE sku = 'D-RESERVED' AND warehouse_id = 'W-NEAR' RETURNING 1) "
                         "SELECT count(*) FROM u"),
                     1);
    assert_one("D-RESERVED", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__RESERVED_VS_HOLDS, "W-NEAR",
               "", 4, 7);
    assert_int_equal(sql("WITH u AS (UPDATE inventory.stock SET reserved = reserved - 3 "
                         "WHERE sku = 'D-RESERVED' AND warehouse_id = 'W-NEAR' RETURNING 1) "
                         "SELECT count(*) FROM u"),
                     1);
    assert_clean("D-RESERVED");
}

/* The table's constraint forbids oversold rows, so the drift needs the
 * constraint gone: the check still catches such a row when a migration or
 * a hand edit lets one through. */
static void test_oversold_row_is_reported(void **state)
{
    (void)state;
    assert_int_equal(invt_stock(ch, "D-OVERSOLD", "W-NEAR", 10), 0);
    reserve("drift-resv-2", "D-OVERSOLD", 10, NULL);
    assert_clean("D-OVERSOLD");
    /* Two units written off with their ledger entry while the hold keeps
     * all ten: ledger and holds agree, the row is oversold. */
    assert_int_equal(sql("ALTER TABLE inventory.stock DROP CONSTRAINT stock_no_oversell; "
                         "INSERT INTO inventory.ledger (sku, warehouse_id, delta, reason) "
                         "VALUES ('D-OVERSOLD', 'W-NEAR', -2, 'DAMAGE'); "
                         "WITH u AS (UPDATE inventory.stock SET on_hand = on_hand - 2 "
                         "WHERE sku = 'D-OVERSOLD' AND warehouse_id = 'W-NEAR' RETURNING 1) "
                         "SELECT count(*) FROM u"),
                     1);
    assert_one("D-OVERSOLD", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__OVERSOLD, "W-NEAR", "", 8,
               10);
    assert_int_equal(sql("INSERT INTO inventory.ledger (sku, warehouse_id, delta, reason) "
                         "VALUES ('D-OVERSOLD', 'W-NEAR', 2, 'COUNT_CORRECTION'); "
                         "UPDATE inventory.stock SET on_hand = on_hand + 2 "
                         "WHERE sku = 'D-OVERSOLD' AND warehouse_id = 'W-NEAR'; "
                         "ALTER TABLE inventory.stock ADD CONSTRAINT stock_no_oversell "
                         "CHECK (reserved >= 0 AND reserved <= on_hand); SELECT 1"),
                     1);
    assert_clean("D-OVERSOLD");
}

static void test_promotion_counters_off_their_parts_are_reported(void **state)
{
    (void)state;
    assert_int_equal(invt_stock(ch, "D-PROMO", "W-NEAR", 10), 0);
    long long now = sql("SELECT (extract(epoch FROM now()) * 1000)::int8");
    Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
    price.minor_units = 100;
    price.currency = "USD";
    Shelfline__V1__Promotion p = SHELFLINE__V1__PROMOTION__INIT;
    p.promotion_id = "drift-promo";
    p.sku = "D-PROMO";
    p.quota = 5;
    p.per_customer_limit = 3;
    p.starts_at_ms = now - 1000;
    p.ends_at_ms = now + 3600 * 1000;
    p.price = &price;
    Shelfline__V1__CreatePromotionRequest cr = SHELFLINE__V1__CREATE_PROMOTION_REQUEST__INIT;
    cr.promotion = &p;
    sl_err err;
    sl_arena_reset(A);
    assert_int_equal(invt_call(ch, "CreatePromotion", &cr.base, DESC(promotion), A, NULL, &err),
                     SL_OK);
    reserve("drift-resv-3", "D-PROMO", 1, "drift-promo");
    assert_clean("D-PROMO");
    /* Two fenced units booked as returned: the quota still adds up, the
     * fences do not. */
    assert_int_equal(sql("WITH u AS (UPDATE inventory.promotion SET remaining = remaining - 2, "
                         "returned = returned + 2 WHERE id = 'drift-promo' RETURNING 1) "
                         "SELECT count(*) FROM u"),
                     1);
    assert_one("D-PROMO", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__PROMOTION, "",
               "drift-promo remaining", 4, 2);
    assert_int_equal(sql("WITH u AS (UPDATE inventory.promotion SET remaining = remaining + 2, "
                         "returned = returned - 2 WHERE id = 'drift-promo' RETURNING 1) "
                         "SELECT count(*) FROM u"),
                     1);
    assert_clean("D-PROMO");
    /* A customer's usage above what they hold. */
    assert_int_equal(sql("WITH u AS (UPDATE inventory.promotion_usage SET qty = qty + 1 "
                         "WHERE promotion_id = 'drift-promo' RETURNING 1) SELECT count(*) FROM u"),
                     1);
    assert_one("D-PROMO", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__PROMOTION, "",
               "drift-promo usage of C-DRIFT", 1, 2);
    assert_int_equal(sql("WITH u AS (UPDATE inventory.promotion_usage SET qty = qty - 1 "
                         "WHERE promotion_id = 'drift-promo' RETURNING 1) SELECT count(*) FROM u"),
                     1);
    assert_clean("D-PROMO");
}

static void test_stock_fence_counters_off_their_parts_are_reported(void **state)
{
    (void)state;
    assert_int_equal(invt_stock(ch, "D-FENCE", "W-NEAR", 10), 0);
    long long now = sql("SELECT (extract(epoch FROM now()) * 1000)::int8");
    Shelfline__V1__StockFence f = SHELFLINE__V1__STOCK_FENCE__INIT;
    f.fence_id = "drift-fence";
    f.sku = "D-FENCE";
    f.warehouse_id = "W-NEAR";
    f.qty = 4;
    f.segment = "champions";
    f.starts_at_ms = now - 1000;
    f.ends_at_ms = now + 3600 * 1000;
    Shelfline__V1__CreateStockFenceRequest cr = SHELFLINE__V1__CREATE_STOCK_FENCE_REQUEST__INIT;
    cr.fence = &f;
    sl_err err;
    sl_arena_reset(A);
    assert_int_equal(invt_call(ch, "CreateStockFence", &cr.base, DESC(stock_fence), A, NULL, &err),
                     SL_OK);
    char *who[] = {"C-DRIFT"};
    Shelfline__V1__SetStockFenceEligibilityRequest er =
        SHELFLINE__V1__SET_STOCK_FENCE_ELIGIBILITY_REQUEST__INIT;
    er.fence_id = "drift-fence";
    er.segment = "champions";
    er.customer_ids = who;
    er.n_customer_ids = 1;
    assert_int_equal(invt_call(ch, "SetStockFenceEligibility", &er.base,
                               DESC(set_stock_fence_eligibility_response), A, NULL, &err),
                     SL_OK);
    reserve("drift-resv-fence", "D-FENCE", 1, NULL);
    assert_clean("D-FENCE");
    /* A fenced unit booked as sold without a sale: the quantity still
     * adds up, the holds and fences do not. */
    assert_int_equal(sql("WITH u AS (UPDATE inventory.promotion SET remaining = remaining - 1, "
                         "sold = sold + 1 WHERE id = 'drift-fence' RETURNING 1) "
                         "SELECT count(*) FROM u"),
                     1);
    const Shelfline__V1__CheckInvariantsResponse *r = check("D-FENCE");
    assert_false(r->ok);
    assert_int_equal(r->n_violations, 2); /* sold and remaining */
    for (size_t i = 0; i < r->n_violations; i++)
        assert_int_equal(r->violations[i]->kind,
                         SHELFLINE__V1__INVARIANT_VIOLATION__KIND__STOCK_FENCE);
    assert_int_equal(sql("WITH u AS (UPDATE inventory.promotion SET remaining = remaining + 1, "
                         "sold = sold - 1 WHERE id = 'drift-fence' RETURNING 1) "
                         "SELECT count(*) FROM u"),
                     1);
    assert_clean("D-FENCE");
    /* Fenced units no longer counted in the stock row's reserved. */
    assert_int_equal(
        sql("WITH u AS (UPDATE inventory.promotion_fence SET remaining = remaining - 1 "
            "WHERE promotion_id = 'drift-fence' RETURNING 1) SELECT count(*) FROM u"),
        1);
    r = check("D-FENCE");
    assert_false(r->ok);
    bool reserved_seen = false, fence_seen = false;
    for (size_t i = 0; i < r->n_violations; i++) {
        reserved_seen =
            reserved_seen ||
            r->violations[i]->kind == SHELFLINE__V1__INVARIANT_VIOLATION__KIND__RESERVED_VS_HOLDS;
        fence_seen = fence_seen || r->violations[i]->kind ==
                                       SHELFLINE__V1__INVARIANT_VIOLATION__KIND__STOCK_FENCE;
    }
    assert_true(reserved_seen);
    assert_true(fence_seen);
    assert_int_equal(
        sql("WITH u AS (UPDATE inventory.promotion_fence SET remaining = remaining + 1 "
            "WHERE promotion_id = 'drift-fence' RETURNING 1) SELECT count(*) FROM u"),
        1);
    assert_clean("D-FENCE");
}

static void test_inbound_backorders_off_the_reservations_are_reported(void **state)
{
    (void)state;
    assert_int_equal(invt_stock(ch, "D-INBOUND", "W-NEAR", 1), 0);
    long long now = sql("SELECT (extract(epoch FROM now()) * 1000)::int8");
    Shelfline__V1__CreateInboundRequest r = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    r.inbound_id = "drift-po";
    r.sku = "D-INBOUND";
    r.warehouse_id = "W-NEAR";
    r.qty = 10;
    r.expected_at_ms = now + 3 * 86400 * 1000LL;
    sl_err err;
    sl_arena_reset(A);
    assert_int_equal(invt_call(ch, "CreateInbound", &r.base, DESC(inbound), A, NULL, &err), SL_OK);
    assert_clean("D-INBOUND");
    /* Two units promised to backorders nobody holds. */
    assert_int_equal(sql("WITH u AS (UPDATE inventory.inbound SET backordered = 2 "
                         "WHERE id = 'drift-po' RETURNING 1) SELECT count(*) FROM u"),
                     1);
    assert_one("D-INBOUND", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__INBOUND, "W-NEAR", "drift-po",
               0, 2);
    assert_int_equal(sql("WITH u AS (UPDATE inventory.inbound SET backordered = 0 "
                         "WHERE id = 'drift-po' RETURNING 1) SELECT count(*) FROM u"),
                     1);
    assert_clean("D-INBOUND");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_on_hand_off_the_ledger_is_reported),
    cmocka_unit_test(test_reserved_off_the_holds_is_reported),
    cmocka_unit_test(test_oversold_row_is_reported),
    cmocka_unit_test(test_promotion_counters_off_their_parts_are_reported),
    cmocka_unit_test(test_stock_fence_counters_off_their_parts_are_reported),
    cmocka_unit_test(test_inbound_backorders_off_the_reservations_are_reported),
};

int main(void)
{
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
