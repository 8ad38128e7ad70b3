//! The session runner: one child process per turn. A turn starts the agent
//! program in its non-interactive streaming-JSON mode in the session's
//! workspace (resuming the agent's own session after the first turn), reads
//! its stream into the transcript and the session's live stream, and ends
//! when the program exits or is stopped. Stopping signals the whole process
//! group (the agent and whatever it started), waits, kills what is left and
//! reaps it, so nothing outlives its session.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use holdfast_core::agents::claude_stream;
use holdfast_core::agents::{AgentStore, AgentType, AgentsError, Message, NewMessage, Session};
use holdfast_core::approvals::Approvals;
use holdfast_core::events::EventBus;
use holdfast_core::fsutil::{self, Mode};
use holdfast_core::identity::Identity;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::capabilities::Capabilities;

/// How long a stopped agent gets to exit before it is killed.
const GRACE: Duration = Duration::from_secs(3);
/// How much of the agent's stderr is kept to explain a failure.
const STDERR_TAIL: usize = 4096;
/// Longest line read from the agent (a tool result can be large).
const MAX_LINE: usize = 8 * 1024 * 1024;
/// Live-stream buffer per session.
const STREAM_BUFFER: usize = 1024;

/// Environment variables passed on to agents; everything else the daemon
/// holds (its own settings, other secrets) stays out of the child.
const PASSED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "TERM",
    "TMPDIR",
    "TZ",
    "XDG_RUNTIME_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SYSTEMROOT",
    "SystemRoot",
    "USERPROFILE",
    "APPDATA",
    "LOCALAPPDATA",
    "TEMP",
    "TMP",
    "COMSPEC",
    "PATHEXT",
];

/// A turn to start.
pub struct Turn {
    pub text: String,
    /// Files to hand the agent with the turn (attachment ids, resolved).
    pub files: Vec<(String, PathBuf)>,
}

struct Live {
    instance_id: String,
    stop: CancellationToken,
    /// Becomes true when the run has ended and its status is written.
    done: watch::Receiver<bool>,
}

/// Where the daemon's REST API listens, for the approval helper.
#[derive(Debug, Clone)]
pub struct HookTarget {
    pub base_url: String,
    /// PEM of the API's certificate when it serves HTTPS.
    pub ca_file: Option<PathBuf>,
}

pub struct Runner {
    pub store: AgentStore,
    pub capabilities: Capabilities,
    approvals: Arc<Approvals>,
    events: EventBus,
    identity: Arc<Identity>,
    pub(crate) hook: OnceLock<HookTarget>,
    /// The program the agent starts as its approval MCP server.
    helper_exe: PathBuf,
    live: Mutex<HashMap<String, Live>>,
    streams: Mutex<HashMap<String, broadcast::Sender<Value>>>,
    /// Per-run secrets binding the approval hook to its session.
    secrets: Mutex<HashMap<String, String>>,
    /// Answers to questions, handed from the reply route to the hook.
    answers: Mutex<HashMap<String, Value>>,
    shutdown: CancellationToken,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] AgentsError),
    #[error("a turn is already running in this session; stop it or wait")]
    Busy,
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    BadRequest(String),
}

