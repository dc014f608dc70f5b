-- Who changed what (issue 14's audit): the caller's identity (its token's
-- subject; "anonymous" under SHELFLINE_AUTH=none; "system" for a consumer
-- applying another service's events), the request id and the W3C trace
-- id.  orders: the last status change (placement, payment, cancellation,
-- shipment); ticket: who opened it and who resolved it; ticket_event: who
-- wrote each message or paused the clock.  Constant defaults: no table
-- rewrite; rows from before keep ''.
ALTER TABLE orders
    ADD COLUMN actor      text NOT NULL DEFAULT '',
    ADD COLUMN request_id text NOT NULL DEFAULT '',
    ADD COLUMN trace_id   text NOT NULL DEFAULT '';
ALTER TABLE ticket
    ADD COLUMN actor               text NOT NULL DEFAULT '',
    ADD COLUMN request_id          text NOT NULL DEFAULT '',
    ADD COLUMN trace_id            text NOT NULL DEFAULT '',
    ADD COLUMN resolved_by         text NOT NULL DEFAULT '',
    ADD COLUMN resolved_request_id text NOT NULL DEFAULT '',
    ADD COLUMN resolved_trace_id   text NOT NULL DEFAULT '';
ALTER TABLE ticket_event
    ADD COLUMN actor      text NOT NULL DEFAULT '',
    ADD COLUMN request_id text NOT NULL DEFAULT '',
    ADD COLUMN trace_id   text NOT NULL DEFAULT '';
