/*
 * cv_valid: request validation and small helpers shared by the
 * customer-value handlers (see cv_app.h).  Messages name the field and
 * quote the value, PostgreSQL style.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sl_date.h"
#include "sl_valid.h"
#include "cv_app.h"

sl_db_tx_options cv_tx_opts(sl_call *call, bool read_only)
{
    int64_t d = sl_call_deadline_ms(call);
    sl_db_tx_options o = {
        .isolation = read_only ? SL_DB_REPEATABLE_READ : SL_DB_READ_COMMITTED,
        .read_only = read_only,
        .deadline_ms = d == INT64_MAX ? 0 : d,
    };
    return o;
}

int32_t cv_day(int64_t ms)
{
    int64_t d = ms / CV_DAY_MS;
    if (ms < 0 && ms % CV_DAY_MS != 0)
        d--;
    return (int32_t)d;
}

/* The grammar and the text rule are the suite's (sl_valid.h). */

sl_status cv_valid_id(const char *field, const char *v, sl_err *err)
{
    return sl_valid_id(field, v, SL_ID, err);
}

sl_status cv_valid_region(const char *field, const char *v, sl_err *err)
{
    return sl_valid_id(field, v, SL_ID_REGION, err);
}

sl_status cv_valid_text(const char *field, const char *v, size_t min, size_t max, sl_err *err)
{
    return sl_valid_text(field, v, min, max, err);
}

/* Purchases and sign-ups happen after 1970 and at most a day ahead of our
 * clock (a client's clock may run a little fast). */
sl_status cv_valid_time(const char *field, int64_t ms, sl_err *err)
{
    return sl_valid_instant(field, ms, 1, sl_db_now_ms() + CV_DAY_MS, err);
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

const uint8_t *cv_pack(sl_call *call, const ProtobufCMessage *m, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = sl_arena_alloc(sl_call_arena(call), n + 1);
    if (buf == NULL)
        return NULL;
    *len = protobuf_c_message_pack(m, buf);
    return buf;
}

Shelfline__V1__Money *cv_money(sl_arena *a, int64_t minor, const char *currency)
{
    Shelfline__V1__Money *m = sl_arena_alloc(a, sizeof *m);
    if (m == NULL)
        return NULL;
    shelfline__v1__money__init(m);
    m->minor_units = minor;
    m->currency = (char *)(currency != NULL ? currency : "");
    return m;
}
