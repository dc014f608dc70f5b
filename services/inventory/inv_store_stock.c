/*
 * inv_store_stock: the inventory store's SQL for stock rows, the ledger, the locks every stock
 * transaction starts with, and idempotency keys (see inv_store.h for the functions, inv_store_int.h
 * for the kit they share).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_store_int.h"

#define STOCK_COLS                                                                                 \
    "s.sku, s.warehouse_id, s.on_hand, s.reserved, s.safety_stock, s.low_stock_threshold, " MS(    \
        "s.updated_at") " AS updated_ms"

/* The open inbound units of a stock row not received yet (StockLevel's
 * incoming); the inbound_open index serves it. */
#define INCOMING_COL                                                                               \
    "(SELECT coalesce(sum(i.qty - i.received), 0) FROM inbound i WHERE i.sku = s.sku "             \
    "AND i.warehouse_id = s.warehouse_id AND i.received < i.qty) AS incoming"

const sl_db_stmt inv__stock_stmts[] = {
    {"inv_lock",
     "SELECT count(pg_catalog.pg_advisory_xact_lock(k)) AS locked, " MS(
         "now()") " AS now_ms FROM unnest($1::int8[]) AS k",
     1},
    /* Sorted byte-wise whatever the database's collation: inv_tx looks
     * products and rows up by strcmp (en-US would put "AB-2" before
     * "AB1"; strcmp does not). */
    {"inv_load_stock",
     "SELECT p.sku AS psku, p.price_minor, p.currency, " STOCK_COLS
     " FROM product p LEFT JOIN stock s ON s.sku = p.sku WHERE p.sku = ANY ($1::text[]) "
     "ORDER BY p.sku COLLATE \"C\", s.warehouse_id COLLATE \"C\"",
     1},
    /* Existing rows and new rows apart: an upsert would check the
     * constraints on the proposed (delta) row before finding the conflict. */
    {"inv_stock_update",
     "UPDATE stock s SET on_hand = s.on_hand + d.oh, reserved = s.reserved + d.rs, "
     "updated_at = now() FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[]) "
     "AS d(sku, wh, oh, rs) WHERE s.sku = d.sku AND s.warehouse_id = d.wh",
     4},
    {"inv_stock_insert",
     "INSERT INTO stock (sku, warehouse_id, on_hand, reserved) "
     "SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[])",
     4},
    {"inv_set_policy",
     "INSERT INTO stock AS s (sku, warehouse_id, safety_stock, low_stock_threshold) "
     "VALUES ($1, $2, $3::int8, $4::int8) ON CONFLICT (sku, warehouse_id) DO UPDATE SET "
     "safety_stock = EXCLUDED.safety_stock, low_stock_threshold = EXCLUDED.low_stock_threshold, "
     "updated_at = now()",
     4},
    {"inv_ledger_append",
     "INSERT INTO ledger (sku, warehouse_id, delta, reason, reference, actor, request_id, "
     "trace_id) VALUES ($1, $2, $3::int8, $4, $5, $6, $7, $8) "
     "RETURNING id, " MS("created_at") " AS created_ms",
     8},
    {"inv_ledger_list",
     "SELECT id, sku, warehouse_id, delta, reason, reference, actor, request_id, trace_id, " MS(
         "created_at") " AS created_ms FROM ledger WHERE sku = $1 AND ($2 = '' OR "
                       "warehouse_id = $2) AND ($3 = '' OR id < $3::int8) ORDER BY id DESC LIMIT "
                       "$4::int4",
     4},
    {"inv_stock_get",
     "SELECT " STOCK_COLS ", " INCOMING_COL
     " FROM stock s WHERE s.sku = $1 AND ($2 = '' OR s.warehouse_id = $2) "
     "ORDER BY s.warehouse_id",
     2},
    {"inv_stock_incoming",
     "SELECT coalesce(sum(qty - received), 0) AS incoming FROM inbound "
     "WHERE sku = $1 AND warehouse_id = $2 AND received < qty",
     2},
    {"inv_low_stock",
     "SELECT " STOCK_COLS ", " INCOMING_COL ", w.region FROM stock s "
     "JOIN warehouse w ON w.warehouse_id = s.warehouse_id "
     "WHERE s.low AND ($1 = '' OR w.region = $1) "
     "AND (s.sku, s.warehouse_id) > ($2, $3) ORDER BY s.sku, s.warehouse_id LIMIT $4::int4",
     4},
    /* The time-weighted average of on_hand over the window, from the ledger
     * (on_hand at a time = the deltas up to it).  The average starts at the
     * SKU's first entry when that is later than the window's start. */
    {"inv_average_stock",
     "WITH s AS (SELECT DISTINCT unnest($1::text[]) AS sku), "
     "w AS (SELECT to_timestamp($3::int8 / 1000.0) AS f, to_timestamp($4::int8 / 1000.0) AS t), "
     "l AS (SELECT l.sku, l.created_at AS at, l.delta FROM ledger l JOIN s USING (sku), w "
     "      WHERE ($2 = '' OR l.warehouse_id = $2) AND l.created_at <= w.t), "
     "b AS (SELECT s.sku, CASE WHEN min(l.at) IS NOT NULL THEN greatest(w.f, min(l.at)) END AS tf "
     "      FROM s CROSS JOIN w LEFT JOIN l USING (sku) GROUP BY s.sku, w.f), "
     "b2 AS (SELECT b.sku, b.tf, coalesce((SELECT sum(l.delta) FROM l "
     "       WHERE l.sku = b.sku AND l.at <= b.tf), 0) AS start_oh, "
     "       (SELECT count(*) FROM l, w WHERE l.sku = b.sku AND l.at > w.f) AS changes FROM b), "
     "ev AS (SELECT l.sku, l.at, sum(l.delta) AS d FROM l JOIN b2 USING (sku) "
     "       WHERE l.at > b2.tf GROUP BY l.sku, l.at), "
     "st AS (SELECT ev.sku, ev.at, ev.d, b2.start_oh + sum(ev.d) OVER (PARTITION BY ev.sku "
     "       ORDER BY ev.at) AS level, coalesce(lead(ev.at) OVER (PARTITION BY ev.sku "
     "       ORDER BY ev.at), w.t) AS next_at FROM ev JOIN b2 USING (sku), w) "
     "SELECT b2.sku, coalesce((extract(epoch FROM b2.tf) * 1000)::int8, 0) AS tracked_ms, "
     "b2.start_oh::int8 AS start_oh, (b2.start_oh + coalesce(sum(st.d), 0))::int8 AS end_oh, "
     "b2.changes, CASE WHEN b2.tf IS NULL OR w.t <= b2.tf THEN 0::float8 ELSE "
     "(b2.start_oh * extract(epoch FROM coalesce(min(st.at), w.t) - b2.tf) "
     " + coalesce(sum(st.level * extract(epoch FROM st.next_at - st.at)), 0))::float8 "
     "/ extract(epoch FROM w.t - b2.tf)::float8 END AS avg_oh "
     "FROM b2 CROSS JOIN w LEFT JOIN st USING (sku) "
     "GROUP BY b2.sku, b2.tf, b2.start_oh, b2.changes, w.t ORDER BY b2.sku",
     4},
    {"inv_idem_get", "SELECT request, result FROM idempotency WHERE op = $1 AND key = $2", 2},
    {"inv_idem_put",
     "INSERT INTO idempotency (op, key, request, result) "
     "VALUES ($1, $2, decode($3, 'hex'), decode($4, 'hex'))",
     4},

    {NULL, NULL, 0},
};

