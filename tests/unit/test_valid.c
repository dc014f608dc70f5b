/*
 * Unit tests of the generic request check (sl_valid) and the UTF-8 helpers
 * (sl_utf8), on real request types of the suite encoded by hand where
 * protobuf-c cannot express the bad input (a NUL inside a string, field
 * number 0, a group).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_utf8.h"
#include "sl_valid.h"

#define DESC(x) &shelfline__v1__##x##__descriptor

/* ---------------------------------------------------------------- UTF-8 -- */

static bool valid(const char *s, size_t n, size_t *bad)
{
    return sl_utf8_valid((const uint8_t *)s, n, bad);
}

static void test_utf8_accepts_every_plane(void **state)
{
    (void)state;
    const char *ok = "plain, \xc3\xa9t\xc3\xa9, \xe4\xb8\xad\xe6\x96\x87, \xf0\x9f\x93\xa6, "
                     "\xef\xbf\xbf \xf4\x8f\xbf\xbf";
    assert_true(valid(ok, strlen(ok), NULL));
    assert_true(valid("", 0, NULL));
}

static void test_utf8_refuses_what_rfc3629_forbids(void **state)
{
    (void)state;
    size_t bad = 99;
    assert_false(valid("ok\xc3\x28\xff", 5, &bad)); /* the bytes */
    assert_int_equal(bad, 2);
    assert_false(valid("\xc0\xaf", 2, &bad));         /* overlong '/' */
    assert_false(valid("\xe0\x80\xaf", 3, &bad));     /* overlong, 3 bytes */
    assert_false(valid("\xf0\x80\x80\xaf", 4, &bad)); /* overlong, 4 bytes */
    assert_false(valid("\xed\xa0\x80", 3, &bad));     /* surrogate D800 */
    assert_false(valid("\xf4\x90\x80\x80", 4, &bad)); /* above U+10FFFF */
    assert_false(valid("\xf5\x80\x80\x80", 4, &bad));
    assert_false(valid("a\x80", 2, &bad)); /* lone continuation */
    assert_int_equal(bad, 1);
    assert_false(valid("ab\xe4\xb8", 4, &bad)); /* cut short */
    assert_int_equal(bad, 2);
}

static void test_sanitize_escapes_bad_bytes_and_keeps_good_ones(void **state)
{
    (void)state;
    char s[64] = "reason \"ok\xc3\x28\xff\" \xc3\xa9";
    sl_utf8_sanitize(s, sizeof s);
    assert_string_equal(s, "reason \"ok\\xc3(\\xff\" \xc3\xa9");
    char t[16] = "abc";
    sl_utf8_sanitize(t, sizeof t);
    assert_string_equal(t, "abc");
    /* Cut where it does not fit, never inside a character or an escape. */
    char u[8] = "ab\xff\xff\xff";
    sl_utf8_sanitize(u, sizeof u);
    assert_string_equal(u, "ab\\xff");
}

static void test_error_messages_are_utf8_whatever_they_quote(void **state)
{
    (void)state;
    sl_err err;
    sl_err_set(&err, SL_INVALID_ARGUMENT, "unknown sku \"%s\"", "S\xff");
    assert_string_equal(err.msg, "unknown sku \"S\\xff\"");
    sl_err_wrap(&err, "line \"%s\"", "\xc3");
    assert_true(sl_utf8_valid((const uint8_t *)err.msg, strlen(err.msg), NULL));
}

/* -------------------------------------------------------------- request -- */

typedef struct wbuf {
    uint8_t b[4096];
    size_t n;
} wbuf;

static void varint(wbuf *w, uint64_t v)
{
    do {
        uint8_t c = v & 0x7F;
        v >>= 7;
        w->b[w->n++] = c | (v ? 0x80 : 0);
    } while (v);
}

static void lenfield(wbuf *w, unsigned field, const void *p, size_t n)
{
    varint(w, (uint64_t)field << 3 | 2);
    varint(w, n);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static unsigned fid(const ProtobufCMessageDescriptor *d, const char *name)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
    assert_non_null(f);
    return f->id;
}

