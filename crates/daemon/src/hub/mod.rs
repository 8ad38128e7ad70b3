//! The agent hub's listener (`hub.bind`, default 127.0.0.1:8090): the routes
//! of spec/agent-hub-api.md and the device protocol, the WebSocket, and
//! `{"detail": …}` errors. It has its own listener because its paths collide
//! with REST ones and because agents may reach it from other machines.
//! The rules and tables are `holdfast_core::hub`; this is HTTP only.

mod a2a_routes;
mod attachment_routes;
mod auth;
mod decision_routes;
mod device_routes;
mod error;
pub mod federation_routes;
mod history_routes;
mod identity_routes;
mod key_routes;
mod limits;
mod marketplace_routes;
mod mls_routes;
mod openapi;
mod ops_routes;
pub mod owner_device;
mod owner_routes;
mod policy_routes;
pub mod room_routes;
mod settings_routes;
mod team_routes;
mod topic_routes;
mod trust_routes;
pub mod webhooks;
mod ws;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use holdfast_core::hub::Hub;
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use auth::is_owner;
pub use error::{HubApiError, HubApiResult};
use limits::Limits;
pub use owner_routes::revoke_device;

use crate::http::host_policy::HostPolicy;
use crate::http::observe::observe;
use crate::http::panics::{InternalError, catch_panics};
use crate::state::AppState;

/// At least this long for an enrolment prompt: agents poll for 5 minutes.
pub const ENROL_PROMPT: std::time::Duration = std::time::Duration::from_secs(300);

/// Largest JSON body (KeyPackages and telemetry batches fit well inside).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What the hub surface shares with the REST owner API.
#[derive(Clone)]
pub struct HubState {
    pub core: Hub,
    pub limits: Arc<Limits>,
    /// The owner's own device (MLS client) in this daemon.
    pub owner: owner_device::OwnerDevice,
    /// Where agents reach the hub, once bound.
    pub addr: Arc<std::sync::OnceLock<std::net::SocketAddr>>,
    /// Attachment size limit and per-tenant quota (`hub.attachment_*`).
    pub attachments: holdfast_core::hub::attachments::Limits,
}

impl HubState {
    pub fn new(core: Hub, owner: owner_device::OwnerDevice) -> Self {
        Self {
            core,
            limits: Arc::new(Limits::default()),
            owner,
            addr: Default::default(),
            attachments: Default::default(),
        }
    }

    /// The hub's base URL for agents (`http://127.0.0.1:8090`).
    pub fn url(&self) -> Option<String> {
        self.addr
            .get()
            .map(|a| format!("http://{}", crate::endpoints::local_address(*a)))
    }
}

/// A JSON body read whatever its Content-Type says (agents' HTTP libraries
/// differ); 400 `{"detail"}` when it is not the expected JSON.
pub struct HubJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for HubJson<T> {
    type Rejection = HubApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, HubApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            HubApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            )
        })?;
        let body: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        serde_json::from_slice(body)
            .map(HubJson)
            .map_err(|e| HubApiError::bad_request(format!("invalid request body: {e}")))
    }
}

/// The hub's routes, without the listener's Host/Origin guard: served by
/// the hub listener, and on the REST listener under `/api/v1/agent-hub/`
/// for the web UI ([`ui_service`]).
fn app(state: AppState) -> Router {
    let (routes, doc) = OpenApiRouter::with_openapi(openapi::HubDoc::openapi())
        .merge(owner_routes::routes())
        .merge(device_routes::routes())
        .merge(mls_routes::routes())
        .merge(key_routes::routes())
        .merge(history_routes::routes())
        .merge(topic_routes::routes())
        .merge(room_routes::routes())
        .merge(policy_routes::routes())
        .merge(attachment_routes::routes())
        .merge(decision_routes::routes())
        .merge(ops_routes::routes())
        .merge(identity_routes::routes())
        .merge(a2a_routes::routes())
        .merge(federation_routes::routes())
        .merge(team_routes::routes())
        .merge(trust_routes::routes())
        .merge(marketplace_routes::routes())
        .merge(settings_routes::routes())
        .routes(utoipa_axum::routes!(ws::upgrade))
        .routes(utoipa_axum::routes!(openapi::serve))
        .split_for_parts();
    let doc = Arc::new(crate::api::openapi::Document::new(doc));
    let api = routes
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(Extension(doc))
        .with_state(state);
    // Paths are normalised before routing, so this wraps the routed app.
    let normalised = tower::ServiceBuilder::new()
        .map_request(collapse_leading_slashes)
        .service(api);
    Router::new()
        .fallback_service(normalised)
        .layer(middleware::from_fn_with_state(
            (|| HubApiError::internal("a handler panicked").into_response()) as InternalError,
            catch_panics,
        ))
}

pub fn router(state: AppState, policy: HostPolicy) -> Router {
    app(state.clone())
        .layer(middleware::from_fn_with_state(Arc::new(policy), guard))
        .layer(middleware::from_fn_with_state(state.metrics, observe))
}

/// Prefix under which the REST listener serves the hub's routes to the web
/// UI (same origin as the pages, same owner bearer): `/api/v1/agent-hub/rooms`
/// is the hub's `/api/v1/rooms`, answering in the hub's `{"detail"}` shape.
pub const UI_PREFIX: &str = "/api/v1/agent-hub";

/// The hub app behind [`UI_PREFIX`] (the REST listener's guard applies).
pub fn ui_service(state: AppState) -> Router {
    let app = app(state);
    Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .map_request(|mut req: Request| {
                let path = req.uri().path();
                let rest = path.strip_prefix(UI_PREFIX).unwrap_or(path);
                let pq = match req.uri().query() {
                    Some(q) => format!("/api/v1{rest}?{q}"),
                    None => format!("/api/v1{rest}"),
                };
                if let Ok(uri) = pq.parse() {
                    *req.uri_mut() = uri;
                }
                req
            })
            .service(app),
    )
}

async fn no_route() -> HubApiError {
    HubApiError::not_found("Not Found")
}

async fn wrong_method() -> HubApiError {
    HubApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "Method Not Allowed",
    )
}

/// The Host/Origin policy of a loopback listener.
async fn guard(State(policy): State<Arc<HostPolicy>>, req: Request, next: Next) -> Response {
    match policy.check(req.uri(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(refusal) => HubApiError::forbidden(refusal.message()).into_response(),
    }
}

/// `//api/v1/…` → `/api/v1/…`: a base URL ending in `/` (§4.1).
fn collapse_leading_slashes(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.starts_with("//") {
        let trimmed = format!("/{}", path.trim_start_matches('/'));
        let pq = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed,
        };
        if let Ok(uri) = pq.parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// Bind and serve the hub; returns its address.
pub fn spawn(
    state: AppState,
    bind: std::net::SocketAddr,
) -> anyhow::Result<(std::net::SocketAddr, crate::http::serve::Served)> {
    let listener = crate::http::serve::bind(bind, "agent hub")?;
    let addr = listener.local_addr()?;
    let router = router(state, HostPolicy::new(addr, false));
    let served = crate::http::serve::spawn(listener, router, None)?;
    Ok((addr, served))
}
