//! File routes of a vault: upload (raw body, streamed), list, metadata,
//! download, stream with `Range`, delete (tombstone), history, restore,
//! move and version download. `{*path}` is URL-decoded and normalised; traversal
//! tricks answer 400.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use holdfast_core::vaults::{FileVersion, paths};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiQuery};
use crate::http::download::{self, parse_range};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct FileJson {
    pub vault_id: String,
    pub path: String,
    pub size: u64,
    /// BLAKE3 of the content, hex.
    pub content_hash: String,
    pub version_id: String,
    /// Sealed block ids, hex.
    pub block_hashes: Vec<String>,
    /// Version ids this one replaced.
    pub parents: Vec<String>,
    /// Content hashes of other heads (a conflict), if any.
    pub conflicts: Vec<String>,
    pub deleted: bool,
    pub modified_ms: i64,
    /// Where this version came from: `folder` (the vault's folder on this
    /// computer), `upload` (the API: web UI, apps, S3), `restore`,
    /// `resolve`, `keep_both`, `move`; `null` for versions older than origins.
    pub origin: Option<String>,
    /// Only in a keep-both answer of `resolve-conflict`: the path the
    /// other side was kept under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_as: Option<String>,
}

fn file_json(v: FileVersion, conflicts: Vec<String>) -> FileJson {
    FileJson {
        vault_id: v.vault_id,
        path: v.path,
        size: v.size,
        content_hash: v.content_hash,
        version_id: v.id,
        block_hashes: v.blocks,
        parents: v.parents,
        conflicts,
        deleted: v.deleted,
        modified_ms: v.created_ms,
        origin: v.origin,
        kept_as: None,
    }
}

/// Announce a new head of a file (`file_updated`, with what made it) and
/// answer with it.
fn updated(state: &AppState, v: FileVersion, cause: &str) -> Json<FileJson> {
    state.events.publish(
        "file_updated",
        json!({"vault_id": v.vault_id, "path": v.path, "content_hash": v.content_hash,
               "size": v.size, "cause": cause}),
    );
    Json(file_json(v, Vec::new()))
}

/// The newest head of `path`, and its other heads (a conflict) if any.
async fn head_and_others(
    state: &AppState,
    vault_id: &str,
    path: &str,
) -> ApiResult<(FileVersion, Vec<FileVersion>)> {
    state.vaults.get(vault_id).await?;
    let mut heads = state.vaults.heads(vault_id, path).await?.into_iter();
    let head = heads
        .next()
        .ok_or(holdfast_core::vaults::VaultError::FileNotFound)?;
    Ok((head, heads.collect()))
}

fn conflicts_of(others: &[FileVersion]) -> Vec<String> {
    others.iter().map(|h| h.content_hash.clone()).collect()
}

fn clean(raw: &str) -> ApiResult<String> {
    paths::normalize(raw).map_err(ApiError::bad_request)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only files under this folder.
    pub path: Option<String>,
    /// `1` to include tombstoned files.
    pub include_deleted: Option<String>,
}

/// List a vault's files.
#[utoipa::path(get, path = "/vaults/{vault_id}/files", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ListQuery),
    responses((status = 200, body = Vec<FileJson>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Path(vault_id): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<FileJson>>> {
    let prefix =
        paths::normalize_prefix(q.path.as_deref().unwrap_or("/")).map_err(ApiError::bad_request)?;
    let deleted = matches!(q.include_deleted.as_deref(), Some("1" | "true"));
    let files = state.vaults.listing(&vault_id, &prefix, deleted).await?;
    Ok(Json(
        files
            .into_iter()
            .map(|(v, conflicts)| file_json(v, conflicts))
            .collect(),
    ))
}

/// One file's metadata (blocks, parents, conflicts).
#[utoipa::path(get, path = "/vaults/{vault_id}/files/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, body = FileJson), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn meta(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Json<FileJson>> {
    let path = clean(&raw)?;
    let (head, others) = head_and_others(&state, &vault_id, &path).await?;
    Ok(Json(file_json(head, conflicts_of(&others))))
}

/// Upload: the raw body becomes the file's new version (up to 50 GiB,
/// streamed). Answers once the bytes are durable and the catalog committed.
#[utoipa::path(post, path = "/vaults/{vault_id}/upload/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, body = FileJson),
        (status = 400, body = ErrorBody),
        (status = 403, description = "Holdfast is locked", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 507, description = "Hard quota: vault_id, hard_quota, would_be_size", body = ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
    req: Request,
) -> Response {
    match upload_body(state, vault_id, raw, req).await {
        Ok(json) => json.into_response(),
        // A refusal can come before the body is read; the connection then
        // holds unread bytes, so it closes instead of being reused.
        Err(e) => {
            let mut r = e.into_response();
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            r
        }
    }
}

async fn upload_body(
    state: AppState,
    vault_id: String,
    raw: String,
    req: Request,
) -> ApiResult<Json<FileJson>> {
    let path = clean(&raw)?;
    // A known size over the quota is refused before the body is read, with
    // the upload's full would_be_size.
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        state
            .vaults
            .check_upload_fits(&vault_id, &path, len)
            .await?;
    }
    let body = req
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(body);
    let v = state.vaults.upload(&vault_id, &path, reader).await?;
    Ok(updated(&state, v, "upload"))
}

