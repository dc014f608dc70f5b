/* fc_stats and fc_optim: the engine's numerical helpers against known
 * values (R's qnorm, closed-form least squares, a decomposition of an exact
 * seasonal pattern, a quadratic minimum). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "fc_optim.h"
#include "fc_stats.h"

static void test_qnorm(void **state)
{
    (void)state;
    /* R: qnorm(c(0.975, 0.9, 0.5, 0.001, 1e-10)) */
    assert_true(fabs(fc__qnorm(0.975) - 1.959963984540054) < 1e-14);
    assert_true(fabs(fc__qnorm(0.9) - 1.2815515655446004) < 1e-14);
    assert_true(fabs(fc__qnorm(0.5)) < 1e-15);
    assert_true(fabs(fc__qnorm(0.001) + 3.090232306167813) < 1e-12);
    assert_true(fabs(fc__qnorm(1e-10) + 6.361340902404056) < 1e-10);
}

static void test_rng_deterministic(void **state)
{
    (void)state;
    fc__rng a, b;
    fc__rng_seed(&a, 42);
    fc__rng_seed(&b, 42);
    double s = 0, ss = 0;
    for (int i = 0; i < 20000; i++) {
        double x = fc__rng_norm(&a);
        assert_true(x == fc__rng_norm(&b));
        s += x;
        ss += x * x;
    }
    assert_true(fabs(s / 20000) < 0.03);
    assert_true(fabs(ss / 20000 - 1) < 0.05);
    double u = fc__rng_unif(&a);
    assert_true(u >= 0 && u < 1);
}

static void test_line_and_fill(void **state)
{
    (void)state;
    double y[] = {3, NAN, 7, 9, NAN, 13};
    double a, b;
    assert_int_equal(fc__line(y, 6, &a, &b), 4);
    assert_true(fabs(a - 3) < 1e-12 && fabs(b - 2) < 1e-12);
    double f[6];
    assert_int_equal(fc__fill(y, 6, f), 0);
    assert_true(fabs(f[1] - 5) < 1e-12 && fabs(f[4] - 11) < 1e-12);
    double g[] = {NAN, 4, NAN};
    assert_int_equal(fc__fill(g, 3, f), 0);
    assert_true(f[0] == 4 && f[2] == 4);
    double none[] = {NAN, NAN};
    assert_int_equal(fc__fill(none, 2, f), -1);
}

static void test_decompose_exact_pattern(void **state)
{
    (void)state;
    /* level 100, indices 0.8 1.0 1.2 1.0: classical decomposition must
     * recover them exactly (the centred moving average of a pure seasonal
     * pattern is the level) */
    double idx_true[] = {0.8, 1.0, 1.2, 1.0};
    double x[24], idx[4];
    for (int t = 0; t < 24; t++)
        x[t] = 100 * idx_true[t % 4];
    assert_int_equal(fc__decompose(x, 24, 4, 1, idx), 0);
    for (int j = 0; j < 4; j++)
        assert_true(fabs(idx[j] - idx_true[j]) < 1e-12);
    assert_int_equal(fc__decompose(x, 24, 4, 0, idx), 0);
    assert_true(fabs(idx[0] + 20) < 1e-9 && fabs(idx[2] - 20) < 1e-9);
    assert_int_equal(fc__decompose(x, 7, 4, 1, idx), -1);
    assert_true(fc__seasonal_test(x, 24, 4));
    double flat[24];
    for (int t = 0; t < 24; t++)
        flat[t] = 5;
    assert_false(fc__seasonal_test(flat, 24, 4));
}

static void test_quantile(void **state)
{
    (void)state;
    double v[] = {4, 1, 3, 2, 5};
    fc__sort(v, 5);
    assert_true(v[0] == 1 && v[4] == 5);
    /* R: quantile(1:5, c(0.1, 0.5, 0.975)) = 1.4 3 4.9 */
    assert_true(fabs(fc__quantile_sorted(v, 5, 0.1) - 1.4) < 1e-12);
    assert_true(fabs(fc__quantile_sorted(v, 5, 0.5) - 3) < 1e-12);
    assert_true(fabs(fc__quantile_sorted(v, 5, 0.975) - 4.9) < 1e-12);
}

static double quad(const double *x, void *ctx)
{
    (void)ctx;
    return (x[0] - 1) * (x[0] - 1) + 10 * (x[1] + 2) * (x[1] + 2) + 3;
}

static void test_nelder_mead(void **state)
{
    (void)state;
    double x[2] = {5, 5}, step[2] = {1, 1};
    int evals;
    double f = fc__nelder_mead(quad, NULL, x, step, 2, 1000, 1e-12, &evals);
    assert_true(fabs(f - 3) < 1e-8);
    assert_true(fabs(x[0] - 1) < 1e-3 && fabs(x[1] + 2) < 1e-3);
    assert_true(evals <= 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qnorm),         cmocka_unit_test(test_rng_deterministic),
        cmocka_unit_test(test_line_and_fill), cmocka_unit_test(test_decompose_exact_pattern),
        cmocka_unit_test(test_quantile),      cmocka_unit_test(test_nelder_mead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
