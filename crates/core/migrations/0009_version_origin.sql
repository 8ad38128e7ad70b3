-- Where a version came from, so a conflict can name its two sides:
-- 'folder' (the vault's folder on this computer), 'upload' (the REST API:
-- the web UI, an app, the S3 surface), 'restore', 'resolve', 'keep_both',
-- 'move'.
-- NULL for versions recorded before this column existed.
ALTER TABLE versions ADD COLUMN origin TEXT;
