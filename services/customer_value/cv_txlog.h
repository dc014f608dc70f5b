/*
 * cv_txlog: a transaction log and the per-customer summaries built from it
 * as in Fader, Hardie & Lee (2005).
 *
 * A log is a list of (customer, day, amount).  A cohort is the customers
 * whose first purchase falls on or before the calibration end, with their
 * x, t_x, T and mean repeat spend (cv_summary), plus what they bought in the
 * holdout period.  The conventions are the papers' (and those that reproduce
 * the CDNOW summary file exactly):
 *   - purchases by one customer on one day are one transaction whose value
 *     is their sum;
 *   - x counts the transaction days after the first purchase day up to and
 *     including the calibration end; t_x is the last of them minus the first
 *     purchase day, T the calibration end minus the first purchase day, both
 *     divided by the unit (7 for weeks);
 *   - the calibration period starts at the log's first day, so every
 *     customer's first purchase in the log is their first purchase;
 *   - the holdout covers the days after the calibration end up to and
 *     including the holdout end.
 * Days are counted from 1970-01-01 (day 0).
 */
#ifndef CV_TXLOG_H
#define CV_TXLOG_H

#include <stdint.h>
#include <stdio.h>

#include "cv_model.h"
#include "sl_status.h"

/* Longest customer id accepted, in bytes. */
#define CV_CUSTOMER_ID_MAX 255

/* Parses "YYYY-MM-DD" or "YYYYMMDD" (exactly len bytes of s) into a day
 * number.  SL_INVALID_ARGUMENT for anything else, including 1997-02-29. */
sl_status cv_date_parse(const char *s, size_t len, int32_t *day, sl_err *err);

/* Writes day as "YYYY-MM-DD" into buf (11 bytes with the terminator). */
void cv_date_format(int32_t day, char buf[11]);

typedef struct cv_txlog cv_txlog;

/* Creates an empty log; the caller owns it (cv_txlog_destroy).
 * SL_RESOURCE_EXHAUSTED when out of memory. */
sl_status cv_txlog_create(cv_txlog **out, sl_err *err);

void cv_txlog_destroy(cv_txlog *log);

/* Largest amount of one purchase: far above any real order, and small
 * enough that a customer's total over any log stays finite (1e308 twice
 * would not). */
#define CV_AMOUNT_MAX 1e12

/* Adds one purchase; the log copies customer_id.  SL_INVALID_ARGUMENT for an
 * empty or over-long id or an amount that is negative, not finite or above
 * CV_AMOUNT_MAX. */
sl_status cv_txlog_add(cv_txlog *log, const char *customer_id, int32_t day, double amount,
                       sl_err *err);

/*
 * Appends every record of a text file to the log.  Accepted formats, told
 * apart by the first line:
 *   - CSV with a header naming a customer column (customer_id, customer,
 *     masterid, id), a date column (date) and an amount column (amount,
 *     sales, dollars, dollar_value, value); other columns are ignored -- so
 *     both `customer_id,date,amount` and BTYD's cdnowElog.csv work;
 *   - whitespace-separated, either with such a header (CDNOW_master.txt:
 *     customer_id date number_of_cds dollar_value) or without one:
 *     5 fields are CDNOW_sample.txt's (id, sample id, date, CDs, dollars),
 *     4 fields id, date, count, amount, 3 fields id, date, amount.
 * Dates are YYYY-MM-DD or YYYYMMDD, amounts 0..CV_AMOUNT_MAX; CRLF line
 * ends and blank lines are
 * fine.  name labels errors, which read "NAME:LINE: what is wrong"; a failed
 * read may have added the records before the bad line.  SL_INVALID_ARGUMENT
 * for bad input, SL_UNAVAILABLE when reading fails, SL_RESOURCE_EXHAUSTED.
 */
sl_status cv_txlog_read(cv_txlog *log, FILE *f, const char *name, sl_err *err);

/* Records added so far. */
size_t cv_txlog_size(const cv_txlog *log);

/* Earliest day in the log (0 when it is empty). */
int32_t cv_txlog_first_day(const cv_txlog *log);

typedef struct cv_cohort cv_cohort;

/* How to cut the log into periods. */
typedef struct cv_period {
    int32_t calibration_end; /* last day of the calibration period, inclusive */
    int32_t holdout_end;     /* last day of the holdout, inclusive; <= calibration_end for none */
    double unit_days;        /* length of the time unit in days: 7 for weeks, 1 for days */
} cv_period;

/* Builds the cohort of customers whose first purchase is on or before the
 * calibration end, in the order the log first saw them; records after the
 * holdout end are ignored.  The caller owns *out (cv_cohort_destroy); it does
 * not refer to the log.  SL_FAILED_PRECONDITION when no customer qualifies,
 * SL_INVALID_ARGUMENT for a unit that is not > 0. */
sl_status cv_cohort_build(const cv_txlog *log, const cv_period *period, cv_cohort **out,
                          sl_err *err);

void cv_cohort_destroy(cv_cohort *c);

size_t cv_cohort_size(const cv_cohort *c);

/* The summaries as one array of cv_cohort_size() entries, owned by c. */
const cv_summary *cv_cohort_summaries(const cv_cohort *c);

/* Customer i's id, owned by c. */
const char *cv_cohort_id(const cv_cohort *c, size_t i);

/* Customer i's first purchase day. */
int32_t cv_cohort_first_day(const cv_cohort *c, size_t i);

/* Customer i's transactions (distinct days) in the holdout period and their
 * total value. */
uint32_t cv_cohort_holdout_x(const cv_cohort *c, size_t i);
double cv_cohort_holdout_value(const cv_cohort *c, size_t i);

/* Length of the holdout period in units (0 without one). */
double cv_cohort_holdout_length(const cv_cohort *c);

#endif
