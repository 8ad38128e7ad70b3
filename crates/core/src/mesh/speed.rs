//! Speed tests over the real transport (`/holdfast/speedtest/1`: the asker
//! sends 8-byte pings that are echoed, then asks for N bytes) and the
//! 10-minute throughput ring of what the mesh sockets really carried.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::{PeerId, Stream};
use serde::Serialize;

use super::protocol::SPEED;
use super::transport::ByteCounters;
use crate::time::now_ms;

/// Bytes a speed test moves (enough to leave slow start, small enough to
/// be quick on a phone link).
pub const TEST_BYTES: u64 = 16 * 1024 * 1024;
/// Most bytes a peer may ask us to send.
const MAX_ASK: u64 = 256 * 1024 * 1024;
const PINGS: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct SpeedResult {
    pub peer_id: String,
    pub latency_ms: f64,
    pub bytes: u64,
    pub duration_ms: f64,
    pub throughput_bps: f64,
    pub ts_ms: i64,
}

pub(super) async fn serve(mut control: libp2p_stream::Control) {
    let Ok(mut incoming) = control.accept(SPEED) else {
        return;
    };
    while let Some((peer, stream)) = incoming.next().await {
        tokio::spawn(async move {
            if let Err(e) = answer(stream).await {
                tracing::debug!(%peer, error = %e, "speed test ended");
            }
        });
    }
}

async fn answer(mut s: Stream) -> std::io::Result<()> {
    let mut buf = [0u8; 8];
    for _ in 0..PINGS {
        s.read_exact(&mut buf).await?;
        s.write_all(&buf).await?;
        s.flush().await?;
    }
    s.read_exact(&mut buf).await?;
    let ask = u64::from_be_bytes(buf).min(MAX_ASK);
    let chunk = vec![0u8; 256 * 1024];
    let mut left = ask;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        s.write_all(&chunk[..n]).await?;
        left -= n as u64;
    }
    s.close().await
}

pub(super) async fn run(
    control: &mut libp2p_stream::Control,
    peer: PeerId,
    bytes: u64,
) -> Result<SpeedResult, String> {
    let mut s = control
        .open_stream(peer, SPEED)
        .await
        .map_err(|e| format!("cannot reach the peer: {e}"))?;
    let io = |e: std::io::Error| format!("the test broke off: {e}");
    let mut best = Duration::MAX;
    let mut buf = [0u8; 8];
    for i in 0..PINGS {
        let t = Instant::now();
        s.write_all(&(i as u64).to_be_bytes()).await.map_err(io)?;
        s.flush().await.map_err(io)?;
        s.read_exact(&mut buf).await.map_err(io)?;
        best = best.min(t.elapsed());
    }
    let t = Instant::now();
    s.write_all(&bytes.to_be_bytes()).await.map_err(io)?;
    s.flush().await.map_err(io)?;
    let mut got = 0u64;
    let mut chunk = vec![0u8; 256 * 1024];
    while got < bytes {
        let n = s.read(&mut chunk).await.map_err(io)?;
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    let secs = t.elapsed().as_secs_f64().max(1e-6);
    Ok(SpeedResult {
        peer_id: peer.to_string(),
        latency_ms: best.as_secs_f64() * 1000.0,
        bytes: got,
        duration_ms: secs * 1000.0,
        throughput_bps: got as f64 * 8.0 / secs,
        ts_ms: now_ms(),
    })
}

pub const BUCKET_MS: i64 = 10_000;
const BUCKETS: usize = 60;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Bucket {
    pub ts_ms: i64,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// Ten minutes of 10-second buckets, filled from the socket counters.
#[derive(Default)]
pub struct Ring {
    buckets: VecDeque<Bucket>,
    last: (u64, u64),
}

impl Ring {
    /// Close the bucket that just ended.
    pub fn sample(&mut self, counters: &ByteCounters) {
        let (r, w) = (
            counters.read.load(Ordering::Relaxed),
            counters.written.load(Ordering::Relaxed),
        );
        let start = now_ms() / BUCKET_MS * BUCKET_MS - BUCKET_MS;
        self.buckets.push_back(Bucket {
            ts_ms: start,
            bytes_in: r.saturating_sub(self.last.0),
            bytes_out: w.saturating_sub(self.last.1),
        });
        self.last = (r, w);
        while self.buckets.len() > BUCKETS {
            self.buckets.pop_front();
        }
    }

    /// The ring, oldest first, with the bucket in progress last.
    pub fn snapshot(&self, counters: &ByteCounters) -> Vec<Bucket> {
        let mut out: Vec<Bucket> = self.buckets.iter().copied().collect();
        out.push(Bucket {
            ts_ms: now_ms() / BUCKET_MS * BUCKET_MS,
            bytes_in: counters
                .read
                .load(Ordering::Relaxed)
                .saturating_sub(self.last.0),
            bytes_out: counters
                .written
                .load(Ordering::Relaxed)
                .saturating_sub(self.last.1),
        });
        out
    }
}
