//! TLS for the REST listener. A configured cert/key pair is used as given.
//! A listener reachable from the network with no pair configured gets a
//! self-signed one, made once and kept in `<data dir>/tls/`, so passwords
//! never cross a network in clear; clients pin its SHA-256 fingerprint, which
//! `/system/status` reports. Loopback listeners stay plain HTTP by default.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use axum_server::tls_rustls::RustlsConfig;
use holdfast_core::Paths;
use holdfast_core::config::ApiConfig;
use holdfast_core::fsutil::{self, Mode};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sha2::{Digest, Sha256};

pub struct TlsMaterial {
    pub config: RustlsConfig,
    /// The certificate file clients can pin or trust.
    pub cert_file: PathBuf,
    /// SHA-256 of the leaf certificate (DER), as colon-separated uppercase hex.
    pub fingerprint: String,
}

/// Make sure the process has a rustls crypto provider (ring). Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Decide whether the API speaks TLS, and load or create its material.
pub async fn prepare(api: &ApiConfig, paths: &Paths) -> anyhow::Result<Option<TlsMaterial>> {
    let (cert_file, key_file) = match (&api.cert_file, &api.key_file) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone()),
        _ if api.bind.ip().is_loopback() => return Ok(None),
        _ => ensure_self_signed(api, &paths.tls_dir())?,
    };
    let cert = std::fs::read(&cert_file)
        .with_context(|| format!("api.cert_file: cannot read {}", cert_file.display()))?;
    let key = std::fs::read(&key_file)
        .with_context(|| format!("api.key_file: cannot read {}", key_file.display()))?;
    let fingerprint = fingerprint_of_pem(&cert).with_context(|| {
        format!(
            "api.cert_file: {} holds no PEM certificate",
            cert_file.display()
        )
    })?;
    let config = RustlsConfig::from_pem(cert, key)
        .await
        .map_err(|e| anyhow!("api.cert_file/api.key_file: unusable TLS pair: {e}"))?;
    Ok(Some(TlsMaterial {
        config,
        cert_file,
        fingerprint,
    }))
}

/// SHA-256 fingerprint of the first certificate in a PEM file.
pub fn fingerprint_of_pem(pem: &[u8]) -> anyhow::Result<String> {
    let der = CertificateDer::from_pem_slice(pem).map_err(|e| anyhow!("{e}"))?;
    Ok(fingerprint_of_der(&der))
}

pub fn fingerprint_of_der(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn ensure_self_signed(api: &ApiConfig, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let cert_file = dir.join("cert.pem");
    let key_file = dir.join("key.pem");
    if cert_file.exists() && key_file.exists() {
        return Ok((cert_file, key_file));
    }
    fsutil::create_private_dir(dir)?;
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !api.bind.ip().is_unspecified() {
        names.push(api.bind.ip().to_string());
    }
    let pair = rcgen::generate_simple_self_signed(names).context("generating a TLS certificate")?;
    fsutil::write_atomic(
        &key_file,
        pair.signing_key.serialize_pem().as_bytes(),
        Mode::Private,
    )?;
    fsutil::write_atomic(&cert_file, pair.cert.pem().as_bytes(), Mode::Public)?;
    tracing::info!(
        fingerprint = %fingerprint_of_der(pair.cert.der()),
        "created a self-signed TLS certificate for the API"
    );
    Ok((cert_file, key_file))
}
