//! Sidecar files next to media files, found by `refresh-folder`: `.nfo`
//! descriptions (the same stem, or `album.nfo`/`movie.nfo`/`artist.nfo` in
//! the folder), cover pictures (`<stem>.jpg|png`, else `cover`/`folder`/
//! `front`/`album` `.jpg|jpeg|png|webp`) and subtitles (`<stem>.srt`,
//! `<stem>.en.srt`, …). Kept in `media_sidecars`; a sidecar cover feeds the
//! library row of a file without an embedded one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use quick_xml::events::Event;
use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{Media, MediaError, analysis, index, kind_of};
use crate::vaults::FileVersion;

/// Largest `.nfo` read.
pub const MAX_NFO_BYTES: u64 = 256 * 1024;
/// Largest cover picture read.
pub const MAX_COVER_BYTES: u64 = 8 * 1024 * 1024;
/// Longest text kept from an `.nfo` field (plots run long), in characters.
const MAX_NFO_FIELD: usize = 4096;
/// Folder-wide `.nfo` names, in order of preference.
const FOLDER_NFO: &[&str] = &["album.nfo", "movie.nfo", "artist.nfo"];
const COVER_STEMS: &[&str] = &["cover", "folder", "front", "album"];
const COVER_EXTS: &[&str] = &["jpg", "jpeg", "png", "webp"];
const SUBTITLE_EXTS: &[&str] = &["srt", "vtt", "ass", "ssa"];

/// A sidecar as names show it: its path, kind and language.
pub type Found = (String, &'static str, Option<String>);
/// A stored sidecar row: kind, language, info.
type Recorded = (String, Option<String>, Option<String>);

/// One sidecar of a media file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sidecar {
    pub path: String,
    /// `nfo`, `cover` or `subtitle`.
    pub kind: String,
    pub lang: Option<String>,
    #[serde(skip)]
    pub info: Option<Value>,
}

/// What `refresh-folder` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub folder: String,
    /// Sidecars now recorded under the folder.
    pub sidecars: u64,
    pub added: u64,
    pub removed: u64,
}

/// A file's sidecars, nfo first, then covers, then subtitles.
pub fn of_file(c: &Connection, vault_id: &str, path: &str) -> rusqlite::Result<Vec<Sidecar>> {
    let mut stmt = c.prepare(
        "SELECT sidecar_path, kind, lang, info FROM media_sidecars WHERE vault_id = ?1 AND path = ?2
         ORDER BY CASE kind WHEN 'nfo' THEN 0 WHEN 'cover' THEN 1 ELSE 2 END, sidecar_path",
    )?;
    stmt.query_map(params![vault_id, path], |r| {
        Ok(Sidecar {
            path: r.get(0)?,
            kind: r.get(1)?,
            lang: r.get(2)?,
            info: r
                .get::<_, Option<String>>(3)?
                .and_then(|s| serde_json::from_str(&s).ok()),
        })
    })?
    .collect()
}

fn split(path: &str) -> (&str, &str) {
    match path.rsplit_once('/') {
        Some((dir, name)) => (dir, name),
        None => ("", path),
    }
}

fn stem_ext(name: &str) -> (&str, String) {
    match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, e.to_ascii_lowercase()),
        _ => (name, String::new()),
    }
}

/// A language tag as subtitle names carry it: `en`, `eng`, `pt-BR`.
fn language(tag: &str) -> Option<String> {
    let (main, region) = match tag.split_once(['-', '_']) {
        Some((m, r)) => (m, Some(r)),
        None => (tag, None),
    };
    let main_ok = (2..=3).contains(&main.len()) && main.chars().all(|c| c.is_ascii_alphabetic());
    let region_ok = region
        .is_none_or(|r| (2..=8).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric()));
    (main_ok && region_ok).then(|| match region {
        Some(r) => format!("{}-{}", main.to_ascii_lowercase(), r),
        None => main.to_ascii_lowercase(),
    })
}

