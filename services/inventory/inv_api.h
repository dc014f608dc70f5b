/*
 * inv_api: the gRPC handlers of shelfline.v1.InventoryService (one per RPC,
 * listed in inv_service.c's method table) and the helpers they share.
 *
 * Each handler: validates its request (inv_valid; the dispatcher already
 * decoded it and checked size and deadline), maps it to the domain
 * modules (inv_reserve, inv_resv, inv_promo, inv_inbound, inv_store),
 * runs the work in one transaction bounded by the call's deadline, and
 * fills the reply.  Statuses become gRPC codes in the dispatcher only.
 * Memory is the call's arena.
 */
#ifndef INV_API_H
#define INV_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inv_app.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_server.h"
#include "sl_service.h"

/* The handlers, each named in full in inv_service.c's method table. */

/* catalogue and network (inv_api_catalog.c) */
sl_status inv_api_create_product(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err);
sl_status inv_api_update_product(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err);
sl_status inv_api_get_product(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err);
sl_status inv_api_list_products(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err);
sl_status inv_api_create_warehouse(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_update_warehouse(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_set_warehouse_calendar(sl_call *call, const ProtobufCMessage *req,
                                         ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_get_warehouse(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err);
sl_status inv_api_list_warehouses(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_create_transit_time(sl_call *call, const ProtobufCMessage *req,
                                      ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_update_transit_time(sl_call *call, const ProtobufCMessage *req,
                                      ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_get_transit_time(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_list_transit_times(sl_call *call, const ProtobufCMessage *req,
                                     ProtobufCMessage *resp, sl_err *err);

/* stock (inv_api_stock.c) */
sl_status inv_api_adjust_stock(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                               sl_err *err);
sl_status inv_api_set_stock_count(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_set_stock_policy(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_get_stock(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err);
sl_status inv_api_get_average_stock(sl_call *call, const ProtobufCMessage *req,
                                    ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_get_stock_feed(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err);
sl_status inv_api_get_availability(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_list_low_stock(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err);
sl_status inv_api_check_invariants(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err);

/* reservations and promotions (inv_api_reserve.c) */
sl_status inv_api_reserve(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err);
sl_status inv_api_commit(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                         sl_err *err);
sl_status inv_api_release(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err);
sl_status inv_api_get_reservation(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_create_promotion(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_get_promotion(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err);

/* stock fences (inv_api_fence.c) */
sl_status inv_api_create_stock_fence(sl_call *call, const ProtobufCMessage *req,
                                     ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_get_stock_fence(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_list_stock_fences(sl_call *call, const ProtobufCMessage *req,
                                    ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_set_stock_fence_eligibility(sl_call *call, const ProtobufCMessage *req,
                                              ProtobufCMessage *resp, sl_err *err);

/* inbound (inv_api_inbound.c) */
sl_status inv_api_create_inbound(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err);
sl_status inv_api_delay_inbound(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err);
sl_status inv_api_receive_inbound(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err);
sl_status inv_api_transfer(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err);
sl_status inv_api_get_inbound(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err);
sl_status inv_api_list_inbound(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                               sl_err *err);

/* ---- audit (inv_api_ledger.c) ---- */

sl_status inv_api_list_ledger(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err);

/* ---- shared helpers (inv_api.c) ---- */

/* Runs tx over ctx in one transaction of the service's pool with those
 * options (read-only for gets and lists); returns what sl_db_tx returns. */
sl_status inv_api_tx(sl_call *call, bool read_only, sl_db_tx_fn tx, void *ctx, sl_err *err);

/* The decoded page token of a list request into after (empty on the first
 * page); INVALID_ARGUMENT when it is not a token of ours. */
sl_status inv_api_page_after(const Shelfline__V1__PageRequest *page, char *after, size_t cap,
                             sl_err *err);

/* Two-part page keys "x\x1fy" (for lists ordered by two columns).
 * inv_api_split_key splits a decoded key in place into *x and *y (both
 * pointing into key; an empty key gives two empty parts), INVALID_ARGUMENT
 * when a non-empty key has no separator.  inv_api_two_part_key builds one
 * in the arena (NULL when out of memory). */
sl_status inv_api_split_key(char *key, const char **x, const char **y, sl_err *err);
char *inv_api_two_part_key(sl_arena *a, const char *x, const char *y);

/* The packed bytes of m in the call's arena (NULL when out of memory). */
const uint8_t *inv_api_pack(sl_call *call, const ProtobufCMessage *m, size_t *len);

/* Whether two messages of one type pack to the same bytes. */
bool inv_api_same(sl_call *call, const ProtobufCMessage *x, const ProtobufCMessage *y);

/* NOT_FOUND naming field unless the warehouse exists. */
sl_status inv_api_need_warehouse(sl_db_conn *conn, sl_arena *a, const char *field, const char *id,
                                 sl_err *err);

/* NOT_FOUND naming "sku" unless the SKU exists, or "warehouse_id" unless
 * wh is empty or exists: the filters of GetStock and ListLedger. */
sl_status inv_api_need_sku_wh(sl_db_conn *conn, sl_arena *a, const char *sku, const char *wh,
                              sl_err *err);

#endif
