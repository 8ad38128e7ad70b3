//! What agent devices call outside the MLS routes: enrolment, status,
//! activation, token reissue, notices, history, and the member-side views
//! (rooms, A2A channels, hub identities) and telemetry ingest.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use holdfast_core::hub::{conversations, devices, parse_id, proof, queue, telemetry};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::{DeviceAuth, same_device};
use super::error::{HubApiError, HubApiResult};
use super::owner_routes::{History, Webhook};
use crate::http::bearer;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enroll))
        .routes(routes!(status))
        .routes(routes!(activate))
        .routes(routes!(health_notice))
        .routes(routes!(reissue))
        .routes(routes!(self_webhook))
        .routes(routes!(device_messages))
        .routes(routes!(device_pending))
        .routes(routes!(telemetry_ingest))
}

#[derive(Deserialize, ToSchema)]
struct Enroll {
    invite_token: String,
    /// Hex of the Ed25519 identity public key.
    identity_public_key: String,
    /// Hex of the X25519 ephemeral public key.
    ephemeral_public_key: String,
    /// Hex of an Ed25519 signature over the 32 identity key bytes.
    proof_of_possession: String,
    #[serde(default)]
    activation_pop: Option<bool>,
    #[serde(default)]
    platform: Option<String>,
}

fn hex_field<const N: usize>(s: &str, field: &str) -> HubApiResult<[u8; N]> {
    proof::hex_exact::<N>(s)
        .ok_or_else(|| HubApiError::bad_request(format!("{field} must be {N} bytes of hex")))
}

/// Consume an invite and register a PENDING device; the owner is asked.
#[utoipa::path(post, path = "/api/v1/enroll", tag = "enrollment", request_body = Enroll,
    responses((status = 201, description = "{device_id, fingerprint, status}"),
        (status = 400, description = "Invalid invite, bad keys or proof"),
        (status = 409, description = "Invite already consumed"),
        (status = 429, description = "More than 5 enrolments per IP in 10 minutes")))]
async fn enroll(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    HubJson(body): HubJson<Enroll>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    if let Err(wait) = state.hub.limits.enroll.check(&peer.ip().to_string()) {
        return Err(HubApiError::rate_limited(wait));
    }
    if body.invite_token.is_empty() || body.invite_token.len() > 256 {
        return Err(HubApiError::bad_request("Invalid invite token"));
    }
    let platform = body
        .platform
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    if platform
        .as_ref()
        .is_some_and(|p| p.len() > 64 || p.chars().any(char::is_control))
    {
        return Err(HubApiError::bad_request(
            "platform must be at most 64 printable characters",
        ));
    }
    let identity_key = hex_field::<32>(&body.identity_public_key, "identity_public_key")?;
    if !proof::verifying_key_ok(&identity_key) {
        return Err(HubApiError::bad_request(
            "identity_public_key is not an Ed25519 public key",
        ));
    }
    let device = devices::enroll(
        &state.hub.core.catalog,
        devices::Enrolment {
            invite_token: body.invite_token,
            identity_key,
            ephemeral_key: hex_field::<32>(&body.ephemeral_public_key, "ephemeral_public_key")?,
            proof: hex_field::<64>(&body.proof_of_possession, "proof_of_possession")?,
            activation_pop: body.activation_pop.unwrap_or(false),
            platform,
        },
    )
    .await?;
    state
        .audit
        .record(
            "hub_device_enrolled",
            json!({"device_id": device.id, "fingerprint": device.fingerprint}),
        )
        .await;
    state.hub.core.announce_device(&device);
    state.hub.core.prompts.raise(
        state.hub.core.clone(),
        state.approvals.clone(),
        device.clone(),
        state.node.approval_timeout.max(super::ENROL_PROMPT),
    );
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"device_id": device.id, "fingerprint": device.fingerprint, "status": "pending"}),
        ),
    ))
}

fn device_id(s: &str) -> HubApiResult<String> {
    parse_id(s).ok_or_else(|| HubApiError::not_found(devices::NOT_FOUND))
}

