/*
 * sd_store: the service-desk statements and row loaders (see sd_store.h).
 * All SQL of the service lives in the table below.
 */
#include "sd_store.h"

#include <string.h>

#include <libpq-fe.h>

#include "sl_db_row.h"

#define SD_SUB_COLS                                                                                \
    "subscription_id, customer_id, sku, region, status,"                                           \
    " (extract(epoch FROM created_at) * 1000)::bigint AS created_ms,"                              \
    " coalesce((extract(epoch FROM notified_at) * 1000)::bigint, 0) AS notified_ms"

#define SD_TICKET_COLS                                                                             \
    "ticket_id, fingerprint, customer_id, order_id, channel, subject, body, language, category,"   \
    " confidence, priority, tier, status, opened_at_ms, first_response_ms, resolved_ms,"           \
    " suggested, mentions, sla_version,"                                                           \
    " (SELECT coalesce(string_agg(kind || ':' || at_ms, ',' ORDER BY seq), '')"                    \
    "  FROM ticket_event e WHERE e.ticket_id = t.ticket_id AND kind IN ('PAUSE', 'RESUME'))"       \
    " AS sla_events"

#define SD_NOTIF_COLS                                                                              \
    "notification_id, idempotency_key, kind, customer_id, order_id, body, coupon_code,"            \
    " value_minor, currency, (extract(epoch FROM created_at) * 1000)::bigint AS created_ms,"       \
    " coalesce((extract(epoch FROM acked_at) * 1000)::bigint, 0) AS acked_ms"

