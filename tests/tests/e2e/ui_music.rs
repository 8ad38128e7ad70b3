//! The web UI's Music page and video player in a real browser
//! (`tests/ui/music.mjs`), at 1280 and 390 px: the empty library, loading,
//! tagged WAVs uploaded while the page is open (albums appear live, with
//! their covers or a placeholder), an album's tracklist, playing a track
//! (the <audio> element streams with Range and its time advances), play
//! next, the queue, a play event raising the play count on the page,
//! artists, songs, search, the error state, a video with an SRT sidecar
//! playing with its subtitle track and offering to resume, and offline
//! once the daemon stops.

use std::path::Path;

use crate::media_support::{TrackTags, ffmpeg_make, media_node, png, tagged_wav};
use crate::ui::{artifacts, run_browser_script_with};

const SRT: &str = "1\n00:00:00,500 --> 00:00:04,000\nHello from the subtitles\n\n\
                   2\n00:00:04,500 --> 00:00:09,000\nSecond line\n";

/// The test's files, written to `dir` as `<vault path with / as __>`.
async fn write_media(dir: &Path) -> bool {
    let album = |title: &str, track: u32, cover: bool| TrackTags {
        title: Some(title.into()),
        artist: Some("The Auroras".into()),
        album_artist: Some("The Auroras".into()),
        album: Some("Northern Lights".into()),
        track: Some(track),
        year: Some(2021),
        genre: Some("Ambient".into()),
        cover: cover.then(png),
        ..TrackTags::default()
    };
    let harbour = |title: &str, track: u32| TrackTags {
        title: Some(title.into()),
        artist: Some("Sea Shanty Club".into()),
        album: Some("Harbour Songs".into()),
        track: Some(track),
        year: Some(1999),
        genre: Some("Folk".into()),
        ..TrackTags::default()
    };
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "/Music/Northern Lights/01 First Light.wav",
            tagged_wav(12.0, 440.0, &album("First Light", 1, true)),
        ),
        (
            "/Music/Northern Lights/02 Polar Night.wav",
            tagged_wav(5.0, 330.0, &album("Polar Night", 2, true)),
        ),
        (
            "/Music/Northern Lights/03 Magnetic Field.wav",
            tagged_wav(5.0, 550.0, &album("Magnetic Field", 3, true)),
        ),
        (
            "/Music/Harbour Songs/01 Tide Turns.wav",
            tagged_wav(4.0, 260.0, &harbour("Tide Turns", 1)),
        ),
        (
            "/Music/Harbour Songs/02 Rope and Sail.wav",
            tagged_wav(4.0, 390.0, &harbour("Rope and Sail", 2)),
        ),
    ];
    let music = dir.join("music");
    std::fs::create_dir_all(&music).unwrap();
    for (path, bytes) in files {
        std::fs::write(
            music.join(path.trim_start_matches('/').replace('/', "__")),
            bytes,
        )
        .unwrap();
    }
    // A short WebM (VP8, which every Chromium plays) with an SRT beside it.
    let Some(video) = ffmpeg_make(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x180:rate=15",
            "-t",
            "20",
            "-c:v",
            "libvpx",
            "-b:v",
            "200k",
            "-pix_fmt",
            "yuv420p",
        ],
        "movie.webm",
    )
    .await
    else {
        return false;
    };
    let films = dir.join("video");
    std::fs::create_dir_all(&films).unwrap();
    std::fs::write(films.join("Films__The Test Pattern (2008).webm"), video).unwrap();
    std::fs::write(films.join("Films__The Test Pattern (2008).en.srt"), SRT).unwrap();
    true
}

#[tokio::test]
async fn ui_music_page_player_and_video() {
    let (mut d, _t, vid) = media_node("Media").await;
    let dir = tempfile::tempdir().unwrap();
    let video = write_media(dir.path()).await;
    if !video {
        eprintln!("SKIP: no ffmpeg: the video part of the browser test does not run");
    }
    let pid = d.pid().to_string();
    let media = dir.path().to_string_lossy().into_owned();
    run_browser_script_with(
        &d,
        "music.mjs",
        &[
            ("HOLDFAST_PID", &pid),
            ("HOLDFAST_VAULT", &vid),
            ("HOLDFAST_MEDIA", &media),
            ("HOLDFAST_VIDEO", if video { "1" } else { "" }),
        ],
    )
    .await;
    let mut shots = vec![
        "music-empty",
        "music-loading",
        "music-albums",
        "music-album",
        "music-playing",
        "music-queue",
        "music-artists",
        "music-artist",
        "music-songs",
        "music-search",
        "music-error",
        "music-offline",
    ];
    if video {
        shots.extend(["video-player", "video-resume"]);
    }
    for shot in shots {
        for width in [390, 1280] {
            assert!(
                artifacts().join(format!("{shot}-{width}.png")).is_file(),
                "{shot}-{width}.png"
            );
        }
    }
    // The script stopped the daemon with SIGTERM: it shut down cleanly.
    assert!(d.wait_exit().await.success());
}
