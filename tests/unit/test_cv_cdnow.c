/* The CDNOW reproduction: summaries built from the raw log match the
 * published summary file, the fits reproduce Fader, Hardie & Lee's
 * estimates to their published precision, and the holdout check.
 * Data: $SHELFLINE_SOURCE_DIR/../shared/data/cdnow (see its README.md). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv_model.h"
#include "cv_txlog.h"

typedef struct fixture {
    cv_cohort *cohort;
} fixture;

static void data_path(char *buf, size_t n, const char *file)
{
    const char *src = getenv("SHELFLINE_SOURCE_DIR");
    if (src == NULL)
        fail_msg("SHELFLINE_SOURCE_DIR is not set (ctest sets it)");
    snprintf(buf, n, "%s/../shared/data/cdnow/%s", src, file);
}

static int setup(void **state)
{
    static fixture fx;
    char path[4096];
    data_path(path, sizeof path, "CDNOW_sample.txt");
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    cv_txlog *log;
    sl_err err;
    int32_t cal, hold;
    if (cv_txlog_create(&log, &err) != SL_OK || cv_txlog_read(log, f, path, &err) != SL_OK ||
        cv_date_parse("1997-09-30", 10, &cal, &err) != SL_OK ||
        cv_date_parse("1998-06-30", 10, &hold, &err) != SL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        fclose(f);
        return -1;
    }
    fclose(f);
    cv_period period = {cal, hold, 7.0};
    sl_status st = cv_cohort_build(log, &period, &fx.cohort, &err);
    cv_txlog_destroy(log);
    if (st != SL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    cv_cohort_destroy(fx->cohort);
    return 0;
}

static void test_summaries_match_published_file(void **state)
{
    fixture *fx = *state;
    char path[4096];
    data_path(path, sizeof path, "cdnow_customers_summary_with_transactions.csv");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char header[128];
    assert_non_null(fgets(header, sizeof header, f));
    const cv_summary *s = cv_cohort_summaries(fx->cohort);
    assert_int_equal(cv_cohort_size(fx->cohort), 2357);
    size_t rows = 0, repeaters = 0, calib = 0, holdout = 0;
    int id;
    unsigned x;
    double tx, T, zbar;
    while (fscanf(f, "%d,%u,%lf,%lf,%lf", &id, &x, &tx, &T, &zbar) == 5) {
        /* The file's ID is the sample id, the order of the log. */
        const cv_summary *c = &s[id - 1];
        assert_int_equal(c->x, x);
        assert_float_equal(c->t_x, tx, 0.005 + 1e-9);
        assert_float_equal(c->T, T, 0.005 + 1e-9);
        assert_float_equal(c->monetary, zbar, 0.0051);
        rows++;
    }
    fclose(f);
    /* The file lacks its last customer (2356 rows); the rest all match. */
    assert_true(rows >= 2356);
    for (size_t i = 0; i < cv_cohort_size(fx->cohort); i++) {
        repeaters += s[i].x > 0;
        calib += s[i].x;
        holdout += cv_cohort_holdout_x(fx->cohort, i);
    }
    assert_int_equal(repeaters, 946);
    assert_int_equal(calib, 2457);
    assert_int_equal(holdout, 1882);
    assert_float_equal(cv_cohort_holdout_length(fx->cohort), 39.0, 1e-12);
}

/* Rounds to the published number of decimals and compares exactly. */
static void assert_published(double got, double published, int decimals, const char *name)
{
    double k = pow(10.0, decimals);
    if (round(got * k) != round(published * k))
        fail_msg("%s = %.6f does not round to the published %.*f", name, got, decimals, published);
}

static void test_bgnbd_reproduces_paper(void **state)
{
    fixture *fx = *state;
    cv_bgnbd_params m;
    cv_fit_report rep;
    sl_err err;
    const cv_summary *s = cv_cohort_summaries(fx->cohort);
    size_t n = cv_cohort_size(fx->cohort);
    assert_int_equal(cv_bgnbd_fit(s, n, NULL, &m, &rep, &err), SL_OK);
    printf("BG/NBD on CDNOW: r=%.6f alpha=%.6f a=%.6f b=%.6f LL=%.4f (%d iterations, %d "
           "evaluations, %zu distinct, %.2f ms, |g|=%.2g)\n",
           m.r, m.alpha, m.a, m.b, rep.log_likelihood, rep.iterations, rep.evaluations,
           rep.distinct, rep.seconds * 1e3, rep.grad_norm);
    assert_true(rep.converged);
    assert_int_equal(rep.customers, 2357);
    assert_published(m.r, 0.243, 3, "r");
    assert_published(m.alpha, 4.414, 3, "alpha");
    assert_published(m.a, 0.793, 3, "a");
    assert_published(m.b, 2.426, 3, "b");
    assert_published(rep.log_likelihood, -9582.4, 1, "log-likelihood");
    /* The reported LL is the per-customer formula's at the estimates. */
    double ll;
    assert_int_equal(cv_bgnbd_loglik(&m, s, n, &ll, &err), SL_OK);
    assert_float_equal(ll, rep.log_likelihood, 1e-8);

    /* The naive path (ungrouped, per-customer lgamma/digamma) lands on the
     * same optimum, and so does a forced 2-thread run. */
    cv_fit_options naive = {.naive = true}, two = {.threads = 2};
    cv_bgnbd_params mn, m2;
    assert_int_equal(cv_bgnbd_fit(s, n, &naive, &mn, NULL, &err), SL_OK);
    assert_int_equal(cv_bgnbd_fit(s, n, &two, &m2, NULL, &err), SL_OK);
    assert_float_equal(mn.r, m.r, 1e-6);
    assert_float_equal(mn.alpha, m.alpha, 1e-5);
    assert_float_equal(mn.a, m.a, 1e-6);
    assert_float_equal(mn.b, m.b, 1e-5);
    assert_float_equal(m2.r, m.r, 1e-9);
    assert_float_equal(m2.b, m.b, 1e-9);
}