static const sl_db_stmt stmts[] = {
    {"sd_order_get",
     "SELECT order_id, customer_id, region, status, placed_at_ms, allow_split, allow_backorder,"
     " fingerprint, promised_ship, promised_p50, promised_p90, promised_conf, slips,"
     " granted_minor, carrier, tracking, coalesce(carrier_promised, 0) AS carrier_promised,"
     " language,"
     " carrier_promised IS NOT NULL AS has_carrier_promise,"
     " coalesce(delivered_at_ms, 0) AS delivered_at_ms,"
     " (extract(epoch FROM updated_at) * 1000)::bigint AS updated_ms"
     " FROM orders WHERE order_id = $1",
     1},
    {"sd_order_get_for_update",
     "SELECT order_id, customer_id, region, status, placed_at_ms, allow_split, allow_backorder,"
     " fingerprint, promised_ship, promised_p50, promised_p90, promised_conf, slips,"
     " granted_minor, carrier, tracking, coalesce(carrier_promised, 0) AS carrier_promised,"
     " language,"
     " carrier_promised IS NOT NULL AS has_carrier_promise,"
     " coalesce(delivered_at_ms, 0) AS delivered_at_ms,"
     " (extract(epoch FROM updated_at) * 1000)::bigint AS updated_ms"
     " FROM orders WHERE order_id = $1 FOR UPDATE",
     1},
    {"sd_order_lines",
     "SELECT line_no, sku, qty, promotion_id, price_minor, currency FROM order_line"
     " WHERE order_id = $1 ORDER BY line_no",
     1},
    {"sd_order_parts",
     "SELECT line_no, part_no, warehouse_id, qty, inbound_id, promised_expected_ms, expected_ms,"
     " slips, transit_p50, transit_p90, delay_reason, promised_ship, promised_p50, promised_p90,"
     " promised_conf, coalesce(received_ms, 0) AS received_ms"
     " FROM order_part WHERE order_id = $1 ORDER BY line_no, part_no",
     1},
    {"sd_order_insert",
     "INSERT INTO orders (order_id, customer_id, region, status, placed_at_ms, allow_split,"
     " allow_backorder, fingerprint, promised_ship, promised_p50, promised_p90, promised_conf,"
     " actor, request_id, trace_id, language)"
     " VALUES ($1, $2, $3, 'PLACED', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
     " ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
     15},
    {"sd_line_insert",
     "INSERT INTO order_line (order_id, line_no, sku, qty, promotion_id, price_minor, currency)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7)",
     7},
    {"sd_part_insert",
     "INSERT INTO order_part (order_id, line_no, part_no, warehouse_id, qty, inbound_id,"
     " promised_expected_ms, expected_ms, transit_p50, transit_p90, promised_ship, promised_p50,"
     " promised_p90, promised_conf)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $13)",
     13},
    {"sd_order_set_status",
     "UPDATE orders SET status = $3, updated_at = now(), actor = $4, request_id = $5,"
     " trace_id = $6 WHERE order_id = $1 AND status = $2 RETURNING order_id",
     6},
    {"sd_order_ship",
     "UPDATE orders SET status = $2, carrier = $3, tracking = $4, updated_at = now(),"
     " actor = $5, request_id = $6, trace_id = $7, delivered_at_ms = CASE WHEN $2 = 'DELIVERED' "
     "THEN (extract(epoch FROM now()) * 1000)::bigint"
     " ELSE delivered_at_ms END, carrier_promised = coalesce($8::integer, carrier_promised)"
     " WHERE order_id = $1",
     8},
    {"sd_order_cancel",
     "UPDATE orders SET status = 'CANCELLED', cancel_reason = $2, updated_at = now(),"
     " actor = $3, request_id = $4, trace_id = $5"
     " WHERE order_id = $1 AND status = 'PLACED' RETURNING order_id",
     5},
    /* A call whose own transition a consumer of inventory's events
     * applied first (as "system"): the call's caller is who did it. */
    {"sd_order_claim",
     "UPDATE orders SET actor = $3, request_id = $4, trace_id = $5, cancel_reason = CASE WHEN $2"
     " = 'CANCELLED' THEN $6 ELSE cancel_reason END WHERE order_id = $1 AND status = $2"
     " AND actor = 'system'",
     6},
    {"sd_orders_by_customer",
     "SELECT order_id, placed_at_ms FROM orders WHERE customer_id = $1"
     " AND ($2::bigint IS NULL OR (placed_at_ms, order_id) < ($2::bigint, $3::text))"
     " ORDER BY placed_at_ms DESC, order_id DESC LIMIT $4",
     4},
    /* ---- sync with inventory ---- */
    /* The live orders still expecting inbound $1 before $2, in order_id
     * order after $3, at most $4: one batch of a delay.  Orders already
     * moved drop out, so a delay re-delivered after a crash resumes where
     * the committed batches ended. */
    {"sd_orders_on_inbound",
     "SELECT DISTINCT p.order_id FROM order_part p JOIN orders o USING (order_id)"
     " WHERE p.inbound_id = $1 AND p.expected_ms < $2 AND p.order_id > $3"
     " AND o.status NOT IN ('CANCELLED', 'DELIVERED')"
     " ORDER BY p.order_id LIMIT $4",
     4},
    {"sd_parts_delay",
     "UPDATE order_part SET expected_ms = $3, slips = slips + 1, delay_reason = $4"
     " WHERE order_id = $1 AND inbound_id = $2 AND expected_ms < $3",
     4},
    /* INBOUND_RECEIVED: the parts waiting on inbound $1 learn when it
     * came in (the first receipt only: a replay changes nothing). */
    {"sd_parts_received",
     "UPDATE order_part SET received_ms = $2 WHERE inbound_id = $1 AND received_ms IS NULL", 2},
    {"sd_order_slip",
     "UPDATE orders SET slips = slips + 1, granted_minor = granted_minor + $2,"
     " updated_at = now() WHERE order_id = $1 RETURNING slips",
     2},
    {"sd_eta_change_insert",
     "INSERT INTO eta_change (order_id, slip_no, inbound_id, new_expected_ms, old_p50, old_p90,"
     " new_p50, new_p90, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
     " ON CONFLICT DO NOTHING RETURNING slip_no",
     9},
    /* ListEtaChanges: the slips of order $1 after slip $2, at most $3, with
     * the lines each moved (those waiting on its inbound; every line for
     * a carrier's "carrier:<n>", which no inventory id can be).  The order
     * row is the left side: no row at all is an unknown order, one row
     * with a NULL slip_no an order that never moved. */
    {"sd_eta_changes",
     "SELECT c.slip_no, (extract(epoch FROM c.created_at) * 1000)::bigint AS created_ms,"
     " c.inbound_id, c.new_expected_ms, c.old_p50, c.old_p90,"
     " c.new_p50, c.new_p90, c.reason,"
     " (SELECT string_agg(x.line_no::text, ',' ORDER BY x.line_no) FROM"
     "   (SELECT DISTINCT p.line_no FROM order_part p WHERE p.order_id = o.order_id"
     "    AND (p.inbound_id = c.inbound_id OR c.inbound_id LIKE 'carrier:%')) x) AS line_nos"
     " FROM orders o LEFT JOIN LATERAL (SELECT * FROM eta_change e WHERE e.order_id = o.order_id"
     "   AND e.slip_no > $2 ORDER BY e.slip_no LIMIT $3) c ON true"
     " WHERE o.order_id = $1 ORDER BY c.slip_no",
     3},
    {"sd_comp_insert",
     "INSERT INTO compensation (order_id, slip_no, coupon_code, value_minor, currency)"
     " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING slip_no",
     5},
    /* A notification is written without its public id (NULL until the
     * sequencer below numbers it). */
    {"sd_notif_insert",
     "INSERT INTO notification (idempotency_key, kind, customer_id, order_id, body,"
     " coupon_code, value_minor, currency) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
     " ON CONFLICT (idempotency_key) DO NOTHING RETURNING row_id",
     8},
    /* The notifications' sequencer (sd_store_notif_table; the scheme is
     * common/sl_outbox.h's): one statement, one snapshot.  The rows
     * without an id whose writer's xid is below the snapshot's xmin are
     * final -- every such writer has ended, and every later one has a
     * larger xid -- so numbering them after the largest id, in (xid,
     * row_id) order, can never be undercut by a late commit. */
    {"sd_notif_sequence",
     "WITH horizon AS (SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())"
     "   AS xmin),"
     " base AS (SELECT coalesce(max(notification_id), 0) AS p FROM notification),"
     " ready AS (SELECT n.row_id, row_number() OVER (ORDER BY n.xid, n.row_id) AS rn"
     "   FROM notification n, horizon h WHERE n.notification_id IS NULL AND n.xid < h.xmin"
     "   ORDER BY n.xid, n.row_id LIMIT 10000),"
     " numbered AS (UPDATE notification n SET notification_id = base.p + ready.rn"
     "   FROM ready, base WHERE n.row_id = ready.row_id RETURNING 1)"
     " SELECT (SELECT count(*) FROM numbered) AS assigned,"
     " (SELECT count(*) FROM notification WHERE notification_id IS NULL) AS unsequenced",
     0},
    {"sd_notif_list",
     "SELECT " SD_NOTIF_COLS " FROM notification WHERE notification_id > $1"
     " AND ($2 = '' OR customer_id = $2) AND (NOT $3::boolean OR acked_at IS NULL)"
     " ORDER BY notification_id LIMIT $4",
     4},
    /* The newest numbered notification: ids are given after commit, in
     * order, so no smaller id can appear after it. */
    {"sd_notif_newest", "SELECT coalesce(max(notification_id), 0) AS newest FROM notification", 0},
    /* Bounded by $1, on the partial index notification_pending (0003). */
    {"sd_notif_pending",
     "SELECT count(*) AS pending FROM (SELECT 1 FROM notification WHERE acked_at IS NULL"
     " LIMIT $1::int8) p",
     1},
    {"sd_notif_ack",
     "UPDATE notification SET acked_at = coalesce(acked_at, now()) WHERE notification_id = $1"
     " RETURNING " SD_NOTIF_COLS,
     1},
    /* ---- back in stock ---- */
    {"sd_sub_insert",
     "INSERT INTO subscription (customer_id, sku, region) VALUES ($1, $2, $3)"
     " ON CONFLICT (customer_id, sku, region) WHERE status = 'ACTIVE' DO NOTHING"
     " RETURNING " SD_SUB_COLS,
     3},
    {"sd_sub_find_active",
     "SELECT " SD_SUB_COLS " FROM subscription WHERE customer_id = $1 AND sku = $2"
     " AND region = $3 AND status = 'ACTIVE'",
     3},
    {"sd_sub_cancel",
     "UPDATE subscription SET status = CASE WHEN status = 'ACTIVE' THEN 'CANCELLED'"
     " ELSE status END WHERE subscription_id = $1 RETURNING " SD_SUB_COLS,
     1},
    {"sd_sub_list",
     "SELECT " SD_SUB_COLS " FROM subscription WHERE customer_id = $1 AND subscription_id < $2"
     " ORDER BY subscription_id DESC LIMIT $3",
     3},
    /* GetBackInStockQueue: the active subscriptions of SKU $1 per region
     * (only region $2 unless it is ''), on the queue's partial index. */
    {"sd_sub_queue",
     "SELECT region, count(*) AS waiting,"
     " (extract(epoch FROM min(created_at)) * 1000)::bigint AS oldest_ms FROM subscription"
     " WHERE sku = $1 AND status = 'ACTIVE' AND ($2 = '' OR region = $2)"
     " GROUP BY region ORDER BY region",
     2},
    {"sd_restock_insert",
     "INSERT INTO restock (event_id, sku, region, available, next_at_ms)"
     " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
     5},
    {"sd_restock_stop",
     "UPDATE restock SET done = true WHERE sku = $1 AND region = $2 AND NOT done", 2},
    {"sd_restock_claim",
     "SELECT restock_id, sku, region, available, batches FROM restock"
     " WHERE NOT done AND next_at_ms <= $1 ORDER BY next_at_ms, restock_id LIMIT 1"
     " FOR UPDATE SKIP LOCKED",
     1},
    /* One batch: the oldest active subscriptions become NOTIFIED and get
     * their notification, in one statement. */
    {"sd_restock_batch",
     "WITH b AS (SELECT subscription_id FROM subscription WHERE sku = $1 AND region = $2"
     "   AND status = 'ACTIVE' ORDER BY subscription_id LIMIT $3 FOR UPDATE),"
     " u AS (UPDATE subscription s SET status = 'NOTIFIED', restock_id = $4, batch_no = $5,"
     "   notified_at = now() FROM b WHERE s.subscription_id = b.subscription_id"
     "   RETURNING s.subscription_id, s.customer_id)"
     " INSERT INTO notification (idempotency_key, kind, customer_id, body)"
     " SELECT 'bis:' || u.subscription_id || ':' || $4, 'BACK_IN_STOCK', u.customer_id, $6"
     " FROM u ORDER BY u.subscription_id ON CONFLICT (idempotency_key) DO NOTHING"
     " RETURNING row_id",
     6},
    {"sd_restock_pending",
     "SELECT count(*) AS pending FROM subscription WHERE sku = $1 AND region = $2"
     " AND status = 'ACTIVE'",
     2},
    {"sd_restock_update",
     "UPDATE restock SET batches = $2, next_at_ms = $3, done = $4 WHERE restock_id = $1", 4},
    /* ---- tickets ---- */
    {"sd_order_exists", "SELECT 1 AS found FROM orders WHERE order_id = $1", 1},
    /* sla_version: the policy in force as the row is inserted */
    {"sd_ticket_insert",
     "INSERT INTO ticket (ticket_id, fingerprint, customer_id, order_id, channel, subject, body,"
     " language, category, confidence, priority, tier, status, opened_at_ms, suggested, mentions,"
     " actor, request_id, trace_id, sla_version)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'OPEN', $13, $14, $15, $16, $17,"
     " $18, (SELECT coalesce(max(version), 0) FROM sla_policy))"
     " ON CONFLICT (ticket_id) DO NOTHING RETURNING ticket_id",
     18},
    /* ---- SLA policies ---- */
    /* One SetSlaPolicy at a time: the next version is max + 1. */
    {"sd_sla_lock", "SELECT pg_advisory_xact_lock(hashtext('service_desk.sla_policy'))", 0},
    {"sd_sla_latest",
     "SELECT version, policy, (extract(epoch FROM created_at) * 1000)::bigint AS created_ms"
     " FROM sla_policy ORDER BY version DESC LIMIT 1",
     0},
    {"sd_sla_insert",
     "INSERT INTO sla_policy (version, policy, actor, request_id, trace_id)"
     " SELECT coalesce(max(version), 0) + 1, $1::bytea, $2, $3, $4 FROM sla_policy"
     " RETURNING version, policy, (extract(epoch FROM created_at) * 1000)::bigint AS created_ms",
     4},
    {"sd_sla_since",
     "SELECT version, policy, (extract(epoch FROM created_at) * 1000)::bigint AS created_ms"
     " FROM sla_policy WHERE version > $1 ORDER BY version",
     1},
    {"sd_customer_region",
     "SELECT region FROM orders WHERE customer_id = $1 ORDER BY placed_at_ms DESC LIMIT 1", 1},
    {"sd_ticket_get", "SELECT " SD_TICKET_COLS " FROM ticket t WHERE ticket_id = $1", 1},
    {"sd_ticket_lock",
     "SELECT status, first_response_ms IS NOT NULL AS responded FROM ticket"
     " WHERE ticket_id = $1 FOR UPDATE",
     1},
    {"sd_ticket_list",
     "SELECT " SD_TICKET_COLS " FROM ticket t"
     " WHERE (CASE WHEN $1 = '' THEN status <> 'RESOLVED' ELSE status = $1 END)"
     " AND ($2 = '' OR category = $2) AND ($3 = '' OR priority = $3)"
     " AND ($4 = '' OR customer_id = $4) AND (opened_at_ms, ticket_id) > ($5, $6)"
     " AND (NOT $7 OR (first_response_ms IS NULL"
     "   AND opened_at_ms <= ($8::bigint[])[substr(priority, 2)::int])"
     "  OR (resolved_ms IS NULL AND opened_at_ms <= ($9::bigint[])[substr(priority, 2)::int]))"
     " ORDER BY opened_at_ms, ticket_id LIMIT $10",
     10},
    {"sd_ticket_period",
     "SELECT " SD_TICKET_COLS " FROM ticket t WHERE opened_at_ms >= $1 AND opened_at_ms < $2"
     " ORDER BY opened_at_ms, ticket_id LIMIT 100001",
     2},
    {"sd_ticket_messages",
     "SELECT kind, at_ms, body FROM ticket_event WHERE ticket_id = $1"
     " AND kind IN ('RESPONSE', 'CUSTOMER') ORDER BY seq",
     1},
    {"sd_ticket_event",
     "INSERT INTO ticket_event (ticket_id, kind, at_ms, body, actor, request_id, trace_id)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7)",
     7},
    {"sd_ticket_set",
     "UPDATE ticket SET status = $2,"
     " first_response_ms = CASE WHEN $3::boolean THEN coalesce(first_response_ms, $4::bigint)"
     " ELSE first_response_ms END WHERE ticket_id = $1",
     4},
    {"sd_ticket_resolve",
     "UPDATE ticket SET status = 'RESOLVED', resolved_ms = $2, resolution = $3,"
     " first_response_ms = coalesce(first_response_ms, $2), resolved_by = $4,"
     " resolved_request_id = $5, resolved_trace_id = $6"
     " WHERE ticket_id = $1 AND status <> 'RESOLVED'",
     6},
    /* ---- returns ---- */
    {"sd_rma_order",
     "SELECT status, delivered_at_ms, customer_id FROM orders WHERE order_id = $1"
     " FOR UPDATE",
     1},
    /* units bought of a SKU, the first warehouse they shipped from, the
     * price paid, and the units already in returns */
    {"sd_rma_sku",
     "SELECT coalesce(sum(l.qty), 0) AS bought,"
     " (SELECT p.warehouse_id FROM order_part p WHERE p.order_id = $1"
     "  AND p.line_no = min(l.line_no) ORDER BY p.part_no LIMIT 1) AS warehouse_id,"
     " coalesce(max(l.price_minor), 0) AS price_minor, coalesce(max(l.currency), '') AS currency,"
     " (SELECT coalesce(sum(rl.qty), 0) FROM rma_line rl JOIN rma r USING (rma_id)"
     "  WHERE r.order_id = $1 AND rl.sku = $2) AS returned"
     " FROM order_line l WHERE l.order_id = $1 AND l.sku = $2",
     2},
    {"sd_rma_insert",
     "INSERT INTO rma (rma_id, fingerprint, order_id, reason, status, created_at_ms)"
     " VALUES ($1, $2, $3, $4, 'REQUESTED', $5)",
     5},
    {"sd_rma_line_insert",
     "INSERT INTO rma_line (rma_id, line_no, sku, qty, warehouse_id, price_minor, currency)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7)",
     7},
    {"sd_rma_get",
     "SELECT r.rma_id, r.fingerprint, r.order_id, o.customer_id, r.reason, r.status, r.condition,"
     " r.refund_minor, r.currency, r.restocked, r.created_at_ms, r.received_at_ms"
     " FROM rma r JOIN orders o USING (order_id) WHERE r.rma_id = $1",
     1},
    /* One page of returns, one row per line (every return has one), in
     * one statement: one snapshot for the returns and their lines. */
    {"sd_rma_list",
     "WITH p AS (SELECT r.rma_id, r.fingerprint, r.order_id, o.customer_id, r.reason, r.status,"
     "   r.condition, r.refund_minor, r.currency, r.restocked, r.created_at_ms, r.received_at_ms"
     "   FROM rma r JOIN orders o USING (order_id)"
     "   WHERE ($1 = '' OR o.customer_id = $1) AND ($2 = '' OR r.order_id = $2)"
     "   AND (r.created_at_ms, r.rma_id) < ($3, $4)"
     "   ORDER BY r.created_at_ms DESC, r.rma_id DESC LIMIT $5)"
     " SELECT p.*, l.line_no, l.sku, l.qty, l.warehouse_id, l.price_minor,"
     " l.currency AS line_currency FROM p JOIN rma_line l USING (rma_id)"
     " ORDER BY p.created_at_ms DESC, p.rma_id DESC, l.line_no",
     5},
    {"sd_rma_lines",
     "SELECT line_no, sku, qty, warehouse_id, price_minor, currency FROM rma_line"
     " WHERE rma_id = $1 ORDER BY line_no",
     1},
    {"sd_rma_receive",
     "UPDATE rma SET status = 'RECEIVED', condition = $2, refund_minor = $3, currency = $4,"
     " restocked = $5, received_at_ms = $6 WHERE rma_id = $1 AND status = 'REQUESTED'"
     " RETURNING rma_id",
     6},
    {NULL, NULL, 0},
};

