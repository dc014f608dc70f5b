/*
 * inv_valid: syntactic validation of the inventory service's requests.
 *
 * Pure functions (no I/O, no allocation beyond the caller's arena), so that
 * every rule is unit-tested without a database.  Each check returns SL_OK or
 * SL_INVALID_ARGUMENT with a message naming the field the way the client
 * wrote it, e.g. "lines[2].qty must be positive (got 0)".  Checks that need
 * the database (does the SKU exist, is the region served) are done by the
 * handlers, before any write, and answer NOT_FOUND / INVALID_ARGUMENT.
 *
 * Limits are the public ones documented in inventory.proto.
 */
#ifndef INV_VALID_H
#define INV_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shelfline/v1/inventory.pb-c.h"
#include "sl_arena.h"
#include "sl_page.h"
#include "sl_status.h"
#include "sl_valid.h"

#define INV_MAX_LINES 100
#define INV_MAX_AVAIL_SKUS 1000
#define INV_MAX_QTY_LINE 1000000
#define INV_MAX_QTY 1000000000LL
#define INV_DEFAULT_HOLD_MS (15 * 60 * 1000LL)
#define INV_MAX_HOLD_MS (7 * 24 * 3600 * 1000LL)
#define INV_MAX_TEXT 200
#define INV_MAX_TAGS 16
#define INV_MAX_FENCE_MEMBERS 1000
#define INV_MAX_HOLIDAYS 1000

/* What kind of identifier a string must be: the suite's grammar
 * (sl_valid.h) under inventory's names.
 *   SKU        1..64  of A-Z a-z 0-9 . _ -
 *   WAREHOUSE  1..32  of A-Z a-z 0-9 . _ -
 *   REGION     1..32  of A-Z 0-9 _ -, starting with a letter
 *   KEY        1..64  of A-Z a-z 0-9 . _ - : / (ids and idempotency keys) */
typedef sl_id_kind inv_id_kind;
#define INV_ID_SKU SL_ID
#define INV_ID_WAREHOUSE SL_ID_SHORT
#define INV_ID_REGION SL_ID_REGION
#define INV_ID_KEY SL_ID_KEY

/* True when s is a well-formed identifier of kind. */
bool inv_id_ok(const char *s, inv_id_kind kind);

/* INVALID_ARGUMENT naming field unless value is a well-formed identifier
 * ("field must not be empty" for an empty one). */
sl_status inv_valid_id(const char *field, const char *value, inv_id_kind kind, sl_err *err);

/* As inv_valid_id, but an empty value is accepted (an optional filter). */
sl_status inv_valid_opt_id(const char *field, const char *value, inv_id_kind kind, sl_err *err);

/* Free text of min..max bytes of valid UTF-8 without control characters. */
sl_status inv_valid_text(const char *field, const char *value, size_t min, size_t max, sl_err *err);

/* "HH:MM" (00:00..23:59) into minutes after midnight. */
sl_status inv_valid_cutoff(const char *field, const char *value, int *minutes, sl_err *err);

/* Formats minutes after midnight as "HH:MM" into buf (at least 6 bytes). */
void inv_format_cutoff(int minutes, char *buf);

/* A Money: present, minor_units >= 0, currency three upper-case letters. */
sl_status inv_valid_money(const char *field, const Shelfline__V1__Money *m, sl_err *err);

/* Paging: sl_page.h. */

/* ---- whole requests: every syntactic rule of each RPC ---- */

sl_status inv_valid_product(const Shelfline__V1__Product *p, sl_err *err);
sl_status inv_valid_warehouse(const Shelfline__V1__Warehouse *w, int *cutoff_minutes, sl_err *err);
/* SetWarehouseCalendar: warehouse_id; ship_weekdays, at least one, each
 * a weekday once, into *mask (bit 0 Monday .. bit 6 Sunday); holidays, at
 * most INV_MAX_HOLIDAYS dates "YYYY-MM-DD". */
sl_status inv_valid_calendar(const Shelfline__V1__SetWarehouseCalendarRequest *r, unsigned *mask,
                             sl_err *err);
sl_status inv_valid_transit(const Shelfline__V1__TransitTime *t, sl_err *err);
sl_status inv_valid_adjust(const Shelfline__V1__AdjustStockRequest *r, sl_err *err);
sl_status inv_valid_count(const Shelfline__V1__SetStockCountRequest *r, sl_err *err);
sl_status inv_valid_policy(const Shelfline__V1__SetStockPolicyRequest *r, sl_err *err);
sl_status inv_valid_availability(const Shelfline__V1__GetAvailabilityRequest *r, sl_err *err);
/* GetAverageStock: skus, warehouse_id, the window; *to_ms receives the
 * window's end (now_ms when to_at_ms is 0). */
sl_status inv_valid_average_stock(const Shelfline__V1__GetAverageStockRequest *r, int64_t now_ms,
                                  int64_t *to_ms, sl_err *err);
sl_status inv_valid_reserve(const Shelfline__V1__ReserveRequest *r, sl_err *err);
sl_status inv_valid_promotion(const Shelfline__V1__Promotion *p, sl_err *err);
/* CreateStockFence: ids, exactly one of warehouse_id and region, qty,
 * segment (an id), the window (start > 0, end after it). */
sl_status inv_valid_stock_fence(const Shelfline__V1__StockFence *f, sl_err *err);
/* SetStockFenceEligibility: fence_id, segment, up to
 * INV_MAX_FENCE_MEMBERS customer ids (Reserve's customer_id grammar). */
sl_status inv_valid_fence_eligibility(const Shelfline__V1__SetStockFenceEligibilityRequest *r,
                                      sl_err *err);
sl_status inv_valid_inbound(const Shelfline__V1__CreateInboundRequest *r, sl_err *err);
sl_status inv_valid_delay(const Shelfline__V1__DelayInboundRequest *r, sl_err *err);
sl_status inv_valid_receive(const Shelfline__V1__ReceiveInboundRequest *r, sl_err *err);
sl_status inv_valid_transfer(const Shelfline__V1__TransferRequest *r, sl_err *err);

/* ---- the method table's validate slots (inv_service.c): the whole-request
 * checks above as the dispatcher calls them, before the handler ---- */

sl_status inv_valid_adjust_request(const ProtobufCMessage *req, sl_err *err);
sl_status inv_valid_count_request(const ProtobufCMessage *req, sl_err *err);
/* ListLedger: sku required, warehouse_id optional, page size and token. */
sl_status inv_valid_ledger_request(const ProtobufCMessage *req, sl_err *err);
sl_status inv_valid_policy_request(const ProtobufCMessage *req, sl_err *err);
sl_status inv_valid_availability_request(const ProtobufCMessage *req, sl_err *err);
sl_status inv_valid_reserve_request(const ProtobufCMessage *req, sl_err *err);
sl_status inv_valid_inbound_request(const ProtobufCMessage *req, sl_err *err);
sl_status inv_valid_delay_request(const ProtobufCMessage *req, sl_err *err);
sl_status inv_valid_receive_request(const ProtobufCMessage *req, sl_err *err);
sl_status inv_valid_transfer_request(const ProtobufCMessage *req, sl_err *err);

#endif
