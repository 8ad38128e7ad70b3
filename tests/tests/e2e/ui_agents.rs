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

/// The chat with a real agent: MLS on both ends, the reply live in the page.
#[tokio::test]
async fn ui_agents_chat_with_a_real_agent() {
    let o = crate::hub::Owner::start().await;
    let mut agent = crate::hub_agent::TestAgent::new(&o.hub(), [21; 32], [22; 32]);
    o.enrol(&mut agent).await;
    let id = agent.device_id.clone().unwrap();
    o.send(&agent, "hello from the test").await;
    let group = crate::hub::receive(&mut agent, 1).await[0].group_id.clone();
    agent.reply(&group, "hello back").await;
    // The agent answers the browser's message while the script runs.
    let answering = tokio::spawn(async move {
        loop {
            let Some(m) = agent.live_message(std::time::Duration::from_secs(60)).await else {
                return false;
            };
            if m.text == "ping from the browser" {
                agent.reply(&group, "pong from the agent").await;
                // Keep the socket open until the page has seen the reply.
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                return true;
            }
        }
    });
    run_browser_script_with(&o.d, "agents_chat.mjs", &[("HOLDFAST_AGENT", &id)]).await;
    answering.abort();
    for width in [390, 1280] {
        assert!(
            artifacts()
                .join(format!("agents-chat-live-{width}.png"))
                .is_file()
        );
    }
}
