//! The mesh: one libp2p swarm per process, joined to at most one private
//! network (a swarm key and a bootstrap list). This module owns the
//! network lifecycle (create, join, connect, disconnect, rotate) and hands
//! out the swarm to the features that ride it: node gossip (`nodes.rs`),
//! vault replication (`replicate.rs`), speed tests (`speed.rs`), and the
//! raw stream protocols other services register (`services.rs`). With no
//! active network the daemon runs in limited mode and the routes that need
//! the mesh answer 503.

mod blocks;
pub mod gossip;
pub mod networks;
mod nodes;
pub mod protocol;
pub mod psk;
pub mod replicas;
mod replicate;
pub mod services;
pub mod speed;
mod swarm;
pub mod transport;
pub mod urls;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use libp2p::{Multiaddr, PeerId, identity::Keypair};
use serde::Serialize;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::catalog::{Catalog, CatalogError};
use crate::config::MeshConfig;
use crate::events::EventBus;
use crate::vaults::{VaultError, Vaults};
use networks::{InviteCheck, Network, Networks};
use protocol::{Request, Response};
use replicas::Replicas;
use swarm::{Command, Facts};
use transport::ByteCounters;

pub use nodes::NodeView;
pub use replicate::ReplicationStatus;

#[derive(Debug, thiserror::Error)]
pub enum MeshError {
    #[error("{0}")]
    Invalid(String),
    #[error("no such network")]
    NoSuchNetwork,
    #[error(
        "limited mode: this node is not connected to a network, so it cannot do this; create or join one on the Network page"
    )]
    Offline,
    #[error("no such node")]
    NoSuchNode,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Unreachable(String),
    #[error("the mesh could not start: {0}")]
    Start(String),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Default lifetime of an invite.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// Longest lifetime an invite may be given.
pub const MAX_INVITE_TTL_MS: i64 = 90 * 24 * 3600 * 1000;

/// What `/system/status` and `GET /networks` say about the mesh.
#[derive(Debug, Clone, Serialize)]
pub struct MeshStatus {
    /// `none` (no network saved as active), `offline` (disconnected),
    /// `connecting` (no member reached yet) or `connected`.
    pub state: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub listen_addrs: Vec<String>,
    pub peers: usize,
}

#[derive(Clone)]
pub struct Mesh {
    inner: Arc<Inner>,
}

struct Inner {
    catalog: Catalog,
    vaults: Vaults,
    /// Display name, avatar and country: what gossip shows of this node.
    profile: crate::profile::Profile,
    replicas: Replicas,
    networks: Networks,
    events: EventBus,
    config: MeshConfig,
    keypair: Keypair,
    started_ms: i64,
    facts: Arc<Mutex<Facts>>,
    counters: Arc<ByteCounters>,
    throughput: Mutex<speed::Ring>,
    /// The running swarm, if any (start/stop are serialised by this lock).
    live: tokio::sync::Mutex<Option<Live>>,
    /// Quick access to the running swarm for requests and streams.
    handle: Mutex<Option<Handle>>,
    /// The last announcement of every node heard from.
    nodes: Mutex<HashMap<PeerId, (gossip::NodeInfo, i64)>>,
    /// Wakes the replicator.
    wake: Notify,
    /// Wakes the announcer.
    announce: Notify,
    status: Mutex<HashMap<String, ReplicationStatus>>,
    /// Stream protocols services registered (`services.rs`).
    services: Mutex<services::Registry>,
    shutdown: CancellationToken,
}

struct Live {
    network: Network,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Handle {
    commands: mpsc::UnboundedSender<Command>,
    control: libp2p_stream::Control,
    /// Cancelled when this run of the swarm ends.
    cancel: CancellationToken,
}

fn port_zero(a: &Multiaddr) -> bool {
    a.iter()
        .any(|p| matches!(p, libp2p::multiaddr::Protocol::Tcp(0)))
}

/// The daemon's services the mesh works with.
pub struct Services {
    pub catalog: Catalog,
    pub vaults: Vaults,
    pub profile: crate::profile::Profile,
    pub events: EventBus,
}

impl Mesh {
    pub fn new(
        services: Services,
        keypair: Keypair,
        config: MeshConfig,
        started_ms: i64,
        shutdown: CancellationToken,
    ) -> Self {
        let Services {
            catalog,
            vaults,
            profile,
            events,
        } = services;
        Self {
            inner: Arc::new(Inner {
                replicas: Replicas::new(catalog.clone()),
                networks: Networks::new(catalog.clone()),
                catalog,
                vaults,
                profile,
                events,
                config,
                keypair,
                started_ms,
                facts: Arc::default(),
                counters: Arc::default(),
                throughput: Mutex::default(),
                live: tokio::sync::Mutex::new(None),
                handle: Mutex::new(None),
                nodes: Mutex::default(),
                wake: Notify::new(),
                announce: Notify::new(),
                status: Mutex::default(),
                services: Mutex::default(),
                shutdown,
            }),
        }
    }

