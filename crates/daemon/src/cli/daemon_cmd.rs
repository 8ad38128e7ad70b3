//! `holdfast daemon`: run in the foreground, shut down gracefully on SIGINT
//! or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use holdfast_core::Config;

use super::Location;
use crate::{RunningDaemon, logging};

#[derive(Args)]
pub struct DaemonArgs {
    #[command(flatten)]
    location: Location,
    /// Unlock the identity at start with the passphrase in this file (for
    /// servers without an OS keyring). Keep the file readable only by you.
    #[arg(long, value_name = "FILE")]
    password_file: Option<std::path::PathBuf>,
}

/// Exit code for a configuration the daemon refuses to start with.
const EXIT_CONFIG: u8 = 2;

pub fn run(args: DaemonArgs) -> ExitCode {
    let paths = match args.location.paths() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("holdfast: {e:#}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let config = match Config::load(paths.config_file()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("holdfast: config error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let _log_guard = match logging::init(&paths.logs_dir()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("holdfast: cannot set up logging: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("holdfast: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let options = crate::daemon::StartOptions {
            password_file: args.password_file,
        };
        let signals = ShutdownSignals::install().context("installing signal handlers")?;
        let daemon = RunningDaemon::start(paths, config, options).await?;
        signals.recv().await;
        daemon.shutdown().await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("holdfast: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// SIGINT and SIGTERM, caught from before the daemon announces itself in
/// `endpoints.json`: a supervisor that signals as soon as it sees that file
/// gets a clean shutdown, not the default action of the signal.
struct ShutdownSignals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
}

impl ShutdownSignals {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(windows)]
        {
            Ok(Self {
                ctrl_c: tokio::signal::windows::ctrl_c()?,
            })
        }
    }

    async fn recv(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => tracing::info!("SIGINT received"),
            _ = self.term.recv() => tracing::info!("SIGTERM received"),
        }
        #[cfg(windows)]
        {
            self.ctrl_c.recv().await;
            tracing::info!("Ctrl-C received");
        }
    }
}
