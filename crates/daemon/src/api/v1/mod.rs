//! `/api/v1` routes, a module per feature. Public routes need no bearer
//! (the spec's bootstrap set); everything else is protected.

pub mod auth;
pub mod system;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(system::version))
        .routes(routes!(system::status))
        .routes(routes!(system::openapi_json))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::bootstrap_exchange))
        .routes(routes!(auth::admin_set_password))
        .routes(routes!(auth::admin_bootstrap_ticket))
}

pub fn protected_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(system::whoami))
        .routes(routes!(system::metrics))
}
