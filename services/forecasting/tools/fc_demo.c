/*
 * shelfline-forecasting-demo: loads two years of daily sales history and
 * the event calendar into a running forecasting service through its gRPC
 * API (RecordSales, SetEvent), so that every forecasting RPC answers
 * something meaningful at once.
 *
 * What it loads (deterministic: seed 20241129, the same figures every run):
 *   - SKUs: the first 5 of each of the inventory demo's 10 categories
 *     (ELEC-0001 .. ELEC-0005, HOME-0001 .., ..., APPAR-0005: the inventory
 *     demo's naming, "<CODE>-<NNNN>"), in its 3 regions NA-EAST, NA-WEST,
 *     EU-CENTRAL: 150 series;
 *   - 730 days ending yesterday (UTC) per series: a base level per SKU
 *     (2..40 units/day), a region factor (1.0, 0.8, 0.6), a weekly pattern
 *     (Saturday and Sunday +35%, Monday -10%), a yearly cycle peaking in
 *     December (+/-30%), 10% growth a year, Poisson noise;
 *   - Black Friday x4 and Cyber Monday x2.5 on last year's (and the year
 *     before's) dates, flagged on_promotion; a spring promotion (x2, 7 days)
 *     on ELEC-0001;
 *   - intermittent SKUs: the 4th and 5th of each category (e.g. ELEC-0004)
 *     sell on about 15% of days, 1..4 units;
 *   - calendar: Black Friday, Cyber Monday and 11.11 of last year and this
 *     year, Christmas season starts, and the ELEC-0001 promotions.
 * Every figure is a function of (SKU, region, calendar day) only, so the
 * load is idempotent: running it again re-sends the same rows (RecordSales
 * replaces them with themselves) and, a day later, adds the new day.
 *
 * usage: shelfline-forecasting-demo   (address from
 *        SHELFLINE_FORECASTING_ADDR, default 127.0.0.1:50052)
 * Exit status 0 when everything is loaded, 1 otherwise (first error on
 * stderr), 2 on bad usage.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_valid.h"
#include "shelfline/v1/forecasting.pb-c.h"
#include "sl_client.h"
#include "sl_config.h"
#include "sl_log.h"

#define SEED 20241129ULL
#define DAYS 730
#define PER_CATEGORY 5
#define BATCH 5000

static const char *const codes[10] = {"ELEC",  "HOME",   "KITCH", "TOYS", "BOOK",
                                      "SPORT", "BEAUTY", "GROC",  "PET",  "APPAR"};
static const char *const regions[3] = {"NA-EAST", "NA-WEST", "EU-CENTRAL"};
static const double region_factor[3] = {1.0, 0.8, 0.6};

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* A uniform in [0, 1) from a key. */
static double unif(uint64_t key)
{
    return (double)(mix(key) >> 11) / 9007199254740992.0;
}

/* Poisson(lambda) from a key: Knuth's method for small rates, a rounded
 * normal above 30. */
static int64_t poisson(double lambda, uint64_t key)
{
    if (lambda <= 0)
        return 0;
    if (lambda > 30) {
        double u1 = unif(key) + 1e-12, u2 = unif(key ^ 0x5555);
        double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
        double v = lambda + sqrt(lambda) * z;
        return v > 0 ? (int64_t)llround(v) : 0;
    }
    double l = exp(-lambda), p = 1;
    int64_t k = 0;
    for (uint64_t i = 0;; i++) {
        p *= unif(key + i * 0x9E37ULL);
        if (p <= l)
            return k;
        k++;
    }
}

/* Black Friday of year y: the day after the fourth Thursday of November. */
static int32_t black_friday(int y)
{
    int32_t nov1 = fc_day_from_civil(y, 11, 1);
    int wd = fc_day_weekday(nov1); /* 0 Monday .. 3 Thursday */
    int first_thu = (3 - wd + 7) % 7;
    return nov1 + first_thu + 21 + 1;
}

static int year_of(int32_t day)
{
    char b[16];
    fc_day_format(day, b, sizeof b);
    return (int)strtol(b, NULL, 10);
}

/* Units of SKU (category c, index k) in region g on day; *promo set on
 * promotion days. */
