//! Multipart uploads in progress. Each part is stored as blocks of the
//! bucket's vault as it arrives (streamed, sealed, durable); completing the
//! upload records one version naming the chosen parts' blocks in order, so
//! nothing is copied. Parts count as referenced for garbage collection until
//! their upload completes, is aborted or expires.

use std::collections::BTreeMap;

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::S3Error;
use super::meta::ContentHeaders;
use crate::Catalog;
use crate::store::BlockId;
use crate::time::now_ms;
use crate::vaults::StoredBlocks;

/// Uploads in progress per vault at most.
const MAX_UPLOADS_PER_VAULT: i64 = 10_000;

/// What CreateMultipartUpload said the object will be.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UploadMeta {
    pub headers: ContentHeaders,
    pub user_meta: BTreeMap<String, String>,
    /// The checksum algorithm each part carries, if any.
    pub checksum_algorithm: Option<String>,
    /// FULL_OBJECT or COMPOSITE.
    pub checksum_type: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Upload {
    pub upload_id: String,
    pub vault_id: String,
    pub key: String,
    pub created_ms: i64,
    pub meta: UploadMeta,
}

#[derive(Debug, Clone)]
pub struct Part {
    pub part_number: i32,
    pub size: u64,
    /// MD5 hex of the part.
    pub etag: String,
    /// Base64 of the part's checksum in the upload's algorithm.
    pub checksum: Option<String>,
    pub created_ms: i64,
    pub ids: Vec<BlockId>,
    pub sizes: Vec<u64>,
}

#[derive(Clone)]
pub struct Uploads {
    catalog: Catalog,
}

fn upload_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Upload> {
    let meta: String = r.get(4)?;
    Ok(Upload {
        upload_id: r.get(0)?,
        vault_id: r.get(1)?,
        key: r.get(2)?,
        created_ms: r.get(3)?,
        meta: serde_json::from_str(&meta).unwrap_or_default(),
    })
}

impl Uploads {
    pub fn new(catalog: Catalog) -> Self {
        Self { catalog }
    }

    pub async fn create(
        &self,
        vault_id: &str,
        key: &str,
        meta: UploadMeta,
    ) -> Result<Upload, S3Error> {
        let upload = Upload {
            upload_id: hex::encode(crate::identity::crypto::random_bytes::<16>()),
            vault_id: vault_id.to_owned(),
            key: key.to_owned(),
            created_ms: now_ms(),
            meta,
        };
        let u = upload.clone();
        let json = serde_json::to_string(&u.meta).expect("serialises");
        let ok = self
            .catalog
            .write(move |c| {
                let n: i64 = c.query_row(
                    "SELECT COUNT(*) FROM s3_uploads WHERE vault_id = ?1",
                    [&u.vault_id],
                    |r| r.get(0),
                )?;
                if n >= MAX_UPLOADS_PER_VAULT {
                    return Ok(false);
                }
                c.execute(
                    "INSERT INTO s3_uploads (upload_id, vault_id, key, created_ms, meta) VALUES (?1, ?2, ?3, ?4, ?5)",
                    rusqlite::params![u.upload_id, u.vault_id, u.key, u.created_ms, json],
                )?;
                Ok(true)
            })
            .await?;
        if !ok {
            return Err(S3Error::Invalid(format!(
                "at most {MAX_UPLOADS_PER_VAULT} multipart uploads in progress per bucket"
            )));
        }
        Ok(upload)
    }

