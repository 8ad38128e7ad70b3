//! The S3 gateway's object and bucket operations through the AWS SDK:
//! objects are vault files both ways, metadata, ranges, conditionals,
//! listing, versions, copies, batch deletes, buckets as vaults.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, Delete, EncodingType, MetadataDirective, ObjectIdentifier,
    VersioningConfiguration,
};
use serde_json::Value;

use crate::s3_support::{S3Node, code, status};

pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(data))
}

pub async fn body(out: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test]
async fn objects_are_vault_files_with_metadata_etags_and_ranges() {
    let n = S3Node::start().await;
    let vault = n.vault("photos").await;
    let s3 = n.admin_client().await;
    let data = b"hello, holdfast s3".to_vec();
    let put = s3
        .put_object()
        .bucket("photos")
        .key("2024/trip/a.txt")
        .body(ByteStream::from(data.clone()))
        .content_type("text/plain")
        .content_disposition("attachment; filename=\"a.txt\"")
        .metadata("Camera", "X100")
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag().unwrap(), format!("\"{}\"", md5_hex(&data)));
    assert!(put.version_id().is_some());

    let got = s3
        .get_object()
        .bucket("photos")
        .key("2024/trip/a.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.content_disposition(),
        Some("attachment; filename=\"a.txt\"")
    );
    assert_eq!(
        got.metadata().unwrap().get("camera").map(String::as_str),
        Some("X100")
    );
    assert_eq!(got.e_tag(), put.e_tag());
    assert_eq!(body(got).await, data);

    let head = s3
        .head_object()
        .bucket("photos")
        .key("2024/trip/a.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(data.len() as i64));

    // Ranges: 206 with Content-Range; past the end is InvalidRange (416).
    let part = s3
        .get_object()
        .bucket("photos")
        .key("2024/trip/a.txt")
        .range("bytes=7-14")
        .send()
        .await
        .unwrap();
    assert_eq!(
        part.content_range(),
        Some(&*format!("bytes 7-14/{}", data.len()))
    );
    assert_eq!(body(part).await, &data[7..15]);
    let e = s3
        .get_object()
        .bucket("photos")
        .key("2024/trip/a.txt")
        .range("bytes=500-600")
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e).as_str(), status(&e)), ("InvalidRange", 416));

    // The object is a file of the vault over REST...
    let r =
        n.d.get_auth(
            &format!("/vaults/{vault}/download/2024/trip/a.txt"),
            &n.token,
        )
        .await;
    assert_eq!(r.bytes().await.unwrap().as_ref(), data.as_slice());
    // ...and a file uploaded over REST is an object.
    let r =
        n.d.upload(&n.token, &vault, "/from-rest.bin", b"rest bytes")
            .await;
    assert!(r.status().is_success());
    let got = s3
        .get_object()
        .bucket("photos")
        .key("from-rest.bin")
        .send()
        .await
        .unwrap();
    assert!(
        got.e_tag().unwrap().ends_with("-1\""),
        "not an MD5: {:?}",
        got.e_tag()
    );
    assert_eq!(body(got).await, b"rest bytes");

    // Missing objects and buckets.
    let e = s3
        .get_object()
        .bucket("photos")
        .key("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e).as_str(), status(&e)), ("NoSuchKey", 404));
    let e = s3
        .get_object()
        .bucket("nobucket")
        .key("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchBucket");
    // Keys Holdfast cannot hold as a path unchanged are refused, not renamed.
    let e = s3
        .put_object()
        .bucket("photos")
        .key("dir/")
        .body(ByteStream::from_static(b""))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidArgument");
}

#[tokio::test]
async fn conditional_reads_and_writes() {
    let n = S3Node::start().await;
    n.vault("cond").await;
    let s3 = n.admin_client().await;
    let put = |k: &'static str, d: &'static [u8]| {
        s3.put_object()
            .bucket("cond")
            .key(k)
            .body(ByteStream::from_static(d))
    };
    let first = put("k", b"one").if_none_match("*").send().await.unwrap();
    let e = put("k", b"two")
        .if_none_match("*")
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e).as_str(), status(&e)), ("PreconditionFailed", 412));
    let e = put("k", b"two")
        .if_match("\"0000\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "PreconditionFailed");
    put("k", b"two")
        .if_match(first.e_tag().unwrap())
        .send()
        .await
        .unwrap();
    let etag = s3
        .head_object()
        .bucket("cond")
        .key("k")
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();

    let e = s3
        .get_object()
        .bucket("cond")
        .key("k")
        .if_none_match(&etag)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 304);
    let e = s3
        .get_object()
        .bucket("cond")
        .key("k")
        .if_match("\"other\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 412);
    let future = aws_sdk_s3::primitives::DateTime::from_secs(4_000_000_000);
    let past = aws_sdk_s3::primitives::DateTime::from_secs(1_000_000_000);
    let e = s3
        .get_object()
        .bucket("cond")
        .key("k")
        .if_modified_since(future)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 304);
    let e = s3
        .get_object()
        .bucket("cond")
        .key("k")
        .if_unmodified_since(past)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 412);
    let ok = s3
        .get_object()
        .bucket("cond")
        .key("k")
        .if_modified_since(past)
        .if_match(&etag)
        .send()
        .await
        .unwrap();
    assert_eq!(body(ok).await, b"two");
}

