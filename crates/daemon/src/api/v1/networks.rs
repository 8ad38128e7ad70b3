//! Networks (saved swarm key + bootstrap pairs) and the mesh's system
//! routes: first-boot setup, share payloads for a new device, NAT facts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use holdfast_core::mesh::networks::Network;
use holdfast_core::mesh::{Mesh, MeshStatus, psk};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiJsonOrEmpty, ApiQuery};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct NetworkJson {
    pub id: String,
    pub name: String,
    /// A short public fingerprint of the swarm key (safe to show).
    pub fingerprint: String,
    pub bootstrap: Vec<String>,
    pub created_ms: i64,
    /// Whether this is the network the daemon connects to.
    pub active: bool,
}

fn json_of(n: Network) -> NetworkJson {
    NetworkJson {
        fingerprint: psk::parse(&n.psk)
            .map(|k| psk::fingerprint(&k))
            .unwrap_or_default(),
        id: n.id,
        name: n.name,
        bootstrap: n.bootstrap,
        created_ms: n.created_ms,
        active: n.active,
    }
}

#[derive(Serialize, ToSchema)]
pub struct StateJson {
    /// `none`, `offline`, `connecting` or `connected`.
    pub state: String,
    pub id: Option<String>,
    pub name: Option<String>,
}

