/*
 * fc_consume: applying inventory's events (sl_consumer_fn, started in
 * fc_service.c) -- sales from RESERVATION_COMMITTED, stock-out days from
 * OUT_OF_STOCK to BACK_IN_STOCK (every day of it, not only the first),
 * suppliers' receipts from INBOUND_RECEIVED -- each in the
 * consumer's transaction, so an event and its effect commit together.
 *
 * A payload that does not decode is skipped, loudly: retrying cannot fix
 * it, and it must not stall the subscription for ever.
 */
#include <string.h>

#include "fc_app.h"
#include "fc_valid.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_log.h"

static sl_status apply_committed(fc_app *app, sl_db_conn *conn, const Shelfline__V1__Event *ev,
                                 sl_err *err)
{
    Shelfline__V1__ReservationEvent *re =
        shelfline__v1__reservation_event__unpack(NULL, ev->payload.len, ev->payload.data);
    if (re == NULL || re->reservation == NULL) {
        /* Retrying cannot fix a payload that does not decode: skip it,
         * loudly, rather than stall the subscription for ever. */
        SL_LOG(SL_LOG_ERROR, "event_skipped", NULL,
               "could not decode RESERVATION_COMMITTED event %lld: skipped", (long long)ev->id);
        if (re != NULL)
            shelfline__v1__reservation_event__free_unpacked(re, NULL);
        return SL_OK;
    }
    const Shelfline__V1__Reservation *res = re->reservation;
    int64_t at = res->closed_at_ms > 0 ? res->closed_at_ms : ev->created_at_ms;
    int32_t day = (int32_t)(at / 86400000LL);
    sl_status st = SL_OK;
    for (size_t i = 0; i < res->n_lines && st == SL_OK; i++)
        if (res->lines[i]->qty > 0)
            st = fc_store_sales_add(conn, res->lines[i]->sku, res->region, day, res->lines[i]->qty,
                                    err);
    if (st == SL_OK && day == fc_day_today()) {
        sl_arena *a = sl_arena_create(0);
        if (a == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        for (size_t i = 0; i < res->n_lines && st == SL_OK; i++) {
            sl_err e2;
            sl_status cs =
                fc_alert_check_sales(app, conn, res->lines[i]->sku, res->region, a, NULL, &e2);
            sl_arena_reset(a);
            if (cs == SL_OK)
                continue;
            /* A database failure aborted the transaction: retry the event.
             * Anything else (the engine refusing a series) must not stall
             * the sales feed: the sale is recorded, the check is skipped. */
            if (cs == SL_UNAVAILABLE || sl_db_conn_sqlstate(conn)[0] != '\0') {
                if (err != NULL)
                    *err = e2;
                st = cs;
            } else {
                SL_LOG(SL_LOG_WARN, "alert_check_failed", NULL,
                       "could not check sales of \"%s\" in \"%s\" against the forecast: %s",
                       res->lines[i]->sku, res->region, e2.msg);
            }
        }
        sl_arena_destroy(a);
    }
    shelfline__v1__reservation_event__free_unpacked(re, NULL);
    return st;
}

/* OUT_OF_STOCK flags its day and opens a stock-out; BACK_IN_STOCK closes
 * it, flagging every day it lasted (fc_store_stockout_close). */
static sl_status apply_stock_crossing(sl_db_conn *conn, const Shelfline__V1__Event *ev, bool out,
                                      sl_err *err)
{
    Shelfline__V1__RegionStockAlert *ra =
        shelfline__v1__region_stock_alert__unpack(NULL, ev->payload.len, ev->payload.data);
    if (ra == NULL) {
        SL_LOG(SL_LOG_ERROR, "event_skipped", NULL, "could not decode %s event %lld: skipped",
               ev->topic, (long long)ev->id);
        return SL_OK;
    }
    int32_t day = (int32_t)(ev->created_at_ms / 86400000LL);
    sl_status st;
    if (out) {
        st = fc_store_stockout(conn, ra->sku, ra->region, day, "inventory", err);
        if (st == SL_OK)
            st = fc_store_stockout_open(conn, ra->sku, ra->region, day, err);
    } else {
        st = fc_store_stockout_close(conn, ra->sku, ra->region, day, err);
    }
    shelfline__v1__region_stock_alert__free_unpacked(ra, NULL);
    return st;
}

/* A purchase order's receipt: its lead time, learned for plans
 * (fc_leadtime.c).  Transfers are not a supplier's lead time (their
 * transit is inventory's transit times). */
static sl_status apply_inbound_received(sl_db_conn *conn, const Shelfline__V1__Event *ev,
                                        sl_err *err)
{
    Shelfline__V1__InboundReceived *ir =
        shelfline__v1__inbound_received__unpack(NULL, ev->payload.len, ev->payload.data);
    if (ir == NULL || ir->inbound == NULL) {
        SL_LOG(SL_LOG_ERROR, "event_skipped", NULL,
               "could not decode INBOUND_RECEIVED event %lld: skipped", (long long)ev->id);
        if (ir != NULL)
            shelfline__v1__inbound_received__free_unpacked(ir, NULL);
        return SL_OK;
    }
    const Shelfline__V1__Inbound *in = ir->inbound;
    sl_status st = SL_OK;
    if (in->kind == SHELFLINE__V1__INBOUND__KIND__PURCHASE_ORDER && in->supplier[0] != '\0' &&
        in->created_at_ms > 0)
        st = fc_store_receipt(
            conn, in->inbound_id, in->supplier, in->warehouse_id, in->sku, in->created_at_ms,
            in->original_expected_at_ms > 0 ? in->original_expected_at_ms : in->expected_at_ms,
            ev->created_at_ms, ir->qty, err);
    shelfline__v1__inbound_received__free_unpacked(ir, NULL);
    return st;
}

sl_status fc_apply_inventory_event(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx,
                                   sl_err *err)
{
    if (strcmp(ev->topic, "INBOUND_RECEIVED") == 0)
        return apply_inbound_received(conn, ev, err);
    if (strcmp(ev->topic, "RESERVATION_COMMITTED") == 0)
        return apply_committed(ctx, conn, ev, err);
    if (strcmp(ev->topic, "OUT_OF_STOCK") == 0)
        return apply_stock_crossing(conn, ev, true, err);
    if (strcmp(ev->topic, "BACK_IN_STOCK") == 0)
        return apply_stock_crossing(conn, ev, false, err);
    return SL_OK;
}
