//! Nodes heard through gossip, the topology, speed tests and the mesh's
//! throughput ring.

use axum::Json;
use axum::extract::{Path, State};
use holdfast_core::mesh::NodeView;
use holdfast_core::mesh::speed::{BUCKET_MS, Bucket, SpeedResult};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// A node with the name the user gave it, when it is a contact.
async fn with_contact(state: &AppState, nodes: Vec<NodeView>) -> ApiResult<Vec<serde_json::Value>> {
    let contacts = state.contacts.list().await?;
    Ok(nodes
        .into_iter()
        .map(|n| {
            let contact = contacts
                .iter()
                .find(|c| c.node_id == n.info.node_id)
                .map(|c| c.name.clone());
            let mut v = serde_json::to_value(n).unwrap_or_default();
            v["contact"] = contact.into();
            v
        })
        .collect())
}

/// Every other node heard from (display name, country, caps, vaults, and
/// `contact`: its name in your contacts). Empty while offline.
#[utoipa::path(get, path = "/nodes", tag = "nodes", security(("bearer" = [])),
    responses((status = 200, description = "Array of nodes", body = [Object])))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let nodes = state.mesh.nodes();
    Ok(Json(with_contact(&state, nodes).await?))
}

/// This daemon as other nodes see it.
#[utoipa::path(get, path = "/nodes/self", tag = "nodes", security(("bearer" = [])),
    responses((status = 200, description = "A node", body = Object)))]
pub async fn self_node(State(state): State<AppState>) -> ApiResult<Json<NodeView>> {
    Ok(Json(state.mesh.self_node().await?))
}

/// One node.
#[utoipa::path(get, path = "/nodes/{node_id}", tag = "nodes", security(("bearer" = [])),
    params(("node_id" = String, Path)),
    responses((status = 200, description = "A node", body = Object), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<NodeView>> {
    Ok(Json(state.mesh.node(&id).await?))
}

/// Nodes (self included) and the connections they announce.
#[utoipa::path(get, path = "/network/topology", tag = "nodes", security(("bearer" = [])),
    responses((status = 200, description = "{nodes, edges, generated_ms}", body = Object)))]
pub async fn topology(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(state.mesh.topology().await?))
}

/// Latency (best of 5 round trips) and throughput (16 MiB) to a connected
/// member, over the mesh's own transport.
#[utoipa::path(post, path = "/network/speedtest/{peer_id}", tag = "nodes", security(("bearer" = [])),
    params(("peer_id" = String, Path)),
    responses((status = 200, description = "{peer_id, latency_ms, bytes, duration_ms, throughput_bps, ts_ms}", body = Object),
              (status = 400, description = "Not a peer id", body = ErrorBody),
              (status = 404, description = "Not a connected member", body = ErrorBody),
              (status = 502, description = "The test broke off", body = ErrorBody),
              (status = 503, description = "Offline", body = ErrorBody)))]
pub async fn speedtest(
    State(state): State<AppState>,
    Path(peer): Path<String>,
) -> ApiResult<Json<SpeedResult>> {
    Ok(Json(state.mesh.speedtest(&peer).await?))
}

/// The last 50 speed tests against a peer, newest first.
#[utoipa::path(get, path = "/network/speedtest/{peer_id}/history", tag = "nodes", security(("bearer" = [])),
    params(("peer_id" = String, Path)),
    responses((status = 200, description = "Array of results", body = [Object]), (status = 400, body = ErrorBody)))]
pub async fn speedtest_history(
    State(state): State<AppState>,
    Path(peer): Path<String>,
) -> ApiResult<Json<Vec<SpeedResult>>> {
    Ok(Json(state.mesh.speed_history(&peer).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Throughput {
    pub bucket_ms: i64,
    /// Oldest first; the last bucket is still filling.
    #[schema(value_type = Vec<Object>)]
    pub buckets: Vec<Bucket>,
}

/// Bytes in and out on the mesh's sockets: 10 minutes of 10 s buckets.
#[utoipa::path(get, path = "/stats/throughput", tag = "nodes", security(("bearer" = [])),
    responses((status = 200, body = Throughput)))]
pub async fn throughput(State(state): State<AppState>) -> Json<Throughput> {
    Json(Throughput {
        bucket_ms: BUCKET_MS,
        buckets: state.mesh.throughput(),
    })
}
