//! An object written through S3 on one device reads the same through S3
//! on another: the S3 metadata travels, sealed, with the version.

use aws_sdk_s3::primitives::ByteStream;
use serde_json::{Value, json};

use crate::mesh::Node;
use crate::s3_support::{client_for, s3_addr, s3_config};

async fn s3_client(n: &Node, vault: &str) -> aws_sdk_s3::Client {
    let r =
        n.d.put_auth(
            &format!("/vaults/{vault}/s3-alias"),
            &n.token,
            json!({"alias": "shared"}),
        )
        .await;
    assert!(r.status().is_success());
    let k: Value = n.post_ok("/s3/keys", json!({})).await;
    let id = k["access_key_id"].as_str().unwrap();
    let r =
        n.d.put_auth(
            "/s3/permissions",
            &n.token,
            json!({"key_id": id, "bucket": "*", "ops": ["read", "write", "delete"]}),
        )
        .await;
    assert!(r.status().is_success());
    client_for(
        &format!("http://{}", s3_addr(&n.d)),
        id,
        k["secret_access_key"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn an_s3_object_reads_the_same_on_another_device() {
    let (a, b) = (
        Node::start_with(&s3_config()).await,
        Node::start_with(&s3_config()).await,
    );
    let net = a.create_network().await;
    b.join_network(&a.invite(&net).await).await;
    a.wait_connected(&b.peer_id().await).await;
    let vault = a.create_vault("shared", 2).await;
    a.share_and_join(&vault, &[&b]).await;

    let on_a = s3_client(&a, &vault).await;
    let put = on_a
        .put_object()
        .bucket("shared")
        .key("report.pdf")
        .content_type("application/pdf")
        .metadata("author", "me")
        .body(ByteStream::from_static(b"%PDF-1.7 pretend"))
        .send()
        .await
        .unwrap();
    b.wait_file(&vault, "/report.pdf", b"%PDF-1.7 pretend")
        .await;

    let on_b = s3_client(&b, &vault).await;
    let got = crate::harness::eventually("the object on the other device", || async {
        on_b.head_object()
            .bucket("shared")
            .key("report.pdf")
            .send()
            .await
            .ok()
    })
    .await;
    assert_eq!(got.e_tag(), put.e_tag(), "the MD5 ETag travelled");
    assert_eq!(got.content_type(), Some("application/pdf"));
    assert_eq!(
        got.metadata().unwrap().get("author").map(String::as_str),
        Some("me")
    );
}
