/* fc_accuracy, fc_forecast_override and fc_valid_period: scoring issued
 * forecasts and overrides against hand-computed figures, a planner's
 * figure in the engine's forecast, and the override period's checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "fc_accuracy.h"
#include "fc_engine.h"
#include "fc_valid.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) < (tol))

static void test_scale_is_the_weekly_naive_error(void **state)
{
    (void)state;
    /* Two weeks repeating exactly plus one day 3 off: one error of 3 over
     * 8 weekly differences. */
    double h[15] = {1, 2, 3, 4, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7, 4};
    NEAR(fc_accuracy_scale(h, 15, 7), 3.0 / 8.0, 1e-12);
    /* Shorter than two weeks: the one-day naive error instead. */
    double s[4] = {1, 3, 2, 2};
    NEAR(fc_accuracy_scale(s, 4, 7), (2.0 + 1.0 + 0.0) / 3.0, 1e-12);
    /* A constant series has no scale; unknown days are skipped. */
    double c[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    assert_true(isnan(fc_accuracy_scale(c, 10, 7)));
    double m[4] = {1, NAN, 3, 4};
    NEAR(fc_accuracy_scale(m, 4, 7), 1.0, 1e-12);
}

static void test_overrides_that_help_add_value(void **state)
{
    (void)state;
    /* Four days: two plain (statistical 10, actual 12 and 8), two
     * overridden to 20 where 18 and 30 sold against a model's 10. */
    fc_acc_day d[] = {
        {12, 10, 10, false, 2.0},
        {8, 10, 10, false, 2.0},
        {18, 10, 20, true, 2.0},
        {30, 10, 20, true, 2.0},
    };
    fc_acc_report r;
    fc_accuracy_score(d, 4, &r);
    assert_int_equal(r.statistical.days, 4);
    NEAR(r.statistical.mae, (2 + 2 + 8 + 20) / 4.0, 1e-12);
    NEAR(r.statistical.bias, (-2 + 2 - 8 - 20) / 4.0, 1e-12);
    NEAR(r.statistical.mase, (2 + 2 + 8 + 20) / 4.0 / 2.0, 1e-12);
    assert_int_equal(r.statistical_ovr.days, 2);
    NEAR(r.statistical_ovr.mae, 14.0, 1e-12);
    NEAR(r.overridden.mae, (2 + 10) / 2.0, 1e-12);
    NEAR(r.overridden.bias, (2 - 10) / 2.0, 1e-12);
    NEAR(r.overridden.mase, 3.0, 1e-12);
    NEAR(r.fva, 100.0 * (14.0 - 6.0) / 14.0, 1e-9);
    assert_int_equal(r.helped, 2);
    assert_int_equal(r.hurt, 0);
}

static void test_overrides_that_hurt_subtract_value(void **state)
{
    (void)state;
    fc_acc_day d[] = {
        {10, 10, 25, true, NAN}, /* the model was right */
        {10, 9, 9, true, NAN},   /* a tie: neither */
    };
    fc_acc_report r;
    fc_accuracy_score(d, 2, &r);
    NEAR(r.fva, 100.0 * (1.0 - 16.0) / 1.0, 1e-9);
    assert_int_equal(r.helped, 0);
    assert_int_equal(r.hurt, 1);
    NEAR(r.statistical.mase, -1, 1e-12); /* no scale */
}

static void test_nothing_to_score(void **state)
{
    (void)state;
    fc_acc_report r;
    fc_accuracy_score(NULL, 0, &r);
    assert_int_equal(r.statistical.days, 0);
    NEAR(r.statistical.mase, -1, 1e-12);
    NEAR(r.fva, 0, 1e-12);
    fc_acc_day d[] = {{5, 4, 4, false, 1.0}};
    fc_accuracy_score(d, 1, &r);
    NEAR(r.fva, 0, 1e-12); /* no override */
    assert_int_equal(r.overridden.days, 0);
}

