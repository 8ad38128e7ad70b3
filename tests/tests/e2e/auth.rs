//! The login flow, sessions, bootstrap tickets and the admin token.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestDaemon, assert_error};

#[tokio::test]
async fn login_flow_end_to_end() {
    let d = TestDaemon::start().await;

    // No password yet: 503, and status says so.
    let msg = assert_error(
        d.post_json("/auth/login", json!({"password": PASSWORD}))
            .await,
        503,
    )
    .await;
    assert!(msg.contains("set-password"), "{msg}");
    let status: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(status["password_set"], false);

    assert_eq!(d.set_password(PASSWORD).await.status(), 204);
    let status: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(status["password_set"], true);

    // Wrong password: 401, no sooner than the deliberate delay.
    let started = Instant::now();
    let resp = d
        .post_json("/auth/login", json!({"password": "not the password"}))
        .await;
    assert!(started.elapsed() >= Duration::from_millis(95));
    assert_error(resp, 401).await;

    // Right password: a 24 h bearer.
    let resp = d
        .post_json("/auth/login", json!({"password": PASSWORD}))
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    let expires = body["expires_at_ms"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let day = 24 * 3600 * 1000;
    assert!(
        (expires - now - day).abs() < 60_000,
        "expires_at_ms {expires} is not ~24 h away"
    );

    // The bearer works; nothing else does.
    assert_eq!(d.get_auth("/whoami", &token).await.status(), 200);
    assert_error(d.get("/whoami").await, 401).await;
    assert_error(d.get_auth("/whoami", "0".repeat(64).as_str()).await, 401).await;
    let resp = d
        .http
        .get(d.url("/whoami"))
        .header("Authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401).await;

    // Logout: 204, and the bearer is refused afterwards.
    let resp = d
        .http
        .post(d.url("/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_error(d.get_auth("/whoami", &token).await, 401).await;
    // Logout again, or with no bearer at all: still 204.
    let resp = d
        .http
        .post(d.url("/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = d.http.post(d.url("/auth/logout")).send().await.unwrap();
    assert_eq!(resp.status(), 204);
}

#[tokio::test]
async fn logout_ends_only_its_own_session() {
    let d = TestDaemon::start().await;
    let a = d.owner_token().await;
    let b = d.login(PASSWORD).await;
    assert_ne!(a, b);
    d.http
        .post(d.url("/auth/logout"))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(d.get_auth("/whoami", &a).await.status(), 401);
    assert_eq!(d.get_auth("/whoami", &b).await.status(), 200);
}

#[tokio::test]
async fn admin_token_missing_or_wrong_is_refused() {
    let d = TestDaemon::start().await;
    let body = json!({"password": PASSWORD});
    let resp = d.post_json("/auth/admin/set-password", body.clone()).await;
    assert_error(resp, 401).await;
    let resp = d
        .http
        .post(d.url("/auth/admin/set-password"))
        .header("X-Holdfast-Admin-Token", "f".repeat(64))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(resp, 401).await;
    let resp = d
        .http
        .post(d.url("/auth/admin/bootstrap-ticket"))
        .header("X-Holdfast-Admin-Token", "wrong")
        .send()
        .await
        .unwrap();
    assert_error(resp, 401).await;
    // Nothing was set by the refused calls.
    assert_error(d.post_json("/auth/login", body).await, 503).await;

    // The token file is private to the daemon's user.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(d.data_dir().join("cli-admin.token")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
}

#[tokio::test]
async fn admin_token_is_rewritten_at_each_start() {
    let d = TestDaemon::start().await;
    let first = d.admin_token();
    let d = d.restart().await;
    let second = d.admin_token();
    assert_ne!(first, second);
    let resp = d
        .http
        .post(d.url("/auth/admin/set-password"))
        .header("X-Holdfast-Admin-Token", &first)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 401).await;
    assert_eq!(d.set_password(PASSWORD).await.status(), 204);
}

#[tokio::test]
async fn weak_or_oversized_passwords_are_refused() {
    let d = TestDaemon::start().await;
    let msg = assert_error(d.set_password("short").await, 400).await;
    assert!(msg.contains("at least"), "{msg}");
    assert_error(d.set_password(&"x".repeat(2000)).await, 400).await;
}

#[tokio::test]
async fn replacing_the_password_ends_every_session() {
    let d = TestDaemon::start().await;
    let token = d.owner_token().await;
    assert_eq!(d.set_password("another long password").await.status(), 204);
    assert_error(d.get_auth("/whoami", &token).await, 401).await;
    assert_error(
        d.post_json("/auth/login", json!({"password": PASSWORD}))
            .await,
        401,
    )
    .await;
    d.login("another long password").await;
}

#[tokio::test]
async fn tokens_survive_a_restart() {
    let d = TestDaemon::start().await;
    let token = d.owner_token().await;
    let d = d.restart().await;
    assert_eq!(d.get_auth("/whoami", &token).await.status(), 200);
    d.login(PASSWORD).await;
}

#[tokio::test]
async fn bootstrap_tickets_are_single_use() {
    let d = TestDaemon::start().await;
    // `holdfast open --print` mints a ticket and prints the URL.
    let out = d.cli(&["open", "--print"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(url.starts_with(&format!("{}/?bootstrap=", d.base)), "{url}");
    let ticket = url.split("bootstrap=").nth(1).unwrap().to_owned();

    let resp = d
        .post_json("/auth/bootstrap-exchange", json!({"ticket": ticket}))
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert!(body["expires_at_ms"].as_i64().unwrap() > 0);
    assert_eq!(d.get_auth("/whoami", token).await.status(), 200);

    // Used once: gone.
    assert_error(
        d.post_json("/auth/bootstrap-exchange", json!({"ticket": ticket}))
            .await,
        401,
    )
    .await;
    // Never issued.
    assert_error(
        d.post_json(
            "/auth/bootstrap-exchange",
            json!({"ticket": "0".repeat(64)}),
        )
        .await,
        401,
    )
    .await;
    // A ticket is not a bearer.
    let resp = d
        .http
        .post(d.url("/auth/admin/bootstrap-ticket"))
        .header("X-Holdfast-Admin-Token", d.admin_token())
        .send()
        .await
        .unwrap();
    let fresh: Value = resp.json().await.unwrap();
    let fresh = fresh["ticket"].as_str().unwrap();
    assert_eq!(d.get_auth("/whoami", fresh).await.status(), 401);
    // ...and does not survive a restart (tickets live in memory only).
    let d = d.restart().await;
    assert_error(
        d.post_json("/auth/bootstrap-exchange", json!({"ticket": fresh}))
            .await,
        401,
    )
    .await;
}

#[tokio::test]
async fn query_token_is_refused_on_routes_not_listed() {
    let d = TestDaemon::start().await;
    let token = d.owner_token().await;
    for path in ["/whoami", "/system/metrics"] {
        let msg = assert_error(d.get(&format!("{path}?token={token}")).await, 401).await;
        assert!(msg.contains("?token="), "{msg}");
        assert_eq!(d.get_auth(path, &token).await.status(), 200);
    }
}

#[tokio::test]
async fn cli_set_password_reads_stdin() {
    use std::io::Write;
    let d = TestDaemon::start().await;
    let mut child = d
        .cli(&["set-password", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    d.login(PASSWORD).await;

    // A refused password is reported, with a failing exit code.
    let mut child = d
        .cli(&["set-password", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "short").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least"));
}

#[tokio::test]
async fn cli_without_a_running_daemon_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::harness::BIN)
        .args(["open", "--print", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no running daemon"));
}
