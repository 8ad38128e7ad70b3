//! A2A channels over HTTP (spec "A2A Channels", device protocol §8.2): the
//! owner's and agents' requests, the list, approval, the agent-initiated
//! create / invite / participants calls, and the channel's MLS group
//! (`/mls/a2a/{id}/group`, `/init`). Errors carry the §11.1 detail strings.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use holdfast_core::hub::a2a::{self, Channel, Party};
use holdfast_core::hub::{devices, federation, groups, identities, parse_id};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::{Caller, DeviceAuth, Owner};
use super::error::{HubApiError, HubApiResult};
use super::federation_routes;
use super::identity_routes::{address_of_device, host, local_identity};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(request))
        .routes(routes!(approve))
        .routes(routes!(invite))
        .routes(routes!(participants))
        .routes(routes!(group))
        .routes(routes!(init))
}

fn channel_id(s: &str) -> HubApiResult<String> {
    parse_id(s).ok_or_else(|| HubApiError::not_found(a2a::CHANNEL_NOT_FOUND))
}

/// The A2A channels of the caller: the owner sees the tenant's, a device its own.
#[utoipa::path(get, path = "/api/v1/a2a/channels", tag = "a2a", security(("owner" = []), ("device" = [])),
    responses((status = 200, description = "Array of channels with participants"), (status = 401, description = "Not authenticated")))]
async fn list(State(state): State<AppState>, caller: Caller) -> HubApiResult<Json<Value>> {
    let device = caller.device().map(|d| d.id.clone());
    let all = a2a::list(&state.hub.core.catalog, caller.tenant(), device.as_deref()).await?;
    Ok(Json(Value::Array(
        all.iter().map(|c| c.item(device.as_deref())).collect(),
    )))
}

/// A local device as a channel party.
async fn party_of_device(state: &AppState, d: &devices::Device) -> HubApiResult<Party> {
    Ok(Party {
        hub_id: d.hub_id.clone(),
        hub_address: address_of_device(state, d).await?,
        device_id: d.id.clone(),
        remote: false,
    })
}

/// Resolve a peer's hub address for `tenant`: a local identity of the same
/// tenant, or one on a hub this tenant has an accepted agreement with.
pub async fn resolve_peer(
    state: &AppState,
    tenant: &str,
    address: &str,
) -> HubApiResult<(Party, Option<String>)> {
    let not_found = || HubApiError::not_found(a2a::PEER_NOT_FOUND);
    let parsed = identities::parse_address(address).ok_or_else(not_found)?;
    let catalog = &state.hub.core.catalog;
    match parsed.host.as_deref() {
        Some(h) if h != host(state) => {
            let ag = federation::for_host(catalog, tenant, h).await?;
            let Some(ag) = ag.filter(|a| a.status == federation::ACCEPTED) else {
                return Err(HubApiError::bad_request(a2a::CROSS_OPERATOR));
            };
            let remote = federation_routes::remote_resolve(&ag, &parsed.name)
                .await?
                .ok_or_else(not_found)?;
            Ok((remote, Some(ag.id)))
        }
        _ => {
            let i = local_identity(state, address).await?;
            let device = match (&i, parse_id(&parsed.name)) {
                (Some(i), _) => devices::get(catalog, &i.device_id).await?,
                (None, Some(hub_id)) => match devices::by_hub_id(catalog, &hub_id).await? {
                    Some(d) => devices::get(catalog, &d).await?,
                    None => None,
                },
                _ => None,
            };
            let d = device
                .filter(|d| d.status == devices::ACTIVE && d.device_type == "agent")
                .ok_or_else(not_found)?;
            if d.tenant_id != tenant {
                return Err(HubApiError::bad_request(a2a::CROSS_OPERATOR));
            }
            Ok((party_of_device(state, &d).await?, None))
        }
    }
}

#[derive(Deserialize, ToSchema)]
struct ChannelRequest {
    /// The peer: `name@host`, `name` or `did:hub:name`.
    peer_hub_address: String,
    /// Owner requests: which of the tenant's agents asks (its hub address
    /// or hub_id). Devices ask for themselves.
    from_hub_address: Option<String>,
    /// At most 80 characters.
    topic: Option<String>,
}

