/*
 * inv_inbound: purchase orders, transfers, delays and receipts (see
 * inv_inbound.h).
 */
#include "inv_inbound.h"

#include <string.h>

#include "inv_tx.h"

#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")
#define DAY_MS (24 * 3600 * 1000LL)

Shelfline__V1__Inbound *inv_inbound_proto(sl_arena *a, const inv_inbound_row *r,
                                          Shelfline__V1__InboundDelay **delays, size_t nd)
{
    Shelfline__V1__Inbound *x = sl_arena_alloc(a, sizeof *x);
    if (x == NULL)
        return NULL;
    shelfline__v1__inbound__init(x);
    x->inbound_id = (char *)r->id;
    x->kind = strcmp(r->kind, "TRANSFER") == 0 ? SHELFLINE__V1__INBOUND__KIND__TRANSFER
                                               : SHELFLINE__V1__INBOUND__KIND__PURCHASE_ORDER;
    x->sku = (char *)r->sku;
    x->warehouse_id = (char *)r->warehouse_id;
    x->source_warehouse_id = (char *)r->source_warehouse_id;
    x->supplier = (char *)r->supplier;
    x->reference = (char *)r->reference;
    x->qty = r->qty;
    x->received = r->received;
    x->backordered = r->backordered;
    x->open_qty = r->qty - r->received;
    x->unallocated = r->qty - r->received - r->backordered;
    x->expected_at_ms = r->expected_ms;
    x->original_expected_at_ms = r->original_ms;
    x->closed = r->received >= r->qty;
    x->delays = delays;
    x->n_delays = nd;
    x->created_at_ms = r->created_ms;
    return x;
}

sl_status inv_inbound_get(sl_db_conn *conn, sl_arena *a, const char *id,
                          Shelfline__V1__Inbound **out, sl_err *err)
{
    *out = NULL;
    inv_inbound_row *r;
    sl_status st = inv_store_inbound_get(conn, a, id, &r, err);
    if (st != SL_OK || r == NULL)
        return st;
    Shelfline__V1__InboundDelay **d;
    size_t nd;
    st = inv_store_inbound_delays(conn, a, id, &d, &nd, err);
    if (st != SL_OK)
        return st;
    *out = inv_inbound_proto(a, r, d, nd);
    return *out != NULL ? SL_OK : OOM(err);
}

/* NOT_FOUND naming field unless the warehouse exists; its region into
 * *region (may be NULL). */
static sl_status need_warehouse(sl_db_conn *conn, sl_arena *a, const char *field, const char *id,
                                const char **region, sl_err *err)
{
    inv_wh_row *w;
    size_t n;
    const char *ids[1] = {id};
    sl_status st = inv_store_warehouses(conn, a, ids, 1, &w, &n, err);
    if (st != SL_OK)
        return st;
    if (n == 0)
        return sl_err_reason(err, SL_NOT_FOUND, "WAREHOUSE_NOT_FOUND",
                             "%s: unknown warehouse \"%s\"", field, id);
    if (region != NULL)
        *region = w[0].region;
    return SL_OK;
}

static sl_status publish_created(sl_db_conn *conn, sl_events *events, const char *sku,
                                 Shelfline__V1__Inbound *in, sl_err *err)
{
    Shelfline__V1__InboundCreated ev = SHELFLINE__V1__INBOUND_CREATED__INIT;
    ev.inbound = in;
    return sl_events_publish(events, conn, "INBOUND_CREATED", sku, &ev.base, err);
}