impl Runner {
    pub fn new(
        store: AgentStore,
        approvals: Arc<Approvals>,
        events: EventBus,
        identity: Arc<Identity>,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        let helper_exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("holdfast"));
        Arc::new(Self {
            store,
            capabilities: Capabilities::default(),
            approvals,
            events,
            identity,
            hook: OnceLock::new(),
            helper_exe,
            live: Mutex::default(),
            streams: Mutex::default(),
            secrets: Mutex::default(),
            answers: Mutex::default(),
            shutdown,
        })
    }

    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sessions left running by an earlier daemon are marked stopped.
    pub async fn recover(&self) {
        if let Ok(ids) = self.store.running_sessions().await {
            for sid in ids {
                let _ = self
                    .store
                    .set_status(
                        &sid,
                        "stopped",
                        Some("Holdfast stopped while this turn ran"),
                    )
                    .await;
            }
        }
    }

    pub fn is_running(&self, sid: &str) -> bool {
        self.live().contains_key(sid)
    }

    /// The live stream of one session (created on first use).
    pub fn subscribe(&self, sid: &str) -> broadcast::Receiver<Value> {
        self.streams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(sid.to_owned())
            .or_insert_with(|| broadcast::channel(STREAM_BUFFER).0)
            .subscribe()
    }

    /// Sends `event` to the session's live stream (if anyone listens).
    pub fn publish(&self, sid: &str, mut event: Value) {
        event["session_id"] = json!(sid);
        let streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = streams.get(sid) {
            let _ = tx.send(event);
        }
    }

    fn publish_messages(&self, sid: &str, messages: &[Message]) {
        for m in messages {
            self.publish(sid, json!({"type": "message", "message": m}));
        }
    }

    async fn set_status(&self, session: &Session, status: &str, error: Option<&str>) {
        if let Err(e) = self.store.set_status(&session.id, status, error).await {
            tracing::warn!("agents: recording status of {}: {e}", session.id);
        }
        self.publish(
            &session.id,
            json!({"type": "status", "status": status, "error": error}),
        );
        self.events.publish(
            "agent_session",
            json!({"session_id": session.id, "instance_id": session.instance_id, "status": status}),
        );
    }

    /// Marks a session waiting for the owner (or running again).
    pub async fn set_waiting(&self, sid: &str, waiting: bool) {
        if !self.is_running(sid) {
            return;
        }
        if let Ok(s) = self.store.session(sid).await {
            self.set_status(&s, if waiting { "waiting" } else { "running" }, None)
                .await;
        }
    }

    /// Whether `secret` is the live secret of `sid` (constant time).
    pub fn check_secret(&self, sid: &str, secret: &str) -> bool {
        let secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        secrets
            .get(sid)
            .is_some_and(|s| holdfast_core::secret::ct_str_eq(s, secret))
    }

    pub fn approvals(&self) -> &Arc<Approvals> {
        &self.approvals
    }

    pub fn set_answers(&self, approval_id: &str, answers: Value) {
        self.answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(approval_id.to_owned(), answers);
    }

    pub fn take_answers(&self, approval_id: &str) -> Option<Value> {
        self.answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(approval_id)
    }

    /// Starts a turn: records the user's message and starts the agent.
    pub async fn send(self: &Arc<Self>, sid: &str, turn: Turn) -> Result<Session, RunError> {
        let session = self.store.session(sid).await?;
        let instance = self.store.instance(&session.instance_id).await?;
        if self.is_running(sid) {
            return Err(RunError::Busy);
        }
        let Some(program) = self.capabilities.program(instance.kind).await else {
            return Err(RunError::Unavailable(format!(
                "{} is not installed on this computer ({})",
                instance.kind.display_name(),
                instance.kind.install_hint()
            )));
        };
        let seal_key = self
            .identity
            .purpose_key(super::SEAL_PURPOSE)
            .map_err(|_| RunError::Store(AgentsError::Locked))?;
        let mut env = self.store.provider_env(&seal_key, &instance.id).await?;
        let mcp = self.store.mcp_launch(&seal_key, &instance.id).await?;
        drop(seal_key);

        let workspace = match &session.workspace {
            Some(w) => PathBuf::from(w),
            None => self.store.session_dir(sid).join("workspace"),
        };
        std::fs::create_dir_all(&workspace).map_err(AgentsError::Io)?;
        if !workspace.is_dir() {
            return Err(RunError::BadRequest(format!(
                "the workspace {} is gone",
                workspace.display()
            )));
        }
        let scratch = self.store.session_dir(sid);
        fsutil::create_private_dir(&scratch).map_err(AgentsError::Io)?;

        // One live entry per session: claim it before anything starts.
        let stop = CancellationToken::new();
        let (done_tx, done_rx) = watch::channel(false);
        {
            let mut live = self.live();
            if live.contains_key(sid) {
                return Err(RunError::Busy);
            }
            live.insert(
                sid.to_owned(),
                Live {
                    instance_id: instance.id.clone(),
                    stop: stop.clone(),
                    done: done_rx,
                },
            );
        }
        let started = self
            .start(
                &session,
                instance.kind,
                &program.path,
                &workspace,
                &scratch,
                &mut env,
                &mcp,
                turn,
                stop,
                done_tx,
            )
            .await;
        if let Err(e) = started {
            self.live().remove(sid);
            self.secrets
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(sid);
            return Err(e);
        }
        Ok(self.store.session(sid).await?)
    }

    #[allow(clippy::too_many_arguments)]
    async fn start(
        self: &Arc<Self>,
        session: &Session,
        kind: AgentType,
        program: &str,
        workspace: &std::path::Path,
        scratch: &std::path::Path,
        env: &mut Vec<(String, String)>,
        mcp: &[holdfast_core::agents::instances::McpLaunch],
        turn: Turn,
        stop: CancellationToken,
        done: watch::Sender<bool>,
    ) -> Result<(), RunError> {
        let sid = session.id.clone();
        let secret = hex::encode(holdfast_core::identity::crypto::random_bytes::<32>());
        self.secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(sid.clone(), secret.clone());

        let mut prompt = turn.text.clone();
        if !turn.files.is_empty() {
            prompt.push_str("\n\nAttached files:");
            for (name, path) in &turn.files {
                prompt.push_str(&format!("\n- {name}: {}", path.display()));
            }
        }

        let mut cmd = tokio::process::Command::new(program);
        cmd.current_dir(workspace)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for k in PASSED_ENV {
            if let Some(v) = std::env::var_os(k) {
                cmd.env(k, v);
            }
        }
        #[cfg(unix)]
        cmd.process_group(0);

        let hook = self.hook.get().cloned();
        let mut helper_env = serde_json::Map::new();
        if let Some(h) = &hook {
            helper_env.insert("HOLDFAST_MCP_URL".into(), json!(h.base_url));
            if let Some(ca) = &h.ca_file {
                helper_env.insert("HOLDFAST_MCP_CA".into(), json!(ca));
            }
        }
        helper_env.insert("HOLDFAST_MCP_SESSION".into(), json!(sid));
        helper_env.insert("HOLDFAST_MCP_SECRET".into(), json!(secret));

        match kind {
            AgentType::Claude => {
                let mut servers = serde_json::Map::new();
                servers.insert(
                    holdfast_core::agents::instances::RESERVED_MCP.into(),
                    json!({
                        "type": "stdio",
                        "command": self.helper_exe,
                        "args": ["_mcp-approve"],
                        "env": helper_env,
                    }),
                );
                for m in mcp {
                    let v = match (&m.command, &m.url) {
                        (Some(c), _) => {
                            json!({"type": "stdio", "command": c, "args": m.args, "env": m.env})
                        }
                        (None, Some(u)) => json!({"type": "http", "url": u, "headers": m.headers}),
                        _ => continue,
                    };
                    servers.insert(m.name.clone(), v);
                }
                let config_file = scratch.join("mcp.json");
                fsutil::write_atomic(
                    &config_file,
                    json!({"mcpServers": servers}).to_string().as_bytes(),
                    Mode::Private,
                )
                .map_err(AgentsError::Io)?;
                cmd.arg("-p")
                    .args(["--output-format", "stream-json", "--verbose"])
                    .args(["--mcp-config"])
                    .arg(&config_file)
                    .arg("--strict-mcp-config")
                    .args(["--permission-prompt-tool", "mcp__holdfast__approve"]);
                match &session.agent_session {
                    Some(a) => {
                        cmd.args(["--resume", a]);
                    }
                    None => {
                        let id = uuid::Uuid::new_v4().to_string();
                        self.store.set_agent_session(&sid, &id).await?;
                        cmd.args(["--session-id", &id]);
                    }
                }
                if let Some(m) = &session.model {
                    cmd.args(["--model", m]);
                }
                if let Some(p) = &session.system_prompt {
                    cmd.args(["--append-system-prompt", p]);
                }
                if session.permission_mode != "default" {
                    cmd.args(["--permission-mode", &session.permission_mode]);
                }
                cmd.env(
                    "CLAUDE_CONFIG_DIR",
                    self.store.config_dir(&session.instance_id),
                )
                .env("DISABLE_AUTOUPDATER", "1")
                .env("DISABLE_TELEMETRY", "1")
                .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
            }
            AgentType::Opencode => {
                return Err(RunError::Unavailable(
                    "OpenCode sessions are not supported by this version of Holdfast yet; use a Claude Code instance".into(),
                ));
            }
        }
        for (k, v) in env.drain(..) {
            cmd.env(k, v);
        }

        // The user's turn goes in the transcript before the agent starts.
        let user = self
            .store
            .append(
                &sid,
                vec![NewMessage {
                    role: "user",
                    kind: "text",
                    text: turn.text,
                    tool: None,
                    agent_uuid: None,
                }],
            )
            .await?;
        self.publish_messages(&sid, &user);

        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let why = format!("could not start {program}: {e}");
                self.set_status(session, "error", Some(&why)).await;
                return Err(RunError::Unavailable(why));
            }
        };
        let mut stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        self.set_status(session, "running", None).await;
        tokio::spawn(async move {
            let _ = stdin.write_all(prompt.as_bytes()).await;
            let _ = stdin.shutdown().await;
        });
        let me = self.clone();
        let session = session.clone();
        tokio::spawn(async move {
            me.supervise(session, child, stdout, stderr, stop, done)
                .await;
        });
        Ok(())
    }

    async fn supervise(
        self: Arc<Self>,
        session: Session,
        mut child: tokio::process::Child,
        stdout: tokio::process::ChildStdout,
        stderr: tokio::process::ChildStderr,
        stop: CancellationToken,
        done: watch::Sender<bool>,
    ) {
        let sid = session.id.clone();
        let resumed = session.agent_session.is_some();
        let stderr_task = tokio::spawn(async move {
            let mut tail = Vec::new();
            let mut buf = [0u8; 4096];
            let mut r = stderr;
            while let Ok(n) = r.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > STDERR_TAIL {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
            }
            String::from_utf8_lossy(&tail).into_owned()
        });
        let mut lines = BufReader::new(stdout);
        let mut line = Vec::new();
        let mut turn_error: Option<String> = None;
        let mut stopped = false;
        loop {
            line.clear();
            let read = tokio::select! {
                r = read_line(&mut lines, &mut line) => r,
                _ = stop.cancelled() => { stopped = true; break; }
                _ = self.shutdown.cancelled() => { stopped = true; break; }
            };
            match read {
                Ok(0) => break,
                Ok(_) => {
                    let mut parsed = claude_stream::parse_line(&String::from_utf8_lossy(&line));
                    // "Started" once per session, not once per turn.
                    if resumed {
                        parsed.messages.retain(|m| m.kind != "init");
                    }
                    if let Some(r) = &parsed.result {
                        let _ = self.store.add_cost(&sid, r.cost_usd).await;
                        turn_error = r.error.clone();
                    }
                    match self.store.append(&sid, parsed.messages).await {
                        Ok(ms) => self.publish_messages(&sid, &ms),
                        Err(e) => tracing::warn!("agents: transcript of {sid}: {e}"),
                    }
                }
                Err(e) => {
                    tracing::warn!("agents: reading the agent of {sid}: {e}");
                    break;
                }
            }
        }
        let status = end_process(&mut child, stopped).await;
        let stderr_tail = stderr_task.await.unwrap_or_default();
        self.secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&sid);
        let _ = std::fs::remove_file(self.store.session_dir(&sid).join("mcp.json"));
        let (state, error) = if stopped {
            let note = self
                .store
                .append(
                    &sid,
                    vec![NewMessage {
                        role: "system",
                        kind: "notice",
                        text: "Stopped by the owner".into(),
                        tool: None,
                        agent_uuid: None,
                    }],
                )
                .await
                .unwrap_or_default();
            self.publish_messages(&sid, &note);
            ("stopped", None)
        } else if let Some(e) = turn_error {
            ("error", Some(e))
        } else if status.is_some_and(|s| s.success()) {
            ("idle", None)
        } else {
            let last = stderr_tail
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .chars()
                .take(500)
                .collect::<String>();
            let code = status
                .and_then(|s| s.code())
                .map(|c| format!("exit code {c}"))
                .unwrap_or_else(|| "killed".into());
            let why = if last.is_empty() {
                format!("the agent ended with {code}")
            } else {
                format!("the agent ended with {code}: {last}")
            };
            let note = self
                .store
                .append(
                    &sid,
                    vec![NewMessage {
                        role: "system",
                        kind: "error",
                        text: why.clone(),
                        tool: None,
                        agent_uuid: None,
                    }],
                )
                .await
                .unwrap_or_default();
            self.publish_messages(&sid, &note);
            ("error", Some(why))
        };
        // The session may have been deleted meanwhile: then nothing to record.
        if self.store.session(&sid).await.is_ok() {
            self.set_status(&session, state, error.as_deref()).await;
        }
        self.live().remove(&sid);
        let _ = done.send(true);
    }

    /// Stops the session's run, if any, and waits until it has ended.
    pub async fn stop(&self, sid: &str) {
        let waiter = {
            let live = self.live();
            live.get(sid).map(|l| {
                l.stop.cancel();
                l.done.clone()
            })
        };
        if let Some(mut done) = waiter {
            let _ = tokio::time::timeout(GRACE * 4, done.wait_for(|d| *d)).await;
        }
    }

    /// Stops every run of an instance (before it is deleted).
    pub async fn stop_instance(&self, instance_id: &str) {
        let sids: Vec<String> = self
            .live()
            .iter()
            .filter(|(_, l)| l.instance_id == instance_id)
            .map(|(s, _)| s.clone())
            .collect();
        for sid in sids {
            self.stop(&sid).await;
        }
    }

    /// Ends every run (daemon shutdown).
    pub async fn stop_all(&self) {
        let sids: Vec<String> = self.live().keys().cloned().collect();
        for sid in sids {
            self.stop(&sid).await;
        }
    }
}

