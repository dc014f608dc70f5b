/*
 * sd_eta: warehouse shipping calendars and the ETA rules (see sd_eta.h for
 * the rules themselves and the choices behind them).
 */
#include "sd_eta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"

#define ID_MAX 64
#define NAME_MAX_BYTES 128
#define REASON_MAX_BYTES 200
/* How far a search for a shipping day may go before the calendar is
 * declared unable to ship (holidays covering a whole year). */
#define SEARCH_DAYS 366

struct sd_warehouse {
    char *id, *name;
    const sd_tz *zone;
    int cutoff_minute;
    unsigned ship_days;
    sd_date *holidays; /* sorted, unique */
    size_t n_holidays;
    int handling_days;
};

const char *sd_confidence_name(sd_confidence c)
{
    switch (c) {
    case SD_CONFIDENCE_HIGH:
        return "high";
    case SD_CONFIDENCE_MEDIUM:
        return "medium";
    case SD_CONFIDENCE_LOW:
        return "low";
    }
    return "unknown";
}

/* ---- warehouses ---------------------------------------------------------- */

void sd_warehouse_free(sd_warehouse *w)
{
    if (w == NULL)
        return;
    free(w->holidays);
    free(w->name);
    free(w->id);
    free(w);
}

static bool date_in_range(sd_date d)
{
    return d >= sd_date_from_ymd(1, 1, 1) && d <= sd_date_from_ymd(9999, 12, 31);
}

sl_status sd_warehouse_new(const sd_warehouse_config *cfg, sd_warehouse **out, sl_err *err)
{
    if (cfg == NULL || cfg->id == NULL || cfg->id[0] == '\0' || strlen(cfg->id) > ID_MAX)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "warehouse id must be 1..%d characters",
                          ID_MAX);
    const char *id = cfg->id;
    if (cfg->name != NULL && strlen(cfg->name) > NAME_MAX_BYTES)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "warehouse \"%s\": name longer than %d bytes",
                          id, NAME_MAX_BYTES);
    if (cfg->zone == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "warehouse \"%s\": zone is missing", id);
    int cutoff;
    sl_status st = sd_hhmm_parse(cfg->cutoff, &cutoff, err);
    if (st != SL_OK) {
        sl_err_wrap(err, "warehouse \"%s\": cutoff", id);
        return st;
    }
    if (cfg->ship_days & ~SD_WEEKDAYS_ALL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "warehouse \"%s\": ship_days 0x%x has bits beyond Sunday", id,
                          cfg->ship_days);
    if (cfg->holidays == NULL && cfg->n_holidays > 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "warehouse \"%s\": holidays is missing", id);
    for (size_t i = 0; i < cfg->n_holidays; i++)
        if (!date_in_range(cfg->holidays[i]))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "warehouse \"%s\": holidays[%zu] outside years 1..9999", id, i);
    if (cfg->handling_days < 0 || cfg->handling_days > SD_ETA_MAX_DAYS)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "warehouse \"%s\": handling_days must be 0..%d (got %d)", id,
                          SD_ETA_MAX_DAYS, cfg->handling_days);

    sd_warehouse *w = sl_calloc(1, sizeof *w);
    if (w == NULL)
        goto oom;
    w->id = sl_strdup(id);
    w->name = sl_strdup(cfg->name != NULL && cfg->name[0] != '\0' ? cfg->name : id);
    if (w->id == NULL || w->name == NULL)
        goto oom;
    if (cfg->n_holidays > 0) {
        if ((w->holidays = sl_malloc(cfg->n_holidays * sizeof *w->holidays)) == NULL)
            goto oom;
        memcpy(w->holidays, cfg->holidays, cfg->n_holidays * sizeof *w->holidays);
        w->n_holidays = cfg->n_holidays;
        sd_dates_normalize(w->holidays, &w->n_holidays);
    }
    w->zone = cfg->zone;
    w->cutoff_minute = cutoff;
    w->ship_days = cfg->ship_days != 0 ? cfg->ship_days : SD_WEEKDAYS_MON_FRI;
    w->handling_days = cfg->handling_days;
    *out = w;
    return SL_OK;
oom:
    sd_warehouse_free(w);
    return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory building warehouse \"%s\"", id);
}

const char *sd_warehouse_id(const sd_warehouse *w)
{
    return w->id;
}

const char *sd_warehouse_name(const sd_warehouse *w)
{
    return w->name;
}

static bool is_holiday(const sd_warehouse *w, sd_date d)
{
    return sd_dates_contains(w->holidays, w->n_holidays, d);
}

