-- The S3 gateway. Access keys are its own credentials (independent of the
-- web UI bearer): the secret is needed in clear to check SigV4, so it is kept
-- sealed under the identity (XChaCha20-Poly1305, aad = access key id).
CREATE TABLE s3_keys (
    access_key_id TEXT PRIMARY KEY NOT NULL,
    secret_sealed BLOB NOT NULL,
    name          TEXT,
    created_ms    INTEGER NOT NULL,
    last_used_ms  INTEGER
) STRICT;

-- Grants: what a key may do in a bucket ('*' = every bucket).
CREATE TABLE s3_grants (
    access_key_id TEXT NOT NULL REFERENCES s3_keys (access_key_id) ON DELETE CASCADE,
    bucket        TEXT NOT NULL,
    ops           TEXT NOT NULL,      -- JSON array of "read" | "write" | "delete"
    PRIMARY KEY (access_key_id, bucket)
) STRICT;

-- What S3 says about a version that Holdfast's own model does not: ETag,
-- content headers, user metadata, checksums. Versions written otherwise
-- have no row and get defaults.
CREATE TABLE s3_object_meta (
    version_id    TEXT PRIMARY KEY NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    etag          TEXT NOT NULL,      -- without quotes
    headers       TEXT NOT NULL,      -- JSON: content_type, content_encoding, ...
    user_meta     TEXT NOT NULL,      -- JSON object of x-amz-meta-* (lower-case names)
    checksums     TEXT NOT NULL       -- JSON: {"algorithm","value","type"} or {}
) STRICT;

-- Per-bucket versioning state ('Enabled' unless set; Holdfast always keeps history).
CREATE TABLE s3_versioning (
    vault_id TEXT PRIMARY KEY NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    status   TEXT NOT NULL
) STRICT;

-- Multipart uploads in progress. Their parts' blocks are in the block store
-- and count as referenced for garbage collection until the upload ends.
CREATE TABLE s3_uploads (
    upload_id  TEXT PRIMARY KEY NOT NULL,
    vault_id   TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    meta       TEXT NOT NULL          -- JSON: headers, user_meta, checksum algorithm/type
) STRICT;
CREATE INDEX s3_uploads_by_vault ON s3_uploads (vault_id, key);

CREATE TABLE s3_parts (
    upload_id   TEXT NOT NULL REFERENCES s3_uploads (upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    blocks      BLOB NOT NULL,        -- 32-byte block ids, in order
    block_sizes TEXT NOT NULL,        -- JSON array of plaintext sizes
    etag        TEXT NOT NULL,        -- MD5 hex of the part
    checksum    TEXT,                 -- base64, of the upload's algorithm
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
) STRICT;
