/*
 * Integration tests of the inventory service's API, one real
 * shelfline-inventory process over loopback gRPC on a fresh database:
 * catalogue and network CRUD with paging, stock changes and their
 * idempotency, allocation preferences (nearest, split, backorder),
 * the reservation state machine, idempotent Reserve, promotions, inbound
 * receipts fulfilling backorders, transfers, availability, low stock,
 * and the exact event sequence of a SKU, replayable from any cursor.
 * Every test uses its own SKUs, so they share one process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include <libpq-fe.h>

#include "grpc/health/v1/health.pb-c.h"
#include "inv_test.h"
#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_db.h"
#include "sl_log.h"
#include "sl_test.h"

static invt_svc svc;
static sl_channel *ch;
static sl_arena *A;
static int http_port; /* the process's /metrics */

#define DESC(x) &shelfline__v1__##x##__descriptor

static sl_status call(const char *method, const void *req, const ProtobufCMessageDescriptor *d,
                      void *out, sl_err *err)
{
    return invt_call(ch, method, req, d, A, out, err);
}

static int group_setup(void **state)
{
    (void)state;
    /* A short cap on calls, for test_reserve_behind_a_locked_row. */
    http_port = sl_test_free_port();
    char http[64];
    snprintf(http, sizeof http, "SHELFLINE_HTTP_LISTEN=127.0.0.1:%d", http_port);
    const char *env[] = {"SHELFLINE_INVENTORY_REAP_INTERVAL=100ms",
                         "SHELFLINE_MAX_CALL_TIME=1500ms", http, NULL};
    if (invt_start(&svc, "inv_api", 1, env) != 0)
        return -1;
    ch = svc.ch[0];
    A = sl_arena_create(0);
    const char *skus[] = {"SEED"};
    return invt_seed(ch, skus, 1);
}

static int group_teardown(void **state)
{
    (void)state;
    sl_arena_destroy(A);
    return invt_stop(&svc) == 0 ? 0 : -1;
}

static void product(const char *sku, const char *category)
{
    Shelfline__V1__Money m = SHELFLINE__V1__MONEY__INIT;
    m.minor_units = 1999;
    m.currency = "EUR";
    Shelfline__V1__Product p = SHELFLINE__V1__PRODUCT__INIT;
    p.sku = (char *)sku;
    p.name = (char *)sku;
    p.category = (char *)category;
    p.price = &m;
    Shelfline__V1__CreateProductRequest r = SHELFLINE__V1__CREATE_PRODUCT_REQUEST__INIT;
    r.product = &p;
    sl_err err;
    assert_int_equal(call("CreateProduct", &r, DESC(product), NULL, &err), SL_OK);
}

/* ---- reservations ---- */

typedef struct line {
    const char *sku;
    int64_t qty;
    const char *promo;
} line;

static sl_status reserve(const char *id, const char *customer, const char *region,
                         const line *lines, int n, bool split, bool backorder, int64_t ttl,
                         Shelfline__V1__ReserveResponse **out, sl_err *err)
{
    Shelfline__V1__ReserveLine l[8], *lp[8];
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
    r.allow_backorder = backorder;
    r.hold_ttl_ms = ttl;
    return call("Reserve", &r, DESC(reserve_response), out, err);
}

static Shelfline__V1__Reservation *close_resv(const char *method, const char *id, sl_status want,
                                              const char *msg_part)
{
    Shelfline__V1__CommitRequest r = SHELFLINE__V1__COMMIT_REQUEST__INIT;
    r.reservation_id = (char *)id;
    Shelfline__V1__Reservation *out = NULL;
    sl_err err;
    sl_status st = call(method, &r, DESC(reservation), &out, &err);
    if (st != want)
        fprintf(stderr, "%s %s: %s %s\n", method, id, sl_status_name(st), err.msg);
    assert_int_equal(st, want);
    if (msg_part != NULL)
        assert_non_null(strstr(err.msg, msg_part));
    return out;
}

static Shelfline__V1__StockLevel *stock(const char *sku, const char *wh)
{
    Shelfline__V1__GetStockRequest r = SHELFLINE__V1__GET_STOCK_REQUEST__INIT;
    r.sku = (char *)sku;
    r.warehouse_id = (char *)wh;
    Shelfline__V1__GetStockResponse *out;
    sl_err err;
    assert_int_equal(call("GetStock", &r, DESC(get_stock_response), &out, &err), SL_OK);
    if (out->n_levels == 0)
        return NULL;
    return out->levels[0];
}

