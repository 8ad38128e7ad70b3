//! What request handlers share: handles on core services plus the facts about
//! this process that status endpoints report. Both surfaces (REST and IPC)
//! use the same state, so an approval raised on IPC is answered over REST.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use holdfast_core::Catalog;
use holdfast_core::approvals::Approvals;
use holdfast_core::apps::Apps;
use holdfast_core::audit::Audit;
use holdfast_core::auth::Auth;
use holdfast_core::backups::Backups;
use holdfast_core::contacts::Contacts;
use holdfast_core::diagnostics::Diagnostics;
use holdfast_core::events::EventBus;
use holdfast_core::folders::FolderSync;
use holdfast_core::identity::Identity;
use holdfast_core::identity::keyring::RememberedKey;
use holdfast_core::mesh::Mesh;
use holdfast_core::metrics::Metrics;
use holdfast_core::profile::Profile;
use holdfast_core::vaults::Vaults;
use libp2p_identity::PeerId;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct AppState {
    pub auth: Arc<Auth>,
    pub catalog: Catalog,
    pub metrics: Arc<Metrics>,
    pub node: Arc<NodeFacts>,
    pub identity: Arc<Identity>,
    pub approvals: Arc<Approvals>,
    pub apps: Apps,
    pub backups: Backups,
    pub audit: Audit,
    /// The "remember on this device" slot of this data dir.
    pub remembered: Arc<RememberedKey>,
    pub vaults: Vaults,
    /// The libp2p mesh: networks, nodes, replication.
    pub mesh: Mesh,
    /// Folder-backed vaults' scanners and watchers.
    pub folders: FolderSync,
    /// Saved "Report a problem" bundles.
    pub diagnostics: Diagnostics,
    /// Live events for SSE and other views.
    pub events: EventBus,
    /// The node's profile (REST `/profile`; its public part feeds the mesh).
    pub profile: Profile,
    /// Favourite mesh nodes.
    pub contacts: Contacts,
    /// Runtime settings (`/settings`): enrichment API keys and URLs.
    pub settings: holdfast_core::settings::Settings,
    /// Media enrichment and the music library.
    pub media: holdfast_core::media::Media,
    /// The S3 gateway: keys, grants, object metadata, its listener.
    pub s3: crate::s3::S3State,
    /// The agent hub and the owner's device in it.
    pub hub: crate::hub::HubState,
    /// Coding-agent instances used across the mesh (`agents::remote`).
    pub agent_remote: crate::agents::remote::RemoteState,
    /// Coding-agent instances and the sessions the daemon runs.
    pub agents: crate::agents::AgentsState,
    /// Cancelled when shutdown begins, so long-lived streams end.
    pub shutdown: CancellationToken,
}

/// Facts fixed at start-up.
pub struct NodeFacts {
    pub peer_id: PeerId,
    pub started_at_ms: i64,
    /// SHA-256 of the API's TLS certificate, when it serves HTTPS.
    pub tls_fingerprint: Option<String>,
    /// How long approval prompts wait.
    pub approval_timeout: std::time::Duration,
    /// Where the IPC surface listens, once bound.
    pub ipc_addr: OnceLock<SocketAddr>,
}
