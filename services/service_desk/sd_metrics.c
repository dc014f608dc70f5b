/*
 * sd_metrics: see sd_metrics.h.
 *
 * Why read at scrape time: a notification is written by whichever replica
 * delays the order or sends the back-in-stock batch, and acknowledged
 * through whichever replica the client reaches, so only the table knows
 * how many wait.  Every replica shows the same figure (aggregate with max,
 * not sum).
 */
#include "sd_metrics.h"

#include <stdlib.h>

#include "sd_store.h"
#include "sl_log.h"
#include "sl_metrics.h"

struct sd_metrics {
    sd_app *app;
    sl_metric_child *pending;
};

static void collect(void *p)
{
    sd_metrics *m = p;
    int64_t n;
    sl_err err;
    if (sd_store_notif_pending(m->app->db, sl_db_now_ms() + SD_METRICS_READ_MS,
                               SD_METRICS_PENDING_MAX, &n, &err) != SL_OK) {
        SL_LOG(SL_LOG_WARN, "metrics", NULL, "could not count the pending notifications: %s",
               err.msg);
        return;
    }
    sl_metric_set(m->pending, (double)n);
}

sl_status sd_metrics_start(sd_app *app, sd_metrics **out, sl_err *err)
{
    sd_metrics *m = sl_calloc(1, sizeof *m);
    if (m == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    m->app = app;
    m->pending = sl_metric_with(
        sl_metric_gauge("shelfline_service_desk_notifications_pending",
                        "Customer notifications not acknowledged yet, counted in the database "
                        "at the scrape.",
                        NULL),
        NULL);
    sl_metrics_on_collect(collect, m);
    *out = m;
    return SL_OK;
}

void sd_metrics_stop(sd_metrics *m)
{
    if (m == NULL)
        return;
    sl_metrics_remove_collector(collect, m);
    free(m);
}
