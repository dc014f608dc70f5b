/*
 * inv_store_resv: the inventory store's SQL for reservations and their allocations
 * (see inv_store.h for the functions, inv_store_int.h for the kit they
 * share).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_store_int.h"

#define RESV_COLS                                                                                  \
    "id, customer_id, region, status, request, result, " MS("created_at") " AS created_ms, " MS(   \
        "expires_at") " AS expires_ms, coalesce(" MS("closed_at") ", 0) AS closed_ms"

const sl_db_stmt inv__resv_stmts[] = {
    {"inv_resv_lookup", "SELECT " RESV_COLS " FROM reservation WHERE id = ANY ($1::text[])", 1},
    /* A Reserve batch's writes in one round trip: the reservations, their
     * allocations and the reserved units of existing stock rows. */
    {"inv_reserve_write",
     "WITH r AS (INSERT INTO reservation (id, customer_id, region, status, request, result, "
     "created_at, expires_at, actor, request_id, trace_id) SELECT id, cu, rg, 'HELD', "
     "decode(rq, 'hex'), decode(rs, 'hex'), " TS("cr") ", " TS(
         "ex") ", ac, rq_id, tr "
               "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
               "$6::int8[], "
               "$7::int8[], $21::text[], $22::text[], $23::text[]) "
               "AS t(id, cu, rg, rq, rs, cr, ex, ac, rq_id, tr)), "
               "a AS (INSERT INTO reservation_alloc (reservation_id, line_no, part_no, sku, "
               "warehouse_id, "
               "qty, inbound_id, awaiting, promotion_id) SELECT r, l, p, s, w, q, NULLIF(i, ''), "
               "aw, "
               "NULLIF(pr, '') FROM unnest($8::text[], $9::int4[], $10::int4[], $11::text[], "
               "$12::text[], "
               "$13::int8[], $14::text[], $15::int8[], $16::text[]) "
               "AS t(r, l, p, s, w, q, i, aw, pr)) "
               "UPDATE stock s SET on_hand = s.on_hand + d.oh, reserved = s.reserved + d.rs, "
               "updated_at = now() FROM unnest($17::text[], $18::text[], $19::int8[], $20::int8[]) "
               "AS d(sku, wh, oh, rs) WHERE s.sku = d.sku AND s.warehouse_id = d.wh",
     23},
    {"inv_allocs",
     "SELECT " ALLOC_COLS " FROM reservation_alloc a WHERE a.reservation_id = ANY ($1::text[]) "
     "ORDER BY a.reservation_id, a.line_no, a.part_no",
     1},
    {"inv_resv_close",
     "UPDATE reservation r SET status = $2, closed_at = now(), closed_by = d.ac, "
     "closed_request_id = d.rq, closed_trace_id = d.tr "
     "FROM unnest($1::text[], $3::text[], $4::text[], $5::text[]) AS d(id, ac, rq, tr) "
     "WHERE r.id = d.id AND r.status = 'HELD'",
     5},
    {"inv_alloc_fulfil",
     "UPDATE reservation_alloc a SET awaiting = a.awaiting - d.m "
     "FROM unnest($1::text[], $2::int4[], $3::int4[], $4::int8[]) AS d(r, l, p, m) "
     "WHERE a.reservation_id = d.r AND a.line_no = d.l AND a.part_no = d.p",
     4},
    {"inv_resv_expired",
     "SELECT id FROM reservation WHERE status = 'HELD' AND expires_at <= now() "
     "ORDER BY expires_at LIMIT $1::int4",
     1},

    {NULL, NULL, 0},
};

void inv__alloc_from(sl_db_reader *rd, int i, inv_alloc_row *x)
{
    x->reservation_id = sl_db_text_or(rd, i, "reservation_id", "");
    x->line_no = (int)sl_db_int64_or(rd, i, "line_no", 0);
    x->part_no = (int)sl_db_int64_or(rd, i, "part_no", 0);
    x->sku = sl_db_text_or(rd, i, "sku", "");
    x->warehouse_id = sl_db_text_or(rd, i, "warehouse_id", "");
    x->qty = sl_db_int64_or(rd, i, "qty", 0);
    x->inbound_id = sl_db_text_or(rd, i, "inbound_id", "");
    x->awaiting = sl_db_int64_or(rd, i, "awaiting", 0);
    x->promotion_id = sl_db_text_or(rd, i, "promotion_id", "");
    x->status = "";
}

static bool alloc_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    inv_alloc_row *x = rows;
    (void)a;
    inv__alloc_from(rd, i, &x[i]);
    return true;
}

