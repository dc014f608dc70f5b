/*
 * sd_orders: orders and ETAs, the domain behind sd_api_orders.c.  Each
 * function takes a request sd_valid.h has checked; those that call
 * inventory take the call (its deadline bounds theirs, its request id
 * travels on, inventory's ReserveShortfall details go back to the caller).
 * Messages are arena memory.
 */
#ifndef SD_ORDERS_H
#define SD_ORDERS_H

#include <stdint.h>

#include "sd_app.h"

/* PlaceOrder (see the protocol at the top of sd_orders.c). */
sl_status sd_orders_place(sl_call *call, const Shelfline__V1__PlaceOrderRequest *r, int64_t now,
                          Shelfline__V1__PlaceOrderResponse *out, sl_err *err);

/* ConfirmPayment: Commit in inventory, then PLACED -> PAID with
 * ORDER_PAID; a paid order is answered unchanged. */
sl_status sd_orders_confirm_payment(sl_call *call, const Shelfline__V1__ConfirmPaymentRequest *r,
                                    Shelfline__V1__Order *out, sl_err *err);

/* CancelOrder: Release in inventory, then PLACED -> CANCELLED with
 * ORDER_CANCELLED; a cancelled order is answered unchanged. */
sl_status sd_orders_cancel(sl_call *call, const Shelfline__V1__CancelOrderRequest *r,
                           Shelfline__V1__Order *out, sl_err *err);

/* UpdateShipment: one step of the shipment's state machine. */
sl_status sd_orders_ship(sl_call *call, const Shelfline__V1__UpdateShipmentRequest *r,
                         Shelfline__V1__Order *out, sl_err *err);

/* The order as stored; NOT_FOUND naming the id. */
sl_status sd_orders_get(sd_app *app, int64_t deadline_ms, sl_arena *a, const char *order_id,
                        Shelfline__V1__Order **out, sl_err *err);

/* One page of size orders of the customer after (after_ms, after_id)
 * (NULL for the first page), in one snapshot. */
sl_status sd_orders_list(sd_app *app, int64_t deadline_ms, sl_arena *a, const char *customer_id,
                         int64_t size, const char *after_ms, const char *after_id,
                         Shelfline__V1__ListOrdersResponse *out, sl_err *err);

/* The ETA of order_id now, as GetOrderEta answers it (arena memory); the
 * order is read in one read-only transaction within deadline_ms (as
 * sl_call_deadline_ms; 0: none).  NOT_FOUND naming the id. */
sl_status sd_orders_eta(sd_app *app, int64_t deadline_ms, sl_arena *a, const char *order_id,
                        Shelfline__V1__OrderEta *out, sl_err *err);

/* QuoteEta's answer for n_skus (1..100, validated) SKUs in region as if
 * ordered at `at`, qty[i] units of skus[i] (qty NULL, or a 0 in it: 1):
 * one GetAvailability call made while serving call, with timeout_ms at
 * most (arena memory).  Fails with inventory's status. */
sl_status sd_orders_quote(sd_app *app, sl_call *call, sl_arena *a, const char *region, char **skus,
                          const int64_t *qty, size_t n_skus, int64_t at, int64_t timeout_ms,
                          Shelfline__V1__QuoteEtaResponse *out, sl_err *err);

#endif
