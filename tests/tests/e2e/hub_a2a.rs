//! Hub identities and A2A channels on one hub, end to end: the owner
//! registers `did:hub:<name>` identities for enrolled test agents, anyone
//! resolves and searches them, certification runs its checks; agents ask
//! for A2A channels, the owner approves them in the approvals queue (or by
//! the route), and two real MLS agents talk through the channel's group.
//! Every error the spec names answers its detail string, a second tenant's
//! owner sees nothing of the first, and each route takes the callers it
//! should.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::harness::eventually;
use crate::hub::{Owner, receive};
use crate::hub_agent::TestAgent;

/// A hub call with an optional bearer and tenant.
pub async fn call(
    o: &Owner,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    tenant: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req =
        o.d.http
            .request(method.parse().unwrap(), format!("{}{path}", o.hub()));
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    if let Some(t) = tenant {
        req = req.header("X-Tenant-Id", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A second tenant on `o`'s hub.
pub async fn second_tenant(o: &Owner) -> String {
    let (s, v) = o
        .hub_call("POST", "/api/v1/tenants", Some(json!({"name": "other"})))
        .await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

/// Enrol an agent from `seed` and register its identity.
pub async fn named_agent(o: &Owner, seed: u8, name: &str, reach: bool) -> (TestAgent, Value) {
    let mut a = TestAgent::new(&o.hub(), [seed; 32], [seed.wrapping_add(100); 32]);
    o.enrol(&mut a).await;
    let (s, v) = o
        .hub_call(
            "POST",
            "/api/v1/hub/identities",
            Some(json!({"device_id": a.device_id, "name": name, "peer_reach_enabled": reach})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    (a, v)
}

fn host_of(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

#[tokio::test]
async fn hub_identities_register_resolve_search_and_certify() {
    let o = Owner::start().await;
    let host = host_of(&o.hub());
    let (alice, ai) = named_agent(&o, 31, "Alice-Agent", true).await;
    assert_eq!(ai["name"], "alice-agent");
    assert_eq!(ai["did"], "did:hub:alice-agent");
    assert_eq!(ai["hub_address"], format!("alice-agent@{host}"));
    assert_eq!(ai["trust_tier"], "unverified");
    assert_eq!(ai["peer_reach_enabled"], true);
    let alice_id = ai["id"].as_str().unwrap().to_owned();

    // The device's own entry (§8.3) now carries the identity.
    let (s, mine) = alice.get("/api/v1/hub/identities").await;
    assert_eq!(s, 200);
    assert_eq!(
        mine[0]["device_id"],
        alice.device_id.clone().unwrap().as_str()
    );
    assert_eq!(mine[0]["hub_id"], alice_id.as_str());
    assert_eq!(mine[0]["hub_address"], format!("alice-agent@{host}"));
    assert_eq!(mine[0]["peer_reach_enabled"], true);

    // Register errors.
    let mut bob = TestAgent::new(&o.hub(), [32; 32], [132; 32]);
    o.enrol(&mut bob).await;
    let bob_dev = bob.device_id.clone().unwrap();
    for (body, want, detail) in [
        (
            json!({"device_id": bob_dev, "name": "alice-agent"}),
            409,
            "That name is taken",
        ),
        (
            json!({"device_id": alice.device_id, "name": "other"}),
            409,
            "This device already has a hub identity",
        ),
        (json!({"device_id": bob_dev, "name": "b"}), 400, ""),
        (json!({"device_id": bob_dev, "name": "bad_name"}), 400, ""),
        (
            json!({"device_id": "00000000-0000-4000-8000-000000000000", "name": "ghost"}),
            404,
            "Device not found",
        ),
        (
            json!({"device_id": bob_dev, "name": "bob", "display_name": "x".repeat(81)}),
            400,
            "",
        ),
        (json!({"name": "bob"}), 400, ""),
    ] {
        let (s, v) = o
            .hub_call("POST", "/api/v1/hub/identities", Some(body.clone()))
            .await;
        assert_eq!(s, want, "{body} → {v}");
        assert!(v["detail"].is_string(), "{v}");
        if !detail.is_empty() {
            assert_eq!(v["detail"], detail);
        }
    }
    // A device may not register; nobody unauthenticated may list.
    let (s, v) = bob
        .post(
            "/api/v1/hub/identities",
            json!({"device_id": bob_dev, "name": "bob"}),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    let (s, _) = call(&o, "GET", "/api/v1/hub/identities", None, None, None).await;
    assert_eq!(s, 401);
    let (s, bi) = o
        .hub_call(
            "POST",
            "/api/v1/hub/identities",
            Some(json!({"device_id": bob_dev, "name": "bob", "display_name": "Builder Bob"})),
        )
        .await;
    assert_eq!(s, 201, "{bi}");
    assert_eq!(bi["peer_reach_enabled"], false);

    // The owner lists and reads them, with the DID document.
    let (s, all) = o.hub_call("GET", "/api/v1/hub/identities", None).await;
    assert_eq!(s, 200);
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (s, one) = o
        .hub_call("GET", &format!("/api/v1/hub/identities/{alice_id}"), None)
        .await;
    assert_eq!(s, 200, "{one}");
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(alice.identity_public_key());
    let doc = &one["did_document"];
    assert_eq!(doc["id"], "did:hub:alice-agent");
    assert_eq!(doc["verificationMethod"][0]["publicKeyJwk"]["x"], x);
    assert_eq!(
        doc["verificationMethod"][0]["publicKeyJwk"]["crv"],
        "Ed25519"
    );
    assert_eq!(doc["authentication"][0], "did:hub:alice-agent#key-1");
    let (s, v) = o
        .hub_call("GET", "/api/v1/hub/identities/not-a-uuid", None)
        .await;
    assert_eq!((s, v["detail"].as_str()), (404, Some("Identity not found")));
    let (s, _) = alice
        .get(&format!("/api/v1/hub/identities/{alice_id}"))
        .await;
    assert_eq!(s, 403);

    // Public resolve: every address form; only public fields.
    for addr in [
        "alice-agent".to_owned(),
        format!("alice-agent@{host}"),
        "did:hub:alice-agent".to_owned(),
    ] {
        let (s, v) = call(
            &o,
            "GET",
            &format!("/api/v1/hub/resolve/{addr}"),
            None,
            None,
            None,
        )
        .await;
        assert_eq!(s, 200, "{addr}: {v}");
        assert_eq!(
            v["did_document"]["verificationMethod"][0]["publicKeyJwk"]["x"],
            x
        );
        assert_eq!(v["hub_address"], format!("alice-agent@{host}"));
        assert!(
            v.get("device_id").is_none() && v.get("tenant_id").is_none(),
            "{v}"
        );
    }
    for addr in ["nobody", "alice-agent@elsewhere.example:1", "a%20b"] {
        let (s, v) = call(
            &o,
            "GET",
            &format!("/api/v1/hub/resolve/{addr}"),
            None,
            None,
            None,
        )
        .await;
        assert_eq!(
            (s, v["detail"].as_str()),
            (404, Some("Identity not found")),
            "{addr}"
        );
    }

    // Public search.
    let (s, hits) = call(&o, "GET", "/api/v1/hub/search?q=BUILDER", None, None, None).await;
    assert_eq!(s, 200);
    assert_eq!(hits.as_array().unwrap().len(), 1);
    assert_eq!(hits[0]["name"], "bob");
    assert!(hits[0].get("device_id").is_none());
    let (s, hits) = call(&o, "GET", "/api/v1/hub/search?q=%25", None, None, None).await;
    assert_eq!((s, hits.as_array().map(Vec::len)), (200, Some(0)));
    for q in ["", "?q=", &format!("?q={}", "a".repeat(65))] {
        let (s, v) = call(
            &o,
            "GET",
            &format!("/api/v1/hub/search{q}"),
            None,
            None,
            None,
        )
        .await;
        assert_eq!(s, 400, "{q}: {v}");
    }

    // Certification: all checks pass for the connected agent with packages.
    let (s, c) = o
        .hub_call(
            "POST",
            &format!("/api/v1/hub/identities/{alice_id}/certify"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["certified"], true, "{c}");
    assert_eq!(c["identity"]["trust_tier"], "certified");
    let names: Vec<&str> = c["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "device_active",
            "identity_key_valid",
            "proof_of_possession",
            "key_package_published",
            "seen_recently"
        ]
    );
    // A revoked device fails `device_active` and stays unverified.
    let bob_id = bi["id"].as_str().unwrap();
    let (s, _) = o
        .hub_call("PATCH", &format!("/api/v1/devices/{bob_dev}/revoke"), None)
        .await;
    assert_eq!(s, 200);
    let (s, c) = o
        .hub_call(
            "POST",
            &format!("/api/v1/hub/identities/{bob_id}/certify"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(c["certified"], false);
    assert_eq!(c["identity"]["trust_tier"], "unverified");
    assert_eq!(c["checks"][0]["passed"], false);
    // A revoked device's identity does not resolve.
    let (s, _) = call(&o, "GET", "/api/v1/hub/resolve/bob", None, None, None).await;
    assert_eq!(s, 404);

    // Another tenant's owner sees none of it.
    let t2 = second_tenant(&o).await;
    let tok = o.token.clone();
    let (s, v) = call(
        &o,
        "GET",
        "/api/v1/hub/identities",
        Some(&tok),
        Some(&t2),
        None,
    )
    .await;
    assert_eq!((s, v), (200, json!([])));
    for (m, p, body) in [
        ("GET", format!("/api/v1/hub/identities/{alice_id}"), None),
        (
            "POST",
            format!("/api/v1/hub/identities/{alice_id}/certify"),
            None,
        ),
        (
            "POST",
            "/api/v1/hub/identities".to_owned(),
            Some(json!({"device_id": alice.device_id, "name": "stolen"})),
        ),
    ] {
        let (s, v) = call(&o, m, &p, Some(&tok), Some(&t2), body).await;
        assert_eq!(s, 404, "{m} {p}: {v}");
    }
}

/// Join the channel's group: pull until its Welcome is in.
pub async fn join(agent: &mut TestAgent, group: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !agent.conversations.contains_key(group) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the Welcome never arrived"
        );
        let _ = agent
            .next_frame("mls_delivery", Duration::from_millis(500))
            .await;
        let _ = agent.pull().await;
    }
}

#[tokio::test]
async fn a2a_channels_are_approved_in_the_queue_and_carry_mls_between_agents() {
    let o = Owner::start().await;
    let host = host_of(&o.hub());
    let (mut alice, ai) = named_agent(&o, 41, "alice", true).await;
    let (mut bob, bi) = named_agent(&o, 42, "bob", false).await;
    let (carol, _) = named_agent(&o, 43, "carol", false).await;
    let bob_dev = bob.device_id.clone().unwrap();

    let (s, v) = alice.get("/api/v1/a2a/channels").await;
    assert_eq!((s, v), (200, json!([])));

    // The §11.1 details.
    for (who, peer, topic, want, detail) in [
        (&bob, "alice".to_owned(), None, 400, "peer_reach_disabled"),
        (
            &alice,
            "alice".to_owned(),
            None,
            400,
            "self_peer_not_allowed",
        ),
        (&alice, "nobody".to_owned(), None, 404, "peer_not_found"),
        (
            &alice,
            "xavier@elsewhere.example:9".to_owned(),
            None,
            400,
            "cross_operator_not_supported",
        ),
        (
            &alice,
            "bob".to_owned(),
            Some("t".repeat(81)),
            400,
            "topic must be at most 80 characters",
        ),
    ] {
        let (s, v) = who
            .post(
                "/api/v1/a2a/channels",
                json!({"peer_hub_address": peer, "topic": topic}),
            )
            .await;
        assert_eq!(
            (s, v["detail"].as_str()),
            (want, Some(detail)),
            "{peer}: {v}"
        );
    }

    // An agent asks; the owner allows it in the approvals queue.
    let (s, made) = alice
        .post(
            "/api/v1/a2a/channels",
            json!({"peer_hub_address": format!("bob@{host}"), "topic": "release notes"}),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(made["status"], "pending");
    assert_eq!(made["source"], "local");
    let ch = made["channel_id"].as_str().unwrap().to_owned();
    let (_, list) = bob.get("/api/v1/a2a/channels").await;
    assert_eq!(list[0]["channel_id"], ch.as_str());
    assert_eq!(list[0]["status"], "pending");
    assert_eq!(list[0]["role"], "member");
    assert_eq!(list[0]["creator_hub_id"], ai["id"]);
    let approval =
        o.d.answer(&o.token, "a2a_channel", json!({"decision": "allow"}))
            .await;
    assert_eq!(approval["details"]["channel_id"], ch.as_str());
    assert_eq!(approval["details"]["topic"], "release notes");
    let f = alice
        .next_frame("a2a_channel_approved", Duration::from_secs(20))
        .await
        .expect("a2a_channel_approved reaches the creator");
    assert_eq!(f["data"]["channel_id"], ch.as_str());
    assert_eq!(f["data"]["role"], "creator");
    let (_, list) = alice.get("/api/v1/a2a/channels").await;
    assert_eq!(list[0]["status"], "active");
    let parts = list[0]["participants"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert!(parts.iter().all(|p| p["status"] == "active"), "{list}");

    // The channel's group: init is idempotent; non-participants see nothing.
    let (s, g) = alice
        .post(
            &format!("/api/v1/mls/a2a/{ch}/init"),
            json!({"member_device_ids": []}),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    let group = g["group_id"].as_str().unwrap().to_owned();
    let (_, again) = alice
        .post(
            &format!("/api/v1/mls/a2a/{ch}/init"),
            json!({"member_device_ids": [bob_dev]}),
        )
        .await;
    assert_eq!(again["group_id"], group.as_str());
    let (s, head) = bob.get(&format!("/api/v1/mls/a2a/{ch}/group")).await;
    assert_eq!(s, 200, "{head}");
    assert_eq!(head["group_id"], group.as_str());
    for path in [
        format!("/api/v1/mls/a2a/{ch}/group"),
        format!("/api/v1/a2a/channels/{ch}/participants"),
    ] {
        let (s, v) = carol.get(&path).await;
        assert_eq!(
            (s, v["detail"].as_str()),
            (404, Some("Channel not found")),
            "{path}"
        );
    }
    let (s, v) = carol
        .post(&format!("/api/v1/mls/a2a/{ch}/init"), json!({}))
        .await;
    assert_eq!((s, v["detail"].as_str()), (404, Some("Channel not found")));

    // Alice founds the group with Bob's KeyPackage; Bob joins from the queue.
    let kp = alice.claim_key_package(&bob_dev).await.expect("a package");
    alice.found_a2a(&ch, &group, &kp, &bob_dev, bi["id"].as_str().unwrap());
    join(&mut bob, &group).await;
    alice.send_a2a(&group, &ch, "hello bob");
    // The row names the channel and the sender's hub address.
    let row = eventually("the A2A row", || async {
        let (_, v) = bob
            .get(&format!("/api/v1/mls/delivery?device_id={bob_dev}"))
            .await;
        v["messages"].as_array().and_then(|m| {
            m.iter()
                .find(|r| r["message_type"] == "application")
                .cloned()
        })
    })
    .await;
    assert_eq!(row["a2a_channel_id"], ch.as_str());
    assert_eq!(row["from_hub_address"], format!("alice@{host}"));
    let got = receive(&mut bob, 1).await;
    assert_eq!(got[0].text, "hello bob");
    bob.send_a2a(&group, &ch, "hi alice");
    let got = receive(&mut alice, 1).await;
    assert_eq!(got[0].text, "hi alice");
    // After Bob's Welcome is acked, traffic also comes live, A2A-aware.
    alice.send_a2a(&group, &ch, "live now");
    let f = bob
        .next_frame("a2a_message_mls", Duration::from_secs(20))
        .await
        .expect("a live a2a_message_mls frame");
    assert_eq!(f["data"]["a2a_channel_id"], ch.as_str());
    assert_eq!(f["data"]["from_hub_address"], format!("alice@{host}"));

    // A frame naming a channel the sender is not in is refused.
    let mut carol = carol;
    carol.send_frame(json!({"event": "a2a_message_mls",
        "data": {"group_id": group, "payload": "00", "a2a_channel_id": ch}}));
    let f = carol
        .next_frame("error", Duration::from_secs(20))
        .await
        .expect("an error frame");
    assert_eq!(f["data"]["detail"], "Channel not found");
    let (s, v) = alice
        .post(
            &format!("/api/v1/a2a/channels/{ch}/invite"),
            json!({"hub_address": "bob"}),
        )
        .await;
    assert_eq!(
        (s, v["detail"].as_str()),
        (409, Some("already_a_participant"))
    );
    let (s, v) = bob
        .post(
            &format!("/api/v1/a2a/channels/{ch}/invite"),
            json!({"hub_address": "nobody"}),
        )
        .await;
    assert_eq!((s, v["detail"].as_str()), (404, Some("peer_not_found")));
    let (s, v) = alice
        .post(
            &format!("/api/v1/a2a/channels/{ch}/invite"),
            json!({"hub_address": "carol"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "active");
    let (s, parts) = carol
        .get(&format!("/api/v1/a2a/channels/{ch}/participants"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(parts.as_array().unwrap().len(), 3);

    // The owner asks on an agent's behalf and approves by the route; the
    // queue's prompt is withdrawn.
    let (s, req) = o
        .hub_call(
            "POST",
            "/api/v1/a2a/channels/request",
            Some(json!({"from_hub_address": "bob", "peer_hub_address": "carol"})),
        )
        .await;
    assert_eq!(s, 201, "{req}");
    let ch2 = req["channel_id"].as_str().unwrap().to_owned();
    let pending = o.d.next_approval(&o.token, "a2a_channel").await;
    assert_eq!(pending["details"]["channel_id"], ch2.as_str());
    let (s, v) = bob
        .post(&format!("/api/v1/a2a/channels/{ch2}/approve"), json!({}))
        .await;
    assert_eq!(s, 401, "a device cannot approve: {v}");
    let (s, v) = o
        .hub_call("POST", &format!("/api/v1/a2a/channels/{ch2}/approve"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "active");
    eventually("the prompt to be withdrawn", || async {
        let list: Value = o.d.get_json("/approvals", &o.token).await;
        (!list
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "a2a_channel" && a["state"] == "open"))
        .then_some(())
    })
    .await;
    let (s, v) = o
        .hub_call(
            "POST",
            "/api/v1/a2a/channels/request",
            Some(json!({"peer_hub_address": "carol"})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, all) = o.hub_call("GET", "/api/v1/a2a/channels", None).await;
    assert_eq!(s, 200);
    assert_eq!(all.as_array().unwrap().len(), 2);
    for p in [
        "/api/v1/a2a/channels/00000000-0000-4000-8000-000000000000/approve",
        "/api/v1/a2a/channels/nope/approve",
    ] {
        let (s, v) = o.hub_call("POST", p, None).await;
        assert_eq!(
            (s, v["detail"].as_str()),
            (404, Some("Channel not found")),
            "{p}"
        );
    }
    let (s, _) = call(&o, "GET", "/api/v1/a2a/channels", None, None, None).await;
    assert_eq!(s, 401);

    // A denied request ends rejected and leaves the lists.
    let (s, req) = carol_request(&o, "carol", "alice").await;
    assert_eq!(s, 201, "{req}");
    o.d.answer(&o.token, "a2a_channel", json!({"decision": "deny"}))
        .await;
    eventually("the channel to be rejected", || async {
        let (_, all) = o.hub_call("GET", "/api/v1/a2a/channels", None).await;
        all.as_array()
            .unwrap()
            .iter()
            .any(|c| c["channel_id"] == req["channel_id"] && c["status"] == "rejected")
            .then_some(())
    })
    .await;

    // Another tenant's owner sees none of it.
    let t2 = second_tenant(&o).await;
    let tok = o.token.clone();
    let (s, v) = call(
        &o,
        "GET",
        "/api/v1/a2a/channels",
        Some(&tok),
        Some(&t2),
        None,
    )
    .await;
    assert_eq!((s, v), (200, json!([])));
    for (m, p, body) in [
        ("POST", format!("/api/v1/a2a/channels/{ch}/approve"), None),
        (
            "GET",
            format!("/api/v1/a2a/channels/{ch}/participants"),
            None,
        ),
        (
            "POST",
            "/api/v1/a2a/channels/request".to_owned(),
            Some(json!({"from_hub_address": "alice", "peer_hub_address": "bob"})),
        ),
    ] {
        let (s, v) = call(&o, m, &p, Some(&tok), Some(&t2), body).await;
        assert!(s == 404 || s == 400, "{m} {p}: {s} {v}");
        if s == 400 {
            assert_eq!(v["detail"], "cross_operator_not_supported");
        }
    }
}

async fn carol_request(o: &Owner, from: &str, to: &str) -> (u16, Value) {
    o.hub_call(
        "POST",
        "/api/v1/a2a/channels/request",
        Some(json!({"from_hub_address": from, "peer_hub_address": to})),
    )
    .await
}
