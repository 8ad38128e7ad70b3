//! The S3 gateway: its own listener (`s3.bind`, off by default) speaking the
//! AWS S3 REST protocol through `s3s`, which parses requests, checks SigV4
//! (headers, presigned URLs, aws-chunked bodies) and writes S3 XML. Ours are
//! the key store and grants (`holdfast_core::s3`), the mapping of buckets to
//! vaults and objects to files, and the limits.
//!
//! The listener can be switched on and off at run time (`PUT
//! /api/v1/s3/listener`); the choice is kept in the catalog and wins over
//! `config.yaml` at the next start.

mod access;
mod auth;
mod buckets;
mod checksum;
mod delete;
mod errors;
mod listing;
mod multipart;
mod names;
mod objects;
mod service;
mod view;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use holdfast_core::Catalog;
use holdfast_core::s3::{S3Keys, S3Objects, Uploads};
use serde::Serialize;

use crate::http::serve::{self, Served};
use crate::state::AppState;

/// Multipart uploads untouched this long are aborted (their parts freed).
pub const UPLOAD_EXPIRY_MS: i64 = 7 * 24 * 3600 * 1000;

/// What the S3 gateway keeps, shared by the admin routes and the listener.
#[derive(Clone)]
pub struct S3State {
    pub keys: S3Keys,
    pub objects: S3Objects,
    pub uploads: Uploads,
    pub gateway: Arc<Gateway>,
}

impl S3State {
    pub fn new(
        catalog: Catalog,
        identity: Arc<holdfast_core::identity::Identity>,
        bind: SocketAddr,
    ) -> Self {
        Self {
            keys: S3Keys::new(catalog.clone(), identity),
            objects: S3Objects::new(catalog.clone()),
            uploads: Uploads::new(catalog.clone()),
            gateway: Arc::new(Gateway {
                bind,
                catalog,
                running: tokio::sync::Mutex::new(None),
                addr: Mutex::new(None),
                endpoints: std::sync::OnceLock::new(),
            }),
        }
    }
}

/// The listener's state, as the admin API and the web UI show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListenerStatus {
    pub enabled: bool,
    /// The configured address (`s3.bind`).
    pub bind: String,
    /// Where clients reach it while it runs (`--endpoint-url`).
    pub endpoint_url: Option<String>,
}

/// Starts and stops the S3 listener.
pub struct Gateway {
    bind: SocketAddr,
    catalog: Catalog,
    running: tokio::sync::Mutex<Option<Served>>,
    addr: Mutex<Option<SocketAddr>>,
    /// `endpoints.json`, once written: kept current when the switch flips.
    endpoints: std::sync::OnceLock<std::path::PathBuf>,
}

impl Gateway {
    /// Keep `endpoints.json`'s `s3` entry current from now on.
    pub fn track_endpoints(&self, path: std::path::PathBuf) {
        let _ = self.endpoints.set(path);
    }

    fn update_endpoints(&self) {
        let Some(path) = self.endpoints.get() else {
            return;
        };
        match crate::endpoints::Endpoints::read(path) {
            Ok(mut e) => {
                e.s3 = self.addr();
                if let Err(err) = e.write(path) {
                    tracing::warn!("cannot update {}: {err}", path.display());
                }
            }
            // Removed at shutdown before the listener stops.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => tracing::warn!("cannot read {}: {err}", path.display()),
        }
    }

    /// Whether the listener should run: the saved choice, else the config.
    pub async fn wanted(&self, config_enabled: bool) -> anyhow::Result<bool> {
        Ok(holdfast_core::s3::saved_listener_choice(&self.catalog)
            .await?
            .unwrap_or(config_enabled))
    }

    /// The bound address while the listener runs.
    pub fn addr(&self) -> Option<SocketAddr> {
        *self.addr.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn status(&self) -> ListenerStatus {
        let addr = self.addr();
        ListenerStatus {
            enabled: addr.is_some(),
            bind: self.bind.to_string(),
            endpoint_url: addr.map(|a| format!("http://{}", crate::endpoints::local_address(a))),
        }
    }

    /// Start the listener (no-op if it runs).
    pub async fn start(&self, state: AppState) -> anyhow::Result<SocketAddr> {
        let mut running = self.running.lock().await;
        if let Some(addr) = self.addr() {
            return Ok(addr);
        }
        let listener = serve::bind(self.bind, "S3 gateway")?;
        let addr = listener.local_addr()?;
        let router = service::router(state, addr);
        *running = Some(serve::spawn(listener, router, None)?);
        *self.addr.lock().unwrap_or_else(|p| p.into_inner()) = Some(addr);
        self.update_endpoints();
        tracing::info!(%addr, "S3 gateway listening");
        Ok(addr)
    }

    /// Stop the listener, letting requests in flight finish.
    pub async fn stop(&self) -> anyhow::Result<()> {
        let mut running = self.running.lock().await;
        *self.addr.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.update_endpoints();
        if let Some(served) = running.take() {
            served.shutdown().await?;
            tracing::info!("S3 gateway stopped");
        }
        Ok(())
    }

    /// Switch the listener on or off and remember the choice.
    pub async fn set_enabled(&self, state: AppState, on: bool) -> anyhow::Result<ListenerStatus> {
        if on {
            self.start(state).await?;
        } else {
            self.stop().await?;
        }
        holdfast_core::s3::save_listener_choice(&self.catalog, on).await?;
        Ok(self.status())
    }
}
