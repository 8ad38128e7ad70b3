-- API keys for third-party agents (each bound to a device of its own; only
-- the key's SHA-256 is stored) and topics within a conversation group.

CREATE TABLE hub_api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES hub_tenants(id),
    device_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     BLOB NOT NULL UNIQUE,
    created_ms   INTEGER NOT NULL,
    last_used_ms INTEGER,
    revoked_ms   INTEGER,
    rotated_ms   INTEGER
);
CREATE INDEX hub_api_keys_tenant ON hub_api_keys(tenant_id, created_ms);

CREATE TABLE hub_topics (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL,
    conversation_group_id TEXT NOT NULL,
    name                  TEXT NOT NULL,
    is_default            INTEGER NOT NULL DEFAULT 0,
    created_ms            INTEGER NOT NULL,
    updated_ms            INTEGER NOT NULL,
    archived_ms           INTEGER
);
CREATE INDEX hub_topics_group ON hub_topics(conversation_group_id, created_ms);
-- One default topic per group, whoever races to make it.
CREATE UNIQUE INDEX hub_topics_default ON hub_topics(conversation_group_id) WHERE is_default = 1;
