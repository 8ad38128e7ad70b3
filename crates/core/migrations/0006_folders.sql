-- Folder-backed vaults. `folder` is the local directory a vault mirrors.
-- `folder_files` holds, per path, the state in which folder and catalog last
-- agreed: the base of the three-way comparison that tells a local edit from
-- a catalog change (and both at once, a conflict).
ALTER TABLE vaults ADD COLUMN folder TEXT;

CREATE TABLE folder_files (
    vault_id   TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    version_id TEXT NOT NULL,     -- the version the folder holds (may be a tombstone)
    present    INTEGER NOT NULL,  -- whether the file exists on disk
    size       INTEGER NOT NULL,
    mtime_ns   INTEGER NOT NULL,
    PRIMARY KEY (vault_id, path)
) STRICT;
