/*
 * inv_store: every SQL statement of the inventory service, as named
 * prepared statements (inv_store_register; one table per aggregate, in
 * inv_store_<aggregate>.c), and typed functions over them.  Nothing else in
 * the service holds SQL, and nothing else includes the store's internal
 * header (inv_store_int.h).
 *
 * Conventions:
 *  - Every function takes the connection of the caller's transaction
 *    (sl_db_tx) and returns the statement's status (sl_db_exec's mapping of
 *    SQLSTATEs) with err filled.
 *  - Rows and strings returned live in the arena passed in; inputs are only
 *    read during the call.
 *  - Sets go in as arrays (unnest), so a batch of any size is one round
 *    trip.  Array parameters are built as PostgreSQL array literals with
 *    every element quoted; NULLs are written as "" and NULLIF'd in SQL.
 *  - Times cross as Unix milliseconds; the database clock (now()) is the
 *    clock of the transaction.
 */
#ifndef INV_STORE_H
#define INV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shelfline/v1/inventory.pb-c.h"
#include "sl_arena.h"
#include "sl_auth.h"
#include "sl_db.h"
#include "sl_status.h"

/* Registers the statement table on db (once, at start-up). */
sl_status inv_store_register(sl_db *db, sl_err *err);

/* ---- rows ---- */

typedef struct inv_route {
    const char *warehouse_id;
    const char *region;
    int p50, p90;
} inv_route;

typedef struct inv_product_row {
    const char *sku;
    int64_t price_minor;
    const char *currency;
} inv_product_row;

typedef struct inv_stock_row {
    const char *sku;
    const char *warehouse_id;
    int64_t on_hand, reserved, safety_stock, low_stock_threshold, updated_ms;
    int64_t incoming; /* open inbound units not received (stock_get, low_stock only) */
} inv_stock_row;

/* An increment to a stock row; a row that does not exist yet (exists
 * false) is created with the increments as its values. */
typedef struct inv_stock_delta {
    const char *sku;
    const char *warehouse_id;
    int64_t d_on_hand;
    int64_t d_reserved;
    bool exists;
} inv_stock_delta;

typedef struct inv_wh_row {
    const char *warehouse_id;
    const char *region;
    bool active;
} inv_wh_row;

typedef struct inv_inbound_row {
    const char *id, *kind, *sku, *warehouse_id, *source_warehouse_id, *supplier, *reference;
    int64_t qty, received, backordered;
    int64_t expected_ms, original_ms, created_ms;
    const uint8_t *request;
    size_t request_len;
    sl_audit audit; /* who creates it (written by inv_store_inbound_insert) */
} inv_inbound_row;

/* An open inbound's units free to backorder. */
typedef struct inv_open_inbound {
    const char *id, *sku, *warehouse_id;
    int64_t unallocated;
    int64_t expected_ms;
} inv_open_inbound;

typedef struct inv_resv_row {
    const char *id, *customer_id, *region, *status;
    const uint8_t *request, *result;
    size_t request_len, result_len;
    int64_t created_ms, expires_ms, closed_ms; /* closed_ms 0 while HELD */
    sl_audit audit; /* who reserved (written by inv_store_reserve_write only) */
} inv_resv_row;

typedef struct inv_alloc_row {
    const char *reservation_id;
    int line_no, part_no;
    const char *sku, *warehouse_id;
    int64_t qty;
    const char *inbound_id; /* "" for stock */
    int64_t awaiting;
    const char *promotion_id; /* "" for normal stock */
    const char *status;       /* the reservation's (inv_store_backorders only) */
} inv_alloc_row;

typedef struct inv_promo_row {
    const char *id, *sku, *region, *currency;
    int64_t quota, per_customer_limit, starts_ms, ends_ms, price_minor;
    int64_t remaining, held, sold, returned;
    bool ended;
    const uint8_t *request;
    size_t request_len;
    sl_audit audit; /* who creates it (written by inv_store_promo_insert) */
    /* A stock fence is a promotion of kind STOCK_FENCE (migration 0006):
     * kind "STOCK_FENCE" and is_fence, with its segment and its warehouse
     * or region; a promotion has kind "PROMOTION" and both empty. */
    const char *kind, *segment, *warehouse_id;
    bool is_fence;
} inv_promo_row;

typedef struct inv_fence_row {
    const char *promotion_id, *warehouse_id;
    int64_t fenced, remaining;
} inv_fence_row;

