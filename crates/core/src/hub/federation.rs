//! Federation between two Holdfast hubs: bilateral agreements, and the
//! relay of A2A channel traffic across them.
//!
//! Hub A's owner creates an agreement naming hub B's URL; A sends B an
//! offer carrying a fresh secret (B keeps only its SHA-256). B's owner
//! accepts: B makes its own secret and sends it to A with a proof that it
//! holds the offer (the SHA-256 of A's secret, compared in constant time);
//! A keeps only the hash of B's secret. From then on each hub calls the
//! other with `Authorization: Bearer <its secret>` and
//! `X-Federation-Agreement: <id>`. Only under an `accepted` agreement may a
//! channel have a participant on the other hub (`remote`), and only then
//! does the relay forward that channel's queue rows: rows addressed to a
//! remote participant's device wait in this hub's queue until they cross.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::a2a::{self, Channel, Party};
use super::live::frame;
use super::queue::{self, Linkage, Row};
use super::{Hub, HubError, HubResult};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

pub const PENDING: &str = "pending";
pub const ACCEPTED: &str = "accepted";
pub const NOT_FOUND: &str = "Agreement not found";

#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub id: String,
    pub tenant_id: String,
    /// `outbound`: this hub offered it; `inbound`: the peer did.
    pub direction: String,
    pub peer_url: String,
    pub peer_host: String,
    pub status: String,
    pub created_at: String,
    pub accepted_at: Option<String>,
    #[serde(skip)]
    pub send_secret: Option<String>,
    #[serde(skip)]
    peer_secret_hash: Option<Vec<u8>>,
}

const COLUMNS: &str = "id, tenant_id, direction, peer_url, peer_host, status, created_ms,
     accepted_ms, send_secret, peer_secret_hash";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Agreement> {
    let accepted: Option<i64> = r.get(7)?;
    Ok(Agreement {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        direction: r.get(2)?,
        peer_url: r.get(3)?,
        peer_host: r.get(4)?,
        status: r.get(5)?,
        created_at: rfc3339(r.get(6)?),
        accepted_at: accepted.map(rfc3339),
        send_secret: r.get(8)?,
        peer_secret_hash: r.get(9)?,
    })
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn same_hash(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// `scheme://host[:port]` → `host[:port]` (lowercase), or None when the
/// URL is not a plain http(s) base URL.
pub fn host_of(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let host = rest.trim_end_matches('/');
    let ok = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    ok.then(|| host.to_ascii_lowercase())
}

async fn find(catalog: &Catalog, id: &str) -> HubResult<Option<Agreement>> {
    let id = id.to_owned();
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM hub_federation_agreements WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()
        })
        .await?)
}

/// An agreement of `tenant`, or 404.
pub async fn get(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Agreement> {
    match find(catalog, id).await? {
        Some(a) if a.tenant_id == tenant => Ok(a),
        _ => Err(HubError::NotFound(NOT_FOUND.into())),
    }
}

pub async fn list(catalog: &Catalog, tenant: &str) -> HubResult<Vec<Agreement>> {
    let t = tenant.to_owned();
    Ok(catalog
        .read(move |conn| {
            let mut st = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM hub_federation_agreements WHERE tenant_id = ?1
                 ORDER BY created_ms DESC"
            ))?;
            st.query_map([t], from_row)?.collect()
        })
        .await?)
}

/// The tenant's agreement with the hub at `host`, accepted ones first.
pub async fn for_host(catalog: &Catalog, tenant: &str, host: &str) -> HubResult<Option<Agreement>> {
    let (t, h) = (tenant.to_owned(), host.to_ascii_lowercase());
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM hub_federation_agreements
                     WHERE tenant_id = ?1 AND peer_host = ?2
                     ORDER BY status = 'accepted' DESC, created_ms DESC LIMIT 1"
                ),
                params![t, h],
                from_row,
            )
            .optional()
        })
        .await?)
}

