//! The S3 listener's router (being written).

use std::net::SocketAddr;

use axum::Router;

use crate::state::AppState;

pub fn router(_state: AppState, _addr: SocketAddr) -> Router {
    Router::new()
}
