/*
 * sd_time: calendar arithmetic, a TZif reader with its POSIX TZ footer
 * rules, and the shared zone cache (see sd_time.h for why the C library's
 * TZ machinery is not used).
 *
 * Calendar conversions are Howard Hinnant's days_from_civil /
 * civil_from_days, exact over the whole proleptic Gregorian calendar with
 * no tables.
 */
#include "sd_time.h"
#include "sl_date.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sl_arena.h"

#define DEFAULT_ZONEINFO "/usr/share/zoneinfo"
#define ZONE_NAME_MAX 255
/* Real TZif files are a few KiB; anything far larger is not one. */
#define TZIF_MAX_BYTES (1u << 20)
#define ABBR_MAX 16
#define SECS_PER_DAY 86400

/* ---- dates ------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

bool sd_time_ms_valid(int64_t ms)
{
    return ms >= SD_TIME_MIN_S * 1000 && ms <= SD_TIME_MAX_S * 1000 + 999;
}

int64_t sd_time_ms_to_s(int64_t ms)
{
    return floor_div(ms, 1000);
}

sd_date sd_date_from_ymd(int year, int month, int day)
{
    return (sd_date)sl_days_from_civil(year, month, day);
}

void sd_date_to_ymd(sd_date d, int *year, int *month, int *day)
{
    sl_civil_from_days(d, year, month, day);
}

sd_weekday sd_date_weekday(sd_date d)
{
    /* 1970-01-01 was a Thursday. */
    int r = (int)(((int64_t)d % 7 + 7) % 7);
    return (sd_weekday)((r + SD_THU) % 7);
}

const char *sd_weekday_name(sd_weekday wd)
{
    switch (wd) {
    case SD_MON:
        return "Mon";
    case SD_TUE:
        return "Tue";
    case SD_WED:
        return "Wed";
    case SD_THU:
        return "Thu";
    case SD_FRI:
        return "Fri";
    case SD_SAT:
        return "Sat";
    case SD_SUN:
        return "Sun";
    }
    return "?";
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

sl_status sd_date_parse(const char *s, sd_date *out, sl_err *err)
{
    if (s == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "date is missing: expected YYYY-MM-DD");
    if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
        int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
        if (y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m)) {
            *out = sd_date_from_ymd(y, m, d);
            return SL_OK;
        }
    }
    return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid date \"%.40s\": expected YYYY-MM-DD", s);
}

void sd_date_format(sd_date d, char out[SD_DATE_STR])
{
    sd_date lo = sd_date_from_ymd(1, 1, 1), hi = sd_date_from_ymd(9999, 12, 31);
    int y, m, day;
    sl_civil_from_days(d < lo ? lo : d > hi ? hi : d, &y, &m, &day);
    const int parts[3][2] = {{y, 4}, {m, 2}, {day, 2}};
    char *p = out;
    for (int i = 0; i < 3; i++) {
        if (i > 0)
            *p++ = '-';
        for (int k = parts[i][1] - 1, v = parts[i][0]; k >= 0; k--, v /= 10)
            p[k] = (char)('0' + v % 10);
        p += parts[i][1];
    }
    *p = '\0';
}

sl_status sd_hhmm_parse(const char *s, int *minute_of_day, sl_err *err)
{
    if (s != NULL && strlen(s) == 5 && s[2] == ':') {
        int h = digits(s, 2), m = digits(s + 3, 2);
        if (h >= 0 && m >= 0 && m < 60 && (h < 24 || (h == 24 && m == 0))) {
            *minute_of_day = h * 60 + m;
            return SL_OK;
        }
    }
    return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid time \"%.40s\": expected HH:MM",
                      s != NULL ? s : "");
}

static int date_cmp(const void *a, const void *b)
{
    sd_date x = *(const sd_date *)a, y = *(const sd_date *)b;
    return (x > y) - (x < y);
}

void sd_dates_normalize(sd_date *dates, size_t *n)
{
    if (*n == 0)
        return;
    qsort(dates, *n, sizeof *dates, date_cmp);
    size_t w = 1;
    for (size_t i = 1; i < *n; i++)
        if (dates[i] != dates[w - 1])
            dates[w++] = dates[i];
    *n = w;
}

bool sd_dates_contains(const sd_date *dates, size_t n, sd_date d)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dates[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && dates[lo] == d;
}

