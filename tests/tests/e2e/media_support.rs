//! Real media files for the media tests: WAV written here, tagged with lofty
//! (the same crate the daemon reads with, but its writer), and MP3, FLAC,
//! Opus, M4A and MKV encoded by Debian's ffmpeg when `tests/media/setup.sh`
//! could install it (tests that need it say so and skip otherwise).
// Shared by all the media tests; not every test uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use lofty::config::WriteOptions;
use lofty::file::TaggedFileExt;
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::tag::{Accessor, ItemKey, Tag, TagExt};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::harness::TestDaemon;

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("media")
}

/// Whether ffmpeg and ffprobe are here (installing them once if missing).
pub async fn ffmpeg() -> bool {
    static READY: OnceCell<bool> = OnceCell::const_new();
    *READY
        .get_or_init(|| async {
            let ok = tokio::process::Command::new("sh")
                .arg(here().join("setup.sh"))
                .status()
                .await
                .is_ok_and(|s| s.success());
            if !ok {
                eprintln!(
                    "SKIP: ffmpeg is not installed and could not be; tests that need it skip"
                );
            }
            ok
        })
        .await
}

/// A mono 16-bit PCM WAV of a sine at `freq` Hz (22.05 kHz).
pub fn wav(seconds: f32, freq: f32) -> Vec<u8> {
    let rate = 22_050u32;
    let n = (seconds * rate as f32) as u32;
    let mut out = Vec::with_capacity(44 + 2 * n as usize);
    let data_len = 2 * n;
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..n {
        let t = i as f32 / rate as f32;
        // A chirp rather than a pure tone, so fingerprints have features.
        let f = freq * (1.0 + 0.5 * (t * 0.7).sin());
        let s = (0.5 * (2.0 * std::f32::consts::PI * f * t).sin() * i16::MAX as f32) as i16;
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// A valid 2×2 PNG (red), as an embedded cover.
pub fn png() -> Vec<u8> {
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xFD,
        0xD4, 0x9A, 0x73, 0x00, 0x00, 0x00, 0x12, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
        0xCF, 0xC0, 0x00, 0x44, 0x0C, 0x50, 0x0A, 0x00, 0x3D, 0xC6, 0x05, 0xFB, 0x8E, 0xD8, 0x3B,
        0x98, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    PNG.to_vec()
}

/// Tags to write into a test file.
#[derive(Debug, Clone, Default)]
pub struct TrackTags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album_artist: Option<String>,
    pub album: Option<String>,
    pub track: Option<u32>,
    pub disc: Option<u32>,
    pub year: Option<u16>,
    pub genre: Option<String>,
    pub cover: Option<Vec<u8>>,
}

impl TrackTags {
    pub fn new(title: &str, artist: &str, album: &str) -> Self {
        Self {
            title: Some(title.into()),
            artist: Some(artist.into()),
            album: Some(album.into()),
            ..Self::default()
        }
    }
}

/// `bytes` (a file of type `ext`) with `tags` written into its primary tag.
pub fn tagged(bytes: &[u8], ext: &str, tags: &TrackTags) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("track.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    let mut file = lofty::read_from_path(&path).unwrap();
    let kind = file.primary_tag_type();
    if file.primary_tag().is_none() {
        file.insert_tag(Tag::new(kind));
    }
    let tag = file.primary_tag_mut().unwrap();
    if let Some(v) = &tags.title {
        tag.set_title(v.clone());
    }
    if let Some(v) = &tags.artist {
        tag.set_artist(v.clone());
    }
    if let Some(v) = &tags.album {
        tag.set_album(v.clone());
    }
    if let Some(v) = &tags.album_artist {
        tag.insert_text(ItemKey::AlbumArtist, v.clone());
    }
    if let Some(v) = tags.track {
        tag.set_track(v);
    }
    if let Some(v) = tags.disc {
        tag.set_disk(v);
    }
    if let Some(y) = tags.year {
        tag.set_date(lofty::tag::items::Timestamp {
            year: y,
            ..Default::default()
        });
    }
    if let Some(v) = &tags.genre {
        tag.set_genre(v.clone());
    }
    if let Some(c) = &tags.cover {
        tag.push_picture(
            Picture::unchecked(c.clone())
                .pic_type(PictureType::CoverFront)
                .mime_type(MimeType::Png)
                .build(),
        );
    }
    tag.save_to_path(&path, WriteOptions::default()).unwrap();
    std::fs::read(&path).unwrap()
}

/// A tagged WAV: needs nothing but this crate.
pub fn tagged_wav(seconds: f32, freq: f32, tags: &TrackTags) -> Vec<u8> {
    tagged(&wav(seconds, freq), "wav", tags)
}

/// Encode `wav` bytes to `ext` (mp3, flac, opus, ogg, m4a) with ffmpeg, or
/// `None` when ffmpeg is not here. Extra ffmpeg arguments go before the
/// output (e.g. `-metadata title=…`).
pub async fn encode(wav: &[u8], ext: &str, extra: &[&str]) -> Option<Vec<u8>> {
    if !ffmpeg().await {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    let output = dir.path().join(format!("out.{ext}"));
    std::fs::write(&input, wav).unwrap();
    let out = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&input)
        .args(extra)
        .arg(&output)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "ffmpeg → {ext}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(std::fs::read(&output).unwrap())
}

/// Run ffmpeg with `args` (inputs and options) writing `out_name` in a
/// temporary folder; the output's bytes, or `None` without ffmpeg.
pub async fn ffmpeg_make(args: &[&str], out_name: &str) -> Option<Vec<u8>> {
    if !ffmpeg().await {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join(out_name);
    let out = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .arg(&output)
        .current_dir(dir.path())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(std::fs::read(&output).unwrap())
}

/// A daemon with an identity, its owner token and one vault.
pub async fn media_node(vault_name: &str) -> (TestDaemon, String, String) {
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let vid = new_vault(&d, &t, vault_name).await;
    (d, t, vid)
}

pub async fn new_vault(d: &TestDaemon, t: &str, name: &str) -> String {
    let resp = d.post_auth("/vaults", t, json!({"name": name})).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let v: Value = resp.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

/// Upload and expect success.
pub async fn put_file(d: &TestDaemon, t: &str, vid: &str, path: &str, body: &[u8]) {
    let resp = d.upload(t, vid, path, body).await;
    assert_eq!(
        resp.status(),
        200,
        "upload {path}: {}",
        resp.text().await.unwrap()
    );
}
