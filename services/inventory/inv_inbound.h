/*
 * inv_inbound: inbound shipments -- purchase orders and transfers -- and
 * the backorders waiting on them.
 *
 * An inbound has qty units, of which `received` arrived; of the rest
 * (open), `backordered` are promised to reservations (allocation parts
 * with awaiting > 0).  A receipt adds to on_hand (INBOUND_RECEIPT) and
 * fulfils backorders oldest first: a held part's units become reserved
 * stock, a committed part's units ship at once (SHIPMENT).  The table
 * constraint backordered <= qty - received keeps promises within what is
 * still expected.
 *
 * Each function is a transaction body (run it in sl_db_tx); it takes the
 * SKU's lock first (inv_tx) and validates against the database before
 * writing.
 */
#ifndef INV_INBOUND_H
#define INV_INBOUND_H

#include <stddef.h>
#include <stdint.h>

#include "inv_store.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_arena.h"
#include "sl_db.h"
#include "sl_events.h"
#include "sl_status.h"

/* An Inbound message of a row and its delays (arena memory). */
Shelfline__V1__Inbound *inv_inbound_proto(sl_arena *a, const inv_inbound_row *r,
                                          Shelfline__V1__InboundDelay **delays, size_t nd);

/* GetInbound: *out NULL when unknown. */
sl_status inv_inbound_get(sl_db_conn *conn, sl_arena *a, const char *id,
                          Shelfline__V1__Inbound **out, sl_err *err);

/* CreateInbound (validated; canon its canonical bytes): idempotent by id. */
sl_status inv_inbound_create(sl_db_conn *conn, sl_events *events, sl_arena *a,
                             const sl_audit *audit, const Shelfline__V1__CreateInboundRequest *req,
                             const uint8_t *canon, size_t canon_len, Shelfline__V1__Inbound **out,
                             sl_err *err);

/* DelayInbound: the same delay again changes nothing. */
sl_status inv_inbound_delay(sl_db_conn *conn, sl_events *events, sl_arena *a, const sl_audit *audit,
                            const Shelfline__V1__DelayInboundRequest *req,
                            Shelfline__V1__Inbound **out, sl_err *err);

/* ReceiveInbound: fills resp (the handler's reply); idempotent by
 * receipt_id. */
sl_status inv_inbound_receive(sl_db_conn *conn, sl_events *events, sl_arena *a,
                              const sl_audit *audit,
                              const Shelfline__V1__ReceiveInboundRequest *req, const uint8_t *canon,
                              size_t canon_len, Shelfline__V1__ReceiveInboundResponse *resp,
                              sl_err *err);

/* Transfer: fills resp; idempotent by transfer_id. */
sl_status inv_inbound_transfer(sl_db_conn *conn, sl_events *events, sl_arena *a,
                               const sl_audit *audit, const Shelfline__V1__TransferRequest *req,
                               const uint8_t *canon, size_t canon_len,
                               Shelfline__V1__TransferResponse *resp, sl_err *err);

#endif
