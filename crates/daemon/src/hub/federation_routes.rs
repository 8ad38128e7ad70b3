//! Federation over HTTP (spec "Federation"): the owner creates, lists and
//! accepts agreements; the hub-to-hub routes (`/api/v1/federation/...`,
//! authenticated by the calling hub's per-agreement secret) carry offers,
//! acceptances, address resolution, channels, KeyPackages and relayed
//! queue rows; and the forwarder task moves rows addressed to remote
//! participants across accepted agreements (see `holdfast_core::hub::federation`).

use std::sync::OnceLock;
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use holdfast_core::hub::a2a::{self, Party};
use holdfast_core::hub::federation::{self, Acceptance, Agreement, OfferedChannel, Relayed};
use holdfast_core::hub::{devices, identities, parse_id};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::Owner;
use super::error::{HubApiError, HubApiResult};
use super::identity_routes::host;
use super::limits::Limiter;
use crate::http::bearer;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(accept))
        .routes(routes!(offer))
        .routes(routes!(accepted))
        .routes(routes!(peer_resolve))
        .routes(routes!(peer_channel))
        .routes(routes!(peer_relay))
        .routes(routes!(peer_key_package))
}

const AGREEMENT_HEADER: &str = "x-federation-agreement";

fn client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            crate::tls::install_crypto_provider();
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("holdfast-hub/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_default()
        })
        .clone()
}

fn peer_unreachable(what: &str) -> HubApiError {
    HubApiError::new(StatusCode::BAD_GATEWAY, format!("The peer hub {what}"))
}

/// Call the peer hub of an accepted agreement.
fn peer_call(
    ag: &Agreement,
    method: reqwest::Method,
    path: &str,
) -> Option<reqwest::RequestBuilder> {
    let secret = ag.send_secret.as_deref()?;
    Some(
        client()
            .request(method, format!("{}{path}", ag.peer_url))
            .bearer_auth(secret)
            .header(AGREEMENT_HEADER, &ag.id),
    )
}

#[derive(Deserialize, ToSchema)]
struct NewAgreement {
    /// The peer hub's base URL, e.g. `https://hub.example.org`.
    peer_url: String,
}

/// Offer a federation agreement to another Holdfast hub; it waits for
/// that hub's owner to accept.
#[utoipa::path(post, path = "/api/v1/federation/agreements", tag = "federation", request_body = NewAgreement,
    security(("owner" = [])),
    responses((status = 201, description = "The pending agreement"),
        (status = 400, description = "Bad peer_url or this hub itself"),
        (status = 502, description = "The peer hub did not take the offer")))]
async fn create(
    State(state): State<AppState>,
    owner: Owner,
    HubJson(body): HubJson<NewAgreement>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let url = body.peer_url.trim().trim_end_matches('/').to_owned();
    let peer_host = federation::host_of(&url)
        .filter(|_| url.len() <= 300)
        .ok_or_else(|| HubApiError::bad_request("peer_url must be an http(s) base URL"))?;
    if peer_host == host(&state) {
        return Err(HubApiError::bad_request("peer_url is this hub"));
    }
    let own = state
        .hub
        .url()
        .ok_or_else(|| HubApiError::new(StatusCode::SERVICE_UNAVAILABLE, "hub not bound"))?;
    let id = holdfast_core::hub::new_id();
    let secret = holdfast_core::secret::random_token();
    let res = client()
        .post(format!("{url}/api/v1/federation/offers"))
        .json(&federation::offer_body(&id, &own, &secret))
        .send()
        .await
        .map_err(|_| peer_unreachable("could not be reached"))?;
    if !res.status().is_success() {
        return Err(peer_unreachable(&format!(
            "refused the offer ({})",
            res.status().as_u16()
        )));
    }
    let ag =
        federation::record_outbound(&state.hub.core.catalog, &owner.tenant, &id, &url, &secret)
            .await?;
    state
        .audit
        .record(
            "hub_federation_offered",
            json!({"agreement_id": id, "peer": peer_host}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(json!(ag))))
}

