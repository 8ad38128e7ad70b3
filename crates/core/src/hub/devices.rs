//! Devices: enrolment with proof of possession, the owner's approval,
//! signed activation, and the owner's controls (rename, webhook, suspend,
//! revoke, delete). Status strings are the protocol's uppercase set (§3.1).

use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Serialize;

use super::{HubError, HubResult, invites, new_id, proof};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

pub const PENDING: &str = "PENDING";
pub const APPROVED: &str = "APPROVED";
pub const REJECTED: &str = "REJECTED";
pub const ACTIVE: &str = "ACTIVE";
pub const SUSPENDED: &str = "SUSPENDED";
pub const REVOKED: &str = "REVOKED";

/// The exact 404 body agents read as "deleted" (§3.1, §11.1).
pub const NOT_FOUND: &str = "Device not found";

#[derive(Debug, Clone, Serialize)]
pub struct Device {
    pub id: String,
    pub tenant_id: String,
    /// `agent` or `owner`.
    pub device_type: String,
    pub name: String,
    pub platform: Option<String>,
    pub status: String,
    pub fingerprint: String,
    pub identity_public_key: String,
    pub ephemeral_public_key: Option<String>,
    pub hub_id: String,
    pub webhook_url: Option<String>,
    pub client_version: Option<String>,
    /// The agent's last "must re-enrol" notice (§3.4), if any.
    pub health: Option<serde_json::Value>,
    pub created_at: String,
    pub last_seen_ms: Option<i64>,
    #[serde(skip)]
    pub activation_pop: bool,
    #[serde(skip)]
    pub identity_key: [u8; 32],
}

const COLUMNS: &str = "id, tenant_id, kind, name, platform, status, fingerprint, identity_key,
     ephemeral_key, hub_id, webhook_url, client_version, health, created_ms, last_seen_ms,
     activation_pop";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Device> {
    let key: Vec<u8> = r.get(7)?;
    let identity_key: [u8; 32] = key.try_into().unwrap_or([0; 32]);
    let eph: Option<Vec<u8>> = r.get(8)?;
    let health: Option<String> = r.get(12)?;
    Ok(Device {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        device_type: r.get(2)?,
        name: r.get(3)?,
        platform: r.get(4)?,
        status: r.get(5)?,
        fingerprint: r.get(6)?,
        identity_public_key: hex::encode(identity_key),
        identity_key,
        ephemeral_public_key: eph.map(hex::encode),
        hub_id: r.get(9)?,
        webhook_url: r.get(10)?,
        client_version: r.get(11)?,
        health: health.and_then(|h| serde_json::from_str(&h).ok()),
        created_at: rfc3339(r.get(13)?),
        last_seen_ms: r.get(14)?,
        activation_pop: r.get(15)?,
    })
}

/// A device that is not deleted, in any tenant (device-side lookups).
pub async fn get(catalog: &Catalog, id: &str) -> HubResult<Option<Device>> {
    let id = id.to_owned();
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM hub_devices WHERE id = ?1 AND deleted_ms IS NULL"),
                [id],
                from_row,
            )
            .optional()
        })
        .await?)
}

/// A device of `tenant`, or 404 "Device not found".
pub async fn get_in(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Device> {
    match get(catalog, id).await? {
        Some(d) if d.tenant_id == tenant => Ok(d),
        _ => Err(HubError::NotFound(NOT_FOUND.into())),
    }
}

pub async fn list(catalog: &Catalog, tenant: &str) -> HubResult<Vec<Device>> {
    let tenant = tenant.to_owned();
    Ok(catalog
        .read(move |conn| {
            let mut st = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM hub_devices WHERE tenant_id = ?1 AND deleted_ms IS NULL
                 ORDER BY created_ms, id"
            ))?;
            st.query_map([tenant], from_row)?.collect()
        })
        .await?)
}

/// What an agent sends to enrol (§2.1), decoded.
pub struct Enrolment {
    pub invite_token: String,
    pub identity_key: [u8; 32],
    pub ephemeral_key: [u8; 32],
    pub proof: [u8; 64],
    pub activation_pop: bool,
    pub platform: Option<String>,
}

/// id, tenant, expires, revoked, consumed.
type InviteRow = (String, String, i64, Option<i64>, Option<i64>);

