//! `POST /authenticate`: a desktop app asks the user to log in with their
//! identity. With a challenge, the vault signs the challenge's UTF-8 bytes,
//! exactly as the spec reads ("challenge-to-sign"): the app chose the
//! challenge, so it can verify the signature with nothing else. `signed_at`
//! (Unix seconds) says when; it is not covered by the signature. The worked
//! example is in docs/ipc.md and a test checks it.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::{Extension, Json};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use holdfast_core::approvals::ApprovalKind;
use holdfast_core::apps;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::error::{IpcErrorBody, IpcResult};
use super::extract::{IpcJson, bounded, identify, origin, require_unlocked};
use super::guard::PeerSocket;
use super::prompt::{Ask, ask};
use super::status::did_of;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct AuthenticateRequest {
    pub app_name: String,
    pub client_id: Option<String>,
    /// Up to 1024 characters; its UTF-8 bytes are signed if given.
    pub challenge: Option<String>,
    /// Shown in the approval prompt.
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuthenticateResponse {
    pub success: bool,
    pub did: String,
    pub agent_pub_key: String,
    /// Base64 Ed25519 signature of the challenge's UTF-8 bytes; only with a challenge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<i64>,
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
    headers: HeaderMap,
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
    // The client_id is optional and may be of an app not registered yet;
    // only a presented token makes the request verified.
    let verified = if headers.contains_key(header::AUTHORIZATION) {
        identify(&state, &headers, req.client_id.as_deref())
            .await?
            .is_some_and(|a| a.verified())
    } else {
        false
    };
    let (_, named) = ask(
        &state,
        peer,
        Ask {
            kind: ApprovalKind::Auth,
            app_name: Some(&req.app_name),
            client_id: req.client_id.as_deref(),
            verified,
            origin: origin(&headers),
            reason,
            details: json!({ "challenge": challenge }),
            grant_allowed: false,
        },
    )
    .await?;
    let (signature, signed_at, key) = match challenge {
        Some(c) => {
            let signed_at = holdfast_core::time::now_ms() / 1000;
            let (key, sig) = state.identity.sign(c.as_bytes())?;
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
    let mut record = json!({"client_id": req.client_id, "challenge": challenge.is_some()});
    named.audit_fields(&mut record);
    state.audit.record("authenticate", record).await;
    Ok(Json(AuthenticateResponse {
        success: true,
        did: did_of(&key),
        agent_pub_key: key.to_string(),
        signature,
        signed_at,
    }))
}