static void test_bgnbd_on_published_summary(void **state)
{
    (void)state;
    /* Hardie's spreadsheet data (x, t_x, T rounded to 2 dp). */
    char path[4096];
    data_path(path, sizeof path, "cdnow_customers_summary.csv");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char header[128];
    assert_non_null(fgets(header, sizeof header, f));
    cv_summary *rows = calloc(4000, sizeof *rows);
    size_t n = 0;
    int id;
    unsigned x;
    double tx, T;
    while (n < 4000 && fscanf(f, "%d,%u,%lf,%lf", &id, &x, &tx, &T) == 4)
        rows[n++] = (cv_summary){x, tx, T, 0.0};
    fclose(f);
    assert_int_equal(n, 2357);
    cv_bgnbd_params m;
    cv_fit_report rep;
    sl_err err;
    assert_int_equal(cv_bgnbd_fit(rows, n, NULL, &m, &rep, &err), SL_OK);
    assert_published(m.r, 0.243, 3, "r");
    assert_published(m.alpha, 4.414, 3, "alpha");
    assert_published(m.a, 0.793, 3, "a");
    assert_published(m.b, 2.426, 3, "b");
    assert_published(rep.log_likelihood, -9582.4, 1, "log-likelihood");
    free(rows);
}

static void test_gamma_gamma_reproduces_paper(void **state)
{
    fixture *fx = *state;
    cv_gg_params m;
    cv_fit_report rep;
    sl_err err;
    const cv_summary *s = cv_cohort_summaries(fx->cohort);
    size_t n = cv_cohort_size(fx->cohort);
    assert_int_equal(cv_gg_fit(s, n, NULL, &m, &rep, &err), SL_OK);
    printf("Gamma-Gamma on CDNOW: p=%.6f q=%.6f gamma=%.6f LL=%.4f (%zu customers, %d "
           "iterations, %.2f ms)\n",
           m.p, m.q, m.gamma, rep.log_likelihood, rep.customers, rep.iterations, rep.seconds * 1e3);
    assert_true(rep.converged);
    assert_int_equal(rep.customers, 946);
    assert_published(m.p, 6.25, 2, "p");
    assert_published(m.q, 3.74, 2, "q");
    assert_published(m.gamma, 15.44, 2, "gamma");
    double ll;
    size_t used;
    assert_int_equal(cv_gg_loglik(&m, s, n, &ll, &used, &err), SL_OK);
    assert_float_equal(ll, rep.log_likelihood, 1e-8);
    cv_fit_options naive = {.naive = true};
    cv_gg_params mn;
    assert_int_equal(cv_gg_fit(s, n, &naive, &mn, NULL, &err), SL_OK);
    assert_float_equal(mn.p, m.p, 1e-5);
    assert_float_equal(mn.gamma, m.gamma, 1e-4);
}

static void test_holdout(void **state)
{
    fixture *fx = *state;
    cv_bgnbd_params m;
    sl_err err;
    const cv_summary *s = cv_cohort_summaries(fx->cohort);
    size_t n = cv_cohort_size(fx->cohort);
    assert_int_equal(cv_bgnbd_fit(s, n, NULL, &m, NULL, &err), SL_OK);
    double predicted = 0.0, tracked = 0.0, actual = 0.0;
    double horizon = cv_cohort_holdout_length(fx->cohort);
    for (size_t i = 0; i < n; i++) {
        double e, u0, u1;
        assert_int_equal(
            cv_bgnbd_conditional_expected(&m, s[i].x, s[i].t_x, s[i].T, horizon, &e, &err), SL_OK);
        /* The paper's tracking plot: E[X(T + 39)] - E[X(T)] from the first
         * purchase time alone. */
        assert_int_equal(cv_bgnbd_expected(&m, s[i].T, &u0, &err), SL_OK);
        assert_int_equal(cv_bgnbd_expected(&m, s[i].T + horizon, &u1, &err), SL_OK);
        predicted += e;
        tracked += u1 - u0;
        actual += cv_cohort_holdout_x(fx->cohort, i);
    }
    printf("holdout weeks 40-78: conditional expectation %.1f, unconditional tracking %.1f, "
           "actual %.0f repeat purchases\n",
           predicted, tracked, actual);
    assert_float_equal(actual, 1882.0, 0.0);
    /* BG/NBD under-forecasts CDNOW's second period by about 12% (the
     * paper's tracking plot shows the same gap: 4,160 predicted against 4,339
     * cumulative repeat purchases at week 78); pin our figures and keep the
     * gap within 15%. */
    assert_float_equal(predicted, 1653.4, 0.5);
    assert_float_equal(tracked, 1666.7, 0.5);
    assert_true(fabs(predicted - actual) / actual < 0.15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summaries_match_published_file),
        cmocka_unit_test(test_bgnbd_reproduces_paper),
        cmocka_unit_test(test_bgnbd_on_published_summary),
        cmocka_unit_test(test_gamma_gamma_reproduces_paper),
        cmocka_unit_test(test_holdout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
