//! Multi-agent rooms (spec/agent-hub-api.md "Rooms", device protocol §8.1):
//! a room has agent members and one MLS group on the hub (a `hub_groups`
//! row linked by `room_id`) whose roster is the members' devices plus the
//! owner's device, which founds it. Room traffic is fanned out to the
//! roster's other members as `room_message_mls` rows and live frames that
//! carry `room_id`, and kept (ciphertext only) as the room's timeline.
//! Whether a message is fanned out at all is the policy engine's call
//! ([`super::policies`]); held ones wait in [`super::held`].

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::live::frame;
use super::queue::{self, Linkage, Row};
use super::{Hub, HubError, HubResult, devices, new_id};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

pub const ACTIVE: &str = "active";
pub const ARCHIVED: &str = "archived";
/// Members a room may have (the owner's device not counted).
pub const MAX_MEMBERS: usize = 50;
/// Largest relayed room ciphertext.
pub const MAX_PAYLOAD: usize = super::groups::MAX_PAYLOAD;
/// Largest opaque header blob.
pub const MAX_HEADER: usize = 16 * 1024;
pub const NOT_FOUND: &str = "Room not found";

#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub device_id: String,
    pub display_name: String,
    /// `agent`, or `owner` for the owner's device.
    pub entity_type: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Room {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub status: String,
    pub security_level: String,
    pub group_id: String,
    pub owner_device_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub member_count: usize,
    pub members: Vec<Member>,
    /// The owner device's 1:1 conversations with the members.
    pub conversations: Vec<Value>,
    #[serde(skip)]
    pub tenant_id: String,
}

impl Room {
    /// The `room_joined` frame's data (§8.1).
    pub fn joined_data(&self) -> Value {
        json!({
            "room_id": self.id, "room_name": self.name,
            "members": self.members.iter().map(|m| json!({
                "device_id": m.device_id, "display_name": m.display_name, "entity_type": m.entity_type,
            })).collect::<Vec<_>>(),
            "conversations": self.conversations,
        })
    }

    /// Agent members' device ids.
    pub fn agent_ids(&self) -> Vec<String> {
        self.members
            .iter()
            .filter(|m| m.entity_type == "agent")
            .map(|m| m.device_id.clone())
            .collect()
    }

    pub fn is_member(&self, device: &str) -> bool {
        self.members.iter().any(|m| m.device_id == device)
    }
}

