/*
 * inv_store: the inventory service's SQL (see inv_store.h).
 *
 * Every statement is in the table below; functions after it bind
 * parameters, run one statement and copy the result into arena memory
 * (results are cleared before returning, on every path).
 */
#include "inv_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A timestamptz column as Unix milliseconds, and back. */
#define MS(x) "(extract(epoch FROM " x ") * 1000)::int8"
#define TS(p) "to_timestamp((" p ")::int8 / 1000.0)"

#define PRODUCT_COLS                                                                               \
    "sku, name, category, brand, price_minor, currency, repeat_days, "                             \
    "array_to_string(seasonal_tags, chr(31)) AS tags, " MS("created_at") " AS created_ms, " MS(    \
        "updated_at") " AS updated_ms"
#define WH_COLS                                                                                    \
    "warehouse_id, name, region, kind, location, time_zone, cutoff_minutes, active, " MS(          \
        "created_at") " AS created_ms, " MS("updated_at") " AS updated_ms"
#define TR_COLS "warehouse_id, region, p50_days, p90_days, " MS("updated_at") " AS updated_ms"
#define STOCK_COLS                                                                                 \
    "s.sku, s.warehouse_id, s.on_hand, s.reserved, s.safety_stock, s.low_stock_threshold, " MS(    \
        "s.updated_at") " AS updated_ms"
#define INB_COLS                                                                                   \
    "id, kind, sku, warehouse_id, source_warehouse_id, supplier, reference, qty, received, "       \
    "backordered, " MS("expected_at") " AS expected_ms, " MS(                                      \
        "original_expected_at") " AS original_ms, " MS("created_at") " AS created_ms, request"
#define RESV_COLS                                                                                  \
    "id, customer_id, region, status, request, result, " MS("created_at") " AS created_ms, " MS(   \
        "expires_at") " AS expires_ms, coalesce(" MS("closed_at") ", 0) AS closed_ms"
#define ALLOC_COLS                                                                                 \
    "a.reservation_id, a.line_no, a.part_no, a.sku, a.warehouse_id, a.qty, "                       \
    "coalesce(a.inbound_id, '') AS inbound_id, a.awaiting, "                                       \
    "coalesce(a.promotion_id, '') AS promotion_id"
#define PROMO_COLS                                                                                 \
    "id, sku, region, quota, per_customer_limit, " MS("starts_at") " AS starts_ms, " MS(           \
        "ends_at") " AS ends_ms, price_minor, currency, remaining, held, sold, returned, ended, "  \
                   "request"

