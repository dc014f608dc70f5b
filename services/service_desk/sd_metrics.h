/*
 * sd_metrics: the service-desk gauges read from the database at scrape
 * time -- shelfline_service_desk_notifications_pending, the customer
 * notifications not acknowledged yet.  The counters are kept where their
 * work is done (sd_tickets.c, sd_sync.c, sd_bis.c).
 */
#ifndef SD_METRICS_H
#define SD_METRICS_H

#include "sd_app.h"

/* The count stops here: a backlog this large reads as "at least". */
#define SD_METRICS_PENDING_MAX 1000000

/* Time a scrape may spend counting; past it (or with the database away)
 * the scrape shows the previous value. */
#define SD_METRICS_READ_MS 1000

typedef struct sd_metrics sd_metrics;

/* Registers the collector of app's gauges.  The caller owns *out
 * (sd_metrics_stop). */
sl_status sd_metrics_start(sd_app *app, sd_metrics **out, sl_err *err);

/* Removes the collector (waiting for a scrape in progress) and frees m.
 * NULL is a no-op. */
void sd_metrics_stop(sd_metrics *m);

#endif
