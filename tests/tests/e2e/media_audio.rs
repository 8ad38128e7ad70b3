//! Per-file media routes: tags of real WAV/MP3/FLAC/Opus/M4A files, embedded
//! covers served once per hash with long-lived caching (and only to the vault
//! that holds them), fingerprints (and an honest reason where there is none),
//! one analysis per content hash, manual overrides that survive rescans and
//! new uploads, sidecars found and dropped by `refresh-folder`, and a rescan
//! of 2,000 tracks that reports progress while uploads go on.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use crate::harness::{TestDaemon, assert_error, eventually};
use crate::media_support::{
    TrackTags, encode, media_node, new_vault, png, put_file, tagged, tagged_wav, wav,
};

/// The meta of `path` once `ready` holds for it.
pub async fn meta_when(
    d: &TestDaemon,
    t: &str,
    vid: &str,
    path: &str,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    eventually(&format!("{what} for {path}"), || async {
        let resp = d.get_auth(&format!("/vaults/{vid}/meta{path}"), t).await;
        if resp.status() != 200 {
            return None;
        }
        let m: Value = resp.json().await.unwrap();
        ready(&m).then_some(m)
    })
    .await
}

pub async fn ready_meta(d: &TestDaemon, t: &str, vid: &str, path: &str) -> Value {
    meta_when(d, t, vid, path, "status ready", |m| m["status"] == "ready").await
}

