//! The agent hub, end to end: a test agent built on the device protocol
//! (tests/e2e/hub_agent.rs, the same MLS library) enrols with an invite, is
//! approved through the one approvals queue, activates, publishes
//! KeyPackages and talks to the owner's device inside the daemon, whose
//! plaintext the owner reads over REST.

use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::{PASSPHRASE, TestDaemon, eventually};
use crate::hub_agent::TestAgent;

/// The §2.5 worked example's seeds.
const SEED: [u8; 32] = [1; 32];
const EPHEMERAL: [u8; 32] = [2; 32];

pub struct Owner {
    pub d: TestDaemon,
    pub token: String,
}

impl Owner {
    pub async fn start() -> Self {
        let d = TestDaemon::start().await;
        let token = d.owner_token().await;
        d.init_identity(&token).await;
        Self { d, token }
    }

    pub fn hub(&self) -> String {
        self.d.hub.clone().expect("the hub is running")
    }

    /// A hub call with the owner's bearer.
    pub async fn hub_call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.hub());
        let mut req = self
            .d
            .http
            .request(method.parse().unwrap(), url)
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A fresh invite token (REST, default tenant).
    pub async fn invite(&self) -> String {
        let resp = self
            .d
            .post_auth("/agents/invites", &self.token, json!({}))
            .await;
        assert_eq!(resp.status(), 201);
        let v: Value = resp.json().await.unwrap();
        v["token"].as_str().unwrap().to_owned()
    }

    /// Enrol `agent`, allow it in the approvals queue, activate it, publish
    /// its KeyPackages and connect its socket.
    pub async fn enrol(&self, agent: &mut TestAgent) {
        let invite = self.invite().await;
        self.enrol_with(agent, &invite).await;
    }

    /// [`Owner::enrol`] with a given invite token (e.g. another tenant's).
    pub async fn enrol_with(&self, agent: &mut TestAgent, invite: &str) {
        let resp = agent.enroll(invite, Some("python")).await;
        assert_eq!(resp.status(), 201);
        let approval = self.d.next_approval(&self.token, "device_enrolment").await;
        assert_eq!(approval["details"]["fingerprint"], agent.fingerprint());
        assert_eq!(approval["details"]["platform"], "python");
        let id = approval["id"].as_str().unwrap();
        let resp = self
            .d
            .post_auth(
                &format!("/approvals/{id}"),
                &self.token,
                json!({"decision": "allow"}),
            )
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        wait_status(agent, "APPROVED").await;
        let resp = agent.activate().await;
        assert_eq!(resp.status(), 200);
        wait_status(agent, "ACTIVE").await;
        assert!(
            agent
                .publish_key_packages(10)
                .await
                .iter()
                .all(|s| *s == 201)
        );
        agent.connect().await.expect("socket opens");
    }

    pub async fn send(&self, agent: &TestAgent, text: &str) -> Value {
        let resp = self
            .d
            .post_auth(
                &format!("/agents/{}/messages", agent.device_id.as_ref().unwrap()),
                &self.token,
                json!({"text": text}),
            )
            .await;
        if resp.status() != 201 {
            let log = std::fs::read_to_string(self.d.data_dir().join("daemon-stderr.log"))
                .unwrap_or_default();
            let tail: String = log.lines().rev().take(15).collect::<Vec<_>>().join("\n");
            panic!(
                "send answered {}: {}\n{tail}",
                resp.status(),
                resp.text().await.unwrap()
            );
        }
        resp.json().await.unwrap()
    }

    pub async fn conversation(&self, agent: &TestAgent) -> Vec<Value> {
        let v = self
            .d
            .get_json(
                &format!("/agents/{}/messages", agent.device_id.as_ref().unwrap()),
                &self.token,
            )
            .await;
        v.as_array().unwrap().clone()
    }
}

/// Poll the status as setup does (a 429 means later), until `want`.
async fn wait_status(agent: &TestAgent, want: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (code, v) = agent.status().await;
        if v["status"] == want {
            return;
        }
        assert!(
            code == 200 || code == 429,
            "status poll answered {code}: {v}"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "never became {want}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Pull until `n` messages arrived (nudges may come before rows settle).
pub async fn receive(agent: &mut TestAgent, n: usize) -> Vec<crate::hub_agent::Inbound> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got.len() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {n} messages arrived",
            got.len()
        );
        let _ = agent
            .next_frame("mls_delivery", Duration::from_millis(500))
            .await;
        got.extend(agent.pull().await);
    }
    got
}