static Shelfline__V1__Availability *avail(const char *sku, const char *region)
{
    Shelfline__V1__GetAvailabilityRequest r = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
    char *skus[1] = {(char *)sku};
    r.skus = skus;
    r.n_skus = 1;
    r.region = (char *)region;
    Shelfline__V1__GetAvailabilityResponse *out;
    sl_err err;
    assert_int_equal(call("GetAvailability", &r, DESC(get_availability_response), &out, &err),
                     SL_OK);
    assert_int_equal(out->n_items, 1);
    return out->items[0];
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

/* ---- tests ---- */

static void test_catalog_crud_and_paging(void **state)
{
    (void)state;
    sl_err err;
    for (int i = 0; i < 5; i++) {
        char sku[16];
        snprintf(sku, sizeof sku, "PG-%d", i);
        product(sku, "paging");
    }
    /* Same product again: OK; different values: ALREADY_EXISTS. */
    product("PG-0", "paging");
    Shelfline__V1__Money m = SHELFLINE__V1__MONEY__INIT;
    m.minor_units = 5;
    m.currency = "EUR";
    Shelfline__V1__Product p = SHELFLINE__V1__PRODUCT__INIT;
    p.sku = "PG-0";
    p.name = "other";
    p.category = "paging";
    p.price = &m;
    char *tags[] = {"winter", "black-friday"};
    p.seasonal_tags = tags;
    p.n_seasonal_tags = 2;
    p.repeat_purchase_days = 30;
    Shelfline__V1__CreateProductRequest cr = SHELFLINE__V1__CREATE_PRODUCT_REQUEST__INIT;
    cr.product = &p;
    assert_int_equal(call("CreateProduct", &cr, DESC(product), NULL, &err), SL_ALREADY_EXISTS);
    assert_non_null(strstr(err.msg, "product.sku"));
    Shelfline__V1__UpdateProductRequest ur = SHELFLINE__V1__UPDATE_PRODUCT_REQUEST__INIT;
    ur.product = &p;
    Shelfline__V1__Product *got;
    assert_int_equal(call("UpdateProduct", &ur, DESC(product), &got, &err), SL_OK);
    assert_string_equal(got->name, "other");
    assert_int_equal(got->n_seasonal_tags, 2);
    assert_string_equal(got->seasonal_tags[1], "black-friday");
    assert_int_equal(got->repeat_purchase_days, 30);
    Shelfline__V1__GetProductRequest gr = SHELFLINE__V1__GET_PRODUCT_REQUEST__INIT;
    gr.sku = "PG-0";
    assert_int_equal(call("GetProduct", &gr, DESC(product), &got, &err), SL_OK);
    assert_int_equal(got->price->minor_units, 5);
    gr.sku = "NOPE";
    assert_int_equal(call("GetProduct", &gr, DESC(product), &got, &err), SL_NOT_FOUND);
    assert_non_null(strstr(err.msg, "NOPE"));
    p.sku = "NOPE";
    assert_int_equal(call("UpdateProduct", &ur, DESC(product), &got, &err), SL_NOT_FOUND);

    /* Paging: 5 products, pages of 2. */
    Shelfline__V1__PageRequest page = SHELFLINE__V1__PAGE_REQUEST__INIT;
    page.page_size = 2;
    Shelfline__V1__ListProductsRequest lr = SHELFLINE__V1__LIST_PRODUCTS_REQUEST__INIT;
    lr.page = &page;
    lr.category = "paging";
    int seen = 0, pages = 0;
    char token[256] = "";
    do {
        page.page_token = token;
        Shelfline__V1__ListProductsResponse *out;
        assert_int_equal(call("ListProducts", &lr, DESC(list_products_response), &out, &err),
                         SL_OK);
        for (size_t i = 0; i < out->n_products; i++) {
            char want[16];
            snprintf(want, sizeof want, "PG-%d", seen++);
            assert_string_equal(out->products[i]->sku, want);
        }
        snprintf(token, sizeof token, "%s", out->next_page_token);
        pages++;
    } while (token[0] != '\0');
    assert_int_equal(seen, 5);
    assert_int_equal(pages, 3);
    page.page_token = "zz";
    assert_int_equal(call("ListProducts", &lr, DESC(list_products_response), NULL, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "page.page_token"));
    page.page_token = "";
    page.page_size = 5000;
    assert_int_equal(call("ListProducts", &lr, DESC(list_products_response), NULL, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "page.page_size"));

    /* Warehouses and transit times. */
    Shelfline__V1__Warehouse w = SHELFLINE__V1__WAREHOUSE__INIT;
    w.warehouse_id = "W-CRUD";
    w.name = "crud";
    w.region = "NORTH";
    w.kind = SHELFLINE__V1__WAREHOUSE__KIND__MICRO_FULFILLMENT;
    w.time_zone = "Mars/Olympus";
    w.ship_cutoff = "14:30";
    w.active = true;
    Shelfline__V1__CreateWarehouseRequest wr = SHELFLINE__V1__CREATE_WAREHOUSE_REQUEST__INIT;
    wr.warehouse = &w;
    assert_int_equal(call("CreateWarehouse", &wr, DESC(warehouse), NULL, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "warehouse.time_zone"));
    w.time_zone = "Europe/Berlin";
    Shelfline__V1__Warehouse *gw;
    assert_int_equal(call("CreateWarehouse", &wr, DESC(warehouse), &gw, &err), SL_OK);
    assert_string_equal(gw->ship_cutoff, "14:30");
    assert_int_equal(call("CreateWarehouse", &wr, DESC(warehouse), &gw, &err), SL_OK);
    w.ship_cutoff = "15:00";
    assert_int_equal(call("CreateWarehouse", &wr, DESC(warehouse), &gw, &err), SL_ALREADY_EXISTS);
    Shelfline__V1__UpdateWarehouseRequest uw = SHELFLINE__V1__UPDATE_WAREHOUSE_REQUEST__INIT;
    uw.warehouse = &w;
    assert_int_equal(call("UpdateWarehouse", &uw, DESC(warehouse), &gw, &err), SL_OK);
    assert_string_equal(gw->ship_cutoff, "15:00");
    assert_int_equal(gw->kind, SHELFLINE__V1__WAREHOUSE__KIND__MICRO_FULFILLMENT);
    Shelfline__V1__ListWarehousesRequest lw = SHELFLINE__V1__LIST_WAREHOUSES_REQUEST__INIT;
    lw.region = "NORTH";
    Shelfline__V1__ListWarehousesResponse *lwo;
    assert_int_equal(call("ListWarehouses", &lw, DESC(list_warehouses_response), &lwo, &err),
                     SL_OK);
    assert_int_equal(lwo->n_warehouses, 1);
    assert_string_equal(lwo->warehouses[0]->name, "crud");

    Shelfline__V1__TransitTime t = SHELFLINE__V1__TRANSIT_TIME__INIT;
    t.warehouse_id = "W-NONE";
    t.region = "NORTH";
    t.p50_days = 1;
    t.p90_days = 2;
    Shelfline__V1__CreateTransitTimeRequest tr = SHELFLINE__V1__CREATE_TRANSIT_TIME_REQUEST__INIT;
    tr.transit_time = &t;
    assert_int_equal(call("CreateTransitTime", &tr, DESC(transit_time), NULL, &err), SL_NOT_FOUND);
    assert_non_null(strstr(err.msg, "transit_time.warehouse_id"));
    t.warehouse_id = "W-CRUD";
    assert_int_equal(call("CreateTransitTime", &tr, DESC(transit_time), NULL, &err), SL_OK);
    t.p90_days = 3;
    Shelfline__V1__UpdateTransitTimeRequest ut = SHELFLINE__V1__UPDATE_TRANSIT_TIME_REQUEST__INIT;
    ut.transit_time = &t;
    Shelfline__V1__TransitTime *gt;
    assert_int_equal(call("UpdateTransitTime", &ut, DESC(transit_time), &gt, &err), SL_OK);
    assert_int_equal(gt->p90_days, 3);
    Shelfline__V1__GetTransitTimeRequest gtr = SHELFLINE__V1__GET_TRANSIT_TIME_REQUEST__INIT;
    gtr.warehouse_id = "W-CRUD";
    gtr.region = "SOUTH";
    assert_int_equal(call("GetTransitTime", &gtr, DESC(transit_time), &gt, &err), SL_NOT_FOUND);
    /* All transit times, a page at a time (three seeded warehouses x two
     * regions plus this one). */
    Shelfline__V1__ListTransitTimesRequest ltr = SHELFLINE__V1__LIST_TRANSIT_TIMES_REQUEST__INIT;
    Shelfline__V1__PageRequest tp = SHELFLINE__V1__PAGE_REQUEST__INIT;
    tp.page_size = 4;
    ltr.page = &tp;
    seen = 0;
    token[0] = '\0';
    do {
        tp.page_token = token;
        Shelfline__V1__ListTransitTimesResponse *out;
        assert_int_equal(
            call("ListTransitTimes", &ltr, DESC(list_transit_times_response), &out, &err), SL_OK);
        seen += (int)out->n_transit_times;
        snprintf(token, sizeof token, "%s", out->next_page_token);
    } while (token[0] != '\0');
    assert_int_equal(seen, 7);
    /* Deactivate it again so it does not serve anything in later tests. */
    w.active = false;
    assert_int_equal(call("UpdateWarehouse", &uw, DESC(warehouse), &gw, &err), SL_OK);
    sl_arena_reset(A);
}

static void test_stock_changes_idempotent(void **state)
{
    (void)state;
    product("ST-1", "test");
    sl_err err;
    Shelfline__V1__AdjustStockRequest r = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
    r.request_id = "adj-1";
    r.sku = "ST-1";
    r.warehouse_id = "W-NEAR";
    r.delta = 10;
    r.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT;
    r.reference = "po-77";
    Shelfline__V1__AdjustStockResponse *out;
    assert_int_equal(call("AdjustStock", &r, DESC(adjust_stock_response), &out, &err), SL_OK);
    assert_int_equal(out->stock->on_hand, 10);
    assert_false(out->replayed);
    int64_t ledger_id = out->entry->ledger_id;
    assert_string_equal(out->entry->reference, "po-77");
    /* A retry: same answer, nothing more written. */
    assert_int_equal(call("AdjustStock", &r, DESC(adjust_stock_response), &out, &err), SL_OK);
    assert_true(out->replayed);
    assert_int_equal(out->entry->ledger_id, ledger_id);
    assert_int_equal(out->stock->on_hand, 10);
    assert_int_equal(sql("SELECT count(*) FROM inventory.ledger WHERE sku = 'ST-1'"), 1);
    /* Same key, other request. */
    r.delta = 11;
    assert_int_equal(call("AdjustStock", &r, DESC(adjust_stock_response), &out, &err),
                     SL_ALREADY_EXISTS);
    assert_non_null(strstr(err.msg, "request_id"));
    /* Damage must be negative; shrinkage below zero fails. */
    r.request_id = "adj-2";
    r.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__DAMAGE;
    assert_int_equal(call("AdjustStock", &r, DESC(adjust_stock_response), &out, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "delta"));
    r.delta = -11;
    assert_int_equal(call("AdjustStock", &r, DESC(adjust_stock_response), &out, &err),
                     SL_FAILED_PRECONDITION);
    r.delta = -2;
    assert_int_equal(call("AdjustStock", &r, DESC(adjust_stock_response), &out, &err), SL_OK);
    assert_int_equal(out->stock->on_hand, 8);

    /* Reserve 5, then a count below the reservation fails, above it works. */
    line l[] = {{"ST-1", 5, NULL}};
    assert_int_equal(reserve("st-r1", "c1", "EAST", l, 1, false, false, 0, NULL, &err), SL_OK);
    Shelfline__V1__SetStockCountRequest sc = SHELFLINE__V1__SET_STOCK_COUNT_REQUEST__INIT;
    sc.request_id = "count-1";
    sc.sku = "ST-1";
    sc.warehouse_id = "W-NEAR";
    sc.counted = 4;
    Shelfline__V1__SetStockCountResponse *co;
    assert_int_equal(call("SetStockCount", &sc, DESC(set_stock_count_response), &co, &err),
                     SL_FAILED_PRECONDITION);
    assert_non_null(strstr(err.msg, "reserved"));
    sc.counted = 7;
    assert_int_equal(call("SetStockCount", &sc, DESC(set_stock_count_response), &co, &err), SL_OK);
    assert_int_equal(co->delta, -1);
    assert_int_equal(co->stock->on_hand, 7);
    assert_int_equal(co->stock->reserved, 5);
    assert_int_equal(co->stock->available, 2);
    assert_int_equal(co->entry->reason, SHELFLINE__V1__LEDGER_ENTRY__REASON__CYCLE_COUNT);
    assert_int_equal(call("SetStockCount", &sc, DESC(set_stock_count_response), &co, &err), SL_OK);
    assert_true(co->replayed);
    assert_int_equal(sql("SELECT sum(delta) FROM inventory.ledger WHERE sku = 'ST-1'"), 7);
    /* The ledger is append-only, even for the service's own role. */
    assert_int_equal(sql("SELECT count(*) FROM inventory.ledger WHERE sku = 'ST-1'"), 3);
    assert_int_equal(invt_sql_int(svc.conninfo,
                                  "WITH d AS (DELETE FROM inventory.ledger RETURNING 1) "
                                  "SELECT count(*) FROM d"),
                     -2);
    close_resv("Release", "st-r1", SL_OK, NULL);
    assert_int_equal(invt_violations(ch), 0);
    sl_arena_reset(A);
}

static void test_allocation_preferences(void **state)
{
    (void)state;
    product("AL-1", "test");
    product("AL-2", "test");
    assert_int_equal(invt_stock(ch, "AL-1", "W-NEAR", 5), 0);
    assert_int_equal(invt_stock(ch, "AL-1", "W-MID", 10), 0);
    assert_int_equal(invt_stock(ch, "AL-1", "W-FAR", 12), 0);
    sl_err err;
    Shelfline__V1__ReserveResponse *out;

    /* Nearest warehouse with enough stock. */
    line l1[] = {{"AL-1", 3, NULL}};
    assert_int_equal(reserve("al-1", "c", "EAST", l1, 1, false, false, 0, &out, &err), SL_OK);
    Shelfline__V1__ReservationLine *rl = out->reservation->lines[0];
    assert_int_equal(rl->n_allocations, 1);
    assert_string_equal(rl->allocations[0]->warehouse_id, "W-NEAR");
    assert_int_equal(rl->allocations[0]->transit_p50_days, 1);
    assert_int_equal(rl->unit_price->minor_units, 1999);
    /* The same line from the WEST picks the warehouse nearest there. */
    assert_int_equal(reserve("al-2", "c", "WEST", l1, 1, false, false, 0, &out, &err), SL_OK);
    assert_string_equal(out->reservation->lines[0]->allocations[0]->warehouse_id, "W-FAR");
    /* W-NEAR has 2 left: 8 units come whole from the next nearest. */
    line l2[] = {{"AL-1", 8, NULL}};
    assert_int_equal(reserve("al-3", "c", "EAST", l2, 1, false, false, 0, &out, &err), SL_OK);
    assert_string_equal(out->reservation->lines[0]->allocations[0]->warehouse_id, "W-MID");
    /* Left: NEAR 2, MID 2, FAR 9.  10 units: no single warehouse. */
    line l3[] = {{"AL-1", 10, NULL}};
    assert_int_equal(reserve("al-4", "c", "EAST", l3, 1, false, false, 0, &out, &err),
                     SL_FAILED_PRECONDITION);
    assert_non_null(strstr(err.msg, "lines[0]"));
    assert_non_null(strstr(err.msg, "AL-1"));
    assert_non_null(strstr(err.msg, "split not allowed"));
    /* With split: nearest first. */
    assert_int_equal(reserve("al-4", "c", "EAST", l3, 1, true, false, 0, &out, &err), SL_OK);
    rl = out->reservation->lines[0];
    assert_int_equal(rl->n_allocations, 3);
    assert_string_equal(rl->allocations[0]->warehouse_id, "W-NEAR");
    assert_int_equal(rl->allocations[0]->qty, 2);
    assert_string_equal(rl->allocations[1]->warehouse_id, "W-MID");
    assert_int_equal(rl->allocations[1]->qty, 2);
    assert_string_equal(rl->allocations[2]->warehouse_id, "W-FAR");
    assert_int_equal(rl->allocations[2]->qty, 6);
    /* 3 left (FAR).  Multi-line all-or-nothing: one short line fails the
     * order and nothing is held. */
    line l4[] = {{"AL-1", 3, NULL}, {"AL-2", 1, NULL}};
    assert_int_equal(reserve("al-5", "c", "EAST", l4, 2, false, false, 0, &out, &err),
                     SL_FAILED_PRECONDITION);
    assert_non_null(strstr(err.msg, "lines[1]"));
    assert_null(strstr(err.msg, "lines[0]"));
    assert_int_equal(stock("AL-1", "W-FAR")->reserved, 9);
    /* Backorder: nothing left in EAST beyond 3 in FAR; an inbound to MID. */
    Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    ci.inbound_id = "PO-AL-1";
    ci.sku = "AL-1";
    ci.warehouse_id = "W-MID";
    ci.qty = 20;
    ci.expected_at_ms = 4102444800000LL; /* 2100-01-01 */
    ci.supplier = "ACME";
    Shelfline__V1__Inbound *in;
    assert_int_equal(call("CreateInbound", &ci, DESC(inbound), &in, &err), SL_OK);
    assert_int_equal(in->unallocated, 20);
    line l5[] = {{"AL-1", 5, NULL}};
    assert_int_equal(reserve("al-6", "c", "EAST", l5, 1, false, false, 0, &out, &err),
                     SL_FAILED_PRECONDITION);
    assert_int_equal(reserve("al-6", "c", "EAST", l5, 1, false, true, 0, &out, &err), SL_OK);
    rl = out->reservation->lines[0];
    /* One warehouse without split: MID's inbound covers the whole line
     * (MID has no stock left; FAR has 3 but no inbound). */
    assert_int_equal(rl->n_allocations, 1);
    assert_string_equal(rl->allocations[0]->warehouse_id, "W-MID");
    assert_string_equal(rl->allocations[0]->inbound_id, "PO-AL-1");
    assert_int_equal(rl->allocations[0]->expected_at_ms, 4102444800000LL);
    assert_int_equal(rl->allocations[0]->awaiting_qty, 5);
    /* With split: FAR's 3 in stock first, then 4 awaited. */
    line l6[] = {{"AL-1", 7, NULL}};
    assert_int_equal(reserve("al-7", "c", "EAST", l6, 1, true, true, 0, &out, &err), SL_OK);
    rl = out->reservation->lines[0];
    assert_int_equal(rl->n_allocations, 2);
    assert_string_equal(rl->allocations[0]->warehouse_id, "W-FAR");
    assert_int_equal(rl->allocations[0]->qty, 3);
    assert_string_equal(rl->allocations[1]->inbound_id, "PO-AL-1");
    assert_int_equal(rl->allocations[1]->qty, 4);
    Shelfline__V1__GetInboundRequest gi = SHELFLINE__V1__GET_INBOUND_REQUEST__INIT;
    gi.inbound_id = "PO-AL-1";
    assert_int_equal(call("GetInbound", &gi, DESC(inbound), &in, &err), SL_OK);
    assert_int_equal(in->backordered, 9);
    assert_int_equal(in->unallocated, 11);
    /* Region view: nothing in stock, backorderable. */
    Shelfline__V1__Availability *av = avail("AL-1", "EAST");
    assert_int_equal(av->available, 0);
    assert_int_equal(av->status, SHELFLINE__V1__AVAILABILITY__STATUS__BACKORDERABLE);
    assert_non_null(av->next_inbound);
    assert_int_equal(av->next_inbound->qty, 11);
    assert_int_equal(av->n_warehouses, 3);
    assert_string_equal(av->warehouses[0]->warehouse_id, "W-NEAR");
    assert_string_equal(av->warehouses[2]->warehouse_id, "W-FAR");
    /* More than the inbound can cover fails even with backorders. */
    line l7[] = {{"AL-1", 12, NULL}};
    assert_int_equal(reserve("al-8", "c", "EAST", l7, 1, true, true, 0, &out, &err),
                     SL_FAILED_PRECONDITION);
    /* Releasing a backorder gives the inbound's units back. */
    close_resv("Release", "al-7", SL_OK, NULL);
    assert_int_equal(call("GetInbound", &gi, DESC(inbound), &in, &err), SL_OK);
    assert_int_equal(in->backordered, 5);
    assert_int_equal(stock("AL-1", "W-FAR")->reserved, 9);
    assert_int_equal(invt_violations(ch), 0);
    sl_arena_reset(A);
}

static void test_state_machine(void **state)
{
    (void)state;
    product("SM-1", "test");
    assert_int_equal(invt_stock(ch, "SM-1", "W-NEAR", 10), 0);
    sl_err err;
    line l[] = {{"SM-1", 2, NULL}};
    assert_int_equal(reserve("sm-a", "c", "EAST", l, 1, false, false, 0, NULL, &err), SL_OK);
    assert_int_equal(reserve("sm-b", "c", "EAST", l, 1, false, false, 0, NULL, &err), SL_OK);
    assert_int_equal(stock("SM-1", "W-NEAR")->reserved, 4);

    Shelfline__V1__Reservation *r = close_resv("Commit", "sm-a", SL_OK, NULL);
    assert_int_equal(r->status, SHELFLINE__V1__RESERVATION__STATUS__COMMITTED);
    assert_true(r->closed_at_ms > 0);
    Shelfline__V1__StockLevel *s = stock("SM-1", "W-NEAR");
    assert_int_equal(s->on_hand, 8);
    assert_int_equal(s->reserved, 2);
    /* Commit again: the same, nothing more. */
    r = close_resv("Commit", "sm-a", SL_OK, NULL);
    assert_int_equal(r->status, SHELFLINE__V1__RESERVATION__STATUS__COMMITTED);
    assert_int_equal(stock("SM-1", "W-NEAR")->on_hand, 8);
    close_resv("Release", "sm-a", SL_FAILED_PRECONDITION, "committed");

    r = close_resv("Release", "sm-b", SL_OK, NULL);
    assert_int_equal(r->status, SHELFLINE__V1__RESERVATION__STATUS__RELEASED);
    r = close_resv("Release", "sm-b", SL_OK, NULL); /* no double release */
    assert_int_equal(r->status, SHELFLINE__V1__RESERVATION__STATUS__RELEASED);
    close_resv("Commit", "sm-b", SL_FAILED_PRECONDITION, "released");
    s = stock("SM-1", "W-NEAR");
    assert_int_equal(s->on_hand, 8);
    assert_int_equal(s->reserved, 0);
    close_resv("Commit", "sm-none", SL_NOT_FOUND, "sm-none");
    close_resv("Release", "", SL_INVALID_ARGUMENT, "reservation_id");

    /* A hold past its TTL is never committed, even before the reaper. */
    assert_int_equal(reserve("sm-c", "c", "EAST", l, 1, false, false, 1, NULL, &err), SL_OK);
    invt_sleep_ms(20);
    close_resv("Commit", "sm-c", SL_FAILED_PRECONDITION, "expired");
    Shelfline__V1__GetReservationRequest g = SHELFLINE__V1__GET_RESERVATION_REQUEST__INIT;
    g.reservation_id = "sm-c";
    assert_int_equal(call("GetReservation", &g, DESC(reservation), &r, &err), SL_OK);
    assert_int_equal(r->status, SHELFLINE__V1__RESERVATION__STATUS__EXPIRED);
    r = close_resv("Release", "sm-c", SL_OK, NULL);
    assert_int_equal(r->status, SHELFLINE__V1__RESERVATION__STATUS__EXPIRED);
    assert_int_equal(stock("SM-1", "W-NEAR")->reserved, 0);
    /* One SHIPMENT entry, one event per transition. */
    assert_int_equal(sql("SELECT count(*) FROM inventory.ledger WHERE sku = 'SM-1' "
                         "AND reason = 'SHIPMENT' AND reference = 'sm-a' AND delta = -2"),
                     1);
    assert_int_equal(sql("SELECT count(*) FROM inventory.outbox WHERE key = 'sm-a'"), 1);
    assert_int_equal(sql("SELECT count(*) FROM inventory.outbox WHERE key = 'sm-b' "
                         "AND topic = 'RESERVATION_RELEASED'"),
                     1);
    assert_int_equal(sql("SELECT count(*) FROM inventory.outbox WHERE key = 'sm-c' "
                         "AND topic = 'RESERVATION_EXPIRED'"),
                     1);
    assert_int_equal(invt_violations(ch), 0);
    sl_arena_reset(A);
}

static void test_reserve_idempotent(void **state)
{
    (void)state;
    product("ID-1", "test");
    product("ID-2", "test");
    assert_int_equal(invt_stock(ch, "ID-1", "W-NEAR", 10), 0);
    assert_int_equal(invt_stock(ch, "ID-2", "W-MID", 10), 0);
    sl_err err;
    Shelfline__V1__ReserveResponse *a, *b;
    line l[] = {{"ID-1", 2, NULL}, {"ID-2", 3, NULL}};
    assert_int_equal(reserve("id-1", "c", "EAST", l, 2, false, false, 60000, &a, &err), SL_OK);
    assert_false(a->replayed);
    /* The retry (even with another TTL): the first answer, nothing held twice. */
    assert_int_equal(reserve("id-1", "c", "EAST", l, 2, false, false, 1000, &b, &err), SL_OK);
    assert_true(b->replayed);
    assert_int_equal(b->reservation->expires_at_ms, a->reservation->expires_at_ms);
    assert_string_equal(b->reservation->lines[1]->allocations[0]->warehouse_id, "W-MID");
    assert_int_equal(stock("ID-1", "W-NEAR")->reserved, 2);
    assert_int_equal(stock("ID-2", "W-MID")->reserved, 3);
    /* Same id, other lines. */
    line other[] = {{"ID-1", 1, NULL}};
    assert_int_equal(reserve("id-1", "c", "EAST", other, 1, false, false, 0, &b, &err),
                     SL_ALREADY_EXISTS);
    assert_non_null(strstr(err.msg, "id-1"));
    /* Even after commit, a retry answers the first answer (and says so). */
    close_resv("Commit", "id-1", SL_OK, NULL);
    assert_int_equal(reserve("id-1", "c", "EAST", l, 2, false, false, 0, &b, &err), SL_OK);
    assert_true(b->replayed);
    assert_int_equal(stock("ID-1", "W-NEAR")->on_hand, 8);
    assert_int_equal(stock("ID-1", "W-NEAR")->reserved, 0);
    assert_int_equal(sql("SELECT count(*) FROM inventory.reservation WHERE id = 'id-1'"), 1);
    sl_arena_reset(A);
}

/* Inventory looks products and stock rows up in memory by strcmp; a
 * database whose collation sorts otherwise (ICU en-US ignores '-' and
 * folds case at the first level) must not make known SKUs unknown or a
 * reservation miss its rows.  The SKUs below sort differently in en-US
 * ("ab2" < "AC3", "A_4" < "A5") and byte-wise. */
static void test_collation_not_c(void **state)
{
    (void)state;
    invt_svc other;
    const char *env[] = {NULL};
    assert_int_equal(invt_start_on(&other, "inv_icu",
                                   "TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8' "
                                   "LOCALE_PROVIDER icu ICU_LOCALE 'en-US'",
                                   1, env),
                     0);
    assert_int_equal(
        invt_sql_int(other.conninfo, "SELECT ('ab2' < 'AC3')::int + 2 * ('A_4' < 'A5')::int"),
        1 + 2 * 1);
    const char *skus[] = {"AB1", "ab2", "AC3", "A_4", "A5", "a-6"};
    assert_int_equal(invt_seed(other.ch[0], skus, 6), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(invt_stock(other.ch[0], skus[i], i % 2 ? "W-MID" : "W-NEAR", 5), 0);
    sl_channel *saved = ch;
    ch = other.ch[0];
    line l[] = {{"AB1", 1, NULL}, {"ab2", 2, NULL}, {"AC3", 3, NULL},
                {"A_4", 4, NULL}, {"A5", 5, NULL},  {"a-6", 1, NULL}};
    Shelfline__V1__ReserveResponse *r;
    sl_err err;
    sl_status st = reserve("icu-1", "c", "EAST", l, 6, false, false, 60000, &r, &err);
    ch = saved;
    if (st != SL_OK) {
        invt_stop(&other);
        fail_msg("Reserve on an en-US database: %s", err.msg);
    }
    for (int i = 0; i < 6; i++) {
        assert_string_equal(r->reservation->lines[i]->sku, skus[i]);
        assert_int_equal(r->reservation->lines[i]->allocations[0]->qty, l[i].qty);
    }
    assert_int_equal(invt_sql_int(other.conninfo, "SELECT sum(reserved) FROM inventory.stock"), 16);
    sl_arena_reset(A);
    assert_int_equal(invt_stop(&other), 0);
}

static Shelfline__V1__Promotion *promotion(const char *id)
{
    Shelfline__V1__GetPromotionRequest r = SHELFLINE__V1__GET_PROMOTION_REQUEST__INIT;
    r.promotion_id = (char *)id;
    Shelfline__V1__Promotion *p;
    sl_err err;
    assert_int_equal(call("GetPromotion", &r, DESC(promotion), &p, &err), SL_OK);
    return p;
}

static void test_promotion(void **state)
{
    (void)state;
    product("PR-1", "test");
    assert_int_equal(invt_stock(ch, "PR-1", "W-NEAR", 6), 0);
    assert_int_equal(invt_stock(ch, "PR-1", "W-MID", 4), 0);
    sl_err err;
    int64_t now = 0;
    {
        /* The database clock: take it from a fresh stock row. */
        now = stock("PR-1", "W-NEAR")->updated_at_ms;
    }
    Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
    price.minor_units = 999;
    price.currency = "EUR";
    Shelfline__V1__Promotion p = SHELFLINE__V1__PROMOTION__INIT;
    p.promotion_id = "flash-1";
    p.sku = "PR-1";
    p.quota = 12;
    p.per_customer_limit = 2;
    p.starts_at_ms = now - 1000;
    p.ends_at_ms = now + 3000;
    p.price = &price;
    Shelfline__V1__CreatePromotionRequest cr = SHELFLINE__V1__CREATE_PROMOTION_REQUEST__INIT;
    cr.promotion = &p;
    Shelfline__V1__Promotion *got;
    /* More than the stock: refused, nothing fenced. */
    assert_int_equal(call("CreatePromotion", &cr, DESC(promotion), &got, &err),
                     SL_FAILED_PRECONDITION);
    assert_non_null(strstr(err.msg, "promotion.quota"));
    p.quota = 7;
    assert_int_equal(call("CreatePromotion", &cr, DESC(promotion), &got, &err), SL_OK);
    assert_int_equal(got->remaining, 7);
    assert_int_equal(got->status, SHELFLINE__V1__PROMOTION__STATUS__ACTIVE);
    assert_int_equal(got->n_fences, 2);
    assert_int_equal(call("CreatePromotion", &cr, DESC(promotion), &got, &err), SL_OK);
    p.per_customer_limit = 3;
    assert_int_equal(call("CreatePromotion", &cr, DESC(promotion), &got, &err), SL_ALREADY_EXISTS);
    p.per_customer_limit = 2;
    /* Fenced units are gone from normal availability: 10 - 7 = 3. */
    assert_int_equal(avail("PR-1", "EAST")->available, 3);
    line normal[] = {{"PR-1", 4, NULL}};
    assert_int_equal(reserve("pr-n", "c", "EAST", normal, 1, true, false, 0, NULL, &err),
                     SL_FAILED_PRECONDITION);

    Shelfline__V1__ReserveResponse *out;
    line two[] = {{"PR-1", 2, "flash-1"}};
    assert_int_equal(reserve("pr-1", "alice", "EAST", two, 1, true, false, 0, &out, &err), SL_OK);
    assert_int_equal(out->reservation->lines[0]->unit_price->minor_units, 999);
    line one[] = {{"PR-1", 1, "flash-1"}};
    assert_int_equal(reserve("pr-2", "alice", "EAST", one, 1, true, false, 0, &out, &err),
                     SL_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "alice"));
    assert_int_equal(reserve("pr-3", "bob", "EAST", two, 1, true, false, 0, &out, &err), SL_OK);
    assert_int_equal(reserve("pr-4", "carol", "EAST", two, 1, true, false, 0, &out, &err), SL_OK);
    line wrong[] = {{"ID-1", 1, "flash-1"}};
    assert_int_equal(reserve("pr-x", "dave", "EAST", wrong, 1, true, false, 0, &out, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "lines[0].promotion_id"));
    line unknown[] = {{"PR-1", 1, "nope"}};
    assert_int_equal(reserve("pr-x", "dave", "EAST", unknown, 1, true, false, 0, &out, &err),
                     SL_NOT_FOUND);
    /* 1 left: 2 is too many, 1 is fine, then sold out. */
    assert_int_equal(reserve("pr-5", "dave", "EAST", two, 1, true, false, 0, &out, &err),
                     SL_RESOURCE_EXHAUSTED);
    assert_int_equal(reserve("pr-5", "dave", "EAST", one, 1, true, false, 0, &out, &err), SL_OK);
    assert_int_equal(reserve("pr-6", "erin", "EAST", one, 1, true, false, 0, &out, &err),
                     SL_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "sold out"));
    /* A retry of an accepted one still answers. */
    assert_int_equal(reserve("pr-5", "dave", "EAST", one, 1, true, false, 0, &out, &err), SL_OK);
    assert_true(out->replayed);
    got = promotion("flash-1");
    assert_int_equal(got->held, 7);
    assert_int_equal(got->remaining, 0);
    /* Commit one, release another: back into the fence. */
    close_resv("Commit", "pr-1", SL_OK, NULL);
    close_resv("Release", "pr-3", SL_OK, NULL);
    got = promotion("flash-1");
    assert_int_equal(got->sold, 2);
    assert_int_equal(got->held, 3);
    assert_int_equal(got->remaining, 2);
    assert_int_equal(avail("PR-1", "EAST")->available, 3);
    /* bob may buy again now that his hold is gone. */
    assert_int_equal(reserve("pr-7", "bob", "EAST", one, 1, true, false, 0, &out, &err), SL_OK);
    assert_int_equal(invt_violations(ch), 0);
    /* The window ends: the reaper returns the unsold unit to stock. */
    int64_t until = invt_now_ms() + 10000;
    while (invt_now_ms() < until && promotion("flash-1")->returned == 0)
        invt_sleep_ms(100);
    got = promotion("flash-1");
    assert_int_equal(got->status, SHELFLINE__V1__PROMOTION__STATUS__ENDED);
    assert_int_equal(got->returned, 1);
    assert_int_equal(got->remaining, 0);
    assert_int_equal(avail("PR-1", "EAST")->available, 4);
    assert_int_equal(reserve("pr-8", "frank", "EAST", one, 1, true, false, 0, &out, &err),
                     SL_RESOURCE_EXHAUSTED);
    /* A hold released after the end goes to normal stock. */
    close_resv("Release", "pr-4", SL_OK, NULL);
    got = promotion("flash-1");
    assert_int_equal(got->returned, 3);
    assert_int_equal(got->held, 2);
    assert_int_equal(got->sold + got->held + got->remaining + got->returned, got->quota);
    assert_int_equal(avail("PR-1", "EAST")->available, 6);
    assert_int_equal(invt_violations(ch), 0);
    sl_arena_reset(A);
}

