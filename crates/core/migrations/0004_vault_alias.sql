-- The bucket name the S3 gateway serves a vault under.
ALTER TABLE vaults ADD COLUMN s3_alias TEXT;
CREATE UNIQUE INDEX vaults_s3_alias ON vaults (s3_alias) WHERE s3_alias IS NOT NULL;
