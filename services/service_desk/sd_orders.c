/*
 * sd_orders: orders and ETAs, the domain behind sd_api_orders.c --
 * placing (reserve through inventory, then record), payment, cancellation,
 * shipment steps, reads, the ETA of an order and quotes.
 *
 * PlaceOrder's end-to-end idempotency.  The order id is inventory's
 * reservation id, and inventory's Reserve is idempotent by it, so:
 *  - an order already recorded is answered from the database (replayed)
 *    without calling inventory, after comparing the request's fingerprint;
 *  - an attempt that reserved and then failed before recording (timed out
 *    calling inventory, or the database failed) leaves a hold in
 *    inventory and no order here.  The retry's Reserve is replayed by
 *    inventory -- the same allocation, nothing reserved twice -- and the
 *    retry records the order.  A client that never retries leaves a hold
 *    that inventory's reaper releases after SHELFLINE_SD_HOLD_TTL.  We do
 *    not Release after a failed record: a concurrent retry may be about to
 *    record the same reservation, and a released hold can never be
 *    recorded, so releasing would turn a transient failure into a lost
 *    order.  A retry that finds its hold already expired or released gets
 *    FAILED_PRECONDITION (place the order again under a new id).
 *  - two concurrent attempts both get the same reservation; the order row
 *    is inserted ON CONFLICT DO NOTHING, so one records and both answer
 *    the recorded order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_orders.h"
#include "sd_app.h"
#include "sd_store.h"
#include "sd_valid.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"

/* ---- helpers ---------------------------------------------------------------- */

static sl_status inv_call(sd_app *app, sl_call *call, const char *method,
                          const ProtobufCMessage *req, const ProtobufCMessageDescriptor *rd,
                          ProtobufCMessage **resp, bool idempotent, sl_err *err)
{
    char full[96];
    snprintf(full, sizeof full, "/shelfline.v1.InventoryService/%s", method);
    const uint8_t *details = NULL;
    size_t details_len = 0;
    sl_call_options policy = {.timeout_ms = app->cfg.inventory_timeout_ms,
                              .idempotent = idempotent,
                              .status_details = &details,
                              .status_details_len = &details_len};
    sl_status st = sl_client_call_from(call, app->inventory, full, req, rd, sl_call_arena(call),
                                       resp, &policy, err);
    /* Inventory's per-line shortfall of a Reserve goes on to our caller,
     * who gets the same status (FAILED_PRECONDITION) from PlaceOrder. */
    if (st == SL_FAILED_PRECONDITION && details_len > 0)
        sl_call_forward_error_details(call, details, details_len, NULL);
    return st;
}

static sd_date ms_date(const sd_tz *z, int64_t ms)
{
    sd_local_time lt;
    sd_tz_local(z, sd_time_ms_to_s(ms), &lt);
    return lt.date;
}

/* Builds the engine's line for a part; NULL warehouse when unknown. */
static sl_status part_line(sd_app *app, sd_net_snap **snap, const sd_part *p, sd_eta_line *line,
                           sl_err *err)
{
    const sd_warehouse *w = sd_net_find(app->net, snap, p->warehouse_id);
    if (w == NULL)
        return sl_err_set(err, SL_UNAVAILABLE, "warehouse \"%s\" is not known to inventory",
                          p->warehouse_id);
    memset(line, 0, sizeof *line);
    line->warehouse = w;
    line->transit = (sd_transit){p->transit_p50, p->transit_p90, SD_TRANSIT_CALENDAR_DAYS};
    if (p->inbound_id[0] != '\0') {
        line->source = SD_LINE_BACKORDER;
        line->inbound_received = p->received_ms > 0;
        line->inbound_expected =
            ms_date(sd_net_zone(*snap, w), p->received_ms > 0 ? p->received_ms : p->expected_ms);
        line->inbound_slips = p->slips;
    } else {
        line->source = SD_LINE_IN_STOCK;
    }
    return SL_OK;
}

static void eta_max(sd_order_eta *acc, const sd_line_eta *e, bool first)
{
    if (first || e->ship_date > acc->ship_date)
        acc->ship_date = e->ship_date;
    if (first || e->p50 > acc->p50)
        acc->p50 = e->p50;
    if (first || e->p90 > acc->p90)
        acc->p90 = e->p90;
    if (first || e->confidence > acc->confidence)
        acc->confidence = e->confidence;
}

/* ---- PlaceOrder ---------------------------------------------------------- */

/* The request as a canonical string: a retry must give the same one. */
static char *fingerprint(sl_arena *a, const Shelfline__V1__PlaceOrderRequest *r)
{
    size_t cap = 256 + r->n_lines * 160;
    char *s = sl_arena_alloc(a, cap);
    if (s == NULL)
        return NULL;
    size_t n =
        (size_t)snprintf(s, cap, "%s|%s|%d|%d|%" PRId64, r->customer_id, r->region,
                         r->allow_split ? 1 : 0, r->allow_backorder ? 1 : 0, r->placed_at_ms);
    for (size_t i = 0; i < r->n_lines && n < cap; i++)
        n += (size_t)snprintf(s + n, cap - n, "|%s:%" PRId64 ":%s", r->lines[i]->sku,
                              r->lines[i]->qty,
                              r->lines[i]->promotion_id ? r->lines[i]->promotion_id : "");
    return s;
}