/// Record the offer this hub sent (after the peer took it).
pub async fn record_outbound(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
    peer_url: &str,
    send_secret: &str,
) -> HubResult<Agreement> {
    insert(
        catalog,
        tenant,
        id,
        "outbound",
        peer_url,
        Some(send_secret),
        None,
    )
    .await
}

/// Record an offer a peer hub sent; its secret is kept hashed.
pub async fn record_inbound(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
    peer_url: &str,
    peer_secret: &str,
) -> HubResult<Agreement> {
    insert(
        catalog,
        tenant,
        id,
        "inbound",
        peer_url,
        None,
        Some(hash(peer_secret)),
    )
    .await
}

async fn insert(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
    direction: &'static str,
    peer_url: &str,
    send_secret: Option<&str>,
    peer_hash: Option<Vec<u8>>,
) -> HubResult<Agreement> {
    let host = host_of(peer_url)
        .ok_or_else(|| HubError::BadRequest("peer_url must be an http(s) base URL".into()))?;
    let (i, t, u, s) = (
        id.to_owned(),
        tenant.to_owned(),
        peer_url.trim_end_matches('/').to_owned(),
        send_secret.map(str::to_owned),
    );
    let outcome = catalog
        .write(move |conn| {
            let exists: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM hub_federation_agreements WHERE id = ?1)",
                [&i],
                |r| r.get(0),
            )?;
            if exists {
                return Ok(Err(HubError::Conflict("Agreement already exists".into())));
            }
            conn.execute(
                "INSERT INTO hub_federation_agreements (id, tenant_id, direction, peer_url,
                     peer_host, status, send_secret, peer_secret_hash, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8)",
                params![i, t, direction, u, host, s, peer_hash, now_ms()],
            )?;
            Ok(Ok(()))
        })
        .await?;
    outcome?;
    get(catalog, tenant, id).await
}

/// What the accepting hub sends the offering one.
pub struct Acceptance {
    /// The accepting hub's secret (for its calls from now on).
    pub secret: String,
    /// The SHA-256 (hex) of the offer's secret: proof the offer was received.
    pub proof: String,
}

/// The owner accepts an inbound offer: a new secret for this hub's calls.
/// The agreement turns `accepted` only once the peer has taken the
/// acceptance ([`confirm_accepted`]).
pub async fn accept_inbound(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
) -> HubResult<(Agreement, Acceptance)> {
    let a = get(catalog, tenant, id).await?;
    if a.direction != "inbound" {
        return Err(HubError::Conflict(
            "Only the hub an agreement was offered to can accept it".into(),
        ));
    }
    if a.status == ACCEPTED {
        return Err(HubError::Conflict("Agreement already accepted".into()));
    }
    let secret = crate::secret::random_token();
    let proof = hex::encode(a.peer_secret_hash.clone().unwrap_or_default());
    Ok((a, Acceptance { secret, proof }))
}

/// Mark an agreement accepted on this side, keeping what this hub sends
/// (`send_secret`, inbound side) or the hash of the peer's (outbound side).
pub async fn mark_accepted(
    catalog: &Catalog,
    id: &str,
    send_secret: Option<String>,
    peer_hash: Option<Vec<u8>>,
) -> HubResult<()> {
    let id = id.to_owned();
    catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_federation_agreements SET status = 'accepted', accepted_ms = ?2,
                     send_secret = COALESCE(?3, send_secret),
                     peer_secret_hash = COALESCE(?4, peer_secret_hash)
                 WHERE id = ?1",
                params![id, now_ms(), send_secret, peer_hash],
            )
        })
        .await?;
    Ok(())
}

