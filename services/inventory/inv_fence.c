/*
 * inv_fence: creating, reading and listing stock fences, and setting who
 * may take their units (see inv_fence.h).
 */
#include "inv_fence.h"

#include <string.h>

#include "inv_promo.h"
#include "inv_store.h"
#include "inv_tx.h"

#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

/* The StockFence of a fence row p with its parts (those of f naming it)
 * and its member count. */
static Shelfline__V1__StockFence *to_proto(sl_arena *a, const inv_promo_row *p,
                                           const inv_fence_row *f, size_t nf, int64_t members,
                                           int64_t now_ms)
{
    Shelfline__V1__StockFence *x = sl_arena_alloc(a, sizeof *x);
    Shelfline__V1__PromotionFence **fs = sl_arena_alloc(a, (nf + 1) * sizeof *fs);
    if (x == NULL || fs == NULL)
        return NULL;
    shelfline__v1__stock_fence__init(x);
    x->fence_id = (char *)p->id;
    x->sku = (char *)p->sku;
    x->warehouse_id = (char *)p->warehouse_id;
    x->region = (char *)p->region;
    x->qty = p->quota;
    x->segment = (char *)p->segment;
    x->starts_at_ms = p->starts_ms;
    x->ends_at_ms = p->ends_ms;
    if (p->ended || now_ms >= p->ends_ms)
        x->status = SHELFLINE__V1__STOCK_FENCE__STATUS__ENDED;
    else if (now_ms < p->starts_ms)
        x->status = SHELFLINE__V1__STOCK_FENCE__STATUS__SCHEDULED;
    else
        x->status = SHELFLINE__V1__STOCK_FENCE__STATUS__ACTIVE;
    x->sold = p->sold;
    x->held = p->held;
    x->remaining = p->remaining;
    x->returned = p->returned;
    x->members = members;
    size_t k = 0;
    for (size_t i = 0; i < nf; i++) {
        if (strcmp(f[i].promotion_id, p->id) != 0)
            continue;
        Shelfline__V1__PromotionFence *y = sl_arena_alloc(a, sizeof *y);
        if (y == NULL)
            return NULL;
        shelfline__v1__promotion_fence__init(y);
        y->warehouse_id = (char *)f[i].warehouse_id;
        y->fenced = f[i].fenced;
        y->remaining = f[i].remaining;
        fs[k++] = y;
    }
    x->fences = fs;
    x->n_fences = k;
    return x;
}

/* Completes rows p[0..np) (fences) into *out: their parts and member
 * counts in two statements. */
static sl_status complete(sl_db_conn *conn, sl_arena *a, const inv_promo_row *p, size_t np,
                          int64_t now_ms, Shelfline__V1__StockFence **out, sl_err *err)
{
    const char **ids = sl_arena_alloc(a, (np + 1) * sizeof *ids);
    int64_t *members = sl_arena_alloc(a, (np + 1) * sizeof *members);
    if (ids == NULL || members == NULL)
        return OOM(err);
    for (size_t i = 0; i < np; i++)
        ids[i] = p[i].id;
    inv_fence_row *f = NULL;
    size_t nf = 0;
    sl_status st = SL_OK;
    if (np > 0 && ((st = inv_store_fence_load(conn, a, ids, np, &f, &nf, err)) != SL_OK ||
                   (st = inv_store_sfence_members(conn, a, ids, np, members, err)) != SL_OK))
        return st;
    for (size_t i = 0; i < np; i++)
        if ((out[i] = to_proto(a, &p[i], f, nf, members[i], now_ms)) == NULL)
            return OOM(err);
    return SL_OK;
}

sl_status inv_fence_get(sl_db_conn *conn, sl_arena *a, const char *id, int64_t now_ms,
                        Shelfline__V1__StockFence **out, sl_err *err)
{
    *out = NULL;
    const char *ids[1] = {id};
    inv_promo_row *p;
    size_t np;
    sl_status st = inv_store_promo_load(conn, a, ids, 1, &p, &np, err);
    if (st != SL_OK || np == 0 || !p[0].is_fence)
        return st;
    return complete(conn, a, p, 1, now_ms, out, err);
}

sl_status inv_fence_list(sl_db_conn *conn, sl_arena *a, const char *sku, bool live_only,
                         const char *after, int limit, int64_t now_ms,
                         Shelfline__V1__StockFence ***out, size_t *n, sl_err *err)
{
    *out = NULL;
    *n = 0;
    inv_promo_row *p;
    size_t np;
    sl_status st = inv_store_sfence_list(conn, a, sku, live_only, after, limit, &p, &np, err);
    if (st != SL_OK)
        return st;
    Shelfline__V1__StockFence **x = sl_arena_alloc(a, (np + 1) * sizeof *x);
    if (x == NULL)
        return OOM(err);
    if ((st = complete(conn, a, p, np, now_ms, x, err)) != SL_OK)
        return st;
    *out = x;
    *n = np;
    return SL_OK;
}

/* Step 3 of inv_fence_create: the warehouse named exists. */
static sl_status check_warehouse(sl_db_conn *conn, sl_arena *a, const char *wh, sl_err *err)
{
    const char *ids[1] = {wh};
    inv_wh_row *w;
    size_t nw;
    sl_status st = inv_store_warehouses(conn, a, ids, 1, &w, &nw, err);
    if (st == SL_OK && nw == 0)
        return sl_err_reason(err, SL_NOT_FOUND, "WAREHOUSE_NOT_FOUND",
                             "fence.warehouse_id: unknown warehouse \"%s\"", wh);
    return st;
}

