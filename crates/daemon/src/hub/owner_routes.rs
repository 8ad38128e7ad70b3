//! The owner's side of the hub (Clerk JWT in the seed = the daemon owner's
//! bearer here): tenants, invites, devices, conversations.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use holdfast_core::hub::{conversations, devices, invites, parse_id, tenants, topics};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::Owner;
use super::error::{HubApiError, HubApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(create_tenant, list_tenants))
        .routes(routes!(create_invite, list_invites))
        .routes(routes!(revoke_invite))
        .routes(routes!(delete_invite))
        .routes(routes!(list_devices))
        .routes(routes!(presence))
        .routes(routes!(keys))
        .routes(routes!(approve))
        .routes(routes!(revoke))
        .routes(routes!(rename, delete_device))
        .routes(routes!(webhook))
        .routes(routes!(remove_owner_device))
        .routes(routes!(register_owner_device))
        .routes(routes!(relink))
        .routes(routes!(list_conversations))
        .routes(routes!(post_message, get_messages))
        .routes(routes!(conversation_keys))
}

/// Liveness and version.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "{\"status\":\"ok\",\"version\"}")))]
async fn health() -> Json<Value> {
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

fn id(s: &str, what: &str) -> HubApiResult<String> {
    parse_id(s).ok_or_else(|| HubApiError::not_found(format!("{what} not found")))
}

#[derive(Deserialize, ToSchema)]
struct NewTenant {
    name: String,
}

/// Create a tenant; the owner is its OWNER_ADMIN.
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = NewTenant,
    security(("owner" = [])),
    responses((status = 201, description = "The tenant"), (status = 400, description = "Bad name"),
        (status = 401, description = "Not the owner")))]
async fn create_tenant(
    State(state): State<AppState>,
    _owner: Owner,
    HubJson(body): HubJson<NewTenant>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let t = tenants::create(&state.hub.core.catalog, &body.name).await?;
    state
        .audit
        .record("hub_tenant_created", json!({"tenant_id": t.id}))
        .await;
    Ok((StatusCode::CREATED, Json(json!(t))))
}

/// The tenants of this hub (Holdfast addition).
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", security(("owner" = [])),
    responses((status = 200, description = "Array of tenants"), (status = 401, description = "Not the owner")))]
async fn list_tenants(State(state): State<AppState>, _owner: Owner) -> HubApiResult<Json<Value>> {
    Ok(Json(json!(tenants::list(&state.hub.core.catalog).await?)))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct NewInvite {
    /// A note for the owner (e.g. which agent it is for).
    #[serde(default, alias = "name")]
    pub label: Option<String>,
    /// Lifetime, 1-720 hours (default 72).
    #[serde(default)]
    pub expires_in_hours: Option<i64>,
}

/// Create an invite; the raw token is in this answer only.
#[utoipa::path(post, path = "/api/v1/invites", tag = "invites", request_body = NewInvite,
    security(("owner" = [])),
    responses((status = 201, description = "The invite with its token"), (status = 400, description = "Bad fields"),
        (status = 401, description = "Not the owner")))]
async fn create_invite(
    State(state): State<AppState>,
    owner: Owner,
    HubJson(body): HubJson<NewInvite>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let inv = invites::create(
        &state.hub.core.catalog,
        &owner.tenant,
        body.label,
        body.expires_in_hours,
    )
    .await?;
    state
        .audit
        .record("hub_invite_created", json!({"invite_id": inv.id}))
        .await;
    Ok((StatusCode::CREATED, Json(json!(inv))))
}

/// The tenant's invites (never their tokens).
#[utoipa::path(get, path = "/api/v1/invites", tag = "invites", security(("owner" = [])),
    responses((status = 200, description = "Array of invites"), (status = 401, description = "Not the owner")))]
async fn list_invites(State(state): State<AppState>, owner: Owner) -> HubApiResult<Json<Value>> {
    Ok(Json(json!(
        invites::list(&state.hub.core.catalog, &owner.tenant).await?
    )))
}

/// Revoke an active invite; 409 when already consumed.
#[utoipa::path(post, path = "/api/v1/invites/{id}/revoke", tag = "invites", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The revoked invite"), (status = 404, description = "No such invite"),
        (status = 409, description = "Already consumed, revoked or expired"), (status = 401, description = "Not the owner")))]
async fn revoke_invite(
    State(state): State<AppState>,
    owner: Owner,
    Path(invite): Path<String>,
) -> HubApiResult<Json<Value>> {
    let inv = invites::revoke(
        &state.hub.core.catalog,
        &owner.tenant,
        &id(&invite, "Invite")?,
    )
    .await?;
    state
        .audit
        .record("hub_invite_revoked", json!({"invite_id": inv.id}))
        .await;
    Ok(Json(json!(inv)))
}

