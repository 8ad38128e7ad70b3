//! One path, three states: the file on disk, the base (where folder and
//! catalog last agreed) and the catalog's heads. `decide` is the whole
//! policy, kept pure so it can be read and tested on its own:
//!
//! | disk vs base | catalog vs base | action                                  |
//! |--------------|-----------------|-----------------------------------------|
//! | same         | same            | nothing                                 |
//! | changed      | same            | record the disk as a version            |
//! | same         | changed         | write the newest head into the folder   |
//! | changed      | changed         | record the disk as a version *beside*   |
//! |              |                 | the other head: a conflict, unless the  |
//! |              |                 | contents are equal. A local delete      |
//! |              |                 | loses to a remote edit (nothing lost).  |

use std::path::Path;

use super::base::{Base, BaseOp, Stat};
use super::scan;
use super::stable::{self, StableFile};
use super::writeback::{self, WriteError};
use super::{Ctx, Outcome};
use crate::vaults::{FileVersion, Parents, VaultError};

/// Reads of a file that keeps changing under us before we count an error
/// and leave it to the next pass.
const TORN_RETRIES: u32 = 3;

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Action {
    Nothing,
    /// Record the file on disk as a version replacing these versions
    /// (`None`: every head).
    Ingest(Option<Vec<String>>),
    /// The file was deleted locally: tombstone, replacing the base version.
    IngestDelete(String),
    /// Make the folder hold the newest head (or lack it, for a tombstone).
    WriteBack,
    /// Deleted on both sides: remember the agreement.
    Agree(String),
}

pub(super) fn decide(disk: Option<Stat>, base: Option<&Base>, heads: &[FileVersion]) -> Action {
    let newest = heads.first();
    let disk_changed = match base {
        None => disk.is_some(),
        Some(b) => disk != b.disk,
    };
    let catalog_changed = match base {
        None => newest.is_some_and(|h| !h.deleted),
        Some(b) => !heads.iter().any(|h| h.id == b.version_id),
    };
    match (disk_changed, catalog_changed) {
        (false, false) => Action::Nothing,
        (false, true) => Action::WriteBack,
        (true, false) => match (disk, base, newest) {
            (Some(_), Some(b), _) => Action::Ingest(Some(vec![b.version_id.clone()])),
            (Some(_), None, _) => Action::Ingest(None),
            (None, Some(b), Some(h)) if !h.deleted => Action::IngestDelete(b.version_id.clone()),
            (None, _, Some(h)) => Action::Agree(h.id.clone()),
            (None, _, None) => Action::Nothing,
        },
        (true, true) => match (disk, base) {
            (None, _) => Action::WriteBack,
            (Some(_), Some(b)) => Action::Ingest(Some(vec![b.version_id.clone()])),
            (Some(_), None) => Action::Ingest(Some(Vec::new())),
        },
    }
}

/// Carry out `action` for `path`; answers the base change to record.
pub(super) async fn apply(
    ctx: &Ctx,
    path: &str,
    disk: Option<Stat>,
    heads: &[FileVersion],
    action: Action,
) -> Result<(Outcome, Option<BaseOp>), VaultError> {
    let target = scan::fs_path(&ctx.root, path)?;
    let put = |version_id: &str, disk: Option<Stat>| {
        Some(BaseOp::Put(
            path.to_owned(),
            Base {
                version_id: version_id.to_owned(),
                disk,
            },
        ))
    };
    match action {
        Action::Nothing => Ok((Outcome::Nothing, None)),
        Action::Agree(id) => Ok((Outcome::Nothing, put(&id, None))),
        Action::IngestDelete(parent) => {
            let v = ctx
                .vaults
                .delete_from(
                    &ctx.vault_id,
                    path,
                    Parents::Only(vec![parent]),
                    crate::vaults::origin::FOLDER,
                )
                .await?;
            ctx.announce("file_deleted", &v);
            Ok((Outcome::Ingested(0), put(&v.id, None)))
        }
        Action::Ingest(parents) => {
            let Some(mut disk) = disk else {
                return Ok((Outcome::Nothing, None));
            };
            if let Some(h) = heads.first().filter(|h| !h.deleted && h.size == disk.size)
                && same_content(&target, &h.content_hash).await
            {
                return Ok((Outcome::Nothing, put(&h.id, Some(disk))));
            }
            let parents = parents.map_or(Parents::Heads, Parents::Only);
            // A file written while we read it is never recorded torn: the
            // read fails, nothing is kept, and we try again from a fresh stat.
            let mut tries = 0;
            let v = loop {
                let file = StableFile::open(target.clone(), disk).await?;
                match ctx
                    .vaults
                    .upload_from(
                        &ctx.vault_id,
                        path,
                        file,
                        parents.clone(),
                        crate::vaults::origin::FOLDER,
                    )
                    .await
                {
                    Err(VaultError::Io(e)) if stable::is_changed(&e) && tries < TORN_RETRIES => {
                        tries += 1;
                        match scan::stat(&target)? {
                            Some(now) => disk = now,
                            // Gone meanwhile: the next pass sees the delete.
                            None => return Ok((Outcome::Nothing, None)),
                        }
                    }
                    other => break other?,
                }
            };
            ctx.announce("file_updated", &v);
            let conflict = ctx.vaults.heads(&ctx.vault_id, path).await?.len() > 1;
            if conflict {
                ctx.announce("file_conflict", &v);
            }
            let size = v.size;
            let op = put(&v.id, Some(disk));
            Ok((
                if conflict {
                    Outcome::Conflict(size)
                } else {
                    Outcome::Ingested(size)
                },
                op,
            ))
        }
        Action::WriteBack => write_back(ctx, path, &target, disk, heads.first()).await,
    }
}

