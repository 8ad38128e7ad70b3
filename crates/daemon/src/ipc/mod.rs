//! The IPC surface: the local identity API that third-party apps call on
//! 127.0.0.1:27777 (`spec/ipc-api.md`): status, linking, authentication,
//! signing and backups, with the user's approval behind every sensitive
//! request. Wire-compatible with the spec; safer where the spec is silent:
//! apps prove themselves with their own token, browsers only from origins an
//! app registered, and only processes of this user may connect.

mod accept;
mod authenticate;
mod backup;
mod error;
mod extract;
mod guard;
mod link;
pub mod peer;
mod prompt;
mod sign;
mod status;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::{Extension, Router, middleware};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::IpcError;

use crate::http::host_policy::HostPolicy;
use crate::http::observe::observe;
use crate::http::panics::{InternalError, catch_panics};
use crate::http::serve::Served;
use crate::state::AppState;

/// JSON bodies other than backups.
const BODY_LIMIT: usize = 256 * 1024;
/// Backups: 10 MiB of data plus JSON overhead.
const BACKUP_BODY_LIMIT: usize = 12 * 1024 * 1024;
/// Ports tried after the configured one is taken (the spec's 27777 → 27779).
const FALLBACK_PORTS: u16 = 2;

#[derive(OpenApi)]
#[openapi(info(
    title = "Holdfast IPC API",
    description = "Local identity API for apps on this machine. Errors are {\"success\":false,\"error\":code,\"message\":…}."
))]
struct IpcDoc;

/// Bind the IPC listener: the configured port, else the next two (27777,
/// 27778, 27779 by default). Port 0 takes any free port.
pub fn bind(addr: SocketAddr) -> anyhow::Result<std::net::TcpListener> {
    let tries = if addr.port() == 0 { 0 } else { FALLBACK_PORTS };
    let mut last = None;
    for i in 0..=tries {
        let port = addr.port().saturating_add(i);
        let candidate = SocketAddr::new(addr.ip(), port);
        match std::net::TcpListener::bind(candidate) {
            Ok(l) => {
                if i > 0 {
                    tracing::warn!("IPC port {} is taken; using {port}", addr.port());
                }
                return Ok(l);
            }
            Err(e) => last = Some((candidate, e)),
        }
    }
    let (candidate, e) = last.expect("at least one port was tried");
    anyhow::bail!(
        "cannot listen on {} (through {candidate}) for the IPC API: {e}",
        addr
    )
}

/// Serve the IPC router on `listener`, checking each connection's user.
pub fn spawn(listener: std::net::TcpListener, state: AppState) -> std::io::Result<Served> {
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let service = router(state, addr).into_make_service_with_connect_info::<SocketAddr>();
    let server = axum_server::from_tcp(listener)?
        .acceptor(accept::PeerAcceptor)
        .handle(handle.clone());
    Ok(Served::new(handle, tokio::spawn(server.serve(service))))
}

fn router(state: AppState, addr: SocketAddr) -> Router {
    let backups = OpenApiRouter::new()
        .routes(routes!(backup::backup))
        .layer(DefaultBodyLimit::max(BACKUP_BODY_LIMIT));
    let (routes, doc) = OpenApiRouter::with_openapi(IpcDoc::openapi())
        .routes(routes!(status::status))
        .routes(routes!(link::link_identity))
        .routes(routes!(link::revoke_identity))
        .routes(routes!(link::link_status))
        .routes(routes!(authenticate::authenticate))
        .routes(routes!(backup::list))
        .routes(routes!(backup::retrieve))
        .routes(routes!(backup::delete))
        .routes(routes!(sign::sign))
        .routes(routes!(openapi_json))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .merge(backups)
        .split_for_parts();
    let doc = Arc::new(doc.to_json().expect("the OpenAPI document serialises"));
    let guard = Arc::new(guard::IpcGuard {
        policy: HostPolicy::new(addr, false),
        apps: state.apps.clone(),
    });
    routes
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(Extension(doc))
        .with_state(state.clone())
        .layer(middleware::from_fn_with_state(
            (|| IpcError::internal("a handler panicked").into_response()) as InternalError,
            catch_panics,
        ))
        .layer(middleware::from_fn_with_state(guard, guard::guard))
        .layer(middleware::from_fn_with_state(state.metrics, observe))
}

/// This API's OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", tag = "ipc",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json(Extension(doc): Extension<Arc<String>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.as_str().to_owned(),
    )
}

async fn no_route(method: Method, uri: Uri) -> IpcError {
    IpcError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {method} {}", uri.path()),
    )
}

async fn wrong_method(method: Method, uri: Uri) -> IpcError {
    IpcError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("method {method} is not allowed on {}", uri.path()),
    )
}
