-- Notification ids without a writers' lock: the table is numbered the way
-- common's outbox is (common/sl_outbox.h, "tables of a service's own").
-- Until now every writer took one advisory lock so that ids, handed out
-- by a sequence, became visible in id order; that serialised the delay
-- consumer and the back-in-stock batches of every replica.
--
-- row_id is the row's own id (the former bigserial, from its sequence);
-- notification_id, the public id, is given after commit by the sequencer
-- (sd_store.c, "sd_notif_sequence"): NULL until then, then dense and in
-- (xid, row_id) order, so that "notification_id > cursor ORDER BY
-- notification_id" never skips a row that commits later.  Existing rows
-- keep their ids; new ones continue after the largest.
ALTER TABLE notification RENAME COLUMN notification_id TO row_id;
ALTER TABLE notification ADD COLUMN notification_id bigint UNIQUE;
ALTER TABLE notification ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
UPDATE notification SET notification_id = row_id;

-- ListNotifications / WatchNotifications of one customer, by public id.
DROP INDEX notification_customer;
CREATE INDEX notification_customer ON notification (customer_id, notification_id);

-- The sequencer's work list: only rows without an id, in its order.
CREATE INDEX notification_unsequenced ON notification (xid, row_id)
    WHERE notification_id IS NULL;