async fn write_back(
    ctx: &Ctx,
    path: &str,
    target: &Path,
    disk: Option<Stat>,
    newest: Option<&FileVersion>,
) -> Result<(Outcome, Option<BaseOp>), VaultError> {
    let outcome = match newest {
        Some(v) if !v.deleted => {
            let plan = ctx.vaults.read_plan(v, 0, v.size).await?;
            let t = target.to_path_buf();
            let written =
                tokio::task::spawn_blocking(move || writeback::write_file(plan, &t, disk))
                    .await
                    .map_err(|e| VaultError::Io(std::io::Error::other(e)))?;
            match written {
                Ok(stat) => {
                    let op = BaseOp::Put(
                        path.to_owned(),
                        Base {
                            version_id: v.id.clone(),
                            disk: Some(stat),
                        },
                    );
                    return Ok((Outcome::WrittenBack, Some(op)));
                }
                Err(e) => Err(e),
            }
        }
        _ => match disk {
            Some(expected) => {
                let t = target.to_path_buf();
                tokio::task::spawn_blocking(move || writeback::remove_file(&t, expected))
                    .await
                    .map_err(|e| VaultError::Io(std::io::Error::other(e)))?
            }
            None => Ok(()),
        },
    };
    match outcome {
        Ok(()) => {
            let op = match newest {
                Some(v) => BaseOp::Put(
                    path.to_owned(),
                    Base {
                        version_id: v.id.clone(),
                        disk: None,
                    },
                ),
                None => BaseOp::Remove(path.to_owned()),
            };
            Ok((
                if disk.is_some() {
                    Outcome::Removed
                } else {
                    Outcome::Nothing
                },
                Some(op),
            ))
        }
        Err(WriteError::Changed) => Ok((Outcome::Nothing, None)),
        Err(WriteError::Vault(e)) => Err(e),
        Err(WriteError::Io(e)) => Err(VaultError::Io(e)),
    }
}

/// Whether the file holds content with this BLAKE3 hash.
async fn same_content(target: &Path, content_hash: &str) -> bool {
    let (t, want) = (target.to_path_buf(), content_hash.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut hasher = blake3::Hasher::new();
        std::fs::File::open(&t)
            .and_then(|f| hasher.update_reader(f).map(drop))
            .is_ok_and(|()| hasher.finalize().to_hex().as_str() == want)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(size: u64, mtime_ns: i64) -> Option<Stat> {
        Some(Stat { size, mtime_ns })
    }

    fn version(id: &str, deleted: bool) -> FileVersion {
        FileVersion {
            id: id.into(),
            vault_id: "v".into(),
            path: "/a".into(),
            content_hash: String::new(),
            size: 1,
            blocks: Vec::new(),
            origin: None,
            block_sizes: Vec::new(),
            parents: Vec::new(),
            deleted,
            created_ms: 0,
        }
    }

    fn base(id: &str, disk: Option<Stat>) -> Base {
        Base {
            version_id: id.into(),
            disk,
        }
    }

    #[test]
    fn agreement_needs_nothing() {
        let b = base("v1", stat(1, 10));
        assert_eq!(
            decide(stat(1, 10), Some(&b), &[version("v1", false)]),
            Action::Nothing
        );
        assert_eq!(decide(None, None, &[]), Action::Nothing);
        assert_eq!(decide(None, None, &[version("t", true)]), Action::Nothing);
    }

    #[test]
    fn local_edits_become_versions_on_their_base() {
        let b = base("v1", stat(1, 10));
        assert_eq!(
            decide(stat(2, 11), Some(&b), &[version("v1", false)]),
            Action::Ingest(Some(vec!["v1".into()]))
        );
        assert_eq!(decide(stat(2, 11), None, &[]), Action::Ingest(None));
        assert_eq!(
            decide(None, Some(&b), &[version("v1", false)]),
            Action::IngestDelete("v1".into())
        );
    }

    #[test]
    fn catalog_changes_are_written_back() {
        let b = base("v1", stat(1, 10));
        assert_eq!(
            decide(stat(1, 10), Some(&b), &[version("v2", false)]),
            Action::WriteBack
        );
        assert_eq!(
            decide(None, None, &[version("v2", false)]),
            Action::WriteBack
        );
        assert_eq!(
            decide(stat(1, 10), Some(&b), &[version("t", true)]),
            Action::WriteBack
        );
    }

    #[test]
    fn races_keep_both_sides() {
        let b = base("v1", stat(1, 10));
        // Edited here and there: a version beside the other head.
        assert_eq!(
            decide(stat(3, 12), Some(&b), &[version("v2", false)]),
            Action::Ingest(Some(vec!["v1".into()]))
        );
        // A new local file where the vault has another: a conflict.
        assert_eq!(
            decide(stat(3, 12), None, &[version("v2", false)]),
            Action::Ingest(Some(vec![]))
        );
        // Deleted here, edited there: the edit comes back.
        assert_eq!(
            decide(None, Some(&b), &[version("v2", false)]),
            Action::WriteBack
        );
        // Deleted on both sides: just agree.
        assert_eq!(
            decide(None, Some(&b), &[version("t", true)]),
            Action::WriteBack
        );
    }
}