#[tokio::test]
async fn an_agent_enrols_is_approved_and_talks_end_to_end() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    assert_eq!(agent.fingerprint(), "89:6c:70:17:04:cf:48:4e");
    o.enrol(&mut agent).await;
    let me = agent.device_id.clone().unwrap();

    let agents: Value = o.d.get_json("/agents", &o.token).await;
    let a = &agents[0];
    assert_eq!(a["device_id"], me.as_str());
    assert_eq!(a["status"], "ACTIVE");
    assert_eq!(a["fingerprint"], "89:6c:70:17:04:cf:48:4e");
    assert_eq!(a["platform"], "python");
    eventually("the agent to show online", || async {
        let v: Value = o.d.get_json("/agents", &o.token).await;
        (v[0]["online"] == true).then_some(())
    })
    .await;

    // The first message founds the group: Welcome, then the message.
    let sent = o.send(&agent, "hello agent").await;
    let got = receive(&mut agent, 1).await;
    assert_eq!(got[0].text, "hello agent");
    assert_eq!(got[0].message_id, sent["message_id"].as_str().unwrap());
    let group = got[0].group_id.clone();

    let mut sse = o.d.get(&format!("/events/stream?token={}", o.token)).await;
    crate::events::read_until(&mut sse, ": connected").await;
    agent.reply(&group, "hello owner").await;
    let seen = crate::events::read_until(&mut sse, "hello owner").await;
    assert!(seen.contains("event: agent_message"), "{seen}");
    let convo = eventually("the reply to reach the owner", || async {
        let c = o.conversation(&agent).await;
        (c.len() == 2).then_some(c)
    })
    .await;
    assert_eq!(convo[0]["direction"], "to_agent");
    assert_eq!(convo[0]["text"], "hello agent");
    assert_eq!(convo[1]["direction"], "from_agent");
    assert_eq!(convo[1]["text"], "hello owner");
    assert!(convo[0]["created_at_ms"].as_i64() <= convo[1]["created_at_ms"].as_i64());

    // Once joined, a message arrives live and as a row with the same id;
    // the agent's dedup sees it once.
    let sent = o.send(&agent, "second").await;
    let live = agent
        .live_message(Duration::from_secs(10))
        .await
        .expect("a live frame");
    assert_eq!(live.text, "second");
    assert_eq!(live.message_id, sent["message_id"].as_str().unwrap());
    assert!(
        agent.pull().await.is_empty(),
        "the queued copy is the same message"
    );

    // The hub's head matches the founding commit.
    let (status, head) = agent.get(&format!("/api/v1/mls/groups/{group}")).await;
    assert_eq!(status, 200);
    assert_eq!(head["current_epoch"], 1);
    assert_eq!(head["member_device_ids"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_backlog_arrives_once_in_order_and_survives_a_restart() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    o.enrol(&mut agent).await;
    o.send(&agent, "first").await;
    let group = receive(&mut agent, 1).await[0].group_id.clone();

    agent.disconnect().await;
    for i in 0..5 {
        o.send(&agent, &format!("backlog {i}")).await;
    }
    // The daemon restarts with the backlog queued: nothing is lost.
    let Owner { d, token } = o;
    let d = d.restart().await;
    let resp = d
        .post_auth(
            "/identity/unlock",
            &token,
            json!({"passphrase": PASSPHRASE}),
        )
        .await;
    let token = if resp.status() == 401 {
        // Sessions survive restarts only if stored; log in again if not.
        let t = d.login(crate::harness::PASSWORD).await;
        let r = d
            .post_auth("/identity/unlock", &t, json!({"passphrase": PASSPHRASE}))
            .await;
        assert_eq!(r.status(), 200);
        t
    } else {
        assert_eq!(resp.status(), 200);
        token
    };
    let o = Owner { d, token };
    agent.base = o.hub();
    agent.connect().await.expect("reconnects");
    let got = receive(&mut agent, 5).await;
    let texts: Vec<&str> = got.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "backlog 0",
            "backlog 1",
            "backlog 2",
            "backlog 3",
            "backlog 4"
        ]
    );
    assert!(agent.pull().await.is_empty(), "each arrives once");

    // The owner's MLS state survived the restart: it decrypts a reply.
    agent.reply(&group, "after restart").await;
    eventually("the reply after the restart", || async {
        let c = o.conversation(&agent).await;
        c.iter().any(|m| m["text"] == "after restart").then_some(())
    })
    .await;
    assert_eq!(o.conversation(&agent).await.len(), 7);
}

