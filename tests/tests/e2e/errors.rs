//! Every failure answers `{"error":"message"}` with the right status,
//! including axum's own rejections.

use serde_json::json;

use crate::harness::{TestDaemon, assert_error, raw_body, raw_http, raw_status};

#[tokio::test]
async fn malformed_json_is_400() {
    let d = TestDaemon::start().await;
    let resp = d
        .http
        .post(d.url("/auth/login"))
        .header("content-type", "application/json")
        .body("{\"password\":")
        .send()
        .await
        .unwrap();
    assert_error(resp, 400).await;
}

#[tokio::test]
async fn missing_or_mistyped_fields_are_400() {
    let d = TestDaemon::start().await;
    assert_error(d.post_json("/auth/login", json!({"pass": "x"})).await, 400).await;
    assert_error(
        d.post_json("/auth/login", json!({"password": 5})).await,
        400,
    )
    .await;
    assert_error(d.post_json("/auth/login", json!([1, 2])).await, 400).await;
}

#[tokio::test]
async fn writes_need_a_json_content_type() {
    let d = TestDaemon::start().await;
    let resp = d
        .http
        .post(d.url("/auth/login"))
        .body("{\"password\":\"x\"}")
        .send()
        .await
        .unwrap();
    assert_error(resp, 415).await;
    let resp = d
        .http
        .post(d.url("/auth/login"))
        .header("content-type", "text/plain")
        .body("{\"password\":\"x\"}")
        .send()
        .await
        .unwrap();
    assert_error(resp, 415).await;
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let d = TestDaemon::start().await;
    let big = "x".repeat(200 * 1024);
    assert_error(
        d.post_json("/auth/login", json!({"password": big})).await,
        413,
    )
    .await;
    // Also when the body is streamed chunked, with no length up front.
    let mut req = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        d.addr
    );
    for _ in 0..25 {
        req.push_str(&format!("1000\r\n{}\r\n", " ".repeat(4096)));
    }
    req.push_str("0\r\n\r\n");
    let answer = raw_http(d.addr, &req);
    assert_eq!(raw_status(&answer), 413, "{answer}");
    let body: serde_json::Value = serde_json::from_str(raw_body(&answer)).unwrap();
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods() {
    let d = TestDaemon::start().await;
    let msg = assert_error(d.get("/no/such/route").await, 404).await;
    assert!(msg.contains("/api/v1/no/such/route"), "{msg}");
    assert_error(
        d.http
            .get(format!("{}/elsewhere", d.base))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_error(d.http.delete(d.url("/version")).send().await.unwrap(), 405).await;
    assert_error(d.get("/auth/login").await, 405).await;
}

#[tokio::test]
async fn bad_query_parameters_are_400() {
    let d = TestDaemon::start().await;
    let token = d.owner_token().await;
    assert_error(
        d.get_auth("/system/metrics?from=yesterday", &token).await,
        400,
    )
    .await;
    assert_error(
        d.get_auth("/system/metrics?from=10&to=5", &token).await,
        400,
    )
    .await;
}
