//! The one libp2p swarm: a behaviour per protocol and one event loop that
//! owns them. Features talk to it through [`Command`]s and hear from it
//! through [`SwarmEvent`]s; none reaches into another's state. Chat rooms,
//! calls and tunnels plug in the same way: a behaviour (or a stream
//! protocol on `streams`) and a command or two.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent as LibEvent, dial_opts::DialOpts};
use libp2p::{
    Multiaddr, PeerId, Swarm, dcutr, gossipsub, identify, identity, kad, mdns, multiaddr::Protocol,
    noise, ping, relay, request_response, yamux,
};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::protocol::{self, Request, Response};
use super::transport::{self, ByteCounters};
use crate::time::now_ms;

#[derive(NetworkBehaviour)]
pub(super) struct Behaviour {
    relay_client: relay::client::Behaviour,
    relay: Toggle<relay::Behaviour>,
    dcutr: dcutr::Behaviour,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    kad: kad::Behaviour<kad::store::MemoryStore>,
    gossipsub: gossipsub::Behaviour,
    mdns: Toggle<mdns::tokio::Behaviour>,
    sync: request_response::cbor::Behaviour<Request, Response>,
    pub(super) streams: libp2p_stream::Behaviour,
}

/// What the rest of the daemon asks of the swarm.
pub(super) enum Command {
    Dial(Multiaddr),
    Request {
        peer: PeerId,
        req: Request,
        reply: oneshot::Sender<Result<Response, String>>,
    },
    Respond {
        channel: request_response::ResponseChannel<Response>,
        resp: Response,
    },
    /// Publish a node announcement.
    Announce(Vec<u8>),
    /// Addresses a member announced (direct or through a relay): kept for
    /// dialling it when it is not connected.
    Remember(Vec<Multiaddr>),
}

/// What the swarm tells the rest of the daemon.
pub(super) enum SwarmEvent {
    PeerConnected(PeerId),
    PeerDisconnected(PeerId),
    Announcement(PeerId, Vec<u8>),
    /// A member told us where it listens.
    Identified(PeerId, Vec<Multiaddr>),
    Inbound {
        peer: PeerId,
        req: Request,
        channel: request_response::ResponseChannel<Response>,
    },
}

/// Facts about the running swarm that status routes read.
#[derive(Default)]
pub struct Facts {
    pub listen_addrs: Vec<Multiaddr>,
    /// Connected peers: an address and since when.
    pub connected: HashMap<PeerId, (Multiaddr, i64)>,
    /// Last ping round trip per peer.
    pub rtt: HashMap<PeerId, Duration>,
    /// Addresses peers told us they listen on (identify).
    pub known_addrs: HashMap<PeerId, Vec<Multiaddr>>,
    /// Peers whose connection is relayed.
    pub relayed: HashMap<PeerId, bool>,
}

pub(super) struct Settings {
    pub keypair: identity::Keypair,
    pub psk: libp2p::pnet::PreSharedKey,
    pub listen: Vec<Multiaddr>,
    pub bootstrap: Vec<Multiaddr>,
    /// Addresses of members from before (kept across restarts and rotations).
    pub remembered: Vec<Multiaddr>,
    pub mdns: bool,
    pub relay_server: bool,
    /// Addresses others reach us on (`mesh.external_addrs`).
    pub external: Vec<Multiaddr>,
    pub counters: Arc<ByteCounters>,
}

pub(super) struct Started {
    pub commands: mpsc::UnboundedSender<Command>,
    pub events: mpsc::UnboundedReceiver<SwarmEvent>,
    pub control: libp2p_stream::Control,
    pub task: tokio::task::JoinHandle<()>,
}

