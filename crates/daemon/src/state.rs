//! What request handlers share: handles on core services plus the facts about
//! this process that status endpoints report.

use std::sync::Arc;

use holdfast_core::Catalog;
use holdfast_core::auth::Auth;
use holdfast_core::metrics::Metrics;
use libp2p_identity::PeerId;

#[derive(Clone)]
pub struct AppState {
    pub auth: Arc<Auth>,
    pub catalog: Catalog,
    pub metrics: Arc<Metrics>,
    pub node: Arc<NodeFacts>,
}

/// Facts fixed at start-up.
pub struct NodeFacts {
    pub peer_id: PeerId,
    pub started_at_ms: i64,
    /// SHA-256 of the API's TLS certificate, when it serves HTTPS.
    pub tls_fingerprint: Option<String>,
    pub s3_enabled: bool,
}
