//! Hub identities over HTTP (spec "Hub Identity", device protocol §8.3):
//! the owner registers, lists, reads and certifies `did:hub:<name>`
//! identities; devices read their own entry (or their peers'); anyone may
//! resolve an address to its DID document or search names, seeing public
//! fields only.

use axum::Json;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::StatusCode;
use holdfast_core::hub::identities::{self, Identity, NewIdentity};
use holdfast_core::hub::{devices, keypackages, parse_id};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::{Caller, OwnerOnly};
use super::error::{HubApiError, HubApiResult};
use super::limits::Limiter;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register, list))
        .routes(routes!(get_one))
        .routes(routes!(certify))
        .routes(routes!(resolve))
        .routes(routes!(search))
}

/// This hub's address domain: `host[:port]` of its URL.
pub fn host(state: &AppState) -> String {
    state
        .hub
        .url()
        .as_deref()
        .and_then(holdfast_core::hub::federation::host_of)
        .unwrap_or_else(|| "localhost".into())
}

/// An identity as the owner sees it.
pub fn view(state: &AppState, i: &Identity) -> Value {
    let mut v = serde_json::to_value(i).unwrap_or(Value::Null);
    v["hub_address"] = identities::address(&i.name, &host(state)).into();
    v
}

/// A device's hub address: its identity's, else `did:hub:<hub_id>`.
pub async fn address_of_device(state: &AppState, d: &devices::Device) -> HubApiResult<String> {
    Ok(
        match identities::of_device(&state.hub.core.catalog, &d.id).await? {
            Some(i) => identities::address(&i.name, &host(state)),
            None => format!("did:hub:{}", d.hub_id),
        },
    )
}

#[derive(Deserialize, ToSchema)]
struct Register {
    /// The agent device the identity names.
    device_id: String,
    /// 3-32 of a-z, 0-9, '-': the identity is `did:hub:<name>`.
    name: String,
    display_name: Option<String>,
    /// Whether the agent may discover and reach peers (§8.3).
    #[serde(default)]
    peer_reach_enabled: bool,
}

/// Register a hub identity (`did:hub:<name>`) for one of the tenant's agents.
#[utoipa::path(post, path = "/api/v1/hub/identities", tag = "hub", request_body = Register,
    security(("owner" = [])),
    responses((status = 201, description = "The identity"),
        (status = 400, description = "Bad name or not an agent"),
        (status = 403, description = "Not the owner"),
        (status = 404, description = "Device not found"),
        (status = 409, description = "Name taken, device already named, or device revoked")))]
async fn register(
    State(state): State<AppState>,
    owner: OwnerOnly,
    HubJson(body): HubJson<Register>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let tenant = owner.tenant;
    let device =
        parse_id(&body.device_id).ok_or_else(|| HubApiError::not_found(devices::NOT_FOUND))?;
    let i = identities::register(
        &state.hub.core.catalog,
        &tenant,
        NewIdentity {
            device_id: device,
            name: body.name,
            display_name: body.display_name,
            peer_reach_enabled: body.peer_reach_enabled,
        },
    )
    .await?;
    state
        .audit
        .record(
            "hub_identity_registered",
            json!({"hub_id": i.id, "name": i.name}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(view(&state, &i))))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `1` (devices): the caller's peers under the same owner instead of itself.
    same_operator: Option<String>,
}

/// The owner: the tenant's identities. A device: its own entry (§8.3), or
/// with `same_operator=1` its peers.
#[utoipa::path(get, path = "/api/v1/hub/identities", tag = "hub",
    security(("owner" = []), ("device" = [])), params(ListQuery),
    responses((status = 200, description = "Array of identities"), (status = 401, description = "Not authenticated")))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> HubApiResult<Json<Value>> {
    let catalog = &state.hub.core.catalog;
    let Some(d) = caller.device() else {
        let all = identities::list(catalog, caller.tenant()).await?;
        return Ok(Json(Value::Array(
            all.iter().map(|i| view(&state, i)).collect(),
        )));
    };
    if q.same_operator.as_deref() == Some("1") {
        let mut peers = Vec::new();
        for p in devices::list(catalog, &d.tenant_id).await? {
            if p.id == d.id || p.device_type != "agent" || p.status != devices::ACTIVE {
                continue;
            }
            let has_kp = keypackages::count(catalog, &p.id, 0).await? > 0;
            let display = match identities::of_device(catalog, &p.id).await? {
                Some(i) => i.display_name,
                None => p.name.clone(),
            };
            peers.push(json!({
                "hub_address": address_of_device(&state, &p).await?, "display_name": display,
                "framework": p.platform, "has_keypackage": has_kp,
            }));
        }
        return Ok(Json(Value::Array(peers)));
    }
    let own = identities::of_device(catalog, &d.id).await?;
    Ok(Json(json!([{
        "device_id": d.id, "hub_id": d.hub_id,
        "hub_address": address_of_device(&state, d).await?,
        "display_name": own.as_ref().map(|i| i.display_name.clone()).unwrap_or_else(|| d.name.clone()),
        "peer_reach_enabled": own.as_ref().is_some_and(|i| i.peer_reach_enabled),
        "trust_tier": own.as_ref().map(|i| i.trust_tier.clone()),
    }])))
}

