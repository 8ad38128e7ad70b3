//! Files in a vault: each upload becomes a version (a manifest of sealed
//! blocks) whose parents are the path's current heads. History, restore,
//! tombstones and conflicts (two heads) all come from that one model.
//! Blocks are durable before the catalog commit that names them; an upload
//! that fails keeps nothing it created.

use std::sync::Arc;

use futures_util::StreamExt;
use rusqlite::OptionalExtension;
use serde::Serialize;
use tokio::io::AsyncRead;

use super::{MAX_UPLOAD_BYTES, VaultError, Vaults};
use crate::store::BlockId;
use crate::store::BlockStore;
use crate::store::blocks::Staged;
use crate::store::chunking;
use crate::store::seal::ChunkKeys;

#[derive(Debug, Clone, Serialize)]
pub struct FileVersion {
    pub id: String,
    pub vault_id: String,
    pub path: String,
    /// BLAKE3 of the plaintext, hex.
    pub content_hash: String,
    pub size: u64,
    /// Sealed block ids, hex, in order.
    pub blocks: Vec<String>,
    #[serde(skip)]
    pub block_sizes: Vec<u64>,
    /// Version ids this one replaced.
    pub parents: Vec<String>,
    pub deleted: bool,
    pub created_ms: i64,
    /// Where this version came from (see [`origin`]); `None` for versions
    /// recorded before origins were kept.
    pub origin: Option<String>,
}

/// Values of [`FileVersion::origin`].
pub mod origin {
    /// Taken in from the vault's folder on this computer.
    pub const FOLDER: &str = "folder";
    /// Uploaded or deleted over the API (web UI, apps, S3).
    pub const UPLOAD: &str = "upload";
    /// An earlier version made current again.
    pub const RESTORE: &str = "restore";
    /// The side picked to resolve a conflict.
    pub const RESOLVE: &str = "resolve";
    /// The other side of a conflict, kept under a new name.
    pub const KEEP_BOTH: &str = "keep_both";
    /// Moved or renamed over the API (both the new path and the tombstone).
    pub const MOVE: &str = "move";
}

pub(super) const COLUMNS: &str = "id, vault_id, path, content_hash, size, blocks, block_sizes, parents, deleted, created_ms, origin";

pub(super) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FileVersion> {
    let blocks: Vec<u8> = r.get(5)?;
    Ok(FileVersion {
        id: r.get(0)?,
        vault_id: r.get(1)?,
        path: r.get(2)?,
        content_hash: r.get(3)?,
        size: r.get::<_, i64>(4)? as u64,
        blocks: blocks.chunks(32).map(hex::encode).collect(),
        block_sizes: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
        parents: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
        deleted: r.get(8)?,
        created_ms: r.get(9)?,
        origin: r.get(10)?,
    })
}

impl FileVersion {
    /// The manifest's block ids.
    pub fn block_ids(&self) -> Result<Vec<BlockId>, VaultError> {
        self.blocks
            .iter()
            .map(|h| BlockId::parse(h).ok_or_else(|| VaultError::Corrupt(format!("block id {h}"))))
            .collect()
    }
}

/// Blocks a read plan asks the kernel to fetch ahead of the one it opens.
const PREFETCH: usize = 8;

/// What a download reads: which blocks, and which bytes of each.
pub struct ReadPlan {
    keys: Arc<ChunkKeys>,
    store: BlockStore,
    /// (block, start, end) within the block's plaintext.
    pieces: Vec<(BlockId, usize, usize)>,
}

impl ReadPlan {
    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Read, verify, open and slice piece `i` (blocking). The block is
    /// decrypted in the buffer it was read into: no second copy.
    pub fn piece(&self, i: usize) -> Result<Vec<u8>, VaultError> {
        // Keep the disk busy PREFETCH blocks ahead of the reader.
        let n = self.pieces.len();
        let from = if i == 0 { 1 } else { i + PREFETCH };
        let ahead = &self.pieces[from.min(n)..(i + PREFETCH + 1).min(n)];
        for (next, _, _) in ahead {
            self.store.prefetch(next);
        }
        let (id, start, end) = self.pieces[i];
        let mut buf = self.store.get(&id)?;
        let plain = self
            .keys
            .open_in_place(&mut buf)
            .ok_or_else(|| VaultError::Corrupt(format!("block {} does not open", id.to_hex())))?;
        if end > plain.len() {
            return Err(VaultError::Corrupt(
                "block shorter than its manifest says".into(),
            ));
        }
        buf.truncate(plain.start + end);
        buf.drain(..plain.start + start);
        Ok(buf)
    }
}