/// On the offering hub: the peer accepted; check its proof of the offer.
pub async fn confirm_accepted(catalog: &Catalog, id: &str, a: &Acceptance) -> HubResult<Agreement> {
    let ag = find(catalog, id)
        .await?
        .ok_or_else(|| HubError::NotFound(NOT_FOUND.into()))?;
    let expected = ag.send_secret.as_deref().map(hash).unwrap_or_default();
    let given = hex::decode(&a.proof).unwrap_or_default();
    if ag.direction != "outbound" || !same_hash(&expected, &given) {
        return Err(HubError::Unauthorized("Invalid agreement proof".into()));
    }
    if a.secret.len() < 32 || a.secret.len() > 256 {
        return Err(HubError::BadRequest(
            "secret must be 32-256 characters".into(),
        ));
    }
    mark_accepted(catalog, id, None, Some(hash(&a.secret))).await?;
    get(catalog, &ag.tenant_id, id).await
}

/// The agreement a peer hub's call names, if its bearer is that peer's
/// secret. `accepted`: require an accepted agreement.
pub async fn authenticate(
    catalog: &Catalog,
    id: &str,
    bearer: &str,
    accepted: bool,
) -> HubResult<Agreement> {
    let Some(a) = find(catalog, id).await? else {
        return Err(HubError::Unauthorized("Unknown agreement".into()));
    };
    let ok = a
        .peer_secret_hash
        .as_deref()
        .is_some_and(|h| same_hash(h, &hash(bearer)));
    if !ok {
        return Err(HubError::Unauthorized("Invalid agreement secret".into()));
    }
    if accepted && a.status != ACCEPTED {
        return Err(HubError::Forbidden("Agreement is not accepted".into()));
    }
    Ok(a)
}

/// The sender's hub address on an A2A group's traffic.
pub(super) fn sender_address(
    conn: &Connection,
    linkage: &Linkage,
    sender: &str,
) -> rusqlite::Result<Option<String>> {
    let Some(ch) = &linkage.a2a_channel_id else {
        return Ok(None);
    };
    conn.query_row(
        "SELECT hub_address FROM hub_a2a_participants WHERE channel_id = ?1 AND device_id = ?2",
        params![ch, sender],
        |r| r.get(0),
    )
    .optional()
}

/// Whether `device` is a participant of the A2A group's channel (it may be
/// on another hub).
pub(super) fn channel_participant(
    conn: &Connection,
    linkage: &Linkage,
    device: &str,
) -> rusqlite::Result<bool> {
    let Some(ch) = &linkage.a2a_channel_id else {
        return Ok(false);
    };
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM hub_a2a_participants WHERE channel_id = ?1
             AND device_id = ?2 AND status = 'active')",
        params![ch, device],
        |r| r.get(0),
    )
}

/// A queue row on its way to a peer hub.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Relayed {
    pub channel_id: String,
    pub target_device_id: String,
    pub message_type: String,
    pub sender_device_id: String,
    pub group_id: String,
    /// Hex.
    pub payload: String,
    pub message_id: String,
    pub client_message_id: Option<String>,
    pub epoch: Option<i64>,
    pub from_hub_address: Option<String>,
    pub topic_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub created_at: String,
}

/// Where a batch of relayed rows goes.
pub struct Outgoing {
    pub agreement_id: String,
    pub peer_url: String,
    pub send_secret: String,
    pub queue_id: String,
    pub row: Relayed,
}

