/*
 * inv_store: the inventory service's SQL (see inv_store.h).
 *
 * The statements and functions live with their aggregate, one file each:
 * inv_store_product.c, inv_store_network.c (warehouses, transit times),
 * inv_store_stock.c (stock, ledger, locks, idempotency keys),
 * inv_store_inbound.c, inv_store_resv.c (reservations, allocations),
 * inv_store_promo.c and inv_store_check.c.  Each has its own statement
 * table; this file registers them all and holds the kit they share
 * (inv_store_int.h): array parameters, running a statement, copying rows
 * into arena memory (results are cleared before returning, on every path).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_store_int.h"

sl_status inv_store_register(sl_db *db, sl_err *err)
{
    static const sl_db_stmt *const tables[] = {
        inv__stock_stmts, inv__network_stmts, inv__product_stmts, inv__inbound_stmts,
        inv__resv_stmts,  inv__promo_stmts,   inv__check_stmts,
    };
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        sl_status st = sl_db_register(db, tables[i], err);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

/* ---- parameter building ---- */

static void ab_reserve(inv__abuf *b, size_t more)
{
    if (b->oom || b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap * 2;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *np = sl_arena_alloc(b->a, cap);
    if (np == NULL) {
        b->oom = true;
        return;
    }
    memcpy(np, b->p, b->len);
    b->p = np;
    b->cap = cap;
}

void inv__ab_init(inv__abuf *b, sl_arena *a, size_t n_hint)
{
    b->a = a;
    b->cap = 64 + n_hint * 24;
    b->p = sl_arena_alloc(a, b->cap);
    b->oom = b->p == NULL;
    b->len = 0;
    b->first = true;
    if (!b->oom)
        b->p[b->len++] = '{';
}

static void ab_sep(inv__abuf *b)
{
    ab_reserve(b, 1);
    if (!b->oom && !b->first)
        b->p[b->len++] = ',';
    b->first = false;
}

/* A quoted element: backslash and double quote escaped. */
void inv__ab_text(inv__abuf *b, const char *s)
{
    ab_sep(b);
    size_t n = strlen(s);
    ab_reserve(b, 2 * n + 2);
    if (b->oom)
        return;
    b->p[b->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            b->p[b->len++] = '\\';
        b->p[b->len++] = s[i];
    }
    b->p[b->len++] = '"';
}

void inv__ab_i64(inv__abuf *b, int64_t v)
{
    ab_sep(b);
    ab_reserve(b, 24);
    if (!b->oom)
        b->len += (size_t)snprintf(b->p + b->len, 24, "%" PRId64, v);
}

void inv__ab_bool(inv__abuf *b, bool v)
{
    ab_sep(b);
    ab_reserve(b, 1);
    if (!b->oom)
        b->p[b->len++] = v ? 't' : 'f';
}

static void hex_into(char *out, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
}

void inv__ab_hex(inv__abuf *b, const uint8_t *p, size_t n)
{
    ab_sep(b);
    ab_reserve(b, 2 * n + 2);
    if (b->oom)
        return;
    b->p[b->len++] = '"';
    hex_into(b->p + b->len, p, n);
    b->len += 2 * n;
    b->p[b->len++] = '"';
}

const char *inv__ab_done(inv__abuf *b)
{
    ab_reserve(b, 1);
    if (b->oom)
        return NULL;
    b->p[b->len++] = '}';
    b->p[b->len] = '\0';
    return b->p;
}

const char *inv__i64s(sl_arena *a, int64_t v)
{
    char *s = sl_arena_alloc(a, 24);
    if (s != NULL)
        snprintf(s, 24, "%" PRId64, v);
    return s;
}

const char *inv__hexs(sl_arena *a, const uint8_t *p, size_t n)
{
    char *s = sl_arena_alloc(a, 2 * n + 1);
    if (s == NULL)
        return NULL;
    hex_into(s, p, n);
    s[2 * n] = '\0';
    return s;
}

const char *inv__text_array(sl_arena *a, const char *const *v, size_t n)
{
    inv__abuf b;
    inv__ab_init(&b, a, n);
    for (size_t i = 0; i < n; i++)
        inv__ab_text(&b, v[i]);
    return inv__ab_done(&b);
}

const char *inv__i64_array(sl_arena *a, const int64_t *v, size_t n)
{
    inv__abuf b;
    inv__ab_init(&b, a, n);
    for (size_t i = 0; i < n; i++)
        inv__ab_i64(&b, v[i]);
    return inv__ab_done(&b);
}

sl_status inv__oom(sl_err *err)
{
    return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory building a query");
}

/* Runs stmt; any NULL parameter pointer (an allocation that failed while
 * building it) is reported as out of memory instead. */
sl_status inv__run(sl_db_conn *c, const char *stmt, int n, const char *const *v, PGresult **res,
                   sl_err *err)
{
    for (int i = 0; i < n; i++)
        if (v[i] == NULL)
            return inv__oom(err);
    return sl_db_exec(c, stmt, n, v, NULL, NULL, res, err);
}

/* ---- result reading ---- */

/* Columns are read by name through sl_db_row: a misspelt or missing
 * column, or a value that does not parse, is INTERNAL naming the column
 * (the store's own readers used to read "" or 0 and go on).  NULL in a
 * column read with an _or variant is the type's zero value, as this store
 * has always read it. */

void *inv__alloc_rows(sl_arena *a, size_t n, size_t size)
{
    return sl_arena_zalloc(a, (n > 0 ? n : 1) * size);
}

/* The tail every list query shares: copies each row of r into a new arena
 * array of `size`-byte elements and clears r on every path.  *out and *n
 * are set only on success, so a failed call leaves the caller's outputs as
 * they were. */
sl_status inv__read_rows(sl_arena *a, PGresult *r, size_t size, inv__row_reader read, void **out,
                         size_t *n, sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    int k = sl_db_reader_rows(&rd);
    void *rows = inv__alloc_rows(a, (size_t)k, size);
    for (int i = 0; rows != NULL && i < k; i++)
        if (!read(a, &rd, i, rows))
            rows = NULL;
    sl_status st = rows == NULL ? inv__oom(err) : sl_db_reader_status(&rd, err);
    PQclear(r);
    if (st != SL_OK)
        return st;
    *out = rows;
    *n = (size_t)k;
    return SL_OK;
}

/* inv__run() then inv__read_rows(). */
sl_status inv__query_rows(sl_db_conn *c, sl_arena *a, const char *stmt, int np,
                          const char *const *v, size_t size, inv__row_reader read, void **out,
                          size_t *n, sl_err *err)
{
    PGresult *r = NULL;
    sl_status st = inv__run(c, stmt, np, v, &r, err);
    if (st != SL_OK)
        return st;
    return inv__read_rows(a, r, size, read, out, n, err);
}

/* inv__run() for a statement returning at most one row, read into slot (a
 * one-element array) when there is one; the caller sets the slot empty
 * first. */
sl_status inv__query_one(sl_db_conn *c, sl_arena *a, const char *stmt, int np, const char *const *v,
                         inv__row_reader read, void *slot, sl_err *err)
{
    PGresult *r = NULL;
    sl_status st = inv__run(c, stmt, np, v, &r, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    if (sl_db_reader_rows(&rd) > 0)
        st = read(a, &rd, 0, slot) ? sl_db_reader_status(&rd, err) : inv__oom(err);
    PQclear(r);
    return st;
}

static bool id_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    const char **x = rows;
    x[i] = sl_db_text_or(rd, i, "id", "");
    return true;
}

bool inv__route_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    inv_route *v = rows;
    v[i].warehouse_id = sl_db_text_or(rd, i, "warehouse_id", "");
    v[i].region = sl_db_text_or(rd, i, "region", "");
    v[i].p50 = (int)sl_db_int64_or(rd, i, "p50_days", 0);
    v[i].p90 = (int)sl_db_int64_or(rd, i, "p90_days", 0);
    return true;
}

sl_status inv__id_list(sl_db_conn *c, sl_arena *a, const char *stmt, int limit, const char ***ids,
                       size_t *n, sl_err *err)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[1] = {l};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, stmt, 1, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    void *rows = NULL;
    st = inv__read_rows(a, r, sizeof **ids, id_at, &rows, n, err);
    if (st == SL_OK)
        *ids = rows;
    return st;
}