sl_status inv_inbound_create(sl_db_conn *conn, sl_events *events, sl_arena *a,
                             const sl_audit *audit, const Shelfline__V1__CreateInboundRequest *req,
                             const uint8_t *canon, size_t canon_len, Shelfline__V1__Inbound **out,
                             sl_err *err)
{
    inv_tx tx;
    inv_tx_init(&tx, conn, events, a);
    const char *skus[1] = {req->sku};
    const char *ids[1] = {req->inbound_id};
    sl_status st = inv_tx_lock(&tx, skus, 1, ids, 1, err);
    if (st != SL_OK)
        return st;
    inv_inbound_row *old;
    if ((st = inv_store_inbound_get(conn, a, req->inbound_id, &old, err)) != SL_OK)
        return st;
    if (old != NULL) {
        if (old->request_len != canon_len || memcmp(old->request, canon, canon_len) != 0)
            return sl_err_reason(err, SL_ALREADY_EXISTS, "RESOURCE_CONFLICT",
                                 "inbound_id \"%s\" already exists with other values",
                                 req->inbound_id);
        return inv_inbound_get(conn, a, req->inbound_id, out, err);
    }
    if ((st = inv_tx_load(&tx, skus, 1, err)) != SL_OK)
        return st;
    if (inv_tx_product(&tx, req->sku) == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND", "sku: unknown SKU \"%s\"",
                             req->sku);
    if ((st = need_warehouse(conn, a, "warehouse_id", req->warehouse_id, NULL, err)) != SL_OK)
        return st;
    inv_inbound_row r = {
        .id = req->inbound_id,
        .kind = "PURCHASE_ORDER",
        .sku = req->sku,
        .warehouse_id = req->warehouse_id,
        .source_warehouse_id = "",
        .supplier = req->supplier,
        .reference = req->reference,
        .qty = req->qty,
        .expected_ms = req->expected_at_ms,
        .original_ms = req->expected_at_ms,
        .created_ms = tx.now_ms,
        .request = canon,
        .request_len = canon_len,
        .audit = *audit,
    };
    if ((st = inv_store_inbound_insert(conn, a, &r, err)) != SL_OK)
        return st;
    *out = inv_inbound_proto(a, &r, NULL, 0);
    if (*out == NULL)
        return OOM(err);
    return publish_created(conn, events, req->sku, *out, err);
}

/* Reads an inbound before locking (its SKU never changes), then locks the
 * SKU and the given ids and reads it again. */
static sl_status lock_inbound(inv_tx *tx, sl_arena *a, const char *id, const char *const *ids,
                              size_t nids, inv_inbound_row **out, sl_err *err)
{
    inv_inbound_row *r;
    sl_status st = inv_store_inbound_get(tx->conn, a, id, &r, err);
    if (st != SL_OK)
        return st;
    if (r == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "INBOUND_NOT_FOUND",
                             "inbound_id: unknown inbound shipment \"%s\"", id);
    const char *skus[1] = {r->sku};
    if ((st = inv_tx_lock(tx, skus, 1, ids, nids, err)) != SL_OK)
        return st;
    return inv_store_inbound_get(tx->conn, a, id, out, err);
}

sl_status inv_inbound_delay(sl_db_conn *conn, sl_events *events, sl_arena *a, const sl_audit *audit,
                            const Shelfline__V1__DelayInboundRequest *req,
                            Shelfline__V1__Inbound **out, sl_err *err)
{
    inv_tx tx;
    inv_tx_init(&tx, conn, events, a);
    inv_inbound_row *r;
    const char *ids[1] = {req->inbound_id};
    sl_status st = lock_inbound(&tx, a, req->inbound_id, ids, 1, &r, err);
    if (st != SL_OK)
        return st;
    Shelfline__V1__InboundDelay **d;
    size_t nd;
    if ((st = inv_store_inbound_delays(conn, a, req->inbound_id, &d, &nd, err)) != SL_OK)
        return st;
    /* The same delay again (a retry) changes nothing. */
    for (size_t i = 0; i < nd; i++)
        if (d[i]->expected_at_ms == req->new_expected_at_ms &&
            strcmp(d[i]->reason, req->reason) == 0)
            return inv_inbound_get(conn, a, req->inbound_id, out, err);
    if (r->received >= r->qty)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "INBOUND_RECEIVED",
                             "inbound shipment \"%s\" was fully received", r->id);
    if (req->new_expected_at_ms <= r->expected_ms)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "new_expected_at_ms %lld must be later than the current expected time "
                          "%lld",
                          (long long)req->new_expected_at_ms, (long long)r->expected_ms);
    inv_alloc_row *bo;
    size_t nbo;
    if ((st = inv_store_backorders(conn, a, r->id, &bo, &nbo, err)) != SL_OK ||
        (st = inv_store_inbound_update(conn, r->id, 0, 0, req->new_expected_at_ms, err)) != SL_OK ||
        (st = inv_store_inbound_delay_add(conn, r->id, r->expected_ms, req->new_expected_at_ms,
                                          req->reason, audit, err)) != SL_OK)
        return st;
    if ((st = inv_inbound_get(conn, a, r->id, out, err)) != SL_OK)
        return st;
    Shelfline__V1__InboundDelayed ev = SHELFLINE__V1__INBOUND_DELAYED__INIT;
    ev.inbound = *out;
    ev.previous_expected_at_ms = r->expected_ms;
    ev.reason = req->reason;
    ev.reservation_ids = sl_arena_alloc(a, (nbo + 1) * sizeof(char *));
    if (ev.reservation_ids == NULL)
        return OOM(err);
    for (size_t i = 0; i < nbo; i++) {
        bool seen = false;
        for (size_t k = 0; k < ev.n_reservation_ids && !seen; k++)
            seen = strcmp(ev.reservation_ids[k], bo[i].reservation_id) == 0;
        if (!seen)
            ev.reservation_ids[ev.n_reservation_ids++] = (char *)bo[i].reservation_id;
    }
    return sl_events_publish(events, conn, "INBOUND_DELAYED", r->sku, &ev.base, err);
}

