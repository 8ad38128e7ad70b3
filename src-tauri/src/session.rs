//! The daemon inside the app: started with the user's data dir (or the one
//! given), reached through its handle for tickets, state and shutdown.

use std::path::PathBuf;
use std::sync::Mutex;

use holdfast_core::identity::LockState;
use holdfast_core::{Config, Paths};
use holdfast_daemon::RunningDaemon;
use holdfast_daemon::daemon::StartOptions;
use holdfast_daemon::state::AppState;

pub struct Session {
    /// Taken at shutdown.
    daemon: Mutex<Option<RunningDaemon>>,
    state: AppState,
    /// Where the web UI is: `http://127.0.0.1:PORT`.
    pub base_url: String,
    _log: Option<holdfast_daemon::logging::WorkerGuard>,
}

impl Session {
    pub async fn start(data_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        let paths = Paths::resolve(data_dir, None)?;
        let config = Config::load(paths.config_file())?;
        let log = holdfast_daemon::logging::init(&paths.logs_dir()).ok();
        let daemon = RunningDaemon::start(paths, config, StartOptions::default()).await?;
        let base_url = daemon.endpoints().api.url.trim_end_matches('/').to_owned();
        Ok(Self {
            state: daemon.state().clone(),
            daemon: Mutex::new(Some(daemon)),
            base_url,
            _log: log,
        })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn is_unlocked(&self) -> bool {
        self.state.identity.state() == LockState::Unlocked
    }

    /// A page of the web UI, signed in with a fresh single-use ticket, so
    /// the user never types the web password in the app.
    pub fn page(&self, route: &str) -> String {
        let ticket = self.state.auth.mint_ticket();
        format!("{}/?bootstrap={}#{route}", self.base_url, ticket.token)
    }

    /// Requests waiting for an answer (open and queued).
    pub fn pending(&self) -> usize {
        self.state.approvals.list().len()
    }

    /// Stop the daemon gracefully (once).
    pub async fn shutdown(&self) {
        let daemon = self.daemon.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(d) = daemon
            && let Err(e) = d.shutdown().await
        {
            tracing::error!("daemon shutdown: {e:#}");
        }
    }
}
