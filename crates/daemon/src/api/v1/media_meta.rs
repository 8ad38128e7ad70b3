//! Per-file media routes: `meta` (tags, overrides, fingerprint, AcoustID
//! match, sidecars) and its manual overrides, re-reading a file or a folder
//! (`refingerprint`, `refingerprint-folder`), sidecars (`refresh-folder`),
//! the vault's audio rescan with its progress, and cover pictures
//! (`cover/{hash}`, cached for good: a hash names its bytes).

use std::collections::HashSet;
use std::sync::LazyLock;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use holdfast_core::media::analysis::{self, Analysis};
use holdfast_core::media::index::{self, Overrides};
use holdfast_core::media::{MediaError, MediaKind, RescanStatus, kind_of, sidecars, worker};
use holdfast_core::vaults::paths;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::ApiJson;
use crate::enrich::acoustid;
use crate::state::AppState;

/// One file's media metadata (see the media contract).
#[derive(Serialize, ToSchema)]
pub struct MetaBody {
    pub vault_id: String,
    pub path: String,
    pub file_id: String,
    /// `audio` or `video`.
    pub kind: String,
    pub content_hash: String,
    /// `pending`, `ready`, `error` or `remote`.
    pub status: String,
    /// What the file's tags say (every field, null when absent).
    #[schema(value_type = Object)]
    pub tags: Value,
    /// Only the fields the owner set by hand.
    #[schema(value_type = Object)]
    pub overrides: Value,
    /// What the library shows: overrides, then tags, then the file name.
    #[schema(value_type = Object)]
    pub effective: Value,
    pub cover_hash: Option<String>,
    /// `{"status":"ready"|"pending"|"disabled"|"unavailable","duration_s","fingerprint","message"}`.
    #[schema(value_type = Object)]
    pub fingerprint: Value,
    /// `{"status":"matched"|"no_match"|"no_key"|"error"|"pending","result","message"}`.
    #[schema(value_type = Object)]
    pub acoustid: Value,
    /// Fields of the file's `.nfo`, when it has one.
    #[schema(value_type = Option<Object>)]
    pub nfo: Option<Value>,
    #[schema(value_type = Vec<Object>)]
    pub sidecars: Vec<Value>,
    pub analysed_ms: Option<i64>,
}

/// `refresh-folder`'s answer.
#[derive(Serialize, ToSchema)]
pub struct RefreshBody {
    pub folder: String,
    pub sidecars: u64,
    pub added: u64,
    pub removed: u64,
}

/// Progress of a vault's audio rescan.
#[derive(Serialize, ToSchema)]
pub struct RescanBody {
    pub active: bool,
    pub processed: u64,
    pub total: u64,
    pub errors: u64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
}

