-- Hub identities (did:hub:<name>), A2A channels and their participants,
-- and federation agreements between two Holdfast hubs. A2A MLS groups are
-- rows of hub_groups linked to their channel.

CREATE TABLE hub_identities (
    id            TEXT PRIMARY KEY,        -- the device's hub_id
    tenant_id     TEXT NOT NULL REFERENCES hub_tenants(id),
    device_id     TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL UNIQUE,    -- lowercase; did:hub:<name>
    display_name  TEXT NOT NULL,
    peer_reach    INTEGER NOT NULL DEFAULT 0,
    trust_tier    TEXT NOT NULL DEFAULT 'unverified',  -- unverified | certified
    checks        TEXT,                    -- JSON: the last certification's results
    certified_ms  INTEGER,
    created_ms    INTEGER NOT NULL
);
CREATE INDEX hub_identities_tenant ON hub_identities(tenant_id, created_ms);

CREATE TABLE hub_federation_agreements (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES hub_tenants(id),
    direction           TEXT NOT NULL,     -- outbound (we offered) | inbound (offered to us)
    peer_url            TEXT NOT NULL,
    peer_host           TEXT NOT NULL,     -- host[:port] of peer_url, the address domain
    status              TEXT NOT NULL,     -- pending | accepted
    send_secret         TEXT,              -- what we present to the peer
    peer_secret_hash    BLOB,              -- SHA-256 of what the peer presents to us
    created_ms          INTEGER NOT NULL,
    accepted_ms         INTEGER
);
CREATE INDEX hub_federation_host ON hub_federation_agreements(peer_host, status);

CREATE TABLE hub_a2a_channels (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES hub_tenants(id),
    topic             TEXT,
    status            TEXT NOT NULL,       -- pending | active | rejected
    creator_hub_id    TEXT NOT NULL,
    requested_by      TEXT NOT NULL,       -- owner | device
    agreement_id      TEXT,                -- set when a participant is on another hub
    created_ms        INTEGER NOT NULL,
    approved_ms       INTEGER
);
CREATE INDEX hub_a2a_channels_tenant ON hub_a2a_channels(tenant_id, created_ms);

CREATE TABLE hub_a2a_participants (
    channel_id   TEXT NOT NULL REFERENCES hub_a2a_channels(id),
    hub_id       TEXT NOT NULL,
    hub_address  TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    role         TEXT NOT NULL,            -- creator | member
    status       TEXT NOT NULL,            -- invited | active | left | removed
    remote       INTEGER NOT NULL DEFAULT 0,
    created_ms   INTEGER NOT NULL,
    PRIMARY KEY (channel_id, hub_id)
);
CREATE INDEX hub_a2a_participants_device ON hub_a2a_participants(device_id);

ALTER TABLE hub_groups ADD COLUMN a2a_channel_id TEXT;
CREATE INDEX hub_groups_a2a ON hub_groups(a2a_channel_id);
