//! Instances used from another device of the mesh, over the swarm only
//! (`/holdfast/agents/1`, `holdfast_core::agents::remote`); no port is
//! opened to the world.
//!
//! Host side ([`spawn_host`]): each stream presents an instance's access
//! key and one request. The key is checked in constant time, the path must
//! be one of that instance's own routes (`/api/v1/instances/{id}/…`, or
//! `/api/v1/sessions/{sid}[/…]` of one of its sessions), and the request
//! then runs through this daemon's own REST router in-process, marked with
//! [`MeshCaller`] (which the bearer gate honours: only code in this process
//! can put an extension on a request). The response streams back chunk by
//! chunk, so `/sessions/{sid}/events` (SSE) works across the mesh.
//! Resetting the key ([`RemoteState::revoke`]) refuses the old key from then
//! on and cuts the streams that were opened with it.
//!
//! Client side ([`forward_layer`], a route layer on the protected routes):
//! a request for a remote instance's routes (`/instances/{id}/…` where `id`
//! is the local id of a remote instance), or for a session of one, goes
//! over a stream to the host instead of the local handlers, with the
//! host's instance id in place of the local one (and back in the answer).
//! Session ids are the host's own and pass through; the client learns
//! which remote instance a session id belongs to from the answers it
//! forwards, and after a restart by asking each remote instance's host.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use holdfast_core::agents::remote::{
    self as wire, Access, MAX_BODY, PROTOCOL, RequestHead, ResponseHead,
};
use holdfast_core::agents::{AgentStore, AgentsError, valid_id};
use holdfast_core::identity::crypto::Key;
use holdfast_core::mesh::services::Stream;
use libp2p_identity::PeerId;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::api::ApiError;
use crate::state::AppState;

/// Streams served at once; more wait their turn at the mesh.
const MAX_SERVED: usize = 256;
/// Time a member has to send its whole request.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Time to reach a host and open a stream.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a host has to start its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);
/// Time one host has to say whether a session is its own.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest JSON answer the client rewrites in memory.
const MAX_JSON_ANSWER: usize = 64 * 1024 * 1024;
/// Session ids remembered per daemon run (cleared when full; the lookup
/// refills it).
const MAX_KNOWN_SESSIONS: usize = 10_000;
/// Request headers carried to the host.
const REQUEST_HEADERS: &[&str] = &["content-type", "accept", "last-event-id"];
/// Response headers carried back.
const RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "cache-control",
    "content-disposition",
    "x-accel-buffering",
];

/// Marks a request that the mesh service runs in-process on behalf of a
/// device that presented an instance's access key. The bearer gate lets it
/// through; a network client cannot set it.
#[derive(Debug, Clone)]
pub struct MeshCaller {
    pub peer: String,
    pub instance_id: String,
}

/// The seal key agents secrets live under (the identity must be unlocked).
pub fn seal_key(state: &AppState) -> Result<Key, ApiError> {
    crate::agents::AgentsState::seal_key(&state.identity)
}

/// Shared by the host service, the routes and the forward layer.
#[derive(Clone)]
pub struct RemoteState {
    store: AgentStore,
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Per local instance: cancelled when its access key is reset.
    generations: Mutex<HashMap<String, CancellationToken>>,
    /// Host session id → local id of the remote instance it belongs to.
    sessions: Mutex<HashMap<String, String>>,
}

impl RemoteState {
    pub fn new(store: AgentStore) -> Self {
        Self {
            store,
            inner: Arc::default(),
        }
    }

    pub fn store(&self) -> &AgentStore {
        &self.store
    }

    /// The token streams of `instance` are served under.
    fn generation(&self, instance: &str) -> CancellationToken {
        self.inner
            .generations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(instance.to_owned())
            .or_default()
            .clone()
    }

    /// Cut every stream served for `instance` (its key was reset or it is
    /// gone); later streams get a fresh token.
    pub fn revoke(&self, instance: &str) {
        if let Some(t) = self
            .inner
            .generations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(instance)
        {
            t.cancel();
        }
    }

    fn forget(&self, instance: &str) {
        self.inner
            .generations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(instance);
    }

    fn known_session(&self, sid: &str) -> Option<String> {
        self.inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(sid)
            .cloned()
    }