/// Tombstone a file (its history stays).
#[utoipa::path(delete, path = "/vaults/{vault_id}/files/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let path = clean(&raw)?;
    state.vaults.delete_file(&vault_id, &path).await?;
    state
        .events
        .publish("file_deleted", json!({"vault_id": vault_id, "path": path}));
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct MoveRequest {
    /// The new path (normalised like every path; `/` joins segments).
    pub to: String,
    /// Replace a live file at `to` (its content stays in that path's
    /// history). Without it, a live file there answers 409.
    #[serde(default)]
    pub overwrite: bool,
}

/// Move (rename) a file: its content becomes a new version at `to`, reusing
/// the same blocks, and the old path gets a tombstone, in one catalog
/// transaction. Emits `file_deleted` (old path) and `file_updated` (new).
#[utoipa::path(post, path = "/vaults/{vault_id}/move/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)), request_body = MoveRequest,
    responses(
        (status = 200, description = "The file at its new path", body = FileJson),
        (status = 400, body = ErrorBody),
        (status = 403, description = "Read-only or locked vault", body = ErrorBody),
        (status = 404, description = "No such vault or live file", body = ErrorBody),
        (status = 409, description = "A live file is at the target path (without overwrite), or the target clashes with a folder", body = ErrorBody),
    ))]
pub async fn move_file(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
    ApiJson(req): ApiJson<MoveRequest>,
) -> ApiResult<Json<FileJson>> {
    let from = clean(&raw)?;
    let to = clean(&req.to)?;
    let moved = state
        .vaults
        .move_file(&vault_id, &from, &to, req.overwrite)
        .await?;
    state.events.publish(
        "file_deleted",
        json!({"vault_id": vault_id, "path": from, "cause": "move", "moved_to": to}),
    );
    Ok(updated(&state, moved.to, "move"))
}

/// Every version of a file, newest first.
#[utoipa::path(get, path = "/vaults/{vault_id}/history/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, body = Vec<FileJson>), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Json<Vec<FileJson>>> {
    let path = clean(&raw)?;
    let list = state.vaults.history(&vault_id, &path).await?;
    Ok(Json(
        list.into_iter().map(|v| file_json(v, Vec::new())).collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct RestoreRequest {
    pub content_hash: String,
}

/// Make an earlier version current again (as a new version).
#[utoipa::path(post, path = "/vaults/{vault_id}/restore/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)), request_body = RestoreRequest,
    responses((status = 200, body = FileJson), (status = 404, body = ErrorBody), (status = 507, body = ErrorBody)))]
pub async fn restore(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
    ApiJson(req): ApiJson<RestoreRequest>,
) -> ApiResult<Json<FileJson>> {
    let path = clean(&raw)?;
    let v = state
        .vaults
        .restore(&vault_id, &path, &req.content_hash)
        .await?;
    Ok(updated(&state, v, "restore"))
}

/// Download a file as an attachment.
#[utoipa::path(get, path = "/vaults/{vault_id}/download/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Response> {
    let path = clean(&raw)?;
    let v = state.vaults.live(&vault_id, &path).await?;
    send(&state, v, None, true).await
}

/// The same body inline, with `Range` support (for players). Accepts `?token=`.
#[utoipa::path(get, path = "/vaults/{vault_id}/stream/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, description = "The file"), (status = 206, description = "A range"),
              (status = 416, description = "Unsatisfiable range", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let path = clean(&raw)?;
    let v = state.vaults.live(&vault_id, &path).await?;
    send(&state, v, headers.get(header::RANGE), false).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    pub content_hash: String,
}

/// Download a specific historical version.
#[utoipa::path(get, path = "/vaults/{vault_id}/version/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path), VersionQuery),
    responses((status = 200, description = "That version"), (status = 404, body = ErrorBody)))]
pub async fn version(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> ApiResult<Response> {
    let path = clean(&raw)?;
    let v = state
        .vaults
        .version(&vault_id, &path, &q.content_hash)
        .await?;
    send(&state, v, None, true).await
}

async fn send(
    state: &AppState,
    v: FileVersion,
    range: Option<&HeaderValue>,
    attachment: bool,
) -> ApiResult<Response> {
    let size = v.size;
    let (status, start, end) = match parse_range(range, size) {
        None => (StatusCode::OK, 0, size),
        Some(Ok((s, e))) => (StatusCode::PARTIAL_CONTENT, s, e),
        Some(Err(())) => {
            let mut r = ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable")
                .into_response();
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).expect("ascii"),
            );
            return Ok(r);
        }
    };
    if !state.vaults.is_local(&v).await? {
        // Its blocks are elsewhere: bring them from a holder first.
        state.mesh.fetch_missing(&v).await?;
    }
    let plan = state.vaults.read_plan(&v, start, end).await?;
    let body = crate::http::content::plan_body(plan);
    let mut r = Response::new(Body::from_stream(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{}\"", v.content_hash)).expect("hex is ascii"),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {start}-{}/{size}", end - 1)).expect("ascii"),
        );
    }
    if attachment {
        let name = v.path.rsplit('/').next().unwrap_or("file");
        h.insert(header::CONTENT_DISPOSITION, download::attachment(name));
    }
    Ok(r)
}

