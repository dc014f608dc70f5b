/*
 * Unit tests of cv_history: the purchase history in memory answers as
 * cv_store's statements do (docs/CUSTOMER_VALUE.md), and a snapshot is
 * served only for its own data version.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cv_history.h"

/* A small history: (order, customer, region, SKU, category, day, units,
 * returned, version).  Deliberately not in the store's order. */
static const cv_history_row rows[] = {
    {"o-3", "b", "EAST", "A-2", "cat-a", 10, 1, 0, 1},
    {"o-1", "a", "EAST", "A-1", "cat-a", 5, 1, 0, 1},
    {"o-1", "a", "EAST", "B-1", "cat-b", 5, 2, 0, 1},
    {"o-1", "a", "EAST", "D-1", "cat-d", 5, 1, 0, 1},
    {"o-2", "a", "EAST", "A-1", "cat-a", 40, 1, 0, 1},
    {"o-3", "b", "EAST", "A-1", "cat-a", 10, 1, 0, 1},
    {"o-3", "b", "EAST", "B-2", "cat-b", 10, 1, 0, 1},
    {"o-4", "b", "EAST", "B-1", "cat-b", 30, 1, 0, 1},
    {"o-4", "b", "EAST", "A-2", "cat-a", 30, 1, 1, 1}, /* returned */
    {"o-5", "c", "WEST", "A-2", "cat-a", 50, 3, 1, 1},
    {"o-5", "c", "WEST", "B-2", "cat-b", 50, 1, 0, 1},
    {"o-6", "c", "WEST", "A-1", "other", 60, 1, 0, 1}, /* A-1 filed elsewhere */
    {"o-7", "d", "WEST", "C-1", "cat-c", 60, 1, 0, 1},
};
#define NROWS (sizeof rows / sizeof rows[0])

static cv_history_snap *snap(int64_t version)
{
    cv_history_snap *s;
    sl_err err;
    assert_int_equal(cv_history_build(version, rows, NROWS, &s, &err), SL_OK);
    return s;
}

static void expect_score(const cv_sku_score *s, const char *sku, const char *cat, double score)
{
    assert_string_equal(s->sku, sku);
    assert_string_equal(s->category, cat);
    assert_true(s->score == score);
}

