-- The mesh. A network is a saved (swarm key, bootstrap list) pair; its id
-- is the same on every member (it travels in invites), so a key rotation
-- pushed by one member finds the network on the others. At most one is
-- active: the daemon connects to it at start.
CREATE TABLE networks (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    psk        TEXT NOT NULL,       -- the 3-line IPFS PSK text
    bootstrap  TEXT NOT NULL,       -- JSON array of multiaddrs
    active     INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL
) STRICT;

-- Invites this node minted: checked when a joiner asks to be admitted.
CREATE TABLE network_invites (
    id         TEXT PRIMARY KEY NOT NULL,
    network_id TEXT NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    expires_ms INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL
) STRICT;

-- Vaults this node holds for others without their key (a replica): only
-- their id, size and target are known here.
CREATE TABLE replica_vaults (
    id         TEXT PRIMARY KEY NOT NULL,
    rf_target  INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;

-- Sealed manifests of replica vaults' versions, as they travel: the
-- version id, the block ids it needs, and the sealed record (path,
-- sizes, parents…) that only key holders can open.
CREATE TABLE replica_manifests (
    vault_id     TEXT NOT NULL REFERENCES replica_vaults (id) ON DELETE CASCADE,
    version_id   TEXT NOT NULL,
    blocks       BLOB NOT NULL,     -- block ids, 32 bytes each
    sealed       BLOB NOT NULL,
    sealed_bytes INTEGER NOT NULL,  -- bytes of its sealed blocks
    PRIMARY KEY (vault_id, version_id)
) STRICT;

-- Speed test results, newest kept per peer.
CREATE TABLE speedtests (
    peer_id        TEXT NOT NULL,
    ts_ms          INTEGER NOT NULL,
    latency_ms     REAL NOT NULL,
    bytes          INTEGER NOT NULL,
    duration_ms    REAL NOT NULL,
    throughput_bps REAL NOT NULL
) STRICT;
CREATE INDEX speedtests_by_peer ON speedtests (peer_id, ts_ms);
