//! The device protocol's MLS routes (§5-§7): the KeyPackage pool, the
//! delivery queue, and group heads, sync and Welcome requests.

use axum::Json;
use axum::extract::{Path, Query, State};
use holdfast_core::hub::{groups, keypackages, parse_id, queue};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::{DeviceAuth, same_device};
use super::error::{HubApiError, HubApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(publish))
        .routes(routes!(count))
        .routes(routes!(batch))
        .routes(routes!(delivery))
        .routes(routes!(ack))
        .routes(routes!(nack))
        .routes(routes!(head))
        .routes(routes!(sync))
        .routes(routes!(request_welcome))
        .routes(routes!(pending_welcomes))
        .routes(routes!(fulfill_welcome))
}

#[derive(Deserialize, ToSchema)]
struct Publish {
    /// Hex of an MLSMessage-wrapped KeyPackage (cipher suite 1).
    key_package: String,
}

/// Publish a KeyPackage; the oldest beyond 10 unconsumed are evicted.
#[utoipa::path(post, path = "/api/v1/mls/key-packages", tag = "mls", request_body = Publish,
    security(("device" = [])),
    responses((status = 201, description = "{id, device_id}"),
        (status = 400, description = "Malformed, or not the device's identity key / id")))]
async fn publish(
    State(state): State<AppState>,
    auth: DeviceAuth,
    HubJson(body): HubJson<Publish>,
) -> HubApiResult<(axum::http::StatusCode, Json<Value>)> {
    let kp = hex::decode(body.key_package.trim())
        .map_err(|_| HubApiError::bad_request("key_package must be hex"))?;
    if auth.device.identity_key == [0; 32] {
        return Err(HubApiError::bad_request(
            "This device has no identity key: create its API key with identity_public_key to use MLS",
        ));
    }
    let id = keypackages::publish(
        &state.hub.core.catalog,
        &auth.device.id,
        &auth.device.identity_key,
        kp,
    )
    .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({"id": id.to_string(), "device_id": auth.device.id})),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CountQuery {
    device_id: Option<String>,
    /// Count only packages still valid this many seconds from now.
    renew_within_seconds: Option<i64>,
}

/// The caller's unconsumed, unexpired packages.
#[utoipa::path(get, path = "/api/v1/mls/key-packages/count", tag = "mls", security(("device" = [])),
    params(CountQuery),
    responses((status = 200, description = "{\"count\": n}"), (status = 403, description = "Another device")))]
async fn count(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Query(q): Query<CountQuery>,
) -> HubApiResult<Json<Value>> {
    same_device(&auth, q.device_id.as_deref())?;
    let n = keypackages::count(
        &state.hub.core.catalog,
        &auth.device.id,
        q.renew_within_seconds.unwrap_or(0),
    )
    .await?;
    Ok(Json(json!({"count": n})))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct BatchQuery {
    /// Comma-separated device ids.
    device_ids: String,
}

/// Claim one package per device (single use), as `{device_id: kp_hex}`.
#[utoipa::path(get, path = "/api/v1/mls/key-packages/batch", tag = "mls", security(("device" = [])),
    params(BatchQuery),
    responses((status = 200, description = "Object of device id to KeyPackage hex"), (status = 400, description = "Too many ids")))]
async fn batch(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Query(q): Query<BatchQuery>,
) -> HubApiResult<Json<Value>> {
    let mut wanted = Vec::new();
    let mut names = Vec::new();
    for raw in q
        .device_ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if let Some(id) = parse_id(raw) {
            wanted.push(id);
            names.push(raw.to_owned());
        }
    }
    let claimed = keypackages::claim(
        &state.hub.core.catalog,
        &auth.device.tenant_id,
        wanted.clone(),
    )
    .await?;
    let mut out = Map::new();
    for (pos, id) in wanted.iter().enumerate() {
        if claimed.iter().any(|(c, _)| c == id) {
            continue;
        }
        // A remote A2A participant's package comes from its hub.
        if let Some(kp) =
            super::federation_routes::remote_key_package(&state, &auth.device.id, id).await
        {
            out.insert(names[pos].clone(), hex::encode(kp).into());
        }
    }
    for (id, kp) in claimed {
        // Keyed by the exact requested strings.
        if let Some(pos) = wanted.iter().position(|w| *w == id) {
            out.insert(names[pos].clone(), hex::encode(kp).into());
        }
    }
    Ok(Json(Value::Object(out)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DeviceQuery {
    device_id: Option<String>,
}

/// The caller's unacknowledged queue rows.
#[utoipa::path(get, path = "/api/v1/mls/delivery", tag = "mls", security(("device" = [])),
    params(DeviceQuery),
    responses((status = 200, description = "{\"messages\": [row]}"), (status = 403, description = "Another device")))]
