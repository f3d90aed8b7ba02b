-- Lists in case-number order read this index in order and stop after a page; the
-- filters most lists use (gate, status) are in it too, so counting a capped total
-- reads no table rows. COALESCE puts records without a case number first on both
-- databases (they disagreed on where NULLs sort).
CREATE INDEX records_order ON records (agency_id, kind, (COALESCE(case_number, '')), created_at, id, gate, status);
