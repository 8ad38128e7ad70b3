//! `holdfast fsck`: verify every stored block against its hash and every
//! version's manifest against the blocks it names. Works from the catalog
//! and the block directory alone (no key needed: block ids are hashes of
//! the sealed bytes), so it can run while the identity is locked.

use std::collections::HashSet;

use serde::Serialize;

use crate::store::{BlockId, BlockStore, blocks::BlockError};

#[derive(Debug, thiserror::Error)]
pub enum FsckError {
    #[error("catalog: {0}")]
    Catalog(#[from] rusqlite::Error),
    #[error("block store: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Default, Serialize)]
pub struct FsckReport {
    pub blocks_checked: u64,
    pub versions_checked: u64,
    /// Blocks whose bytes no longer match their id.
    pub damaged_blocks: Vec<String>,
    /// (vault, path, version, block) for blocks a version names but the
    /// store lacks.
    pub missing: Vec<MissingBlock>,
    /// Stored blocks no version names (reclaimable; not damage).
    pub unreferenced_blocks: u64,
}

#[derive(Debug, Serialize)]
pub struct MissingBlock {
    pub vault_id: String,
    pub path: String,
    pub version_id: String,
    pub block: String,
}

impl FsckReport {
    pub fn is_clean(&self) -> bool {
        self.damaged_blocks.is_empty() && self.missing.is_empty()
    }
}

/// Blocking: run it on a blocking thread.
pub fn check(catalog_path: &std::path::Path, store: &BlockStore) -> Result<FsckReport, FsckError> {
    let conn = rusqlite::Connection::open_with_flags(
        catalog_path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let mut report = FsckReport::default();
    let mut referenced: HashSet<BlockId> = HashSet::new();
    let mut stmt = conn.prepare("SELECT id, vault_id, path, blocks FROM versions")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Vec<u8>>(3)?,
        ))
    })?;
    let mut damaged: HashSet<BlockId> = HashSet::new();
    for row in rows {
        let (version_id, vault_id, path, blob) = row?;
        report.versions_checked += 1;
        for raw in blob.chunks(32) {
            let Ok(bytes) = <[u8; 32]>::try_from(raw) else {
                continue;
            };
            let id = BlockId(bytes);
            if !referenced.insert(id) {
                continue; // checked already
            }
            match store.get(&id) {
                Ok(_) => {}
                Err(BlockError::Damaged(_)) => {
                    damaged.insert(id);
                }
                Err(_) => report.missing.push(MissingBlock {
                    vault_id: vault_id.clone(),
                    path: path.clone(),
                    version_id: version_id.clone(),
                    block: id.to_hex(),
                }),
            }
        }
    }
    let stored = store.ids()?;
    for id in stored {
        report.blocks_checked += 1;
        if !referenced.contains(&id) {
            report.unreferenced_blocks += 1;
            if matches!(store.get(&id), Err(BlockError::Damaged(_))) {
                damaged.insert(id);
            }
        }
    }
    report.damaged_blocks = damaged.iter().map(BlockId::to_hex).collect();
    report.damaged_blocks.sort();
    Ok(report)
}
