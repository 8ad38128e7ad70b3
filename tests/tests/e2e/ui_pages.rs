//! Every page of the web UI in a real browser, at 1280 and 390 px, in its
//! empty, loaded, loading, error and offline states (`tests/ui/pages.mjs`):
//! nothing wider than the viewport, axe-core clean of serious violations,
//! screenshots of each as artifacts. It ends by stopping the daemon for
//! real and checking the page says so.

use crate::harness::PASSWORD;
use crate::ipc::ready;
use crate::ui::{artifacts, run_browser_script_with};

#[tokio::test]
async fn every_page_at_both_widths_in_every_state() {
    let (mut d, _t) = ready().await;
    let pid = d.pid().to_string();
    run_browser_script_with(
        &d,
        "pages.mjs",
        &[("HOLDFAST_PID", &pid), ("HOLDFAST_PASSWORD", PASSWORD)],
    )
    .await;
    for shot in [
        "home-empty-390",
        "vaults-data-1280",
        "vault-data-390",
        "vaults-loading-390",
        "vaults-error-1280",
        "offline-390",
        "login-390",
        "daemon-stopped-1280",
    ] {
        assert!(
            artifacts().join(format!("{shot}.png")).is_file(),
            "{shot}.png"
        );
    }
    // The script stopped the daemon with SIGTERM: it shut down cleanly.
    assert!(d.wait_exit().await.success());
}

#[tokio::test]
async fn home_creates_the_identity_with_the_wizards_checks() {
    let d = crate::harness::TestDaemon::start().await;
    let t = d.owner_token().await;
    crate::ui::run_browser_script(&d, "home_create.mjs").await;
    let id: serde_json::Value = d.get_auth("/identity", &t).await.json().await.unwrap();
    assert_eq!(id["state"], "unlocked", "{id}");
    assert!(artifacts().join("home-phrase-390.png").is_file());
}
