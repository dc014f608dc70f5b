-- Who made each stock change (issue 14's audit): the caller's identity
-- (its token's subject, "anonymous" under SHELFLINE_AUTH=none, "system"
-- for background work), and the request id and W3C trace id it came with.
-- Constant defaults: PostgreSQL adds the columns without rewriting the
-- table (and without touching the append-only trigger); entries written
-- before this migration keep '' -- their actor was never recorded.
ALTER TABLE ledger
    ADD COLUMN actor      text NOT NULL DEFAULT '',
    ADD COLUMN request_id text NOT NULL DEFAULT '',
    ADD COLUMN trace_id   text NOT NULL DEFAULT '';
-- ListLedger: one SKU's entries, newest first.
CREATE INDEX ledger_sku_id ON ledger (sku, id);

-- Who created each promotion and inbound shipment (a transfer's too), who
-- delayed one, and who booked each receipt.
ALTER TABLE promotion
    ADD COLUMN actor      text NOT NULL DEFAULT '',
    ADD COLUMN request_id text NOT NULL DEFAULT '',
    ADD COLUMN trace_id   text NOT NULL DEFAULT '';
ALTER TABLE inbound
    ADD COLUMN actor      text NOT NULL DEFAULT '',
    ADD COLUMN request_id text NOT NULL DEFAULT '',
    ADD COLUMN trace_id   text NOT NULL DEFAULT '';
ALTER TABLE inbound_delay
    ADD COLUMN actor      text NOT NULL DEFAULT '',
    ADD COLUMN request_id text NOT NULL DEFAULT '',
    ADD COLUMN trace_id   text NOT NULL DEFAULT '';
ALTER TABLE inbound_receipt
    ADD COLUMN actor      text NOT NULL DEFAULT '',
    ADD COLUMN request_id text NOT NULL DEFAULT '',
    ADD COLUMN trace_id   text NOT NULL DEFAULT '';