/// Reads one line, bounded: a longer one is an error.
async fn read_line(
    r: &mut BufReader<tokio::process::ChildStdout>,
    out: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let mut limited = (&mut *r).take(MAX_LINE as u64);
    let n = limited.read_until(b'\n', out).await?;
    if n > 0 && !out.ends_with(b"\n") && n >= MAX_LINE {
        return Err(std::io::Error::other("a line longer than 8 MiB"));
    }
    Ok(n)
}

/// Waits for the child; when stopping, signals its process group, gives it
/// [`GRACE`], then kills the group. Always reaps, and always ends what the
/// agent left behind in its group (a background shell, the MCP helper).
async fn end_process(
    child: &mut tokio::process::Child,
    stopping: bool,
) -> Option<std::process::ExitStatus> {
    let pid = child.id();
    let status = if stopping {
        signal_group(pid, Signal::Term);
        match tokio::time::timeout(GRACE, child.wait()).await {
            Ok(s) => s.ok(),
            Err(_) => {
                signal_group(pid, Signal::Kill);
                let _ = child.start_kill();
                child.wait().await.ok()
            }
        }
    } else {
        child.wait().await.ok()
    };
    signal_group(pid, Signal::Kill);
    status
}

enum Signal {
    Term,
    Kill,
}

/// Signals the process group the child leads (Unix; elsewhere the child is
/// killed by `start_kill` and `kill_on_drop`).
fn signal_group(pid: Option<u32>, signal: Signal) {
    #[cfg(unix)]
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        let sig = match signal {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        // SAFETY: kill(2) on the negative pid signals the process group made
        // for this child (`process_group(0)`); it touches no memory.
        unsafe {
            libc::kill(-pid, sig);
        }
    }
    #[cfg(not(unix))]
    let _ = (pid, signal);
}
