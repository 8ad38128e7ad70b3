//! Runtime settings over REST (`GET/PUT /settings`): the enrichment
//! services' API keys and base URLs, validated and kept by
//! `holdfast_core::settings`. Keys are shown masked; the lookup workers see
//! a change at once. A change goes to the audit ring by field name only.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::ApiJson;
use crate::state::AppState;

/// The settings as shown: API keys masked to their last four characters.
#[derive(Serialize, ToSchema)]
pub struct SettingsBody {
    /// AcoustID application key (masked), or null when unset.
    pub acoustid_api_key: Option<String>,
    pub acoustid_api_key_set: bool,
    /// Where AcoustID's API lives (default `https://api.acoustid.org/v2`).
    pub acoustid_base_url: String,
    /// TMDB API key or read token (masked), or null when unset.
    pub tmdb_api_key: Option<String>,
    pub tmdb_api_key_set: bool,
    /// Where TMDB's API lives (default `https://api.themoviedb.org/3`).
    pub tmdb_base_url: String,
    /// Compute audio fingerprints while reading files.
    pub fingerprint_audio: bool,
}

/// Runtime settings the UI can edit.
#[utoipa::path(get, path = "/settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = SettingsBody)))]
pub async fn get(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(state.settings.view().await?))
}

/// Update settings: fields left out stay, `null` or `""` clears a key (or
/// restores a URL's default); a masked key sent back unchanged is kept.
#[utoipa::path(put, path = "/settings", tag = "settings", security(("bearer" = [])),
    request_body = Object,
    responses((status = 200, body = SettingsBody), (status = 400, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let (view, changed) = state.settings.update(patch).await?;
    if !changed.is_empty() {
        state
            .audit
            .record("settings_changed", json!({"fields": changed}))
            .await;
        state
            .events
            .publish("settings_changed", json!({"fields": changed}));
    }
    Ok(Json(view))
}