static const sl_db_stmt stmts[] = {
    /* ---- locks and network ---- */
    {"inv_lock",
     "SELECT count(pg_catalog.pg_advisory_xact_lock(k)) AS locked, " MS(
         "now()") " AS now_ms FROM unnest($1::int8[]) AS k",
     1},
    {"inv_network",
     "SELECT t.warehouse_id, t.region, t.p50_days, t.p90_days FROM transit t "
     "JOIN warehouse w ON w.warehouse_id = t.warehouse_id WHERE w.active "
     "ORDER BY t.region, t.p50_days, t.p90_days, t.warehouse_id",
     0},

    /* ---- catalogue ---- */
    {"inv_product_insert",
     "INSERT INTO product (sku, name, category, brand, price_minor, currency, repeat_days, "
     "seasonal_tags) VALUES ($1, $2, $3, $4, $5::int8, $6, $7::int4, $8::text[]) "
     "ON CONFLICT (sku) DO NOTHING RETURNING " PRODUCT_COLS,
     8},
    {"inv_product_update",
     "UPDATE product SET name = $2, category = $3, brand = $4, price_minor = $5::int8, "
     "currency = $6, repeat_days = $7::int4, seasonal_tags = $8::text[], updated_at = now() "
     "WHERE sku = $1 RETURNING " PRODUCT_COLS,
     8},
    {"inv_product_get", "SELECT " PRODUCT_COLS " FROM product WHERE sku = $1", 1},
    {"inv_product_list",
     "SELECT " PRODUCT_COLS " FROM product WHERE ($1 = '' OR category = $1) AND sku > $2 "
     "ORDER BY sku LIMIT $3::int4",
     3},
    {"inv_skus_missing",
     "SELECT q.i - 1 AS idx FROM unnest($1::text[]) WITH ORDINALITY AS q(sku, i) "
     "LEFT JOIN product p ON p.sku = q.sku WHERE p.sku IS NULL ORDER BY q.i LIMIT 1",
     1},
    {"inv_tz_valid",
     "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = $1) AS ok", 1},
    {"inv_wh_insert",
     "INSERT INTO warehouse (warehouse_id, name, region, kind, location, time_zone, "
     "cutoff_minutes, active) VALUES ($1, $2, $3, $4, $5, $6, $7::int4, $8::bool) "
     "ON CONFLICT (warehouse_id) DO NOTHING RETURNING " WH_COLS,
     8},
    {"inv_wh_update",
     "UPDATE warehouse SET name = $2, region = $3, kind = $4, location = $5, time_zone = $6, "
     "cutoff_minutes = $7::int4, active = $8::bool, updated_at = now() WHERE warehouse_id = $1 "
     "RETURNING " WH_COLS,
     8},
    {"inv_wh_get", "SELECT " WH_COLS " FROM warehouse WHERE warehouse_id = $1", 1},
    {"inv_wh_list",
     "SELECT " WH_COLS " FROM warehouse WHERE ($1 = '' OR region = $1) AND warehouse_id > $2 "
     "ORDER BY warehouse_id LIMIT $3::int4",
     3},
    {"inv_wh_rows",
     "SELECT warehouse_id, region, active FROM warehouse WHERE warehouse_id = ANY ($1::text[])", 1},
    {"inv_tr_insert",
     "INSERT INTO transit (warehouse_id, region, p50_days, p90_days) "
     "VALUES ($1, $2, $3::int4, $4::int4) ON CONFLICT (warehouse_id, region) DO NOTHING "
     "RETURNING " TR_COLS,
     4},
    {"inv_tr_update",
     "UPDATE transit SET p50_days = $3::int4, p90_days = $4::int4, updated_at = now() "
     "WHERE warehouse_id = $1 AND region = $2 RETURNING " TR_COLS,
     4},
    {"inv_tr_get", "SELECT " TR_COLS " FROM transit WHERE warehouse_id = $1 AND region = $2", 2},
    {"inv_tr_list",
     "SELECT " TR_COLS " FROM transit WHERE ($1 = '' OR warehouse_id = $1) "
     "AND ($2 = '' OR region = $2) AND (warehouse_id, region) > ($3, $4) "
     "ORDER BY warehouse_id, region LIMIT $5::int4",
     5},

    /* ---- stock ---- */
    {"inv_load_stock",
     "SELECT p.sku AS psku, p.price_minor, p.currency, " STOCK_COLS
     " FROM product p LEFT JOIN stock s ON s.sku = p.sku WHERE p.sku = ANY ($1::text[]) "
     "ORDER BY p.sku, s.warehouse_id",
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
     "INSERT INTO ledger (sku, warehouse_id, delta, reason, reference) "
     "VALUES ($1, $2, $3::int8, $4, $5) RETURNING id, " MS("created_at") " AS created_ms",
     5},
    {"inv_stock_get",
     "SELECT " STOCK_COLS " FROM stock s WHERE s.sku = $1 AND ($2 = '' OR s.warehouse_id = $2) "
     "ORDER BY s.warehouse_id",
     2},
    {"inv_low_stock",
     "SELECT " STOCK_COLS ", w.region FROM stock s "
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

    /* ---- inbound ---- */
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
     "reference, qty, expected_at, original_expected_at, request) "
     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::int8, " TS("$9") ", " TS(
         "$9") ", decode($10, 'hex'))",
     10},
    {"inv_inbound_update",
     "UPDATE inbound SET received = received + $2::int8, backordered = backordered + $3::int8, "
     "expected_at = CASE WHEN $4::int8 = 0 THEN expected_at ELSE " TS("$4") " END WHERE id = $1",
     4},
    {"inv_inbound_delay_add",
     "INSERT INTO inbound_delay (inbound_id, seq, previous_expected_at, expected_at, reason) "
     "SELECT $1, coalesce(max(seq), 0) + 1, " TS("$2") ", " TS(
         "$3") ", $4 FROM inbound_delay WHERE inbound_id = $1",
     4},
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
     "INSERT INTO inbound_receipt (receipt_id, inbound_id, qty, request, result) "
     "VALUES ($1, $2, $3::int8, decode($4, 'hex'), decode($5, 'hex'))",
     5},

    /* ---- reservations ---- */
    {"inv_resv_lookup", "SELECT " RESV_COLS " FROM reservation WHERE id = ANY ($1::text[])", 1},
    /* A Reserve batch's writes in one round trip: the reservations, their
     * allocations and the reserved units of existing stock rows. */
    {"inv_reserve_write",
     "WITH r AS (INSERT INTO reservation (id, customer_id, region, status, request, result, "
     "created_at, expires_at) SELECT id, cu, rg, 'HELD', decode(rq, 'hex'), decode(rs, "
     "'hex'), " TS("cr") ", " TS(
         "ex") " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
               "$5::text[], $6::int8[], $7::int8[]) AS t(id, cu, rg, rq, rs, cr, ex)), "
               "a AS (INSERT INTO reservation_alloc (reservation_id, line_no, part_no, sku, "
               "warehouse_id, "
               "qty, inbound_id, awaiting, promotion_id) SELECT r, l, p, s, w, q, NULLIF(i, "
               "''), aw, "
               "NULLIF(pr, '') FROM unnest($8::text[], $9::int4[], $10::int4[], $11::text[], "
               "$12::text[], "
               "$13::int8[], $14::text[], $15::int8[], $16::text[]) AS t(r, l, p, s, w, q, i, "
               "aw, pr)) "
               "UPDATE stock s SET on_hand = s.on_hand + d.oh, reserved = s.reserved + d.rs, "
               "updated_at = now() FROM unnest($17::text[], $18::text[], $19::int8[], "
               "$20::int8[]) "
               "AS d(sku, wh, oh, rs) WHERE s.sku = d.sku AND s.warehouse_id = d.wh",
     20},
    {"inv_allocs",
     "SELECT " ALLOC_COLS " FROM reservation_alloc a WHERE a.reservation_id = ANY ($1::text[]) "
     "ORDER BY a.reservation_id, a.line_no, a.part_no",
     1},
    {"inv_resv_close",
     "UPDATE reservation SET status = $2, closed_at = now() "
     "WHERE id = ANY ($1::text[]) AND status = 'HELD'",
     2},
    {"inv_alloc_fulfil",
     "UPDATE reservation_alloc a SET awaiting = a.awaiting - d.m "
     "FROM unnest($1::text[], $2::int4[], $3::int4[], $4::int8[]) AS d(r, l, p, m) "
     "WHERE a.reservation_id = d.r AND a.line_no = d.l AND a.part_no = d.p",
     4},
    {"inv_resv_expired",
     "SELECT id FROM reservation WHERE status = 'HELD' AND expires_at <= now() "
     "ORDER BY expires_at LIMIT $1::int4",
     1},

    /* ---- promotions ---- */
    {"inv_promo_load", "SELECT " PROMO_COLS " FROM promotion WHERE id = ANY ($1::text[])", 1},
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
     "price_minor, currency, remaining, request) VALUES ($1, $2, $3, $4::int8, $5::int8, " TS(
         "$6") ", " TS("$7") ", $8::int8, $9, $4::int8, decode($10, 'hex'))",
     10},
    {"inv_fence_insert",
     "INSERT INTO promotion_fence (promotion_id, warehouse_id, fenced, remaining) "
     "SELECT $1, w, n, n FROM unnest($2::text[], $3::int8[]) AS d(w, n)",
     3},
    {"inv_promo_ending",
     "SELECT id FROM promotion WHERE NOT ended AND ends_at <= now() ORDER BY ends_at "
     "LIMIT $1::int4",
     1},
    {"inv_promo_precheck",
     "SELECT coalesce((SELECT remaining FROM promotion WHERE id = $1), -1) AS remaining, "
     "EXISTS (SELECT 1 FROM reservation WHERE id = $2) AS resv",
     2},

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
    {"inv_check_promo",
     "WITH a AS (SELECT al.promotion_id, r.status, r.customer_id, sum(al.qty) AS n "
     "FROM reservation_alloc al JOIN reservation r ON r.id = al.reservation_id "
     "WHERE al.promotion_id IS NOT NULL GROUP BY 1, 2, 3), "
     "p AS (SELECT * FROM promotion WHERE $1 = '' OR sku = $1) "
     "SELECT sku, '' AS warehouse_id, subject, expected, actual FROM ("
     "SELECT p.sku, p.id || ' held' AS subject, coalesce((SELECT sum(n) FROM a "
     "WHERE a.promotion_id = p.id AND a.status = 'HELD'), 0) AS expected, p.held AS actual "
     "FROM p UNION ALL "
     "SELECT p.sku, p.id || ' sold', coalesce((SELECT sum(n) FROM a WHERE a.promotion_id = p.id "
     "AND a.status = 'COMMITTED'), 0), p.sold FROM p UNION ALL "
     "SELECT p.sku, p.id || ' remaining', coalesce((SELECT sum(f.remaining) "
     "FROM promotion_fence f WHERE f.promotion_id = p.id), 0), p.remaining FROM p UNION ALL "
     "SELECT p.sku, p.id || ' quota', p.quota, p.remaining + p.held + p.sold + p.returned "
     "FROM p UNION ALL "
     "SELECT p.sku, p.id || ' usage of ' || u.customer_id, coalesce((SELECT sum(n) FROM a "
     "WHERE a.promotion_id = u.promotion_id AND a.customer_id = u.customer_id "
     "AND a.status IN ('HELD', 'COMMITTED')), 0), u.qty "
     "FROM promotion_usage u JOIN p ON p.id = u.promotion_id) x WHERE expected <> actual",
     1},
    {"inv_check_inbound",
     "SELECT i.sku, i.warehouse_id, i.id AS subject, coalesce(b.n, 0) AS expected, "
     "i.backordered AS actual FROM inbound i LEFT JOIN (SELECT a.inbound_id, sum(a.awaiting) "
     "AS n FROM reservation_alloc a JOIN reservation r ON r.id = a.reservation_id "
     "WHERE a.awaiting > 0 AND r.status IN ('HELD', 'COMMITTED') GROUP BY 1) b "
     "ON b.inbound_id = i.id WHERE ($1 = '' OR i.sku = $1) AND i.backordered <> coalesce(b.n, 0)",
     1},
    {NULL, NULL, 0},
};

sl_status inv_store_register(sl_db *db, sl_err *err)
{
    return sl_db_register(db, stmts, err);
}

/* ---- parameter building ---- */

typedef struct abuf {
    sl_arena *a;
    char *p;
    size_t len, cap;
    bool oom;
    bool first;
} abuf;

static void ab_reserve(abuf *b, size_t more)
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

static void ab_init(abuf *b, sl_arena *a, size_t n_hint)
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

static void ab_sep(abuf *b)
{
    ab_reserve(b, 1);
    if (!b->oom && !b->first)
        b->p[b->len++] = ',';
    b->first = false;
}

/* A quoted element: backslash and double quote escaped. */
static void ab_text(abuf *b, const char *s)
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

static void ab_i64(abuf *b, int64_t v)
{
    ab_sep(b);
    ab_reserve(b, 24);
    if (!b->oom)
        b->len += (size_t)snprintf(b->p + b->len, 24, "%" PRId64, v);
}

static void ab_bool(abuf *b, bool v)
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

static void ab_hex(abuf *b, const uint8_t *p, size_t n)
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

static const char *ab_done(abuf *b)
{
    ab_reserve(b, 1);
    if (b->oom)
        return NULL;
    b->p[b->len++] = '}';
    b->p[b->len] = '\0';
    return b->p;
}

static const char *i64s(sl_arena *a, int64_t v)
{
    char *s = sl_arena_alloc(a, 24);
    if (s != NULL)
        snprintf(s, 24, "%" PRId64, v);
    return s;
}

static const char *hexs(sl_arena *a, const uint8_t *p, size_t n)
{
    char *s = sl_arena_alloc(a, 2 * n + 1);
    if (s == NULL)
        return NULL;
    hex_into(s, p, n);
    s[2 * n] = '\0';
    return s;
}

static const char *text_array(sl_arena *a, const char *const *v, size_t n)
{
    abuf b;
    ab_init(&b, a, n);
    for (size_t i = 0; i < n; i++)
        ab_text(&b, v[i]);
    return ab_done(&b);
}

static const char *i64_array(sl_arena *a, const int64_t *v, size_t n)
{
    abuf b;
    ab_init(&b, a, n);
    for (size_t i = 0; i < n; i++)
        ab_i64(&b, v[i]);
    return ab_done(&b);
}

static sl_status oom(sl_err *err)
{
    return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory building a query");
}

/* Runs stmt; any NULL parameter pointer (an allocation that failed while
 * building it) is reported as out of memory instead. */
