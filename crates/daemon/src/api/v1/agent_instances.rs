//! Coding-agent instances over REST (issue 22): which agent programs are
//! installed (`/capabilities`), the instances themselves, their sign-in
//! state, transcript search and chat attachments. What is configured on an
//! instance (providers, models, MCP servers, workspaces) is in
//! `agent_config`. Storage is
//! `holdfast_core::agents`; the programs and processes are
//! `crate::agents`. Deleting an instance stops its runs first and goes to
//! the audit ring; every change is announced as `agent_instance`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use holdfast_core::agents::{AgentType, Instance, valid_id};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// Largest attachment upload.
pub const MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;
/// Longest search query, in bytes.
const MAX_QUERY_BYTES: usize = 1000;
/// Search results at most, and by default.
const MAX_SEARCH_LIMIT: i64 = 200;
const DEFAULT_SEARCH_LIMIT: i64 = 50;

/// An instance as every route shows it: the stored instance plus whether
/// its program is here, which program, and how it is signed in. Session
/// routes answer with the same shape.
pub async fn instance_view(state: &AppState, inst: Instance) -> Value {
    let (available, program) = if inst.remote {
        // A remote instance runs on its host: available while that host is
        // connected.
        let host = inst.host_node_id.as_deref().unwrap_or_default();
        (
            crate::agents::remote::host_connected(state, host),
            Value::Null,
        )
    } else {
        match state.agents.runner.capabilities.program(inst.kind).await {
            Some(p) => (true, json!(p)),
            None => (false, Value::Null),
        }
    };
    let auth = auth_status(state, &inst);
    let mut v = serde_json::to_value(&inst).unwrap_or_else(|_| json!({}));
    if let Some(o) = v.as_object_mut() {
        o.insert("available".into(), json!(available));
        o.insert("program".into(), program);
        o.insert("auth".into(), json!(auth));
    }
    v
}

/// How an instance signs in to its model provider.
#[derive(Serialize, ToSchema)]
pub struct AuthStatus {
    /// `api_key` (a provider key is set here), `oauth` (the agent's own
    /// config dir holds a login) or `none`.
    pub status: &'static str,
    pub detail: String,
}

/// `api_key` when a provider key is set, `oauth` when the agent's own
/// config dir holds a login of its own, else `none`.
pub fn auth_status(state: &AppState, inst: &Instance) -> AuthStatus {
    if inst.remote {
        return AuthStatus {
            status: "none",
            detail: "signed in on the computer that hosts it".into(),
        };
    }
    let keyed: Vec<&str> = inst
        .providers
        .iter()
        .filter(|p| p.key_set)
        .map(|p| p.name.as_str())
        .collect();
    if !keyed.is_empty() {
        let detail = if keyed.len() == 1 {
            format!("{} API key set", keyed[0])
        } else {
            format!("API keys set: {}", keyed.join(", "))
        };
        return AuthStatus {
            status: "api_key",
            detail,
        };
    }
    let dir = state.agents.store.config_dir(&inst.id);
    let login = match inst.kind {
        // Claude Code keeps its account login in `<CLAUDE_CONFIG_DIR>/.credentials.json`.
        AgentType::Claude => dir.join(".credentials.json").is_file(),
        // OpenCode keeps provider logins in `opencode/auth.json` under its
        // XDG data home, which is the instance's config dir or below it.
        AgentType::Opencode => [
            dir.join("opencode").join("auth.json"),
            dir.join(".local/share/opencode/auth.json"),
        ]
        .iter()
        .any(|p| p.is_file()),
    };
    if login {
        AuthStatus {
            status: "oauth",
            detail: format!("signed in through {}", inst.kind.display_name()),
        }
    } else {
        AuthStatus {
            status: "none",
            detail: "no API key set and no sign-in: add a provider API key".into(),
        }
    }
}

/// The instance `id`, or 404 (a malformed id is unknown too).
pub async fn find(state: &AppState, id: &str) -> ApiResult<Instance> {
    if !valid_id(id, "ai_") {
        return Err(ApiError::not_found("no such agent instance"));
    }
    Ok(state.agents.store.instance(id).await?)
}

/// Configuration lives where the instance runs: refused on remote ones.
pub fn local_only(inst: &Instance) -> ApiResult<()> {
    if inst.remote {
        return Err(ApiError::bad_request(
            "this instance runs on another computer: configure it on the computer that hosts it",
        ));
    }
    Ok(())
}

/// Tells listeners (the web UI) that an instance changed.
pub fn announce(state: &AppState, id: &str, change: &str) {
    state.events.publish(
        "agent_instance",
        json!({"instance_id": id, "change": change}),
    );
}

/// 501 with a message saying what to do instead.
pub fn not_implemented(message: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_IMPLEMENTED, message)
}

// ---- capabilities ----

/// One agent program as `GET /capabilities` shows it.
#[derive(Serialize, ToSchema)]
pub struct CapabilityBody {
    /// `claude` or `opencode`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub installed: bool,
    pub path: Option<String>,
    pub version: Option<String>,
    pub install_hint: String,
}