typedef struct place_ctx {
    sd_app *app;
    sd_new_order order;
    bool inserted;
} place_ctx;

static sl_status place_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    place_ctx *c = vctx;
    sl_status st = sd_store_insert_order(conn, &c->order, &c->inserted, err);
    if (st == SL_OK && c->inserted)
        st = sd_publish_order(c->app, conn, "ORDER_PLACED", c->order.req->order_id, err);
    if (st != SL_OK)
        c->inserted = false;
    return st;
}

/* Answers from a recorded order: same request -> replay, else conflict. */
static sl_status answer_recorded(const sd_order_rec *rec, const char *fp,
                                 Shelfline__V1__PlaceOrderResponse *out, bool replayed, sl_err *err)
{
    if (strcmp(rec->fingerprint, fp) != 0)
        return sl_err_reason(err, SL_ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED",
                             "order_id \"%s\" was already placed with a different request",
                             rec->order->order_id);
    out->order = rec->order;
    out->replayed = replayed;
    return SL_OK;
}

/* The order as stored, read in one read-only transaction bounded by the
 * call's deadline. */
static sl_status load_order(sd_app *app, int64_t deadline_ms, const char *order_id, sl_arena *a,
                            sd_order_rec *rec, sl_err *err)
{
    return sd_store_read_order(app->db, deadline_ms, order_id, a, rec, err);
}

/* Reserve's request for the order. */
static sl_status reserve_request(sl_arena *a, sd_app *app,
                                 const Shelfline__V1__PlaceOrderRequest *r,
                                 Shelfline__V1__ReserveRequest *rr, sl_err *err)
{
    Shelfline__V1__ReserveLine *rl = sl_arena_alloc(a, r->n_lines * sizeof *rl);
    Shelfline__V1__ReserveLine **rlp = sl_arena_alloc(a, r->n_lines * sizeof *rlp);
    if (rl == NULL || rlp == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < r->n_lines; i++) {
        shelfline__v1__reserve_line__init(&rl[i]);
        rl[i].sku = r->lines[i]->sku;
        rl[i].qty = r->lines[i]->qty;
        rl[i].promotion_id = r->lines[i]->promotion_id;
        rlp[i] = &rl[i];
    }
    shelfline__v1__reserve_request__init(rr);
    rr->reservation_id = r->order_id;
    rr->customer_id = r->customer_id;
    rr->region = r->region;
    rr->lines = rlp;
    rr->n_lines = r->n_lines;
    rr->hold_ttl_ms = app->cfg.hold_ttl_ms;
    rr->allow_split = r->allow_split;
    rr->allow_backorder = r->allow_backorder;
    return SL_OK;
}

/* Reserves the order's stock in inventory, which replays a reservation an
 * earlier attempt made; then the hold must still be live.  *resv is NULL
 * (with OK) when the hold was released and the order is recorded: the
 * caller answers from the record. */
static sl_status reserve(sd_app *app, sl_call *call, const Shelfline__V1__PlaceOrderRequest *r,
                         const Shelfline__V1__Reservation **resv, sl_err *err)
{
    Shelfline__V1__ReserveRequest rr;
    sl_status st = reserve_request(sl_call_arena(call), app, r, &rr, err);
    ProtobufCMessage *m;
    if (st == SL_OK)
        st = inv_call(app, call, "Reserve", &rr.base, &shelfline__v1__reserve_response__descriptor,
                      &m, true, err);
    if (st == SL_ALREADY_EXISTS)
        return sl_err_reason(err, SL_ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED",
                             "order_id \"%s\" was already reserved with a different request",
                             r->order_id);
    if (st != SL_OK) {
        sl_err_wrap(err, "could not reserve order \"%s\"", r->order_id);
        return st;
    }
    const Shelfline__V1__ReserveResponse *rs = (const void *)m;
    if ((*resv = rs->reservation) == NULL)
        return sl_err_set(err, SL_INTERNAL, "inventory answered Reserve without a reservation");
    if (!rs->replayed)
        return SL_OK;
    /* An earlier attempt reserved: is the hold still good? */
    Shelfline__V1__GetReservationRequest gr = SHELFLINE__V1__GET_RESERVATION_REQUEST__INIT;
    gr.reservation_id = r->order_id;
    if ((st = inv_call(app, call, "GetReservation", &gr.base,
                       &shelfline__v1__reservation__descriptor, &m, true, err)) != SL_OK)
        return st;
    const Shelfline__V1__Reservation *cur = (const void *)m;
    if (cur->status != SHELFLINE__V1__RESERVATION__STATUS__RELEASED &&
        cur->status != SHELFLINE__V1__RESERVATION__STATUS__EXPIRED)
        return SL_OK;
    *resv = NULL;
    return SL_OK;
}

/* The promise of each allocation of resv and of the order, as if placed
 * at c->order.placed_at, into c->order. */
