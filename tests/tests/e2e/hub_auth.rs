//! Every route of the hub refuses the credentials its OpenAPI document does
//! not list: no credentials → 401 on any secured route; a device's JWT or
//! an API key → 401/403 on owner-only routes; the owner's bearer → 401/403
//! on device-only routes. The document's `security` is the contract (the
//! owner = the spec's Clerk JWT; device = device JWT, which an API key
//! stands in for); the groups' own tests cover what each credential can do.

use serde_json::{Value, json};

use crate::hub::Owner;
use crate::hub_agent::TestAgent;

/// (method, path, the security schemes it lists) for every operation.
fn operations(doc: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let schemes = op["security"]
                .as_array()
                .map(|reqs| {
                    reqs.iter()
                        .filter_map(|r| r.as_object())
                        .flat_map(|r| r.keys().cloned())
                        .collect()
                })
                .unwrap_or_default();
            out.push((method.clone(), path.clone(), schemes));
        }
    }
    out
}

#[tokio::test]
async fn every_hub_route_refuses_the_credentials_it_does_not_list() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), [31; 32], [32; 32]);
    o.enrol(&mut agent).await;
    let jwt = agent.jwt.clone().unwrap();
    let (code, key) = o
        .hub_call("POST", "/api/v1/api-keys", Some(json!({"name": "matrix"})))
        .await;
    assert_eq!(code, 201);
    let key = key["key"].as_str().unwrap().to_owned();
    let doc: Value =
        o.d.http
            .get(format!("{}/api/v1/openapi.json", o.hub()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();

    let mut checked = 0;
    for (method, path, schemes) in operations(&doc) {
        // The socket authenticates in its query; it has its own tests.
        if schemes.is_empty() || path == "/api/v1/ws" {
            continue;
        }
        let mut concrete = String::new();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            concrete.push('/');
            if seg.starts_with('{') {
                concrete.push_str("2b0e2a5c-3a43-4d6e-9f35-6a2f5c1d7e90");
            } else {
                concrete.push_str(seg);
            }
        }
        let owner_ok = schemes.iter().any(|s| s == "owner");
        let device_ok = schemes.iter().any(|s| s == "device" || s == "api_key");
        let owner_bearer = format!("Bearer {}", o.token);
        let device_bearer = format!("Bearer {jwt}");
        let mut cases: Vec<(&str, Vec<(&str, &str)>)> = vec![("no credentials", vec![])];
        if !device_ok {
            cases.push(("a device JWT", vec![("Authorization", &device_bearer)]));
            cases.push(("an API key", vec![("X-API-Key", &key)]));
        }
        if !owner_ok {
            cases.push(("the owner's bearer", vec![("Authorization", &owner_bearer)]));
        }
        for (what, headers) in cases {
            let mut req = o.d.http.request(
                method.to_uppercase().parse().unwrap(),
                format!("{}{concrete}", o.hub()),
            );
            for (k, v) in &headers {
                req = req.header(*k, *v);
            }
            if method != "get" && method != "delete" {
                req = req.json(&json!({}));
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            let want: &[u16] = if what == "no credentials" {
                &[401]
            } else {
                &[401, 403]
            };
            assert!(
                want.contains(&status),
                "{} {path} with {what} answered {status} {body} (security {schemes:?})",
                method.to_uppercase()
            );
            assert!(body["detail"].is_string(), "{method} {path}: {body}");
            checked += 1;
        }
    }
    eprintln!("{checked} refusals checked");
    assert!(checked > 40, "only {checked} refusals checked");
}
