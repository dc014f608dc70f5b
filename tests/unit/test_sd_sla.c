/* sd_sla: the priority matrix and tiers, business-hours parsing, deadlines
 * within a day, overnight, over weekends and holidays, across
 * daylight-saving changes and in different zones, pause and resume,
 * breaches and "breaching within", and bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sd_sla.h"

#define MIN INT64_C(60000)

static sd_tzdb *db;
static sd_sla_policy *paris; /* Mon-Fri 09:00-18:00 Europe/Paris, May 1 and Dec 25 off */

static sd_date D(const char *s)
{
    sd_date d;
    if (sd_date_parse(s, &d, NULL) != SL_OK)
        fail_msg("bad date %s", s);
    return d;
}

/* An instant given in UTC, independent of the zone code under test. */
static int64_t utc_ms(const char *date, int h, int m)
{
    return ((int64_t)D(date) * 86400 + h * 3600 + m * 60) * 1000;
}

static const sd_tz *zone(const char *name)
{
    const sd_tz *z;
    if (sd_tzdb_get(db, name, &z, NULL) != SL_OK)
        fail_msg("no zone %s", name);
    return z;
}

static sd_sla_policy *policy(const char *tz, const char *hours, const char **holidays, size_t n)
{
    sd_sla_config cfg;
    sd_sla_config_defaults(&cfg);
    cfg.zone = zone(tz);
    sl_err err;
    if (hours != NULL && sd_sla_hours_parse(hours, cfg.week, &err) != SL_OK)
        fail_msg("%s", err.msg);
    sd_date h[8];
    for (size_t i = 0; i < n; i++)
        h[i] = D(holidays[i]);
    cfg.holidays = h;
    cfg.n_holidays = n;
    sd_sla_policy *p;
    if (sd_sla_policy_new(&cfg, &p, &err) != SL_OK)
        fail_msg("%s", err.msg);
    return p;
}