/* ---- zones: representation ---------------------------------------------- */

typedef struct tz_type {
    int32_t utoff;
    bool isdst;
    uint32_t abbr; /* index into sd_tz.abbrs */
} tz_type;

/* A POSIX rule's transition day: Jn (1..365, Feb 29 never counted), n
 * (0..365, zero-based, Feb 29 counted) or Mm.w.d (day d, 0 = Sunday, of
 * week w, 5 = last, of month m), at secs local time. */
typedef struct rule_date {
    char kind; /* 'J', 'D' (plain n) or 'M' */
    int n, m, w, d;
    int32_t secs;
} rule_date;

typedef struct posix_rule {
    int32_t std_off, dst_off; /* seconds east of UTC */
    bool has_dst;
    rule_date start, end; /* start in standard time, end in daylight time */
    char std_abbr[ABBR_MAX], dst_abbr[ABBR_MAX];
} posix_rule;

struct sd_tz {
    char *name;
    size_t n_trans;
    int64_t *trans;     /* ascending instants */
    uint8_t *trans_idx; /* type in effect from trans[i] */
    tz_type *types;
    char *abbrs;
    bool has_rule;
    posix_rule rule;
};

void sd_tz_free(sd_tz *z)
{
    if (z == NULL)
        return;
    free(z->abbrs);
    free(z->types);
    free(z->trans_idx);
    free(z->trans);
    free(z->name);
    free(z);
}

const char *sd_tz_name(const sd_tz *z)
{
    return z->name;
}

/* ---- POSIX TZ rules ----------------------------------------------------- */

/* "EST" or "<+0330>": at least three characters. */
static bool parse_abbr(const char **p, char out[ABBR_MAX])
{
    const char *s = *p;
    size_t n = 0;
    if (*s == '<') {
        s++;
        while (*s != '>' && *s != '\0') {
            if (!(*s == '+' || *s == '-' || (*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') ||
                  (*s >= 'a' && *s <= 'z')))
                return false;
            if (n + 1 >= ABBR_MAX)
                return false;
            out[n++] = *s++;
        }
        if (*s != '>')
            return false;
        s++;
    } else {
        while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) {
            if (n + 1 >= ABBR_MAX)
                return false;
            out[n++] = *s++;
        }
    }
    if (n < 3)
        return false;
    out[n] = '\0';
    *p = s;
    return true;
}

/* [+-]hh[:mm[:ss]] with hours up to max_hours, into seconds. */
static bool parse_hms(const char **p, int max_hours, int32_t *out)
{
    const char *s = *p;
    int sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    int part[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (*s != ':')
                break;
            s++;
        }
        int nd = 0, v = 0;
        while (*s >= '0' && *s <= '9' && nd < 3) {
            v = v * 10 + (*s++ - '0');
            nd++;
        }
        if (nd == 0 || (i > 0 && (nd != 2 || v > 59)))
            return false;
        part[i] = v;
    }
    if (part[0] > max_hours)
        return false;
    *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    *p = s;
    return true;
}

static bool parse_num(const char **p, int lo, int hi, int *out)
{
    const char *s = *p;
    int v = 0, nd = 0;
    while (*s >= '0' && *s <= '9' && nd < 4) {
        v = v * 10 + (*s++ - '0');
        nd++;
    }
    if (nd == 0 || v < lo || v > hi)
        return false;
    *out = v;
    *p = s;
    return true;
}

static bool parse_rule_date(const char **p, rule_date *r)
{
    const char *s = *p;
    memset(r, 0, sizeof *r);
    if (*s == 'J') {
        s++;
        r->kind = 'J';
        if (!parse_num(&s, 1, 365, &r->n))
            return false;
    } else if (*s == 'M') {
        s++;
        r->kind = 'M';
        if (!parse_num(&s, 1, 12, &r->m) || *s++ != '.' || !parse_num(&s, 1, 5, &r->w) ||
            *s++ != '.' || !parse_num(&s, 0, 6, &r->d))
            return false;
    } else {
        r->kind = 'D';
        if (!parse_num(&s, 0, 365, &r->n))
            return false;
    }
    r->secs = 2 * 3600;
    if (*s == '/') {
        s++;
        /* RFC 8536 section 3.3.1: -167..167 hours. */
        if (!parse_hms(&s, 167, &r->secs))
            return false;
    }
    *p = s;
    return true;
}

