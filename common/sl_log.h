/*
 * sl_log: structured logs, one JSON object per line on stderr.
 *
 * The level and service name are set once at start-up, before any thread is
 * created (they are part of the configuration, not mutable state).  SL_LOG
 * checks the level before evaluating its arguments, so a disabled debug line
 * costs one comparison.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stddef.h>

typedef enum sl_log_level {
    SL_LOG_DEBUG = 0,
    SL_LOG_INFO = 1,
    SL_LOG_WARN = 2,
    SL_LOG_ERROR = 3,
} sl_log_level;

/* Sets the service name written on every line and the minimum level.
 * service must outlive the process (a string literal). */
void sl_log_init(const char *service, sl_log_level min_level);

/* Parses "debug", "info", "warn" or "error"; returns 0 on success, -1 if the
 * name is not one of those. */
int sl_log_level_parse(const char *name, sl_log_level *out);

int sl_log_enabled(sl_log_level level);

/* Writes one line: {"ts":..,"level":..,"service":..,"event":..,
 * "request_id":..,"msg":..}.  request_id may be NULL.  Strings are JSON-escaped;
 * the line is written with one write(2) so lines from threads never mix. */
void sl__log_write(sl_log_level level, const char *event, const char *request_id, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

#define SL_LOG(level, event, request_id, ...)                                                      \
    do {                                                                                           \
        if (sl_log_enabled(level))                                                                 \
            sl__log_write((level), (event), (request_id), __VA_ARGS__);                            \
    } while (0)

/* A named value added to a line: a string (str not NULL) or a number. */
typedef struct sl_log_field {
    const char *key;
    const char *str;
    double num;
} sl_log_field;

struct sl_trace;

/* Every line names the work it belongs to: request_id, trace_id and
 * span_id of trace, or when trace is NULL of the thread's current context
 * (sl_trace_current), when there is one.  The fields follow them, then
 * msg. */
void sl__log_write_fields(sl_log_level level, const char *event, const struct sl_trace *trace,
                          const sl_log_field *fields, size_t nfields, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#define SL_LOG_FIELDS(level, event, trace, fields, nfields, ...)                                   \
    do {                                                                                           \
        if (sl_log_enabled(level))                                                                 \
            sl__log_write_fields((level), (event), (trace), (fields), (nfields), __VA_ARGS__);     \
    } while (0)

/* Appends s to buf (capacity cap, current length *len) as JSON string content
 * (without quotes), truncating safely.  Exposed for tests. */
void sl_log_json_escape(char *buf, size_t cap, size_t *len, const char *s);

#endif