    fn remember_sessions(&self, local_instance: &str, sids: impl IntoIterator<Item = String>) {
        let mut m = self
            .inner
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for sid in sids {
            if m.len() >= MAX_KNOWN_SESSIONS {
                m.clear();
            }
            m.insert(sid, local_instance.to_owned());
        }
    }
}

fn agents_err(e: AgentsError) -> ApiError {
    e.into()
}

// ---------------------------------------------------------------- host side

/// Serve `/holdfast/agents/1` for as long as the daemon runs, through
/// `router` (the REST router, reached in-process at `api_addr`).
pub fn spawn_host(state: AppState, router: Router, api_addr: SocketAddr) {
    let mut incoming = match state.mesh.accept_protocol(PROTOCOL) {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(error = %e, "remote agent access is off");
            return;
        }
    };
    let host = if api_addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", api_addr.port())
    } else {
        api_addr.to_string()
    };
    let Ok(host) = HeaderValue::from_str(&host) else {
        return;
    };
    let permits = Arc::new(Semaphore::new(MAX_SERVED));
    let shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => break,
                n = incoming.next() => n,
            };
            let Some((peer, stream)) = next else { break };
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let (state, router, host) = (state.clone(), router.clone(), host.clone());
            tokio::spawn(async move {
                if let Err(e) = serve_one(&state, router, host, peer, stream).await {
                    tracing::debug!(%peer, error = %e, "agent access stream ended");
                }
                drop(permit);
            });
        }
    });
}

async fn serve_one(
    state: &AppState,
    router: Router,
    host: HeaderValue,
    peer: PeerId,
    mut stream: Stream,
) -> std::io::Result<()> {
    let read = async {
        let head: RequestHead = wire::read_head(&mut stream).await?;
        head.check()?;
        let body = wire::read_body(&mut stream, head.body_len).await?;
        Ok::<_, std::io::Error>((head, body))
    };
    let (head, body) = match tokio::time::timeout(READ_TIMEOUT, read).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
            let answer = ApiError::bad_request(format!("a malformed request: {e}"));
            return answer_error(&mut stream, answer).await;
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(std::io::Error::other("the request did not arrive in time")),
    };
    // Taken before the key check, so a reset that lands after the check
    // still cuts this stream.
    let generation = state.agent_remote.generation(&head.instance_id);
    if let Err(refusal) = authorise(state, &head).await {
        tracing::debug!(%peer, request = %head, status = %refusal.status, "agent access refused");
        return answer_error(&mut stream, refusal).await;
    }
    tracing::debug!(%peer, request = %head, "agent access");
    let mut req = Request::new(Body::from(body));
    *req.method_mut() = Method::from_bytes(head.method.as_bytes())
        .map_err(|_| std::io::Error::other("bad method"))?;
    *req.uri_mut() = head
        .path
        .parse()
        .map_err(|_| std::io::Error::other("bad path"))?;
    let headers = req.headers_mut();
    headers.insert(header::HOST, host);
    for (k, v) in &head.headers {
        if REQUEST_HEADERS.contains(&k.to_ascii_lowercase().as_str())
            && let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v))
        {
            headers.insert(k, v);
        }
    }
    req.extensions_mut().insert(MeshCaller {
        peer: peer.to_string(),
        instance_id: head.instance_id.clone(),
    });
    let resp = match router.oneshot(req).await {
        Ok(r) => r,
        Err(e) => match e {},
    };
    let out = ResponseHead {
        status: resp.status().as_u16(),
        headers: pick_headers(resp.headers()),
    };
    wire::write_head(&mut stream, &out).await?;
    let mut body = resp.into_body().into_data_stream();
    loop {
        tokio::select! {
            _ = generation.cancelled() => {
                // The key was reset: end the stream without its end mark.
                return Ok(());
            }
            next = body.next() => match next {
                Some(Ok(bytes)) if bytes.is_empty() => {}
                Some(Ok(bytes)) => wire::write_chunk(&mut stream, &bytes).await?,
                Some(Err(e)) => return Err(std::io::Error::other(e.to_string())),
                None => break,
            }
        }
    }
    wire::write_end(&mut stream).await?;
    futures_util::AsyncWriteExt::close(&mut stream).await
}

