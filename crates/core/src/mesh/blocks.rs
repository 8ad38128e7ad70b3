//! Block bodies over raw streams (`/holdfast/blocks/1`): the asker sends a
//! count and that many 32-byte block ids; the holder answers, in order, a
//! present flag, a length and the sealed bytes of each. Several streams run
//! at once. Every block is checked against its id before it is staged, and
//! a batch is durable (settled) before the caller records anything that
//! names it, so an interrupted transfer resumes at the first block that did
//! not arrive.

use std::sync::Arc;

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::{PeerId, Stream};

use super::protocol::BLOCKS;
use crate::store::{BlockId, BlockStore};

/// Ids asked for in one stream at most.
const BATCH: usize = 32;
/// Blocks a holder reads ahead of the one it is sending.
const READ_AHEAD: usize = 3;
/// Streams in flight per fetch.
const IN_FLIGHT: usize = 4;
/// Largest sealed block accepted (chunks are at most 4 MiB).
const MAX_BLOCK: u32 = 5 * 1024 * 1024;

/// Answer block requests until the swarm goes away.
pub(super) async fn serve(mut control: libp2p_stream::Control, store: BlockStore) {
    let Ok(mut incoming) = control.accept(BLOCKS) else {
        return;
    };
    while let Some((peer, stream)) = incoming.next().await {
        let store = store.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, store).await {
                tracing::debug!(%peer, error = %e, "block request ended");
            }
        });
    }
}

async fn answer(mut stream: Stream, store: BlockStore) -> std::io::Result<()> {
    let mut n = [0u8; 4];
    stream.read_exact(&mut n).await?;
    let n = u32::from_be_bytes(n) as usize;
    if n > BATCH {
        return Err(std::io::Error::other("too many block ids in one request"));
    }
    let mut raw = vec![0u8; n * 32];
    stream.read_exact(&mut raw).await?;
    let ids: Vec<BlockId> = raw
        .chunks_exact(32)
        .map(|c| BlockId(c.try_into().expect("32")))
        .collect();
    // Read (and verify) the next blocks while one is on the wire.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Option<Vec<u8>>>(READ_AHEAD);
    let reader = tokio::task::spawn_blocking(move || {
        for id in &ids {
            store.prefetch(id);
        }
        for id in ids {
            // The asker verifies each block against its id.
            if tx.blocking_send(store.read_unverified(&id).ok()).is_err() {
                break;
            }
        }
    });
    while let Some(block) = rx.recv().await {
        match block {
            Some(b) => {
                stream.write_all(&[1]).await?;
                stream.write_all(&(b.len() as u32).to_be_bytes()).await?;
                stream.write_all(&b).await?;
            }
            None => stream.write_all(&[0]).await?,
        }
    }
    reader.await.map_err(std::io::Error::other)?;
    stream.close().await
}

/// What a fetch left undone.
#[derive(Default)]
pub(super) struct Shortfall {
    /// Ids the peer did not have or that did not arrive.
    pub missing: Vec<BlockId>,
    /// A block could not be written because the disk is full.
    pub disk_full: bool,
}

/// Fetch `ids` from `peer` into the store (verified, durable).
pub(super) async fn fetch(
    control: &libp2p_stream::Control,
    peer: PeerId,
    store: &BlockStore,
    ids: Vec<BlockId>,
    progress: Arc<dyn Fn(u64) + Send + Sync>,
) -> Shortfall {
    let batches: Vec<Vec<BlockId>> = ids.chunks(BATCH).map(<[BlockId]>::to_vec).collect();
    let results = futures::stream::iter(batches)
        .map(|batch| {
            let (mut control, store, progress) = (control.clone(), store.clone(), progress.clone());
            async move {
                match fetch_batch(&mut control, peer, &store, &batch, &*progress).await {
                    Ok(missing) => (missing, false),
                    Err(e) => {
                        tracing::debug!(%peer, error = %e, "block fetch failed");
                        let full = e.kind() == std::io::ErrorKind::StorageFull;
                        (batch.into_iter().filter(|b| !store.has(b)).collect(), full)
                    }
                }
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
    let mut out = Shortfall::default();
    for (missing, full) in results {
        out.missing.extend(missing);
        out.disk_full |= full;
    }
    out
}

async fn fetch_batch(
    control: &mut libp2p_stream::Control,
    peer: PeerId,
    store: &BlockStore,
    batch: &[BlockId],
    progress: &(dyn Fn(u64) + Send + Sync),
) -> std::io::Result<Vec<BlockId>> {
    let mut stream = control
        .open_stream(peer, BLOCKS)
        .await
        .map_err(std::io::Error::other)?;
    let mut req = (batch.len() as u32).to_be_bytes().to_vec();
    for id in batch {
        req.extend_from_slice(&id.0);
    }
    stream.write_all(&req).await?;
    stream.flush().await?;
    let mut staged = Vec::new();
    let mut missing = Vec::new();
    let mut result = Ok(());
    for id in batch {
        match read_one(&mut stream, id).await {
            Ok(Some(bytes)) => {
                let (s, id) = (store.clone(), *id);
                let len = bytes.len() as u64;
                let st = tokio::task::spawn_blocking(move || s.stage(&id, &bytes))
                    .await
                    .map_err(std::io::Error::other)??;
                staged.push(st);
                progress(len);
            }
            Ok(None) => missing.push(*id),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    // What arrived intact is kept even when the stream broke midway.
    let s = store.clone();
    tokio::task::spawn_blocking(move || s.settle(staged))
        .await
        .map_err(std::io::Error::other)??;
    result?;
    Ok(missing)
}

async fn read_one(stream: &mut Stream, id: &BlockId) -> std::io::Result<Option<Vec<u8>>> {
    let mut flag = [0u8; 1];
    stream.read_exact(&mut flag).await?;
    if flag[0] == 0 {
        return Ok(None);
    }
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len);
    if len > MAX_BLOCK {
        return Err(std::io::Error::other("a peer sent an oversized block"));
    }
    let mut bytes = vec![0u8; len as usize];
    stream.read_exact(&mut bytes).await?;
    if BlockId::of(&bytes) != *id {
        return Err(std::io::Error::other(format!(
            "a peer sent block {} with the wrong content",
            id.to_hex()
        )));
    }
    Ok(Some(bytes))
}