/// Make a pending channel and ask the owner in the approvals queue.
async fn open_channel(
    state: &AppState,
    caller: &Caller,
    body: ChannelRequest,
) -> HubApiResult<Channel> {
    let tenant = caller.tenant().to_owned();
    let topic = body
        .topic
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    if topic
        .as_ref()
        .is_some_and(|t| t.chars().count() > a2a::MAX_TOPIC)
    {
        return Err(HubApiError::bad_request(
            "topic must be at most 80 characters",
        ));
    }
    if body.peer_hub_address.len() > 300 {
        return Err(HubApiError::bad_request("peer_hub_address is too long"));
    }
    let catalog = &state.hub.core.catalog;
    let (creator, by) = match caller {
        Caller::Device(d) => {
            let reach = identities::of_device(catalog, &d.id)
                .await?
                .is_some_and(|i| i.peer_reach_enabled);
            if !reach {
                return Err(HubApiError::bad_request(a2a::PEER_REACH_DISABLED));
            }
            (party_of_device(state, d).await?, "device")
        }
        Caller::Owner { .. } => {
            let from = body
                .from_hub_address
                .as_deref()
                .ok_or_else(|| HubApiError::bad_request("from_hub_address is required"))?;
            let (p, ag) = resolve_peer(state, &tenant, from).await?;
            if ag.is_some() {
                return Err(HubApiError::bad_request(a2a::NOT_A_PARTICIPANT));
            }
            (p, "owner")
        }
    };
    let (peer, agreement) = resolve_peer(state, &tenant, &body.peer_hub_address).await?;
    if peer.hub_id == creator.hub_id {
        return Err(HubApiError::bad_request(a2a::SELF_PEER));
    }
    let ch = a2a::create(
        catalog,
        &tenant,
        None,
        creator,
        peer,
        topic,
        by,
        agreement,
        a2a::PENDING,
    )
    .await?;
    state
        .audit
        .record(
            "hub_a2a_channel_requested",
            json!({"channel_id": ch.channel_id, "requested_by": by}),
        )
        .await;
    state.hub.core.a2a_prompts.raise(
        state.hub.core.clone(),
        state.approvals.clone(),
        ch.clone(),
        state.node.approval_timeout.max(super::ENROL_PROMPT),
    );
    a2a::announce(&state.hub.core, &ch, "a2a_invite_pending", json!({}));
    Ok(ch)
}

/// Request a new A2A channel (owner on behalf of an agent, or an agent);
/// it waits for the owner's approval.
#[utoipa::path(post, path = "/api/v1/a2a/channels/request", tag = "a2a", request_body = ChannelRequest,
    security(("owner" = []), ("device" = []), ("api_key" = [])),
    responses((status = 201, description = "The pending channel"),
        (status = 400, description = "self_peer_not_allowed, cross_operator_not_supported, peer_reach_disabled, bad topic"),
        (status = 404, description = "peer_not_found"), (status = 429, description = "rate_limited")))]
async fn request(
    State(state): State<AppState>,
    caller: Caller,
    HubJson(body): HubJson<ChannelRequest>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let ch = open_channel(&state, &caller, body).await?;
    let device = caller.device().map(|d| d.id.clone());
    Ok((StatusCode::CREATED, Json(ch.item(device.as_deref()))))
}

/// Agent-initiated channel (§8.2): `{"peer_hub_address", "topic"?}` →
/// `{"channel_id", "mls_group_id", "status", "source"}`.
#[utoipa::path(post, path = "/api/v1/a2a/channels", tag = "a2a", request_body = ChannelRequest,
    security(("device" = [])),
    responses((status = 201, description = "{channel_id, mls_group_id, status, source}"),
        (status = 400, description = "self_peer_not_allowed, cross_operator_not_supported, peer_reach_disabled"),
        (status = 404, description = "peer_not_found"), (status = 429, description = "rate_limited")))]
async fn create(
    State(state): State<AppState>,
    auth: DeviceAuth,
    HubJson(body): HubJson<ChannelRequest>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    // Agents only (the owner uses /a2a/channels/request): the credential is
    // checked before the body is read.
    let caller = Caller::Device(auth.device);
    let ch = open_channel(&state, &caller, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "channel_id": ch.channel_id, "mls_group_id": ch.mls_group_id, "status": ch.status,
            "source": if ch.agreement_id.is_some() { "federation" } else { "local" },
        })),
    ))
}

/// Approve a pending channel (withdraws its prompt in the approvals queue).
#[utoipa::path(post, path = "/api/v1/a2a/channels/{id}/approve", tag = "a2a", security(("owner" = [])),
    params(("id" = String, Path, description = "Channel id")),
    responses((status = 200, description = "The active channel"),
        (status = 401, description = "Not the owner"), (status = 404, description = "Channel not found"),
        (status = 409, description = "Channel was rejected")))]
async fn approve(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    let id = channel_id(&id)?;
    let ch = a2a::approve(&state.hub.core, &owner.tenant, &id).await?;
    Ok(Json(ch.item(None)))
}

#[derive(Deserialize, ToSchema)]
struct Invite {
    hub_address: String,
}

