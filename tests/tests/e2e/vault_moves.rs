//! Moving (renaming) a file: `POST /vaults/{id}/move/{*path}` records the
//! content at the new path as a new version over the same blocks and
//! tombstones the old path, in one transaction; 409 on a live target unless
//! `overwrite`, 404 on a gone source, 403 read-only or locked, 400 bad
//! paths; events let folder sync follow.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{TestDaemon, assert_error, block_files, eventually, pseudo_random};
use crate::ipc::ready;

async fn vault(d: &TestDaemon, t: &str, body: Value) -> String {
    let resp = d.post_auth("/vaults", t, body).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let v: Value = resp.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

async fn mv(d: &TestDaemon, t: &str, vid: &str, from: &str, body: Value) -> reqwest::Response {
    d.post_auth(&format!("/vaults/{vid}/move{from}"), t, body)
        .await
}

async fn paths(d: &TestDaemon, t: &str, vid: &str, deleted: bool) -> Vec<(String, bool)> {
    let q = if deleted { "?include_deleted=1" } else { "" };
    let list: Value = d.get_json(&format!("/vaults/{vid}/files{q}"), t).await;
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["deleted"].as_bool().unwrap(),
            )
        })
        .collect()
}

async fn content(d: &TestDaemon, t: &str, vid: &str, path: &str) -> Option<Vec<u8>> {
    let resp = d
        .get_auth(&format!("/vaults/{vid}/download{path}"), t)
        .await;
    if resp.status() != 200 {
        return None;
    }
    Some(resp.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn move_reuses_blocks_tombstones_the_source_and_refuses_what_it_must() {
    let (d, t) = ready().await;
    let vid = vault(&d, &t, json!({"name": "Moves"})).await;
    let big = pseudo_random(3 << 20, 7);
    assert_eq!(d.upload(&t, &vid, "/a/big.bin", &big).await.status(), 200);
    assert_eq!(
        d.upload(&t, &vid, "/notes.txt", b"notes").await.status(),
        200
    );
    let before: Value = d
        .get_json(&format!("/vaults/{vid}/files/a/big.bin"), &t)
        .await;
    let blocks = block_files(d.data_dir()).len();

    let mut sse = d.get(&format!("/events/stream?token={t}")).await;
    assert_eq!(sse.status(), 200);

    // Move into a folder that did not exist, with a space in the name.
    let resp = mv(
        &d,
        &t,
        &vid,
        "/a/big.bin",
        json!({"to": "/b c/renamed.bin"}),
    )
    .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let moved: Value = resp.json().await.unwrap();
    assert_eq!(moved["path"], "/b c/renamed.bin");
    assert_eq!(moved["deleted"], false);
    assert_eq!(moved["content_hash"], before["content_hash"]);
    assert_eq!(moved["block_hashes"], before["block_hashes"], "same blocks");
    assert_eq!(moved["size"], big.len());
    assert_eq!(block_files(d.data_dir()).len(), blocks, "no block written");
    assert_eq!(
        content(&d, &t, &vid, "/b%20c/renamed.bin").await.unwrap(),
        big
    );
    assert!(content(&d, &t, &vid, "/a/big.bin").await.is_none());
    assert_eq!(
        paths(&d, &t, &vid, false).await,
        [
            ("/b c/renamed.bin".into(), false),
            ("/notes.txt".into(), false)
        ]
    );
    assert!(
        paths(&d, &t, &vid, true)
            .await
            .contains(&("/a/big.bin".into(), true)),
        "the old path is a tombstone"
    );
    // A file cannot take a folder's name, nor go below another file
    // (folder-backed vaults write these paths to disk), even with overwrite.
    for (to, why) in [
        ("/b c", "folder"),
        ("/b c/renamed.bin/inner.txt", "is a file"),
    ] {
        let body = assert_error(
            mv(
                &d,
                &t,
                &vid,
                "/notes.txt",
                json!({"to": to, "overwrite": true}),
            )
            .await,
            409,
        )
        .await;
        assert!(body.contains(why), "{to}: {body}");
    }
    assert_eq!(content(&d, &t, &vid, "/notes.txt").await.unwrap(), b"notes");

    // The vault's totals are unchanged by a move.
    let v: Value = d.get_json(&format!("/vaults/{vid}"), &t).await;
    assert_eq!(v["file_count"], 2);
    assert_eq!(v["byte_count"], big.len() as u64 + 5);

    // Both changes are announced, as other changes are.
    let mut seen = String::new();
    while !(seen.contains("event: file_deleted") && seen.contains("event: file_updated")) {
        let chunk = tokio::time::timeout(Duration::from_secs(20), sse.chunk())
            .await
            .unwrap_or_else(|_| panic!("no move events in: {seen}"))
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains(r#""path":"/a/big.bin""#), "{seen}");
    assert!(seen.contains(r#""cause":"move""#), "{seen}");

    // The old path's history ends in the tombstone; restore brings it back.
    let hist: Value = d
        .get_json(&format!("/vaults/{vid}/history/a/big.bin"), &t)
        .await;
    assert_eq!(hist[0]["deleted"], true);
    let resp = d
        .post_auth(
            &format!("/vaults/{vid}/restore/a/big.bin"),
            &t,
            json!({"content_hash": before["content_hash"]}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(content(&d, &t, &vid, "/a/big.bin").await.unwrap(), big);

    // A live target: 409, and nothing changes; overwrite replaces it, and
    // the replaced content stays in the target's history.
    let body = assert_error(
        mv(&d, &t, &vid, "/notes.txt", json!({"to": "/a/big.bin"})).await,
        409,
    )
    .await;
    assert!(body.contains("exists"), "{body}");
    assert_eq!(content(&d, &t, &vid, "/notes.txt").await.unwrap(), b"notes");
    let resp = mv(
        &d,
        &t,
        &vid,
        "/notes.txt",
        json!({"to": "/a/big.bin", "overwrite": true}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(content(&d, &t, &vid, "/a/big.bin").await.unwrap(), b"notes");
    let hist: Value = d
        .get_json(&format!("/vaults/{vid}/history/a/big.bin"), &t)
        .await;
    assert!(
        hist.as_array()
            .unwrap()
            .iter()
            .any(|v| v["content_hash"] == before["content_hash"] && v["deleted"] == false)
    );
    // A tombstoned target is no obstacle.
    let resp = mv(&d, &t, &vid, "/a/big.bin", json!({"to": "/notes.txt"})).await;
    assert_eq!(resp.status(), 200);

    // A gone source, an unknown vault: 404.
    assert_error(
        mv(&d, &t, &vid, "/a/big.bin", json!({"to": "/x.txt"})).await,
        404,
    )
    .await;
    assert_error(
        mv(&d, &t, &vid, "/nope.txt", json!({"to": "/x.txt"})).await,
        404,
    )
    .await;
    assert_error(
        mv(&d, &t, "0123", "/notes.txt", json!({"to": "/x.txt"})).await,
        404,
    )
    .await;
    // Bad paths and bodies: 400.
    for bad in [
        json!({"to": "/../etc/passwd"}),
        json!({"to": "/"}),
        json!({"to": "/notes.txt"}),
        json!({"to": "/notes.txt/inside"}),
        json!({"to": "a\\b"}),
        json!({}),
    ] {
        assert_error(mv(&d, &t, &vid, "/notes.txt", bad.clone()).await, 400).await;
    }
    assert_eq!(content(&d, &t, &vid, "/notes.txt").await.unwrap(), b"notes");
}

#[tokio::test]
async fn move_is_refused_in_read_only_and_locked_vaults() {
    let (d, t) = ready().await;
    let vid = vault(&d, &t, json!({"name": "Roles"})).await;
    assert_eq!(d.upload(&t, &vid, "/a.txt", b"a").await.status(), 200);

    let ro = d
        .patch_auth(&format!("/vaults/{vid}"), &t, json!({"read_only": true}))
        .await;
    assert_eq!(ro.status(), 200);
    let body = assert_error(
        mv(&d, &t, &vid, "/a.txt", json!({"to": "/b.txt"})).await,
        403,
    )
    .await;
    assert!(body.contains("read-only"), "{body}");
    d.patch_auth(&format!("/vaults/{vid}"), &t, json!({"read_only": false}))
        .await;

    // A vault behind its own password, locked: 403.
    let pw = vault(
        &d,
        &t,
        json!({"name": "Sealed", "password": "sealed password 1"}),
    )
    .await;
    assert_eq!(d.upload(&t, &pw, "/s.txt", b"s").await.status(), 200);
    let lock = d
        .post_auth(&format!("/vaults/{pw}/lock"), &t, json!({}))
        .await;
    assert!(lock.status().is_success(), "{}", lock.status());
    assert_error(
        mv(&d, &t, &pw, "/s.txt", json!({"to": "/t.txt"})).await,
        403,
    )
    .await;

    // Holdfast locked: 403, and the file stays where it was.
    d.post_auth("/identity/lock", &t, json!({})).await;
    assert_error(
        mv(&d, &t, &vid, "/a.txt", json!({"to": "/b.txt"})).await,
        403,
    )
    .await;
    let v: Value = d.get_json(&format!("/vaults/{vid}/files"), &t).await;
    assert_eq!(v[0]["path"], "/a.txt", "{v}");
}

#[tokio::test]
async fn a_move_in_a_folder_backed_vault_moves_the_file_on_disk() {
    let (d, t) = ready().await;
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    std::fs::write(root.join("draft.txt"), b"draft").unwrap();
    let vid = vault(
        &d,
        &t,
        json!({"name": "Desk", "folder": root.to_str().unwrap()}),
    )
    .await;
    eventually("the first scan", || async {
        content(&d, &t, &vid, "/draft.txt").await
    })
    .await;
    let resp = mv(&d, &t, &vid, "/draft.txt", json!({"to": "/done/final.txt"})).await;
    assert_eq!(resp.status(), 200);
    eventually("the move on disk", || async {
        (std::fs::read(root.join("done/final.txt")).ok().as_deref() == Some(b"draft".as_slice())
            && !root.join("draft.txt").exists())
        .then_some(())
    })
    .await;
}
