/* fc_arima against R's forecast package on the benchmark's 30 real series
 * (training parts, the bench's splits): the KPSS statistic, the numbers
 * of differences, CSS coefficients and forecasts for auto.arima's orders,
 * and the orders the stepwise search picks.  The R figures are fixtures
 * (fc_arima_ref.h, written by tests/bench/arima_reference.R): no R at test
 * time.  Each test prints its comparison, so a regression shows where. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fc_arima.h"
#include "fc_engine.h"
#include "fc_arima_ref.h"

#define N_REFS (sizeof fc_arima_refs / sizeof fc_arima_refs[0])
#define H 14
/* Largest difference from auto.arima's exact-likelihood coefficients (the
 * constant: relative) for the same orders. */
#define COEF_TOL_ML 0.01

static fc__opts opts(fc__rng *rng)
{
    fc__rng_seed(rng, 1);
    fc__opts o = {0, 40, 1e-5, rng};
    return o;
}

static fc__arima spec_of(const int *o)
{
    fc__arima a;
    memset(&a, 0, sizeof a);
    a.p = o[0];
    a.d = o[1];
    a.q = o[2];
    a.P = o[3];
    a.D = o[4];
    a.Q = o[5];
    a.constant = o[6];
    return a;
}

static int coefs_of(const fc__arima *a, double *v)
{
    int k = 0;
    for (int i = 0; i < a->p; i++)
        v[k++] = a->ar[i];
    for (int i = 0; i < a->q; i++)
        v[k++] = a->ma[i];
    for (int i = 0; i < a->P; i++)
        v[k++] = a->sar[i];
    for (int i = 0; i < a->Q; i++)
        v[k++] = a->sma[i];
    if (a->constant)
        v[k++] = a->c;
    return k;
}

static int same_orders(const int *a, const fc__arima *b)
{
    return a[0] == b->p && a[1] == b->d && a[2] == b->q && a[3] == b->P && a[4] == b->D &&
           a[5] == b->Q && a[6] == b->constant;
}

static void test_kpss_matches_urca(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_REFS; i++) {
        const fc_arima_ref *r = &fc_arima_refs[i];
        int lags = (int)(3.0 * sqrt((double)r->n) / 13.0);
        double k = fc__kpss_stat(r->y, (size_t)r->n, lags);
        assert_true(fabs(k - r->kpss) <= 1e-6 * fabs(r->kpss) + 1e-9);
    }
}

static void test_differences_as_auto_arima_takes_them(void **state)
{
    (void)state;
    size_t same_D = 0;
    double *buf = malloc(2000 * sizeof *buf);
    assert_non_null(buf);
    for (size_t i = 0; i < N_REFS; i++) {
        const fc_arima_ref *r = &fc_arima_refs[i];
        int D = 0;
        if (r->m > 1 && r->n > 2 * r->m) {
            double fs = fc__seasonal_strength(r->y, (size_t)r->n, r->m);
            D = fs > 0.64;
            printf("  %-22s seasonal strength %.3f: D %d (R %d)\n", r->name, fs, D, r->nsdiffs);
        }
        same_D += D == r->nsdiffs;
        /* ndiffs on the series with R's seasonal differences: exact */
        size_t n = (size_t)r->n;
        memcpy(buf, r->y, n * sizeof *buf);
        if (r->nsdiffs) {
            for (size_t t = 0; t + (size_t)r->m < n; t++)
                buf[t] = buf[t + (size_t)r->m] - buf[t];
            n -= (size_t)r->m;
        }
        assert_int_equal(fc__arima_ndiffs(buf, n, 2), r->ndiffs);
    }
    free(buf);
    printf("  seasonal differences as nsdiffs: %zu of %zu series\n", same_D, N_REFS);
    /* A moving-average trend and STL-like seasonal smoothing instead of
     * STL itself: the same decision on all 30 when written (gas, UKgas,
     * JohnsonJohnson and woolyrnq, whose seasons grow or drift, need the
     * smoothing across cycles: a fixed profile leaves them at 0.38-0.61). */
    assert_true(same_D == N_REFS);
}

