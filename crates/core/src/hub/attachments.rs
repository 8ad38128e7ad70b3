//! Attachments: bytes a client encrypted itself, kept as blocks of the
//! block store (identical uploads share their blocks) and named by a
//! `blob_id`. The hub never sees a key: a download answers the ciphertext
//! as stored. Each upload is bounded ([`Limits::max_bytes`]) and so is a
//! tenant's total ([`Limits::quota_bytes`], counted in uploaded bytes, before
//! deduplication). Who may read a blob is decided in [`may_read`].

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{HubError, HubResult, devices::Device, new_id};
use crate::catalog::Catalog;
use crate::store::BlockId;
use crate::time::{now_ms, rfc3339};
use crate::vaults::Vaults;

pub const NOT_FOUND: &str = "Attachment not found";

/// Size bounds (config.yaml `hub.attachment_max_mb` and
/// `hub.attachment_quota_mb`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest single upload.
    pub max_bytes: u64,
    /// All of a tenant's attachments together.
    pub quota_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 25 * 1024 * 1024,
            quota_bytes: 1024 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub blob_id: String,
    pub tenant_id: String,
    /// The device that uploaded it; None when the owner did.
    pub uploader_device_id: Option<String>,
    pub size: u64,
    /// Lowercase hex BLAKE3 of the stored (encrypted) bytes.
    pub content_hash: String,
    pub content_type: Option<String>,
    pub file_name: Option<String>,
    pub created_at: String,
    pub created_ms: i64,
    #[serde(skip)]
    pub blocks: Vec<BlockId>,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attachment> {
    let raw: Vec<u8> = r.get(5)?;
    let created_ms: i64 = r.get(8)?;
    Ok(Attachment {
        blob_id: r.get(0)?,
        tenant_id: r.get(1)?,
        uploader_device_id: r.get(2)?,
        size: r.get::<_, i64>(3)? as u64,
        content_hash: r.get(4)?,
        blocks: raw
            .chunks(32)
            .filter_map(|c| <[u8; 32]>::try_from(c).ok().map(BlockId))
            .collect(),
        content_type: r.get(6)?,
        file_name: r.get(7)?,
        created_at: rfc3339(created_ms),
        created_ms,
    })
}

const COLUMNS: &str = "id, tenant_id, uploader_device_id, size, content_hash, blocks, content_type,
     file_name, created_ms";

/// What an upload says about itself (all optional, bounded by the caller).
#[derive(Debug, Default, Clone)]
pub struct Meta {
    pub content_type: Option<String>,
    pub file_name: Option<String>,
}

/// Bytes used by a tenant's attachments.
pub async fn used(catalog: &Catalog, tenant: &str) -> HubResult<u64> {
    let tenant = tenant.to_owned();
    Ok(catalog
        .read(move |c| {
            c.query_row(
                "SELECT COALESCE(SUM(size), 0) FROM hub_attachments WHERE tenant_id = ?1",
                [tenant],
                |r| r.get::<_, i64>(0),
            )
        })
        .await? as u64)
}

