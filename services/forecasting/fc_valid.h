/*
 * fc_valid: calendar days and request-field validation of the forecasting
 * service (pure; unit-tested).
 *
 * A day number counts days since 1970-01-01 (proleptic Gregorian, UTC).
 */
#ifndef FC_VALID_H
#define FC_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_status.h"

/* Day number of y-m-d (no range check). */
int32_t fc_day_from_civil(int y, int m, int d);

/* Writes "YYYY-MM-DD" of day into buf (cap >= 11). */
void fc_day_format(int32_t day, char *buf, size_t cap);

/* Parses a strict "YYYY-MM-DD" (year 1900..2999, a real date).  Fails with
 * INVALID_ARGUMENT naming field and the value. */
sl_status fc_day_parse(const char *field, const char *s, int32_t *day, sl_err *err);

/* Today's day number (UTC). */
int32_t fc_day_today(void);

/* The current time, Unix ms (UTC). */
int64_t fc_now_ms(void);

/* The bounds fc_day_parse accepts. */
int32_t fc_day_min(void);
int32_t fc_day_max(void);

/* The start (Unix ms, UTC) of an hour named either by hour_start_ms (> 0,
 * a multiple of 3,600,000; then day must be empty and hour 0) or by day
 * "YYYY-MM-DD" and hour 0..23.  Fails with INVALID_ARGUMENT naming
 * <prefix>.hour_start_ms, <prefix>.day or <prefix>.hour. */
sl_status fc_hour_parse(const char *prefix, int64_t hour_start_ms, const char *day, int32_t hour,
                        int64_t *out, sl_err *err);

/* Day of the week, 0 = Monday. */
int fc_day_weekday(int32_t day);

/* 1..64 of A-Z a-z 0-9 . _ - (SKUs, event ids): INVALID_ARGUMENT naming
 * field otherwise.  allow_empty accepts "". */
sl_status fc_valid_id(const char *field, const char *s, bool allow_empty, sl_err *err);

/* Region: 1..32 of A-Z 0-9 _ -, starting with a letter. */
sl_status fc_valid_region(const char *field, const char *s, bool allow_empty, sl_err *err);

/* Free text of 1..max bytes (reasons, authors): INVALID_ARGUMENT naming
 * field otherwise.  (UTF-8 validity is checked before any handler.) */
sl_status fc_valid_text(const char *field, const char *s, size_t max, sl_err *err);

/* A future period of days: start_day and end_day ("YYYY-MM-DD") under
 * prefix ("period"), start not before today, end not before start, at most
 * max_days days long and ending at most ahead days after today.
 * INVALID_ARGUMENT naming <prefix>, <prefix>.start_day or <prefix>.end_day
 * otherwise. */
sl_status fc_valid_period(const char *prefix, const char *start_day, const char *end_day,
                          int32_t today, int max_days, int ahead, int32_t *from, int32_t *to,
                          sl_err *err);

#endif
