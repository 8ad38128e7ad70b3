//! Folder-backed vaults: a vault bound to a local folder mirrors it both
//! ways. A worker per vault scans the folder, watches it, records local
//! changes as versions and writes catalog changes back atomically; a local
//! edit that races another change becomes a conflict, never an overwrite.
//! The policy is in `reconcile`; the worker decides when it runs.

mod base;
mod reconcile;
mod scan;
mod stable;
mod status;
mod watch;
mod worker;
mod writeback;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;

use crate::catalog::Catalog;
use crate::events::EventBus;
use crate::identity::{Identity, LockState};
use crate::vaults::{FileVersion, Vault, VaultError, Vaults};

pub use status::ScanReport;

/// A change hint for a worker.
pub(crate) enum Msg {
    /// Look at the whole folder again.
    Rescan,
    /// Look at this vault path (a file or a directory).
    Path(String),
}

/// What reconciling one path did (for the counters).
pub(crate) enum Outcome {
    Nothing,
    Ingested(u64),
    Conflict(u64),
    WrittenBack,
    Removed,
}

/// What a worker needs.
pub(crate) struct Ctx {
    vault_id: String,
    root: PathBuf,
    vaults: Vaults,
    catalog: Catalog,
    events: EventBus,
    status: Arc<status::ScanStatus>,
}

impl Ctx {
    /// Tell the event bus about a version the folder made.
    fn announce(&self, kind: &str, v: &FileVersion) {
        self.events.publish(
            kind,
            json!({"vault_id": v.vault_id, "path": v.path, "content_hash": v.content_hash,
                   "size": v.size, "cause": "folder"}),
        );
    }
}

struct Worker {
    tx: UnboundedSender<Msg>,
    status: Arc<status::ScanStatus>,
    stop: CancellationToken,
}

/// The folder-sync service: one worker per folder-backed vault.
#[derive(Clone)]
pub struct FolderSync {
    inner: Arc<Inner>,
}

struct Inner {
    vaults: Vaults,
    catalog: Catalog,
    events: EventBus,
    identity: Arc<Identity>,
    data_dir: PathBuf,
    workers: Mutex<HashMap<String, Worker>>,
    cancel: CancellationToken,
}

