//! API keys (`av_agent_sk_…`) for third-party agents that connect with an
//! SDK instead of enrolling: each key is bound to a device of its own,
//! created ACTIVE with the key (the owner made it, so there is nothing to
//! approve), and the key then stands in for that device's JWT as
//! `X-API-Key` or the WebSocket's `?token=`. The raw key is shown once; only
//! its SHA-256 is stored, so lookup is by digest and a catalog copy opens
//! nothing. Rotation swaps the digest in one statement: the old key stops
//! working the moment the new one exists.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::devices::{self, Device};
use super::{HubError, HubResult, new_id, proof};
use crate::catalog::Catalog;
use crate::identity::crypto::random_bytes;
use crate::time::{now_ms, rfc3339};

/// What every key starts with, so a client (and a secret scanner) can tell.
pub const PREFIX: &str = "av_agent_sk_";

/// Longest key name.
pub const MAX_NAME: usize = 100;

/// Last use is written at most this often per key.
const TOUCH_EVERY_MS: i64 = 60_000;

#[derive(Debug, Clone, Serialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The key's first characters, to tell keys apart in a list.
    pub prefix: String,
    pub device_id: String,
    /// active | revoked
    pub status: &'static str,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub rotated_at: Option<String>,
    /// The raw key: only in the answer to its creation or rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// The optional key material a third-party agent registers with its key.
pub struct NewKey {
    pub name: String,
    pub identity_key: Option<[u8; 32]>,
    pub platform: Option<String>,
}

fn digest(key: &str) -> Vec<u8> {
    Sha256::digest(key.trim().as_bytes()).to_vec()
}

/// Whether a token is shaped like an API key (rather than a JWT).
pub fn looks_like_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

fn fresh_key() -> String {
    format!(
        "{PREFIX}{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            random_bytes::<32>()
        )
    )
}

fn shown_prefix(key: &str) -> String {
    key.chars().take(PREFIX.len() + 6).collect()
}

const COLUMNS: &str =
    "id, name, prefix, device_id, created_ms, last_used_ms, revoked_ms, rotated_ms";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    let revoked: Option<i64> = r.get(6)?;
    Ok(ApiKey {
        id: r.get(0)?,
        name: r.get(1)?,
        prefix: r.get(2)?,
        device_id: r.get(3)?,
        status: if revoked.is_some() {
            "revoked"
        } else {
            "active"
        },
        created_at: rfc3339(r.get(4)?),
        last_used_at: r.get::<_, Option<i64>>(5)?.map(rfc3339),
        revoked_at: revoked.map(rfc3339),
        rotated_at: r.get::<_, Option<i64>>(7)?.map(rfc3339),
        key: None,
    })
}

/// Make a key and its ACTIVE device in one transaction.
pub async fn create(catalog: &Catalog, tenant: &str, new: NewKey) -> HubResult<ApiKey> {
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(HubError::BadRequest(format!(
            "name must be 1-{MAX_NAME} characters"
        )));
    }
    if let Some(p) = &new.platform
        && p.chars().count() > 64
    {
        return Err(HubError::BadRequest(
            "platform is at most 64 characters".into(),
        ));
    }
    let key = fresh_key();
    let (id, device_id) = (new_id(), new_id());
    let fingerprint = match &new.identity_key {
        Some(k) => proof::fingerprint(k),
        None => "api-key".to_owned(),
    };
    let identity = new.identity_key.unwrap_or([0; 32]).to_vec();
    let (t, kid, did, row_name, hash, prefix) = (
        tenant.to_owned(),
        id.clone(),
        device_id.clone(),
        name.clone(),
        digest(&key),
        shown_prefix(&key),
    );
    let platform = new.platform.unwrap_or_else(|| "api-key".into());
    catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let now = now_ms();
            tx.execute(
                "INSERT INTO hub_devices (id, tenant_id, kind, name, platform, identity_key,
                     fingerprint, status, hub_id, created_ms, updated_ms)
                 VALUES (?1, ?2, 'agent', ?3, ?4, ?5, ?6, 'ACTIVE', ?7, ?8, ?8)",
                params![
                    did,
                    t,
                    row_name,
                    platform,
                    identity,
                    fingerprint,
                    new_id(),
                    now
                ],
            )?;
            tx.execute(
                "INSERT INTO hub_api_keys (id, tenant_id, device_id, name, prefix, key_hash,
                     created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![kid, t, did, row_name, prefix, hash, now],
            )?;
            tx.commit()
        })
        .await?;
    let mut made = get(catalog, tenant, &id).await?;
    made.key = Some(key);
    Ok(made)
}

