//! Trust scores (spec "Trust Scores"): the owner reads an agent's score,
//! tier and components, and their history. Each read computes the score
//! afresh from the hub's records (`holdfast_core::hub::trust`).

use axum::Json;
use axum::extract::{Path, Query, State};
use holdfast_core::hub::trust;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Owner;
use super::error::{HubApiError, HubApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(score))
        .routes(routes!(history))
}

/// An agent's trust score now: `score` 0-100, `tier`, and the components
/// it is made of (delivery, policy, standing, tenure, activity).
#[utoipa::path(get, path = "/api/v1/trust-scores/{hub_id}", tag = "trust", security(("owner" = [])),
    params(("hub_id" = String, Path, description = "The agent's hub id (or device id)")),
    responses((status = 200, description = "{hub_id, device_id, name, score, tier, components, computed_at}"),
        (status = 401, description = "Not the owner"), (status = 404, description = "No such agent in this tenant")))]
async fn score(
    State(state): State<AppState>,
    owner: Owner,
    Path(hub_id): Path<String>,
) -> HubApiResult<Json<Value>> {
    let s = trust::score(&state.hub.core.catalog, &owner.tenant, &hub_id).await?;
    Ok(Json(json!(s)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct HistoryQuery {
    /// The newest this many rows, 1-1000 (default 100), oldest first.
    limit: Option<String>,
}

/// An agent's score history, oldest first: one row per computation, at
/// most one an hour unless the score changed.
#[utoipa::path(get, path = "/api/v1/trust-scores/{hub_id}/history", tag = "trust", security(("owner" = [])),
    params(("hub_id" = String, Path), HistoryQuery),
    responses((status = 200, description = "{hub_id, history: [{score, tier, components, computed_at, computed_ms}]}"),
        (status = 400, description = "Bad limit"), (status = 401, description = "Not the owner"),
        (status = 404, description = "No such agent in this tenant")))]
async fn history(
    State(state): State<AppState>,
    owner: Owner,
    Path(hub_id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> HubApiResult<Json<Value>> {
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| HubApiError::bad_request("limit must be 1-1000"))?,
    };
    let (hub_id, rows) =
        trust::history(&state.hub.core.catalog, &owner.tenant, &hub_id, limit).await?;
    Ok(Json(json!({"hub_id": hub_id, "history": rows})))
}
