//! Conflicts a person can decide: the vault's `conflict_count` (from the
//! catalog's divergent heads, so it survives a restart), the origin of each
//! side, and resolving with keep-both (the other side kept under a new name,
//! written into the folder too).

use serde_json::{Value, json};

use crate::harness::{PASSPHRASE, TestDaemon, assert_error, eventually};

async fn owner(d: &TestDaemon) -> String {
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    t
}

async fn get(d: &TestDaemon, t: &str, path: &str) -> Value {
    let resp = d.get_auth(path, t).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

/// The vault as GET /vaults/{id} and as its entry in GET /vaults say.
async fn both_views(d: &TestDaemon, t: &str, vid: &str) -> (Value, Value) {
    let one = get(d, t, &format!("/vaults/{vid}")).await;
    let list = get(d, t, "/vaults").await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == vid)
        .cloned()
        .unwrap();
    (one, listed)
}

async fn conflict_count(d: &TestDaemon, t: &str, vid: &str) -> (Value, Value) {
    let (one, listed) = both_views(d, t, vid).await;
    (
        one["conflict_count"].clone(),
        listed["conflict_count"].clone(),
    )
}

#[tokio::test]
async fn conflict_count_comes_from_the_catalog_and_survives_a_restart() {
    let d = TestDaemon::start().await;
    let t = owner(&d).await;
    let (vid, _folder, remote, file) = crate::folders::conflicted_vault(&d, &t).await;
    // plan.txt is conflicted; gone.txt (a local delete against a remote
    // edit) is not: the edit wins.
    assert_eq!(conflict_count(&d, &t, &vid).await, (json!(1), json!(1)));

    // Each side says where it came from.
    assert_eq!(file["origin"], "folder", "{file}");
    assert_eq!(remote["origin"], "upload", "{remote}");
    let info = get(&d, &t, &format!("/vaults/{vid}/info/plan.txt")).await;
    let mut heads: Vec<&str> = info["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["head"] == true)
        .map(|v| v["origin"].as_str().unwrap())
        .collect();
    heads.sort_unstable();
    assert_eq!(heads, ["folder", "upload"], "{info}");

    // Durable: after a restart (locked, so no key is needed to count).
    let d = d.restart().await;
    let (one, _) = both_views(&d, &t, &vid).await;
    assert_eq!(one["key_state"], "locked");
    assert_eq!(conflict_count(&d, &t, &vid).await, (json!(1), json!(1)));

    // Resolving brings it to 0.
    let resp = d
        .post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
        .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let resp = d
        .post_auth(
            &format!("/vaults/{vid}/resolve-conflict/plan.txt"),
            &t,
            json!({"content_hash": remote["content_hash"]}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["origin"], "resolve", "{v}");
    assert!(v.get("kept_as").is_none(), "{v}");
    assert_eq!(conflict_count(&d, &t, &vid).await, (json!(0), json!(0)));
}

#[tokio::test]
async fn keep_both_keeps_the_other_side_under_a_new_name() {
    let d = TestDaemon::start().await;
    let t = owner(&d).await;
    let (vid, folder, remote, file) = crate::folders::conflicted_vault(&d, &t).await;
    let root = folder.path();
    let before = get(&d, &t, &format!("/vaults/{vid}")).await;

    // A name that is taken is refused, and nothing changes.
    assert_error(
        d.post_auth(
            &format!("/vaults/{vid}/resolve-conflict/plan.txt"),
            &t,
            json!({"content_hash": file["content_hash"], "keep_both_as": "/gone.txt"}),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(conflict_count(&d, &t, &vid).await, (json!(1), json!(1)));

    // Keep the folder's side at plan.txt and the web's under a new name.
    let resp = d
        .post_auth(
            &format!("/vaults/{vid}/resolve-conflict/plan.txt"),
            &t,
            json!({"content_hash": file["content_hash"], "keep_both": true}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["content_hash"], file["content_hash"], "{v}");
    assert_eq!(v["conflicts"], json!([]), "{v}");
    let kept = v["kept_as"].as_str().unwrap().to_owned();
    assert!(
        kept.starts_with("/plan (conflict from the web ") && kept.ends_with(").txt"),
        "{kept}"
    );

    // Both files exist; the conflict is gone.
    let copy = get(
        &d,
        &t,
        &format!("/vaults/{vid}/files{}", kept.replace(' ', "%20")),
    )
    .await;
    assert_eq!(copy["content_hash"], remote["content_hash"], "{copy}");
    assert_eq!(copy["origin"], "keep_both");
    // The copy reuses the other side's blocks: no data copied.
    assert_eq!(copy["block_hashes"], remote["block_hashes"]);
    let plan = get(&d, &t, &format!("/vaults/{vid}/files/plan.txt")).await;
    assert_eq!(plan["conflicts"], json!([]), "{plan}");
    let after = get(&d, &t, &format!("/vaults/{vid}")).await;
    assert_eq!(after["conflict_count"], 0);
    assert_eq!(
        after["file_count"],
        before["file_count"].as_u64().unwrap() + 1
    );

    // The folder gets both.
    let name = kept.trim_start_matches('/');
    eventually("the kept copy in the folder", || async {
        std::fs::read(root.join(name))
            .ok()
            .filter(|b| b == b"an edit from elsewhere")
    })
    .await;
    assert_eq!(
        std::fs::read(root.join("plan.txt")).unwrap(),
        b"my local edit"
    );

    // Paused once all agree, nothing waits; a change from the web then
    // waits for the folder, and scan-status counts it.
    let pending = || async {
        let s = get(&d, &t, &format!("/vaults/{vid}/scan-status")).await;
        s["pending"].as_u64().unwrap()
    };
    eventually("write-back caught up", || async {
        let s = get(&d, &t, &format!("/vaults/{vid}/scan-status")).await;
        (s["active"] == false && s["pending"] == 0).then_some(())
    })
    .await;
    let resp = d
        .patch_auth(&format!("/vaults/{vid}"), &t, json!({"sync_paused": true}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(pending().await, 0);
    assert_eq!(d.upload(&t, &vid, "/new.txt", b"new").await.status(), 200);
    assert_eq!(pending().await, 1);
    let resp = d
        .patch_auth(&format!("/vaults/{vid}"), &t, json!({"sync_paused": false}))
        .await;
    assert_eq!(resp.status(), 200);
    eventually("new.txt written once resumed", || async {
        std::fs::read(root.join("new.txt"))
            .ok()
            .filter(|b| b == b"new")
    })
    .await;

    // No conflict left: keep-both again answers 409.
    assert_error(
        d.post_auth(
            &format!("/vaults/{vid}/resolve-conflict/plan.txt"),
            &t,
            json!({"content_hash": file["content_hash"], "keep_both": true}),
        )
        .await,
        409,
    )
    .await;
}