/* PlaceOrderRequest with three lines; line 2's sku is sku2[0..n2). */
static void order(wbuf *w, const char *sku2, size_t n2)
{
    w->n = 0;
    lenfield(w, fid(DESC(place_order_request), "order_id"), "O1", 2);
    for (int i = 0; i < 3; i++) {
        wbuf line = {.n = 0};
        unsigned sku = fid(DESC(order_line_request), "sku");
        if (i == 2)
            lenfield(&line, sku, sku2, n2);
        else
            lenfield(&line, sku, "SKU-A", 5);
        varint(&line, (uint64_t)fid(DESC(order_line_request), "qty") << 3);
        varint(&line, 1);
        lenfield(w, fid(DESC(place_order_request), "lines"), line.b, line.n);
    }
}

static sl_status check(const ProtobufCMessageDescriptor *d, const wbuf *w, sl_err *err)
{
    return sl_valid_request(d, w->b, w->n, err);
}

static void test_good_request_passes(void **state)
{
    (void)state;
    wbuf w;
    sl_err err;
    order(&w, "SKU-\xc3\xa9", 6);
    assert_int_equal(check(DESC(place_order_request), &w, &err), SL_OK);
    /* and protobuf-c's own encoding of a full request */
    Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    ci.inbound_id = "IN-1";
    ci.sku = "SKU-A";
    ci.expected_at_ms = SL_VALID_MAX_INSTANT_MS;
    w.n = shelfline__v1__create_inbound_request__pack(&ci, w.b);
    assert_int_equal(check(DESC(create_inbound_request), &w, &err), SL_OK);
}