bool sd_warehouse_ships_on(const sd_warehouse *w, sd_date d)
{
    return (w->ship_days & SD_WEEKDAY_BIT(sd_date_weekday(d))) != 0 && !is_holiday(w, d);
}

/* The first shipping day on or after from, noting whether a holiday on a
 * shipping weekday was passed over. */
static sl_status first_ship_day(const sd_warehouse *w, sd_date from, sd_date *out,
                                bool *holiday_skipped, sl_err *err)
{
    for (sd_date d = from; d < from + SEARCH_DAYS; d++) {
        if (sd_warehouse_ships_on(w, d)) {
            *out = d;
            return SL_OK;
        }
        if (is_holiday(w, d) && (w->ship_days & SD_WEEKDAY_BIT(sd_date_weekday(d))))
            *holiday_skipped = true;
    }
    char buf[SD_DATE_STR];
    sd_date_format(from, buf);
    return sl_err_reason(err, SL_OUT_OF_RANGE, "NO_SHIPPING_DAY",
                         "warehouse \"%s\" has no shipping day within a year of %s", w->id, buf);
}

sl_status sd_warehouse_next_cutoff(const sd_warehouse *w, int64_t now_ms, int64_t *cutoff_ms,
                                   sl_err *err)
{
    if (!sd_time_ms_valid(now_ms))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "now outside years 1..9999");
    /* A 00:00 cut-off never lets an order ship the day it is placed: there
     * is no deadline worth showing. */
    if (w->cutoff_minute == 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "WAREHOUSE_NEVER_SHIPS",
                             "warehouse \"%s\" has a 00:00 cut-off: nothing ships the day it is "
                             "ordered",
                             w->id);
    sd_local_time lt;
    sd_tz_local(w->zone, sd_time_ms_to_s(now_ms), &lt);
    sd_date d;
    bool holiday_skipped = false; /* not reported here */
    sl_status st = first_ship_day(w, lt.date, &d, &holiday_skipped, err);
    if (st == SL_OK && sd_tz_to_unix(w->zone, d, w->cutoff_minute * 60) * 1000 <= now_ms)
        st = first_ship_day(w, d + 1, &d, &holiday_skipped, err); /* today's has passed */
    if (st != SL_OK)
        return st;
    *cutoff_ms = sd_tz_to_unix(w->zone, d, w->cutoff_minute * 60) * 1000;
    return SL_OK;
}

/* ---- ETAs ------------------------------------------------------------------- */

/* Goods arriving on day e are received on the first shipping day on or
 * after it and ship h shipping days later. */
static sl_status after_handling(const sd_warehouse *w, sd_date e, int h, sd_date *out,
                                bool *holiday_skipped, sl_err *err)
{
    sl_status st = first_ship_day(w, e, out, holiday_skipped, err);
    for (int i = 0; i < h && st == SL_OK; i++)
        st = first_ship_day(w, *out + 1, out, holiday_skipped, err);
    return st;
}

static sd_date add_transit(const sd_warehouse *w, sd_date ship, int days, sd_transit_unit unit)
{
    if (unit == SD_TRANSIT_CALENDAR_DAYS)
        return ship + days;
    sd_date d = ship;
    for (int left = days; left > 0;) {
        d++;
        if (sd_date_weekday(d) <= SD_FRI && !is_holiday(w, d))
            left--;
    }
    return d;
}

static bool unit_known(sd_transit_unit u)
{
    switch (u) {
    case SD_TRANSIT_CALENDAR_DAYS:
    case SD_TRANSIT_BUSINESS_DAYS:
        return true;
    }
    return false;
}

static sl_status check_line(const sd_eta_line *line, sl_err *err)
{
    if (line->warehouse == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "warehouse is missing");
    const sd_transit *t = &line->transit;
    if (t->p50_days < 0 || t->p50_days > SD_ETA_MAX_DAYS)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "transit.p50_days must be 0..%d (got %d)",
                          SD_ETA_MAX_DAYS, t->p50_days);
    if (t->p90_days < t->p50_days || t->p90_days > SD_ETA_MAX_DAYS)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "transit.p90_days must be p50_days..%d (got %d)", SD_ETA_MAX_DAYS,
                          t->p90_days);
    if (!unit_known(t->unit))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "transit.unit %d is unknown", (int)t->unit);
    switch (line->source) {
    case SD_LINE_IN_STOCK:
        return SL_OK;
    case SD_LINE_BACKORDER:
        if (!date_in_range(line->inbound_expected))
            return sl_err_set(err, SL_INVALID_ARGUMENT, "inbound_expected outside years 1..9999");
        if (line->inbound_slips < 0)
            return sl_err_set(err, SL_INVALID_ARGUMENT, "inbound_slips must not be negative");
        return SL_OK;
    }
    return sl_err_set(err, SL_INVALID_ARGUMENT, "source %d is unknown", (int)line->source);
}

