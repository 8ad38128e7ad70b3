//! Messages between members. Small ones travel by request-response (CBOR,
//! one substream each); block bodies and speed tests use raw streams
//! (`blocks.rs`, `speed.rs`). Each protocol is versioned by its name.

use libp2p::StreamProtocol;
use serde::{Deserialize, Serialize};

pub const SYNC: StreamProtocol = StreamProtocol::new("/holdfast/sync/1");
pub const BLOCKS: StreamProtocol = StreamProtocol::new("/holdfast/blocks/1");
pub const SPEED: StreamProtocol = StreamProtocol::new("/holdfast/speedtest/1");
pub const KAD: StreamProtocol = StreamProtocol::new("/holdfast/kad/1");
pub const IDENTIFY: &str = "/holdfast/id/1";
/// The gossip topic of node announcements.
pub const NODES_TOPIC: &str = "holdfast/nodes/1";

/// Versions asked for in one `Manifests` request at most.
pub const MANIFEST_BATCH: usize = 256;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// Every version id the peer holds of a vault.
    VersionIds { vault_id: String },
    /// The sealed manifests of these versions.
    Manifests { vault_id: String, ids: Vec<String> },
    /// A joiner presents the invite it came with.
    Admit {
        network_id: String,
        invite_id: String,
    },
    /// Switch the network to a new swarm key at `at_ms`.
    Rotate {
        network_id: String,
        swarm_key: String,
        at_ms: i64,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Response {
    VersionIds { ids: Vec<String> },
    Manifests { items: Vec<WireManifest> },
    Ok,
    Refused { reason: String },
}

/// A version as it travels: what an untrusted holder may see (ids, block
/// ids, sizes of sealed bytes) and the sealed record only key holders open.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireManifest {
    pub id: String,
    /// Block ids, 32 bytes each, in order.
    pub blocks: serde_bytes::ByteBuf,
    pub sealed_bytes: u64,
    pub sealed: serde_bytes::ByteBuf,
}

impl WireManifest {
    pub fn block_ids(&self) -> Vec<crate::store::BlockId> {
        self.blocks
            .chunks_exact(32)
            .map(|c| crate::store::BlockId(c.try_into().expect("chunks of 32")))
            .collect()
    }
}
