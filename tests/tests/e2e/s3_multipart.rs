//! Multipart uploads through the AWS SDK: parts with checksums, listing,
//! completion (ETag `-N`, composite and full-object checksums), part copy,
//! abort, and each error S3 gives for a bad completion.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
};

use crate::s3_objects::{body, md5_hex};
use crate::s3_support::{S3Node, code, status};

const MIB: usize = 1024 * 1024;

fn completed(parts: &[(i32, &str)]) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(*e).build())
                .collect(),
        ))
        .build()
}

#[tokio::test]
async fn multipart_upload_completes_to_one_object() {
    let n = S3Node::start().await;
    n.vault("multi").await;
    let s3 = n.admin_client().await;
    let up = s3
        .create_multipart_upload()
        .bucket("multi")
        .key("big/file.bin")
        .content_type("application/x-big")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_owned();
    let (a, b) = (vec![1u8; 5 * MIB], vec![2u8; 1234]);
    let mut parts = Vec::new();
    for (i, data) in [&a, &b].into_iter().enumerate() {
        let p = s3
            .upload_part()
            .bucket("multi")
            .key("big/file.bin")
            .upload_id(&id)
            .part_number(i as i32 + 1)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(p.e_tag().unwrap(), format!("\"{}\"", md5_hex(data)));
        parts.push(
            CompletedPart::builder()
                .part_number(i as i32 + 1)
                .e_tag(p.e_tag().unwrap())
                .set_checksum_crc32(p.checksum_crc32().map(str::to_owned))
                .build(),
        );
    }
    let listed = s3
        .list_parts()
        .bucket("multi")
        .key("big/file.bin")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.parts().len(), 2);
    assert_eq!(listed.parts()[1].size(), Some(1234));
    let uploads = s3
        .list_multipart_uploads()
        .bucket("multi")
        .send()
        .await
        .unwrap();
    assert_eq!(uploads.uploads()[0].upload_id(), Some(id.as_str()));

    let done = s3
        .complete_multipart_upload()
        .bucket("multi")
        .key("big/file.bin")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        done.e_tag().unwrap().ends_with("-2\""),
        "{:?}",
        done.e_tag()
    );
    let got = s3
        .get_object()
        .bucket("multi")
        .key("big/file.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/x-big"));
    assert_eq!(got.e_tag(), done.e_tag());
    assert!(
        got.checksum_crc32().unwrap().ends_with("-2"),
        "{:?}",
        got.checksum_crc32()
    );
    assert_eq!(body(got).await, [a.clone(), b.clone()].concat());
    // partNumber reads one part.
    let p2 = s3
        .get_object()
        .bucket("multi")
        .key("big/file.bin")
        .part_number(2)
        .send()
        .await
        .unwrap();
    assert_eq!(p2.parts_count(), Some(2));
    assert_eq!(body(p2).await, b);
    // Finished uploads are gone.
    let e = s3
        .list_parts()
        .bucket("multi")
        .key("big/file.bin")
        .upload_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e).as_str(), status(&e)), ("NoSuchUpload", 404));
}

