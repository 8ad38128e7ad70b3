//! The owner's side of the agent hub on REST (`/agents…`): the agents with
//! their presence, and the conversation with each, in plaintext, through
//! the owner's device in this daemon (`hub::owner_device`). Also the Agents
//! page's controls (invites, approve, revoke), which call the same code as
//! the hub's own owner routes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use holdfast_core::hub::{HubError, devices, invites, parse_id};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiQuery};
use crate::hub::owner_device::OwnerMessage;
use crate::state::AppState;

impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        match e {
            HubError::BadRequest(m) => ApiError::bad_request(m),
            HubError::Unauthorized(m) => ApiError::unauthorized(m),
            HubError::Forbidden(m) => ApiError::forbidden(m),
            HubError::NotFound(m) => ApiError::not_found(m),
            HubError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            HubError::Unavailable(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m),
            HubError::TooLarge(m) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, m),
            HubError::Catalog(c) => ApiError::internal(c),
        }
    }
}

impl From<crate::hub::HubApiError> for ApiError {
    fn from(e: crate::hub::HubApiError) -> Self {
        ApiError::new(e.status, e.detail)
    }
}

/// An agent as the owner sees it.
#[derive(Serialize, ToSchema)]
pub struct Agent {
    pub device_id: String,
    pub name: String,
    /// PENDING, APPROVED, REJECTED, ACTIVE, SUSPENDED or REVOKED.
    pub status: String,
    /// BLAKE2b-64 of its identity key, as the agent prints it.
    pub fingerprint: String,
    pub platform: Option<String>,
    pub last_seen_ms: Option<i64>,
    /// Connected to the hub now.
    pub online: bool,
}

fn agent_id(s: &str) -> ApiResult<String> {
    parse_id(s).ok_or_else(|| ApiError::not_found(devices::NOT_FOUND))
}

