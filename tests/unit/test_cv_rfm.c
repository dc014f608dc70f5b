/* cv_rfm: quintile scores with ties, a single customer, input order, and
 * the segment rule table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "cv_rfm.h"

static void test_distinct_values_split_into_quintiles(void **state)
{
    (void)state;
    cv_rfm_input in[10];
    cv_rfm_score out[10];
    for (int i = 0; i < 10; i++)
        in[i] = (cv_rfm_input){(double)(10 - i), (double)(i + 1), (double)(i * 10)};
    assert_int_equal(cv_rfm_score_all(in, 10, out, NULL), SL_OK);
    for (int i = 0; i < 10; i++) {
        int want = 1 + i / 2;
        assert_int_equal(out[i].r, want); /* recency 10..1: lower is better */
        assert_int_equal(out[i].f, want);
        assert_int_equal(out[i].m, want);
    }
    assert_int_equal(out[9].segment, CV_SEGMENT_CHAMPIONS);
    assert_int_equal(out[0].segment, CV_SEGMENT_LOST);
}

static void test_ties_share_a_score_whatever_the_order(void **state)
{
    (void)state;
    /* Frequencies 1,1,1,1,1,1,2,2,3,9: the six one-time buyers tie. */
    double freq[10] = {1, 1, 1, 1, 1, 1, 2, 2, 3, 9};
    cv_rfm_input in[10];
    cv_rfm_score a[10], b[10];
    for (int i = 0; i < 10; i++)
        in[i] = (cv_rfm_input){5, freq[i], 10};
    assert_int_equal(cv_rfm_score_all(in, 10, a, NULL), SL_OK);
    /* mid-rank: (0 + 6/2)/10 = 0.3 -> 2; (6 + 1)/10 -> 4; 0.85 -> 5; 0.95 -> 5 */
    for (int i = 0; i < 6; i++)
        assert_int_equal(a[i].f, 2);
    assert_int_equal(a[6].f, 4);
    assert_int_equal(a[7].f, 4);
    assert_int_equal(a[8].f, 5);
    assert_int_equal(a[9].f, 5);
    /* Everyone tied on recency and monetary: all 3. */
    for (int i = 0; i < 10; i++) {
        assert_int_equal(a[i].r, 3);
        assert_int_equal(a[i].m, 3);
    }
    /* Reversed input, same scores per customer. */
    cv_rfm_input rev[10];
    for (int i = 0; i < 10; i++)
        rev[i] = in[9 - i];
    assert_int_equal(cv_rfm_score_all(rev, 10, b, NULL), SL_OK);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(b[9 - i].f, a[i].f);
        assert_int_equal(b[9 - i].segment, a[i].segment);
    }
}

static void test_single_and_empty(void **state)
{
    (void)state;
    cv_rfm_input one = {3, 2, 50};
    cv_rfm_score s;
    assert_int_equal(cv_rfm_score_all(&one, 1, &s, NULL), SL_OK);
    assert_int_equal(s.r, 3);
    assert_int_equal(s.f, 3);
    assert_int_equal(s.m, 3);
    assert_int_equal(s.segment, CV_SEGMENT_LOYAL);
    assert_int_equal(cv_rfm_score_all(NULL, 0, NULL, NULL), SL_OK);
    cv_rfm_input bad = {NAN, 1, 1};
    sl_err err;
    assert_int_equal(cv_rfm_score_all(&bad, 1, &s, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "customer 0"));
}

static void test_segment_table(void **state)
{
    (void)state;
    /* Rows are R = 5..1, columns FM = 1..5 (F = M = FM), repeat buyers. */
    static const cv_segment grid[5][5] = {
        {CV_SEGMENT_POTENTIAL_LOYALISTS, CV_SEGMENT_POTENTIAL_LOYALISTS, CV_SEGMENT_LOYAL,
         CV_SEGMENT_CHAMPIONS, CV_SEGMENT_CHAMPIONS},
        {CV_SEGMENT_POTENTIAL_LOYALISTS, CV_SEGMENT_POTENTIAL_LOYALISTS, CV_SEGMENT_LOYAL,
         CV_SEGMENT_CHAMPIONS, CV_SEGMENT_CHAMPIONS},
        {CV_SEGMENT_HIBERNATING, CV_SEGMENT_HIBERNATING, CV_SEGMENT_LOYAL, CV_SEGMENT_LOYAL,
         CV_SEGMENT_LOYAL},
        {CV_SEGMENT_HIBERNATING, CV_SEGMENT_HIBERNATING, CV_SEGMENT_AT_RISK, CV_SEGMENT_AT_RISK,
         CV_SEGMENT_AT_RISK},
        {CV_SEGMENT_LOST, CV_SEGMENT_LOST, CV_SEGMENT_AT_RISK, CV_SEGMENT_CANT_LOSE,
         CV_SEGMENT_CANT_LOSE},
    };
    for (int r = 5; r >= 1; r--)
        for (int fm = 1; fm <= 5; fm++)
            assert_int_equal(cv_rfm_segment(r, fm, fm, 4), grid[5 - r][fm - 1]);
    /* One-time buyers who bought recently are new, whatever they spent. */
    assert_int_equal(cv_rfm_segment(5, 2, 5, 1), CV_SEGMENT_NEW);
    assert_int_equal(cv_rfm_segment(4, 1, 1, 1), CV_SEGMENT_NEW);
    assert_int_equal(cv_rfm_segment(2, 1, 1, 1), CV_SEGMENT_HIBERNATING);
    /* FM rounds the mean up: F = 4, M = 3 -> FM 4. */
    assert_int_equal(cv_rfm_segment(4, 4, 3, 5), CV_SEGMENT_CHAMPIONS);
    assert_int_equal(cv_rfm_segment(9, 0, 0, 5), CV_SEGMENT_POTENTIAL_LOYALISTS); /* clamped */
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(cv_segment_name(CV_SEGMENT_CANT_LOSE), "cant_lose");
    assert_string_equal(cv_segment_display_name(CV_SEGMENT_CANT_LOSE), "can't lose");
    assert_string_equal(cv_segment_name((cv_segment)99), "unknown");
    for (int i = 0; i < CV_SEGMENT_COUNT; i++) {
        cv_segment s;
        assert_int_equal(cv_segment_from_name(cv_segment_name((cv_segment)i), &s, NULL), SL_OK);
        assert_int_equal(s, i);
    }
    cv_segment s;
    sl_err err;
    assert_int_equal(cv_segment_from_name("vip", &s, &err), SL_NOT_FOUND);
    assert_non_null(strstr(err.msg, "\"vip\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distinct_values_split_into_quintiles),
        cmocka_unit_test(test_ties_share_a_score_whatever_the_order),
        cmocka_unit_test(test_single_and_empty),
        cmocka_unit_test(test_segment_table),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
