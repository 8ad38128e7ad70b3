//! The node profile (`/profile`, its push test) and contacts (`/contacts`)
//! over real HTTP: round trips, every validation error, a push endpoint
//! played by a small HTTP server in the test, statuses of the contact CRUD,
//! and the owner bearer on every route.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::harness::{TestDaemon, assert_error};

/// A 1x1 PNG as a data: URL.
const PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
/// Stands for a token a push gateway puts in its URLs.
const PUSH_SECRET: &str = "push-secret-7Qk2v";

async fn put(d: &TestDaemon, path: &str, token: &str, body: Value) -> reqwest::Response {
    d.http
        .put(d.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// One request the push server received.
struct Received {
    request_line: String,
    headers: String,
    body: Vec<u8>,
}

/// A one-route HTTP/1.1 server on 127.0.0.1:0 answering every request with
/// `status`; each request it reads is sent on the channel. Returns its origin.
async fn push_server(status: u16) -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    let n = sock.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    let n = sock.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "body cut short");
                    buf.extend_from_slice(&chunk[..n]);
                }
                let (request_line, headers) = head.split_once("\r\n").unwrap();
                let _ = tx.send(Received {
                    request_line: request_line.to_owned(),
                    headers: headers.to_ascii_lowercase(),
                    body: buf[head_end..head_end + length].to_vec(),
                });
                let answer = format!(
                    "HTTP/1.1 {status} Whatever\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                sock.write_all(answer.as_bytes()).await.unwrap();
                let _ = sock.shutdown().await;
            });
        }
    });
    (origin, rx)
}

/// Everything the daemon has logged so far.
fn logs(d: &TestDaemon) -> String {
    crate::harness::files_under(&d.data_dir().join("logs"), ".log")
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect()
}

