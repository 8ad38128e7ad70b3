//! Rooms (spec/agent-hub-api.md "Rooms", device protocol §8.1): the
//! owner's eight routes, `GET /rooms` for devices too, and [`relay`], the
//! one path every room message takes (socket frames and REST posts alike):
//! the policy engine's verdict, then fan-out, hold or block.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use base64::Engine;
use holdfast_core::hub::policies::{self, Action, Meta};
use holdfast_core::hub::rooms::{self, NewRoom, Room, RoomMessage, RoomPatch};
use holdfast_core::hub::{devices, held, parse_id};
use holdfast_core::time::now_ms;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::{Caller, Owner};
use super::error::{HubApiError, HubApiResult};
use super::owner_routes::History;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_room, list_rooms))
        .routes(routes!(get_room, patch_room))
        .routes(routes!(add_member))
        .routes(routes!(remove_member))
        .routes(routes!(post_message, get_messages))
}

fn room_id(s: &str) -> HubApiResult<String> {
    parse_id(s).ok_or_else(|| HubApiError::not_found(rooms::NOT_FOUND))
}

/// How long a held-message prompt stays on screen (it stays held after).
pub fn held_prompt_timeout(state: &AppState) -> std::time::Duration {
    state.node.approval_timeout.max(super::ENROL_PROMPT)
}

/// What became of a room message.
pub enum Relayed {
    Delivered { message_id: String, created_ms: i64 },
    Held(Box<held::Held>),
    Blocked { policy_id: Option<String> },
}

/// Evaluate the tenant's policies on the message's metadata, record any
/// non-allow verdict in the audit ring (`hub_policy_hit`), then fan out
/// (allow, notify), hold for the owner (hold) or drop (block).
pub async fn relay(state: &AppState, m: RoomMessage) -> HubApiResult<Relayed> {
    m.check()?;
    let hub = &state.hub.core;
    let now = now_ms();
    let verdict = policies::verdict(
        &hub.catalog,
        &m.tenant_id,
        Meta {
            sender_device_id: m.sender_device_id.clone(),
            room_id: m.room_id.clone(),
            size_bytes: m.payload.len() as u64,
            message_type: m.message_type.clone(),
            minute_of_day: Meta::minute_at(now),
        },
    )
    .await?;
    if verdict.action != Action::Allow {
        let hub_id = devices::get(&hub.catalog, &m.sender_device_id)
            .await?
            .map(|d| d.hub_id);
        state
            .audit
            .record(
                "hub_policy_hit",
                json!({
                    "tenant_id": m.tenant_id, "device_id": m.sender_device_id, "hub_id": hub_id,
                    "policy_id": verdict.policy_id, "action": verdict.action.as_str(),
                    "room_id": m.room_id,
                }),
            )
            .await;
    }
    match verdict.action {
        Action::Allow | Action::Notify => {
            let (room, sender, tenant) = (
                m.room_id.clone(),
                m.sender_device_id.clone(),
                m.tenant_id.clone(),
            );
            let (message_id, created_ms) = rooms::fan_out(hub, m).await?;
            if verdict.action == Action::Notify {
                hub.events.publish(
                    "agent_policy_notify",
                    json!({
                        "tenant_id": tenant, "room_id": room, "sender_device_id": sender,
                        "message_id": message_id, "policy_id": verdict.policy_id,
                        "policy_name": verdict.policy_name,
                    }),
                );
            }
            Ok(Relayed::Delivered {
                message_id,
                created_ms,
            })
        }
        Action::Block => Ok(Relayed::Blocked {
            policy_id: verdict.policy_id,
        }),
        Action::Hold => {
            let h = held::hold(&hub.catalog, m, &verdict).await?;
            hub.held.raise(
                hub.clone(),
                state.approvals.clone(),
                h.clone(),
                held_prompt_timeout(state),
            );
            hub.events.publish(
                "agent_held_message",
                json!({"id": h.id, "status": h.status, "tenant_id": h.tenant_id}),
            );
            Ok(Relayed::Held(Box::new(h)))
        }
    }
}

