//! Start and stop a daemon: open the catalog, load keys and sessions, bind
//! each surface, write `endpoints.json`; and on shutdown, drain in-flight
//! requests and close the catalog cleanly. The CLI's `holdfast daemon` and the
//! desktop shell both run a daemon through [`RunningDaemon`].

use std::sync::Arc;

use anyhow::Context;
use holdfast_core::approvals::Approvals;
use holdfast_core::apps::Apps;
use holdfast_core::audit::Audit;
use holdfast_core::auth::Auth;
use holdfast_core::backups::Backups;
use holdfast_core::contacts::Contacts;
use holdfast_core::diagnostics::Diagnostics;
use holdfast_core::events::EventBus;
use holdfast_core::folders::FolderSync;
use holdfast_core::fsutil::{self, Mode};
use holdfast_core::identity::keyring::RememberedKey;
use holdfast_core::identity::{Identity, LockState};
use holdfast_core::mesh::{Mesh, Services};
use holdfast_core::metrics::Metrics;
use holdfast_core::profile::Profile;
use holdfast_core::store::BlockStore;
use holdfast_core::time::now_ms;
use holdfast_core::vaults::Vaults;
use holdfast_core::{Catalog, Config, Paths, node_key};
use libp2p_identity::PeerId;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::endpoints::{ApiEndpoint, ApiTls, Endpoints};
use crate::http::host_policy::HostPolicy;
use crate::http::serve::{self, Served};
use crate::s3::S3State;
use crate::state::{AppState, NodeFacts};
use crate::{api, ipc, tls};

/// How to start beyond what config.yaml says.
#[derive(Debug, Default, Clone)]
pub struct StartOptions {
    /// Unlock the identity at start with the passphrase in this file (servers).
    pub password_file: Option<std::path::PathBuf>,
}

pub struct RunningDaemon {
    paths: Paths,
    /// Held for the daemon's life: one daemon per data dir.
    _lock: std::fs::File,
    state: AppState,
    endpoints: Endpoints,
    api: Served,
    ipc: Served,
    /// None when the hub's port was taken: the rest of Holdfast still runs.
    hub: Option<Served>,
    background: TaskTracker,
    cancel: CancellationToken,
}

