//! Video track lists from `ffprobe`, and embedded text subtitles from
//! `ffmpeg`, when those are installed (found on `PATH`; when not, callers
//! say so rather than guess).
//!
//! The file's decrypted bytes go to the tool's stdin from a blocking thread
//! reading the vault ([`crate::vaults::reader::VersionReader`]), never to a
//! file on disk: no plaintext copy of a film is left behind by a crash, and
//! probing costs only what the tool reads (a few MiB for most files). An MP4
//! whose `moov` atom sits at the end is still listed: reading a pipe, the
//! demuxer reads forward through `mdat` to find it (the whole file then
//! flows through, at the cost of reading it once). Inputs are restricted to
//! the pipe (`-protocol_whitelist pipe`) so a crafted file (a playlist, a
//! reference movie) cannot make the tool open other files or URLs. Every
//! run has a deadline; on expiry the process is killed and reaped.

use std::io::Read;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// How long a probe may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long extracting one subtitle stream may take (it reads the whole file).
pub const EXTRACT_TIMEOUT: Duration = Duration::from_secs(300);
/// Largest ffprobe answer read.
const MAX_PROBE_OUTPUT: usize = 4 * 1024 * 1024;
const MAX_STDERR: usize = 64 * 1024;
const CHUNK: usize = 256 * 1024;

/// An audio track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioTrack {
    pub index: u32,
    pub codec: Option<String>,
    pub language: Option<String>,
    pub title: Option<String>,
    pub channels: Option<u32>,
    pub default: bool,
}

/// A subtitle stream inside the container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubtitleStream {
    pub index: u32,
    pub codec: Option<String>,
    pub language: Option<String>,
    pub title: Option<String>,
    pub default: bool,
}

impl SubtitleStream {
    /// Whether ffmpeg can turn it into WebVTT (text, not pictures).
    pub fn is_text(&self) -> bool {
        matches!(
            self.codec.as_deref(),
            Some("subrip" | "srt" | "ass" | "ssa" | "webvtt" | "mov_text" | "text" | "microdvd")
        )
    }
}

/// What ffprobe found in one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Probed {
    pub duration_ms: Option<u64>,
    pub audio: Vec<AudioTrack>,
    pub subtitles: Vec<SubtitleStream>,
}

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("{0} is not installed on this node")]
    Missing(&'static str),
    #[error("{0} took too long and was stopped")]
    TimedOut(&'static str),
    #[error("{tool} could not read the file: {message}")]
    Failed { tool: &'static str, message: String },
    #[error("{0} answered more than expected")]
    TooLarge(&'static str),
}

/// The path of `tool` on `PATH`, if it is there and executable.
pub fn which(tool: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Probe the file `reader` yields.
pub async fn ffprobe<R: Read + Send + 'static>(reader: R) -> Result<Probed, ToolError> {
    let bin = which("ffprobe").ok_or(ToolError::Missing("ffprobe"))?;
    let mut cmd = Command::new(bin);
    cmd.args([
        "-v",
        "error",
        "-protocol_whitelist",
        "pipe",
        "-print_format",
        "json",
        "-show_streams",
        "-show_format",
        "-i",
        "pipe:0",
    ]);
    let out = run("ffprobe", cmd, reader, PROBE_TIMEOUT, MAX_PROBE_OUTPUT).await?;
    let v: Value = serde_json::from_slice(&out).map_err(|_| ToolError::Failed {
        tool: "ffprobe",
        message: "its answer was not JSON".into(),
    })?;
    Ok(parse(&v))
}

/// Extract subtitle stream `index` of the file `reader` yields as WebVTT.
pub async fn extract_vtt<R: Read + Send + 'static>(
    reader: R,
    index: u32,
) -> Result<Vec<u8>, ToolError> {
    let bin = which("ffmpeg").ok_or(ToolError::Missing("ffmpeg"))?;
    let mut cmd = Command::new(bin);
    cmd.args([
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-protocol_whitelist",
        "pipe",
        "-i",
        "pipe:0",
        "-map",
    ])
    .arg(format!("0:{index}"))
    .args(["-f", "webvtt", "pipe:1"]);
    run(
        "ffmpeg",
        cmd,
        reader,
        EXTRACT_TIMEOUT,
        super::subtitles::MAX_SUBTITLE_BYTES,
    )
    .await
}

/// The tracks in an ffprobe JSON answer.
pub fn parse(v: &Value) -> Probed {
    let text = |s: &Value| s.as_str().map(str::to_owned).filter(|s| !s.is_empty());
    let duration_ms = v["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d >= 0.0)
        .map(|d| (d * 1000.0).round() as u64);
    let mut out = Probed {
        duration_ms,
        ..Probed::default()
    };
    for s in v["streams"].as_array().into_iter().flatten() {
        let Some(index) = s["index"].as_u64().map(|i| i as u32) else {
            continue;
        };
        let codec = text(&s["codec_name"]);
        let language = text(&s["tags"]["language"]).filter(|l| l != "und");
        let title = text(&s["tags"]["title"]);
        let default = s["disposition"]["default"].as_u64() == Some(1);
        match s["codec_type"].as_str() {
            Some("audio") => out.audio.push(AudioTrack {
                index,
                codec,
                language,
                title,
                channels: s["channels"].as_u64().map(|c| c as u32),
                default,
            }),
            Some("subtitle") => out.subtitles.push(SubtitleStream {
                index,
                codec,
                language,
                title,
                default,
            }),
            _ => {}
        }
    }
    out
}

/// Run `cmd`, its stdin fed from `reader`, and collect its stdout (at most
/// `max` bytes) within `timeout`. The child is killed and reaped on
/// timeout; dropping the future kills it too (`kill_on_drop`).
async fn run<R: Read + Send + 'static>(
    tool: &'static str,
    mut cmd: Command,
    reader: R,
    timeout: Duration,
    max: usize,
) -> Result<Vec<u8>, ToolError> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ToolError::Missing(tool),
        _ => ToolError::Failed {
            tool,
            message: "it could not be started".into(),
        },
    })?;
    let stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let work = async {
        let (_, out, err) = tokio::join!(
            feed(stdin, reader),
            read_bounded(stdout, max),
            read_bounded(stderr, MAX_STDERR)
        );
        (out, err)
    };
    let (out, err) = match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => {
            let _ = child.kill().await;
            return Err(ToolError::TimedOut(tool));
        }
    };
    let status = match tokio::time::timeout(Duration::from_secs(5), child.wait()).await {
        Ok(Ok(s)) => s,
        _ => {
            let _ = child.kill().await;
            return Err(ToolError::TimedOut(tool));
        }
    };
    let (out, overflow) = out;
    if overflow {
        return Err(ToolError::TooLarge(tool));
    }
    if !status.success() {
        let (err, _) = err;
        let message = String::from_utf8_lossy(&err)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("it failed")
            .chars()
            .take(300)
            .collect();
        return Err(ToolError::Failed { tool, message });
    }
    Ok(out)
}

