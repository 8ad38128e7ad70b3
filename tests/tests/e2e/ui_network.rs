//! The web UI's Network page in a real browser (`tests/ui/network.mjs`), at
//! 1280 and 390 px: the welcome with no network, creating one, the invite
//! link and its QR code (decoded back), a second daemon joining and
//! answering a speed test, the error state, and offline once
//! the daemon really stops.

use crate::ipc::ready;
use crate::ui::{artifacts, run_browser_script_with};

#[tokio::test]
async fn ui_network_page_in_every_state() {
    let (mut d, _t) = ready().await;
    let (peer, peer_token) = ready().await;
    let pid = d.pid().to_string();
    let out = run_browser_script_with(
        &d,
        "network.mjs",
        &[
            ("HOLDFAST_PID", &pid),
            ("HOLDFAST_PEER_URL", peer.base_url()),
            ("HOLDFAST_PEER_TOKEN", &peer_token),
        ],
    )
    .await;
    let mut shots = vec!["network-error-390", "network-offline-390"];
    if out.contains("no network routes") {
        shots.push("network-unavailable-390");
    } else {
        shots.extend([
            "network-empty-390",
            "network-created-1280",
            "network-invite-390",
            "network-peers-390",
        ]);
    }
    for shot in shots {
        assert!(
            artifacts().join(format!("{shot}.png")).is_file(),
            "{shot}.png"
        );
    }
    // The script stopped the daemon with SIGTERM: it shut down cleanly.
    assert!(d.wait_exit().await.success());
}