fn load(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<Room>> {
    let head = conn
        .query_row(
            "SELECT id, tenant_id, name, description, status, security_level, group_id,
                    owner_device_id, created_ms, updated_ms
             FROM hub_rooms WHERE id = ?1 AND tenant_id = ?2",
            params![id, tenant],
            |r| {
                Ok(Room {
                    id: r.get(0)?,
                    tenant_id: r.get(1)?,
                    name: r.get(2)?,
                    description: r.get(3)?,
                    status: r.get(4)?,
                    security_level: r.get(5)?,
                    group_id: r.get(6)?,
                    owner_device_id: r.get(7)?,
                    created_at: rfc3339(r.get(8)?),
                    updated_at: rfc3339(r.get(9)?),
                    member_count: 0,
                    members: Vec::new(),
                    conversations: Vec::new(),
                })
            },
        )
        .optional()?;
    let Some(mut room) = head else {
        return Ok(None);
    };
    let mut st = conn.prepare(
        "SELECT m.device_id, COALESCE(d.name, ''), COALESCE(d.kind, 'agent'), COALESCE(d.status, 'REVOKED')
         FROM hub_room_members m LEFT JOIN hub_devices d ON d.id = m.device_id
         WHERE m.room_id = ?1 ORDER BY m.added_ms, m.device_id",
    )?;
    room.members = st
        .query_map([&room.id], |r| {
            Ok(Member {
                device_id: r.get(0)?,
                display_name: r.get(1)?,
                entity_type: r.get(2)?,
                status: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if let Some(owner) = &room.owner_device_id {
        let name: Option<String> = conn
            .query_row("SELECT name FROM hub_devices WHERE id = ?1", [owner], |r| {
                r.get(0)
            })
            .optional()?;
        room.members.push(Member {
            device_id: owner.clone(),
            display_name: name.unwrap_or_else(|| "Owner".into()),
            entity_type: "owner".into(),
            status: devices::ACTIVE.into(),
        });
        let mut st = conn.prepare(
            "SELECT c.id FROM hub_conversations c JOIN hub_room_members m
               ON m.device_id = c.agent_device_id
             WHERE m.room_id = ?1 AND c.owner_device_id = ?2 ORDER BY c.id",
        )?;
        room.conversations = st
            .query_map(params![room.id, owner], |r| {
                Ok(json!({"id": r.get::<_, String>(0)?}))
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    room.member_count = room.members.len();
    Ok(Some(room))
}

fn not_found() -> HubError {
    HubError::NotFound(NOT_FOUND.into())
}

/// What `POST /rooms` asks for.
#[derive(Debug, Default)]
pub struct NewRoom {
    pub name: String,
    pub description: Option<String>,
    pub security_level: Option<String>,
    pub member_device_ids: Vec<String>,
    /// The owner's device that founds the room's MLS group, if any.
    pub owner_device_id: Option<String>,
}

fn check_name(name: &str) -> HubResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(HubError::BadRequest(
            "name must be 1-100 characters without control characters".into(),
        ));
    }
    Ok(n.to_owned())
}

fn check_description(d: Option<String>) -> HubResult<Option<String>> {
    match d {
        Some(d) if d.chars().count() > 1000 => Err(HubError::BadRequest(
            "description must be at most 1000 characters".into(),
        )),
        Some(d) if d.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn check_level(l: Option<String>) -> HubResult<Option<String>> {
    match l.as_deref() {
        None => Ok(None),
        Some("standard" | "strict") => Ok(l),
        Some(_) => Err(HubError::BadRequest(
            "security_level must be \"standard\" or \"strict\"".into(),
        )),
    }
}

/// An agent of `tenant` that may join a room: 404 for unknown or another
/// tenant's devices, 409 unless ACTIVE.
fn check_agent(
    conn: &Connection,
    tenant: &str,
    device: &str,
) -> rusqlite::Result<Result<(), HubError>> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT kind, status FROM hub_devices WHERE id = ?1 AND tenant_id = ?2 AND deleted_ms IS NULL",
            params![device, tenant],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        Some((kind, _)) if kind != "agent" => Err(HubError::BadRequest(
            "only agent devices can be room members".into(),
        )),
        Some((_, status)) if status != devices::ACTIVE => Err(HubError::Conflict(format!(
            "The agent is {status}; only active agents can join rooms"
        ))),
        Some(_) => Ok(()),
        None => Err(HubError::NotFound(devices::NOT_FOUND.into())),
    })
}

/// Create a room, its members and its hub group (epoch 0).
pub async fn create(catalog: &Catalog, tenant: &str, new: NewRoom) -> HubResult<Room> {
    let name = check_name(&new.name)?;
    let description = check_description(new.description)?;
    let level = check_level(new.security_level)?.unwrap_or_else(|| "standard".into());
    let mut members: Vec<String> = Vec::new();
    for m in &new.member_device_ids {
        let id = super::parse_id(m)
            .ok_or_else(|| HubError::BadRequest("member_device_ids must be device UUIDs".into()))?;
        if !members.contains(&id) {
            members.push(id);
        }
    }
    if members.len() > MAX_MEMBERS {
        return Err(HubError::BadRequest(format!(
            "a room has at most {MAX_MEMBERS} members"
        )));
    }
    let tenant = tenant.to_owned();
    let owner = new.owner_device_id;
    catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            for m in &members {
                if let Err(e) = check_agent(&tx, &tenant, m)? {
                    return Ok(Err(e));
                }
            }
            let (id, group) = (new_id(), new_id());
            let now = now_ms();
            tx.execute(
                "INSERT INTO hub_rooms (id, tenant_id, name, description, status, security_level,
                     group_id, owner_device_id, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6, ?7, ?8, ?8)",
                params![id, tenant, name, description, level, group, owner, now],
            )?;
            tx.execute(
                "INSERT INTO hub_groups (id, tenant_id, room_id, founder_device_id, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![group, tenant, id, owner.clone().unwrap_or_default(), now],
            )?;
            for (i, m) in members.iter().enumerate() {
                tx.execute(
                    "INSERT INTO hub_room_members (room_id, device_id, added_ms) VALUES (?1, ?2, ?3)",
                    params![id, m, now + i as i64],
                )?;
            }
            for d in members.iter().chain(owner.iter()) {
                tx.execute(
                    "INSERT OR IGNORE INTO hub_group_members (group_id, device_id) VALUES (?1, ?2)",
                    params![group, d],
                )?;
            }
            let room = load(&tx, &tenant, &id)?.expect("inserted above");
            tx.commit()?;
            Ok(Ok(room))
        })
        .await?
}

/// A room of the tenant, or 404.
pub async fn get(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Room> {
    let (t, i) = (tenant.to_owned(), id.to_owned());
    catalog
        .read(move |conn| load(conn, &t, &i))
        .await?
        .ok_or_else(not_found)
}

/// The tenant's rooms, newest first; with `device`, only the active rooms
/// that device is a member of (§8.1); `all` includes archived rooms.
pub async fn list(
    catalog: &Catalog,
    tenant: &str,
    device: Option<&str>,
    all: bool,
) -> HubResult<Vec<Room>> {
    let (t, d) = (tenant.to_owned(), device.map(str::to_owned));
    Ok(catalog
        .read(move |conn| {
            let ids: Vec<String> = {
                let mut st = conn.prepare(
                    "SELECT r.id FROM hub_rooms r WHERE r.tenant_id = ?1
                       AND (?2 OR r.status = 'active')
                       AND (?3 IS NULL OR EXISTS (SELECT 1 FROM hub_room_members m
                            WHERE m.room_id = r.id AND m.device_id = ?3))
                     ORDER BY r.created_ms DESC, r.id",
                )?;
                st.query_map(params![t, all && d.is_none(), d], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?
            };
            let mut out = Vec::new();
            for id in ids {
                if let Some(r) = load(conn, &t, &id)? {
                    out.push(r);
                }
            }
            Ok(out)
        })
        .await?)
}

/// What `PATCH /rooms/{id}` may change.
#[derive(Debug, Default)]
pub struct RoomPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<String>,
    pub security_level: Option<String>,
}

pub async fn update(catalog: &Catalog, tenant: &str, id: &str, p: RoomPatch) -> HubResult<Room> {
    let name = p.name.as_deref().map(check_name).transpose()?;
    let description = match p.description {
        Some(d) => Some(check_description(d)?),
        None => None,
    };
    if let Some(s) = p.status.as_deref()
        && s != ACTIVE
        && s != ARCHIVED
    {
        return Err(HubError::BadRequest(
            "status must be \"active\" or \"archived\"".into(),
        ));
    }
    let level = check_level(p.security_level)?;
    let (t, i, status) = (tenant.to_owned(), id.to_owned(), p.status);
    catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            if load(&tx, &t, &i)?.is_none() {
                return Ok(Err(not_found()));
            }
            let now = now_ms();
            if let Some(n) = &name {
                tx.execute(
                    "UPDATE hub_rooms SET name = ?2 WHERE id = ?1",
                    params![i, n],
                )?;
            }
            if let Some(d) = &description {
                tx.execute(
                    "UPDATE hub_rooms SET description = ?2 WHERE id = ?1",
                    params![i, d],
                )?;
            }
            if let Some(s) = &status {
                tx.execute(
                    "UPDATE hub_rooms SET status = ?2 WHERE id = ?1",
                    params![i, s],
                )?;
            }
            if let Some(l) = &level {
                tx.execute(
                    "UPDATE hub_rooms SET security_level = ?2 WHERE id = ?1",
                    params![i, l],
                )?;
            }
            tx.execute(
                "UPDATE hub_rooms SET updated_ms = ?2 WHERE id = ?1",
                params![i, now],
            )?;
            let room = load(&tx, &t, &i)?.expect("exists");
            tx.commit()?;
            Ok(Ok(room))
        })
        .await?
}

/// Add an agent to a room and to its group's roster (409 if already in).
pub async fn add_member(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
    device: &str,
) -> HubResult<Room> {
    let device = super::parse_id(device)
        .ok_or_else(|| HubError::BadRequest("device_id must be a device UUID".into()))?;
    let (t, i) = (tenant.to_owned(), id.to_owned());
    catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let Some(room) = load(&tx, &t, &i)? else {
                return Ok(Err(not_found()));
            };
            if room.status != ACTIVE {
                return Ok(Err(HubError::Conflict("The room is archived".into())));
            }
            if let Err(e) = check_agent(&tx, &t, &device)? {
                return Ok(Err(e));
            }
            if room.is_member(&device) {
                return Ok(Err(HubError::Conflict(
                    "The device is already a member of this room".into(),
                )));
            }
            if room.agent_ids().len() >= MAX_MEMBERS {
                return Ok(Err(HubError::BadRequest(format!(
                    "a room has at most {MAX_MEMBERS} members"
                ))));
            }
            let now = now_ms();
            tx.execute(
                "INSERT INTO hub_room_members (room_id, device_id, added_ms) VALUES (?1, ?2, ?3)",
                params![i, device, now],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO hub_group_members (group_id, device_id) VALUES (?1, ?2)",
                params![room.group_id, device],
            )?;
            tx.execute(
                "UPDATE hub_rooms SET updated_ms = ?2 WHERE id = ?1",
                params![i, now],
            )?;
            let room = load(&tx, &t, &i)?.expect("exists");
            tx.commit()?;
            Ok(Ok(room))
        })
        .await?
}

