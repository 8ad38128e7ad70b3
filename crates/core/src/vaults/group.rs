//! Group commit: versions that arrive while a commit is under way wait for
//! it, then go together: one durability barrier for all their staged blocks
//! (`BlockStore::settle`), then one catalog transaction (one WAL fsync)
//! recording all of them, each in its own savepoint so one refusal (the
//! quota) does not undo the others. A folder of small files thus pays one
//! barrier and one commit per group instead of several fsyncs per file.
//!
//! The order that makes it safe is unchanged: blocks are durable before the
//! commit that names them. The first caller to find no commit under way
//! leads (a spawned task, so a caller that goes away cannot strand the
//! others) until the queue is empty. Each job carries its upload's pins, so
//! garbage collection cannot take its blocks before the commit ends.

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::files::{COLUMNS, NewVersion, Parents, new_id};
use super::gc::PinGuard;
use super::{VaultError, Vaults};
use crate::store::blocks::Staged;
use crate::time::now_ms;

/// Versions recorded by one transaction at most.
const MAX_GROUP: usize = 512;

/// What a commit answers: the new version's id, or the quota it would
/// break (limit, size the vault would have).
type Answer = Result<Result<String, (u64, u64)>, VaultError>;

pub(super) struct Job {
    pub vault_id: String,
    pub path: String,
    pub new: NewVersion,
    pub parents: Parents,
    pub quota: Option<u64>,
    /// Blocks to make durable before the commit.
    pub staged: Vec<Staged>,
    /// Held only to be dropped once the commit is over (unpinning).
    #[allow(dead_code)]
    pub pins: Option<PinGuard>,
}

#[derive(Clone, Default)]
pub(super) struct Committer(Arc<Mutex<Queue>>);

#[derive(Default)]
struct Queue {
    jobs: Vec<(Job, oneshot::Sender<Answer>)>,
    leading: bool,
}

impl Committer {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Vaults {
    /// Queue `job` for the next group commit and wait for its outcome.
    pub(super) async fn group_commit(&self, job: Job) -> Answer {
        let (tx, rx) = oneshot::channel();
        let lead = {
            let mut q = self.committer.lock();
            q.jobs.push((job, tx));
            !std::mem::replace(&mut q.leading, true)
        };
        if lead {
            let me = self.clone();
            tokio::spawn(async move { me.lead().await });
        }
        rx.await
            .map_err(|_| VaultError::Io(std::io::Error::other("the commit task ended")))?
    }

    async fn lead(self) {
        loop {
            let batch: Vec<_> = {
                let mut q = self.committer.lock();
                if q.jobs.is_empty() {
                    q.leading = false;
                    return;
                }
                let n = q.jobs.len().min(MAX_GROUP);
                q.jobs.drain(..n).collect()
            };
            let (mut jobs, replies): (Vec<Job>, Vec<_>) = batch.into_iter().unzip();
            let answers = self.commit_group(&mut jobs).await;
            // Pins go only now, after the commit that names the blocks.
            drop(jobs);
            for (reply, answer) in replies.into_iter().zip(answers) {
                let _ = reply.send(answer);
            }
        }
    }

    async fn commit_group(&self, jobs: &mut [Job]) -> Vec<Answer> {
        let staged: Vec<Staged> = jobs
            .iter_mut()
            .flat_map(|j| std::mem::take(&mut j.staged))
            .collect();
        let store = self.blocks.clone();
        let settled = tokio::task::spawn_blocking(move || store.settle(staged))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r);
        if let Err(e) = settled {
            let (kind, msg) = (e.kind(), e.to_string());
            return jobs
                .iter()
                .map(|_| Err(VaultError::Io(std::io::Error::new(kind, msg.clone()))))
                .collect();
        }
        let rows: Vec<Row> = jobs.iter_mut().map(Row::from).collect();
        let n = rows.len();
        let done = self
            .catalog
            .write(move |c| {
                let mut tx = c.transaction()?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let sp = tx.savepoint()?;
                    let r = row.insert(&sp);
                    if matches!(r, Ok(Ok(_))) {
                        sp.commit()?;
                    } // else dropping the savepoint rolls it back
                    out.push(r.map_err(|e| e.to_string()));
                }
                tx.commit()?;
                Ok(out)
            })
            .await;
        match done {
            Ok(out) => out
                .into_iter()
                .map(|r| r.map_err(|e| VaultError::Io(std::io::Error::other(e))))
                .collect(),
            Err(e) => {
                let msg = e.to_string();
                (0..n)
                    .map(|_| Err(VaultError::Io(std::io::Error::other(msg.clone()))))
                    .collect()
            }
        }
    }
}

