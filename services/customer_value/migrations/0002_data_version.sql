-- The data version of the purchase history (see cv_history.h): a sum of
-- counters, one of which every transaction that changes purchase,
-- purchase_line or a customer's region bumps before it commits.  A reader
-- that reads the same sum as when it built an in-memory copy of the lines
-- (in one statement with the lines) knows nothing it copied has changed.
--
-- 64 counters, one chosen per transaction by its id, so that concurrent
-- writers rarely wait for one another.  The triggers are deferred to the
-- commit: a transaction takes its counter's row lock last, after every other
-- lock it needs, so waiting for a counter never closes a deadlock cycle.

CREATE TABLE data_version (
    shard integer PRIMARY KEY,
    n     bigint NOT NULL
);
INSERT INTO data_version (shard, n) SELECT g, 0 FROM generate_series(0, 63) AS g;

-- Once per transaction: the first row's trigger bumps, and says so in a
-- setting local to the transaction (undone with it, or with a savepoint
-- rolled back), so the other rows' triggers do nothing.
CREATE FUNCTION data_version_bump() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF current_setting('shelfline.cv_data_version_bumped', true) = 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('shelfline.cv_data_version_bumped', 'on', true);
    UPDATE data_version SET n = n + 1
     WHERE shard = (pg_current_xact_id()::text::bigint % 64)::integer;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER purchase_changed
    AFTER INSERT OR UPDATE OR DELETE ON purchase
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_version_bump();
CREATE CONSTRAINT TRIGGER purchase_line_changed
    AFTER INSERT OR UPDATE OR DELETE ON purchase_line
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_version_bump();
CREATE CONSTRAINT TRIGGER customer_region_changed
    AFTER UPDATE ON customer
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.region IS DISTINCT FROM NEW.region) EXECUTE FUNCTION data_version_bump();
CREATE CONSTRAINT TRIGGER customer_deleted
    AFTER DELETE ON customer
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_version_bump();