sl_status sd_store_register(sl_db *db, sl_err *err)
{
    return sl_db_register(db, stmts, err);
}

Shelfline__V1__EtaRange *sd_store_eta_range(sl_arena *a, sd_date ship, sd_date p50, sd_date p90,
                                            sd_confidence c)
{
    Shelfline__V1__EtaRange *e = sl_arena_alloc(a, sizeof *e);
    char *s = sl_arena_alloc(a, 3 * SD_DATE_STR);
    if (e == NULL || s == NULL)
        return NULL;
    shelfline__v1__eta_range__init(e);
    sd_date_format(ship, s);
    sd_date_format(p50, s + SD_DATE_STR);
    sd_date_format(p90, s + 2 * SD_DATE_STR);
    e->ship_date = s;
    e->p50_date = s + SD_DATE_STR;
    e->p90_date = s + 2 * SD_DATE_STR;
    switch (c) {
    case SD_CONFIDENCE_HIGH:
        e->confidence = SHELFLINE__V1__ETA_CONFIDENCE__ETA_CONFIDENCE_HIGH;
        break;
    case SD_CONFIDENCE_MEDIUM:
        e->confidence = SHELFLINE__V1__ETA_CONFIDENCE__ETA_CONFIDENCE_MEDIUM;
        break;
    case SD_CONFIDENCE_LOW:
        e->confidence = SHELFLINE__V1__ETA_CONFIDENCE__ETA_CONFIDENCE_LOW;
        break;
    }
    return e;
}

