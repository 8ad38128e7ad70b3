//! A2A channels (§8.2): encrypted agent-to-agent channels between hub
//! identities. A request (by the owner, or by an agent naming a peer's hub
//! address) makes a `pending` channel and raises an `a2a_channel` request in
//! the one approvals queue; the owner's answer there (or `POST
//! /a2a/channels/{id}/approve`) makes it `active` and tells the
//! participants' sockets (`a2a_channel_approved`). Participants are
//! `invited | active | left | removed`; a participant on another Holdfast
//! hub is `remote` and exists only under an accepted federation agreement.
//! The channel's MLS group is a `hub_groups` row linked by
//! `a2a_channel_id`, made by `POST /mls/a2a/{id}/init`; the hub relays its
//! ciphertext like any other group's.

use super::prompts::PromptSet;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::live::frame;
use super::{Hub, HubError, HubResult, new_id};
use crate::approvals::{ApprovalKind, Approvals, NameSource, NewApproval, Requester};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

pub const PENDING: &str = "pending";
pub const ACTIVE: &str = "active";
pub const REJECTED: &str = "rejected";

/// The exact details agents match on (§11.1).
pub const CHANNEL_NOT_FOUND: &str = "Channel not found";
pub const PEER_NOT_FOUND: &str = "peer_not_found";
pub const SELF_PEER: &str = "self_peer_not_allowed";
pub const CROSS_OPERATOR: &str = "cross_operator_not_supported";
pub const ALREADY_PARTICIPANT: &str = "already_a_participant";
pub const PEER_REACH_DISABLED: &str = "peer_reach_disabled";
pub const NOT_A_PARTICIPANT: &str = "not_a_participant";
pub const NOT_A_CHANNEL_PARTY: &str = "not_a_channel_party";

/// Longest topic (§8.2).
pub const MAX_TOPIC: usize = 80;

#[derive(Debug, Clone, Serialize)]
pub struct Participant {
    pub hub_id: String,
    pub hub_address: String,
    pub device_id: String,
    pub role: String,
    pub status: String,
    /// On another Holdfast hub (federation).
    pub remote: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Channel {
    pub channel_id: String,
    pub tenant_id: String,
    pub topic: Option<String>,
    pub status: String,
    pub creator_hub_id: String,
    pub requested_by: String,
    pub agreement_id: Option<String>,
    pub mls_group_id: Option<String>,
    pub created_at: String,
    pub approved_at: Option<String>,
    pub participants: Vec<Participant>,
}

impl Channel {
    /// A list item of `GET /a2a/channels` (§8.2), from `device`'s view
    /// (its role), or the owner's.
    pub fn item(&self, device: Option<&str>) -> Value {
        let role = device
            .and_then(|d| self.participants.iter().find(|p| p.device_id == d))
            .map(|p| p.role.clone())
            .unwrap_or_else(|| "observer".into());
        json!({
            "channel_id": self.channel_id, "a2a_channel_id": self.channel_id,
            "conversation_id": self.channel_id, "role": role,
            "creator_hub_id": self.creator_hub_id, "topic": self.topic, "status": self.status,
            "mls_group_id": self.mls_group_id, "agreement_id": self.agreement_id,
            "requested_by": self.requested_by, "created_at": self.created_at,
            "approved_at": self.approved_at, "participants": self.participants,
        })
    }

    pub fn participant(&self, device: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| p.device_id == device)
    }
}

/// One side of a channel, resolved from a hub address.
#[derive(Debug, Clone)]
pub struct Party {
    pub hub_id: String,
    pub hub_address: String,
    pub device_id: String,
    pub remote: bool,
}

