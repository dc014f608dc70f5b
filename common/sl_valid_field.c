/*
 * sl_valid_field: the identifier grammar and the field checks every
 * service's validation module uses (see sl_valid.h).  Pure functions: no
 * allocation, no I/O.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sl_date.h"
#include "sl_utf8.h"
#include "sl_valid.h"

static bool id_char(char c, sl_id_kind kind)
{
    bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
    switch (kind) {
    case SL_ID:
    case SL_ID_SHORT:
        return upper || lower || digit || c == '.' || c == '_' || c == '-';
    case SL_ID_REGION:
        return upper || digit || c == '_' || c == '-';
    case SL_ID_KEY:
        return upper || lower || digit || c == '.' || c == '_' || c == '-' || c == ':' || c == '/';
    }
    return false;
}

static size_t id_max(sl_id_kind kind)
{
    switch (kind) {
    case SL_ID_SHORT:
    case SL_ID_REGION:
        return 32;
    case SL_ID:
    case SL_ID_KEY:
        return 64;
    }
    return 0;
}

static const char *id_rule(sl_id_kind kind)
{
    switch (kind) {
    case SL_ID:
        return "1..64 characters of A-Z a-z 0-9 . _ -";
    case SL_ID_SHORT:
        return "1..32 characters of A-Z a-z 0-9 . _ -";
    case SL_ID_REGION:
        return "1..32 characters of A-Z 0-9 _ -, starting with a letter";
    case SL_ID_KEY:
        return "1..64 characters of A-Z a-z 0-9 . _ - : /";
    }
    return "";
}

bool sl_id_ok(const char *s, sl_id_kind kind)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > id_max(kind))
        return false;
    if (kind == SL_ID_REGION && !(s[0] >= 'A' && s[0] <= 'Z'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!id_char(s[i], kind))
            return false;
    return true;
}

sl_status sl_valid_id(const char *field, const char *value, sl_id_kind kind, sl_err *err)
{
    if (value == NULL || value[0] == '\0')
        return sl_err_field(err, field, "%s is required (must not be empty)", field);
    if (!sl_id_ok(value, kind))
        return sl_err_field(err, field, "%s \"%.80s\" is malformed: expected %s", field, value,
                            id_rule(kind));
    return SL_OK;
}

sl_status sl_valid_opt_id(const char *field, const char *value, sl_id_kind kind, sl_err *err)
{
    if (value == NULL || value[0] == '\0')
        return SL_OK;
    return sl_valid_id(field, value, kind, err);
}

sl_status sl_valid_text(const char *field, const char *value, size_t min, size_t max, sl_err *err)
{
    const char *v = value != NULL ? value : "";
    size_t n = strlen(v);
    if (n < min)
        return min == 1 ? sl_err_field(err, field, "%s is required (must not be empty)", field)
                        : sl_err_field(err, field, "%s is shorter than %zu bytes", field, min);
    if (n > max)
        return sl_err_field(err, field, "%s is longer than %zu bytes", field, max);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7F)
            return sl_err_field(err, field, "%s contains a control character", field);
    if (!sl_utf8_valid((const uint8_t *)v, n, NULL))
        return sl_err_field(err, field, "%s is not valid UTF-8", field);
    return SL_OK;
}

/* ms as "YYYY-MM-DDTHH:MM:SSZ" (whole seconds, floored) into buf. */
static const char *utc(char buf[32], int64_t ms)
{
    int64_t s = ms / 1000 - (ms % 1000 < 0);
    int64_t d = s / 86400 - (s % 86400 < 0), sod = s - d * 86400;
    int y, m, dd;
    sl_civil_from_days(d, &y, &m, &dd);
    snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, dd, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60));
    return buf;
}

sl_status sl_valid_instant(const char *field, int64_t ms, int64_t min_ms, int64_t max_ms,
                           sl_err *err)
{
    if (ms >= min_ms && ms <= max_ms)
        return SL_OK;
    char lo[32], hi[32];
    return sl_err_set(err, SL_INVALID_ARGUMENT, "%s must be between %s and %s (got %" PRId64 ")",
                      field, utc(lo, min_ms), utc(hi, max_ms), ms);
}

sl_status sl_valid_date(const char *field, const char *value, sl_err *err)
{
    const char *v = value != NULL ? value : "";
    bool ok = strlen(v) == 10 && v[4] == '-' && v[7] == '-';
    for (int i = 0; ok && i < 10; i++)
        if (i != 4 && i != 7 && !(v[i] >= '0' && v[i] <= '9'))
            ok = false;
    if (ok) {
        int y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
        int m = (v[5] - '0') * 10 + (v[6] - '0'), d = (v[8] - '0') * 10 + (v[9] - '0');
        /* a real date is one the day number maps back to */
        int y2, m2, d2;
        sl_civil_from_days(sl_days_from_civil(y, m, d), &y2, &m2, &d2);
        ok = y >= 1 && m >= 1 && m <= 12 && d >= 1 && y2 == y && m2 == m && d2 == d;
    }
    if (ok)
        return SL_OK;
    return sl_err_field(err, field, "%s \"%.16s\" is malformed: expected a date YYYY-MM-DD", field,
                        v);
}