/// The agents enrolled on this hub (default tenant), oldest first.
#[utoipa::path(get, path = "/agents", tag = "agents",
    responses((status = 200, body = [Agent]), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Agent>>> {
    let hub = &state.hub.core;
    let all = devices::list(&hub.catalog, &hub.default_tenant).await?;
    Ok(Json(
        all.into_iter()
            .filter(|d| d.device_type == "agent")
            .map(|d| Agent {
                online: hub.live.is_online(&d.id),
                device_id: d.id,
                name: d.name,
                status: d.status,
                fingerprint: d.fingerprint,
                platform: d.platform,
                last_seen_ms: d.last_seen_ms,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// 1 to 16384 characters.
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct Sent {
    pub message_id: String,
    pub created_at_ms: i64,
}

/// Send a message to an agent, end-to-end encrypted (the first one founds
/// the MLS group with the agent).
#[utoipa::path(post, path = "/agents/{device_id}/messages", tag = "agents", request_body = NewMessage,
    params(("device_id" = String, Path)),
    responses((status = 201, body = Sent), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The agent is not active or has no KeyPackage yet", body = ErrorBody),
        (status = 503, description = "Holdfast is locked", body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    Path(device): Path<String>,
    ApiJson(body): ApiJson<NewMessage>,
) -> ApiResult<(StatusCode, Json<Sent>)> {
    let n = body.text.chars().count();
    if n == 0 || n > 16_384 {
        return Err(ApiError::bad_request("text must be 1 to 16384 characters"));
    }
    let m = state
        .hub
        .owner
        .send(&agent_id(&device)?, &body.text)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Sent {
            message_id: m.message_id,
            created_at_ms: m.created_at_ms,
        }),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Only messages after this time (ms since epoch).
    pub since_ms: Option<i64>,
    /// 1-1000, default 200.
    pub limit: Option<usize>,
}

/// The conversation with an agent, oldest first, decrypted.
#[utoipa::path(get, path = "/agents/{device_id}/messages", tag = "agents",
    params(("device_id" = String, Path), MessagesQuery),
    responses((status = 200, body = [OwnerMessage]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "Holdfast is locked", body = ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    Path(device): Path<String>,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> ApiResult<Json<Vec<OwnerMessage>>> {
    let limit = match q.limit {
        None => 200,
        Some(n @ 1..=1000) => n,
        Some(_) => return Err(ApiError::bad_request("limit must be 1-1000")),
    };
    Ok(Json(
        state
            .hub
            .owner
            .messages(&agent_id(&device)?, q.since_ms, limit)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NewInvite {
    pub label: Option<String>,
    /// 1-720 (default 72).
    pub expires_in_hours: Option<i64>,
}

/// Make an invite for an agent; its token is shown in this answer only.
#[utoipa::path(post, path = "/agents/invites", tag = "agents", request_body = NewInvite,
    responses((status = 201, description = "The invite with `token` and `hub_url`"), (status = 400, body = ErrorBody)))]
pub async fn create_invite(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewInvite>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let hub = &state.hub.core;
    let inv = invites::create(
        &hub.catalog,
        &hub.default_tenant,
        body.label,
        body.expires_in_hours,
    )
    .await?;
    state
        .audit
        .record("hub_invite_created", json!({"invite_id": inv.id}))
        .await;
    let mut v = json!(inv);
    v["hub_url"] = state.hub.url().into();
    Ok((StatusCode::CREATED, Json(v)))
}

/// The invites of the default tenant (never their tokens).
#[utoipa::path(get, path = "/agents/invites", tag = "agents",
    responses((status = 200, description = "Array of invites")))]
pub async fn list_invites(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let hub = &state.hub.core;
    Ok(Json(json!(
        invites::list(&hub.catalog, &hub.default_tenant).await?
    )))
}

/// Revoke an unused invite.
#[utoipa::path(post, path = "/agents/invites/{id}/revoke", tag = "agents", params(("id" = String, Path)),
    responses((status = 200, description = "The invite"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke_invite(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let hub = &state.hub.core;
    let id = parse_id(&id).ok_or_else(|| ApiError::not_found("Invite not found"))?;
    Ok(Json(json!(
        invites::revoke(&hub.catalog, &hub.default_tenant, &id).await?
    )))
}

/// Approve a pending agent (same as answering its prompt with Allow).
#[utoipa::path(post, path = "/agents/{device_id}/approve", tag = "agents", params(("device_id" = String, Path)),
    responses((status = 200, body = Agent), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    Path(device): Path<String>,
) -> ApiResult<Json<Value>> {
    let hub = &state.hub.core;
    let d = devices::approve(&hub.catalog, &hub.default_tenant, &agent_id(&device)?).await?;
    hub.prompts.withdraw(&d.id);
    hub.announce_device(&d);
    state
        .audit
        .record("hub_device_approved", json!({"device_id": d.id}))
        .await;
    Ok(Json(json!({"device_id": d.id, "status": d.status})))
}

/// Revoke an agent: its socket closes at once and it cannot reconnect.
#[utoipa::path(post, path = "/agents/{device_id}/revoke", tag = "agents", params(("device_id" = String, Path)),
    responses((status = 200, body = Agent), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Path(device): Path<String>,
) -> ApiResult<Json<Value>> {
    let tenant = state.hub.core.default_tenant.clone();
    let d = crate::hub::revoke_device(&state, &tenant, &agent_id(&device)?).await?;
    Ok(Json(json!({"device_id": d.id, "status": d.status})))
}

/// What became of a room message the owner sent.
#[derive(Serialize, ToSchema)]
pub struct RoomSent {
    pub message_id: String,
    /// `delivered`, or `held` (a policy holds it for approval).
    pub status: String,
    pub created_at_ms: i64,
}

fn room_id(s: &str) -> ApiResult<String> {
    parse_id(s).ok_or_else(|| ApiError::not_found(holdfast_core::hub::rooms::NOT_FOUND))
}

/// Send a message into a room (default tenant), end-to-end encrypted by
/// this computer's owner device; the policy engine applies as to any room
/// message.
#[utoipa::path(post, path = "/agents/rooms/{id}/messages", tag = "agents", request_body = NewMessage,
    params(("id" = String, Path)),
    responses((status = 201, body = RoomSent), (status = 202, description = "Held by a policy", body = RoomSent),
        (status = 400, body = ErrorBody), (status = 403, description = "Blocked by a policy", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "No agent joined the room yet, or the room is archived", body = ErrorBody),
        (status = 503, description = "Holdfast is locked", body = ErrorBody)))]
pub async fn send_room(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewMessage>,
) -> ApiResult<(StatusCode, Json<RoomSent>)> {
    use crate::hub::room_routes::{Relayed, relay};
    use holdfast_core::hub::rooms;
    let n = body.text.chars().count();
    if n == 0 || n > 16_384 {
        return Err(ApiError::bad_request("text must be 1 to 16384 characters"));
    }
    let hub = &state.hub.core;
    let room = rooms::get(&hub.catalog, &hub.default_tenant, &room_id(&id)?).await?;
    if room.status != rooms::ACTIVE {
        return Err(ApiError::new(StatusCode::CONFLICT, "The room is archived"));
    }
    let (me, ct, epoch) = state.hub.owner.encrypt_room(&room, &body.text).await?;
    let m = rooms::RoomMessage {
        tenant_id: room.tenant_id.clone(),
        room_id: room.id.clone(),
        group_id: room.group_id.clone(),
        sender_device_id: me,
        payload: ct,
        header_blob: None,
        message_type: "text".into(),
        client_message_id: None,
        epoch: Some(epoch),
        topic_id: None,
        parent_span_id: None,
    };
    let (status, message_id, state_name, created) = match relay(&state, m).await? {
        Relayed::Delivered {
            message_id,
            created_ms,
        } => (StatusCode::CREATED, message_id, "delivered", created_ms),
        Relayed::Held(h) => (
            StatusCode::ACCEPTED,
            h.message_id,
            "held",
            holdfast_core::time::now_ms(),
        ),
        Relayed::Blocked { .. } => return Err(ApiError::forbidden("Message blocked by policy")),
    };
    state
        .hub
        .owner
        .keep_sent(&room.id, &message_id, &body.text, created)
        .await?;
    Ok((
        status,
        Json(RoomSent {
            message_id,
            status: state_name.into(),
            created_at_ms: created,
        }),
    ))
}

/// A room's messages as this computer's owner device decrypted them
/// (default tenant), oldest first.
#[utoipa::path(get, path = "/agents/rooms/{id}/messages", tag = "agents",
    params(("id" = String, Path), MessagesQuery),
    responses((status = 200, body = [crate::hub::owner_device::RoomText]), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, description = "Holdfast is locked", body = ErrorBody)))]
pub async fn room_messages(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> ApiResult<Json<Vec<crate::hub::owner_device::RoomText>>> {
    let limit = match q.limit {
        None => 200,
        Some(n @ 1..=1000) => n,
        Some(_) => return Err(ApiError::bad_request("limit must be 1-1000")),
    };
    let hub = &state.hub.core;
    let room =
        holdfast_core::hub::rooms::get(&hub.catalog, &hub.default_tenant, &room_id(&id)?).await?;
    Ok(Json(
        state
            .hub
            .owner
            .room_messages(&room.id, q.since_ms, limit)
            .await?,
    ))
}
