//! The IPC surface's defences: Host (DNS rebinding), Origin and CORS,
//! content type, prompt floods, port fallback.

use serde_json::{Value, json};

use crate::harness::{TestDaemon, raw_body, raw_http, raw_status};
use crate::ipc::{agent_key, ipc_error, link, ready};

fn get(d: &TestDaemon, path: &str, headers: &str) -> String {
    raw_http(
        d.ipc_addr,
        &format!("GET {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"),
    )
}

#[tokio::test]
async fn foreign_host_is_refused() {
    let d = TestDaemon::start().await;
    let port = d.ipc_addr.port();
    let answer = get(&d, "/status", &format!("Host: evil.example:{port}\r\n"));
    assert_eq!(raw_status(&answer), 403, "{answer}");
    let body: Value = serde_json::from_str(raw_body(&answer)).unwrap();
    assert_eq!(body["error"], "forbidden_host");
    assert_eq!(body["success"], false);
    let answer = get(&d, "/status", &format!("Host: localhost:{port}\r\n"));
    assert_eq!(raw_status(&answer), 200, "{answer}");
}

#[tokio::test]
async fn origins_must_be_registered_and_are_echoed_never_star() {
    let (d, t) = ready().await;
    let port = d.ipc_addr.port();
    let host = format!("Host: 127.0.0.1:{port}\r\n");
    for origin in ["https://evil.example", "null"] {
        let answer = get(&d, "/status", &format!("{host}Origin: {origin}\r\n"));
        assert_eq!(raw_status(&answer), 403, "{origin}: {answer}");
        assert!(raw_body(&answer).contains("forbidden_origin"));
        assert!(
            !answer
                .to_ascii_lowercase()
                .contains("access-control-allow-origin")
        );
    }
    let resp = d
        .post_auth(
            "/apps",
            &t,
            json!({"client_id": "webapp", "name": "Web App", "allowed_origins": ["https://app.example"]}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let answer = get(
        &d,
        "/status",
        &format!("{host}Origin: https://app.example\r\n"),
    );
    assert_eq!(raw_status(&answer), 200, "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("access-control-allow-origin: https://app.example")
    );
    assert!(!answer.contains("Access-Control-Allow-Origin: *"));
    // Preflight from the registered origin.
    let answer = raw_http(
        d.ipc_addr,
        &format!(
            "OPTIONS /backup HTTP/1.1\r\n{host}Origin: https://app.example\r\n\
             Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(raw_status(&answer), 204, "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("access-control-allow-headers")
    );

    // A registered origin may act only for the app that registered it.
    let tok = link(&d, &t, "other_app", &agent_key([8; 32])).await["app_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = d
        .http
        .post(d.ipc_url("/backup"))
        .header("Origin", "https://app.example")
        .bearer_auth(&tok)
        .json(&json!({"app_name": "Other", "data": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(ipc_error(resp).await, (403, "forbidden_origin".into()));
}

#[tokio::test]
async fn browser_writes_need_json_native_ones_need_not() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let resp = d
        .post_auth(
            "/apps",
            &t,
            json!({"client_id": "web", "name": "Web", "allowed_origins": ["https://app.example"]}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    // From a page, text/plain would skip the CORS preflight: refused.
    let resp = d
        .http
        .post(d.ipc_url("/authenticate"))
        .header("origin", "https://app.example")
        .header("content-type", "text/plain")
        .body("{\"app_name\":\"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ipc_error(resp).await,
        (415, "unsupported_media_type".into())
    );
    // A native app may send its JSON the way `curl -d` does: it reaches the
    // handler (which finds the vault not set up).
    let resp = d
        .http
        .post(d.ipc_url("/authenticate"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("{\"app_name\":\"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(ipc_error(resp).await, (403, "vault_locked".into()));
    let resp = d
        .http
        .post(d.ipc_url("/authenticate"))
        .body("[1, 2")
        .send()
        .await
        .unwrap();
    assert_eq!(ipc_error(resp).await, (400, "invalid_request".into()));
    let resp = d
        .http
        .post(d.ipc_url("/authenticate"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(ipc_error(resp).await, (400, "invalid_request".into()));
    let resp = d.ipc_get("/nope").await;
    assert_eq!(ipc_error(resp).await, (404, "not_found".into()));
}

#[tokio::test]
async fn prompt_floods_are_refused_with_retry_after() {
    let (d, t) = ready().await;
    let tok = link(&d, &t, "flooder", &agent_key([5; 32])).await["app_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"type": "bytes", "bytes": "aGk="});
    let mut pending = Vec::new();
    for _ in 0..6 {
        pending.push(tokio::spawn({
            let req = d
                .http
                .post(d.ipc_url("/sign"))
                .bearer_auth(&tok)
                .json(&body)
                .send();
            async move { req.await.unwrap().status().as_u16() }
        }));
    }
    // Wait until all six are queued (one open, five waiting).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let list: Value = d.get_auth("/approvals", &t).await.json().await.unwrap();
        if list.as_array().unwrap().len() == 6 {
            let open = list
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["state"] == "open")
                .count();
            assert_eq!(open, 1, "one prompt on screen per app");
            break;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let resp = d.ipc_post_as("/sign", &tok, body.clone()).await;
    assert!(resp.headers().get("retry-after").is_some());
    assert_eq!(ipc_error(resp).await, (429, "too_many_requests".into()));
    // Each answer settles exactly one request.
    let first = d.next_approval(&t, "sign").await;
    d.post_auth(
        &format!("/approvals/{}", first["id"].as_str().unwrap()),
        &t,
        json!({"decision": "deny"}),
    )
    .await;
    let list: Value = d.get_auth("/approvals", &t).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 5);
    d.post_auth("/identity/lock", &t, json!({})).await;
    let mut statuses = Vec::new();
    for p in pending {
        statuses.push(p.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, vec![403; 6]);
}

#[tokio::test]
async fn port_falls_back_when_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    // The next port must be free for the fallback; skip the rare case it isn't.
    if std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_err() {
        return;
    }
    let d = TestDaemon::start_with_config(&format!(
        "api:\n  bind: 127.0.0.1:0\nipc:\n  bind: 127.0.0.1:{port}\n"
    ))
    .await;
    assert_eq!(d.ipc_addr.port(), port + 1);
    let s: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(s["ipc_addr"], format!("127.0.0.1:{}", port + 1));
    let resp = d.ipc_get("/status").await;
    assert_eq!(resp.status(), 200);
}

/// Only possible where the tests run as root (as CI does here): a process
/// of another user (`nobody`) connecting to the IPC port is refused.
#[tokio::test]
async fn other_users_processes_are_refused() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to run a client as another user");
        return;
    }
    let d = TestDaemon::start().await;
    let url = d.ipc_url("/status");
    let as_nobody = tokio::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "curl",
            "-s",
            "--noproxy",
            "*",
            &url,
        ])
        .output()
        .await
        .expect("setpriv and curl are installed");
    let body: Value = serde_json::from_slice(&as_nobody.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&as_nobody.stderr)));
    assert_eq!(body["error"], "forbidden_user", "{body}");
    // The same request from our own user is served.
    let as_us = tokio::process::Command::new("curl")
        .args(["-s", "--noproxy", "*", &url])
        .output()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&as_us.stdout).unwrap();
    assert!(body["unlocked"].is_boolean(), "{body}");
}
