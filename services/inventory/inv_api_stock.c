/*
 * inv_api_stock: stock changes (AdjustStock, SetStockCount,
 * SetStockPolicy), reads (GetStock, GetAvailability, ListLowStock) and
 * CheckInvariants.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "inv_alloc.h"
#include "inv_api.h"
#include "inv_store.h"
#include "inv_tx.h"
#include "inv_valid.h"
#include "sl_page.h"

#define APP(call) ((inv_app *)sl_call_ctx(call))
#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

/* ---- AdjustStock and SetStockCount ---- */

typedef struct change_ctx {
    sl_call *call;
    const char *op; /* idempotency namespace */
    const char *request_id, *sku, *warehouse_id, *reference;
    bool absolute; /* SetStockCount */
    int64_t value; /* delta, or the count */
    const char *reason;
    const uint8_t *canon;
    size_t canon_len;
    ProtobufCMessage *resp;
} change_ctx;

/* Step 2 of change_tx: a request id seen before answers with its first
 * response (*replayed), or ALREADY_EXISTS when it was another request. */
static sl_status change_replay(change_ctx *c, sl_db_conn *conn, sl_arena *a, bool *replayed,
                               sl_err *err)
{
    bool found;
    const uint8_t *prev_req, *prev_res;
    size_t prev_req_len, prev_res_len;
    *replayed = false;
    sl_status st = inv_store_idem_get(conn, a, c->op, c->request_id, &found, &prev_req,
                                      &prev_req_len, &prev_res, &prev_res_len, err);
    if (st != SL_OK)
        return st;
    *replayed = found;
    if (!found)
        return SL_OK;
    if (prev_req_len != c->canon_len || memcmp(prev_req, c->canon, c->canon_len) != 0)
        return sl_err_reason(err, SL_ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED",
                             "request_id \"%s\" was already used for another request",
                             c->request_id);
    ProtobufCMessage *m = protobuf_c_message_unpack(c->resp->descriptor, sl_arena_pb_allocator(a),
                                                    prev_res_len, prev_res);
    if (m == NULL)
        return sl_err_set(err, SL_INTERNAL, "stored answer of \"%s\" does not decode",
                          c->request_id);
    memcpy(c->resp, m, c->resp->descriptor->sizeof_message);
    if (c->absolute)
        ((Shelfline__V1__SetStockCountResponse *)c->resp)->replayed = true;
    else
        ((Shelfline__V1__AdjustStockResponse *)c->resp)->replayed = true;
    return SL_OK;
}

/* AdjustStock and SetStockCount, one transaction:
 *  1. Lock the SKU and the request id and load the SKU's stock rows (one
 *     round trip).
 *  2. Replay a request id seen before (change_replay).
 *  3. Check the SKU and the warehouse; refuse a change that would leave
 *     fewer units than reserved, or fewer than none.
 *  4. Write the ledger entry (none for a change of 0), the stock and the
 *     region events (inv_tx_flush).
 *  5. Answer, and store the answer under the request id for replays. */
