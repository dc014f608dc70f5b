-- ListReturns pages returns newest first by (created_at_ms, rma_id): the
-- page after a key reads this index backwards from it instead of sorting
-- every return of the filter on each page.
CREATE INDEX rma_created ON rma (created_at_ms, rma_id);
