-- The identity: one row. The master key is stored only wrapped by the
-- passphrase-derived key; the agent public key is kept for display while locked.
CREATE TABLE identity (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    kdf            TEXT NOT NULL,  -- JSON KdfParams
    wrapped_master BLOB NOT NULL,  -- nonce || XChaCha20-Poly1305 ciphertext
    agent_pub_key  TEXT NOT NULL,
    created_ms     INTEGER NOT NULL
) STRICT;

CREATE TABLE profile (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    display_name TEXT,
    username     TEXT,
    picture      TEXT   -- data: URL
) STRICT;

-- Apps the user knows. `legacy` apps authenticate by client_id alone.
CREATE TABLE apps (
    client_id  TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,  -- JSON array of profile scopes
    origins    TEXT NOT NULL,  -- JSON array of allowed browser origins
    legacy     INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;

-- Approved links between an app's agent key and ours. Each carries the
-- app's own secret (stored as a hash) that the app presents as a bearer.
CREATE TABLE links (
    id                  TEXT PRIMARY KEY NOT NULL,
    client_id           TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    app_name            TEXT NOT NULL,
    app_agent_pub_key   TEXT NOT NULL,
    vault_agent_pub_key TEXT NOT NULL,
    signature           TEXT NOT NULL,
    token_id            TEXT NOT NULL UNIQUE,
    token_hash          BLOB NOT NULL,
    exe                 TEXT,
    created_ms          INTEGER NOT NULL,
    UNIQUE (client_id, app_agent_pub_key)
) STRICT;

-- Timed permissions to skip a prompt ("remember for …").
CREATE TABLE grants (
    id            TEXT PRIMARY KEY NOT NULL,
    client_id     TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) STRICT;

-- Per-app backups, sealed under the app's backup key.
CREATE TABLE backups (
    client_id    TEXT NOT NULL,
    label        TEXT NOT NULL,
    app_name     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    labeled      INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL,
    data_size    INTEGER NOT NULL,
    sealed       BLOB NOT NULL,
    summary      TEXT,  -- JSON canonical::Summary, or NULL
    PRIMARY KEY (client_id, label)
) STRICT;
CREATE INDEX backups_by_age ON backups (client_id, created_ms);

-- Security-relevant events, a bounded ring.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms   INTEGER NOT NULL,
    type    TEXT NOT NULL,
    details TEXT NOT NULL  -- JSON object
) STRICT;
CREATE INDEX audit_by_time ON audit (ts_ms);