typedef struct inv_usage_row {
    const char *promotion_id, *customer_id;
    int64_t qty;
    int64_t limit_qty; /* for inv_store_usage_apply */
} inv_usage_row;

/* Increments to a promotion's counters. */
typedef struct inv_promo_delta {
    const char *id;
    int64_t d_remaining, d_held, d_sold, d_returned;
    bool end;
} inv_promo_delta;

/* ---- locks and the network ---- */

/* Takes transaction advisory locks on keys in the given order (callers
 * sort them: one order everywhere means no deadlocks) and returns the
 * transaction's now() in ms.  Advisory locks need no transaction id, so a
 * transaction that locks before its first write gets its xid after every
 * earlier holder of the same keys committed: the outbox orders their
 * events as they committed. */
sl_status inv_store_lock(sl_db_conn *c, sl_arena *a, const int64_t *keys, size_t n, int64_t *now_ms,
                         sl_err *err);

/* Routes of active warehouses to the regions they serve. */
sl_status inv_store_network(sl_db_conn *c, sl_arena *a, inv_route **out, size_t *n, sl_err *err);

/* ---- catalogue (rows as protobuf messages in arena memory) ---- */

/* Inserts p unless its SKU exists; *created says which.  When it existed,
 * *out is the stored product (the caller compares). */
sl_status inv_store_product_create(sl_db_conn *c, sl_arena *a, const Shelfline__V1__Product *p,
                                   bool *created, Shelfline__V1__Product **out, sl_err *err);
sl_status inv_store_product_update(sl_db_conn *c, sl_arena *a, const Shelfline__V1__Product *p,
                                   Shelfline__V1__Product **out, sl_err *err); /* NULL: none */
sl_status inv_store_product_get(sl_db_conn *c, sl_arena *a, const char *sku,
                                Shelfline__V1__Product **out, sl_err *err); /* NULL: none */
sl_status inv_store_product_list(sl_db_conn *c, sl_arena *a, const char *category,
                                 const char *after, int limit, Shelfline__V1__Product ***out,
                                 size_t *n, sl_err *err);
/* Which of skus exist: missing receives the index of the first unknown one
 * or -1. */
/* One SKU's stock over a window (GetAverageStock). */
typedef struct inv_avg_row {
    const char *sku;
    int64_t tracked_ms; /* 0: no ledger entry by the window's end */
    int64_t start_on_hand, end_on_hand, changes;
    double average_on_hand;
} inv_avg_row;

/* For the distinct skus, sorted: the time-weighted average of on_hand
 * (all warehouses, or warehouse_id when not empty) over [from_ms, to_ms],
 * rebuilt from the ledger; see GetAverageStock in inventory.proto. */
sl_status inv_store_average_stock(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t n,
                                  const char *warehouse_id, int64_t from_ms, int64_t to_ms,
                                  inv_avg_row **out, size_t *nout, sl_err *err);

sl_status inv_store_skus_missing(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t n,
                                 long *missing, sl_err *err);

sl_status inv_store_tz_valid(sl_db_conn *c, const char *tz, bool *valid, sl_err *err);
sl_status inv_store_warehouse_create(sl_db_conn *c, sl_arena *a, const Shelfline__V1__Warehouse *w,
                                     int cutoff_minutes, bool *created,
                                     Shelfline__V1__Warehouse **out, sl_err *err);
sl_status inv_store_warehouse_update(sl_db_conn *c, sl_arena *a, const Shelfline__V1__Warehouse *w,
                                     int cutoff_minutes, Shelfline__V1__Warehouse **out,
                                     sl_err *err);
/* Sets warehouse id's shipping calendar (weekday mask, bit 0 Monday; the
 * holidays as validated "YYYY-MM-DD" dates, any order, repeats collapsed);
 * *out is NULL when there is no such warehouse. */
sl_status inv_store_warehouse_calendar(sl_db_conn *c, sl_arena *a, const char *id,
                                       unsigned ship_weekdays, const char *const *holidays,
                                       size_t n_holidays, Shelfline__V1__Warehouse **out,
                                       sl_err *err);
sl_status inv_store_warehouse_get(sl_db_conn *c, sl_arena *a, const char *id,
                                  Shelfline__V1__Warehouse **out, sl_err *err);
sl_status inv_store_warehouse_list(sl_db_conn *c, sl_arena *a, const char *region,
                                   const char *after, int limit, Shelfline__V1__Warehouse ***out,
                                   size_t *n, sl_err *err);
/* The rows of those of ids that exist (any order). */
sl_status inv_store_warehouses(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                               inv_wh_row **out, size_t *nout, sl_err *err);

