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

/* A promotion with its counters and fences (*out NULL when unknown);
 * now_ms decides its status. */
sl_status inv_promo_get(sl_db_conn *conn, sl_arena *a, const char *id, int64_t now_ms,
                        Shelfline__V1__Promotion **out, sl_err *err);

/* Ends a promotion whose window is over, returning its fenced units to
 * stock; a no-op (*ended false) when it is not over or already ended. */
sl_status inv_promo_end(sl_db_conn *conn, sl_events *events, sl_arena *a, const char *id,
                        bool *ended, sl_err *err);

#endif
