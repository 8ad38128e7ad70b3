//! The web UI's Decisions and Telemetry pages in a real browser
//! (`tests/ui/decisions.mjs`), with a real MLS agent that asked the
//! questions and reported the spans: the agent hears the answers the page
//! gave on its socket.

use std::time::Duration;

use serde_json::json;

use crate::hub::Owner;
use crate::hub_agent::TestAgent;
use crate::ui::{artifacts, run_browser_script_with};

#[tokio::test]
async fn ui_decisions_and_telemetry_pages() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), [61; 32], [62; 32]);
    o.enrol(&mut agent).await;
    let (_, ids) = agent.get("/api/v1/hub/identities").await;
    let hub_id = ids[0]["hub_id"].as_str().unwrap().to_owned();
    let name = ids[0]["display_name"].as_str().unwrap().to_owned();

    // Five spans two hours ago (in the last 24 hours, not the last hour).
    let start = crate::hub_agent::unix_now() as i64 - 7200;
    let spans: Vec<_> = (0..5i64)
        .map(|i| {
            json!({
                "trace_id": format!("{:032x}", 0x77 + i), "span_id": format!("{:016x}", 0x88 + i),
                "name": if i % 2 == 0 { "tool.call" } else { "llm.request" }, "kind": "internal",
                "start_time_unix_nano": (start + i * 30) * 1_000_000_000,
                "end_time_unix_nano": (start + i * 30) * 1_000_000_000 + (i + 1) * 150_000_000,
                "status": {"code": if i == 3 { 2 } else { 1 }},
            })
        })
        .collect();
    let (s, v) = agent
        .post(
            "/api/v1/telemetry/ingest",
            json!({"hub_id": hub_id, "spans": spans}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    for body in [
        json!({"title": "Deploy v2 to production?", "description": "All checks passed.",
               "options": ["now", "tonight"], "context": {"pr": 42}}),
        json!({"title": "Delete old logs?"}),
    ] {
        let (s, v) = agent.post("/api/v1/decisions", body).await;
        assert_eq!(s, 201, "{v}");
    }

    run_browser_script_with(
        &o.d,
        "decisions.mjs",
        &[("HOLDFAST_HUB_ID", &hub_id), ("HOLDFAST_AGENT_NAME", &name)],
    )
    .await;

    // The page's answers reached the agent.
    let approved = agent
        .next_frame("decision_resolved", Duration::from_secs(10))
        .await
        .expect("the approval reached the agent");
    assert_eq!(approved["data"]["resolution"], "approve");
    assert_eq!(approved["data"]["option"], "tonight");
    assert_eq!(approved["data"]["note"], "After 22:00 please");
    let denied = agent
        .next_frame("decision_resolved", Duration::from_secs(10))
        .await
        .expect("the denial reached the agent");
    assert_eq!(denied["data"]["resolution"], "deny");
    for shot in [
        "decisions-loading",
        "decisions-open",
        "decisions-approval-card",
        "decisions-deferred",
        "decisions-empty",
        "decisions-error",
        "telemetry",
        "telemetry-empty-window",
    ] {
        for width in [390, 1280] {
            assert!(
                artifacts().join(format!("{shot}-{width}.png")).is_file(),
                "{shot}-{width}.png"
            );
        }
    }
    agent.disconnect().await;
}