fn build(s: &Settings) -> Result<Swarm<Behaviour>, String> {
    let transport = transport::build(&s.keypair, s.psk, s.counters.clone())
        .map_err(|e| format!("transport: {e}"))?;
    let relay_server = s.relay_server;
    let mdns_on = s.mdns;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(s.keypair.clone())
        .with_tokio()
        .with_other_transport(move |_| transport)
        .map_err(|e| format!("transport: {e}"))?
        .with_dns()
        .map_err(|e| format!("dns: {e}"))?
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .map_err(|e| format!("relay client: {e}"))?
        .with_behaviour(|kp, relay_client| {
            let peer_id = kp.public().to_peer_id();
            let mut kad_cfg = kad::Config::new(protocol::KAD);
            kad_cfg.set_periodic_bootstrap_interval(Some(Duration::from_secs(300)));
            let mut kad = kad::Behaviour::with_config(
                peer_id,
                kad::store::MemoryStore::new(peer_id),
                kad_cfg,
            );
            kad.set_mode(Some(kad::Mode::Server));
            let gossip_cfg = gossipsub::ConfigBuilder::default()
                .heartbeat_interval(Duration::from_secs(1))
                .validation_mode(gossipsub::ValidationMode::Strict)
                .max_transmit_size(256 * 1024)
                .build()
                .map_err(|e| e.to_string())?;
            let gossipsub = gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(kp.clone()),
                gossip_cfg,
            )?;
            let mdns = if mdns_on {
                Some(mdns::tokio::Behaviour::new(
                    mdns::Config::default(),
                    peer_id,
                )?)
            } else {
                None
            };
            let sync = request_response::cbor::Behaviour::with_codec(
                request_response::cbor::codec::Codec::default()
                    .set_request_size_maximum(4 * 1024 * 1024)
                    .set_response_size_maximum(64 * 1024 * 1024),
                [(protocol::SYNC, request_response::ProtocolSupport::Full)],
                request_response::Config::default().with_request_timeout(Duration::from_secs(60)),
            );
            Ok(Behaviour {
                relay_client,
                relay: relay_server
                    .then(|| relay::Behaviour::new(peer_id, relay_config()))
                    .into(),
                dcutr: dcutr::Behaviour::new(peer_id),
                identify: identify::Behaviour::new(
                    identify::Config::new(protocol::IDENTIFY.into(), kp.public())
                        .with_agent_version(format!("holdfast/{}", env!("CARGO_PKG_VERSION"))),
                ),
                ping: ping::Behaviour::new(
                    ping::Config::new().with_interval(Duration::from_secs(10)),
                ),
                kad,
                gossipsub,
                mdns: mdns.into(),
                sync,
                streams: libp2p_stream::Behaviour::new(),
            })
        })
        .map_err(|e| format!("behaviour: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    Ok(swarm)
}

/// Relaying for members of our own network (only they get past pnet):
/// circuits carry replication, so no byte cap and long lifetimes.
fn relay_config() -> relay::Config {
    relay::Config {
        max_circuit_bytes: 0,
        max_circuit_duration: Duration::from_secs(24 * 3600),
        reservation_duration: Duration::from_secs(3600),
        ..relay::Config::default()
    }
}

/// Relays this node keeps a reservation on at most.
const MAX_RELAYS: usize = 2;

/// Build the swarm, listen, dial the bootstrap list and run the loop until
/// `cancel`.
pub(super) fn start(
    settings: Settings,
    facts: Arc<Mutex<Facts>>,
    cancel: CancellationToken,
) -> Result<Started, String> {
    let mut swarm = build(&settings)?;
    for addr in &settings.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    }
    let topic = gossipsub::IdentTopic::new(protocol::NODES_TOPIC);
    swarm
        .behaviour_mut()
        .gossipsub
        .subscribe(&topic)
        .map_err(|e| format!("gossip: {e}"))?;
    let control = swarm.behaviour().streams.new_control();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let me = *swarm.local_peer_id();
    let mut members = Redial::default();
    for addr in settings.bootstrap.iter().chain(&settings.remembered) {
        members.remember(me, addr);
    }
    for a in &settings.external {
        swarm.add_external_address(a.clone());
    }
    let lp = Loop {
        relay_server: settings.relay_server,
        dialed: HashMap::new(),
        relays: Vec::new(),
        swarm,
        facts,
        events: ev_tx,
        pending: HashMap::new(),
        topic,
        members,
    };
    let task = tokio::spawn(lp.run(cmd_rx, cancel));
    Ok(Started {
        commands: cmd_tx,
        events: ev_rx,
        control,
        task,
    })
}

