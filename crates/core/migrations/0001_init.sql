-- Small key/value settings owned by core modules (e.g. the web UI password hash).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- REST bearer sessions. Only a SHA-256 of each token is stored; `id` is the
-- first 8 bytes of that hash in hex, used to find the row.
CREATE TABLE auth_sessions (
    id            TEXT PRIMARY KEY NOT NULL,
    token_hash    BLOB NOT NULL,
    created_ms    INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX auth_sessions_expiry ON auth_sessions (expires_at_ms);
