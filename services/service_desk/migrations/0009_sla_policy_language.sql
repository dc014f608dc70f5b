-- SLA policies set with SetSlaPolicy (issue 17): each one a version,
-- kept whole as the packed shelfline.v1.SlaPolicy it was validated as
-- (holidays sorted and unique, targets in priority order, version and
-- created_at_ms zero), with who set it.  Version 0, never stored, is the
-- policy configured at start.  A ticket records the version in force
-- when it was inserted and its clocks keep running on it.
CREATE TABLE sla_policy (
    version    bigint PRIMARY KEY CHECK (version > 0),
    policy     bytea NOT NULL,
    actor      text NOT NULL DEFAULT '',
    request_id text NOT NULL DEFAULT '',
    trace_id   text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE ticket ADD COLUMN sla_version bigint NOT NULL DEFAULT 0;

-- The language an order's notices are written in ("en", "fr", "ru", "zh";
-- PlaceOrderRequest.language); orders placed before it read English.
ALTER TABLE orders ADD COLUMN language text NOT NULL DEFAULT 'en'
    CHECK (language IN ('en', 'fr', 'ru', 'zh'));
