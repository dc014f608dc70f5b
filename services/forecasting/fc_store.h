/*
 * fc_store: every SQL statement of the forecasting service (named,
 * prepared, parameterized) and the typed functions that run them on a
 * connection the caller holds (usually inside sl_db_tx).
 *
 * Days cross this interface as day numbers (days since 1970-01-01, UTC);
 * history queries answer offsets relative to a reference day so that the
 * caller needs no calendar arithmetic beyond fc_day_*.
 */
#ifndef FC_STORE_H
#define FC_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_arena.h"
#include "sl_db.h"
#include "sl_status.h"

/* Registers the statement table with db. */
sl_status fc_store_register(sl_db *db, sl_err *err);

/* Upserts an API sales row; *changed is false when it was already so. */
sl_status fc_store_sales_api(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                             int64_t units, bool promo, bool *changed, sl_err *err);

/* Adds units to the inventory-sourced row of sku x region x day. */
sl_status fc_store_sales_add(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                             int64_t units, sl_err *err);

/* Flags a stock-out day (idempotent). */
sl_status fc_store_stockout(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                            const char *source, sl_err *err);

/* OUT_OF_STOCK on day: a stock-out of sku in region begins, unless one
 * runs already (idempotent).  Its days count as stocked out in the
 * history (fc_store_history) until it ends. */
sl_status fc_store_stockout_open(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                                 sl_err *err);

/* BACK_IN_STOCK on day: the running stock-out of sku in region ends and
 * every day from its first to day is flagged (nothing when none runs). */
sl_status fc_store_stockout_close(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                                  sl_err *err);

/* A SKU x region's daily history before day `before`: n days from the
 * first recorded one, units (0 on days without rows), promo and stock-out
 * flags (1/0), all arena memory.  n is 0 when nothing was recorded. */
typedef struct fc_history {
    int32_t first_day;
    size_t n;
    double *units;
    uint8_t *promo;
    uint8_t *stockout;
} fc_history;
sl_status fc_store_history(sl_db_conn *c, const char *sku, const char *region, int32_t before,
                           sl_arena *a, fc_history *out, sl_err *err);

/* Units recorded for one day (all sources). */
sl_status fc_store_day_units(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                             int64_t *units, sl_err *err);

/* One calendar event. */
typedef struct fc_event_row {
    const char *event_id, *name, *sku, *region;
    const char *promotion_id; /* "" (or NULL when writing): none */
    int kind;
    int32_t start_day, end_day;
} fc_event_row;

sl_status fc_store_event_set(sl_db_conn *c, const fc_event_row *e, sl_err *err);

/* Events overlapping [from, to] (INT32_MIN / INT32_MAX: no bound) that
 * apply to sku (NULL: any) and region (NULL: any); at most 1,000, by start
 * day then id.  Strings and the array are arena memory. */
sl_status fc_store_event_list(sl_db_conn *c, int32_t from, int32_t to, const char *sku,
                              const char *region, sl_arena *a, fc_event_row **out, size_t *n,
                              sl_err *err);

/* Inserts an alert row; *fresh is false when the id was raised before. */
sl_status fc_store_alert(sl_db_conn *c, const char *alert_id, int kind, const char *sku,
                         const char *region, int32_t day, bool *fresh, sl_err *err);

/* Units sold of sku over days [from, to) in all regions, and the number of
 * stock-out SKU x region days in that span. */
sl_status fc_store_period(sl_db_conn *c, const char *sku, int32_t from, int32_t to, int64_t *units,
                          int64_t *stockout_days, sl_err *err);

/* Upserts the units of sku x region in the hour starting at hour_ms
 * (Unix ms, a whole hour); *changed is false when it was already so. */
sl_status fc_store_hourly_set(sl_db_conn *c, const char *sku, const char *region, int64_t hour_ms,
                              int64_t units, bool *changed, sl_err *err);

/* Hourly units of sku x region over hours starting in [from_ms, to_ms),
 * summed by hour of day (UTC) into units[0..23]; *last_hour gets the
 * latest hour of day having a row (-1: none). */
sl_status fc_store_hourly_by_hour(sl_db_conn *c, const char *sku, const char *region,
                                  int64_t from_ms, int64_t to_ms, double units[24], int *last_hour,
                                  sl_err *err);

/* Upserts a planner's override of sku x region x day: kind "quantity"
 * (value units) or "uplift" (value multiplies the statistical forecast);
 * *changed is false when it was already so. */
sl_status fc_store_override_set(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                                const char *kind, double value, const char *reason,
                                const char *author, bool *changed, sl_err *err);

/* One day's override. */
typedef struct fc_override_row {
    int32_t day;
    bool uplift; /* value multiplies the statistical forecast; else units */
    double value;
} fc_override_row;

/* The overrides of sku x region on days [from, to] by day (arena). */
sl_status fc_store_override_list(sl_db_conn *c, const char *sku, const char *region, int32_t from,
                                 int32_t to, sl_arena *a, fc_override_row **out, size_t *n,
                                 sl_err *err);

