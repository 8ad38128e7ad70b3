//! Video routes: tracks from ffprobe (real files made by ffmpeg, an MKV
//! with an embedded SRT stream and an MP4 with its moov atom at the end),
//! honesty when ffprobe is not installed, sidecar subtitles and their
//! conversion to WebVTT (also with `?token=`), embedded subtitle
//! extraction, resume points, TMDB lookups against a stand-in server (no
//! key: no request; with a key: the parsed title and year asked, the match
//! shown; overrides surviving re-lookups; the key never logged), and bad
//! input in the error shape.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as AxPath, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use serde_json::{Value, json};

use crate::harness::{TestDaemon, assert_error, eventually, raw_http, raw_status};
use crate::media_support::{ffmpeg_make, media_node, new_vault, put_file};

const SRT: &str = "1\r\n00:00:00,500 --> 00:00:01,500\r\nHello sidecar\r\n\r\n2\r\n00:00:01,600 --> 00:00:01,900\r\nSecond, line\r\n";

fn vurl(route: &str, vid: &str, path: &str) -> String {
    format!("/vaults/{vid}/{route}{path}")
}

async fn text_of(d: &TestDaemon, url_path: &str, token: &str) -> (u16, String, String) {
    // `url_path` is a full `/api/v1/…` path as `video-tracks` gives it.
    let resp = d
        .http
        .get(format!("{}{url_path}", d.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, resp.text().await.unwrap())
}

#[tokio::test]
async fn video_tracks_embedded_and_sidecar_subtitles_from_real_files() {
    let srt_dir = tempfile::tempdir().unwrap();
    let srt_path = srt_dir.path().join("embedded.srt");
    std::fs::write(
        &srt_path,
        "1\n00:00:00,500 --> 00:00:01,500\nHello embedded\n\n",
    )
    .unwrap();
    let srt_arg = srt_path.to_str().unwrap().to_owned();
    let Some(mkv) = ffmpeg_make(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=2:size=160x120:rate=10",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            "-i",
            &srt_arg,
            "-map",
            "0",
            "-map",
            "1",
            "-map",
            "2",
            "-c:v",
            "mpeg4",
            "-c:a",
            "aac",
            "-c:s",
            "srt",
            "-metadata:s:s:0",
            "language=eng",
        ],
        "film.mkv",
    )
    .await
    else {
        eprintln!("SKIP: ffmpeg is not installed");
        return;
    };
    // No +faststart: ffmpeg writes the moov atom after the media data.
    let mp4 = ffmpeg_make(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=2:size=160x120:rate=10",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            "-c:v",
            "mpeg4",
            "-c:a",
            "aac",
        ],
        "end.mp4",
    )
    .await
    .unwrap();
    let moov = mp4.windows(4).position(|w| w == b"moov").unwrap();
    let mdat = mp4.windows(4).position(|w| w == b"mdat").unwrap();
    assert!(moov > mdat, "the test MP4 should have its moov at the end");

    let (d, t, vid) = media_node("films").await;
    let film = "/Films/The.Matrix.1999.1080p.BluRay.x264.mkv";
    put_file(&d, &t, &vid, film, &mkv).await;
    put_file(
        &d,
        &t,
        &vid,
        "/Films/The.Matrix.1999.1080p.BluRay.x264.en.srt",
        SRT.as_bytes(),
    )
    .await;
    put_file(&d, &t, &vid, "/Films/Other.srt", SRT.as_bytes()).await;
    put_file(&d, &t, &vid, "/Films/end.mp4", &mp4).await;

    let tr = d.get_json(&vurl("video-tracks", &vid, film), &t).await;
    assert_eq!(tr["probe"], "ffprobe", "{tr}");
    assert_eq!(tr["message"], Value::Null);
    let dur = tr["duration_ms"].as_u64().unwrap();
    assert!((1500..=2600).contains(&dur), "{tr}");
    let audio = tr["audio"].as_array().unwrap();
    assert_eq!(audio.len(), 1, "{tr}");
    assert_eq!(audio[0]["codec"], "aac");
    assert_eq!(audio[0]["channels"], 1);
    let subs = tr["subtitles"].as_array().unwrap();
    assert_eq!(subs.len(), 2, "{tr}");
    let emb = subs.iter().find(|s| s["source"] == "embedded").unwrap();
    assert_eq!(emb["language"], "eng");
    assert_eq!(emb["codec"], "subrip");
    let side = subs.iter().find(|s| s["source"] == "sidecar").unwrap();
    assert_eq!(side["language"], "en");
    assert_eq!(
        side["path"],
        "/Films/The.Matrix.1999.1080p.BluRay.x264.en.srt"
    );

    // The embedded stream, extracted by ffmpeg, as WebVTT.
    let (status, ct, body) = text_of(&d, emb["url"].as_str().unwrap(), &t).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ct, "text/vtt; charset=utf-8");
    assert!(body.starts_with("WEBVTT"), "{body}");
    assert!(body.contains("Hello embedded"), "{body}");

    // The sidecar, converted, with `?token=` and no header (as <track> does).
    let resp = d
        .http
        .get(format!(
            "{}{}&token={t}",
            d.base_url(),
            side["url"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert_eq!(
        body,
        "WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nHello sidecar\n\n00:00:01.600 --> 00:00:01.900\nSecond, line\n\n"
    );

    // The MP4 with a trailing moov is listed too; a rescan probes again.
    let tr = d
        .get_json(&vurl("video-tracks", &vid, "/Films/end.mp4"), &t)
        .await;
    assert_eq!(tr["probe"], "ffprobe", "{tr}");
    assert_eq!(tr["audio"].as_array().unwrap().len(), 1, "{tr}");
    assert!(tr["duration_ms"].as_u64().unwrap() >= 1500, "{tr}");
    let resp = d
        .post_auth(
            &vurl("rescan-tracks", &vid, "/Films/end.mp4"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let again: Value = resp.json().await.unwrap();
    assert_eq!(again["audio"], tr["audio"]);

    // Resume is bounded by the probed duration when the player sends none.
    let r: Value = d
        .post_auth(
            &vurl("video-play-event", &vid, film),
            &t,
            json!({"position_ms": 999_999}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["position_ms"], r["duration_ms"], "{r}");

    // Unknown tracks, bad ids and formats.
    let base = vurl("subtitle", &vid, film);
    for (q, status) in [
        ("track=e99&format=vtt", 404),
        ("track=e0&format=vtt", 404),
        ("track=s7", 404),
        ("track=x1", 400),
        // A multi-byte first character (schemathesis found it answering 500).
        ("track=%F0%98%90%8FJ", 400),
        ("track=%C3%A91", 400),
        ("track=e", 400),
        ("track=s0&format=srt", 400),
        ("format=vtt", 400),
    ] {
        let resp = d.get_auth(&format!("{base}?{q}"), &t).await;
        assert_error(resp, status).await;
    }
}

/// A daemon, token and vault with a stand-in "video" (the name is all the
/// routes that need no ffprobe look at) and subtitles next to it.
async fn with_sidecars(d: &TestDaemon, t: &str, vid: &str) {
    put_file(d, t, vid, "/tv/Show.Name.S01E02.mkv", b"not really a video").await;
    let bom_srt = format!("\u{feff}{SRT}");
    put_file(d, t, vid, "/tv/Show.Name.S01E02.en.srt", bom_srt.as_bytes()).await;
    let ass = "[Script Info]\nTitle: t\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\i1}Bonjour{\\i0}\\Nle monde\n";
    put_file(d, t, vid, "/tv/Show.Name.S01E02.fr.ass", ass.as_bytes()).await;
    put_file(d, t, vid, "/tv/Show.Name.S01E02.de.vtt", b"not vtt at all").await;
}

#[tokio::test]
async fn sidecar_subtitles_resume_points_and_bad_input() {
    let (d, t, vid) = media_node("tv").await;
    with_sidecars(&d, &t, &vid).await;
    let ep = "/tv/Show.Name.S01E02.mkv";
    let tr = d.get_json(&vurl("video-tracks", &vid, ep), &t).await;
    let subs = tr["subtitles"].as_array().unwrap();
    let langs: Vec<&str> = subs
        .iter()
        .filter(|s| s["source"] == "sidecar")
        .map(|s| s["language"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["de", "en", "fr"], "{tr}");

    let url_of = |lang: &str| {
        subs.iter().find(|s| s["language"] == lang).unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (status, ct, body) = text_of(&d, &url_of("en"), &t).await;
    assert_eq!((status, ct.as_str()), (200, "text/vtt; charset=utf-8"));
    assert!(
        body.starts_with("WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nHello sidecar\n"),
        "{body}"
    );
    assert!(!body.contains('\r') && !body.contains('\u{feff}'));
    let (_, _, body) = text_of(&d, &url_of("fr"), &t).await;
    assert_eq!(
        body,
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nBonjour\nle monde\n\n"
    );
    let (status, _, body) = text_of(&d, &url_of("de"), &t).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"error\""));

    // A subtitle route without any token at all is refused.
    let resp = d
        .http
        .get(format!("{}{}", d.base_url(), url_of("en")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // A sidecar larger than 10 MiB is refused, not converted.
    put_file(&d, &t, &vid, "/big/Film.mkv", b"x").await;
    put_file(
        &d,
        &t,
        &vid,
        "/big/Film.srt",
        &vec![b'a'; 10 * 1024 * 1024 + 1],
    )
    .await;
    let resp = d
        .get_auth(
            &format!("{}?track=s0", vurl("subtitle", &vid, "/big/Film.mkv")),
            &t,
        )
        .await;
    assert_error(resp, 413).await;

    // Resume points: round trip, clamped to the duration, shown in video-meta.
    let pe = vurl("video-play-event", &vid, ep);
    let r: Value = d
        .post_auth(&pe, &t, json!({"position_ms": 5000, "duration_ms": 60000}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r["position_ms"].as_u64(), r["duration_ms"].as_u64()),
        (Some(5000), Some(60000))
    );
    assert!(r["updated_ms"].as_i64().unwrap() > 0);
    let r: Value = d
        .post_auth(&pe, &t, json!({"position_ms": 70000}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["position_ms"], 60000, "clamped to the known duration");
    let m = d.get_json(&vurl("video-meta", &vid, ep), &t).await;
    assert_eq!(m["resume"]["position_ms"], 60000, "{m}");
    assert_eq!(m["resume"]["duration_ms"], 60000);
    for bad in [
        json!({"position_ms": -1}),
        json!({"position_ms": "10"}),
        json!({}),
        json!({"position_ms": 1, "extra": true}),
        json!({"position_ms": 1, "duration_ms": -5}),
        json!({"position_ms": 1e18}),
    ] {
        let resp = d.post_auth(&pe, &t, bad.clone()).await;
        assert_error(resp, 400).await;
    }

    // Bad paths and files.
    put_file(&d, &t, &vid, "/tv/notes.txt", b"hi").await;
    for (path, status) in [
        ("/vaults/{vid}/video-meta/tv/notes.txt", 400),
        ("/vaults/{vid}/video-tracks/tv/missing.mkv", 404),
        (
            "/vaults/{vid}/video-meta/tv/..%2F..%2Fetc%2Fpasswd.mkv",
            400,
        ),
        ("/vaults/nope/video-meta/tv/Show.Name.S01E02.mkv", 404),
        ("/vaults/{vid}/subtitle/tv/notes.txt?track=s0", 400),
    ] {
        let resp = d.get_auth(&path.replace("{vid}", &vid), &t).await;
        assert_error(resp, status).await;
    }
    // A huge body is refused in the error shape (raw: the daemon may answer
    // before reading it all).
    let huge = json!({"title": "x", "plot": "p".repeat(3 * 1024 * 1024)}).to_string();
    let answer = raw_http(
        d.addr,
        &format!(
            "PUT /api/v1/vaults/{vid}/video-meta{ep} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{huge}",
            d.addr,
            huge.len()
        ),
    );
    let status = raw_status(&answer);
    assert!(status == 400 || status == 413, "{status}");
    assert!(answer.contains("\"error\""), "{answer}");
    for bad in [
        json!({"colour": "red"}),
        json!({"tmdb_id": "x"}),
        json!({"tmdb_id": -4}),
        json!({"year": 1999}),
        json!({"title": "T", "year": 3000}),
        json!({"title": "T", "plot": "x".repeat(9000)}),
        json!({"title": "T", "media_type": "opera"}),
        json!({}),
    ] {
        let resp = d
            .put_auth(&vurl("video-meta", &vid, ep), &t, bad.clone())
            .await;
        assert_error(resp, 400).await;
    }
}

#[tokio::test]
async fn without_ffprobe_the_tracks_say_so_and_sidecars_still_show() {
    let empty = tempfile::tempdir().unwrap();
    let d = TestDaemon::start_with_env(&[("PATH", empty.path().to_str().unwrap())]).await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let vid = new_vault(&d, &t, "tv").await;
    with_sidecars(&d, &t, &vid).await;
    let ep = "/tv/Show.Name.S01E02.mkv";
    let tr = d.get_json(&vurl("video-tracks", &vid, ep), &t).await;
    assert_eq!(tr["probe"], "unavailable", "{tr}");
    assert!(
        tr["message"]
            .as_str()
            .unwrap()
            .contains("ffprobe is not installed"),
        "{tr}"
    );
    assert_eq!(tr["audio"], json!([]));
    assert_eq!(tr["subtitles"].as_array().unwrap().len(), 3, "{tr}");
    let resp = d
        .post_auth(&vurl("rescan-tracks", &vid, ep), &t, json!({}))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["probe"], "unavailable");
    let resp = d
        .get_auth(
            &format!("{}?track=e2&format=vtt", vurl("subtitle", &vid, ep)),
            &t,
        )
        .await;
    let msg = assert_error(resp, 501).await;
    assert!(msg.contains("ffmpeg"), "{msg}");
    // Sidecars still convert.
    let resp = d
        .get_auth(&format!("{}?track=s1", vurl("subtitle", &vid, ep)), &t)
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("Hello sidecar"));
}

/// What the stand-in TMDB saw: path, query and Authorization header.
type Seen = Arc<Mutex<Vec<(String, HashMap<String, String>, Option<String>)>>>;

async fn stand_in_tmdb() -> (String, Seen) {
    let seen: Seen = Arc::default();
    fn note(seen: &Seen, path: String, q: HashMap<String, String>, h: &HeaderMap) {
        let auth = h
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        seen.lock().unwrap().push((path, q, auth));
    }
    async fn search_movie(
        State(seen): State<Seen>,
        Query(q): Query<HashMap<String, String>>,
        h: HeaderMap,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        note(&seen, "/search/movie".into(), q.clone(), &h);
        match q.get("query").map(String::as_str) {
            Some("The Matrix") => axum::Json(json!({"page": 1, "results": [
                {"id": 603, "title": "The Matrix", "release_date": "1999-03-30",
                 "overview": "A hacker learns the truth.", "poster_path": "/matrix.jpg"},
                {"id": 9999, "title": "Not this one", "release_date": "2001-01-01"}
            ], "total_results": 2}))
            .into_response(),
            Some("Broken Film") => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            _ => axum::Json(json!({"page": 1, "results": [], "total_results": 0})).into_response(),
        }
    }
    async fn search_tv(
        State(seen): State<Seen>,
        Query(q): Query<HashMap<String, String>>,
        h: HeaderMap,
    ) -> axum::Json<Value> {
        note(&seen, "/search/tv".into(), q, &h);
        axum::Json(json!({"results": [{"id": 77, "name": "Show Name",
            "first_air_date": "2015-09-01", "overview": "A show.", "poster_path": null}]}))
    }
    async fn movie(
        State(seen): State<Seen>,
        AxPath(id): AxPath<i64>,
        Query(q): Query<HashMap<String, String>>,
        h: HeaderMap,
    ) -> axum::Json<Value> {
        note(&seen, format!("/movie/{id}"), q, &h);
        axum::Json(json!({"id": id, "title": "The Matrix Reloaded",
            "release_date": "2003-05-15", "overview": "Neo again.", "poster_path": "/reloaded.jpg"}))
    }
    let app = axum::Router::new()
        .route("/3/search/movie", get(search_movie))
        .route("/3/search/tv", get(search_tv))
        .route("/3/movie/{id}", get(movie))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/3"), seen)
}

#[tokio::test]
async fn tmdb_lookups_with_and_without_a_key_and_overrides_that_stick() {
    let (base, seen) = stand_in_tmdb().await;
    let (d, t, vid) = media_node("films").await;
    let film = "/Films/The.Matrix.1999.1080p.BluRay.x264.mkv";
    put_file(&d, &t, &vid, film, b"film bytes").await;
    put_file(&d, &t, &vid, "/tv/Show.Name.S01E02.mkv", b"episode bytes").await;
    put_file(&d, &t, &vid, "/Films/Broken.Film.2010.mkv", b"x").await;

    // The stand-in is configured, but no key: nothing is asked.
    let resp = d
        .put_auth("/settings", &t, json!({"tmdb_base_url": base}))
        .await;
    assert_eq!(resp.status(), 200);
    let m = d.get_json(&vurl("video-meta", &vid, film), &t).await;
    assert_eq!(m["status"], "no_key", "{m}");
    assert!(m["message"].as_str().unwrap().contains("no API key"), "{m}");
    assert_eq!(m["parsed"], json!({"title": "The Matrix", "year": 1999}));
    assert_eq!(m["title"], "The Matrix");
    assert_eq!(m["tmdb_id"], Value::Null);
    assert_eq!(m["poster_url"], Value::Null);
    assert_eq!(m["overridden"], false);
    let m = d
        .get_json(&vurl("video-meta", &vid, "/tv/Show.Name.S01E02.mkv"), &t)
        .await;
    assert_eq!(m["status"], "no_key");
    assert_eq!(m["media_type"], "tv");
    assert!(
        seen.lock().unwrap().is_empty(),
        "a request went out without a key"
    );
    // Without a key, choosing a TMDB id is refused (nothing to fetch it with).
    let resp = d
        .put_auth(&vurl("video-meta", &vid, film), &t, json!({"tmdb_id": 604}))
        .await;
    assert_error(resp, 400).await;

    // A key set: the lookups that said "no key" run again by themselves.
    let key = "tmdbv3key0123456789abcdefSECRET";
    let resp = d
        .put_auth("/settings", &t, json!({"tmdb_api_key": key}))
        .await;
    assert_eq!(resp.status(), 200);
    let m = eventually("the retried TMDB lookup", || async {
        let m = d.get_json(&vurl("video-meta", &vid, film), &t).await;
        (m["status"] == "matched").then_some(m)
    })
    .await;
    assert_eq!(m["tmdb_id"], 603);
    assert_eq!(m["title"], "The Matrix");
    assert_eq!(m["year"], 1999);
    assert_eq!(m["plot"], "A hacker learns the truth.");
    assert_eq!(m["poster_path"], "/matrix.jpg");
    assert_eq!(
        m["poster_url"],
        "https://image.tmdb.org/t/p/w342/matrix.jpg"
    );
    assert_eq!(m["media_type"], "movie");
    {
        let seen = seen.lock().unwrap();
        let (_, q, auth) = seen
            .iter()
            .find(|(p, q, _)| p == "/search/movie" && q["query"] == "The Matrix")
            .expect("the film was searched");
        assert_eq!(q.get("year").map(String::as_str), Some("1999"));
        assert_eq!(q.get("api_key").map(String::as_str), Some(key));
        assert!(auth.is_none());
    }
    let m = eventually("the episode's retried lookup", || async {
        let m = d
            .get_json(&vurl("video-meta", &vid, "/tv/Show.Name.S01E02.mkv"), &t)
            .await;
        (m["status"] == "matched").then_some(m)
    })
    .await;
    assert_eq!(
        (m["title"].as_str(), m["year"].as_i64()),
        (Some("Show Name"), Some(2015))
    );
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|(p, q, _)| p == "/search/tv" && q["query"] == "Show Name")
    );

    // A service failure is said, not hidden; a name TMDB does not know is no_match.
    let m = d
        .get_json(&vurl("video-meta", &vid, "/Films/Broken.Film.2010.mkv"), &t)
        .await;
    assert_eq!(m["status"], "error", "{m}");
    assert!(m["message"].as_str().unwrap().contains("500"), "{m}");
    put_file(&d, &t, &vid, "/Films/Unheard.Of.Thing.mkv", b"y").await;
    let m = d
        .get_json(&vurl("video-meta", &vid, "/Films/Unheard.Of.Thing.mkv"), &t)
        .await;
    assert_eq!(m["status"], "no_match", "{m}");
    assert_eq!(m["title"], "Unheard Of Thing");

    // The owner picks another TMDB entry: it wins and survives a re-lookup.
    let resp = d
        .put_auth(&vurl("video-meta", &vid, film), &t, json!({"tmdb_id": 604}))
        .await;
    assert_eq!(resp.status(), 200);
    let m: Value = resp.json().await.unwrap();
    assert_eq!(
        (m["title"].as_str(), m["tmdb_id"].as_i64()),
        (Some("The Matrix Reloaded"), Some(604))
    );
    assert_eq!(m["overridden"], true);
    let resp = d
        .post_auth(&vurl("refingerprint-video", &vid, film), &t, json!({}))
        .await;
    assert_eq!(resp.status(), 200);
    let m: Value = resp.json().await.unwrap();
    assert_eq!(m["title"], "The Matrix Reloaded", "{m}");
    assert_eq!(m["year"], 2003);
    assert_eq!(
        m["poster_url"],
        "https://image.tmdb.org/t/p/w342/reloaded.jpg"
    );

    // A manual override, then dropping it brings the lookup's match back.
    let m: Value = d
        .put_auth(
            &vurl("video-meta", &vid, film),
            &t,
            json!({"title": "My Cut", "year": 1999, "plot": "Line one\nline two"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (m["title"].as_str(), m["tmdb_id"].clone()),
        (Some("My Cut"), Value::Null)
    );
    assert_eq!(m["plot"], "Line one\nline two");
    let m: Value = d
        .put_auth(
            &vurl("video-meta", &vid, film),
            &t,
            json!({"tmdb_id": null}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (m["title"].as_str(), m["tmdb_id"].as_i64()),
        (Some("The Matrix"), Some(603))
    );
    assert_eq!(m["overridden"], false);

    // A v4 read token travels as a bearer, not in the query.
    let token = "eyJhbGciOiJIUzI1NiJ9.readtoken.SIGNATURE";
    d.put_auth("/settings", &t, json!({"tmdb_api_key": token}))
        .await;
    let resp = d
        .post_auth(&vurl("refingerprint-video", &vid, film), &t, json!({}))
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "matched");
    {
        let seen = seen.lock().unwrap();
        let (_, q, auth) = seen.last().unwrap();
        assert_eq!(auth.as_deref(), Some(format!("Bearer {token}").as_str()));
        assert!(!q.contains_key("api_key"));
    }

    // Neither key ever reached the daemon's log.
    let log = std::fs::read_to_string(d.data_dir().join("daemon-stderr.log")).unwrap();
    assert!(
        !log.contains(key) && !log.contains(token),
        "a TMDB key was logged"
    );
}
