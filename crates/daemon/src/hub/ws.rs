//! The WebSocket (`/api/v1/ws?token=…&device_id=…&client_version=…`, §4):
//! JSON text frames both ways. A device socket relays its MLS frames into
//! the groups and queues, receives nudges and live frames, and is pinged
//! every 30 s. Refusals at the handshake are 401/403 only for credentials
//! that are really dead (revoked, deleted, bad token); transient trouble
//! never uses a code agents treat as final.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use holdfast_core::hub::devices::{self, Device};
use holdfast_core::hub::groups::{self, Application, CommitOutcome};
use holdfast_core::hub::live::Outbound;
use holdfast_core::hub::rooms::{self, RoomMessage};
use holdfast_core::hub::{a2a, parse_id, queue};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::{Instant, interval};

use super::auth::{device_of_token, is_owner};
use super::error::HubApiError;
use super::room_routes::{Relayed, relay};
use crate::state::AppState;

/// Application-level ping period (§4.5).
const PING_EVERY: Duration = Duration::from_secs(30);
/// A socket silent this long is closed with 1000 (non-terminal).
const SILENT_FOR: Duration = Duration::from_secs(120);
/// Largest frame accepted.
const MAX_FRAME: usize = 1024 * 1024;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WsQuery {
    /// A device JWT (or the owner's bearer).
    token: Option<String>,
    device_id: Option<String>,
    /// At most 64 chars of `[A-Za-z0-9._@/+-]`, for diagnostics.
    client_version: Option<String>,
}

fn client_version(v: Option<&str>) -> Option<String> {
    let v = v?;
    let ok = !v.is_empty()
        && v.len() <= 64
        && !v.contains("..")
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@/+-".contains(&b));
    ok.then(|| v.to_owned())
}

/// Open the socket.
#[utoipa::path(get, path = "/api/v1/ws", tag = "websocket", params(WsQuery),
    responses((status = 101, description = "Switching protocols"), (status = 401, description = "Bad or dead token"),
        (status = 403, description = "Revoked device, or device_id of another device")))]
