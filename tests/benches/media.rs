//! The music library at 10,000 tracks: a real daemon takes 10,000 tiny
//! tagged WAVs (500 albums, 200 artists, 12 genres, 60 years) over REST;
//! the figures are the library scan rate (tracks read and indexed per
//! second, while the uploads go on and after the last one), the
//! `audio/rescan` of all of them when the daemon has that route, and the
//! latency of `library/search` and `library/albums` (p50/p99) over the
//! full library. Printed as a table with the machine's load.
//!
//! Run: `cargo bench -p holdfast-tests --bench media` (`BENCH_TRACKS`
//! changes the track count, default 10,000).

#[path = "common.rs"]
#[allow(dead_code)]
mod common;
#[path = "../tests/e2e/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "../tests/e2e/media_support.rs"]
mod media_support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;

use common::{load, peak_rss_mib};
use harness::TestDaemon;
use media_support::{TrackTags, media_node, tagged_wav};

const GENRES: &[&str] = &[
    "Pop",
    "Rock",
    "Jazz",
    "Electronic",
    "Classical",
    "Hip-Hop",
    "Folk",
    "Metal",
    "Soul",
    "Reggae",
    "Blues",
    "Country",
];
const WORDS: &[&str] = &[
    "blue", "night", "river", "dance", "heart", "city", "fire", "rain", "golden", "silver",
    "dream", "ocean", "shadow", "light", "summer", "winter", "road", "echo", "star", "wild",
];
/// Uploads in flight at once.
const UPLOADERS: usize = 8;

