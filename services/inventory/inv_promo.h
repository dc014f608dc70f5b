/*
 * inv_promo: promotions with fenced quotas.
 *
 * A promotion's quota is set aside from normal stock when it is created:
 * the units are added to the stock rows' reserved (so normal reservations
 * cannot take them) and recorded per warehouse in promotion_fence.  Lines
 * naming the promotion take units from the fence (inv_reserve); releases
 * give them back to it; at the end of the window the reaper returns what
 * is left to normal stock (inv_promo_end), and holds released later go
 * straight back to stock.  quota = remaining + held + sold + returned is a
 * table constraint, so no race can sell more than the quota.
 */
#ifndef INV_PROMO_H
#define INV_PROMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inv_tx.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_arena.h"
#include "sl_auth.h"
#include "sl_db.h"
#include "sl_events.h"
#include "sl_status.h"

/* The body of CreatePromotion (p validated by inv_valid_promotion; canon
 * its canonical bytes).  Idempotent: the same promotion again returns it
 * (*replayed true); a different one under the same id is ALREADY_EXISTS.
 * NOT_FOUND for an unknown SKU, INVALID_ARGUMENT for an unserved region or
 * a window already over, FAILED_PRECONDITION when stock cannot cover the
 * quota. */
sl_status inv_promo_create(sl_db_conn *conn, sl_events *events, sl_arena *a, const sl_audit *audit,
                           const Shelfline__V1__Promotion *p, const uint8_t *canon,
                           size_t canon_len, Shelfline__V1__Promotion **out, sl_err *err);

/* What to fence for a promotion's quota or a stock fence (inv_fence). */
typedef struct inv_fence_req {
    const char *what;      /* the request's message field: "promotion", "fence" */
    const char *qty_field; /* "quota", "qty" */
    const char *reason;    /* the ErrorInfo reason of a refusal */
    const char *id, *sku;
    const char *region;       /* "" (any active warehouse) or a region */
    const char *warehouse_id; /* "" or one warehouse (region then ignored) */
    int64_t qty;
} inv_fence_req;

/* Sets q->qty units of q->sku aside in the transaction tx (SKU locked and
 * loaded): in q->warehouse_id, or over the warehouses serving q->region
 * (any active one when empty), the most available first.  Their units
 * become reserved in tx's rows and *fences (arena) says how many each
 * holds.  INVALID_ARGUMENT when no warehouse serves the region,
 * FAILED_PRECONDITION (reason q->reason) when they hold fewer free units
 * than q->qty; nothing is changed then. */
sl_status inv_promo_fence_units(inv_tx *tx, sl_arena *a, const inv_fence_req *q,
                                inv_fence_row **fences, size_t *nf, sl_err *err);

/* A promotion with its counters and fences (*out NULL when unknown or a
 * stock fence);
 * now_ms decides its status. */
sl_status inv_promo_get(sl_db_conn *conn, sl_arena *a, const char *id, int64_t now_ms,
                        Shelfline__V1__Promotion **out, sl_err *err);

/* Ends a promotion (or stock fence) whose window is over, returning its
 * fenced units to stock; a no-op (*ended false) when it is not over or
 * already ended.  Exactly once: the ended flag is read and set under the
 * SKU's lock in the caller's transaction. */
sl_status inv_promo_end(sl_db_conn *conn, sl_events *events, sl_arena *a, const char *id,
                        bool *ended, sl_err *err);

#endif
