//! The seam for services that ride the swarm on their own raw stream
//! protocol (agent access today; chat, calls and tunnels later). A service
//! registers its protocol once with [`Mesh::accept_protocol`] and reads
//! [`IncomingStreams`] for the life of the daemon: the registration outlives
//! swarm restarts (a key rotation, a disconnect and reconnect), because
//! every swarm the mesh starts is wired to every registered protocol. The
//! other side opens a stream with [`Mesh::open_stream`], which dials the
//! peer at the addresses it was given when it is not connected yet.
//!
//! Only members of the network reach a stream (pnet keeps everyone else
//! out), but a member is not automatically trusted: each service checks its
//! own credential on the stream, and bounds what it reads.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use libp2p::{Stream, StreamProtocol};

use super::swarm::Command;
use super::{Mesh, MeshError};

/// Streams queued for a service before the mesh waits for it to take them.
const QUEUE: usize = 64;

/// The registered services: protocol → where their inbound streams go.
pub(super) type Registry = HashMap<StreamProtocol, mpsc::Sender<(PeerId, Stream)>>;

/// Inbound streams of one protocol, from whichever member opened them.
pub struct IncomingStreams {
    rx: mpsc::Receiver<(PeerId, Stream)>,
}

impl IncomingStreams {
    /// The next stream and the member that opened it; `None` once the mesh
    /// is dropped.
    pub async fn next(&mut self) -> Option<(PeerId, Stream)> {
        self.rx.recv().await
    }
}

/// Hand the inbound streams of `protocol` on `control` to `tx` until
/// `cancel` (the end of that swarm's run).
pub(super) fn attach(
    mut control: libp2p_stream::Control,
    protocol: StreamProtocol,
    tx: mpsc::Sender<(PeerId, Stream)>,
    cancel: CancellationToken,
) {
    let Ok(mut incoming) = control.accept(protocol.clone()) else {
        // Already wired on this swarm.
        return;
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                next = incoming.next() => match next {
                    Some(item) => {
                        if tx.send(item).await.is_err() {
                            break;
                        }
                    }
                    None => break,
                },
            }
        }
        tracing::debug!(%protocol, "stream service detached from the swarm");
    });
}

impl Mesh {
    /// Receive every stream members open on `protocol`, now and after any
    /// swarm restart. One registration per protocol.
    pub fn accept_protocol(&self, protocol: StreamProtocol) -> Result<IncomingStreams, MeshError> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let mut reg = self
            .inner
            .services
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if reg.get(&protocol).is_some_and(|t| !t.is_closed()) {
            return Err(MeshError::Conflict(format!(
                "{protocol} already has a service"
            )));
        }
        reg.insert(protocol.clone(), tx.clone());
        if let Some(h) = self.handle() {
            attach(h.control, protocol, tx, h.cancel);
        }
        Ok(IncomingStreams { rx })
    }

    /// Whether `peer` is connected now.
    pub fn is_connected(&self, peer: &PeerId) -> bool {
        self.facts().connected.contains_key(peer)
    }

    /// Open a stream to `peer` on `protocol`. When the peer is not
    /// connected it is dialled at `addrs` (multiaddrs, with or without its
    /// `/p2p/` id; others' ids are skipped) and at what the swarm already
    /// knows, for up to `timeout`.
    pub async fn open_stream(
        &self,
        peer: PeerId,
        addrs: &[String],
        protocol: StreamProtocol,
        timeout: Duration,
    ) -> Result<Stream, MeshError> {
        if peer == self.peer_id() {
            return Err(MeshError::Invalid("that peer is this node".into()));
        }
        let h = self.handle().ok_or(MeshError::Offline)?;
        let deadline = tokio::time::Instant::now() + timeout;
        if !self.is_connected(&peer) {
            for a in addrs.iter().take(16) {
                let Ok(addr) = a.parse::<Multiaddr>() else {
                    continue;
                };
                let addr = match addr.iter().last() {
                    Some(Protocol::P2p(p)) if p == peer => addr,
                    Some(Protocol::P2p(_)) => continue,
                    _ => addr.with(Protocol::P2p(peer)),
                };
                let _ = h.commands.send(Command::Dial(addr));
            }
            // The stream behaviour's own dial knows no addresses, so wait
            // for ours (or the redialler's) to land first.
            while !self.is_connected(&peer) {
                if tokio::time::Instant::now() >= deadline {
                    return Err(MeshError::Unreachable(
                        "the device is not reachable on the mesh now".into(),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let mut control = h.control;
        match tokio::time::timeout_at(deadline, control.open_stream(peer, protocol.clone())).await {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(libp2p_stream::OpenStreamError::UnsupportedProtocol(_))) => {
                Err(MeshError::Unreachable(format!(
                    "the device does not speak {protocol} (an older Holdfast?)"
                )))
            }
            Ok(Err(e)) => Err(MeshError::Unreachable(format!(
                "the device did not open a stream: {e}"
            ))),
            Err(_) => Err(MeshError::Unreachable(
                "the device did not answer in time".into(),
            )),
        }
    }
}