/// The tenant's agreements, both directions.
#[utoipa::path(get, path = "/api/v1/federation/agreements", tag = "federation", security(("owner" = [])),
    responses((status = 200, description = "Array of agreements"), (status = 401, description = "Not the owner")))]
async fn list(State(state): State<AppState>, owner: Owner) -> HubApiResult<Json<Value>> {
    Ok(Json(json!(
        federation::list(&state.hub.core.catalog, &owner.tenant).await?
    )))
}

/// Accept an agreement another hub offered; the offering hub learns it.
#[utoipa::path(post, path = "/api/v1/federation/agreements/{id}/accept", tag = "federation",
    security(("owner" = [])), params(("id" = String, Path, description = "Agreement id")),
    responses((status = 200, description = "The accepted agreement"),
        (status = 404, description = "Agreement not found"),
        (status = 409, description = "Already accepted, or offered by this hub"),
        (status = 502, description = "The offering hub did not take the acceptance")))]
async fn accept(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    let id = parse_id(&id).ok_or_else(|| HubApiError::not_found(federation::NOT_FOUND))?;
    let catalog = &state.hub.core.catalog;
    let (ag, acc) = federation::accept_inbound(catalog, &owner.tenant, &id).await?;
    let res = client()
        .post(format!(
            "{}/api/v1/federation/agreements/{id}/accepted",
            ag.peer_url
        ))
        .json(&json!({"secret": acc.secret, "proof": acc.proof}))
        .send()
        .await
        .map_err(|_| peer_unreachable("could not be reached"))?;
    if !res.status().is_success() {
        return Err(peer_unreachable(&format!(
            "refused the acceptance ({})",
            res.status().as_u16()
        )));
    }
    federation::mark_accepted(catalog, &id, Some(acc.secret), None).await?;
    state
        .audit
        .record("hub_federation_accepted", json!({"agreement_id": id}))
        .await;
    Ok(Json(json!(
        federation::get(catalog, &owner.tenant, &id).await?
    )))
}

#[derive(Deserialize, ToSchema)]
struct Offer {
    agreement_id: String,
    /// The offering hub's base URL.
    hub_url: String,
    /// The offering hub's secret for its calls (kept hashed).
    secret: String,
}

/// Hub to hub: another hub offers an agreement (lands in the default
/// tenant, pending until this hub's owner accepts).
#[utoipa::path(post, path = "/api/v1/federation/offers", tag = "federation", request_body = Offer,
    responses((status = 201, description = "{agreement_id, status}"),
        (status = 400, description = "Bad fields"), (status = 409, description = "Agreement exists"),
        (status = 429, description = "Over 5 offers per IP in 10 minutes")))]
async fn offer(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    HubJson(body): HubJson<Offer>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    // Anyone who reaches the hub may offer: 5 per IP per 10 minutes.
    static LIMIT: OnceLock<Limiter> = OnceLock::new();
    LIMIT
        .get_or_init(|| Limiter::new(5, Duration::from_secs(600)))
        .check(&peer.ip().to_string())
        .map_err(HubApiError::rate_limited)?;
    let id = parse_id(&body.agreement_id)
        .ok_or_else(|| HubApiError::bad_request("agreement_id must be a UUID"))?;
    if body.secret.len() < 32 || body.secret.len() > 256 || body.hub_url.len() > 300 {
        return Err(HubApiError::bad_request("secret must be 32-256 characters"));
    }
    let tenant = state.hub.core.default_tenant.clone();
    let ag = federation::record_inbound(
        &state.hub.core.catalog,
        &tenant,
        &id,
        &body.hub_url,
        &body.secret,
    )
    .await?;
    state.events.publish(
        "hub_federation",
        json!({"agreement_id": ag.id, "status": ag.status, "peer": ag.peer_host}),
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({"agreement_id": ag.id, "status": ag.status})),
    ))
}