sl_status inv_store_transit_create(sl_db_conn *c, sl_arena *a, const Shelfline__V1__TransitTime *t,
                                   bool *created, Shelfline__V1__TransitTime **out, sl_err *err);
sl_status inv_store_transit_update(sl_db_conn *c, sl_arena *a, const Shelfline__V1__TransitTime *t,
                                   Shelfline__V1__TransitTime **out, sl_err *err);
sl_status inv_store_transit_get(sl_db_conn *c, sl_arena *a, const char *wh, const char *region,
                                Shelfline__V1__TransitTime **out, sl_err *err);
sl_status inv_store_transit_list(sl_db_conn *c, sl_arena *a, const char *wh, const char *region,
                                 const char *after_wh, const char *after_region, int limit,
                                 Shelfline__V1__TransitTime ***out, size_t *n, sl_err *err);

/* ---- stock ---- */

/* For the (distinct) skus: the products that exist and every stock row of
 * them. */
sl_status inv_store_load_stock(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t n,
                               inv_product_row **products, size_t *np, inv_stock_row **rows,
                               size_t *nr, sl_err *err);
/* Applies increments (each (sku, warehouse) at most once): an UPDATE of
 * the existing rows and an INSERT of the new ones, each checked to touch
 * exactly its rows.  The no-oversell constraint turns a bug into an
 * error.  Callers hold the SKUs' locks, so no row appears meanwhile. */
sl_status inv_store_apply_stock(sl_db_conn *c, sl_arena *a, const inv_stock_delta *d, size_t n,
                                sl_err *err);
sl_status inv_store_set_policy(sl_db_conn *c, const char *sku, const char *wh, int64_t safety,
                               int64_t threshold, sl_err *err);
/* One ledger entry to append. */
typedef struct inv_ledger_in {
    const char *sku, *warehouse_id;
    int64_t delta;
    const char *reason, *reference;
    sl_audit audit; /* who, with which request and trace */
} inv_ledger_in;

/* Appends rows[0..n) in order, in as few round trips as the pipeline
 * allows; ids[i] and created_ms[i] receive each entry's id and time. */
sl_status inv_store_ledger_append(sl_db_conn *c, sl_arena *a, const inv_ledger_in *rows, size_t n,
                                  int64_t *ids, int64_t *created_ms, sl_err *err);
/* A ledger entry as stored (ListLedger). */
typedef struct inv_ledger_row {
    int64_t id, delta, created_ms;
    const char *sku, *warehouse_id, *reason, *reference;
    const char *actor, *request_id, *trace_id;
} inv_ledger_row;

/* Ledger entries of sku (one warehouse when wh is not empty) with ids below
 * before (decimal; "" for the newest), newest first, at most limit. */
sl_status inv_store_ledger_list(sl_db_conn *c, sl_arena *a, const char *sku, const char *wh,
                                const char *before, int limit, inv_ledger_row **out, size_t *n,
                                sl_err *err);
/* Stock rows of sku (one warehouse when wh is not empty), by warehouse. */
sl_status inv_store_stock_get(sl_db_conn *c, sl_arena *a, const char *sku, const char *wh,
                              inv_stock_row **rows, size_t *n, sl_err *err);
/* The units of open inbound shipments of sku to wh not received yet. */
sl_status inv_store_stock_incoming(sl_db_conn *c, sl_arena *a, const char *sku, const char *wh,
                                   int64_t *incoming, sl_err *err);
/* Rows with available <= threshold after (sku, wh), optionally of
 * warehouses in region; region_of[i] receives each row's warehouse region. */
sl_status inv_store_low_stock(sl_db_conn *c, sl_arena *a, const char *region, const char *after_sku,
                              const char *after_wh, int limit, inv_stock_row **rows,
                              const char ***region_of, size_t *n, sl_err *err);

/* Idempotency records: *found false when the key is new. */
sl_status inv_store_idem_get(sl_db_conn *c, sl_arena *a, const char *op, const char *key,
                             bool *found, const uint8_t **request, size_t *request_len,
                             const uint8_t **result, size_t *result_len, sl_err *err);
sl_status inv_store_idem_put(sl_db_conn *c, sl_arena *a, const char *op, const char *key,
                             const uint8_t *request, size_t request_len, const uint8_t *result,
                             size_t result_len, sl_err *err);

/* ---- inbound ---- */

/* Open inbound shipments of skus with unallocated units, earliest first. */
sl_status inv_store_open_inbound(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t n,
                                 inv_open_inbound **out, size_t *nout, sl_err *err);
