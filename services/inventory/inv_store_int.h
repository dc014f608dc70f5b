/*
 * inv_store_int.h: what the inventory store's files share, and nothing the
 * rest of the service may use (it includes inv_store.h only).
 *
 * The store is split by aggregate (inv_store_product.c,
 * inv_store_network.c, inv_store_stock.c, inv_store_inbound.c,
 * inv_store_resv.c, inv_store_promo.c, inv_store_check.c), each with its
 * statement table, registered together by inv_store_register
 * (inv_store.c).  The kit below is inv_store.c's: array parameters in
 * PostgreSQL's literal form, running a statement whose parameters were
 * built in the arena, and copying rows into arena memory through
 * sl_db_row's readers (columns by name, failing loudly).  Internal names
 * carry the inv__ prefix.
 */
#ifndef INV_STORE_INT_H
#define INV_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "inv_store.h"
#include "sl_arena.h"
#include "sl_db.h"
#include "sl_db_row.h"
#include "sl_status.h"

/* A timestamptz column as Unix milliseconds, and back. */
#define MS(x) "(extract(epoch FROM " x ") * 1000)::int8"
#define TS(p) "to_timestamp((" p ")::int8 / 1000.0)"

/* An allocation's columns (inv_store_resv.c and the backorders of
 * inv_store_inbound.c). */
#define ALLOC_COLS                                                                                 \
    "a.reservation_id, a.line_no, a.part_no, a.sku, a.warehouse_id, a.qty, "                       \
    "coalesce(a.inbound_id, '') AS inbound_id, a.awaiting, "                                       \
    "coalesce(a.promotion_id, '') AS promotion_id"

/* The statement tables, one per aggregate. */
extern const sl_db_stmt inv__product_stmts[];
extern const sl_db_stmt inv__network_stmts[];
extern const sl_db_stmt inv__stock_stmts[];
extern const sl_db_stmt inv__inbound_stmts[];
extern const sl_db_stmt inv__resv_stmts[];
extern const sl_db_stmt inv__promo_stmts[];
extern const sl_db_stmt inv__check_stmts[];

/* ---- parameters ---- */

/* A PostgreSQL array literal growing in the arena; out of memory is
 * sticky and shows as inv__ab_done returning NULL. */
typedef struct inv__abuf {
    sl_arena *a;
    char *p;
    size_t len, cap;
    bool oom;
    bool first;
} inv__abuf;

void inv__ab_init(inv__abuf *b, sl_arena *a, size_t n_hint);
/* A quoted element: backslash and double quote escaped. */
void inv__ab_text(inv__abuf *b, const char *s);
void inv__ab_i64(inv__abuf *b, int64_t v);
void inv__ab_bool(inv__abuf *b, bool v);
/* Bytes as a quoted hex element (the SQL decodes it). */
void inv__ab_hex(inv__abuf *b, const uint8_t *p, size_t n);
/* The literal, or NULL when memory ran out. */
const char *inv__ab_done(inv__abuf *b);

/* Each NULL when the arena is exhausted (inv__run reports it). */
const char *inv__i64s(sl_arena *a, int64_t v);
const char *inv__hexs(sl_arena *a, const uint8_t *p, size_t n);
const char *inv__text_array(sl_arena *a, const char *const *v, size_t n);
const char *inv__i64_array(sl_arena *a, const int64_t *v, size_t n);

/* RESOURCE_EXHAUSTED "out of memory building a query". */
sl_status inv__oom(sl_err *err);

/* Runs stmt; any NULL parameter pointer (an allocation that failed while
 * building it) is reported as out of memory instead. */
sl_status inv__run(sl_db_conn *c, const char *stmt, int n, const char *const *v, PGresult **res,
                   sl_err *err);

/* ---- rows ---- */

/* n zeroed elements (at least one) of size bytes. */
void *inv__alloc_rows(sl_arena *a, size_t n, size_t size);

/* Reads row i of rd into element i of rows, an array whose element type
 * only the reader knows (columns by name, sl_db_row.h; the caller checks
 * the reader's status after the last row); false when arena memory ran
 * out. */
typedef bool (*inv__row_reader)(sl_arena *a, sl_db_reader *rd, int i, void *rows);

/* The tail every list query shares: copies each row of r into a new arena
 * array of `size`-byte elements and clears r on every path.  *out and *n
 * are set only on success, so a failed call leaves the caller's outputs as
 * they were. */
sl_status inv__read_rows(sl_arena *a, PGresult *r, size_t size, inv__row_reader read, void **out,
                         size_t *n, sl_err *err);

/* inv__run() then inv__read_rows(). */
sl_status inv__query_rows(sl_db_conn *c, sl_arena *a, const char *stmt, int np,
                          const char *const *v, size_t size, inv__row_reader read, void **out,
                          size_t *n, sl_err *err);

/* inv__run() for a statement returning at most one row, read into slot
 * (a one-element array) when there is one; the caller sets the slot empty
 * first. */
sl_status inv__query_one(sl_db_conn *c, sl_arena *a, const char *stmt, int np, const char *const *v,
                         inv__row_reader read, void *slot, sl_err *err);

/* The ids a one-column statement of one limit parameter returns. */
sl_status inv__id_list(sl_db_conn *c, sl_arena *a, const char *stmt, int limit, const char ***ids,
                       size_t *n, sl_err *err);

/* Row readers shared between aggregates: an inv_route (inv_network's
 * columns), an inv_resv_row (inv_store_resv.c), and an allocation's
 * ALLOC_COLS (inv_store_resv.c; status is left "", only the backorders
 * of inv_store_inbound.c read it). */
bool inv__route_at(sl_arena *a, sl_db_reader *rd, int i, void *rows);
bool inv__resv_at(sl_arena *a, sl_db_reader *rd, int i, void *rows);
/* A (stock fence, customer) pair of inv_sfence_eligible, as an
 * inv_usage_row with qty and limit_qty 0. */
bool inv__member_at(sl_arena *a, sl_db_reader *rd, int i, void *rows);
void inv__alloc_from(sl_db_reader *rd, int i, inv_alloc_row *x);

#endif
