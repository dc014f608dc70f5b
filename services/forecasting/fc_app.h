/*
 * fc_app: the forecasting service's context and the helpers its handler
 * modules share (private to the service library).
 *
 * The shape is inventory's (docs/FORECASTING.md lists every file):
 *   fc_service.c      start-up, the method table, the consumer
 *   fc_valid.c        days and every request's checks (the table's
 *                     validate slots, run before the handlers)
 *   fc_api_*.c        the handlers (fc_api.h): decode -> domain -> reply
 *   domain            fc_demand (history + calendar -> forecast), fc_promo,
 *                     fc_replenish, fc_stock, fc_kpi, fc_adjust,
 *                     fc_classify, fc_leadtime, fc_alert, fc_consume,
 *                     fc_inventory (calls to inventory); the pure ones:
 *                     fc_plan, fc_transfer, fc_class, fc_accuracy and the
 *                     engine (fc_engine.h)
 *   fc_store.c        every SQL statement, columns read by name
 */
#ifndef FC_APP_H
#define FC_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "fc_engine.h"
#include "fc_plan.h"
#include "fc_store.h"
#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/forecasting.pb-c.h"
#include "sl_client.h"
#include "sl_consumer.h"
#include "sl_db.h"
#include "sl_events.h"
#include "sl_server.h"

typedef struct fc_app {
    sl_db *db;
    sl_events *events;
    sl_channel *inventory;
    sl_consumer *consumer;
    int64_t inventory_timeout_ms;
} fc_app;

#define FC_APP(call) ((fc_app *)sl_call_ctx(call))

/* What a forecast may take beyond the stored data (all optional). */
typedef struct fc_demand_opts {
    const char *method;     /* NULL or "": auto */
    const fc_quota *quotas; /* caps on uplifted demand by event kind */
    size_t n_quotas;
} fc_demand_opts;

/* A forecast of one SKU x region from today, with what went into it. */
typedef struct fc_demand {
    fc_history hist;
    int32_t today;
    int horizon;
    int32_t *future_kind; /* horizon event kinds (0: none), arena memory */
    size_t stockout_days;
    fc_forecast *fc; /* owned: fc_demand_free */
    /* The intraday refresh of step 0 from today's hourly sales. */
    bool intraday;      /* applied (today has hourly rows) */
    bool flat_profile;  /* no hourly history: a flat profile was used */
    int hours_done;     /* hours of today counted as elapsed, 0..24 */
    double today_units; /* units sold in them */
    double ratio;       /* refreshed rate / forecast rate (1: none) */
    /* Planner overrides (SetForecastOverride), applied to the engine's
     * forecast before the intraday refresh; arena memory, horizon values. */
    double *statistical; /* the engine's points */
    double *issued;      /* after the overrides: the forecast as issued */
    uint8_t *overridden; /* 1 where an override set the day */
    size_t n_overridden; /* days overridden */
    double prior_point;  /* step 0 before the refresh */
    double prior_hi95;   /* its 95% upper bound before the refresh */
} fc_demand;

/* Loads the history of sku x region before today and the calendar, and
 * forecasts horizon days (1..3660) under opts (NULL: defaults); when today
 * has hourly sales, refreshes step 0 from them (fc_forecast_intraday; see
 * fc_demand.c).  On OK d->fc is set.  NOT_FOUND when nothing was ever
 * recorded for the pair; the engine's INVALID_ARGUMENT /
 * FAILED_PRECONDITION otherwise. */
sl_status fc_demand_run(sl_db_conn *conn, const char *sku, const char *region, int horizon,
                        const fc_demand_opts *opts, sl_arena *a, fc_demand *d, sl_err *err);

/* Same, opening its own read-only transaction on db. */
sl_status fc_demand_run_db(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                           int horizon, const fc_demand_opts *opts, sl_arena *a, fc_demand *d,
                           sl_err *err);

void fc_demand_free(fc_demand *d);

/* Stores d's forecast as issued today (statistical and overridden figures
 * per day of the horizon) in the caller's transaction, for
 * GetForecastAccuracy. */
sl_status fc_demand_issue(sl_db_conn *conn, const char *sku, const char *region, const fc_demand *d,
                          sl_arena *a, sl_err *err);

