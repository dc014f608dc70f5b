-- The inventory schema (see docs/INVENTORY.md).
--
-- The service keeps these invariants with per-SKU advisory locks and checks
-- in C; the constraints below are the last line of defence, so that a bug
-- surfaces as an error instead of an oversold SKU.

-- ---- catalogue and network ----

CREATE TABLE product (
    sku           text PRIMARY KEY,
    name          text NOT NULL,
    category      text NOT NULL,
    brand         text NOT NULL DEFAULT '',
    price_minor   bigint NOT NULL CHECK (price_minor >= 0),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    repeat_days   integer NOT NULL DEFAULT 0 CHECK (repeat_days >= 0),
    seasonal_tags text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_category ON product (category, sku);

CREATE TABLE warehouse (
    warehouse_id   text PRIMARY KEY,
    name           text NOT NULL,
    region         text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('DISTRIBUTION_CENTER', 'STORE',
                                                'MICRO_FULFILLMENT', 'THIRD_PARTY_LOGISTICS')),
    location       text NOT NULL DEFAULT '',
    time_zone      text NOT NULL,
    cutoff_minutes integer NOT NULL CHECK (cutoff_minutes BETWEEN 0 AND 1439),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX warehouse_region ON warehouse (region, warehouse_id);

-- A warehouse serves exactly the customer regions it has a row for here.
CREATE TABLE transit (
    warehouse_id text NOT NULL REFERENCES warehouse,
    region       text NOT NULL,
    p50_days     integer NOT NULL CHECK (p50_days >= 0),
    p90_days     integer NOT NULL CHECK (p90_days >= p50_days),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (warehouse_id, region)
);
CREATE INDEX transit_region ON transit (region);

-- ---- stock and its ledger ----

-- Invariant 1 (no oversell) as a constraint: 0 <= reserved <= on_hand.
-- reserved = units in live holds (HELD allocations not awaiting an inbound)
-- + units still fenced by promotions that have not ended.
CREATE TABLE stock (
    sku                 text NOT NULL REFERENCES product,
    warehouse_id        text NOT NULL REFERENCES warehouse,
    on_hand             bigint NOT NULL DEFAULT 0,
    reserved            bigint NOT NULL DEFAULT 0,
    safety_stock        bigint NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
    low_stock_threshold bigint NOT NULL DEFAULT 0 CHECK (low_stock_threshold >= 0),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, warehouse_id),
    CONSTRAINT stock_no_oversell CHECK (reserved >= 0 AND reserved <= on_hand)
);
CREATE INDEX stock_low ON stock (sku, warehouse_id)
    WHERE on_hand - reserved <= low_stock_threshold;