static void test_inbound_receive_and_transfer(void **state)
{
    (void)state;
    product("IN-1", "test");
    sl_err err;
    Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    ci.inbound_id = "PO-IN-1";
    ci.sku = "IN-1";
    ci.warehouse_id = "W-MID";
    ci.qty = 10;
    ci.expected_at_ms = 4102444800000LL;
    ci.supplier = "ACME";
    Shelfline__V1__Inbound *in;
    assert_int_equal(call("CreateInbound", &ci, DESC(inbound), &in, &err), SL_OK);
    assert_int_equal(call("CreateInbound", &ci, DESC(inbound), &in, &err), SL_OK);
    ci.qty = 11;
    assert_int_equal(call("CreateInbound", &ci, DESC(inbound), &in, &err), SL_ALREADY_EXISTS);
    /* Two backorders: the older held, the newer committed. */
    line l4[] = {{"IN-1", 4, NULL}}, l3[] = {{"IN-1", 3, NULL}};
    Shelfline__V1__ReserveResponse *out;
    assert_int_equal(reserve("in-a", "c", "EAST", l4, 1, false, true, 0, &out, &err), SL_OK);
    assert_int_equal(reserve("in-b", "c", "EAST", l3, 1, false, true, 0, &out, &err), SL_OK);
    close_resv("Commit", "in-b", SL_OK, NULL);
    /* A delay moves the date and names the waiting reservations. */
    Shelfline__V1__DelayInboundRequest dr = SHELFLINE__V1__DELAY_INBOUND_REQUEST__INIT;
    dr.inbound_id = "PO-IN-1";
    dr.new_expected_at_ms = 4102444800000LL + 86400000LL;
    dr.reason = "port congestion";
    assert_int_equal(call("DelayInbound", &dr, DESC(inbound), &in, &err), SL_OK);
    assert_int_equal(in->n_delays, 1);
    assert_int_equal(in->original_expected_at_ms, 4102444800000LL);
    assert_int_equal(call("DelayInbound", &dr, DESC(inbound), &in, &err), SL_OK);
    assert_int_equal(in->n_delays, 1); /* the retry changed nothing */
    dr.new_expected_at_ms = 1000;
    dr.reason = "earlier";
    assert_int_equal(call("DelayInbound", &dr, DESC(inbound), &in, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "new_expected_at_ms"));
    assert_int_equal(sql("SELECT count(*) FROM inventory.outbox WHERE topic = 'INBOUND_DELAYED' "
                         "AND key = 'IN-1'"),
                     1);
    /* Receive 5: in-a's 4 become reserved stock, 1 of in-b ships. */
    Shelfline__V1__ReceiveInboundRequest rr = SHELFLINE__V1__RECEIVE_INBOUND_REQUEST__INIT;
    rr.inbound_id = "PO-IN-1";
    rr.receipt_id = "rcpt-1";
    rr.qty = 5;
    Shelfline__V1__ReceiveInboundResponse *ro;
    assert_int_equal(call("ReceiveInbound", &rr, DESC(receive_inbound_response), &ro, &err), SL_OK);
    assert_int_equal(ro->n_fulfilled, 2);
    assert_string_equal(ro->fulfilled[0]->reservation_id, "in-a");
    assert_int_equal(ro->fulfilled[0]->qty, 4);
    assert_string_equal(ro->fulfilled[1]->reservation_id, "in-b");
    assert_int_equal(ro->fulfilled[1]->qty, 1);
    assert_int_equal(ro->stock->on_hand, 4);
    assert_int_equal(ro->stock->reserved, 4);
    assert_int_equal(ro->inbound->received, 5);
    assert_int_equal(ro->inbound->backordered, 2);
    assert_int_equal(call("ReceiveInbound", &rr, DESC(receive_inbound_response), &ro, &err), SL_OK);
    assert_true(ro->replayed);
    assert_int_equal(stock("IN-1", "W-MID")->on_hand, 4);
    rr.receipt_id = "rcpt-2";
    rr.qty = 6;
    assert_int_equal(call("ReceiveInbound", &rr, DESC(receive_inbound_response), &ro, &err),
                     SL_FAILED_PRECONDITION);
    rr.qty = 5;
    assert_int_equal(call("ReceiveInbound", &rr, DESC(receive_inbound_response), &ro, &err), SL_OK);
    assert_true(ro->inbound->closed);
    assert_int_equal(ro->inbound->backordered, 0);
    assert_int_equal(ro->stock->on_hand, 7); /* 10 in, 3 shipped to in-b */
    Shelfline__V1__GetReservationRequest g = SHELFLINE__V1__GET_RESERVATION_REQUEST__INIT;
    g.reservation_id = "in-a";
    Shelfline__V1__Reservation *r;
    assert_int_equal(call("GetReservation", &g, DESC(reservation), &r, &err), SL_OK);
    assert_int_equal(r->lines[0]->allocations[0]->awaiting_qty, 0);
    /* in-a can commit now: its units are in stock. */
    close_resv("Commit", "in-a", SL_OK, NULL);
    assert_int_equal(stock("IN-1", "W-MID")->on_hand, 3);
    assert_int_equal(sql("SELECT sum(delta) FROM inventory.ledger WHERE sku = 'IN-1'"), 3);

    /* Transfer 2 from MID to FAR (region WEST: MID ships there in 2 days). */
    Shelfline__V1__TransferRequest tr = SHELFLINE__V1__TRANSFER_REQUEST__INIT;
    tr.transfer_id = "TR-1";
    tr.sku = "IN-1";
    tr.from_warehouse_id = "W-MID";
    tr.to_warehouse_id = "W-FAR";
    tr.qty = 2;
    Shelfline__V1__TransferResponse *to;
    assert_int_equal(call("Transfer", &tr, DESC(transfer_response), &to, &err), SL_OK);
    assert_int_equal(to->source->on_hand, 1);
    assert_int_equal(to->inbound->kind, SHELFLINE__V1__INBOUND__KIND__TRANSFER);
    assert_string_equal(to->inbound->source_warehouse_id, "W-MID");
    int64_t created = to->inbound->created_at_ms;
    assert_int_equal(to->inbound->expected_at_ms - created, 2 * 86400000LL);
    assert_int_equal(call("Transfer", &tr, DESC(transfer_response), &to, &err), SL_OK);
    assert_true(to->replayed);
    tr.qty = 1;
    assert_int_equal(call("Transfer", &tr, DESC(transfer_response), &to, &err), SL_ALREADY_EXISTS);
    tr.transfer_id = "TR-2";
    tr.qty = 5;
    assert_int_equal(call("Transfer", &tr, DESC(transfer_response), &to, &err),
                     SL_FAILED_PRECONDITION);
    Shelfline__V1__ListInboundRequest li = SHELFLINE__V1__LIST_INBOUND_REQUEST__INIT;
    li.sku = "IN-1";
    li.open_only = true;
    Shelfline__V1__ListInboundResponse *lo;
    assert_int_equal(call("ListInbound", &li, DESC(list_inbound_response), &lo, &err), SL_OK);
    assert_int_equal(lo->n_inbounds, 1);
    assert_string_equal(lo->inbounds[0]->inbound_id, "TR-1");
    assert_int_equal(invt_violations(ch), 0);
    sl_arena_reset(A);
}

