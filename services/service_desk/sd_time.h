/*
 * sd_time: calendar dates, clock times and IANA time zones for the
 * service-desk engines (ETAs in sd_eta, SLA clocks in sd_sla).
 *
 * Why not localtime_r() after setenv("TZ")?  TZ is process-wide: changing
 * it while another thread converts a time is a data race, and a service
 * computes ETAs for warehouses in many zones at once on every worker.  So
 * this module reads the system's compiled tz database (/usr/share/zoneinfo,
 * Debian's tzdata package) itself: the 64-bit section of each TZif file
 * (RFC 8536, version 2 and later; version 1 files are read from their 32-bit
 * section) for the recorded transitions, and the POSIX TZ rule in the
 * file's footer for instants after the last recorded transition.  Parsed
 * zones are immutable; an sd_tzdb loads each zone once and shares it with
 * any number of threads.
 *
 * Instants are Unix seconds (UTC, no leap seconds), clamped to years
 * 1..9999 (SD_TIME_MIN_S..SD_TIME_MAX_S) so that calendar arithmetic never
 * overflows.  Dates are sd_date: days since 1970-01-01 in the proleptic
 * Gregorian calendar.  Weekdays run Monday (0) to Sunday (6), ISO order.
 */
#ifndef SD_TIME_H
#define SD_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_status.h"

/* ---- dates ------------------------------------------------------------- */

/* A calendar date: days since 1970-01-01 (negative before). */
typedef int32_t sd_date;

/* Room for "YYYY-MM-DD" and its NUL. */
#define SD_DATE_STR 11

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define SD_TIME_MIN_S INT64_C(-62135596800)
#define SD_TIME_MAX_S INT64_C(253402300799)

/* Whether a Unix epoch millisecond time lies within years 1..9999. */
bool sd_time_ms_valid(int64_t ms);

/* Unix seconds of a Unix epoch millisecond time, rounded down. */
int64_t sd_time_ms_to_s(int64_t ms);

typedef enum sd_weekday {
    SD_MON,
    SD_TUE,
    SD_WED,
    SD_THU,
    SD_FRI,
    SD_SAT,
    SD_SUN,
} sd_weekday;

/* Weekday sets are bit masks: bit SD_WEEKDAY_BIT(SD_MON) for Monday, ... */
#define SD_WEEKDAY_BIT(wd) (1u << (unsigned)(wd))
#define SD_WEEKDAYS_MON_FRI 0x1Fu
#define SD_WEEKDAYS_ALL 0x7Fu

/* The date of year-month-day.  Out-of-range months and days are not
 * checked here (use sd_date_parse for untrusted input); year must be within
 * 1..9999. */
sd_date sd_date_from_ymd(int year, int month, int day);

/* Splits d into year, month (1..12) and day (1..31); any pointer may be
 * NULL. */
void sd_date_to_ymd(sd_date d, int *year, int *month, int *day);

sd_weekday sd_date_weekday(sd_date d);

/* Three-letter English name, "Mon" .. "Sun".  Static storage. */
const char *sd_weekday_name(sd_weekday wd);

/* Parses exactly "YYYY-MM-DD" (a real date, year 0001..9999).  Fails with
 * SL_INVALID_ARGUMENT quoting the value. */
sl_status sd_date_parse(const char *s, sd_date *out, sl_err *err);

/* Writes d as "YYYY-MM-DD" into out (dates outside years 1..9999 are
 * clamped to them). */
void sd_date_format(sd_date d, char out[SD_DATE_STR]);

/* Parses "HH:MM" (24-hour, "00:00" .. "24:00") into minutes after midnight.
 * Fails with SL_INVALID_ARGUMENT quoting the value. */
sl_status sd_hhmm_parse(const char *s, int *minute_of_day, sl_err *err);

/* Sorts dates[0..*n) ascending and drops duplicates in place, updating *n:
 * the form sd_dates_contains() expects. */
void sd_dates_normalize(sd_date *dates, size_t *n);

/* Whether d is in dates[0..n), which must be sorted ascending (binary
 * search). */
bool sd_dates_contains(const sd_date *dates, size_t n, sd_date d);

/* ---- time zones --------------------------------------------------------- */

/* One zone's rules; immutable once built, so safe to share across threads. */
typedef struct sd_tz sd_tz;

