//! `/backup*`: each app's encrypted backups. They work while the vault is
//! locked, once it has been unlocked in this session (the backup keys stay in
//! memory). An app touches only its own backups; the spec's `/backup/list`
//! without a caller lists every app's backups, metadata only.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use holdfast_core::backups::{BackupMeta, NewBackup, canonical::Summary};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::error::{IpcError, IpcErrorBody, IpcResult};
use super::extract::{IpcJson, IpcQuery, app_auth, bounded, identify};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct BackupRequest {
    pub client_id: Option<String>,
    pub app_name: String,
    /// Defaults to application/json.
    pub content_type: Option<String>,
    /// Any JSON; the canonical v1 shape gets per-entry-type summaries.
    pub data: Value,
    /// Overwrite this named backup instead of adding a rotating snapshot.
    pub label: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BackupResponse {
    pub success: bool,
    pub label: String,
    pub data_size: u64,
    /// Unix seconds.
    pub created_at: i64,
}

/// Store a backup (10 rotating snapshots; labeled backups overwrite).
#[utoipa::path(post, path = "/backup", tag = "ipc", request_body = BackupRequest,
    responses(
        (status = 200, body = BackupResponse),
        (status = 401, description = "missing_app_token, invalid_app_token", body = IpcErrorBody),
        (status = 403, description = "vault_locked (never unlocked this session)", body = IpcErrorBody),
        (status = 413, description = "payload_too_large (10 MiB per backup)", body = IpcErrorBody),
        (status = 507, description = "quota_exceeded (50 MiB per app)", body = IpcErrorBody),
    ))]
