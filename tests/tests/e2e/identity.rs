//! The identity from the owner's side over REST: first run, lock/unlock with
//! backoff, recovery, passphrase change, profile, and status.

use serde_json::{Value, json};

use crate::harness::{PASSPHRASE, TestDaemon, assert_error};

#[tokio::test]
async fn first_run_lock_unlock_and_backoff() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let id: Value = d.get_auth("/identity", &t).await.json().await.unwrap();
    assert_eq!(id["state"], "uninitialized");
    assert!(id["agent_pub_key"].is_null());
    assert_error(
        d.post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
            .await,
        409,
    )
    .await;
    assert_error(
        d.post_auth("/identity/init", &t, json!({"passphrase": "short"}))
            .await,
        400,
    )
    .await;

    let phrase = d.init_identity(&t).await;
    assert_eq!(phrase.split(' ').count(), 24);
    let id: Value = d.get_auth("/identity", &t).await.json().await.unwrap();
    assert_eq!(id["state"], "unlocked");
    let key = id["agent_pub_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("uhCAk"), "{key}");
    assert_eq!(id["did"], format!("did:holdfast:{key}"));
    assert_error(
        d.post_auth("/identity/init", &t, json!({"passphrase": PASSPHRASE}))
            .await,
        409,
    )
    .await;
    let status: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(status["identity"], "unlocked");

    assert_eq!(
        d.post_auth("/identity/lock", &t, json!({})).await.status(),
        204
    );
    let id: Value = d.get_auth("/identity", &t).await.json().await.unwrap();
    assert_eq!(id["state"], "locked");
    assert_eq!(
        id["agent_pub_key"],
        key.as_str(),
        "the public key stays visible"
    );

    // Three wrong tries: the third starts a backoff, which refuses even the
    // right passphrase until it ends.
    for expected_wait in [0, 0, 1000] {
        let resp = d
            .post_auth("/identity/unlock", &t, json!({"passphrase": "wrong wrong"}))
            .await;
        assert_eq!(resp.status(), 403);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["retry_after_ms"], expected_wait);
    }
    let resp = d
        .post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
        .await;
    assert_eq!(resp.status(), 429);
    let body: Value = resp.json().await.unwrap();
    assert!(body["retry_after_ms"].as_u64().unwrap() <= 1000);
    let wait = body["retry_after_ms"].as_u64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(wait + 50)).await;
    let resp = d
        .post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
        .await;
    assert_eq!(resp.status(), 200);

    // Unlocks and failures are audited.
    let audit: Value = d
        .get_auth("/audit?types=unlock,unlock_failed,lock", &t)
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"unlock_failed") && kinds.contains(&"unlock") && kinds.contains(&"lock"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn recovery_phrase_and_passphrase_change() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let phrase = d.init_identity(&t).await;
    let id: Value = d.get_auth("/identity", &t).await.json().await.unwrap();
    let key = id["agent_pub_key"].as_str().unwrap().to_owned();

    let resp = d
        .post_auth(
            "/identity/passphrase",
            &t,
            json!({"old_passphrase": "nope nope", "new_passphrase": "second passphrase"}),
        )
        .await;
    assert_error(resp, 403).await;
    let resp = d
        .post_auth(
            "/identity/passphrase",
            &t,
            json!({"old_passphrase": PASSPHRASE, "new_passphrase": "second passphrase"}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    d.post_auth("/identity/lock", &t, json!({})).await;
    assert_error(
        d.post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
            .await,
        403,
    )
    .await;
    let resp = d
        .post_auth(
            "/identity/unlock",
            &t,
            json!({"passphrase": "second passphrase"}),
        )
        .await;
    assert_eq!(resp.status(), 200);

    // The phrase restores the same identity on another device.
    let other = TestDaemon::start().await;
    let t2 = other.owner_token().await;
    let resp = other
        .post_auth(
            "/identity/recover",
            &t2,
            json!({"recovery_phrase": phrase, "new_passphrase": "third passphrase"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["agent_pub_key"], key.as_str());
    let resp = other
        .post_auth("/identity/recover", &t2, json!({"recovery_phrase": "abandon ability able", "new_passphrase": "third passphrase"}))
        .await;
    assert_error(resp, 400).await;
}

#[tokio::test]
async fn profile_is_validated() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let pic = "data:image/png;base64,iVBORw0KGgo=";
    let resp = d
        .http
        .put(d.url("/identity/profile"))
        .bearer_auth(&t)
        .json(&json!({"display_name": "Ada L", "username": "ada", "profile_picture": pic}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let id: Value = d.get_auth("/identity", &t).await.json().await.unwrap();
    assert_eq!(id["profile"]["display_name"], "Ada L");
    assert_eq!(id["profile"]["profile_picture"], pic);
    for bad in [
        json!({"username": "Not Valid!"}),
        json!({"display_name": "x".repeat(65)}),
        json!({"profile_picture": "https://example.com/a.png"}),
    ] {
        let resp = d
            .http
            .put(d.url("/identity/profile"))
            .bearer_auth(&t)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_error(resp, 400).await;
    }
    let huge = format!("data:image/png;base64,{}", "A".repeat(300 * 1024));
    let resp = d
        .http
        .put(d.url("/identity/profile"))
        .bearer_auth(&t)
        .json(&json!({"profile_picture": huge}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 413).await;
}

#[tokio::test]
async fn identity_routes_need_the_owner() {
    let d = TestDaemon::start().await;
    assert_error(d.get("/identity").await, 401).await;
    assert_error(
        d.post_json("/identity/init", json!({"passphrase": PASSPHRASE}))
            .await,
        401,
    )
    .await;
    assert_error(d.get("/approvals").await, 401).await;
}

#[tokio::test]
async fn password_file_unlocks_at_start() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let (status, dir) = d.stop().await;
    assert!(status.success());
    let pw = dir.path().join("passphrase.txt");
    std::fs::write(&pw, format!("{PASSPHRASE}\n")).unwrap();
    let d = TestDaemon::start_in_with_args(dir, &["--password-file", pw.to_str().unwrap()]).await;
    let s: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(s["identity"], "unlocked");
}

#[tokio::test]
async fn remember_on_this_device_unlocks_at_the_next_start() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    d.post_auth("/identity/lock", &t, json!({})).await;
    let resp = d
        .post_auth(
            "/identity/unlock",
            &t,
            json!({"passphrase": PASSPHRASE, "remember": true}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let id: Value = d.get_auth("/identity", &t).await.json().await.unwrap();
    if id["keyring"].is_null() {
        // No OS keyring here: the daemon must say so, not pretend.
        assert_eq!(body["remembered"], false);
        assert!(
            body["keyring_error"]
                .as_str()
                .unwrap()
                .contains("no OS keyring"),
            "{body}"
        );
        return;
    }
    assert_eq!(body["remembered"], true, "{body}");
    assert_eq!(id["remembered"], true);
    let d = d.restart().await;
    let s: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(
        s["identity"], "unlocked",
        "unlocked from the keyring at start"
    );
    // Forgetting it: the next start is locked again.
    d.post_auth("/identity/lock", &t, json!({})).await;
    let resp = d
        .post_auth(
            "/identity/unlock",
            &t,
            json!({"passphrase": PASSPHRASE, "remember": false}),
        )
        .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["remembered"], false);
    let d = d.restart().await;
    let s: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(s["identity"], "locked");
}
