//! Vault routes: create, list, get, change and untrust trusted vaults.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use holdfast_core::vaults::Vault;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::ApiJson;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct VaultJson {
    pub id: String,
    pub name: String,
    /// Trusted vaults hold their key here.
    pub trusted: bool,
    /// `available` while unlocked, `locked` while Holdfast is locked.
    pub key_state: String,
    pub rf_target: u32,
    pub hard_quota: Option<u64>,
    /// Days old versions and tombstones stay restorable before GC.
    pub retention_days: u32,
    pub byte_count: u64,
    pub file_count: u64,
    /// Peers holding this vault; 0 on a single node.
    pub peer_count: u32,
    pub created_ms: i64,
}

fn json_of(v: Vault, state: &AppState) -> VaultJson {
    let unlocked = state.identity.state() == holdfast_core::identity::LockState::Unlocked;
    VaultJson {
        id: v.id,
        name: v.name,
        trusted: true,
        key_state: if unlocked { "available" } else { "locked" }.into(),
        rf_target: v.rf_target,
        hard_quota: v.hard_quota,
        retention_days: v.retention_days,
        byte_count: v.byte_count,
        file_count: v.file_count,
        peer_count: 0,
        created_ms: v.created_ms,
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewVault {
    pub name: String,
    /// Bytes; uploads past it answer 507.
    pub hard_quota: Option<u64>,
    /// Replication-factor target (1-16).
    pub rf_target: Option<u32>,
}

#[derive(Deserialize, ToSchema)]
pub struct VaultPatch {
    pub name: Option<String>,
    /// Bytes; `null` removes the quota.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u64>)]
    pub hard_quota: Option<Option<u64>>,
    pub rf_target: Option<u32>,
    /// Days old versions and tombstones stay restorable (0-3650).
    pub retention_days: Option<u32>,
}

/// Every vault on this node.
#[utoipa::path(get, path = "/vaults", tag = "vaults", security(("bearer" = [])),
    responses((status = 200, body = Vec<VaultJson>)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<VaultJson>>> {
    let vaults = state.vaults.list().await?;
    Ok(Json(
        vaults.into_iter().map(|v| json_of(v, &state)).collect(),
    ))
}

/// Create a trusted vault (Holdfast must be unlocked: its key is wrapped by yours).
#[utoipa::path(post, path = "/vaults", tag = "vaults", security(("bearer" = [])), request_body = NewVault,
    responses(
        (status = 201, body = VaultJson),
        (status = 400, body = ErrorBody),
        (status = 403, description = "Locked", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewVault>,
) -> ApiResult<(StatusCode, Json<VaultJson>)> {
    let v = state
        .vaults
        .create(&req.name, req.hard_quota, req.rf_target)
        .await?;
    state
        .audit
        .record("vault_created", json!({"vault_id": v.id}))
        .await;
    state
        .events
        .publish("vault_created", json!({"vault_id": v.id, "name": v.name}));
    Ok((StatusCode::CREATED, Json(json_of(v, &state))))
}

/// One vault.
#[utoipa::path(get, path = "/vaults/{vault_id}", tag = "vaults", security(("bearer" = [])),
    params(("vault_id" = String, Path)),
    responses((status = 200, body = VaultJson), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<VaultJson>> {
    let v = state.vaults.get(&id).await?;
    Ok(Json(json_of(v, &state)))
}

/// Change name, quota or replication target.
#[utoipa::path(patch, path = "/vaults/{vault_id}", tag = "vaults", security(("bearer" = [])),
    params(("vault_id" = String, Path)), request_body = VaultPatch,
    responses((status = 200, body = VaultJson), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<VaultPatch>,
) -> ApiResult<Json<VaultJson>> {
    let v = state
        .vaults
        .patch(
            &id,
            req.name.as_deref(),
            req.hard_quota,
            req.rf_target,
            req.retention_days,
        )
        .await?;
    state
        .events
        .publish("vault_changed", json!({"vault_id": v.id}));
    Ok(Json(json_of(v, &state)))
}

/// Untrust: forget the vault. Its blocks stay until garbage collection.
#[utoipa::path(delete, path = "/vaults/{vault_id}", tag = "vaults", security(("bearer" = [])),
    params(("vault_id" = String, Path)),
    responses((status = 204, description = "Forgotten"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.vaults.delete(&id).await?;
    state
        .audit
        .record("vault_deleted", json!({"vault_id": id}))
        .await;
    state
        .events
        .publish("vault_deleted", json!({"vault_id": id}));
    Ok(StatusCode::NO_CONTENT)
}

/// Tells a field given as `null` (Some(None)) from one left out (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u64>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}
