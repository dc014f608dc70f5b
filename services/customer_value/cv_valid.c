/*
 * cv_valid: request validation shared by the customer-value handlers (see
 * cv_app.h).  Messages name the field and quote the value, PostgreSQL
 * style.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sl_date.h"
#include "sl_valid.h"
#include "cv_app.h"

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
        return sl_err_field(err, field, "%s is required", field);
    if (m->minor_units < min)
        return sl_err_field(err, field, "%s.minor_units must be at least %lld (got %lld)", field,
                            (long long)min, (long long)m->minor_units);
    const char *c = m->currency != NULL ? m->currency : "";
    if (strlen(c) != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' || c[2] < 'A' ||
        c[2] > 'Z')
        return sl_err_field(err, field, "%s.currency \"%.8s\" is not three upper-case letters",
                            field, c);
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
        return sl_err_field(err, field, "%s \"%.16s\" is not a month YYYY-MM", field, v);
    *set = true;
    *lo = (int32_t)sl_days_from_civil(y, m, 1);
    *hi = (m == 12 ? (int32_t)sl_days_from_civil(y + 1, 1, 1)
                   : (int32_t)sl_days_from_civil(y, m + 1, 1)) -
          1;
    return SL_OK;
}

/* ---- the method table's validate slots (cv_service.c) ---- */

sl_status cv_valid_reminders_request(const ProtobufCMessage *req, sl_err *err)
{
    const Shelfline__V1__GetRepurchaseRemindersRequest *r =
        (const Shelfline__V1__GetRepurchaseRemindersRequest *)req;
    sl_status st;
    if (r->as_of_ms != 0 && (st = cv_valid_time("as_of_ms", r->as_of_ms, err)) != SL_OK)
        return st;
    if (r->horizon_days < 0 || r->horizon_days > 365)
        return sl_err_field(err, "horizon_days", "horizon_days must be between 0 and 365 (got %d)",
                            r->horizon_days);
    if (r->limit < 0 || r->limit > 10000)
        return sl_err_field(err, "limit", "limit must be between 0 and 10000 (got %d)", r->limit);
    return SL_OK;
}

sl_status cv_valid_substitutes_request(const ProtobufCMessage *req, sl_err *err)
{
    const Shelfline__V1__SuggestSubstitutesRequest *r =
        (const Shelfline__V1__SuggestSubstitutesRequest *)req;
    sl_status st = cv_valid_id("sku", r->sku, err);
    if (st == SL_OK)
        st = cv_valid_region("region", r->region, err);
    if (st == SL_OK && r->customer_id[0] != '\0')
        st = cv_valid_id("customer_id", r->customer_id, err);
    if (st == SL_OK && (r->limit < 0 || r->limit > 50))
        st = sl_err_field(err, "limit", "limit must be between 0 and 50 (got %d)", r->limit);
    return st;
}

sl_status cv_valid_recommend_request(const ProtobufCMessage *req, sl_err *err)
{
    const Shelfline__V1__RecommendRequest *r = (const Shelfline__V1__RecommendRequest *)req;
    sl_status st = cv_valid_id("customer_id", r->customer_id, err);
    if (st != SL_OK)
        return st;
    if (r->n < 0 || r->n > 100)
        return sl_err_field(err, "n", "n must be between 0 and 100 (got %d)", r->n);
    return SL_OK;
}