/// Read the SSE response until `needle` shows up.
async fn read_until(resp: &mut reqwest::Response, needle: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout(Duration::from_secs(20), resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} in: {seen}"))
            .unwrap()
            .unwrap_or_else(|| panic!("stream ended before {needle:?}: {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

#[tokio::test]
async fn profile_round_trip_partial_updates_and_the_change_event() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let fresh = d.get_json("/profile", &t).await;
    assert_eq!(
        fresh,
        json!({"display_name": null, "avatar": null, "push_endpoint": null,
               "metered": false, "country": null})
    );

    let mut sse = d.get(&format!("/events/stream?token={t}")).await;
    assert_eq!(sse.status(), 200);
    read_until(&mut sse, ": connected").await;

    let resp = put(
        &d,
        "/profile",
        &t,
        json!({"display_name": "  Ada Lovelace  ", "avatar": PNG, "metered": true,
               "country": "GB", "push_endpoint": "https://push.example/u/1?token=x"}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let expected = json!({"display_name": "Ada Lovelace", "avatar": PNG,
        "push_endpoint": "https://push.example/u/1?token=x", "metered": true, "country": "GB"});
    assert_eq!(body, expected);
    assert_eq!(d.get_json("/profile", &t).await, expected);
    read_until(&mut sse, "event: profile_changed").await;

    // The name and picture are the identity's profile, as apps see it.
    let identity = d.get_json("/identity", &t).await;
    assert_eq!(identity["profile"]["display_name"], "Ada Lovelace");
    assert_eq!(identity["profile"]["profile_picture"], PNG);

    // Fields left out stay; null clears.
    let body: Value = put(
        &d,
        "/profile",
        &t,
        json!({"country": null, "metered": false}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["country"], Value::Null);
    assert_eq!(body["metered"], false);
    assert_eq!(body["display_name"], "Ada Lovelace");
    assert_eq!(body["avatar"], PNG);
    let body: Value = put(
        &d,
        "/profile",
        &t,
        json!({"push_endpoint": null, "avatar": null}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["push_endpoint"], Value::Null);
    assert_eq!(body["avatar"], Value::Null);
    assert_eq!(body["display_name"], "Ada Lovelace");

    // A change through the identity's profile reaches the node profile too.
    let mut sse = d.get(&format!("/events/stream?token={t}")).await;
    read_until(&mut sse, ": connected").await;
    let resp = put(&d, "/identity/profile", &t, json!({"display_name": "Ada"})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(d.get_json("/profile", &t).await["display_name"], "Ada");
    read_until(&mut sse, "event: profile_changed").await;
}

#[tokio::test]
async fn profile_validation_errors_name_the_field() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let huge_avatar = format!("data:image/png;base64,{}", "A".repeat(256 * 1024));
    let long_url = format!("https://push.example/{}", "a".repeat(2048));
    let cases = [
        (json!({"display_name": ""}), "display_name"),
        (json!({"display_name": "   "}), "display_name"),
        (json!({"display_name": "x".repeat(65)}), "display_name"),
        (json!({"display_name": "tab\there"}), "display_name"),
        (json!({"avatar": "https://example.com/a.png"}), "avatar"),
        (
            json!({"avatar": "data:image/svg+xml;base64,PHN2Zz4="}),
            "avatar",
        ),
        (
            json!({"avatar": "data:image/png;base64,not base64!"}),
            "avatar",
        ),
        (json!({"avatar": huge_avatar}), "avatar"),
        (
            json!({"push_endpoint": "ftp://push.example/"}),
            "push_endpoint",
        ),
        (json!({"push_endpoint": "not a url"}), "push_endpoint"),
        (json!({"push_endpoint": "https://"}), "push_endpoint"),
        (json!({"push_endpoint": long_url}), "push_endpoint"),
        (json!({"country": "gb"}), "country"),
        (json!({"country": "GBR"}), "country"),
        (json!({"country": "G1"}), "country"),
        (json!({"metered": "yes"}), "metered"),
        (json!({"nickname": "x"}), "nickname"),
    ];
    for (body, field) in cases {
        let msg = assert_error(put(&d, "/profile", &t, body.clone()).await, 400).await;
        assert!(msg.contains(field), "{body}: {msg}");
    }
    // Nothing was changed by the refused updates.
    assert_eq!(
        d.get_json("/profile", &t).await,
        json!({"display_name": null, "avatar": null, "push_endpoint": null,
               "metered": false, "country": null})
    );
    // Limits are inclusive.
    let resp = put(&d, "/profile", &t, json!({"display_name": "é".repeat(64)})).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn push_test_posts_to_the_endpoint_and_reports_failures() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;

    let msg = assert_error(d.post_auth("/profile/push-test", &t, json!({})).await, 409).await;
    assert!(msg.contains("push endpoint"), "{msg}");

    // An endpoint answering 204 with a token in its query.
    let (origin, mut received) = push_server(204).await;
    let endpoint = format!("{origin}/hook/abc?token={PUSH_SECRET}");
    let resp = put(&d, "/profile", &t, json!({"push_endpoint": endpoint})).await;
    assert_eq!(resp.status(), 200);
    let resp = d.post_auth("/profile/push-test", &t, json!({})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(body["status"], 204);
    assert!(body["elapsed_ms"].is_u64(), "{body}");
    let got = received.recv().await.unwrap();
    assert_eq!(
        got.request_line,
        format!("POST /hook/abc?token={PUSH_SECRET} HTTP/1.1")
    );
    assert!(got.headers.contains("content-type: application/json"));
    let sent: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(sent["type"], "push_test");
    assert!(
        sent["ts_ms"].as_i64().unwrap() > 1_600_000_000_000,
        "{sent}"
    );

    // One answering 500: a 502 that says what happened, without the token.
    let (origin, mut received) = push_server(500).await;
    let endpoint = format!("{origin}/hook?token={PUSH_SECRET}");
    put(&d, "/profile", &t, json!({"push_endpoint": endpoint})).await;
    let msg = assert_error(d.post_auth("/profile/push-test", &t, json!({})).await, 502).await;
    assert!(msg.contains("500"), "{msg}");
    assert!(!msg.contains(PUSH_SECRET), "{msg}");
    assert!(received.recv().await.is_some());

    // Nobody listening: a 502 too.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let endpoint = format!("http://{addr}/hook?token={PUSH_SECRET}");
    put(&d, "/profile", &t, json!({"push_endpoint": endpoint})).await;
    let msg = assert_error(d.post_auth("/profile/push-test", &t, json!({})).await, 502).await;
    assert!(!msg.contains(PUSH_SECRET), "{msg}");

    // The token never reached the log.
    let logged = logs(&d);
    assert!(!logged.is_empty());
    assert!(!logged.contains(PUSH_SECRET));
}

/// A valid PeerId (an identity multihash of an Ed25519 key) made from `seed`.
fn peer_id(seed: u32) -> String {
    let mut bytes = vec![0x00, 0x24, 0x08, 0x01, 0x12, 0x20];
    bytes.extend(seed.to_be_bytes());
    bytes.extend([0x5a; 28]);
    base58(&bytes)
}

fn base58(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = Vec::new();
    for &b in bytes {
        let mut carry = b as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    std::iter::repeat_n(b'1', zeros)
        .chain(digits.iter().rev().map(|&d| ALPHABET[d as usize]))
        .map(char::from)
        .collect()
}

#[tokio::test]
async fn contacts_crud_answers_its_statuses() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let me = d.get_json("/whoami", &t).await["node_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = peer_id(1);
    assert!(other.starts_with("12D3KooW"), "{other}");
    assert_eq!(d.get_json("/contacts", &t).await, json!([]));

    // POST creates (201), then updates (200); a left-out note stays.
    let resp = d
        .post_auth(
            "/contacts",
            &t,
            json!({"node_id": other, "name": " Bob ", "note": "laptop"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["node_id"], other.as_str());
    assert_eq!(created["name"], "Bob");
    assert_eq!(created["note"], "laptop");
    assert!(created["created_ms"].as_i64().unwrap() > 0);
    let resp = d
        .post_auth("/contacts", &t, json!({"node_id": other, "name": "Bobby"}))
        .await;
    assert_eq!(resp.status(), 200);
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(updated["name"], "Bobby");
    assert_eq!(updated["note"], "laptop");
    assert_eq!(updated["created_ms"], created["created_ms"]);
    assert!(updated["updated_ms"].as_i64() >= created["updated_ms"].as_i64());

    // PUT creates (201) and updates (200); a null note clears it.
    let resp = put(&d, &format!("/contacts/{me}"), &t, json!({"name": "Me"})).await;
    assert_eq!(resp.status(), 201);
    let resp = put(
        &d,
        &format!("/contacts/{other}"),
        &t,
        json!({"name": "Bob", "note": null}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let bob: Value = resp.json().await.unwrap();
    assert_eq!(bob["note"], Value::Null);

    let one = d.get_auth(&format!("/contacts/{other}"), &t).await;
    assert_eq!(one.status(), 200);
    assert_eq!(one.json::<Value>().await.unwrap(), bob);
    let all = d.get_json("/contacts", &t).await;
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Bob", "Me"]);

    // Delete: 204, then 404.
    assert_eq!(
        d.delete_auth(&format!("/contacts/{other}"), &t)
            .await
            .status(),
        204
    );
    assert_error(d.delete_auth(&format!("/contacts/{other}"), &t).await, 404).await;
    assert_error(d.get_auth(&format!("/contacts/{other}"), &t).await, 404).await;

    // Invalid node ids: 400 everywhere.
    for bad in ["nope", "12D3KooW0OIl", "QmShort"] {
        let path = format!("/contacts/{bad}");
        let msg = assert_error(d.get_auth(&path, &t).await, 400).await;
        assert!(msg.contains("node_id"), "{msg}");
        assert_error(d.delete_auth(&path, &t).await, 400).await;
        assert_error(put(&d, &path, &t, json!({"name": "x"})).await, 400).await;
        let body = json!({"node_id": bad, "name": "x"});
        assert_error(d.post_auth("/contacts", &t, body).await, 400).await;
    }
    // Names and notes are bounded.
    for body in [
        json!({"name": ""}),
        json!({"name": "n".repeat(65)}),
        json!({"name": "a\u{1}b"}),
        json!({"name": "x", "note": "n".repeat(1025)}),
        json!({}),
        json!({"name": "x", "node_id": other}),
    ] {
        let path = format!("/contacts/{other}");
        assert_error(put(&d, &path, &t, body).await, 400).await;
    }
    let resp = put(
        &d,
        &format!("/contacts/{other}"),
        &t,
        json!({"name": "n".repeat(64), "note": "line one\nline two"}),
    )
    .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn contacts_stop_at_a_thousand() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..4u32 {
        let http = d.http.clone();
        let url = d.url("/contacts");
        let t = t.clone();
        tasks.spawn(async move {
            for i in (worker..1000).step_by(4) {
                let resp = http
                    .post(&url)
                    .bearer_auth(&t)
                    .json(&json!({"node_id": peer_id(i), "name": format!("n{i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 201, "contact {i}");
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    assert_eq!(
        d.get_json("/contacts", &t).await.as_array().unwrap().len(),
        1000
    );
    let body = json!({"node_id": peer_id(1000), "name": "one too many"});
    let msg = assert_error(d.post_auth("/contacts", &t, body).await, 409).await;
    assert!(msg.contains("1000"), "{msg}");
    // Updating one that exists still works.
    let resp = d
        .post_auth(
            "/contacts",
            &t,
            json!({"node_id": peer_id(7), "name": "seven"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn profile_and_contacts_need_the_owner() {
    let d = TestDaemon::start().await;
    let id = peer_id(3);
    let routes = [
        ("GET", "/profile".to_owned()),
        ("PUT", "/profile".to_owned()),
        ("POST", "/profile/push-test".to_owned()),
        ("GET", "/contacts".to_owned()),
        ("POST", "/contacts".to_owned()),
        ("GET", format!("/contacts/{id}")),
        ("PUT", format!("/contacts/{id}")),
        ("DELETE", format!("/contacts/{id}")),
    ];
    for (method, path) in &routes {
        for bearer in [None, Some("not-a-session")] {
            let mut req = d
                .http
                .request(method.parse().unwrap(), d.url(path))
                .json(&json!({"name": "x", "node_id": id}));
            if let Some(b) = bearer {
                req = req.bearer_auth(b);
            }
            assert_error(req.send().await.unwrap(), 401).await;
        }
    }
}
