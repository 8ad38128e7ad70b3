//! Vault replication: every vault this node holds is compared with the
//! nodes that announce holding it (their digest of version ids against
//! ours); when they differ, the missing version ids are asked for, their
//! sealed manifests fetched, the blocks they need streamed in (verified,
//! durable) and only then the versions recorded. Pull only: each node
//! fetches what it lacks, so nothing is pushed onto a node that did not ask.
//!
//! Trusted nodes open the manifests and merge them into the vault's
//! version DAG; replica nodes (no key) keep them sealed. A vault announced
//! with fewer holders than its `rf_target` gets replicas from the nodes that
//! rank first for it (rendezvous hashing), so every node agrees who steps in.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use libp2p::PeerId;
use serde::Serialize;

use super::protocol::{MANIFEST_BATCH, Request, Response, WireManifest};
use super::{Mesh, MeshError, blocks, urls};
use crate::store::BlockId;
use crate::time::now_ms;
use crate::vaults::remote::SealedVersion;

/// Replication state of one vault on this node.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ReplicationStatus {
    /// `idle`, `syncing` or `paused` (see `reason`).
    pub state: String,
    pub pending_blocks: u64,
    pub pending_bytes: u64,
    pub received_bytes: u64,
    pub reason: Option<String>,
    pub last_sync_ms: Option<i64>,
}

pub(super) fn spawn(mesh: Mesh) {
    tokio::spawn(async move {
        let every = Duration::from_secs(mesh.inner.config.replicate_interval_seconds);
        loop {
            tokio::select! {
                _ = mesh.inner.shutdown.cancelled() => break,
                _ = tokio::time::sleep(every) => {}
                _ = mesh.inner.wake.notified() => {}
            }
            if mesh.handle().is_none() {
                continue;
            }
            if let Err(e) = mesh.cycle().await {
                tracing::warn!(error = %e, "replication cycle failed");
            }
        }
    });
}

fn wire(s: SealedVersion) -> WireManifest {
    WireManifest {
        id: s.id,
        blocks: serde_bytes::ByteBuf::from(s.blocks.iter().flat_map(|b| b.0).collect::<Vec<u8>>()),
        sealed_bytes: s.sealed_bytes,
        sealed: serde_bytes::ByteBuf::from(s.sealed),
    }
}

fn unwire(w: WireManifest) -> SealedVersion {
    SealedVersion {
        blocks: w.block_ids(),
        id: w.id,
        sealed_bytes: w.sealed_bytes,
        sealed: w.sealed.into_vec(),
    }
}

impl Mesh {
    pub fn replicate_now(&self) -> Result<(), MeshError> {
        self.handle().ok_or(MeshError::Offline)?;
        self.inner.wake.notify_one();
        Ok(())
    }

    pub fn replication_status(&self, vault_id: &str) -> ReplicationStatus {
        let mut s = self
            .inner
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(vault_id)
            .cloned()
            .unwrap_or_default();
        if s.state.is_empty() {
            s.state = "idle".into();
        }
        s
    }

    fn set_status(&self, vault_id: &str, f: impl FnOnce(&mut ReplicationStatus)) {
        let snapshot = {
            let mut all = self.inner.status.lock().unwrap_or_else(|p| p.into_inner());
            let s = all.entry(vault_id.to_owned()).or_default();
            f(s);
            s.clone()
        };
        self.inner.events.publish(
            "replication_progress",
            serde_json::json!({"vault_id": vault_id, "state": snapshot.state,
                "pending_blocks": snapshot.pending_blocks, "pending_bytes": snapshot.pending_bytes,
                "received_bytes": snapshot.received_bytes, "reason": snapshot.reason}),
        );
    }

    pub(super) async fn held_version_ids(&self, vault_id: &str) -> Result<Vec<String>, MeshError> {
        if self.inner.vaults.exists(vault_id).await? {
            return Ok(self.inner.vaults.version_ids(vault_id).await?);
        }
        if self.inner.replicas.holds(vault_id).await? {
            return self.inner.replicas.version_ids(vault_id).await;
        }
        Err(MeshError::Refused(
            "this node does not hold that vault".into(),
        ))
    }