/// Members we dial and redial with backoff: their addresses, and when to
/// try next.
#[derive(Default)]
struct Redial {
    addrs: HashMap<PeerId, Vec<Multiaddr>>,
    /// Addresses without a peer id (dialled as they are).
    bare: Vec<Multiaddr>,
    next: HashMap<PeerId, (Instant, Duration)>,
    bare_next: Option<(Instant, Duration)>,
}

impl Redial {
    fn remember(&mut self, me: PeerId, addr: &Multiaddr) {
        match addr.iter().last() {
            Some(Protocol::P2p(peer)) if peer == me => {}
            Some(Protocol::P2p(peer)) => {
                let list = self.addrs.entry(peer).or_default();
                if !list.contains(addr) && list.len() < 16 {
                    list.push(addr.clone());
                }
                self.next
                    .entry(peer)
                    .or_insert((Instant::now(), Duration::from_secs(1)));
            }
            _ => {
                if !self.bare.contains(addr) {
                    self.bare.push(addr.clone());
                    self.bare_next = Some((Instant::now(), Duration::from_secs(1)));
                }
            }
        }
    }

    fn connected(&mut self, peer: PeerId) {
        self.next.remove(&peer);
        self.bare_next = None;
    }

    fn lost(&mut self, peer: PeerId) {
        if self.addrs.contains_key(&peer) {
            self.next.insert(
                peer,
                (
                    Instant::now() + Duration::from_secs(1),
                    Duration::from_secs(1),
                ),
            );
        }
    }

    /// Peers (with addresses) and bare addresses due for a dial now.
    fn due(&mut self) -> (Vec<(PeerId, Vec<Multiaddr>)>, Vec<Multiaddr>) {
        let now = Instant::now();
        let mut peers = Vec::new();
        for (peer, (at, backoff)) in self.next.iter_mut() {
            if *at <= now {
                *backoff = (*backoff * 2).min(Duration::from_secs(60));
                *at = now + *backoff;
                peers.push((*peer, self.addrs.get(peer).cloned().unwrap_or_default()));
            }
        }
        let mut bare = Vec::new();
        if let Some((at, backoff)) = self.bare_next.as_mut()
            && *at <= now
        {
            *backoff = (*backoff * 2).min(Duration::from_secs(60));
            *at = now + *backoff;
            bare = self.bare.clone();
        }
        (peers, bare)
    }
}

struct Loop {
    relay_server: bool,
    /// Where we reached each peer as the dialer (an address it listens on).
    dialed: HashMap<PeerId, Multiaddr>,
    /// Relays we listen through.
    relays: Vec<PeerId>,
    swarm: Swarm<Behaviour>,
    facts: Arc<Mutex<Facts>>,
    events: mpsc::UnboundedSender<SwarmEvent>,
    pending:
        HashMap<request_response::OutboundRequestId, oneshot::Sender<Result<Response, String>>>,
    topic: gossipsub::IdentTopic,
    members: Redial,
}

