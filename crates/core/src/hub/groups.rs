//! MLS groups on the hub (§7): the head (epoch, roster, last commit digest),
//! epoch-checked commits kept for replay, Welcomes, application fan-out,
//! sync, and Welcome requests. Every artefact is written to the recipients'
//! queues in the same transaction that accepts it, then announced; live
//! frames are held back from a device that still has the group's Welcome
//! unacknowledged ("Welcome first", §7.4).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::live::frame;
use super::queue::{self, Linkage, Row};
use super::{Hub, HubError, HubResult, new_id};
use crate::time::{now_ms, rfc3339};

/// Commits kept per group for replay.
pub const KEEP_COMMITS: i64 = 200;
/// Largest MLS payload relayed.
pub const MAX_PAYLOAD: usize = 256 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct Head {
    pub group_id: String,
    pub current_epoch: i64,
    pub member_device_ids: Vec<String>,
    pub last_commit_epoch: i64,
    pub last_commit_digest: Option<String>,
}

struct GroupRow {
    tenant_id: String,
    epoch: i64,
    digest: Option<String>,
    linkage: Linkage,
}

fn load(conn: &Connection, group: &str) -> rusqlite::Result<Option<GroupRow>> {
    conn.query_row(
        "SELECT tenant_id, current_epoch, last_commit_digest, conversation_id, conversation_group_id,
                room_id, a2a_channel_id FROM hub_groups WHERE id = ?1",
        [group],
        |r| {
            Ok(GroupRow {
                tenant_id: r.get(0)?,
                epoch: r.get(1)?,
                digest: r.get(2)?,
                linkage: Linkage {
                    conversation_id: r.get(3)?,
                    conversation_group_id: r.get(4)?,
                    room_id: r.get(5)?,
                    a2a_channel_id: r.get(6)?,
                    ..Linkage::default()
                },
            })
        },
    )
    .optional()
}

fn roster(conn: &Connection, group: &str) -> rusqlite::Result<Vec<String>> {
    let mut st = conn.prepare(
        "SELECT device_id FROM hub_group_members WHERE group_id = ?1 ORDER BY device_id",
    )?;
    st.query_map([group], |r| r.get(0))?.collect()
}

/// The group and its roster, if `device` is in it; 404/403 otherwise.
fn member_view(
    conn: &Connection,
    group: &str,
    device: &str,
) -> Result<(GroupRow, Vec<String>), HubError> {
    let g = load(conn, group)?.ok_or_else(|| HubError::NotFound("Group not found".into()))?;
    let members = roster(conn, group)?;
    if !members.iter().any(|m| m == device) {
        return Err(HubError::Forbidden("Not a member of this group".into()));
    }
    Ok((g, members))
}

/// Make a 1:1 group for a conversation, founded by `founder`, at epoch 0.
pub async fn create_direct(
    hub: &Hub,
    tenant: &str,
    conversation_id: &str,
    conversation_group_id: &str,
    founder: &str,
    agent: &str,
) -> HubResult<String> {
    let id = new_id();
    let (g, t, c, cg, f, a) = (
        id.clone(),
        tenant.to_owned(),
        conversation_id.to_owned(),
        conversation_group_id.to_owned(),
        founder.to_owned(),
        agent.to_owned(),
    );
    hub.catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO hub_groups (id, tenant_id, conversation_id, conversation_group_id,
                     founder_device_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![g, t, c, cg, f, now_ms()],
            )?;
            for d in [&f, &a] {
                tx.execute(
                    "INSERT OR IGNORE INTO hub_group_members (group_id, device_id) VALUES (?1, ?2)",
                    params![g, d],
                )?;
            }
            tx.commit()
        })
        .await?;
    Ok(id)
}

/// The group's head, for a member.
pub async fn head(hub: &Hub, group: &str, device: &str) -> HubResult<Head> {
    let (group, device) = (group.to_owned(), device.to_owned());
    hub.catalog
        .read(move |conn| {
            Ok(member_view(conn, &group, &device).map(|(g, members)| Head {
                group_id: group.clone(),
                current_epoch: g.epoch,
                member_device_ids: members,
                last_commit_epoch: g.epoch,
                last_commit_digest: g.digest,
            }))
        })
        .await?
}