/// What sidecars each media file of `files` has (pure: names only).
/// Answers media path → [(sidecar path, kind, lang)].
pub fn find(files: &[String]) -> BTreeMap<String, Vec<Found>> {
    let mut dirs: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in files {
        let (dir, name) = split(p);
        dirs.entry(dir).or_default().push(name);
    }
    let mut out: BTreeMap<String, Vec<Found>> = BTreeMap::new();
    for (dir, names) in &dirs {
        let lower: HashMap<String, &str> = names.iter().map(|n| (n.to_lowercase(), *n)).collect();
        let media: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| kind_of(n).is_some())
            .collect();
        let full = |name: &str| format!("{dir}/{name}");
        for m in &media {
            let (stem, _) = stem_ext(m);
            let mut found = Vec::new();
            // The description: the file's own, else the folder's.
            let own_nfo = lower.get(&format!("{}.nfo", stem.to_lowercase()));
            let nfo = own_nfo.or_else(|| FOLDER_NFO.iter().find_map(|n| lower.get(*n)));
            if let Some(n) = nfo {
                found.push((full(n), "nfo", None));
            }
            // The cover: the file's own picture, else the folder's.
            let own = ["jpg", "jpeg", "png", "webp"]
                .iter()
                .find_map(|e| lower.get(&format!("{}.{e}", stem.to_lowercase())));
            let folder = || {
                COVER_STEMS.iter().find_map(|s| {
                    COVER_EXTS
                        .iter()
                        .find_map(|e| lower.get(&format!("{s}.{e}")))
                })
            };
            if let Some(c) = own.or_else(folder) {
                found.push((full(c), "cover", None));
            }
            out.insert(full(m), found);
        }
        // Subtitles go to the media file with the longest stem they start with.
        for n in names {
            let (sub_stem, ext) = stem_ext(n);
            if !SUBTITLE_EXTS.contains(&ext.as_str()) {
                continue;
            }
            let owner = media
                .iter()
                .filter(|m| {
                    let (s, _) = stem_ext(m);
                    sub_stem == s || sub_stem.starts_with(&format!("{s}."))
                })
                .max_by_key(|m| stem_ext(m).0.len());
            let Some(m) = owner else { continue };
            let (s, _) = stem_ext(m);
            let lang = sub_stem
                .get(s.len() + 1..)
                .and_then(|rest| rest.split('.').find_map(language));
            if let Some(list) = out.get_mut(&full(m)) {
                list.push((full(n), "subtitle", lang));
            }
        }
    }
    out
}

