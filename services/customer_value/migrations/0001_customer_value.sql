-- The customer-value schema (see docs/CUSTOMER_VALUE.md).
--
-- Purchases and returns are kept as recorded (with the request bytes, so a
-- retry with the same key can be told from a conflicting one).
-- customer_summary is what the models read: one row per customer with
-- purchases, recomputed from that customer's purchases in the transaction
-- that records an order or a return.  Days are UTC days since 1970-01-01.

CREATE TABLE customer (
    customer_id  text PRIMARY KEY,
    region       text NOT NULL,
    signed_up_at timestamptz NOT NULL,
    referred_by  text REFERENCES customer,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (referred_by IS NULL OR referred_by <> customer_id)
);
CREATE INDEX customer_region ON customer (region, customer_id);
CREATE INDEX customer_referred_by ON customer (referred_by) WHERE referred_by IS NOT NULL;

CREATE TABLE purchase (
    order_id     text PRIMARY KEY,
    customer_id  text NOT NULL REFERENCES customer,
    at           timestamptz NOT NULL,
    day          integer NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency     text NOT NULL,
    request      bytea NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX purchase_customer ON purchase (customer_id, day);
CREATE INDEX purchase_day ON purchase (day);

CREATE TABLE purchase_line (
    order_id       text NOT NULL REFERENCES purchase,
    sku            text NOT NULL,
    category       text NOT NULL,
    qty            bigint NOT NULL CHECK (qty > 0),
    amount_minor   bigint NOT NULL CHECK (amount_minor >= 0),
    returned_qty   bigint NOT NULL DEFAULT 0 CHECK (returned_qty BETWEEN 0 AND qty),
    returned_minor bigint NOT NULL DEFAULT 0 CHECK (returned_minor BETWEEN 0 AND amount_minor),
    PRIMARY KEY (order_id, sku)
);
CREATE INDEX purchase_line_sku ON purchase_line (sku);
CREATE INDEX purchase_line_category ON purchase_line (category);

CREATE TABLE purchase_return (
    return_id    text PRIMARY KEY,
    order_id     text NOT NULL REFERENCES purchase,
    at           timestamptz NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    request      bytea NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX purchase_return_order ON purchase_return (order_id);

-- Per-customer calibration summary (see cv_store.h, cv_summary_row).
CREATE TABLE customer_summary (
    customer_id  text PRIMARY KEY REFERENCES customer,
    currency     text NOT NULL,
    orders       bigint NOT NULL,
    net_minor    bigint NOT NULL,
    first_day    integer NOT NULL,
    last_day     integer NOT NULL,
    x            integer NOT NULL CHECK (x >= 0), -- distinct purchase days - 1
    repeat_minor bigint NOT NULL                  -- net value after the first day
);

-- A fit, with the population's yearly retention counts at its date (the
-- simple CLV's retention rate).
CREATE TABLE model_fit (
    fit_id        bigserial PRIMARY KEY,
    cohort        text NOT NULL,
    as_of         timestamptz NOT NULL,
    r             double precision NOT NULL,
    alpha         double precision NOT NULL,
    a             double precision NOT NULL,
    b             double precision NOT NULL,
    bgnbd_ll      double precision NOT NULL,
    bgnbd_ok      boolean NOT NULL,
    customers     bigint NOT NULL,
    gg_p          double precision,
    gg_q          double precision,
    gg_gamma      double precision,
    gg_ll         double precision,
    gg_customers  bigint,
    gg_ok         boolean,
    seconds       double precision NOT NULL,
    ret_start     bigint NOT NULL DEFAULT 0,
    ret_end       bigint NOT NULL DEFAULT 0,
    ret_new       bigint NOT NULL DEFAULT 0,
    ret_retained  bigint NOT NULL DEFAULT 0,
    fitted_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_fit_cohort ON model_fit (cohort, fit_id DESC);

-- REPURCHASE_DUE published once per customer, SKU and due day.
CREATE TABLE reminder_sent (
    customer_id text NOT NULL,
    sku         text NOT NULL,
    due_day     integer NOT NULL,
    sent_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, sku, due_day)
);
