/*
 * sl_status: names and gRPC codes of the suite's statuses, from the one list
 * in sl_status.h.
 */
#include "sl_status.h"

#include "sl_utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sl_status_name(sl_status st)
{
    switch (st) {
#define SL__STATUS_NAME(name, code)                                                                \
    case SL_##name:                                                                                \
        return #name;
        SL_STATUS_LIST(SL__STATUS_NAME)
#undef SL__STATUS_NAME
    }
    return "UNKNOWN_STATUS";
}

int sl_status_grpc_code(sl_status st)
{
    switch (st) {
#define SL__STATUS_CODE(name, code)                                                                \
    case SL_##name:                                                                                \
        return code;
        SL_STATUS_LIST(SL__STATUS_CODE)
#undef SL__STATUS_CODE
    }
    return 2; /* UNKNOWN */
}

sl_status sl_status_from_grpc_code(int code)
{
#define SL__STATUS_FROM(name, c)                                                                   \
    if (code == (c))                                                                               \
        return SL_##name;
    SL_STATUS_LIST(SL__STATUS_FROM)
#undef SL__STATUS_FROM
    return SL_UNKNOWN;
}

static void details_clear(sl_err *err)
{
    err->field[0] = '\0';
    err->reason[0] = '\0';
    err->n_meta = 0;
}

static void vset(sl_err *err, sl_status st, const char *fmt, va_list ap)
{
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    /* Messages quote user values; they reach gRPC, JSON logs and JSON
     * bodies, all of which require UTF-8. */
    sl_utf8_sanitize(err->msg, sizeof err->msg);
    err->status = st;
    details_clear(err);
}

/* Copies src into dst[cap] truncated and made valid UTF-8 (details go out
 * in protobuf strings, which must be UTF-8). */
static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
    sl_utf8_sanitize(dst, cap);
}

sl_status sl_err_set(sl_err *err, sl_status st, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, st, fmt, ap);
        va_end(ap);
    }
    return st;
}

sl_status sl_err_field(sl_err *err, const char *field, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, SL_INVALID_ARGUMENT, fmt, ap);
        va_end(ap);
        copy_text(err->field, sizeof err->field, field);
    }
    return SL_INVALID_ARGUMENT;
}

sl_status sl_err_reason(sl_err *err, sl_status st, const char *reason, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vset(err, st, fmt, ap);
        va_end(ap);
        copy_text(err->reason, sizeof err->reason, reason);
    }
    return st;
}

void sl_err_set_reason(sl_err *err, const char *reason)
{
    if (err != NULL)
        copy_text(err->reason, sizeof err->reason, reason);
}

void sl_err_meta(sl_err *err, const char *key, const char *fmt, ...)
{
    if (err == NULL || err->n_meta >= SL_ERR_META_MAX)
        return;
    size_t i = err->n_meta++;
    copy_text(err->meta[i].key, sizeof err->meta[i].key, key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->meta[i].value, sizeof err->meta[i].value, fmt, ap);
    va_end(ap);
    sl_utf8_sanitize(err->meta[i].value, sizeof err->meta[i].value);
}

void sl_err_wrap(sl_err *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char prefix[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[SL_ERR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    /* Truncation keeps the prefix, which says where the error happened. */
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3)
        n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t rest = sizeof err->msg - n - 3;
    size_t m = strnlen(old, rest);
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = '\0';
    sl_utf8_sanitize(err->msg, sizeof err->msg);
}

void sl_err_in_entry(sl_err *err, const char *list, size_t i)
{
    if (err == NULL)
        return;
    if (err->field[0] != '\0') {
        char old[SL_ERR_FIELD_MAX];
        memcpy(old, err->field, sizeof old);
        int n = snprintf(err->field, sizeof err->field, "%s[%zu].%s", list, i, old);
        if (n < 0 || (size_t)n >= sizeof err->field) /* too long to name: name the entry */
            snprintf(err->field, sizeof err->field, "%s[%zu]", list, i);
    }
    sl_err_wrap(err, "%s[%zu]", list, i);
}

void sl_err_clear(sl_err *err)
{
    if (err != NULL) {
        err->status = SL_OK;
        err->msg[0] = '\0';
        details_clear(err);
    }
}
