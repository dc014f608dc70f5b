/*
 * inv_store_promo: the inventory store's SQL for promotions, their fences and customers' usage
 * (see inv_store.h for the functions, inv_store_int.h for the kit they
 * share).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_store_int.h"

#define PROMO_COLS                                                                                 \
    "id, sku, region, quota, per_customer_limit, " MS("starts_at") " AS starts_ms, " MS(           \
        "ends_at") " AS ends_ms, price_minor, currency, remaining, held, sold, returned, ended, "  \
                   "request, kind, segment, warehouse_id"

const sl_db_stmt inv__promo_stmts[] = {
    {"inv_promo_load", "SELECT " PROMO_COLS " FROM promotion WHERE id = ANY ($1::text[])", 1},
    /* Reserve's look-up of stock fences: the live fences of the batch's
     * SKUs with the batch's customers among their members (pairs of other
     * jobs' SKUs and customers too; inv_decide matches each job's own). */
    {"inv_sfence_eligible",
     "SELECT m.promotion_id, m.customer_id FROM promotion p JOIN stock_fence_member m "
     "ON m.promotion_id = p.id WHERE p.kind = 'STOCK_FENCE' AND NOT p.ended "
     "AND p.sku = ANY ($1::text[]) AND m.customer_id = ANY ($2::text[])",
     2},
    {"inv_sfence_list",
     "SELECT " PROMO_COLS " FROM promotion WHERE kind = 'STOCK_FENCE' AND ($1 = '' OR sku = $1) "
     "AND (NOT $2::bool OR NOT ended) AND id > $3 ORDER BY id LIMIT $4::int4",
     4},
    {"inv_sfence_members",
     "SELECT k.id AS promotion_id, (SELECT count(*) FROM stock_fence_member m "
     "WHERE m.promotion_id = k.id) AS n FROM unnest($1::text[]) AS k(id)",
     1},
    {"inv_sfence_member_drop",
     "DELETE FROM stock_fence_member WHERE promotion_id = $1 "
     "AND NOT (customer_id = ANY ($2::text[]))",
     2},
    {"inv_sfence_member_add",
     "INSERT INTO stock_fence_member (promotion_id, customer_id) "
     "SELECT $1, c FROM unnest($2::text[]) AS c ON CONFLICT DO NOTHING",
     2},
    {"inv_fence_load",
     "SELECT promotion_id, warehouse_id, fenced, remaining FROM promotion_fence "
     "WHERE promotion_id = ANY ($1::text[]) ORDER BY promotion_id, warehouse_id",
     1},
    {"inv_usage_load",
     "SELECT u.promotion_id, u.customer_id, u.qty, u.limit_qty FROM promotion_usage u "
     "JOIN unnest($1::text[], $2::text[]) AS k(p, c) ON u.promotion_id = k.p "
     "AND u.customer_id = k.c",
     2},
    {"inv_fence_apply",
     "UPDATE promotion_fence f SET remaining = f.remaining + d.n "
     "FROM unnest($1::text[], $2::text[], $3::int8[]) AS d(p, w, n) "
     "WHERE f.promotion_id = d.p AND f.warehouse_id = d.w",
     3},
    {"inv_promo_apply",
     "UPDATE promotion p SET remaining = p.remaining + d.r, held = p.held + d.h, "
     "sold = p.sold + d.s, returned = p.returned + d.rt, ended = p.ended OR d.e "
     "FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::bool[]) "
     "AS d(id, r, h, s, rt, e) WHERE p.id = d.id",
     6},
    {"inv_usage_add",
     "INSERT INTO promotion_usage AS u (promotion_id, customer_id, qty, limit_qty) "
     "SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[]) "
     "ON CONFLICT (promotion_id, customer_id) DO UPDATE SET qty = u.qty + EXCLUDED.qty",
     4},
    {"inv_usage_sub",
     "UPDATE promotion_usage u SET qty = u.qty + d.q "
     "FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[]) AS d(p, c, q, l) "
     "WHERE u.promotion_id = d.p AND u.customer_id = d.c",
     4},
    {"inv_promo_insert",
     "INSERT INTO promotion (id, sku, region, quota, per_customer_limit, starts_at, ends_at, "
     "price_minor, currency, remaining, request, actor, request_id, trace_id, kind, segment, "
     "warehouse_id) VALUES ($1, $2, $3, $4::int8, $5::int8, " TS("$6") ", " TS(
         "$7") ", $8::int8, $9, $4::int8, decode($10, 'hex'), $11, $12, $13, $14, $15, $16)",
     16},
    {"inv_fence_insert",
     "INSERT INTO promotion_fence (promotion_id, warehouse_id, fenced, remaining) "
     "SELECT $1, w, n, n FROM unnest($2::text[], $3::int8[]) AS d(w, n)",
     3},
    {"inv_promo_ending",
     "SELECT id FROM promotion WHERE NOT ended AND ends_at <= now() ORDER BY ends_at "
     "LIMIT $1::int4",
     1},
    /* From the partial index promotion_ending (which holds the live stock
     * fences too: they are not shown as promotions). */
    {"inv_promo_units",
     "SELECT id, sold, held, remaining FROM promotion WHERE NOT ended AND kind = 'PROMOTION' "
     "ORDER BY ends_at, id "
     "LIMIT $1::int4",
     1},
    {"inv_promo_precheck",
     "SELECT coalesce((SELECT remaining FROM promotion WHERE id = $1 AND kind = 'PROMOTION'), "
     "-1) AS remaining, "
     "EXISTS (SELECT 1 FROM reservation WHERE id = $2) AS resv",
     2},

    {NULL, NULL, 0},
};

