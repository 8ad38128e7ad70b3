//! `holdfast network`: create, join, invite to and inspect the private mesh
//! network this node belongs to.

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value, json};

use super::Location;
use super::client::{DaemonClient, Owner};

#[derive(Args)]
pub struct NetworkArgs {
    #[command(flatten)]
    location: Location,
    #[command(subcommand)]
    action: Option<Action>,
}

#[derive(Subcommand)]
enum Action {
    /// Show the active network, its state, this node's addresses and the
    /// peers (the default).
    Status,
    /// Create a new network (a fresh swarm key) and connect to it when no
    /// other network is active.
    Create {
        /// A name for the network, shown on every node that joins it.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Join a network with an invite link (holdfast://join/…).
    Join {
        url: String,
        /// Save it under this name instead of the one in the invite.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Print an invite link for a network (default: the active one).
    Invite {
        /// How long the link stays valid: a number with s, m, h or d
        /// (e.g. 30m, 12h, 7d).
        #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_ttl)]
        ttl: u64,
        network_id: Option<String>,
    },
    /// List saved networks; the active one is marked with `*`.
    List,
    /// Connect to a saved network (it becomes the active one).
    Connect { id: String },
    /// Disconnect from the active network (it stays saved).
    Disconnect,
}

/// `7d`, `12h`, `30m`, `90s` or a bare number of seconds.
fn parse_ttl(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c.to_ascii_lowercase()),
        _ => (s, 's'),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30m, 12h or 7d"))?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(format!("unknown unit `{unit}` (use s, m, h or d)")),
    };
    match n.checked_mul(mult) {
        Some(0) => Err("the duration must be more than zero".into()),
        Some(v) => Ok(v),
        None => Err("that duration is too long".into()),
    }
}

pub async fn run(args: NetworkArgs) -> anyhow::Result<()> {
    let client = DaemonClient::connect(&args.location)?;
    let owner = client.owner().await?;
    let result = act(&owner, args.action.unwrap_or(Action::Status)).await;
    owner.end().await;
    result
}

