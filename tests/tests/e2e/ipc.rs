//! The IPC API as local apps use it, with prompts answered through the REST
//! approvals queue: status, linking (the attestation verifies over the sorted
//! 78-byte payload), authentication, signing with grants, revocation, and
//! persistence across a restart.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use blake2::Blake2bVar;
use blake2::digest::{Update, VariableOutput};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{Value, json};

use crate::harness::{TestDaemon, assert_error};

/// An AgentPubKey string for `key`, computed independently of the daemon.
pub fn agent_key(key: [u8; 32]) -> String {
    let mut h = Blake2bVar::new(16).unwrap();
    h.update(&key);
    let mut hash = [0u8; 16];
    h.finalize_variable(&mut hash).unwrap();
    let mut loc = [0u8; 4];
    for (i, b) in hash.iter().enumerate() {
        loc[i % 4] ^= b;
    }
    let mut raw = vec![0x84, 0x20, 0x24];
    raw.extend_from_slice(&key);
    raw.extend_from_slice(&loc);
    format!("u{}", URL_SAFE_NO_PAD.encode(raw))
}

pub fn raw_key(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(&s[1..]).unwrap()
}

pub fn verify(agent: &str, message: &[u8], signature_b64: &str) {
    let raw = raw_key(agent);
    let key = VerifyingKey::from_bytes(raw[3..35].try_into().unwrap()).unwrap();
    let sig = Signature::from_slice(&STANDARD.decode(signature_b64).unwrap()).unwrap();
    key.verify(message, &sig).expect("signature verifies");
}

/// Daemon with an owner session and an unlocked identity.
pub async fn ready() -> (TestDaemon, String) {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    (d, t)
}

