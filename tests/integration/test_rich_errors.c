/*
 * Rich errors (docs/OPERATIONS.md "Error model"), read the way any gRPC
 * client reads them: the grpc-status-details-bin trailer decoded as a
 * google.rpc.Status with protoc-c's code, whose code and message must be
 * the call's own.
 *
 *   - bad input on several RPCs of each of the four services answers
 *     INVALID_ARGUMENT with a google.rpc.BadRequest naming the field path,
 *     whether the service's validation module named it (sl_err_field), the
 *     wire check found it (sl_valid) or only the message starts with it;
 *   - a sold-out Reserve answers FAILED_PRECONDITION with an ErrorInfo
 *     OUT_OF_STOCK of domain shelfline.v1 (sku, requested, available) next
 *     to inventory's own ReserveShortfall, and service-desk's PlaceOrder
 *     passes both on, once each;
 *   - a promotion's refusals (the customer's limit, sold out) are
 *     RESOURCE_EXHAUSTED with their reason and a RetryInfo;
 *   - an UNAVAILABLE answer carries a RetryInfo, and an error without
 *     details (NOT_FOUND of a health check) sends no trailer at all.
 *
 * The four services run as real processes on one fresh database.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "grpc/testing/test.pb-c.h"
#include "inv_test.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/forecasting.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_log.h"
#include "sl_server.h"
#include "sl_test.h"
#include "suite_test.h"

#define DESC(x) &shelfline__v1__##x##__descriptor
#define TYPE_URL(x) "type.googleapis.com/" x

static suitet S;
static sl_arena *A;
static sl_channel *inv_ch;

static int group_setup(void **state)
{
    (void)state;
    A = sl_arena_create(0);
    if (suitet_start(&S, "rich_errors") != 0)
        return -1;
    inv_ch = S.inv.ch[0];
    const char *skus[] = {"SKU-A", "SKU-P"};
    if (invt_seed(inv_ch, skus, 2) != 0 || invt_stock(inv_ch, "SKU-A", "W-NEAR", 50) != 0 ||
        invt_stock(inv_ch, "SKU-P", "W-NEAR", 10) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int bad = suitet_stop(&S);
    sl_arena_destroy(A);
    sl_test_kill_all();
    return bad == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- helpers -- */

/* Calls method with req (or, when raw is not NULL, with the raw bytes),
 * asserts the status is want, and returns the decoded google.rpc.Status of
 * the trailer (NULL when there was none), after asserting that its code
 * and message are the call's. */
static Google__Rpc__Status *call_status(sl_channel *ch, const char *method,
                                        const ProtobufCMessage *req, const uint8_t *raw,
                                        size_t raw_len, sl_status want, sl_err *err)
{
    const uint8_t *det = NULL;
    size_t det_len = 0;
    sl_call_options o = {
        .timeout_ms = 20000, .status_details = &det, .status_details_len = &det_len};
    uint8_t *bytes = (uint8_t *)raw;
    size_t len = raw_len;
    if (raw == NULL) {
        len = protobuf_c_message_get_packed_size(req);
        bytes = sl_arena_alloc(A, len + 1);
        protobuf_c_message_pack(req, bytes);
    }
    void *resp;
    size_t resp_len;
    sl_status st = sl_client_unary_raw(ch, method, bytes, len, A, &resp, &resp_len, &o, err);
    if (st != want)
        fail_msg("%s: got %s \"%s\", want %s", method, sl_status_name(st), err->msg,
                 sl_status_name(want));
    if (det == NULL)
        return NULL;
    Google__Rpc__Status *s = google__rpc__status__unpack(sl_arena_pb_allocator(A), det_len, det);
    assert_non_null(s);
    assert_int_equal(s->code, sl_status_grpc_code(want));
    assert_string_equal(s->message, err->msg);
    return s;
}

/* The number of details of type url in s; *value is the last one's. */
static int count_detail(const Google__Rpc__Status *s, const char *url,
                        const ProtobufCBinaryData **value)
{
    int n = 0;
    for (size_t i = 0; i < s->n_details; i++)
        if (strcmp(s->details[i]->type_url, url) == 0) {
            n++;
            if (value != NULL)
                *value = &s->details[i]->value;
        }
    return n;
}

static Google__Rpc__ErrorInfo *error_info(const Google__Rpc__Status *s)
{
    const ProtobufCBinaryData *v = NULL;
    assert_int_equal(count_detail(s, TYPE_URL("google.rpc.ErrorInfo"), &v), 1);
    Google__Rpc__ErrorInfo *ei =
        google__rpc__error_info__unpack(sl_arena_pb_allocator(A), v->len, v->data);
    assert_non_null(ei);
    assert_string_equal(ei->domain, "shelfline.v1");
    return ei;
}