fn pick_headers(h: &axum::http::HeaderMap) -> Vec<(String, String)> {
    RESPONSE_HEADERS
        .iter()
        .filter_map(|name| {
            let v = h.get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), v.to_owned()))
        })
        .collect()
}

async fn answer_error(stream: &mut Stream, e: ApiError) -> std::io::Result<()> {
    let status = e.status.as_u16();
    let body = serde_json::to_vec(&serde_json::json!({"error": e.message})).unwrap_or_default();
    let head = ResponseHead {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
    };
    wire::write_head(stream, &head).await?;
    wire::write_chunk(stream, &body).await?;
    wire::write_end(stream).await?;
    futures_util::AsyncWriteExt::close(stream).await
}

/// The key, then the path: only the instance's own routes.
async fn authorise(state: &AppState, head: &RequestHead) -> Result<(), ApiError> {
    let store = state.agent_remote.store();
    let key = seal_key(state).map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the device hosting this instance is locked: unlock Holdfast there",
        )
    })?;
    match store
        .check_access(&key, &head.instance_id, &head.key)
        .await
        .map_err(agents_err)?
    {
        Access::Granted => {}
        Access::NoInstance => {
            // Keep no token for made-up ids.
            state.agent_remote.forget(&head.instance_id);
            return Err(ApiError::not_found("no such agent instance"));
        }
        Access::Refused => {
            return Err(ApiError::forbidden(
                "this share link is no longer valid: ask the device hosting the instance for a new one",
            ));
        }
    }
    let path = head.path.split('?').next().unwrap_or("");
    let segs: Vec<&str> = path
        .strip_prefix("/api/v1/")
        .unwrap_or("")
        .split('/')
        .collect();
    let allowed =
        || ApiError::forbidden("a share link reaches only its own instance's routes and sessions");
    if segs
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == ".." || s.contains('%'))
    {
        return Err(allowed());
    }
    match segs.as_slice() {
        ["instances", id] if *id == head.instance_id && head.method == "GET" => Ok(()),
        ["instances", id, sub, ..]
            if *id == head.instance_id && usable_route(&head.method, sub) =>
        {
            Ok(())
        }
        ["sessions", sid, ..] if valid_id(sid, "as_") => {
            match store.session_instance(sid).await.map_err(agents_err)? {
                Some(owner) if owner == head.instance_id => Ok(()),
                _ => Err(ApiError::not_found("no such session")),
            }
        }
        _ => Err(allowed()),
    }
}

/// The instance sub-routes a share link reaches: reading anything but the
/// link itself, and using the instance (sessions, attachments, looking for
/// its program again). Configuration (providers, MCP servers, workspaces,
/// sign-in) stays with the device that hosts it.
fn usable_route(method: &str, sub: &str) -> bool {
    !matches!(sub, "share-url" | "reset-key")
        && (method == "GET" || matches!(sub, "sessions" | "attachments" | "refresh-auth"))
}

// -------------------------------------------------------------- client side

enum Target {
    Instance(String),
    Session(String),
}

/// Which agent object a request names, if any: an instance's sub-route a
/// share link reaches (not the instance itself, which is the local record,
/// nor its configuration, which the local routes refuse for a remote
/// instance) or a session.
fn target_of(method: &Method, path: &str) -> Option<Target> {
    let rest = path.strip_prefix("/api/v1/")?;
    let segs: Vec<&str> = rest.split('/').collect();
    match segs.as_slice() {
        ["instances", id, sub, ..] if valid_id(id, "ai_") && usable_route(method.as_str(), sub) => {
            Some(Target::Instance((*id).to_owned()))
        }
        ["sessions", sid, ..] if valid_id(sid, "as_") => Some(Target::Session((*sid).to_owned())),
        _ => None,
    }
}

/// Route layer: requests for a remote instance or one of its sessions go to
/// its host; everything else to the local handlers.
pub async fn forward_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.extensions().get::<MeshCaller>().is_some() {
        // Served for a member: local only, never forwarded again.
        return next.run(req).await;
    }
    // Inside the `/api/v1` nest the URI lost its prefix: use the original.
    let uri = full_uri(&req);
    let Some(target) = target_of(req.method(), uri.path()) else {
        return next.run(req).await;
    };
    let remote = state.agent_remote.clone();
    let local_id = match target {
        Target::Instance(id) => match remote.store().is_remote(&id).await {
            Ok(true) => id,
            Ok(false) => return next.run(req).await,
            Err(e) => return agents_err(e).into_response(),
        },
        Target::Session(sid) => match session_owner(&state, &sid).await {
            Ok(Some(id)) => id,
            Ok(None) => return next.run(req).await,
            Err(e) => return e.into_response(),
        },
    };
    forward(&state, &local_id, req)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// The URI as the client sent it (`/api/v1/…`).