sl_status inv_store_inbound_get(sl_db_conn *c, sl_arena *a, const char *id, inv_inbound_row **out,
                                sl_err *err); /* NULL: none */
sl_status inv_store_inbound_delays(sl_db_conn *c, sl_arena *a, const char *id,
                                   Shelfline__V1__InboundDelay ***out, size_t *n, sl_err *err);
sl_status inv_store_inbound_insert(sl_db_conn *c, sl_arena *a, const inv_inbound_row *r,
                                   sl_err *err);
/* received += d_received, backordered += d_backordered, and expected_at =
 * new_expected_ms unless that is 0. */
sl_status inv_store_inbound_update(sl_db_conn *c, const char *id, int64_t d_received,
                                   int64_t d_backordered, int64_t new_expected_ms, sl_err *err);
sl_status inv_store_inbound_delay_add(sl_db_conn *c, const char *id, int64_t prev_ms,
                                      int64_t new_ms, const char *reason, const sl_audit *audit,
                                      sl_err *err);
/* backordered += deltas[i] for ids[i] (distinct). */
sl_status inv_store_inbound_backorder(sl_db_conn *c, sl_arena *a, const char *const *ids,
                                      const int64_t *deltas, size_t n, sl_err *err);
sl_status inv_store_inbound_list(sl_db_conn *c, sl_arena *a, const char *sku, const char *wh,
                                 bool open_only, const char *after, int limit,
                                 inv_inbound_row **out, size_t *n, sl_err *err);
/* Allocations still awaiting inbound id, oldest first, with their
 * reservation's status (HELD or COMMITTED only). */
sl_status inv_store_backorders(sl_db_conn *c, sl_arena *a, const char *inbound_id,
                               inv_alloc_row **out, size_t *n, sl_err *err);
sl_status inv_store_receipt_get(sl_db_conn *c, sl_arena *a, const char *receipt_id, bool *found,
                                const char **inbound_id, const uint8_t **request,
                                size_t *request_len, const uint8_t **result, size_t *result_len,
                                sl_err *err);
sl_status inv_store_receipt_put(sl_db_conn *c, sl_arena *a, const char *receipt_id,
                                const char *inbound_id, int64_t qty, const uint8_t *request,
                                size_t request_len, const uint8_t *result, size_t result_len,
                                const sl_audit *audit, sl_err *err);

/* ---- reservations ---- */

sl_status inv_store_resv_lookup(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                                inv_resv_row **out, size_t *nout, sl_err *err);
/* What inv_store_locked_read returns, in arena memory. */
typedef struct inv_locked_read {
    int64_t now_ms;
    inv_route *routes; /* as inv_store_network */
    size_t nroutes;
    inv_product_row *products; /* as inv_store_load_stock */
    size_t nproducts;
    inv_stock_row *rows;
    size_t nrows;
    inv_resv_row *existing; /* as inv_store_resv_lookup (none when nids is 0) */
    size_t nexisting;
    /* (stock fence, customer) pairs: the fence is live (not ended) for one
     * of skus and the customer, one of customers, is a member (qty and
     * limit_qty 0; none without customers). */
    inv_usage_row *members;
    size_t nmembers;
} inv_locked_read;

/* inv_store_lock, then inv_store_network, inv_store_load_stock of the
 * (distinct) skus, inv_store_resv_lookup of ids and, when ncustomers > 0,
 * the stock fence members among customers (members above), in one round trip:
 * the reads run after the locks were granted and see everything committed
 * before. */
sl_status inv_store_locked_read(sl_db_conn *c, sl_arena *a, const int64_t *keys, size_t nkeys,
                                const char *const *ids, size_t nids, const char *const *skus,
                                size_t nskus, const char *const *customers, size_t ncustomers,
                                inv_locked_read *out, sl_err *err);
/* A Reserve batch's writes in one statement: the reservations, their
 * allocations and the stock increments (existing rows only: INTERNAL if
 * one would have to be created). */
sl_status inv_store_reserve_write(sl_db_conn *c, sl_arena *a, const inv_resv_row *rows,
                                  size_t nrows, const inv_alloc_row *allocs, size_t nallocs,
                                  const inv_stock_delta *d, size_t nd, sl_err *err);
/* Allocations of the reservations, by (reservation, line, part). */
sl_status inv_store_allocs(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                           inv_alloc_row **out, size_t *nout, sl_err *err);
/* HELD -> status for those of ids still HELD, each closed by audits[i];
 * *changed counts them. */
