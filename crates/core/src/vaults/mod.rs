//! Trusted vaults: named collections of files stored as sealed blocks. Each
//! vault has its own random key, stored sealed under a key derived from the
//! identity's master key, so vault content is readable only while the
//! identity is unlocked (stored ciphertext stays intact while locked).

mod files;
pub mod fsck;
mod gc;
mod group;
mod lock;
mod moves;
pub mod paths;
mod purge;
mod quota;
mod raw;
mod reader;
pub mod remote;
mod stats;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::catalog::{Catalog, CatalogError};
use crate::identity::{Identity, IdentityError, crypto};
use crate::store::BlockStore;
use crate::store::blocks::BlockError;
use crate::store::seal::ChunkKeys;
use crate::time::now_ms;

pub use files::{Extra, FileVersion, Parents, PendingUpload, ReadPlan, StoredBlocks, origin};
pub use gc::{BlockPins, GcReport};
pub use moves::Moved;
pub use reader::VersionReader;
pub use stats::{Analytics, Consumer, DayUsage, TypeUsage, validate_alias as validate_s3_alias};

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
    /// Live files with more than one head (a conflict waiting for a choice).
    pub conflict_count: u64,
    /// The local folder this vault mirrors, if any.
    pub folder: Option<String>,
    /// Role flag: refuse every change (uploads, deletes, restores, folder
    /// ingest); reading and write-back to the folder go on.
    pub read_only: bool,
    /// Role flag: keep every block of this vault on this device (the mesh's
    /// eviction skips it; on one node every block is local anyway).
    pub pinned: bool,
    /// Folder sync is paused: local edits wait, and so does write-back.
    pub sync_paused: bool,
    /// The vault has its own password on top of the identity's.
    pub password_protected: bool,
}

/// Optional changes to a vault (`None` keeps the current value).
#[derive(Debug, Default)]
pub struct VaultPatch {
    pub name: Option<String>,
    /// `Some(None)` removes the quota.
    pub hard_quota: Option<Option<u64>>,
    pub rf_target: Option<u32>,
    pub retention_days: Option<u32>,
    pub read_only: Option<bool>,
    pub pinned: Option<bool>,
    pub sync_paused: Option<bool>,
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
    #[error("a file already exists at the target path")]
    TargetExists,
    /// The target path clashes with a folder: files live below it, or a
    /// file sits where one of its folders would be.
    #[error("{0}")]
    PathClash(String),
    #[error("this file has no conflict to resolve")]
    NoConflict,
    #[error("this vault is locked by its password")]
    VaultLocked,
    #[error("this vault is read-only")]
    ReadOnly,
    #[error("wrong password")]
    WrongPassword,
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
    /// Versions waiting for the next group commit.
    committer: group::Committer,
    /// Keys of password-protected vaults unlocked in this session.
    unlocked: Arc<Mutex<HashMap<String, crypto::Key>>>,
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
            committer: group::Committer::default(),
            unlocked: Arc::default(),
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
        let wrapped = wrap_key(&wrap, &id, key.as_ref());
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

    /// Every vault, by name (one query).
    pub async fn list(&self) -> Result<Vec<Vault>, VaultError> {
        let sql = select_vaults(true, "ORDER BY v.name");
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(&sql)?;
                s.query_map([], vault_from_row)?.collect()
            })
            .await?)
    }

    pub async fn get(&self, id: &str) -> Result<Vault, VaultError> {
        self.fetch(id, true).await
    }

    /// The vault's settings without its byte and file counts (left 0),
    /// which cost a pass over all its files: for the per-file paths.
    pub(crate) async fn settings(&self, id: &str) -> Result<Vault, VaultError> {
        self.fetch(id, false).await
    }

    /// Bytes of the vault's live files.
    pub(crate) async fn used_bytes(&self, id: &str) -> Result<u64, VaultError> {
        let id = id.to_owned();
        let used: i64 = self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT COALESCE(SUM(x.size), 0) FROM heads h JOIN versions x ON x.id = h.version_id
                     WHERE h.vault_id = ?1 AND x.deleted = 0",
                    [id],
                    |r| r.get(0),
                )
            })
            .await?;
        Ok(used as u64)
    }

    async fn fetch(&self, id: &str, counts: bool) -> Result<Vault, VaultError> {
        let (id, sql) = (id.to_owned(), select_vaults(counts, "WHERE v.id = ?1"));
        let vault = self
            .catalog
            .read(move |c| c.query_row(&sql, [id], vault_from_row).optional())
            .await?;
        vault.ok_or(VaultError::NotFound)
    }

    /// Change name, quota, replication target, retention or role flags.
    pub async fn patch(&self, id: &str, patch: VaultPatch) -> Result<Vault, VaultError> {
        let current = self.get(id).await?;
        let name = match patch.name {
            Some(n) => validate_name(&n)?,
            None => current.name,
        };
        let rf = patch.rf_target.unwrap_or(current.rf_target);
        if !(1..=16).contains(&rf) {
            return Err(VaultError::Invalid("rf_target must be 1 to 16".into()));
        }
        let quota = patch.hard_quota.unwrap_or(current.hard_quota);
        let retention = patch.retention_days.unwrap_or(current.retention_days);
        let read_only = patch.read_only.unwrap_or(current.read_only);
        let pinned = patch.pinned.unwrap_or(current.pinned);
        let sync_paused = patch.sync_paused.unwrap_or(current.sync_paused);
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
                    "UPDATE OR IGNORE vaults SET name = ?2, rf_target = ?3, hard_quota = ?4, retention_days = ?5,
                        read_only = ?6, pinned = ?7, sync_paused = ?8
                     WHERE id = ?1",
                    rusqlite::params![vid, name, rf, quota.map(|q| q as i64), retention, read_only, pinned, sync_paused],
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
        self.unlocked_keys().remove(id);
        Ok(())
    }

    /// The vault, if changes to it are allowed.
    /// (Settings only: byte and file counts are 0.)
    pub(crate) async fn writable(&self, id: &str) -> Result<Vault, VaultError> {
        let v = self.settings(id).await?;
        if v.read_only {
            return Err(VaultError::ReadOnly);
        }
        Ok(v)
    }

    /// The vault's chunk keys (unlocked identity, and unlocked vault
    /// password if it has one).
    async fn keys(&self, id: &str) -> Result<Arc<ChunkKeys>, VaultError> {
        let key = self.plain_key(id).await?;
        Ok(Arc::new(ChunkKeys::new(&key)))
    }

    /// The vault's own key, however it is stored.
    async fn plain_key(&self, id: &str) -> Result<crypto::Key, VaultError> {
        let (wrapped, kdf) = self.wrapped_key(id).await?;
        let wrap = self.identity.vault_wrap_key()?;
        if kdf.is_some() {
            return self
                .unlocked_keys()
                .get(id)
                .cloned()
                .ok_or(VaultError::VaultLocked);
        }
        unwrap_key(&wrap, id, &wrapped)
    }

    /// The stored (wrapped) key and, for a password vault, its KDF params.
    async fn wrapped_key(
        &self,
        id: &str,
    ) -> Result<(Vec<u8>, Option<crypto::KdfParams>), VaultError> {
        let vid = id.to_owned();
        let row: Option<(Vec<u8>, Option<String>)> = self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT wrapped_key, password_kdf FROM vaults WHERE id = ?1",
                    [vid],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
            })
            .await?;
        let (wrapped, kdf) = row.ok_or(VaultError::NotFound)?;
        let kdf = kdf
            .map(|k| serde_json::from_str(&k))
            .transpose()
            .map_err(|_| VaultError::Corrupt("vault password parameters".into()))?;
        Ok((wrapped, kdf))
    }

    fn unlocked_keys(&self) -> std::sync::MutexGuard<'_, HashMap<String, crypto::Key>> {
        self.unlocked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forget every unlocked vault password (the identity locked).
    pub fn forget_unlocked(&self) {
        self.unlocked_keys().clear();
    }
}

