-- The peak day's audit, read straight from the services' schemas after the
-- load stopped and the suite went quiet.  One line per check:
--   PASS <check>: <what was counted>
--   FAIL <check>: <what was counted>; <the first offenders>
-- peak.sh loads the load generator's orders.csv into peak_orders first and
-- sets the psql variables run (the run id, the prefix of every order id it
-- made) and hold_ttl_s (service-desk's hold TTL in seconds).  CheckInvariants
-- itself is asked through the API (peak_load check), not here.
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on

CREATE TEMP VIEW run_orders AS
SELECT o.* FROM service_desk.orders o WHERE o.order_id LIKE :'run' || '-%';

CREATE TEMP VIEW run_resv AS
SELECT r.* FROM inventory.reservation r WHERE r.id LIKE :'run' || '-%';

CREATE FUNCTION pg_temp.line(ok boolean, name text, counted text, offenders text)
RETURNS text LANGUAGE sql AS
$$ SELECT CASE WHEN ok THEN 'PASS ' || name || ': ' || counted
               ELSE 'FAIL ' || name || ': ' || counted || '; ' || coalesce(offenders, '') END $$;

-- 1. No oversell in any SKU x warehouse (the constraint makes it impossible
-- to store; this proves nobody dropped it).
SELECT pg_temp.line(count(*) FILTER (WHERE reserved < 0 OR reserved > on_hand OR on_hand < 0) = 0,
                    'no oversell in any SKU x warehouse',
                    count(*) || ' stock rows',
                    string_agg(sku || '@' || warehouse_id || ' on_hand=' || on_hand || ' reserved=' ||
                               reserved, ', ') FILTER (WHERE reserved < 0 OR reserved > on_hand
                                                         OR on_hand < 0))
FROM inventory.stock;

-- 2. Promotions: the quota is never exceeded and no customer holds or bought
-- more than the cap -- from inventory's own counters and, independently,
-- from the orders service-desk recorded.
WITH promo AS (
    SELECT p.id, p.quota, p.per_customer_limit AS cap, p.sold + p.held AS taken
    FROM inventory.promotion p WHERE p.id LIKE 'PEAK-FLASH-%'),
bought AS (
    -- units a customer holds or bought: an expired or released hold gave
    -- its units (and its share of the cap) back
    SELECT l.promotion_id, o.customer_id, sum(l.qty) AS qty
    FROM run_orders o JOIN service_desk.order_line l USING (order_id)
    JOIN inventory.reservation r ON r.id = o.order_id AND r.status IN ('HELD', 'COMMITTED')
    WHERE l.promotion_id <> ''
    GROUP BY l.promotion_id, o.customer_id),
over_cap AS (
    SELECT b.* FROM bought b JOIN promo p ON p.id = b.promotion_id WHERE b.qty > p.cap),
over_quota AS (
    SELECT p.id, p.taken, p.quota, (SELECT coalesce(sum(qty), 0) FROM bought b
                                    WHERE b.promotion_id = p.id) AS ordered
    FROM promo p)
SELECT pg_temp.line((SELECT count(*) FROM over_cap) = 0
                    AND (SELECT count(*) FROM over_quota WHERE taken > quota OR ordered > quota) = 0
                    AND (SELECT count(*) FROM promo) = 3,
                    'promotion quota and per-customer cap held',
                    (SELECT string_agg(id || ' ' || ordered || '/' || quota || ' ordered', ', ' ORDER BY id)
                     FROM over_quota) || ', ' ||
                    (SELECT count(*) FROM bought) || ' customer x promotion pairs',
                    (SELECT string_agg(promotion_id || ' ' || customer_id || ' bought ' || qty, ', ')
                     FROM (SELECT * FROM over_cap LIMIT 5) x));

-- 3. Every order the load generator saw acknowledged exists, and its
-- reservation ended the way the order did: committed iff paid, released
-- iff cancelled, held or expired iff left unpaid (expired once the hold's
-- time is up).  Orders whose outcome call failed may have gone either way,
-- but service-desk and inventory must still agree.
WITH j AS (
    SELECT po.order_id, po.placed, po.outcome, o.status AS sd, r.status AS inv,
           r.created_at < now() - make_interval(secs => :hold_ttl_s + 40) AS hold_over
    FROM peak_orders po
    LEFT JOIN service_desk.orders o USING (order_id)
    LEFT JOIN inventory.reservation r ON r.id = po.order_id
    WHERE po.placed = 'ok'),
bad AS (
    SELECT j.*, CASE
        WHEN sd IS NULL THEN 'acknowledged but missing in service-desk'
        WHEN inv IS NULL THEN 'acknowledged but no reservation'
        WHEN outcome = 'paid' AND NOT (sd IN ('PAID', 'PICKED', 'SHIPPED', 'DELIVERED')
                                       AND inv = 'COMMITTED') THEN 'paid but ' || sd || '/' || inv
        WHEN outcome = 'cancelled' AND NOT (sd = 'CANCELLED' AND inv = 'RELEASED')
            THEN 'cancelled but ' || sd || '/' || inv
        WHEN outcome = 'unpaid' AND NOT (sd = 'PLACED' AND (inv = 'EXPIRED' OR
                                                           (inv = 'HELD' AND NOT hold_over)))
            THEN 'unpaid but ' || sd || '/' || inv
        WHEN outcome IN ('pay_failed', 'cancel_failed', 'none') AND NOT (
                 (sd IN ('PAID', 'PICKED', 'SHIPPED', 'DELIVERED') AND inv = 'COMMITTED')
              OR (sd = 'CANCELLED' AND inv = 'RELEASED')
              OR (sd = 'PLACED' AND (inv = 'EXPIRED' OR (inv = 'HELD' AND NOT hold_over))))
            THEN outcome || ' and ' || sd || '/' || inv
        END AS why
    FROM j)
SELECT pg_temp.line(count(*) FILTER (WHERE why IS NOT NULL) = 0,
                    'every acknowledged order exists and its reservation matches its outcome',
                    count(*) || ' acknowledged (' ||
                    count(*) FILTER (WHERE outcome = 'paid') || ' paid, ' ||
                    count(*) FILTER (WHERE outcome = 'cancelled') || ' cancelled, ' ||
                    count(*) FILTER (WHERE outcome = 'unpaid') || ' unpaid, ' ||
                    count(*) FILTER (WHERE inv = 'EXPIRED') || ' expired)',
                    string_agg(order_id || ' ' || why, ', ') FILTER (WHERE why IS NOT NULL))
FROM bad;

-- 3b. Whatever the load generator could not tell (calls that failed or
-- timed out): service-desk and inventory agree on every order of the run,
-- and no reservation outlives its order unresolved.
WITH j AS (
    SELECT coalesce(o.order_id, r.id) AS id, o.status AS sd, r.status AS inv,
           r.created_at < now() - make_interval(secs => :hold_ttl_s + 40) AS hold_over
    FROM run_orders o FULL JOIN run_resv r ON r.id = o.order_id),
bad AS (
    SELECT * FROM j WHERE NOT (
        (sd IN ('PAID', 'PICKED', 'SHIPPED', 'DELIVERED') AND inv = 'COMMITTED')
     OR (sd = 'CANCELLED' AND inv = 'RELEASED')
     OR (sd = 'PLACED' AND (inv = 'EXPIRED' OR (inv = 'HELD' AND NOT hold_over)))
     OR (sd IS NULL AND (inv IN ('RELEASED', 'EXPIRED') OR (inv = 'HELD' AND NOT hold_over)))))
SELECT pg_temp.line(count(*) = 0,
                    'service-desk and inventory agree on every order of the run',
                    (SELECT count(*) FROM j) || ' orders or reservations',
                    string_agg(id || ' ' || coalesce(sd, '-') || '/' || coalesce(inv, '-'), ', '))
FROM bad;

-- 4. Every stock change is in the ledger and the ledger sums to stock.
WITH l AS (SELECT sku, warehouse_id, sum(delta) AS total FROM inventory.ledger
           GROUP BY sku, warehouse_id),
bad AS (SELECT s.sku, s.warehouse_id, s.on_hand, coalesce(l.total, 0) AS ledger
        FROM inventory.stock s LEFT JOIN l USING (sku, warehouse_id)
        WHERE s.on_hand <> coalesce(l.total, 0))
SELECT pg_temp.line(count(*) = 0, 'the ledger sums to stock in every SKU x warehouse',
                    (SELECT count(*) FROM inventory.ledger) || ' ledger entries',
                    string_agg(sku || '@' || warehouse_id || ' on_hand=' || on_hand || ' ledger=' ||
                               ledger, ', '))
FROM bad;

-- 4b. Each committed reservation shipped its in-stock units exactly once
-- (SHIPMENT entries referencing it), and nothing else shipped.
WITH alloc AS (
    SELECT reservation_id AS id, sum(qty - awaiting) AS units FROM inventory.reservation_alloc
    GROUP BY reservation_id),
shipped AS (
    SELECT reference AS id, -sum(delta) AS units FROM inventory.ledger
    WHERE reason = 'SHIPMENT' GROUP BY reference),
bad AS (
    SELECT r.id, r.status, coalesce(a.units, 0) AS alloc, coalesce(s.units, 0) AS shipped
    FROM run_resv r LEFT JOIN alloc a USING (id) LEFT JOIN shipped s USING (id)
    WHERE (r.status = 'COMMITTED' AND coalesce(s.units, 0) <> coalesce(a.units, 0))
       OR (r.status <> 'COMMITTED' AND coalesce(s.units, 0) <> 0))
SELECT pg_temp.line(count(*) = 0, 'every committed reservation shipped exactly once',
                    (SELECT count(*) FROM run_resv WHERE status = 'COMMITTED') ||
                    ' committed reservations',
                    string_agg(id || ' ' || status || ' alloc=' || alloc || ' shipped=' || shipped, ', '))
FROM bad;

-- 5. Exactly one delay notice per affected order per slip, at most one
-- compensation per slip.
WITH slips AS (
    SELECT order_id, slip_no FROM service_desk.eta_change WHERE order_id LIKE :'run' || '-%'),
delay AS (
    SELECT order_id, count(*) AS n FROM service_desk.notification
    WHERE kind = 'DELAY' AND order_id LIKE :'run' || '-%' GROUP BY order_id),
comp AS (
    SELECT order_id, count(*) AS n FROM service_desk.notification
    WHERE kind = 'COMPENSATION' AND order_id LIKE :'run' || '-%' GROUP BY order_id),
per AS (
    SELECT s.order_id, count(*) AS slips, coalesce(max(d.n), 0) AS delays,
           coalesce(max(c.n), 0) AS comps
    FROM slips s LEFT JOIN delay d USING (order_id) LEFT JOIN comp c USING (order_id)
    GROUP BY s.order_id),
orphan AS (SELECT d.order_id FROM delay d LEFT JOIN slips s USING (order_id) WHERE s.order_id IS NULL)
SELECT pg_temp.line((SELECT count(*) FROM per WHERE delays <> slips OR comps > slips) = 0
                    AND (SELECT count(*) FROM orphan) = 0
                    AND (SELECT count(*) FROM per) > 0,
                    'exactly one delay notice and at most one compensation per order per slip',
                    (SELECT count(*) FROM per) || ' delayed orders, ' ||
                    (SELECT coalesce(sum(delays), 0) FROM per) || ' delay notices, ' ||
                    (SELECT coalesce(sum(comps), 0) FROM per) || ' compensations',
                    coalesce((SELECT string_agg(order_id || ' slips=' || slips || ' delays=' ||
                                                delays || ' comps=' || comps, ', ')
                              FROM (SELECT * FROM per WHERE delays <> slips OR comps > slips
                                    LIMIT 5) x), '') ||
                    coalesce((SELECT ' orphans: ' || string_agg(order_id, ', ') FROM orphan), ''));

-- 6. Back in stock: every notified subscription got exactly one notice
-- and no other subscription got any; a restock's first batch never
-- notifies more subscribers than the units it reported (later batches go
-- by the stock left at their time, which only service-desk saw); and the
-- run's restock of P-SOLDOUT-1 notified some of its waiting subscribers.
WITH per_sub AS (
    SELECT s.subscription_id, s.status,
           (SELECT count(*) FROM service_desk.notification n
            WHERE n.kind = 'BACK_IN_STOCK'
              AND n.idempotency_key LIKE 'bis:' || s.subscription_id || ':%') AS notices
    FROM service_desk.subscription s),
bad_sub AS (
    SELECT * FROM per_sub WHERE (status = 'NOTIFIED' AND notices <> 1)
                             OR (status <> 'NOTIFIED' AND notices <> 0)),
first_batch AS (
    SELECT r.restock_id, r.sku, r.available, count(*) AS notified
    FROM service_desk.restock r JOIN service_desk.subscription s USING (restock_id)
    WHERE s.batch_no = 1 GROUP BY r.restock_id, r.sku, r.available),
over AS (SELECT * FROM first_batch WHERE notified > available),
soldout AS (
    SELECT count(*) AS notified FROM service_desk.subscription
    WHERE sku = 'P-SOLDOUT-1' AND status = 'NOTIFIED')
SELECT pg_temp.line((SELECT count(*) FROM bad_sub) = 0 AND (SELECT count(*) FROM over) = 0
                    AND (SELECT notified FROM soldout) > 0,
                    'back-in-stock subscribers notified once, only while stock remained',
                    (SELECT count(*) FROM per_sub WHERE status = 'NOTIFIED') || ' notified of ' ||
                    (SELECT count(*) FROM per_sub) || ' subscriptions over ' ||
                    (SELECT count(*) FROM service_desk.restock) || ' restocks; P-SOLDOUT-1: ' ||
                    (SELECT notified FROM soldout) || ' notified',
                    coalesce((SELECT 'first batch over the units: ' ||
                              string_agg(restock_id || ' ' || sku || ' available=' || available ||
                                         ' notified=' || notified, ', ') FROM over), '') ||
                    coalesce((SELECT ' notices per subscription wrong: ' ||
                              string_agg(subscription_id || ' ' || status || ' notices=' || notices,
                                         ', ') FROM (SELECT * FROM bad_sub LIMIT 5) x), '') ||
                    CASE WHEN (SELECT notified FROM soldout) = 0
                         THEN ' nobody waiting on P-SOLDOUT-1 was notified' ELSE '' END);

-- 7. Forecasting counted every committed sale exactly once: its daily
-- sales learnt from inventory's events add up, SKU by SKU, to the units
-- the run committed.
WITH committed AS (
    SELECT a.sku, sum(a.qty) AS units
    FROM run_resv r JOIN inventory.reservation_alloc a ON a.reservation_id = r.id
    WHERE r.status = 'COMMITTED' GROUP BY a.sku),
learnt AS (
    SELECT sku, sum(units) AS units FROM forecasting.daily_sales
    WHERE source = 'inventory' GROUP BY sku),
bad AS (
    SELECT coalesce(c.sku, l.sku) AS sku, coalesce(c.units, 0) AS committed,
           coalesce(l.units, 0) AS learnt
    FROM committed c FULL JOIN learnt l USING (sku)
    WHERE coalesce(c.units, 0) <> coalesce(l.units, 0))
SELECT pg_temp.line(count(*) = 0, 'forecasting counted every committed sale exactly once',
                    (SELECT coalesce(sum(units), 0) FROM committed) || ' units committed, ' ||
                    (SELECT coalesce(sum(units), 0) FROM learnt) || ' learnt',
                    string_agg(sku || ' committed=' || committed || ' learnt=' || learnt, ', '))
FROM (SELECT * FROM bad LIMIT 5) x;

-- 8. Customer-value recorded every paid order exactly once, and nothing
-- else of the run.
WITH paid AS (
    SELECT order_id FROM run_orders WHERE status IN ('PAID', 'PICKED', 'SHIPPED', 'DELIVERED')),
rec AS (
    SELECT order_id FROM customer_value.purchase WHERE order_id LIKE :'run' || '-%'),
missing AS (SELECT order_id FROM paid EXCEPT SELECT order_id FROM rec),
extra AS (SELECT order_id FROM rec EXCEPT SELECT order_id FROM paid)
SELECT pg_temp.line((SELECT count(*) FROM missing) = 0 AND (SELECT count(*) FROM extra) = 0,
                    'customer-value recorded every paid order exactly once',
                    (SELECT count(*) FROM paid) || ' paid, ' || (SELECT count(*) FROM rec) ||
                    ' recorded',
                    coalesce((SELECT 'missing: ' || string_agg(order_id, ', ') FROM
                              (SELECT * FROM missing LIMIT 5) x), '') ||
                    coalesce((SELECT ' extra: ' || string_agg(order_id, ', ') FROM
                              (SELECT * FROM extra LIMIT 5) y), ''));

-- 9. Every consumer followed its stream to the end (caught_up.sql, which
-- peak.sh also polls to know the suite went quiet).  That none was applied
-- twice shows in 5, 7 and 8, whose counts would be off.
\ir caught_up.sql