sl_status inv_store_lock(sl_db_conn *c, sl_arena *a, const int64_t *keys, size_t n, int64_t *now_ms,
                         sl_err *err)
{
    const char *v[1] = {inv__i64_array(a, keys, n)};
    PGresult *r = NULL;
    sl_status st = inv__run(c, "inv_lock", 1, v, &r, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    *now_ms = sl_db_int64(&rd, 0, "now_ms");
    st = sl_db_reader_status(&rd, err);
    PQclear(r);
    return st;
}

static void stock_from(sl_arena *a, sl_db_reader *rd, int i, inv_stock_row *s)
{
    (void)a;
    s->sku = sl_db_text_or(rd, i, "sku", "");
    s->warehouse_id = sl_db_text_or(rd, i, "warehouse_id", "");
    s->on_hand = sl_db_int64_or(rd, i, "on_hand", 0);
    s->reserved = sl_db_int64_or(rd, i, "reserved", 0);
    s->safety_stock = sl_db_int64_or(rd, i, "safety_stock", 0);
    s->low_stock_threshold = sl_db_int64_or(rd, i, "low_stock_threshold", 0);
    s->updated_ms = sl_db_int64_or(rd, i, "updated_ms", 0);
}

/* A row of inv_stock_get or inv_low_stock, which also count incoming. */
static void listed_from(sl_arena *a, sl_db_reader *rd, int i, inv_stock_row *s)
{
    stock_from(a, rd, i, s);
    s->incoming = sl_db_int64_or(rd, i, "incoming", 0);
}

static bool listed_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    inv_stock_row *s = rows;
    listed_from(a, rd, i, &s[i]);
    return true;
}

