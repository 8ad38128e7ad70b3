//! History backups (device protocol §10): the owner registers an agent's
//! recovery-code hash; the agent verifies its code, uploads archives (the
//! newest three kept) and restores them in exactly the documented shape;
//! wrong codes, bad archives and other tenants are refused.

use base64::Engine;
use serde_json::{Value, json};

use crate::hub::Owner;
use crate::hub_agent::TestAgent;

const CODE: &str = "5f2b7c1d0e9a8b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4";
const OTHER: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn archive(n: u8, len: usize) -> String {
    let mut blob = b"AVH1".to_vec();
    blob.resize(len, n);
    base64::engine::general_purpose::STANDARD.encode(blob)
}

#[tokio::test]
async fn an_agent_backs_up_and_restores_its_history_under_the_registered_code() {
    let o = Owner::start().await;
    let mut agent = TestAgent::new(&o.hub(), [41; 32], [42; 32]);
    o.enrol(&mut agent).await;
    let me = agent.device_id.clone().unwrap();
    let (_, ids) = agent.get("/api/v1/hub/identities").await;
    let hub_id = ids
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["device_id"] == me.as_str())
        .unwrap()["hub_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Nothing registered: verify says so, upload and restore are 404.
    let (code, v) = agent
        .post(
            "/api/v1/agent-history-recovery/verify",
            json!({"code_hash": CODE}),
        )
        .await;
    assert_eq!(
        (code, v),
        (200, json!({"configured": false, "matches": false}))
    );
    let (code, _) = agent
        .post(
            "/api/v1/agent-history-backups/restore",
            json!({"code_hash": CODE}),
        )
        .await;
    assert_eq!(code, 404);

    // The owner registers the hash (a device may not; nor may another tenant).
    let path = format!("/api/v1/devices/{me}/history-recovery");
    let (code, _) = agent.put(&path, json!({"code_hash": CODE})).await;
    assert_eq!(code, 401);
    let (code, v) = o
        .hub_call("PUT", &path, Some(json!({"code_hash": "abc"})))
        .await;
    assert_eq!(code, 400, "{v}");
    let (code, t) = o
        .hub_call("POST", "/api/v1/tenants", Some(json!({"name": "Other"})))
        .await;
    assert_eq!(code, 201);
    let resp =
        o.d.http
            .put(format!("{}{path}", o.hub()))
            .bearer_auth(&o.token)
            .header("X-Tenant-Id", t["id"].as_str().unwrap())
            .json(&json!({"code_hash": OTHER}))
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 404);
    let (code, v) = o
        .hub_call(
            "PUT",
            &path,
            Some(json!({"code_hash": CODE.to_uppercase()})),
        )
        .await;
    assert_eq!((code, v["configured"].as_bool()), (200, Some(true)));

    let (_, v) = agent
        .post(
            "/api/v1/agent-history-recovery/verify",
            json!({"code_hash": OTHER}),
        )
        .await;
    assert_eq!(v, json!({"configured": true, "matches": false}));
    let (_, v) = agent
        .post(
            "/api/v1/agent-history-recovery/verify",
            json!({"code_hash": CODE}),
        )
        .await;
    assert_eq!(v, json!({"configured": true, "matches": true}));
    let (code, v) = agent
        .post(
            "/api/v1/agent-history-backups/restore",
            json!({"code_hash": CODE}),
        )
        .await;
    assert_eq!(
        (code, v),
        (200, json!({"hub_id": hub_id, "generations": []}))
    );

    // Bad archives and a wrong code are refused.
    for (body, want) in [
        (
            json!({"code_hash": OTHER, "archive_version": 1, "backup_blob": archive(1, 10), "entry_count": 1}),
            403,
        ),
        (
            json!({"code_hash": CODE, "archive_version": 2, "backup_blob": archive(1, 10), "entry_count": 1}),
            400,
        ),
        (
            json!({"code_hash": CODE, "archive_version": 1, "backup_blob": archive(1, 10), "entry_count": 501}),
            400,
        ),
        (
            json!({"code_hash": CODE, "archive_version": 1,
            "backup_blob": base64::engine::general_purpose::STANDARD.encode(b"NOPE-archive"), "entry_count": 1}),
            400,
        ),
        (
            json!({"code_hash": CODE, "archive_version": 1, "backup_blob": archive(1, 524_289), "entry_count": 1}),
            400,
        ),
        (
            json!({"code_hash": CODE, "archive_version": 1, "backup_blob": "not base64!", "entry_count": 1}),
            400,
        ),
    ] {
        let (code, v) = agent.put("/api/v1/agent-history-backups", body).await;
        assert_eq!(code, want, "{v}");
        assert!(v["detail"].is_string());
    }

    // Four uploads: the newest three come back, newest first, in §10.3's shape.
    let mut ids = Vec::new();
    for n in 1..=4u8 {
        let (code, v) = agent
            .put(
                "/api/v1/agent-history-backups",
                json!({"code_hash": CODE, "archive_version": 1,
                    "backup_blob": archive(n, 100 * n as usize), "entry_count": n}),
            )
            .await;
        assert_eq!(code, 200, "{v}");
        ids.push(v["generation_id"].as_str().unwrap().to_owned());
    }
    let (code, v) = agent
        .post(
            "/api/v1/agent-history-backups/restore",
            json!({"code_hash": CODE}),
        )
        .await;
    assert_eq!(code, 200);
    let top: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(top, ["generations", "hub_id"]);
    assert_eq!(v["hub_id"], hub_id.as_str());
    let gens = v["generations"].as_array().unwrap();
    let got: Vec<&str> = gens.iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert_eq!(got, [&ids[3], &ids[2], &ids[1]].map(String::as_str));
    let first = gens[0].as_object().unwrap();
    let mut keys: Vec<&String> = first.keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "archive_version",
            "backup_blob",
            "blob_size",
            "created_at",
            "entry_count",
            "id"
        ]
    );
    assert_eq!(gens[0]["backup_blob"], archive(4, 400).as_str());
    assert_eq!(gens[0]["blob_size"], 400);
    assert_eq!(gens[0]["entry_count"], 4);
    assert_eq!(gens[0]["archive_version"], 1);
    let (code, _) = agent
        .post(
            "/api/v1/agent-history-backups/restore",
            json!({"code_hash": OTHER}),
        )
        .await;
    assert_eq!(code, 403);

    // Clearing the code closes the feature again.
    let (code, v) = o
        .hub_call("PUT", &path, Some(json!({"code_hash": Value::Null})))
        .await;
    assert_eq!((code, v["configured"].as_bool()), (200, Some(false)));
    let (_, v) = agent
        .post(
            "/api/v1/agent-history-recovery/verify",
            json!({"code_hash": CODE}),
        )
        .await;
    assert_eq!(v["configured"], false);
}