async fn get(owner: &Owner<'_>, path: &str) -> anyhow::Result<Value> {
    Ok(owner
        .call::<Value>(Method::GET, path, None)
        .await?
        .unwrap_or_default())
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn describe(n: &Value) -> String {
    format!(
        "{} ({}, fingerprint {})",
        s(&n["name"]),
        s(&n["id"]),
        s(&n["fingerprint"])
    )
}

async fn act(owner: &Owner<'_>, action: Action) -> anyhow::Result<()> {
    match action {
        Action::Status => status(owner).await?,
        Action::Create { name } => {
            let n: Value = owner
                .call(
                    Method::POST,
                    "/networks/create",
                    Some(json!({ "name": name.unwrap_or_else(|| "Home".to_owned()) })),
                )
                .await?
                .ok_or_else(|| anyhow!("the daemon sent no network"))?;
            println!("Created network {}.", describe(&n));
            println!("Invite other devices with `holdfast network invite`.");
        }
        Action::Join { url, name } => {
            let mut body = json!({ "url": url.trim() });
            if let Some(name) = name {
                body["name"] = json!(name);
            }
            let n: Value = owner
                .call(Method::POST, "/networks", Some(body))
                .await?
                .ok_or_else(|| anyhow!("the daemon sent no network"))?;
            println!("Joined network {}.", describe(&n));
        }
        Action::Invite { ttl, network_id } => {
            let id = match network_id {
                Some(id) => id,
                None => {
                    let list = get(owner, "/networks").await?;
                    list["active_id"].as_str().map(str::to_owned).context(
                        "no active network: create one with `holdfast network create` \
                             or name one (see `holdfast network list`)",
                    )?
                }
            };
            let inv = get(owner, &format!("/networks/{id}/invite?ttl_s={ttl}")).await?;
            let url = s(&inv["url"]);
            if url.is_empty() {
                bail!("the daemon sent no invite link");
            }
            println!("{url}");
            if let Some(exp) = inv["expires_ms"].as_i64() {
                let left = (exp - holdfast_core::time::now_ms()).max(0) / 1000;
                eprintln!(
                    "Valid for {}. Anyone with this link can join.",
                    human_s(left)
                );
            }
        }
        Action::List => {
            let list = get(owner, "/networks").await?;
            let nets = list["networks"].as_array().cloned().unwrap_or_default();
            if nets.is_empty() {
                println!("No saved networks. Create one with `holdfast network create`.");
            }
            for n in nets {
                let active = n["active"] == true || n["id"] == list["active_id"];
                println!(
                    "{} {:<20} {:<24} {}{}",
                    if active { "*" } else { " " },
                    s(&n["id"]),
                    s(&n["name"]),
                    s(&n["fingerprint"]),
                    if active {
                        format!("  ({})", s(&list["state"]))
                    } else {
                        String::new()
                    }
                );
            }
        }
        Action::Connect { id } => {
            let r: Value = owner
                .call(Method::POST, &format!("/networks/{id}/connect"), None)
                .await?
                .unwrap_or_default();
            println!("{}: {}.", s(&r["name"]), s(&r["state"]));
        }
        Action::Disconnect => {
            let r: Value = owner
                .call(Method::POST, "/networks/disconnect", None)
                .await?
                .unwrap_or_default();
            println!("Disconnected from {}.", s(&r["name"]));
        }
    }
    Ok(())
}

async fn status(owner: &Owner<'_>) -> anyhow::Result<()> {
    let st = get(owner, "/system/status").await?;
    let net = &st["network"];
    match net["id"].as_str() {
        Some(id) => {
            let fp = get(owner, "/networks")
                .await
                .ok()
                .and_then(|l| {
                    l["networks"].as_array().and_then(|ns| {
                        ns.iter()
                            .find(|n| n["id"] == id)
                            .map(|n| s(&n["fingerprint"]).to_owned())
                    })
                })
                .filter(|f| !f.is_empty())
                .map(|f| format!(", fingerprint {f}"))
                .unwrap_or_default();
            println!("Network: {} ({id}{fp})", s(&net["name"]));
        }
        None if net["state"] == "offline" => println!(
            "Network: not connected (see `holdfast network list`, then \
             `holdfast network connect ID`)."
        ),
        None => println!(
            "Network: none. Create one with `holdfast network create` or join with \
             `holdfast network join URL`."
        ),
    }
    println!("State:   {}", s(&net["state"]));
    if let Some(p) = st["peer_id"].as_str().filter(|p| !p.is_empty()) {
        println!("Node:    {p}");
    }
    let addrs = st["listen_addrs"].as_array().cloned().unwrap_or_default();
    if addrs.is_empty() {
        println!("Listening: (nothing)");
    } else {
        println!("Listening:");
        for a in addrs {
            println!("  {}", s(&a));
        }
    }
    if net["id"].is_null() {
        return Ok(());
    }
    let nodes = get(owner, "/nodes").await?;
    let nodes = nodes.as_array().cloned().unwrap_or_default();
    if nodes.is_empty() {
        println!("Peers:   none");
    } else {
        println!("Peers:");
        for n in nodes.iter().filter(|n| n["self"] != true) {
            println!(
                "  {} {:<20} {}",
                if n["connected"] == true {
                    "connected   "
                } else {
                    "disconnected"
                },
                n["display_name"].as_str().unwrap_or("(unnamed)"),
                s(&n["node_id"]),
            );
        }
    }
    Ok(())
}

fn human_s(secs: i64) -> String {
    match secs {
        t if t >= 86_400 => format!("{} d {} h", t / 86_400, t % 86_400 / 3600),
        t if t >= 3600 => format!("{} h {} min", t / 3600, t % 3600 / 60),
        t if t >= 60 => format!("{} min", t / 60),
        t => format!("{t} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_ttl;

    #[test]
    fn ttl() {
        assert_eq!(parse_ttl("7d"), Ok(604_800));
        assert_eq!(parse_ttl("12h"), Ok(43_200));
        assert_eq!(parse_ttl("30m"), Ok(1800));
        assert_eq!(parse_ttl("90"), Ok(90));
        assert!(parse_ttl("0d").is_err());
        assert!(parse_ttl("7w").is_err());
        assert!(parse_ttl("d").is_err());
    }
}
