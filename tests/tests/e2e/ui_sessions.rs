//! The web UI's Sessions page (coding-agent sessions, issue 22) in a real
//! browser (`tests/ui/sessions.mjs`), at 1280 and 390 px: no instances,
//! loading, a Claude Code instance created from the form (on a machine
//! without the program: "not installed" with its install hint), its
//! provider key set through a password field that is never echoed, a
//! workspace folder registered, a session opened by its deep link with the
//! files of its workspace (download links with `?token=`), settings,
//! archive, search, a prompt to a session whose program is missing, delete,
//! an unknown session id (the error state with Try again), the page failing
//! to load and recovering, and offline once the daemon stops.

use crate::harness::TestDaemon;
use crate::ui::{artifacts, run_browser_script_with};

#[tokio::test]
async fn ui_sessions_page() {
    let mut d = TestDaemon::start().await;
    let t = d.owner_token().await;
    // Provider keys are sealed under the identity.
    d.init_identity(&t).await;
    let ws = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ws.path().join("src")).unwrap();
    std::fs::write(ws.path().join("README.md"), "# Demo\n").unwrap();
    std::fs::write(ws.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    let workspace = ws.path().canonicalize().unwrap();
    let workspace = workspace.to_string_lossy().into_owned();
    let pid = d.pid().to_string();
    run_browser_script_with(
        &d,
        "sessions.mjs",
        &[("HOLDFAST_PID", &pid), ("HOLDFAST_WORKSPACE", &workspace)],
    )
    .await;
    for shot in [
        "sessions-empty",
        "sessions-loading",
        "sessions-instance",
        "sessions-instance-set",
        "sessions-session",
        "sessions-search",
        "sessions-send-error",
        "sessions-error",
        "sessions-load-error",
        "sessions-offline",
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