static int64_t units(int c, int k, int g, int32_t day, int32_t today, bool *promo)
{
    uint64_t key =
        SEED ^ ((uint64_t)(c * 100 + k) << 40) ^ ((uint64_t)g << 36) ^ (uint64_t)(uint32_t)day;
    *promo = false;
    if (k >= 3) { /* intermittent */
        if (unif(key) > 0.15)
            return 0;
        return 1 + (int64_t)(unif(key ^ 0xABCDEF) * 4);
    }
    double base = 2 + 38 * unif(SEED ^ (uint64_t)(c * 100 + k));
    double lvl = base * region_factor[g];
    int wd = fc_day_weekday(day);
    lvl *= wd >= 5 ? 1.35 : (wd == 0 ? 0.9 : 1.0);
    double doy = (double)(day - fc_day_from_civil(year_of(day), 1, 1));
    lvl *= 1 + 0.3 * cos(2 * M_PI * (doy - 350) / 365.25);
    lvl *= 1 + 0.1 * (double)(day - today) / 365.25;
    int y = year_of(day);
    int32_t bf = black_friday(y);
    if (day == bf)
        lvl *= 4, *promo = true;
    else if (day == bf + 3)
        lvl *= 2.5, *promo = true;
    if (c == 0 && k == 0) {
        int32_t spring = fc_day_from_civil(y, 4, 10);
        if (day >= spring && day < spring + 7)
            lvl *= 2, *promo = true;
    }
    return poisson(lvl, key);
}

static sl_status call(sl_channel *ch, sl_arena *a, const char *method, const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *rd, sl_err *err)
{
    char full[96];
    snprintf(full, sizeof full, "/shelfline.v1.ForecastingService/%s", method);
    sl_call_options o = {
        .timeout_ms = 120000, .idempotent = true, .wait_for_ready = true, .max_attempts = 6};
    ProtobufCMessage *out;
    return sl_client_unary(ch, full, req, rd, a, &out, &o, err);
}

static sl_status set_event(sl_channel *ch, sl_arena *a, const char *id, const char *name,
                           Shelfline__V1__EventKind kind, int32_t start, int32_t end,
                           const char *sku, sl_err *err)
{
    char s[16], e[16];
    fc_day_format(start, s, sizeof s);
    fc_day_format(end, e, sizeof e);
    Shelfline__V1__CalendarEvent ev = SHELFLINE__V1__CALENDAR_EVENT__INIT;
    ev.event_id = (char *)id;
    ev.name = (char *)name;
    ev.kind = kind;
    ev.start_day = s;
    ev.end_day = e;
    ev.sku = (char *)sku;
    Shelfline__V1__SetEventRequest r = SHELFLINE__V1__SET_EVENT_REQUEST__INIT;
    r.event = &ev;
    return call(ch, a, "SetEvent", &r.base, &shelfline__v1__calendar_event__descriptor, err);
}

