//! A client written against `spec/ipc-api.md` alone: exactly the spec's
//! bodies, no app token, no registration step, no `client_id` where the spec
//! has none. Every call gets what the spec promises (after the user's
//! approval where the spec asks for one), and the prompts show the user who
//! is asking. Also: the worked `/authenticate` example in docs/ipc.md.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

use crate::harness::TestDaemon;
use crate::ipc::{agent_key, ipc_error, raw_key, ready, verify};

const CLIENT_ID: &str = "flowsta_app_abc123";

#[tokio::test]
async fn a_spec_only_client_runs_the_whole_flow() {
    let (d, t) = ready().await;
    let resp = d
        .http
        .put(d.url("/identity/profile"))
        .bearer_auth(&t)
        .json(&json!({"display_name": "John Doe", "username": "johndoe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // GET /status: running and unlocked; no profile for an unknown caller.
    let s: Value = d.ipc_get("/status").await.json().await.unwrap();
    assert_eq!(s["unlocked"], true);
    let vault_key = s["agent_pub_key"].as_str().unwrap().to_owned();
    assert_eq!(s["did"], format!("did:holdfast:{vault_key}"));
    assert!(s["display_name"].is_null() && s["username"].is_null());

    // POST /link-identity: the user approves and picks one profile field.
    let app_key = agent_key([0x42; 32]);
    let req = d.ipc_post(
        "/link-identity",
        json!({"app_name": "ChessChain", "client_id": CLIENT_ID, "app_agent_pub_key": app_key}),
    );
    let answer = d.answer(
        &t,
        "link",
        json!({"decision": "allow", "scopes": ["display_name"]}),
    );
    let (resp, prompt) = tokio::join!(req, answer);
    assert_eq!(prompt["requester"]["client_id"], CLIENT_ID);
    assert_eq!(prompt["requester"]["verified"], false);
    assert_eq!(prompt["requester"]["unregistered"], true);
    assert_eq!(
        prompt["details"]["scopes_offered"],
        json!(["display_name", "username", "profile_picture"])
    );
    assert_eq!(resp.status(), 200);
    let linked: Value = resp.json().await.unwrap();
    assert_eq!(linked["success"], true);
    assert_eq!(linked["vault_agent_pub_key"], vault_key.as_str());
    let (a, b) = (raw_key(&vault_key), raw_key(&app_key));
    let payload = if a <= b {
        [a, b].concat()
    } else {
        [b, a].concat()
    };
    verify(
        &vault_key,
        &payload,
        linked["vault_signature"].as_str().unwrap(),
    );

    // GET /status again: the field the user granted, null for the others.
    // The caller is known by the program its link came from.
    let s: Value = d.ipc_get("/status").await.json().await.unwrap();
    assert_eq!(s["display_name"], "John Doe");
    assert!(s["username"].is_null() && s["profile_picture"].is_null());

    // GET /link-status with the spec's two query parameters.
    let s: Value = d
        .ipc_get(&format!(
            "/link-status?client_id={CLIENT_ID}&app_agent_pub_key={app_key}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s, json!({"linked": true, "app_name": "ChessChain"}));

    // POST /authenticate with a challenge: signed over the challenge bytes.
    let req = d.ipc_post(
        "/authenticate",
        json!({"app_name": "Your Desktop App", "client_id": CLIENT_ID,
               "challenge": "optional-challenge-to-sign", "reason": "Login to Your Desktop App"}),
    );
    let answer = d.answer(&t, "auth", json!({"decision": "allow"}));
    let (resp, prompt) = tokio::join!(req, answer);
    assert_eq!(prompt["reason"], "Login to Your Desktop App");
    let r: Value = resp.json().await.unwrap();
    assert_eq!(r["success"], true);
    assert_eq!(r["agent_pub_key"], vault_key.as_str());
    assert_eq!(r["did"], format!("did:holdfast:{vault_key}"));
    assert!(r["signed_at"].as_i64().unwrap() > 1_700_000_000);
    verify(
        &vault_key,
        b"optional-challenge-to-sign",
        r["signature"].as_str().unwrap(),
    );

    // POST /sign with no client_id: the prompt names the program; no
    // "remember" for a caller that proved nothing.
    let body = json!({"type": "bytes", "bytes": STANDARD.encode(b"hello"), "reason": "Sign this document"});
    let req = d.ipc_post("/sign", body.clone());
    let answer = async {
        let a = d.next_approval(&t, "sign").await;
        let id = a["id"].as_str().unwrap();
        let refused = d
            .post_auth(
                &format!("/approvals/{id}"),
                &t,
                json!({"decision": "allow", "remember_s": 600}),
            )
            .await;
        assert_eq!(refused.status(), 400, "no grant for an unproven caller");
        let ok = d
            .post_auth(
                &format!("/approvals/{id}"),
                &t,
                json!({"decision": "allow"}),
            )
            .await;
        assert_eq!(ok.status(), 200);
        a
    };
    let (resp, prompt) = tokio::join!(req, answer);
    assert_eq!(prompt["grant_allowed"], false);
    assert_eq!(prompt["requester"]["verified"], false);
    assert!(prompt["requester"]["client_id"].is_null());
    assert_eq!(prompt["reason"], "Sign this document");
    #[cfg(target_os = "linux")]
    {
        let exe = std::env::current_exe().unwrap().canonicalize().unwrap();
        assert_eq!(prompt["requester"]["exe"], exe.to_string_lossy().as_ref());
        let name = exe.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(prompt["requester"]["app_name"], name.as_str());
    }
    let r: Value = resp.json().await.unwrap();
    assert_eq!(r["success"], true);
    assert_eq!(r["agent_pub_key"], vault_key.as_str());
    verify(&vault_key, b"hello", r["signature"].as_str().unwrap());
    // And again: every spec-shaped /sign asks.
    let req = d.ipc_post("/sign", body.clone());
    let answer = d.answer(&t, "sign", json!({"decision": "deny"}));
    let (resp, _) = tokio::join!(req, answer);
    assert_eq!(ipc_error(resp).await, (403, "user_denied".into()));

    // Backups, with the spec's bodies.
    let data = json!({"polls_created": {"count": 2, "polls": ["a", "b"]}});
    let resp = d
        .ipc_post(
            "/backup",
            json!({"client_id": CLIENT_ID, "app_name": "ChessChain",
                   "content_type": "application/json", "data": data}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let stored: Value = resp.json().await.unwrap();
    assert_eq!(stored["success"], true);
    let label = stored["label"].as_str().unwrap().to_owned();
    assert!(label.starts_with("backup-"), "{label}");
    assert!(stored["data_size"].as_u64().unwrap() > 0);
    assert!(stored["created_at"].as_i64().unwrap() > 1_700_000_000);

    let list: Value = d.ipc_get("/backup/list").await.json().await.unwrap();
    assert_eq!(list["app_count"], 1);
    assert_eq!(list["total_backups"], 1);
    assert_eq!(list["apps"][0]["client_id"], CLIENT_ID);
    assert_eq!(list["apps"][0]["app_name"], "ChessChain");
    assert_eq!(list["apps"][0]["backup_count"], 1);
    assert!(list["apps"][0]["latest_summary"].is_null());
    assert!(
        list.to_string().find("polls_created").is_none(),
        "metadata only"
    );

    let resp = d
        .ipc_post(
            "/backup/retrieve",
            json!({"client_id": CLIENT_ID, "label": label}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let got: Value = resp.json().await.unwrap();
    assert_eq!(got["data"], data);
    let resp = d
        .ipc_post("/backup/retrieve", json!({"client_id": CLIENT_ID}))
        .await;
    assert_eq!(resp.status(), 200, "no label: the newest");
    let resp = d
        .ipc_post(
            "/backup/delete",
            json!({"client_id": CLIENT_ID, "label": "latest"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let list: Value = d.ipc_get("/backup/list").await.json().await.unwrap();
    assert_eq!(list["total_backups"], 0);

    // POST /revoke-identity with the spec's body: the link is gone.
    let resp = d
        .ipc_post(
            "/revoke-identity",
            json!({"app_name": "ChessChain", "app_agent_pub_key": app_key}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let r: Value = resp.json().await.unwrap();
    assert_eq!(r["success"], true);
    let s: Value = d
        .ipc_get(&format!(
            "/link-status?client_id={CLIENT_ID}&app_agent_pub_key={app_key}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["linked"], false);

    // Locked: /sign answers vault_locked before looking at the body.
    d.post_auth("/identity/lock", &t, json!({})).await;
    for body in [
        body.clone(),
        json!({"type": "nonsense"}),
        json!({"bytes": "!!"}),
    ] {
        let resp = d.ipc_post("/sign", body).await;
        assert_eq!(ipc_error(resp).await, (403, "vault_locked".into()));
    }
    let resp = d
        .http
        .post(d.ipc_url("/sign"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(ipc_error(resp).await, (403, "vault_locked".into()));
}

#[tokio::test]
async fn spec_clients_and_token_holders_side_by_side() {
    let (d, t) = ready().await;
    // Two apps link; only the second ever uses its token.
    for (client, seed) in [("plain_app", 1u8), ("token_app", 2)] {
        let req = d.ipc_post(
            "/link-identity",
            json!({"app_name": client, "client_id": client, "app_agent_pub_key": agent_key([seed; 32])}),
        );
        let answer = d.answer(&t, "link", json!({"decision": "allow"}));
        let (resp, _) = tokio::join!(req, answer);
        assert_eq!(resp.status(), 200);
        let linked: Value = resp.json().await.unwrap();
        let token = linked["app_token"].as_str().unwrap().to_owned();
        if client == "token_app" {
            let resp = d
                .ipc_post_as(
                    "/backup",
                    &token,
                    json!({"app_name": client, "data": {"n": 1}}),
                )
                .await;
            assert_eq!(resp.status(), 200);
            // Bound now: its key cannot be revoked by name alone.
            let resp = d
                .ipc_post(
                    "/revoke-identity",
                    json!({"app_name": client, "app_agent_pub_key": agent_key([seed; 32])}),
                )
                .await;
            assert_eq!(ipc_error(resp).await, (401, "missing_app_token".into()));
        }
    }
    let resp = d
        .ipc_post(
            "/backup",
            json!({"client_id": "plain_app", "app_name": "plain_app", "data": {"n": 2}}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // The spec's list shows every app; a token narrows it to its own.
    let all: Value = d.ipc_get("/backup/list").await.json().await.unwrap();
    assert_eq!(all["app_count"], 2);
    assert_eq!(all["total_backups"], 2);
    let resp = d
        .ipc_post(
            "/backup",
            json!({"client_id": "token_app", "app_name": "token_app", "data": {}}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (401, "missing_app_token".into()));
    // A stale token never turns /status into an error.
    let resp = d.ipc_get_as("/status", "stale").await;
    assert_eq!(resp.status(), 200);
}

/// The example block in docs/ipc.md, checked with an independent Ed25519.
#[test]
fn the_worked_example_in_docs_verifies() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/ipc.md"),
    )
    .unwrap();
    let field = |name: &str| -> String {
        let line = doc
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("docs/ipc.md has no `{name}` line"));
        line[name.len()..].trim().to_owned()
    };
    let seed: [u8; 32] = hex_bytes(&field("agent seed (hex)")).try_into().unwrap();
    let key = SigningKey::from_bytes(&seed);
    assert_eq!(
        hex_bytes(&field("agent public key")),
        key.verifying_key().to_bytes()
    );
    assert_eq!(
        field("agent_pub_key"),
        agent_key(key.verifying_key().to_bytes())
    );
    let challenge = field("challenge");
    let signed = hex_bytes(&field("signed bytes (hex)").replace(' ', ""));
    assert_eq!(signed, challenge.as_bytes(), "the challenge's UTF-8 bytes");
    let signature = STANDARD.encode(key.sign(&signed).to_bytes());
    assert_eq!(field("signature (base64)"), signature);
    verify(&field("agent_pub_key"), challenge.as_bytes(), &signature);
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn unused_daemon_has_no_backups() {
    let d = TestDaemon::start().await;
    let list: Value = d.ipc_get("/backup/list").await.json().await.unwrap();
    assert_eq!(
        list,
        json!({"app_count": 0, "total_backups": 0, "total_size": 0, "apps": []})
    );
}
