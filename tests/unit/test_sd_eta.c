/* sd_eta: cut-offs on the warehouse's clock (across daylight-saving
 * changes), non-shipping days and holidays, transit in calendar and
 * business days, backorders, split shipments, confidence, the sentences
 * read to customers, and bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sd_eta.h"

static sd_tzdb *db;
static sd_warehouse *ny, *lyon, *sydney, *shanghai;

static sd_date D(const char *s)
{
    sd_date d;
    if (sd_date_parse(s, &d, NULL) != SL_OK)
        fail_msg("bad date %s", s);
    return d;
}

/* An instant given in UTC, so that the tests do not lean on the zone code
 * they check. */
static int64_t utc_ms(const char *date, int h, int m, int s)
{
    return ((int64_t)D(date) * 86400 + h * 3600 + m * 60 + s) * 1000;
}

static const sd_tz *zone(const char *name)
{
    const sd_tz *z;
    sl_err err;
    if (sd_tzdb_get(db, name, &z, &err) != SL_OK)
        fail_msg("%s", err.msg);
    return z;
}

static sd_warehouse *make(const char *id, const char *name, const char *tz, const char *cutoff,
                          unsigned days, const char **holidays, size_t n, int handling)
{
    sd_date h[16];
    for (size_t i = 0; i < n; i++)
        h[i] = D(holidays[i]);
    sd_warehouse_config cfg = {id, name, zone(tz), cutoff, days, h, n, handling};
    sd_warehouse *w;
    sl_err err;
    if (sd_warehouse_new(&cfg, &w, &err) != SL_OK)
        fail_msg("%s", err.msg);
    return w;
}

