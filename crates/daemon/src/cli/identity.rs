//! `holdfast init`, `unlock`, `lock`: the identity from the command line.

use clap::Args;
use reqwest::Method;
use serde_json::{Value, json};

use super::Location;
use super::client::{DaemonClient, read_secret};

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    location: Location,
    /// Read the passphrase from the first line of stdin.
    #[arg(long)]
    passphrase_stdin: bool,
}

#[derive(Args)]
pub struct UnlockArgs {
    #[command(flatten)]
    location: Location,
    /// Read the passphrase from the first line of stdin.
    #[arg(long)]
    passphrase_stdin: bool,
    /// Keep the key in the OS keyring so later starts unlock by themselves.
    #[arg(long)]
    remember: bool,
}

#[derive(Args)]
pub struct LockArgs {
    #[command(flatten)]
    location: Location,
}

pub async fn init(args: InitArgs) -> anyhow::Result<()> {
    let client = DaemonClient::connect(&args.location)?;
    let passphrase = read_secret(args.passphrase_stdin, "New passphrase: ", true)?;
    let owner = client.owner().await?;
    let created: anyhow::Result<Option<Value>> = owner
        .call(
            Method::POST,
            "/identity/init",
            Some(json!({ "passphrase": passphrase })),
        )
        .await;
    owner.end().await;
    let created = created?.unwrap_or_default();
    println!(
        "Identity created: {}",
        created["agent_pub_key"].as_str().unwrap_or("")
    );
    println!();
    println!("Your recovery phrase (write it down; it is shown only now):");
    println!();
    println!("    {}", created["recovery_phrase"].as_str().unwrap_or(""));
    println!();
    println!("Anyone with these words has your identity. Keep them offline.");
    Ok(())
}

pub async fn unlock(args: UnlockArgs) -> anyhow::Result<()> {
    let client = DaemonClient::connect(&args.location)?;
    let passphrase = read_secret(args.passphrase_stdin, "Passphrase: ", false)?;
    let owner = client.owner().await?;
    let body = json!({ "passphrase": passphrase, "remember": args.remember.then_some(true) });
    let answer: anyhow::Result<Option<Value>> = owner
        .call(Method::POST, "/identity/unlock", Some(body))
        .await;
    owner.end().await;
    let answer = answer?.unwrap_or_default();
    println!("Unlocked.");
    if let Some(e) = answer["keyring_error"].as_str() {
        eprintln!("holdfast: not remembered: {e}");
    } else if answer["remembered"] == true {
        println!("The key is remembered in the OS keyring on this device.");
    }
    Ok(())
}

pub async fn lock(args: LockArgs) -> anyhow::Result<()> {
    let client = DaemonClient::connect(&args.location)?;
    let owner = client.owner().await?;
    let r: anyhow::Result<Option<Value>> = owner.call(Method::POST, "/identity/lock", None).await;
    owner.end().await;
    r?;
    println!("Locked.");
    Ok(())
}
