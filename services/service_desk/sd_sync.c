/*
 * sd_sync: keeping orders in step with inventory, and the customer
 * notifications outbox.
 *
 * INBOUND_DELAYED (consumed through sl_consumer: one replica holds the
 * subscription, each event is applied in the transaction that advances
 * the durable cursor, so its effects happen exactly once even when the
 * consumer dies half-way or replicas race):
 *   for every live order with a part waiting on the inbound, whose part
 *   still expects it earlier than the new date: the part moves (slips + 1),
 *   the order's ETA is recomputed, one eta_change row (the slip), one DELAY
 *   notification keyed "delay:<order>:<inbound>:<new expected ms>", and,
 *   when the compensation policy grants more than earlier slips did, one
 *   coupon keyed by (order, slip number) with its COMPENSATION notification.
 *   The unique keys make a replayed event a no-op even without the cursor.
 *   The orders move in batches of SHELFLINE_SD_DELAY_BATCH, each its own
 *   transaction, before the cursor's (sd_sync_prepare): notices flow from
 *   the first batch on, and a crash between batches resumes from the
 *   orders not moved yet.
 *
 * RESERVATION_COMMITTED and RESERVATION_RELEASED (a subscription of their
 * own, service-desk/inventory-orders, so the many of them never hold up an
 * INBOUND_DELAYED) close the saga of an
 * order whose ConfirmPayment or CancelOrder changed inventory but never
 * recorded it here: the call's deadline passed, or the replica died, between
 * inventory's answer and this service's transaction, and the client gave up.
 * Inventory's event is the fact; the order follows it (PLACED -> PAID with
 * ORDER_PAID, PLACED -> CANCELLED with ORDER_CANCELLED) in the cursor's
 * transaction.  The status guard in the UPDATE makes it exactly once
 * whichever comes first, the event or the handler's own transaction: the
 * second finds nothing to change and publishes nothing.  A reservation that
 * is no order of ours (another client of inventory) changes no row.
 *
 * INBOUND_RECEIVED (the same subscription): the parts waiting on the
 * inbound record its receipt, and ship after it (GetOrderEta).
 *
 * Also here: order events (sd_publish_order), and one slip of an order's
 * ETA (sd_sync_slip), whether an inbound or the carrier moved it.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_app.h"
#include "sd_bis.h"
#include "sd_i18n.h"
#include "sd_store.h"
#include "sl_events.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_log.h"
#include "sl_metrics.h"

sl_status sd_publish_order(sd_app *app, sl_db_conn *conn, const char *topic, const char *order_id,
                           sl_err *err)
{
    sl_arena *a = sl_arena_create(0);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sd_order_rec rec;
    sl_status st = sd_store_load_order(conn, order_id, false, a, &rec, err);
    if (st == SL_OK) {
        Shelfline__V1__OrderEvent ev = SHELFLINE__V1__ORDER_EVENT__INIT;
        ev.order = rec.order;
        st = sl_events_publish(app->events, conn, topic, order_id, &ev.base, err);
    }
    sl_arena_destroy(a);
    return st;
}

/* ---- INBOUND_DELAYED ------------------------------------------------------- */

static sd_date ms_date(const sd_tz *z, int64_t ms)
{
    sd_local_time lt;
    sd_tz_local(z, sd_time_ms_to_s(ms), &lt);
    return lt.date;
}

/* The order's ETA over its parts; *lines (n_parts) receives each part's. */
static sl_status order_eta(sd_app *app, sd_net_snap **snap, const sd_order_rec *rec, int64_t now,
                           sd_eta_line *lines, sd_line_eta *etas, sd_order_eta *out, sl_err *err)
{
    for (size_t i = 0; i < rec->n_parts; i++) {
        const sd_part *p = &rec->parts[i];
        const sd_warehouse *w = sd_net_find(app->net, snap, p->warehouse_id);
        if (w == NULL)
            return sl_err_set(err, SL_UNAVAILABLE, "warehouse \"%s\" is not known to inventory",
                              p->warehouse_id);
        memset(&lines[i], 0, sizeof lines[i]);
        lines[i].warehouse = w;
        lines[i].transit = (sd_transit){p->transit_p50, p->transit_p90, SD_TRANSIT_CALENDAR_DAYS};
        if (p->inbound_id[0] != '\0') {
            lines[i].source = SD_LINE_BACKORDER;
            lines[i].inbound_received = p->received_ms > 0;
            lines[i].inbound_expected = ms_date(
                sd_net_zone(*snap, w), p->received_ms > 0 ? p->received_ms : p->expected_ms);
            lines[i].inbound_slips = p->slips;
        }
    }
    return sd_eta_compute_order(lines, rec->n_parts, rec->order->placed_at_ms, now, etas, out, err);
}

