//! The web UI's Agents page and chat in a real browser
//! (`tests/ui/agents.mjs`), at 1280 and 390 px: loading, empty, an invite
//! shown once with its QR code, agents enrolling over the hub's real HTTP
//! route (pending, approved from the page, denied), the devices and
//! invites lists, the chat with its send box off for an agent that is not
//! active or while Holdfast is locked, the hub's 409 as a note, revoking,
//! the error state, and offline once the daemon really stops.

use crate::harness::{PASSPHRASE, TestDaemon};
use crate::ui::{artifacts, run_browser_script_with};

#[tokio::test]
async fn ui_agents_page_in_every_state() {
    let mut d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let hub = d.hub.clone().expect("the hub listens");
    let pid = d.pid().to_string();
    run_browser_script_with(
        &d,
        "agents.mjs",
        &[
            ("HOLDFAST_PID", &pid),
            ("HOLDFAST_PASSPHRASE", PASSPHRASE),
            ("HOLDFAST_HUB", &hub),
        ],
    )
    .await;
    for shot in [
        "agents-loading",
        "agents-empty",
        "agents-invite",
        "agents-pending",
        "agents-devices",
        "agents-chat-inactive",
        "agents-chat-refused",
        "agents-chat-locked",
        "agents-chat",
        "agents-error",
        "agents-offline",
    ] {
        for width in [390, 1280] {
            assert!(
                artifacts().join(format!("{shot}-{width}.png")).is_file(),
                "{shot}-{width}.png"
            );
        }
    }
    // The script stopped the daemon with SIGTERM: it shut down cleanly.
    assert!(d.wait_exit().await.success());
}
