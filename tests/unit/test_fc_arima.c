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

#include "fc_arima.h"
#include "fc_arima_ref.h"

#define N_REFS (sizeof fc_arima_refs / sizeof fc_arima_refs[0])
#define H 14

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
    /* A classical decomposition instead of STL: the same decision on all
     * but a few borderline series. */
    assert_true(same_D + 2 >= N_REFS);
}

static void test_css_fit_matches_arima_css(void **state)
{
    (void)state;
    fc__rng rng;
    fc__opts o = opts(&rng);
    for (size_t i = 0; i < N_REFS; i++) {
        const fc_arima_ref *r = &fc_arima_refs[i];
        fc__data d = {r->y, NULL, (size_t)r->n, r->m};
        fc__arima spec = spec_of(r->orders);
        fc__model md;
        int rc = fc__arima_fit(&d, &spec, &o, &md);
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
            double eh = fabs((hi - mean[j]) - (r->hi95[j] - r->mean[j])) / (r->hi95[j] - r->mean[j]);
            hworst = eh > hworst ? eh : hworst;
        }
        printf("  %-22s rc %d coef max err %.4f sigma2 %.4g vs %.4g mean err %.3f sd, width "
               "err %.3f\n",
               r->name, rc, worst, rc == 0 ? md.sigma2 : NAN, r->sigma2, fworst, hworst);
    }
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
        assert_int_equal(fc__arima_auto(&d, &o, 1, &md), 0);
        char name[64];
        fc__arima_name(&md, name, sizeof name);
        int s1 = same_orders(r->orders, &md.ar), s2 = same_orders(r->orders_css, &md.ar);
        same += s1;
        same_css += s2;
        printf("  %-22s %-40s %s %s\n", r->name, name, s1 ? "= auto.arima" : "",
               s2 ? "= approximation" : "");
    }
    printf("  orders as auto.arima(): %zu of %zu; as auto.arima(approximation = TRUE): %zu\n",
           same, N_REFS, same_css);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kpss_matches_urca),
        cmocka_unit_test(test_differences_as_auto_arima_takes_them),
        cmocka_unit_test(test_css_fit_matches_arima_css),
        cmocka_unit_test(test_stepwise_orders_match_auto_arima),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