/* StockLevel.incoming: the open inbound units of the row not received
 * yet, in every answer that carries a StockLevel, falling as receipts
 * arrive and zero once everything did. */
static void test_stock_level_counts_incoming(void **state)
{
    (void)state;
    product("INC-1", "test");
    sl_err err;
    Shelfline__V1__AdjustStockRequest ar = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
    ar.request_id = "inc-adj-1";
    ar.sku = "INC-1";
    ar.warehouse_id = "W-NEAR";
    ar.delta = 3;
    ar.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT;
    Shelfline__V1__AdjustStockResponse *ao;
    assert_int_equal(call("AdjustStock", &ar, DESC(adjust_stock_response), &ao, &err), SL_OK);
    assert_int_equal(ao->stock->incoming, 0);
    /* Two purchase orders to W-NEAR, one to W-MID (not this row's). */
    const struct {
        const char *id, *wh;
        int64_t qty;
    } pos[] = {{"PO-INC-1", "W-NEAR", 10}, {"PO-INC-2", "W-NEAR", 4}, {"PO-INC-3", "W-MID", 5}};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
        Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
        ci.inbound_id = (char *)pos[i].id;
        ci.sku = "INC-1";
        ci.warehouse_id = (char *)pos[i].wh;
        ci.qty = pos[i].qty;
        ci.expected_at_ms = 4102444800000LL + (int64_t)i * 86400000LL;
        Shelfline__V1__Inbound *in;
        assert_int_equal(call("CreateInbound", &ci, DESC(inbound), &in, &err), SL_OK);
    }
    assert_int_equal(stock("INC-1", "W-NEAR")->incoming, 14);
    /* A backorder promises incoming units; they are still incoming. */
    line l2[] = {{"INC-1", 5, NULL}};
    Shelfline__V1__ReserveResponse *out;
    assert_int_equal(reserve("inc-a", "c", "EAST", l2, 1, true, true, 0, &out, &err), SL_OK);
    assert_int_equal(stock("INC-1", "W-NEAR")->incoming, 14);
    /* The low-stock list and SetStockPolicy's answer carry it too. */
    Shelfline__V1__SetStockPolicyRequest sp = SHELFLINE__V1__SET_STOCK_POLICY_REQUEST__INIT;
    sp.sku = "INC-1";
    sp.warehouse_id = "W-NEAR";
    sp.low_stock_threshold = 100;
    Shelfline__V1__StockLevel *lv;
    assert_int_equal(call("SetStockPolicy", &sp, DESC(stock_level), &lv, &err), SL_OK);
    assert_int_equal(lv->incoming, 14);
    Shelfline__V1__ListLowStockRequest lr = SHELFLINE__V1__LIST_LOW_STOCK_REQUEST__INIT;
    Shelfline__V1__PageRequest page = SHELFLINE__V1__PAGE_REQUEST__INIT;
    page.page_size = 1000;
    lr.page = &page;
    Shelfline__V1__ListLowStockResponse *lo;
    assert_int_equal(call("ListLowStock", &lr, DESC(list_low_stock_response), &lo, &err), SL_OK);
    int found = 0;
    for (size_t i = 0; i < lo->n_items; i++)
        if (strcmp(lo->items[i]->stock->sku, "INC-1") == 0) {
            assert_string_equal(lo->items[i]->stock->warehouse_id, "W-NEAR");
            assert_int_equal(lo->items[i]->stock->incoming, 14);
            found++;
        }
    assert_int_equal(found, 1);
    /* Part of PO-INC-1 arrives: 8 still incoming, in the receipt's answer
     * (read after the receipt) and in GetStock. */
    Shelfline__V1__ReceiveInboundRequest rr = SHELFLINE__V1__RECEIVE_INBOUND_REQUEST__INIT;
    rr.inbound_id = "PO-INC-1";
    rr.receipt_id = "inc-rcpt-1";
    rr.qty = 6;
    Shelfline__V1__ReceiveInboundResponse *ro;
    assert_int_equal(call("ReceiveInbound", &rr, DESC(receive_inbound_response), &ro, &err), SL_OK);
    assert_int_equal(ro->stock->incoming, 8);
    assert_int_equal(stock("INC-1", "W-NEAR")->incoming, 8);
    /* A transfer's source row carries its own incoming. */
    Shelfline__V1__TransferRequest tr = SHELFLINE__V1__TRANSFER_REQUEST__INIT;
    tr.transfer_id = "TR-INC-1";
    tr.sku = "INC-1";
    tr.from_warehouse_id = "W-NEAR";
    tr.to_warehouse_id = "W-FAR";
    tr.qty = 1;
    Shelfline__V1__TransferResponse *to;
    assert_int_equal(call("Transfer", &tr, DESC(transfer_response), &to, &err), SL_OK);
    assert_int_equal(to->source->incoming, 8);
    /* The rest of PO-INC-1, then PO-INC-2: nothing left incoming. */
    rr.receipt_id = "inc-rcpt-2";
    rr.qty = 4;
    assert_int_equal(call("ReceiveInbound", &rr, DESC(receive_inbound_response), &ro, &err), SL_OK);
    assert_true(ro->inbound->closed);
    assert_int_equal(ro->stock->incoming, 4);
    rr.inbound_id = "PO-INC-2";
    rr.receipt_id = "inc-rcpt-3";
    assert_int_equal(call("ReceiveInbound", &rr, DESC(receive_inbound_response), &ro, &err), SL_OK);
    assert_int_equal(ro->stock->incoming, 0);
    assert_int_equal(stock("INC-1", "W-NEAR")->incoming, 0);
    ar.request_id = "inc-adj-2";
    ar.delta = 1;
    assert_int_equal(call("AdjustStock", &ar, DESC(adjust_stock_response), &ao, &err), SL_OK);
    assert_int_equal(ao->stock->incoming, 0);
    assert_int_equal(invt_violations(ch), 0);
    sl_arena_reset(A);
}

static void test_availability_and_low_stock(void **state)
{
    (void)state;
    product("AV-1", "test");
    product("AV-2", "test");
    sl_err err;
    assert_int_equal(invt_stock(ch, "AV-1", "W-NEAR", 3), 0);
    assert_int_equal(invt_stock(ch, "AV-1", "W-FAR", 20), 0);
    Shelfline__V1__SetStockPolicyRequest pr = SHELFLINE__V1__SET_STOCK_POLICY_REQUEST__INIT;
    pr.sku = "AV-1";
    pr.warehouse_id = "W-NEAR";
    pr.safety_stock = 2;
    pr.low_stock_threshold = 5;
    Shelfline__V1__StockLevel *lvl;
    assert_int_equal(call("SetStockPolicy", &pr, DESC(stock_level), &lvl, &err), SL_OK);
    assert_int_equal(lvl->low_stock_threshold, 5);
    /* EAST: 23 available over thresholds 5: in stock. */
    Shelfline__V1__Availability *a = avail("AV-1", "EAST");
    assert_int_equal(a->status, SHELFLINE__V1__AVAILABILITY__STATUS__IN_STOCK);
    assert_int_equal(a->available, 23);
    assert_int_equal(a->n_warehouses, 3);
    assert_int_equal(a->warehouses[0]->available, 3);
    /* Raise FAR's threshold too: 23 <= 25 is low, "only 23 left". */
    pr.warehouse_id = "W-FAR";
    pr.low_stock_threshold = 20;
    assert_int_equal(call("SetStockPolicy", &pr, DESC(stock_level), &lvl, &err), SL_OK);
    a = avail("AV-1", "EAST");
    assert_int_equal(a->status, SHELFLINE__V1__AVAILABILITY__STATUS__LOW_STOCK);
    assert_int_equal(a->only_left, 23);
    assert_string_equal(a->hint, "only 23 left");
    assert_int_equal(avail("AV-2", "EAST")->status,
                     SHELFLINE__V1__AVAILABILITY__STATUS__OUT_OF_STOCK);
    /* Batches: order kept, unknown SKUs and regions named. */
    Shelfline__V1__GetAvailabilityRequest r = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
    char *skus[] = {"AV-2", "AV-1", "AV-2"};
    r.skus = skus;
    r.n_skus = 3;
    r.region = "EAST";
    Shelfline__V1__GetAvailabilityResponse *o;
    assert_int_equal(call("GetAvailability", &r, DESC(get_availability_response), &o, &err), SL_OK);
    assert_int_equal(o->n_items, 3);
    assert_string_equal(o->items[1]->sku, "AV-1");
    r.region = "NOWHERE";
    assert_int_equal(call("GetAvailability", &r, DESC(get_availability_response), &o, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "region"));
    r.region = "EAST";
    skus[2] = "AV-404";
    assert_int_equal(call("GetAvailability", &r, DESC(get_availability_response), &o, &err),
                     SL_NOT_FOUND);
    assert_non_null(strstr(err.msg, "skus[2]"));
    /* Low stock: W-NEAR (3 <= 5) and W-FAR (20 <= 20) both listed. */
    Shelfline__V1__ListLowStockRequest lr = SHELFLINE__V1__LIST_LOW_STOCK_REQUEST__INIT;
    Shelfline__V1__PageRequest page = SHELFLINE__V1__PAGE_REQUEST__INIT;
    page.page_size = 1000;
    lr.page = &page;
    Shelfline__V1__ListLowStockResponse *lo;
    assert_int_equal(call("ListLowStock", &lr, DESC(list_low_stock_response), &lo, &err), SL_OK);
    int found = 0;
    for (size_t i = 0; i < lo->n_items; i++)
        if (strcmp(lo->items[i]->stock->sku, "AV-1") == 0)
            found++;
    assert_int_equal(found, 2);
    lr.region = "WEST";
    assert_int_equal(call("ListLowStock", &lr, DESC(list_low_stock_response), &lo, &err), SL_OK);
    for (size_t i = 0; i < lo->n_items; i++)
        assert_string_equal(lo->items[i]->region, "WEST");
    sl_arena_reset(A);
}

/* Writes qty units of sku off at W-NEAR (shrinkage). */
static sl_status feed_write_off(const char *id, const char *sku, int64_t qty)
{
    Shelfline__V1__AdjustStockRequest r = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
    r.request_id = (char *)id;
    r.sku = (char *)sku;
    r.warehouse_id = "W-NEAR";
    r.delta = -qty;
    r.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__SHRINKAGE;
    sl_err err;
    return call("AdjustStock", &r, DESC(adjust_stock_response), NULL, &err);
}

