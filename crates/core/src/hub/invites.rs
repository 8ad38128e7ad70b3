//! Invites: single-use enrolment tokens. The raw token is returned once at
//! creation; only its SHA-256 is stored, so a copy of the catalog enrols
//! nobody. An invite is active until consumed, revoked or expired; deleting
//! one hides it (soft delete) and is allowed only once it is spent.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{HubError, HubResult, new_id};
use crate::catalog::Catalog;
use crate::identity::crypto::random_bytes;
use crate::time::{now_ms, rfc3339};

/// Default and longest lifetimes.
pub const DEFAULT_HOURS: i64 = 72;
pub const MAX_HOURS: i64 = 30 * 24;

#[derive(Debug, Clone, Serialize)]
pub struct Invite {
    pub id: String,
    pub label: Option<String>,
    /// active | consumed | revoked | expired
    pub status: &'static str,
    pub created_at: String,
    pub expires_at: String,
    pub consumed_at: Option<String>,
    pub device_id: Option<String>,
    /// The raw token: present only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

pub(super) const COLUMNS: &str =
    "id, label, created_ms, expires_ms, revoked_ms, consumed_ms, device_id";

pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<Invite> {
    let created: i64 = r.get(2)?;
    let expires: i64 = r.get(3)?;
    let revoked: Option<i64> = r.get(4)?;
    let consumed: Option<i64> = r.get(5)?;
    let status = if consumed.is_some() {
        "consumed"
    } else if revoked.is_some() {
        "revoked"
    } else if expires <= now_ms() {
        "expired"
    } else {
        "active"
    };
    Ok(Invite {
        id: r.get(0)?,
        label: r.get(1)?,
        status,
        created_at: rfc3339(created),
        expires_at: rfc3339(expires),
        consumed_at: consumed.map(rfc3339),
        device_id: r.get(6)?,
        token: None,
    })
}

pub async fn create(
    catalog: &Catalog,
    tenant: &str,
    label: Option<String>,
    hours: Option<i64>,
) -> HubResult<Invite> {
    let hours = hours.unwrap_or(DEFAULT_HOURS);
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(HubError::BadRequest(format!(
            "expires_in_hours must be 1-{MAX_HOURS}"
        )));
    }
    let label = label.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
    if label.as_ref().is_some_and(|l| l.chars().count() > 100) {
        return Err(HubError::BadRequest(
            "label is at most 100 characters".into(),
        ));
    }
    let token = format!(
        "hfi_{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            random_bytes::<24>()
        )
    );
    let id = new_id();
    let created = now_ms();
    let expires = created + hours * 3_600_000;
    let (tenant, digest, row_id, row_label) =
        (tenant.to_owned(), hash(&token), id.clone(), label.clone());
    catalog
        .write(move |conn| {
            conn.execute(
                "INSERT INTO hub_invites (id, tenant_id, token_hash, label, created_ms, expires_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![row_id, tenant, digest, row_label, created, expires],
            )
        })
        .await?;
    Ok(Invite {
        id,
        label,
        status: "active",
        created_at: rfc3339(created),
        expires_at: rfc3339(expires),
        consumed_at: None,
        device_id: None,
        token: Some(token),
    })
}

pub async fn list(catalog: &Catalog, tenant: &str) -> HubResult<Vec<Invite>> {
    let tenant = tenant.to_owned();
    Ok(catalog
        .read(move |conn| {
            let mut st = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM hub_invites WHERE tenant_id = ?1 AND deleted_ms IS NULL
                 ORDER BY created_ms DESC, id"
            ))?;
            st.query_map([tenant], from_row)?.collect()
        })
        .await?)
}

async fn get(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Invite> {
    let (tenant, id) = (tenant.to_owned(), id.to_owned());
    catalog
        .read(move |conn| {
            conn.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM hub_invites
                     WHERE tenant_id = ?1 AND id = ?2 AND deleted_ms IS NULL"
                ),
                params![tenant, id],
                from_row,
            )
            .optional()
        })
        .await?
        .ok_or_else(|| HubError::NotFound("Invite not found".into()))
}

/// Revoke an active invite; a consumed one is 409.
pub async fn revoke(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Invite> {
    let invite = get(catalog, tenant, id).await?;
    match invite.status {
        "consumed" => return Err(HubError::Conflict("Invite already consumed".into())),
        "revoked" => return Err(HubError::Conflict("Invite already revoked".into())),
        "expired" => return Err(HubError::Conflict("Invite already expired".into())),
        _ => {}
    }
    let (t, i) = (tenant.to_owned(), id.to_owned());
    let changed = catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_invites SET revoked_ms = ?3
                 WHERE tenant_id = ?1 AND id = ?2 AND consumed_ms IS NULL AND revoked_ms IS NULL",
                params![t, i, now_ms()],
            )
        })
        .await?;
    if changed == 0 {
        // Consumed between the read and the write.
        return Err(HubError::Conflict("Invite already consumed".into()));
    }
    get(catalog, tenant, id).await
}

/// Soft-delete a spent invite; an active one must be revoked first (409).
pub async fn delete(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<()> {
    let invite = get(catalog, tenant, id).await?;
    if invite.status == "active" {
        return Err(HubError::Conflict(
            "Invite is still active; revoke it first".into(),
        ));
    }
    let (t, i) = (tenant.to_owned(), id.to_owned());
    catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_invites SET deleted_ms = ?3 WHERE tenant_id = ?1 AND id = ?2",
                params![t, i, now_ms()],
            )
        })
        .await?;
    Ok(())
}
