//! Diagnostics reports ("Report a problem"): a redacted `.zip` of the loaded
//! config, the recent logs and a system snapshot the caller supplies, kept in
//! `<data dir>/diagnostics/` for the user to download and send. This module
//! owns the reports directory (ids, listing, pruning, deletion); `bundle.rs`
//! gathers and writes one report; `redact.rs` removes secrets from it.
//!
//! Report ids are 128 random bits in hex, generated here; a path never comes
//! from the client, so there is no traversal to refuse beyond the id check.

mod bundle;
pub mod redact;

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Config;
use crate::time::now_ms;

pub use redact::Redactor;

/// Reports kept; building one more prunes the oldest.
pub const MAX_REPORTS: usize = 20;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReportMeta {
    pub id: String,
    pub created_ms: i64,
    pub size_bytes: u64,
    /// The name a download is saved under.
    pub file_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DiagnosticsError {
    #[error("diagnostics reports are unavailable: {0}")]
    Unavailable(String),
    #[error("not a report id")]
    BadId,
    #[error("no such report")]
    NotFound,
    #[error("diagnostics: {0}")]
    Io(#[from] io::Error),
}

/// What the caller knows that the core cannot see: the system snapshot and
/// the secrets to scrub.
pub struct ReportInput {
    /// Status, metrics summary, vaults…; redacted before it is written.
    pub system: serde_json::Value,
    /// Secret values the daemon holds in clear (e.g. the admin token).
    pub known_secrets: Vec<String>,
    /// Key-like identifiers that are not secret (peer id, vault ids).
    pub public_ids: Vec<String>,
}

/// The reports directory of one data dir.
#[derive(Clone)]
pub struct Diagnostics {
    dir: PathBuf,
    logs_dir: PathBuf,
    endpoints_file: PathBuf,
    config: Config,
}

impl Diagnostics {
    pub fn new(paths: &crate::Paths, config: Config) -> Self {
        Self {
            dir: paths.diagnostics_dir(),
            logs_dir: paths.logs_dir(),
            endpoints_file: paths.endpoints(),
            config,
        }
    }

    /// Build a report, write it atomically, prune beyond [`MAX_REPORTS`].
    pub async fn create(&self, input: ReportInput) -> Result<ReportMeta, DiagnosticsError> {
        let this = self.clone();
        blocking(move || {
            this.ensure_dir()?;
            let id = hex::encode(crate::identity::crypto::random_bytes::<16>());
            let created_ms = now_ms();
            let redactor = Redactor::new(input.known_secrets, input.public_ids);
            let sources = bundle::Sources {
                config: &this.config,
                logs_dir: &this.logs_dir,
                endpoints_file: &this.endpoints_file,
                system: input.system,
            };
            let bytes = bundle::build(&id, created_ms, sources, &redactor)?;
            let path = this.path_of(&id);
            crate::fsutil::write_atomic(&path, &bytes, crate::fsutil::Mode::Private).map_err(
                |e| match e.kind() {
                    io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                        DiagnosticsError::Unavailable(e.to_string())
                    }
                    _ => DiagnosticsError::Io(e),
                },
            )?;
            this.prune()?;
            Ok(this.meta_of(&id, &path)?.0)
        })
        .await
    }

    /// Saved reports, newest first.
    pub async fn list(&self) -> Result<Vec<ReportMeta>, DiagnosticsError> {
        let this = self.clone();
        blocking(move || this.list_sync()).await
    }

    /// A report's metadata and the file to stream.
    pub async fn open(&self, id: &str) -> Result<(ReportMeta, PathBuf), DiagnosticsError> {
        check_id(id)?;
        let this = self.clone();
        let id = id.to_owned();
        blocking(move || {
            this.ensure_dir()?;
            let path = this.path_of(&id);
            let (meta, _) = this.meta_of(&id, &path)?;
            Ok((meta, path))
        })
        .await
    }

    pub async fn delete(&self, id: &str) -> Result<(), DiagnosticsError> {
        check_id(id)?;
        let this = self.clone();
        let id = id.to_owned();
        blocking(move || {
            this.ensure_dir()?;
            match std::fs::remove_file(this.path_of(&id)) {
                Ok(()) => Ok(crate::fsutil::sync_dir(&this.dir)?),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Err(DiagnosticsError::NotFound),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// The reports directory exists and is a directory (0700), or reports
    /// are unavailable.
    fn ensure_dir(&self) -> Result<(), DiagnosticsError> {
        crate::fsutil::create_private_dir(&self.dir)
            .map_err(|e| DiagnosticsError::Unavailable(format!("{}: {e}", self.dir.display())))
    }

    fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.zip"))
    }

    /// A report's metadata and its modification time in ns (the sort key:
    /// reports built within one millisecond still have an order).
    fn meta_of(&self, id: &str, path: &Path) -> Result<(ReportMeta, u128), DiagnosticsError> {
        let md = match std::fs::metadata(path) {
            Ok(md) if md.is_file() => md,
            Ok(_) => return Err(DiagnosticsError::NotFound),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(DiagnosticsError::NotFound);
            }
            Err(e) => return Err(e.into()),
        };
        let modified_ns = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let created_ms = (modified_ns / 1_000_000) as i64;
        let meta = ReportMeta {
            id: id.to_owned(),
            created_ms,
            size_bytes: md.len(),
            file_name: file_name(id, created_ms),
        };
        Ok((meta, modified_ns))
    }

    fn list_sync(&self) -> Result<Vec<ReportMeta>, DiagnosticsError> {
        self.ensure_dir()?;
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".zip")) else {
                continue;
            };
            if check_id(id).is_err() {
                continue;
            }
            match self.meta_of(id, &entry.path()) {
                Ok(found) => out.push(found),
                Err(DiagnosticsError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|(a, a_ns), (b, b_ns)| b_ns.cmp(a_ns).then(b.id.cmp(&a.id)));
        Ok(out.into_iter().map(|(meta, _)| meta).collect())
    }

    fn prune(&self) -> Result<(), DiagnosticsError> {
        let reports = self.list_sync()?;
        for old in reports.iter().skip(MAX_REPORTS) {
            match std::fs::remove_file(self.path_of(&old.id)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Ids are exactly 32 lowercase hex characters.
fn check_id(id: &str) -> Result<(), DiagnosticsError> {
    if id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(DiagnosticsError::BadId)
    }
}

fn file_name(id: &str, created_ms: i64) -> String {
    let (y, mo, d, h, mi, _) = crate::time::civil(created_ms);
    format!(
        "holdfast-report-{y:04}{mo:02}{d:02}-{h:02}{mi:02}-{}.zip",
        &id[..8]
    )
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DiagnosticsError> + Send + 'static,
) -> Result<T, DiagnosticsError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| DiagnosticsError::Io(io::Error::other(e)))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostics(dir: &Path) -> Diagnostics {
        let paths = crate::Paths::resolve(Some(dir.to_owned()), None).unwrap();
        Diagnostics::new(&paths, Config::default())
    }

    fn input() -> ReportInput {
        ReportInput {
            system: serde_json::json!({"version": "test"}),
            known_secrets: vec![],
            public_ids: vec![],
        }
    }

    #[tokio::test]
    async fn create_list_open_delete() {
        let tmp = tempfile::tempdir().unwrap();
        let d = diagnostics(tmp.path());
        assert!(d.list().await.unwrap().is_empty());
        let a = d.create(input()).await.unwrap();
        assert!(a.size_bytes > 0);
        assert!(a.file_name.starts_with("holdfast-report-"));
        let list = d.list().await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, a.id);
        assert_eq!(list[0].size_bytes, a.size_bytes);
        let (_, path) = d.open(&a.id).await.unwrap();
        assert_eq!(std::fs::metadata(path).unwrap().len(), a.size_bytes);
        d.delete(&a.id).await.unwrap();
        assert!(matches!(
            d.delete(&a.id).await,
            Err(DiagnosticsError::NotFound)
        ));
        assert!(matches!(
            d.open(&a.id).await,
            Err(DiagnosticsError::NotFound)
        ));
    }

    #[tokio::test]
    async fn ids_are_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let d = diagnostics(tmp.path());
        let long = "0".repeat(33);
        for bad in [
            "",
            "../../etc/passwd",
            "ABCDEF0123456789ABCDEF0123456789",
            long.as_str(),
        ] {
            assert!(
                matches!(d.open(bad).await, Err(DiagnosticsError::BadId)),
                "{bad}"
            );
            assert!(
                matches!(d.delete(bad).await, Err(DiagnosticsError::BadId)),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn oldest_reports_are_pruned() {
        let tmp = tempfile::tempdir().unwrap();
        let d = diagnostics(tmp.path());
        let mut ids = Vec::new();
        for _ in 0..MAX_REPORTS + 2 {
            ids.push(d.create(input()).await.unwrap().id);
        }
        let kept: Vec<String> = d.list().await.unwrap().into_iter().map(|m| m.id).collect();
        assert_eq!(kept.len(), MAX_REPORTS);
        // The newest is always kept.
        assert!(kept.contains(ids.last().unwrap()));
    }

    #[tokio::test]
    async fn unusable_dir_is_unavailable() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("diagnostics"), b"a file, not a dir").unwrap();
        let d = diagnostics(tmp.path());
        assert!(matches!(
            d.create(input()).await,
            Err(DiagnosticsError::Unavailable(_))
        ));
        assert!(matches!(
            d.list().await,
            Err(DiagnosticsError::Unavailable(_))
        ));
    }
}
