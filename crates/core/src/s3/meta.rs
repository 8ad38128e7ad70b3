//! The S3 view of a version: ETag, content headers, user metadata and the
//! checksum a client asked for. Kept beside the version (same id, deleted
//! with it); versions written by other paths (REST, folders, peers) have
//! none and get defaults. Also each bucket's versioning state.

use std::collections::{BTreeMap, HashMap};

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::S3Error;
use crate::Catalog;

/// The standard headers S3 stores with an object and returns on GET.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentHeaders {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A flexible checksum as S3 reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectChecksum {
    /// CRC32, CRC32C, CRC64NVME, SHA1 or SHA256.
    pub algorithm: String,
    /// Base64 of the digest; composite ones end in `-N`.
    pub value: String,
    /// FULL_OBJECT or COMPOSITE.
    pub kind: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// Without quotes: MD5 hex, or `<md5 of part md5s>-N` for multipart.
    pub etag: String,
    pub headers: ContentHeaders,
    /// `x-amz-meta-*` values by lower-case name (without the prefix).
    pub user_meta: BTreeMap<String, String>,
    pub checksum: Option<ObjectChecksum>,
    /// Part sizes of a multipart object (for `partNumber` reads).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub part_sizes: Vec<u64>,
}

/// Records `meta` for a version in the transaction that records the
/// version itself (see [`crate::vaults::Extra`]).
pub fn recorder(meta: ObjectMeta) -> crate::vaults::Extra {
    Box::new(move |c, version_id| {
        let headers = serde_json::to_string(&meta.headers).expect("serialises");
        let user = serde_json::to_string(&meta.user_meta).expect("serialises");
        let sums = serde_json::json!({"checksum": meta.checksum, "part_sizes": meta.part_sizes})
            .to_string();
        c.prepare_cached(
            "INSERT OR REPLACE INTO s3_object_meta (version_id, etag, headers, user_meta, checksums)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(rusqlite::params![version_id, meta.etag, headers, user, sums])?;
        Ok(())
    })
}

#[derive(Clone)]
pub struct S3Objects {
    catalog: Catalog,
    /// Versioning state by vault, read once (asked on every request).
    versioning: std::sync::Arc<std::sync::Mutex<HashMap<String, String>>>,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, ObjectMeta)> {
    let id: String = r.get(0)?;
    let headers: String = r.get(2)?;
    let user: String = r.get(3)?;
    let sums: String = r.get(4)?;
    let extra: serde_json::Value = serde_json::from_str(&sums).unwrap_or_default();
    Ok((
        id,
        ObjectMeta {
            etag: r.get(1)?,
            headers: serde_json::from_str(&headers).unwrap_or_default(),
            user_meta: serde_json::from_str(&user).unwrap_or_default(),
            checksum: serde_json::from_value(extra["checksum"].clone()).ok(),
            part_sizes: serde_json::from_value(extra["part_sizes"].clone()).unwrap_or_default(),
        },
    ))
}

impl S3Objects {
    pub fn new(catalog: Catalog) -> Self {
        Self {
            catalog,
            versioning: Default::default(),
        }
    }

    pub async fn get(&self, version_id: &str) -> Result<Option<ObjectMeta>, S3Error> {
        let id = version_id.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT version_id, etag, headers, user_meta, checksums FROM s3_object_meta WHERE version_id = ?1",
                    [id],
                    row,
                )
                .optional()
            })
            .await?
            .map(|(_, m)| m))
    }

    /// The metadata of many versions at once (listings).
    pub async fn get_many(&self, ids: Vec<String>) -> Result<HashMap<String, ObjectMeta>, S3Error> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(self
            .catalog
            .read(move |c| {
                let mut out = HashMap::new();
                let mut s = c.prepare_cached(
                    "SELECT version_id, etag, headers, user_meta, checksums FROM s3_object_meta WHERE version_id = ?1",
                )?;
                for id in ids {
                    if let Some((id, m)) = s.query_row([id], row).optional()? {
                        out.insert(id, m);
                    }
                }
                Ok(out)
            })
            .await?)
    }

    /// `Enabled` (Holdfast keeps history) or `Suspended`.
    pub async fn versioning(&self, vault_id: &str) -> Result<String, S3Error> {
        let cached = self
            .versioning
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(vault_id)
            .cloned();
        if let Some(status) = cached {
            return Ok(status);
        }
        let id = vault_id.to_owned();
        let status = self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT status FROM s3_versioning WHERE vault_id = ?1",
                    [id],
                    |r| r.get::<_, String>(0),
                )
                .optional()
            })
            .await?
            .unwrap_or_else(|| "Enabled".to_owned());
        let mut cache = self.versioning.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(vault_id.to_owned(), status.clone());
        Ok(status)
    }

    pub async fn set_versioning(&self, vault_id: &str, status: &str) -> Result<(), S3Error> {
        let (id, st) = (vault_id.to_owned(), status.to_owned());
        self.catalog
            .write(move |c| {
                c.execute(
                    "INSERT INTO s3_versioning (vault_id, status) VALUES (?1, ?2)
                     ON CONFLICT (vault_id) DO UPDATE SET status = excluded.status",
                    [id, st],
                )
            })
            .await?;
        self.versioning
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(vault_id.to_owned(), status.to_owned());
        Ok(())
    }
}