    pub fn peer_id(&self) -> PeerId {
        self.inner.keypair.public().to_peer_id()
    }

    pub fn networks(&self) -> &Networks {
        &self.inner.networks
    }

    pub fn replicas(&self) -> &Replicas {
        &self.inner.replicas
    }

    fn facts(&self) -> std::sync::MutexGuard<'_, Facts> {
        self.inner.facts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn handle(&self) -> Option<Handle> {
        self.inner
            .handle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Start the background tasks and connect to the active network, if
    /// one is saved. A network that cannot start leaves the daemon up in
    /// limited mode (logged).
    pub async fn start(&self) -> Result<(), MeshError> {
        replicate::spawn(self.clone());
        nodes::spawn_announcer(self.clone());
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval(std::time::Duration::from_millis(speed::BUCKET_MS as u64));
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = me.inner.shutdown.cancelled() => break,
                    _ = tick.tick() => {
                        let counters = me.inner.counters.clone();
                        me.inner.throughput.lock().unwrap_or_else(|p| p.into_inner()).sample(&counters);
                    }
                }
            }
        });
        if let Some(net) = self.inner.networks.active().await?
            && let Err(e) = self.run(net).await
        {
            tracing::error!(error = %e, "the mesh did not start; running in limited mode");
        }
        Ok(())
    }

    /// Stop the swarm (daemon shutdown or disconnect).
    pub async fn stop(&self) {
        let mut live = self.inner.live.lock().await;
        self.stop_locked(&mut live).await;
    }

    async fn stop_locked(&self, live: &mut Option<Live>) {
        *self.inner.handle.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if let Some(l) = live.take() {
            l.cancel.cancel();
            let _ = l.task.await;
            self.inner
                .nodes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
            self.inner.events.publish(
                "network_changed",
                serde_json::json!({"state": "offline", "id": l.network.id, "name": l.network.name}),
            );
        }
    }

    /// (Re)start the swarm on `net`.
    async fn run(&self, net: Network) -> Result<(), MeshError> {
        let mut live = self.inner.live.lock().await;
        // Addresses of members from the run before, so a restart (a key
        // rotation, a reconnect) finds them again.
        let remembered: Vec<Multiaddr> = {
            let f = self.facts();
            f.known_addrs
                .iter()
                .flat_map(|(p, addrs)| {
                    addrs
                        .iter()
                        .map(|a| a.clone().with_p2p(*p).unwrap_or_else(|a| a))
                })
                .collect()
        };
        // A restart in this process listens where the last run did (a
        // configured port 0 would otherwise move, and members could not
        // find us again).
        let previous: Vec<Multiaddr> = self.facts().listen_addrs.clone();
        self.stop_locked(&mut live).await;
        let key = psk::parse(&net.psk).map_err(MeshError::Invalid)?;
        let parse = |list: &[String]| -> Vec<Multiaddr> {
            list.iter().filter_map(|a| a.parse().ok()).collect()
        };
        let configured = parse(&self.inner.config.listen);
        let listen = if !previous.is_empty() && configured.iter().any(port_zero) {
            previous
        } else {
            configured
        };
        let relay_server = self.inner.config.relay_server.unwrap_or_else(|| {
            listen.iter().any(|a| {
                !a.iter().any(|p| {
                    matches!(p, libp2p::multiaddr::Protocol::Ip4(ip) if ip.is_loopback())
                        || matches!(p, libp2p::multiaddr::Protocol::Ip6(ip) if ip.is_loopback())
                })
            })
        });
        let settings = swarm::Settings {
            keypair: self.inner.keypair.clone(),
            psk: key,
            listen,
            bootstrap: parse(&net.bootstrap),
            remembered,
            mdns: self.inner.config.mdns,
            relay_server,
            external: parse(&self.inner.config.external_addrs),
            counters: self.inner.counters.clone(),
        };
        let cancel = self.inner.shutdown.child_token();
        let started = swarm::start(settings, self.inner.facts.clone(), cancel.clone())
            .map_err(MeshError::Start)?;
        let handle = Handle {
            commands: started.commands.clone(),
            control: started.control.clone(),
            cancel: cancel.clone(),
        };
        tokio::spawn(blocks::serve(
            started.control.clone(),
            self.inner.vaults.block_store().clone(),
        ));
        tokio::spawn(speed::serve(started.control.clone()));
        let me = self.clone();
        let dispatch_cancel = cancel.clone();
        let mut events = started.events;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = dispatch_cancel.cancelled() => break,
                    ev = events.recv() => match ev {
                        Some(ev) => me.on_swarm_event(ev),
                        None => break,
                    }
                }
            }
        });
        *self.inner.handle.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        for (protocol, tx) in self
            .inner
            .services
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            services::attach(
                started.control.clone(),
                protocol.clone(),
                tx.clone(),
                cancel.clone(),
            );
        }
        self.inner.events.publish(
            "network_changed",
            serde_json::json!({"state": "connecting", "id": net.id, "name": net.name}),
        );
        tracing::info!(network = %net.name, "mesh started");
        *live = Some(Live {
            network: net,
            cancel,
            task: started.task,
        });
        Ok(())
    }

    fn on_swarm_event(&self, ev: swarm::SwarmEvent) {
        match ev {
            swarm::SwarmEvent::PeerConnected(peer) => {
                self.inner.events.publish(
                    "peer_connected",
                    serde_json::json!({"peer_id": peer.to_string()}),
                );
                self.inner.announce.notify_one();
                self.inner.wake.notify_one();
            }
            swarm::SwarmEvent::PeerDisconnected(peer) => {
                self.inner.events.publish(
                    "peer_disconnected",
                    serde_json::json!({"peer_id": peer.to_string()}),
                );
                self.inner.wake.notify_one();
            }
            swarm::SwarmEvent::Announcement(peer, data) => self.heard(peer, &data),
            swarm::SwarmEvent::Identified(peer, addrs) => {
                // Remember where members listen, so a restart finds them.
                let me = self.clone();
                tokio::spawn(async move {
                    if let Ok(net) = me.running().await {
                        let _ = me
                            .inner
                            .networks
                            .remember_member(&net.id, &peer, &addrs)
                            .await;
                    }
                });
            }
            swarm::SwarmEvent::Inbound { peer, req, channel } => {
                let me = self.clone();
                tokio::spawn(async move {
                    let resp = me.answer(peer, req).await;
                    if let Some(h) = me.handle() {
                        let _ = h.commands.send(Command::Respond { channel, resp });
                    }
                });
            }
        }
    }

    /// Ask `peer` something over the sync protocol.
    async fn request(&self, peer: PeerId, req: Request) -> Result<Response, MeshError> {
        let h = self.handle().ok_or(MeshError::Offline)?;
        let (tx, rx) = oneshot::channel();
        h.commands
            .send(Command::Request {
                peer,
                req,
                reply: tx,
            })
            .map_err(|_| MeshError::Offline)?;
        rx.await
            .map_err(|_| MeshError::Offline)?
            .map_err(|e| MeshError::Unreachable(format!("the peer did not answer: {e}")))
    }

    /// Answer a member's request.
    async fn answer(&self, peer: PeerId, req: Request) -> Response {
        let refused = |e: MeshError| Response::Refused {
            reason: e.to_string(),
        };
        match req {
            Request::VersionIds { vault_id } => match self.held_version_ids(&vault_id).await {
                Ok(ids) => Response::VersionIds { ids },
                Err(e) => refused(e),
            },
            Request::Manifests { vault_id, ids } => {
                let ids: Vec<String> = ids.into_iter().take(protocol::MANIFEST_BATCH).collect();
                match self.held_manifests(&vault_id, ids).await {
                    Ok(items) => Response::Manifests { items },
                    Err(e) => refused(e),
                }
            }
            Request::Admit {
                network_id,
                invite_id,
            } => {
                match self
                    .inner
                    .networks
                    .check_invite(&network_id, &invite_id)
                    .await
                {
                    Ok(InviteCheck::Valid) | Ok(InviteCheck::Unknown) => Response::Ok,
                    Ok(InviteCheck::Expired) => Response::Refused {
                        reason: "this invite has expired".into(),
                    },
                    Ok(InviteCheck::Revoked) => Response::Refused {
                        reason: "this invite was revoked".into(),
                    },
                    Err(e) => refused(e),
                }
            }
            Request::Rotate {
                network_id,
                swarm_key,
                at_ms,
            } => {
                match self
                    .accept_rotation(peer, &network_id, &swarm_key, at_ms)
                    .await
                {
                    Ok(()) => Response::Ok,
                    Err(e) => refused(e),
                }
            }
        }
    }

    /// The mesh's state for status routes.
    pub async fn status(&self) -> MeshStatus {
        let live = self.inner.live.lock().await;
        let f = self.facts();
        match live.as_ref() {
            Some(l) => MeshStatus {
                state: if f.connected.is_empty() {
                    "connecting"
                } else {
                    "connected"
                }
                .into(),
                id: Some(l.network.id.clone()),
                name: Some(l.network.name.clone()),
                listen_addrs: f.listen_addrs.iter().map(ToString::to_string).collect(),
                peers: f.connected.len(),
            },
            None => MeshStatus {
                state: "none".into(),
                id: None,
                name: None,
                listen_addrs: Vec::new(),
                peers: 0,
            },
        }
    }

    /// Members connected now and whether any vault is catching up: what
    /// the tray shows.
    pub fn activity(&self) -> (bool, usize, bool) {
        let online = self.handle().is_some();
        let peers = self.facts().connected.len();
        let syncing = self
            .inner
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .any(|s| s.state == "syncing");
        (online, peers, syncing)
    }

    /// The state, telling "no network at all" from "networks saved, none
    /// connected".
    pub async fn state_label(&self) -> Result<MeshStatus, MeshError> {
        let mut s = self.status().await;
        if s.id.is_none() && !self.inner.networks.list().await?.is_empty() {
            s.state = "offline".into();
        }
        Ok(s)
    }

    /// The active network while the swarm runs.
    async fn running(&self) -> Result<Network, MeshError> {
        self.inner
            .live
            .lock()
            .await
            .as_ref()
            .map(|l| l.network.clone())
            .ok_or(MeshError::Offline)
    }

    /// Addresses other members can dial us on, each ending in our peer id.
    pub fn reachable_addrs(&self) -> Vec<String> {
        let me = self.peer_id();
        let f = self.facts();
        let mut out: Vec<String> = Vec::new();
        let listen = f.listen_addrs.iter().cloned();
        let external = self
            .inner
            .config
            .external_addrs
            .iter()
            .filter_map(|a| a.parse::<Multiaddr>().ok());
        for a in external.chain(listen) {
            // 0.0.0.0 is where we listen, not where anyone can reach us.
            if a.iter()
                .any(|p| matches!(p, libp2p::multiaddr::Protocol::Ip4(ip) if ip.is_unspecified()))
            {
                continue;
            }
            let full = a.with_p2p(me).unwrap_or_else(|a| a).to_string();
            if !out.contains(&full) {
                out.push(full);
            }
        }
        out
    }

    // ---- networks ----

    /// Mint a new network; connect to it when no network is active.
    pub async fn create(&self, name: &str) -> Result<Network, MeshError> {
        let id = format!(
            "net_{}",
            hex::encode(crate::identity::crypto::random_bytes::<8>())
        );
        let net = self
            .inner
            .networks
            .upsert(&id, name, &psk::mint(), Vec::new())
            .await?;
        self.connect_if_idle(&net).await?;
        self.inner.networks.get(&id).await
    }

    /// Save a network from an invite URL (checking it with a member when
    /// one answers) and connect to it when none is active.
    pub async fn add_from_url(&self, url: &str, name: Option<&str>) -> Result<Network, MeshError> {
        let inv = urls::parse_join(url).map_err(MeshError::Invalid)?;
        psk::parse(&inv.swarm_key).map_err(MeshError::Invalid)?;
        if inv.expires_ms < crate::time::now_ms() {
            return Err(MeshError::Gone(
                "this invite has expired: ask for a new one".into(),
            ));
        }
        let name = name.unwrap_or(&inv.name);
        let net = self
            .inner
            .networks
            .upsert(&inv.network_id, name, &inv.swarm_key, inv.bootstrap.clone())
            .await?;
        self.connect_if_idle(&net).await?;
        if self.running().await.is_ok_and(|r| r.id == net.id) {
            self.admit(&inv).await?;
        }
        self.inner.networks.get(&net.id).await
    }

    /// Present the invite to the members it names; a member that minted it
    /// and finds it revoked or expired gets the network forgotten again.
    async fn admit(&self, inv: &urls::JoinInvite) -> Result<(), MeshError> {
        let peers: Vec<PeerId> = inv
            .bootstrap
            .iter()
            .filter_map(|a| a.parse::<Multiaddr>().ok())
            .filter_map(|a| match a.iter().last() {
                Some(libp2p::multiaddr::Protocol::P2p(p)) => Some(p),
                _ => None,
            })
            .collect();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            let connected: Vec<PeerId> = {
                let f = self.facts();
                peers
                    .iter()
                    .filter(|p| f.connected.contains_key(p))
                    .copied()
                    .collect()
            };
            if let Some(peer) = connected.first() {
                let req = Request::Admit {
                    network_id: inv.network_id.clone(),
                    invite_id: inv.invite_id.clone(),
                };
                return match self.request(*peer, req).await {
                    Ok(Response::Refused { reason }) => {
                        self.disconnect().await?;
                        let _ = self.inner.networks.delete(&inv.network_id).await;
                        Err(MeshError::Refused(format!(
                            "the network refused this invite: {reason}"
                        )))
                    }
                    _ => Ok(()),
                };
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // No member reachable now: the invite could not be checked; the
        // network stays saved and the swarm keeps trying.
        Ok(())
    }

    async fn connect_if_idle(&self, net: &Network) -> Result<(), MeshError> {
        if self.inner.live.lock().await.is_none() && self.inner.networks.active().await?.is_none() {
            self.connect(&net.id).await?;
        }
        Ok(())
    }

    /// Forget a network; not the one connected now.
    pub async fn delete_network(&self, id: &str) -> Result<(), MeshError> {
        let net = self.inner.networks.get(id).await?;
        if self.running().await.is_ok_and(|r| r.id == net.id) {
            return Err(MeshError::Conflict(
                "this network is connected: disconnect first, then forget it".into(),
            ));
        }
        self.inner.networks.delete(id).await
    }

    /// Switch onto network `id` (the swarm restarts on its key).
    pub async fn connect(&self, id: &str) -> Result<MeshStatus, MeshError> {
        let net = self.inner.networks.get(id).await?;
        self.inner.networks.set_active(Some(id)).await?;
        self.run(net).await?;
        Ok(self.status().await)
    }

    /// Leave the network: the daemon stays up, offline.
    pub async fn disconnect(&self) -> Result<MeshStatus, MeshError> {
        let was = self.running().await.ok();
        self.inner.networks.set_active(None).await?;
        self.stop().await;
        Ok(MeshStatus {
            state: "offline".into(),
            id: was.as_ref().map(|n| n.id.clone()),
            name: was.map(|n| n.name),
            listen_addrs: Vec::new(),
            peers: 0,
        })
    }

    /// A fresh invite URL for network `id`.
    pub async fn invite(&self, id: &str, ttl_ms: Option<i64>) -> Result<(String, i64), MeshError> {
        let (url, _, expires) = self.invite_with_id(id, ttl_ms).await?;
        Ok((url, expires))
    }

    /// A fresh invite URL, its id (to revoke it) and when it expires.
    pub async fn invite_with_id(
        &self,
        id: &str,
        ttl_ms: Option<i64>,
    ) -> Result<(String, String, i64), MeshError> {
        let net = self.inner.networks.get(id).await?;
        let ttl = ttl_ms.unwrap_or(INVITE_TTL_MS);
        if !(60_000..=MAX_INVITE_TTL_MS).contains(&ttl) {
            return Err(MeshError::Invalid(
                "an invite lives from 1 minute to 90 days".into(),
            ));
        }
        let (invite_id, expires_ms) = self.inner.networks.mint_invite(id, ttl).await?;
        let mut bootstrap = if self.running().await.is_ok_and(|r| r.id == net.id) {
            self.reachable_addrs()
        } else {
            Vec::new()
        };
        for a in net.bootstrap {
            if !bootstrap.contains(&a) {
                bootstrap.push(a);
            }
        }
        bootstrap.truncate(networks::MAX_BOOTSTRAP);
        let url = urls::join_url(&urls::JoinInvite {
            network_id: net.id,
            name: net.name,
            swarm_key: net.psk,
            bootstrap,
            invite_id: invite_id.clone(),
            expires_ms,
        });
        Ok((url, invite_id, expires_ms))
    }

    /// Set up from a raw swarm key (first boot): save, make active, connect.
    pub async fn setup(
        &self,
        swarm_key: &str,
        bootstrap: &[String],
        name: Option<&str>,
    ) -> Result<Network, MeshError> {
        let key = psk::parse(swarm_key).map_err(MeshError::Invalid)?;
        let text = psk::format(&key);
        // The same key is the same network: reuse its id if saved.
        let existing = self
            .inner
            .networks
            .list()
            .await?
            .into_iter()
            .find(|n| n.psk == text);
        let id = existing.as_ref().map(|n| n.id.clone()).unwrap_or_else(|| {
            format!(
                "net_{}",
                hex::encode(crate::identity::crypto::random_bytes::<8>())
            )
        });
        let name = name
            .map(str::to_owned)
            .or(existing.map(|n| n.name))
            .unwrap_or_else(|| "My network".into());
        self.inner
            .networks
            .upsert(&id, &name, &text, bootstrap.to_vec())
            .await?;
        self.connect(&id).await?;
        self.inner.networks.get(&id).await
    }

    /// Take the bootstrap addresses out of an invite URL.
    pub fn bootstrap_of(url: &str) -> Result<Vec<String>, MeshError> {
        Ok(urls::parse_join(url).map_err(MeshError::Invalid)?.bootstrap)
    }

    /// Replace or extend a network's bootstrap list; a running swarm dials
    /// the new entries at once.
    pub async fn set_bootstrap(
        &self,
        id: &str,
        addrs: &[String],
        append: bool,
    ) -> Result<Network, MeshError> {
        let net = self.inner.networks.set_bootstrap(id, addrs, append).await?;
        if self.running().await.is_ok_and(|r| r.id == net.id)
            && let Some(h) = self.handle()
        {
            for a in &net.bootstrap {
                if let Ok(m) = a.parse() {
                    let _ = h.commands.send(Command::Dial(m));
                }
            }
        }
        Ok(net)
    }

    /// Rotate the network's key: push the new key (over the old one) to
    /// every connected member, then all switch at the same moment.
    pub async fn rotate(&self, id: &str) -> Result<(String, usize), MeshError> {
        let net = self.inner.networks.get(id).await?;
        let new_key = psk::mint();
        let at_ms = crate::time::now_ms() + 2_000;
        let mut pushed = 0;
        if self.running().await.is_ok_and(|r| r.id == net.id) {
            let peers: Vec<PeerId> = self.facts().connected.keys().copied().collect();
            let asks = peers.into_iter().map(|peer| {
                let me = self.clone();
                let req = Request::Rotate {
                    network_id: net.id.clone(),
                    swarm_key: new_key.clone(),
                    at_ms,
                };
                async move { matches!(me.request(peer, req).await, Ok(Response::Ok)) }
            });
            pushed = futures::future::join_all(asks)
                .await
                .into_iter()
                .filter(|ok| *ok)
                .count();
            self.inner.networks.set_psk(&net.id, &new_key).await?;
            self.switch_at(net.id.clone(), at_ms);
        } else {
            self.inner.networks.set_psk(&net.id, &new_key).await?;
        }
        let fp = psk::fingerprint(&psk::parse(&new_key).map_err(MeshError::Invalid)?);
        Ok((fp, pushed))
    }

    async fn accept_rotation(
        &self,
        from: PeerId,
        network_id: &str,
        swarm_key: &str,
        at_ms: i64,
    ) -> Result<(), MeshError> {
        let net = self.running().await?;
        if net.id != network_id {
            return Err(MeshError::Invalid("not the network this node is on".into()));
        }
        let key = psk::parse(swarm_key).map_err(MeshError::Invalid)?;
        self.inner
            .networks
            .set_psk(&net.id, &psk::format(&key))
            .await?;
        tracing::info!(%from, "swarm key rotated by a member");
        let now = crate::time::now_ms();
        self.switch_at(net.id, at_ms.clamp(now, now + 30_000));
        Ok(())
    }

    /// Restart the swarm on the stored key at `at_ms`.
    fn switch_at(&self, network_id: String, at_ms: i64) {
        let me = self.clone();
        tokio::spawn(async move {
            let wait = (at_ms - crate::time::now_ms()).max(0) as u64;
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            match me.inner.networks.get(&network_id).await {
                Ok(net) if net.active => {
                    if let Err(e) = me.run(net).await {
                        tracing::error!(error = %e, "restart after key rotation failed");
                    }
                }
                _ => {}
            }
        });
    }

    /// What a new device needs to join (the active network's key).
    pub async fn share(&self) -> Result<(String, Vec<String>, String), MeshError> {
        let net = self.running().await?;
        let (url, _) = self.invite(&net.id, None).await?;
        let bootstrap = Self::bootstrap_of(&url)?;
        Ok((net.psk, bootstrap, url))
    }

    /// Speed test against a connected member; kept in its history.
    pub async fn speedtest(&self, peer: &str) -> Result<speed::SpeedResult, MeshError> {
        let peer: PeerId = peer
            .parse()
            .map_err(|_| MeshError::Invalid("not a peer id".into()))?;
        let mut h = self.handle().ok_or(MeshError::Offline)?;
        if !self.facts().connected.contains_key(&peer) {
            return Err(MeshError::NoSuchNode);
        }
        let r = speed::run(&mut h.control, peer, speed::TEST_BYTES)
            .await
            .map_err(MeshError::Unreachable)?;
        let row = r.clone();
        self.inner
            .catalog
            .write(move |c| {
                c.execute(
                    "INSERT INTO speedtests (peer_id, ts_ms, latency_ms, bytes, duration_ms, throughput_bps)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    rusqlite::params![row.peer_id, row.ts_ms, row.latency_ms, row.bytes as i64, row.duration_ms, row.throughput_bps],
                )?;
                c.execute(
                    "DELETE FROM speedtests WHERE peer_id = ?1 AND ts_ms NOT IN
                       (SELECT ts_ms FROM speedtests WHERE peer_id = ?1 ORDER BY ts_ms DESC LIMIT 50)",
                    [&row.peer_id],
                )
            })
            .await?;
        Ok(r)
    }

    pub async fn speed_history(&self, peer: &str) -> Result<Vec<speed::SpeedResult>, MeshError> {
        let peer: PeerId = peer
            .parse()
            .map_err(|_| MeshError::Invalid("not a peer id".into()))?;
        let p = peer.to_string();
        Ok(self
            .inner
            .catalog
            .read(move |c| {
                let mut s = c.prepare(
                    "SELECT peer_id, latency_ms, bytes, duration_ms, throughput_bps, ts_ms FROM speedtests
                     WHERE peer_id = ?1 ORDER BY ts_ms DESC LIMIT 50",
                )?;
                s.query_map([p], |r| {
                    Ok(speed::SpeedResult {
                        peer_id: r.get(0)?,
                        latency_ms: r.get(1)?,
                        bytes: r.get::<_, i64>(2)? as u64,
                        duration_ms: r.get(3)?,
                        throughput_bps: r.get(4)?,
                        ts_ms: r.get(5)?,
                    })
                })?
                .collect()
            })
            .await?)
    }

    /// The 10-minute throughput ring.
    pub fn throughput(&self) -> Vec<speed::Bucket> {
        let counters = self.inner.counters.clone();
        self.inner
            .throughput
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot(&counters)
    }

    /// Relay and reachability facts for `/system/nat`.
    pub fn nat(&self) -> serde_json::Value {
        let f = self.facts();
        let relayed = f.relayed.values().filter(|r| **r).count();
        serde_json::json!({
            "upnp": {"enabled": false, "available": false,
                     "reason": "UPnP port mapping is not built into Holdfast; forward the mesh port on your router, or rely on a relay"},
            "ipinfo": {"available": false, "reason": "Holdfast does not call outside lookup services"},
            "listen_addrs": f.listen_addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "external_addrs": self.inner.config.external_addrs,
            "relay_server": self.inner.config.relay_server,
            "relayed_peers": relayed,
            "direct_peers": f.connected.len() - relayed,
        })
    }
}
