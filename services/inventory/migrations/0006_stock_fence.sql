-- Stock fences (issue 17, "guaranteed availability for loyal customers"):
-- units of a SKU set aside for the members of a customer-value segment
-- for a window.  A fence is stored as a promotion of kind STOCK_FENCE, so
-- it shares the promotion's quota constraint (quota = remaining + held +
-- sold + returned), its per-warehouse promotion_fence rows, the way holds
-- take and give back fenced units, the reaper's end of the window (the
-- ended flag, set once under the SKU's lock) and CheckInvariants' checks.
-- A fence is at one warehouse (warehouse_id) or over the warehouses
-- serving a region (region), never both.  Constant defaults: existing
-- promotions become kind PROMOTION without a table rewrite.
ALTER TABLE promotion
    ADD COLUMN kind         text NOT NULL DEFAULT 'PROMOTION'
        CHECK (kind IN ('PROMOTION', 'STOCK_FENCE')),
    ADD COLUMN segment      text NOT NULL DEFAULT '',
    ADD COLUMN warehouse_id text NOT NULL DEFAULT '',
    ADD CONSTRAINT promotion_fence_scope CHECK (kind = 'PROMOTION'
        OR (segment <> '' AND (warehouse_id = '') <> (region = '')));

-- Who may take a stock fence's units: pushed by a caller with the service
-- role (customer-value, from its segment), never taken from the caller of
-- Reserve or CreateStockFence.
CREATE TABLE stock_fence_member (
    promotion_id text NOT NULL REFERENCES promotion,
    customer_id  text NOT NULL,
    added_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (promotion_id, customer_id)
);
-- Reserve's look-up: the live fences of a batch's SKUs that its customers
-- are members of.
CREATE INDEX promotion_live_fence ON promotion (sku) WHERE kind = 'STOCK_FENCE' AND NOT ended;
CREATE INDEX stock_fence_member_customer ON stock_fence_member (customer_id);