static const char *meta(const Google__Rpc__ErrorInfo *ei, const char *key)
{
    for (size_t i = 0; i < ei->n_metadata; i++)
        if (strcmp(ei->metadata[i]->key, key) == 0)
            return ei->metadata[i]->value;
    fail_msg("ErrorInfo %s has no metadata \"%s\"", ei->reason, key);
    return NULL;
}

static int64_t retry_delay_ms(const Google__Rpc__Status *s)
{
    const ProtobufCBinaryData *v = NULL;
    assert_int_equal(count_detail(s, TYPE_URL("google.rpc.RetryInfo"), &v), 1);
    Google__Rpc__RetryInfo *ri =
        google__rpc__retry_info__unpack(sl_arena_pb_allocator(A), v->len, v->data);
    assert_non_null(ri);
    assert_non_null(ri->retry_delay);
    return ri->retry_delay->seconds * 1000 + ri->retry_delay->nanos / 1000000;
}

/* Asserts that the call is refused with a BadRequest whose one violation
 * names field and carries the message. */
static void expect_bad_field(sl_channel *ch, const char *method, const ProtobufCMessage *req,
                             const uint8_t *raw, size_t raw_len, const char *field)
{
    sl_err err;
    Google__Rpc__Status *s = call_status(ch, method, req, raw, raw_len, SL_INVALID_ARGUMENT, &err);
    if (s == NULL)
        fail_msg("%s: INVALID_ARGUMENT \"%s\" without details", method, err.msg);
    const ProtobufCBinaryData *v = NULL;
    assert_int_equal(count_detail(s, TYPE_URL("google.rpc.BadRequest"), &v), 1);
    Google__Rpc__BadRequest *br =
        google__rpc__bad_request__unpack(sl_arena_pb_allocator(A), v->len, v->data);
    assert_non_null(br);
    assert_int_equal(br->n_field_violations, 1);
    if (strcmp(br->field_violations[0]->field, field) != 0)
        fail_msg("%s: BadRequest names \"%s\", want \"%s\" (message \"%s\")", method,
                 br->field_violations[0]->field, field, err.msg);
    assert_string_equal(br->field_violations[0]->description, err.msg);
    /* Bad input is no business refusal: no reason, and nothing to retry. */
    assert_int_equal(count_detail(s, TYPE_URL("google.rpc.ErrorInfo"), NULL), 0);
    assert_int_equal(count_detail(s, TYPE_URL("google.rpc.RetryInfo"), NULL), 0);
    sl_arena_reset(A);
}

/* ----------------------------------------------------------------- tests -- */

