//! `holdfast open`: mint a one-time bootstrap ticket and open the web UI
//! with it, so the user is logged in without typing the password.

use anyhow::anyhow;
use clap::Args;
use serde::Deserialize;

use super::Location;
use super::client::DaemonClient;

#[derive(Args)]
pub struct OpenArgs {
    #[command(flatten)]
    location: Location,
    /// Only print the URL; do not start a browser.
    #[arg(long)]
    print: bool,
}

#[derive(Deserialize)]
struct Ticket {
    ticket: String,
}

pub async fn run(args: OpenArgs) -> anyhow::Result<()> {
    let client = DaemonClient::connect(&args.location)?;
    let ticket: Ticket = client
        .admin_post("/api/v1/auth/admin/bootstrap-ticket", None)
        .await?
        .ok_or_else(|| anyhow!("the daemon sent no ticket"))?;
    let url = format!("{}/?bootstrap={}", client.base, ticket.ticket);
    println!("{url}");
    if !args.print
        && let Err(e) = open::that_detached(&url)
    {
        eprintln!("holdfast: could not start a browser ({e}); open the URL above within 60 s");
    }
    Ok(())
}
