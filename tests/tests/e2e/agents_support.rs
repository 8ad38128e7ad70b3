//! For the coding-agent tests: the real Claude Code program (installed from
//! npm, pinned, by `tests/agents/setup.sh`; tests that need it say so and
//! skip when it cannot be), and a stand-in for the Anthropic Messages API on
//! loopback that Claude Code is pointed at through `ANTHROPIC_BASE_URL`. The
//! stand-in answers as the API documents (streamed server-sent events, or
//! one JSON message), scripted by words in the user's last turn:
//! `WRITE_FILE` → a Write tool call (which needs approval), `ASK_QUESTION`
//! → an AskUserQuestion call, `RUN_SLEEP <marker>` → a Bash `tail -f` that
//! runs until stopped; anything else → a text answer echoing the turn.
//! After a tool result it answers with text quoting the result.
// Shared by the agent tests; not every test uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::harness::TestDaemon;

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("agents")
}

/// The folder holding the `claude` program, installing it once if needed.
pub async fn claude_bin_dir() -> Option<PathBuf> {
    static READY: OnceCell<Option<PathBuf>> = OnceCell::const_new();
    READY
        .get_or_init(|| async {
            let ok = tokio::process::Command::new("sh")
                .arg(here().join("setup.sh"))
                .status()
                .await
                .is_ok_and(|s| s.success());
            let dir = here().join("node_modules/.bin");
            if ok && dir.join("claude").exists() {
                Some(dir)
            } else {
                eprintln!(
                    "SKIP: Claude Code could not be installed from npm; tests that need it skip"
                );
                None
            }
        })
        .await
        .clone()
}

/// A PATH with the agent programs first.
pub fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// One request the stand-in saw: its API key and JSON body.
pub type Request = (Option<String>, Value);

/// What the stand-in saw.
#[derive(Clone, Default)]
pub struct Seen {
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Seen {
    pub fn all(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The bodies of streamed conversation requests (the agent's turns).
    pub fn turns(&self) -> Vec<Value> {
        self.all()
            .into_iter()
            .filter(|(_, b)| b["stream"] == true)
            .map(|(_, b)| b)
            .collect()
    }
}

pub struct StandIn {
    pub url: String,
    pub seen: Seen,
    _task: tokio::task::JoinHandle<()>,
}

/// Starts the stand-in on 127.0.0.1:0.
pub async fn stand_in() -> StandIn {
    let seen = Seen::default();
    let app = Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .route("/v1/models", get(models))
        .fallback(|| async { (StatusCode::NOT_FOUND, axum::Json(json!({"type": "error", "error": {"type": "not_found_error", "message": "not here"}}))) })
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    StandIn {
        url,
        seen,
        _task: task,
    }
}

async fn count_tokens() -> axum::Json<Value> {
    axum::Json(json!({"input_tokens": 12}))
}

async fn models(headers: HeaderMap) -> Response {
    if headers.get("x-api-key").is_none() {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"type": "error", "error": {"type": "authentication_error", "message": "no key"}}))).into_response();
    }
    axum::Json(json!({
        "data": [
            {"type": "model", "id": "claude-stand-in-1", "display_name": "Stand-in One", "created_at": "2026-01-01T00:00:00Z"},
            {"type": "model", "id": "claude-stand-in-2", "display_name": "Stand-in Two", "created_at": "2026-01-01T00:00:00Z"}
        ],
        "has_more": false, "first_id": "claude-stand-in-1", "last_id": "claude-stand-in-2"
    }))
    .into_response()
}

