-- The W3C traceparent of the work that wrote each event (sl_trace), so a
-- consumer applying it runs in the same trace; '' when there was none.
-- A constant default: no table rewrite.
ALTER TABLE outbox ADD COLUMN traceparent text NOT NULL DEFAULT '';
