/*
 * cv_csv: the summary-file reader of shelfline-clv (`fit --summaries`):
 * precomputed x, t_x, T [, monetary] [, customer id] per customer, one CSV
 * row each, as lifetimes and BTYD export them.  A library function rather
 * than the tool's own so that the unit tests and the fuzz targets read
 * files exactly as the tool does.  (Transaction logs are cv_txlog's.)
 */
#ifndef CV_CSV_H
#define CV_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "cv_model.h"
#include "sl_status.h"

/*
 * Splits line in place at commas (no quoting: summary files are numbers
 * and plain ids): cols[i] points at field i, NUL-terminated.  Returns the
 * field count, 1..max (max >= 1), or max + 1 when the line has more than
 * max fields; cols then holds the first max and the rest is not split.
 */
int cv_csv_split(char *line, char **cols, int max);

/* A summary file's rows. */
typedef struct cv_summary_rows {
    size_t n;
    cv_summary *rows; /* n rows */
    char **ids;       /* n ids, NULL entries when the file has no id column */
} cv_summary_rows;

/*
 * Reads a summary CSV from f: a header naming x (or frequency), t_x (or
 * recency) and T, optionally monetary (or zbar, monetary_value) and
 * customer_id (or id), then one row per customer with as many fields as
 * the header; x must be a whole number 0..4e9, every row must pass
 * cv_summary_check; empty lines and CR LF line ends are fine, NUL bytes and
 * lines of more than 32 fields are not.  name labels
 * errors, which read "NAME:LINE: what is wrong".  On success *out (zeroed
 * first) is owned by the caller: cv_summary_rows_free.  On failure nothing
 * is left to free.  SL_INVALID_ARGUMENT for bad input (including a file
 * without rows), SL_UNAVAILABLE when reading fails, SL_RESOURCE_EXHAUSTED.
 */
sl_status cv_csv_read_summaries(FILE *f, const char *name, cv_summary_rows *out, sl_err *err);

/* Frees what cv_csv_read_summaries filled in and zeroes *r. */
void cv_summary_rows_free(cv_summary_rows *r);

#endif
