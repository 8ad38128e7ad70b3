//! `POST /authenticate`: a desktop app asks the user to log in with their
//! identity. With a challenge, the vault signs `"<challenge>:<signed_at>"`
//! (UTF-8; `signed_at` in Unix seconds) so the signature is bound to its time.

use axum::extract::State;
use axum::{Extension, Json};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use holdfast_core::approvals::ApprovalKind;
use holdfast_core::apps;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::error::{IpcErrorBody, IpcResult};
use super::extract::{IpcJson, bounded, require_unlocked};
use super::guard::PeerSocket;
use super::prompt::{Ask, ask};
use super::status::did_of;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct AuthenticateRequest {
    pub app_name: String,
    pub client_id: Option<String>,
    /// Up to 1024 characters; signed with the time if given.
    pub challenge: Option<String>,
    /// Shown in the approval prompt.
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuthenticateResponse {
    pub success: bool,
    pub did: String,
    pub agent_pub_key: String,
    /// Base64 Ed25519 signature of `"<challenge>:<signed_at>"`; only with a challenge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<i64>,
}

/// The message an authentication signature covers.
pub fn signed_message(challenge: &str, signed_at: i64) -> String {
    format!("{challenge}:{signed_at}")
}

/// Ask the user to authenticate this app (60 s to answer).
#[utoipa::path(post, path = "/authenticate", tag = "ipc", request_body = AuthenticateRequest,
    responses(
        (status = 200, body = AuthenticateResponse),
        (status = 403, description = "user_denied, vault_locked", body = IpcErrorBody),
        (status = 408, description = "timeout", body = IpcErrorBody),
        (status = 429, description = "too_many_requests", body = IpcErrorBody),
    ))]
pub async fn authenticate(
    State(state): State<AppState>,
    Extension(peer): Extension<PeerSocket>,
    IpcJson(req): IpcJson<AuthenticateRequest>,
) -> IpcResult<Json<AuthenticateResponse>> {
    apps::validate_name(&req.app_name)?;
    if let Some(id) = req.client_id.as_deref() {
        apps::validate_client_id(id)?;
    }
    let challenge = req
        .challenge
        .as_deref()
        .map(|c| bounded("challenge", c, 1024))
        .transpose()?;
    let reason = req
        .reason
        .as_deref()
        .map(|r| bounded("reason", r, 500))
        .transpose()?;
    require_unlocked(&state)?;
    ask(
        &state,
        peer,
        Ask {
            kind: ApprovalKind::Auth,
            app_name: &req.app_name,
            client_id: req.client_id.as_deref(),
            reason,
            details: json!({ "challenge": challenge }),
            grant_allowed: false,
        },
    )
    .await?;
    let (signature, signed_at, key) = match challenge {
        Some(c) => {
            let signed_at = holdfast_core::time::now_ms() / 1000;
            let (key, sig) = state
                .identity
                .sign(signed_message(c, signed_at).as_bytes())?;
            (Some(STANDARD.encode(sig.to_bytes())), Some(signed_at), key)
        }
        None => {
            let key = state
                .identity
                .agent_pub_key()
                .ok_or(holdfast_core::identity::IdentityError::Uninitialized)?;
            (None, None, key)
        }
    };
    state
        .audit
        .record(
            "authenticate",
            json!({"app_name": req.app_name, "client_id": req.client_id, "challenge": challenge.is_some()}),
        )
        .await;
    Ok(Json(AuthenticateResponse {
        success: true,
        did: did_of(&key),
        agent_pub_key: key.to_string(),
        signature,
        signed_at,
    }))
}
