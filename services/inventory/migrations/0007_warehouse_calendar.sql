-- Each warehouse's shipping calendar (issue 17), set with
-- SetWarehouseCalendar and read by service-desk's ETAs: the weekdays it
-- ships on as a bit mask, bit 0 Monday .. bit 6 Sunday (31 = Monday to
-- Friday, what every warehouse shipped on before), and the dates it does
-- not ship, sorted and unique.  Constant defaults: no table rewrite.
ALTER TABLE warehouse
    ADD COLUMN ship_weekdays smallint NOT NULL DEFAULT 31
        CHECK (ship_weekdays BETWEEN 1 AND 127),
    ADD COLUMN holidays date[] NOT NULL DEFAULT '{}'
        CHECK (cardinality(holidays) <= 1000);
