/*
 * inv_store_check: the inventory store's SQL for the invariant checks (CheckInvariants)
 * (see inv_store.h for the functions, inv_store_int.h for the kit they
 * share).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_store_int.h"

/* A promotion's (or a stock fence's: the same tables, kind STOCK_FENCE)
 * counters against its holds, sales, fences and quantity, and each
 * customer's usage against their holds. */
#define PROMO_CHECK(kind)                                                                          \
    "WITH a AS (SELECT al.promotion_id, r.status, r.customer_id, sum(al.qty) AS n "                \
    "FROM reservation_alloc al JOIN reservation r ON r.id = al.reservation_id "                    \
    "WHERE al.promotion_id IS NOT NULL GROUP BY 1, 2, 3), "                                        \
    "p AS (SELECT * FROM promotion WHERE kind = '" kind "' AND ($1 = '' OR sku = $1)) "            \
    "SELECT sku, '' AS warehouse_id, subject, expected, actual FROM ("                             \
    "SELECT p.sku, p.id || ' held' AS subject, coalesce((SELECT sum(n) FROM a "                    \
    "WHERE a.promotion_id = p.id AND a.status = 'HELD'), 0) AS expected, p.held AS actual "        \
    "FROM p UNION ALL "                                                                            \
    "SELECT p.sku, p.id || ' sold', coalesce((SELECT sum(n) FROM a WHERE a.promotion_id = p.id "   \
    "AND a.status = 'COMMITTED'), 0), p.sold FROM p UNION ALL "                                    \
    "SELECT p.sku, p.id || ' remaining', coalesce((SELECT sum(f.remaining) "                       \
    "FROM promotion_fence f WHERE f.promotion_id = p.id), 0), p.remaining FROM p UNION ALL "       \
    "SELECT p.sku, p.id || ' quota', p.quota, p.remaining + p.held + p.sold + p.returned "         \
    "FROM p UNION ALL "                                                                            \
    "SELECT p.sku, p.id || ' usage of ' || u.customer_id, coalesce((SELECT sum(n) FROM a "         \
    "WHERE a.promotion_id = u.promotion_id AND a.customer_id = u.customer_id "                     \
    "AND a.status IN ('HELD', 'COMMITTED')), 0), u.qty "                                           \
    "FROM promotion_usage u JOIN p ON p.id = u.promotion_id) x WHERE expected <> actual"

const sl_db_stmt inv__check_stmts[] = {
    /* ---- checks: each row is (sku, warehouse, subject, expected, actual) ---- */
    {"inv_check_count", "SELECT count(*) AS n FROM stock WHERE $1 = '' OR sku = $1", 1},
    {"inv_check_ledger",
     "SELECT s.sku, s.warehouse_id, '' AS subject, coalesce(l.total, 0) AS expected, "
     "s.on_hand AS actual FROM stock s LEFT JOIN (SELECT sku, warehouse_id, sum(delta) AS total "
     "FROM ledger WHERE $1 = '' OR sku = $1 GROUP BY 1, 2) l ON l.sku = s.sku "
     "AND l.warehouse_id = s.warehouse_id WHERE ($1 = '' OR s.sku = $1) "
     "AND s.on_hand <> coalesce(l.total, 0) "
     "UNION ALL SELECT l.sku, l.warehouse_id, '', sum(l.delta), 0 FROM ledger l "
     "WHERE ($1 = '' OR l.sku = $1) AND NOT EXISTS (SELECT 1 FROM stock s WHERE s.sku = l.sku "
     "AND s.warehouse_id = l.warehouse_id) GROUP BY 1, 2",
     1},
    {"inv_check_reserved",
     "SELECT s.sku, s.warehouse_id, '' AS subject, coalesce(h.n, 0) + coalesce(f.n, 0) "
     "AS expected, s.reserved AS actual FROM stock s "
     "LEFT JOIN (SELECT a.sku, a.warehouse_id, sum(a.qty - a.awaiting) AS n "
     "FROM reservation_alloc a JOIN reservation r ON r.id = a.reservation_id "
     "WHERE r.status = 'HELD' AND ($1 = '' OR a.sku = $1) GROUP BY 1, 2) h "
     "ON h.sku = s.sku AND h.warehouse_id = s.warehouse_id "
     "LEFT JOIN (SELECT p.sku, f.warehouse_id, sum(f.remaining) AS n FROM promotion_fence f "
     "JOIN promotion p ON p.id = f.promotion_id WHERE NOT p.ended AND ($1 = '' OR p.sku = $1) "
     "GROUP BY 1, 2) f ON f.sku = s.sku AND f.warehouse_id = s.warehouse_id "
     "WHERE ($1 = '' OR s.sku = $1) AND s.reserved <> coalesce(h.n, 0) + coalesce(f.n, 0)",
     1},
    {"inv_check_oversold",
     "SELECT sku, warehouse_id, '' AS subject, on_hand AS expected, reserved AS actual "
     "FROM stock WHERE ($1 = '' OR sku = $1) AND (reserved < 0 OR reserved > on_hand)",
     1},
    {"inv_check_promo", PROMO_CHECK("PROMOTION"), 1},
    {"inv_check_sfence", PROMO_CHECK("STOCK_FENCE"), 1},
    {"inv_check_inbound",
     "SELECT i.sku, i.warehouse_id, i.id AS subject, coalesce(b.n, 0) AS expected, "
     "i.backordered AS actual FROM inbound i LEFT JOIN (SELECT a.inbound_id, sum(a.awaiting) "
     "AS n FROM reservation_alloc a JOIN reservation r ON r.id = a.reservation_id "
     "WHERE a.awaiting > 0 AND r.status IN ('HELD', 'COMMITTED') GROUP BY 1) b "
     "ON b.inbound_id = i.id WHERE ($1 = '' OR i.sku = $1) AND i.backordered <> coalesce(b.n, 0)",
     1},
    {NULL, NULL, 0},
};