/// The owner device that founds a tenant's rooms: this computer's in the
/// default tenant (503 while Holdfast is locked), else the tenant's first
/// active registered owner device, if any.
async fn owner_device_for(state: &AppState, tenant: &str) -> HubApiResult<Option<String>> {
    if tenant == state.hub.core.default_tenant {
        return Ok(Some(state.hub.owner.loaded_id().await?));
    }
    Ok(rooms::tenant_owner_device(&state.hub.core.catalog, tenant).await?)
}

/// The owner device's MLS work after a membership change; a failure there
/// leaves the room usable (agents ask for a Welcome again), so it is logged.
async fn after_change(state: &AppState, room: &Room, added: Option<&str>) {
    if let Err(e) = state.hub.owner.room_add(room, added).await {
        tracing::warn!(room = %room.id, "adding agents to the room's MLS group failed: {e}");
    }
    rooms::announce_joined(&state.hub.core, room);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewRoomBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
    /// `standard` (default) or `strict`.
    #[serde(default)]
    security_level: Option<String>,
    /// The agent devices that take part (at most 50).
    #[serde(default, alias = "members")]
    member_device_ids: Vec<String>,
}

/// Create a room with its members; the owner's device founds its MLS group
/// and each member gets `room_joined` and a Welcome row carrying `room_id`.
#[utoipa::path(post, path = "/api/v1/rooms", tag = "rooms", request_body = NewRoomBody,
    security(("owner" = [])),
    responses((status = 201, description = "The room with members and conversations"),
        (status = 400, description = "Bad fields"), (status = 401, description = "Not the owner"),
        (status = 404, description = "A member is not a device of this tenant"),
        (status = 409, description = "A member is not active"),
        (status = 503, description = "Holdfast is locked")))]
async fn create_room(
    State(state): State<AppState>,
    owner: Owner,
    HubJson(body): HubJson<NewRoomBody>,
) -> HubApiResult<(StatusCode, Json<Room>)> {
    if body.member_device_ids.len() > rooms::MAX_MEMBERS * 2 {
        return Err(HubApiError::bad_request("too many member_device_ids"));
    }
    let owner_device = owner_device_for(&state, &owner.tenant).await?;
    let room = rooms::create(
        &state.hub.core.catalog,
        &owner.tenant,
        NewRoom {
            name: body.name,
            description: body.description,
            security_level: body.security_level,
            member_device_ids: body.member_device_ids,
            owner_device_id: owner_device,
        },
    )
    .await?;
    after_change(&state, &room, None).await;
    state
        .audit
        .record(
            "hub_room_created",
            json!({"tenant_id": owner.tenant, "room_id": room.id}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(room)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `1`: archived rooms too (owner only).
    include_archived: Option<String>,
}

/// Active rooms: all of the tenant's for the owner; for a device, a JSON
/// array of the active rooms it is a member of, with members (§8.1).
#[utoipa::path(get, path = "/api/v1/rooms", tag = "rooms", security(("owner" = []), ("device" = [])),
    params(ListQuery),
    responses((status = 200, description = "Array of rooms"), (status = 401, description = "Not authenticated")))]
async fn list_rooms(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> HubApiResult<Json<Vec<Room>>> {
    let all = q.include_archived.as_deref() == Some("1");
    let device = caller.device().map(|d| d.id.clone());
    Ok(Json(
        rooms::list(
            &state.hub.core.catalog,
            caller.tenant(),
            device.as_deref(),
            all,
        )
        .await?,
    ))
}

/// A room with its members and conversations.
#[utoipa::path(get, path = "/api/v1/rooms/{id}", tag = "rooms", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The room"), (status = 401, description = "Not the owner"),
        (status = 404, description = "Room not found")))]