static sl_status change_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    change_ctx *c = p;
    inv_app *app = APP(c->call);
    sl_arena *a = sl_call_arena(c->call);
    inv_tx tx;
    inv_tx_init(&tx, conn, app->events, a);
    tx.audit = sl_call_audit(c->call);
    const char *skus[1] = {c->sku};
    const char *ids[1] = {c->request_id};
    /* The stock is read with the locks, in one round trip, even for a
     * replayed request: cheaper than another round trip for the others. */
    sl_status st = inv_tx_lock_load(&tx, skus, 1, ids, 1, NULL, NULL, NULL, 0, NULL, NULL, err);
    if (st != SL_OK)
        return st;
    bool replayed;
    if ((st = change_replay(c, conn, a, &replayed, err)) != SL_OK || replayed)
        return st;
    if (inv_tx_product(&tx, c->sku) == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND", "sku: unknown SKU \"%s\"", c->sku);
    if ((st = inv_api_need_warehouse(conn, a, "warehouse_id", c->warehouse_id, err)) != SL_OK)
        return st;
    inv_row *row = inv_tx_row(&tx, c->sku, c->warehouse_id, true);
    if (row == NULL)
        return OOM(err);
    int64_t delta = c->absolute ? c->value - row->on_hand : c->value;
    int64_t after = row->on_hand + delta;
    if (after < row->reserved)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "STOCK_BELOW_RESERVED",
                             "%s would leave %lld units of SKU \"%s\" in \"%s\", below the %lld "
                             "reserved",
                             c->absolute ? "counted" : "delta", (long long)after, c->sku,
                             c->warehouse_id, (long long)row->reserved);
    if (after < 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "STOCK_WOULD_GO_NEGATIVE",
                             "delta would leave %lld units of SKU \"%s\" in \"%s\"",
                             (long long)after, c->sku, c->warehouse_id);
    inv_ledger_note *note = NULL;
    const char *ref = c->reference[0] != '\0' ? c->reference : c->request_id;
    if (delta != 0 && (st = inv_tx_ledger(&tx, row, delta, c->reason, ref, &note, err)) != SL_OK)
        return st;
    if ((st = inv_tx_flush(&tx, err)) != SL_OK)
        return st;
    Shelfline__V1__StockLevel *level = NULL;
    if ((st = inv_tx_stock_level(&tx, row, &level, err)) != SL_OK)
        return st;
    Shelfline__V1__LedgerEntry *entry = note != NULL ? inv_tx_ledger_entry(a, note) : NULL;
    if (note != NULL && entry == NULL)
        return OOM(err);
    if (c->absolute) {
        Shelfline__V1__SetStockCountResponse *r = (Shelfline__V1__SetStockCountResponse *)c->resp;
        r->stock = level;
        r->delta = delta;
        r->entry = entry;
    } else {
        Shelfline__V1__AdjustStockResponse *r = (Shelfline__V1__AdjustStockResponse *)c->resp;
        r->stock = level;
        r->entry = entry;
    }
    size_t len;
    const uint8_t *res = inv_api_pack(c->call, c->resp, &len);
    if (res == NULL)
        return OOM(err);
    return inv_store_idem_put(conn, a, c->op, c->request_id, c->canon, c->canon_len, res, len, err);
}

/* Keeps the packed request as the idempotency record's content and runs
 * the change in one transaction. */
static sl_status change_run(sl_call *call, const ProtobufCMessage *req, change_ctx *c, sl_err *err)
{
    c->canon = inv_api_pack(call, req, &c->canon_len);
    if (c->canon == NULL)
        return OOM(err);
    return inv_api_tx(call, false, change_tx, c, err);
}

sl_status inv_api_adjust_stock(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                               sl_err *err)
{
    const Shelfline__V1__AdjustStockRequest *r = (const Shelfline__V1__AdjustStockRequest *)req;
    change_ctx c = {call,
                    "AdjustStock",
                    r->request_id,
                    r->sku,
                    r->warehouse_id,
                    r->reference,
                    false,
                    r->delta,
                    inv_reason_name(r->reason),
                    NULL,
                    0,
                    resp};
    return change_run(call, req, &c, err);
}

sl_status inv_api_set_stock_count(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__SetStockCountRequest *r = (const Shelfline__V1__SetStockCountRequest *)req;
    change_ctx c = {call,
                    "SetStockCount",
                    r->request_id,
                    r->sku,
                    r->warehouse_id,
                    r->reference,
                    true,
                    r->counted,
                    "CYCLE_COUNT",
                    NULL,
                    0,
                    resp};
    return change_run(call, req, &c, err);
}

/* ---- SetStockPolicy ---- */

typedef struct policy_ctx {
    sl_call *call;
    const Shelfline__V1__SetStockPolicyRequest *r;
    Shelfline__V1__StockLevel *out;
} policy_ctx;

static sl_status policy_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    policy_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    inv_tx tx;
    inv_tx_init(&tx, conn, APP(c->call)->events, a);
    tx.audit = sl_call_audit(c->call);
    const char *skus[1] = {c->r->sku};
    sl_status st = inv_tx_lock_load(&tx, skus, 1, NULL, 0, NULL, NULL, NULL, 0, NULL, NULL, err);
    if (st != SL_OK)
        return st;
    if (inv_tx_product(&tx, c->r->sku) == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND", "sku: unknown SKU \"%s\"",
                             c->r->sku);
    if ((st = inv_api_need_warehouse(conn, a, "warehouse_id", c->r->warehouse_id, err)) != SL_OK)
        return st;
    inv_row *row = inv_tx_row(&tx, c->r->sku, c->r->warehouse_id, true);
    if (row == NULL)
        return OOM(err);
    /* Unchanged: answer without writing (a read-only commit is cheap). */
    if (row->exists && row->safety_stock == c->r->safety_stock &&
        row->low_stock_threshold == c->r->low_stock_threshold)
        return inv_tx_stock_level(&tx, row, &c->out, err);
    row->safety_stock = c->r->safety_stock;
    row->low_stock_threshold = c->r->low_stock_threshold;
    if ((st = inv_store_set_policy(conn, c->r->sku, c->r->warehouse_id, c->r->safety_stock,
                                   c->r->low_stock_threshold, err)) != SL_OK)
        return st;
    row->exists = true; /* set_policy created it if needed */
    if ((st = inv_tx_flush(&tx, err)) != SL_OK)
        return st;
    if ((st = inv_tx_stock_level(&tx, row, &c->out, err)) != SL_OK)
        return st;
    c->out->updated_at_ms = tx.now_ms;
    return SL_OK;
}

