-- Whether every event consumer of the suite reached the end of its
-- stream: nothing of a topic it consumes lies after its cursor.  One line,
-- PASS or FAIL, in the audit's format (tests/peak/audit.sql includes it;
-- peak.sh polls it until the suite is quiet).
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
WITH c AS (
    SELECT 'forecasting/inventory' AS sub, (SELECT last_id FROM forecasting.consumer_cursor
                                            WHERE subscription = 'forecasting/inventory') AS cur,
           (SELECT max(pos) FROM inventory.outbox
            WHERE topic IN ('RESERVATION_COMMITTED', 'OUT_OF_STOCK', 'INBOUND_RECEIVED')) AS newest
    UNION ALL
    SELECT 'service-desk/inventory', (SELECT last_id FROM service_desk.consumer_cursor
                                      WHERE subscription = 'service-desk/inventory'),
           (SELECT max(pos) FROM inventory.outbox
            WHERE topic IN ('INBOUND_DELAYED', 'BACK_IN_STOCK', 'OUT_OF_STOCK'))
    UNION ALL
    SELECT 'service-desk/inventory-orders', (SELECT last_id FROM service_desk.consumer_cursor
                                             WHERE subscription = 'service-desk/inventory-orders'),
           (SELECT max(pos) FROM inventory.outbox
            WHERE topic IN ('RESERVATION_COMMITTED', 'RESERVATION_RELEASED'))
    UNION ALL
    SELECT 'customer-value/service-desk', (SELECT last_id FROM customer_value.consumer_cursor
                                           WHERE subscription = 'customer-value/service-desk'),
           (SELECT max(pos) FROM service_desk.outbox
            WHERE topic IN ('ORDER_PAID', 'RETURN_RECEIVED')))
SELECT CASE WHEN count(*) FILTER (WHERE cur IS NULL OR cur < coalesce(newest, 0)) = 0
            THEN 'PASS ' ELSE 'FAIL ' END || 'every event consumer reached the end of its stream: ' ||
       string_agg(sub || ' at ' || coalesce(cur::text, 'none') || '/' || coalesce(newest::text, '0'),
                  ', ')
FROM c;
