-- ListLowStock without slowing Reserve down (see 0002): the low-stock
-- condition as a stored column, recomputed by every update of the row.
-- An index whose predicate reads only this flag keeps the reserved-counter
-- updates HOT: PostgreSQL compares the indexed columns' old and new
-- values, and the flag changes only when a row crosses its threshold.
ALTER TABLE stock ADD COLUMN low boolean
    GENERATED ALWAYS AS (on_hand - reserved <= low_stock_threshold) STORED;
CREATE INDEX stock_low ON stock (sku, warehouse_id) WHERE low;
