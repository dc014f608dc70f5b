/*
 * Fuzz target: customer-value's transaction-log reader cv_txlog_read (the
 * files given to `shelfline-clv fit --transactions`: CSV with a header, or
 * CDNOW's whitespace formats) fed through fmemopen, its date parser
 * cv_date_parse, and the cohort summaries built from whatever it accepted
 * (cv_cohort_build).
 *
 * Input: byte 0 picks the parser; for the log, bytes 1..2 choose the
 * calibration and holdout ends (days after the log's first day) and the
 * rest is the file; for the date, the rest is the text.
 * Properties checked: no crash, leak, hang or undefined behaviour; a
 * rejected log is INVALID_ARGUMENT with a message that starts with the
 * file's name; an accepted log holds no more records than the file has
 * non-blank lines and no day outside years 1..9999; its cohort (when a
 * customer qualifies) has summaries that pass cv_summary_check -- x >= 0,
 * 0 <= t_x <= T, finite non-negative spend -- with ids of 1..255 bytes,
 * first days on or before the calibration end, and finite non-negative
 * holdout values.  A date that parsed formats back to its text (in the
 * dashed form) and is a real calendar day.
 *
 * Built two ways: with clang -fsanitize=fuzzer for `make fuzz`, and with
 * fuzz_driver.c as a deterministic ctest that replays seeds and mutations.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv_model.h"
#include "cv_txlog.h"
#include "sl_date.h"

#define NAME "fuzz.csv"

static void check(bool ok)
{
    if (!ok)
        abort();
}

static size_t non_blank_lines(const uint8_t *p, size_t n)
{
    size_t lines = 0;
    bool blank = true;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            lines += !blank;
            blank = true;
        } else if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
            blank = false;
        }
    }
    return lines + !blank;
}

static void check_cohort(const cv_txlog *log, int32_t cal, int32_t hold)
{
    cv_period period = {cal, hold, 7.0};
    cv_cohort *c = NULL;
    sl_err err = {0};
    sl_status st = cv_cohort_build(log, &period, &c, &err);
    if (st != SL_OK) {
        check(st == SL_FAILED_PRECONDITION && c == NULL);
        return;
    }
    size_t n = cv_cohort_size(c);
    check(n >= 1);
    const cv_summary *s = cv_cohort_summaries(c);
    for (size_t i = 0; i < n; i++) {
        sl_err e2 = {0};
        check(cv_summary_check(&s[i], &e2) == SL_OK);
        size_t len = strlen(cv_cohort_id(c, i));
        check(len >= 1 && len <= CV_CUSTOMER_ID_MAX);
        check(cv_cohort_first_day(c, i) <= cal);
        double hv = cv_cohort_holdout_value(c, i);
        check(isfinite(hv) && hv >= 0.0);
        check(hold > cal || cv_cohort_holdout_x(c, i) == 0);
    }
    cv_cohort_destroy(c);
}

static void fuzz_log(const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    int32_t cal_after = data[0] * 4, hold_after = data[1] * 2;
    data += 2;
    size -= 2;
    /* fmemopen wants a buffer of at least one byte. */
    static const uint8_t empty[1];
    FILE *f = fmemopen((void *)(size > 0 ? data : empty), size > 0 ? size : 1, "r");
    if (f == NULL)
        abort();
    if (size == 0)
        fgetc(f);
    cv_txlog *log = NULL;
    sl_err err = {0};
    check(cv_txlog_create(&log, &err) == SL_OK);
    sl_status st = cv_txlog_read(log, f, NAME, &err);
    fclose(f);
    if (st != SL_OK) {
        check(st == SL_INVALID_ARGUMENT);
        check(strncmp(err.msg, NAME ":", strlen(NAME) + 1) == 0);
    } else {
        check(cv_txlog_size(log) <= non_blank_lines(data, size));
    }
    /* What was added before a bad line stays in the log; it must be as
     * sound as a whole file's. */
    if (cv_txlog_size(log) > 0) {
        int32_t first = cv_txlog_first_day(log);
        check(first >= sl_days_from_civil(1, 1, 1) && first <= sl_days_from_civil(9999, 12, 31));
        check_cohort(log, first + cal_after, first + cal_after + hold_after);
    }
    cv_txlog_destroy(log);
}

static void fuzz_date(const uint8_t *data, size_t size)
{
    int32_t day = 4242;
    sl_err err = {0};
    sl_status st = cv_date_parse((const char *)data, size, &day, &err);
    if (st != SL_OK) {
        check(st == SL_INVALID_ARGUMENT && day == 4242);
        return;
    }
    char buf[11];
    cv_date_format(day, buf);
    if (size == 10) {
        check(memcmp(buf, data, 10) == 0);
    } else {
        check(size == 8);
        check(memcmp(buf, data, 4) == 0 && memcmp(buf + 5, data + 4, 2) == 0 &&
              memcmp(buf + 8, data + 6, 2) == 0);
    }
    int y, m, d;
    sl_civil_from_days(day, &y, &m, &d);
    check(y >= 1 && y <= 9999 && sl_days_from_civil(y, m, d) == day);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        fuzz_log(data + 1, size - 1);
    else
        fuzz_date(data + 1, size - 1);
    return 0;
}
