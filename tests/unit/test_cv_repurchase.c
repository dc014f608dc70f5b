/* cv_repurchase: due dates from the product cycle and from the customer's
 * own pace, and the reminder window. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "cv_repurchase.h"

static void test_product_cycle(void **state)
{
    (void)state;
    /* Two purchases: not enough for a personal pace.  The last one (two
     * units on day 130, bought in two lines) lasts 2 x 30 days. */
    cv_repurchase_event ev[] = {{100, 1.0}, {130, 1.5}, {130, 0.5}};
    cv_repurchase_due d;
    sl_err err;
    assert_int_equal(cv_repurchase_schedule(ev, 3, 30.0, &d, &err), SL_OK);
    assert_int_equal(d.basis, CV_CYCLE_PRODUCT);
    assert_int_equal(d.last_day, 130);
    assert_int_equal(d.due_day, 190);
    assert_float_equal(d.days_per_unit, 30.0, 0.0);
}

static void test_customer_pace(void **state)
{
    (void)state;
    /* Out of order on purpose.  Gaps 20, 24, 20 days after 1, 2, 1 units:
     * paces 20, 12, 20 days per unit, median 20. */
    cv_repurchase_event ev[] = {{164, 1.0}, {100, 1.0}, {120, 2.0}, {144, 1.0}};
    cv_repurchase_due d;
    assert_int_equal(cv_repurchase_schedule(ev, 4, 30.0, &d, NULL), SL_OK);
    assert_int_equal(d.basis, CV_CYCLE_CUSTOMER);
    assert_float_equal(d.days_per_unit, 20.0, 1e-12);
    assert_int_equal(d.due_day, 184);
    /* A pace far off the product's is clamped to half or twice it. */
    cv_repurchase_event fast[] = {{0, 1.0}, {1, 1.0}, {2, 1.0}};
    assert_int_equal(cv_repurchase_schedule(fast, 3, 30.0, &d, NULL), SL_OK);
    assert_float_equal(d.days_per_unit, 15.0, 0.0);
    assert_int_equal(d.due_day, 17);
    cv_repurchase_event slow[] = {{0, 1.0}, {300, 1.0}, {600, 1.0}};
    assert_int_equal(cv_repurchase_schedule(slow, 3, 30.0, &d, NULL), SL_OK);
    assert_float_equal(d.days_per_unit, 60.0, 0.0);
}

static void test_window_and_errors(void **state)
{
    (void)state;
    cv_repurchase_due d = {100, 190, 30.0, CV_CYCLE_PRODUCT};
    assert_true(cv_repurchase_in_window(&d, 180, 14, 0));
    assert_true(cv_repurchase_in_window(&d, 190, 0, 0));
    assert_false(cv_repurchase_in_window(&d, 170, 14, 0));
    assert_false(cv_repurchase_in_window(&d, 195, 14, 0));
    assert_true(cv_repurchase_in_window(&d, 195, 14, 7));
    cv_repurchase_due out;
    sl_err err;
    assert_int_equal(cv_repurchase_schedule(NULL, 0, 30.0, &out, &err), SL_INVALID_ARGUMENT);
    cv_repurchase_event ev[] = {{1, 1.0}, {2, 0.0}};
    assert_int_equal(cv_repurchase_schedule(ev, 2, 30.0, &out, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "purchase 1"));
    assert_int_equal(cv_repurchase_schedule(ev, 1, 0.0, &out, &err), SL_INVALID_ARGUMENT);
    cv_repurchase_event huge[] = {{1, 1e9}};
    assert_int_equal(cv_repurchase_schedule(huge, 1, 30.0, &out, &err), SL_OK);
    assert_int_equal(out.due_day, 1 + 36500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_product_cycle),
        cmocka_unit_test(test_customer_pace),
        cmocka_unit_test(test_window_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
