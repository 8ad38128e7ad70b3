//! How a file version looks as an S3 object: its ETag, times, content
//! headers and checksum, and the conditional-request rules that compare
//! against them. Versions written outside S3 (REST, folders, peers) carry
//! no S3 metadata: their ETag is derived from the content hash and marked
//! `-1` so clients do not take it for an MD5.

use std::time::{Duration, SystemTime};

use holdfast_core::s3::ObjectMeta;
use holdfast_core::vaults::{FileVersion, VaultError};
use s3s::dto::{ETag, ETagCondition, Timestamp};
use s3s::{S3Result, s3_error};

use super::errors;
use crate::state::AppState;

pub struct ObjectView {
    pub v: FileVersion,
    pub meta: ObjectMeta,
    /// Whether S3 wrote this version (it has real S3 metadata).
    pub from_s3: bool,
}

impl ObjectView {
    pub fn new(v: FileVersion, meta: Option<ObjectMeta>) -> Self {
        let from_s3 = meta.is_some();
        let meta = meta.unwrap_or_else(|| ObjectMeta {
            etag: fallback_etag(&v.content_hash),
            ..Default::default()
        });
        Self { v, meta, from_s3 }
    }

    pub fn e_tag(&self) -> ETag {
        ETag::Strong(self.meta.etag.clone())
    }

    pub fn last_modified(&self) -> Timestamp {
        timestamp(self.v.created_ms)
    }

    pub fn content_type(&self) -> String {
        self.meta
            .headers
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_owned())
    }
}

pub fn fallback_etag(content_hash: &str) -> String {
    format!("{}-1", &content_hash[..content_hash.len().min(32)])
}

pub fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from(SystemTime::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
}

/// Whole seconds since the epoch (HTTP dates have no finer precision).
fn secs(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

fn matches(cond: &ETagCondition, etag: &str) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == etag,
    }
}

/// Conditional GET/HEAD (RFC 9110 §13.2.2 order): 412 for a failed
/// If-Match / If-Unmodified-Since, 304 for If-None-Match /
/// If-Modified-Since.
pub fn check_read(
    o: &ObjectView,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let modified = o.v.created_ms / 1000;
    if let Some(c) = if_match {
        if !matches(c, &o.meta.etag) {
            return Err(s3_error!(PreconditionFailed, "If-Match did not match"));
        }
    } else if let Some(t) = if_unmodified_since
        && modified > secs(t)
    {
        return Err(s3_error!(
            PreconditionFailed,
            "modified since If-Unmodified-Since"
        ));
    }
    if let Some(c) = if_none_match {
        if matches(c, &o.meta.etag) {
            return Err(s3_error!(NotModified));
        }
    } else if let Some(t) = if_modified_since
        && modified <= secs(t)
    {
        return Err(s3_error!(NotModified));
    }
    Ok(())
}

/// The current object at `path`, if there is one (not a delete marker).
pub async fn current(state: &AppState, vault_id: &str, path: &str) -> S3Result<Option<ObjectView>> {
    match state.vaults.live(vault_id, path).await {
        Ok(v) => Ok(Some(with_meta(state, v).await?)),
        Err(VaultError::FileNotFound) => Ok(None),
        Err(e) => Err(errors::vault(e)),
    }
}

pub async fn with_meta(state: &AppState, v: FileVersion) -> S3Result<ObjectView> {
    let meta = state.s3.objects.get(&v.id).await.map_err(errors::store)?;
    Ok(ObjectView::new(v, meta))
}

/// Conditional writes: `If-None-Match: *` (create only) and `If-Match`
/// (replace only that ETag).
pub async fn check_write(
    state: &AppState,
    vault_id: &str,
    path: &str,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> S3Result<()> {
    if if_match.is_none() && if_none_match.is_none() {
        return Ok(());
    }
    let cur = current(state, vault_id, path).await?;
    if let Some(c) = if_none_match {
        if !matches!(c, ETagCondition::Any) {
            return Err(s3_error!(
                NotImplemented,
                "If-None-Match on writes takes only '*'"
            ));
        }
        if cur.is_some() {
            return Err(s3_error!(PreconditionFailed, "the object already exists"));
        }
    }
    if let Some(c) = if_match {
        match &cur {
            None => return Err(s3_error!(NoSuchKey)),
            Some(o) if !matches(c, &o.meta.etag) => {
                return Err(s3_error!(PreconditionFailed, "If-Match did not match"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The version `version_id` of `path` (`null` means the current one), or
/// the current object.
pub async fn find(
    state: &AppState,
    vault_id: &str,
    path: &str,
    version_id: Option<&str>,
) -> S3Result<ObjectView> {
    match version_id {
        None | Some("null") => current(state, vault_id, path)
            .await?
            .ok_or_else(|| s3_error!(NoSuchKey)),
        Some(id) => {
            let history = match state.vaults.history(vault_id, path).await {
                Ok(h) => h,
                Err(VaultError::FileNotFound) => return Err(s3_error!(NoSuchVersion)),
                Err(e) => return Err(errors::vault(e)),
            };
            let v = history
                .into_iter()
                .find(|v| v.id == id)
                .ok_or_else(|| s3_error!(NoSuchVersion))?;
            if v.deleted {
                return Err(s3_error!(
                    MethodNotAllowed,
                    "that version is a delete marker"
                ));
            }
            with_meta(state, v).await
        }
    }
}

/// Versioning on: responses name version ids; suspended: they do not.
pub async fn versioning_on(state: &AppState, vault_id: &str) -> S3Result<bool> {
    Ok(state
        .s3
        .objects
        .versioning(vault_id)
        .await
        .map_err(errors::store)?
        == "Enabled")
}

/// Tell the rest of Holdfast (web UI, folder write-back) that S3 changed
/// a file, as REST uploads and deletes do.
pub fn announce(state: &AppState, v: &FileVersion) {
    if v.deleted {
        state.events.publish(
            "file_deleted",
            serde_json::json!({"vault_id": v.vault_id, "path": v.path, "cause": "s3"}),
        );
    } else {
        state.events.publish(
            "file_updated",
            serde_json::json!({"vault_id": v.vault_id, "path": v.path,
                "content_hash": v.content_hash, "size": v.size, "cause": "s3"}),
        );
    }
}

/// After a version was purged: announce what the path is now.
pub async fn announce_path(state: &AppState, vault_id: &str, path: &str) {
    match state.vaults.head(vault_id, path).await {
        Ok(v) => announce(state, &v),
        Err(_) => state.events.publish(
            "file_deleted",
            serde_json::json!({"vault_id": vault_id, "path": path, "cause": "s3"}),
        ),
    }
}