/// Announce stored rows: a nudge to each recipient, and the live frame to
/// those without a pending Welcome for the group.
fn announce(hub: &Hub, event: &str, rows: &[(Row, bool)]) {
    for (row, welcome_pending) in rows {
        if !welcome_pending {
            hub.live.send(&row.device_id, frame(event, row.live_data()));
        }
        hub.live.nudge(&row.device_id, 1);
    }
}

/// An application message to the rest of the group (§7.2).
pub struct Application {
    pub group_id: String,
    pub payload: Vec<u8>,
    pub epoch: Option<i64>,
    pub message_type: String,
    pub client_message_id: Option<String>,
    pub topic_id: Option<String>,
    pub parent_span_id: Option<String>,
}

/// Store and fan out an application message; returns its message id.
pub async fn application(hub: &Hub, sender: &str, m: Application) -> HubResult<(String, i64)> {
    if m.payload.is_empty() || m.payload.len() > MAX_PAYLOAD {
        return Err(HubError::BadRequest(
            "payload must be 1 byte to 256 KiB".into(),
        ));
    }
    let message_id = new_id();
    let sender = sender.to_owned();
    let mid = message_id.clone();
    let created_ms = now_ms();
    let rows = hub
        .catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let (g, members) = match member_view(&tx, &m.group_id, &sender) {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            };
            let from_hub_address = super::federation::sender_address(&tx, &g.linkage, &sender)?;
            let mut rows = Vec::new();
            for d in members.iter().filter(|d| **d != sender) {
                let mut row = Row::new(d, "application", &sender, &m.group_id, &m.payload, &mid);
                row.sender_type = Some(m.message_type.clone());
                row.client_message_id = m.client_message_id.clone();
                row.epoch = m.epoch;
                row.linkage = Linkage {
                    topic_id: m.topic_id.clone(),
                    parent_span_id: m.parent_span_id.clone(),
                    from_hub_address: from_hub_address.clone(),
                    ..g.linkage.clone()
                };
                row.created_at = rfc3339(created_ms);
                row.insert(&tx)?;
                let pending = queue::welcome_pending(&tx, d, &m.group_id)?;
                rows.push((row, pending));
            }
            if let Some(conv) = &g.linkage.conversation_id {
                tx.execute(
                    "INSERT INTO hub_messages (id, tenant_id, conversation_id, group_id,
                         sender_device_id, message_type, ciphertext, topic_id, client_message_id,
                         epoch, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    params![
                        mid,
                        g.tenant_id,
                        conv,
                        m.group_id,
                        sender,
                        m.message_type,
                        m.payload,
                        m.topic_id,
                        m.client_message_id,
                        m.epoch,
                        created_ms
                    ],
                )?;
            }
            tx.commit()?;
            Ok(Ok(rows))
        })
        .await??;
    let event = match rows.first() {
        Some((r, _)) if r.linkage.a2a_channel_id.is_some() => "a2a_message_mls",
        _ => "message_mls",
    };
    announce(hub, event, &rows);
    Ok((message_id, created_ms))
}

/// Why a commit was refused (§7.3); becomes the sender's `error` frame.
#[derive(Debug)]
pub enum CommitOutcome {
    Accepted { message_id: String },
    Refused(Value),
}