#[derive(Serialize, ToSchema)]
pub struct CapabilitiesBody {
    pub agents: Vec<CapabilityBody>,
}

/// Which agent programs are installed on this host (PATH and the places
/// their installers use), with their versions.
#[utoipa::path(get, path = "/capabilities", tag = "agents", security(("bearer" = [])),
    responses((status = 200, body = CapabilitiesBody), (status = 401, body = ErrorBody)))]
pub async fn capabilities(State(state): State<AppState>) -> Json<Value> {
    let agents = state.agents.runner.capabilities.all().await;
    Json(json!({ "agents": agents }))
}

// ---- instances ----

/// An instance (see the wire contract "Instance").
#[derive(Serialize, ToSchema)]
pub struct InstanceBody {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub remote: bool,
    pub host_node_id: Option<String>,
    /// Whether the program is installed here (remote: always true).
    pub available: bool,
    /// `{"path","version"}`, or null when not installed (or remote).
    #[schema(value_type = Option<Object>)]
    pub program: Option<Value>,
    pub auth: AuthStatus,
    /// `{"model","system_prompt","permission_mode"}`.
    #[schema(value_type = Object)]
    pub defaults: Value,
    #[schema(value_type = Vec<Object>)]
    pub workspaces: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub providers: Vec<Value>,
    pub mcp_servers: i64,
    pub sessions: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Serialize, ToSchema)]
pub struct InstancesBody {
    pub instances: Vec<InstanceBody>,
}

