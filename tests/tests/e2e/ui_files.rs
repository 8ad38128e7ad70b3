//! The vault page's file handling in a real browser (`tests/ui/files.mjs`):
//! search, sort, previews, folder upload, multi-select delete and restore,
//! rename, new folders, the quota check, read-only, empty and unknown
//! vaults. The script's changes are checked here again over the API.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::ipc::ready;
use crate::ui::{artifacts, run_browser_script_with};

/// A 4×4 red PNG.
const DOT_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGP4z8AARwzEcQCukw/x0F8jngAAAABJRU5ErkJggg==";

#[tokio::test]
async fn browser_finds_previews_uploads_moves_and_restores_files() {
    let (d, t) = ready().await;
    let create = |name: &'static str| {
        let (d, t) = (&d, &t);
        async move {
            let resp = d.post_auth("/vaults", t, json!({"name": name})).await;
            assert_eq!(resp.status(), 201);
            let v: Value = resp.json().await.unwrap();
            v["id"].as_str().unwrap().to_owned()
        }
    };
    let vid = create("Files").await;
    let empty = create("Nothing here").await;
    let long = "x".repeat(600);
    let files: [(&str, Vec<u8>); 6] = [
        ("/a.txt", b"a".to_vec()),
        ("/b.txt", b"<b>not bold</b> & more text".to_vec()),
        (
            "/long name with spaces for wrapping checks.txt",
            long.into_bytes(),
        ),
        ("/docs/notes.md", b"# notes".to_vec()),
        ("/docs/manual.pdf", b"%PDF-1.4 not really".to_vec()),
        ("/pics/dot.png", STANDARD.decode(DOT_PNG).unwrap()),
    ];
    for (path, body) in &files {
        assert_eq!(d.upload(&t, &vid, path, body).await.status(), 200, "{path}");
    }
    run_browser_script_with(
        &d,
        "files.mjs",
        &[("HOLDFAST_VAULT", &vid), ("HOLDFAST_EMPTY_VAULT", &empty)],
    )
    .await;

    // What the page did is real.
    let list: Value = d
        .get_json(&format!("/vaults/{vid}/files?include_deleted=1"), &t)
        .await;
    let state = |path: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .map(|f| f["deleted"].as_bool().unwrap())
    };
    assert_eq!(state("/renamed a.txt"), Some(false), "{list}");
    assert_eq!(state("/a.txt"), Some(true), "moved away: {list}");
    assert_eq!(
        state("/long name with spaces for wrapping checks.txt"),
        Some(true),
        "{list}"
    );
    assert_eq!(state("/Trip/day 1/big.bin"), Some(false), "{list}");
    assert_eq!(state("/Later/first.txt"), Some(false), "{list}");
    assert_eq!(state("/huge.bin"), None, "refused before sending: {list}");
    for shot in [
        "vault",
        "vault-empty",
        "vault-deleted",
        "vault-missing",
        "vault-preview-image",
    ] {
        for width in [1280, 390] {
            let file = artifacts().join(format!("{shot}-{width}.png"));
            assert!(file.is_file(), "{}", file.display());
        }
    }
}
