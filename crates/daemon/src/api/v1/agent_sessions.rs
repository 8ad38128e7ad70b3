//! Coding-agent sessions on REST (`/instances/{id}/sessions`, `/sessions/…`):
//! list and create, the transcript, the live stream (SSE), turns, stop,
//! resume, fork, archive, delete, per-session settings, the workspace's
//! files, and the tool-call approvals and questions the agent raises. Also
//! the loopback hook the agent's approval helper calls
//! (`POST /_mcp/sessions/{sid}/approve`), which puts each request in the
//! daemon's one approvals queue and answers with the owner's verdict.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Component, Path as FsPath, PathBuf};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;
use holdfast_core::agents::{Archived, NewSession, Session, valid_id};
use holdfast_core::approvals::{
    ApprovalError, ApprovalKind, ApprovalView, Decision, NewApproval, Requester,
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::agents::runner::{RunError, Turn};
use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiJsonOrEmpty, ApiQuery};
use crate::api::v1::events::sse_from;
use crate::http::download;
use crate::state::AppState;

/// How long a tool call waits for the owner before it is denied.
const APPROVAL_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Longest user turn, in bytes.
const MAX_TURN_BYTES: usize = 256 * 1024;
/// Files listed from a workspace at most.
const MAX_FILES: usize = 2000;
/// Folders walked at most when listing a workspace.
const MAX_DIRS: usize = 5000;

impl From<RunError> for ApiError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Store(s) => s.into(),
            RunError::Busy => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            RunError::Unavailable(m) => ApiError::new(StatusCode::CONFLICT, m),
            RunError::BadRequest(m) => ApiError::bad_request(m),
        }
    }
}

fn check_instance(id: &str) -> ApiResult<()> {
    if valid_id(id, "ai_") {
        Ok(())
    } else {
        Err(ApiError::not_found("no such agent instance"))
    }
}

fn check_session(sid: &str) -> ApiResult<()> {
    if valid_id(sid, "as_") {
        Ok(())
    } else {
        Err(ApiError::not_found("no such session"))
    }
}

fn client_id(sid: &str) -> String {
    format!("agent-session:{sid}")
}

/// The session's pending approvals in the one queue.
fn pending(state: &AppState, sid: &str) -> Vec<ApprovalView> {
    let cid = client_id(sid);
    state
        .approvals
        .list()
        .into_iter()
        .filter(|a| a.requester.client_id.as_deref() == Some(cid.as_str()))
        .collect()
}

fn approval_json(a: &ApprovalView) -> Value {
    let d = &a.details;
    let mut v = json!({
        "id": a.id,
        "session_id": d["session_id"],
        "kind": if a.kind == ApprovalKind::AgentQuestion { "question" } else { "tool_call" },
        "tool_name": d["tool_name"],
        "input": d["input"],
        "preview": d["preview"],
        "created_ms": a.created_ms,
        "deadline_ms": a.deadline_ms,
        "state": a.state,
    });
    if a.kind == ApprovalKind::AgentQuestion {
        v["questions"] = d["input"]["questions"].clone();
    }
    v
}

/// A session as the API shows it: with its pending approvals counted.
fn view(state: &AppState, mut s: Session) -> Value {
    s.pending_approvals = pending(state, &s.id).len();
    serde_json::to_value(s).unwrap_or(Value::Null)
}

async fn view_of(state: &AppState, sid: &str) -> ApiResult<Value> {
    let s = state.agents.store.session(sid).await?;
    Ok(view(state, s))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// `false` (default): hide archived; `true`: only archived; `all`.
    archived: Option<String>,
}

