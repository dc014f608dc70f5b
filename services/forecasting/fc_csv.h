/*
 * fc_csv: the input reader of shelfline-forecast: one series as one value
 * per line or "index,value" lines, or (batch mode) many series as "id,value"
 * lines grouped by id.  A library function rather than the tool's own so
 * that the unit tests and the fuzz targets read input exactly as the tool
 * does.
 */
#ifndef FC_CSV_H
#define FC_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sl_status.h"

/* One series of the input: v[0..n), NAN for a missing day. */
typedef struct fc_csv_series {
    char *id; /* batch mode only, else NULL */
    double *v;
    size_t n, cap;
} fc_csv_series;

typedef struct fc_csv_input {
    fc_csv_series *s;
    size_t n, cap;
} fc_csv_input;

/*
 * Reads fp to its end into *in (zeroed first).  A line's value is the
 * field after its last comma, or the whole line: a finite number (strtod's
 * grammar), or "NA" or nothing for a missing day; blanks around fields and
 * blank lines are ignored.  In batch mode a line is "id,value" (the id runs
 * to the first comma) and each series' lines must be consecutive.  A NUL
 * byte anywhere is an error (not text).  name
 * labels read errors ("standard input").  On success *in is owned by the
 * caller (fc_csv_input_free) and holds at least one series; on failure
 * nothing is left to free.  SL_INVALID_ARGUMENT naming the line for bad
 * input (and for input without values), SL_UNAVAILABLE when reading fails,
 * SL_RESOURCE_EXHAUSTED.
 */
sl_status fc_csv_read(FILE *fp, const char *name, bool batch, fc_csv_input *in, sl_err *err);

/* Frees what fc_csv_read filled in and zeroes *in. */
void fc_csv_input_free(fc_csv_input *in);

#endif
