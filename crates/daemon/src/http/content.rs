//! A file version's bytes as a response body, shared by REST downloads and
//! S3 GETs: blocks are read, verified and opened a few ahead of the client
//! on the blocking pool (both cores work while the client drains the last
//! one), in order. Memory: at most `READ_AHEAD + 1` chunks (4 MiB each)
//! per download. A client that goes away stops the reading.

use std::sync::Arc;

use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use holdfast_core::vaults::ReadPlan;

/// Blocks a download reads ahead of the client.
const READ_AHEAD: usize = 3;

pub fn plan_body(
    plan: ReadPlan,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + Sync + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        let plan = Arc::new(plan);
        let pieces = futures_util::stream::iter(0..plan.len())
            .map(|i| {
                let plan = plan.clone();
                async move {
                    tokio::task::spawn_blocking(move || plan.piece(i))
                        .await
                        .map_err(std::io::Error::other)?
                        .map(Bytes::from)
                        .map_err(|e| {
                            tracing::error!("download failed mid-stream: {e}");
                            std::io::Error::other(e.to_string())
                        })
                }
            })
            .buffered(READ_AHEAD);
        futures_util::pin_mut!(pieces);
        while let Some(piece) = pieces.next().await {
            let failed = piece.is_err();
            if tx.send(piece).await.is_err() || failed {
                break;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}
