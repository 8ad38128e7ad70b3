//! Start and stop a daemon: open the catalog, load keys and sessions, bind
//! each surface, write `endpoints.json`; and on shutdown, drain in-flight
//! requests and close the catalog cleanly. The CLI's `holdfast daemon` and the
//! desktop shell both run a daemon through [`RunningDaemon`].

use std::sync::Arc;

use anyhow::Context;
use holdfast_core::auth::Auth;
use holdfast_core::fsutil::{self, Mode};
use holdfast_core::metrics::Metrics;
use holdfast_core::time::now_ms;
use holdfast_core::{Catalog, Config, Paths, node_key};
use libp2p_identity::PeerId;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::endpoints::{ApiEndpoint, ApiTls, Endpoints};
use crate::http::host_policy::HostPolicy;
use crate::http::serve::{self, Served};
use crate::state::{AppState, NodeFacts};
use crate::{api, tls};

pub struct RunningDaemon {
    paths: Paths,
    /// Held for the daemon's life: one daemon per data dir.
    _lock: std::fs::File,
    state: AppState,
    endpoints: Endpoints,
    api: Served,
    background: TaskTracker,
    cancel: CancellationToken,
}

impl RunningDaemon {
    /// Bring the daemon up. Returns once every surface is listening.
    pub async fn start(paths: Paths, config: Config) -> anyhow::Result<Self> {
        tls::install_crypto_provider();
        fsutil::create_private_dir(paths.data_dir())
            .with_context(|| format!("cannot create {}", paths.data_dir().display()))?;
        let lock = lock_data_dir(&paths)?;

        let catalog_path = paths.catalog();
        let catalog = tokio::task::spawn_blocking(move || Catalog::open(&catalog_path))
            .await?
            .context("opening the catalog")?;
        let node_key =
            node_key::load_or_create(&paths.node_key()).context("loading the node key")?;
        let auth = Auth::load(catalog.clone()).await?;
        fsutil::write_atomic(
            &paths.admin_token(),
            auth.admin_token().as_bytes(),
            Mode::Private,
        )
        .context("writing the admin token")?;

        let tls = tls::prepare(&config.api, &paths).await?;
        let state = AppState {
            auth,
            catalog,
            metrics: Arc::new(Metrics::new()),
            node: Arc::new(NodeFacts {
                peer_id: PeerId::from(node_key.public()),
                started_at_ms: now_ms(),
                tls_fingerprint: tls.as_ref().map(|t| t.fingerprint.clone()),
                s3_enabled: config.s3.enabled,
            }),
        };

        let listener = serve::bind(config.api.bind, "REST API")?;
        let api_addr = listener.local_addr()?;
        let router = api::router(state.clone(), HostPolicy::new(api_addr, tls.is_some()));
        let api_tls = tls.as_ref().map(|t| ApiTls {
            cert_file: t.cert_file.clone(),
            fingerprint: t.fingerprint.clone(),
        });
        let api = serve::spawn(listener, router, tls.map(|t| t.config))?;

        let cancel = CancellationToken::new();
        let background = TaskTracker::new();
        {
            let metrics = state.metrics.clone();
            let cancel = cancel.clone();
            background.spawn(async move { metrics.run(cancel).await });
        }

        let endpoints = Endpoints {
            pid: std::process::id(),
            api: ApiEndpoint::new(api_addr, api_tls),
            ipc: None,
            hub: None,
            s3: None,
        };
        endpoints
            .write(&paths.endpoints())
            .context("writing endpoints.json")?;
        tracing::info!(
            api = %endpoints.api.url,
            peer_id = %state.node.peer_id,
            data_dir = %paths.data_dir().display(),
            "holdfast is running"
        );
        Ok(Self {
            paths,
            _lock: lock,
            state,
            endpoints,
            api,
            background,
            cancel,
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Graceful stop: refuse new connections, finish in-flight requests,
    /// stop background work, close the catalog, remove runtime files.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        tracing::info!("shutting down");
        let _ = std::fs::remove_file(self.paths.endpoints());
        self.api.shutdown().await.context("REST API listener")?;
        self.cancel.cancel();
        self.background.close();
        self.background.wait().await;
        self.state
            .catalog
            .close()
            .await
            .context("closing the catalog")?;
        let _ = std::fs::remove_file(self.paths.admin_token());
        tracing::info!("catalog closed; goodbye");
        Ok(())
    }
}

/// Take an exclusive lock on `<data dir>/holdfast.lock`; a second daemon on
/// the same data dir would fight over tokens and endpoints.
fn lock_data_dir(paths: &Paths) -> anyhow::Result<std::fs::File> {
    let path = paths.data_dir().join("holdfast.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.try_lock().map_err(|_| {
        anyhow::anyhow!(
            "another holdfast daemon is already using {}",
            paths.data_dir().display()
        )
    })?;
    Ok(file)
}
