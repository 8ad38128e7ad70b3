-- History backups (device protocol §10): the recovery-code hash the owner
-- registers per agent device, and the agent's encrypted archives (the
-- newest three generations; the hub never holds the code or a key).

CREATE TABLE hub_history_codes (
    device_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    set_ms    INTEGER NOT NULL
);

CREATE TABLE hub_history_generations (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    device_id       TEXT NOT NULL,
    archive_version INTEGER NOT NULL,
    blob            BLOB NOT NULL,
    entry_count     INTEGER NOT NULL,
    created_ms      INTEGER NOT NULL
);
CREATE INDEX hub_history_device ON hub_history_generations(device_id, seq);
