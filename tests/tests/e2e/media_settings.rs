//! `GET/PUT /settings`: defaults, partial updates, masked keys (never shown
//! back whole, kept when sent back masked), validation in the error shape,
//! and the change reaching the audit ring by field name only.

use serde_json::{Value, json};

use crate::harness::{TestDaemon, assert_error};

#[tokio::test]
async fn settings_mask_keys_validate_and_keep_what_is_left_out() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let s = d.get_json("/settings", &t).await;
    assert_eq!(s["acoustid_api_key"], Value::Null);
    assert_eq!(s["acoustid_api_key_set"], false);
    assert_eq!(s["acoustid_base_url"], "https://api.acoustid.org/v2");
    assert_eq!(s["tmdb_base_url"], "https://api.themoviedb.org/3");
    assert_eq!(s["fingerprint_audio"], true);

    let key = "acoustid-secret-key-0123456789";
    let resp = d
        .put_auth(
            "/settings",
            &t,
            json!({"acoustid_api_key": key, "acoustid_base_url": "http://127.0.0.1:9/v2/"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let s: Value = resp.json().await.unwrap();
    assert_eq!(s["acoustid_api_key"], "••••6789");
    assert_eq!(s["acoustid_api_key_set"], true);
    assert_eq!(s["acoustid_base_url"], "http://127.0.0.1:9/v2");
    assert!(!s.to_string().contains(key), "the key came back whole");

    // What was read, sent back: the key stays, nothing else changes.
    let resp = d.put_auth("/settings", &t, s.clone()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), s);
    // Left out stays; a TMDB key set on its own leaves AcoustID's alone.
    let s: Value = d
        .put_auth(
            "/settings",
            &t,
            json!({"tmdb_api_key": "tmdb-token-abcdefghijkl"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["acoustid_api_key_set"], true);
    assert_eq!(s["tmdb_api_key"], "••••ijkl");

    for bad in [
        json!({"colour": "blue"}),
        json!({"acoustid_base_url": "ftp://example.org"}),
        json!({"acoustid_base_url": "http://user:pw@example.org"}),
        json!({"tmdb_api_key": "has a space"}),
        json!({"tmdb_api_key": 42}),
        json!({"fingerprint_audio": "yes"}),
        json!({"tmdb_api_key": "x".repeat(2000)}),
    ] {
        let resp = d.put_auth("/settings", &t, bad.clone()).await;
        let msg = assert_error(resp, 400).await;
        assert!(!msg.is_empty(), "{bad}");
    }
    let resp = d
        .put_auth("/settings", &t, json!(["not", "an", "object"]))
        .await;
    assert_error(resp, 400).await;
    // A refused body changed nothing.
    let s = d.get_json("/settings", &t).await;
    assert_eq!(s["acoustid_base_url"], "http://127.0.0.1:9/v2");

    // null clears a key and restores a URL's default; it survives a restart.
    d.put_auth(
        "/settings",
        &t,
        json!({"acoustid_api_key": null, "acoustid_base_url": ""}),
    )
    .await;
    let d = d.restart().await;
    let t = d.login(crate::harness::PASSWORD).await;
    let s = d.get_json("/settings", &t).await;
    assert_eq!(s["acoustid_api_key_set"], false);
    assert_eq!(s["acoustid_base_url"], "https://api.acoustid.org/v2");
    assert_eq!(s["tmdb_api_key_set"], true);

    let audit = d.get_json("/audit?types=settings_changed", &t).await;
    let text = audit.to_string();
    assert!(text.contains("acoustid_api_key"), "{text}");
    assert!(
        !text.contains(key) && !text.contains("tmdb-token"),
        "a key reached the audit ring"
    );

    let resp = reqwest::get(d.url("/settings")).await.unwrap();
    assert_eq!(resp.status(), 401);
}