#[tokio::test]
async fn an_agent_that_lost_its_group_state_is_readmitted() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    o.enrol(&mut agent).await;
    o.send(&agent, "before").await;
    let group = receive(&mut agent, 1).await[0].group_id.clone();

    // The agent restarts without its MLS state and asks for a Welcome.
    agent.mls_store = std::sync::Arc::new(holdfast_core::hub::mls::MemoryStore::default());
    agent.restart_mls();
    agent.publish_key_packages(2).await;
    let me = agent.device_id.clone().unwrap();
    let (s, _) = agent
        .post(
            &format!("/api/v1/mls/groups/{group}/request-welcome"),
            json!({"device_id": me}),
        )
        .await;
    assert_eq!(s, 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while agent.mls.as_ref().unwrap().epoch(&group).unwrap().is_none() {
        assert!(tokio::time::Instant::now() < deadline, "never re-admitted");
        let _ = agent
            .next_frame("mls_delivery", Duration::from_millis(300))
            .await;
        agent.pull().await;
    }
    let (_, head) = agent.get(&format!("/api/v1/mls/groups/{group}")).await;
    assert_eq!(head["current_epoch"], 2);
    let (_, open) = agent
        .get(&format!("/api/v1/mls/groups/{group}/pending-welcomes"))
        .await;
    assert_eq!(open, json!([]), "the request is fulfilled");

    o.send(&agent, "after").await;
    assert_eq!(receive(&mut agent, 1).await[0].text, "after");
    agent.reply(&group, "back").await;
    eventually("the reply after the re-admit", || async {
        o.conversation(&agent)
            .await
            .iter()
            .any(|m| m["text"] == "back")
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn conflicting_commits_are_refused_with_the_documented_error() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    o.enrol(&mut agent).await;
    o.send(&agent, "hi").await;
    let group = receive(&mut agent, 1).await[0].group_id.clone();
    agent.discard_frames();

    let first = "deadbeef";
    let commit = |payload: &str, epoch: u64, parent: Option<&str>| {
        json!({"event": "mls_commit", "data": {
            "group_id": group, "epoch": epoch, "payload": payload,
            "member_device_ids": [], "parent_digest": parent,
        }})
    };
    // Two commits built on epoch 1: the first wins, the second is refused.
    agent.send_frame(commit(first, 2, None));
    agent.send_frame(commit("cafebabe", 2, None));
    let err = agent
        .next_frame("error", Duration::from_secs(10))
        .await
        .expect("a refusal");
    let data = &err["data"];
    assert!(
        data["detail"]
            .as_str()
            .unwrap()
            .ends_with("commit rejected")
    );
    assert_eq!(data["code"], "EPOCH_CONFLICT");
    assert_eq!(data["group_id"], group.as_str());
    assert_eq!(data["expected_epoch"], 1);
    assert_eq!(data["current_epoch"], 2);

    let digest = hex::encode(Sha256::digest(hex::decode(first).unwrap()));
    assert_eq!(
        digest,
        "5f78c33274e43fa9de5659265c1d917e25c03722dcb0b8d27db8d5feaa813953"
    );
    let (_, head) = agent.get(&format!("/api/v1/mls/groups/{group}")).await;
    assert_eq!(head["current_epoch"], 2);
    assert_eq!(head["last_commit_digest"], digest.as_str());

    // A commit naming another parent is refused with the head's digest.
    agent.send_frame(commit("00", 3, Some(&"11".repeat(32))));
    let err = agent
        .next_frame("error", Duration::from_secs(10))
        .await
        .expect("a refusal");
    assert_eq!(err["data"]["code"], "PARENT_MISMATCH");
    assert_eq!(err["data"]["head_digest"], digest.as_str());

    // Sync replays what the member lacks, or asks it to rejoin.
    let (_, sync) = agent
        .get(&format!("/api/v1/mls/groups/{group}/sync?last_epoch=1"))
        .await;
    assert_eq!(sync["action"], "replay");
    assert_eq!(sync["messages"][0]["payload"], first);
    assert_eq!(sync["messages"][0]["epoch"], 2);
    let (_, sync) = agent.get(&format!("/api/v1/mls/groups/{group}/sync")).await;
    assert_eq!(sync["action"], "rejoin");
    agent.send_sync(&group, Some(2));
    let resp = agent
        .next_frame("mls_sync_response", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(resp["data"]["action"], "replay");
    let done = agent
        .next_frame("mls_sync_response", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(done["data"]["action"], "replay_complete");
}

#[tokio::test]
async fn the_key_package_pool_keeps_the_newest_ten_and_checks_ownership() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    o.enrol(&mut agent).await;
    let mut other = TestAgent::new(&o.hub(), [7; 32], [8; 32]);
    o.enrol(&mut other).await;
    let me = agent.device_id.clone().unwrap();

    // The enrolment published 10; 11 more, each distinct, evict the oldest.
    let mut published = Vec::new();
    for _ in 0..11 {
        let kp = hex::encode(agent.mls.as_ref().unwrap().key_package().unwrap());
        let (s, _) = agent
            .post("/api/v1/mls/key-packages", json!({"key_package": kp}))
            .await;
        assert_eq!(s, 201);
        published.push(kp);
    }
    let (_, c) = agent
        .get(&format!("/api/v1/mls/key-packages/count?device_id={me}"))
        .await;
    assert_eq!(c["count"], 10);
    // Claims serve the newest first, single use, never the evicted one.
    let mut served = Vec::new();
    for _ in 0..11 {
        let (s, v) = other
            .get(&format!("/api/v1/mls/key-packages/batch?device_ids={me}"))
            .await;
        assert_eq!(s, 200);
        if let Some(kp) = v[&me].as_str() {
            served.push(kp.to_owned());
        }
    }
    assert_eq!(served.len(), 10);
    let expected: Vec<String> = published[1..].iter().rev().cloned().collect();
    assert_eq!(served, expected);

    // A package of another key, or naming another device, is refused.
    let foreign = hex::encode(other.mls.as_ref().unwrap().key_package().unwrap());
    let (s, v) = agent
        .post("/api/v1/mls/key-packages", json!({"key_package": foreign}))
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = agent
        .post("/api/v1/mls/key-packages", json!({"key_package": "00ff"}))
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn a_revoked_device_is_closed_and_refused() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    o.enrol(&mut agent).await;
    let me = agent.device_id.clone().unwrap();

    let resp =
        o.d.post_auth(&format!("/agents/{me}/revoke"), &o.token, json!({}))
            .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        agent.close_reason(Duration::from_secs(10)).await,
        Some(4403)
    );
    let err = agent.connect().await.expect_err("the handshake is refused");
    assert!(err.contains("403"), "{err}");
    assert_eq!(agent.status().await.1["status"], "REVOKED");
    assert_eq!(agent.reissue().await.status(), 403);
    let (s, _) = agent
        .get(&format!("/api/v1/mls/delivery?device_id={me}"))
        .await;
    assert_eq!(s, 403);

    // Deleted: the exact body agents read as "gone for good".
    let (s, _) = o
        .hub_call("DELETE", &format!("/api/v1/devices/{me}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, v) = agent.status().await;
    assert_eq!(s, 404);
    assert_eq!(v, json!({"detail": "Device not found"}));
    let err = agent
        .connect()
        .await
        .expect_err("a deleted device is refused");
    assert!(err.contains("401") || err.contains("403"), "{err}");
}

#[tokio::test]
async fn an_invite_is_single_use_and_a_denied_agent_is_rejected() {
    let o = Owner::start().await;
    let invite = o.invite().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    assert_eq!(agent.enroll(&invite, None).await.status(), 201);
    let mut again = TestAgent::new(&o.hub(), [3; 32], [4; 32]);
    let resp = again.enroll(&invite, None).await;
    assert_eq!(resp.status(), 409);
    let body: Value = resp.json().await.unwrap();
    assert!(body["detail"].is_string());

    // Consumed: revoking is a conflict; deleting hides it.
    let (_, list) = o.hub_call("GET", "/api/v1/invites", None).await;
    let inv = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["status"] == "consumed")
        .unwrap()
        .clone();
    assert!(inv.get("token").is_none(), "tokens are shown once");
    let id = inv["id"].as_str().unwrap();
    let (s, _) = o
        .hub_call("POST", &format!("/api/v1/invites/{id}/revoke"), None)
        .await;
    assert_eq!(s, 409);
    let (s, _) = o
        .hub_call("DELETE", &format!("/api/v1/invites/{id}"), None)
        .await;
    assert_eq!(s, 204);
    let (_, list) = o.hub_call("GET", "/api/v1/invites", None).await;
    assert!(list.as_array().unwrap().iter().all(|i| i["id"] != id));

    // A bad proof is 400; an active invite can be revoked, then is useless.
    let (s, inv) = o
        .hub_call("POST", "/api/v1/invites", Some(json!({"label": "spare"})))
        .await;
    assert_eq!(s, 201);
    let mut body = again.enroll_body(inv["token"].as_str().unwrap(), None);
    body["proof_of_possession"] = json!("00".repeat(64));
    let resp =
        o.d.http
            .post(format!("{}/api/v1/enroll", o.hub()))
            .json(&body)
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 400);
    let (s, _) = o
        .hub_call(
            "POST",
            &format!("/api/v1/invites/{}/revoke", inv["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        again
            .enroll(inv["token"].as_str().unwrap(), None)
            .await
            .status(),
        400
    );

    // The owner denies the first agent: REJECTED, and activation refused.
    o.d.answer(&o.token, "device_enrolment", json!({"decision": "deny"}))
        .await;
    wait_status(&agent, "REJECTED").await;
    assert!(agent.activate().await.status().is_client_error());
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    o.enrol(&mut agent).await;
    // Enrolments: 5 per IP per 10 minutes (the one above counts).
    let mut statuses = Vec::new();
    let mut retry = None;
    for i in 0..5 {
        let mut a = TestAgent::new(&o.hub(), [10 + i; 32], [2; 32]);
        let resp = a.enroll("not-a-token", None).await;
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            retry = resp
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
        }
    }
    assert_eq!(statuses, [400, 400, 400, 400, 429]);
    assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);

    // Status polls: bursts are allowed, a flood is told when to come back.
    let mut limited = false;
    for _ in 0..12 {
        let (s, _) = agent.status().await;
        assert!(s == 200 || s == 429, "{s}");
        limited |= s == 429;
    }
    assert!(limited);

    // Message frames beyond 60 a minute: an error frame, the socket stays.
    o.send(&agent, "hi").await;
    let group = receive(&mut agent, 1).await[0].group_id.clone();
    agent.discard_frames();
    for i in 0..61 {
        agent.reply(&group, &format!("flood {i}")).await;
    }
    let err = agent
        .next_frame("error", Duration::from_secs(10))
        .await
        .expect("a limit frame");
    assert_eq!(err["data"]["detail"], "Rate limit exceeded");
    // The socket stays open: the owner's next message still arrives live.
    o.send(&agent, "still there").await;
    let live = agent.live_message(Duration::from_secs(10)).await;
    assert_eq!(live.expect("a live frame").text, "still there");
}

#[tokio::test]
async fn a_second_tenant_sees_nothing_of_the_first() {
    let o = Owner::start().await;
    let mut a = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    o.enrol(&mut a).await;
    let a_id = a.device_id.clone().unwrap();

    let (s, t) = o
        .hub_call("POST", "/api/v1/tenants", Some(json!({"name": "Lab"})))
        .await;
    assert_eq!(s, 201);
    assert_eq!(t["role"], "OWNER_ADMIN");
    let tenant = t["id"].as_str().unwrap().to_owned();
    let in_b = |method: &'static str, path: String, body: Option<Value>| {
        let mut req =
            o.d.http
                .request(method.parse().unwrap(), format!("{}{path}", o.hub()))
                .bearer_auth(&o.token)
                .header("X-Tenant-Id", &tenant);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    let resp = in_b("POST", "/api/v1/invites".into(), Some(json!({})))
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let invite: Value = resp.json().await.unwrap();
    let mut b = TestAgent::new(&o.hub(), [5; 32], [6; 32]);
    assert_eq!(
        b.enroll(invite["token"].as_str().unwrap(), None)
            .await
            .status(),
        201
    );
    let b_id = b.device_id.clone().unwrap();

    // Each tenant lists only its own devices and invites.
    let list: Value = in_b("GET", "/api/v1/devices".into(), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [b_id.as_str()]);
    let (_, list) = o.hub_call("GET", "/api/v1/devices", None).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|d| d["id"] != b_id.as_str())
    );
    let resp = in_b("GET", format!("/api/v1/devices/{a_id}/keys"), None)
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = in_b("PATCH", format!("/api/v1/devices/{a_id}/revoke"), None)
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let (s, _) = o
        .hub_call("GET", &format!("/api/v1/devices/{b_id}/keys"), None)
        .await;
    assert_eq!(s, 404);

    // Approve B in its tenant; A cannot claim B's KeyPackages.
    let resp = in_b("PATCH", format!("/api/v1/devices/{b_id}/approve"), None)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(b.activate().await.status(), 200);
    b.publish_key_packages(2).await;
    let (s, v) = a
        .get(&format!("/api/v1/mls/key-packages/batch?device_ids={b_id}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v, json!({}));
    // Nor read A's group as B.
    o.send(&a, "for a only").await;
    let group = receive(&mut a, 1).await[0].group_id.clone();
    let (s, _) = b.get(&format!("/api/v1/mls/groups/{group}")).await;
    assert_eq!(s, 403);
    let resp = in_b("GET", "/api/v1/tenants".into(), None).await.unwrap();
    assert_eq!(resp.status(), 200);
    let bad =
        o.d.http
            .get(format!("{}/api/v1/devices", o.hub()))
            .bearer_auth(&o.token)
            .header("X-Tenant-Id", "00000000-0000-4000-8000-000000000000")
            .send()
            .await
            .unwrap();
    assert_eq!(bad.status(), 403);
}

#[tokio::test]
async fn the_data_dir_holds_no_plaintext() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    o.enrol(&mut agent).await;
    let to_agent = "zebra-owner-secret-4f1c";
    let from_agent = "quokka-agent-secret-9b2e";
    o.send(&agent, to_agent).await;
    let group = receive(&mut agent, 1).await[0].group_id.clone();
    agent.reply(&group, from_agent).await;
    eventually("the reply", || async {
        (o.conversation(&agent).await.len() == 2).then_some(())
    })
    .await;

    let Owner { d, .. } = o;
    let (_, dir) = d.stop().await;
    let mut scanned = 0;
    for entry in crate::harness::files_under(dir.path(), "") {
        let bytes = std::fs::read(&entry).unwrap();
        scanned += 1;
        for secret in [to_agent, from_agent] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} found in {}",
                entry.display()
            );
        }
    }
    assert!(scanned > 3);
}