static void test_css_fit_matches_arima_css(void **state)
{
    (void)state;
    fc__rng rng;
    fc__opts o = opts(&rng);
    int failed = 0;
    for (size_t i = 0; i < N_REFS; i++) {
        const fc_arima_ref *r = &fc_arima_refs[i];
        fc__data d = {r->y, NULL, (size_t)r->n, r->m};
        fc__arima spec = spec_of(r->orders);
        fc__model md;
        int rc = fc__arima_fit(&d, &spec, 0, &o, &md);
        double v[16];
        int k = rc == 0 ? coefs_of(&md.ar, v) : 0;
        double worst = 0, fworst = 0, hworst = 0;
        for (int j = 0; j < k; j++) {
            double den = j == k - 1 && spec.constant ? fabs(r->coef[j]) + 1e-9 : 1.0;
            double e = fabs(v[j] - r->coef[j]) / den;
            worst = e > worst ? e : worst;
        }
        double mean[H], psi[H], scale[H];
        fc__pred p = {H, mean, psi, scale, 0, NULL, 0, 0};
        if (rc == 0)
            fc__arima_predict(&md, &d, &p);
        for (int j = 0; rc == 0 && j < H; j++) {
            double sd = sqrt(r->sigma2);
            double e = fabs(mean[j] - r->mean[j]) / sd;
            fworst = e > fworst ? e : fworst;
            double hi = mean[j] + 1.959964 * fc__pred_sd(&p, (size_t)j);
            double eh =
                fabs((hi - mean[j]) - (r->hi95[j] - r->mean[j])) / (r->hi95[j] - r->mean[j]);
            hworst = eh > hworst ? eh : hworst;
        }
        printf("  %-22s rc %d coef max err %.4f sigma2 %.4g vs %.4g mean err %.3f sd, width "
               "err %.3f\n",
               r->name, rc, worst, rc == 0 ? md.sigma2 : NAN, r->sigma2, fworst, hworst);
        if (rc != 0) {
            failed++;
            continue;
        }
        /* Coefficients to 0.01 (the constant to 1%), sigma2 to 0.1%: the
         * same optimum as R's BFGS. */
        assert_true(worst < 0.01);
        /* forecast::Arima reports sum e^2 / (nstar - npar + 1), as we do */
        assert_true(fabs(md.sigma2 - r->sigma2) <= 1e-3 * r->sigma2);
        /* Forecasts within a quarter of a residual standard deviation of
         * R's (which start from the Kalman filter's final state rather
         * than the CSS residuals), interval widths to 1% */
        assert_true(fworst < 0.25);
        assert_true(hworst < 0.01);
    }
    printf("  %d of %zu fits rejected\n", failed, N_REFS);
    /* nino3: R's CSS fit of (2,0,2)(1,1,0) has a root within 1.01 of the
     * unit circle, which auto.arima's check (ours) rejects. */
    assert_true(failed <= 1);
}

static void test_stepwise_orders_match_auto_arima(void **state)
{
    (void)state;
    fc__rng rng;
    fc__opts o = opts(&rng);
    size_t same = 0, same_css = 0;
    for (size_t i = 0; i < N_REFS; i++) {
        const fc_arima_ref *r = &fc_arima_refs[i];
        fc__data d = {r->y, NULL, (size_t)r->n, r->m};
        fc__model md;
        clock_t c0 = clock();
        assert_int_equal(fc__arima_auto(&d, &o, 1, FC__ARIMA_EXACT, &md), 0);
        double ms = 1000.0 * (double)(clock() - c0) / CLOCKS_PER_SEC;
        char name[64];
        fc__arima_name(&md, name, sizeof name);
        int s1 = same_orders(r->orders, &md.ar), s2 = same_orders(r->orders_css, &md.ar);
        same += s1;
        same_css += s2;
        if (s1) {
            /* the same model: coefficients close to auto.arima's exact
             * fit (its BFGS and our simplex, its diffuse start and our
             * differenced series) */
            double v[16], worst = 0;
            int k = coefs_of(&md.ar, v);
            for (int j = 0; j < k; j++) {
                int cst = j == k - 1 && md.ar.constant;
                double den = cst ? fabs(r->coef_ml[j]) + 1e-9 : 1.0;
                double e = fabs(v[j] - r->coef_ml[j]) / den;
                worst = e > worst ? e : worst;
            }
            printf("  %-22s coefficients vs auto.arima: max error %.4f\n", r->name, worst);
            assert_true(worst < COEF_TOL_ML);
        }
        printf("  %-22s %-40s %7.1f ms %s %s\n", r->name, name, ms, s1 ? "= auto.arima" : "",
               s2 ? "= approximation" : "");
    }
    printf("  orders as auto.arima(): %zu of %zu; as auto.arima(approximation = TRUE): %zu\n", same,
           N_REFS, same_css);
    /* 23 of 30 when written; the others are searches that part where R's
     * BFGS and our simplex land on slightly different criteria, or where
     * R's exact refit goes further down its list than ours (REFIT_MAX). */
    assert_true(same >= 23);
}

