//! Policies and held messages (spec/agent-hub-api.md "Policies"): the
//! owner's rules for room traffic, and the messages a `hold` rule stopped.
//! Approving or denying here does what answering the prompt in the
//! approvals queue does, once; the prompt is withdrawn.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use holdfast_core::hub::policies::{self, NewPolicy, Policy, PolicyPatch};
use holdfast_core::hub::{held, parse_id};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::Owner;
use super::error::{HubApiError, HubApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_policy, list_policies))
        .routes(routes!(patch_policy, delete_policy))
        .routes(routes!(list_held))
        .routes(routes!(approve_held))
        .routes(routes!(deny_held))
}

/// A policy as `POST` sends it (`PATCH`: any subset). Documentation only;
/// the handlers read the core's own types, which refuse unknown fields.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct PolicyBody {
    name: String,
    description: Option<String>,
    /// `allow`, `block`, `hold` or `notify`.
    action: String,
    enabled: Option<bool>,
    /// Lower runs first (0-10000, default 100).
    priority: Option<i64>,
    /// `{sender_device_ids?, room_ids?, message_types?, min_size_bytes?,
    /// max_size_bytes?, rate?: {max_messages, window_seconds},
    /// time_of_day?: {start, end}}`.
    #[schema(value_type = Object)]
    conditions: Option<serde_json::Value>,
}

fn policy_id(s: &str) -> HubApiResult<String> {
    parse_id(s).ok_or_else(|| HubApiError::not_found(policies::NOT_FOUND))
}

fn held_id(s: &str) -> HubApiResult<String> {
    parse_id(s).ok_or_else(|| HubApiError::not_found(held::NOT_FOUND))
}

/// Create a policy. `conditions` match on metadata only: `sender_device_ids`,
/// `room_ids`, `message_types`, `min_size_bytes`, `max_size_bytes`,
/// `rate` (`{max_messages, window_seconds}`), `time_of_day`
/// (`{start, end}`, `HH:MM` UTC). `action`: allow, block, hold or notify.
#[utoipa::path(post, path = "/api/v1/policies", tag = "policies", request_body = PolicyBody,
    security(("owner" = [])),
    responses((status = 201, description = "The policy"), (status = 400, description = "Bad fields"),
        (status = 401, description = "Not the owner"), (status = 409, description = "Too many policies")))]
async fn create_policy(
    State(state): State<AppState>,
    owner: Owner,
    HubJson(body): HubJson<NewPolicy>,
) -> HubApiResult<(StatusCode, Json<Policy>)> {
    let p = policies::create(&state.hub.core.catalog, &owner.tenant, body).await?;
    state
        .audit
        .record(
            "hub_policy_created",
            json!({"tenant_id": owner.tenant, "policy_id": p.id, "action": p.action.as_str()}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(p)))
}

/// The tenant's policies, in the order they are tried.
#[utoipa::path(get, path = "/api/v1/policies", tag = "policies", security(("owner" = [])),
    responses((status = 200, description = "Array of policies"), (status = 401, description = "Not the owner")))]
async fn list_policies(
    State(state): State<AppState>,
    owner: Owner,
) -> HubApiResult<Json<Vec<Policy>>> {
    Ok(Json(
        policies::list(&state.hub.core.catalog, &owner.tenant).await?,
    ))
}

/// Update a policy (fields given are replaced; `conditions` as a whole).
#[utoipa::path(patch, path = "/api/v1/policies/{id}", tag = "policies", request_body = PolicyBody,
    security(("owner" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "The policy"), (status = 400, description = "Bad fields"),
        (status = 401, description = "Not the owner"), (status = 404, description = "Policy not found")))]
async fn patch_policy(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
    HubJson(body): HubJson<PolicyPatch>,
) -> HubApiResult<Json<Policy>> {
    Ok(Json(
        policies::update(
            &state.hub.core.catalog,
            &owner.tenant,
            &policy_id(&id)?,
            body,
        )
        .await?,
    ))
}

/// Delete a policy (messages it held stay held until answered).
#[utoipa::path(delete, path = "/api/v1/policies/{id}", tag = "policies",
    security(("owner" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Not the owner"),
        (status = 404, description = "Policy not found")))]
async fn delete_policy(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> HubApiResult<StatusCode> {
    policies::delete(&state.hub.core.catalog, &owner.tenant, &policy_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Held messages awaiting approval: metadata only (sender, room, policy,
/// type, size), oldest first.
#[utoipa::path(get, path = "/api/v1/policies/held-messages", tag = "policies",
    security(("owner" = [])),
    responses((status = 200, description = "Array of held messages"), (status = 401, description = "Not the owner")))]
async fn list_held(
    State(state): State<AppState>,
    owner: Owner,
) -> HubApiResult<Json<Vec<held::Held>>> {
    Ok(Json(
        held::list(&state.hub.core.catalog, &owner.tenant).await?,
    ))
}

/// Approve a held message: fan-out proceeds, once.
#[utoipa::path(post, path = "/api/v1/policies/held-messages/{id}/approve", tag = "policies",
    security(("owner" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "The held message, approved"), (status = 401, description = "Not the owner"),
        (status = 404, description = "Held message not found"), (status = 409, description = "Already answered")))]
async fn approve_held(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> HubApiResult<Json<held::Held>> {
    let id = held_id(&id)?;
    let h = held::approve(&state.hub.core, &owner.tenant, &id).await?;
    state.hub.core.held.withdraw(&id);
    Ok(Json(h))
}

/// Deny a held message: it is dropped and its sender gets an `error` frame
/// (`"Message denied by the owner"`).
#[utoipa::path(post, path = "/api/v1/policies/held-messages/{id}/deny", tag = "policies",
    security(("owner" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "The held message, denied"), (status = 401, description = "Not the owner"),
        (status = 404, description = "Held message not found"), (status = 409, description = "Already answered")))]
async fn deny_held(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> HubApiResult<Json<held::Held>> {
    let id = held_id(&id)?;
    let h = held::deny(&state.hub.core, &owner.tenant, &id).await?;
    state.hub.core.held.withdraw(&id);
    Ok(Json(h))
}
