//! The REST surface: `/api/v1` for the web UI, the CLI and third-party
//! clients, per `spec/mesh-rest-api.md`. Routes are registered only through
//! utoipa-axum's `routes!`, so each one is in the OpenAPI document.
//!
//! Layers, outermost first: accounting and access log → Host/Origin policy →
//! JSON error shape for every failure → body size limit → routes (protected
//! ones behind the bearer gate).

pub(crate) mod bearer;
mod error;
mod extract;
mod fallback;
pub(crate) mod openapi;
pub mod v1;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, ErrorBody};

use crate::http::host_policy::HostPolicy;
use crate::http::observe::observe;
use crate::http::panics::{InternalError, catch_panics};
use crate::state::AppState;

/// Largest JSON request body. Uploads (a later feature) opt out per route.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState, policy: HostPolicy) -> Router {
    let public = v1::public_routes();
    let protected = v1::protected_routes()
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::agents::remote::forward_layer,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            bearer::require_bearer,
        ));
    let (routes, doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/api/v1", public.merge(protected))
        .split_for_parts();
    let doc = Arc::new(openapi::Document::new(doc));

    let hub = crate::hub::ui_service(state.clone());
    routes
        .nest_service(crate::hub::UI_PREFIX, hub)
        .merge(crate::web::routes())
        .fallback(fallback::no_route)
        .method_not_allowed_fallback(fallback::wrong_method)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(Extension(doc))
        .with_state(state.clone())
        .layer(middleware::from_fn_with_state(
            (|| ApiError::internal("a handler panicked").into_response()) as InternalError,
            catch_panics,
        ))
        .layer(middleware::from_fn(fallback::json_errors))
        .layer(middleware::from_fn_with_state(Arc::new(policy), host_guard))
        .layer(middleware::from_fn_with_state(state.metrics, observe))
}

async fn host_guard(State(policy): State<Arc<HostPolicy>>, req: Request, next: Next) -> Response {
    match policy.check(req.uri(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(refusal) => ApiError::forbidden(refusal.message()).into_response(),
    }
}