/// Soft-delete a revoked, consumed or expired invite.
#[utoipa::path(delete, path = "/api/v1/invites/{id}", tag = "invites", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such invite"),
        (status = 409, description = "Still active"), (status = 401, description = "Not the owner")))]
async fn delete_invite(
    State(state): State<AppState>,
    owner: Owner,
    Path(invite): Path<String>,
) -> HubApiResult<StatusCode> {
    invites::delete(
        &state.hub.core.catalog,
        &owner.tenant,
        &id(&invite, "Invite")?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A device as the owner sees it, with its health (online, pending rows).
pub async fn device_view(state: &AppState, d: &devices::Device) -> HubApiResult<Value> {
    let mut v = json!(d);
    let online = state.hub.core.live.is_online(&d.id);
    v["online"] = online.into();
    v["pending_messages"] = holdfast_core::hub::queue::pending(&state.hub.core.catalog, &d.id)
        .await?
        .into();
    Ok(v)
}

/// Every device of the tenant with its health state.
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices", security(("owner" = [])),
    responses((status = 200, description = "Array of devices"), (status = 401, description = "Not the owner")))]
async fn list_devices(State(state): State<AppState>, owner: Owner) -> HubApiResult<Json<Value>> {
    let mut out = Vec::new();
    for d in devices::list(&state.hub.core.catalog, &owner.tenant).await? {
        out.push(device_view(&state, &d).await?);
    }
    Ok(Json(Value::Array(out)))
}

async fn owned(state: &AppState, owner: &Owner, device: &str) -> HubApiResult<devices::Device> {
    Ok(devices::get_in(
        &state.hub.core.catalog,
        &owner.tenant,
        &id(device, "Device")?,
    )
    .await?)
}

/// Whether the device is connected now.
#[utoipa::path(get, path = "/api/v1/devices/{id}/presence", tag = "devices", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "{device_id, online, last_seen_at}"), (status = 404, description = "Device not found")))]
async fn presence(
    State(state): State<AppState>,
    owner: Owner,
    Path(device): Path<String>,
) -> HubApiResult<Json<Value>> {
    let d = owned(&state, &owner, &device).await?;
    Ok(Json(json!({
        "device_id": d.id,
        "online": state.hub.core.live.is_online(&d.id),
        "last_seen_ms": d.last_seen_ms,
        "last_seen_at": d.last_seen_ms.map(holdfast_core::time::rfc3339),
    })))
}

/// The device's public keys.
#[utoipa::path(get, path = "/api/v1/devices/{id}/keys", tag = "devices", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "{device_id, identity_public_key, ephemeral_public_key, fingerprint}"),
        (status = 404, description = "Device not found")))]
async fn keys(
    State(state): State<AppState>,
    owner: Owner,
    Path(device): Path<String>,
) -> HubApiResult<Json<Value>> {
    let d = owned(&state, &owner, &device).await?;
    Ok(Json(keys_of(&d)))
}

fn keys_of(d: &devices::Device) -> Value {
    json!({
        "device_id": d.id,
        "identity_public_key": d.identity_public_key,
        "ephemeral_public_key": d.ephemeral_public_key,
        "fingerprint": d.fingerprint,
    })
}

/// Approve a pending device (it then activates itself).
#[utoipa::path(patch, path = "/api/v1/devices/{id}/approve", tag = "devices", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The device, APPROVED"), (status = 404, description = "Device not found"),
        (status = 409, description = "Not pending")))]
async fn approve(
    State(state): State<AppState>,
    owner: Owner,
    Path(device): Path<String>,
) -> HubApiResult<Json<Value>> {
    let d = owned(&state, &owner, &device).await?;
    let d = devices::approve(&state.hub.core.catalog, &owner.tenant, &d.id).await?;
    state.hub.core.prompts.withdraw(&d.id);
    state.hub.core.announce_device(&d);
    state
        .audit
        .record("hub_device_approved", json!({"device_id": d.id}))
        .await;
    Ok(Json(device_view(&state, &d).await?))
}

/// Revoke a device: its socket closes at once (4403), its tokens stop working.
#[utoipa::path(patch, path = "/api/v1/devices/{id}/revoke", tag = "devices", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The device, REVOKED"), (status = 404, description = "Device not found"),
        (status = 409, description = "Already rejected")))]
