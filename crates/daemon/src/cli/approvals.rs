//! `holdfast approvals`: list and answer pending requests from a terminal.

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value, json};

use super::Location;
use super::client::DaemonClient;

#[derive(Args)]
pub struct ApprovalsArgs {
    #[command(flatten)]
    location: Location,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Subcommand)]
enum Action {
    /// List pending requests (the default).
    List,
    /// Approve one request.
    Allow {
        id: String,
        /// Skip prompts of this kind from this app for this many seconds
        /// (where the request allows it, e.g. signing).
        #[arg(long, value_name = "SECONDS")]
        remember: Option<u64>,
        /// For a link: a profile field the app may read (display_name,
        /// username, profile_picture); repeatable.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// For a link from an app not registered yet: the name to register
        /// it under (otherwise the name it claimed).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Deny one request.
    Deny { id: String },
}

pub async fn run(args: ApprovalsArgs) -> anyhow::Result<()> {
    let client = DaemonClient::connect(&args.location)?;
    let owner = client.owner().await?;
    let result = match args.action.unwrap_or(Action::List) {
        Action::List => owner
            .call::<Value>(Method::GET, "/approvals", None)
            .await
            .map(|list| {
                let list = list.unwrap_or_default();
                let items = list.as_array().cloned().unwrap_or_default();
                if items.is_empty() {
                    println!("No requests waiting.");
                }
                for a in items {
                    let left = match a["deadline_ms"].as_i64() {
                        Some(d) => format!(
                            "{}s left",
                            ((d - holdfast_core::time::now_ms()) / 1000).max(0)
                        ),
                        None => "queued".to_owned(),
                    };
                    // The name Holdfast knows; what the app calls itself
                    // only as a marked claim.
                    let claimed = a["requester"]["claimed_name"]
                        .as_str()
                        .map(|c| format!("  [calls itself \"{c}\"]"))
                        .unwrap_or_default();
                    println!(
                        "{}  {:<5} {:<24} {left}  {}{claimed}{}",
                        a["id"].as_str().unwrap_or(""),
                        a["kind"].as_str().unwrap_or(""),
                        a["requester"]["app_name"].as_str().unwrap_or(""),
                        a["reason"].as_str().unwrap_or(""),
                        a["requester"]["exe"]
                            .as_str()
                            .map(|e| format!("  ({e})"))
                            .unwrap_or_default(),
                    );
                }
            }),
        Action::Allow {
            id,
            remember,
            scopes,
            name,
        } => owner
            .call::<Value>(
                Method::POST,
                &format!("/approvals/{id}"),
                Some(json!({"decision": "allow", "remember_s": remember,
                            "scopes": (!scopes.is_empty()).then_some(scopes),
                            "app_name": name})),
            )
            .await
            .map(|_| println!("Allowed.")),
        Action::Deny { id } => owner
            .call::<Value>(
                Method::POST,
                &format!("/approvals/{id}"),
                Some(json!({"decision": "deny"})),
            )
            .await
            .map(|_| println!("Denied.")),
    };
    owner.end().await;
    result
}
