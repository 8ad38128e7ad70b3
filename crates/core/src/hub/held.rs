//! Held messages: room traffic a `hold` policy stopped. The routing
//! metadata and the ciphertext wait here until the owner answers — in the
//! one approvals queue (tray popup, web UI, REST, CLI; the preview shows
//! metadata only) or through `POST /policies/held-messages/{id}/approve|deny`.
//! Approve → the same fan-out as an allowed message, exactly once (the
//! status flips in the transaction that queues the rows); deny → the
//! ciphertext is dropped and the sender gets an `error` frame.

use super::prompts::PromptSet;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::live::frame;
use super::policies::Verdict;
use super::rooms::{self, RoomMessage};
use super::{Hub, HubError, HubResult, new_id};
use crate::approvals::{ApprovalKind, Approvals, NameSource, NewApproval, Requester};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

pub const NOT_FOUND: &str = "Held message not found";
pub const HELD: &str = "held";
pub const APPROVED: &str = "approved";
pub const DENIED: &str = "denied";

/// A held message as the owner sees it: metadata, never the ciphertext.
#[derive(Debug, Clone, Serialize)]
pub struct Held {
    pub id: String,
    pub tenant_id: String,
    pub room_id: String,
    pub room_name: String,
    pub group_id: String,
    pub sender_device_id: String,
    pub sender_name: String,
    pub policy_id: Option<String>,
    pub policy_name: Option<String>,
    pub message_id: String,
    pub message_type: String,
    pub size_bytes: i64,
    pub status: String,
    pub created_at: String,
    pub decided_at: Option<String>,
}

const SELECT: &str = "SELECT h.id, h.tenant_id, h.room_id, COALESCE(r.name, ''), h.group_id,
        h.sender_device_id, COALESCE(d.name, ''), h.policy_id, h.policy_name, h.message_id,
        h.message_type, h.size_bytes, h.status, h.created_ms, h.decided_ms
     FROM hub_held_messages h
     LEFT JOIN hub_rooms r ON r.id = h.room_id
     LEFT JOIN hub_devices d ON d.id = h.sender_device_id";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Held> {
    Ok(Held {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        room_id: r.get(2)?,
        room_name: r.get(3)?,
        group_id: r.get(4)?,
        sender_device_id: r.get(5)?,
        sender_name: r.get(6)?,
        policy_id: r.get(7)?,
        policy_name: r.get(8)?,
        message_id: r.get(9)?,
        message_type: r.get(10)?,
        size_bytes: r.get(11)?,
        status: r.get(12)?,
        created_at: rfc3339(r.get(13)?),
        decided_at: r.get::<_, Option<i64>>(14)?.map(rfc3339),
    })
}

fn load(conn: &rusqlite::Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<Held>> {
    conn.query_row(
        &format!("{SELECT} WHERE h.tenant_id = ?1 AND h.id = ?2"),
        params![tenant, id],
        from_row,
    )
    .optional()
}

/// Keep a message a `hold` policy stopped.
pub async fn hold(catalog: &Catalog, m: RoomMessage, v: &Verdict) -> HubResult<Held> {
    m.check()?;
    let id = new_id();
    let message_id = new_id();
    let (pid, pname) = (v.policy_id.clone(), v.policy_name.clone());
    let i = id.clone();
    let tenant = m.tenant_id.clone();
    catalog
        .write(move |conn| {
            let linkage = serde_json::to_string(&json!({
                "topic_id": m.topic_id, "parent_span_id": m.parent_span_id,
            }))
            .unwrap_or_else(|_| "{}".into());
            conn.execute(
                "INSERT INTO hub_held_messages (id, tenant_id, room_id, group_id, sender_device_id,
                     policy_id, policy_name, message_id, message_type, size_bytes, header_blob,
                     payload, client_message_id, epoch, linkage, status, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 'held', ?16)",
                params![
                    i,
                    m.tenant_id,
                    m.room_id,
                    m.group_id,
                    m.sender_device_id,
                    pid,
                    pname,
                    message_id,
                    m.message_type,
                    m.payload.len() as i64,
                    m.header_blob,
                    m.payload,
                    m.client_message_id,
                    m.epoch,
                    linkage,
                    now_ms()
                ],
            )?;
            Ok(())
        })
        .await?;
    get(catalog, &tenant, &id).await
}

