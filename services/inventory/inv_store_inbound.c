/*
 * inv_store_inbound: the inventory store's SQL for inbound shipments, their delays, backorders and
 * receipts (see inv_store.h for the functions, inv_store_int.h for the kit they share).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_store_int.h"

#define INB_COLS                                                                                   \
    "id, kind, sku, warehouse_id, source_warehouse_id, supplier, reference, qty, received, "       \
    "backordered, " MS("expected_at") " AS expected_ms, " MS(                                      \
        "original_expected_at") " AS original_ms, " MS("created_at") " AS created_ms, request"

const sl_db_stmt inv__inbound_stmts[] = {
    {"inv_open_inbound",
     "SELECT id, sku, warehouse_id, qty - received - backordered AS unallocated, " MS(
         "expected_at") " AS expected_ms FROM inbound WHERE sku = ANY ($1::text[]) "
                        "AND received < qty AND qty - received - backordered > 0 ORDER BY "
                        "expected_at, id",
     1},
    {"inv_inbound_get", "SELECT " INB_COLS " FROM inbound WHERE id = $1", 1},
    {"inv_inbound_delays",
     "SELECT " MS("previous_expected_at") " AS prev_ms, " MS(
         "expected_at") " AS new_ms, reason, " MS("created_at") " AS created_ms FROM inbound_delay "
                                                                "WHERE inbound_id = $1 ORDER BY "
                                                                "seq",
     1},
    {"inv_inbound_insert",
     "INSERT INTO inbound (id, kind, sku, warehouse_id, source_warehouse_id, supplier, "
     "reference, qty, expected_at, original_expected_at, request, actor, request_id, trace_id) "
     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::int8, " TS("$9") ", " TS(
         "$9") ", decode($10, 'hex'), $11, $12, $13)",
     13},
    {"inv_inbound_update",
     "UPDATE inbound SET received = received + $2::int8, backordered = backordered + $3::int8, "
     "expected_at = CASE WHEN $4::int8 = 0 THEN expected_at ELSE " TS("$4") " END WHERE id = $1",
     4},
    {"inv_inbound_delay_add",
     "INSERT INTO inbound_delay (inbound_id, seq, previous_expected_at, expected_at, reason, "
     "actor, request_id, trace_id) "
     "SELECT $1, coalesce(max(seq), 0) + 1, " TS("$2") ", " TS(
         "$3") ", $4, $5, $6, $7 FROM inbound_delay WHERE inbound_id = $1",
     7},
    {"inv_inbound_backorder",
     "UPDATE inbound i SET backordered = i.backordered + d.n "
     "FROM unnest($1::text[], $2::int8[]) AS d(id, n) WHERE i.id = d.id",
     2},
    {"inv_inbound_list",
     "SELECT " INB_COLS " FROM inbound WHERE ($1 = '' OR sku = $1) AND ($2 = '' OR "
     "warehouse_id = $2) AND (NOT $3::bool OR received < qty) AND id > $4 ORDER BY id "
     "LIMIT $5::int4",
     5},
    {"inv_backorders",
     "SELECT " ALLOC_COLS ", r.status FROM reservation_alloc a "
     "JOIN reservation r ON r.id = a.reservation_id WHERE a.inbound_id = $1 AND a.awaiting > 0 "
     "AND r.status IN ('HELD', 'COMMITTED') "
     "ORDER BY a.created_at, a.reservation_id, a.line_no, a.part_no",
     1},
    {"inv_receipt_get",
     "SELECT inbound_id, request, result FROM inbound_receipt WHERE receipt_id = $1", 1},
    {"inv_receipt_put",
     "INSERT INTO inbound_receipt (receipt_id, inbound_id, qty, request, result, actor, "
     "request_id, trace_id) "
     "VALUES ($1, $2, $3::int8, decode($4, 'hex'), decode($5, 'hex'), $6, $7, $8)",
     8},

    {NULL, NULL, 0},
};

static bool open_inbound_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    inv_open_inbound *o = rows;
    o[i].id = sl_db_text_or(rd, i, "id", "");
    o[i].sku = sl_db_text_or(rd, i, "sku", "");
    o[i].warehouse_id = sl_db_text_or(rd, i, "warehouse_id", "");
    o[i].unallocated = sl_db_int64_or(rd, i, "unallocated", 0);
    o[i].expected_ms = sl_db_int64_or(rd, i, "expected_ms", 0);
    return true;
}

sl_status inv_store_open_inbound(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t n,
                                 inv_open_inbound **out, size_t *nout, sl_err *err)
{
    const char *v[1] = {inv__text_array(a, skus, n)};
    void *rows = NULL;
    sl_status st = inv__query_rows(c, a, "inv_open_inbound", 1, v, sizeof **out, open_inbound_at,
                                   &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

static bool inbound_from(sl_arena *a, sl_db_reader *rd, int i, inv_inbound_row *b)
{
    (void)a;
    b->id = sl_db_text_or(rd, i, "id", "");
    b->kind = sl_db_text_or(rd, i, "kind", "");
    b->sku = sl_db_text_or(rd, i, "sku", "");
    b->warehouse_id = sl_db_text_or(rd, i, "warehouse_id", "");
    b->source_warehouse_id = sl_db_text_or(rd, i, "source_warehouse_id", "");
    b->supplier = sl_db_text_or(rd, i, "supplier", "");
    b->reference = sl_db_text_or(rd, i, "reference", "");
    b->qty = sl_db_int64_or(rd, i, "qty", 0);
    b->received = sl_db_int64_or(rd, i, "received", 0);
    b->backordered = sl_db_int64_or(rd, i, "backordered", 0);
    b->expected_ms = sl_db_int64_or(rd, i, "expected_ms", 0);
    b->original_ms = sl_db_int64_or(rd, i, "original_ms", 0);
    b->created_ms = sl_db_int64_or(rd, i, "created_ms", 0);
    b->request = sl_db_bytes(rd, i, "request", &b->request_len);
    return b->request != NULL;
}

static bool inbound_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    inv_inbound_row *b = rows;
    return inbound_from(a, rd, i, &b[i]);
}

static bool delay_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    Shelfline__V1__InboundDelay **d = rows;
    Shelfline__V1__InboundDelay *x = sl_arena_alloc(a, sizeof *x);
    if (x == NULL)
        return false;
    shelfline__v1__inbound_delay__init(x);
    x->previous_expected_at_ms = sl_db_int64_or(rd, i, "prev_ms", 0);
    x->expected_at_ms = sl_db_int64_or(rd, i, "new_ms", 0);
    x->reason = (char *)sl_db_text_or(rd, i, "reason", "");
    x->recorded_at_ms = sl_db_int64_or(rd, i, "created_ms", 0);
    d[i] = x;
    return true;
}

sl_status inv_store_inbound_get(sl_db_conn *c, sl_arena *a, const char *id, inv_inbound_row **out,
                                sl_err *err)
{
    const char *v[1] = {id};
    PGresult *r = NULL;
    *out = NULL;
    sl_status st = sl_db_exec(c, "inv_inbound_get", 1, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    if (sl_db_reader_rows(&rd) > 0) {
        inv_inbound_row *b = sl_arena_zalloc(a, sizeof *b);
        if (b == NULL || !inbound_from(a, &rd, 0, b))
            st = inv__oom(err);
        else if ((st = sl_db_reader_status(&rd, err)) == SL_OK)
            *out = b;
    }
    PQclear(r);
    return st;
}

sl_status inv_store_inbound_delays(sl_db_conn *c, sl_arena *a, const char *id,
                                   Shelfline__V1__InboundDelay ***out, size_t *n, sl_err *err)
{
    const char *v[1] = {id};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "inv_inbound_delays", 1, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    void *rows = NULL;
    st = inv__read_rows(a, r, sizeof **out, delay_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

static const char *aud_or_empty(const char *s)
{
    return s != NULL ? s : "";
}

sl_status inv_store_inbound_insert(sl_db_conn *c, sl_arena *a, const inv_inbound_row *b,
                                   sl_err *err)
{
    const char *v[13] = {b->id,
                         b->kind,
                         b->sku,
                         b->warehouse_id,
                         b->source_warehouse_id,
                         b->supplier,
                         b->reference,
                         inv__i64s(a, b->qty),
                         inv__i64s(a, b->expected_ms),
                         inv__hexs(a, b->request, b->request_len),
                         aud_or_empty(b->audit.actor),
                         aud_or_empty(b->audit.request_id),
                         aud_or_empty(b->audit.trace_id)};
    return inv__run(c, "inv_inbound_insert", 13, v, NULL, err);
}

sl_status inv_store_inbound_update(sl_db_conn *c, const char *id, int64_t d_received,
                                   int64_t d_backordered, int64_t new_expected_ms, sl_err *err)
{
    char s1[24], s2[24], s3[24];
    snprintf(s1, sizeof s1, "%" PRId64, d_received);
    snprintf(s2, sizeof s2, "%" PRId64, d_backordered);
    snprintf(s3, sizeof s3, "%" PRId64, new_expected_ms);
    const char *v[4] = {id, s1, s2, s3};
    return sl_db_exec(c, "inv_inbound_update", 4, v, NULL, NULL, NULL, err);
}

sl_status inv_store_inbound_delay_add(sl_db_conn *c, const char *id, int64_t prev_ms,
                                      int64_t new_ms, const char *reason, const sl_audit *audit,
                                      sl_err *err)
{
    char s1[24], s2[24];
    snprintf(s1, sizeof s1, "%" PRId64, prev_ms);
    snprintf(s2, sizeof s2, "%" PRId64, new_ms);
    const char *v[7] = {id,
                        s1,
                        s2,
                        reason,
                        aud_or_empty(audit->actor),
                        aud_or_empty(audit->request_id),
                        aud_or_empty(audit->trace_id)};
    return sl_db_exec(c, "inv_inbound_delay_add", 7, v, NULL, NULL, NULL, err);
}

sl_status inv_store_inbound_backorder(sl_db_conn *c, sl_arena *a, const char *const *ids,
                                      const int64_t *deltas, size_t n, sl_err *err)
{
    if (n == 0)
        return SL_OK;
    inv__abuf d;
    inv__ab_init(&d, a, n);
    for (size_t i = 0; i < n; i++)
        inv__ab_i64(&d, deltas[i]);
    const char *v[2] = {inv__text_array(a, ids, n), inv__ab_done(&d)};
    return inv__run(c, "inv_inbound_backorder", 2, v, NULL, err);
}

sl_status inv_store_inbound_list(sl_db_conn *c, sl_arena *a, const char *sku, const char *wh,
                                 bool open_only, const char *after, int limit,
                                 inv_inbound_row **out, size_t *n, sl_err *err)
{
    const char *v[5] = {sku, wh, open_only ? "true" : "false", after, inv__i64s(a, limit)};
    void *rows = NULL;
    sl_status st =
        inv__query_rows(c, a, "inv_inbound_list", 5, v, sizeof **out, inbound_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

/* An allocation awaiting units, with its reservation's status. */
static bool backorder_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    inv_alloc_row *x = rows;
    inv__alloc_from(rd, i, &x[i]);
    x[i].status = sl_db_text_or(rd, i, "status", "");
    return true;
}

