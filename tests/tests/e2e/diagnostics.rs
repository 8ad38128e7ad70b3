//! "Report a problem": a diagnostics report is built, listed, downloaded
//! (with the header or `?token=`), and deleted; and no secret the daemon was
//! given or made — passwords, bearers, bootstrap tickets, the admin token,
//! app tokens, the recovery phrase, the node key, secrets in config comments
//! — survives into the bundle, even when they were planted where logs see them.

use std::io::Read;

use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestDaemon, assert_error, eventually, loopback_config};
use crate::ipc::{agent_key, link};

const CONFIG_SECRET: &str = "s3-secret-in-a-config-comment-Zq81x";
const VAULT_PASSWORD: &str = "vault password 8f3k";

/// Every file of a zip, by name.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut out = Vec::new();
            f.read_to_end(&mut out).unwrap();
            (f.name().unwrap().into_owned(), out)
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The raw (unredacted) log text the daemon has written so far.
fn raw_logs(d: &TestDaemon) -> String {
    crate::harness::files_under(&d.data_dir().join("logs"), ".log")
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn reports_carry_config_logs_and_state_but_no_secret() {
    let config = format!("{}# s3 secret_key: {CONFIG_SECRET}\n", loopback_config());
    let d = TestDaemon::start_with_config(&config).await;
    let admin = d.admin_token();
    let token = d.owner_token().await;
    let phrase = d.init_identity(&token).await;

    // A bootstrap ticket (via the CLI) traded for a second bearer.
    let ticket = d.cli_ticket();
    let second = d.exchange_ticket(&ticket).await;

    // An app token, and a vault with its own password.
    let linked = link(&d, &token, "diag.app", &agent_key([9; 32])).await;
    let app_token = linked["app_token"].as_str().unwrap().to_owned();
    let resp = d
        .post_auth(
            "/vaults",
            &token,
            json!({"name": "Taxes", "password": VAULT_PASSWORD}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let vault: Value = resp.json().await.unwrap();
    let vault_id = vault["id"].as_str().unwrap().to_owned();

    // Secrets in query strings, and in paths, which the access log prints.
    let export = d.get(&format!("/audit/export?token={token}")).await;
    assert_eq!(export.status(), 200);
    for secret in [&token, &admin, &ticket, &second, &app_token] {
        d.get_auth(&format!("/vaults/{secret}"), &token).await;
    }
    d.ipc_get(&format!("/x/{app_token}")).await;
    let words: Vec<&str> = phrase.split_whitespace().collect();
    assert_eq!(words.len(), 24);
    d.get_auth(&format!("/vaults/{}", words.join("%20")), &token)
        .await;
    d.get_auth(&format!("/vaults/{vault_id}/info"), &token)
        .await;
    // The log writer runs beside the request: wait until the last line is on disk.
    let marker = format!("/api/v1/vaults/{vault_id}/info");
    eventually("the planted requests in the log", || {
        let found = raw_logs(&d).contains(&marker);
        async move { found.then_some(()) }
    })
    .await;
    assert!(
        raw_logs(&d).contains(&admin),
        "the plant reached the raw log"
    );

    // Build, list, download.
    let resp = d.post_auth("/diagnostics/reports", &token, json!({})).await;
    assert_eq!(resp.status(), 201);
    let meta: Value = resp.json().await.unwrap();
    let id = meta["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert!(meta["created_ms"].as_i64().unwrap() > 0);
    let list = d.get_json("/diagnostics/reports", &token).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["size_bytes"], meta["size_bytes"]);

    let resp = d
        .get_auth(&format!("/diagnostics/reports/{id}"), &token)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/zip");
    let disposition = resp.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\"holdfast-report-"));
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, meta["size_bytes"].as_u64().unwrap());
    let files = unzip(&bytes);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for expected in ["README.txt", "config.yaml", "system.json", "report.json"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    // No secret anywhere, in any file.
    let node_key = std::fs::read(d.data_dir().join("node.key")).unwrap();
    let mut secrets: Vec<Vec<u8>> = [
        PASSWORD,
        VAULT_PASSWORD,
        CONFIG_SECRET,
        admin.as_str(),
        token.as_str(),
        second.as_str(),
        ticket.as_str(),
        app_token.as_str(),
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    // Any four consecutive words of the phrase, however joined.
    for run in words.windows(4) {
        secrets.push(run.join(" ").into_bytes());
        secrets.push(run.join("%20").into_bytes());
    }
    // node.key is a protobuf Ed25519 keypair: the secret half, raw and in hex.
    let key_secret = &node_key[node_key.len() - 64..node_key.len() - 32];
    secrets.push(key_secret.to_vec());
    secrets.push(
        key_secret
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into_bytes(),
    );
    for (name, content) in &files {
        for (i, secret) in secrets.iter().enumerate() {
            assert!(
                !contains(content, secret),
                "planted secret #{i} leaked into {name}"
            );
        }
    }

    let text = |name: &str| -> String {
        let (_, b) = files.iter().find(|(n, _)| n == name).unwrap();
        String::from_utf8(b.clone()).unwrap()
    };
    let log_name = names
        .iter()
        .find(|n| n.starts_with("logs/holdfast."))
        .unwrap();
    let log = text(log_name);
    assert!(
        log.contains("GET /api/v1/audit/export 200"),
        "the logs are in"
    );
    assert!(
        log.contains("/api/v1/vaults/[redacted] "),
        "paths are redacted"
    );
    assert!(log.contains(&marker), "vault ids stay readable");
    assert!(text("config.yaml").contains("bind: 127.0.0.1:0"));
    let system: Value = serde_json::from_str(&text("system.json")).unwrap();
    assert_eq!(system["vaults"][0]["name"], "Taxes");
    assert_eq!(system["vaults"][0]["password_protected"], true);
    assert_eq!(system["status"]["identity"], "unlocked");
    assert_eq!(system["version"], env!("CARGO_PKG_VERSION"));
    assert!(system["os"]["os"].is_string());
    assert!(system["endpoints"]["api"]["addr"].is_string());
    let peer = d.get_json("/whoami", &token).await;
    assert_eq!(system["status"]["peer_id"], peer["node_id"]);

    // ?token= works for the download; no bearer or a wrong one is 401.
    let by_query = d
        .get(&format!("/diagnostics/reports/{id}?token={second}"))
        .await;
    assert_eq!(by_query.status(), 200);
    assert_eq!(by_query.bytes().await.unwrap(), bytes);
    assert_error(d.get(&format!("/diagnostics/reports/{id}")).await, 401).await;
    assert_error(
        d.get(&format!("/diagnostics/reports/{id}?token={admin}"))
            .await,
        401,
    )
    .await;
    // The listing takes no ?token=.
    assert_error(
        d.get(&format!("/diagnostics/reports?token={token}")).await,
        401,
    )
    .await;

    // The newest report comes first; creation and deletion are audited.
    let newer: Value = d
        .post_auth("/diagnostics/reports", &token, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let list = d.get_json("/diagnostics/reports", &token).await;
    assert_eq!(list[0]["id"], newer["id"]);
    assert_eq!(list[1]["id"], id.as_str());

    let report = format!("/diagnostics/reports/{id}");
    assert_eq!(d.delete_auth(&report, &token).await.status(), 204);
    assert_error(d.get_auth(&report, &token).await, 404).await;
    assert_error(d.delete_auth(&report, &token).await, 404).await;
    let list = d.get_json("/diagnostics/reports", &token).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let audit = d
        .get_json(
            "/audit?types=diagnostics_created,diagnostics_deleted",
            &token,
        )
        .await;
    assert_eq!(audit.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn report_ids_are_checked_and_a_missing_directory_is_503() {
    let d = TestDaemon::start().await;
    let token = d.owner_token().await;
    assert_error(d.post_json("/diagnostics/reports", json!({})).await, 401).await;
    for bad in [
        "not-hex",
        "..%2F..%2Fcatalog.sqlite",
        "ABCDEF0123456789ABCDEF0123456789",
        "0123456789abcdef0123456789abcdef0",
    ] {
        let resp = d
            .get_auth(&format!("/diagnostics/reports/{bad}"), &token)
            .await;
        assert_error(resp, 400).await;
    }
    assert_error(
        d.get_auth(
            "/diagnostics/reports/0123456789abcdef0123456789abcdef",
            &token,
        )
        .await,
        404,
    )
    .await;

    // A regular file where the reports directory belongs.
    let dir = d.data_dir().join("diagnostics");
    if dir.is_dir() {
        std::fs::remove_dir(&dir).unwrap();
    }
    std::fs::write(&dir, b"not a directory").unwrap();
    let resp = d.post_auth("/diagnostics/reports", &token, json!({})).await;
    assert_error(resp, 503).await;
    assert_error(d.get_auth("/diagnostics/reports", &token).await, 503).await;
    std::fs::remove_file(&dir).unwrap();
    let resp = d.post_auth("/diagnostics/reports", &token, json!({})).await;
    assert_eq!(resp.status(), 201);
    assert!(dir.is_dir());
}