async fn get_room(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> HubApiResult<Json<Room>> {
    Ok(Json(
        rooms::get(&state.hub.core.catalog, &owner.tenant, &room_id(&id)?).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PatchRoomBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    /// `active` or `archived`.
    #[serde(default)]
    status: Option<String>,
    /// `standard` or `strict`.
    #[serde(default)]
    security_level: Option<String>,
}

/// Update a room's settings (name, description, status, security level).
/// Policies apply to rooms through their `room_ids` condition.
#[utoipa::path(patch, path = "/api/v1/rooms/{id}", tag = "rooms", request_body = PatchRoomBody,
    security(("owner" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "The room"), (status = 400, description = "Bad fields"),
        (status = 401, description = "Not the owner"), (status = 404, description = "Room not found")))]
async fn patch_room(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
    HubJson(body): HubJson<PatchRoomBody>,
) -> HubApiResult<Json<Room>> {
    let room = rooms::update(
        &state.hub.core.catalog,
        &owner.tenant,
        &room_id(&id)?,
        RoomPatch {
            name: body.name,
            description: body.description.map(Some),
            status: body.status,
            security_level: body.security_level,
        },
    )
    .await?;
    rooms::announce_joined(&state.hub.core, &room);
    Ok(Json(room))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewMember {
    device_id: String,
}

/// Add an agent to a room: it joins the MLS group (commit, then its
/// Welcome row) and every member gets `room_joined` again.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/members", tag = "rooms", request_body = NewMember,
    security(("owner" = [])), params(("id" = String, Path)),
    responses((status = 201, description = "The room"), (status = 400, description = "Bad device_id"),
        (status = 401, description = "Not the owner"), (status = 404, description = "Room or device not found"),
        (status = 409, description = "Already a member, device not active, or room archived")))]
async fn add_member(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
    HubJson(body): HubJson<NewMember>,
) -> HubApiResult<(StatusCode, Json<Room>)> {
    let room = rooms::add_member(
        &state.hub.core.catalog,
        &owner.tenant,
        &room_id(&id)?,
        &body.device_id,
    )
    .await?;
    let added = parse_id(&body.device_id).unwrap_or_default();
    after_change(&state, &room, Some(&added)).await;
    Ok((StatusCode::CREATED, Json(room)))
}

/// Remove an agent from a room: the owner's device commits its removal,
/// the hub drops it from the roster, the others get `room_joined`.
#[utoipa::path(delete, path = "/api/v1/rooms/{id}/members/{device_id}", tag = "rooms",
    security(("owner" = [])), params(("id" = String, Path), ("device_id" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 401, description = "Not the owner"),
        (status = 404, description = "Room not found, or not a member")))]
async fn remove_member(
    State(state): State<AppState>,
    owner: Owner,
    Path((id, device)): Path<(String, String)>,
) -> HubApiResult<StatusCode> {
    let rid = room_id(&id)?;
    let device = parse_id(&device)
        .ok_or_else(|| HubApiError::not_found("The device is not a member of this room"))?;
    let room = rooms::check_member(&state.hub.core.catalog, &owner.tenant, &rid, &device).await?;
    if let Err(e) = state.hub.owner.room_remove(&room, &device).await {
        tracing::warn!(room = %room.id, "removing an agent from the room's MLS group failed: {e}");
    }
    let room = rooms::remove_member(&state.hub.core.catalog, &owner.tenant, &rid, &device).await?;
    rooms::announce_joined(&state.hub.core, &room);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewRoomMessage {
    /// Base64 of the MLS ciphertext (sent to members as the row `payload`).
    ciphertext: String,
    /// Base64 of the opaque header blob.
    #[serde(default)]
    header_blob: Option<String>,
    #[serde(default)]
    message_type: Option<String>,
    #[serde(default)]
    client_message_id: Option<String>,
    #[serde(default)]
    epoch: Option<i64>,
    /// The sending owner device (default: the room's).
    #[serde(default)]
    sender_device_id: Option<String>,
}

fn b64(s: &str, field: &str) -> HubApiResult<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|_| HubApiError::bad_request(format!("{field} must be base64")))
}