sl_status inv_api_set_stock_policy(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__SetStockPolicyRequest *r =
        (const Shelfline__V1__SetStockPolicyRequest *)req;
    policy_ctx c = {call, r, NULL};
    sl_status st = inv_api_tx(call, false, policy_tx, &c, err);
    if (st == SL_OK)
        *(Shelfline__V1__StockLevel *)resp = *c.out;
    return st;
}

/* ---- GetStock ---- */

typedef struct stock_ctx {
    sl_call *call;
    const Shelfline__V1__GetStockRequest *r;
    inv_stock_row *rows;
    size_t n;
} stock_ctx;

static sl_status get_stock_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    stock_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    sl_status st = inv_api_need_sku_wh(conn, a, c->r->sku, c->r->warehouse_id, err);
    if (st != SL_OK)
        return st;
    return inv_store_stock_get(conn, a, c->r->sku, c->r->warehouse_id, &c->rows, &c->n, err);
}

static Shelfline__V1__StockLevel *level_of(sl_arena *a, const inv_stock_row *s)
{
    Shelfline__V1__StockLevel *l = sl_arena_alloc(a, sizeof *l);
    if (l == NULL)
        return NULL;
    shelfline__v1__stock_level__init(l);
    l->sku = (char *)s->sku;
    l->warehouse_id = (char *)s->warehouse_id;
    l->on_hand = s->on_hand;
    l->reserved = s->reserved;
    l->available = s->on_hand - s->reserved;
    l->safety_stock = s->safety_stock;
    l->low_stock_threshold = s->low_stock_threshold;
    l->updated_at_ms = s->updated_ms;
    l->incoming = s->incoming;
    return l;
}

sl_status inv_api_get_stock(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err)
{
    const Shelfline__V1__GetStockRequest *r = (const Shelfline__V1__GetStockRequest *)req;
    Shelfline__V1__GetStockResponse *out = (Shelfline__V1__GetStockResponse *)resp;
    sl_status st = inv_valid_id("sku", r->sku, INV_ID_SKU, err);
    if (st == SL_OK)
        st = inv_valid_opt_id("warehouse_id", r->warehouse_id, INV_ID_WAREHOUSE, err);
    if (st != SL_OK)
        return st;
    stock_ctx c = {call, r, NULL, 0};
    st = inv_api_tx(call, true, get_stock_tx, &c, err);
    if (st != SL_OK)
        return st;
    sl_arena *a = sl_call_arena(call);
    out->levels = sl_arena_alloc(a, (c.n + 1) * sizeof *out->levels);
    if (out->levels == NULL)
        return OOM(err);
    for (size_t i = 0; i < c.n; i++)
        if ((out->levels[i] = level_of(a, &c.rows[i])) == NULL)
            return OOM(err);
    out->n_levels = c.n;
    return SL_OK;
}

/* ---- GetAverageStock ---- */

typedef struct avg_ctx {
    sl_call *call;
    const Shelfline__V1__GetAverageStockRequest *r;
    int64_t to_ms;
    inv_avg_row *rows;
    size_t n;
} avg_ctx;

static sl_status average_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    avg_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    const char *const *skus = (const char *const *)c->r->skus;
    long missing;
    sl_status st = inv_store_skus_missing(conn, a, skus, c->r->n_skus, &missing, err);
    if (st != SL_OK)
        return st;
    if (missing >= 0)
        return sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND", "skus[%ld]: unknown SKU \"%s\"",
                             missing, skus[missing]);
    if (c->r->warehouse_id[0] != '\0' &&
        (st = inv_api_need_warehouse(conn, a, "warehouse_id", c->r->warehouse_id, err)) != SL_OK)
        return st;
    return inv_store_average_stock(conn, a, skus, c->r->n_skus, c->r->warehouse_id,
                                   c->r->from_at_ms, c->to_ms, &c->rows, &c->n, err);
}