Shelfline__V1__OrderStatus sd_store_status_enum(const char *name)
{
    static const struct {
        const char *name;
        Shelfline__V1__OrderStatus v;
    } map[] = {
        {"PLACED", SHELFLINE__V1__ORDER_STATUS__ORDER_PLACED},
        {"PAID", SHELFLINE__V1__ORDER_STATUS__ORDER_PAID},
        {"PICKED", SHELFLINE__V1__ORDER_STATUS__ORDER_PICKED},
        {"SHIPPED", SHELFLINE__V1__ORDER_STATUS__ORDER_SHIPPED},
        {"DELIVERED", SHELFLINE__V1__ORDER_STATUS__ORDER_DELIVERED},
        {"DELIVERY_FAILED", SHELFLINE__V1__ORDER_STATUS__ORDER_DELIVERY_FAILED},
        {"CANCELLED", SHELFLINE__V1__ORDER_STATUS__ORDER_CANCELLED},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, name) == 0)
            return map[i].v;
    return SHELFLINE__V1__ORDER_STATUS__ORDER_STATUS_UNSPECIFIED;
}

static sd_confidence conf_of(int64_t v)
{
    return v == 0 ? SD_CONFIDENCE_HIGH : v == 1 ? SD_CONFIDENCE_MEDIUM : SD_CONFIDENCE_LOW;
}