static bool promo_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    inv_promo_row *p = rows;
    p[i].id = sl_db_text_or(rd, i, "id", "");
    p[i].sku = sl_db_text_or(rd, i, "sku", "");
    p[i].region = sl_db_text_or(rd, i, "region", "");
    p[i].currency = sl_db_text_or(rd, i, "currency", "");
    p[i].quota = sl_db_int64_or(rd, i, "quota", 0);
    p[i].per_customer_limit = sl_db_int64_or(rd, i, "per_customer_limit", 0);
    p[i].starts_ms = sl_db_int64_or(rd, i, "starts_ms", 0);
    p[i].ends_ms = sl_db_int64_or(rd, i, "ends_ms", 0);
    p[i].price_minor = sl_db_int64_or(rd, i, "price_minor", 0);
    p[i].remaining = sl_db_int64_or(rd, i, "remaining", 0);
    p[i].held = sl_db_int64_or(rd, i, "held", 0);
    p[i].sold = sl_db_int64_or(rd, i, "sold", 0);
    p[i].returned = sl_db_int64_or(rd, i, "returned", 0);
    p[i].ended = sl_db_bool_or(rd, i, "ended", false);
    p[i].request = sl_db_bytes(rd, i, "request", &p[i].request_len);
    p[i].kind = sl_db_text_or(rd, i, "kind", "PROMOTION");
    p[i].segment = sl_db_text_or(rd, i, "segment", "");
    p[i].warehouse_id = sl_db_text_or(rd, i, "warehouse_id", "");
    p[i].is_fence = strcmp(p[i].kind, "STOCK_FENCE") == 0;
    return p[i].request != NULL;
}

static bool fence_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    inv_fence_row *f = rows;
    f[i].promotion_id = sl_db_text_or(rd, i, "promotion_id", "");
    f[i].warehouse_id = sl_db_text_or(rd, i, "warehouse_id", "");
    f[i].fenced = sl_db_int64_or(rd, i, "fenced", 0);
    f[i].remaining = sl_db_int64_or(rd, i, "remaining", 0);
    return true;
}

static bool usage_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    inv_usage_row *u = rows;
    u[i].promotion_id = sl_db_text_or(rd, i, "promotion_id", "");
    u[i].customer_id = sl_db_text_or(rd, i, "customer_id", "");
    u[i].qty = sl_db_int64_or(rd, i, "qty", 0);
    u[i].limit_qty = sl_db_int64_or(rd, i, "limit_qty", 0);
    return true;
}

