-- The notifications not acknowledged yet, for the scrape's
-- shelfline_service_desk_notifications_pending gauge (sd_metrics.c): a
-- count over this index reads only the pending rows, however many were
-- acknowledged before.  An acknowledgement removes the row's entry.
CREATE INDEX notification_pending ON notification (row_id) WHERE acked_at IS NULL;
