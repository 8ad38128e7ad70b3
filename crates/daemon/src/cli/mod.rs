//! The `holdfast` command line: run the daemon, or talk to a running one.

mod approvals;
mod apps;
mod client;
mod daemon_cmd;
mod fsck;
mod identity;
mod network;
mod open;
mod set_password;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "holdfast",
    version,
    about = "Holdfast keeps your identity, files and agents on your own devices.",
    long_about = "Holdfast keeps your identity, files and agents on your own devices.\n\n\
        `holdfast daemon` runs the service; the other commands talk to a running daemon \
        through the files it keeps in its data directory."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon in the foreground until Ctrl-C or SIGTERM.
    ///
    /// Serves the REST API and web UI (api.bind, default 127.0.0.1:8080) and
    /// writes the bound addresses to <data dir>/endpoints.json.
    Daemon(daemon_cmd::DaemonArgs),
    /// Set or replace the web UI password of the running daemon.
    ///
    /// Proves authority with the daemon's admin token file, so it works only
    /// for the user who runs the daemon. Ends every existing login session.
    SetPassword(set_password::SetPasswordArgs),
    /// Open the web UI in a browser, logged in with a one-time ticket.
    ///
    /// The ticket is valid once, for 60 seconds.
    Open(open::OpenArgs),
    /// Create your identity: a passphrase, then a recovery phrase shown once.
    Init(identity::InitArgs),
    /// Unlock the identity with its passphrase.
    Unlock(identity::UnlockArgs),
    /// Lock the identity: signing stops and pending requests are denied.
    Lock(identity::LockArgs),
    /// List and answer requests from apps waiting for your approval.
    Approvals(approvals::ApprovalsArgs),
    /// Manage the apps that may use your identity.
    Apps(apps::AppsArgs),
    /// Verify stored blocks and the file versions that use them.
    ///
    /// Exits 0 when everything is intact, 3 when blocks are damaged or missing.
    Fsck(fsck::FsckArgs),
    /// Create, join and inspect the private network your devices share.
    Network(network::NetworkArgs),
    /// The approval MCP server the daemon hands to coding agents (stdio).
    #[command(name = "_mcp-approve", hide = true)]
    McpApprove,
}

/// Which daemon: where its data (and by default its config) lives.
#[derive(Args, Clone, Debug)]
pub struct Location {
    /// Keep everything (config, catalog, keys, tokens, logs) in this directory.
    /// Default: the platform's data dir (~/.local/share/holdfast on Linux).
    #[arg(long, global = true, env = "HOLDFAST_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Read this config file instead of config.yaml in the config dir
    /// (or in --data-dir when given).
    #[arg(long, global = true, env = "HOLDFAST_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl Location {
    pub fn paths(&self) -> anyhow::Result<holdfast_core::Paths> {
        Ok(holdfast_core::Paths::resolve(
            self.data_dir.clone(),
            self.config.clone(),
        )?)
    }
}

/// Runs a future on a small runtime, as the client commands do.
pub fn client_block_on(fut: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    client::block_on(fut)
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Daemon(args) => return daemon_cmd::run(args),
        Command::SetPassword(args) => client::block_on(set_password::run(args)),
        Command::Open(args) => client::block_on(open::run(args)),
        Command::Init(args) => client::block_on(identity::init(args)),
        Command::Unlock(args) => client::block_on(identity::unlock(args)),
        Command::Lock(args) => client::block_on(identity::lock(args)),
        Command::Approvals(args) => client::block_on(approvals::run(args)),
        Command::Apps(args) => client::block_on(apps::run(args)),
        Command::Network(args) => client::block_on(network::run(args)),
        Command::McpApprove => return crate::agents::mcp_approve::main_blocking(),
        Command::Fsck(args) => match fsck::run(args) {
            Ok(true) => return ExitCode::SUCCESS,
            Ok(false) => return ExitCode::from(fsck::EXIT_DAMAGED),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("holdfast: {e:#}");
            ExitCode::FAILURE
        }
    }
}