fn track(i: usize) -> (String, Vec<u8>) {
    let album = i / 20;
    let artist = album % 200;
    let w = |k: usize| WORDS[k % WORDS.len()];
    let mut tags = TrackTags::new(
        &format!("{} {} {}", w(i), w(i / 7 + 3), i),
        &format!("Artist {} {}", w(artist), artist),
        &format!("{} {} Album {album}", w(album / 3), w(album + 11)),
    );
    tags.track = Some((i % 20 + 1) as u32);
    tags.year = Some(1960 + (album % 60) as u16);
    tags.genre = Some(GENRES[album % GENRES.len()].into());
    // Distinct content per track: the tone differs.
    let bytes = tagged_wav(0.05, 200.0 + i as f32 * 0.37, &tags);
    (format!("/artist-{artist}/album-{album}/{i:05}.wav"), bytes)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn json(d: &TestDaemon, t: &str, path: &str) -> Value {
    let r = d.get_auth(path, t).await;
    assert!(r.status().is_success(), "GET {path}: {}", r.status());
    r.json().await.unwrap()
}

/// Tracks whose tags were read (they carry a genre; unread rows do not).
async fn tagged_count(d: &TestDaemon, t: &str) -> i64 {
    let g = json(d, t, "/library/genres").await;
    g["genres"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["track_count"].as_i64().unwrap())
        .sum()
}

/// Latencies (ms) of GETs of `paths`, one after another, sorted.
async fn latencies(d: &TestDaemon, t: &str, paths: &[String]) -> Vec<f64> {
    let mut out = Vec::with_capacity(paths.len());
    for p in paths {
        let start = Instant::now();
        let r = d.get_auth(p, t).await;
        assert!(r.status().is_success(), "{p}: {}", r.status());
        let _ = r.bytes().await.unwrap();
        out.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    out.sort_by(f64::total_cmp);
    out
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_TRACKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    eprintln!("generating {n} tagged WAVs…");
    let files: Vec<(String, Vec<u8>)> = (0..n).map(track).collect();
    let bytes: usize = files.iter().map(|f| f.1.len()).sum();

    let (d, t, vid) = media_node("Bench music").await;
    eprintln!("uploading {n} tracks ({} KiB)…", bytes / 1024);
    let start = Instant::now();
    let d_ref = &d;
    let (t_ref, vid_ref) = (&t, &vid);
    futures::stream::iter(files.iter())
        .map(|(path, body)| async move {
            let r = d_ref.upload(t_ref, vid_ref, path, body).await;
            assert_eq!(r.status(), 200, "upload {path}");
        })
        .buffer_unordered(UPLOADERS)
        .collect::<Vec<_>>()
        .await;
    let uploaded = start.elapsed();
    let read_at_upload_end = tagged_count(&d, &t).await;
    loop {
        if tagged_count(&d, &t).await >= n as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let complete = start.elapsed();
    let after = (complete - uploaded).as_secs_f64();
    let overall_rate = n as f64 / complete.as_secs_f64();
    let tail_rate = if after > 0.0 {
        (n as i64 - read_at_upload_end) as f64 / after
    } else {
        f64::INFINITY
    };
    let load_scan = load();

    // A rescan of every track, when the daemon has the route.
    let rescan = {
        let r = d
            .post_auth(
                &format!("/vaults/{vid}/audio/rescan"),
                &t,
                serde_json::json!({}),
            )
            .await;
        if r.status().is_success() {
            let started = Instant::now();
            loop {
                let s = json(&d, &t, &format!("/vaults/{vid}/audio/rescan/status")).await;
                if s["active"] == false && s["processed"].as_u64().unwrap_or(0) > 0 {
                    let secs = started.elapsed().as_secs_f64();
                    break Some((s["processed"].as_u64().unwrap(), secs));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        } else {
            eprintln!(
                "audio/rescan: {} (route not in this build; initial indexing only)",
                r.status()
            );
            None
        }
    };

    // Search: words, prefixes, artist names and two-word queries.
    let mut queries: Vec<String> = Vec::new();
    for (k, w) in WORDS.iter().enumerate() {
        queries.push(w.to_string());
        queries.push(w[..3].to_string());
        queries.push(format!("{w} {}", WORDS[(k + 5) % WORDS.len()]));
        queries.push(format!("artist {w}"));
        queries.push(format!("{} album", GENRES[k % GENRES.len()].to_lowercase()));
    }
    let search_paths: Vec<String> = (0..500)
        .map(|i| {
            let q = &queries[i % queries.len()];
            format!("/library/search?q={}", q.replace(' ', "%20"))
        })
        .collect();
    let _ = latencies(&d, &t, &search_paths[..20]).await; // warm
    let search = latencies(&d, &t, &search_paths).await;

    let album_paths: Vec<String> = (0..200)
        .map(|i| match i % 4 {
            0 => "/library/albums".to_owned(),
            1 => "/library/albums?sort=year".to_owned(),
            2 => "/library/albums?sort=recent&limit=100".to_owned(),
            _ => "/library/albums?sort=artist&limit=100&offset=200".to_owned(),
        })
        .collect();
    let albums = latencies(&d, &t, &album_paths).await;
    let total_albums = json(&d, &t, "/library/albums?limit=1").await["total"].clone();
    let song_paths: Vec<String> = (0..200)
        .map(|i| {
            format!(
                "/library/songs?sort=title&limit=100&offset={}",
                (i * 47) % n
            )
        })
        .collect();
    let songs = latencies(&d, &t, &song_paths).await;
    let rss = peak_rss_mib(d.pid());

    println!();
    println!("media library, {n} tagged WAVs ({total_albums} albums), one daemon");
    println!("| figure | value |");
    println!("|---|---|");
    println!(
        "| uploads done | {:.1} s ({:.0} files/s) |",
        uploaded.as_secs_f64(),
        n as f64 / uploaded.as_secs_f64()
    );
    println!(
        "| library complete (first upload → every track read) | {:.1} s = {overall_rate:.0} tracks/s |",
        complete.as_secs_f64()
    );
    println!(
        "| read while uploading / after the last upload | {read_at_upload_end} / {} tracks in {after:.1} s ({tail_rate:.0} tracks/s) |",
        n as i64 - read_at_upload_end
    );
    match rescan {
        Some((done, secs)) => println!(
            "| audio/rescan | {done} tracks in {secs:.1} s = {:.0} tracks/s |",
            done as f64 / secs
        ),
        None => println!("| audio/rescan | route not in this build |"),
    }
    println!(
        "| library/search ({} queries) | p50 {:.1} ms, p99 {:.1} ms |",
        search.len(),
        pct(&search, 0.5),
        pct(&search, 0.99)
    );
    println!(
        "| library/albums ({} requests) | p50 {:.1} ms, p99 {:.1} ms |",
        albums.len(),
        pct(&albums, 0.5),
        pct(&albums, 0.99)
    );
    println!(
        "| library/songs page of 100 | p50 {:.1} ms, p99 {:.1} ms |",
        pct(&songs, 0.5),
        pct(&songs, 0.99)
    );
    println!("| daemon peak RSS | {rss} MiB |");
    println!(
        "| load (1 min) during scan / at end | {load_scan} / {} |",
        load()
    );
    drop(d);
    match beets(&files) {
        Some(secs) => println!(
            "| beets `import -A -q` of the same files (peer) | {secs:.1} s = {:.0} tracks/s; holdfast's library complete took {:.2}x that |",
            n as f64 / secs,
            complete.as_secs_f64() / secs
        ),
        None => println!("| beets | not installed (see beets()); no peer figure |"),
    }
}

/// beets (`beet import -A -q`: tags as they are, no lookups, files left in
/// place) over the same files written to disk; its seconds, or `None` when
/// there is no `beet` at `$BEETS` or `$CARGO_TARGET_DIR/beets-venv/bin/beet`
/// (`python3 -m venv $CARGO_TARGET_DIR/beets-venv && .../bin/pip install beets`).
fn beets(files: &[(String, Vec<u8>)]) -> Option<f64> {
    let beet = std::env::var("BEETS").ok().or_else(|| {
        std::env::var("CARGO_TARGET_DIR")
            .ok()
            .map(|t| format!("{t}/beets-venv/bin/beet"))
    })?;
    if !std::path::Path::new(&beet).exists() {
        return None;
    }
    let dir = tempfile::tempdir().ok()?;
    let music = dir.path().join("music");
    for (path, body) in files {
        let p = music.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent()?).ok()?;
        std::fs::write(&p, body).ok()?;
    }
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "directory: {}\nlibrary: {}\nimport:\n  copy: no\n  write: no\n  move: no\n  resume: no\n  incremental: no\nplugins: []\n",
            music.display(),
            dir.path().join("library.db").display()
        ),
    )
    .ok()?;
    let start = Instant::now();
    let out = std::process::Command::new(&beet)
        .arg("-c")
        .arg(&config)
        .args(["import", "-A", "-q"])
        .arg(&music)
        .env("BEETSDIR", dir.path())
        .output()
        .ok()?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        eprintln!("beets failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let count = std::process::Command::new(&beet)
        .arg("-c")
        .arg(&config)
        .args(["ls", "-f", "$title"])
        .env("BEETSDIR", dir.path())
        .output()
        .ok()?;
    let n = String::from_utf8_lossy(&count.stdout).lines().count();
    eprintln!("beets imported {n} of {} tracks", files.len());
    Some(secs)
}
