//! Node announcements over gossipsub: who a node is (the profile's display
//! name and avatar, a country when configured), what it can do, which
//! vaults it holds (id, role, size, a digest of its version ids) and whom it
//! is connected to. Peers compare digests to know when to sync; `/nodes`
//! and the topology are views of the last announcement of each node.

use serde::{Deserialize, Serialize};

/// Announcements larger than this are refused (gossip's own cap is 256 KiB).
pub const MAX_ANNOUNCEMENT: usize = 200 * 1024;
/// Avatars are announced only up to this size (a data: URL).
pub const MAX_AVATAR: usize = 48 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VaultAnnounce {
    pub id: String,
    /// `trusted` (holds the key) or `replica` (holds sealed data only).
    pub role: String,
    pub rf_target: u32,
    /// Bytes held (sealed bytes for replicas).
    pub bytes: u64,
    pub versions: u64,
    /// Digest of the version ids held: equal digests, nothing to sync.
    pub digest: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeInfo {
    pub node_id: String,
    pub display_name: Option<String>,
    pub avatar: Option<String>,
    pub country: Option<String>,
    pub caps: Vec<String>,
    pub vaults: Vec<VaultAnnounce>,
    pub started_ms: i64,
    pub uptime_ms: i64,
    /// Peers this node is connected to (the topology's edges).
    pub peers: Vec<String>,
    pub addrs: Vec<String>,
    /// When this announcement was made (also keeps each one distinct).
    pub sent_ms: i64,
}

impl NodeInfo {
    /// A member connected but not heard from yet: known by its id only.
    pub fn unannounced(node_id: String) -> Self {
        Self {
            node_id,
            display_name: None,
            avatar: None,
            country: None,
            caps: Vec::new(),
            vaults: Vec::new(),
            started_ms: 0,
            uptime_ms: 0,
            peers: Vec::new(),
            addrs: Vec::new(),
            sent_ms: 0,
        }
    }

    /// Parse and bound an announcement from `from`; it must name its sender.
    pub fn parse(from: &libp2p::PeerId, data: &[u8]) -> Option<Self> {
        if data.len() > MAX_ANNOUNCEMENT {
            return None;
        }
        let mut info: NodeInfo = serde_json::from_slice(data).ok()?;
        if info.node_id != from.to_string() {
            return None;
        }
        info.display_name = info
            .display_name
            .map(|n| n.chars().filter(|c| !c.is_control()).take(64).collect());
        if info
            .avatar
            .as_ref()
            .is_some_and(|a| a.len() > MAX_AVATAR || !a.starts_with("data:image/"))
        {
            info.avatar = None;
        }
        info.country = info
            .country
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()));
        info.caps.truncate(32);
        info.vaults.truncate(1024);
        info.peers.truncate(1024);
        info.addrs.truncate(32);
        Some(info)
    }
}
