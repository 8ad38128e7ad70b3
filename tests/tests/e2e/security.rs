//! Host and Origin policy: a loopback listener refuses requests addressed to
//! other names (DNS rebinding) and cross-origin browser requests.

use crate::harness::{TestDaemon, raw_body, raw_http, raw_status};

fn get_with(d: &TestDaemon, headers: &str) -> String {
    raw_http(
        d.addr,
        &format!("GET /api/v1/version HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"),
    )
}

#[tokio::test]
async fn foreign_host_headers_are_refused() {
    let d = TestDaemon::start().await;
    let port = d.addr.port();
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        "127.0.0.1".to_owned(),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
    ] {
        let answer = get_with(&d, &format!("Host: {host}\r\n"));
        assert_eq!(raw_status(&answer), 403, "{host}: {answer}");
        let body: serde_json::Value = serde_json::from_str(raw_body(&answer)).unwrap();
        assert!(body["error"].as_str().unwrap().contains("Host"), "{body}");
    }
    // No Host at all (HTTP/1.0 style) is refused too.
    let answer = raw_http(d.addr, "GET /api/v1/version HTTP/1.0\r\n\r\n");
    assert_eq!(raw_status(&answer), 403, "{answer}");
}

#[tokio::test]
async fn loopback_names_are_accepted() {
    let d = TestDaemon::start().await;
    let port = d.addr.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let answer = get_with(&d, &format!("Host: {host}\r\n"));
        assert_eq!(raw_status(&answer), 200, "{host}: {answer}");
    }
}

#[tokio::test]
async fn cross_origin_requests_are_refused() {
    let d = TestDaemon::start().await;
    let port = d.addr.port();
    let host = format!("Host: localhost:{port}\r\n");
    for origin in [
        "https://evil.example",
        "null",
        &format!("http://127.0.0.1:{port}"),
    ] {
        let answer = get_with(&d, &format!("{host}Origin: {origin}\r\n"));
        assert_eq!(raw_status(&answer), 403, "{origin}: {answer}");
    }
    let answer = get_with(&d, &format!("{host}Origin: http://localhost:{port}\r\n"));
    assert_eq!(raw_status(&answer), 200, "{answer}");
    // A cross-origin preflight gets no CORS grant.
    let answer = raw_http(
        d.addr,
        &format!(
            "OPTIONS /api/v1/auth/login HTTP/1.1\r\n{host}Origin: https://evil.example\r\n\
             Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(
        !answer
            .to_ascii_lowercase()
            .contains("access-control-allow-origin"),
        "{answer}"
    );
}
