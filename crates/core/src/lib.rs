//! holdfast-core: everything Holdfast knows and decides, independent of how it
//! is reached. The daemon crate puts HTTP surfaces in front of it and the
//! desktop shell puts windows in front of those; nothing here speaks HTTP.

pub mod agents;
pub mod approvals;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod catalog;
pub mod config;
pub mod contacts;
pub mod diagnostics;
pub mod events;
pub mod folders;
pub mod fsutil;
pub mod hub;
pub mod identity;
pub mod media;
pub mod mesh;
pub mod metrics;
pub mod node_key;
pub mod paths;
pub mod profile;
pub mod s3;
pub mod secret;
pub mod settings;
pub mod store;
pub mod time;
pub mod vaults;

pub use catalog::Catalog;
pub use config::Config;
pub use paths::Paths;
