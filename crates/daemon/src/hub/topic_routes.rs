//! Topics within a conversation group (owner only).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use holdfast_core::hub::{parse_id, topics};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::Owner;
use super::error::{HubApiError, HubApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(rename))
        .routes(routes!(archive))
}

fn topic_id(s: &str) -> HubApiResult<String> {
    parse_id(s).ok_or_else(|| HubApiError::not_found("Topic not found"))
}

fn group_id(s: Option<&str>) -> HubApiResult<String> {
    let s = s.ok_or_else(|| HubApiError::bad_request("group_id is required"))?;
    parse_id(s).ok_or_else(|| HubApiError::bad_request("group_id must be a UUID"))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// The conversation group.
    group_id: Option<String>,
}

/// The group's topics, the default one first.
#[utoipa::path(get, path = "/api/v1/topics", tag = "topics", security(("owner" = [])), params(ListQuery),
    responses((status = 200, description = "Array of topics"), (status = 400, description = "No group_id"),
        (status = 404, description = "No such conversation group"), (status = 401, description = "Not the owner")))]
async fn list(
    State(state): State<AppState>,
    owner: Owner,
    Query(q): Query<ListQuery>,
) -> HubApiResult<Json<Value>> {
    let group = group_id(q.group_id.as_deref())?;
    Ok(Json(json!(
        topics::list(&state.hub.core.catalog, &owner.tenant, &group).await?
    )))
}

#[derive(Deserialize, ToSchema)]
struct NewTopic {
    #[serde(alias = "conversation_group_id")]
    group_id: Option<String>,
    name: String,
}

/// Create a topic in a conversation group.
#[utoipa::path(post, path = "/api/v1/topics", tag = "topics", request_body = NewTopic, security(("owner" = [])),
    responses((status = 201, description = "The topic"), (status = 400, description = "Bad fields"),
        (status = 404, description = "No such conversation group"), (status = 409, description = "Name taken"),
        (status = 401, description = "Not the owner")))]
async fn create(
    State(state): State<AppState>,
    owner: Owner,
    HubJson(body): HubJson<NewTopic>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let group = group_id(body.group_id.as_deref())?;
    let t = topics::create(&state.hub.core.catalog, &owner.tenant, &group, &body.name).await?;
    Ok((StatusCode::CREATED, Json(json!(t))))
}

#[derive(Deserialize, ToSchema)]
struct Rename {
    name: String,
}

/// Rename a topic.
#[utoipa::path(patch, path = "/api/v1/topics/{id}", tag = "topics", request_body = Rename, security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The topic"), (status = 400, description = "Bad name"),
        (status = 404, description = "No such topic"), (status = 409, description = "Name taken")))]
async fn rename(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
    HubJson(body): HubJson<Rename>,
) -> HubApiResult<Json<Value>> {
    let t = topics::rename(
        &state.hub.core.catalog,
        &owner.tenant,
        &topic_id(&id)?,
        &body.name,
    )
    .await?;
    Ok(Json(json!(t)))
}

/// Archive a topic (never the default one: 400).
#[utoipa::path(post, path = "/api/v1/topics/{id}/archive", tag = "topics", security(("owner" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The archived topic"), (status = 400, description = "The default topic"),
        (status = 404, description = "No such topic")))]
async fn archive(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    let t = topics::archive(&state.hub.core.catalog, &owner.tenant, &topic_id(&id)?).await?;
    Ok(Json(json!(t)))
}
