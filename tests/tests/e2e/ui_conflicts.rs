//! Browser tests of the conflicts part of the web UI (tests/ui/conflicts.mjs):
//! the conflict counts on Home, the vault card and the folder panel, the two
//! sides named for what they are with a text diff, each of the three
//! choices, and the paused sync state.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{TestDaemon, eventually};
use crate::ipc::ready;
use crate::ui::run_browser_script_with;

/// 48×32 PNGs of one colour: the base, this computer's edit, the web's.
#[rustfmt::skip]
const RED: [u8; 106] = [137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 48, 0, 0, 0, 32, 8, 2, 0, 0, 0, 219, 182, 108, 75, 0, 0, 0, 49, 73, 68, 65, 84, 120, 218, 237, 206, 49, 13, 0, 0, 8, 3, 176, 201, 153, 127, 21, 200, 194, 5, 225, 104, 82, 1, 205, 180, 175, 68, 72, 72, 72, 72, 72, 72, 72, 72, 72, 72, 72, 72, 72, 72, 72, 72, 232, 210, 2, 78, 160, 144, 91, 208, 176, 52, 135, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130];
#[rustfmt::skip]
const BLUE: [u8; 106] = [137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 48, 0, 0, 0, 32, 8, 2, 0, 0, 0, 219, 182, 108, 75, 0, 0, 0, 49, 73, 68, 65, 84, 120, 218, 237, 206, 65, 13, 0, 0, 8, 4, 160, 139, 99, 28, 99, 27, 203, 22, 206, 7, 27, 1, 72, 245, 188, 18, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 161, 75, 11, 77, 168, 128, 106, 250, 184, 119, 203, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130];
#[rustfmt::skip]
const GREEN: [u8; 106] = [137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 48, 0, 0, 0, 32, 8, 2, 0, 0, 0, 219, 182, 108, 75, 0, 0, 0, 49, 73, 68, 65, 84, 120, 218, 237, 206, 65, 13, 0, 0, 8, 4, 160, 139, 99, 28, 35, 26, 213, 22, 206, 7, 27, 1, 72, 77, 191, 18, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 161, 75, 11, 158, 85, 144, 91, 188, 196, 141, 111, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130];

/// Lines of a text file, with `edit` replacing line `at`.
fn text(edit: Option<(usize, &str)>) -> Vec<u8> {
    let mut lines: Vec<String> = (1..=30).map(|i| format!("Line {i} of the plan")).collect();
    if let Some((at, new)) = edit {
        lines[at] = new.to_owned();
    }
    (lines.join("\n") + "\n").into_bytes()
}

/// A vault mirroring a folder where a.txt, b.txt, c.txt and d.png were
/// each changed in the folder and over the API while sync was paused: four
/// conflicts.
async fn three_conflicts(d: &TestDaemon, t: &str, root: &Path) -> String {
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(root.join(name), text(None)).unwrap();
    }
    std::fs::write(root.join("d.png"), RED).unwrap();
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
        (count("file_count").await == 4).then_some(())
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
    std::fs::write(root.join("d.png"), BLUE).unwrap();
    assert_eq!(d.upload(t, &vid, "/d.png", &GREEN).await.status(), 200);
    pause(false).await;
    eventually("four conflicts", || async {
        (count("conflict_count").await == 4).then_some(())
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
    let blue = BLUE.to_vec();
    for (name, want) in [
        ("a.txt", &local),
        ("b.txt", &web),
        ("c.txt", &local),
        ("d.png", &blue),
    ] {
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
    // What waited while paused is written once resumed.
    eventually("e.txt written after resuming", || async {
        std::fs::read(root.join("e.txt"))
            .ok()
            .filter(|b| b == b"written while paused")
    })
    .await;
    eventually("the copy's content", || async {
        std::fs::read(root.join(&copy)).ok().filter(|b| b == &web)
    })
    .await;
}
