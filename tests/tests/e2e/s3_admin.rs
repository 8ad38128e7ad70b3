//! S3 admin over REST: access keys (the secret shown once), grants, and the
//! listener switch (started and stopped at run time, remembered across
//! restarts).

use std::net::{SocketAddr, TcpStream};

use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestDaemon, assert_error, loopback_config, raw_http, raw_status};

/// Test config with the S3 listener on an ephemeral port (still off).
fn s3_config(extra: &str) -> String {
    format!("{}s3:\n  bind: 127.0.0.1:0\n{extra}", loopback_config())
}

async fn unlocked_daemon() -> (TestDaemon, String) {
    let d = TestDaemon::start_with_config(&s3_config("")).await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    (d, t)
}

async fn mint(d: &TestDaemon, t: &str, body: Option<Value>) -> Value {
    let mut req = d.http.post(d.url("/s3/keys")).bearer_auth(t);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    resp.json().await.unwrap()
}

async fn delete_json(d: &TestDaemon, path: &str, t: &str, body: Value) -> reqwest::Response {
    d.http
        .delete(d.url(path))
        .bearer_auth(t)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn minted_secret_is_shown_once_and_never_listed() {
    let (d, t) = unlocked_daemon().await;
    assert_eq!(d.get_json("/s3/keys", &t).await, json!([]));

    // No body, `{}` and a named key all mint.
    let bare = mint(&d, &t, None).await;
    let empty = mint(&d, &t, Some(json!({}))).await;
    let named = mint(&d, &t, Some(json!({"name": "  backup box "}))).await;
    for k in [&bare, &empty, &named] {
        let id = k["access_key_id"].as_str().unwrap();
        let secret = k["secret_access_key"].as_str().unwrap();
        assert!(id.starts_with("HF") && id.len() == 20, "{id}");
        assert_eq!(secret.len(), 40);
        assert!(k["created_ms"].as_i64().unwrap() > 0);
    }
    assert!(bare["name"].is_null());
    assert_eq!(named["name"], "backup box");
    assert_ne!(bare["secret_access_key"], empty["secret_access_key"]);

    let list = d.get_json("/s3/keys", &t).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    for k in list {
        assert!(k.get("secret_access_key").is_none(), "{k}");
        assert!(k["last_used_ms"].is_null());
    }
    let text = d.get_auth("/s3/keys", &t).await.text().await.unwrap();
    let audit = d
        .get_auth("/audit?types=s3_key_minted", &t)
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains(named["access_key_id"].as_str().unwrap()));
    let log = std::fs::read_to_string(d.data_dir().join("daemon-stderr.log")).unwrap_or_default();
    for k in [&bare, &empty, &named] {
        let secret = k["secret_access_key"].as_str().unwrap();
        assert!(!text.contains(secret));
        assert!(!audit.contains(secret), "secret in the audit log");
        assert!(!log.contains(secret), "secret in the daemon log");
    }

    // Bad bodies.
    assert_error(
        d.post_auth("/s3/keys", &t, json!({"name": "x".repeat(101)}))
            .await,
        400,
    )
    .await;
    assert_error(
        d.post_auth("/s3/keys", &t, json!({"label": "x"})).await,
        400,
    )
    .await;
    let resp = d
        .http
        .post(d.url("/s3/keys"))
        .bearer_auth(&t)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(resp, 415).await;
    // Owner only.
    assert_error(d.get("/s3/keys").await, 401).await;
}

