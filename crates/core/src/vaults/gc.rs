//! Garbage collection: drop versions older than their vault's retention
//! window (old non-head versions, and files tombstoned that long ago), then
//! free every stored block no remaining version names (including the blocks
//! of untrusted vaults and of uploads that never committed).
//!
//! Uploads pin each block they write or reuse until their catalog commit, and
//! the collector deletes a block only while holding the pin lock and seeing
//! it unpinned; an upload that pins after a deletion finds the block missing
//! and writes it again. So a commit never names a block the collector took.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::{VaultError, Vaults};
use crate::store::BlockId;
use crate::time::now_ms;

const DAY_MS: i64 = 86_400_000;

#[derive(Clone, Default)]
pub(super) struct Pins(Arc<Mutex<HashMap<BlockId, usize>>>);

impl Pins {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<BlockId, usize>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn pin(&self, id: BlockId) {
        *self.lock().entry(id).or_default() += 1;
    }

    fn unpin(&self, id: &BlockId) {
        let mut map = self.lock();
        if let Some(n) = map.get_mut(id) {
            *n -= 1;
            if *n == 0 {
                map.remove(id);
            }
        }
    }
}

/// Unpins an upload's blocks however the upload ends (including when its
/// client disconnects and the future is dropped).
pub(super) struct PinGuard {
    pins: Pins,
    pub(super) ids: Arc<Mutex<Vec<BlockId>>>,
}

impl PinGuard {
    pub(super) fn new(pins: &Pins) -> Self {
        Self {
            pins: pins.clone(),
            ids: Arc::default(),
        }
    }
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        for id in self.ids.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            self.pins.unpin(id);
        }
    }
}

/// Blocks pinned against garbage collection while a peer's versions
/// arrive: from before their blocks are looked for until the versions
/// naming them are recorded (or the attempt ends).
pub struct BlockPins(#[allow(dead_code)] PinGuard);

impl BlockPins {
    pub(super) fn from_guard(guard: PinGuard) -> Self {
        Self(guard)
    }
}

impl Vaults {
    /// Pin `ids` until the returned guard drops.
    pub fn pin_blocks(&self, ids: &[BlockId]) -> BlockPins {
        let guard = PinGuard::new(&self.pins);
        for id in ids {
            self.pins.pin(*id);
        }
        guard
            .ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(ids);
        BlockPins(guard)
    }
}

/// Delete those of `ids` no upload has pinned, deciding under the pin lock.
/// Returns (blocks, bytes) freed. Blocking.
pub(super) fn delete_unpinned(
    store: &crate::store::BlockStore,
    pins: &Pins,
    ids: impl IntoIterator<Item = BlockId>,
) -> std::io::Result<(u64, u64)> {
    let (mut n, mut bytes) = (0, 0);
    for id in ids {
        let pinned = pins.lock();
        if pinned.contains_key(&id) {
            continue;
        }
        let size = store.size(&id);
        store.delete(&id)?;
        drop(pinned);
        if let Some(size) = size {
            n += 1;
            bytes += size;
        }
    }
    Ok((n, bytes))
}

#[derive(Debug, Default, Serialize)]
pub struct GcReport {
    pub versions_pruned: u64,
    pub files_purged: u64,
    pub blocks_freed: u64,
    pub bytes_freed: u64,
}

impl Vaults {
    pub async fn collect_garbage(&self) -> Result<GcReport, VaultError> {
        let now = now_ms();
        let (versions_pruned, files_purged) = self
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                // Files whose only head is a tombstone older than retention.
                let purged = tx.execute(
                    "DELETE FROM versions WHERE (vault_id, path) IN (
                        SELECT h.vault_id, h.path FROM heads h
                        JOIN versions v ON v.id = h.version_id
                        JOIN vaults w ON w.id = h.vault_id
                        WHERE v.deleted = 1 AND v.created_ms < ?1 - w.retention_days * ?2
                          AND (SELECT COUNT(*) FROM heads h2
                               WHERE h2.vault_id = h.vault_id AND h2.path = h.path) = 1)",
                    rusqlite::params![now, DAY_MS],
                )?;
                // Old versions that are no longer anyone's head.
                let pruned = tx.execute(
                    "DELETE FROM versions WHERE id NOT IN (SELECT version_id FROM heads)
                       AND created_ms < ?1 - (SELECT retention_days FROM vaults
                                              WHERE vaults.id = versions.vault_id) * ?2",
                    rusqlite::params![now, DAY_MS],
                )?;
                tx.commit()?;
                Ok((pruned as u64, purged as u64))
            })
            .await?;
        let referenced: HashSet<BlockId> = self
            .catalog
            .read(|c| {
                // Blocks held for replica vaults (no key here), the parts of S3
                // multipart uploads in progress and hub attachments count as
                // referenced too.
                let mut s = c.prepare(
                    "SELECT blocks FROM versions UNION ALL SELECT blocks FROM replica_manifests
                     UNION ALL SELECT blocks FROM s3_parts
                     UNION ALL SELECT blocks FROM hub_attachments",
                )?;
                let mut set = HashSet::new();
                for blob in s.query_map([], |r| r.get::<_, Vec<u8>>(0))? {
                    for raw in blob?.chunks(32) {
                        if let Ok(b) = <[u8; 32]>::try_from(raw) {
                            set.insert(BlockId(b));
                        }
                    }
                }
                Ok(set)
            })
            .await?;
        let (store, pins) = (self.blocks.clone(), self.pins.clone());
        let (blocks_freed, bytes_freed) = tokio::task::spawn_blocking(move || {
            let unreferenced: Vec<BlockId> = store
                .ids()?
                .into_iter()
                .filter(|id| !referenced.contains(id))
                .collect();
            delete_unpinned(&store, &pins, unreferenced)
        })
        .await
        .map_err(|e| VaultError::Io(std::io::Error::other(e)))??;
        let report = GcReport {
            versions_pruned,
            files_purged,
            blocks_freed,
            bytes_freed,
        };
        tracing::info!(?report, "garbage collection done");
        Ok(report)
    }
}