sl_status inv_store_resv_close(sl_db_conn *c, sl_arena *a, const char *const *ids,
                               const sl_audit *audits, size_t n, const char *status,
                               int64_t *changed, sl_err *err);
/* awaiting -= moved[i] on allocation (ids[i], lines[i], parts[i]). */
sl_status inv_store_alloc_fulfil(sl_db_conn *c, sl_arena *a, const inv_alloc_row *rows,
                                 const int64_t *moved, size_t n, sl_err *err);
/* Up to limit HELD reservations past their expiry, oldest first. */
sl_status inv_store_resv_expired(sl_db_conn *c, sl_arena *a, int limit, const char ***ids,
                                 size_t *n, sl_err *err);

/* ---- promotions ---- */

sl_status inv_store_promo_load(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                               inv_promo_row **out, size_t *nout, sl_err *err);
sl_status inv_store_fence_load(sl_db_conn *c, sl_arena *a, const char *const *promo_ids, size_t n,
                               inv_fence_row **out, size_t *nout, sl_err *err);
/* Usage of the (promotion, customer) pairs that have some. */
sl_status inv_store_usage_load(sl_db_conn *c, sl_arena *a, const char *const *promo_ids,
                               const char *const *customer_ids, size_t n, inv_usage_row **out,
                               size_t *nout, sl_err *err);
/* remaining += d for each (promotion, warehouse) (distinct pairs). */
sl_status inv_store_fence_apply(sl_db_conn *c, sl_arena *a, const inv_fence_row *d, size_t n,
                                sl_err *err);
sl_status inv_store_promo_apply(sl_db_conn *c, sl_arena *a, const inv_promo_delta *d, size_t n,
                                sl_err *err);
/* qty += d.qty per (promotion, customer) (distinct pairs), creating rows
 * with limit d.limit_qty. */
sl_status inv_store_usage_apply(sl_db_conn *c, sl_arena *a, const inv_usage_row *d, size_t n,
                                sl_err *err);
sl_status inv_store_promo_insert(sl_db_conn *c, sl_arena *a, const inv_promo_row *p,
                                 const inv_fence_row *fences, size_t nfences, sl_err *err);
/* Stock fences (Reserve's look-up of members is part of
 * inv_store_locked_read: statement inv_sfence_eligible). */
/* Up to limit fences with ids after `after` (one SKU when sku is not
 * empty, only those not ended with live_only), by id. */
sl_status inv_store_sfence_list(sl_db_conn *c, sl_arena *a, const char *sku, bool live_only,
                                const char *after, int limit, inv_promo_row **out, size_t *n,
                                sl_err *err);
/* counts[i]: the members of fence ids[i]. */
sl_status inv_store_sfence_members(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                                   int64_t *counts, sl_err *err);
/* Adds customers to fence id's members (*added: those new), after
 * dropping every member not among them when replace (*removed). */
sl_status inv_store_sfence_set_members(sl_db_conn *c, sl_arena *a, const char *id,
                                       const char *const *customers, size_t n, bool replace,
                                       int64_t *added, int64_t *removed, sl_err *err);
/* Up to limit promotions past their end and not yet ended. */
sl_status inv_store_promo_ending(sl_db_conn *c, sl_arena *a, int limit, const char ***ids,
                                 size_t *n, sl_err *err);
/* A promotion's units as shelfline_inventory_promotion_units shows them. */
typedef struct inv_promo_units {
    const char *id;
    int64_t sold, held, remaining;
} inv_promo_units;
/* Up to limit promotions not ended (scheduled or running), the soonest
 * ending first; *out in a. */
sl_status inv_store_promo_units(sl_db_conn *c, sl_arena *a, int limit, inv_promo_units **out,
                                size_t *n, sl_err *err);
/* The fast sold-out check of Reserve, without locks: the promotion's
 * remaining units (-1 when unknown) and whether reservation_id exists. */
sl_status inv_store_promo_precheck(sl_db_conn *c, const char *promo_id, const char *resv_id,
                                   int64_t *remaining, bool *resv_exists, sl_err *err);

/* ---- checks ---- */

/* Every invariant violation (at most limit) for sku (all when empty), and
 * the number of stock rows checked.  Run in a REPEATABLE READ transaction
 * for one consistent snapshot. */
sl_status inv_store_check(sl_db_conn *c, sl_arena *a, const char *sku, int limit,
                          Shelfline__V1__InvariantViolation ***out, size_t *n, int64_t *stock_rows,
                          sl_err *err);

#endif
