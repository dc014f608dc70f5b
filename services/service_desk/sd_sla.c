/*
 * sd_sla: the priority matrix, business-hours calendars and SLA clocks
 * (see sd_sla.h for the rules).
 *
 * Business time is counted day by day on the desk's calendar: each local
 * day's open intervals are turned into UTC instants with the zone's rules
 * and intersected with the span asked about.  A ticket's life is days or
 * weeks, so this costs a few dozen zone conversions; no table of future
 * intervals is kept.
 */
#include "sd_sla.h"

#include <ctype.h>
#include <strings.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"

#define MS_PER_MIN INT64_C(60000)
#define MS_PER_DAY INT64_C(86400000)
/* The longest span a clock or a business-time query may cover. */
#define MAX_DAYS 3660

/* ---- priorities and tiers ------------------------------------------------------- */

const char *sd_priority_name(sd_priority p)
{
    switch (p) {
    case SD_P1:
        return "P1";
    case SD_P2:
        return "P2";
    case SD_P3:
        return "P3";
    case SD_P4:
        return "P4";
    }
    return "unknown";
}

sl_status sd_priority_parse(const char *s, sd_priority *out, sl_err *err)
{
    if (s != NULL && (s[0] == 'P' || s[0] == 'p') && s[1] >= '1' && s[1] <= '4' && s[2] == '\0') {
        *out = (sd_priority)(s[1] - '1');
        return SL_OK;
    }
    return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid priority \"%.32s\": expected P1..P4",
                      s != NULL ? s : "");
}

const char *sd_tier_name(sd_tier t)
{
    switch (t) {
#define SD__TIER_NAME(name, str)                                                                   \
    case SD_TIER_##name:                                                                           \
        return str;
        SD_TIER_LIST(SD__TIER_NAME)
#undef SD__TIER_NAME
    }
    return "unknown";
}

sl_status sd_tier_parse(const char *name, sd_tier *out, sl_err *err)
{
#define SD__TIER_PARSE(n, str)                                                                     \
    if (name != NULL && strcmp(name, str) == 0) {                                                  \
        *out = SD_TIER_##n;                                                                        \
        return SL_OK;                                                                              \
    }
    SD_TIER_LIST(SD__TIER_PARSE)
#undef SD__TIER_PARSE
    return sl_err_set(err, SL_INVALID_ARGUMENT, "unknown customer tier \"%.32s\"",
                      name != NULL ? name : "");
}

sd_tier sd_tier_from_value(double clv_percentile, uint32_t orders)
{
    if (orders < 2)
        return SD_TIER_NEW;
    double p = isnan(clv_percentile) ? 0 : clv_percentile;
    if (p >= 0.95)
        return SD_TIER_PLATINUM;
    if (p >= 0.80)
        return SD_TIER_GOLD;
    if (p >= 0.50)
        return SD_TIER_SILVER;
    return SD_TIER_BRONZE;
}

/* Rows: sd_category order; columns: platinum, gold, silver, bronze, new.
 * New customers are treated like silver ones. */
static const sd_priority_matrix DEFAULT_MATRIX = {{
    {SD_P2, SD_P3, SD_P3, SD_P4, SD_P3}, /* where_is_my_order */
    {SD_P1, SD_P2, SD_P2, SD_P3, SD_P2}, /* delivery_delay */
    {SD_P2, SD_P3, SD_P3, SD_P4, SD_P3}, /* return_refund */
    {SD_P1, SD_P2, SD_P2, SD_P3, SD_P2}, /* damaged_item */
    {SD_P3, SD_P3, SD_P4, SD_P4, SD_P4}, /* out_of_stock */
    {SD_P1, SD_P1, SD_P2, SD_P2, SD_P2}, /* payment */
    {SD_P3, SD_P4, SD_P4, SD_P4, SD_P4}, /* other */
}};

const sd_priority_matrix *sd_priority_matrix_default(void)
{
    return &DEFAULT_MATRIX;
}

