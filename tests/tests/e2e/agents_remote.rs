//! A coding-agent instance used from another device of the mesh: node A
//! hosts it and hands out its share URL, node B adds it and drives it
//! through its own REST API, every request riding the swarm (never A's
//! REST port). Resetting the key shuts B out, streams included, until B
//! adds the fresh URL; a deleted instance answers 404 through the proxy.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::agents_support::{agent_node, claude_bin_dir, keyed_instance, stand_in, wait_status};
use crate::events::read_until;
use crate::harness::assert_error;
use crate::mesh::Node;

/// Two nodes on one network, connected.
async fn pair() -> (Node, Node) {
    let (a, b) = tokio::join!(Node::start(), Node::start());
    join(a, b).await
}

/// `b` joins a network `a` creates.
async fn join(a: Node, b: Node) -> (Node, Node) {
    let net = a.create_network().await;
    let url = a.invite(&net).await;
    b.join_network(&url).await;
    let pb = b.peer_id().await;
    a.wait_connected(&pb).await;
    (a, b)
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

async fn share_url(n: &Node, id: &str) -> String {
    s(&n.get(&format!("/instances/{id}/share-url")).await["url"])
}

async fn get_status(n: &Node, path: &str) -> reqwest::Response {
    n.d.get_auth(path, &n.token).await
}

/// Remote ports of the TCP connections process `pid` holds open.
fn tcp_peer_ports(pid: u32) -> HashSet<u16> {
    let mut inodes = HashSet::new();
    if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                let t = target.to_string_lossy().into_owned();
                if let Some(inode) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                    inodes.insert(inode.to_owned());
                }
            }
        }
    }
    let mut ports = HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 10 || !inodes.contains(cols[9]) {
                continue;
            }
            if let Some(port) = cols[2]
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok())
            {
                ports.insert(port);
            }
        }
    }
    ports
}