static sl_status load_calendar(sl_channel *ch, sl_arena *a, int32_t today, sl_err *err)
{
    int y = year_of(today);
    sl_status st = SL_OK;
    for (int yy = y - 2; yy <= y && st == SL_OK; yy++) {
        char id[64], name[64];
        int32_t bf = black_friday(yy);
        snprintf(id, sizeof id, "black-friday-%d", yy);
        snprintf(name, sizeof name, "Black Friday %d", yy);
        st = set_event(ch, a, id, name, SHELFLINE__V1__EVENT_KIND__BLACK_FRIDAY, bf, bf, "", err);
        snprintf(id, sizeof id, "cyber-monday-%d", yy);
        snprintf(name, sizeof name, "Cyber Monday %d", yy);
        if (st == SL_OK)
            st = set_event(ch, a, id, name, SHELFLINE__V1__EVENT_KIND__CYBER_MONDAY, bf + 3, bf + 3,
                           "", err);
        snprintf(id, sizeof id, "singles-day-%d", yy);
        snprintf(name, sizeof name, "11.11 %d", yy);
        if (st == SL_OK)
            st = set_event(ch, a, id, name, SHELFLINE__V1__EVENT_KIND__SINGLES_DAY,
                           fc_day_from_civil(yy, 11, 11), fc_day_from_civil(yy, 11, 11), "", err);
        snprintf(id, sizeof id, "christmas-%d", yy);
        snprintf(name, sizeof name, "Christmas season %d", yy);
        if (st == SL_OK)
            st = set_event(ch, a, id, name, SHELFLINE__V1__EVENT_KIND__SEASON_START,
                           fc_day_from_civil(yy, 12, 1), fc_day_from_civil(yy, 12, 1), "", err);
        snprintf(id, sizeof id, "elec-0001-spring-%d", yy);
        snprintf(name, sizeof name, "ELEC-0001 spring promotion %d", yy);
        if (st == SL_OK)
            st = set_event(ch, a, id, name, SHELFLINE__V1__EVENT_KIND__PROMOTION,
                           fc_day_from_civil(yy, 4, 10), fc_day_from_civil(yy, 4, 16), "ELEC-0001",
                           err);
    }
    return st;
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: shelfline-forecasting-demo   (address from "
                        "SHELFLINE_FORECASTING_ADDR, default 127.0.0.1:50052)\n");
        return 2;
    }
    sl_log_init("forecasting-demo", SL_LOG_ERROR);
    sl_err err;
    const char *addr;
    if (sl_config_hostport("SHELFLINE_FORECASTING_ADDR", "127.0.0.1:50052", &addr, &err) != SL_OK) {
        fprintf(stderr, "shelfline-forecasting-demo: %s\n", err.msg);
        return 2;
    }
    /* The services authenticate: the token make run issued the loaders. */
    sl_channel_options co;
    sl_channel *ch;
    if (sl_channel_options_from_env(&co, &err) != SL_OK ||
        sl_channel_create(addr, &co, &ch, &err) != SL_OK) {
        fprintf(stderr, "shelfline-forecasting-demo: %s\n", err.msg);
        return 1;
    }
    sl_arena *a = sl_arena_create(0);
    Shelfline__V1__SalesRow *rows = calloc(BATCH, sizeof *rows);
    Shelfline__V1__SalesRow **rp = calloc(BATCH, sizeof *rp);
    char(*skus)[16] = calloc(10 * PER_CATEGORY, sizeof *skus);
    char(*days)[16] = calloc(DAYS, sizeof *days);
    int rc = 1;
    if (a == NULL || rows == NULL || rp == NULL || skus == NULL || days == NULL) {
        fprintf(stderr, "shelfline-forecasting-demo: out of memory\n");
        goto done;
    }
    int32_t today = fc_day_today();
    if (load_calendar(ch, a, today, &err) != SL_OK) {
        fprintf(stderr, "shelfline-forecasting-demo: could not load the calendar into %s: %s\n",
                addr, err.msg);
        goto done;
    }
    for (int i = 0; i < DAYS; i++)
        fc_day_format(today - DAYS + i, days[i], sizeof days[i]);
    long long total = 0, calls = 0;
    size_t n = 0;
    for (int c = 0; c < 10; c++) {
        for (int k = 0; k < PER_CATEGORY; k++) {
            char *sku = skus[c * PER_CATEGORY + k];
            snprintf(sku, 16, "%s-%04d", codes[c], k + 1);
            for (int g = 0; g < 3; g++) {
                for (int i = 0; i < DAYS; i++) {
                    Shelfline__V1__SalesRow *r = &rows[n];
                    shelfline__v1__sales_row__init(r);
                    r->sku = sku;
                    r->region = (char *)regions[g];
                    r->day = days[i];
                    bool promo;
                    r->units = units(c, k, g, today - DAYS + i, today, &promo);
                    r->on_promotion = promo;
                    rp[n++] = r;
                    bool last = c == 9 && k == PER_CATEGORY - 1 && g == 2 && i == DAYS - 1;
                    if (n < BATCH && !last)
                        continue;
                    Shelfline__V1__RecordSalesRequest req =
                        SHELFLINE__V1__RECORD_SALES_REQUEST__INIT;
                    req.rows = rp;
                    req.n_rows = n;
                    if (call(ch, a, "RecordSales", &req.base,
                             &shelfline__v1__record_sales_response__descriptor, &err) != SL_OK) {
                        fprintf(stderr,
                                "shelfline-forecasting-demo: could not record sales into %s: "
                                "%s\n",
                                addr, err.msg);
                        goto done;
                    }
                    sl_arena_reset(a);
                    total += (long long)n;
                    calls++;
                    n = 0;
                }
            }
        }
    }
    printf("forecasting demo loaded into %s: %d SKUs x 3 regions x %d days = %lld sales rows "
           "(%lld RecordSales calls) and the event calendar\n",
           addr, 10 * PER_CATEGORY, DAYS, total, calls);
    /* A first answer, to show the data is usable: a two-week forecast. */
    Shelfline__V1__ForecastDemandRequest fr = SHELFLINE__V1__FORECAST_DEMAND_REQUEST__INIT;
    fr.sku = "ELEC-0001";
    fr.region = "NA-EAST";
    fr.horizon_days = 14;
    sl_call_options o = {.timeout_ms = 60000};
    ProtobufCMessage *m;
    if (sl_client_unary(ch, "/shelfline.v1.ForecastingService/ForecastDemand", &fr.base,
                        &shelfline__v1__forecast_demand_response__descriptor, a, &m, &o,
                        &err) != SL_OK) {
        fprintf(stderr, "shelfline-forecasting-demo: could not forecast ELEC-0001: %s\n", err.msg);
        goto done;
    }
    Shelfline__V1__ForecastDemandResponse *f = (Shelfline__V1__ForecastDemandResponse *)m;
    double sum = 0;
    for (size_t i = 0; i < f->n_points; i++)
        sum += f->points[i]->point;
    printf("  ForecastDemand(ELEC-0001, NA-EAST, 14): %.0f units over 14 days, model %s "
           "(backtest MASE %.2f, sMAPE %.1f%%; yearly profile %s)\n",
           sum, f->model, f->backtest_mase, f->backtest_smape,
           f->yearly_seasonality ? "applied" : "not applied");
    rc = 0;
done:
    free(days);
    free(skus);
    free(rp);
    free(rows);
    sl_arena_destroy(a);
    sl_channel_destroy(ch);
    return rc;
}
