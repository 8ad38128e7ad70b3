//! API keys and topics on the agent hub: a key is shown once, stands for its
//! own device as `X-API-Key`, as a bearer and as the socket's `?token=`,
//! rotates atomically, revokes, and goes with its device; topics live in a
//! conversation group whose default topic cannot be archived. Both are the
//! first tenant's alone.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::eventually;
use crate::hub::Owner;
use crate::hub_agent::TestAgent;

const SEED: [u8; 32] = [7; 32];
const EPHEMERAL: [u8; 32] = [8; 32];

/// A hub call with any headers (no owner bearer unless given).
async fn call(
    o: &Owner,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let mut req =
        o.d.http
            .request(method.parse().unwrap(), format!("{}{path}", o.hub()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn second_tenant(o: &Owner) -> String {
    let (code, t) = o
        .hub_call("POST", "/api/v1/tenants", Some(json!({"name": "Other"})))
        .await;
    assert_eq!(code, 201, "{t}");
    t["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_api_key_is_shown_once_stands_for_its_device_rotates_and_revokes() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);

    // Bad input and missing credentials.
    let (code, v) = o
        .hub_call("POST", "/api/v1/api-keys", Some(json!({"name": " "})))
        .await;
    assert_eq!(code, 400, "{v}");
    assert!(v["detail"].is_string());
    let (code, _) = o
        .hub_call(
            "POST",
            "/api/v1/api-keys",
            Some(json!({"name": "x", "identity_public_key": "abc"})),
        )
        .await;
    assert_eq!(code, 400);
    let (code, v) = call(&o, "GET", "/api/v1/api-keys", &[], None).await;
    assert_eq!(code, 401, "{v}");

    // Create: the raw key is in this answer only.
    let (code, made) = o
        .hub_call(
            "POST",
            "/api/v1/api-keys",
            Some(
                json!({"name": "sdk agent", "identity_public_key": agent.identity_public_key_hex(),
                "platform": "node"}),
            ),
        )
        .await;
    assert_eq!(code, 201, "{made}");
    let key = made["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("av_agent_sk_"), "{key}");
    assert!(key.len() >= 50);
    let key_id = made["id"].as_str().unwrap().to_owned();
    let device = made["device_id"].as_str().unwrap().to_owned();
    assert_eq!(made["status"], "active");
    assert!(key.starts_with(made["prefix"].as_str().unwrap()));
    let (_, list) = o.hub_call("GET", "/api/v1/api-keys", None).await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == key_id.as_str())
        .expect("listed");
    assert!(listed.get("key").is_none(), "the key is never listed");
    let (_, devices) = o.hub_call("GET", "/api/v1/devices", None).await;
    let d = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == device.as_str())
        .expect("its device is listed");
    assert_eq!(d["status"], "ACTIVE");
    assert_eq!(d["platform"], "node");
    assert_eq!(d["fingerprint"], agent.fingerprint());

    // X-API-Key works on the device routes and on "Clerk JWT or API Key"
    // routes, never on owner-only ones.
    let (code, rooms) = call(&o, "GET", "/api/v1/rooms", &[("X-API-Key", &key)], None).await;
    assert_eq!(code, 200, "{rooms}");
    assert!(rooms.is_array());
    let (code, ids) = call(
        &o,
        "GET",
        "/api/v1/hub/identities",
        &[("X-API-Key", &key)],
        None,
    )
    .await;
    assert_eq!(code, 200, "{ids}");
    assert!(
        ids.as_array()
            .unwrap()
            .iter()
            .any(|i| i["device_id"] == device.as_str())
    );
    for (method, path) in [
        ("POST", "/api/v1/invites"),
        ("GET", "/api/v1/api-keys"),
        ("GET", "/api/v1/devices"),
    ] {
        let (code, v) = call(&o, method, path, &[("X-API-Key", &key)], Some(json!({}))).await;
        assert_eq!(code, 401, "{method} {path}: {v}");
    }
    let (code, v) = call(
        &o,
        "GET",
        "/api/v1/rooms",
        &[("X-API-Key", "av_agent_sk_not-a-key")],
        None,
    )
    .await;
    assert_eq!((code, v["detail"].as_str()), (401, Some("Invalid API key")));

    // The key as the agent's credential: KeyPackages, the socket, and an MLS
    // conversation with the owner (the key's device got its conversation).
    agent.device_id = Some(device.clone());
    agent.jwt = Some(key.clone());
    agent.restart_mls();
    assert!(
        agent
            .publish_key_packages(3)
            .await
            .iter()
            .all(|s| *s == 201)
    );
    agent.connect().await.expect("the socket takes the API key");
    o.send(&agent, "hello, SDK agent").await;
    let got = crate::hub::receive(&mut agent, 1).await;
    assert_eq!(got[0].text, "hello, SDK agent");

    // Rotate: the old key is dead the moment the new one exists, and the
    // socket it opened is closed.
    let (code, rotated) = o
        .hub_call("POST", &format!("/api/v1/api-keys/{key_id}/rotate"), None)
        .await;
    assert_eq!(code, 200, "{rotated}");
    let new_key = rotated["key"].as_str().unwrap().to_owned();
    assert_ne!(new_key, key);
    assert_eq!(rotated["device_id"], device.as_str());
    assert!(agent.close_reason(Duration::from_secs(10)).await.is_some());
    let (code, _) = call(&o, "GET", "/api/v1/rooms", &[("X-API-Key", &key)], None).await;
    assert_eq!(code, 401);
    let (code, _) = call(&o, "GET", "/api/v1/rooms", &[("X-API-Key", &new_key)], None).await;
    assert_eq!(code, 200);
    let bearer = format!("Bearer {new_key}");
    let (code, _) = call(
        &o,
        "GET",
        "/api/v1/rooms",
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(code, 200, "the key also works as a bearer");

    // Another tenant's owner sees none of it.
    let tenant = second_tenant(&o).await;
    let owner_bearer = format!("Bearer {}", o.token);
    let as_b = [
        ("Authorization", owner_bearer.as_str()),
        ("X-Tenant-Id", tenant.as_str()),
    ];
    let (code, list) = call(&o, "GET", "/api/v1/api-keys", &as_b, None).await;
    assert_eq!((code, list), (200, json!([])));
    for (method, path) in [
        ("POST", format!("/api/v1/api-keys/{key_id}/revoke")),
        ("POST", format!("/api/v1/api-keys/{key_id}/rotate")),
        ("DELETE", format!("/api/v1/api-keys/{key_id}")),
    ] {
        let (code, v) = call(&o, method, &path, &as_b, None).await;
        assert_eq!(code, 404, "{method} {path}: {v}");
    }
    let (code, _) = call(&o, "GET", "/api/v1/rooms", &[("X-API-Key", &new_key)], None).await;
    assert_eq!(code, 200, "the key survived the other tenant's attempts");

    // Revoke, twice; a revoked key neither works nor rotates.
    let path = format!("/api/v1/api-keys/{key_id}/revoke");
    let (code, revoked) = o.hub_call("POST", &path, None).await;
    assert_eq!((code, revoked["status"].as_str()), (200, Some("revoked")));
    let (code, _) = o.hub_call("POST", &path, None).await;
    assert_eq!(code, 409);
    let (code, _) = o
        .hub_call("POST", &format!("/api/v1/api-keys/{key_id}/rotate"), None)
        .await;
    assert_eq!(code, 409);
    let (code, _) = call(&o, "GET", "/api/v1/rooms", &[("X-API-Key", &new_key)], None).await;
    assert_eq!(code, 401);
    agent.jwt = Some(new_key.clone());
    let refused = agent
        .connect()
        .await
        .expect_err("a revoked key opens no socket");
    assert_eq!(refused, "401");

    // Delete takes the device with it.
    let (code, _) = o
        .hub_call("DELETE", &format!("/api/v1/api-keys/{key_id}"), None)
        .await;
    assert_eq!(code, 204);
    let (code, _) = o
        .hub_call("DELETE", &format!("/api/v1/api-keys/{key_id}"), None)
        .await;
    assert_eq!(code, 404);
    let (_, devices) = o.hub_call("GET", "/api/v1/devices", None).await;
    assert!(
        !devices
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == device.as_str()),
        "{devices}"
    );
    let (code, v) = o.hub_call("GET", "/api/v1/api-keys", None).await;
    assert_eq!((code, v), (200, json!([])));

    // A key without an identity key cannot publish KeyPackages, and says why.
    let (_, bare) = o
        .hub_call("POST", "/api/v1/api-keys", Some(json!({"name": "bare"})))
        .await;
    let mut bare_agent = TestAgent::new(&o.hub(), [9; 32], [10; 32]);
    bare_agent.device_id = bare["device_id"].as_str().map(str::to_owned);
    bare_agent.jwt = bare["key"].as_str().map(str::to_owned);
    bare_agent.restart_mls();
    let (code, v) = call(
        &o,
        "GET",
        "/api/v1/hub/identities",
        &[("X-API-Key", bare["key"].as_str().unwrap())],
        None,
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(bare_agent.publish_key_packages(1).await, vec![400]);
}

#[tokio::test]
async fn topics_live_in_a_conversation_group_and_the_default_one_stays() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    o.enrol(&mut agent).await;

    let convs = eventually("the agent's conversation", || async {
        let (code, convs) = o.hub_call("GET", "/api/v1/conversations", None).await;
        assert_eq!(code, 200, "{convs}");
        (!convs.as_array()?.is_empty()).then_some(convs)
    })
    .await;
    let conv = &convs[0];
    let group = conv["conversation_group_id"].as_str().unwrap().to_owned();
    assert_eq!(conv["topics"].as_array().unwrap().len(), 1);
    let default = conv["default_topic_id"].as_str().unwrap().to_owned();

    let (code, _) = o.hub_call("GET", "/api/v1/topics", None).await;
    assert_eq!(code, 400, "group_id is required");
    let (code, _) = o
        .hub_call(
            "GET",
            "/api/v1/topics?group_id=00000000-0000-4000-8000-000000000000",
            None,
        )
        .await;
    assert_eq!(code, 404);
    let list_path = format!("/api/v1/topics?group_id={group}");
    let (code, topics) = o.hub_call("GET", &list_path, None).await;
    assert_eq!(code, 200);
    let topics = topics.as_array().unwrap().clone();
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0]["id"], default.as_str());
    assert_eq!(topics[0]["is_default"], true);
    assert_eq!(topics[0]["name"], "General");

    // Create, refuse duplicates and bad names, rename, archive.
    let (code, made) = o
        .hub_call(
            "POST",
            "/api/v1/topics",
            Some(json!({"group_id": group, "name": "Deploys"})),
        )
        .await;
    assert_eq!(code, 201, "{made}");
    let topic = made["id"].as_str().unwrap().to_owned();
    assert_eq!(made["is_default"], false);
    let (code, _) = o
        .hub_call(
            "POST",
            "/api/v1/topics",
            Some(json!({"group_id": group, "name": "deploys"})),
        )
        .await;
    assert_eq!(code, 409);
    let (code, _) = o
        .hub_call(
            "POST",
            "/api/v1/topics",
            Some(json!({"group_id": group, "name": "x".repeat(81)})),
        )
        .await;
    assert_eq!(code, 400);
    let (code, _) = o
        .hub_call("POST", "/api/v1/topics", Some(json!({"name": "No group"})))
        .await;
    assert_eq!(code, 400);
    let (code, renamed) = o
        .hub_call(
            "PATCH",
            &format!("/api/v1/topics/{topic}"),
            Some(json!({"name": "Releases"})),
        )
        .await;
    assert_eq!((code, renamed["name"].as_str()), (200, Some("Releases")));
    let (code, v) = o
        .hub_call("POST", &format!("/api/v1/topics/{default}/archive"), None)
        .await;
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["detail"], "Cannot archive the default topic");
    let (code, archived) = o
        .hub_call("POST", &format!("/api/v1/topics/{topic}/archive"), None)
        .await;
    assert_eq!((code, archived["status"].as_str()), (200, Some("archived")));
    let (_, convs) = o.hub_call("GET", "/api/v1/conversations", None).await;
    assert_eq!(
        convs[0]["topics"].as_array().unwrap().len(),
        1,
        "archived topics leave the conversation list"
    );
    // A stored message names its topic; the agent gets the base document's
    // live `message` frame; the history filters on the topic.
    let conv_id = conv["id"].as_str().unwrap().to_owned();
    let post = format!("/api/v1/conversations/{conv_id}/messages");
    let (code, v) = o
        .hub_call(
            "POST",
            &post,
            Some(json!({"ciphertext": "AAEC", "header_blob": "AQ==", "topic_id": topic})),
        )
        .await;
    assert_eq!(
        code, 400,
        "an archived topic is not this group's live one: {v}"
    );
    let (code, stored) = o
        .hub_call(
            "POST",
            &post,
            Some(json!({"ciphertext": "AAEC", "header_blob": "AQ==", "topic_id": default})),
        )
        .await;
    assert_eq!(code, 201, "{stored}");
    let frame = agent
        .next_frame("message", Duration::from_secs(10))
        .await
        .expect("a live message frame");
    assert_eq!(frame["data"]["conversation_id"], conv_id.as_str());
    assert_eq!(frame["data"]["ciphertext"], "AAEC");
    assert_eq!(frame["data"]["topic_id"], default.as_str());
    let (code, _) = o
        .hub_call(
            "POST",
            &post,
            Some(json!({"ciphertext": "AAEC", "topic_id": "00000000-0000-4000-8000-000000000000"})),
        )
        .await;
    assert_eq!(code, 400);
    let (code, history) = o
        .hub_call("GET", &format!("{post}?topic_id={default}"), None)
        .await;
    assert_eq!(code, 200, "{history}");
    let items = history
        .as_array()
        .or_else(|| history["messages"].as_array())
        .expect("a list");
    assert_eq!(items.len(), 1, "{history}");

    let (code, _) = o
        .hub_call(
            "PATCH",
            "/api/v1/topics/00000000-0000-4000-8000-000000000000",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(code, 404);

    // A device cannot manage topics; another tenant cannot see them.
    let bearer = format!("Bearer {}", agent.jwt.clone().unwrap());
    let (code, _) = call(&o, "GET", &list_path, &[("Authorization", &bearer)], None).await;
    assert_eq!(code, 401);
    let tenant = second_tenant(&o).await;
    let owner_bearer = format!("Bearer {}", o.token);
    let as_b = [
        ("Authorization", owner_bearer.as_str()),
        ("X-Tenant-Id", tenant.as_str()),
    ];
    let (code, _) = call(&o, "GET", &list_path, &as_b, None).await;
    assert_eq!(code, 404);
    for (method, path, body) in [
        (
            "PATCH",
            format!("/api/v1/topics/{topic}"),
            Some(json!({"name": "Mine"})),
        ),
        ("POST", format!("/api/v1/topics/{default}/archive"), None),
        (
            "POST",
            "/api/v1/topics".to_owned(),
            Some(json!({"group_id": group, "name": "Mine"})),
        ),
    ] {
        let (code, v) = call(&o, method, &path, &as_b, body).await;
        assert_eq!(code, 404, "{method} {path}: {v}");
    }
}

/// Read one HTTP request from `listener` (head and a Content-Length body)
/// and answer 204; returns the request line and the body.
async fn one_request(listener: tokio::net::TcpListener) -> (String, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut sock, _) = listener.accept().await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head_end, len) = loop {
        let n = sock.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed early");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse::<usize>().unwrap())
                .unwrap_or(0);
            break (i + 4, len);
        }
    };
    while buf.len() < head_end + len {
        let n = sock.read(&mut chunk).await.unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
    sock.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
        .await
        .unwrap();
    let line = String::from_utf8_lossy(&buf[..head_end])
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let body = serde_json::from_slice(&buf[head_end..head_end + len]).unwrap();
    (line, body)
}

