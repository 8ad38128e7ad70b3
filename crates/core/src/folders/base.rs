//! The sync base: per path, the state in which the folder and the catalog
//! last agreed (which version, and the file's size and mtime then). Comparing
//! the disk and the catalog each against it tells who changed.

use std::collections::HashMap;

use crate::catalog::{Catalog, CatalogError};
use crate::vaults::paths;

/// A file's size and modification time as the scanner sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stat {
    pub size: u64,
    pub mtime_ns: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Base {
    pub version_id: String,
    /// The file's stat on disk, `None` when the agreed state is "absent".
    pub disk: Option<Stat>,
}

/// A change to the base, written in batches.
pub(super) enum BaseOp {
    Put(String, Base),
    Remove(String),
}

pub(super) async fn load(
    catalog: &Catalog,
    vault_id: &str,
    prefix: &str,
) -> Result<HashMap<String, Base>, CatalogError> {
    let vid = vault_id.to_owned();
    let (under, params) = paths::under_sql("path", prefix, 2);
    catalog
        .read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT path, version_id, present, size, mtime_ns FROM folder_files
                 WHERE vault_id = ?1 AND {under}"
            ))?;
            let row = |r: &rusqlite::Row<'_>| {
                let present: bool = r.get(2)?;
                let stat = Stat {
                    size: r.get::<_, i64>(3)? as u64,
                    mtime_ns: r.get(4)?,
                };
                Ok((
                    r.get(0)?,
                    Base {
                        version_id: r.get(1)?,
                        disk: present.then_some(stat),
                    },
                ))
            };
            let params = std::iter::once(vid).chain(params);
            s.query_map(rusqlite::params_from_iter(params), row)?
                .collect()
        })
        .await
}

/// Apply a batch of changes in one transaction.
pub(super) async fn apply(
    catalog: &Catalog,
    vault_id: &str,
    ops: Vec<BaseOp>,
) -> Result<(), CatalogError> {
    if ops.is_empty() {
        return Ok(());
    }
    let vid = vault_id.to_owned();
    catalog
        .write(move |c| {
            let tx = c.transaction()?;
            for op in ops {
                match op {
                    BaseOp::Put(path, b) => {
                        let stat = b.disk.unwrap_or(Stat {
                            size: 0,
                            mtime_ns: 0,
                        });
                        tx.execute(
                            "INSERT OR REPLACE INTO folder_files (vault_id, path, version_id, present, size, mtime_ns)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                            rusqlite::params![
                                vid,
                                path,
                                b.version_id,
                                b.disk.is_some(),
                                stat.size as i64,
                                stat.mtime_ns
                            ],
                        )?;
                    }
                    BaseOp::Remove(path) => {
                        tx.execute(
                            "DELETE FROM folder_files WHERE vault_id = ?1 AND path = ?2",
                            [&vid, &path],
                        )?;
                    }
                }
            }
            tx.commit()
        })
        .await
}

/// Forget the whole base of a vault (it was bound to another folder).
pub(super) async fn clear(catalog: &Catalog, vault_id: &str) -> Result<(), CatalogError> {
    let vid = vault_id.to_owned();
    catalog
        .write(move |c| c.execute("DELETE FROM folder_files WHERE vault_id = ?1", [vid]))
        .await
        .map(drop)
}
