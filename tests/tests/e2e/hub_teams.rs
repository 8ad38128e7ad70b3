//! The hub's team side over HTTP: workspaces and team rooms, marketplace
//! listings ("Workspace Auth": a bearer plus `X-Workspace-Id`), trust scores
//! computed from real delivery and revocation records, tenant settings and
//! the scan rules devices read, and the unauthenticated info routes. Each
//! group checks its success paths, its error statuses, the auth kinds it
//! accepts and refuses, and that a second tenant's owner sees nothing of
//! the first.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::hub::{Owner, receive};
use crate::hub_agent::TestAgent;

/// A well-formed id nothing has.
const UNKNOWN: &str = "0b6f3c4e-58a1-4c1e-9d2a-7f00c0ffee42";

/// Who calls.
#[derive(Clone, Copy)]
enum By<'a> {
    Nobody,
    Bearer(&'a str),
}

struct Call<'a> {
    hub: String,
    http: reqwest::Client,
    by: By<'a>,
    headers: Vec<(&'static str, String)>,
}

impl<'a> Call<'a> {
    fn new(o: &Owner, by: By<'a>) -> Self {
        Self {
            hub: o.hub(),
            http: o.d.http.clone(),
            by,
            headers: Vec::new(),
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value, HeaderMap) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.hub));
        if let By::Bearer(t) = self.by {
            req = req.bearer_auth(t);
        }
        for (k, v) in &self.headers {
            req = req.header(*k, v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status >= 400 {
            assert!(
                v["detail"].is_string(),
                "{method} {path} → {status} without a detail: {text}"
            );
        }
        (status, v, headers)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, v, _) = self.send("GET", path, None).await;
        (s, v)
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let (s, v, _) = self.send("POST", path, Some(body)).await;
        (s, v)
    }

    async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        let (s, v, _) = self.send("PATCH", path, Some(body)).await;
        (s, v)
    }
}

/// A second tenant; the owner's calls with its id act there.
async fn second_tenant(o: &Owner) -> String {
    let (s, t) = o
        .hub_call("POST", "/api/v1/tenants", Some(json!({"name": "Second"})))
        .await;
    assert_eq!(s, 201, "{t}");
    t["id"].as_str().unwrap().to_owned()
}

async fn enrolled(o: &Owner, seed: u8) -> TestAgent {
    let mut a = TestAgent::new(&o.hub(), [seed; 32], [seed + 1; 32]);
    o.enrol(&mut a).await;
    a
}

fn id(a: &TestAgent) -> String {
    a.device_id.clone().unwrap()
}

