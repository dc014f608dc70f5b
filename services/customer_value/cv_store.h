/*
 * cv_store: every SQL statement of the customer-value service, as one table
 * of named prepared statements (cv_store_register), and typed functions over
 * them.  Nothing else in the service holds SQL.
 *
 * Conventions:
 *  - Every function takes the connection of the caller's transaction
 *    (sl_db_tx) and returns the statement's status (sl_db_exec's mapping of
 *    SQLSTATEs) with err filled.
 *  - Rows and strings returned live in the arena passed in; inputs are only
 *    read during the call.
 *  - Times cross as Unix milliseconds, days as UTC days since 1970-01-01.
 *  - Net amounts are the recorded amounts minus what was returned.
 */
#ifndef CV_STORE_H
#define CV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cv_model.h"
#include "sl_arena.h"
#include "sl_db.h"
#include "sl_status.h"

/* Registers the statement table on db (once, at start-up). */
sl_status cv_store_register(sl_db *db, sl_err *err);

typedef struct cv_customer_row {
    const char *customer_id, *region, *referred_by; /* referred_by "" for none */
    int64_t signed_up_ms, updated_ms;
} cv_customer_row;

/* The customer, or *out NULL when unknown.  lock takes FOR UPDATE. */
sl_status cv_store_customer_get(sl_db_conn *c, sl_arena *a, const char *id, bool lock,
                                cv_customer_row **out, sl_err *err);

/* Inserts or updates the customer when any field differs; *changed and
 * *created say what happened; *out is the stored row. */
sl_status cv_store_customer_upsert(sl_db_conn *c, sl_arena *a, const cv_customer_row *in,
                                   bool *created, bool *changed, cv_customer_row **out,
                                   sl_err *err);

/* A stored order or return (for idempotent replays). */
typedef struct cv_keyed_row {
    const char *customer_id, *order_id, *currency;
    const uint8_t *request;
    size_t request_len;
    int64_t recorded_ms;
} cv_keyed_row;

/* The order, or *out NULL.  lock takes FOR UPDATE. */
sl_status cv_store_purchase_get(sl_db_conn *c, sl_arena *a, const char *order_id, bool lock,
                                cv_keyed_row **out, sl_err *err);

/* The currency of one earlier order of the customer, or *out NULL. */
sl_status cv_store_customer_currency(sl_db_conn *c, sl_arena *a, const char *customer_id,
                                     const char **out, sl_err *err);

/* One purchase line to insert. */
typedef struct cv_line_in {
    const char *sku, *category;
    int64_t qty, amount_minor;
} cv_line_in;

/* Inserts the order and its lines; *recorded_ms is the insert time. */
sl_status cv_store_purchase_insert(sl_db_conn *c, sl_arena *a, const char *order_id,
                                   const char *customer_id, int64_t at_ms, int64_t amount_minor,
                                   const char *currency, const uint8_t *request, size_t len,
                                   const cv_line_in *lines, size_t n, int64_t *recorded_ms,
                                   sl_err *err);

/* The return, or *out NULL (order_id and customer_id filled). */
sl_status cv_store_return_get(sl_db_conn *c, sl_arena *a, const char *return_id, cv_keyed_row **out,
                              sl_err *err);

/* Inserts the return. */
sl_status cv_store_return_insert(sl_db_conn *c, const char *return_id, const char *order_id,
                                 int64_t at_ms, int64_t amount_minor, const uint8_t *request,
                                 size_t len, int64_t *recorded_ms, sl_err *err);

/* Adds a returned quantity and value to the order's line for sku; *found
 * false when the order has no such line.  FAILED_PRECONDITION (a CHECK)
 * when more would be returned than was bought. */
sl_status cv_store_return_line(sl_db_conn *c, const char *order_id, const char *sku, int64_t qty,
                               int64_t amount_minor, bool *found, sl_err *err);

/* One customer's calibration summary in days as of a day. */
typedef struct cv_summary_row {
    const char *customer_id, *region, *currency;
    cv_summary s;
    int64_t orders;    /* orders recorded */
    int64_t net_minor; /* net spend */
    int32_t first_day, last_day;
} cv_summary_row;