static sl_status run(sl_db_conn *c, const char *stmt, int n, const char *const *v, PGresult **res,
                     sl_err *err)
{
    for (int i = 0; i < n; i++)
        if (v[i] == NULL)
            return oom(err);
    return sl_db_exec(c, stmt, n, v, NULL, NULL, res, err);
}

/* ---- result reading ---- */

static int col(const PGresult *r, const char *name)
{
    return PQfnumber(r, name);
}

static const char *gs(sl_arena *a, const PGresult *r, int row, int c)
{
    if (c < 0 || PQgetisnull(r, row, c))
        return "";
    const char *s = sl_arena_strdup(a, PQgetvalue(r, row, c));
    return s != NULL ? s : "";
}

static int64_t gi(const PGresult *r, int row, int c)
{
    if (c < 0 || PQgetisnull(r, row, c))
        return 0;
    return strtoll(PQgetvalue(r, row, c), NULL, 10);
}

static bool gb(const PGresult *r, int row, int c)
{
    return c >= 0 && !PQgetisnull(r, row, c) && PQgetvalue(r, row, c)[0] == 't';
}

/* A bytea column (text format "\x..") into arena memory. */
static const uint8_t *gbytes(sl_arena *a, const PGresult *r, int row, int c, size_t *len)
{
    *len = 0;
    if (c < 0 || PQgetisnull(r, row, c))
        return (const uint8_t *)"";
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, c), &n);
    if (raw == NULL)
        return NULL;
    uint8_t *out = sl_arena_alloc(a, n + 1);
    if (out != NULL) {
        if (n > 0)
            memcpy(out, raw, n);
        *len = n;
    }
    PQfreemem(raw);
    return out;
}

static void *alloc_rows(sl_arena *a, size_t n, size_t size)
{
    return sl_arena_zalloc(a, (n > 0 ? n : 1) * size);
}

/* Reads row i of r into element i of rows, an array whose element type
 * only the reader knows; false when arena memory ran out. */
typedef bool (*row_reader)(sl_arena *a, const PGresult *r, int i, void *rows);

/* The tail every list query shares: copies each row of r into a new arena
 * array of `size`-byte elements and clears r on every path.  *out and *n
 * are set only on success, so a failed call leaves the caller's outputs as
 * they were. */
static sl_status read_rows(sl_arena *a, PGresult *r, size_t size, row_reader read, void **out,
                           size_t *n, sl_err *err)
{
    int k = PQntuples(r);
    /* A reader that copies a string and finds no memory leaves a NULL
     * behind; any failed allocation fails the read. */
    unsigned long failures = sl_arena_oom_count();
    void *rows = alloc_rows(a, (size_t)k, size);
    for (int i = 0; rows != NULL && i < k; i++)
        if (!read(a, r, i, rows))
            rows = NULL;
    PQclear(r);
    if (rows == NULL || sl_arena_oom_count() != failures)
        return oom(err);
    *out = rows;
    *n = (size_t)k;
    return SL_OK;
}

/* run() then read_rows(). */
static sl_status query_rows(sl_db_conn *c, sl_arena *a, const char *stmt, int np,
                            const char *const *v, size_t size, row_reader read, void **out,
                            size_t *n, sl_err *err)
{
    PGresult *r = NULL;
    sl_status st = run(c, stmt, np, v, &r, err);
    if (st != SL_OK)
        return st;
    return read_rows(a, r, size, read, out, n, err);
}

/* run() for a statement returning at most one row, read into slot (a
 * one-element array) when there is one; the caller sets the slot empty
 * first. */
static sl_status query_one(sl_db_conn *c, sl_arena *a, const char *stmt, int np,
                           const char *const *v, row_reader read, void *slot, sl_err *err)
{
    PGresult *r = NULL;
    sl_status st = run(c, stmt, np, v, &r, err);
    if (st != SL_OK)
        return st;
    unsigned long failures = sl_arena_oom_count();
    if (PQntuples(r) > 0 && (!read(a, r, 0, slot) || sl_arena_oom_count() != failures))
        st = oom(err);
    PQclear(r);
    return st;
}

static bool id_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    const char **x = rows;
    x[i] = gs(a, r, i, 0);
    return true;
}

static bool route_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    inv_route *v = rows;
    v[i].warehouse_id = gs(a, r, i, 0);
    v[i].region = gs(a, r, i, 1);
    v[i].p50 = (int)gi(r, i, 2);
    v[i].p90 = (int)gi(r, i, 3);
    return true;
}

/* ---- locks and network ---- */

sl_status inv_store_lock(sl_db_conn *c, sl_arena *a, const int64_t *keys, size_t n, int64_t *now_ms,
                         sl_err *err)
{
    const char *v[1] = {i64_array(a, keys, n)};
    PGresult *r = NULL;
    sl_status st = run(c, "inv_lock", 1, v, &r, err);
    if (st != SL_OK)
        return st;
    *now_ms = gi(r, 0, col(r, "now_ms"));
    PQclear(r);
    return SL_OK;
}

