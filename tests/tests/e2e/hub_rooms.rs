//! Rooms, the policy engine and held messages, end to end: real MLS test
//! agents (hub_agent.rs) join room groups the owner's device founds, talk
//! through the hub's fan-out, and run into allow / hold / block / notify
//! policies; held messages are answered in the one approvals queue or on
//! the hub's routes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::eventually;
use crate::hub::{Owner, receive};
use crate::hub_agent::{Inbound, TestAgent};

const WAIT: Duration = Duration::from_secs(20);

async fn agent(o: &Owner, n: u8) -> TestAgent {
    let mut a = TestAgent::new(&o.hub(), [n; 32], [n + 1; 32]);
    o.enrol(&mut a).await;
    a
}

fn id(a: &TestAgent) -> String {
    a.device_id.clone().unwrap()
}

/// Create a room with `members`; 201 expected.
async fn room(o: &Owner, name: &str, members: &[&TestAgent]) -> Value {
    let ids: Vec<String> = members.iter().map(|a| id(a)).collect();
    let (s, r) = o
        .hub_call(
            "POST",
            "/api/v1/rooms",
            Some(json!({"name": name, "member_device_ids": ids})),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    r
}

/// Pull until the agent holds the room's group (its Welcome carried room_id).
async fn join(a: &mut TestAgent, room_id: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(g) = a.room_group(room_id) {
            return g;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no room Welcome arrived"
        );
        let _ = a
            .next_frame("mls_delivery", Duration::from_millis(500))
            .await;
        a.pull().await;
    }
}

/// Pull (and apply commits) until nothing is left.
async fn drain(a: &mut TestAgent) -> Vec<Inbound> {
    let mut got = Vec::new();
    loop {
        let batch = a.pull().await;
        if batch.is_empty() {
            let (_, v) = a
                .get(&format!("/api/v1/mls/delivery?device_id={}", id(a)))
                .await;
            if v["messages"].as_array().is_none_or(|m| m.is_empty()) {
                return got;
            }
        }
        got.extend(batch);
    }
}