/// Rows waiting for remote participants under accepted agreements.
pub async fn outbox(catalog: &Catalog) -> HubResult<Vec<Outgoing>> {
    Ok(catalog
        .read(|conn| {
            let mut st = conn.prepare(
                "SELECT q.queue_id, q.device_id, q.message_type, q.sender_device_id, q.group_id,
                        q.payload, q.message_id, q.client_message_id, q.epoch, q.linkage,
                        q.created_at, a.id, a.peer_url, a.send_secret, p.channel_id
                 FROM hub_queue q
                 JOIN hub_a2a_participants p ON p.device_id = q.device_id AND p.remote = 1
                 JOIN hub_a2a_channels c ON c.id = p.channel_id
                 JOIN hub_federation_agreements a ON a.id = c.agreement_id
                 WHERE a.status = 'accepted' AND a.send_secret IS NOT NULL
                 GROUP BY q.queue_id ORDER BY q.seq LIMIT 200",
            )?;
            st.query_map([], |r| {
                let payload: Vec<u8> = r.get(5)?;
                let linkage: String = r.get(9)?;
                let linkage: Linkage = serde_json::from_str(&linkage).unwrap_or_default();
                let channel: String = r.get(14)?;
                Ok(Outgoing {
                    queue_id: r.get(0)?,
                    agreement_id: r.get(11)?,
                    peer_url: r.get(12)?,
                    send_secret: r.get(13)?,
                    row: Relayed {
                        channel_id: linkage.a2a_channel_id.clone().unwrap_or(channel),
                        target_device_id: r.get(1)?,
                        message_type: r.get(2)?,
                        sender_device_id: r.get(3)?,
                        group_id: r.get(4)?,
                        payload: hex::encode(payload),
                        message_id: r.get(6)?,
                        client_message_id: r.get(7)?,
                        epoch: r.get(8)?,
                        from_hub_address: linkage.from_hub_address,
                        topic_id: linkage.topic_id,
                        parent_span_id: linkage.parent_span_id,
                        created_at: r.get(10)?,
                    },
                })
            })?
            .collect()
        })
        .await?)
}

/// Drop rows the peer hub took.
pub async fn delivered(catalog: &Catalog, queue_ids: Vec<String>) -> HubResult<()> {
    catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            for id in &queue_ids {
                tx.execute("DELETE FROM hub_queue WHERE queue_id = ?1", [id])?;
            }
            tx.commit()
        })
        .await?;
    Ok(())
}

/// The channel a peer's call names: it must belong to the agreement.
async fn channel_under(catalog: &Catalog, ag: &Agreement, id: &str) -> HubResult<Channel> {
    match a2a::find(catalog, id).await? {
        Some(c) if c.agreement_id.as_deref() == Some(ag.id.as_str()) => Ok(c),
        _ => Err(HubError::NotFound(a2a::CHANNEL_NOT_FOUND.into())),
    }
}