/// The fields of an `.nfo` (Kodi's XML): title, year, plot, artist,
/// album, genre, from the root element's children. Not XML: `{}`.
pub fn parse_nfo(text: &str) -> Value {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    let mut field: Option<String> = None;
    let mut buf = String::new();
    let mut out: Map<String, Value> = Map::new();
    let mut genres: Vec<String> = Vec::new();
    let wanted = ["title", "year", "plot", "artist", "album", "genre"];
    while let Ok(ev) = reader.read_event() {
        match ev {
            Event::Start(e) => {
                depth += 1;
                let name = e.local_name().as_ref().to_ascii_lowercase();
                if depth == 2 && wanted.contains(&name.as_str()) {
                    field = Some(name);
                    buf.clear();
                }
            }
            Event::End(_) => {
                if depth == 2
                    && let Some(name) = field.take()
                {
                    let v: String = buf.trim().chars().take(MAX_NFO_FIELD).collect();
                    if !v.is_empty() {
                        match name.as_str() {
                            "genre" => genres.push(v),
                            "year" => {
                                if let Ok(y) = v.get(..4).unwrap_or(&v).parse::<i32>() {
                                    out.entry("year").or_insert(json!(y));
                                }
                            }
                            _ => {
                                out.entry(name).or_insert(json!(v));
                            }
                        }
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) if field.is_some() && depth == 2 => buf.push_str(&t.xml10_content()),
            Event::CData(t) if field.is_some() && depth == 2 => buf.push_str(&t),
            Event::GeneralRef(r) if field.is_some() && depth == 2 => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                if let Some(c) = c {
                    buf.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if buf.len() > 4 * MAX_NFO_FIELD {
            buf.truncate(4 * MAX_NFO_FIELD);
        }
    }
    if !genres.is_empty() {
        genres.truncate(16);
        out.insert("genre".into(), json!(genres.join(", ")));
    }
    Value::Object(out)
}

/// Read up to `max` bytes of `v` (blocking reader on a blocking thread);
/// `None` when it is larger or cannot be read here (blocks elsewhere).
async fn read_small(
    media: &Media,
    v: &FileVersion,
    max: u64,
) -> Result<Option<Vec<u8>>, MediaError> {
    if v.size > max {
        return Ok(None);
    }
    let reader = media.vaults.reader(v).await?;
    let bytes = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        reader.take(max + 1).read_to_end(&mut out).ok().map(|_| out)
    })
    .await
    .ok()
    .flatten();
    Ok(bytes.filter(|b| b.len() as u64 <= max))
}

/// Look at every live file under `folder` and bring the recorded sidecars
/// of its media files in line; library rows whose sidecars changed are
/// recomputed.
pub async fn refresh_folder(
    media: &Media,
    vault_id: &str,
    folder: &str,
) -> Result<Report, MediaError> {
    let mut live = media.vaults.listing(vault_id, folder, false).await?;
    // A file's path names the folder it is in.
    let mut folder = folder.to_owned();
    if live.iter().any(|(v, _)| v.path == folder) {
        folder = match split(&folder).0 {
            "" => "/".to_owned(),
            dir => dir.to_owned(),
        };
        live = media.vaults.listing(vault_id, &folder, false).await?;
    }
    let by_path: HashMap<String, FileVersion> =
        live.into_iter().map(|(v, _)| (v.path.clone(), v)).collect();
    let names: Vec<String> = by_path.keys().cloned().collect();
    let found = find(&names);

    // Read each nfo and cover once, however many files share it.
    let mut infos: HashMap<String, Option<Value>> = HashMap::new();
    for (sidecar, kind, _) in found.values().flatten() {
        if infos.contains_key(sidecar) || *kind == "subtitle" {
            continue;
        }
        let Some(v) = by_path.get(sidecar) else {
            continue;
        };
        let info = match *kind {
            "nfo" => read_small(media, v, MAX_NFO_BYTES)
                .await?
                .map(|b| parse_nfo(&String::from_utf8_lossy(&b))),
            _ => match read_small(media, v, MAX_COVER_BYTES).await? {
                Some(bytes) => {
                    let mime = super::tags::sniff(&bytes);
                    if mime.starts_with("image/") {
                        let mime = mime.to_owned();
                        let hash = media
                            .catalog
                            .write(move |c| analysis::store_cover(c, &mime, &bytes))
                            .await?;
                        Some(json!({"cover_hash": hash}))
                    } else {
                        None
                    }
                }
                None => None,
            },
        };
        infos.insert(sidecar.clone(), info);
    }

    let vault = vault_id.to_owned();
    let prefix = folder;
    let report = media
        .catalog
        .write(move |c| {
            let tx = c.transaction()?;
            let mut old: HashMap<(String, String), Recorded> = HashMap::new();
            {
                let mut stmt = tx.prepare(
                    "SELECT path, sidecar_path, kind, lang, info FROM media_sidecars WHERE vault_id = ?1",
                )?;
                let mut q = stmt.query([&vault])?;
                while let Some(r) = q.next()? {
                    let path: String = r.get(0)?;
                    if !crate::vaults::paths::is_under(&path, &prefix) {
                        continue;
                    }
                    old.insert((path, r.get(1)?), (r.get(2)?, r.get(3)?, r.get(4)?));
                }
            }
            let mut report = Report {
                folder: prefix.clone(),
                ..Report::default()
            };
            let mut touched: HashSet<String> = HashSet::new();
            let mut keep: HashSet<(String, String)> = HashSet::new();
            for (path, list) in &found {
                for (sidecar, kind, lang) in list {
                    let info = infos
                        .get(sidecar)
                        .cloned()
                        .flatten()
                        .map(|v| v.to_string());
                    let key = (path.clone(), sidecar.clone());
                    report.sidecars += 1;
                    let new = (kind.to_string(), lang.clone(), info.clone());
                    match old.get(&key) {
                        Some(o) if *o == new => {}
                        o => {
                            if o.is_none() {
                                report.added += 1;
                            }
                            touched.insert(path.clone());
                            tx.execute(
                                "INSERT OR REPLACE INTO media_sidecars
                                     (vault_id, path, sidecar_path, kind, lang, info)
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                params![vault, path, sidecar, kind, lang, info],
                            )?;
                        }
                    }
                    keep.insert(key);
                }
            }
            for (path, sidecar) in old.keys() {
                if !keep.contains(&(path.clone(), sidecar.clone())) {
                    tx.execute(
                        "DELETE FROM media_sidecars WHERE vault_id = ?1 AND path = ?2 AND sidecar_path = ?3",
                        params![vault, path, sidecar],
                    )?;
                    report.removed += 1;
                    touched.insert(path.clone());
                }
            }
            for path in &touched {
                index::refresh(&tx, &vault, path)?;
            }
            tx.commit()?;
            Ok((report, !touched.is_empty()))
        })
        .await?;
    let (report, changed) = report;
    if changed {
        media.events.publish("library_changed", json!({}));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars_are_matched_by_name() {
        let files: Vec<String> = [
            "/m/Film.mkv",
            "/m/Film.en.srt",
            "/m/Film.pt-BR.forced.vtt",
            "/m/Film.srt",
            "/m/Film.nfo",
            "/m/folder.jpg",
            "/a/01 Song.flac",
            "/a/01 Song.remix.flac",
            "/a/01 Song.remix.srt",
            "/a/album.nfo",
            "/a/Cover.PNG",
            "/a/notes.txt",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let f = find(&files);
        let film = &f["/m/Film.mkv"];
        assert!(film.contains(&("/m/Film.nfo".into(), "nfo", None)));
        assert!(film.contains(&("/m/folder.jpg".into(), "cover", None)));
        assert!(film.contains(&("/m/Film.en.srt".into(), "subtitle", Some("en".into()))));
        assert!(film.contains(&(
            "/m/Film.pt-BR.forced.vtt".into(),
            "subtitle",
            Some("pt-BR".into())
        )));
        assert!(film.contains(&("/m/Film.srt".into(), "subtitle", None)));
        let song = &f["/a/01 Song.flac"];
        assert_eq!(song.len(), 2, "{song:?}");
        assert!(song.contains(&("/a/Cover.PNG".into(), "cover", None)));
        assert!(song.contains(&("/a/album.nfo".into(), "nfo", None)));
        let remix = &f["/a/01 Song.remix.flac"];
        assert!(remix.contains(&("/a/01 Song.remix.srt".into(), "subtitle", None)));
    }

    #[test]
    fn nfo_fields_are_read() {
        let v = parse_nfo(
            "<?xml version=\"1.0\"?><album><title>Kind &amp; Blue</title><artist>Miles</artist>\
             <year>1959</year><genre>Jazz</genre><genre>Modal</genre>\
             <track><title>nested, ignored</title></track><plot><![CDATA[A <b>record</b>]]></plot></album>",
        );
        assert_eq!(v["title"], "Kind & Blue");
        assert_eq!(v["artist"], "Miles");
        assert_eq!(v["year"], 1959);
        assert_eq!(v["genre"], "Jazz, Modal");
        assert_eq!(v["plot"], "A <b>record</b>");
        assert_eq!(
            parse_nfo("https://www.imdb.com/title/tt0000001/"),
            json!({})
        );
    }
}
