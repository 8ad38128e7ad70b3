-- The node's side of the profile (REST /profile): where push notifications
-- go, whether the link is metered, the country. Display name and picture stay
-- in their columns from 0002, shared with the IPC profile scopes.
ALTER TABLE profile ADD COLUMN push_endpoint TEXT;   -- http(s) URL, or NULL
ALTER TABLE profile ADD COLUMN metered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE profile ADD COLUMN country TEXT;         -- ISO 3166-1 alpha-2, or NULL

-- Favourite nodes of the mesh, keyed by libp2p PeerId.
CREATE TABLE contacts (
    node_id    TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    note       TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;
