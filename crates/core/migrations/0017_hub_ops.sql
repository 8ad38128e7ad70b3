-- Agent hub, part 2 (operations): attachments (client-encrypted bytes kept
-- as blocks of the block store, deduplicated by content), push tokens
-- (stored; no push service delivers them), decisions an agent asks the owner
-- to take, and telemetry spans' times, name and status read out at ingest.

CREATE TABLE hub_attachments (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL,
    uploader_device_id TEXT,                -- NULL: the owner (bearer)
    size               INTEGER NOT NULL,
    content_hash       TEXT NOT NULL,       -- BLAKE3 of the ciphertext
    blocks             BLOB NOT NULL,       -- 32-byte block ids, in order
    content_type       TEXT,
    file_name          TEXT,
    created_ms         INTEGER NOT NULL
);
CREATE INDEX hub_attachments_tenant ON hub_attachments(tenant_id, created_ms);

CREATE TABLE hub_push_tokens (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    device_id  TEXT,                        -- the owner's device it belongs to, if named
    token      TEXT NOT NULL,
    platform   TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    UNIQUE (tenant_id, token)
);

CREATE TABLE hub_decisions (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL,
    requester_device_id TEXT,               -- NULL: the owner asked
    title               TEXT NOT NULL,
    description         TEXT,
    options             TEXT NOT NULL,      -- JSON array of strings
    context             TEXT,               -- JSON object
    status              TEXT NOT NULL,      -- pending deferred approved denied
    note                TEXT,
    option              TEXT,
    created_ms          INTEGER NOT NULL,
    updated_ms          INTEGER NOT NULL,
    resolved_ms         INTEGER
);
CREATE INDEX hub_decisions_tenant ON hub_decisions(tenant_id, status, created_ms);

ALTER TABLE hub_telemetry ADD COLUMN name TEXT;
ALTER TABLE hub_telemetry ADD COLUMN start_ms INTEGER;
ALTER TABLE hub_telemetry ADD COLUMN end_ms INTEGER;
ALTER TABLE hub_telemetry ADD COLUMN status_code INTEGER;
CREATE INDEX hub_telemetry_tenant ON hub_telemetry(tenant_id, created_ms);