static sl_status promise(sd_app *app, sl_arena *a, const Shelfline__V1__PlaceOrderRequest *r,
                         int64_t now, place_ctx *c, sl_err *err)
{
    const Shelfline__V1__Reservation *resv = c->order.resv;
    size_t nparts = 0;
    for (size_t i = 0; i < resv->n_lines; i++)
        nparts += resv->lines[i]->n_allocations;
    if (nparts == 0 || resv->n_lines != r->n_lines)
        return sl_err_set(err, SL_INTERNAL, "inventory answered Reserve with %zu lines for %zu",
                          resv->n_lines, r->n_lines);
    sd_line_eta *etas = sl_arena_alloc(a, nparts * sizeof *etas);
    c->order.part_etas = etas;
    if (etas == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sd_net_snap *snap;
    sl_status st = sd_net_acquire(app->net, false, &snap, err);
    if (st != SL_OK)
        return st;
    size_t k = 0;
    for (size_t i = 0; i < resv->n_lines && st == SL_OK; i++) {
        for (size_t j = 0; j < resv->lines[i]->n_allocations && st == SL_OK; j++, k++) {
            const Shelfline__V1__Allocation *al = resv->lines[i]->allocations[j];
            sd_part p = {.warehouse_id = al->warehouse_id,
                         .inbound_id = al->inbound_id ? al->inbound_id : "",
                         .expected_ms = al->expected_at_ms,
                         .transit_p50 = al->transit_p50_days,
                         .transit_p90 = al->transit_p90_days};
            sd_eta_line line;
            if ((st = part_line(app, &snap, &p, &line, err)) == SL_OK)
                st = sd_eta_compute_line(&line, c->order.placed_at, now, &etas[k], err);
            if (st == SL_OK)
                eta_max(&c->order.promise, &etas[k], k == 0);
        }
    }
    sd_net_release(app->net, snap);
    return st;
}

sl_status sd_orders_place(sl_call *call, const Shelfline__V1__PlaceOrderRequest *r, int64_t now,
                          Shelfline__V1__PlaceOrderResponse *out, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    sl_arena *a = sl_call_arena(call);
    int64_t deadline = sl_call_deadline_ms(call);
    const char *fp = fingerprint(a, r);
    if (fp == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    /* 1. a recorded order answers the retry */
    sd_order_rec rec;
    sl_status st = load_order(app, deadline, r->order_id, a, &rec, err);
    if (st != SL_NOT_FOUND)
        return st == SL_OK ? answer_recorded(&rec, fp, out, true, err) : st;
    /* 2. reserve */
    place_ctx c = {.app = app, .order = {.req = r, .fingerprint = fp}};
    if ((st = reserve(app, call, r, &c.order.resv, err)) != SL_OK)
        return st;
    if (c.order.resv == NULL) {
        /* Perhaps a concurrent attempt recorded and then cancelled it. */
        if (load_order(app, deadline, r->order_id, a, &rec, NULL) == SL_OK)
            return answer_recorded(&rec, fp, out, true, err);
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "ORDER_HOLD_RELEASED",
                             "the stock held for order_id \"%s\" was released before the "
                             "order was recorded; place it again under a new order_id",
                             r->order_id);
    }
    /* 3. the promise; 4. record it with ORDER_PLACED, answer what is stored */
    c.order.placed_at = r->placed_at_ms != 0 ? r->placed_at_ms : now;
    if ((st = promise(app, a, r, now, &c, err)) != SL_OK)
        return st;
    sl_db_tx_options o = sd_store_tx_options(deadline, false);
    if ((st = sl_db_tx(app->db, &o, place_tx, &c, err)) != SL_OK ||
        (st = load_order(app, deadline, r->order_id, a, &rec, err)) != SL_OK)
        return st;
    return answer_recorded(&rec, fp, out, !c.inserted, err);
}

/* ---- payment, cancellation, shipment --------------------------------------- */

typedef struct status_ctx {
    sd_app *app;
    const char *order_id;
    const char *from, *to, *topic;
    const char *reason;
    bool changed;
} status_ctx;

static sl_status status_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    status_ctx *c = vctx;
    c->changed = false;
    sl_status st =
        strcmp(c->to, "CANCELLED") == 0
            ? sd_store_order_cancel(conn, c->order_id, c->reason ? c->reason : "", &c->changed, err)
            : sd_store_order_set_status(conn, c->order_id, c->from, c->to, &c->changed, err);
    if (st == SL_OK && c->changed && c->topic != NULL)
        st = sd_publish_order(c->app, conn, c->topic, c->order_id, err);
    /* Inventory's event about this very call may have been applied first
     * (its consumer found the order PLACED): the move is the caller's. */
    if (st == SL_OK && !c->changed)
        st = sd_store_order_claim(conn, c->order_id, c->to, c->reason ? c->reason : "", err);
    return st;
}

sl_status sd_orders_confirm_payment(sl_call *call, const Shelfline__V1__ConfirmPaymentRequest *r,
                                    Shelfline__V1__Order *resp, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    sl_arena *a = sl_call_arena(call);
    sd_order_rec rec;
    sl_status st = load_order(app, sl_call_deadline_ms(call), r->order_id, a, &rec, err);
    if (st != SL_OK)
        return st;
    if (strcmp(rec.status, "CANCELLED") == 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "ORDER_CANCELLED",
                             "order \"%s\" was cancelled", r->order_id);
    if (strcmp(rec.status, "PLACED") != 0) {
        *resp = *rec.order; /* already paid: unchanged */
        return SL_OK;
    }
    Shelfline__V1__CommitRequest cr = SHELFLINE__V1__COMMIT_REQUEST__INIT;
    cr.reservation_id = r->order_id;
    ProtobufCMessage *m;
    st = inv_call(app, call, "Commit", &cr.base, &shelfline__v1__reservation__descriptor, &m, true,
                  err);
    if (st == SL_FAILED_PRECONDITION)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "ORDER_HOLD_RELEASED",
                             "order \"%s\" cannot be paid: its stock hold was released or expired",
                             r->order_id);
    if (st != SL_OK) {
        sl_err_wrap(err, "could not commit order \"%s\"", r->order_id);
        return st;
    }
    status_ctx c = {app, r->order_id, "PLACED", "PAID", "ORDER_PAID", NULL, false};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(app->db, &o, status_tx, &c, err)) != SL_OK ||
        (st = load_order(app, sl_call_deadline_ms(call), r->order_id, a, &rec, err)) != SL_OK)
        return st;
    *resp = *rec.order;
    return SL_OK;
}