static void test_exact_likelihood_recovers_an_ar1(void **state)
{
    (void)state;
    /* y_t = 10 + 0.6 (y_{t-1} - 10) + e_t, 400 values, e ~ N(0, 1) */
    fc__rng rng;
    fc__opts o = opts(&rng);
    double y[400], prev = 0;
    for (int t = 0; t < 400; t++) {
        prev = 0.6 * prev + fc__rng_norm(&rng);
        y[t] = 10 + prev;
    }
    fc__data d = {y, NULL, 400, 1};
    fc__arima spec = spec_of((const int[7]){1, 0, 0, 0, 0, 0, 1});
    fc__model css, ml;
    assert_int_equal(fc__arima_fit(&d, &spec, 0, &o, &css), 0);
    assert_int_equal(fc__arima_fit(&d, &spec, FC__ARIMA_EXACT, &o, &ml), 0);
    assert_true(fabs(ml.ar.ar[0] - 0.6) < 0.08);
    assert_true(fabs(ml.ar.c - 10) < 0.3);
    assert_true(fabs(ml.sigma2 - 1) < 0.2);
    /* on 400 values the two estimates agree closely */
    assert_true(fabs(ml.ar.ar[0] - css.ar.ar[0]) < 0.01);
    /* forecasts decay to the mean; the band widens towards the AR(1)'s
     * marginal spread sigma / sqrt(1 - phi^2) */
    double mean[40], psi[40], scale[40];
    fc__pred p = {40, mean, psi, scale, 0, NULL, 0, 0};
    fc__arima_predict(&ml, &d, &p);
    assert_true(fabs(mean[39] - ml.ar.c) < 1e-3);
    double phi = ml.ar.ar[0];
    assert_true(fabs(fc__pred_sd(&p, 39) - sqrt(ml.sigma2 / (1 - phi * phi))) < 1e-6);
}

static void test_root_near_the_unit_circle_is_rejected(void **state)
{
    (void)state;
    /* a random walk fitted as a stationary AR(1): phi lands next to 1,
     * which auto.arima (and fc__arima_fit) reject */
    fc__rng rng;
    fc__opts o = opts(&rng);
    double y[300], lvl = 100;
    for (int t = 0; t < 300; t++) {
        lvl += fc__rng_norm(&rng);
        y[t] = lvl;
    }
    fc__data d = {y, NULL, 300, 1};
    fc__arima spec = spec_of((const int[7]){1, 0, 0, 0, 0, 0, 0});
    fc__model md;
    assert_int_equal(fc__arima_fit(&d, &spec, 0, &o, &md), -1);
    /* KPSS sends it to one difference, where the fit is fine */
    assert_int_equal(fc__arima_ndiffs(y, 300, 2), 1);
    assert_int_equal(fc__arima_auto(&d, &o, 0, FC__ARIMA_EXACT, &md), 0);
    assert_int_equal(md.ar.d, 1);
}

static void test_method_arima_through_the_engine(void **state)
{
    (void)state;
    const fc_arima_ref *air = &fc_arima_refs[0];
    assert_string_equal(air->name, "AirPassengers");
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.method = FC_METHOD_ARIMA;
    cfg.period = 12;
    cfg.horizon = 18;
    fc_series s = {air->y, (size_t)air->n, NULL, NULL};
    fc_forecast *f = NULL;
    sl_err err;
    assert_int_equal(fc_forecast_run(&s, &cfg, &f, &err), SL_OK);
    fc_info in;
    fc_forecast_info(f, &in);
    assert_int_equal(in.method, FC_METHOD_ARIMA);
    assert_string_equal(in.model, "ARIMA(1,1,0)(0,1,0)[12]");
    assert_true(in.backtest_origins > 0 && in.backtest_mase > 0);
    const double *pt = fc_forecast_points(f);
    for (size_t j = 0; j < 14; j++) {
        /* R's CSS forecast of the same orders, to a quarter of a sd */
        assert_true(fabs(pt[j] - air->mean[j]) < 0.25 * sqrt(air->sigma2));
        assert_true(fc_forecast_lower(f, 1)[j] <= fc_forecast_lower(f, 0)[j]);
        assert_true(fc_forecast_lower(f, 0)[j] <= pt[j]);
        assert_true(pt[j] <= fc_forecast_upper(f, 0)[j]);
        assert_true(fc_forecast_upper(f, 0)[j] <= fc_forecast_upper(f, 1)[j]);
    }
    fc_forecast_free(f);

    /* Missing and stocked-out days: no NaN anywhere. */
    double y[126];
    uint8_t flags[126] = {0};
    memcpy(y, air->y, sizeof y);
    for (int t = 5; t < 126; t += 11)
        y[t] = NAN;
    for (int t = 8; t < 126; t += 13) {
        flags[t] = FC_DAY_STOCKOUT;
        y[t] *= 0.5;
    }
    fc_series s2 = {y, 126, flags, NULL};
    assert_int_equal(fc_forecast_run(&s2, &cfg, &f, &err), SL_OK);
    fc_forecast_info(f, &in);
    assert_non_null(strstr(in.model, "ARIMA("));
    for (size_t j = 0; j < 18; j++)
        assert_true(isfinite(fc_forecast_points(f)[j]) && isfinite(fc_forecast_upper(f, 1)[j]) &&
                    isfinite(fc_forecast_lower(f, 1)[j]));
    fc_forecast_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kpss_matches_urca),
        cmocka_unit_test(test_differences_as_auto_arima_takes_them),
        cmocka_unit_test(test_css_fit_matches_arima_css),
        cmocka_unit_test(test_stepwise_orders_match_auto_arima),
        cmocka_unit_test(test_exact_likelihood_recovers_an_ar1),
        cmocka_unit_test(test_root_near_the_unit_circle_is_rejected),
        cmocka_unit_test(test_method_arima_through_the_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