static void test_bad_input_names_its_field_in_every_service(void **state)
{
    (void)state;
    /* inventory: a line's quantity (named by the validation module), a
     * delta (a top-level field), a NUL in a key (found by the wire check) */
    Shelfline__V1__ReserveLine line = SHELFLINE__V1__RESERVE_LINE__INIT;
    line.sku = "SKU-A";
    line.qty = 0;
    Shelfline__V1__ReserveLine *lines[] = {&line};
    Shelfline__V1__ReserveRequest rr = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    rr.reservation_id = "rich-bad-1";
    rr.customer_id = "cust-1";
    rr.region = "EAST";
    rr.lines = lines;
    rr.n_lines = 1;
    expect_bad_field(inv_ch, "/shelfline.v1.InventoryService/Reserve", &rr.base, NULL, 0,
                     "lines[0].qty");

    Shelfline__V1__AdjustStockRequest ar = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
    ar.request_id = "rich-adj-1";
    ar.sku = "SKU-A";
    ar.warehouse_id = "W-NEAR";
    ar.delta = 0;
    ar.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT;
    expect_bad_field(inv_ch, "/shelfline.v1.InventoryService/AdjustStock", &ar.base, NULL, 0,
                     "delta");

    static const char id[] = "ORDER-7\0shop-a";
    Shelfline__V1__ReserveRequest empty = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    uint8_t raw[128];
    size_t n = shelfline__v1__reserve_request__pack(&empty, raw);
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(DESC(reserve_request), "reservation_id");
    raw[n++] = (uint8_t)(f->id << 3 | 2);
    raw[n++] = (uint8_t)(sizeof id - 1);
    memcpy(raw + n, id, sizeof id - 1);
    n += sizeof id - 1;
    expect_bad_field(inv_ch, "/shelfline.v1.InventoryService/Reserve", NULL, raw, n,
                     "reservation_id");

    /* forecasting */
    Shelfline__V1__ForecastDemandRequest fr = SHELFLINE__V1__FORECAST_DEMAND_REQUEST__INIT;
    fr.sku = "SKU-A";
    fr.region = "EAST";
    fr.horizon_days = 0;
    expect_bad_field(S.ch[SUITET_FC], "/shelfline.v1.ForecastingService/ForecastDemand", &fr.base,
                     NULL, 0, "horizon_days");
    Shelfline__V1__ClassifySkusRequest cr = SHELFLINE__V1__CLASSIFY_SKUS_REQUEST__INIT;
    cr.period_days = 5;
    expect_bad_field(S.ch[SUITET_FC], "/shelfline.v1.ForecastingService/ClassifySkus", &cr.base,
                     NULL, 0, "period_days");

    /* customer-value */
    Shelfline__V1__RecommendRequest rec = SHELFLINE__V1__RECOMMEND_REQUEST__INIT;
    rec.customer_id = "cust-1";
    rec.n = 1000;
    expect_bad_field(S.ch[SUITET_CV], "/shelfline.v1.CustomerValueService/Recommend", &rec.base,
                     NULL, 0, "n");
    Shelfline__V1__GetCustomerValueRequest gv = SHELFLINE__V1__GET_CUSTOMER_VALUE_REQUEST__INIT;
    gv.customer_id = "";
    expect_bad_field(S.ch[SUITET_CV], "/shelfline.v1.CustomerValueService/GetCustomerValue",
                     &gv.base, NULL, 0, "customer_id");

    /* service-desk: a line's quantity whose path only the message names,
     * and a nested paging field */
    Shelfline__V1__OrderLineRequest ol = SHELFLINE__V1__ORDER_LINE_REQUEST__INIT;
    ol.sku = "SKU-A";
    ol.qty = 0;
    Shelfline__V1__OrderLineRequest *ols[] = {&ol};
    Shelfline__V1__PlaceOrderRequest po = SHELFLINE__V1__PLACE_ORDER_REQUEST__INIT;
    po.order_id = "rich-o-bad";
    po.customer_id = "cust-1";
    po.region = "EAST";
    po.lines = ols;
    po.n_lines = 1;
    expect_bad_field(S.ch[SUITET_SD], "/shelfline.v1.ServiceDeskService/PlaceOrder", &po.base, NULL,
                     0, "lines[0].qty");
    Shelfline__V1__PageRequest page = SHELFLINE__V1__PAGE_REQUEST__INIT;
    page.page_size = 5000;
    Shelfline__V1__ListOrdersRequest lo = SHELFLINE__V1__LIST_ORDERS_REQUEST__INIT;
    lo.customer_id = "cust-1";
    lo.page = &page;
    expect_bad_field(S.ch[SUITET_SD], "/shelfline.v1.ServiceDeskService/ListOrders", &lo.base, NULL,
                     0, "page.page_size");
}

static Shelfline__V1__ReserveRequest *reserve_req(const char *id, const char *customer,
                                                  const char *sku, int64_t qty,
                                                  const char *promotion_id)
{
    Shelfline__V1__ReserveLine *l = sl_arena_alloc(A, sizeof *l);
    Shelfline__V1__ReserveLine **lp = sl_arena_alloc(A, sizeof *lp);
    Shelfline__V1__ReserveRequest *r = sl_arena_alloc(A, sizeof *r);
    shelfline__v1__reserve_line__init(l);
    shelfline__v1__reserve_request__init(r);
    l->sku = (char *)sku;
    l->qty = qty;
    l->promotion_id = (char *)(promotion_id != NULL ? promotion_id : "");
    *lp = l;
    r->reservation_id = (char *)id;
    r->customer_id = (char *)customer;
    r->region = "EAST";
    r->lines = lp;
    r->n_lines = 1;
    return r;
}

