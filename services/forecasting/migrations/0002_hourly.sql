-- Intraday refresh and promotion quotas.

-- Units sold per SKU x region x hour (UTC), from RecordHourlySales (an
-- idempotent upsert).  hour_ms is the hour's start in Unix milliseconds.
-- Today's rows refresh today's forecast; the 28 days before today give the
-- hourly profile.  Hourly rows do not feed the daily history
-- (daily_sales), so nothing is counted twice.
CREATE TABLE hourly_sales (
    sku        text   NOT NULL,
    region     text   NOT NULL,
    hour_ms    bigint NOT NULL CHECK (hour_ms >= 0 AND hour_ms % 3600000 = 0),
    units      bigint NOT NULL CHECK (units >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, region, hour_ms)
);

-- The inventory promotion whose remaining quota caps a PROMOTION event's
-- uplifted demand ('' : none).
ALTER TABLE calendar_event ADD COLUMN promotion_id text NOT NULL DEFAULT '';
