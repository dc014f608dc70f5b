/*
 * sl_db_row: typed reads of result columns by name, and parameter text
 * (see sl_db_row.h).
 *
 * Every read goes through cell(): the column is looked up by name with
 * PQfnumber (the house rule: never by position), the row is bounds-checked,
 * and the first failure is recorded with the column's name.  After a
 * failure later reads still look their column up (so a result with two
 * misspelt names reports the first) but return zero values.
 */
#include "sl_db_row.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_date.h"

void sl_db_reader_init(sl_db_reader *rd, const PGresult *res, sl_arena *arena)
{
    rd->res = res;
    rd->arena = arena;
    rd->status = SL_OK;
    rd->msg[0] = '\0';
}

int sl_db_reader_rows(const sl_db_reader *rd)
{
    return rd->res != NULL ? PQntuples(rd->res) : 0;
}

sl_status sl_db_reader_status(const sl_db_reader *rd, sl_err *err)
{
    if (rd->status == SL_OK)
        return SL_OK;
    return sl_err_set(err, rd->status, "%s", rd->msg);
}

static void fail(sl_db_reader *rd, sl_status st, const char *column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(sl_db_reader *rd, sl_status st, const char *column, const char *fmt, ...)
{
    if (rd->status != SL_OK)
        return;
    char why[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    rd->status = st;
    snprintf(rd->msg, sizeof rd->msg, "could not read column \"%.48s\": %s", column, why);
}

/* The text of (row, column), NULL when it is SQL NULL or on a failure
 * (*failed says which). */
static const char *cell(sl_db_reader *rd, int row, const char *column, bool *failed)
{
    *failed = true;
    int c = rd->res != NULL ? PQfnumber(rd->res, column) : -1;
    if (c < 0) {
        fail(rd, SL_INTERNAL, column, "the result has no such column");
        return NULL;
    }
    if (row < 0 || row >= PQntuples(rd->res)) {
        fail(rd, SL_INTERNAL, column, "row %d of a result of %d", row, PQntuples(rd->res));
        return NULL;
    }
    if (rd->status != SL_OK)
        return NULL;
    *failed = false;
    return PQgetisnull(rd->res, row, c) ? NULL : PQgetvalue(rd->res, row, c);
}

/* The cell of a NOT NULL read: NULL is a failure. */
static const char *cell_required(sl_db_reader *rd, int row, const char *column)
{
    bool failed;
    const char *v = cell(rd, row, column, &failed);
    if (v == NULL && !failed)
        fail(rd, SL_INTERNAL, column, "NULL where a value was expected");
    return v;
}

static const char *text_of(sl_db_reader *rd, const char *column, const char *v)
{
    if (rd->arena == NULL)
        return v;
    char *copy = sl_arena_strdup(rd->arena, v);
    if (copy == NULL) {
        fail(rd, SL_RESOURCE_EXHAUSTED, column, "out of memory");
        return "";
    }
    return copy;
}

const char *sl_db_text(sl_db_reader *rd, int row, const char *column)
{
    const char *v = cell_required(rd, row, column);
    return v != NULL ? text_of(rd, column, v) : "";
}

const char *sl_db_text_or(sl_db_reader *rd, int row, const char *column, const char *if_null)
{
    bool failed;
    const char *v = cell(rd, row, column, &failed);
    if (failed)
        return "";
    return v != NULL ? text_of(rd, column, v) : if_null;
}

static int64_t parse_int64(sl_db_reader *rd, const char *column, const char *v)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end != '\0' || errno == ERANGE) {
        fail(rd, SL_INTERNAL, column, "\"%.32s\" is not a 64-bit integer", v);
        return 0;
    }
    return (int64_t)x;
}

int64_t sl_db_int64(sl_db_reader *rd, int row, const char *column)
{
    const char *v = cell_required(rd, row, column);
    return v != NULL ? parse_int64(rd, column, v) : 0;
}

int64_t sl_db_int64_or(sl_db_reader *rd, int row, const char *column, int64_t if_null)
{
    bool failed;
    const char *v = cell(rd, row, column, &failed);
    if (failed)
        return 0;
    return v != NULL ? parse_int64(rd, column, v) : if_null;
}

static double parse_double(sl_db_reader *rd, const char *column, const char *v)
{
    char *end = NULL;
    double x = strtod(v, &end);
    if (end == v || *end != '\0') {
        fail(rd, SL_INTERNAL, column, "\"%.32s\" is not a number", v);
        return 0;
    }
    return x;
}

double sl_db_double(sl_db_reader *rd, int row, const char *column)
{
    const char *v = cell_required(rd, row, column);
    return v != NULL ? parse_double(rd, column, v) : 0;
}

double sl_db_double_or(sl_db_reader *rd, int row, const char *column, double if_null)
{
    bool failed;
    const char *v = cell(rd, row, column, &failed);
    if (failed)
        return 0;
    return v != NULL ? parse_double(rd, column, v) : if_null;
}