/* Filters of cv_store_summaries; NULL / 0 fields do not filter. */
typedef struct cv_summary_filter {
    /* true: computed from the purchases up to as_of_day (slow: every
     * purchase is read); false: customer_summary, as of today (as_of_day
     * must be today or later: it only sets T). */
    bool exact;
    const char *customer_id;
    const char *region;
    const char *category; /* bought at least one line of it */
    bool cohort;          /* first purchase day within [cohort_lo, cohort_hi] */
    int32_t cohort_lo, cohort_hi;
} cv_summary_filter;

/* Summaries of customers with purchases up to as_of_day (inclusive), in
 * customer id order (bytewise, as strcmp). */
sl_status cv_store_summaries(sl_db_conn *c, sl_arena *a, int32_t as_of_day,
                             const cv_summary_filter *f, cv_summary_row **out, size_t *n,
                             sl_err *err);

/* One net purchase line of a customer. */
typedef struct cv_line_row {
    const char *sku, *category;
    int32_t day;
    int64_t qty, net_minor;
} cv_line_row;

sl_status cv_store_customer_lines(sl_db_conn *c, sl_arena *a, const char *customer_id,
                                  cv_line_row **out, size_t *n, sl_err *err);

/* Net spend of the customers customer_id referred. */
sl_status cv_store_referral_value(sl_db_conn *c, const char *customer_id, int64_t *out,
                                  sl_err *err);

/* Retention counts over [as_of_day - 2 period, as_of_day): customers
 * active in the first and the second period, new in the second, active in
 * both (cv_store_retention). */
typedef struct cv_retention_counts {
    int64_t start, end, new_customers, retained;
} cv_retention_counts;

/* A stored fit. */
typedef struct cv_fit_row {
    int64_t fit_id;
    const char *cohort;
    int64_t as_of_ms, fitted_ms;
    cv_bgnbd_params bg;
    double bg_ll;
    bool bg_ok;
    int64_t customers;
    bool has_gg;
    cv_gg_params gg;
    double gg_ll;
    int64_t gg_customers;
    bool gg_ok;
    double seconds;
    cv_retention_counts ret; /* yearly, at the fit's date */
} cv_fit_row;

/* Stores fit (fit_id and fitted_ms are filled in). */
sl_status cv_store_fit_insert(sl_db_conn *c, cv_fit_row *fit, sl_err *err);

/* The latest fit of cohort ("" for all customers), or *out NULL. */
sl_status cv_store_fit_latest(sl_db_conn *c, sl_arena *a, const char *cohort, cv_fit_row **out,
                              sl_err *err);

/* cohort filters by first purchase day as in cv_summary_filter. */
sl_status cv_store_retention(sl_db_conn *c, int32_t as_of_day, int32_t period,
                             const cv_summary_filter *f, cv_retention_counts *out, sl_err *err);

/* The cohort table: cells (cohort c, offset k, customers) for the ncohorts
 * periods before as_of_day (c = 0 the latest). */
typedef struct cv_cohort_cell {
    int32_t cohort, offset;
    int64_t customers;
} cv_cohort_cell;

sl_status cv_store_cohorts(sl_db_conn *c, sl_arena *a, int32_t as_of_day, int32_t period,
                           int32_t ncohorts, const cv_summary_filter *f, cv_cohort_cell **out,
                           size_t *n, sl_err *err);

/* A scored SKU. */
typedef struct cv_sku_score {
    const char *sku, *category;
    double score;
} cv_sku_score;

/* SKUs bought by other customers in orders holding a SKU the customer
 * bought, excluding the customer's own SKUs, by count. */
sl_status cv_store_copurchase(sl_db_conn *c, sl_arena *a, const char *customer_id, int limit,
                              cv_sku_score **out, size_t *n, sl_err *err);

/* SKUs bought by the most distinct customers since since_day, optionally
 * of customers in region and of one category (NULL: any). */
sl_status cv_store_bestsellers(sl_db_conn *c, sl_arena *a, const char *region, const char *category,
                               int32_t since_day, int limit, cv_sku_score **out, size_t *n,
                               sl_err *err);

/* Net purchases of the given SKUs, by customer and SKU. */
typedef struct cv_repeat_row {
    const char *customer_id, *region, *sku;
    int32_t day;
    int64_t qty;
} cv_repeat_row;

sl_status cv_store_repeat_lines(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t nskus,
                                cv_repeat_row **out, size_t *n, sl_err *err);

/* The purchase history's data version (migration 0002): it grows with
 * every committed change to purchases, their lines or a customer's
 * region (see cv_history.h). */
sl_status cv_store_data_version(sl_db_conn *c, int64_t *out, sl_err *err);