pub async fn upgrade(
    State(state): State<AppState>,
    Query(q): Query<WsQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response, HubApiError> {
    let token = q
        .token
        .as_deref()
        .ok_or_else(|| HubApiError::unauthorized("token is required"))?;
    let ws = ws.max_message_size(MAX_FRAME).max_frame_size(MAX_FRAME);
    if is_owner(&state, token) {
        return Ok(ws
            .on_upgrade(move |socket| owner_socket(state, socket))
            .into_response());
    }
    let device = device_of_token(&state, token).await?;
    match device.status.as_str() {
        devices::ACTIVE | devices::SUSPENDED => {}
        devices::REVOKED => return Err(HubApiError::forbidden("Device has been revoked")),
        _ => return Err(HubApiError::forbidden("Device is not active")),
    }
    if let Some(named) = q.device_id.as_deref()
        && parse_id(named).as_deref() != Some(device.id.as_str())
    {
        return Err(HubApiError::forbidden("device_id does not match the token"));
    }
    let version = client_version(q.client_version.as_deref());
    Ok(ws
        .on_upgrade(move |socket| device_socket(state, device, version, socket))
        .into_response())
}

fn text(v: &Value) -> Message {
    Message::Text(Utf8Bytes::from(v.to_string()))
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

async fn device_socket(
    state: AppState,
    device: Device,
    version: Option<String>,
    mut socket: WebSocket,
) {
    let hub = state.hub.core.clone();
    // A suspended device may stay connected but gets nothing (§3.3). Join
    // first: the device is online from the moment its socket is up.
    let active = device.status == devices::ACTIVE;
    let mut reg = active.then(|| hub.live.join(&device.id));
    let _ = devices::seen(&hub.catalog, &device.id, version).await;
    if active && queue::pending(&hub.catalog, &device.id).await.unwrap_or(0) > 0 {
        hub.live.nudge(&device.id, 1);
    }
    let mut ping = interval(PING_EVERY);
    ping.tick().await;
    let mut heard = Instant::now();
    let mut noted = Instant::now();
    loop {
        let outbound = async {
            match reg.as_mut() {
                Some(r) => r.rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = ping.tick() => {
                if heard.elapsed() > SILENT_FOR {
                    let _ = socket.send(close(1000, "no pong")).await;
                    break;
                }
                if socket.send(text(&json!({"event": "ping"}))).await.is_err() {
                    break;
                }
            }
            out = outbound => match out {
                Some(Outbound::Frame(v)) => {
                    if socket.send(text(&v)).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close(code, reason)) => {
                    let _ = socket.send(close(code, reason)).await;
                    break;
                }
                None => break,
            },
            _ = state.shutdown.cancelled() => {
                let _ = socket.send(close(1012, "restarting")).await;
                break;
            }
            msg = socket.recv() => {
                let Some(Ok(msg)) = msg else { break };
                heard = Instant::now();
                if noted.elapsed() > Duration::from_secs(60) {
                    noted = Instant::now();
                    let _ = devices::seen(&hub.catalog, &device.id, None).await;
                }
                match msg {
                    Message::Text(t) => {
                        let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else { continue };
                        if !active {
                            continue;
                        }
                        if let Some(reply) = on_frame(&state, &device, v).await {
                            for r in reply {
                                if socket.send(text(&r)).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    Message::Close(_) => break,
                    _ => {}
                }
            }
        }
    }
    if let Some(r) = reg {
        hub.live.leave(&device.id, r.serial);
    }
    let _ = devices::seen(&hub.catalog, &device.id, None).await;
}

fn error_frame(detail: impl Into<String>) -> Value {
    json!({"event": "error", "data": {"detail": detail.into()}})
}

fn str_field(d: &Value, k: &str) -> Option<String> {
    d.get(k)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|s| !s.is_empty())
}

fn payload(d: &Value) -> Result<Vec<u8>, Value> {
    str_field(d, "payload")
        .and_then(|p| hex::decode(p).ok())
        .ok_or_else(|| error_frame("payload must be hex"))
}

/// Handle one inbound frame; returns frames for the sender.
pub async fn on_frame(state: &AppState, device: &Device, v: Value) -> Option<Vec<Value>> {
    let event = v.get("event").and_then(Value::as_str)?.to_owned();
    let data = v.get("data").cloned().unwrap_or_else(|| json!({}));
    let hub = &state.hub.core;
    match event.as_str() {
        "pong" | "typing" | "telemetry.mls" => None,
        "message_mls" | "room_message_mls" | "a2a_message_mls" => {
            if let Err(_wait) = state.hub.limits.messages.check(&device.id) {
                return Some(vec![error_frame("Rate limit exceeded")]);
            }
            if event == "a2a_message_mls" {
                let channel = str_field(&data, "a2a_channel_id").and_then(|c| parse_id(&c));
                let Some(channel) = channel else {
                    return Some(vec![error_frame("Channel not found")]);
                };
                if let Err(e) = a2a::check_sender(&hub.catalog, &channel, &device.id).await {
                    return Some(vec![error_frame(e.to_string())]);
                }
            }
            let Some(group) = str_field(&data, "group_id").and_then(|g| parse_id(&g)) else {
                return Some(vec![error_frame("group_id is required")]);
            };
            let payload = match payload(&data) {
                Ok(p) => p,
                Err(e) => return Some(vec![e]),
            };
            // Room traffic always passes the policy engine, whichever event
            // carried it.
            let room = match event.as_str() {
                "room_message_mls" => {
                    match str_field(&data, "room_id").and_then(|r| parse_id(&r)) {
                        Some(r) => Some(r),
                        None => return Some(vec![error_frame("room_id is required")]),
                    }
                }
                _ => match rooms::of_group(&hub.catalog, &group).await {
                    Ok(r) => r.map(|(id, _)| id),
                    Err(e) => return Some(vec![error_frame(e.to_string())]),
                },
            };
            if let Some(room) = room {
                return room_frame(state, device, &data, room, group, payload).await;
            }
            let m = Application {
                group_id: group,
                payload,
                epoch: data.get("epoch").and_then(Value::as_i64),
                message_type: str_field(&data, "message_type").unwrap_or_else(|| "text".into()),
                client_message_id: str_field(&data, "client_message_id"),
                topic_id: str_field(&data, "topic_id"),
                parent_span_id: str_field(&data, "parent_span_id"),
            };
            match groups::application(hub, &device.id, m).await {
                Ok(_) => None,
                Err(e) => Some(vec![error_frame(e.to_string())]),
            }
        }
        "mls_commit" => {
            let Some(group) = str_field(&data, "group_id").and_then(|g| parse_id(&g)) else {
                return Some(vec![error_frame("group_id is required")]);
            };
            let Some(epoch) = data.get("epoch").and_then(Value::as_i64) else {
                return Some(vec![error_frame("epoch must be an integer")]);
            };
            let payload = match payload(&data) {
                Ok(p) => p,
                Err(e) => return Some(vec![e]),
            };
            let members = data
                .get("member_device_ids")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .filter_map(parse_id)
                        .collect()
                })
                .unwrap_or_default();
            match groups::commit(
                hub,
                &device.id,
                &group,
                epoch,
                payload,
                members,
                str_field(&data, "parent_digest"),
            )
            .await
            {
                Ok(CommitOutcome::Accepted { .. }) => None,
                Ok(CommitOutcome::Refused(d)) => Some(vec![json!({"event": "error", "data": d})]),
                Err(e) => Some(vec![error_frame(e.to_string())]),
            }
        }
        "mls_welcome" => {
            let Some(group) = str_field(&data, "group_id").and_then(|g| parse_id(&g)) else {
                return Some(vec![error_frame("group_id is required")]);
            };
            let payload = match payload(&data) {
                Ok(p) => p,
                Err(e) => return Some(vec![e]),
            };
            let target = match str_field(&data, "target_device_id").and_then(|t| parse_id(&t)) {
                Some(t) => Some(t),
                None => match str_field(&data, "target_hub_id") {
                    Some(h) => resolve_hub_id(state, &h).await,
                    None => None,
                },
            };
            let Some(target) = target else {
                return Some(vec![error_frame("Welcome target not found")]);
            };
            match groups::welcome(hub, &device.id, &group, &target, payload).await {
                Ok(()) => None,
                Err(e) => Some(vec![error_frame(e.to_string())]),
            }
        }
        "mls_sync" => {
            let src = if v.get("group_id").is_some() {
                &v
            } else {
                &data
            };
            let Some(group) = str_field(src, "group_id").and_then(|g| parse_id(&g)) else {
                return Some(vec![error_frame("group_id is required")]);
            };
            let last = src.get("last_epoch").and_then(Value::as_i64);
            match groups::sync(hub, &group, &device.id, last).await {
                Ok(answer) => {
                    let replay = answer["action"] == "replay";
                    let mut out = vec![json!({"event": "mls_sync_response", "data": answer})];
                    if replay {
                        out.push(json!({"event": "mls_sync_response",
                            "data": {"group_id": group, "action": "replay_complete"}}));
                    }
                    Some(out)
                }
                Err(e) => Some(vec![error_frame(e.to_string())]),
            }
        }
        _ => None,
    }
}

/// A room message from a device (§8.1): the sender must be in the room's
/// roster and the frame's group the room's; then the policy engine decides.
/// A blocked message is answered with an `error` frame; a held one with
/// nothing until the owner answers (a denial sends the `error` frame then).
async fn room_frame(
    state: &AppState,
    device: &Device,
    data: &Value,
    room: String,
    group: String,
    payload: Vec<u8>,
) -> Option<Vec<Value>> {
    let hub = &state.hub.core;
    if let Err(e) =
        rooms::check_sender(&hub.catalog, &device.tenant_id, &room, &group, &device.id).await
    {
        let mut f = error_frame(e.to_string());
        f["data"]["room_id"] = room.into();
        f["data"]["group_id"] = group.into();
        return Some(vec![f]);
    }
    let client_message_id = str_field(data, "client_message_id");
    let m = RoomMessage {
        tenant_id: device.tenant_id.clone(),
        room_id: room.clone(),
        group_id: group.clone(),
        sender_device_id: device.id.clone(),
        payload,
        header_blob: None,
        message_type: str_field(data, "message_type").unwrap_or_else(|| "text".into()),
        client_message_id: client_message_id.clone(),
        epoch: data.get("epoch").and_then(Value::as_i64),
        topic_id: str_field(data, "topic_id"),
        parent_span_id: str_field(data, "parent_span_id"),
    };
    match relay(state, m).await {
        Ok(Relayed::Delivered { .. } | Relayed::Held(_)) => None,
        Ok(Relayed::Blocked { policy_id }) => Some(vec![json!({"event": "error", "data": {
            "detail": "Message blocked by policy", "code": "POLICY_BLOCKED",
            "room_id": room, "group_id": group, "client_message_id": client_message_id,
            "policy_id": policy_id,
        }})]),
        Err(e) => Some(vec![error_frame(e.detail)]),
    }
}

/// The device of a hub identity (its `hub_id`, or a device id).
async fn resolve_hub_id(state: &AppState, hub_id: &str) -> Option<String> {
    let id = parse_id(hub_id)?;
    match devices::by_hub_id(&state.hub.core.catalog, &id).await {
        Ok(Some(d)) => Some(d),
        // A remote A2A participant (federation).
        _ => a2a::device_of_hub_id(&state.hub.core.catalog, &id)
            .await
            .ok()
            .flatten(),
    }
}

/// The owner's socket: hub events (presence, devices, agent messages) as
/// frames, and pings.
async fn owner_socket(state: AppState, mut socket: WebSocket) {
    let mut events = state.events.subscribe();
    let mut ping = interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            _ = ping.tick() => {
                if socket.send(text(&json!({"event": "ping"}))).await.is_err() { break; }
            }
            ev = events.recv() => match ev {
                Ok(e) => {
                    let kind = e["type"].as_str().unwrap_or_default().to_owned();
                    if kind.starts_with("agent_")
                        && socket.send(text(&json!({"event": kind, "data": e}))).await.is_err()
                    {
                        break;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            },
            _ = state.shutdown.cancelled() => {
                let _ = socket.send(close(1012, "restarting")).await;
                break;
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                _ => {}
            },
        }
    }
}
