-- The service_desk schema (see docs/SERVICE_DESK.md).
--
-- An order row exists only once its reservation in inventory succeeded;
-- its parts (order_part) keep where each line's units come from and the
-- ETA promised at placement, and the current one as inventory's inbound
-- shipments slip.  Customer notifications live in their own outbox
-- (notification), separate from the event outbox of common/.

CREATE TABLE orders (
    order_id        text PRIMARY KEY,
    customer_id     text NOT NULL,
    region          text NOT NULL,
    status          text NOT NULL CHECK (status IN ('PLACED', 'PAID', 'PICKED', 'SHIPPED',
                                                    'DELIVERED', 'DELIVERY_FAILED', 'CANCELLED')),
    placed_at_ms    bigint NOT NULL,
    allow_split     boolean NOT NULL,
    allow_backorder boolean NOT NULL,
    -- the request's fingerprint: a retry must match it
    fingerprint     text NOT NULL,
    promised_ship   integer NOT NULL,   -- sd_date (days since 1970-01-01)
    promised_p50    integer NOT NULL,
    promised_p90    integer NOT NULL,
    promised_conf   smallint NOT NULL,
    slips           integer NOT NULL DEFAULT 0 CHECK (slips >= 0),
    granted_minor   bigint NOT NULL DEFAULT 0 CHECK (granted_minor >= 0),
    carrier         text NOT NULL DEFAULT '',
    tracking        text NOT NULL DEFAULT '',
    cancel_reason   text NOT NULL DEFAULT '',
    delivered_at_ms bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer ON orders (customer_id, placed_at_ms DESC, order_id DESC);

CREATE TABLE order_line (
    order_id     text NOT NULL REFERENCES orders,
    line_no      integer NOT NULL CHECK (line_no >= 0),
    sku          text NOT NULL,
    qty          bigint NOT NULL CHECK (qty > 0),
    promotion_id text NOT NULL DEFAULT '',
    price_minor  bigint NOT NULL DEFAULT 0,
    currency     text NOT NULL DEFAULT '',
    PRIMARY KEY (order_id, line_no)
);

-- One allocation of a line: stock in a warehouse, or a backorder on an
-- inbound shipment.
CREATE TABLE order_part (
    order_id       text NOT NULL,
    line_no        integer NOT NULL,
    part_no        integer NOT NULL,
    warehouse_id   text NOT NULL,
    qty            bigint NOT NULL CHECK (qty > 0),
    inbound_id     text NOT NULL DEFAULT '',
    promised_expected_ms bigint NOT NULL DEFAULT 0,
    expected_ms    bigint NOT NULL DEFAULT 0,   -- current inbound expectation
    slips          integer NOT NULL DEFAULT 0,
    transit_p50    integer NOT NULL,
    transit_p90    integer NOT NULL,
    delay_reason   text NOT NULL DEFAULT '',
    promised_ship  integer NOT NULL,
    promised_p50   integer NOT NULL,
    promised_p90   integer NOT NULL,
    promised_conf  smallint NOT NULL,
    PRIMARY KEY (order_id, line_no, part_no),
    FOREIGN KEY (order_id, line_no) REFERENCES order_line
);
CREATE INDEX order_part_inbound ON order_part (inbound_id) WHERE inbound_id <> '';

-- Every ETA move of an order, one row per slip.
CREATE TABLE eta_change (
    order_id     text NOT NULL REFERENCES orders,
    slip_no      integer NOT NULL,
    inbound_id   text NOT NULL,
    new_expected_ms bigint NOT NULL,
    old_p50      integer NOT NULL,
    new_p50      integer NOT NULL,
    new_p90      integer NOT NULL,
    reason       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, slip_no),
    UNIQUE (order_id, inbound_id, new_expected_ms)
);

-- At most one compensation per order per slip.
CREATE TABLE compensation (
    order_id     text NOT NULL REFERENCES orders,
    slip_no      integer NOT NULL,
    coupon_code  text NOT NULL,
    value_minor  bigint NOT NULL CHECK (value_minor > 0),
    currency     text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, slip_no)
);

-- The customer notifications outbox.
CREATE TABLE notification (
    notification_id bigserial PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE,
    kind            text NOT NULL CHECK (kind IN ('DELAY', 'COMPENSATION', 'BACK_IN_STOCK')),
    customer_id     text NOT NULL,
    order_id        text NOT NULL DEFAULT '',
    body            text NOT NULL,
    coupon_code     text NOT NULL DEFAULT '',
    value_minor     bigint NOT NULL DEFAULT 0,
    currency        text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    acked_at        timestamptz
);
CREATE INDEX notification_customer ON notification (customer_id, notification_id);