/// An upload's blocks, sealed and staged but not yet committed.
struct Ingested {
    content_hash: String,
    size: u64,
    ids: Vec<BlockId>,
    sizes: Vec<u64>,
    /// Blocks this upload wrote (not reused): removed if it fails.
    created: Vec<BlockId>,
    staged: Staging,
    pins: super::gc::PinGuard,
}

/// An upload taken in but not yet recorded (see [`Vaults::begin_upload`]).
pub struct PendingUpload {
    vault_id: String,
    path: String,
    quota: Option<u64>,
    ing: Ingested,
}

impl PendingUpload {
    /// BLAKE3 of the plaintext, hex.
    pub fn content_hash(&self) -> &str {
        &self.ing.content_hash
    }

    pub fn size(&self) -> u64 {
        self.ing.size
    }
}

/// Blocks stored durably by [`Vaults::store_blocks`], pinned until dropped.
pub struct StoredBlocks {
    pub ids: Vec<BlockId>,
    pub sizes: Vec<u64>,
    pub size: u64,
    pub content_hash: String,
    pub pins: super::gc::BlockPins,
}

/// Which versions a new version replaces.
#[derive(Debug, Clone)]
pub enum Parents {
    /// Every current head of the path (an ordinary write).
    Heads,
    /// Only these versions: any other head stays, so a write based on an
    /// older version becomes a conflict instead of an overwrite.
    Only(Vec<String>),
}

/// Rows another feature records with a new version, in the same catalog
/// transaction (S3 object metadata): called with the version's id, so the
/// version never exists without them.
pub type Extra = Box<dyn FnOnce(&rusqlite::Connection, &str) -> rusqlite::Result<()> + Send>;

/// What a new version holds.
pub(super) struct NewVersion {
    pub content_hash: String,
    pub size: u64,
    pub ids: Vec<BlockId>,
    /// Plaintext size of each block.
    pub sizes: Vec<u64>,
    pub deleted: bool,
    /// Where it came from (see [`origin`]).
    pub origin: &'static str,
    /// Recorded with it (see [`Extra`]).
    pub extra: Option<Extra>,
}

impl NewVersion {
    /// The content of `v` recorded anew (restore, resolve, move, keep-both):
    /// its blocks are reused, nothing is copied.
    pub(super) fn copy_of(v: &FileVersion, origin: &'static str) -> Result<Self, VaultError> {
        Ok(Self {
            ids: v.block_ids()?,
            content_hash: v.content_hash.clone(),
            size: v.size,
            sizes: v.block_sizes.clone(),
            deleted: v.deleted,
            origin,
            extra: None,
        })
    }

    /// A tombstone; it keeps the hash of the content it replaces.
    pub(super) fn tombstone(content_hash: String, origin: &'static str) -> Self {
        Self {
            content_hash,
            size: 0,
            ids: Vec::new(),
            sizes: Vec::new(),
            deleted: true,
            origin,
            extra: None,
        }
    }
}

/// A version id: random, 128 bits.
pub(super) fn new_id() -> String {
    hex::encode(crate::identity::crypto::random_bytes::<16>())
}

/// Chunks an upload seals at once (2 cores; one more keeps both busy while
/// a chunk waits for its write).
const SEAL_AHEAD: usize = 3;
/// Staged bytes of one upload settled in the background at a time: a big
/// upload's fsyncs overlap its sealing instead of all waiting for the end.
const SETTLE_BYTES: u64 = 64 * 1024 * 1024;

fn flatten<T>(joined: Result<std::io::Result<T>, tokio::task::JoinError>) -> Result<T, VaultError> {
    Ok(joined.map_err(|e| VaultError::Io(std::io::Error::other(e)))??)
}

