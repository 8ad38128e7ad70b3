//! Video routes: the TMDB view of a film or episode (`video-meta`, with the
//! owner's override), its re-lookup, resume points, the audio and subtitle
//! track list (ffprobe when installed, plus sidecar subtitles), and
//! subtitles as WebVTT for the HTML5 `<track>` (accepts `?token=`).
//! Only video files (by extension) are accepted: others answer 400.

use std::io::Read;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use holdfast_core::media::probe::{self, Probed, ToolError};
use holdfast_core::media::subtitles::{self, ConvertError, MAX_SUBTITLE_BYTES};
use holdfast_core::media::video::{self, Match, MediaType};
use holdfast_core::media::{MediaKind, kind_of};
use holdfast_core::vaults::{FileVersion, paths};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::IntoParams;

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiQuery};
use crate::enrich::{LookupError, tmdb};
use crate::state::AppState;

/// Path segment characters left as they are in subtitle URLs.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The live video file at `raw` of `vault_id`: 404 when the vault or the
/// file is not there, 400 when the path is bad or not a video.
async fn video_file(state: &AppState, vault_id: &str, raw: &str) -> ApiResult<FileVersion> {
    let path = paths::normalize(raw).map_err(ApiError::bad_request)?;
    state.vaults.get(vault_id).await?;
    if kind_of(&path) != Some(MediaKind::Video) {
        return Err(ApiError::bad_request(
            "not a video file (mp4, m4v, mkv, webm, mov, avi, ogv)",
        ));
    }
    Ok(state.vaults.live(vault_id, &path).await?)
}

/// Make sure this node holds every block of `v` before reading it.
async fn ensure_local(state: &AppState, v: &FileVersion) -> ApiResult<()> {
    if !state.vaults.is_local(v).await? {
        state.mesh.fetch_missing(v).await?;
    }
    Ok(())
}

async fn meta_answer(state: &AppState, v: &FileVersion) -> ApiResult<Json<Value>> {
    let (vid, path) = (v.vault_id.clone(), v.path.clone());
    let (lookup, over, resume) = state
        .catalog
        .read(move |c| {
            Ok((
                video::load_lookup(c, &vid, &path)?,
                video::load_override(c, &vid, &path)?,
                video::get_resume(c, &vid, &path)?,
            ))
        })
        .await?;
    let parsed = video::parse_name(&v.path);
    Ok(Json(video::meta_view(
        &v.vault_id,
        &v.path,
        &parsed,
        lookup.as_ref(),
        over.as_ref(),
        resume.as_ref(),
    )))
}

/// A video's TMDB view: title, year, plot, poster (the owner's override
/// first, then the lookup's match, then what the file name says), and its
/// resume point. The first view of a file runs its lookup.
#[utoipa::path(get, path = "/vaults/{vault_id}/video-meta/{*path}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, description = "The video-meta view", body = Object),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_meta(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = video_file(&state, &vault_id, &raw).await?;
    let (vid, path) = (v.vault_id.clone(), v.path.clone());
    let known = state
        .catalog
        .read(move |c| {
            Ok(video::load_lookup(c, &vid, &path)?.is_some()
                || video::load_override(c, &vid, &path)?.is_some())
        })
        .await?;
    if !known {
        tmdb::lookup_and_store(&state.catalog, &state.settings, &v.vault_id, &v.path).await?;
    }
    meta_answer(&state, &v).await
}

fn lookup_error(e: LookupError) -> ApiError {
    match e {
        LookupError::NoKey(_) => ApiError::bad_request(e.to_string()),
        LookupError::Status { status: 404, .. } => {
            ApiError::not_found("TMDB has no entry with that id")
        }
        _ => ApiError::new(StatusCode::BAD_GATEWAY, e.to_string()),
    }
}

fn text_field(
    body: &Map<String, Value>,
    name: &str,
    max: usize,
    multiline: bool,
) -> ApiResult<Option<String>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.chars().count() > max {
                return Err(ApiError::bad_request(format!(
                    "{name}: at most {max} characters"
                )));
            }
            if s.chars()
                .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
            {
                return Err(ApiError::bad_request(format!(
                    "{name}: no control characters"
                )));
            }
            Ok((!s.is_empty()).then(|| s.to_owned()))
        }
        Some(_) => Err(ApiError::bad_request(format!(
            "{name}: must be a string or null"
        ))),
    }
}

