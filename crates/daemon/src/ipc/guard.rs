//! Who may talk to the IPC surface. Local apps are native processes or
//! pages on origins an app registered; the guard refuses:
//! - a `Host` that is not this loopback listener (DNS rebinding);
//! - an `Origin` no registered app allows (`null` included); allowed origins
//!   are echoed in CORS headers, never `*`;
//! - on Linux, connections from processes of another OS user (checked once
//!   per connection by [`super::accept::PeerAcceptor`]).
//!
//! It records the peer socket so prompts can name the requesting program.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use holdfast_core::apps::Apps;

use super::accept::PeerCheck;
use super::error::IpcError;
use super::peer;
use crate::http::host_policy::{HostPolicy, Refusal};

pub struct IpcGuard {
    pub policy: HostPolicy,
    pub apps: Apps,
}

/// The client end of the connection, for looking up its process lazily.
#[derive(Clone, Copy, Debug)]
pub struct PeerSocket {
    pub server: SocketAddr,
    pub client: SocketAddr,
}

impl PeerSocket {
    /// The requesting process (pid, executable), for approval prompts.
    pub async fn process(self) -> Option<peer::PeerProcess> {
        tokio::task::spawn_blocking(move || peer::lookup(self.server, self.client))
            .await
            .ok()
            .flatten()
    }
}

pub async fn guard(State(g): State<Arc<IpcGuard>>, mut req: Request, next: Next) -> Response {
    if let Err(refusal) = g.policy.check_host(req.uri(), req.headers()) {
        return IpcError::new(StatusCode::FORBIDDEN, "forbidden_host", refusal.message())
            .into_response();
    }
    // Set per connection by the acceptor; its absence is a wiring bug.
    let Some(check) = req.extensions().get::<PeerCheck>().copied() else {
        return IpcError::internal("IPC connection without a peer check").into_response();
    };
    if let Err(why) = check.same_user {
        return IpcError::new(StatusCode::FORBIDDEN, "forbidden_user", why).into_response();
    }
    req.extensions_mut().insert(PeerSocket {
        server: check.server,
        client: check.client,
    });

    let origin = match req.headers().get(header::ORIGIN) {
        None => return next.run(req).await,
        Some(o) => o.clone(),
    };
    let allowed = match origin.to_str() {
        Ok("null") | Err(_) => false,
        Ok(o) => match g.apps.origin_is_registered(o).await {
            Ok(known) => known,
            Err(e) => return IpcError::internal(e).into_response(),
        },
    };
    if !allowed {
        return IpcError::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            Refusal::ForeignOrigin.message(),
        )
        .into_response();
    }
    let mut response = if req.method() == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, authorization"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(req).await
    };
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}
