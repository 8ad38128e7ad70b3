//! The agent hub's operational groups, end to end with real MLS agents:
//! attachments (ciphertext into the block store, deduplicated, bounded, read
//! only by those who may), push tokens (stored; delivery honestly
//! unavailable), decisions (asked by an agent, answered in the one approvals
//! queue or on the hub, told to the agent), telemetry queries and summary,
//! the dashboard's activity and the hub's audit events; each with its error
//! statuses, the auth kinds it accepts and refuses, and tenant isolation.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{TestDaemon, eventually, loopback_config};
use crate::hub::Owner;
use crate::hub_agent::TestAgent;

/// Attachments at most 300 kB each, 700 kB a tenant.
const MAX: usize = 300_000;
const QUOTA: usize = 700_000;

async fn owner_with_limits() -> Owner {
    let config = format!(
        "{}hub:\n  bind: 127.0.0.1:0\n  attachment_max_bytes: {MAX}\n  attachment_quota_bytes: {QUOTA}\n",
        loopback_config()
    );
    let d = TestDaemon::start_with_config(&config).await;
    let token = d.owner_token().await;
    d.init_identity(&token).await;
    Owner { d, token }
}

/// Bytes that look like ciphertext (no dedup within them).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A hub request with any auth: `bearer` (owner token or device JWT),
/// `tenant` (X-Tenant-Id), or neither.
async fn call(
    o: &Owner,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    tenant: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req =
        o.d.http
            .request(method.parse().unwrap(), format!("{}{path}", o.hub()));
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    if let Some(t) = tenant {
        req = req.header("X-Tenant-Id", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn upload(o: &Owner, bearer: &str, bytes: Vec<u8>) -> (u16, Value) {
    let resp =
        o.d.http
            .post(format!("{}/api/v1/attachments/upload", o.hub()))
            .bearer_auth(bearer)
            .header("Content-Type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn download(o: &Owner, bearer: &str, path: &str) -> (u16, Vec<u8>, String) {
    let resp =
        o.d.http
            .get(format!("{}{path}", o.hub()))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, resp.bytes().await.unwrap().to_vec(), ct)
}

fn detail(v: &Value) -> &str {
    v["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("no detail in {v}"))
}

fn block_files(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for a in std::fs::read_dir(dir).unwrap() {
        let a = a.unwrap();
        if a.file_name() == "tmp" || !a.file_type().unwrap().is_dir() {
            continue;
        }
        for b in std::fs::read_dir(a.path()).unwrap() {
            n += std::fs::read_dir(b.unwrap().path()).unwrap().count();
        }
    }
    n
}

/// A second tenant with an invite token in it.
async fn second_tenant(o: &Owner) -> (String, String) {
    let (s, t) = call(
        o,
        "POST",
        "/api/v1/tenants",
        Some(&o.token),
        None,
        Some(json!({"name": "Other"})),
    )
    .await;
    assert_eq!(s, 201, "{t}");
    let tenant = t["id"].as_str().unwrap().to_owned();
    let (s, inv) = call(
        o,
        "POST",
        "/api/v1/invites",
        Some(&o.token),
        Some(&tenant),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 201, "{inv}");
    (tenant, inv["token"].as_str().unwrap().to_owned())
}

async fn agent(o: &Owner, seed: u8) -> TestAgent {
    let mut a = TestAgent::new(&o.hub(), [seed; 32], [seed.wrapping_add(100); 32]);
    o.enrol(&mut a).await;
    a
}

async fn wait_conversation(o: &Owner, a: &TestAgent) {
    let id = a.device_id.clone().unwrap();
    eventually("the agent's 1:1 conversation", || async {
        let (_, list) = o.hub_call("GET", "/api/v1/conversations", None).await;
        list.as_array()?
            .iter()
            .any(|c| c.to_string().contains(&id))
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn attachments_are_stored_once_bounded_and_read_only_by_those_who_may() {
    let o = owner_with_limits().await;
    let mut a = agent(&o, 11).await;
    let b = agent(&o, 12).await;
    wait_conversation(&o, &a).await;
    wait_conversation(&o, &b).await;
    let (a_jwt, b_jwt) = (a.jwt.clone().unwrap(), b.jwt.clone().unwrap());
    let blocks_dir = o.d.data_dir().join("blocks");

    // An agent uploads ciphertext (raw body); the answer names the blob.
    let bytes = noise(280_000, 1);
    let before = block_files(&blocks_dir);
    let (s, up) = upload(&o, &a_jwt, bytes.clone()).await;
    assert_eq!(s, 201, "{up}");
    let blob = up["blob_id"].as_str().unwrap().to_owned();
    assert!(
        blob.len() == 36
            && blob
                .bytes()
                .all(|b| b == b'-' || b.is_ascii_digit() || b.is_ascii_lowercase()),
        "{blob}"
    );
    assert_eq!(up["blob_url"], format!("/api/v1/attachments/{blob}"));
    assert_eq!(up["size"], 280_000);
    assert_eq!(
        up["content_hash"],
        blake3::hash(&bytes).to_hex().to_string()
    );
    let after_one = block_files(&blocks_dir);
    assert!(after_one > before);

    // The same bytes again: a new blob, no new block.
    let (s, again) = upload(&o, &a_jwt, bytes.clone()).await;
    assert_eq!(s, 201, "{again}");
    assert_ne!(again["blob_id"], up["blob_id"]);
    assert_eq!(block_files(&blocks_dir), after_one);

    // The uploader reads it back, with its own device_id (§8.4): raw bytes.
    let me = a.device_id.clone().unwrap();
    let (s, got, ct) = download(
        &o,
        &a_jwt,
        &format!("/api/v1/attachments/{blob}?device_id={me}"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(ct, "application/octet-stream");
    assert_eq!(got, bytes);
    // The owner reads it (both listeners: the hub and the web UI's path).
    let (s, got, _) = download(&o, &o.token, &format!("/api/v1/attachments/{blob}")).await;
    assert_eq!((s, got.len()), (200, bytes.len()));
    let resp =
        o.d.get_auth(&format!("/agent-hub/attachments/{blob}"), &o.token)
            .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), bytes);

    // Another device's id in the query → 403; an agent with no
    // conversation with the uploader → 403; unknown or malformed ids → 404.
    let other = b.device_id.clone().unwrap();
    let (s, _, _) = download(
        &o,
        &a_jwt,
        &format!("/api/v1/attachments/{blob}?device_id={other}"),
    )
    .await;
    assert_eq!(s, 403);
    let (s, body, _) = download(&o, &b_jwt, &format!("/api/v1/attachments/{blob}")).await;
    assert_eq!(s, 403, "{}", String::from_utf8_lossy(&body));
    let missing = "00000000-0000-4000-8000-000000000000";
    for id in [missing, "not-a-uuid"] {
        let (s, body, _) = download(&o, &o.token, &format!("/api/v1/attachments/{id}")).await;
        assert_eq!(s, 404);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(detail(&v), "Attachment not found");
    }

    // The owner uploads (multipart, as a browser would): both agents in a
    // conversation with the owner may read it.
    let small = noise(5000, 2);
    let mut form = b"--b0undary\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nchat\r\n--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"note.enc\"\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
    form.extend_from_slice(&small);
    form.extend_from_slice(b"\r\n--b0undary--\r\n");
    let resp =
        o.d.http
            .post(format!("{}/api/v1/attachments/upload", o.hub()))
            .bearer_auth(&o.token)
            .header("Content-Type", "multipart/form-data; boundary=b0undary")
            .body(form)
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 201);
    let owned: Value = resp.json().await.unwrap();
    assert_eq!(owned["size"], 5000);
    assert_eq!(owned["file_name"], "note.enc");
    for jwt in [&a_jwt, &b_jwt] {
        let (s, got, _) = download(
            &o,
            jwt,
            &format!("/api/v1/attachments/{}", owned["blob_id"].as_str().unwrap()),
        )
        .await;
        assert_eq!((s, got), (200, small.clone()));
    }

    // Limits: empty → 400; one byte over the size limit → 413; past the
    // tenant's quota → 413 saying so.
    let (s, v) = upload(&o, &a_jwt, Vec::new()).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = upload(&o, &a_jwt, noise(MAX + 70_000, 3)).await;
    assert_eq!(s, 413, "{v}");
    assert!(detail(&v).contains("at most"), "{v}");
    let (s, v) = upload(&o, &a_jwt, noise(MAX, 4)).await;
    assert_eq!(s, 413, "{v}");
    assert!(detail(&v).contains("quota"), "{v}");
    // A multipart body whose file part is missing → 400.
    let resp = o
        .d
        .http
        .post(format!("{}/api/v1/attachments/upload", o.hub()))
        .bearer_auth(&a_jwt)
        .header("Content-Type", "multipart/form-data; boundary=zz")
        .body("--zz\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nchat\r\n--zz--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // Auth: none or a bad token → 401; a revoked device → 403.
    let resp =
        o.d.http
            .post(format!("{}/api/v1/attachments/upload", o.hub()))
            .body(vec![1u8; 10])
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 401);
    let (s, _, _) = download(&o, "garbage", &format!("/api/v1/attachments/{blob}")).await;
    assert_eq!(s, 401);
    let (s, _) = o
        .hub_call("PATCH", &format!("/api/v1/devices/{other}/revoke"), None)
        .await;
    assert_eq!(s, 200);
    let (s, _, _) = download(
        &o,
        &b_jwt,
        &format!("/api/v1/attachments/{}", owned["blob_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(s, 403);

    // Garbage collection keeps attachment blocks.
    let resp = o.d.post_auth("/system/gc", &o.token, json!({})).await;
    if resp.status() == 200 {
        let (s, got, _) = download(&o, &a_jwt, &format!("/api/v1/attachments/{blob}")).await;
        assert_eq!((s, got), (200, bytes));
    }
    a.disconnect().await;
}

#[tokio::test]
async fn push_tokens_are_stored_but_never_pretend_to_deliver() {
    let o = Owner::start().await;
    let (s, v) = o.hub_call("POST", "/api/v1/push/test", None).await;
    assert_eq!(s, 409, "{v}");
    let tok = "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]";
    let (s, v) = o
        .hub_call(
            "POST",
            "/api/v1/push/register",
            Some(json!({"token": tok, "platform": "ios"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["delivery"], "unavailable");
    assert_eq!(v["token"], tok);
    assert!(detail(&v).contains("No push service"));
    // The same token again refreshes it.
    let (s, again) = o
        .hub_call(
            "POST",
            "/api/v1/push/register",
            Some(json!({"push_token": tok, "platform": "android"})),
        )
        .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["id"], v["id"]);
    assert_eq!(again["platform"], "android");
    // Sending answers 503: no push service, never a pretended success.
    let (s, v) = o.hub_call("POST", "/api/v1/push/test", None).await;
    assert_eq!(s, 503, "{v}");
    assert!(detail(&v).contains("No push service"));

    for bad in [
        json!({}),
        json!({"token": "hello"}),
        json!({"token": "ExponentPushToken[]"}),
        json!({"token": format!("ExponentPushToken[{}]", "a".repeat(300))}),
        json!({"token": tok, "platform": "symbian"}),
        json!({"token": 5}),
    ] {
        let (s, v) = o
            .hub_call("POST", "/api/v1/push/register", Some(bad.clone()))
            .await;
        assert_eq!(s, 400, "{bad} → {v}");
        detail(&v);
    }
    let (s, v) = o
        .hub_call(
            "POST",
            "/api/v1/push/register",
            Some(json!({"token": tok, "device_id": "00000000-0000-4000-8000-000000000000"})),
        )
        .await;
    assert_eq!(s, 404, "{v}");

    // Owner only: an agent's JWT and no token are refused.
    let a = agent(&o, 21).await;
    let (s, _) = a.post("/api/v1/push/register", json!({"token": tok})).await;
    assert_eq!(s, 401);
    let (s, _) = call(
        &o,
        "POST",
        "/api/v1/push/register",
        None,
        None,
        Some(json!({"token": tok})),
    )
    .await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn decisions_go_through_the_one_queue_and_reach_the_asking_agent() {
    let o = Owner::start().await;
    let mut a = agent(&o, 31).await;
    let b = agent(&o, 32).await;

    // The agent asks; the question is in the approvals queue.
    let (s, d1) = a
        .post(
            "/api/v1/decisions",
            json!({"title": "Deploy v2 to production?", "description": "All checks passed.",
                   "options": ["now", "tonight"], "context": {"pr": 42}}),
        )
        .await;
    assert_eq!(s, 201, "{d1}");
    assert_eq!(d1["status"], "pending");
    assert_eq!(d1["requester_device_id"], a.device_id.clone().unwrap());
    let id1 = d1["id"].as_str().unwrap().to_owned();
    let approval = o.d.next_approval(&o.token, "decision").await;
    assert_eq!(approval["details"]["decision_id"], id1);
    assert_eq!(approval["details"]["title"], "Deploy v2 to production?");
    assert_eq!(approval["details"]["options"], json!(["now", "tonight"]));

    // Allow in the queue approves it, once, and the agent hears of it.
    let resp =
        o.d.post_auth(
            &format!("/approvals/{}", approval["id"].as_str().unwrap()),
            &o.token,
            json!({"decision": "allow"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let frame = a
        .next_frame("decision_resolved", Duration::from_secs(20))
        .await
        .expect("decision_resolved frame");
    assert_eq!(frame["data"]["decision_id"], id1);
    assert_eq!(frame["data"]["resolution"], "approve");
    let (s, v) = a.get(&format!("/api/v1/decisions/{id1}")).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("approved")));
    let (s, v) = o
        .hub_call(
            "POST",
            &format!("/api/v1/decisions/{id1}/resolve"),
            Some(json!({"resolution": "deny"})),
        )
        .await;
    assert_eq!(s, 409, "{v}");

    // Defer on the hub: out of the popup, still listed; then deny with a note.
    let (s, d2) = a
        .post("/api/v1/decisions", json!({"title": "Delete old logs?"}))
        .await;
    assert_eq!(s, 201);
    let id2 = d2["id"].as_str().unwrap().to_owned();
    let approval = o.d.next_approval(&o.token, "decision").await;
    assert_eq!(approval["details"]["decision_id"], id2);
    let (s, v) = o
        .hub_call(
            "POST",
            &format!("/api/v1/decisions/{id2}/resolve"),
            Some(json!({"resolution": "defer"})),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("deferred")), "{v}");
    let approval_id = approval["id"].as_str().unwrap().to_owned();
    eventually("the deferred decision leaves the queue", || async {
        let list = o.d.get_json("/approvals", &o.token).await;
        (!list.to_string().contains(&approval_id)).then_some(())
    })
    .await;
    let frame = a
        .next_frame("decision_deferred", Duration::from_secs(20))
        .await
        .expect("decision_deferred frame");
    assert_eq!(frame["data"]["decision_id"], id2);
    let (_, open) = o.hub_call("GET", "/api/v1/decisions", None).await;
    assert!(open.as_array().unwrap().iter().any(|d| d["id"] == id2));
    assert!(!open.as_array().unwrap().iter().any(|d| d["id"] == id1));
    let (_, deferred) = o
        .hub_call("GET", "/api/v1/decisions?status=deferred", None)
        .await;
    assert_eq!(deferred.as_array().unwrap().len(), 1);
    let (s, v) = o
        .hub_call(
            "POST",
            &format!("/api/v1/decisions/{id2}/resolve"),
            Some(json!({"resolution": "defer"})),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    let (s, v) = o
        .hub_call(
            "POST",
            &format!("/api/v1/decisions/{id2}/resolve"),
            Some(json!({"resolution": "deny", "note": "Keep them a week"})),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("denied")), "{v}");
    let frame = a
        .next_frame("decision_resolved", Duration::from_secs(20))
        .await
        .expect("decision_resolved frame");
    assert_eq!(frame["data"]["resolution"], "deny");
    assert_eq!(frame["data"]["note"], "Keep them a week");
    let (_, resolved) = o
        .hub_call("GET", "/api/v1/decisions?status=resolved", None)
        .await;
    assert_eq!(resolved.as_array().unwrap().len(), 2);

    // Approving with an option it offered; one it did not → 400.
    let (_, d3) = a
        .post(
            "/api/v1/decisions",
            json!({"title": "Which region?", "options": ["eu", "us"]}),
        )
        .await;
    let id3 = d3["id"].as_str().unwrap().to_owned();
    let (s, _) = o
        .hub_call(
            "POST",
            &format!("/api/v1/decisions/{id3}/resolve"),
            Some(json!({"resolution": "approve", "option": "asia"})),
        )
        .await;
    assert_eq!(s, 400);
    let (s, v) = o
        .hub_call(
            "POST",
            &format!("/api/v1/decisions/{id3}/resolve"),
            Some(json!({"resolution": "approve", "option": "eu"})),
        )
        .await;
    assert_eq!((s, v["option"].as_str()), (200, Some("eu")), "{v}");

    // Errors: bad bodies → 400; unknown ids → 404; bad resolution → 400.
    for bad in [
        json!({}),
        json!({"title": ""}),
        json!({"title": "x".repeat(201)}),
        json!({"title": "ok", "options": (0..11).map(|i| i.to_string()).collect::<Vec<_>>()}),
        json!({"title": "ok", "options": ["a", "a"]}),
        json!({"title": "ok", "context": [1, 2]}),
        json!({"title": "ok", "context": {"big": "y".repeat(9000)}}),
    ] {
        let (s, v) = a.post("/api/v1/decisions", bad.clone()).await;
        assert_eq!(s, 400, "{bad} → {v}");
        detail(&v);
    }
    let missing = "00000000-0000-4000-8000-000000000000";
    for path in [
        format!("/api/v1/decisions/{missing}"),
        "/api/v1/decisions/nope".to_owned(),
    ] {
        let (s, v) = o.hub_call("GET", &path, None).await;
        assert_eq!(s, 404, "{v}");
    }
    let (s, _) = o
        .hub_call(
            "POST",
            &format!("/api/v1/decisions/{missing}/resolve"),
            Some(json!({"resolution": "approve"})),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = o
        .hub_call(
            "POST",
            &format!("/api/v1/decisions/{id3}/resolve"),
            Some(json!({"resolution": "maybe"})),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = o
        .hub_call("GET", "/api/v1/decisions?status=weird", None)
        .await;
    assert_eq!(s, 400);

    // Auth kinds: a device may ask, list and read its own, never resolve;
    // another agent sees none of them; no token → 401.
    let (_, d4) = a
        .post("/api/v1/decisions", json!({"title": "Restart?"}))
        .await;
    let id4 = d4["id"].as_str().unwrap().to_owned();
    let (s, v) = a
        .post(
            &format!("/api/v1/decisions/{id4}/resolve"),
            json!({"resolution": "approve"}),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = b.get(&format!("/api/v1/decisions/{id4}")).await;
    assert_eq!(s, 404, "{v}");
    let (s, v) = b.get("/api/v1/decisions?status=all").await;
    assert_eq!((s, v), (200, json!([])));
    let (s, v) = a.get("/api/v1/decisions?status=all").await;
    assert_eq!((s, v.as_array().unwrap().len()), (200, 4));
    let (s, _) = call(&o, "GET", "/api/v1/decisions", None, None, None).await;
    assert_eq!(s, 401);
    // The owner may ask too (and sees it in the queue as from "You").
    let (s, d5) = o
        .hub_call(
            "POST",
            "/api/v1/decisions",
            Some(json!({"title": "Renew the certificate?"})),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(d5["requester_device_id"], Value::Null);
    a.disconnect().await;
}

fn span(i: u64, name: &str, start: &str, end: &str, code: u64) -> Value {
    json!({
        "trace_id": format!("{:032x}", 0xabc0 + i), "span_id": format!("{:016x}", 0x10 + i),
        "name": name, "kind": "internal", "start_time": start, "end_time": end,
        "status": {"code": code}, "attributes": {"tool.name": name},
    })
}

#[tokio::test]
async fn telemetry_query_summary_dashboard_and_audit_events() {
    let o = Owner::start().await;
    let mut a = agent(&o, 41).await;
    let (_, ids) = a.get("/api/v1/hub/identities").await;
    let hub_id = ids[0]["hub_id"].as_str().unwrap().to_owned();

    // Five spans one minute apart (times with an offset), one an error.
    let base = crate::hub_agent::unix_now() as i64 * 1000 - 3_600_000;
    let iso = |ms: i64| {
        let secs = ms.div_euclid(1000);
        let t = time_of(secs);
        format!("{t}.{:03}+00:00", ms.rem_euclid(1000))
    };
    let mut spans = Vec::new();
    for i in 0..5u64 {
        let start = base + i as i64 * 60_000;
        let dur = 100 * (i as i64 + 1);
        let name = if i % 2 == 0 {
            "tool.call"
        } else {
            "llm.request"
        };
        spans.push(span(
            i,
            name,
            &iso(start),
            &iso(start + dur),
            if i == 3 { 2 } else { 1 },
        ));
    }
    let (s, v) = a
        .post(
            "/api/v1/telemetry/ingest",
            json!({"hub_id": hub_id, "spans": spans}),
        )
        .await;
    assert_eq!((s, v["accepted"].as_u64()), (200, Some(5)), "{v}");

    // Newest first, with times read out; since/until/limit filter.
    let (s, list) = o
        .hub_call("GET", &format!("/api/v1/telemetry/{hub_id}"), None)
        .await;
    assert_eq!(s, 200, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 5);
    assert_eq!(list[0]["start_ms"], base + 4 * 60_000);
    assert_eq!(list[0]["duration_ms"], 500);
    assert_eq!(list[4]["start_ms"], base);
    let (_, some) = o
        .hub_call(
            "GET",
            &format!(
                "/api/v1/telemetry/{hub_id}?since={}&until={}&limit=2",
                base + 60_000,
                base + 4 * 60_000
            ),
            None,
        )
        .await;
    let starts: Vec<i64> = some
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start_ms"].as_i64().unwrap())
        .collect();
    assert_eq!(starts, vec![base + 3 * 60_000, base + 2 * 60_000]);

    // The summary over the hour: counts, error rate, percentiles, buckets.
    let (s, sum) = o
        .hub_call(
            "GET",
            &format!(
                "/api/v1/telemetry/{hub_id}/summary?since={base}&until={}&bucket_ms=60000",
                base + 10 * 60_000
            ),
            None,
        )
        .await;
    assert_eq!(s, 200, "{sum}");
    assert_eq!(sum["total"], 5);
    assert_eq!(sum["errors"], 1);
    assert_eq!(sum["error_rate"], 0.2);
    assert_eq!(sum["p50_ms"], 300);
    assert_eq!(sum["p95_ms"], 500);
    let names = sum["by_name"].as_array().unwrap();
    assert_eq!(names[0]["name"], "tool.call");
    assert_eq!(names[0]["count"], 3);
    assert_eq!(names[1]["errors"], 1);
    let buckets = sum["buckets"].as_array().unwrap();
    assert_eq!(buckets[0]["count"], 1);
    assert_eq!(buckets[3]["errors"], 1);
    assert_eq!(buckets[6]["count"], 0);

    // Errors: unknown hub_id → 404; bad filters → 400; a device → 401.
    let missing = "00000000-0000-4000-8000-000000000000";
    for path in [
        format!("/api/v1/telemetry/{missing}"),
        format!("/api/v1/telemetry/{missing}/summary"),
        "/api/v1/telemetry/nope".to_owned(),
    ] {
        let (s, v) = o.hub_call("GET", &path, None).await;
        assert_eq!(s, 404, "{path}: {v}");
    }
    for q in ["?since=yesterday", "?limit=0", "?limit=5000"] {
        let (s, _) = o
            .hub_call("GET", &format!("/api/v1/telemetry/{hub_id}{q}"), None)
            .await;
        assert_eq!(s, 400, "{q}");
    }
    for q in [
        "?since=10&until=5",
        "?bucket_ms=10",
        "?since=0&until=31622400001",
    ] {
        let (s, _) = o
            .hub_call(
                "GET",
                &format!("/api/v1/telemetry/{hub_id}/summary{q}"),
                None,
            )
            .await;
        assert_eq!(s, 400, "{q}");
    }
    let (s, _) = a.get(&format!("/api/v1/telemetry/{hub_id}")).await;
    assert_eq!(s, 401);

    // The dashboard counts and lists the spans, the enrolment, a decision.
    let (_, d) = a
        .post("/api/v1/decisions", json!({"title": "Rotate keys?"}))
        .await;
    let (s, dash) = o
        .hub_call(
            "GET",
            &format!("/api/v1/dashboard/activity?since={}", base - 60_000),
            None,
        )
        .await;
    assert_eq!(s, 200, "{dash}");
    assert_eq!(dash["counts"]["spans"], 5);
    assert_eq!(dash["counts"]["errors"], 1);
    assert_eq!(dash["counts"]["enrolments"], 1);
    assert_eq!(dash["counts"]["decisions_pending"], 1);
    assert_eq!(dash["counts"]["agents_active"], 1);
    let items = dash["items"].as_array().unwrap();
    assert_eq!(items[0]["type"], "decision");
    assert_eq!(items[0]["decision_id"], d["id"]);
    assert!(items.iter().any(|i| i["type"] == "enrolment"));
    assert_eq!(items.iter().filter(|i| i["type"] == "span").count(), 5);
    let (s, _) = o
        .hub_call("GET", "/api/v1/dashboard/activity?limit=0", None)
        .await;
    assert_eq!(s, 400);
    let (s, _) = a.get("/api/v1/dashboard/activity").await;
    assert_eq!(s, 401);

    // Audit events: the hub's kinds only, this tenant's, filters.
    let (s, ev) = o.hub_call("GET", "/api/v1/audit/events", None).await;
    assert_eq!(s, 200, "{ev}");
    let ev = ev.as_array().unwrap().clone();
    assert!(
        ev.iter()
            .all(|e| e["type"].as_str().unwrap().starts_with("hub_"))
    );
    let dev = a.device_id.clone().unwrap();
    assert!(
        ev.iter()
            .any(|e| e["type"] == "hub_device_enrolled" && e["details"]["device_id"] == dev)
    );
    assert!(ev.iter().any(|e| e["type"] == "hub_decision_requested"));
    assert!(
        ev.windows(2)
            .all(|w| w[0]["id"].as_i64() > w[1]["id"].as_i64())
    );
    let (_, only) = o
        .hub_call(
            "GET",
            "/api/v1/audit/events?kind=hub_device_activated",
            None,
        )
        .await;
    let only = only.as_array().unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["details"]["device_id"], dev);
    let (_, one) = o
        .hub_call("GET", "/api/v1/audit/events?limit=1", None)
        .await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    let (_, older) = o
        .hub_call(
            "GET",
            &format!("/api/v1/audit/events?before_id={}", one[0]["id"]),
            None,
        )
        .await;
    assert_eq!(older.as_array().unwrap().len(), ev.len() - 1);
    for q in ["?kind=lock", "?kind=hub_%25", "?limit=9999", "?since=x"] {
        let (s, _) = o
            .hub_call("GET", &format!("/api/v1/audit/events{q}"), None)
            .await;
        assert_eq!(s, 400, "{q}");
    }
    let (s, _) = a.get("/api/v1/audit/events").await;
    assert_eq!(s, 401);
    a.disconnect().await;
}

/// `YYYY-MM-DDTHH:MM:SS` of a Unix time (UTC).
fn time_of(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[tokio::test]
async fn a_second_tenant_gets_nothing_of_the_first() {
    let o = Owner::start().await;
    let mut a = agent(&o, 51).await;
    wait_conversation(&o, &a).await;
    let (_, ids) = a.get("/api/v1/hub/identities").await;
    let hub_id = ids[0]["hub_id"].as_str().unwrap().to_owned();
    let (s, up) = upload(&o, a.jwt.as_deref().unwrap(), noise(1000, 9)).await;
    assert_eq!(s, 201);
    let blob = up["blob_id"].as_str().unwrap().to_owned();
    let (_, d) = a
        .post(
            "/api/v1/decisions",
            json!({"title": "First tenant's question"}),
        )
        .await;
    let did = d["id"].as_str().unwrap().to_owned();
    let (s, _) = a
        .post(
            "/api/v1/telemetry/ingest",
            json!({"spans": [span(1, "x", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", 1)]}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = o
        .hub_call(
            "POST",
            "/api/v1/push/register",
            Some(json!({"token": "ExponentPushToken[first]"})),
        )
        .await;
    assert_eq!(s, 201);

    // The owner acting in a second tenant, and an agent enrolled there.
    let (t2, invite) = second_tenant(&o).await;
    let mut b = TestAgent::new(&o.hub(), [52; 32], [152; 32]);
    o.enrol_with(&mut b, &invite).await;
    let tok = o.token.clone();
    let as_t2 = |m: &'static str, p: String, body: Option<Value>| {
        let (o, tok, t2) = (&o, tok.clone(), t2.clone());
        async move { call(o, m, &p, Some(&tok), Some(&t2), body).await }
    };
    let (s, _) = as_t2("GET", format!("/api/v1/attachments/{blob}"), None).await;
    assert_eq!(s, 404);
    let (s, body, _) = download(
        &o,
        b.jwt.as_deref().unwrap(),
        &format!("/api/v1/attachments/{blob}"),
    )
    .await;
    assert_eq!(s, 404, "{}", String::from_utf8_lossy(&body));
    for p in [
        format!("/api/v1/telemetry/{hub_id}"),
        format!("/api/v1/telemetry/{hub_id}/summary"),
        format!("/api/v1/decisions/{did}"),
    ] {
        let (s, v) = as_t2("GET", p.clone(), None).await;
        assert_eq!(s, 404, "{p}: {v}");
    }
    let (s, _) = b.get(&format!("/api/v1/decisions/{did}")).await;
    assert_eq!(s, 404);
    let (s, _) = as_t2(
        "POST",
        format!("/api/v1/decisions/{did}/resolve"),
        Some(json!({"resolution": "approve"})),
    )
    .await;
    assert_eq!(s, 404);
    let (s, list) = as_t2("GET", "/api/v1/decisions?status=all".into(), None).await;
    assert_eq!((s, list), (200, json!([])));
    let (s, dash) = as_t2("GET", "/api/v1/dashboard/activity?since=0".into(), None).await;
    assert_eq!(s, 200);
    assert_eq!(dash["counts"]["spans"], 0);
    assert_eq!(dash["counts"]["decisions"], 0);
    assert_eq!(dash["counts"]["enrolments"], 1, "{dash}");
    assert!(!dash.to_string().contains(a.device_id.as_deref().unwrap()));
    let (s, ev) = as_t2("GET", "/api/v1/audit/events".into(), None).await;
    assert_eq!(s, 200);
    let text = ev.to_string();
    assert!(!text.contains(a.device_id.as_deref().unwrap()), "{text}");
    assert!(!text.contains(&did), "{text}");
    assert!(text.contains(b.device_id.as_deref().unwrap()), "{text}");
    // No token registered in the second tenant: nothing to send to.
    let (s, _) = as_t2("POST", "/api/v1/push/test".into(), None).await;
    assert_eq!(s, 409);
    // An unknown tenant id → 403.
    let (s, _) = call(
        &o,
        "GET",
        "/api/v1/decisions",
        Some(&o.token),
        Some("00000000-0000-4000-8000-000000000000"),
        None,
    )
    .await;
    assert_eq!(s, 403);
    a.disconnect().await;
    b.disconnect().await;
}
