//! Request accounting and the access log. The log line names method, path and
//! status only: never the query string (it may carry `?token=`) nor headers.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use holdfast_core::metrics::Metrics;

use super::counting::{Counting, Direction};

pub async fn observe(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = loggable_path(req.uri().path());
    let req = req.map(|b| Counting::wrap(b, metrics.clone(), Direction::In));
    let response = next.run(req).await;
    let status = response.status();
    metrics.record_request(status.is_client_error() || status.is_server_error());
    tracing::info!(
        target: "holdfast::access",
        "{method} {path} {} {:.1}ms",
        status.as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response.map(|b| Counting::wrap(b, metrics, Direction::Out))
}

/// The path as it may be logged: bounded, and with path-borne secrets
/// (webhook tokens) masked.
pub(crate) fn loggable_path(path: &str) -> String {
    const MAX: usize = 200;
    let masked = match path.find("/hooks/") {
        Some(i) => format!("{}/hooks/…", &path[..i]),
        None => path.to_owned(),
    };
    if masked.len() > MAX {
        let mut end = MAX;
        while !masked.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &masked[..end])
    } else {
        masked
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn masks_secrets_and_bounds_length() {
        assert_eq!(loggable_path("/api/v1/version"), "/api/v1/version");
        assert_eq!(loggable_path("/api/v1/hooks/s3cr3t"), "/api/v1/hooks/…");
        assert!(loggable_path(&"é".repeat(500)).len() <= 204);
    }
}
