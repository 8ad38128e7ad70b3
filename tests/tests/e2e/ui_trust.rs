//! The web UI's Trust page in a real browser (`tests/ui/trust.mjs`), at
//! 1280 and 390 px: loading, two real agents with the scores the hub
//! computed from their records (one revoked, with a two-reading history
//! chart and its table), the workspaces with a team room and one created
//! from the page, an agent revoked from the page's point of view
//! updating live, empty, the error state, and offline once the daemon
//! really stops.

use serde_json::json;

use crate::hub::Owner;
use crate::hub_agent::TestAgent;
use crate::ui::{artifacts, run_browser_script_with};

#[tokio::test]
async fn ui_trust_page_in_every_state() {
    let mut o = Owner::start().await;
    let mut kept = TestAgent::new(&o.hub(), [71; 32], [72; 32]);
    let mut gone = TestAgent::new(&o.hub(), [81; 32], [82; 32]);
    o.enrol(&mut kept).await;
    o.enrol(&mut gone).await;
    for (a, name) in [(&kept, "Builder"), (&gone, "Old crawler")] {
        let id = a.device_id.clone().unwrap();
        let (s, v) = o
            .hub_call(
                "PATCH",
                &format!("/api/v1/devices/{id}"),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    // A real delivery for the kept agent; a first reading of the other,
    // then its revocation (the page's reading is the second point).
    o.send(&kept, "hello").await;
    crate::hub::receive(&mut kept, 1).await;
    let gone_id = gone.device_id.clone().unwrap();
    let (s, first) = o
        .hub_call("GET", &format!("/api/v1/trust-scores/{gone_id}"), None)
        .await;
    assert_eq!(s, 200);
    assert!(first["score"].as_i64().unwrap() > 0);
    let (s, _) = o
        .hub_call("PATCH", &format!("/api/v1/devices/{gone_id}/revoke"), None)
        .await;
    assert_eq!(s, 200);

    let (s, w) = o
        .hub_call(
            "POST",
            "/api/v1/workspaces",
            Some(json!({"name": "Research", "members": [
                {"device_id": kept.device_id.clone().unwrap(), "role": "admin"}]})),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let (s, _) = o
        .hub_call(
            "POST",
            "/api/v1/team-rooms",
            Some(json!({"workspace_id": w["id"], "name": "standup"})),
        )
        .await;
    assert_eq!(s, 201);

    let pid = o.d.pid().to_string();
    run_browser_script_with(
        &o.d,
        "trust.mjs",
        &[
            ("HOLDFAST_PID", &pid),
            ("HOLDFAST_KEPT", kept.device_id.as_deref().unwrap()),
        ],
    )
    .await;
    for shot in [
        "trust-loading",
        "trust-scores",
        "trust-live",
        "trust-empty",
        "trust-error",
        "trust-offline",
    ] {
        for width in [390, 1280] {
            assert!(
                artifacts().join(format!("{shot}-{width}.png")).is_file(),
                "{shot}-{width}.png"
            );
        }
    }
    assert!(o.d.wait_exit().await.success());
}