static bool unpack_into(sl_arena *a, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                        size_t n, ProtobufCMessage *resp)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(d, sl_arena_pb_allocator(a), n, p);
    if (m == NULL)
        return false;
    memcpy(resp, m, d->sizeof_message);
    return true;
}

static bool pack(sl_arena *a, const ProtobufCMessage *m, const uint8_t **out, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = sl_arena_alloc(a, n + 1);
    if (buf == NULL)
        return false;
    protobuf_c_message_pack(m, buf);
    *out = buf;
    *len = n;
    return true;
}

/* Step 4 of inv_inbound_receive: qty received units of inbound_id go
 * to its backorders first, oldest first: a HELD reservation's awaited
 * units become reserved stock (row), a COMMITTED one's ship at once
 * (SHIPMENT entry).  The allocations' awaited units drop accordingly;
 * *ff lists what each reservation got, *fulfilled the units in all. */
static sl_status fulfil_backorders(inv_tx *tx, sl_arena *a, inv_row *row, const char *inbound_id,
                                   int64_t qty, Shelfline__V1__BackorderFulfilled ***out,
                                   size_t *nout, int64_t *fulfilled_out, sl_err *err)
{
    sl_db_conn *conn = tx->conn;
    sl_status st;
    inv_alloc_row *bo;
    size_t nbo;
    if ((st = inv_store_backorders(conn, a, inbound_id, &bo, &nbo, err)) != SL_OK)
        return st;
    int64_t *moved = sl_arena_zalloc(a, (nbo + 1) * sizeof *moved);
    Shelfline__V1__BackorderFulfilled **ff = sl_arena_alloc(a, (nbo + 1) * sizeof *ff);
    if (moved == NULL || ff == NULL)
        return OOM(err);
    size_t nff = 0;
    int64_t left = qty, fulfilled = 0;
    for (size_t i = 0; i < nbo && left > 0; i++) {
        int64_t m = bo[i].awaiting < left ? bo[i].awaiting : left;
        moved[i] = m;
        left -= m;
        fulfilled += m;
        if (strcmp(bo[i].status, "HELD") == 0) {
            row->reserved += m;
        } else {
            st = inv_tx_ledger(tx, row, -m, "SHIPMENT", bo[i].reservation_id, NULL, err);
            if (st != SL_OK)
                return st;
        }
        Shelfline__V1__BackorderFulfilled *x = sl_arena_alloc(a, sizeof *x);
        if (x == NULL)
            return OOM(err);
        shelfline__v1__backorder_fulfilled__init(x);
        x->reservation_id = (char *)bo[i].reservation_id;
        x->qty = m;
        ff[nff++] = x;
    }
    size_t nmoved = 0;
    while (nmoved < nbo && moved[nmoved] > 0)
        nmoved++;
    if ((st = inv_store_alloc_fulfil(conn, a, bo, moved, nmoved, err)) != SL_OK)
        return st;
    *out = ff;
    *nout = nff;
    *fulfilled_out = fulfilled;
    return SL_OK;
}