static void test_bad_string_named_by_its_path(void **state)
{
    (void)state;
    wbuf w;
    sl_err err;
    order(&w, "ok\xc3\x28\xff", 5);
    assert_int_equal(check(DESC(place_order_request), &w, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "lines[2].sku must be valid UTF-8 (invalid byte 0xc3 at byte 2)");
    order(&w, "ORDER-7\0shop-a", 14);
    assert_int_equal(check(DESC(place_order_request), &w, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "lines[2].sku must not contain a NUL character (found at byte 7)");
}

static void test_long_string_refused(void **state)
{
    (void)state;
    static uint8_t big[SL_VALID_MAX_STRING + 1];
    memset(big, 'b', sizeof big);
    static wbuf w;
    sl_err err;
    w.n = 0;
    lenfield(&w, fid(DESC(open_ticket_request), "body"), big, 1000);
    assert_int_equal(check(DESC(open_ticket_request), &w, &err), SL_OK);
    /* 4096-byte buffer: write the oversized field's header only and point
     * the check at a separate buffer holding header + payload. */
    static uint8_t msg[SL_VALID_MAX_STRING + 16];
    size_t n = 0;
    msg[n++] = (uint8_t)(fid(DESC(open_ticket_request), "body") << 3 | 2);
    uint64_t len = sizeof big;
    do {
        uint8_t c = len & 0x7F;
        len >>= 7;
        msg[n++] = c | (len ? 0x80 : 0);
    } while (len);
    memcpy(msg + n, big, sizeof big);
    n += sizeof big;
    assert_int_equal(sl_valid_request(DESC(open_ticket_request), msg, n, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "body: 65537 bytes, more than the limit of 65536"));
}

static void test_dates_real_and_exactly_written(void **state)
{
    (void)state;
    sl_err e;
    const char *good[] = {"2026-11-18", "2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(sl_valid_date("holidays[0]", good[i], &e), SL_OK);
    const char *bad[] = {"2025-02-29",  "1900-02-29", "2026-04-31", "2026-13-01",
                         "2026-00-10",  "0000-01-01", "2026-1-01",  "2026/01/01",
                         "2026-01-01T", "",           NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sl_valid_date("holidays[3]", bad[i], &e), SL_INVALID_ARGUMENT);
        assert_non_null(strstr(e.msg, "holidays[3]"));
    }
}

static void test_instants_and_durations_in_range(void **state)
{
    (void)state;
    wbuf w;
    sl_err err;
    unsigned exp = fid(DESC(create_inbound_request), "expected_at_ms");
    int64_t bad[] = {INT64_MAX, -1, SL_VALID_MAX_INSTANT_MS + 1};
    for (size_t i = 0; i < 3; i++) {
        w.n = 0;
        varint(&w, (uint64_t)exp << 3);
        varint(&w, (uint64_t)bad[i]);
        assert_int_equal(check(DESC(create_inbound_request), &w, &err), SL_INVALID_ARGUMENT);
        assert_non_null(strstr(err.msg, "expected_at_ms must be an instant"));
    }
    unsigned ttl = fid(DESC(reserve_request), "hold_ttl_ms");
    w.n = 0;
    varint(&w, (uint64_t)ttl << 3);
    varint(&w, (uint64_t)(SL_VALID_MAX_DURATION_MS + 1));
    assert_int_equal(check(DESC(reserve_request), &w, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "hold_ttl_ms must be a duration"));
    w.n = 0;
    varint(&w, (uint64_t)ttl << 3);
    varint(&w, 15 * 60 * 1000);
    assert_int_equal(check(DESC(reserve_request), &w, &err), SL_OK);
}

static void test_field_number_zero_refused_at_any_depth(void **state)
{
    (void)state;
    wbuf w;
    sl_err err;
    w.n = 0;
    varint(&w, 0 << 3 | 0); /* field 0, varint */
    varint(&w, 1);
    assert_int_equal(check(DESC(place_order_request), &w, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "invalid field number 0"));
    /* inside the second line, spelled as a non-canonical varint tag */
    wbuf line = {.n = 0};
    line.b[line.n++] = 0x80;
    line.b[line.n++] = 0x00;
    varint(&line, 5);
    w.n = 0;
    unsigned lines = fid(DESC(place_order_request), "lines");
    lenfield(&w, lines, "", 0);
    lenfield(&w, lines, line.b, line.n);
    assert_int_equal(check(DESC(place_order_request), &w, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg,
                        "lines[1]: invalid field number 0 in shelfline.v1.OrderLineRequest");
}

static void test_unknown_fields_skipped_groups_refused(void **state)
{
    (void)state;
    wbuf w;
    sl_err err;
    w.n = 0;
    lenfield(&w, 999, "\xff\xfe", 2); /* unknown bytes field: not a string of ours */
    varint(&w, 998 << 3 | 0);
    varint(&w, 7);
    assert_int_equal(check(DESC(place_order_request), &w, &err), SL_OK);
    w.n = 0;
    varint(&w, 997 << 3 | 3); /* start group */
    varint(&w, 997 << 3 | 4);
    assert_int_equal(check(DESC(place_order_request), &w, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "unsupported wire type 3"));
}

static void test_malformed_encoding_refused(void **state)
{
    (void)state;
    sl_err err;
    const uint8_t cut[] = {0x0a, 0x05, 'a'}; /* length 5, one byte */
    assert_int_equal(sl_valid_request(DESC(place_order_request), cut, sizeof cut, &err),
                     SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "could not decode request as shelfline.v1.PlaceOrderRequest");
    const uint8_t longvar[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(sl_valid_request(DESC(place_order_request), longvar, sizeof longvar, &err),
                     SL_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_accepts_every_plane),
        cmocka_unit_test(test_utf8_refuses_what_rfc3629_forbids),
        cmocka_unit_test(test_sanitize_escapes_bad_bytes_and_keeps_good_ones),
        cmocka_unit_test(test_error_messages_are_utf8_whatever_they_quote),
        cmocka_unit_test(test_good_request_passes),
        cmocka_unit_test(test_bad_string_named_by_its_path),
        cmocka_unit_test(test_long_string_refused),
        cmocka_unit_test(test_instants_and_durations_in_range),
        cmocka_unit_test(test_dates_real_and_exactly_written),
        cmocka_unit_test(test_field_number_zero_refused_at_any_depth),
        cmocka_unit_test(test_unknown_fields_skipped_groups_refused),
        cmocka_unit_test(test_malformed_encoding_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
