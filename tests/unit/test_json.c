/* sl_json: the proto3 JSON mapping on the suite's own messages, both
 * ways, without a server.  (The round trip against Python's json_format
 * over every request and response type is interop_python_json.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/forecasting.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_json.h"

static sl_arena *A;

static int setup(void **state)
{
    (void)state;
    A = sl_arena_create(0);
    return A == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_arena_destroy(A);
    return 0;
}

/* msg as JSON (a static copy, freed at the next call). */
static const char *encode(const void *msg)
{
    static char *last;
    free(last);
    last = NULL;
    size_t len;
    sl_err err;
    assert_int_equal(sl_json_encode(msg, &last, &len, &err), SL_OK);
    assert_int_equal(len, strlen(last));
    return last;
}

static void *decode_ok(const ProtobufCMessageDescriptor *d, const char *json)
{
    ProtobufCMessage *m = NULL;
    sl_err err;
    sl_err_clear(&err);
    sl_status st = sl_json_decode(d, json, strlen(json), A, &m, &err);
    if (st != SL_OK)
        fail_msg("%s: %s", json, err.msg);
    return m;
}

/* Decoding json fails with INVALID_ARGUMENT; returns err (static) for the
 * message and field. */
static const sl_err *decode_bad(const ProtobufCMessageDescriptor *d, const char *json)
{
    static sl_err err;
    sl_err_clear(&err);
    ProtobufCMessage *m = (ProtobufCMessage *)1;
    assert_int_equal(sl_json_decode(d, json, strlen(json), A, &m, &err), SL_INVALID_ARGUMENT);
    assert_null(m);
    return &err;
}

static void test_names_are_lower_camel_case_and_defaults_left_out(void **state)
{
    (void)state;
    char name[64];
    assert_string_equal(sl_json_name("hold_ttl_ms", name, sizeof name), "holdTtlMs");
    assert_string_equal(sl_json_name("p50_date", name, sizeof name), "p50Date");
    assert_string_equal(sl_json_name("sku", name, sizeof name), "sku");

    Shelfline__V1__ReserveRequest r = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    assert_string_equal(encode(&r), "{}");
    r.reservation_id = "r-1";
    r.hold_ttl_ms = 900000;
    r.allow_split = 1;
    assert_string_equal(encode(&r),
                        "{\"reservationId\":\"r-1\",\"holdTtlMs\":\"900000\",\"allowSplit\":true}");
}

static void test_int64_as_strings_read_from_strings_and_numbers(void **state)
{
    (void)state;
    Shelfline__V1__ReserveLine l = SHELFLINE__V1__RESERVE_LINE__INIT;
    l.qty = INT64_MIN;
    assert_string_equal(encode(&l), "{\"qty\":\"-9223372036854775808\"}");
    const ProtobufCMessageDescriptor *d = &shelfline__v1__reserve_line__descriptor;
    Shelfline__V1__ReserveLine *m = decode_ok(d, "{\"qty\":\"9223372036854775807\"}");
    assert_true(m->qty == INT64_MAX);
    m = decode_ok(d, "{\"qty\": 42}");
    assert_int_equal(m->qty, 42);
    m = decode_ok(d, "{\"qty\": 1e3}");
    assert_int_equal(m->qty, 1000);
    m = decode_ok(d, "{\"qty\": \"-7\"}");
    assert_int_equal(m->qty, -7);
    assert_string_equal(decode_bad(d, "{\"qty\":\"9223372036854775808\"}")->field, "qty");
    decode_bad(d, "{\"qty\": 1.5}");
    decode_bad(d, "{\"qty\": \" 7\"}");
    decode_bad(d, "{\"qty\": \"0x10\"}");
    decode_bad(d, "{\"qty\": true}");
    decode_bad(d, "{\"qty\": 9.3e18}");
}

static void test_int32_range_is_checked(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &shelfline__v1__list_orders_request__descriptor;
    Shelfline__V1__ListOrdersRequest *m = decode_ok(d, "{\"page\": {\"pageSize\": 2147483647}}");
    assert_int_equal(m->page->page_size, 2147483647);
    const sl_err *e = decode_bad(d, "{\"page\": {\"pageSize\": 2147483648}}");
    assert_string_equal(e->field, "page.page_size");
    assert_non_null(strstr(e->msg, "out of range"));
}

