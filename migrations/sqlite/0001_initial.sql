-- portal-auth schema 1 for SQLite.
-- Times are UTC, as integer microseconds since the Unix epoch.
-- Accounts and flows are stored whole as JSON in `data`; the other columns are the
-- indexed copies the store queries by. `data` holds password hashes and TOTP secrets:
-- protect the database file accordingly.

CREATE TABLE accounts (
    id          TEXT    NOT NULL PRIMARY KEY,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    data        TEXT    NOT NULL
) STRICT;

-- Confirmed contacts and documents: the primary key is the uniqueness contract.
CREATE TABLE lookup_keys (
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value)
) STRICT;
CREATE INDEX lookup_keys_account ON lookup_keys (account_id);

CREATE TABLE flows (
    id          TEXT    NOT NULL PRIMARY KEY,
    version     INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    account_id  TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    data        TEXT    NOT NULL
) STRICT;
CREATE INDEX flows_kind ON flows (kind, created_at, id);
CREATE INDEX flows_account ON flows (account_id, created_at, id);
CREATE INDEX flows_expiry ON flows (expires_at);

CREATE TABLE counters (
    key         TEXT    NOT NULL PRIMARY KEY,
    count       INTEGER NOT NULL,
    last_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX counters_expiry ON counters (expires_at);

CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    account_id  TEXT,
    data        TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_events_account ON audit_events (account_id, seq);
