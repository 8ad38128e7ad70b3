//! "Report a problem": build, list, download and delete redacted diagnostics
//! bundles. The core (`holdfast_core::diagnostics`) owns the reports and the
//! redaction; this module supplies what only the daemon sees (status,
//! metrics, vaults, the admin token to scrub) and speaks HTTP.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use holdfast_core::diagnostics::{ReportInput, ReportMeta};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::system::status_snapshot;
use super::vaults::json_of;
use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ReportJson {
    /// 32 hex characters.
    pub id: String,
    pub created_ms: i64,
    pub size_bytes: u64,
    /// The name a download is saved under.
    pub file_name: String,
}

impl From<ReportMeta> for ReportJson {
    fn from(m: ReportMeta) -> Self {
        Self {
            id: m.id,
            created_ms: m.created_ms,
            size_bytes: m.size_bytes,
            file_name: m.file_name,
        }
    }
}

/// Build a redacted report: the loaded config, the last two days of logs
/// (newest 8 MiB), and a system snapshot. The 20 newest reports are kept.
#[utoipa::path(post, path = "/diagnostics/reports", tag = "system", security(("bearer" = [])),
    responses((status = 201, body = ReportJson), (status = 401, body = ErrorBody),
              (status = 503, description = "No writable reports directory", body = ErrorBody)))]
pub async fn create(State(state): State<AppState>) -> ApiResult<(StatusCode, Json<ReportJson>)> {
    let input = report_input(&state).await?;
    let meta = state.diagnostics.create(input).await?;
    state
        .audit
        .record("diagnostics_created", json!({ "id": meta.id }))
        .await;
    Ok((StatusCode::CREATED, Json(meta.into())))
}

/// Saved reports, newest first.
#[utoipa::path(get, path = "/diagnostics/reports", tag = "system", security(("bearer" = [])),
    responses((status = 200, body = Vec<ReportJson>), (status = 401, body = ErrorBody),
              (status = 503, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<ReportJson>>> {
    let reports = state.diagnostics.list().await?;
    Ok(Json(reports.into_iter().map(Into::into).collect()))
}

/// Download a report (`application/zip`). Accepts `?token=`.
#[utoipa::path(get, path = "/diagnostics/reports/{id}", tag = "system", security(("bearer" = [])),
    params(("id" = String, Path, description = "Report id"),
           ("token" = Option<String>, Query, description = "Bearer, for <a download>")),
    responses((status = 200, description = "The report", content_type = "application/zip"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (meta, path) = state.diagnostics.open(&id).await?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ApiError::not_found("no such report"),
            _ => ApiError::internal(e),
        })?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", meta.file_name),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

/// Remove a report from disk.
#[utoipa::path(delete, path = "/diagnostics/reports/{id}", tag = "system", security(("bearer" = [])),
    params(("id" = String, Path, description = "Report id")),
    responses((status = 204, description = "Removed"), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 503, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.diagnostics.delete(&id).await?;
    state
        .audit
        .record("diagnostics_deleted", json!({ "id": id }))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The daemon's side of a report: status, a metrics summary, the vaults
/// (names and counts, no keys), the secrets it holds in clear and the
/// identifiers that may stay.
async fn report_input(state: &AppState) -> ApiResult<ReportInput> {
    let status = status_snapshot(state).await?;
    let vaults: Vec<Value> = state
        .vaults
        .list()
        .await?
        .into_iter()
        .map(|v| serde_json::to_value(json_of(v, state)).unwrap_or(Value::Null))
        .collect();
    let public_ids = vaults
        .iter()
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .chain([state.node.peer_id.to_string()])
        .collect();
    let system = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "status": status,
        "metrics": metrics_summary(state),
        "vaults": vaults,
        "pending_approvals": state.approvals.list().len(),
    });
    Ok(ReportInput {
        system,
        known_secrets: vec![state.auth.admin_token().to_owned()],
        public_ids,
    })
}

/// Totals over the metrics ring (24 h) and the latest sample.
fn metrics_summary(state: &AppState) -> Value {
    let samples = state.metrics.samples(None, None);
    let sum = |f: fn(&holdfast_core::metrics::Sample) -> u64| samples.iter().map(f).sum::<u64>();
    json!({
        "minutes": samples.len(),
        "requests": sum(|s| s.requests),
        "errors": sum(|s| s.errors),
        "bytes_in": sum(|s| s.bytes_in),
        "bytes_out": sum(|s| s.bytes_out),
        "peak_rss_bytes": samples.iter().map(|s| s.rss_bytes).max(),
        "latest": samples.last(),
    })
}
