//! `config.yaml`: one section per network surface, so every later feature has
//! its place from the start. Unknown keys and bad values refuse to start the
//! daemon with a message that names the key; a typo must never silently fall
//! back to a default (e.g. a bind address exposed to the network).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub api: ApiConfig,
    pub ipc: IpcConfig,
    pub hub: HubConfig,
    pub s3: S3Config,
    pub identity: IdentityConfig,
    pub mesh: MeshConfig,
}

/// The libp2p mesh (TCP only: QUIC cannot carry a swarm key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MeshConfig {
    /// Multiaddrs to listen on while a network is active.
    pub listen: Vec<String>,
    /// Addresses other nodes can reach us on (e.g. a port forward), added to
    /// invites and share URLs next to the listen addresses.
    pub external_addrs: Vec<String>,
    /// Find members on the LAN by multicast DNS.
    pub mdns: bool,
    /// Relay circuits for members behind NAT. `None`: on when any listen
    /// address is not loopback.
    pub relay_server: Option<bool>,
    /// Two-letter country shown to other nodes, if set.
    pub country: Option<String>,
    /// How often node info is re-announced.
    pub gossip_interval_seconds: u64,
    /// How often every vault is compared with its holders, besides the
    /// comparisons that announcements and local changes start.
    pub replicate_interval_seconds: u64,
}

impl Default for MeshConfig {
    fn default() -> Self {
        Self {
            listen: vec!["/ip4/0.0.0.0/tcp/4001".into()],
            external_addrs: Vec::new(),
            mdns: true,
            relay_server: None,
            country: None,
            gossip_interval_seconds: 30,
            replicate_interval_seconds: 60,
        }
    }
}

/// The identity vault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// Lock after this many idle minutes (at most [`MAX_AUTO_LOCK_MINUTES`]);
    /// 0 never locks by itself.
    pub auto_lock_minutes: u64,
    /// How long an approval prompt waits for the user.
    pub approval_timeout_seconds: u64,
}

/// A year: the longest idle time before the identity locks by itself.
pub const MAX_AUTO_LOCK_MINUTES: u64 = 366 * 24 * 60;

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            auto_lock_minutes: 15,
            approval_timeout_seconds: 60,
        }
    }
}

impl IdentityConfig {
    pub fn approval_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.approval_timeout_seconds)
    }

    pub fn auto_lock_after(&self) -> Option<std::time::Duration> {
        (self.auto_lock_minutes > 0)
            .then(|| std::time::Duration::from_secs(self.auto_lock_minutes.saturating_mul(60)))
    }
}

/// The REST API and web UI listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    pub bind: SocketAddr,
    /// PEM certificate chain; with `key_file`, the API is served over HTTPS.
    pub cert_file: Option<PathBuf>,
    /// PEM private key matching `cert_file`.
    pub key_file: Option<PathBuf>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            cert_file: None,
            key_file: None,
        }
    }
}

/// The local-app IPC listener (loopback only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IpcConfig {
    pub bind: SocketAddr,
}

impl Default for IpcConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 27777)),
        }
    }
}

/// The agent hub listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HubConfig {
    pub bind: SocketAddr,
    /// Largest attachment upload, in bytes (default 25 MiB).
    pub attachment_max_bytes: u64,
    /// All of one tenant's attachments together, in bytes (default 1 GiB).
    pub attachment_quota_bytes: u64,
}

impl Default for HubConfig {
    fn default() -> Self {
        let limits = crate::hub::attachments::Limits::default();
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8090)),
            attachment_max_bytes: limits.max_bytes,
            attachment_quota_bytes: limits.quota_bytes,
        }
    }
}

/// The S3 gateway listener, off unless asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    pub enabled: bool,
    pub bind: SocketAddr,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            enabled: false,
            bind: SocketAddr::from(([127, 0, 0, 1], 8333)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Load `path`; a missing file means all defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).map_err(|message| ConfigError::Invalid {
                path: path.to_owned(),
                message,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Parse and validate YAML text. Errors name the offending key.
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        match (&self.api.cert_file, &self.api.key_file) {
            (Some(_), None) => {
                return Err("api.key_file: required when api.cert_file is set".into());
            }
            (None, Some(_)) => {
                return Err("api.cert_file: required when api.key_file is set".into());
            }
            _ => {}
        }
        if !(1..=3600).contains(&self.identity.approval_timeout_seconds) {
            return Err("identity.approval_timeout_seconds: must be 1 to 3600".into());
        }
        if self.identity.auto_lock_minutes > MAX_AUTO_LOCK_MINUTES {
            return Err(format!(
                "identity.auto_lock_minutes: must be 0 (never) to {MAX_AUTO_LOCK_MINUTES}"
            ));
        }
        for (key, list) in [
            ("mesh.listen", &self.mesh.listen),
            ("mesh.external_addrs", &self.mesh.external_addrs),
        ] {
            for a in list {
                a.parse::<libp2p::Multiaddr>()
                    .map_err(|e| format!("{key}: {a:?} is not a multiaddr ({e})"))?;
            }
        }
        if let Some(c) = &self.mesh.country
            && (c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err("mesh.country: must be two capital letters (ISO 3166), e.g. DE".into());
        }
        if !(1..=3600).contains(&self.mesh.gossip_interval_seconds) {
            return Err("mesh.gossip_interval_seconds: must be 1 to 3600".into());
        }
        if !(1..=86400).contains(&self.mesh.replicate_interval_seconds) {
            return Err("mesh.replicate_interval_seconds: must be 1 to 86400".into());
        }
        if !self.ipc.bind.ip().is_loopback() {
            return Err(format!(
                "ipc.bind: {} is not a loopback address; the IPC API serves local apps only",
                self.ipc.bind
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_gives_defaults() {
        let c = Config::parse("").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.api.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.ipc.bind.port(), 27777);
        assert_eq!(c.hub.bind.port(), 8090);
        assert!(!c.s3.enabled);
        assert_eq!(c.s3.bind.port(), 8333);
    }

    #[test]
    fn partial_sections_keep_other_defaults() {
        let c = Config::parse("api:\n  bind: 127.0.0.1:0\n").unwrap();
        assert_eq!(c.api.bind.port(), 0);
        assert_eq!(c.hub, HubConfig::default());
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = Config::parse("api:\n  bnd: 127.0.0.1:1\n").unwrap_err();
        assert!(e.contains("bnd"), "{e}");
        let e = Config::parse("mesh_typo: 1\n").unwrap_err();
        assert!(e.contains("mesh_typo"), "{e}");
    }

    #[test]
    fn bad_values_are_named() {
        let e = Config::parse("api:\n  bind: not-an-address\n").unwrap_err();
        assert!(e.contains("api.bind"), "{e}");
        let e = Config::parse("s3:\n  enabled: maybe\n").unwrap_err();
        assert!(e.contains("s3.enabled"), "{e}");
        let e = Config::parse("api:\n  cert_file: /x.pem\n").unwrap_err();
        assert!(e.contains("api.key_file"), "{e}");
        let e = Config::parse("ipc:\n  bind: 0.0.0.0:27777\n").unwrap_err();
        assert!(e.contains("ipc.bind"), "{e}");
        // Minutes whose seconds overflow a u64 used to panic at start.
        let e = Config::parse("identity:\n  auto_lock_minutes: 307445734561825861\n").unwrap_err();
        assert!(e.contains("identity.auto_lock_minutes"), "{e}");
    }
}