/// The tenant's messages still waiting, oldest first.
pub async fn list(catalog: &Catalog, tenant: &str) -> HubResult<Vec<Held>> {
    let t = tenant.to_owned();
    Ok(catalog
        .read(move |conn| {
            let mut st = conn.prepare(&format!(
                "{SELECT} WHERE h.tenant_id = ?1 AND h.status = 'held' ORDER BY h.created_ms, h.id"
            ))?;
            st.query_map([t], from_row)?.collect()
        })
        .await?)
}

pub async fn get(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Held> {
    let (t, i) = (tenant.to_owned(), id.to_owned());
    catalog
        .read(move |conn| load(conn, &t, &i))
        .await?
        .ok_or_else(|| HubError::NotFound(NOT_FOUND.into()))
}

/// header_blob, payload, client_message_id, epoch, linkage.
type HeldBody = (
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<String>,
    Option<i64>,
    String,
);

fn answered(h: &Held) -> HubError {
    HubError::Conflict(format!("The held message was already {}", h.status))
}

/// Approve: fan out under the message id it was held with, exactly once.
pub async fn approve(hub: &Hub, tenant: &str, id: &str) -> HubResult<Held> {
    let (t, i) = (tenant.to_owned(), id.to_owned());
    let out = hub
        .catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let Some(h) = load(&tx, &t, &i)? else {
                return Ok(Err(HubError::NotFound(NOT_FOUND.into())));
            };
            if h.status != HELD {
                return Ok(Err(answered(&h)));
            }
            let (header, payload, cmid, epoch, linkage): HeldBody = tx.query_row(
                "SELECT header_blob, payload, client_message_id, epoch, linkage
                 FROM hub_held_messages WHERE id = ?1",
                [&i],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
            let link: Value = serde_json::from_str(&linkage).unwrap_or_default();
            let now = now_ms();
            tx.execute(
                "UPDATE hub_held_messages SET status = 'approved', decided_ms = ?2, payload = NULL,
                     header_blob = NULL WHERE id = ?1 AND status = 'held'",
                params![i, now],
            )?;
            // A sender that left the room meanwhile: nothing to deliver.
            let still_member: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM hub_group_members WHERE group_id = ?1 AND device_id = ?2)",
                params![h.group_id, h.sender_device_id],
                |r| r.get(0),
            )?;
            let rows = match payload {
                Some(p) if still_member => {
                    let m = RoomMessage {
                        tenant_id: h.tenant_id.clone(),
                        room_id: h.room_id.clone(),
                        group_id: h.group_id.clone(),
                        sender_device_id: h.sender_device_id.clone(),
                        payload: p,
                        header_blob: header,
                        message_type: h.message_type.clone(),
                        client_message_id: cmid,
                        epoch,
                        topic_id: link["topic_id"].as_str().map(str::to_owned),
                        parent_span_id: link["parent_span_id"].as_str().map(str::to_owned),
                    };
                    rooms::fan_out_tx(&tx, &m, &h.message_id, now)?
                }
                _ => Vec::new(),
            };
            let h = load(&tx, &t, &i)?.expect("exists");
            tx.commit()?;
            Ok(Ok((h, rows)))
        })
        .await??;
    let (h, rows) = out;
    rooms::announce(hub, &rows);
    hub.events.publish(
        "agent_held_message",
        json!({"id": h.id, "status": h.status, "tenant_id": h.tenant_id}),
    );
    Ok(h)
}

