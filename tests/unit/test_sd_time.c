/* sd_time: calendar arithmetic, TZif zones against known conversions and
 * against glibc, local-to-UTC around gaps and folds, the shared zone set. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sd_time.h"

static sd_tzdb *db;

static int setup(void **state)
{
    (void)state;
    sl_err err;
    if (sd_tzdb_new(NULL, &db, &err) != SL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sd_tzdb_free(db);
    return 0;
}

static const sd_tz *zone(const char *name)
{
    const sd_tz *z = NULL;
    sl_err err;
    if (sd_tzdb_get(db, name, &z, &err) != SL_OK)
        fail_msg("%s", err.msg);
    return z;
}

static sd_date D(const char *s)
{
    sd_date d;
    assert_int_equal(sd_date_parse(s, &d, NULL), SL_OK);
    return d;
}

static void test_dates(void **state)
{
    (void)state;
    assert_int_equal(sd_date_from_ymd(1970, 1, 1), 0);
    assert_int_equal(sd_date_from_ymd(1969, 12, 31), -1);
    assert_int_equal(sd_date_from_ymd(2000, 3, 1) - sd_date_from_ymd(2000, 2, 28), 2);
    assert_int_equal(sd_date_from_ymd(2100, 3, 1) - sd_date_from_ymd(2100, 2, 28), 1);
    assert_int_equal(sd_date_weekday(0), SD_THU);
    assert_int_equal(sd_date_weekday(-1), SD_WED);
    assert_int_equal(sd_date_weekday(D("2024-02-29")), SD_THU);
    assert_int_equal(sd_date_weekday(D("2000-01-01")), SD_SAT);
    assert_int_equal(sd_date_weekday(D("0001-01-01")), SD_MON);
    assert_string_equal(sd_weekday_name(SD_SUN), "Sun");

    /* Every day of 1600..2400 round-trips through y-m-d and the string. */
    for (sd_date d = sd_date_from_ymd(1600, 1, 1); d < sd_date_from_ymd(2400, 1, 1); d += 1) {
        int y, m, dd;
        sd_date_to_ymd(d, &y, &m, &dd);
        assert_int_equal(sd_date_from_ymd(y, m, dd), d);
        if (d % 97 == 0) {
            char buf[SD_DATE_STR];
            sd_date_format(d, buf);
            assert_int_equal(D(buf), d);
        }
    }
    char buf[SD_DATE_STR];
    sd_date_format(D("9999-12-31"), buf);
    assert_string_equal(buf, "9999-12-31");

    sl_err err;
    sd_date d;
    const char *bad[] = {"2023-02-29", "2024-13-01", "2024-1-01",        "2024-01-32", "0000-01-01",
                         "2024/01/01", "",           "2024-01-01T00:00", "x024-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(sd_date_parse(bad[i], &d, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "invalid date \"x024-01-01\": expected YYYY-MM-DD");
    assert_int_equal(sd_date_parse(NULL, &d, &err), SL_INVALID_ARGUMENT);
}