/// The owner device's decrypted room timeline (REST).
async fn owner_room_texts(o: &Owner, room: &str) -> Vec<Value> {
    o.d.get_json(&format!("/agents/rooms/{room}/messages"), &o.token)
        .await
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_room_fans_out_to_the_other_members_and_the_owner() {
    let o = Owner::start().await;
    let mut a = agent(&o, 21).await;
    let mut b = agent(&o, 23).await;
    let r = room(&o, "Ops", &[&a, &b]).await;
    let rid = r["id"].as_str().unwrap().to_owned();
    assert_eq!(r["status"], "active");
    assert_eq!(r["member_count"], 3);
    let types: Vec<&str> = r["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["entity_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["agent", "agent", "owner"]);

    // Both members are told (room_joined) and get a Welcome naming the room.
    for x in [&mut a, &mut b] {
        let f = x
            .next_frame("room_joined", WAIT)
            .await
            .expect("room_joined");
        assert_eq!(f["data"]["room_id"], rid.as_str());
        assert_eq!(f["data"]["room_name"], "Ops");
        assert_eq!(f["data"]["members"].as_array().unwrap().len(), 3);
        assert!(f["data"]["conversations"].is_array());
    }
    let group = join(&mut a, &rid).await;
    assert_eq!(join(&mut b, &rid).await, group);
    assert_eq!(group, r["group_id"].as_str().unwrap());

    // GET /rooms as a device: a JSON array of its active rooms with members.
    let (s, list) = a.get("/api/v1/rooms").await;
    assert_eq!(s, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], rid.as_str());
    assert_eq!(list[0]["name"], "Ops");
    let members: Vec<&str> = list[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["device_id"].as_str().unwrap())
        .collect();
    assert!(members.contains(&id(&a).as_str()) && members.contains(&id(&b).as_str()));

    // A speaks: B decrypts it (live, room-aware), the owner's device too;
    // A gets no copy.
    a.send_room_text(&group, &rid, "hello room");
    let got = b.live_room_message(WAIT).await.expect("B hears A");
    assert_eq!(got.text, "hello room");
    assert_eq!(got.sender_device_id, id(&a));
    assert_eq!(got.room_id.as_deref(), Some(rid.as_str()));
    let texts = eventually("the owner device decrypts the room message", || async {
        let t = owner_room_texts(&o, &rid).await;
        (!t.is_empty()).then_some(t)
    })
    .await;
    assert_eq!(texts[0]["text"], "hello room");
    assert_eq!(texts[0]["sender_device_id"], id(&a).as_str());
    assert!(drain(&mut a).await.is_empty(), "A got its own message");
    // B's queue row carried the same message id as the live frame: no second copy.
    assert!(drain(&mut b).await.is_empty());

    // The aggregated timeline: ciphertext only, oldest first.
    let (s, tl) = o
        .hub_call("GET", &format!("/api/v1/rooms/{rid}/messages"), None)
        .await;
    assert_eq!(s, 200);
    let tl = tl.as_array().unwrap();
    assert_eq!(tl.len(), 1);
    assert_eq!(tl[0]["sender_device_id"], id(&a).as_str());
    assert_eq!(tl[0]["id"], got.message_id.as_str());
    assert!(!tl[0].to_string().contains("hello room"));

    // The owner writes into the room from the web UI's REST route.
    let resp =
        o.d.post_auth(
            &format!("/agents/rooms/{rid}/messages"),
            &o.token,
            json!({"text": "owner here"}),
        )
        .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    for x in [&mut a, &mut b] {
        let m = x.live_room_message(WAIT).await.expect("owner's message");
        assert_eq!(m.text, "owner here");
    }

    // POST /rooms/{id}/messages with opaque blobs fans out too.
    let (s, v) = o
        .hub_call(
            "POST",
            &format!("/api/v1/rooms/{rid}/messages"),
            Some(json!({"ciphertext": "AAEC", "header_blob": "AQ=="})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["status"], "delivered");
    let (_, tl) = o
        .hub_call(
            "GET",
            &format!("/api/v1/rooms/{rid}/messages?limit=1&since=0"),
            None,
        )
        .await;
    assert_eq!(tl.as_array().unwrap().len(), 1);

    // Errors in the detail shape.
    for (method, path, body, want) in [
        ("POST", "/api/v1/rooms".to_owned(), json!({"name": ""}), 400),
        (
            "POST",
            "/api/v1/rooms".to_owned(),
            json!({"name": "x", "member_device_ids": ["00000000-0000-4000-8000-000000000000"]}),
            404,
        ),
        (
            "POST",
            "/api/v1/rooms".to_owned(),
            json!({"name": "x", "bogus": 1}),
            400,
        ),
        (
            "POST",
            format!("/api/v1/rooms/{rid}/members"),
            json!({"device_id": id(&a)}),
            409,
        ),
        (
            "PATCH",
            format!("/api/v1/rooms/{rid}"),
            json!({"status": "gone"}),
            400,
        ),
        (
            "POST",
            format!("/api/v1/rooms/{rid}/messages"),
            json!({"ciphertext": "%%%"}),
            400,
        ),
        (
            "GET",
            "/api/v1/rooms/not-a-uuid".to_owned(),
            Value::Null,
            404,
        ),
        (
            "DELETE",
            format!("/api/v1/rooms/{rid}/members/00000000-0000-4000-8000-000000000000"),
            Value::Null,
            404,
        ),
    ] {
        let (s, v) = o
            .hub_call(method, &path, (!body.is_null()).then_some(body))
            .await;
        assert_eq!(s, want, "{method} {path}: {v}");
        assert!(v["detail"].is_string(), "{method} {path}: {v}");
    }
    // A frame for a room the sender is not in, or without room_id.
    a.send_frame(
        json!({"event": "room_message_mls", "data": {"group_id": group, "payload": "00"}}),
    );
    let e = a.next_frame("error", WAIT).await.unwrap();
    assert_eq!(e["data"]["detail"], "room_id is required");

    // A member's Welcome request names the room to the others (§7.4).
    let (s, _) = b
        .post(
            &format!("/api/v1/mls/groups/{group}/request-welcome"),
            json!({"device_id": id(&b)}),
        )
        .await;
    assert!((200..300).contains(&s));
    let f = a
        .next_frame("mls_welcome_requested", WAIT)
        .await
        .expect("A hears the request");
    assert_eq!(f["data"]["room_id"], rid.as_str());
    assert_eq!(f["data"]["requesting_device_id"], id(&b).as_str());
}

#[tokio::test]
async fn members_join_and_leave_with_commits_and_room_joined() {
    let o = Owner::start().await;
    let mut a = agent(&o, 31).await;
    let mut b = agent(&o, 33).await;
    let r = room(&o, "Pair", &[&a]).await;
    let rid = r["id"].as_str().unwrap().to_owned();
    let group = join(&mut a, &rid).await;
    assert_eq!(b.get("/api/v1/rooms").await.1, json!([]));

    // Add B: B joins from its Welcome; A applies the commit and is told.
    let (s, r2) = o
        .hub_call(
            "POST",
            &format!("/api/v1/rooms/{rid}/members"),
            Some(json!({"device_id": id(&b)})),
        )
        .await;
    assert_eq!(s, 201, "{r2}");
    assert_eq!(r2["member_count"], 3);
    let f = b.next_frame("room_joined", WAIT).await.expect("B told");
    assert_eq!(f["data"]["room_id"], rid.as_str());
    a.discard_frames();
    assert_eq!(join(&mut b, &rid).await, group);
    drain(&mut a).await;
    a.send_room_text(&group, &rid, "welcome B");
    let m = receive(&mut b, 1).await;
    assert_eq!(m[0].text, "welcome B");
    assert_eq!(b.get("/api/v1/rooms").await.1.as_array().unwrap().len(), 1);

    // Remove B: 204; A's next room_joined lists two members; B's rooms are
    // empty and it gets nothing more.
    let (s, _) = o
        .hub_call(
            "DELETE",
            &format!("/api/v1/rooms/{rid}/members/{}", id(&b)),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let f = loop {
        let f = a
            .next_frame("room_joined", WAIT)
            .await
            .expect("A is told B left");
        if f["data"]["members"].as_array().unwrap().len() == 2 {
            break f;
        }
    };
    assert!(!f.to_string().contains(&id(&b)));
    assert_eq!(b.get("/api/v1/rooms").await.1, json!([]));
    drain(&mut a).await; // the removal commit
    drain(&mut b).await;
    a.send_room_text(&group, &rid, "B is gone");
    let texts = eventually("the owner sees A's message", || async {
        let t = owner_room_texts(&o, &rid).await;
        t.iter().any(|m| m["text"] == "B is gone").then_some(t)
    })
    .await;
    assert!(texts.iter().any(|m| m["text"] == "welcome B"));
    assert!(
        drain(&mut b).await.is_empty(),
        "a removed member got traffic"
    );
    // Removing again: 404.
    let (s, _) = o
        .hub_call(
            "DELETE",
            &format!("/api/v1/rooms/{rid}/members/{}", id(&b)),
            None,
        )
        .await;
    assert_eq!(s, 404);

    // Archive: gone from the device's list; frames refused.
    let (s, v) = o
        .hub_call(
            "PATCH",
            &format!("/api/v1/rooms/{rid}"),
            Some(json!({"status": "archived", "name": "Old pair"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["name"], "Old pair");
    assert_eq!(a.get("/api/v1/rooms").await.1, json!([]));
    let (_, all) = o.hub_call("GET", "/api/v1/rooms", None).await;
    assert_eq!(all, json!([]));
    let (_, all) = o
        .hub_call("GET", "/api/v1/rooms?include_archived=1", None)
        .await;
    assert_eq!(all.as_array().unwrap().len(), 1);
}

async fn audit_hits(o: &Owner) -> Vec<Value> {
    let v = o.d.get_json("/audit?types=hub_policy_hit", &o.token).await;
    v.as_array().unwrap().clone()
}

#[tokio::test]
async fn policies_hold_block_and_notify_and_held_messages_are_answered_once() {
    let o = Owner::start().await;
    let mut a = agent(&o, 41).await;
    let mut b = agent(&o, 43).await;
    let r = room(&o, "Guarded", &[&a, &b]).await;
    let rid = r["id"].as_str().unwrap().to_owned();
    let group = join(&mut a, &rid).await;
    join(&mut b, &rid).await;

    let (s, p) = o
        .hub_call(
            "POST",
            "/api/v1/policies",
            Some(json!({
                "name": "Hold A", "action": "hold",
                "conditions": {"sender_device_ids": [id(&a)], "room_ids": [rid], "message_types": ["text"]},
            })),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let pid = p["id"].as_str().unwrap().to_owned();
    assert_eq!(p["enabled"], true);
    let (_, list) = o.hub_call("GET", "/api/v1/policies", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Held: the approval shows metadata only; approving it in the queue
    // delivers the message to B exactly once.
    a.send_room_text(&group, &rid, "needs a nod");
    let approval = o.d.next_approval(&o.token, "held_message").await;
    let d = &approval["details"];
    assert_eq!(d["room_name"], "Guarded");
    assert_eq!(d["policy_name"], "Hold A");
    assert_eq!(d["message_type"], "text");
    assert_eq!(d["sender_device_id"], id(&a).as_str());
    assert!(d["size_bytes"].as_i64().unwrap() > 0);
    assert!(!approval.to_string().contains("needs a nod"));
    let (s, held) = o
        .hub_call("GET", "/api/v1/policies/held-messages", None)
        .await;
    assert_eq!(s, 200);
    let held = held.as_array().unwrap().clone();
    assert_eq!(held.len(), 1);
    let hid = held[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(held[0]["sender_device_id"], id(&a).as_str());
    assert_eq!(held[0]["policy_id"], pid.as_str());
    assert!(held[0].get("payload").is_none() && held[0].get("ciphertext").is_none());
    assert!(drain(&mut b).await.is_empty(), "a held message leaked");
    let hits = audit_hits(&o).await;
    assert_eq!(hits[0]["details"]["action"], "hold");
    assert_eq!(hits[0]["details"]["policy_id"], pid.as_str());
    assert_eq!(hits[0]["details"]["room_id"], rid.as_str());
    assert_eq!(hits[0]["details"]["device_id"], id(&a).as_str());
    assert!(hits[0]["details"]["hub_id"].is_string());
    assert!(hits[0]["details"]["tenant_id"].is_string());

    let resp =
        o.d.post_auth(
            &format!("/approvals/{}", approval["id"].as_str().unwrap()),
            &o.token,
            json!({"decision": "allow"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let got = receive(&mut b, 1).await;
    assert_eq!(got[0].text, "needs a nod");
    assert_eq!(got[0].room_id.as_deref(), Some(rid.as_str()));
    let (s, v) = o
        .hub_call(
            "POST",
            &format!("/api/v1/policies/held-messages/{hid}/approve"),
            None,
        )
        .await;
    assert_eq!(s, 409, "{v}");
    let (_, held) = o
        .hub_call("GET", "/api/v1/policies/held-messages", None)
        .await;
    assert_eq!(held, json!([]));

    // Denied on the hub route: dropped, the sender told, the prompt withdrawn.
    a.discard_frames();
    a.send_room_text(&group, &rid, "say no");
    let hid = eventually("the second message is held", || async {
        let (_, v) = o
            .hub_call("GET", "/api/v1/policies/held-messages", None)
            .await;
        v.as_array()?.first()?["id"].as_str().map(str::to_owned)
    })
    .await;
    o.d.next_approval(&o.token, "held_message").await;
    let (s, v) = o
        .hub_call(
            "POST",
            &format!("/api/v1/policies/held-messages/{hid}/deny"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "denied");
    let e = a.next_frame("error", WAIT).await.expect("A is told");
    assert_eq!(e["data"]["detail"], "Message denied by the owner");
    assert_eq!(e["data"]["room_id"], rid.as_str());
    eventually("the prompt is withdrawn", || async {
        let list = o.d.get_json("/approvals", &o.token).await;
        (!list.to_string().contains("held_message")).then_some(())
    })
    .await;
    let (s, _) = o
        .hub_call(
            "POST",
            &format!("/api/v1/policies/held-messages/{hid}/approve"),
            None,
        )
        .await;
    assert_eq!(s, 409);

    // Block: the sender gets an error frame; nobody else anything.
    let (s, p2) = o
        .hub_call(
            "PATCH",
            &format!("/api/v1/policies/{pid}"),
            Some(json!({"action": "block"})),
        )
        .await;
    assert_eq!(s, 200, "{p2}");
    assert_eq!(p2["action"], "block");
    a.send_room_text(&group, &rid, "not allowed");
    let e = a.next_frame("error", WAIT).await.expect("blocked");
    assert_eq!(e["data"]["detail"], "Message blocked by policy");
    assert_eq!(e["data"]["policy_id"], pid.as_str());

    // Notify: delivered, and recorded.
    let (s, _) = o
        .hub_call(
            "PATCH",
            &format!("/api/v1/policies/{pid}"),
            Some(json!({"action": "notify"})),
        )
        .await;
    assert_eq!(s, 200);
    a.send_room_text(&group, &rid, "heads up");
    let got = b.live_room_message(WAIT).await.expect("notify delivers");
    assert_eq!(got.text, "heads up");
    let actions: Vec<String> = audit_hits(&o)
        .await
        .iter()
        .map(|h| h["details"]["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["notify", "block", "hold", "hold"]);

    // Disabled, then deleted: plain delivery. B has seen each delivered
    // message exactly once; "say no" and "not allowed" never.
    let (s, _) = o
        .hub_call(
            "PATCH",
            &format!("/api/v1/policies/{pid}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200);
    a.send_room_text(&group, &rid, "free again");
    assert_eq!(b.live_room_message(WAIT).await.unwrap().text, "free again");
    let (s, _) = o
        .hub_call("DELETE", &format!("/api/v1/policies/{pid}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = o
        .hub_call("DELETE", &format!("/api/v1/policies/{pid}"), None)
        .await;
    assert_eq!(s, 404);
    assert!(drain(&mut b).await.is_empty());
    let (_, tl) = o
        .hub_call("GET", &format!("/api/v1/rooms/{rid}/messages"), None)
        .await;
    assert_eq!(tl.as_array().unwrap().len(), 3, "{tl}");

    // Policy validation.
    for body in [
        json!({"name": "x", "action": "explode"}),
        json!({"name": "", "action": "hold"}),
        json!({"name": "x", "action": "hold", "conditions": {"room_ids": ["nope"]}}),
        json!({"name": "x", "action": "hold", "conditions": {"time_of_day": {"start": "25:00", "end": "01:00"}}}),
        json!({"name": "x", "action": "hold", "conditions": {"rate": {"max_messages": 0, "window_seconds": 5}}}),
        json!({"name": "x", "action": "hold", "priority": -1}),
    ] {
        let (s, v) = o
            .hub_call("POST", "/api/v1/policies", Some(body.clone()))
            .await;
        assert_eq!(s, 400, "{body}: {v}");
        assert!(v["detail"].is_string());
    }
}

#[tokio::test]
async fn a_rate_policy_holds_the_burst() {
    let o = Owner::start().await;
    let mut a = agent(&o, 51).await;
    let mut b = agent(&o, 53).await;
    let r = room(&o, "Burst", &[&a, &b]).await;
    let rid = r["id"].as_str().unwrap().to_owned();
    let group = join(&mut a, &rid).await;
    join(&mut b, &rid).await;
    let (s, _) = o
        .hub_call(
            "POST",
            "/api/v1/policies",
            Some(json!({"name": "Two a minute", "action": "block",
                "conditions": {"rate": {"max_messages": 2, "window_seconds": 60}}})),
        )
        .await;
    assert_eq!(s, 201);
    for t in ["one", "two"] {
        a.send_room_text(&group, &rid, t);
        assert_eq!(b.live_room_message(WAIT).await.unwrap().text, t);
    }
    a.send_room_text(&group, &rid, "three");
    let e = a
        .next_frame("error", WAIT)
        .await
        .expect("the third is blocked");
    assert_eq!(e["data"]["detail"], "Message blocked by policy");
}

#[tokio::test]
async fn a_second_tenant_and_devices_get_nothing_of_the_owners_rooms() {
    let o = Owner::start().await;
    let a = agent(&o, 61).await;
    let r = room(&o, "Private", &[&a]).await;
    let rid = r["id"].as_str().unwrap().to_owned();
    let (_, p) = o
        .hub_call(
            "POST",
            "/api/v1/policies",
            Some(json!({"name": "Hold", "action": "hold"})),
        )
        .await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let (s, t) = o
        .hub_call("POST", "/api/v1/tenants", Some(json!({"name": "Other"})))
        .await;
    assert_eq!(s, 201);
    let tenant = t["id"].as_str().unwrap().to_owned();
    let a_id = id(&a);
    let other = "00000000-0000-4000-8000-000000000000";

    let owner_only: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/v1/rooms/{rid}"), None),
        (
            "PATCH",
            format!("/api/v1/rooms/{rid}"),
            Some(json!({"name": "x"})),
        ),
        (
            "POST",
            format!("/api/v1/rooms/{rid}/members"),
            Some(json!({"device_id": a_id})),
        ),
        (
            "DELETE",
            format!("/api/v1/rooms/{rid}/members/{a_id}"),
            None,
        ),
        (
            "POST",
            format!("/api/v1/rooms/{rid}/messages"),
            Some(json!({"ciphertext": "AA=="})),
        ),
        ("GET", format!("/api/v1/rooms/{rid}/messages"), None),
        (
            "PATCH",
            format!("/api/v1/policies/{pid}"),
            Some(json!({"name": "x"})),
        ),
        ("DELETE", format!("/api/v1/policies/{pid}"), None),
        (
            "POST",
            format!("/api/v1/policies/held-messages/{other}/approve"),
            None,
        ),
        (
            "POST",
            format!("/api/v1/policies/held-messages/{other}/deny"),
            None,
        ),
    ];
    let call = |method: &str,
                path: &str,
                body: &Option<Value>,
                bearer: Option<&str>,
                tenant: Option<&str>| {
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
            req = req.json(b);
        }
        req.send()
    };
    for (method, path, body) in &owner_only {
        // Another tenant's owner: 404 for everything of the first.
        let resp = call(method, path, body, Some(&o.token), Some(&tenant))
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{method} {path} in another tenant");
        let v: Value = resp.json().await.unwrap();
        assert!(v["detail"].is_string());
        // No bearer: 401. A device JWT on an owner route: 401.
        let resp = call(method, path, body, None, None).await.unwrap();
        assert_eq!(resp.status(), 401, "{method} {path} without a bearer");
        let resp = call(method, path, body, a.jwt.as_deref(), None)
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{method} {path} with a device JWT");
    }
    for path in [
        "/api/v1/rooms",
        "/api/v1/policies",
        "/api/v1/policies/held-messages",
    ] {
        let resp = call("GET", path, &None, Some(&o.token), Some(&tenant))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.json::<Value>().await.unwrap(), json!([]), "{path}");
        let resp = call("GET", path, &None, None, None).await.unwrap();
        assert_eq!(resp.status(), 401, "{path}");
    }
    for (method, path) in [
        ("POST", "/api/v1/rooms"),
        ("POST", "/api/v1/policies"),
        ("GET", "/api/v1/policies"),
    ] {
        let body = Some(json!({"name": "x", "action": "hold"}));
        let resp = call(method, path, &body, a.jwt.as_deref(), None)
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{method} {path} with a device JWT");
    }
    // The other tenant cannot put the first tenant's agent in its room.
    let resp = call(
        "POST",
        "/api/v1/rooms",
        &Some(json!({"name": "Grab", "member_device_ids": [a_id]})),
        Some(&o.token),
        Some(&tenant),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 404);
    // An unknown tenant: 403.
    let resp = call("GET", "/api/v1/rooms", &None, Some(&o.token), Some(other))
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // A device sees its own rooms only; a garbage bearer is refused.
    let (s, v) = a.get("/api/v1/rooms").await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().unwrap().len(), 1);
    let resp = call("GET", "/api/v1/rooms", &None, Some("nonsense"), None)
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
