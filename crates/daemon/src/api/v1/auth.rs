//! Authentication routes: password login, logout, bootstrap tickets, and the
//! CLI-only admin routes guarded by `X-Holdfast-Admin-Token`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use holdfast_core::auth::IssuedToken;

use crate::api::bearer::bearer_from_headers;
use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::ApiJson;
use crate::state::AppState;

pub const ADMIN_TOKEN_HEADER: &str = "X-Holdfast-Admin-Token";

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Present as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at_ms: i64,
}

impl From<IssuedToken> for TokenResponse {
    fn from(t: IssuedToken) -> Self {
        Self {
            token: t.token,
            expires_at_ms: t.expires_at_ms,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct BootstrapExchangeRequest {
    /// The ticket from `?bootstrap=…`.
    #[serde(alias = "bootstrap")]
    pub ticket: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SetPasswordRequest {
    /// At least 8 characters.
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TicketResponse {
    /// Single use; exchange within 60 s at `/auth/bootstrap-exchange`.
    pub ticket: String,
    pub expires_at_ms: i64,
}

/// Exchange the web UI password for a 24 h bearer.
#[utoipa::path(post, path = "/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Wrong password (answered after a deliberate delay)", body = ErrorBody),
        (status = 503, description = "No password has ever been set", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    Ok(Json(state.auth.login(&req.password).await?.into()))
}

/// End the presented bearer's session. 204 whether or not it was valid.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Logged out (or nothing to do)")))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<StatusCode> {
    if let Ok(Some(token)) = bearer_from_headers(&headers) {
        state.auth.logout(token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Trade a single-use bootstrap ticket (60 s life) for a 24 h bearer.
#[utoipa::path(post, path = "/auth/bootstrap-exchange", tag = "auth",
    request_body = BootstrapExchangeRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Unknown, used or expired ticket", body = ErrorBody),
    ))]
pub async fn bootstrap_exchange(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<BootstrapExchangeRequest>,
) -> ApiResult<Json<TokenResponse>> {
    Ok(Json(state.auth.exchange_ticket(&req.ticket).await?.into()))
}

/// Set or replace the web UI password (CLI only). Ends every session.
#[utoipa::path(post, path = "/auth/admin/set-password", tag = "auth",
    request_body = SetPasswordRequest,
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Password set; existing bearers revoked"),
        (status = 400, description = "Password too short or too long", body = ErrorBody),
        (status = 401, description = "Missing or wrong admin token", body = ErrorBody),
    ))]
pub async fn admin_set_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SetPasswordRequest>,
) -> ApiResult<StatusCode> {
    let token = admin_token(&headers)?;
    state.auth.set_password(token, &req.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mint a bootstrap ticket (CLI only), for `holdfast open`.
#[utoipa::path(post, path = "/auth/admin/bootstrap-ticket", tag = "auth",
    security(("admin_token" = [])),
    responses(
        (status = 200, body = TicketResponse),
        (status = 401, description = "Missing or wrong admin token", body = ErrorBody),
    ))]
pub async fn admin_bootstrap_ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<TicketResponse>> {
    state.auth.check_admin_token(admin_token(&headers)?)?;
    let t = state.auth.mint_ticket();
    Ok(Json(TicketResponse {
        ticket: t.token,
        expires_at_ms: t.expires_at_ms,
    }))
}

fn admin_token(headers: &HeaderMap) -> ApiResult<&str> {
    headers
        .get(ADMIN_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized(format!("missing {ADMIN_TOKEN_HEADER} header")))
}