/// The device's status (PENDING, APPROVED, REJECTED, ACTIVE, SUSPENDED, REVOKED).
#[utoipa::path(get, path = "/api/v1/devices/{id}/status", tag = "devices", params(("id" = String, Path)),
    responses((status = 200, description = "{\"status\"}"), (status = 404, description = "{\"detail\":\"Device not found\"}"),
        (status = 429, description = "Polled faster than once per 5 s")))]
async fn status(
    State(state): State<AppState>,
    Path(device): Path<String>,
) -> HubApiResult<Json<Value>> {
    let id = device_id(&device)?;
    if let Err(wait) = state.hub.limits.status.check(&id) {
        return Err(HubApiError::rate_limited(wait));
    }
    let d = devices::get(&state.hub.core.catalog, &id)
        .await?
        .ok_or_else(|| HubApiError::not_found(devices::NOT_FOUND))?;
    Ok(Json(json!({"status": d.status, "device_id": d.id})))
}

#[derive(Deserialize, ToSchema)]
struct Activate {
    #[serde(default)]
    activation_signature: Option<String>,
    #[serde(default)]
    signed_at: Option<i64>,
}

/// Activate an approved device with its signed proof; returns its JWT.
#[utoipa::path(post, path = "/api/v1/devices/{id}/activate", tag = "devices", request_body = Activate,
    params(("id" = String, Path)),
    responses((status = 200, description = "{\"device_jwt\"}"), (status = 400, description = "Missing, stale or bad signature"),
        (status = 403, description = "Not approved"), (status = 404, description = "Device not found")))]
async fn activate(
    State(state): State<AppState>,
    Path(device): Path<String>,
    HubJson(body): HubJson<Activate>,
) -> HubApiResult<Json<Value>> {
    let id = device_id(&device)?;
    let signature = body
        .activation_signature
        .as_deref()
        .map(|s| hex_field::<64>(s, "activation_signature"))
        .transpose()?;
    let d = devices::activate(&state.hub.core.catalog, &id, signature, body.signed_at).await?;
    conversations::relink(&state.hub.core.catalog, &d.tenant_id).await?;
    state.hub.core.announce_device(&d);
    state
        .audit
        .record("hub_device_activated", json!({"device_id": d.id}))
        .await;
    Ok(Json(json!({
        "device_jwt": state.hub.core.tokens.issue(&d.id, &d.tenant_id),
        "device_id": d.id,
        "tenant_id": d.tenant_id,
        "hub_id": d.hub_id,
    })))
}

/// An agent's "I must re-enrol" notice, kept for the owner.
#[utoipa::path(post, path = "/api/v1/devices/{id}/health", tag = "devices", params(("id" = String, Path)),
    responses((status = 200, description = "{\"ok\":true}"), (status = 404, description = "Device not found"),
        (status = 429, description = "Too often")))]
async fn health_notice(
    State(state): State<AppState>,
    Path(device): Path<String>,
    HubJson(body): HubJson<Value>,
) -> HubApiResult<Json<Value>> {
    let id = device_id(&device)?;
    if let Err(wait) = state.hub.limits.status.check(&format!("health:{id}")) {
        return Err(HubApiError::rate_limited(wait));
    }
    devices::note_health(&state.hub.core.catalog, &id, body).await?;
    state
        .hub
        .core
        .events
        .publish("agent_health", json!({"device_id": id}));
    Ok(Json(json!({"ok": true})))
}

/// A new device JWT for an ACTIVE device (an expired one is accepted
/// within 30 days); 403 for a suspended or revoked device.
#[utoipa::path(post, path = "/api/v1/auth/reissue", tag = "auth", security(("device" = [])),
    responses((status = 200, description = "{\"device_jwt\"}"), (status = 401, description = "Token refused"),
        (status = 403, description = "Device not active")))]
