//! Move (rename) a file inside a vault. Vaults have no folder objects, so a
//! move is two versions recorded in one catalog transaction: at the new
//! path, a version holding the same blocks (nothing is re-read, re-sealed or
//! re-uploaded), and at the old path a tombstone. History stays at both
//! paths; the old one can be restored like any deleted file.

use rusqlite::OptionalExtension;

use super::files::{FileVersion, NewVersion, Parents};
use super::group::{Job, Row};
use super::{VaultError, Vaults};

/// What a move answers: the version now at the new path, and the tombstone
/// left at the old one.
#[derive(Debug, Clone)]
pub struct Moved {
    pub to: FileVersion,
    pub from: FileVersion,
}

/// Why the transaction refused (checked again inside it, so a write racing
/// the move cannot slip between the checks and the commit).
enum Refusal {
    SourceGone,
    TargetExists,
    FolderThere,
    FileAbove(String),
}

impl Vaults {
    /// Move the live file at `from` to `to`. A live file at `to` is refused
    /// unless `overwrite` (then it becomes the moved file's parent, so its
    /// content stays in the history of `to`).
    pub async fn move_file(
        &self,
        vault_id: &str,
        from: &str,
        to: &str,
        overwrite: bool,
    ) -> Result<Moved, VaultError> {
        if from == to {
            return Err(VaultError::Invalid(
                "the file is already at that path".into(),
            ));
        }
        if super::paths::is_under(to, from) {
            return Err(VaultError::Invalid(
                "a file cannot move below its own path".into(),
            ));
        }
        self.writable(vault_id).await?;
        // Locked (identity or vault password): refused like other changes.
        self.keys(vault_id).await?;
        let src = self.live(vault_id, from).await?;
        let source_id = src.id.clone();
        let new = NewVersion::copy_of(&src, super::files::origin::MOVE)?;
        let tombstone = NewVersion::tombstone(src.content_hash.clone(), super::files::origin::MOVE);
        let job = |path: &str, new: NewVersion| Job {
            vault_id: vault_id.to_owned(),
            path: path.to_owned(),
            new,
            parents: Parents::Heads,
            quota: None,
            staged: Vec::new(),
            pins: None,
        };
        // A move frees nothing and adds nothing (the blocks are shared), so
        // it needs no quota check.
        let target = Row::from(&mut job(to, new));
        let grave = Row::from(&mut job(from, tombstone));
        let (vid, f, t) = (vault_id.to_owned(), from.to_owned(), to.to_owned());
        let outcome = self
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                let newest = |path: &str| -> rusqlite::Result<Option<(String, bool)>> {
                    tx.query_row(
                        "SELECT v.id, v.deleted FROM heads h JOIN versions v ON v.id = h.version_id
                         WHERE h.vault_id = ?1 AND h.path = ?2
                         ORDER BY v.created_ms DESC, v.rowid DESC LIMIT 1",
                        [&vid, path],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                };
                match newest(&f)? {
                    Some((id, false)) if id == source_id => {}
                    _ => return Ok(Err(Refusal::SourceGone)),
                }
                if !overwrite && matches!(newest(&t)?, Some((_, false))) {
                    return Ok(Err(Refusal::TargetExists));
                }
                // Folder-backed vaults write paths to disk: a file cannot
                // take a folder's name, nor sit below another file.
                let (under, params) = super::paths::under_sql("h.path", &t, 2);
                let below: bool = tx.query_row(
                    &format!(
                        "SELECT EXISTS (SELECT 1 FROM heads h JOIN versions v ON v.id = h.version_id
                         WHERE h.vault_id = ?1 AND h.path != ?5 AND v.deleted = 0 AND {under})"
                    ),
                    rusqlite::params_from_iter(
                        std::iter::once(vid.clone())
                            .chain(params)
                            .chain(std::iter::once(t.clone())),
                    ),
                    |r| r.get(0),
                )?;
                if below {
                    return Ok(Err(Refusal::FolderThere));
                }
                let mut parent = t.as_str();
                while let Some((up, _)) = parent.rsplit_once('/') {
                    if up.is_empty() {
                        break;
                    }
                    if up != f && matches!(newest(up)?, Some((_, false))) {
                        return Ok(Err(Refusal::FileAbove(up.to_owned())));
                    }
                    parent = up;
                }
                let to_id = target.insert(&tx)?.expect("no quota, no refusal");
                let from_id = grave.insert(&tx)?.expect("no quota, no refusal");
                tx.commit()?;
                Ok(Ok((to_id, from_id)))
            })
            .await?;
        let (to_id, from_id) = outcome.map_err(|r| match r {
            Refusal::SourceGone => VaultError::FileNotFound,
            Refusal::TargetExists => VaultError::TargetExists,
            Refusal::FolderThere => {
                VaultError::PathClash("a folder with files in it has that name".into())
            }
            Refusal::FileAbove(p) => {
                VaultError::PathClash(format!("{p} is a file, so it cannot hold other files"))
            }
        })?;
        Ok(Moved {
            to: self.version_by_id(&to_id).await?,
            from: self.version_by_id(&from_id).await?,
        })
    }
}
