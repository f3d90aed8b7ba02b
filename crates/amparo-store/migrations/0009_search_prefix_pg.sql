-- PostgreSQL only: name prefixes are asked as a byte-order range (COLLATE "C"),
-- which a default-collation index cannot serve; record_id makes it covering.
CREATE INDEX search_keys_prefix ON search_keys (agency_id, kind, term COLLATE "C", record_id);