/// Consume the invite and register a PENDING device, in one transaction.
pub async fn enroll(catalog: &Catalog, e: Enrolment) -> HubResult<Device> {
    if !proof::proof_of_possession_ok(&e.identity_key, &e.proof) {
        return Err(HubError::BadRequest("Invalid proof of possession".into()));
    }
    let digest = invites::hash(&e.invite_token);
    let id = new_id();
    let fingerprint = proof::fingerprint(&e.identity_key);
    let name = format!(
        "{} agent {}",
        e.platform.as_deref().unwrap_or("new"),
        &fingerprint[..5]
    );
    let device_id = id.clone();
    let outcome = catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let invite: Option<InviteRow> = tx
                .query_row(
                    "SELECT id, tenant_id, expires_ms, revoked_ms, consumed_ms FROM hub_invites
                     WHERE token_hash = ?1 AND deleted_ms IS NULL",
                    [&digest],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?;
            let Some((invite_id, tenant, expires, revoked, consumed)) = invite else {
                return Ok(Err(HubError::BadRequest("Invalid invite token".into())));
            };
            let now = now_ms();
            if consumed.is_some() {
                return Ok(Err(HubError::Conflict("Invite already consumed".into())));
            }
            if revoked.is_some() {
                return Ok(Err(HubError::BadRequest("Invite has been revoked".into())));
            }
            if expires <= now {
                return Ok(Err(HubError::BadRequest("Invite has expired".into())));
            }
            tx.execute(
                "INSERT INTO hub_devices (id, tenant_id, kind, name, platform, identity_key,
                     ephemeral_key, fingerprint, status, activation_pop, invite_id, hub_id,
                     created_ms, updated_ms)
                 VALUES (?1, ?2, 'agent', ?3, ?4, ?5, ?6, ?7, 'PENDING', ?8, ?9, ?10, ?11, ?11)",
                params![
                    device_id,
                    tenant,
                    name,
                    e.platform,
                    e.identity_key.to_vec(),
                    e.ephemeral_key.to_vec(),
                    fingerprint,
                    e.activation_pop,
                    invite_id,
                    new_id(),
                    now
                ],
            )?;
            tx.execute(
                "UPDATE hub_invites SET consumed_ms = ?2, device_id = ?3 WHERE id = ?1",
                params![invite_id, now, device_id],
            )?;
            tx.commit()?;
            Ok(Ok(()))
        })
        .await?;
    outcome?;
    get(catalog, &id)
        .await?
        .ok_or_else(|| HubError::NotFound(NOT_FOUND.into()))
}

/// Move a device between states; `from` lists the states it may leave.
async fn transition(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
    from: &'static [&'static str],
    to: &'static str,
) -> HubResult<Device> {
    let device = get_in(catalog, tenant, id).await?;
    if device.status == to {
        return Ok(device);
    }
    if !from.contains(&device.status.as_str()) {
        return Err(HubError::Conflict(format!(
            "Device is {}; it cannot become {to}",
            device.status
        )));
    }
    let id2 = id.to_owned();
    catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_devices SET status = ?2, updated_ms = ?3 WHERE id = ?1",
                params![id2, to, now_ms()],
            )
        })
        .await?;
    get_in(catalog, tenant, id).await
}

pub async fn approve(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Device> {
    transition(catalog, tenant, id, &[PENDING], APPROVED).await
}

pub async fn reject(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Device> {
    transition(catalog, tenant, id, &[PENDING], REJECTED).await
}

pub async fn revoke(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Device> {
    transition(
        catalog,
        tenant,
        id,
        &[PENDING, APPROVED, ACTIVE, SUSPENDED],
        REVOKED,
    )
    .await
}

pub async fn suspend(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Device> {
    transition(catalog, tenant, id, &[ACTIVE], SUSPENDED).await
}

pub async fn resume(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Device> {
    transition(catalog, tenant, id, &[SUSPENDED], ACTIVE).await
}

/// Activation (§2.4): APPROVED (or already ACTIVE) device, fresh signed
/// proof when it promised one. Makes the device ACTIVE.
pub async fn activate(
    catalog: &Catalog,
    id: &str,
    signature: Option<[u8; 64]>,
    signed_at: Option<i64>,
) -> HubResult<Device> {
    let device = get(catalog, id)
        .await?
        .ok_or_else(|| HubError::NotFound(NOT_FOUND.into()))?;
    if device.status != APPROVED && device.status != ACTIVE {
        return Err(HubError::Forbidden(format!(
            "Device is {}; the owner has not approved it",
            device.status
        )));
    }
    match (signature, signed_at) {
        (Some(sig), Some(at)) => {
            if (now_ms() / 1000 - at).abs() > proof::ACTIVATION_SKEW_S || at < 0 {
                return Err(HubError::BadRequest(
                    "signed_at is more than 300 seconds from the hub's clock".into(),
                ));
            }
            let uuid = uuid::Uuid::parse_str(&device.id)
                .map_err(|_| HubError::NotFound(NOT_FOUND.into()))?;
            if !proof::activation_ok(&device.identity_key, &uuid, at as u64, &sig) {
                return Err(HubError::BadRequest("Invalid activation signature".into()));
            }
        }
        (None, None) if !device.activation_pop => {}
        _ => {
            return Err(HubError::BadRequest(
                "activation_signature and signed_at are required".into(),
            ));
        }
    }
    if device.status == APPROVED {
        let id2 = id.to_owned();
        catalog
            .write(move |conn| {
                conn.execute(
                    "UPDATE hub_devices SET status = 'ACTIVE', updated_ms = ?2
                     WHERE id = ?1 AND status = 'APPROVED'",
                    params![id2, now_ms()],
                )
            })
            .await?;
    }
    get(catalog, id)
        .await?
        .ok_or_else(|| HubError::NotFound(NOT_FOUND.into()))
}

pub async fn rename(catalog: &Catalog, tenant: &str, id: &str, name: &str) -> HubResult<Device> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(HubError::BadRequest("name must be 1-100 characters".into()));
    }
    get_in(catalog, tenant, id).await?;
    let id2 = id.to_owned();
    catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_devices SET name = ?2, updated_ms = ?3 WHERE id = ?1",
                params![id2, name, now_ms()],
            )
        })
        .await?;
    get_in(catalog, tenant, id).await
}

