-- Stock-outs still running: inventory's OUT_OF_STOCK opens one per SKU x
-- region (the day it began), BACK_IN_STOCK closes it and flags every day
-- from then to the day it ended in stockout_days.  While it runs, the
-- history reader counts its days as stocked out too, so every day of a
-- multi-day stock-out is censored, not only the first.
CREATE TABLE stockout_open (
    sku    text NOT NULL,
    region text NOT NULL,
    since  date NOT NULL,
    PRIMARY KEY (sku, region)
);
