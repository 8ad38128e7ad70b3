//! The user's data export: every app's latest backup, decrypted, with
//! canonical v1 records inlined in their human-readable form.

use axum::Json;
use axum::extract::State;
use holdfast_core::backups::canonical;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::ApiQuery;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `true`: what there is (apps, labels, record counts) without the
    /// backed-up data itself, for showing the page. Not an export, so not
    /// recorded in the audit log.
    pub summary: Option<bool>,
    /// Only this app's latest backup.
    pub client_id: Option<String>,
}

/// Download everything apps have backed up (latest backup per app). Each
/// download is recorded in the audit log as `export`; `summary=true` leaves
/// out the data and is not recorded.
#[utoipa::path(get, path = "/backups/export", tag = "backups", security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "{exported_at_ms, apps:[{client_id, app_name, label, created_ms, \
            content_type, canonical, summary, data}]} (no data with summary=true)", body = Object),
        (status = 400, body = ErrorBody),
        (status = 403, description = "Not unlocked since start", body = ErrorBody),
    ))]
pub async fn export(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Json<Value>> {
    let summary_only = q.summary.unwrap_or(false);
    if let Some(id) = &q.client_id {
        holdfast_core::apps::validate_client_id(id)
            .map_err(|e| crate::api::error::ApiError::bad_request(e.to_string()))?;
    }
    let mut apps = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for meta in state.backups.list(None).await? {
        if q.client_id.as_ref().is_some_and(|id| *id != meta.client_id) {
            continue;
        }
        if !seen.insert(meta.client_id.clone()) {
            continue; // newest first: only the latest per app
        }
        let key = state.identity.backup_key(&meta.client_id)?;
        let (meta, data) = state
            .backups
            .get(&key, &meta.client_id, Some(&meta.label))
            .await?;
        let summary = canonical::summarize(&data);
        let mut entry = json!({
            "client_id": meta.client_id,
            "app_name": meta.app_name,
            "label": meta.label,
            "created_ms": meta.created_ms,
            "content_type": meta.content_type,
            "canonical": summary.is_some(),
            "summary": summary.as_ref().map(|s| json!({
                "counts_by_entry_type": s.counts_by_entry_type,
                "total_records": s.total_records,
                "text": canonical::describe(s),
            })),
        });
        if !summary_only {
            entry["data"] = canonical::readable_export(&data);
        }
        apps.push(entry);
    }
    if !summary_only {
        state
            .audit
            .record(
                "export",
                json!({"apps": apps.len(), "client_id": q.client_id}),
            )
            .await;
    }
    Ok(Json(json!({
        "exported_at_ms": holdfast_core::time::now_ms(),
        "apps": apps,
    })))
}
