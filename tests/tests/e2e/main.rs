//! End-to-end tests: each starts the real `holdfast` binary on 127.0.0.1:0
//! with its own temporary data directory and talks to it as clients do.

mod harness;

mod auth;
mod bad_input;
mod cli;
mod cli_network;
mod conflicts;
mod crash;
mod diagnostics;
mod errors;
mod events;
mod folders;
mod identity;
mod ipc;
mod ipc_backup;
mod ipc_security;
mod ipc_spec_client;
mod lifecycle;
mod logs;
mod mesh;
mod mesh_relay;
mod openapi;
mod profile;
mod s3_admin;
mod s3_auth;
mod s3_checksums;
mod s3_clients;
mod s3_multipart;
mod s3_objects;
mod s3_support;
mod schemathesis;
mod security;
mod system;
mod tls;
mod ui;
mod ui_conflicts;
mod ui_files;
mod ui_mesh;
mod ui_network;
mod ui_pages;
mod ui_prompts;
mod ui_s3;
mod vault_moves;
mod vault_roles;
mod vaults;
