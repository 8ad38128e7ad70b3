//! The audit log: security-relevant events, newest first; the export
//! streams every event oldest first.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use holdfast_core::audit::AuditEvent;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::ApiQuery;
use crate::state::AppState;

/// The most events one `GET /audit` returns.
const MAX_LIMIT: usize = 1000;
/// Events read per catalog query while exporting.
const EXPORT_PAGE: usize = 500;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events at or after this time (ms).
    pub since: Option<i64>,
    /// Comma-separated event types (e.g. `link,sign`).
    pub types: Option<String>,
    /// At most this many (1-1000, default 1000).
    pub limit: Option<usize>,
    /// Only events older than the event with this id: pass the `id` of the
    /// last event of one page to get the next (older) page.
    pub before_id: Option<i64>,
}

/// Audit events, newest first: the most recent `limit` (1000 at most) that
/// match `since` and `types`; page back in time with `before_id`.
#[utoipa::path(get, path = "/audit", tag = "system", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, description = "[{id, ts_ms, type, details}], newest first", body = Vec<Object>),
              (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEvent>>> {
    let limit = q.limit.unwrap_or(MAX_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1-{MAX_LIMIT}"
        )));
    }
    let types: Option<Vec<String>> = q.types.map(|t| {
        t.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    });
    if types.as_ref().is_some_and(|t| t.len() > 64) {
        return Err(ApiError::bad_request("at most 64 types"));
    }
    Ok(Json(
        state
            .audit
            .list(q.since.unwrap_or(0), q.before_id, types, limit)
            .await?,
    ))
}

/// Every audit event as JSON Lines, oldest first, streamed page by page.
/// Accepts `?token=`.
#[utoipa::path(get, path = "/audit/export", tag = "system", security(("bearer" = [])),
    params(("token" = Option<String>, Query, description = "Bearer, for <a download>")),
    responses((status = 200, description = "One JSON object per line", content_type = "application/x-ndjson"),
              (status = 401, body = ErrorBody)))]
pub async fn export(State(state): State<AppState>) -> impl IntoResponse {
    let audit = state.audit.clone();
    // Pages are read as the client takes them; a failure mid-way ends the
    // stream with an error, so the download is visibly incomplete.
    let pages = futures_util::stream::try_unfold(Some(0i64), move |after| {
        let audit = audit.clone();
        async move {
            let Some(after) = after else {
                return Ok(None);
            };
            let page = audit
                .page(after, EXPORT_PAGE)
                .await
                .map_err(std::io::Error::other)?;
            let mut chunk = String::new();
            for event in &page {
                chunk.push_str(&serde_json::to_string(event).map_err(std::io::Error::other)?);
                chunk.push('\n');
            }
            let next = (page.len() == EXPORT_PAGE).then(|| page.last().map_or(after, |e| e.id));
            if page.is_empty() {
                return Ok(None);
            }
            Ok::<_, std::io::Error>(Some((Bytes::from(chunk), next)))
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"holdfast-audit.jsonl\"",
            ),
        ],
        Body::from_stream(pages),
    )
}