fn full_uri(req: &Request) -> axum::http::Uri {
    req.extensions()
        .get::<axum::extract::OriginalUri>()
        .map(|o| o.0.clone())
        .unwrap_or_else(|| req.uri().clone())
}

/// The remote instance a session id belongs to, when it is not a local
/// session: remembered from earlier answers, else asked of each host.
async fn session_owner(state: &AppState, sid: &str) -> Result<Option<String>, ApiError> {
    let remote = &state.agent_remote;
    if let Some(id) = remote.known_session(sid) {
        return Ok(Some(id));
    }
    let store = remote.store();
    if store
        .session_instance(sid)
        .await
        .map_err(agents_err)?
        .is_some()
    {
        return Ok(None);
    }
    let ids = store.remote_ids().await.map_err(agents_err)?;
    if ids.is_empty() {
        return Ok(None);
    }
    let path = format!("/api/v1/sessions/{sid}");
    let asks = ids.into_iter().map(|id| {
        let path = path.clone();
        async move {
            let ask = exchange(state, &id, "GET", &path, Vec::new(), Vec::new());
            match tokio::time::timeout(PROBE_TIMEOUT, ask).await {
                Ok(Ok((head, _))) if head.status == 200 => Some(id),
                _ => None,
            }
        }
    });
    let found = futures_util::future::join_all(asks)
        .await
        .into_iter()
        .flatten()
        .next();
    if let Some(id) = &found {
        remote.remember_sessions(id, [sid.to_owned()]);
    }
    Ok(found)
}

/// Open a stream to the host of local remote instance `local_id` and send
/// one request (`path` already carries the host's ids).
async fn exchange(
    state: &AppState,
    local_id: &str,
    method: &str,
    path: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<(ResponseHead, Stream), ApiError> {
    let key = seal_key(state)?;
    let Some((peer, remote_id, addrs, access_key)) = state
        .agent_remote
        .store()
        .remote_target(&key, local_id)
        .await
        .map_err(agents_err)?
    else {
        return Err(ApiError::not_found("no such agent instance"));
    };
    let peer: PeerId = peer
        .parse()
        .map_err(|_| ApiError::internal("a remote instance with a malformed host id"))?;
    let mut stream = state
        .mesh
        .open_stream(peer, &addrs, PROTOCOL, OPEN_TIMEOUT)
        .await
        .map_err(|e| match e {
            holdfast_core::mesh::MeshError::Offline => ApiError::from(e),
            other => ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("the device hosting this instance is not reachable: {other}"),
            ),
        })?;
    let head = RequestHead {
        key: access_key,
        instance_id: remote_id,
        method: method.to_owned(),
        path: path.to_owned(),
        headers,
        body_len: body.len() as u64,
    };
    head.check()
        .map_err(|e| ApiError::bad_request(format!("this request cannot be forwarded: {e}")))?;
    let talk = async {
        wire::write_head(&mut stream, &head).await?;
        futures_util::AsyncWriteExt::write_all(&mut stream, &body).await?;
        futures_util::AsyncWriteExt::flush(&mut stream).await?;
        let answer: ResponseHead = wire::read_head(&mut stream).await?;
        answer.check()?;
        Ok::<_, std::io::Error>(answer)
    };
    let lost = |e: String| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("the device hosting this instance did not answer: {e}"),
        )
    };
    let answer = match tokio::time::timeout(ANSWER_TIMEOUT, talk).await {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => return Err(lost(e.to_string())),
        Err(_) => return Err(lost("timed out".into())),
    };
    Ok((answer, stream))
}