-- Invariant 5: every on_hand change, with its reason; per SKU x warehouse
-- the deltas sum to stock.on_hand.  Append-only (the trigger below).
CREATE TABLE ledger (
    id           bigserial PRIMARY KEY,
    sku          text NOT NULL,
    warehouse_id text NOT NULL,
    delta        bigint NOT NULL CHECK (delta <> 0),
    reason       text NOT NULL CHECK (reason IN ('RECEIPT', 'COUNT_CORRECTION', 'DAMAGE',
                                                'SHRINKAGE', 'CYCLE_COUNT', 'SHIPMENT',
                                                'TRANSFER_OUT', 'INBOUND_RECEIPT')),
    reference    text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_row ON ledger (sku, warehouse_id);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the stock ledger is append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

-- Idempotency keys of AdjustStock and SetStockCount: the canonical request
-- and the first answer.
CREATE TABLE idempotency (
    op         text NOT NULL,
    key        text NOT NULL,
    request    bytea NOT NULL,
    result     bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (op, key)
);

-- ---- inbound shipments ----

CREATE TABLE inbound (
    id                   text PRIMARY KEY,
    kind                 text NOT NULL CHECK (kind IN ('PURCHASE_ORDER', 'TRANSFER')),
    sku                  text NOT NULL REFERENCES product,
    warehouse_id         text NOT NULL REFERENCES warehouse,
    source_warehouse_id  text NOT NULL DEFAULT '',
    supplier             text NOT NULL DEFAULT '',
    reference            text NOT NULL DEFAULT '',
    qty                  bigint NOT NULL CHECK (qty > 0),
    received             bigint NOT NULL DEFAULT 0,
    backordered          bigint NOT NULL DEFAULT 0,
    expected_at          timestamptz NOT NULL,
    original_expected_at timestamptz NOT NULL,
    request              bytea NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    -- Backorders are only ever promised units still expected.
    CONSTRAINT inbound_quantities CHECK (received >= 0 AND received <= qty
                                         AND backordered >= 0
                                         AND backordered <= qty - received)
);
CREATE INDEX inbound_open ON inbound (sku, warehouse_id, expected_at) WHERE received < qty;

CREATE TABLE inbound_delay (
    inbound_id           text NOT NULL REFERENCES inbound,
    seq                  integer NOT NULL,
    previous_expected_at timestamptz NOT NULL,
    expected_at          timestamptz NOT NULL,
    reason               text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (inbound_id, seq)
);

CREATE TABLE inbound_receipt (
    receipt_id text PRIMARY KEY,
    inbound_id text NOT NULL REFERENCES inbound,
    qty        bigint NOT NULL CHECK (qty > 0),
    request    bytea NOT NULL,
    result     bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- ---- promotions ----

-- Invariant 2: quota = remaining (fenced, free) + held + sold + returned,
-- all non-negative, so held + sold can never pass the quota.
CREATE TABLE promotion (
    id                 text PRIMARY KEY,
    sku                text NOT NULL REFERENCES product,
    region             text NOT NULL DEFAULT '',
    quota              bigint NOT NULL CHECK (quota > 0),
    per_customer_limit bigint NOT NULL CHECK (per_customer_limit > 0),
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz NOT NULL,
    price_minor        bigint NOT NULL CHECK (price_minor >= 0),
    currency           text NOT NULL,
    remaining          bigint NOT NULL,
    held               bigint NOT NULL DEFAULT 0,
    sold               bigint NOT NULL DEFAULT 0,
    returned           bigint NOT NULL DEFAULT 0,
    ended              boolean NOT NULL DEFAULT false,
    request            bytea NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CONSTRAINT promotion_quota CHECK (remaining >= 0 AND held >= 0 AND sold >= 0
                                      AND returned >= 0
                                      AND remaining + held + sold + returned = quota)
);
CREATE INDEX promotion_ending ON promotion (ends_at) WHERE NOT ended;

CREATE TABLE promotion_fence (
    promotion_id text NOT NULL REFERENCES promotion,
    warehouse_id text NOT NULL REFERENCES warehouse,
    fenced       bigint NOT NULL CHECK (fenced > 0),
    remaining    bigint NOT NULL,
    PRIMARY KEY (promotion_id, warehouse_id),
    CHECK (remaining >= 0 AND remaining <= fenced)
);

-- Units each customer holds or bought under a promotion; the limit is
-- copied here so the constraint can enforce it.
CREATE TABLE promotion_usage (
    promotion_id text NOT NULL REFERENCES promotion,
    customer_id  text NOT NULL,
    qty          bigint NOT NULL,
    limit_qty    bigint NOT NULL,
    PRIMARY KEY (promotion_id, customer_id),
    CONSTRAINT promotion_usage_limit CHECK (qty >= 0 AND qty <= limit_qty)
);

-- ---- reservations ----

CREATE TABLE reservation (
    id          text PRIMARY KEY,
    customer_id text NOT NULL,
    region      text NOT NULL,
    status      text NOT NULL CHECK (status IN ('HELD', 'COMMITTED', 'RELEASED', 'EXPIRED')),
    request     bytea NOT NULL,  -- canonical request, for idempotent retries
    result      bytea NOT NULL,  -- the first answer (a packed Reservation)
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    closed_at   timestamptz,
    CHECK ((status = 'HELD') = (closed_at IS NULL))
);
CREATE INDEX reservation_expiry ON reservation (expires_at) WHERE status = 'HELD';
-- Reservations grow fast from empty (a new deployment, a flash sale):
-- refresh their statistics early so plans switch to the indexes in time.
ALTER TABLE reservation SET (autovacuum_analyze_scale_factor = 0.02);

-- Where each line's units come from.  No foreign key to reservation: the
-- rows are written by the same statement as their reservation, and a
-- per-row check would cost a lookup on Reserve's hot path (whose plan,
-- cached while the table was small, scans it sequentially as it grows).
-- A stock part has inbound_id NULL;
-- a backorder part names its inbound and counts the units still awaited
-- (awaiting), which receipts move into stock.  Units of a part in stock:
-- qty - awaiting.
CREATE TABLE reservation_alloc (
    reservation_id text NOT NULL,
    line_no        integer NOT NULL,
    part_no        integer NOT NULL,
    sku            text NOT NULL,
    warehouse_id   text NOT NULL,
    qty            bigint NOT NULL CHECK (qty > 0),
    inbound_id     text,
    awaiting       bigint NOT NULL DEFAULT 0,
    promotion_id   text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (reservation_id, line_no, part_no),
    CHECK (awaiting >= 0 AND awaiting <= qty),
    CHECK (inbound_id IS NOT NULL OR awaiting = 0)
);
CREATE INDEX reservation_alloc_inbound ON reservation_alloc (inbound_id, created_at)
    WHERE awaiting > 0;
CREATE INDEX reservation_alloc_row ON reservation_alloc (sku, warehouse_id);
ALTER TABLE reservation_alloc SET (autovacuum_analyze_scale_factor = 0.02);
