-- Agencies in other countries this agency exchanges referral packages with: their
-- Ed25519 key (to verify what they sign) and their age recipient (to encrypt to them).
CREATE TABLE partners (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    signing_key TEXT NOT NULL,
    age_recipient TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (agency_id, name),
    UNIQUE (agency_id, signing_key)
);