sl_status inv_store_network(sl_db_conn *c, sl_arena *a, inv_route **out, size_t *n, sl_err *err)
{
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "inv_network", 0, NULL, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    void *rows = NULL;
    st = read_rows(a, r, sizeof **out, route_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

/* ---- catalogue ---- */

static Shelfline__V1__Product *product_from(sl_arena *a, const PGresult *r, int i)
{
    Shelfline__V1__Product *p = sl_arena_alloc(a, sizeof *p);
    Shelfline__V1__Money *m = sl_arena_alloc(a, sizeof *m);
    if (p == NULL || m == NULL)
        return NULL;
    shelfline__v1__product__init(p);
    shelfline__v1__money__init(m);
    p->sku = (char *)gs(a, r, i, col(r, "sku"));
    p->name = (char *)gs(a, r, i, col(r, "name"));
    p->category = (char *)gs(a, r, i, col(r, "category"));
    p->brand = (char *)gs(a, r, i, col(r, "brand"));
    m->minor_units = gi(r, i, col(r, "price_minor"));
    m->currency = (char *)gs(a, r, i, col(r, "currency"));
    p->price = m;
    p->repeat_purchase_days = (int32_t)gi(r, i, col(r, "repeat_days"));
    p->created_at_ms = gi(r, i, col(r, "created_ms"));
    p->updated_at_ms = gi(r, i, col(r, "updated_ms"));
    /* Tags come joined by chr(31), which validated tags never contain. */
    char *tags = (char *)gs(a, r, i, col(r, "tags"));
    size_t nt = 0;
    if (tags[0] != '\0') {
        nt = 1;
        for (char *s = tags; *s != '\0'; s++)
            nt += *s == '\x1f';
    }
    p->seasonal_tags = nt > 0 ? sl_arena_alloc(a, nt * sizeof(char *)) : NULL;
    if (nt > 0 && p->seasonal_tags == NULL)
        return NULL;
    p->n_seasonal_tags = nt;
    for (size_t k = 0; k < nt; k++) {
        p->seasonal_tags[k] = tags;
        char *sep = strchr(tags, '\x1f');
        if (sep != NULL) {
            *sep = '\0';
            tags = sep + 1;
        }
    }
    return p;
}

static sl_status product_params(sl_arena *a, const Shelfline__V1__Product *p, const char **v)
{
    v[0] = p->sku;
    v[1] = p->name;
    v[2] = p->category;
    v[3] = p->brand;
    v[4] = i64s(a, p->price->minor_units);
    v[5] = p->price->currency;
    v[6] = i64s(a, p->repeat_purchase_days);
    v[7] = text_array(a, (const char *const *)p->seasonal_tags, p->n_seasonal_tags);
    return SL_OK;
}

static bool product_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    Shelfline__V1__Product **ps = rows;
    return (ps[i] = product_from(a, r, i)) != NULL;
}

static sl_status one_product(sl_db_conn *c, sl_arena *a, const char *stmt, int n,
                             const char *const *v, Shelfline__V1__Product **out, sl_err *err)
{
    *out = NULL;
    return query_one(c, a, stmt, n, v, product_at, out, err);
}

sl_status inv_store_product_create(sl_db_conn *c, sl_arena *a, const Shelfline__V1__Product *p,
                                   bool *created, Shelfline__V1__Product **out, sl_err *err)
{
    const char *v[8];
    product_params(a, p, v);
    sl_status st = one_product(c, a, "inv_product_insert", 8, v, out, err);
    if (st != SL_OK)
        return st;
    *created = *out != NULL;
    if (*out != NULL)
        return SL_OK;
    return inv_store_product_get(c, a, p->sku, out, err);
}

sl_status inv_store_product_update(sl_db_conn *c, sl_arena *a, const Shelfline__V1__Product *p,
                                   Shelfline__V1__Product **out, sl_err *err)
{
    const char *v[8];
    product_params(a, p, v);
    return one_product(c, a, "inv_product_update", 8, v, out, err);
}

sl_status inv_store_product_get(sl_db_conn *c, sl_arena *a, const char *sku,
                                Shelfline__V1__Product **out, sl_err *err)
{
    const char *v[1] = {sku};
    return one_product(c, a, "inv_product_get", 1, v, out, err);
}

sl_status inv_store_product_list(sl_db_conn *c, sl_arena *a, const char *category,
                                 const char *after, int limit, Shelfline__V1__Product ***out,
                                 size_t *n, sl_err *err)
{
    const char *v[3] = {category, after, i64s(a, limit)};
    void *rows = NULL;
    sl_status st =
        query_rows(c, a, "inv_product_list", 3, v, sizeof **out, product_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_skus_missing(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t n,
                                 long *missing, sl_err *err)
{
    const char *v[1] = {text_array(a, skus, n)};
    PGresult *r = NULL;
    sl_status st = run(c, "inv_skus_missing", 1, v, &r, err);
    if (st != SL_OK)
        return st;
    *missing = PQntuples(r) > 0 ? (long)gi(r, 0, 0) : -1;
    PQclear(r);
    return SL_OK;
}

sl_status inv_store_tz_valid(sl_db_conn *c, const char *tz, bool *valid, sl_err *err)
{
    const char *v[1] = {tz};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "inv_tz_valid", 1, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    *valid = gb(r, 0, 0);
    PQclear(r);
    return SL_OK;
}

static const char *kind_name(Shelfline__V1__Warehouse__Kind k)
{
    switch (k) {
    case SHELFLINE__V1__WAREHOUSE__KIND__DISTRIBUTION_CENTER:
        return "DISTRIBUTION_CENTER";
    case SHELFLINE__V1__WAREHOUSE__KIND__STORE:
        return "STORE";
    case SHELFLINE__V1__WAREHOUSE__KIND__MICRO_FULFILLMENT:
        return "MICRO_FULFILLMENT";
    case SHELFLINE__V1__WAREHOUSE__KIND__THIRD_PARTY_LOGISTICS:
        return "THIRD_PARTY_LOGISTICS";
    case SHELFLINE__V1__WAREHOUSE__KIND__KIND_UNSPECIFIED:
    case _SHELFLINE__V1__WAREHOUSE__KIND_IS_INT_SIZE:
        break;
    }
    return "";
}

static Shelfline__V1__Warehouse__Kind kind_of(const char *s)
{
    if (strcmp(s, "DISTRIBUTION_CENTER") == 0)
        return SHELFLINE__V1__WAREHOUSE__KIND__DISTRIBUTION_CENTER;
    if (strcmp(s, "STORE") == 0)
        return SHELFLINE__V1__WAREHOUSE__KIND__STORE;
    if (strcmp(s, "MICRO_FULFILLMENT") == 0)
        return SHELFLINE__V1__WAREHOUSE__KIND__MICRO_FULFILLMENT;
    if (strcmp(s, "THIRD_PARTY_LOGISTICS") == 0)
        return SHELFLINE__V1__WAREHOUSE__KIND__THIRD_PARTY_LOGISTICS;
    return SHELFLINE__V1__WAREHOUSE__KIND__KIND_UNSPECIFIED;
}

static Shelfline__V1__Warehouse *wh_from(sl_arena *a, const PGresult *r, int i)
{
    Shelfline__V1__Warehouse *w = sl_arena_alloc(a, sizeof *w);
    char *cut = sl_arena_alloc(a, 8);
    if (w == NULL || cut == NULL)
        return NULL;
    shelfline__v1__warehouse__init(w);
    w->warehouse_id = (char *)gs(a, r, i, col(r, "warehouse_id"));
    w->name = (char *)gs(a, r, i, col(r, "name"));
    w->region = (char *)gs(a, r, i, col(r, "region"));
    w->kind = kind_of(gs(a, r, i, col(r, "kind")));
    w->location = (char *)gs(a, r, i, col(r, "location"));
    w->time_zone = (char *)gs(a, r, i, col(r, "time_zone"));
    int m = (int)gi(r, i, col(r, "cutoff_minutes"));
    snprintf(cut, 8, "%02d:%02d", m / 60 % 24, m % 60);
    w->ship_cutoff = cut;
    w->active = gb(r, i, col(r, "active"));
    w->created_at_ms = gi(r, i, col(r, "created_ms"));
    w->updated_at_ms = gi(r, i, col(r, "updated_ms"));
    return w;
}

static bool wh_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    Shelfline__V1__Warehouse **ws = rows;
    return (ws[i] = wh_from(a, r, i)) != NULL;
}

static bool wh_row_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    inv_wh_row *w = rows;
    w[i].warehouse_id = gs(a, r, i, 0);
    w[i].region = gs(a, r, i, 1);
    w[i].active = gb(r, i, 2);
    return true;
}

static sl_status one_wh(sl_db_conn *c, sl_arena *a, const char *stmt, int n, const char *const *v,
                        Shelfline__V1__Warehouse **out, sl_err *err)
{
    *out = NULL;
    return query_one(c, a, stmt, n, v, wh_at, out, err);
}

static void wh_params(sl_arena *a, const Shelfline__V1__Warehouse *w, int cutoff, const char **v)
{
    v[0] = w->warehouse_id;
    v[1] = w->name;
    v[2] = w->region;
    v[3] = kind_name(w->kind);
    v[4] = w->location;
    v[5] = w->time_zone;
    v[6] = i64s(a, cutoff);
    v[7] = w->active ? "true" : "false";
}

sl_status inv_store_warehouse_create(sl_db_conn *c, sl_arena *a, const Shelfline__V1__Warehouse *w,
                                     int cutoff_minutes, bool *created,
                                     Shelfline__V1__Warehouse **out, sl_err *err)
{
    const char *v[8];
    wh_params(a, w, cutoff_minutes, v);
    sl_status st = one_wh(c, a, "inv_wh_insert", 8, v, out, err);
    if (st != SL_OK)
        return st;
    *created = *out != NULL;
    if (*out != NULL)
        return SL_OK;
    return inv_store_warehouse_get(c, a, w->warehouse_id, out, err);
}

sl_status inv_store_warehouse_update(sl_db_conn *c, sl_arena *a, const Shelfline__V1__Warehouse *w,
                                     int cutoff_minutes, Shelfline__V1__Warehouse **out,
                                     sl_err *err)
{
    const char *v[8];
    wh_params(a, w, cutoff_minutes, v);
    return one_wh(c, a, "inv_wh_update", 8, v, out, err);
}

sl_status inv_store_warehouse_get(sl_db_conn *c, sl_arena *a, const char *id,
                                  Shelfline__V1__Warehouse **out, sl_err *err)
{
    const char *v[1] = {id};
    return one_wh(c, a, "inv_wh_get", 1, v, out, err);
}

sl_status inv_store_warehouse_list(sl_db_conn *c, sl_arena *a, const char *region,
                                   const char *after, int limit, Shelfline__V1__Warehouse ***out,
                                   size_t *n, sl_err *err)
{
    const char *v[3] = {region, after, i64s(a, limit)};
    void *rows = NULL;
    sl_status st = query_rows(c, a, "inv_wh_list", 3, v, sizeof **out, wh_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_warehouses(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                               inv_wh_row **out, size_t *nout, sl_err *err)
{
    const char *v[1] = {text_array(a, ids, n)};
    void *rows = NULL;
    sl_status st = query_rows(c, a, "inv_wh_rows", 1, v, sizeof **out, wh_row_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

static Shelfline__V1__TransitTime *tr_from(sl_arena *a, const PGresult *r, int i)
{
    Shelfline__V1__TransitTime *t = sl_arena_alloc(a, sizeof *t);
    if (t == NULL)
        return NULL;
    shelfline__v1__transit_time__init(t);
    t->warehouse_id = (char *)gs(a, r, i, col(r, "warehouse_id"));
    t->region = (char *)gs(a, r, i, col(r, "region"));
    t->p50_days = (int32_t)gi(r, i, col(r, "p50_days"));
    t->p90_days = (int32_t)gi(r, i, col(r, "p90_days"));
    t->updated_at_ms = gi(r, i, col(r, "updated_ms"));
    return t;
}

static bool tr_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    Shelfline__V1__TransitTime **ts = rows;
    return (ts[i] = tr_from(a, r, i)) != NULL;
}

static sl_status one_tr(sl_db_conn *c, sl_arena *a, const char *stmt, int n, const char *const *v,
                        Shelfline__V1__TransitTime **out, sl_err *err)
{
    *out = NULL;
    return query_one(c, a, stmt, n, v, tr_at, out, err);
}

sl_status inv_store_transit_create(sl_db_conn *c, sl_arena *a, const Shelfline__V1__TransitTime *t,
                                   bool *created, Shelfline__V1__TransitTime **out, sl_err *err)
{
    const char *v[4] = {t->warehouse_id, t->region, i64s(a, t->p50_days), i64s(a, t->p90_days)};
    sl_status st = one_tr(c, a, "inv_tr_insert", 4, v, out, err);
    if (st != SL_OK)
        return st;
    *created = *out != NULL;
    if (*out != NULL)
        return SL_OK;
    return inv_store_transit_get(c, a, t->warehouse_id, t->region, out, err);
}

sl_status inv_store_transit_update(sl_db_conn *c, sl_arena *a, const Shelfline__V1__TransitTime *t,
                                   Shelfline__V1__TransitTime **out, sl_err *err)
{
    const char *v[4] = {t->warehouse_id, t->region, i64s(a, t->p50_days), i64s(a, t->p90_days)};
    return one_tr(c, a, "inv_tr_update", 4, v, out, err);
}

sl_status inv_store_transit_get(sl_db_conn *c, sl_arena *a, const char *wh, const char *region,
                                Shelfline__V1__TransitTime **out, sl_err *err)
{
    const char *v[2] = {wh, region};
    return one_tr(c, a, "inv_tr_get", 2, v, out, err);
}

sl_status inv_store_transit_list(sl_db_conn *c, sl_arena *a, const char *wh, const char *region,
                                 const char *after_wh, const char *after_region, int limit,
                                 Shelfline__V1__TransitTime ***out, size_t *n, sl_err *err)
{
    const char *v[5] = {wh, region, after_wh, after_region, i64s(a, limit)};
    void *rows = NULL;
    sl_status st = query_rows(c, a, "inv_tr_list", 5, v, sizeof **out, tr_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

/* ---- stock ---- */

static void stock_from(sl_arena *a, const PGresult *r, int i, inv_stock_row *s)
{
    s->sku = gs(a, r, i, col(r, "sku"));
    s->warehouse_id = gs(a, r, i, col(r, "warehouse_id"));
    s->on_hand = gi(r, i, col(r, "on_hand"));
    s->reserved = gi(r, i, col(r, "reserved"));
    s->safety_stock = gi(r, i, col(r, "safety_stock"));
    s->low_stock_threshold = gi(r, i, col(r, "low_stock_threshold"));
    s->updated_ms = gi(r, i, col(r, "updated_ms"));
}

static bool stock_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    inv_stock_row *s = rows;
    stock_from(a, r, i, &s[i]);
    return true;
}

/* Reads an inv_load_stock result (and frees it). */
static sl_status stock_result(sl_arena *a, PGresult *r, inv_product_row **products, size_t *np,
                              inv_stock_row **rows, size_t *nr, sl_err *err)
{
    int k = PQntuples(r);
    unsigned long failures = sl_arena_oom_count();
    inv_product_row *p = alloc_rows(a, (size_t)k, sizeof *p);
    inv_stock_row *s = alloc_rows(a, (size_t)k, sizeof *s);
    size_t npp = 0, nss = 0;
    int c_psku = col(r, "psku"), c_wh = col(r, "warehouse_id");
    for (int i = 0; p != NULL && s != NULL && sl_arena_oom_count() == failures && i < k; i++) {
        const char *sku = PQgetvalue(r, i, c_psku);
        if (npp == 0 || strcmp(p[npp - 1].sku, sku) != 0) {
            p[npp].sku = gs(a, r, i, c_psku);
            p[npp].price_minor = gi(r, i, col(r, "price_minor"));
            p[npp].currency = gs(a, r, i, col(r, "currency"));
            npp++;
        }
        if (!PQgetisnull(r, i, c_wh)) {
            stock_from(a, r, i, &s[nss]);
            nss++;
        }
    }
    PQclear(r);
    if (p == NULL || s == NULL || sl_arena_oom_count() != failures)
        return oom(err);
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
    const char *v[1] = {text_array(a, skus, n)};
    PGresult *r = NULL;
    sl_status st = run(c, "inv_load_stock", 1, v, &r, err);
    if (st != SL_OK)
        return st;
    return stock_result(a, r, products, np, rows, nr, err);
}

/* One of the two stock statements over the deltas whose exists == want. */
static sl_status apply_stock_part(sl_db_conn *c, sl_arena *a, const inv_stock_delta *d, size_t n,
                                  bool want, sl_err *err)
{
    abuf s, w, oh, rs;
    ab_init(&s, a, n);
    ab_init(&w, a, n);
    ab_init(&oh, a, n);
    ab_init(&rs, a, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i].exists != want)
            continue;
        ab_text(&s, d[i].sku);
        ab_text(&w, d[i].warehouse_id);
        ab_i64(&oh, d[i].d_on_hand);
        ab_i64(&rs, d[i].d_reserved);
        k++;
    }
    if (k == 0)
        return SL_OK;
    const char *v[4] = {ab_done(&s), ab_done(&w), ab_done(&oh), ab_done(&rs)};
    PGresult *r = NULL;
    sl_status st = run(c, want ? "inv_stock_update" : "inv_stock_insert", 4, v, &r, err);
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
            const char **v = sl_arena_alloc(a, 5 * sizeof *v);
            if (v == NULL)
                return oom(err);
            v[0] = r->sku;
            v[1] = r->warehouse_id;
            v[2] = i64s(a, r->delta);
            v[3] = r->reason;
            v[4] = r->reference != NULL ? r->reference : "";
            if (v[2] == NULL)
                return oom(err);
            q[i] = (sl_db_query){"inv_ledger_append", 5, v, NULL, NULL, NULL};
        }
        sl_status st = sl_db_exec_pipeline(c, q, k, err);
        if (st != SL_OK)
            return st;
        for (size_t i = 0; i < k; i++) {
            ids[first + i] = gi(q[i].res, 0, col(q[i].res, "id"));
            created_ms[first + i] = gi(q[i].res, 0, col(q[i].res, "created_ms"));
            PQclear(q[i].res);
        }
    }
    return SL_OK;
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
    st = read_rows(a, r, sizeof **rows, stock_at, &s, n, err);
    if (st == SL_OK)
        *rows = s;
    return st;
}

sl_status inv_store_low_stock(sl_db_conn *c, sl_arena *a, const char *region, const char *after_sku,
                              const char *after_wh, int limit, inv_stock_row **rows,
                              const char ***region_of, size_t *n, sl_err *err)
{
    const char *v[4] = {region, after_sku, after_wh, i64s(a, limit)};
    PGresult *r = NULL;
    sl_status st = run(c, "inv_low_stock", 4, v, &r, err);
    if (st != SL_OK)
        return st;
    int k = PQntuples(r);
    inv_stock_row *s = alloc_rows(a, (size_t)k, sizeof *s);
    const char **rg = alloc_rows(a, (size_t)k, sizeof *rg);
    for (int i = 0; s != NULL && rg != NULL && i < k; i++) {
        stock_from(a, r, i, &s[i]);
        rg[i] = gs(a, r, i, col(r, "region"));
    }
    PQclear(r);
    if (s == NULL || rg == NULL)
        return oom(err);
    *rows = s;
    *region_of = rg;
    *n = (size_t)k;
    return SL_OK;
}

static bool avg_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    inv_avg_row *x = &((inv_avg_row *)rows)[i];
    x->sku = gs(a, r, i, col(r, "sku"));
    x->tracked_ms = gi(r, i, col(r, "tracked_ms"));
    x->start_on_hand = gi(r, i, col(r, "start_oh"));
    x->end_on_hand = gi(r, i, col(r, "end_oh"));
    x->changes = gi(r, i, col(r, "changes"));
    x->average_on_hand = strtod(PQgetvalue(r, i, col(r, "avg_oh")), NULL);
    return x->sku != NULL;
}

