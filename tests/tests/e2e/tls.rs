//! HTTPS: a configured certificate, or a self-signed one made on first start
//! when the API is bound beyond loopback; its fingerprint is in the status.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::{PASSWORD, TestDaemon};

fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn fingerprint_of_pem_file(path: &std::path::Path) -> String {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let der = CertificateDer::from_pem_file(path).unwrap();
    fingerprint(&der)
}

#[tokio::test]
async fn configured_certificate_serves_https() {
    let certs = tempfile::tempdir().unwrap();
    let pair =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_file = certs.path().join("api.pem");
    let key_file = certs.path().join("api.key");
    std::fs::write(&cert_file, pair.cert.pem()).unwrap();
    std::fs::write(&key_file, pair.signing_key.serialize_pem()).unwrap();

    let d = TestDaemon::start_with_config(&format!(
        "api:\n  bind: 127.0.0.1:0\n  cert_file: {}\n  key_file: {}\n",
        cert_file.display(),
        key_file.display()
    ))
    .await;
    assert!(d.base.starts_with("https://127.0.0.1:"), "{}", d.base);
    let s: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(s["tls"]["enabled"], true);
    assert_eq!(
        s["tls"]["fingerprint"],
        fingerprint(pair.cert.der()).as_str()
    );

    // Plain HTTP on the TLS port gets no API answer.
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = plain
        .get(format!("http://{}/api/v1/version", d.addr))
        .send()
        .await;
    assert!(answer.is_err() || answer.unwrap().status() != 200);

    // The login flow works over TLS, CLI included.
    use std::io::Write;
    let mut child = d
        .cli(&["set-password", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = d.login(PASSWORD).await;
    assert_eq!(d.get_auth("/whoami", &token).await.status(), 200);
}

#[tokio::test]
async fn network_bind_gets_a_self_signed_certificate_once() {
    let d = TestDaemon::start_with_config("api:\n  bind: 0.0.0.0:0\n").await;
    assert!(d.base.starts_with("https://127.0.0.1:"), "{}", d.base);
    let cert = d.data_dir().join("tls/cert.pem");
    let key = d.data_dir().join("tls/key.pem");
    let expected = fingerprint_of_pem_file(&cert);
    let s: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(s["tls"]["enabled"], true);
    assert_eq!(s["tls"]["fingerprint"], expected.as_str());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // Kept across restarts, so pinned clients keep working.
    let d = d.restart().await;
    let s: Value = d.get("/system/status").await.json().await.unwrap();
    assert_eq!(s["tls"]["fingerprint"], expected.as_str());
}
