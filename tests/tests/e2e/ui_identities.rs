//! The web UI's Identities and A2A channels pages in a real browser
//! (`tests/ui/identities.mjs`), at 1280 and 390 px, with two real agents
//! enrolled on the hub: registering identities, certification, the DID
//! document, resolving, and a channel requested and approved from the page.

use crate::ui::{artifacts, run_browser_script_with};

#[tokio::test]
async fn ui_identities_and_a2a_pages() {
    let o = crate::hub::Owner::start().await;
    let mut alice = crate::hub_agent::TestAgent::new(&o.hub(), [61; 32], [161; 32]);
    let mut bob = crate::hub_agent::TestAgent::new(&o.hub(), [62; 32], [162; 32]);
    o.enrol(&mut alice).await;
    o.enrol(&mut bob).await;
    let (a, b) = (
        alice.device_id.clone().unwrap(),
        bob.device_id.clone().unwrap(),
    );
    run_browser_script_with(
        &o.d,
        "identities.mjs",
        &[("HOLDFAST_ALICE", &a), ("HOLDFAST_BOB", &b)],
    )
    .await;
    for shot in [
        "identities-empty",
        "identities-list",
        "identities-certified",
        "identities-resolve",
        "a2a-empty",
        "a2a-pending",
        "a2a-active",
        "identities-error",
    ] {
        for width in [390, 1280] {
            assert!(
                artifacts().join(format!("{shot}-{width}.png")).is_file(),
                "{shot}-{width}.png"
            );
        }
    }
}