/// Store an upload of `tenant` by `uploader` (None: the owner).
pub async fn store(
    catalog: &Catalog,
    vaults: &Vaults,
    limits: Limits,
    tenant: &str,
    uploader: Option<&str>,
    bytes: Vec<u8>,
    meta: Meta,
) -> HubResult<Attachment> {
    let size = bytes.len() as u64;
    if size == 0 {
        return Err(HubError::BadRequest("the attachment is empty".into()));
    }
    if size > limits.max_bytes {
        return Err(HubError::TooLarge(format!(
            "attachments are at most {} bytes",
            limits.max_bytes
        )));
    }
    if used(catalog, tenant).await? + size > limits.quota_bytes {
        return Err(HubError::TooLarge(format!(
            "attachment storage quota reached: this tenant's attachments may use {} bytes in all",
            limits.quota_bytes
        )));
    }
    let content_hash = blake3::hash(&bytes).to_hex().to_string();
    let (ids, pins) = vaults
        .store_opaque(bytes)
        .await
        .map_err(|e| HubError::Unavailable(format!("storing the attachment failed: {e}")))?;
    let raw: Vec<u8> = ids.iter().flat_map(|b| b.0).collect();
    let (id, now) = (new_id(), now_ms());
    let (t, u, h, q) = (
        tenant.to_owned(),
        uploader.map(str::to_owned),
        content_hash,
        limits.quota_bytes as i64,
    );
    let row_id = id.clone();
    let inserted = catalog
        .write(move |c| {
            let tx = c.transaction()?;
            // The quota check again, inside the one writer, so two uploads
            // racing cannot both pass it.
            let used: i64 = tx.query_row(
                "SELECT COALESCE(SUM(size), 0) FROM hub_attachments WHERE tenant_id = ?1",
                [&t],
                |r| r.get(0),
            )?;
            if used + size as i64 > q {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO hub_attachments (id, tenant_id, uploader_device_id, size, content_hash,
                     blocks, content_type, file_name, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    row_id,
                    t,
                    u,
                    size as i64,
                    h,
                    raw,
                    meta.content_type,
                    meta.file_name,
                    now
                ],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await?;
    drop(pins);
    if !inserted {
        return Err(HubError::TooLarge(format!(
            "attachment storage quota reached: this tenant's attachments may use {} bytes in all",
            limits.quota_bytes
        )));
    }
    get(catalog, tenant, &id).await
}

/// An attachment of `tenant`, or 404.
pub async fn get(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Attachment> {
    let (t, i) = (tenant.to_owned(), id.to_owned());
    catalog
        .read(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM hub_attachments WHERE id = ?1 AND tenant_id = ?2"),
                params![i, t],
                from_row,
            )
            .optional()
        })
        .await?
        .ok_or_else(|| HubError::NotFound(NOT_FOUND.into()))
}

/// Whether `device` may read `blob` (same tenant already checked by
/// [`get`]): its uploader; or the two ends of a 1:1 conversation (an agent
/// reads what the owner's side uploaded, the owner's devices read what an
/// agent they talk to uploaded). Room membership joins here once rooms
/// exist: a device sharing a room with the uploader may read it, and a
/// room's blob is asked for with the member's `device_id`.
pub async fn may_read(catalog: &Catalog, blob: &Attachment, device: &Device) -> HubResult<bool> {
    if blob.tenant_id != device.tenant_id {
        return Ok(false);
    }
    if blob.uploader_device_id.as_deref() == Some(device.id.as_str()) {
        return Ok(true);
    }
    let (reader, uploader) = (device.id.clone(), blob.uploader_device_id.clone());
    Ok(catalog
        .read(move |c| {
            match uploader {
                // The owner uploaded: any agent in a 1:1 conversation with
                // one of the owner's devices.
                None => c.query_row(
                    "SELECT EXISTS (SELECT 1 FROM hub_conversations WHERE agent_device_id = ?1
                                    OR owner_device_id = ?1)",
                    [reader],
                    |r| r.get::<_, bool>(0),
                ),
                // A device uploaded: whoever is at the other end of one of
                // its conversations.
                Some(up) => c.query_row(
                    "SELECT EXISTS (SELECT 1 FROM hub_conversations
                        WHERE (owner_device_id = ?1 AND agent_device_id = ?2)
                           OR (owner_device_id = ?2 AND agent_device_id = ?1))",
                    params![reader, up],
                    |r| r.get::<_, bool>(0),
                ),
            }
        })
        .await?)
}

/// The stored ciphertext of `blob`.
pub async fn read(vaults: &Vaults, blob: &Attachment) -> HubResult<Vec<u8>> {
    vaults
        .read_opaque(blob.blocks.clone())
        .await
        .map_err(|e| HubError::Unavailable(format!("reading the attachment failed: {e}")))
}