static void test_hhmm_and_date_sets(void **state)
{
    (void)state;
    int m;
    assert_int_equal(sd_hhmm_parse("00:00", &m, NULL), SL_OK);
    assert_int_equal(m, 0);
    assert_int_equal(sd_hhmm_parse("14:30", &m, NULL), SL_OK);
    assert_int_equal(m, 870);
    assert_int_equal(sd_hhmm_parse("24:00", &m, NULL), SL_OK);
    assert_int_equal(m, 1440);
    const char *bad[] = {"24:01", "9:00", "09:60", "0900", "", "ab:cd", "09:00 "};
    sl_err err;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(sd_hhmm_parse(bad[i], &m, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_hhmm_parse(NULL, &m, &err), SL_INVALID_ARGUMENT);

    sd_date set[] = {30, 10, 20, 10, 30, -5};
    size_t n = 6;
    sd_dates_normalize(set, &n);
    assert_int_equal(n, 4);
    assert_int_equal(set[0], -5);
    assert_int_equal(set[3], 30);
    assert_true(sd_dates_contains(set, n, 20));
    assert_true(sd_dates_contains(set, n, -5));
    assert_false(sd_dates_contains(set, n, 21));
    assert_false(sd_dates_contains(set, n, 31));
    assert_false(sd_dates_contains(set, 0, 20));
}

/* Expected readings from Python's zoneinfo over the same tzdata. */
typedef struct known {
    const char *zone;
    int64_t t;
    const char *date;
    int hh, mm, ss;
    int offset;
    const char *abbr;
    bool dst;
} known;

static const known KNOWN[] = {
    /* America/New_York: spring forward and fall back, 2025 (in the table)
     * and 2045 (after it: the footer rule). */
    {"America/New_York", 1741503599, "2025-03-09", 1, 59, 59, -18000, "EST", false},
    {"America/New_York", 1741503600, "2025-03-09", 3, 0, 0, -14400, "EDT", true},
    {"America/New_York", 1762063199, "2025-11-02", 1, 59, 59, -14400, "EDT", true},
    {"America/New_York", 1762063200, "2025-11-02", 1, 0, 0, -18000, "EST", false},
    {"America/New_York", 2372914799, "2045-03-12", 1, 59, 59, -18000, "EST", false},
    {"America/New_York", 2372914800, "2045-03-12", 3, 0, 0, -14400, "EDT", true},
    {"America/New_York", 2393474400, "2045-11-05", 1, 0, 0, -18000, "EST", false},
    /* Before the first transition: local mean time (type 0). */
    {"America/New_York", -5364662400, "1799-12-31", 19, 3, 58, -17762, "LMT", false},
    {"Europe/Berlin", 1743296399, "2025-03-30", 1, 59, 59, 3600, "CET", false},
    {"Europe/Berlin", 1743296400, "2025-03-30", 3, 0, 0, 7200, "CEST", true},
    {"Europe/Berlin", 1761440399, "2025-10-26", 2, 59, 59, 7200, "CEST", true},
    {"Europe/Berlin", 1761440400, "2025-10-26", 2, 0, 0, 3600, "CET", false},
    {"Europe/Berlin", -2208988800, "1900-01-01", 1, 0, 0, 3600, "CET", false},
    {"Asia/Shanghai", 1751371200, "2025-07-01", 20, 0, 0, 28800, "CST", false},
    /* China observed daylight time 1986-1991. */
    {"Asia/Shanghai", 583761600, "1988-07-01", 21, 0, 0, 32400, "CDT", true},
    /* Australia/Sydney: southern hemisphere, daylight time across New Year. */
    {"Australia/Sydney", 1743868799, "2025-04-06", 2, 59, 59, 39600, "AEDT", true},
    {"Australia/Sydney", 1743868800, "2025-04-06", 2, 0, 0, 36000, "AEST", false},
    {"Australia/Sydney", 1759593599, "2025-10-05", 1, 59, 59, 36000, "AEST", false},
    {"Australia/Sydney", 1759593600, "2025-10-05", 3, 0, 0, 39600, "AEDT", true},
    {"Australia/Sydney", 2525817600, "2050-01-15", 11, 0, 0, 39600, "AEDT", true},
    {"Australia/Sydney", 2541456000, "2050-07-15", 10, 0, 0, 36000, "AEST", false},
    /* America/Nuuk's footer has negative and midnight rule times
     * ("<-02>2<-01>,M3.5.0/-1,M10.5.0/0"). */
    {"America/Nuuk", 1901149199, "2030-03-30", 22, 59, 59, -7200, "-02", false},
    {"America/Nuuk", 1901149200, "2030-03-31", 0, 0, 0, -3600, "-01", true},
    {"America/Nuuk", 1919289600, "2030-10-26", 23, 0, 0, -3600, "-01", true},
    {"America/Nuuk", 1919293200, "2030-10-26", 23, 0, 0, -7200, "-02", false},
    {"UTC", 0, "1970-01-01", 0, 0, 0, 0, "UTC", false},
    {"UTC", 253402300799, "9999-12-31", 23, 59, 59, 0, "UTC", false},
};

static void test_known_conversions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof KNOWN / sizeof *KNOWN; i++) {
        const known *k = &KNOWN[i];
        sd_local_time lt;
        sd_tz_local(zone(k->zone), k->t, &lt);
        char buf[SD_DATE_STR];
        sd_date_format(lt.date, buf);
        if (strcmp(buf, k->date) != 0 || lt.second_of_day != k->hh * 3600 + k->mm * 60 + k->ss ||
            lt.utc_offset != k->offset || strcmp(lt.abbr, k->abbr) != 0 || lt.is_dst != k->dst)
            fail_msg("%s at %lld: got %s %d offset %d %s", k->zone, (long long)k->t, buf,
                     lt.second_of_day, lt.utc_offset, lt.abbr);
    }
}

