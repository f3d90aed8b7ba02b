-- Lists in case-number order read this index in order and stop after a page; the
-- filters most lists use (gate, status) are in it too, so counting a capped total
-- reads no table rows. COALESCE puts records without a case number first on both
-- databases (they disagreed on where NULLs sort).
CREATE INDEX records_order ON records (agency_id, kind, (COALESCE(case_number, '')), created_at, id, gate, status);
-- A name search reads record ids from the term index alone (no table row per match:
-- a common given name matches tens of thousands).
DROP INDEX search_keys_term;
CREATE INDEX search_keys_term ON search_keys (agency_id, kind, term, record_id);
-- Testing one found record for another word of the search reads its terms from this
-- index alone (5 microseconds instead of 40 at a million children).
DROP INDEX search_keys_record;
CREATE INDEX search_keys_record ON search_keys (record_id, term);