/// An instance's sessions, newest first.
#[utoipa::path(get, path = "/instances/{id}/sessions", tag = "agents",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id"), ListQuery),
    responses(
        (status = 200, description = "{sessions: [Session]}"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    check_instance(&id)?;
    let which = match q.archived.as_deref() {
        None | Some("false") => Archived::Hide,
        Some("true") => Archived::Only,
        Some("all") => Archived::All,
        Some(_) => return Err(ApiError::bad_request("archived: false, true or all")),
    };
    let sessions = state.agents.store.sessions(&id, which).await?;
    let mut out = Vec::with_capacity(sessions.len());
    for s in sessions {
        out.push(view(&state, s));
    }
    Ok(Json(json!({ "sessions": out })))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    title: Option<String>,
    /// One of the instance's registered workspaces.
    workspace: Option<String>,
    model: Option<String>,
    system_prompt: Option<String>,
    /// default | acceptEdits | plan | bypassPermissions
    permission_mode: Option<String>,
    /// When given, the first turn starts at once.
    prompt: Option<String>,
}

/// Create a session (and start its first turn when `prompt` is given).
#[utoipa::path(post, path = "/instances/{id}/sessions", tag = "agents",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Instance id")),
    request_body = CreateBody,
    responses(
        (status = 201, description = "The session"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<CreateBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    check_instance(&id)?;
    if let Some(p) = &body.prompt {
        check_turn(p)?;
    }
    let session = state
        .agents
        .store
        .create_session(
            &id,
            NewSession {
                title: body.title,
                workspace: body.workspace,
                model: body.model,
                system_prompt: body.system_prompt,
                permission_mode: body.permission_mode,
                forked_from: None,
            },
        )
        .await?;
    // A first turn that cannot start leaves the session (201) with the
    // reason on it: the owner fixes the cause and sends again.
    if let Some(text) = body.prompt
        && let Err(e) = state
            .agents
            .runner
            .send(
                &session.id,
                Turn {
                    text,
                    files: Vec::new(),
                },
            )
            .await
    {
        let msg = e.to_string();
        state
            .agents
            .store
            .set_status(&session.id, "error", Some(&msg))
            .await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(view_of(&state, &session.id).await?),
    ))
}

/// One session.
#[utoipa::path(get, path = "/sessions/{sid}", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id")),
    responses((status = 200, description = "The session"), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, Path(sid): Path<String>) -> ApiResult<Json<Value>> {
    check_session(&sid)?;
    Ok(Json(view_of(&state, &sid).await?))
}

/// Drop a session entirely: its run is stopped, its transcript deleted.
#[utoipa::path(delete, path = "/sessions/{sid}", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(sid): Path<String>,
) -> ApiResult<StatusCode> {
    check_session(&sid)?;
    state.agents.store.session(&sid).await?;
    state.agents.runner.stop(&sid).await;
    state.agents.store.delete_session(&sid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct TranscriptQuery {
    /// Only messages after this seq (default 0: from the start).
    after: Option<i64>,
    /// At most this many (1-5000, default 1000).
    limit: Option<i64>,
}

/// The message history, in order.
#[utoipa::path(get, path = "/sessions/{sid}/transcript", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id"), TranscriptQuery),
    responses(
        (status = 200, description = "{messages: [Message], total}"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn transcript(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    ApiQuery(q): ApiQuery<TranscriptQuery>,
) -> ApiResult<Json<Value>> {
    check_session(&sid)?;
    let after = q.after.unwrap_or(0);
    let limit = q.limit.unwrap_or(1000);
    if after < 0 || !(1..=5000).contains(&limit) {
        return Err(ApiError::bad_request("after: ≥ 0; limit: 1 to 5000"));
    }
    let (messages, total) = state.agents.store.transcript(&sid, after, limit).await?;
    Ok(Json(json!({ "messages": messages, "total": total })))
}

/// The live stream: messages as the agent produces them, status changes
/// and approvals. Accepts `?token=`.
#[utoipa::path(get, path = "/sessions/{sid}/events", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id"),
        ("token" = Option<String>, Query, description = "Bearer, for EventSource")),
    responses(
        (status = 200, description = "text/event-stream of {type, session_id, …}", content_type = "text/event-stream"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn events(
    State(state): State<AppState>,
    Path(sid): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    check_session(&sid)?;
    let session = state.agents.store.session(&sid).await?;
    let rx = state.agents.runner.subscribe(&sid);
    let hello = json!({"type": "status", "session_id": sid, "status": session.status, "error": session.error});
    let first = Event::default().event("status").data(hello.to_string());
    Ok(sse_from(first, rx, state.shutdown.clone()))
}

fn check_turn(text: &str) -> ApiResult<()> {
    if text.trim().is_empty() || text.len() > MAX_TURN_BYTES || text.contains('\0') {
        return Err(ApiError::bad_request(
            "text: a message of 1 byte to 256 KiB",
        ));
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    text: String,
    /// Attachment ids from `POST /instances/{id}/attachments`.
    #[serde(default)]
    attachments: Vec<String>,
}

/// Send a user turn: the agent starts on it (202; follow `/events`).
#[utoipa::path(post, path = "/sessions/{sid}/messages", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id")),
    request_body = MessageBody,
    responses(
        (status = 202, description = "The session, now running"),
        (status = 400, body = ErrorBody), (status = 403, description = "Identity locked", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "A turn is running, or the agent is not installed", body = ErrorBody),
    ))]
pub async fn send(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    ApiJson(body): ApiJson<MessageBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    check_session(&sid)?;
    check_turn(&body.text)?;
    let session = state.agents.store.session(&sid).await?;
    if body.attachments.len() > 20 {
        return Err(ApiError::bad_request("attachments: at most 20"));
    }
    let mut files = Vec::new();
    for aid in &body.attachments {
        if !valid_id(aid, "at_") {
            return Err(ApiError::bad_request(format!(
                "attachments: {aid} is not an attachment id"
            )));
        }
        let (name, path) = state
            .agents
            .store
            .attachment(&session.instance_id, aid)
            .await
            .map_err(|_| {
                ApiError::bad_request(format!("attachments: no attachment {aid} on this instance"))
            })?;
        files.push((name, path));
    }
    state
        .agents
        .runner
        .send(
            &sid,
            Turn {
                text: body.text,
                files,
            },
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(view_of(&state, &sid).await?)))
}

/// Cancel the current run: the agent and what it started are stopped.
#[utoipa::path(post, path = "/sessions/{sid}/stop", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id")),
    responses((status = 200, description = "The session"), (status = 404, body = ErrorBody)))]
pub async fn stop(
    State(state): State<AppState>,
    Path(sid): Path<String>,
) -> ApiResult<Json<Value>> {
    check_session(&sid)?;
    state.agents.store.session(&sid).await?;
    state.agents.runner.stop(&sid).await;
    Ok(Json(view_of(&state, &sid).await?))
}

/// Hide a session from the list.
#[utoipa::path(post, path = "/sessions/{sid}/archive", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id")),
    responses((status = 200, description = "The session"), (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    Path(sid): Path<String>,
) -> ApiResult<Json<Value>> {
    check_session(&sid)?;
    let s = state.agents.store.set_archived(&sid, true).await?;
    Ok(Json(view(&state, s)))
}

/// Show an archived session again.
#[utoipa::path(post, path = "/sessions/{sid}/unarchive", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id")),
    responses((status = 200, description = "The session"), (status = 404, body = ErrorBody)))]
