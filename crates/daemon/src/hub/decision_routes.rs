//! Decisions over HTTP: an agent (device JWT) or the owner asks
//! (`POST /api/v1/decisions`), the question goes to the approvals queue as a
//! `decision` request, and the owner resolves it here
//! (`POST /api/v1/decisions/{id}/resolve`) or in the queue. Devices see only
//! the decisions they asked.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use holdfast_core::hub::decisions::{self, Filter, NewDecision, Resolution};
use holdfast_core::hub::parse_id;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::{Caller, OwnerOnly};
use super::error::{HubApiError, HubApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one))
        .routes(routes!(resolve))
}

#[derive(Deserialize, ToSchema)]
struct Ask {
    /// What to decide (1-200 characters).
    title: String,
    /// More words (at most 4000 characters).
    #[serde(default)]
    description: Option<String>,
    /// Choices offered (at most 10, 1-100 characters each).
    #[serde(default)]
    options: Vec<String>,
    /// Anything else the agent wants shown (a JSON object, at most 8 KiB).
    #[serde(default)]
    context: Option<Value>,
}

fn to_json(d: &decisions::Decision) -> Value {
    serde_json::to_value(d).unwrap_or(Value::Null)
}

/// Ask the owner to decide; the question appears in the approvals queue.
#[utoipa::path(post, path = "/api/v1/decisions", tag = "decisions", request_body = Ask,
    security(("owner" = []), ("device" = [])),
    responses((status = 201, description = "The decision, status pending"),
        (status = 400, description = "Missing or overlong fields"),
        (status = 401, description = "Not authenticated"),
        (status = 409, description = "Too many decisions already waiting")))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    HubJson(body): HubJson<Ask>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let requester = caller.device().map(|d| d.id.clone());
    let d = decisions::create(
        &state.hub.core.catalog,
        caller.tenant(),
        requester.as_deref(),
        NewDecision {
            title: body.title,
            description: body.description,
            options: body.options,
            context: body.context,
        },
    )
    .await?;
    let asker = match caller.device() {
        Some(dev) => dev.name.clone(),
        None => "You".to_owned(),
    };
    state
        .audit
        .record(
            "hub_decision_requested",
            serde_json::json!({"decision_id": d.id, "tenant_id": d.tenant_id,
                "device_id": d.requester_device_id}),
        )
        .await;
    state.hub.core.events.publish(
        "hub_decision",
        serde_json::json!({"id": d.id, "status": d.status, "tenant_id": d.tenant_id}),
    );
    state.hub.core.decision_prompts.raise(
        state.hub.core.clone(),
        state.approvals.clone(),
        state.audit.clone(),
        d.clone(),
        asker,
        state.node.approval_timeout.max(super::ENROL_PROMPT),
    );
    Ok((StatusCode::CREATED, Json(to_json(&d))))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// open (pending and deferred, the default), pending, deferred, resolved or all.
    status: Option<String>,
    /// At most this many (1-500, default 100).
    limit: Option<String>,
}

/// Decisions waiting for the owner (pending and deferred), newest first;
/// `status` picks others. A device sees the ones it asked.
#[utoipa::path(get, path = "/api/v1/decisions", tag = "decisions", params(ListQuery),
    security(("owner" = []), ("device" = [])),
    responses((status = 200, description = "Array of decisions"),
        (status = 400, description = "Bad status or limit"),
        (status = 401, description = "Not authenticated")))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> HubApiResult<Json<Value>> {
    let filter = match q.status.as_deref() {
        None | Some("") => Filter::Open,
        Some(s) => Filter::parse(s).ok_or_else(|| {
            HubApiError::bad_request("status must be open, pending, deferred, resolved or all")
        })?,
    };
    let limit = match q.limit.as_deref() {
        None | Some("") => 100,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| HubApiError::bad_request("limit must be 1-500"))?,
    };
    let requester = caller.device().map(|d| d.id.clone());
    let rows = decisions::list(
        &state.hub.core.catalog,
        caller.tenant(),
        requester.as_deref(),
        filter,
        limit,
    )
    .await?;
    Ok(Json(Value::Array(rows.iter().map(to_json).collect())))
}

async fn visible(state: &AppState, caller: &Caller, id: &str) -> HubApiResult<decisions::Decision> {
    let id = parse_id(id).ok_or_else(|| HubApiError::not_found(decisions::NOT_FOUND))?;
    let d = decisions::get(&state.hub.core.catalog, caller.tenant(), &id).await?;
    if let Some(dev) = caller.device()
        && d.requester_device_id.as_deref() != Some(dev.id.as_str())
    {
        return Err(HubApiError::not_found(decisions::NOT_FOUND));
    }
    Ok(d)
}

/// One decision (an asking agent polls its outcome here).
#[utoipa::path(get, path = "/api/v1/decisions/{id}", tag = "decisions", params(("id" = String, Path)),
    security(("owner" = []), ("device" = [])),
    responses((status = 200, description = "The decision"),
        (status = 401, description = "Not authenticated"),
        (status = 404, description = "Decision not found")))]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    Ok(Json(to_json(&visible(&state, &caller, &id).await?)))
}

#[derive(Deserialize, ToSchema)]
struct Resolve {
    /// approve, deny or defer.
    resolution: String,
    /// A word for the agent (at most 1000 characters).
    #[serde(default)]
    note: Option<String>,
    /// With approve: which of the decision's options.
    #[serde(default)]
    option: Option<String>,
}

/// Approve, deny or defer a decision. Approve and deny are final and are
/// told to the asking agent; defer takes it out of the popup and keeps it
/// on the Decisions page until it is approved or denied.
#[utoipa::path(post, path = "/api/v1/decisions/{id}/resolve", tag = "decisions", request_body = Resolve,
    params(("id" = String, Path)), security(("owner" = [])),
    responses((status = 200, description = "The decision as resolved"),
        (status = 400, description = "Unknown resolution, bad note or option"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "A device may not resolve decisions"),
        (status = 404, description = "Decision not found"),
        (status = 409, description = "Already resolved")))]
async fn resolve(
    State(state): State<AppState>,
    owner: OwnerOnly,
    Path(id): Path<String>,
    HubJson(body): HubJson<Resolve>,
) -> HubApiResult<Json<Value>> {
    let tenant = owner.tenant;
    let resolution = Resolution::parse(&body.resolution)
        .ok_or_else(|| HubApiError::bad_request("resolution must be approve, deny or defer"))?;
    let id = parse_id(&id).ok_or_else(|| HubApiError::not_found(decisions::NOT_FOUND))?;
    let d = decisions::resolve(
        &state.hub.core.catalog,
        &tenant,
        &id,
        resolution,
        body.note,
        body.option,
    )
    .await?;
    state.hub.core.decision_prompts.withdraw(&d.id);
    decisions::announce(&state.hub.core, &state.audit, &d, "hub").await;
    Ok(Json(to_json(&d)))
}