static sl_status alloc_rows_query(sl_db_conn *c, sl_arena *a, const char *stmt, int n,
                                  const char *const *v, inv_alloc_row **out, size_t *nout,
                                  sl_err *err)
{
    void *rows = NULL;
    sl_status st = inv__query_rows(c, a, stmt, n, v, sizeof **out, alloc_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

bool inv__resv_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    inv_resv_row *x = rows;
    x[i].id = sl_db_text_or(rd, i, "id", "");
    x[i].customer_id = sl_db_text_or(rd, i, "customer_id", "");
    x[i].region = sl_db_text_or(rd, i, "region", "");
    x[i].status = sl_db_text_or(rd, i, "status", "");
    x[i].request = sl_db_bytes(rd, i, "request", &x[i].request_len);
    x[i].result = sl_db_bytes(rd, i, "result", &x[i].result_len);
    x[i].created_ms = sl_db_int64_or(rd, i, "created_ms", 0);
    x[i].expires_ms = sl_db_int64_or(rd, i, "expires_ms", 0);
    x[i].closed_ms = sl_db_int64_or(rd, i, "closed_ms", 0);
    return x[i].request != NULL && x[i].result != NULL;
}

sl_status inv_store_resv_lookup(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                                inv_resv_row **out, size_t *nout, sl_err *err)
{
    const char *v[1] = {inv__text_array(a, ids, n)};
    void *rows = NULL;
    sl_status st = inv__query_rows(c, a, "inv_resv_lookup", 1, v, sizeof **out, inv__resv_at, &rows,
                                   nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

/* The 3 array parameters of n audits (actor, request id, trace id). */
static void audit_params(sl_arena *a, const sl_audit *const *audits, size_t n, const char **v)
{
    inv__abuf ac, rq, tr;
    inv__ab_init(&ac, a, n);
    inv__ab_init(&rq, a, n);
    inv__ab_init(&tr, a, n);
    for (size_t i = 0; i < n; i++) {
        inv__ab_text(&ac, audits[i]->actor != NULL ? audits[i]->actor : "");
        inv__ab_text(&rq, audits[i]->request_id != NULL ? audits[i]->request_id : "");
        inv__ab_text(&tr, audits[i]->trace_id != NULL ? audits[i]->trace_id : "");
    }
    v[0] = inv__ab_done(&ac);
    v[1] = inv__ab_done(&rq);
    v[2] = inv__ab_done(&tr);
}

/* The 7 array parameters of a reservation insert. */
static void resv_params(sl_arena *a, const inv_resv_row *rows, size_t n, const char **v)
{
    inv__abuf id, cu, rg, rq, rs, cr, ex;
    inv__ab_init(&id, a, n);
    inv__ab_init(&cu, a, n);
    inv__ab_init(&rg, a, n);
    inv__ab_init(&rq, a, n * 8);
    inv__ab_init(&rs, a, n * 16);
    inv__ab_init(&cr, a, n);
    inv__ab_init(&ex, a, n);
    for (size_t i = 0; i < n; i++) {
        inv__ab_text(&id, rows[i].id);
        inv__ab_text(&cu, rows[i].customer_id);
        inv__ab_text(&rg, rows[i].region);
        inv__ab_hex(&rq, rows[i].request, rows[i].request_len);
        inv__ab_hex(&rs, rows[i].result, rows[i].result_len);
        inv__ab_i64(&cr, rows[i].created_ms);
        inv__ab_i64(&ex, rows[i].expires_ms);
    }
    v[0] = inv__ab_done(&id);
    v[1] = inv__ab_done(&cu);
    v[2] = inv__ab_done(&rg);
    v[3] = inv__ab_done(&rq);
    v[4] = inv__ab_done(&rs);
    v[5] = inv__ab_done(&cr);
    v[6] = inv__ab_done(&ex);
}

/* The 9 array parameters of an allocation insert. */
static void alloc_params(sl_arena *a, const inv_alloc_row *rows, size_t n, const char **v)
{
    inv__abuf r, l, p, s, w, q, ib, aw, pr;
    inv__ab_init(&r, a, n);
    inv__ab_init(&l, a, n);
    inv__ab_init(&p, a, n);
    inv__ab_init(&s, a, n);
    inv__ab_init(&w, a, n);
    inv__ab_init(&q, a, n);
    inv__ab_init(&ib, a, n);
    inv__ab_init(&aw, a, n);
    inv__ab_init(&pr, a, n);
    for (size_t i = 0; i < n; i++) {
        inv__ab_text(&r, rows[i].reservation_id);
        inv__ab_i64(&l, rows[i].line_no);
        inv__ab_i64(&p, rows[i].part_no);
        inv__ab_text(&s, rows[i].sku);
        inv__ab_text(&w, rows[i].warehouse_id);
        inv__ab_i64(&q, rows[i].qty);
        inv__ab_text(&ib, rows[i].inbound_id);
        inv__ab_i64(&aw, rows[i].awaiting);
        inv__ab_text(&pr, rows[i].promotion_id);
    }
    v[0] = inv__ab_done(&r);
    v[1] = inv__ab_done(&l);
    v[2] = inv__ab_done(&p);
    v[3] = inv__ab_done(&s);
    v[4] = inv__ab_done(&w);
    v[5] = inv__ab_done(&q);
    v[6] = inv__ab_done(&ib);
    v[7] = inv__ab_done(&aw);
    v[8] = inv__ab_done(&pr);
}

/* The 4 array parameters of a stock update (existing rows only). */
static size_t delta_params(sl_arena *a, const inv_stock_delta *d, size_t n, const char **v)
{
    inv__abuf s, w, oh, rs;
    inv__ab_init(&s, a, n);
    inv__ab_init(&w, a, n);
    inv__ab_init(&oh, a, n);
    inv__ab_init(&rs, a, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!d[i].exists)
            continue;
        inv__ab_text(&s, d[i].sku);
        inv__ab_text(&w, d[i].warehouse_id);
        inv__ab_i64(&oh, d[i].d_on_hand);
        inv__ab_i64(&rs, d[i].d_reserved);
        k++;
    }
    v[0] = inv__ab_done(&s);
    v[1] = inv__ab_done(&w);
    v[2] = inv__ab_done(&oh);
    v[3] = inv__ab_done(&rs);
    return k;
}

sl_status inv_store_reserve_write(sl_db_conn *c, sl_arena *a, const inv_resv_row *rows,
                                  size_t nrows, const inv_alloc_row *allocs, size_t nallocs,
                                  const inv_stock_delta *d, size_t nd, sl_err *err)
{
    for (size_t i = 0; i < nd; i++)
        if (!d[i].exists)
            return sl_err_set(err, SL_INTERNAL, "a reservation batch would create a stock row");
    const char *v[23];
    resv_params(a, rows, nrows, v);
    alloc_params(a, allocs, nallocs, v + 7);
    size_t k = delta_params(a, d, nd, v + 16);
    const sl_audit **audits = sl_arena_alloc(a, (nrows + 1) * sizeof *audits);
    if (audits == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < nrows; i++)
        audits[i] = &rows[i].audit;
    audit_params(a, audits, nrows, v + 20);
    PGresult *r = NULL;
    sl_status st = inv__run(c, "inv_reserve_write", 23, v, &r, err);
    if (st != SL_OK)
        return st;
    long done = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    if (done != (long)k)
        return sl_err_set(err, SL_INTERNAL, "stock write touched %ld rows instead of %zu", done, k);
    return SL_OK;
}

sl_status inv_store_allocs(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                           inv_alloc_row **out, size_t *nout, sl_err *err)
{
    const char *v[1] = {inv__text_array(a, ids, n)};
    return alloc_rows_query(c, a, "inv_allocs", 1, v, out, nout, err);
}

sl_status inv_store_resv_close(sl_db_conn *c, sl_arena *a, const char *const *ids,
                               const sl_audit *audits, size_t n, const char *status,
                               int64_t *changed, sl_err *err)
{
    const char *v[5] = {inv__text_array(a, ids, n), status};
    const sl_audit **ap = sl_arena_alloc(a, (n + 1) * sizeof *ap);
    if (ap == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++)
        ap[i] = &audits[i];
    audit_params(a, ap, n, v + 2);
    PGresult *r = NULL;
    sl_status st = inv__run(c, "inv_resv_close", 5, v, &r, err);
    if (st != SL_OK)
        return st;
    *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return SL_OK;
}

sl_status inv_store_alloc_fulfil(sl_db_conn *c, sl_arena *a, const inv_alloc_row *rows,
                                 const int64_t *moved, size_t n, sl_err *err)
{
    if (n == 0)
        return SL_OK;
    inv__abuf r, l, p, m;
    inv__ab_init(&r, a, n);
    inv__ab_init(&l, a, n);
    inv__ab_init(&p, a, n);
    inv__ab_init(&m, a, n);
    for (size_t i = 0; i < n; i++) {
        inv__ab_text(&r, rows[i].reservation_id);
        inv__ab_i64(&l, rows[i].line_no);
        inv__ab_i64(&p, rows[i].part_no);
        inv__ab_i64(&m, moved[i]);
    }
    const char *v[4] = {inv__ab_done(&r), inv__ab_done(&l), inv__ab_done(&p), inv__ab_done(&m)};
    return inv__run(c, "inv_alloc_fulfil", 4, v, NULL, err);
}

sl_status inv_store_resv_expired(sl_db_conn *c, sl_arena *a, int limit, const char ***ids,
                                 size_t *n, sl_err *err)
{
    return inv__id_list(c, a, "inv_resv_expired", limit, ids, n, err);
}
