/*
 * sd_api_notifications: the customer-notification outbox's RPCs --
 * ListNotifications, WatchNotifications (a server stream), and
 * AckNotification.  Notifications are written by the delay consumer
 * (sd_sync) and the back-in-stock scheduler (sd_bis) without any lock;
 * the service's event feed numbers them after they commit
 * (sd_store_notif_table), so a cursor "id > after_id" never passes one
 * that commits later, and WatchNotifications is the feed's stream loop
 * (sl_events_follow) over the notification table.
 */
#include <inttypes.h>

#include "sd_api.h"
#include "sd_app.h"
#include "sd_store.h"
#include "sd_valid.h"

/* WatchNotifications re-reads this often without a wake-up: only a guard
 * against a LISTEN session lost and re-established in between. */
#define NOTIF_GUARD_MS 5000
/* and reads this many at a time */
#define NOTIF_PAGE 100

sl_status sd_api_list_notifications(sl_call *call, const ProtobufCMessage *req,
                                    ProtobufCMessage *resp, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__ListNotificationsRequest *r = (const void *)req;
    Shelfline__V1__ListNotificationsResponse *out = (void *)resp;
    if (sd_valid_list_notifications(r, err) != SL_OK)
        return SL_INVALID_ARGUMENT;
    return sd_store_notif_list(app->db, sl_call_deadline_ms(call), r->after_id,
                               r->customer_id ? r->customer_id : "", r->unacked_only,
                               r->limit == 0 ? 100 : r->limit, sl_call_arena(call),
                               &out->notifications, &out->n_notifications, err);
}

/* A cursor past the newest notification cannot come from this database (a
 * restored backup, another environment): waiting on it would skip every
 * notification up to it in silence.  OUT_OF_RANGE, as WatchEvents answers. */
static sl_status check_notif_cursor(sd_app *app, int64_t after_id, sl_err *err)
{
    int64_t newest;
    sl_status st = sd_store_notif_newest(app->db, 0, &newest, err);
    if (st == SL_OK && after_id > newest)
        st = sl_err_reason(err, SL_OUT_OF_RANGE, "CURSOR_AHEAD",
                           "after_id %" PRId64 " is beyond the newest notification %" PRId64
                           " (a cursor from another database?)",
                           after_id, newest);
    return st;
}

/* WatchNotifications' request, validated. */
typedef struct notif_watch {
    sd_app *app;
    const char *customer;
} notif_watch;

/* One page of the stream: number what has committed, then read and send
 * the next notifications after the cursor. */
static sl_status notif_page(sl_call *call, void *ctx, sl_arena *a, int64_t *cursor, bool *more,
                            bool *pending, sl_err *err)
{
    notif_watch *w = ctx;
    Shelfline__V1__Notification **page = NULL;
    size_t n = 0;
    sl_status st = sl_events_sequence_table(w->app->events, &sd_store_notif_table, pending, err);
    if (st == SL_OK)
        st = sd_store_notif_list(w->app->db, 0, *cursor, w->customer, false, NOTIF_PAGE, a, &page,
                                 &n, err);
    for (size_t i = 0; i < n && st == SL_OK; i++)
        if ((st = sl_call_send(call, &page[i]->base, err)) == SL_OK)
            *cursor = page[i]->notification_id;
    *more = n == NOTIF_PAGE;
    return st;
}

sl_status sd_api_watch_notifications(sl_call *call, const ProtobufCMessage *req, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__WatchNotificationsRequest *r = (const void *)req;
    if (sd_valid_watch_notifications(r, err) != SL_OK)
        return SL_INVALID_ARGUMENT;
    sl_status st = check_notif_cursor(app, r->after_id, err);
    if (st != SL_OK)
        return st;
    notif_watch w = {app, r->customer_id ? r->customer_id : ""};
    sl_events_feed f = {notif_page, &w, NOTIF_GUARD_MS, NULL};
    return sl_events_follow(app->events, call, r->after_id, &f, err);
}

sl_status sd_api_ack_notification(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__AckNotificationRequest *r = (const void *)req;
    if (sd_valid_positive("notification_id", r->notification_id, err) != SL_OK)
        return SL_INVALID_ARGUMENT;
    Shelfline__V1__Notification *n;
    sl_status st = sd_store_notif_ack(app->db, sl_call_deadline_ms(call), r->notification_id,
                                      sl_call_arena(call), &n, err);
    if (st == SL_OK)
        *(Shelfline__V1__Notification *)resp = *n;
    return st;
}
