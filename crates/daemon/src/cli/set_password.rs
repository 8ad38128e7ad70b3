//! `holdfast set-password`: set the web UI password through the daemon's
//! admin route, reading it from a hidden prompt or from stdin.

use clap::Args;
use serde_json::{Value, json};

use super::Location;
use super::client::{DaemonClient, read_secret};

#[derive(Args)]
pub struct SetPasswordArgs {
    #[command(flatten)]
    location: Location,
    /// Read the password from the first line of standard input instead of
    /// prompting (for scripts).
    #[arg(long)]
    password_stdin: bool,
}

pub async fn run(args: SetPasswordArgs) -> anyhow::Result<()> {
    let client = DaemonClient::connect(&args.location)?;
    let password = read_secret(args.password_stdin, "New web UI password: ", true)?;
    client
        .admin_post::<Value>(
            "/api/v1/auth/admin/set-password",
            Some(json!({ "password": password })),
        )
        .await?;
    println!("Password set. Existing web sessions were logged out.");
    Ok(())
}