/* fc_demand_issue in a transaction of its own on db. */
sl_status fc_demand_issue_db(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                             const fc_demand *d, sl_arena *a, sl_err *err);

/* Demand of sku x region over the next horizon days, as plans take it:
 * *points (arena, horizon values), *sd the one-step error (from the first
 * day's 95% band) and *model the model's name; zeros with model "none (no
 * sales recorded)" when nothing was ever recorded for the pair (a new
 * product is still planned for).  One read-only transaction on db. */
sl_status fc_demand_points(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                           int horizon, sl_arena *a, double **points, double *sd,
                           const char **model, sl_err *err);

/* Raises alert (its alert_id set) in the caller's transaction: stores it
 * and publishes it on the outbox under topic ALERT_<kind>, once per id.
 * *fresh (may be NULL) says whether it was new. */
sl_status fc_alert_raise(fc_app *app, sl_db_conn *conn, Shelfline__V1__Alert *alert, bool *fresh,
                         sl_err *err);

/* Compares today's recorded units of sku x region (daily rows, or hourly
 * rows when they say more) with today's forecast before any intraday
 * refresh, and raises SELLING_ABOVE_FORECAST when they, or the refreshed
 * projection of the day, are above its 95% band.  Runs in the
 * caller's transaction; *raised (may be NULL) gets 1 for a new alert. */
sl_status fc_alert_check_sales(fc_app *app, sl_db_conn *conn, const char *sku, const char *region,
                               sl_arena *a, int *raised, sl_err *err);

/* ---- calls to inventory (fc_inventory.c) ---- */

/* Calls "/shelfline.v1.InventoryService/<method>" with the service's
 * inventory timeout (bounded by the call's deadline when call is not
 * NULL); the reply is arena memory.  Errors are inventory's statuses with
 * the message prefixed "inventory <method>: ". */
sl_status fc_inventory_call(fc_app *app, sl_call *call, const char *method,
                            const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp,
                            sl_arena *a, void *out, sl_err *err);

/* Pages through one of inventory's List methods to its last page: req is
 * the request and page its PageRequest (page_size set by the caller, the
 * token set here); items names the response's repeated message field
 * ("warehouses").  *out gets every page's items in order (n of them; arena
 * memory).  Fails like fc_inventory_call, or RESOURCE_EXHAUSTED past
 * FC_INVENTORY_MAX_PAGES pages. */
#define FC_INVENTORY_MAX_PAGES 1000
sl_status fc_inventory_list(fc_app *app, sl_call *call, const char *method,
                            const ProtobufCMessage *req, Shelfline__V1__PageRequest *page,
                            const ProtobufCMessageDescriptor *resp, const char *items, sl_arena *a,
                            void *out, size_t *n, sl_err *err);

/* The learned lead time distributions of supplier: at warehouse_id into
 * *sw (NULL warehouse: left with 0 receipts) and over every warehouse
 * into *s (0 receipts: none), from the receipts of the last 365 days.
 * Runs on the caller's connection. */
sl_status fc_lead_time_learned(sl_db_conn *conn, const char *supplier, const char *warehouse_id,
                               sl_arena *a, fc_lead_stats *sw, fc_lead_stats *s, sl_err *err);

/* GetLeadTimes' rows: every supplier's (supplier NULL: all) learned lead
 * times per warehouse (warehouse_id NULL: all) and over all warehouses,
 * from the receipts of the last 365 days; one read-only transaction. */
sl_status fc_lead_time_list(sl_db *db, int64_t deadline_ms, const char *supplier,
                            const char *warehouse_id, sl_arena *a, fc_lead_row **rows, size_t *n,
                            sl_err *err);

/* The ABC/XYZ class of sku in region (its own classification, else the
 * network's) into code ("AX") and its target service level into *level
 * (the region's target, else the default region's, else fc_class's
 * default); *found false (nothing else set) when it is unclassified.
 * Runs on the caller's connection. */
sl_status fc_class_target(sl_db_conn *conn, const char *sku, const char *region, double *level,
                          char code[3], bool *found, sl_err *err);

/* The consumer of inventory's events (sl_consumer_fn). */
sl_status fc_apply_inventory_event(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx,
                                   sl_err *err);

#endif
