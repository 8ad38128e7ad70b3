//! Folder-backed vaults: a real folder on disk, a real daemon watching it.
//! Local edits become versions, API changes are written back atomically,
//! ignore rules hold, and edits that race become conflicts, not overwrites.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{TestDaemon, assert_error, eventually, pseudo_random};

async fn owner(d: &TestDaemon) -> String {
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    t
}

async fn bound_vault(d: &TestDaemon, t: &str, name: &str, folder: &Path) -> Value {
    let resp = d
        .post_auth(
            "/vaults",
            t,
            json!({"name": name, "folder": folder.to_str().unwrap()}),
        )
        .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    resp.json().await.unwrap()
}

async fn listing(d: &TestDaemon, t: &str, vid: &str) -> Vec<String> {
    let list: Value = d
        .get_auth(&format!("/vaults/{vid}/files"), t)
        .await
        .json()
        .await
        .unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect()
}

async fn download(d: &TestDaemon, t: &str, vid: &str, path: &str) -> Option<Vec<u8>> {
    let resp = d
        .get_auth(&format!("/vaults/{vid}/download{path}"), t)
        .await;
    (resp.status() == 200).then_some(resp.bytes().await.unwrap().to_vec())
}

async fn upload(d: &TestDaemon, t: &str, vid: &str, path: &str, body: &[u8]) -> Value {
    let resp = d.upload(t, vid, path, body).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn patch(d: &TestDaemon, t: &str, vid: &str, body: Value) -> reqwest::Response {
    d.patch_auth(&format!("/vaults/{vid}"), t, body).await
}

async fn status(d: &TestDaemon, t: &str, vid: &str) -> Value {
    d.get_auth(&format!("/vaults/{vid}/scan-status"), t)
        .await
        .json()
        .await
        .unwrap()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn folder_syncs_both_ways() {
    let d = TestDaemon::start().await;
    let t = owner(&d).await;
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    let big = pseudo_random(3 << 20, 41);
    std::fs::write(root.join("a.txt"), b"first").unwrap();
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::write(root.join("sub/deeper/big.bin"), &big).unwrap();
    std::fs::write(root.join(".holdfastignore"), "*.tmp\nbuild/\n").unwrap();
    std::fs::write(root.join("scratch.tmp"), b"ignored").unwrap();
    std::fs::create_dir_all(root.join("build")).unwrap();
    std::fs::write(root.join("build/out.o"), b"ignored too").unwrap();

    let v = bound_vault(&d, &t, "Documents", root).await;
    let vid = v["id"].as_str().unwrap().to_owned();
    assert_eq!(
        v["folder"],
        std::fs::canonicalize(root).unwrap().to_str().unwrap()
    );

    // The scan ingests what is not ignored.
    let want = ["/.holdfastignore", "/a.txt", "/sub/deeper/big.bin"];
    eventually("the first scan", || async {
        (listing(&d, &t, &vid).await == want).then_some(())
    })
    .await;
    assert_eq!(
        download(&d, &t, &vid, "/sub/deeper/big.bin").await.unwrap(),
        big
    );
    let s = status(&d, &t, &vid).await;
    assert_eq!(s["watching"], true, "{s}");
    assert!(s["scans"].as_u64().unwrap() >= 1, "{s}");
    assert_eq!(s["walked"], 3, "{s}");

    // A local edit becomes a new version; a new local file appears.
    std::fs::write(root.join("a.txt"), b"second, longer").unwrap();
    std::fs::write(root.join("sub/new.md"), b"# notes").unwrap();
    eventually("the local edit", || async {
        (download(&d, &t, &vid, "/a.txt").await.as_deref() == Some(b"second, longer".as_slice()))
            .then_some(())
    })
    .await;
    eventually("the new local file", || async {
        download(&d, &t, &vid, "/sub/new.md").await
    })
    .await;
    let history: Value = d
        .get_auth(&format!("/vaults/{vid}/history/a.txt"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2);

    // A local delete tombstones the file (its history stays).
    std::fs::remove_file(root.join("sub/deeper/big.bin")).unwrap();
    eventually("the local delete", || async {
        (!listing(&d, &t, &vid)
            .await
            .contains(&"/sub/deeper/big.bin".to_owned()))
        .then_some(())
    })
    .await;

    // Changes through the API are written into the folder.
    upload(&d, &t, &vid, "/from-api/report.txt", b"written by the API").await;
    eventually("write-back of a new file", || async {
        std::fs::read(root.join("from-api/report.txt"))
            .ok()
            .filter(|b| b == b"written by the API")
    })
    .await;
    upload(&d, &t, &vid, "/a.txt", b"third, from the API").await;
    eventually("write-back of an update", || async {
        std::fs::read(root.join("a.txt"))
            .ok()
            .filter(|b| b == b"third, from the API")
    })
    .await;
    let resp = d
        .http
        .delete(d.url(&format!("/vaults/{vid}/files/sub/new.md")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    eventually("write-back of a delete", || async {
        (!root.join("sub/new.md").exists()).then_some(())
    })
    .await;
    // Restoring an old version writes it back too.
    let first = blake3::hash(b"first").to_hex().to_string();
    let resp = d
        .post_auth(
            &format!("/vaults/{vid}/restore/a.txt"),
            &t,
            json!({"content_hash": first}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    eventually("write-back of a restore", || async {
        std::fs::read(root.join("a.txt"))
            .ok()
            .filter(|b| b == b"first")
    })
    .await;

    // Write-back leaves no temporary files, and its own writes are not
    // taken for local edits.
    let s = status(&d, &t, &vid).await;
    assert!(s["written_back"].as_u64().unwrap() >= 3, "{s}");
    assert_eq!(s["removed"], 1, "{s}");
    assert_eq!(s["conflicts"], 0, "{s}");
    assert_eq!(s["errors"], 0, "{s}");
    assert!(
        !names_in(root)
            .iter()
            .any(|n| n.starts_with(".holdfast-tmp")),
        "{:?}",
        names_in(root)
    );
    let history: Value = d
        .get_auth(&format!("/vaults/{vid}/history/a.txt"), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 4, "{history}");

    // The ignored files were never touched or taken in.
    assert_eq!(std::fs::read(root.join("scratch.tmp")).unwrap(), b"ignored");
    let all = listing(&d, &t, &vid).await;
    assert!(
        !all.iter()
            .any(|p| p.ends_with(".tmp") || p.starts_with("/build"))
    );
}

/// A folder-backed vault where `/plan.txt` was edited in the folder and
/// through the API while sync was paused (so it has two heads once
/// resumed), and `/gone.txt` was deleted in the folder but edited through
/// the API. Answers the vault id, the folder, the API upload's FileJSON and
/// the conflicted file's FileJSON.
pub async fn conflicted_vault(
    d: &TestDaemon,
    t: &str,
) -> (String, tempfile::TempDir, Value, Value) {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    std::fs::write(root.join("plan.txt"), b"base").unwrap();
    std::fs::write(root.join("gone.txt"), b"base of the deleted one").unwrap();
    let v = bound_vault(d, t, "Plans", root).await;
    let vid = v["id"].as_str().unwrap().to_owned();
    eventually("the first scan", || async {
        (listing(d, t, &vid).await.len() == 2).then_some(())
    })
    .await;

    // With sync paused, both sides change.
    let resp = patch(d, t, &vid, json!({"sync_paused": true})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["sync_paused"], true);
    assert_eq!(status(d, t, &vid).await["paused"], true);
    std::fs::write(root.join("plan.txt"), b"my local edit").unwrap();
    let remote = upload(d, t, &vid, "/plan.txt", b"an edit from elsewhere").await;
    std::fs::remove_file(root.join("gone.txt")).unwrap();
    upload(d, t, &vid, "/gone.txt", b"edited elsewhere").await;

    // On resume neither edit is lost.
    let resp = patch(d, t, &vid, json!({"sync_paused": false})).await;
    assert_eq!(resp.status(), 200);
    let file = eventually("the conflict", || async {
        let f: Value = d
            .get_auth(&format!("/vaults/{vid}/files/plan.txt"), t)
            .await
            .json()
            .await
            .unwrap();
        (!f["conflicts"].as_array().unwrap().is_empty()).then_some(f)
    })
    .await;
    (vid, folder, remote, file)
}

#[tokio::test]
async fn racing_edits_become_a_conflict_not_an_overwrite() {
    let d = TestDaemon::start().await;
    let t = owner(&d).await;
    let (vid, folder, remote, file) = conflicted_vault(&d, &t).await;
    let root = folder.path();
    let mine = blake3::hash(b"my local edit").to_hex().to_string();
    assert_eq!(file["content_hash"], mine, "{file}");
    assert_eq!(file["conflicts"], json!([remote["content_hash"]]), "{file}");
    // The listing says so too.
    let list: Value = d
        .get_auth(&format!("/vaults/{vid}/files"), &t)
        .await
        .json()
        .await
        .unwrap();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/plan.txt")
        .unwrap();
    assert_eq!(row["conflicts"], file["conflicts"], "{list}");
    // The folder keeps the local edit; the other side is one version away.
    assert_eq!(
        std::fs::read(root.join("plan.txt")).unwrap(),
        b"my local edit"
    );
    let old = d
        .get_auth(
            &format!(
                "/vaults/{vid}/version/plan.txt?content_hash={}",
                remote["content_hash"].as_str().unwrap()
            ),
            &t,
        )
        .await;
    assert_eq!(
        old.bytes().await.unwrap().as_ref(),
        b"an edit from elsewhere"
    );
    // A local delete loses to a remote edit: the edit comes back.
    eventually("the remote edit restored", || async {
        std::fs::read(root.join("gone.txt"))
            .ok()
            .filter(|b| b == b"edited elsewhere")
    })
    .await;
    assert_eq!(status(&d, &t, &vid).await["conflicts"], 1);

    // Picking the other side writes it into the folder.
    let resp = d
        .post_auth(
            &format!("/vaults/{vid}/resolve-conflict/plan.txt"),
            &t,
            json!({"content_hash": remote["content_hash"]}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    eventually("the resolution written back", || async {
        std::fs::read(root.join("plan.txt"))
            .ok()
            .filter(|b| b == b"an edit from elsewhere")
    })
    .await;
}

#[tokio::test]
async fn binding_checks_the_folder_and_survives_restarts() {
    let d = TestDaemon::start().await;
    let t = owner(&d).await;
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path().to_path_buf();
    let resp = d.post_auth("/vaults", &t, json!({"name": "Plain"})).await;
    let vid = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = d.data_dir().to_str().unwrap().to_owned();
    for bad in [
        json!("relative/path"),
        json!("/no/such/folder/anywhere"),
        json!("/"),
        json!(data),
        json!(format!("{data}/blocks")),
        json!("x".repeat(5000)),
    ] {
        assert_error(patch(&d, &t, &vid, json!({"folder": bad})).await, 400).await;
    }
    // A failed create keeps no half-made vault.
    assert_error(
        d.post_auth("/vaults", &t, json!({"name": "Bad", "folder": "nope"}))
            .await,
        400,
    )
    .await;
    let all: Value = d.get_auth("/vaults", &t).await.json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);

    // Existing vault content is written into a newly bound folder.
    upload(&d, &t, &vid, "/docs/kept.txt", b"from before the binding").await;
    let resp = patch(&d, &t, &vid, json!({"folder": root.to_str().unwrap()})).await;
    assert_eq!(resp.status(), 200);
    eventually("the checkout", || async {
        std::fs::read(root.join("docs/kept.txt")).ok()
    })
    .await;
    // Two vaults cannot share a folder (or nest).
    let inner = root.join("docs");
    assert_error(
        d.post_auth(
            "/vaults",
            &t,
            json!({"name": "Nested", "folder": inner.to_str().unwrap()}),
        )
        .await,
        400,
    )
    .await;

    // Edits made while the daemon is down are found at the next start.
    let (_, dir) = d.stop().await;
    std::fs::write(root.join("offline.txt"), b"written while stopped").unwrap();
    let d = TestDaemon::start_in(dir).await;
    let t = d.login(crate::harness::PASSWORD).await;
    // Locked after the restart: the scan waits for the identity.
    eventually("waiting for unlock", || async {
        (status(&d, &t, &vid).await["waiting_for_unlock"] == true).then_some(())
    })
    .await;
    let resp = d
        .post_auth(
            "/identity/unlock",
            &t,
            json!({"passphrase": crate::harness::PASSPHRASE}),
        )
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    eventually("the offline edit", || async {
        download(&d, &t, &vid, "/offline.txt").await
    })
    .await;
    let s = status(&d, &t, &vid).await;
    assert_eq!(s["errors"], 0, "{s}");

    // Unbinding keeps the folder's files and stops syncing it: neither a
    // local file nor an API upload crosses any more. Binding another folder
    // then checks everything out there, which shows the upload was handled.
    let resp = patch(&d, &t, &vid, json!({"folder": null})).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["folder"], Value::Null);
    std::fs::write(root.join("local-after.txt"), b"not taken in").unwrap();
    upload(&d, &t, &vid, "/after.txt", b"not written back").await;
    let other = tempfile::tempdir().unwrap();
    let resp = patch(
        &d,
        &t,
        &vid,
        json!({"folder": other.path().to_str().unwrap()}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    eventually("the checkout into the new folder", || async {
        std::fs::read(other.path().join("after.txt")).ok()
    })
    .await;
    assert!(root.join("offline.txt").exists());
    assert!(!root.join("after.txt").exists());
    assert!(
        !listing(&d, &t, &vid)
            .await
            .contains(&"/local-after.txt".to_owned())
    );
    assert!(!other.path().join("local-after.txt").exists());
}