/// 404 unless `device` is an agent member of the room.
pub async fn check_member(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
    device: &str,
) -> HubResult<Room> {
    let room = get(catalog, tenant, id).await?;
    if !room.agent_ids().iter().any(|d| d == device) {
        return Err(HubError::NotFound(
            "The device is not a member of this room".into(),
        ));
    }
    Ok(room)
}

/// Take an agent out of the room and its group's roster; its queued rows
/// for the group go too.
pub async fn remove_member(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
    device: &str,
) -> HubResult<Room> {
    let (t, i, d) = (tenant.to_owned(), id.to_owned(), device.to_owned());
    catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let Some(room) = load(&tx, &t, &i)? else {
                return Ok(Err(not_found()));
            };
            let n = tx.execute(
                "DELETE FROM hub_room_members WHERE room_id = ?1 AND device_id = ?2",
                params![i, d],
            )?;
            if n == 0 {
                return Ok(Err(HubError::NotFound(
                    "The device is not a member of this room".into(),
                )));
            }
            tx.execute(
                "DELETE FROM hub_group_members WHERE group_id = ?1 AND device_id = ?2",
                params![room.group_id, d],
            )?;
            tx.execute(
                "DELETE FROM hub_queue WHERE group_id = ?1 AND device_id = ?2",
                params![room.group_id, d],
            )?;
            tx.execute(
                "UPDATE hub_rooms SET updated_ms = ?2 WHERE id = ?1",
                params![i, now_ms()],
            )?;
            let room = load(&tx, &t, &i)?.expect("exists");
            tx.commit()?;
            Ok(Ok(room))
        })
        .await?
}

