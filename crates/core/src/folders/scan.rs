//! Seeing the folder: its ignore rules (`.holdfastignore` at the root, in
//! gitignore syntax), the walk that lists its regular files with their stat,
//! and the mapping between folder paths and vault paths. Symlinks and special
//! files are never followed or synced.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::base::Stat;
use crate::vaults::paths;

/// The ignore file at the folder's root.
pub(super) const IGNORE_FILE: &str = ".holdfastignore";
/// Write-back's temporary files start with this; never synced.
pub(super) const TEMP_PREFIX: &str = ".holdfast-tmp-";

pub(super) struct Rules {
    matcher: Gitignore,
}

impl Rules {
    /// Read the root's `.holdfastignore` (missing: nothing ignored). A bad
    /// line is skipped and reported.
    pub fn load(root: &Path) -> (Self, Option<String>) {
        let mut b = GitignoreBuilder::new(root);
        let file = root.join(IGNORE_FILE);
        let problem = file
            .is_file()
            .then(|| b.add(&file))
            .flatten()
            .map(|e| format!("{IGNORE_FILE}: {e}"));
        let matcher = b.build().unwrap_or_else(|_| Gitignore::empty());
        (Self { matcher }, problem)
    }

    /// Whether a vault path is left out of sync.
    pub fn ignored(&self, vault_path: &str, is_dir: bool) -> bool {
        let name = vault_path.rsplit('/').next().unwrap_or("");
        if name.starts_with(TEMP_PREFIX) {
            return true;
        }
        let rel = vault_path.trim_start_matches('/');
        !rel.is_empty()
            && self
                .matcher
                .matched_path_or_any_parents(rel, is_dir)
                .is_ignore()
    }
}

/// The stat of a regular file (`None`: absent, or not a regular file).
pub(super) fn stat(path: &Path) -> std::io::Result<Option<Stat>> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => Ok(Some(stat_of(&m))),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) fn stat_of(m: &std::fs::Metadata) -> Stat {
    let mtime_ns = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64);
    Stat {
        size: m.len(),
        mtime_ns,
    }
}

/// The vault path of a path inside `root` (`None` outside it, or when a
/// name is not valid UTF-8 or not a valid vault path).
pub(super) fn vault_path(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let mut out = String::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => {
                out.push('/');
                out.push_str(n.to_str()?);
            }
            _ => return None,
        }
    }
    if out.is_empty() {
        return Some("/".into());
    }
    paths::normalize(&out).ok().filter(|n| *n == out)
}

/// Where a vault path lives in the folder. Refuses a path whose parent
/// directories include a symlink, so a write never leaves the folder.
pub(super) fn fs_path(root: &Path, vault_path: &str) -> std::io::Result<PathBuf> {
    let mut p = root.to_path_buf();
    let mut parts = vault_path.trim_start_matches('/').split('/').peekable();
    while let Some(part) = parts.next() {
        p.push(part);
        if parts.peek().is_some()
            && std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink())
        {
            return Err(std::io::Error::other(format!(
                "{} is a symlink; not following it",
                p.display()
            )));
        }
    }
    Ok(p)
}

/// Regular files under the vault path `prefix`, with their stat; names
/// that cannot be vault paths are reported in the second list.
pub(super) fn walk(
    root: &Path,
    prefix: &str,
    rules: &Arc<Rules>,
) -> (BTreeMap<String, Stat>, Vec<String>) {
    let mut files = BTreeMap::new();
    let mut problems = Vec::new();
    let Ok(start) = fs_path(root, prefix) else {
        return (files, problems);
    };
    if prefix != "/" {
        match std::fs::symlink_metadata(&start) {
            Ok(m) if m.is_file() => {
                if !rules.ignored(prefix, false) {
                    files.insert(prefix.to_owned(), stat_of(&m));
                }
                return (files, problems);
            }
            Ok(m) if m.is_dir() => {}
            _ => return (files, problems),
        }
    }
    let (owned_root, dir_rules) = (root.to_path_buf(), rules.clone());
    let walker = ignore::WalkBuilder::new(&start)
        .standard_filters(false)
        .follow_links(false)
        .filter_entry(move |e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            // Prune ignored directories; files are checked below.
            !is_dir
                || vault_path(&owned_root, e.path())
                    .is_none_or(|vp| vp == "/" || !dir_rules.ignored(&vp, true))
        })
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(vp) = vault_path(root, entry.path()) else {
            problems.push(format!(
                "{}: not a valid vault path; skipped",
                entry.path().display()
            ));
            continue;
        };
        if rules.ignored(&vp, false) {
            continue;
        }
        match entry.metadata() {
            Ok(m) => {
                files.insert(vp, stat_of(&m));
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    (files, problems)
}