/// Take a row relayed by the peer hub: its sender must be the channel's
/// remote participant and its target a local one. The channel's group is
/// mirrored here (same id) so the local device can answer into it.
pub async fn receive(hub: &Hub, ag: &Agreement, r: Relayed) -> HubResult<()> {
    let ch = channel_under(&hub.catalog, ag, &r.channel_id).await?;
    let party = |d: &str, remote: bool| {
        ch.participants
            .iter()
            .any(|p| p.device_id == d && p.remote == remote && p.status == a2a::ACTIVE)
    };
    if ch.status != a2a::ACTIVE
        || !party(&r.sender_device_id, true)
        || !party(&r.target_device_id, false)
    {
        return Err(HubError::Forbidden(a2a::NOT_A_CHANNEL_PARTY.into()));
    }
    let group = super::parse_id(&r.group_id)
        .ok_or_else(|| HubError::BadRequest("group_id must be a UUID".into()))?;
    let payload = hex::decode(&r.payload)
        .ok()
        .filter(|p| !p.is_empty() && p.len() <= super::groups::MAX_PAYLOAD)
        .ok_or_else(|| HubError::BadRequest("payload must be 1 byte to 256 KiB of hex".into()))?;
    let kind: &'static str = match r.message_type.as_str() {
        "welcome" => "welcome",
        "commit" => "commit",
        "application" => "application",
        _ => return Err(HubError::BadRequest("unknown message_type".into())),
    };
    let message_id = super::parse_id(&r.message_id)
        .ok_or_else(|| HubError::BadRequest("message_id must be a UUID".into()))?;
    let mut row = Row::new(
        &r.target_device_id,
        kind,
        &r.sender_device_id,
        &group,
        &payload,
        &message_id,
    );
    row.client_message_id = r.client_message_id.clone();
    row.epoch = r.epoch;
    row.created_at = r.created_at.clone();
    row.linkage = Linkage {
        a2a_channel_id: Some(ch.channel_id.clone()),
        from_hub_address: r.from_hub_address.clone(),
        topic_id: r.topic_id.clone(),
        parent_span_id: r.parent_span_id.clone(),
        ..Linkage::default()
    };
    let (cid, tenant) = (ch.channel_id.clone(), ch.tenant_id.clone());
    let row2 = row.clone();
    let pending = hub
        .catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let linked: Option<Option<String>> = tx
                .query_row(
                    "SELECT a2a_channel_id FROM hub_groups WHERE id = ?1",
                    [&group],
                    |r| r.get(0),
                )
                .optional()?;
            match linked {
                Some(Some(c)) if c == cid => {}
                Some(_) => return Ok(Err(HubError::Conflict("Group belongs elsewhere".into()))),
                None => {
                    tx.execute(
                        "INSERT INTO hub_groups (id, tenant_id, founder_device_id, created_ms,
                             a2a_channel_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![group, tenant, row2.sender_device_id, now_ms(), cid],
                    )?;
                }
            }
            for d in [&row2.sender_device_id, &row2.device_id] {
                tx.execute(
                    "INSERT OR IGNORE INTO hub_group_members (group_id, device_id) VALUES (?1, ?2)",
                    params![group, d],
                )?;
            }
            if row2.message_type == "commit"
                && let Some(e) = row2.epoch
            {
                let digest = hex::encode(Sha256::digest(&row2.payload));
                tx.execute(
                    "UPDATE hub_groups SET current_epoch = ?2, last_commit_digest = ?3
                     WHERE id = ?1 AND current_epoch < ?2",
                    params![group, e, digest],
                )?;
            }
            // A retried relay must not queue the same artefact twice.
            let dup: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM hub_queue WHERE device_id = ?1 AND message_id = ?2
                     AND message_type = ?3)",
                params![row2.device_id, row2.message_id, row2.message_type],
                |r| r.get(0),
            )?;
            if !dup {
                row2.insert(&tx)?;
            }
            let pending = queue::welcome_pending(&tx, &row2.device_id, &group)?;
            tx.commit()?;
            Ok(Ok(pending))
        })
        .await??;
    let event = match kind {
        "commit" => Some("mls_commit"),
        "application" => Some("a2a_message_mls"),
        _ => None,
    };
    if let Some(event) = event
        && !pending
    {
        hub.live.send(&row.device_id, frame(event, row.live_data()));
    }
    hub.live.nudge(&row.device_id, 1);
    Ok(())
}

/// A channel the peer hub's owner approved, with a participant here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OfferedChannel {
    pub channel_id: String,
    pub topic: Option<String>,
    pub creator_hub_id: String,
    pub creator_hub_address: String,
    pub creator_device_id: String,
    /// The local identity the channel is with.
    pub peer_hub_id: String,
}

