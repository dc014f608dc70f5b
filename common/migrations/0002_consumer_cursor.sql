-- Durable cursors of the event streams this service consumes (see
-- common/sl_cursor.h): the last event id whose effects are committed.
-- It is written in the same transaction as those effects.
CREATE TABLE consumer_cursor (
    subscription text PRIMARY KEY CHECK (subscription <> ''),
    last_id      bigint NOT NULL CHECK (last_id >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
