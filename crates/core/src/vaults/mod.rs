//! Trusted vaults: named collections of files stored as sealed blocks. Each
//! vault has its own random key, stored sealed under a key derived from the
//! identity's master key, so vault content is readable only while the
//! identity is unlocked (stored ciphertext stays intact while locked).

mod files;
pub mod fsck;
mod gc;
pub mod paths;
mod stats;

use std::sync::Arc;

use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::catalog::{Catalog, CatalogError};
use crate::identity::{Identity, IdentityError, crypto};
use crate::store::BlockStore;
use crate::store::blocks::BlockError;
use crate::store::seal::ChunkKeys;
use crate::time::now_ms;

pub use files::{FileVersion, ReadPlan};
pub use gc::GcReport;
pub use stats::{Analytics, Consumer, DayUsage, TypeUsage};

/// Bodies of one upload are capped here (the spec's 50 GiB).
pub const MAX_UPLOAD_BYTES: u64 = 50 * 1024 * 1024 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct Vault {
    pub id: String,
    pub name: String,
    pub rf_target: u32,
    pub hard_quota: Option<u64>,
    /// Days old versions and tombstones stay restorable.
    pub retention_days: u32,
    pub created_ms: i64,
    /// Bytes of the live (head, not deleted) files.
    pub byte_count: u64,
    pub file_count: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no such vault")]
    NotFound,
    #[error("a vault with this name exists")]
    NameTaken,
    #[error("{0}")]
    Invalid(String),
    #[error("vault quota exceeded")]
    Quota {
        vault_id: String,
        hard_quota: u64,
        would_be_size: u64,
    },
    #[error("no such file")]
    FileNotFound,
    #[error("no such version of this file")]
    VersionNotFound,
    #[error("this file has no conflict to resolve")]
    NoConflict,
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Block(#[from] BlockError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored vault data is damaged: {0}")]
    Corrupt(String),
}

#[derive(Clone)]
pub struct Vaults {
    catalog: Catalog,
    identity: Arc<Identity>,
    blocks: BlockStore,
    /// Blocks in-flight uploads have written or reused but not committed:
    /// garbage collection must not take them.
    pins: gc::Pins,
}

const AD_VAULT_KEY: &str = "holdfast/vault-key/v1";

fn validate_name(name: &str) -> Result<String, VaultError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(VaultError::Invalid(
            "name must be 1-100 printable characters".into(),
        ));
    }
    Ok(name.to_owned())
}

impl Vaults {
    pub fn new(catalog: Catalog, identity: Arc<Identity>, blocks: BlockStore) -> Self {
        Self {
            catalog,
            identity,
            blocks,
            pins: gc::Pins::default(),
        }
    }

    /// Create a trusted vault (the identity must be unlocked to wrap its key).
    pub async fn create(
        &self,
        name: &str,
        hard_quota: Option<u64>,
        rf_target: Option<u32>,
    ) -> Result<Vault, VaultError> {
        let name = validate_name(name)?;
        let rf = rf_target.unwrap_or(1);
        if !(1..=16).contains(&rf) {
            return Err(VaultError::Invalid("rf_target must be 1 to 16".into()));
        }
        let wrap = self.identity.vault_wrap_key()?;
        let id = hex::encode(crypto::random_bytes::<16>());
        let key = crypto::random_key();
        let wrapped = crypto::seal(
            &wrap,
            key.as_ref(),
            format!("{AD_VAULT_KEY}\0{id}").as_bytes(),
        );
        let (vid, n) = (id.clone(), name.clone());
        let inserted = self
            .catalog
            .write(move |c| {
                c.execute(
                    "INSERT OR IGNORE INTO vaults (id, name, wrapped_key, rf_target, hard_quota, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    rusqlite::params![vid, n, wrapped, rf, hard_quota.map(|q| q as i64), now_ms()],
                )
            })
            .await?;
        if inserted == 0 {
            return Err(VaultError::NameTaken);
        }
        self.get(&id).await
    }

    pub async fn list(&self) -> Result<Vec<Vault>, VaultError> {
        let ids: Vec<String> = self
            .catalog
            .read(|c| {
                let mut s = c.prepare("SELECT id FROM vaults ORDER BY name")?;
                s.query_map([], |r| r.get(0))?.collect()
            })
            .await?;
        let mut out = Vec::new();
        for id in ids {
            out.push(self.get(&id).await?);
        }
        Ok(out)
    }

