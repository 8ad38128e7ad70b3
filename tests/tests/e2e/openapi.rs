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