sd_priority sd_priority_for(const sd_priority_matrix *m, sd_category c, sd_tier t)
{
    if (m == NULL)
        m = &DEFAULT_MATRIX;
    unsigned ci = (unsigned)c < SD_CATEGORY_COUNT ? (unsigned)c : (unsigned)SD_CATEGORY_OTHER;
    unsigned ti = (unsigned)t < SD_TIER_COUNT ? (unsigned)t : (unsigned)SD_TIER_NEW;
    return m->cell[ci][ti];
}

/* ---- business hours ---------------------------------------------------------------- */

static const char *const DAY_NAMES[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int day_index(const char *s, size_t n)
{
    if (n != 3)
        return -1;
    for (int d = 0; d < 7; d++)
        if (tolower((unsigned char)s[0]) == DAY_NAMES[d][0] &&
            tolower((unsigned char)s[1]) == DAY_NAMES[d][1] &&
            tolower((unsigned char)s[2]) == DAY_NAMES[d][2])
            return d;
    return -1;
}

/* Checks one day's intervals: 0 <= open < close <= 1440, ascending and
 * disjoint, at most SD_SLA_MAX_INTERVALS. */
static bool day_valid(const sd_sla_day *day)
{
    if (day->n > SD_SLA_MAX_INTERVALS)
        return false;
    for (size_t i = 0; i < day->n; i++) {
        int o = day->iv[i].open_minute, c = day->iv[i].close_minute;
        if (o < 0 || o >= c || c > 1440 || (i > 0 && o < day->iv[i - 1].close_minute))
            return false;
    }
    return true;
}

/* "09:00-12:00,13:00-18:00" into day. */
static bool parse_intervals(const char *s, size_t n, sd_sla_day *day)
{
    day->n = 0;
    size_t i = 0;
    while (i < n) {
        char a[6], b[6];
        if (n - i < 11 || s[i + 5] != '-' || day->n == SD_SLA_MAX_INTERVALS)
            return false;
        memcpy(a, s + i, 5);
        memcpy(b, s + i + 6, 5);
        a[5] = b[5] = '\0';
        int o, c;
        if (sd_hhmm_parse(a, &o, NULL) != SL_OK || sd_hhmm_parse(b, &c, NULL) != SL_OK)
            return false;
        day->iv[day->n].open_minute = o;
        day->iv[day->n].close_minute = c;
        day->n++;
        i += 11;
        if (i < n && s[i++] != ',')
            return false;
        if (i == n && s[n - 1] == ',')
            return false;
    }
    return day->n > 0 && day_valid(day);
}

sl_status sd_sla_hours_parse(const char *spec, sd_sla_day week[7], sl_err *err)
{
    memset(week, 0, 7 * sizeof *week);
    if (spec == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "business hours are missing");
    if (strcasecmp(spec, "24x7") == 0) {
        for (int d = 0; d < 7; d++)
            week[d] = (sd_sla_day){1, {{0, 1440}}};
        return SL_OK;
    }
    bool named[7] = {false}, any = false;
    const char *p = spec;
    for (;; p++) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == 0) { /* "...; ;" or a trailing ';' */
            if (end == NULL)
                break;
            p = end;
            continue;
        }
        /* "<day>[-<day>] <intervals>" */
        const char *sp = memchr(p, ' ', len);
        const char *dash = sp != NULL ? memchr(p, '-', (size_t)(sp - p)) : NULL;
        int first = -1, last = -1;
        if (sp != NULL) {
            first = day_index(p, (size_t)((dash != NULL ? dash : sp) - p));
            last = dash != NULL ? day_index(dash + 1, (size_t)(sp - dash - 1)) : first;
        }
        const char *iv = sp;
        while (iv != NULL && *iv == ' ')
            iv++;
        sd_sla_day day;
        if (first < 0 || last < 0 || !parse_intervals(iv, len - (size_t)(iv - p), &day))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "invalid business hours \"%.*s\": expected e.g. \"Mon-Fri "
                              "09:00-18:00\"",
                              (int)(len < 80 ? len : 80), p);
        for (int d = first;; d = (d + 1) % 7) {
            if (named[d])
                return sl_err_set(err, SL_INVALID_ARGUMENT,
                                  "invalid business hours \"%.*s\": %s named twice",
                                  (int)(len < 80 ? len : 80), p, DAY_NAMES[d]);
            named[d] = true;
            week[d] = day;
            if (d == last)
                break;
        }
        any = true;
        if (end == NULL)
            break;
        p = end;
    }
    if (!any)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "business hours are empty");
    return SL_OK;
}

