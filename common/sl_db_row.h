/*
 * sl_db_row: reading the rows of a text-format PGresult by column name, and
 * formatting parameters -- the one kit every store module uses instead of
 * its own PQfnumber/PQgetvalue/strtoll helpers.
 *
 * Why a reader with a sticky status: a store function reads a dozen columns
 * of a row, and checking a status after each would drown the mapping.  So
 * each read returns a value (a zero value after a failure) and the first
 * failure is kept in the reader; the store function asks
 * sl_db_reader_status once, after the loop, and returns INTERNAL naming the
 * column.  What counts as a failure -- each one a bug in the store module
 * or a schema that moved under it, never bad input:
 *   - a column name the result does not have (a misspelt name, a column
 *     dropped from the SELECT): the old helpers read "" or 0 and went on;
 *   - NULL in a column read without an _or variant;
 *   - a value that does not parse as the type asked for (text that is not
 *     an integer, an integer out of int64's range, a boolean that is not
 *     t/f, a timestamp not in ISO form);
 *   - a row index outside the result;
 *   - out of memory while copying text into the arena (RESOURCE_EXHAUSTED).
 *
 * Values are those of sl_db_exec's text-format results.  Text is copied
 * into the reader's arena when it has one, else it points into the
 * PGresult and lives until PQclear.
 */
#ifndef SL_DB_ROW_H
#define SL_DB_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "sl_arena.h"
#include "sl_status.h"

typedef struct sl_db_reader {
    const PGresult *res;
    sl_arena *arena;  /* copies of text values; NULL: pointers into res */
    sl_status status; /* SL_OK until the first failure */
    char msg[200];    /* the first failure, naming the column */
} sl_db_reader;

/* Starts reading res (which the caller keeps owning).  arena may be NULL
 * (see above). */
void sl_db_reader_init(sl_db_reader *rd, const PGresult *res, sl_arena *arena);

/* The number of rows of the result. */
int sl_db_reader_rows(const sl_db_reader *rd);

/* OK when every read so far succeeded; else the first failure's status
 * (INTERNAL, or RESOURCE_EXHAUSTED when a copy ran out of memory) with
 * "could not read column \"name\": reason" in err. */
sl_status sl_db_reader_status(const sl_db_reader *rd, sl_err *err);

/* A text column; NULL is a failure.  "" after a failure. */
const char *sl_db_text(sl_db_reader *rd, int row, const char *column);
/* A text column that may be NULL: if_null then. */
const char *sl_db_text_or(sl_db_reader *rd, int row, const char *column, const char *if_null);

/* An integer column (smallint, integer, bigint, or numeric without a
 * fraction) as int64; NULL is a failure.  0 after a failure. */
int64_t sl_db_int64(sl_db_reader *rd, int row, const char *column);
int64_t sl_db_int64_or(sl_db_reader *rd, int row, const char *column, int64_t if_null);

/* A float8/numeric column as double; NULL is a failure.  0 after a failure. */
double sl_db_double(sl_db_reader *rd, int row, const char *column);
double sl_db_double_or(sl_db_reader *rd, int row, const char *column, double if_null);

/* A boolean column ("t" / "f"); NULL is a failure.  false after a failure. */
bool sl_db_bool(sl_db_reader *rd, int row, const char *column);
bool sl_db_bool_or(sl_db_reader *rd, int row, const char *column, bool if_null);

/* A timestamptz (or timestamp, read as UTC) column as Unix milliseconds,
 * from PostgreSQL's ISO output ("2025-03-16 12:34:56.789+01",
 * DateStyle ISO, whatever the session's TimeZone; microseconds are
 * truncated towards the past).  NULL, infinity and BC dates are
 * failures.  0 after a failure. */
int64_t sl_db_instant_ms(sl_db_reader *rd, int row, const char *column);
int64_t sl_db_instant_ms_or(sl_db_reader *rd, int row, const char *column, int64_t if_null);

/* A bytea column (text format, hex or escape output) as raw bytes, copied into
 * the reader's arena (a reader without an arena fails: libpq's decoded
 * copy must be freed before returning); *len is their number.  NULL is a
 * failure.  "" and *len 0 after a failure. */
const uint8_t *sl_db_bytes(sl_db_reader *rd, int row, const char *column, size_t *len);

/* True when the column is NULL in row (an unknown column is a failure and
 * reads as NULL). */
bool sl_db_is_null(sl_db_reader *rd, int row, const char *column);

/* ---- parameters ---- */

/* Bytes of the decimal text of any int64, NUL included. */
#define SL_DB_INT64_TEXT 21

/* v as decimal text in buf; returns buf. */
const char *sl_db_param_int64(char buf[SL_DB_INT64_TEXT], int64_t v);

/* v as decimal text in arena memory; NULL when the arena is exhausted. */
const char *sl_db_param_int64_dup(sl_arena *a, int64_t v);

/* "true" / "false" (static). */
const char *sl_db_param_bool(bool v);

/* s, or NULL (SQL NULL) when s is NULL or "". */
const char *sl_db_param_text_or_null(const char *s);

#endif