sl_status inv_api_get_average_stock(sl_call *call, const ProtobufCMessage *req,
                                    ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__GetAverageStockRequest *r =
        (const Shelfline__V1__GetAverageStockRequest *)req;
    Shelfline__V1__GetAverageStockResponse *out = (Shelfline__V1__GetAverageStockResponse *)resp;
    avg_ctx c = {call, r, 0, NULL, 0};
    sl_status st = inv_valid_average_stock(r, sl_db_now_ms(), &c.to_ms, err);
    if (st == SL_OK)
        st = inv_api_tx(call, true, average_tx, &c, err);
    if (st != SL_OK)
        return st;
    sl_arena *a = sl_call_arena(call);
    out->stock = sl_arena_alloc(a, r->n_skus * sizeof *out->stock);
    Shelfline__V1__AverageStock *m = sl_arena_alloc(a, r->n_skus * sizeof *m);
    if (out->stock == NULL || m == NULL)
        return OOM(err);
    /* The rows are sorted by SKU: answer in request order. */
    for (size_t i = 0; i < r->n_skus; i++) {
        size_t lo = 0, hi = c.n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (strcmp(c.rows[mid].sku, r->skus[i]) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == c.n || strcmp(c.rows[lo].sku, r->skus[i]) != 0)
            return sl_err_set(err, SL_INTERNAL, "no average for SKU \"%s\"", r->skus[i]);
        const inv_avg_row *x = &c.rows[lo];
        shelfline__v1__average_stock__init(&m[i]);
        m[i].sku = (char *)x->sku;
        m[i].tracked_from_ms = x->tracked_ms;
        m[i].average_on_hand = x->average_on_hand;
        m[i].on_hand_at_start = x->start_on_hand;
        m[i].on_hand_at_end = x->end_on_hand;
        m[i].changes = x->changes;
        out->stock[i] = &m[i];
    }
    out->n_stock = r->n_skus;
    out->to_at_ms = c.to_ms;
    return SL_OK;
}

/* ---- GetAvailability ---- */

/* An open inbound row as the NextInbound message (NULL when out of
 * memory). */
static Shelfline__V1__NextInbound *next_inbound_of(sl_arena *a, const inv_open_inbound *ib)
{
    Shelfline__V1__NextInbound *ni = sl_arena_alloc(a, sizeof *ni);
    if (ni == NULL)
        return NULL;
    shelfline__v1__next_inbound__init(ni);
    ni->inbound_id = (char *)ib->id;
    ni->warehouse_id = (char *)ib->warehouse_id;
    ni->expected_at_ms = ib->expected_ms;
    ni->qty = ib->unallocated;
    return ni;
}

typedef struct avail_ctx {
    sl_call *call;
    const Shelfline__V1__GetAvailabilityRequest *r;
    Shelfline__V1__GetAvailabilityResponse *out;
} avail_ctx;

static Shelfline__V1__Availability__Status status_proto(inv_region_status s)
{
    switch (s) {
    case INV_IN_STOCK:
        return SHELFLINE__V1__AVAILABILITY__STATUS__IN_STOCK;
    case INV_LOW_STOCK:
        return SHELFLINE__V1__AVAILABILITY__STATUS__LOW_STOCK;
    case INV_OUT_OF_STOCK:
        return SHELFLINE__V1__AVAILABILITY__STATUS__OUT_OF_STOCK;
    }
    return SHELFLINE__V1__AVAILABILITY__STATUS__STATUS_UNSPECIFIED;
}

/* Fills one SKU's availability in the region: per warehouse on the
 * region's routes, the region's total and status, and the earliest open
 * inbound of a serving warehouse (ib comes earliest first). */