#[tokio::test]
async fn an_offline_agent_with_a_webhook_is_told_that_messages_wait() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    o.enrol(&mut agent).await;
    let me = agent.device_id.clone().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hook?secret=s3cr3t",
        listener.local_addr().unwrap()
    );
    let (code, v) = agent
        .http
        .patch(format!("{}/api/v1/devices/self/webhook", o.hub()))
        .bearer_auth(agent.jwt.as_ref().unwrap())
        .json(&json!({"webhook_url": url}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(code, 200, "{:?}", v.text().await);
    agent.disconnect().await;
    let notice = tokio::spawn(one_request(listener));
    o.send(&agent, "are you there?").await;
    let (line, body) = tokio::time::timeout(Duration::from_secs(20), notice)
        .await
        .expect("the webhook is called")
        .unwrap();
    assert_eq!(line, "POST /hook?secret=s3cr3t HTTP/1.1");
    assert_eq!(body["event"], "message_pending");
    assert_eq!(body["device_id"], me.as_str());
    assert!(body["pending"].as_u64().unwrap() >= 1, "{body}");
    // Content-free: nothing of the message travels to the webhook.
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
    // The secret in the URL never reaches the log.
    let log = std::fs::read_to_string(o.d.data_dir().join("daemon-stderr.log")).unwrap_or_default();
    assert!(!log.contains("s3cr3t"));
}