static void test_enums_by_name_and_by_number(void **state)
{
    (void)state;
    Shelfline__V1__EtaRange e = SHELFLINE__V1__ETA_RANGE__INIT;
    e.p50_date = "2026-12-24";
    e.confidence = SHELFLINE__V1__ETA_CONFIDENCE__ETA_CONFIDENCE_LOW;
    assert_string_equal(encode(&e),
                        "{\"p50Date\":\"2026-12-24\",\"confidence\":\"ETA_CONFIDENCE_LOW\"}");
    e.confidence = 99; /* open enum: a number it does not name */
    assert_string_equal(encode(&e), "{\"p50Date\":\"2026-12-24\",\"confidence\":99}");
    const ProtobufCMessageDescriptor *d = &shelfline__v1__eta_range__descriptor;
    Shelfline__V1__EtaRange *m = decode_ok(d, "{\"confidence\":\"ETA_CONFIDENCE_HIGH\"}");
    assert_int_equal(m->confidence, SHELFLINE__V1__ETA_CONFIDENCE__ETA_CONFIDENCE_HIGH);
    m = decode_ok(d, "{\"confidence\": 2}");
    assert_int_equal(m->confidence, 2);
    const sl_err *err = decode_bad(d, "{\"confidence\":\"SOMETIMES\"}");
    assert_string_equal(err->field, "confidence");
    assert_non_null(strstr(err->msg, "\"SOMETIMES\" is not a value of shelfline.v1.EtaConfidence"));
}

static void test_bytes_as_base64_both_alphabets(void **state)
{
    (void)state;
    Shelfline__V1__Event ev = SHELFLINE__V1__EVENT__INIT;
    uint8_t raw[] = {0xfb, 0xff, 0x00, 0x41};
    ev.payload.data = raw;
    ev.payload.len = sizeof raw;
    assert_string_equal(encode(&ev), "{\"payload\":\"+/8AQQ==\"}");
    const ProtobufCMessageDescriptor *d = &shelfline__v1__event__descriptor;
    const char *forms[] = {"{\"payload\":\"+/8AQQ==\"}", "{\"payload\":\"-_8AQQ\"}"};
    for (size_t i = 0; i < 2; i++) {
        Shelfline__V1__Event *m = decode_ok(d, forms[i]);
        assert_int_equal(m->payload.len, sizeof raw);
        assert_memory_equal(m->payload.data, raw, sizeof raw);
    }
    assert_string_equal(decode_bad(d, "{\"payload\":\"+/8AQQ=\"}")->field, "payload");
    decode_bad(d, "{\"payload\":\"ab$c\"}");
}

static void test_base64_matches_rfc_4648_vectors(void **state)
{
    (void)state;
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(sl_base64_encode((const uint8_t *)in[i], strlen(in[i]), true, A),
                            out[i]);
        uint8_t *dec;
        size_t n;
        assert_true(sl_base64_decode(out[i], strlen(out[i]), A, &dec, &n));
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(dec, in[i], n);
    }
    assert_string_equal(sl_base64_encode((const uint8_t *)"fo", 2, false, A), "Zm8");
}

static void test_oneof_member_written_at_zero_and_only_one_taken(void **state)
{
    (void)state;
    Shelfline__V1__SetForecastOverrideRequest r =
        SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__INIT;
    r.adjustment_case = SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT_QUANTITY;
    r.quantity = 0;
    assert_string_equal(encode(&r), "{\"quantity\":0}");
    r.adjustment_case = SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT_UPLIFT;
    r.uplift = 1.3;
    assert_string_equal(encode(&r), "{\"uplift\":1.3}");
    const ProtobufCMessageDescriptor *d = &shelfline__v1__set_forecast_override_request__descriptor;
    Shelfline__V1__SetForecastOverrideRequest *m = decode_ok(d, "{\"uplift\": \"0.5\"}");
    assert_int_equal(m->adjustment_case,
                     SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT_UPLIFT);
    assert_true(m->uplift == 0.5);
    const sl_err *e = decode_bad(d, "{\"quantity\": 1, \"uplift\": 2}");
    assert_string_equal(e->field, "uplift");
    assert_non_null(strstr(e->msg, "oneof"));
}

static void test_doubles_shortest_and_special_values(void **state)
{
    (void)state;
    Shelfline__V1__SetForecastOverrideRequest r =
        SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__INIT;
    r.adjustment_case = SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT_QUANTITY;
    r.quantity = 0.1;
    assert_string_equal(encode(&r), "{\"quantity\":0.1}");
    r.quantity = INFINITY;
    assert_string_equal(encode(&r), "{\"quantity\":\"Infinity\"}");
    r.quantity = NAN;
    assert_string_equal(encode(&r), "{\"quantity\":\"NaN\"}");
    const ProtobufCMessageDescriptor *d = &shelfline__v1__set_forecast_override_request__descriptor;
    Shelfline__V1__SetForecastOverrideRequest *m = decode_ok(d, "{\"quantity\":\"-Infinity\"}");
    assert_true(isinf(m->quantity) && m->quantity < 0);
    decode_bad(d, "{\"quantity\":\"lots\"}");
}

