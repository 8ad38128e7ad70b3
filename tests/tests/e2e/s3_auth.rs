//! Who may do what on the S3 gateway: signatures (headers and presigned
//! URLs, expiry, clock skew), unknown keys, the permission matrix (each
//! operation with and without its grant), Host checks, and the locked
//! identity.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_async::time::StaticTimeSource;

use crate::harness::{raw_http, raw_status};
use crate::s3_support::{S3Node, client_for, code, status};

fn client_at(endpoint: &str, id: &str, secret: &str, now: SystemTime) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(id, secret, None, None, "test"))
        .force_path_style(true)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .time_source(StaticTimeSource::new(now))
        // The SDK corrects its clock from a skew error and retries; the
        // first answer is what this test is about.
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

#[tokio::test]
async fn signatures_keys_skew_and_presigned_urls() {
    let n = S3Node::start().await;
    n.vault("sig").await;
    let (id, secret) = n.key(&[("sig", &["read", "write", "delete"])]).await;
    let s3 = n.client(&id, &secret);
    s3.put_object()
        .bucket("sig")
        .key("k")
        .body(ByteStream::from_static(b"data"))
        .send()
        .await
        .unwrap();

    let e = n
        .client(&id, "wrong-secret-wrong-secret-wrong-secret00")
        .list_objects_v2()
        .bucket("sig")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (code(&e).as_str(), status(&e)),
        ("SignatureDoesNotMatch", 403)
    );
    let e = n
        .client("HFNOSUCHKEY000000000", &secret)
        .list_objects_v2()
        .bucket("sig")
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e).as_str(), status(&e)), ("InvalidAccessKeyId", 403));
    let skewed = client_at(
        &n.endpoint,
        &id,
        &secret,
        SystemTime::now() - Duration::from_secs(20 * 60),
    );
    let e = skewed
        .list_objects_v2()
        .bucket("sig")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "RequestTimeTooSkewed");

    // Presigned GET and PUT work with any HTTP client.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = s3
        .get_object()
        .bucket("sig")
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let r = http.get(get.uri()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"data");
    let put = s3
        .put_object()
        .bucket("sig")
        .key("up")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let r = http
        .put(put.uri())
        .body("via presigned")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let got = s3
        .get_object()
        .bucket("sig")
        .key("up")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"via presigned"
    );
    // A presigned URL past its expiry is refused.
    let signed_long_ago = PresigningConfig::builder()
        .start_time(SystemTime::now() - Duration::from_secs(3600))
        .expires_in(Duration::from_secs(60))
        .build()
        .unwrap();
    let expired = s3
        .get_object()
        .bucket("sig")
        .key("k")
        .presigned(signed_long_ago)
        .await
        .unwrap();
    let r = http.get(expired.uri()).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("<Code>AccessDenied</Code>") || text.contains("Expired"),
        "{text}"
    );
    // A tampered presigned URL does not verify.
    let r = http
        .get(get.uri().replace("/sig/k", "/sig/up"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The key's last use shows in the admin list (written in the background).
    crate::harness::eventually("last_used_ms", || async {
        let keys = n.d.get_json("/s3/keys", &n.token).await;
        keys.as_array()?
            .iter()
            .find(|k| k["access_key_id"] == id.as_str())?["last_used_ms"]
            .as_i64()
    })
    .await;
    // Revoking the key stops it at once.
    n.d.delete_auth(&format!("/s3/keys/{id}"), &n.token).await;
    let e = s3.list_objects_v2().bucket("sig").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidAccessKeyId");
}

/// Each operation class × granted / not granted.
#[tokio::test]
async fn permission_matrix() {
    let n = S3Node::start().await;
    n.vault("perms").await;
    n.vault("other").await;
    let admin = n.admin_client().await;
    admin
        .put_object()
        .bucket("perms")
        .key("obj")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    admin
        .put_object()
        .bucket("other")
        .key("obj")
        .body(ByteStream::from_static(b"y"))
        .send()
        .await
        .unwrap();

    for ops in [&["read"][..], &["write"], &["delete"], &[]] {
        let grants: Vec<(&str, &[&str])> = if ops.is_empty() {
            vec![]
        } else {
            vec![("perms", ops)]
        };
        let (id, secret) = n.key(&grants).await;
        let s3 = client_for(&n.endpoint, &id, &secret);
        let has = |op: &str| ops.contains(&op);
        // 403 AccessDenied (HEAD answers carry no body, so the status).
        let denied = |r: Result<(), (u16, String)>| {
            r.err().is_some_and(|(s, c)| {
                s == 403 && (c == "AccessDenied" || c.starts_with("HTTP") || c == "Forbidden")
            })
        };
        macro_rules! outcome {
            ($fut:expr) => {
                $fut.await.map(|_| ()).map_err(|e| (status(&e), code(&e)))
            };
        }
        // read
        assert_eq!(
            denied(outcome!(s3.get_object().bucket("perms").key("obj").send())),
            !has("read"),
            "{ops:?} get"
        );
        assert_eq!(
            denied(outcome!(s3.head_bucket().bucket("perms").send())),
            !has("read"),
            "{ops:?} head bucket"
        );
        assert_eq!(
            denied(outcome!(s3.list_objects_v2().bucket("perms").send())),
            !has("read"),
            "{ops:?} list"
        );
        assert_eq!(
            denied(outcome!(s3.list_object_versions().bucket("perms").send())),
            !has("read"),
            "{ops:?} versions"
        );
        // write
        assert_eq!(
            denied(outcome!(
                s3.put_object()
                    .bucket("perms")
                    .key("new")
                    .body(ByteStream::from_static(b"z"))
                    .send()
            )),
            !has("write"),
            "{ops:?} put"
        );
        assert_eq!(
            denied(outcome!(
                s3.create_multipart_upload()
                    .bucket("perms")
                    .key("mp")
                    .send()
            )),
            !has("write"),
            "{ops:?} multipart"
        );
        // copy needs write here and read on the source
        let copied = outcome!(
            s3.copy_object()
                .bucket("perms")
                .key("c")
                .copy_source("perms/obj")
                .send()
        );
        assert_eq!(
            denied(copied),
            !(has("write") && has("read")),
            "{ops:?} copy"
        );
        // delete
        assert_eq!(
            denied(outcome!(
                s3.delete_object().bucket("perms").key("gone").send()
            )),
            !has("delete"),
            "{ops:?} delete"
        );
        // Nothing at all in a bucket without a grant, listing included.
        assert!(denied(outcome!(
            s3.get_object().bucket("other").key("obj").send()
        )));
        assert!(denied(outcome!(
            s3.list_objects_v2().bucket("other").send()
        )));
        // Creating buckets needs write on '*'.
        assert!(denied(outcome!(
            s3.create_bucket().bucket("newbucket").send()
        )));
        // ListBuckets shows only granted buckets.
        let names: Vec<String> = s3
            .list_buckets()
            .send()
            .await
            .unwrap()
            .buckets()
            .iter()
            .map(|b| b.name().unwrap().to_owned())
            .collect();
        let want: Vec<String> = if ops.is_empty() {
            vec![]
        } else {
            vec!["perms".to_owned()]
        };
        assert_eq!(names, want, "{ops:?}");
    }
}

#[tokio::test]
async fn foreign_hosts_and_locked_identity_are_refused() {
    let n = S3Node::start().await;
    n.vault("hosts").await;
    let s3 = n.admin_client().await;
    let answer = raw_http(
        n.addr,
        "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(raw_status(&answer), 403);
    assert!(
        answer.to_ascii_lowercase().contains("x-amz-request-id"),
        "{answer}"
    );
    let host = format!("127.0.0.1:{}", n.addr.port());
    let answer = raw_http(
        n.addr,
        &format!(
            "GET / HTTP/1.1\r\nHost: {host}\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(raw_status(&answer), 403);
    // Unsigned requests are refused.
    let answer = raw_http(
        n.addr,
        &format!("GET /hosts HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(raw_status(&answer), 403, "{answer}");

    let r =
        n.d.post_auth("/identity/lock", &n.token, serde_json::json!({}))
            .await;
    assert!(r.status().is_success(), "{}", r.status());
    let e = s3
        .list_objects_v2()
        .bucket("hosts")
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e).as_str(), status(&e)), ("ServiceUnavailable", 503));
}