/// The room a hub group belongs to: (room id, tenant).
pub async fn of_group(catalog: &Catalog, group: &str) -> HubResult<Option<(String, String)>> {
    let g = group.to_owned();
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                "SELECT id, tenant_id FROM hub_rooms WHERE group_id = ?1",
                [g],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .await?)
}

/// Push `room_joined` (§8.1) to every connected agent member.
pub fn announce_joined(hub: &Hub, room: &Room) {
    let data = room.joined_data();
    for d in room.agent_ids() {
        hub.live.send(&d, frame("room_joined", data.clone()));
    }
    hub.events.publish(
        "agent_room",
        json!({"room_id": room.id, "tenant_id": room.tenant_id, "member_count": room.member_count}),
    );
}

/// A room message as the relay sees it: routing metadata and ciphertext.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RoomMessage {
    pub tenant_id: String,
    pub room_id: String,
    pub group_id: String,
    pub sender_device_id: String,
    #[serde(skip)]
    pub payload: Vec<u8>,
    #[serde(skip)]
    pub header_blob: Option<Vec<u8>>,
    pub message_type: String,
    pub client_message_id: Option<String>,
    pub epoch: Option<i64>,
    pub topic_id: Option<String>,
    pub parent_span_id: Option<String>,
}

impl RoomMessage {
    pub fn check(&self) -> HubResult<()> {
        if self.payload.is_empty() || self.payload.len() > MAX_PAYLOAD {
            return Err(HubError::BadRequest(
                "payload must be 1 byte to 256 KiB".into(),
            ));
        }
        if self
            .header_blob
            .as_ref()
            .is_some_and(|h| h.len() > MAX_HEADER)
        {
            return Err(HubError::BadRequest(
                "header_blob must be at most 16 KiB".into(),
            ));
        }
        if self.message_type.is_empty() || self.message_type.len() > 64 {
            return Err(HubError::BadRequest(
                "message_type must be 1-64 characters".into(),
            ));
        }
        Ok(())
    }