static bool parse_bool(sl_db_reader *rd, const char *column, const char *v)
{
    if (strcmp(v, "t") == 0)
        return true;
    if (strcmp(v, "f") != 0)
        fail(rd, SL_INTERNAL, column, "\"%.32s\" is not a boolean", v);
    return false;
}

bool sl_db_bool(sl_db_reader *rd, int row, const char *column)
{
    const char *v = cell_required(rd, row, column);
    return v != NULL && parse_bool(rd, column, v);
}

bool sl_db_bool_or(sl_db_reader *rd, int row, const char *column, bool if_null)
{
    bool failed;
    const char *v = cell(rd, row, column, &failed);
    if (failed)
        return false;
    return v != NULL ? parse_bool(rd, column, v) : if_null;
}

/* n decimal digits at *p into *out, advancing *p. */
static bool digits(const char **p, int n, int64_t *out)
{
    int64_t x = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *out = x;
    return true;
}

/* "YYYY-MM-DD HH:MM:SS[.f{1,6}][(+|-)HH[:MM[:SS]]]", the ISO DateStyle
 * output of timestamp and timestamptz; years of four or more digits. */
static bool parse_iso(const char *s, int64_t *ms)
{
    const char *p = s;
    int64_t y = 0, mo, d, h, mi, sec, frac_us = 0;
    int ny = 0;
    while (p[ny] >= '0' && p[ny] <= '9')
        ny++;
    if (ny < 4 || ny > 7 || !digits(&p, ny, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
        *p++ != '-' || !digits(&p, 2, &d) || *p++ != ' ' || !digits(&p, 2, &h) || *p++ != ':' ||
        !digits(&p, 2, &mi) || *p++ != ':' || !digits(&p, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    if (*p == '.') {
        p++;
        int n = 0;
        for (; n < 6 && p[n] >= '0' && p[n] <= '9'; n++)
            frac_us = frac_us * 10 + (p[n] - '0');
        if (n == 0)
            return false;
        p += n;
        for (; n < 6; n++)
            frac_us *= 10;
    }
    int64_t offset_s = 0;
    if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int64_t oh, om = 0, os = 0;
        if (!digits(&p, 2, &oh))
            return false;
        if (*p == ':' && (p++, !digits(&p, 2, &om)))
            return false;
        if (*p == ':' && (p++, !digits(&p, 2, &os)))
            return false;
        offset_s = sign * (oh * 3600 + om * 60 + os);
    }
    if (*p != '\0') /* " BC", or anything else */
        return false;
    int64_t days = sl_days_from_civil(y, (int)mo, (int)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    *ms = secs * 1000 + frac_us / 1000;
    return true;
}

static int64_t parse_instant(sl_db_reader *rd, const char *column, const char *v)
{
    int64_t ms;
    if (!parse_iso(v, &ms)) {
        fail(rd, SL_INTERNAL, column, "\"%.40s\" is not an ISO timestamp", v);
        return 0;
    }
    return ms;
}

int64_t sl_db_instant_ms(sl_db_reader *rd, int row, const char *column)
{
    const char *v = cell_required(rd, row, column);
    return v != NULL ? parse_instant(rd, column, v) : 0;
}

int64_t sl_db_instant_ms_or(sl_db_reader *rd, int row, const char *column, int64_t if_null)
{
    bool failed;
    const char *v = cell(rd, row, column, &failed);
    if (failed)
        return 0;
    return v != NULL ? parse_instant(rd, column, v) : if_null;
}

const uint8_t *sl_db_bytes(sl_db_reader *rd, int row, const char *column, size_t *len)
{
    *len = 0;
    const char *v = cell_required(rd, row, column);
    if (v == NULL)
        return (const uint8_t *)"";
    if (rd->arena == NULL) {
        fail(rd, SL_INTERNAL, column, "bytea needs a reader with an arena");
        return (const uint8_t *)"";
    }
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)v, &n);
    uint8_t *out = raw != NULL ? sl_arena_alloc(rd->arena, n + 1) : NULL;
    if (out == NULL) {
        if (raw != NULL)
            PQfreemem(raw);
        fail(rd, SL_RESOURCE_EXHAUSTED, column, "out of memory");
        return (const uint8_t *)"";
    }
    if (n > 0)
        memcpy(out, raw, n);
    out[n] = 0;
    PQfreemem(raw);
    *len = n;
    return out;
}

bool sl_db_is_null(sl_db_reader *rd, int row, const char *column)
{
    bool failed;
    return cell(rd, row, column, &failed) == NULL;
}

const char *sl_db_param_int64(char buf[SL_DB_INT64_TEXT], int64_t v)
{
    snprintf(buf, SL_DB_INT64_TEXT, "%" PRId64, v);
    return buf;
}

const char *sl_db_param_int64_dup(sl_arena *a, int64_t v)
{
    char buf[SL_DB_INT64_TEXT];
    return sl_arena_strdup(a, sl_db_param_int64(buf, v));
}

const char *sl_db_param_bool(bool v)
{
    return v ? "true" : "false";
}

const char *sl_db_param_text_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}
