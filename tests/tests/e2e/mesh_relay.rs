//! Two devices that cannot reach each other, only a relay node: each in its
//! own network namespace, joined to the relay by a veth pair, with no route
//! between the two. They still replicate, through a relay circuit. Needs
//! root and `ip netns`; skips with a message otherwise.

use std::process::Command;

use serde_json::json;

use crate::harness::TestDaemon;
use crate::mesh::{Node, wait_for};

/// Two namespaces and their veth links, removed on drop.
struct Lab {
    names: Vec<String>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in &self.names {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Namespaces `a` (10.<n>.1.2, relay side 10.<n>.1.1) and `b` (10.<n>.2.2,
/// relay side 10.<n>.2.1). None if the machine does not allow it.
fn lab() -> Option<(Lab, String, String, u8)> {
    let tag = std::process::id() % 10_000;
    let n = (std::process::id() % 200 + 20) as u8;
    let (a, b) = (format!("hfa{tag}"), format!("hfb{tag}"));
    let mut lab = Lab { names: Vec::new() };
    for ns in [&a, &b] {
        if !ip(&["netns", "add", ns]) {
            return None;
        }
        lab.names.push(ns.clone());
    }
    for (ns, side, host, peer) in [
        (&a, 1, format!("hva{tag}"), format!("hpa{tag}")),
        (&b, 2, format!("hvb{tag}"), format!("hpb{tag}")),
    ] {
        let ok = ip(&["link", "add", &host, "type", "veth", "peer", "name", &peer])
            && ip(&["link", "set", &peer, "netns", ns])
            && ip(&["addr", "add", &format!("10.{n}.{side}.1/24"), "dev", &host])
            && ip(&["link", "set", &host, "up"])
            && ip(&[
                "netns",
                "exec",
                ns,
                "ip",
                "addr",
                "add",
                &format!("10.{n}.{side}.2/24"),
                "dev",
                &peer,
            ])
            && ip(&["netns", "exec", ns, "ip", "link", "set", &peer, "up"])
            && ip(&["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
        if !ok {
            return None;
        }
    }
    Some((lab, a, b, n))
}

fn config(api: &str, listen: &[String], relay: bool) -> String {
    let listen = listen.join(", ");
    format!(
        "api:\n  bind: {api}\nipc:\n  bind: 127.0.0.1:0\nmesh:\n  listen: [{listen}]\n  mdns: false\n  relay_server: {relay}\n  gossip_interval_seconds: 1\n  replicate_interval_seconds: 2\n"
    )
}

async fn node_in(ns: &str, config: &str) -> Node {
    let d = TestDaemon::start_in_netns(ns, config).await;
    let token = d.owner_token().await;
    d.init_identity(&token).await;
    Node { d, token }
}

#[tokio::test]
async fn two_nodes_that_only_reach_a_relay_still_replicate() {
    let Some((_lab, ns_a, ns_b, n)) = lab() else {
        eprintln!("SKIPPED: needs root and `ip netns` to put nodes in separate network namespaces");
        return;
    };
    // The relay in the root namespace, listening on both links.
    let relay = {
        let cfg = config(
            "127.0.0.1:0",
            &[
                format!("/ip4/10.{n}.1.1/tcp/0"),
                format!("/ip4/10.{n}.2.1/tcp/0"),
            ],
            true,
        );
        let d = TestDaemon::start_with_config(&cfg).await;
        let token = d.owner_token().await;
        d.init_identity(&token).await;
        Node { d, token }
    };
    let x = node_in(
        &ns_a,
        &config(
            &format!("10.{n}.1.2:0"),
            &[format!("/ip4/10.{n}.1.2/tcp/0")],
            false,
        ),
    )
    .await;
    let y = node_in(
        &ns_b,
        &config(
            &format!("10.{n}.2.2:0"),
            &[format!("/ip4/10.{n}.2.2/tcp/0")],
            false,
        ),
    )
    .await;
    let net = relay.create_network().await;
    let url = relay.invite(&net).await;
    x.join_network(&url).await;
    y.join_network(&url).await;
    let (px, py) = (x.peer_id().await, y.peer_id().await);
    relay.wait_connected(&px).await;
    relay.wait_connected(&py).await;

    // Only X holds the vault (rf 1: the relay holds nothing of it).
    let vid = x.create_vault("Across", 1).await;
    let body = crate::harness::pseudo_random(2 * 1024 * 1024 + 5, 21);
    x.put(&vid, "/far.bin", &body).await;
    let share = x.get(&format!("/vaults/{vid}/share-url")).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = y.post("/vaults/join", json!({"url": share})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    y.wait_file(&vid, "/far.bin", &body).await;
    // They are connected to each other, and only through the relay.
    wait_for("X and Y connected", || async {
        let nodes = y.get("/nodes").await;
        nodes
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["node_id"] == px && v["connected"] == true)
    })
    .await;
    let nat = y.get("/system/nat").await;
    assert!(nat["relayed_peers"].as_u64().unwrap() >= 1, "{nat}");
    let _ = py;
}
