//! The "what is this daemon" routes: version, identity, health, metrics, and
//! the OpenAPI document itself.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use holdfast_core::identity::LockState;
use holdfast_core::metrics::{MINUTE_MS, Sample};
use holdfast_core::time::now_ms;

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::ApiQuery;
use crate::api::openapi::Document;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct VersionResponse {
    pub version: String,
}

#[derive(Serialize, ToSchema)]
pub struct WhoamiResponse {
    /// This device's libp2p PeerId.
    pub node_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct StatusResponse {
    pub running: bool,
    pub version: String,
    /// Whether a network (a swarm key) is saved.
    pub has_swarm_key: bool,
    /// True until a network is created, joined or set up.
    pub setup_required: bool,
    pub peer_id: String,
    /// libp2p listen addresses; empty while offline.
    pub listen_addrs: Vec<String>,
    pub s3_enabled: bool,
    pub tls: TlsStatus,
    pub at_rest: AtRestStatus,
    pub network: NetworkStatus,
    /// Whether a web UI password exists (else login answers 503).
    pub password_set: bool,
    pub uptime_ms: i64,
    /// Where the IPC API for local apps listens (27777, or a fallback port).
    pub ipc_addr: Option<String>,
    /// `uninitialized`, `locked` or `unlocked`.
    pub identity: String,
    /// Requests waiting for the user's answer.
    pub pending_approvals: usize,
    /// Mesh members connected now.
    pub peers: usize,
}

#[derive(Serialize, ToSchema)]
pub struct TlsStatus {
    pub enabled: bool,
    /// SHA-256 of the certificate (colon-separated hex), for pinning.
    pub fingerprint: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AtRestStatus {
    pub enabled: bool,
    pub provider: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NetworkStatus {
    /// `none` (no network saved), `offline`, `connecting` or `connected`.
    pub state: String,
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// Earliest minute to include (ms since epoch).
    pub from: Option<i64>,
    /// Latest minute to include (ms since epoch).
    pub to: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct MetricsResponse {
    pub interval_ms: i64,
    /// Oldest first; the last one is the minute still in progress.
    pub samples: Vec<MetricSample>,
}

#[derive(Serialize, ToSchema)]
pub struct MetricSample {
    /// Start of the minute.
    pub ts_ms: i64,
    pub requests: u64,
    pub errors: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Percent of one core.
    pub cpu_percent: f32,
    pub rss_bytes: u64,
}

impl From<Sample> for MetricSample {
    fn from(s: Sample) -> Self {
        Self {
            ts_ms: s.minute_ms,
            requests: s.requests,
            errors: s.errors,
            bytes_in: s.bytes_in,
            bytes_out: s.bytes_out,
            cpu_percent: s.cpu_percent,
            rss_bytes: s.rss_bytes,
        }
    }
}

/// The daemon's version. No bearer needed.
#[utoipa::path(get, path = "/version", tag = "system",
    responses((status = 200, body = VersionResponse)))]
pub async fn version() -> Json<VersionResponse> {
    Json(VersionResponse {
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// This node's PeerId.
#[utoipa::path(get, path = "/whoami", tag = "system", security(("bearer" = [])),
    responses((status = 200, body = WhoamiResponse), (status = 401, body = ErrorBody)))]
pub async fn whoami(State(state): State<AppState>) -> Json<WhoamiResponse> {
    Json(WhoamiResponse {
        node_id: state.node.peer_id.to_string(),
    })
}

/// Health snapshot. No bearer needed, so launchers can probe before login.
#[utoipa::path(get, path = "/system/status", tag = "system",
    responses((status = 200, body = StatusResponse)))]
pub async fn status(State(state): State<AppState>) -> ApiResult<Json<StatusResponse>> {
    Ok(Json(status_snapshot(&state).await?))
}

/// What `/system/status` answers (diagnostics reports include it too).
pub async fn status_snapshot(state: &AppState) -> ApiResult<StatusResponse> {
    let node = &state.node;
    let mesh = state.mesh.state_label().await?;
    let has_key = mesh.state != "none";
    Ok(StatusResponse {
        running: true,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        has_swarm_key: has_key,
        setup_required: !has_key,
        peer_id: node.peer_id.to_string(),
        listen_addrs: mesh.listen_addrs.clone(),
        s3_enabled: state.s3.gateway.addr().is_some(),
        tls: TlsStatus {
            enabled: node.tls_fingerprint.is_some(),
            fingerprint: node.tls_fingerprint.clone(),
        },
        at_rest: AtRestStatus {
            enabled: false,
            provider: None,
        },
        network: NetworkStatus {
            state: mesh.state,
            id: mesh.id,
            name: mesh.name,
        },
        peers: mesh.peers,
        password_set: state.auth.password_is_set().await?,
        uptime_ms: now_ms() - node.started_at_ms,
        ipc_addr: node.ipc_addr.get().map(|a| a.to_string()),
        identity: match state.identity.state() {
            LockState::Uninitialized => "uninitialized",
            LockState::Locked => "locked",
            LockState::Unlocked => "unlocked",
        }
        .into(),
        pending_approvals: state.approvals.list().len(),
    })
}

/// Per-minute metrics for the last 24 h, optionally narrowed to `[from, to]`.
#[utoipa::path(get, path = "/system/metrics", tag = "system", security(("bearer" = [])),
    params(MetricsQuery),
    responses(
        (status = 200, body = MetricsResponse),
        (status = 400, description = "from after to, or not numbers", body = ErrorBody),
        (status = 401, body = ErrorBody),
    ))]