/// An upload's staged blocks: big uploads settle them in batches in the
/// background (one batch in flight); the rest go to the group commit.
struct Staging {
    store: BlockStore,
    rest: Vec<Staged>,
    rest_bytes: u64,
    settling: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Staging {
    fn new(store: BlockStore) -> Self {
        Self {
            store,
            rest: Vec::new(),
            rest_bytes: 0,
            settling: None,
        }
    }

    /// Add a staged block; answers whether it is new to the store.
    fn push(&mut self, block: Staged) -> bool {
        let new = block.is_new();
        self.rest_bytes += block.bytes();
        self.rest.push(block);
        new
    }

    /// Once enough is staged, settle it in the background (after the
    /// previous batch).
    async fn settle_some(&mut self) -> Result<(), VaultError> {
        if self.rest_bytes < SETTLE_BYTES {
            return Ok(());
        }
        self.wait().await?;
        let (store, batch) = (self.store.clone(), std::mem::take(&mut self.rest));
        self.rest_bytes = 0;
        self.settling = Some(tokio::task::spawn_blocking(move || store.settle(batch)));
        Ok(())
    }

    /// Wait for the batch being settled, if any.
    async fn wait(&mut self) -> Result<(), VaultError> {
        match self.settling.take() {
            Some(h) => flatten(h.await),
            None => Ok(()),
        }
    }
}

impl Vaults {
    /// Store `body` as the new head of `path`. Enforces the vault's hard
    /// quota while streaming.
    pub async fn upload<R: AsyncRead + Unpin>(
        &self,
        vault_id: &str,
        path: &str,
        body: R,
    ) -> Result<FileVersion, VaultError> {
        self.upload_onto(vault_id, path, body, Parents::Heads).await
    }

    /// Store `body` as a new version of `path` replacing `parents`.
    pub async fn upload_onto<R: AsyncRead + Unpin>(
        &self,
        vault_id: &str,
        path: &str,
        body: R,
        parents: Parents,
    ) -> Result<FileVersion, VaultError> {
        self.upload_from(vault_id, path, body, parents, origin::UPLOAD)
            .await
    }

    /// [`Vaults::upload_onto`], recording where the version came from
    /// (one of [`origin`]).
    pub async fn upload_from<R: AsyncRead + Unpin>(
        &self,
        vault_id: &str,
        path: &str,
        body: R,
        parents: Parents,
        from: &'static str,
    ) -> Result<FileVersion, VaultError> {
        let pending = self.begin_upload(vault_id, path, body).await?;
        self.finish_upload(pending, parents, from, None).await
    }

    /// Take in `body` for `path` (sealed, staged, within the hard quota)
    /// without recording it yet, so the caller can check it first (S3
    /// checksums) and then [`Vaults::finish_upload`] it or drop it.
    pub async fn begin_upload<R: AsyncRead + Unpin>(
        &self,
        vault_id: &str,
        path: &str,
        body: R,
    ) -> Result<PendingUpload, VaultError> {
        let vault = self.writable(vault_id).await?;
        // The quota counts live files.
        let base = self.quota_base(&vault, path).await?;
        let ing = self.ingest_body(&vault, base, body).await?;
        Ok(PendingUpload {
            vault_id: vault.id,
            path: path.to_owned(),
            quota: vault.hard_quota,
            ing,
        })
    }

    /// Record a [`PendingUpload`] as the new version of its path (with
    /// `extra` rows in the same transaction).
    pub async fn finish_upload(
        &self,
        pending: PendingUpload,
        parents: Parents,
        from: &'static str,
        extra: Option<Extra>,
    ) -> Result<FileVersion, VaultError> {
        let PendingUpload {
            vault_id,
            path,
            quota,
            ing,
        } = pending;
        let new = NewVersion {
            content_hash: ing.content_hash,
            size: ing.size,
            ids: ing.ids,
            sizes: ing.sizes,
            deleted: false,
            origin: from,
            extra,
        };
        let committed = self
            .commit_staged(
                &vault_id,
                &path,
                new,
                parents,
                quota,
                ing.staged.rest,
                Some(ing.pins),
            )
            .await;
        if committed.is_err() {
            self.discard(super::gc::PinGuard::new(&self.pins), ing.created)
                .await;
        }
        committed
    }

    /// Drop a [`PendingUpload`], removing the blocks it wrote.
    pub async fn abandon_upload(&self, pending: PendingUpload) {
        let PendingUpload { ing, .. } = pending;
        drop(ing.staged);
        self.discard(ing.pins, ing.created).await;
    }

