-- Customer-value's messages become notifications (sd_cv_sync.c): a
-- campaign's message to a recipient (CAMPAIGN, keyed
-- "campaign:<campaign>:<customer>") and a repeat-purchase reminder
-- (REPURCHASE, keyed "repurchase:<customer>:<sku>:<due day>").  The
-- unique idempotency_key makes each exactly once, whatever is replayed.
ALTER TABLE notification DROP CONSTRAINT notification_kind_check;
ALTER TABLE notification ADD CONSTRAINT notification_kind_check
    CHECK (kind IN ('DELAY', 'COMPENSATION', 'BACK_IN_STOCK', 'CAMPAIGN', 'REPURCHASE'));
