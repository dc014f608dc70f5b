-- Who made each reservation and who closed it (issue 14's audit): the
-- caller's identity (token subject or certificate identity; "anonymous"
-- under SHELFLINE_AUTH=none; "system" when a hold expired), and the
-- request id and W3C trace id of the call.  Constant defaults: no table
-- rewrite; reservations made before this migration keep ''.
ALTER TABLE reservation
    ADD COLUMN actor             text NOT NULL DEFAULT '',
    ADD COLUMN request_id        text NOT NULL DEFAULT '',
    ADD COLUMN trace_id          text NOT NULL DEFAULT '',
    ADD COLUMN closed_by         text NOT NULL DEFAULT '',
    ADD COLUMN closed_request_id text NOT NULL DEFAULT '',
    ADD COLUMN closed_trace_id   text NOT NULL DEFAULT '';
