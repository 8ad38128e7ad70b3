//! Sharing a coding-agent instance with the owner's other devices
//! (`GET /instances/{id}/share-url`, `POST /instances/{id}/reset-key`) and
//! adding one another device hosts (`POST /instances/remote`). The traffic
//! itself rides the mesh: `crate::agents::remote`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use holdfast_core::agents::{AgentType, AgentsError, check_name, valid_id};
use holdfast_core::mesh::urls::{self, AgentShare};
use libp2p_identity::PeerId;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::agents::remote::{self, seal_key};
use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::ApiJson;
use crate::api::v1::agent_instances::instance_view;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct AgentShareUrl {
    /// `holdfast://agent/v1/…`: it carries the instance's access key;
    /// whoever holds it can use the instance. Share it only with your own
    /// devices.
    pub url: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddRemoteBody {
    /// A `holdfast://agent/v1/…` share URL.
    pub url: String,
    /// The name shown here (default: the name the host gave it).
    pub name: Option<String>,
}

fn agents_err(e: AgentsError) -> ApiError {
    e.into()
}

fn no_store(url: String) -> (HeaderMap, Json<AgentShareUrl>) {
    let mut h = HeaderMap::new();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (h, Json(AgentShareUrl { url }))
}

/// The share URL of local instance `id`, its key made or rotated.
async fn share(state: &AppState, id: &str, rotate: bool) -> ApiResult<String> {
    let store = state.agent_remote.store();
    let inst = store.instance(id).await.map_err(agents_err)?;
    if inst.remote {
        return Err(ApiError::bad_request(
            "this instance is hosted by another device: share it from there",
        ));
    }
    let network_id = state
        .mesh
        .status()
        .await
        .id
        .ok_or(holdfast_core::mesh::MeshError::Offline)?;
    let key = seal_key(state)?;
    let access_key = store
        .access_key(&key, id, rotate)
        .await
        .map_err(agents_err)?;
    if rotate {
        state.agent_remote.revoke(id);
    }
    Ok(urls::agent_url(&AgentShare {
        instance_id: inst.id,
        kind: inst.kind.as_str().to_owned(),
        name: inst.name,
        node_id: state.mesh.peer_id().to_string(),
        addrs: state.mesh.reachable_addrs(),
        network_id: Some(network_id),
        key: access_key,
    }))
}

/// The share URL of an instance: other devices of the mesh add it with
/// `POST /instances/remote` and use it over the mesh.
#[utoipa::path(get, path = "/instances/{id}/share-url", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = AgentShareUrl),
              (status = 400, description = "A remote instance (share it from its host)", body = ErrorBody),
              (status = 403, description = "Identity locked", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 503, description = "Limited mode: no network connected", body = ErrorBody)))]
pub async fn share_url(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<AgentShareUrl>)> {
    let url = share(&state, &id, false).await?;
    state
        .audit
        .record("agent_instance_shared", json!({"instance_id": id}))
        .await;
    Ok(no_store(url))
}

/// A new access key: the old share URL, and every device that added the
/// instance with it, are refused from now on (their open streams close).
#[utoipa::path(post, path = "/instances/{id}/reset-key", tag = "agents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = AgentShareUrl),
              (status = 400, description = "A remote instance", body = ErrorBody),
              (status = 403, description = "Identity locked", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 503, description = "Limited mode: no network connected", body = ErrorBody)))]
pub async fn reset_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<AgentShareUrl>)> {
    let url = share(&state, &id, true).await?;
    state
        .audit
        .record("agent_instance_key_reset", json!({"instance_id": id}))
        .await;
    Ok(no_store(url))
}

