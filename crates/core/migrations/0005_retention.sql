-- Days old versions and tombstones stay restorable before garbage
-- collection may drop them.
ALTER TABLE vaults ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 30;
