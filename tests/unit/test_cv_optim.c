/* cv_optim: BFGS on functions with known minima. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "cv_optim.h"

static double rosenbrock(const double *x, double *g, void *ctx)
{
    (void)ctx;
    double a = 1.0 - x[0], b = x[1] - x[0] * x[0];
    g[0] = -2.0 * a - 400.0 * x[0] * b;
    g[1] = 200.0 * b;
    return a * a + 100.0 * b * b;
}

/* An ill-conditioned quadratic in 4 dimensions with minimum at (1,2,3,4). */
static double quadratic(const double *x, double *g, void *ctx)
{
    (void)ctx;
    static const double scale[4] = {1.0, 100.0, 1e-2, 1e4};
    double f = 0.0;
    for (int i = 0; i < 4; i++) {
        double d = x[i] - (i + 1);
        f += 0.5 * scale[i] * d * d;
        g[i] = scale[i] * d;
    }
    return f;
}

/* Undefined for x < 0: the line search must step back, not stop. */
static double log_barrier(const double *x, double *g, void *ctx)
{
    (void)ctx;
    if (x[0] <= 0.0)
        return NAN;
    g[0] = 1.0 - 1.0 / x[0];
    return x[0] - log(x[0]);
}

static void test_rosenbrock(void **state)
{
    (void)state;
    double x[2] = {-1.2, 1.0};
    cv_optim_result res;
    assert_int_equal(cv_optim_bfgs(rosenbrock, NULL, 2, x, 500, 1e-10, &res, NULL), SL_OK);
    assert_true(res.converged);
    assert_float_equal(x[0], 1.0, 1e-8);
    assert_float_equal(x[1], 1.0, 1e-8);
    assert_true(res.iterations < 100);
}

static void test_quadratic_and_barrier(void **state)
{
    (void)state;
    double x[4] = {0, 0, 0, 0};
    cv_optim_result res;
    assert_int_equal(cv_optim_bfgs(quadratic, NULL, 4, x, 500, 1e-9, &res, NULL), SL_OK);
    assert_true(res.converged);
    for (int i = 0; i < 4; i++)
        assert_float_equal(x[i], i + 1.0, 1e-6);
    double y[1] = {40.0};
    assert_int_equal(cv_optim_bfgs(log_barrier, NULL, 1, y, 200, 1e-10, &res, NULL), SL_OK);
    assert_true(res.converged);
    assert_float_equal(y[0], 1.0, 1e-8);
}

static void test_rejects(void **state)
{
    (void)state;
    double x[1] = {-1.0};
    cv_optim_result res;
    sl_err err;
    assert_int_equal(cv_optim_bfgs(log_barrier, NULL, 1, x, 10, 1e-8, &res, &err),
                     SL_INVALID_ARGUMENT);
    assert_int_equal(cv_optim_bfgs(log_barrier, NULL, 0, x, 10, 1e-8, &res, &err),
                     SL_INVALID_ARGUMENT);
    /* max_iter reached: the best point so far, not converged. */
    double y[2] = {-1.2, 1.0};
    assert_int_equal(cv_optim_bfgs(rosenbrock, NULL, 2, y, 3, 1e-12, &res, &err), SL_OK);
    assert_false(res.converged);
    assert_int_equal(res.iterations, 3);
    assert_true(res.f < 24.2); /* f(-1.2, 1) = 24.2 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rosenbrock),
        cmocka_unit_test(test_quadratic_and_barrier),
        cmocka_unit_test(test_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
