/* cv_model: BG/NBD and Gamma-Gamma likelihoods against hand-computed
 * values, predictions against the paper and against the plain 2F1 formula,
 * the discounted CLV, and input checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "cv_model.h"
#include "cv_special.h"

static void assert_close(double got, double want, double rel)
{
    double tol = rel * fmax(1.0, fabs(want));
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.17g, want %.17g (tolerance %.3g)", got, want, tol);
}

/* CDNOW's published BG/NBD estimates (Fader, Hardie & Lee 2005). */
static const cv_bgnbd_params cdnow = {0.243, 4.414, 0.793, 2.426};

static void test_bgnbd_loglik_by_hand(void **state)
{
    (void)state;
    cv_bgnbd_params ones = {1, 1, 1, 1};
    /* x = 0, T = 2: B(1,1)/B(1,1) * Gamma(1) 1^1 / (Gamma(1) (1+2)^1) = 1/3 */
    assert_close(cv_bgnbd_loglik_one(&ones, 0, 0.0, 2.0), -log(3.0), 1e-15);
    /* x = 1, t_x = 1, T = 2: B(1,2)/B(1,1) * 1/3^2 + B(2,1)/B(1,1) * 1/2^2
     * = 1/18 + 1/8 = 13/72 */
    assert_close(cv_bgnbd_loglik_one(&ones, 1, 1.0, 2.0), log(13.0 / 72.0), 1e-15);
    /* x = 2, t_x = 1, T = 3, r = 2, alpha = 1, a = 2, b = 3:
     * A = Gamma(4) / Gamma(2) * 1 = 6;
     * B(2, 5) / B(2, 3) = (1/30) / (1/12) = 0.4; 1 / (1 + 3)^4 = 1/256;
     * B(3, 4) / B(2, 3) = (1/60) / (1/12) = 0.2; 1 / (1 + 1)^4 = 1/16;
     * L = 6 (0.4/256 + 0.2/16) = 0.084375 */
    cv_bgnbd_params m = {2, 1, 2, 3};
    assert_close(cv_bgnbd_loglik_one(&m, 2, 1.0, 3.0), log(0.084375), 1e-14);

    cv_summary rows[] = {{0, 0.0, 2.0, 0.0}, {1, 1.0, 2.0, 5.0}};
    double ll;
    sl_err err;
    assert_int_equal(cv_bgnbd_loglik(&ones, rows, 2, &ll, &err), SL_OK);
    assert_close(ll, -log(3.0) + log(13.0 / 72.0), 1e-15);
}

static void test_bgnbd_p_alive(void **state)
{
    (void)state;
    assert_close(cv_bgnbd_p_alive(&cdnow, 0, 0.0, 30.0), 1.0, 0.0);
    /* 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) */
    double x = 2, tx = 30.43, T = 38.86;
    double want = 1.0 / (1.0 + cdnow.a / (cdnow.b + x - 1) *
                                   pow((cdnow.alpha + T) / (cdnow.alpha + tx), cdnow.r + x));
    assert_close(cv_bgnbd_p_alive(&cdnow, 2, tx, T), want, 1e-14);
    /* Someone who bought at the very end is alive with probability
     * 1 / (1 + a / (b + x - 1)). */
    assert_close(cv_bgnbd_p_alive(&cdnow, 3, 20.0, 20.0), 1.0 / (1.0 + cdnow.a / (cdnow.b + 2)),
                 1e-14);
}

/* Equation (10) written with the generic 2F1, as lifetimes does. */
static double conditional_plain(const cv_bgnbd_params *m, double x, double tx, double T, double t)
{
    double z = t / (m->alpha + T + t), l;
    int sign;
    assert_int_equal(cv_log_hyp2f1(m->r + x, m->b + x, m->a + m->b + x - 1, z, &l, &sign, NULL),
                     SL_OK);
    double num = (m->a + m->b + x - 1) / (m->a - 1) *
                 (1 - sign * exp(l + (m->r + x) * log((m->alpha + T) / (m->alpha + T + t))));
    double den =
        1 + (x > 0) * m->a / (m->b + x - 1) * pow((m->alpha + T) / (m->alpha + tx), m->r + x);
    return num / den;
}