    pub fn linkage(&self) -> Linkage {
        Linkage {
            room_id: Some(self.room_id.clone()),
            topic_id: self.topic_id.clone(),
            parent_span_id: self.parent_span_id.clone(),
            ..Linkage::default()
        }
    }
}

/// Resolve a device's room frame: the room must be the tenant's, active,
/// own the group, and count the sender in its roster.
pub async fn check_sender(
    catalog: &Catalog,
    tenant: &str,
    room_id: &str,
    group_id: &str,
    sender: &str,
) -> HubResult<Room> {
    let room = get(catalog, tenant, room_id).await?;
    if room.status != ACTIVE {
        return Err(HubError::Conflict("The room is archived".into()));
    }
    if room.group_id != group_id {
        return Err(HubError::BadRequest(
            "group_id is not this room's group".into(),
        ));
    }
    if !room.is_member(sender) {
        return Err(HubError::Forbidden("Not a member of this room".into()));
    }
    Ok(room)
}

/// Store a room message in the timeline and queue it for every other
/// roster member, inside `tx`. Returns the rows and whether each
/// recipient still waits for the group's Welcome.
pub(super) fn fan_out_tx(
    tx: &Transaction<'_>,
    m: &RoomMessage,
    message_id: &str,
    created_ms: i64,
) -> rusqlite::Result<Vec<(Row, bool)>> {
    let members: Vec<String> = {
        let mut st = tx.prepare(
            "SELECT device_id FROM hub_group_members WHERE group_id = ?1 ORDER BY device_id",
        )?;
        st.query_map([&m.group_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut rows = Vec::new();
    for d in members.iter().filter(|d| **d != m.sender_device_id) {
        let mut row = Row::new(
            d,
            "application",
            &m.sender_device_id,
            &m.group_id,
            &m.payload,
            message_id,
        );
        row.sender_type = Some(m.message_type.clone());
        row.client_message_id = m.client_message_id.clone();
        row.epoch = m.epoch;
        row.linkage = m.linkage();
        row.created_at = rfc3339(created_ms);
        row.insert(tx)?;
        let pending = queue::welcome_pending(tx, d, &m.group_id)?;
        rows.push((row, pending));
    }
    tx.execute(
        "INSERT OR IGNORE INTO hub_room_messages (id, tenant_id, room_id, group_id, sender_device_id,
             message_type, header_blob, ciphertext, client_message_id, epoch, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            message_id,
            m.tenant_id,
            m.room_id,
            m.group_id,
            m.sender_device_id,
            m.message_type,
            m.header_blob,
            m.payload,
            m.client_message_id,
            m.epoch,
            created_ms
        ],
    )?;
    Ok(rows)
}

/// Nudge each recipient, and push the live `room_message_mls` frame to
/// those that hold no unacknowledged Welcome for the group (§7.4).
pub(super) fn announce(hub: &Hub, rows: &[(Row, bool)]) {
    for (row, welcome_pending) in rows {
        if !welcome_pending {
            hub.live
                .send(&row.device_id, frame("room_message_mls", row.live_data()));
        }
        hub.live.nudge(&row.device_id, 1);
    }
}

/// Fan out an allowed room message now; its message id and time.
pub async fn fan_out(hub: &Hub, m: RoomMessage) -> HubResult<(String, i64)> {
    m.check()?;
    let message_id = new_id();
    let created_ms = now_ms();
    let mid = message_id.clone();
    let (room, tenant) = (m.room_id.clone(), m.tenant_id.clone());
    let rows = hub
        .catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let rows = fan_out_tx(&tx, &m, &mid, created_ms)?;
            tx.commit()?;
            Ok(rows)
        })
        .await?;
    announce(hub, &rows);
    hub.events.publish(
        "agent_room_activity",
        json!({"room_id": room, "tenant_id": tenant, "message_id": message_id, "created_at_ms": created_ms}),
    );
    Ok((message_id, created_ms))
}