/* One purchase line with its order and customer, for cv_history. */
typedef struct cv_history_row {
    const char *order_id, *customer_id, *region, *sku, *category;
    int32_t day;
    int64_t qty, returned_qty;
    int64_t version; /* the data version: the same on every row */
} cv_history_row;

/* Every purchase line and the data version they are of, read by one
 * statement (one snapshot), in customer, order and SKU order (byte
 * order), into arena a. */
sl_status cv_store_history(sl_db_conn *c, sl_arena *a, int64_t *version, cv_history_row **out,
                           size_t *n, sl_err *err);

/* Marks a reminder published; *fresh false when it was before. */
sl_status cv_store_reminder_mark(sl_db_conn *c, const char *customer_id, const char *sku,
                                 int32_t due_day, bool *fresh, sl_err *err);

/* The order's line for sku: units, value and units returned so far (all
 * 0 when the order has no such line). */
sl_status cv_store_order_line(sl_db_conn *c, const char *order_id, const char *sku, int64_t *qty,
                              int64_t *amount_minor, int64_t *returned_qty, sl_err *err);

/* Recomputes customer_id's row of customer_summary from their purchases
 * and returns (after RecordPurchase and RecordReturn). */
sl_status cv_store_summary_refresh(sl_db_conn *c, const char *customer_id, sl_err *err);

/* Mid-rank counts among all customers with purchases for a customer with
 * these values: worse[k] and tied[k] for recency (by last day: an earlier
 * one is worse), frequency (orders) and monetary (net spend); n customers
 * in all (tied counts include the customer). */
typedef struct cv_rfm_counts {
    int64_t n, worse[3], tied[3];
} cv_rfm_counts;

sl_status cv_store_rfm_rank(sl_db_conn *c, int32_t last_day, int64_t orders, int64_t net_minor,
                            cv_rfm_counts *out, sl_err *err);

/* ---- campaigns (cv_campaign_store.c; its statements registered by
 * cv_store_register) ---- */

/* A campaign row. */
typedef struct cv_campaign_row {
    const char *campaign_id, *kind, *region, *state;
    const char *promotion_id; /* URGENCY, else "" */
    int64_t starts_at_ms, ends_at_ms, created_ms, sent_ms;
    int32_t audience_size, sent, skipped;
    const uint8_t *request; /* the packed BuildCampaignRequest */
    size_t request_len;
} cv_campaign_row;

/* The campaign with this id, or *out NULL (arena memory). */
sl_status cv_store_campaign_get(sl_db_conn *c, sl_arena *a, const char *campaign_id,
                                cv_campaign_row **out, sl_err *err);

/* Inserts a campaign (state BUILT); *inserted false when the id existed
 * (nothing written). */
sl_status cv_store_campaign_insert(sl_db_conn *c, const cv_campaign_row *row, bool *inserted,
                                   sl_err *err);

/* One recipient as stored: the packed CampaignRecipient (picks as built),
 * its state and the picks sent. */
typedef struct cv_recipient_row {
    const char *customer_id, *region, *state;
    const uint8_t *recipient;
    size_t recipient_len;
    int32_t sent_picks;
} cv_recipient_row;

sl_status cv_store_recipient_insert(sl_db_conn *c, const char *campaign_id,
                                    const cv_recipient_row *row, sl_err *err);

/* At most limit recipients after customer id `after` ("" from the start),
 * in byte order of the id; only PENDING ones when pending_only. */
sl_status cv_store_recipients(sl_db_conn *c, sl_arena *a, const char *campaign_id,
                              const char *after, bool pending_only, int limit,
                              cv_recipient_row **out, size_t *n, sl_err *err);

/* PENDING -> state (SENT or SKIPPED) with sent_picks, under the row's
 * lock; *marked false when it had left PENDING already (another sender). */
sl_status cv_store_recipient_mark(sl_db_conn *c, const char *campaign_id, const char *customer_id,
                                  const char *state, int32_t sent_picks, bool *marked, sl_err *err);

/* Every PENDING recipient -> SKIPPED (a sold-out URGENCY campaign); *n
 * how many. */
sl_status cv_store_recipients_skip_pending(sl_db_conn *c, const char *campaign_id, int32_t *n,
                                           sl_err *err);

/* BUILT -> SENT once no recipient is PENDING. */
sl_status cv_store_campaign_finish(sl_db_conn *c, const char *campaign_id, sl_err *err);

#endif
