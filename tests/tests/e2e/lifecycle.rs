//! Start-up, endpoints.json, configuration errors and graceful shutdown.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{TestDaemon, raw_body, raw_status, start_expecting_failure};

#[tokio::test]
async fn endpoints_json_names_the_real_addresses() {
    let d = TestDaemon::start().await;
    let text = std::fs::read_to_string(d.data_dir().join("endpoints.json")).unwrap();
    let e: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(e["pid"].as_u64().unwrap(), d.pid() as u64);
    let addr = e["api"]["addr"].as_str().unwrap();
    assert!(addr.starts_with("127.0.0.1:"));
    assert_ne!(addr, "127.0.0.1:0", "the real port, not the configured 0");
    assert_eq!(e["api"]["url"], format!("http://{addr}"));
    assert!(e["api"]["tls"].is_null());
    let ipc = e["ipc"].as_str().unwrap();
    assert!(
        ipc.starts_with("127.0.0.1:") && ipc != "127.0.0.1:0",
        "{ipc}"
    );
    let hub = e["hub"].as_str().unwrap();
    assert!(
        hub.starts_with("127.0.0.1:") && hub != "127.0.0.1:0",
        "{hub}"
    );
    // The S3 gateway is off unless switched on.
    assert!(e["s3"].is_null());
    assert_eq!(d.get("/version").await.status(), 200);
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let d = TestDaemon::start().await;
    // Start a request and stop half-way through its body.
    let body = br#"{"password":"in flight request"}"#;
    let mut s = TcpStream::connect(d.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        d.addr,
        body.len()
    )
    .unwrap();
    // hyper answers 100 Continue once the handler reads the body: from then
    // on the request is in flight, not an idle connection a shutdown may
    // close (on a busy machine the signal could otherwise come first).
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "connection closed");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    s.write_all(&body[..10]).unwrap();

    // SIGTERM, and wait until the daemon has begun shutting down (it removes
    // endpoints.json first thing).
    d.signal(libc::SIGTERM);
    let endpoints = d.data_dir().join("endpoints.json");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while endpoints.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "shutdown did not start"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The in-flight request still completes with a real answer.
    s.write_all(&body[10..]).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                if String::from_utf8_lossy(&answer).contains("}") {
                    break;
                }
            }
            Err(e) => panic!("in-flight request cut off: {e}"),
        }
    }
    let answer = String::from_utf8(answer).unwrap();
    assert_eq!(raw_status(&answer), 503, "{answer}");
    assert!(raw_body(&answer).contains("no password"), "{answer}");
    drop(s);

    let (status, dir) = d.stop_after_signal().await;
    assert!(status.success(), "exit status {status}");
    // The catalog was closed cleanly: WAL checkpointed and removed.
    assert!(dir.path().join("catalog.sqlite").exists());
    assert!(!dir.path().join("catalog.sqlite-wal").exists());
    assert!(!dir.path().join("cli-admin.token").exists());
    let log = std::fs::read_to_string(dir.path().join("daemon-stderr.log")).unwrap();
    assert!(log.contains("catalog closed"), "{log}");
}

#[tokio::test]
async fn sigint_also_shuts_down_cleanly() {
    let mut d = TestDaemon::start().await;
    d.signal(libc::SIGINT);
    let status = d.wait_exit().await;
    assert!(status.success(), "exit status {status}");
    assert!(!d.data_dir().join("catalog.sqlite-wal").exists());
}

#[tokio::test]
async fn unknown_config_keys_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.yaml"),
        "api:\n  bind: 127.0.0.1:0\n  bnd: x\n",
    )
    .unwrap();
    let (code, stderr) = start_expecting_failure(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("bnd"), "{stderr}");

    std::fs::write(dir.path().join("config.yaml"), "mesh:\n  enabled: true\n").unwrap();
    let (code, stderr) = start_expecting_failure(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("mesh"), "{stderr}");
}

#[tokio::test]
async fn bad_config_values_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (yaml, key) in [
        ("api:\n  bind: localhost-ish\n", "api.bind"),
        ("s3:\n  enabled: sometimes\n", "s3.enabled"),
        ("hub:\n  bind: 127.0.0.1:99999\n", "hub.bind"),
        ("ipc:\n  bind: 0.0.0.0:27777\n", "ipc.bind"),
        (
            "api:\n  bind: 127.0.0.1:0\n  cert_file: /nonexistent.pem\n",
            "api.key_file",
        ),
    ] {
        std::fs::write(dir.path().join("config.yaml"), yaml).unwrap();
        let (code, stderr) = start_expecting_failure(dir.path());
        assert_eq!(code, Some(2), "{yaml}: {stderr}");
        assert!(stderr.contains(key), "{yaml}: {stderr}");
    }
    // A TLS pair that cannot be read fails start-up, naming the key.
    std::fs::write(
        dir.path().join("config.yaml"),
        "api:\n  bind: 127.0.0.1:0\n  cert_file: /nonexistent.pem\n  key_file: /nonexistent.key\n",
    )
    .unwrap();
    let (code, stderr) = start_expecting_failure(dir.path());
    assert_ne!(code, Some(0));
    assert!(stderr.contains("api.cert_file"), "{stderr}");
}

#[tokio::test]
async fn one_daemon_per_data_dir() {
    let d = TestDaemon::start().await;
    let (code, stderr) = start_expecting_failure(d.data_dir());
    assert_ne!(code, Some(0));
    assert!(stderr.contains("already using"), "{stderr}");
    // The first daemon is unaffected.
    assert_eq!(d.get("/version").await.status(), 200);
}

#[tokio::test]
async fn a_taken_port_is_reported() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.yaml"),
        format!("api:\n  bind: {}\n", taken.local_addr().unwrap()),
    )
    .unwrap();
    let (code, stderr) = start_expecting_failure(dir.path());
    assert_ne!(code, Some(0));
    assert!(stderr.contains("cannot listen on"), "{stderr}");
}
