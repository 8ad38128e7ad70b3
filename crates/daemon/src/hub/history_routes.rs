//! History backups (device protocol §10): the agent's verify, upload and
//! restore calls, and the owner's registration of a device's recovery-code
//! hash (the owner-side route §10 leaves unnamed).

use axum::Json;
use axum::extract::{Path, State};
use holdfast_core::hub::{devices, history, parse_id};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::{DeviceAuth, Owner};
use super::error::{HubApiError, HubApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify))
        .routes(routes!(upload))
        .routes(routes!(restore))
        .routes(routes!(set_code))
}

#[derive(Deserialize, ToSchema)]
struct CodeHash {
    /// Lowercase hex BLAKE2b-256 of the normalised recovery code.
    code_hash: String,
}

/// Whether a recovery code is registered and this hash is it.
#[utoipa::path(post, path = "/api/v1/agent-history-recovery/verify", tag = "history",
    request_body = CodeHash, security(("device" = [])),
    responses((status = 200, description = "{configured, matches}"), (status = 401, description = "Not a device")))]
async fn verify(
    State(state): State<AppState>,
    auth: DeviceAuth,
    HubJson(body): HubJson<CodeHash>,
) -> HubApiResult<Json<Value>> {
    let (configured, matches) =
        history::verify(&state.hub.core.catalog, &auth.device.id, &body.code_hash).await?;
    Ok(Json(json!({"configured": configured, "matches": matches})))
}

#[derive(Deserialize, ToSchema)]
struct Backup {
    code_hash: String,
    archive_version: i64,
    /// Standard padded base64 of the archive (`AVH1…`, ≤ 512 KiB decoded).
    backup_blob: String,
    entry_count: i64,
}

/// Store an archive as a new generation (the newest three are kept).
#[utoipa::path(put, path = "/api/v1/agent-history-backups", tag = "history",
    request_body = Backup, security(("device" = [])),
    responses((status = 200, description = "{generation_id}"), (status = 400, description = "Bad archive"),
        (status = 403, description = "Another recovery code"), (status = 404, description = "No recovery code registered")))]
async fn upload(
    State(state): State<AppState>,
    auth: DeviceAuth,
    HubJson(body): HubJson<Backup>,
) -> HubApiResult<Json<Value>> {
    let id = history::store(
        &state.hub.core.catalog,
        &auth.device.id,
        &body.code_hash,
        body.archive_version,
        &body.backup_blob,
        body.entry_count,
    )
    .await?;
    Ok(Json(json!({"generation_id": id})))
}

/// The caller's generations, newest first, in exactly §10.3's shape.
#[utoipa::path(post, path = "/api/v1/agent-history-backups/restore", tag = "history",
    request_body = CodeHash, security(("device" = [])),
    responses((status = 200, description = "{hub_id, generations}"),
        (status = 403, description = "Another recovery code"), (status = 404, description = "No recovery code registered")))]
async fn restore(
    State(state): State<AppState>,
    auth: DeviceAuth,
    HubJson(body): HubJson<CodeHash>,
) -> HubApiResult<Json<Value>> {
    let generations =
        history::restore(&state.hub.core.catalog, &auth.device.id, &body.code_hash).await?;
    Ok(Json(
        json!({"hub_id": auth.device.hub_id, "generations": generations}),
    ))
}

#[derive(Deserialize, ToSchema)]
struct SetCode {
    /// The hash to register; null clears it.
    code_hash: Option<String>,
}

/// Register or clear an agent's recovery-code hash (Holdfast's owner route
/// for §10).
#[utoipa::path(put, path = "/api/v1/devices/{id}/history-recovery", tag = "history",
    request_body = SetCode, security(("owner" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "{device_id, configured}"), (status = 400, description = "Bad hash"),
        (status = 404, description = "Device not found")))]
async fn set_code(
    State(state): State<AppState>,
    owner: Owner,
    Path(device): Path<String>,
    HubJson(body): HubJson<SetCode>,
) -> HubApiResult<Json<Value>> {
    let id = parse_id(&device).ok_or_else(|| HubApiError::not_found(devices::NOT_FOUND))?;
    let d = devices::get_in(&state.hub.core.catalog, &owner.tenant, &id).await?;
    let hash = body
        .code_hash
        .as_deref()
        .map(history::code_hash)
        .transpose()?;
    let configured = hash.is_some();
    history::set_code(&state.hub.core.catalog, &owner.tenant, &d.id, hash).await?;
    state
        .audit
        .record(
            "hub_history_code_set",
            json!({"tenant_id": owner.tenant, "device_id": d.id, "configured": configured}),
        )
        .await;
    Ok(Json(json!({"device_id": d.id, "configured": configured})))
}
