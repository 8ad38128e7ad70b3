//! Video enrichment storage (migration 0021): what a file's name says
//! (title, year, episode), the TMDB match found for it, the owner's
//! override (which wins and survives new lookups), the track list probed
//! per content hash, and resume points.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::file_id;
use super::probe::Probed;
use crate::time::now_ms;

/// Where TMDB's posters are served at the size the UI shows.
pub const POSTER_BASE: &str = "https://image.tmdb.org/t/p/w342";
/// Longest manual title or plot.
pub const MAX_TITLE_CHARS: usize = 512;
pub const MAX_PLOT_CHARS: usize = 8192;
/// Longest playback position / duration accepted: a week.
pub const MAX_POSITION_MS: u64 = 7 * 24 * 3600 * 1000;

/// Lookup states (`status` in the answers).
pub mod status {
    pub const MATCHED: &str = "matched";
    pub const NO_MATCH: &str = "no_match";
    pub const NO_KEY: &str = "no_key";
    pub const ERROR: &str = "error";
    pub const PENDING: &str = "pending";
}

/// A film or an episode of a show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    Movie,
    Tv,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Movie => "movie",
            MediaType::Tv => "tv",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "movie" => Some(MediaType::Movie),
            "tv" => Some(MediaType::Tv),
            _ => None,
        }
    }
}

/// What a file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub title: String,
    pub year: Option<i32>,
    pub media_type: MediaType,
    pub season: Option<u32>,
    pub episode: Option<u32>,
}

/// Release-name words that end a title (quality, source, codec…).
const JUNK: &[&str] = &[
    "2160p",
    "1080p",
    "1080i",
    "720p",
    "576p",
    "480p",
    "4k",
    "uhd",
    "hdr",
    "hdr10",
    "dv",
    "bluray",
    "blu-ray",
    "bdrip",
    "brrip",
    "bdremux",
    "remux",
    "web",
    "web-dl",
    "webdl",
    "webrip",
    "hdtv",
    "dvdrip",
    "dvd",
    "dvdscr",
    "hdrip",
    "x264",
    "x265",
    "h264",
    "h265",
    "h.264",
    "h.265",
    "hevc",
    "avc",
    "xvid",
    "divx",
    "aac",
    "ac3",
    "dts",
    "ddp5",
    "atmos",
    "10bit",
    "8bit",
    "proper",
    "repack",
    "extended",
    "unrated",
    "remastered",
    "internal",
    "limited",
    "multi",
    "subbed",
    "dubbed",
];

/// `SxxEyy` (also `1x02`): season and episode.
fn episode_of(token: &str) -> Option<(u32, u32)> {
    let t = token.to_ascii_lowercase();
    let digits = |s: &str| -> Option<u32> {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        (end > 0 && end <= 3)
            .then(|| s[..end].parse().ok())
            .flatten()
    };
    if let Some(rest) = t.strip_prefix('s') {
        let e = rest.find('e')?;
        let season = rest[..e]
            .parse::<u32>()
            .ok()
            .filter(|_| (1..=2).contains(&e))?;
        let episode = digits(&rest[e + 1..])?;
        return Some((season, episode));
    }
    let (a, b) = t.split_once('x')?;
    if (1..=2).contains(&a.len()) && a.bytes().all(|c| c.is_ascii_digit()) && b.len() == 2 {
        return Some((a.parse().ok()?, b.parse().ok()?));
    }
    None
}

fn year_of(token: &str) -> Option<i32> {
    let t = token.trim_matches(|c| matches!(c, '(' | ')' | '[' | ']'));
    (t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()))
        .then(|| t.parse().ok())
        .flatten()
        .filter(|y| (1880..=2100).contains(y))
}

fn join_title(tokens: &[&str]) -> String {
    let words: Vec<&str> = tokens
        .iter()
        .map(|t| t.trim_matches(|c| matches!(c, '(' | ')' | '[' | ']')))
        .filter(|t| !t.is_empty())
        .collect();
    words
        .join(" ")
        .trim_matches(|c: char| c == '-' || c.is_whitespace())
        .to_owned()
}