sl_status sd_orders_cancel(sl_call *call, const Shelfline__V1__CancelOrderRequest *r,
                           Shelfline__V1__Order *resp, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    sl_arena *a = sl_call_arena(call);
    sd_order_rec rec;
    sl_status st = load_order(app, sl_call_deadline_ms(call), r->order_id, a, &rec, err);
    if (st != SL_OK)
        return st;
    if (strcmp(rec.status, "CANCELLED") == 0) {
        *resp = *rec.order;
        return SL_OK;
    }
    if (strcmp(rec.status, "PLACED") != 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "ORDER_ALREADY_PAID",
                             "order \"%s\" is already paid (status %s); it can only be returned",
                             r->order_id, rec.status);
    Shelfline__V1__ReleaseRequest rr = SHELFLINE__V1__RELEASE_REQUEST__INIT;
    rr.reservation_id = r->order_id;
    ProtobufCMessage *m;
    st = inv_call(app, call, "Release", &rr.base, &shelfline__v1__reservation__descriptor, &m, true,
                  err);
    if (st == SL_FAILED_PRECONDITION)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "ORDER_ALREADY_PAID",
                             "order \"%s\" cannot be cancelled: it was paid meanwhile",
                             r->order_id);
    if (st != SL_OK) {
        sl_err_wrap(err, "could not release order \"%s\"", r->order_id);
        return st;
    }
    status_ctx c = {app, r->order_id, "PLACED", "CANCELLED", "ORDER_CANCELLED", r->reason, false};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(app->db, &o, status_tx, &c, err)) != SL_OK ||
        (st = load_order(app, sl_call_deadline_ms(call), r->order_id, a, &rec, err)) != SL_OK)
        return st;
    *resp = *rec.order;
    return SL_OK;
}

typedef struct ship_ctx {
    sd_app *app;
    const Shelfline__V1__UpdateShipmentRequest *req;
    struct sd_delay_counts counts; /* a carrier slip's notice and coupon */
} ship_ctx;

/* A shipped order's carrier now promises `promised`, later than its
 * earlier promise: one slip (sd_sync_slip).  The order's row lock and
 * the date comparison make a retried call a no-op; the slip's number in
 * its keys lets the carrier return to a date it promised before (later
 * again after an earlier one: a new slip). */
static sl_status carrier_slip(ship_ctx *c, sl_db_conn *conn, const sd_order_rec *rec,
                              sd_date promised, sl_err *err)
{
    const char *id = rec->order->order_id;
    int slip_no = rec->slips + 1;
    char was[SD_DATE_STR], now[SD_DATE_STR], text[SD_ETA_TEXT_MAX], key[200], source[32];
    sd_date_format(rec->carrier_promised, was);
    sd_date_format(promised, now);
    snprintf(text, sizeof text,
             "the carrier %s delayed the delivery (tracking %s): now expected on %s instead of %s",
             rec->order->carrier, rec->order->tracking, now, was);
    snprintf(key, sizeof key, "carrier:%s:%d:%s", id, slip_no, now);
    snprintf(source, sizeof source, "carrier:%d", slip_no);
    /* a carrier's date is one day: p50 = p90, before and after */
    sd_slip slip = {.source = source,
                    .new_ms = (int64_t)promised * 86400000LL,
                    .old_p50 = rec->carrier_promised,
                    .old_p90 = rec->carrier_promised,
                    .new_p50 = promised,
                    .new_p90 = promised,
                    .text = text,
                    .key = key};
    return sd_sync_slip(c->app, conn, rec, &slip, &c->counts, err);
}

