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