    /// Chunk, seal and stage `body` as blocks of `vault` (within its hard
    /// quota, `base` bytes being used already). On error nothing it created
    /// is kept.
    async fn ingest_body<R: AsyncRead + Unpin>(
        &self,
        vault: &super::Vault,
        base: u64,
        body: R,
    ) -> Result<Ingested, VaultError> {
        let keys = self.keys(&vault.id).await?;
        let mut hasher = blake3::Hasher::new();
        let mut ids: Vec<BlockId> = Vec::new();
        let mut sizes: Vec<u64> = Vec::new();
        let mut created: Vec<BlockId> = Vec::new();
        let mut total = 0u64;
        let pins = super::gc::PinGuard::new(&self.pins);
        let mut staged = Staging::new(self.blocks.clone());
        // Chunks being sealed and staged, in order: both cores seal while
        // the next chunk is cut.
        let mut sealing = futures_util::stream::FuturesOrdered::new();
        let outcome: Result<(), VaultError> = async {
            let mut cdc;
            let stream = match chunking::peek(body).await? {
                chunking::Source::Small(all) => futures_util::future::Either::Left(
                    futures_util::stream::iter((!all.is_empty()).then_some(Ok(all))),
                ),
                chunking::Source::Large(reader) => {
                    cdc = chunking::chunker(reader);
                    futures_util::future::Either::Right(
                        cdc.as_stream()
                            .map(|c| c.map(|c| c.data).map_err(chunking::io_error)),
                    )
                }
            };
            futures_util::pin_mut!(stream);
            let mut ended = false;
            loop {
                let chunk = tokio::select! {
                    biased;
                    Some(done) = sealing.next(), if !sealing.is_empty() => {
                        let (id, block) = flatten(done)?;
                        if staged.push(block) {
                            created.push(id);
                        }
                        ids.push(id);
                        staged.settle_some().await?;
                        continue;
                    }
                    chunk = stream.next(), if !ended && sealing.len() < SEAL_AHEAD => chunk,
                    else => break,
                };
                let Some(chunk) = chunk else {
                    ended = true;
                    continue;
                };
                let chunk = chunk?;
                total += chunk.len() as u64;
                if total > MAX_UPLOAD_BYTES {
                    return Err(VaultError::Invalid(format!(
                        "uploads are limited to {MAX_UPLOAD_BYTES} bytes"
                    )));
                }
                if let Some(q) = vault.hard_quota
                    && base + total > q
                {
                    return Err(VaultError::Quota {
                        vault_id: vault.id.clone(),
                        hard_quota: q,
                        would_be_size: base + total,
                    });
                }
                hasher.update(&chunk);
                sizes.push(chunk.len() as u64);
                let (keys, store) = (keys.clone(), self.blocks.clone());
                let (pin_set, pinned) = (self.pins.clone(), pins.ids.clone());
                sealing.push_back(tokio::task::spawn_blocking(move || {
                    let (id, sealed) = keys.seal(&chunk);
                    drop(chunk);
                    // Pin before looking: see gc.rs for why this order.
                    pin_set.pin(id);
                    pinned.lock().unwrap_or_else(|p| p.into_inner()).push(id);
                    store.stage(&id, &sealed).map(|block| (id, block))
                }));
            }
            staged.wait().await
        }
        .await;
        if let Err(e) = outcome {
            // Chunks still sealing and a batch still settling finish first
            // (so their pins and renames precede the clean-up); what was
            // staged but not settled vanishes with `staged`.
            while sealing.next().await.is_some() {}
            let _ = staged.wait().await;
            drop(staged);
            self.discard(pins, created).await;
            return Err(e);
        }
        Ok(Ingested {
            content_hash: hasher.finalize().to_hex().to_string(),
            size: total,
            ids,
            sizes,
            created,
            staged,
            pins,
        })
    }

