//! The OpenAPI document covers every route the router serves.

use serde_json::Value;

use crate::harness::TestDaemon;

/// Every route of the REST router, as (method, path template).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/version"),
    ("get", "/api/v1/whoami"),
    ("get", "/api/v1/system/status"),
    ("get", "/api/v1/system/metrics"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/auth/bootstrap-exchange"),
    ("post", "/api/v1/auth/admin/set-password"),
    ("post", "/api/v1/auth/admin/bootstrap-ticket"),
    ("get", "/api/v1/identity"),
    ("post", "/api/v1/identity/init"),
    ("post", "/api/v1/identity/unlock"),
    ("post", "/api/v1/identity/lock"),
    ("post", "/api/v1/identity/recover"),
    ("post", "/api/v1/identity/passphrase"),
    ("put", "/api/v1/identity/profile"),
    ("get", "/api/v1/apps"),
    ("post", "/api/v1/apps"),
    ("patch", "/api/v1/apps/{client_id}"),
    ("delete", "/api/v1/apps/{client_id}"),
    ("get", "/api/v1/links"),
    ("delete", "/api/v1/links/{id}"),
    ("get", "/api/v1/grants"),
    ("delete", "/api/v1/grants/{id}"),
    ("get", "/api/v1/approvals"),
    ("post", "/api/v1/approvals/{id}"),
    ("get", "/api/v1/backups/export"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/audit/export"),
    ("get", "/api/v1/events/stream"),
    ("get", "/api/v1/vaults"),
    ("post", "/api/v1/vaults"),
    ("get", "/api/v1/vaults/{vault_id}"),
    ("patch", "/api/v1/vaults/{vault_id}"),
    ("delete", "/api/v1/vaults/{vault_id}"),
    ("get", "/api/v1/vaults/{vault_id}/files"),
    ("get", "/api/v1/vaults/{vault_id}/files/{path}"),
    ("delete", "/api/v1/vaults/{vault_id}/files/{path}"),
    ("post", "/api/v1/vaults/{vault_id}/upload/{path}"),
    ("get", "/api/v1/vaults/{vault_id}/download/{path}"),
    ("get", "/api/v1/vaults/{vault_id}/stream/{path}"),
    ("get", "/api/v1/vaults/{vault_id}/history/{path}"),
    ("post", "/api/v1/vaults/{vault_id}/restore/{path}"),
    ("post", "/api/v1/vaults/{vault_id}/move/{path}"),
    ("get", "/api/v1/vaults/{vault_id}/version/{path}"),
    ("get", "/api/v1/vaults/{vault_id}/info/{path}"),
    ("get", "/api/v1/vaults/{vault_id}/locality/{path}"),
    ("post", "/api/v1/vaults/{vault_id}/cache/{path}"),
    ("post", "/api/v1/vaults/{vault_id}/resolve-conflict/{path}"),
    ("get", "/api/v1/vaults/{vault_id}/video-meta/{path}"),
    ("put", "/api/v1/vaults/{vault_id}/video-meta/{path}"),
    (
        "post",
        "/api/v1/vaults/{vault_id}/refingerprint-video/{path}",
    ),
    ("post", "/api/v1/vaults/{vault_id}/video-play-event/{path}"),
    ("get", "/api/v1/vaults/{vault_id}/video-tracks/{path}"),
    ("post", "/api/v1/vaults/{vault_id}/rescan-tracks/{path}"),
    ("get", "/api/v1/vaults/{vault_id}/subtitle/{path}"),
    ("get", "/api/v1/vaults/{vault_id}/info"),
    ("get", "/api/v1/vaults/{vault_id}/analytics"),
    ("get", "/api/v1/vaults/{vault_id}/scan-status"),
    ("post", "/api/v1/vaults/{vault_id}/lock"),
    ("post", "/api/v1/vaults/unlock"),
    ("put", "/api/v1/vaults/{vault_id}/s3-alias"),
    ("get", "/api/v1/vaults/{vault_id}/share-url"),
    ("post", "/api/v1/vaults/join"),
    ("post", "/api/v1/replicate-now"),
    ("get", "/api/v1/networks"),
    ("post", "/api/v1/networks"),
    ("post", "/api/v1/networks/create"),
    ("delete", "/api/v1/networks/{id}"),
    ("post", "/api/v1/networks/{id}/connect"),
    ("post", "/api/v1/networks/disconnect"),
    ("get", "/api/v1/networks/{id}/invite"),
    ("get", "/api/v1/networks/{id}/invites"),
    ("delete", "/api/v1/networks/{id}/invites/{invite_id}"),
    ("get", "/api/v1/networks/{id}/key"),
    ("post", "/api/v1/networks/{id}/peers"),
    ("put", "/api/v1/networks/{id}/bootstrap"),
    ("put", "/api/v1/networks/{id}/bootstrap-invite"),
    ("post", "/api/v1/networks/{id}/swarm-key"),
    ("post", "/api/v1/system/setup"),
    ("get", "/api/v1/system/share"),
    ("get", "/api/v1/system/share-node"),
    ("get", "/api/v1/system/nat"),
    ("get", "/api/v1/nodes"),
    ("get", "/api/v1/nodes/self"),
    ("get", "/api/v1/nodes/{node_id}"),
    ("get", "/api/v1/network/topology"),
    ("post", "/api/v1/network/speedtest/{peer_id}"),
    ("get", "/api/v1/network/speedtest/{peer_id}/history"),
    ("get", "/api/v1/stats/throughput"),
    ("post", "/api/v1/system/gc"),
    ("get", "/api/v1/system/browse"),
    ("post", "/api/v1/diagnostics/reports"),
    ("get", "/api/v1/diagnostics/reports"),
    ("get", "/api/v1/diagnostics/reports/{id}"),
    ("delete", "/api/v1/diagnostics/reports/{id}"),
    ("get", "/api/v1/profile"),
    ("put", "/api/v1/profile"),
    ("post", "/api/v1/profile/push-test"),
    ("get", "/api/v1/contacts"),
    ("post", "/api/v1/contacts"),
    ("get", "/api/v1/contacts/{node_id}"),
    ("put", "/api/v1/contacts/{node_id}"),
    ("delete", "/api/v1/contacts/{node_id}"),
    ("get", "/api/v1/s3/keys"),
    ("post", "/api/v1/s3/keys"),
    ("delete", "/api/v1/s3/keys/{key_id}"),
    ("get", "/api/v1/s3/permissions"),
    ("put", "/api/v1/s3/permissions"),
    ("delete", "/api/v1/s3/permissions"),
    ("get", "/api/v1/s3/buckets"),
    ("get", "/api/v1/s3/listener"),
    ("put", "/api/v1/s3/listener"),
    ("get", "/api/v1/agents"),
    ("get", "/api/v1/agents/{device_id}/messages"),
    ("post", "/api/v1/agents/{device_id}/messages"),
    ("get", "/api/v1/agents/invites"),
    ("post", "/api/v1/agents/invites"),
    ("post", "/api/v1/agents/rooms/{id}/messages"),
    ("get", "/api/v1/agents/rooms/{id}/messages"),
    ("post", "/api/v1/agents/invites/{id}/revoke"),
    ("post", "/api/v1/agents/{device_id}/approve"),
    ("post", "/api/v1/agents/{device_id}/revoke"),
    ("get", "/api/v1/settings"),
    ("put", "/api/v1/settings"),
    ("get", "/api/v1/instances/{id}/sessions"),
    ("post", "/api/v1/instances/{id}/sessions"),
    ("get", "/api/v1/sessions/{sid}"),
    ("delete", "/api/v1/sessions/{sid}"),
    ("get", "/api/v1/sessions/{sid}/transcript"),
    ("get", "/api/v1/sessions/{sid}/events"),
    ("get", "/api/v1/sessions/{sid}/files"),
    ("post", "/api/v1/sessions/{sid}/messages"),
    ("post", "/api/v1/sessions/{sid}/stop"),
    ("post", "/api/v1/sessions/{sid}/archive"),
    ("post", "/api/v1/sessions/{sid}/unarchive"),
    ("post", "/api/v1/sessions/{sid}/resume"),
    ("post", "/api/v1/sessions/{sid}/fork"),
    ("patch", "/api/v1/sessions/{sid}/settings"),
    ("get", "/api/v1/sessions/{sid}/approvals"),
    ("post", "/api/v1/sessions/{sid}/approvals/{aid}"),
    ("post", "/api/v1/sessions/{sid}/questions/{qid}/reply"),
    ("post", "/api/v1/sessions/{sid}/questions/{qid}/reject"),
    ("post", "/api/v1/_mcp/sessions/{sid}/approve"),
    ("get", "/api/v1/vaults/{vault_id}/meta/{path}"),
    ("put", "/api/v1/vaults/{vault_id}/meta/{path}"),
    ("post", "/api/v1/vaults/{vault_id}/refingerprint/{path}"),
    ("post", "/api/v1/vaults/{vault_id}/refresh-folder"),
    ("post", "/api/v1/vaults/{vault_id}/refresh-folder/{path}"),
    ("post", "/api/v1/vaults/{vault_id}/refingerprint-folder"),
    (
        "post",
        "/api/v1/vaults/{vault_id}/refingerprint-folder/{path}",
    ),
    ("post", "/api/v1/vaults/{vault_id}/audio/rescan"),
    ("get", "/api/v1/vaults/{vault_id}/audio/rescan/status"),
    ("get", "/api/v1/vaults/{vault_id}/cover/{hash}"),
    ("get", "/api/v1/library/artists"),
    ("get", "/api/v1/library/artists/{name}"),
    ("get", "/api/v1/library/albums"),
    ("get", "/api/v1/library/albums/{key}"),
    ("get", "/api/v1/library/songs"),
    ("get", "/api/v1/library/genres"),
    ("get", "/api/v1/library/search"),
    ("get", "/api/v1/library/prefs/{vault_id}/{file_id}"),
    ("put", "/api/v1/library/prefs/{vault_id}/{file_id}"),
    ("post", "/api/v1/play-events"),
    ("post", "/api/v1/library/radio"),
    ("get", "/api/v1/instances/{id}/share-url"),
    ("post", "/api/v1/instances/{id}/reset-key"),
    ("post", "/api/v1/instances/remote"),
    ("get", "/api/v1/capabilities"),
    ("get", "/api/v1/instances"),
    ("post", "/api/v1/instances"),
    ("get", "/api/v1/instances/{id}"),
    ("patch", "/api/v1/instances/{id}"),
    ("delete", "/api/v1/instances/{id}"),
    ("post", "/api/v1/instances/{id}/refresh-auth"),
    ("post", "/api/v1/instances/{id}/auth-login"),
    ("get", "/api/v1/instances/{id}/auth-methods"),
    ("get", "/api/v1/instances/{id}/providers"),
    ("put", "/api/v1/instances/{id}/providers/{provider}"),
    ("delete", "/api/v1/instances/{id}/providers/{provider}"),
    (
        "post",
        "/api/v1/instances/{id}/providers/{provider}/oauth/authorize",
    ),
    (
        "post",
        "/api/v1/instances/{id}/providers/{provider}/oauth/callback",
    ),
    ("get", "/api/v1/instances/{id}/models"),
    ("get", "/api/v1/instances/{id}/mcp"),
    ("post", "/api/v1/instances/{id}/mcp"),
    ("delete", "/api/v1/instances/{id}/mcp/{name}"),
    ("post", "/api/v1/instances/{id}/mcp/{name}/oauth"),
    ("delete", "/api/v1/instances/{id}/mcp/{name}/oauth"),
    ("post", "/api/v1/instances/{id}/workspaces"),
    ("delete", "/api/v1/instances/{id}/workspaces"),
    ("get", "/api/v1/instances/{id}/search"),
    ("post", "/api/v1/instances/{id}/attachments"),
];

/// Every route of the agent hub's router.
const HUB_ROUTES: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/ws"),
    ("post", "/api/v1/tenants"),
    ("post", "/api/v1/api-keys"),
    ("post", "/api/v1/agent-history-recovery/verify"),
    ("put", "/api/v1/agent-history-backups"),
    ("post", "/api/v1/agent-history-backups/restore"),
    ("put", "/api/v1/devices/{id}/history-recovery"),
    ("get", "/api/v1/api-keys"),
    ("post", "/api/v1/api-keys/{id}/revoke"),
    ("post", "/api/v1/api-keys/{id}/rotate"),
    ("delete", "/api/v1/api-keys/{id}"),
    ("get", "/api/v1/topics"),
    ("post", "/api/v1/topics"),
    ("patch", "/api/v1/topics/{id}"),
    ("post", "/api/v1/topics/{id}/archive"),
    ("get", "/api/v1/tenants"),
    ("post", "/api/v1/invites"),
    ("get", "/api/v1/invites"),
    ("post", "/api/v1/invites/{id}/revoke"),
    ("delete", "/api/v1/invites/{id}"),
    ("post", "/api/v1/enroll"),
    ("get", "/api/v1/devices"),
    ("get", "/api/v1/devices/{id}/status"),
    ("post", "/api/v1/devices/{id}/activate"),
    ("post", "/api/v1/devices/{id}/health"),
    ("get", "/api/v1/devices/{id}/presence"),
    ("get", "/api/v1/devices/{id}/keys"),
    ("get", "/api/v1/devices/{id}/messages"),
    ("get", "/api/v1/devices/{id}/pending"),
    ("patch", "/api/v1/devices/{id}/approve"),
    ("patch", "/api/v1/devices/{id}/revoke"),
    ("patch", "/api/v1/devices/{id}"),
    ("delete", "/api/v1/devices/{id}"),
    ("patch", "/api/v1/devices/{id}/webhook"),
    ("patch", "/api/v1/devices/self/webhook"),
    ("delete", "/api/v1/devices/{id}/remove"),
    ("post", "/api/v1/devices/register"),
    ("post", "/api/v1/devices/{id}/relink"),
    ("post", "/api/v1/auth/reissue"),
    ("get", "/api/v1/conversations"),
    ("get", "/api/v1/conversations/{id}/messages"),
    ("post", "/api/v1/conversations/{id}/messages"),
    ("get", "/api/v1/conversations/{id}/keys"),
    ("post", "/api/v1/mls/key-packages"),
    ("get", "/api/v1/mls/key-packages/count"),
    ("get", "/api/v1/mls/key-packages/batch"),
    ("get", "/api/v1/mls/delivery"),
    ("post", "/api/v1/mls/delivery/ack"),
    ("post", "/api/v1/mls/delivery/nack"),
    ("get", "/api/v1/mls/groups/{group_id}"),
    ("get", "/api/v1/mls/groups/{group_id}/sync"),
    ("post", "/api/v1/mls/groups/{group_id}/request-welcome"),
    ("get", "/api/v1/mls/groups/{group_id}/pending-welcomes"),
    ("post", "/api/v1/mls/groups/{group_id}/fulfill-welcome"),
    ("get", "/api/v1/rooms"),
    ("post", "/api/v1/rooms"),
    ("get", "/api/v1/rooms/{id}"),
    ("patch", "/api/v1/rooms/{id}"),
    ("post", "/api/v1/rooms/{id}/members"),
    ("delete", "/api/v1/rooms/{id}/members/{device_id}"),
    ("post", "/api/v1/rooms/{id}/messages"),
    ("get", "/api/v1/rooms/{id}/messages"),
    ("post", "/api/v1/policies"),
    ("get", "/api/v1/policies"),
    ("patch", "/api/v1/policies/{id}"),
    ("delete", "/api/v1/policies/{id}"),
    ("get", "/api/v1/policies/held-messages"),
    ("post", "/api/v1/policies/held-messages/{id}/approve"),
    ("post", "/api/v1/policies/held-messages/{id}/deny"),
    ("get", "/api/v1/a2a/channels"),
    ("get", "/api/v1/hub/identities"),
    // Hub identities, A2A channels, federation.
    ("post", "/api/v1/hub/identities"),
    ("get", "/api/v1/hub/identities/{id}"),
    ("post", "/api/v1/hub/identities/{id}/certify"),
    ("get", "/api/v1/hub/resolve/{address}"),
    ("get", "/api/v1/hub/search"),
    ("post", "/api/v1/a2a/channels"),
    ("post", "/api/v1/a2a/channels/request"),
    ("post", "/api/v1/a2a/channels/{id}/approve"),
    ("post", "/api/v1/a2a/channels/{id}/invite"),
    ("get", "/api/v1/a2a/channels/{id}/participants"),
    ("get", "/api/v1/mls/a2a/{channel_id}/group"),
    ("post", "/api/v1/mls/a2a/{channel_id}/init"),
    ("post", "/api/v1/federation/agreements"),
    ("get", "/api/v1/federation/agreements"),
    ("post", "/api/v1/federation/agreements/{id}/accept"),
    ("post", "/api/v1/federation/offers"),
    ("post", "/api/v1/federation/agreements/{id}/accepted"),
    ("get", "/api/v1/federation/resolve/{name}"),
    ("post", "/api/v1/federation/channels"),
    ("post", "/api/v1/federation/relay"),
    ("get", "/api/v1/federation/key-packages/{device_id}"),
    ("post", "/api/v1/telemetry/ingest"),
    ("post", "/api/v1/attachments/upload"),
    ("get", "/api/v1/attachments/{blob_id}"),
    ("post", "/api/v1/push/register"),
    ("post", "/api/v1/push/test"),
    ("get", "/api/v1/telemetry/{hub_id}"),
    ("get", "/api/v1/telemetry/{hub_id}/summary"),
    ("get", "/api/v1/dashboard/activity"),
    ("get", "/api/v1/audit/events"),
    ("post", "/api/v1/decisions"),
    ("get", "/api/v1/decisions"),
    ("get", "/api/v1/decisions/{id}"),
    ("post", "/api/v1/decisions/{id}/resolve"),
    ("get", "/api/v1/workspaces"),
    ("post", "/api/v1/workspaces"),
    ("get", "/api/v1/team-rooms"),
    ("post", "/api/v1/team-rooms"),
    ("get", "/api/v1/trust-scores/{hub_id}"),
    ("get", "/api/v1/trust-scores/{hub_id}/history"),
    ("get", "/api/v1/scan-rules"),
    ("get", "/api/v1/marketplace/listings"),
    ("post", "/api/v1/marketplace/listings"),
    ("get", "/api/v1/marketplace/listings/{id}"),
    ("patch", "/api/v1/marketplace/listings/{id}"),
    ("post", "/api/v1/marketplace/listings/{id}/publish"),
    ("post", "/api/v1/marketplace/listings/{id}/pause"),
    ("post", "/api/v1/marketplace/listings/{id}/delist"),
    ("get", "/api/v1/settings"),
    ("patch", "/api/v1/settings"),
    ("get", "/api/v1/legal/terms"),
    ("get", "/api/v1/billing/plans"),
    ("get", "/api/v1/capabilities"),
];

