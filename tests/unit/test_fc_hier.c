/* fc_hier: calendar buckets (ISO weeks, months, leap years), aggregation
 * with missing days, and hierarchy reconciliation (bottom-up sums, the WLS
 * closed form for one parent, coherence on a three-level tree). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "fc_engine.h"

static void test_weeks(void **state)
{
    (void)state;
    /* 2024-01-03 is a Wednesday: the first ISO week is partial (Wed-Sun, 5
     * days) and began on Monday 2024-01-01; 20 days end on Monday the
     * 22nd. */
    fc_date d = {2024, 1, 3};
    fc_span sp[8];
    size_t n;
    assert_int_equal(fc_buckets(d, 20, FC_BUCKET_WEEK, sp, 8, &n, NULL), SL_OK);
    assert_int_equal(n, 4);
    assert_int_equal(sp[0].first, 0);
    assert_int_equal(sp[0].len, 5);
    assert_int_equal(sp[0].start.day, 1);
    assert_int_equal(sp[1].first, 5);
    assert_int_equal(sp[1].len, 7);
    assert_int_equal(sp[1].start.day, 8);
    assert_int_equal(sp[3].len, 1);
    assert_int_equal(sp[3].start.day, 22);
    /* sizing call */
    assert_int_equal(fc_buckets(d, 20, FC_BUCKET_WEEK, NULL, 0, &n, NULL), SL_OK);
    assert_int_equal(n, 4);
    /* across a year end: Sunday 2023-12-31 is the end of a week */
    fc_date e = {2023, 12, 31};
    assert_int_equal(fc_buckets(e, 2, FC_BUCKET_WEEK, sp, 8, &n, NULL), SL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(sp[0].start.year, 2023);
    assert_int_equal(sp[0].start.month, 12);
    assert_int_equal(sp[0].start.day, 25);
    assert_int_equal(sp[1].start.year, 2024);
}

static void test_months(void **state)
{
    (void)state;
    /* From 2024-02-27: 3 days of a leap February, then March (31), April */
    fc_date d = {2024, 2, 27};
    fc_span sp[4];
    size_t n;
    assert_int_equal(fc_buckets(d, 40, FC_BUCKET_MONTH, sp, 4, &n, NULL), SL_OK);
    assert_int_equal(n, 3);
    assert_int_equal(sp[0].len, 3);
    assert_int_equal(sp[1].len, 31);
    assert_int_equal(sp[1].start.month, 3);
    assert_int_equal(sp[2].len, 6);
    fc_date bad = {2023, 2, 29};
    sl_err err;
    assert_int_equal(fc_buckets(bad, 10, FC_BUCKET_MONTH, sp, 4, &n, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "2023-02-29"));
}

static void test_aggregate(void **state)
{
    (void)state;
    double y[] = {1, 2, NAN, 4, 5, 6, 7, 8};
    fc_span sp[] = {{0, 3, {2024, 1, 1}}, {3, 5, {2024, 1, 8}}};
    double sums[2];
    size_t days[2];
    assert_int_equal(fc_aggregate(y, 8, sp, 2, sums, days, NULL), SL_OK);
    assert_true(sums[0] == 3 && sums[1] == 30);
    assert_int_equal(days[0], 2);
    assert_int_equal(days[1], 5);
    fc_span out[] = {{6, 3, {2024, 1, 1}}};
    sl_err err;
    assert_int_equal(fc_aggregate(y, 8, out, 1, sums, NULL, &err), SL_INVALID_ARGUMENT);
}

/* all -> {cat A, cat B}; A -> {sku 1, sku 2}; B -> {sku 3} */
static const int32_t parent[] = {-1, 0, 0, 1, 1, 2};

static void check_coherent(const double *v)
{
    assert_true(fabs(v[1] - (v[3] + v[4])) < 1e-9);
    assert_true(fabs(v[2] - v[5]) < 1e-9);
    assert_true(fabs(v[0] - (v[1] + v[2])) < 1e-9);
}

