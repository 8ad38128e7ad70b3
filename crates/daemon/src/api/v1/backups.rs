//! The user's data export: every app's latest backup, decrypted, with
//! canonical v1 records inlined in their human-readable form.

use axum::Json;
use axum::extract::State;
use holdfast_core::backups::canonical;
use serde_json::{Value, json};

use crate::api::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// Download everything apps have backed up (latest backup per app).
#[utoipa::path(get, path = "/backups/export", tag = "backups", security(("bearer" = [])),
    responses(
        (status = 200, description = "{exported_at_ms, apps:[{client_id, app_name, label, created_ms, \
            content_type, canonical, summary, data}]}", body = Object),
        (status = 403, description = "Not unlocked since start", body = ErrorBody),
    ))]
pub async fn export(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let mut apps = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for meta in state.backups.list(None).await? {
        if !seen.insert(meta.client_id.clone()) {
            continue; // newest first: only the latest per app
        }
        let key = state.identity.backup_key(&meta.client_id)?;
        let (meta, data) = state
            .backups
            .get(&key, &meta.client_id, Some(&meta.label))
            .await?;
        let summary = canonical::summarize(&data);
        apps.push(json!({
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
            "data": canonical::readable_export(&data),
        }));
    }
    state
        .audit
        .record("export", json!({"apps": apps.len()}))
        .await;
    Ok(Json(json!({
        "exported_at_ms": holdfast_core::time::now_ms(),
        "apps": apps,
    })))
}