static sl_status fill_item(sl_arena *a, inv_tx *tx, const char *sku, const inv_route *routes,
                           size_t nr, const inv_open_inbound *ib, size_t nib,
                           Shelfline__V1__WarehouseAvailability *was,
                           Shelfline__V1__WarehouseAvailability **wps,
                           Shelfline__V1__Availability *it, sl_err *err)
{
    shelfline__v1__availability__init(it);
    it->sku = (char *)sku;
    it->warehouses = wps;
    it->n_warehouses = nr;
    int64_t total = 0, thr = 0;
    for (size_t k = 0; k < nr; k++) {
        Shelfline__V1__WarehouseAvailability *w = &was[k];
        shelfline__v1__warehouse_availability__init(w);
        const inv_row *row = inv_tx_row(tx, sku, routes[k].warehouse_id, false);
        w->warehouse_id = (char *)routes[k].warehouse_id;
        w->available = row != NULL ? row->on_hand - row->reserved : 0;
        w->transit_p50_days = routes[k].p50;
        w->transit_p90_days = routes[k].p90;
        wps[k] = w;
        total += w->available;
        thr += row != NULL ? row->low_stock_threshold : 0;
    }
    for (size_t k = 0; k < nib && it->next_inbound == NULL; k++) {
        if (strcmp(ib[k].sku, sku) != 0)
            continue;
        for (size_t q = 0; q < nr; q++) {
            if (strcmp(routes[q].warehouse_id, ib[k].warehouse_id) != 0)
                continue;
            if ((it->next_inbound = next_inbound_of(a, &ib[k])) == NULL)
                return OOM(err);
            break;
        }
    }
    it->available = total;
    it->low_stock_threshold = thr;
    inv_region_status s = inv_region_status_of(total, thr);
    it->status = status_proto(s);
    if (s == INV_OUT_OF_STOCK && it->next_inbound != NULL)
        it->status = SHELFLINE__V1__AVAILABILITY__STATUS__BACKORDERABLE;
    if (s == INV_LOW_STOCK) {
        it->only_left = total;
        char *h = sl_arena_alloc(a, 32);
        if (h == NULL)
            return OOM(err);
        snprintf(h, 32, "only %lld left", (long long)total);
        it->hint = h;
    }
    return SL_OK;
}

static sl_status avail_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    avail_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    const Shelfline__V1__GetAvailabilityRequest *r = c->r;
    inv_tx tx;
    inv_tx_init(&tx, conn, NULL, a);
    sl_status st = inv_tx_load(&tx, (const char *const *)r->skus, r->n_skus, err);
    if (st != SL_OK)
        return st;
    size_t nr;
    const inv_route *routes = inv_tx_region(&tx, r->region, &nr);
    if (nr == 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "region \"%s\" is not served by any active warehouse", r->region);
    for (size_t i = 0; i < r->n_skus; i++)
        if (inv_tx_product(&tx, r->skus[i]) == NULL)
            return sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND",
                                 "skus[%zu]: unknown SKU \"%s\"", i, r->skus[i]);
    inv_open_inbound *ib;
    size_t nib;
    st = inv_store_open_inbound(conn, a, (const char *const *)r->skus, r->n_skus, &ib, &nib, err);
    if (st != SL_OK)
        return st;
    Shelfline__V1__GetAvailabilityResponse *out = c->out;
    out->region = r->region;
    out->items = sl_arena_alloc(a, r->n_skus * sizeof *out->items);
    Shelfline__V1__Availability *items = sl_arena_alloc(a, r->n_skus * sizeof *items);
    Shelfline__V1__WarehouseAvailability *was = sl_arena_alloc(a, r->n_skus * nr * sizeof *was);
    Shelfline__V1__WarehouseAvailability **wps = sl_arena_alloc(a, r->n_skus * nr * sizeof *wps);
    if (out->items == NULL || items == NULL || was == NULL || wps == NULL)
        return OOM(err);
    for (size_t i = 0; i < r->n_skus; i++) {
        st = fill_item(a, &tx, r->skus[i], routes, nr, ib, nib, &was[i * nr], &wps[i * nr],
                       &items[i], err);
        if (st != SL_OK)
            return st;
        out->items[i] = &items[i];
    }
    out->n_items = r->n_skus;
    return SL_OK;
}

sl_status inv_api_get_availability(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__GetAvailabilityRequest *r =
        (const Shelfline__V1__GetAvailabilityRequest *)req;
    avail_ctx c = {call, r, (Shelfline__V1__GetAvailabilityResponse *)resp};
    return inv_api_tx(call, true, avail_tx, &c, err);
}

/* ---- GetStockFeed ---- */

typedef struct feed_ctx {
    sl_call *call;
    const char *region, *after;
    int limit;
    Shelfline__V1__GetStockFeedResponse *out;
} feed_ctx;

