-- Fixture for test_migrate: statements that fail if run twice, and a log
-- of applications in order.  The sleep widens the race between replicas.
CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE applied_log (seq bigserial PRIMARY KEY, version integer NOT NULL);
INSERT INTO applied_log (version) VALUES (1);
SELECT pg_sleep(0.3);