static bool parse_posix(const char *s, posix_rule *r)
{
    memset(r, 0, sizeof *r);
    int32_t off;
    if (!parse_abbr(&s, r->std_abbr) || !parse_hms(&s, 24, &off))
        return false;
    /* POSIX offsets count hours west of Greenwich. */
    r->std_off = -off;
    if (*s == '\0')
        return true;
    if (!parse_abbr(&s, r->dst_abbr))
        return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (!parse_hms(&s, 24, &off))
            return false;
        r->dst_off = -off;
    }
    if (*s == '\0') {
        /* No rule: the traditional default is the current US one. */
        r->start = (rule_date){'M', 0, 3, 2, 0, 2 * 3600};
        r->end = (rule_date){'M', 0, 11, 1, 0, 2 * 3600};
        return true;
    }
    if (*s++ != ',' || !parse_rule_date(&s, &r->start) || *s++ != ',' ||
        !parse_rule_date(&s, &r->end))
        return false;
    return *s == '\0';
}

/* Local seconds since the epoch at which a rule date falls in year y. */
static int64_t rule_local(const rule_date *r, int y)
{
    int64_t jan1 = sl_days_from_civil(y, 1, 1), day;
    switch (r->kind) {
    case 'J':
        day = jan1 + r->n - 1 + (is_leap(y) && r->n >= 60);
        break;
    case 'M': {
        int64_t first = sl_days_from_civil(y, r->m, 1);
        int first_wd = ((int)sd_date_weekday((sd_date)first) + 1) % 7; /* 0 = Sunday */
        int dom = 1 + (r->d - first_wd + 7) % 7 + 7 * (r->w - 1);
        while (dom > days_in_month(y, r->m))
            dom -= 7;
        day = first + dom - 1;
        break;
    }
    default:
        day = jan1 + r->n;
        break;
    }
    return day * SECS_PER_DAY + r->secs;
}

static void rule_at(const posix_rule *r, int64_t t, int32_t *off, bool *dst, const char **abbr)
{
    bool in_dst = false;
    if (r->has_dst) {
        int y;
        sl_civil_from_days(floor_div(t + r->std_off, SECS_PER_DAY), &y, NULL, NULL);
        int64_t start = rule_local(&r->start, y) - r->std_off;
        int64_t end = rule_local(&r->end, y) - r->dst_off;
        /* Southern-hemisphere rules start after they end within a year. */
        in_dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    }
    *off = in_dst ? r->dst_off : r->std_off;
    *dst = in_dst;
    *abbr = in_dst ? r->dst_abbr : r->std_abbr;
}

/* ---- zones: lookup ------------------------------------------------------ */

static int64_t clamp_time(int64_t t)
{
    return t < SD_TIME_MIN_S ? SD_TIME_MIN_S : t > SD_TIME_MAX_S ? SD_TIME_MAX_S : t;
}

static void zone_at(const sd_tz *z, int64_t t, int32_t *off, bool *dst, const char **abbr)
{
    size_t type = 0;
    if (z->n_trans == 0 || t >= z->trans[z->n_trans - 1]) {
        if (z->has_rule) {
            rule_at(&z->rule, t, off, dst, abbr);
            return;
        }
        if (z->n_trans > 0)
            type = z->trans_idx[z->n_trans - 1];
    } else if (t >= z->trans[0]) {
        /* RFC 8536: before the first transition, type 0 applies. */
        size_t lo = 0, hi = z->n_trans - 1; /* trans[lo] <= t < trans[hi] */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (z->trans[mid] <= t)
                lo = mid;
            else
                hi = mid;
        }
        type = z->trans_idx[lo];
    }
    *off = z->types[type].utoff;
    *dst = z->types[type].isdst;
    *abbr = z->abbrs + z->types[type].abbr;
}

static int32_t offset_at(const sd_tz *z, int64_t t)
{
    int32_t off;
    bool dst;
    const char *abbr;
    zone_at(z, clamp_time(t), &off, &dst, &abbr);
    return off;
}

void sd_tz_local(const sd_tz *z, int64_t unix_s, sd_local_time *out)
{
    int64_t t = clamp_time(unix_s);
    zone_at(z, t, &out->utc_offset, &out->is_dst, &out->abbr);
    int64_t local = t + out->utc_offset;
    int64_t days = floor_div(local, SECS_PER_DAY);
    out->date = (sd_date)days;
    out->second_of_day = (int32_t)(local - days * SECS_PER_DAY);
}

