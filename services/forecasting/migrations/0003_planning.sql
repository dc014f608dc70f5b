-- Planning inputs that learn (issue 18): planner overrides and the
-- forecasts as issued, scored later by GetForecastAccuracy.

-- A planner's override of one SKU x region x day (SetForecastOverride; a
-- period is stored day by day, so a later override of some of its days
-- replaces just those).  kind 'quantity': value is units for the day;
-- 'uplift': value multiplies the statistical forecast.
CREATE TABLE forecast_override (
    sku        text   NOT NULL,
    region     text   NOT NULL,
    day        date   NOT NULL,
    kind       text   NOT NULL CHECK (kind IN ('quantity', 'uplift')),
    value      float8 NOT NULL CHECK (value >= 0),
    reason     text   NOT NULL,
    author     text   NOT NULL,
    set_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, region, day)
);

-- The last forecast issued for a SKU x region x day (ForecastDemand,
-- SetForecastOverride): the model's figure and the one the planner's
-- override made of it (equal when not overridden).  Kept so that the
-- forecast can be scored against the day's sales once they are in,
-- without re-forecasting the past with knowledge the forecaster did not
-- have.
CREATE TABLE issued_forecast (
    sku         text    NOT NULL,
    region      text    NOT NULL,
    day         date    NOT NULL,
    issued_on   date    NOT NULL,
    statistical float8  NOT NULL,
    final       float8  NOT NULL,
    overridden  boolean NOT NULL,
    PRIMARY KEY (sku, region, day)
);
CREATE INDEX issued_forecast_day ON issued_forecast (day);

-- ABC/XYZ classification (ClassifySkus) of each product in a region
-- (region '' : the whole network), replaced as a whole by each run.  abc
-- by cumulative revenue share, xyz by the coefficient of variation of
-- weekly units (-1: no demand).
CREATE TABLE sku_class (
    region           text    NOT NULL,
    sku              text    NOT NULL,
    abc              text    NOT NULL CHECK (abc IN ('A', 'B', 'C')),
    xyz              text    NOT NULL CHECK (xyz IN ('X', 'Y', 'Z')),
    revenue_minor    bigint  NOT NULL,
    revenue_share    float8  NOT NULL,
    cumulative_share float8  NOT NULL,
    weekly_cv        float8  NOT NULL,
    units            bigint  NOT NULL,
    rank             integer NOT NULL,
    classified_on    date    NOT NULL,
    period_days      integer NOT NULL,
    PRIMARY KEY (region, sku)
);

-- Target cycle service level per class ('AX' .. 'CZ') and region (''
-- : every region without its own); classes without a row use the
-- defaults in fc_class.c.
CREATE TABLE service_level_target (
    region        text   NOT NULL,
    class_code    text   NOT NULL CHECK (class_code ~ '^[ABC][XYZ]$'),
    service_level float8 NOT NULL CHECK (service_level >= 0.5 AND service_level <= 0.9999),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (region, class_code)
);

-- Purchase orders' first receipts, from inventory's INBOUND_RECEIVED
-- events (applied once under the consumer's cursor; a later receipt of
-- the same shipment changes nothing, the first one being when goods
-- arrived).  Lead time = received_at_ms - ordered_at_ms; delay =
-- received_at_ms - promised_at_ms (the first promise).
CREATE TABLE supplier_receipt (
    inbound_id     text   PRIMARY KEY,
    supplier       text   NOT NULL,
    warehouse_id   text   NOT NULL,
    sku            text   NOT NULL,
    ordered_at_ms  bigint NOT NULL,
    promised_at_ms bigint NOT NULL,
    received_at_ms bigint NOT NULL,
    qty            bigint NOT NULL
);
CREATE INDEX supplier_receipt_supplier ON supplier_receipt (supplier, warehouse_id, received_at_ms);