impl Vaults {
    /// Record several versions whose blocks are already stored in one
    /// catalog transaction: all of them, or (on an error or a quota
    /// refusal) none. Answers their ids in order, or the quota broken.
    pub(super) async fn commit_together(&self, mut jobs: Vec<Job>) -> Answer2 {
        let rows: Vec<Row> = jobs.iter_mut().map(Row::from).collect();
        let done = self
            .catalog
            .write(move |c| {
                let mut tx = c.transaction()?;
                let mut ids = Vec::with_capacity(rows.len());
                for row in rows {
                    let sp = tx.savepoint()?;
                    match row.insert(&sp)? {
                        Ok(id) => {
                            sp.commit()?;
                            ids.push(id);
                        }
                        // Dropping `tx` rolls everything back.
                        Err(quota) => return Ok(Err(quota)),
                    }
                }
                tx.commit()?;
                Ok(Ok(ids))
            })
            .await;
        drop(jobs);
        Ok(done?)
    }
}

/// What [`Vaults::commit_together`] answers.
pub(super) type Answer2 = Result<Result<Vec<String>, (u64, u64)>, VaultError>;

/// One version's catalog change, ready for the writer thread.
pub(super) struct Row {
    id: String,
    vault_id: String,
    path: String,
    content_hash: String,
    size: u64,
    blob: Vec<u8>,
    sizes: String,
    deleted: bool,
    origin: &'static str,
    parents: Parents,
    quota: Option<u64>,
    extra: Option<super::files::Extra>,
}

impl From<&mut Job> for Row {
    fn from(j: &mut Job) -> Self {
        let new = &mut j.new;
        Row {
            id: new_id(),
            vault_id: j.vault_id.clone(),
            path: j.path.clone(),
            content_hash: std::mem::take(&mut new.content_hash),
            size: new.size,
            blob: new.ids.iter().flat_map(|b| b.0).collect(),
            sizes: serde_json::to_string(&new.sizes).expect("numbers serialise"),
            deleted: new.deleted,
            origin: new.origin,
            parents: std::mem::replace(&mut j.parents, Parents::Heads),
            quota: j.quota,
            extra: new.extra.take(),
        }
    }
}

impl Row {
    /// Record the version as a head of its path replacing its parents. With
    /// a quota, the check that the vault stays within it runs here, inside
    /// the transaction, so uploads racing each other cannot pass it
    /// together (the catalog has one writer).
    pub(super) fn insert(
        self,
        tx: &rusqlite::Connection,
    ) -> rusqlite::Result<Result<String, (u64, u64)>> {
        let Row {
            id,
            vault_id,
            path,
            content_hash,
            size,
            blob,
            sizes,
            deleted,
            origin,
            parents,
            quota,
            extra,
        } = self;
        let (vid, p) = (&vault_id, &path);
        if let Some(q) = quota.filter(|_| !deleted) {
            let others: i64 = tx.query_row(
                "SELECT COALESCE(SUM(x.size), 0) FROM heads h JOIN versions x ON x.id = h.version_id
                 WHERE h.vault_id = ?1 AND x.deleted = 0 AND h.path != ?2",
                [vid, p],
                |r| r.get(0),
            )?;
            let would_be = others as u64 + size;
            if would_be > q {
                return Ok(Err((q, would_be)));
            }
        }
        let parents: Vec<String> = match parents {
            Parents::Heads => {
                let mut s = tx.prepare_cached(
                    "SELECT version_id FROM heads WHERE vault_id = ?1 AND path = ?2",
                )?;
                s.query_map([vid, p], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?
            }
            Parents::Only(ids) => ids,
        };
        tx.prepare_cached(&format!(
            "INSERT INTO versions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ))?
        .execute(rusqlite::params![
            id,
            vid,
            p,
            content_hash,
            size as i64,
            blob,
            sizes,
            serde_json::to_string(&parents).expect("strings serialise"),
            deleted,
            now_ms(),
            origin
        ])?;
        for parent in &parents {
            tx.prepare_cached(
                "DELETE FROM heads WHERE vault_id = ?1 AND path = ?2 AND version_id = ?3",
            )?
            .execute([vid, p, parent])?;
        }
        tx.prepare_cached("INSERT INTO heads (vault_id, path, version_id) VALUES (?1, ?2, ?3)")?
            .execute([vid, p, &id])?;
        if let Some(extra) = extra {
            extra(tx, &id)?;
        }
        Ok(Ok(id))
    }
}
