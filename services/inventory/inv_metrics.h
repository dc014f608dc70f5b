/*
 * inv_metrics: the inventory gauges read from the database at scrape time
 * -- shelfline_inventory_promotion_units{promotion,state}, the sold, held
 * and remaining units of every promotion not ended.  The counters are
 * kept where their work is done (inv_reserve.c, inv_reaper.c, inv_tx.c).
 */
#ifndef INV_METRICS_H
#define INV_METRICS_H

#include "inv_app.h"

/* Promotions shown at most: the soonest ending first.  The label values
 * are promotion ids, so the family is bounded by the promotions running
 * (or scheduled) at once, and at most this. */
#define INV_METRICS_PROMOTIONS_MAX 200

/* Time a scrape may spend reading the promotions; past it (or with the
 * database away) the scrape shows the previous values. */
#define INV_METRICS_READ_MS 1000

typedef struct inv_metrics inv_metrics;

/* Registers the collector of app's gauges (sl_metrics_on_collect).  The
 * caller owns *out (inv_metrics_stop). */
sl_status inv_metrics_start(inv_app *app, inv_metrics **out, sl_err *err);

/* Removes the collector (waiting for a scrape in progress) and frees m.
 * NULL is a no-op. */
void inv_metrics_stop(inv_metrics *m);

#endif