static sl_status ship_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    ship_ctx *c = vctx;
    const Shelfline__V1__UpdateShipmentRequest *r = c->req;
    c->counts = (struct sd_delay_counts){0, 0}; /* this attempt's */
    sl_arena *a = sl_arena_create(0);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sd_order_rec rec;
    sl_status st = sd_store_load_order(conn, r->order_id, true, a, &rec, err);
    if (st != SL_OK)
        goto done;
    const char *s = rec.status, *to = NULL;
    bool ok = false;
    switch (r->step) {
    case SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_PICKED:
        to = "PICKED";
        ok = !strcmp(s, "PAID") || !strcmp(s, "PICKED");
        break;
    case SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_SHIPPED:
        to = "SHIPPED";
        ok = !strcmp(s, "PAID") || !strcmp(s, "PICKED") || !strcmp(s, "DELIVERY_FAILED") ||
             !strcmp(s, "SHIPPED");
        break;
    case SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_DELIVERED:
        to = "DELIVERED";
        ok = !strcmp(s, "SHIPPED") || !strcmp(s, "DELIVERED");
        break;
    case SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_FAILED_DELIVERY:
        to = "DELIVERY_FAILED";
        ok = !strcmp(s, "SHIPPED") || !strcmp(s, "DELIVERY_FAILED");
        break;
    case SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_STEP_UNSPECIFIED:
    case _SHELFLINE__V1__SHIPMENT_STEP_IS_INT_SIZE:
        break;
    }
    if (!ok) {
        st = sl_err_reason(err, SL_FAILED_PRECONDITION, "ORDER_TRANSITION_INVALID",
                           "order \"%s\" cannot move from %s to %s", r->order_id, s, to ? to : "?");
        goto done;
    }
    if (strcmp(s, to) == 0 && strcmp(to, "SHIPPED") != 0)
        goto done; /* repeating the current step */
    bool shipped = strcmp(to, "SHIPPED") == 0;
    sd_date promised, *promise = NULL;
    if (shipped && r->promised_date[0] != '\0') {
        if ((st = sd_date_parse(r->promised_date, &promised, err)) != SL_OK)
            goto done;
        promise = &promised;
    }
    if ((st = sd_store_order_ship(conn, r->order_id, to, shipped ? r->carrier : rec.order->carrier,
                                  shipped ? r->tracking : rec.order->tracking, promise, err)) !=
        SL_OK)
        goto done;
    /* The carrier's later date is a slip; its first date, or an earlier
     * one, is not (the ETA follows it all the same). */
    if (promise != NULL && rec.has_carrier_promise && promised > rec.carrier_promised &&
        (st = carrier_slip(c, conn, &rec, promised, err)) != SL_OK)
        goto done;
    if (strcmp(to, "DELIVERED") == 0)
        st = sd_publish_order(c->app, conn, "ORDER_DELIVERED", r->order_id, err);
done:
    sl_arena_destroy(a);
    return st;
}

sl_status sd_orders_ship(sl_call *call, const Shelfline__V1__UpdateShipmentRequest *r,
                         Shelfline__V1__Order *resp, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    ship_ctx c = {app, r, {0, 0}};
    sl_db_tx_options o = sd_store_tx_options(sl_call_deadline_ms(call), false);
    sl_status st = sl_db_tx(app->db, &o, ship_tx, &c, err);
    if (st != SL_OK)
        return st;
    sd_sync_count_delays(&c.counts);
    sd_order_rec rec;
    if ((st = load_order(app, sl_call_deadline_ms(call), r->order_id, sl_call_arena(call), &rec,
                         err)) != SL_OK)
        return st;
    *resp = *rec.order;
    return SL_OK;
}

/* ---- reads ---------------------------------------------------------------- */

sl_status sd_orders_get(sd_app *app, int64_t deadline_ms, sl_arena *a, const char *order_id,
                        Shelfline__V1__Order **out, sl_err *err)
{
    sd_order_rec rec;
    sl_status st = load_order(app, deadline_ms, order_id, a, &rec, err);
    if (st == SL_OK)
        *out = rec.order;
    return st;
}

typedef struct list_ctx {
    const char *customer_id, *after_ms, *after_id;
    int64_t size;
    sl_arena *arena;
    Shelfline__V1__ListOrdersResponse *out;
} list_ctx;

/* One page of a customer's orders, read in one snapshot: one more than
 * the page tells whether there is a next page. */
static sl_status list_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    list_ctx *c = vctx;
    Shelfline__V1__ListOrdersResponse *out = c->out;
    sd_order_key *keys;
    size_t n;
    sl_status st = sd_store_orders_by_customer(conn, c->customer_id, c->after_ms, c->after_id,
                                               c->size + 1, c->arena, &keys, &n, err);
    if (st != SL_OK)
        return st;
    size_t take = n > (size_t)c->size ? (size_t)c->size : n;
    out->n_orders = 0;
    out->next_page_token = "";
    out->orders = sl_arena_zalloc(c->arena, (take + 1) * sizeof *out->orders);
    if (out->orders == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < take; i++) {
        sd_order_rec rec;
        if ((st = sd_store_load_order(conn, keys[i].order_id, false, c->arena, &rec, err)) != SL_OK)
            return st;
        out->orders[out->n_orders++] = rec.order;
    }
    if (n > take) {
        size_t cap = 100;
        char *t = sl_arena_alloc(c->arena, cap);
        if (t == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        snprintf(t, cap, "%" PRId64 ":%s", keys[take - 1].placed_at_ms, keys[take - 1].order_id);
        out->next_page_token = t;
    }
    return SL_OK;
}

sl_status sd_orders_list(sd_app *app, int64_t deadline_ms, sl_arena *a, const char *customer_id,
                         int64_t size, const char *after_ms, const char *after_id,
                         Shelfline__V1__ListOrdersResponse *out, sl_err *err)
{
    list_ctx c = {customer_id, after_ms, after_id, size, a, out};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, true);
    return sl_db_tx(app->db, &o, list_tx, &c, err);
}

/* GetOrderEta's running order ETA, as the lines are computed. */
typedef struct eta_acc {
    sd_order_eta order; /* the latest of every part so far */
    bool any;           /* some part was seen */
    char *reason;       /* the first moved line's explanation */
} eta_acc;

/* One line of GetOrderEta: its ETA is its latest part's, recomputed now;
 * the part latest in p50 (the most slipped among equals) explains it, as
 * a move when that part's ETA differs from its promise.  Every part also
 * goes into acc.  *out: arena memory. */