async fn document(d: &TestDaemon) -> Value {
    let resp = d.get("/openapi.json").await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_is_served() {
    let d = TestDaemon::start().await;
    let doc = document(&d).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();

    let mut documented = Vec::new();
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.push((method.clone(), path.clone()));
            }
        }
    }
    for (method, path) in ROUTES {
        assert!(
            documented.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is served but missing from openapi.json"
        );
    }
    assert_eq!(documented.len(), ROUTES.len(), "documented: {documented:?}");

    // Each documented operation reaches a handler: never the router's own
    // "no route" 404 or 405.
    for (method, path) in &documented {
        let url = format!("{}{}", d.base, path.replace('{', "x").replace('}', ""));
        let req = match method.as_str() {
            "get" => d.http.get(&url),
            "post" => d.http.post(&url),
            "put" => d.http.put(&url),
            "patch" => d.http.patch(&url),
            _ => d.http.delete(&url),
        };
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body = if status == 200 {
            String::new()
        } else {
            resp.text().await.unwrap()
        };
        assert_ne!(status, 405, "{method} {path}: {body}");
        assert!(!body.contains("no route for"), "{method} {path}: {body}");
    }
}

#[tokio::test]
async fn protected_routes_declare_bearer_security() {
    let d = TestDaemon::start().await;
    let doc = document(&d).await;
    for path in ["/api/v1/whoami", "/api/v1/system/metrics"] {
        let sec = &doc["paths"][path]["get"]["security"];
        assert!(sec.to_string().contains("bearer"), "{path}: {sec}");
    }
    assert!(doc["components"]["securitySchemes"]["admin_token"].is_object());
}

fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                out.push((method.clone(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_hub_documents_every_route_and_serves_every_documented_one() {
    let d = TestDaemon::start().await;
    let hub = d.hub.clone().expect("the hub runs");
    let resp = d
        .http
        .get(format!("{hub}/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.unwrap();
    let documented = operations(&doc);
    for (method, path) in HUB_ROUTES {
        assert!(
            documented.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is served but missing from the hub's openapi.json"
        );
    }
    assert_eq!(
        documented.len(),
        HUB_ROUTES.len(),
        "documented: {documented:?}"
    );
    for (method, path) in &documented {
        let url = format!("{hub}{}", path.replace('{', "x").replace('}', ""));
        let resp = d
            .http
            .request(method.to_uppercase().parse().unwrap(), &url)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        assert_ne!(status, 405, "{method} {path}: {body}");
        assert_ne!(body, r#"{"detail":"Not Found"}"#, "{method} {path}");
    }
}
