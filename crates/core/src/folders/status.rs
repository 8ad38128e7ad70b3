//! Scanner progress for `GET /vaults/:id/scan-status`: counters the worker
//! bumps as it goes, read without locking it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

use serde::Serialize;

#[derive(Default)]
pub(super) struct ScanStatus {
    pub active: AtomicBool,
    pub watching: AtomicBool,
    pub waiting_for_unlock: AtomicBool,
    pub walked: AtomicU64,
    pub ingested: AtomicU64,
    pub bytes_ingested: AtomicU64,
    pub written_back: AtomicU64,
    pub removed: AtomicU64,
    pub conflicts: AtomicU64,
    pub errors: AtomicU64,
    pub pending: AtomicU64,
    pub scans: AtomicU64,
    pub last_scan_started_ms: AtomicI64,
    pub last_scan_finished_ms: AtomicI64,
    pub last_error: Mutex<Option<String>>,
}

/// What `scan-status` answers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    /// A scan or a batch of changes is being processed now.
    pub active: bool,
    /// The folder this vault mirrors (`null`: not folder-backed).
    pub folder: Option<String>,
    /// The folder is watched for changes (otherwise it is polled).
    pub watching: bool,
    /// Sync is paused by the user (the vault's `sync_paused` flag).
    pub paused: bool,
    /// Waiting for Holdfast (or the vault's password) to unlock.
    pub waiting_for_unlock: bool,
    /// Files seen by the last full walk.
    pub walked: u64,
    /// Local changes recorded as versions since start.
    pub ingested: u64,
    pub bytes_ingested: u64,
    /// Catalog changes written into the folder since start.
    pub written_back: u64,
    /// Files removed from the folder because they were deleted in the vault.
    pub removed: u64,
    /// Local edits that raced another change and became conflicts.
    pub conflicts: u64,
    pub errors: u64,
    /// Changed paths waiting to be processed; while paused, the vault's
    /// changes waiting to be written into the folder.
    pub pending: u64,
    /// Full scans completed since start.
    pub scans: u64,
    pub last_scan_started_ms: Option<i64>,
    pub last_scan_finished_ms: Option<i64>,
    pub last_error: Option<String>,
}

impl ScanStatus {
    pub fn error(&self, message: String) {
        tracing::warn!("folder sync: {message}");
        self.errors.fetch_add(1, Relaxed);
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(message);
    }

    pub fn report(&self, folder: Option<String>) -> ScanReport {
        let ms = |a: &AtomicI64| Some(a.load(Relaxed)).filter(|v| *v > 0);
        ScanReport {
            active: self.active.load(Relaxed),
            folder,
            watching: self.watching.load(Relaxed),
            paused: false,
            waiting_for_unlock: self.waiting_for_unlock.load(Relaxed),
            walked: self.walked.load(Relaxed),
            ingested: self.ingested.load(Relaxed),
            bytes_ingested: self.bytes_ingested.load(Relaxed),
            written_back: self.written_back.load(Relaxed),
            removed: self.removed.load(Relaxed),
            conflicts: self.conflicts.load(Relaxed),
            errors: self.errors.load(Relaxed),
            pending: self.pending.load(Relaxed),
            scans: self.scans.load(Relaxed),
            last_scan_started_ms: ms(&self.last_scan_started_ms),
            last_scan_finished_ms: ms(&self.last_scan_finished_ms),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}

/// Paths whose head the folder does not hold yet (the vault changed since
/// they last agreed): what write-back will do once sync resumes. Conflicted
/// paths wait for a choice instead, and tombstones the folder never held
/// need nothing. Local edits made meanwhile are only seen by the next scan.
pub(super) async fn waiting_for_folder(
    catalog: &crate::catalog::Catalog,
    vault_id: &str,
) -> crate::catalog::Result<u64> {
    let vid = vault_id.to_owned();
    let n: i64 = catalog
        .read(move |c| {
            c.query_row(
                "SELECT COUNT(DISTINCT h.path) FROM heads h JOIN versions x ON x.id = h.version_id
                 WHERE h.vault_id = ?1
                   AND NOT EXISTS (SELECT 1 FROM folder_files f WHERE f.vault_id = h.vault_id
                                   AND f.path = h.path AND f.version_id = h.version_id)
                   AND NOT EXISTS (SELECT 1 FROM heads o WHERE o.vault_id = h.vault_id
                                   AND o.path = h.path AND o.version_id != h.version_id)
                   AND (x.deleted = 0 OR EXISTS (SELECT 1 FROM folder_files f
                        WHERE f.vault_id = h.vault_id AND f.path = h.path AND f.present = 1))",
                [vid],
                |r| r.get(0),
            )
        })
        .await?;
    Ok(n as u64)
}