    pub(super) async fn held_manifests(
        &self,
        vault_id: &str,
        ids: Vec<String>,
    ) -> Result<Vec<WireManifest>, MeshError> {
        let sealed = if self.inner.vaults.exists(vault_id).await? {
            self.inner.vaults.sealed_versions(vault_id, ids).await?
        } else if self.inner.replicas.holds(vault_id).await? {
            self.inner.replicas.manifests(vault_id, ids).await?
        } else {
            return Err(MeshError::Refused(
                "this node does not hold that vault".into(),
            ));
        };
        Ok(sealed.into_iter().map(wire).collect())
    }

    /// One pass: adopt replicas where a vault is short of holders, then
    /// sync every held vault with the holders whose digest differs.
    async fn cycle(&self) -> Result<(), MeshError> {
        let me = self.self_info().await?;
        let nodes: Vec<_> = self
            .nodes()
            .into_iter()
            .filter(|n| n.connected && self.alive(n))
            .collect();
        self.place_replicas(&me, &nodes).await?;
        let me = self.self_info().await?;
        for mine in &me.vaults {
            let trusted = mine.role == "trusted";
            if trusted && !self.inner.vaults.key_available(&mine.id).await {
                // Nothing arriving could be opened: wait for the unlock
                // instead of fetching blocks that cannot be recorded.
                let behind = nodes.iter().any(|n| {
                    n.info
                        .vaults
                        .iter()
                        .any(|v| v.id == mine.id && v.digest != mine.digest)
                });
                if behind && self.replication_status(&mine.id).state != "paused" {
                    self.set_status(&mine.id, |s| {
                        s.state = "paused".into();
                        s.reason = Some(
                            "paused: unlock Holdfast (or this vault's password) to receive changes"
                                .into(),
                        );
                    });
                }
                continue;
            }
            if self.replication_status(&mine.id).state == "paused" {
                // Try again: a sync below pauses it anew if it must.
                self.set_status(&mine.id, |s| {
                    s.state = "idle".into();
                    s.reason = None;
                });
            }
            for n in &nodes {
                let Some(theirs) = n.info.vaults.iter().find(|v| v.id == mine.id) else {
                    continue;
                };
                if theirs.digest == mine.digest {
                    continue;
                }
                let Ok(peer) = n.info.node_id.parse::<PeerId>() else {
                    continue;
                };
                if let Err(e) = self.sync_from(peer, &mine.id, trusted).await {
                    tracing::debug!(vault = %mine.id, %peer, error = %e, "sync did not finish");
                }
            }
        }
        Ok(())
    }

    /// Hold (sealed) vaults that have fewer live holders than their target,
    /// when this node ranks among the first candidates for them.
    async fn place_replicas(
        &self,
        me: &super::gossip::NodeInfo,
        nodes: &[super::NodeView],
    ) -> Result<(), MeshError> {
        let mut wanted: HashMap<String, (u32, HashSet<String>)> = HashMap::new();
        for n in nodes {
            for v in &n.info.vaults {
                let e = wanted.entry(v.id.clone()).or_default();
                e.0 = e.0.max(v.rf_target);
                e.1.insert(n.info.node_id.clone());
            }
        }
        let my_id = me.node_id.clone();
        for (vault_id, (rf, holders)) in wanted {
            if me.vaults.iter().any(|v| v.id == vault_id) || holders.len() >= rf as usize {
                continue;
            }
            let mut candidates: Vec<String> = nodes
                .iter()
                .map(|n| n.info.node_id.clone())
                .filter(|id| !holders.contains(id))
                .chain(std::iter::once(my_id.clone()))
                .collect();
            candidates.sort_by_key(|id| {
                blake3::hash(format!("{vault_id}\0{id}").as_bytes())
                    .to_hex()
                    .to_string()
            });
            let need = rf as usize - holders.len();
            if candidates.iter().take(need).any(|c| *c == my_id) {
                tracing::info!(vault = %vault_id, "holding a replica to reach the vault's target");
                self.inner.replicas.adopt(&vault_id, rf).await?;
            }
        }
        Ok(())
    }

