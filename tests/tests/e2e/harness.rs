//! `TestDaemon`: a real daemon process for one test. Readiness is the
//! daemon's own `endpoints.json` naming this process, never a fixed sleep.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_holdfast-e2e");
pub const PASSWORD: &str = "correct horse battery";
pub const PASSPHRASE: &str = "identity passphrase 1";
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestDaemon {
    pub dir: TempDir,
    child: Child,
    pub addr: SocketAddr,
    pub base: String,
    /// Base URL of the IPC surface.
    pub ipc: String,
    pub ipc_addr: SocketAddr,
    /// Base URL of the agent hub (`http://127.0.0.1:PORT`), when it runs.
    pub hub: Option<String>,
    pub http: reqwest::Client,
}

/// The config every test daemon starts from: ephemeral loopback ports.
pub fn loopback_config() -> String {
    "api:\n  bind: 127.0.0.1:0\nipc:\n  bind: 127.0.0.1:0\nmesh:\n  listen: [/ip4/127.0.0.1/tcp/0]\n  mdns: false\n  gossip_interval_seconds: 1\n  replicate_interval_seconds: 2\n".to_owned()
}

/// Tests run many daemons at once: unless a test's config places the agent
/// hub itself, it takes an ephemeral port instead of 8090.
fn pin_hub_to_ephemeral_port(dir: &Path) {
    let path = dir.join("config.yaml");
    let config = std::fs::read_to_string(&path).unwrap_or_default();
    if !config.lines().any(|l| l.starts_with("hub:")) {
        let sep = if config.is_empty() || config.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        std::fs::write(&path, format!("{config}{sep}hub:\n  bind: 127.0.0.1:0\n")).unwrap();
    }
}

impl TestDaemon {
    pub async fn start() -> Self {
        Self::start_with_config(&loopback_config()).await
    }

    pub async fn start_with_config(config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.yaml"), config).unwrap();
        Self::start_in(dir).await
    }

    /// Start on an existing data dir (e.g. after [`TestDaemon::stop`]).
    pub async fn start_in(dir: TempDir) -> Self {
        Self::start_in_with_args(dir, &[]).await
    }

    /// Start with extra `holdfast daemon` arguments.
    pub async fn start_in_with_args(dir: TempDir, args: &[&str]) -> Self {
        Self::spawn_in(dir, args, None, &[]).await
    }

    /// Start with extra environment variables for the daemon (e.g. `PATH`).
    pub async fn start_with_env(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.yaml"), loopback_config()).unwrap();
        Self::spawn_in(dir, &[], None, env).await
    }

    /// Start inside network namespace `ns` (`ip netns exec`), with `config`.
    pub async fn start_in_netns(ns: &str, config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.yaml"), config).unwrap();
        Self::spawn_in(dir, &[], Some(ns), &[]).await
    }