#[derive(Deserialize, ToSchema)]
struct Accepted {
    /// The accepting hub's secret for its calls (kept hashed).
    secret: String,
    /// Hex SHA-256 of the offer's secret.
    proof: String,
}

/// Hub to hub: the hub this one offered an agreement to accepted it.
#[utoipa::path(post, path = "/api/v1/federation/agreements/{id}/accepted", tag = "federation",
    request_body = Accepted, params(("id" = String, Path, description = "Agreement id")),
    responses((status = 200, description = "{agreement_id, status}"),
        (status = 401, description = "Invalid proof"), (status = 404, description = "Agreement not found")))]
async fn accepted(
    State(state): State<AppState>,
    Path(id): Path<String>,
    HubJson(body): HubJson<Accepted>,
) -> HubApiResult<Json<Value>> {
    let id = parse_id(&id).ok_or_else(|| HubApiError::not_found(federation::NOT_FOUND))?;
    let ag = federation::confirm_accepted(
        &state.hub.core.catalog,
        &id,
        &Acceptance {
            secret: body.secret,
            proof: body.proof,
        },
    )
    .await?;
    state.events.publish(
        "hub_federation",
        json!({"agreement_id": ag.id, "status": ag.status, "peer": ag.peer_host}),
    );
    Ok(Json(json!({"agreement_id": ag.id, "status": ag.status})))
}

/// The agreement behind a peer hub's call (accepted).
async fn peer(state: &AppState, headers: &HeaderMap) -> HubApiResult<Agreement> {
    let secret = bearer::bearer(headers)
        .ok()
        .flatten()
        .ok_or_else(|| HubApiError::unauthorized("Not authenticated"))?;
    let id = headers
        .get(AGREEMENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_id)
        .ok_or_else(|| HubApiError::unauthorized("X-Federation-Agreement is required"))?;
    Ok(federation::authenticate(&state.hub.core.catalog, &id, secret, true).await?)
}

/// Hub to hub: resolve a name to its identity and device (the peer needs
/// the device id to route).
#[utoipa::path(get, path = "/api/v1/federation/resolve/{name}", tag = "federation",
    params(("name" = String, Path, description = "Identity name")),
    responses((status = 200, description = "{hub_id, hub_address, device_id, display_name}"),
        (status = 401, description = "Not a peer hub"), (status = 403, description = "Agreement not accepted"),
        (status = 404, description = "peer_not_found")))]
async fn peer_resolve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> HubApiResult<Json<Value>> {
    let ag = peer(&state, &headers).await?;
    let catalog = &state.hub.core.catalog;
    let not_found = || HubApiError::not_found(a2a::PEER_NOT_FOUND);
    let i = identities::by_name(catalog, &name)
        .await?
        .filter(|i| i.tenant_id == ag.tenant_id)
        .ok_or_else(not_found)?;
    devices::get(catalog, &i.device_id)
        .await?
        .filter(|d| d.status == devices::ACTIVE)
        .ok_or_else(not_found)?;
    Ok(Json(json!({
        "hub_id": i.id, "hub_address": identities::address(&i.name, &host(&state)),
        "device_id": i.device_id, "display_name": i.display_name,
    })))
}

/// Resolve a name on the peer hub of an accepted agreement.
pub async fn remote_resolve(ag: &Agreement, name: &str) -> HubApiResult<Option<Party>> {
    let Some(call) = peer_call(
        ag,
        reqwest::Method::GET,
        &format!("/api/v1/federation/resolve/{name}"),
    ) else {
        return Ok(None);
    };
    let res = call
        .send()
        .await
        .map_err(|_| peer_unreachable("could not be reached"))?;
    if res.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !res.status().is_success() {
        return Err(peer_unreachable(&format!(
            "answered {}",
            res.status().as_u16()
        )));
    }
    let v: Value = res
        .json()
        .await
        .map_err(|_| peer_unreachable("answered garbage"))?;
    let field = |k: &str| v[k].as_str().map(str::to_owned);
    match (
        field("hub_id").and_then(|h| parse_id(&h)),
        field("device_id").and_then(|d| parse_id(&d)),
        field("hub_address").filter(|a| a.len() <= 300),
    ) {
        (Some(hub_id), Some(device_id), Some(hub_address)) => Ok(Some(Party {
            hub_id,
            hub_address,
            device_id,
            remote: true,
        })),
        _ => Err(peer_unreachable("answered garbage")),
    }
}

