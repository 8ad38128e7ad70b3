//! Coding agents on this machine (issue 22): the daemon supervises agent
//! programs (Claude Code, OpenCode) as child processes, one run per turn,
//! in a registered workspace. What is stored lives in core
//! (`holdfast_core::agents`); here are the processes (`runner`), the
//! programs found on this host (`capabilities`), the approval helper the
//! agent calls over MCP (`mcp_approve`), the per-session live streams, and
//! instances used across the mesh (`remote`).

pub mod capabilities;
pub mod fork;
pub mod mcp_approve;
pub mod remote;
pub mod runner;

use std::sync::Arc;

use holdfast_core::agents::{AgentStore, AgentsError};
use holdfast_core::identity::Identity;
use holdfast_core::identity::crypto::Key;

use crate::api::ApiError;

/// The purpose string of the key that seals provider keys, MCP secrets and
/// access keys.
pub const SEAL_PURPOSE: &str = "holdfast/agents/secrets/v1";

#[derive(Clone)]
pub struct AgentsState {
    pub store: AgentStore,
    pub runner: Arc<runner::Runner>,
}

impl AgentsState {
    /// The key agent secrets are sealed under: the identity must be unlocked.
    pub fn seal_key(identity: &Identity) -> Result<Key, ApiError> {
        identity
            .purpose_key(SEAL_PURPOSE)
            .map_err(|_| ApiError::forbidden("the identity is locked: unlock Holdfast first"))
    }
}

impl From<AgentsError> for ApiError {
    fn from(e: AgentsError) -> Self {
        let m = e.to_string();
        match e {
            AgentsError::BadRequest(_) => ApiError::bad_request(m),
            AgentsError::NotFound(_) => ApiError::not_found(m),
            AgentsError::Conflict(_) => ApiError::new(axum::http::StatusCode::CONFLICT, m),
            AgentsError::Locked => ApiError::forbidden(m),
            AgentsError::Catalog(c) => ApiError::internal(c),
            AgentsError::Io(io) => {
                tracing::error!("agents: {io}");
                ApiError::internal("agents: a file could not be read or written")
            }
        }
    }
}