/// One identity with its DID document.
#[utoipa::path(get, path = "/api/v1/hub/identities/{id}", tag = "hub", security(("owner" = [])),
    params(("id" = String, Path, description = "The identity's hub_id")),
    responses((status = 200, description = "The identity and its did_document"),
        (status = 403, description = "Not the owner"), (status = 404, description = "Identity not found")))]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    let tenant = caller.owner_tenant()?.to_owned();
    let id = parse_id(&id).ok_or_else(|| HubApiError::not_found("Identity not found"))?;
    let i = identities::get(&state.hub.core.catalog, &tenant, &id).await?;
    let mut v = view(&state, &i);
    if let Some(d) = devices::get(&state.hub.core.catalog, &i.device_id).await? {
        v["did_document"] = identities::did_document(&i, &d.identity_key, &hub_url(&state));
    }
    Ok(Json(v))
}

fn hub_url(state: &AppState) -> String {
    state.hub.url().unwrap_or_default()
}

/// Run the certification checks; the tier rises to `certified` only when
/// all pass.
#[utoipa::path(post, path = "/api/v1/hub/identities/{id}/certify", tag = "hub", security(("owner" = [])),
    params(("id" = String, Path, description = "The identity's hub_id")),
    responses((status = 200, description = "{identity, certified, checks: [{name, passed, detail}]}"),
        (status = 403, description = "Not the owner"), (status = 404, description = "Identity not found")))]
async fn certify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    let tenant = caller.owner_tenant()?.to_owned();
    let id = parse_id(&id).ok_or_else(|| HubApiError::not_found("Identity not found"))?;
    let (i, checks) = identities::certify(&state.hub.core.catalog, &tenant, &id).await?;
    let certified = i.trust_tier == identities::CERTIFIED;
    state
        .audit
        .record(
            "hub_identity_certified",
            json!({"hub_id": i.id, "certified": certified}),
        )
        .await;
    Ok(Json(
        json!({"identity": view(&state, &i), "certified": certified, "checks": checks}),
    ))
}

/// The public routes (resolve, search): 60 per IP per minute.
fn public_limit(peer: &SocketAddr) -> HubApiResult<()> {
    static LIMIT: OnceLock<Limiter> = OnceLock::new();
    LIMIT
        .get_or_init(|| Limiter::new(60, Duration::from_secs(60)))
        .check(&peer.ip().to_string())
        .map_err(HubApiError::rate_limited)
}

/// The local identity an address names, if it is on this hub.
pub async fn local_identity(state: &AppState, address: &str) -> HubApiResult<Option<Identity>> {
    let Some(a) = identities::parse_address(address) else {
        return Ok(None);
    };
    if a.host.as_deref().is_some_and(|h| h != host(state)) {
        return Ok(None);
    }
    let catalog = &state.hub.core.catalog;
    Ok(match parse_id(&a.name) {
        Some(hub_id) => match devices::by_hub_id(catalog, &hub_id).await? {
            Some(d) => identities::of_device(catalog, &d).await?,
            None => None,
        },
        None => identities::by_name(catalog, &a.name).await?,
    })
}

/// Public: resolve a hub address (`name@host`, `name`, `did:hub:name`) on
/// this hub to its DID document.
#[utoipa::path(get, path = "/api/v1/hub/resolve/{address}", tag = "hub",
    params(("address" = String, Path, description = "name@host, name or did:hub:name")),
    responses((status = 200, description = "{hub_address, did, did_document, ...public fields}"),
        (status = 404, description = "Identity not found"),
        (status = 429, description = "Over 60 per IP per minute")))]
async fn resolve(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(address): Path<String>,
) -> HubApiResult<Json<Value>> {
    public_limit(&peer)?;
    let not_found = || HubApiError::not_found("Identity not found");
    let i = local_identity(&state, &address)
        .await?
        .ok_or_else(not_found)?;
    let d = devices::get(&state.hub.core.catalog, &i.device_id)
        .await?
        .filter(|d| d.status == devices::ACTIVE)
        .ok_or_else(not_found)?;
    let mut v = identities::public(&i, &host(&state));
    v["did_document"] = identities::did_document(&i, &d.identity_key, &hub_url(&state));
    Ok(Json(v))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// 1-64 characters matched against names and display names.
    q: Option<String>,
    /// At most 50 (default 20).
    limit: Option<usize>,
}

/// Public: search identities by name or display name (public fields only).
#[utoipa::path(get, path = "/api/v1/hub/search", tag = "hub", params(SearchQuery),
    responses((status = 200, description = "Array of public identities"),
        (status = 400, description = "q missing or too long"),
        (status = 429, description = "Over 60 per IP per minute")))]
async fn search(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<SearchQuery>,
) -> HubApiResult<Json<Value>> {
    public_limit(&peer)?;
    let query = q.q.unwrap_or_default();
    let query = query.trim();
    if query.is_empty() || query.chars().count() > 64 {
        return Err(HubApiError::bad_request("q must be 1-64 characters"));
    }
    let hits = identities::search(&state.hub.core.catalog, query, q.limit.unwrap_or(20)).await?;
    let h = host(&state);
    Ok(Json(Value::Array(
        hits.iter().map(|i| identities::public(i, &h)).collect(),
    )))
}