static int setup(void **state)
{
    (void)state;
    if (sd_tzdb_new(NULL, &db, NULL) != SL_OK)
        return -1;
    const char *fr[] = {"2025-12-25", "2025-05-01"};
    paris = policy("Europe/Paris", NULL, fr, 2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sd_sla_policy_free(paris);
    sd_tzdb_free(db);
    return 0;
}

static int64_t after(const sd_sla_policy *p, int64_t from, int64_t minutes)
{
    int64_t at;
    sl_err err;
    if (sd_sla_add_business(p, from, minutes * MIN, &at, &err) != SL_OK)
        fail_msg("%s", err.msg);
    return at;
}

static void expect_after(const sd_sla_policy *p, int64_t from, int64_t minutes, int64_t want)
{
    int64_t got = after(p, from, minutes);
    if (got != want)
        fail_msg("%lld + %lld business minutes: got %lld, want %lld (off by %lld min)",
                 (long long)from, (long long)minutes, (long long)got, (long long)want,
                 (long long)((got - want) / MIN));
    /* and back: the business time in between is the amount added */
    int64_t biz;
    assert_int_equal(sd_sla_business_ms(p, from, got, &biz, NULL), SL_OK);
    assert_int_equal(biz, minutes * MIN);
}

static void test_priority_matrix(void **state)
{
    (void)state;
    const sd_priority_matrix *m = sd_priority_matrix_default();
    assert_int_equal(sd_priority_for(m, SD_CATEGORY_PAYMENT, SD_TIER_PLATINUM), SD_P1);
    assert_int_equal(sd_priority_for(NULL, SD_CATEGORY_PAYMENT, SD_TIER_BRONZE), SD_P2);
    assert_int_equal(sd_priority_for(NULL, SD_CATEGORY_DAMAGED_ITEM, SD_TIER_PLATINUM), SD_P1);
    assert_int_equal(sd_priority_for(NULL, SD_CATEGORY_DAMAGED_ITEM, SD_TIER_GOLD), SD_P2);
    assert_int_equal(sd_priority_for(NULL, SD_CATEGORY_DELIVERY_DELAY, SD_TIER_BRONZE), SD_P3);
    assert_int_equal(sd_priority_for(NULL, SD_CATEGORY_WHERE_IS_MY_ORDER, SD_TIER_BRONZE), SD_P4);
    assert_int_equal(sd_priority_for(NULL, SD_CATEGORY_OUT_OF_STOCK, SD_TIER_GOLD), SD_P3);
    assert_int_equal(sd_priority_for(NULL, SD_CATEGORY_OTHER, SD_TIER_PLATINUM), SD_P3);
    assert_int_equal(sd_priority_for(NULL, SD_CATEGORY_OTHER, SD_TIER_NEW), SD_P4);
    /* A higher tier never gets a worse priority; new customers are treated
     * like silver ones. */
    for (int c = 0; c < SD_CATEGORY_COUNT; c++) {
        for (int t = SD_TIER_PLATINUM; t < SD_TIER_BRONZE; t++)
            assert_true(m->cell[c][t] <= m->cell[c][t + 1]);
        assert_int_equal(m->cell[c][SD_TIER_NEW], m->cell[c][SD_TIER_SILVER]);
    }
    /* Out of range reads as (other, new). */
    assert_int_equal(sd_priority_for(NULL, (sd_category)77, (sd_tier)99), SD_P4);
    /* A custom matrix. */
    sd_priority_matrix mine = *m;
    mine.cell[SD_CATEGORY_OTHER][SD_TIER_GOLD] = SD_P1;
    assert_int_equal(sd_priority_for(&mine, SD_CATEGORY_OTHER, SD_TIER_GOLD), SD_P1);

    assert_int_equal(sd_tier_from_value(0.99, 12), SD_TIER_PLATINUM);
    assert_int_equal(sd_tier_from_value(0.95, 2), SD_TIER_PLATINUM);
    assert_int_equal(sd_tier_from_value(0.9499, 2), SD_TIER_GOLD);
    assert_int_equal(sd_tier_from_value(0.80, 5), SD_TIER_GOLD);
    assert_int_equal(sd_tier_from_value(0.5, 5), SD_TIER_SILVER);
    assert_int_equal(sd_tier_from_value(0.2, 5), SD_TIER_BRONZE);
    assert_int_equal(sd_tier_from_value(0.99, 1), SD_TIER_NEW);
    assert_int_equal(sd_tier_from_value(0.99, 0), SD_TIER_NEW);
    assert_int_equal(sd_tier_from_value(NAN, 5), SD_TIER_BRONZE);
    assert_int_equal(sd_tier_from_value(7, 5), SD_TIER_PLATINUM);
    assert_int_equal(sd_tier_from_value(-1, 5), SD_TIER_BRONZE);

    sl_err err;
    sd_tier t;
    sd_priority p;
    for (int k = 0; k < SD_TIER_COUNT; k++) {
        assert_int_equal(sd_tier_parse(sd_tier_name((sd_tier)k), &t, &err), SL_OK);
        assert_int_equal(t, k);
    }
    assert_int_equal(sd_tier_parse("diamond", &t, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "unknown customer tier \"diamond\"");
    assert_int_equal(sd_priority_parse("P3", &p, &err), SL_OK);
    assert_int_equal(p, SD_P3);
    assert_int_equal(sd_priority_parse("p1", &p, &err), SL_OK);
    assert_int_equal(p, SD_P1);
    assert_int_equal(sd_priority_parse("P5", &p, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_priority_parse("P12", &p, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_priority_parse(NULL, &p, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(sd_priority_name(SD_P4), "P4");
    assert_string_equal(sd_tier_name((sd_tier)9), "unknown");
}

static void test_hours_parse(void **state)
{
    (void)state;
    sd_sla_day w[7];
    sl_err err;
    assert_int_equal(sd_sla_hours_parse("Mon-Fri 09:00-18:00; Sat 10:00-14:00", w, &err), SL_OK);
    assert_int_equal(w[SD_MON].n, 1);
    assert_int_equal(w[SD_FRI].iv[0].close_minute, 18 * 60);
    assert_int_equal(w[SD_SAT].iv[0].open_minute, 10 * 60);
    assert_int_equal(w[SD_SUN].n, 0);
    assert_int_equal(
        sd_sla_hours_parse("mon-thu 08:00-12:00,13:00-17:00;FRI 08:00-12:00;", w, &err), SL_OK);
    assert_int_equal(w[SD_TUE].n, 2);
    assert_int_equal(w[SD_TUE].iv[1].open_minute, 13 * 60);
    assert_int_equal(w[SD_FRI].n, 1);
    assert_int_equal(sd_sla_hours_parse("Sat-Mon 10:00-14:00", w, &err), SL_OK);
    assert_int_equal(w[SD_SUN].n, 1);
    assert_int_equal(w[SD_MON].n, 1);
    assert_int_equal(w[SD_TUE].n, 0);
    assert_int_equal(sd_sla_hours_parse("24x7", w, &err), SL_OK);
    for (int d = 0; d < 7; d++)
        assert_int_equal(w[d].iv[0].close_minute, 1440);
    assert_int_equal(sd_sla_hours_parse("Mon-Sun 00:00-24:00", w, &err), SL_OK);

    const char *bad[] = {"Mon-Fri 18:00-09:00",
                         "Funday 09:00-18:00",
                         "Mon-Fri 09:00-18:00; Mon 10:00-12:00",
                         "Mon 09:00-12:00,11:00-13:00",
                         "Mon 01:00-02:00,03:00-04:00,05:00-06:00,07:00-08:00,09:00-10:00",
                         "Mon-Fri 9:00-18:00",
                         "Mon-Fri",
                         "Mon-Fri 09:00-18:00,",
                         "Mon-Fri 09:00-25:00",
                         "Mon-Xyz 09:00-18:00",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (sd_sla_hours_parse(bad[i], w, &err) != SL_INVALID_ARGUMENT)
            fail_msg("accepted \"%s\"", bad[i]);
    sd_sla_hours_parse("Mon-Fri 09:00-18:00; Mon 10:00-12:00", w, &err);
    assert_string_equal(err.msg, "invalid business hours \"Mon 10:00-12:00\": mon named twice");
    assert_int_equal(sd_sla_hours_parse(NULL, w, &err), SL_INVALID_ARGUMENT);
}

static void test_deadlines(void **state)
{
    (void)state;
    /* March 2025: Paris is UTC+1 until Sunday the 30th. */
    /* Within a day: Tuesday 10:00 + 2 h = 12:00. */
    expect_after(paris, utc_ms("2025-03-11", 9, 0), 120, utc_ms("2025-03-11", 11, 0));
    /* Overnight: Tuesday 17:30 + 2 h = 30 min Tuesday, 90 min Wednesday:
     * Wednesday 10:30. */
    expect_after(paris, utc_ms("2025-03-11", 16, 30), 120, utc_ms("2025-03-12", 9, 30));
    /* Opened at night: the clock starts at 09:00. */
    expect_after(paris, utc_ms("2025-03-11", 23, 0), 30, utc_ms("2025-03-12", 8, 30));
    /* Over the weekend: Friday 17:50 + 30 min = Monday 09:20. */
    expect_after(paris, utc_ms("2025-03-14", 16, 50), 30, utc_ms("2025-03-17", 8, 20));
    /* Opened on Saturday: Monday 09:00 + 1 h. */
    expect_after(paris, utc_ms("2025-03-15", 11, 0), 60, utc_ms("2025-03-17", 9, 0));
    /* A deadline at the end of the day stays there: Tuesday 17:00 + 60 min
     * is 18:00 Tuesday, not 09:00 Wednesday. */
    expect_after(paris, utc_ms("2025-03-11", 16, 0), 60, utc_ms("2025-03-11", 17, 0));
    /* Over a holiday: Wednesday 30 April 17:00 CEST + 2 h = 1 h Wednesday,
     * Thursday is May Day, 1 h Friday: Friday 10:00 CEST. */
    expect_after(paris, utc_ms("2025-04-30", 15, 0), 120, utc_ms("2025-05-02", 8, 0));
    /* Across the spring-forward weekend: Friday 28 March 17:00 CET + 4 h =
     * 1 h Friday, 3 h Monday from 09:00 CEST: 12:00 CEST = 10:00Z. */
    expect_after(paris, utc_ms("2025-03-28", 16, 0), 240, utc_ms("2025-03-31", 10, 0));
    /* A P4 resolution: 5 business days from Monday 09:00 is Friday 18:00. */
    expect_after(paris, utc_ms("2025-03-10", 8, 0),
                 sd_sla_target_ms(paris, SD_P4, SD_SLA_RESOLUTION) / MIN,
                 utc_ms("2025-03-14", 17, 0));
    /* Zero is now. */
    expect_after(paris, utc_ms("2025-03-15", 11, 0), 0, utc_ms("2025-03-15", 11, 0));

    /* Business time over a week, and a week with a holiday. */
    int64_t biz;
    assert_int_equal(sd_sla_business_ms(paris, utc_ms("2025-03-10", 0, 0),
                                        utc_ms("2025-03-17", 0, 0), &biz, NULL),
                     SL_OK);
    assert_int_equal(biz, 45 * 60 * MIN);
    assert_int_equal(sd_sla_business_ms(paris, utc_ms("2025-04-28", 0, 0),
                                        utc_ms("2025-05-05", 0, 0), &biz, NULL),
                     SL_OK);
    assert_int_equal(biz, 36 * 60 * MIN);
    assert_int_equal(sd_sla_business_ms(paris, utc_ms("2025-03-15", 0, 0),
                                        utc_ms("2025-03-16", 23, 0), &biz, NULL),
                     SL_OK);
    assert_int_equal(biz, 0);

    assert_int_equal(sd_sla_target_ms(paris, SD_P1, SD_SLA_FIRST_RESPONSE), 30 * MIN);
    assert_int_equal(sd_sla_target_ms(paris, SD_P3, SD_SLA_RESOLUTION), 1620 * MIN);
    assert_int_equal(sd_sla_target_ms(paris, (sd_priority)9, SD_SLA_RESOLUTION), 0);
}

static void test_zones_and_shapes(void **state)
{
    (void)state;
    /* The same ticket, 13:00Z on Tuesday 11 March, at three desks. */
    sd_sla_policy *ny = policy("America/New_York", "Mon-Fri 09:00-18:00", NULL, 0);
    sd_sla_policy *sh = policy("Asia/Shanghai", "Mon-Fri 09:00-18:00", NULL, 0);
    sd_sla_policy *syd = policy("Australia/Sydney", "Mon-Fri 09:00-17:00", NULL, 0);
    int64_t opened = utc_ms("2025-03-11", 13, 0);
    /* New York (EDT since Sunday): 09:00 there, + 2 h. */
    expect_after(ny, opened, 120, utc_ms("2025-03-11", 15, 0));
    /* Shanghai: 21:00, after hours: Wednesday 09:00 CST (01:00Z) + 2 h. */
    expect_after(sh, opened, 120, utc_ms("2025-03-12", 3, 0));
    /* Sydney (AEDT, UTC+11): Wednesday 00:00: 09:00 (22:00Z Tue) + 2 h. */
    expect_after(syd, opened, 120, utc_ms("2025-03-12", 0, 0));
    /* New York before its change: Friday 7 March 17:00 EST (22:00Z) + 2 h
     * = 1 h Friday, 1 h Monday from 09:00 EDT (13:00Z): 14:00Z. */
    expect_after(ny, utc_ms("2025-03-07", 22, 0), 120, utc_ms("2025-03-10", 14, 0));
    sd_sla_policy_free(ny);
    sd_sla_policy_free(sh);
    sd_sla_policy_free(syd);

    /* Round the clock across Paris's spring-forward night: business time is
     * real time (the 23-hour day is counted as such). */
    sd_sla_policy *always = policy("Europe/Paris", "24x7", NULL, 0);
    expect_after(always, utc_ms("2025-03-29", 22, 0), 240, utc_ms("2025-03-30", 2, 0));
    int64_t biz;
    assert_int_equal(sd_sla_business_ms(always, utc_ms("2025-03-29", 23, 0),
                                        utc_ms("2025-03-30", 22, 0), &biz, NULL),
                     SL_OK);
    assert_int_equal(biz, 23 * 60 * MIN);
    sd_sla_policy_free(always);

    /* A lunch break: 11:30 + 1 h = 30 min before, 30 min after: 13:30. */
    sd_sla_policy *lunch = policy("Europe/Paris", "Mon-Fri 09:00-12:00,13:00-18:00", NULL, 0);
    expect_after(lunch, utc_ms("2025-03-11", 10, 30), 60, utc_ms("2025-03-11", 12, 30));
    sd_sla_policy_free(lunch);
    /* A night shift across midnight: Mon-Fri 22:00-24:00 and Tue-Sat
     * 00:00-06:00. */
    sd_sla_policy *night =
        policy("UTC", "Mon 22:00-24:00; Tue-Fri 00:00-06:00,22:00-24:00; Sat 00:00-06:00", NULL, 0);
    expect_after(night, utc_ms("2025-03-11", 23, 0), 120, utc_ms("2025-03-12", 1, 0));
    expect_after(night, utc_ms("2025-03-15", 5, 0), 120, utc_ms("2025-03-17", 23, 0));
    sd_sla_policy_free(night);
}

static sd_sla_clock clock_at(int64_t start, int64_t target_min, const sd_sla_event *ev, size_t n,
                             int64_t now)
{
    sd_sla_clock c;
    sl_err err;
    if (sd_sla_clock_at(paris, start, target_min * MIN, ev, n, now, &c, &err) != SL_OK)
        fail_msg("%s", err.msg);
    return c;
}

static void test_pause_and_resume(void **state)
{
    (void)state;
    int64_t start = utc_ms("2025-03-11", 9, 0); /* Tuesday 10:00 CET */
    sd_sla_event ev[] = {
        {utc_ms("2025-03-11", 10, 0), SD_SLA_PAUSE},  /* 11:00: asked the customer */
        {utc_ms("2025-03-12", 9, 0), SD_SLA_RESUME},  /* Wednesday 10:00: answered */
        {utc_ms("2025-03-12", 13, 0), SD_SLA_PAUSE},  /* 14:00 */
        {utc_ms("2025-03-12", 13, 30), SD_SLA_PAUSE}, /* repeated: ignored */
        {utc_ms("2025-03-13", 8, 0), SD_SLA_RESUME},  /* Thursday 09:00 */
    };
    /* Running, before any event. */
    sd_sla_clock c = clock_at(start, 240, ev, 5, utc_ms("2025-03-11", 9, 30));
    assert_false(c.paused);
    assert_int_equal(c.elapsed_ms, 30 * MIN);
    assert_int_equal(c.remaining_ms, 210 * MIN);
    assert_true(c.has_deadline);
    assert_int_equal(c.deadline_ms, utc_ms("2025-03-11", 13, 0));
    /* Paused: 60 minutes counted, no deadline, not breaching. */
    int64_t now = utc_ms("2025-03-11", 14, 0);
    c = clock_at(start, 240, ev, 5, now);
    assert_true(c.paused);
    assert_int_equal(c.elapsed_ms, 60 * MIN);
    assert_int_equal(c.remaining_ms, 180 * MIN);
    assert_false(c.has_deadline);
    assert_false(c.breached);
    assert_false(sd_sla_breaching_within(&c, now, 24 * 60 * MIN));
    /* Resumed Wednesday 10:00, read at 11:00: 120 counted, deadline 13:00. */
    now = utc_ms("2025-03-12", 10, 0);
    c = clock_at(start, 240, ev, 5, now);
    assert_false(c.paused);
    assert_int_equal(c.elapsed_ms, 120 * MIN);
    assert_int_equal(c.deadline_ms, utc_ms("2025-03-12", 12, 0));
    assert_true(sd_sla_breaching_within(&c, now, 120 * MIN));
    assert_false(sd_sla_breaching_within(&c, now, 119 * MIN));
    /* Paused again Wednesday 14:00 with 5 h counted: the 4 h target was
     * reached at 13:00 (12:00Z), so the clock is breached though paused. */
    c = clock_at(start, 240, ev, 5, utc_ms("2025-03-12", 15, 0));
    assert_true(c.paused);
    assert_int_equal(c.elapsed_ms, 300 * MIN);
    assert_true(c.breached);
    assert_int_equal(c.breached_at_ms, utc_ms("2025-03-12", 12, 0));
    assert_int_equal(c.remaining_ms, -60 * MIN);
    assert_true(sd_sla_breaching_within(&c, utc_ms("2025-03-12", 15, 0), 0));
    /* Exactly on target when paused: remaining 0 is a breach, at the pause. */
    c = clock_at(start, 300, ev, 5, utc_ms("2025-03-12", 15, 0));
    assert_true(c.breached);
    assert_int_equal(c.remaining_ms, 0);
    assert_int_equal(c.breached_at_ms, utc_ms("2025-03-12", 13, 0));
    /* With 7 h: resumed Thursday 09:00, read at 10:00: 6 h counted, 60 min
     * left, deadline 11:00 (10:00Z). */
    c = clock_at(start, 420, ev, 5, utc_ms("2025-03-13", 9, 0));
    assert_false(c.paused);
    assert_int_equal(c.elapsed_ms, 360 * MIN);
    assert_int_equal(c.remaining_ms, 60 * MIN);
    assert_int_equal(c.deadline_ms, utc_ms("2025-03-13", 10, 0));
    /* Events after now do not count yet: the same clock read Tuesday at
     * 10:30 ignores them all. */
    c = clock_at(start, 360, ev, 5, utc_ms("2025-03-11", 9, 30));
    assert_int_equal(c.elapsed_ms, 30 * MIN);
    /* A RESUME while running is ignored; a PAUSE before the ticket opened
     * takes effect when it opens. */
    sd_sla_event odd[] = {{start - 3600000, SD_SLA_PAUSE},
                          {utc_ms("2025-03-11", 12, 0), SD_SLA_RESUME},
                          {utc_ms("2025-03-11", 12, 30), SD_SLA_RESUME}};
    c = clock_at(start, 240, odd, 3, utc_ms("2025-03-11", 13, 0));
    assert_int_equal(c.elapsed_ms, 60 * MIN);
    /* Read before the ticket opened: nothing elapsed. */
    c = clock_at(start, 240, NULL, 0, start - 5 * MIN);
    assert_int_equal(c.elapsed_ms, 0);
    assert_int_equal(c.deadline_ms, utc_ms("2025-03-11", 13, 0));
}

static void test_breaches(void **state)
{
    (void)state;
    int64_t start = utc_ms("2025-03-11", 9, 0); /* Tuesday 10:00 CET */
    /* 2 h target, read at 13:30: breached at 12:00, 90 min over. */
    sd_sla_clock c = clock_at(start, 120, NULL, 0, utc_ms("2025-03-11", 12, 30));
    assert_true(c.breached);
    assert_int_equal(c.breached_at_ms, utc_ms("2025-03-11", 11, 0));
    assert_int_equal(c.deadline_ms, c.breached_at_ms);
    assert_int_equal(c.remaining_ms, -90 * MIN);
    assert_true(sd_sla_breaching_within(&c, utc_ms("2025-03-11", 12, 30), 0));
    /* Breached, then paused: still breached, at the same instant. */
    sd_sla_event ev[] = {{utc_ms("2025-03-11", 11, 0), SD_SLA_PAUSE}};
    c = clock_at(start, 60, ev, 1, utc_ms("2025-03-11", 13, 0));
    assert_true(c.breached);
    assert_true(c.paused);
    assert_int_equal(c.breached_at_ms, utc_ms("2025-03-11", 10, 0));
    assert_int_equal(c.elapsed_ms, 120 * MIN);
    /* A breach over the weekend: opened Friday 17:00 with 2 h, read Monday
     * 11:00: breached Monday 10:00. */
    c = clock_at(utc_ms("2025-03-14", 16, 0), 120, NULL, 0, utc_ms("2025-03-17", 10, 0));
    assert_true(c.breached);
    assert_int_equal(c.breached_at_ms, utc_ms("2025-03-17", 9, 0));
    /* Not breached before then, and breaching within the next hour. */
    int64_t now = utc_ms("2025-03-17", 8, 30);
    c = clock_at(utc_ms("2025-03-14", 16, 0), 120, NULL, 0, now);
    assert_false(c.breached);
    assert_int_equal(c.remaining_ms, 30 * MIN);
    assert_true(sd_sla_breaching_within(&c, now, 60 * MIN));
    assert_false(sd_sla_breaching_within(&c, now, 29 * MIN));
    /* Over a weekend, an hour of business time is days of wall time:
     * Friday 17:30 with 60 minutes left breaches Monday 09:30. */
    now = utc_ms("2025-03-14", 16, 30);
    c = clock_at(utc_ms("2025-03-14", 16, 0), 90, NULL, 0, now);
    assert_int_equal(c.deadline_ms, utc_ms("2025-03-17", 8, 30));
    assert_false(sd_sla_breaching_within(&c, now, 60 * MIN));

    /* The whole chain for a ticket: a gold customer's damaged item is P2,
     * first response within 2 business hours. */
    sd_priority prio = sd_priority_for(NULL, SD_CATEGORY_DAMAGED_ITEM, SD_TIER_GOLD);
    int64_t target = sd_sla_target_ms(paris, prio, SD_SLA_FIRST_RESPONSE);
    sd_sla_clock fr;
    assert_int_equal(sd_sla_clock_at(paris, utc_ms("2025-03-14", 16, 30), target, NULL, 0,
                                     utc_ms("2025-03-14", 16, 30), &fr, NULL),
                     SL_OK);
    assert_int_equal(fr.deadline_ms, utc_ms("2025-03-17", 9, 30));
}

static void test_bad_input(void **state)
{
    (void)state;
    sl_err err;
    sd_sla_clock c;
    int64_t start = utc_ms("2025-03-11", 9, 0);
    assert_int_equal(sd_sla_clock_at(paris, start, 0, NULL, 0, start, &c, &err),
                     SL_INVALID_ARGUMENT);
    sd_sla_event unordered[] = {{start + 2000, SD_SLA_PAUSE}, {start + 1000, SD_SLA_RESUME}};
    assert_int_equal(sd_sla_clock_at(paris, start, MIN, unordered, 2, start, &c, &err),
                     SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "events[1]: out of time order or outside years 1..9999");
    sd_sla_event unknown[] = {{start, (sd_sla_event_kind)5}};
    assert_int_equal(sd_sla_clock_at(paris, start, MIN, unknown, 1, start, &c, &err),
                     SL_INVALID_ARGUMENT);
    assert_int_equal(sd_sla_clock_at(paris, start, MIN, NULL, 3, start, &c, &err),
                     SL_INVALID_ARGUMENT);
    assert_int_equal(sd_sla_clock_at(paris, INT64_MIN, MIN, NULL, 0, start, &c, &err),
                     SL_INVALID_ARGUMENT);
    assert_int_equal(
        sd_sla_clock_at(paris, start, MIN, NULL, 0, start + 4000 * 86400000LL, &c, &err),
        SL_OUT_OF_RANGE);
    int64_t x;
    assert_int_equal(sd_sla_business_ms(paris, start, start - 1, &x, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_sla_business_ms(paris, start, start + 4000 * 86400000LL, &x, &err),
                     SL_OUT_OF_RANGE);
    assert_int_equal(sd_sla_add_business(paris, start, -1, &x, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_sla_add_business(paris, start, 4000 * 9 * 60 * MIN, &x, &err),
                     SL_OUT_OF_RANGE);

    sd_sla_config cfg;
    sd_sla_policy *p;
    sd_sla_config_defaults(&cfg);
    assert_int_equal(sd_sla_policy_new(&cfg, &p, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "SLA policy: zone is missing");
    cfg.zone = zone("UTC");
    sd_sla_config c2 = cfg;
    memset(c2.week, 0, sizeof c2.week);
    assert_int_equal(sd_sla_policy_new(&c2, &p, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "SLA policy: no business hours in the week");
    c2 = cfg;
    c2.targets[SD_P2].resolution_minutes = 60;
    assert_int_equal(sd_sla_policy_new(&c2, &p, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "SLA policy: targets[P2] must have 0 < first_response_minutes <= "
                                 "resolution_minutes (got 120 and 60)");
    c2 = cfg;
    c2.targets[SD_P1].first_response_minutes = 0;
    assert_int_equal(sd_sla_policy_new(&c2, &p, &err), SL_INVALID_ARGUMENT);
    c2 = cfg;
    c2.week[SD_WED].iv[0].close_minute = 1441;
    assert_int_equal(sd_sla_policy_new(&c2, &p, &err), SL_INVALID_ARGUMENT);
    c2 = cfg;
    c2.n_holidays = 3;
    assert_int_equal(sd_sla_policy_new(&c2, &p, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_sla_policy_new(NULL, &p, &err), SL_INVALID_ARGUMENT);
    sd_sla_policy_free(NULL);

    /* Holidays on every business day for a decade: no deadline, said so. */
    static sd_date all[4000];
    for (int i = 0; i < 4000; i++)
        all[i] = D("2025-01-01") + i;
    c2 = cfg;
    c2.holidays = all;
    c2.n_holidays = 4000;
    assert_int_equal(sd_sla_policy_new(&c2, &p, &err), SL_OK);
    assert_int_equal(sd_sla_add_business(p, utc_ms("2025-03-11", 9, 0), MIN, &x, &err),
                     SL_OUT_OF_RANGE);
    assert_int_equal(sd_sla_clock_at(p, utc_ms("2025-03-11", 9, 0), MIN, NULL, 0,
                                     utc_ms("2025-03-11", 9, 0), &c, &err),
                     SL_OUT_OF_RANGE);
    sd_sla_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_matrix),  cmocka_unit_test(test_hours_parse),
        cmocka_unit_test(test_deadlines),        cmocka_unit_test(test_zones_and_shapes),
        cmocka_unit_test(test_pause_and_resume), cmocka_unit_test(test_breaches),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