sl_status inv_store_promo_load(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                               inv_promo_row **out, size_t *nout, sl_err *err)
{
    const char *v[1] = {inv__text_array(a, ids, n)};
    void *rows = NULL;
    sl_status st =
        inv__query_rows(c, a, "inv_promo_load", 1, v, sizeof **out, promo_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_fence_load(sl_db_conn *c, sl_arena *a, const char *const *promo_ids, size_t n,
                               inv_fence_row **out, size_t *nout, sl_err *err)
{
    const char *v[1] = {inv__text_array(a, promo_ids, n)};
    void *rows = NULL;
    sl_status st =
        inv__query_rows(c, a, "inv_fence_load", 1, v, sizeof **out, fence_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_usage_load(sl_db_conn *c, sl_arena *a, const char *const *promo_ids,
                               const char *const *customer_ids, size_t n, inv_usage_row **out,
                               size_t *nout, sl_err *err)
{
    const char *v[2] = {inv__text_array(a, promo_ids, n), inv__text_array(a, customer_ids, n)};
    void *rows = NULL;
    sl_status st =
        inv__query_rows(c, a, "inv_usage_load", 2, v, sizeof **out, usage_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_fence_apply(sl_db_conn *c, sl_arena *a, const inv_fence_row *d, size_t n,
                                sl_err *err)
{
    if (n == 0)
        return SL_OK;
    inv__abuf p, w, x;
    inv__ab_init(&p, a, n);
    inv__ab_init(&w, a, n);
    inv__ab_init(&x, a, n);
    for (size_t i = 0; i < n; i++) {
        inv__ab_text(&p, d[i].promotion_id);
        inv__ab_text(&w, d[i].warehouse_id);
        inv__ab_i64(&x, d[i].remaining);
    }
    const char *v[3] = {inv__ab_done(&p), inv__ab_done(&w), inv__ab_done(&x)};
    return inv__run(c, "inv_fence_apply", 3, v, NULL, err);
}

sl_status inv_store_promo_apply(sl_db_conn *c, sl_arena *a, const inv_promo_delta *d, size_t n,
                                sl_err *err)
{
    if (n == 0)
        return SL_OK;
    inv__abuf id, r, h, s, rt, e;
    inv__ab_init(&id, a, n);
    inv__ab_init(&r, a, n);
    inv__ab_init(&h, a, n);
    inv__ab_init(&s, a, n);
    inv__ab_init(&rt, a, n);
    inv__ab_init(&e, a, n);
    for (size_t i = 0; i < n; i++) {
        inv__ab_text(&id, d[i].id);
        inv__ab_i64(&r, d[i].d_remaining);
        inv__ab_i64(&h, d[i].d_held);
        inv__ab_i64(&s, d[i].d_sold);
        inv__ab_i64(&rt, d[i].d_returned);
        inv__ab_bool(&e, d[i].end);
    }
    const char *v[6] = {inv__ab_done(&id), inv__ab_done(&r),  inv__ab_done(&h),
                        inv__ab_done(&s),  inv__ab_done(&rt), inv__ab_done(&e)};
    return inv__run(c, "inv_promo_apply", 6, v, NULL, err);
}

/* Increments may create rows; decrements only ever touch existing ones
 * (and must not be proposed as new rows, see inv_stock_update). */
static sl_status usage_part(sl_db_conn *c, sl_arena *a, const inv_usage_row *d, size_t n, bool add,
                            sl_err *err)
{
    inv__abuf p, cu, q, l;
    inv__ab_init(&p, a, n);
    inv__ab_init(&cu, a, n);
    inv__ab_init(&q, a, n);
    inv__ab_init(&l, a, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i].qty == 0 || (d[i].qty > 0) != add)
            continue;
        inv__ab_text(&p, d[i].promotion_id);
        inv__ab_text(&cu, d[i].customer_id);
        inv__ab_i64(&q, d[i].qty);
        inv__ab_i64(&l, d[i].limit_qty);
        k++;
    }
    if (k == 0)
        return SL_OK;
    const char *v[4] = {inv__ab_done(&p), inv__ab_done(&cu), inv__ab_done(&q), inv__ab_done(&l)};
    return inv__run(c, add ? "inv_usage_add" : "inv_usage_sub", 4, v, NULL, err);
}

sl_status inv_store_usage_apply(sl_db_conn *c, sl_arena *a, const inv_usage_row *d, size_t n,
                                sl_err *err)
{
    sl_status st = usage_part(c, a, d, n, true, err);
    if (st == SL_OK)
        st = usage_part(c, a, d, n, false, err);
    return st;
}

sl_status inv_store_promo_insert(sl_db_conn *c, sl_arena *a, const inv_promo_row *p,
                                 const inv_fence_row *fences, size_t nfences, sl_err *err)
{
    const char *v[16] = {p->id,
                         p->sku,
                         p->region,
                         inv__i64s(a, p->quota),
                         inv__i64s(a, p->per_customer_limit),
                         inv__i64s(a, p->starts_ms),
                         inv__i64s(a, p->ends_ms),
                         inv__i64s(a, p->price_minor),
                         p->currency,
                         inv__hexs(a, p->request, p->request_len),
                         p->audit.actor != NULL ? p->audit.actor : "",
                         p->audit.request_id != NULL ? p->audit.request_id : "",
                         p->audit.trace_id != NULL ? p->audit.trace_id : "",
                         p->is_fence ? "STOCK_FENCE" : "PROMOTION",
                         p->segment != NULL ? p->segment : "",
                         p->warehouse_id != NULL ? p->warehouse_id : ""};
    sl_status st = inv__run(c, "inv_promo_insert", 16, v, NULL, err);
    if (st != SL_OK)
        return st;
    inv__abuf w, n;
    inv__ab_init(&w, a, nfences);
    inv__ab_init(&n, a, nfences);
    for (size_t i = 0; i < nfences; i++) {
        inv__ab_text(&w, fences[i].warehouse_id);
        inv__ab_i64(&n, fences[i].fenced);
    }
    const char *fv[3] = {p->id, inv__ab_done(&w), inv__ab_done(&n)};
    return inv__run(c, "inv_fence_insert", 3, fv, NULL, err);
}

sl_status inv_store_promo_ending(sl_db_conn *c, sl_arena *a, int limit, const char ***ids,
                                 size_t *n, sl_err *err)
{
    return inv__id_list(c, a, "inv_promo_ending", limit, ids, n, err);
}

sl_status inv_store_promo_units(sl_db_conn *c, sl_arena *a, int limit, inv_promo_units **out,
                                size_t *n, sl_err *err)
{
    char lb[SL_DB_INT64_TEXT];
    const char *v[1] = {sl_db_param_int64(lb, limit)};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "inv_promo_units", 1, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    int rows = sl_db_reader_rows(&rd);
    inv_promo_units *u = sl_arena_alloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof *u);
    if (u == NULL) {
        PQclear(r);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (int i = 0; i < rows; i++)
        u[i] = (inv_promo_units){sl_db_text(&rd, i, "id"), sl_db_int64(&rd, i, "sold"),
                                 sl_db_int64(&rd, i, "held"), sl_db_int64(&rd, i, "remaining")};
    st = sl_db_reader_status(&rd, err);
    PQclear(r);
    *out = u;
    *n = st == SL_OK ? (size_t)rows : 0;
    return st;
}

sl_status inv_store_promo_precheck(sl_db_conn *c, const char *promo_id, const char *resv_id,
                                   int64_t *remaining, bool *resv_exists, sl_err *err)
{
    const char *v[2] = {promo_id, resv_id};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "inv_promo_precheck", 2, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, NULL);
    *remaining = sl_db_int64_or(&rd, 0, "remaining", 0);
    *resv_exists = sl_db_bool_or(&rd, 0, "resv", false);
    st = sl_db_reader_status(&rd, err);
    PQclear(r);
    return st;
}

/* ---- stock fences (promotions of kind STOCK_FENCE) ---- */

bool inv__member_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    inv_usage_row *u = rows;
    u[i].promotion_id = sl_db_text_or(rd, i, "promotion_id", "");
    u[i].customer_id = sl_db_text_or(rd, i, "customer_id", "");
    u[i].qty = 0;
    u[i].limit_qty = 0;
    return true;
}

sl_status inv_store_sfence_list(sl_db_conn *c, sl_arena *a, const char *sku, bool live_only,
                                const char *after, int limit, inv_promo_row **out, size_t *n,
                                sl_err *err)
{
    const char *v[4] = {sku, live_only ? "true" : "false", after, inv__i64s(a, limit)};
    void *rows = NULL;
    sl_status st =
        inv__query_rows(c, a, "inv_sfence_list", 4, v, sizeof **out, promo_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

static bool count_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    inv_usage_row *u = rows;
    u[i].promotion_id = sl_db_text_or(rd, i, "promotion_id", "");
    u[i].customer_id = "";
    u[i].qty = sl_db_int64_or(rd, i, "n", 0);
    u[i].limit_qty = 0;
    return true;
}

sl_status inv_store_sfence_members(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                                   int64_t *counts, sl_err *err)
{
    const char *v[1] = {inv__text_array(a, ids, n)};
    void *rows = NULL;
    size_t nr = 0;
    sl_status st = inv__query_rows(c, a, "inv_sfence_members", 1, v, sizeof(inv_usage_row),
                                   count_at, &rows, &nr, err);
    if (st != SL_OK)
        return st;
    const inv_usage_row *u = rows;
    for (size_t i = 0; i < n; i++) {
        counts[i] = 0;
        for (size_t k = 0; k < nr; k++)
            if (strcmp(u[k].promotion_id, ids[i]) == 0)
                counts[i] = u[k].qty;
    }
    return SL_OK;
}

/* The number of rows a DML statement's result reports. */
static int64_t affected(PGresult *r)
{
    const char *t = PQcmdTuples(r);
    return t != NULL && t[0] != '\0' ? strtoll(t, NULL, 10) : 0;
}

sl_status inv_store_sfence_set_members(sl_db_conn *c, sl_arena *a, const char *id,
                                       const char *const *customers, size_t n, bool replace,
                                       int64_t *added, int64_t *removed, sl_err *err)
{
    *added = *removed = 0;
    const char *v[2] = {id, inv__text_array(a, customers, n)};
    PGresult *r = NULL;
    sl_status st;
    if (replace) {
        st = inv__run(c, "inv_sfence_member_drop", 2, v, &r, err);
        if (st != SL_OK)
            return st;
        *removed = affected(r);
        PQclear(r);
        r = NULL;
    }
    if (n == 0)
        return SL_OK;
    st = inv__run(c, "inv_sfence_member_add", 2, v, &r, err);
    if (st != SL_OK)
        return st;
    *added = affected(r);
    PQclear(r);
    return SL_OK;
}