static sl_status notify(sd_app *app, sl_db_conn *conn, const char *key, const char *kind,
                        const sd_order_rec *rec, const char *body, const char *coupon,
                        int64_t value, const char *currency, sl_err *err)
{
    sd_notice n = {key,   kind,    rec->order->customer_id, rec->order->order_id, body, coupon,
                   value, currency};
    return sd_store_notify(conn, app->events, &n, err);
}

/* shelfline_service_desk_delay_notices_total and
 * shelfline_service_desk_compensations_total: DELAY and COMPENSATION
 * notifications of a committed transaction. */
static void count_delays(const struct sd_delay_counts *n)
{
    if (n->notices > 0)
        sl_metric_add(
            sl_metric_with(sl_metric_counter("shelfline_service_desk_delay_notices_total",
                                             "Delay notices written (one per order per slip of "
                                             "an inbound shipment it waits on).",
                                             NULL),
                           NULL),
            n->notices);
    if (n->compensations > 0)
        sl_metric_add(
            sl_metric_with(sl_metric_counter("shelfline_service_desk_compensations_total",
                                             "Delay compensations (coupons) granted.", NULL),
                           NULL),
            n->compensations);
}

/* The after-commit hook of the consumer's apply transaction. */
static void count_applied_delays(void *vapp)
{
    sd_app *app = vapp;
    count_delays(&app->delays_applying);
    app->delays_applying = (struct sd_delay_counts){0, 0};
}

/* Moves one order's parts off the delayed inbound; counted counts the
 * notices and compensations written. */