sl_status sd_eta_compute_line(const sd_eta_line *line, int64_t placed_at_ms, int64_t now_ms,
                              sd_line_eta *out, sl_err *err)
{
    sl_status st = check_line(line, err);
    if (st != SL_OK)
        return st;
    if (!sd_time_ms_valid(placed_at_ms))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "placed_at outside years 1..9999");
    if (!sd_time_ms_valid(now_ms))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "now outside years 1..9999");
    const sd_warehouse *w = line->warehouse;
    sd_line_eta e = {0};

    sd_local_time placed;
    sd_tz_local(w->zone, sd_time_ms_to_s(placed_at_ms), &placed);
    if (!sd_warehouse_ships_on(w, placed.date)) {
        e.reason = SD_SHIP_CLOSED_DAY;
        e.holiday_skipped = is_holiday(w, placed.date);
        st = first_ship_day(w, placed.date + 1, &e.ship_date, &e.holiday_skipped, err);
    } else if (placed.second_of_day < w->cutoff_minute * 60) {
        e.reason = SD_SHIP_BEFORE_CUTOFF;
        e.ship_date = placed.date;
    } else {
        e.reason = SD_SHIP_AFTER_CUTOFF;
        st = first_ship_day(w, placed.date + 1, &e.ship_date, &e.holiday_skipped, err);
    }
    if (st != SL_OK)
        return st;
    e.confidence = SD_CONFIDENCE_HIGH;

    if (line->source == SD_LINE_BACKORDER) {
        sd_local_time now;
        sd_tz_local(w->zone, sd_time_ms_to_s(now_ms), &now);
        sd_date arrival = line->inbound_expected;
        e.reason = SD_SHIP_AFTER_INBOUND;
        e.confidence = line->inbound_slips > 0 ? SD_CONFIDENCE_LOW : SD_CONFIDENCE_MEDIUM;
        if (line->inbound_received) {
            /* In: it ships after its receipt, whatever today is. */
            e.confidence = SD_CONFIDENCE_HIGH;
        } else if (arrival < now.date) {
            /* Expected before today and still not received. */
            arrival = now.date;
            e.reason = SD_SHIP_INBOUND_OVERDUE;
            e.confidence = SD_CONFIDENCE_LOW;
        }
        sd_date ship;
        bool skipped = false;
        st = after_handling(w, arrival, w->handling_days, &ship, &skipped, err);
        if (st != SL_OK)
            return st;
        if (ship >= e.ship_date) {
            e.ship_date = ship;
            e.holiday_skipped = skipped;
        }
    }
    e.p50 = add_transit(w, e.ship_date, line->transit.p50_days, line->transit.unit);
    e.p90 = add_transit(w, e.ship_date, line->transit.p90_days, line->transit.unit);
    *out = e;
    return SL_OK;
}

sl_status sd_eta_compute_order(const sd_eta_line *lines, size_t n, int64_t placed_at_ms,
                               int64_t now_ms, sd_line_eta *line_etas, sd_order_eta *out,
                               sl_err *err)
{
    if (lines == NULL || n == 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "lines must not be empty");
    sd_order_eta o = {0};
    for (size_t i = 0; i < n; i++) {
        sd_line_eta e;
        sl_status st = sd_eta_compute_line(&lines[i], placed_at_ms, now_ms, &e, err);
        if (st != SL_OK) {
            sl_err_wrap(err, "lines[%zu]", i);
            return st;
        }
        if (line_etas != NULL)
            line_etas[i] = e;
        if (i == 0 || e.p50 > o.p50) {
            o.p50 = e.p50;
            o.p50_line = i;
        }
        if (i == 0 || e.p90 > o.p90) {
            o.p90 = e.p90;
            o.p90_line = i;
        }
        if (i == 0 || e.ship_date > o.ship_date)
            o.ship_date = e.ship_date;
        if (i == 0 || e.confidence > o.confidence)
            o.confidence = e.confidence;
    }
    *out = o;
    return SL_OK;
}

/* ---- words --------------------------------------------------------------------- */

/* reason cut to REASON_MAX_BYTES on a UTF-8 boundary, control characters
 * as spaces, surrounding spaces trimmed. */
