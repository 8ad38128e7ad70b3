//! Coding-agent instances and their sessions, as the catalog keeps them
//! (migration 0023): which agent programs the owner set up, their provider
//! keys (sealed under the identity), MCP servers and workspaces, and each
//! session's transcript with its full-text index. The daemon supervises the
//! agent processes (`holdfast-daemon::agents`); this module only stores.

pub mod claude_stream;
pub mod instances;
pub mod remote;
pub mod sessions;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::{Catalog, CatalogError};

pub use instances::{Instance, McpServer, NewMcpServer, Provider, Workspace};
pub use sessions::{Archived, Message, NewMessage, NewSession, SearchHit, Session};

/// Longest instance or session name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest system prompt, in bytes.
pub const MAX_PROMPT_BYTES: usize = 64 * 1024;
/// Longest model id.
pub const MAX_MODEL_CHARS: usize = 128;

/// The agent programs Holdfast knows how to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentType {
    Claude,
    Opencode,
}

/// A provider an agent type can use: its id, label and the environment
/// variables the agent program reads its key and base URL from.
#[derive(Debug, Clone, Copy)]
pub struct ProviderSpec {
    pub id: &'static str,
    pub name: &'static str,
    pub key_env: &'static str,
    pub base_url_env: Option<&'static str>,
}

const ANTHROPIC: ProviderSpec = ProviderSpec {
    id: "anthropic",
    name: "Anthropic",
    key_env: "ANTHROPIC_API_KEY",
    base_url_env: Some("ANTHROPIC_BASE_URL"),
};

const OPENCODE_PROVIDERS: &[ProviderSpec] = &[
    ANTHROPIC,
    ProviderSpec {
        id: "openai",
        name: "OpenAI",
        key_env: "OPENAI_API_KEY",
        base_url_env: None,
    },
    ProviderSpec {
        id: "openrouter",
        name: "OpenRouter",
        key_env: "OPENROUTER_API_KEY",
        base_url_env: None,
    },
    ProviderSpec {
        id: "google",
        name: "Google Gemini",
        key_env: "GOOGLE_GENERATIVE_AI_API_KEY",
        base_url_env: None,
    },
];

impl AgentType {
    pub const ALL: [AgentType; 2] = [AgentType::Claude, AgentType::Opencode];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "claude" => Some(AgentType::Claude),
            "opencode" => Some(AgentType::Opencode),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AgentType::Claude => "claude",
            AgentType::Opencode => "opencode",
        }
    }

    /// What people call it.
    pub fn display_name(self) -> &'static str {
        match self {
            AgentType::Claude => "Claude Code",
            AgentType::Opencode => "OpenCode",
        }
    }

    /// The program's name on PATH.
    pub fn program(self) -> &'static str {
        self.as_str()
    }

    /// How a person installs it.
    pub fn install_hint(self) -> &'static str {
        match self {
            AgentType::Claude => "npm install -g @anthropic-ai/claude-code",
            AgentType::Opencode => "npm install -g opencode-ai",
        }
    }

    pub fn providers(self) -> &'static [ProviderSpec] {
        match self {
            AgentType::Claude => std::slice::from_ref(&ANTHROPIC),
            AgentType::Opencode => OPENCODE_PROVIDERS,
        }
    }

    pub fn provider(self, id: &str) -> Option<&'static ProviderSpec> {
        self.providers().iter().find(|p| p.id == id)
    }
}

/// How the agent may use tools without asking.
pub const PERMISSION_MODES: &[&str] = &["default", "acceptEdits", "plan", "bypassPermissions"];

#[derive(Debug, thiserror::Error)]
pub enum AgentsError {
    /// Bad input; the message names the field.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The identity is locked, so sealed keys cannot be read or written.
    #[error("the identity is locked: unlock Holdfast first")]
    Locked,
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("agents: {0}")]
    Io(#[from] std::io::Error),
}

impl From<rusqlite::Error> for AgentsError {
    fn from(e: rusqlite::Error) -> Self {
        AgentsError::Catalog(CatalogError::Sqlite(e))
    }
}

pub type Result<T> = std::result::Result<T, AgentsError>;

/// A fresh id with a readable prefix (`ai_`, `as_`, `at_`).
pub fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        hex::encode(crate::identity::crypto::random_bytes::<16>())
    )
}

/// Whether `id` looks like one of ours with this prefix (bounds every path).
pub fn valid_id(id: &str, prefix: &str) -> bool {
    id.len() == prefix.len() + 32
        && id.starts_with(prefix)
        && id[prefix.len()..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A handle on the stored agents and their files under `<data dir>/agents`.
#[derive(Clone)]
pub struct AgentStore {
    pub(crate) catalog: Catalog,
    root: PathBuf,
}

impl AgentStore {
    pub fn new(catalog: Catalog, data_dir: &Path) -> Self {
        Self {
            catalog,
            root: data_dir.join("agents"),
        }
    }

    /// Everything of one instance on disk (config dir, attachments).
    pub fn instance_dir(&self, id: &str) -> PathBuf {
        self.root.join("instances").join(id)
    }

    /// The agent program's own config dir for this instance (its
    /// `CLAUDE_CONFIG_DIR` / `XDG_CONFIG_HOME`), apart from the user's.
    pub fn config_dir(&self, id: &str) -> PathBuf {
        self.instance_dir(id).join("config")
    }

    pub fn attachments_dir(&self, id: &str) -> PathBuf {
        self.instance_dir(id).join("attachments")
    }

    /// Per-session scratch files (the MCP config handed to the agent).
    pub fn session_dir(&self, sid: &str) -> PathBuf {
        self.root.join("sessions").join(sid)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}

/// Checks a display name: trimmed, 1..=MAX_NAME_CHARS, no control chars.
pub fn check_name(field: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AgentsError::BadRequest(format!(
            "{field}: 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AgentsError::BadRequest(format!(
            "{field}: no control characters"
        )));
    }
    Ok(name.to_owned())
}
