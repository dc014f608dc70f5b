/*
 * Fuzz target: the service desk's readers of time text (sd_time.c) -- the
 * TZif file reader sd_tz_from_tzif (every zone the service loads from
 * /usr/share/zoneinfo goes through it), the POSIX TZ rule parser
 * sd_tz_from_posix (also the TZif footer's), and the date and clock-time
 * parsers sd_date_parse and sd_hhmm_parse (request fields and settings).
 *
 * Input: byte 0 picks the parser; the rest is the TZif file, or the text up
 * to its first NUL for the others.
 * Properties checked: no crash, leak, hang or undefined behaviour; a
 * rejection is INVALID_ARGUMENT.  A zone that parsed is then read at fixed
 * instants from year 1 to 9999 and a few derived from the input:
 * sd_tz_local gives a second of the day in 0..86399, an offset within
 * +-26 h and an abbreviation; sd_tz_to_unix of that wall-clock reading
 * comes back to a reading of the same date and second (local -> unix ->
 * local), checked where the zone keeps one offset for four days around
 * the instant (sampled every ten minutes) so that the reading exists and
 * is not ambiguous -- sd_tz_to_unix assumes no zone changes its offset
 * twice in two days, which holds for every zone in tzdata -- and
 * sd_tz_to_unix of any reading lies within a day and two hours of the
 * reading taken as UTC.  A date that parsed formats back to the same text;
 * a clock time that parsed is a minute of the day in 0..1440 and matches
 * its digits.
 *
 * Built two ways: with clang -fsanitize=fuzzer for `make fuzz`, and with
 * fuzz_driver.c as a deterministic ctest that replays seeds and mutations.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sd_time.h"

#define MAX_TEXT 256
#define DAY 86400
/* RFC 8536's bounds on a UTC offset, and the POSIX rules' 24:59:59. */
#define MAX_OFFSET (26 * 3600)

static void check(bool ok)
{
    if (!ok)
        abort();
}

static int32_t offset(const sd_tz *z, int64_t t)
{
    sd_local_time lt;
    sd_tz_local(z, t, &lt);
    return lt.utc_offset;
}

/* Whether the zone keeps one offset from t - 4 days to t + 4 days, as far
 * as ten-minute samples tell. */
static bool steady_around(const sd_tz *z, int64_t t, int32_t off)
{
    for (int64_t s = t - 4 * DAY; s <= t + 4 * DAY; s += 600)
        if (offset(z, s) != off)
            return false;
    return true;
}

static void exercise_zone(const sd_tz *z, const uint8_t *data, size_t size)
{
    check(sd_tz_name(z) != NULL);
    uint64_t h = 1469598103934665603ULL; /* FNV-1a of the input */
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ULL;
    int64_t instants[] = {
        SD_TIME_MIN_S,
        SD_TIME_MIN_S + 5 * DAY,
        -2208988800, /* 1900 */
        -1,
        0,
        1000000000,
        1711846800, /* 2024-03-31T01:00Z: EU spring forward */
        1730595600, /* 2024-11-03T01:00Z: US fall back (05:00 UTC is 01:00 EDT) */
        2147483647,
        4102444800, /* 2100 */
        SD_TIME_MAX_S - 5 * DAY,
        SD_TIME_MAX_S,
        (int64_t)(h % (uint64_t)(4102444800 + 2208988800)) - 2208988800,
        (int64_t)((h >> 17) % (uint64_t)(SD_TIME_MAX_S - SD_TIME_MIN_S)) + SD_TIME_MIN_S,
    };
    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
        int64_t t = instants[i];
        sd_local_time lt;
        sd_tz_local(z, t, &lt);
        check(lt.second_of_day >= 0 && lt.second_of_day < DAY);
        check(lt.utc_offset > -MAX_OFFSET && lt.utc_offset < MAX_OFFSET);
        check(lt.abbr != NULL && strlen(lt.abbr) < 64);
        check((int64_t)lt.date * DAY + lt.second_of_day == t + lt.utc_offset);

        int64_t u = sd_tz_to_unix(z, lt.date, lt.second_of_day);
        int64_t as_utc = (int64_t)lt.date * DAY + lt.second_of_day;
        check(u >= as_utc - MAX_OFFSET && u <= as_utc + MAX_OFFSET);
        if (t - 4 * DAY >= SD_TIME_MIN_S && t + 4 * DAY <= SD_TIME_MAX_S &&
            steady_around(z, t, lt.utc_offset)) {
            sd_local_time back;
            sd_tz_local(z, u, &back);
            check(back.date == lt.date && back.second_of_day == lt.second_of_day);
            check(u == t);
        }
        /* Readings at and after midnight, including 24:00. */
        for (int32_t sod = 0; sod <= DAY; sod += DAY / 4) {
            int64_t v = sd_tz_to_unix(z, lt.date, sod);
            int64_t local = (int64_t)lt.date * DAY + sod;
            check(v >= local - MAX_OFFSET && v <= local + MAX_OFFSET);
        }
    }
}

static void fuzz_tzif(const uint8_t *data, size_t size)
{
    sd_tz *z = NULL;
    sl_err err = {0};
    sl_status st = sd_tz_from_tzif("Fuzz/Zone", data, size, &z, &err);
    if (st != SL_OK) {
        check(st == SL_INVALID_ARGUMENT && z == NULL);
        return;
    }
    exercise_zone(z, data, size);
    sd_tz_free(z);
}

static void fuzz_posix(const char *text, const uint8_t *data, size_t size)
{
    sd_tz *z = NULL;
    sl_err err = {0};
    sl_status st = sd_tz_from_posix("Fuzz/Rule", text, &z, &err);
    if (st != SL_OK) {
        check(st == SL_INVALID_ARGUMENT && z == NULL);
        return;
    }
    exercise_zone(z, data, size);
    sd_tz_free(z);
}

static void fuzz_date(const char *text)
{
    sd_date d = 12345;
    sl_err err = {0};
    sl_status st = sd_date_parse(text, &d, &err);
    if (st != SL_OK) {
        check(st == SL_INVALID_ARGUMENT && d == 12345);
        return;
    }
    char buf[SD_DATE_STR];
    sd_date_format(d, buf);
    check(strcmp(buf, text) == 0);
    int y, m, day;
    sd_date_to_ymd(d, &y, &m, &day);
    check(y >= 1 && y <= 9999 && sd_date_from_ymd(y, m, day) == d);
}

static void fuzz_hhmm(const char *text)
{
    int minute = -7;
    sl_err err = {0};
    sl_status st = sd_hhmm_parse(text, &minute, &err);
    if (st != SL_OK) {
        check(st == SL_INVALID_ARGUMENT && minute == -7);
        return;
    }
    check(minute >= 0 && minute <= 1440);
    check(strlen(text) == 5 && text[2] == ':');
    check((text[0] - '0') * 600 + (text[1] - '0') * 60 + (text[3] - '0') * 10 + (text[4] - '0') ==
          minute);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char text[MAX_TEXT + 1];
    size_t n = size - 1 < MAX_TEXT ? size - 1 : MAX_TEXT;
    memcpy(text, data + 1, n);
    text[n] = '\0';
    switch (data[0] % 4) {
    case 0:
        fuzz_tzif(data + 1, size - 1);
        break;
    case 1:
        fuzz_posix(text, data, size);
        break;
    case 2:
        fuzz_date(text);
        break;
    default:
        fuzz_hhmm(text);
        break;
    }
    return 0;
}