/// Ask the host whether it takes remote instance `local_id`'s link:
/// `Some` with its refusal (403, 404) when it answers no; `None` when it
/// says yes or cannot be reached now.
pub async fn probe(state: &AppState, local_id: &str) -> Option<ApiError> {
    let remote_id = host_instance_id(state, local_id).await.ok()?;
    let path = format!("/api/v1/instances/{remote_id}");
    let ask = async {
        let (head, mut stream) = exchange(state, local_id, "GET", &path, Vec::new(), Vec::new())
            .await
            .ok()?;
        if !matches!(head.status, 403 | 404) {
            return None;
        }
        let mut body = Vec::new();
        while let Ok(Some(c)) = wire::read_chunk(&mut stream).await {
            if body.len() + c.len() > 64 * 1024 {
                break;
            }
            body.extend(c);
        }
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "the host refused this link".into());
        Some(ApiError::new(
            StatusCode::from_u16(head.status).unwrap_or(StatusCode::FORBIDDEN),
            message,
        ))
    };
    tokio::time::timeout(PROBE_TIMEOUT, ask)
        .await
        .ok()
        .flatten()
}

/// The host's id of a remote instance (for mapping ids in answers).
async fn host_instance_id(state: &AppState, local_id: &str) -> Result<String, ApiError> {
    let inst = state
        .agent_remote
        .store()
        .instance(local_id)
        .await
        .map_err(agents_err)?;
    inst.remote_id
        .ok_or_else(|| ApiError::not_found("no such agent instance"))
}

/// `path?query` for the host: its instance id in place of ours, and no
/// `token` (the bearer of this daemon stays here).
fn host_path(uri: &axum::http::Uri, local_id: &str, remote_id: &str) -> String {
    let path = uri.path().replacen(
        &format!("/instances/{local_id}"),
        &format!("/instances/{remote_id}"),
        1,
    );
    let Some(query) = uri.query() else {
        return path;
    };
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "token")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        return path;
    }
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    format!("{path}?{q}")
}

/// Session ids (`as_` + 32 hex) in a text.
fn session_ids(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(pos) = text[i..].find("as_") {
        let start = i + pos;
        let end = start + 35;
        if end <= b.len()
            && (start == 0 || !b[start - 1].is_ascii_alphanumeric())
            && valid_id(&text[start..end], "as_")
            && (end == b.len() || !b[end].is_ascii_alphanumeric())
        {
            out.push(text[start..end].to_owned());
            i = end;
        } else {
            i = start + 3;
        }
    }
    out.sort();
    out.dedup();
    out
}

async fn forward(state: &AppState, local_id: &str, req: Request) -> Result<Response, ApiError> {
    let remote_id = host_instance_id(state, local_id).await?;
    let uri = full_uri(&req);
    let (parts, body) = req.into_parts();
    let path = host_path(&uri, local_id, &remote_id);
    let headers: Vec<(String, String)> = REQUEST_HEADERS
        .iter()
        .filter_map(|n| {
            let v = parts.headers.get(*n)?.to_str().ok()?;
            Some(((*n).to_owned(), v.to_owned()))
        })
        .collect();
    let body = axum::body::to_bytes(body, MAX_BODY as usize)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large (at most 25 MiB)",
            )
        })?;
    let (answer, mut stream) = exchange(
        state,
        local_id,
        parts.method.as_str(),
        &path,
        headers,
        body.to_vec(),
    )
    .await?;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = answer
        .headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    let mut builder = Response::builder().status(status);
    for (k, v) in &answer.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let local = local_id.to_owned();
    let map_ids = move |text: &str| text.replace(&remote_id, &local);
    let body = if content_type.starts_with("application/json") {
        let mut all = Vec::new();
        loop {
            match wire::read_chunk(&mut stream).await {
                Ok(Some(c)) if all.len() + c.len() <= MAX_JSON_ANSWER => all.extend(c),
                Ok(Some(_)) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        "the host's answer is too large",
                    ));
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        format!("the host's answer broke off: {e}"),
                    ));
                }
            }
        }
        let text = String::from_utf8_lossy(&all);
        if status.is_success() {
            state
                .agent_remote
                .remember_sessions(local_id, session_ids(&text));
        }
        Body::from(map_ids(&text))
    } else if content_type.starts_with("text/event-stream") {
        Body::from_stream(event_stream(stream, map_ids))
    } else {
        Body::from_stream(raw_stream(stream))
    };
    builder
        .body(body)
        .map_err(|e| ApiError::internal(format!("building a forwarded answer: {e}")))
}