#[tokio::test]
async fn listing_pages_by_prefix_delimiter_and_markers() {
    let n = S3Node::start().await;
    n.vault("lst").await;
    let s3 = n.admin_client().await;
    let keys = ["a/1", "a/2", "b", "c/x/1", "c/y", "d e", "e"];
    for k in keys {
        s3.put_object()
            .bucket("lst")
            .key(k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    // Everything, in order, two at a time.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket("lst")
            .max_keys(2)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        seen.extend(page.contents().iter().map(|o| o.key().unwrap().to_owned()));
        assert!(page.key_count().unwrap() <= 2);
        if !page.is_truncated().unwrap() {
            break;
        }
        token = page.next_continuation_token().map(str::to_owned);
    }
    assert_eq!(seen, keys);

    // Delimiter: common prefixes count as entries.
    let page = s3
        .list_objects_v2()
        .bucket("lst")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let cps: Vec<_> = page
        .common_prefixes()
        .iter()
        .map(|c| c.prefix().unwrap())
        .collect();
    assert_eq!(cps, ["a/", "c/"]);
    let objs: Vec<_> = page.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(objs, ["b", "d e", "e"]);
    let page = s3
        .list_objects_v2()
        .bucket("lst")
        .prefix("c/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert_eq!(page.common_prefixes()[0].prefix(), Some("c/x/"));
    assert_eq!(page.contents()[0].key(), Some("c/y"));

    // start-after, and encoding-type=url (the Rust SDK leaves decoding to
    // its caller; boto3 decodes).
    let page = s3
        .list_objects_v2()
        .bucket("lst")
        .start_after("c/y")
        .send()
        .await
        .unwrap();
    let objs: Vec<_> = page.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(objs, ["d e", "e"]);
    let page = s3
        .list_objects_v2()
        .bucket("lst")
        .prefix("d")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(page.contents()[0].key(), Some("d%20e"));

    // ListObjects v1 with a marker.
    let v1 = s3
        .list_objects()
        .bucket("lst")
        .marker("b")
        .max_keys(3)
        .send()
        .await
        .unwrap();
    let objs: Vec<_> = v1.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(objs, ["c/x/1", "c/y", "d e"]);
    assert_eq!(v1.is_truncated(), Some(true));
}

#[tokio::test]
async fn versions_are_the_version_dag_and_suspension_is_honoured() {
    let n = S3Node::start().await;
    n.vault("ver").await;
    let s3 = n.admin_client().await;
    let status_of = s3
        .get_bucket_versioning()
        .bucket("ver")
        .send()
        .await
        .unwrap();
    assert_eq!(status_of.status(), Some(&BucketVersioningStatus::Enabled));
    let v1 = s3
        .put_object()
        .bucket("ver")
        .key("doc")
        .body(ByteStream::from_static(b"first"))
        .send()
        .await
        .unwrap();
    let v2 = s3
        .put_object()
        .bucket("ver")
        .key("doc")
        .body(ByteStream::from_static(b"second"))
        .send()
        .await
        .unwrap();
    let (id1, id2) = (
        v1.version_id().unwrap().to_owned(),
        v2.version_id().unwrap().to_owned(),
    );
    assert_ne!(id1, id2);

    let list = s3
        .list_object_versions()
        .bucket("ver")
        .send()
        .await
        .unwrap();
    let vs: Vec<_> = list
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap(), v.is_latest().unwrap()))
        .collect();
    assert_eq!(vs, [(id2.as_str(), true), (id1.as_str(), false)]);
    let old = s3
        .get_object()
        .bucket("ver")
        .key("doc")
        .version_id(&id1)
        .send()
        .await
        .unwrap();
    assert_eq!(body(old).await, b"first");
    let e = s3
        .get_object()
        .bucket("ver")
        .key("doc")
        .version_id("f00d")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchVersion");

    // Delete: a marker; GET is 404; removing the marker brings it back.
    let del = s3
        .delete_object()
        .bucket("ver")
        .key("doc")
        .send()
        .await
        .unwrap();
    assert_eq!(del.delete_marker(), Some(true));
    let e = s3
        .get_object()
        .bucket("ver")
        .key("doc")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchKey");
    let list = s3
        .list_object_versions()
        .bucket("ver")
        .send()
        .await
        .unwrap();
    assert_eq!(list.delete_markers().len(), 1);
    s3.delete_object()
        .bucket("ver")
        .key("doc")
        .version_id(del.version_id().unwrap())
        .send()
        .await
        .unwrap();
    let back = s3
        .get_object()
        .bucket("ver")
        .key("doc")
        .send()
        .await
        .unwrap();
    assert_eq!(body(back).await, b"second");

    // Removing the current version makes the previous one current.
    s3.delete_object()
        .bucket("ver")
        .key("doc")
        .version_id(&id2)
        .send()
        .await
        .unwrap();
    let prev = s3
        .get_object()
        .bucket("ver")
        .key("doc")
        .send()
        .await
        .unwrap();
    assert_eq!(body(prev).await, b"first");
    // Removing every version empties the bucket for good.
    s3.delete_object()
        .bucket("ver")
        .key("doc")
        .version_id(&id1)
        .send()
        .await
        .unwrap();
    let list = s3
        .list_object_versions()
        .bucket("ver")
        .send()
        .await
        .unwrap();
    assert!(list.versions().is_empty() && list.delete_markers().is_empty());
    s3.delete_bucket().bucket("ver").send().await.unwrap();

    // Suspended: no version ids are named.
    n.vault("sus").await;
    s3.put_bucket_versioning()
        .bucket("sus")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let got = s3
        .get_bucket_versioning()
        .bucket("sus")
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), Some(&BucketVersioningStatus::Suspended));
    let put = s3
        .put_object()
        .bucket("sus")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.version_id(), None);
    let list = s3
        .list_object_versions()
        .bucket("sus")
        .send()
        .await
        .unwrap();
    assert_eq!(list.versions()[0].version_id(), Some("null"));
}

