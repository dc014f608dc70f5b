/*
 * inv_reaper: one thread per replica that releases holds past their TTL
 * (as RESERVATION_EXPIRED) and ends promotions past their window.
 *
 * Replicas need no coordination: candidates are read without locks, and
 * each is closed by inv_resv_close / inv_promo_end under the same locks as
 * any other change, which re-read the row and act only if it is still
 * HELD / not ended.  Two reapers racing for one hold therefore release it
 * exactly once; the loser finds it EXPIRED and does nothing.
 */
#ifndef INV_REAPER_H
#define INV_REAPER_H

#include <stdint.h>

#include "inv_app.h"
#include "sl_status.h"

/* Starts the thread (period app->cfg.reap_interval_ms).  The caller owns
 * *out (inv_reaper_stop). */
sl_status inv_reaper_start(inv_app *app, inv_reaper **out, sl_err *err);

/* Stops (within one transaction) and frees the reaper.  NULL is a no-op. */
void inv_reaper_stop(inv_reaper *r);

/* One pass (exposed for tests): expires up to max_holds holds and ends due
 * promotions; *expired and *ended (may be NULL) receive how many this
 * replica changed. */
sl_status inv_reaper_pass(inv_app *app, int64_t max_holds, int64_t *expired, int64_t *ended,
                          sl_err *err);

#endif
