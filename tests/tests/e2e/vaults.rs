//! Vaults and files over HTTP: CRUD, streaming upload/download, Range,
//! versions (history, restore, version download), tombstones, dedup, quota,
//! lock behaviour, path validation, persistence.

use serde_json::{Value, json};

use crate::harness::{
    PASSPHRASE, TestDaemon, assert_error, block_files, files_under, pseudo_random, raw_body,
    raw_http, raw_status,
};
use crate::ipc::ready;

async fn vault(d: &TestDaemon, t: &str, name: &str, quota: Option<u64>) -> String {
    let resp = d
        .post_auth("/vaults", t, json!({"name": name, "hard_quota": quota}))
        .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let v: Value = resp.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

async fn upload(
    d: &TestDaemon,
    t: &str,
    vid: &str,
    path: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    d.upload(t, vid, path, &body).await
}

async fn bytes(resp: reqwest::Response) -> Vec<u8> {
    resp.bytes().await.unwrap().to_vec()
}

fn block_count(d: &TestDaemon) -> usize {
    block_files(d.data_dir()).len()
}

#[tokio::test]
async fn vault_crud() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    assert_error(
        d.post_auth("/vaults", &t, json!({"name": "Docs"})).await,
        403,
    )
    .await;
    d.init_identity(&t).await;
    let id = vault(&d, &t, "Docs", None).await;
    assert_error(
        d.post_auth("/vaults", &t, json!({"name": "Docs"})).await,
        409,
    )
    .await;
    assert_error(d.post_auth("/vaults", &t, json!({"name": ""})).await, 400).await;
    let v: Value = d
        .get_auth(&format!("/vaults/{id}"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["name"], "Docs");
    assert_eq!(v["key_state"], "available");
    assert_eq!(v["byte_count"], 0);
    let resp = d
        .http
        .patch(d.url(&format!("/vaults/{id}")))
        .bearer_auth(&t)
        .json(&json!({"name": "Papers", "hard_quota": 1000, "rf_target": 2}))
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        (
            v["name"].as_str(),
            v["hard_quota"].as_u64(),
            v["rf_target"].as_u64()
        ),
        (Some("Papers"), Some(1000), Some(2))
    );
    let resp = d
        .http
        .patch(d.url(&format!("/vaults/{id}")))
        .bearer_auth(&t)
        .json(&json!({"hard_quota": null}))
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert!(v["hard_quota"].is_null());
    assert_eq!(v["name"], "Papers");
    let list: Value = d.get_auth("/vaults", &t).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let resp = d
        .http
        .delete(d.url(&format!("/vaults/{id}")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_error(d.get_auth(&format!("/vaults/{id}"), &t).await, 404).await;
    assert_error(d.get("/vaults").await, 401).await;
}

#[tokio::test]
async fn upload_download_versions_and_tombstones() {
    let (d, t) = ready().await;
    let vid = vault(&d, &t, "Files", None).await;
    let v1 = pseudo_random(6 * 1024 * 1024 + 123, 1);
    let resp = upload(&d, &t, &vid, "/2026/photo.jpg", v1.clone()).await;
    assert_eq!(resp.status(), 200);
    let f: Value = resp.json().await.unwrap();
    assert_eq!(f["path"], "/2026/photo.jpg");
    assert_eq!(f["size"], v1.len() as u64);
    assert_eq!(f["content_hash"], blake3::hash(&v1).to_hex().as_str());
    assert!(
        f["block_hashes"].as_array().unwrap().len() >= 2,
        "multi-chunk"
    );

    let resp = d
        .get_auth(&format!("/vaults/{vid}/download/2026/photo.jpg"), &t)
        .await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("photo.jpg")
    );
    assert_eq!(bytes(resp).await, v1);

    // A second version, then history, version download and restore.
    let v2 = b"second version".to_vec();
    let f2: Value = upload(&d, &t, &vid, "/2026/photo.jpg", v2.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f2["parents"][0], f["version_id"]);
    let h: Value = d
        .get_auth(&format!("/vaults/{vid}/history/2026/photo.jpg"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(h.as_array().unwrap().len(), 2);
    assert_eq!(h[0]["content_hash"], f2["content_hash"], "newest first");
    let old = d
        .get_auth(
            &format!(
                "/vaults/{vid}/version/2026/photo.jpg?content_hash={}",
                f["content_hash"].as_str().unwrap()
            ),
            &t,
        )
        .await;
    assert_eq!(bytes(old).await, v1);
    let r: Value = d
        .post_auth(
            &format!("/vaults/{vid}/restore/2026/photo.jpg"),
            &t,
            json!({"content_hash": f["content_hash"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["content_hash"], f["content_hash"]);
    let now = d
        .get_auth(&format!("/vaults/{vid}/download/2026/photo.jpg"), &t)
        .await;
    assert_eq!(bytes(now).await, v1);
    let resp = d
        .post_auth(
            &format!("/vaults/{vid}/restore/2026/photo.jpg"),
            &t,
            json!({"content_hash": "00"}),
        )
        .await;
    assert_error(resp, 404).await;

    // Listing with a prefix; tombstones.
    upload(&d, &t, &vid, "/notes.txt", b"hi".to_vec()).await;
    let all: Value = d
        .get_auth(&format!("/vaults/{vid}/files"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    let sub: Value = d
        .get_auth(&format!("/vaults/{vid}/files?path=/2026"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sub.as_array().unwrap().len(), 1);
    let resp = d
        .http
        .delete(d.url(&format!("/vaults/{vid}/files/notes.txt")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_error(
        d.get_auth(&format!("/vaults/{vid}/download/notes.txt"), &t)
            .await,
        404,
    )
    .await;
    let live: Value = d
        .get_auth(&format!("/vaults/{vid}/files"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live.as_array().unwrap().len(), 1);
    let with_deleted: Value = d
        .get_auth(&format!("/vaults/{vid}/files?include_deleted=1"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(with_deleted.as_array().unwrap().len(), 2);
    let meta: Value = d
        .get_auth(&format!("/vaults/{vid}/files/notes.txt"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(meta["deleted"], true);
    let resp = d
        .http
        .delete(d.url(&format!("/vaults/{vid}/files/notes.txt")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_error(resp, 404).await;
    let v: Value = d
        .get_auth(&format!("/vaults/{vid}"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["byte_count"], v1.len() as u64);
    assert_eq!(v["file_count"], 1);

    // Everything survives a restart.
    let d = d.restart().await;
    d.post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
        .await;
    let again = d
        .get_auth(&format!("/vaults/{vid}/download/2026/photo.jpg"), &t)
        .await;
    assert_eq!(bytes(again).await, v1);
}

#[tokio::test]
async fn range_requests() {
    let (d, t) = ready().await;
    let vid = vault(&d, &t, "Media", None).await;
    let data = pseudo_random(3 * 1024 * 1024 + 7, 2);
    upload(&d, &t, &vid, "/movie.mkv", data.clone()).await;
    let get = |range: &'static str| {
        d.http
            .get(d.url(&format!("/vaults/{vid}/stream/movie.mkv")))
            .bearer_auth(&t)
            .header("Range", range)
            .send()
    };
    let resp = get("bytes=0-1023").await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes 0-1023/{}", data.len()).as_str()
    );
    assert_eq!(bytes(resp).await, &data[..1024]);
    // Across a chunk boundary (chunks are at least 256 KiB).
    let resp = get("bytes=1000000-2100000").await.unwrap();
    assert_eq!(bytes(resp).await, &data[1_000_000..=2_100_000]);
    let resp = get("bytes=-10").await.unwrap();
    assert_eq!(bytes(resp).await, &data[data.len() - 10..]);
    let resp = get("bytes=3000000-").await.unwrap();
    assert_eq!(bytes(resp).await, &data[3_000_000..]);
    let resp = get("bytes=99999999-").await.unwrap();
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes */{}", data.len()).as_str()
    );
    assert_error(resp, 416).await;
    let resp = get("bytes=0-1,5-9").await.unwrap();
    assert_eq!(resp.status(), 200, "multi-range: the whole body");
    // The stream route takes ?token= (for <video src>).
    let resp = d
        .get(&format!("/vaults/{vid}/stream/movie.mkv?token={t}"))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["accept-ranges"], "bytes");
    // The download route does not.
    assert_error(
        d.get(&format!("/vaults/{vid}/download/movie.mkv?token={t}"))
            .await,
        401,
    )
    .await;
}

#[tokio::test]
async fn identical_content_is_stored_once_and_inserts_add_at_most_two_blocks() {
    let (d, t) = ready().await;
    let vid = vault(&d, &t, "Dedup", None).await;
    let data = pseudo_random(24 * 1024 * 1024, 3);
    upload(&d, &t, &vid, "/a.bin", data.clone()).await;
    let after_first = block_count(&d);
    assert!(
        after_first >= 6,
        "24 MiB makes many ~1 MiB blocks, got {after_first}"
    );
    upload(&d, &t, &vid, "/copy.bin", data.clone()).await;
    assert_eq!(
        block_count(&d),
        after_first,
        "a second upload of the same bytes adds no blocks"
    );
    let mut edited = data.clone();
    edited.insert(data.len() / 2, 0x42);
    upload(&d, &t, &vid, "/a.bin", edited.clone()).await;
    assert!(
        block_count(&d) - after_first <= 2,
        "{} new blocks",
        block_count(&d) - after_first
    );
    let back = d
        .get_auth(&format!("/vaults/{vid}/download/a.bin"), &t)
        .await;
    assert_eq!(bytes(back).await, edited);
    // Blocks hold no plaintext.
    let needle = &data[5000..5064];
    for f in files_under(&d.data_dir().join("blocks"), "") {
        let b = std::fs::read(&f).unwrap();
        assert!(
            !b.windows(needle.len()).any(|w| w == needle),
            "plaintext in {f:?}"
        );
    }
}

#[tokio::test]
async fn quota_overrun_is_507_and_keeps_nothing() {
    let (d, t) = ready().await;
    let vid = vault(&d, &t, "Small", Some(3 * 1024 * 1024)).await;
    upload(&d, &t, &vid, "/fits.bin", pseudo_random(2 * 1024 * 1024, 4)).await;
    let before = block_count(&d);
    assert!(before >= 1);
    let resp = upload(
        &d,
        &t,
        &vid,
        "/too-big.bin",
        pseudo_random(2 * 1024 * 1024, 5),
    )
    .await;
    assert_eq!(resp.status(), 507);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "vault quota exceeded");
    assert_eq!(body["vault_id"], vid.as_str());
    assert_eq!(body["hard_quota"], 3 * 1024 * 1024);
    // The upload's full size (from Content-Length), not where it stopped.
    assert_eq!(body["would_be_size"], 4 * 1024 * 1024);
    assert_eq!(block_count(&d), before, "nothing partial kept");
    // A size that cannot fit is refused before the body is sent: the
    // answer comes though only 5 of the announced bytes ever arrive.
    let addr = d.base_url().trim_start_matches("http://").parse().unwrap();
    let answer = raw_http(
        addr,
        &format!(
            "POST /api/v1/vaults/{vid}/upload/huge.bin HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {t}\r\nContent-Length: 5242880\r\n\r\nhello"
        ),
    );
    assert_eq!(raw_status(&answer), 507, "{answer}");
    // The unread body stays on the wire, so the connection is not reused.
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    let body: Value = serde_json::from_str(raw_body(&answer)).unwrap();
    assert_eq!(body["would_be_size"], 7 * 1024 * 1024);
    assert_error(
        d.get_auth(&format!("/vaults/{vid}/files/too-big.bin"), &t)
            .await,
        404,
    )
    .await;
    // Replacing a file counts its new size, not both.
    let resp = upload(
        &d,
        &t,
        &vid,
        "/fits.bin",
        pseudo_random(2 * 1024 * 1024 + 10, 6),
    )
    .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn locked_vaults_refuse_content_but_keep_it() {
    let (d, t) = ready().await;
    let vid = vault(&d, &t, "Private", None).await;
    upload(&d, &t, &vid, "/secret.txt", b"top secret".to_vec()).await;
    d.post_auth("/identity/lock", &t, json!({})).await;
    assert_error(
        d.get_auth(&format!("/vaults/{vid}/download/secret.txt"), &t)
            .await,
        403,
    )
    .await;
    assert_error(upload(&d, &t, &vid, "/more.txt", b"x".to_vec()).await, 403).await;
    let v: Value = d
        .get_auth(&format!("/vaults/{vid}"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["key_state"], "locked");
    d.post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
        .await;
    let back = d
        .get_auth(&format!("/vaults/{vid}/download/secret.txt"), &t)
        .await;
    assert_eq!(bytes(back).await, b"top secret");
}

#[tokio::test]
async fn traversal_tricks_are_refused() {
    let (d, t) = ready().await;
    let vid = vault(&d, &t, "Paths", None).await;
    // Raw requests: an HTTP client library would normalise some of these.
    for bad in [
        "/..%2F..%2Fetc%2Fpasswd",
        "/a/%2E%2E/b",
        "/a/../b",
        "/a%00b",
        "/a%5Cb",
        "/%0A",
        "/./x",
    ] {
        let answer = raw_http(
            d.addr,
            &format!(
                "POST /api/v1/vaults/{vid}/upload{bad} HTTP/1.1\r\nHost: {}\r\n\
                 Authorization: Bearer {t}\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
                d.addr
            ),
        );
        assert_eq!(raw_status(&answer), 400, "{bad}: {answer}");
        assert!(raw_body(&answer).contains("\"error\""), "{answer}");
    }
    let resp = upload(&d, &t, &vid, "//a//b.txt", b"ok".to_vec()).await;
    let f: Value = resp.json().await.unwrap();
    assert_eq!(f["path"], "/a/b.txt", "normalised");
    let resp = upload(&d, &t, "nope", "/x", b"x".to_vec()).await;
    assert_error(resp, 404).await;
}

#[tokio::test]
async fn info_analytics_locality_alias_and_limited_mode() {
    let (d, t) = ready().await;
    let vid = vault(&d, &t, "Views", None).await;
    upload(&d, &t, &vid, "/a/big.MP4", pseudo_random(500_000, 7)).await;
    upload(&d, &t, &vid, "/a/small.txt", b"hello".to_vec()).await;
    upload(&d, &t, &vid, "/a/small.txt", b"hello again".to_vec()).await;

    let info: Value = d
        .get_auth(&format!("/vaults/{vid}/info"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["file_count"], 2);
    assert_eq!(info["replica_health"], "ok");
    assert_eq!(info["replicas"].as_array().unwrap().len(), 1);

    let a: Value = d
        .get_auth(&format!("/vaults/{vid}/analytics"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["top_types"][0]["extension"], "mp4");
    assert_eq!(a["top_consumers"][0]["path"], "/a/big.MP4");
    assert_eq!(a["history"][0]["versions"], 3);

    let s: Value = d
        .get_auth(&format!("/vaults/{vid}/scan-status"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["active"], false);

    let fi: Value = d
        .get_auth(&format!("/vaults/{vid}/info/a/small.txt"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fi["versions"].as_array().unwrap().len(), 2);
    assert_eq!(fi["file"]["size"], 11);
    let loc: Value = d
        .get_auth(&format!("/vaults/{vid}/locality/a/small.txt"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(loc["local"], true);
    assert_eq!(loc["holders"].as_array().unwrap().len(), 1);
    let c = d
        .post_auth(&format!("/vaults/{vid}/cache/a/small.txt"), &t, json!({}))
        .await;
    assert_eq!(c.status(), 200);

    // A single head is no conflict.
    let fj: Value = d
        .get_auth(&format!("/vaults/{vid}/files/a/small.txt"), &t)
        .await
        .json()
        .await
        .unwrap();
    let resp = d
        .post_auth(
            &format!("/vaults/{vid}/resolve-conflict/a/small.txt"),
            &t,
            json!({"content_hash": fj["content_hash"]}),
        )
        .await;
    assert_error(resp, 409).await;

    // S3 alias: validated, unique.
    let put = |vid: String, alias: Value| {
        d.http
            .put(d.url(&format!("/vaults/{vid}/s3-alias")))
            .bearer_auth(&t)
            .json(&json!({"alias": alias}))
            .send()
    };
    assert_eq!(
        put(vid.clone(), json!("photos-2026"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_error(put(vid.clone(), json!("Bad_Name")).await.unwrap(), 400).await;
    let other = vault(&d, &t, "Other", None).await;
    assert_error(put(other, json!("photos-2026")).await.unwrap(), 409).await;
    let info: Value = d
        .get_auth(&format!("/vaults/{vid}/info"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["s3_alias"], "photos-2026");

    // Routes that need the mesh say so (a malformed link is still 400).
    assert_error(
        d.get_auth(&format!("/vaults/{vid}/share-url"), &t).await,
        503,
    )
    .await;
    assert_error(
        d.post_auth("/vaults/join", &t, json!({"url": "x"})).await,
        400,
    )
    .await;
    use base64::Engine;
    let share = json!({"vault_id": "0123456789abcdef0123456789abcdef", "name": "Shared",
        "key": "00".repeat(32), "rf_target": 2, "network_id": null, "addrs": []});
    let url = format!(
        "holdfast://vault/v1/{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(share.to_string())
    );
    assert_error(
        d.post_auth("/vaults/join", &t, json!({"url": url})).await,
        503,
    )
    .await;
    assert_error(d.post_auth("/replicate-now", &t, json!({})).await, 503).await;
}

#[tokio::test]
async fn garbage_collection_honours_retention() {
    let (d, t) = ready().await;
    let vid = vault(&d, &t, "Gc", None).await;
    let v1 = pseudo_random(2 * 1024 * 1024, 41);
    let v2 = pseudo_random(2 * 1024 * 1024, 43);
    upload(&d, &t, &vid, "/doc.bin", v1.clone()).await;
    upload(&d, &t, &vid, "/doc.bin", v2.clone()).await;
    upload(&d, &t, &vid, "/gone.bin", pseudo_random(1024 * 1024, 45)).await;
    d.http
        .delete(d.url(&format!("/vaults/{vid}/files/gone.bin")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    let all_blocks = block_count(&d);

    // Default retention (30 days): nothing is collectable yet.
    let r: Value = d
        .post_auth("/system/gc", &t, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r["versions_pruned"].as_u64(), r["blocks_freed"].as_u64()),
        (Some(0), Some(0)),
        "{r}"
    );
    assert_eq!(block_count(&d), all_blocks);

    // Retention 0: old versions and the tombstoned file go, and their blocks.
    let resp = d
        .http
        .patch(d.url(&format!("/vaults/{vid}")))
        .bearer_auth(&t)
        .json(&json!({"retention_days": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["retention_days"], 0);
    let r: Value = d
        .post_auth("/system/gc", &t, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(r["versions_pruned"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(r["files_purged"], 2, "tombstone and its version: {r}");
    assert!(r["blocks_freed"].as_u64().unwrap() >= 3, "{r}");
    assert!(block_count(&d) < all_blocks);
    let h: Value = d
        .get_auth(&format!("/vaults/{vid}/history/doc.bin"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(h.as_array().unwrap().len(), 1);
    let back = d
        .get_auth(&format!("/vaults/{vid}/download/doc.bin"), &t)
        .await;
    assert_eq!(bytes(back).await, v2, "the head survives");
    let with_deleted: Value = d
        .get_auth(&format!("/vaults/{vid}/files?include_deleted=1"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(with_deleted.as_array().unwrap().len(), 1);

    // Untrusting a vault frees its blocks at the next collection.
    d.http
        .delete(d.url(&format!("/vaults/{vid}")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    d.post_auth("/system/gc", &t, json!({})).await;
    assert_eq!(block_count(&d), 0);
    let out = d.cli(&["fsck"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn racing_uploads_cannot_pass_the_quota_together() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let quota = 3 << 20;
    let vid = vault(&d, &t, "Tight", Some(quota)).await;
    // Each fits alone; both together do not.
    let (a, b) = tokio::join!(
        upload(&d, &t, &vid, "/a.bin", pseudo_random(2 << 20, 101)),
        upload(&d, &t, &vid, "/b.bin", pseudo_random(2 << 20, 202)),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 507]);
    let v: Value = d
        .get_auth(&format!("/vaults/{vid}"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert!(v["byte_count"].as_u64().unwrap() <= quota, "{v}");
    assert_eq!(v["file_count"], 1, "{v}");
}