/// How many room messages `sender` sent (fanned out or held) since `since_ms`.
pub fn sent_since(conn: &Connection, sender: &str, since_ms: i64) -> rusqlite::Result<u64> {
    let a: i64 = conn.query_row(
        "SELECT COUNT(*) FROM hub_room_messages WHERE sender_device_id = ?1 AND created_ms > ?2",
        params![sender, since_ms],
        |r| r.get(0),
    )?;
    let b: i64 = conn.query_row(
        "SELECT COUNT(*) FROM hub_held_messages WHERE sender_device_id = ?1 AND created_ms > ?2
           AND status = 'held'",
        params![sender, since_ms],
        |r| r.get(0),
    )?;
    Ok((a + b) as u64)
}

/// The room's aggregated timeline (ciphertext, oldest first).
pub async fn timeline(
    catalog: &Catalog,
    tenant: &str,
    room: &str,
    since_ms: Option<i64>,
    limit: usize,
) -> HubResult<Vec<Value>> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    get(catalog, tenant, room).await?;
    let r = room.to_owned();
    Ok(catalog
        .read(move |conn| {
            let mut st = conn.prepare(
                "SELECT id, room_id, group_id, sender_device_id, message_type, header_blob,
                        ciphertext, client_message_id, epoch, created_ms, length(ciphertext)
                 FROM hub_room_messages WHERE room_id = ?1 AND created_ms > ?2
                 ORDER BY created_ms, id LIMIT ?3",
            )?;
            st.query_map(params![r, since_ms.unwrap_or(-1), limit as i64], |r| {
                let header: Option<Vec<u8>> = r.get(5)?;
                let ct: Vec<u8> = r.get(6)?;
                let created: i64 = r.get(9)?;
                Ok(json!({
                    "id": r.get::<_, String>(0)?,
                    "room_id": r.get::<_, String>(1)?,
                    "group_id": r.get::<_, String>(2)?,
                    "sender_device_id": r.get::<_, String>(3)?,
                    "message_type": r.get::<_, String>(4)?,
                    "header_blob": header.map(|h| b64.encode(h)),
                    "ciphertext": b64.encode(ct),
                    "size_bytes": r.get::<_, i64>(10)?,
                    "client_message_id": r.get::<_, Option<String>>(7)?,
                    "epoch": r.get::<_, Option<i64>>(8)?,
                    "created_at": rfc3339(created),
                    "created_ms": created,
                }))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await?)
}

/// The tenant's ACTIVE owner-kind device, oldest first.
pub async fn tenant_owner_device(catalog: &Catalog, tenant: &str) -> HubResult<Option<String>> {
    let t = tenant.to_owned();
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                "SELECT id FROM hub_devices WHERE tenant_id = ?1 AND kind = 'owner'
                   AND status = 'ACTIVE' AND deleted_ms IS NULL ORDER BY created_ms LIMIT 1",
                [t],
                |r| r.get(0),
            )
            .optional()
        })
        .await?)
}
