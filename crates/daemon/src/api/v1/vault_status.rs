//! Vault views beyond CRUD: info (with replicas and replication state),
//! analytics, scan status, the S3 alias, and the mesh routes (share URL,
//! join, replicate-now), which answer 503 "limited mode" while no network
//! is connected.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use holdfast_core::folders::ScanReport;
use holdfast_core::vaults::Analytics;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::ApiJson;
use crate::state::AppState;

/// Vault details with effective settings and replica health.
#[utoipa::path(get, path = "/vaults/{vault_id}/info", tag = "vaults", security(("bearer" = [])),
    params(("vault_id" = String, Path)),
    responses((status = 200, description = "Vault info", body = Object), (status = 404, body = ErrorBody)))]
pub async fn info(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let v = state.vaults.get(&id).await?;
    let alias = state.vaults.s3_alias(&id).await?;
    let replicas = state.mesh.holders(&id).await?;
    let holders = replicas.len().max(1) as u32;
    let in_sync = replicas.iter().filter(|r| r["in_sync"] == true).count() as u32;
    Ok(Json(json!({
        "id": v.id,
        "name": v.name,
        "trusted": true,
        "rf_target": v.rf_target,
        "rf_actual": holders,
        "rf_in_sync": in_sync.max(1),
        "replica_health": if holders >= v.rf_target { "ok" } else { "under_replicated" },
        "replicas": replicas,
        "replication": state.mesh.replication_status(&id),
        "conflict_count": v.conflict_count,
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

#[derive(Serialize, ToSchema)]
pub struct ShareUrl {
    /// `holdfast://vault/v1/…`: it carries the vault key; whoever holds it
    /// can read the vault. Share it only with your own devices.
    pub url: String,
}

/// Mint a share URL for the vault (its key and this node's addresses).
#[utoipa::path(get, path = "/vaults/{vault_id}/share-url", tag = "vaults", security(("bearer" = [])),
    params(("vault_id" = String, Path)),
    responses((status = 200, body = ShareUrl),
              (status = 403, description = "Locked", body = ErrorBody),
              (status = 503, description = "Limited mode: no network connected", body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn share_url(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<ShareUrl>)> {
    state.vaults.get(&id).await?;
    let url = state.mesh.vault_share_url(&id).await?;
    state
        .audit
        .record("vault_shared", json!({"vault_id": id}))
        .await;
    let mut h = HeaderMap::new();
    h.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok((h, Json(ShareUrl { url })))
}

#[derive(Deserialize, ToSchema)]
pub struct JoinBody {
    /// A `holdfast://vault/v1/…` share URL.
    pub url: String,
}

/// Adopt a vault from its share URL; replication then fills it.
#[utoipa::path(post, path = "/vaults/join", tag = "vaults", security(("bearer" = [])), request_body = JoinBody,
    responses((status = 201, body = crate::api::v1::vaults::VaultJson),
              (status = 400, description = "Not a valid share URL", body = ErrorBody),
              (status = 403, description = "Locked", body = ErrorBody),
              (status = 409, description = "The vault lives on another network", body = ErrorBody),
              (status = 503, description = "Limited mode: no network connected", body = ErrorBody)))]
pub async fn join(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<JoinBody>,
) -> ApiResult<(StatusCode, Json<crate::api::v1::vaults::VaultJson>)> {
    let v = state.mesh.join_vault(&req.url).await?;
    state
        .audit
        .record("vault_joined", json!({"vault_id": v.id}))
        .await;
    Ok((
        StatusCode::CREATED,
        Json(crate::api::v1::vaults::json_of(v, &state)),
    ))
}

/// Kick a replication cycle now. Returns at once.
#[utoipa::path(post, path = "/replicate-now", tag = "vaults", security(("bearer" = [])),
    responses((status = 202, description = "{started: true}", body = Object),
              (status = 503, description = "Limited mode: no network connected", body = ErrorBody)))]
pub async fn replicate_now(State(state): State<AppState>) -> ApiResult<(StatusCode, Json<Value>)> {
    state.mesh.replicate_now()?;
    Ok((StatusCode::ACCEPTED, Json(json!({"started": true}))))
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