fn load(conn: &Connection, id: &str) -> rusqlite::Result<Option<Channel>> {
    let ch = conn
        .query_row(
            "SELECT c.id, c.tenant_id, c.topic, c.status, c.creator_hub_id, c.requested_by,
                    c.agreement_id, c.created_ms, c.approved_ms,
                    (SELECT g.id FROM hub_groups g WHERE g.a2a_channel_id = c.id
                     ORDER BY g.created_ms LIMIT 1)
             FROM hub_a2a_channels c WHERE c.id = ?1",
            [id],
            |r| {
                let approved: Option<i64> = r.get(8)?;
                Ok(Channel {
                    channel_id: r.get(0)?,
                    tenant_id: r.get(1)?,
                    topic: r.get(2)?,
                    status: r.get(3)?,
                    creator_hub_id: r.get(4)?,
                    requested_by: r.get(5)?,
                    agreement_id: r.get(6)?,
                    created_at: rfc3339(r.get(7)?),
                    approved_at: approved.map(rfc3339),
                    mls_group_id: r.get(9)?,
                    participants: Vec::new(),
                })
            },
        )
        .optional()?;
    let Some(mut ch) = ch else { return Ok(None) };
    let mut st = conn.prepare(
        "SELECT hub_id, hub_address, device_id, role, status, remote FROM hub_a2a_participants
         WHERE channel_id = ?1 ORDER BY created_ms, hub_id",
    )?;
    ch.participants = st
        .query_map([id], |r| {
            Ok(Participant {
                hub_id: r.get(0)?,
                hub_address: r.get(1)?,
                device_id: r.get(2)?,
                role: r.get(3)?,
                status: r.get(4)?,
                remote: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(ch))
}

/// A channel in any tenant (federation and frame routing).
pub async fn find(catalog: &Catalog, id: &str) -> HubResult<Option<Channel>> {
    let id = id.to_owned();
    Ok(catalog.read(move |conn| load(conn, &id)).await?)
}

/// A channel of `tenant`, or 404 "Channel not found".
pub async fn get(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Channel> {
    match find(catalog, id).await? {
        Some(c) if c.tenant_id == tenant => Ok(c),
        _ => Err(HubError::NotFound(CHANNEL_NOT_FOUND.into())),
    }
}

/// A channel `device` takes part in (any status but removed), else 404.
pub async fn get_for_device(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
    device: &str,
) -> HubResult<Channel> {
    let ch = get(catalog, tenant, id).await?;
    match ch.participant(device) {
        Some(p) if p.status != "removed" => Ok(ch),
        _ => Err(HubError::NotFound(CHANNEL_NOT_FOUND.into())),
    }
}

/// The tenant's channels, newest first; with `device`, only its own.
pub async fn list(
    catalog: &Catalog,
    tenant: &str,
    device: Option<&str>,
) -> HubResult<Vec<Channel>> {
    let (t, d) = (tenant.to_owned(), device.map(str::to_owned));
    Ok(catalog
        .read(move |conn| {
            let ids: Vec<String> = match &d {
                Some(d) => conn
                    .prepare(
                        "SELECT c.id FROM hub_a2a_channels c JOIN hub_a2a_participants p
                             ON p.channel_id = c.id
                         WHERE c.tenant_id = ?1 AND p.device_id = ?2 AND p.remote = 0
                           AND p.status != 'removed' AND c.status != 'rejected'
                         ORDER BY c.created_ms DESC",
                    )?
                    .query_map(params![t, d], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?,
                None => conn
                    .prepare(
                        "SELECT id FROM hub_a2a_channels WHERE tenant_id = ?1
                         ORDER BY created_ms DESC LIMIT 500",
                    )?
                    .query_map([&t], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?,
            };
            let mut out = Vec::new();
            for id in ids {
                if let Some(c) = load(conn, &id)? {
                    out.push(c);
                }
            }
            Ok(out)
        })
        .await?)
}

/// A new channel between `creator` and `peer`, in `status`. `id` is given
/// for a federated channel's mirror (same id on both hubs).
#[allow(clippy::too_many_arguments)]
pub async fn create(
    catalog: &Catalog,
    tenant: &str,
    id: Option<String>,
    creator: Party,
    peer: Party,
    topic: Option<String>,
    requested_by: &str,
    agreement_id: Option<String>,
    status: &'static str,
) -> HubResult<Channel> {
    if creator.hub_id == peer.hub_id {
        return Err(HubError::BadRequest(SELF_PEER.into()));
    }
    let id = id.unwrap_or_else(new_id);
    let (t, cid, by) = (tenant.to_owned(), id.clone(), requested_by.to_owned());
    let part_status = if status == ACTIVE { ACTIVE } else { "invited" };
    let outcome = catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM hub_a2a_channels WHERE id = ?1)",
                [&cid],
                |r| r.get(0),
            )?;
            if exists {
                return Ok(Err(HubError::Conflict("Channel already exists".into())));
            }
            let now = now_ms();
            tx.execute(
                "INSERT INTO hub_a2a_channels (id, tenant_id, topic, status, creator_hub_id,
                     requested_by, agreement_id, created_ms, approved_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, CASE WHEN ?4 = 'active' THEN ?8 END)",
                params![cid, t, topic, status, creator.hub_id, by, agreement_id, now],
            )?;
            for (p, role, st) in [
                (&creator, "creator", ACTIVE),
                (&peer, "member", part_status),
            ] {
                tx.execute(
                    "INSERT INTO hub_a2a_participants (channel_id, hub_id, hub_address, device_id,
                         role, status, remote, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        cid,
                        p.hub_id,
                        p.hub_address,
                        p.device_id,
                        role,
                        st,
                        p.remote,
                        now
                    ],
                )?;
            }
            tx.commit()?;
            Ok(Ok(()))
        })
        .await?;
    outcome?;
    get(catalog, tenant, &id).await
}

