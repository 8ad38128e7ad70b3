//! Bad input on routes whose happy paths are tested elsewhere: each answers
//! its surface's error shape with the right status.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::harness::assert_error;
use crate::ipc::{agent_key, ipc_error, link, ready};

#[tokio::test]
async fn vault_patch_and_create_limits() {
    let (d, t) = ready().await;
    let a = d.post_auth("/vaults", &t, json!({"name": "A"})).await;
    let id = a.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    d.post_auth("/vaults", &t, json!({"name": "B"})).await;
    let patch = |body: serde_json::Value| {
        d.http
            .patch(d.url(&format!("/vaults/{id}")))
            .bearer_auth(&t)
            .json(&body)
            .send()
    };
    assert_error(patch(json!({"retention_days": 4000})).await.unwrap(), 400).await;
    assert_error(patch(json!({"rf_target": 0})).await.unwrap(), 400).await;
    assert_error(patch(json!({"name": "B"})).await.unwrap(), 409).await;
    assert_error(patch(json!({"name": "x".repeat(101)})).await.unwrap(), 400).await;
    assert_error(patch(json!({"hard_quota": "lots"})).await.unwrap(), 400).await;
    assert_error(
        d.post_auth("/vaults", &t, json!({"name": "C", "rf_target": 17}))
            .await,
        400,
    )
    .await;
    let resp = d
        .http
        .patch(d.url("/vaults/nope"))
        .bearer_auth(&t)
        .json(&json!({"name": "Z"}))
        .send()
        .await
        .unwrap();
    assert_error(resp, 404).await;
}

#[tokio::test]
async fn approval_answers_are_checked() {
    let (d, t) = ready().await;
    let resp = d
        .post_auth("/approvals/0123", &t, json!({"decision": "allow"}))
        .await;
    assert_error(resp, 404).await;
    let req = d.ipc_post(
        "/link-identity",
        json!({"app_name": "A", "client_id": "a", "app_agent_pub_key": agent_key([1; 32])}),
    );
    let answer = async {
        let a = d.next_approval(&t, "link").await;
        let url = format!("/approvals/{}", a["id"].as_str().unwrap());
        assert_error(
            d.post_auth(&url, &t, json!({"decision": "maybe"})).await,
            400,
        )
        .await;
        // A link cannot be "remembered".
        let resp = d
            .post_auth(&url, &t, json!({"decision": "allow", "remember_s": 60}))
            .await;
        assert_error(resp, 400).await;
        assert_eq!(
            d.post_auth(&url, &t, json!({"decision": "deny"}))
                .await
                .status(),
            200
        );
    };
    let (resp, ()) = tokio::join!(req, answer);
    assert_eq!(ipc_error(resp).await, (403, "user_denied".into()));
}

#[tokio::test]
async fn app_registration_is_validated() {
    let (d, t) = ready().await;
    for bad in [
        json!({"client_id": "ok_id", "name": "X", "allowed_origins": ["*"]}),
        json!({"client_id": "ok_id", "name": "X", "allowed_origins": ["null"]}),
        json!({"client_id": "ok_id", "name": "X", "allowed_origins": ["https://a.example/path"]}),
        json!({"client_id": "ok_id", "name": "X", "scopes": ["email"]}),
        json!({"client_id": "bad id", "name": "X"}),
        json!({"client_id": "ok_id", "name": ""}),
    ] {
        assert_error(d.post_auth("/apps", &t, bad).await, 400).await;
    }
    assert_eq!(
        d.post_auth("/apps", &t, json!({"client_id": "ok_id", "name": "X"}))
            .await
            .status(),
        201
    );
    assert_error(
        d.post_auth("/apps", &t, json!({"client_id": "ok_id", "name": "X"}))
            .await,
        409,
    )
    .await;
    let resp = d
        .http
        .delete(d.url("/apps/missing"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_error(resp, 404).await;
    let resp = d
        .http
        .delete(d.url("/grants/missing"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_error(resp, 404).await;
}

#[tokio::test]
async fn ipc_sizes_are_bounded() {
    let (d, t) = ready().await;
    let token = link(&d, &t, "chess_app", &agent_key([3; 32])).await["app_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let big = STANDARD.encode(vec![7u8; 64 * 1024 + 1]);
    let resp = d
        .ipc_post_as("/sign", &token, json!({"type": "bytes", "bytes": big}))
        .await;
    assert_eq!(ipc_error(resp).await, (400, "invalid_request".into()));
    let resp = d
        .ipc_post_as(
            "/sign",
            &token,
            json!({"type": "bytes", "bytes": "aGk=", "reason": "r".repeat(501)}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (400, "invalid_request".into()));
    let resp = d
        .ipc_post(
            "/authenticate",
            json!({"app_name": "A", "challenge": "c".repeat(1025)}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (400, "invalid_request".into()));
    // Bodies past the limit on ordinary routes: 413 in the IPC shape.
    let resp = d
        .ipc_post(
            "/authenticate",
            json!({"app_name": "A", "reason": "x".repeat(300 * 1024)}),
        )
        .await;
    assert_eq!(ipc_error(resp).await, (413, "payload_too_large".into()));
}
