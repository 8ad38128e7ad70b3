//! Extractors and checks shared by the IPC handlers.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, StatusCode, header};
use holdfast_core::apps::AppAuth;
use serde::de::DeserializeOwned;

use super::error::{IpcError, IpcResult};
use crate::http::bearer;
use crate::state::AppState;

/// A JSON body. Browser callers (with an `Origin`) must say
/// `Content-Type: application/json`, which forces a CORS preflight; native
/// apps may send the JSON under any content type (`curl -d` says
/// form-urlencoded), since the spec asks nothing of it.
pub struct IpcJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for IpcJson<T> {
    type Rejection = IpcError;

    async fn from_request(req: Request, state: &S) -> Result<Self, IpcError> {
        if req.headers().contains_key(header::ORIGIN) {
            let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
            return Ok(Self(value));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(JsonRejection::from)?;
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(Self(value))
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(IpcError))]
pub struct IpcQuery<T>(pub T);

/// The request's browser origin, if any (the guard has checked it is one
/// some registered app allows).
pub fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
}

/// Which app is calling, when the request says: its app token
/// (`Authorization: Bearer`; a wrong one is 401), else the `client_id` it
/// claims (the spec's clients; refused once that app has used its token).
/// `None` when it says neither, which is how the spec's `/sign` and
/// `/backup/list` look. A browser caller's origin must be one that app
/// registered.
pub async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    client_id: Option<&str>,
) -> IpcResult<Option<AppAuth>> {
    let token = bearer::bearer(headers).map_err(|_| {
        IpcError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_app_token",
            "Authorization must be `Bearer <app_token>`",
        )
    })?;
    let client_id = client_id.filter(|c| !c.is_empty());
    if token.is_none() && client_id.is_none() {
        return Ok(None);
    }
    let auth = state.apps.authenticate(client_id, token).await?;
    if let Some(origin) = origin(headers) {
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
    Ok(Some(auth))
}

/// [`identify`], where the request must name its app.
pub async fn app_auth(
    state: &AppState,
    headers: &HeaderMap,
    client_id: Option<&str>,
) -> IpcResult<AppAuth> {
    identify(state, headers, client_id)
        .await?
        .ok_or_else(|| holdfast_core::apps::AppError::MissingClientId.into())
}

/// Refuses the request with 403 `vault_locked` unless the identity is
/// unlocked; as an extractor it runs before the body is read, so a locked
/// vault answers the same whatever the request says.
pub struct Unlocked;

impl FromRequestParts<AppState> for Unlocked {
    type Rejection = IpcError;

    async fn from_request_parts(
        _parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, IpcError> {
        require_unlocked(state).map(|()| Unlocked)
    }
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
