-- Agent hub rooms: multi-agent rooms with their members, each room's MLS
-- group (a hub_groups row linked by room_id), the room timeline (ciphertext
-- only), the policy engine's policies, held messages waiting for the owner,
-- and the owner device's sealed room plaintext.

ALTER TABLE hub_groups ADD COLUMN room_id TEXT;
CREATE INDEX hub_groups_room ON hub_groups(room_id);

CREATE TABLE hub_rooms (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT,
    status          TEXT NOT NULL,         -- active | archived
    security_level  TEXT NOT NULL,         -- standard | strict
    group_id        TEXT NOT NULL,
    owner_device_id TEXT,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);
CREATE INDEX hub_rooms_tenant ON hub_rooms(tenant_id, created_ms);

CREATE TABLE hub_room_members (
    room_id   TEXT NOT NULL REFERENCES hub_rooms(id),
    device_id TEXT NOT NULL,
    added_ms  INTEGER NOT NULL,
    PRIMARY KEY (room_id, device_id)
);
CREATE INDEX hub_room_members_device ON hub_room_members(device_id);

CREATE TABLE hub_room_messages (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL,
    room_id           TEXT NOT NULL,
    group_id          TEXT NOT NULL,
    sender_device_id  TEXT NOT NULL,
    message_type      TEXT NOT NULL,
    header_blob       BLOB,
    ciphertext        BLOB NOT NULL,
    client_message_id TEXT,
    epoch             INTEGER,
    created_ms        INTEGER NOT NULL
);
CREATE INDEX hub_room_messages_room ON hub_room_messages(room_id, created_ms);
CREATE INDEX hub_room_messages_sender ON hub_room_messages(sender_device_id, created_ms);

CREATE TABLE hub_policies (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    action      TEXT NOT NULL,             -- allow | block | hold | notify
    enabled     INTEGER NOT NULL DEFAULT 1,
    priority    INTEGER NOT NULL DEFAULT 100,
    conditions  TEXT NOT NULL,             -- JSON, metadata only
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);
CREATE INDEX hub_policies_tenant ON hub_policies(tenant_id, priority, created_ms);

CREATE TABLE hub_held_messages (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL,
    room_id           TEXT NOT NULL,
    group_id          TEXT NOT NULL,
    sender_device_id  TEXT NOT NULL,
    policy_id         TEXT,
    policy_name       TEXT,
    message_id        TEXT NOT NULL,
    message_type      TEXT NOT NULL,
    size_bytes        INTEGER NOT NULL,
    header_blob       BLOB,
    payload           BLOB,                -- wiped once answered
    client_message_id TEXT,
    epoch             INTEGER,
    linkage           TEXT NOT NULL,
    status            TEXT NOT NULL,       -- held | approved | denied
    created_ms        INTEGER NOT NULL,
    decided_ms        INTEGER
);
CREATE INDEX hub_held_tenant ON hub_held_messages(tenant_id, status, created_ms);
CREATE INDEX hub_held_sender ON hub_held_messages(sender_device_id, created_ms);

-- What the owner's device decrypted in rooms, sealed under the identity.
CREATE TABLE hub_owner_room_messages (
    message_id       TEXT PRIMARY KEY,
    room_id          TEXT NOT NULL,
    sender_device_id TEXT NOT NULL,
    sealed           BLOB NOT NULL,
    created_ms       INTEGER NOT NULL
);
CREATE INDEX hub_owner_room_messages_room ON hub_owner_room_messages(room_id, created_ms);