/// Accept or refuse a commit producing `epoch`.
pub async fn commit(
    hub: &Hub,
    sender: &str,
    group_id: &str,
    epoch: i64,
    payload: Vec<u8>,
    add_members: Vec<String>,
    parent_digest: Option<String>,
) -> HubResult<CommitOutcome> {
    if payload.is_empty() || payload.len() > MAX_PAYLOAD {
        return Err(HubError::BadRequest(
            "payload must be 1 byte to 256 KiB".into(),
        ));
    }
    let digest = hex::encode(Sha256::digest(&payload));
    let (sender, group) = (sender.to_owned(), group_id.to_owned());
    let message_id = new_id();
    let mid = message_id.clone();
    let result = hub
        .catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let (g, members) = match member_view(&tx, &group, &sender) {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            };
            let refusal = |detail: &str, code: &str| {
                let mut data = json!({
                    "detail": detail, "code": code, "group_id": group,
                    "expected_epoch": epoch - 1, "current_epoch": g.epoch,
                });
                if code == "PARENT_MISMATCH" {
                    data["head_digest"] = g.digest.clone().into();
                }
                data
            };
            if epoch != g.epoch + 1 {
                return Ok(Ok((
                    CommitOutcome::Refused(refusal("Epoch conflict: commit rejected", "EPOCH_CONFLICT")),
                    Vec::new(),
                )));
            }
            if let (Some(p), Some(d)) = (&parent_digest, &g.digest)
                && !p.eq_ignore_ascii_case(d)
            {
                return Ok(Ok((
                    CommitOutcome::Refused(refusal("Parent mismatch: commit rejected", "PARENT_MISMATCH")),
                    Vec::new(),
                )));
            }
            tx.execute(
                "UPDATE hub_groups SET current_epoch = ?2, last_commit_digest = ?3 WHERE id = ?1",
                params![group, epoch, digest],
            )?;
            // The roster grows by union only; new members must be this
            // tenant's devices.
            for d in &add_members {
                let same_tenant: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM hub_devices WHERE id = ?1 AND tenant_id = ?2
                         AND deleted_ms IS NULL)",
                    params![d, g.tenant_id],
                    |r| r.get(0),
                )?;
                let participant = super::federation::channel_participant(&tx, &g.linkage, d)?;
                if same_tenant || participant {
                    tx.execute(
                        "INSERT OR IGNORE INTO hub_group_members (group_id, device_id) VALUES (?1, ?2)",
                        params![group, d],
                    )?;
                }
            }
            let now = now_ms();
            tx.execute(
                "INSERT OR REPLACE INTO hub_commits (group_id, epoch, sender_device_id, payload,
                     message_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![group, epoch, sender, payload, mid, now],
            )?;
            tx.execute(
                "DELETE FROM hub_commits WHERE group_id = ?1 AND epoch <= ?2",
                params![group, epoch - KEEP_COMMITS],
            )?;
            let mut everyone = members;
            for d in add_members {
                if !everyone.contains(&d) {
                    everyone.push(d);
                }
            }
            let mut rows = Vec::new();
            for d in everyone.iter().filter(|d| **d != sender) {
                if !roster(&tx, &group)?.contains(d) {
                    continue;
                }
                let mut row = Row::new(d, "commit", &sender, &group, &payload, &mid);
                row.epoch = Some(epoch);
                row.linkage = g.linkage.clone();
                row.insert(&tx)?;
                let pending = queue::welcome_pending(&tx, d, &group)?;
                rows.push((row, pending));
            }
            tx.commit()?;
            Ok(Ok((CommitOutcome::Accepted { message_id: mid }, rows)))
        })
        .await??;
    let (outcome, rows) = result;
    announce(hub, "mls_commit", &rows);
    Ok(outcome)
}

/// Queue a Welcome for `target` (a roster member) and nudge it (§7.4).
pub async fn welcome(
    hub: &Hub,
    sender: &str,
    group_id: &str,
    target: &str,
    payload: Vec<u8>,
) -> HubResult<()> {
    if payload.is_empty() || payload.len() > MAX_PAYLOAD {
        return Err(HubError::BadRequest(
            "payload must be 1 byte to 256 KiB".into(),
        ));
    }
    let (sender, group, target2) = (sender.to_owned(), group_id.to_owned(), target.to_owned());
    hub.catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let (g, members) = match member_view(&tx, &group, &sender) {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            };
            if !members.contains(&target2) {
                return Ok(Err(HubError::Forbidden(
                    "Welcome target is not in the group's roster".into(),
                )));
            }
            let mut row = Row::new(&target2, "welcome", &sender, &group, &payload, &new_id());
            row.linkage = g.linkage.clone();
            row.insert(&tx)?;
            // The target's open request for this group is answered.
            tx.execute(
                "UPDATE hub_welcome_requests SET fulfilled_ms = ?3
                 WHERE group_id = ?1 AND device_id = ?2 AND fulfilled_ms IS NULL",
                params![group, target2, now_ms()],
            )?;
            tx.commit()?;
            Ok(Ok(()))
        })
        .await??;
    hub.live.nudge(target, 1);
    Ok(())
}

