//! The mesh with real daemons on loopback: networks formed from invite
//! URLs, vaults replicated across them, conflicts seen everywhere, sealed
//! replicas on nodes without the key, key rotation, and the limited mode
//! of a daemon with no network.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{TestDaemon, assert_error, pseudo_random};

/// A daemon with an owner bearer and an unlocked identity.
pub struct Node {
    pub d: TestDaemon,
    pub token: String,
}

impl Node {
    pub async fn start() -> Self {
        Self::start_with(&crate::harness::loopback_config()).await
    }

    /// A node whose config is `config` (it must keep the mesh on loopback).
    pub async fn start_with(config: &str) -> Self {
        let d = TestDaemon::start_with_config(config).await;
        let token = d.owner_token().await;
        d.init_identity(&token).await;
        Self { d, token }
    }

    pub async fn get(&self, path: &str) -> Value {
        let r = self.d.get_auth(path, &self.token).await;
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.d.post_auth(path, &self.token, body).await
    }

    pub async fn post_ok(&self, path: &str, body: Value) -> Value {
        let r = self.post(path, body).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn peer_id(&self) -> String {
        self.get("/whoami").await["node_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Create a network here; returns its id.
    pub async fn create_network(&self) -> String {
        let n = self
            .post_ok("/networks/create", json!({"name": "Home"}))
            .await;
        n["id"].as_str().unwrap().to_owned()
    }

    pub async fn invite(&self, net: &str) -> String {
        self.get(&format!("/networks/{net}/invite")).await["url"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn join_network(&self, url: &str) {
        self.post_ok("/networks", json!({"url": url})).await;
    }

    /// Wait until `other` is listed here as a connected node.
    pub async fn wait_connected(&self, other: &str) {
        wait_for(&format!("{other} connected"), || async {
            let nodes = self.get("/nodes").await;
            nodes
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["node_id"] == other && n["connected"] == true)
        })
        .await;
    }

    pub async fn create_vault(&self, name: &str, rf: u32) -> String {
        let v = self
            .post_ok("/vaults", json!({"name": name, "rf_target": rf}))
            .await;
        v["id"].as_str().unwrap().to_owned()
    }

    pub async fn share_and_join(&self, vid: &str, others: &[&Node]) {
        let url = self.get(&format!("/vaults/{vid}/share-url")).await["url"]
            .as_str()
            .unwrap()
            .to_owned();
        for o in others {
            let r = o.post("/vaults/join", json!({"url": url})).await;
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        }
    }

    pub async fn put(&self, vid: &str, path: &str, body: &[u8]) {
        let r = self.d.upload(&self.token, vid, path, body).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    /// The file's bytes, if it is there.
    pub async fn read(&self, vid: &str, path: &str) -> Option<Vec<u8>> {
        let r = self
            .d
            .get_auth(&format!("/vaults/{vid}/download{path}"), &self.token)
            .await;
        r.status()
            .is_success()
            .then_some(r.bytes().await.unwrap().to_vec())
    }

    pub async fn wait_file(&self, vid: &str, path: &str, want: &[u8]) {
        wait_for(&format!("{path} with the expected bytes"), || async {
            self.read(vid, path).await.as_deref() == Some(want)
        })
        .await;
    }

    pub async fn heads(&self, vid: &str, path: &str) -> usize {
        let info = self.get(&format!("/vaults/{vid}/info{path}")).await;
        info["versions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["head"] == true)
            .count()
    }
}

pub async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Three nodes on one network, each connected to the others.
async fn three() -> (Node, Node, Node) {
    let (a, b, c) = tokio::join!(Node::start(), Node::start(), Node::start());
    let net = a.create_network().await;
    let url = a.invite(&net).await;
    assert!(url.starts_with("holdfast://join/v1/"));
    b.join_network(&url).await;
    c.join_network(&url).await;
    let (pb, pc) = (b.peer_id().await, c.peer_id().await);
    a.wait_connected(&pb).await;
    a.wait_connected(&pc).await;
    b.wait_connected(&pc).await;
    (a, b, c)
}

#[tokio::test]
async fn limited_mode_without_a_network() {
    let n = Node::start().await;
    let st: Value = n.d.get("/system/status").await.json().await.unwrap();
    assert_eq!(st["has_swarm_key"], false);
    assert_eq!(st["setup_required"], true);
    assert_eq!(st["network"]["state"], "none");
    let vid = n.create_vault("Solo", 1).await;
    for r in [
        n.d.get_auth(&format!("/vaults/{vid}/share-url"), &n.token)
            .await,
        n.post("/replicate-now", json!({})).await,
        n.d.get_auth("/system/share", &n.token).await,
    ] {
        assert_error(r, 503).await;
    }
    assert_eq!(n.get("/nodes").await, json!([]));
    // A malformed key is refused with a message that names the problem.
    let r = n
        .post(
            "/system/setup",
            json!({"swarm_key": "/key/swarm/psk/1.0.0/\n/base64/\nAAAA"}),
        )
        .await;
    let msg = assert_error(r, 400).await;
    assert!(msg.contains("/base64/"), "{msg}");
    let r = n
        .post("/networks", json!({"url": "holdfast://vault/v1/abc"}))
        .await;
    assert!(assert_error(r, 400).await.contains("holdfast://join/"));
}

#[tokio::test]
async fn three_nodes_form_a_network_and_replicate_a_vault() {
    let (a, b, c) = three().await;
    let st: Value = a.d.get("/system/status").await.json().await.unwrap();
    assert_eq!(st["has_swarm_key"], true);
    assert_eq!(st["network"]["state"], "connected");
    assert_eq!(st["network"]["name"], "Home");
    assert!(!st["listen_addrs"].as_array().unwrap().is_empty());

    let vid = a.create_vault("Photos", 3).await;
    let big = pseudo_random(3 * 1024 * 1024 + 17, 7);
    a.put(&vid, "/2026/big.bin", &big).await;
    a.put(&vid, "/notes.txt", b"hello mesh").await;
    a.share_and_join(&vid, &[&b, &c]).await;
    c.wait_file(&vid, "/2026/big.bin", &big).await;
    c.wait_file(&vid, "/notes.txt", b"hello mesh").await;
    b.wait_file(&vid, "/notes.txt", b"hello mesh").await;

    // All three hold it, in sync: rf 3 reached.
    wait_for("rf 3 in sync on A", || async {
        let info = a.get(&format!("/vaults/{vid}/info")).await;
        info["rf_actual"] == 3 && info["rf_in_sync"] == 3 && info["replica_health"] == "ok"
    })
    .await;
    let loc = a.get(&format!("/vaults/{vid}/locality/notes.txt")).await;
    assert_eq!(loc["local"], true);
    assert_eq!(loc["holders"].as_array().unwrap().len(), 3);

    // Nodes, self and topology describe the mesh.
    let nodes = a.get("/nodes").await;
    assert_eq!(nodes.as_array().unwrap().len(), 2);
    let me = a.get("/nodes/self").await;
    assert_eq!(me["self"], true);
    assert!(
        me["vaults"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["id"] == vid)
    );
    let topo = a.get("/network/topology").await;
    assert_eq!(topo["nodes"].as_array().unwrap().len(), 3);
    assert!(topo["edges"].as_array().unwrap().len() >= 2);

    // Deletes and restores travel as versions.
    let r =
        a.d.delete_auth(&format!("/vaults/{vid}/files/notes.txt"), &a.token)
            .await;
    assert!(r.status().is_success());
    wait_for("the delete on C", || async {
        c.read(&vid, "/notes.txt").await.is_none()
    })
    .await;
    let hash = blake3::hash(b"hello mesh").to_hex().to_string();
    b.post_ok(
        &format!("/vaults/{vid}/restore/notes.txt"),
        json!({"content_hash": hash}),
    )
    .await;
    c.wait_file(&vid, "/notes.txt", b"hello mesh").await;

    // A goes away: B still serves, and an edit on B reaches C.
    let pb = b.peer_id().await;
    drop(a);
    b.put(&vid, "/after.txt", b"A is gone").await;
    c.wait_file(&vid, "/after.txt", b"A is gone").await;
    c.wait_connected(&pb).await;
}

#[tokio::test]
async fn a_node_with_the_wrong_key_never_connects() {
    let (a, stranger) = tokio::join!(Node::start(), Node::start());
    let net = a.create_network().await;
    let addrs = a.get("/system/share-node").await["addrs"].clone();
    assert!(!addrs.as_array().unwrap().is_empty());
    // The stranger has its own key but dials A's real addresses.
    let own = stranger.create_network().await;
    let r = stranger
        .d
        .put_auth(
            &format!("/networks/{own}/bootstrap"),
            &stranger.token,
            json!({"bootstrap": addrs}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let _ = net;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(a.get("/nodes").await, json!([]));
    assert_eq!(stranger.get("/nodes").await, json!([]));
    let st = a.get("/networks").await;
    assert_eq!(st["state"], "connecting");
}

#[tokio::test]
async fn concurrent_edits_become_one_conflict_on_every_node_and_resolve_once() {
    let (a, b, c) = three().await;
    let vid = a.create_vault("Docs", 3).await;
    a.put(&vid, "/plan.txt", b"v1").await;
    a.share_and_join(&vid, &[&b, &c]).await;
    b.wait_file(&vid, "/plan.txt", b"v1").await;
    c.wait_file(&vid, "/plan.txt", b"v1").await;

    // B goes offline; both edit the same file.
    b.post_ok("/networks/disconnect", json!({})).await;
    a.put(&vid, "/plan.txt", b"from A").await;
    b.put(&vid, "/plan.txt", b"from B").await;
    let net = b.get("/networks").await["networks"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    b.post_ok(&format!("/networks/{net}/connect"), json!({}))
        .await;

    for n in [&a, &b, &c] {
        wait_for("two heads", || async {
            n.heads(&vid, "/plan.txt").await == 2
        })
        .await;
    }
    // Resolved on C; the choice reaches A and B.
    let hash_b = blake3::hash(b"from B").to_hex().to_string();
    c.post_ok(
        &format!("/vaults/{vid}/resolve-conflict/plan.txt"),
        json!({"content_hash": hash_b}),
    )
    .await;
    for n in [&a, &b, &c] {
        wait_for("one head", || async {
            n.heads(&vid, "/plan.txt").await == 1
        })
        .await;
        n.wait_file(&vid, "/plan.txt", b"from B").await;
    }
}

#[tokio::test]
async fn a_node_without_the_key_holds_sealed_blocks_and_counts_toward_rf() {
    let (a, _b, c) = three().await;
    let vid = a.create_vault("Secret", 2).await;
    let marker = b"PLAINTEXT-MARKER-7f3a".repeat(5000);
    a.put(&vid, "/diary.txt", &marker).await;
    // Nobody joined: one of B and C steps in as a sealed replica.
    wait_for("rf 2 reached by a replica", || async {
        let info = a.get(&format!("/vaults/{vid}/info")).await;
        info["rf_actual"] == 2 && info["rf_in_sync"] == 2
    })
    .await;
    let info = a.get(&format!("/vaults/{vid}/info")).await;
    let replica = info["replicas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "replica")
        .expect("a replica holder")["node_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let holder = if c.peer_id().await == replica {
        &c
    } else {
        &_b
    };
    // It lists the vault as untrusted, with its size, and cannot read it.
    let vaults = holder.get("/vaults").await;
    let v = vaults
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == vid)
        .expect("listed");
    assert_eq!(v["trusted"], false);
    assert!(v["byte_count"].as_u64().unwrap() > 0);
    let r = holder
        .d
        .get_auth(&format!("/vaults/{vid}/files"), &holder.token)
        .await;
    assert!(r.status().is_client_error());
    // Nothing it stores contains the plaintext or the path.
    let needle = b"PLAINTEXT-MARKER-7f3a";
    for f in crate::harness::files_under(holder.d.data_dir(), "") {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(!contains(&bytes, needle), "plaintext in {}", f.display());
        assert!(
            !contains(&bytes, b"diary.txt"),
            "the path in {}",
            f.display()
        );
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn key_rotation_reaches_members_and_cuts_off_a_node_left_behind() {
    let (a, b, c) = three().await;
    let net = a.get("/networks").await["active_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pc = c.peer_id().await;
    let pb = b.peer_id().await;
    // C is offline while the key changes.
    c.post_ok("/networks/disconnect", json!({})).await;
    let before = a.get("/networks").await["networks"][0]["fingerprint"].clone();
    let r = a
        .post_ok(&format!("/networks/{net}/swarm-key"), json!({}))
        .await;
    assert_eq!(r["pushed_to"], 1);
    assert_ne!(r["fingerprint"], before);
    // B took the same key and is back with A on it.
    wait_for("B on the new key", || async {
        b.get("/networks").await["networks"][0]["fingerprint"] == r["fingerprint"]
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    a.wait_connected(&pb).await;
    // C comes back on the old key: it never gets in.
    c.post_ok(&format!("/networks/{net}/connect"), json!({}))
        .await;
    let a_addrs = a.get("/system/share-node").await["addrs"].clone();
    c.d.put_auth(
        &format!("/networks/{net}/bootstrap"),
        &c.token,
        json!({"bootstrap": a_addrs}),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let nodes = a.get("/nodes").await;
    assert!(
        !nodes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["node_id"] == pc && n["connected"] == true)
    );
}

#[tokio::test]
async fn network_routes_manage_saved_networks() {
    let n = Node::start().await;
    let id = n.create_network().await;
    let list = n.get("/networks").await;
    assert_eq!(list["active_id"], id);
    assert_eq!(list["networks"][0]["name"], "Home");
    // The key is the 3-line PSK text.
    let key =
        n.d.get_auth(&format!("/networks/{id}/key"), &n.token)
            .await
            .text()
            .await
            .unwrap();
    let lines: Vec<&str> = key.lines().collect();
    assert_eq!(lines[0], "/key/swarm/psk/1.0.0/");
    assert_eq!(lines[1], "/base16/");
    assert_eq!(lines[2].len(), 64);
    // Bootstrap lists: append, replace, from an invite; bad addresses are 400.
    let peer = "/ip4/192.0.2.7/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";
    let r = n
        .post_ok(&format!("/networks/{id}/peers"), json!({"peers": [peer]}))
        .await;
    assert_eq!(r["bootstrap"], json!([peer]));
    let r =
        n.d.put_auth(
            &format!("/networks/{id}/bootstrap"),
            &n.token,
            json!({"bootstrap": ["not an addr"]}),
        )
        .await;
    assert_error(r, 400).await;
    let url = n.invite(&id).await;
    let r =
        n.d.put_auth(
            &format!("/networks/{id}/bootstrap-invite"),
            &n.token,
            json!({"url": url}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // Connected: cannot be forgotten; disconnected: can.
    assert_error(
        n.d.delete_auth(&format!("/networks/{id}"), &n.token).await,
        409,
    )
    .await;
    let off = n.post_ok("/networks/disconnect", json!({})).await;
    assert_eq!(off["state"], "offline");
    let st: Value = n.d.get("/system/status").await.json().await.unwrap();
    assert_eq!(st["network"]["state"], "offline");
    assert_eq!(
        n.d.delete_auth(&format!("/networks/{id}"), &n.token)
            .await
            .status(),
        204
    );
    assert_error(
        n.d.delete_auth(&format!("/networks/{id}"), &n.token).await,
        404,
    )
    .await;
    // Setup from a raw key connects at once.
    let r = n
        .post_ok("/system/setup", json!({"swarm_key": key, "name": "Again"}))
        .await;
    assert_eq!(r["network"]["name"], "Again");
    let share = n.get("/system/share").await;
    assert_eq!(share["swarm_key"].as_str().unwrap(), key);
    assert!(
        share["connect_url"]
            .as_str()
            .unwrap()
            .starts_with("holdfast://join/v1/")
    );
    // An invite whose lifetime is out of bounds is refused.
    let r =
        n.d.get_auth(
            &format!(
                "/networks/{}/invite?ttl_s=5",
                r["network"]["id"].as_str().unwrap()
            ),
            &n.token,
        )
        .await;
    assert_error(r, 400).await;
    let nat = n.get("/system/nat").await;
    assert_eq!(nat["upnp"]["enabled"], false);
    let tp = n.get("/stats/throughput").await;
    assert_eq!(tp["bucket_ms"], 10000);
}

#[tokio::test]
async fn speed_test_runs_over_the_mesh_and_is_kept() {
    let (a, b) = tokio::join!(Node::start(), Node::start());
    let net = a.create_network().await;
    b.join_network(&a.invite(&net).await).await;
    let pb = b.peer_id().await;
    a.wait_connected(&pb).await;
    let r = a
        .post_ok(&format!("/network/speedtest/{pb}"), json!({}))
        .await;
    assert_eq!(r["bytes"], 16 * 1024 * 1024);
    assert!(r["throughput_bps"].as_f64().unwrap() > 0.0);
    let h = a.get(&format!("/network/speedtest/{pb}/history")).await;
    assert_eq!(h.as_array().unwrap().len(), 1);
    // Real bytes show in the throughput ring.
    let tp = a.get("/stats/throughput").await;
    let inbound: u64 = tp["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bytes_in"].as_u64().unwrap())
        .sum();
    assert!(inbound >= 16 * 1024 * 1024);
    let r = a
        .post(
            &format!("/network/speedtest/{}", a.peer_id().await),
            json!({}),
        )
        .await;
    assert_error(r, 404).await;
}

#[tokio::test]
async fn rf_is_restored_after_a_holder_leaves() {
    let (a, b, c) = three().await;
    let vid = a.create_vault("Backup", 2).await;
    a.put(&vid, "/one.bin", &pseudo_random(300_000, 3)).await;
    let replica_of = |info: &Value| -> Option<String> {
        info["replicas"]
            .as_array()?
            .iter()
            .find(|r| r["role"] == "replica" && r["in_sync"] == true)
            .and_then(|r| r["node_id"].as_str().map(str::to_owned))
    };
    wait_for("a first replica", || async {
        replica_of(&a.get(&format!("/vaults/{vid}/info")).await).is_some()
    })
    .await;
    let first = replica_of(&a.get(&format!("/vaults/{vid}/info")).await).unwrap();
    let (gone, stays) = if b.peer_id().await == first {
        (b, c)
    } else {
        (c, b)
    };
    let stays_id = stays.peer_id().await;
    drop(gone);
    // The node left: the other one steps in and rf 2 holds again.
    wait_for("rf 2 restored by the remaining node", || async {
        let info = a.get(&format!("/vaults/{vid}/info")).await;
        replica_of(&info).as_deref() == Some(stays_id.as_str()) && info["rf_in_sync"] == 2
    })
    .await;
}

#[tokio::test]
async fn a_node_killed_mid_transfer_catches_up_with_fsck_clean() {
    let (a, b) = tokio::join!(Node::start(), Node::start());
    let net = a.create_network().await;
    b.join_network(&a.invite(&net).await).await;
    a.wait_connected(&b.peer_id().await).await;
    let vid = a.create_vault("Films", 2).await;
    let big = pseudo_random(96 * 1024 * 1024, 11);
    a.put(&vid, "/film.mkv", &big).await;
    a.share_and_join(&vid, &[&b]).await;
    // Kill B while blocks are arriving.
    let blocks = b.d.data_dir().join("blocks");
    let before = crate::harness::block_files(b.d.data_dir()).len();
    wait_for("blocks arriving on B", || async {
        crate::harness::block_files(b.d.data_dir()).len() > before + 3
    })
    .await;
    let _ = blocks;
    let Node { d, token: _ } = b;
    let dir = d.kill().await;
    let at_kill = crate::harness::block_files(dir.path()).len();
    crate::harness::assert_fsck_clean(dir.path());
    // Restarted, unlocked: it resumes and ends byte-identical.
    let d = TestDaemon::start_in(dir).await;
    let token = d.login(crate::harness::PASSWORD).await;
    let r = d
        .post_auth(
            "/identity/unlock",
            &token,
            json!({"passphrase": crate::harness::PASSPHRASE}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let b = Node { d, token };
    b.wait_file(&vid, "/film.mkv", &big).await;
    assert!(
        at_kill < crate::harness::block_files(b.d.data_dir()).len(),
        "B was killed before every block had arrived"
    );
    let out = b.d.cli(&["fsck", "--json"]).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(out.status.success(), "{report}");
    assert!(report["damaged_blocks"].as_array().unwrap().is_empty());
    assert!(report["missing"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_folder_backed_vault_receives_a_peers_edits_on_disk() {
    let (a, b) = tokio::join!(Node::start(), Node::start());
    let net = a.create_network().await;
    b.join_network(&a.invite(&net).await).await;
    a.wait_connected(&b.peer_id().await).await;
    let vid = a.create_vault("Shared", 2).await;
    a.share_and_join(&vid, &[&b]).await;
    let folder = tempfile::tempdir().unwrap();
    let r =
        b.d.patch_auth(
            &format!("/vaults/{vid}"),
            &b.token,
            json!({"folder": folder.path().to_str().unwrap()}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    a.put(&vid, "/docs/report.txt", b"written on A").await;
    let on_disk = folder.path().join("docs/report.txt");
    wait_for("A's edit on B's disk", || async {
        std::fs::read(&on_disk).ok().as_deref() == Some(&b"written on A"[..])
    })
    .await;
    // And an edit in B's folder reaches A.
    std::fs::write(folder.path().join("from-b.txt"), b"written in B's folder").unwrap();
    a.wait_file(&vid, "/from-b.txt", b"written in B's folder")
        .await;
}

#[tokio::test]
async fn a_revoked_invite_is_refused_by_the_node_that_made_it() {
    let (a, b) = tokio::join!(Node::start(), Node::start());
    let net = a.create_network().await;
    let inv = a.get(&format!("/networks/{net}/invite")).await;
    let invite_id = inv["invite_id"].as_str().unwrap();
    let list = a.get(&format!("/networks/{net}/invites")).await;
    assert_eq!(list[0]["id"], invite_id);
    assert_eq!(list[0]["revoked"], false);
    assert!(list[0].get("url").is_none(), "the list never shows the key");
    let r =
        a.d.delete_auth(&format!("/networks/{net}/invites/{invite_id}"), &a.token)
            .await;
    assert_eq!(r.status(), 204);
    assert_error(
        a.d.delete_auth(&format!("/networks/{net}/invites/nope"), &a.token)
            .await,
        404,
    )
    .await;
    let r = b.post("/networks", json!({"url": inv["url"]})).await;
    let msg = assert_error(r, 403).await;
    assert!(msg.contains("revoked"), "{msg}");
    // B forgot the network and is offline again.
    let st = b.get("/networks").await;
    assert_eq!(st["networks"], json!([]));
    // A fresh invite works.
    b.join_network(&a.invite(&net).await).await;
    a.wait_connected(&b.peer_id().await).await;
}

#[tokio::test]
async fn a_locked_node_waits_for_its_unlock_then_catches_up() {
    let (a, b) = tokio::join!(Node::start(), Node::start());
    let net = a.create_network().await;
    b.join_network(&a.invite(&net).await).await;
    a.wait_connected(&b.peer_id().await).await;
    let vid = a.create_vault("Later", 2).await;
    a.share_and_join(&vid, &[&b]).await;
    assert_eq!(b.post("/identity/lock", json!({})).await.status(), 204);
    a.put(&vid, "/while-locked.txt", b"arrives after the unlock")
        .await;
    wait_for("B paused, saying why", || async {
        let info = b.get(&format!("/vaults/{vid}/info")).await;
        info["replication"]["state"] == "paused"
            && info["replication"]["reason"]
                .as_str()
                .unwrap_or("")
                .contains("unlock")
    })
    .await;
    let r = b
        .post(
            "/identity/unlock",
            json!({"passphrase": crate::harness::PASSPHRASE}),
        )
        .await;
    assert_eq!(r.status(), 200);
    b.wait_file(&vid, "/while-locked.txt", b"arrives after the unlock")
        .await;
    wait_for("B idle again", || async {
        b.get(&format!("/vaults/{vid}/info")).await["replication"]["state"] == "idle"
    })
    .await;
}

#[tokio::test]
async fn arriving_versions_respect_the_local_quota() {
    let (a, b) = tokio::join!(Node::start(), Node::start());
    let net = a.create_network().await;
    b.join_network(&a.invite(&net).await).await;
    a.wait_connected(&b.peer_id().await).await;
    let vid = a.create_vault("Big", 2).await;
    a.put(&vid, "/small.txt", b"fits").await;
    a.share_and_join(&vid, &[&b]).await;
    b.wait_file(&vid, "/small.txt", b"fits").await;
    // B allows 64 KiB for this vault; A adds 1 MiB.
    let r =
        b.d.patch_auth(
            &format!("/vaults/{vid}"),
            &b.token,
            json!({"hard_quota": 65536}),
        )
        .await;
    assert_eq!(r.status(), 200);
    a.put(&vid, "/big.bin", &pseudo_random(1024 * 1024, 5))
        .await;
    wait_for("B paused by its quota", || async {
        let info = b.get(&format!("/vaults/{vid}/info")).await;
        info["replication"]["state"] == "paused"
            && info["replication"]["reason"]
                .as_str()
                .unwrap_or("")
                .contains("quota")
    })
    .await;
    assert!(
        b.read(&vid, "/big.bin").await.is_none(),
        "nothing over the quota is recorded"
    );
    // Raising it lets the version in.
    let r =
        b.d.patch_auth(
            &format!("/vaults/{vid}"),
            &b.token,
            json!({"hard_quota": null}),
        )
        .await;
    assert_eq!(r.status(), 200);
    b.post_ok("/replicate-now", json!({})).await;
    b.wait_file(&vid, "/big.bin", &pseudo_random(1024 * 1024, 5))
        .await;
}