/// Override the match: `{"tmdb_id": n, "media_type"?: "movie"|"tv"}` takes
/// TMDB's details of that id; `{"title", "year"?, "plot"?}` sets them by
/// hand; `{"tmdb_id": null}` drops the override. Overrides survive lookups.
#[utoipa::path(put, path = "/vaults/{vault_id}/video-meta/{*path}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    request_body = Object,
    responses((status = 200, description = "The video-meta view", body = Object),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, description = "TMDB failed", body = ErrorBody)))]
pub async fn put_meta(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let v = video_file(&state, &vault_id, &raw).await?;
    const FIELDS: &[&str] = &["tmdb_id", "media_type", "title", "year", "plot"];
    if let Some(bad) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "{bad}: not a field you can set (one of: {})",
            FIELDS.join(", ")
        )));
    }
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "send {\"tmdb_id\": n} or {\"title\", \"year\", \"plot\"}, or {\"tmdb_id\": null}",
        ));
    }
    let media_type = match body.get("media_type") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            MediaType::parse(s)
                .ok_or_else(|| ApiError::bad_request("media_type: \"movie\" or \"tv\""))?,
        ),
        Some(_) => return Err(ApiError::bad_request("media_type: \"movie\" or \"tv\"")),
    };
    let chosen: Option<Match> = match body.get("tmdb_id") {
        Some(Value::Null) => None,
        Some(id) => {
            let id = id
                .as_i64()
                .filter(|n| (1..=i64::from(i32::MAX)).contains(n))
                .ok_or_else(|| ApiError::bad_request("tmdb_id: a positive whole number or null"))?;
            let kind = media_type.unwrap_or(video::parse_name(&v.path).media_type);
            Some(
                tmdb::details(&state.settings.current().tmdb, kind, id)
                    .await
                    .map_err(lookup_error)?,
            )
        }
        None => {
            let title = text_field(&body, "title", video::MAX_TITLE_CHARS, false)?
                .ok_or_else(|| ApiError::bad_request("title: required for a manual override"))?;
            let year = match body.get("year") {
                None | Some(Value::Null) => None,
                Some(y) => Some(
                    y.as_i64()
                        .filter(|y| (1880..=2100).contains(y))
                        .ok_or_else(|| ApiError::bad_request("year: a year from 1880 to 2100"))?
                        as i32,
                ),
            };
            Some(Match {
                tmdb_id: None,
                media_type,
                title,
                year,
                plot: text_field(&body, "plot", video::MAX_PLOT_CHARS, true)?,
                poster_path: None,
            })
        }
    };
    let (vid, path) = (v.vault_id.clone(), v.path.clone());
    state
        .catalog
        .write(move |c| match &chosen {
            Some(m) => video::set_override(c, &vid, &path, m),
            None => video::drop_override(c, &vid, &path),
        })
        .await?;
    meta_answer(&state, &v).await
}

/// Run the file name → TMDB lookup again (an override stays in force).
#[utoipa::path(post, path = "/vaults/{vault_id}/refingerprint-video/{*path}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, description = "The video-meta view", body = Object),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn refingerprint(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = video_file(&state, &vault_id, &raw).await?;
    tmdb::lookup_and_store(&state.catalog, &state.settings, &v.vault_id, &v.path).await?;
    meta_answer(&state, &v).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlayEvent {
    /// Where playback is, in ms from the start.
    pub position_ms: Value,
    /// The video's length, when the player knows it.
    #[serde(default)]
    pub duration_ms: Option<Value>,
}

fn ms_field(name: &str, v: &Value) -> ApiResult<u64> {
    v.as_u64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f.round() as u64)
        })
        .filter(|n| *n <= video::MAX_POSITION_MS)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{name}: milliseconds from 0 to {}",
                video::MAX_POSITION_MS
            ))
        })
}