/* ---- policies -------------------------------------------------------------------------- */

struct sd_sla_policy {
    const sd_tz *zone;
    sd_sla_day week[7];
    sd_date *holidays; /* sorted, unique */
    size_t n_holidays;
    int64_t target_ms[SD_PRIORITY_COUNT][2]; /* [priority][sd_sla_kind] */
};

void sd_sla_config_defaults(sd_sla_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (int d = SD_MON; d <= SD_FRI; d++)
        cfg->week[d] = (sd_sla_day){1, {{9 * 60, 18 * 60}}};
    static const sd_sla_targets targets[SD_PRIORITY_COUNT] = {
        {30, 240}, {120, 540}, {240, 1620}, {540, 2700}};
    memcpy(cfg->targets, targets, sizeof targets);
}

sl_status sd_sla_policy_new(const sd_sla_config *cfg, sd_sla_policy **out, sl_err *err)
{
    if (cfg == NULL || cfg->zone == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "SLA policy: zone is missing");
    bool open = false;
    for (int d = 0; d < 7; d++) {
        if (!day_valid(&cfg->week[d]))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "SLA policy: week[%d] (%s) has invalid intervals", d, DAY_NAMES[d]);
        open |= cfg->week[d].n > 0;
    }
    if (!open)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "SLA policy: no business hours in the week");
    if (cfg->holidays == NULL && cfg->n_holidays > 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "SLA policy: holidays is missing");
    for (size_t i = 0; i < cfg->n_holidays; i++)
        if (cfg->holidays[i] < sd_date_from_ymd(1, 1, 1) ||
            cfg->holidays[i] > sd_date_from_ymd(9999, 12, 31))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "SLA policy: holidays[%zu] outside years 1..9999", i);
    for (int k = 0; k < SD_PRIORITY_COUNT; k++) {
        const sd_sla_targets *t = &cfg->targets[k];
        if (t->first_response_minutes <= 0 || t->resolution_minutes < t->first_response_minutes)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "SLA policy: targets[%s] must have 0 < first_response_minutes <= "
                              "resolution_minutes (got %d and %d)",
                              sd_priority_name((sd_priority)k), t->first_response_minutes,
                              t->resolution_minutes);
    }
    sd_sla_policy *p = sl_calloc(1, sizeof *p);
    if (p == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory building SLA policy");
    if (cfg->n_holidays > 0) {
        p->holidays = sl_malloc(cfg->n_holidays * sizeof *p->holidays);
        if (p->holidays == NULL) {
            free(p);
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory building SLA policy");
        }
        memcpy(p->holidays, cfg->holidays, cfg->n_holidays * sizeof *p->holidays);
        p->n_holidays = cfg->n_holidays;
        sd_dates_normalize(p->holidays, &p->n_holidays);
    }
    p->zone = cfg->zone;
    memcpy(p->week, cfg->week, sizeof p->week);
    for (int k = 0; k < SD_PRIORITY_COUNT; k++) {
        p->target_ms[k][SD_SLA_FIRST_RESPONSE] =
            cfg->targets[k].first_response_minutes * MS_PER_MIN;
        p->target_ms[k][SD_SLA_RESOLUTION] = cfg->targets[k].resolution_minutes * MS_PER_MIN;
    }
    *out = p;
    return SL_OK;
}

void sd_sla_policy_free(sd_sla_policy *p)
{
    if (p == NULL)
        return;
    free(p->holidays);
    free(p);
}