/// Register or clear (None) a webhook URL: http(s) only, at most 2048 bytes.
pub async fn set_webhook(catalog: &Catalog, id: &str, url: Option<String>) -> HubResult<()> {
    if let Some(u) = &url
        && (u.len() > 2048 || !(u.starts_with("https://") || u.starts_with("http://")))
    {
        return Err(HubError::BadRequest(
            "webhook_url must be an http(s) URL of at most 2048 characters".into(),
        ));
    }
    let id = id.to_owned();
    catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_devices SET webhook_url = ?2, updated_ms = ?3 WHERE id = ?1",
                params![id, url, now_ms()],
            )
        })
        .await?;
    Ok(())
}

/// Delete a device: revoked or rejected agents, and owner devices. Its
/// queue and key packages go with it.
pub async fn delete(catalog: &Catalog, tenant: &str, id: &str, owner: bool) -> HubResult<()> {
    let d = get_in(catalog, tenant, id).await?;
    if owner != (d.device_type == "owner") {
        return Err(HubError::BadRequest(if owner {
            "not an owner device".into()
        } else {
            "owner devices are removed with DELETE /devices/{id}/remove".into()
        }));
    }
    if !owner && d.status != REVOKED && d.status != REJECTED {
        return Err(HubError::Conflict(
            "Revoke the device before deleting it".into(),
        ));
    }
    let id = id.to_owned();
    catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "UPDATE hub_devices SET deleted_ms = ?2, status = 'REVOKED' WHERE id = ?1",
                params![id, now_ms()],
            )?;
            purge_material(&tx, &id)?;
            tx.commit()
        })
        .await?;
    Ok(())
}

/// Drop what a gone device can no longer use: its queue and key packages.
pub(super) fn purge_material(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM hub_queue WHERE device_id = ?1", [id])?;
    tx.execute("DELETE FROM hub_key_packages WHERE device_id = ?1", [id])?;
    Ok(())
}

/// Record the agent's "must re-enrol" notice (§3.4), bounded.
pub async fn note_health(catalog: &Catalog, id: &str, notice: serde_json::Value) -> HubResult<()> {
    let text = notice.to_string();
    if text.len() > 2048 {
        return Err(HubError::BadRequest("notice too large".into()));
    }
    get(catalog, id)
        .await?
        .ok_or_else(|| HubError::NotFound(NOT_FOUND.into()))?;
    let id = id.to_owned();
    catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_devices SET health = ?2 WHERE id = ?1",
                params![id, text],
            )
        })
        .await?;
    Ok(())
}

/// Remember when a device was last heard from and what it runs.
pub async fn seen(catalog: &Catalog, id: &str, client_version: Option<String>) -> HubResult<()> {
    let id = id.to_owned();
    catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_devices SET last_seen_ms = ?2,
                     client_version = COALESCE(?3, client_version) WHERE id = ?1",
                params![id, now_ms(), client_version],
            )
        })
        .await?;
    Ok(())
}

/// The owner's device of a tenant, registered under `identity_key` (the
/// daemon derives it from the identity), created on first use.
pub async fn ensure_owner(
    catalog: &Catalog,
    tenant: &str,
    identity_key: [u8; 32],
) -> HubResult<Device> {
    let (t, key) = (tenant.to_owned(), identity_key.to_vec());
    let id = catalog
        .write(move |conn| {
            let found: Option<String> = conn
                .query_row(
                    "SELECT id FROM hub_devices WHERE tenant_id = ?1 AND kind = 'owner'
                         AND identity_key = ?2 AND deleted_ms IS NULL",
                    params![t, key],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = found {
                return Ok(id);
            }
            let id = new_id();
            let now = now_ms();
            conn.execute(
                "INSERT INTO hub_devices (id, tenant_id, kind, name, platform, identity_key,
                     fingerprint, status, hub_id, created_ms, updated_ms)
                 VALUES (?1, ?2, 'owner', 'This computer', 'holdfast', ?3, ?4, 'ACTIVE', ?5, ?6, ?6)",
                params![id, t, key, proof::fingerprint(&identity_key), new_id(), now],
            )?;
            Ok(id)
        })
        .await?;
    get_in(catalog, tenant, &id).await
}

/// The device of a hub identity: its `hub_id`, or its own id.
pub async fn by_hub_id(catalog: &Catalog, hub_id: &str) -> HubResult<Option<String>> {
    let h = hub_id.to_owned();
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                "SELECT id FROM hub_devices WHERE (hub_id = ?1 OR id = ?1) AND deleted_ms IS NULL",
                [h],
                |r| r.get(0),
            )
            .optional()
        })
        .await?)
}
