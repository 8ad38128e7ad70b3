//! Linking an app's agent key to the user's: `/link-identity` (with the
//! user's approval), `/revoke-identity`, `/link-status`. The attestation
//! signs the two raw 39-byte keys sorted bytewise (78 bytes), the format the
//! ecosystem's linking code verifies.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::{Extension, Json};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use holdfast_core::approvals::{ApprovalKind, Decision};
use holdfast_core::apps::{self, AppAuth};
use holdfast_core::identity::AgentPubKey;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::error::{IpcError, IpcErrorBody, IpcResult};
use super::extract::{IpcJson, IpcQuery, bounded, identify, origin, require_unlocked};
use super::guard::PeerSocket;
use super::prompt::{Ask, ask};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct LinkRequest {
    pub app_name: String,
    pub client_id: Option<String>,
    pub app_agent_pub_key: String,
    /// Shown in the approval prompt.
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LinkResponse {
    pub success: bool,
    pub vault_agent_pub_key: String,
    /// Base64 Ed25519 signature over the sorted 78-byte key pair.
    pub vault_signature: String,
    /// This app's secret (not in the spec). Apps that present it as
    /// `Authorization: Bearer` get a stronger binding: from their first use
    /// of it on, their client_id alone is refused.
    pub app_token: String,
}

fn parse_key(s: &str) -> IpcResult<AgentPubKey> {
    AgentPubKey::parse(s).map_err(|e| IpcError::invalid(format!("app_agent_pub_key: {e}")))
}

fn client_id_of(c: &Option<String>) -> IpcResult<&str> {
    let id = c
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or(apps::AppError::MissingClientId)?;
    apps::validate_client_id(id)?;
    Ok(id)
}

/// Ask the user to link an app's agent key to the vault's.
#[utoipa::path(post, path = "/link-identity", tag = "ipc", request_body = LinkRequest,
    responses(
        (status = 200, body = LinkResponse),
        (status = 400, description = "missing_client_id, invalid_request", body = IpcErrorBody),
        (status = 403, description = "user_denied, vault_locked", body = IpcErrorBody),
        (status = 408, description = "timeout", body = IpcErrorBody),
        (status = 429, description = "too_many_requests", body = IpcErrorBody),
    ))]