/// Catch-up (§7.5): the commits after `last_epoch`, or "rejoin".
pub async fn sync(
    hub: &Hub,
    group: &str,
    device: &str,
    last_epoch: Option<i64>,
) -> HubResult<Value> {
    let (group, device) = (group.to_owned(), device.to_owned());
    hub.catalog
        .read(move |conn| {
            let (g, _) = match member_view(conn, &group, &device) {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            };
            let Some(last) = last_epoch else {
                return Ok(Ok(json!({"group_id": group, "action": "rejoin"})));
            };
            if last >= g.epoch {
                return Ok(Ok(
                    json!({"group_id": group, "action": "replay", "messages": []}),
                ));
            }
            let mut st = conn.prepare(
                "SELECT epoch, payload, sender_device_id, message_id, created_ms FROM hub_commits
                 WHERE group_id = ?1 AND epoch > ?2 ORDER BY epoch",
            )?;
            let commits: Vec<Value> = st
                .query_map(params![group, last], |r| {
                    let payload: Vec<u8> = r.get(1)?;
                    let created: i64 = r.get(4)?;
                    Ok(json!({
                        "epoch": r.get::<_, i64>(0)?, "message_type": "commit",
                        "payload": hex::encode(payload), "sender_device_id": r.get::<_, String>(2)?,
                        "message_id": r.get::<_, String>(3)?, "group_id": group,
                        "created_at": rfc3339(created),
                    }))
                })?
                .collect::<rusqlite::Result<_>>()?;
            // Every commit from last+1 to the head must still be held.
            if commits.len() as i64 != g.epoch - last {
                return Ok(Ok(json!({"group_id": group, "action": "rejoin"})));
            }
            Ok(Ok(
                json!({"group_id": group, "action": "replay", "messages": commits}),
            ))
        })
        .await?
}

/// Record a member's request for a Welcome and tell the other members.
pub async fn request_welcome(hub: &Hub, group: &str, device: &str) -> HubResult<Value> {
    let (g2, d2) = (group.to_owned(), device.to_owned());
    let (id, others, room) = hub
        .catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let (_, members) = match member_view(&tx, &g2, &d2) {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            };
            let existing: Option<String> = tx
                .query_row(
                    "SELECT id FROM hub_welcome_requests WHERE group_id = ?1 AND device_id = ?2",
                    params![g2, d2],
                    |r| r.get(0),
                )
                .optional()?;
            let id = existing.unwrap_or_else(new_id);
            tx.execute(
                "INSERT INTO hub_welcome_requests (id, group_id, device_id, created_ms)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (group_id, device_id)
                 DO UPDATE SET created_ms = excluded.created_ms, fulfilled_ms = NULL",
                params![id, g2, d2, now_ms()],
            )?;
            // A room group's request names the room (§7.4); a 1:1's never does.
            let room: Option<String> =
                tx.query_row("SELECT room_id FROM hub_groups WHERE id = ?1", [&g2], |r| {
                    r.get(0)
                })?;
            tx.commit()?;
            let others: Vec<String> = members.into_iter().filter(|m| *m != d2).collect();
            Ok(Ok((id, others, room)))
        })
        .await??;
    let mut data = json!({"group_id": group, "requesting_device_id": device});
    if let Some(r) = room {
        data["room_id"] = r.into();
    }
    for d in others {
        hub.live
            .send(&d, frame("mls_welcome_requested", data.clone()));
    }
    Ok(json!({"id": id, "status": "pending"}))
}