async fn reissue(State(state): State<AppState>, headers: HeaderMap) -> HubApiResult<Json<Value>> {
    let t = bearer::bearer(&headers)
        .ok()
        .flatten()
        .ok_or_else(|| HubApiError::unauthorized("Not authenticated"))?;
    let claims = state.hub.core.tokens.verify_for_reissue(t)?;
    let d = match devices::get(&state.hub.core.catalog, &claims.sub).await? {
        Some(d) if d.tenant_id == claims.tid => d,
        _ => return Err(HubApiError::unauthorized("Device not found")),
    };
    if d.status != devices::ACTIVE {
        return Err(HubApiError::forbidden(format!("Device is {}", d.status)));
    }
    Ok(Json(
        json!({"device_jwt": state.hub.core.tokens.issue(&d.id, &d.tenant_id)}),
    ))
}

/// Register or clear the calling device's webhook URL.
#[utoipa::path(patch, path = "/api/v1/devices/self/webhook", tag = "devices", request_body = Webhook,
    security(("device" = [])),
    responses((status = 200, description = "{device_id, webhook_url}"), (status = 400, description = "Bad URL"),
        (status = 401, description = "Not a device")))]
async fn self_webhook(
    State(state): State<AppState>,
    auth: DeviceAuth,
    HubJson(body): HubJson<Webhook>,
) -> HubApiResult<Json<Value>> {
    devices::set_webhook(
        &state.hub.core.catalog,
        &auth.device.id,
        body.webhook_url.clone(),
    )
    .await?;
    Ok(Json(
        json!({"device_id": auth.device.id, "webhook_url": body.webhook_url}),
    ))
}

/// Stored ciphertext of the device's conversations, oldest first.
#[utoipa::path(get, path = "/api/v1/devices/{id}/messages", tag = "devices", security(("device" = [])),
    params(("id" = String, Path), History),
    responses((status = 200, description = "Array of messages"), (status = 403, description = "Another device")))]
async fn device_messages(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(device): Path<String>,
    Query(q): Query<History>,
) -> HubApiResult<Json<Value>> {
    same_device(&auth, Some(&device))?;
    let convs = conversations::of_device(&state.hub.core.catalog, &auth.device.id).await?;
    let rows = conversations::messages(
        &state.hub.core.catalog,
        convs,
        q.since_ms()?,
        q.limit()?,
        q.topic_id.clone(),
    )
    .await?;
    Ok(Json(Value::Array(rows)))
}

/// How many queue rows wait for the device.
#[utoipa::path(get, path = "/api/v1/devices/{id}/pending", tag = "devices", security(("device" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "{\"pending\": n}"), (status = 403, description = "Another device")))]
async fn device_pending(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(device): Path<String>,
) -> HubApiResult<Json<Value>> {
    same_device(&auth, Some(&device))?;
    let n = queue::pending(&state.hub.core.catalog, &auth.device.id).await?;
    Ok(Json(
        json!({"device_id": auth.device.id, "pending": n, "count": n}),
    ))
}

#[derive(Deserialize, ToSchema)]
struct Ingest {
    #[serde(default)]
    hub_id: Option<String>,
    spans: Vec<Value>,
}

/// Store telemetry spans of the calling agent (deduplicated).
#[utoipa::path(post, path = "/api/v1/telemetry/ingest", tag = "telemetry", request_body = Ingest,
    security(("device" = [])),
    responses((status = 200, description = "{\"accepted\": n}"), (status = 400, description = "Bad spans"),
        (status = 403, description = "Another agent's hub_id")))]
async fn telemetry_ingest(
    State(state): State<AppState>,
    auth: DeviceAuth,
    HubJson(body): HubJson<Ingest>,
) -> HubApiResult<Json<Value>> {
    if let Some(h) = &body.hub_id
        && parse_id(h).as_deref() != Some(auth.device.hub_id.as_str())
    {
        return Err(HubApiError::forbidden("hub_id is not the caller's"));
    }
    let n = telemetry::ingest(
        &state.hub.core.catalog,
        &auth.device.tenant_id,
        &auth.device.id,
        body.spans,
    )
    .await?;
    Ok(Json(json!({"accepted": n})))
}
