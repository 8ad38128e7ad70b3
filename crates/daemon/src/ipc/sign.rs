//! `POST /sign`: sign bytes with the agent key. Always asks the user, unless
//! an app that proved itself with its token holds a timed grant; never signs
//! a link-shaped payload. The spec's body names no app: such a request is
//! shown by its program and origin.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::{Extension, Json};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use holdfast_core::approvals::{ApprovalKind, Decision};
use holdfast_core::apps::AppAuth;
use holdfast_core::identity::agent_key;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::error::{IpcError, IpcErrorBody, IpcResult};
use super::extract::{IpcJson, Unlocked, bounded, identify, origin};
use super::guard::PeerSocket;
use super::prompt::{Ask, ask};
use crate::state::AppState;

/// Largest payload to sign.
pub const MAX_SIGN_BYTES: usize = 64 * 1024;
/// Longest "remember for" a sign grant may have: 30 days.
pub const MAX_GRANT_S: u64 = 30 * 24 * 3600;

#[derive(Deserialize, ToSchema)]
pub struct SignRequest {
    /// "bytes" or "action".
    #[serde(rename = "type")]
    pub kind: String,
    /// Base64 of the bytes to sign (for "action": the serialised action).
    #[serde(alias = "action")]
    pub bytes: String,
    pub reason: Option<String>,
    /// Optional (not in the spec): the app's client_id, shown in the prompt.
    pub client_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SignResponse {
    pub success: bool,
    pub signature: String,
    pub agent_pub_key: String,
}

/// Sign with the vault's agent key, after the user approves.
#[utoipa::path(post, path = "/sign", tag = "ipc", request_body = SignRequest,
    responses(
        (status = 200, body = SignResponse),
        (status = 400, description = "invalid_request (bad type, bad base64, link-shaped payload), invalid_client_id", body = IpcErrorBody),
        (status = 401, description = "missing_app_token (this app uses its token), invalid_app_token", body = IpcErrorBody),
        (status = 403, description = "user_denied, vault_locked", body = IpcErrorBody),
        (status = 408, description = "timeout", body = IpcErrorBody),
        (status = 429, description = "too_many_requests", body = IpcErrorBody),
    ))]
pub async fn sign(
    _: Unlocked,
    State(state): State<AppState>,
    Extension(peer): Extension<PeerSocket>,
    headers: HeaderMap,
    IpcJson(req): IpcJson<SignRequest>,
) -> IpcResult<Json<SignResponse>> {
    if req.kind != "bytes" && req.kind != "action" {
        return Err(IpcError::invalid("type must be \"bytes\" or \"action\""));
    }
    let reason = req
        .reason
        .as_deref()
        .map(|r| bounded("reason", r, 500))
        .transpose()?;
    if req.bytes.len() > MAX_SIGN_BYTES.div_ceil(3) * 4 + 4 {
        return Err(IpcError::invalid(format!(
            "at most {MAX_SIGN_BYTES} bytes can be signed"
        )));
    }
    let payload = STANDARD
        .decode(req.bytes.trim())
        .map_err(|_| IpcError::invalid("bytes must be base64"))?;
    if payload.len() > MAX_SIGN_BYTES {
        return Err(IpcError::invalid(format!(
            "at most {MAX_SIGN_BYTES} bytes can be signed"
        )));
    }
    if agent_key::looks_like_link_payload(&payload) {
        return Err(IpcError::invalid(
            "refusing to sign: the payload has the shape of a link attestation",
        ));
    }
    let auth = identify(&state, &headers, req.client_id.as_deref()).await?;
    let client_id = auth.as_ref().map(|a| a.client_id().to_owned());
    // Only an app that proved itself may skip the prompt.
    let verified = auth.as_ref().is_some_and(AppAuth::verified);
    let granted = match (&client_id, verified) {
        (Some(id), true) => state.apps.has_grant(id, "sign").await?,
        _ => false,
    };
    let mut named = None;
    if !granted {
        let (decision, n) = ask(
            &state,
            peer,
            Ask {
                kind: ApprovalKind::Sign,
                app_name: None,
                client_id: client_id.as_deref(),
                verified,
                origin: origin(&headers),
                reason,
                details: preview(&req.kind, &payload),
                grant_allowed: verified,
            },
        )
        .await?;
        named = Some(n);
        if let (
            Decision::Allow {
                remember_s: Some(s),
                ..
            },
            Some(client_id),
        ) = (decision, &client_id)
            && s > 0
            && verified
        {
            let grant = state
                .apps
                .add_grant(client_id, "sign", s.min(MAX_GRANT_S))
                .await?;
            state
                .audit
                .record("grant", json!({"client_id": client_id, "kind": "sign", "expires_at_ms": grant.expires_at_ms,
                                        "app_name": named.as_ref().map(|n| n.app_name.clone())}))
                .await;
        }
    }
    let (key, signature) = state.identity.sign(&payload)?;
    let mut record = json!({"client_id": client_id, "type": req.kind, "bytes": payload.len(), "via_grant": granted});
    match named {
        Some(n) => n.audit_fields(&mut record),
        None => {
            // Signed under a grant: the app proved itself with its token.
            if let Some(id) = &client_id
                && let Some(app) = state.apps.get(id).await?
            {
                record["app_name"] = json!(app.name);
            }
        }
    }
    state.audit.record("sign", record).await;
    Ok(Json(SignResponse {
        success: true,
        signature: STANDARD.encode(signature.to_bytes()),
        agent_pub_key: key.to_string(),
    }))
}

/// What the prompt shows: the size, the text when the bytes are printable
/// UTF-8, and hex (of at most the first 4 KiB). `printable` is false for
/// anything a person cannot read as text (invalid UTF-8, control or
/// direction-override characters): the UI warns that it is blind signing.
fn preview(kind: &str, payload: &[u8]) -> serde_json::Value {
    const SHOWN: usize = 4096;
    let shown = &payload[..payload.len().min(SHOWN)];
    let text = std::str::from_utf8(payload).ok();
    json!({
        "type": kind,
        "size": payload.len(),
        "text": text.map(|t| t.chars().take(SHOWN).collect::<String>()),
        "printable": text.is_some_and(printable),
        "hex": hex::encode(shown),
        "truncated": payload.len() > SHOWN,
    })
}

/// Text a person can read as shown: no control characters besides tab and
/// line breaks, and nothing that reorders or hides what is displayed.
fn printable(text: &str) -> bool {
    !text.is_empty()
        && !text.chars().any(|c| {
            (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}' | '\u{feff}')
        })
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn only_plain_text_counts_as_printable() {
        assert!(printable("Transfer 10 to Alice\n\tthanks"));
        assert!(printable("Grüße, 日本"));
        assert!(!printable(""));
        assert!(!printable("a\u{0}b"));
        assert!(!printable("pay \u{202e}ecilA"));
        assert!(!printable("\u{1b}[2Jhidden"));
    }
}
