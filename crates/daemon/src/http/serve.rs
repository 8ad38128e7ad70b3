//! Serve a router on an already-bound listener (so the real port is known
//! before the first request), over TLS when configured, with graceful
//! shutdown: stop accepting, let in-flight requests finish within a grace
//! period, then return.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use axum_server::accept::NoDelayAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use tokio::task::JoinHandle;

/// How long in-flight requests get to finish once shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A running listener.
pub struct Served {
    handle: Handle<SocketAddr>,
    task: JoinHandle<io::Result<()>>,
}

/// Bind `addr` now; errors name the address.
pub fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<std::net::TcpListener> {
    std::net::TcpListener::bind(addr)
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for the {what}: {e}"))
}

pub fn spawn(
    listener: std::net::TcpListener,
    router: Router,
    tls: Option<RustlsConfig>,
) -> io::Result<Served> {
    let handle = Handle::new();
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    // TCP_NODELAY: a response's headers and first body bytes go in
    // separate writes; with Nagle the second waits for the client's
    // delayed ACK (~40 ms), which small downloads would pay every time.
    let task = match tls {
        Some(config) => {
            let tls = RustlsAcceptor::new(config).acceptor(NoDelayAcceptor::new());
            let server = axum_server::from_tcp(listener)?
                .acceptor(tls)
                .handle(handle.clone());
            tokio::spawn(server.serve(service))
        }
        None => {
            let server = axum_server::from_tcp(listener)?
                .acceptor(NoDelayAcceptor::new())
                .handle(handle.clone());
            tokio::spawn(server.serve(service))
        }
    };
    Ok(Served { handle, task })
}

impl Served {
    /// A server started elsewhere (e.g. with a custom acceptor).
    pub fn new(handle: Handle<SocketAddr>, task: JoinHandle<io::Result<()>>) -> Self {
        Self { handle, task }
    }

    /// Stop accepting and wait for in-flight requests (up to the grace period).
    pub async fn shutdown(self) -> io::Result<()> {
        self.handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        self.task.await.map_err(io::Error::other)?
    }
}
