//! `<data dir>/endpoints.json`: where each surface of a running daemon really
//! listens (ports may be 0 in config). The CLI, the desktop shell and tests
//! find the daemon through it. Written atomically after binding, removed on a
//! clean shutdown; `pid` tells a stale file from a live one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use holdfast_core::fsutil::{self, Mode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoints {
    pub pid: u32,
    pub api: ApiEndpoint,
    /// Surfaces whose features are not built yet stay `null`.
    pub ipc: Option<SocketAddr>,
    pub hub: Option<SocketAddr>,
    pub s3: Option<SocketAddr>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiEndpoint {
    /// The bound address.
    pub addr: SocketAddr,
    /// A URL a local client can use (wildcard binds become loopback).
    pub url: String,
    pub tls: Option<ApiTls>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiTls {
    pub cert_file: PathBuf,
    pub fingerprint: String,
}

impl ApiEndpoint {
    pub fn new(addr: SocketAddr, tls: Option<ApiTls>) -> Self {
        let scheme = if tls.is_some() { "https" } else { "http" };
        Self {
            addr,
            url: format!("{scheme}://{}", local_address(addr)),
            tls,
        }
    }
}

/// The address a local client dials to reach a listener bound to `addr`.
pub fn local_address(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

impl Endpoints {
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        fsutil::write_atomic(path, &json, Mode::Public)
    }

    pub fn read(path: &Path) -> std::io::Result<Self> {
        let bytes = std::fs::read(path)?;
        serde_json::from_slice(&bytes).map_err(std::io::Error::other)
    }
}
