//! The OpenAPI document of the REST surface, served at `/api/v1/openapi.json`.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Holdfast REST API",
        description = "The daemon's /api/v1 surface. Errors are {\"error\":\"message\"}; times are ms since epoch."
    ),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Login, bearer sessions, bootstrap tickets"),
        (name = "system", description = "What this daemon is and how it is doing"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Holdfast-Admin-Token"))),
        );
    }
}

/// The document, rendered once.
pub struct Document {
    pub json: String,
}

impl Document {
    pub fn new(mut doc: utoipa::openapi::OpenApi) -> Self {
        // axum's `{*path}` wildcards are `{path}` in OpenAPI templating.
        let paths = std::mem::take(&mut doc.paths.paths);
        doc.paths.paths = paths
            .into_iter()
            .map(|(k, v)| (k.replace("{*", "{"), v))
            .collect();
        Self {
            json: doc.to_json().expect("the OpenAPI document serialises"),
        }
    }
}