    /// Store `body` as durable blocks of `vault_id` without recording a
    /// version (an S3 multipart part): the caller records the blocks
    /// somewhere garbage collection counts before dropping the pins.
    pub async fn store_blocks<R: AsyncRead + Unpin>(
        &self,
        vault_id: &str,
        path: &str,
        body: R,
    ) -> Result<StoredBlocks, VaultError> {
        let vault = self.writable(vault_id).await?;
        let base = self.quota_base(&vault, path).await?;
        let ing = self.ingest_body(&vault, base, body).await?;
        let (store, rest) = (self.blocks.clone(), ing.staged.rest);
        if let Err(e) = flatten(tokio::task::spawn_blocking(move || store.settle(rest)).await) {
            self.discard(ing.pins, ing.created).await;
            return Err(e);
        }
        Ok(StoredBlocks {
            ids: ing.ids,
            sizes: ing.sizes,
            size: ing.size,
            content_hash: ing.content_hash,
            pins: super::gc::BlockPins::from_guard(ing.pins),
        })
    }

    /// Record a version of `path` made of blocks already stored for this
    /// vault (an S3 multipart upload's parts, in order). The content hash
    /// is computed by reading them back, so it is the plaintext's BLAKE3
    /// like every other version's.
    pub async fn commit_blocks(
        &self,
        vault_id: &str,
        path: &str,
        ids: Vec<BlockId>,
        sizes: Vec<u64>,
        from: &'static str,
        extra: Option<Extra>,
    ) -> Result<FileVersion, VaultError> {
        let vault = self.writable(vault_id).await?;
        let keys = self.keys(vault_id).await?;
        let _pins = self.pin_blocks(&ids);
        let (store, list) = (self.blocks.clone(), ids.clone());
        let content_hash = flatten(
            tokio::task::spawn_blocking(move || {
                let mut hasher = blake3::Hasher::new();
                for id in &list {
                    let mut buf = store.get(id).map_err(std::io::Error::other)?;
                    let plain = keys.open_in_place(&mut buf).ok_or_else(|| {
                        std::io::Error::other(format!("block {} does not open", id.to_hex()))
                    })?;
                    hasher.update(&buf[plain]);
                }
                Ok(hasher.finalize().to_hex().to_string())
            })
            .await,
        )?;
        let size = sizes.iter().sum();
        let new = NewVersion {
            content_hash,
            size,
            ids,
            sizes,
            deleted: false,
            origin: from,
            extra,
        };
        self.commit(vault_id, path, new, Parents::Heads, vault.hard_quota)
            .await
    }

    /// Record `v`'s content at `path` of the same vault (S3 CopyObject):
    /// its blocks are reused, nothing is copied.
    pub async fn copy_version(
        &self,
        v: &FileVersion,
        path: &str,
        from: &'static str,
        extra: Option<Extra>,
    ) -> Result<FileVersion, VaultError> {
        let vault = self.writable(&v.vault_id).await?;
        if let Some(q) = vault.hard_quota {
            let would_be = self.quota_base(&vault, path).await? + v.size;
            if would_be > q {
                return Err(VaultError::Quota {
                    vault_id: vault.id,
                    hard_quota: q,
                    would_be_size: would_be,
                });
            }
        }
        let new = NewVersion {
            deleted: false,
            extra,
            ..NewVersion::copy_of(v, from)?
        };
        self.commit(&v.vault_id, path, new, Parents::Heads, vault.hard_quota)
            .await
    }

    /// Remove the blocks an aborted upload created, unless another upload
    /// has meanwhile pinned (reused) them.
    async fn discard(&self, pins: super::gc::PinGuard, created: Vec<BlockId>) {
        drop(pins);
        let (store, pin_set) = (self.blocks.clone(), self.pins.clone());
        let _ = tokio::task::spawn_blocking(move || {
            super::gc::delete_unpinned(&store, &pin_set, created)
        })
        .await;
    }

    /// Record `new` as a head of `path` replacing `parents` (with
    /// `quota`, only if the vault stays within it).
    pub(super) async fn commit(
        &self,
        vault_id: &str,
        path: &str,
        new: NewVersion,
        parents: Parents,
        quota: Option<u64>,
    ) -> Result<FileVersion, VaultError> {
        self.commit_staged(vault_id, path, new, parents, quota, Vec::new(), None)
            .await
    }