static void test_strings_escaped_and_read_back(void **state)
{
    (void)state;
    Shelfline__V1__GetProductRequest g = SHELFLINE__V1__GET_PRODUCT_REQUEST__INIT;
    g.sku = "a\"b\\c\n\x01\xc3\xa9";
    assert_string_equal(encode(&g), "{\"sku\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"}");
    const ProtobufCMessageDescriptor *d = &shelfline__v1__get_product_request__descriptor;
    Shelfline__V1__GetProductRequest *m = decode_ok(d, encode(&g));
    assert_string_equal(m->sku, g.sku);
    m = decode_ok(d, "{\"sku\":\"\\ud83d\\ude00\"}");
    assert_string_equal(m->sku, "\xf0\x9f\x98\x80");
    /* NUL cannot live in a protobuf-c string: refused, not truncated. */
    decode_bad(d, "{\"sku\":\"a\\u0000b\"}");
}

static void test_unknown_field_refused_naming_its_path(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &shelfline__v1__reserve_request__descriptor;
    const sl_err *e = decode_bad(
        d, "{\"lines\": [{\"sku\": \"A\", \"qty\": 1}, {\"sku\": \"B\", \"colour\": 2}]}");
    assert_string_equal(e->field, "lines[1].colour");
    assert_non_null(strstr(e->msg, "unknown field \"colour\" of shelfline.v1.ReserveLine"));
    assert_string_equal(decode_bad(d, "{\"regionn\": \"EU\"}")->field, "regionn");
}

static void test_proto_names_accepted_but_not_twice(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &shelfline__v1__reserve_request__descriptor;
    Shelfline__V1__ReserveRequest *m =
        decode_ok(d, "{\"hold_ttl_ms\": \"5\", \"allowSplit\": true, \"lines\": [{\"sku\": \"A\", "
                     "\"promotion_id\": \"p\"}]}");
    assert_int_equal(m->hold_ttl_ms, 5);
    assert_true(m->allow_split);
    assert_int_equal(m->n_lines, 1);
    assert_string_equal(m->lines[0]->promotion_id, "p");
    assert_string_equal(decode_bad(d, "{\"hold_ttl_ms\": 1, \"holdTtlMs\": 2}")->field,
                        "hold_ttl_ms");
    decode_bad(d, "{\"region\": \"A\", \"region\": \"B\"}");
}

static void test_null_is_the_default(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &shelfline__v1__reserve_request__descriptor;
    Shelfline__V1__ReserveRequest *m =
        decode_ok(d, "{\"region\": null, \"lines\": null, \"holdTtlMs\": null}");
    assert_string_equal(m->region, "");
    assert_int_equal(m->n_lines, 0);
    decode_bad(d, "{\"lines\": [null]}");
}

static void test_wrong_json_types_and_non_json_refused(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &shelfline__v1__reserve_request__descriptor;
    assert_string_equal(decode_bad(d, "{\"lines\": {}}")->field, "lines");
    assert_string_equal(decode_bad(d, "{\"region\": 5}")->field, "region");
    assert_string_equal(decode_bad(d, "{\"allowSplit\": \"true\"}")->field, "allow_split");
    assert_string_equal(decode_bad(d, "{\"lines\": [5]}")->field, "lines[0]");
    assert_string_equal(decode_bad(d, "[]")->field, "");
    assert_non_null(strstr(decode_bad(d, "{\"region\": ")->msg, "not JSON"));
    decode_bad(d, "");
    decode_bad(d, "{} {}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_are_lower_camel_case_and_defaults_left_out),
        cmocka_unit_test(test_int64_as_strings_read_from_strings_and_numbers),
        cmocka_unit_test(test_int32_range_is_checked),
        cmocka_unit_test(test_enums_by_name_and_by_number),
        cmocka_unit_test(test_bytes_as_base64_both_alphabets),
        cmocka_unit_test(test_base64_matches_rfc_4648_vectors),
        cmocka_unit_test(test_oneof_member_written_at_zero_and_only_one_taken),
        cmocka_unit_test(test_doubles_shortest_and_special_values),
        cmocka_unit_test(test_strings_escaped_and_read_back),
        cmocka_unit_test(test_unknown_field_refused_naming_its_path),
        cmocka_unit_test(test_proto_names_accepted_but_not_twice),
        cmocka_unit_test(test_null_is_the_default),
        cmocka_unit_test(test_wrong_json_types_and_non_json_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
