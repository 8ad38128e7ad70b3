//! Coding-agent instances and sessions on the daemon side.

pub mod remote;

/// The purpose the agents' sealed secrets are derived for.
pub const SEAL_PURPOSE: &str = "holdfast/agents/v1";