/// Mirror a federated channel here (same id), active: the agreement is
/// this hub's owner's consent to channels with the peer's agents. The
/// local participant is told (`a2a_channel_invited`).
pub async fn receive_channel(
    hub: &Hub,
    ag: &Agreement,
    host: &str,
    c: OfferedChannel,
) -> HubResult<Channel> {
    let id = super::parse_id(&c.channel_id)
        .ok_or_else(|| HubError::BadRequest("channel_id must be a UUID".into()))?;
    let peer_hub = super::parse_id(&c.peer_hub_id).unwrap_or_default();
    let local = match super::identities::get(&hub.catalog, &ag.tenant_id, &peer_hub).await {
        Ok(i) => i,
        Err(_) => return Err(HubError::NotFound(a2a::PEER_NOT_FOUND.into())),
    };
    let creator_device = super::parse_id(&c.creator_device_id)
        .ok_or_else(|| HubError::BadRequest("creator_device_id must be a UUID".into()))?;
    let creator_hub = super::parse_id(&c.creator_hub_id)
        .ok_or_else(|| HubError::BadRequest("creator_hub_id must be a UUID".into()))?;
    if c.creator_hub_address.len() > 300
        || c.topic
            .as_ref()
            .is_some_and(|t| t.chars().count() > a2a::MAX_TOPIC)
    {
        return Err(HubError::BadRequest("field too long".into()));
    }
    if let Some(existing) = a2a::find(&hub.catalog, &id).await? {
        if existing.agreement_id.as_deref() == Some(ag.id.as_str()) {
            return Ok(existing);
        }
        return Err(HubError::Conflict("Channel already exists".into()));
    }
    let ch = a2a::create(
        &hub.catalog,
        &ag.tenant_id,
        Some(id),
        Party {
            hub_id: creator_hub,
            hub_address: c.creator_hub_address,
            device_id: creator_device,
            remote: true,
        },
        Party {
            hub_id: local.id.clone(),
            hub_address: super::identities::address(&local.name, host),
            device_id: local.device_id.clone(),
            remote: false,
        },
        c.topic,
        "federation",
        Some(ag.id.clone()),
        a2a::ACTIVE,
    )
    .await?;
    hub.live.send(
        &local.device_id,
        frame("a2a_channel_invited", ch.item(Some(&local.device_id))),
    );
    a2a::announce(hub, &ch, "a2a_channel_approved", json!({}));
    Ok(ch)
}

/// A KeyPackage of a local participant, for the peer hub's creator.
pub async fn key_package_for_peer(
    hub: &Hub,
    ag: &Agreement,
    device: &str,
) -> HubResult<Option<Vec<u8>>> {
    let shares: bool = {
        let (a, d) = (ag.id.clone(), device.to_owned());
        hub.catalog
            .read(move |conn| {
                conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM hub_a2a_participants p
                         JOIN hub_a2a_channels c ON c.id = p.channel_id
                         WHERE c.agreement_id = ?1 AND p.device_id = ?2 AND p.remote = 0
                           AND c.status = 'active')",
                    params![a, d],
                    |r| r.get(0),
                )
            })
            .await?
    };
    if !shares {
        return Err(HubError::Forbidden(a2a::NOT_A_CHANNEL_PARTY.into()));
    }
    let claimed =
        super::keypackages::claim(&hub.catalog, &ag.tenant_id, vec![device.to_owned()]).await?;
    Ok(claimed.into_iter().next().map(|(_, kp)| kp))
}

/// The agreement a remote participant's device is reached under, if
/// accepted: (peer_url, agreement id, send secret).
/// `asking` must share that channel (a local, active participant).
pub async fn route_to_device(
    catalog: &Catalog,
    asking: &str,
    device: &str,
) -> HubResult<Option<(String, String, String)>> {
    let (d, me) = (device.to_owned(), asking.to_owned());
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                "SELECT a.peer_url, a.id, a.send_secret FROM hub_a2a_participants p
                 JOIN hub_a2a_channels c ON c.id = p.channel_id
                 JOIN hub_federation_agreements a ON a.id = c.agreement_id
                 JOIN hub_a2a_participants me ON me.channel_id = c.id AND me.device_id = ?2
                     AND me.remote = 0 AND me.status = 'active'
                 WHERE p.device_id = ?1 AND p.remote = 1 AND a.status = 'accepted'
                   AND a.send_secret IS NOT NULL LIMIT 1",
                params![d, me],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
        })
        .await?)
}

/// The offer body one hub sends another.
pub fn offer_body(id: &str, hub_url: &str, secret: &str) -> Value {
    json!({"agreement_id": id, "hub_url": hub_url, "secret": secret})
}
