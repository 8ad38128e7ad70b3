//! API keys (owner only): create (the raw key shown once), list, revoke,
//! rotate and delete with their device. Using a key is `auth.rs`'s job.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use holdfast_core::hub::{apikeys, conversations, devices, parse_id};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::Owner;
use super::error::{HubApiError, HubApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(revoke))
        .routes(routes!(rotate))
        .routes(routes!(delete))
}

fn key_id(s: &str) -> HubApiResult<String> {
    parse_id(s).ok_or_else(|| HubApiError::not_found("API key not found"))
}

#[derive(Deserialize, ToSchema)]
struct NewKey {
    /// What the key is for (1-100 characters).
    #[serde(alias = "label")]
    name: String,
    /// Hex of the agent's Ed25519 identity key, if it will use MLS.
    #[serde(default)]
    identity_public_key: Option<String>,
    #[serde(default)]
    platform: Option<String>,
}

/// Create a key and the device it stands for; the raw key is in this
/// answer only (`key`).
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = NewKey,
    security(("owner" = [])),
    responses((status = 201, description = "The key, with `key` shown once"), (status = 400, description = "Bad fields"),
        (status = 401, description = "Not the owner")))]
async fn create(
    State(state): State<AppState>,
    owner: Owner,
    HubJson(body): HubJson<NewKey>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let identity_key = match body.identity_public_key.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(h) => Some(
            hex::decode(h)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| {
                    HubApiError::bad_request("identity_public_key must be 64 hex characters")
                })?,
        ),
    };
    let key = apikeys::create(
        &state.hub.core.catalog,
        &owner.tenant,
        apikeys::NewKey {
            name: body.name,
            identity_key,
            platform: body.platform,
        },
    )
    .await?;
    // Like an activation: the new device gets its conversations with the owner.
    conversations::relink(&state.hub.core.catalog, &owner.tenant).await?;
    if let Some(d) = devices::get(&state.hub.core.catalog, &key.device_id).await? {
        state.hub.core.announce_device(&d);
    }
    state
        .audit
        .record(
            "hub_api_key_created",
            json!({"key_id": key.id, "device_id": key.device_id, "tenant_id": owner.tenant}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(json!(key))))
}

/// The tenant's keys (never the keys themselves).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", security(("owner" = [])),
    responses((status = 200, description = "Array of keys"), (status = 401, description = "Not the owner")))]
async fn list(State(state): State<AppState>, owner: Owner) -> HubApiResult<Json<Value>> {
    Ok(Json(json!(
        apikeys::list(&state.hub.core.catalog, &owner.tenant).await?
    )))
}

/// Revoke a key: it stops working at once and its open socket is closed.
#[utoipa::path(post, path = "/api/v1/api-keys/{id}/revoke", tag = "api-keys", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The revoked key"), (status = 404, description = "No such key"),
        (status = 409, description = "Already revoked"), (status = 401, description = "Not the owner")))]
async fn revoke(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    let key = apikeys::revoke(&state.hub.core.catalog, &owner.tenant, &key_id(&id)?).await?;
    state
        .hub
        .core
        .live
        .close(&key.device_id, 4403, "API key revoked");
    state
        .audit
        .record("hub_api_key_revoked", json!({"key_id": key.id}))
        .await;
    Ok(Json(json!(key)))
}

/// A new secret for the key; the old one stops working in the same step
/// and a socket opened with it is closed.
#[utoipa::path(post, path = "/api/v1/api-keys/{id}/rotate", tag = "api-keys", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The key, with the new `key` shown once"), (status = 404, description = "No such key"),
        (status = 409, description = "Revoked"), (status = 401, description = "Not the owner")))]
async fn rotate(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    let key = apikeys::rotate(&state.hub.core.catalog, &owner.tenant, &key_id(&id)?).await?;
    state
        .hub
        .core
        .live
        .close(&key.device_id, 1008, "API key rotated");
    state
        .audit
        .record("hub_api_key_rotated", json!({"key_id": key.id}))
        .await;
    Ok(Json(json!(key)))
}

/// Delete a key and its device.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted with its device"), (status = 404, description = "No such key"),
        (status = 401, description = "Not the owner")))]
async fn delete(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> HubApiResult<StatusCode> {
    let id = key_id(&id)?;
    let device = apikeys::delete(&state.hub.core.catalog, &owner.tenant, &id).await?;
    state.hub.core.live.close(&device, 4403, "API key deleted");
    state
        .audit
        .record(
            "hub_api_key_deleted",
            json!({"key_id": id, "device_id": device}),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