/// Open Welcome requests of a group, for a member.
pub async fn pending_welcomes(hub: &Hub, group: &str, device: &str) -> HubResult<Vec<Value>> {
    let (group, device) = (group.to_owned(), device.to_owned());
    hub.catalog
        .read(move |conn| {
            if let Err(e) = member_view(conn, &group, &device) {
                return Ok(Err(e));
            }
            let now = now_ms();
            let mut st = conn.prepare(
                "SELECT w.id, w.device_id, w.created_ms,
                        EXISTS (SELECT 1 FROM hub_key_packages k WHERE k.device_id = w.device_id
                                AND k.consumed_ms IS NULL AND k.expires_ms > ?2)
                 FROM hub_welcome_requests w
                 WHERE w.group_id = ?1 AND w.fulfilled_ms IS NULL AND w.created_ms > ?3
                 ORDER BY w.created_ms",
            )?;
            let rows = st
                .query_map(params![group, now, now - 86_400_000], |r| {
                    Ok(json!({
                        "id": r.get::<_, String>(0)?,
                        "requesting_device_id": r.get::<_, String>(1)?,
                        "created_at": rfc3339(r.get(2)?),
                        "key_package_available": r.get::<_, bool>(3)?,
                    }))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Ok(rows))
        })
        .await?
}

/// Mark a request fulfilled when a Welcome for the requester was queued
/// after it; waits up to ~2 s for the Welcome frame that precedes the call.
pub async fn fulfill(
    hub: &Hub,
    group: &str,
    device: &str,
    request_id: &str,
) -> HubResult<&'static str> {
    for attempt in 0..10 {
        let (g, d, r) = (group.to_owned(), device.to_owned(), request_id.to_owned());
        let done = hub
            .catalog
            .write(move |conn| {
                let tx = conn.transaction()?;
                if let Err(e) = member_view(&tx, &g, &d) {
                    return Ok(Err(e));
                }
                let req: Option<(String, i64)> = tx
                    .query_row(
                        "SELECT device_id, created_ms FROM hub_welcome_requests
                         WHERE id = ?1 AND group_id = ?2",
                        params![r, g],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()?;
                let Some((requester, created)) = req else {
                    return Ok(Err(HubError::NotFound("Welcome request not found".into())));
                };
                let queued: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM hub_queue WHERE device_id = ?1 AND group_id = ?2
                         AND message_type = 'welcome' AND created_ms >= ?3)",
                    params![requester, g, created],
                    |row| row.get(0),
                )?;
                if queued {
                    tx.execute(
                        "UPDATE hub_welcome_requests SET fulfilled_ms = ?2 WHERE id = ?1",
                        params![r, now_ms()],
                    )?;
                }
                tx.commit()?;
                Ok(Ok(queued))
            })
            .await??;
        if done {
            return Ok("fulfilled");
        }
        if attempt < 9 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    Ok("pending")
}

/// The 1:1 group of a conversation, if one was founded.
pub async fn of_conversation(hub: &Hub, conversation: &str) -> HubResult<Option<String>> {
    let c = conversation.to_owned();
    Ok(hub
        .catalog
        .read(move |conn| {
            conn.query_row(
                "SELECT id FROM hub_groups WHERE conversation_id = ?1 ORDER BY created_ms DESC LIMIT 1",
                [c],
                |r| r.get(0),
            )
            .optional()
        })
        .await?)
}

/// Whether the group was founded by `device` (it answers Welcome requests).
pub async fn founded_by(hub: &Hub, group: &str, device: &str) -> HubResult<bool> {
    let (g, d) = (group.to_owned(), device.to_owned());
    Ok(hub
        .catalog
        .read(move |conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM hub_groups WHERE id = ?1 AND founder_device_id = ?2)",
                params![g, d],
                |r| r.get(0),
            )
        })
        .await?)
}

/// Whether `device` still holds an unacknowledged Welcome for the group.
pub async fn welcome_waiting(hub: &Hub, group: &str, device: &str) -> HubResult<bool> {
    let (g, d) = (group.to_owned(), device.to_owned());
    Ok(hub
        .catalog
        .read(move |conn| queue::welcome_pending(conn, &d, &g))
        .await?)
}
