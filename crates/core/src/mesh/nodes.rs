//! Node gossip: what this node announces (built from the profile, the
//! config and the vaults it holds) and the views of what others announced
//! (`/nodes`, `/nodes/:id`, `/network/topology`).

use std::time::Duration;

use libp2p::PeerId;
use serde::Serialize;

use super::gossip::{MAX_AVATAR, NodeInfo, VaultAnnounce};
use super::swarm::Command;
use super::{Mesh, MeshError};
use crate::time::now_ms;
use crate::vaults::remote::digest;

/// A node as the API shows it: its last announcement and what this node
/// knows of it.
#[derive(Debug, Clone, Serialize)]
pub struct NodeView {
    #[serde(flatten)]
    pub info: NodeInfo,
    pub last_seen_ms: i64,
    pub connected: bool,
    #[serde(rename = "self")]
    pub is_self: bool,
    /// Last ping round trip, for connected peers.
    pub rtt_ms: Option<f64>,
}

pub(super) fn spawn_announcer(mesh: Mesh) {
    tokio::spawn(async move {
        let every = Duration::from_secs(mesh.inner.config.gossip_interval_seconds);
        let mut bus = mesh.inner.events.subscribe();
        loop {
            tokio::select! {
                _ = mesh.inner.shutdown.cancelled() => break,
                _ = tokio::time::sleep(every) => {}
                _ = mesh.inner.announce.notified() => {
                    // Let a burst of changes settle into one announcement.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                ev = bus.recv() => {
                    let kind = ev.as_ref().ok().and_then(|e| e["type"].as_str().map(str::to_owned));
                    if kind.as_deref() == Some("identity_state") {
                        // Unlocked: vaults that waited for their key can sync.
                        mesh.inner.wake.notify_one();
                        continue;
                    }
                    if !matches!(kind.as_deref(), Some("file_updated" | "file_deleted" | "profile_changed" | "vault_changed")) {
                        continue;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            if let Some(h) = mesh.handle() {
                match mesh.self_info().await {
                    Ok(info) => {
                        let data = serde_json::to_vec(&info).expect("plain data serialises");
                        let _ = h.commands.send(Command::Announce(data));
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot build the node announcement"),
                }
            }
        }
    });
}

impl Mesh {
    /// This node's announcement, as of now.
    pub(super) async fn self_info(&self) -> Result<NodeInfo, MeshError> {
        let profile = self.inner.profile.public();
        let mut vaults = Vec::new();
        for v in self.inner.vaults.list().await? {
            let ids = self.inner.vaults.version_ids(&v.id).await?;
            vaults.push(VaultAnnounce {
                digest: digest(&ids),
                versions: ids.len() as u64,
                id: v.id,
                role: "trusted".into(),
                rf_target: v.rf_target,
                bytes: v.byte_count,
            });
        }
        for r in self.inner.replicas.list().await? {
            let ids = self.inner.replicas.version_ids(&r.id).await?;
            vaults.push(VaultAnnounce {
                digest: digest(&ids),
                versions: ids.len() as u64,
                id: r.id,
                role: "replica".into(),
                rf_target: r.rf_target,
                bytes: r.sealed_bytes,
            });
        }
        let (peers, relay) = {
            let f = self.facts();
            (
                f.connected.keys().map(ToString::to_string).collect(),
                f.relayed.values().any(|r| *r),
            )
        };
        let mut caps = vec![
            "storage".to_owned(),
            "replication".to_owned(),
            "speedtest".to_owned(),
        ];
        if self.inner.config.relay_server.unwrap_or(false) || relay {
            caps.push("relay".into());
        }
        Ok(NodeInfo {
            node_id: self.peer_id().to_string(),
            display_name: profile.display_name.clone(),
            avatar: profile.avatar.clone().filter(|a| a.len() <= MAX_AVATAR),
            // The profile's country wins over the config's.
            country: profile
                .country
                .clone()
                .or_else(|| self.inner.config.country.clone()),
            caps,
            vaults,
            started_ms: self.inner.started_ms,
            uptime_ms: now_ms() - self.inner.started_ms,
            peers,
            addrs: self.reachable_addrs(),
            sent_ms: now_ms(),
        })
    }

    /// Take in an announcement.
    pub(super) fn heard(&self, from: PeerId, data: &[u8]) {
        let Some(info) = NodeInfo::parse(&from, data) else {
            tracing::debug!(%from, "ignored a malformed node announcement");
            return;
        };
        // Where it can be reached (directly or through a relay), for dialling.
        let suffix = format!("/p2p/{from}");
        let addrs: Vec<libp2p::Multiaddr> = info
            .addrs
            .iter()
            .filter(|a| a.ends_with(&suffix))
            .filter_map(|a| a.parse().ok())
            .collect();
        if let Some(h) = self.handle()
            && !addrs.is_empty()
        {
            let _ = h.commands.send(Command::Remember(addrs));
        }
        let changed = {
            let mut nodes = self.inner.nodes.lock().unwrap_or_else(|p| p.into_inner());
            let old = nodes.insert(from, (info.clone(), now_ms()));
            old.is_none_or(|(o, _)| o.vaults != info.vaults)
        };
        if changed {
            self.inner.wake.notify_one();
        }
    }

    fn view(&self, info: &NodeInfo, seen: i64, is_self: bool) -> NodeView {
        let peer: Option<PeerId> = info.node_id.parse().ok();
        let f = self.facts();
        let connected = peer.is_some_and(|p| f.connected.contains_key(&p));
        let mut info = info.clone();
        if !is_self {
            // Uptime as of now, not as of the announcement.
            info.uptime_ms += (now_ms() - seen).max(0);
        }
        NodeView {
            info,
            last_seen_ms: seen,
            connected: connected || is_self,
            is_self,
            rtt_ms: peer
                .and_then(|p| f.rtt.get(&p))
                .map(|d| d.as_secs_f64() * 1000.0),
        }
    }

    /// Every other node heard from (connected ones first), while online.
    pub fn nodes(&self) -> Vec<NodeView> {
        let list: Vec<(NodeInfo, i64)> = self
            .inner
            .nodes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        let mut out: Vec<NodeView> = list
            .iter()
            .map(|(i, seen)| self.view(i, *seen, false))
            .collect();
        // Members connected but not yet announced still show, by id.
        let connected: Vec<PeerId> = self.facts().connected.keys().copied().collect();
        for p in connected {
            let id = p.to_string();
            if !out.iter().any(|n| n.info.node_id == id) {
                let stub = NodeInfo::unannounced(id);
                out.push(self.view(&stub, now_ms(), false));
            }
        }
        out.sort_by(|a, b| {
            b.connected
                .cmp(&a.connected)
                .then(a.info.node_id.cmp(&b.info.node_id))
        });
        out
    }

    pub async fn self_node(&self) -> Result<NodeView, MeshError> {
        let info = self.self_info().await?;
        Ok(self.view(&info, now_ms(), true))
    }

    pub async fn node(&self, id: &str) -> Result<NodeView, MeshError> {
        if id == self.peer_id().to_string() {
            return self.self_node().await;
        }
        self.nodes()
            .into_iter()
            .find(|n| n.info.node_id == id)
            .ok_or(MeshError::NoSuchNode)
    }

    /// Nodes (self included) and the connections each announced.
    pub async fn topology(&self) -> Result<serde_json::Value, MeshError> {
        let mut nodes = vec![self.self_node().await?];
        nodes.extend(self.nodes());
        let mut edges = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for n in &nodes {
            for p in &n.info.peers {
                let (a, b) = if n.info.node_id < *p {
                    (n.info.node_id.clone(), p.clone())
                } else {
                    (p.clone(), n.info.node_id.clone())
                };
                if seen.insert((a.clone(), b.clone())) {
                    edges.push(serde_json::json!({"from": a, "to": b}));
                }
            }
        }
        let nodes: Vec<serde_json::Value> = nodes
            .into_iter()
            .map(|n| {
                serde_json::json!({
                    "node_id": n.info.node_id, "display_name": n.info.display_name, "self": n.is_self,
                    "connected": n.connected, "uptime_ms": n.info.uptime_ms, "caps": n.info.caps,
                    "vault_count": n.info.vaults.len(),
                })
            })
            .collect();
        Ok(serde_json::json!({"nodes": nodes, "edges": edges, "generated_ms": now_ms()}))
    }

    /// Nodes that announce holding `vault_id` (recently heard), self first.
    pub async fn holders(&self, vault_id: &str) -> Result<Vec<serde_json::Value>, MeshError> {
        let mut out = Vec::new();
        let me = self.self_info().await?;
        if let Some(v) = me.vaults.iter().find(|v| v.id == vault_id) {
            out.push(
                serde_json::json!({"node_id": me.node_id, "display_name": me.display_name,
                "role": v.role, "self": true, "in_sync": true, "bytes": v.bytes}),
            );
        }
        let mine = me
            .vaults
            .iter()
            .find(|v| v.id == vault_id)
            .map(|v| v.digest.clone());
        for n in self.nodes() {
            if !self.alive(&n) {
                continue;
            }
            if let Some(v) = n.info.vaults.iter().find(|v| v.id == vault_id) {
                out.push(
                    serde_json::json!({"node_id": n.info.node_id, "display_name": n.info.display_name,
                    "role": v.role, "self": false, "in_sync": mine.as_deref() == Some(&v.digest),
                    "bytes": v.bytes, "connected": n.connected}),
                );
            }
        }
        Ok(out)
    }

    /// Heard from within three announcement intervals (or connected).
    pub(super) fn alive(&self, n: &NodeView) -> bool {
        let window = 3_000 * self.inner.config.gossip_interval_seconds as i64 + 5_000;
        n.connected || now_ms() - n.last_seen_ms < window
    }
}