static int setup(void **state)
{
    (void)state;
    if (sd_tzdb_new(NULL, &db, NULL) != SL_OK)
        return -1;
    const char *us[] = {"2025-11-27", "2025-07-04"}; /* Thanksgiving, Independence Day */
    ny = make("us-nj-1", "Newark", "America/New_York", "14:00", 0, us, 2, 1);
    const char *fr[] = {"2025-05-01", "2025-05-08", "2025-12-25"};
    lyon = make("fr-lyon-1", "Lyon", "Europe/Paris", "15:30",
                SD_WEEKDAYS_MON_FRI | SD_WEEKDAY_BIT(SD_SAT), fr, 3, 2);
    sydney = make("au-syd-1", NULL, "Australia/Sydney", "12:00", 0, NULL, 0, 0);
    const char *cn[] = {"2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04",
                        "2025-10-05", "2025-10-06", "2025-10-07"};
    shanghai = make("cn-sha-1", "Shanghai", "Asia/Shanghai", "16:00", SD_WEEKDAYS_ALL, cn, 7, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sd_warehouse_free(ny);
    sd_warehouse_free(lyon);
    sd_warehouse_free(sydney);
    sd_warehouse_free(shanghai);
    sd_tzdb_free(db);
    return 0;
}

static sd_eta_line in_stock(const sd_warehouse *w, int p50, int p90)
{
    sd_eta_line l = {w, {p50, p90, SD_TRANSIT_CALENDAR_DAYS}, SD_LINE_IN_STOCK, 0, 0};
    return l;
}

static sd_eta_line backorder(const sd_warehouse *w, int p50, int p90, const char *expected,
                             int slips)
{
    sd_eta_line l = {
        w, {p50, p90, SD_TRANSIT_CALENDAR_DAYS}, SD_LINE_BACKORDER, D(expected), slips};
    return l;
}

static sd_line_eta eta_at(const sd_eta_line *l, int64_t placed, int64_t now)
{
    sd_line_eta e;
    sl_err err;
    if (sd_eta_compute_line(l, placed, now, &e, &err) != SL_OK)
        fail_msg("%s", err.msg);
    return e;
}

static sd_line_eta eta(const sd_eta_line *l, int64_t placed)
{
    return eta_at(l, placed, placed);
}

static void expect_ship(const sd_eta_line *l, int64_t placed, const char *date,
                        sd_ship_reason reason)
{
    sd_line_eta e = eta(l, placed);
    char got[SD_DATE_STR];
    sd_date_format(e.ship_date, got);
    if (strcmp(got, date) != 0 || e.reason != reason)
        fail_msg("placed %lld: ships %s (reason %d), expected %s (reason %d)", (long long)placed,
                 got, (int)e.reason, date, (int)reason);
}

static void test_cutoff_in_warehouse_zone(void **state)
{
    (void)state;
    sd_eta_line l = in_stock(ny, 2, 4);
    /* Wednesday 2025-03-05, EST (UTC-5): 13:59:59 is before 14:00, 14:00 is
     * not. */
    expect_ship(&l, utc_ms("2025-03-05", 18, 59, 59), "2025-03-05", SD_SHIP_BEFORE_CUTOFF);
    expect_ship(&l, utc_ms("2025-03-05", 18, 59, 59) + 999, "2025-03-05", SD_SHIP_BEFORE_CUTOFF);
    expect_ship(&l, utc_ms("2025-03-05", 19, 0, 0), "2025-03-06", SD_SHIP_AFTER_CUTOFF);
    /* The same UTC time of day either side of the spring-forward change:
     * 18:30Z is 13:30 EST on Friday 03-07 but 14:30 EDT on Monday 03-10. */
    expect_ship(&l, utc_ms("2025-03-07", 18, 30, 0), "2025-03-07", SD_SHIP_BEFORE_CUTOFF);
    expect_ship(&l, utc_ms("2025-03-10", 18, 30, 0), "2025-03-11", SD_SHIP_AFTER_CUTOFF);
    expect_ship(&l, utc_ms("2025-03-10", 17, 59, 0), "2025-03-10", SD_SHIP_BEFORE_CUTOFF);
    /* And the fall-back change: 18:30Z is 14:30 EDT on Friday 10-31 (next
     * shipping day Monday) but 13:30 EST on Monday 11-03. */
    expect_ship(&l, utc_ms("2025-10-31", 18, 30, 0), "2025-11-03", SD_SHIP_AFTER_CUTOFF);
    expect_ship(&l, utc_ms("2025-11-03", 18, 30, 0), "2025-11-03", SD_SHIP_BEFORE_CUTOFF);
    /* The order's day is the warehouse's: 03:00Z Thursday is still
     * Wednesday 22:00 in New York -- after the cut-off, ships Thursday. */
    expect_ship(&l, utc_ms("2025-03-06", 3, 0, 0), "2025-03-06", SD_SHIP_AFTER_CUTOFF);

    /* Sydney, southern hemisphere: 01:30Z is 12:30 AEDT on Friday
     * 2025-04-04 (after 12:00) but 11:30 AEST on Monday 04-07. */
    sd_eta_line s = in_stock(sydney, 1, 2);
    expect_ship(&s, utc_ms("2025-04-04", 1, 30, 0), "2025-04-07", SD_SHIP_AFTER_CUTOFF);
    expect_ship(&s, utc_ms("2025-04-07", 1, 30, 0), "2025-04-07", SD_SHIP_BEFORE_CUTOFF);
    /* Shanghai (UTC+8, no daylight time): 07:59Z is 15:59. */
    sd_eta_line c = in_stock(shanghai, 1, 3);
    expect_ship(&c, utc_ms("2025-06-14", 7, 59, 0), "2025-06-14", SD_SHIP_BEFORE_CUTOFF);
    expect_ship(&c, utc_ms("2025-06-14", 8, 0, 0), "2025-06-15", SD_SHIP_AFTER_CUTOFF);
    /* Lyon, CEST: 13:29Z is 15:29. */
    sd_eta_line f = in_stock(lyon, 1, 3);
    expect_ship(&f, utc_ms("2025-06-11", 13, 29, 0), "2025-06-11", SD_SHIP_BEFORE_CUTOFF);
    expect_ship(&f, utc_ms("2025-06-11", 13, 30, 0), "2025-06-12", SD_SHIP_AFTER_CUTOFF);
}

static void test_non_shipping_days_and_holidays(void **state)
{
    (void)state;
    sd_eta_line l = in_stock(ny, 2, 4);
    /* Saturday morning and Sunday: Monday, whatever the hour. */
    expect_ship(&l, utc_ms("2025-03-08", 15, 0, 0), "2025-03-10", SD_SHIP_CLOSED_DAY);
    expect_ship(&l, utc_ms("2025-03-09", 13, 0, 0), "2025-03-10", SD_SHIP_CLOSED_DAY);
    /* Friday after the cut-off: Monday. */
    expect_ship(&l, utc_ms("2025-03-07", 20, 0, 0), "2025-03-10", SD_SHIP_AFTER_CUTOFF);
    /* Thursday 07-03 after the cut-off: Friday is Independence Day, so
     * Monday 07-07, and the holiday is noted. */
    sd_line_eta e = eta(&l, utc_ms("2025-07-03", 19, 0, 0));
    assert_int_equal(e.ship_date, D("2025-07-07"));
    assert_true(e.holiday_skipped);
    /* On the holiday itself. */
    e = eta(&l, utc_ms("2025-07-04", 13, 0, 0));
    assert_int_equal(e.ship_date, D("2025-07-07"));
    assert_int_equal(e.reason, SD_SHIP_CLOSED_DAY);
    assert_true(e.holiday_skipped);
    /* A plain weekend is not a holiday. */
    e = eta(&l, utc_ms("2025-03-08", 15, 0, 0));
    assert_false(e.holiday_skipped);
    /* Thanksgiving Wednesday after the cut-off: Friday. */
    expect_ship(&l, utc_ms("2025-11-26", 20, 0, 0), "2025-11-28", SD_SHIP_AFTER_CUTOFF);

    /* Lyon ships on Saturdays but not Sundays nor its holidays. */
    sd_eta_line f = in_stock(lyon, 1, 3);
    expect_ship(&f, utc_ms("2025-03-07", 15, 0, 0), "2025-03-08", SD_SHIP_AFTER_CUTOFF);
    expect_ship(&f, utc_ms("2025-03-08", 10, 0, 0), "2025-03-08", SD_SHIP_BEFORE_CUTOFF);
    expect_ship(&f, utc_ms("2025-03-08", 15, 0, 0), "2025-03-10", SD_SHIP_AFTER_CUTOFF);
    expect_ship(&f, utc_ms("2025-04-30", 14, 0, 0), "2025-05-02", SD_SHIP_AFTER_CUTOFF);
    /* Shanghai ships every day except the National Day week. */
    sd_eta_line c = in_stock(shanghai, 1, 3);
    expect_ship(&c, utc_ms("2025-09-30", 9, 0, 0), "2025-10-08", SD_SHIP_AFTER_CUTOFF);
    expect_ship(&c, utc_ms("2025-10-03", 1, 0, 0), "2025-10-08", SD_SHIP_CLOSED_DAY);

    assert_true(sd_warehouse_ships_on(lyon, D("2025-03-08")));
    assert_false(sd_warehouse_ships_on(ny, D("2025-03-08")));
    assert_false(sd_warehouse_ships_on(ny, D("2025-07-04")));
    assert_string_equal(sd_warehouse_id(sydney), "au-syd-1");
    assert_string_equal(sd_warehouse_name(sydney), "au-syd-1");
    assert_string_equal(sd_warehouse_name(lyon), "Lyon");
}

static void test_transit_range(void **state)
{
    (void)state;
    /* Calendar days: ship Wednesday 03-05, p50 2 -> Friday, p90 5 -> Monday. */
    sd_eta_line l = in_stock(ny, 2, 5);
    sd_line_eta e = eta(&l, utc_ms("2025-03-05", 15, 0, 0));
    assert_int_equal(e.p50, D("2025-03-07"));
    assert_int_equal(e.p90, D("2025-03-10"));
    assert_int_equal(e.confidence, SD_CONFIDENCE_HIGH);
    /* Same-day delivery and p50 = p90. */
    l = in_stock(ny, 0, 0);
    e = eta(&l, utc_ms("2025-03-05", 15, 0, 0));
    assert_int_equal(e.p50, D("2025-03-05"));
    assert_int_equal(e.p90, D("2025-03-05"));
    /* Business days skip the weekend: ship Friday 03-07, p50 1 -> Monday,
     * p90 3 -> Wednesday. */
    l = in_stock(ny, 1, 3);
    l.transit.unit = SD_TRANSIT_BUSINESS_DAYS;
    e = eta(&l, utc_ms("2025-03-07", 15, 0, 0));
    assert_int_equal(e.ship_date, D("2025-03-07"));
    assert_int_equal(e.p50, D("2025-03-10"));
    assert_int_equal(e.p90, D("2025-03-12"));
    /* ... and the warehouse's holidays: ship Thursday 07-03, Friday is a
     * holiday, p50 1 -> Monday 07-07. */
    e = eta(&l, utc_ms("2025-07-03", 15, 0, 0));
    assert_int_equal(e.p50, D("2025-07-07"));
    assert_int_equal(e.p90, D("2025-07-09"));
}

static void test_backorders(void **state)
{
    (void)state;
    int64_t placed = utc_ms("2025-03-05", 15, 0, 0); /* Wednesday, before the cut-off */
    /* Inbound expected Wednesday 03-12, one handling day: ships Thursday. */
    sd_eta_line l = backorder(ny, 2, 4, "2025-03-12", 0);
    sd_line_eta e = eta(&l, placed);
    assert_int_equal(e.ship_date, D("2025-03-13"));
    assert_int_equal(e.p50, D("2025-03-15"));
    assert_int_equal(e.p90, D("2025-03-17"));
    assert_int_equal(e.reason, SD_SHIP_AFTER_INBOUND);
    assert_int_equal(e.confidence, SD_CONFIDENCE_MEDIUM);
    /* After one slip the same date is less certain. */
    l.inbound_slips = 1;
    assert_int_equal(eta(&l, placed).confidence, SD_CONFIDENCE_LOW);
    /* Arriving on a Saturday: received Monday, ships Tuesday. */
    l = backorder(ny, 2, 4, "2025-03-15", 0);
    assert_int_equal(eta(&l, placed).ship_date, D("2025-03-18"));
    /* Lyon's two handling days, across its May 1 holiday: arrives Wednesday
     * 04-30, handled Friday 05-02 and Saturday 05-03, ships Saturday. */
    l = backorder(lyon, 1, 2, "2025-04-30", 0);
    e = eta(&l, utc_ms("2025-04-20", 8, 0, 0));
    assert_int_equal(e.ship_date, D("2025-05-03"));
    assert_true(e.holiday_skipped);
    /* No handling time: ships the day it arrives when that is a shipping
     * day, else the next. */
    l = backorder(sydney, 1, 2, "2025-03-12", 0);
    assert_int_equal(eta(&l, placed).ship_date, D("2025-03-12"));
    l = backorder(sydney, 1, 2, "2025-03-15", 0);
    assert_int_equal(eta(&l, placed).ship_date, D("2025-03-17"));

    /* An inbound due before the order's own ship day cannot make the line
     * ship earlier than an in-stock one would. */
    l = backorder(sydney, 1, 2, "2025-03-05", 0);
    e = eta(&l, utc_ms("2025-03-05", 4, 0, 0)); /* 15:00 AEDT, after the cut-off */
    assert_int_equal(e.ship_date, D("2025-03-06"));

    /* Expected today and not in yet: on time, ships after handling. */
    l = backorder(ny, 2, 4, "2025-03-05", 0);
    e = eta(&l, placed);
    assert_int_equal(e.ship_date, D("2025-03-06"));
    assert_int_equal(e.reason, SD_SHIP_AFTER_INBOUND);
    /* Expected days ago and still not in: overdue, counted from today. */
    l = backorder(ny, 2, 4, "2025-03-01", 0);
    e = eta(&l, placed);
    assert_int_equal(e.ship_date, D("2025-03-06"));
    assert_int_equal(e.reason, SD_SHIP_INBOUND_OVERDUE);
    assert_int_equal(e.confidence, SD_CONFIDENCE_LOW);
    /* Recomputed later for an order placed earlier: from now, not from the
     * stale expected date. */
    l = backorder(ny, 2, 4, "2025-03-12", 0);
    e = eta_at(&l, utc_ms("2025-03-01", 15, 0, 0), utc_ms("2025-03-20", 15, 0, 0));
    assert_int_equal(e.ship_date, D("2025-03-21"));
    assert_int_equal(e.reason, SD_SHIP_INBOUND_OVERDUE);
    /* ... while before the expected date the plan stands. */
    e = eta_at(&l, utc_ms("2025-03-01", 15, 0, 0), utc_ms("2025-03-10", 15, 0, 0));
    assert_int_equal(e.ship_date, D("2025-03-13"));
}

static void test_received_inbound_ships_after_its_receipt_not_today(void **state)
{
    (void)state;
    /* Received on 03-12 (INBOUND_RECEIVED): ships after handling, 03-13,
     * with high confidence, read on 03-20 as on 03-12 -- an overdue
     * inbound would slide to 03-21. */
    sd_eta_line l = backorder(ny, 2, 4, "2025-03-12", 1);
    l.inbound_received = true;
    sd_line_eta e = eta_at(&l, utc_ms("2025-03-01", 15, 0, 0), utc_ms("2025-03-20", 15, 0, 0));
    assert_int_equal(e.ship_date, D("2025-03-13"));
    assert_int_equal(e.reason, SD_SHIP_AFTER_INBOUND);
    assert_int_equal(e.confidence, SD_CONFIDENCE_HIGH);
    e = eta_at(&l, utc_ms("2025-03-01", 15, 0, 0), utc_ms("2025-03-12", 15, 0, 0));
    assert_int_equal(e.ship_date, D("2025-03-13"));
}

static void test_order_is_latest_line(void **state)
{
    (void)state;
    int64_t placed = utc_ms("2025-03-05", 15, 0, 0);
    /* A split shipment: p50 and p90 may come from different lines. */
    sd_eta_line lines[3] = {
        in_stock(ny, 2, 3),       /* ships 03-05: 03-07 .. 03-08 */
        in_stock(lyon, 5, 6),     /* 16:00 CET, after 15:30: ships 03-06: 03-11 .. 03-12 */
        in_stock(shanghai, 3, 9), /* 23:00 CST, after 16:00: ships 03-06: 03-09 .. 03-15 */
    };
    sd_line_eta per[3];
    sd_order_eta o;
    sl_err err;
    assert_int_equal(sd_eta_compute_order(lines, 3, placed, placed, per, &o, &err), SL_OK);
    assert_int_equal(per[0].p50, D("2025-03-07"));
    assert_int_equal(per[1].ship_date, D("2025-03-06"));
    assert_int_equal(per[2].p90, D("2025-03-15"));
    assert_int_equal(o.p50, D("2025-03-11"));
    assert_int_equal(o.p50_line, 1);
    assert_int_equal(o.p90, D("2025-03-15"));
    assert_int_equal(o.p90_line, 2);
    assert_int_equal(o.ship_date, D("2025-03-06"));
    assert_int_equal(o.confidence, SD_CONFIDENCE_HIGH);

    /* One backordered line makes the order as late and as uncertain as it. */
    sd_eta_line mixed[2] = {in_stock(ny, 2, 3), backorder(ny, 2, 4, "2025-03-12", 0)};
    assert_int_equal(sd_eta_compute_order(mixed, 2, placed, placed, NULL, &o, &err), SL_OK);
    assert_int_equal(o.p50, D("2025-03-15"));
    assert_int_equal(o.p90, D("2025-03-17"));
    assert_int_equal(o.p50_line, 1);
    assert_int_equal(o.confidence, SD_CONFIDENCE_MEDIUM);
    assert_string_equal(sd_confidence_name(o.confidence), "medium");

    /* A single line is its own order ETA. */
    assert_int_equal(sd_eta_compute_order(lines, 1, placed, placed, NULL, &o, &err), SL_OK);
    assert_int_equal(o.p50, D("2025-03-07"));
    assert_int_equal(o.p90, D("2025-03-08"));
}

static void test_next_cutoff(void **state)
{
    (void)state;
    int64_t at;
    sl_err err;
    /* Wednesday 10:00 EST: today's 14:00 EST. */
    assert_int_equal(sd_warehouse_next_cutoff(ny, utc_ms("2025-03-05", 15, 0, 0), &at, &err),
                     SL_OK);
    assert_int_equal(at, utc_ms("2025-03-05", 19, 0, 0));
    /* Exactly at the cut-off, and Friday afternoon: the next shipping
     * day's, Monday 14:00 EDT (the clocks changed in between). */
    assert_int_equal(sd_warehouse_next_cutoff(ny, utc_ms("2025-03-05", 19, 0, 0), &at, &err),
                     SL_OK);
    assert_int_equal(at, utc_ms("2025-03-06", 19, 0, 0));
    assert_int_equal(sd_warehouse_next_cutoff(ny, utc_ms("2025-03-07", 20, 0, 0), &at, &err),
                     SL_OK);
    assert_int_equal(at, utc_ms("2025-03-10", 18, 0, 0));

    sd_warehouse *never = make("never", NULL, "UTC", "00:00", 0, NULL, 0, 0);
    assert_int_equal(sd_warehouse_next_cutoff(never, utc_ms("2025-03-05", 15, 0, 0), &at, &err),
                     SL_FAILED_PRECONDITION);
    sd_eta_line l = in_stock(never, 1, 1);
    expect_ship(&l, utc_ms("2025-03-05", 0, 0, 0), "2025-03-06", SD_SHIP_AFTER_CUTOFF);
    sd_warehouse_free(never);
    sd_warehouse *always = make("always", NULL, "UTC", "24:00", 0, NULL, 0, 0);
    l = in_stock(always, 1, 1);
    expect_ship(&l, utc_ms("2025-03-05", 23, 59, 59), "2025-03-05", SD_SHIP_BEFORE_CUTOFF);
    sd_warehouse_free(always);
}

static bool valid_utf8(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != 0;) {
        int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : 3;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xC0) != 0x80)
                return false;
    }
    return true;
}