    /// Fetch from `peer` every version of `vault_id` we lack, with its
    /// blocks first.
    async fn sync_from(
        &self,
        peer: PeerId,
        vault_id: &str,
        trusted: bool,
    ) -> Result<(), MeshError> {
        let theirs = match self
            .request(
                peer,
                Request::VersionIds {
                    vault_id: vault_id.to_owned(),
                },
            )
            .await?
        {
            Response::VersionIds { ids } => ids,
            Response::Refused { reason } => return Err(MeshError::Refused(reason)),
            _ => return Err(MeshError::Unreachable("unexpected answer".into())),
        };
        let ours: HashSet<String> = self.held_version_ids(vault_id).await?.into_iter().collect();
        let missing: Vec<String> = theirs.into_iter().filter(|id| !ours.contains(id)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let control = self.handle().ok_or(MeshError::Offline)?.control;
        let store = self.inner.vaults.block_store().clone();
        let received = Arc::new(AtomicU64::new(0));
        self.set_status(vault_id, |s| {
            s.state = "syncing".into();
            s.reason = None;
        });
        let mut outcome = Ok(());
        for chunk in missing.chunks(MANIFEST_BATCH) {
            let req = Request::Manifests {
                vault_id: vault_id.to_owned(),
                ids: chunk.to_vec(),
            };
            let items: Vec<SealedVersion> = match self.request(peer, req).await? {
                Response::Manifests { items } => items.into_iter().map(unwire).collect(),
                Response::Refused { reason } => {
                    outcome = Err(MeshError::Refused(reason));
                    break;
                }
                _ => break,
            };
            let all: Vec<BlockId> = items
                .iter()
                .flat_map(|m| m.blocks.iter().copied())
                .collect();
            // Pinned before looking: GC cannot take a block between the
            // check, the fetch and the record that names it.
            let _pins = self.inner.vaults.pin_blocks(&all);
            let mut need: Vec<BlockId> = Vec::new();
            let mut seen = HashSet::new();
            let need_bytes = items.iter().map(|m| m.sealed_bytes).sum();
            for b in &all {
                if seen.insert(*b) && !store.has(b) {
                    need.push(*b);
                }
            }
            self.set_status(vault_id, |s| {
                s.pending_blocks = need.len() as u64;
                s.pending_bytes = need_bytes;
            });
            let counter = received.clone();
            let progress = Arc::new(move |n: u64| {
                counter.fetch_add(n, Ordering::Relaxed);
            });
            let shortfall = blocks::fetch(&control, peer, &store, need, progress).await;
            let failed: HashSet<BlockId> = shortfall.missing.into_iter().collect();
            let complete: Vec<SealedVersion> = items
                .into_iter()
                .filter(|m| m.blocks.iter().all(|b| !failed.contains(b) && store.has(b)))
                .collect();
            let result = if trusted {
                match self.inner.vaults.ingest(vault_id, complete).await {
                    Ok(arrived) => {
                        for a in arrived {
                            let kind = if a.deleted {
                                "file_deleted"
                            } else {
                                "file_updated"
                            };
                            self.inner.events.publish(
                                kind,
                                serde_json::json!({"vault_id": vault_id, "path": a.path,
                                    "content_hash": a.content_hash, "size": a.size, "cause": "mesh",
                                    "from": peer.to_string()}),
                            );
                        }
                        Ok(())
                    }
                    Err(e) => Err(MeshError::from(e)),
                }
            } else {
                self.inner
                    .replicas
                    .store(vault_id, complete)
                    .await
                    .map(|_| ())
            };
            if let Err(e) = result {
                let reason = match &e {
                    MeshError::Vault(crate::vaults::VaultError::Quota { .. }) => {
                        "paused: arriving files would exceed the vault's hard quota".to_owned()
                    }
                    other => format!("paused: {other}"),
                };
                self.set_status(vault_id, |s| {
                    s.state = "paused".into();
                    s.reason = Some(reason);
                });
                return Err(e);
            }
            if !failed.is_empty() {
                let reason = if shortfall.disk_full {
                    "paused: the disk is full".to_owned()
                } else {
                    format!("{} block(s) did not arrive; retrying", failed.len())
                };
                self.set_status(vault_id, |s| {
                    s.state = "paused".into();
                    s.reason = Some(reason);
                });
                return Ok(());
            }
        }
        self.inner.announce.notify_one();
        let got = received.load(Ordering::Relaxed);
        self.set_status(vault_id, |s| {
            s.state = "idle".into();
            s.pending_blocks = 0;
            s.pending_bytes = 0;
            s.received_bytes += got;
            s.last_sync_ms = Some(now_ms());
        });
        outcome
    }

    /// Fetch the blocks of `version` this node lacks from the nodes that
    /// hold its vault (a download or `cache` of a file whose blocks are
    /// elsewhere). Returns how many blocks arrived.
    pub async fn fetch_missing(
        &self,
        version: &crate::vaults::FileVersion,
    ) -> Result<usize, MeshError> {
        let store = self.inner.vaults.block_store().clone();
        let ids = version.block_ids()?;
        let _pins = self.inner.vaults.pin_blocks(&ids);
        let mut need: Vec<BlockId> = ids.into_iter().filter(|b| !store.has(b)).collect();
        if need.is_empty() {
            return Ok(0);
        }
        let control = self.handle().ok_or(MeshError::Offline)?.control;
        let wanted = need.len();
        for n in self.nodes() {
            if !n.connected || !n.info.vaults.iter().any(|v| v.id == version.vault_id) {
                continue;
            }
            let Ok(peer) = n.info.node_id.parse::<PeerId>() else {
                continue;
            };
            let progress = Arc::new(|_: u64| {});
            need = blocks::fetch(&control, peer, &store, need, progress)
                .await
                .missing;
            if need.is_empty() {
                return Ok(wanted);
            }
        }
        Err(MeshError::Unreachable(format!(
            "{} block(s) of this file are on no connected node",
            need.len()
        )))
    }

    /// A share URL for a trusted vault: its key and where we are.
    pub async fn vault_share_url(&self, vault_id: &str) -> Result<String, MeshError> {
        let net = self.running().await?;
        let m = self.inner.vaults.share_material(vault_id).await?;
        Ok(urls::vault_url(&urls::VaultShare {
            vault_id: vault_id.to_owned(),
            name: m.name,
            key: m.key_hex,
            rf_target: m.rf_target,
            network_id: Some(net.id),
            addrs: self.reachable_addrs(),
        }))
    }

    /// Adopt a vault from its share URL; replication fills it.
    pub async fn join_vault(&self, url: &str) -> Result<crate::vaults::Vault, MeshError> {
        let share = urls::parse_vault(url).map_err(MeshError::Invalid)?;
        let net = self.running().await?;
        if share.network_id.as_ref().is_some_and(|n| *n != net.id) {
            return Err(MeshError::Conflict(
                "this vault lives on another network: join that network first".into(),
            ));
        }
        let vault = self
            .inner
            .vaults
            .adopt(&share.vault_id, &share.name, &share.key, share.rf_target)
            .await?;
        // Sealed versions held here as a replica open now: take them in.
        if self.inner.replicas.holds(&vault.id).await? {
            let ids = self.inner.replicas.version_ids(&vault.id).await?;
            for chunk in ids.chunks(MANIFEST_BATCH) {
                let items = self
                    .inner
                    .replicas
                    .manifests(&vault.id, chunk.to_vec())
                    .await?;
                self.inner.vaults.ingest(&vault.id, items).await?;
            }
            self.inner.replicas.forget(&vault.id).await?;
        }
        if let Some(h) = self.handle() {
            for a in &share.addrs {
                if let Ok(m) = a.parse() {
                    let _ = h.commands.send(super::swarm::Command::Dial(m));
                }
            }
        }
        self.inner
            .events
            .publish("vault_changed", serde_json::json!({"vault_id": vault.id}));
        self.inner.announce.notify_one();
        self.inner.wake.notify_one();
        Ok(vault)
    }
}
