/* cv_txlog: dates, the accepted text formats, same-day merging, the cohort
 * conventions, and errors that name the line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cv_txlog.h"

static int32_t day_of(const char *s)
{
    int32_t d;
    assert_int_equal(cv_date_parse(s, strlen(s), &d, NULL), SL_OK);
    return d;
}

static void test_dates(void **state)
{
    (void)state;
    assert_int_equal(day_of("1970-01-01"), 0);
    assert_int_equal(day_of("19700102"), 1);
    assert_int_equal(day_of("1997-09-30") - day_of("1997-01-01"), 272);
    assert_int_equal(day_of("2000-03-01") - day_of("2000-02-28"), 2); /* leap century */
    assert_int_equal(day_of("1900-03-01") - day_of("1900-02-28"), 1);
    char buf[11];
    cv_date_format(day_of("1998-06-30"), buf);
    assert_string_equal(buf, "1998-06-30");
    cv_date_format(-1, buf);
    assert_string_equal(buf, "1969-12-31");
    int32_t d;
    sl_err err;
    const char *bad[] = {"1997-02-29", "1997-13-01", "1997-00-10", "97-01-01", "1997/01/01",
                         "1997-1-1",   "",           "19970132",   "abcdefgh"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cv_date_parse(bad[i], strlen(bad[i]), &d, &err), SL_INVALID_ARGUMENT);
        assert_non_null(strstr(err.msg, "invalid date"));
    }
}

/* Reads text into a fresh log; returns the status and leaves the log in
 * *out (destroyed by the caller). */
static sl_status read_text(const char *text, cv_txlog **out, sl_err *err)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    assert_int_equal(cv_txlog_create(out, err), SL_OK);
    sl_status st = cv_txlog_read(*out, f, "log.csv", err);
    fclose(f);
    return st;
}

static void test_formats(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "customer_id,date,amount\nA,1997-01-01,10\nA,1997-01-05,5\nB,1997-01-02,7.5\n",
        /* BTYD's cdnowElog.csv: extra columns, YYYYMMDD */
        "masterid,sampleid,date,cds,sales\nA,1,19970101,1,10\nA,1,19970105,2,5\nB,2,19970102,1,7."
        "5\n",
        /* CDNOW_sample.txt: no header, 5 fields, CRLF */
        " A 0001 19970101  1   10.00\r\n A 0001 19970105  2   5.00\r\n B 0002 19970102 1 7.50\r\n",
        /* CDNOW_master.txt: whitespace header */
        " customer_id  date number_of_cds  dollar_value\n A 19970101 1 10\n A 19970105 2 5\n"
        " B 19970102 1 7.5\n",
        /* quoted CSV fields, spaces, a blank line, columns in another order */
        "\"amount\", \"date\", \"customer_id\"\n10,1997-01-01,A\n\n5, 1997-01-05 "
        ",\"A\"\n7.5,1997-01-02,B\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        cv_txlog *log;
        sl_err err;
        sl_status st = read_text(texts[i], &log, &err);
        if (st != SL_OK)
            fail_msg("format %zu: %s", i, err.msg);
        assert_int_equal(cv_txlog_size(log), 3);
        assert_int_equal(cv_txlog_first_day(log), day_of("1997-01-01"));
        cv_period p = {day_of("1997-01-31"), 0, 1.0};
        cv_cohort *c;
        assert_int_equal(cv_cohort_build(log, &p, &c, &err), SL_OK);
        assert_int_equal(cv_cohort_size(c), 2);
        assert_string_equal(cv_cohort_id(c, 0), "A");
        assert_string_equal(cv_cohort_id(c, 1), "B");
        const cv_summary *s = cv_cohort_summaries(c);
        assert_int_equal(s[0].x, 1);
        assert_float_equal(s[0].t_x, 4.0, 0.0);
        assert_float_equal(s[0].T, 30.0, 0.0);
        assert_float_equal(s[0].monetary, 5.0, 0.0);
        assert_int_equal(s[1].x, 0);
        assert_float_equal(s[1].T, 29.0, 0.0);
        cv_cohort_destroy(c);
        cv_txlog_destroy(log);
    }
}