static sl_status delay_order(sd_app *app, sl_db_conn *conn, sd_net_snap **snap, sl_arena *a,
                             const char *order_id, const char *inbound_id, int64_t new_ms,
                             const char *reason, struct sd_delay_counts *counted, sl_err *err)
{
    sd_order_rec rec;
    sl_status st = sd_store_load_order(conn, order_id, true, a, &rec, err);
    if (st != SL_OK)
        return st;
    int64_t now = sl_db_now_ms();
    size_t n = rec.n_parts, hit = SIZE_MAX;
    sd_eta_line *lines = sl_arena_alloc(a, n * sizeof *lines);
    sd_line_eta *before = sl_arena_alloc(a, n * sizeof *before);
    sd_line_eta *after = sl_arena_alloc(a, n * sizeof *after);
    if (lines == NULL || before == NULL || after == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sd_order_eta ob, oa;
    if ((st = order_eta(app, snap, &rec, now, lines, before, &ob, err)) != SL_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        sd_part *p = &rec.parts[i];
        if (strcmp(p->inbound_id, inbound_id) == 0 && p->expected_ms < new_ms) {
            p->expected_ms = new_ms;
            p->slips++;
            if (hit == SIZE_MAX)
                hit = i;
        }
    }
    if (hit == SIZE_MAX)
        return SL_OK; /* already moved (a replay) or moved earlier */
    if ((st = order_eta(app, snap, &rec, now, lines, after, &oa, err)) != SL_OK)
        return st;

    if ((st = sd_store_parts_delay(conn, order_id, inbound_id, new_ms, reason, err)) != SL_OK)
        return st;

    char text[SD_ETA_TEXT_MAX];
    if ((st = sd_eta_describe_move(lines[hit].warehouse, &before[hit], &after[hit], reason, text,
                                   sizeof text, err)) != SL_OK)
        return st;
    char key[200];
    snprintf(key, sizeof key, "delay:%s:%s:%" PRId64, order_id, inbound_id, new_ms);
    sd_slip slip = {inbound_id, new_ms, ob.p50, ob.p90, oa.p50, oa.p90, text, key, reason};
    return sd_sync_slip(app, conn, &rec, &slip, counted, err);
}

sl_status sd_sync_slip(sd_app *app, sl_db_conn *conn, const struct sd_order_rec *rec,
                       const sd_slip *s, struct sd_delay_counts *counted, sl_err *err)
{
    const char *order_id = rec->order->order_id;
    sd_comp_decision d;
    sl_status st;
    if ((st = sd_comp_decide(&app->cfg.comp, rec->promised_p50, s->new_p50, rec->granted_minor, &d,
                             err)) != SL_OK)
        return st;
    int slip_no = rec->slips + 1;
    if ((st = sd_store_order_slip(conn, order_id, d.grant_minor, err)) != SL_OK)
        return st;
    sd_eta_change change = {order_id,   slip_no,    s->source,  s->new_ms, s->old_p50,
                            s->old_p90, s->new_p50, s->new_p90, s->text};
    if ((st = sd_store_eta_change(conn, &change, err)) != SL_OK)
        return st;
    /* in the order's language (sd_i18n; English: the engine's sentence) */
    sd_lang lang = SD_LANG_UNKNOWN;
    (void)sd_lang_parse(rec->order->language, &lang, NULL);
    char notice[SD_ETA_TEXT_MAX + 512];
    if (!sd_i18n_delay(lang, order_id, s->text, s->old_p50, s->new_p50, s->new_p90, s->reason,
                       notice, sizeof notice))
        return sl_err_set(err, SL_INTERNAL, "order \"%s\": delay notice too long", order_id);
    if ((st = notify(app, conn, s->key, "DELAY", rec, notice, "", 0, "", err)) != SL_OK)
        return st;
    counted->notices++;
    if (d.grant_minor > 0) {
        char code[SD_COUPON_CODE_LEN], key[200];
        if ((st = sd_coupon_code(app->cfg.coupon_key, order_id, (uint32_t)slip_no, code, err)) !=
            SL_OK)
            return st;
        if ((st = sd_store_compensation(conn, order_id, slip_no, code, d.grant_minor,
                                        app->cfg.comp.currency, err)) != SL_OK)
            return st;
        char body[SD_ETA_TEXT_MAX + 128];
        snprintf(body, sizeof body,
                 "we are sorry: your order %s is %d day(s) later than promised; coupon %s is "
                 "worth %" PRId64 " %s (minor units)",
                 order_id, d.slip_days, code, d.grant_minor, app->cfg.comp.currency);
        snprintf(key, sizeof key, "comp:%s:%d", order_id, slip_no);
        if ((st = notify(app, conn, key, "COMPENSATION", rec, body, code, d.grant_minor,
                         app->cfg.comp.currency, err)) != SL_OK)
            return st;
        counted->compensations++;
    }
    return SL_OK;
}

void sd_sync_count_delays(const struct sd_delay_counts *n)
{
    count_delays(n);
}

/* One batch of a delay: the orders after `from` (in order_id order) that
 * still expect the inbound before new_ms, at most `limit` of them. */
typedef struct delay_batch {
    sd_app *app;
    const char *inbound_id;
    int64_t new_ms;
    const char *reason;
    int64_t limit;
    char from[128]; /* "" at the start */
    /* out, per attempt */
    char next[128]; /* the last order examined */
    int examined;
    bool more;                     /* the batch was full: there may be more after next */
    struct sd_delay_counts counts; /* notices and compensations written */
} delay_batch;

static sl_status delay_batch_run(sl_db_conn *conn, delay_batch *b, sl_err *err)
{
    sd_net_snap *snap = NULL;
    b->examined = 0;
    b->more = false;
    b->counts = (struct sd_delay_counts){0, 0};
    snprintf(b->next, sizeof b->next, "%s", b->from);
    sl_arena *ids_arena = sl_arena_create(0), *a = sl_arena_create(0);
    const char **ids = NULL;
    size_t n = 0;
    sl_status st = ids_arena == NULL || a == NULL
                       ? sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory")
                       : sd_store_orders_on_inbound(conn, b->inbound_id, b->new_ms, b->from,
                                                    b->limit, ids_arena, &ids, &n, err);
    if (st != SL_OK || n == 0)
        goto done;
    if ((st = sd_net_acquire(b->app->net, false, &snap, err)) != SL_OK)
        goto done;
    for (size_t i = 0; i < n && st == SL_OK; i++) {
        st = delay_order(b->app, conn, &snap, a, ids[i], b->inbound_id, b->new_ms, b->reason,
                         &b->counts, err);
        sl_arena_reset(a);
    }
    if (st != SL_OK)
        goto done;
    b->examined = (int)n;
    b->more = (int64_t)n == b->limit;
    if (snprintf(b->next, sizeof b->next, "%s", ids[n - 1]) >= (int)sizeof b->next)
        st = sl_err_set(err, SL_INTERNAL,
                        "order_id \"%.64s...\" is too long to resume a delay from", ids[n - 1]);
done:
    if (snap != NULL)
        sd_net_release(b->app->net, snap);
    sl_arena_destroy(a);
    sl_arena_destroy(ids_arena);
    return st;
}

static sl_status delay_batch_tx(sl_db_conn *conn, void *ctx, sl_err *err)
{
    return delay_batch_run(conn, ctx, err);
}

static bool delay_batch_init(delay_batch *b, sd_app *app, const Shelfline__V1__InboundDelayed *d)
{
    if (d->inbound == NULL || d->inbound->inbound_id == NULL)
        return false;
    memset(b, 0, sizeof *b);
    b->app = app;
    b->inbound_id = d->inbound->inbound_id;
    b->new_ms = d->inbound->expected_at_ms;
    b->reason = d->reason ? d->reason : "";
    b->limit = app->cfg.delay_batch;
    return true;
}

/* Inside the transaction that advances the cursor: whatever the prepare
 * step (sd_sync_prepare) left -- normally nothing, or orders placed while
 * it ran. */
static sl_status on_inbound_delayed(sd_app *app, sl_db_conn *conn,
                                    const Shelfline__V1__InboundDelayed *d, sl_err *err)
{
    delay_batch b;
    app->delays_applying = (struct sd_delay_counts){0, 0};
    if (!delay_batch_init(&b, app, d))
        return SL_OK;
    int total = 0;
    sl_status st;
    do {
        if ((st = delay_batch_run(conn, &b, err)) != SL_OK)
            return st;
        total += b.examined;
        app->delays_applying.notices += b.counts.notices;
        app->delays_applying.compensations += b.counts.compensations;
        memcpy(b.from, b.next, sizeof b.from);
    } while (b.more);
    /* Counted if the cursor's transaction commits (past the hooks: now). */
    if (app->delays_applying.notices > 0 && !sl_db_after_commit(conn, count_applied_delays, app))
        count_applied_delays(app);
    if (total > 0)
        SL_LOG(SL_LOG_INFO, "inbound_delayed", NULL,
               "inbound \"%s\" delayed: %d more orders moved with the cursor", b.inbound_id, total);
    return SL_OK;
}

/* Decodes an INBOUND_DELAYED payload; NULL (logged) when it does not. */
static Shelfline__V1__InboundDelayed *delayed_payload(const Shelfline__V1__Event *ev)
{
    Shelfline__V1__InboundDelayed *d =
        shelfline__v1__inbound_delayed__unpack(NULL, ev->payload.len, ev->payload.data);
    if (d == NULL)
        SL_LOG(SL_LOG_ERROR, "inbound_delayed", NULL, "could not decode event %" PRId64, ev->id);
    return d;
}

sl_status sd_sync_prepare(sl_db *db, const Shelfline__V1__Event *ev, void *ctx, sl_err *err);
sl_status sd_sync_apply(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx, sl_err *err);

/* INBOUND_DELAYED moves its orders before the cursor does, in
 * transactions of SHELFLINE_SD_DELAY_BATCH orders each, so the first
 * customers' notices are readable within milliseconds instead of after
 * one transaction over every order (10,000 orders were about 60,000
 * statements and 10-16 s).  Exactly once still holds: each order moves
 * under its row lock only while its part expects the inbound before the
 * new date (sd_parts_delay), and its notices are keyed by the slip, so a
 * batch committed before a crash is skipped when the event comes again. */
sl_status sd_sync_prepare(sl_db *db, const Shelfline__V1__Event *ev, void *ctx, sl_err *err)
{
    sd_app *app = ctx;
    if (ev->topic == NULL || strcmp(ev->topic, "INBOUND_DELAYED") != 0)
        return SL_OK;
    Shelfline__V1__InboundDelayed *d = delayed_payload(ev);
    if (d == NULL)
        return SL_OK;
    delay_batch b;
    sl_status st = SL_OK;
    int total = 0, batches = 0;
    int64_t t0 = sl_db_now_ms();
    if (delay_batch_init(&b, app, d)) {
        do {
            /* A retried attempt starts again from b.from. */
            if ((st = sl_db_tx(db, NULL, delay_batch_tx, &b, err)) != SL_OK)
                break;
            count_delays(&b.counts);
            total += b.examined;
            batches++;
            memcpy(b.from, b.next, sizeof b.from);
        } while (b.more);
    }
    if (st == SL_OK && total > 0)
        SL_LOG(SL_LOG_INFO, "inbound_delayed", NULL,
               "inbound \"%s\" delayed: %d orders moved in %d transactions, %lld ms", b.inbound_id,
               total, batches, (long long)(sl_db_now_ms() - t0));
    shelfline__v1__inbound_delayed__free_unpacked(d, NULL);
    return st;
}

/* An order whose reservation inventory committed or released: see the
 * file's header. */
static sl_status on_reservation_closed(sd_app *app, sl_db_conn *conn, const char *order_id,
                                       bool committed, sl_err *err)
{
    if (order_id == NULL || order_id[0] == '\0')
        return SL_OK;
    bool changed = false;
    sl_status st =
        committed ? sd_store_order_set_status(conn, order_id, "PLACED", "PAID", &changed, err)
                  : sd_store_order_cancel(conn, order_id, "released in inventory", &changed, err);
    if (st != SL_OK || !changed)
        return st;
    SL_LOG(SL_LOG_INFO, "order_sync", order_id,
           "order \"%s\" %s from inventory's event (its own call did not record it)", order_id,
           committed ? "paid" : "cancelled");
    return sd_publish_order(app, conn, committed ? "ORDER_PAID" : "ORDER_CANCELLED", order_id, err);
}

/* The subscription service-desk/inventory-orders (see the file's header). */
sl_status sd_sync_apply_orders(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx,
                               sl_err *err)
{
    if (ev->topic == NULL)
        return SL_OK;
    if (strcmp(ev->topic, "RESERVATION_COMMITTED") == 0)
        return on_reservation_closed(ctx, conn, ev->key, true, err);
    if (strcmp(ev->topic, "RESERVATION_RELEASED") == 0)
        return on_reservation_closed(ctx, conn, ev->key, false, err);
    return SL_OK;
}

/* INBOUND_RECEIVED: the parts backordered on the inbound now ship after
 * its receipt (their ETA no longer slides with the clock as an overdue
 * inbound's does).  A payload that does not decode is skipped, loudly. */
static sl_status on_inbound_received(const Shelfline__V1__Event *ev, sl_db_conn *conn, sl_err *err)
{
    Shelfline__V1__InboundReceived *ir =
        shelfline__v1__inbound_received__unpack(NULL, ev->payload.len, ev->payload.data);
    if (ir == NULL || ir->inbound == NULL || ir->inbound->inbound_id == NULL) {
        SL_LOG(SL_LOG_ERROR, "inbound_received", NULL, "could not decode event %" PRId64, ev->id);
        if (ir != NULL)
            shelfline__v1__inbound_received__free_unpacked(ir, NULL);
        return SL_OK;
    }
    sl_status st =
        sd_store_parts_received(conn, ir->inbound->inbound_id,
                                ev->created_at_ms > 0 ? ev->created_at_ms : sl_db_now_ms(), err);
    shelfline__v1__inbound_received__free_unpacked(ir, NULL);
    return st;
}

sl_status sd_sync_apply(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx, sl_err *err)
{
    sd_app *app = ctx;
    if (ev->topic == NULL)
        return SL_OK;
    if (strcmp(ev->topic, "BACK_IN_STOCK") == 0 || strcmp(ev->topic, "OUT_OF_STOCK") == 0)
        return sd_bis_on_event(app, conn, ev, err);
    if (strcmp(ev->topic, "INBOUND_RECEIVED") == 0)
        return on_inbound_received(ev, conn, err);
    if (strcmp(ev->topic, "INBOUND_DELAYED") != 0)
        return SL_OK;
    /* Not retryable: a payload that does not decode never will. */
    Shelfline__V1__InboundDelayed *d = delayed_payload(ev);
    if (d == NULL)
        return SL_OK;
    sl_status st = on_inbound_delayed(app, conn, d, err);
    shelfline__v1__inbound_delayed__free_unpacked(d, NULL);
    return st;
}