/* The stock feed: every SKU of a region in Merchant Center's vocabulary,
 * paged; each kind of SKU once. */
static void test_stock_feed(void **state)
{
    (void)state;
    sl_err err;
    const char *skus[] = {"FEED-A", "FEED-B", "FEED-C", "FEED-D", "FEED-E"};
    for (int i = 0; i < 5; i++)
        product(skus[i], "feed");
    /* A: plenty; B: 3 at or below its threshold of 5; C: never stocked,
     * nothing inbound; D: stocked once, written off to 0, an inbound on the
     * way; E: never stocked, an inbound on the way. */
    assert_int_equal(invt_stock(ch, "FEED-A", "W-NEAR", 50), 0);
    assert_int_equal(invt_stock(ch, "FEED-B", "W-NEAR", 3), 0);
    assert_int_equal(invt_stock(ch, "FEED-D", "W-NEAR", 2), 0);
    assert_int_equal(feed_write_off("feed-off-d", "FEED-D", 2), SL_OK);
    Shelfline__V1__SetStockPolicyRequest pr = SHELFLINE__V1__SET_STOCK_POLICY_REQUEST__INIT;
    pr.sku = "FEED-B";
    pr.warehouse_id = "W-NEAR";
    pr.low_stock_threshold = 5;
    Shelfline__V1__StockLevel *lvl;
    assert_int_equal(call("SetStockPolicy", &pr, DESC(stock_level), &lvl, &err), SL_OK);
    const char *in_sku[] = {"FEED-D", "FEED-E"}, *in_id[] = {"PO-FEED-D", "PO-FEED-E"};
    for (int i = 0; i < 2; i++) {
        Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
        ci.inbound_id = (char *)in_id[i];
        ci.sku = (char *)in_sku[i];
        ci.warehouse_id = "W-NEAR";
        ci.qty = 10;
        ci.expected_at_ms = 4102444800000LL + i * 86400000LL; /* 2100-01-01, -02 */
        Shelfline__V1__Inbound *in;
        assert_int_equal(call("CreateInbound", &ci, DESC(inbound), &in, &err), SL_OK);
    }

    /* Every page at most 3 items, in SKU order across pages. */
    Shelfline__V1__GetStockFeedRequest r = SHELFLINE__V1__GET_STOCK_FEED_REQUEST__INIT;
    Shelfline__V1__PageRequest page = SHELFLINE__V1__PAGE_REQUEST__INIT;
    page.page_size = 3;
    r.page = &page;
    r.region = "EAST";
    Shelfline__V1__StockFeedItem *got[5] = {0};
    char last[80] = "";
    int pages = 0;
    for (;;) {
        Shelfline__V1__GetStockFeedResponse *o;
        assert_int_equal(call("GetStockFeed", &r, DESC(get_stock_feed_response), &o, &err), SL_OK);
        assert_string_equal(o->region, "EAST");
        assert_true(o->n_items <= 3);
        for (size_t i = 0; i < o->n_items; i++) {
            assert_true(strcmp(o->items[i]->sku, last) > 0);
            snprintf(last, sizeof last, "%s", o->items[i]->sku);
            for (int k = 0; k < 5; k++)
                if (strcmp(o->items[i]->sku, skus[k]) == 0)
                    got[k] = o->items[i];
        }
        pages++;
        if (o->next_page_token[0] == '\0')
            break;
        assert_true(pages < 500);
        page.page_token = o->next_page_token;
    }
    for (int k = 0; k < 5; k++)
        assert_non_null(got[k]);
    assert_string_equal(got[0]->availability, "in_stock");
    assert_int_equal(got[0]->available, 50);
    assert_int_equal(got[0]->only_left, 0);
    assert_false(got[0]->suppress_ads);
    assert_string_equal(got[0]->title, "FEED-A");
    assert_string_equal(got[0]->category, "feed");
    assert_int_equal(got[0]->price->minor_units, 1999);
    assert_string_equal(got[1]->availability, "in_stock");
    assert_int_equal(got[1]->only_left, 3);
    assert_string_equal(got[1]->hint, "only 3 left");
    assert_string_equal(got[2]->availability, "out_of_stock");
    assert_true(got[2]->suppress_ads);
    assert_int_equal(got[2]->availability_date_ms, 0);
    assert_string_equal(got[2]->availability_date, "");
    assert_string_equal(got[3]->availability, "backorder");
    assert_int_equal(got[3]->availability_date_ms, 4102444800000LL);
    assert_string_equal(got[3]->availability_date, "2100-01-01T00:00:00Z");
    assert_false(got[3]->suppress_ads);
    assert_string_equal(got[4]->availability, "preorder");
    assert_string_equal(got[4]->availability_date, "2100-01-02T00:00:00Z");
    /* Once E has been stocked (and sold out again), its inbound is a
     * backorder. */
    assert_int_equal(invt_stock(ch, "FEED-E", "W-NEAR", 1), 0);
    assert_int_equal(feed_write_off("feed-off-e", "FEED-E", 1), SL_OK);
    Shelfline__V1__GetStockFeedResponse *o;
    page.page_token = "";
    page.page_size = 2;
    for (;;) {
        assert_int_equal(call("GetStockFeed", &r, DESC(get_stock_feed_response), &o, &err), SL_OK);
        bool seen = false;
        for (size_t i = 0; i < o->n_items; i++)
            if (strcmp(o->items[i]->sku, "FEED-E") == 0) {
                assert_string_equal(o->items[i]->availability, "backorder");
                seen = true;
            }
        if (seen)
            break;
        assert_true(o->next_page_token[0] != '\0');
        page.page_token = o->next_page_token;
    }

    /* Refusals name the field. */
    page.page_token = "";
    r.region = "NOWHERE";
    assert_int_equal(call("GetStockFeed", &r, DESC(get_stock_feed_response), &o, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "region"));
    r.region = "";
    assert_int_equal(call("GetStockFeed", &r, DESC(get_stock_feed_response), &o, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "region"));
    r.region = "EAST";
    page.page_size = 1001;
    assert_int_equal(call("GetStockFeed", &r, DESC(get_stock_feed_response), &o, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "page"));
    sl_arena_reset(A);
}

/* Events of one SKU over a sequence of changes: exactly these, in order. */
static void test_events_exact_and_replayable(void **state)
{
    (void)state;
    product("EV-1", "test");
    sl_err err;
    /* Start after everything earlier is numbered. */
    for (int i = 0; i < 100 && sql("SELECT count(*) FROM inventory.outbox WHERE pos IS NULL") > 0;
         i++)
        invt_sleep_ms(50);
    long long head = sql("SELECT coalesce(max(pos), 0) FROM inventory.outbox");
    /* BACK_IN_STOCK for both regions (both see W-NEAR). */
    assert_int_equal(invt_stock(ch, "EV-1", "W-NEAR", 2), 0);
    line l[] = {{"EV-1", 2, NULL}};
    /* OUT_OF_STOCK in both regions. */
    assert_int_equal(reserve("ev-a", "c", "EAST", l, 1, false, false, 0, NULL, &err), SL_OK);
    /* BACK_IN_STOCK x2 + RESERVATION_RELEASED. */
    close_resv("Release", "ev-a", SL_OK, NULL);
    /* OUT_OF_STOCK x2, then STOCK_CHANGED + RESERVATION_COMMITTED. */
    assert_int_equal(reserve("ev-b", "c", "WEST", l, 1, false, false, 0, NULL, &err), SL_OK);
    close_resv("Commit", "ev-b", SL_OK, NULL);
    /* A failed reservation writes nothing. */
    assert_int_equal(reserve("ev-c", "c", "WEST", l, 1, false, false, 0, NULL, &err),
                     SL_FAILED_PRECONDITION);
    const char *want[][2] = {
        {"STOCK_CHANGED", "EV-1"}, {"BACK_IN_STOCK", "EV-1"},
        {"BACK_IN_STOCK", "EV-1"}, {"OUT_OF_STOCK", "EV-1"},
        {"OUT_OF_STOCK", "EV-1"},  {"BACK_IN_STOCK", "EV-1"},
        {"BACK_IN_STOCK", "EV-1"}, {"RESERVATION_RELEASED", "ev-a"},
        {"OUT_OF_STOCK", "EV-1"},  {"OUT_OF_STOCK", "EV-1"},
        {"STOCK_CHANGED", "EV-1"}, {"RESERVATION_COMMITTED", "ev-b"},
    };
    size_t nwant = sizeof want / sizeof want[0];
    /* Follow the stream from the head until all arrived. */
    Shelfline__V1__WatchEventsRequest wr = SHELFLINE__V1__WATCH_EVENTS_REQUEST__INIT;
    wr.after_id = head;
    sl_client_stream *s;
    assert_int_equal(sl_client_stream_open(ch, "/shelfline.v1.InventoryService/WatchEvents",
                                           &wr.base, DESC(event), NULL, &s, &err),
                     SL_OK);
    int64_t ids[16];
    for (size_t i = 0; i < nwant; i++) {
        ProtobufCMessage *m = NULL;
        bool timed_out = false;
        assert_int_equal(sl_client_stream_next(s, A, &m, 5000, &timed_out, &err), SL_OK);
        assert_non_null(m);
        Shelfline__V1__Event *e = (Shelfline__V1__Event *)m;
        if (strcmp(e->topic, want[i][0]) != 0 || strcmp(e->key, want[i][1]) != 0)
            fprintf(stderr, "event %zu: got %s/%s want %s/%s\n", i, e->topic, e->key, want[i][0],
                    want[i][1]);
        assert_string_equal(e->topic, want[i][0]);
        assert_string_equal(e->key, want[i][1]);
        assert_int_equal(e->id, head + 1 + (int64_t)i);
        ids[i] = e->id;
        if (i == 10) {
            Shelfline__V1__StockChanged *sc =
                shelfline__v1__stock_changed__unpack(NULL, e->payload.len, e->payload.data);
            assert_non_null(sc);
            assert_int_equal(sc->entry->delta, -2);
            assert_int_equal(sc->entry->reason, SHELFLINE__V1__LEDGER_ENTRY__REASON__SHIPMENT);
            assert_int_equal(sc->on_hand, 0);
            shelfline__v1__stock_changed__free_unpacked(sc, NULL);
        }
        if (i == 3) {
            Shelfline__V1__RegionStockAlert *ra =
                shelfline__v1__region_stock_alert__unpack(NULL, e->payload.len, e->payload.data);
            assert_non_null(ra);
            assert_int_equal(ra->previous_available, 2);
            assert_int_equal(ra->available, 0);
            assert_int_equal(ra->status, SHELFLINE__V1__AVAILABILITY__STATUS__OUT_OF_STOCK);
            shelfline__v1__region_stock_alert__free_unpacked(ra, NULL);
        }
    }
    ProtobufCMessage *m = NULL;
    bool timed_out = false;
    assert_int_equal(sl_client_stream_next(s, A, &m, 300, &timed_out, &err), SL_OK);
    assert_null(m); /* nothing else */
    sl_client_stream_close(s);
    /* Replay from the middle: exactly the suffix. */
    wr.after_id = ids[6];
    const char *topics[] = {"RESERVATION_RELEASED", "RESERVATION_COMMITTED"};
    wr.topics = (char **)topics;
    wr.n_topics = 2;
    assert_int_equal(sl_client_stream_open(ch, "/shelfline.v1.InventoryService/WatchEvents",
                                           &wr.base, DESC(event), NULL, &s, &err),
                     SL_OK);
    assert_int_equal(sl_client_stream_next(s, A, &m, 5000, &timed_out, &err), SL_OK);
    assert_int_equal(((Shelfline__V1__Event *)m)->id, ids[7]);
    assert_int_equal(sl_client_stream_next(s, A, &m, 5000, &timed_out, &err), SL_OK);
    assert_int_equal(((Shelfline__V1__Event *)m)->id, ids[11]);
    assert_string_equal(((Shelfline__V1__Event *)m)->payload_type, "shelfline.v1.ReservationEvent");
    sl_client_stream_close(s);
    sl_arena_reset(A);
}

/* ---- Commit and Release combined ---- */

#define CC_N 40

typedef struct cc_call {
    const char *method;
    char id[16];
    pthread_barrier_t *go;
    sl_status st;
} cc_call;

static void *cc_main(void *p)
{
    cc_call *c = p;
    sl_arena *a = sl_arena_create(0);
    Shelfline__V1__CommitRequest r = SHELFLINE__V1__COMMIT_REQUEST__INIT;
    r.reservation_id = c->id;
    sl_err err;
    pthread_barrier_wait(c->go);
    c->st = invt_call(ch, c->method, &r.base, DESC(reservation), a, NULL, &err);
    if (c->st != SL_OK && c->st != SL_FAILED_PRECONDITION)
        fprintf(stderr, "%s %s: %s %s\n", c->method, c->id, sl_status_name(c->st), err.msg);
    sl_arena_destroy(a);
    return NULL;
}

/* Concurrent calls land in shared transactions: every id commits once even
 * when committed twice at the same moment, and where a Commit and a Release
 * of one id race exactly one of them wins. */
