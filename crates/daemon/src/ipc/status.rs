//! `GET /status`: is the vault running and unlocked, and who is the user —
//! profile fields only within the calling app's scopes.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::{Extension, Json};
use holdfast_core::apps::App;
use holdfast_core::identity::LockState;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::IpcResult;
use super::extract::{IpcQuery, identify, origin};
use super::guard::PeerSocket;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct StatusResponse {
    pub unlocked: bool,
    /// Present while unlocked.
    pub agent_pub_key: Option<String>,
    pub did: Option<String>,
    pub version: String,
    /// Scope-gated: null unless the calling app was granted the scope.
    pub display_name: Option<String>,
    pub username: Option<String>,
    pub profile_picture: Option<String>,
}

pub fn did_of(key: &impl std::fmt::Display) -> String {
    format!("did:holdfast:{key}")
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// Optional (not in the spec): the calling app, for its profile scopes.
    pub client_id: Option<String>,
}

/// Vault status. Profile fields are those the user let the calling app read
/// (chosen in the link prompt). The caller is its app token, or else (for
/// the spec's clients, until they use a token) the client_id it names, the
/// browser origin only it registered, or the program only its links came
/// from. A stale token or an unknown caller gets nulls, never an error.
#[utoipa::path(get, path = "/status", tag = "ipc", params(StatusQuery),
    responses((status = 200, body = StatusResponse)))]
pub async fn status(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerSocket>,
    headers: HeaderMap,
    IpcQuery(q): IpcQuery<StatusQuery>,
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
    if !unlocked {
        return Ok(Json(out));
    }
    if let Some(app) = caller_app(&state, peer, &headers, q.client_id.as_deref()).await? {
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
    Ok(Json(out))
}

/// The app whose scopes apply to this `/status` call, if it can be told.
async fn caller_app(
    state: &AppState,
    peer: PeerSocket,
    headers: &HeaderMap,
    client_id: Option<&str>,
) -> IpcResult<Option<App>> {
    if headers.contains_key(header::AUTHORIZATION) {
        return Ok(match identify(state, headers, None).await {
            Ok(Some(auth)) => state.apps.get(auth.client_id()).await?,
            _ => None,
        });
    }
    // Apps that use their token are known only by it.
    let unbound = |apps: Vec<App>| -> Option<App> {
        let mut apps = apps.into_iter().filter(|a| !a.token_bound);
        let first = apps.next();
        // Ambiguous means unknown.
        if apps.next().is_some() { None } else { first }
    };
    if let Some(id) = client_id.filter(|c| !c.is_empty()) {
        let app = state.apps.get(id).await?;
        return Ok(app.filter(|a| {
            !a.token_bound
                && origin(headers)
                    .is_none_or(|o| a.allowed_origins.iter().any(|x| x.eq_ignore_ascii_case(o)))
        }));
    }
    if let Some(o) = origin(headers) {
        let apps = state.apps.list().await?;
        return Ok(unbound(
            apps.into_iter()
                .filter(|a| a.allowed_origins.iter().any(|x| x.eq_ignore_ascii_case(o)))
                .collect(),
        ));
    }
    match peer.process().await.and_then(|p| p.exe) {
        Some(exe) => Ok(unbound(state.apps.apps_linked_from(&exe).await?)),
        None => Ok(None),
    }
}
