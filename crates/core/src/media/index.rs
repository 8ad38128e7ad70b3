//! The library rows (`media_files`): one per live media file of a trusted
//! vault, holding its effective fields. Precedence: the owner's overrides,
//! then the file's tags, then its name. Also the overrides themselves.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::analysis::Analysis;
use super::{MediaKind, file_id};
use crate::time::now_ms;

pub const UNKNOWN_ARTIST: &str = "Unknown Artist";
pub const UNKNOWN_ALBUM: &str = "Unknown Album";

/// A live media file as the vault has it.
#[derive(Debug, Clone)]
pub struct FileRef {
    pub vault_id: String,
    pub path: String,
    pub content_hash: String,
    pub size: u64,
    pub kind: MediaKind,
    pub local: bool,
}

/// Where a row stands.
pub mod status {
    /// Waiting to be read.
    pub const PENDING: &str = "pending";
    /// Read (tags or not: a file without tags is ready too).
    pub const READY: &str = "ready";
    /// Reading failed; the analysis says why.
    pub const ERROR: &str = "error";
    /// Not readable here: this node does not hold all of its blocks.
    pub const REMOTE: &str = "remote";
}

/// Fields the owner may set by hand (`PUT meta`). `None`: not overridden.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artist: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album_artist: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_no: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disc_no: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
}

/// The override fields' names, for validation messages and clients.
pub const OVERRIDE_FIELDS: &[&str] = &[
    "title",
    "artist",
    "album_artist",
    "album",
    "genre",
    "track_no",
    "disc_no",
    "year",
];
const MAX_TEXT_CHARS: usize = 512;

impl Overrides {
    pub fn is_empty(&self) -> bool {
        *self == Overrides::default()
    }

    /// Apply a `PUT meta` body onto these overrides: a field set to a value
    /// overrides it, `null` (or `""`) drops its override, fields left out
    /// stay. Unknown fields are refused.
    pub fn apply(&mut self, patch: &Map<String, Value>) -> Result<(), String> {
        for (name, value) in patch {
            match name.as_str() {
                "title" => self.title = text(name, value)?,
                "artist" => self.artist = text(name, value)?,
                "album_artist" => self.album_artist = text(name, value)?,
                "album" => self.album = text(name, value)?,
                "genre" => self.genre = text(name, value)?,
                "track_no" => self.track_no = number(name, value, 1, 9999)?.map(|n| n as u32),
                "disc_no" => self.disc_no = number(name, value, 1, 999)?.map(|n| n as u32),
                "year" => self.year = number(name, value, 1, 9999)?.map(|n| n as i32),
                _ => {
                    return Err(format!(
                        "{name}: not a field you can set (one of: {})",
                        OVERRIDE_FIELDS.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }
}

fn text(name: &str, v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => {
            let s = s.trim();
            if s.chars().count() > MAX_TEXT_CHARS {
                return Err(format!("{name}: at most {MAX_TEXT_CHARS} characters"));
            }
            if s.chars().any(char::is_control) {
                return Err(format!("{name}: no control characters"));
            }
            Ok((!s.is_empty()).then(|| s.to_owned()))
        }
        _ => Err(format!("{name}: must be a string or null")),
    }
}

fn number(name: &str, v: &Value, min: i64, max: i64) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => match n.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(format!("{name}: a whole number from {min} to {max}")),
        },
        _ => Err(format!("{name}: must be a number or null")),
    }
}

/// The overrides set on a file, if any.
pub fn overrides(c: &Connection, vault_id: &str, path: &str) -> rusqlite::Result<Overrides> {
    let raw: Option<String> = c
        .query_row(
            "SELECT fields FROM media_overrides WHERE vault_id = ?1 AND path = ?2",
            params![vault_id, path],
            |r| r.get(0),
        )
        .optional()?;
    Ok(raw
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default())
}

/// Store a file's overrides (none left: the row goes).
pub fn set_overrides(
    c: &Connection,
    vault_id: &str,
    path: &str,
    o: &Overrides,
) -> rusqlite::Result<()> {
    if o.is_empty() {
        c.execute(
            "DELETE FROM media_overrides WHERE vault_id = ?1 AND path = ?2",
            params![vault_id, path],
        )?;
    } else {
        c.execute(
            "INSERT INTO media_overrides (vault_id, path, fields, updated_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (vault_id, path) DO UPDATE SET fields = excluded.fields,
                 updated_ms = excluded.updated_ms",
            params![
                vault_id,
                path,
                serde_json::to_string(o).unwrap_or_else(|_| "{}".into()),
                now_ms()
            ],
        )?;
    }
    Ok(())
}

/// A file's effective library fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    pub title: String,
    pub artist: String,
    pub album_artist: String,
    pub album: String,
    pub album_key: String,
    pub track_no: Option<u32>,
    pub disc_no: Option<u32>,
    pub year: Option<i32>,
    pub genre: String,
    pub duration_ms: Option<u64>,
    pub cover_hash: Option<String>,
}