/// The query behind `Vault`s; without `counts`, byte, file and conflict
/// counts (a pass over the vault's heads) are left 0. A conflict is a path
/// with a live head and another head: the `EXISTS` is a lookup in the
/// `heads` primary key, so counting adds no pass of its own.
pub(super) fn select_vaults(counts: bool, tail: &str) -> String {
    let counts = if counts {
        "(SELECT COALESCE(SUM(x.size), 0) FROM heads h JOIN versions x ON x.id = h.version_id
          WHERE h.vault_id = v.id AND x.deleted = 0),
         (SELECT COUNT(DISTINCT h.path) FROM heads h JOIN versions x ON x.id = h.version_id
          WHERE h.vault_id = v.id AND x.deleted = 0),
         (SELECT COUNT(DISTINCT h.path) FROM heads h JOIN versions x ON x.id = h.version_id
          WHERE h.vault_id = v.id AND x.deleted = 0 AND EXISTS (
            SELECT 1 FROM heads o WHERE o.vault_id = h.vault_id AND o.path = h.path
              AND o.version_id != h.version_id))"
    } else {
        "0, 0, 0"
    };
    format!(
        "SELECT v.id, v.name, v.rf_target, v.hard_quota, v.created_ms, v.retention_days,
            v.folder, v.read_only, v.pinned, v.password_kdf IS NOT NULL, v.sync_paused, {counts}
         FROM vaults v {tail}"
    )
}

pub(super) fn vault_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Vault> {
    Ok(Vault {
        id: r.get(0)?,
        name: r.get(1)?,
        rf_target: r.get(2)?,
        hard_quota: r.get::<_, Option<i64>>(3)?.map(|q| q as u64),
        created_ms: r.get(4)?,
        retention_days: r.get(5)?,
        folder: r.get(6)?,
        read_only: r.get(7)?,
        pinned: r.get(8)?,
        password_protected: r.get(9)?,
        sync_paused: r.get(10)?,
        byte_count: r.get::<_, i64>(11)? as u64,
        file_count: r.get::<_, i64>(12)? as u64,
        conflict_count: r.get::<_, i64>(13)? as u64,
    })
}

/// Seal a vault's key material under `wrap` for vault `id`.
fn wrap_key(wrap: &[u8; 32], id: &str, material: &[u8]) -> Vec<u8> {
    crypto::seal(wrap, material, format!("{AD_VAULT_KEY}\0{id}").as_bytes())
}

/// Open key material sealed under `wrap` for vault `id`: the key itself,
/// or for a password vault the key sealed under its password.
fn unwrap_material(
    wrap: &[u8; 32],
    id: &str,
    wrapped: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, VaultError> {
    crypto::open(wrap, wrapped, format!("{AD_VAULT_KEY}\0{id}").as_bytes())
        .ok_or_else(|| VaultError::Corrupt("vault key does not open".into()))
}

/// Open a vault key sealed under `wrap` for vault `id`.
fn unwrap_key(wrap: &[u8; 32], id: &str, wrapped: &[u8]) -> Result<crypto::Key, VaultError> {
    to_key(&unwrap_material(wrap, id, wrapped)?)
}

fn to_key(bytes: &[u8]) -> Result<crypto::Key, VaultError> {
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|_| VaultError::Corrupt("vault key length".into()))?;
    Ok(zeroize::Zeroizing::new(key))
}
