//! The audit log: security-relevant events, newest last.

use axum::Json;
use axum::extract::State;
use holdfast_core::audit::AuditEvent;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::ApiQuery;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events at or after this time (ms).
    pub since: Option<i64>,
    /// Comma-separated event types (e.g. `link,sign`).
    pub types: Option<String>,
}

/// Audit events, oldest first (at most 1000).
#[utoipa::path(get, path = "/audit", tag = "system", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, description = "[{id, ts_ms, type, details}]", body = Vec<Object>),
              (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEvent>>> {
    let types = q.types.map(|t| {
        t.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    });
    Ok(Json(
        state.audit.list(q.since.unwrap_or(0), types, 1000).await?,
    ))
}

/// Every audit event as JSON Lines, for archival. Accepts `?token=`.
#[utoipa::path(get, path = "/audit/export", tag = "system", security(("bearer" = [])),
    params(("token" = Option<String>, Query, description = "Bearer, for <a download>")),
    responses((status = 200, description = "One JSON object per line", content_type = "application/x-ndjson"),
              (status = 401, body = ErrorBody)))]
pub async fn export(State(state): State<AppState>) -> ApiResult<impl axum::response::IntoResponse> {
    use axum::http::header;
    let mut body = String::new();
    for event in state.audit.all().await? {
        body.push_str(
            &serde_json::to_string(&event).map_err(crate::api::error::ApiError::internal)?,
        );
        body.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"holdfast-audit.jsonl\"",
            ),
        ],
        body,
    ))
}
