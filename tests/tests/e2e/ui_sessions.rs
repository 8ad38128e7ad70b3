//! The web UI's Sessions page (coding-agent sessions, issue 22) in a real
//! browser (`tests/ui/sessions.mjs`), at 1280 and 390 px. Without the agent
//! program: no instances, loading, a Claude Code instance created from the
//! form ("not installed" with its install hint), its provider key set
//! through a password field that is never echoed, a workspace folder
//! registered, a session opened by its deep link with the files of its
//! workspace (download links with `?token=`), settings, archive, search, a
//! prompt to a session whose program is missing, delete, an unknown
//! session id (the error state with Try again), the page failing to load
//! and recovering, and offline once the daemon stops. With the real Claude
//! Code (tests/agents/setup.sh) and the stand-in model API: one turn driven
//! from the page, its Write tool call allowed inline (and shown in the
//! approvals queue), the file in the Files panel, a question with options
//! answered inline, fork.

use serde_json::Value;

use crate::agents_support::{agent_node, claude_bin_dir, stand_in};
use crate::harness::TestDaemon;
use crate::ui::{artifacts, run_browser_script_with};

/// A workspace folder with a README.md and src/main.rs; its canonical path.
fn workspace() -> (tempfile::TempDir, String) {
    let ws = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ws.path().join("src")).unwrap();
    std::fs::write(ws.path().join("README.md"), "# Demo\n").unwrap();
    std::fs::write(ws.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    let path = ws.path().canonicalize().unwrap();
    let path = path.to_string_lossy().into_owned();
    (ws, path)
}

fn assert_shots(shots: &[&str]) {
    for shot in shots {
        for width in [390, 1280] {
            assert!(
                artifacts().join(format!("{shot}-{width}.png")).is_file(),
                "{shot}-{width}.png"
            );
        }
    }
}

#[tokio::test]
async fn ui_sessions_page() {
    let mut d = TestDaemon::start().await;
    let t = d.owner_token().await;
    // Provider keys are sealed under the identity.
    d.init_identity(&t).await;
    let caps: Value = d.get_json("/capabilities", &t).await;
    let installed = caps["agents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["type"] == "claude" && a["installed"] == true);
    let (_ws, workspace) = workspace();
    let pid = d.pid().to_string();
    run_browser_script_with(
        &d,
        "sessions.mjs",
        &[("HOLDFAST_PID", &pid), ("HOLDFAST_WORKSPACE", &workspace)],
    )
    .await;
    assert_shots(&[
        "sessions-empty",
        "sessions-loading",
        "sessions-instance",
        "sessions-instance-set",
        "sessions-session",
        "sessions-search",
        "sessions-error",
        "sessions-load-error",
        "sessions-offline",
    ]);
    if !installed {
        assert_shots(&["sessions-send-error"]);
    }
    // The script stopped the daemon with SIGTERM: it shut down cleanly.
    assert!(d.wait_exit().await.success());
}

#[tokio::test]
async fn ui_sessions_live_turn_with_an_approval() {
    let Some(bin) = claude_bin_dir().await else {
        eprintln!("SKIP: no Claude Code: the live turn of the Sessions page does not run");
        return;
    };
    let model = stand_in().await;
    let (mut d, _t) = agent_node(&bin).await;
    let (_ws, workspace) = workspace();
    let pid = d.pid().to_string();
    run_browser_script_with(
        &d,
        "sessions.mjs",
        &[
            ("HOLDFAST_PID", &pid),
            ("HOLDFAST_WORKSPACE", &workspace),
            ("HOLDFAST_LIVE", "1"),
            ("HOLDFAST_MODEL_URL", &model.url),
        ],
    )
    .await;
    assert_shots(&[
        "sessions-live-instance",
        "sessions-live-approval",
        "sessions-live-approval-queue",
        "sessions-live-turn",
        "sessions-live-question",
        "sessions-live-session",
        "sessions-live-error",
        "sessions-live-offline",
    ]);
    assert!(
        std::path::Path::new(&workspace).join("hello.txt").is_file(),
        "the allowed Write made hello.txt"
    );
    assert!(d.wait_exit().await.success());
}