/* A set of zones loaded on demand from a zoneinfo directory and kept until
 * the set is freed.  Thread-safe: lookups take a read lock, a zone's first
 * load a write lock. */
typedef struct sd_tzdb sd_tzdb;

/* How an instant reads on a zone's wall clock. */
typedef struct sd_local_time {
    sd_date date;
    int32_t second_of_day; /* 0..86399 */
    int32_t utc_offset;    /* seconds east of UTC */
    bool is_dst;
    const char *abbr; /* e.g. "CEST"; owned by the zone */
} sd_local_time;

/*
 * Opens the zoneinfo directory dir (NULL: "/usr/share/zoneinfo") and loads
 * "UTC" from it as a check, so that a missing tzdata package is found at
 * start-up rather than on the first request.  On success *out is owned by
 * the caller (sd_tzdb_free).  Fails with SL_FAILED_PRECONDITION when the
 * directory or its UTC zone cannot be read, SL_RESOURCE_EXHAUSTED when out
 * of memory.
 */
sl_status sd_tzdb_new(const char *dir, sd_tzdb **out, sl_err *err);

/* Frees the set and every zone it handed out.  NULL is a no-op. */
void sd_tzdb_free(sd_tzdb *db);

/*
 * The zone named name (an IANA name such as "Europe/Paris" or "UTC"),
 * loaded on first use.  *out is borrowed: it stays valid until
 * sd_tzdb_free(db).  Fails with SL_INVALID_ARGUMENT for a malformed name
 * (empty, longer than 255 bytes, absolute, with "." or ".." components or
 * characters outside [A-Za-z0-9._+-/]), SL_NOT_FOUND for a well-formed name
 * the database does not have, SL_INTERNAL for a zone file that cannot be
 * read or parsed, SL_RESOURCE_EXHAUSTED when out of memory.
 */
sl_status sd_tzdb_get(sd_tzdb *db, const char *name, const sd_tz **out, sl_err *err);

/*
 * Parses the TZif data[0..len) into a standalone zone named name.  On
 * success *out is owned by the caller (sd_tz_free).  Fails with
 * SL_INVALID_ARGUMENT naming what is wrong (truncated, bad counts,
 * unsorted transitions, a bad footer, leap-second records: the "right/"
 * zones count leap seconds and are not Unix time), SL_RESOURCE_EXHAUSTED
 * when out of memory.
 */
sl_status sd_tz_from_tzif(const char *name, const unsigned char *data, size_t len, sd_tz **out,
                          sl_err *err);

/*
 * A zone that follows the POSIX TZ rule rule for all time, e.g.
 * "CET-1CEST,M3.5.0,M10.5.0/3" (the form in TZif footers, including the
 * RFC 8536 extensions: hours up to 167 and negative rule times).  On
 * success *out is owned by the caller (sd_tz_free).  Fails with
 * SL_INVALID_ARGUMENT quoting the rule, SL_RESOURCE_EXHAUSTED when out of
 * memory.
 */
sl_status sd_tz_from_posix(const char *name, const char *rule, sd_tz **out, sl_err *err);

/* Frees a zone from sd_tz_from_tzif or sd_tz_from_posix; never one from an
 * sd_tzdb.  NULL is a no-op. */
void sd_tz_free(sd_tz *z);

/* The zone's name as given when it was built.  Owned by the zone. */
const char *sd_tz_name(const sd_tz *z);

/* How the instant unix_s (clamped to SD_TIME_MIN_S..SD_TIME_MAX_S) reads in
 * zone z. */
void sd_tz_local(const sd_tz *z, int64_t unix_s, sd_local_time *out);

/*
 * The instant at which zone z's wall clock reads date and second_of_day
 * (0..86400; 86400 is the next midnight).  Wall-clock readings that do not
 * exist or exist twice around a transition resolve as most calendars do
 * (RFC 5545, JavaScript's Temporal "compatible"): a reading in a gap
 * (spring forward) is moved forward by the gap's length, so 02:30 on a
 * spring-forward day becomes 03:30; an ambiguous reading (fall back) is the
 * earlier of its two instants.
 */
int64_t sd_tz_to_unix(const sd_tz *z, sd_date date, int32_t second_of_day);

#endif