/// Add an instance another device hosts, from its share URL. The host is
/// asked at once when it is reachable (a link it refuses is not added);
/// an unreachable host is added all the same and shown unavailable. A
/// fresh link for an instance added before updates its key (200).
#[utoipa::path(post, path = "/instances/remote", tag = "agents", security(("bearer" = [])),
    request_body = AddRemoteBody,
    responses((status = 201, description = "The remote instance (`remote: true`)", body = Object),
              (status = 200, description = "A fresh link for an instance added before: its key is updated", body = Object),
              (status = 400, description = "Not an agent share URL, an unknown version, or this device's own", body = ErrorBody),
              (status = 403, description = "Identity locked, or the host refused the link", body = ErrorBody),
              (status = 404, description = "The host no longer has the instance", body = ErrorBody),
              (status = 409, description = "The host is on another network", body = ErrorBody),
              (status = 503, description = "Limited mode: no network connected", body = ErrorBody)))]
pub async fn add_remote(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AddRemoteBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let share = urls::parse_agent(&body.url).map_err(ApiError::bad_request)?;
    let kind = AgentType::parse(&share.kind).ok_or_else(|| {
        ApiError::bad_request(format!(
            "this link is for a {:?} agent, which this version of Holdfast does not know; update Holdfast",
            share.kind
        ))
    })?;
    let damaged = || ApiError::bad_request("the link is damaged: copy it again");
    if !valid_id(&share.instance_id, "ai_")
        || share.key.is_empty()
        || share.key.len() > 256
        || share.addrs.len() > 64
        || share.addrs.iter().any(|a| a.len() > 512)
    {
        return Err(damaged());
    }
    let host: PeerId = share.node_id.parse().map_err(|_| damaged())?;
    if host == state.mesh.peer_id() {
        return Err(ApiError::bad_request(
            "this instance is on this device already",
        ));
    }
    let name =
        check_name("name", body.name.as_deref().unwrap_or(&share.name)).map_err(agents_err)?;
    let network_id = state
        .mesh
        .status()
        .await
        .id
        .ok_or(holdfast_core::mesh::MeshError::Offline)?;
    if share.network_id.as_ref().is_some_and(|n| *n != network_id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "this instance's device is on another network: join that network first",
        ));
    }
    let store = state.agent_remote.store();
    let host_id = host.to_string();
    let key = seal_key(&state)?;
    let existing = store
        .instances()
        .await
        .map_err(agents_err)?
        .into_iter()
        .find(|i| {
            i.host_node_id.as_deref() == Some(host_id.as_str())
                && i.remote_id.as_deref() == Some(share.instance_id.as_str())
        });
    if let Some(inst) = existing {
        // A fresh link (the host reset its key) for an instance added
        // before: it takes the new key and addresses, if the host takes it.
        let (_, _, old_addrs, old_key) = store
            .remote_target(&key, &inst.id)
            .await
            .map_err(agents_err)?
            .ok_or_else(|| ApiError::not_found("no such agent instance"))?;
        store
            .update_remote(&key, &inst.id, &share.addrs, &share.key)
            .await
            .map_err(agents_err)?;
        if let Some(refusal) = remote::probe(&state, &inst.id).await {
            let _ = store
                .update_remote(&key, &inst.id, &old_addrs, &old_key)
                .await;
            return Err(refusal);
        }
        let inst = store.instance(&inst.id).await.map_err(agents_err)?;
        return Ok((StatusCode::OK, Json(instance_view(&state, inst).await)));
    }
    let inst = store
        .add_remote_instance(
            &key,
            kind,
            &name,
            &host_id,
            &share.instance_id,
            &share.addrs,
            &share.key,
        )
        .await
        .map_err(agents_err)?;
    // Ask the host now: a link it refuses (reset key, deleted instance) is
    // not kept. An unreachable host leaves the instance, unavailable.
    if let Some(refusal) = remote::probe(&state, &inst.id).await {
        let _ = store.delete_instance(&inst.id).await;
        return Err(refusal);
    }
    state
        .audit
        .record(
            "agent_instance_added",
            json!({"instance_id": inst.id, "host_node_id": host_id}),
        )
        .await;
    Ok((StatusCode::CREATED, Json(instance_view(&state, inst).await)))
}
