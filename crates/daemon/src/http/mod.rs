//! HTTP plumbing shared by every surface (REST, IPC, hub, S3): Host/Origin
//! policy against DNS rebinding, request accounting, panics answered in the
//! surface's shape, and serving a router on
//! a bound listener with optional TLS and graceful shutdown.

pub mod bearer;
pub mod content;
pub mod counting;
pub mod download;
pub mod host_policy;
pub mod observe;
pub mod panics;
pub mod serve;
