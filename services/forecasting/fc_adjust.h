/*
 * fc_adjust: planner overrides and their tracked accuracy -- the domain
 * of SetForecastOverride, ListForecastOverrides, RemoveForecastOverride
 * and GetForecastAccuracy (fc_api_override.c).
 *
 * An override is stored day by day (forecast_override) and applied by
 * fc_demand_run to every forecast of its days, so plans, transfers and
 * the sales check use it without knowing about it.  What the forecast was
 * when it was issued, statistical and overridden, is kept per day
 * (issued_forecast, by ForecastDemand and here); accuracy scores those
 * figures against the sales recorded since (fc_accuracy.c).  Scoring what
 * was issued rather than re-forecasting the past is the point: a re-run
 * would use history the forecaster did not have.  (fc_override.c is the
 * engine's side: a planner's figure in place of the model's for a step.)
 */
#ifndef FC_ADJUST_H
#define FC_ADJUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_accuracy.h"
#include "fc_app.h"

/* The forecast of a period [from, to] after a change of its overrides
 * (fc_demand memory: fc_adjust_free). */
typedef struct fc_adjusted {
    int32_t from, to;   /* the period's days */
    int changed;        /* days set (SetForecastOverride) or removed (Remove) */
    bool have_forecast; /* false: the pair has no history (a launch) */
    fc_demand d;        /* from today to `to`, when have_forecast */
    size_t off;         /* from - today: the period's first step in d */
} fc_adjusted;

/* Sets the override of sku x region on each day of [from, to] (kind
 * "quantity" or "uplift", value), then stores the period's forecast with
 * it applied as issued -- one transaction, so the record shows what the
 * planner saw when overriding.  A pair without history issues the
 * planner's figures against a statistical zero. */
sl_status fc_adjust_set(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                        int32_t from, int32_t to, const char *kind, double value,
                        const char *reason, const char *author, sl_arena *a, fc_adjusted *x,
                        sl_err *err);

/* Removes the overrides of sku x region on [from, to], then stores the
 * period's forecast without them as issued; one transaction. */
sl_status fc_adjust_remove(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                           int32_t from, int32_t to, sl_arena *a, fc_adjusted *x, sl_err *err);

/* The forecast of day i of the period as the reply shows it: statistical
 * and as issued (no forecast: 0, and if_none as issued). */
void fc_adjust_day(const fc_adjusted *x, size_t i, double if_none, double *statistical,
                   double *issued);

void fc_adjust_free(fc_adjusted *x);

/* One listed override: a run of consecutive days of one pair set by one
 * request (adjustment, reason, author, time), rows [first, last] of the
 * stored entries. */
typedef struct fc_adjust_run {
    const fc_override_entry *first, *last;
} fc_adjust_run;

#define FC_ADJUST_LIST_MAX_RUNS 1000
#define FC_ADJUST_LIST_MAX_ROWS 100000

/* The overrides (optional sku / region filters) on days [from, to] as
 * runs, at most FC_ADJUST_LIST_MAX_RUNS of them over at most
 * FC_ADJUST_LIST_MAX_ROWS stored days; *truncated says whether more were
 * left out.  One read-only transaction. */
sl_status fc_adjust_list(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                         int32_t from, int32_t to, sl_arena *a, fc_adjust_run **runs, size_t *n,
                         bool *truncated, sl_err *err);

/* The accuracy of what was issued for the pairs (optional sku / region
 * filters) over the window days before today: *pairs scored (at most
 * 1000) and the report.  One repeatable-read, read-only transaction. */
sl_status fc_adjust_accuracy(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                             int window, sl_arena *a, size_t *pairs, fc_acc_report *rep,
                             sl_err *err);

#endif
