//! Reading one content hash: its tags, cover and (for audio) fingerprint,
//! stored in `media_analysis` / `media_covers` so each hash is read once.

use std::io::{Read, Seek};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::MediaKind;
use super::tags::{self, Picture, Tags};
use crate::time::now_ms;

/// What reading a file found.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub tags: Tags,
    pub picture: Option<Picture>,
    /// Compressed Chromaprint (base64url) and the seconds it covers.
    pub fingerprint: Option<(String, u32)>,
    pub fp_error: Option<String>,
    /// Why the tags could not be read.
    pub error: Option<String>,
}

/// A stored analysis.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub kind: String,
    pub tags: Tags,
    pub duration_ms: Option<u64>,
    pub cover_hash: Option<String>,
    pub fingerprint: Option<String>,
    pub fp_duration_s: Option<u32>,
    pub fp_error: Option<String>,
    pub error: Option<String>,
    pub analysed_ms: i64,
}

/// Read the file in `reader` (blocking): its tags and cover, and for audio
/// its fingerprint when `fingerprint` is set (else neither a fingerprint nor
/// a reason is recorded: fingerprinting was off).
pub fn read<R>(mut reader: R, kind: MediaKind, fingerprint: bool) -> Found
where
    R: Read + Seek + Send + Sync + 'static,
{
    if kind == MediaKind::Video {
        // Video containers are probed by the video module; nothing to read here.
        return Found::default();
    }
    let mut found = match tags::read(&mut reader) {
        Ok((tags, picture)) => Found {
            tags,
            picture,
            ..Found::default()
        },
        Err(e) => Found {
            error: Some(e),
            ..Found::default()
        },
    };
    if fingerprint {
        match super::fingerprint::compute(reader) {
            Ok(fp) => found.fingerprint = Some((fp.fingerprint, fp.duration_s)),
            Err(e) => found.fp_error = Some(e),
        }
    }
    found
}

/// Record what was found for `content_hash` (replacing an earlier reading).
pub fn store(
    c: &Connection,
    content_hash: &str,
    kind: MediaKind,
    found: &Found,
) -> rusqlite::Result<Analysis> {
    let cover_hash = match &found.picture {
        Some(p) => Some(store_cover(c, &p.mime, &p.bytes)?),
        None => None,
    };
    let now = now_ms();
    let tags_json = serde_json::to_string(&found.tags).unwrap_or_else(|_| "{}".into());
    c.execute(
        "INSERT OR REPLACE INTO media_analysis (content_hash, kind, tags, duration_ms, cover_hash,
             fingerprint, fp_duration_s, fp_error, error, analysed_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            content_hash,
            kind.as_str(),
            tags_json,
            found.tags.duration_ms.map(|d| d as i64),
            cover_hash,
            found.fingerprint.as_ref().map(|f| &f.0),
            found.fingerprint.as_ref().map(|f| f.1),
            found.fp_error,
            found.error,
            now,
        ],
    )?;
    Ok(Analysis {
        kind: kind.as_str().into(),
        tags: found.tags.clone(),
        duration_ms: found.tags.duration_ms,
        cover_hash,
        fingerprint: found.fingerprint.as_ref().map(|f| f.0.clone()),
        fp_duration_s: found.fingerprint.as_ref().map(|f| f.1),
        fp_error: found.fp_error.clone(),
        error: found.error.clone(),
        analysed_ms: now,
    })
}

/// Keep a picture once per SHA-256 of its bytes; its hash names it.
pub fn store_cover(c: &Connection, mime: &str, bytes: &[u8]) -> rusqlite::Result<String> {
    let hash = hex::encode(Sha256::digest(bytes));
    c.execute(
        "INSERT OR IGNORE INTO media_covers (hash, mime, bytes, created_ms) VALUES (?1, ?2, ?3, ?4)",
        params![hash, mime, bytes, now_ms()],
    )?;
    Ok(hash)
}

/// The stored analysis of `content_hash`, if it was read.
pub fn load(c: &Connection, content_hash: &str) -> rusqlite::Result<Option<Analysis>> {
    c.query_row(
        "SELECT kind, tags, duration_ms, cover_hash, fingerprint, fp_duration_s, fp_error, error,
                analysed_ms
         FROM media_analysis WHERE content_hash = ?1",
        [content_hash],
        |r| {
            Ok(Analysis {
                kind: r.get(0)?,
                tags: serde_json::from_str(&r.get::<_, String>(1)?).unwrap_or_default(),
                duration_ms: r.get::<_, Option<i64>>(2)?.map(|d| d as u64),
                cover_hash: r.get(3)?,
                fingerprint: r.get(4)?,
                fp_duration_s: r.get(5)?,
                fp_error: r.get(6)?,
                error: r.get(7)?,
                analysed_ms: r.get(8)?,
            })
        },
    )
    .optional()
}

/// A stored cover: its type and bytes.
pub fn cover(c: &Connection, hash: &str) -> rusqlite::Result<Option<(String, Vec<u8>)>> {
    c.query_row(
        "SELECT mime, bytes FROM media_covers WHERE hash = ?1",
        [hash],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}