impl Loop {
    fn facts(&self) -> std::sync::MutexGuard<'_, Facts> {
        self.facts.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        cancel: CancellationToken,
    ) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.command(cmd),
                    None => break,
                },
                ev = self.swarm.select_next_some() => self.event(ev),
                _ = tick.tick() => self.redial(),
            }
        }
        for (_, reply) in self.pending.drain() {
            let _ = reply.send(Err("the mesh stopped".into()));
        }
        let mut f = self.facts();
        f.connected.clear();
        f.listen_addrs.clear();
    }

    fn redial(&mut self) {
        let (peers, bare) = self.members.due();
        for (peer, addrs) in peers {
            if self.swarm.is_connected(&peer) {
                self.members.connected(peer);
                continue;
            }
            let opts = DialOpts::peer_id(peer).addresses(addrs).build();
            if let Err(e) = self.swarm.dial(opts) {
                tracing::debug!(%peer, error = %e, "redial failed");
            }
        }
        for addr in bare {
            if let Err(e) = self.swarm.dial(addr.clone()) {
                tracing::debug!(%addr, error = %e, "dial failed");
            }
        }
    }

    /// Listen through `relay` (a member that relays), so members that
    /// cannot reach us directly can through it. The relay is reached at the
    /// address we dialled it on, else at the one of its listen addresses
    /// on the IP we are connected to.
    fn reserve(&mut self, relay: PeerId, listen: &[Multiaddr]) {
        if self.relays.contains(&relay) || self.relays.len() >= MAX_RELAYS {
            return;
        }
        fn ip_of(a: &Multiaddr) -> Option<Protocol<'_>> {
            a.iter()
                .find(|p| matches!(p, Protocol::Ip4(_) | Protocol::Ip6(_)))
        }
        let remote = self.facts().connected.get(&relay).map(|(a, _)| a.clone());
        let addr = self.dialed.get(&relay).cloned().or_else(|| {
            let ip = ip_of(remote.as_ref()?)?;
            listen
                .iter()
                .find(|a| ip_of(a).as_ref() == Some(&ip))
                .cloned()
        });
        let Some(addr) = addr else {
            return;
        };
        let circuit = addr
            .with_p2p(relay)
            .unwrap_or_else(|a| a)
            .with(Protocol::P2pCircuit);
        match self.swarm.listen_on(circuit.clone()) {
            Ok(_) => {
                tracing::info!(%relay, "listening through a relay");
                self.relays.push(relay);
            }
            Err(e) => tracing::debug!(%circuit, error = %e, "no relay reservation"),
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Dial(addr) => {
                let me = *self.swarm.local_peer_id();
                self.members.remember(me, &addr);
                if let Err(e) = self.swarm.dial(addr.clone()) {
                    tracing::debug!(%addr, error = %e, "dial failed");
                }
            }
            Command::Request { peer, req, reply } => {
                let id = self.swarm.behaviour_mut().sync.send_request(&peer, req);
                self.pending.insert(id, reply);
            }
            Command::Respond { channel, resp } => {
                let _ = self.swarm.behaviour_mut().sync.send_response(channel, resp);
            }
            Command::Remember(addrs) => {
                let me = *self.swarm.local_peer_id();
                for a in &addrs {
                    self.members.remember(me, a);
                }
            }
            Command::Announce(data) => {
                let topic = self.topic.clone();
                if let Err(e) = self.swarm.behaviour_mut().gossipsub.publish(topic, data) {
                    tracing::debug!(error = %e, "announcement not published");
                }
            }
        }
    }

    fn event(&mut self, ev: LibEvent<BehaviourEvent>) {
        match ev {
            LibEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "mesh listening");
                // A relay serves only from addresses it takes as reachable:
                // its own non-loopback, direct listen addresses.
                let direct = !address.iter().any(|p| matches!(p, Protocol::P2pCircuit));
                let public = address.iter().any(|p| match p {
                    Protocol::Ip4(ip) => !ip.is_loopback() && !ip.is_unspecified(),
                    Protocol::Ip6(ip) => !ip.is_loopback() && !ip.is_unspecified(),
                    _ => false,
                });
                if self.relay_server && direct && public {
                    self.swarm.add_external_address(address.clone());
                }
                self.facts().listen_addrs.push(address);
            }
            LibEvent::ExpiredListenAddr { address, .. } => {
                self.facts().listen_addrs.retain(|a| a != &address);
            }
            LibEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                let addr = endpoint.get_remote_address().clone();
                let relayed = addr.iter().any(|p| matches!(p, Protocol::P2pCircuit));
                {
                    let mut f = self.facts();
                    f.connected
                        .entry(peer_id)
                        .or_insert((addr.clone(), now_ms()));
                    f.relayed.insert(peer_id, relayed);
                }
                self.members.connected(peer_id);
                if endpoint.is_dialer() && !relayed {
                    let me = *self.swarm.local_peer_id();
                    self.members
                        .remember(me, &addr.with_p2p(peer_id).unwrap_or_else(|a| a));
                }
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .add_explicit_peer(&peer_id);
                if num_established.get() == 1 {
                    tracing::info!(peer = %peer_id, "member connected");
                    let _ = self.events.send(SwarmEvent::PeerConnected(peer_id));
                }
            }
            LibEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.relays.retain(|r| *r != peer_id);
                self.dialed.remove(&peer_id);
                {
                    let mut f = self.facts();
                    f.connected.remove(&peer_id);
                    f.rtt.remove(&peer_id);
                }
                self.members.lost(peer_id);
                tracing::info!(peer = %peer_id, "member disconnected");
                let _ = self.events.send(SwarmEvent::PeerDisconnected(peer_id));
            }
            LibEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(?peer_id, %error, "dial failed");
            }
            LibEvent::IncomingConnectionError {
                error,
                send_back_addr,
                ..
            } => {
                // A node without the swarm key ends here (the pnet handshake fails).
                tracing::debug!(%send_back_addr, %error, "incoming connection refused");
            }
            LibEvent::Behaviour(b) => self.behaviour(b),
            _ => {}
        }
    }

    fn behaviour(&mut self, ev: BehaviourEvent) {
        match ev {
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                let me = *self.swarm.local_peer_id();
                let usable: Vec<Multiaddr> = info
                    .listen_addrs
                    .into_iter()
                    .filter(|a| !a.iter().any(|p| matches!(p, Protocol::P2pCircuit)))
                    .take(16)
                    .collect();
                for addr in &usable {
                    self.swarm
                        .behaviour_mut()
                        .kad
                        .add_address(&peer_id, addr.clone());
                    let full = addr.clone().with_p2p(peer_id).unwrap_or_else(|a| a);
                    self.members.remember(me, &full);
                }
                self.facts().known_addrs.insert(peer_id, usable.clone());
                if info.protocols.contains(&relay::HOP_PROTOCOL_NAME) {
                    self.reserve(peer_id, &usable);
                }
                let _ = self.events.send(SwarmEvent::Identified(peer_id, usable));
            }
            BehaviourEvent::Ping(ping::Event {
                peer,
                result: Ok(rtt),
                ..
            }) => {
                self.facts().rtt.insert(peer, rtt);
            }
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    let me = *self.swarm.local_peer_id();
                    self.members
                        .remember(me, &addr.clone().with_p2p(peer).unwrap_or_else(|a| a));
                    self.swarm.behaviour_mut().kad.add_address(&peer, addr);
                }
            }
            BehaviourEvent::Gossipsub(gossipsub::Event::Message { message, .. }) => {
                if let Some(source) = message.source {
                    let _ = self
                        .events
                        .send(SwarmEvent::Announcement(source, message.data));
                }
            }
            BehaviourEvent::Sync(request_response::Event::Message { peer, message, .. }) => {
                match message {
                    request_response::Message::Request {
                        request, channel, ..
                    } => {
                        let _ = self.events.send(SwarmEvent::Inbound {
                            peer,
                            req: request,
                            channel,
                        });
                    }
                    request_response::Message::Response {
                        request_id,
                        response,
                    } => {
                        if let Some(reply) = self.pending.remove(&request_id) {
                            let _ = reply.send(Ok(response));
                        }
                    }
                }
            }
            BehaviourEvent::Sync(request_response::Event::OutboundFailure {
                request_id,
                error,
                ..
            }) => {
                if let Some(reply) = self.pending.remove(&request_id) {
                    let _ = reply.send(Err(error.to_string()));
                }
            }
            _ => {}
        }
    }
}