#[tokio::test]
async fn tags_covers_and_fingerprints_of_real_files() {
    let (d, t, vid) = media_node("Music").await;
    let mut tags = TrackTags::new("Wave Song", "Wave Artist", "Wave Album");
    tags.track = Some(3);
    tags.year = Some(2001);
    tags.genre = Some("Ambient".into());
    tags.album_artist = Some("Various".into());
    tags.cover = Some(png());
    let song = tagged_wav(8.0, 440.0, &tags);
    put_file(&d, &t, &vid, "/wav/song.wav", &song).await;
    // The same bytes twice: read once.
    put_file(&d, &t, &vid, "/wav/copy.wav", &song).await;

    let m = ready_meta(&d, &t, &vid, "/wav/song.wav").await;
    assert_eq!(m["kind"], "audio");
    assert_eq!(m["tags"]["title"], "Wave Song");
    assert_eq!(m["tags"]["artist"], "Wave Artist");
    assert_eq!(m["tags"]["album_artist"], "Various");
    assert_eq!(m["tags"]["track_no"], 3);
    assert_eq!(m["tags"]["year"], 2001);
    assert_eq!(m["tags"]["genre"], "Ambient");
    assert_eq!(m["tags"]["sample_rate"], 22050);
    assert!(m["tags"]["duration_ms"].as_u64().unwrap() >= 7900);
    assert_eq!(m["effective"]["title"], "Wave Song");
    assert_eq!(m["overrides"], json!({}));
    assert_eq!(m["fingerprint"]["status"], "ready", "{m}");
    assert_eq!(m["fingerprint"]["duration_s"], 8);
    let fp = m["fingerprint"]["fingerprint"].as_str().unwrap();
    assert!(fp.len() > 20 && !fp.contains(['+', '/', '=']), "{fp}");
    assert!(
        fp.starts_with("AQ"),
        "algorithm 1 leads the compressed form: {fp}"
    );
    let copy = ready_meta(&d, &t, &vid, "/wav/copy.wav").await;
    assert_eq!(copy["content_hash"], m["content_hash"]);
    assert_eq!(
        copy["analysed_ms"], m["analysed_ms"],
        "one analysis per hash"
    );
    assert_eq!(copy["fingerprint"], m["fingerprint"]);
    assert_ne!(copy["file_id"], m["file_id"]);

    // The embedded cover, by hash: cached for good, 304 when revalidated.
    let hash = m["cover_hash"].as_str().unwrap().to_owned();
    assert_eq!(m["effective"]["cover_hash"], hash);
    let resp = d
        .get(&format!("/vaults/{vid}/cover/{hash}?token={t}"))
        .await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert!(etag.contains(&hash));
    assert_eq!(resp.bytes().await.unwrap().to_vec(), png());
    let resp = d
        .http
        .get(d.url(&format!("/vaults/{vid}/cover/{hash}")))
        .bearer_auth(&t)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    // Not another vault's, not a made-up hash, not without the owner.
    let other = new_vault(&d, &t, "Other").await;
    assert_error(
        d.get_auth(&format!("/vaults/{other}/cover/{hash}"), &t)
            .await,
        404,
    )
    .await;
    assert_error(
        d.get_auth(&format!("/vaults/{vid}/cover/{}", "0".repeat(64)), &t)
            .await,
        404,
    )
    .await;
    assert_error(
        d.get_auth(&format!("/vaults/{vid}/cover/nothex"), &t).await,
        404,
    )
    .await;
    assert_error(d.get(&format!("/vaults/{vid}/cover/{hash}")).await, 401).await;

    // Not media, not there, no such vault.
    put_file(&d, &t, &vid, "/notes.txt", b"hello").await;
    assert_error(
        d.get_auth(&format!("/vaults/{vid}/meta/notes.txt"), &t)
            .await,
        400,
    )
    .await;
    assert_error(
        d.get_auth(&format!("/vaults/{vid}/meta/gone.mp3"), &t)
            .await,
        404,
    )
    .await;
    assert_error(d.get_auth("/vaults/nope/meta/a.mp3", &t).await, 404).await;

    // Encoded formats, when ffmpeg is here.
    let source = wav(8.0, 330.0);
    let meta = |title: &str| {
        [
            "-metadata".to_owned(),
            format!("title={title}"),
            "-metadata".into(),
            "artist=Encoder".into(),
        ]
    };
    let mut made = Vec::new();
    for (ext, extra) in [
        ("mp3", vec![]),
        ("flac", vec![]),
        ("opus", vec!["-c:a", "libopus"]),
        ("m4a", vec!["-c:a", "aac"]),
    ] {
        let title = format!("{ext} song");
        let mut args: Vec<String> = meta(&title).to_vec();
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let Some(bytes) = encode(&source, ext, &args).await else {
            eprintln!("SKIP: no ffmpeg, {ext} not checked");
            continue;
        };
        let path = format!("/enc/song.{ext}");
        put_file(&d, &t, &vid, &path, &bytes).await;
        made.push((ext, path, title));
    }
    for (ext, path, title) in &made {
        let m = ready_meta(&d, &t, &vid, path).await;
        assert_eq!(m["tags"]["title"], *title, "{ext}: {m}");
        assert_eq!(m["tags"]["artist"], "Encoder", "{ext}");
        let ms = m["tags"]["duration_ms"].as_u64().unwrap_or(0);
        assert!((7500..=8600).contains(&ms), "{ext}: duration {ms}");
        match *ext {
            "opus" => {
                assert_eq!(m["fingerprint"]["status"], "unavailable", "{m}");
                assert_eq!(m["fingerprint"]["fingerprint"], Value::Null);
                let why = m["fingerprint"]["message"].as_str().unwrap();
                assert!(why.contains("Opus"), "{why}");
                assert_eq!(m["acoustid"]["status"], "error");
            }
            "mp3" | "flac" => {
                assert_eq!(m["fingerprint"]["status"], "ready", "{ext}: {m}");
                assert!(
                    m["fingerprint"]["fingerprint"]
                        .as_str()
                        .unwrap()
                        .starts_with("AQ")
                );
            }
            _ => {}
        }
    }
    // A tag written into an encoded file by lofty is read back too.
    if let Some(mp3) = encode(&source, "mp3", &[]).await {
        let bytes = tagged(
            &mp3,
            "mp3",
            &TrackTags::new("Lofty Title", "Lofty", "Tagged"),
        );
        put_file(&d, &t, &vid, "/enc/lofty.mp3", &bytes).await;
        let m = ready_meta(&d, &t, &vid, "/enc/lofty.mp3").await;
        assert_eq!(m["tags"]["album"], "Tagged");
    }
}

