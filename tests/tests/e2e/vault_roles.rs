//! Per-vault locks and role flags: a vault's own password (lock, unlock by
//! trying a password against every locked vault, change, remove), and the
//! read-only flag.

use serde_json::{Value, json};

use crate::harness::{PASSPHRASE, TestDaemon, assert_error};

async fn patch(d: &TestDaemon, t: &str, vid: &str, body: Value) -> reqwest::Response {
    d.patch_auth(&format!("/vaults/{vid}"), t, body).await
}

async fn upload(d: &TestDaemon, t: &str, vid: &str, path: &str, body: &[u8]) -> reqwest::Response {
    d.upload(t, vid, path, body).await
}

async fn create(d: &TestDaemon, t: &str, body: Value) -> Value {
    let resp = d.post_auth("/vaults", t, body).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    resp.json().await.unwrap()
}

async fn key_state(d: &TestDaemon, t: &str, vid: &str) -> String {
    let v: Value = d
        .get_auth(&format!("/vaults/{vid}"), t)
        .await
        .json()
        .await
        .unwrap();
    v["key_state"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn vault_passwords_lock_and_unlock() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let a = create(&d, &t, json!({"name": "Diary"})).await;
    let a = a["id"].as_str().unwrap().to_owned();
    let b = create(
        &d,
        &t,
        json!({"name": "Taxes", "password": "tax password 1"}),
    )
    .await;
    assert_eq!(b["password_protected"], true);
    assert_eq!(b["key_state"], "available");
    let b = b["id"].as_str().unwrap().to_owned();
    assert_eq!(
        upload(&d, &t, &a, "/day1.txt", b"dear diary")
            .await
            .status(),
        200
    );
    assert_eq!(
        upload(&d, &t, &b, "/2026.csv", b"income,0").await.status(),
        200
    );

    // The first lock needs a password (and a sound one).
    let lock = |vid: String, body: Value| {
        let (d, t) = (&d, t.clone());
        async move { d.post_auth(&format!("/vaults/{vid}/lock"), &t, body).await }
    };
    assert_error(lock(a.clone(), json!({})).await, 400).await;
    assert_error(lock(a.clone(), json!({"password": "short"})).await, 400).await;
    let resp = lock(a.clone(), json!({"password": "diary password"})).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["password_protected"], true);
    assert_eq!(v["key_state"], "password_locked");
    // Once it has a password, a bare POST (no body, no content type) locks.
    let bare = d
        .http
        .post(d.url(&format!("/vaults/{b}/lock")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 200);
    let v: Value = bare.json().await.unwrap();
    assert_eq!(v["key_state"], "password_locked");
    assert_eq!(lock(b.clone(), json!({})).await.status(), 200);
    assert_error(lock("nope".into(), json!({})).await, 404).await;
    // A body that is there must still be JSON.
    let resp = d
        .http
        .post(d.url(&format!("/vaults/{b}/lock")))
        .bearer_auth(&t)
        .header("content-type", "text/plain")
        .body("password=x")
        .send()
        .await
        .unwrap();
    assert_error(resp, 415).await;

    // Locked content answers 403; metadata stays visible.
    assert_error(
        d.get_auth(&format!("/vaults/{a}/download/day1.txt"), &t)
            .await,
        403,
    )
    .await;
    assert_error(upload(&d, &t, &a, "/day2.txt", b"x").await, 403).await;
    let files: Value = d
        .get_auth(&format!("/vaults/{a}/files"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(files.as_array().unwrap().len(), 1);

    // One password is tried against every locked vault.
    let unlock = |pw: &str| d.post_auth("/vaults/unlock", &t, json!({"password": pw}));
    assert_error(unlock("wrong password").await, 403).await;
    let opened: Value = unlock("diary password").await.json().await.unwrap();
    assert_eq!(opened, json!({"unlocked": [a]}));
    assert_eq!(key_state(&d, &t, &a).await, "available");
    assert_eq!(key_state(&d, &t, &b).await, "password_locked");
    let body = d
        .get_auth(&format!("/vaults/{a}/download/day1.txt"), &t)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.as_ref(), b"dear diary");
    let opened: Value = unlock("tax password 1").await.json().await.unwrap();
    assert_eq!(opened["unlocked"], json!([b]));
    // Nothing locked: nothing to open, and no error.
    let opened: Value = unlock("anything at all").await.json().await.unwrap();
    assert_eq!(opened["unlocked"], json!([]));

    // Locking Holdfast forgets every vault password.
    let resp = d.post_auth("/identity/lock", &t, json!({})).await;
    assert_eq!(resp.status(), 204);
    let resp = d
        .post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(key_state(&d, &t, &a).await, "password_locked");

    // Changing or removing a password needs the vault open.
    assert_error(patch(&d, &t, &a, json!({"password": null})).await, 403).await;
    unlock("diary password").await;
    let resp = patch(&d, &t, &a, json!({"password": "new diary password"})).await;
    assert_eq!(resp.status(), 200);
    lock(a.clone(), json!({})).await;
    assert_error(unlock("diary password").await, 403).await;
    assert_eq!(
        unlock("new diary password")
            .await
            .json::<Value>()
            .await
            .unwrap()["unlocked"],
        json!([a])
    );
    let v: Value = patch(&d, &t, &a, json!({"password": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["password_protected"], false);

    // Passwords hold across restarts: locked again at start.
    let (_, dir) = d.stop().await;
    let d = TestDaemon::start_in(dir).await;
    let t = d.login(crate::harness::PASSWORD).await;
    d.post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
        .await;
    assert_eq!(key_state(&d, &t, &a).await, "available");
    assert_eq!(key_state(&d, &t, &b).await, "password_locked");
    let opened: Value = d
        .post_auth("/vaults/unlock", &t, json!({"password": "tax password 1"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(opened["unlocked"], json!([b]));
    let body = d
        .get_auth(&format!("/vaults/{b}/download/2026.csv"), &t)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.as_ref(), b"income,0");
}

#[tokio::test]
async fn read_only_vaults_refuse_changes() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let v = create(&d, &t, json!({"name": "Archive"})).await;
    let vid = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["read_only"], false);
    assert_eq!(upload(&d, &t, &vid, "/old.txt", b"one").await.status(), 200);
    let first = blake3::hash(b"one").to_hex().to_string();
    assert_eq!(upload(&d, &t, &vid, "/old.txt", b"two").await.status(), 200);

    let v: Value = patch(&d, &t, &vid, json!({"read_only": true, "pinned": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["read_only"], true);
    assert_eq!(v["pinned"], true);
    assert_error(upload(&d, &t, &vid, "/new.txt", b"x").await, 403).await;
    let del = d
        .http
        .delete(d.url(&format!("/vaults/{vid}/files/old.txt")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_error(del, 403).await;
    assert_error(
        d.post_auth(
            &format!("/vaults/{vid}/restore/old.txt"),
            &t,
            json!({"content_hash": first}),
        )
        .await,
        403,
    )
    .await;
    // Reading goes on.
    let body = d
        .get_auth(&format!("/vaults/{vid}/download/old.txt"), &t)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.as_ref(), b"two");
    assert_error(patch(&d, &t, &vid, json!({"read_only": "yes"})).await, 400).await;

    let v: Value = patch(&d, &t, &vid, json!({"read_only": false}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["read_only"], false);
    assert_eq!(v["pinned"], true);
    assert_eq!(upload(&d, &t, &vid, "/new.txt", b"x").await.status(), 200);
}

#[tokio::test]
async fn vault_lock_routes_refuse_bad_input() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    // A create whose password is refused keeps no half-made vault.
    assert_error(
        d.post_auth("/vaults", &t, json!({"name": "A", "password": "short"}))
            .await,
        400,
    )
    .await;
    let all: Value = d.get_auth("/vaults", &t).await.json().await.unwrap();
    assert_eq!(all, json!([]));
    let v = create(&d, &t, json!({"name": "A"})).await;
    let vid = v["id"].as_str().unwrap().to_owned();

    for body in [
        json!({}),
        json!({"password": 7}),
        json!({"password": "x".repeat(2000)}),
    ] {
        assert_error(d.post_auth("/vaults/unlock", &t, body).await, 400).await;
    }
    assert_error(
        d.post_auth(
            &format!("/vaults/{vid}/lock"),
            &t,
            json!({"password": ["no"]}),
        )
        .await,
        400,
    )
    .await;
    for body in [
        json!({"password": "short"}),
        json!({"password": 12345678}),
        json!({"sync_paused": "yes"}),
        json!({"folder": 3}),
    ] {
        assert_error(patch(&d, &t, &vid, body).await, 400).await;
    }
    // Still unprotected after all that.
    let v: Value = d
        .get_auth(&format!("/vaults/{vid}"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["password_protected"], false);

    // With Holdfast locked, vault passwords cannot be tried or set.
    assert_eq!(
        d.post_auth("/identity/lock", &t, json!({})).await.status(),
        204
    );
    assert_error(
        d.post_auth("/vaults/unlock", &t, json!({"password": "whatever it is"}))
            .await,
        403,
    )
    .await;
    assert_error(
        d.post_auth(
            &format!("/vaults/{vid}/lock"),
            &t,
            json!({"password": "a good password"}),
        )
        .await,
        403,
    )
    .await;
}