-- Back-in-stock subscriptions, notified once each in id order.
CREATE TABLE subscription (
    subscription_id bigserial PRIMARY KEY,
    customer_id     text NOT NULL,
    sku             text NOT NULL,
    region          text NOT NULL,
    status          text NOT NULL DEFAULT 'ACTIVE'
                    CHECK (status IN ('ACTIVE', 'NOTIFIED', 'CANCELLED')),
    restock_id      bigint,        -- the restock that notified it
    batch_no        integer,       -- and in which batch
    created_at      timestamptz NOT NULL DEFAULT now(),
    notified_at     timestamptz
);
CREATE UNIQUE INDEX subscription_active ON subscription (customer_id, sku, region)
    WHERE status = 'ACTIVE';
CREATE INDEX subscription_queue ON subscription (sku, region, subscription_id)
    WHERE status = 'ACTIVE';

-- One row per BACK_IN_STOCK event: the campaign that notifies its
-- subscribers batch by batch.  Replicas claim due rows with SKIP LOCKED.
CREATE TABLE restock (
    restock_id   bigserial PRIMARY KEY,
    event_id     bigint NOT NULL UNIQUE,   -- inventory's event id
    sku          text NOT NULL,
    region       text NOT NULL,
    available    bigint NOT NULL,          -- as the event reported it
    batches      integer NOT NULL DEFAULT 0,
    next_at_ms   bigint NOT NULL,
    done         boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX restock_due ON restock (next_at_ms) WHERE NOT done;

-- Support tickets with their SLA state.  Deadlines are not stored: they
-- are read from the clock (opened_at, priority targets, pause/resume
-- events) whenever a ticket is returned, so a policy change applies to
-- open tickets at once.
CREATE TABLE ticket (
    ticket_id        text PRIMARY KEY,
    fingerprint      text NOT NULL,
    customer_id      text NOT NULL,
    order_id         text NOT NULL DEFAULT '',
    channel          smallint NOT NULL,
    subject          text NOT NULL,
    body             text NOT NULL,
    language         text NOT NULL,
    category         text NOT NULL,
    confidence       double precision NOT NULL,
    priority         text NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    tier             text NOT NULL,
    status           text NOT NULL CHECK (status IN ('OPEN', 'WAITING', 'RESOLVED')),
    opened_at_ms     bigint NOT NULL,
    first_response_ms bigint,
    resolved_ms      bigint,
    resolution       text NOT NULL DEFAULT '',
    suggested        text NOT NULL DEFAULT '',
    mentions         text NOT NULL DEFAULT ''
);
CREATE INDEX ticket_open ON ticket (opened_at_ms) WHERE status <> 'RESOLVED';
CREATE INDEX ticket_customer ON ticket (customer_id, opened_at_ms);

-- Messages and the SLA clock's pause/resume events.
CREATE TABLE ticket_event (
    ticket_id  text NOT NULL REFERENCES ticket,
    seq        bigserial,
    kind       text NOT NULL CHECK (kind IN ('RESPONSE', 'PAUSE', 'RESUME', 'CUSTOMER')),
    at_ms      bigint NOT NULL,
    body       text NOT NULL DEFAULT '',
    PRIMARY KEY (ticket_id, seq)
);

-- Returns (RMAs) and their lines; a line's warehouse is where its units
-- shipped from, and where resellable goods go back.
CREATE TABLE rma (
    rma_id        text PRIMARY KEY,
    fingerprint   text NOT NULL,
    order_id      text NOT NULL REFERENCES orders,
    reason        text NOT NULL,
    status        text NOT NULL CHECK (status IN ('REQUESTED', 'RECEIVED')),
    condition     smallint NOT NULL DEFAULT 0,
    refund_minor  bigint NOT NULL DEFAULT 0,
    currency      text NOT NULL DEFAULT '',
    restocked     boolean NOT NULL DEFAULT false,
    created_at_ms bigint NOT NULL,
    received_at_ms bigint
);
CREATE INDEX rma_order ON rma (order_id);

CREATE TABLE rma_line (
    rma_id       text NOT NULL REFERENCES rma,
    line_no      integer NOT NULL,
    sku          text NOT NULL,
    qty          bigint NOT NULL CHECK (qty > 0),
    warehouse_id text NOT NULL,
    price_minor  bigint NOT NULL,
    currency     text NOT NULL,
    PRIMARY KEY (rma_id, line_no)
);