#[tokio::test]
async fn overrides_win_and_survive_rescans_and_new_uploads() {
    let (d, t, vid) = media_node("Music").await;
    let path = "/a/track.wav";
    let first = tagged_wav(0.5, 440.0, &TrackTags::new("Tag One", "Tagger", "Album"));
    put_file(&d, &t, &vid, path, &first).await;
    let m = ready_meta(&d, &t, &vid, path).await;
    assert_eq!(m["effective"]["title"], "Tag One");

    let url = format!("/vaults/{vid}/meta{path}");
    let resp = d
        .put_auth(
            &url,
            &t,
            json!({"title": "Mine", "year": 1999, "genre": "Jazz"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let m: Value = resp.json().await.unwrap();
    assert_eq!(
        m["overrides"],
        json!({"title": "Mine", "year": 1999, "genre": "Jazz"})
    );
    assert_eq!(m["effective"]["title"], "Mine");
    assert_eq!(m["effective"]["year"], 1999);
    assert_eq!(m["effective"]["artist"], "Tagger");
    assert_eq!(m["tags"]["title"], "Tag One", "the tags themselves stay");

    for bad in [
        json!({"colour": "red"}),
        json!({"year": 0}),
        json!({"title": 5}),
        json!({"track_no": "1"}),
        json!(["not", "an", "object"]),
    ] {
        assert_error(d.put_auth(&url, &t, bad).await, 400).await;
    }
    put_file(&d, &t, &vid, "/a/readme.txt", b"x").await;
    assert_error(
        d.put_auth(
            &format!("/vaults/{vid}/meta/a/readme.txt"),
            &t,
            json!({"title": "x"}),
        )
        .await,
        400,
    )
    .await;
    assert_error(
        d.put_auth(
            &format!("/vaults/{vid}/meta/a/none.wav"),
            &t,
            json!({"title": "x"}),
        )
        .await,
        404,
    )
    .await;

    // A rescan reads the file again; the override still wins.
    let resp = d
        .post_auth(&format!("/vaults/{vid}/audio/rescan"), &t, json!({}))
        .await;
    assert_eq!(resp.status(), 202);
    let s: Value = resp.json().await.unwrap();
    assert_eq!(s["active"], true);
    eventually("the rescan to finish", || async {
        let s = d
            .get_json(&format!("/vaults/{vid}/audio/rescan/status"), &t)
            .await;
        (s["active"] == false && s["finished_ms"].is_i64()).then_some(())
    })
    .await;
    let m = ready_meta(&d, &t, &vid, path).await;
    assert_eq!(m["effective"]["title"], "Mine");

    // A new upload of the same path: new tags, the override still wins.
    let second = tagged_wav(0.6, 550.0, &TrackTags::new("Tag Two", "Other", "Album 2"));
    put_file(&d, &t, &vid, path, &second).await;
    let m = meta_when(&d, &t, &vid, path, "the new version read", |m| {
        m["status"] == "ready" && m["tags"]["title"] == "Tag Two"
    })
    .await;
    assert_eq!(m["effective"]["title"], "Mine");
    assert_eq!(m["effective"]["genre"], "Jazz");
    assert_eq!(m["effective"]["artist"], "Other");

    // null drops one override; the tag shows again.
    let m: Value = d
        .put_auth(&url, &t, json!({"title": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(m["effective"]["title"], "Tag Two");
    assert_eq!(m["overrides"], json!({"year": 1999, "genre": "Jazz"}));
    assert_error(
        d.get_auth("/vaults/nope/audio/rescan/status", &t).await,
        404,
    )
    .await;
}

#[tokio::test]
async fn sidecars_are_found_and_dropped_by_refresh_folder() {
    let (d, t, vid) = media_node("Music").await;
    let song = tagged_wav(0.3, 440.0, &TrackTags::new("Song", "Band", "Record"));
    put_file(&d, &t, &vid, "/Record/01-song.wav", &song).await;
    put_file(
        &d,
        &t,
        &vid,
        "/Record/02-other.wav",
        &tagged_wav(0.3, 500.0, &TrackTags::new("Other", "Band", "Record")),
    )
    .await;
    put_file(
        &d,
        &t,
        &vid,
        "/Record/album.nfo",
        b"<?xml version=\"1.0\"?><album><title>The Record</title><artist>Band</artist>\
          <year>1987</year><genre>Rock</genre><plot>Loud &amp; clear.</plot></album>",
    )
    .await;
    put_file(&d, &t, &vid, "/Record/cover.jpg", &png()).await;
    put_file(
        &d,
        &t,
        &vid,
        "/Record/01-song.en.srt",
        b"1\n00:00:00,000 --> 00:00:01,000\nHi\n",
    )
    .await;
    put_file(&d, &t, &vid, "/Elsewhere/x.wav", &song).await;
    let m = ready_meta(&d, &t, &vid, "/Record/01-song.wav").await;
    assert_eq!(m["cover_hash"], Value::Null);
    assert_eq!(m["nfo"], Value::Null);

    let resp = d
        .post_auth(
            &format!("/vaults/{vid}/refresh-folder/Record"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let r: Value = resp.json().await.unwrap();
    // Both songs: the nfo and the cover; the first also its subtitle.
    assert_eq!(
        r,
        json!({"folder": "/Record", "sidecars": 5, "added": 5, "removed": 0})
    );
    let m = ready_meta(&d, &t, &vid, "/Record/01-song.wav").await;
    assert_eq!(m["nfo"]["title"], "The Record");
    assert_eq!(m["nfo"]["year"], 1987);
    assert_eq!(m["nfo"]["plot"], "Loud & clear.");
    let sidecars = m["sidecars"].as_array().unwrap();
    assert!(sidecars.contains(&json!({"path": "/Record/album.nfo", "kind": "nfo", "lang": null})));
    assert!(
        sidecars.contains(&json!({"path": "/Record/cover.jpg", "kind": "cover", "lang": null}))
    );
    assert!(
        sidecars
            .contains(&json!({"path": "/Record/01-song.en.srt", "kind": "subtitle", "lang": "en"}))
    );
    let hash = m["cover_hash"]
        .as_str()
        .expect("the folder's cover")
        .to_owned();
    assert_eq!(m["effective"]["cover_hash"], hash);
    let resp = d
        .get(&format!("/vaults/{vid}/cover/{hash}?token={t}"))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().to_vec(), png());
    // The same again: nothing new.
    let r: Value = d
        .post_auth(
            &format!("/vaults/{vid}/refresh-folder/Record"),
            &t,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["added"], 0);
    assert_eq!(r["removed"], 0);

    // Gone from the vault: gone from the meta, and the cover with it.
    d.delete_auth(&format!("/vaults/{vid}/files/Record/cover.jpg"), &t)
        .await;
    d.delete_auth(&format!("/vaults/{vid}/files/Record/01-song.en.srt"), &t)
        .await;
    let r: Value = d
        .post_auth(&format!("/vaults/{vid}/refresh-folder"), &t, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["folder"], "/");
    assert_eq!(r["removed"], 3, "{r}");
    let m = ready_meta(&d, &t, &vid, "/Record/01-song.wav").await;
    assert_eq!(m["cover_hash"], Value::Null);
    assert_eq!(m["sidecars"].as_array().unwrap().len(), 1);
    assert_error(
        d.get_auth(&format!("/vaults/{vid}/cover/{hash}"), &t).await,
        404,
    )
    .await;
    assert_error(
        d.post_auth("/vaults/nope/refresh-folder", &t, json!({}))
            .await,
        404,
    )
    .await;
    assert_error(
        d.post_auth(
            &format!("/vaults/{vid}/refresh-folder/a%01b"),
            &t,
            json!({}),
        )
        .await,
        400,
    )
    .await;
}

/// Read the SSE stream until a `media_scan_progress` event shows processed
/// files; answers that event.
async fn progress_event(sse: &mut reqwest::Response) -> Value {
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        for block in seen.split("\n\n") {
            if block.contains("event: media_scan_progress")
                && let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: "))
                && let Ok(v) = serde_json::from_str::<Value>(data)
                && v["processed"].as_u64().unwrap_or(0) > 0
            {
                return v;
            }
        }
        assert!(Instant::now() < deadline, "no progress event: {seen}");
        let chunk = tokio::time::timeout(Duration::from_secs(60), sse.chunk())
            .await
            .expect("the event stream went quiet")
            .unwrap()
            .expect("the event stream ended");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn a_rescan_of_2000_tracks_reports_progress_while_uploads_go_on() {
    let (d, t, vid) = media_node("Big").await;
    let track = |i: usize| {
        let mut tags = TrackTags::new(
            &format!("Track {i}"),
            &format!("Artist {}", i % 50),
            &format!("Album {}", i % 200),
        );
        tags.track = Some((i % 20 + 1) as u32);
        tagged_wav(0.05, 200.0 + i as f32, &tags)
    };
    let uploads = futures::stream::iter(0..2000)
        .map(|i| {
            let (d, t, vid) = (&d, &t, &vid);
            let body = track(i);
            async move {
                let resp = d.upload(t, vid, &format!("/lib/{i:04}.wav"), &body).await;
                assert_eq!(resp.status(), 200, "upload {i}");
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>();
    uploads.await;
    // Every track read once before the rescan.
    all_ready(
        &d,
        &t,
        &vid,
        (0..2000).map(|i| format!("/lib/{i:04}.wav")).collect(),
    )
    .await;

    let mut sse = d.get(&format!("/events/stream?token={t}")).await;
    assert_eq!(sse.status(), 200);
    let resp = d
        .post_auth(&format!("/vaults/{vid}/audio/rescan"), &t, json!({}))
        .await;
    assert_eq!(resp.status(), 202);
    let s: Value = resp.json().await.unwrap();
    assert_eq!(s["active"], true);
    assert_eq!(s["total"], 2000);
    assert!(s["started_ms"].is_i64());

    // Uploads go on while the rescan runs, and are indexed.
    let during = futures::stream::iter(0..40)
        .map(|i| {
            let (d, t, vid) = (&d, &t, &vid);
            let body = track(5000 + i);
            async move {
                let resp = d.upload(t, vid, &format!("/new/{i:02}.wav"), &body).await;
                assert_eq!(resp.status(), 200, "upload during the rescan {i}");
            }
        })
        .buffer_unordered(4)
        .collect::<Vec<()>>();
    let (_, event) = tokio::join!(during, progress_event(&mut sse));
    assert_eq!(event["vault_id"], vid);
    assert!(event["total"].as_u64().unwrap() >= 2000, "{event}");
    let mid = d
        .get_json(&format!("/vaults/{vid}/audio/rescan/status"), &t)
        .await;
    assert!(mid["processed"].as_u64().unwrap() > 0 || mid["active"] == false);

    let deadline = Instant::now() + Duration::from_secs(300);
    let done = loop {
        let s = d
            .get_json(&format!("/vaults/{vid}/audio/rescan/status"), &t)
            .await;
        if s["active"] == false {
            break s;
        }
        assert!(Instant::now() < deadline, "the rescan never finished: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(done["finished_ms"].as_i64().unwrap() >= done["started_ms"].as_i64().unwrap());
    assert_eq!(done["errors"], 0);
    let processed = done["processed"].as_u64().unwrap();
    assert!(
        processed >= 2000 && processed <= done["total"].as_u64().unwrap(),
        "{done}"
    );
    all_ready(
        &d,
        &t,
        &vid,
        (0..40).map(|i| format!("/new/{i:02}.wav")).collect(),
    )
    .await;
    all_ready(
        &d,
        &t,
        &vid,
        (0..2000).map(|i| format!("/lib/{i:04}.wav")).collect(),
    )
    .await;
    let m = ready_meta(&d, &t, &vid, "/lib/1234.wav").await;
    assert_eq!(m["tags"]["title"], "Track 1234");
}

/// Wait until every path's meta is `ready` (a few requests at a time).
async fn all_ready(d: &TestDaemon, t: &str, vid: &str, paths: Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut left = paths;
    while !left.is_empty() {
        let checked: Vec<(String, bool)> = futures::stream::iter(left.clone())
            .map(|p| async move {
                let m = d.get_json(&format!("/vaults/{vid}/meta{p}"), t).await;
                let ok = m["status"] == "ready";
                (p, ok)
            })
            .buffer_unordered(16)
            .collect()
            .await;
        left = checked
            .into_iter()
            .filter(|(_, ok)| !ok)
            .map(|(p, _)| p)
            .collect();
        assert!(
            Instant::now() < deadline,
            "{} tracks never read, e.g. {}",
            left.len(),
            left.first().map(String::as_str).unwrap_or("")
        );
        if !left.is_empty() {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