    pub async fn get(&self, id: &str) -> Result<Vault, VaultError> {
        let id = id.to_owned();
        let vault = self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT v.id, v.name, v.rf_target, v.hard_quota, v.created_ms, v.retention_days,
                        (SELECT COALESCE(SUM(x.size), 0) FROM heads h JOIN versions x ON x.id = h.version_id
                         WHERE h.vault_id = v.id AND x.deleted = 0),
                        (SELECT COUNT(DISTINCT h.path) FROM heads h JOIN versions x ON x.id = h.version_id
                         WHERE h.vault_id = v.id AND x.deleted = 0)
                     FROM vaults v WHERE v.id = ?1",
                    [id],
                    |r| {
                        Ok(Vault {
                            id: r.get(0)?,
                            name: r.get(1)?,
                            rf_target: r.get(2)?,
                            hard_quota: r.get::<_, Option<i64>>(3)?.map(|q| q as u64),
                            created_ms: r.get(4)?,
                            retention_days: r.get(5)?,
                            byte_count: r.get::<_, i64>(6)? as u64,
                            file_count: r.get::<_, i64>(7)? as u64,
                        })
                    },
                )
                .optional()
            })
            .await?;
        vault.ok_or(VaultError::NotFound)
    }

    /// Change name, quota (Some(None) removes it) or replication target.
    pub async fn patch(
        &self,
        id: &str,
        name: Option<&str>,
        hard_quota: Option<Option<u64>>,
        rf_target: Option<u32>,
        retention_days: Option<u32>,
    ) -> Result<Vault, VaultError> {
        let current = self.get(id).await?;
        let name = match name {
            Some(n) => validate_name(n)?,
            None => current.name,
        };
        let rf = rf_target.unwrap_or(current.rf_target);
        if !(1..=16).contains(&rf) {
            return Err(VaultError::Invalid("rf_target must be 1 to 16".into()));
        }
        let quota = hard_quota.unwrap_or(current.hard_quota);
        let retention = retention_days.unwrap_or(current.retention_days);
        if retention > 3650 {
            return Err(VaultError::Invalid(
                "retention_days must be 0 to 3650".into(),
            ));
        }
        let vid = id.to_owned();
        let changed = self
            .catalog
            .write(move |c| {
                c.execute(
                    "UPDATE OR IGNORE vaults SET name = ?2, rf_target = ?3, hard_quota = ?4, retention_days = ?5
                     WHERE id = ?1",
                    rusqlite::params![vid, name, rf, quota.map(|q| q as i64), retention],
                )
            })
            .await?;
        if changed == 0 {
            return Err(VaultError::NameTaken);
        }
        self.get(id).await
    }

    /// Untrust: forget the vault and its catalog. Blocks stay until garbage
    /// collection reclaims them.
    pub async fn delete(&self, id: &str) -> Result<(), VaultError> {
        let vid = id.to_owned();
        let n = self
            .catalog
            .write(move |c| c.execute("DELETE FROM vaults WHERE id = ?1", [vid]))
            .await?;
        if n == 0 {
            return Err(VaultError::NotFound);
        }
        Ok(())
    }

    /// The vault's chunk keys (unlocked identity only).
    async fn keys(&self, id: &str) -> Result<Arc<ChunkKeys>, VaultError> {
        let vid = id.to_owned();
        let wrapped: Option<Vec<u8>> = self
            .catalog
            .read(move |c| {
                c.query_row("SELECT wrapped_key FROM vaults WHERE id = ?1", [vid], |r| {
                    r.get(0)
                })
                .optional()
            })
            .await?;
        let wrapped = wrapped.ok_or(VaultError::NotFound)?;
        let wrap = self.identity.vault_wrap_key()?;
        let key = crypto::open(&wrap, &wrapped, format!("{AD_VAULT_KEY}\0{id}").as_bytes())
            .ok_or_else(|| VaultError::Corrupt("vault key does not open".into()))?;
        let key: [u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::Corrupt("vault key length".into()))?;
        Ok(Arc::new(ChunkKeys::new(&key)))
    }
}
