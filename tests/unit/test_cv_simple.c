/* cv_simple: the simple CLV formula in both variants, referral value, and
 * retention. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "cv_simple.h"

/* 100 customers made 250 purchases worth 10,000 in the period; 80 at the
 * start, 100 at the end of whom 30 are new. */
static const cv_simple_input example = {
    .total_sales = 10000,
    .purchases = 250,
    .customers = 100,
    .customers_at_start = 80,
    .customers_at_end = 100,
    .new_customers = 30,
    .discount_rate = 0.1,
    .lifetime = 2,
    .referral_value = 0,
};

static void test_retention(void **state)
{
    (void)state;
    double r, c;
    sl_err err;
    assert_int_equal(cv_retention_rate(80, 100, 30, &r, &err), SL_OK);
    assert_float_equal(r, 70.0 / 80.0, 1e-15);
    assert_int_equal(cv_churn_rate(80, 100, 30, &c, &err), SL_OK);
    assert_float_equal(c, 10.0 / 80.0, 1e-15);
    assert_int_equal(cv_retention_rate(0, 10, 0, &r, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(cv_retention_rate(10, 5, 6, &r, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "new_customers"));
    assert_int_equal(cv_retention_rate(10, 20, 5, &r, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(cv_retention_rate(10, -1, 0, &r, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(cv_retention_rate(10, 10, 0, &r, &err), SL_OK);
    assert_float_equal(r, 1.0, 0.0);
}

static void test_aov_variant(void **state)
{
    (void)state;
    cv_simple_result res;
    sl_err err;
    assert_int_equal(cv_simple_clv(&example, CV_SIMPLE_AOV, &res, &err), SL_OK);
    assert_float_equal(res.average_purchase, 40.0, 1e-12); /* 10,000 / 250 */
    assert_float_equal(res.purchase_count, 2.5, 1e-15);
    assert_float_equal(res.retention, 0.875, 1e-15);
    /* 40 * 2.5 * 0.875 / 1.1^2 = 87.5 / 1.21: the revenue of an average
     * customer (100), retained and discounted. */
    assert_float_equal(res.clv, 87.5 / 1.21, 1e-12);
    assert_float_equal(res.clv_without_referral, res.clv, 0.0);
    assert_string_equal(cv_simple_variant_name(CV_SIMPLE_AOV), "aov");
}

static void test_literal_variant_counts_frequency_twice(void **state)
{
    (void)state;
    cv_simple_result aov, lit;
    sl_err err;
    assert_int_equal(cv_simple_clv(&example, CV_SIMPLE_AOV, &aov, &err), SL_OK);
    assert_int_equal(cv_simple_clv(&example, CV_SIMPLE_LITERAL, &lit, &err), SL_OK);
    assert_float_equal(lit.average_purchase, 100.0, 1e-12); /* 10,000 / 100 */
    assert_float_equal(lit.clv, 100.0 * 2.5 * 0.875 / 1.21, 1e-12);
    /* Exactly one purchase frequency (2.5) apart. */
    assert_float_equal(lit.clv / aov.clv, 2.5, 1e-12);
    assert_string_equal(cv_simple_variant_name(CV_SIMPLE_LITERAL), "literal");
}

static void test_referral_and_edges(void **state)
{
    (void)state;
    cv_simple_input in = example;
    in.referral_value = 25.0;
    cv_simple_result res;
    sl_err err;
    assert_int_equal(cv_simple_clv(&in, CV_SIMPLE_AOV, &res, &err), SL_OK);
    assert_float_equal(res.clv, 87.5 / 1.21 + 25.0, 1e-12);
    assert_float_equal(res.clv_without_referral, 87.5 / 1.21, 1e-12);
    /* lifetime 0: no discounting */
    in = example;
    in.lifetime = 0;
    assert_int_equal(cv_simple_clv(&in, CV_SIMPLE_AOV, &res, &err), SL_OK);
    assert_float_equal(res.clv, 87.5, 1e-12);
    in = example;
    in.purchases = 0;
    assert_int_equal(cv_simple_clv(&in, CV_SIMPLE_AOV, &res, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "purchases"));
    assert_int_equal(cv_simple_clv(&in, CV_SIMPLE_LITERAL, &res, &err), SL_OK);
    in = example;
    in.discount_rate = -1.0;
    assert_int_equal(cv_simple_clv(&in, CV_SIMPLE_AOV, &res, &err), SL_INVALID_ARGUMENT);
    in = example;
    in.customers = 0;
    assert_int_equal(cv_simple_clv(&in, CV_SIMPLE_AOV, &res, &err), SL_INVALID_ARGUMENT);
    in = example;
    in.referral_value = NAN;
    assert_int_equal(cv_simple_clv(&in, CV_SIMPLE_AOV, &res, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(cv_simple_clv(&example, (cv_simple_variant)7, &res, &err),
                     SL_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_aov_variant),
        cmocka_unit_test(test_literal_variant_counts_frequency_twice),
        cmocka_unit_test(test_referral_and_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
