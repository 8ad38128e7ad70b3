//! Marketplace listings (spec "Marketplace", "Workspace Auth"). A caller
//! acts for one workspace, named by the `X-Workspace-Id` header, with its
//! usual credentials: the owner's bearer (the owner is `owner` of every
//! workspace of the tenant), or a member device's JWT (with that device's
//! role). Reading needs any role; creating, editing, publishing, pausing
//! and delisting need `admin` or `owner`. No header → 400; a workspace not
//! of the caller's tenant → 404; not a member → 403; the tenant's
//! `marketplace_enabled` off → 403. Payments are not supported: a price is
//! descriptive, and every listing says so. Rules: `holdfast_core::hub::marketplace`.

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use holdfast_core::hub::marketplace::{self, Fields, Patch, Search};
use holdfast_core::hub::{parse_id, settings, workspaces};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::Caller;
use super::error::{HubApiError, HubApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search, create))
        .routes(routes!(detail, update))
        .routes(routes!(publish))
        .routes(routes!(pause))
        .routes(routes!(delist))
}

/// The header naming the workspace a call acts for.
pub const WORKSPACE_HEADER: &str = "x-workspace-id";

/// A caller acting for one workspace, with its role there.
pub struct WorkspaceCaller {
    pub tenant: String,
    pub workspace: String,
    pub role: String,
    /// `owner` or the device id.
    pub member: String,
}

impl WorkspaceCaller {
    fn require_admin(&self) -> HubApiResult<()> {
        if workspaces::rank(&self.role) >= workspaces::rank(workspaces::ADMIN) {
            Ok(())
        } else {
            Err(HubApiError::forbidden(format!(
                "Your role in this workspace ({}) cannot change listings; admin or owner can",
                self.role
            )))
        }
    }
}

impl FromRequestParts<AppState> for WorkspaceCaller {
    type Rejection = HubApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> HubApiResult<Self> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let raw = parts
            .headers
            .get(WORKSPACE_HEADER)
            .ok_or_else(|| {
                HubApiError::bad_request("X-Workspace-Id must name the workspace you act for")
            })?
            .to_str()
            .ok()
            .and_then(parse_id)
            .ok_or_else(|| HubApiError::bad_request("X-Workspace-Id must be a workspace UUID"))?;
        let tenant = caller.tenant().to_owned();
        let member = match caller.device() {
            Some(d) => d.id.clone(),
            None => workspaces::OWNER_MEMBER.to_owned(),
        };
        let catalog = &state.hub.core.catalog;
        let role = match caller.device() {
            Some(_) => workspaces::role_of(catalog, &tenant, &raw, &member).await?,
            None => {
                workspaces::get(catalog, &tenant, &raw, None).await?;
                workspaces::OWNER.to_owned()
            }
        };
        if !settings::get(catalog, &tenant).await?.marketplace_enabled {
            return Err(HubApiError::forbidden(
                "The marketplace is turned off for this tenant (settings: marketplace_enabled)",
            ));
        }
        Ok(Self {
            tenant,
            workspace: raw,
            role,
            member,
        })
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// Words that must all appear in the title, description or tags.
    q: Option<String>,
    category: Option<String>,
    /// Absent: published listings of the tenant. `draft`, `published`,
    /// `paused`, `delisted` or `all`: your workspace's own listings.
    status: Option<String>,
    /// 1-100 (default 50).
    limit: Option<String>,
    offset: Option<String>,
}

fn number(v: Option<&str>, what: &str, default: usize, max: usize) -> HubApiResult<usize> {
    match v {
        None | Some("") => Ok(default),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| HubApiError::bad_request(format!("{what} must be 0-{max}"))),
    }
}

/// Search listings: published ones of the tenant, or (with `status`) the
/// calling workspace's own.
#[utoipa::path(get, path = "/api/v1/marketplace/listings", tag = "marketplace", params(SearchQuery,
        ("X-Workspace-Id" = String, Header, description = "The workspace you act for")),
    security(("owner" = []), ("device" = [])),
    responses((status = 200, description = "Array of listings"), (status = 400, description = "Bad filters or no X-Workspace-Id"),
        (status = 401, description = "Not authenticated"), (status = 403, description = "Not a member, or the marketplace is off"),
        (status = 404, description = "No such workspace")))]
async fn search(
    State(state): State<AppState>,
    ws: WorkspaceCaller,
    Query(q): Query<SearchQuery>,
) -> HubApiResult<Json<Value>> {
    let bounded = |v: &Option<String>, what: &str| -> HubApiResult<Option<String>> {
        match v {
            Some(s) if s.chars().count() > 200 => Err(HubApiError::bad_request(format!(
                "{what} is over 200 characters"
            ))),
            Some(s) if s.trim().is_empty() => Ok(None),
            other => Ok(other.clone()),
        }
    };
    let limit = number(q.limit.as_deref(), "limit", 50, 100)?.max(1);
    let s = Search {
        q: bounded(&q.q, "q")?,
        category: bounded(&q.category, "category")?,
        status: bounded(&q.status, "status")?,
        limit,
        offset: number(q.offset.as_deref(), "offset", 0, 100_000)?,
    };
    let list = marketplace::search(&state.hub.core.catalog, &ws.tenant, &ws.workspace, s).await?;
    Ok(Json(json!(list)))
}

