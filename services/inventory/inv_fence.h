/*
 * inv_fence: stock fences -- guaranteed availability for loyal customers.
 *
 * A stock fence sets qty units of a SKU aside, at one warehouse or over
 * the warehouses serving a region, for the members of a customer-value
 * segment until the end of a window.  It is stored as a promotion of kind
 * STOCK_FENCE (migration 0006) and so shares everything that makes
 * promotions safe:
 *  - at creation its units are added to the stock rows' reserved (free
 *    availability drops, nobody else can take them) and recorded per
 *    warehouse in promotion_fence (inv_promo_fence_units);
 *  - qty = remaining + held + sold + returned is the promotion table's
 *    constraint;
 *  - a member's Reserve takes fenced units first (inv_decide), recorded in
 *    reservation_alloc.promotion_id, so Commit, Release and expiry move
 *    them like promotion units (inv_resv_close) -- back to the fence while
 *    it runs, to free stock after it ended;
 *  - the reaper ends it like a promotion (inv_promo_end): the unused units
 *    return to free stock once, under the SKU's lock, guarded by the ended
 *    flag;
 *  - CheckInvariants checks its counters (kind STOCK_FENCE) and counts its
 *    remaining units in reserved.
 * Eligibility is never taken from the caller of CreateStockFence or
 * Reserve: the members are pushed by a service-role caller
 * (SetStockFenceEligibility), and a Reserve only says which customer it is
 * for.
 */
#ifndef INV_FENCE_H
#define INV_FENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shelfline/v1/inventory.pb-c.h"
#include "sl_arena.h"
#include "sl_auth.h"
#include "sl_db.h"
#include "sl_events.h"
#include "sl_status.h"

/* The body of CreateStockFence, in the caller's transaction (f validated
 * by inv_valid_stock_fence; canon its canonical bytes).  Idempotent: the
 * same fence again returns it; another under the same id (or a
 * promotion's id) is ALREADY_EXISTS.  NOT_FOUND for an unknown SKU or
 * warehouse, INVALID_ARGUMENT for an unserved region or a window already
 * over, FAILED_PRECONDITION (STOCK_FENCE_QTY_UNAVAILABLE) when the free
 * stock cannot cover qty.  Nothing is written when it fails. */
sl_status inv_fence_create(sl_db_conn *conn, sl_events *events, sl_arena *a, const sl_audit *audit,
                           const Shelfline__V1__StockFence *f, const uint8_t *canon,
                           size_t canon_len, Shelfline__V1__StockFence **out, sl_err *err);

/* A fence with its counters, parts and member count (*out NULL when
 * unknown or a promotion); now_ms decides its status. */
sl_status inv_fence_get(sl_db_conn *conn, sl_arena *a, const char *id, int64_t now_ms,
                        Shelfline__V1__StockFence **out, sl_err *err);

/* Up to limit fences after `after` in id order (one SKU when sku is not
 * empty; only those not ended with live_only), each complete. */
sl_status inv_fence_list(sl_db_conn *conn, sl_arena *a, const char *sku, bool live_only,
                         const char *after, int limit, int64_t now_ms,
                         Shelfline__V1__StockFence ***out, size_t *n, sl_err *err);

/* The body of SetStockFenceEligibility (r validated): NOT_FOUND for an
 * unknown fence, FAILED_PRECONDITION when r->segment is not the fence's
 * or it has ended; else the members are set (see the proto) and counted
 * in *out. */
sl_status inv_fence_set_members(sl_db_conn *conn, sl_arena *a,
                                const Shelfline__V1__SetStockFenceEligibilityRequest *r,
                                Shelfline__V1__SetStockFenceEligibilityResponse *out, sl_err *err);

#endif