/// File info: the whole version DAG, heads, and replicas.
#[utoipa::path(get, path = "/vaults/{vault_id}/info/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, description = "{file, heads, versions, replicas}", body = Object),
              (status = 404, body = ErrorBody)))]
pub async fn info(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let path = clean(&raw)?;
    let versions = state.vaults.history(&vault_id, &path).await?;
    let (head, others) = head_and_others(&state, &vault_id, &path).await?;
    let head_ids: Vec<&str> = std::iter::once(&head)
        .chain(&others)
        .map(|h| h.id.as_str())
        .collect();
    let dag: Vec<serde_json::Value> = versions
        .iter()
        .map(|v| {
            json!({
                "version_id": v.id, "content_hash": v.content_hash, "size": v.size,
                "parents": v.parents, "deleted": v.deleted, "created_ms": v.created_ms,
                "origin": v.origin, "head": head_ids.contains(&v.id.as_str()),
            })
        })
        .collect();
    Ok(Json(json!({
        "file": file_json(head, conflicts_of(&others)),
        "versions": dag,
        "replicas": state.mesh.holders(&vault_id).await?,
    })))
}

/// Whether this node holds the whole file, and who does.
#[utoipa::path(get, path = "/vaults/{vault_id}/locality/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, description = "{local, holders}", body = Object), (status = 404, body = ErrorBody)))]
pub async fn locality(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let path = clean(&raw)?;
    let v = state.vaults.live(&vault_id, &path).await?;
    let local = state.vaults.is_local(&v).await?;
    // Nodes whose copy of the vault matches ours hold this version too.
    let holders: Vec<String> = state
        .mesh
        .holders(&vault_id)
        .await?
        .into_iter()
        .filter(|h| {
            if h["self"] == true {
                local
            } else {
                h["in_sync"] == true
            }
        })
        .filter_map(|h| h["node_id"].as_str().map(str::to_owned))
        .collect();
    Ok(Json(json!({"local": local, "holders": holders})))
}

/// Make a file resident here, fetching its missing blocks from the nodes
/// that hold its vault.
#[utoipa::path(post, path = "/vaults/{vault_id}/cache/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)),
    responses((status = 200, description = "{local: true, fetched_blocks}", body = Object),
              (status = 502, description = "No connected node holds the missing blocks", body = ErrorBody),
              (status = 503, description = "Not local and no network connected", body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn cache(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let path = clean(&raw)?;
    let v = state.vaults.live(&vault_id, &path).await?;
    if state.vaults.is_local(&v).await? {
        return Ok(Json(json!({"local": true, "fetched_blocks": 0})));
    }
    let fetched = state.mesh.fetch_missing(&v).await?;
    Ok(Json(json!({"local": true, "fetched_blocks": fetched})))
}

#[derive(Deserialize, ToSchema)]
pub struct ResolveRequest {
    /// The content (hash) that stays at the file's path.
    pub content_hash: String,
    /// Keep the other side too, under a new name next to the original
    /// (`name (conflict from the web 2026-12-06).ext`).
    #[serde(default)]
    pub keep_both: bool,
    /// Keep the other side too, under this path (implies `keep_both`);
    /// 409 if a file lives there.
    pub keep_both_as: Option<String>,
}

/// Pick the surviving version of a conflicted file (two or more heads).
/// With `keep_both` (or `keep_both_as`), the newest other side is also
/// kept as a file of its own (same blocks, no copy of the data), in the
/// same transaction; the answer's `kept_as` names it.
#[utoipa::path(post, path = "/vaults/{vault_id}/resolve-conflict/{*path}", tag = "files", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("path" = String, Path)), request_body = ResolveRequest,
    responses((status = 200, body = FileJson), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "No conflict, or keep_both_as is taken", body = ErrorBody),
              (status = 507, description = "The kept copy does not fit the quota", body = ErrorBody)))]
pub async fn resolve_conflict(
    State(state): State<AppState>,
    Path((vault_id, raw)): Path<(String, String)>,
    ApiJson(req): ApiJson<ResolveRequest>,
) -> ApiResult<Json<FileJson>> {
    let path = clean(&raw)?;
    if !req.keep_both && req.keep_both_as.is_none() {
        let v = state
            .vaults
            .resolve_conflict(&vault_id, &path, &req.content_hash)
            .await?;
        return Ok(updated(&state, v, "resolve_conflict"));
    }
    let copy_path = req.keep_both_as.as_deref().map(clean).transpose()?;
    let (v, copy) = state
        .vaults
        .resolve_keep_both(&vault_id, &path, &req.content_hash, copy_path.as_deref())
        .await?;
    let kept_as = copy.path.clone();
    // Announced like any new head, so folder sync writes it out too.
    drop(updated(&state, copy, "resolve_conflict"));
    let Json(mut answer) = updated(&state, v, "resolve_conflict");
    answer.kept_as = Some(kept_as);
    Ok(Json(answer))
}