static void test_close_combined(void **state)
{
    (void)state;
    product("CC-1", "test");
    assert_int_equal(invt_stock(ch, "CC-1", "W-NEAR", 100), 0);
    sl_err err;
    for (int i = 0; i < CC_N; i++) {
        char id[16];
        snprintf(id, sizeof id, "cc-%d", i);
        line l[1] = {{"CC-1", 1, NULL}};
        assert_int_equal(reserve(id, "cust-cc", "EAST", l, 1, false, false, 600000, NULL, &err),
                         SL_OK);
    }
    /* 0..39 committed; 0..19 committed a second time; 30..39 released. */
    enum { CALLS = CC_N + 20 + 10 };
    static cc_call calls[CALLS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, CALLS);
    pthread_t th[CALLS];
    for (int i = 0; i < CALLS; i++) {
        int id = i < CC_N ? i : i < CC_N + 20 ? i - CC_N : 30 + (i - CC_N - 20);
        calls[i] = (cc_call){i < CC_N + 20 ? "Commit" : "Release", "", &go, SL_OK};
        snprintf(calls[i].id, sizeof calls[i].id, "cc-%d", id);
        pthread_create(&th[i], NULL, cc_main, &calls[i]);
    }
    for (int i = 0; i < CALLS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < CC_N + 20; i++) {
        int id = i < CC_N ? i : i - CC_N;
        if (id < 30)
            assert_int_equal(calls[i].st, SL_OK);
    }
    long long committed = 30;
    for (int k = 30; k < CC_N; k++) {
        sl_status c = calls[k].st, r = calls[CC_N + 20 + (k - 30)].st;
        /* One of them won, the other was refused. */
        assert_true((c == SL_OK && r == SL_FAILED_PRECONDITION) ||
                    (c == SL_FAILED_PRECONDITION && r == SL_OK));
        committed += c == SL_OK;
    }
    fprintf(stderr, "close combined: %lld of %d committed, the rest released\n", committed, CC_N);
    assert_int_equal(sql("SELECT count(*) FROM inventory.reservation WHERE id LIKE 'cc-%%' "
                         "AND status = 'COMMITTED'"),
                     committed);
    assert_int_equal(sql("SELECT count(*) FROM inventory.outbox WHERE topic IN "
                         "('RESERVATION_COMMITTED', 'RESERVATION_RELEASED') AND key LIKE 'cc-%%'"),
                     CC_N);
    assert_int_equal(sql("SELECT -sum(delta) FROM inventory.ledger WHERE sku = 'CC-1' "
                         "AND reason = 'SHIPMENT'"),
                     committed);
    assert_int_equal(sql("SELECT on_hand FROM inventory.stock WHERE sku = 'CC-1'"),
                     100 - committed);
    assert_int_equal(sql("SELECT reserved FROM inventory.stock WHERE sku = 'CC-1'"), 0);
    assert_int_equal(invt_violations(ch), 0);
}

/* ---- average stock from the ledger ---- */

static const Shelfline__V1__LedgerEntry *adjust(const char *id, const char *sku, const char *wh,
                                                int64_t delta)
{
    Shelfline__V1__AdjustStockRequest r = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
    r.request_id = (char *)id;
    r.sku = (char *)sku;
    r.warehouse_id = (char *)wh;
    r.delta = delta;
    r.reason = delta > 0 ? SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT
                         : SHELFLINE__V1__LEDGER_ENTRY__REASON__DAMAGE;
    Shelfline__V1__AdjustStockResponse *out;
    sl_err err;
    assert_int_equal(call("AdjustStock", &r, DESC(adjust_stock_response), &out, &err), SL_OK);
    return out->entry;
}

static Shelfline__V1__GetAverageStockResponse *average(const char *const *skus, size_t n,
                                                       const char *wh, int64_t from, int64_t to)
{
    Shelfline__V1__GetAverageStockRequest r = SHELFLINE__V1__GET_AVERAGE_STOCK_REQUEST__INIT;
    r.skus = (char **)skus;
    r.n_skus = n;
    r.warehouse_id = (char *)wh;
    r.from_at_ms = from;
    r.to_at_ms = to;
    Shelfline__V1__GetAverageStockResponse *out;
    sl_err err;
    sl_status st = call("GetAverageStock", &r, DESC(get_average_stock_response), &out, &err);
    if (st != SL_OK)
        fail_msg("GetAverageStock: %s %s", sl_status_name(st), err.msg);
    assert_int_equal(out->n_stock, n);
    return out;
}

/* Levels 10, 25 (in two warehouses), then 20: the time-weighted average
 * from the ledger entries' own times, the window starting at the first
 * entry, per warehouse, before any entry and after the last. */
static void test_average_stock(void **state)
{
    (void)state;
    product("AVG-1", "test");
    product("AVG-0", "test");
    const Shelfline__V1__LedgerEntry *e1 = adjust("avg-1", "AVG-1", "W-NEAR", 10);
    int64_t t1 = e1->created_at_ms;
    usleep(250 * 1000);
    int64_t t2 = adjust("avg-2", "AVG-1", "W-FAR", 15)->created_at_ms;
    usleep(250 * 1000);
    int64_t t3 = adjust("avg-3", "AVG-1", "W-NEAR", -5)->created_at_ms;
    usleep(250 * 1000);
    int64_t end = sl_db_now_ms();

    const char *skus[3] = {"AVG-1", "AVG-0", "AVG-1"};
    Shelfline__V1__GetAverageStockResponse *r = average(skus, 3, "", t1 - 60000, end);
    assert_int_equal(r->to_at_ms, end);
    const Shelfline__V1__AverageStock *a = r->stock[0];
    assert_string_equal(a->sku, "AVG-1");
    assert_int_equal(a->tracked_from_ms, t1);
    assert_int_equal(a->on_hand_at_start, 10);
    assert_int_equal(a->on_hand_at_end, 20);
    assert_int_equal(a->changes, 3);
    double want =
        (10.0 * (double)(t2 - t1) + 25.0 * (double)(t3 - t2) + 20.0 * (double)(end - t3)) /
        (double)(end - t1);
    /* Entry times come back in whole milliseconds: a tenth of a unit of
     * slack, where a wrong formula is off by whole units. */
    fprintf(stderr, "average stock: %.4f (want %.4f)\n", a->average_on_hand, want);
    assert_true(fabs(a->average_on_hand - want) < 0.1);
    /* No history: nothing tracked, not zero stock for the whole window. */
    assert_string_equal(r->stock[1]->sku, "AVG-0");
    assert_int_equal(r->stock[1]->tracked_from_ms, 0);
    assert_true(r->stock[1]->average_on_hand == 0);
    /* Request order, duplicates answered each time. */
    assert_string_equal(r->stock[2]->sku, "AVG-1");
    assert_int_equal(r->stock[2]->changes, 3);

    /* One warehouse: 10 from t1, 5 from t3. */
    r = average(skus, 1, "W-NEAR", t1 - 60000, end);
    want = (10.0 * (double)(t3 - t1) + 5.0 * (double)(end - t3)) / (double)(end - t1);
    assert_true(fabs(r->stock[0]->average_on_hand - want) < 0.1);
    assert_int_equal(r->stock[0]->on_hand_at_end, 5);
    /* Starting between entries: the level then, for the whole first stretch. */
    int64_t mid = t2 + (t3 - t2) / 2;
    r = average(skus, 1, "", mid, end);
    assert_int_equal(r->stock[0]->tracked_from_ms, mid);
    assert_int_equal(r->stock[0]->on_hand_at_start, 25);
    assert_int_equal(r->stock[0]->changes, 1);
    want = (25.0 * (double)(t3 - mid) + 20.0 * (double)(end - t3)) / (double)(end - mid);
    assert_true(fabs(r->stock[0]->average_on_hand - want) < 0.1);
    /* After the last change: flat.  Before the first: nothing. */
    r = average(skus, 1, "", t3 + 1, 0);
    assert_true(fabs(r->stock[0]->average_on_hand - 20.0) < 1e-9);
    assert_int_equal(r->stock[0]->changes, 0);
    assert_true(r->to_at_ms >= end);
    r = average(skus, 1, "", t1 - 60000, t1 - 30000);
    assert_int_equal(r->stock[0]->tracked_from_ms, 0);
    assert_int_equal(r->stock[0]->on_hand_at_end, 0);
}

/* ---- bad input ---- */

static void bad(const char *method, const void *req, const ProtobufCMessageDescriptor *d,
                sl_status want, const char *field)
{
    sl_err err;
    sl_status st = call(method, req, d, NULL, &err);
    if (st != want || strstr(err.msg, field) == NULL)
        fprintf(stderr, "%s: got %s \"%s\", want %s naming \"%s\"\n", method, sl_status_name(st),
                err.msg, sl_status_name(want), field);
    assert_int_equal(st, want);
    assert_non_null(strstr(err.msg, field));
}

static long long rows_written(void)
{
    return sql("SELECT (SELECT count(*) FROM inventory.ledger) + (SELECT count(*) FROM "
               "inventory.reservation) + (SELECT count(*) FROM inventory.outbox) + (SELECT "
               "count(*) FROM inventory.product) + (SELECT count(*) FROM inventory.warehouse) + "
               "(SELECT count(*) FROM inventory.transit) + (SELECT count(*) FROM "
               "inventory.inbound) + (SELECT count(*) FROM inventory.promotion) + (SELECT "
               "count(*) FROM inventory.stock) + (SELECT count(*) FROM inventory.idempotency) + "
               "(SELECT sum(on_hand + reserved) FROM inventory.stock)");
}