/// All agent instances of this node, oldest first.
#[utoipa::path(get, path = "/instances", tag = "agents", security(("bearer" = [])),
    responses((status = 200, body = InstancesBody), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let mut out = Vec::new();
    for inst in state.agents.store.instances().await? {
        out.push(instance_view(&state, inst).await);
    }
    Ok(Json(json!({ "instances": out })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstance {
    /// `claude` or `opencode`.
    #[serde(rename = "type")]
    pub kind: String,
    /// 1-100 characters once trimmed.
    pub name: String,
}

/// Create an instance: its own config dir under the data dir.
#[utoipa::path(post, path = "/instances", tag = "agents", security(("bearer" = [])),
    request_body = NewInstance,
    responses((status = 201, body = InstanceBody),
              (status = 400, description = "Unknown type or bad name", body = ErrorBody),
              (status = 401, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewInstance>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Some(kind) = AgentType::parse(&body.kind) else {
        return Err(ApiError::bad_request("type: claude or opencode"));
    };
    let inst = state.agents.store.create_instance(kind, &body.name).await?;
    announce(&state, &inst.id, "created");
    Ok((StatusCode::CREATED, Json(instance_view(&state, inst).await)))
}

/// One instance.
#[utoipa::path(get, path = "/instances/{id}", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)")),
    responses((status = 200, body = InstanceBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let inst = find(&state, &id).await?;
    Ok(Json(instance_view(&state, inst).await))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstancePatch {
    /// 1-100 characters once trimmed.
    pub name: Option<String>,
    /// Any of `model` (null or a model id), `system_prompt` (null or text
    /// ≤ 64 KiB), `permission_mode` (`default`, `acceptEdits`, `plan`,
    /// `bypassPermissions`).
    #[schema(value_type = Option<Object>)]
    pub defaults: Option<Value>,
}

/// Rename an instance or change the defaults its new sessions start with.
#[utoipa::path(patch, path = "/instances/{id}", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)")),
    request_body = InstancePatch,
    responses((status = 200, body = InstanceBody),
              (status = 400, description = "Bad name or defaults", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<InstancePatch>,
) -> ApiResult<Json<Value>> {
    find(&state, &id).await?;
    let inst = state
        .agents
        .store
        .patch_instance(&id, body.name.as_deref(), body.defaults.as_ref())
        .await?;
    announce(&state, &id, "updated");
    Ok(Json(instance_view(&state, inst).await))
}

/// Delete an instance: its runs are stopped, then its config dir,
/// sessions, transcripts and attachments are removed.
#[utoipa::path(delete, path = "/instances/{id}", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)")),
    responses((status = 204, description = "Deleted"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let inst = find(&state, &id).await?;
    state.agents.runner.stop_instance(&id).await;
    state.agents.store.delete_instance(&id).await?;
    state.agent_remote.revoke(&id);
    state
        .audit
        .record(
            "agent_instance_deleted",
            json!({"instance_id": id, "type": inst.kind.as_str(), "name": inst.name}),
        )
        .await;
    announce(&state, &id, "deleted");
    Ok(StatusCode::NO_CONTENT)
}

// ---- sign-in ----

/// Look again for the program (a user who just installed it sees it) and
/// report how the instance signs in.
#[utoipa::path(post, path = "/instances/{id}/refresh-auth", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)")),
    responses((status = 200, body = AuthStatus),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn refresh_auth(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<AuthStatus>> {
    let inst = find(&state, &id).await?;
    state.agents.runner.capabilities.refresh();
    if !inst.remote {
        // Warms the lookup, so the next instance view is current.
        state.agents.runner.capabilities.program(inst.kind).await;
    }
    Ok(Json(auth_status(&state, &inst)))
}

/// Browser sign-in is not offered: it needs the agent's own terminal.
#[utoipa::path(post, path = "/instances/{id}/auth-login", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)")),
    responses((status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 501, description = "Not offered: use an API key", body = ErrorBody)))]
pub async fn auth_login(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    find(&state, &id).await?;
    Err(not_implemented(
        "Holdfast cannot run the agent's browser sign-in: it is interactive and belongs to the \
         agent's own terminal. Set a provider API key on this instance instead.",
    ))
}

/// One way an instance can sign in.
#[derive(Serialize, ToSchema)]
pub struct AuthMethod {
    /// `api_key` or `oauth`.
    pub id: &'static str,
    pub provider: &'static str,
    pub label: String,
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

#[derive(Serialize, ToSchema)]
pub struct AuthMethodsBody {
    pub methods: Vec<AuthMethod>,
}

/// The ways this agent type can sign in, and which Holdfast offers.
#[utoipa::path(get, path = "/instances/{id}/auth-methods", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)")),
    responses((status = 200, body = AuthMethodsBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn auth_methods(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<AuthMethodsBody>> {
    let inst = find(&state, &id).await?;
    let mut methods: Vec<AuthMethod> = inst
        .kind
        .providers()
        .iter()
        .map(|p| AuthMethod {
            id: "api_key",
            provider: p.id,
            label: format!("{} API key", p.name),
            available: !inst.remote,
            reason: inst
                .remote
                .then_some("configured on the computer that hosts the instance"),
        })
        .collect();
    let first = inst.kind.providers()[0];
    methods.push(AuthMethod {
        id: "oauth",
        provider: first.id,
        label: format!("{} account sign-in", inst.kind.display_name()),
        available: false,
        reason: Some(
            "browser sign-in runs in the agent's own terminal; Holdfast uses an API key instead",
        ),
    });
    Ok(Json(AuthMethodsBody { methods }))
}

// ---- search ----

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find (each as a prefix), at most 1000 bytes.
    pub q: String,
    /// Results at most, 1-200 (default 50).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchHitBody {
    pub session_id: String,
    pub session_title: String,
    pub seq: i64,
    pub role: String,
    pub kind: String,
    /// The matching text with the hits in `[` `]`.
    pub snippet: String,
    pub ts_ms: i64,
}

#[derive(Serialize, ToSchema)]
pub struct SearchBody {
    pub results: Vec<SearchHitBody>,
}

/// Search the transcripts of every session of the instance.
#[utoipa::path(get, path = "/instances/{id}/search", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)"), SearchQuery),
    responses((status = 200, body = SearchBody),
              (status = 400, description = "Query too long or bad limit", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Value>> {
    find(&state, &id).await?;
    if query.q.len() > MAX_QUERY_BYTES {
        return Err(ApiError::bad_request("q: at most 1000 bytes"));
    }
    let limit = query.limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
    if !(1..=MAX_SEARCH_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request("limit: 1 to 200"));
    }
    let results = state.agents.store.search(&id, &query.q, limit).await?;
    Ok(Json(json!({ "results": results })))
}

// ---- attachments ----

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttachmentQuery {
    /// The file's name (1-100 characters, no `/`); its extension gives the
    /// type.
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentBody {
    /// `at_…`, to name in a message's `attachments`.
    pub id: String,
    pub name: String,
    pub size: u64,
    pub mime: String,
}

/// The media type a file name's extension says.
fn mime_of(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "bmp" => "image/bmp",
        "pdf" => "application/pdf",
        "json" => "application/json",
        "zip" => "application/zip",
        "txt" | "log" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "xml" => "application/xml",
        "yaml" | "yml" => "application/yaml",
        "toml" => "application/toml",
        "rs" | "py" | "js" | "ts" | "go" | "c" | "h" | "cpp" | "java" | "rb" | "sh" | "css" => {
            "text/plain"
        }
        _ => "application/octet-stream",
    }
}

/// Upload a chat attachment: the raw bytes (at most 20 MiB) as the body.
#[utoipa::path(post, path = "/instances/{id}/attachments", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id (`ai_…`)"), AttachmentQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = AttachmentBody),
              (status = 400, description = "Bad name or an empty file", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, description = "Larger than 20 MiB", body = ErrorBody)))]
pub async fn attachment_add(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<AttachmentQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    find(&state, &id).await?;
    let bytes = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "an attachment is at most 20 MiB",
            )
        } else {
            ApiError::new(r.status(), r.body_text())
        }
    })?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the attachment is empty"));
    }
    let name = query.name.trim();
    let att = state
        .agents
        .store
        .add_attachment(&id, name, mime_of(name), &bytes)
        .await?;
    Ok((StatusCode::CREATED, Json(att)))
}
