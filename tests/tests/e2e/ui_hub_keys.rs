//! The web UI's API keys page in a real browser (`tests/ui/api_keys.mjs`),
//! at 1280 and 390 px: loading, empty, a key shown once that really opens
//! the hub as X-API-Key, rotation killing the old key, revoke, delete with
//! its device, the error state, and offline once the daemon really stops.

use crate::harness::TestDaemon;
use crate::ui::{artifacts, run_browser_script_with};

#[tokio::test]
async fn ui_api_keys_page_in_every_state() {
    let mut d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let hub = d.hub.clone().expect("the hub listens");
    let pid = d.pid().to_string();
    run_browser_script_with(
        &d,
        "api_keys.mjs",
        &[("HOLDFAST_PID", &pid), ("HOLDFAST_HUB", &hub)],
    )
    .await;
    for shot in [
        "api-keys-loading",
        "api-keys-empty",
        "api-keys-created",
        "api-keys-list",
        "api-keys-error",
        "api-keys-offline",
    ] {
        for width in [390, 1280] {
            assert!(
                artifacts().join(format!("{shot}-{width}.png")).is_file(),
                "{shot}-{width}.png"
            );
        }
    }
    assert!(d.wait_exit().await.success());
}