/* Receiving units of an inbound shipment, in the caller's transaction:
 *  1. Lock the SKU, the shipment and the receipt id; load the shipment.
 *  2. Replay: a receipt id seen before answers with its first response
 *     (ALREADY_EXISTS when it was another receipt).
 *  3. Refuse more units than are still expected; add the units to stock
 *     (INBOUND_RECEIPT entry).
 *  4. Fulfil the backorders (fulfil_backorders).
 *  5. Update the shipment's received and backordered counts, write the
 *     stock, ledger and region events (inv_tx_flush).
 *  6. Answer, publish INBOUND_RECEIVED, and store the answer under the
 *     receipt id for replays. */
/* A receipt_id seen before: the stored answer when the request is the
 * same (*replayed), ALREADY_EXISTS when it is another receipt. */
static sl_status receipt_replay(sl_db_conn *conn, sl_arena *a, const char *id, const uint8_t *canon,
                                size_t canon_len, Shelfline__V1__ReceiveInboundResponse *resp,
                                bool *replayed, sl_err *err)
{
    const char *prev_inbound;
    const uint8_t *prev_req, *prev_res;
    size_t prev_req_len, prev_res_len;
    sl_status st = inv_store_receipt_get(conn, a, id, replayed, &prev_inbound, &prev_req,
                                         &prev_req_len, &prev_res, &prev_res_len, err);
    if (st != SL_OK || !*replayed)
        return st;
    if (prev_req_len != canon_len || memcmp(prev_req, canon, canon_len) != 0)
        return sl_err_reason(err, SL_ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED",
                             "receipt_id \"%s\" was already used for another receipt", id);
    if (!unpack_into(a, &shelfline__v1__receive_inbound_response__descriptor, prev_res,
                     prev_res_len, &resp->base))
        return sl_err_set(err, SL_INTERNAL, "stored receipt \"%s\" does not decode", id);
    resp->replayed = true;
    return SL_OK;
}

sl_status inv_inbound_receive(sl_db_conn *conn, sl_events *events, sl_arena *a,
                              const sl_audit *audit,
                              const Shelfline__V1__ReceiveInboundRequest *req, const uint8_t *canon,
                              size_t canon_len, Shelfline__V1__ReceiveInboundResponse *resp,
                              sl_err *err)
{
    inv_tx tx;
    inv_tx_init(&tx, conn, events, a);
    tx.audit = *audit;
    inv_inbound_row *r;
    const char *ids[2] = {req->inbound_id, req->receipt_id};
    sl_status st = lock_inbound(&tx, a, req->inbound_id, ids, 2, &r, err);
    if (st != SL_OK)
        return st;
    bool replayed = false;
    if ((st = receipt_replay(conn, a, req->receipt_id, canon, canon_len, resp, &replayed, err)) !=
            SL_OK ||
        replayed)
        return st;
    int64_t open = r->qty - r->received;
    if (req->qty > open)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "INBOUND_QTY_EXCEEDED",
                             "qty %lld is more than the %lld units still expected on inbound "
                             "shipment \"%s\"",
                             (long long)req->qty, (long long)open, r->id);
    const char *skus[1] = {r->sku};
    if ((st = inv_tx_load(&tx, skus, 1, err)) != SL_OK)
        return st;
    inv_row *row = inv_tx_row(&tx, r->sku, r->warehouse_id, true);
    if (row == NULL)
        return OOM(err);
    if ((st = inv_tx_ledger(&tx, row, req->qty, "INBOUND_RECEIPT", r->id, NULL, err)) != SL_OK)
        return st;

    Shelfline__V1__BackorderFulfilled **ff = NULL;
    size_t nff = 0;
    int64_t fulfilled = 0;
    if ((st = fulfil_backorders(&tx, a, row, r->id, req->qty, &ff, &nff, &fulfilled, err)) != SL_OK)
        return st;
    if ((st = inv_store_inbound_update(conn, r->id, req->qty, -fulfilled, 0, err)) != SL_OK ||
        (st = inv_tx_flush(&tx, err)) != SL_OK)
        return st;
    r->received += req->qty;
    r->backordered -= fulfilled;
    Shelfline__V1__InboundDelay **d;
    size_t nd;
    if ((st = inv_store_inbound_delays(conn, a, r->id, &d, &nd, err)) != SL_OK)
        return st;
    resp->inbound = inv_inbound_proto(a, r, d, nd);
    if ((st = inv_tx_stock_level(&tx, row, &resp->stock, err)) != SL_OK)
        return st;
    resp->fulfilled = ff;
    resp->n_fulfilled = nff;
    if (resp->inbound == NULL)
        return OOM(err);
    Shelfline__V1__InboundReceived ev = SHELFLINE__V1__INBOUND_RECEIVED__INIT;
    ev.inbound = resp->inbound;
    ev.receipt_id = req->receipt_id;
    ev.qty = req->qty;
    ev.fulfilled = ff;
    ev.n_fulfilled = nff;
    if ((st = sl_events_publish(events, conn, "INBOUND_RECEIVED", r->sku, &ev.base, err)) != SL_OK)
        return st;
    const uint8_t *res;
    size_t res_len;
    if (!pack(a, &resp->base, &res, &res_len))
        return OOM(err);
    return inv_store_receipt_put(conn, a, req->receipt_id, r->id, req->qty, canon, canon_len, res,
                                 res_len, audit, err);
}

