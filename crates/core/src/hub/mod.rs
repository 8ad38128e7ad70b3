//! The agent hub: a zero-knowledge relay where agent devices enrol by invite
//! and exchange MLS ciphertext with their owner (spec/agent-hub-api.md and
//! spec/agent-hub-device-protocol.md). It stores and forwards ciphertext,
//! public keys and handshake material only; the owner's own device
//! ([`owner`]) is an MLS client beside it that the relay treats like any
//! other device, so the relay never has a plaintext path.
//!
//! HTTP lives in the daemon (`hub/`); this module owns the rules and tables.

pub mod a2a;
pub mod apikeys;
pub mod attachments;
pub mod conversations;
pub mod decisions;
pub mod devices;
pub mod enrolment;
pub mod federation;
pub mod groups;
pub mod held;
pub mod history;
pub mod identities;
pub mod invites;
pub mod keypackages;
pub mod live;
pub mod marketplace;
pub mod mls;
pub mod policies;
pub mod rooms;

pub mod activity;
pub mod prompts;
pub mod proof;
pub mod push;
pub mod queue;
pub mod scan_rules;
pub mod settings;
pub mod telemetry;
pub mod tenants;
pub mod tokens;
pub mod topics;
pub mod trust;
pub mod workspaces;

use std::sync::Arc;

use crate::catalog::{Catalog, CatalogError};
use crate::events::EventBus;

pub use live::Live;
pub use tokens::Tokens;

/// Why a hub operation failed; the daemon maps each to a status and a
/// `{"detail": …}` body.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
    /// 413: over a size limit or a storage quota.
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl From<rusqlite::Error> for HubError {
    fn from(e: rusqlite::Error) -> Self {
        HubError::Catalog(e.into())
    }
}

pub type HubResult<T> = Result<T, HubError>;

/// A new canonical lowercase UUID (§0: every id the hub emits).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A canonical lowercase UUID from client input, or None.
pub fn parse_id(s: &str) -> Option<String> {
    uuid::Uuid::parse_str(s.trim())
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// Handles the hub's parts share.
#[derive(Clone)]
pub struct Hub {
    pub catalog: Catalog,
    pub events: EventBus,
    /// Open sockets (and the owner's in-process device), by device.
    pub live: Live,
    /// Device JWTs.
    pub tokens: Arc<Tokens>,
    /// The tenant the daemon owner lands in unless a request names another.
    pub default_tenant: String,
    /// Enrolment prompts on screen.
    pub prompts: enrolment::Prompts,
    /// Held-message prompts on screen.
    pub held: held::Prompts,
    /// Decision prompts on screen.
    pub decision_prompts: decisions::Prompts,
    /// A2A channel prompts on screen.
    pub a2a_prompts: a2a::Prompts,
}

impl Hub {
    /// Load (creating on first start) the signing secret and default tenant.
    pub async fn open(catalog: Catalog, events: EventBus) -> HubResult<Self> {
        let tokens = Arc::new(Tokens::load(&catalog).await?);
        let default_tenant = tenants::ensure_default(&catalog).await?;
        Ok(Self {
            live: Live::new(events.clone()),
            catalog,
            events,
            tokens,
            default_tenant,
            prompts: Default::default(),
            held: Default::default(),
            decision_prompts: Default::default(),
            a2a_prompts: Default::default(),
        })
    }

    /// Tell live views (Agents page, tray) that a device changed.
    pub fn announce_device(&self, d: &devices::Device) {
        self.events.publish(
            "agent_device",
            serde_json::json!({
                "device_id": d.id, "status": d.status, "name": d.name, "tenant_id": d.tenant_id,
            }),
        );
    }
}