async fn revoke(
    State(state): State<AppState>,
    owner: Owner,
    Path(device): Path<String>,
) -> HubApiResult<Json<Value>> {
    let d = owned(&state, &owner, &device).await?;
    let d = revoke_device(&state, &owner.tenant, &d.id).await?;
    Ok(Json(device_view(&state, &d).await?))
}

/// Revoke and disconnect (shared with the REST owner API).
pub async fn revoke_device(
    state: &AppState,
    tenant: &str,
    device: &str,
) -> HubApiResult<devices::Device> {
    let d = devices::revoke(&state.hub.core.catalog, tenant, device).await?;
    state.hub.core.prompts.withdraw(&d.id);
    state.hub.core.live.close(&d.id, 4403, "device revoked");
    state.hub.core.announce_device(&d);
    state
        .audit
        .record("hub_device_revoked", json!({"device_id": d.id}))
        .await;
    Ok(d)
}

#[derive(Deserialize, ToSchema)]
struct Rename {
    name: String,
}

/// Rename a device.
#[utoipa::path(patch, path = "/api/v1/devices/{id}", tag = "devices", request_body = Rename,
    security(("owner" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "The device"), (status = 400, description = "Bad name"),
        (status = 404, description = "Device not found")))]
async fn rename(
    State(state): State<AppState>,
    owner: Owner,
    Path(device): Path<String>,
    HubJson(body): HubJson<Rename>,
) -> HubApiResult<Json<Value>> {
    let d = owned(&state, &owner, &device).await?;
    let d = devices::rename(&state.hub.core.catalog, &owner.tenant, &d.id, &body.name).await?;
    state.hub.core.announce_device(&d);
    Ok(Json(device_view(&state, &d).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct Webhook {
    /// An http(s) URL, or null to clear.
    pub webhook_url: Option<String>,
}

/// Register or clear a device's webhook URL.
#[utoipa::path(patch, path = "/api/v1/devices/{id}/webhook", tag = "devices", request_body = Webhook,
    security(("owner" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "{device_id, webhook_url}"), (status = 400, description = "Bad URL"),
        (status = 404, description = "Device not found")))]
async fn webhook(
    State(state): State<AppState>,
    owner: Owner,
    Path(device): Path<String>,
    HubJson(body): HubJson<Webhook>,
) -> HubApiResult<Json<Value>> {
    let d = owned(&state, &owner, &device).await?;
    devices::set_webhook(&state.hub.core.catalog, &d.id, body.webhook_url.clone()).await?;
    Ok(Json(
        json!({"device_id": d.id, "webhook_url": body.webhook_url}),
    ))
}

/// Delete a revoked (or rejected) agent device.
#[utoipa::path(delete, path = "/api/v1/devices/{id}", tag = "devices", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Device not found"),
        (status = 409, description = "Revoke it first"), (status = 400, description = "An owner device")))]
async fn delete_device(
    State(state): State<AppState>,
    owner: Owner,
    Path(device): Path<String>,
) -> HubApiResult<StatusCode> {
    let d = owned(&state, &owner, &device).await?;
    devices::delete(&state.hub.core.catalog, &owner.tenant, &d.id, false).await?;
    state.hub.core.live.close(&d.id, 4403, "device deleted");
    state
        .audit
        .record("hub_device_deleted", json!({"device_id": d.id}))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove an owner device; `X-Device-Id` must name it too.
#[utoipa::path(delete, path = "/api/v1/devices/{id}/remove", tag = "devices", security(("owner" = [])),
    params(("id" = String, Path), ("X-Device-Id" = String, Header)),
    responses((status = 204, description = "Removed"), (status = 400, description = "Missing or different X-Device-Id, or not an owner device"),
        (status = 404, description = "Device not found")))]
async fn remove_owner_device(
    State(state): State<AppState>,
    owner: Owner,
    headers: HeaderMap,
    Path(device): Path<String>,
) -> HubApiResult<StatusCode> {
    let d = owned(&state, &owner, &device).await?;
    let named = headers
        .get("x-device-id")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_id);
    if named.as_deref() != Some(d.id.as_str()) {
        return Err(HubApiError::bad_request(
            "X-Device-Id must name the device being removed",
        ));
    }
    devices::delete(&state.hub.core.catalog, &owner.tenant, &d.id, true).await?;
    state.hub.core.live.close(&d.id, 4403, "device removed");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
struct RegisterOwner {
    /// Hex of the device's Ed25519 identity public key.
    identity_public_key: String,
    /// Hex of an X25519 public key.
    #[serde(default)]
    ephemeral_public_key: Option<String>,
}

