-- The agent hub: tenants, invites, devices, MLS key packages, groups and
-- commits, the per-device delivery queue, stored ciphertext, telemetry; and
-- the owner's own device (its MLS state and its plaintext, both sealed under
-- the identity). Every relayed payload is ciphertext.

CREATE TABLE hub_meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE hub_tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL
);

CREATE TABLE hub_invites (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES hub_tenants(id),
    token_hash  BLOB NOT NULL UNIQUE,
    label       TEXT,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    revoked_ms  INTEGER,
    consumed_ms INTEGER,
    device_id   TEXT,
    deleted_ms  INTEGER
);
CREATE INDEX hub_invites_tenant ON hub_invites(tenant_id, created_ms);

CREATE TABLE hub_devices (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES hub_tenants(id),
    kind           TEXT NOT NULL,          -- agent | owner
    name           TEXT NOT NULL,
    platform       TEXT,
    identity_key   BLOB NOT NULL,
    ephemeral_key  BLOB,
    fingerprint    TEXT NOT NULL,
    status         TEXT NOT NULL,          -- PENDING APPROVED REJECTED ACTIVE SUSPENDED REVOKED
    activation_pop INTEGER NOT NULL DEFAULT 0,
    invite_id      TEXT,
    hub_id         TEXT NOT NULL,
    webhook_url    TEXT,
    client_version TEXT,
    health         TEXT,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    last_seen_ms   INTEGER,
    deleted_ms     INTEGER
);
CREATE INDEX hub_devices_tenant ON hub_devices(tenant_id, created_ms);

CREATE TABLE hub_key_packages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   TEXT NOT NULL,
    body        BLOB NOT NULL,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    consumed_ms INTEGER
);
CREATE INDEX hub_kp_device ON hub_key_packages(device_id, consumed_ms, id);

-- One per (owner device, agent device): the 1:1 conversation and its group.
CREATE TABLE hub_conversations (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL,
    conversation_group_id TEXT NOT NULL,
    owner_device_id       TEXT NOT NULL,
    agent_device_id       TEXT NOT NULL,
    created_ms            INTEGER NOT NULL,
    UNIQUE (owner_device_id, agent_device_id)
);
CREATE INDEX hub_conversations_tenant ON hub_conversations(tenant_id);

CREATE TABLE hub_groups (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL,
    conversation_id       TEXT,
    conversation_group_id TEXT,
    founder_device_id     TEXT NOT NULL,
    current_epoch         INTEGER NOT NULL DEFAULT 0,
    last_commit_digest    TEXT,
    created_ms            INTEGER NOT NULL
);
CREATE INDEX hub_groups_conversation ON hub_groups(conversation_id);

CREATE TABLE hub_group_members (
    group_id  TEXT NOT NULL REFERENCES hub_groups(id),
    device_id TEXT NOT NULL,
    PRIMARY KEY (group_id, device_id)
);
CREATE INDEX hub_group_members_device ON hub_group_members(device_id);

CREATE TABLE hub_commits (
    group_id         TEXT NOT NULL,
    epoch            INTEGER NOT NULL,
    sender_device_id TEXT NOT NULL,
    payload          BLOB NOT NULL,
    message_id       TEXT NOT NULL,
    created_ms       INTEGER NOT NULL,
    PRIMARY KEY (group_id, epoch)
);

CREATE TABLE hub_queue (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id          TEXT NOT NULL UNIQUE,
    device_id         TEXT NOT NULL,
    message_type      TEXT NOT NULL,       -- welcome | commit | application
    sender_device_id  TEXT NOT NULL,
    group_id          TEXT NOT NULL,
    payload           BLOB NOT NULL,
    message_id        TEXT NOT NULL,
    client_message_id TEXT,
    epoch             INTEGER,
    linkage           TEXT NOT NULL,       -- JSON: routing fields passed through
    created_at        TEXT NOT NULL,
    created_ms        INTEGER NOT NULL,
    nacks             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX hub_queue_device ON hub_queue(device_id, seq);

CREATE TABLE hub_messages (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL,
    conversation_id   TEXT NOT NULL,
    group_id          TEXT,
    sender_device_id  TEXT NOT NULL,
    message_type      TEXT NOT NULL,
    header_blob       BLOB,
    ciphertext        BLOB NOT NULL,
    topic_id          TEXT,
    client_message_id TEXT,
    epoch             INTEGER,
    created_ms        INTEGER NOT NULL
);
CREATE INDEX hub_messages_conversation ON hub_messages(conversation_id, created_ms);

CREATE TABLE hub_welcome_requests (
    id           TEXT PRIMARY KEY,
    group_id     TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    fulfilled_ms INTEGER,
    UNIQUE (group_id, device_id)
);

CREATE TABLE hub_telemetry (
    trace_id   TEXT NOT NULL,
    span_id    TEXT NOT NULL,
    tenant_id  TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX hub_telemetry_device ON hub_telemetry(device_id, created_ms);

-- The owner's device: MLS state blobs and message plaintext, sealed.
CREATE TABLE hub_owner_state (
    key    TEXT PRIMARY KEY,
    sealed BLOB NOT NULL
);

CREATE TABLE hub_owner_messages (
    message_id      TEXT PRIMARY KEY,
    agent_device_id TEXT NOT NULL,
    direction       TEXT NOT NULL,         -- to_agent | from_agent
    sealed          BLOB NOT NULL,
    created_ms      INTEGER NOT NULL
);
CREATE INDEX hub_owner_messages_agent ON hub_owner_messages(agent_device_id, created_ms);
