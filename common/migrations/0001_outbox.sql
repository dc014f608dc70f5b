-- The transactional outbox of a service schema (see common/sl_outbox.h).
--
-- id is only a unique row id: ids come from a sequence before commit, so
-- ids do not become visible in order and a reader cannot use them as a
-- cursor.  pos is the public event id, assigned after commit by the
-- sequencer in a dense, gap-free order; NULL until then.  xid is the
-- writing transaction's id, which lets the sequencer tell which unsequenced
-- rows are final.
CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    pos        bigint UNIQUE,
    topic      text NOT NULL CHECK (topic <> ''),
    key        text NOT NULL DEFAULT '',
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The sequencer's work list: only rows not yet given a position, in the
-- order it assigns positions.
CREATE INDEX outbox_unsequenced ON outbox (xid, id) WHERE pos IS NULL;

-- Readers filtering by topic.
CREATE INDEX outbox_topic_pos ON outbox (topic, pos) WHERE pos IS NOT NULL;
