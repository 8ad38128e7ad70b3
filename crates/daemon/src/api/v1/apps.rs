//! Apps, links and grants from the owner's side: register an app (its
//! scopes and browser origins), see and revoke links, see and
//! revoke timed grants.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use holdfast_core::apps::{App, AppSpec, Grant, Link};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::api::extract::ApiJson;
use crate::state::AppState;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AppJson {
    pub client_id: String,
    pub name: String,
    /// Profile fields it may read: display_name, username, profile_picture.
    pub scopes: Vec<String>,
    /// Browser origins it may call the IPC API from (e.g. https://app.example).
    pub allowed_origins: Vec<String>,
    /// The app has presented its app token, so its client_id alone is no
    /// longer accepted for it. Until then it is identified by client_id,
    /// Origin and executable, as the IPC spec's clients are.
    pub token_bound: bool,
    pub created_ms: i64,
}

impl From<App> for AppJson {
    fn from(a: App) -> Self {
        Self {
            client_id: a.client_id,
            name: a.name,
            scopes: a.scopes,
            allowed_origins: a.allowed_origins,
            token_bound: a.token_bound,
            created_ms: a.created_ms,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewApp {
    pub client_id: String,
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct AppPatch {
    pub name: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub allowed_origins: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct LinkJson {
    pub id: String,
    pub client_id: String,
    pub app_name: String,
    pub app_agent_pub_key: String,
    pub vault_agent_pub_key: String,
    pub vault_signature: String,
    /// The program that asked for the link, when known.
    pub exe: Option<String>,
    pub created_ms: i64,
}

impl From<Link> for LinkJson {
    fn from(l: Link) -> Self {
        Self {
            id: l.id,
            client_id: l.client_id,
            app_name: l.app_name,
            app_agent_pub_key: l.app_agent_pub_key,
            vault_agent_pub_key: l.vault_agent_pub_key,
            vault_signature: l.signature,
            exe: l.exe,
            created_ms: l.created_ms,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct GrantJson {
    pub id: String,
    pub client_id: String,
    /// What it allows without a prompt (e.g. `sign`).
    pub kind: String,
    pub created_ms: i64,
    pub expires_at_ms: i64,
    pub time_left_ms: i64,
}

impl From<Grant> for GrantJson {
    fn from(g: Grant) -> Self {
        Self {
            time_left_ms: (g.expires_at_ms - holdfast_core::time::now_ms()).max(0),
            id: g.id,
            client_id: g.client_id,
            kind: g.kind,
            created_ms: g.created_ms,
            expires_at_ms: g.expires_at_ms,
        }
    }
}

/// Registered apps.
#[utoipa::path(get, path = "/apps", tag = "apps", security(("bearer" = [])),
    responses((status = 200, body = Vec<AppJson>)))]
pub async fn list_apps(State(state): State<AppState>) -> ApiResult<Json<Vec<AppJson>>> {
    Ok(Json(
        state
            .apps
            .list()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Register an app.
#[utoipa::path(post, path = "/apps", tag = "apps", security(("bearer" = [])), request_body = NewApp,
    responses(
        (status = 201, body = AppJson),
        (status = 400, body = ErrorBody),
        (status = 409, description = "client_id taken", body = ErrorBody),
    ))]
pub async fn create_app(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewApp>,
) -> ApiResult<(StatusCode, Json<AppJson>)> {
    let app = state
        .apps
        .create(AppSpec {
            client_id: req.client_id,
            name: req.name,
            scopes: req.scopes,
            allowed_origins: req.allowed_origins,
        })
        .await?;
    state
        .audit
        .record("app_registered", json!({"client_id": app.client_id}))
        .await;
    Ok((StatusCode::CREATED, Json(app.into())))
}

/// Change an app's name, scopes or origins.
#[utoipa::path(patch, path = "/apps/{client_id}", tag = "apps", security(("bearer" = [])),
    params(("client_id" = String, Path)), request_body = AppPatch,
    responses((status = 200, body = AppJson), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patch_app(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    ApiJson(req): ApiJson<AppPatch>,
) -> ApiResult<Json<AppJson>> {
    let current = state
        .apps
        .get(&client_id)
        .await?
        .ok_or(holdfast_core::apps::AppError::NotFound)?;
    let app = state
        .apps
        .update(AppSpec {
            client_id: current.client_id,
            name: req.name.unwrap_or(current.name),
            scopes: req.scopes.unwrap_or(current.scopes),
            allowed_origins: req.allowed_origins.unwrap_or(current.allowed_origins),
        })
        .await?;
    state
        .audit
        .record("app_changed", json!({"client_id": app.client_id}))
        .await;
    Ok(Json(app.into()))
}

/// Forget an app with its links and grants (its backups stay until deleted).
#[utoipa::path(delete, path = "/apps/{client_id}", tag = "apps", security(("bearer" = [])),
    params(("client_id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete_app(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> ApiResult<StatusCode> {
    state.apps.delete(&client_id).await?;
    state
        .audit
        .record("app_deleted", json!({"client_id": client_id}))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Live links.
#[utoipa::path(get, path = "/links", tag = "apps", security(("bearer" = [])),
    responses((status = 200, body = Vec<LinkJson>)))]
pub async fn list_links(State(state): State<AppState>) -> ApiResult<Json<Vec<LinkJson>>> {
    Ok(Json(
        state
            .apps
            .links()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Revoke a link from the vault side; its app token stops working.
#[utoipa::path(delete, path = "/links/{id}", tag = "apps", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
pub async fn delete_link(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let link = state.apps.delete_link(&id).await?;
    state
        .audit
        .record(
            "link_revoked",
            json!({"client_id": link.client_id, "link_id": link.id, "by": "user"}),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Timed grants still in force, with time left.
#[utoipa::path(get, path = "/grants", tag = "apps", security(("bearer" = [])),
    responses((status = 200, body = Vec<GrantJson>)))]
pub async fn list_grants(State(state): State<AppState>) -> ApiResult<Json<Vec<GrantJson>>> {
    Ok(Json(
        state
            .apps
            .grants()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Revoke a grant: the next request prompts again.
#[utoipa::path(delete, path = "/grants/{id}", tag = "apps", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
pub async fn delete_grant(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.apps.delete_grant(&id).await?;
    state
        .audit
        .record("grant_revoked", json!({"grant_id": id}))
        .await;
    Ok(StatusCode::NO_CONTENT)
}
