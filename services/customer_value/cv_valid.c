/*
 * cv_valid: request validation shared by the customer-value handlers (see
 * cv_app.h).  Messages name the field and quote the value, PostgreSQL
 * style.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sl_date.h"
#include "cv_app.h"

sl_status cv_valid_id(const char *field, const char *v, sl_err *err)
{
    size_t n = v != NULL ? strlen(v) : 0;
    if (n == 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s is required", field);
    if (n > 64)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s is longer than 64 characters", field);
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "%s \"%.64s\" has a character outside A-Z a-z 0-9 . _ -", field, v);
    }
    return SL_OK;
}

sl_status cv_valid_region(const char *field, const char *v, sl_err *err)
{
    size_t n = v != NULL ? strlen(v) : 0;
    if (n == 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s is required", field);
    if (n > 32)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s is longer than 32 characters", field);
    if (!(v[0] >= 'A' && v[0] <= 'Z'))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s \"%s\" must start with a letter A-Z", field,
                          v);
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "%s \"%s\" has a character outside A-Z 0-9 _ -", field, v);
    }
    return SL_OK;
}

sl_status cv_valid_text(const char *field, const char *v, size_t min, size_t max, sl_err *err)
{
    size_t n = v != NULL ? strlen(v) : 0;
    if (n < min)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s is required", field);
    if (n > max)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s is longer than %zu bytes", field, max);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return sl_err_set(err, SL_INVALID_ARGUMENT, "%s has a control character", field);
    return SL_OK;
}

sl_status cv_valid_time(const char *field, int64_t ms, sl_err *err)
{
    if (ms <= 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s must be positive (got %lld)", field,
                          (long long)ms);
    if (ms > sl_db_now_ms() + CV_DAY_MS)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "%s is more than a day in the future (got %lld)", field, (long long)ms);
    return SL_OK;
}

sl_status cv_valid_money(const char *field, const Shelfline__V1__Money *m, int64_t min, sl_err *err)
{
    if (m == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s is required", field);
    if (m->minor_units < min)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "%s.minor_units must be at least %lld (got %lld)", field, (long long)min,
                          (long long)m->minor_units);
    const char *c = m->currency != NULL ? m->currency : "";
    if (strlen(c) != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' || c[2] < 'A' ||
        c[2] > 'Z')
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "%s.currency \"%.8s\" is not three upper-case letters", field, c);
    return SL_OK;
}

sl_status cv_valid_cohort(const char *field, const char *v, bool *set, int32_t *lo, int32_t *hi,
                          sl_err *err)
{
    *set = false;
    *lo = *hi = 0;
    if (v == NULL || v[0] == '\0')
        return SL_OK;
    int y = 0, m = 0;
    char tail = 0;
    if (strlen(v) != 7 || v[4] != '-' || sscanf(v, "%4d-%2d%c", &y, &m, &tail) != 2 || y < 1970 ||
        y > 9999 || m < 1 || m > 12)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s \"%.16s\" is not a month YYYY-MM", field,
                          v);
    *set = true;
    *lo = (int32_t)sl_days_from_civil(y, m, 1);
    *hi = (m == 12 ? (int32_t)sl_days_from_civil(y + 1, 1, 1)
                   : (int32_t)sl_days_from_civil(y, m + 1, 1)) -
          1;
    return SL_OK;
}
