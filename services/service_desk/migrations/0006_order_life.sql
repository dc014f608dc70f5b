-- An order's ETA follows its life (GetOrderEta): once shipped it is the
-- carrier's promised delivery date (UpdateShipment.promised_date), once
-- delivered the delivery date; a backordered part whose inbound shipment
-- was received (inventory's INBOUND_RECEIVED) ships after the receipt
-- instead of sliding a day every day from an expected date gone by.
ALTER TABLE orders ADD COLUMN carrier_promised integer;  -- sd_date, NULL: none given
ALTER TABLE order_part ADD COLUMN received_ms bigint;     -- the inbound's receipt, NULL: not yet
