//! Live events over SSE and the audit export.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{TestDaemon, assert_error};
use crate::ipc::ready;

/// Read the SSE response until `needle` shows up; returns everything read.
pub async fn read_until(resp: &mut reqwest::Response, needle: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout(Duration::from_secs(20), resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} in: {seen}"))
            .unwrap()
            .unwrap_or_else(|| panic!("stream ended before {needle:?}: {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

#[tokio::test]
async fn approvals_and_audit_events_arrive_live() {
    let (d, t) = ready().await;
    let mut sse = d.get(&format!("/events/stream?token={t}")).await;
    assert_eq!(sse.status(), 200);
    assert!(
        sse.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    read_until(&mut sse, ": connected").await;

    let auth = d.ipc_post("/authenticate", json!({"app_name": "Desk"}));
    let watch = async {
        let seen = read_until(&mut sse, "event: approval_requested").await;
        let data = seen
            .lines()
            .skip_while(|l| *l != "event: approval_requested")
            .find_map(|l| l.strip_prefix("data: "))
            .unwrap()
            .to_owned();
        let envelope: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(envelope["type"], "approval_requested");
        assert_eq!(envelope["kind"], "auth");
        // The request names no registered app: "Desk" is only its claim.
        assert_eq!(envelope["claimed_name"], "Desk");
        d.answer(&t, "auth", json!({"decision": "allow"})).await;
        read_until(&mut sse, "event: approval_resolved").await;
        read_until(&mut sse, "\"audit_type\":\"authenticate\"").await;
    };
    let (resp, ()) = tokio::join!(auth, watch);
    assert_eq!(resp.status(), 200);

    // Locking is announced.
    d.post_auth("/identity/lock", &t, json!({})).await;
    read_until(&mut sse, "\"state\":\"locked\"").await;

    // A clean shutdown ends the stream instead of waiting on it.
    d.signal(libc::SIGTERM);
    let rest = tokio::time::timeout(Duration::from_secs(20), async {
        while sse.chunk().await.ok().flatten().is_some() {}
    })
    .await;
    assert!(rest.is_ok(), "the stream ended at shutdown");
    let (status, _) = d.stop_after_signal().await;
    assert!(status.success());
}

#[tokio::test]
async fn event_stream_needs_the_owner() {
    let d = TestDaemon::start().await;
    assert_error(d.get("/events/stream").await, 401).await;
    assert_error(d.get("/events/stream?token=nope").await, 401).await;
    let t = d.owner_token().await;
    let resp = d.get_auth("/events/stream", &t).await;
    assert_eq!(resp.status(), 200, "the header works too");
}

#[tokio::test]
async fn audit_export_is_json_lines() {
    let (d, t) = ready().await;
    d.post_auth("/identity/lock", &t, json!({})).await;
    // The lock is audited by a watcher task, just after the lock itself.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let locks: Value = d
            .get_auth("/audit?types=lock", &t)
            .await
            .json()
            .await
            .unwrap();
        if !locks.as_array().unwrap().is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "lock never audited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let resp = d.get(&format!("/audit/export?token={t}")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let text = resp.text().await.unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events.iter().any(|e| e["type"] == "identity_created"),
        "{text}"
    );
    assert!(events.iter().any(|e| e["type"] == "lock"), "{text}");
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["id"].as_i64() < w[1]["id"].as_i64())
    );
    // The list is newest first, within its limit.
    let list: Value = d.get_auth("/audit", &t).await.json().await.unwrap();
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.len() >= 2 && ids.windows(2).all(|w| w[0] > w[1]),
        "{ids:?}"
    );
    let newest: Value = d.get_auth("/audit?limit=1", &t).await.json().await.unwrap();
    assert_eq!(newest.as_array().unwrap().len(), 1);
    assert_eq!(newest[0]["id"], ids[0]);
    assert_eq!(newest[0], events.last().unwrap().clone());
    let created: Value = d
        .get_auth("/audit?types=identity_created&limit=5", &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created.as_array().unwrap().len(), 1);
    for bad in ["limit=0", "limit=1001", "limit=x"] {
        assert_error(d.get_auth(&format!("/audit?{bad}"), &t).await, 400).await;
    }
    assert_error(d.get("/audit/export").await, 401).await;
    // `?token=` is for the listed routes only; the plain list wants the header.
    assert_error(d.get(&format!("/audit?token={t}")).await, 401).await;
}