static void test_sold_out_reserve_is_out_of_stock(void **state)
{
    (void)state;
    sl_err err;
    Google__Rpc__Status *s =
        call_status(inv_ch, "/shelfline.v1.InventoryService/Reserve",
                    &reserve_req("rich-short", "cust-1", "SKU-A", 100000, NULL)->base, NULL, 0,
                    SL_FAILED_PRECONDITION, &err);
    assert_non_null(s);
    Google__Rpc__ErrorInfo *ei = error_info(s);
    assert_string_equal(ei->reason, "OUT_OF_STOCK");
    assert_string_equal(meta(ei, "sku"), "SKU-A");
    assert_string_equal(meta(ei, "requested"), "100000");
    assert_int_equal(strtoll(meta(ei, "available"), NULL, 10), 50);
    /* Inventory's own detail is still there, first. */
    assert_int_equal(count_detail(s, TYPE_URL("shelfline.v1.ReserveShortfall"), NULL), 1);
    assert_string_equal(s->details[0]->type_url, TYPE_URL("shelfline.v1.ReserveShortfall"));
    assert_int_equal(count_detail(s, TYPE_URL("google.rpc.BadRequest"), NULL), 0);
    assert_int_equal(count_detail(s, TYPE_URL("google.rpc.RetryInfo"), NULL), 0);
    /* The C client hands the reason over in its sl_err too. */
    assert_string_equal(err.reason, "OUT_OF_STOCK");
    sl_arena_reset(A);
}

static void test_place_order_passes_out_of_stock_on(void **state)
{
    (void)state;
    Shelfline__V1__OrderLineRequest ol = SHELFLINE__V1__ORDER_LINE_REQUEST__INIT;
    ol.sku = "SKU-A";
    ol.qty = 100000;
    Shelfline__V1__OrderLineRequest *ols[] = {&ol};
    Shelfline__V1__PlaceOrderRequest po = SHELFLINE__V1__PLACE_ORDER_REQUEST__INIT;
    po.order_id = "rich-o-short";
    po.customer_id = "cust-1";
    po.region = "EAST";
    po.lines = ols;
    po.n_lines = 1;
    sl_err err;
    Google__Rpc__Status *s =
        call_status(S.ch[SUITET_SD], "/shelfline.v1.ServiceDeskService/PlaceOrder", &po.base, NULL,
                    0, SL_FAILED_PRECONDITION, &err);
    assert_non_null(s);
    Google__Rpc__ErrorInfo *ei = error_info(s); /* exactly one, though two services set it */
    assert_string_equal(ei->reason, "OUT_OF_STOCK");
    assert_string_equal(meta(ei, "sku"), "SKU-A");
    assert_int_equal(count_detail(s, TYPE_URL("shelfline.v1.ReserveShortfall"), NULL), 1);
    sl_arena_reset(A);
}

static void test_promotion_refusals_are_retryable_with_a_reason(void **state)
{
    (void)state;
    sl_err err;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    Shelfline__V1__Money price = SHELFLINE__V1__MONEY__INIT;
    price.minor_units = 999;
    price.currency = "EUR";
    Shelfline__V1__Promotion p = SHELFLINE__V1__PROMOTION__INIT;
    p.promotion_id = "rich-flash";
    p.sku = "SKU-P";
    p.quota = 2;
    p.per_customer_limit = 1;
    p.starts_at_ms = now - 60000;
    p.ends_at_ms = now + 3600000;
    p.price = &price;
    Shelfline__V1__CreatePromotionRequest cr = SHELFLINE__V1__CREATE_PROMOTION_REQUEST__INIT;
    cr.promotion = &p;
    Shelfline__V1__Promotion *got;
    if (invt_call(inv_ch, "CreatePromotion", &cr.base, DESC(promotion), A, &got, &err) != SL_OK)
        fail_msg("CreatePromotion: %s", err.msg);
    assert_int_equal(call_status(inv_ch, "/shelfline.v1.InventoryService/Reserve",
                                 &reserve_req("rich-p-1", "alice", "SKU-P", 1, "rich-flash")->base,
                                 NULL, 0, SL_OK, &err),
                     NULL);

    /* alice again: her limit comes first */
    Google__Rpc__Status *s =
        call_status(inv_ch, "/shelfline.v1.InventoryService/Reserve",
                    &reserve_req("rich-p-2", "alice", "SKU-P", 1, "rich-flash")->base, NULL, 0,
                    SL_RESOURCE_EXHAUSTED, &err);
    assert_non_null(s);
    Google__Rpc__ErrorInfo *ei = error_info(s);
    assert_string_equal(ei->reason, "CUSTOMER_LIMIT_REACHED");
    assert_string_equal(meta(ei, "promotion_id"), "rich-flash");
    assert_string_equal(meta(ei, "limit"), "1");
    assert_true(retry_delay_ms(s) > 0);

    /* bob takes the last unit; then carol finds the promotion sold out */
    assert_null(call_status(inv_ch, "/shelfline.v1.InventoryService/Reserve",
                            &reserve_req("rich-p-3", "bob", "SKU-P", 1, "rich-flash")->base, NULL,
                            0, SL_OK, &err));
    s = call_status(inv_ch, "/shelfline.v1.InventoryService/Reserve",
                    &reserve_req("rich-p-4", "carol", "SKU-P", 1, "rich-flash")->base, NULL, 0,
                    SL_RESOURCE_EXHAUSTED, &err);
    assert_non_null(s);
    ei = error_info(s);
    assert_string_equal(ei->reason, "PROMOTION_SOLD_OUT");
    assert_string_equal(meta(ei, "remaining"), "0");
    assert_int_equal(retry_delay_ms(s), 1000);
    sl_arena_reset(A);
}

