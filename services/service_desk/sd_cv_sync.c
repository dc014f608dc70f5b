/*
 * sd_cv_sync: customer-value's messages to customers become notifications
 * in this service's outbox, so the one e-mail/push sender integration
 * (ListNotifications / WatchNotifications / AckNotification) carries them.
 *
 * Consumed through sl_consumer (subscription service-desk/customer-value,
 * SHELFLINE_SD_CV_CONSUMER): one replica holds the subscription and each
 * event is applied in the transaction that advances the durable cursor.
 *
 *   CAMPAIGN_MESSAGE (CampaignMessage) -> one CAMPAIGN notification keyed
 *       "campaign:<campaign id>:<customer id>";
 *   REPURCHASE_DUE (RepurchaseReminder) -> one REPURCHASE notification
 *       keyed "repurchase:<customer id>:<sku>:<due day>" (days since
 *       1970-01-01, UTC: customer-value's reminder cycle).
 *
 * The keys are the notification table's unique idempotency_key, written
 * with ON CONFLICT DO NOTHING in the cursor's transaction: a replayed
 * stream, a cursor reset, or the same message published twice never makes
 * a second notification.  A payload that does not decode, or lacks the
 * fields a key needs, never will: it is logged and skipped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sd_app.h"
#include "sd_store.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "sl_date.h"
#include "sl_log.h"

#define DAY_MS 86400000LL

sl_status sd_cv_sync_apply(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx,
                           sl_err *err);

static bool present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* YYYY-MM-DD of a UTC day. */
static void day_text(int64_t day, char *out, size_t cap)
{
    int y, m, d;
    sl_civil_from_days(day, &y, &m, &d);
    snprintf(out, cap, "%04d-%02d-%02d", y, m, d);
}

static int64_t floor_day(int64_t ms)
{
    return ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS);
}

static sl_status on_campaign(sd_app *app, sl_db_conn *conn, const Shelfline__V1__Event *ev,
                             sl_err *err)
{
    Shelfline__V1__CampaignMessage *m =
        shelfline__v1__campaign_message__unpack(NULL, ev->payload.len, ev->payload.data);
    if (m == NULL || !present(m->campaign_id) || !present(m->customer_id) || !present(m->body)) {
        SL_LOG(SL_LOG_ERROR, "campaign_message", NULL,
               "skipping event %" PRId64 ": not a complete CampaignMessage", ev->id);
        if (m != NULL)
            shelfline__v1__campaign_message__free_unpacked(m, NULL);
        return SL_OK;
    }
    char key[200];
    snprintf(key, sizeof key, "campaign:%s:%s", m->campaign_id, m->customer_id);
    sd_notice n = {key, "CAMPAIGN", m->customer_id, "", m->body, "", 0, ""};
    sl_status st = sd_store_notify(conn, app->events, &n, err);
    shelfline__v1__campaign_message__free_unpacked(m, NULL);
    return st;
}

static sl_status on_repurchase(sd_app *app, sl_db_conn *conn, const Shelfline__V1__Event *ev,
                               sl_err *err)
{
    Shelfline__V1__RepurchaseReminder *r =
        shelfline__v1__repurchase_reminder__unpack(NULL, ev->payload.len, ev->payload.data);
    if (r == NULL || !present(r->customer_id) || !present(r->sku)) {
        SL_LOG(SL_LOG_ERROR, "repurchase_due", NULL,
               "skipping event %" PRId64 ": not a complete RepurchaseReminder", ev->id);
        if (r != NULL)
            shelfline__v1__repurchase_reminder__free_unpacked(r, NULL);
        return SL_OK;
    }
    int64_t due = floor_day(r->due_at_ms);
    char key[200], due_s[16], last_s[16], body[400];
    snprintf(key, sizeof key, "repurchase:%s:%s:%" PRId64, r->customer_id, r->sku, due);
    day_text(due, due_s, sizeof due_s);
    day_text(floor_day(r->last_purchase_at_ms), last_s, sizeof last_s);
    snprintf(body, sizeof body,
             "time to restock %s: what you bought on %s should last until about %s; %" PRId64
             " in stock for %s",
             r->sku, last_s, due_s, r->available, present(r->region) ? r->region : "your region");
    sd_notice n = {key, "REPURCHASE", r->customer_id, "", body, "", 0, ""};
    sl_status st = sd_store_notify(conn, app->events, &n, err);
    shelfline__v1__repurchase_reminder__free_unpacked(r, NULL);
    return st;
}

sl_status sd_cv_sync_apply(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx, sl_err *err)
{
    if (ev->topic == NULL)
        return SL_OK;
    if (strcmp(ev->topic, "CAMPAIGN_MESSAGE") == 0)
        return on_campaign(ctx, conn, ev, err);
    if (strcmp(ev->topic, "REPURCHASE_DUE") == 0)
        return on_repurchase(ctx, conn, ev, err);
    return SL_OK;
}
