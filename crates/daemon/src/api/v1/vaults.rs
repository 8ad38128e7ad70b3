//! Vault routes: create, list, get, change and untrust trusted vaults, bind
//! them to folders, and lock or unlock password-protected ones.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use holdfast_core::vaults::Vault;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiJsonOrEmpty};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct VaultJson {
    pub id: String,
    pub name: String,
    /// Trusted vaults hold their key here.
    pub trusted: bool,
    /// `available` while readable; `locked` while Holdfast is locked;
    /// `password_locked` while the vault's own password is not entered;
    /// `no_key` for a vault this node holds sealed or only sees in the swarm.
    pub key_state: String,
    pub rf_target: u32,
    pub hard_quota: Option<u64>,
    /// Days old versions and tombstones stay restorable before GC.
    pub retention_days: u32,
    pub byte_count: u64,
    pub file_count: u64,
    /// Files edited in two places at once that wait for a choice (paths
    /// with more than one head in the catalog; see `resolve-conflict`).
    pub conflict_count: u64,
    /// Other nodes holding this vault (from their announcements).
    pub peer_count: u32,
    pub created_ms: i64,
    /// The local folder this vault mirrors, if any.
    pub folder: Option<String>,
    /// Role flag: changes are refused (403); reads and folder write-back go on.
    pub read_only: bool,
    /// Role flag: every block stays on this device.
    pub pinned: bool,
    /// Folder sync is paused.
    pub sync_paused: bool,
    /// The vault has its own password (see `/vaults/{id}/lock`).
    pub password_protected: bool,
}

