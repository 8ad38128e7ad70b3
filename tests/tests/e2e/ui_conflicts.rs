//! Browser tests of the conflicts part of the web UI (tests/ui/conflicts.mjs):
//! the conflict counts on Home, the vault card and the folder panel, the two
//! sides named for what they are with a text diff, each of the three
//! choices, and the paused sync state.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{TestDaemon, eventually};
use crate::ipc::ready;
use crate::ui::run_browser_script_with;

/// Lines of a text file, with `edit` replacing line `at`.
fn text(edit: Option<(usize, &str)>) -> Vec<u8> {
    let mut lines: Vec<String> = (1..=30).map(|i| format!("Line {i} of the plan")).collect();
    if let Some((at, new)) = edit {
        lines[at] = new.to_owned();
    }
    (lines.join("\n") + "\n").into_bytes()
}

/// A vault mirroring a folder where a.txt, b.txt and c.txt were each
/// changed in the folder and over the API while sync was paused: three
/// conflicts.
async fn three_conflicts(d: &TestDaemon, t: &str, root: &Path) -> String {
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(root.join(name), text(None)).unwrap();
    }
    let resp = d
        .post_auth(
            "/vaults",
            t,
            json!({"name": "Plans", "folder": root.to_str().unwrap()}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let vid = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let count = |key: &'static str| {
        let vid = vid.clone();
        async move {
            let v: Value = d
                .get_auth(&format!("/vaults/{vid}"), t)
                .await
                .json()
                .await
                .unwrap();
            v[key].as_u64().unwrap()
        }
    };
    eventually("the first scan", || async {
        (count("file_count").await == 3).then_some(())
    })
    .await;
    let pause = |paused: bool| {
        let vid = vid.clone();
        async move {
            let resp = d
                .patch_auth(&format!("/vaults/{vid}"), t, json!({"sync_paused": paused}))
                .await;
            assert_eq!(resp.status(), 200);
        }
    };
    pause(true).await;
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(
            root.join(name),
            text(Some((4, "Line 5, as changed on this computer"))),
        )
        .unwrap();
        let resp = d
            .upload(
                t,
                &vid,
                &format!("/{name}"),
                &text(Some((20, "Line 21, as changed on the web"))),
            )
            .await;
        assert_eq!(resp.status(), 200);
    }
    pause(false).await;
    eventually("three conflicts", || async {
        (count("conflict_count").await == 3).then_some(())
    })
    .await;
    vid
}

#[tokio::test]
async fn browser_decides_conflicts_and_shows_the_paused_state() {
    let (d, t) = ready().await;
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    let vid = three_conflicts(&d, &t, root).await;
    run_browser_script_with(&d, "conflicts.mjs", &[("HOLDFAST_VAULT", &vid)]).await;

    // The folder follows each choice.
    let local = text(Some((4, "Line 5, as changed on this computer")));
    let web = text(Some((20, "Line 21, as changed on the web")));
    for (name, want) in [("a.txt", &local), ("b.txt", &web), ("c.txt", &local)] {
        eventually(name, || async {
            std::fs::read(root.join(name)).ok().filter(|b| b == want)
        })
        .await;
    }
    let copy = eventually("the kept copy of c.txt in the folder", || async {
        std::fs::read_dir(root).unwrap().find_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.starts_with("c (conflict from the web ")
                .then_some(name)
        })
    })
    .await;
    eventually("the copy's content", || async {
        std::fs::read(root.join(&copy)).ok().filter(|b| b == &web)
    })
    .await;
}
