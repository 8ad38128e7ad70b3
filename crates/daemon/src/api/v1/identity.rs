//! The identity from the owner's side: state, first-run creation, unlock
//! (optionally remembered in the OS keyring), lock, recovery, passphrase
//! change and the profile apps may see.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use holdfast_core::identity::keyring::RememberedKey;
use holdfast_core::identity::{LockState, Profile};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::ApiJson;
use crate::state::AppState;

/// Largest profile picture (as a data: URL).
pub const MAX_PICTURE_BYTES: usize = 256 * 1024;

#[derive(Serialize, ToSchema)]
pub struct IdentityResponse {
    /// `uninitialized`, `locked` or `unlocked`.
    pub state: String,
    pub agent_pub_key: Option<String>,
    pub did: Option<String>,
    pub profile: ProfileJson,
    /// Whether the master key is kept in the OS keyring.
    pub remembered: bool,
    /// The OS keyring in use, or null where none is available.
    pub keyring: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
pub struct ProfileJson {
    pub display_name: Option<String>,
    pub username: Option<String>,
    /// A `data:image/…;base64,…` URL, at most 256 KiB.
    pub profile_picture: Option<String>,
}

impl From<Profile> for ProfileJson {
    fn from(p: Profile) -> Self {
        Self {
            display_name: p.display_name,
            username: p.username,
            profile_picture: p.profile_picture,
        }
    }
}

fn did(key: &impl std::fmt::Display) -> String {
    format!("did:holdfast:{key}")
}

async fn remembered(state: &AppState) -> bool {
    let slot = state.remembered.clone();
    matches!(
        tokio::task::spawn_blocking(move || slot.load()).await,
        Ok(Ok(Some(_)))
    )
}

/// The identity's state, keys and profile.
#[utoipa::path(get, path = "/identity", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = IdentityResponse), (status = 401, body = ErrorBody)))]
pub async fn get_identity(State(state): State<AppState>) -> ApiResult<Json<IdentityResponse>> {
    let s = state.identity.state();
    let key = state.identity.agent_pub_key();
    Ok(Json(IdentityResponse {
        state: serde_json::to_value(s)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        agent_pub_key: key.map(|k| k.to_string()),
        did: key.map(|k| did(&k)),
        profile: state.identity.profile().await?.into(),
        remembered: s != LockState::Uninitialized && remembered(&state).await,
        // Choosing the store may take seconds the first time: not on a worker.
        keyring: tokio::task::spawn_blocking(RememberedKey::backend)
            .await
            .ok()
            .flatten()
            .map(str::to_owned),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct InitRequest {
    /// At least 8 characters.
    pub passphrase: String,
}

#[derive(Serialize, ToSchema)]
pub struct InitResponse {
    pub agent_pub_key: String,
    pub did: String,
    /// 24 words. Shown this once; it restores the identity anywhere.
    pub recovery_phrase: String,
}

/// Create the identity (first run). The recovery phrase is returned once.
#[utoipa::path(post, path = "/identity/init", tag = "identity", security(("bearer" = [])),
    request_body = InitRequest,
    responses(
        (status = 200, body = InitResponse),
        (status = 400, description = "Passphrase too weak", body = ErrorBody),
        (status = 409, description = "Already initialized", body = ErrorBody),
    ))]
pub async fn init(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<InitRequest>,
) -> ApiResult<Json<InitResponse>> {
    let created = state.identity.init(&req.passphrase).await?;
    state
        .audit
        .record(
            "identity_created",
            json!({"agent_pub_key": created.agent_pub_key.to_string()}),
        )
        .await;
    Ok(Json(InitResponse {
        agent_pub_key: created.agent_pub_key.to_string(),
        did: did(&created.agent_pub_key),
        recovery_phrase: created.recovery_phrase.to_string(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct UnlockRequest {
    pub passphrase: String,
    /// Keep the master key in the OS keyring so later starts unlock by
    /// themselves; false forgets any remembered key.
    #[serde(default)]
    pub remember: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct UnlockResponse {
    pub state: String,
    /// Whether the key is now remembered in the OS keyring.
    pub remembered: bool,
    /// Why remembering failed, when it was asked for.
    pub keyring_error: Option<String>,
}

/// Unlock with the passphrase. Failures back off (429 with `retry_after_ms`).
#[utoipa::path(post, path = "/identity/unlock", tag = "identity", security(("bearer" = [])),
    request_body = UnlockRequest,
    responses(
        (status = 200, body = UnlockResponse),
        (status = 403, description = "Wrong passphrase (body has retry_after_ms), or Holdfast is not set up", body = ErrorBody),
        (status = 409, description = "Not initialized", body = ErrorBody),
        (status = 429, description = "Backing off; body has retry_after_ms", body = ErrorBody),
    ))]
pub async fn unlock(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<UnlockRequest>,
) -> ApiResult<Json<UnlockResponse>> {
    if let Err(e) = state.identity.unlock(&req.passphrase).await {
        if matches!(
            e,
            holdfast_core::identity::IdentityError::WrongPassphrase { .. }
        ) {
            state.audit.record("unlock_failed", json!({})).await;
        }
        return Err(e.into());
    }
    state
        .audit
        .record("unlock", json!({"via": "passphrase"}))
        .await;
    let (remembered, keyring_error) = match req.remember {
        None => (remembered(&state).await, None),
        Some(true) => {
            let master = state.identity.master_key()?;
            let slot = state.remembered.clone();
            match tokio::task::spawn_blocking(move || slot.store(&master)).await {
                Ok(Ok(())) => (true, None),
                Ok(Err(e)) => (false, Some(e.to_string())),
                Err(e) => return Err(ApiError::internal(e)),
            }
        }
        Some(false) => {
            let slot = state.remembered.clone();
            let _ = tokio::task::spawn_blocking(move || slot.forget()).await;
            (false, None)
        }
    };
    Ok(Json(UnlockResponse {
        state: "unlocked".into(),
        remembered,
        keyring_error,
    }))
}

/// Lock: drops the signing key and denies every pending approval.
#[utoipa::path(post, path = "/identity/lock", tag = "identity", security(("bearer" = [])),
    responses((status = 204, description = "Locked")))]
pub async fn lock(State(state): State<AppState>) -> StatusCode {
    state.identity.lock();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize, ToSchema)]
pub struct RecoverRequest {
    pub recovery_phrase: String,
    pub new_passphrase: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoverResponse {
    pub agent_pub_key: String,
    pub did: String,
}

/// Restore the identity from its recovery phrase with a new passphrase
/// (a forgotten passphrase, or a new device).
#[utoipa::path(post, path = "/identity/recover", tag = "identity", security(("bearer" = [])),
    request_body = RecoverRequest,
    responses(
        (status = 200, body = RecoverResponse),
        (status = 400, description = "Not a valid phrase, or weak passphrase", body = ErrorBody),
        (status = 403, description = "The phrase belongs to another identity", body = ErrorBody),
    ))]
pub async fn recover(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RecoverRequest>,
) -> ApiResult<Json<RecoverResponse>> {
    let key = state
        .identity
        .recover(&req.recovery_phrase, &req.new_passphrase)
        .await?;
    state
        .audit
        .record(
            "identity_recovered",
            json!({"agent_pub_key": key.to_string()}),
        )
        .await;
    Ok(Json(RecoverResponse {
        agent_pub_key: key.to_string(),
        did: did(&key),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PassphraseRequest {
    pub old_passphrase: String,
    pub new_passphrase: String,
}

/// Change the passphrase.
#[utoipa::path(post, path = "/identity/passphrase", tag = "identity", security(("bearer" = [])),
    request_body = PassphraseRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "Wrong old passphrase", body = ErrorBody),
    ))]
pub async fn change_passphrase(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PassphraseRequest>,
) -> ApiResult<StatusCode> {
    state
        .identity
        .change_passphrase(&req.old_passphrase, &req.new_passphrase)
        .await?;
    // A remembered master key is unchanged by a new passphrase; nothing to do.
    state.audit.record("passphrase_changed", json!({})).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Set the profile apps may read (within their scopes).
#[utoipa::path(put, path = "/identity/profile", tag = "identity", security(("bearer" = [])),
    request_body = ProfileJson,
    responses((status = 200, body = ProfileJson), (status = 400, body = ErrorBody)))]
pub async fn put_profile(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ProfileJson>,
) -> ApiResult<Json<ProfileJson>> {
    let clean = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let profile = Profile {
        display_name: clean(req.display_name),
        username: clean(req.username),
        profile_picture: clean(req.profile_picture),
    };
    if let Some(n) = &profile.display_name
        && (n.chars().count() > 64 || n.chars().any(char::is_control))
    {
        return Err(ApiError::bad_request(
            "display_name: at most 64 printable characters",
        ));
    }
    if let Some(u) = &profile.username
        && (u.len() > 32
            || !u
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b)))
    {
        return Err(ApiError::bad_request(
            "username: at most 32 of a-z, 0-9, '_', '.', '-'",
        ));
    }
    if let Some(p) = &profile.profile_picture {
        let ok_type = ["png", "jpeg", "gif", "webp", "svg+xml"]
            .iter()
            .any(|t| p.starts_with(&format!("data:image/{t};base64,")));
        if !ok_type {
            return Err(ApiError::bad_request(
                "profile_picture: must be a data:image/(png|jpeg|gif|webp|svg+xml);base64 URL",
            ));
        }
        if p.len() > MAX_PICTURE_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("profile_picture: at most {MAX_PICTURE_BYTES} bytes"),
            ));
        }
    }
    state.identity.set_profile(profile.clone()).await?;
    // The display name and picture are the node profile's too.
    state.profile.refresh().await?;
    Ok(Json(profile.into()))
}
