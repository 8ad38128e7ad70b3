//! Writing the catalog's changes into the folder without ever clobbering an
//! edit: content goes to a temporary file beside the target and is fsynced;
//! then, only if the target is still exactly what the decision was based on,
//! it is renamed over it (or linked into place when there was none, which
//! fails rather than replace a file that appeared meanwhile).

use std::io::Write;
use std::path::Path;

use super::base::Stat;
use super::scan::{self, TEMP_PREFIX};
use crate::fsutil::sync_dir;
use crate::vaults::{ReadPlan, VaultError};

#[derive(Debug, thiserror::Error)]
pub(super) enum WriteError {
    /// The file changed after the decision; the watcher brings it back.
    #[error("the file changed while being replaced; left as it is")]
    Changed,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Write the planned content to `target` if it is still `expected` (`None`:
/// absent). Answers the new file's stat.
pub(super) fn write_file(
    plan: ReadPlan,
    target: &Path,
    expected: Option<Stat>,
) -> Result<Stat, WriteError> {
    let dir = target
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent directory"))?;
    if target.is_dir() {
        return Err(std::io::Error::other(format!(
            "{} is a directory in the folder but a file in the vault",
            target.display()
        ))
        .into());
    }
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    for i in 0..plan.len() {
        tmp.write_all(&plan.piece(i)?)?;
    }
    tmp.as_file().sync_all()?;
    if expected.is_some()
        && let Ok(m) = std::fs::metadata(target)
    {
        // Keep the mode the user gave the file.
        let _ = tmp.as_file().set_permissions(m.permissions());
    }
    if scan::stat(target)? != expected {
        return Err(WriteError::Changed);
    }
    match expected {
        None => tmp.persist_noclobber(target).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                WriteError::Changed
            } else {
                e.error.into()
            }
        })?,
        Some(_) => tmp.persist(target).map_err(|e| e.error)?,
    };
    sync_dir(dir)?;
    scan::stat(target)?.ok_or(WriteError::Changed)
}

/// Remove `target` if it is still `expected`.
pub(super) fn remove_file(target: &Path, expected: Stat) -> Result<(), WriteError> {
    if scan::stat(target)? != Some(expected) {
        return Err(WriteError::Changed);
    }
    std::fs::remove_file(target)?;
    if let Some(dir) = target.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}