/* Whether the SKU has a stock row in any warehouse: a row is made by its
 * first stock movement (a count, an adjustment, a receipt), so a SKU
 * without one was never stocked anywhere. */
static bool ever_stocked(const inv_tx *tx, const char *sku)
{
    for (size_t i = 0; i < tx->nrows; i++)
        if (strcmp(tx->rows[i]->sku, sku) == 0)
            return true;
    return false;
}

/* Merchant Center's ISO 8601 form of a Unix ms time, UTC. */
static char *iso_date(sl_arena *a, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char *out = sl_arena_alloc(a, 32);
    if (out == NULL || gmtime_r(&t, &tm) == NULL)
        return NULL;
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

/* One feed item from the region's availability of the product. */
static sl_status feed_item(sl_arena *a, const inv_tx *tx, const Shelfline__V1__Product *p,
                           const Shelfline__V1__Availability *av, Shelfline__V1__StockFeedItem *it,
                           sl_err *err)
{
    shelfline__v1__stock_feed_item__init(it);
    it->sku = p->sku;
    it->title = p->name;
    it->category = p->category;
    it->brand = p->brand;
    it->price = p->price;
    it->available = av->available;
    it->only_left = av->only_left;
    it->hint = av->hint;
    if (av->status == SHELFLINE__V1__AVAILABILITY__STATUS__BACKORDERABLE) {
        it->availability = ever_stocked(tx, p->sku) ? "backorder" : "preorder";
        it->availability_date_ms = av->next_inbound->expected_at_ms;
        if ((it->availability_date = iso_date(a, it->availability_date_ms)) == NULL)
            return OOM(err);
    } else if (av->status == SHELFLINE__V1__AVAILABILITY__STATUS__OUT_OF_STOCK) {
        it->availability = "out_of_stock";
        it->suppress_ads = true;
    } else {
        it->availability = "in_stock"; /* IN_STOCK or LOW_STOCK */
    }
    return SL_OK;
}

static sl_status feed_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    feed_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    Shelfline__V1__Product **prods;
    size_t n;
    sl_status st = inv_store_product_list(conn, a, "", c->after, c->limit, &prods, &n, err);
    if (st != SL_OK)
        return st;
    const char **skus = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *skus);
    if (skus == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++)
        skus[i] = prods[i]->sku;
    inv_tx tx;
    inv_tx_init(&tx, conn, NULL, a);
    if ((st = inv_tx_load(&tx, skus, n, err)) != SL_OK)
        return st;
    size_t nr;
    const inv_route *routes = inv_tx_region(&tx, c->region, &nr);
    if (nr == 0)
        return sl_err_field(err, "region", "region \"%s\" is not served by any active warehouse",
                            c->region);
    inv_open_inbound *ib;
    size_t nib;
    if ((st = inv_store_open_inbound(conn, a, skus, n, &ib, &nib, err)) != SL_OK)
        return st;
    Shelfline__V1__GetStockFeedResponse *out = c->out;
    out->region = (char *)c->region;
    out->items = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *out->items);
    Shelfline__V1__StockFeedItem *items = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *items);
    Shelfline__V1__WarehouseAvailability *was = sl_arena_alloc(a, nr * sizeof *was);
    Shelfline__V1__WarehouseAvailability **wps = sl_arena_alloc(a, nr * sizeof *wps);
    if (out->items == NULL || items == NULL || was == NULL || wps == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++) {
        /* The same region figures as GetAvailability's, item by item (the
         * warehouse breakdown is not part of the feed). */
        Shelfline__V1__Availability av;
        if ((st = fill_item(a, &tx, skus[i], routes, nr, ib, nib, was, wps, &av, err)) != SL_OK ||
            (st = feed_item(a, &tx, prods[i], &av, &items[i], err)) != SL_OK)
            return st;
        out->items[i] = &items[i];
    }
    out->n_items = n;
    if (n == (size_t)c->limit)
        out->next_page_token = sl_page_token_encode(a, skus[n - 1]);
    return SL_OK;
}

sl_status inv_api_get_stock_feed(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err)
{
    const Shelfline__V1__GetStockFeedRequest *r = (const Shelfline__V1__GetStockFeedRequest *)req;
    feed_ctx c = {call, r->region, NULL, 0, (Shelfline__V1__GetStockFeedResponse *)resp};
    char after[256];
    sl_status st = inv_valid_id("region", r->region, INV_ID_REGION, err);
    if (st == SL_OK)
        st = sl_page_size(r->page, &c.limit, err);
    if (st == SL_OK)
        st = inv_api_page_after(r->page, after, sizeof after, err);
    if (st != SL_OK)
        return st;
    c.after = after;
    return inv_api_tx(call, true, feed_tx, &c, err);
}