static void clean_reason(const char *reason, char out[REASON_MAX_BYTES + 1])
{
    size_t n = 0;
    if (reason != NULL) {
        n = strlen(reason);
        if (n > REASON_MAX_BYTES) {
            n = REASON_MAX_BYTES;
            while (n > 0 && ((unsigned char)reason[n] & 0xC0) == 0x80)
                n--;
        }
    }
    size_t start = 0;
    while (start < n && (reason[start] == ' ' || (unsigned char)reason[start] < 0x20))
        start++;
    size_t w = 0;
    for (size_t i = start; i < n; i++) {
        unsigned char c = (unsigned char)reason[i];
        out[w++] = c < 0x20 || c == 0x7F ? ' ' : (char)c;
    }
    while (w > 0 && out[w - 1] == ' ')
        w--;
    out[w] = '\0';
}

static sl_status fits(int len, size_t cap, sl_err *err)
{
    if (len < 0 || (size_t)len >= cap)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "text buffer of %zu bytes is too small", cap);
    return SL_OK;
}

sl_status sd_eta_describe_move(const sd_warehouse *w, const sd_line_eta *before,
                               const sd_line_eta *after, const char *reason, char *buf, size_t cap,
                               sl_err *err)
{
    if (w == NULL || before == NULL || after == NULL || buf == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "warehouse, ETAs and buffer are required");
    char why[REASON_MAX_BYTES + 1], old50[SD_DATE_STR], new50[SD_DATE_STR], new90[SD_DATE_STR];
    clean_reason(reason, why);
    sd_date_format(before->p50, old50);
    sd_date_format(after->p50, new50);
    sd_date_format(after->p90, new90);
    char latest[SD_DATE_STR + 24] = "";
    if (after->p90 != after->p50)
        snprintf(latest, sizeof latest, " (at the latest %s)", new90);
    const char *sep = why[0] != '\0' ? ": " : "";
    int len;
    if (after->p50 > before->p50)
        len = snprintf(buf, cap, "the shipment from %s was delayed from %s to %s%s%s%s", w->name,
                       old50, new50, latest, sep, why);
    else if (after->p50 < before->p50)
        len = snprintf(buf, cap,
                       "the shipment from %s is now expected earlier, on %s instead of %s%s%s",
                       w->name, new50, old50, sep, why);
    else
        len = snprintf(buf, cap, "the shipment from %s is on schedule for %s%s", w->name, new50,
                       latest);
    return fits(len, cap, err);
}

sl_status sd_eta_describe_line(const sd_eta_line *line, const sd_line_eta *eta, char *buf,
                               size_t cap, sl_err *err)
{
    if (line == NULL || line->warehouse == NULL || eta == NULL || buf == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "line, warehouse, ETA and buffer are required");
    const sd_warehouse *w = line->warehouse;
    char ship[SD_DATE_STR], p50[SD_DATE_STR], p90[SD_DATE_STR], inbound[SD_DATE_STR];
    sd_date_format(eta->ship_date, ship);
    sd_date_format(eta->p50, p50);
    sd_date_format(eta->p90, p90);
    sd_date_format(line->inbound_expected, inbound);
    char where[NAME_MAX_BYTES + 128] = "";
    int cut_h = w->cutoff_minute / 60, cut_m = w->cutoff_minute % 60;
    switch (eta->reason) {
    case SD_SHIP_BEFORE_CUTOFF:
        snprintf(where, sizeof where, "in stock at %s; ordered before the %02d:%02d cut-off",
                 w->name, cut_h, cut_m);
        break;
    case SD_SHIP_AFTER_CUTOFF:
        snprintf(where, sizeof where, "in stock at %s; ordered after the %02d:%02d cut-off",
                 w->name, cut_h, cut_m);
        break;
    case SD_SHIP_CLOSED_DAY:
        snprintf(where, sizeof where, "in stock at %s; ordered on a day it does not ship", w->name);
        break;
    case SD_SHIP_AFTER_INBOUND:
        snprintf(where, sizeof where, "waiting for a delivery to %s expected %s", w->name, inbound);
        break;
    case SD_SHIP_INBOUND_OVERDUE:
        snprintf(where, sizeof where,
                 "waiting for a delivery to %s that is late (it was expected %s)", w->name,
                 inbound);
        break;
    }
    char latest[SD_DATE_STR + 24] = "";
    if (eta->p90 != eta->p50)
        snprintf(latest, sizeof latest, ", at the latest %s", p90);
    int len = snprintf(buf, cap, "%s, ships %s %s%s; delivery expected %s%s", where,
                       sd_weekday_name(sd_date_weekday(eta->ship_date)), ship,
                       eta->holiday_skipped ? " after a holiday" : "", p50, latest);
    return fits(len, cap, err);
}