impl FolderSync {
    pub fn new(
        vaults: Vaults,
        catalog: Catalog,
        events: EventBus,
        identity: Arc<Identity>,
        data_dir: PathBuf,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                vaults,
                catalog,
                events,
                identity,
                data_dir,
                workers: Mutex::default(),
                cancel,
            }),
        }
    }

    fn workers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Worker>> {
        self.inner.workers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start a worker for every folder-backed vault, and the task that
    /// feeds them catalog changes and unlocks.
    pub async fn start(&self) -> Result<(), VaultError> {
        for v in self.inner.vaults.list().await? {
            if let Some(folder) = v.folder.as_ref().filter(|_| !v.sync_paused) {
                self.spawn(&v.id, Path::new(folder));
            }
        }
        let me = self.clone();
        tokio::spawn(async move { me.supervise().await });
        Ok(())
    }

    async fn supervise(self) {
        let mut bus = self.inner.events.subscribe();
        let mut lock = self.inner.identity.subscribe();
        loop {
            tokio::select! {
                _ = self.inner.cancel.cancelled() => break,
                ev = bus.recv() => match ev {
                    Ok(ev) => self.on_event(&ev),
                    Err(RecvError::Lagged(_)) => self.rescan_all(),
                    Err(RecvError::Closed) => break,
                },
                changed = lock.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    if *lock.borrow_and_update() == LockState::Unlocked {
                        self.rescan_all();
                    }
                }
            }
        }
        for (_, w) in self.workers().drain() {
            w.stop.cancel();
        }
    }

    /// A file changed in the catalog by another hand: its worker looks.
    fn on_event(&self, ev: &serde_json::Value) {
        let kind = ev["type"].as_str().unwrap_or("");
        if !matches!(kind, "file_updated" | "file_deleted") || ev["cause"] == "folder" {
            return;
        }
        if let (Some(vault), Some(path)) = (ev["vault_id"].as_str(), ev["path"].as_str())
            && let Some(w) = self.workers().get(vault)
        {
            let _ = w.tx.send(Msg::Path(path.to_owned()));
        }
    }

    fn rescan_all(&self) {
        for w in self.workers().values() {
            let _ = w.tx.send(Msg::Rescan);
        }
    }

    /// Look at a vault's whole folder again (e.g. its password was entered).
    pub fn rescan(&self, vault_id: &str) {
        if let Some(w) = self.workers().get(vault_id) {
            let _ = w.tx.send(Msg::Rescan);
        }
    }

    fn spawn(&self, vault_id: &str, root: &Path) {
        let (tx, rx) = mpsc::unbounded_channel();
        let status: Arc<status::ScanStatus> = Arc::default();
        let stop = self.inner.cancel.child_token();
        let watcher = match watch::start(root, tx.clone()) {
            Ok(w) => Some(w),
            Err(e) => {
                status.error(format!(
                    "cannot watch {}: {e}; polling every 30 s instead",
                    root.display()
                ));
                None
            }
        };
        status
            .watching
            .store(watcher.is_some(), std::sync::atomic::Ordering::Relaxed);
        let ctx = Arc::new(Ctx {
            vault_id: vault_id.to_owned(),
            root: root.to_path_buf(),
            vaults: self.inner.vaults.clone(),
            catalog: self.inner.catalog.clone(),
            events: self.inner.events.clone(),
            status: status.clone(),
        });
        let token = stop.clone();
        tokio::spawn(async move {
            // The watcher lives as long as its worker.
            let _watcher = watcher;
            let watching = _watcher.is_some();
            worker::run(ctx, rx, token, watching).await;
        });
        if let Some(old) = self
            .workers()
            .insert(vault_id.to_owned(), Worker { tx, status, stop })
        {
            old.stop.cancel();
        }
    }

    /// Stop syncing a vault (it was deleted or unbound).
    pub fn stop(&self, vault_id: &str) {
        if let Some(w) = self.workers().remove(vault_id) {
            w.stop.cancel();
        }
    }

    /// Bind a vault to a folder (`None` unbinds it; the folder's files stay).
    /// A new binding starts from no shared base: files on both sides that
    /// differ become conflicts, equal ones simply match.
    pub async fn bind(&self, vault_id: &str, folder: Option<&str>) -> Result<Vault, VaultError> {
        self.inner.vaults.get(vault_id).await?;
        let root = match folder {
            Some(raw) => {
                let others: Vec<PathBuf> = self
                    .inner
                    .vaults
                    .list()
                    .await?
                    .into_iter()
                    .filter(|v| v.id != vault_id)
                    .filter_map(|v| v.folder.map(PathBuf::from))
                    .collect();
                let (raw, data) = (raw.to_owned(), self.inner.data_dir.clone());
                let root =
                    tokio::task::spawn_blocking(move || validate_folder(&raw, &data, &others))
                        .await
                        .map_err(|e| VaultError::Io(std::io::Error::other(e)))??;
                Some(root)
            }
            None => None,
        };
        self.stop(vault_id);
        let stored = root
            .as_ref()
            .map(|r| r.to_str().expect("checked UTF-8").to_owned());
        let vid = vault_id.to_owned();
        self.inner
            .catalog
            .write(move |c| {
                c.execute(
                    "UPDATE vaults SET folder = ?2 WHERE id = ?1",
                    rusqlite::params![vid, stored],
                )
            })
            .await?;
        base::clear(&self.inner.catalog, vault_id).await?;
        self.refresh(vault_id).await
    }

    /// Start or stop a vault's worker to match its folder and pause flag.
    pub async fn refresh(&self, vault_id: &str) -> Result<Vault, VaultError> {
        let v = self.inner.vaults.get(vault_id).await?;
        match v.folder.as_ref().filter(|_| !v.sync_paused) {
            Some(folder) if !self.workers().contains_key(vault_id) => {
                self.spawn(vault_id, Path::new(folder))
            }
            Some(_) => {}
            None => self.stop(vault_id),
        }
        Ok(v)
    }

    /// Scanner progress for `scan-status`. While sync is paused (no
    /// worker), `pending` counts the vault's changes waiting to be written
    /// into the folder.
    pub async fn status(&self, vault: &Vault) -> ScanReport {
        let running = self
            .workers()
            .get(&vault.id)
            .map(|w| w.status.report(vault.folder.clone()));
        match running {
            Some(report) => report,
            None => {
                let pending = if vault.sync_paused && vault.folder.is_some() {
                    status::waiting_for_folder(&self.inner.catalog, &vault.id)
                        .await
                        .unwrap_or(0)
                } else {
                    0
                };
                ScanReport {
                    folder: vault.folder.clone(),
                    paused: vault.sync_paused,
                    pending,
                    ..ScanReport::default()
                }
            }
        }
    }
}

/// A folder a vault may mirror: an existing, writable directory given as an
/// absolute path, not the file-system root, not overlapping Holdfast's data
/// directory or another vault's folder. Answers its canonical form.
fn validate_folder(raw: &str, data_dir: &Path, others: &[PathBuf]) -> Result<PathBuf, VaultError> {
    let bad = |m: String| Err(VaultError::Invalid(m));
    if raw.len() > 4096 || raw.contains('\0') {
        return bad("folder must be a path of at most 4096 bytes".into());
    }
    if !Path::new(raw).is_absolute() {
        return bad("folder must be an absolute path".into());
    }
    let root = match std::fs::canonicalize(raw) {
        Ok(r) if r.is_dir() => r,
        _ => return bad(format!("{raw} is not an existing directory")),
    };
    if root.to_str().is_none() {
        return bad("folder path must be valid UTF-8".into());
    }
    if root.parent().is_none() {
        return bad("the file-system root cannot be a vault folder".into());
    }
    let overlaps = |a: &Path, b: &Path| a.starts_with(b) || b.starts_with(a);
    let data = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    if overlaps(&root, &data) {
        return bad("folder must not contain or lie inside Holdfast's data directory".into());
    }
    if others.iter().any(|o| overlaps(&root, o)) {
        return bad("folder overlaps another vault's folder".into());
    }
    if tempfile::Builder::new()
        .prefix(scan::TEMP_PREFIX)
        .tempfile_in(&root)
        .is_err()
    {
        return bad(format!("{raw} is not writable"));
    }
    Ok(root)
}