/// Record a "watched up to N ms" beat; the position is kept within the
/// duration when one is known.
#[utoipa::path(post, path = "/vaults/{vault_id}/video-play-event/{*path}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    request_body = PlayEvent,
    responses((status = 200, description = "{position_ms, duration_ms, updated_ms}", body = Object),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn play_event(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
    ApiJson(ev): ApiJson<PlayEvent>,
) -> ApiResult<Json<Value>> {
    let v = video_file(&state, &vault_id, &raw).await?;
    let position = ms_field("position_ms", &ev.position_ms)?;
    let duration = match ev.duration_ms {
        None | Some(Value::Null) => None,
        Some(d) => Some(ms_field("duration_ms", &d)?),
    };
    let (vid, path, hash) = (v.vault_id.clone(), v.path.clone(), v.content_hash.clone());
    let r = state
        .catalog
        .write(move |c| {
            let duration = match duration {
                Some(d) => Some(d),
                None => video::load_tracks(c, &hash)?.and_then(|p| p.duration_ms),
            };
            video::set_resume(c, &vid, &path, position, duration)
        })
        .await?;
    Ok(Json(json!(r)))
}

/// The probe of `v`: stored, or run now (`force`: always run). `Err` holds
/// the message to show when there is no probe.
async fn probed(
    state: &AppState,
    v: &FileVersion,
    force: bool,
) -> ApiResult<Result<Probed, String>> {
    let hash = v.content_hash.clone();
    if !force {
        let h = hash.clone();
        if let Some(p) = state
            .catalog
            .read(move |c| video::load_tracks(c, &h))
            .await?
        {
            return Ok(Ok(p));
        }
    }
    if probe::which("ffprobe").is_none() {
        return Ok(Err(ToolError::Missing("ffprobe").to_string()));
    }
    ensure_local(state, v).await?;
    let reader = state.vaults.reader(v).await?;
    match probe::ffprobe(reader).await {
        Ok(p) => {
            let stored = p.clone();
            state
                .catalog
                .write(move |c| video::store_tracks(c, &hash, &stored))
                .await?;
            Ok(Ok(p))
        }
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// The sidecar subtitles next to `v`.
async fn sidecars(state: &AppState, v: &FileVersion) -> ApiResult<Vec<subtitles::Sidecar>> {
    let folder = v.path.rsplit_once('/').map(|(f, _)| f).unwrap_or("");
    let prefix = if folder.is_empty() { "/" } else { folder };
    let siblings: Vec<String> = state
        .vaults
        .files(&v.vault_id, prefix, false)
        .await?
        .into_iter()
        .map(|f| f.path)
        .filter(|p| p.rsplit_once('/').map(|(f, _)| f).unwrap_or("") == folder)
        .collect();
    Ok(subtitles::sidecars_of(&v.path, &siblings))
}

fn subtitle_url(v: &FileVersion, track: &str) -> String {
    let encoded: String = v
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{}", utf8_percent_encode(s, SEGMENT)))
        .collect();
    format!(
        "/api/v1/vaults/{}/subtitle{encoded}?track={track}&format=vtt",
        v.vault_id
    )
}

async fn tracks_answer(state: &AppState, v: &FileVersion, force: bool) -> ApiResult<Json<Value>> {
    let probe = probed(state, v, force).await?;
    let side = sidecars(state, v).await?;
    let (probe_name, message, p) = match probe {
        Ok(p) => ("ffprobe", None, p),
        Err(m) if probe::which("ffprobe").is_none() => ("unavailable", Some(m), Probed::default()),
        Err(m) => ("ffprobe", Some(m), Probed::default()),
    };
    let mut subs: Vec<Value> = p
        .subtitles
        .iter()
        .filter(|s| s.is_text())
        .map(|s| {
            let track = format!("e{}", s.index);
            json!({"track": track, "source": "embedded", "path": null, "language": s.language,
                   "title": s.title, "codec": s.codec, "default": s.default,
                   "url": subtitle_url(v, &track)})
        })
        .collect();
    subs.extend(side.iter().enumerate().map(|(i, s)| {
        let track = format!("s{i}");
        let name = s.path.rsplit('/').next().unwrap_or(&s.path);
        json!({"track": track, "source": "sidecar", "path": s.path, "language": s.lang,
               "title": name, "codec": s.format, "default": false,
               "url": subtitle_url(v, &track)})
    }));
    Ok(Json(json!({
        "probe": probe_name,
        "message": message,
        "duration_ms": p.duration_ms,
        "audio": p.audio,
        "subtitles": subs,
    })))
}

/// Audio and subtitle tracks: ffprobe's list (when ffprobe is installed;
/// `probe: "unavailable"` says when it is not) and sidecar subtitles.
#[utoipa::path(get, path = "/vaults/{vault_id}/video-tracks/{*path}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, description = "{probe, message, duration_ms, audio, subtitles}", body = Object),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn tracks(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = video_file(&state, &vault_id, &raw).await?;
    tracks_answer(&state, &v, false).await
}

/// Drop the stored track list of this file and probe it again.
#[utoipa::path(post, path = "/vaults/{vault_id}/rescan-tracks/{*path}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, description = "The video-tracks answer", body = Object),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rescan_tracks(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = video_file(&state, &vault_id, &raw).await?;
    let hash = v.content_hash.clone();
    state
        .catalog
        .write(move |c| video::forget_tracks(c, &hash))
        .await?;
    tracks_answer(&state, &v, true).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubtitleQuery {
    /// A track id from `video-tracks` (`e2`: embedded stream 2; `s0`: the
    /// first sidecar).
    pub track: String,
    /// `vtt` (the only format).
    pub format: Option<String>,
}

/// Read a whole (small) file of the vault, at most `max` bytes.
async fn read_small(state: &AppState, f: &FileVersion, max: usize) -> ApiResult<Vec<u8>> {
    if f.size > max as u64 {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ConvertError::TooLarge.to_string(),
        ));
    }
    ensure_local(state, f).await?;
    let reader = state.vaults.reader(f).await?;
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        reader
            .take(max as u64 + 1)
            .read_to_end(&mut out)
            .map(|_| out)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

fn convert_error(e: ConvertError) -> ApiError {
    match e {
        ConvertError::TooLarge => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
        _ => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

/// A subtitle track as WebVTT (`text/vtt`) for `<track>`: sidecar SRT, ASS
/// and SSA converted, VTT checked; embedded text streams extracted with
/// ffmpeg (501 when it is not installed). Accepts `?token=`.
#[utoipa::path(get, path = "/vaults/{vault_id}/subtitle/{*path}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path), SubtitleQuery),
    responses((status = 200, description = "WebVTT", content_type = "text/vtt"),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 501, description = "ffmpeg is not installed", body = ErrorBody)))]
