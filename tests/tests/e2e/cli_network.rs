//! `holdfast network` against real daemons: create a network, see it in
//! `status`, print an invite link, join it from a second daemon, and both
//! list the other as a connected peer.

use std::process::{Output, Stdio};

use serde_json::Value;

use crate::harness::{TestDaemon, eventually};
use crate::ipc::ready;

fn run(d: &TestDaemon, args: &[&str]) -> Output {
    d.cli(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(d: &TestDaemon, args: &[&str]) -> String {
    let o = run(d, args);
    assert!(o.status.success(), "holdfast {args:?}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

async fn peer_id(d: &TestDaemon) -> String {
    let s: Value = d.get("/system/status").await.json().await.unwrap();
    s["peer_id"].as_str().unwrap().to_owned()
}

/// `network status` lists `peer` on a line that says it is connected.
fn lists_connected(status: &str, peer: &str) -> bool {
    status
        .lines()
        .any(|l| l.contains(peer) && l.trim_start().starts_with("connected"))
}

#[tokio::test]
async fn cli_network_create_invite_join_and_see_each_other() {
    let (a, _) = ready().await;
    let (b, _) = ready().await;

    let st = ok(&a, &["network"]);
    assert!(st.contains("Network: none"), "{st}");
    let o = run(&a, &["network", "invite"]);
    assert!(
        !o.status.success(),
        "invite without a network: {}",
        text(&o)
    );
    assert!(text(&o).contains("no active network"), "{}", text(&o));

    let out = ok(&a, &["network", "create", "--name", "Home lab"]);
    assert!(out.contains("Home lab"), "{out}");
    let st = ok(&a, &["network", "status"]);
    assert!(st.contains("Network: Home lab"), "{st}");
    let list = ok(&a, &["network", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with('*') && l.contains("Home lab")),
        "{list}"
    );

    let o = run(&a, &["network", "invite", "--ttl", "0d"]);
    assert!(!o.status.success(), "a zero ttl: {}", text(&o));
    let url = ok(&a, &["network", "invite", "--ttl", "1d"]);
    let url = url.trim();
    assert!(url.starts_with("holdfast://join/"), "{url}");
    assert_eq!(url.lines().count(), 1, "only the link on stdout: {url}");

    let o = run(&b, &["network", "join", "holdfast://join/v1/nonsense"]);
    assert!(!o.status.success(), "a bad link: {}", text(&o));
    assert!(text(&o).contains("the daemon refused"), "{}", text(&o));
    let out = ok(&b, &["network", "join", url]);
    assert!(out.contains("Home lab"), "{out}");

    let (pa, pb) = (peer_id(&a).await, peer_id(&b).await);
    eventually("a lists b as a connected peer", || async {
        lists_connected(&ok(&a, &["network", "status"]), &pb).then_some(())
    })
    .await;
    eventually("b lists a as a connected peer", || async {
        lists_connected(&ok(&b, &["network", "status"]), &pa).then_some(())
    })
    .await;

    // Disconnect and connect again by id.
    let out = ok(&b, &["network", "disconnect"]);
    assert!(out.contains("Disconnected from Home lab"), "{out}");
    let st = ok(&b, &["network", "status"]);
    assert!(st.contains("State:   offline"), "{st}");
    let list = ok(&b, &["network", "list"]);
    let id = list
        .lines()
        .find(|l| l.contains("Home lab"))
        .and_then(|l| l[1..].split_whitespace().next())
        .unwrap_or_else(|| panic!("{list}"))
        .to_owned();
    ok(&b, &["network", "connect", &id]);
    eventually("b connected again", || async {
        lists_connected(&ok(&b, &["network", "status"]), &pa).then_some(())
    })
    .await;
}
