-- Search keys now include spelling-independent keys (Daitch-Mokotoff codes and given-name
-- groups); the store rebuilds every record's keys when this migration is applied.
CREATE INDEX search_keys_term_only ON search_keys(term);
