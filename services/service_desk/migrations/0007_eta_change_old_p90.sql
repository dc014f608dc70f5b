-- ListEtaChanges answers each slip's ETA before and after as a range: the
-- slip before kept only its median (old_p50).  NULL for the slips recorded
-- before this column (their "from" range has no 90th percentile).
ALTER TABLE eta_change ADD COLUMN old_p90 integer;  -- sd_date
