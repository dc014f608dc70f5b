-- Versions need not be contiguous, only increasing.
ALTER TABLE items ADD COLUMN qty integer NOT NULL DEFAULT 0 CHECK (qty >= 0);
INSERT INTO applied_log (version) VALUES (10);
