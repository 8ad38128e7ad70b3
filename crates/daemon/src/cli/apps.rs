//! `holdfast apps`: register, list and remove the apps that may use the
//! identity.

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value, json};

use super::Location;
use super::client::DaemonClient;

#[derive(Args)]
pub struct AppsArgs {
    #[command(flatten)]
    location: Location,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Subcommand)]
enum Action {
    /// List registered apps and their links (the default).
    List,
    /// Register an app.
    Add {
        client_id: String,
        name: String,
        /// Profile field it may read (display_name, username, profile_picture); repeatable.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Browser origin it may call from (e.g. https://app.example); repeatable.
        #[arg(long = "origin")]
        origins: Vec<String>,
    },
    /// Forget an app, its links and grants.
    Remove { client_id: String },
}

pub async fn run(args: AppsArgs) -> anyhow::Result<()> {
    let client = DaemonClient::connect(&args.location)?;
    let owner = client.owner().await?;
    let result = async {
        match args.action.unwrap_or(Action::List) {
            Action::List => {
                let apps: Value = owner
                    .call(Method::GET, "/apps", None)
                    .await?
                    .unwrap_or_default();
                let links: Value = owner
                    .call(Method::GET, "/links", None)
                    .await?
                    .unwrap_or_default();
                let apps = apps.as_array().cloned().unwrap_or_default();
                if apps.is_empty() {
                    println!("No apps registered.");
                }
                for a in apps {
                    let n = links
                        .as_array()
                        .map(|l| {
                            l.iter()
                                .filter(|l| l["client_id"] == a["client_id"])
                                .count()
                        })
                        .unwrap_or(0);
                    println!(
                        "{:<24} {:<24} links: {n}  scopes: {}{}",
                        a["client_id"].as_str().unwrap_or(""),
                        a["name"].as_str().unwrap_or(""),
                        a["scopes"],
                        if a["token_bound"] == true {
                            "  (proves itself with its app token)"
                        } else {
                            "  (identified by client_id only)"
                        }
                    );
                }
            }
            Action::Add {
                client_id,
                name,
                scopes,
                origins,
            } => {
                owner
                    .call::<Value>(
                        Method::POST,
                        "/apps",
                        Some(
                            json!({"client_id": client_id, "name": name, "scopes": scopes,
                                    "allowed_origins": origins}),
                        ),
                    )
                    .await?;
                println!("Registered {client_id}.");
            }
            Action::Remove { client_id } => {
                owner
                    .call::<Value>(Method::DELETE, &format!("/apps/{client_id}"), None)
                    .await?;
                println!("Removed {client_id}.");
            }
        }
        anyhow::Ok(())
    }
    .await;
    owner.end().await;
    result
}