/// The album's id: its album artist and title, case-folded.
pub fn album_key(album_artist: &str, album: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(album_artist.to_lowercase().as_bytes());
    h.update(&[0]);
    h.update(album.to_lowercase().as_bytes());
    hex::encode(&h.finalize().as_bytes()[..12])
}

/// The file name without folder and extension, as a last-resort title.
pub fn title_from_path(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    if stem.is_empty() {
        name.to_owned()
    } else {
        stem.to_owned()
    }
}

pub fn effective(
    path: &str,
    analysis: Option<&Analysis>,
    o: &Overrides,
    sidecar_cover: Option<String>,
) -> Effective {
    let t = analysis.map(|a| &a.tags);
    let pick = |over: &Option<String>, tag: Option<&Option<String>>| {
        over.clone().or_else(|| tag.and_then(|v| v.clone()))
    };
    let title = pick(&o.title, t.map(|t| &t.title)).unwrap_or_else(|| title_from_path(path));
    let tag_album_artist = pick(&o.album_artist, t.map(|t| &t.album_artist));
    let artist = pick(&o.artist, t.map(|t| &t.artist))
        .or_else(|| tag_album_artist.clone())
        .unwrap_or_else(|| UNKNOWN_ARTIST.to_owned());
    let album_artist = tag_album_artist.unwrap_or_else(|| artist.clone());
    let album = pick(&o.album, t.map(|t| &t.album)).unwrap_or_else(|| UNKNOWN_ALBUM.to_owned());
    Effective {
        album_key: album_key(&album_artist, &album),
        title,
        artist,
        album_artist,
        album,
        track_no: o.track_no.or(t.and_then(|t| t.track_no)),
        disc_no: o.disc_no.or(t.and_then(|t| t.disc_no)),
        year: o.year.or(t.and_then(|t| t.year)),
        genre: pick(&o.genre, t.map(|t| &t.genre)).unwrap_or_default(),
        duration_ms: analysis.and_then(|a| a.duration_ms),
        cover_hash: analysis
            .and_then(|a| a.cover_hash.clone())
            .or(sidecar_cover),
    }
}

/// The cover picture found next to a file by `refresh-folder`, if any.
pub fn sidecar_cover(
    c: &Connection,
    vault_id: &str,
    path: &str,
) -> rusqlite::Result<Option<String>> {
    c.query_row(
        "SELECT json_extract(info, '$.cover_hash') FROM media_sidecars
         WHERE vault_id = ?1 AND path = ?2 AND kind = 'cover' AND info IS NOT NULL
         ORDER BY sidecar_path LIMIT 1",
        params![vault_id, path],
        |r| r.get(0),
    )
    .optional()
    .map(Option::flatten)
}