static void test_bgnbd_conditional_expectation(void **state)
{
    (void)state;
    double e;
    sl_err err;
    /* The paper's worked example (customer 1 of the CDNOW sample): 1.226
     * expected purchases in the 39 weeks after T. */
    assert_int_equal(cv_bgnbd_conditional_expected(&cdnow, 2, 30.43, 38.86, 39.0, &e, &err), SL_OK);
    assert_float_equal(e, 1.226, 0.0005);

    static const struct {
        uint32_t x;
        double tx, T, t;
    } cases[] = {
        {0, 0, 38.86, 39}, {1, 1.71, 38.86, 39}, {7, 29.43, 35.71, 52}, {50, 31.0, 32.0, 10},
        {3, 5, 30, 500},   {0, 0, 0, 1},         {200, 77.0, 78.0, 78},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(cv_bgnbd_conditional_expected(&cdnow, cases[i].x, cases[i].tx, cases[i].T,
                                                       cases[i].t, &e, &err),
                         SL_OK);
        assert_close(e, conditional_plain(&cdnow, cases[i].x, cases[i].tx, cases[i].T, cases[i].t),
                     1e-10);
    }
    /* The unconditional E[X(t)] is the x = 0, T = 0 case: equation (7). */
    double u;
    assert_int_equal(cv_bgnbd_expected(&cdnow, 39.0, &u, &err), SL_OK);
    assert_close(u, conditional_plain(&cdnow, 0, 0, 0, 39.0), 1e-12);
    /* a = 1 is a removable singularity of the plain formula; the summed form
     * is continuous through it. */
    cv_bgnbd_params below = {0.5, 5.0, 1.0 - 1e-7, 2.0}, at = {0.5, 5.0, 1.0, 2.0},
                    above = {0.5, 5.0, 1.0 + 1e-7, 2.0};
    double eb, ea, ec;
    assert_int_equal(cv_bgnbd_conditional_expected(&below, 2, 10, 20, 30, &eb, &err), SL_OK);
    assert_int_equal(cv_bgnbd_conditional_expected(&at, 2, 10, 20, 30, &ea, &err), SL_OK);
    assert_int_equal(cv_bgnbd_conditional_expected(&above, 2, 10, 20, 30, &ec, &err), SL_OK);
    assert_true(isfinite(ea) && ea > 0.0);
    assert_close(eb, ea, 1e-6);
    assert_close(ec, ea, 1e-6);
    /* Monotone in the horizon, 0 at t = 0. */
    double e1, e2;
    cv_bgnbd_conditional_expected(&cdnow, 2, 30.43, 38.86, 0.0, &e1, &err);
    assert_close(e1, 0.0, 0.0);
    cv_bgnbd_conditional_expected(&cdnow, 2, 30.43, 38.86, 10.0, &e1, &err);
    cv_bgnbd_conditional_expected(&cdnow, 2, 30.43, 38.86, 20.0, &e2, &err);
    assert_true(0.0 < e1 && e1 < e2);
}

static void test_bgnbd_bad_input(void **state)
{
    (void)state;
    double e;
    sl_err err;
    cv_bgnbd_params bad = {0.243, -1.0, 0.793, 2.426};
    assert_int_equal(cv_bgnbd_conditional_expected(&bad, 1, 1, 2, 3, &e, &err),
                     SL_INVALID_ARGUMENT);
    assert_int_equal(cv_bgnbd_conditional_expected(&cdnow, 1, 3, 2, 3, &e, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "t_x"));
    assert_int_equal(cv_bgnbd_conditional_expected(&cdnow, 1, 1, 2, -3, &e, &err),
                     SL_INVALID_ARGUMENT);
    cv_summary rows[] = {{0, 0.0, 2.0, 0.0}, {1, 3.0, 2.0, 1.0}};
    double ll;
    assert_int_equal(cv_bgnbd_loglik(&cdnow, rows, 2, &ll, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "customer 1"));
    cv_bgnbd_params out;
    assert_int_equal(cv_bgnbd_fit(rows, 0, NULL, &out, NULL, &err), SL_FAILED_PRECONDITION);
    assert_int_equal(cv_bgnbd_fit(rows, 2, NULL, &out, NULL, &err), SL_INVALID_ARGUMENT);
    cv_summary x0_with_tx = {0, 1.0, 2.0, 0.0};
    assert_int_equal(cv_summary_check(&x0_with_tx, &err), SL_INVALID_ARGUMENT);
}