/// The answer to a posted room message.
pub fn relayed_json(room: &str, r: &Relayed) -> (StatusCode, Value) {
    match r {
        Relayed::Delivered {
            message_id,
            created_ms,
        } => (
            StatusCode::CREATED,
            json!({"id": message_id, "room_id": room, "status": "delivered",
                "created_at": holdfast_core::time::rfc3339(*created_ms)}),
        ),
        Relayed::Held(h) => (
            StatusCode::ACCEPTED,
            json!({"id": h.message_id, "room_id": room, "status": "held", "held_message_id": h.id,
                "policy_id": h.policy_id}),
        ),
        Relayed::Blocked { .. } => (StatusCode::FORBIDDEN, json!({})),
    }
}

/// Fan out an encrypted message to the room's other members after the
/// policy engine's verdict: 201 delivered, 202 held for approval, 403
/// blocked by a policy.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/messages", tag = "rooms", request_body = NewRoomMessage,
    security(("owner" = [])), params(("id" = String, Path)),
    responses((status = 201, description = "Delivered: {id, room_id, status, created_at}"),
        (status = 202, description = "Held for approval: {id, status: held, held_message_id}"),
        (status = 400, description = "Bad blobs"), (status = 401, description = "Not the owner"),
        (status = 403, description = "Blocked by a policy, or not the room's owner device"),
        (status = 404, description = "Room not found"), (status = 409, description = "Room archived or without an owner device")))]
async fn post_message(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
    HubJson(body): HubJson<NewRoomMessage>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let room = rooms::get(&state.hub.core.catalog, &owner.tenant, &room_id(&id)?).await?;
    let Some(owner_device) = room.owner_device_id.clone() else {
        return Err(HubApiError::new(
            StatusCode::CONFLICT,
            "The room has no owner device to send from",
        ));
    };
    if let Some(s) = &body.sender_device_id
        && parse_id(s).as_deref() != Some(owner_device.as_str())
    {
        return Err(HubApiError::forbidden(
            "sender_device_id is not this room's owner device",
        ));
    }
    if room.status != rooms::ACTIVE {
        return Err(HubApiError::new(
            StatusCode::CONFLICT,
            "The room is archived",
        ));
    }
    if body
        .client_message_id
        .as_ref()
        .is_some_and(|c| c.is_empty() || c.len() > 128)
    {
        return Err(HubApiError::bad_request(
            "client_message_id must be 1-128 characters",
        ));
    }
    let m = RoomMessage {
        tenant_id: owner.tenant.clone(),
        room_id: room.id.clone(),
        group_id: room.group_id.clone(),
        sender_device_id: owner_device,
        payload: b64(&body.ciphertext, "ciphertext")?,
        header_blob: body
            .header_blob
            .as_deref()
            .map(|h| b64(h, "header_blob"))
            .transpose()?,
        message_type: body.message_type.unwrap_or_else(|| "text".into()),
        client_message_id: body.client_message_id,
        epoch: body.epoch,
        topic_id: None,
        parent_span_id: None,
    };
    let r = relay(&state, m).await?;
    if let Relayed::Blocked { .. } = r {
        return Err(HubApiError::forbidden("Message blocked by policy"));
    }
    let (status, v) = relayed_json(&room.id, &r);
    Ok((status, Json(v)))
}

/// The room's aggregated timeline: every member's messages (ciphertext),
/// oldest first.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/messages", tag = "rooms",
    security(("owner" = [])), params(("id" = String, Path), History),
    responses((status = 200, description = "Array of messages"), (status = 400, description = "Bad since/limit"),
        (status = 401, description = "Not the owner"), (status = 404, description = "Room not found")))]
async fn get_messages(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
    Query(q): Query<History>,
) -> HubApiResult<Json<Vec<Value>>> {
    Ok(Json(
        rooms::timeline(
            &state.hub.core.catalog,
            &owner.tenant,
            &room_id(&id)?,
            q.since_ms()?,
            q.limit()?,
        )
        .await?,
    ))
}