/// Hub to hub: a channel the peer's owner approved, with one of our identities.
#[utoipa::path(post, path = "/api/v1/federation/channels", tag = "federation", request_body = Object,
    responses((status = 201, description = "The mirrored channel"),
        (status = 401, description = "Not a peer hub"), (status = 403, description = "Agreement not accepted"),
        (status = 404, description = "peer_not_found")))]
async fn peer_channel(
    State(state): State<AppState>,
    headers: HeaderMap,
    HubJson(body): HubJson<OfferedChannel>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let ag = peer(&state, &headers).await?;
    let ch = federation::receive_channel(&state.hub.core, &ag, &host(&state), body).await?;
    Ok((StatusCode::CREATED, Json(ch.item(None))))
}

#[derive(Deserialize, ToSchema)]
struct RelayBatch {
    #[schema(value_type = Vec<Object>)]
    rows: Vec<Relayed>,
}

/// Hub to hub: queue rows for our participants of a federated channel.
#[utoipa::path(post, path = "/api/v1/federation/relay", tag = "federation", request_body = RelayBatch,
    responses((status = 200, description = "{accepted: n}"),
        (status = 401, description = "Not a peer hub"), (status = 403, description = "Agreement not accepted, or not_a_channel_party"),
        (status = 404, description = "Channel not found")))]
async fn peer_relay(
    State(state): State<AppState>,
    headers: HeaderMap,
    HubJson(body): HubJson<RelayBatch>,
) -> HubApiResult<Json<Value>> {
    let ag = peer(&state, &headers).await?;
    if body.rows.len() > 200 {
        return Err(HubApiError::bad_request("at most 200 rows"));
    }
    let n = body.rows.len();
    for r in body.rows {
        federation::receive(&state.hub.core, &ag, r).await?;
    }
    Ok(Json(json!({"accepted": n})))
}

/// Hub to hub: claim a KeyPackage of one of our participants.
#[utoipa::path(get, path = "/api/v1/federation/key-packages/{device_id}", tag = "federation",
    params(("device_id" = String, Path, description = "A local participant's device id")),
    responses((status = 200, description = "{device_id, key_package}"),
        (status = 401, description = "Not a peer hub"), (status = 403, description = "not_a_channel_party"),
        (status = 404, description = "No KeyPackage")))]
async fn peer_key_package(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(device_id): Path<String>,
) -> HubApiResult<Json<Value>> {
    let ag = peer(&state, &headers).await?;
    let d = parse_id(&device_id).ok_or_else(|| HubApiError::not_found("No KeyPackage"))?;
    let kp = federation::key_package_for_peer(&state.hub.core, &ag, &d)
        .await?
        .ok_or_else(|| HubApiError::not_found("No KeyPackage"))?;
    Ok(Json(
        json!({"device_id": d, "key_package": hex::encode(kp)}),
    ))
}

/// A KeyPackage of a remote participant, claimed on its hub (for the
/// batch endpoint).
pub async fn remote_key_package(state: &AppState, asking: &str, device: &str) -> Option<Vec<u8>> {
    let (url, id, secret) = federation::route_to_device(&state.hub.core.catalog, asking, device)
        .await
        .ok()
        .flatten()?;
    let res = client()
        .get(format!("{url}/api/v1/federation/key-packages/{device}"))
        .bearer_auth(secret)
        .header(AGREEMENT_HEADER, id)
        .send()
        .await
        .ok()?;
    if !res.status().is_success() {
        return None;
    }
    let v: Value = res.json().await.ok()?;
    hex::decode(v["key_package"].as_str()?).ok()
}

