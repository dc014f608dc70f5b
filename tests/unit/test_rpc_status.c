/* sl_rpc_status: the mapping between an sl_err and a google.rpc.Status,
 * both ways, without a server. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_rpc_status.h"

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

static const char *path(const char *msg, const ProtobufCMessageDescriptor *d)
{
    static char out[SL_ERR_FIELD_MAX];
    out[0] = '\0';
    size_t n = sl_rpc_field_path(msg, d, out, sizeof out);
    assert_int_equal(n, strlen(out));
    return out;
}

static void test_field_path_is_a_field_of_the_request(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *rr = &shelfline__v1__reserve_request__descriptor;
    assert_string_equal(path("lines[2].qty must be positive (got 0)", rr), "lines[2].qty");
    assert_string_equal(path("lines[0]: promotion \"p\" is sold out", rr), "lines[0]");
    assert_string_equal(path("region \"X\" is not served", rr), "region");
    assert_string_equal(path("hold_ttl_ms", rr), "hold_ttl_ms");
    assert_string_equal(path("page.page_size must be 0..1000 (got 5000)",
                             &shelfline__v1__list_orders_request__descriptor),
                        "page.page_size");
    /* Prose, unknown names, an index on a single field, a step into a
     * scalar, a malformed index: no path. */
    assert_string_equal(path("invalid page token", rr), "");
    assert_string_equal(path("could not decode request as shelfline.v1.ReserveRequest", rr), "");
    assert_string_equal(path("region[1] is odd", rr), "");
    assert_string_equal(path("region.code is odd", rr), "");
    assert_string_equal(path("lines[x].qty is odd", rr), "");
    assert_string_equal(path("lines[1 is odd", rr), "");
    assert_string_equal(path("lines.nope is odd", rr), "");
    assert_string_equal(path("regions is odd", rr), "");
    assert_string_equal(path("", rr), "");
    assert_string_equal(path("region", NULL), "");
}

static Google__Rpc__Status *pack(sl_status st, const sl_err *err, const sl_rpc_detail *extra,
                                 size_t n_extra)
{
    uint8_t *buf;
    size_t len;
    assert_true(sl_rpc_status_pack(st, err, &shelfline__v1__reserve_request__descriptor, extra,
                                   n_extra, A, &buf, &len));
    if (len == 0)
        return NULL;
    Google__Rpc__Status *s = google__rpc__status__unpack(sl_arena_pb_allocator(A), len, buf);
    assert_non_null(s);
    assert_int_equal(s->code, sl_status_grpc_code(st));
    assert_string_equal(s->message, err != NULL ? err->msg : "");
    return s;
}

static void test_invalid_argument_gets_one_violation(void **state)
{
    (void)state;
    sl_err err;
    /* Named by the validation module... */
    sl_err_field(&err, "lines[1].sku", "lines[1].sku is required");
    Google__Rpc__Status *s = pack(SL_INVALID_ARGUMENT, &err, NULL, 0);
    assert_int_equal(s->n_details, 1);
    assert_string_equal(s->details[0]->type_url, "type.googleapis.com/google.rpc.BadRequest");
    Google__Rpc__BadRequest *br = google__rpc__bad_request__unpack(
        sl_arena_pb_allocator(A), s->details[0]->value.len, s->details[0]->value.data);
    assert_int_equal(br->n_field_violations, 1);
    assert_string_equal(br->field_violations[0]->field, "lines[1].sku");
    assert_string_equal(br->field_violations[0]->description, "lines[1].sku is required");
    /* ...or only by the message... */
    sl_err_set(&err, SL_INVALID_ARGUMENT, "lines[3].qty must be positive");
    s = pack(SL_INVALID_ARGUMENT, &err, NULL, 0);
    br = google__rpc__bad_request__unpack(sl_arena_pb_allocator(A), s->details[0]->value.len,
                                          s->details[0]->value.data);
    assert_string_equal(br->field_violations[0]->field, "lines[3].qty");
    /* ...or by nothing: still a violation, without a field. */
    sl_err_set(&err, SL_INVALID_ARGUMENT, "request message missing");
    s = pack(SL_INVALID_ARGUMENT, &err, NULL, 0);
    br = google__rpc__bad_request__unpack(sl_arena_pb_allocator(A), s->details[0]->value.len,
                                          s->details[0]->value.data);
    assert_string_equal(br->field_violations[0]->field, "");
    sl_arena_reset(A);
}

