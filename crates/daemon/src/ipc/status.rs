//! `GET /status`: is the vault running and unlocked, and who is the user —
//! profile fields only within the calling app's scopes.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use holdfast_core::identity::LockState;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{IpcErrorBody, IpcResult};
use super::extract::app_auth;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct StatusResponse {
    pub unlocked: bool,
    /// Present while unlocked.
    pub agent_pub_key: Option<String>,
    pub did: Option<String>,
    pub version: String,
    /// Scope-gated: null unless the calling app (by its app token) has the scope.
    pub display_name: Option<String>,
    pub username: Option<String>,
    pub profile_picture: Option<String>,
}

pub fn did_of(key: &impl std::fmt::Display) -> String {
    format!("did:holdfast:{key}")
}

/// Vault status. Profile fields need `Authorization: Bearer <app_token>` of an
/// app granted those scopes.
#[utoipa::path(get, path = "/status", tag = "ipc",
    responses((status = 200, body = StatusResponse), (status = 401, body = IpcErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> IpcResult<Json<StatusResponse>> {
    let unlocked = state.identity.state() == LockState::Unlocked;
    let key = unlocked.then(|| state.identity.agent_pub_key()).flatten();
    let mut out = StatusResponse {
        unlocked,
        agent_pub_key: key.map(|k| k.to_string()),
        did: key.map(|k| did_of(&k)),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        display_name: None,
        username: None,
        profile_picture: None,
    };
    if unlocked && headers.contains_key(axum::http::header::AUTHORIZATION) {
        let auth = app_auth(&state, &headers, None).await?;
        if let Some(app) = state.apps.get(auth.client_id()).await? {
            let profile = state.identity.profile().await?;
            let has = |s: &str| app.scopes.iter().any(|x| x == s);
            if has("display_name") {
                out.display_name = profile.display_name;
            }
            if has("username") {
                out.username = profile.username;
            }
            if has("profile_picture") {
                out.profile_picture = profile.profile_picture;
            }
        }
    }
    Ok(Json(out))
}