int64_t sd_tz_to_unix(const sd_tz *z, sd_date date, int32_t second_of_day)
{
    /* Offsets stay within a day of UTC, so the instant lies within a day of
     * the reading taken as UTC; the offsets a day either side are those
     * before and after any transition near it (zones never change offset
     * twice in two days). */
    int64_t local = (int64_t)date * SECS_PER_DAY + second_of_day;
    int32_t before = offset_at(z, local - SECS_PER_DAY);
    int32_t after = offset_at(z, local + SECS_PER_DAY);
    int64_t u_before = local - before, u_after = local - after;
    bool ok_before = offset_at(z, u_before) == before;
    bool ok_after = offset_at(z, u_after) == after;
    if (ok_before && ok_after)
        return u_before < u_after ? u_before : u_after; /* fold: the earlier */
    if (ok_after)
        return u_after;
    /* Valid before the transition, or a gap: with the old offset a gap
     * reading lands after the transition, moved forward by the gap. */
    return u_before;
}

/* ---- zones: building ---------------------------------------------------- */

static sl_status zone_alloc(const char *name, sd_tz **out, sl_err *err)
{
    sd_tz *z = sl_calloc(1, sizeof *z);
    if (z == NULL || (z->name = sl_strdup(name)) == NULL) {
        free(z);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory loading time zone");
    }
    *out = z;
    return SL_OK;
}

sl_status sd_tz_from_posix(const char *name, const char *rule, sd_tz **out, sl_err *err)
{
    posix_rule r;
    if (rule == NULL || !parse_posix(rule, &r))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid POSIX TZ rule \"%.100s\"",
                          rule != NULL ? rule : "");
    sd_tz *z = NULL; /* set by zone_alloc; NULL silences gcc -O3's maybe-uninitialized */
    sl_status st = zone_alloc(name, &z, err);
    if (st != SL_OK)
        return st;
    z->has_rule = true;
    z->rule = r;
    *out = z;
    return SL_OK;
}

typedef struct reader {
    const unsigned char *p;
    size_t len, pos;
} reader;

