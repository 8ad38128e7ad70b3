//! `/api/v1` routes, a module per feature. Public routes need no bearer
//! (the spec's bootstrap set); everything else is protected.

pub mod approvals;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod events;
pub mod identity;
pub mod system;

use axum::extract::DefaultBodyLimit;
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
    // The profile carries a picture: a larger body than other JSON.
    let profile = OpenApiRouter::new()
        .routes(routes!(identity::put_profile))
        .layer(DefaultBodyLimit::max(
            identity::MAX_PICTURE_BYTES + 16 * 1024,
        ));
    OpenApiRouter::new()
        .routes(routes!(system::whoami))
        .routes(routes!(system::metrics))
        .routes(routes!(identity::get_identity))
        .routes(routes!(identity::init))
        .routes(routes!(identity::unlock))
        .routes(routes!(identity::lock))
        .routes(routes!(identity::recover))
        .routes(routes!(identity::change_passphrase))
        .routes(routes!(apps::list_apps, apps::create_app))
        .routes(routes!(apps::patch_app, apps::delete_app))
        .routes(routes!(apps::list_links))
        .routes(routes!(apps::delete_link))
        .routes(routes!(apps::list_grants))
        .routes(routes!(apps::delete_grant))
        .routes(routes!(approvals::list))
        .routes(routes!(approvals::answer))
        .routes(routes!(backups::export))
        .routes(routes!(audit::list))
        .routes(routes!(audit::export))
        .routes(routes!(events::stream))
        .merge(profile)
}