pub async fn list(catalog: &Catalog, tenant: &str) -> HubResult<Vec<ApiKey>> {
    let t = tenant.to_owned();
    Ok(catalog
        .read(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM hub_api_keys WHERE tenant_id = ?1 ORDER BY created_ms"
            ))?;
            stmt.query_map([t], from_row)?.collect()
        })
        .await?)
}

/// One key of a tenant; another tenant's id is "not found".
pub async fn get(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<ApiKey> {
    let (t, i) = (tenant.to_owned(), id.to_owned());
    catalog
        .read(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM hub_api_keys WHERE tenant_id = ?1 AND id = ?2"),
                params![t, i],
                from_row,
            )
            .optional()
        })
        .await?
        .ok_or_else(|| HubError::NotFound("API key not found".into()))
}

/// Revoke: the key stops working; its device stays until the key is deleted.
pub async fn revoke(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<ApiKey> {
    let k = get(catalog, tenant, id).await?;
    if k.status == "revoked" {
        return Err(HubError::Conflict("API key is already revoked".into()));
    }
    let i = id.to_owned();
    catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_api_keys SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
                params![i, now_ms()],
            )
        })
        .await?;
    get(catalog, tenant, id).await
}

/// A new secret for the same key and device; the old one is dead as soon
/// as this returns (one UPDATE swaps the digest).
pub async fn rotate(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<ApiKey> {
    let k = get(catalog, tenant, id).await?;
    if k.status == "revoked" {
        return Err(HubError::Conflict(
            "A revoked API key cannot be rotated".into(),
        ));
    }
    let key = fresh_key();
    let (i, hash, prefix) = (id.to_owned(), digest(&key), shown_prefix(&key));
    let changed = catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_api_keys SET key_hash = ?2, prefix = ?3, rotated_ms = ?4
                 WHERE id = ?1 AND revoked_ms IS NULL",
                params![i, hash, prefix, now_ms()],
            )
        })
        .await?;
    if changed == 0 {
        return Err(HubError::Conflict(
            "A revoked API key cannot be rotated".into(),
        ));
    }
    let mut k = get(catalog, tenant, id).await?;
    k.key = Some(key);
    Ok(k)
}

/// Delete the key and its device (soft, as device deletion is), in one
/// transaction; returns the device id so the caller can close its socket.
pub async fn delete(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<String> {
    let k = get(catalog, tenant, id).await?;
    let (i, d) = (id.to_owned(), k.device_id.clone());
    catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute("DELETE FROM hub_api_keys WHERE id = ?1", [&i])?;
            tx.execute(
                "UPDATE hub_devices SET deleted_ms = ?2, status = 'REVOKED', updated_ms = ?2
                 WHERE id = ?1",
                params![d, now_ms()],
            )?;
            devices::purge_material(&tx, &d)?;
            tx.commit()
        })
        .await?;
    Ok(k.device_id)
}

/// The device a raw key stands for, if the key is live. The caller still
/// checks the device's status like a JWT's.
pub async fn device_of_key(catalog: &Catalog, raw: &str) -> HubResult<Option<Device>> {
    if !looks_like_key(raw) || raw.len() > 128 {
        return Ok(None);
    }
    let hash = digest(raw);
    let found: Option<(String, String, Option<i64>)> = catalog
        .read(move |conn| {
            conn.query_row(
                "SELECT id, device_id, last_used_ms FROM hub_api_keys
                 WHERE key_hash = ?1 AND revoked_ms IS NULL",
                [hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
        })
        .await?;
    let Some((key_id, device_id, last_used)) = found else {
        return Ok(None);
    };
    let now = now_ms();
    if last_used.is_none_or(|t| now - t >= TOUCH_EVERY_MS) {
        catalog
            .write(move |conn| {
                conn.execute(
                    "UPDATE hub_api_keys SET last_used_ms = ?2 WHERE id = ?1",
                    params![key_id, now],
                )
            })
            .await?;
    }
    devices::get(catalog, &device_id).await
}