sl_status inv_store_average_stock(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t n,
                                  const char *warehouse_id, int64_t from_ms, int64_t to_ms,
                                  inv_avg_row **out, size_t *nout, sl_err *err)
{
    const char *v[4] = {text_array(a, skus, n), warehouse_id, i64s(a, from_ms), i64s(a, to_ms)};
    void *rows = NULL;
    sl_status st =
        query_rows(c, a, "inv_average_stock", 4, v, sizeof **out, avg_at, &rows, nout, err);
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
    *found = PQntuples(r) > 0;
    if (*found) {
        *request = gbytes(a, r, 0, 0, request_len);
        *result = gbytes(a, r, 0, 1, result_len);
        if (*request == NULL || *result == NULL)
            st = oom(err);
    }
    PQclear(r);
    return st;
}

sl_status inv_store_idem_put(sl_db_conn *c, sl_arena *a, const char *op, const char *key,
                             const uint8_t *request, size_t request_len, const uint8_t *result,
                             size_t result_len, sl_err *err)
{
    const char *v[4] = {op, key, hexs(a, request, request_len), hexs(a, result, result_len)};
    return run(c, "inv_idem_put", 4, v, NULL, err);
}

/* ---- inbound ---- */

static bool open_inbound_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    inv_open_inbound *o = rows;
    o[i].id = gs(a, r, i, col(r, "id"));
    o[i].sku = gs(a, r, i, col(r, "sku"));
    o[i].warehouse_id = gs(a, r, i, col(r, "warehouse_id"));
    o[i].unallocated = gi(r, i, col(r, "unallocated"));
    o[i].expected_ms = gi(r, i, col(r, "expected_ms"));
    return true;
}

