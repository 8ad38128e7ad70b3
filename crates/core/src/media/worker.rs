//! The background worker that keeps the library in step with the vaults.
//! Each pass compares the vaults' live media files with the library rows:
//! rows of deleted files go, files whose content hash was already read are
//! indexed at once, and the rest are read (tags, cover, fingerprint) a few
//! at a time on blocking threads, results written in small batches so the
//! catalog's one writer stays free for uploads. Passes start when files
//! change (events), when the identity unlocks, on a rescan, and every 30 s.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rusqlite::params;
use serde::Serialize;
use serde_json::json;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::analysis::{self, Analysis, Found};
use super::index::{self, FileRef, status};
use super::{MediaError, MediaKind, kind_of};
use crate::catalog::Catalog;
use crate::events::EventBus;
use crate::identity::Identity;
use crate::settings::Settings;
use crate::store::blocks::BlockId;
use crate::time::now_ms;
use crate::vaults::{VaultError, Vaults};

/// Files read at once (each on a blocking thread).
const PARALLEL_READS: usize = 2;
/// Results written per catalog transaction.
const WRITE_BATCH: usize = 64;
/// Progress events at most this often per vault.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// A pass runs at least this often, for changes no event announced.
const TICK: Duration = Duration::from_secs(30);

pub struct Deps {
    pub catalog: Catalog,
    pub vaults: Vaults,
    pub identity: Arc<Identity>,
    pub events: EventBus,
    pub settings: Settings,
    pub shutdown: CancellationToken,
}

/// Progress of a vault's audio rescan (`audio/rescan/status`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RescanStatus {
    pub active: bool,
    /// Files read so far in this rescan.
    pub processed: u64,
    /// Files this rescan reads (grows if files arrive meanwhile).
    pub total: u64,
    /// Files that could not be read (their meta says why).
    pub errors: u64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    /// The pass count when the rescan was asked for: the next pass to start
    /// sees it, and its end ends the rescan.
    #[serde(skip)]
    asked_at_pass: u64,
}

pub struct Handle {
    deps: Deps,
    wake: Notify,
    rescans: Mutex<HashMap<String, RescanStatus>>,
    /// Passes started so far.
    passes: AtomicU64,
}

impl Handle {
    pub(super) fn spawn(deps: Deps) -> Arc<Self> {
        let handle = Arc::new(Self {
            deps,
            wake: Notify::new(),
            rescans: Mutex::new(HashMap::new()),
            passes: AtomicU64::new(0),
        });
        tokio::spawn(listen(handle.clone()));
        tokio::spawn(run(handle.clone()));
        handle
    }

    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    pub fn status(&self, vault_id: &str) -> RescanStatus {
        self.rescans
            .lock()
            .expect("rescans")
            .get(vault_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Forget what was read from the vault's audio files and read them again.
    pub async fn rescan(&self, vault_id: &str) -> Result<RescanStatus, MediaError> {
        let id = vault_id.to_owned();
        let total = self
            .deps
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                tx.execute(
                    "DELETE FROM media_analysis WHERE content_hash IN
                         (SELECT content_hash FROM media_files WHERE vault_id = ?1 AND kind = 'audio')",
                    [&id],
                )?;
                let n = tx.execute(
                    "UPDATE media_files SET status = 'pending' WHERE vault_id = ?1 AND kind = 'audio'",
                    [&id],
                )?;
                tx.commit()?;
                Ok(n as u64)
            })
            .await?;
        let status = RescanStatus {
            active: true,
            processed: 0,
            total,
            errors: 0,
            started_ms: Some(now_ms()),
            finished_ms: None,
            asked_at_pass: self.passes.load(Ordering::SeqCst),
        };
        self.rescans
            .lock()
            .expect("rescans")
            .insert(vault_id.to_owned(), status.clone());
        self.publish_progress(vault_id, &status);
        self.nudge();
        Ok(status)
    }

