//! One worker per folder-backed vault: it gathers change hints (from the
//! watcher and the catalog), lets a burst settle, then reconciles the
//! touched paths (or everything, on a full scan) a few files at a time.
//! Everything runs in this one task per vault, so the folder and the
//! catalog are never reconciled by two hands at once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::base::{self, BaseOp};
use super::reconcile::{self, Action};
use super::scan::{self, Rules};
use super::{Ctx, Msg, Outcome};
use crate::identity::IdentityError;
use crate::time::now_ms;
use crate::vaults::paths::is_under;
use crate::vaults::{FileVersion, VaultError};

/// Quiet time that ends a burst of events, and the longest wait for one.
const SETTLE: Duration = Duration::from_millis(250);
const SETTLE_MAX: Duration = Duration::from_secs(2);
/// More hinted paths than this: one full scan is cheaper.
const MAX_HINTS: usize = 256;
/// Files ingested or written back at once: many, so small files share
/// group commits (see `vaults/group.rs`)...
const PARALLEL: usize = 64;
/// ...within a memory budget, in 64 KiB units: a file weighs its size,
/// from one unit up to 16 MiB (what a big upload holds in flight), so
/// small files go 64 at a time and big ones about four.
const BUDGET_UNITS: u32 = 1024;
const MAX_WEIGHT: u64 = 256;
/// Base changes per catalog transaction.
const BASE_BATCH: usize = 256;

/// A pass could not finish because a key is locked.
struct Paused;

pub(super) async fn run(
    ctx: Arc<Ctx>,
    mut rx: UnboundedReceiver<Msg>,
    cancel: CancellationToken,
    watching: bool,
) {
    // A full scan now and then catches what the watcher missed (or stands
    // in for it when the folder cannot be watched).
    let poll = Duration::from_secs(if watching { 600 } else { 30 });
    let (mut full, mut paused) = (true, false);
    let mut hints: BTreeSet<String> = BTreeSet::new();
    let absorb = |m: Msg, full: &mut bool, paused: &mut bool, hints: &mut BTreeSet<String>| match m
    {
        Msg::Rescan => {
            *full = true;
            *paused = false;
        }
        Msg::Path(p) => {
            hints.insert(p);
        }
    };
    loop {
        if paused || (!full && hints.is_empty()) {
            tokio::select! {
                _ = cancel.cancelled() => return,
                m = rx.recv() => match m {
                    Some(m) => absorb(m, &mut full, &mut paused, &mut hints),
                    None => return,
                },
                _ = tokio::time::sleep(poll) => { full = true; paused = false; }
            }
            if paused {
                continue;
            }
        }
        let deadline = Instant::now() + SETTLE_MAX;
        while Instant::now() < deadline {
            tokio::select! {
                _ = cancel.cancelled() => return,
                m = rx.recv() => match m {
                    Some(m) => absorb(m, &mut full, &mut paused, &mut hints),
                    None => return,
                },
                _ = tokio::time::sleep(SETTLE) => break,
            }
        }
        ctx.status.pending.store(hints.len() as u64, Relaxed);
        let prefixes: Vec<String> = if full || hints.len() > MAX_HINTS {
            vec!["/".to_owned()]
        } else {
            hints.iter().cloned().collect()
        };
        full = false;
        hints.clear();
        ctx.status.active.store(true, Relaxed);
        let result = pass(&ctx, &prefixes, &cancel).await;
        ctx.status.active.store(false, Relaxed);
        ctx.status.pending.store(0, Relaxed);
        paused = result.is_err();
        ctx.status.waiting_for_unlock.store(paused, Relaxed);
        if paused {
            full = true;
        }
    }
}

fn is_locked(e: &VaultError) -> bool {
    matches!(
        e,
        VaultError::VaultLocked
            | VaultError::Identity(
                IdentityError::Locked | IdentityError::NeverUnlocked | IdentityError::Uninitialized
            )
    )
}

