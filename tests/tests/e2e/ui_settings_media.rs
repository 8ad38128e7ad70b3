//! Settings → Media lookups in a real browser (`tests/ui/settings_media.mjs`)
//! at 1280 and 390 px: loading, empty, a key saved and shown only masked, a
//! refused URL, removal, the error state and offline once the daemon stops.

use crate::harness::TestDaemon;
use crate::ui::{artifacts, run_browser_script_with};

#[tokio::test]
async fn ui_media_lookup_settings_in_every_state() {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let pid = d.pid().to_string();
    run_browser_script_with(&d, "settings_media.mjs", &[("HOLDFAST_PID", &pid)]).await;
    for shot in [
        "settings-media-loading",
        "settings-media-empty",
        "settings-media-refused",
        "settings-media-saved",
        "settings-media-error",
        "settings-media-offline",
    ] {
        for width in [390, 1280] {
            assert!(
                artifacts().join(format!("{shot}-{width}.png")).is_file(),
                "{shot}-{width}.png"
            );
        }
    }
}