/// Register an owner device with its keys; it gets conversations with
/// every active agent.
#[utoipa::path(post, path = "/api/v1/devices/register", tag = "devices", request_body = RegisterOwner,
    security(("owner" = [])),
    responses((status = 201, description = "The owner device"), (status = 400, description = "Bad keys")))]
async fn register_owner_device(
    State(state): State<AppState>,
    owner: Owner,
    HubJson(body): HubJson<RegisterOwner>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let key: [u8; 32] = holdfast_core::hub::proof::hex_exact(&body.identity_public_key)
        .filter(holdfast_core::hub::proof::verifying_key_ok)
        .ok_or_else(|| {
            HubApiError::bad_request("identity_public_key must be 32 bytes of hex (an Ed25519 key)")
        })?;
    if let Some(e) = &body.ephemeral_public_key
        && holdfast_core::hub::proof::hex_exact::<32>(e).is_none()
    {
        return Err(HubApiError::bad_request(
            "ephemeral_public_key must be 32 bytes of hex",
        ));
    }
    let d = devices::ensure_owner(&state.hub.core.catalog, &owner.tenant, key).await?;
    conversations::relink(&state.hub.core.catalog, &owner.tenant).await?;
    Ok((StatusCode::CREATED, Json(device_view(&state, &d).await?)))
}

/// Make sure an owner device has a conversation with every active agent.
#[utoipa::path(post, path = "/api/v1/devices/{id}/relink", tag = "devices", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "{device_id, conversations}"), (status = 404, description = "Device not found"),
        (status = 400, description = "Not an owner device")))]
async fn relink(
    State(state): State<AppState>,
    owner: Owner,
    Path(device): Path<String>,
) -> HubApiResult<Json<Value>> {
    let d = owned(&state, &owner, &device).await?;
    if d.device_type != "owner" {
        return Err(HubApiError::bad_request("not an owner device"));
    }
    conversations::relink(&state.hub.core.catalog, &owner.tenant).await?;
    let mine: Vec<_> = conversations::list(&state.hub.core.catalog, &owner.tenant)
        .await?
        .into_iter()
        .filter(|c| c.owner_device_id == d.id)
        .collect();
    Ok(Json(json!({"device_id": d.id, "conversations": mine})))
}

/// The tenant's conversations, with their group ids and their conversation
/// group's active topics (the default one first).
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", security(("owner" = [])),
    responses((status = 200, description = "Array of conversations")))]
async fn list_conversations(
    State(state): State<AppState>,
    owner: Owner,
) -> HubApiResult<Json<Value>> {
    let mut out = Vec::new();
    for c in conversations::list(&state.hub.core.catalog, &owner.tenant).await? {
        let group = holdfast_core::hub::groups::of_conversation(&state.hub.core, &c.id).await?;
        let mut v = json!(c);
        v["group_id"] = group.into();
        let topics = holdfast_core::hub::topics::list(
            &state.hub.core.catalog,
            &owner.tenant,
            &c.conversation_group_id,
        )
        .await?;
        let active: Vec<_> = topics.iter().filter(|t| t.status == "active").collect();
        v["default_topic_id"] = active.first().map(|t| t.id.clone()).into();
        v["topics"] = json!(active);
        out.push(v);
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Deserialize, ToSchema)]
struct NewMessage {
    /// Base64 of the opaque header blob.
    #[serde(default)]
    header_blob: Option<String>,
    /// Base64 of the ciphertext.
    ciphertext: String,
    #[serde(default)]
    message_type: Option<String>,
    #[serde(default)]
    topic_id: Option<String>,
    /// The sending owner device (default: this daemon's).
    #[serde(default)]
    sender_device_id: Option<String>,
}

fn b64(s: &str, field: &str) -> HubApiResult<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|_| HubApiError::bad_request(format!("{field} must be base64")))
}

/// Store an encrypted message (opaque header and ciphertext).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    request_body = NewMessage, security(("owner" = [])), params(("id" = String, Path)),
    responses((status = 201, description = "{id, conversation_id, created_at}"), (status = 400, description = "Bad blobs"),
        (status = 404, description = "Conversation not found")))]
