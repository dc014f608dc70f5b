/* cv_interest: recency-weighted category shares, ranking and ties. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "cv_interest.h"

static void test_weighted_shares(void **state)
{
    (void)state;
    /* As of day 100, half-life 30: coffee 60 bought 30 days ago counts 30,
     * tea 20 today counts 20, books 40 bought 60 days ago counts 10. */
    cv_purchase_line lines[] = {
        {"coffee", 70, 60.0},
        {"tea", 100, 20.0},
        {"books", 40, 40.0},
        {"garden", 101, 99.0},
    };
    cv_interest out[4];
    size_t n;
    sl_err err;
    assert_int_equal(cv_interest_rank(lines, 4, 100, 30.0, out, 4, &n, &err), SL_OK);
    assert_int_equal(n, 3); /* garden is after as_of */
    assert_string_equal(out[0].category, "coffee");
    assert_float_equal(out[0].score, 0.5, 1e-12);
    assert_float_equal(out[0].spend, 60.0, 0.0);
    assert_string_equal(out[1].category, "tea");
    assert_float_equal(out[1].score, 20.0 / 60.0, 1e-12);
    assert_string_equal(out[2].category, "books");
    /* No decay: plain spend shares; max_out truncates. */
    assert_int_equal(cv_interest_rank(lines, 3, 100, 0.0, out, 1, &n, &err), SL_OK);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].category, "coffee");
    assert_float_equal(out[0].score, 0.5, 1e-12);
}

static void test_ties_and_merging(void **state)
{
    (void)state;
    /* Equal interest: ordered by name.  Repeated categories add up, whatever
     * the pointers. */
    char tea2[] = "tea";
    cv_purchase_line lines[] = {
        {"tea", 10, 5.0},
        {"coffee", 10, 10.0},
        {tea2, 10, 5.0},
        {"zero", 10, 0.0},
    };
    cv_interest out[4];
    size_t n;
    assert_int_equal(cv_interest_rank(lines, 4, 10, 30.0, out, 4, &n, NULL), SL_OK);
    assert_int_equal(n, 2); /* a category with no spend is no interest */
    assert_string_equal(out[0].category, "coffee");
    assert_string_equal(out[1].category, "tea");
    assert_float_equal(out[1].score, 0.5, 1e-15);
}

static void test_edges(void **state)
{
    (void)state;
    cv_interest out[2];
    size_t n = 7;
    sl_err err;
    assert_int_equal(cv_interest_rank(NULL, 0, 10, 30.0, out, 2, &n, &err), SL_OK);
    assert_int_equal(n, 0);
    cv_purchase_line bad[] = {{"tea", 1, -5.0}};
    assert_int_equal(cv_interest_rank(bad, 1, 10, 30.0, out, 2, &n, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "line 0"));
    cv_purchase_line null_cat[] = {{NULL, 1, 5.0}};
    assert_int_equal(cv_interest_rank(null_cat, 1, 10, 30.0, out, 2, &n, &err),
                     SL_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weighted_shares),
        cmocka_unit_test(test_ties_and_merging),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
