/*
 * sd_api_orders: the order and ETA RPCs -- PlaceOrder, ConfirmPayment,
 * CancelOrder, UpdateShipment, GetOrder, ListOrders, GetOrderEta,
 * ListEtaChanges, QuoteEta.  Each validates (sd_valid), calls the domain (sd_orders) and
 * fills the reply.
 */
#include <stdio.h>

#include "sd_api.h"
#include "sd_orders.h"
#include "sd_store.h"
#include "sd_valid.h"
#include "sl_page.h"

sl_status sd_api_place_order(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                             sl_err *err)
{
    const Shelfline__V1__PlaceOrderRequest *r = (const void *)req;
    int64_t now = sl_db_now_ms();
    sl_status st = sd_valid_place_order(r, now, err);
    return st != SL_OK ? st : sd_orders_place(call, r, now, (void *)resp, err);
}

sl_status sd_api_confirm_payment(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err)
{
    const Shelfline__V1__ConfirmPaymentRequest *r = (const void *)req;
    sl_status st = sd_valid_id("order_id", r->order_id, err);
    return st != SL_OK ? st : sd_orders_confirm_payment(call, r, (void *)resp, err);
}

sl_status sd_api_cancel_order(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    const Shelfline__V1__CancelOrderRequest *r = (const void *)req;
    sl_status st = sd_valid_cancel_order(r, err);
    return st != SL_OK ? st : sd_orders_cancel(call, r, (void *)resp, err);
}

sl_status sd_api_update_shipment(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err)
{
    const Shelfline__V1__UpdateShipmentRequest *r = (const void *)req;
    sl_status st = sd_valid_update_shipment(r, err);
    return st != SL_OK ? st : sd_orders_ship(call, r, (void *)resp, err);
}

sl_status sd_api_get_order(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err)
{
    const Shelfline__V1__GetOrderRequest *r = (const void *)req;
    Shelfline__V1__Order *o;
    sl_status st = sd_valid_id("order_id", r->order_id, err);
    if (st != SL_OK || (st = sd_orders_get(sl_call_ctx(call), sl_call_deadline_ms(call),
                                           sl_call_arena(call), r->order_id, &o, err)) != SL_OK)
        return st;
    *(Shelfline__V1__Order *)resp = *o;
    return SL_OK;
}

sl_status sd_api_list_orders(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                             sl_err *err)
{
    const Shelfline__V1__ListOrdersRequest *r = (const void *)req;
    int64_t size;
    char ms[24];
    const char *after_ms, *after_id;
    sl_status st = sd_valid_list_orders(r, &size, ms, &after_ms, &after_id, err);
    if (st != SL_OK)
        return st;
    return sd_orders_list(sl_call_ctx(call), sl_call_deadline_ms(call), sl_call_arena(call),
                          r->customer_id, size, after_ms, after_id, (void *)resp, err);
}

sl_status sd_api_get_order_eta(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                               sl_err *err)
{
    const Shelfline__V1__GetOrderEtaRequest *r = (const void *)req;
    sl_status st = sd_valid_id("order_id", r->order_id, err);
    if (st != SL_OK)
        return st;
    return sd_orders_eta(sl_call_ctx(call), sl_call_deadline_ms(call), sl_call_arena(call),
                         r->order_id, (void *)resp, err);
}

sl_status sd_api_list_eta_changes(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__ListEtaChangesRequest *r = (const void *)req;
    Shelfline__V1__ListEtaChangesResponse *out = (void *)resp;
    sl_arena *a = sl_call_arena(call);
    int limit, after_slip;
    bool more;
    sl_status st = sd_valid_list_eta_changes(r, &limit, &after_slip, err);
    if (st != SL_OK ||
        (st = sd_store_eta_changes(app->db, sl_call_deadline_ms(call), r->order_id, after_slip,
                                   limit, a, &out->changes, &out->n_changes, &more, err)) != SL_OK)
        return st;
    if (more) {
        char key[16];
        snprintf(key, sizeof key, "%d", (int)out->changes[out->n_changes - 1]->slip_no);
        if ((out->next_page_token = sl_page_token_encode(a, key)) == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    return SL_OK;
}

sl_status sd_api_quote_eta(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__QuoteEtaRequest *r = (const void *)req;
    int64_t now = sl_db_now_ms();
    sl_status st = sd_valid_quote_eta(r, now, err);
    if (st != SL_OK)
        return st;
    return sd_orders_quote(app, call, sl_call_arena(call), r->region, r->skus,
                           r->n_quantities > 0 ? r->quantities : NULL, r->n_skus,
                           r->at_ms != 0 ? r->at_ms : now, app->cfg.inventory_timeout_ms,
                           (void *)resp, err);
}