/* ---- UNAVAILABLE, from a handler of an in-process server ---- */

static sl_status unavailable_unary(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err)
{
    (void)call;
    (void)req;
    (void)resp;
    return sl_err_set(err, SL_UNAVAILABLE, "the database is reconnecting");
}

static sl_status unused_unary(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    (void)call;
    (void)req;
    (void)resp;
    return sl_err_set(err, SL_UNIMPLEMENTED, "not in this test");
}

static sl_status unused_stream(sl_call *call, const ProtobufCMessage *req, sl_err *err)
{
    (void)call;
    (void)req;
    return sl_err_set(err, SL_UNIMPLEMENTED, "not in this test");
}

static const sl_method test_methods[] = {
    SL_UNARY("EmptyCall", unused_unary, NULL, 0, SL_ROLES_ANY),
    SL_UNARY("UnaryCall", unavailable_unary, NULL, 0, SL_ROLES_ANY),
    SL_UNARY("CacheableUnaryCall", unused_unary, NULL, 0, SL_ROLES_ANY),
    SL_UNARY("UnimplementedCall", unused_unary, NULL, 0, SL_ROLES_ANY),
    {"StreamingOutputCall", SL_RPC_SERVER_STREAMING, NULL, NULL, NULL, unused_stream, NULL, 0,
     NULL},
    {"StreamingInputCall", SL_RPC_CLIENT_STREAMING, NULL, NULL, NULL, unused_stream, NULL, 0, NULL},
    {"FullDuplexCall", SL_RPC_BIDI_STREAMING, NULL, NULL, NULL, unused_stream, NULL, 0, NULL},
    {"HalfDuplexCall", SL_RPC_BIDI_STREAMING, NULL, NULL, NULL, unused_stream, NULL, 0, NULL},
};

static void test_unavailable_carries_retry_info(void **state)
{
    (void)state;
    sl_server *srv;
    sl_err err;
    sl_server_options o = {.listen = "127.0.0.1:0", .workers = 1};
    assert_int_equal(sl_server_create(&o, &srv, &err), SL_OK);
    static sl_service_def def;
    def = (sl_service_def){&grpc__testing__test_service__descriptor, test_methods,
                           sizeof test_methods / sizeof test_methods[0], NULL};
    assert_int_equal(sl_server_add_service(srv, &def, &err), SL_OK);
    assert_int_equal(sl_server_start(srv, &err), SL_OK);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", sl_server_port(srv));
    sl_channel *ch;
    assert_int_equal(sl_channel_create(target, NULL, &ch, &err), SL_OK);

    Grpc__Testing__SimpleRequest req = GRPC__TESTING__SIMPLE_REQUEST__INIT;
    Google__Rpc__Status *s = call_status(ch, "/grpc.testing.TestService/UnaryCall", &req.base, NULL,
                                         0, SL_UNAVAILABLE, &err);
    assert_non_null(s);
    assert_string_equal(s->message, "the database is reconnecting");
    assert_int_equal(retry_delay_ms(s), 500);
    assert_int_equal(s->n_details, 1);
    /* An error with nothing to add sends no trailer. */
    assert_null(call_status(ch, "/grpc.testing.TestService/EmptyCall", &req.base, NULL, 0,
                            SL_UNIMPLEMENTED, &err));

    sl_channel_destroy(ch);
    sl_server_destroy(srv);
    sl_arena_reset(A);
}

int main(void)
{
    sl_log_init("test_rich_errors", SL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input_names_its_field_in_every_service),
        cmocka_unit_test(test_sold_out_reserve_is_out_of_stock),
        cmocka_unit_test(test_place_order_passes_out_of_stock_on),
        cmocka_unit_test(test_promotion_refusals_are_retryable_with_a_reason),
        cmocka_unit_test(test_unavailable_carries_retry_info),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
