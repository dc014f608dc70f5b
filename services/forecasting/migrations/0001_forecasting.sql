-- The forecasting schema: daily demand history, the event calendar,
-- stock-out days and raised alerts.  Alerts are also published on the
-- outbox (topics ALERT_*), which is what WatchAlerts streams; the alert
-- table only makes raising one idempotent (one alert per id).

-- Units sold per SKU x region x day and source.  "api" rows are replaced
-- by RecordSales (idempotent upsert); "inventory" rows accumulate
-- RESERVATION_COMMITTED events, each applied once under the consumer's
-- cursor.  A day's demand is the sum over sources.
CREATE TABLE daily_sales (
    sku          text    NOT NULL,
    region       text    NOT NULL,
    day          date    NOT NULL,
    source       text    NOT NULL CHECK (source IN ('api', 'inventory')),
    units        bigint  NOT NULL CHECK (units >= 0),
    on_promotion boolean NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, region, day, source)
);

-- Days a SKU was out of stock in a region: from RecordSales rows flagged
-- stocked_out and from inventory's OUT_OF_STOCK events.
CREATE TABLE stockout_days (
    sku    text NOT NULL,
    region text NOT NULL,
    day    date NOT NULL,
    source text NOT NULL,
    PRIMARY KEY (sku, region, day)
);

-- The event calendar.  kind is the EventKind number of forecasting.proto.
CREATE TABLE calendar_event (
    event_id  text    PRIMARY KEY,
    name      text    NOT NULL,
    kind      integer NOT NULL CHECK (kind BETWEEN 1 AND 7),
    start_day date    NOT NULL,
    end_day   date    NOT NULL CHECK (end_day >= start_day),
    sku       text    NOT NULL DEFAULT '',
    region    text    NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calendar_event_days ON calendar_event (start_day, end_day);

-- Raised alerts (kind is the AlertKind number); the payload is the Alert
-- message as published.
CREATE TABLE alert (
    alert_id  text    PRIMARY KEY,
    kind      integer NOT NULL,
    sku       text    NOT NULL,
    region    text    NOT NULL,
    day       date    NOT NULL,
    raised_at timestamptz NOT NULL DEFAULT now()
);