#[tokio::test]
async fn copies_keep_or_replace_metadata_within_and_across_buckets() {
    let n = S3Node::start().await;
    n.vault("src").await;
    n.vault("dst").await;
    let s3 = n.admin_client().await;
    let data = vec![42u8; 300_000];
    let put = s3
        .put_object()
        .bucket("src")
        .key("orig.bin")
        .body(ByteStream::from(data.clone()))
        .content_type("application/x-test")
        .metadata("k", "v")
        .send()
        .await
        .unwrap();
    // COPY (default): metadata and ETag kept.
    let c = s3
        .copy_object()
        .bucket("src")
        .key("copy.bin")
        .copy_source("src/orig.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(c.copy_object_result().unwrap().e_tag(), put.e_tag());
    let h = s3
        .head_object()
        .bucket("src")
        .key("copy.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(h.content_type(), Some("application/x-test"));
    assert_eq!(
        h.metadata().unwrap().get("k").map(String::as_str),
        Some("v")
    );
    // REPLACE: new headers; across buckets the bytes are sealed again.
    s3.copy_object()
        .bucket("dst")
        .key("moved.bin")
        .copy_source("src/orig.bin")
        .metadata_directive(MetadataDirective::Replace)
        .content_type("image/png")
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("dst")
        .key("moved.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("image/png"));
    assert!(got.metadata().is_none_or(|m| m.is_empty()));
    assert_eq!(got.e_tag(), put.e_tag());
    assert_eq!(body(got).await, data);
    // Copying onto itself without REPLACE is refused, as S3 does.
    let e = s3
        .copy_object()
        .bucket("src")
        .key("orig.bin")
        .copy_source("src/orig.bin")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequest");
    let e = s3
        .copy_object()
        .bucket("src")
        .key("x")
        .copy_source("src/missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchKey");
}

#[tokio::test]
async fn batch_deletes_report_each_key_and_refuse_oversized_batches() {
    let n = S3Node::start().await;
    n.vault("bat").await;
    let s3 = n.admin_client().await;
    for k in ["a", "b", "c"] {
        s3.put_object()
            .bucket("bat")
            .key(k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let ids = |keys: &[&str]| {
        Delete::builder()
            .set_objects(Some(
                keys.iter()
                    .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
                    .collect(),
            ))
            .build()
            .unwrap()
    };
    let out = s3
        .delete_objects()
        .bucket("bat")
        .delete(ids(&["a", "b", "never"]))
        .send()
        .await
        .unwrap();
    assert_eq!(out.deleted().len(), 3);
    assert!(out.errors().is_empty());
    let left = s3.list_objects_v2().bucket("bat").send().await.unwrap();
    assert_eq!(left.contents().len(), 1);

    let many: Vec<String> = (0..10_000).map(|i| format!("k{i}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let e = s3
        .delete_objects()
        .bucket("bat")
        .delete(ids(&refs))
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e).as_str(), status(&e)), ("MalformedXML", 400));
    // The batch was refused whole: "c" is still there.
    assert!(s3.head_object().bucket("bat").key("c").send().await.is_ok());
}

#[tokio::test]
async fn buckets_are_vaults() {
    let n = S3Node::start().await;
    let s3 = n.admin_client().await;
    s3.create_bucket()
        .bucket("made-by-s3")
        .send()
        .await
        .unwrap();
    let e = s3
        .create_bucket()
        .bucket("made-by-s3")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "BucketAlreadyOwnedByYou");
    let e = s3
        .create_bucket()
        .bucket("Bad_Name")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidBucketName");
    // The bucket is a vault with that alias.
    let vaults: Value = n.d.get_json("/vaults", &n.token).await;
    let v = vaults
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "made-by-s3")
        .expect("a vault was made");
    let id = v["id"].as_str().unwrap().to_owned();
    // It answers by alias and by id.
    s3.head_bucket().bucket("made-by-s3").send().await.unwrap();
    s3.head_bucket().bucket(&id).send().await.unwrap();
    let names: Vec<_> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .map(|b| b.name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["made-by-s3"]);
    s3.get_bucket_location()
        .bucket("made-by-s3")
        .send()
        .await
        .unwrap();
    // What Holdfast does not do answers NotImplemented, never a fake success.
    let e = s3
        .get_bucket_tagging()
        .bucket("made-by-s3")
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e).as_str(), status(&e)), ("NotImplemented", 501));
    let e = s3
        .get_bucket_policy()
        .bucket("made-by-s3")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotImplemented");

    s3.put_object()
        .bucket("made-by-s3")
        .key("f")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let e = s3
        .delete_bucket()
        .bucket("made-by-s3")
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e).as_str(), status(&e)), ("BucketNotEmpty", 409));
    s3.delete_object()
        .bucket("made-by-s3")
        .key("f")
        .send()
        .await
        .unwrap();
    s3.delete_bucket()
        .bucket("made-by-s3")
        .send()
        .await
        .unwrap();
    let e = s3
        .head_bucket()
        .bucket("made-by-s3")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404);
}

