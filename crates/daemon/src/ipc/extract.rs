//! Extractors and checks shared by the IPC handlers.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{HeaderMap, StatusCode, header};
use holdfast_core::apps::AppAuth;

use super::error::{IpcError, IpcResult};
use crate::http::bearer;
use crate::state::AppState;

/// `Json<T>`; writes must say `Content-Type: application/json`.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(IpcError))]
pub struct IpcJson<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(IpcError))]
pub struct IpcQuery<T>(pub T);

/// Prove which app is calling: its app token (`Authorization: Bearer`), or,
/// for apps registered as legacy, the client_id alone. A browser caller's
/// origin must be one that app registered.
pub async fn app_auth(
    state: &AppState,
    headers: &HeaderMap,
    client_id: Option<&str>,
) -> IpcResult<AppAuth> {
    let token = bearer::bearer(headers).map_err(|_| {
        IpcError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_app_token",
            "Authorization must be `Bearer <app_token>`",
        )
    })?;
    let auth = state.apps.authenticate(client_id, token).await?;
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let app = state.apps.get(auth.client_id()).await?;
        if !app.is_some_and(|a| {
            a.allowed_origins
                .iter()
                .any(|o| o.eq_ignore_ascii_case(origin))
        }) {
            return Err(IpcError::new(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                "this origin is not registered for this app",
            ));
        }
    }
    Ok(auth)
}

/// The vault must be unlocked for this request.
pub fn require_unlocked(state: &AppState) -> IpcResult<()> {
    use holdfast_core::identity::LockState;
    match state.identity.state() {
        LockState::Unlocked => Ok(()),
        LockState::Locked => Err(IpcError::locked()),
        LockState::Uninitialized => Err(IpcError::new(
            StatusCode::FORBIDDEN,
            "vault_locked",
            "the vault is not set up yet",
        )),
    }
}

/// A bounded, non-empty string field.
pub fn bounded<'a>(field: &str, value: &'a str, max_chars: usize) -> IpcResult<&'a str> {
    if value.chars().count() > max_chars {
        return Err(IpcError::invalid(format!(
            "{field} is longer than {max_chars} characters"
        )));
    }
    Ok(value)
}
