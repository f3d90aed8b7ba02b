-- One schema for SQLite and PostgreSQL: only types both spell the same way.
-- Times are RFC 3339 text in UTC unless the column says _unix; flags are 0/1.
CREATE TABLE agencies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    roles TEXT NOT NULL,
    facilities TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change_password BIGINT NOT NULL,
    disabled BIGINT NOT NULL,
    language TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_unix BIGINT NOT NULL,
    last_seen_unix BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- Every record of every kind: indexed columns for scoping and lists, the record
-- itself as JSON in data. gate is the sensitivity needed to know the record exists.
CREATE TABLE records (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    gate TEXT NOT NULL,
    operation_id TEXT,
    case_number TEXT UNIQUE,
    wristband TEXT,
    status TEXT,
    facility_id TEXT,
    child_id TEXT,
    data TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX records_list ON records(agency_id, kind, operation_id, status);
CREATE INDEX records_facility ON records(facility_id, kind);
CREATE INDEX records_child ON records(child_id, kind);
CREATE INDEX records_wristband ON records(operation_id, wristband);

CREATE TABLE record_versions (
    record_id TEXT NOT NULL REFERENCES records(id),
    version BIGINT NOT NULL,
    data TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    PRIMARY KEY (record_id, version)
);

CREATE TABLE search_keys (
    record_id TEXT NOT NULL REFERENCES records(id),
    agency_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    term TEXT NOT NULL
);
CREATE INDEX search_keys_term ON search_keys(agency_id, kind, term);
CREATE INDEX search_keys_record ON search_keys(record_id);

CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    record_kind TEXT,
    record_id TEXT,
    summary TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_record ON audit(record_id);

-- The chain head: locked first by every writing transaction, so the chain never forks.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
