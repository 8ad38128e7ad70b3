//! What is configured on a coding-agent instance, over REST (issue 22):
//! provider API keys (sealed under the identity, so setting or reading one
//! needs it unlocked: 403 otherwise) and the models those providers offer,
//! MCP servers and workspace folders.
//! Keys never leave in an answer, an error or the log: they are shown as a
//! hint of their last four characters, and the audit ring names only the
//! provider. A remote instance is configured on its host, so changes to it
//! are refused here.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use holdfast_core::agents::{NewMcpServer, Provider, ProviderSpec};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};

use super::agent_instances::{announce, find, local_only, not_implemented};
use crate::agents::AgentsState;
use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiJsonOrEmpty, ApiQuery};
use crate::enrich::{self, LookupError};
use crate::state::AppState;

/// Models kept from one provider's answer at most.
const MAX_MODELS_PER_PROVIDER: usize = 1000;
/// Longest workspace path, in bytes.
const MAX_PATH_BYTES: usize = 4096;

// ---- providers ----

#[derive(Serialize, ToSchema)]
pub struct ProviderBody {
    /// `anthropic`, `openai`, `openrouter`, `google`.
    pub id: String,
    pub name: String,
    pub key_set: bool,
    /// The key's last four characters behind dots, when it is long enough.
    pub key_hint: Option<String>,
    pub base_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProvidersBody {
    pub providers: Vec<ProviderBody>,
}

/// Every provider this agent type knows, and whether a key is set for it.
#[utoipa::path(get, path = "/instances/{id}/providers", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)")),
    responses((status = 200, body = ProvidersBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn providers(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let inst = find(&state, &id).await?;
    Ok(Json(json!({ "providers": inst.providers })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderKey {
    /// Printable ASCII without spaces, at most 4096 characters.
    pub api_key: String,
    /// `http(s)://…` where the provider's API is (Anthropic only); null or
    /// left out: the provider's own.
    pub base_url: Option<String>,
}

/// The provider `name` of this instance's type, or 400.
fn spec_of(inst: &holdfast_core::agents::Instance, provider: &str) -> ApiResult<ProviderSpec> {
    inst.kind.provider(provider).copied().ok_or_else(|| {
        let known: Vec<&str> = inst.kind.providers().iter().map(|p| p.id).collect();
        ApiError::bad_request(format!(
            "provider: {} knows {}",
            inst.kind.display_name(),
            known.join(", ")
        ))
    })
}

/// Set a provider's API key (sealed under the identity; handed to the
/// agent only in its environment).
#[utoipa::path(put, path = "/instances/{id}/providers/{provider}", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)"),
           ("provider" = String, Path, description = "Provider id, e.g. `anthropic`")),
    request_body = ProviderKey,
    responses((status = 200, body = ProviderBody),
              (status = 400, description = "Unknown provider, bad key or base URL, or a remote instance", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 403, description = "The identity is locked", body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn set_provider(
    State(state): State<AppState>,
    Path((id, provider)): Path<(String, String)>,
    ApiJson(body): ApiJson<ProviderKey>,
) -> ApiResult<Json<Provider>> {
    let inst = find(&state, &id).await?;
    local_only(&inst)?;
    let spec = spec_of(&inst, &provider)?;
    let key = AgentsState::seal_key(&state.identity)?;
    let base_url = body.base_url.as_deref().filter(|u| !u.trim().is_empty());
    let p = state
        .agents
        .store
        .set_provider(&key, &id, spec.id, &body.api_key, base_url)
        .await?;
    state
        .audit
        .record(
            "agent_provider_key_set",
            json!({"instance_id": id, "provider": spec.id}),
        )
        .await;
    announce(&state, &id, "provider");
    Ok(Json(p))
}

/// Drop a provider's key (nothing to drop is fine).
#[utoipa::path(delete, path = "/instances/{id}/providers/{provider}", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)"),
           ("provider" = String, Path, description = "Provider id, e.g. `anthropic`")),
    responses((status = 204, description = "No key is set now"),
              (status = 400, description = "Unknown provider or a remote instance", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_provider(
    State(state): State<AppState>,
    Path((id, provider)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let inst = find(&state, &id).await?;
    local_only(&inst)?;
    let spec = spec_of(&inst, &provider)?;
    let was_set = inst.providers.iter().any(|p| p.id == spec.id && p.key_set);
    state.agents.store.delete_provider(&id, spec.id).await?;
    if was_set {
        state
            .audit
            .record(
                "agent_provider_key_dropped",
                json!({"instance_id": id, "provider": spec.id}),
            )
            .await;
        announce(&state, &id, "provider");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Provider OAuth is not offered: use an API key.
#[utoipa::path(post, path = "/instances/{id}/providers/{provider}/oauth/authorize", tag = "agents",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)"),
           ("provider" = String, Path, description = "Provider id")),
    responses((status = 400, description = "Unknown provider", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 501, description = "Not offered: use an API key", body = ErrorBody)))]
pub async fn provider_oauth_authorize(
    State(state): State<AppState>,
    Path((id, provider)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    provider_oauth(&state, &id, &provider).await
}

/// Provider OAuth is not offered: use an API key.
#[utoipa::path(post, path = "/instances/{id}/providers/{provider}/oauth/callback", tag = "agents",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)"),
           ("provider" = String, Path, description = "Provider id")),
    responses((status = 400, description = "Unknown provider", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 501, description = "Not offered: use an API key", body = ErrorBody)))]
pub async fn provider_oauth_callback(
    State(state): State<AppState>,
    Path((id, provider)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    provider_oauth(&state, &id, &provider).await
}

async fn provider_oauth(state: &AppState, id: &str, provider: &str) -> ApiResult<StatusCode> {
    let inst = find(state, id).await?;
    spec_of(&inst, provider)?;
    Err(not_implemented(
        "Holdfast does not sign in to providers with OAuth: set the provider's API key instead",
    ))
}

// ---- models ----

#[derive(Serialize, ToSchema)]
pub struct ModelBody {
    pub id: String,
    pub name: String,
    pub provider: String,
}

#[derive(Serialize, ToSchema)]
pub struct ModelErrorBody {
    pub provider: String,
    pub error: String,
}

#[derive(Serialize, ToSchema)]
pub struct ModelsBody {
    pub models: Vec<ModelBody>,
    pub errors: Vec<ModelErrorBody>,
}

/// Where a provider lists its models, and how the key is presented.
fn models_request(
    client: &reqwest::Client,
    spec: &ProviderSpec,
    key: &str,
    base: Option<&str>,
) -> reqwest::RequestBuilder {
    match spec.id {
        "anthropic" => client
            .get(format!(
                "{}/v1/models?limit=1000",
                base.unwrap_or("https://api.anthropic.com")
            ))
            .header("x-api-key", key)
            .header("anthropic-version", "2023-06-01"),
        "google" => client
            .get(format!(
                "{}/v1beta/models?pageSize=1000",
                base.unwrap_or("https://generativelanguage.googleapis.com")
            ))
            .header("x-goog-api-key", key),
        "openrouter" => client
            .get(format!(
                "{}/v1/models",
                base.unwrap_or("https://openrouter.ai/api")
            ))
            .bearer_auth(key),
        _ => client
            .get(format!(
                "{}/v1/models",
                base.unwrap_or("https://api.openai.com")
            ))
            .bearer_auth(key),
    }
}

/// The models in a provider's answer: `data` (Anthropic, OpenAI-style) or
/// `models` (Gemini, ids as `models/<id>`).
fn parse_models(spec: &ProviderSpec, answer: &Value) -> Vec<ModelBody> {
    let list = answer["data"]
        .as_array()
        .or_else(|| answer["models"].as_array());
    let Some(list) = list else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|m| {
            let id = m["id"]
                .as_str()
                .or_else(|| m["name"].as_str().map(|n| n.trim_start_matches("models/")))?;
            if id.is_empty() || id.len() > 256 {
                return None;
            }
            let name = m["display_name"]
                .as_str()
                .or_else(|| m["displayName"].as_str())
                .or_else(|| m["id"].is_string().then(|| m["name"].as_str()).flatten())
                .filter(|n| !n.is_empty() && n.len() <= 256)
                .unwrap_or(id);
            Some(ModelBody {
                id: id.to_owned(),
                name: name.to_owned(),
                provider: spec.id.to_owned(),
            })
        })
        .take(MAX_MODELS_PER_PROVIDER)
        .collect()
}

/// The models each keyed provider offers, asked of its API with the
/// instance's key. A provider that fails is named in `errors`; the others
/// still answer.
#[utoipa::path(get, path = "/instances/{id}/models", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)")),
    responses((status = 200, body = ModelsBody),
              (status = 400, description = "A remote instance", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 403, description = "The identity is locked", body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn models(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ModelsBody>> {
    let inst = find(&state, &id).await?;
    local_only(&inst)?;
    let keyed: Vec<ProviderSpec> = inst
        .providers
        .iter()
        .filter(|p| p.key_set)
        .filter_map(|p| inst.kind.provider(&p.id).copied())
        .collect();
    let mut out = ModelsBody {
        models: Vec::new(),
        errors: Vec::new(),
    };
    if keyed.is_empty() {
        return Ok(Json(out));
    }
    let seal = AgentsState::seal_key(&state.identity)?;
    let client = enrich::client();
    for spec in keyed {
        let Some((key, base)) = state.agents.store.provider_key(&seal, &id, spec.id).await? else {
            continue;
        };
        let req = models_request(&client, &spec, &key, base.as_deref());
        match enrich::get_json(spec.name, req).await {
            Ok(answer) => out.models.extend(parse_models(&spec, &answer)),
            Err(e) => {
                // LookupError names the service and status only, never the
                // request (which carries the key).
                let error = match e {
                    LookupError::Status {
                        status: 401 | 403, ..
                    } => format!("{} refused the API key", spec.name),
                    other => other.to_string(),
                };
                out.errors.push(ModelErrorBody {
                    provider: spec.id.to_owned(),
                    error,
                });
            }
        }
    }
    Ok(Json(out))
}

// ---- MCP servers ----

#[derive(Serialize, ToSchema)]
pub struct McpServerBody {
    pub name: String,
    /// `stdio` (a command) or `http` (a url).
    pub transport: String,
    pub command: Option<String>,
    pub args: Vec<String>,
    pub url: Option<String>,
    /// Names of the environment variables set (values are sealed).
    pub env_keys: Vec<String>,
    /// Names of the headers set (values are sealed).
    pub header_keys: Vec<String>,
    /// `{"token_set": bool}`.
    #[schema(value_type = Object)]
    pub oauth: Value,
}

#[derive(Serialize, ToSchema)]
pub struct McpServersBody {
    pub servers: Vec<McpServerBody>,
}

/// The instance's MCP servers (secrets by name only).
#[utoipa::path(get, path = "/instances/{id}/mcp", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)")),
    responses((status = 200, body = McpServersBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mcp_list(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    find(&state, &id).await?;
    let servers = state.agents.store.mcp_servers(&id).await?;
    Ok(Json(json!({ "servers": servers })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMcpServerBody {
    /// 1-64 letters, digits, `-` or `_` (`holdfast` is reserved).
    pub name: String,
    /// A local (stdio) server: the program to run. Exactly one of command / url.
    pub command: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment of a local server (sealed).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub env: Map<String, Value>,
    /// A remote (HTTP) server's URL.
    pub url: Option<String>,
    /// Headers sent to a remote server (sealed).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub headers: Map<String, Value>,
}

/// Add an MCP server (its env and header values sealed under the identity).
#[utoipa::path(post, path = "/instances/{id}/mcp", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)")),
    request_body = NewMcpServerBody,
    responses((status = 201, body = McpServerBody),
              (status = 400, description = "Bad name, both or neither of command and url, or a remote instance", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 403, description = "The identity is locked", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "The name is taken", body = ErrorBody)))]
pub async fn mcp_add(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewMcpServerBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let inst = find(&state, &id).await?;
    local_only(&inst)?;
    let key = AgentsState::seal_key(&state.identity)?;
    let server = state
        .agents
        .store
        .add_mcp_server(
            &key,
            &id,
            NewMcpServer {
                name: body.name,
                command: body.command,
                args: body.args,
                url: body.url,
                env: body.env,
                headers: body.headers,
            },
        )
        .await?;
    state
        .audit
        .record(
            "agent_mcp_server_added",
            json!({"instance_id": id, "name": server.name, "transport": server.transport}),
        )
        .await;
    announce(&state, &id, "mcp");
    Ok((StatusCode::CREATED, Json(json!(server))))
}

/// Remove an MCP server.
#[utoipa::path(delete, path = "/instances/{id}/mcp/{name}", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)"),
           ("name" = String, Path, description = "The server's name")),
    responses((status = 204, description = "Removed"),
              (status = 400, description = "A remote instance", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mcp_delete(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let inst = find(&state, &id).await?;
    local_only(&inst)?;
    state.agents.store.delete_mcp_server(&id, &name).await?;
    state
        .audit
        .record(
            "agent_mcp_server_removed",
            json!({"instance_id": id, "name": name}),
        )
        .await;
    announce(&state, &id, "mcp");
    Ok(StatusCode::NO_CONTENT)
}

/// MCP-server OAuth is not offered: give the server a token in its headers
/// or env instead.
#[utoipa::path(post, path = "/instances/{id}/mcp/{name}/oauth", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)"),
           ("name" = String, Path, description = "The server's name")),
    responses((status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 501, description = "Not offered", body = ErrorBody)))]
pub async fn mcp_oauth_start(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    find(&state, &id).await?;
    let servers = state.agents.store.mcp_servers(&id).await?;
    if !servers.iter().any(|s| s.name == name) {
        return Err(ApiError::not_found("no such MCP server"));
    }
    Err(not_implemented(
        "Holdfast does not run MCP OAuth sign-in: give the server its token in headers (remote) \
         or env (local) instead",
    ))
}

/// Forget the server's cached OAuth token (nothing cached is fine).
#[utoipa::path(delete, path = "/instances/{id}/mcp/{name}/oauth", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)"),
           ("name" = String, Path, description = "The server's name")),
    responses((status = 204, description = "No token is kept now"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mcp_oauth_drop(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    find(&state, &id).await?;
    state.agents.store.drop_mcp_token(&id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- workspaces ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    /// An absolute path of an existing folder on this computer.
    pub path: String,
    /// Display name (default: the folder's name).
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WorkspaceBody {
    /// The folder, canonical.
    pub path: String,
    pub name: String,
    pub added_ms: i64,
}

fn check_path(path: &str) -> ApiResult<()> {
    if path.is_empty() || path.len() > MAX_PATH_BYTES {
        return Err(ApiError::bad_request(
            "path: an absolute folder path, at most 4096 bytes",
        ));
    }
    Ok(())
}

/// Register a folder the agent may work in.
#[utoipa::path(post, path = "/instances/{id}/workspaces", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)")),
    request_body = NewWorkspace,
    responses((status = 201, body = WorkspaceBody),
              (status = 400, description = "Not absolute, not a folder, or a remote instance", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "Already a workspace", body = ErrorBody)))]
pub async fn workspace_add(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewWorkspace>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let inst = find(&state, &id).await?;
    local_only(&inst)?;
    check_path(&body.path)?;
    let ws = state
        .agents
        .store
        .add_workspace(&id, &body.path, body.name.as_deref())
        .await?;
    announce(&state, &id, "workspaces");
    Ok((StatusCode::CREATED, Json(json!(ws))))
}

/// Which workspace to unregister: in the body or as `?path=`.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceRef {
    pub path: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkspaceQuery {
    /// The workspace's path (instead of a body).
    pub path: Option<String>,
}

/// Unregister a workspace folder (the folder itself is left alone).
#[utoipa::path(delete, path = "/instances/{id}/workspaces", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)"), WorkspaceQuery),
    request_body(content = WorkspaceRef, description = "`{\"path\"}`, or give `?path=`"),
    responses((status = 204, description = "Unregistered"),
              (status = 400, description = "No path, or a remote instance", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn workspace_remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<WorkspaceQuery>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<WorkspaceRef>,
) -> ApiResult<StatusCode> {
    let inst = find(&state, &id).await?;
    local_only(&inst)?;
    let Some(path) = body.path.or(query.path) else {
        return Err(ApiError::bad_request(
            "path: give the workspace's path in the body or as ?path=",
        ));
    };
    check_path(&path)?;
    state.agents.store.remove_workspace(&id, &path).await?;
    announce(&state, &id, "workspaces");
    Ok(StatusCode::NO_CONTENT)
}