static void test_bad_input_every_rpc(void **state)
{
    (void)state;
    product("BAD-1", "test");
    assert_int_equal(invt_stock(ch, "BAD-1", "W-NEAR", 5), 0);
    long long before = rows_written();
    const sl_status IA = SL_INVALID_ARGUMENT, NF = SL_NOT_FOUND;

    Shelfline__V1__Money money = SHELFLINE__V1__MONEY__INIT;
    money.currency = "usd";
    Shelfline__V1__Product p = SHELFLINE__V1__PRODUCT__INIT;
    p.sku = "BAD-NEW";
    p.name = "n";
    p.category = "c";
    p.price = &money;
    Shelfline__V1__CreateProductRequest cp = SHELFLINE__V1__CREATE_PRODUCT_REQUEST__INIT;
    bad("CreateProduct", &cp, DESC(product), IA, "product is required");
    cp.product = &p;
    bad("CreateProduct", &cp, DESC(product), IA, "product.price.currency");
    Shelfline__V1__UpdateProductRequest up = SHELFLINE__V1__UPDATE_PRODUCT_REQUEST__INIT;
    up.product = &p;
    p.sku = "bad sku";
    bad("UpdateProduct", &up, DESC(product), IA, "product.sku");
    Shelfline__V1__GetProductRequest gp = SHELFLINE__V1__GET_PRODUCT_REQUEST__INIT;
    bad("GetProduct", &gp, DESC(product), IA, "sku");
    Shelfline__V1__PageRequest page = SHELFLINE__V1__PAGE_REQUEST__INIT;
    page.page_size = -1;
    Shelfline__V1__ListProductsRequest lp = SHELFLINE__V1__LIST_PRODUCTS_REQUEST__INIT;
    lp.page = &page;
    bad("ListProducts", &lp, DESC(list_products_response), IA, "page.page_size");

    Shelfline__V1__Warehouse w = SHELFLINE__V1__WAREHOUSE__INIT;
    w.warehouse_id = "W-BAD";
    w.name = "n";
    w.region = "EAST";
    w.time_zone = "UTC";
    w.ship_cutoff = "10:00";
    Shelfline__V1__CreateWarehouseRequest cw = SHELFLINE__V1__CREATE_WAREHOUSE_REQUEST__INIT;
    cw.warehouse = &w;
    bad("CreateWarehouse", &cw, DESC(warehouse), IA, "warehouse.kind");
    w.kind = SHELFLINE__V1__WAREHOUSE__KIND__STORE;
    w.ship_cutoff = "25:00";
    Shelfline__V1__UpdateWarehouseRequest uw = SHELFLINE__V1__UPDATE_WAREHOUSE_REQUEST__INIT;
    uw.warehouse = &w;
    bad("UpdateWarehouse", &uw, DESC(warehouse), IA, "warehouse.ship_cutoff");
    w.ship_cutoff = "10:00";
    bad("UpdateWarehouse", &uw, DESC(warehouse), NF, "W-BAD");
    Shelfline__V1__GetWarehouseRequest gw = SHELFLINE__V1__GET_WAREHOUSE_REQUEST__INIT;
    bad("GetWarehouse", &gw, DESC(warehouse), IA, "warehouse_id");
    gw.warehouse_id = "W-BAD";
    bad("GetWarehouse", &gw, DESC(warehouse), NF, "W-BAD");
    Shelfline__V1__ListWarehousesRequest lw = SHELFLINE__V1__LIST_WAREHOUSES_REQUEST__INIT;
    lw.region = "lower";
    bad("ListWarehouses", &lw, DESC(list_warehouses_response), IA, "region");

    Shelfline__V1__TransitTime t = SHELFLINE__V1__TRANSIT_TIME__INIT;
    t.warehouse_id = "W-NEAR";
    t.region = "EAST";
    t.p50_days = 3;
    t.p90_days = 1;
    Shelfline__V1__CreateTransitTimeRequest ct = SHELFLINE__V1__CREATE_TRANSIT_TIME_REQUEST__INIT;
    ct.transit_time = &t;
    bad("CreateTransitTime", &ct, DESC(transit_time), IA, "transit_time.p90_days");
    Shelfline__V1__UpdateTransitTimeRequest ut = SHELFLINE__V1__UPDATE_TRANSIT_TIME_REQUEST__INIT;
    bad("UpdateTransitTime", &ut, DESC(transit_time), IA, "transit_time is required");
    Shelfline__V1__GetTransitTimeRequest gt = SHELFLINE__V1__GET_TRANSIT_TIME_REQUEST__INIT;
    gt.warehouse_id = "W-NEAR";
    bad("GetTransitTime", &gt, DESC(transit_time), IA, "region");
    Shelfline__V1__ListTransitTimesRequest lt = SHELFLINE__V1__LIST_TRANSIT_TIMES_REQUEST__INIT;
    Shelfline__V1__PageRequest tok = SHELFLINE__V1__PAGE_REQUEST__INIT;
    tok.page_token = "x";
    lt.page = &tok;
    bad("ListTransitTimes", &lt, DESC(list_transit_times_response), IA, "page.page_token");

    Shelfline__V1__AdjustStockRequest as = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
    as.request_id = "bad-adj";
    as.sku = "BAD-1";
    as.warehouse_id = "W-NEAR";
    as.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT;
    bad("AdjustStock", &as, DESC(adjust_stock_response), IA, "delta");
    as.delta = 1;
    as.sku = "BAD-404";
    bad("AdjustStock", &as, DESC(adjust_stock_response), NF, "sku");
    as.sku = "BAD-1";
    as.warehouse_id = "W-404";
    bad("AdjustStock", &as, DESC(adjust_stock_response), NF, "warehouse_id");
    Shelfline__V1__SetStockCountRequest sc = SHELFLINE__V1__SET_STOCK_COUNT_REQUEST__INIT;
    sc.request_id = "bad-count";
    sc.sku = "BAD-1";
    sc.warehouse_id = "W-NEAR";
    sc.counted = -1;
    bad("SetStockCount", &sc, DESC(set_stock_count_response), IA, "counted");
    sc.counted = 1;
    sc.warehouse_id = "W-404";
    bad("SetStockCount", &sc, DESC(set_stock_count_response), NF, "warehouse_id");
    Shelfline__V1__SetStockPolicyRequest sp = SHELFLINE__V1__SET_STOCK_POLICY_REQUEST__INIT;
    sp.sku = "BAD-1";
    sp.warehouse_id = "W-NEAR";
    sp.low_stock_threshold = -1;
    bad("SetStockPolicy", &sp, DESC(stock_level), IA, "low_stock_threshold");
    sp.low_stock_threshold = 1;
    sp.sku = "BAD-404";
    bad("SetStockPolicy", &sp, DESC(stock_level), NF, "sku");
    Shelfline__V1__GetStockRequest gs = SHELFLINE__V1__GET_STOCK_REQUEST__INIT;
    bad("GetStock", &gs, DESC(get_stock_response), IA, "sku");
    gs.sku = "BAD-404";
    bad("GetStock", &gs, DESC(get_stock_response), NF, "BAD-404");
    Shelfline__V1__GetAverageStockRequest av = SHELFLINE__V1__GET_AVERAGE_STOCK_REQUEST__INIT;
    av.from_at_ms = 1;
    bad("GetAverageStock", &av, DESC(get_average_stock_response), IA, "skus");
    char *av_skus[2] = {"BAD-1", "BAD-404"};
    av.skus = av_skus;
    av.n_skus = 2;
    bad("GetAverageStock", &av, DESC(get_average_stock_response), NF, "skus[1]");
    av.n_skus = 1;
    av.warehouse_id = "W-404";
    bad("GetAverageStock", &av, DESC(get_average_stock_response), NF, "warehouse_id");
    av.warehouse_id = "";
    av.from_at_ms = 0;
    bad("GetAverageStock", &av, DESC(get_average_stock_response), IA, "from_at_ms");
    av.from_at_ms = sl_db_now_ms() - 1000;
    av.to_at_ms = sl_db_now_ms() + 3600 * 1000;
    bad("GetAverageStock", &av, DESC(get_average_stock_response), IA, "to_at_ms");
    av.to_at_ms = av.from_at_ms;
    bad("GetAverageStock", &av, DESC(get_average_stock_response), IA, "to_at_ms");
    Shelfline__V1__GetAvailabilityRequest ga = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
    ga.region = "EAST";
    bad("GetAvailability", &ga, DESC(get_availability_response), IA, "skus");
    Shelfline__V1__ListLowStockRequest ll = SHELFLINE__V1__LIST_LOW_STOCK_REQUEST__INIT;
    ll.region = "a b";
    bad("ListLowStock", &ll, DESC(list_low_stock_response), IA, "region");

    Shelfline__V1__ReserveLine rl = SHELFLINE__V1__RESERVE_LINE__INIT;
    rl.sku = "BAD-1";
    rl.qty = 0;
    Shelfline__V1__ReserveLine *rls[1] = {&rl};
    Shelfline__V1__ReserveRequest rr = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    rr.reservation_id = "bad-r";
    rr.customer_id = "c";
    rr.region = "EAST";
    rr.lines = rls;
    rr.n_lines = 1;
    bad("Reserve", &rr, DESC(reserve_response), IA, "lines[0].qty must be positive");
    rl.qty = 1;
    rl.sku = "BAD-404";
    bad("Reserve", &rr, DESC(reserve_response), NF, "lines[0].sku");
    rl.sku = "BAD-1";
    rr.region = "MOON";
    bad("Reserve", &rr, DESC(reserve_response), IA, "region \"MOON\"");
    rr.region = "EAST";
    rl.promotion_id = "promo-404";
    bad("Reserve", &rr, DESC(reserve_response), NF, "lines[0].promotion_id");
    rl.promotion_id = "";
    rr.customer_id = "";
    bad("Reserve", &rr, DESC(reserve_response), IA, "customer_id");
    Shelfline__V1__CommitRequest cm = SHELFLINE__V1__COMMIT_REQUEST__INIT;
    bad("Commit", &cm, DESC(reservation), IA, "reservation_id");
    cm.reservation_id = "bad-404";
    bad("Commit", &cm, DESC(reservation), NF, "bad-404");
    Shelfline__V1__ReleaseRequest rel = SHELFLINE__V1__RELEASE_REQUEST__INIT;
    rel.reservation_id = "bad id";
    bad("Release", &rel, DESC(reservation), IA, "reservation_id");
    Shelfline__V1__GetReservationRequest gr = SHELFLINE__V1__GET_RESERVATION_REQUEST__INIT;
    gr.reservation_id = "bad-404";
    bad("GetReservation", &gr, DESC(reservation), NF, "bad-404");

    Shelfline__V1__Money eur = SHELFLINE__V1__MONEY__INIT;
    eur.currency = "EUR";
    Shelfline__V1__Promotion pr = SHELFLINE__V1__PROMOTION__INIT;
    pr.promotion_id = "bad-promo";
    pr.sku = "BAD-1";
    pr.quota = 0;
    pr.per_customer_limit = 1;
    pr.starts_at_ms = 1;
    pr.ends_at_ms = 4102444800000LL;
    pr.price = &eur;
    Shelfline__V1__CreatePromotionRequest cpr = SHELFLINE__V1__CREATE_PROMOTION_REQUEST__INIT;
    cpr.promotion = &pr;
    bad("CreatePromotion", &cpr, DESC(promotion), IA, "promotion.quota");
    pr.quota = 1;
    pr.sku = "BAD-404";
    bad("CreatePromotion", &cpr, DESC(promotion), NF, "promotion.sku");
    pr.sku = "BAD-1";
    pr.region = "MOON";
    bad("CreatePromotion", &cpr, DESC(promotion), IA, "promotion.region");
    pr.region = "";
    pr.ends_at_ms = 2;
    bad("CreatePromotion", &cpr, DESC(promotion), IA, "promotion.ends_at_ms");
    Shelfline__V1__GetPromotionRequest gpr = SHELFLINE__V1__GET_PROMOTION_REQUEST__INIT;
    bad("GetPromotion", &gpr, DESC(promotion), IA, "promotion_id");
    gpr.promotion_id = "promo-404";
    bad("GetPromotion", &gpr, DESC(promotion), NF, "promo-404");

    Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    ci.inbound_id = "PO-BAD";
    ci.sku = "BAD-1";
    ci.warehouse_id = "W-NEAR";
    ci.expected_at_ms = 1;
    bad("CreateInbound", &ci, DESC(inbound), IA, "qty must be positive");
    ci.qty = 1;
    ci.warehouse_id = "W-404";
    bad("CreateInbound", &ci, DESC(inbound), NF, "warehouse_id");
    Shelfline__V1__DelayInboundRequest di = SHELFLINE__V1__DELAY_INBOUND_REQUEST__INIT;
    di.inbound_id = "PO-404";
    di.new_expected_at_ms = 5;
    bad("DelayInbound", &di, DESC(inbound), IA, "reason");
    di.reason = "late";
    bad("DelayInbound", &di, DESC(inbound), NF, "inbound_id");
    Shelfline__V1__ReceiveInboundRequest ri = SHELFLINE__V1__RECEIVE_INBOUND_REQUEST__INIT;
    ri.inbound_id = "PO-404";
    ri.qty = 1;
    bad("ReceiveInbound", &ri, DESC(receive_inbound_response), IA, "receipt_id");
    ri.receipt_id = "rc";
    bad("ReceiveInbound", &ri, DESC(receive_inbound_response), NF, "inbound_id");
    Shelfline__V1__TransferRequest tr = SHELFLINE__V1__TRANSFER_REQUEST__INIT;
    tr.transfer_id = "TR-BAD";
    tr.sku = "BAD-1";
    tr.from_warehouse_id = "W-NEAR";
    tr.to_warehouse_id = "W-NEAR";
    tr.qty = 1;
    bad("Transfer", &tr, DESC(transfer_response), IA, "to_warehouse_id");
    tr.from_warehouse_id = "W-404";
    bad("Transfer", &tr, DESC(transfer_response), NF, "from_warehouse_id");
    Shelfline__V1__GetInboundRequest gi = SHELFLINE__V1__GET_INBOUND_REQUEST__INIT;
    gi.inbound_id = "PO-404";
    bad("GetInbound", &gi, DESC(inbound), NF, "PO-404");
    Shelfline__V1__ListInboundRequest li = SHELFLINE__V1__LIST_INBOUND_REQUEST__INIT;
    li.sku = "a b";
    bad("ListInbound", &li, DESC(list_inbound_response), IA, "sku");
    Shelfline__V1__CheckInvariantsRequest ck = SHELFLINE__V1__CHECK_INVARIANTS_REQUEST__INIT;
    ck.sku = "a b";
    bad("CheckInvariants", &ck, DESC(check_invariants_response), IA, "sku");

    /* Nothing of it was written. */
    assert_int_equal(rows_written(), before);
    sl_arena_reset(A);
}

/* Reads one varint (protobuf wire format). */
static uint64_t varint(const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            break;
    }
    return v;
}

/* The length-delimited field number want of a message (first one). */
static bool field(const uint8_t *p, size_t n, unsigned want, const uint8_t **out, size_t *len)
{
    const uint8_t *end = p + n;
    while (p < end) {
        uint64_t key = varint(&p, end);
        unsigned f = (unsigned)(key >> 3), wt = (unsigned)(key & 7);
        if (wt == 0) {
            varint(&p, end);
        } else if (wt == 2) {
            size_t l = (size_t)varint(&p, end);
            if (f == want) {
                *out = p;
                *len = l;
                return true;
            }
            p += l;
        } else {
            return false;
        }
    }
    return false;
}

/* A shortfall carries its structured detail in "grpc-status-details-bin"
 * (google.rpc.Status), which every gRPC library exposes; read it with a
 * raw gRPC core call, as a client in another language would. */
static void test_shortfall_details_trailer(void **state)
{
    (void)state;
    product("SF-1", "test");
    assert_int_equal(invt_stock(ch, "SF-1", "W-NEAR", 2), 0);
    Shelfline__V1__ReserveLine l0 = SHELFLINE__V1__RESERVE_LINE__INIT, l1 = l0;
    l0.sku = "SF-1";
    l0.qty = 1;
    l1.sku = "SF-1";
    l1.qty = 5;
    Shelfline__V1__ReserveLine *ls[2] = {&l0, &l1};
    Shelfline__V1__ReserveRequest r = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    r.reservation_id = "sf-1";
    r.customer_id = "c";
    r.region = "EAST";
    r.lines = ls;
    r.n_lines = 2;
    size_t len = shelfline__v1__reserve_request__get_packed_size(&r);
    uint8_t buf[512];
    shelfline__v1__reserve_request__pack(&r, buf);

    grpc_init();
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", svc.port[0]);
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_channel *chan = grpc_channel_create(target, creds, NULL);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_seconds(10, GPR_TIMESPAN));
    grpc_slice method = grpc_slice_from_static_string("/shelfline.v1.InventoryService/Reserve");
    grpc_call *c = grpc_channel_create_call(chan, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method, NULL,
                                            deadline, NULL);
    grpc_slice payload = grpc_slice_from_copied_buffer((const char *)buf, len);
    grpc_byte_buffer *req_bb = grpc_raw_byte_buffer_create(&payload, 1);
    grpc_byte_buffer *resp_bb = NULL;
    grpc_metadata_array init_md, trail_md;
    grpc_metadata_array_init(&init_md);
    grpc_metadata_array_init(&trail_md);
    grpc_status_code status;
    grpc_slice details;
    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = req_bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &init_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &resp_bb;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trail_md;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;
    assert_int_equal(grpc_call_start_batch(c, ops, 6, (void *)1, NULL), GRPC_CALL_OK);
    grpc_event ev = grpc_completion_queue_next(cq, deadline, NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    assert_int_equal(status, GRPC_STATUS_FAILED_PRECONDITION);
    const uint8_t *st_bytes = NULL;
    size_t st_len = 0;
    for (size_t i = 0; i < trail_md.count; i++)
        if (grpc_slice_str_cmp(trail_md.metadata[i].key, "grpc-status-details-bin") == 0) {
            st_bytes = GRPC_SLICE_START_PTR(trail_md.metadata[i].value);
            st_len = GRPC_SLICE_LENGTH(trail_md.metadata[i].value);
        }
    assert_non_null(st_bytes);
    /* google.rpc.Status: details (3) -> Any: type_url (1), value (2). */
    const uint8_t *any, *url, *val;
    size_t any_len, url_len, val_len;
    assert_true(field(st_bytes, st_len, 3, &any, &any_len));
    assert_true(field(any, any_len, 1, &url, &url_len));
    assert_int_equal(url_len, strlen("type.googleapis.com/shelfline.v1.ReserveShortfall"));
    assert_memory_equal(url, "type.googleapis.com/shelfline.v1.ReserveShortfall", url_len);
    assert_true(field(any, any_len, 2, &val, &val_len));
    Shelfline__V1__ReserveShortfall *sf =
        shelfline__v1__reserve_shortfall__unpack(NULL, val_len, val);
    assert_non_null(sf);
    /* Line 0 fits; line 1 is short: 5 asked, 1 left after line 0. */
    assert_int_equal(sf->n_lines, 1);
    assert_int_equal(sf->lines[0]->line, 1);
    assert_string_equal(sf->lines[0]->sku, "SF-1");
    assert_int_equal(sf->lines[0]->requested, 5);
    assert_int_equal(sf->lines[0]->available, 1);
    assert_int_equal(sf->lines[0]->short_by, 4);
    shelfline__v1__reserve_shortfall__free_unpacked(sf, NULL);

    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&init_md);
    grpc_metadata_array_destroy(&trail_md);
    grpc_byte_buffer_destroy(req_bb);
    if (resp_bb != NULL)
        grpc_byte_buffer_destroy(resp_bb);
    grpc_slice_unref(payload);
    grpc_call_unref(c);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    grpc_channel_destroy(chan);
    grpc_channel_credentials_release(creds);
    grpc_shutdown();

    /* The same through sl_client: the details are handed over and
     * sl_client_status_detail finds the shortfall in them. */
    const uint8_t *det = NULL, *v = NULL;
    size_t det_len = 0, v_len = 0;
    sl_call_options o = {
        .timeout_ms = 10000, .status_details = &det, .status_details_len = &det_len};
    ProtobufCMessage *resp;
    sl_err err;
    assert_int_equal(sl_client_unary(ch, "/shelfline.v1.InventoryService/Reserve", &r.base,
                                     DESC(reserve_response), A, &resp, &o, &err),
                     SL_FAILED_PRECONDITION);
    assert_non_null(det);
    assert_true(sl_client_status_detail(
        det, det_len, "type.googleapis.com/shelfline.v1.ReserveShortfall", A, &v, &v_len));
    sf = shelfline__v1__reserve_shortfall__unpack(NULL, v_len, v);
    assert_non_null(sf);
    assert_int_equal(sf->n_lines, 1);
    assert_string_equal(sf->lines[0]->sku, "SF-1");
    assert_int_equal(sf->lines[0]->short_by, 4);
    shelfline__v1__reserve_shortfall__free_unpacked(sf, NULL);
    assert_false(sl_client_status_detail(det, det_len, "type.googleapis.com/other", A, &v, &v_len));
    /* Truncated bytes are refused, not read past. */
    assert_false(sl_client_status_detail(
        det, det_len / 2, "type.googleapis.com/shelfline.v1.ReserveShortfall", A, &v, &v_len));
    /* A call that succeeds leaves no details behind. */
    r.reservation_id = "sf-ok";
    r.n_lines = 1;
    assert_int_equal(sl_client_unary(ch, "/shelfline.v1.InventoryService/Reserve", &r.base,
                                     DESC(reserve_response), A, &resp, &o, &err),
                     SL_OK);
    assert_null(det);
    assert_int_equal(det_len, 0);
}

