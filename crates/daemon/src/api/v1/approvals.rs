//! The approval queue from the owner's side: the same requests the desktop
//! popups show, answerable from the web UI, the CLI or curl.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use holdfast_core::approvals::{ApprovalView, Decision};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::ApiJson;
use crate::state::AppState;

/// Pending requests, oldest first.
#[utoipa::path(get, path = "/approvals", tag = "approvals", security(("bearer" = [])),
    responses((status = 200, description = "Pending approvals: id, kind (link|auth|sign), requester \
        {app_name (the registered name, the program, the origin or 'Unverified app (client_id)'; never \
        the caller's claim alone), name_source (registered|program|origin|unverified), claimed_name \
        (the name the caller sent, when it differs; null otherwise), client_id, verified, origin, \
        unregistered, linked, pid, exe}, reason, details (for sign: type, size, text, printable, hex, \
        truncated), grant_allowed, \
        created_ms, timeout_ms, opened_ms, deadline_ms (null while queued: the time counts \
        from when a request reaches the screen), state (open|queued)", body = Vec<Object>)))]
pub async fn list(State(state): State<AppState>) -> Json<Vec<ApprovalView>> {
    Json(state.approvals.list())
}

#[derive(Deserialize, ToSchema)]
pub struct Answer {
    /// `allow` or `deny`.
    pub decision: String,
    /// With allow, where the request offers it: skip prompts of this kind
    /// from this app for this many seconds.
    pub remember_s: Option<u64>,
    /// With allow, for a link: the profile fields (display_name, username,
    /// profile_picture) the app may read. Omitted: the app keeps what it has.
    pub scopes: Option<Vec<String>>,
    /// With allow, for a link from an app not registered yet: the name to
    /// register it under (otherwise it gets the name it claimed).
    pub app_name: Option<String>,
}

/// Answer one pending request.
#[utoipa::path(post, path = "/approvals/{id}", tag = "approvals", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Answer,
    responses(
        (status = 200, description = "Answered", body = Object),
        (status = 400, body = ErrorBody),
        (status = 404, description = "No such pending request", body = ErrorBody),
    ))]
pub async fn answer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Answer>,
) -> ApiResult<Json<Value>> {
    let decision = match req.decision.as_str() {
        "allow" => Decision::Allow {
            remember_s: req.remember_s,
            scopes: req.scopes.clone(),
            app_name: req.app_name.as_ref().map(|n| n.trim().to_owned()),
        },
        "deny" => Decision::Deny,
        _ => {
            return Err(ApiError::bad_request(
                "decision must be \"allow\" or \"deny\"",
            ));
        }
    };
    if let Some(scopes) = &req.scopes {
        holdfast_core::apps::validate_scopes(scopes)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let view = state
            .approvals
            .get(&id)
            .ok_or_else(|| ApiError::not_found("no such pending request"))?;
        if view.kind != holdfast_core::approvals::ApprovalKind::Link {
            return Err(ApiError::bad_request(
                "scopes are chosen only when approving a link",
            ));
        }
    }
    if let Some(name) = &req.app_name {
        holdfast_core::apps::validate_name(name.trim())
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let view = state
            .approvals
            .get(&id)
            .ok_or_else(|| ApiError::not_found("no such pending request"))?;
        if view.kind != holdfast_core::approvals::ApprovalKind::Link || !view.requester.unregistered
        {
            return Err(ApiError::bad_request(
                "app_name names only an app that is not registered yet, when approving its link",
            ));
        }
    }
    if req.remember_s.is_some_and(|s| s > 0) {
        let view = state
            .approvals
            .get(&id)
            .ok_or_else(|| ApiError::not_found("no such pending request"))?;
        if !view.grant_allowed {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "this request cannot be remembered; answer without remember_s",
            ));
        }
    }
    let view = state.approvals.answer(&id, decision)?;
    state.identity.touch();
    Ok(Json(json!({
        "id": view.id,
        "kind": view.kind,
        "decision": req.decision,
    })))
}