pub async fn backup(
    State(state): State<AppState>,
    headers: HeaderMap,
    IpcJson(req): IpcJson<BackupRequest>,
) -> IpcResult<Json<BackupResponse>> {
    let auth = app_auth(&state, &headers, req.client_id.as_deref()).await?;
    let client_id = auth.client_id();
    holdfast_core::apps::validate_name(&req.app_name)?;
    let content_type = bounded(
        "content_type",
        req.content_type.as_deref().unwrap_or("application/json"),
        100,
    )?;
    let key = state.identity.backup_key(client_id)?;
    let meta = state
        .backups
        .put(
            &key,
            NewBackup {
                client_id,
                app_name: &req.app_name,
                content_type,
                label: req.label.as_deref(),
                data: &req.data,
            },
        )
        .await?;
    state
        .audit
        .record(
            "backup",
            json!({"client_id": client_id, "label": meta.label, "data_size": meta.data_size}),
        )
        .await;
    Ok(Json(BackupResponse {
        success: true,
        label: meta.label,
        data_size: meta.data_size,
        created_at: meta.created_ms / 1000,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Optional (not in the spec): list only this app's backups.
    pub client_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BackupList {
    pub app_count: usize,
    pub total_backups: usize,
    pub total_size: u64,
    pub apps: Vec<AppBackups>,
}

#[derive(Serialize, ToSchema)]
pub struct AppBackups {
    pub client_id: String,
    pub app_name: String,
    pub backup_count: usize,
    pub total_size: u64,
    /// Unix seconds.
    pub last_backup_at: i64,
    /// Counts of the newest backup when it has the canonical v1 shape.
    pub latest_summary: Option<SummaryJson>,
    pub backups: Vec<BackupEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct SummaryJson {
    pub counts_by_entry_type: BTreeMap<String, u64>,
    pub total_records: u64,
}

impl From<Summary> for SummaryJson {
    fn from(s: Summary) -> Self {
        Self {
            counts_by_entry_type: s.counts_by_entry_type,
            total_records: s.total_records,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BackupEntry {
    pub label: String,
    pub labeled: bool,
    pub content_type: String,
    pub data_size: u64,
    pub created_at: i64,
}

/// Group backup rows (newest first) by app.
pub fn group(metas: Vec<BackupMeta>) -> BackupList {
    let mut apps: Vec<AppBackups> = Vec::new();
    for m in metas {
        let entry = BackupEntry {
            label: m.label.clone(),
            labeled: m.labeled,
            content_type: m.content_type.clone(),
            data_size: m.data_size,
            created_at: m.created_ms / 1000,
        };
        match apps.iter_mut().find(|a| a.client_id == m.client_id) {
            Some(a) => {
                a.backup_count += 1;
                a.total_size += m.data_size;
                a.backups.push(entry);
            }
            None => apps.push(AppBackups {
                client_id: m.client_id,
                app_name: m.app_name,
                backup_count: 1,
                total_size: m.data_size,
                last_backup_at: m.created_ms / 1000,
                latest_summary: m.summary.map(Into::into),
                backups: vec![entry],
            }),
        }
    }
    BackupList {
        app_count: apps.len(),
        total_backups: apps.iter().map(|a| a.backup_count).sum(),
        total_size: apps.iter().map(|a| a.total_size).sum(),
        apps,
    }
}

/// Backups, newest first, metadata only: every app's as the spec lists
/// them, or only the caller's when it names itself (app token or client_id).
#[utoipa::path(get, path = "/backup/list", tag = "ipc", params(ListQuery),
    responses((status = 200, body = BackupList), (status = 400, body = IpcErrorBody),
        (status = 401, body = IpcErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    IpcQuery(q): IpcQuery<ListQuery>,
) -> IpcResult<Json<BackupList>> {
    let auth = identify(&state, &headers, q.client_id.as_deref()).await?;
    Ok(Json(group(
        state
            .backups
            .list(auth.as_ref().map(|a| a.client_id()))
            .await?,
    )))
}

#[derive(Deserialize, ToSchema)]
pub struct LabelRequest {
    pub client_id: Option<String>,
    /// Omit (or "latest") for the newest.
    pub label: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RetrieveResponse {
    pub success: bool,
    pub label: String,
    pub content_type: String,
    pub data_size: u64,
    pub created_at: i64,
    /// What the app stored: any JSON (usually an object).
    pub data: Value,
}

/// Fetch one backup, decrypted.
#[utoipa::path(post, path = "/backup/retrieve", tag = "ipc", request_body = LabelRequest,
    responses(
        (status = 200, body = RetrieveResponse),
        (status = 404, description = "not_found", body = IpcErrorBody),
        (status = 403, description = "vault_locked", body = IpcErrorBody),
    ))]
pub async fn retrieve(
    State(state): State<AppState>,
    headers: HeaderMap,
    IpcJson(req): IpcJson<LabelRequest>,
) -> IpcResult<Json<RetrieveResponse>> {
    let auth = app_auth(&state, &headers, req.client_id.as_deref()).await?;
    let key = state.identity.backup_key(auth.client_id())?;
    let (meta, data) = state
        .backups
        .get(&key, auth.client_id(), req.label.as_deref())
        .await?;
    Ok(Json(RetrieveResponse {
        success: true,
        label: meta.label,
        content_type: meta.content_type,
        data_size: meta.data_size,
        created_at: meta.created_ms / 1000,
        data,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct DeleteResponse {
    pub success: bool,
    pub label: String,
}

/// Delete one backup ("latest" for the newest).
#[utoipa::path(post, path = "/backup/delete", tag = "ipc", request_body = LabelRequest,
    responses((status = 200, body = DeleteResponse), (status = 404, body = IpcErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    IpcJson(req): IpcJson<LabelRequest>,
) -> IpcResult<Json<DeleteResponse>> {
    let auth = app_auth(&state, &headers, req.client_id.as_deref()).await?;
    let label = req
        .label
        .as_deref()
        .ok_or_else(|| IpcError::invalid("label is required (use \"latest\" for the newest)"))?;
    let label = state.backups.delete(auth.client_id(), Some(label)).await?;
    state
        .audit
        .record(
            "backup_deleted",
            json!({"client_id": auth.client_id(), "label": label}),
        )
        .await;
    Ok(Json(DeleteResponse {
        success: true,
        label,
    }))
}
