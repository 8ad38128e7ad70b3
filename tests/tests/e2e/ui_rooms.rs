//! The Rooms and Policies pages in a real browser (`tests/ui/rooms.mjs`)
//! with two real MLS agents: the room made on the page, messages both
//! ways, a hold policy made with the form, the agent's message held,
//! shown by metadata and approved from the page.

use std::time::Duration;

use serde_json::Value;

use crate::hub::Owner;
use crate::hub_agent::TestAgent;
use crate::ui::{artifacts, run_browser_script_with};

/// Until the owner's bearer lists something at `path` on the hub.
async fn first(http: &reqwest::Client, hub: &str, token: &str, path: &str) -> Value {
    loop {
        let v: Value = http
            .get(format!("{hub}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(x) = v.as_array().and_then(|a| a.first()) {
            return x.clone();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn ui_rooms_and_policies_with_real_agents() {
    let o = Owner::start().await;
    let mut a = TestAgent::new(&o.hub(), [81; 32], [82; 32]);
    let mut b = TestAgent::new(&o.hub(), [83; 32], [84; 32]);
    o.enrol(&mut a).await;
    o.enrol(&mut b).await;
    let (a_id, b_id) = (a.device_id.clone().unwrap(), b.device_id.clone().unwrap());
    let (hub, token, http) = (o.hub(), o.token.clone(), o.d.http.clone());
    // Agent A: joins the room the page makes, greets the owner once the
    // owner wrote, and writes again once a policy exists.
    let agent = tokio::spawn(async move {
        let room = first(&http, &hub, &token, "/api/v1/rooms").await;
        let rid = room["id"].as_str().unwrap().to_owned();
        // The owner's message may come with the Welcome, later as a row
        // (Welcome first), or live.
        let mut heard: Vec<String> = Vec::new();
        let group = loop {
            if let Some(g) = a.room_group(&rid) {
                break g;
            }
            let _ = a
                .next_frame("mls_delivery", Duration::from_millis(500))
                .await;
            heard.extend(a.pull().await.into_iter().map(|m| m.text));
        };
        while !heard.iter().any(|t| t == "hello crew") {
            let _ = a
                .next_frame("mls_delivery", Duration::from_millis(500))
                .await;
            heard.extend(a.pull().await.into_iter().map(|m| m.text));
        }
        a.send_room_text(&group, &rid, "hi owner");
        first(&http, &hub, &token, "/api/v1/policies").await;
        a.send_room_text(&group, &rid, "needs approval");
        // Stay connected while the page approves.
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    run_browser_script_with(
        &o.d,
        "rooms.mjs",
        &[("HOLDFAST_AGENT_A", &a_id), ("HOLDFAST_AGENT_B", &b_id)],
    )
    .await;
    agent.abort();
    drop(b);
    for shot in [
        "rooms-empty",
        "rooms-room",
        "rooms-list",
        "policies-list",
        "policies-held",
    ] {
        for width in [390, 1280] {
            assert!(
                artifacts().join(format!("{shot}-{width}.png")).is_file(),
                "{shot}-{width}.png"
            );
        }
    }
}