/* A transfer between warehouses, in the caller's transaction:
 *  1. Lock the SKU and the transfer id.
 *  2. Replay: a transfer id seen before answers with its first response
 *     (ALREADY_EXISTS when it was another transfer, or when it names an
 *     inbound shipment already).
 *  3. Check the SKU, both warehouses, the route from the source to the
 *     destination's region and the units available at the source.
 *  4. Take the units out of the source's stock (TRANSFER_OUT entry) and
 *     insert the TRANSFER inbound shipment, expected after the route's
 *     p50 transit; write the stock, ledger and region events.
 *  5. Answer, publish INBOUND_CREATED, and store the answer under the
 *     transfer id for replays. */
/* A transfer_id seen before: the stored answer when the request is the
 * same (*replayed), ALREADY_EXISTS when it is another transfer. */
static sl_status transfer_replay(sl_db_conn *conn, sl_arena *a, const char *id,
                                 const uint8_t *canon, size_t canon_len,
                                 Shelfline__V1__TransferResponse *resp, bool *replayed, sl_err *err)
{
    const uint8_t *prev_req, *prev_res;
    size_t prev_req_len, prev_res_len;
    sl_status st = inv_store_idem_get(conn, a, "Transfer", id, replayed, &prev_req, &prev_req_len,
                                      &prev_res, &prev_res_len, err);
    if (st != SL_OK || !*replayed)
        return st;
    if (prev_req_len != canon_len || memcmp(prev_req, canon, canon_len) != 0)
        return sl_err_reason(err, SL_ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED",
                             "transfer_id \"%s\" was already used for another transfer", id);
    if (!unpack_into(a, &shelfline__v1__transfer_response__descriptor, prev_res, prev_res_len,
                     &resp->base))
        return sl_err_set(err, SL_INTERNAL, "stored transfer \"%s\" does not decode", id);
    resp->replayed = true;
    return SL_OK;
}

/* The transfer's preconditions, in the order of their errors: a new id,
 * a known SKU, both warehouses, a route from the source to the
 * destination's region, and enough available units at the source
 * (*route, *row: what the move uses). */