pub async fn subtitle(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<SubtitleQuery>,
) -> ApiResult<Response> {
    let format = q.format.as_deref().unwrap_or("vtt");
    if format != "vtt" {
        return Err(ApiError::bad_request("format: only vtt is served"));
    }
    let bad_track = || ApiError::bad_request("track: an id from video-tracks, like e2 or s0");
    // ASCII only, so the split below falls on a character boundary.
    if q.track.len() > 8 || q.track.len() < 2 || !q.track.is_ascii() {
        return Err(bad_track());
    }
    let (source, number) = q.track.split_at(1);
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_track());
    }
    let number: usize = number.parse().map_err(|_| bad_track())?;
    let v = video_file(&state, &vault_id, &raw).await?;
    let no_track = || ApiError::not_found("no such subtitle track");
    let vtt = match source {
        "s" => {
            let side = sidecars(&state, &v).await?;
            let s = side.get(number).ok_or_else(no_track)?;
            let f = state.vaults.live(&v.vault_id, &s.path).await?;
            let bytes = read_small(&state, &f, MAX_SUBTITLE_BYTES).await?;
            subtitles::to_vtt(&s.format, &bytes).map_err(convert_error)?
        }
        "e" => {
            if probe::which("ffmpeg").is_none() {
                return Err(ApiError::new(
                    StatusCode::NOT_IMPLEMENTED,
                    "ffmpeg is needed to extract embedded subtitles and is not installed on this node",
                ));
            }
            let p = match probed(&state, &v, false).await? {
                Ok(p) => p,
                Err(m) => return Err(ApiError::new(StatusCode::NOT_IMPLEMENTED, m)),
            };
            let s = p
                .subtitles
                .iter()
                .find(|s| s.index as usize == number)
                .ok_or_else(no_track)?;
            if !s.is_text() {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "that subtitle track is pictures, not text: it cannot become WebVTT",
                ));
            }
            ensure_local(&state, &v).await?;
            let reader = state.vaults.reader(&v).await?;
            let out = probe::extract_vtt(reader, s.index)
                .await
                .map_err(|e| match e {
                    ToolError::Missing(_) => {
                        ApiError::new(StatusCode::NOT_IMPLEMENTED, e.to_string())
                    }
                    ToolError::TooLarge(_) => convert_error(ConvertError::TooLarge),
                    _ => ApiError::new(StatusCode::BAD_GATEWAY, e.to_string()),
                })?;
            subtitles::to_vtt("vtt", &out).map_err(convert_error)?
        }
        _ => return Err(bad_track()),
    };
    let mut r = vtt.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/vtt; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r)
}