sl_status inv_store_backorders(sl_db_conn *c, sl_arena *a, const char *inbound_id,
                               inv_alloc_row **out, size_t *n, sl_err *err)
{
    const char *v[1] = {inbound_id};
    void *rows = NULL;
    sl_status st =
        inv__query_rows(c, a, "inv_backorders", 1, v, sizeof **out, backorder_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_receipt_get(sl_db_conn *c, sl_arena *a, const char *receipt_id, bool *found,
                                const char **inbound_id, const uint8_t **request,
                                size_t *request_len, const uint8_t **result, size_t *result_len,
                                sl_err *err)
{
    const char *v[1] = {receipt_id};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "inv_receipt_get", 1, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    *found = sl_db_reader_rows(&rd) > 0;
    if (*found) {
        *inbound_id = sl_db_text_or(&rd, 0, "inbound_id", "");
        *request = sl_db_bytes(&rd, 0, "request", request_len);
        *result = sl_db_bytes(&rd, 0, "result", result_len);
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(r);
    return st;
}

sl_status inv_store_receipt_put(sl_db_conn *c, sl_arena *a, const char *receipt_id,
                                const char *inbound_id, int64_t qty, const uint8_t *request,
                                size_t request_len, const uint8_t *result, size_t result_len,
                                const sl_audit *audit, sl_err *err)
{
    const char *v[8] = {receipt_id,
                        inbound_id,
                        inv__i64s(a, qty),
                        inv__hexs(a, request, request_len),
                        inv__hexs(a, result, result_len),
                        aud_or_empty(audit->actor),
                        aud_or_empty(audit->request_id),
                        aud_or_empty(audit->trace_id)};
    return inv__run(c, "inv_receipt_put", 8, v, NULL, err);
}