pub async fn unarchive(
    State(state): State<AppState>,
    Path(sid): Path<String>,
) -> ApiResult<Json<Value>> {
    check_session(&sid)?;
    let s = state.agents.store.set_archived(&sid, false).await?;
    Ok(Json(view(&state, s)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ResumeBody {
    /// A turn to continue with at once.
    text: Option<String>,
}

/// Re-attach to a stopped or failed session: it becomes idle (its agent
/// context is kept), and with `text` the next turn starts.
#[utoipa::path(post, path = "/sessions/{sid}/resume", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id")),
    request_body = ResumeBody,
    responses(
        (status = 200, description = "The session"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "A turn is running, or the agent is not installed", body = ErrorBody),
    ))]
pub async fn resume(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<ResumeBody>,
) -> ApiResult<Json<Value>> {
    check_session(&sid)?;
    let s = state.agents.store.session(&sid).await?;
    if let Some(t) = &body.text {
        check_turn(t)?;
    }
    if !state.agents.runner.is_running(&sid) && matches!(s.status.as_str(), "stopped" | "error") {
        state.agents.store.set_status(&sid, "idle", None).await?;
    }
    if let Some(text) = body.text {
        state
            .agents
            .runner
            .send(
                &sid,
                Turn {
                    text,
                    files: Vec::new(),
                },
            )
            .await?;
    }
    Ok(Json(view_of(&state, &sid).await?))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ForkBody {
    /// The last transcript message the fork keeps (default: all of them).
    seq: Option<i64>,
    title: Option<String>,
}

/// Branch a new session from a transcript point: the transcript up to
/// `seq`, and the agent's own context up to the same point.
#[utoipa::path(post, path = "/sessions/{sid}/fork", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id")),
    request_body = ForkBody,
    responses(
        (status = 201, description = "The new session"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn fork(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<ForkBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    check_session(&sid)?;
    let src = state.agents.store.session(&sid).await?;
    let upto = body.seq.unwrap_or(src.message_count);
    if upto < 1 || upto > src.message_count {
        return Err(ApiError::bad_request(format!(
            "seq: a message of this session (1 to {})",
            src.message_count
        )));
    }
    let title = match body.title {
        Some(t) => t,
        None => {
            let base: String = src.title.chars().take(80).collect();
            format!("{base} (fork)")
        }
    };
    let forked = crate::agents::fork::fork(&state.agents.store, &src, upto, &title).await?;
    Ok((StatusCode::CREATED, Json(view(&state, forked))))
}

/// Per-session settings: model, system prompt, permission mode, title.
#[utoipa::path(patch, path = "/sessions/{sid}/settings", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id")),
    request_body(content = Object, description = "{title?, model?, system_prompt?, permission_mode?}"),
    responses(
        (status = 200, description = "The session"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn settings(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    check_session(&sid)?;
    let s = state.agents.store.patch_session(&sid, &body).await?;
    Ok(Json(view(&state, s)))
}

#[derive(Deserialize, IntoParams)]
pub struct FilesQuery {
    /// A file of the workspace (relative): download it. Absent: list.
    path: Option<String>,
}

/// The workspace's files (newest first), or one file's bytes. Accepts
/// `?token=`.
#[utoipa::path(get, path = "/sessions/{sid}/files", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id"), FilesQuery,
        ("token" = Option<String>, Query, description = "Bearer, for <a download>")),
    responses(
        (status = 200, description = "{files: [{path, size, modified_ms}]} or the file"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn files(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    ApiQuery(q): ApiQuery<FilesQuery>,
) -> ApiResult<Response> {
    check_session(&sid)?;
    let s = state.agents.store.session(&sid).await?;
    let root = match &s.workspace {
        Some(w) => PathBuf::from(w),
        None => state.agents.store.session_dir(&sid).join("workspace"),
    };
    match q.path {
        None => {
            let listed = tokio::task::spawn_blocking(move || list_files(&root))
                .await
                .map_err(ApiError::internal)?;
            Ok(Json(json!({ "files": listed })).into_response())
        }
        Some(rel) => download(&root, &rel).await,
    }
}

/// Files under `root`, newest first, skipping `.git`; bounded.
fn list_files(root: &FsPath) -> Vec<Value> {
    let mut found: Vec<(i64, String, u64)> = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    let mut walked = 0;
    while let Some(dir) = dirs.pop() {
        walked += 1;
        if walked > MAX_DIRS {
            break;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            let path = e.path();
            if ft.is_dir() {
                if e.file_name() != ".git" {
                    dirs.push(path);
                }
            } else if ft.is_file()
                && let Ok(meta) = e.metadata()
                && let Ok(rel) = path.strip_prefix(root)
            {
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0);
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                found.push((modified, rel, meta.len()));
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    found
        .into_iter()
        .take(MAX_FILES)
        .map(|(m, p, size)| json!({"path": p, "size": size, "modified_ms": m}))
        .collect()
}

/// One workspace file: relative, inside the workspace after symlinks.
async fn download(root: &FsPath, rel: &str) -> ApiResult<Response> {
    let bad = || ApiError::bad_request("path: a file inside the workspace, relative");
    if rel.is_empty() || rel.len() > 4096 || rel.contains('\0') {
        return Err(bad());
    }
    let p = FsPath::new(rel);
    if p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(bad());
    }
    let root_c = std::fs::canonicalize(root).map_err(|_| ApiError::not_found("no such file"))?;
    let full =
        std::fs::canonicalize(root.join(p)).map_err(|_| ApiError::not_found("no such file"))?;
    if !full.starts_with(&root_c) || !full.is_file() {
        return Err(ApiError::not_found("no such file"));
    }
    let file = tokio::fs::File::open(&full)
        .await
        .map_err(|_| ApiError::not_found("no such file"))?;
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let name = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        "application/octet-stream".parse().expect("valid"),
    );
    headers.insert(header::CONTENT_LENGTH, len.into());
    headers.insert(header::CONTENT_DISPOSITION, download::attachment(&name));
    headers.insert("x-content-type-options", "nosniff".parse().expect("valid"));
    Ok((headers, body).into_response())
}

/// The session's tool calls and questions waiting for the owner.
#[utoipa::path(get, path = "/sessions/{sid}/approvals", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id")),
    responses((status = 200, description = "{approvals: [Approval]}"), (status = 404, body = ErrorBody)))]
pub async fn approvals(
    State(state): State<AppState>,
    Path(sid): Path<String>,
) -> ApiResult<Json<Value>> {
    check_session(&sid)?;
    state.agents.store.session(&sid).await?;
    let list: Vec<Value> = pending(&state, &sid).iter().map(approval_json).collect();
    Ok(Json(json!({ "approvals": list })))
}

fn find_pending(state: &AppState, sid: &str, aid: &str) -> ApiResult<ApprovalView> {
    pending(state, sid)
        .into_iter()
        .find(|a| a.id == aid)
        .ok_or_else(|| ApiError::not_found("no such pending approval in this session"))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// allow | deny
    decision: String,
    /// Told to the agent with a denial.
    message: Option<String>,
}

/// Allow or deny one tool call.
#[utoipa::path(post, path = "/sessions/{sid}/approvals/{aid}", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id"), ("aid" = String, Path, description = "Approval id")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "{id, decision}"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn decide(
    State(state): State<AppState>,
    Path((sid, aid)): Path<(String, String)>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<Value>> {
    check_session(&sid)?;
    let allow = match body.decision.as_str() {
        "allow" => true,
        "deny" => false,
        _ => return Err(ApiError::bad_request("decision: allow or deny")),
    };
    if body.message.as_ref().is_some_and(|m| m.len() > 4096) {
        return Err(ApiError::bad_request("message: at most 4 KiB"));
    }
    find_pending(&state, &sid, &aid)?;
    if let (false, Some(m)) = (allow, body.message) {
        state
            .agents
            .runner
            .set_answers(&aid, json!({ "message": m }));
    }
    answer(&state, &aid, allow)?;
    Ok(Json(json!({"id": aid, "decision": body.decision})))
}

fn answer(state: &AppState, aid: &str, allow: bool) -> ApiResult<()> {
    let decision = if allow {
        Decision::allow()
    } else {
        Decision::Deny
    };
    state.approvals.answer(aid, decision).map_err(|e| match e {
        ApprovalError::NotFound => ApiError::not_found("no such pending approval"),
        other => ApiError::internal(other),
    })?;
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    /// `{"<question>": "<chosen label(s)>"}`
    answers: Option<serde_json::Map<String, Value>>,
    /// A free answer, for every question.
    text: Option<String>,
}

/// Answer an agent's question.
#[utoipa::path(post, path = "/sessions/{sid}/questions/{qid}/reply", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id"), ("qid" = String, Path, description = "Question id")),
    request_body = ReplyBody,
    responses(
        (status = 200, description = "{id, answered: true}"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn reply(
    State(state): State<AppState>,
    Path((sid, qid)): Path<(String, String)>,
    ApiJson(body): ApiJson<ReplyBody>,
) -> ApiResult<Json<Value>> {
    check_session(&sid)?;
    let q = find_pending(&state, &sid, &qid)?;
    if q.kind != ApprovalKind::AgentQuestion {
        return Err(ApiError::bad_request(
            "that approval is a tool call, not a question",
        ));
    }
    let questions: Vec<String> = q.details["input"]["questions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["question"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let answers = match (body.answers, body.text) {
        (Some(a), None) => {
            if a.len() > 32
                || a.values()
                    .any(|v| !v.as_str().is_some_and(|s| !s.is_empty() && s.len() <= 4096))
            {
                return Err(ApiError::bad_request("answers: strings of at most 4 KiB"));
            }
            if let Some(k) = a.keys().find(|k| !questions.contains(k)) {
                return Err(ApiError::bad_request(format!(
                    "answers: '{k}' is not one of the questions"
                )));
            }
            a
        }
        (None, Some(t)) if !t.trim().is_empty() && t.len() <= 4096 => questions
            .iter()
            .map(|q| (q.clone(), Value::String(t.clone())))
            .collect(),
        _ => return Err(ApiError::bad_request("give answers (an object) or text")),
    };
    state
        .agents
        .runner
        .set_answers(&qid, json!({ "answers": answers }));
    answer(&state, &qid, true)?;
    Ok(Json(json!({"id": qid, "answered": true})))
}

/// Skip an agent's question (the agent is told the owner declined).
#[utoipa::path(post, path = "/sessions/{sid}/questions/{qid}/reject", tag = "agents",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "Session id"), ("qid" = String, Path, description = "Question id")),
    responses((status = 200, description = "{id, answered: false}"), (status = 404, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    Path((sid, qid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    check_session(&sid)?;
    find_pending(&state, &sid, &qid)?;
    answer(&state, &qid, false)?;
    Ok(Json(json!({"id": qid, "answered": false})))
}

#[derive(Deserialize, ToSchema)]
pub struct HookBody {
    tool_name: String,
    #[serde(default)]
    input: Value,
    tool_use_id: Option<String>,
}

/// The agent's approval helper asks about one tool call (loopback only,
/// bound to the running session by its secret). Waits for the owner.
#[utoipa::path(post, path = "/_mcp/sessions/{sid}/approve", tag = "agents",
    params(("sid" = String, Path, description = "Session id"),
        ("X-Holdfast-Session-Secret" = String, Header, description = "The run's secret")),
    request_body = HookBody,
    responses(
        (status = 200, description = "{behavior: allow, updatedInput} or {behavior: deny, message}"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn hook(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<HookBody>,
) -> ApiResult<Json<Value>> {
    let secret = headers
        .get("x-holdfast-session-secret")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !peer.ip().is_loopback()
        || !valid_id(&sid, "as_")
        || !state.agents.runner.check_secret(&sid, secret)
    {
        return Err(ApiError::forbidden(
            "not a running agent session of this daemon",
        ));
    }
    if body.tool_name.is_empty() || body.tool_name.len() > 256 {
        return Err(ApiError::bad_request("tool_name: 1 to 256 characters"));
    }
    let session = state.agents.store.session(&sid).await?;
    let instance = state.agents.store.instance(&session.instance_id).await?;
    let question = body.tool_name == "AskUserQuestion";
    let preview = holdfast_core::agents::claude_stream::tool_preview(&body.tool_name, &body.input);
    let new = NewApproval {
        kind: if question {
            ApprovalKind::AgentQuestion
        } else {
            ApprovalKind::ToolCall
        },
        requester: Requester {
            app_name: instance.name.clone(),
            client_id: Some(client_id(&sid)),
            verified: true,
            ..Requester::default()
        },
        reason: Some(format!(
            "{} · {}",
            instance.kind.display_name(),
            session.title
        )),
        details: json!({
            "session_id": sid,
            "session_title": session.title,
            "instance_id": instance.id,
            "agent": instance.kind.display_name(),
            "workspace": session.workspace,
            "tool_name": body.tool_name,
            "tool_use_id": body.tool_use_id,
            "input": body.input,
            "preview": preview,
        }),
        grant_allowed: false,
        timeout: APPROVAL_TIMEOUT,
    };
    let runner = state.agents.runner.clone();
    let aid = holdfast_core::approvals::Approvals::new_id();
    runner.set_waiting(&sid, true).await;
    let asked = state.approvals.clone();
    let wait = asked.request_as(aid.clone(), new);
    // Announce on the session's stream once the request is in the queue.
    let announce = {
        let state = state.clone();
        let (sid, aid) = (sid.clone(), aid.clone());
        async move {
            tokio::task::yield_now().await;
            if let Some(a) = pending(&state, &sid).into_iter().find(|a| a.id == aid) {
                state.agents.runner.publish(
                    &sid,
                    json!({"type": "approval", "approval": approval_json(&a)}),
                );
            }
        }
    };
    let (outcome, ()) = tokio::join!(wait, announce);
    runner.set_waiting(&sid, false).await;
    let extra = runner.take_answers(&aid);
    let verdict = match outcome {
        Ok(_) => {
            let mut input = body.input.clone();
            if let (Some(a), Some(obj)) = (
                extra.and_then(|e| e.get("answers").cloned()),
                input.as_object_mut(),
            ) {
                obj.insert("answers".into(), a);
            }
            json!({"behavior": "allow", "updatedInput": input})
        }
        Err(ApprovalError::Denied) => {
            let msg = extra
                .and_then(|e| e.get("message").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| {
                    if question {
                        "The owner skipped this question.".into()
                    } else {
                        "The owner denied this tool call.".into()
                    }
                });
            json!({"behavior": "deny", "message": msg})
        }
        Err(ApprovalError::Timeout) => {
            json!({"behavior": "deny", "message": "Nobody answered in time; the tool call was not run."})
        }
        Err(e) => json!({"behavior": "deny", "message": e.to_string()}),
    };
    runner.publish(
        &sid,
        json!({"type": "approval_resolved", "id": aid, "decision": verdict["behavior"]}),
    );
    Ok(Json(verdict))
}