#[tokio::test]
async fn full_object_crc_and_part_copy() {
    let n = S3Node::start().await;
    n.vault("fullobj").await;
    let s3 = n.admin_client().await;
    let src = vec![9u8; 6 * MIB];
    s3.put_object()
        .bucket("fullobj")
        .key("src")
        .body(ByteStream::from(src.clone()))
        .send()
        .await
        .unwrap();
    let up = s3
        .create_multipart_upload()
        .bucket("fullobj")
        .key("dst")
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    let c1 = s3
        .upload_part_copy()
        .bucket("fullobj")
        .key("dst")
        .upload_id(id)
        .part_number(1)
        .copy_source("fullobj/src")
        .copy_source_range(format!("bytes=0-{}", 5 * MIB - 1))
        .send()
        .await
        .unwrap();
    let e1 = c1.copy_part_result().unwrap().e_tag().unwrap().to_owned();
    let tail = vec![7u8; 100];
    let p2 = s3
        .upload_part()
        .bucket("fullobj")
        .key("dst")
        .upload_id(id)
        .part_number(2)
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .body(ByteStream::from(tail.clone()))
        .send()
        .await
        .unwrap();
    let done = s3
        .complete_multipart_upload()
        .bucket("fullobj")
        .key("dst")
        .upload_id(id)
        .multipart_upload(completed(&[(1, &e1), (2, p2.e_tag().unwrap())]))
        .send()
        .await
        .unwrap();
    let whole = [&src[..5 * MIB], &tail[..]].concat();
    // A full-object CRC64NVME equals the CRC of the whole body, which a
    // plain PUT of the same bytes reports.
    let same = s3
        .put_object()
        .bucket("fullobj")
        .key("same")
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .body(ByteStream::from(whole.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(done.checksum_crc64_nvme(), same.checksum_crc64_nvme());
    let got = s3
        .get_object()
        .bucket("fullobj")
        .key("dst")
        .send()
        .await
        .unwrap();
    assert_eq!(body(got).await, whole);
}

#[tokio::test]
async fn bad_completions_answer_as_s3_does() {
    let n = S3Node::start().await;
    n.vault("bad").await;
    let s3 = n.admin_client().await;
    let id = s3
        .create_multipart_upload()
        .bucket("bad")
        .key("k")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let put = |num: i32, data: Vec<u8>| {
        s3.upload_part()
            .bucket("bad")
            .key("k")
            .upload_id(&id)
            .part_number(num)
            .body(ByteStream::from(data))
            .send()
    };
    let small = put(1, vec![1u8; 1000]).await.unwrap();
    let last = put(2, vec![2u8; 10]).await.unwrap();
    let (e1, e2) = (
        small.e_tag().unwrap().to_owned(),
        last.e_tag().unwrap().to_owned(),
    );
    let complete = |parts: CompletedMultipartUpload| {
        s3.complete_multipart_upload()
            .bucket("bad")
            .key("k")
            .upload_id(&id)
            .multipart_upload(parts)
            .send()
    };
    let e = complete(completed(&[(2, &e2), (1, &e1)]))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidPartOrder");
    let e = complete(completed(&[
        (1, "\"00000000000000000000000000000000\""),
        (2, &e2),
    ]))
    .await
    .unwrap_err();
    assert_eq!(code(&e), "InvalidPart");
    let e = complete(completed(&[(1, &e1), (3, &e2)]))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidPart");
    let e = complete(completed(&[(1, &e1), (2, &e2)]))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "EntityTooSmall");
    let e = put(0, vec![1]).await.unwrap_err();
    assert_eq!(code(&e), "InvalidArgument");
    // Abort: the upload is gone; its parts no longer count.
    s3.abort_multipart_upload()
        .bucket("bad")
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    let e = put(3, vec![1]).await.unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");
    let e = s3
        .abort_multipart_upload()
        .bucket("bad")
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");
    assert!(
        s3.list_multipart_uploads()
            .bucket("bad")
            .send()
            .await
            .unwrap()
            .uploads()
            .is_empty()
    );
}

/// The daemon's peak resident memory so far, in bytes.
fn peak_rss(pid: u32) -> u64 {
    status_kb(pid, "VmHWM:") * 1024
}

/// The daemon's resident memory now, in bytes.
fn rss(pid: u32) -> u64 {
    status_kb(pid, "VmRSS:") * 1024
}

fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// 1 GiB in 16 parts of 64 MiB: streamed through, never held; the
/// daemon's peak memory stays far below the object's size.
#[tokio::test]
async fn one_gib_multipart_upload_keeps_memory_flat() {
    let n = S3Node::start().await;
    n.vault("gigabyte").await;
    let s3 = n.admin_client().await;
    // Start the peak from now (Linux: writing 5 to clear_refs resets
    // VmHWM), so identity set-up's Argon2 does not hide the upload's own.
    let _ = std::fs::write(format!("/proc/{}/clear_refs", n.d.pid()), "5");
    let before = rss(n.d.pid());
    let id = s3
        .create_multipart_upload()
        .bucket("gigabyte")
        .key("one.gib")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let mut parts = Vec::new();
    let mut part = vec![0u8; 64 * MIB];
    for i in 0..16u8 {
        // Distinct, incompressible-looking parts (no dedup between them).
        for (j, b) in part.iter_mut().enumerate() {
            *b = (j as u32)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(u32::from(i) << 24)
                .to_le_bytes()[3];
        }
        let p = s3
            .upload_part()
            .bucket("gigabyte")
            .key("one.gib")
            .upload_id(&id)
            .part_number(i32::from(i) + 1)
            .body(ByteStream::from(part.clone()))
            .send()
            .await
            .unwrap();
        parts.push((i32::from(i) + 1, p.e_tag().unwrap().to_owned()));
    }
    let refs: Vec<(i32, &str)> = parts.iter().map(|(n, e)| (*n, e.as_str())).collect();
    let done = s3
        .complete_multipart_upload()
        .bucket("gigabyte")
        .key("one.gib")
        .upload_id(&id)
        .multipart_upload(completed(&refs))
        .send()
        .await
        .unwrap();
    assert!(done.e_tag().unwrap().ends_with("-16\""));
    let head = s3
        .head_object()
        .bucket("gigabyte")
        .key("one.gib")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(1024 * MIB as i64));
    let grew = peak_rss(n.d.pid()).saturating_sub(before);
    println!(
        "1 GiB multipart: daemon peak RSS grew by {} MiB",
        grew / MIB as u64
    );
    assert!(
        grew < 256 * MIB as u64,
        "peak RSS grew by {} MiB for a 1 GiB upload",
        grew / MIB as u64
    );
}