impl RunningDaemon {
    /// Bring the daemon up. Returns once every surface is listening.
    pub async fn start(
        paths: Paths,
        config: Config,
        options: StartOptions,
    ) -> anyhow::Result<Self> {
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

        let identity = Arc::new(
            Identity::load(catalog.clone(), config.identity.auto_lock_after())
                .await
                .context("loading the identity")?,
        );
        let remembered = Arc::new(RememberedKey::new(&keyring_account(&paths)));

        let tls = tls::prepare(&config.api, &paths).await?;
        let blocks = BlockStore::open(&paths.blocks()).context("opening the block store")?;
        let leftovers = blocks.collect_leftovers()?;
        if leftovers > 0 {
            tracing::info!("removed {leftovers} partial block files left by a crash");
        }
        let events = EventBus::new();
        let cancel = CancellationToken::new();
        let vaults = Vaults::new(catalog.clone(), identity.clone(), blocks);
        let folders = FolderSync::new(
            vaults.clone(),
            catalog.clone(),
            events.clone(),
            identity.clone(),
            paths.data_dir().to_path_buf(),
            cancel.clone(),
        );
        let profile = Profile::load(catalog.clone(), events.clone())
            .await
            .context("loading the profile")?;
        let hub = holdfast_core::hub::Hub::open(catalog.clone(), events.clone())
            .await
            .context("opening the agent hub")?;
        let mut hub = crate::hub::HubState::new(
            hub.clone(),
            crate::hub::owner_device::OwnerDevice::new(hub, identity.clone()),
        );
        hub.attachments = holdfast_core::hub::attachments::Limits {
            max_bytes: config.hub.attachment_max_bytes,
            quota_bytes: config.hub.attachment_quota_bytes,
        };
        let settings = holdfast_core::settings::Settings::load(catalog.clone())
            .await
            .context("loading the runtime settings")?;
        let media = holdfast_core::media::Media::start(
            catalog.clone(),
            vaults.clone(),
            identity.clone(),
            events.clone(),
            settings.clone(),
            cancel.clone(),
        );
        crate::enrich::acoustid::spawn(
            catalog.clone(),
            settings.clone(),
            events.clone(),
            cancel.clone(),
        );
        crate::enrich::tmdb::spawn_retries(catalog.clone(), settings.clone(), cancel.clone());
        let started_at_ms = now_ms();
        let mesh = Mesh::new(
            Services {
                catalog: catalog.clone(),
                vaults: vaults.clone(),
                profile: profile.clone(),
                events: events.clone(),
            },
            node_key.clone(),
            config.mesh.clone(),
            started_at_ms,
            cancel.clone(),
        );
        let approvals = Approvals::new(events.clone());
        let agent_store = holdfast_core::agents::AgentStore::new(catalog.clone(), paths.data_dir());
        let agents = crate::agents::AgentsState {
            runner: crate::agents::runner::Runner::new(
                agent_store.clone(),
                approvals.clone(),
                events.clone(),
                identity.clone(),
                cancel.clone(),
            ),
            store: agent_store,
        };
        agents.runner.recover().await;
        let state = AppState {
            agents,
            mesh,
            diagnostics: Diagnostics::new(&paths, config.clone()),
            profile,
            contacts: Contacts::new(catalog.clone()),
            settings,
            media,
            s3: S3State::new(catalog.clone(), identity.clone(), config.s3.bind),
            hub,
            agent_remote: crate::agents::remote::RemoteState::new(
                holdfast_core::agents::AgentStore::new(catalog.clone(), paths.data_dir()),
            ),
            events: events.clone(),
            shutdown: cancel.clone(),
            auth,
            catalog: catalog.clone(),
            identity: identity.clone(),
            approvals,
            apps: Apps::new(catalog.clone()),
            vaults,
            folders,
            backups: Backups::new(catalog.clone()),
            audit: Audit::new(catalog, events),
            remembered,
            metrics: Arc::new(Metrics::new()),
            node: Arc::new(NodeFacts {
                peer_id: PeerId::from(node_key.public()),
                started_at_ms,
                tls_fingerprint: tls.as_ref().map(|t| t.fingerprint.clone()),
                approval_timeout: config.identity.approval_timeout(),
                ipc_addr: Default::default(),
            }),
        };
        unlock_at_start(&state, options.password_file.as_deref()).await?;

        let listener = serve::bind(config.api.bind, "REST API")?;
        let api_addr = listener.local_addr()?;
        let router = api::router(state.clone(), HostPolicy::new(api_addr, tls.is_some()));
        crate::agents::remote::spawn_host(state.clone(), router.clone(), api_addr);
        let api_tls = tls.as_ref().map(|t| ApiTls {
            cert_file: t.cert_file.clone(),
            fingerprint: t.fingerprint.clone(),
        });
        let api = serve::spawn(listener, router, tls.map(|t| t.config))?;
        // The agents' approval helper calls the API on loopback.
        let hook_addr = std::net::SocketAddr::new(
            if api_addr.ip().is_unspecified() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                api_addr.ip()
            },
            api_addr.port(),
        );
        let _ = state
            .agents
            .runner
            .hook
            .set(crate::agents::runner::HookTarget {
                base_url: format!(
                    "{}://{hook_addr}/api/v1",
                    if api_tls.is_some() { "https" } else { "http" }
                ),
                ca_file: api_tls.as_ref().map(|t| t.cert_file.clone()),
            });

        let ipc_listener = ipc::bind(config.ipc.bind)?;
        let ipc_addr = ipc_listener.local_addr()?;
        let _ = state.node.ipc_addr.set(ipc_addr);
        let ipc = ipc::spawn(ipc_listener, state.clone())?;

        let hub_served = match crate::hub::spawn(state.clone(), config.hub.bind) {
            Ok((addr, served)) => {
                let _ = state.hub.addr.set(addr);
                Some(served)
            }
            Err(e) => {
                tracing::error!("the agent hub is off: {e:#}");
                None
            }
        };

        let background = TaskTracker::new();
        background.spawn(state.hub.owner.clone().run(cancel.clone()));
        background.spawn(crate::hub::webhooks::run(state.clone(), cancel.clone()));
        raise_enrolment_prompts(&state).await;
        {
            let metrics = state.metrics.clone();
            let cancel = cancel.clone();
            background.spawn(async move { metrics.run(cancel).await });
        }
        {
            let identity = state.identity.clone();
            let cancel = cancel.clone();
            background.spawn(async move { identity.run_auto_lock(cancel).await });
        }
        background.spawn(deny_approvals_on_lock(state.clone(), cancel.clone()));
        background.spawn(collect_garbage_periodically(state.clone(), cancel.clone()));
        background.spawn(crate::hub::federation_routes::forwarder(
            state.clone(),
            cancel.clone(),
        ));
        state
            .folders
            .start()
            .await
            .context("starting folder sync")?;
        state.mesh.start().await.context("starting the mesh")?;

        if state
            .s3
            .gateway
            .wanted(config.s3.enabled)
            .await
            .context("reading the S3 listener switch")?
        {
            state.s3.gateway.start(state.clone()).await?;
        }