static sl_status line_eta(sd_app *app, sd_net_snap **snap, const sd_order_rec *rec,
                          const Shelfline__V1__OrderLine *ol, int64_t now, sl_arena *a,
                          eta_acc *acc, Shelfline__V1__LineEta **out, sl_err *err)
{
    sl_status st;
    sd_order_eta le = {0};
    const sd_part *worst = NULL;
    sd_eta_line worst_line;
    sd_line_eta worst_eta;
    for (size_t j = 0; j < rec->n_parts; j++) {
        const sd_part *p = &rec->parts[j];
        if (p->line_no != ol->line_no)
            continue;
        sd_eta_line line;
        sd_line_eta e;
        if ((st = part_line(app, snap, p, &line, err)) != SL_OK ||
            (st = sd_eta_compute_line(&line, rec->order->placed_at_ms, now, &e, err)) != SL_OK)
            return st;
        eta_max(&le, &e, worst == NULL);
        eta_max(&acc->order, &e, !acc->any);
        acc->any = true;
        if (worst == NULL || e.p50 > worst_eta.p50 ||
            (e.p50 == worst_eta.p50 && p->slips > worst->slips)) {
            worst = p;
            worst_line = line;
            worst_eta = e;
        }
    }
    Shelfline__V1__LineEta *lx = sl_arena_alloc(a, sizeof *lx);
    char *text = sl_arena_alloc(a, SD_ETA_TEXT_MAX);
    if (lx == NULL || text == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    shelfline__v1__line_eta__init(lx);
    lx->line_no = ol->line_no;
    lx->sku = ol->sku;
    lx->promised = ol->promised;
    lx->current = sd_store_eta_range(a, le.ship_date, le.p50, le.p90, le.confidence);
    if (lx->current == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    *out = lx;
    if (worst == NULL)
        return SL_OK;
    sd_line_eta before = {.ship_date = worst->promised_ship,
                          .p50 = worst->promised_p50,
                          .p90 = worst->promised_p90,
                          .confidence = worst->promised_conf};
    lx->moved = worst_eta.p50 != worst->promised_p50 || worst_eta.p90 != worst->promised_p90;
    if (lx->moved)
        st = sd_eta_describe_move(worst_line.warehouse, &before, &worst_eta, worst->delay_reason,
                                  text, SD_ETA_TEXT_MAX, err);
    else
        st = sd_eta_describe_line(&worst_line, &worst_eta, text, SD_ETA_TEXT_MAX, err);
    if (st != SL_OK)
        return st;
    lx->explanation = text;
    if (lx->moved && acc->reason == NULL)
        acc->reason = text;
    return SL_OK;
}

/* The date the order's life fixes, whatever its parts say: a delivered
 * order's delivery date (in its first warehouse's zone), a shipped one's
 * (or one whose delivery failed) carrier's promised date.  Writes the
 * date and its words into *day and text; false when neither applies. */
static bool life_date(sd_app *app, sd_net_snap **snap, const sd_order_rec *rec, sd_date *day,
                      char *text, size_t cap)
{
    const Shelfline__V1__Order *o = rec->order;
    char d[SD_DATE_STR];
    if (strcmp(rec->status, "DELIVERED") == 0 && rec->delivered_at_ms > 0) {
        const sd_warehouse *w =
            rec->n_parts > 0 ? sd_net_find(app->net, snap, rec->parts[0].warehouse_id) : NULL;
        *day = w != NULL ? ms_date(sd_net_zone(*snap, w), rec->delivered_at_ms)
                         : (sd_date)(rec->delivered_at_ms / 86400000LL);
        sd_date_format(*day, d);
        snprintf(text, cap, "delivered on %s", d);
        return true;
    }
    if ((strcmp(rec->status, "SHIPPED") == 0 || strcmp(rec->status, "DELIVERY_FAILED") == 0) &&
        rec->has_carrier_promise) {
        *day = rec->carrier_promised;
        sd_date_format(*day, d);
        snprintf(text, cap, "shipped with %s (tracking %s): the carrier promises delivery on %s",
                 o->carrier, o->tracking, d);
        return true;
    }
    return false;
}

/* An ETA fixed on day: shipped on or before it, delivered on it. */
static Shelfline__V1__EtaRange *fixed_range(sl_arena *a, const Shelfline__V1__EtaRange *computed,
                                            sd_date day)
{
    sd_date ship = day;
    if (computed != NULL && sd_date_parse(computed->ship_date, &ship, NULL) == SL_OK && ship > day)
        ship = day;
    return sd_store_eta_range(a, ship, day, day, SD_CONFIDENCE_HIGH);
}

static bool range_differs(const Shelfline__V1__EtaRange *x, const Shelfline__V1__EtaRange *y)
{
    return x == NULL || y == NULL || strcmp(x->p50_date, y->p50_date) != 0 ||
           strcmp(x->p90_date, y->p90_date) != 0;
}

/* Replaces every computed ETA of out by the life's date (life_date). */
static sl_status apply_life(sl_arena *a, sd_date day, const char *why, Shelfline__V1__OrderEta *out,
                            sl_err *err)
{
    char *text = sl_arena_strdup(a, why);
    if (text == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < out->n_lines; i++) {
        Shelfline__V1__LineEta *lx = out->lines[i];
        if ((lx->current = fixed_range(a, lx->current, day)) == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        lx->moved = range_differs(lx->current, lx->promised);
        lx->explanation = text;
    }
    if ((out->current = fixed_range(a, out->current, day)) == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    out->moved = range_differs(out->current, out->promised);
    out->reason = out->moved ? text : "";
    return SL_OK;
}

/* GetOrderEta:
 *  1. read the order, its lines and parts in one read-only snapshot;
 *  2. take one snapshot of the warehouse network for the whole answer;
 *  3. each line's ETA, recomputed from its parts on today's clock
 *     (line_eta), explained by its latest part;
 *  4. the order's ETA is the latest of all its parts; it moved when its
 *     p50 or p90 differs from the promise, the first moved line's
 *     explanation being the reason;
 *  5. unless its life fixed the date (life_date): delivered, or shipped
 *     with the carrier's promise -- then that date, for every line. */
sl_status sd_orders_eta(sd_app *app, int64_t deadline_ms, sl_arena *a, const char *order_id,
                        Shelfline__V1__OrderEta *out, sl_err *err)
{
    sd_order_rec rec;
    sl_status st = load_order(app, deadline_ms, order_id, a, &rec, err);
    if (st != SL_OK)
        return st;
    const Shelfline__V1__Order *o = rec.order;
    int64_t now = sl_db_now_ms();
    sd_net_snap *snap;
    if ((st = sd_net_acquire(app->net, false, &snap, err)) != SL_OK)
        return st;
    out->order_id = o->order_id;
    out->status = o->status;
    out->promised = o->promised;
    out->slips = rec.slips;
    out->lines = sl_arena_zalloc(a, (o->n_lines + 1) * sizeof *out->lines);
    if (out->lines == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    eta_acc acc = {0};
    for (size_t i = 0; i < o->n_lines && st == SL_OK; i++)
        if ((st = line_eta(app, &snap, &rec, o->lines[i], now, a, &acc, &out->lines[out->n_lines],
                           err)) == SL_OK)
            out->n_lines++;
    if (st == SL_OK && acc.any) {
        out->current = sd_store_eta_range(a, acc.order.ship_date, acc.order.p50, acc.order.p90,
                                          acc.order.confidence);
        if (out->current == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        } else {
            out->moved = acc.order.p50 != rec.promised_p50 ||
                         strcmp(out->current->p90_date, o->promised->p90_date) != 0;
            out->reason = out->moved && acc.reason != NULL ? acc.reason : "";
        }
    }
    sd_date day;
    char why[SD_ETA_TEXT_MAX];
    if (st == SL_OK && life_date(app, &snap, &rec, &day, why, sizeof why))
        st = apply_life(a, day, why, out, err);
    sd_net_release(app->net, snap);
    return st;
}

/* Where qty units of a quoted SKU would come from, as inventory allocates
 * an order line that may split and backorder (inv_alloc.h), from what
 * GetAvailability shows (its warehouses nearest first):
 *  1. the nearest warehouse holding all of them;
 *  2. else several, nearest first, the one holding more first among
 *     equally near ones;
 *  3. the shortfall from the next inbound shipment, if its unallocated
 *     units cover it.
 * For one unit that is the first warehouse with stock, else the next
 * inbound shipment.  The parts go to parts[] (room for n_warehouses + 1);
 * answers their count, 0 (status left as it is) when the region cannot
 * supply qty units. */
/* Among the warehouses not used yet with stock, the nearest (they come
 * nearest first), the one holding more among equally near ones; -1 when
 * none is left. */
static int quote_next_source(const Shelfline__V1__Availability *it, const bool *used)
{
    int best = -1;
    for (size_t j = 0; j < it->n_warehouses; j++) {
        const Shelfline__V1__WarehouseAvailability *wa = it->warehouses[j];
        if (used[j] || wa->available <= 0)
            continue;
        if (best < 0) {
            best = (int)j;
            continue;
        }
        const Shelfline__V1__WarehouseAvailability *b = it->warehouses[best];
        if (wa->transit_p50_days == b->transit_p50_days &&
            wa->transit_p90_days == b->transit_p90_days && wa->available > b->available)
            best = (int)j;
    }
    return best;
}

static size_t quote_parts(const Shelfline__V1__Availability *it, int64_t qty, sd_part *parts,
                          bool *used, Shelfline__V1__QuoteStatus *status)
{
    for (size_t j = 0; j < it->n_warehouses; j++) {
        const Shelfline__V1__WarehouseAvailability *wa = it->warehouses[j];
        if (wa->available >= qty) {
            *status = SHELFLINE__V1__QUOTE_STATUS__QUOTE_IN_STOCK;
            parts[0] = (sd_part){.warehouse_id = wa->warehouse_id,
                                 .qty = qty,
                                 .inbound_id = "",
                                 .transit_p50 = wa->transit_p50_days,
                                 .transit_p90 = wa->transit_p90_days};
            return 1;
        }
        used[j] = false;
    }
    size_t n = 0;
    int64_t left = qty;
    for (int j; left > 0 && (j = quote_next_source(it, used)) >= 0;) {
        const Shelfline__V1__WarehouseAvailability *wa = it->warehouses[j];
        int64_t take = wa->available < left ? wa->available : left;
        used[j] = true;
        parts[n++] = (sd_part){.warehouse_id = wa->warehouse_id,
                               .qty = take,
                               .inbound_id = "",
                               .transit_p50 = wa->transit_p50_days,
                               .transit_p90 = wa->transit_p90_days};
        left -= take;
    }
    if (left == 0) {
        *status = SHELFLINE__V1__QUOTE_STATUS__QUOTE_IN_STOCK;
        return n;
    }
    const Shelfline__V1__NextInbound *ni = it->next_inbound;
    for (size_t j = 0; ni != NULL && ni->qty >= left && j < it->n_warehouses; j++) {
        const Shelfline__V1__WarehouseAvailability *wa = it->warehouses[j];
        if (strcmp(wa->warehouse_id, ni->warehouse_id) == 0) {
            parts[n++] = (sd_part){.warehouse_id = wa->warehouse_id,
                                   .qty = left,
                                   .inbound_id = ni->inbound_id,
                                   .expected_ms = ni->expected_at_ms,
                                   .transit_p50 = wa->transit_p50_days,
                                   .transit_p90 = wa->transit_p90_days};
            *status = SHELFLINE__V1__QUOTE_STATUS__QUOTE_BACKORDER;
            return n;
        }
    }
    return 0;
}

/* The quote of one SKU of qty units into q: its parts' ETAs, the latest
 * of them (as an order line's ETA is its latest part) described. */
static sl_status quote_one(sd_app *app, sd_net_snap **snap, sl_arena *a,
                           const Shelfline__V1__Availability *it, int64_t qty, int64_t at,
                           int64_t now, Shelfline__V1__SkuQuote *q, sl_err *err)
{
    shelfline__v1__sku_quote__init(q);
    q->sku = it->sku;
    q->qty = qty;
    q->available = it->available;
    q->status = SHELFLINE__V1__QUOTE_STATUS__QUOTE_OUT_OF_STOCK;
    q->explanation = "out of stock in this region, with no inbound shipment to wait for";
    sd_part *parts = sl_arena_alloc(a, (it->n_warehouses + 1) * sizeof *parts);
    bool *used = sl_arena_alloc(a, it->n_warehouses + 1);
    char *text = sl_arena_alloc(a, SD_ETA_TEXT_MAX);
    if (parts == NULL || used == NULL || text == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    size_t n = quote_parts(it, qty, parts, used, &q->status);
    if (n == 0) {
        if (it->available > 0 || it->next_inbound != NULL) {
            snprintf(text, SD_ETA_TEXT_MAX,
                     "not enough in this region for %" PRId64 " units: %" PRId64
                     " in stock, %" PRId64 " on the next inbound shipment",
                     qty, it->available, it->next_inbound ? it->next_inbound->qty : 0);
            q->explanation = text;
        }
        return SL_OK;
    }
    sl_status st;
    sd_eta_line line, last_line;
    sd_line_eta e, last;
    size_t li = 0;
    for (size_t i = 0; i < n; i++) {
        if ((st = part_line(app, snap, &parts[i], &line, err)) != SL_OK ||
            (st = sd_eta_compute_line(&line, at, now, &e, err)) != SL_OK)
            return st;
        if (i == 0 || e.p90 > last.p90 || (e.p90 == last.p90 && e.p50 > last.p50)) {
            last = e;
            last_line = line;
            li = i;
        }
    }
    if ((st = sd_eta_describe_line(&last_line, &last, text, SD_ETA_TEXT_MAX, err)) != SL_OK)
        return st;
    q->eta = sd_store_eta_range(a, last.ship_date, last.p50, last.p90, last.confidence);
    if (q->eta == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    q->warehouse_id = (char *)parts[li].warehouse_id;
    q->explanation = text;
    return SL_OK;
}

sl_status sd_orders_quote(sd_app *app, sl_call *call, sl_arena *a, const char *region, char **skus,
                          const int64_t *qty, size_t n_skus, int64_t at, int64_t timeout_ms,
                          Shelfline__V1__QuoteEtaResponse *out, sl_err *err)
{
    sl_status st;
    int64_t now = sl_db_now_ms();
    Shelfline__V1__GetAvailabilityRequest gr = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
    gr.skus = skus;
    gr.n_skus = n_skus;
    gr.region = (char *)region;
    ProtobufCMessage *m;
    sl_call_options policy = {.timeout_ms = timeout_ms, .idempotent = true};
    if ((st = sl_client_call_from(
             call, app->inventory, "/shelfline.v1.InventoryService/GetAvailability", &gr.base,
             &shelfline__v1__get_availability_response__descriptor, a, &m, &policy, err)) != SL_OK)
        return st;
    const Shelfline__V1__GetAvailabilityResponse *av = (const void *)m;
    sd_net_snap *snap;
    if ((st = sd_net_acquire(app->net, false, &snap, err)) != SL_OK)
        return st;
    out->region = (char *)region;
    out->quotes = sl_arena_zalloc(a, (av->n_items + 1) * sizeof *out->quotes);
    if (out->quotes == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    /* inventory answers one item per SKU, in request order */
    for (size_t i = 0; i < av->n_items && st == SL_OK; i++) {
        Shelfline__V1__SkuQuote *q = sl_arena_alloc(a, sizeof *q);
        int64_t units = qty != NULL && i < n_skus && qty[i] > 0 ? qty[i] : 1;
        if (q == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        else if ((st = quote_one(app, &snap, a, av->items[i], units, at, now, q, err)) == SL_OK)
            out->quotes[out->n_quotes++] = q;
    }
    sd_net_release(app->net, snap);
    return st;
}
