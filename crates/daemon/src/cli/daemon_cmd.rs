//! `holdfast daemon`: run in the foreground, shut down gracefully on SIGINT
//! or SIGTERM.

use std::process::ExitCode;

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
        let daemon = RunningDaemon::start(paths, config, options).await?;
        shutdown_signal().await;
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

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = term => tracing::info!("SIGTERM received"),
    }
}