int64_t sd_sla_target_ms(const sd_sla_policy *p, sd_priority prio, sd_sla_kind kind)
{
    if ((unsigned)prio >= SD_PRIORITY_COUNT)
        return 0;
    switch (kind) {
    case SD_SLA_FIRST_RESPONSE:
    case SD_SLA_RESOLUTION:
        return p->target_ms[prio][kind];
    }
    return 0;
}

/* ---- business time ------------------------------------------------------------------------ */

/* Local date d's open intervals as UTC milliseconds [s[i], e[i]). */
static size_t day_intervals(const sd_sla_policy *p, sd_date d, int64_t s[], int64_t e[])
{
    if (sd_dates_contains(p->holidays, p->n_holidays, d))
        return 0;
    const sd_sla_day *day = &p->week[sd_date_weekday(d)];
    size_t k = 0;
    for (size_t i = 0; i < day->n; i++) {
        int64_t a = sd_tz_to_unix(p->zone, d, day->iv[i].open_minute * 60) * 1000;
        int64_t b = sd_tz_to_unix(p->zone, d, day->iv[i].close_minute * 60) * 1000;
        if (b > a) {
            s[k] = a;
            e[k] = b;
            k++;
        }
    }
    return k;
}

/* The local date at which to start scanning for an instant: the day before
 * its own, so an interval that began there is seen. */
static sd_date scan_start(const sd_sla_policy *p, int64_t ms)
{
    sd_local_time lt;
    sd_tz_local(p->zone, sd_time_ms_to_s(ms), &lt);
    return lt.date - 1;
}

static int64_t business_between(const sd_sla_policy *p, int64_t from, int64_t to)
{
    int64_t total = 0;
    for (sd_date d = scan_start(p, from);; d++) {
        if (sd_tz_to_unix(p->zone, d, 0) * 1000 >= to)
            return total;
        int64_t s[SD_SLA_MAX_INTERVALS], e[SD_SLA_MAX_INTERVALS];
        size_t n = day_intervals(p, d, s, e);
        for (size_t i = 0; i < n; i++) {
            int64_t a = s[i] > from ? s[i] : from, b = e[i] < to ? e[i] : to;
            if (b > a)
                total += b - a;
        }
    }
}

/* The instant amount (> 0) business milliseconds after from; false when it
 * is more than MAX_DAYS away. */
static bool business_after(const sd_sla_policy *p, int64_t from, int64_t amount, int64_t *at)
{
    sd_date d0 = scan_start(p, from);
    for (sd_date d = d0; d < d0 + MAX_DAYS + 2; d++) {
        int64_t s[SD_SLA_MAX_INTERVALS], e[SD_SLA_MAX_INTERVALS];
        size_t n = day_intervals(p, d, s, e);
        for (size_t i = 0; i < n; i++) {
            int64_t a = s[i] > from ? s[i] : from;
            if (e[i] <= a)
                continue;
            if (amount <= e[i] - a) {
                *at = a + amount;
                return true;
            }
            amount -= e[i] - a;
        }
    }
    return false;
}

sl_status sd_sla_business_ms(const sd_sla_policy *p, int64_t from_ms, int64_t to_ms, int64_t *out,
                             sl_err *err)
{
    if (!sd_time_ms_valid(from_ms) || !sd_time_ms_valid(to_ms) || to_ms < from_ms)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "business time needs from <= to within years 1..9999");
    if (to_ms - from_ms > MAX_DAYS * MS_PER_DAY)
        return sl_err_set(err, SL_OUT_OF_RANGE, "business time over more than ten years");
    *out = business_between(p, from_ms, to_ms);
    return SL_OK;
}

sl_status sd_sla_add_business(const sd_sla_policy *p, int64_t from_ms, int64_t business_ms,
                              int64_t *at_ms, sl_err *err)
{
    if (!sd_time_ms_valid(from_ms) || business_ms < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "business time must be positive from a time within years 1..9999");
    if (business_ms == 0) {
        *at_ms = from_ms;
        return SL_OK;
    }
    if (!business_after(p, from_ms, business_ms, at_ms))
        return sl_err_set(err, SL_OUT_OF_RANGE, "deadline more than ten years away");
    return SL_OK;
}

