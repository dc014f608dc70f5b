/*
 * fc_valid: calendar days and the syntactic checks of every forecasting
 * request, one function per request (pure; unit-tested in
 * tests/unit/test_fc_valid.c).
 *
 * The request checks run in the dispatcher, before the handler, through
 * the method table's validate slot (fc_service.c): the *_request
 * functions at the end are those slots.  The checks themselves take
 * "today" (or "now") as a parameter so that every rule can be tested
 * without a clock; some also hand back what they parsed (days, a
 * period, a calendar row) for the handler, which calls them again for
 * it: a request the dispatcher let through cannot fail them then.  Every
 * refusal is INVALID_ARGUMENT with a message that names the field as the
 * client wrote it ("rows[1].units must be in 0..100000000, got -1").
 * Checks that need the database or inventory (does the SKU exist, has it
 * a class) stay with the domain code.
 *
 * A day number counts days since 1970-01-01 (proleptic Gregorian, UTC).
 */
#ifndef FC_VALID_H
#define FC_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_store.h"
#include "sl_arena.h"
#include "shelfline/v1/forecasting.pb-c.h"
#include "sl_status.h"

/* Day number of y-m-d (no range check). */
int32_t fc_day_from_civil(int y, int m, int d);

/* Writes "YYYY-MM-DD" of day into buf (cap >= 11). */
void fc_day_format(int32_t day, char *buf, size_t cap);

/* "YYYY-MM-DD" of day in arena memory; NULL when the arena is exhausted. */
char *fc_day_dup(sl_arena *a, int32_t day);

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

/* ---- limits of the requests ---- */

#define FC_MAX_ROWS 10000            /* rows of one RecordSales / RecordHourlySales */
#define FC_MAX_UNITS 100000000LL     /* units of one row */
#define FC_MAX_AGE_DAYS 3660         /* history kept: ten years */
#define FC_MAX_HORIZON 365           /* ForecastDemand's horizon_days */
#define FC_OVERRIDE_MAX_DAYS 92      /* days one SetForecastOverride sets */
#define FC_OVERRIDE_REMOVE_DAYS 365  /* days one RemoveForecastOverride clears */
#define FC_OVERRIDE_AHEAD 364        /* the last day ForecastDemand's horizon reaches */
#define FC_OVERRIDE_LIST_DAYS 730    /* ListForecastOverrides' period */
#define FC_OVERRIDE_MAX_QUANTITY 1e8 /* an override's quantity */
#define FC_OVERRIDE_MAX_UPLIFT 100.0 /* an override's uplift factor */

/* ---- whole requests ---- */

/* A sales row's series and time: at is the day (RecordSales) or the start
 * of the hour in Unix ms (RecordHourlySales); idx is the row's index. */
typedef struct fc_row_key {
    const char *sku, *region;
    int64_t at;
    size_t idx;
} fc_row_key;

/* RecordSales: 1..FC_MAX_ROWS rows, each with a valid sku, region, day
 * (not after today, at most FC_MAX_AGE_DAYS before) and units, no two rows
 * of a series on one day.  days and keys (n_rows each) receive each row's
 * day and the rows' keys sorted by sku, region, day. */
sl_status fc_valid_record_sales(const Shelfline__V1__RecordSalesRequest *r, int32_t today,
                                int32_t *days, fc_row_key *keys, sl_err *err);

/* RecordHourlySales: as RecordSales with hours (fc_hour_parse; not after
 * now_ms); hours and keys receive each row's hour and the sorted keys. */
sl_status fc_valid_record_hourly_sales(const Shelfline__V1__RecordHourlySalesRequest *r,
                                       int64_t now_ms, int64_t *hours, fc_row_key *keys,
                                       sl_err *err);

/* The row count of both sales requests (checked before anything is
 * allocated for the rows). */
sl_status fc_valid_row_count(size_t n, sl_err *err);

/* SetEvent: the event and its days; row (may be NULL) receives it as the
 * store takes it (strings point into the request). */
sl_status fc_valid_set_event(const Shelfline__V1__SetEventRequest *r, fc_event_row *row,
                             sl_err *err);

/* ListEvents: optional from_day / to_day into *from / *to (INT32_MIN /
 * INT32_MAX when unset), the optional sku. */
sl_status fc_valid_list_events(const Shelfline__V1__ListEventsRequest *r, int32_t *from,
                               int32_t *to, sl_err *err);

sl_status fc_valid_forecast(const Shelfline__V1__ForecastDemandRequest *r, sl_err *err);
sl_status fc_valid_plan(const Shelfline__V1__GetReplenishmentPlanRequest *r, sl_err *err);
sl_status fc_valid_transfers(const Shelfline__V1__SuggestTransfersRequest *r, sl_err *err);
sl_status fc_valid_kpis(const Shelfline__V1__GetInventoryKpisRequest *r, sl_err *err);

/* SetForecastOverride: sku, region, a future period of at most
 * FC_OVERRIDE_MAX_DAYS days (into *from / *to), exactly one adjustment in
 * range, reason and author. */
sl_status fc_valid_set_override(const Shelfline__V1__SetForecastOverrideRequest *r, int32_t today,
                                int32_t *from, int32_t *to, sl_err *err);

/* ListForecastOverrides: optional sku and region filters, the period
 * (today .. FC_OVERRIDE_AHEAD days ahead when unset) into *from / *to. */
sl_status fc_valid_list_overrides(const Shelfline__V1__ListForecastOverridesRequest *r,
                                  int32_t today, int32_t *from, int32_t *to, sl_err *err);

/* RemoveForecastOverride: sku, region, a future period of at most
 * FC_OVERRIDE_REMOVE_DAYS days into *from / *to. */
sl_status fc_valid_remove_override(const Shelfline__V1__RemoveForecastOverrideRequest *r,
                                   int32_t today, int32_t *from, int32_t *to, sl_err *err);

sl_status fc_valid_accuracy(const Shelfline__V1__GetForecastAccuracyRequest *r, sl_err *err);
sl_status fc_valid_classify(const Shelfline__V1__ClassifySkusRequest *r, sl_err *err);
sl_status fc_valid_list_classes(const Shelfline__V1__ListSkusByClassRequest *r, sl_err *err);
sl_status fc_valid_set_target(const Shelfline__V1__SetServiceLevelTargetRequest *r, sl_err *err);
sl_status fc_valid_lead_times(const Shelfline__V1__GetLeadTimesRequest *r, sl_err *err);
sl_status fc_valid_watch_alerts(const Shelfline__V1__WatchAlertsRequest *r, sl_err *err);

/* ---- the method table's validate slots (fc_service.c): the checks above
 * as the dispatcher calls them, with today's clock ---- */

sl_status fc_valid_record_sales_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_record_hourly_sales_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_set_event_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_list_events_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_forecast_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_plan_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_transfers_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_kpis_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_set_override_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_list_overrides_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_remove_override_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_accuracy_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_classify_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_list_classes_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_set_target_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_lead_times_request(const ProtobufCMessage *req, sl_err *err);
sl_status fc_valid_watch_alerts_request(const ProtobufCMessage *req, sl_err *err);

#endif
