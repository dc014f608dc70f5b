/*
 * inv_promo: creating, reading and ending promotions (see inv_promo.h).
 */
#include "inv_promo.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "inv_store.h"
#include "inv_tx.h"

#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

static Shelfline__V1__Promotion *to_proto(sl_arena *a, const inv_promo_row *p,
                                          const inv_fence_row *f, size_t nf, int64_t now_ms)
{
    Shelfline__V1__Promotion *x = sl_arena_alloc(a, sizeof *x);
    Shelfline__V1__Money *m = sl_arena_alloc(a, sizeof *m);
    Shelfline__V1__PromotionFence **fs = sl_arena_alloc(a, (nf + 1) * sizeof *fs);
    if (x == NULL || m == NULL || fs == NULL)
        return NULL;
    shelfline__v1__promotion__init(x);
    shelfline__v1__money__init(m);
    x->promotion_id = (char *)p->id;
    x->sku = (char *)p->sku;
    x->quota = p->quota;
    x->per_customer_limit = p->per_customer_limit;
    x->starts_at_ms = p->starts_ms;
    x->ends_at_ms = p->ends_ms;
    m->minor_units = p->price_minor;
    m->currency = (char *)p->currency;
    x->price = m;
    x->region = (char *)p->region;
    if (p->ended || now_ms >= p->ends_ms)
        x->status = SHELFLINE__V1__PROMOTION__STATUS__ENDED;
    else if (now_ms < p->starts_ms)
        x->status = SHELFLINE__V1__PROMOTION__STATUS__SCHEDULED;
    else
        x->status = SHELFLINE__V1__PROMOTION__STATUS__ACTIVE;
    x->sold = p->sold;
    x->held = p->held;
    x->remaining = p->remaining;
    x->returned = p->returned;
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

sl_status inv_promo_get(sl_db_conn *conn, sl_arena *a, const char *id, int64_t now_ms,
                        Shelfline__V1__Promotion **out, sl_err *err)
{
    *out = NULL;
    const char *ids[1] = {id};
    inv_promo_row *p;
    inv_fence_row *f;
    size_t np, nf;
    sl_status st = inv_store_promo_load(conn, a, ids, 1, &p, &np, err);
    if (st != SL_OK || np == 0 || p[0].is_fence)
        return st;
    st = inv_store_fence_load(conn, a, ids, 1, &f, &nf, err);
    if (st != SL_OK)
        return st;
    *out = to_proto(a, &p[0], f, nf, now_ms);
    return *out != NULL ? SL_OK : OOM(err);
}

typedef struct cand {
    inv_row *row;
    int64_t available;
} cand;

static int cand_cmp(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    if (a->available != b->available)
        return a->available > b->available ? -1 : 1;
    return strcmp(a->row->warehouse_id, b->row->warehouse_id);
}

sl_status inv_promo_fence_units(inv_tx *tx, sl_arena *a, const inv_fence_req *q,
                                inv_fence_row **fences_out, size_t *nf_out, sl_err *err)
{
    const char **whs = sl_arena_alloc(a, (tx->nroutes + 2) * sizeof *whs);
    if (whs == NULL)
        return OOM(err);
    size_t nw = 0;
    if (q->warehouse_id[0] != '\0') {
        whs[nw++] = q->warehouse_id;
    } else {
        for (size_t i = 0; i < tx->nroutes; i++) {
            if (q->region[0] != '\0' && strcmp(tx->routes[i].region, q->region) != 0)
                continue;
            bool seen = false;
            for (size_t k = 0; k < nw && !seen; k++)
                seen = strcmp(whs[k], tx->routes[i].warehouse_id) == 0;
            if (!seen)
                whs[nw++] = tx->routes[i].warehouse_id;
        }
    }
    if (nw == 0 && q->region[0] != '\0')
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "%s.region \"%s\" is not served by any active warehouse", q->what,
                          q->region);
    cand *c = sl_arena_alloc(a, (nw + 1) * sizeof *c);
    inv_fence_row *fences = sl_arena_alloc(a, (nw + 1) * sizeof *fences);
    if (c == NULL || fences == NULL)
        return OOM(err);
    size_t nc = 0;
    int64_t total = 0;
    for (size_t i = 0; i < nw; i++) {
        inv_row *row = inv_tx_row(tx, q->sku, whs[i], false);
        if (row == NULL || row->on_hand - row->reserved <= 0)
            continue;
        c[nc++] = (cand){row, row->on_hand - row->reserved};
        total += row->on_hand - row->reserved;
    }
    if (total < q->qty)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, q->reason,
                             "%s.%s: only %lld units of SKU \"%s\" are available to fence "
                             "(%s %lld)",
                             q->what, q->qty_field, (long long)total, q->sku, q->qty_field,
                             (long long)q->qty);
    qsort(c, nc, sizeof *c, cand_cmp);
    int64_t left = q->qty;
    size_t nf = 0;
    for (size_t i = 0; i < nc && left > 0; i++) {
        int64_t take = c[i].available < left ? c[i].available : left;
        c[i].row->reserved += take;
        fences[nf++] = (inv_fence_row){q->id, c[i].row->warehouse_id, take, take};
        left -= take;
    }
    *fences_out = fences;
    *nf_out = nf;
    return SL_OK;
}

/* Creating a promotion, in the caller's transaction:
 *  1. Lock the SKU and the promotion id.
 *  2. Replay: an id that exists answers with the promotion's state when
 *     the request is the same (ALREADY_EXISTS when not).
 *  3. Check the SKU and the end time; fence the quota (fence_quota).
 *  4. Insert the promotion and its fences; write the stock rows and
 *     region events (inv_tx_flush). */