impl From<MeshStatus> for StateJson {
    fn from(s: MeshStatus) -> Self {
        Self {
            state: s.state,
            id: s.id,
            name: s.name,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NetworkList {
    /// The network the daemon is on (or set to connect to).
    pub active_id: Option<String>,
    pub state: String,
    pub networks: Vec<NetworkJson>,
}

/// Saved networks and the active one.
#[utoipa::path(get, path = "/networks", tag = "networks", security(("bearer" = [])),
    responses((status = 200, body = NetworkList), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<NetworkList>> {
    let status = state.mesh.state_label().await?;
    let nets = state.mesh.networks().list().await?;
    Ok(Json(NetworkList {
        active_id: nets.iter().find(|n| n.active).map(|n| n.id.clone()),
        state: status.state,
        networks: nets.into_iter().map(json_of).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct AddNetwork {
    /// A `holdfast://join/v1/…` invite.
    pub url: String,
    /// A local name for it (default: the invite's).
    pub name: Option<String>,
}

/// Add a network from an invite; connects to it when no network is active.
#[utoipa::path(post, path = "/networks", tag = "networks", security(("bearer" = [])), request_body = AddNetwork,
    responses((status = 201, body = NetworkJson), (status = 400, description = "Not a valid invite", body = ErrorBody),
              (status = 403, description = "The network refused the invite (revoked)", body = ErrorBody),
              (status = 410, description = "The invite expired", body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<AddNetwork>,
) -> ApiResult<(StatusCode, Json<NetworkJson>)> {
    let n = state
        .mesh
        .add_from_url(&req.url, req.name.as_deref())
        .await?;
    state
        .audit
        .record(
            "network_joined",
            serde_json::json!({"network_id": n.id, "name": n.name}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(json_of(n))))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct CreateNetwork {
    /// Default: "My network".
    pub name: Option<String>,
}

/// Mint a new network (a fresh swarm key); connects to it when no network
/// is active.
#[utoipa::path(post, path = "/networks/create", tag = "networks", security(("bearer" = [])), request_body = CreateNetwork,
    responses((status = 201, body = NetworkJson), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJsonOrEmpty(req): ApiJsonOrEmpty<CreateNetwork>,
) -> ApiResult<(StatusCode, Json<NetworkJson>)> {
    let n = state
        .mesh
        .create(req.name.as_deref().unwrap_or("My network"))
        .await?;
    state
        .audit
        .record(
            "network_created",
            serde_json::json!({"network_id": n.id, "name": n.name}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(json_of(n))))
}

/// Forget a network (not while connected to it).
#[utoipa::path(delete, path = "/networks/{id}", tag = "networks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Forgotten"), (status = 404, body = ErrorBody),
              (status = 409, description = "Connected now: disconnect first", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.mesh.delete_network(&id).await?;
    state
        .audit
        .record("network_forgotten", serde_json::json!({"network_id": id}))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Switch onto this network (the P2P stack restarts on its key).
#[utoipa::path(post, path = "/networks/{id}/connect", tag = "networks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = StateJson), (status = 404, body = ErrorBody),
              (status = 500, description = "The swarm could not start (see the log)", body = ErrorBody)))]
pub async fn connect(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<StateJson>> {
    Ok(Json(state.mesh.connect(&id).await?.into()))
}

/// Leave the network: the daemon stays up, offline.
#[utoipa::path(post, path = "/networks/disconnect", tag = "networks", security(("bearer" = [])),
    responses((status = 200, body = StateJson)))]
pub async fn disconnect(State(state): State<AppState>) -> ApiResult<Json<StateJson>> {
    Ok(Json(state.mesh.disconnect().await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InviteQuery {
    /// Seconds the invite stays valid (60 to 7 776 000; default 7 days).
    pub ttl_s: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct InviteJson {
    /// `holdfast://join/v1/…`: it carries the swarm key, share it privately.
    pub url: String,
    /// Revoke it with `DELETE /networks/{id}/invites/{invite_id}`.
    pub invite_id: String,
    pub expires_ms: i64,
}

/// A fresh invite URL for this network.
#[utoipa::path(get, path = "/networks/{id}/invite", tag = "networks", security(("bearer" = [])),
    params(("id" = String, Path), InviteQuery),
    responses((status = 200, body = InviteJson), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<InviteQuery>,
) -> ApiResult<Json<InviteJson>> {
    let ttl_ms = q.ttl_s.map(|s| s.saturating_mul(1000));
    let (url, invite_id, expires_ms) = state.mesh.invite_with_id(&id, ttl_ms).await?;
    state
        .audit
        .record(
            "network_invite",
            serde_json::json!({"network_id": id, "invite_id": invite_id, "expires_ms": expires_ms}),
        )
        .await;
    Ok(Json(InviteJson {
        url,
        invite_id,
        expires_ms,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct InviteItem {
    pub id: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub revoked: bool,
}

/// The invites this node minted for the network (newest first; no URLs:
/// they hold the key).
#[utoipa::path(get, path = "/networks/{id}/invites", tag = "networks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = [InviteItem]), (status = 404, body = ErrorBody)))]
pub async fn invites(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<InviteItem>>> {
    state.mesh.networks().get(&id).await?;
    let list = state.mesh.networks().invites(&id).await?;
    Ok(Json(
        list.into_iter()
            .map(|i| InviteItem {
                id: i.id,
                created_ms: i.created_ms,
                expires_ms: i.expires_ms,
                revoked: i.revoked,
            })
            .collect(),
    ))
}

/// Revoke an invite: a device that presents it to this node is refused.
/// (It still holds the key: rotate the key to shut out a device that
/// already joined.)
#[utoipa::path(delete, path = "/networks/{id}/invites/{invite_id}", tag = "networks", security(("bearer" = [])),
    params(("id" = String, Path), ("invite_id" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
pub async fn revoke_invite(
    State(state): State<AppState>,
    Path((id, invite_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    if !state.mesh.networks().revoke_invite(&id, &invite_id).await? {
        return Err(ApiError::not_found("no such invite"));
    }
    state
        .audit
        .record(
            "network_invite_revoked",
            serde_json::json!({"network_id": id, "invite_id": invite_id}),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The raw swarm key (3-line IPFS PSK format).
#[utoipa::path(get, path = "/networks/{id}/key", tag = "networks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The key file text", body = String, content_type = "text/plain"),
              (status = 404, body = ErrorBody)))]
pub async fn key(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let n = state.mesh.networks().get(&id).await?;
    state
        .audit
        .record("network_key_read", serde_json::json!({"network_id": id}))
        .await;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        n.psk,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct PeersBody {
    /// Multiaddrs to add (e.g. `/ip4/192.0.2.7/tcp/4001/p2p/12D3KooW…`).
    #[serde(default)]
    pub peers: Vec<String>,
    /// Or a share payload: a `holdfast://join/…` URL whose addresses are added.
    pub url: Option<String>,
}

/// Append bootstrap multiaddrs (from a list or a share payload).
#[utoipa::path(post, path = "/networks/{id}/peers", tag = "networks", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PeersBody,
    responses((status = 200, body = NetworkJson), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_peers(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PeersBody>,
) -> ApiResult<Json<NetworkJson>> {
    let mut addrs = req.peers;
    if let Some(url) = &req.url {
        addrs.extend(Mesh::bootstrap_of(url)?);
    }
    if addrs.is_empty() {
        return Err(ApiError::bad_request(
            "give `peers` (multiaddrs) or a `url`",
        ));
    }
    Ok(Json(json_of(
        state.mesh.set_bootstrap(&id, &addrs, true).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
pub struct BootstrapBody {
    pub bootstrap: Vec<String>,
}

/// Replace the bootstrap list.
#[utoipa::path(put, path = "/networks/{id}/bootstrap", tag = "networks", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = BootstrapBody,
    responses((status = 200, body = NetworkJson), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_bootstrap(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<BootstrapBody>,
) -> ApiResult<Json<NetworkJson>> {
    Ok(Json(json_of(
        state.mesh.set_bootstrap(&id, &req.bootstrap, false).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
pub struct UrlBody {
    /// A `holdfast://join/v1/…` URL.
    pub url: String,
}

/// Replace the bootstrap list with the addresses inside an invite URL.
#[utoipa::path(put, path = "/networks/{id}/bootstrap-invite", tag = "networks", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UrlBody,
    responses((status = 200, body = NetworkJson), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_bootstrap_invite(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UrlBody>,
) -> ApiResult<Json<NetworkJson>> {
    let addrs = Mesh::bootstrap_of(&req.url)?;
    Ok(Json(json_of(
        state.mesh.set_bootstrap(&id, &addrs, false).await?,
    )))
}

#[derive(Serialize, ToSchema)]
pub struct RotateJson {
    /// Fingerprint of the new key.
    pub fingerprint: String,
    /// Connected members that took the new key (all switch together).
    pub pushed_to: usize,
}

/// Rotate the swarm key and push it, over the old key, to every connected
/// member; everyone switches two seconds later. Members offline now keep
/// the old key and are cut off until invited again.
#[utoipa::path(post, path = "/networks/{id}/swarm-key", tag = "networks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = RotateJson), (status = 404, body = ErrorBody)))]
pub async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<RotateJson>> {
    let (fingerprint, pushed_to) = state.mesh.rotate(&id).await?;
    state
        .audit
        .record(
            "network_key_rotated",
            serde_json::json!({"network_id": id, "pushed_to": pushed_to}),
        )
        .await;
    Ok(Json(RotateJson {
        fingerprint,
        pushed_to,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct SetupBody {
    /// The swarm key, 3-line IPFS PSK format.
    pub swarm_key: String,
    /// Multiaddrs of members to dial.
    #[serde(default)]
    pub bootstrap: Vec<String>,
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SetupJson {
    pub network: NetworkJson,
    pub state: StateJson,
}

/// First-boot helper: save a swarm key and bootstrap list as the active
/// network and connect.
#[utoipa::path(post, path = "/system/setup", tag = "system", security(("bearer" = [])), request_body = SetupBody,
    responses((status = 200, body = SetupJson), (status = 400, description = "The key or an address is malformed (the message says which)", body = ErrorBody)))]
pub async fn setup(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SetupBody>,
) -> ApiResult<Json<SetupJson>> {
    let n = state
        .mesh
        .setup(&req.swarm_key, &req.bootstrap, req.name.as_deref())
        .await?;
    state
        .audit
        .record("network_setup", serde_json::json!({"network_id": n.id}))
        .await;
    Ok(Json(SetupJson {
        network: json_of(n),
        state: state.mesh.status().await.into(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ShareJson {
    pub swarm_key: String,
    pub bootstrap: Vec<String>,
    /// A `holdfast://join/v1/…` URL.
    pub connect_url: String,
}

/// What a new device needs to join the active network.
#[utoipa::path(get, path = "/system/share", tag = "system", security(("bearer" = [])),
    responses((status = 200, body = ShareJson), (status = 503, description = "No network connected", body = ErrorBody)))]
pub async fn share(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let (swarm_key, bootstrap, connect_url) = state.mesh.share().await?;
    state
        .audit
        .record("network_shared", serde_json::json!({}))
        .await;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(ShareJson {
            swarm_key,
            bootstrap,
            connect_url,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ShareNodeJson {
    pub peer_id: String,
    pub display_name: Option<String>,
    /// Where this node can be reached (no swarm key).
    pub addrs: Vec<String>,
}

/// This node's identity and reachable addresses, without the swarm key.
#[utoipa::path(get, path = "/system/share-node", tag = "system", security(("bearer" = [])),
    responses((status = 200, body = ShareNodeJson)))]
pub async fn share_node(State(state): State<AppState>) -> ApiResult<Json<ShareNodeJson>> {
    let me = state.mesh.self_node().await?;
    Ok(Json(ShareNodeJson {
        peer_id: me.info.node_id,
        display_name: me.info.display_name,
        addrs: state.mesh.reachable_addrs(),
    }))
}

/// Reachability: listen and external addresses, relayed and direct peers,
/// and what of UPnP and outside lookups this build does (nothing; it says so).
#[utoipa::path(get, path = "/system/nat", tag = "system", security(("bearer" = [])),
    responses((status = 200, description = "{upnp, ipinfo, listen_addrs, external_addrs, relay_server, relayed_peers, direct_peers}", body = Object)))]
pub async fn nat(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.mesh.nat())
}