impl From<RescanStatus> for RescanBody {
    fn from(s: RescanStatus) -> Self {
        Self {
            active: s.active,
            processed: s.processed,
            total: s.total,
            errors: s.errors,
            started_ms: s.started_ms,
            finished_ms: s.finished_ms,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct QueuedBody {
    /// Audio files that will be read again.
    pub queued: u64,
}

fn clean(raw: &str) -> ApiResult<String> {
    paths::normalize(raw).map_err(ApiError::bad_request)
}

fn folder(raw: Option<&str>) -> ApiResult<String> {
    paths::normalize_prefix(raw.unwrap_or("/")).map_err(ApiError::bad_request)
}

/// 404 unless the vault exists (without `Vaults::get`'s counting pass:
/// covers are asked for by the hundred).
async fn vault_exists(state: &AppState, vault_id: &str) -> ApiResult<()> {
    let id = vault_id.to_owned();
    let found: Option<i64> = state
        .catalog
        .read(move |c| {
            c.query_row("SELECT 1 FROM vaults WHERE id = ?1", [id], |r| r.get(0))
                .optional()
        })
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(holdfast_core::vaults::VaultError::NotFound.into()),
    }
}

/// The vault exists (else 404) and the path names media (else 400).
async fn media_path(state: &AppState, vault_id: &str, raw: &str) -> ApiResult<(String, MediaKind)> {
    let path = clean(raw)?;
    vault_exists(state, vault_id).await?;
    let kind = kind_of(&path).ok_or(MediaError::NotMedia)?;
    Ok((path, kind))
}

struct Stored {
    row: Option<(String, String)>,
    analysis: Option<Analysis>,
    overrides: Overrides,
    sidecar_cover: Option<String>,
    sidecars: Vec<sidecars::Sidecar>,
    lookup: Option<(String, Option<Value>, Option<String>)>,
}

/// The meta answer of the live file at `path`.
async fn meta_json(
    state: &AppState,
    vault_id: &str,
    path: &str,
    kind: MediaKind,
) -> ApiResult<MetaBody> {
    let v = state.vaults.live(vault_id, path).await?;
    let (vid, p, hash) = (vault_id.to_owned(), path.to_owned(), v.content_hash.clone());
    let s = state
        .catalog
        .read(move |c| {
            let row = c
                .query_row(
                    "SELECT content_hash, status FROM media_files WHERE vault_id = ?1 AND path = ?2",
                    params![vid, p],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let lookup = c
                .query_row(
                    "SELECT status, result, message FROM media_acoustid WHERE content_hash = ?1",
                    [&hash],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Option<String>>(1)?
                                .and_then(|s| serde_json::from_str(&s).ok()),
                            r.get::<_, Option<String>>(2)?,
                        ))
                    },
                )
                .optional()?;
            Ok(Stored {
                row,
                analysis: analysis::load(c, &hash)?,
                overrides: index::overrides(c, &vid, &p)?,
                sidecar_cover: index::sidecar_cover(c, &vid, &p)?,
                sidecars: sidecars::of_file(c, &vid, &p)?,
                lookup,
            })
        })
        .await?;
    let a = s.analysis.as_ref();
    let status = match &s.row {
        Some((h, st)) if *h == v.content_hash => st.clone(),
        _ => match a {
            Some(a) if a.error.is_some() => index::status::ERROR.into(),
            Some(_) => index::status::READY.into(),
            None => index::status::PENDING.into(),
        },
    };
    let e = index::effective(path, a, &s.overrides, s.sidecar_cover.clone());
    let settings = state.settings.current();
    let fingerprint = match (kind, a) {
        (MediaKind::Video, _) => json!({"status": "unavailable", "duration_s": null,
            "fingerprint": null, "message": "video files are not fingerprinted"}),
        (_, None) => json!({"status": "pending", "duration_s": null, "fingerprint": null,
            "message": null}),
        (_, Some(a)) => match (&a.fingerprint, &a.fp_error) {
            (Some(fp), _) => json!({"status": "ready", "duration_s": a.fp_duration_s,
                "fingerprint": fp, "message": null}),
            (None, Some(why)) => json!({"status": "unavailable", "duration_s": null,
                "fingerprint": null, "message": why}),
            (None, None) => json!({"status": "disabled", "duration_s": null, "fingerprint": null,
                "message": "audio fingerprinting was off when this file was read; \
                            refingerprint reads it again"}),
        },
    };
    let acoustid = match (&s.lookup, fingerprint["status"].as_str()) {
        (Some((st, result, message)), _) => {
            json!({"status": st, "result": result, "message": message})
        }
        (None, Some("ready")) if settings.acoustid.api_key.is_none() => {
            json!({"status": acoustid::status::NO_KEY, "result": null,
                   "message": crate::enrich::LookupError::NoKey(acoustid::SERVICE).to_string()})
        }
        (None, Some("ready" | "pending")) => {
            json!({"status": acoustid::status::PENDING, "result": null, "message": null})
        }
        (None, _) => json!({"status": acoustid::status::ERROR, "result": null,
            "message": "nothing to look up: this file has no fingerprint"}),
    };
    let tags = serde_json::to_value(a.map(|a| a.tags.clone()).unwrap_or_default())
        .unwrap_or_else(|_| json!({}));
    let overrides = serde_json::to_value(&s.overrides).unwrap_or_else(|_| json!({}));
    let nfo = s
        .sidecars
        .iter()
        .find(|x| x.kind == "nfo")
        .map(|x| x.info.clone().unwrap_or_else(|| json!({})));
    Ok(MetaBody {
        vault_id: vault_id.to_owned(),
        path: path.to_owned(),
        file_id: holdfast_core::media::file_id(vault_id, path),
        kind: kind.as_str().into(),
        content_hash: v.content_hash,
        status,
        tags,
        overrides,
        effective: json!({
            "title": e.title, "artist": e.artist, "album_artist": e.album_artist,
            "album": e.album, "album_key": e.album_key, "track_no": e.track_no,
            "disc_no": e.disc_no, "year": e.year, "genre": e.genre,
            "duration_ms": e.duration_ms, "cover_hash": e.cover_hash,
        }),
        cover_hash: e.cover_hash,
        fingerprint,
        acoustid,
        nfo,
        sidecars: s
            .sidecars
            .iter()
            .map(|x| json!({"path": x.path, "kind": x.kind, "lang": x.lang}))
            .collect(),
        analysed_ms: a.map(|a| a.analysed_ms),
    })
}