/// Every text of the last user message (prompts come wrapped in reminders).
fn last_user(body: &Value) -> (String, Option<String>) {
    let msgs = body["messages"].as_array().cloned().unwrap_or_default();
    let Some(last) = msgs.iter().rev().find(|m| m["role"] == "user") else {
        return (String::new(), None);
    };
    let mut text = String::new();
    let mut result = None;
    match &last["content"] {
        Value::String(s) => text.push_str(s),
        Value::Array(parts) => {
            for p in parts {
                if p["type"] == "tool_result" {
                    let c = match &p["content"] {
                        Value::String(s) => s.clone(),
                        Value::Array(a) => a
                            .iter()
                            .filter_map(|x| x["text"].as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                        other => other.to_string(),
                    };
                    result = Some(c);
                } else if let Some(t) = p["text"].as_str() {
                    text.push_str(t);
                    text.push('\n');
                }
            }
        }
        _ => {}
    }
    (text, result)
}

fn sse(event: &str, data: Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

fn start(id: &str) -> String {
    sse(
        "message_start",
        json!({"type": "message_start", "message": {"id": id, "type": "message", "role": "assistant",
            "model": "claude-stand-in-1", "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 20, "output_tokens": 1}}}),
    )
}

fn end(reason: &str) -> String {
    sse(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": null},
            "usage": {"output_tokens": 8}}),
    ) + &sse("message_stop", json!({"type": "message_stop"}))
}

fn text_reply(text: &str) -> String {
    start("msg_text")
        + &sse(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        )
        + &sse(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
        )
        + &sse(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        )
        + &end("end_turn")
}

fn tool_reply(id: &str, name: &str, input: Value) -> String {
    start("msg_tool")
        + &sse(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}),
        )
        + &sse(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": input.to_string()}}),
        )
        + &sse(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        )
        + &end("tool_use")
}

/// A tool-use id unique to this request, so separate turns do not collide.
fn tool_id(body: &Value) -> String {
    format!(
        "toolu_{:04}",
        body["messages"].as_array().map(|m| m.len()).unwrap_or(0)
    )
}

async fn messages(State(seen): State<Seen>, headers: HeaderMap, body: String) -> Response {
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    seen.requests
        .lock()
        .unwrap()
        .push((key.clone(), body.clone()));
    if key.is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"type": "error", "error": {"type": "authentication_error", "message": "x-api-key missing"}})),
        )
            .into_response();
    }
    let (text, result) = last_user(&body);
    if body["stream"] != true {
        // Side requests (titles, summaries): a plain message.
        return axum::Json(
            json!({"id": "msg_side", "type": "message", "role": "assistant",
            "model": "claude-stand-in-1", "content": [{"type": "text", "text": "Stand-in"}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 5, "output_tokens": 1}}),
        )
        .into_response();
    }
    let id = tool_id(&body);
    let stream = if let Some(r) = result {
        text_reply(&format!("The tool said: {r}"))
    } else if text.contains("WRITE_FILE") {
        tool_reply(
            &id,
            "Write",
            json!({"file_path": "hello.txt", "content": "hello from the agent\n"}),
        )
    } else if text.contains("ASK_QUESTION") {
        tool_reply(
            &id,
            "AskUserQuestion",
            json!({"questions": [{"question": "Which colour?", "header": "Colour", "multiSelect": false,
                "options": [{"label": "Blue", "description": "The sky"}, {"label": "Red", "description": "A rose"}]}]}),
        )
    } else if let Some(rest) = text.split("RUN_SLEEP ").nth(1) {
        let marker: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        tool_reply(
            &id,
            "Bash",
            json!({"command": format!("tail -f /dev/null; echo {marker}"), "description": "Wait"}),
        )
    } else {
        let words: String = text
            .split_whitespace()
            .filter(|w| w.chars().all(|c| c.is_ascii_uppercase()) && w.len() > 3)
            .collect::<Vec<_>>()
            .join(" ");
        text_reply(&format!("Hello from the stand-in: {words}"))
    };
    (
        [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
        ],
        stream,
    )
        .into_response()
}

/// A daemon whose agents find Claude Code on PATH, with an unlocked
/// identity; returns it, its owner token and the program's folder.
pub async fn agent_node(bin: &Path) -> (TestDaemon, String) {
    let path = path_with(bin);
    let d = TestDaemon::start_with_env(&[("PATH", path.as_str())]).await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    (d, t)
}

/// Creates a Claude Code instance keyed for the stand-in, with `workspace`.
pub async fn keyed_instance(
    d: &TestDaemon,
    t: &str,
    stand_in: &StandIn,
    key: &str,
    workspace: &Path,
) -> String {
    let r = d
        .post_auth(
            "/instances",
            t,
            json!({"type": "claude", "name": "Test Claude"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let inst: Value = r.json().await.unwrap();
    let id = inst["id"].as_str().unwrap().to_owned();
    let r = d
        .put_auth(
            &format!("/instances/{id}/providers/anthropic"),
            t,
            json!({"api_key": key, "base_url": stand_in.url}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = d
        .post_auth(
            &format!("/instances/{id}/workspaces"),
            t,
            json!({"path": workspace.to_str().unwrap()}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    id
}

/// Waits until the session's status is one of `states`; returns it.
pub async fn wait_status(d: &TestDaemon, t: &str, sid: &str, states: &[&str]) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let s = d.get_json(&format!("/sessions/{sid}"), t).await;
        if states.iter().any(|st| s["status"] == *st) {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "session never became {states:?}: {s}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Waits for a pending approval of the session; returns it.
pub async fn wait_approval(d: &TestDaemon, t: &str, sid: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let v = d.get_json(&format!("/sessions/{sid}/approvals"), t).await;
        if let Some(a) = v["approvals"].as_array().and_then(|a| a.first().cloned()) {
            return a;
        }
        if std::time::Instant::now() > deadline {
            let s = d.get_json(&format!("/sessions/{sid}"), t).await;
            let msgs = transcript(d, t, sid).await;
            panic!("no approval in the session: {s}\n{}", texts(&msgs));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A transcript as readable lines (for failure messages).
pub fn texts(messages: &[Value]) -> String {
    messages
        .iter()
        .map(|m| {
            format!(
                "{}/{}: {}",
                m["role"].as_str().unwrap_or(""),
                m["kind"].as_str().unwrap_or(""),
                m["text"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The session's transcript.
pub async fn transcript(d: &TestDaemon, t: &str, sid: &str) -> Vec<Value> {
    d.get_json(&format!("/sessions/{sid}/transcript"), t).await["messages"]
        .as_array()
        .unwrap()
        .clone()
}

/// Processes whose command line contains `needle` (Linux /proc).
pub fn processes_with(needle: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(needle)
                })
                .unwrap_or(false)
        })
        .collect()
}