/* Reads an inv_load_stock result (and frees it). */
static sl_status stock_result(sl_arena *a, PGresult *r, inv_product_row **products, size_t *np,
                              inv_stock_row **rows, size_t *nr, sl_err *err)
{
    sl_db_reader reader, *rd = &reader;
    sl_db_reader_init(rd, r, a);
    int k = sl_db_reader_rows(rd);
    inv_product_row *p = inv__alloc_rows(a, (size_t)k, sizeof *p);
    inv_stock_row *s = inv__alloc_rows(a, (size_t)k, sizeof *s);
    size_t npp = 0, nss = 0;
    for (int i = 0; p != NULL && s != NULL && i < k; i++) {
        const char *sku = sl_db_text_or(rd, i, "psku", "");
        if (npp == 0 || strcmp(p[npp - 1].sku, sku) != 0) {
            p[npp].sku = sku;
            p[npp].price_minor = sl_db_int64_or(rd, i, "price_minor", 0);
            p[npp].currency = sl_db_text_or(rd, i, "currency", "");
            npp++;
        }
        /* A product without stock rows comes with NULL stock columns. */
        if (!sl_db_is_null(rd, i, "warehouse_id")) {
            stock_from(a, rd, i, &s[nss]);
            nss++;
        }
    }
    sl_status st = p == NULL || s == NULL ? inv__oom(err) : sl_db_reader_status(rd, err);
    PQclear(r);
    if (st != SL_OK)
        return st;
    *products = p;
    *np = npp;
    *rows = s;
    *nr = nss;
    return SL_OK;
}

sl_status inv_store_load_stock(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t n,
                               inv_product_row **products, size_t *np, inv_stock_row **rows,
                               size_t *nr, sl_err *err)
{
    const char *v[1] = {inv__text_array(a, skus, n)};
    PGresult *r = NULL;
    sl_status st = inv__run(c, "inv_load_stock", 1, v, &r, err);
    if (st != SL_OK)
        return st;
    return stock_result(a, r, products, np, rows, nr, err);
}