static sl_status transfer_check(inv_tx *tx, sl_arena *a, const Shelfline__V1__TransferRequest *req,
                                const inv_route **route, inv_row **row, sl_err *err)
{
    inv_inbound_row *old;
    sl_status st = inv_store_inbound_get(tx->conn, a, req->transfer_id, &old, err);
    if (st != SL_OK)
        return st;
    if (old != NULL)
        return sl_err_reason(err, SL_ALREADY_EXISTS, "RESOURCE_CONFLICT",
                             "transfer_id \"%s\" is already the id of an inbound shipment",
                             req->transfer_id);
    const char *skus[1] = {req->sku};
    if ((st = inv_tx_load(tx, skus, 1, err)) != SL_OK)
        return st;
    if (inv_tx_product(tx, req->sku) == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND", "sku: unknown SKU \"%s\"",
                             req->sku);
    const char *to_region = "";
    if ((st = need_warehouse(tx->conn, a, "from_warehouse_id", req->from_warehouse_id, NULL,
                             err)) != SL_OK ||
        (st = need_warehouse(tx->conn, a, "to_warehouse_id", req->to_warehouse_id, &to_region,
                             err)) != SL_OK)
        return st;
    *route = inv_tx_route(tx, req->from_warehouse_id, to_region);
    if (*route == NULL)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "TRANSFER_ROUTE_MISSING",
                             "from_warehouse_id \"%s\" does not ship to region \"%s\" of "
                             "to_warehouse_id \"%s\"",
                             req->from_warehouse_id, to_region, req->to_warehouse_id);
    *row = inv_tx_row(tx, req->sku, req->from_warehouse_id, false);
    int64_t avail = *row != NULL ? (*row)->on_hand - (*row)->reserved : 0;
    if (avail < req->qty)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "OUT_OF_STOCK",
                             "qty %lld is more than the %lld units available of SKU \"%s\" in "
                             "\"%s\"",
                             (long long)req->qty, (long long)avail, req->sku,
                             req->from_warehouse_id);
    return SL_OK;
}

/* A transfer between warehouses, in one transaction:
 *  1. lock the SKU and the transfer id; a known id replays or is refused;
 *  2. check the preconditions (transfer_check);
 *  3. take the units out of the source (ledger TRANSFER_OUT);
 *  4. insert the transfer as an inbound shipment of the destination,
 *     expected after the route's median transit;
 *  5. publish INBOUND_CREATED and store the answer for replays. */
sl_status inv_inbound_transfer(sl_db_conn *conn, sl_events *events, sl_arena *a,
                               const sl_audit *audit, const Shelfline__V1__TransferRequest *req,
                               const uint8_t *canon, size_t canon_len,
                               Shelfline__V1__TransferResponse *resp, sl_err *err)
{
    inv_tx tx;
    inv_tx_init(&tx, conn, events, a);
    tx.audit = *audit;
    const char *skus[1] = {req->sku};
    const char *ids[1] = {req->transfer_id};
    sl_status st = inv_tx_lock(&tx, skus, 1, ids, 1, err);
    bool replayed = false;
    if (st == SL_OK)
        st = transfer_replay(conn, a, req->transfer_id, canon, canon_len, resp, &replayed, err);
    if (st != SL_OK || replayed)
        return st;
    const inv_route *route = NULL;
    inv_row *row = NULL;
    if ((st = transfer_check(&tx, a, req, &route, &row, err)) != SL_OK ||
        (st = inv_tx_ledger(&tx, row, -req->qty, "TRANSFER_OUT", req->transfer_id, NULL, err)) !=
            SL_OK)
        return st;
    int64_t expected = tx.now_ms + route->p50 * DAY_MS;
    inv_inbound_row r = {
        .id = req->transfer_id,
        .kind = "TRANSFER",
        .sku = req->sku,
        .warehouse_id = req->to_warehouse_id,
        .source_warehouse_id = req->from_warehouse_id,
        .supplier = "",
        .reference = req->reference,
        .qty = req->qty,
        .expected_ms = expected,
        .original_ms = expected,
        .created_ms = tx.now_ms,
        .request = canon,
        .request_len = canon_len,
        .audit = *audit,
    };
    if ((st = inv_store_inbound_insert(conn, a, &r, err)) != SL_OK ||
        (st = inv_tx_flush(&tx, err)) != SL_OK)
        return st;
    resp->inbound = inv_inbound_proto(a, &r, NULL, 0);
    if ((st = inv_tx_stock_level(&tx, row, &resp->source, err)) != SL_OK)
        return st;
    if (resp->inbound == NULL)
        return OOM(err);
    if ((st = publish_created(conn, events, req->sku, resp->inbound, err)) != SL_OK)
        return st;
    const uint8_t *res;
    size_t res_len;
    if (!pack(a, &resp->base, &res, &res_len))
        return OOM(err);
    return inv_store_idem_put(conn, a, "Transfer", req->transfer_id, canon, canon_len, res, res_len,
                              err);
}