/// Write a file's row from its analysis (if read) and overrides.
pub fn upsert(
    c: &Connection,
    f: &FileRef,
    analysis: Option<&Analysis>,
    status: &str,
) -> rusqlite::Result<()> {
    let o = overrides(c, &f.vault_id, &f.path)?;
    let cover = sidecar_cover(c, &f.vault_id, &f.path)?;
    let e = effective(&f.path, analysis, &o, cover);
    c.execute(
        "INSERT INTO media_files (vault_id, path, file_id, kind, content_hash, size, local, status,
             title, artist, album_artist, album, album_key, track_no, disc_no, year, genre,
             duration_ms, cover_hash, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
         ON CONFLICT (vault_id, path) DO UPDATE SET kind = excluded.kind,
             content_hash = excluded.content_hash, size = excluded.size, local = excluded.local,
             status = excluded.status, title = excluded.title, artist = excluded.artist,
             album_artist = excluded.album_artist, album = excluded.album,
             album_key = excluded.album_key, track_no = excluded.track_no,
             disc_no = excluded.disc_no, year = excluded.year, genre = excluded.genre,
             duration_ms = excluded.duration_ms, cover_hash = excluded.cover_hash,
             updated_ms = excluded.updated_ms",
        params![
            f.vault_id,
            f.path,
            file_id(&f.vault_id, &f.path),
            f.kind.as_str(),
            f.content_hash,
            f.size as i64,
            f.local,
            status,
            e.title,
            e.artist,
            e.album_artist,
            e.album,
            e.album_key,
            e.track_no,
            e.disc_no,
            e.year,
            e.genre,
            e.duration_ms.map(|d| d as i64),
            e.cover_hash,
            now_ms(),
        ],
    )?;
    Ok(())
}

/// Recompute a row from what is stored (after its overrides or sidecars
/// changed). Does nothing when the file has no row.
pub fn refresh(c: &Connection, vault_id: &str, path: &str) -> rusqlite::Result<()> {
    let row = c
        .query_row(
            "SELECT content_hash, size, kind, local, status FROM media_files
             WHERE vault_id = ?1 AND path = ?2",
            params![vault_id, path],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((hash, size, kind, local, status)) = row else {
        return Ok(());
    };
    let analysis = super::analysis::load(c, &hash)?;
    let f = FileRef {
        vault_id: vault_id.to_owned(),
        path: path.to_owned(),
        content_hash: hash,
        size: size as u64,
        kind: if kind == "video" {
            MediaKind::Video
        } else {
            MediaKind::Audio
        },
        local,
    };
    upsert(c, &f, analysis.as_ref(), &status)
}

/// Drop a file's row (it was deleted or is no longer media).
pub fn remove(c: &Connection, vault_id: &str, path: &str) -> rusqlite::Result<()> {
    c.execute(
        "DELETE FROM media_files WHERE vault_id = ?1 AND path = ?2",
        params![vault_id, path],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_win_then_tags_then_the_name() {
        let a = Analysis {
            tags: super::super::tags::Tags {
                title: Some("Tag Title".into()),
                artist: Some("Tag Artist".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut o = Overrides::default();
        let e = effective("/x/Song.mp3", None, &o, None);
        assert_eq!(
            (e.title.as_str(), e.artist.as_str()),
            ("Song", UNKNOWN_ARTIST)
        );
        let e = effective("/x/Song.mp3", Some(&a), &o, None);
        assert_eq!(
            (e.title.as_str(), e.album_artist.as_str()),
            ("Tag Title", "Tag Artist")
        );
        o.apply(json!({"title": "Mine", "year": 1999}).as_object().unwrap())
            .unwrap();
        let e = effective("/x/Song.mp3", Some(&a), &o, None);
        assert_eq!((e.title.as_str(), e.year), ("Mine", Some(1999)));
        o.apply(json!({"title": null}).as_object().unwrap())
            .unwrap();
        assert_eq!(
            effective("/x/Song.mp3", Some(&a), &o, None).title,
            "Tag Title"
        );
    }

    #[test]
    fn bad_overrides_are_refused() {
        let mut o = Overrides::default();
        for bad in [
            json!({"colour": "red"}),
            json!({"year": 0}),
            json!({"title": 5}),
            json!({"track_no": "1"}),
        ] {
            assert!(o.apply(bad.as_object().unwrap()).is_err(), "{bad}");
        }
    }
}