/// A media file's tags, overrides, fingerprint, AcoustID match and sidecars.
/// A file not read yet answers with status `pending`.
#[utoipa::path(get, path = "/vaults/{vault_id}/meta/{*path}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, body = MetaBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_meta(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Json<MetaBody>> {
    let (path, kind) = media_path(&state, &vault_id, &raw).await?;
    Ok(Json(meta_json(&state, &vault_id, &path, kind).await?))
}

/// Override some of a file's fields by hand (title, artist, album_artist,
/// album, genre, track_no, disc_no, year); `null` drops an override. They
/// win over tags and survive rescans and new versions of the file.
#[utoipa::path(put, path = "/vaults/{vault_id}/meta/{*path}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    request_body = Object,
    responses((status = 200, body = MetaBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_meta(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<MetaBody>> {
    let (path, kind) = media_path(&state, &vault_id, &raw).await?;
    state.vaults.live(&vault_id, &path).await?;
    if patch.len() > index::OVERRIDE_FIELDS.len() {
        return Err(ApiError::bad_request(format!(
            "at most {} fields: {}",
            index::OVERRIDE_FIELDS.len(),
            index::OVERRIDE_FIELDS.join(", ")
        )));
    }
    let (vid, p) = (vault_id.clone(), path.clone());
    let refused = state
        .catalog
        .write(move |c| {
            let tx = c.transaction()?;
            let mut o = index::overrides(&tx, &vid, &p)?;
            if let Err(why) = o.apply(&patch) {
                return Ok(Some(why));
            }
            index::set_overrides(&tx, &vid, &p, &o)?;
            index::refresh(&tx, &vid, &p)?;
            tx.commit()?;
            Ok(None)
        })
        .await?;
    if let Some(why) = refused {
        return Err(ApiError::bad_request(why));
    }
    state.events.publish("library_changed", json!({}));
    Ok(Json(meta_json(&state, &vault_id, &path, kind).await?))
}

/// Read an audio file again now (tags, cover, fingerprint) and run its
/// AcoustID lookup; answers its meta once the lookup has run.
#[utoipa::path(post, path = "/vaults/{vault_id}/refingerprint/{*path}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, body = MetaBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn refingerprint(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Json<MetaBody>> {
    let (path, kind) = media_path(&state, &vault_id, &raw).await?;
    if kind != MediaKind::Audio {
        return Err(ApiError::bad_request(
            "only audio files are fingerprinted (videos: refingerprint-video)",
        ));
    }
    let (version, _) = worker::read_now(&state.media, &vault_id, &path, true).await?;
    acoustid::lookup_and_store(&state.catalog, &state.settings, &version.content_hash)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(meta_json(&state, &vault_id, &path, kind).await?))
}

async fn do_refresh(
    state: &AppState,
    vault_id: &str,
    raw: Option<&str>,
) -> ApiResult<Json<RefreshBody>> {
    let folder = folder(raw)?;
    vault_exists(state, vault_id).await?;
    let r = sidecars::refresh_folder(&state.media, vault_id, &folder).await?;
    Ok(Json(RefreshBody {
        folder: r.folder,
        sidecars: r.sidecars,
        added: r.added,
        removed: r.removed,
    }))
}

/// Look for sidecars (`.nfo`, cover pictures, subtitles) of every media
/// file of the vault, recording new ones and forgetting those gone.
#[utoipa::path(post, path = "/vaults/{vault_id}/refresh-folder", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path)),
    responses((status = 200, body = RefreshBody), (status = 404, body = ErrorBody)))]