/// Title and year from a video file's name: `The.Matrix.1999.1080p.mkv` →
/// ("The Matrix", 1999); `Show.Name.S01E02.mkv` → tv "Show Name", S1 E2.
pub fn parse_name(path: &str) -> Parsed {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    // A leading release-group tag (`[Group] Title …`) is not the title.
    let stem = match stem.strip_prefix('[').and_then(|s| s.split_once(']')) {
        Some((_, rest)) if !rest.trim().is_empty() => rest,
        _ => stem,
    };
    let tokens: Vec<&str> = stem
        .split(|c: char| c == '.' || c == '_' || c.is_whitespace())
        .filter(|t| !t.is_empty() && !t.chars().all(|c| c == '-' || c == '~'))
        .collect();
    let fallback = || stem.trim().to_owned();

    if let Some(i) = tokens.iter().position(|t| episode_of(t).is_some()) {
        let (season, episode) = episode_of(tokens[i]).expect("found");
        let mut before = &tokens[..i];
        let mut year = None;
        if let Some((last, rest)) = before.split_last()
            && let Some(y) = year_of(last)
            && !rest.is_empty()
        {
            year = Some(y);
            before = rest;
        }
        let title = join_title(before);
        return Parsed {
            title: if title.is_empty() { fallback() } else { title },
            year,
            media_type: MediaType::Tv,
            season: Some(season),
            episode: Some(episode),
        };
    }
    // The last year-like word after the first is the year (`2001 A Space
    // Odyssey 1968`); the title is what comes before it.
    let year_at = tokens
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, t)| year_of(t).is_some())
        .map(|(i, _)| i)
        .next_back();
    let junk_at = tokens
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, t)| JUNK.contains(&t.to_ascii_lowercase().as_str()))
        .map(|(i, _)| i);
    let (end, year) = match (year_at, junk_at) {
        (Some(y), Some(j)) if j < y => (j, None),
        (Some(y), _) => (y, year_of(tokens[y])),
        (None, Some(j)) => (j, None),
        (None, None) => (tokens.len(), None),
    };
    let title = join_title(&tokens[..end]);
    Parsed {
        title: if title.is_empty() { fallback() } else { title },
        year,
        media_type: MediaType::Movie,
        season: None,
        episode: None,
    }
}

/// A TMDB result (a lookup's best match, or the details of a chosen id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    pub tmdb_id: Option<i64>,
    pub media_type: Option<MediaType>,
    pub title: String,
    pub year: Option<i32>,
    pub plot: Option<String>,
    pub poster_path: Option<String>,
}

/// A stored lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub status: String,
    pub found: Option<Match>,
    pub message: Option<String>,
    pub looked_up_ms: i64,
}

pub fn store_lookup(
    c: &Connection,
    vault_id: &str,
    path: &str,
    parsed: &Parsed,
    status: &str,
    found: Option<&Match>,
    message: Option<&str>,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO media_video_meta (vault_id, path, status, parsed_title,
             parsed_year, media_type, tmdb_id, title, year, plot, poster_path, message,
             looked_up_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            vault_id,
            path,
            status,
            parsed.title,
            parsed.year,
            found
                .and_then(|m| m.media_type)
                .unwrap_or(parsed.media_type)
                .as_str(),
            found.and_then(|m| m.tmdb_id),
            found.map(|m| &m.title),
            found.and_then(|m| m.year),
            found.and_then(|m| m.plot.as_ref()),
            found.and_then(|m| m.poster_path.as_ref()),
            message,
            now_ms(),
        ],
    )?;
    Ok(())
}

pub fn load_lookup(c: &Connection, vault_id: &str, path: &str) -> rusqlite::Result<Option<Lookup>> {
    c.query_row(
        "SELECT status, media_type, tmdb_id, title, year, plot, poster_path, message, looked_up_ms
         FROM media_video_meta WHERE vault_id = ?1 AND path = ?2",
        params![vault_id, path],
        |r| {
            let title: Option<String> = r.get(3)?;
            let found = title.map(|title| -> rusqlite::Result<Match> {
                Ok(Match {
                    media_type: r
                        .get::<_, Option<String>>(1)?
                        .as_deref()
                        .and_then(MediaType::parse),
                    tmdb_id: r.get(2)?,
                    title,
                    year: r.get(4)?,
                    plot: r.get(5)?,
                    poster_path: r.get(6)?,
                })
            });
            Ok(Lookup {
                status: r.get(0)?,
                found: found.transpose()?,
                message: r.get(7)?,
                looked_up_ms: r.get(8)?,
            })
        },
    )
    .optional()
}