/* One of the two stock statements over the deltas whose exists == want. */
static sl_status apply_stock_part(sl_db_conn *c, sl_arena *a, const inv_stock_delta *d, size_t n,
                                  bool want, sl_err *err)
{
    inv__abuf s, w, oh, rs;
    inv__ab_init(&s, a, n);
    inv__ab_init(&w, a, n);
    inv__ab_init(&oh, a, n);
    inv__ab_init(&rs, a, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i].exists != want)
            continue;
        inv__ab_text(&s, d[i].sku);
        inv__ab_text(&w, d[i].warehouse_id);
        inv__ab_i64(&oh, d[i].d_on_hand);
        inv__ab_i64(&rs, d[i].d_reserved);
        k++;
    }
    if (k == 0)
        return SL_OK;
    const char *v[4] = {inv__ab_done(&s), inv__ab_done(&w), inv__ab_done(&oh), inv__ab_done(&rs)};
    PGresult *r = NULL;
    sl_status st = inv__run(c, want ? "inv_stock_update" : "inv_stock_insert", 4, v, &r, err);
    if (st != SL_OK)
        return st;
    long done = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    if (done != (long)k)
        return sl_err_set(err, SL_INTERNAL, "stock write touched %ld rows instead of %zu", done, k);
    return SL_OK;
}

sl_status inv_store_apply_stock(sl_db_conn *c, sl_arena *a, const inv_stock_delta *d, size_t n,
                                sl_err *err)
{
    sl_status st = apply_stock_part(c, a, d, n, true, err);
    if (st == SL_OK)
        st = apply_stock_part(c, a, d, n, false, err);
    return st;
}

sl_status inv_store_set_policy(sl_db_conn *c, const char *sku, const char *wh, int64_t safety,
                               int64_t threshold, sl_err *err)
{
    char s1[24], s2[24];
    snprintf(s1, sizeof s1, "%" PRId64, safety);
    snprintf(s2, sizeof s2, "%" PRId64, threshold);
    const char *v[4] = {sku, wh, s1, s2};
    return sl_db_exec(c, "inv_set_policy", 4, v, NULL, NULL, NULL, err);
}