        let endpoints = Endpoints {
            pid: std::process::id(),
            api: ApiEndpoint::new(api_addr, api_tls),
            ipc: Some(ipc_addr),
            hub: state.hub.addr.get().copied(),
            s3: state.s3.gateway.addr(),
        };
        endpoints
            .write(&paths.endpoints())
            .context("writing endpoints.json")?;
        state.s3.gateway.track_endpoints(paths.endpoints());
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
            ipc,
            hub: hub_served,
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
        // Ends event streams, so draining connections does not wait on them.
        self.cancel.cancel();
        self.state.agents.runner.stop_all().await;
        self.state.mesh.stop().await;
        self.state.s3.gateway.stop().await.context("S3 gateway")?;
        let hub = async {
            match self.hub {
                Some(h) => h.shutdown().await,
                None => Ok(()),
            }
        };
        let (api, ipc, hub) = tokio::join!(self.api.shutdown(), self.ipc.shutdown(), hub);
        api.context("REST API listener")?;
        ipc.context("IPC listener")?;
        hub.context("agent hub listener")?;
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

/// The keyring slot of this data dir: several daemons may share one keyring.
fn keyring_account(paths: &Paths) -> String {
    use sha2::{Digest, Sha256};
    let dir = paths
        .data_dir()
        .canonicalize()
        .unwrap_or_else(|_| paths.data_dir().to_owned());
    let digest = Sha256::digest(dir.to_string_lossy().as_bytes());
    format!("master-key-{}", hex::encode(&digest[..8]))
}

/// Unlock from the OS keyring ("remember on this device"), or from
/// `--password-file`; otherwise stay locked until the user unlocks.
async fn unlock_at_start(
    state: &AppState,
    password_file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    if state.identity.state() != LockState::Locked {
        tokio::task::spawn_blocking(RememberedKey::backend).await?;
        return Ok(());
    }
    if let Some(file) = password_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read --password-file {}", file.display()))?;
        let passphrase = zeroize::Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned());
        state
            .identity
            .unlock(&passphrase)
            .await
            .map_err(|e| anyhow::anyhow!("--password-file: {e}"))?;
        state
            .audit
            .record("unlock", serde_json::json!({"via": "password_file"}))
            .await;
        return Ok(());
    }
    let remembered = state.remembered.clone();
    // Also settles which OS keyring is used, once, off the async workers.
    match tokio::task::spawn_blocking(move || remembered.load()).await? {
        Ok(Some(master)) => match state.identity.unlock_with_master(master) {
            Ok(()) => {
                state
                    .audit
                    .record("unlock", serde_json::json!({"via": "keyring"}))
                    .await;
            }
            Err(e) => tracing::warn!("the remembered key does not unlock this identity: {e}"),
        },
        Ok(None) => {}
        Err(e) => tracing::info!("not unlocking from the OS keyring: {e}"),
    }
    Ok(())
}

/// Announces lock-state changes, and denies every pending approval on lock:
/// nothing is signed by a locked vault.
async fn deny_approvals_on_lock(state: AppState, cancel: CancellationToken) {
    let mut changes = state.identity.subscribe();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
        let now = *changes.borrow_and_update();
        state
            .events
            .publish("identity_state", serde_json::json!({ "state": now }));
        if now == LockState::Locked {
            state.vaults.forget_unlocked();
            state.approvals.deny_all_locked();
            state.audit.record("lock", serde_json::json!({})).await;
        } else if now == LockState::Unlocked {
            // Enrolment prompts the lock withdrew come back.
            raise_enrolment_prompts(&state).await;
        }
    }
}

/// Ask about every agent still waiting for the owner.
async fn raise_enrolment_prompts(state: &AppState) {
    let timeout = state.node.approval_timeout.max(crate::hub::ENROL_PROMPT);
    state
        .hub
        .core
        .prompts
        .raise_all(&state.hub.core, &state.approvals, timeout)
        .await;
    // Held room messages come back too.
    state
        .hub
        .core
        .held
        .raise_all(&state.hub.core, &state.approvals, timeout)
        .await;
    let hub = &state.hub.core;
    hub.decision_prompts
        .raise_all(hub, &state.approvals, &state.audit, timeout)
        .await;
}

/// Garbage collection a minute after start, then every six hours.
async fn collect_garbage_periodically(state: AppState, cancel: CancellationToken) {
    let mut wait = std::time::Duration::from_secs(60);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        match state.s3.uploads.expire(crate::s3::UPLOAD_EXPIRY_MS).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("aborted {n} abandoned S3 multipart uploads"),
            Err(e) => tracing::error!("expiring S3 multipart uploads failed: {e}"),
        }
        if let Err(e) = state.vaults.collect_garbage().await {
            tracing::error!("garbage collection failed: {e}");
        }
        wait = std::time::Duration::from_secs(6 * 3600);
    }
}