/* ---- ListLowStock ---- */

typedef struct low_ctx {
    sl_call *call;
    const char *region, *after_sku, *after_wh;
    int limit;
    Shelfline__V1__ListLowStockResponse *out;
} low_ctx;

static sl_status low_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    low_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    inv_stock_row *rows;
    const char **regions;
    size_t n;
    sl_status st = inv_store_low_stock(conn, a, c->region, c->after_sku, c->after_wh, c->limit,
                                       &rows, &regions, &n, err);
    if (st != SL_OK)
        return st;
    const char **skus = sl_arena_alloc(a, (n + 1) * sizeof *skus);
    if (skus == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++)
        skus[i] = rows[i].sku;
    inv_open_inbound *ib;
    size_t nib;
    if ((st = inv_store_open_inbound(conn, a, skus, n, &ib, &nib, err)) != SL_OK)
        return st;
    Shelfline__V1__ListLowStockResponse *out = c->out;
    out->items = sl_arena_alloc(a, (n + 1) * sizeof *out->items);
    if (out->items == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++) {
        Shelfline__V1__LowStockItem *it = sl_arena_alloc(a, sizeof *it);
        if (it == NULL)
            return OOM(err);
        shelfline__v1__low_stock_item__init(it);
        if ((it->stock = level_of(a, &rows[i])) == NULL)
            return OOM(err);
        it->region = (char *)regions[i];
        for (size_t k = 0; k < nib; k++) {
            if (strcmp(ib[k].sku, rows[i].sku) != 0 ||
                strcmp(ib[k].warehouse_id, rows[i].warehouse_id) != 0)
                continue;
            if ((it->next_inbound = next_inbound_of(a, &ib[k])) == NULL)
                return OOM(err);
            break;
        }
        out->items[i] = it;
    }
    out->n_items = n;
    if (n == (size_t)c->limit) {
        const Shelfline__V1__StockLevel *last = out->items[n - 1]->stock;
        char *k = inv_api_two_part_key(a, last->sku, last->warehouse_id);
        if (k == NULL)
            return OOM(err);
        out->next_page_token = sl_page_token_encode(a, k);
    }
    return SL_OK;
}

sl_status inv_api_list_low_stock(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err)
{
    const Shelfline__V1__ListLowStockRequest *r = (const Shelfline__V1__ListLowStockRequest *)req;
    low_ctx c = {
        .call = call, .region = r->region, .out = (Shelfline__V1__ListLowStockResponse *)resp};
    char after[256];
    sl_status st = sl_page_size(r->page, &c.limit, err);
    if (st == SL_OK)
        st = inv_valid_opt_id("region", r->region, INV_ID_REGION, err);
    if (st == SL_OK)
        st = inv_api_page_after(r->page, after, sizeof after, err);
    if (st != SL_OK)
        return st;
    if ((st = inv_api_split_key(after, &c.after_sku, &c.after_wh, err)) != SL_OK)
        return st;
    return inv_api_tx(call, true, low_tx, &c, err);
}

/* ---- CheckInvariants ---- */

typedef struct check_ctx {
    sl_call *call;
    const char *sku;
    Shelfline__V1__CheckInvariantsResponse *out;
} check_ctx;

static sl_status check_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    check_ctx *c = p;
    Shelfline__V1__CheckInvariantsResponse *out = c->out;
    sl_status st = inv_store_check(conn, sl_call_arena(c->call), c->sku, 1000, &out->violations,
                                   &out->n_violations, &out->stock_rows, err);
    out->ok = st == SL_OK && out->n_violations == 0;
    return st;
}

sl_status inv_api_check_invariants(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__CheckInvariantsRequest *r =
        (const Shelfline__V1__CheckInvariantsRequest *)req;
    sl_status st = inv_valid_opt_id("sku", r->sku, INV_ID_SKU, err);
    if (st != SL_OK)
        return st;
    check_ctx c = {call, r->sku, (Shelfline__V1__CheckInvariantsResponse *)resp};
    return inv_api_tx(call, true, check_tx, &c, err);
}
