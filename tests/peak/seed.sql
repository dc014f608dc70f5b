-- The peak day's catalogue, restored the way a database snapshot would be:
-- straight into the services' schemas, after their migrations ran and
-- before any service serves.  Through the API the same data is about
-- 300,000 writes (a product, two stock receipts per SKU, 50,000 customers
-- and their purchases), longer than the whole short profile; the result is
-- checked instead (peak.sh runs CheckInvariants and the audit's ledger
-- lines before the load starts).  What has logic behind its creation --
-- promotions with their fences, inbound shipments, back-in-stock
-- subscriptions -- goes through the API (peak_seed).
--
-- psql variables: skus (100000), customers (50000).  Deterministic: the
-- same rows every run (hashes of the row number, no random()).
--
-- Layout (the load generator and peak_seed rely on these names):
--   SKUs P-000001 .. P-<skus>; P-000001..P-000003 are the flash-sale SKUs
--     (3,000 units in each of the six warehouses); of the rest about 5%
--     hold 0-2 units (they sell out during the run), the others 20-200,
--     each in one North American and one European warehouse;
--   P-BACKORDER: no stock, only an open inbound (peak_seed);
--   P-SOLDOUT-1: sold out, with subscribers waiting (peak_seed);
--   P-VIS-001 .. P-VIS-050: out of stock everywhere, no inbound (the
--     visibility probes stock them one at a time);
--   B-000001 .. B-010000 in warehouse BENCH-1 (region BENCH), a million
--     units each: the bare Reserve+Commit rate measured before the load
--     (make bench's order case, tests/bench/inventory_load.c);
--   customers c-000001 .. c-<customers> in NA-EAST, NA-WEST, EU-CENTRAL by
--     number mod 3, each with 1-6 past purchases over the last two years.
\set ON_ERROR_STOP on
BEGIN;

-- A stable hash of a row number and a salt, 0 .. 2^31-1.
CREATE FUNCTION pg_temp.h(n bigint, salt int) RETURNS bigint LANGUAGE sql IMMUTABLE AS
$$ SELECT (('x' || substr(md5(n::text || ':' || salt::text), 1, 8))::bit(32)::bigint) & 2147483647 $$;

SET search_path = inventory;

INSERT INTO warehouse (warehouse_id, name, region, kind, location, time_zone, cutoff_minutes)
VALUES ('DC-ATL', 'Atlanta distribution centre', 'NA-EAST', 'DISTRIBUTION_CENTER',
        'Atlanta, GA, US', 'America/New_York', 17 * 60),
       ('ST-NYC', 'Manhattan flagship store', 'NA-EAST', 'STORE', 'New York, NY, US',
        'America/New_York', 14 * 60),
       ('DC-RNO', 'Reno distribution centre', 'NA-WEST', 'DISTRIBUTION_CENTER', 'Reno, NV, US',
        'America/Los_Angeles', 16 * 60),
       ('MFC-SFO', 'San Francisco micro-fulfilment', 'NA-WEST', 'MICRO_FULFILLMENT',
        'San Francisco, CA, US', 'America/Los_Angeles', 20 * 60),
       ('DC-FRA', 'Frankfurt distribution centre', 'EU-CENTRAL', 'DISTRIBUTION_CENTER',
        'Frankfurt, DE', 'Europe/Berlin', 18 * 60),
       ('3PL-WAW', 'Warsaw 3PL partner', 'EU-CENTRAL', 'THIRD_PARTY_LOGISTICS', 'Warsaw, PL',
        'Europe/Warsaw', 15 * 60),
       ('BENCH-1', 'Benchmark site', 'BENCH', 'DISTRIBUTION_CENTER', '', 'UTC', 23 * 60);

INSERT INTO transit (warehouse_id, region, p50_days, p90_days)
VALUES ('DC-ATL', 'NA-EAST', 1, 2), ('DC-ATL', 'NA-WEST', 4, 6),
       ('ST-NYC', 'NA-EAST', 0, 1), ('ST-NYC', 'NA-WEST', 5, 7),
       ('DC-RNO', 'NA-EAST', 4, 6), ('DC-RNO', 'NA-WEST', 1, 2),
       ('MFC-SFO', 'NA-EAST', 5, 8), ('MFC-SFO', 'NA-WEST', 0, 1),
       ('DC-FRA', 'NA-EAST', 7, 12), ('DC-FRA', 'EU-CENTRAL', 1, 3),
       ('3PL-WAW', 'EU-CENTRAL', 2, 4), ('BENCH-1', 'BENCH', 1, 2);

CREATE TEMP TABLE cat (i int PRIMARY KEY, code text, lo bigint, hi bigint, repeat_days int,
                       tag text);
INSERT INTO cat VALUES (0, 'electronics', 1999, 89999, 0, 'black-friday'),
                       (1, 'home', 999, 24999, 0, 'christmas'),
                       (2, 'kitchen', 599, 19999, 0, 'black-friday'),
                       (3, 'toys', 499, 9999, 0, 'christmas'),
                       (4, 'books', 799, 4999, 0, 'back-to-school'),
                       (5, 'sports', 1499, 29999, 0, 'summer'),
                       (6, 'beauty', 399, 7999, 45, 'christmas'),
                       (7, 'grocery', 149, 2999, 14, 'winter'),
                       (8, 'pets', 299, 9999, 30, 'winter'),
                       (9, 'apparel', 1299, 19999, 0, 'winter');

INSERT INTO product (sku, name, category, brand, price_minor, currency, repeat_days,
                     seasonal_tags)
SELECT 'P-' || lpad(n::text, 6, '0'), initcap(c.code) || ' item ' || n, c.code,
       'Brand ' || (pg_temp.h(n, 2) % 40), c.lo + pg_temp.h(n, 3) % (c.hi - c.lo), 'USD',
       c.repeat_days, ARRAY[c.tag]
FROM generate_series(1, :skus) n JOIN cat c ON c.i = n % 10;

INSERT INTO product (sku, name, category, brand, price_minor, currency)
SELECT s, 'Peak scenario ' || s, 'electronics', 'Brand 0', 4999, 'USD'
FROM unnest(ARRAY['P-BACKORDER', 'P-SOLDOUT-1']) s
UNION ALL
SELECT 'P-VIS-' || lpad(n::text, 3, '0'), 'Visibility probe ' || n, 'electronics', 'Brand 0',
       1999, 'USD'
FROM generate_series(1, 50) n
UNION ALL
SELECT 'B-' || lpad(n::text, 6, '0'), 'Benchmark item ' || n, 'bench', 'Brand 0', 100, 'USD'
FROM generate_series(1, 10000) n;

-- Long tail: one North American and one European warehouse per SKU.
CREATE TEMP TABLE seed_stock AS
SELECT 'P-' || lpad(n::text, 6, '0') AS sku,
       (ARRAY['DC-ATL', 'ST-NYC', 'DC-RNO', 'MFC-SFO'])[1 + pg_temp.h(n, 4) % 4] AS warehouse_id,
       CASE WHEN pg_temp.h(n, 5) % 100 < 5 THEN pg_temp.h(n, 6) % 3
            ELSE 20 + pg_temp.h(n, 6) % 181 END AS qty
FROM generate_series(4, :skus) n
UNION ALL
SELECT 'P-' || lpad(n::text, 6, '0'),
       (ARRAY['DC-FRA', '3PL-WAW'])[1 + pg_temp.h(n, 7) % 2],
       CASE WHEN pg_temp.h(n, 5) % 100 < 5 THEN pg_temp.h(n, 8) % 3
            ELSE 20 + pg_temp.h(n, 8) % 181 END
FROM generate_series(4, :skus) n
UNION ALL
SELECT 'P-' || lpad(n::text, 6, '0'), w, 3000
FROM generate_series(1, 3) n,
     unnest(ARRAY['DC-ATL', 'ST-NYC', 'DC-RNO', 'MFC-SFO', 'DC-FRA', '3PL-WAW']) w
UNION ALL
SELECT s, 'DC-ATL', 0 FROM unnest(ARRAY['P-BACKORDER', 'P-SOLDOUT-1']) s
UNION ALL
SELECT 'P-VIS-' || lpad(n::text, 3, '0'), 'DC-ATL', 0 FROM generate_series(1, 50) n
UNION ALL
SELECT 'B-' || lpad(n::text, 6, '0'), 'BENCH-1', 1000000 FROM generate_series(1, 10000) n;

INSERT INTO stock (sku, warehouse_id, on_hand, safety_stock, low_stock_threshold)
SELECT sku, warehouse_id, qty, 0, 5 FROM seed_stock;

-- Every unit on hand came in through the ledger.
INSERT INTO ledger (sku, warehouse_id, delta, reason, reference)
SELECT sku, warehouse_id, qty, 'RECEIPT', 'peak-seed' FROM seed_stock WHERE qty > 0;

SET search_path = customer_value;

INSERT INTO customer (customer_id, region, signed_up_at)
SELECT 'c-' || lpad(n::text, 6, '0'), (ARRAY['NA-EAST', 'NA-WEST', 'EU-CENTRAL'])[1 + n % 3],
       now() - interval '730 days' + (pg_temp.h(n, 10) % 365) * interval '1 day'
FROM generate_series(1, :customers) n;

-- 1-6 past orders per customer, each of one or two lines.
CREATE TEMP TABLE seed_purchase AS
SELECT 'hist-' || n || '-' || k AS order_id, 'c-' || lpad(n::text, 6, '0') AS customer_id,
       now() - (1 + pg_temp.h(n * 10 + k, 11) % 360) * interval '1 day' AS at, n, k
FROM generate_series(1, :customers) n,
     generate_series(1, 6) k
WHERE k <= 1 + pg_temp.h(n, 12) % 6;

CREATE TEMP TABLE seed_line AS
SELECT p.order_id, 'P-' || lpad((4 + pg_temp.h(p.n * 10 + p.k, 13 + j) % (:skus - 3))::text, 6, '0')
       AS sku, 1 + pg_temp.h(p.n * 10 + p.k, 20 + j) % 2 AS qty
FROM seed_purchase p, generate_series(0, 1) j
WHERE j = 0 OR pg_temp.h(p.n * 10 + p.k, 30) % 3 = 0;

INSERT INTO purchase (order_id, customer_id, at, day, amount_minor, currency, request)
SELECT p.order_id, p.customer_id, p.at, floor(extract(epoch FROM p.at) / 86400)::int,
       sum(l.qty * pr.price_minor), 'USD', '\x'::bytea
FROM seed_purchase p
JOIN (SELECT DISTINCT ON (order_id, sku) * FROM seed_line) l USING (order_id)
JOIN inventory.product pr ON pr.sku = l.sku
GROUP BY p.order_id, p.customer_id, p.at;

INSERT INTO purchase_line (order_id, sku, category, qty, amount_minor)
SELECT l.order_id, l.sku, pr.category, l.qty, l.qty * pr.price_minor
FROM (SELECT DISTINCT ON (order_id, sku) * FROM seed_line) l
JOIN inventory.product pr ON pr.sku = l.sku;

-- The per-customer summary exactly as cv_summary_refresh computes it.
INSERT INTO customer_summary (customer_id, currency, orders, net_minor, first_day, last_day, x,
                              repeat_minor)
SELECT customer_id, min(currency), sum(n), sum(v), min(day), max(day), count(*) - 1,
       sum(v) - (array_agg(v ORDER BY day))[1]
FROM (SELECT customer_id, day, min(currency) AS currency, count(*) AS n,
             sum(amount_minor) AS v
      FROM purchase GROUP BY customer_id, day) d
GROUP BY customer_id;

COMMIT;
ANALYZE;