    /// The upload `upload_id`, if it is for `vault_id` and `key`.
    pub async fn get(&self, vault_id: &str, key: &str, upload_id: &str) -> Result<Upload, S3Error> {
        let id = upload_id.to_owned();
        let u = self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT upload_id, vault_id, key, created_ms, meta FROM s3_uploads WHERE upload_id = ?1",
                    [id],
                    upload_row,
                )
                .optional()
            })
            .await?
            .filter(|u| u.vault_id == vault_id && u.key == key);
        u.ok_or(S3Error::NoSuchUpload)
    }

    /// Uploads in progress in a vault, by key then start time.
    pub async fn list(&self, vault_id: &str) -> Result<Vec<Upload>, S3Error> {
        let id = vault_id.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(
                    "SELECT upload_id, vault_id, key, created_ms, meta FROM s3_uploads
                     WHERE vault_id = ?1 ORDER BY key, created_ms, upload_id",
                )?;
                s.query_map([id], upload_row)?.collect()
            })
            .await?)
    }

    /// Record (or replace) part `n`; its blocks' pins drop once recorded.
    pub async fn put_part(
        &self,
        upload_id: &str,
        n: i32,
        blocks: StoredBlocks,
        etag: &str,
        checksum: Option<String>,
    ) -> Result<(), S3Error> {
        let raw: Vec<u8> = blocks.ids.iter().flat_map(|b| b.0).collect();
        let sizes = serde_json::to_string(&blocks.sizes).expect("serialises");
        let (id, etag, size) = (upload_id.to_owned(), etag.to_owned(), blocks.size as i64);
        let found = self
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                let exists: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM s3_uploads WHERE upload_id = ?1)",
                    [&id],
                    |r| r.get(0),
                )?;
                if exists {
                    tx.execute(
                        "INSERT OR REPLACE INTO s3_parts (upload_id, part_number, size, blocks, block_sizes, etag, checksum, created_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        rusqlite::params![id, n, size, raw, sizes, etag, checksum, now_ms()],
                    )?;
                }
                tx.commit()?;
                Ok(exists)
            })
            .await?;
        drop(blocks.pins);
        if !found {
            // Aborted while the part streamed in.
            return Err(S3Error::NoSuchUpload);
        }
        Ok(())
    }

    /// The parts of an upload, by number.
    pub async fn parts(&self, upload_id: &str) -> Result<Vec<Part>, S3Error> {
        let id = upload_id.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(
                    "SELECT part_number, size, etag, checksum, created_ms, blocks, block_sizes
                     FROM s3_parts WHERE upload_id = ?1 ORDER BY part_number",
                )?;
                s.query_map([id], |r| {
                    let raw: Vec<u8> = r.get(5)?;
                    let sizes: String = r.get(6)?;
                    Ok(Part {
                        part_number: r.get(0)?,
                        size: r.get::<_, i64>(1)? as u64,
                        etag: r.get(2)?,
                        checksum: r.get(3)?,
                        created_ms: r.get(4)?,
                        ids: raw
                            .chunks(32)
                            .filter_map(|b| <[u8; 32]>::try_from(b).ok().map(BlockId))
                            .collect(),
                        sizes: serde_json::from_str(&sizes).unwrap_or_default(),
                    })
                })?
                .collect()
            })
            .await?)
    }

    /// End an upload (completed or aborted): its parts' blocks become
    /// garbage unless the completed version names them.
    pub async fn finish(&self, upload_id: &str) -> Result<(), S3Error> {
        let id = upload_id.to_owned();
        let n = self
            .catalog
            .write(move |c| c.execute("DELETE FROM s3_uploads WHERE upload_id = ?1", [id]))
            .await?;
        if n == 0 {
            return Err(S3Error::NoSuchUpload);
        }
        Ok(())
    }

    /// Abort uploads started more than `max_age_ms` ago. Returns how many.
    pub async fn expire(&self, max_age_ms: i64) -> Result<usize, S3Error> {
        let cutoff = now_ms() - max_age_ms;
        Ok(self
            .catalog
            .write(move |c| c.execute("DELETE FROM s3_uploads WHERE created_ms < ?1", [cutoff]))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn uploads_belong_to_their_key_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("c.sqlite")).unwrap();
        cat.write(|c| {
            c.execute(
                "INSERT INTO vaults (id, name, wrapped_key, rf_target, created_ms) VALUES ('v', 'v', x'00', 1, 0)",
                [],
            )
        })
        .await
        .unwrap();
        let uploads = Uploads::new(cat);
        let u = uploads
            .create("v", "/k", UploadMeta::default())
            .await
            .unwrap();
        assert_eq!(
            uploads.get("v", "/k", &u.upload_id).await.unwrap().key,
            "/k"
        );
        // Another key or vault does not find it.
        assert!(matches!(
            uploads.get("v", "/other", &u.upload_id).await,
            Err(S3Error::NoSuchUpload)
        ));
        assert!(matches!(
            uploads.get("w", "/k", &u.upload_id).await,
            Err(S3Error::NoSuchUpload)
        ));
        // Not yet old enough, then expired.
        assert_eq!(uploads.expire(60_000).await.unwrap(), 0);
        assert_eq!(uploads.expire(-1).await.unwrap(), 1);
        assert!(uploads.list("v").await.unwrap().is_empty());
        assert!(matches!(
            uploads.finish(&u.upload_id).await,
            Err(S3Error::NoSuchUpload)
        ));
    }
}
