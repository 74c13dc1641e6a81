-- portal-auth schema 1 for PostgreSQL.
-- Times are `timestamptz` (UTC instants, microsecond precision). Identifiers are
-- 32 lowercase hex digits, compared bytewise (COLLATE "C") so ordering matches the
-- in-memory store. Accounts and flows are stored whole as JSON in `data`; the other
-- columns are the indexed copies the store queries by. `data` holds password hashes
-- and TOTP secrets: grant access to these tables accordingly.

CREATE TABLE accounts (
    id          text COLLATE "C" NOT NULL PRIMARY KEY,
    version     bigint      NOT NULL,
    created_at  timestamptz NOT NULL,
    data        jsonb       NOT NULL
);

-- Confirmed contacts and documents: the primary key is the uniqueness contract.
CREATE TABLE lookup_keys (
    kind        text NOT NULL,
    value       text NOT NULL,
    account_id  text COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value)
);
CREATE INDEX lookup_keys_account ON lookup_keys (account_id);

CREATE TABLE flows (
    id          text COLLATE "C" NOT NULL PRIMARY KEY,
    version     bigint      NOT NULL,
    kind        text        NOT NULL,
    account_id  text COLLATE "C",
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    data        jsonb       NOT NULL
);
CREATE INDEX flows_kind ON flows (kind, created_at, id);
CREATE INDEX flows_account ON flows (account_id, created_at, id);
CREATE INDEX flows_expiry ON flows (expires_at);

CREATE TABLE counters (
    key         text        NOT NULL PRIMARY KEY,
    count       bigint      NOT NULL,
    last_at     timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX counters_expiry ON counters (expires_at);

CREATE TABLE audit_events (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    account_id  text COLLATE "C",
    data        jsonb       NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, seq);
