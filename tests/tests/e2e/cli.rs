//! The identity commands of the `holdfast` CLI against a running daemon.

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::{Value, json};

use crate::harness::{PASSPHRASE, TestDaemon};
use crate::ipc::agent_key;

fn run(d: &TestDaemon, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = d
        .cli(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        writeln!(input, "{s}").unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn init_lock_unlock_apps_and_approvals() {
    let d = TestDaemon::start().await;
    let o = run(&d, &["init", "--passphrase-stdin"], Some(PASSPHRASE));
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    let phrase_line = out
        .lines()
        .find(|l| l.split_whitespace().count() == 24)
        .expect("phrase shown");
    assert!(phrase_line.starts_with("    "));

    let o = run(&d, &["lock"], None);
    assert!(o.status.success(), "{}", text(&o));
    let s: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(s["identity"], "locked");
    let o = run(
        &d,
        &["unlock", "--passphrase-stdin"],
        Some("wrong passphrase"),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("wrong passphrase"), "{}", text(&o));
    let o = run(&d, &["unlock", "--passphrase-stdin"], Some(PASSPHRASE));
    assert!(o.status.success(), "{}", text(&o));

    let o = run(
        &d,
        &["apps", "add", "old_app", "Old App", "--scope", "username"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&d, &["apps"], None);
    assert!(
        text(&o).contains("old_app") && text(&o).contains("identified by client_id only"),
        "{}",
        text(&o)
    );
    let o = run(&d, &["apps", "add", "bad id!", "X"], None);
    assert!(!o.status.success());

    // A pending link request, listed and approved from the terminal.
    let link = d.ipc_post(
        "/link-identity",
        json!({"app_name": "Term", "client_id": "term", "app_agent_pub_key": agent_key([6; 32])}),
    );
    let approve = async {
        let owner = d.owner_token().await;
        let pending = d.next_approval(&owner, "link").await;
        let id = pending["id"].as_str().unwrap().to_owned();
        let o = run(&d, &["approvals"], None);
        assert!(
            text(&o).contains(&id) && text(&o).contains("Term"),
            "{}",
            text(&o)
        );
        let o = run(
            &d,
            &["approvals", "allow", &id, "--name", "Terminal notes"],
            None,
        );
        assert!(o.status.success(), "{}", text(&o));
    };
    let (resp, ()) = tokio::join!(link, approve);
    assert_eq!(resp.status(), 200);
    // The new app is registered under the name given at the prompt.
    let o = run(&d, &["apps"], None);
    assert!(text(&o).contains("Terminal notes"), "{}", text(&o));
    let o = run(
        &d,
        &["approvals", "deny", "00000000000000000000000000000000"],
        None,
    );
    assert!(!o.status.success());
}