#[tokio::test]
async fn an_instance_is_used_from_another_device_over_the_mesh() {
    let (a, b) = pair().await;
    let pa = a.peer_id().await;

    let inst = a
        .post_ok(
            "/instances",
            json!({"type": "claude", "name": "Claude on A"}),
        )
        .await;
    let aid = s(&inst["id"]);
    let url = share_url(&a, &aid).await;
    assert!(url.starts_with("holdfast://agent/v1/"), "{url}");
    // The same key until it is reset.
    assert_eq!(share_url(&a, &aid).await, url);

    // Bad links answer 400 in the error shape, naming the problem.
    let r = b
        .post(
            "/instances/remote",
            json!({"url": "holdfast://agent/v9/e30"}),
        )
        .await;
    assert!(assert_error(r, 400).await.contains("update"));
    let r = b
        .post("/instances/remote", json!({"url": "https://example.com"}))
        .await;
    assert_error(r, 400).await;
    let r = b
        .post(
            "/instances/remote",
            json!({"url": "holdfast://agent/v1/!!"}),
        )
        .await;
    assert!(assert_error(r, 400).await.contains("damaged"));
    // A's own instance cannot be added on A.
    let r = a.post("/instances/remote", json!({"url": url})).await;
    assert_error(r, 400).await;

    // B adds it.
    let r = b
        .post(
            "/instances/remote",
            json!({"url": url, "name": "A's Claude"}),
        )
        .await;
    let status = r.status();
    let remote: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{remote}");
    assert_eq!(remote["remote"], true);
    assert_eq!(remote["host_node_id"], pa);
    assert_eq!(remote["name"], "A's Claude");
    assert_eq!(remote["type"], "claude");
    let rid = s(&remote["id"]);
    assert_ne!(rid, aid);
    // A remote instance is shared from its host only.
    assert_error(
        get_status(&b, &format!("/instances/{rid}/share-url")).await,
        400,
    )
    .await;

    // B lists the instance's sessions through the mesh, creates one, and
    // reads it back: ids are B's own for the instance, A's for sessions.
    let list = b.get(&format!("/instances/{rid}/sessions")).await;
    assert_eq!(list["sessions"], json!([]), "{list}");
    let sess = b
        .post_ok(
            &format!("/instances/{rid}/sessions"),
            json!({"title": "Across the mesh"}),
        )
        .await;
    let sid = s(&sess["id"]);
    assert_eq!(sess["instance_id"], rid, "{sess}");
    assert_eq!(sess["title"], "Across the mesh");
    let on_a = a.get(&format!("/instances/{aid}/sessions")).await;
    assert!(
        on_a["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == sid && x["instance_id"] == aid),
        "{on_a}"
    );
    let got = b.get(&format!("/sessions/{sid}")).await;
    assert_eq!(got["instance_id"], rid);
    let t = b.get(&format!("/sessions/{sid}/transcript")).await;
    assert!(t["messages"].is_array(), "{t}");
    let list = b.get(&format!("/instances/{rid}/sessions")).await;
    assert_eq!(list["sessions"][0]["id"], sid, "{list}");

    // Events stream across the mesh: the stream opens through B and stays
    // open until the key is reset.
    let mut events =
        b.d.http
            .get(b.d.url(&format!("/sessions/{sid}/events?token={}", b.token)))
            .send()
            .await
            .unwrap();
    assert_eq!(events.status(), 200);
    assert!(
        events.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    // The first event (the session's status) came from A, with A's
    // session id.
    let mut seen = String::new();
    while !seen.contains("\n\n") {
        let chunk = events.chunk().await.unwrap().expect("an event");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("\"type\":\"status\""), "{seen}");
    assert!(seen.contains(&sid), "{seen}");

    // B reaches A over the swarm only: no connection from B's process to
    // A's REST, IPC or hub ports.
    let mut a_ports = vec![a.d.addr.port(), a.d.ipc_addr.port()];
    if let Some(hub) = &a.d.hub {
        a_ports.push(hub.rsplit(':').next().unwrap().parse().unwrap());
    }
    let b_peers = tcp_peer_ports(b.d.pid());
    for p in &a_ports {
        assert!(!b_peers.contains(p), "B holds a connection to A's port {p}");
    }

    // A session of another (unshared) instance of A is not reachable.
    let other = a
        .post_ok("/instances", json!({"type": "claude", "name": "Private"}))
        .await;
    let oid = s(&other["id"]);
    let osess = a
        .post_ok(&format!("/instances/{oid}/sessions"), json!({}))
        .await;
    let osid = s(&osess["id"]);
    assert_error(get_status(&b, &format!("/sessions/{osid}")).await, 404).await;

    // Reset: B is refused, and the open stream ends.
    let fresh = s(&a
        .post_ok(&format!("/instances/{aid}/reset-key"), json!({}))
        .await["url"]);
    assert!(fresh.starts_with("holdfast://agent/v1/"));
    assert_ne!(fresh, url);
    let ended = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Ok(Some(_)) = events.chunk().await {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the event stream stayed open after the reset"
    );
    let msg = assert_error(
        get_status(&b, &format!("/instances/{rid}/sessions")).await,
        403,
    )
    .await;
    assert!(msg.contains("no longer valid"), "{msg}");
    assert_error(get_status(&b, &format!("/sessions/{sid}")).await, 403).await;
    // The old link cannot be added again either.
    let r = b.post("/instances/remote", json!({"url": url})).await;
    assert_error(r, 403).await;

    // The fresh link brings B back, on the same instance.
    let r = b.post("/instances/remote", json!({"url": fresh})).await;
    assert!(r.status().is_success(), "{}", r.status());
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["id"], rid);
    let list = b.get(&format!("/instances/{rid}/sessions")).await;
    assert_eq!(list["sessions"][0]["id"], sid, "{list}");

    // An instance deleted on its host answers 404 through the proxy.
    let gone = a
        .post_ok(
            "/instances",
            json!({"type": "claude", "name": "Short-lived"}),
        )
        .await;
    let gid = s(&gone["id"]);
    let gurl = share_url(&a, &gid).await;
    let r = b.post("/instances/remote", json!({"url": gurl})).await;
    assert_eq!(r.status(), 201);
    let grid = s(&r.json::<Value>().await.unwrap()["id"]);
    let r =
        a.d.delete_auth(&format!("/instances/{gid}"), &a.token)
            .await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_error(
        get_status(&b, &format!("/instances/{grid}/sessions")).await,
        404,
    )
    .await;
    // … and its link is refused when added afresh.
    let r = b.post("/instances/remote", json!({"url": gurl})).await;
    assert!(matches!(r.status().as_u16(), 200 | 404), "{}", r.status());
}

#[tokio::test]
async fn a_real_turn_runs_on_the_host_and_streams_to_the_other_device() {
    let Some(bin) = claude_bin_dir().await else {
        return;
    };
    let model = stand_in().await;
    let (d, t) = agent_node(&bin).await;
    let ws = tempfile::tempdir().unwrap();
    let aid = keyed_instance(&d, &t, &model, "sk-ant-remote-test-SECRET", ws.path()).await;
    let workspace = std::fs::canonicalize(ws.path()).unwrap();
    let (a, b) = join(Node { d, token: t }, Node::start().await).await;
    let url = share_url(&a, &aid).await;
    let remote = b.post_ok("/instances/remote", json!({"url": url})).await;
    let rid = s(&remote["id"]);

    // B starts a turn on A's agent and follows it live, all through B.
    let sess = b
        .post_ok(
            &format!("/instances/{rid}/sessions"),
            json!({"title": "Remote turn", "workspace": workspace.to_str().unwrap()}),
        )
        .await;
    let sid = s(&sess["id"]);
    let mut sse =
        b.d.get(&format!("/sessions/{sid}/events?token={}", b.token))
            .await;
    assert_eq!(sse.status(), 200);
    read_until(&mut sse, "event: status").await;
    let r = b
        .post(
            &format!("/sessions/{sid}/messages"),
            json!({"text": "Say hello REMOTE"}),
        )
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    read_until(&mut sse, "Hello from the stand-in: REMOTE").await;
    let done = wait_status(&b.d, &b.token, &sid, &["idle", "error"]).await;
    assert_eq!(done["status"], "idle", "{done}");
    assert_eq!(done["instance_id"], rid);
    let msgs = b.get(&format!("/sessions/{sid}/transcript")).await;
    let all = msgs["messages"].to_string();
    assert!(all.contains("Hello from the stand-in: REMOTE"), "{all}");
    assert!(!model.seen.all().is_empty());
}