/* ---- a slow database ---- */

static bool liveness_serving(void)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = "liveness";
    ProtobufCMessage *resp = NULL;
    sl_call_options o = {.timeout_ms = 500};
    return sl_client_unary(ch, "/grpc.health.v1.Health/Check", &req.base,
                           &grpc__health__v1__health_check_response__descriptor, A, &resp, &o,
                           NULL) == SL_OK &&
           ((Grpc__Health__V1__HealthCheckResponse *)resp)->status ==
               GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
}

/* Sessions of the service waiting for a lock (its handlers stuck). */
/* Sessions of this test's inventory (its database: the other tests' run
 * beside it in the same cluster) waiting on a lock, polled for up to 1 s
 * until there are none: the server's cancel reaches PostgreSQL a moment
 * after the client's answer, later on a loaded machine. */
static long long lock_waiters(PGconn *pc)
{
    long long n = -1;
    for (int i = 0; i < 50; i++) {
        PGresult *r =
            PQexec(pc, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                       " AND application_name = 'inventory' AND datname = current_database()");
        n = PQresultStatus(r) == PGRES_TUPLES_OK ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
        PQclear(r);
        if (n == 0)
            break;
        invt_sleep_ms(20);
    }
    return n;
}

/* The hottest stock row locked for 5 s by someone else: a Reserve with a
 * 300 ms deadline is answered DEADLINE_EXCEEDED by the server by then and
 * its database session stops waiting (statement_timeout from the
 * deadline); one whose client allows 10 s is answered at the server's cap
 * (SHELFLINE_MAX_CALL_TIME=1500ms here), not when the lock goes; workers
 * and connections are free again at once (other calls answer), liveness
 * stays SERVING throughout, and after the lock the SKU reserves again. */
static void test_reserve_behind_a_locked_row(void **state)
{
    (void)state;
    /* Under libfaketime (tests/timeshift) PostgreSQL's statement_timeout
     * never fires, so the server cannot cancel the waiting statement this
     * test is about; worse, a failed assertion would leave the lock's
     * transaction open and hold back every outbox in the cluster. */
    if (getenv("FAKETIME") != NULL)
        skip();
    product("LOCKED-1", "Tools");
    assert_int_equal(invt_stock(ch, "LOCKED-1", "W-NEAR", 100), 0);
    PGconn *locker = PQconnectdb(svc.conninfo);
    PGconn *watch = PQconnectdb(svc.conninfo);
    assert_int_equal(PQstatus(locker), CONNECTION_OK);
    assert_int_equal(PQstatus(watch), CONNECTION_OK);
    PGresult *r = PQexec(locker, "BEGIN");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    r = PQexec(locker, "SELECT 1 FROM inventory.stock WHERE sku = 'LOCKED-1' FOR UPDATE");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    int64_t locked_at = invt_now_ms();

    line l[1] = {{"LOCKED-1", 1, NULL}};
    Shelfline__V1__ReserveLine rl = SHELFLINE__V1__RESERVE_LINE__INIT, *rlp = &rl;
    rl.sku = (char *)l[0].sku;
    rl.qty = l[0].qty;
    Shelfline__V1__ReserveRequest rr = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    rr.reservation_id = "lock-r1";
    rr.customer_id = "c-lock";
    rr.region = "EAST";
    rr.lines = &rlp;
    rr.n_lines = 1;
    sl_err err;
    int64_t t0 = invt_now_ms();
    sl_status st = sl_test_call(ch, "InventoryService", "Reserve", &rr.base, DESC(reserve_response),
                                A, NULL, 300, &err);
    int64_t took = invt_now_ms() - t0;
    fprintf(stderr, "Reserve behind a locked row, 300 ms deadline: %s in %lld ms\n",
            sl_status_name(st), (long long)took);
    assert_int_equal(st, SL_DEADLINE_EXCEEDED);
    assert_true(took < 400);
    invt_sleep_ms(100);
    assert_int_equal(lock_waiters(watch), 0); /* the server gave up too */
    assert_true(liveness_serving());
    Shelfline__V1__ListWarehousesRequest lw = SHELFLINE__V1__LIST_WAREHOUSES_REQUEST__INIT;
    assert_int_equal(call("ListWarehouses", &lw, DESC(list_warehouses_response), NULL, &err),
                     SL_OK);

    /* a client that would wait 10 s: the server's cap answers */
    rr.reservation_id = "lock-r2";
    t0 = invt_now_ms();
    st = sl_test_call(ch, "InventoryService", "Reserve", &rr.base, DESC(reserve_response), A, NULL,
                      10000, &err);
    took = invt_now_ms() - t0;
    fprintf(stderr, "Reserve behind a locked row, 10 s deadline, 1.5 s cap: %s in %lld ms: %s\n",
            sl_status_name(st), (long long)took, err.msg);
    assert_int_equal(st, SL_DEADLINE_EXCEEDED);
    assert_true(took >= 1400 && took < 1900);
    assert_true(invt_now_ms() - locked_at < 5000); /* answered while the lock was still held */
    assert_true(liveness_serving());
    assert_int_equal(lock_waiters(watch), 0);

    r = PQexec(locker, "ROLLBACK");
    PQclear(r);
    PQfinish(locker);
    PQfinish(watch);
    /* the connections that were cancelled went back to the pool healthy */
    rr.reservation_id = "lock-r3";
    for (int i = 0; i < 4; i++)
        assert_int_equal(sl_test_call(ch, "InventoryService", "Reserve", &rr.base,
                                      DESC(reserve_response), A, NULL, 2000, &err),
                         SL_OK);
    sl_arena_reset(A);
}

/* ---- metrics ---- */

/* One series of a fresh scrape; NAN when absent. */
static double scrape(const char *series)
{
    char *r = sl_test_http_get(http_port, "/metrics");
    assert_non_null(r);
    double v = sl_test_metric(r, series);
    free(r);
    return v;
}

/* A counter's value: absent (no sample yet) reads 0. */
static double count_of(const char *series)
{
    double v = scrape(series);
    return isnan(v) ? 0 : v;
}

#define OUT_EAST "shelfline_inventory_stockouts_total{region=\"EAST\"}"
#define OUT_WEST "shelfline_inventory_stockouts_total{region=\"WEST\"}"
#define BACK_EAST "shelfline_inventory_back_in_stock_total{region=\"EAST\"}"
#define BACK_WEST "shelfline_inventory_back_in_stock_total{region=\"WEST\"}"
#define EXPIRED "shelfline_inventory_holds_expired_total"
#define UNITS(state)                                                                               \
    "shelfline_inventory_promotion_units{promotion=\"mx-flash\",state=\"" state "\"}"

/* The four stock-crossing series and the expired holds, in that order. */
static void crossings(double v[5])
{
    v[0] = count_of(OUT_EAST);
    v[1] = count_of(OUT_WEST);
    v[2] = count_of(BACK_EAST);
    v[3] = count_of(BACK_WEST);
    v[4] = count_of(EXPIRED);
}

/* Every series moved by exactly want[i] since v0. */
static void assert_moved(const double v0[5], const double want[5])
{
    double v[5];
    crossings(v);
    for (int i = 0; i < 5; i++)
        if (v[i] - v0[i] != want[i])
            fail_msg("series %d moved by %g, want %g", i, v[i] - v0[i], want[i]);
}

/* Every warehouse of the seeded network serves EAST and WEST, so a SKU
 * stocked in one warehouse crosses zero in both regions at once: the
 * first receipt is one BACK_IN_STOCK in each, the Reserve of the whole
 * stock one OUT_OF_STOCK in each (as many as the outbox holds), and the
 * reaper's expiry of that hold one expired hold, counted once, and one
 * BACK_IN_STOCK in each again. */
static void test_metrics_count_stock_crossings_and_expired_holds(void **state)
{
    (void)state;
    product("MX-1", "test");
    double v0[5];
    crossings(v0);
    assert_int_equal(invt_stock(ch, "MX-1", "W-NEAR", 3), 0);
    assert_moved(v0, (double[5]){0, 0, 1, 1, 0});
    sl_err err;
    line all[] = {{"MX-1", 3, NULL}};
    assert_int_equal(reserve("mx-a", "c", "EAST", all, 1, false, false, 300, NULL, &err), SL_OK);
    assert_moved(v0, (double[5]){1, 1, 1, 1, 0});
    assert_int_equal(sql("SELECT count(*) FROM inventory.outbox WHERE key = 'MX-1' "
                         "AND topic = 'OUT_OF_STOCK'"),
                     2);
    /* The reaper expires the hold (every 100 ms here). */
    int64_t until = invt_now_ms() + 10000;
    while (invt_now_ms() < until && count_of(EXPIRED) == v0[4])
        invt_sleep_ms(50);
    assert_int_equal(sql("SELECT count(*) FROM inventory.reservation WHERE id = 'mx-a' "
                         "AND status = 'EXPIRED'"),
                     1);
    /* Several reaper passes later, still once. */
    invt_sleep_ms(500);
    assert_moved(v0, (double[5]){1, 1, 2, 2, 1});
    assert_int_equal(sql("SELECT count(*) FROM inventory.outbox WHERE key = 'MX-1' "
                         "AND topic = 'BACK_IN_STOCK'"),
                     4);
    char *r = sl_test_http_get(http_port, "/metrics");
    assert_non_null(r);
    int rc = sl_test_promtool_check(r);
    free(r);
    assert_int_equal(rc, 0);
    sl_arena_reset(A);
}

/* A promotion's units as the database has them at each scrape, and no
 * series once the promotion has ended. */
static void test_metrics_show_promotion_units(void **state)
{
    (void)state;
    product("MX-2", "test");
    assert_int_equal(invt_stock(ch, "MX-2", "W-NEAR", 10), 0);
    int64_t now = stock("MX-2", "W-NEAR")->updated_at_ms;
    Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
    price.minor_units = 500;
    price.currency = "EUR";
    Shelfline__V1__Promotion p = SHELFLINE__V1__PROMOTION__INIT;
    p.promotion_id = "mx-flash";
    p.sku = "MX-2";
    p.quota = 6;
    p.per_customer_limit = 3;
    p.starts_at_ms = now - 1000;
    p.ends_at_ms = now + 2000;
    p.price = &price;
    Shelfline__V1__CreatePromotionRequest cr = SHELFLINE__V1__CREATE_PROMOTION_REQUEST__INIT;
    cr.promotion = &p;
    sl_err err;
    assert_int_equal(call("CreatePromotion", &cr, DESC(promotion), NULL, &err), SL_OK);
    assert_true(scrape(UNITS("remaining")) == 6);
    assert_true(scrape(UNITS("held")) == 0);
    assert_true(scrape(UNITS("sold")) == 0);
    line two[] = {{"MX-2", 2, "mx-flash"}}, three[] = {{"MX-2", 3, "mx-flash"}};
    assert_int_equal(reserve("mx-p1", "alice", "EAST", two, 1, true, false, 0, NULL, &err), SL_OK);
    assert_int_equal(reserve("mx-p2", "bob", "EAST", three, 1, true, false, 0, NULL, &err), SL_OK);
    close_resv("Commit", "mx-p1", SL_OK, NULL);
    assert_true(scrape(UNITS("sold")) == 2);
    assert_true(scrape(UNITS("held")) == 3);
    assert_true(scrape(UNITS("remaining")) == 1);
    /* Ended by the reaper: its series go, the family with them. */
    int64_t until = invt_now_ms() + 10000;
    while (invt_now_ms() < until && !isnan(scrape(UNITS("remaining"))))
        invt_sleep_ms(100);
    assert_true(promotion("mx-flash")->status == SHELFLINE__V1__PROMOTION__STATUS__ENDED);
    assert_true(isnan(scrape(UNITS("sold"))));
    assert_true(isnan(scrape(UNITS("held"))));
    char *r = sl_test_http_get(http_port, "/metrics");
    assert_non_null(r);
    assert_null(strstr(r, "mx-flash"));
    int rc = sl_test_promtool_check(r);
    free(r);
    assert_int_equal(rc, 0);
    sl_arena_reset(A);
}

int main(void)
{
    sl_log_init("test-inventory-api", SL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve_behind_a_locked_row),
        cmocka_unit_test(test_collation_not_c),
        cmocka_unit_test(test_catalog_crud_and_paging),
        cmocka_unit_test(test_stock_changes_idempotent),
        cmocka_unit_test(test_allocation_preferences),
        cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_reserve_idempotent),
        cmocka_unit_test(test_promotion),
        cmocka_unit_test(test_inbound_receive_and_transfer),
        cmocka_unit_test(test_stock_level_counts_incoming),
        cmocka_unit_test(test_availability_and_low_stock),
        cmocka_unit_test(test_stock_feed),
        cmocka_unit_test(test_events_exact_and_replayable),
        cmocka_unit_test(test_close_combined),
        cmocka_unit_test(test_average_stock),
        cmocka_unit_test(test_bad_input_every_rpc),
        cmocka_unit_test(test_shortfall_details_trailer),
        cmocka_unit_test(test_metrics_count_stock_crossings_and_expired_holds),
        cmocka_unit_test(test_metrics_show_promotion_units),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