/// Files whose last lookup ended in one of `statuses` (to retry them).
pub fn lookups_with_status(
    c: &Connection,
    statuses: &[&str],
    limit: usize,
) -> rusqlite::Result<Vec<(String, String)>> {
    let marks = vec!["?"; statuses.len()].join(", ");
    let mut s = c.prepare(&format!(
        "SELECT vault_id, path FROM media_video_meta WHERE status IN ({marks})
         ORDER BY looked_up_ms LIMIT {limit}"
    ))?;
    s.query_map(rusqlite::params_from_iter(statuses), |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?
    .collect()
}

pub fn set_override(c: &Connection, vault_id: &str, path: &str, m: &Match) -> rusqlite::Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO media_video_overrides (vault_id, path, tmdb_id, media_type, title,
             year, plot, poster_path, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            vault_id,
            path,
            m.tmdb_id,
            m.media_type.map(MediaType::as_str),
            m.title,
            m.year,
            m.plot,
            m.poster_path,
            now_ms()
        ],
    )?;
    Ok(())
}

pub fn drop_override(c: &Connection, vault_id: &str, path: &str) -> rusqlite::Result<()> {
    c.execute(
        "DELETE FROM media_video_overrides WHERE vault_id = ?1 AND path = ?2",
        params![vault_id, path],
    )?;
    Ok(())
}

pub fn load_override(
    c: &Connection,
    vault_id: &str,
    path: &str,
) -> rusqlite::Result<Option<Match>> {
    c.query_row(
        "SELECT tmdb_id, media_type, title, year, plot, poster_path
         FROM media_video_overrides WHERE vault_id = ?1 AND path = ?2",
        params![vault_id, path],
        |r| {
            Ok(Match {
                tmdb_id: r.get(0)?,
                media_type: r
                    .get::<_, Option<String>>(1)?
                    .as_deref()
                    .and_then(MediaType::parse),
                title: r.get(2)?,
                year: r.get(3)?,
                plot: r.get(4)?,
                poster_path: r.get(5)?,
            })
        },
    )
    .optional()
}

/// A resume point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Resume {
    pub position_ms: u64,
    pub duration_ms: Option<u64>,
    pub updated_ms: i64,
}

/// Record where playback stopped. The position is clamped to the duration
/// when one is known (given now, or stored before).
pub fn set_resume(
    c: &Connection,
    vault_id: &str,
    path: &str,
    position_ms: u64,
    duration_ms: Option<u64>,
) -> rusqlite::Result<Resume> {
    let duration_ms = match duration_ms {
        Some(d) => Some(d),
        None => get_resume(c, vault_id, path)?.and_then(|r| r.duration_ms),
    };
    let position_ms = duration_ms.map_or(position_ms, |d| position_ms.min(d));
    let r = Resume {
        position_ms,
        duration_ms,
        updated_ms: now_ms(),
    };
    c.execute(
        "INSERT OR REPLACE INTO media_video_resume (vault_id, path, position_ms, duration_ms,
             updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            vault_id,
            path,
            r.position_ms as i64,
            r.duration_ms.map(|d| d as i64),
            r.updated_ms
        ],
    )?;
    Ok(r)
}

pub fn get_resume(c: &Connection, vault_id: &str, path: &str) -> rusqlite::Result<Option<Resume>> {
    c.query_row(
        "SELECT position_ms, duration_ms, updated_ms FROM media_video_resume
         WHERE vault_id = ?1 AND path = ?2",
        params![vault_id, path],
        |r| {
            Ok(Resume {
                position_ms: r.get::<_, i64>(0)?.max(0) as u64,
                duration_ms: r.get::<_, Option<i64>>(1)?.map(|d| d.max(0) as u64),
                updated_ms: r.get(2)?,
            })
        },
    )
    .optional()
}

pub fn store_tracks(c: &Connection, content_hash: &str, p: &Probed) -> rusqlite::Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO media_video_tracks (content_hash, probed, probed_ms)
         VALUES (?1, ?2, ?3)",
        params![
            content_hash,
            serde_json::to_string(p).unwrap_or_else(|_| "{}".into()),
            now_ms()
        ],
    )?;
    Ok(())
}

pub fn load_tracks(c: &Connection, content_hash: &str) -> rusqlite::Result<Option<Probed>> {
    let raw: Option<String> = c
        .query_row(
            "SELECT probed FROM media_video_tracks WHERE content_hash = ?1",
            [content_hash],
            |r| r.get(0),
        )
        .optional()?;
    Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
}

pub fn forget_tracks(c: &Connection, content_hash: &str) -> rusqlite::Result<()> {
    c.execute(
        "DELETE FROM media_video_tracks WHERE content_hash = ?1",
        [content_hash],
    )?;
    Ok(())
}