#[tokio::test]
async fn quota_overrun_is_quota_exceeded_and_keeps_nothing() {
    let n = S3Node::start().await;
    let id = n.vault("small").await;
    let r =
        n.d.patch_auth(
            &format!("/vaults/{id}"),
            &n.token,
            serde_json::json!({"hard_quota": 1000}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let s3 = n.admin_client().await;
    let e = s3
        .put_object()
        .bucket("small")
        .key("big")
        .body(ByteStream::from(vec![0u8; 5000]))
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e).as_str(), status(&e)), ("QuotaExceeded", 403));
    assert!(
        s3.list_objects_v2()
            .bucket("small")
            .send()
            .await
            .unwrap()
            .contents()
            .is_empty()
    );
}

/// An object written or deleted through S3 in a folder-backed vault lands
/// in (and leaves) the folder on disk, as a REST upload does.
#[tokio::test]
async fn s3_writes_reach_a_vaults_folder_on_disk() {
    let n = S3Node::start().await;
    let folder = tempfile::tempdir().unwrap();
    let v: Value =
        n.d.post_auth(
            "/vaults",
            &n.token,
            serde_json::json!({"name": "on-disk", "folder": folder.path().to_str().unwrap()}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = v["id"].as_str().unwrap();
    n.d.put_auth(
        &format!("/vaults/{id}/s3-alias"),
        &n.token,
        serde_json::json!({"alias": "on-disk"}),
    )
    .await;
    let s3 = n.admin_client().await;
    s3.put_object()
        .bucket("on-disk")
        .key("notes/today.txt")
        .body(ByteStream::from_static(b"written over S3"))
        .send()
        .await
        .unwrap();
    let file = folder.path().join("notes/today.txt");
    crate::harness::eventually("the object on disk", || async {
        (std::fs::read(&file).ok()? == b"written over S3").then_some(())
    })
    .await;
    s3.delete_object()
        .bucket("on-disk")
        .key("notes/today.txt")
        .send()
        .await
        .unwrap();
    crate::harness::eventually("the file gone from disk", || async {
        (!file.exists()).then_some(())
    })
    .await;
}