async fn delivery(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Query(q): Query<DeviceQuery>,
) -> HubApiResult<Json<Value>> {
    same_device(&auth, q.device_id.as_deref())?;
    let rows = queue::pull(&state.hub.core.catalog, &auth.device.id).await?;
    Ok(Json(
        json!({"messages": rows.iter().map(|r| r.to_json()).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize, ToSchema)]
struct Ack {
    queue_ids: Vec<String>,
    #[serde(default)]
    device_id: Option<String>,
}

/// Delete acknowledged rows (the caller's only; unknown ids are ignored).
#[utoipa::path(post, path = "/api/v1/mls/delivery/ack", tag = "mls", request_body = Ack,
    security(("device" = [])),
    responses((status = 200, description = "{\"acked\": n}"), (status = 403, description = "Another device")))]
async fn ack(
    State(state): State<AppState>,
    auth: DeviceAuth,
    HubJson(body): HubJson<Ack>,
) -> HubApiResult<Json<Value>> {
    same_device(&auth, body.device_id.as_deref())?;
    let (n, left) = queue::ack(&state.hub.core.catalog, &auth.device.id, body.queue_ids).await?;
    if left {
        // A paging pull left rows behind, or new ones came meanwhile.
        state.hub.core.live.nudge(&auth.device.id, 1);
    }
    Ok(Json(json!({"acked": n})))
}

#[derive(Deserialize, ToSchema)]
struct Nack {
    queue_ids: Vec<String>,
}

/// Count failed attempts; a row nacked 5 times is dropped.
#[utoipa::path(post, path = "/api/v1/mls/delivery/nack", tag = "mls", request_body = Nack,
    security(("device" = [])),
    responses((status = 200, description = "{\"nacked\": n}")))]
async fn nack(
    State(state): State<AppState>,
    auth: DeviceAuth,
    HubJson(body): HubJson<Nack>,
) -> HubApiResult<Json<Value>> {
    let n = queue::nack(&state.hub.core.catalog, &auth.device.id, body.queue_ids).await?;
    Ok(Json(json!({"nacked": n})))
}

fn group(s: &str) -> HubApiResult<String> {
    parse_id(s).ok_or_else(|| HubApiError::not_found("Group not found"))
}

/// The group's head: epoch, roster, last commit digest.
#[utoipa::path(get, path = "/api/v1/mls/groups/{group_id}", tag = "mls", security(("device" = [])),
    params(("group_id" = String, Path)),
    responses((status = 200, description = "The head"), (status = 403, description = "Not a member"),
        (status = 404, description = "Group not found")))]
async fn head(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(g): Path<String>,
) -> HubApiResult<Json<Value>> {
    Ok(Json(json!(
        groups::head(&state.hub.core, &group(&g)?, &auth.device.id).await?
    )))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SyncQuery {
    last_epoch: Option<String>,
}

/// Commits after `last_epoch`, or "rejoin".
#[utoipa::path(get, path = "/api/v1/mls/groups/{group_id}/sync", tag = "mls", security(("device" = [])),
    params(("group_id" = String, Path), SyncQuery),
    responses((status = 200, description = "{action, messages?}"), (status = 403, description = "Not a member"),
        (status = 404, description = "Group not found")))]
async fn sync(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(g): Path<String>,
    Query(q): Query<SyncQuery>,
) -> HubApiResult<Json<Value>> {
    let last = match q.last_epoch.as_deref() {
        None | Some("") | Some("null") => None,
        Some(s) => Some(
            s.parse::<i64>()
                .map_err(|_| HubApiError::bad_request("last_epoch must be an integer"))?,
        ),
    };
    Ok(Json(
        groups::sync(&state.hub.core, &group(&g)?, &auth.device.id, last).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
struct WelcomeRequest {
    device_id: Option<String>,
}

/// Ask the group's other members for a Welcome.
#[utoipa::path(post, path = "/api/v1/mls/groups/{group_id}/request-welcome", tag = "mls",
    request_body = WelcomeRequest, security(("device" = [])), params(("group_id" = String, Path)),
    responses((status = 200, description = "{id, status}"), (status = 403, description = "Not a member or another device"),
        (status = 404, description = "Group not found")))]
async fn request_welcome(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(g): Path<String>,
    HubJson(body): HubJson<WelcomeRequest>,
) -> HubApiResult<Json<Value>> {
    same_device(&auth, body.device_id.as_deref())?;
    Ok(Json(
        groups::request_welcome(&state.hub.core, &group(&g)?, &auth.device.id).await?,
    ))
}

/// Open Welcome requests of the group.
#[utoipa::path(get, path = "/api/v1/mls/groups/{group_id}/pending-welcomes", tag = "mls",
    security(("device" = [])), params(("group_id" = String, Path)),
    responses((status = 200, description = "Array of requests"), (status = 403, description = "Not a member"),
        (status = 404, description = "Group not found")))]
async fn pending_welcomes(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(g): Path<String>,
) -> HubApiResult<Json<Value>> {
    Ok(Json(Value::Array(
        groups::pending_welcomes(&state.hub.core, &group(&g)?, &auth.device.id).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
struct Fulfil {
    request_id: String,
}

/// Mark a request fulfilled once its Welcome is queued.
#[utoipa::path(post, path = "/api/v1/mls/groups/{group_id}/fulfill-welcome", tag = "mls",
    request_body = Fulfil, security(("device" = [])), params(("group_id" = String, Path)),
    responses((status = 200, description = "{\"status\": \"fulfilled\"|\"pending\"}"),
        (status = 403, description = "Not a member"), (status = 404, description = "Group or request not found")))]
async fn fulfill_welcome(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(g): Path<String>,
    HubJson(body): HubJson<Fulfil>,
) -> HubApiResult<Json<Value>> {
    let status = groups::fulfill(
        &state.hub.core,
        &group(&g)?,
        &auth.device.id,
        &body.request_id,
    )
    .await?;
    Ok(Json(json!({"status": status})))
}