/// Reconcile every path under `prefixes`.
async fn pass(
    ctx: &Arc<Ctx>,
    prefixes: &[String],
    cancel: &CancellationToken,
) -> Result<(), Paused> {
    let full = prefixes.iter().any(|p| p == "/");
    if full {
        ctx.status.last_scan_started_ms.store(now_ms(), Relaxed);
    }
    let (root, owned) = (ctx.root.clone(), prefixes.to_vec());
    let walked = tokio::task::spawn_blocking(move || {
        let (rules, problem) = Rules::load(&root);
        let rules = Arc::new(rules);
        let mut disk = BTreeMap::new();
        let mut problems: Vec<String> = problem.into_iter().collect();
        for p in &owned {
            let (files, errs) = scan::walk(&root, p, &rules);
            disk.extend(files);
            problems.extend(errs);
        }
        (rules, disk, problems)
    })
    .await;
    let Ok((rules, disk, problems)) = walked else {
        ctx.status.error("the folder walk failed".into());
        return Ok(());
    };
    for p in problems {
        ctx.status.error(p);
    }
    if full {
        ctx.status.walked.store(disk.len() as u64, Relaxed);
    }
    // Only the touched parts of the catalog: a save in a big folder must
    // not read every file's row.
    let mut bases = HashMap::new();
    let mut heads: HashMap<String, Vec<FileVersion>> = HashMap::new();
    for prefix in outermost(prefixes) {
        match base::load(&ctx.catalog, &ctx.vault_id, prefix).await {
            Ok(b) => bases.extend(b),
            Err(e) => {
                ctx.status.error(format!("reading the sync base: {e}"));
                return Ok(());
            }
        }
        match ctx.vaults.heads_under(&ctx.vault_id, prefix).await {
            Ok(list) => {
                for v in list {
                    heads.entry(v.path.clone()).or_default().push(v);
                }
            }
            Err(e) => {
                ctx.status.error(format!("reading the catalog: {e}"));
                return Ok(());
            }
        }
    }
    let paths: BTreeSet<String> = disk
        .keys()
        .chain(bases.keys())
        .chain(heads.keys())
        .filter(|p| !rules.ignored(p, false))
        .cloned()
        .collect();
    let jobs: Vec<_> = paths
        .into_iter()
        .filter_map(|path| {
            let d = disk.get(&path).copied();
            let h = heads.remove(&path).unwrap_or_default();
            match reconcile::decide(d, bases.get(&path), &h) {
                Action::Nothing => None,
                action => Some((path, d, h, action)),
            }
        })
        .collect();
    let budget = Arc::new(tokio::sync::Semaphore::new(BUDGET_UNITS as usize));
    let mut results = futures_util::stream::iter(jobs)
        .map(|(path, d, h, action)| {
            let (ctx, budget) = (ctx.clone(), budget.clone());
            let weight = d.map_or(1, |s| (s.size / 65536 + 1).min(MAX_WEIGHT)) as u32;
            async move {
                let _memory = budget.acquire_many(weight).await;
                let r = reconcile::apply(&ctx, &path, d, &h, action).await;
                (path, r)
            }
        })
        .buffer_unordered(PARALLEL);
    let mut ops: Vec<BaseOp> = Vec::new();
    let mut locked = false;
    while let Some((path, r)) = results.next().await {
        match r {
            Ok((outcome, op)) => {
                count(ctx, outcome);
                ops.extend(op);
            }
            Err(e) if is_locked(&e) => locked = true,
            Err(e) => ctx.status.error(format!("{path}: {e}")),
        }
        if ops.len() >= BASE_BATCH {
            flush(ctx, std::mem::take(&mut ops)).await;
        }
        if cancel.is_cancelled() {
            break;
        }
    }
    flush(ctx, ops).await;
    if locked {
        return Err(Paused);
    }
    if full {
        ctx.status.scans.fetch_add(1, Relaxed);
        ctx.status.last_scan_finished_ms.store(now_ms(), Relaxed);
    }
    Ok(())
}

/// The prefixes not already inside another one (so no path is read twice).
fn outermost(prefixes: &[String]) -> Vec<&str> {
    prefixes
        .iter()
        .filter(|p| !prefixes.iter().any(|q| q != *p && is_under(p, q)))
        .map(String::as_str)
        .collect()
}

fn count(ctx: &Ctx, outcome: Outcome) {
    let s = &ctx.status;
    match outcome {
        Outcome::Nothing => {}
        Outcome::Ingested(bytes) => {
            s.ingested.fetch_add(1, Relaxed);
            s.bytes_ingested.fetch_add(bytes, Relaxed);
        }
        Outcome::Conflict(bytes) => {
            s.ingested.fetch_add(1, Relaxed);
            s.bytes_ingested.fetch_add(bytes, Relaxed);
            s.conflicts.fetch_add(1, Relaxed);
        }
        Outcome::WrittenBack => {
            s.written_back.fetch_add(1, Relaxed);
        }
        Outcome::Removed => {
            s.removed.fetch_add(1, Relaxed);
        }
    }
}

async fn flush(ctx: &Ctx, ops: Vec<BaseOp>) {
    if let Err(e) = base::apply(&ctx.catalog, &ctx.vault_id, ops).await {
        ctx.status.error(format!("recording the sync base: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::outermost;

    #[test]
    fn nested_hints_are_read_once() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            outermost(&p(&["/a", "/a/b", "/ab", "/c/d"])),
            ["/a", "/ab", "/c/d"]
        );
        assert_eq!(outermost(&p(&["/a/b", "/"])), ["/"]);
    }
}
