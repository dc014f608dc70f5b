/* fc_class: ABC by cumulative revenue share and XYZ by the variability of
 * weekly demand, against hand-computed classes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "fc_class.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) < (tol))

static void test_cv_of_weekly_demand(void **state)
{
    (void)state;
    double flat[4] = {10, 10, 10, 10}, alt[4] = {0, 20, 0, 20}, none[3] = {0, 0, 0};
    NEAR(fc_class_cv(flat, 4), 0, 1e-12);
    NEAR(fc_class_cv(alt, 4), 1.0, 1e-12); /* sd 10 (population), mean 10 */
    NEAR(fc_class_cv(none, 3), -1, 1e-12);
    NEAR(fc_class_cv(NULL, 0), -1, 1e-12);
}

static void test_pareto_split_with_the_crossing_sku_in_a(void **state)
{
    (void)state;
    double flat[4] = {5, 5, 5, 5}, mid[4] = {2, 6, 4, 8}, wild[4] = {0, 0, 0, 30};
    /* Revenue 50, 30, 10, 6, 4, 0 (total 100), given out of order. */
    fc_class_in in[] = {
        {10, mid, 4}, {50, flat, 4}, {0, wild, 4}, {30, wild, 4}, {4, flat, 4}, {6, mid, 4},
    };
    fc_class_out out[6];
    fc_class_opts o = {0};
    sl_err err;
    assert_int_equal(fc_class_opts_check(&o, &err), SL_OK);
    NEAR(o.a_share, 0.8, 1e-12);
    NEAR(o.y_cv, 1.0, 1e-12);
    assert_int_equal(fc_classify(in, 6, &o, out, &err), SL_OK);
    size_t order[6] = {1, 3, 0, 5, 4, 2};
    const char abc[] = "AABBCC";
    for (int k = 0; k < 6; k++) {
        assert_int_equal(out[k].index, order[k]);
        assert_int_equal(out[k].abc, abc[k]);
    }
    /* 50 + 30 = 80%: the second SKU starts below 0.8 so it is A; the
     * third starts at 0.8, so B; the fifth starts at 96% > 95%: C. */
    NEAR(out[1].cumulative, 0.8, 1e-12);
    NEAR(out[3].cumulative, 0.96, 1e-12);
    NEAR(out[2].share, 0.10, 1e-12);
    /* XYZ: flat X, mid (cv sqrt(5)/5 = 0.447) X, wild (cv sqrt(3)) Z. */
    assert_int_equal(out[0].xyz, 'X');
    assert_int_equal(out[2].xyz, 'X');
    NEAR(out[2].cv, sqrt(5.0) / 5.0, 1e-12);
    assert_int_equal(out[1].xyz, 'Z');
    /* Nothing sold: C and Z whatever its weeks say. */
    assert_int_equal(out[5].abc, 'C');
}

static void test_thresholds_are_configurable_and_checked(void **state)
{
    (void)state;
    double mid[4] = {2, 6, 4, 8};
    fc_class_in in[] = {{1, mid, 4}};
    fc_class_out out[1];
    fc_class_opts o = {.x_cv = 0.4};
    sl_err err;
    assert_int_equal(fc_class_opts_check(&o, &err), SL_OK);
    assert_int_equal(fc_classify(in, 1, &o, out, &err), SL_OK);
    assert_int_equal(out[0].xyz, 'Y'); /* 0.447 > 0.4 */
    assert_int_equal(out[0].abc, 'A');
    fc_class_opts bad = {.a_share = 0.9, .b_share = 0.85};
    assert_int_equal(fc_class_opts_check(&bad, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "b_share"));
    fc_class_opts bad2 = {.a_share = 1.2};
    assert_int_equal(fc_class_opts_check(&bad2, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "a_share"));
    fc_class_opts bad3 = {.x_cv = 2, .y_cv = 1};
    assert_int_equal(fc_class_opts_check(&bad3, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "y_cv"));
    fc_class_opts bad4 = {.x_cv = -1};
    assert_int_equal(fc_class_opts_check(&bad4, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "x_cv"));
}

static void test_codes_and_default_targets(void **state)
{
    (void)state;
    char a, x;
    assert_true(fc_class_parse("AX", &a, &x) && a == 'A' && x == 'X');
    assert_true(fc_class_parse("CZ", &a, &x) && a == 'C' && x == 'Z');
    assert_false(fc_class_parse("DX", &a, &x));
    assert_false(fc_class_parse("AXX", &a, &x));
    assert_false(fc_class_parse("ax", &a, &x));
    assert_false(fc_class_parse("", &a, &x));
    assert_int_equal(fc_class_index('A', 'X'), 0);
    assert_int_equal(fc_class_index('C', 'Z'), 8);
    NEAR(fc_class_default_target('A', 'X'), 0.99, 1e-12);
    NEAR(fc_class_default_target('C', 'Z'), 0.85, 1e-12);
    /* More valuable classes never get less service. */
    for (char y = 'X'; y <= 'Z'; y++)
        assert_true(fc_class_default_target('A', y) >= fc_class_default_target('B', y) &&
                    fc_class_default_target('B', y) >= fc_class_default_target('C', y));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cv_of_weekly_demand),
        cmocka_unit_test(test_pareto_split_with_the_crossing_sku_in_a),
        cmocka_unit_test(test_thresholds_are_configurable_and_checked),
        cmocka_unit_test(test_codes_and_default_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
