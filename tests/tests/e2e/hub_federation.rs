//! Federation between two Holdfast hubs on loopback: hub A offers an
//! agreement, hub B's owner accepts it, and only then may an agent on A
//! open an A2A channel with an agent on B; the channel's MLS traffic
//! (commit, Welcome, messages both ways) crosses between the hubs.

use serde_json::{Value, json};

use crate::harness::eventually;
use crate::hub::{Owner, receive};
use crate::hub_a2a::{call, join, named_agent, second_tenant};

#[tokio::test]
async fn two_hubs_federate_and_carry_an_a2a_channel_only_once_accepted() {
    let a = Owner::start().await;
    let b = Owner::start().await;
    let b_host = b.hub().trim_start_matches("http://").to_owned();
    let (mut alice, _) = named_agent(&a, 51, "alice", true).await;
    let (mut bob, bi) = named_agent(&b, 52, "bob", false).await;
    let bob_address = format!("bob@{b_host}");

    // No agreement: the peer's hub is another operator.
    let (s, v) = alice
        .post(
            "/api/v1/a2a/channels",
            json!({"peer_hub_address": bob_address}),
        )
        .await;
    assert_eq!(
        (s, v["detail"].as_str()),
        (400, Some("cross_operator_not_supported"))
    );

    // Bad agreement requests.
    for body in [
        json!({"peer_url": "ftp://x"}),
        json!({"peer_url": a.hub()}),
        json!({}),
    ] {
        let (s, v) = a
            .hub_call("POST", "/api/v1/federation/agreements", Some(body.clone()))
            .await;
        assert_eq!(s, 400, "{body}: {v}");
    }
    let (s, v) = a
        .hub_call(
            "POST",
            "/api/v1/federation/agreements",
            Some(json!({"peer_url": "http://127.0.0.1:9"})),
        )
        .await;
    assert_eq!(s, 502, "{v}");
    let (s, v) = alice
        .post(
            "/api/v1/federation/agreements",
            json!({"peer_url": b.hub()}),
        )
        .await;
    assert_eq!(s, 401, "a device cannot federate: {v}");

    // A offers; B sees the offer pending.
    let (s, ag) = a
        .hub_call(
            "POST",
            "/api/v1/federation/agreements",
            Some(json!({"peer_url": b.hub()})),
        )
        .await;
    assert_eq!(s, 201, "{ag}");
    assert_eq!(ag["status"], "pending");
    assert_eq!(ag["direction"], "outbound");
    assert!(ag.get("send_secret").is_none(), "{ag}");
    let id = ag["id"].as_str().unwrap().to_owned();
    let (_, list) = b
        .hub_call("GET", "/api/v1/federation/agreements", None)
        .await;
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["direction"], "inbound");
    assert_eq!(list[0]["status"], "pending");

    // Pending is not enough: nothing crosses, and the hub-to-hub routes
    // refuse a caller without the agreement's secret.
    let (s, v) = alice
        .post(
            "/api/v1/a2a/channels",
            json!({"peer_hub_address": bob_address}),
        )
        .await;
    assert_eq!(
        (s, v["detail"].as_str()),
        (400, Some("cross_operator_not_supported"))
    );
    let forged =
        b.d.http
            .post(format!("{}/api/v1/federation/relay", b.hub()))
            .bearer_auth("0".repeat(64))
            .header("X-Federation-Agreement", &id)
            .json(&json!({"rows": []}))
            .send()
            .await
            .unwrap();
    assert_eq!(forged.status(), 401);
    let (s, v) = b
        .hub_call(
            "POST",
            &format!("/api/v1/federation/agreements/{id}/accepted"),
            Some(json!({"secret": "1".repeat(64), "proof": "00"})),
        )
        .await;
    assert_eq!(s, 401, "B offered nothing with this id: {v}");
    let (s, v) = a
        .hub_call(
            "POST",
            &format!("/api/v1/federation/agreements/{id}/accepted"),
            Some(json!({"secret": "1".repeat(64), "proof": "00".repeat(32)})),
        )
        .await;
    assert_eq!(s, 401, "a forged acceptance: {v}");
    // Only the hub it was offered to accepts; another tenant cannot.
    let (s, v) = a
        .hub_call(
            "POST",
            &format!("/api/v1/federation/agreements/{id}/accept"),
            None,
        )
        .await;
    assert_eq!(s, 409, "{v}");
    let t2 = second_tenant(&b).await;
    let tok = b.token.clone();
    let (s, v) = call(
        &b,
        "POST",
        &format!("/api/v1/federation/agreements/{id}/accept"),
        Some(&tok),
        Some(&t2),
        None,
    )
    .await;
    assert_eq!(
        (s, v["detail"].as_str()),
        (404, Some("Agreement not found"))
    );
    let (s, v) = call(
        &b,
        "GET",
        "/api/v1/federation/agreements",
        Some(&tok),
        Some(&t2),
        None,
    )
    .await;
    assert_eq!((s, v), (200, json!([])));

    // B accepts; A learns it.
    let (s, v) = b
        .hub_call(
            "POST",
            &format!("/api/v1/federation/agreements/{id}/accept"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "accepted");
    let (_, list) = a
        .hub_call("GET", "/api/v1/federation/agreements", None)
        .await;
    assert_eq!(list[0]["status"], "accepted");
    let (s, _) = b
        .hub_call(
            "POST",
            &format!("/api/v1/federation/agreements/{id}/accept"),
            None,
        )
        .await;
    assert_eq!(s, 409);

    // Unknown names on the peer are peer_not_found.
    let (s, v) = alice
        .post(
            "/api/v1/a2a/channels",
            json!({"peer_hub_address": format!("nobody@{b_host}")}),
        )
        .await;
    assert_eq!((s, v["detail"].as_str()), (404, Some("peer_not_found")));

    // Alice asks for a channel with Bob on hub B; A's owner approves.
    let (s, made) = alice
        .post(
            "/api/v1/a2a/channels",
            json!({"peer_hub_address": bob_address, "topic": "across hubs"}),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(made["source"], "federation");
    let ch = made["channel_id"].as_str().unwrap().to_owned();
    let (s, v) = a
        .hub_call("POST", &format!("/api/v1/a2a/channels/{ch}/approve"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    // Hub B mirrors the channel and tells Bob.
    let mirrored = eventually("the channel to reach hub B", || async {
        let (_, v) = bob.get("/api/v1/a2a/channels").await;
        v.as_array().and_then(|l| l.first().cloned())
    })
    .await;
    assert_eq!(mirrored["channel_id"], ch.as_str());
    assert_eq!(mirrored["status"], "active");
    assert_eq!(mirrored["topic"], "across hubs");
    assert_eq!(mirrored["role"], "member");

    // Alice founds the group with Bob's KeyPackage (claimed on hub B
    // through hub A); the commit and Welcome cross to hub B.
    let (s, g) = alice
        .post(&format!("/api/v1/mls/a2a/{ch}/init"), json!({}))
        .await;
    assert_eq!(s, 200, "{g}");
    let group = g["group_id"].as_str().unwrap().to_owned();
    let bob_dev = bob.device_id.clone().unwrap();
    let kp = alice
        .claim_key_package(&bob_dev)
        .await
        .expect("Bob's KeyPackage through the federation");
    alice.found_a2a(&ch, &group, &kp, &bob_dev, bi["id"].as_str().unwrap());
    join(&mut bob, &group).await;

    // Messages cross both ways, with the sender's address.
    alice.send_a2a(&group, &ch, "hello from hub A");
    let got = receive(&mut bob, 1).await;
    assert_eq!(got[0].text, "hello from hub A");
    bob.send_a2a(&group, &ch, "hello from hub B");
    let row = eventually("Bob's row on hub A", || async {
        let (_, v) = alice
            .get(&format!(
                "/api/v1/mls/delivery?device_id={}",
                alice.device_id.clone().unwrap()
            ))
            .await;
        v["messages"].as_array().and_then(|m| {
            m.iter()
                .find(|r| r["message_type"] == "application")
                .cloned()
        })
    })
    .await;
    assert_eq!(row["a2a_channel_id"], ch.as_str());
    assert_eq!(row["from_hub_address"], Value::from(bob_address.clone()));
    let got = receive(&mut alice, 1).await;
    assert_eq!(got[0].text, "hello from hub B");
}
