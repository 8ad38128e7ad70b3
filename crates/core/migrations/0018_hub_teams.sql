-- The hub's team side: workspaces with members and roles, team rooms,
-- marketplace listings, tenant settings (with the scan rule set), and the
-- records trust scores are computed from: delivery outcomes and device
-- status changes (kept by triggers on the part-1 tables, so the relay code
-- does not change), and each computed score's history.

CREATE TABLE hub_workspaces (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES hub_tenants(id),
    name        TEXT NOT NULL,
    description TEXT,
    created_ms  INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);

-- member_id: a device id, or 'owner' for the daemon owner.
CREATE TABLE hub_workspace_members (
    workspace_id TEXT NOT NULL REFERENCES hub_workspaces(id),
    member_id    TEXT NOT NULL,
    role         TEXT NOT NULL,            -- owner | admin | member | viewer
    added_ms     INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, member_id)
);
CREATE INDEX hub_workspace_members_member ON hub_workspace_members(member_id);

CREATE TABLE hub_team_rooms (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES hub_workspaces(id),
    name         TEXT NOT NULL,
    description  TEXT,
    created_ms   INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE hub_listings (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES hub_workspaces(id),
    body         TEXT NOT NULL,            -- JSON: the listing's descriptive fields
    status       TEXT NOT NULL,            -- draft | published | paused | delisted
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL,
    published_ms INTEGER
);
CREATE INDEX hub_listings_tenant ON hub_listings(tenant_id, status, updated_ms);

CREATE TABLE hub_tenant_settings (
    tenant_id          TEXT PRIMARY KEY REFERENCES hub_tenants(id),
    settings           TEXT NOT NULL,      -- JSON object of known keys
    scan_rules         TEXT NOT NULL DEFAULT '[]',
    scan_rules_version INTEGER NOT NULL DEFAULT 0,
    scan_rules_ms      INTEGER,
    updated_ms         INTEGER NOT NULL
);

-- Delivery outcomes per device: a queue row deleted while its device
-- exists was acknowledged (fewer than 5 nacks) or dead-lettered (5).
CREATE TABLE hub_delivery_stats (
    device_id     TEXT PRIMARY KEY,
    delivered     INTEGER NOT NULL DEFAULT 0,
    dead_lettered INTEGER NOT NULL DEFAULT 0,
    nacks         INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER hub_queue_outcome AFTER DELETE ON hub_queue
WHEN EXISTS (SELECT 1 FROM hub_devices WHERE id = OLD.device_id AND deleted_ms IS NULL)
BEGIN
    INSERT OR IGNORE INTO hub_delivery_stats (device_id) VALUES (OLD.device_id);
    UPDATE hub_delivery_stats
       SET delivered = delivered + (OLD.nacks < 5),
           dead_lettered = dead_lettered + (OLD.nacks >= 5)
     WHERE device_id = OLD.device_id;
END;

CREATE TRIGGER hub_queue_nacked AFTER UPDATE OF nacks ON hub_queue
WHEN NEW.nacks > OLD.nacks
BEGIN
    INSERT OR IGNORE INTO hub_delivery_stats (device_id) VALUES (NEW.device_id);
    UPDATE hub_delivery_stats SET nacks = nacks + (NEW.nacks - OLD.nacks)
     WHERE device_id = NEW.device_id;
END;

CREATE TABLE hub_device_status_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id  TEXT NOT NULL,
    old_status TEXT NOT NULL,
    new_status TEXT NOT NULL,
    at_ms      INTEGER NOT NULL
);
CREATE INDEX hub_device_status_log_device ON hub_device_status_log(device_id, id);

CREATE TRIGGER hub_device_status_change AFTER UPDATE OF status ON hub_devices
WHEN NEW.status <> OLD.status
BEGIN
    INSERT INTO hub_device_status_log (device_id, old_status, new_status, at_ms)
    VALUES (NEW.id, OLD.status, NEW.status,
            CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TABLE hub_trust_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    hub_id      TEXT NOT NULL,
    score       INTEGER NOT NULL,
    tier        TEXT NOT NULL,
    components  TEXT NOT NULL,             -- JSON
    computed_ms INTEGER NOT NULL
);
CREATE INDEX hub_trust_history_hub ON hub_trust_history(tenant_id, hub_id, id);
