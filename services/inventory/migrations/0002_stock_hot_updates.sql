-- Reserve updates stock.reserved on every call.  An index whose predicate
-- reads on_hand or reserved (stock_low) makes every such update a non-HOT
-- one: a new entry in each index of the table, and more to vacuum.  Without
-- it, and with room left on each page, the updates stay on their page and
-- touch no index.  ListLowStock filters the rows instead (it is an
-- operator's listing, not a hot path); see docs/INVENTORY.md.
DROP INDEX stock_low;
ALTER TABLE stock SET (fillfactor = 90);
