//! Vault views beyond CRUD: info, analytics, scan status, the S3 alias, and
//! the mesh-dependent routes (share URL, join, replicate-now), which answer
//! 503 "limited mode" until the mesh exists: never a fake success.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use holdfast_core::folders::ScanReport;
use holdfast_core::vaults::Analytics;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::ApiJson;
use crate::state::AppState;

fn limited_mode() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "limited mode: this node has no mesh yet (no swarm key), so it cannot share or replicate",
    )
}

/// Vault details with effective settings and replica health.
#[utoipa::path(get, path = "/vaults/{vault_id}/info", tag = "vaults", security(("bearer" = [])),
    params(("vault_id" = String, Path)),
    responses((status = 200, description = "Vault info", body = Object), (status = 404, body = ErrorBody)))]
pub async fn info(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let v = state.vaults.get(&id).await?;
    let alias = state.vaults.s3_alias(&id).await?;
    let holders = 1u32;
    Ok(Json(json!({
        "id": v.id,
        "name": v.name,
        "trusted": true,
        "rf_target": v.rf_target,
        "rf_actual": holders,
        "replica_health": if holders >= v.rf_target { "ok" } else { "under_replicated" },
        "replicas": [{"node_id": state.node.peer_id.to_string(), "self": true}],
        "hard_quota": v.hard_quota,
        "byte_count": v.byte_count,
        "file_count": v.file_count,
        "s3_alias": alias,
        "folder": v.folder,
        "read_only": v.read_only,
        "pinned": v.pinned,
        "password_protected": v.password_protected,
        "retention_days": v.retention_days,
        "created_ms": v.created_ms,
    })))
}

/// Top types, top consumers, growth history.
#[utoipa::path(get, path = "/vaults/{vault_id}/analytics", tag = "vaults", security(("bearer" = [])),
    params(("vault_id" = String, Path)),
    responses((status = 200, description = "{top_types, top_consumers, history}", body = Object),
              (status = 404, body = ErrorBody)))]
pub async fn analytics(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Analytics>> {
    Ok(Json(state.vaults.analytics(&id).await?))
}

/// Folder-scanner progress. Vaults without a folder never scan.
#[utoipa::path(get, path = "/vaults/{vault_id}/scan-status", tag = "vaults", security(("bearer" = [])),
    params(("vault_id" = String, Path)),
    responses((status = 200, description = "{active, walked, ingested, errors, folder, watching, paused, …}", body = Object),
              (status = 404, body = ErrorBody)))]
pub async fn scan_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ScanReport>> {
    let v = state.vaults.get(&id).await?;
    Ok(Json(state.folders.status(&v).await))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct AliasBody {
    /// An S3 bucket name, or null to clear.
    pub alias: Option<String>,
}

/// Set the bucket name the S3 gateway will serve this vault under.
#[utoipa::path(put, path = "/vaults/{vault_id}/s3-alias", tag = "vaults", security(("bearer" = [])),
    params(("vault_id" = String, Path)), request_body = AliasBody,
    responses((status = 200, body = AliasBody), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "Alias taken", body = ErrorBody)))]
pub async fn set_s3_alias(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AliasBody>,
) -> ApiResult<Json<AliasBody>> {
    state.vaults.set_s3_alias(&id, req.alias.as_deref()).await?;
    Ok(Json(req))
}

/// Mint a share URL (needs the mesh: 503 until it exists).
#[utoipa::path(get, path = "/vaults/{vault_id}/share-url", tag = "vaults", security(("bearer" = [])),
    params(("vault_id" = String, Path)),
    responses((status = 503, description = "Limited mode", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn share_url(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state.vaults.get(&id).await?;
    Err(limited_mode())
}

/// Adopt a shared vault (needs the mesh: 503 until it exists).
#[utoipa::path(post, path = "/vaults/join", tag = "vaults", security(("bearer" = [])),
    responses((status = 503, description = "Limited mode", body = ErrorBody)))]
pub async fn join() -> ApiResult<Json<Value>> {
    Err(limited_mode())
}

/// Kick a replication cycle (needs the mesh: 503 until it exists).
#[utoipa::path(post, path = "/replicate-now", tag = "vaults", security(("bearer" = [])),
    responses((status = 503, description = "Limited mode", body = ErrorBody)))]
pub async fn replicate_now() -> ApiResult<Json<Value>> {
    Err(limited_mode())
}

/// Run garbage collection now (it also runs every six hours): drop versions
/// past their vault's retention window and free unreferenced blocks.
#[utoipa::path(post, path = "/system/gc", tag = "vaults", security(("bearer" = [])),
    responses((status = 200, description = "{versions_pruned, files_purged, blocks_freed, bytes_freed}", body = Object)))]
pub async fn gc(State(state): State<AppState>) -> ApiResult<Json<holdfast_core::vaults::GcReport>> {
    let report = state.vaults.collect_garbage().await?;
    state
        .audit
        .record("gc", serde_json::to_value(&report).unwrap_or_default())
        .await;
    Ok(Json(report))
}