/// Tell the local participants' sockets, and the bus (web UI, federation).
pub fn announce(hub: &Hub, ch: &Channel, event: &str, extra: Value) {
    for p in ch.participants.iter().filter(|p| !p.remote) {
        let mut data = ch.item(Some(&p.device_id));
        if let (Value::Object(m), Value::Object(x)) = (&mut data, &extra) {
            m.extend(x.clone());
        }
        hub.live.send(&p.device_id, frame(event, data));
    }
    hub.events.publish(
        "a2a_channel",
        json!({"event": event, "channel_id": ch.channel_id, "status": ch.status,
            "tenant_id": ch.tenant_id, "agreement_id": ch.agreement_id}),
    );
}

/// pending → active (all participants active); idempotent for an active one.
pub async fn approve(hub: &Hub, tenant: &str, id: &str) -> HubResult<Channel> {
    let ch = get(&hub.catalog, tenant, id).await?;
    if ch.status == ACTIVE {
        return Ok(ch);
    }
    if ch.status != PENDING {
        return Err(HubError::Conflict(format!("Channel is {}", ch.status)));
    }
    set_status(&hub.catalog, id, ACTIVE).await?;
    hub.a2a_prompts.withdraw(id);
    let ch = get(&hub.catalog, tenant, id).await?;
    announce(hub, &ch, "a2a_channel_approved", json!({}));
    Ok(ch)
}

/// pending → rejected.
pub async fn reject(hub: &Hub, tenant: &str, id: &str) -> HubResult<Channel> {
    let ch = get(&hub.catalog, tenant, id).await?;
    if ch.status != PENDING {
        return Err(HubError::Conflict(format!("Channel is {}", ch.status)));
    }
    set_status(&hub.catalog, id, REJECTED).await?;
    hub.a2a_prompts.withdraw(id);
    let ch = get(&hub.catalog, tenant, id).await?;
    announce(hub, &ch, "a2a_channel_rejected", json!({}));
    Ok(ch)
}

