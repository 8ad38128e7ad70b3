//! `/backup*` over IPC: per-app encryption, rotation, labels, limits,
//! locked-after-unlock behaviour, token binding and the user's export.

use serde_json::{Value, json};

use crate::harness::{PASSPHRASE, TestDaemon};
use crate::ipc::{agent_key, ipc_error, link, ready};

async fn app(d: &TestDaemon, t: &str, client_id: &str, seed: u8) -> String {
    let r = link(d, t, client_id, &agent_key([seed; 32])).await;
    r["app_token"].as_str().unwrap().to_owned()
}

fn canonical() -> Value {
    let record = |t: &str| json!({"entryType": t, "human_readable": {"title": t}, "raw_record": {"entry_b64": "AAEC"}});
    json!({
        "version": 1,
        "app": {"name": "Polls", "client_id": "polls"},
        "app_keys": {"device_seed_hex": "abc123"},
        "cells": [{"role_name": "main", "records": [record("Poll"), record("Vote"), record("Vote")]}]
    })
}

#[tokio::test]
async fn rotation_keeps_exactly_ten_and_labels_overwrite() {
    let (d, t) = ready().await;
    let tok = app(&d, &t, "polls", 1).await;
    for i in 0..12 {
        let resp = d
            .ipc_post_as(
                "/backup",
                &tok,
                json!({"app_name": "Polls", "data": {"n": i}}),
            )
            .await;
        assert_eq!(resp.status(), 200);
        let b: Value = resp.json().await.unwrap();
        assert_eq!(b["success"], true);
        assert!(b["label"].as_str().unwrap().starts_with("backup-"));
        assert!(b["data_size"].as_u64().unwrap() > 0);
    }
    for v in [1, 2] {
        let resp = d
            .ipc_post_as(
                "/backup",
                &tok,
                json!({"app_name": "Polls", "label": "settings", "data": {"v": v}}),
            )
            .await;
        assert_eq!(resp.status(), 200);
    }
    let list: Value = d
        .ipc_get_as("/backup/list", &tok)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["app_count"], 1);
    assert_eq!(list["total_backups"], 11, "10 snapshots + 1 labeled");
    let app = &list["apps"][0];
    assert_eq!(app["client_id"], "polls");
    assert_eq!(app["backup_count"], 11);
    assert!(app["latest_summary"].is_null(), "not canonical");

    // Newest is the labeled one; it was overwritten, not duplicated.
    let r: Value = d
        .ipc_post_as("/backup/retrieve", &tok, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["label"], "settings");
    assert_eq!(r["data"], json!({"v": 2}));
    let r: Value = d
        .ipc_post_as("/backup/retrieve", &tok, json!({"label": "latest"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["label"], "settings");
    // The oldest snapshots (n = 0, 1) were rotated out.
    let labels: Vec<String> = app["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["label"].as_str().unwrap().to_owned())
        .collect();
    let mut ns = Vec::new();
    for l in labels.iter().filter(|l| l.starts_with("backup-")) {
        let r: Value = d
            .ipc_post_as("/backup/retrieve", &tok, json!({"label": l}))
            .await
            .json()
            .await
            .unwrap();
        ns.push(r["data"]["n"].as_i64().unwrap());
    }
    ns.sort();
    assert_eq!(ns, (2..12).collect::<Vec<_>>());

    // Delete the latest, then a missing label.
    let r: Value = d
        .ipc_post_as("/backup/delete", &tok, json!({"label": "latest"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["label"], "settings");
    let resp = d
        .ipc_post_as("/backup/delete", &tok, json!({"label": "settings"}))
        .await;
    assert_eq!(ipc_error(resp).await, (404, "not_found".into()));
    let resp = d.ipc_post_as("/backup/delete", &tok, json!({})).await;
    assert_eq!(ipc_error(resp).await, (400, "invalid_request".into()));
}

#[tokio::test]
async fn apps_see_only_their_own_backups() {
    let (d, t) = ready().await;
    let a = app(&d, &t, "app_a", 1).await;
    let b = app(&d, &t, "app_b", 2).await;
    d.ipc_post_as(
        "/backup",
        &a,
        json!({"app_name": "A", "label": "x", "data": {"secret": "a"}}),
    )
    .await;
    let resp = d
        .ipc_post_as("/backup/retrieve", &b, json!({"label": "x"}))
        .await;
    assert_eq!(ipc_error(resp).await, (404, "not_found".into()));
    // Naming another app's client_id with one's own token is refused.
    let resp = d
        .ipc_post_as(
            "/backup/retrieve",
            &b,
            json!({"client_id": "app_a", "label": "x"}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (401, "invalid_app_token".into()));
    let list: Value = d.ipc_get_as("/backup/list", &b).await.json().await.unwrap();
    assert_eq!(list["total_backups"], 0);
}

#[tokio::test]
async fn client_id_alone_works_until_the_app_uses_its_token() {
    let (d, t) = ready().await;
    let token = app(&d, &t, "modern", 1).await;
    // Never presented its token: the client_id identifies it, as the spec's
    // clients are identified.
    let resp = d
        .ipc_post(
            "/backup",
            json!({"client_id": "modern", "app_name": "M", "data": {"k": 1}}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let list: Value = d
        .ipc_get("/backup/list?client_id=modern")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total_backups"], 1);
    let apps: Value = d.get_auth("/apps", &t).await.json().await.unwrap();
    assert_eq!(apps[0]["token_bound"], false);

    // Its first use of the token binds it: the client_id alone is refused.
    let resp = d
        .ipc_post_as(
            "/backup",
            &token,
            json!({"app_name": "M", "label": "tok", "data": {"k": 2}}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = d
        .ipc_post(
            "/backup",
            json!({"client_id": "modern", "app_name": "M", "data": {}}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (401, "missing_app_token".into()));
    let resp = d.ipc_get("/backup/list?client_id=modern").await;
    assert_eq!(ipc_error(resp).await, (401, "missing_app_token".into()));
    let apps: Value = d.get_auth("/apps", &t).await.json().await.unwrap();
    assert_eq!(apps[0]["token_bound"], true, "shown to the user");

    let resp = d
        .ipc_post(
            "/backup",
            json!({"client_id": "nobody", "app_name": "M", "data": {}}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (400, "invalid_client_id".into()));
    let resp = d
        .ipc_post("/backup", json!({"app_name": "M", "data": {}}))
        .await;
    assert_eq!(ipc_error(resp).await, (400, "missing_client_id".into()));
}

#[tokio::test]
async fn backups_work_locked_after_a_first_unlock_only() {
    let (d, t) = ready().await;
    let tok = app(&d, &t, "polls", 1).await;
    d.post_auth("/identity/lock", &t, json!({})).await;
    let resp = d
        .ipc_post_as(
            "/backup",
            &tok,
            json!({"app_name": "Polls", "data": {"locked": true}}),
        )
        .await;
    assert_eq!(resp.status(), 200, "works while locked after unlock");
    let d = d.restart().await;
    let resp = d
        .ipc_post_as("/backup", &tok, json!({"app_name": "Polls", "data": {}}))
        .await;
    assert_eq!(ipc_error(resp).await, (403, "vault_locked".into()));
    d.post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
        .await;
    let r: Value = d
        .ipc_post_as("/backup/retrieve", &tok, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["data"], json!({"locked": true}));
}

#[tokio::test]
async fn size_limits_answer_clearly() {
    let (d, t) = ready().await;
    let tok = app(&d, &t, "polls", 1).await;
    let big = "x".repeat(10 * 1024 * 1024 + 10);
    let resp = d
        .ipc_post_as("/backup", &tok, json!({"app_name": "Polls", "data": big}))
        .await;
    assert_eq!(ipc_error(resp).await, (413, "payload_too_large".into()));
    let nine = "y".repeat(9 * 1024 * 1024);
    for l in ["a", "b", "c", "d", "e"] {
        let resp = d
            .ipc_post_as(
                "/backup",
                &tok,
                json!({"app_name": "Polls", "label": l, "data": nine}),
            )
            .await;
        assert_eq!(resp.status(), 200);
    }
    let resp = d
        .ipc_post_as(
            "/backup",
            &tok,
            json!({"app_name": "Polls", "label": "f", "data": nine}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (507, "quota_exceeded".into()));
    let resp = d
        .ipc_post_as(
            "/backup",
            &tok,
            json!({"app_name": "Polls", "label": "../etc", "data": 1}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (400, "invalid_request".into()));
}

#[tokio::test]
async fn canonical_backups_are_summarised_and_exported_readably() {
    let (d, t) = ready().await;
    let tok = app(&d, &t, "polls", 1).await;
    let resp = d
        .ipc_post_as(
            "/backup",
            &tok,
            json!({"app_name": "Polls", "data": canonical()}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let list: Value = d
        .ipc_get_as("/backup/list", &tok)
        .await
        .json()
        .await
        .unwrap();
    let s = &list["apps"][0]["latest_summary"];
    assert_eq!(s["counts_by_entry_type"], json!({"Poll": 1, "Vote": 2}));
    assert_eq!(s["total_records"], 3);

    let export: Value = d
        .get_auth("/backups/export", &t)
        .await
        .json()
        .await
        .unwrap();
    let e = &export["apps"][0];
    assert_eq!(e["client_id"], "polls");
    assert_eq!(e["canonical"], true);
    let rec = &e["data"]["cells"][0]["records"][0];
    assert_eq!(rec["human_readable"]["title"], "Poll");
    assert!(
        rec.get("raw_record").is_none(),
        "raw bytes are not in the readable export"
    );
    assert_eq!(
        e["data"]["app_keys"]["device_seed_hex"], "abc123",
        "extra fields kept"
    );
    assert!(e["summary"]["text"].as_str().unwrap().contains("2 Vote"));
    let audit: Value = d
        .get_auth("/audit?types=backup", &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 1);
}