static void test_words(void **state)
{
    (void)state;
    char buf[SD_ETA_TEXT_MAX];
    sl_err err;
    int64_t placed = utc_ms("2025-03-05", 15, 0, 0);
    sd_eta_line l = backorder(lyon, 2, 4, "2025-03-12", 0);
    sd_line_eta before = eta(&l, placed);
    l.inbound_expected = D("2025-03-17");
    l.inbound_slips = 1;
    sd_line_eta after = eta(&l, placed);
    assert_int_equal(sd_eta_describe_move(lyon, &before, &after,
                                          "container held at customs in Le Havre", buf, sizeof buf,
                                          &err),
                     SL_OK);
    assert_string_equal(buf, "the shipment from Lyon was delayed from 2025-03-16 to 2025-03-21 "
                             "(at the latest 2025-03-23): container held at customs in Le Havre");
    assert_int_equal(sd_eta_describe_move(lyon, &after, &before, NULL, buf, sizeof buf, &err),
                     SL_OK);
    assert_string_equal(buf, "the shipment from Lyon is now expected earlier, on 2025-03-16 "
                             "instead of 2025-03-21");
    assert_int_equal(sd_eta_describe_move(lyon, &before, &before, "", buf, sizeof buf, &err),
                     SL_OK);
    assert_string_equal(buf, "the shipment from Lyon is on schedule for 2025-03-16 (at the latest "
                             "2025-03-18)");

    /* Control characters become spaces; long reasons are cut on a UTF-8
     * boundary. */
    assert_int_equal(
        sd_eta_describe_move(lyon, &before, &after, "  late\r\nat port\t", buf, sizeof buf, &err),
        SL_OK);
    assert_non_null(strstr(buf, ": late  at port"));
    assert_int_equal(buf[strlen(buf) - 1], 't');
    char longreason[1000] = "";
    for (int i = 0; i < 50; i++)
        strcat(longreason, "задержка "); /* 17 bytes each */
    assert_int_equal(sd_eta_describe_move(lyon, &before, &after, longreason, buf, sizeof buf, &err),
                     SL_OK);
    const char *tail = strstr(buf, ": ") + 2;
    assert_int_equal(strlen(tail), 199); /* 11 words and 6 letters: 2-byte letters, cut whole */
    assert_true(valid_utf8(tail));
    char small[20];
    assert_int_equal(sd_eta_describe_move(lyon, &before, &after, NULL, small, sizeof small, &err),
                     SL_INVALID_ARGUMENT);

    l = in_stock(ny, 2, 4);
    sd_line_eta e = eta(&l, utc_ms("2025-07-03", 19, 0, 0));
    assert_int_equal(sd_eta_describe_line(&l, &e, buf, sizeof buf, &err), SL_OK);
    assert_string_equal(buf, "in stock at Newark; ordered after the 14:00 cut-off, ships Mon "
                             "2025-07-07 after a holiday; delivery expected 2025-07-09, at the "
                             "latest 2025-07-11");
    l = backorder(ny, 1, 1, "2025-03-01", 0);
    e = eta(&l, placed);
    assert_int_equal(sd_eta_describe_line(&l, &e, buf, sizeof buf, &err), SL_OK);
    assert_string_equal(buf, "waiting for a delivery to Newark that is late (it was expected "
                             "2025-03-01), ships Thu 2025-03-06; delivery expected 2025-03-07");
    l = backorder(ny, 1, 2, "2025-03-12", 0);
    e = eta(&l, placed);
    assert_int_equal(sd_eta_describe_line(&l, &e, buf, sizeof buf, &err), SL_OK);
    assert_string_equal(buf, "waiting for a delivery to Newark expected 2025-03-12, ships Thu "
                             "2025-03-13; delivery expected 2025-03-14, at the latest 2025-03-15");
    l = in_stock(ny, 1, 2);
    e = eta(&l, utc_ms("2025-03-08", 15, 0, 0));
    assert_int_equal(sd_eta_describe_line(&l, &e, buf, sizeof buf, &err), SL_OK);
    assert_string_equal(buf, "in stock at Newark; ordered on a day it does not ship, ships Mon "
                             "2025-03-10; delivery expected 2025-03-11, at the latest 2025-03-12");
    assert_int_equal(sd_eta_describe_line(&l, &e, small, sizeof small, &err), SL_INVALID_ARGUMENT);
}