/* ---- clocks --------------------------------------------------------------------------------- */

typedef struct clock_run {
    const sd_sla_policy *p;
    int64_t target, elapsed;
    bool breached;
    int64_t breached_at;
} clock_run;

/* Counts the running segment [a, b), noting when the target was reached. */
static bool run_segment(clock_run *r, int64_t a, int64_t b)
{
    if (b <= a)
        return true;
    int64_t biz = business_between(r->p, a, b);
    if (!r->breached && biz >= r->target - r->elapsed) {
        r->breached = true;
        if (!business_after(r->p, a, r->target - r->elapsed, &r->breached_at))
            return false;
    }
    r->elapsed += biz;
    return true;
}

static bool event_kind_known(sd_sla_event_kind k)
{
    switch (k) {
    case SD_SLA_PAUSE:
    case SD_SLA_RESUME:
        return true;
    }
    return false;
}

sl_status sd_sla_clock_at(const sd_sla_policy *p, int64_t start_ms, int64_t target_ms,
                          const sd_sla_event *events, size_t n_events, int64_t now_ms,
                          sd_sla_clock *out, sl_err *err)
{
    if (target_ms <= 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "SLA target must be positive");
    if (!sd_time_ms_valid(start_ms) || !sd_time_ms_valid(now_ms))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "SLA times must be within years 1..9999");
    if (events == NULL && n_events > 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "SLA events are missing");
    for (size_t i = 0; i < n_events; i++) {
        if (!event_kind_known(events[i].kind))
            return sl_err_set(err, SL_INVALID_ARGUMENT, "events[%zu]: kind %d is unknown", i,
                              (int)events[i].kind);
        if (!sd_time_ms_valid(events[i].at_ms) || (i > 0 && events[i].at_ms < events[i - 1].at_ms))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "events[%zu]: out of time order or outside years 1..9999", i);
    }
    if (now_ms < start_ms)
        now_ms = start_ms; /* not opened yet: nothing has elapsed */
    if (now_ms - start_ms > MAX_DAYS * MS_PER_DAY)
        return sl_err_set(err, SL_OUT_OF_RANGE, "ticket open for more than ten years");

    clock_run r = {p, target_ms, 0, false, 0};
    bool paused = false, ok = true;
    int64_t seg = start_ms;
    for (size_t i = 0; i < n_events && events[i].at_ms <= now_ms && ok; i++) {
        int64_t t = events[i].at_ms > start_ms ? events[i].at_ms : start_ms;
        switch (events[i].kind) {
        case SD_SLA_PAUSE:
            if (!paused)
                ok = run_segment(&r, seg, t);
            paused = true;
            break;
        case SD_SLA_RESUME:
            if (paused)
                seg = t;
            paused = false;
            break;
        }
    }
    if (ok && !paused)
        ok = run_segment(&r, seg, now_ms);
    sd_sla_clock c = {0};
    c.paused = paused;
    c.elapsed_ms = r.elapsed;
    c.remaining_ms = target_ms - r.elapsed;
    c.breached = r.breached;
    if (ok && r.breached) {
        c.breached_at_ms = r.breached_at;
        c.has_deadline = true;
        c.deadline_ms = r.breached_at;
    } else if (ok && !paused) {
        c.has_deadline = true;
        ok = business_after(p, now_ms, c.remaining_ms, &c.deadline_ms);
    }
    if (!ok)
        return sl_err_set(err, SL_OUT_OF_RANGE, "SLA deadline more than ten years away");
    *out = c;
    return SL_OK;
}

bool sd_sla_breaching_within(const sd_sla_clock *c, int64_t now_ms, int64_t window_ms)
{
    if (c->breached)
        return true;
    return c->has_deadline && !c->paused && c->deadline_ms - now_ms <= window_ms;
}
