//! AcoustID lookups against a stand-in service on 127.0.0.1:0 that answers
//! like AcoustID's documented `/v2/lookup`: nothing is sent without a key
//! (the meta says why), a refused key ends in `error`, a new key retries
//! what failed and ends in `matched` with the service's recording, the
//! match never overwrites tags, and the key never reaches the daemon's log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{assert_error, assert_not_logged};
use crate::media_audio::{meta_when, ready_meta};
use crate::media_support::{TrackTags, media_node, put_file, tagged_wav};

const GOOD_KEY: &str = "good-acoustid-key-0123456789";
const BAD_KEY: &str = "bad-acoustid-key-9876543210";

type Seen = Arc<Mutex<Vec<HashMap<String, String>>>>;

async fn lookup(
    State(seen): State<Seen>,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    seen.lock().unwrap().push(q.clone());
    if q.get("client").map(String::as_str) != Some(GOOD_KEY) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": "error", "error": {"code": 4, "message": "invalid API key"}})),
        );
    }
    if q.get("fingerprint").is_none_or(|f| f.is_empty()) {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"status": "error", "error": {"code": 2, "message": "missing required parameter \"fingerprint\""}}),
            ),
        );
    }
    (
        StatusCode::OK,
        Json(json!({"status": "ok", "results": [
            {"id": "b9c05616-1385-4d71-a5a1-7c9bf6d1f5b6", "score": 0.42},
            {"id": "9ff43b6a-4f16-427c-93c2-92307ca505e0", "score": 0.97, "recordings": [{
                "id": "cd2e7c47-16f5-46c6-a37c-a1eb7bf599ff",
                "title": "Stand-in Title",
                "artists": [{"id": "a1", "name": "Stand-in Artist"}],
                "releasegroups": [{"id": "g1", "type": "Album", "title": "Stand-in Album"}]
            }]}
        ]})),
    )
}

/// The stand-in AcoustID: its base URL and the queries it was sent.
async fn stand_in() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route("/v2/lookup", axum::routing::get(lookup))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v2"), seen)
}

#[tokio::test]
async fn acoustid_lookups_need_a_key_retry_on_a_new_one_and_never_log_it() {
    let (base, seen) = stand_in().await;
    let (d, t, vid) = media_node("Music").await;
    let resp = d
        .put_auth("/settings", &t, json!({"acoustid_base_url": base}))
        .await;
    assert_eq!(resp.status(), 200);
    let song = tagged_wav(
        8.0,
        440.0,
        &TrackTags::new("Tag Title", "Tag Artist", "Tag Album"),
    );
    put_file(&d, &t, &vid, "/m/one.wav", &song).await;
    let path = "/m/one.wav";

    // No key: the meta says so, and nothing is sent.
    let m = meta_when(&d, &t, &vid, path, "no_key", |m| {
        m["fingerprint"]["status"] == "ready" && m["acoustid"]["status"] == "no_key"
    })
    .await;
    assert!(m["acoustid"]["message"].as_str().unwrap().contains("key"));
    assert_eq!(m["acoustid"]["result"], Value::Null);
    let fp = m["fingerprint"]["fingerprint"].as_str().unwrap().to_owned();
    // A refingerprint without a key sends nothing either.
    let resp = d
        .post_auth(&format!("/vaults/{vid}/refingerprint{path}"), &t, json!({}))
        .await;
    assert_eq!(resp.status(), 200);
    let m: Value = resp.json().await.unwrap();
    assert_eq!(m["acoustid"]["status"], "no_key");
    assert!(
        seen.lock().unwrap().is_empty(),
        "a request went out without a key"
    );

    // A key the service refuses: an error, said without the key.
    d.put_auth("/settings", &t, json!({"acoustid_api_key": BAD_KEY}))
        .await;
    let m = meta_when(&d, &t, &vid, path, "a refused lookup", |m| {
        m["acoustid"]["status"] == "error"
    })
    .await;
    let why = m["acoustid"]["message"].as_str().unwrap();
    assert!(why.contains("400"), "{why}");
    assert!(!why.contains(BAD_KEY));

    // The right key: what failed is looked up again, and matches.
    d.put_auth("/settings", &t, json!({"acoustid_api_key": GOOD_KEY}))
        .await;
    let m = meta_when(&d, &t, &vid, path, "a match", |m| {
        m["acoustid"]["status"] == "matched"
    })
    .await;
    assert_eq!(
        m["acoustid"]["result"],
        json!({"recording_id": "cd2e7c47-16f5-46c6-a37c-a1eb7bf599ff", "title": "Stand-in Title",
               "artist": "Stand-in Artist", "album": "Stand-in Album", "score": 0.97})
    );
    assert_eq!(m["acoustid"]["message"], Value::Null);
    // The match is a suggestion: the tags and the library row stay.
    assert_eq!(m["effective"]["title"], "Tag Title");
    assert_eq!(m["tags"]["title"], "Tag Title");
    {
        let seen = seen.lock().unwrap();
        let q = seen.last().unwrap();
        assert_eq!(q["client"], GOOD_KEY);
        assert_eq!(q["fingerprint"], fp);
        assert_eq!(q["duration"], "8");
        assert_eq!(q["meta"], "recordings releasegroups");
        assert!(seen.iter().any(|q| q["client"] == BAD_KEY));
    }

    // A refingerprint reads the file again and looks it up now.
    let before = seen.lock().unwrap().len();
    let resp = d
        .post_auth(&format!("/vaults/{vid}/refingerprint{path}"), &t, json!({}))
        .await;
    assert_eq!(resp.status(), 200);
    let m: Value = resp.json().await.unwrap();
    assert_eq!(m["acoustid"]["status"], "matched");
    assert_eq!(m["fingerprint"]["fingerprint"], fp.as_str());
    assert_eq!(seen.lock().unwrap().len(), before + 1);

    // A second file, found by the worker with the key already set.
    let other = tagged_wav(
        6.0,
        300.0,
        &TrackTags::new("Second", "Tag Artist", "Tag Album"),
    );
    put_file(&d, &t, &vid, "/m/two.wav", &other).await;
    meta_when(&d, &t, &vid, "/m/two.wav", "a match", |m| {
        m["acoustid"]["status"] == "matched"
    })
    .await;
    // A folder refingerprint queues its audio files.
    let resp = d
        .post_auth(
            &format!("/vaults/{vid}/refingerprint-folder/m"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"queued": 2}));
    let resp = d
        .post_auth(
            &format!("/vaults/{vid}/refingerprint-folder"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 202);

    // Refingerprint needs an audio file that is there.
    put_file(&d, &t, &vid, "/m/notes.txt", b"x").await;
    assert_error(
        d.post_auth(
            &format!("/vaults/{vid}/refingerprint/m/notes.txt"),
            &t,
            json!({}),
        )
        .await,
        400,
    )
    .await;
    assert_error(
        d.post_auth(
            &format!("/vaults/{vid}/refingerprint/m/none.wav"),
            &t,
            json!({}),
        )
        .await,
        404,
    )
    .await;
    let _ = ready_meta(&d, &t, &vid, "/m/two.wav").await;

    // The keys never reach the daemon's log.
    assert_not_logged(d.data_dir(), &[GOOD_KEY, BAD_KEY]);
}