pub async fn refresh_vault(
    State(state): State<AppState>,
    Path(vault_id): Path<String>,
) -> ApiResult<Json<RefreshBody>> {
    do_refresh(&state, &vault_id, None).await
}

/// The same for the media files under one folder.
#[utoipa::path(post, path = "/vaults/{vault_id}/refresh-folder/{*path}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, body = RefreshBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn refresh_folder(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Json<RefreshBody>> {
    do_refresh(&state, &vault_id, Some(&raw)).await
}

/// Folder re-reads run one at a time.
static FOLDER_READS: LazyLock<tokio::sync::Semaphore> =
    LazyLock::new(|| tokio::sync::Semaphore::new(1));

async fn do_refingerprint_folder(
    state: &AppState,
    vault_id: &str,
    raw: Option<&str>,
) -> ApiResult<(StatusCode, Json<QueuedBody>)> {
    let folder = folder(raw)?;
    vault_exists(state, vault_id).await?;
    let mut seen = HashSet::new();
    let files: Vec<String> = state
        .vaults
        .listing(vault_id, &folder, false)
        .await?
        .into_iter()
        .filter(|(v, _)| kind_of(&v.path) == Some(MediaKind::Audio))
        .filter(|(v, _)| seen.insert(v.content_hash.clone()))
        .map(|(v, _)| v.path)
        .collect();
    let queued = files.len() as u64;
    let (state2, vid) = (state.clone(), vault_id.to_owned());
    tokio::spawn(async move {
        let Ok(_permit) = FOLDER_READS.acquire().await else {
            return;
        };
        for path in files {
            if state2.shutdown.is_cancelled() {
                return;
            }
            match worker::read_now(&state2.media, &vid, &path, true).await {
                Ok((v, _)) => {
                    if let Err(e) = acoustid::lookup_and_store(
                        &state2.catalog,
                        &state2.settings,
                        &v.content_hash,
                    )
                    .await
                    {
                        tracing::warn!("refingerprint-folder: cannot record a lookup: {e}");
                    }
                }
                Err(e) => tracing::debug!("refingerprint-folder: {path}: {e}"),
            }
        }
    });
    Ok((StatusCode::ACCEPTED, Json(QueuedBody { queued })))
}

/// Read every audio file of the vault again (fingerprints included) and
/// look them up, in the background.
#[utoipa::path(post, path = "/vaults/{vault_id}/refingerprint-folder", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path)),
    responses((status = 202, body = QueuedBody), (status = 404, body = ErrorBody)))]
pub async fn refingerprint_vault(
    State(state): State<AppState>,
    Path(vault_id): Path<String>,
) -> ApiResult<(StatusCode, Json<QueuedBody>)> {
    do_refingerprint_folder(&state, &vault_id, None).await
}

/// The same for the audio files under one folder.
#[utoipa::path(post, path = "/vaults/{vault_id}/refingerprint-folder/{*path}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 202, body = QueuedBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn refingerprint_folder(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<QueuedBody>)> {
    do_refingerprint_folder(&state, &vault_id, Some(&raw)).await
}