sl_status inv_store_open_inbound(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t n,
                                 inv_open_inbound **out, size_t *nout, sl_err *err)
{
    const char *v[1] = {text_array(a, skus, n)};
    void *rows = NULL;
    sl_status st =
        query_rows(c, a, "inv_open_inbound", 1, v, sizeof **out, open_inbound_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

static bool inbound_from(sl_arena *a, const PGresult *r, int i, inv_inbound_row *b)
{
    b->id = gs(a, r, i, col(r, "id"));
    b->kind = gs(a, r, i, col(r, "kind"));
    b->sku = gs(a, r, i, col(r, "sku"));
    b->warehouse_id = gs(a, r, i, col(r, "warehouse_id"));
    b->source_warehouse_id = gs(a, r, i, col(r, "source_warehouse_id"));
    b->supplier = gs(a, r, i, col(r, "supplier"));
    b->reference = gs(a, r, i, col(r, "reference"));
    b->qty = gi(r, i, col(r, "qty"));
    b->received = gi(r, i, col(r, "received"));
    b->backordered = gi(r, i, col(r, "backordered"));
    b->expected_ms = gi(r, i, col(r, "expected_ms"));
    b->original_ms = gi(r, i, col(r, "original_ms"));
    b->created_ms = gi(r, i, col(r, "created_ms"));
    b->request = gbytes(a, r, i, col(r, "request"), &b->request_len);
    return b->request != NULL;
}

static bool inbound_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    inv_inbound_row *b = rows;
    return inbound_from(a, r, i, &b[i]);
}

static bool delay_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    Shelfline__V1__InboundDelay **d = rows;
    Shelfline__V1__InboundDelay *x = sl_arena_alloc(a, sizeof *x);
    if (x == NULL)
        return false;
    shelfline__v1__inbound_delay__init(x);
    x->previous_expected_at_ms = gi(r, i, col(r, "prev_ms"));
    x->expected_at_ms = gi(r, i, col(r, "new_ms"));
    x->reason = (char *)gs(a, r, i, col(r, "reason"));
    x->recorded_at_ms = gi(r, i, col(r, "created_ms"));
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
    if (PQntuples(r) > 0) {
        inv_inbound_row *b = sl_arena_zalloc(a, sizeof *b);
        if (b == NULL || !inbound_from(a, r, 0, b))
            st = oom(err);
        else
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
    st = read_rows(a, r, sizeof **out, delay_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_inbound_insert(sl_db_conn *c, sl_arena *a, const inv_inbound_row *b,
                                   sl_err *err)
{
    const char *v[10] = {b->id,
                         b->kind,
                         b->sku,
                         b->warehouse_id,
                         b->source_warehouse_id,
                         b->supplier,
                         b->reference,
                         i64s(a, b->qty),
                         i64s(a, b->expected_ms),
                         hexs(a, b->request, b->request_len)};
    return run(c, "inv_inbound_insert", 10, v, NULL, err);
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
                                      int64_t new_ms, const char *reason, sl_err *err)
{
    char s1[24], s2[24];
    snprintf(s1, sizeof s1, "%" PRId64, prev_ms);
    snprintf(s2, sizeof s2, "%" PRId64, new_ms);
    const char *v[4] = {id, s1, s2, reason};
    return sl_db_exec(c, "inv_inbound_delay_add", 4, v, NULL, NULL, NULL, err);
}

sl_status inv_store_inbound_backorder(sl_db_conn *c, sl_arena *a, const char *const *ids,
                                      const int64_t *deltas, size_t n, sl_err *err)
{
    if (n == 0)
        return SL_OK;
    abuf d;
    ab_init(&d, a, n);
    for (size_t i = 0; i < n; i++)
        ab_i64(&d, deltas[i]);
    const char *v[2] = {text_array(a, ids, n), ab_done(&d)};
    return run(c, "inv_inbound_backorder", 2, v, NULL, err);
}

sl_status inv_store_inbound_list(sl_db_conn *c, sl_arena *a, const char *sku, const char *wh,
                                 bool open_only, const char *after, int limit,
                                 inv_inbound_row **out, size_t *n, sl_err *err)
{
    const char *v[5] = {sku, wh, open_only ? "true" : "false", after, i64s(a, limit)};
    void *rows = NULL;
    sl_status st =
        query_rows(c, a, "inv_inbound_list", 5, v, sizeof **out, inbound_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

static void alloc_from(sl_arena *a, const PGresult *r, int i, inv_alloc_row *x)
{
    x->reservation_id = gs(a, r, i, col(r, "reservation_id"));
    x->line_no = (int)gi(r, i, col(r, "line_no"));
    x->part_no = (int)gi(r, i, col(r, "part_no"));
    x->sku = gs(a, r, i, col(r, "sku"));
    x->warehouse_id = gs(a, r, i, col(r, "warehouse_id"));
    x->qty = gi(r, i, col(r, "qty"));
    x->inbound_id = gs(a, r, i, col(r, "inbound_id"));
    x->awaiting = gi(r, i, col(r, "awaiting"));
    x->promotion_id = gs(a, r, i, col(r, "promotion_id"));
    x->status = gs(a, r, i, col(r, "status"));
}

static bool alloc_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    inv_alloc_row *x = rows;
    alloc_from(a, r, i, &x[i]);
    return true;
}

static sl_status alloc_rows_query(sl_db_conn *c, sl_arena *a, const char *stmt, int n,
                                  const char *const *v, inv_alloc_row **out, size_t *nout,
                                  sl_err *err)
{
    void *rows = NULL;
    sl_status st = query_rows(c, a, stmt, n, v, sizeof **out, alloc_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_backorders(sl_db_conn *c, sl_arena *a, const char *inbound_id,
                               inv_alloc_row **out, size_t *n, sl_err *err)
{
    const char *v[1] = {inbound_id};
    return alloc_rows_query(c, a, "inv_backorders", 1, v, out, n, err);
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
    *found = PQntuples(r) > 0;
    if (*found) {
        *inbound_id = gs(a, r, 0, 0);
        *request = gbytes(a, r, 0, 1, request_len);
        *result = gbytes(a, r, 0, 2, result_len);
        if (*request == NULL || *result == NULL)
            st = oom(err);
    }
    PQclear(r);
    return st;
}

sl_status inv_store_receipt_put(sl_db_conn *c, sl_arena *a, const char *receipt_id,
                                const char *inbound_id, int64_t qty, const uint8_t *request,
                                size_t request_len, const uint8_t *result, size_t result_len,
                                sl_err *err)
{
    const char *v[5] = {receipt_id, inbound_id, i64s(a, qty), hexs(a, request, request_len),
                        hexs(a, result, result_len)};
    return run(c, "inv_receipt_put", 5, v, NULL, err);
}

/* ---- reservations ---- */

static bool resv_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    inv_resv_row *x = rows;
    x[i].id = gs(a, r, i, col(r, "id"));
    x[i].customer_id = gs(a, r, i, col(r, "customer_id"));
    x[i].region = gs(a, r, i, col(r, "region"));
    x[i].status = gs(a, r, i, col(r, "status"));
    x[i].request = gbytes(a, r, i, col(r, "request"), &x[i].request_len);
    x[i].result = gbytes(a, r, i, col(r, "result"), &x[i].result_len);
    x[i].created_ms = gi(r, i, col(r, "created_ms"));
    x[i].expires_ms = gi(r, i, col(r, "expires_ms"));
    x[i].closed_ms = gi(r, i, col(r, "closed_ms"));
    return x[i].request != NULL && x[i].result != NULL;
}

sl_status inv_store_resv_lookup(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                                inv_resv_row **out, size_t *nout, sl_err *err)
{
    const char *v[1] = {text_array(a, ids, n)};
    void *rows = NULL;
    sl_status st =
        query_rows(c, a, "inv_resv_lookup", 1, v, sizeof **out, resv_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_locked_read(sl_db_conn *c, sl_arena *a, const int64_t *keys, size_t nkeys,
                                const char *const *ids, size_t nids, const char *const *skus,
                                size_t nskus, inv_locked_read *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    const char *lv[1] = {i64_array(a, keys, nkeys)};
    const char *rv[1] = {text_array(a, ids, nids)};
    const char *sv[1] = {text_array(a, skus, nskus)};
    if (lv[0] == NULL || rv[0] == NULL || sv[0] == NULL)
        return oom(err);
    sl_db_query q[4] = {{"inv_lock", 1, lv, NULL},
                        {"inv_network", 0, NULL, NULL},
                        {"inv_load_stock", 1, sv, NULL},
                        {"inv_resv_lookup", 1, rv, NULL}};
    size_t nq = nids > 0 ? 4 : 3;
    sl_status st = sl_db_exec_pipeline(c, q, nq, err);
    if (st != SL_OK)
        return st;
    out->now_ms = gi(q[0].res, 0, col(q[0].res, "now_ms"));
    PQclear(q[0].res);
    void *routes = NULL, *resv = NULL;
    st = read_rows(a, q[1].res, sizeof *out->routes, route_at, &routes, &out->nroutes, err);
    q[1].res = NULL;
    if (st == SL_OK) {
        st = stock_result(a, q[2].res, &out->products, &out->nproducts, &out->rows, &out->nrows,
                          err);
        q[2].res = NULL;
    }
    if (st == SL_OK && nq == 4) {
        st = read_rows(a, q[3].res, sizeof *out->existing, resv_at, &resv, &out->nexisting, err);
        q[3].res = NULL;
    }
    for (size_t i = 1; i < nq; i++)
        PQclear(q[i].res);
    out->routes = routes;
    out->existing = resv;
    return st;
}

/* The 7 array parameters of a reservation insert. */
static void resv_params(sl_arena *a, const inv_resv_row *rows, size_t n, const char **v)
{
    abuf id, cu, rg, rq, rs, cr, ex;
    ab_init(&id, a, n);
    ab_init(&cu, a, n);
    ab_init(&rg, a, n);
    ab_init(&rq, a, n * 8);
    ab_init(&rs, a, n * 16);
    ab_init(&cr, a, n);
    ab_init(&ex, a, n);
    for (size_t i = 0; i < n; i++) {
        ab_text(&id, rows[i].id);
        ab_text(&cu, rows[i].customer_id);
        ab_text(&rg, rows[i].region);
        ab_hex(&rq, rows[i].request, rows[i].request_len);
        ab_hex(&rs, rows[i].result, rows[i].result_len);
        ab_i64(&cr, rows[i].created_ms);
        ab_i64(&ex, rows[i].expires_ms);
    }
    v[0] = ab_done(&id);
    v[1] = ab_done(&cu);
    v[2] = ab_done(&rg);
    v[3] = ab_done(&rq);
    v[4] = ab_done(&rs);
    v[5] = ab_done(&cr);
    v[6] = ab_done(&ex);
}

/* The 9 array parameters of an allocation insert. */
static void alloc_params(sl_arena *a, const inv_alloc_row *rows, size_t n, const char **v)
{
    abuf r, l, p, s, w, q, ib, aw, pr;
    ab_init(&r, a, n);
    ab_init(&l, a, n);
    ab_init(&p, a, n);
    ab_init(&s, a, n);
    ab_init(&w, a, n);
    ab_init(&q, a, n);
    ab_init(&ib, a, n);
    ab_init(&aw, a, n);
    ab_init(&pr, a, n);
    for (size_t i = 0; i < n; i++) {
        ab_text(&r, rows[i].reservation_id);
        ab_i64(&l, rows[i].line_no);
        ab_i64(&p, rows[i].part_no);
        ab_text(&s, rows[i].sku);
        ab_text(&w, rows[i].warehouse_id);
        ab_i64(&q, rows[i].qty);
        ab_text(&ib, rows[i].inbound_id);
        ab_i64(&aw, rows[i].awaiting);
        ab_text(&pr, rows[i].promotion_id);
    }
    v[0] = ab_done(&r);
    v[1] = ab_done(&l);
    v[2] = ab_done(&p);
    v[3] = ab_done(&s);
    v[4] = ab_done(&w);
    v[5] = ab_done(&q);
    v[6] = ab_done(&ib);
    v[7] = ab_done(&aw);
    v[8] = ab_done(&pr);
}

/* The 4 array parameters of a stock update (existing rows only). */
static size_t delta_params(sl_arena *a, const inv_stock_delta *d, size_t n, const char **v)
{
    abuf s, w, oh, rs;
    ab_init(&s, a, n);
    ab_init(&w, a, n);
    ab_init(&oh, a, n);
    ab_init(&rs, a, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!d[i].exists)
            continue;
        ab_text(&s, d[i].sku);
        ab_text(&w, d[i].warehouse_id);
        ab_i64(&oh, d[i].d_on_hand);
        ab_i64(&rs, d[i].d_reserved);
        k++;
    }
    v[0] = ab_done(&s);
    v[1] = ab_done(&w);
    v[2] = ab_done(&oh);
    v[3] = ab_done(&rs);
    return k;
}

sl_status inv_store_reserve_write(sl_db_conn *c, sl_arena *a, const inv_resv_row *rows,
                                  size_t nrows, const inv_alloc_row *allocs, size_t nallocs,
                                  const inv_stock_delta *d, size_t nd, sl_err *err)
{
    for (size_t i = 0; i < nd; i++)
        if (!d[i].exists)
            return sl_err_set(err, SL_INTERNAL, "a reservation batch would create a stock row");
    const char *v[20];
    resv_params(a, rows, nrows, v);
    alloc_params(a, allocs, nallocs, v + 7);
    size_t k = delta_params(a, d, nd, v + 16);
    PGresult *r = NULL;
    sl_status st = run(c, "inv_reserve_write", 20, v, &r, err);
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
    const char *v[1] = {text_array(a, ids, n)};
    return alloc_rows_query(c, a, "inv_allocs", 1, v, out, nout, err);
}

sl_status inv_store_resv_close(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                               const char *status, int64_t *changed, sl_err *err)
{
    const char *v[2] = {text_array(a, ids, n), status};
    PGresult *r = NULL;
    sl_status st = run(c, "inv_resv_close", 2, v, &r, err);
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
    abuf r, l, p, m;
    ab_init(&r, a, n);
    ab_init(&l, a, n);
    ab_init(&p, a, n);
    ab_init(&m, a, n);
    for (size_t i = 0; i < n; i++) {
        ab_text(&r, rows[i].reservation_id);
        ab_i64(&l, rows[i].line_no);
        ab_i64(&p, rows[i].part_no);
        ab_i64(&m, moved[i]);
    }
    const char *v[4] = {ab_done(&r), ab_done(&l), ab_done(&p), ab_done(&m)};
    return run(c, "inv_alloc_fulfil", 4, v, NULL, err);
}

static sl_status id_list(sl_db_conn *c, sl_arena *a, const char *stmt, int limit, const char ***ids,
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
    st = read_rows(a, r, sizeof **ids, id_at, &rows, n, err);
    if (st == SL_OK)
        *ids = rows;
    return st;
}

sl_status inv_store_resv_expired(sl_db_conn *c, sl_arena *a, int limit, const char ***ids,
                                 size_t *n, sl_err *err)
{
    return id_list(c, a, "inv_resv_expired", limit, ids, n, err);
}

/* ---- promotions ---- */

static bool promo_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    inv_promo_row *p = rows;
    p[i].id = gs(a, r, i, col(r, "id"));
    p[i].sku = gs(a, r, i, col(r, "sku"));
    p[i].region = gs(a, r, i, col(r, "region"));
    p[i].currency = gs(a, r, i, col(r, "currency"));
    p[i].quota = gi(r, i, col(r, "quota"));
    p[i].per_customer_limit = gi(r, i, col(r, "per_customer_limit"));
    p[i].starts_ms = gi(r, i, col(r, "starts_ms"));
    p[i].ends_ms = gi(r, i, col(r, "ends_ms"));
    p[i].price_minor = gi(r, i, col(r, "price_minor"));
    p[i].remaining = gi(r, i, col(r, "remaining"));
    p[i].held = gi(r, i, col(r, "held"));
    p[i].sold = gi(r, i, col(r, "sold"));
    p[i].returned = gi(r, i, col(r, "returned"));
    p[i].ended = gb(r, i, col(r, "ended"));
    p[i].request = gbytes(a, r, i, col(r, "request"), &p[i].request_len);
    return p[i].request != NULL;
}

static bool fence_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    inv_fence_row *f = rows;
    f[i].promotion_id = gs(a, r, i, 0);
    f[i].warehouse_id = gs(a, r, i, 1);
    f[i].fenced = gi(r, i, 2);
    f[i].remaining = gi(r, i, 3);
    return true;
}

static bool usage_at(sl_arena *a, const PGresult *r, int i, void *rows)
{
    inv_usage_row *u = rows;
    u[i].promotion_id = gs(a, r, i, 0);
    u[i].customer_id = gs(a, r, i, 1);
    u[i].qty = gi(r, i, 2);
    u[i].limit_qty = gi(r, i, 3);
    return true;
}

sl_status inv_store_promo_load(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                               inv_promo_row **out, size_t *nout, sl_err *err)
{
    const char *v[1] = {text_array(a, ids, n)};
    void *rows = NULL;
    sl_status st =
        query_rows(c, a, "inv_promo_load", 1, v, sizeof **out, promo_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_fence_load(sl_db_conn *c, sl_arena *a, const char *const *promo_ids, size_t n,
                               inv_fence_row **out, size_t *nout, sl_err *err)
{
    const char *v[1] = {text_array(a, promo_ids, n)};
    void *rows = NULL;
    sl_status st =
        query_rows(c, a, "inv_fence_load", 1, v, sizeof **out, fence_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_usage_load(sl_db_conn *c, sl_arena *a, const char *const *promo_ids,
                               const char *const *customer_ids, size_t n, inv_usage_row **out,
                               size_t *nout, sl_err *err)
{
    const char *v[2] = {text_array(a, promo_ids, n), text_array(a, customer_ids, n)};
    void *rows = NULL;
    sl_status st =
        query_rows(c, a, "inv_usage_load", 2, v, sizeof **out, usage_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_fence_apply(sl_db_conn *c, sl_arena *a, const inv_fence_row *d, size_t n,
                                sl_err *err)
{
    if (n == 0)
        return SL_OK;
    abuf p, w, x;
    ab_init(&p, a, n);
    ab_init(&w, a, n);
    ab_init(&x, a, n);
    for (size_t i = 0; i < n; i++) {
        ab_text(&p, d[i].promotion_id);
        ab_text(&w, d[i].warehouse_id);
        ab_i64(&x, d[i].remaining);
    }
    const char *v[3] = {ab_done(&p), ab_done(&w), ab_done(&x)};
    return run(c, "inv_fence_apply", 3, v, NULL, err);
}

sl_status inv_store_promo_apply(sl_db_conn *c, sl_arena *a, const inv_promo_delta *d, size_t n,
                                sl_err *err)
{
    if (n == 0)
        return SL_OK;
    abuf id, r, h, s, rt, e;
    ab_init(&id, a, n);
    ab_init(&r, a, n);
    ab_init(&h, a, n);
    ab_init(&s, a, n);
    ab_init(&rt, a, n);
    ab_init(&e, a, n);
    for (size_t i = 0; i < n; i++) {
        ab_text(&id, d[i].id);
        ab_i64(&r, d[i].d_remaining);
        ab_i64(&h, d[i].d_held);
        ab_i64(&s, d[i].d_sold);
        ab_i64(&rt, d[i].d_returned);
        ab_bool(&e, d[i].end);
    }
    const char *v[6] = {ab_done(&id), ab_done(&r),  ab_done(&h),
                        ab_done(&s),  ab_done(&rt), ab_done(&e)};
    return run(c, "inv_promo_apply", 6, v, NULL, err);
}

/* Increments may create rows; decrements only ever touch existing ones
 * (and must not be proposed as new rows, see inv_stock_update). */
static sl_status usage_part(sl_db_conn *c, sl_arena *a, const inv_usage_row *d, size_t n, bool add,
                            sl_err *err)
{
    abuf p, cu, q, l;
    ab_init(&p, a, n);
    ab_init(&cu, a, n);
    ab_init(&q, a, n);
    ab_init(&l, a, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i].qty == 0 || (d[i].qty > 0) != add)
            continue;
        ab_text(&p, d[i].promotion_id);
        ab_text(&cu, d[i].customer_id);
        ab_i64(&q, d[i].qty);
        ab_i64(&l, d[i].limit_qty);
        k++;
    }
    if (k == 0)
        return SL_OK;
    const char *v[4] = {ab_done(&p), ab_done(&cu), ab_done(&q), ab_done(&l)};
    return run(c, add ? "inv_usage_add" : "inv_usage_sub", 4, v, NULL, err);
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
    const char *v[10] = {p->id,
                         p->sku,
                         p->region,
                         i64s(a, p->quota),
                         i64s(a, p->per_customer_limit),
                         i64s(a, p->starts_ms),
                         i64s(a, p->ends_ms),
                         i64s(a, p->price_minor),
                         p->currency,
                         hexs(a, p->request, p->request_len)};
    sl_status st = run(c, "inv_promo_insert", 10, v, NULL, err);
    if (st != SL_OK)
        return st;
    abuf w, n;
    ab_init(&w, a, nfences);
    ab_init(&n, a, nfences);
    for (size_t i = 0; i < nfences; i++) {
        ab_text(&w, fences[i].warehouse_id);
        ab_i64(&n, fences[i].fenced);
    }
    const char *fv[3] = {p->id, ab_done(&w), ab_done(&n)};
    return run(c, "inv_fence_insert", 3, fv, NULL, err);
}

sl_status inv_store_promo_ending(sl_db_conn *c, sl_arena *a, int limit, const char ***ids,
                                 size_t *n, sl_err *err)
{
    return id_list(c, a, "inv_promo_ending", limit, ids, n, err);
}

sl_status inv_store_promo_precheck(sl_db_conn *c, const char *promo_id, const char *resv_id,
                                   int64_t *remaining, bool *resv_exists, sl_err *err)
{
    const char *v[2] = {promo_id, resv_id};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "inv_promo_precheck", 2, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    *remaining = gi(r, 0, col(r, "remaining"));
    *resv_exists = gb(r, 0, col(r, "resv"));
    PQclear(r);
    return SL_OK;
}

/* ---- checks ---- */

typedef struct check_kind {
    const char *stmt;
    Shelfline__V1__InvariantViolation__Kind kind;
    const char *what;
} check_kind;

static const check_kind checks[] = {
    {"inv_check_ledger", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__ON_HAND_VS_LEDGER,
     "on_hand differs from the sum of the ledger"},
    {"inv_check_reserved", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__RESERVED_VS_HOLDS,
     "reserved differs from live holds plus promotion fences"},
    {"inv_check_oversold", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__OVERSOLD,
     "reserved is outside 0..on_hand"},
    {"inv_check_promo", SHELFLINE__V1__INVARIANT_VIOLATION__KIND__PROMOTION,
     "a promotion counter differs from its holds, sales, fences or quota"},
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
    *stock_rows = gi(r, 0, 0);
    PQclear(r);
    Shelfline__V1__InvariantViolation **vs = alloc_rows(a, (size_t)limit, sizeof *vs);
    if (vs == NULL)
        return oom(err);
    size_t k = 0;
    for (size_t ci = 0; ci < sizeof checks / sizeof checks[0]; ci++) {
        st = sl_db_exec(c, checks[ci].stmt, 1, v, NULL, NULL, &r, err);
        if (st != SL_OK)
            return st;
        for (int i = 0; i < PQntuples(r) && k < (size_t)limit; i++) {
            Shelfline__V1__InvariantViolation *x = sl_arena_alloc(a, sizeof *x);
            if (x == NULL) {
                PQclear(r);
                return oom(err);
            }
            shelfline__v1__invariant_violation__init(x);
            x->kind = checks[ci].kind;
            x->sku = (char *)gs(a, r, i, col(r, "sku"));
            x->warehouse_id = (char *)gs(a, r, i, col(r, "warehouse_id"));
            x->subject_id = (char *)gs(a, r, i, col(r, "subject"));
            x->expected = gi(r, i, col(r, "expected"));
            x->actual = gi(r, i, col(r, "actual"));
            x->detail = (char *)checks[ci].what;
            vs[k++] = x;
        }
        PQclear(r);
    }
    *out = vs;
    *n = k;
    return SL_OK;
}