/* Our reading of many instants in many zones equals glibc's localtime_r
 * over the same files (setenv("TZ") is fine in this one-threaded test; it
 * is what the service must not do). */
static void test_matches_glibc(void **state)
{
    (void)state;
    const char *zones[] = {"America/New_York",   "Europe/Berlin",     "Asia/Shanghai",
                           "Australia/Sydney",   "America/Sao_Paulo", "Asia/Kolkata",
                           "Pacific/Chatham",    "Africa/Casablanca", "America/Nuuk",
                           "Europe/London",      "Asia/Tehran",       "Pacific/Apia",
                           "Australia/Lord_Howe"};
    char *old_tz = getenv("TZ") != NULL ? strdup(getenv("TZ")) : NULL;
    uint64_t rng = 42;
    for (size_t zi = 0; zi < sizeof zones / sizeof *zones; zi++) {
        const sd_tz *z = zone(zones[zi]);
        setenv("TZ", zones[zi], 1);
        tzset();
        for (int i = 0; i < 20000; i++) {
            rng = rng * 6364136223846793005u + 1442695040888963407u;
            /* 1901 .. 2099 */
            int64_t t = -2177452800 + (int64_t)((rng >> 11) % 6279984000u);
            time_t tt = (time_t)t;
            struct tm tm;
            localtime_r(&tt, &tm);
            sd_local_time lt;
            sd_tz_local(z, t, &lt);
            int y, m, d;
            sd_date_to_ymd(lt.date, &y, &m, &d);
            if (y != tm.tm_year + 1900 || m != tm.tm_mon + 1 || d != tm.tm_mday ||
                lt.second_of_day != tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec ||
                lt.utc_offset != tm.tm_gmtoff || lt.is_dst != (tm.tm_isdst > 0))
                fail_msg("%s at %lld: %04d-%02d-%02d +%d off %d vs glibc %d-%d-%d %02d:%02d "
                         "off %ld",
                         zones[zi], (long long)t, y, m, d, lt.second_of_day, lt.utc_offset,
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_gmtoff);
            /* Back to UTC: the same instant, or in a fold the earlier one
             * that reads the same. */
            int64_t back = sd_tz_to_unix(z, lt.date, lt.second_of_day);
            if (back != t) {
                sd_local_time again;
                sd_tz_local(z, back, &again);
                assert_true(back < t);
                assert_int_equal(again.date, lt.date);
                assert_int_equal(again.second_of_day, lt.second_of_day);
            }
        }
    }
    if (old_tz != NULL)
        setenv("TZ", old_tz, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old_tz);
}

static void test_gaps_and_folds(void **state)
{
    (void)state;
    const sd_tz *ny = zone("America/New_York");
    /* 02:30 on 2025-03-09 does not exist: moved forward to 03:30 EDT. */
    int64_t t = sd_tz_to_unix(ny, D("2025-03-09"), 2 * 3600 + 1800);
    assert_int_equal(t, 1741503600 + 1800);
    /* 01:30 on 2025-11-02 happens twice: the first (EDT) one. */
    t = sd_tz_to_unix(ny, D("2025-11-02"), 3600 + 1800);
    assert_int_equal(t, 1762063200 - 1800);
    /* Ordinary readings, and 24:00 as the next midnight. */
    assert_int_equal(sd_tz_to_unix(ny, D("2025-07-04"), 12 * 3600), 1751644800);
    assert_int_equal(sd_tz_to_unix(ny, D("2025-07-04"), 86400),
                     sd_tz_to_unix(ny, D("2025-07-05"), 0));
    /* Sydney's spring forward: 02:30 on 2025-10-05 becomes 03:30 AEDT. */
    const sd_tz *syd = zone("Australia/Sydney");
    t = sd_tz_to_unix(syd, D("2025-10-05"), 2 * 3600 + 1800);
    assert_int_equal(t, 1759593600 + 1800);
    /* and its fall back: 02:30 on 2025-04-06 is first AEDT. */
    t = sd_tz_to_unix(syd, D("2025-04-06"), 2 * 3600 + 1800);
    assert_int_equal(t, 1743868800 - 1800);
}

