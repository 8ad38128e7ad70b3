-- Role flags (read-only, pinned, folder sync paused), and an optional per-vault password. With a password the
-- stored key is sealed twice: under the password's Argon2id key, then under
-- the identity's vault-wrapping key; `password_kdf` holds the parameters.
ALTER TABLE vaults ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vaults ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vaults ADD COLUMN sync_paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vaults ADD COLUMN password_kdf TEXT;
