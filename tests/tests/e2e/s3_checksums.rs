//! Integrity on the S3 gateway: every flexible checksum the SDKs send is
//! verified, stored and returned when asked; a wrong one (header, trailer
//! or Content-MD5) is BadDigest and nothing is kept; bodies cut short,
//! plain or aws-chunked, keep nothing either.

use std::io::{Read, Write};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;

use crate::s3_support::{S3Node, code, status};

#[tokio::test]
async fn every_flexible_checksum_is_verified_stored_and_returned() {
    let n = S3Node::start().await;
    n.vault("sums").await;
    let s3 = n.admin_client().await;
    let data = b"checksummed bytes, of some length".repeat(1000);
    for algo in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ] {
        let key = format!("obj-{}", algo.as_str());
        let put = s3
            .put_object()
            .bucket("sums")
            .key(&key)
            .checksum_algorithm(algo.clone())
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{algo:?}: {e:?}"));
        let sent = [
            put.checksum_crc32(),
            put.checksum_crc32_c(),
            put.checksum_crc64_nvme(),
            put.checksum_sha1(),
            put.checksum_sha256(),
        ];
        assert_eq!(sent.iter().flatten().count(), 1, "{algo:?}: {put:?}");
        let got = s3
            .head_object()
            .bucket("sums")
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let back = [
            got.checksum_crc32(),
            got.checksum_crc32_c(),
            got.checksum_crc64_nvme(),
            got.checksum_sha1(),
            got.checksum_sha256(),
        ];
        assert_eq!(back, sent, "{algo:?}");
        // The SDK validates the checksum of what it downloads, too.
        let got = s3
            .get_object()
            .bucket("sums")
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        assert_eq!(
            got.body.collect().await.unwrap().into_bytes().len(),
            data.len()
        );
    }

    // A wrong checksum in a header, and a wrong Content-MD5: BadDigest.
    let e = s3
        .put_object()
        .bucket("sums")
        .key("wrong")
        .checksum_crc32("AAAAAA==")
        .body(ByteStream::from_static(b"abc"))
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e).as_str(), status(&e)), ("BadDigest", 400));
    let e = s3
        .put_object()
        .bucket("sums")
        .key("wrong")
        .content_md5("1B2M2Y8AsgTpgAmY7PhCfg==")
        .body(ByteStream::from_static(b"abc"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "BadDigest");
    let e = s3
        .head_object()
        .bucket("sums")
        .key("wrong")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404, "nothing was kept");
}

/// A request signed with SigV4 headers for an aws-chunked body with a
/// trailing checksum (what SDKs send), as raw HTTP so the body can be
/// anything.
fn chunked_put(
    n: &S3Node,
    id: &str,
    secret: &str,
    key: &str,
    decoded_len: usize,
    body: &[u8],
    full_len: usize,
) -> String {
    let host = format!("127.0.0.1:{}", n.addr.port());
    let url = format!("http://{host}/chunks/{key}");
    let decoded = decoded_len.to_string();
    let headers = [
        ("host", host.as_str()),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", decoded.as_str()),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ];
    let identity = Credentials::new(id, secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "PUT",
        &url,
        headers.iter().copied(),
        SignableBody::Precomputed("STREAMING-UNSIGNED-PAYLOAD-TRAILER".into()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = format!("PUT /chunks/{key} HTTP/1.1\r\n");
    for (k, v) in headers.iter().copied().chain(instructions.headers()) {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!(
        "content-length: {full_len}\r\nconnection: close\r\n\r\n"
    ));
    let mut s = std::net::TcpStream::connect(n.addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    if body.len() < full_len {
        // The client gives up mid-body.
        let _ = s.shutdown(std::net::Shutdown::Write);
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn crc32_b64(data: &[u8]) -> String {
    use base64::Engine as _;
    let c = crc_of(data);
    base64::engine::general_purpose::STANDARD.encode(c.to_be_bytes())
}

/// CRC-32 (IEEE), bit by bit: small inputs only.
fn crc_of(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunked_body(data: &[u8], trailer_value: &str) -> Vec<u8> {
    let mut b = format!("{:x}\r\n", data.len()).into_bytes();
    b.extend_from_slice(data);
    b.extend_from_slice(
        format!("\r\n0\r\nx-amz-checksum-crc32:{trailer_value}\r\n\r\n").as_bytes(),
    );
    b
}

#[tokio::test]
async fn aws_chunked_trailers_are_verified_and_short_bodies_keep_nothing() {
    let n = S3Node::start().await;
    n.vault("chunks").await;
    let (id, secret) = n.key(&[("chunks", &["read", "write"])]).await;
    let s3 = n.client(&id, &secret);
    let data = vec![b'z'; 100];

    // A whole body with the right trailer is stored, checksum and all.
    let body = chunked_body(&data, &crc32_b64(&data));
    let answer = chunked_put(&n, &id, &secret, "good", data.len(), &body, body.len());
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let h = s3
        .head_object()
        .bucket("chunks")
        .key("good")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(h.checksum_crc32(), Some(crc32_b64(&data).as_str()));

    // The wrong trailer: BadDigest, nothing kept.
    let body = chunked_body(&data, "AAAAAA==");
    let answer = chunked_put(&n, &id, &secret, "bad", data.len(), &body, body.len());
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("BadDigest"), "{answer}");
    assert!(
        s3.head_object()
            .bucket("chunks")
            .key("bad")
            .send()
            .await
            .is_err()
    );

    // Cut short mid-chunk: refused, nothing kept.
    let body = chunked_body(&data, &crc32_b64(&data));
    let answer = chunked_put(
        &n,
        &id,
        &secret,
        "short",
        data.len(),
        &body[..60],
        body.len(),
    );
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        s3.head_object()
            .bucket("chunks")
            .key("short")
            .send()
            .await
            .is_err()
    );

    // A plain body shorter than its Content-Length: nothing kept either.
    let put = s3
        .put_object()
        .bucket("chunks")
        .key("plain")
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(
                60,
            ))
            .unwrap(),
        )
        .await
        .unwrap();
    let path = put
        .uri()
        .split_once("/chunks/")
        .map(|(_, p)| format!("/chunks/{p}"))
        .unwrap();
    let mut s = std::net::TcpStream::connect(n.addr).unwrap();
    write!(s, "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n0123456789", n.addr.port()).unwrap();
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(!out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(
        s3.head_object()
            .bucket("chunks")
            .key("plain")
            .send()
            .await
            .is_err()
    );
}