/* Creating a fence, in the caller's transaction:
 *  1. Lock the SKU and the fence id.
 *  2. Replay: an id that exists answers with the fence's state when it is
 *     a fence and the request is the same (ALREADY_EXISTS when not).
 *  3. Check the SKU, the warehouse and the end time; fence the units
 *     (inv_promo_fence_units: FAILED_PRECONDITION, nothing changed, when
 *     the free stock is short).
 *  4. Insert the fence (a promotion of kind STOCK_FENCE whose customer
 *     limit is its qty: it never binds) and its parts; write the stock
 *     rows and region events (inv_tx_flush). */
sl_status inv_fence_create(sl_db_conn *conn, sl_events *events, sl_arena *a, const sl_audit *audit,
                           const Shelfline__V1__StockFence *f, const uint8_t *canon,
                           size_t canon_len, Shelfline__V1__StockFence **out, sl_err *err)
{
    inv_tx tx;
    inv_tx_init(&tx, conn, events, a);
    const char *skus[1] = {f->sku};
    const char *ids[1] = {f->fence_id};
    sl_status st = inv_tx_lock(&tx, skus, 1, ids, 1, err);
    if (st != SL_OK)
        return st;
    inv_promo_row *old;
    size_t nold;
    if ((st = inv_store_promo_load(conn, a, ids, 1, &old, &nold, err)) != SL_OK)
        return st;
    if (nold > 0) {
        if (!old[0].is_fence || old[0].request_len != canon_len ||
            memcmp(old[0].request, canon, canon_len) != 0)
            return sl_err_reason(err, SL_ALREADY_EXISTS, "RESOURCE_CONFLICT",
                                 "fence.fence_id \"%s\" already exists with other values",
                                 f->fence_id);
        return inv_fence_get(conn, a, f->fence_id, tx.now_ms, out, err);
    }
    if ((st = inv_tx_load(&tx, skus, 1, err)) != SL_OK)
        return st;
    if (inv_tx_product(&tx, f->sku) == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND", "fence.sku: unknown SKU \"%s\"",
                             f->sku);
    if (f->warehouse_id[0] != '\0' &&
        (st = check_warehouse(conn, a, f->warehouse_id, err)) != SL_OK)
        return st;
    if (f->ends_at_ms <= tx.now_ms)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "fence.ends_at_ms %lld is in the past",
                          (long long)f->ends_at_ms);

    inv_fence_req q = {.what = "fence",
                       .qty_field = "qty",
                       .reason = "STOCK_FENCE_QTY_UNAVAILABLE",
                       .id = f->fence_id,
                       .sku = f->sku,
                       .region = f->region,
                       .warehouse_id = f->warehouse_id,
                       .qty = f->qty};
    inv_fence_row *parts = NULL;
    size_t nparts = 0;
    if ((st = inv_promo_fence_units(&tx, a, &q, &parts, &nparts, err)) != SL_OK)
        return st;
    inv_promo_row row = {
        .id = f->fence_id,
        .sku = f->sku,
        .region = f->region,
        .currency = "",
        .quota = f->qty,
        .per_customer_limit = f->qty,
        .starts_ms = f->starts_at_ms,
        .ends_ms = f->ends_at_ms,
        .price_minor = 0,
        .remaining = f->qty,
        .request = canon,
        .request_len = canon_len,
        .audit = *audit,
        .kind = "STOCK_FENCE",
        .segment = f->segment,
        .warehouse_id = f->warehouse_id,
        .is_fence = true,
    };
    if ((st = inv_store_promo_insert(conn, a, &row, parts, nparts, err)) != SL_OK ||
        (st = inv_tx_flush(&tx, err)) != SL_OK)
        return st;
    *out = to_proto(a, &row, parts, nparts, 0, tx.now_ms);
    return *out != NULL ? SL_OK : OOM(err);
}

sl_status inv_fence_set_members(sl_db_conn *conn, sl_arena *a,
                                const Shelfline__V1__SetStockFenceEligibilityRequest *r,
                                Shelfline__V1__SetStockFenceEligibilityResponse *out, sl_err *err)
{
    const char *ids[1] = {r->fence_id};
    inv_promo_row *p;
    size_t np;
    sl_status st = inv_store_promo_load(conn, a, ids, 1, &p, &np, err);
    if (st != SL_OK)
        return st;
    if (np == 0 || !p[0].is_fence)
        return sl_err_reason(err, SL_NOT_FOUND, "STOCK_FENCE_NOT_FOUND",
                             "fence_id: unknown stock fence \"%s\"", r->fence_id);
    if (strcmp(p[0].segment, r->segment) != 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "SEGMENT_MISMATCH",
                             "segment: fence \"%s\" is for segment \"%s\", not \"%s\"", r->fence_id,
                             p[0].segment, r->segment);
    if (p[0].ended)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "STOCK_FENCE_ENDED",
                             "fence_id: stock fence \"%s\" has ended", r->fence_id);
    int64_t added, removed, members;
    if ((st = inv_store_sfence_set_members(conn, a, r->fence_id,
                                           (const char *const *)r->customer_ids, r->n_customer_ids,
                                           r->replace, &added, &removed, err)) != SL_OK ||
        (st = inv_store_sfence_members(conn, a, ids, 1, &members, err)) != SL_OK)
        return st;
    out->added = added;
    out->removed = removed;
    out->members = members;
    return SL_OK;
}
