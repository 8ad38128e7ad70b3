//! The system routes: version, whoami, status and metrics.

use serde_json::Value;

use crate::harness::{TestDaemon, assert_error};

#[tokio::test]
async fn version_is_public() {
    let d = TestDaemon::start().await;
    let v: Value = d.get("/version").await.json().await.unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn whoami_is_the_stable_node_peer_id() {
    let d = TestDaemon::start().await;
    assert_error(d.get("/whoami").await, 401).await;
    let token = d.owner_token().await;
    let who: Value = d.get_auth("/whoami", &token).await.json().await.unwrap();
    let id = who["node_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("12D3KooW"), "{id}");
    let status: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(status["peer_id"], id.as_str());

    let d = d.restart().await;
    let who: Value = d.get_auth("/whoami", &token).await.json().await.unwrap();
    assert_eq!(
        who["node_id"],
        id.as_str(),
        "node key persists across restarts"
    );

    // Another data dir is another device.
    let other = TestDaemon::start().await;
    let status: Value = other.get("/system/status").await.json().await.unwrap();
    assert_ne!(status["peer_id"], id.as_str());
}

#[tokio::test]
async fn status_reports_the_spec_fields_honestly() {
    let d = TestDaemon::start().await;
    let s: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(s["running"], true);
    assert_eq!(s["has_swarm_key"], false);
    assert_eq!(s["setup_required"], true);
    assert!(s["listen_addrs"].as_array().unwrap().is_empty());
    assert_eq!(s["s3_enabled"], false);
    assert_eq!(s["tls"]["enabled"], false);
    assert!(s["tls"]["fingerprint"].is_null());
    assert_eq!(s["at_rest"]["enabled"], false);
    assert_eq!(s["network"]["state"], "none");
    assert!(s["network"]["id"].is_null());
    assert!(s["uptime_ms"].as_i64().unwrap() >= 0);
}

#[tokio::test]
async fn s3_enabled_follows_config() {
    let d =
        TestDaemon::start_with_config("api:\n  bind: 127.0.0.1:0\ns3:\n  enabled: true\n").await;
    let s: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(s["s3_enabled"], true);
}

#[tokio::test]
async fn metrics_count_requests_errors_and_bytes() {
    let d = TestDaemon::start().await;
    let token = d.owner_token().await;
    for _ in 0..5 {
        d.get("/version").await;
    }
    for _ in 0..3 {
        d.get("/no-such-route").await;
    }
    let m: Value = d
        .get_auth("/system/metrics", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(m["interval_ms"], 60_000);
    let samples = m["samples"].as_array().unwrap();
    assert!(!samples.is_empty());
    let sum = |k: &str| samples.iter().map(|s| s[k].as_u64().unwrap()).sum::<u64>();
    // set-password + login + 5 + 3, at least (the metrics call itself is
    // counted when it finishes).
    assert!(sum("requests") >= 10, "{m}");
    assert!(sum("errors") >= 3, "{m}");
    assert!(sum("bytes_in") > 0, "{m}");
    assert!(sum("bytes_out") > 0, "{m}");
    let last = samples.last().unwrap();
    assert!(last["rss_bytes"].as_u64().unwrap() > 0);
    assert!(last["ts_ms"].as_i64().unwrap() % 60_000 == 0);

    // A window in the future is empty; one around now is not.
    let now = last["ts_ms"].as_i64().unwrap();
    let later: Value = d
        .get_auth(&format!("/system/metrics?from={}", now + 3_600_000), &token)
        .await
        .json()
        .await
        .unwrap();
    assert!(later["samples"].as_array().unwrap().is_empty());
    let around: Value = d
        .get_auth(
            &format!("/system/metrics?from={}&to={}", now - 1, now + 1),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(around["samples"].as_array().unwrap().len(), 1);
    assert_error(d.get("/system/metrics").await, 401).await;
}

#[tokio::test]
async fn browse_lists_directories_only() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("Documents")).unwrap();
    std::fs::create_dir(root.path().join(".hidden")).unwrap();
    std::fs::write(root.path().join("file.txt"), "x").unwrap();
    let q = |extra: &str| format!("/system/browse?path={}{extra}", root.path().display());
    let b: Value = d.get_auth(&q(""), &t).await.json().await.unwrap();
    assert_eq!(b["directories"], serde_json::json!(["Documents"]));
    assert_eq!(
        b["path"],
        root.path()
            .canonicalize()
            .unwrap()
            .to_string_lossy()
            .as_ref()
    );
    assert!(b["parent"].is_string());
    let b: Value = d.get_auth(&q("&hidden=1"), &t).await.json().await.unwrap();
    assert_eq!(
        b["directories"],
        serde_json::json!([".hidden", "Documents"])
    );
    assert_error(
        d.get_auth("/system/browse?path=relative/dir", &t).await,
        400,
    )
    .await;
    assert_error(
        d.get_auth("/system/browse?path=/no/such/dir/here", &t)
            .await,
        404,
    )
    .await;
    assert_error(d.get("/system/browse").await, 401).await;
    let home: Value = d.get_auth("/system/browse", &t).await.json().await.unwrap();
    assert!(home["path"].as_str().unwrap().starts_with('/'));
}
