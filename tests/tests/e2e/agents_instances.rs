//! Coding-agent instances over REST (issue 22), against the real daemon:
//! create, read, patch and delete instances; provider keys sealed under the
//! identity (never echoed, never logged, kept across a restart, refused
//! while locked); models asked of a stand-in Anthropic `/v1/models` on
//! 127.0.0.1:0; MCP servers; workspaces; search; attachments; the routes
//! that answer 501; and `/capabilities` finding a stand-in `claude` program
//! on the daemon's PATH.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::harness::{PASSPHRASE, PASSWORD, TestDaemon, assert_error, assert_not_logged};

const KEY: &str = "sk-ant-test-0123456789-abcdefwxyz";
const BAD_KEY: &str = "sk-ant-refused-9876543210-zyxw";
const UNKNOWN: &str = "ai_00000000000000000000000000000000";

async fn create(d: &TestDaemon, t: &str, kind: &str, name: &str) -> Value {
    let resp = d
        .post_auth("/instances", t, json!({"type": kind, "name": name}))
        .await;
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

async fn audit(d: &TestDaemon, t: &str, types: &str) -> Vec<Value> {
    d.get_json(&format!("/audit?types={types}"), t)
        .await
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn instances_are_created_read_patched_and_deleted() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;

    assert_eq!(d.get_json("/instances", &t).await, json!({"instances": []}));

    // Bad input.
    for body in [
        json!({"type": "cursor", "name": "x"}),
        json!({"type": "claude", "name": ""}),
        json!({"type": "claude", "name": "   "}),
        json!({"type": "claude", "name": "n".repeat(101)}),
        json!({"type": "claude", "name": "a\u{7}b"}),
        json!({"type": "claude"}),
        json!({"type": "claude", "name": "x", "extra": 1}),
    ] {
        assert_error(d.post_auth("/instances", &t, body).await, 400).await;
    }

    let c = create(&d, &t, "claude", "  My Claude ").await;
    let id = c["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ai_") && id.len() == 35, "{id}");
    assert_eq!(c["type"], "claude");
    assert_eq!(c["name"], "My Claude");
    assert_eq!(c["remote"], false);
    assert_eq!(c["host_node_id"], Value::Null);
    assert!(c["available"].is_boolean());
    assert_eq!(c["available"], !c["program"].is_null());
    assert_eq!(c["auth"]["status"], "none");
    assert_eq!(
        c["defaults"],
        json!({"model": null, "system_prompt": null, "permission_mode": "default"})
    );
    assert_eq!(c["workspaces"], json!([]));
    assert_eq!(
        c["providers"],
        json!([{"id": "anthropic", "name": "Anthropic", "key_set": false, "key_hint": null, "base_url": null}])
    );
    assert_eq!(c["mcp_servers"], 0);
    assert_eq!(c["sessions"], 0);
    assert!(c["created_ms"].as_i64().unwrap() > 0);
    let config = d
        .data_dir()
        .join("agents/instances")
        .join(&id)
        .join("config");
    assert!(config.is_dir(), "the instance has its own config dir");

    let o = create(&d, &t, "opencode", "Open").await;
    let ids: Vec<&str> = o["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["anthropic", "openai", "openrouter", "google"]);

    let all = d.get_json("/instances", &t).await;
    assert_eq!(all["instances"].as_array().unwrap().len(), 2);
    assert_eq!(all["instances"][0]["id"], c["id"]);
    assert_eq!(d.get_json(&format!("/instances/{id}"), &t).await, c);

    // Unknown and malformed ids.
    for bad in [UNKNOWN, "nonsense", "ai_XYZ"] {
        assert_error(d.get_auth(&format!("/instances/{bad}"), &t).await, 404).await;
        assert_error(
            d.patch_auth(&format!("/instances/{bad}"), &t, json!({"name": "x"}))
                .await,
            404,
        )
        .await;
        assert_error(d.delete_auth(&format!("/instances/{bad}"), &t).await, 404).await;
    }

    // Patch: rename and defaults, merged over what was there.
    let p = d
        .patch_auth(
            &format!("/instances/{id}"),
            &t,
            json!({"name": "Renamed", "defaults": {"model": "claude-sonnet-4-5", "permission_mode": "plan"}}),
        )
        .await;
    assert_eq!(p.status(), 200);
    let p: Value = p.json().await.unwrap();
    assert_eq!(p["name"], "Renamed");
    assert_eq!(
        p["defaults"],
        json!({"model": "claude-sonnet-4-5", "system_prompt": null, "permission_mode": "plan"})
    );
    let p: Value = d
        .patch_auth(
            &format!("/instances/{id}"),
            &t,
            json!({"defaults": {"system_prompt": "Be brief."}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["defaults"]["model"], "claude-sonnet-4-5");
    assert_eq!(p["defaults"]["system_prompt"], "Be brief.");
    for body in [
        json!({"defaults": {"permission_mode": "yolo"}}),
        json!({"defaults": {"temperature": 1}}),
        json!({"defaults": {"model": "has space"}}),
        json!({"defaults": "plan"}),
        json!({"name": ""}),
        json!({"color": "red"}),
    ] {
        assert_error(
            d.patch_auth(&format!("/instances/{id}"), &t, body).await,
            400,
        )
        .await;
    }

    // Sign-in routes.
    let r = d
        .post_auth(&format!("/instances/{id}/refresh-auth"), &t, json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let r: Value = r.json().await.unwrap();
    assert_eq!(r["status"], "none");
    assert!(r["detail"].as_str().unwrap().len() > 3);
    let m = assert_error(
        d.post_auth(&format!("/instances/{id}/auth-login"), &t, json!({}))
            .await,
        501,
    )
    .await;
    assert!(m.contains("API key"), "{m}");
    assert_error(
        d.post_auth(&format!("/instances/{UNKNOWN}/auth-login"), &t, json!({}))
            .await,
        404,
    )
    .await;
    assert_error(
        d.post_auth(&format!("/instances/{UNKNOWN}/refresh-auth"), &t, json!({}))
            .await,
        404,
    )
    .await;
    let methods = d
        .get_json(&format!("/instances/{id}/auth-methods"), &t)
        .await;
    let methods = methods["methods"].as_array().unwrap();
    assert!(methods.iter().any(|m| m["id"] == "api_key"
        && m["provider"] == "anthropic"
        && m["label"] == "Anthropic API key"
        && m["available"] == true));
    assert!(
        methods
            .iter()
            .any(|m| m["id"] == "oauth" && m["available"] == false && m["reason"].is_string())
    );
    assert_error(
        d.get_auth(&format!("/instances/{UNKNOWN}/auth-methods"), &t)
            .await,
        404,
    )
    .await;
    for step in ["authorize", "callback"] {
        assert_error(
            d.post_auth(
                &format!("/instances/{id}/providers/anthropic/oauth/{step}"),
                &t,
                json!({}),
            )
            .await,
            501,
        )
        .await;
        assert_error(
            d.post_auth(
                &format!("/instances/{id}/providers/openai/oauth/{step}"),
                &t,
                json!({}),
            )
            .await,
            400,
        )
        .await;
        assert_error(
            d.post_auth(
                &format!("/instances/{UNKNOWN}/providers/anthropic/oauth/{step}"),
                &t,
                json!({}),
            )
            .await,
            404,
        )
        .await;
    }

    // Delete: gone with its files, and audited.
    assert_eq!(
        d.delete_auth(&format!("/instances/{id}"), &t)
            .await
            .status(),
        204
    );
    assert!(!config.exists(), "the config dir is removed");
    assert_error(d.get_auth(&format!("/instances/{id}"), &t).await, 404).await;
    assert_error(d.delete_auth(&format!("/instances/{id}"), &t).await, 404).await;
    let all = d.get_json("/instances", &t).await;
    assert_eq!(all["instances"].as_array().unwrap().len(), 1);
    let deleted = audit(&d, &t, "agent_instance_deleted").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["details"]["instance_id"], id.as_str());
}

/// What the stand-in Anthropic API saw: the `x-api-key` and
/// `anthropic-version` of each request.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

async fn anthropic_models(
    State(seen): State<Seen>,
    headers: HeaderMap,
) -> (StatusCode, Json<Value>) {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let key = h("x-api-key");
    seen.lock()
        .unwrap()
        .push((key.clone(), h("anthropic-version")));
    if key != KEY {
        return (
            StatusCode::UNAUTHORIZED,
            Json(
                json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
            ),
        );
    }
    (
        StatusCode::OK,
        Json(json!({
            "data": [
                {"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"},
                {"type": "model", "id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5", "created_at": "2025-10-01T00:00:00Z"}
            ],
            "has_more": false, "first_id": "claude-sonnet-4-5", "last_id": "claude-haiku-4-5"
        })),
    )
}

/// A stand-in for Anthropic's API: its base URL and what it saw.
async fn stand_in_anthropic() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route("/v1/models", axum::routing::get(anthropic_models))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

/// A loopback address nothing listens on.
fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

#[tokio::test]
async fn provider_keys_are_sealed_never_shown_kept_across_a_restart_and_list_models() {
    let (base, seen) = stand_in_anthropic().await;
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let c = create(&d, &t, "claude", "Keyed").await;
    let id = c["id"].as_str().unwrap().to_owned();
    let put = |key: &str, base_url: Option<&str>| {
        let mut body = json!({"api_key": key});
        if let Some(u) = base_url {
            body["base_url"] = json!(u);
        }
        body
    };
    let path = format!("/instances/{id}/providers/anthropic");

    // No identity yet: nothing to seal the key under.
    assert_error(d.put_auth(&path, &t, put(KEY, None)).await, 403).await;
    d.init_identity(&t).await;

    // Bad input.
    assert_error(
        d.put_auth(
            &format!("/instances/{id}/providers/openai"),
            &t,
            put(KEY, None),
        )
        .await,
        400,
    )
    .await;
    assert_error(
        d.put_auth(
            &format!("/instances/{UNKNOWN}/providers/anthropic"),
            &t,
            put(KEY, None),
        )
        .await,
        404,
    )
    .await;
    for body in [
        put("has a space", None),
        put("", None),
        put(&"k".repeat(4097), None),
        put(KEY, Some("ftp://example.com")),
        put(KEY, Some("not a url")),
        put(KEY, Some("https://user:pw@example.com")),
        json!({"key": KEY}),
        json!({"api_key": 42}),
    ] {
        let m = assert_error(d.put_auth(&path, &t, body).await, 400).await;
        assert!(!m.contains(KEY), "the key is echoed in an error: {m}");
    }

    // Set: only a hint comes back.
    let resp = d.put_auth(&path, &t, put(KEY, Some(&base))).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(!text.contains(KEY), "the key is echoed: {text}");
    let p: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(p["id"], "anthropic");
    assert_eq!(p["key_set"], true);
    assert_eq!(p["key_hint"], "••••wxyz");
    assert_eq!(p["base_url"], base.as_str());
    for route in [
        format!("/instances/{id}"),
        "/instances".to_owned(),
        format!("/instances/{id}/providers"),
    ] {
        let text = d.get_auth(&route, &t).await.text().await.unwrap();
        assert!(!text.contains(KEY), "{route} shows the key");
    }
    let inst = d.get_json(&format!("/instances/{id}"), &t).await;
    assert_eq!(inst["auth"]["status"], "api_key");
    assert_eq!(inst["providers"][0]["key_set"], true);
    let provs = d.get_json(&format!("/instances/{id}/providers"), &t).await;
    assert_eq!(provs["providers"][0]["key_hint"], "••••wxyz");
    let r: Value = d
        .post_auth(&format!("/instances/{id}/refresh-auth"), &t, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "api_key");

    // Models: asked of the provider with the key.
    let resp = d.get_auth(&format!("/instances/{id}/models"), &t).await;
    assert_eq!(resp.status(), 200);
    let models: Value = resp.json().await.unwrap();
    assert_eq!(
        models,
        json!({"models": [
            {"id": "claude-sonnet-4-5", "name": "Claude Sonnet 4.5", "provider": "anthropic"},
            {"id": "claude-haiku-4-5", "name": "Claude Haiku 4.5", "provider": "anthropic"}
        ], "errors": []})
    );
    assert_eq!(
        seen.lock().unwrap().last().unwrap(),
        &(KEY.to_owned(), "2023-06-01".to_owned())
    );

    // A refused key and an unreachable provider are errors per provider,
    // without the key.
    let refused = create(&d, &t, "claude", "Refused").await;
    let rid = refused["id"].as_str().unwrap();
    let resp = d
        .put_auth(
            &format!("/instances/{rid}/providers/anthropic"),
            &t,
            put(BAD_KEY, Some(&base)),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let text = d
        .get_auth(&format!("/instances/{rid}/models"), &t)
        .await
        .text()
        .await
        .unwrap();
    assert!(!text.contains(BAD_KEY), "{text}");
    let m: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(m["models"], json!([]));
    assert_eq!(m["errors"][0]["provider"], "anthropic");
    assert!(
        m["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{m}"
    );
    assert_eq!(seen.lock().unwrap().last().unwrap().0, BAD_KEY);
    let closed = closed_port_url();
    d.put_auth(
        &format!("/instances/{rid}/providers/anthropic"),
        &t,
        put(BAD_KEY, Some(&closed)),
    )
    .await;
    let m = d.get_json(&format!("/instances/{rid}/models"), &t).await;
    assert!(
        m["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{m}"
    );
    // No key: nothing asked, nothing failed.
    let bare = create(&d, &t, "opencode", "Bare").await;
    let m = d
        .get_json(
            &format!("/instances/{}/models", bare["id"].as_str().unwrap()),
            &t,
        )
        .await;
    assert_eq!(m, json!({"models": [], "errors": []}));
    assert_error(
        d.get_auth(&format!("/instances/{UNKNOWN}/models"), &t)
            .await,
        404,
    )
    .await;

    // The audit ring names the provider, never the key.
    let set = audit(&d, &t, "agent_provider_key_set").await;
    assert_eq!(set.len(), 3);
    assert_eq!(set.last().unwrap()["details"]["provider"], "anthropic");
    let all_audit = d.get_auth("/audit", &t).await.text().await.unwrap();
    assert!(!all_audit.contains(KEY) && !all_audit.contains(BAD_KEY));

    // Locked: the key can be neither set nor used.
    assert_eq!(
        d.post_auth("/identity/lock", &t, json!({})).await.status(),
        204
    );
    assert_error(d.put_auth(&path, &t, put(KEY, None)).await, 403).await;
    assert_error(
        d.get_auth(&format!("/instances/{id}/models"), &t).await,
        403,
    )
    .await;

    // Kept across a restart, still sealed until the identity is unlocked.
    let d = d.restart().await;
    let t = d.login(PASSWORD).await;
    let inst = d.get_json(&format!("/instances/{id}"), &t).await;
    assert_eq!(inst["providers"][0]["key_set"], true);
    assert_eq!(inst["providers"][0]["key_hint"], "••••wxyz");
    assert_eq!(inst["auth"]["status"], "api_key");
    assert_error(
        d.get_auth(&format!("/instances/{id}/models"), &t).await,
        403,
    )
    .await;
    assert_eq!(
        d.post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
            .await
            .status(),
        200
    );
    let before = seen.lock().unwrap().len();
    let models = d.get_json(&format!("/instances/{id}/models"), &t).await;
    assert_eq!(models["models"].as_array().unwrap().len(), 2, "{models}");
    assert_eq!(seen.lock().unwrap().len(), before + 1);
    assert_eq!(seen.lock().unwrap().last().unwrap().0, KEY);

    // Drop it.
    assert_eq!(d.delete_auth(&path, &t).await.status(), 204);
    assert_eq!(d.delete_auth(&path, &t).await.status(), 204, "idempotent");
    assert_error(
        d.delete_auth(&format!("/instances/{id}/providers/google"), &t)
            .await,
        400,
    )
    .await;
    let inst = d.get_json(&format!("/instances/{id}"), &t).await;
    assert_eq!(inst["providers"][0]["key_set"], false);
    assert_eq!(inst["providers"][0]["key_hint"], Value::Null);
    assert_eq!(inst["auth"]["status"], "none");
    let dropped = audit(&d, &t, "agent_provider_key_dropped").await;
    assert_eq!(dropped.len(), 1, "only a key that was there is audited");
    assert_eq!(
        dropped[0]["details"],
        json!({"instance_id": id, "provider": "anthropic"})
    );

    // Never in the daemon's log.
    assert_not_logged(d.data_dir(), &[KEY, BAD_KEY]);
}

#[tokio::test]
async fn mcp_servers_are_added_listed_and_removed() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let c = create(&d, &t, "claude", "Tools").await;
    let id = c["id"].as_str().unwrap().to_owned();
    let mcp = format!("/instances/{id}/mcp");
    let stdio = json!({"name": "github", "command": "npx", "args": ["-y", "@example/server"],
                       "env": {"GITHUB_TOKEN": "ghp_secretvalue123456"}});

    // Its secrets are sealed: the identity must be there.
    assert_error(d.post_auth(&mcp, &t, stdio.clone()).await, 403).await;
    d.init_identity(&t).await;

    let resp = d.post_auth(&mcp, &t, stdio.clone()).await;
    assert_eq!(resp.status(), 201);
    let text = resp.text().await.unwrap();
    assert!(!text.contains("ghp_secretvalue123456"), "{text}");
    let s: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(s["name"], "github");
    assert_eq!(s["transport"], "stdio");
    assert_eq!(s["command"], "npx");
    assert_eq!(s["args"], json!(["-y", "@example/server"]));
    assert_eq!(s["env_keys"], json!(["GITHUB_TOKEN"]));
    assert_eq!(s["url"], Value::Null);
    assert_eq!(s["oauth"], json!({"token_set": false}));

    let http = json!({"name": "docs_search", "url": "https://mcp.example.com/mcp",
                      "headers": {"Authorization": "Bearer hdr-secret-0000"}});
    let resp = d.post_auth(&mcp, &t, http).await;
    assert_eq!(resp.status(), 201);
    let s: Value = resp.json().await.unwrap();
    assert_eq!(s["transport"], "http");
    assert_eq!(s["url"], "https://mcp.example.com/mcp");
    assert_eq!(s["command"], Value::Null);

    // Bad input, and a name taken.
    for body in [
        json!({"name": "both", "command": "npx", "url": "https://x.example/mcp"}),
        json!({"name": "neither"}),
        json!({"name": "bad name!", "command": "npx"}),
        json!({"name": "", "command": "npx"}),
        json!({"name": "holdfast", "command": "npx"}),
        json!({"name": "u", "url": "ftp://x.example"}),
        json!({"name": "h", "command": "npx", "headers": {"A": "b"}}),
        json!({"name": "e", "command": "npx", "env": {"A": 1}}),
        json!({"name": "f", "command": "npx", "color": "red"}),
    ] {
        assert_error(d.post_auth(&mcp, &t, body).await, 400).await;
    }
    assert_error(d.post_auth(&mcp, &t, stdio.clone()).await, 409).await;
    assert_error(
        d.post_auth(&format!("/instances/{UNKNOWN}/mcp"), &t, stdio.clone())
            .await,
        404,
    )
    .await;

    let list = d.get_json(&mcp, &t).await;
    let names: Vec<&str> = list["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["docs_search", "github"]);
    assert!(!list.to_string().contains("hdr-secret-0000"));
    assert_eq!(
        d.get_json(&format!("/instances/{id}"), &t).await["mcp_servers"],
        2
    );
    assert_error(
        d.get_auth(&format!("/instances/{UNKNOWN}/mcp"), &t).await,
        404,
    )
    .await;

    // OAuth: not offered; dropping a token is fine.
    assert_error(
        d.post_auth(&format!("{mcp}/github/oauth"), &t, json!({}))
            .await,
        501,
    )
    .await;
    assert_error(
        d.post_auth(&format!("{mcp}/nope/oauth"), &t, json!({}))
            .await,
        404,
    )
    .await;
    assert_eq!(
        d.delete_auth(&format!("{mcp}/github/oauth"), &t)
            .await
            .status(),
        204
    );
    assert_error(d.delete_auth(&format!("{mcp}/nope/oauth"), &t).await, 404).await;

    // Remove.
    assert_eq!(
        d.delete_auth(&format!("{mcp}/github"), &t).await.status(),
        204
    );
    assert_error(d.delete_auth(&format!("{mcp}/github"), &t).await, 404).await;
    assert_error(
        d.delete_auth(&format!("/instances/{UNKNOWN}/mcp/github"), &t)
            .await,
        404,
    )
    .await;
    assert_eq!(
        d.get_json(&mcp, &t).await["servers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let added = audit(&d, &t, "agent_mcp_server_added").await;
    assert_eq!(added.len(), 2);
    let removed = audit(&d, &t, "agent_mcp_server_removed").await;
    assert_eq!(
        removed[0]["details"],
        json!({"instance_id": id, "name": "github"})
    );
    assert_not_logged(d.data_dir(), &["ghp_secretvalue123456", "hdr-secret-0000"]);
}

#[tokio::test]
async fn workspaces_are_registered_and_unregistered() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let c = create(&d, &t, "claude", "Coder").await;
    let id = c["id"].as_str().unwrap().to_owned();
    let ws = format!("/instances/{id}/workspaces");
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(dir.path().join("file.txt"), b"x").unwrap();
    let app_path = std::fs::canonicalize(&app)
        .unwrap()
        .to_string_lossy()
        .into_owned();

    let resp = d.post_auth(&ws, &t, json!({"path": app_path})).await;
    assert_eq!(resp.status(), 201);
    let w: Value = resp.json().await.unwrap();
    assert_eq!(w["path"], app_path.as_str());
    assert_eq!(w["name"], "app");
    assert!(w["added_ms"].as_i64().unwrap() > 0);
    // The same folder, spelled differently, is the same workspace.
    let dotted = format!("{}/app/../app", dir.path().display());
    assert_error(d.post_auth(&ws, &t, json!({"path": dotted})).await, 409).await;
    assert_error(d.post_auth(&ws, &t, json!({"path": app_path})).await, 409).await;

    let missing = dir.path().join("missing").to_string_lossy().into_owned();
    let file = dir.path().join("file.txt").to_string_lossy().into_owned();
    for body in [
        json!({"path": "src/app"}),
        json!({"path": missing}),
        json!({"path": file}),
        json!({"path": ""}),
        json!({"path": format!("/{}", "a".repeat(5000))}),
        json!({"name": "x"}),
        json!({"path": app_path, "name": ""}),
    ] {
        assert_error(d.post_auth(&ws, &t, body).await, 400).await;
    }
    assert_error(
        d.post_auth(
            &format!("/instances/{UNKNOWN}/workspaces"),
            &t,
            json!({"path": app_path}),
        )
        .await,
        404,
    )
    .await;
    let named = d
        .post_auth(&ws, &t, json!({"path": dir.path(), "name": "Top"}))
        .await;
    assert_eq!(named.status(), 201);

    let inst = d.get_json(&format!("/instances/{id}"), &t).await;
    let mut names: Vec<&str> = inst["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Top", "app"]);

    // Unregister by body, then by query.
    let del = |body: Option<Value>, query: &str| {
        let mut req = d
            .http
            .delete(d.url(&format!("{ws}{query}")))
            .bearer_auth(&t);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    assert_eq!(
        del(Some(json!({"path": app_path})), "")
            .await
            .unwrap()
            .status(),
        204
    );
    assert_error(del(Some(json!({"path": app_path})), "").await.unwrap(), 404).await;
    d.post_auth(&ws, &t, json!({"path": app_path})).await;
    let q = format!("?path={}", app_path.replace('/', "%2F"));
    assert_eq!(del(None, &q).await.unwrap().status(), 204);
    assert_error(del(None, &q).await.unwrap(), 404).await;
    assert_error(del(None, "").await.unwrap(), 400).await;
    assert!(app.is_dir(), "the folder itself stays");
    let inst = d.get_json(&format!("/instances/{id}"), &t).await;
    assert_eq!(inst["workspaces"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn attachments_round_trip_search_answers_and_limits_hold() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let c = create(&d, &t, "claude", "Files").await;
    let id = c["id"].as_str().unwrap().to_owned();
    let upload = |name: &str, body: Vec<u8>| {
        d.http
            .post(d.url(&format!("/instances/{id}/attachments?name={name}")))
            .bearer_auth(&t)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
    };

    let bytes = crate::harness::pseudo_random(100_000, 7);
    let resp = upload("shot.png", bytes.clone()).await.unwrap();
    assert_eq!(resp.status(), 201);
    let a: Value = resp.json().await.unwrap();
    let aid = a["id"].as_str().unwrap();
    assert!(aid.starts_with("at_") && aid.len() == 35, "{aid}");
    assert_eq!(a["name"], "shot.png");
    assert_eq!(a["size"], 100_000);
    assert_eq!(a["mime"], "image/png");
    let stored = d
        .data_dir()
        .join("agents/instances")
        .join(&id)
        .join("attachments")
        .join(aid);
    assert_eq!(std::fs::read(stored).unwrap(), bytes);

    for (name, mime) in [
        ("notes.md", "text/markdown"),
        ("report.PDF", "application/pdf"),
        ("blob", "application/octet-stream"),
    ] {
        let a: Value = upload(name, b"hello".to_vec())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(a["mime"], mime, "{name}");
        assert_eq!(a["size"], 5);
    }

    // Just at the limit is fine; beyond it is 413.
    let limit = 20 * 1024 * 1024;
    let resp = upload("big.bin", vec![1u8; limit]).await.unwrap();
    assert_eq!(resp.status(), 201);
    let m = assert_error(upload("big.bin", vec![1u8; limit + 1]).await.unwrap(), 413).await;
    assert!(m.contains("20 MiB"), "{m}");

    assert_error(upload("a%2Fb.txt", b"x".to_vec()).await.unwrap(), 400).await;
    assert_error(upload("empty.txt", Vec::new()).await.unwrap(), 400).await;
    let no_name = d
        .http
        .post(d.url(&format!("/instances/{id}/attachments")))
        .bearer_auth(&t)
        .body(b"x".to_vec())
        .send()
        .await
        .unwrap();
    assert_error(no_name, 400).await;
    let unknown = d
        .http
        .post(d.url(&format!("/instances/{UNKNOWN}/attachments?name=a.txt")))
        .bearer_auth(&t)
        .body(b"x".to_vec())
        .send()
        .await
        .unwrap();
    assert_error(unknown, 404).await;

    // Search: no sessions yet, so nothing to find; bounds hold.
    let s = d
        .get_json(&format!("/instances/{id}/search?q=hello"), &t)
        .await;
    assert_eq!(s, json!({"results": []}));
    let s = d
        .get_json(&format!("/instances/{id}/search?q=%20&limit=5"), &t)
        .await;
    assert_eq!(s, json!({"results": []}));
    for q in [
        "".to_owned(),
        "?q=a&limit=0".to_owned(),
        "?q=a&limit=201".to_owned(),
        "?q=a&limit=x".to_owned(),
        format!("?q={}", "a".repeat(1001)),
    ] {
        assert_error(
            d.get_auth(&format!("/instances/{id}/search{q}"), &t).await,
            400,
        )
        .await;
    }
    assert_error(
        d.get_auth(&format!("/instances/{UNKNOWN}/search?q=a"), &t)
            .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn capabilities_find_the_agent_program_on_path() {
    let bin = tempfile::tempdir().unwrap();
    let claude = bin.path().join("claude");
    std::fs::write(
        &claude,
        "#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then echo '2.1.0 (Claude Code)'; exit 0; fi\nexit 1\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let d = TestDaemon::start_with_env(&[("PATH", &path)]).await;
    let t = d.owner_token().await;

    let caps = d.get_json("/capabilities", &t).await;
    let agents = caps["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 2);
    let c = &agents[0];
    assert_eq!(c["type"], "claude");
    assert_eq!(c["name"], "Claude Code");
    assert_eq!(c["installed"], true);
    assert_eq!(c["path"], claude.to_string_lossy().as_ref());
    assert_eq!(c["version"], "2.1.0");
    assert_eq!(
        c["install_hint"],
        "npm install -g @anthropic-ai/claude-code"
    );
    let o = &agents[1];
    assert_eq!(o["type"], "opencode");
    assert_eq!(o["name"], "OpenCode");
    assert_eq!(o["installed"], !o["path"].is_null());
    assert!(o["install_hint"].as_str().unwrap().contains("opencode"));

    let inst = create(&d, &t, "claude", "Found").await;
    let id = inst["id"].as_str().unwrap();
    assert_eq!(inst["available"], true);
    assert_eq!(
        inst["program"],
        json!({"path": claude.to_string_lossy(), "version": "2.1.0"})
    );

    // A login the agent keeps in its own config dir counts as signed in.
    let config = d
        .data_dir()
        .join("agents/instances")
        .join(id)
        .join("config");
    std::fs::write(config.join(".credentials.json"), b"{}").unwrap();
    let r: Value = d
        .post_auth(&format!("/instances/{id}/refresh-auth"), &t, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "oauth");
    assert_eq!(
        d.get_json(&format!("/instances/{id}"), &t).await["auth"]["status"],
        "oauth"
    );
}

#[tokio::test]
async fn search_finds_transcript_text_of_the_instance_only() {
    use crate::agents_support::{
        agent_node, claude_bin_dir, keyed_instance, stand_in, wait_status,
    };
    let Some(bin) = claude_bin_dir().await else {
        return;
    };
    let model = stand_in().await;
    let (d, t) = agent_node(&bin).await;
    let ws = tempfile::tempdir().unwrap();
    let id = keyed_instance(&d, &t, &model, KEY, ws.path()).await;
    let other = create(&d, &t, "claude", "Other").await;
    let r = d
        .post_auth(
            &format!("/instances/{id}/sessions"),
            &t,
            json!({"title": "Zoo", "prompt": "Say hello ZEBRA"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let s: Value = r.json().await.unwrap();
    let sid = s["id"].as_str().unwrap().to_owned();
    let s = wait_status(&d, &t, &sid, &["idle", "error"]).await;
    assert_eq!(s["status"], "idle", "{s}");

    let hits = d
        .get_json(&format!("/instances/{id}/search?q=zebr"), &t)
        .await;
    let hits = hits["results"].as_array().unwrap();
    assert!(hits.len() >= 2, "the turn and the answer: {hits:?}");
    for h in hits {
        assert_eq!(h["session_id"], sid.as_str());
        assert_eq!(h["session_title"], "Zoo");
        assert!(h["seq"].is_i64() && h["ts_ms"].as_i64().unwrap() > 0);
        assert!(h["snippet"].as_str().unwrap().contains("[ZEBRA]"), "{h}");
    }
    assert!(
        hits.iter()
            .any(|h| h["role"] == "user" && h["kind"] == "text")
    );
    assert!(hits.iter().any(|h| h["role"] == "assistant"));
    let one = d
        .get_json(&format!("/instances/{id}/search?q=zebra&limit=1"), &t)
        .await;
    assert_eq!(one["results"].as_array().unwrap().len(), 1);
    let none = d
        .get_json(&format!("/instances/{id}/search?q=giraffe"), &t)
        .await;
    assert_eq!(none, json!({"results": []}));
    // Another instance's search does not see this one's sessions.
    let elsewhere = d
        .get_json(
            &format!(
                "/instances/{}/search?q=zebra",
                other["id"].as_str().unwrap()
            ),
            &t,
        )
        .await;
    assert_eq!(elsewhere, json!({"results": []}));
}
