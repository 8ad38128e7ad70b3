//! A handler that panics answers 500 in its surface's error shape, instead
//! of the connection closing with no answer at all. The panic is logged
//! (the client gets no detail), and the server goes on serving.

use std::any::Any;
use std::panic::AssertUnwindSafe;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::FutureExt;

/// The surface's 500 answer.
pub type InternalError = fn() -> Response;

/// Middleware: `from_fn_with_state(answer, catch_panics)`.
pub async fn catch_panics(
    State(answer): State<InternalError>,
    req: Request,
    next: Next,
) -> Response {
    let (method, path) = (
        req.method().clone(),
        super::observe::loggable_path(req.uri().path()),
    );
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            tracing::error!("{method} {path}: handler panicked: {}", message(&*panic));
            answer()
        }
    }
}

fn message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    fn teapot() -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, "shape").into_response()
    }

    #[tokio::test]
    async fn a_panicking_handler_gets_the_surface_answer() {
        let app = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if true {
                        panic!("overflow");
                    }
                    "never"
                }),
            )
            .route("/fine", get(|| async { "fine" }))
            .layer(axum::middleware::from_fn_with_state(
                teapot as InternalError,
                catch_panics,
            ));
        let boom = app
            .clone()
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(boom.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(boom.into_body(), 100).await.unwrap();
        assert_eq!(&body[..], b"shape");
        let fine = app
            .oneshot(Request::get("/fine").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(fine.status(), StatusCode::OK);
    }
}