static void test_bestsellers_count_distinct_customers(void **state)
{
    (void)state;
    cv_history *h = cv_history_create();
    assert_true(cv_history_begin_build(h));
    cv_history_snap *s = cv_history_install(h, snap(1));
    sl_arena *a = sl_arena_create(0);
    cv_sku_score *out;
    size_t n;
    sl_err err;
    /* Everyone since day 0: A-1 by a (twice), b, c; A-2 by b (o-4's line
     * is returned) and c (2 of 3 left); B-1 by a, b; B-2 by b, c; C-1 by
     * d; D-1 by a.  Ties by SKU; the least category of the counted lines. */
    assert_int_equal(cv_history_bestsellers(s, a, NULL, NULL, 0, 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 6);
    expect_score(&out[0], "A-1", "cat-a", 3);
    expect_score(&out[1], "A-2", "cat-a", 2);
    expect_score(&out[2], "B-1", "cat-b", 2);
    expect_score(&out[3], "B-2", "cat-b", 2);
    expect_score(&out[4], "C-1", "cat-c", 1);
    expect_score(&out[5], "D-1", "cat-d", 1);
    /* The same again comes from the memo, equal. */
    assert_int_equal(cv_history_bestsellers(s, a, NULL, NULL, 0, 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 6);
    expect_score(&out[4], "C-1", "cat-c", 1);
    /* A limit. */
    assert_int_equal(cv_history_bestsellers(s, a, NULL, NULL, 0, 2, &out, &n, &err), SL_OK);
    assert_int_equal(n, 2);
    expect_score(&out[1], "A-2", "cat-a", 2);
    /* A region; a day; a category (A-1 under "other" is not cat-a). */
    assert_int_equal(cv_history_bestsellers(s, a, "WEST", NULL, 0, 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 4);
    expect_score(&out[0], "A-1", "other", 1);
    expect_score(&out[1], "A-2", "cat-a", 1);
    assert_int_equal(cv_history_bestsellers(s, a, NULL, NULL, 30, 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 5);
    expect_score(&out[0], "A-1", "cat-a", 2); /* a on day 40, c on day 60 */
    expect_score(&out[1], "A-2", "cat-a", 1); /* c only: b's is returned */
    assert_int_equal(cv_history_bestsellers(s, a, NULL, "cat-a", 0, 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 2);
    expect_score(&out[0], "A-1", "cat-a", 2);
    expect_score(&out[1], "A-2", "cat-a", 2);
    /* Unknown region or category: nothing. */
    assert_int_equal(cv_history_bestsellers(s, a, "NORTH", NULL, 0, 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cv_history_bestsellers(s, a, NULL, "nope", 0, 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 0);
    cv_history_release(h, s);
    sl_arena_destroy(a);
    cv_history_destroy(h);
}

static void test_copurchase_counts_each_order_once(void **state)
{
    (void)state;
    cv_history_snap *s = snap(1);
    cv_history *h = cv_history_create();
    assert_true(cv_history_begin_build(h));
    s = cv_history_install(h, s);
    sl_arena *a = sl_arena_create(0);
    cv_sku_score *out;
    size_t n;
    sl_err err;
    /* a bought A-1, B-1 and D-1.  Other customers' orders holding one:
     * o-3 (A-1; also A-2, B-2), o-4 (B-1; also A-2, returned or not),
     * o-6 (A-1 only). */
    assert_int_equal(cv_history_copurchase(s, a, "a", 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 2);
    expect_score(&out[0], "A-2", "cat-a", 2);
    expect_score(&out[1], "B-2", "cat-b", 1);
    /* b bought, B-1, B-2: o-1 holds two of them and D-1, which
     * counts once; o-2, o-5 and o-6 hold nothing else. */
    assert_int_equal(cv_history_copurchase(s, a, "b", 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 1);
    expect_score(&out[0], "D-1", "cat-d", 1);
    /* c: o-1 (A-1; B-1, D-1) and o-4 (A-2; B-1); o-3 holds only c's SKUs.
     * d shares nothing with anyone. */
    assert_int_equal(cv_history_copurchase(s, a, "c", 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 2);
    expect_score(&out[0], "B-1", "cat-b", 2);
    expect_score(&out[1], "D-1", "cat-d", 1);
    assert_int_equal(cv_history_copurchase(s, a, "d", 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cv_history_copurchase(s, a, "nobody", 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 0);
    cv_history_release(h, s);
    sl_arena_destroy(a);
    cv_history_destroy(h);
}

static void test_repeat_lines_by_customer_sku_day(void **state)
{
    (void)state;
    cv_history_snap *s = snap(1);
    sl_arena *a = sl_arena_create(0);
    cv_repeat_row *out;
    size_t n;
    sl_err err;
    const char *skus[] = {"A-2", "A-1", "NOT-SOLD"};
    assert_int_equal(cv_history_repeat_lines(s, a, skus, 3, &out, &n, &err), SL_OK);
    /* a: A-1 day 5, 40; b: A-1 10, A-2 10 (the returned one left out);
     * c: A-1 60, A-2 50 (2 units left). */
    assert_int_equal(n, 6);
    const struct {
        const char *cust, *sku;
        int32_t day;
        int64_t qty;
    } want[] = {{"a", "A-1", 5, 1},  {"a", "A-1", 40, 1}, {"b", "A-1", 10, 1},
                {"b", "A-2", 10, 1}, {"c", "A-1", 60, 1}, {"c", "A-2", 50, 2}};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(out[i].customer_id, want[i].cust);
        assert_string_equal(out[i].sku, want[i].sku);
        assert_int_equal(out[i].day, want[i].day);
        assert_int_equal(out[i].qty, want[i].qty);
        assert_string_equal(out[i].region, want[i].cust[0] == 'c' ? "WEST" : "EAST");
    }
    cv_history *h = cv_history_create();
    assert_true(cv_history_begin_build(h));
    cv_history_release(h, cv_history_install(h, s));
    sl_arena_destroy(a);
    cv_history_destroy(h);
}

static void test_snapshot_served_only_for_its_version(void **state)
{
    (void)state;
    cv_history *h = cv_history_create();
    assert_null(cv_history_acquire(h, 0));
    /* One builder at a time. */
    assert_true(cv_history_begin_build(h));
    assert_false(cv_history_begin_build(h));
    cv_history_snap *s7 = cv_history_install(h, snap(7));
    assert_int_equal(cv_history_version(s7), 7);
    cv_history_snap *again = cv_history_acquire(h, 7);
    assert_ptr_equal(again, s7);
    cv_history_release(h, again);
    assert_null(cv_history_acquire(h, 8));
    /* An older build (a slow builder) does not replace a newer one. */
    assert_true(cv_history_begin_build(h));
    cv_history_snap *s5 = cv_history_install(h, snap(5));
    assert_null(cv_history_acquire(h, 5));
    cv_history_release(h, s5);
    /* A failed build ends the build and keeps the current one. */
    assert_true(cv_history_begin_build(h));
    assert_null(cv_history_install(h, NULL));
    assert_true(cv_history_begin_build(h));
    /* A newer one replaces it; the reader keeps the old one until released. */
    cv_history_snap *s9 = cv_history_install(h, snap(9));
    assert_null(cv_history_acquire(h, 7));
    assert_int_equal(cv_history_version(s7), 7);
    cv_history_release(h, s7);
    cv_history_release(h, s9);
    cv_history_destroy(h);
}

static void test_empty_history(void **state)
{
    (void)state;
    cv_history_snap *s;
    sl_err err;
    assert_int_equal(cv_history_build(3, NULL, 0, &s, &err), SL_OK);
    sl_arena *a = sl_arena_create(0);
    cv_sku_score *out;
    size_t n = 1;
    assert_int_equal(cv_history_bestsellers(s, a, NULL, NULL, 0, 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cv_history_copurchase(s, a, "a", 50, &out, &n, &err), SL_OK);
    assert_int_equal(n, 0);
    cv_repeat_row *r;
    const char *sku = "A-1";
    assert_int_equal(cv_history_repeat_lines(s, a, &sku, 1, &r, &n, &err), SL_OK);
    assert_int_equal(n, 0);
    cv_history *h = cv_history_create();
    assert_true(cv_history_begin_build(h));
    cv_history_release(h, cv_history_install(h, s));
    sl_arena_destroy(a);
    cv_history_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bestsellers_count_distinct_customers),
        cmocka_unit_test(test_copurchase_counts_each_order_once),
        cmocka_unit_test(test_repeat_lines_by_customer_sku_day),
        cmocka_unit_test(test_snapshot_served_only_for_its_version),
        cmocka_unit_test(test_empty_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