typedef struct check_kind {
    const char *stmt;
    Shelfline__V1__InvariantViolation__Kind kind;
    const char *what;
} check_kind;

static const check_kind checks[] = {
    {"inv_check_ledger", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__ON_HAND_VS_LEDGER,
     "on_hand differs from the sum of the ledger"},
    {"inv_check_reserved", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__RESERVED_VS_HOLDS,
     "reserved differs from live holds plus promotion and stock fences"},
    {"inv_check_oversold", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__OVERSOLD,
     "reserved is outside 0..on_hand"},
    {"inv_check_promo", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__PROMOTION,
     "a promotion counter differs from its holds, sales, fences or quota"},
    {"inv_check_sfence", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__STOCK_FENCE,
     "a stock fence counter differs from its holds, sales, fenced units or quantity"},
    {"inv_check_inbound", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__INBOUND,
     "backordered differs from the units awaited by live reservations"},
};

sl_status inv_store_check(sl_db_conn *c, sl_arena *a, const char *sku, int limit,
                          Shelfline__V1__InvariantViolation ***out, size_t *n, int64_t *stock_rows,
                          sl_err *err)
{
    const char *v[1] = {sku};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "inv_check_count", 1, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, NULL);
    *stock_rows = sl_db_int64(&rd, 0, "n");
    st = sl_db_reader_status(&rd, err);
    PQclear(r);
    if (st != SL_OK)
        return st;
    Shelfline__V1__InvariantViolation **vs = inv__alloc_rows(a, (size_t)limit, sizeof *vs);
    if (vs == NULL)
        return inv__oom(err);
    size_t k = 0;
    for (size_t ci = 0; ci < sizeof checks / sizeof checks[0]; ci++) {
        st = sl_db_exec(c, checks[ci].stmt, 1, v, NULL, NULL, &r, err);
        if (st != SL_OK)
            return st;
        sl_db_reader reader, *rd = &reader;
        sl_db_reader_init(rd, r, a);
        for (int i = 0; i < sl_db_reader_rows(rd) && k < (size_t)limit; i++) {
            Shelfline__V1__InvariantViolation *x = sl_arena_alloc(a, sizeof *x);
            if (x == NULL) {
                PQclear(r);
                return inv__oom(err);
            }
            shelfline__v1__invariant_violation__init(x);
            x->kind = checks[ci].kind;
            x->sku = (char *)sl_db_text_or(rd, i, "sku", "");
            x->warehouse_id = (char *)sl_db_text_or(rd, i, "warehouse_id", "");
            x->subject_id = (char *)sl_db_text_or(rd, i, "subject", "");
            x->expected = sl_db_int64_or(rd, i, "expected", 0);
            x->actual = sl_db_int64_or(rd, i, "actual", 0);
            x->detail = (char *)checks[ci].what;
            vs[k++] = x;
        }
        st = sl_db_reader_status(rd, err);
        PQclear(r);
        if (st != SL_OK)
            return st;
    }
    *out = vs;
    *n = k;
    return SL_OK;
}