/// Copy `reader` (blocking) into the child's stdin until either ends. A
/// tool that has read enough closes its end; that stops the copy.
async fn feed<R: Read + Send + 'static>(mut stdin: tokio::process::ChildStdin, mut reader: R) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let producer = tokio::task::spawn_blocking(move || {
        loop {
            let mut buf = vec![0u8; CHUNK];
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(buf).is_err() {
                        break;
                    }
                }
            }
        }
    });
    while let Some(chunk) = rx.recv().await {
        if stdin.write_all(&chunk).await.is_err() {
            break;
        }
    }
    drop(rx);
    drop(stdin);
    let _ = producer.await;
}

/// Read `r` to its end, keeping at most `max` bytes; `true` when more came
/// (the rest is drained so the writer is never stuck).
async fn read_bounded<R: AsyncRead + Unpin>(mut r: R, max: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut overflow = false;
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if out.len() + n > max {
                    overflow = true;
                } else {
                    out.extend_from_slice(&buf[..n]);
                }
            }
        }
    }
    (out, overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ffprobe_answers_become_tracks() {
        let v = json!({
            "streams": [
                {"index": 0, "codec_type": "video", "codec_name": "h264"},
                {"index": 1, "codec_type": "audio", "codec_name": "aac", "channels": 2,
                 "tags": {"language": "eng", "title": "Stereo"}, "disposition": {"default": 1}},
                {"index": 2, "codec_type": "subtitle", "codec_name": "subrip",
                 "tags": {"language": "und"}, "disposition": {"default": 0}},
                {"index": 3, "codec_type": "subtitle", "codec_name": "hdmv_pgs_subtitle"}
            ],
            "format": {"duration": "2.040000"}
        });
        let p = parse(&v);
        assert_eq!(p.duration_ms, Some(2040));
        assert_eq!(p.audio.len(), 1);
        assert_eq!(p.audio[0].language.as_deref(), Some("eng"));
        assert_eq!(p.audio[0].channels, Some(2));
        assert!(p.audio[0].default);
        assert_eq!(p.subtitles.len(), 2);
        assert_eq!(p.subtitles[0].language, None);
        assert!(p.subtitles[0].is_text());
        assert!(!p.subtitles[1].is_text());
    }
}
