/*
 * sl_log: JSON log lines on stderr.
 */
#include "sl_log.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_trace.h"

/* Set once by sl_log_init before threads start; read-only afterwards. */
static const char *log_service = "shelfline";
static sl_log_level log_min = SL_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void sl_log_init(const char *service, sl_log_level min_level)
{
    log_service = service;
    log_min = min_level;
}

int sl_log_level_parse(const char *name, sl_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (sl_log_level)i;
            return 0;
        }
    }
    return -1;
}

int sl_log_enabled(sl_log_level level)
{
    return level >= log_min;
}

void sl_log_json_escape(char *buf, size_t cap, size_t *len, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = *len;
    /* Keep room for the worst-case escape (6 bytes) and the terminator. */
    for (; *s != '\0' && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"':
        case '\\':
            buf[n++] = '\\';
            buf[n++] = (char)c;
            break;
        case '\n':
            buf[n++] = '\\';
            buf[n++] = 'n';
            break;
        case '\r':
            buf[n++] = '\\';
            buf[n++] = 'r';
            break;
        case '\t':
            buf[n++] = '\\';
            buf[n++] = 't';
            break;
        default:
            if (c < 0x20) {
                buf[n++] = '\\';
                buf[n++] = 'u';
                buf[n++] = '0';
                buf[n++] = '0';
                buf[n++] = hex[c >> 4];
                buf[n++] = hex[c & 15];
            } else {
                buf[n++] = (char)c;
            }
        }
    }
    buf[n] = '\0';
    *len = n;
}

static void append_raw(char *buf, size_t cap, size_t *len, const char *s)
{
    if (*len + 1 >= cap)
        return;
    size_t n = strlen(s);
    if (n > cap - *len - 1)
        n = cap - *len - 1;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
}

/* One line: ts, level, service, event, request_id, trace_id, span_id, the
 * fields, msg -- written with one write(2). */
static void write_line(sl_log_level level, const char *event, const char *request_id,
                       const sl_trace *trace, const sl_log_field *fields, size_t nfields,
                       const char *msg)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char tsbuf[64];
    snprintf(tsbuf, sizeof tsbuf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

    if (trace == NULL)
        trace = sl_trace_current();
    if ((request_id == NULL || request_id[0] == '\0') && trace != NULL)
        request_id = trace->request_id;

    char line[4096];
    size_t len = 0;
    line[0] = '\0';
    append_raw(line, sizeof line, &len, "{\"ts\":\"");
    append_raw(line, sizeof line, &len, tsbuf);
    append_raw(line, sizeof line, &len, "\",\"level\":\"");
    append_raw(line, sizeof line, &len, level_names[level]);
    append_raw(line, sizeof line, &len, "\",\"service\":\"");
    sl_log_json_escape(line, sizeof line, &len, log_service);
    append_raw(line, sizeof line, &len, "\",\"event\":\"");
    sl_log_json_escape(line, sizeof line, &len, event);
    if (request_id != NULL && request_id[0] != '\0') {
        append_raw(line, sizeof line, &len, "\",\"request_id\":\"");
        sl_log_json_escape(line, sizeof line, &len, request_id);
    }
    if (trace != NULL) {
        append_raw(line, sizeof line, &len, "\",\"trace_id\":\"");
        append_raw(line, sizeof line, &len, trace->trace_id);
        append_raw(line, sizeof line, &len, "\",\"span_id\":\"");
        append_raw(line, sizeof line, &len, trace->span_id);
    }
    append_raw(line, sizeof line, &len, "\"");
    for (size_t i = 0; i < nfields; i++) {
        append_raw(line, sizeof line, &len, ",\"");
        sl_log_json_escape(line, sizeof line, &len, fields[i].key);
        if (fields[i].str != NULL) {
            append_raw(line, sizeof line, &len, "\":\"");
            sl_log_json_escape(line, sizeof line, &len, fields[i].str);
            append_raw(line, sizeof line, &len, "\"");
        } else {
            char num[40];
            /* JSON has no NaN or infinity. */
            if (isfinite(fields[i].num))
                snprintf(num, sizeof num, "\":%.15g", fields[i].num);
            else
                snprintf(num, sizeof num, "\":null");
            append_raw(line, sizeof line, &len, num);
        }
    }
    append_raw(line, sizeof line, &len, ",\"msg\":\"");
    /* Leave room for the closing characters so a truncated line is still JSON. */
    sl_log_json_escape(line, sizeof line - 4, &len, msg);
    append_raw(line, sizeof line, &len, "\"}\n");
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void sl__log_write(sl_log_level level, const char *event, const char *request_id, const char *fmt,
                   ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    write_line(level, event, request_id, NULL, NULL, 0, msg);
}

void sl__log_write_fields(sl_log_level level, const char *event, const sl_trace *trace,
                          const sl_log_field *fields, size_t nfields, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    write_line(level, event, NULL, trace, fields, nfields, msg);
}