static fc_forecast *steady_forecast(void)
{
    double v[56];
    for (int i = 0; i < 56; i++)
        v[i] = 10 + (i * 7 % 5) - 2;
    fc_series s = {.values = v, .n = 56};
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    cfg.horizon = 14;
    cfg.method = FC_METHOD_SES;
    fc_forecast *f = NULL;
    sl_err err;
    assert_int_equal(fc_forecast_run(&s, &cfg, &f, &err), SL_OK);
    return f;
}

static void test_override_scales_the_day_and_its_bands(void **state)
{
    (void)state;
    fc_forecast *f = steady_forecast();
    const double *p = fc_forecast_points(f);
    double old = p[3], lo = fc_forecast_lower(f, 0)[3], hi = fc_forecast_upper(f, 0)[3];
    double sum_before, slo, shi;
    sl_err err;
    assert_int_equal(fc_forecast_sum(f, 0, 7, 95, &sum_before, &slo, &shi, &err), SL_OK);
    assert_int_equal(fc_forecast_override(f, 3, 3 * old, &err), SL_OK);
    NEAR(fc_forecast_points(f)[3], 3 * old, 1e-9);
    NEAR(fc_forecast_lower(f, 0)[3], 3 * lo, 1e-9);
    NEAR(fc_forecast_upper(f, 0)[3], 3 * hi, 1e-9);
    NEAR(fc_forecast_points(f)[4], p[4], 1e-12); /* other days untouched */
    double sum_after;
    assert_int_equal(fc_forecast_sum(f, 0, 7, 95, &sum_after, &slo, &shi, &err), SL_OK);
    NEAR(sum_after, sum_before + 2 * old, 1e-6);
    /* Refused: beyond the horizon, negative. */
    assert_int_equal(fc_forecast_override(f, 14, 1, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(fc_forecast_override(f, 2, -1, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(fc_forecast_override(f, 2, NAN, &err), SL_INVALID_ARGUMENT);
    /* Zero, then back up from zero: shifted, lower bound clamped. */
    assert_int_equal(fc_forecast_override(f, 5, 0, &err), SL_OK);
    NEAR(fc_forecast_points(f)[5], 0, 1e-12);
    assert_int_equal(fc_forecast_override(f, 5, 7, &err), SL_OK);
    NEAR(fc_forecast_points(f)[5], 7, 1e-12);
    assert_true(fc_forecast_lower(f, 0)[5] >= 0);
    assert_true(fc_forecast_upper(f, 0)[5] >= 7);
    fc_forecast_free(f);
}

static void test_period_names_the_field(void **state)
{
    (void)state;
    sl_err err;
    int32_t today = fc_day_from_civil(2026, 12, 6), from, to;
    assert_int_equal(
        fc_valid_period("period", "2026-12-06", "2026-12-12", today, 92, 364, &from, &to, &err),
        SL_OK);
    assert_int_equal(from, today);
    assert_int_equal(to, today + 6);
    assert_int_equal(
        fc_valid_period("period", "2026-12-05", "2026-12-12", today, 92, 364, &from, &to, &err),
        SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "period.start_day"));
    assert_int_equal(
        fc_valid_period("period", "2026-12-08", "2026-12-07", today, 92, 364, &from, &to, &err),
        SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "period.end_day"));
    assert_int_equal(
        fc_valid_period("period", "2026-12-08", "2027-03-10", today, 92, 364, &from, &to, &err),
        SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "period.end_day"));
    assert_int_equal(
        fc_valid_period("period", "2027-11-01", "2027-12-06", today, 92, 364, &from, &to, &err),
        SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "after today"));
    assert_int_equal(
        fc_valid_period("period", "2026-13-01", "2027-01-01", today, 92, 364, &from, &to, &err),
        SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "period.start_day"));
    assert_int_equal(fc_valid_text("reason", "", 500, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "reason"));
    assert_int_equal(fc_valid_text("reason", "promo", 500, &err), SL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale_is_the_weekly_naive_error),
        cmocka_unit_test(test_overrides_that_help_add_value),
        cmocka_unit_test(test_overrides_that_hurt_subtract_value),
        cmocka_unit_test(test_nothing_to_score),
        cmocka_unit_test(test_override_scales_the_day_and_its_bands),
        cmocka_unit_test(test_period_names_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
