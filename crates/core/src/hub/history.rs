//! History backups (device protocol §10, a MAY): an agent keeps an
//! end-to-end encrypted archive of its conversations on the hub so another
//! install can restore it. The hub holds only the hash of the recovery code
//! (lowercase hex BLAKE2b-256, registered by the owner) and opaque archives
//! (`AVH1…`, at most 512 KiB), the newest three per device.

use base64::Engine;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::{HubError, HubResult, new_id};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

/// Largest decoded archive (§10.2).
pub const MAX_BLOB: usize = 524_288;
/// Most entries an archive may claim.
pub const MAX_ENTRIES: i64 = 500;
/// Generations kept per device, newest first.
pub const KEEP: i64 = 3;
/// What every archive starts with.
pub const MAGIC: &[u8] = b"AVH1";

/// One stored archive, in exactly the shape restore answers (§10.3).
#[derive(Debug, Clone, Serialize)]
pub struct Generation {
    pub id: String,
    pub archive_version: i64,
    pub backup_blob: String,
    pub blob_size: usize,
    pub entry_count: i64,
    pub created_at: String,
}

/// A code hash from client input: 64 hex characters, lowercased.
pub fn code_hash(s: &str) -> HubResult<String> {
    let s = s.trim();
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(HubError::BadRequest(
            "code_hash must be 64 hex characters".into(),
        ));
    }
    Ok(s.to_ascii_lowercase())
}

/// Register (or with None, clear) a device's recovery-code hash.
pub async fn set_code(
    catalog: &Catalog,
    tenant: &str,
    device: &str,
    hash: Option<String>,
) -> HubResult<()> {
    let (t, d) = (tenant.to_owned(), device.to_owned());
    catalog
        .write(move |conn| match hash {
            Some(h) => conn.execute(
                "INSERT INTO hub_history_codes (device_id, tenant_id, code_hash, set_ms)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(device_id) DO UPDATE SET code_hash = ?3, set_ms = ?4",
                params![d, t, h, now_ms()],
            ),
            None => conn.execute("DELETE FROM hub_history_codes WHERE device_id = ?1", [d]),
        })
        .await?;
    Ok(())
}

async fn registered(catalog: &Catalog, device: &str) -> HubResult<Option<String>> {
    let d = device.to_owned();
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                "SELECT code_hash FROM hub_history_codes WHERE device_id = ?1",
                [d],
                |r| r.get(0),
            )
            .optional()
        })
        .await?)
}

/// `(configured, matches)` for a presented hash (§10.1), compared in
/// constant time.
pub async fn verify(catalog: &Catalog, device: &str, presented: &str) -> HubResult<(bool, bool)> {
    let Some(stored) = registered(catalog, device).await? else {
        return Ok((false, false));
    };
    let matches = match code_hash(presented) {
        Ok(p) => bool::from(p.as_bytes().ct_eq(stored.as_bytes())),
        Err(_) => false,
    };
    Ok((true, matches))
}

/// 404 without a registered code, 403 for another code.
async fn authorise(catalog: &Catalog, device: &str, presented: &str) -> HubResult<()> {
    match verify(catalog, device, presented).await? {
        (false, _) => Err(HubError::NotFound(
            "No recovery code is registered for this device".into(),
        )),
        (true, false) => Err(HubError::Forbidden(
            "code_hash does not match the registered recovery code".into(),
        )),
        (true, true) => Ok(()),
    }
}

/// Store one archive as a new generation and keep the newest three (§10.2).
pub async fn store(
    catalog: &Catalog,
    device: &str,
    presented: &str,
    archive_version: i64,
    backup_blob: &str,
    entry_count: i64,
) -> HubResult<String> {
    authorise(catalog, device, presented).await?;
    if archive_version != 1 {
        return Err(HubError::BadRequest("archive_version must be 1".into()));
    }
    if !(0..=MAX_ENTRIES).contains(&entry_count) {
        return Err(HubError::BadRequest(format!(
            "entry_count must be 0-{MAX_ENTRIES}"
        )));
    }
    let blob = base64::engine::general_purpose::STANDARD
        .decode(backup_blob)
        .map_err(|_| HubError::BadRequest("backup_blob must be padded base64".into()))?;
    if blob.len() > MAX_BLOB || !blob.starts_with(MAGIC) {
        return Err(HubError::BadRequest(format!(
            "backup_blob must start with AVH1 and be at most {MAX_BLOB} bytes"
        )));
    }
    let id = new_id();
    let (row, d) = (id.clone(), device.to_owned());
    catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO hub_history_generations (id, device_id, archive_version, blob,
                     entry_count, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![row, d, archive_version, blob, entry_count, now_ms()],
            )?;
            tx.execute(
                "DELETE FROM hub_history_generations WHERE device_id = ?1 AND seq NOT IN
                     (SELECT seq FROM hub_history_generations WHERE device_id = ?1
                      ORDER BY seq DESC LIMIT ?2)",
                params![d, KEEP],
            )?;
            tx.commit()
        })
        .await?;
    Ok(id)
}

/// The device's generations, newest first (§10.3).
pub async fn restore(
    catalog: &Catalog,
    device: &str,
    presented: &str,
) -> HubResult<Vec<Generation>> {
    authorise(catalog, device, presented).await?;
    let d = device.to_owned();
    Ok(catalog
        .read(move |conn| {
            let mut st = conn.prepare(
                "SELECT id, archive_version, blob, entry_count, created_ms
                 FROM hub_history_generations WHERE device_id = ?1 ORDER BY seq DESC LIMIT ?2",
            )?;
            st.query_map(params![d, KEEP], |r| {
                let blob: Vec<u8> = r.get(2)?;
                Ok(Generation {
                    id: r.get(0)?,
                    archive_version: r.get(1)?,
                    blob_size: blob.len(),
                    backup_blob: base64::engine::general_purpose::STANDARD.encode(&blob),
                    entry_count: r.get(3)?,
                    created_at: rfc3339(r.get(4)?),
                })
            })?
            .collect()
        })
        .await?)
}
