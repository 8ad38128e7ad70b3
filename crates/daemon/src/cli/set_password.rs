//! `holdfast set-password`: set the web UI password through the daemon's
//! admin route, reading it from a hidden prompt or from stdin.

use std::io::BufRead;

use anyhow::bail;
use clap::Args;
use serde_json::{Value, json};

use super::Location;
use super::client::DaemonClient;

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
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let first = rpassword::prompt_password("New web UI password: ")?;
        let again = rpassword::prompt_password("Repeat it: ")?;
        if first != again {
            bail!("the two passwords differ; nothing changed");
        }
        first
    };
    client
        .admin_post::<Value>(
            "/api/v1/auth/admin/set-password",
            Some(json!({ "password": password })),
        )
        .await?;
    println!("Password set. Existing web sessions were logged out.");
    Ok(())
}