/// Re-read every audio file of the vault in the background; follow it with
/// `audio/rescan/status` or `media_scan_progress` events.
#[utoipa::path(post, path = "/vaults/{vault_id}/audio/rescan", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path)),
    responses((status = 202, body = RescanBody), (status = 404, body = ErrorBody)))]
pub async fn audio_rescan(
    State(state): State<AppState>,
    Path(vault_id): Path<String>,
) -> ApiResult<(StatusCode, Json<RescanBody>)> {
    let s = state.media.rescan(&vault_id).await?;
    Ok((StatusCode::ACCEPTED, Json(s.into())))
}

/// Progress of the vault's last audio rescan.
#[utoipa::path(get, path = "/vaults/{vault_id}/audio/rescan/status", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path)),
    responses((status = 200, body = RescanBody), (status = 404, body = ErrorBody)))]
pub async fn audio_rescan_status(
    State(state): State<AppState>,
    Path(vault_id): Path<String>,
) -> ApiResult<Json<RescanBody>> {
    vault_exists(&state, &vault_id).await?;
    Ok(Json(state.media.rescan_status(&vault_id).into()))
}

/// Types a cover is served as; anything else goes out as bytes.
const IMAGE_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/bmp",
];

fn etag_matches(headers: &HeaderMap, hash: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == "*" || t == hash)
}

/// A cover picture of one of the vault's files, by hash. Cached for good
/// (the hash names the bytes); `If-None-Match` answers 304. Accepts `?token=`.
#[utoipa::path(get, path = "/vaults/{vault_id}/cover/{hash}", tag = "media", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("hash" = String, Path, description = "SHA-256 of the picture, hex")),
    responses((status = 200, description = "The picture", content_type = "image/*"),
              (status = 304, description = "Not modified"),
              (status = 404, body = ErrorBody)))]
pub async fn cover(
    State(state): State<AppState>,
    Path((vault_id, hash)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    vault_exists(&state, &vault_id).await?;
    let not_found = || ApiError::not_found("no such cover in this vault");
    if hash.len() != 64
        || !hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(not_found());
    }
    let (vid, h) = (vault_id.clone(), hash.clone());
    let mime: Option<String> = state
        .catalog
        .read(move |c| {
            c.query_row(
                "SELECT m.mime FROM media_covers m WHERE m.hash = ?2 AND (
                     EXISTS (SELECT 1 FROM media_files f WHERE f.vault_id = ?1 AND f.cover_hash = ?2)
                     OR EXISTS (SELECT 1 FROM media_files f JOIN media_analysis a
                                    ON a.content_hash = f.content_hash
                                WHERE f.vault_id = ?1 AND a.cover_hash = ?2)
                     OR EXISTS (SELECT 1 FROM media_sidecars s WHERE s.vault_id = ?1
                                AND s.kind = 'cover' AND json_extract(s.info, '$.cover_hash') = ?2))",
                params![vid, h],
                |r| r.get(0),
            )
            .optional()
        })
        .await?;
    let mime = mime.ok_or_else(not_found)?;
    let mut out_headers = HeaderMap::new();
    out_headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    out_headers.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{hash}\"")).map_err(ApiError::internal)?,
    );
    out_headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out_headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if etag_matches(&headers, &hash) {
        return Ok((StatusCode::NOT_MODIFIED, out_headers).into_response());
    }
    let h = hash.clone();
    let (_, bytes) = state
        .catalog
        .read(move |c| analysis::cover(c, &h))
        .await?
        .ok_or_else(not_found)?;
    let content_type = if IMAGE_TYPES.contains(&mime.as_str()) {
        mime
    } else {
        "application/octet-stream".into()
    };
    out_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).map_err(ApiError::internal)?,
    );
    Ok((StatusCode::OK, out_headers, Body::from(bytes)).into_response())
}
