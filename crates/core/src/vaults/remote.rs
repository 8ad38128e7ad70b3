//! The vault side of replication: version records sealed for the wire
//! (only key holders can read a path, a size or a parent), taken back in
//! from peers, and shared by URL. Peers' versions join the same per-path
//! DAG as local ones: the heads of a path are recomputed from parent links,
//! so two edits made apart become two heads (a conflict) on every node, and
//! a resolution anywhere replaces both everywhere.
//!
//! The catalog still never points at a missing block: the mesh fetches a
//! manifest's blocks first, and `ingest` refuses a manifest whose blocks
//! are not all here.

use std::collections::BTreeSet;

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::files::{COLUMNS, FileVersion};
use super::{VaultError, Vaults, paths, wrap_key};
use crate::identity::crypto;
use crate::store::{BlockId, BlockStore};
use crate::time::now_ms;

const AD_MANIFEST: &str = "holdfast/manifest/v1";

/// A sealed version as it travels between nodes.
#[derive(Debug, Clone)]
pub struct SealedVersion {
    pub id: String,
    pub blocks: Vec<BlockId>,
    /// Bytes of the sealed blocks (what a holder stores).
    pub sealed_bytes: u64,
    pub sealed: Vec<u8>,
}

/// What only key holders see of a version.
#[derive(Serialize, Deserialize)]
struct Record {
    path: String,
    content_hash: String,
    size: u64,
    block_sizes: Vec<u64>,
    parents: Vec<String>,
    deleted: bool,
    created_ms: i64,
    origin: Option<String>,
    /// The S3 view of the version (ETag, content headers, user metadata,
    /// checksum), when S3 wrote it: sealed with the rest, so other devices
    /// serve the object as it was written. Older peers ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s3: Option<S3Row>,
}

/// A `s3_object_meta` row as it travels (its JSON columns verbatim).
#[derive(Serialize, Deserialize)]
struct S3Row {
    etag: String,
    headers: String,
    user_meta: String,
    checksums: String,
}

impl S3Row {
    /// Bounded, so a peer cannot make rows of any size.
    fn valid(&self) -> bool {
        self.etag.len() <= 128
            && self.headers.len() <= 16 * 1024
            && self.user_meta.len() <= 16 * 1024
            && self.checksums.len() <= 16 * 1024
    }
}

/// What a share URL carries of a vault.
pub struct ShareMaterial {
    pub name: String,
    pub key_hex: String,
    pub rf_target: u32,
}

/// A version that became (or stopped being) the head of its path here.
#[derive(Debug, Clone)]
pub struct Arrived {
    pub path: String,
    pub content_hash: String,
    pub size: u64,
    pub deleted: bool,
}

fn ad(vault_id: &str, id: &str, blocks: &[BlockId]) -> Vec<u8> {
    let mut ad = format!("{AD_MANIFEST}\0{vault_id}\0{id}\0").into_bytes();
    for b in blocks {
        ad.extend_from_slice(&b.0);
    }
    ad
}

fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A digest of a set of version ids: equal sets, equal digests.
pub fn digest<'a>(ids: impl IntoIterator<Item = &'a String>) -> String {
    let sorted: BTreeSet<&String> = ids.into_iter().collect();
    let mut h = blake3::Hasher::new();
    for id in sorted {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    h.finalize().to_hex()[..16].to_owned()
}

impl Vaults {
    /// The block store (the mesh serves and fills it).
    pub fn block_store(&self) -> &BlockStore {
        &self.blocks
    }

    /// Whether this node holds the vault (with its key).
    pub async fn exists(&self, vault_id: &str) -> Result<bool, VaultError> {
        let vid = vault_id.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                c.prepare_cached("SELECT 1 FROM vaults WHERE id = ?1")?
                    .exists([vid])
            })
            .await?)
    }

    /// Whether the vault's key can be used now (identity unlocked, and the
    /// vault's own password entered if it has one).
    pub async fn key_available(&self, vault_id: &str) -> bool {
        self.plain_key(vault_id).await.is_ok()
    }

    /// Ids of every version of a vault.
    pub async fn version_ids(&self, vault_id: &str) -> Result<Vec<String>, VaultError> {
        let vid = vault_id.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare_cached("SELECT id FROM versions WHERE vault_id = ?1")?;
                s.query_map([vid], |r| r.get(0))?.collect()
            })
            .await?)
    }

    async fn manifest_key(&self, vault_id: &str) -> Result<crypto::Key, VaultError> {
        let key = self.plain_key(vault_id).await?;
        Ok(crypto::derive(&key, AD_MANIFEST))
    }

    /// These versions (those that exist), sealed for the wire.
    pub async fn sealed_versions(
        &self,
        vault_id: &str,
        ids: Vec<String>,
    ) -> Result<Vec<SealedVersion>, VaultError> {
        let key = self.manifest_key(vault_id).await?;
        let vid = vault_id.to_owned();
        let rows: Vec<(FileVersion, Option<S3Row>)> = self
            .catalog
            .read(move |c| {
                let mut s = c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM versions WHERE vault_id = ?1 AND id = ?2"
                ))?;
                let mut m = c.prepare_cached(
                    "SELECT etag, headers, user_meta, checksums FROM s3_object_meta WHERE version_id = ?1",
                )?;
                let mut out = Vec::new();
                for id in ids {
                    if let Some(v) = s
                        .query_row([&vid, &id], super::files::from_row)
                        .optional()?
                    {
                        let s3 = m
                            .query_row([&id], |r| {
                                Ok(S3Row {
                                    etag: r.get(0)?,
                                    headers: r.get(1)?,
                                    user_meta: r.get(2)?,
                                    checksums: r.get(3)?,
                                })
                            })
                            .optional()?;
                        out.push((v, s3));
                    }
                }
                Ok(out)
            })
            .await?;
        let store = self.blocks.clone();
        let mut out = Vec::with_capacity(rows.len());
        for (v, s3) in rows {
            let blocks = v.block_ids()?;
            let sealed_bytes = blocks.iter().filter_map(|b| store.size(b)).sum();
            let record = Record {
                path: v.path,
                content_hash: v.content_hash,
                size: v.size,
                block_sizes: v.block_sizes,
                parents: v.parents,
                deleted: v.deleted,
                created_ms: v.created_ms,
                origin: v.origin,
                s3,
            };
            let plain = serde_json::to_vec(&record).expect("plain data serialises");
            let sealed = crypto::seal(&key, &plain, &ad(vault_id, &v.id, &blocks));
            out.push(SealedVersion {
                id: v.id,
                blocks,
                sealed_bytes,
                sealed,
            });
        }
        Ok(out)
    }

    /// Take in versions from a peer. Each must open under the vault key,
    /// name a clean path and have all its blocks here; versions already
    /// known are skipped. Returns the paths whose heads changed, with their
    /// newest head. A hard quota is checked as for uploads.
    pub async fn ingest(
        &self,
        vault_id: &str,
        incoming: Vec<SealedVersion>,
    ) -> Result<Vec<Arrived>, VaultError> {
        let key = self.manifest_key(vault_id).await?;
        let vault = self.settings(vault_id).await?;
        let mut rows = Vec::with_capacity(incoming.len());
        for m in incoming {
            if !valid_id(&m.id) {
                return Err(VaultError::Invalid(
                    "a peer sent a malformed version id".into(),
                ));
            }
            let plain = crypto::open(&key, &m.sealed, &ad(vault_id, &m.id, &m.blocks)).ok_or_else(
                || {
                    VaultError::Invalid(
                        "a peer's manifest does not open under the vault key".into(),
                    )
                },
            )?;
            let r: Record = serde_json::from_slice(&plain)
                .map_err(|_| VaultError::Invalid("a peer's manifest does not parse".into()))?;
            let path = paths::normalize(&r.path).map_err(VaultError::Invalid)?;
            let sizes_ok = r.block_sizes.len() == m.blocks.len()
                && r.block_sizes.iter().sum::<u64>() == r.size
                && r.parents.len() <= 256
                && r.parents.iter().all(|p| valid_id(p));
            if !sizes_ok
                || (r.deleted && !m.blocks.is_empty())
                || r.s3.as_ref().is_some_and(|s3| !s3.valid())
            {
                return Err(VaultError::Invalid(
                    "a peer's manifest is inconsistent".into(),
                ));
            }
            if let Some(missing) = m.blocks.iter().find(|b| !self.blocks.has(b)) {
                return Err(VaultError::Invalid(format!(
                    "block {} of an arriving version is not here yet",
                    missing.to_hex()
                )));
            }
            rows.push((m, r, path));
        }
        let vid = vault_id.to_owned();
        let quota = vault.hard_quota;
        let changed = self
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                let mut touched = BTreeSet::new();
                for (m, r, path) in rows {
                    let known: bool = tx
                        .prepare_cached("SELECT 1 FROM versions WHERE id = ?1")?
                        .exists([&m.id])?;
                    if known {
                        continue;
                    }
                    let blob: Vec<u8> = m.blocks.iter().flat_map(|b| b.0).collect();
                    tx.prepare_cached(&format!(
                        "INSERT INTO versions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                    ))?
                    .execute(rusqlite::params![
                        m.id,
                        vid,
                        path,
                        r.content_hash,
                        r.size as i64,
                        blob,
                        serde_json::to_string(&r.block_sizes).expect("numbers"),
                        serde_json::to_string(&r.parents).expect("strings"),
                        r.deleted,
                        r.created_ms,
                        r.origin
                    ])?;
                    if let Some(s3) = &r.s3 {
                        tx.prepare_cached(
                            "INSERT OR REPLACE INTO s3_object_meta (version_id, etag, headers, user_meta, checksums)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                        )?
                        .execute(rusqlite::params![m.id, s3.etag, s3.headers, s3.user_meta, s3.checksums])?;
                    }
                    touched.insert(path);
                }
                let mut arrived = Vec::new();
                for path in &touched {
                    recompute_heads(&tx, &vid, path)?;
                    let head: Option<(String, i64, bool)> = tx
                        .query_row(
                            "SELECT v.content_hash, v.size, v.deleted FROM heads h JOIN versions v ON v.id = h.version_id
                             WHERE h.vault_id = ?1 AND h.path = ?2 ORDER BY v.created_ms DESC, v.rowid DESC LIMIT 1",
                            [&vid, path],
                            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                        )
                        .optional()?;
                    if let Some((content_hash, size, deleted)) = head {
                        arrived.push(Arrived {
                            path: path.clone(),
                            content_hash,
                            size: size as u64,
                            deleted,
                        });
                    }
                }
                if let Some(q) = quota {
                    let used: i64 = tx.query_row(
                        "SELECT COALESCE(SUM(x.size), 0) FROM heads h JOIN versions x ON x.id = h.version_id
                         WHERE h.vault_id = ?1 AND x.deleted = 0",
                        [&vid],
                        |r| r.get(0),
                    )?;
                    if used as u64 > q {
                        // Roll back: nothing of this batch is kept.
                        return Ok(Err((q, used as u64)));
                    }
                }
                tx.commit()?;
                Ok(Ok(arrived))
            })
            .await?;
        changed.map_err(|(hard_quota, would_be_size)| VaultError::Quota {
            vault_id: vault_id.to_owned(),
            hard_quota,
            would_be_size,
        })
    }

    /// What a share URL needs: name, key, target.
    pub async fn share_material(&self, vault_id: &str) -> Result<ShareMaterial, VaultError> {
        let v = self.settings(vault_id).await?;
        let key = self.plain_key(vault_id).await?;
        Ok(ShareMaterial {
            name: v.name,
            key_hex: hex::encode(key.as_ref()),
            rf_target: v.rf_target,
        })
    }

    /// Adopt a vault shared by URL: its id and key, under our identity. A
    /// vault already here answers as it is; a name taken here gets a suffix.
    pub async fn adopt(
        &self,
        vault_id: &str,
        name: &str,
        key_hex: &str,
        rf_target: u32,
    ) -> Result<super::Vault, VaultError> {
        if !valid_id(vault_id) {
            return Err(VaultError::Invalid(
                "the share's vault id is malformed".into(),
            ));
        }
        let raw = hex::decode(key_hex)
            .ok()
            .filter(|k| k.len() == 32)
            .ok_or_else(|| VaultError::Invalid("the share's vault key is malformed".into()))?;
        if let Ok(v) = self.get(vault_id).await {
            return Ok(v);
        }
        let wrap = self.identity.vault_wrap_key()?;
        let wrapped = wrap_key(&wrap, vault_id, &raw);
        let rf = rf_target.clamp(1, 16);
        let base = super::validate_name(name).unwrap_or_else(|_| "Shared vault".into());
        let vid = vault_id.to_owned();
        self.catalog
            .write(move |c| {
                for n in 0..100 {
                    let name = if n == 0 { base.clone() } else { format!("{base} ({})", n + 1) };
                    let done = c.execute(
                        "INSERT OR IGNORE INTO vaults (id, name, wrapped_key, rf_target, hard_quota, created_ms)
                         VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
                        rusqlite::params![vid, name, wrapped, rf, now_ms()],
                    )?;
                    if done > 0 {
                        break;
                    }
                }
                Ok(())
            })
            .await?;
        self.get(vault_id).await
    }
}

/// Heads of a path: its versions that no version of the path names as a
/// parent.
fn recompute_heads(tx: &rusqlite::Connection, vault_id: &str, path: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM heads WHERE vault_id = ?1 AND path = ?2")?
        .execute([vault_id, path])?;
    tx.prepare_cached(
        "INSERT INTO heads (vault_id, path, version_id)
         SELECT v.vault_id, v.path, v.id FROM versions v
         WHERE v.vault_id = ?1 AND v.path = ?2 AND NOT EXISTS (
            SELECT 1 FROM versions c, json_each(c.parents) p
            WHERE c.vault_id = ?1 AND c.path = ?2 AND p.value = v.id)",
    )?
    .execute([vault_id, path])?;
    Ok(())
}