/// Create a draft listing for the calling workspace (admin or owner).
#[utoipa::path(post, path = "/api/v1/marketplace/listings", tag = "marketplace",
    params(("X-Workspace-Id" = String, Header)),
    request_body(content = Value, description = "{title (1-120), description? (≤4000), category? (≤50), tags? (≤10 × ≤30), agent_hub_id?, price? {amount (minor units), currency (ISO 4217), unit?} — descriptive only}"),
    security(("owner" = []), ("device" = [])),
    responses((status = 201, description = "The draft listing; `payments.supported` is false"),
        (status = 400, description = "Bad fields"), (status = 401, description = "Not authenticated"),
        (status = 403, description = "Role below admin, not a member, or the marketplace is off"),
        (status = 404, description = "No such workspace")))]
async fn create(
    State(state): State<AppState>,
    ws: WorkspaceCaller,
    HubJson(body): HubJson<Fields>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    ws.require_admin()?;
    let l = marketplace::create(&state.hub.core.catalog, &ws.tenant, &ws.workspace, body).await?;
    state
        .audit
        .record(
            "hub_listing_created",
            json!({"tenant_id": ws.tenant, "workspace_id": ws.workspace, "listing_id": l.id, "by": ws.member}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(json!(l))))
}

/// A listing: published ones of the tenant, or any of the calling workspace's.
#[utoipa::path(get, path = "/api/v1/marketplace/listings/{id}", tag = "marketplace",
    params(("id" = String, Path), ("X-Workspace-Id" = String, Header)),
    security(("owner" = []), ("device" = [])),
    responses((status = 200, description = "The listing"), (status = 401, description = "Not authenticated"),
        (status = 403, description = "Not a member, or the marketplace is off"),
        (status = 404, description = "No such listing visible to this workspace")))]
async fn detail(
    State(state): State<AppState>,
    ws: WorkspaceCaller,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    let l = marketplace::get(&state.hub.core.catalog, &ws.tenant, &ws.workspace, &id).await?;
    Ok(Json(json!(l)))
}

/// Change a listing's fields (admin or owner of its workspace); absent
/// fields stay, `null` clears an optional one.
#[utoipa::path(patch, path = "/api/v1/marketplace/listings/{id}", tag = "marketplace",
    params(("id" = String, Path), ("X-Workspace-Id" = String, Header)),
    request_body(content = Value, description = "Any of the create fields"),
    security(("owner" = []), ("device" = [])),
    responses((status = 200, description = "The listing"), (status = 400, description = "Bad fields"),
        (status = 401, description = "Not authenticated"), (status = 403, description = "Role below admin"),
        (status = 404, description = "Not this workspace's listing"), (status = 409, description = "Delisted")))]
async fn update(
    State(state): State<AppState>,
    ws: WorkspaceCaller,
    Path(id): Path<String>,
    HubJson(body): HubJson<Patch>,
) -> HubApiResult<Json<Value>> {
    ws.require_admin()?;
    let l = marketplace::update(
        &state.hub.core.catalog,
        &ws.tenant,
        &ws.workspace,
        &id,
        body,
    )
    .await?;
    Ok(Json(json!(l)))
}

async fn act(
    state: &AppState,
    ws: WorkspaceCaller,
    id: &str,
    action: &str,
) -> HubApiResult<Json<Value>> {
    ws.require_admin()?;
    let l = marketplace::transition(
        &state.hub.core.catalog,
        &ws.tenant,
        &ws.workspace,
        id,
        action,
    )
    .await?;
    state
        .audit
        .record(
            "hub_listing_status",
            json!({"tenant_id": ws.tenant, "workspace_id": ws.workspace, "listing_id": l.id,
                "status": l.status, "by": ws.member}),
        )
        .await;
    Ok(Json(json!(l)))
}

/// Publish a draft (or resume a paused) listing; it needs a description.
#[utoipa::path(post, path = "/api/v1/marketplace/listings/{id}/publish", tag = "marketplace",
    params(("id" = String, Path), ("X-Workspace-Id" = String, Header)),
    security(("owner" = []), ("device" = [])),
    responses((status = 200, description = "The listing, published"), (status = 403, description = "Role below admin"),
        (status = 404, description = "Not this workspace's listing"),
        (status = 409, description = "Not draft or paused, or no description")))]
async fn publish(
    State(state): State<AppState>,
    ws: WorkspaceCaller,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    act(&state, ws, &id, "publish").await
}

/// Pause a published listing (hidden from search until published again).
#[utoipa::path(post, path = "/api/v1/marketplace/listings/{id}/pause", tag = "marketplace",
    params(("id" = String, Path), ("X-Workspace-Id" = String, Header)),
    security(("owner" = []), ("device" = [])),
    responses((status = 200, description = "The listing, paused"), (status = 403, description = "Role below admin"),
        (status = 404, description = "Not this workspace's listing"), (status = 409, description = "Not published")))]
async fn pause(
    State(state): State<AppState>,
    ws: WorkspaceCaller,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    act(&state, ws, &id, "pause").await
}

/// Delist a listing for good.
#[utoipa::path(post, path = "/api/v1/marketplace/listings/{id}/delist", tag = "marketplace",
    params(("id" = String, Path), ("X-Workspace-Id" = String, Header)),
    security(("owner" = []), ("device" = [])),
    responses((status = 200, description = "The listing, delisted"), (status = 403, description = "Role below admin"),
        (status = 404, description = "Not this workspace's listing"), (status = 409, description = "Already delisted")))]
async fn delist(
    State(state): State<AppState>,
    ws: WorkspaceCaller,
    Path(id): Path<String>,
) -> HubApiResult<Json<Value>> {
    act(&state, ws, &id, "delist").await
}
