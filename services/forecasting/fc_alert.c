/*
 * fc_alert: alerts.  An alert is stored in the alert table (its id makes
 * raising it idempotent: the same SKU x region x day x kind is raised once)
 * and published in the same transaction on the service's outbox under
 * topic ALERT_<kind>.  WatchAlerts is the outbox feed restricted to those
 * topics, so alerts are resumable by event id exactly like WatchEvents.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fc_api.h"
#include "fc_app.h"
#include "fc_valid.h"

static const char *topic_of(Shelfline__V1__AlertKind k)
{
    switch (k) {
    case SHELFLINE__V1__ALERT_KIND__SELLING_ABOVE_FORECAST:
        return "ALERT_SELLING_ABOVE_FORECAST";
    case SHELFLINE__V1__ALERT_KIND__PROJECTED_STOCKOUT:
        return "ALERT_PROJECTED_STOCKOUT";
    case SHELFLINE__V1__ALERT_KIND__OVERSTOCK:
        return "ALERT_OVERSTOCK";
    case SHELFLINE__V1__ALERT_KIND__ALERT_KIND_UNSPECIFIED:
    case _SHELFLINE__V1__ALERT_KIND_IS_INT_SIZE:
        break;
    }
    return NULL;
}

sl_status fc_alert_raise(fc_app *app, sl_db_conn *conn, Shelfline__V1__Alert *alert, bool *fresh,
                         sl_err *err)
{
    const char *topic = topic_of(alert->kind);
    if (topic == NULL)
        return sl_err_set(err, SL_INTERNAL, "alert of unknown kind %d", (int)alert->kind);
    int32_t day;
    sl_status st = fc_day_parse("alert.day", alert->day, &day, err);
    if (st != SL_OK)
        return st;
    bool is_new = false;
    st = fc_store_alert(conn, alert->alert_id, (int)alert->kind, alert->sku, alert->region, day,
                        &is_new, err);
    if (st == SL_OK && is_new) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        alert->raised_at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        st = sl_events_publish(app->events, conn, topic, alert->sku, &alert->base, err);
    }
    if (fresh != NULL)
        *fresh = is_new;
    return st;
}

sl_status fc_alert_check_sales(fc_app *app, sl_db_conn *conn, const char *sku, const char *region,
                               sl_arena *a, int *raised, sl_err *err)
{
    if (raised != NULL)
        *raised = 0;
    int32_t today = fc_day_today();
    int64_t units = 0;
    sl_status st = fc_store_day_units(conn, sku, region, today, &units, err);
    if (st != SL_OK)
        return st;
    if (units == 0) {
        /* Nothing sold today by day; maybe by hour. */
        double h[24];
        int last = -1;
        int64_t day0 = (int64_t)today * 86400000LL;
        st = fc_store_hourly_by_hour(conn, sku, region, day0, day0 + 86400000LL, h, &last, err);
        if (st != SL_OK || last < 0)
            return st;
    }
    fc_demand d;
    st = fc_demand_run(conn, sku, region, 1, NULL, a, &d, err);
    if (st == SL_NOT_FOUND || st == SL_FAILED_PRECONDITION) {
        /* No history to judge against: nothing to say, not an error. */
        fc_demand_free(&d);
        return SL_OK;
    }
    if (st != SL_OK) {
        fc_demand_free(&d);
        return st;
    }
    /* The band is the forecast's before any intraday refresh: the refreshed
     * one already contains today's sales. */
    double point = d.prior_point, hi95 = d.prior_hi95;
    double projected = d.intraday ? fc_forecast_points(d.fc)[0] : 0;
    if (d.today_units > (double)units)
        units = (int64_t)llround(d.today_units);
    fc_demand_free(&d);
    /* A day's sales are compared as they accumulate: above the upper bound
     * of the whole day's 95% band is above forecast however the rest of
     * the day goes.  With hourly sales the refreshed projection of the day
     * says so earlier, in the first hours of a promotion. */
    if (!isfinite(hi95) || ((double)units <= hi95 && !(d.intraday && projected > hi95)))
        return SL_OK;
    char day[16], id[160], msg[256];
    fc_day_format(today, day, sizeof day);
    snprintf(id, sizeof id, "SAF/%s/%s/%s", sku, region, day);
    if (d.intraday)
        snprintf(msg, sizeof msg,
                 "%s in %s sold %lld units on %s by hour %d, projected %.1f for the day, above "
                 "the 95%% band (forecast %.1f, upper %.1f)",
                 sku, region, (long long)units, day, d.hours_done, projected, point, hi95);
    else
        snprintf(msg, sizeof msg,
                 "%s in %s sold %lld units on %s, above the 95%% band (forecast %.1f, upper %.1f)",
                 sku, region, (long long)units, day, point, hi95);
    Shelfline__V1__Alert al = SHELFLINE__V1__ALERT__INIT;
    al.alert_id = id;
    al.kind = SHELFLINE__V1__ALERT_KIND__SELLING_ABOVE_FORECAST;
    al.sku = (char *)sku;
    al.region = (char *)region;
    al.day = day;
    al.actual = (double)units;
    al.forecast = point;
    al.upper95 = hi95;
    al.projected = projected;
    al.message = msg;
    bool fresh = false;
    st = fc_alert_raise(app, conn, &al, &fresh, err);
    if (st == SL_OK && fresh && raised != NULL)
        *raised = 1;
    return st;
}

sl_status fc_api_watch_alerts(sl_call *call, const ProtobufCMessage *req, sl_err *err)
{
    const Shelfline__V1__WatchAlertsRequest *r = (const Shelfline__V1__WatchAlertsRequest *)req;
    static char *const topics[] = {"ALERT_SELLING_ABOVE_FORECAST", "ALERT_PROJECTED_STOCKOUT",
                                   "ALERT_OVERSTOCK"};
    Shelfline__V1__WatchEventsRequest w = SHELFLINE__V1__WATCH_EVENTS_REQUEST__INIT;
    w.after_id = r->after_id;
    w.topics = (char **)topics;
    w.n_topics = sizeof topics / sizeof topics[0];
    return sl_events_watch(FC_APP(call)->events, call, &w.base, err);
}