pub(crate) fn json_of(v: Vault, state: &AppState) -> VaultJson {
    let unlocked = state.identity.state() == holdfast_core::identity::LockState::Unlocked;
    let key_state = if !unlocked {
        "locked"
    } else if v.password_protected && !state.vaults.password_unlocked(&v.id) {
        "password_locked"
    } else {
        "available"
    };
    let peer_count = state
        .mesh
        .nodes()
        .iter()
        .filter(|n| n.info.vaults.iter().any(|x| x.id == v.id))
        .count() as u32;
    VaultJson {
        key_state: key_state.into(),
        folder: v.folder,
        read_only: v.read_only,
        pinned: v.pinned,
        sync_paused: v.sync_paused,
        password_protected: v.password_protected,
        id: v.id,
        name: v.name,
        trusted: true,
        rf_target: v.rf_target,
        hard_quota: v.hard_quota,
        retention_days: v.retention_days,
        byte_count: v.byte_count,
        file_count: v.file_count,
        conflict_count: v.conflict_count,
        peer_count,
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
    /// A local folder to mirror (absolute; pick one with `/system/browse`).
    pub folder: Option<String>,
    /// A password of the vault's own (8-1024 characters).
    pub password: Option<String>,
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
    /// Role flag: refuse changes.
    pub read_only: Option<bool>,
    /// Role flag: keep every block on this device.
    pub pinned: Option<bool>,
    /// Pause folder sync (local edits and write-back wait until resumed).
    pub sync_paused: Option<bool>,
    /// Bind to this folder; `null` unbinds (the folder's files stay).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub folder: Option<Option<String>>,
    /// Set or change the vault's password (it must be unlocked); `null`
    /// removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub password: Option<Option<String>>,
}

#[derive(Default, Deserialize, ToSchema)]
pub struct LockBody {
    /// Needed the first time: it becomes the vault's password.
    pub password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct UnlockBody {
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Unlocked {
    /// Vaults this password opened.
    pub unlocked: Vec<String>,
}

/// Every vault on this node.
#[utoipa::path(get, path = "/vaults", tag = "vaults", security(("bearer" = [])),
    responses((status = 200, body = Vec<VaultJson>)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<VaultJson>>> {
    let vaults = state.vaults.list().await?;
    let mut out: Vec<VaultJson> = vaults.into_iter().map(|v| json_of(v, &state)).collect();
    // Vaults held here sealed (a replica), then those only seen in the swarm.
    let mut seen: std::collections::HashSet<String> = out.iter().map(|v| v.id.clone()).collect();
    let replicas = state.mesh.replicas().list().await?;
    let nodes = state.mesh.nodes();
    for r in replicas {
        seen.insert(r.id.clone());
        let holders = nodes
            .iter()
            .filter(|n| n.info.vaults.iter().any(|v| v.id == r.id))
            .count();
        out.push(untrusted(
            &r.id,
            r.rf_target,
            r.sealed_bytes,
            holders as u32 + 1,
            r.created_ms,
        ));
    }
    for n in &nodes {
        for v in &n.info.vaults {
            if seen.insert(v.id.clone()) {
                let holders = nodes
                    .iter()
                    .filter(|m| m.info.vaults.iter().any(|x| x.id == v.id))
                    .count();
                out.push(untrusted(&v.id, v.rf_target, v.bytes, holders as u32, 0));
            }
        }
    }
    Ok(Json(out))
}

/// A vault without its key here: only its id, size and target are known.
fn untrusted(id: &str, rf: u32, bytes: u64, peers: u32, created_ms: i64) -> VaultJson {
    VaultJson {
        id: id.to_owned(),
        name: format!("Vault {}", &id[..id.len().min(8)]),
        trusted: false,
        key_state: "no_key".into(),
        rf_target: rf,
        hard_quota: None,
        retention_days: 0,
        byte_count: bytes,
        file_count: 0,
        conflict_count: 0,
        peer_count: peers,
        created_ms,
        folder: None,
        read_only: true,
        pinned: false,
        sync_paused: false,
        password_protected: false,
    }
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
    let setup = async {
        if let Some(p) = &req.password {
            state.vaults.set_password(&v.id, Some(p)).await?;
        }
        if let Some(f) = &req.folder {
            state.folders.bind(&v.id, Some(f)).await?;
        }
        state.vaults.get(&v.id).await
    }
    .await;
    let v = match setup {
        Ok(v) => v,
        Err(e) => {
            // Keep nothing half made.
            state.folders.stop(&v.id);
            let _ = state.vaults.delete(&v.id).await;
            return Err(e.into());
        }
    };
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
    let mut v = state
        .vaults
        .patch(
            &id,
            holdfast_core::vaults::VaultPatch {
                name: req.name,
                hard_quota: req.hard_quota,
                rf_target: req.rf_target,
                retention_days: req.retention_days,
                read_only: req.read_only,
                pinned: req.pinned,
                sync_paused: req.sync_paused,
            },
        )
        .await?;
    if let Some(password) = &req.password {
        state.vaults.set_password(&id, password.as_deref()).await?;
        state
            .audit
            .record("vault_password_changed", json!({"vault_id": id}))
            .await;
        v = state.vaults.get(&id).await?;
    }
    if let Some(folder) = &req.folder {
        v = state.folders.bind(&id, folder.as_deref()).await?;
    } else if req.sync_paused.is_some() {
        v = state.folders.refresh(&id).await?;
    }
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
    state.folders.stop(&id);
    state
        .audit
        .record("vault_deleted", json!({"vault_id": id}))
        .await;
    state
        .events
        .publish("vault_deleted", json!({"vault_id": id}));
    Ok(StatusCode::NO_CONTENT)
}

/// Lock a vault with its own password. The first lock sets it (a body with
/// `password`); after that the body may be left out.
#[utoipa::path(post, path = "/vaults/{vault_id}/lock", tag = "vaults", security(("bearer" = [])),
    params(("vault_id" = String, Path)), request_body(content = Option<LockBody>, description = "Optional once the vault has a password"),
    responses((status = 200, body = VaultJson), (status = 400, body = ErrorBody),
              (status = 403, description = "Holdfast locked", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lock(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJsonOrEmpty(req): ApiJsonOrEmpty<LockBody>,
) -> ApiResult<Json<VaultJson>> {
    let v = state.vaults.lock(&id, req.password.as_deref()).await?;
    state
        .audit
        .record("vault_locked", json!({"vault_id": id}))
        .await;
    state
        .events
        .publish("vault_changed", json!({"vault_id": id}));
    Ok(Json(json_of(v, &state)))
}

/// Try a password against every password-locked vault.
#[utoipa::path(post, path = "/vaults/unlock", tag = "vaults", security(("bearer" = [])),
    request_body = UnlockBody,
    responses((status = 200, body = Unlocked),
              (status = 403, description = "The password opened no vault, or Holdfast is locked", body = ErrorBody)))]
pub async fn unlock(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<UnlockBody>,
) -> ApiResult<Json<Unlocked>> {
    if req.password.len() > 1024 {
        return Err(crate::api::error::ApiError::bad_request(
            "password must be at most 1024 bytes",
        ));
    }
    let result = state.vaults.unlock(&req.password).await;
    state
        .audit
        .record(
            "vault_unlock",
            json!({"opened": result.as_ref().map_or(0, |ids| ids.len())}),
        )
        .await;
    let unlocked = result?;
    for id in &unlocked {
        state.folders.rescan(id);
        state
            .events
            .publish("vault_changed", json!({"vault_id": id}));
    }
    Ok(Json(Unlocked { unlocked }))
}

/// Tells a field given as `null` (Some(None)) from one left out (None).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::deserialize(d)?))
}
