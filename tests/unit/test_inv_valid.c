/*
 * Unit tests of the inventory service's request validation (inv_valid):
 * every rule answers INVALID_ARGUMENT with the field named as the client
 * wrote it; well-formed requests pass.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "inv_valid.h"

static void expect_bad(sl_status st, const sl_err *err, const char *field)
{
    assert_int_equal(st, SL_INVALID_ARGUMENT);
    if (strstr(err->msg, field) == NULL)
        fprintf(stderr, "message \"%s\" does not name \"%s\"\n", err->msg, field);
    assert_non_null(strstr(err->msg, field));
}

static void test_ids(void **state)
{
    (void)state;
    sl_err err;
    assert_true(inv_id_ok("SKU-1_a.b", INV_ID_SKU));
    assert_false(inv_id_ok("SKU 1", INV_ID_SKU));
    assert_false(inv_id_ok("", INV_ID_SKU));
    assert_false(inv_id_ok("sku/1", INV_ID_SKU));
    assert_true(inv_id_ok("order:2024/77", INV_ID_KEY));
    assert_true(inv_id_ok("EU-CENTRAL", INV_ID_REGION));
    assert_false(inv_id_ok("eu-central", INV_ID_REGION));
    assert_false(inv_id_ok("1EU", INV_ID_REGION));
    char longid[80];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    assert_false(inv_id_ok(longid, INV_ID_SKU));
    longid[33] = '\0';
    assert_true(inv_id_ok(longid, INV_ID_SKU));
    assert_false(inv_id_ok(longid, INV_ID_WAREHOUSE));
    expect_bad(inv_valid_id("lines[3].sku", "", INV_ID_SKU, &err), &err, "lines[3].sku");
    assert_non_null(strstr(err.msg, "must not be empty"));
    expect_bad(inv_valid_id("region", "bad region", INV_ID_REGION, &err), &err, "region");
    assert_int_equal(inv_valid_opt_id("region", "", INV_ID_REGION, &err), SL_OK);
}

static void test_text_cutoff_money_page(void **state)
{
    (void)state;
    sl_err err;
    int m;
    assert_int_equal(inv_valid_cutoff("c", "00:00", &m, &err), SL_OK);
    assert_int_equal(m, 0);
    assert_int_equal(inv_valid_cutoff("c", "23:59", &m, &err), SL_OK);
    assert_int_equal(m, 1439);
    expect_bad(inv_valid_cutoff("warehouse.ship_cutoff", "24:00", &m, &err), &err,
               "warehouse.ship_cutoff");
    expect_bad(inv_valid_cutoff("c", "9:30", &m, &err), &err, "c");
    expect_bad(inv_valid_cutoff("c", "12:60", &m, &err), &err, "c");
    char buf[8];
    inv_format_cutoff(16 * 60 + 5, buf);
    assert_string_equal(buf, "16:05");
    assert_int_equal(inv_valid_text("t", "héllo", 1, 10, &err), SL_OK);
    expect_bad(inv_valid_text("name", "a\tb", 0, 10, &err), &err, "name");
    expect_bad(inv_valid_text("name", "\xff", 0, 10, &err), &err, "name");
    expect_bad(inv_valid_text("name", "", 1, 10, &err), &err, "name");
    expect_bad(inv_valid_text("name", "0123456789x", 0, 10, &err), &err, "name");
    Shelfline__V1__Money money = SHELFLINE__V1__MONEY__INIT;
    money.currency = "usd";
    expect_bad(inv_valid_money("price", &money, &err), &err, "price.currency");
    money.currency = "USD";
    money.minor_units = -1;
    expect_bad(inv_valid_money("price", &money, &err), &err, "price.minor_units");
    expect_bad(inv_valid_money("price", NULL, &err), &err, "price");
    Shelfline__V1__PageRequest page = SHELFLINE__V1__PAGE_REQUEST__INIT;
    int limit;
    assert_int_equal(sl_page_size(NULL, &limit, &err), SL_OK);
    assert_int_equal(limit, SL_PAGE_DEFAULT);
    page.page_size = SL_PAGE_MAX + 1;
    expect_bad(sl_page_size(&page, &limit, &err), &err, "page.page_size");
    page.page_size = -1;
    expect_bad(sl_page_size(&page, &limit, &err), &err, "page.page_size");
}

static void test_page_tokens(void **state)
{
    (void)state;
    sl_err err;
    sl_arena *a = sl_arena_create(0);
    char *t = sl_page_token_encode(a, "SKU-9\x1fWEST");
    char out[64];
    assert_int_equal(sl_page_token_decode(t, out, sizeof out, &err), SL_OK);
    assert_string_equal(out, "SKU-9\x1fWEST");
    assert_int_equal(sl_page_token_decode("", out, sizeof out, &err), SL_OK);
    assert_string_equal(out, "");
    expect_bad(sl_page_token_decode("abc", out, sizeof out, &err), &err, "page.page_token");
    expect_bad(sl_page_token_decode("zz", out, sizeof out, &err), &err, "page.page_token");
    expect_bad(sl_page_token_decode("00", out, sizeof out, &err), &err, "page.page_token");
    sl_arena_destroy(a);
}

static void test_reserve_rules(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__ReserveLine l0 = SHELFLINE__V1__RESERVE_LINE__INIT, l1 = l0, l2 = l0;
    l0.sku = "A";
    l0.qty = 1;
    l1.sku = "B";
    l1.qty = 2;
    l2.sku = "C";
    l2.qty = 3;
    Shelfline__V1__ReserveLine *lines[INV_MAX_LINES + 1];
    lines[0] = &l0;
    lines[1] = &l1;
    lines[2] = &l2;
    Shelfline__V1__ReserveRequest r = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    r.reservation_id = "order-1";
    r.customer_id = "cust-1";
    r.region = "EAST";
    r.lines = lines;
    r.n_lines = 3;
    assert_int_equal(inv_valid_reserve(&r, &err), SL_OK);
    l2.qty = 0;
    expect_bad(inv_valid_reserve(&r, &err), &err, "lines[2].qty must be positive");
    l2.qty = INV_MAX_QTY_LINE + 1;
    expect_bad(inv_valid_reserve(&r, &err), &err, "lines[2].qty");
    l2.qty = 3;
    l1.sku = "";
    expect_bad(inv_valid_reserve(&r, &err), &err, "lines[1].sku");
    l1.sku = "B";
    l1.promotion_id = "bad promo";
    expect_bad(inv_valid_reserve(&r, &err), &err, "lines[1].promotion_id");
    l1.promotion_id = "";
    r.region = "";
    expect_bad(inv_valid_reserve(&r, &err), &err, "region");
    r.region = "EAST";
    r.reservation_id = "";
    expect_bad(inv_valid_reserve(&r, &err), &err, "reservation_id");
    r.reservation_id = "order-1";
    r.customer_id = "";
    expect_bad(inv_valid_reserve(&r, &err), &err, "customer_id");
    r.customer_id = "cust-1";
    r.hold_ttl_ms = -1;
    expect_bad(inv_valid_reserve(&r, &err), &err, "hold_ttl_ms");
    r.hold_ttl_ms = INV_MAX_HOLD_MS + 1;
    expect_bad(inv_valid_reserve(&r, &err), &err, "hold_ttl_ms");
    r.hold_ttl_ms = 0;
    r.n_lines = 0;
    expect_bad(inv_valid_reserve(&r, &err), &err, "lines");
    for (int i = 0; i <= INV_MAX_LINES; i++)
        lines[i] = &l0;
    r.n_lines = INV_MAX_LINES + 1;
    expect_bad(inv_valid_reserve(&r, &err), &err, "lines has 101 entries");
    r.n_lines = INV_MAX_LINES;
    assert_int_equal(inv_valid_reserve(&r, &err), SL_OK);
}

static void test_other_requests(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__AdjustStockRequest a = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
    a.request_id = "r1";
    a.sku = "A";
    a.warehouse_id = "W";
    a.delta = 5;
    a.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT;
    assert_int_equal(inv_valid_adjust(&a, &err), SL_OK);
    a.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__SHIPMENT;
    expect_bad(inv_valid_adjust(&a, &err), &err, "reason");
    a.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__SHRINKAGE;
    expect_bad(inv_valid_adjust(&a, &err), &err, "delta must be negative");
    a.delta = 0;
    expect_bad(inv_valid_adjust(&a, &err), &err, "delta");
    a.delta = -3;
    assert_int_equal(inv_valid_adjust(&a, &err), SL_OK);
    a.request_id = "";
    expect_bad(inv_valid_adjust(&a, &err), &err, "request_id");

    Shelfline__V1__SetStockCountRequest c = SHELFLINE__V1__SET_STOCK_COUNT_REQUEST__INIT;
    c.request_id = "r";
    c.sku = "A";
    c.warehouse_id = "W";
    c.counted = -1;
    expect_bad(inv_valid_count(&c, &err), &err, "counted");

    Shelfline__V1__GetAvailabilityRequest g = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
    char *skus[INV_MAX_AVAIL_SKUS + 1];
    for (int i = 0; i <= INV_MAX_AVAIL_SKUS; i++)
        skus[i] = "A";
    g.skus = skus;
    g.n_skus = INV_MAX_AVAIL_SKUS;
    g.region = "EAST";
    assert_int_equal(inv_valid_availability(&g, &err), SL_OK);
    g.n_skus = INV_MAX_AVAIL_SKUS + 1;
    expect_bad(inv_valid_availability(&g, &err), &err, "skus");
    g.n_skus = 2;
    skus[1] = "a b";
    expect_bad(inv_valid_availability(&g, &err), &err, "skus[1]");

    Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
    price.currency = "EUR";
    Shelfline__V1__Promotion p = SHELFLINE__V1__PROMOTION__INIT;
    p.promotion_id = "p";
    p.sku = "A";
    p.quota = 10;
    p.per_customer_limit = 1;
    p.starts_at_ms = 1000;
    p.ends_at_ms = 2000;
    p.price = &price;
    assert_int_equal(inv_valid_promotion(&p, &err), SL_OK);
    p.ends_at_ms = 1000;
    expect_bad(inv_valid_promotion(&p, &err), &err, "promotion.ends_at_ms");
    p.ends_at_ms = 2000;
    p.per_customer_limit = 0;
    expect_bad(inv_valid_promotion(&p, &err), &err, "promotion.per_customer_limit");
    p.per_customer_limit = 1;
    p.quota = 0;
    expect_bad(inv_valid_promotion(&p, &err), &err, "promotion.quota");

    Shelfline__V1__Warehouse w = SHELFLINE__V1__WAREHOUSE__INIT;
    w.warehouse_id = "W1";
    w.name = "one";
    w.region = "EAST";
    w.kind = SHELFLINE__V1__WAREHOUSE__KIND__STORE;
    w.time_zone = "Europe/Paris";
    w.ship_cutoff = "18:00";
    int cut;
    assert_int_equal(inv_valid_warehouse(&w, &cut, &err), SL_OK);
    assert_int_equal(cut, 1080);
    w.kind = SHELFLINE__V1__WAREHOUSE__KIND__KIND_UNSPECIFIED;
    expect_bad(inv_valid_warehouse(&w, &cut, &err), &err, "warehouse.kind");
    w.kind = SHELFLINE__V1__WAREHOUSE__KIND__STORE;
    w.region = "east";
    expect_bad(inv_valid_warehouse(&w, &cut, &err), &err, "warehouse.region");

    Shelfline__V1__TransitTime t = SHELFLINE__V1__TRANSIT_TIME__INIT;
    t.warehouse_id = "W1";
    t.region = "EAST";
    t.p50_days = 3;
    t.p90_days = 2;
    expect_bad(inv_valid_transit(&t, &err), &err, "transit_time.p90_days");

    Shelfline__V1__TransferRequest tr = SHELFLINE__V1__TRANSFER_REQUEST__INIT;
    tr.transfer_id = "t";
    tr.sku = "A";
    tr.from_warehouse_id = "W1";
    tr.to_warehouse_id = "W1";
    tr.qty = 1;
    expect_bad(inv_valid_transfer(&tr, &err), &err, "to_warehouse_id");

    Shelfline__V1__ReceiveInboundRequest rr = SHELFLINE__V1__RECEIVE_INBOUND_REQUEST__INIT;
    rr.inbound_id = "po";
    rr.receipt_id = "r";
    rr.qty = 0;
    expect_bad(inv_valid_receive(&rr, &err), &err, "qty must be positive");

    Shelfline__V1__DelayInboundRequest dr = SHELFLINE__V1__DELAY_INBOUND_REQUEST__INIT;
    dr.inbound_id = "po";
    dr.new_expected_at_ms = 5;
    dr.reason = "";
    expect_bad(inv_valid_delay(&dr, &err), &err, "reason");

    Shelfline__V1__Product pr = SHELFLINE__V1__PRODUCT__INIT;
    pr.sku = "A";
    pr.name = "n";
    pr.category = "c";
    pr.price = &price;
    char *tags[] = {"ok", "has,comma"};
    pr.seasonal_tags = tags;
    pr.n_seasonal_tags = 2;
    expect_bad(inv_valid_product(&pr, &err), &err, "product.seasonal_tags[1]");
    pr.n_seasonal_tags = 1;
    pr.repeat_purchase_days = -1;
    expect_bad(inv_valid_product(&pr, &err), &err, "product.repeat_purchase_days");
}

static void test_stock_fence_rules(void **state)
{
    (void)state;
    sl_err err;
    expect_bad(inv_valid_stock_fence(NULL, &err), &err, "fence");
    Shelfline__V1__StockFence f = SHELFLINE__V1__STOCK_FENCE__INIT;
    f.fence_id = "f-1";
    f.sku = "A";
    f.region = "EAST";
    f.qty = 5;
    f.segment = "champions";
    f.starts_at_ms = 1000;
    f.ends_at_ms = 2000;
    assert_int_equal(inv_valid_stock_fence(&f, &err), SL_OK);
    f.warehouse_id = "W1";
    expect_bad(inv_valid_stock_fence(&f, &err), &err, "exactly one of fence.warehouse_id");
    f.region = "";
    assert_int_equal(inv_valid_stock_fence(&f, &err), SL_OK);
    f.warehouse_id = "";
    expect_bad(inv_valid_stock_fence(&f, &err), &err, "exactly one of fence.warehouse_id");
    f.region = "east";
    expect_bad(inv_valid_stock_fence(&f, &err), &err, "fence.region");
    f.region = "EAST";
    f.qty = 0;
    expect_bad(inv_valid_stock_fence(&f, &err), &err, "fence.qty");
    f.qty = INV_MAX_QTY + 1;
    expect_bad(inv_valid_stock_fence(&f, &err), &err, "fence.qty");
    f.qty = 5;
    f.segment = "";
    expect_bad(inv_valid_stock_fence(&f, &err), &err, "fence.segment");
    f.segment = "champions";
    f.ends_at_ms = 1000;
    expect_bad(inv_valid_stock_fence(&f, &err), &err, "fence.ends_at_ms");
    f.starts_at_ms = 0;
    expect_bad(inv_valid_stock_fence(&f, &err), &err, "fence.starts_at_ms");
    f.starts_at_ms = 1000;
    f.ends_at_ms = 2000;
    f.fence_id = "";
    expect_bad(inv_valid_stock_fence(&f, &err), &err, "fence.fence_id");

    char *ids[] = {"c-1", "c 2"};
    Shelfline__V1__SetStockFenceEligibilityRequest r =
        SHELFLINE__V1__SET_STOCK_FENCE_ELIGIBILITY_REQUEST__INIT;
    r.fence_id = "f-1";
    r.segment = "champions";
    r.customer_ids = ids;
    r.n_customer_ids = 1;
    assert_int_equal(inv_valid_fence_eligibility(&r, &err), SL_OK);
    r.n_customer_ids = 2;
    expect_bad(inv_valid_fence_eligibility(&r, &err), &err, "customer_ids[1]");
    r.n_customer_ids = INV_MAX_FENCE_MEMBERS + 1;
    expect_bad(inv_valid_fence_eligibility(&r, &err), &err, "customer_ids");
    r.n_customer_ids = 0; /* an empty page (replace: the segment is empty) */
    assert_int_equal(inv_valid_fence_eligibility(&r, &err), SL_OK);
    r.segment = "";
    expect_bad(inv_valid_fence_eligibility(&r, &err), &err, "segment");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_text_cutoff_money_page),
        cmocka_unit_test(test_page_tokens),
        cmocka_unit_test(test_reserve_rules),
        cmocka_unit_test(test_other_requests),
        cmocka_unit_test(test_stock_fence_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