const sl_outbox_table sd_store_notif_table = {"notification", "sd_notif_sequence"};

sl_status sd_store_notif_begin(sl_db_conn *conn, sl_events *ev, sl_err *err)
{
    return sl_events_written(ev, conn, err);
}

/* The order row into out->order and out's own fields. */
static sl_status order_from(sl_arena *a, PGresult *res, sd_order_rec *out, sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    Shelfline__V1__Order *o = sl_arena_alloc(a, sizeof *o);
    if (o == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    shelfline__v1__order__init(o);
    o->order_id = (char *)sl_db_text(&rd, 0, "order_id");
    o->customer_id = (char *)sl_db_text(&rd, 0, "customer_id");
    o->region = (char *)sl_db_text(&rd, 0, "region");
    out->status = sl_db_text(&rd, 0, "status");
    o->status = sd_store_status_enum(out->status);
    o->placed_at_ms = sl_db_int64(&rd, 0, "placed_at_ms");
    o->allow_split = sl_db_bool(&rd, 0, "allow_split");
    o->allow_backorder = sl_db_bool(&rd, 0, "allow_backorder");
    o->carrier = (char *)sl_db_text(&rd, 0, "carrier");
    o->language = (char *)sl_db_text(&rd, 0, "language");
    o->tracking = (char *)sl_db_text(&rd, 0, "tracking");
    o->updated_at_ms = sl_db_int64(&rd, 0, "updated_ms");
    out->fingerprint = sl_db_text(&rd, 0, "fingerprint");
    out->slips = (int)sl_db_int64(&rd, 0, "slips");
    out->granted_minor = sl_db_int64(&rd, 0, "granted_minor");
    out->promised_p50 = (sd_date)sl_db_int64(&rd, 0, "promised_p50");
    out->has_carrier_promise = sl_db_bool(&rd, 0, "has_carrier_promise");
    out->carrier_promised = (sd_date)sl_db_int64(&rd, 0, "carrier_promised");
    out->delivered_at_ms = sl_db_int64(&rd, 0, "delivered_at_ms");
    sd_date ship = (sd_date)sl_db_int64(&rd, 0, "promised_ship");
    sd_date p90 = (sd_date)sl_db_int64(&rd, 0, "promised_p90");
    sd_confidence conf = conf_of(sl_db_int64(&rd, 0, "promised_conf"));
    sl_status st = sl_db_reader_status(&rd, err);
    if (st != SL_OK)
        return st;
    if ((o->promised = sd_store_eta_range(a, ship, out->promised_p50, p90, conf)) == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    out->order = o;
    return SL_OK;
}

/* The order's parts, in (line_no, part_no) order. */
static sl_status parts_from(sl_arena *a, PGresult *res, sd_order_rec *out, sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    int np = sl_db_reader_rows(&rd);
    sd_part *parts = sl_arena_zalloc(a, (size_t)(np + 1) * sizeof *parts);
    if (parts == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < np; i++) {
        sd_part *pt = &parts[i];
        pt->line_no = (int)sl_db_int64(&rd, i, "line_no");
        pt->part_no = (int)sl_db_int64(&rd, i, "part_no");
        pt->warehouse_id = sl_db_text(&rd, i, "warehouse_id");
        pt->qty = sl_db_int64(&rd, i, "qty");
        pt->inbound_id = sl_db_text(&rd, i, "inbound_id");
        pt->promised_expected_ms = sl_db_int64(&rd, i, "promised_expected_ms");
        pt->expected_ms = sl_db_int64(&rd, i, "expected_ms");
        pt->slips = (int)sl_db_int64(&rd, i, "slips");
        pt->transit_p50 = (int)sl_db_int64(&rd, i, "transit_p50");
        pt->transit_p90 = (int)sl_db_int64(&rd, i, "transit_p90");
        pt->delay_reason = sl_db_text(&rd, i, "delay_reason");
        pt->promised_ship = (sd_date)sl_db_int64(&rd, i, "promised_ship");
        pt->promised_p50 = (sd_date)sl_db_int64(&rd, i, "promised_p50");
        pt->promised_p90 = (sd_date)sl_db_int64(&rd, i, "promised_p90");
        pt->promised_conf = conf_of(sl_db_int64(&rd, i, "promised_conf"));
        pt->received_ms = sl_db_int64(&rd, i, "received_ms");
    }
    out->parts = parts;
    out->n_parts = (size_t)np;
    return sl_db_reader_status(&rd, err);
}

/* A line's allocations and promise, from the parts already read. */
static sl_status line_allocations(sl_arena *a, const sd_order_rec *rec, Shelfline__V1__OrderLine *l,
                                  sl_err *err)
{
    size_t k = 0;
    for (size_t j = 0; j < rec->n_parts; j++)
        if (rec->parts[j].line_no == l->line_no)
            k++;
    l->allocations = sl_arena_zalloc(a, (k + 1) * sizeof *l->allocations);
    if (l->allocations == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sd_date ship = INT32_MIN, p50 = INT32_MIN, p90 = INT32_MIN;
    sd_confidence conf = SD_CONFIDENCE_HIGH;
    for (size_t j = 0; j < rec->n_parts; j++) {
        const sd_part *pt = &rec->parts[j];
        if (pt->line_no != l->line_no)
            continue;
        Shelfline__V1__LineAllocation *al = sl_arena_alloc(a, sizeof *al);
        if (al == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__line_allocation__init(al);
        al->warehouse_id = (char *)pt->warehouse_id;
        al->qty = pt->qty;
        al->inbound_id = (char *)pt->inbound_id;
        al->expected_at_ms = pt->expected_ms;
        l->allocations[l->n_allocations++] = al;
        if (pt->promised_ship > ship)
            ship = pt->promised_ship;
        if (pt->promised_p50 > p50)
            p50 = pt->promised_p50;
        if (pt->promised_p90 > p90)
            p90 = pt->promised_p90;
        if (pt->promised_conf > conf)
            conf = pt->promised_conf;
    }
    if (l->n_allocations > 0 && (l->promised = sd_store_eta_range(a, ship, p50, p90, conf)) == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    return SL_OK;
}

/* The order's lines with their allocations. */
static sl_status lines_from(sl_arena *a, PGresult *res, sd_order_rec *out, sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    int nl = sl_db_reader_rows(&rd);
    Shelfline__V1__OrderLine **lines = sl_arena_zalloc(a, (size_t)(nl + 1) * sizeof *lines);
    if (lines == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < nl; i++) {
        Shelfline__V1__OrderLine *l = sl_arena_alloc(a, sizeof *l);
        Shelfline__V1__Money *m = sl_arena_alloc(a, sizeof *m);
        if (l == NULL || m == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__order_line__init(l);
        shelfline__v1__money__init(m);
        l->line_no = (int32_t)sl_db_int64(&rd, i, "line_no");
        l->sku = (char *)sl_db_text(&rd, i, "sku");
        l->qty = sl_db_int64(&rd, i, "qty");
        l->promotion_id = (char *)sl_db_text(&rd, i, "promotion_id");
        m->minor_units = sl_db_int64(&rd, i, "price_minor");
        m->currency = (char *)sl_db_text(&rd, i, "currency");
        l->unit_price = m;
        sl_status st = line_allocations(a, out, l, err);
        if (st != SL_OK)
            return st;
        lines[i] = l;
    }
    out->order->lines = lines;
    out->order->n_lines = (size_t)nl;
    return sl_db_reader_status(&rd, err);
}

/* The three reads of an order go in one round trip (a pipeline).  With
 * for_update the first locks the order row, and the two after it, each
 * with its own snapshot taken after the lock was granted, see what
 * committed before it; in a REPEATABLE READ transaction the three share
 * one snapshot. */
sl_status sd_store_load_order(sl_db_conn *conn, const char *order_id, bool for_update, sl_arena *a,
                              sd_order_rec *out, sl_err *err)
{
    const char *p[1] = {order_id};
    sl_db_query q[3] = {
        {.stmt = for_update ? "sd_order_get_for_update" : "sd_order_get",
         .nparams = 1,
         .values = p},
        {.stmt = "sd_order_lines", .nparams = 1, .values = p},
        {.stmt = "sd_order_parts", .nparams = 1, .values = p},
    };
    sl_status st = sl_db_exec_pipeline(conn, q, 3, err);
    if (st != SL_OK)
        return st;
    memset(out, 0, sizeof *out);
    if (PQntuples(q[0].res) == 0)
        st = sl_err_reason(err, SL_NOT_FOUND, "ORDER_NOT_FOUND", "order_id \"%s\" not found",
                           order_id);
    else if ((st = order_from(a, q[0].res, out, err)) == SL_OK &&
             (st = parts_from(a, q[2].res, out, err)) == SL_OK)
        st = lines_from(a, q[1].res, out, err);
    for (int i = 0; i < 3; i++)
        PQclear(q[i].res);
    return st;
}

typedef struct read_order_ctx {
    const char *order_id;
    sl_arena *arena;
    sd_order_rec *out;
} read_order_ctx;

static sl_status read_order_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    read_order_ctx *c = vctx;
    return sd_store_load_order(conn, c->order_id, false, c->arena, c->out, err);
}

sl_status sd_store_read_order(sl_db *db, int64_t deadline_ms, const char *order_id, sl_arena *a,
                              sd_order_rec *out, sl_err *err)
{
    read_order_ctx c = {order_id, a, out};
    sl_db_tx_options o = {.isolation = SL_DB_REPEATABLE_READ,
                          .read_only = true,
                          .deadline_ms = deadline_ms == INT64_MAX ? 0 : deadline_ms};
    return sl_db_tx(db, &o, read_order_tx, &c, err);
}
