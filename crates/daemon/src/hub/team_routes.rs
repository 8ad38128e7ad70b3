//! Workspaces and team rooms (spec "Workspaces & Teams"): the owner creates
//! both; the owner and member devices list them (a device sees only the
//! workspaces it belongs to, with its role). Rules: `holdfast_core::hub::workspaces`.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use holdfast_core::hub::{parse_id, settings, workspaces};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::{Caller, Owner};
use super::error::{HubApiError, HubApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(list_team_rooms, create_team_room))
}

/// The member id a caller has in workspaces.
fn member_of(caller: &Caller) -> Option<&str> {
    caller.device().map(|d| d.id.as_str())
}

/// Workspaces of the tenant: all of them for the owner, the caller's own
/// (with `role`) for a device.
#[utoipa::path(get, path = "/api/v1/workspaces", tag = "workspaces",
    security(("owner" = []), ("device" = []), ("api_key" = [])),
    responses((status = 200, description = "Array of workspaces with members and the caller's role"),
        (status = 401, description = "Not authenticated"), (status = 403, description = "Revoked device or unknown tenant")))]
async fn list_workspaces(
    State(state): State<AppState>,
    caller: Caller,
) -> HubApiResult<Json<Value>> {
    let list =
        workspaces::list(&state.hub.core.catalog, caller.tenant(), member_of(&caller)).await?;
    Ok(Json(json!(list)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewMember {
    /// A device of the tenant.
    device_id: String,
    /// `admin`, `member` or `viewer` (default: the tenant's `default_workspace_role`).
    #[serde(default)]
    role: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewWorkspace {
    /// 1-100 characters, unique in the tenant.
    name: String,
    #[serde(default)]
    description: Option<String>,
    /// Devices that join, with their roles (at most 200); the owner is the
    /// workspace's `owner`.
    #[serde(default)]
    members: Vec<NewMember>,
}

/// Create a workspace; the owner is its `owner`.
#[utoipa::path(post, path = "/api/v1/workspaces", tag = "workspaces", request_body = NewWorkspace,
    security(("owner" = [])),
    responses((status = 201, description = "The workspace"), (status = 400, description = "Bad fields or a device not of this tenant"),
        (status = 401, description = "Not the owner"), (status = 409, description = "Name taken")))]
async fn create_workspace(
    State(state): State<AppState>,
    owner: Owner,
    HubJson(body): HubJson<NewWorkspace>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let catalog = &state.hub.core.catalog;
    let default_role = settings::get(catalog, &owner.tenant)
        .await?
        .default_workspace_role;
    let members = body
        .members
        .into_iter()
        .map(|m| workspaces::NewMember {
            device_id: m.device_id,
            role: m.role,
        })
        .collect();
    let w = workspaces::create(
        catalog,
        &owner.tenant,
        &body.name,
        body.description,
        members,
        &default_role,
    )
    .await?;
    state
        .audit
        .record(
            "hub_workspace_created",
            json!({"tenant_id": owner.tenant, "workspace_id": w.id, "members": w.members.len()}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(json!(w))))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RoomQuery {
    /// Only this workspace's rooms.
    workspace_id: Option<String>,
}

/// Team rooms of the tenant (of one workspace with `workspace_id`); a
/// device sees those of its workspaces.
#[utoipa::path(get, path = "/api/v1/team-rooms", tag = "workspaces", params(RoomQuery),
    security(("owner" = []), ("device" = []), ("api_key" = [])),
    responses((status = 200, description = "Array of team rooms"), (status = 400, description = "Bad workspace_id"),
        (status = 401, description = "Not authenticated"), (status = 404, description = "No such workspace")))]
async fn list_team_rooms(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RoomQuery>,
) -> HubApiResult<Json<Value>> {
    let catalog = &state.hub.core.catalog;
    let workspace = match q.workspace_id.as_deref() {
        None | Some("") => None,
        Some(w) => {
            let id = parse_id(w)
                .ok_or_else(|| HubApiError::bad_request("workspace_id must be a UUID"))?;
            match member_of(&caller) {
                Some(m) => {
                    workspaces::role_of(catalog, caller.tenant(), &id, m).await?;
                }
                None => {
                    workspaces::get(catalog, caller.tenant(), &id, None).await?;
                }
            }
            Some(id)
        }
    };
    let rooms = workspaces::list_rooms(
        catalog,
        caller.tenant(),
        member_of(&caller),
        workspace.as_deref(),
    )
    .await?;
    Ok(Json(json!(rooms)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTeamRoom {
    workspace_id: String,
    /// 1-100 characters, unique in the workspace.
    name: String,
    #[serde(default)]
    description: Option<String>,
}

/// Create a team room in a workspace; its members are the workspace's.
#[utoipa::path(post, path = "/api/v1/team-rooms", tag = "workspaces", request_body = NewTeamRoom,
    security(("owner" = [])),
    responses((status = 201, description = "The team room"), (status = 400, description = "Bad fields"),
        (status = 401, description = "Not the owner"), (status = 404, description = "No such workspace"),
        (status = 409, description = "Name taken in the workspace")))]
async fn create_team_room(
    State(state): State<AppState>,
    owner: Owner,
    HubJson(body): HubJson<NewTeamRoom>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let ws = parse_id(&body.workspace_id)
        .ok_or_else(|| HubApiError::bad_request("workspace_id must be a UUID"))?;
    let room = workspaces::create_room(
        &state.hub.core.catalog,
        &owner.tenant,
        &ws,
        &body.name,
        body.description,
    )
    .await?;
    state
        .audit
        .record(
            "hub_team_room_created",
            json!({"tenant_id": owner.tenant, "workspace_id": ws, "team_room_id": room.id}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(json!(room))))
}