static void test_retry_info_and_error_info(void **state)
{
    (void)state;
    sl_err err;
    sl_err_reason(&err, SL_RESOURCE_EXHAUSTED, "PROMOTION_SOLD_OUT", "promotion \"p\" is sold out");
    sl_err_meta(&err, "promotion_id", "%s", "p");
    Google__Rpc__Status *s = pack(SL_RESOURCE_EXHAUSTED, &err, NULL, 0);
    assert_int_equal(s->n_details, 2);
    assert_string_equal(s->details[0]->type_url, "type.googleapis.com/google.rpc.RetryInfo");
    Google__Rpc__RetryInfo *ri = google__rpc__retry_info__unpack(
        sl_arena_pb_allocator(A), s->details[0]->value.len, s->details[0]->value.data);
    assert_int_equal(ri->retry_delay->seconds, 1);
    assert_int_equal(ri->retry_delay->nanos, 0);
    assert_string_equal(s->details[1]->type_url, "type.googleapis.com/google.rpc.ErrorInfo");
    Google__Rpc__ErrorInfo *ei = google__rpc__error_info__unpack(
        sl_arena_pb_allocator(A), s->details[1]->value.len, s->details[1]->value.data);
    assert_string_equal(ei->reason, "PROMOTION_SOLD_OUT");
    assert_string_equal(ei->domain, "shelfline.v1");
    assert_int_equal(ei->n_metadata, 1);
    assert_string_equal(ei->metadata[0]->key, "promotion_id");
    assert_string_equal(ei->metadata[0]->value, "p");

    sl_err_set(&err, SL_UNAVAILABLE, "the service is shutting down");
    s = pack(SL_UNAVAILABLE, &err, NULL, 0);
    assert_int_equal(s->n_details, 1);
    ri = google__rpc__retry_info__unpack(sl_arena_pb_allocator(A), s->details[0]->value.len,
                                         s->details[0]->value.data);
    assert_int_equal(ri->retry_delay->seconds, 0);
    assert_int_equal(ri->retry_delay->nanos, 500000000);

    /* A new error forgets the old one's reason; with nothing to say there
     * is no Status at all. */
    sl_err_set(&err, SL_NOT_FOUND, "nothing here");
    assert_null(pack(SL_NOT_FOUND, &err, NULL, 0));
    sl_arena_reset(A);
}

static void test_details_round_trip_and_are_not_doubled(void **state)
{
    (void)state;
    sl_err err;
    sl_err_reason(&err, SL_FAILED_PRECONDITION, "OUT_OF_STOCK", "insufficient stock");
    sl_err_meta(&err, "sku", "%s", "SKU-A");
    uint8_t *peer;
    size_t peer_len;
    sl_rpc_detail shortfall = {"type.googleapis.com/shelfline.v1.ReserveShortfall",
                               (const uint8_t *)"\x0a\x00", 2};
    assert_true(
        sl_rpc_status_pack(SL_FAILED_PRECONDITION, &err, NULL, &shortfall, 1, A, &peer, &peer_len));

    /* What a caller reads back: the details, and the reason in its err. */
    sl_rpc_detail *d;
    size_t n;
    assert_true(sl_rpc_status_details(peer, peer_len, A, &d, &n));
    assert_int_equal(n, 2);
    assert_string_equal(d[0].type_url, shortfall.type_url);
    assert_int_equal(d[0].len, 2);
    sl_err got;
    sl_err_set(&got, SL_FAILED_PRECONDITION, "could not place order: insufficient stock");
    assert_true(sl_rpc_status_read_reason(peer, peer_len, A, &got));
    assert_string_equal(got.reason, "OUT_OF_STOCK");
    assert_int_equal(got.n_meta, 1);
    assert_string_equal(got.meta[0].value, "SKU-A");
    assert_string_equal(got.msg, "could not place order: insufficient stock");

    /* Passed on with the peer's details: one ErrorInfo, not two. */
    Google__Rpc__Status *s = pack(SL_FAILED_PRECONDITION, &got, d, n);
    assert_int_equal(s->n_details, 2);
    /* Garbage is refused, not read past. */
    assert_false(sl_rpc_status_details(peer, peer_len / 2, A, &d, &n));
    assert_false(sl_rpc_status_read_reason((const uint8_t *)"\xff\xff", 2, A, &got));
    sl_arena_reset(A);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_path_is_a_field_of_the_request),
        cmocka_unit_test(test_invalid_argument_gets_one_violation),
        cmocka_unit_test(test_retry_info_and_error_info),
        cmocka_unit_test(test_details_round_trip_and_are_not_doubled),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