static bool take(reader *r, size_t n, const unsigned char **at)
{
    if (r->len - r->pos < n)
        return false;
    *at = r->p + r->pos;
    r->pos += n;
    return true;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int64_t be64(const unsigned char *b)
{
    return (int64_t)((uint64_t)be32(b) << 32 | be32(b + 4));
}

typedef struct tzif_header {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static const char *read_header(reader *r, tzif_header *h)
{
    const unsigned char *b;
    if (!take(r, 44, &b))
        return "truncated header";
    if (memcmp(b, "TZif", 4) != 0)
        return "not a TZif file";
    h->version = (char)b[4];
    h->isutcnt = be32(b + 20);
    h->isstdcnt = be32(b + 24);
    h->leapcnt = be32(b + 28);
    h->timecnt = be32(b + 32);
    h->typecnt = be32(b + 36);
    h->charcnt = be32(b + 40);
    if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0 || h->charcnt > 4096 ||
        h->timecnt > 100000 || (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt) || h->leapcnt > 10000)
        return "bad counts in header";
    return NULL;
}

/* read_block's answer when malloc fails, told apart from format errors by
 * its address. */
static const char oom[] = "out of memory";

/* Reads one data block with tsize-byte times into z; NULL when it is
 * well formed, else what is wrong (or oom). */
static const char *read_block(reader *r, const tzif_header *h, size_t tsize, sd_tz *z)
{
    const unsigned char *times, *idx, *types, *chars, *skip;
    if (!take(r, h->timecnt * tsize, &times) || !take(r, h->timecnt, &idx) ||
        !take(r, h->typecnt * 6u, &types) || !take(r, h->charcnt, &chars) ||
        !take(r, h->leapcnt * (tsize + 4), &skip) || !take(r, h->isstdcnt, &skip) ||
        !take(r, h->isutcnt, &skip))
        return "truncated data block";
    if (h->leapcnt != 0)
        return "leap-second records (\"right/\" zones) are not supported";
    z->trans = sl_malloc((h->timecnt + 1) * sizeof *z->trans);
    z->trans_idx = sl_malloc(h->timecnt + 1);
    z->types = sl_malloc(h->typecnt * sizeof *z->types);
    z->abbrs = sl_malloc(h->charcnt + 1);
    if (z->trans == NULL || z->trans_idx == NULL || z->types == NULL || z->abbrs == NULL)
        return oom;
    for (uint32_t i = 0; i < h->timecnt; i++) {
        z->trans[i] = tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
        if (i > 0 && z->trans[i] <= z->trans[i - 1])
            return "transition times not ascending";
        if (idx[i] >= h->typecnt)
            return "transition type out of range";
        z->trans_idx[i] = idx[i];
    }
    for (uint32_t i = 0; i < h->typecnt; i++) {
        const unsigned char *t = types + 6 * i;
        int32_t utoff = (int32_t)be32(t);
        /* RFC 8536: -89999 .. 93599 seconds. */
        if (utoff < -89999 || utoff > 93599 || t[4] > 1 || t[5] >= h->charcnt)
            return "bad local time type";
        z->types[i] = (tz_type){utoff, t[4] == 1, t[5]};
    }
    memcpy(z->abbrs, chars, h->charcnt);
    z->abbrs[h->charcnt] = '\0'; /* every abbreviation ends within the table */
    z->n_trans = h->timecnt;
    return NULL;
}

/* The footer of a version 2+ file: "\n" rule "\n"; an empty rule means
 * none. */
static const char *read_footer(reader *r, sd_tz *z)
{
    const unsigned char *nl;
    if (!take(r, 1, &nl) || *nl != '\n')
        return "missing footer";
    const char *rule = (const char *)r->p + r->pos;
    const char *end = memchr(rule, '\n', r->len - r->pos);
    char buf[128];
    size_t n = end != NULL ? (size_t)(end - rule) : 0;
    if (end == NULL || n >= sizeof buf)
        return "bad footer";
    if (n == 0)
        return NULL;
    memcpy(buf, rule, n);
    buf[n] = '\0';
    if (!parse_posix(buf, &z->rule))
        return "bad POSIX TZ rule in footer";
    z->has_rule = true;
    return NULL;
}

sl_status sd_tz_from_tzif(const char *name, const unsigned char *data, size_t len, sd_tz **out,
                          sl_err *err)
{
    sd_tz *z = NULL; /* set by zone_alloc; NULL silences gcc -O3's maybe-uninitialized */
    sl_status st = zone_alloc(name, &z, err);
    if (st != SL_OK)
        return st;
    reader r = {data, len, 0};
    tzif_header h;
    const unsigned char *skip;
    const char *why = read_header(&r, &h);
    if (why == NULL && h.version == '\0') {
        why = read_block(&r, &h, 4, z);
    } else if (why == NULL) {
        /* Version 2+: skip the 32-bit block for the 64-bit one. */
        size_t v1 =
            h.timecnt * 5u + h.typecnt * 6u + h.charcnt + h.leapcnt * 8u + h.isstdcnt + h.isutcnt;
        if (!take(&r, v1, &skip))
            why = "truncated version 1 block";
        else if ((why = read_header(&r, &h)) == NULL && (why = read_block(&r, &h, 8, z)) == NULL)
            why = read_footer(&r, z);
    }
    if (why == oom) {
        sd_tz_free(z);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory loading time zone");
    }
    if (why != NULL) {
        sd_tz_free(z);
        return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid time zone file for \"%.100s\": %s",
                          name, why);
    }
    *out = z;
    return SL_OK;
}

/* ---- the zone cache ----------------------------------------------------- */

struct sd_tzdb {
    char *dir;
    pthread_rwlock_t lock;
    sd_tz **zones; /* a handful per service: a linear scan beats hashing */
    size_t n, cap;
};

static const sd_tz *cache_find(sd_tzdb *db, const char *name)
{
    for (size_t i = 0; i < db->n; i++)
        if (strcmp(db->zones[i]->name, name) == 0)
            return db->zones[i];
    return NULL;
}

static bool valid_zone_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > ZONE_NAME_MAX || name[0] == '/')
        return false;
    const char *comp = name;
    for (const char *s = name;; s++) {
        if (*s == '/' || *s == '\0') {
            size_t n = (size_t)(s - comp);
            if (n == 0 || (n == 1 && comp[0] == '.') ||
                (n == 2 && comp[0] == '.' && comp[1] == '.'))
                return false;
            if (*s == '\0')
                return true;
            comp = s + 1;
        } else if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                     (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '+' ||
                     *s == '-')) {
            return false;
        }
    }
}