/// Link an app (answering the prompt); returns the link response.
pub async fn link(d: &TestDaemon, t: &str, client_id: &str, app_key: &str) -> Value {
    let req = d.ipc_post(
        "/link-identity",
        json!({"app_name": "Chess", "client_id": client_id, "app_agent_pub_key": app_key}),
    );
    let answer = d.answer(t, "link", json!({"decision": "allow"}));
    let (resp, prompt) = tokio::join!(req, answer);
    assert_eq!(prompt["requester"]["client_id"], client_id);
    // The prompt names the requesting program: this test binary.
    #[cfg(target_os = "linux")]
    {
        let exe = std::env::current_exe().unwrap().canonicalize().unwrap();
        assert_eq!(prompt["requester"]["exe"], exe.to_string_lossy().as_ref());
        assert_eq!(prompt["requester"]["pid"], std::process::id());
    }
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn status_reports_lock_state_and_scoped_profile() {
    let d = TestDaemon::start().await;
    let s: Value = d.ipc_get("/status").await.json().await.unwrap();
    assert_eq!(s["unlocked"], false);
    assert!(s["agent_pub_key"].is_null());
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));

    let t = d.owner_token().await;
    d.init_identity(&t).await;
    d.http
        .put(d.url("/identity/profile"))
        .bearer_auth(&t)
        .json(&json!({"display_name": "Ada", "username": "ada"}))
        .send()
        .await
        .unwrap();
    let s: Value = d.ipc_get("/status").await.json().await.unwrap();
    assert_eq!(s["unlocked"], true);
    let key = s["agent_pub_key"].as_str().unwrap();
    assert_eq!(s["did"], format!("did:holdfast:{key}"));
    assert!(s["display_name"].is_null(), "no scope without an app token");

    let linked = link(&d, &t, "chess_app", &agent_key([3; 32])).await;
    let token = linked["app_token"].as_str().unwrap();
    let with_token = |tok: &str| {
        d.http
            .get(d.ipc_url("/status"))
            .bearer_auth(tok.to_owned())
            .send()
    };
    let s: Value = with_token(token).await.unwrap().json().await.unwrap();
    assert!(
        s["display_name"].is_null(),
        "linked, but no scopes granted yet"
    );
    let resp = d
        .http
        .patch(d.url("/apps/chess_app"))
        .bearer_auth(&t)
        .json(&json!({"scopes": ["display_name"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let s: Value = with_token(token).await.unwrap().json().await.unwrap();
    assert_eq!(s["display_name"], "Ada");
    assert!(s["username"].is_null(), "username scope not granted");
    // A stale token is no error: the caller is just not known.
    let stale = with_token("not-a-token").await.unwrap();
    assert_eq!(stale.status(), 200);
    let s: Value = stale.json().await.unwrap();
    assert!(s["display_name"].is_null() && s["unlocked"] == true, "{s}");
    // The app has used its token, so its client_id (or program) alone no
    // longer reads its profile fields.
    let s: Value = d
        .ipc_get("/status?client_id=chess_app")
        .await
        .json()
        .await
        .unwrap();
    assert!(s["display_name"].is_null(), "{s}");
    let s: Value = d.ipc_get("/status").await.json().await.unwrap();
    assert!(s["display_name"].is_null(), "{s}");

    d.post_auth("/identity/lock", &t, json!({})).await;
    let s: Value = d.ipc_get("/status").await.json().await.unwrap();
    assert_eq!(s["unlocked"], false);
    assert!(s["agent_pub_key"].is_null());
}

#[tokio::test]
async fn link_flow_signs_the_sorted_key_pair() {
    let (d, t) = ready().await;
    let app_key = agent_key([0xdb; 32]);
    assert_eq!(
        app_key,
        "uhCAk29vb29vb29vb29vb29vb29vb29vb29vb29vb29vb29uTp5Iv"
    );
    let r = link(&d, &t, "chess_app", &app_key).await;
    assert_eq!(r["success"], true);
    let vault_key = r["vault_agent_pub_key"].as_str().unwrap();
    let (a, b) = (raw_key(vault_key), raw_key(&app_key));
    let payload = if a <= b {
        [a, b].concat()
    } else {
        [b, a].concat()
    };
    assert_eq!(payload.len(), 78);
    verify(vault_key, &payload, r["vault_signature"].as_str().unwrap());
    assert_eq!(r["app_token"].as_str().unwrap().len(), 64);

    let q = format!("/link-status?client_id=chess_app&app_agent_pub_key={app_key}");
    let s: Value = d.ipc_get(&q).await.json().await.unwrap();
    assert_eq!(s, json!({"linked": true, "app_name": "Chess"}));
    let other = format!("/link-status?client_id=other&app_agent_pub_key={app_key}");
    let s: Value = d.ipc_get(&other).await.json().await.unwrap();
    assert_eq!(s["linked"], false);

    // The link shows on the vault side, the app got registered, and it's audited.
    let links: Value = d.get_auth("/links", &t).await.json().await.unwrap();
    assert_eq!(links.as_array().unwrap().len(), 1);
    assert_eq!(links[0]["app_agent_pub_key"], app_key.as_str());
    let apps: Value = d.get_auth("/apps", &t).await.json().await.unwrap();
    assert_eq!(apps[0]["client_id"], "chess_app");
    let audit: Value = d
        .get_auth("/audit?types=link", &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn link_errors() {
    let d = TestDaemon::start().await;
    let key = agent_key([4; 32]);
    // Not set up yet.
    let resp = d
        .ipc_post(
            "/link-identity",
            json!({"app_name": "A", "client_id": "a", "app_agent_pub_key": key}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (403, "vault_locked".into()));
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let resp = d
        .ipc_post(
            "/link-identity",
            json!({"app_name": "A", "app_agent_pub_key": key}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (400, "missing_client_id".into()));
    let resp = d
        .ipc_post(
            "/link-identity",
            json!({"app_name": "A", "client_id": "a", "app_agent_pub_key": "uhCAkbad"}),
        )
        .await;
    assert_eq!(ipc_error(resp).await.0, 400);
    let mut tampered = raw_key(&key);
    tampered[20] ^= 1;
    let tampered = format!("u{}", URL_SAFE_NO_PAD.encode(tampered));
    let resp = d
        .ipc_post(
            "/link-identity",
            json!({"app_name": "A", "client_id": "a", "app_agent_pub_key": tampered}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (400, "invalid_request".into()));

    // Denied.
    let req = d.ipc_post(
        "/link-identity",
        json!({"app_name": "A", "client_id": "a", "app_agent_pub_key": key}),
    );
    let answer = d.answer(&t, "link", json!({"decision": "deny"}));
    let (resp, _) = tokio::join!(req, answer);
    assert_eq!(ipc_error(resp).await, (403, "user_denied".into()));
    let s: Value = d
        .ipc_get(&format!("/link-status?client_id=a&app_agent_pub_key={key}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["linked"], false);
    // Without a client_id the key is looked up in any app.
    let s: Value = d
        .ipc_get(&format!("/link-status?app_agent_pub_key={key}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["linked"], false);
    let resp = d.ipc_get("/link-status?app_agent_pub_key=x").await;
    assert_eq!(ipc_error(resp).await, (400, "invalid_request".into()));
    let resp = d.ipc_get("/link-status?client_id=a").await;
    assert_eq!(ipc_error(resp).await, (400, "invalid_request".into()));
}

/// (status, error code) of an IPC error, checking its shape.
pub async fn ipc_error(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["success"], false, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (status, body["error"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn authenticate_with_and_without_challenge() {
    let (d, t) = ready().await;
    let req = d.ipc_post(
        "/authenticate",
        json!({"app_name": "Desk", "challenge": "nonce-123", "reason": "Log in to Desk"}),
    );
    let answer = d.answer(&t, "auth", json!({"decision": "allow"}));
    let (resp, prompt) = tokio::join!(req, answer);
    assert_eq!(prompt["reason"], "Log in to Desk");
    assert_eq!(resp.status(), 200);
    let r: Value = resp.json().await.unwrap();
    let key = r["agent_pub_key"].as_str().unwrap();
    assert_eq!(r["did"], format!("did:holdfast:{key}"));
    let signed_at = r["signed_at"].as_i64().unwrap();
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now_s - signed_at).abs() < 60, "signed_at is in seconds");
    // The signature covers the challenge's bytes, as the spec reads.
    verify(key, b"nonce-123", r["signature"].as_str().unwrap());

    let req = d.ipc_post("/authenticate", json!({"app_name": "Desk"}));
    let answer = d.answer(&t, "auth", json!({"decision": "allow"}));
    let (resp, _) = tokio::join!(req, answer);
    let r: Value = resp.json().await.unwrap();
    assert!(
        r.get("signature").is_none() && r.get("signed_at").is_none(),
        "{r}"
    );
}

#[tokio::test]
async fn unanswered_prompts_time_out() {
    let d = TestDaemon::start_with_config(
        "api:\n  bind: 127.0.0.1:0\nipc:\n  bind: 127.0.0.1:0\nidentity:\n  approval_timeout_seconds: 1\n",
    )
    .await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let resp = d
        .ipc_post("/authenticate", json!({"app_name": "Desk"}))
        .await;
    assert_eq!(ipc_error(resp).await, (408, "timeout".into()));
    let pending: Value = d.get_auth("/approvals", &t).await.json().await.unwrap();
    assert!(pending.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn sign_prompts_unless_granted_and_refuses_link_payloads() {
    let (d, t) = ready().await;
    let r = link(&d, &t, "chess_app", &agent_key([3; 32])).await;
    let token = r["app_token"].as_str().unwrap().to_owned();
    let msg = b"move e2e4";
    let body = json!({"type": "bytes", "bytes": STANDARD.encode(msg), "reason": "Sign move"});

    let req = d.ipc_post_as("/sign", &token, body.clone());
    let answer = d.answer(&t, "sign", json!({"decision": "allow"}));
    let (resp, prompt) = tokio::join!(req, answer);
    assert_eq!(prompt["details"]["text"], "move e2e4");
    assert_eq!(prompt["grant_allowed"], true, "the app proved itself");
    assert_eq!(prompt["requester"]["verified"], true);
    assert_eq!(prompt["requester"]["client_id"], "chess_app");
    let s: Value = resp.json().await.unwrap();
    verify(
        s["agent_pub_key"].as_str().unwrap(),
        msg,
        s["signature"].as_str().unwrap(),
    );

    // Remember for 10 minutes: the next signature needs no prompt.
    let req = d.ipc_post_as("/sign", &token, body.clone());
    let answer = d.answer(&t, "sign", json!({"decision": "allow", "remember_s": 600}));
    let (resp, _) = tokio::join!(req, answer);
    assert_eq!(resp.status(), 200);
    let resp = d.ipc_post_as("/sign", &token, body.clone()).await;
    assert_eq!(resp.status(), 200, "granted: no prompt");
    let grants: Value = d.get_auth("/grants", &t).await.json().await.unwrap();
    assert_eq!(grants[0]["client_id"], "chess_app");
    let left = grants[0]["time_left_ms"].as_i64().unwrap();
    assert!(left > 590_000 && left <= 600_000, "{left}");
    // Revoke the grant: prompts again (deny this time).
    let id = grants[0]["id"].as_str().unwrap();
    let resp = d
        .http
        .delete(d.url(&format!("/grants/{id}")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let req = d.ipc_post_as("/sign", &token, body.clone());
    let answer = d.answer(&t, "sign", json!({"decision": "deny"}));
    let (resp, _) = tokio::join!(req, answer);
    assert_eq!(ipc_error(resp).await, (403, "user_denied".into()));

    // A payload shaped like a link attestation is never signed here.
    let vault = raw_key(r["vault_agent_pub_key"].as_str().unwrap());
    let forged = [raw_key(&agent_key([9; 32])), vault].concat();
    let resp = d
        .ipc_post_as(
            "/sign",
            &token,
            json!({"type": "bytes", "bytes": STANDARD.encode(&forged)}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (400, "invalid_request".into()));
    for bad in [
        json!({"type": "text", "bytes": "aGk="}),
        json!({"type": "bytes", "bytes": "not base64!"}),
        json!({"type": "bytes"}),
    ] {
        let resp = d.ipc_post_as("/sign", &token, bad).await;
        assert_eq!(ipc_error(resp).await.0, 400);
    }
    let audit: Value = d
        .get_auth("/audit?types=sign", &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn locking_during_a_prompt_denies_it() {
    let (d, t) = ready().await;
    let r = link(&d, &t, "chess_app", &agent_key([3; 32])).await;
    let token = r["app_token"].as_str().unwrap().to_owned();
    let req = d.ipc_post_as("/sign", &token, json!({"type": "bytes", "bytes": "aGk="}));
    let lock = async {
        d.next_approval(&t, "sign").await;
        d.post_auth("/identity/lock", &t, json!({})).await
    };
    let (resp, lock_resp) = tokio::join!(req, lock);
    assert_eq!(lock_resp.status(), 204);
    assert_eq!(ipc_error(resp).await, (403, "vault_locked".into()));
    let pending: Value = d.get_auth("/approvals", &t).await.json().await.unwrap();
    assert!(pending.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn revocation_from_either_side() {
    let (d, t) = ready().await;
    let key_a = agent_key([1; 32]);
    let key_b = agent_key([2; 32]);
    let a = link(&d, &t, "chess_app", &key_a).await;
    let b = link(&d, &t, "chess_app", &key_b).await;
    let token_a = a["app_token"].as_str().unwrap();
    let token_b = b["app_token"].as_str().unwrap();

    // Once the app has used a token, its client_id alone is no proof.
    let resp = d.ipc_get_as("/backup/list", token_b).await;
    assert_eq!(resp.status(), 200);
    let resp = d
        .ipc_post(
            "/revoke-identity",
            json!({"app_name": "Chess", "client_id": "chess_app", "app_agent_pub_key": key_a}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (401, "missing_app_token".into()));
    let resp = d
        .ipc_post_as(
            "/revoke-identity",
            "f".repeat(64).as_str(),
            json!({"app_agent_pub_key": key_a}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (401, "invalid_app_token".into()));
    let resp = d
        .ipc_post_as(
            "/revoke-identity",
            token_a,
            json!({"app_name": "Chess", "app_agent_pub_key": key_a}),
        )
        .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"success": true, "revoked": true}));
    let s: Value = d
        .ipc_get(&format!(
            "/link-status?client_id=chess_app&app_agent_pub_key={key_a}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["linked"], false);
    // The revoked link's token is dead; the other link's still works.
    let resp = d.ipc_get_as("/backup/list", token_a).await;
    assert_eq!(ipc_error(resp).await, (401, "invalid_app_token".into()));
    let resp = d.ipc_get_as("/backup/list", token_b).await;
    assert_eq!(resp.status(), 200);

    // Revoke from the vault side.
    let links: Value = d.get_auth("/links", &t).await.json().await.unwrap();
    let id = links[0]["id"].as_str().unwrap();
    let resp = d
        .http
        .delete(d.url(&format!("/links/{id}")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = d.ipc_get_as("/backup/list", token_b).await;
    assert_eq!(resp.status(), 401);
    let resp = d
        .http
        .delete(d.url(&format!("/links/{id}")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_error(resp, 404).await;
}

#[tokio::test]
async fn restart_keeps_links_apps_and_backups() {
    let (d, t) = ready().await;
    let key = agent_key([7; 32]);
    let r = link(&d, &t, "chess_app", &key).await;
    let token = r["app_token"].as_str().unwrap().to_owned();
    let resp = d
        .ipc_post_as(
            "/backup",
            &token,
            json!({"app_name": "Chess", "data": {"games": 3}, "label": "main"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let d = d.restart().await;
    let s: Value = d
        .ipc_get(&format!(
            "/link-status?client_id=chess_app&app_agent_pub_key={key}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["linked"], true);
    // Locked after restart and never unlocked: backups refuse.
    let resp = d
        .ipc_post_as("/backup/retrieve", &token, json!({"label": "main"}))
        .await;
    assert_eq!(ipc_error(resp).await, (403, "vault_locked".into()));
    let resp = d
        .post_auth(
            "/identity/unlock",
            &t,
            json!({"passphrase": crate::harness::PASSPHRASE}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = d
        .ipc_post_as("/backup/retrieve", &token, json!({"label": "main"}))
        .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["data"], json!({"games": 3}));
    let apps: Value = d.get_auth("/apps", &t).await.json().await.unwrap();
    assert_eq!(apps.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn ipc_openapi_covers_every_route() {
    let d = TestDaemon::start().await;
    let doc: Value = d.ipc_get("/openapi.json").await.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("get", "/status"),
        ("post", "/link-identity"),
        ("post", "/revoke-identity"),
        ("get", "/link-status"),
        ("post", "/authenticate"),
        ("post", "/backup"),
        ("get", "/backup/list"),
        ("post", "/backup/retrieve"),
        ("post", "/backup/delete"),
        ("post", "/sign"),
        ("get", "/openapi.json"),
    ];
    let mut documented = 0;
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            documented += 1;
            assert!(
                expected.contains(&(method.as_str(), path.as_str())),
                "undocumented? {method} {path}"
            );
            let resp = match method.as_str() {
                "get" => d.http.get(d.ipc_url(path)).send().await.unwrap(),
                _ => d.http.post(d.ipc_url(path)).send().await.unwrap(),
            };
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap();
            assert_ne!(status, 405, "{method} {path}");
            assert!(!body.contains("no route for"), "{method} {path}: {body}");
        }
    }
    assert_eq!(documented, expected.len());
}