static void test_gg_by_hand(void **state)
{
    (void)state;
    cv_gg_params ones = {1, 1, 1};
    /* x = 1, z = 1: Gamma(2)/(Gamma(1) Gamma(1)) 1^1 1^0 1^1 / (1 + 1)^2 = 1/4 */
    assert_close(cv_gg_loglik_one(&ones, 1, 1.0), -log(4.0), 1e-15);
    /* p = 2, q = 1, gamma = 1, x = 2, z = 3:
     * Gamma(5)/(Gamma(4) Gamma(1)) 1 3^3 2^4 / 7^5 = 4 * 27 * 16 / 16807 */
    cv_gg_params m = {2, 1, 1};
    assert_close(cv_gg_loglik_one(&m, 2, 3.0), log(1728.0 / 16807.0), 1e-14);

    cv_summary rows[] = {{0, 0, 5, 0}, {1, 1, 5, 1.0}, {2, 2, 5, 3.0}};
    double ll;
    size_t used;
    sl_err err;
    assert_int_equal(cv_gg_loglik(&m, rows, 3, &ll, &used, &err), SL_OK);
    assert_int_equal(used, 2);
    assert_close(ll, cv_gg_loglik_one(&m, 1, 1.0) + log(1728.0 / 16807.0), 1e-14);
}

static void test_gg_expected_value(void **state)
{
    (void)state;
    cv_gg_params m = {6.25, 3.74, 15.44};
    double v, pop = 6.25 * 15.44 / 2.74;
    sl_err err;
    assert_int_equal(cv_gg_expected_value(&m, 0, 0.0, &v, &err), SL_OK);
    assert_close(v, pop, 1e-14);
    /* A weighted mean of the population mean and the customer's own. */
    assert_int_equal(cv_gg_expected_value(&m, 2, 22.35, &v, &err), SL_OK);
    double w = 12.5 / (12.5 + 2.74);
    assert_close(v, w * 22.35 + (1 - w) * pop, 1e-14);
    cv_gg_params heavy = {1, 0.9, 1};
    assert_int_equal(cv_gg_expected_value(&heavy, 1, 5.0, &v, &err), SL_FAILED_PRECONDITION);
    cv_summary rows[] = {{1, 1, 5, 2.0}, {0, 0, 5, 0}};
    cv_gg_params out;
    assert_int_equal(cv_gg_fit(rows, 2, NULL, &out, NULL, &err), SL_FAILED_PRECONDITION);
}

static void test_clv_discounted(void **state)
{
    (void)state;
    cv_summary s = {2, 30.43, 38.86, 22.35};
    sl_err err;
    double clv, e;
    /* Undiscounted, the increments telescope to E[Y(periods * step)]. */
    cv_clv_horizon flat = {1.0, 52, 0.0};
    assert_int_equal(cv_clv_discounted(&cdnow, &s, 10.0, &flat, &clv, &err), SL_OK);
    assert_int_equal(cv_bgnbd_conditional_expected(&cdnow, 2, 30.43, 38.86, 52.0, &e, &err), SL_OK);
    assert_close(clv, 10.0 * e, 1e-12);
    /* Discounting lowers it; one period is discounted once. */
    cv_clv_horizon disc = {1.0, 52, 0.01};
    double clv_d;
    assert_int_equal(cv_clv_discounted(&cdnow, &s, 10.0, &disc, &clv_d, &err), SL_OK);
    assert_true(clv_d < clv && clv_d > clv / pow(1.01, 52));
    cv_clv_horizon one = {13.0, 1, 0.05};
    assert_int_equal(cv_clv_discounted(&cdnow, &s, 10.0, &one, &clv_d, &err), SL_OK);
    assert_int_equal(cv_bgnbd_conditional_expected(&cdnow, 2, 30.43, 38.86, 13.0, &e, &err), SL_OK);
    assert_close(clv_d, 10.0 * e / 1.05, 1e-12);
    cv_clv_horizon bad = {0.0, 12, 0.01};
    assert_int_equal(cv_clv_discounted(&cdnow, &s, 10.0, &bad, &clv, &err), SL_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bgnbd_loglik_by_hand),
        cmocka_unit_test(test_bgnbd_p_alive),
        cmocka_unit_test(test_bgnbd_conditional_expectation),
        cmocka_unit_test(test_bgnbd_bad_input),
        cmocka_unit_test(test_gg_by_hand),
        cmocka_unit_test(test_gg_expected_value),
        cmocka_unit_test(test_clv_discounted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