    async fn spawn_in(
        dir: TempDir,
        args: &[&str],
        netns: Option<&str>,
        env: &[(&str, &str)],
    ) -> Self {
        pin_hub_to_ephemeral_port(dir.path());
        let child = spawn_daemon(dir.path(), args, netns, env);
        let (child, endpoints) = wait_ready(child, dir.path()).await;
        let addr: SocketAddr = endpoints["api"]["addr"].as_str().unwrap().parse().unwrap();
        let base = endpoints["api"]["url"].as_str().unwrap().to_owned();
        let ipc_addr: SocketAddr = endpoints["ipc"].as_str().unwrap().parse().unwrap();
        let hub = endpoints["hub"].as_str().map(|a| format!("http://{a}"));
        ensure_crypto();
        let mut http = reqwest::Client::builder().no_proxy();
        if let Some(cert) = endpoints["api"]["tls"]["cert_file"].as_str() {
            let pem = std::fs::read(cert).unwrap();
            http = http.tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()]);
        }
        Self {
            dir,
            child,
            addr,
            base,
            ipc: format!("http://{ipc_addr}"),
            ipc_addr,
            hub,
            http: http.build().unwrap(),
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Full URL of an `/api/v1` path.
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// The daemon's base URL (`http://127.0.0.1:PORT`), where the web UI is.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("daemon still running")
    }

    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.data_dir().join("cli-admin.token"))
            .unwrap()
            .trim()
            .to_owned()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn set_password(&self, password: &str) -> reqwest::Response {
        self.http
            .post(self.url("/auth/admin/set-password"))
            .header("X-Holdfast-Admin-Token", self.admin_token())
            .json(&json!({ "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Log in with `password`, returning the bearer.
    pub async fn login(&self, password: &str) -> String {
        let resp = self
            .post_json("/auth/login", json!({ "password": password }))
            .await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// Set the standard password and log in.
    pub async fn owner_token(&self) -> String {
        assert_eq!(self.set_password(PASSWORD).await.status(), 204);
        self.login(PASSWORD).await
    }

    /// Full URL of an IPC path.
    pub fn ipc_url(&self, path: &str) -> String {
        format!("{}{path}", self.ipc)
    }

    pub async fn ipc_get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.ipc_url(path)).send().await.unwrap()
    }

    pub async fn ipc_post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.ipc_url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// GET from IPC as an app holding `app_token`.
    pub async fn ipc_get_as(&self, path: &str, app_token: &str) -> reqwest::Response {
        self.http
            .get(self.ipc_url(path))
            .bearer_auth(app_token)
            .send()
            .await
            .unwrap()
    }

    /// POST to IPC as an app holding `app_token`.
    pub async fn ipc_post_as(&self, path: &str, app_token: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.ipc_url(path))
            .bearer_auth(app_token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// GET with the bearer, answer parsed as JSON.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        self.get_auth(path, token).await.json().await.unwrap()
    }

    pub async fn delete_auth(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// A bootstrap ticket minted the way `holdfast open` does.
    pub fn cli_ticket(&self) -> String {
        let out = self.cli(&["open", "--print"]).output().unwrap();
        let url = String::from_utf8(out.stdout).unwrap();
        url.trim().split("bootstrap=").nth(1).unwrap().to_owned()
    }

    /// Trade a bootstrap ticket for a bearer.
    pub async fn exchange_ticket(&self, ticket: &str) -> String {
        let resp = self
            .post_json("/auth/bootstrap-exchange", json!({ "ticket": ticket }))
            .await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put_auth(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.http
            .put(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch_auth(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.http
            .patch(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Upload `body` as `path` of vault `vid`.
    pub async fn upload(
        &self,
        token: &str,
        vid: &str,
        path: &str,
        body: &[u8],
    ) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/vaults/{vid}/upload{path}")))
            .bearer_auth(token)
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// Create the identity; returns the recovery phrase.
    pub async fn init_identity(&self, token: &str) -> String {
        let resp = self
            .post_auth("/identity/init", token, json!({"passphrase": PASSPHRASE}))
            .await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        v["recovery_phrase"].as_str().unwrap().to_owned()
    }

    /// Wait until a pending approval of `kind` shows up; returns it.
    pub async fn next_approval(&self, token: &str, kind: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let list: Value = self
                .get_auth("/approvals", token)
                .await
                .json()
                .await
                .unwrap();
            if let Some(a) = list
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["kind"] == kind && a["state"] == "open")
            {
                return a.clone();
            }
            assert!(Instant::now() < deadline, "no {kind} approval appeared");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Answer the next pending approval of `kind`.
    pub async fn answer(&self, token: &str, kind: &str, decision: Value) -> Value {
        let a = self.next_approval(token, kind).await;
        let resp = self
            .post_auth(
                &format!("/approvals/{}", a["id"].as_str().unwrap()),
                token,
                decision,
            )
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        a
    }

    /// The `holdfast` CLI pointed at this daemon's data dir.
    pub fn cli(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(BIN);
        cmd.args(args).arg("--data-dir").arg(self.data_dir());
        cmd
    }

    /// Send a signal to the daemon process.
    pub fn signal(&self, sig: i32) {
        let rc = unsafe { libc::kill(self.pid() as i32, sig) };
        assert_eq!(rc, 0, "kill failed");
    }

    /// SIGTERM and wait for exit; hands back the data dir for a restart.
    pub async fn stop(mut self) -> (ExitStatus, TempDir) {
        self.signal(libc::SIGTERM);
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("daemon did not exit within 30 s of SIGTERM")
            .unwrap();
        (status, self.dir)
    }

    /// SIGKILL: no clean shutdown at all (a crash or power cut).
    pub async fn kill(mut self) -> TempDir {
        self.signal(libc::SIGKILL);
        self.wait_exit().await;
        self.dir
    }

    /// Wait for the exit of a daemon already signalled; hands back the data dir.
    pub async fn stop_after_signal(mut self) -> (ExitStatus, TempDir) {
        let status = self.wait_exit().await;
        (status, self.dir)
    }

    /// Wait for an exit already under way.
    pub async fn wait_exit(&mut self) -> ExitStatus {
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("daemon did not exit")
            .unwrap()
    }

    pub async fn restart(self) -> Self {
        let (status, dir) = self.stop().await;
        assert!(status.success(), "daemon exited with {status}");
        Self::start_in(dir).await
    }
}

fn spawn_daemon(dir: &Path, args: &[&str], netns: Option<&str>, env: &[(&str, &str)]) -> Child {
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("daemon-stderr.log"))
        .unwrap();
    // `ip netns exec` enters the namespace and execs the daemon: same pid.
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, BIN]);
            c
        }
        None => Command::new(BIN),
    };
    cmd.arg("daemon")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("HOLDFAST_LOG", "info")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the daemon")
}

async fn wait_ready(mut child: Child, dir: &Path) -> (Child, Value) {
    let path = dir.join("endpoints.json");
    let pid = child.id().unwrap();
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.join("daemon-stderr.log")).unwrap_or_default();
            panic!("daemon exited during start-up with {status}:\n{log}");
        }
        if let Ok(bytes) = std::fs::read(&path)
            && let Ok(v) = serde_json::from_slice::<Value>(&bytes)
            && v["pid"].as_u64() == Some(pid as u64)
        {
            return (child, v);
        }
        assert!(
            Instant::now() < deadline,
            "daemon not ready after {START_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `holdfast fsck --json` on a stopped daemon's data dir: it succeeds and
/// finds nothing damaged or missing.
pub fn assert_fsck_clean(dir: &Path) {
    let out = std::process::Command::new(BIN)
        .args(["fsck", "--json", "--data-dir"])
        .arg(dir)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "{report}");
    assert!(
        report["damaged_blocks"].as_array().unwrap().is_empty(),
        "{report}"
    );
    assert!(report["missing"].as_array().unwrap().is_empty(), "{report}");
}

/// Run the daemon binary expecting it to refuse to start; returns (code, stderr).
pub fn start_expecting_failure(dir: &Path) -> (Option<i32>, String) {
    let out = std::process::Command::new(BIN)
        .arg("daemon")
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn ensure_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Send raw bytes over a fresh TCP connection and read the whole answer.
pub fn raw_http(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // A server may answer (e.g. 413) and close before reading everything.
    let _ = s.write_all(request.as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Status code of a raw HTTP answer.
pub fn raw_status(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

/// Body of a raw HTTP answer (no chunked encoding expected).
pub fn raw_body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("")
}

/// Assert the API error shape: JSON object whose `error` is a non-empty string.
pub async fn assert_error(resp: reqwest::Response, status: u16) -> String {
    assert_eq!(resp.status(), status, "status");
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(ct.starts_with("application/json"), "content-type {ct:?}");
    let body: Value = resp.json().await.unwrap();
    let msg = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error field: {body}"));
    assert!(!msg.is_empty());
    msg.to_owned()
}

/// All files under `dir` (recursively) whose names end with `suffix`.
/// Everything a daemon in `dir` has logged: its stderr and its log files.
pub fn logged_in(dir: &Path) -> String {
    let mut files = files_under(&dir.join("logs"), ".log");
    files.push(dir.join("daemon-stderr.log"));
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect()
}

/// None of `secrets` reached the logs of the daemon in `dir` (which has
/// logged something, so an empty log cannot pass for a clean one).
pub fn assert_not_logged(dir: &Path, secrets: &[&str]) {
    let all = logged_in(dir);
    assert!(!all.is_empty(), "the daemon logged nothing at all");
    for (i, secret) in secrets.iter().enumerate() {
        assert!(!all.contains(secret), "secret #{i} reached the logs");
    }
}

pub fn files_under(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p, suffix));
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out
}

/// Sealed block files of a daemon (not the in-progress ones under `tmp/`).
pub fn block_files(data_dir: &Path) -> Vec<PathBuf> {
    let root = data_dir.join("blocks");
    files_under(&root, "")
        .into_iter()
        .filter(|p| {
            !p.strip_prefix(&root)
                .is_ok_and(|rel| rel.starts_with("tmp"))
        })
        .collect()
}

/// Reproducible incompressible test data (xorshift; no rand crate needed).
/// Different seeds give different data.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Poll `check` (every 50 ms, up to 30 s) until it yields a value: for
/// effects that happen in the background, such as folder sync.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