async fn set_status(catalog: &Catalog, id: &str, status: &'static str) -> HubResult<()> {
    let id = id.to_owned();
    catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "UPDATE hub_a2a_channels SET status = ?2,
                     approved_ms = CASE WHEN ?2 = 'active' THEN ?3 ELSE approved_ms END
                 WHERE id = ?1",
                params![id, status, now_ms()],
            )?;
            if status == ACTIVE {
                tx.execute(
                    "UPDATE hub_a2a_participants SET status = 'active'
                     WHERE channel_id = ?1 AND status = 'invited'",
                    [&id],
                )?;
            }
            tx.commit()
        })
        .await?;
    Ok(())
}

/// Add `party` to an active channel (the inviter must be an active
/// participant). Same-hub participants of an approved channel are active
/// at once.
pub async fn invite(
    hub: &Hub,
    ch: &Channel,
    inviter: &str,
    party: Party,
) -> HubResult<Participant> {
    match ch.participant(inviter) {
        Some(p) if p.status == ACTIVE => {}
        _ => return Err(HubError::Forbidden(NOT_A_PARTICIPANT.into())),
    }
    if ch.status != ACTIVE {
        return Err(HubError::Conflict("Channel is not active".into()));
    }
    if ch
        .participants
        .iter()
        .any(|p| p.hub_id == party.hub_id && p.status != "removed" && p.status != "left")
    {
        return Err(HubError::Conflict(ALREADY_PARTICIPANT.into()));
    }
    if party.remote && ch.agreement_id.is_none() {
        return Err(HubError::BadRequest(CROSS_OPERATOR.into()));
    }
    let cid = ch.channel_id.clone();
    let p = party.clone();
    hub.catalog
        .write(move |conn| {
            conn.execute(
                "INSERT INTO hub_a2a_participants (channel_id, hub_id, hub_address, device_id,
                     role, status, remote, created_ms) VALUES (?1, ?2, ?3, ?4, 'member', 'active', ?5, ?6)
                 ON CONFLICT (channel_id, hub_id) DO UPDATE SET status = 'active'",
                params![cid, p.hub_id, p.hub_address, p.device_id, p.remote, now_ms()],
            )
        })
        .await?;
    let ch = get(&hub.catalog, &ch.tenant_id, &ch.channel_id).await?;
    if !party.remote {
        hub.live.send(
            &party.device_id,
            frame("a2a_channel_invited", ch.item(Some(&party.device_id))),
        );
    }
    announce(
        hub,
        &ch,
        "a2a_participant_joined",
        json!({"hub_id": party.hub_id}),
    );
    Ok(ch
        .participants
        .into_iter()
        .find(|x| x.hub_id == party.hub_id)
        .expect("just inserted"))
}

/// The channel's MLS group, made on first call (idempotent, §8.2): the
/// request's ids fill the roster only when it is new; only participants
/// may be in it.
pub async fn init_group(
    hub: &Hub,
    ch: &Channel,
    device: &str,
    members: Vec<String>,
) -> HubResult<String> {
    match ch.participant(device) {
        Some(p) if p.status == ACTIVE => {}
        _ => return Err(HubError::Forbidden(NOT_A_PARTICIPANT.into())),
    }
    if ch.status != ACTIVE {
        return Err(HubError::Conflict("Channel is not active".into()));
    }
    let allowed: Vec<String> = members
        .into_iter()
        .filter(|m| ch.participants.iter().any(|p| &p.device_id == m))
        .collect();
    let (cid, tenant, founder) = (
        ch.channel_id.clone(),
        ch.tenant_id.clone(),
        device.to_owned(),
    );
    Ok(hub
        .catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT id FROM hub_groups WHERE a2a_channel_id = ?1 ORDER BY created_ms LIMIT 1",
                    [&cid],
                    |r| r.get(0),
                )
                .optional()?;
            let gid = match existing {
                Some(g) => g,
                None => {
                    let g = new_id();
                    tx.execute(
                        "INSERT INTO hub_groups (id, tenant_id, founder_device_id, created_ms,
                             a2a_channel_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![g, tenant, founder, now_ms(), cid],
                    )?;
                    g
                }
            };
            let empty: bool = tx.query_row(
                "SELECT NOT EXISTS (SELECT 1 FROM hub_group_members WHERE group_id = ?1)",
                [&gid],
                |r| r.get(0),
            )?;
            if empty {
                for d in std::iter::once(&founder).chain(allowed.iter()) {
                    tx.execute(
                        "INSERT OR IGNORE INTO hub_group_members (group_id, device_id) VALUES (?1, ?2)",
                        params![gid, d],
                    )?;
                }
            }
            tx.commit()?;
            Ok(gid)
        })
        .await?)
}