static void test_bad_input(void **state)
{
    (void)state;
    sl_err err;
    sd_warehouse *w;
    sd_warehouse_config cfg = {"w1", NULL, zone("UTC"), "14:00", 0, NULL, 0, 0};
    sd_warehouse_config c = cfg;
    c.cutoff = "25:00";
    assert_int_equal(sd_warehouse_new(&c, &w, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg,
                        "warehouse \"w1\": cutoff: invalid time \"25:00\": expected HH:MM");
    c = cfg;
    c.zone = NULL;
    assert_int_equal(sd_warehouse_new(&c, &w, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "warehouse \"w1\": zone is missing");
    c = cfg;
    c.ship_days = 0x80;
    assert_int_equal(sd_warehouse_new(&c, &w, &err), SL_INVALID_ARGUMENT);
    c = cfg;
    c.handling_days = -1;
    assert_int_equal(sd_warehouse_new(&c, &w, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "warehouse \"w1\": handling_days must be 0..365 (got -1)");
    c = cfg;
    c.n_holidays = 2;
    assert_int_equal(sd_warehouse_new(&c, &w, &err), SL_INVALID_ARGUMENT);
    c = cfg;
    c.id = "";
    assert_int_equal(sd_warehouse_new(&c, &w, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_warehouse_new(NULL, &w, &err), SL_INVALID_ARGUMENT);

    int64_t placed = utc_ms("2025-03-05", 15, 0, 0);
    sd_line_eta e;
    sd_eta_line l = in_stock(ny, 3, 2);
    assert_int_equal(sd_eta_compute_line(&l, placed, placed, &e, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "transit.p90_days must be p50_days..365 (got 2)");
    l = in_stock(ny, -1, 2);
    assert_int_equal(sd_eta_compute_line(&l, placed, placed, &e, &err), SL_INVALID_ARGUMENT);
    l = in_stock(ny, 1, 366);
    assert_int_equal(sd_eta_compute_line(&l, placed, placed, &e, &err), SL_INVALID_ARGUMENT);
    l = in_stock(ny, 1, 2);
    l.transit.unit = (sd_transit_unit)7;
    assert_int_equal(sd_eta_compute_line(&l, placed, placed, &e, &err), SL_INVALID_ARGUMENT);
    l = in_stock(ny, 1, 2);
    l.source = (sd_line_source)9;
    assert_int_equal(sd_eta_compute_line(&l, placed, placed, &e, &err), SL_INVALID_ARGUMENT);
    l = backorder(ny, 1, 2, "2025-03-12", -1);
    assert_int_equal(sd_eta_compute_line(&l, placed, placed, &e, &err), SL_INVALID_ARGUMENT);
    l = in_stock(NULL, 1, 2);
    assert_int_equal(sd_eta_compute_line(&l, placed, placed, &e, &err), SL_INVALID_ARGUMENT);
    l = in_stock(ny, 1, 2);
    assert_int_equal(sd_eta_compute_line(&l, INT64_MAX, placed, &e, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_eta_compute_line(&l, placed, INT64_MIN, &e, &err), SL_INVALID_ARGUMENT);

    sd_eta_line lines[2] = {in_stock(ny, 1, 2), in_stock(ny, 5, 1)};
    sd_order_eta o;
    assert_int_equal(sd_eta_compute_order(lines, 2, placed, placed, NULL, &o, &err),
                     SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "lines[1]: transit.p90_days must be p50_days..365 (got 1)");
    assert_int_equal(sd_eta_compute_order(lines, 0, placed, placed, NULL, &o, &err),
                     SL_INVALID_ARGUMENT);

    /* Holidays on every Monday of a Monday-only warehouse: no shipping
     * day, reported rather than looped on. */
    sd_date mondays[80];
    for (int i = 0; i < 80; i++)
        mondays[i] = D("2025-03-03") + 7 * i;
    sd_warehouse_config mon = {"mon", NULL, zone("UTC"), "12:00", SD_WEEKDAY_BIT(SD_MON), mondays,
                               80,    0};
    assert_int_equal(sd_warehouse_new(&mon, &w, &err), SL_OK);
    l = in_stock(w, 1, 2);
    assert_int_equal(sd_eta_compute_line(&l, placed, placed, &e, &err), SL_OUT_OF_RANGE);
    int64_t at;
    assert_int_equal(sd_warehouse_next_cutoff(w, placed, &at, &err), SL_OUT_OF_RANGE);
    sd_warehouse_free(w);
}

/* GetOrderEta and QuoteEta are the hottest RPCs during a sale: the engine
 * must cost next to nothing beside them. */
static void test_speed(void **state)
{
    (void)state;
    sd_eta_line lines[3] = {in_stock(ny, 2, 3), in_stock(lyon, 5, 6),
                            backorder(shanghai, 3, 9, "2025-03-20", 1)};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t placed = utc_ms("2025-03-05", 15, 0, 0);
    int64_t sum = 0;
    const int N = 200000;
    for (int i = 0; i < N; i++) {
        sd_order_eta o;
        int64_t at = placed + (int64_t)i * 61000;
        assert_int_equal(sd_eta_compute_order(lines, 3, at, at, NULL, &o, NULL), SL_OK);
        sum += o.p90;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("sd_eta: %d three-line order ETAs in %.3f s (%.2f us each)\n", N, s, s * 1e6 / N);
    assert_true(sum != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cutoff_in_warehouse_zone),
        cmocka_unit_test(test_non_shipping_days_and_holidays),
        cmocka_unit_test(test_transit_range),
        cmocka_unit_test(test_backorders),
        cmocka_unit_test(test_received_inbound_ships_after_its_receipt_not_today),
        cmocka_unit_test(test_order_is_latest_line),
        cmocka_unit_test(test_next_cutoff),
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
