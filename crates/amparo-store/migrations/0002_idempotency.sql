-- A client that retries a create (a dropped connection, an offline draft) sends the
-- same Idempotency-Key and gets the same record back instead of a duplicate.
CREATE TABLE idempotency_keys (
    idem_key TEXT NOT NULL,
    username TEXT NOT NULL,
    record_id TEXT NOT NULL REFERENCES records(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (idem_key, username)
);