async fn hub_id_of(o: &Owner, a: &TestAgent) -> String {
    let (_, devices) = o.hub_call("GET", "/api/v1/devices", None).await;
    devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id(a).as_str())
        .unwrap()["hub_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn workspaces_and_team_rooms_with_roles_and_tenant_isolation() {
    let o = Owner::start().await;
    let member = enrolled(&o, 11).await;
    let outsider = enrolled(&o, 21).await;
    let owner = Call::new(&o, By::Bearer(&o.token));
    let dev = Call::new(&o, By::Bearer(member.jwt.as_deref().unwrap()));
    let out = Call::new(&o, By::Bearer(outsider.jwt.as_deref().unwrap()));

    // Create: the owner only; fields checked.
    let (s, w) = owner
        .post(
            "/api/v1/workspaces",
            json!({"name": " Research ", "description": "the lab",
                "members": [{"device_id": id(&member), "role": "viewer"}]}),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    assert_eq!(w["name"], "Research");
    assert_eq!(w["role"], "owner");
    let members = w["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert!(
        members
            .iter()
            .any(|m| m["member_id"] == "owner" && m["role"] == "owner")
    );
    assert!(
        members
            .iter()
            .any(|m| m["member_id"] == id(&member).as_str() && m["role"] == "viewer")
    );
    let ws = w["id"].as_str().unwrap().to_owned();
    assert!(
        ws.len() == 36 && ws == ws.to_lowercase(),
        "canonical UUID: {ws}"
    );

    for bad in [
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "ok", "description": "d".repeat(1001)}),
        json!({"name": "ok", "members": [{"device_id": id(&member), "role": "owner"}]}),
        json!({"name": "ok", "members": [{"device_id": "not-a-uuid"}]}),
        json!({"name": "ok", "members": [{"device_id": UNKNOWN.to_owned()}]}),
        json!({"name": "ok", "members": [{"device_id": id(&member)}, {"device_id": id(&member)}]}),
        json!({"name": "ok", "colour": "red"}),
        json!([]),
    ] {
        let (s, v) = owner.post("/api/v1/workspaces", bad.clone()).await;
        assert_eq!(s, 400, "{bad} → {v}");
    }
    let (s, _) = owner
        .post("/api/v1/workspaces", json!({"name": "Research"}))
        .await;
    assert_eq!(s, 409);
    let (s, _) = dev
        .post("/api/v1/workspaces", json!({"name": "Mine"}))
        .await;
    assert_eq!(s, 401, "a device JWT is not the owner's");
    let (s, _) = Call::new(&o, By::Nobody).get("/api/v1/workspaces").await;
    assert_eq!(s, 401);
    let (s, _) = Call::new(&o, By::Bearer("garbage"))
        .get("/api/v1/workspaces")
        .await;
    assert_eq!(s, 401);

    // The default role comes from the tenant's settings.
    let (s, _) = owner
        .patch(
            "/api/v1/settings",
            json!({"default_workspace_role": "viewer"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, w2) = owner
        .post(
            "/api/v1/workspaces",
            json!({"name": "Ops", "members": [{"device_id": id(&member)}]}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(w2["members"][1]["role"], "viewer");
    let ws2 = w2["id"].as_str().unwrap().to_owned();

    // Lists: the owner sees all; a device its own, with its role.
    let (s, all) = owner.get("/api/v1/workspaces").await;
    assert_eq!(s, 200);
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (s, mine) = dev.get("/api/v1/workspaces").await;
    assert_eq!(s, 200);
    assert_eq!(mine.as_array().unwrap().len(), 2);
    assert_eq!(mine[0]["role"], "viewer");
    let (s, none) = out.get("/api/v1/workspaces").await;
    assert_eq!(s, 200);
    assert_eq!(none, json!([]));

    // Team rooms.
    let (s, room) = owner
        .post(
            "/api/v1/team-rooms",
            json!({"workspace_id": ws, "name": "standup", "description": "daily"}),
        )
        .await;
    assert_eq!(s, 201, "{room}");
    assert_eq!(room["workspace_id"], ws.as_str());
    let (s, _) = owner
        .post(
            "/api/v1/team-rooms",
            json!({"workspace_id": ws2, "name": "standup"}),
        )
        .await;
    assert_eq!(s, 201, "names are per workspace");
    let (s, _) = owner
        .post(
            "/api/v1/team-rooms",
            json!({"workspace_id": ws, "name": "standup"}),
        )
        .await;
    assert_eq!(s, 409);
    let (s, _) = owner
        .post(
            "/api/v1/team-rooms",
            json!({"workspace_id": UNKNOWN.to_owned(), "name": "x"}),
        )
        .await;
    assert_eq!(s, 404);
    for bad in [
        json!({"workspace_id": "nope", "name": "x"}),
        json!({"workspace_id": ws, "name": ""}),
        json!({"name": "x"}),
        json!({"workspace_id": ws, "name": "x", "extra": 1}),
    ] {
        let (s, v) = owner.post("/api/v1/team-rooms", bad.clone()).await;
        assert_eq!(s, 400, "{bad} → {v}");
    }
    let (s, _) = dev
        .post(
            "/api/v1/team-rooms",
            json!({"workspace_id": ws, "name": "mine"}),
        )
        .await;
    assert_eq!(s, 401);

    let (s, rooms) = owner.get("/api/v1/team-rooms").await;
    assert_eq!(s, 200);
    assert_eq!(rooms.as_array().unwrap().len(), 2);
    let (s, rooms) = owner
        .get(&format!("/api/v1/team-rooms?workspace_id={ws}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(rooms.as_array().unwrap().len(), 1);
    assert_eq!(rooms[0]["name"], "standup");
    let (s, rooms) = dev.get("/api/v1/team-rooms").await;
    assert_eq!(s, 200);
    assert_eq!(rooms.as_array().unwrap().len(), 2);
    let (s, rooms) = out.get("/api/v1/team-rooms").await;
    assert_eq!((s, rooms), (200, json!([])));
    let (s, _) = out
        .get(&format!("/api/v1/team-rooms?workspace_id={ws}"))
        .await;
    assert_eq!(s, 403, "not a member");
    let (s, _) = owner.get("/api/v1/team-rooms?workspace_id=zzz").await;
    assert_eq!(s, 400);

    // A second tenant's owner sees nothing of the first.
    let t2 = second_tenant(&o).await;
    let other = Call::new(&o, By::Bearer(&o.token)).header("X-Tenant-Id", &t2);
    let (s, v) = other.get("/api/v1/workspaces").await;
    assert_eq!((s, v), (200, json!([])));
    let (s, v) = other.get("/api/v1/team-rooms").await;
    assert_eq!((s, v), (200, json!([])));
    let (s, _) = other
        .get(&format!("/api/v1/team-rooms?workspace_id={ws}"))
        .await;
    assert_eq!(s, 404);
    let (s, _) = other
        .post(
            "/api/v1/team-rooms",
            json!({"workspace_id": ws, "name": "sneak"}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = other
        .post(
            "/api/v1/workspaces",
            json!({"name": "Theirs", "members": [{"device_id": id(&member)}]}),
        )
        .await;
    assert_eq!(s, 400, "another tenant's device cannot join");
    let (s, _) = other
        .post("/api/v1/workspaces", json!({"name": "Research"}))
        .await;
    assert_eq!(s, 201, "names are per tenant");

    // A revoked device is refused.
    let (s, _, _) = owner
        .send(
            "PATCH",
            &format!("/api/v1/devices/{}/revoke", id(&member)),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = dev.get("/api/v1/workspaces").await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn marketplace_listings_follow_their_state_machine_under_workspace_auth() {
    let o = Owner::start().await;
    let admin = enrolled(&o, 31).await;
    let viewer = enrolled(&o, 41).await;
    let owner = Call::new(&o, By::Bearer(&o.token));
    let (_, w) = owner
        .post(
            "/api/v1/workspaces",
            json!({"name": "Sellers", "members": [
                {"device_id": id(&admin), "role": "admin"},
                {"device_id": id(&viewer), "role": "viewer"}]}),
        )
        .await;
    let ws = w["id"].as_str().unwrap().to_owned();
    let (_, w) = owner
        .post("/api/v1/workspaces", json!({"name": "Buyers"}))
        .await;
    let buyers = w["id"].as_str().unwrap().to_owned();
    let agent_hub = hub_id_of(&o, &admin).await;

    let as_owner = Call::new(&o, By::Bearer(&o.token)).header("X-Workspace-Id", &ws);
    let as_buyer = Call::new(&o, By::Bearer(&o.token)).header("X-Workspace-Id", &buyers);
    let as_admin =
        Call::new(&o, By::Bearer(admin.jwt.as_deref().unwrap())).header("X-Workspace-Id", &ws);
    let as_viewer =
        Call::new(&o, By::Bearer(viewer.jwt.as_deref().unwrap())).header("X-Workspace-Id", &ws);
    let admin_elsewhere =
        Call::new(&o, By::Bearer(admin.jwt.as_deref().unwrap())).header("X-Workspace-Id", &buyers);

    // Workspace Auth: a header is needed, and membership.
    let (s, _) = owner.get("/api/v1/marketplace/listings").await;
    assert_eq!(s, 400, "no X-Workspace-Id");
    let (s, _) = Call::new(&o, By::Bearer(&o.token))
        .header("X-Workspace-Id", "nope")
        .get("/api/v1/marketplace/listings")
        .await;
    assert_eq!(s, 400);
    let (s, _) = Call::new(&o, By::Bearer(&o.token))
        .header("X-Workspace-Id", UNKNOWN)
        .get("/api/v1/marketplace/listings")
        .await;
    assert_eq!(s, 404);
    let (s, _) = admin_elsewhere.get("/api/v1/marketplace/listings").await;
    assert_eq!(s, 403, "not a member of that workspace");
    let (s, _) = Call::new(&o, By::Nobody)
        .header("X-Workspace-Id", &ws)
        .get("/api/v1/marketplace/listings")
        .await;
    assert_eq!(s, 401);

    // Create: admin or owner; fields bounded; price is descriptive only.
    let listing = json!({"title": "Code reviewer", "category": "Engineering",
        "tags": ["Rust", "review"], "agent_hub_id": agent_hub,
        "price": {"amount": 2500, "currency": "eur", "unit": "hour"}});
    let (s, l) = as_admin
        .post("/api/v1/marketplace/listings", listing.clone())
        .await;
    assert_eq!(s, 201, "{l}");
    assert_eq!(l["status"], "draft");
    assert_eq!(l["price"]["currency"], "EUR");
    assert_eq!(l["tags"], json!(["rust", "review"]));
    assert_eq!(l["payments"]["supported"], false);
    assert!(
        l["payments"]["detail"]
            .as_str()
            .unwrap()
            .contains("not supported")
    );
    let lid = l["id"].as_str().unwrap().to_owned();
    let (s, _) = as_viewer
        .post("/api/v1/marketplace/listings", listing.clone())
        .await;
    assert_eq!(s, 403, "a viewer cannot create");
    for bad in [
        json!({}),
        json!({"title": ""}),
        json!({"title": "t".repeat(121)}),
        json!({"title": "ok", "description": "d".repeat(4001)}),
        json!({"title": "ok", "tags": ["a","b","c","d","e","f","g","h","i","j","k"]}),
        json!({"title": "ok", "price": {"amount": -1, "currency": "EUR"}}),
        json!({"title": "ok", "price": {"amount": 1, "currency": "EURO"}}),
        json!({"title": "ok", "agent_hub_id": UNKNOWN.to_owned()}),
        json!({"title": "ok", "stripe_account_id": "acct_1"}),
        json!({"title": "ok", "price": {"amount": 1, "currency": "EUR", "payment_link": "x"}}),
    ] {
        let (s, v) = as_owner
            .post("/api/v1/marketplace/listings", bad.clone())
            .await;
        assert_eq!(s, 400, "{bad} → {v}");
    }

    // A draft needs a description to be published.
    let (s, v) = as_admin
        .post(
            &format!("/api/v1/marketplace/listings/{lid}/publish"),
            json!({}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    let (s, l) = as_admin
        .patch(
            &format!("/api/v1/marketplace/listings/{lid}"),
            json!({"description": "Reviews Rust pull requests", "category": null}),
        )
        .await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["category"], Value::Null);
    assert_eq!(l["title"], "Code reviewer");
    let (s, _) = as_admin
        .patch(
            &format!("/api/v1/marketplace/listings/{lid}"),
            json!({"bogus": 1}),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = as_viewer
        .patch(
            &format!("/api/v1/marketplace/listings/{lid}"),
            json!({"title": "x"}),
        )
        .await;
    assert_eq!(s, 403);

    // Drafts are the workspace's own.
    let (s, _) = as_buyer
        .get(&format!("/api/v1/marketplace/listings/{lid}"))
        .await;
    assert_eq!(s, 404);
    let (s, v) = as_buyer.get("/api/v1/marketplace/listings").await;
    assert_eq!((s, v), (200, json!([])));
    let (s, v) = as_viewer
        .get(&format!("/api/v1/marketplace/listings/{lid}"))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = as_owner
        .get("/api/v1/marketplace/listings?status=draft")
        .await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (s, _) = as_owner
        .get("/api/v1/marketplace/listings?status=bogus")
        .await;
    assert_eq!(s, 400);
    let (s, _) = as_owner
        .get("/api/v1/marketplace/listings?limit=1000")
        .await;
    assert_eq!(s, 400);

    // draft → published → paused → published → delisted; all else 409.
    let act = |a: &'static str| format!("/api/v1/marketplace/listings/{lid}/{a}");
    let (s, l) = as_admin.post(&act("publish"), json!({})).await;
    assert_eq!((s, l["status"].as_str()), (200, Some("published")), "{l}");
    assert!(l["published_at"].is_string());
    let (s, _) = as_admin.post(&act("publish"), json!({})).await;
    assert_eq!(s, 409);
    let (s, _) = as_viewer.post(&act("pause"), json!({})).await;
    assert_eq!(s, 403);

    // Published: every workspace of the tenant finds it.
    let (s, found) = as_buyer
        .get("/api/v1/marketplace/listings?q=rust%20REVIEWS")
        .await;
    assert_eq!(s, 200);
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["id"], lid.as_str());
    let (_, found) = as_buyer.get("/api/v1/marketplace/listings?q=python").await;
    assert_eq!(found, json!([]));
    let (s, _) = as_buyer
        .get(&format!("/api/v1/marketplace/listings/{lid}"))
        .await;
    assert_eq!(s, 200);
    let (s, _) = as_buyer.post(&act("pause"), json!({})).await;
    assert_eq!(s, 404, "only its own workspace changes it");

    let (s, l) = as_owner.post(&act("pause"), json!({})).await;
    assert_eq!((s, l["status"].as_str()), (200, Some("paused")));
    let (s, _) = as_owner.post(&act("pause"), json!({})).await;
    assert_eq!(s, 409);
    let (_, found) = as_buyer.get("/api/v1/marketplace/listings").await;
    assert_eq!(found, json!([]), "paused listings are hidden");
    let (s, l) = as_owner.post(&act("publish"), json!({})).await;
    assert_eq!((s, l["status"].as_str()), (200, Some("published")));
    let (s, l) = as_owner.post(&act("delist"), json!({})).await;
    assert_eq!((s, l["status"].as_str()), (200, Some("delisted")));
    for a in ["publish", "pause", "delist"] {
        let (s, _) = as_owner.post(&act(a), json!({})).await;
        assert_eq!(s, 409, "{a} after delist");
    }
    let (s, _) = as_owner
        .patch(
            &format!("/api/v1/marketplace/listings/{lid}"),
            json!({"title": "again"}),
        )
        .await;
    assert_eq!(s, 409);
    let (s, _) = as_owner
        .get(&format!("/api/v1/marketplace/listings/{}", UNKNOWN))
        .await;
    assert_eq!(s, 404);
    let (s, _) = as_owner.get("/api/v1/marketplace/listings/not-an-id").await;
    assert_eq!(s, 404);

    // A second tenant's owner: 404 for the workspace and its listings.
    let t2 = second_tenant(&o).await;
    let other = Call::new(&o, By::Bearer(&o.token)).header("X-Tenant-Id", &t2);
    let (s, _) = Call::new(&o, By::Bearer(&o.token))
        .header("X-Tenant-Id", &t2)
        .header("X-Workspace-Id", &ws)
        .get("/api/v1/marketplace/listings")
        .await;
    assert_eq!(s, 404);
    let (_, w) = other
        .post("/api/v1/workspaces", json!({"name": "Theirs"}))
        .await;
    let theirs = Call::new(&o, By::Bearer(&o.token))
        .header("X-Tenant-Id", &t2)
        .header("X-Workspace-Id", w["id"].as_str().unwrap());
    let (s, v) = theirs.get("/api/v1/marketplace/listings?status=all").await;
    assert_eq!((s, v), (200, json!([])));
    for a in ["publish", "pause", "delist"] {
        let (s, _) = theirs.post(&act(a), json!({})).await;
        assert_eq!(s, 404);
    }
    let (s, _) = theirs
        .get(&format!("/api/v1/marketplace/listings/{lid}"))
        .await;
    assert_eq!(s, 404);

    // The tenant can turn the marketplace off.
    let (s, _) = owner
        .patch("/api/v1/settings", json!({"marketplace_enabled": false}))
        .await;
    assert_eq!(s, 200);
    let (s, v) = as_admin.get("/api/v1/marketplace/listings").await;
    assert_eq!(s, 403, "{v}");
    let (s, _) = theirs.get("/api/v1/marketplace/listings").await;
    assert_eq!(s, 200, "only that tenant's");
}

#[tokio::test]
async fn trust_scores_come_from_delivery_and_revocation_records_with_history() {
    let o = Owner::start().await;
    let mut agent = enrolled(&o, 51).await;
    let hub_id = hub_id_of(&o, &agent).await;
    let owner = Call::new(&o, By::Bearer(&o.token));

    let (s, first) = owner.get(&format!("/api/v1/trust-scores/{hub_id}")).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["hub_id"], hub_id.as_str());
    assert_eq!(first["device_id"], id(&agent).as_str());
    let score = first["score"].as_i64().unwrap();
    assert!((0..=100).contains(&score));
    assert!(
        ["trusted", "established", "provisional", "untrusted"]
            .contains(&first["tier"].as_str().unwrap())
    );
    for c in ["delivery", "policy", "standing", "tenure", "activity"] {
        assert!(first["components"][c]["score"].is_i64(), "{c}: {first}");
        assert!(first["components"][c]["weight"].is_f64(), "{c}");
    }
    assert_eq!(first["components"]["standing"]["status"], "ACTIVE");
    assert_eq!(first["components"]["policy"]["hits"], 0);

    // Real deliveries: a Welcome and two messages, pulled and acked.
    o.send(&agent, "one").await;
    receive(&mut agent, 1).await;
    o.send(&agent, "two").await;
    let _ = agent.live_message(std::time::Duration::from_secs(10)).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let _ = agent.pull().await;
        let (_, v) = owner.get(&format!("/api/v1/trust-scores/{hub_id}")).await;
        if v["components"]["delivery"]["delivered"].as_i64() >= Some(3) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "acks never counted: {v}"
        );
        let _ = agent
            .next_frame("mls_delivery", std::time::Duration::from_millis(300))
            .await;
    }
    let (_, after) = owner.get(&format!("/api/v1/trust-scores/{hub_id}")).await;
    assert_eq!(after["components"]["delivery"]["dead_lettered"], 0);
    assert_eq!(after["components"]["delivery"]["score"], 100);

    // The device id names the same identity.
    let (s, same) = owner
        .get(&format!("/api/v1/trust-scores/{}", id(&agent)))
        .await;
    assert_eq!(s, 200);
    assert_eq!(same["hub_id"], hub_id.as_str());

    let (s, h) = owner
        .get(&format!("/api/v1/trust-scores/{hub_id}/history"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(h["hub_id"], hub_id.as_str());
    let rows = h["history"].as_array().unwrap().clone();
    assert!(!rows.is_empty());
    assert!(
        rows.len() <= 3,
        "one row an hour unless the score changed: {rows:?}"
    );
    assert!(rows[0]["computed_at"].is_string() && rows[0]["components"].is_object());
    let (s, h1) = owner
        .get(&format!("/api/v1/trust-scores/{hub_id}/history?limit=1"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(h1["history"].as_array().unwrap().len(), 1);
    assert_eq!(h1["history"][0], *rows.last().unwrap(), "the newest");
    for bad in ["0", "1001", "x"] {
        let (s, _) = owner
            .get(&format!(
                "/api/v1/trust-scores/{hub_id}/history?limit={bad}"
            ))
            .await;
        assert_eq!(s, 400);
    }

    // Unknown, malformed, another tenant's: 404. Devices and nobody: 401.
    let (s, _) = owner
        .get(&format!("/api/v1/trust-scores/{}", UNKNOWN))
        .await;
    assert_eq!(s, 404);
    let (s, _) = owner.get("/api/v1/trust-scores/not-a-hub-id").await;
    assert_eq!(s, 404);
    let t2 = second_tenant(&o).await;
    let other = Call::new(&o, By::Bearer(&o.token)).header("X-Tenant-Id", &t2);
    let (s, _) = other.get(&format!("/api/v1/trust-scores/{hub_id}")).await;
    assert_eq!(s, 404);
    let (s, _) = other
        .get(&format!("/api/v1/trust-scores/{hub_id}/history"))
        .await;
    assert_eq!(s, 404);
    let dev = Call::new(&o, By::Bearer(agent.jwt.as_deref().unwrap()));
    let (s, _) = dev.get(&format!("/api/v1/trust-scores/{hub_id}")).await;
    assert_eq!(s, 401, "owner only");
    let (s, _) = Call::new(&o, By::Nobody)
        .get(&format!("/api/v1/trust-scores/{hub_id}/history"))
        .await;
    assert_eq!(s, 401);

    // Revocation: score 0, and a history row for the change.
    let (s, _, _) = owner
        .send(
            "PATCH",
            &format!("/api/v1/devices/{}/revoke", id(&agent)),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (_, r) = owner.get(&format!("/api/v1/trust-scores/{hub_id}")).await;
    assert_eq!(r["score"], 0);
    assert_eq!(r["tier"], "revoked");
    assert_eq!(r["components"]["standing"]["revocations"], 1);
    let (_, h) = owner
        .get(&format!("/api/v1/trust-scores/{hub_id}/history"))
        .await;
    let last = h["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["score"], 0);
}

#[tokio::test]
async fn settings_are_validated_and_scan_rules_reach_devices_with_an_etag() {
    let o = Owner::start().await;
    let agent = enrolled(&o, 61).await;
    let owner = Call::new(&o, By::Bearer(&o.token));
    let dev = Call::new(&o, By::Bearer(agent.jwt.as_deref().unwrap()));

    let (s, v) = owner.get("/api/v1/settings").await;
    assert_eq!(s, 200);
    assert_eq!(v["marketplace_enabled"], true);
    assert_eq!(v["trust_history_days"], 90);
    assert_eq!(v["default_workspace_role"], "member");
    assert_eq!(v["scan_rules"], json!([]));
    assert_eq!(v["scan_rules_version"], 0);

    for bad in [
        json!({}),
        json!([]),
        json!({"theme": "dark"}),
        json!({"marketplace_enabled": "yes"}),
        json!({"trust_history_days": 0}),
        json!({"trust_history_days": 3651}),
        json!({"default_workspace_role": "owner"}),
        json!({"scan_rules": {}}),
        json!({"scan_rules": [{"id": "A B", "kind": "keyword", "pattern": "x", "action": "warn"}]}),
        json!({"scan_rules": [{"id": "a", "kind": "regex", "pattern": "(", "action": "warn"}]}),
        json!({"scan_rules": [{"id": "a", "kind": "keyword", "pattern": "", "action": "warn"}]}),
        json!({"scan_rules": [{"id": "a", "kind": "keyword", "pattern": "x", "action": "nuke"}]}),
        json!({"scan_rules": [{"id": "a", "kind": "keyword", "pattern": "x", "action": "warn", "x": 1}]}),
        json!({"scan_rules": [{"id": "a", "kind": "keyword", "pattern": "x", "action": "warn"},
                              {"id": "a", "kind": "keyword", "pattern": "y", "action": "warn"}]}),
        json!({"trust_history_days": 30, "unknown": 1}),
    ] {
        let (s, v) = owner.patch("/api/v1/settings", bad.clone()).await;
        assert_eq!(s, 400, "{bad} → {v}");
    }
    let (_, v) = owner.get("/api/v1/settings").await;
    assert_eq!(
        v["trust_history_days"], 90,
        "a refused PATCH changes nothing"
    );

    let rules = json!([
        {"id": "aws-key", "kind": "regex", "pattern": "AKIA[0-9A-Z]{16}", "action": "block",
         "description": "AWS access key ids"},
        {"id": "secret-word", "kind": "keyword", "pattern": "hunter2", "action": "redact",
         "scope": "outbound"}
    ]);
    let (s, v) = owner
        .patch(
            "/api/v1/settings",
            json!({"scan_rules": rules, "trust_history_days": 30}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["trust_history_days"], 30);
    assert_eq!(v["scan_rules_version"], 1);
    assert_eq!(v["scan_rules"][0]["scope"], "both");
    assert_eq!(v["scan_rules"][0]["enabled"], true);
    let (_, v) = owner
        .patch("/api/v1/settings", json!({"scan_rules": rules}))
        .await;
    assert_eq!(v["scan_rules_version"], 1, "the same set keeps its version");

    // Devices read it; If-None-Match answers 304 while unchanged.
    let (s, set, headers) = dev.send("GET", "/api/v1/scan-rules", None).await;
    assert_eq!(s, 200, "{set}");
    assert_eq!(set["version"], 1);
    assert_eq!(set["rules"].as_array().unwrap().len(), 2);
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(set["etag"], etag.as_str());
    let (s, _, _) = Call::new(&o, By::Bearer(agent.jwt.as_deref().unwrap()))
        .header("If-None-Match", &etag)
        .send("GET", "/api/v1/scan-rules", None)
        .await;
    assert_eq!(s, 304);
    let (_, v) = owner
        .patch(
            "/api/v1/settings",
            json!({"scan_rules": [rules[0].clone()]}),
        )
        .await;
    assert_eq!(v["scan_rules_version"], 2);
    let (s, set, _) = Call::new(&o, By::Bearer(agent.jwt.as_deref().unwrap()))
        .header("If-None-Match", &etag)
        .send("GET", "/api/v1/scan-rules", None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(set["version"], 2);
    assert_ne!(set["etag"], etag.as_str());

    // Auth kinds: settings are the owner's; scan rules are for devices.
    let (s, _) = dev.get("/api/v1/settings").await;
    assert_eq!(s, 401);
    let (s, _) = dev
        .patch("/api/v1/settings", json!({"trust_history_days": 5}))
        .await;
    assert_eq!(s, 401);
    let (s, _) = owner.get("/api/v1/scan-rules").await;
    assert_eq!(s, 401, "the owner's bearer is not a device JWT");
    let (s, _) = Call::new(&o, By::Nobody).get("/api/v1/scan-rules").await;
    assert_eq!(s, 401);
    let (s, _) = Call::new(&o, By::Nobody).get("/api/v1/settings").await;
    assert_eq!(s, 401);

    // A second tenant has its own settings; the first's are untouched by it.
    let t2 = second_tenant(&o).await;
    let other = Call::new(&o, By::Bearer(&o.token)).header("X-Tenant-Id", &t2);
    let (s, v) = other.get("/api/v1/settings").await;
    assert_eq!(s, 200);
    assert_eq!(v["tenant_id"], t2.as_str());
    assert_eq!(v["scan_rules_version"], 0);
    let (s, _) = other
        .patch(
            "/api/v1/settings",
            json!({"scan_rules": [], "trust_history_days": 7}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, v) = owner.get("/api/v1/settings").await;
    assert_eq!(v["trust_history_days"], 30);
    assert_eq!(v["scan_rules_version"], 2);
    let (s, _) = Call::new(&o, By::Bearer(&o.token))
        .header("X-Tenant-Id", UNKNOWN)
        .get("/api/v1/settings")
        .await;
    assert_eq!(s, 403);

    // A revoked device no longer reads the rules.
    let (s, _, _) = owner
        .send(
            "PATCH",
            &format!("/api/v1/devices/{}/revoke", id(&agent)),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = dev.get("/api/v1/scan-rules").await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn terms_billing_and_capabilities_need_no_auth_and_tell_the_truth() {
    let o = Owner::start().await;
    let nobody = Call::new(&o, By::Nobody);
    let (s, t) = nobody.get("/api/v1/legal/terms").await;
    assert_eq!(s, 200);
    assert!(t["version"].is_string());
    assert!(t["text"].as_str().unwrap().contains("ciphertext"));
    let (s, b) = nobody.get("/api/v1/billing/plans").await;
    assert_eq!(s, 200);
    assert_eq!(b["billing_supported"], false);
    assert_eq!(b["plans"], json!([]));
    let (s, c) = nobody.get("/api/v1/capabilities").await;
    assert_eq!(s, 200);
    assert_eq!(c["self_hosted"], true);
    assert_eq!(c["payments"], false);
    let features: Vec<&str> = c["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for f in [
        "workspaces",
        "trust",
        "marketplace",
        "settings",
        "mls",
        "devices",
    ] {
        assert!(features.contains(&f), "{f} in {features:?}");
    }
    let routes = c["routes"]["trust"].as_array().unwrap();
    assert!(
        routes
            .iter()
            .any(|r| r == "GET /api/v1/trust-scores/{hub_id}")
    );
    // A bearer is not needed and not harmful.
    let (s, _) = Call::new(&o, By::Bearer(&o.token))
        .get("/api/v1/capabilities")
        .await;
    assert_eq!(s, 200);
}