/// Deny: drop the ciphertext and tell the sender (an `error` frame).
pub async fn deny(hub: &Hub, tenant: &str, id: &str) -> HubResult<Held> {
    let (t, i) = (tenant.to_owned(), id.to_owned());
    let h = hub
        .catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let Some(h) = load(&tx, &t, &i)? else {
                return Ok(Err(HubError::NotFound(NOT_FOUND.into())));
            };
            if h.status != HELD {
                return Ok(Err(answered(&h)));
            }
            tx.execute(
                "UPDATE hub_held_messages SET status = 'denied', decided_ms = ?2, payload = NULL,
                     header_blob = NULL WHERE id = ?1 AND status = 'held'",
                params![i, now_ms()],
            )?;
            let h = load(&tx, &t, &i)?.expect("exists");
            tx.commit()?;
            Ok(Ok(h))
        })
        .await??;
    hub.live
        .send(&h.sender_device_id, frame("error", denied_frame(&h)));
    hub.events.publish(
        "agent_held_message",
        json!({"id": h.id, "status": h.status, "tenant_id": h.tenant_id}),
    );
    Ok(h)
}

/// The sender's `error` frame data for a denied message.
pub fn denied_frame(h: &Held) -> Value {
    json!({
        "detail": "Message denied by the owner",
        "code": "MESSAGE_DENIED",
        "room_id": h.room_id, "group_id": h.group_id, "message_id": h.message_id,
        "policy_id": h.policy_id,
    })
}

/// The approvals-queue prompts for held messages on screen, by held id.
#[derive(Clone, Default)]
pub struct Prompts(PromptSet);

impl Prompts {
    /// Withdraw the prompt of a held message answered elsewhere.
    pub fn withdraw(&self, id: &str) {
        self.0.withdraw(id);
    }

    /// Ask the owner about a held message (once at a time per message).
    /// Unanswered by the deadline, it stays held for the Policies page.
    pub fn raise(&self, hub: Hub, approvals: Arc<Approvals>, h: Held, timeout: Duration) {
        let request = NewApproval {
            kind: ApprovalKind::HeldMessage,
            requester: Requester {
                app_name: if h.sender_name.is_empty() {
                    "An agent".into()
                } else {
                    h.sender_name.clone()
                },
                name_source: NameSource::Unverified,
                client_id: Some(format!("hub-held:{}", h.id)),
                ..Requester::default()
            },
            reason: Some(format!(
                "The policy \"{}\" held a {} message of {} bytes in the room \"{}\".",
                h.policy_name.as_deref().unwrap_or("?"),
                h.message_type,
                h.size_bytes,
                h.room_name
            )),
            details: json!({
                "held_id": h.id,
                "tenant_id": h.tenant_id,
                "room_id": h.room_id,
                "room_name": h.room_name,
                "sender_device_id": h.sender_device_id,
                "sender_name": h.sender_name,
                "message_type": h.message_type,
                "size_bytes": h.size_bytes,
                "policy_id": h.policy_id,
                "policy_name": h.policy_name,
                "created_at": h.created_at,
            }),
            grant_allowed: false,
            timeout,
        };
        self.0.ask(
            h.id.clone(),
            approvals,
            request,
            move |allowed| async move {
                let result = if allowed {
                    approve(&hub, &h.tenant_id, &h.id).await
                } else {
                    deny(&hub, &h.tenant_id, &h.id).await
                };
                if let Err(e) = result {
                    tracing::warn!("answering a held message failed: {e}");
                }
            },
        );
    }

    /// Raise prompts for every held message (at start and after unlock).
    pub async fn raise_all(&self, hub: &Hub, approvals: &Arc<Approvals>, timeout: Duration) {
        let tenants = match super::tenants::list(&hub.catalog).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("listing hub tenants failed: {e}");
                return;
            }
        };
        for t in tenants {
            if let Ok(list) = list(&hub.catalog, &t.id).await {
                for h in list {
                    self.raise(hub.clone(), approvals.clone(), h, timeout);
                }
            }
        }
    }
}