async fn post_message(
    State(state): State<AppState>,
    owner: Owner,
    Path(conv): Path<String>,
    HubJson(body): HubJson<NewMessage>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let c = conversations::get(
        &state.hub.core.catalog,
        &owner.tenant,
        &id(&conv, "Conversation")?,
    )
    .await?;
    let sender = body
        .sender_device_id
        .as_deref()
        .and_then(parse_id)
        .unwrap_or(c.owner_device_id.clone());
    if sender != c.owner_device_id {
        return Err(HubApiError::forbidden(
            "sender_device_id is not this conversation's owner device",
        ));
    }
    // A topic must be one of this conversation group's live ones.
    let topic_id = match body.topic_id.as_deref() {
        None | Some("") => None,
        Some(t) => {
            let topic = parse_id(t).ok_or_else(|| HubApiError::bad_request("Unknown topic_id"))?;
            match topics::get(&state.hub.core.catalog, &owner.tenant, &topic).await {
                Ok(t) if t.group_id == c.conversation_group_id && t.status == "active" => {
                    Some(topic)
                }
                _ => return Err(HubApiError::bad_request("Unknown topic_id")),
            }
        }
    };
    let header_blob = body
        .header_blob
        .as_deref()
        .map(|h| b64(h, "header_blob"))
        .transpose()?
        .unwrap_or_default();
    let ciphertext = b64(&body.ciphertext, "ciphertext")?;
    let message_type = body.message_type.unwrap_or_else(|| "text".into());
    let stored = conversations::store(
        &state.hub.core.catalog,
        conversations::Stored {
            conversation_id: c.id.clone(),
            tenant_id: owner.tenant.clone(),
            sender_device_id: sender.clone(),
            header_blob: header_blob.clone(),
            ciphertext: ciphertext.clone(),
            message_type: message_type.clone(),
            topic_id: topic_id.clone(),
        },
    )
    .await?;
    // The base document's live frame for the other end, if it is connected;
    // the stored copy is what `GET …/messages` and `/devices/{id}/messages` serve.
    let b64e = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    state.hub.core.live.send(
        &c.agent_device_id,
        holdfast_core::hub::live::frame(
            "message",
            json!({
                "id": stored["id"],
                "conversation_id": c.id,
                "sender_device_id": sender,
                "header_blob": b64e(&header_blob),
                "ciphertext": b64e(&ciphertext),
                "message_group_id": c.conversation_group_id,
                "topic_id": topic_id,
                "message_type": message_type,
                "priority": "normal",
                "created_at": stored["created_at"],
            }),
        ),
    );
    Ok((StatusCode::CREATED, Json(stored)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct History {
    /// Only messages after this time (ms since epoch).
    pub since: Option<String>,
    /// At most this many (1-500, default 100).
    pub limit: Option<usize>,
    pub topic_id: Option<String>,
}

impl History {
    pub fn since_ms(&self) -> HubApiResult<Option<i64>> {
        match self.since.as_deref() {
            None | Some("") => Ok(None),
            Some(s) => s
                .parse::<i64>()
                .map(Some)
                .map_err(|_| HubApiError::bad_request("since must be ms since epoch")),
        }
    }

    pub fn limit(&self) -> HubApiResult<usize> {
        match self.limit {
            None => Ok(100),
            Some(n @ 1..=500) => Ok(n),
            Some(_) => Err(HubApiError::bad_request("limit must be 1-500")),
        }
    }
}

/// Stored messages of a conversation, oldest first.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    security(("owner" = [])), params(("id" = String, Path), History),
    responses((status = 200, description = "Array of messages"), (status = 400, description = "Bad since/limit"),
        (status = 404, description = "Conversation not found")))]
async fn get_messages(
    State(state): State<AppState>,
    owner: Owner,
    Path(conv): Path<String>,
    Query(q): Query<History>,
) -> HubApiResult<Json<Value>> {
    let c = conversations::get(
        &state.hub.core.catalog,
        &owner.tenant,
        &id(&conv, "Conversation")?,
    )
    .await?;
    let rows = conversations::messages(
        &state.hub.core.catalog,
        vec![c.id],
        q.since_ms()?,
        q.limit()?,
        q.topic_id.clone(),
    )
    .await?;
    Ok(Json(Value::Array(rows)))
}

/// The agent's public keys, for the owner's client.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/keys", tag = "conversations",
    security(("owner" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "The counterparty's keys"), (status = 404, description = "Conversation not found")))]
async fn conversation_keys(
    State(state): State<AppState>,
    owner: Owner,
    Path(conv): Path<String>,
) -> HubApiResult<Json<Value>> {
    let c = conversations::get(
        &state.hub.core.catalog,
        &owner.tenant,
        &id(&conv, "Conversation")?,
    )
    .await?;
    let d = devices::get_in(&state.hub.core.catalog, &owner.tenant, &c.agent_device_id).await?;
    Ok(Json(keys_of(&d)))
}