/// Add a participant to an active channel the caller takes part in.
#[utoipa::path(post, path = "/api/v1/a2a/channels/{id}/invite", tag = "a2a", request_body = Invite,
    security(("device" = [])), params(("id" = String, Path, description = "Channel id")),
    responses((status = 200, description = "{participant_id, status, channel_id}"),
        (status = 400, description = "cross_operator_not_supported, self_peer_not_allowed"),
        (status = 403, description = "not_a_participant"), (status = 404, description = "Channel not found, peer_not_found"),
        (status = 409, description = "already_a_participant")))]
async fn invite(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(id): Path<String>,
    HubJson(body): HubJson<Invite>,
) -> HubApiResult<Json<Value>> {
    let id = channel_id(&id)?;
    let d = &auth.device;
    let ch = a2a::get_for_device(&state.hub.core.catalog, &d.tenant_id, &id, &d.id).await?;
    let (party, agreement) = resolve_peer(&state, &d.tenant_id, &body.hub_address).await?;
    if party.device_id == d.id {
        return Err(HubApiError::bad_request(a2a::SELF_PEER));
    }
    if agreement.is_some() && agreement != ch.agreement_id {
        return Err(HubApiError::bad_request(a2a::CROSS_OPERATOR));
    }
    let p = a2a::invite(&state.hub.core, &ch, &d.id, party).await?;
    Ok(Json(
        json!({"participant_id": p.hub_id, "status": p.status, "channel_id": ch.channel_id}),
    ))
}

/// The channel's participants.
#[utoipa::path(get, path = "/api/v1/a2a/channels/{id}/participants", tag = "a2a",
    security(("owner" = []), ("device" = [])), params(("id" = String, Path, description = "Channel id")),
    responses((status = 200, description = "Array of {hub_id, hub_address, device_id, status, role}"),
        (status = 404, description = "Channel not found")))]
async fn participants(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    let id = channel_id(&id)?;
    let catalog = &state.hub.core.catalog;
    let ch = match caller.device() {
        Some(d) => a2a::get_for_device(catalog, &d.tenant_id, &id, &d.id).await?,
        None => a2a::get(catalog, caller.tenant(), &id).await?,
    };
    Ok(Json(
        serde_json::to_value(&ch.participants).unwrap_or_default(),
    ))
}

/// The channel's MLS group head (404 until `init`).
#[utoipa::path(get, path = "/api/v1/mls/a2a/{channel_id}/group", tag = "mls", security(("device" = [])),
    params(("channel_id" = String, Path, description = "Channel id")),
    responses((status = 200, description = "{group_id, current_epoch, member_device_ids}"),
        (status = 404, description = "Channel or group not found")))]
async fn group(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(channel_id_): Path<String>,
) -> HubApiResult<Json<Value>> {
    let id = channel_id(&channel_id_)?;
    let d = &auth.device;
    let ch = a2a::get_for_device(&state.hub.core.catalog, &d.tenant_id, &id, &d.id).await?;
    let gid = ch
        .mls_group_id
        .ok_or_else(|| HubApiError::not_found("Group not found"))?;
    match groups::head(&state.hub.core, &gid, &d.id).await {
        Ok(h) => Ok(Json(json!({
            "group_id": h.group_id, "current_epoch": h.current_epoch,
            "member_device_ids": h.member_device_ids,
        }))),
        // An invited participant not yet in the roster still learns the id.
        Err(holdfast_core::hub::HubError::Forbidden(_)) => Ok(Json(
            json!({"group_id": gid, "current_epoch": null, "member_device_ids": []}),
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, ToSchema)]
struct Init {
    #[serde(default)]
    member_device_ids: Vec<String>,
}

/// Make (or return) the channel's MLS group; idempotent.
#[utoipa::path(post, path = "/api/v1/mls/a2a/{channel_id}/init", tag = "mls", request_body = Init,
    security(("device" = [])), params(("channel_id" = String, Path, description = "Channel id")),
    responses((status = 200, description = "{group_id}"), (status = 403, description = "not_a_participant"),
        (status = 404, description = "Channel not found"), (status = 409, description = "Channel not active")))]
async fn init(
    State(state): State<AppState>,
    auth: DeviceAuth,
    Path(channel_id_): Path<String>,
    HubJson(body): HubJson<Init>,
) -> HubApiResult<Json<Value>> {
    let id = channel_id(&channel_id_)?;
    if body.member_device_ids.len() > 100 {
        return Err(HubApiError::bad_request("at most 100 member_device_ids"));
    }
    let d = &auth.device;
    let ch = a2a::get_for_device(&state.hub.core.catalog, &d.tenant_id, &id, &d.id).await?;
    let members = body
        .member_device_ids
        .iter()
        .filter_map(|m| parse_id(m))
        .collect();
    let gid = a2a::init_group(&state.hub.core, &ch, &d.id, members).await?;
    Ok(Json(json!({"group_id": gid})))
}