sl_status inv_promo_create(sl_db_conn *conn, sl_events *events, sl_arena *a, const sl_audit *audit,
                           const Shelfline__V1__Promotion *p, const uint8_t *canon,
                           size_t canon_len, Shelfline__V1__Promotion **out, sl_err *err)
{
    inv_tx tx;
    inv_tx_init(&tx, conn, events, a);
    const char *skus[1] = {p->sku};
    const char *ids[1] = {p->promotion_id};
    sl_status st = inv_tx_lock(&tx, skus, 1, ids, 1, err);
    if (st != SL_OK)
        return st;
    inv_promo_row *old;
    size_t nold;
    st = inv_store_promo_load(conn, a, ids, 1, &old, &nold, err);
    if (st != SL_OK)
        return st;
    if (nold > 0) {
        if (old[0].is_fence || old[0].request_len != canon_len ||
            memcmp(old[0].request, canon, canon_len) != 0)
            return sl_err_reason(err, SL_ALREADY_EXISTS, "RESOURCE_CONFLICT",
                                 "promotion.promotion_id \"%s\" already exists with other values",
                                 p->promotion_id);
        return inv_promo_get(conn, a, p->promotion_id, tx.now_ms, out, err);
    }
    st = inv_tx_load(&tx, skus, 1, err);
    if (st != SL_OK)
        return st;
    if (inv_tx_product(&tx, p->sku) == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND",
                             "promotion.sku: unknown SKU \"%s\"", p->sku);
    if (p->ends_at_ms <= tx.now_ms)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "promotion.ends_at_ms %lld is in the past",
                          (long long)p->ends_at_ms);

    inv_fence_row *fences = NULL;
    size_t nf = 0;
    inv_fence_req q = {.what = "promotion",
                       .qty_field = "quota",
                       .reason = "PROMOTION_QUOTA_UNAVAILABLE",
                       .id = p->promotion_id,
                       .sku = p->sku,
                       .region = p->region,
                       .warehouse_id = "",
                       .qty = p->quota};
    if ((st = inv_promo_fence_units(&tx, a, &q, &fences, &nf, err)) != SL_OK)
        return st;
    inv_promo_row row = {
        .id = p->promotion_id,
        .sku = p->sku,
        .region = p->region,
        .currency = p->price->currency,
        .quota = p->quota,
        .per_customer_limit = p->per_customer_limit,
        .starts_ms = p->starts_at_ms,
        .ends_ms = p->ends_at_ms,
        .price_minor = p->price->minor_units,
        .remaining = p->quota,
        .request = canon,
        .request_len = canon_len,
        .audit = *audit,
        .kind = "PROMOTION",
        .segment = "",
        .warehouse_id = "",
    };
    st = inv_store_promo_insert(conn, a, &row, fences, nf, err);
    if (st == SL_OK)
        st = inv_tx_flush(&tx, err);
    if (st != SL_OK)
        return st;
    *out = to_proto(a, &row, fences, nf, tx.now_ms);
    return *out != NULL ? SL_OK : OOM(err);
}

sl_status inv_promo_end(sl_db_conn *conn, sl_events *events, sl_arena *a, const char *id,
                        bool *ended, sl_err *err)
{
    *ended = false;
    const char *ids[1] = {id};
    inv_promo_row *p;
    size_t np;
    sl_status st = inv_store_promo_load(conn, a, ids, 1, &p, &np, err);
    if (st != SL_OK || np == 0)
        return st;
    inv_tx tx;
    inv_tx_init(&tx, conn, events, a);
    const char *skus[1] = {p[0].sku};
    st = inv_tx_lock(&tx, skus, 1, ids, 1, err);
    if (st == SL_OK)
        st = inv_store_promo_load(conn, a, ids, 1, &p, &np, err);
    if (st != SL_OK)
        return st;
    if (np == 0 || p[0].ended || p[0].ends_ms > tx.now_ms)
        return SL_OK;
    inv_fence_row *f;
    size_t nf;
    if ((st = inv_store_fence_load(conn, a, ids, 1, &f, &nf, err)) != SL_OK ||
        (st = inv_tx_load(&tx, skus, 1, err)) != SL_OK)
        return st;
    inv_fence_row *fd = sl_arena_alloc(a, (nf + 1) * sizeof *fd);
    if (fd == NULL)
        return OOM(err);
    size_t nfd = 0;
    int64_t back = 0;
    for (size_t i = 0; i < nf; i++) {
        if (f[i].remaining == 0)
            continue;
        inv_row *row = inv_tx_row(&tx, p[0].sku, f[i].warehouse_id, false);
        if (row == NULL)
            return sl_err_set(err, SL_INTERNAL,
                              "fence of promotion \"%s\" in \"%s\" has no stock "
                              "row",
                              id, f[i].warehouse_id);
        row->reserved -= f[i].remaining;
        back += f[i].remaining;
        fd[nfd++] = (inv_fence_row){id, f[i].warehouse_id, 0, -f[i].remaining};
    }
    inv_promo_delta pd = {id, -back, 0, 0, back, true};
    if ((st = inv_store_fence_apply(conn, a, fd, nfd, err)) != SL_OK ||
        (st = inv_store_promo_apply(conn, a, &pd, 1, err)) != SL_OK ||
        (st = inv_tx_flush(&tx, err)) != SL_OK)
        return st;
    *ended = true;
    return SL_OK;
}
