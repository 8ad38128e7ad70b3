-- Trusted vaults. The vault key is stored only sealed under a key derived
-- from the identity's master key.
CREATE TABLE vaults (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    wrapped_key BLOB NOT NULL,
    rf_target   INTEGER NOT NULL,
    hard_quota  INTEGER,            -- bytes, NULL for none
    created_ms  INTEGER NOT NULL
) STRICT;

-- Every version of every path: a manifest of sealed blocks. Versions of a
-- path form a DAG through `parents`; `heads` are its current leaves (more
-- than one is a conflict). A tombstone is a version with `deleted = 1`.
CREATE TABLE versions (
    id           TEXT PRIMARY KEY NOT NULL,
    vault_id     TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    content_hash TEXT NOT NULL,     -- BLAKE3 of the plaintext, hex
    size         INTEGER NOT NULL,
    blocks       BLOB NOT NULL,     -- block ids, 32 bytes each, in order
    block_sizes  TEXT NOT NULL,     -- JSON array of plaintext chunk sizes
    parents      TEXT NOT NULL,     -- JSON array of version ids
    deleted      INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX versions_by_path ON versions (vault_id, path, created_ms);

CREATE TABLE heads (
    vault_id   TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    version_id TEXT NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    PRIMARY KEY (vault_id, path, version_id)
) STRICT;