static void test_posix_rules(void **state)
{
    (void)state;
    sd_tz *z;
    sl_err err;
    /* A rule zone reads like the file in years both cover. */
    assert_int_equal(sd_tz_from_posix("rule", "EST5EDT,M3.2.0,M11.1.0", &z, &err), SL_OK);
    const sd_tz *ny = zone("America/New_York");
    for (int64_t t = 1735689600; t < 1767225600; t += 1799) {
        sd_local_time a, b;
        sd_tz_local(z, t, &a);
        sd_tz_local(ny, t, &b);
        assert_int_equal(a.utc_offset, b.utc_offset);
        assert_string_equal(a.abbr, b.abbr);
    }
    assert_string_equal(sd_tz_name(z), "rule");
    sd_tz_free(z);

    /* Fixed offsets with angle-bracket names and minutes. */
    assert_int_equal(sd_tz_from_posix("x", "<+0545>-5:45", &z, NULL), SL_OK);
    sd_local_time lt;
    sd_tz_local(z, 0, &lt);
    assert_int_equal(lt.utc_offset, 5 * 3600 + 45 * 60);
    assert_string_equal(lt.abbr, "+0545");
    sd_tz_free(z);

    /* Daylight time all year ("J365/25" ends after the year does). */
    assert_int_equal(sd_tz_from_posix("x", "EST5EDT,0/0,J365/25", &z, NULL), SL_OK);
    for (int64_t t = 1704067200; t < 1767225600; t += 86400 * 7 + 3601) {
        sd_tz_local(z, t, &lt);
        assert_true(lt.is_dst);
        assert_int_equal(lt.utc_offset, -4 * 3600);
    }
    sd_tz_free(z);

    /* Julian day rules and an explicit daylight offset. */
    assert_int_equal(sd_tz_from_posix("x", "AAA3BBB1,J60/0,J300/0", &z, NULL), SL_OK);
    sd_tz_local(z, sd_tz_to_unix(z, D("2024-03-01"), 3600), &lt); /* J60 is Mar 1 */
    assert_true(lt.is_dst);
    assert_int_equal(lt.utc_offset, -3600);
    sd_tz_local(z, sd_tz_to_unix(z, D("2024-02-29"), 3600), &lt);
    assert_false(lt.is_dst);
    sd_tz_free(z);

    const char *bad[] = {"",
                         "E5",
                         "EST",
                         "EST5EDT,M3.2.0",
                         "EST25",
                         "EST5EDT,M13.1.0,M11.1.0",
                         "EST5EDT,M3.6.0,M11.1.0",
                         "EST5EDT,M3.2.7,M11.1.0",
                         "EST5EDT,J0,J100",
                         "<+05",
                         "EST5EDT,M3.2.0/168,M11.1.0",
                         "EST5 trailing",
                         "EST5:6"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (sd_tz_from_posix("x", bad[i], &z, &err) != SL_INVALID_ARGUMENT)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(sd_tz_from_posix("x", NULL, &z, &err), SL_INVALID_ARGUMENT);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void test_malformed_files(void **state)
{
    (void)state;
    size_t len;
    unsigned char *good = slurp("/usr/share/zoneinfo/Europe/Paris", &len);
    sd_tz *z;
    sl_err err;
    assert_int_equal(sd_tz_from_tzif("Europe/Paris", good, len, &z, &err), SL_OK);
    sd_tz_free(z);
    /* Every truncation is refused cleanly (the sanitizer build checks that
     * no read strays outside the buffer). */
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *copy = malloc(cut + 1);
        memcpy(copy, good, cut);
        sl_status st = sd_tz_from_tzif("Europe/Paris", copy, cut, &z, &err);
        if (st == SL_OK)
            sd_tz_free(z);
        else
            assert_int_equal(st, SL_INVALID_ARGUMENT);
        free(copy);
    }
    /* Flipped bits never crash; whatever parses is a usable zone. */
    uint64_t rng = 7;
    for (int i = 0; i < 3000; i++) {
        unsigned char *copy = malloc(len);
        memcpy(copy, good, len);
        for (int k = 0; k < 3; k++) {
            rng = rng * 6364136223846793005u + 1442695040888963407u;
            copy[(rng >> 20) % len] ^= (unsigned char)(1u << ((rng >> 8) & 7));
        }
        if (sd_tz_from_tzif("fuzz", copy, len, &z, &err) == SL_OK) {
            sd_local_time lt;
            for (int64_t t = -4000000000; t < 4000000000; t += 77777777)
                sd_tz_local(z, t, &lt);
            sd_tz_to_unix(z, 20000, 3600);
            sd_tz_free(z);
        }
        free(copy);
    }
    memcpy(good, "TZxx", 4);
    assert_int_equal(sd_tz_from_tzif("bad", good, len, &z, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "invalid time zone file for \"bad\": not a TZif file");
    free(good);

    /* Leap-second zones are refused: their clock is not Unix time. */
    FILE *f = fopen("/usr/share/zoneinfo/right/UTC", "rb");
    if (f != NULL) {
        fclose(f);
        unsigned char *right = slurp("/usr/share/zoneinfo/right/UTC", &len);
        assert_int_equal(sd_tz_from_tzif("right/UTC", right, len, &z, &err), SL_INVALID_ARGUMENT);
        assert_non_null(strstr(err.msg, "leap-second"));
        free(right);
    }
}

static void test_tzdb(void **state)
{
    (void)state;
    sl_err err;
    const sd_tz *a, *b;
    assert_int_equal(sd_tzdb_get(db, "Europe/Paris", &a, &err), SL_OK);
    assert_int_equal(sd_tzdb_get(db, "Europe/Paris", &b, &err), SL_OK);
    assert_ptr_equal(a, b);
    assert_string_equal(sd_tz_name(a), "Europe/Paris");

    assert_int_equal(sd_tzdb_get(db, "Mars/Olympus_Mons", &a, &err), SL_NOT_FOUND);
    assert_string_equal(err.msg, "time zone \"Mars/Olympus_Mons\" not found");
    assert_int_equal(sd_tzdb_get(db, "America", &a, &err), SL_NOT_FOUND);
    const char *bad[] = {"",
                         "/etc/passwd",
                         "../etc/passwd",
                         "Europe/../../etc/passwd",
                         "Europe//Paris",
                         "Europe/Paris/",
                         "Europe/Pa ris",
                         "./UTC"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(sd_tzdb_get(db, bad[i], &a, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_tzdb_get(db, NULL, &a, &err), SL_INVALID_ARGUMENT);
    /* zone.tab is a file in the directory but not a zone. */
    assert_int_equal(sd_tzdb_get(db, "zone.tab", &a, &err), SL_INTERNAL);

    sd_tzdb *none;
    assert_int_equal(sd_tzdb_new("/nonexistent/zoneinfo", &none, &err), SL_FAILED_PRECONDITION);
    assert_non_null(strstr(err.msg, "is tzdata installed?"));
}

typedef struct race {
    sd_tzdb *db;
    const sd_tz *seen[6];
} race;

static const char *RACE_ZONES[6] = {"Asia/Tokyo",     "Europe/Madrid", "America/Chicago",
                                    "Africa/Nairobi", "Asia/Dubai",    "America/Denver"};

static void *race_main(void *arg)
{
    race *r = arg;
    for (int round = 0; round < 200; round++)
        for (int i = 0; i < 6; i++) {
            const sd_tz *z;
            if (sd_tzdb_get(r->db, RACE_ZONES[(i + round) % 6], &z, NULL) != SL_OK)
                return NULL;
            sd_local_time lt;
            sd_tz_local(z, 1700000000 + round * 3600, &lt);
            r->seen[(i + round) % 6] = z;
        }
    return r;
}

/* Threads loading the same new zones at once all end up with one shared
 * copy each (the sanitizer build checks for leaks of the dropped ones). */
static void test_tzdb_threads(void **state)
{
    (void)state;
    sd_tzdb *fresh;
    assert_int_equal(sd_tzdb_new(NULL, &fresh, NULL), SL_OK);
    race r[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        r[i].db = fresh;
        assert_int_equal(pthread_create(&th[i], NULL, race_main, &r[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        assert_non_null(ret);
    }
    for (int z = 0; z < 6; z++)
        for (int i = 1; i < 8; i++)
            assert_ptr_equal(r[i].seen[z], r[0].seen[z]);
    sd_tzdb_free(fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_hhmm_and_date_sets),
        cmocka_unit_test(test_known_conversions),
        cmocka_unit_test(test_matches_glibc),
        cmocka_unit_test(test_gaps_and_folds),
        cmocka_unit_test(test_posix_rules),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_tzdb),
        cmocka_unit_test(test_tzdb_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
