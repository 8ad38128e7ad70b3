//! The node's profile over REST (`/profile`): read, partial update (validated
//! in `holdfast_core::profile`, which announces `profile_changed`), and a
//! test POST to the saved push endpoint. A push endpoint's path and query may
//! hold a token: only its origin is ever logged or echoed in an error.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use holdfast_core::profile::{NodeProfile, ProfileError, ProfileUpdate, endpoint_origin};
use holdfast_core::time::now_ms;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::ApiJson;
use crate::state::AppState;

/// How long the push test waits for the endpoint's answer.
pub const PUSH_TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest `PUT /profile` body: the avatar plus room for the other fields.
pub const BODY_LIMIT: usize = holdfast_core::profile::MAX_AVATAR_BYTES + 16 * 1024;

#[derive(Serialize, ToSchema)]
pub struct ProfileBody {
    /// Shown to peers and to apps with the display-name scope.
    pub display_name: Option<String>,
    /// A `data:image/(png|jpeg|webp|gif);base64,…` URL.
    pub avatar: Option<String>,
    /// Where push notifications are POSTed (http or https).
    pub push_endpoint: Option<String>,
    /// Whether this node's link is metered.
    pub metered: bool,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
}

impl From<NodeProfile> for ProfileBody {
    fn from(p: NodeProfile) -> Self {
        Self {
            display_name: p.display_name,
            avatar: p.avatar,
            push_endpoint: p.push_endpoint,
            metered: p.metered,
            country: p.country,
        }
    }
}

/// A partial update: fields left out stay as they are; `null` clears one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// 1-64 characters once trimmed, no control characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    /// A `data:image/(png|jpeg|webp|gif);base64,…` URL, at most 256 KiB.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub avatar: Option<Option<String>>,
    /// An http(s) URL of at most 2048 characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub push_endpoint: Option<Option<String>>,
    /// Left out or `null`: unchanged.
    pub metered: Option<bool>,
    /// Two uppercase letters (ISO 3166-1 alpha-2).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
}

/// Tells a field given as `null` (Some(None)) from one left out (None).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::deserialize(d)?))
}

impl From<ProfileError> for ApiError {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::Invalid(m) => ApiError::bad_request(m),
            ProfileError::Catalog(c) => ApiError::internal(c),
        }
    }
}

/// The node's profile.
#[utoipa::path(get, path = "/profile", tag = "profile", security(("bearer" = [])),
    responses((status = 200, body = ProfileBody), (status = 401, body = ErrorBody)))]
pub async fn get_profile(State(state): State<AppState>) -> ApiResult<Json<ProfileBody>> {
    Ok(Json(state.profile.get().await?.into()))
}

/// Update some fields of the profile; answers the whole new profile. Peers
/// hear the new public fields (`profile_changed` on the event bus).
#[utoipa::path(put, path = "/profile", tag = "profile", security(("bearer" = [])),
    request_body = ProfilePatch,
    responses((status = 200, body = ProfileBody),
              (status = 400, description = "A field is invalid (the message names it)", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 413, description = "Body over 272 KiB", body = ErrorBody),
              (status = 415, description = "Not JSON", body = ErrorBody)))]
pub async fn put_profile(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ProfilePatch>,
) -> ApiResult<Json<ProfileBody>> {
    if let Some(Some(url)) = &req.push_endpoint {
        // The core checks the shape; this parser is the one the push uses.
        let ok = reqwest::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok && url.len() <= holdfast_core::profile::MAX_PUSH_ENDPOINT_CHARS {
            return Err(ApiError::bad_request(
                "push_endpoint: must be an http:// or https:// URL",
            ));
        }
    }
    let endpoint_changed = req.push_endpoint.is_some();
    let profile = state
        .profile
        .update(ProfileUpdate {
            display_name: req.display_name,
            avatar: req.avatar,
            push_endpoint: req.push_endpoint,
            metered: req.metered,
            country: req.country,
        })
        .await?;
    if endpoint_changed {
        state
            .audit
            .record(
                "push_endpoint_set",
                json!({"origin": profile.push_endpoint.as_deref().map(endpoint_origin)}),
            )
            .await;
    }
    Ok(Json(profile.into()))
}

#[derive(Serialize, ToSchema)]
pub struct PushTestResult {
    /// Always true: failures answer 502.
    pub ok: bool,
    /// The endpoint's HTTP status (2xx).
    pub status: u16,
    pub elapsed_ms: u64,
}

/// POST `{"type":"push_test","ts_ms":…}` to the saved push endpoint (10 s
/// timeout, no redirects followed) and report how it answered.
#[utoipa::path(post, path = "/profile/push-test", tag = "profile", security(("bearer" = [])),
    responses((status = 200, description = "The endpoint answered 2xx", body = PushTestResult),
              (status = 401, body = ErrorBody),
              (status = 409, description = "No push endpoint is saved", body = ErrorBody),
              (status = 502, description = "The endpoint failed or answered non-2xx", body = ErrorBody)))]
pub async fn push_test(State(state): State<AppState>) -> ApiResult<Json<PushTestResult>> {
    let Some(endpoint) = state.profile.get().await?.push_endpoint else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no push endpoint is saved: set push_endpoint with PUT /profile first",
        ));
    };
    let origin = endpoint_origin(&endpoint);
    let bad_gateway = |m: String| ApiError::new(StatusCode::BAD_GATEWAY, m);
    let client = push_client().map_err(|e| {
        tracing::error!("push test: cannot build an HTTP client: {e}");
        bad_gateway("cannot build an HTTP client; see the daemon log".into())
    })?;
    let started = Instant::now();
    let sent = client
        .post(&endpoint)
        .json(&json!({"type": "push_test", "ts_ms": now_ms()}))
        .send()
        .await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match sent {
        Ok(resp) if resp.status().is_success() => {
            tracing::info!(%origin, status = resp.status().as_u16(), elapsed_ms, "push test delivered");
            Ok(Json(PushTestResult {
                ok: true,
                status: resp.status().as_u16(),
                elapsed_ms,
            }))
        }
        Ok(resp) => {
            let status = resp.status();
            tracing::info!(%origin, status = status.as_u16(), "push test refused");
            Err(bad_gateway(format!(
                "the push endpoint at {origin} answered {status}"
            )))
        }
        Err(e) => {
            let what = describe(&e);
            tracing::info!(%origin, "push test failed: {what}");
            Err(bad_gateway(format!(
                "the push endpoint at {origin} could not be reached: {what}"
            )))
        }
    }
}

/// One client for push tests: platform TLS roots (reqwest's rustls with the
/// process's ring provider, as the daemon installs at start), no redirects.
fn push_client() -> reqwest::Result<reqwest::Client> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c.clone());
    }
    crate::tls::install_crypto_provider();
    let c = reqwest::Client::builder()
        .timeout(PUSH_TEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("holdfast/", env!("CARGO_PKG_VERSION")))
        .build()?;
    Ok(CLIENT.get_or_init(|| c).clone())
}

/// What went wrong, without the URL (reqwest's errors name it in full).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out after 10 s"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_request() {
        "the request failed"
    } else {
        "error"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() || e.is_timeout() {
        kind.to_owned()
    } else {
        format!("{kind} ({detail})")
    }
}