pub async fn metrics(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MetricsQuery>,
) -> ApiResult<Json<MetricsResponse>> {
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from > to
    {
        return Err(ApiError::bad_request("`from` is after `to`"));
    }
    let samples = state.metrics.samples(q.from, q.to);
    Ok(Json(MetricsResponse {
        interval_ms: MINUTE_MS,
        samples: samples.into_iter().map(Into::into).collect(),
    }))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "system",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json(Extension(doc): Extension<Arc<Document>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.json.clone(),
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BrowseQuery {
    /// Absolute directory to list; the user's home directory when omitted.
    pub path: Option<String>,
    /// `1` to include hidden (dot) entries.
    pub hidden: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BrowseResponse {
    pub path: String,
    pub parent: Option<String>,
    /// Sub-directories, sorted by name (at most 1000).
    pub directories: Vec<String>,
    pub truncated: bool,
}

/// Server-side folder picker for folder-backed vaults: lists the
/// sub-directories of a directory on this machine (names only; never file
/// contents).
#[utoipa::path(get, path = "/system/browse", tag = "system", security(("bearer" = [])),
    params(BrowseQuery),
    responses((status = 200, body = BrowseResponse), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn browse(ApiQuery(q): ApiQuery<BrowseQuery>) -> ApiResult<Json<BrowseResponse>> {
    const MAX_ENTRIES: usize = 1000;
    let dir = match q.path.as_deref() {
        Some(p) => std::path::PathBuf::from(p),
        None => directories::BaseDirs::new()
            .map(|b| b.home_dir().to_owned())
            .ok_or_else(|| ApiError::not_found("no home directory; pass ?path="))?,
    };
    if !dir.is_absolute() || dir.as_os_str().len() > 4096 || dir.to_string_lossy().contains('\0') {
        return Err(ApiError::bad_request(
            "path must be an absolute directory path",
        ));
    }
    let show_hidden = matches!(q.hidden.as_deref(), Some("1" | "true"));
    let listing = tokio::task::spawn_blocking(move || -> Result<BrowseResponse, ApiError> {
        let dir = dir
            .canonicalize()
            .map_err(|_| ApiError::not_found("no such directory"))?;
        let entries = std::fs::read_dir(&dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ApiError::not_found("no such directory"),
            std::io::ErrorKind::PermissionDenied => ApiError::forbidden("permission denied"),
            _ => ApiError::bad_request(format!("cannot list: {e}")),
        })?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| show_hidden || !n.starts_with('.'))
            .collect();
        names.sort();
        let truncated = names.len() > MAX_ENTRIES;
        names.truncate(MAX_ENTRIES);
        Ok(BrowseResponse {
            parent: dir.parent().map(|p| p.to_string_lossy().into_owned()),
            path: dir.to_string_lossy().into_owned(),
            directories: names,
            truncated,
        })
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(listing))
}