/// `device` may send into the channel's group: an active participant of an
/// active channel.
pub async fn check_sender(catalog: &Catalog, channel: &str, device: &str) -> HubResult<Channel> {
    let ch = find(catalog, channel)
        .await?
        .ok_or_else(|| HubError::NotFound(CHANNEL_NOT_FOUND.into()))?;
    match ch.participant(device) {
        Some(p) if p.status == ACTIVE && ch.status == ACTIVE => Ok(ch),
        Some(_) => Err(HubError::Forbidden(NOT_A_PARTICIPANT.into())),
        None => Err(HubError::NotFound(CHANNEL_NOT_FOUND.into())),
    }
}

/// The device behind a participant's hub id (a Welcome's `target_hub_id`
/// may name a remote participant).
pub async fn device_of_hub_id(catalog: &Catalog, hub_id: &str) -> HubResult<Option<String>> {
    let h = hub_id.to_owned();
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                "SELECT device_id FROM hub_a2a_participants WHERE hub_id = ?1 LIMIT 1",
                [h],
                |r| r.get(0),
            )
            .optional()
        })
        .await?)
}

/// Approval prompts on screen, by channel.
#[derive(Clone, Default)]
pub struct Prompts(PromptSet);

impl Prompts {
    /// Withdraw the channel's prompt, if one is on screen.
    pub fn withdraw(&self, channel: &str) {
        self.0.withdraw(channel);
    }

    /// Ask the owner about a pending channel.
    pub fn raise(&self, hub: Hub, approvals: Arc<Approvals>, ch: Channel, timeout: Duration) {
        let creator = ch
            .participants
            .iter()
            .find(|p| p.role == "creator")
            .map(|p| p.hub_address.clone())
            .unwrap_or_default();
        let peers: Vec<String> = ch
            .participants
            .iter()
            .filter(|p| p.role != "creator")
            .map(|p| p.hub_address.clone())
            .collect();
        let request = NewApproval {
            kind: ApprovalKind::A2aChannel,
            requester: Requester {
                app_name: creator.clone(),
                name_source: NameSource::Unverified,
                client_id: Some(format!("hub-a2a:{}", ch.channel_id)),
                ..Requester::default()
            },
            reason: Some(format!(
                "{creator} asks for an encrypted agent-to-agent channel with {}{}.",
                peers.join(", "),
                ch.topic
                    .as_deref()
                    .map(|t| format!(" about \u{201c}{t}\u{201d}"))
                    .unwrap_or_default()
            )),
            details: json!({
                "channel_id": ch.channel_id, "topic": ch.topic, "creator": creator,
                "peers": peers, "requested_by": ch.requested_by,
                "federated": ch.agreement_id.is_some(), "tenant_id": ch.tenant_id,
            }),
            grant_allowed: false,
            timeout,
        };
        self.0.ask(
            ch.channel_id.clone(),
            approvals,
            request,
            move |allowed| async move {
                let result = if allowed {
                    approve(&hub, &ch.tenant_id, &ch.channel_id).await
                } else {
                    reject(&hub, &ch.tenant_id, &ch.channel_id).await
                };
                if let Err(e) = result {
                    tracing::warn!("recording the A2A channel answer failed: {e}");
                }
            },
        );
    }
}