pub async fn link_identity(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerSocket>,
    headers: HeaderMap,
    IpcJson(req): IpcJson<LinkRequest>,
) -> IpcResult<Json<LinkResponse>> {
    let client_id = client_id_of(&req.client_id)?;
    apps::validate_name(&req.app_name)?;
    let reason = req
        .reason
        .as_deref()
        .map(|r| bounded("reason", r, 500))
        .transpose()?;
    let app_key = parse_key(&req.app_agent_pub_key)?;
    require_unlocked(&state)?;
    if let Some(origin) = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        && let Some(app) = state.apps.get(client_id).await?
        && !app
            .allowed_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
    {
        return Err(IpcError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden_origin",
            "this origin is not registered for this app",
        ));
    }
    // The user picks which profile fields the app may read; a known app's
    // current choice is the starting point.
    let current_scopes = state
        .apps
        .get(client_id)
        .await?
        .map(|a| a.scopes)
        .unwrap_or_default();
    let (decision, named) = ask(
        &state,
        peer,
        Ask {
            kind: ApprovalKind::Link,
            app_name: Some(&req.app_name),
            client_id: Some(client_id),
            verified: false,
            origin: origin(&headers),
            reason,
            details: json!({
                "app_agent_pub_key": app_key.to_string(),
                "scopes_offered": apps::SCOPES,
                "scopes": current_scopes,
            }),
            grant_allowed: false,
        },
    )
    .await?;
    let Decision::Allow {
        scopes,
        app_name: chosen_name,
        ..
    } = decision
    else {
        unreachable!("a denial is an error")
    };
    let (vault_key, signature) = state.identity.sign_link(&app_key)?;
    let signature = STANDARD.encode(signature.to_bytes());
    let exe = peer.process().await.and_then(|p| p.exe);
    // A known app keeps its registered name; a new one is registered under
    // the name the user gave it in the prompt, else the name it claimed
    // (which the prompt showed as only a claim).
    let registered = state.apps.get(client_id).await?;
    let new_app = registered.is_none();
    let app_name = registered.map_or_else(
        || chosen_name.unwrap_or_else(|| req.app_name.clone()),
        |a| a.name,
    );
    let (link, token) = state
        .apps
        .add_link(
            apps::NewLink {
                client_id,
                app_name: &app_name,
                app_key: &app_key,
                vault_key: &vault_key,
                signature_b64: &signature,
                exe,
            },
            scopes,
        )
        .await?;
    let mut record = json!({"client_id": client_id, "link_id": link.id,
                            "app_agent_pub_key": link.app_agent_pub_key, "new_app": new_app});
    named.audit_fields(&mut record);
    if new_app {
        // Registered just now, under the name the user chose or it claimed.
        record["app_name"] = json!(app_name);
        record["claimed_name"] = json!(req.app_name);
    }
    state.audit.record("link", record).await;
    Ok(Json(LinkResponse {
        success: true,
        vault_agent_pub_key: vault_key.to_string(),
        vault_signature: signature,
        app_token: token,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct RevokeRequest {
    pub app_name: Option<String>,
    pub client_id: Option<String>,
    pub app_agent_pub_key: String,
}

#[derive(Serialize, ToSchema)]
pub struct RevokeResponse {
    pub success: bool,
    /// Whether a live link was removed.
    pub revoked: bool,
}

/// The app tells the vault a link is revoked. The spec's body names the key
/// (and the app by name only); an app that uses its token must present it,
/// and then revokes only its own links.
#[utoipa::path(post, path = "/revoke-identity", tag = "ipc", request_body = RevokeRequest,
    responses(
        (status = 200, body = RevokeResponse),
        (status = 400, description = "invalid_request, invalid_client_id", body = IpcErrorBody),
        (status = 401, description = "missing_app_token (the linked app uses its token), invalid_app_token", body = IpcErrorBody),
    ))]
pub async fn revoke_identity(
    State(state): State<AppState>,
    headers: HeaderMap,
    IpcJson(req): IpcJson<RevokeRequest>,
) -> IpcResult<Json<RevokeResponse>> {
    let key = parse_key(&req.app_agent_pub_key)?;
    if let Some(name) = &req.app_name {
        bounded("app_name", name, apps::MAX_NAME_LEN)?;
    }
    let auth = identify(&state, &headers, req.client_id.as_deref()).await?;
    let link = state
        .apps
        .find_link(auth.as_ref().map(AppAuth::client_id), &key.to_string())
        .await?;
    let Some(link) = link else {
        return Ok(Json(RevokeResponse {
            success: true,
            revoked: false,
        }));
    };
    // Named by key alone: the link's app must not be one that uses its token.
    if auth.is_none() {
        let app = state.apps.get(&link.client_id).await?;
        if app.is_some_and(|a| a.token_bound) {
            return Err(apps::AppError::MissingToken.into());
        }
    }
    state.apps.delete_link(&link.id).await?;
    state
        .audit
        .record(
            "link_revoked",
            json!({"client_id": link.client_id, "link_id": link.id, "by": "app",
                   "app_name": req.app_name,
                   "verified": auth.as_ref().is_some_and(AppAuth::verified)}),
        )
        .await;
    Ok(Json(RevokeResponse {
        success: true,
        revoked: true,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkStatusQuery {
    pub client_id: Option<String>,
    pub app_agent_pub_key: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LinkStatusResponse {
    pub linked: bool,
    pub app_name: Option<String>,
}

/// Is this app key still linked?
#[utoipa::path(get, path = "/link-status", tag = "ipc", params(LinkStatusQuery),
    responses((status = 200, body = LinkStatusResponse), (status = 400, body = IpcErrorBody)))]
pub async fn link_status(
    State(state): State<AppState>,
    IpcQuery(q): IpcQuery<LinkStatusQuery>,
) -> IpcResult<Json<LinkStatusResponse>> {
    // The spec sends both; a missing client_id looks the key up in any app.
    let client_id = match q.client_id.as_deref().filter(|c| !c.is_empty()) {
        Some(id) => {
            apps::validate_client_id(id)?;
            Some(id)
        }
        None => None,
    };
    let key = parse_key(
        q.app_agent_pub_key
            .as_deref()
            .ok_or_else(|| IpcError::invalid("app_agent_pub_key is required"))?,
    )?;
    let link = state.apps.find_link(client_id, &key.to_string()).await?;
    Ok(Json(LinkStatusResponse {
        linked: link.is_some(),
        app_name: link.map(|l| l.app_name),
    }))
}