/// Send an approved channel with a remote participant to its hub.
async fn send_channel(state: &AppState, channel_id: &str) -> HubApiResult<()> {
    let catalog = &state.hub.core.catalog;
    let Some(ch) = a2a::find(catalog, channel_id).await? else {
        return Ok(());
    };
    let (Some(ag_id), Some(creator)) = (
        ch.agreement_id.clone(),
        ch.participants
            .iter()
            .find(|p| p.role == "creator" && !p.remote),
    ) else {
        return Ok(());
    };
    let ag = federation::get(catalog, &ch.tenant_id, &ag_id).await?;
    for p in ch.participants.iter().filter(|p| p.remote) {
        let body = OfferedChannel {
            channel_id: ch.channel_id.clone(),
            topic: ch.topic.clone(),
            creator_hub_id: creator.hub_id.clone(),
            creator_hub_address: creator.hub_address.clone(),
            creator_device_id: creator.device_id.clone(),
            peer_hub_id: p.hub_id.clone(),
        };
        let Some(call) = peer_call(&ag, reqwest::Method::POST, "/api/v1/federation/channels")
        else {
            continue;
        };
        let res = call
            .json(&body)
            .send()
            .await
            .map_err(|_| peer_unreachable("could not be reached"))?;
        if !res.status().is_success() {
            tracing::warn!(
                "the peer hub refused federated channel {}: {}",
                ch.channel_id,
                res.status()
            );
        }
    }
    Ok(())
}

/// Move waiting rows to peer hubs; returns whether anything moved.
async fn flush(state: &AppState) -> bool {
    let out = match federation::outbox(&state.hub.core.catalog).await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!("reading the federation outbox failed: {e}");
            return false;
        }
    };
    let mut moved = false;
    let mut by_agreement: std::collections::BTreeMap<String, Vec<federation::Outgoing>> =
        Default::default();
    for o in out {
        by_agreement
            .entry(o.agreement_id.clone())
            .or_default()
            .push(o);
    }
    for (id, rows) in by_agreement {
        let (url, secret) = (rows[0].peer_url.clone(), rows[0].send_secret.clone());
        let ids: Vec<String> = rows.iter().map(|r| r.queue_id.clone()).collect();
        let body: Vec<&Relayed> = rows.iter().map(|r| &r.row).collect();
        let res = client()
            .post(format!("{url}/api/v1/federation/relay"))
            .bearer_auth(&secret)
            .header(AGREEMENT_HEADER, &id)
            .json(&json!({"rows": body}))
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => {
                if federation::delivered(&state.hub.core.catalog, ids)
                    .await
                    .is_ok()
                {
                    moved = true;
                }
            }
            Ok(r) => tracing::warn!("the peer hub refused relayed rows: {}", r.status()),
            Err(_) => tracing::debug!("the peer hub is unreachable; rows wait"),
        }
    }
    moved
}

/// The forwarder: on hub events (and every second, for retries) send
/// approved federated channels and waiting rows to their peer hubs.
pub async fn forwarder(state: AppState, cancel: CancellationToken) {
    let mut events = state.events.subscribe();
    let mut tick = tokio::time::interval(Duration::from_millis(1000));
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
            ev = events.recv() => match ev {
                Ok(e) => {
                    if e["type"] == "a2a_channel" && e["event"] == "a2a_channel_approved"
                        && !e["agreement_id"].is_null()
                        && let Some(id) = e["channel_id"].as_str()
                        && let Err(e) = send_channel(&state, id).await
                    {
                        tracing::warn!("sending a federated channel failed: {}", e.detail);
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            },
        }
        while flush(&state).await {}
    }
}