#[tokio::test]
async fn owner_messages_need_an_active_agent_with_key_packages() {
    let o = Owner::start().await;
    let resp = o.d.get_auth("/agents", &o.token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!([]));
    let resp =
        o.d.post_auth(
            "/agents/00000000-0000-4000-8000-000000000000/messages",
            &o.token,
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(resp.status(), 404);

    let invite = o.invite().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    agent.enroll(&invite, None).await;
    let me = agent.device_id.clone().unwrap();
    let resp =
        o.d.post_auth(
            &format!("/agents/{me}/messages"),
            &o.token,
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(resp.status(), 409, "a pending agent gets nothing");
    let resp =
        o.d.post_auth(&format!("/agents/{me}/approve"), &o.token, json!({}))
            .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(agent.activate().await.status(), 200);
    let resp =
        o.d.post_auth(
            &format!("/agents/{me}/messages"),
            &o.token,
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(resp.status(), 409, "no KeyPackage yet");
    let resp =
        o.d.post_auth(
            &format!("/agents/{me}/messages"),
            &o.token,
            json!({"text": ""}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    let resp =
        o.d.get_auth(&format!("/agents/{me}/messages?limit=0"), &o.token)
            .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn tokens_reissue_and_unknown_tokens_are_refused() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    o.enrol(&mut agent).await;
    let claims = agent.jwt_claims();
    let exp = claims["exp"].as_i64().unwrap();
    let now = crate::hub_agent::unix_now() as i64;
    assert!(
        exp - now > 90 * 86_400,
        "device JWTs live well over 90 days"
    );
    assert!(claims["tid"].as_str().unwrap().len() == 36);
    let old = agent.jwt.clone().unwrap();
    assert_eq!(agent.reissue().await.status(), 200);
    assert_ne!(agent.jwt.clone().unwrap(), old);
    // The old token still works.
    let resp =
        o.d.http
            .get(format!("{}/api/v1/mls/key-packages/count", o.hub()))
            .bearer_auth(&old)
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 200);
    let resp =
        o.d.http
            .post(format!("{}/api/v1/auth/reissue", o.hub()))
            .bearer_auth("not.a.jwt")
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert!(body["detail"].is_string());
    // The owner's bearer is not a device token.
    let resp =
        o.d.http
            .get(format!("{}/api/v1/mls/delivery", o.hub()))
            .bearer_auth(&o.token)
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 401);
    // A base URL ending in `/` gives `//api/v1/…` (§4.1).
    let (s, _) = agent.get("//api/v1/mls/key-packages/count").await;
    assert_eq!(s, 200);
    let (s, health) = agent.get("/health").await;
    assert_eq!(s, 200);
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn bad_input_is_refused_in_the_detail_shape() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), SEED, EPHEMERAL);
    o.enrol(&mut agent).await;
    let me = agent.device_id.clone().unwrap();
    let detail = |v: &Value| assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()), "{v}");

    // Owner routes.
    for (method, path, body) in [
        (
            "PATCH",
            format!("/api/v1/devices/{me}/webhook"),
            json!({"webhook_url": "ftp://x"}),
        ),
        (
            "PATCH",
            format!("/api/v1/devices/{me}"),
            json!({"name": "  "}),
        ),
        (
            "POST",
            "/api/v1/devices/register".to_owned(),
            json!({"identity_public_key": "abcd"}),
        ),
        (
            "POST",
            "/api/v1/invites".to_owned(),
            json!({"expires_in_hours": 0}),
        ),
        ("POST", "/api/v1/tenants".to_owned(), json!({"name": ""})),
        (
            "POST",
            "/api/v1/invites".to_owned(),
            json!({"expires_in_hours": "soon"}),
        ),
    ] {
        let (s, v) = o.hub_call(method, &path, Some(body)).await;
        assert_eq!(s, 400, "{method} {path}: {v}");
        detail(&v);
    }
    let (s, v) = o
        .hub_call("GET", &format!("/api/v1/devices/{me}/presence"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["online"], true);
    let (s, v) = o
        .hub_call("GET", "/api/v1/devices/not-a-uuid/keys", None)
        .await;
    assert_eq!(s, 404);
    detail(&v);

    // Device routes.
    let (s, v) = agent
        .post(
            "/api/v1/telemetry/ingest",
            json!({"spans": [{"name": "x"}]}),
        )
        .await;
    assert_eq!(s, 400);
    detail(&v);
    let other_hub = "00000000-0000-4000-8000-000000000001";
    let (s, _) = agent
        .post(
            "/api/v1/telemetry/ingest",
            json!({"hub_id": other_hub, "spans": []}),
        )
        .await;
    assert_eq!(s, 403);
    let span = json!({"trace_id": "ab".repeat(16), "span_id": "cd".repeat(8), "name": "tool"});
    let (s, v) = agent
        .post(
            "/api/v1/telemetry/ingest",
            json!({"spans": [span.clone(), span]}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["accepted"], 1, "a span sent twice is stored once");
    let (s, _) = agent
        .get("/api/v1/mls/key-packages/count?device_id=00000000-0000-4000-8000-000000000002")
        .await;
    assert_eq!(s, 403, "another device's id");
    let (s, v) = agent
        .get("/api/v1/mls/groups/00000000-0000-4000-8000-000000000003")
        .await;
    assert_eq!(s, 404);
    detail(&v);
    let (s, _) = agent
        .post("/api/v1/mls/delivery/ack", json!({"queue_ids": "nope"}))
        .await;
    assert_eq!(s, 400);
    let (s, v) = agent
        .post(
            "/api/v1/mls/delivery/ack",
            json!({"queue_ids": ["unknown"]}),
        )
        .await;
    assert_eq!((s, v["acked"].as_i64()), (200, Some(0)));

    // A stale activation signature is refused, a fresh one still works.
    let stale = crate::hub_agent::unix_now() - 600;
    assert_eq!(agent.activate_at(stale).await.status(), 400);
    // Unknown frames and garbage never close the socket.
    agent.send_frame(json!({"event": "no_such_event"}));
    agent.send_frame(json!({"event": "message_mls", "data": {"group_id": "x", "payload": "zz"}}));
    let err = agent
        .next_frame("error", Duration::from_secs(10))
        .await
        .expect("an error frame");
    detail(&err["data"]);
    o.send(&agent, "still open").await;
    assert_eq!(receive(&mut agent, 1).await[0].text, "still open");
}
