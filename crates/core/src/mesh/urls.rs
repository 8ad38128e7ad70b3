//! The share URLs and their versioned format (docs/mesh.md):
//! `holdfast://join/v1/<payload>` invites a device into a network,
//! `holdfast://vault/v1/<payload>` hands a vault (its key included) to one,
//! and `holdfast://agent/v1/<payload>` lets one use a coding-agent instance
//! another node hosts (its access key included).
//! The payload is base64url (no padding) of a small JSON object; unknown
//! versions are refused by name so old daemons say "update" instead of
//! guessing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Longest URL accepted (bootstrap lists stay far below this).
pub const MAX_URL: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinInvite {
    /// The network's id, the same on every member.
    pub network_id: String,
    pub name: String,
    /// The swarm key, 3-line text.
    pub swarm_key: String,
    /// Where members listen (each with its `/p2p/` peer id).
    pub bootstrap: Vec<String>,
    /// Which invite this is (checked by the inviter), and until when.
    pub invite_id: String,
    pub expires_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaultShare {
    pub vault_id: String,
    pub name: String,
    /// The vault key, hex: whoever holds the URL can read the vault.
    pub key: String,
    pub rf_target: u32,
    /// The network the vault lives on, and members' addresses.
    pub network_id: Option<String>,
    pub addrs: Vec<String>,
}

/// A coding-agent instance another device of the mesh may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentShare {
    /// The instance's id on the hosting node.
    pub instance_id: String,
    /// `claude` | `opencode`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// The hosting node's peer id.
    pub node_id: String,
    /// Where the hosting node listens (each with its `/p2p/` peer id).
    pub addrs: Vec<String>,
    /// The network the host is on, when it was on one.
    #[serde(default)]
    pub network_id: Option<String>,
    /// The access key: whoever holds the URL can use the instance.
    pub key: String,
}

pub fn join_url(invite: &JoinInvite) -> String {
    encode("join", invite)
}

pub fn vault_url(share: &VaultShare) -> String {
    encode("vault", share)
}

pub fn agent_url(share: &AgentShare) -> String {
    encode("agent", share)
}

pub fn parse_agent(url: &str) -> Result<AgentShare, String> {
    decode("agent", url)
}

pub fn parse_join(url: &str) -> Result<JoinInvite, String> {
    decode("join", url)
}

pub fn parse_vault(url: &str) -> Result<VaultShare, String> {
    decode("vault", url)
}

fn encode<T: Serialize>(kind: &str, value: &T) -> String {
    let json = serde_json::to_vec(value).expect("plain data serialises");
    format!("holdfast://{kind}/v1/{}", URL_SAFE_NO_PAD.encode(json))
}

fn decode<T: DeserializeOwned>(kind: &str, url: &str) -> Result<T, String> {
    let url = url.trim();
    if url.len() > MAX_URL {
        return Err(format!("the URL is too long (over {MAX_URL} characters)"));
    }
    let rest = url
        .strip_prefix("holdfast://")
        .ok_or_else(|| format!("not a Holdfast link: expected holdfast://{kind}/v1/…"))?;
    let rest = rest
        .strip_prefix(kind)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| {
            let other = rest.split('/').next().unwrap_or("");
            format!("this is a holdfast://{other}/ link; expected holdfast://{kind}/…")
        })?;
    let (version, payload) = rest
        .split_once('/')
        .ok_or_else(|| format!("the link is cut short: expected holdfast://{kind}/v1/…"))?;
    if version != "v1" {
        return Err(format!(
            "this link is format {version:?}, which this version of Holdfast cannot read (it reads v1); update Holdfast"
        ));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| {
            "the link is damaged (its payload is not base64url): copy it again".to_string()
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|_| "the link is damaged (its payload does not parse): copy it again".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_problems() {
        let inv = JoinInvite {
            network_id: "net_1".into(),
            name: "Home".into(),
            swarm_key: super::super::psk::mint(),
            bootstrap: vec!["/ip4/127.0.0.1/tcp/4001".into()],
            invite_id: "abc".into(),
            expires_ms: 5,
        };
        let url = join_url(&inv);
        assert!(url.starts_with("holdfast://join/v1/"));
        assert_eq!(parse_join(&url).unwrap(), inv);
        assert!(parse_vault(&url).unwrap_err().contains("holdfast://join/"));
        assert!(
            parse_join("https://x")
                .unwrap_err()
                .contains("not a Holdfast link")
        );
        assert!(
            parse_join("holdfast://join/v9/xx")
                .unwrap_err()
                .contains("update")
        );
        assert!(
            parse_join("holdfast://join/v1/!!!")
                .unwrap_err()
                .contains("damaged")
        );
        assert!(
            parse_join("holdfast://join/v1/e30")
                .unwrap_err()
                .contains("damaged")
        );
        let share = AgentShare {
            instance_id: "ai_1".into(),
            kind: "claude".into(),
            name: "Mine".into(),
            node_id: "12D3KooW".into(),
            addrs: vec![],
            network_id: None,
            key: "k".into(),
        };
        let url = agent_url(&share);
        assert!(url.starts_with("holdfast://agent/v1/"));
        assert_eq!(parse_agent(&url).unwrap(), share);
        assert!(
            parse_agent(&join_url(&inv))
                .unwrap_err()
                .contains("holdfast://join/")
        );
        assert!(
            parse_agent("holdfast://agent/v2/e30")
                .unwrap_err()
                .contains("update")
        );
        assert!(
            parse_join(&"x".repeat(MAX_URL + 1))
                .unwrap_err()
                .contains("too long")
        );
    }
}