    /// [`Vaults::commit`] of a version whose blocks are `staged`: they are
    /// made durable first, in the same group barrier as others' (see
    /// `group.rs`).
    #[allow(clippy::too_many_arguments)]
    async fn commit_staged(
        &self,
        vault_id: &str,
        path: &str,
        new: NewVersion,
        parents: Parents,
        quota: Option<u64>,
        staged: Vec<Staged>,
        pins: Option<super::gc::PinGuard>,
    ) -> Result<FileVersion, VaultError> {
        let job = super::group::Job {
            vault_id: vault_id.to_owned(),
            path: path.to_owned(),
            new,
            parents,
            quota,
            staged,
            pins,
        };
        match self.group_commit(job).await? {
            Ok(id) => self.version_by_id(&id).await,
            Err((hard_quota, would_be_size)) => Err(VaultError::Quota {
                vault_id: vault_id.to_owned(),
                hard_quota,
                would_be_size,
            }),
        }
    }

    pub(super) async fn version_by_id(&self, id: &str) -> Result<FileVersion, VaultError> {
        let id = id.to_owned();
        self.catalog
            .read(move |c| {
                c.query_row(
                    &format!("SELECT {COLUMNS} FROM versions WHERE id = ?1"),
                    [id],
                    from_row,
                )
                .optional()
            })
            .await?
            .ok_or(VaultError::VersionNotFound)
    }

    /// Heads of `path`, newest first (more than one: a conflict).
    pub async fn heads(&self, vault_id: &str, path: &str) -> Result<Vec<FileVersion>, VaultError> {
        let (vid, p) = (vault_id.to_owned(), path.to_owned());
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(&format!(
                    "SELECT {} FROM heads h JOIN versions v ON v.id = h.version_id
                     WHERE h.vault_id = ?1 AND h.path = ?2 ORDER BY v.created_ms DESC, v.rowid DESC",
                    COLUMNS
                        .split(", ")
                        .map(|c| format!("v.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))?;
                s.query_map([vid, p], from_row)?.collect()
            })
            .await?)
    }

    /// The current version of `path` (the newest head; may be a tombstone).
    pub async fn head(&self, vault_id: &str, path: &str) -> Result<FileVersion, VaultError> {
        self.heads(vault_id, path)
            .await?
            .into_iter()
            .next()
            .ok_or(VaultError::FileNotFound)
    }

    /// The live file at `path` (not a tombstone).
    pub async fn live(&self, vault_id: &str, path: &str) -> Result<FileVersion, VaultError> {
        self.settings(vault_id).await?;
        let v = self.head(vault_id, path).await?;
        if v.deleted {
            return Err(VaultError::FileNotFound);
        }
        Ok(v)
    }

    /// Current files under `prefix`, by path.
    pub async fn files(
        &self,
        vault_id: &str,
        prefix: &str,
        include_deleted: bool,
    ) -> Result<Vec<FileVersion>, VaultError> {
        let list = self.listing(vault_id, prefix, include_deleted).await?;
        Ok(list.into_iter().map(|(v, _)| v).collect())
    }

    /// Current files under `prefix`, by path, each with the content hashes
    /// of its other heads (a conflict) if any. A file whose newest head is
    /// a tombstone counts as deleted.
    pub async fn listing(
        &self,
        vault_id: &str,
        prefix: &str,
        include_deleted: bool,
    ) -> Result<Vec<(FileVersion, Vec<String>)>, VaultError> {
        self.settings(vault_id).await?;
        let mut out: Vec<(FileVersion, Vec<String>)> = Vec::new();
        for v in self.heads_under(vault_id, prefix).await? {
            match out.last_mut() {
                Some((newest, others)) if newest.path == v.path => others.push(v.content_hash),
                _ => out.push((v, Vec::new())),
            }
        }
        out.retain(|(v, _)| include_deleted || !v.deleted);
        Ok(out)
    }

    /// Every head of every path under `prefix` (tombstones included), by
    /// path, newest first within a path.
    pub async fn heads_under(
        &self,
        vault_id: &str,
        prefix: &str,
    ) -> Result<Vec<FileVersion>, VaultError> {
        let vid = vault_id.to_owned();
        let (under, params) = super::paths::under_sql("h.path", prefix, 2);
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(&format!(
                    "SELECT {} FROM heads h JOIN versions v ON v.id = h.version_id
                     WHERE h.vault_id = ?1 AND {under}
                     ORDER BY v.path, v.created_ms DESC, v.rowid DESC",
                    COLUMNS
                        .split(", ")
                        .map(|c| format!("v.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))?;
                let params = std::iter::once(vid).chain(params);
                s.query_map(rusqlite::params_from_iter(params), from_row)?
                    .collect()
            })
            .await?)
    }

    /// Every version of `path`, newest first.
    pub async fn history(
        &self,
        vault_id: &str,
        path: &str,
    ) -> Result<Vec<FileVersion>, VaultError> {
        self.settings(vault_id).await?;
        let (vid, p) = (vault_id.to_owned(), path.to_owned());
        let list: Vec<FileVersion> = self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(&format!(
                    "SELECT {COLUMNS} FROM versions WHERE vault_id = ?1 AND path = ?2 ORDER BY created_ms DESC, rowid DESC"
                ))?;
                s.query_map([vid, p], from_row)?.collect()
            })
            .await?;
        if list.is_empty() {
            return Err(VaultError::FileNotFound);
        }
        Ok(list)
    }