static void test_bottom_up(void **state)
{
    (void)state;
    double base[] = {999, 50, 50, 10, 20, 30}, var[] = {1, 1, 1, 1, 1, 1}, out[6], ov[6];
    assert_int_equal(fc_reconcile(FC_RECON_BOTTOM_UP, 6, parent, base, var, out, ov, NULL), SL_OK);
    check_coherent(out);
    assert_true(out[0] == 60 && out[1] == 30 && out[2] == 30 && out[3] == 10);
    assert_true(ov[0] == 3 && ov[1] == 2);
}

static void test_wls_one_parent_closed_form(void **state)
{
    (void)state;
    /* parent forecast 100 (variance 4), children 30 (1) and 50 (3): the
     * children move by their variance share of the gap, with the parent's
     * forecast weighed in: b_i + v_i / (v_P + v_1 + v_2) (y_P - sum b) */
    int32_t par[] = {-1, 0, 0};
    double base[] = {100, 30, 50}, var[] = {4, 1, 3}, out[3];
    assert_int_equal(fc_reconcile(FC_RECON_WLS, 3, par, base, var, out, NULL, NULL), SL_OK);
    assert_true(fabs(out[1] - (30 + 1.0 / 8 * 20)) < 1e-12);
    assert_true(fabs(out[2] - (50 + 3.0 / 8 * 20)) < 1e-12);
    assert_true(fabs(out[0] - (out[1] + out[2])) < 1e-12);
}

static void test_wls_tree(void **state)
{
    (void)state;
    double base[] = {70, 35, 25, 10, 20, 30}, var[] = {9, 4, 4, 1, 1, 2}, out[6], ov[6];
    assert_int_equal(fc_reconcile(FC_RECON_WLS, 6, parent, base, var, out, ov, NULL), SL_OK);
    check_coherent(out);
    /* the total lies between the bottom-up sum (60) and its own forecast */
    assert_true(out[0] > 60 && out[0] < 70);
    for (int i = 0; i < 6; i++)
        assert_true(ov[i] >= 0 && ov[i] <= var[i] + 1e-12);
    /* a node with an exact (zero-variance) forecast pins its total */
    double var0[] = {9, 0, 4, 1, 1, 2};
    assert_int_equal(fc_reconcile(FC_RECON_WLS, 6, parent, base, var0, out, NULL, NULL), SL_OK);
    check_coherent(out);
    assert_true(fabs(out[1] - 35) < 1e-9);
}

static void test_bad_trees(void **state)
{
    (void)state;
    double base[3] = {1, 2, 3}, var[3] = {1, 1, 1}, out[3];
    sl_err err;
    int32_t two_roots[] = {-1, -1, 0};
    assert_int_equal(fc_reconcile(FC_RECON_WLS, 3, two_roots, base, var, out, NULL, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "roots"));
    int32_t cycle[] = {-1, 2, 1};
    assert_int_equal(fc_reconcile(FC_RECON_WLS, 3, cycle, base, var, out, NULL, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "cycle"));
    int32_t range[] = {-1, 7, 0};
    assert_int_equal(fc_reconcile(FC_RECON_WLS, 3, range, base, var, out, NULL, &err),
                     SL_INVALID_ARGUMENT);
    int32_t ok[] = {-1, 0, 0};
    double neg[] = {1, -1, 1};
    assert_int_equal(fc_reconcile(FC_RECON_WLS, 3, ok, base, neg, out, NULL, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "variance of node 1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weeks),
        cmocka_unit_test(test_months),
        cmocka_unit_test(test_aggregate),
        cmocka_unit_test(test_bottom_up),
        cmocka_unit_test(test_wls_one_parent_closed_form),
        cmocka_unit_test(test_wls_tree),
        cmocka_unit_test(test_bad_trees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
