//! Which agent programs are installed here: looked up on PATH and in the
//! places their installers use, with the version each reports. Asking a
//! program its version costs a process start, so answers are kept for a
//! minute (`refresh` forgets them: a user who just installed one sees it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use holdfast_core::agents::AgentType;
use serde::Serialize;

/// How long a lookup is trusted.
const TTL: Duration = Duration::from_secs(60);
/// How long `--version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Serialize)]
pub struct Program {
    pub path: String,
    pub version: Option<String>,
}

/// One agent type as `GET /capabilities` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Capability {
    #[serde(rename = "type")]
    pub kind: AgentType,
    pub name: &'static str,
    pub installed: bool,
    pub path: Option<String>,
    pub version: Option<String>,
    pub install_hint: &'static str,
}

#[derive(Default)]
pub struct Capabilities {
    cache: Mutex<HashMap<&'static str, (Instant, Option<Program>)>>,
}

impl Capabilities {
    /// Forget what was found, so the next lookup asks again.
    pub fn refresh(&self) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The program for `kind`, if installed.
    pub async fn program(&self, kind: AgentType) -> Option<Program> {
        if let Some((at, found)) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(kind.as_str())
            && at.elapsed() < TTL
        {
            return found.clone();
        }
        let found = match find(kind.program()) {
            Some(path) => Some(Program {
                version: version_of(&path).await,
                path: path.to_string_lossy().into_owned(),
            }),
            None => None,
        };
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(kind.as_str(), (Instant::now(), found.clone()));
        found
    }

    pub async fn all(&self) -> Vec<Capability> {
        let mut out = Vec::new();
        for kind in AgentType::ALL {
            let p = self.program(kind).await;
            out.push(Capability {
                kind,
                name: kind.display_name(),
                installed: p.is_some(),
                path: p.as_ref().map(|p| p.path.clone()),
                version: p.and_then(|p| p.version),
                install_hint: kind.install_hint(),
            });
        }
        out
    }
}

/// Where installers put agent programs besides PATH.
fn usual_places(home: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(h) = home {
        for d in [
            ".local/bin",
            ".claude/local",
            ".npm-global/bin",
            ".opencode/bin",
            ".bun/bin",
            ".volta/bin",
            "AppData/Roaming/npm",
        ] {
            dirs.push(h.join(d));
        }
    }
    for d in ["/usr/local/bin", "/opt/homebrew/bin", "/usr/bin"] {
        dirs.push(PathBuf::from(d));
    }
    dirs
}

/// The first executable named `name` on PATH or in the usual places.
pub fn find(name: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from);
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let names: Vec<String> = if cfg!(windows) {
        vec![
            format!("{name}.exe"),
            format!("{name}.cmd"),
            name.to_owned(),
        ]
    } else {
        vec![name.to_owned()]
    };
    path_dirs
        .into_iter()
        .chain(usual_places(home.as_deref()))
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(p) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// The first version-looking word of `<program> --version`.
async fn version_of(path: &Path) -> Option<String> {
    let mut cmd = tokio::process::Command::new(path);
    cmd.arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .env("DISABLE_AUTOUPDATER", "1")
        .kill_on_drop(true);
    let out = tokio::time::timeout(VERSION_TIMEOUT, cmd.output())
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .map(|w| w.trim_start_matches('v'))
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()) && w.contains('.'))
        .map(|w| w.chars().take(64).collect())
}