sl_status inv_store_ledger_append(sl_db_conn *c, sl_arena *a, const inv_ledger_in *rows, size_t n,
                                  int64_t *ids, int64_t *created_ms, sl_err *err)
{
    for (size_t first = 0; first < n; first += SL_DB_PIPELINE_MAX) {
        size_t k = n - first < SL_DB_PIPELINE_MAX ? n - first : SL_DB_PIPELINE_MAX;
        sl_db_query q[SL_DB_PIPELINE_MAX];
        for (size_t i = 0; i < k; i++) {
            const inv_ledger_in *r = &rows[first + i];
            const char **v = sl_arena_alloc(a, 8 * sizeof *v);
            if (v == NULL)
                return inv__oom(err);
            v[0] = r->sku;
            v[1] = r->warehouse_id;
            v[2] = inv__i64s(a, r->delta);
            v[3] = r->reason;
            v[4] = r->reference != NULL ? r->reference : "";
            v[5] = r->audit.actor != NULL ? r->audit.actor : "";
            v[6] = r->audit.request_id != NULL ? r->audit.request_id : "";
            v[7] = r->audit.trace_id != NULL ? r->audit.trace_id : "";
            if (v[2] == NULL)
                return inv__oom(err);
            q[i] = (sl_db_query){"inv_ledger_append", 8, v, NULL, NULL, NULL};
        }
        sl_status st = sl_db_exec_pipeline(c, q, k, err);
        if (st != SL_OK)
            return st;
        for (size_t i = 0; i < k; i++) {
            sl_db_reader rd;
            sl_db_reader_init(&rd, q[i].res, NULL);
            ids[first + i] = sl_db_int64(&rd, 0, "id");
            created_ms[first + i] = sl_db_int64(&rd, 0, "created_ms");
            if (st == SL_OK)
                st = sl_db_reader_status(&rd, err);
            PQclear(q[i].res);
        }
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

static bool ledger_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    inv_ledger_row *x = &((inv_ledger_row *)rows)[i];
    x->id = sl_db_int64(rd, i, "id");
    x->sku = sl_db_text_or(rd, i, "sku", "");
    x->warehouse_id = sl_db_text_or(rd, i, "warehouse_id", "");
    x->delta = sl_db_int64(rd, i, "delta");
    x->reason = sl_db_text_or(rd, i, "reason", "");
    x->reference = sl_db_text_or(rd, i, "reference", "");
    x->actor = sl_db_text_or(rd, i, "actor", "");
    x->request_id = sl_db_text_or(rd, i, "request_id", "");
    x->trace_id = sl_db_text_or(rd, i, "trace_id", "");
    x->created_ms = sl_db_int64(rd, i, "created_ms");
    return true;
}

sl_status inv_store_ledger_list(sl_db_conn *c, sl_arena *a, const char *sku, const char *wh,
                                const char *before, int limit, inv_ledger_row **out, size_t *n,
                                sl_err *err)
{
    const char *v[4] = {sku, wh != NULL ? wh : "", before, inv__i64s(a, limit)};
    if (v[3] == NULL)
        return inv__oom(err);
    void *rows = NULL;
    sl_status st =
        inv__query_rows(c, a, "inv_ledger_list", 4, v, sizeof **out, ledger_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_stock_get(sl_db_conn *c, sl_arena *a, const char *sku, const char *wh,
                              inv_stock_row **rows, size_t *n, sl_err *err)
{
    const char *v[2] = {sku, wh != NULL ? wh : ""};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "inv_stock_get", 2, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    void *s = NULL;
    st = inv__read_rows(a, r, sizeof **rows, listed_at, &s, n, err);
    if (st == SL_OK)
        *rows = s;
    return st;
}

static bool incoming_at(sl_arena *a, sl_db_reader *rd, int i, void *slot)
{
    (void)a;
    *(int64_t *)slot = sl_db_int64(rd, i, "incoming");
    return true;
}

sl_status inv_store_stock_incoming(sl_db_conn *c, sl_arena *a, const char *sku, const char *wh,
                                   int64_t *incoming, sl_err *err)
{
    const char *v[2] = {sku, wh};
    *incoming = 0;
    return inv__query_one(c, a, "inv_stock_incoming", 2, v, incoming_at, incoming, err);
}

sl_status inv_store_low_stock(sl_db_conn *c, sl_arena *a, const char *region, const char *after_sku,
                              const char *after_wh, int limit, inv_stock_row **rows,
                              const char ***region_of, size_t *n, sl_err *err)
{
    const char *v[4] = {region, after_sku, after_wh, inv__i64s(a, limit)};
    PGresult *r = NULL;
    sl_status st = inv__run(c, "inv_low_stock", 4, v, &r, err);
    if (st != SL_OK)
        return st;
    sl_db_reader reader, *rd = &reader;
    sl_db_reader_init(rd, r, a);
    int k = sl_db_reader_rows(rd);
    inv_stock_row *s = inv__alloc_rows(a, (size_t)k, sizeof *s);
    const char **rg = inv__alloc_rows(a, (size_t)k, sizeof *rg);
    for (int i = 0; s != NULL && rg != NULL && i < k; i++) {
        listed_from(a, rd, i, &s[i]);
        rg[i] = sl_db_text_or(rd, i, "region", "");
    }
    st = s == NULL || rg == NULL ? inv__oom(err) : sl_db_reader_status(rd, err);
    PQclear(r);
    if (st != SL_OK)
        return st;
    *rows = s;
    *region_of = rg;
    *n = (size_t)k;
    return SL_OK;
}

static bool avg_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    inv_avg_row *x = &((inv_avg_row *)rows)[i];
    x->sku = sl_db_text_or(rd, i, "sku", "");
    x->tracked_ms = sl_db_int64_or(rd, i, "tracked_ms", 0);
    x->start_on_hand = sl_db_int64_or(rd, i, "start_oh", 0);
    x->end_on_hand = sl_db_int64_or(rd, i, "end_oh", 0);
    x->changes = sl_db_int64_or(rd, i, "changes", 0);
    x->average_on_hand = sl_db_double_or(rd, i, "avg_oh", 0);
    return x->sku != NULL;
}

sl_status inv_store_average_stock(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t n,
                                  const char *warehouse_id, int64_t from_ms, int64_t to_ms,
                                  inv_avg_row **out, size_t *nout, sl_err *err)
{
    const char *v[4] = {inv__text_array(a, skus, n), warehouse_id, inv__i64s(a, from_ms),
                        inv__i64s(a, to_ms)};
    void *rows = NULL;
    sl_status st =
        inv__query_rows(c, a, "inv_average_stock", 4, v, sizeof **out, avg_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_idem_get(sl_db_conn *c, sl_arena *a, const char *op, const char *key,
                             bool *found, const uint8_t **request, size_t *request_len,
                             const uint8_t **result, size_t *result_len, sl_err *err)
{
    const char *v[2] = {op, key};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "inv_idem_get", 2, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    *found = sl_db_reader_rows(&rd) > 0;
    if (*found) {
        *request = sl_db_bytes(&rd, 0, "request", request_len);
        *result = sl_db_bytes(&rd, 0, "result", result_len);
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(r);
    return st;
}

sl_status inv_store_idem_put(sl_db_conn *c, sl_arena *a, const char *op, const char *key,
                             const uint8_t *request, size_t request_len, const uint8_t *result,
                             size_t result_len, sl_err *err)
{
    const char *v[4] = {op, key, inv__hexs(a, request, request_len),
                        inv__hexs(a, result, result_len)};
    return inv__run(c, "inv_idem_put", 4, v, NULL, err);
}

sl_status inv_store_locked_read(sl_db_conn *c, sl_arena *a, const int64_t *keys, size_t nkeys,
                                const char *const *ids, size_t nids, const char *const *skus,
                                size_t nskus, const char *const *customers, size_t ncustomers,
                                inv_locked_read *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    const char *lv[1] = {inv__i64_array(a, keys, nkeys)};
    const char *rv[1] = {inv__text_array(a, ids, nids)};
    const char *sv[1] = {inv__text_array(a, skus, nskus)};
    const char *mv[2] = {sv[0], inv__text_array(a, customers, ncustomers)};
    if (lv[0] == NULL || rv[0] == NULL || sv[0] == NULL || mv[1] == NULL)
        return inv__oom(err);
    sl_db_query q[5] = {{"inv_lock", 1, lv, NULL},
                        {"inv_network", 0, NULL, NULL},
                        {"inv_load_stock", 1, sv, NULL},
                        {"inv_resv_lookup", 1, rv, NULL},
                        {"inv_sfence_eligible", 2, mv, NULL}};
    /* The optional reads take the next slots: the look-up of ids, then the
     * stock fences' members. */
    size_t nq = 3, iq_resv = 0, iq_members = 0;
    if (nids > 0)
        iq_resv = nq++;
    if (ncustomers > 0) {
        q[nq] = q[4];
        iq_members = nq++;
    }
    sl_status st = sl_db_exec_pipeline(c, q, nq, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, q[0].res, NULL);
    out->now_ms = sl_db_int64(&rd, 0, "now_ms");
    st = sl_db_reader_status(&rd, err);
    PQclear(q[0].res);
    q[0].res = NULL;
    void *routes = NULL, *resv = NULL, *members = NULL;
    if (st == SL_OK) {
        st = inv__read_rows(a, q[1].res, sizeof *out->routes, inv__route_at, &routes, &out->nroutes,
                            err);
        q[1].res = NULL;
    }
    if (st == SL_OK) {
        st = stock_result(a, q[2].res, &out->products, &out->nproducts, &out->rows, &out->nrows,
                          err);
        q[2].res = NULL;
    }
    if (st == SL_OK && iq_resv > 0) {
        st = inv__read_rows(a, q[iq_resv].res, sizeof *out->existing, inv__resv_at, &resv,
                            &out->nexisting, err);
        q[iq_resv].res = NULL;
    }
    if (st == SL_OK && iq_members > 0) {
        st = inv__read_rows(a, q[iq_members].res, sizeof *out->members, inv__member_at, &members,
                            &out->nmembers, err);
        q[iq_members].res = NULL;
    }
    for (size_t i = 1; i < nq; i++)
        PQclear(q[i].res);
    out->routes = routes;
    out->existing = resv;
    out->members = members;
    return st;
}
