/*
 * fc_valid: days and field checks (see fc_valid.h).  Civil-date
 * conversion after Howard Hinnant's days_from_civil / civil_from_days.
 */
#include "fc_valid.h"
#include "sl_date.h"
#include "sl_valid.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int32_t fc_day_from_civil(int y, int m, int d)
{
    return (int32_t)sl_days_from_civil(y, m, d);
}

void fc_day_format(int32_t day, char *buf, size_t cap)
{
    int y, m, d;
    sl_civil_from_days(day, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
}

int32_t fc_day_min(void)
{
    return fc_day_from_civil(1900, 1, 1);
}

int32_t fc_day_max(void)
{
    return fc_day_from_civil(2999, 12, 31);
}

sl_status fc_day_parse(const char *field, const char *s, int32_t *day, sl_err *err)
{
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        goto bad;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            goto bad;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1)
        goto bad;
    int32_t n = fc_day_from_civil(y, m, d);
    int y2, m2, d2;
    sl_civil_from_days(n, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)
        goto bad;
    *day = n;
    return SL_OK;
bad:
    return sl_err_set(err, SL_INVALID_ARGUMENT, "%s must be a date \"YYYY-MM-DD\", got \"%.40s\"",
                      field, s != NULL ? s : "");
}

sl_status fc_hour_parse(const char *prefix, int64_t hour_start_ms, const char *day, int32_t hour,
                        int64_t *out, sl_err *err)
{
    bool by_day = day != NULL && day[0] != '\0';
    if (hour_start_ms != 0 && by_day)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "%s.hour_start_ms and %s.day are exclusive: set one", prefix, prefix);
    if (hour_start_ms != 0) {
        if (hour_start_ms < 0 || hour_start_ms % 3600000 != 0)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "%s.hour_start_ms must be the start of an hour (a positive "
                              "multiple of 3600000), got %lld",
                              prefix, (long long)hour_start_ms);
        if (hour != 0)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "%s.hour must be 0 with %s.hour_start_ms, got %d", prefix, prefix,
                              (int)hour);
        *out = hour_start_ms;
        return SL_OK;
    }
    if (!by_day)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s.hour_start_ms or %s.day is required",
                          prefix, prefix);
    char f[64];
    snprintf(f, sizeof f, "%s.day", prefix);
    int32_t d;
    sl_status st = fc_day_parse(f, day, &d, err);
    if (st != SL_OK)
        return st;
    if (hour < 0 || hour > 23)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s.hour must be in 0..23, got %d", prefix,
                          (int)hour);
    *out = (int64_t)d * 86400000LL + (int64_t)hour * 3600000LL;
    return SL_OK;
}

int32_t fc_day_today(void)
{
    return (int32_t)(time(NULL) / 86400);
}

int64_t fc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fc_day_weekday(int32_t day)
{
    /* 1970-01-01 was a Thursday (3 counting from Monday = 0). */
    int w = (int)((day + 3) % 7);
    return w < 0 ? w + 7 : w;
}

/* The grammar is the suite's (sl_valid.h); allow_empty makes the id an
 * optional filter. */

sl_status fc_valid_id(const char *field, const char *s, bool allow_empty, sl_err *err)
{
    return allow_empty ? sl_valid_opt_id(field, s, SL_ID, err) : sl_valid_id(field, s, SL_ID, err);
}

sl_status fc_valid_region(const char *field, const char *s, bool allow_empty, sl_err *err)
{
    return allow_empty ? sl_valid_opt_id(field, s, SL_ID_REGION, err)
                       : sl_valid_id(field, s, SL_ID_REGION, err);
}

sl_status fc_valid_text(const char *field, const char *s, size_t max, sl_err *err)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s must be 1..%zu bytes, got %zu", field, max,
                          n);
    return SL_OK;
}

sl_status fc_valid_period(const char *prefix, const char *start_day, const char *end_day,
                          int32_t today, int max_days, int ahead, int32_t *from, int32_t *to,
                          sl_err *err)
{
    char f[64];
    snprintf(f, sizeof f, "%s.start_day", prefix);
    sl_status st = fc_day_parse(f, start_day, from, err);
    if (st != SL_OK)
        return st;
    if (*from < today)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s must not be before today (\"%s\")", f,
                          start_day);
    snprintf(f, sizeof f, "%s.end_day", prefix);
    if ((st = fc_day_parse(f, end_day, to, err)) != SL_OK)
        return st;
    if (*to < *from || *to - *from >= max_days)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s must be 0..%d days after %s.start_day", f,
                          max_days - 1, prefix);
    if (*to - today > ahead)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s must be at most %d days after today", f,
                          ahead);
    return SL_OK;
}