static void test_cohort_conventions(void **state)
{
    (void)state;
    /* A: two records on its first day, two on 01-08 (one transaction of 30),
     * one on 01-15, one in the holdout, one after it.  B first buys after
     * the calibration end: not in the cohort.  C buys on the calibration end
     * day only: T = 0. */
    const char *text = "customer_id,date,amount\n"
                       "A,1997-01-01,1\nA,1997-01-01,2\nA,1997-01-08,10\nA,1997-01-08,20\n"
                       "A,1997-01-15,6\nA,1997-02-10,100\nA,1997-04-01,1000\n"
                       "B,1997-02-01,5\nC,1997-01-29,3\n";
    cv_txlog *log;
    sl_err err;
    assert_int_equal(read_text(text, &log, &err), SL_OK);
    cv_period p = {day_of("1997-01-29"), day_of("1997-02-26"), 7.0};
    cv_cohort *c;
    assert_int_equal(cv_cohort_build(log, &p, &c, &err), SL_OK);
    assert_int_equal(cv_cohort_size(c), 2);
    const cv_summary *s = cv_cohort_summaries(c);
    assert_string_equal(cv_cohort_id(c, 0), "A");
    assert_int_equal(s[0].x, 2);
    assert_float_equal(s[0].t_x, 2.0, 1e-15);
    assert_float_equal(s[0].T, 4.0, 1e-15);
    assert_float_equal(s[0].monetary, 18.0, 1e-12); /* (30 + 6) / 2 */
    assert_int_equal(cv_cohort_holdout_x(c, 0), 1);
    assert_float_equal(cv_cohort_holdout_value(c, 0), 100.0, 0.0);
    assert_float_equal(cv_cohort_holdout_length(c), 4.0, 1e-15);
    assert_int_equal(cv_cohort_first_day(c, 0), day_of("1997-01-01"));
    assert_string_equal(cv_cohort_id(c, 1), "C");
    assert_int_equal(s[1].x, 0);
    assert_float_equal(s[1].T, 0.0, 0.0);
    cv_cohort_destroy(c);
    /* A calibration end before anyone bought. */
    cv_period early = {day_of("1996-12-31"), 0, 7.0};
    assert_int_equal(cv_cohort_build(log, &early, &c, &err), SL_FAILED_PRECONDITION);
    cv_period bad_unit = {day_of("1997-01-29"), 0, 0.0};
    assert_int_equal(cv_cohort_build(log, &bad_unit, &c, &err), SL_INVALID_ARGUMENT);
    cv_txlog_destroy(log);
}

static void test_errors_name_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"customer_id,date,amount\nA,1997-01-01,1\nA,1997-13-01,2\n", "log.csv:3: invalid date"},
        {"customer_id,date,amount\nA,1997-01-01,abc\n", "log.csv:2: invalid amount \"abc\""},
        {"customer_id,date,amount\nA,1997-01-01,-4\n", "log.csv:2: negative amount"},
        {"customer_id,date,amount\nA,1997-01-01\n", "log.csv:2: expected 3 fields, got 2"},
        {"customer_id,date,amount\n,1997-01-01,3\n", "log.csv:2: empty customer id"},
        {"customer_id,day,amount\nA,1997-01-01,3\n", "log.csv:1: the header must name"},
        {"\n\n 1 2\n", "log.csv:3: a whitespace-separated log without a header needs 3, 4 or 5"},
        {" 1 19970101 3\n 2 19970101\n", "log.csv:2: expected 3 fields"},
        {"customer_id,date,amount\nA,1997-01-01,nan\n", "log.csv:2: invalid amount"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cv_txlog *log;
        sl_err err;
        assert_int_equal(read_text(cases[i].text, &log, &err), SL_INVALID_ARGUMENT);
        if (strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
        cv_txlog_destroy(log);
    }
}

/* Found with fuzz_cv_txlog's cohort property: each amount was only checked
 * to be finite, so two purchases of 1e308 made a customer's spend +inf and
 * the cohort summary non-finite (cv_summary_check refuses it, the fits
 * would have diverged).  Amounts now stop at CV_AMOUNT_MAX. */
static void test_amounts_are_bounded_so_sums_stay_finite(void **state)
{
    (void)state;
    cv_txlog *log;
    sl_err err;
    assert_int_equal(
        read_text("customer_id,date,amount\nA,1997-01-01,1\nA,1997-01-18,1e308\n", &log, &err),
        SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "log.csv:3: amount must be a number from 0 to"));
    cv_txlog_destroy(log);
    assert_int_equal(cv_txlog_create(&log, &err), SL_OK);
    assert_int_equal(cv_txlog_add(log, "A", 0, CV_AMOUNT_MAX, &err), SL_OK);
    assert_int_equal(cv_txlog_add(log, "A", 1, CV_AMOUNT_MAX * 1.000001, &err),
                     SL_INVALID_ARGUMENT);
    for (int d = 2; d < 1000; d++)
        assert_int_equal(cv_txlog_add(log, "A", d, CV_AMOUNT_MAX, &err), SL_OK);
    cv_period p = {1000, 0, 1.0};
    cv_cohort *c;
    assert_int_equal(cv_cohort_build(log, &p, &c, &err), SL_OK);
    assert_int_equal(cv_summary_check(&cv_cohort_summaries(c)[0], &err), SL_OK);
    cv_cohort_destroy(c);
    cv_txlog_destroy(log);
}

static void test_add(void **state)
{
    (void)state;
    cv_txlog *log;
    sl_err err;
    assert_int_equal(cv_txlog_create(&log, &err), SL_OK);
    /* Enough customers to grow the id table several times. */
    char id[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "cust-%d", i % 2500);
        assert_int_equal(cv_txlog_add(log, id, 100 + i / 2500, 1.0, &err), SL_OK);
    }
    char longid[CV_CUSTOMER_ID_MAX + 2];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    assert_int_equal(cv_txlog_add(log, longid, 100, 1.0, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(cv_txlog_add(log, "", 100, 1.0, &err), SL_INVALID_ARGUMENT);
    cv_period p = {200, 0, 1.0};
    cv_cohort *c;
    assert_int_equal(cv_cohort_build(log, &p, &c, &err), SL_OK);
    assert_int_equal(cv_cohort_size(c), 2500);
    assert_string_equal(cv_cohort_id(c, 1234), "cust-1234");
    assert_int_equal(cv_cohort_summaries(c)[1234].x, 1);
    cv_cohort_destroy(c);
    cv_txlog_destroy(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_cohort_conventions),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_amounts_are_bounded_so_sums_stay_finite),
        cmocka_unit_test(test_add),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