/// The `video-meta` answer for a file: the override if any, else the
/// lookup's match, else what the name says.
pub fn meta_view(
    vault_id: &str,
    path: &str,
    parsed: &Parsed,
    lookup: Option<&Lookup>,
    over: Option<&Match>,
    resume: Option<&Resume>,
) -> Value {
    let (status, shown, message) = match (over, lookup) {
        (Some(m), _) => (status::MATCHED, Some(m), None),
        (None, Some(l)) => (
            l.status.as_str(),
            l.found.as_ref().filter(|_| l.status == status::MATCHED),
            l.message.as_deref(),
        ),
        (None, None) => (status::PENDING, None, None),
    };
    let poster_path = shown.and_then(|m| m.poster_path.clone());
    json!({
        "vault_id": vault_id,
        "path": path,
        "file_id": file_id(vault_id, path),
        "status": status,
        "parsed": {"title": parsed.title, "year": parsed.year},
        "title": shown.map_or(parsed.title.as_str(), |m| m.title.as_str()),
        "year": shown.map_or(parsed.year, |m| m.year),
        "plot": shown.and_then(|m| m.plot.clone()),
        "poster_url": poster_path.as_ref().map(|p| format!("{POSTER_BASE}{p}")),
        "poster_path": poster_path,
        "tmdb_id": shown.and_then(|m| m.tmdb_id),
        "media_type": shown.and_then(|m| m.media_type).unwrap_or(parsed.media_type).as_str(),
        "overridden": over.is_some(),
        "message": message,
        "resume": resume,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(path: &str) -> (String, Option<i32>, MediaType) {
        let x = parse_name(path);
        (x.title, x.year, x.media_type)
    }

    #[test]
    fn film_names_give_title_and_year() {
        assert_eq!(
            p("/f/The.Matrix.1999.1080p.BluRay.x264.mkv"),
            ("The Matrix".into(), Some(1999), MediaType::Movie)
        );
        assert_eq!(
            p("/Blade Runner (1982).mp4"),
            ("Blade Runner".into(), Some(1982), MediaType::Movie)
        );
        assert_eq!(
            p("/2001.A.Space.Odyssey.1968.mkv"),
            ("2001 A Space Odyssey".into(), Some(1968), MediaType::Movie)
        );
        assert_eq!(
            p("/Heat_720p_WEBRip.mkv"),
            ("Heat".into(), None, MediaType::Movie)
        );
        assert_eq!(p("/1917.mkv"), ("1917".into(), None, MediaType::Movie));
        assert_eq!(
            p("/[Grp] Akira 1988.mkv"),
            ("Akira".into(), Some(1988), MediaType::Movie)
        );
    }

    #[test]
    fn episode_names_give_the_show() {
        let x = parse_name("/tv/Show.Name.S01E02.mkv");
        assert_eq!(x.title, "Show Name");
        assert_eq!(x.media_type, MediaType::Tv);
        assert_eq!((x.season, x.episode), (Some(1), Some(2)));
        let x = parse_name("/tv/Doctor Who 2005 - s10e03 - Thin Ice.mkv");
        assert_eq!((x.title.as_str(), x.year), ("Doctor Who", Some(2005)));
        assert_eq!(parse_name("/Show_3x07.avi").episode, Some(7));
        assert_eq!(
            parse_name("/Sex.Education.mkv").media_type,
            MediaType::Movie
        );
    }

    #[test]
    fn views_prefer_the_override() {
        let parsed = parse_name("/The.Matrix.1999.mkv");
        let v = meta_view("v", "/The.Matrix.1999.mkv", &parsed, None, None, None);
        assert_eq!(v["status"], "pending");
        assert_eq!(v["title"], "The Matrix");
        let l = Lookup {
            status: status::NO_KEY.into(),
            found: None,
            message: Some("no key".into()),
            looked_up_ms: 1,
        };
        let m = Match {
            tmdb_id: Some(603),
            media_type: Some(MediaType::Movie),
            title: "The Matrix".into(),
            year: Some(1999),
            plot: Some("Neo".into()),
            poster_path: Some("/p.jpg".into()),
        };
        let v = meta_view("v", "/x.mkv", &parsed, Some(&l), Some(&m), None);
        assert_eq!(v["status"], "matched");
        assert_eq!(v["overridden"], true);
        assert_eq!(v["poster_url"], "https://image.tmdb.org/t/p/w342/p.jpg");
        let v = meta_view("v", "/x.mkv", &parsed, Some(&l), None, None);
        assert_eq!(v["status"], "no_key");
        assert_eq!(v["tmdb_id"], Value::Null);
    }
}