    /// Drop the analyses of these content hashes so the next pass reads them.
    pub async fn forget(&self, hashes: Vec<String>) -> Result<(), MediaError> {
        self.deps
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                for h in &hashes {
                    tx.execute("DELETE FROM media_analysis WHERE content_hash = ?1", [h])?;
                    tx.execute(
                        "UPDATE media_files SET status = 'pending' WHERE content_hash = ?1",
                        [h],
                    )?;
                }
                tx.commit()
            })
            .await?;
        self.nudge();
        Ok(())
    }

    fn publish_progress(&self, vault_id: &str, s: &RescanStatus) {
        self.deps.events.publish(
            "media_scan_progress",
            json!({"vault_id": vault_id, "active": s.active, "processed": s.processed,
                   "total": s.total, "errors": s.errors}),
        );
    }
}

/// Wake the worker when files or vaults change.
async fn listen(h: Arc<Handle>) {
    let mut rx = h.deps.events.subscribe();
    loop {
        tokio::select! {
            _ = h.deps.shutdown.cancelled() => return,
            ev = rx.recv() => match ev {
                Ok(ev) => {
                    let kind = ev.get("type").and_then(|t| t.as_str()).unwrap_or("");
                    let media_path = ev.get("path").and_then(|p| p.as_str()).is_some_and(|p| kind_of(p).is_some());
                    let wake = match kind {
                        "file_updated" | "file_deleted" => media_path,
                        "vault_created" | "vault_deleted" | "vault_changed" | "replication_progress" => true,
                        _ => false,
                    };
                    if wake {
                        h.nudge();
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => h.nudge(),
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

async fn run(h: Arc<Handle>) {
    let mut lock = h.deps.identity.subscribe();
    loop {
        if let Err(e) = pass(&h).await {
            tracing::warn!("media: library pass failed: {e}");
        }
        tokio::select! {
            _ = h.deps.shutdown.cancelled() => return,
            _ = h.wake.notified() => {}
            _ = lock.changed() => {}
            _ = tokio::time::sleep(TICK) => {}
        }
        // Let a burst of changes settle into one pass.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// A live media file of a vault, as the catalog has it.
struct Live {
    file: FileRef,
    blocks: Vec<u8>,
}

/// A library row as it stands.
struct Row {
    content_hash: String,
    status: String,
    local: bool,
}

/// One pass: index what can be indexed, read what must be read.
async fn pass(h: &Arc<Handle>) -> Result<(), MediaError> {
    let this_pass = h.passes.fetch_add(1, Ordering::SeqCst) + 1;
    let (live, rows, analysed) = h.deps.catalog.read(snapshot).await?;
    let store = h.deps.vaults.block_store().clone();
    let has_all = move |blocks: &[u8]| {
        blocks
            .chunks(32)
            .all(|b| BlockId::parse(&hex::encode(b)).is_some_and(|id| store.has(&id)))
    };
    let gone: Vec<(String, String)> = rows
        .keys()
        .filter(|k| !live.contains_key(*k))
        .cloned()
        .collect();
    let mut quick: Vec<(FileRef, String)> = Vec::new();
    let mut to_read: HashMap<String, Vec<FileRef>> = HashMap::new();
    for (key, l) in live {
        let row = rows.get(&key);
        let same = row.is_some_and(|r| r.content_hash == l.file.content_hash);
        // Locality is checked on every pass: blocks arrive by replication
        // and leave by eviction without the file changing.
        let mut file = l.file;
        file.local = has_all(&l.blocks);
        let settled = same
            && row.is_some_and(|r| {
                r.local == file.local
                    && (r.status == status::READY
                        || r.status == status::ERROR
                        || (r.status == status::REMOTE && !file.local))
            });
        if settled {
            continue;
        }
        if analysed.contains(&file.content_hash) {
            quick.push((file, String::new()));
        } else if !file.local {
            quick.push((file, status::REMOTE.to_owned()));
        } else {
            if !same || row.is_some_and(|r| r.status != status::PENDING) {
                quick.push((file.clone(), status::PENDING.to_owned()));
            }
            to_read
                .entry(file.content_hash.clone())
                .or_default()
                .push(file);
        }
    }
    let mut changed = !gone.is_empty() || !quick.is_empty();
    write_quick(h, gone, quick).await?;
    account_queued(h, &to_read);
    // Files that could not be read yet (a locked vault) change nothing.
    changed |= read_all(h, to_read).await? > 0;
    finish_rescans(h, this_pass);
    if changed {
        h.deps.events.publish("library_changed", json!({}));
    }
    h.deps.catalog.write(forget_orphans).await?;
    Ok(())
}

/// Drop what was read from files that are no longer in any vault (deleted,
/// or their vault removed): tags, lookups and covers are the vault's
/// content and must not outlive it.
fn forget_orphans(c: &mut rusqlite::Connection) -> rusqlite::Result<()> {
    let tx = c.transaction()?;
    tx.execute(
        "DELETE FROM media_analysis WHERE content_hash NOT IN (SELECT content_hash FROM media_files)",
        [],
    )?;
    tx.execute(
        "DELETE FROM media_acoustid WHERE content_hash NOT IN (SELECT content_hash FROM media_files)",
        [],
    )?;
    tx.execute(
        "DELETE FROM media_covers WHERE hash NOT IN
             (SELECT cover_hash FROM media_analysis WHERE cover_hash IS NOT NULL)
         AND hash NOT IN (SELECT json_extract(info, '$.cover_hash') FROM media_sidecars
                          WHERE kind = 'cover' AND info IS NOT NULL)",
        [],
    )?;
    tx.commit()
}

type Snapshot = (
    HashMap<(String, String), Live>,
    HashMap<(String, String), Row>,
    HashSet<String>,
);

fn snapshot(c: &rusqlite::Connection) -> rusqlite::Result<Snapshot> {
    let mut live: HashMap<(String, String), (i64, bool, Live)> = HashMap::new();
    let mut stmt = c.prepare(
        "SELECT v.vault_id, v.path, v.content_hash, v.size, v.deleted, v.blocks, v.created_ms
         FROM heads h JOIN versions v ON v.id = h.version_id",
    )?;
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let path: String = r.get(1)?;
        let Some(kind) = kind_of(&path) else { continue };
        let vault_id: String = r.get(0)?;
        let created: i64 = r.get(6)?;
        let key = (vault_id.clone(), path.clone());
        if live.get(&key).is_some_and(|(t, _, _)| *t >= created) {
            continue;
        }
        let entry = Live {
            file: FileRef {
                vault_id,
                path,
                content_hash: r.get(2)?,
                size: r.get::<_, i64>(3)? as u64,
                kind,
                local: false,
            },
            blocks: r.get(5)?,
        };
        live.insert(key, (created, r.get(4)?, entry));
    }
    let live = live
        .into_iter()
        .filter(|(_, (_, deleted, _))| !deleted)
        .map(|(k, (_, _, l))| (k, l))
        .collect();
    let mut stmt =
        c.prepare("SELECT vault_id, path, content_hash, status, local FROM media_files")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                (r.get(0)?, r.get(1)?),
                Row {
                    content_hash: r.get(2)?,
                    status: r.get(3)?,
                    local: r.get(4)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<HashMap<_, _>>>()?;
    let mut stmt = c.prepare("SELECT content_hash FROM media_analysis")?;
    let analysed = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<HashSet<String>>>()?;
    Ok((live, rows, analysed))
}

/// Rows that need no reading: removals, known hashes, remote and pending.
async fn write_quick(
    h: &Handle,
    gone: Vec<(String, String)>,
    quick: Vec<(FileRef, String)>,
) -> Result<(), MediaError> {
    for chunk in gone.chunks(500) {
        let chunk = chunk.to_vec();
        h.deps
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                for (v, p) in &chunk {
                    index::remove(&tx, v, p)?;
                }
                tx.commit()
            })
            .await?;
    }
    for chunk in quick.chunks(500) {
        let chunk = chunk.to_vec();
        h.deps
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                for (f, st) in &chunk {
                    if st.is_empty() {
                        let a = analysis::load(&tx, &f.content_hash)?;
                        let st = row_status(a.as_ref());
                        index::upsert(&tx, f, a.as_ref(), st)?;
                    } else {
                        index::upsert(&tx, f, None, st)?;
                    }
                }
                tx.commit()
            })
            .await?;
    }
    Ok(())
}

fn row_status(a: Option<&Analysis>) -> &'static str {
    match a {
        Some(a) if a.error.is_some() => status::ERROR,
        Some(_) => status::READY,
        None => status::PENDING,
    }
}

/// Make running rescans' totals cover what this pass will read.
fn account_queued(h: &Handle, to_read: &HashMap<String, Vec<FileRef>>) {
    let mut per_vault: HashMap<&str, u64> = HashMap::new();
    for f in to_read.values().flatten() {
        if f.kind == MediaKind::Audio {
            *per_vault.entry(f.vault_id.as_str()).or_default() += 1;
        }
    }
    let mut rescans = h.rescans.lock().expect("rescans");
    for (vault, n) in per_vault {
        if let Some(s) = rescans.get_mut(vault).filter(|s| s.active) {
            s.total = s.total.max(s.processed + n);
        }
    }
}

/// What reading one content hash gave.
enum Outcome {
    Read(Box<Found>),
    /// Blocks are missing here: index it as remote.
    Remote,
    /// Not readable now (locked vault or identity, file changed): later.
    Later,
}

async fn read_all(
    h: &Arc<Handle>,
    to_read: HashMap<String, Vec<FileRef>>,
) -> Result<usize, MediaError> {
    let mut read = 0;
    let fingerprint = h.deps.settings.current().fingerprint_audio;
    let mut results = futures_util::stream::iter(to_read.into_iter().map(|(hash, files)| {
        let h = h.clone();
        async move {
            let outcome = read_one(&h, &files[0], fingerprint).await;
            (hash, files, outcome)
        }
    }))
    .buffer_unordered(PARALLEL_READS);
    let mut batch = Vec::new();
    let mut last_progress: HashMap<String, Instant> = HashMap::new();
    loop {
        let next = tokio::select! {
            _ = h.deps.shutdown.cancelled() => None,
            n = results.next() => n,
        };
        let done = next.is_none();
        if let Some(item) = next {
            batch.push(item);
        }
        if batch.len() >= WRITE_BATCH || (done && !batch.is_empty()) {
            let written = std::mem::take(&mut batch);
            read += written
                .iter()
                .filter(|(_, _, o)| !matches!(o, Outcome::Later))
                .count();
            let counts = write_batch(h, written).await?;
            progress(h, counts, &mut last_progress);
        }
        if done {
            return Ok(read);
        }
    }
}

async fn read_one(h: &Handle, f: &FileRef, fingerprint: bool) -> Outcome {
    let version = match h.deps.vaults.live(&f.vault_id, &f.path).await {
        Ok(v) if v.content_hash == f.content_hash => v,
        _ => return Outcome::Later,
    };
    let reader = match h.deps.vaults.reader(&version).await {
        Ok(r) => r,
        Err(VaultError::Identity(_) | VaultError::VaultLocked) => return Outcome::Later,
        Err(e) => {
            tracing::debug!("media: cannot open {}: {e}", f.path);
            return Outcome::Later;
        }
    };
    let kind = f.kind;
    let found = match tokio::task::spawn_blocking(move || analysis::read(reader, kind, fingerprint))
        .await
    {
        Ok(found) => found,
        Err(_) => return Outcome::Later,
    };
    // A read that failed because blocks left this node is not the file's fault.
    if found.error.is_some() && !h.deps.vaults.is_local(&version).await.unwrap_or(false) {
        return Outcome::Remote;
    }
    Outcome::Read(Box::new(found))
}

/// Per vault: files read and files that failed, in one batch.
type Counts = HashMap<String, (u64, u64)>;

async fn write_batch(
    h: &Handle,
    batch: Vec<(String, Vec<FileRef>, Outcome)>,
) -> Result<Counts, MediaError> {
    let mut counts: Counts = HashMap::new();
    for (_, files, outcome) in &batch {
        if matches!(outcome, Outcome::Later) {
            continue;
        }
        let failed = matches!(outcome, Outcome::Read(f) if f.error.is_some());
        for f in files.iter().filter(|f| f.kind == MediaKind::Audio) {
            let c = counts.entry(f.vault_id.clone()).or_default();
            c.0 += 1;
            c.1 += u64::from(failed);
        }
    }
    h.deps
        .catalog
        .write(move |c| {
            let tx = c.transaction()?;
            for (hash, files, outcome) in &batch {
                match outcome {
                    Outcome::Read(found) => {
                        let a = analysis::store(&tx, hash, files[0].kind, found)?;
                        for f in files {
                            index::upsert(&tx, f, Some(&a), row_status(Some(&a)))?;
                        }
                    }
                    Outcome::Remote => {
                        for f in files {
                            tx.execute(
                                "UPDATE media_files SET status = 'remote', local = 0
                                 WHERE vault_id = ?1 AND path = ?2",
                                params![f.vault_id, f.path],
                            )?;
                        }
                    }
                    Outcome::Later => {}
                }
            }
            tx.commit()
        })
        .await?;
    Ok(counts)
}

fn progress(h: &Handle, counts: Counts, last: &mut HashMap<String, Instant>) {
    let mut publish = Vec::new();
    {
        let mut rescans = h.rescans.lock().expect("rescans");
        for (vault, (read, failed)) in counts {
            let Some(s) = rescans.get_mut(&vault).filter(|s| s.active) else {
                continue;
            };
            s.processed += read;
            s.errors += failed;
            s.total = s.total.max(s.processed);
            let due = last
                .get(&vault)
                .is_none_or(|t| t.elapsed() >= PROGRESS_EVERY);
            if due {
                last.insert(vault.clone(), Instant::now());
                publish.push((vault, s.clone()));
            }
        }
    }
    for (vault, s) in publish {
        h.publish_progress(&vault, &s);
    }
}

/// A pass ended: running rescans are done (what is left waits on a lock or
/// on blocks, and is counted as not read).
fn finish_rescans(h: &Handle, this_pass: u64) {
    let mut done = Vec::new();
    {
        let mut rescans = h.rescans.lock().expect("rescans");
        let ended = rescans
            .iter_mut()
            .filter(|(_, s)| s.active && s.asked_at_pass < this_pass);
        for (vault, s) in ended {
            s.active = false;
            s.finished_ms = Some(now_ms());
            done.push((vault.clone(), s.clone()));
        }
    }
    for (vault, s) in done {
        h.publish_progress(&vault, &s);
    }
}

/// Read the live file at `path` now, whatever was stored for its content:
/// tags, cover and (when `fingerprint`) its fingerprint. The analysis is
/// stored and the library rows holding that content are brought up to date
/// (this file's row is written if the worker had not got to it yet).
pub async fn read_now(
    media: &super::Media,
    vault_id: &str,
    path: &str,
    fingerprint: bool,
) -> Result<(crate::vaults::FileVersion, Analysis), MediaError> {
    let kind = kind_of(path).ok_or(MediaError::NotMedia)?;
    let version = media.vaults.live(vault_id, path).await?;
    if !media.vaults.is_local(&version).await? {
        return Err(MediaError::Invalid(
            "this node does not hold all of the file's blocks yet: cache it first".into(),
        ));
    }
    let reader = media.vaults.reader(&version).await?;
    let found = tokio::task::spawn_blocking(move || analysis::read(reader, kind, fingerprint))
        .await
        .map_err(|_| MediaError::Invalid("the file could not be read".into()))?;
    let file = FileRef {
        vault_id: version.vault_id.clone(),
        path: version.path.clone(),
        content_hash: version.content_hash.clone(),
        size: version.size,
        kind,
        local: true,
    };
    let a = media
        .catalog
        .write(move |c| {
            let tx = c.transaction()?;
            let a = analysis::store(&tx, &file.content_hash, kind, &found)?;
            let st = row_status(Some(&a));
            index::upsert(&tx, &file, Some(&a), st)?;
            let others: Vec<(String, String)> = {
                let mut stmt = tx.prepare(
                    "SELECT vault_id, path FROM media_files
                     WHERE content_hash = ?1 AND status != 'remote' AND NOT (vault_id = ?2 AND path = ?3)",
                )?;
                stmt.query_map(params![file.content_hash, file.vault_id, file.path], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<rusqlite::Result<_>>()?
            };
            for (v, p) in &others {
                tx.execute(
                    "UPDATE media_files SET status = ?3 WHERE vault_id = ?1 AND path = ?2",
                    params![v, p, st],
                )?;
                index::refresh(&tx, v, p)?;
            }
            tx.commit()?;
            Ok(a)
        })
        .await?;
    media.events.publish("library_changed", json!({}));
    Ok((version, a))
}