/* Deletes the overrides of sku x region on days [from, to]; *removed is
 * how many days had one. */
sl_status fc_store_override_remove(sl_db_conn *c, const char *sku, const char *region, int32_t from,
                                   int32_t to, int *removed, sl_err *err);

/* One stored day's override with everything set with it. */
typedef struct fc_override_entry {
    const char *sku, *region; /* shared by consecutive rows of a pair */
    int32_t day;
    bool uplift;
    double value;
    const char *reason, *author;
    int64_t set_at_ms;
} fc_override_entry;

/* The stored overrides on days [from, to] of sku (NULL: any) in region
 * (NULL: any), by SKU, region and day, at most max rows (arena). */
sl_status fc_store_override_entries(sl_db_conn *c, const char *sku, const char *region,
                                    int32_t from, int32_t to, int max, sl_arena *a,
                                    fc_override_entry **out, size_t *n, sl_err *err);

/* Stores the forecast issued on issued_on for n days from first_day (one
 * statement): the statistical figure, the final one and whether it was
 * overridden, per day.  A day keeps its latest issue.  Scratch memory from
 * a. */
sl_status fc_store_issue(sl_db_conn *c, const char *sku, const char *region, int32_t issued_on,
                         int32_t first_day, size_t n, const double *statistical,
                         const double *final, const uint8_t *overridden, sl_arena *a, sl_err *err);

/* One issued forecast with the day's recorded sales. */
typedef struct fc_scored_row {
    const char *sku, *region;
    int32_t day;
    double statistical, final, actual;
    bool overridden;
} fc_scored_row;

/* Issued forecasts of days [from, to) for sku and region (NULL: any),
 * stock-out days left out, with their actual units; by SKU, region, day;
 * at most limit rows (arena). */
sl_status fc_store_scored(sl_db_conn *c, const char *sku, const char *region, int32_t from,
                          int32_t to, size_t limit, sl_arena *a, fc_scored_row **out, size_t *n,
                          sl_err *err);

/* Units of region ("" : all regions) over days [from, to) by SKU and week
 * (week w covers from + 7w .. from + 7w + 6); by SKU, week (arena). */
typedef struct fc_weekly_row {
    const char *sku;
    int week;
    double units;
} fc_weekly_row;
sl_status fc_store_weekly_units(sl_db_conn *c, const char *region, int32_t from, int32_t to,
                                sl_arena *a, fc_weekly_row **out, size_t *n, sl_err *err);

/* One SKU's ABC/XYZ class as stored. */
typedef struct fc_class_row {
    const char *sku;
    char abc, xyz;
    int64_t revenue_minor, units;
    double share, cumulative, cv;
    int32_t classified_on;
    int period_days;
} fc_class_row;

/* Replaces region's classification by rows (their order is the rank). */
sl_status fc_store_class_replace(sl_db_conn *c, const char *region, const fc_class_row *rows,
                                 size_t n, sl_err *err);

/* Region's classification by rank, only class abc / xyz when not NULL
 * (arena). */
sl_status fc_store_class_list(sl_db_conn *c, const char *region, const char *abc, const char *xyz,
                              sl_arena *a, fc_class_row **out, size_t *n, sl_err *err);

/* sku's class in region; *found false when unclassified there. */
sl_status fc_store_class_get(sl_db_conn *c, const char *sku, const char *region, char *abc,
                             char *xyz, bool *found, sl_err *err);

/* Service-level targets of region by class index (fc_class_index): the
 * region's own, else the default region's (''), else NAN. */
sl_status fc_store_targets(sl_db_conn *c, const char *region, double targets[9], sl_err *err);

/* Upserts the target of class code ("AX") in region. */
sl_status fc_store_target_set(sl_db_conn *c, const char *region, const char *code, double level,
                              sl_err *err);

/* Records a purchase order's first receipt (later ones change nothing). */
sl_status fc_store_receipt(sl_db_conn *c, const char *inbound_id, const char *supplier,
                           const char *warehouse_id, const char *sku, int64_t ordered_ms,
                           int64_t promised_ms, int64_t received_ms, int64_t qty, sl_err *err);

/* A lead time distribution (days) of one supplier at one warehouse, or
 * over every warehouse. */
typedef struct fc_lead_row {
    const char *supplier, *warehouse_id; /* "" with every_warehouse */
    bool every_warehouse;
    int64_t receipts;
    double mean, sd, p50, p90, delay, on_time;
} fc_lead_row;

/* Distributions of the receipts since since_ms of supplier and at
 * warehouse_id (NULL: any), per supplier x warehouse and per supplier
 * (every_warehouse), by supplier; at most 1,000 rows (arena). */
sl_status fc_store_lead_stats(sl_db_conn *c, const char *supplier, const char *warehouse_id,
                              int64_t since_ms, sl_arena *a, fc_lead_row **out, size_t *n,
                              sl_err *err);

#endif