#[tokio::test]
async fn revoking_a_key_removes_it_and_its_grants() {
    let (d, t) = unlocked_daemon().await;
    let a = mint(&d, &t, None).await;
    let b = mint(&d, &t, None).await;
    let (a_id, b_id) = (
        a["access_key_id"].as_str().unwrap(),
        b["access_key_id"].as_str().unwrap(),
    );
    let r = d
        .put_auth(
            "/s3/permissions",
            &t,
            json!({"key_id": a_id, "bucket": "*", "ops": ["read"]}),
        )
        .await;
    assert_eq!(r.status(), 200);

    let r = d.delete_auth(&format!("/s3/keys/{a_id}"), &t).await;
    assert_eq!(r.status(), 204);
    let ids: Vec<Value> = d
        .get_json("/s3/keys", &t)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["access_key_id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(b_id)]);
    assert_eq!(d.get_json("/s3/permissions", &t).await, json!([]));

    assert_error(d.delete_auth(&format!("/s3/keys/{a_id}"), &t).await, 404).await;
    assert_error(d.delete_auth("/s3/keys/HFNOSUCHKEY", &t).await, 404).await;
    let long = "A".repeat(500);
    assert_error(d.delete_auth(&format!("/s3/keys/{long}"), &t).await, 404).await;
    let audit = d.get_json("/audit?types=s3_key_revoked", &t).await;
    assert!(audit.to_string().contains(a_id), "{audit}");
}

#[tokio::test]
async fn grants_are_set_replaced_and_removed() {
    let (d, t) = unlocked_daemon().await;
    let k = mint(&d, &t, Some(json!({"name": "ci"}))).await;
    let id = k["access_key_id"].as_str().unwrap();

    let r = d
        .put_auth(
            "/s3/permissions",
            &t,
            json!({"key_id": id, "bucket": "photos", "ops": ["write", "read", "read"]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let g: Value = r.json().await.unwrap();
    assert_eq!(
        g,
        json!({"key_id": id, "bucket": "photos", "ops": ["read", "write"]})
    );
    d.put_auth(
        "/s3/permissions",
        &t,
        json!({"key_id": id, "bucket": "*", "ops": ["read"]}),
    )
    .await;

    // Replace: the new ops win.
    let r = d
        .put_auth(
            "/s3/permissions",
            &t,
            json!({"key_id": id, "bucket": "photos", "ops": ["delete"]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let all = d.get_json("/s3/permissions", &t).await;
    assert_eq!(
        all,
        json!([
            {"key_id": id, "bucket": "*", "ops": ["read"]},
            {"key_id": id, "bucket": "photos", "ops": ["delete"]},
        ])
    );

    // Errors: unknown key 404; bad op, bad bucket, no ops, bad shape 400.
    for (body, status) in [
        (
            json!({"key_id": "HFNOSUCHKEY", "bucket": "photos", "ops": ["read"]}),
            404,
        ),
        (
            json!({"key_id": id, "bucket": "photos", "ops": ["admin"]}),
            400,
        ),
        (
            json!({"key_id": id, "bucket": "../etc", "ops": ["read"]}),
            400,
        ),
        (json!({"key_id": id, "bucket": "", "ops": ["read"]}), 400),
        (json!({"key_id": id, "bucket": "photos", "ops": []}), 400),
        (json!({"key_id": id, "bucket": "photos"}), 400),
        (
            json!({"key_id": id, "bucket": "photos", "ops": "read"}),
            400,
        ),
        (
            json!({"key_id": "", "bucket": "photos", "ops": ["read"]}),
            400,
        ),
    ] {
        let msg = assert_error(
            d.put_auth("/s3/permissions", &t, body.clone()).await,
            status,
        )
        .await;
        assert!(!msg.is_empty(), "{body}");
    }
    // Nothing changed by the refused ones.
    assert_eq!(d.get_json("/s3/permissions", &t).await, all);

    // Remove.
    let r = delete_json(
        &d,
        "/s3/permissions",
        &t,
        json!({"key_id": id, "bucket": "photos"}),
    )
    .await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        d.get_json("/s3/permissions", &t).await,
        json!([{"key_id": id, "bucket": "*", "ops": ["read"]}])
    );
    assert_error(
        delete_json(
            &d,
            "/s3/permissions",
            &t,
            json!({"key_id": id, "bucket": "photos"}),
        )
        .await,
        404,
    )
    .await;
    assert_error(
        delete_json(
            &d,
            "/s3/permissions",
            &t,
            json!({"key_id": "HFNOSUCHKEY", "bucket": "*"}),
        )
        .await,
        404,
    )
    .await;
    assert_error(
        delete_json(&d, "/s3/permissions", &t, json!({"key_id": id})).await,
        400,
    )
    .await;

    let audit = d
        .get_json("/audit?types=s3_grant_set,s3_grant_removed", &t)
        .await;
    assert_eq!(audit.as_array().unwrap().len(), 4, "{audit}");
}

#[tokio::test]
async fn buckets_name_vaults_by_alias_or_id() {
    let (d, t) = unlocked_daemon().await;
    let v: Value = d
        .post_auth("/vaults", &t, json!({"name": "Photos"}))
        .await
        .json()
        .await
        .unwrap();
    let vid = v["id"].as_str().unwrap();
    assert_eq!(
        d.get_json("/s3/buckets", &t).await,
        json!([{"vault_id": vid, "name": "Photos", "alias": null}])
    );
    let r = d
        .put_auth(
            &format!("/vaults/{vid}/s3-alias"),
            &t,
            json!({"alias": "photos"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        d.get_json("/s3/buckets", &t).await,
        json!([{"vault_id": vid, "name": "Photos", "alias": "photos"}])
    );
    // A vault id is a valid grant bucket too.
    let k = mint(&d, &t, None).await;
    let r = d
        .put_auth(
            "/s3/permissions",
            &t,
            json!({"key_id": k["access_key_id"], "bucket": vid, "ops": ["read"]}),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn minting_needs_an_unlocked_identity() {
    let d = TestDaemon::start_with_config(&s3_config("")).await;
    let t = d.owner_token().await;
    let msg = assert_error(d.post_auth("/s3/keys", &t, json!({})).await, 409).await;
    assert!(msg.contains("not set up"), "{msg}");

    d.init_identity(&t).await;
    let k = mint(&d, &t, None).await;
    d.post_auth("/identity/lock", &t, json!({})).await;
    let msg = assert_error(d.post_auth("/s3/keys", &t, json!({})).await, 403).await;
    assert!(msg.contains("locked"), "{msg}");
    // Listing and grants need no secret, so they work while locked.
    assert_eq!(
        d.get_json("/s3/keys", &t).await.as_array().unwrap().len(),
        1
    );
    let r = d
        .put_auth(
            "/s3/permissions",
            &t,
            json!({"key_id": k["access_key_id"], "bucket": "*", "ops": ["read"]}),
        )
        .await;
    assert_eq!(r.status(), 200);
}

async fn listener(d: &TestDaemon, t: &str, on: bool) -> Value {
    let r = d.put_auth("/s3/listener", t, json!({"enabled": on})).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn s3_enabled(d: &TestDaemon) -> bool {
    let s: Value = d.get("/system/status").await.json().await.unwrap();
    s["s3_enabled"].as_bool().unwrap()
}

fn endpoint_addr(status: &Value) -> SocketAddr {
    status["endpoint_url"]
        .as_str()
        .unwrap()
        .strip_prefix("http://")
        .unwrap()
        .parse()
        .unwrap()
}

fn answers_http(addr: SocketAddr) {
    let answer = raw_http(
        addr,
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    let status = raw_status(&answer);
    assert!((100..600).contains(&status), "{answer}");
}

fn refuses(addr: SocketAddr) {
    let e = TcpStream::connect(addr).expect_err("the S3 listener still accepts");
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
}

#[tokio::test]
async fn listener_switch_starts_stops_and_survives_restart() {
    let d = TestDaemon::start_with_config(&s3_config("")).await;
    let t = d.owner_token().await;
    let off = d.get_json("/s3/listener", &t).await;
    assert_eq!(off["enabled"], false);
    assert_eq!(off["bind"], "127.0.0.1:0");
    assert!(off["endpoint_url"].is_null());
    assert!(!s3_enabled(&d).await);

    let on = listener(&d, &t, true).await;
    assert_eq!(on["enabled"], true);
    let addr = endpoint_addr(&on);
    assert!(s3_enabled(&d).await);
    answers_http(addr);
    // endpoints.json follows the switch, so the CLI and tests find it.
    assert_eq!(crate::s3_support::s3_addr(&d), addr);
    // Switching on again is a no-op on the same address.
    assert_eq!(listener(&d, &t, true).await, on);
    assert_eq!(d.get_json("/s3/listener", &t).await, on);

    let off = listener(&d, &t, false).await;
    assert_eq!(off["enabled"], false);
    assert!(off["endpoint_url"].is_null());
    assert!(!s3_enabled(&d).await);
    refuses(addr);
    let endpoints: Value = serde_json::from_str(
        &std::fs::read_to_string(d.data_dir().join("endpoints.json")).unwrap(),
    )
    .unwrap();
    assert!(endpoints["s3"].is_null(), "{endpoints}");

    // On again, then a restart: still on (on a new ephemeral port).
    listener(&d, &t, true).await;
    let d = d.restart().await;
    let t = d.login(PASSWORD).await;
    assert!(s3_enabled(&d).await);
    let on = d.get_json("/s3/listener", &t).await;
    answers_http(endpoint_addr(&on));

    // Off, then a restart with `s3.enabled: true` in config: the saved
    // choice wins.
    listener(&d, &t, false).await;
    let (status, dir) = d.stop().await;
    assert!(status.success());
    std::fs::write(
        dir.path().join("config.yaml"),
        s3_config("  enabled: true\n"),
    )
    .unwrap();
    let d = TestDaemon::start_in(dir).await;
    assert!(!s3_enabled(&d).await);

    let audit = d
        .get_json(
            "/audit?types=s3_listener_started,s3_listener_stopped",
            &d.login(PASSWORD).await,
        )
        .await;
    assert_eq!(audit.as_array().unwrap().len(), 4, "{audit}");
}

#[tokio::test]
async fn listener_reports_a_port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = format!("{}s3:\n  bind: 127.0.0.1:{port}\n", loopback_config());
    let d = TestDaemon::start_with_config(&config).await;
    let t = d.owner_token().await;
    let msg = assert_error(
        d.put_auth("/s3/listener", &t, json!({"enabled": true}))
            .await,
        409,
    )
    .await;
    assert!(msg.contains(&port.to_string()), "{msg}");
    assert_eq!(d.get_json("/s3/listener", &t).await["enabled"], false);
    assert!(!s3_enabled(&d).await);
    assert_error(
        d.put_auth("/s3/listener", &t, json!({"enabled": "yes"}))
            .await,
        400,
    )
    .await;
    drop(taken);
}