static sl_status load_zone(const char *dir, const char *name, sd_tz **out, sl_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    sl_status st = SL_OK;
    struct stat sb;
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return sl_err_set(err, SL_NOT_FOUND, "time zone \"%s\" not found", name);
        return sl_err_set(err, SL_INTERNAL, "could not open time zone file \"%s\": %s", path,
                          strerror(errno));
    }
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        /* "America" is a directory of zones, not a zone. */
        st = sl_err_set(err, SL_NOT_FOUND, "time zone \"%s\" not found", name);
        goto done;
    }
    if (sb.st_size <= 0 || (size_t)sb.st_size > TZIF_MAX_BYTES) {
        st = sl_err_set(err, SL_INTERNAL, "time zone file \"%s\" has an implausible size", path);
        goto done;
    }
    size_t len = (size_t)sb.st_size;
    if ((buf = sl_malloc(len)) == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory loading time zone");
        goto done;
    }
    if (fread(buf, 1, len, f) != len) {
        st = sl_err_set(err, SL_INTERNAL, "could not read time zone file \"%s\"", path);
        goto done;
    }
    st = sd_tz_from_tzif(name, buf, len, out, err);
    if (st == SL_INVALID_ARGUMENT) {
        /* The name was fine; the system's database is broken. */
        st = SL_INTERNAL;
        if (err != NULL)
            err->status = st;
    }
done:
    free(buf);
    fclose(f);
    return st;
}

sl_status sd_tzdb_get(sd_tzdb *db, const char *name, const sd_tz **out, sl_err *err)
{
    if (name == NULL || !valid_zone_name(name))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid time zone name \"%.100s\"",
                          name != NULL ? name : "");
    pthread_rwlock_rdlock(&db->lock);
    const sd_tz *found = cache_find(db, name);
    pthread_rwlock_unlock(&db->lock);
    if (found != NULL) {
        *out = found;
        return SL_OK;
    }
    /* Load outside the lock: file I/O must not stall other lookups.  Two
     * threads may both load a new zone; the second copy is dropped. */
    sd_tz *z;
    sl_status st = load_zone(db->dir, name, &z, err);
    if (st != SL_OK)
        return st;
    pthread_rwlock_wrlock(&db->lock);
    found = cache_find(db, name);
    if (found == NULL && db->n == db->cap) {
        size_t cap = db->cap == 0 ? 16 : db->cap * 2;
        sd_tz **zones = sl_realloc(db->zones, cap * sizeof *zones);
        if (zones == NULL) {
            pthread_rwlock_unlock(&db->lock);
            sd_tz_free(z);
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory loading time zone");
        }
        db->zones = zones;
        db->cap = cap;
    }
    if (found == NULL) {
        db->zones[db->n++] = z;
        found = z;
        z = NULL;
    }
    pthread_rwlock_unlock(&db->lock);
    sd_tz_free(z);
    *out = found;
    return SL_OK;
}

sl_status sd_tzdb_new(const char *dir, sd_tzdb **out, sl_err *err)
{
    sd_tzdb *db = sl_calloc(1, sizeof *db);
    if (db == NULL || (db->dir = sl_strdup(dir != NULL ? dir : DEFAULT_ZONEINFO)) == NULL) {
        free(db);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory creating time zone set");
    }
    if (pthread_rwlock_init(&db->lock, NULL) != 0) {
        free(db->dir);
        free(db);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "could not create time zone set lock");
    }
    const sd_tz *utc;
    sl_status st = sd_tzdb_get(db, "UTC", &utc, err);
    if (st != SL_OK) {
        sl_status ret = st == SL_RESOURCE_EXHAUSTED ? st : SL_FAILED_PRECONDITION;
        if (err != NULL) {
            err->status = ret;
            sl_err_wrap(err, "time zone database \"%s\" unusable (is tzdata installed?)", db->dir);
        }
        sd_tzdb_free(db);
        return ret;
    }
    *out = db;
    return SL_OK;
}

void sd_tzdb_free(sd_tzdb *db)
{
    if (db == NULL)
        return;
    for (size_t i = 0; i < db->n; i++)
        sd_tz_free(db->zones[i]);
    free(db->zones);
    pthread_rwlock_destroy(&db->lock);
    free(db->dir);
    free(db);
}
