//! The web UI: served from the binary under a strict CSP, and its user
//! flows in a real browser (Playwright driving Debian's Chromium, headless;
//! `tests/ui/flows.mjs`). Screenshots land in `<target dir>/ui-artifacts/`.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{TestDaemon, assert_error, raw_http, raw_status};
use crate::ipc::{agent_key, ready};

#[tokio::test]
async fn web_ui_is_served_with_a_strict_csp() {
    let d = TestDaemon::start().await;
    let root = d.base_url().to_owned();
    let resp = d.http.get(format!("{root}/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let html = resp.text().await.unwrap();
    assert!(
        html.contains(r#"type="module""#),
        "the page loads ES modules"
    );
    assert!(!html.contains("<script>"), "no inline script");

    // Its module is served as JavaScript, and revalidates with its ETag.
    let js = d
        .http
        .get(format!("{root}/js/main.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let etag = js.headers()["etag"].clone();
    let again = d
        .http
        .get(format!("{root}/js/main.js"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // Unknown pages and API paths keep the JSON error shape; foreign Hosts
    // are refused for the UI as for the API.
    assert_error(
        d.http
            .get(format!("{root}/nope.html"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_error(d.get("/no-such-route").await, 404).await;
    let addr = root.trim_start_matches("http://").parse().unwrap();
    let answer = raw_http(
        addr,
        "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(raw_status(&answer), 403);
}

/// `<target dir>/ui-artifacts`.
pub(crate) fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    target.join("ui-artifacts")
}

fn workspace() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Install the browser tools if missing (once per run), mint a bootstrap
/// ticket, and run `tests/ui/<script>` against the daemon; panics with its
/// output when it fails.
pub(crate) async fn run_browser_script(d: &TestDaemon, script: &str) -> String {
    run_browser_script_with(d, script, &[]).await
}

/// As `run_browser_script`, with extra environment for the script.
pub(crate) async fn run_browser_script_with(
    d: &TestDaemon,
    script: &str,
    env: &[(&str, &str)],
) -> String {
    static SETUP: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let ui = workspace().join("tests/ui");
    SETUP
        .get_or_init(|| async {
            let ok = tokio::process::Command::new("sh")
                .arg(ui.join("setup.sh"))
                .status()
                .await
                .unwrap();
            assert!(ok.success(), "tests/ui/setup.sh failed");
        })
        .await;
    let ticket: Value = d
        .http
        .post(d.url("/auth/admin/bootstrap-ticket"))
        .header("X-Holdfast-Admin-Token", d.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run = tokio::process::Command::new("node")
        .arg(ui.join(script))
        .env("HOLDFAST_URL", d.base_url())
        .env("HOLDFAST_TICKET", ticket["ticket"].as_str().unwrap())
        .env("HOLDFAST_ARTIFACTS", artifacts())
        .envs(env.iter().copied())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("the browser script took over 3 minutes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed (screenshots in {}):\n{stdout}\n{}",
        artifacts().display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.trim_end().ends_with("ok"), "{stdout}");
    stdout
}

#[tokio::test]
async fn browser_flows_login_approve_upload_restore_and_live_events() {
    let (d, t) = ready().await;
    // An app asks to link over IPC; the user answers in the browser.
    let link = {
        let url = d.ipc_url("/link-identity");
        let http = d.http.clone();
        tokio::spawn(async move {
            http.post(url)
                .json(&json!({"app_name": "Chess", "client_id": "chess_app",
                              "app_agent_pub_key": agent_key([0x5a; 32])}))
                .send()
                .await
                .unwrap()
        })
    };
    d.next_approval(&t, "link").await;
    run_browser_script(&d, "flows.mjs").await;

    // The approval given in the browser reached the app.
    let resp = link.await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["success"], true, "{body}");
    for shot in ["home", "popup", "approval", "vault", "restored", "activity"] {
        assert!(
            artifacts().join(format!("{shot}.png")).is_file(),
            "{shot}.png"
        );
    }
}

#[tokio::test]
async fn browser_first_run_creates_the_identity_then_unlocks() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    run_browser_script(&d, "first_run.mjs").await;
    // What the wizard did is real: an identity with the profile, unlocked.
    let id: Value = d.get_auth("/identity", &t).await.json().await.unwrap();
    assert_eq!(id["state"], "unlocked", "{id}");
    assert_eq!(id["profile"]["username"], "ada", "{id}");
}

#[tokio::test]
async fn browser_resolves_a_conflict() {
    let (d, t) = ready().await;
    let (vid, folder, remote, _) = crate::folders::conflicted_vault(&d, &t).await;
    let keep = remote["content_hash"].as_str().unwrap();
    run_browser_script_with(
        &d,
        "conflict.mjs",
        &[
            ("HOLDFAST_VAULT", &vid),
            ("HOLDFAST_PATH", "/plan.txt"),
            ("HOLDFAST_KEEP", keep),
        ],
    )
    .await;
    // The kept side is written back into the folder.
    let path = folder.path().join("plan.txt");
    crate::harness::eventually("the kept side in the folder", || async {
        std::fs::read(&path)
            .ok()
            .filter(|b| b == b"an edit from elsewhere")
    })
    .await;
}

#[tokio::test]
async fn browser_builds_downloads_and_deletes_a_problem_report() {
    let (d, _t) = ready().await;
    run_browser_script(&d, "report.mjs").await;
    assert!(artifacts().join("report.png").is_file());
}