type Chunk = Result<Bytes, std::io::Error>;

/// The host's body as it comes.
fn raw_stream(stream: Stream) -> impl futures_util::Stream<Item = Chunk> + Send {
    futures_util::stream::unfold(Some(stream), |s| async move {
        let mut s = s?;
        match wire::read_chunk(&mut s).await {
            Ok(Some(c)) => Some((Ok(Bytes::from(c)), Some(s))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// Server-sent events line by line, with the host's instance id mapped to
/// ours.
fn event_stream<F>(stream: Stream, map: F) -> impl futures_util::Stream<Item = Chunk> + Send
where
    F: Fn(&str) -> String + Send + Sync + 'static,
{
    let map = Arc::new(map);
    futures_util::stream::unfold(Some((stream, Vec::<u8>::new())), move |st| {
        let map = map.clone();
        async move {
            let (mut s, mut pending) = st?;
            loop {
                if let Some(nl) = pending.iter().rposition(|b| *b == b'\n') {
                    let rest = pending.split_off(nl + 1);
                    let out = map(&String::from_utf8_lossy(&pending));
                    return Some((Ok(Bytes::from(out)), Some((s, rest))));
                }
                if pending.len() > wire::MAX_CHUNK as usize {
                    let out = std::mem::take(&mut pending);
                    return Some((Ok(Bytes::from(out)), Some((s, Vec::new()))));
                }
                match wire::read_chunk(&mut s).await {
                    Ok(Some(c)) => pending.extend(c),
                    Ok(None) if pending.is_empty() => return None,
                    Ok(None) => {
                        let out = map(&String::from_utf8_lossy(&pending));
                        return Some((Ok(Bytes::from(out)), None));
                    }
                    Err(e) => return Some((Err(e), None)),
                }
            }
        }
    })
}

/// Whether the host of a remote instance is connected now (its
/// `available`).
pub fn host_connected(state: &AppState, host_node_id: &str) -> bool {
    host_node_id
        .parse::<PeerId>()
        .is_ok_and(|p| state.mesh.is_connected(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_paths() {
        let ai = format!("ai_{}", "a".repeat(32));
        let sid = format!("as_{}", "b".repeat(32));
        let (get, post, put) = (Method::GET, Method::POST, Method::PUT);
        for m in [&get, &post] {
            assert!(matches!(
                target_of(m, &format!("/api/v1/instances/{ai}/sessions")),
                Some(Target::Instance(_))
            ));
        }
        assert!(matches!(
            target_of(&get, &format!("/api/v1/instances/{ai}/providers")),
            Some(Target::Instance(_))
        ));
        assert!(target_of(&put, &format!("/api/v1/instances/{ai}/providers/anthropic")).is_none());
        assert!(target_of(&post, &format!("/api/v1/instances/{ai}/mcp")).is_none());
        assert!(target_of(&get, &format!("/api/v1/instances/{ai}")).is_none());
        assert!(target_of(&get, &format!("/api/v1/instances/{ai}/share-url")).is_none());
        assert!(target_of(&post, &format!("/api/v1/instances/{ai}/reset-key")).is_none());
        assert!(matches!(
            target_of(&get, &format!("/api/v1/sessions/{sid}/events")),
            Some(Target::Session(_))
        ));
        assert!(target_of(&get, "/api/v1/sessions/nope").is_none());
        assert!(target_of(&post, "/api/v1/instances/remote").is_none());

        let rid = format!("ai_{}", "c".repeat(32));
        let uri: axum::http::Uri =
            format!("/api/v1/instances/{ai}/sessions?archived=all&token=sec")
                .parse()
                .unwrap();
        assert_eq!(
            host_path(&uri, &ai, &rid),
            format!("/api/v1/instances/{rid}/sessions?archived=all")
        );
        let uri: axum::http::Uri = format!("/api/v1/sessions/{sid}/events?token=sec")
            .parse()
            .unwrap();
        assert_eq!(
            host_path(&uri, &ai, &rid),
            format!("/api/v1/sessions/{sid}/events")
        );
        let text = format!(
            r#"{{"sessions":[{{"id":"{sid}"}},{{"id":"xas_{}"}}]}}"#,
            "d".repeat(32)
        );
        assert_eq!(session_ids(&text), vec![sid]);
    }
}
