//! Per-connection checks for the IPC listener. Which OS user owns the
//! connecting socket is asked of the kernel once per TCP connection (reading
//! `/proc/net/tcp` costs milliseconds, far too much per request), and the
//! answer rides along with every request of that connection.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use axum::Extension;
use axum_server::accept::Accept;
use tokio::net::TcpStream;
use tower::Layer;

use super::peer;

/// Whether the connection's process belongs to this daemon's user, and the
/// socket's two ends (for looking up the process later, for prompts).
#[derive(Clone, Copy, Debug)]
pub struct PeerCheck {
    pub same_user: Result<(), &'static str>,
    pub server: SocketAddr,
    pub client: SocketAddr,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct PeerAcceptor;

impl<S: Send + 'static> Accept<TcpStream, S> for PeerAcceptor {
    type Stream = TcpStream;
    type Service = <Extension<PeerCheck> as Layer<S>>::Service;
    type Future = Pin<Box<dyn Future<Output = io::Result<(TcpStream, Self::Service)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        Box::pin(async move {
            let _ = stream.set_nodelay(true);
            let server = stream.local_addr()?;
            let client = stream.peer_addr()?;
            let same_user = check_user(server, client).await;
            if let Err(why) = same_user {
                tracing::warn!(%client, "IPC connection refused: {why}");
            }
            let check = PeerCheck {
                same_user,
                server,
                client,
            };
            Ok((stream, Extension(check).layer(service)))
        })
    }
}

/// On Linux, the connecting process must belong to our user.
async fn check_user(server: SocketAddr, client: SocketAddr) -> Result<(), &'static str> {
    #[cfg(target_os = "linux")]
    {
        let theirs = tokio::task::spawn_blocking(move || peer::socket_uid(server, client))
            .await
            .ok()
            .flatten();
        match (peer::current_uid(), theirs) {
            (Some(a), Some(b)) if a == b => Ok(()),
            (_, None) => Err("cannot tell which user the connecting process belongs to"),
            _ => Err("connections from another user's processes are refused"),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (server, client);
        Ok(())
    }
}