    /// The newest version of `path` with this content.
    pub async fn version(
        &self,
        vault_id: &str,
        path: &str,
        content_hash: &str,
    ) -> Result<FileVersion, VaultError> {
        self.history(vault_id, path)
            .await?
            .into_iter()
            .find(|v| v.content_hash == content_hash && !v.deleted)
            .ok_or(VaultError::VersionNotFound)
    }

    /// Tombstone `path`: a deleted version on top of its heads.
    pub async fn delete_file(&self, vault_id: &str, path: &str) -> Result<FileVersion, VaultError> {
        self.delete_onto(vault_id, path, Parents::Heads).await
    }

    /// Tombstone `path`, replacing `parents`.
    pub async fn delete_onto(
        &self,
        vault_id: &str,
        path: &str,
        parents: Parents,
    ) -> Result<FileVersion, VaultError> {
        self.delete_from(vault_id, path, parents, origin::UPLOAD)
            .await
    }

    /// [`Vaults::delete_onto`], recording where the deletion came from.
    pub async fn delete_from(
        &self,
        vault_id: &str,
        path: &str,
        parents: Parents,
        from: &'static str,
    ) -> Result<FileVersion, VaultError> {
        self.writable(vault_id).await?;
        let head = self.live(vault_id, path).await?;
        let tombstone = NewVersion::tombstone(head.content_hash, from);
        self.commit(vault_id, path, tombstone, parents, None).await
    }

    /// Make an earlier content the head again (a new version, so history
    /// keeps everything).
    pub async fn restore(
        &self,
        vault_id: &str,
        path: &str,
        content_hash: &str,
    ) -> Result<FileVersion, VaultError> {
        let old = self.version(vault_id, path, content_hash).await?;
        let vault = self.writable(vault_id).await?;
        if let Some(q) = vault.hard_quota {
            let current = self
                .head(vault_id, path)
                .await
                .ok()
                .filter(|v| !v.deleted)
                .map_or(0, |v| v.size);
            let would_be = self.used_bytes(vault_id).await? - current + old.size;
            if would_be > q {
                return Err(VaultError::Quota {
                    vault_id: vault.id,
                    hard_quota: q,
                    would_be_size: would_be,
                });
            }
        }
        let new = NewVersion {
            deleted: false,
            ..NewVersion::copy_of(&old, origin::RESTORE)?
        };
        self.commit(vault_id, path, new, Parents::Heads, vault.hard_quota)
            .await
    }

    /// Plan the read of bytes `[start, end)` of `version` (unlocked only).
    pub async fn read_plan(
        &self,
        version: &FileVersion,
        start: u64,
        end: u64,
    ) -> Result<ReadPlan, VaultError> {
        let keys = self.keys(&version.vault_id).await?;
        let mut pieces = Vec::new();
        let mut offset = 0u64;
        for (hexid, size) in version.blocks.iter().zip(&version.block_sizes) {
            let (b_start, b_end) = (offset, offset + size);
            offset = b_end;
            if b_end <= start || b_start >= end {
                continue;
            }
            let id = BlockId::parse(hexid).ok_or_else(|| VaultError::Corrupt("block id".into()))?;
            let from = start.saturating_sub(b_start) as usize;
            let to = (end.min(b_end) - b_start) as usize;
            pieces.push((id, from, to));
        }
        Ok(ReadPlan {
            keys,
            store: self.blocks.clone(),
            pieces,
        })
    }
}
