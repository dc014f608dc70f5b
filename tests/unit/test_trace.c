/*
 * Unit tests of W3C trace context (sl_trace): what traceparent values are
 * valid, how a span continues a caller's trace or starts a new one, and the
 * thread's current context.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "sl_trace.h"

#define GOOD "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static bool parse(const char *tp, char trace_id[33], char parent[17], uint8_t *flags)
{
    return sl_trace_parse(tp, strlen(tp), trace_id, parent, flags);
}

static bool valid(const char *tp)
{
    char t[33], p[17];
    uint8_t f;
    return parse(tp, t, p, &f);
}

static bool lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[n] == '\0';
}

static void test_version_00_header_gives_its_ids_and_flags(void **state)
{
    (void)state;
    char t[33], p[17];
    uint8_t f = 0;
    assert_true(parse(GOOD, t, p, &f));
    assert_string_equal(t, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(p, "00f067aa0ba902b7");
    assert_int_equal(f, 1);
    assert_true(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fe", t, p, &f));
    assert_int_equal(f, 0xfe);
}

static void test_invalid_headers_are_refused(void **state)
{
    (void)state;
    /* Upper-case hex, all-zero ids, version ff, wrong separators or
     * lengths, non-hex flags, nothing. */
    assert_false(valid("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
    assert_false(valid("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
    assert_false(valid("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
    assert_false(valid("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    assert_false(valid("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    assert_false(valid("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"));
    assert_false(valid("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"));
    assert_false(valid("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g"));
    assert_false(valid(""));
    char t[33], p[17];
    uint8_t f;
    assert_false(sl_trace_parse(NULL, 0, t, p, &f));
    /* Exactly the header's bytes count: a valid header cut short is not. */
    assert_false(sl_trace_parse(GOOD, strlen(GOOD) - 1, t, p, &f));
}

static void test_a_later_version_is_read_as_far_as_version_00_goes(void **state)
{
    (void)state;
    char t[33], p[17];
    uint8_t f;
    assert_true(
        parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next", t, p, &f));
    assert_string_equal(p, "00f067aa0ba902b7");
    assert_true(valid("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    /* ... but more must follow a '-'. */
    assert_false(valid("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
}

static void test_a_span_continues_a_valid_callers_trace(void **state)
{
    (void)state;
    sl_trace t;
    sl_trace_begin(&t, GOOD, strlen(GOOD), "vendor=1", 8);
    assert_string_equal(t.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(t.parent_id, "00f067aa0ba902b7");
    assert_true(lower_hex(t.span_id, 16));
    assert_string_not_equal(t.span_id, "00f067aa0ba902b7");
    assert_int_equal(t.flags, 1);
    assert_string_equal(t.state, "vendor=1");
    /* The next hop's header names this span as its parent. */
    char out[SL_TRACEPARENT_LEN + 1], tid[33], parent[17];
    uint8_t f;
    sl_trace_traceparent(&t, out, sizeof out);
    assert_int_equal(strlen(out), SL_TRACEPARENT_LEN);
    assert_true(parse(out, tid, parent, &f));
    assert_string_equal(tid, t.trace_id);
    assert_string_equal(parent, t.span_id);
    assert_int_equal(f, 1);
}

static void test_an_invalid_or_missing_header_starts_a_new_trace(void **state)
{
    (void)state;
    const char *bad = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01";
    sl_trace a, b;
    sl_trace_begin(&a, bad, strlen(bad), "vendor=1", 8);
    sl_trace_begin(&b, NULL, 0, NULL, 0);
    for (int i = 0; i < 2; i++) {
        const sl_trace *t = i == 0 ? &a : &b;
        assert_true(lower_hex(t->trace_id, 32));
        assert_true(lower_hex(t->span_id, 16));
        assert_string_equal(t->parent_id, "");
        assert_string_equal(t->state, ""); /* tracestate goes with an invalid traceparent */
        assert_int_equal(t->flags, 0);
        char out[SL_TRACEPARENT_LEN + 1];
        sl_trace_traceparent(t, out, sizeof out);
        assert_true(valid(out));
    }
    assert_string_not_equal(a.trace_id, b.trace_id);
    assert_string_not_equal(a.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
}

static void test_span_ids_do_not_repeat(void **state)
{
    (void)state;
    enum { N = 2000 };
    static char seen[N][17];
    for (int i = 0; i < N; i++) {
        sl_trace t;
        sl_trace_begin(&t, GOOD, strlen(GOOD), NULL, 0);
        memcpy(seen[i], t.span_id, 17);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
}

static void test_request_id_is_kept_cut_or_made(void **state)
{
    (void)state;
    sl_trace t;
    sl_trace_set_request_id(&t, "order-42", 8);
    assert_string_equal(t.request_id, "order-42");
    char longer[200];
    memset(longer, 'x', sizeof longer);
    sl_trace_set_request_id(&t, longer, sizeof longer);
    assert_int_equal(strlen(t.request_id), SL_TRACE_REQUEST_ID_MAX - 1);
    sl_trace_set_request_id(&t, NULL, 0);
    assert_true(lower_hex(t.request_id, 16));
    char first[SL_TRACE_REQUEST_ID_MAX];
    memcpy(first, t.request_id, sizeof first);
    sl_trace_set_request_id(&t, "", 0);
    assert_string_not_equal(first, t.request_id);
}

static void test_current_context_nests_and_restores(void **state)
{
    (void)state;
    assert_null(sl_trace_current());
    sl_trace outer, inner;
    sl_trace_begin(&outer, NULL, 0, NULL, 0);
    sl_trace_begin(&inner, NULL, 0, NULL, 0);
    const sl_trace *p0 = sl_trace_swap(&outer);
    assert_null(p0);
    const sl_trace *p1 = sl_trace_swap(&inner);
    assert_ptr_equal(p1, &outer);
    assert_ptr_equal(sl_trace_current(), &inner);
    sl_trace_swap(p1);
    assert_ptr_equal(sl_trace_current(), &outer);
    sl_trace_swap(p0);
    assert_null(sl_trace_current());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_00_header_gives_its_ids_and_flags),
        cmocka_unit_test(test_invalid_headers_are_refused),
        cmocka_unit_test(test_a_later_version_is_read_as_far_as_version_00_goes),
        cmocka_unit_test(test_a_span_continues_a_valid_callers_trace),
        cmocka_unit_test(test_an_invalid_or_missing_header_starts_a_new_trace),
        cmocka_unit_test(test_span_ids_do_not_repeat),
        cmocka_unit_test(test_request_id_is_kept_cut_or_made),
        cmocka_unit_test(test_current_context_nests_and_restores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
