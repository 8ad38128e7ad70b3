//! holdfast-daemon: Holdfast's network surfaces in front of holdfast-core,
//! the lifecycle that runs them ([`RunningDaemon`]), and the `holdfast` CLI.

pub mod agents;
pub mod api;
pub mod cli;
pub mod daemon;
pub mod endpoints;
pub mod enrich;
pub mod http;
pub mod hub;
pub mod ipc;
pub mod logging;
pub mod s3;
pub mod state;
pub mod tls;
pub mod web;

pub use daemon::RunningDaemon;
