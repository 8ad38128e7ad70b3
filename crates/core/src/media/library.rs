//! The music library as the owner browses it: artists, albums, songs,
//! genres, full-text search, per-track prefs, play events and radio, all
//! over the `media_files` rows of every trusted vault (kind `audio`) joined
//! with `library_prefs`. Every function takes a catalog connection and is a
//! few indexed queries, so views stay fast at tens of thousands of tracks.
//!
//! `fully_local` (`local_only` here) hides rows this node does not hold
//! every block of (`local = 0`).

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde::Serialize;

use crate::time::now_ms;

/// Play events kept; older ones are dropped as new ones arrive.
pub const MAX_PLAY_EVENTS: i64 = 100_000;
/// Longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Search terms used at most (the rest of a long query is ignored).
const MAX_TERMS: usize = 16;
/// Matching rows looked at to find the albums and artists of a search.
const SEARCH_SCAN: i64 = 500;
/// Candidate rows a radio queue is picked from.
const RADIO_CANDIDATES: i64 = 5_000;

/// One library row (the contract's Song).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Song {
    pub vault_id: String,
    pub file_id: String,
    pub path: String,
    pub kind: String,
    pub title: String,
    pub artist: String,
    pub album_artist: String,
    pub album: String,
    pub album_key: String,
    pub track_no: Option<i64>,
    pub disc_no: Option<i64>,
    pub year: Option<i64>,
    pub genre: String,
    pub duration_ms: Option<i64>,
    pub cover_hash: Option<String>,
    pub size: i64,
    pub local: bool,
    pub status: String,
    pub play_count: i64,
    pub skip_count: i64,
    pub last_played_ms: Option<i64>,
    pub rating: Option<i64>,
    pub skip: bool,
    #[serde(skip)]
    content_hash: String,
}

/// An album (the contract's Album).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Album {
    pub key: String,
    pub title: String,
    /// The album artist.
    pub artist: String,
    pub year: Option<i64>,
    pub genre: String,
    pub song_count: i64,
    pub duration_ms: i64,
    pub cover_hash: Option<String>,
    pub cover_vault_id: Option<String>,
    pub local_count: i64,
}

/// An artist (the contract's Artist), grouped by name case-insensitively.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Artist {
    pub name: String,
    pub track_count: i64,
    pub album_count: i64,
    pub cover_hash: Option<String>,
    pub cover_vault_id: Option<String>,
}

/// A genre and how many tracks carry it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Genre {
    pub name: String,
    pub track_count: i64,
}

/// A track's prefs and counters.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Prefs {
    pub vault_id: String,
    pub file_id: String,
    pub rating: Option<i64>,
    pub skip: bool,
    pub play_count: i64,
    pub skip_count: i64,
    pub last_played_ms: Option<i64>,
}

/// One page of a listing and the number of rows in all pages.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SongSort {
    Title,
    Artist,
    Album,
    Year,
    Added,
    Plays,
    Duration,
}

impl SongSort {
    pub const NAMES: &'static [&'static str] = &[
        "title", "artist", "album", "year", "added", "plays", "duration",
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "title" => Self::Title,
            "artist" => Self::Artist,
            "album" => Self::Album,
            "year" => Self::Year,
            "added" => Self::Added,
            "plays" => Self::Plays,
            "duration" => Self::Duration,
            _ => return None,
        })
    }

    /// The order a listing takes when none is asked for: newest and most
    /// played first, everything else A to Z / shortest / oldest first.
    pub fn default_desc(self) -> bool {
        matches!(self, Self::Added | Self::Plays)
    }

    fn order_by(self, desc: bool) -> String {
        let d = if desc { "DESC" } else { "ASC" };
        let nulls_last = |col: &str| format!("{col} IS NULL, {col} {d}");
        let keys = match self {
            Self::Title => format!("m.title COLLATE NOCASE {d}, m.artist COLLATE NOCASE {d}"),
            Self::Artist => format!(
                "m.artist COLLATE NOCASE {d}, m.album COLLATE NOCASE {d}, COALESCE(m.disc_no, 1) {d}, m.track_no {d}, m.title COLLATE NOCASE {d}"
            ),
            Self::Album => format!(
                "m.album COLLATE NOCASE {d}, m.album_key {d}, COALESCE(m.disc_no, 1) {d}, m.track_no {d}, m.title COLLATE NOCASE {d}"
            ),
            Self::Year => format!(
                "{}, m.artist COLLATE NOCASE {d}, m.album COLLATE NOCASE {d}, COALESCE(m.disc_no, 1) {d}, m.track_no {d}",
                nulls_last("m.year")
            ),
            Self::Added => format!("m.rowid {d}"),
            Self::Plays => format!(
                "COALESCE(p.play_count, 0) {d}, {}",
                nulls_last("p.last_played_ms")
            ),
            Self::Duration => nulls_last("m.duration_ms"),
        };
        format!("{keys}, m.rowid {d}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlbumSort {
    Title,
    Artist,
    Year,
    Recent,
}

impl AlbumSort {
    pub const NAMES: &'static [&'static str] = &["title", "artist", "year", "recent"];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "title" => Self::Title,
            "artist" => Self::Artist,
            "year" => Self::Year,
            "recent" => Self::Recent,
            _ => return None,
        })
    }

    /// Newest first for `year` and `recent`, A to Z otherwise.
    pub fn default_desc(self) -> bool {
        matches!(self, Self::Year | Self::Recent)
    }

    fn order_by(self, desc: bool) -> String {
        let d = if desc { "DESC" } else { "ASC" };
        let keys = match self {
            Self::Title => format!("title COLLATE NOCASE {d}, artist COLLATE NOCASE {d}"),
            Self::Artist => {
                format!(
                    "artist COLLATE NOCASE {d}, year IS NULL, year {d}, title COLLATE NOCASE {d}"
                )
            }
            Self::Year => {
                format!("year IS NULL, year {d}, artist COLLATE NOCASE, title COLLATE NOCASE")
            }
            Self::Recent => format!("added {d}"),
        };
        format!("{keys}, key")
    }
}

/// What `songs` lists.
#[derive(Debug, Clone)]
pub struct SongQuery {
    pub sort: SongSort,
    pub desc: bool,
    pub limit: i64,
    pub offset: i64,
    pub local_only: bool,
    /// Tracks of this genre (case-insensitive).
    pub genre: Option<String>,
    /// Tracks whose artist or album artist is this (case-insensitive).
    pub artist: Option<String>,
    pub album_key: Option<String>,
}

const SONG_COLS: &str = "m.vault_id, m.file_id, m.path, m.kind, m.title, m.artist, m.album_artist,
    m.album, m.album_key, m.track_no, m.disc_no, m.year, m.genre, m.duration_ms, m.cover_hash,
    m.size, m.local, m.status, COALESCE(p.play_count, 0), COALESCE(p.skip_count, 0),
    p.last_played_ms, p.rating, COALESCE(p.skip, 0), m.content_hash";

const SONG_FROM: &str = "media_files m LEFT JOIN library_prefs p
    ON p.vault_id = m.vault_id AND p.file_id = m.file_id";

fn song(r: &Row) -> rusqlite::Result<Song> {
    Ok(Song {
        vault_id: r.get(0)?,
        file_id: r.get(1)?,
        path: r.get(2)?,
        kind: r.get(3)?,
        title: r.get(4)?,
        artist: r.get(5)?,
        album_artist: r.get(6)?,
        album: r.get(7)?,
        album_key: r.get(8)?,
        track_no: r.get(9)?,
        disc_no: r.get(10)?,
        year: r.get(11)?,
        genre: r.get(12)?,
        duration_ms: r.get(13)?,
        cover_hash: r.get(14)?,
        size: r.get(15)?,
        local: r.get(16)?,
        status: r.get(17)?,
        play_count: r.get(18)?,
        skip_count: r.get(19)?,
        last_played_ms: r.get(20)?,
        rating: r.get(21)?,
        skip: r.get(22)?,
        content_hash: r.get(23)?,
    })
}

/// `AND m.local = 1` when only local rows count.
fn local_clause(local_only: bool) -> &'static str {
    if local_only { " AND m.local = 1" } else { "" }
}

fn query_songs(c: &Connection, sql: &str, args: &[SqlValue]) -> rusqlite::Result<Vec<Song>> {
    let mut stmt = c.prepare_cached(sql)?;
    stmt.query_map(params_from_iter(args.iter()), song)?
        .collect()
}

// ---------------------------------------------------------------- artists

/// Artists (by track artist, grouped case-insensitively), A to Z.
pub fn artists(
    c: &Connection,
    local_only: bool,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<Page<Artist>> {
    let local = local_clause(local_only);
    let total: i64 = c.query_row(
        &format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM media_files m WHERE m.kind = 'audio'{local}
             GROUP BY m.artist COLLATE NOCASE)"
        ),
        [],
        |r| r.get(0),
    )?;
    let mut stmt = c.prepare_cached(&format!(
        "SELECT MIN(m.artist), COUNT(*), COUNT(DISTINCT m.album_key) FROM media_files m
         WHERE m.kind = 'audio'{local}
         GROUP BY m.artist COLLATE NOCASE
         ORDER BY MIN(m.artist) COLLATE NOCASE LIMIT ?1 OFFSET ?2"
    ))?;
    let rows = stmt
        .query_map(params![limit, offset], |r| {
            Ok(Artist {
                name: r.get(0)?,
                track_count: r.get(1)?,
                album_count: r.get(2)?,
                cover_hash: None,
                cover_vault_id: None,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut items = Vec::with_capacity(rows.len());
    for mut a in rows {
        (a.cover_hash, a.cover_vault_id) = artist_cover(c, &a.name, local_only)?;
        items.push(a);
    }
    Ok(Page { items, total })
}

/// One of the artist's album covers (the newest album that has one).
fn artist_cover(
    c: &Connection,
    name: &str,
    local_only: bool,
) -> rusqlite::Result<(Option<String>, Option<String>)> {
    let local = local_clause(local_only);
    Ok(c.prepare_cached(&format!(
        "SELECT m.cover_hash, m.vault_id FROM media_files m
         WHERE m.kind = 'audio' AND m.artist = ?1 COLLATE NOCASE AND m.cover_hash IS NOT NULL{local}
         ORDER BY m.year IS NULL, m.year DESC, m.album_key, m.disc_no, m.track_no LIMIT 1"
    ))?
    .query_row([name], |r| Ok((Some(r.get(0)?), Some(r.get(1)?))))
    .optional()?
    .unwrap_or((None, None)))
}

/// An artist's canonical spelling, albums and songs.
pub type ArtistDetail = (String, Vec<Album>, Vec<Song>);

/// One artist: the canonical spelling, their songs (by album year, album,
/// disc, track) and the albums those songs are on. `None` when unknown.
pub fn artist(
    c: &Connection,
    name: &str,
    local_only: bool,
) -> rusqlite::Result<Option<ArtistDetail>> {
    let local = local_clause(local_only);
    let songs = query_songs(
        c,
        &format!(
            "SELECT {SONG_COLS} FROM {SONG_FROM}
             WHERE m.kind = 'audio' AND m.artist = ?1 COLLATE NOCASE{local}
             ORDER BY m.year IS NULL, m.year, m.album COLLATE NOCASE, m.album_key, m.disc_no,
                 m.track_no, m.title COLLATE NOCASE"
        ),
        &[SqlValue::Text(name.to_owned())],
    )?;
    let Some(first) = songs.first() else {
        return Ok(None);
    };
    let canonical = first.artist.clone();
    let mut keys: Vec<String> = Vec::new();
    for s in &songs {
        if !keys.contains(&s.album_key) {
            keys.push(s.album_key.clone());
        }
    }
    let mut albums = Vec::with_capacity(keys.len());
    for k in &keys {
        if let Some(a) = album_row(c, k, local_only)? {
            albums.push(a);
        }
    }
    Ok(Some((canonical, albums, songs)))
}

// ----------------------------------------------------------------- albums

const ALBUM_SELECT: &str = "SELECT m.album_key AS key, MIN(m.album) AS title,
    MIN(m.album_artist) AS artist, MAX(m.year) AS year,
    COALESCE(MIN(NULLIF(m.genre, '')), '') AS genre, COUNT(*) AS song_count,
    COALESCE(SUM(m.duration_ms), 0) AS duration_ms, SUM(m.local) AS local_count,
    MAX(m.rowid) AS added
    FROM media_files m";

fn album(r: &Row) -> rusqlite::Result<Album> {
    Ok(Album {
        key: r.get(0)?,
        title: r.get(1)?,
        artist: r.get(2)?,
        year: r.get(3)?,
        genre: r.get(4)?,
        song_count: r.get(5)?,
        duration_ms: r.get(6)?,
        local_count: r.get(7)?,
        cover_hash: None,
        cover_vault_id: None,
    })
}

/// The album's cover: the first track (by disc and number) that has one.
fn album_cover(
    c: &Connection,
    key: &str,
    local_only: bool,
) -> rusqlite::Result<(Option<String>, Option<String>)> {
    let local = local_clause(local_only);
    Ok(c.prepare_cached(&format!(
        "SELECT m.cover_hash, m.vault_id FROM media_files m
         WHERE m.kind = 'audio' AND m.album_key = ?1 AND m.cover_hash IS NOT NULL{local}
         ORDER BY m.local DESC, m.disc_no, m.track_no LIMIT 1"
    ))?
    .query_row([key], |r| Ok((Some(r.get(0)?), Some(r.get(1)?))))
    .optional()?
    .unwrap_or((None, None)))
}

fn album_row(c: &Connection, key: &str, local_only: bool) -> rusqlite::Result<Option<Album>> {
    let local = local_clause(local_only);
    let a = c
        .prepare_cached(&format!(
            "{ALBUM_SELECT} WHERE m.kind = 'audio' AND m.album_key = ?1{local} GROUP BY m.album_key"
        ))?
        .query_row([key], album)
        .optional()?;
    let Some(mut a) = a else { return Ok(None) };
    (a.cover_hash, a.cover_vault_id) = album_cover(c, key, local_only)?;
    Ok(Some(a))
}

/// Albums, grouped by album key.
pub fn albums(
    c: &Connection,
    sort: AlbumSort,
    desc: bool,
    local_only: bool,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<Page<Album>> {
    let local = local_clause(local_only);
    let total: i64 = c.query_row(
        &format!(
            "SELECT COUNT(DISTINCT m.album_key) FROM media_files m WHERE m.kind = 'audio'{local}"
        ),
        [],
        |r| r.get(0),
    )?;
    let order = sort.order_by(desc);
    let mut stmt = c.prepare_cached(&format!(
        "SELECT * FROM ({ALBUM_SELECT} WHERE m.kind = 'audio'{local} GROUP BY m.album_key)
         ORDER BY {order} LIMIT ?1 OFFSET ?2"
    ))?;
    let mut items = stmt
        .query_map(params![limit, offset], album)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for a in &mut items {
        (a.cover_hash, a.cover_vault_id) = album_cover(c, &a.key, local_only)?;
    }
    Ok(Page { items, total })
}

/// One album and its tracklist (disc, track, title). `None` when unknown.
pub fn album_detail(
    c: &Connection,
    key: &str,
    local_only: bool,
) -> rusqlite::Result<Option<(Album, Vec<Song>)>> {
    let Some(a) = album_row(c, key, local_only)? else {
        return Ok(None);
    };
    let local = local_clause(local_only);
    let songs = query_songs(
        c,
        &format!(
            "SELECT {SONG_COLS} FROM {SONG_FROM}
             WHERE m.kind = 'audio' AND m.album_key = ?1{local}
             ORDER BY COALESCE(m.disc_no, 1), m.track_no IS NULL, m.track_no,
                 m.title COLLATE NOCASE, m.path"
        ),
        &[SqlValue::Text(key.to_owned())],
    )?;
    Ok(Some((a, songs)))
}

// ------------------------------------------------------------------ songs

/// A page of songs.
pub fn songs(c: &Connection, q: &SongQuery) -> rusqlite::Result<Page<Song>> {
    let mut filter = format!("m.kind = 'audio'{}", local_clause(q.local_only));
    let mut args: Vec<SqlValue> = Vec::new();
    if let Some(g) = &q.genre {
        args.push(SqlValue::Text(g.clone()));
        filter += &format!(" AND m.genre = ?{} COLLATE NOCASE", args.len());
    }
    if let Some(a) = &q.artist {
        args.push(SqlValue::Text(a.clone()));
        let n = args.len();
        filter += &format!(
            " AND (m.artist = ?{n} COLLATE NOCASE OR m.album_artist = ?{n} COLLATE NOCASE)"
        );
    }
    if let Some(k) = &q.album_key {
        args.push(SqlValue::Text(k.clone()));
        filter += &format!(" AND m.album_key = ?{}", args.len());
    }
    let total: i64 = c
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM media_files m WHERE {filter}"
        ))?
        .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
    let order = q.sort.order_by(q.desc);
    let n = args.len();
    args.push(SqlValue::Integer(q.limit));
    args.push(SqlValue::Integer(q.offset));
    let items = query_songs(
        c,
        &format!(
            "SELECT {SONG_COLS} FROM {SONG_FROM} WHERE {filter}
             ORDER BY {order} LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        ),
        &args,
    )?;
    Ok(Page { items, total })
}

/// One song by its vault and file id.
pub fn song_by_id(c: &Connection, vault_id: &str, file_id: &str) -> rusqlite::Result<Option<Song>> {
    Ok(query_songs(
        c,
        &format!(
            "SELECT {SONG_COLS} FROM {SONG_FROM} WHERE m.vault_id = ?1 AND m.file_id = ?2 LIMIT 1"
        ),
        &[
            SqlValue::Text(vault_id.to_owned()),
            SqlValue::Text(file_id.to_owned()),
        ],
    )?
    .pop())
}

// ----------------------------------------------------------------- genres

/// Genres with their track counts, most tracks first (tracks without a
/// genre are not counted).
pub fn genres(c: &Connection, local_only: bool) -> rusqlite::Result<Vec<Genre>> {
    let local = local_clause(local_only);
    let mut stmt = c.prepare_cached(&format!(
        "SELECT MIN(m.genre), COUNT(*) FROM media_files m
         WHERE m.kind = 'audio' AND m.genre != ''{local}
         GROUP BY m.genre COLLATE NOCASE
         ORDER BY COUNT(*) DESC, MIN(m.genre) COLLATE NOCASE"
    ))?;
    stmt.query_map([], |r| {
        Ok(Genre {
            name: r.get(0)?,
            track_count: r.get(1)?,
        })
    })?
    .collect()
}

// ----------------------------------------------------------------- search

/// The FTS5 query for what the user typed: each word a quoted prefix
/// phrase (so nothing typed is FTS5 syntax), all of them required. `None`
/// when nothing searchable is left.
pub fn fts_query(q: &str, columns: Option<&str>) -> Option<String> {
    let terms: Vec<String> = q
        .split(|ch: char| ch.is_whitespace() || ch == '"')
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .take(MAX_TERMS)
        .map(|t| {
            let phrase = format!("\"{t}\"*");
            match columns {
                Some(cols) => format!("{{{cols}}} : {phrase}"),
                None => phrase,
            }
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct SearchResult {
    pub songs: Vec<Song>,
    pub albums: Vec<Album>,
    pub artists: Vec<Artist>,
}

/// Full-text search over title, artist, album and genre: songs by rank,
/// albums whose title or artist match, artists whose name matches.
pub fn search(
    c: &Connection,
    q: &str,
    limit: i64,
    local_only: bool,
) -> rusqlite::Result<SearchResult> {
    let mut out = SearchResult::default();
    let Some(all) = fts_query(q, None) else {
        return Ok(out);
    };
    let local = local_clause(local_only);
    out.songs = query_songs(
        c,
        &format!(
            "SELECT {SONG_COLS} FROM media_fts f JOIN media_files m ON m.rowid = f.rowid
             LEFT JOIN library_prefs p ON p.vault_id = m.vault_id AND p.file_id = m.file_id
             WHERE media_fts MATCH ?1 AND m.kind = 'audio'{local}
             ORDER BY f.rank, m.rowid LIMIT ?2"
        ),
        &[SqlValue::Text(all), SqlValue::Integer(limit)],
    )?;
    // Albums: album title or artists match.
    let album_q = fts_query(q, Some("album artist")).unwrap_or_default();
    let mut stmt = c.prepare_cached(&format!(
        "SELECT m.album_key FROM media_fts f JOIN media_files m ON m.rowid = f.rowid
         WHERE media_fts MATCH ?1 AND m.kind = 'audio'{local}
         ORDER BY f.rank LIMIT ?2"
    ))?;
    let keys = stmt
        .query_map(params![album_q, SEARCH_SCAN], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut seen = HashSet::new();
    for k in keys {
        if out.albums.len() as i64 >= limit {
            break;
        }
        if seen.insert(k.clone())
            && let Some(a) = album_row(c, &k, local_only)?
        {
            out.albums.push(a);
        }
    }
    // Artists: the artist column matches (the track artist is what groups).
    let artist_q = fts_query(q, Some("artist")).unwrap_or_default();
    let mut stmt = c.prepare_cached(&format!(
        "SELECT m.artist FROM media_fts f JOIN media_files m ON m.rowid = f.rowid
         WHERE media_fts MATCH ?1 AND m.kind = 'audio'{local}
         ORDER BY f.rank LIMIT ?2"
    ))?;
    let names = stmt
        .query_map(params![artist_q, SEARCH_SCAN], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut seen = HashSet::new();
    for name in names {
        if out.artists.len() as i64 >= limit {
            break;
        }
        if seen.insert(name.to_lowercase())
            && let Some(a) = artist_summary(c, &name, local_only)?
        {
            out.artists.push(a);
        }
    }
    Ok(out)
}

/// One artist as the artists list shows it.
fn artist_summary(
    c: &Connection,
    name: &str,
    local_only: bool,
) -> rusqlite::Result<Option<Artist>> {
    let local = local_clause(local_only);
    let a = c
        .prepare_cached(&format!(
            "SELECT MIN(m.artist), COUNT(*), COUNT(DISTINCT m.album_key) FROM media_files m
             WHERE m.kind = 'audio' AND m.artist = ?1 COLLATE NOCASE{local}"
        ))?
        .query_row([name], |r| {
            Ok(Artist {
                name: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                track_count: r.get(1)?,
                album_count: r.get(2)?,
                cover_hash: None,
                cover_vault_id: None,
            })
        })?;
    if a.track_count == 0 {
        return Ok(None);
    }
    let mut a = a;
    (a.cover_hash, a.cover_vault_id) = artist_cover(c, &a.name, local_only)?;
    Ok(Some(a))
}

// ------------------------------------------------------------------ prefs

fn file_known(c: &Connection, vault_id: &str, file_id: &str) -> rusqlite::Result<bool> {
    Ok(
        c.prepare_cached("SELECT 1 FROM media_files WHERE vault_id = ?1 AND file_id = ?2")?
            .query_row(params![vault_id, file_id], |_| Ok(()))
            .optional()?
            .is_some(),
    )
}

/// A library file's prefs (defaults when none were set); `None` when the
/// library has no such file.
pub fn prefs(c: &Connection, vault_id: &str, file_id: &str) -> rusqlite::Result<Option<Prefs>> {
    if !file_known(c, vault_id, file_id)? {
        return Ok(None);
    }
    let p = c
        .prepare_cached(
            "SELECT rating, skip, play_count, skip_count, last_played_ms FROM library_prefs
             WHERE vault_id = ?1 AND file_id = ?2",
        )?
        .query_row(params![vault_id, file_id], |r| {
            Ok(Prefs {
                vault_id: vault_id.to_owned(),
                file_id: file_id.to_owned(),
                rating: r.get(0)?,
                skip: r.get(1)?,
                play_count: r.get(2)?,
                skip_count: r.get(3)?,
                last_played_ms: r.get(4)?,
            })
        })
        .optional()?;
    Ok(Some(p.unwrap_or_else(|| Prefs {
        vault_id: vault_id.to_owned(),
        file_id: file_id.to_owned(),
        rating: None,
        skip: false,
        play_count: 0,
        skip_count: 0,
        last_played_ms: None,
    })))
}

/// Change a file's prefs: `rating` `Some(None)` clears it, `None` leaves
/// it; the same for `skip`. `None` when the library has no such file.
pub fn set_prefs(
    c: &mut Connection,
    vault_id: &str,
    file_id: &str,
    rating: Option<Option<u8>>,
    skip: Option<bool>,
) -> rusqlite::Result<Option<Prefs>> {
    let tx = c.transaction()?;
    if !file_known(&tx, vault_id, file_id)? {
        return Ok(None);
    }
    tx.execute(
        "INSERT INTO library_prefs (vault_id, file_id, updated_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (vault_id, file_id) DO NOTHING",
        params![vault_id, file_id, now_ms()],
    )?;
    if let Some(r) = rating {
        tx.execute(
            "UPDATE library_prefs SET rating = ?3, updated_ms = ?4 WHERE vault_id = ?1 AND file_id = ?2",
            params![vault_id, file_id, r, now_ms()],
        )?;
    }
    if let Some(s) = skip {
        tx.execute(
            "UPDATE library_prefs SET skip = ?3, updated_ms = ?4 WHERE vault_id = ?1 AND file_id = ?2",
            params![vault_id, file_id, s, now_ms()],
        )?;
    }
    let p = prefs(&tx, vault_id, file_id)?;
    tx.commit()?;
    Ok(p)
}

// ------------------------------------------------------------ play events

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayKind {
    Play,
    Skip,
}

/// One play or skip of a track.
#[derive(Debug, Clone)]
pub struct PlayEvent {
    pub vault_id: String,
    pub file_id: String,
    pub kind: PlayKind,
    pub position_ms: Option<i64>,
    pub ts_ms: i64,
}

/// What recording events did: the events taken and, per file, its
/// counters after them. Events for files the library does not have are
/// skipped (not an error: a client may report plays of a file deleted
/// meanwhile).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlaysRecorded {
    pub accepted: usize,
    pub skipped: usize,
    pub files: Vec<Prefs>,
}

/// Append play events and bump the files' counters, in one transaction;
/// the oldest events beyond [`MAX_PLAY_EVENTS`] are dropped.
pub fn record_plays(c: &mut Connection, events: &[PlayEvent]) -> rusqlite::Result<PlaysRecorded> {
    let tx = c.transaction()?;
    let mut out = PlaysRecorded::default();
    let mut touched: Vec<(String, String)> = Vec::new();
    for e in events {
        if !file_known(&tx, &e.vault_id, &e.file_id)? {
            out.skipped += 1;
            continue;
        }
        let kind = match e.kind {
            PlayKind::Play => "play",
            PlayKind::Skip => "skip",
        };
        tx.prepare_cached(
            "INSERT INTO play_events (vault_id, file_id, kind, position_ms, ts_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![e.vault_id, e.file_id, kind, e.position_ms, e.ts_ms])?;
        let (plays, skips, last) = match e.kind {
            PlayKind::Play => (1, 0, Some(e.ts_ms)),
            PlayKind::Skip => (0, 1, None),
        };
        tx.prepare_cached(
            "INSERT INTO library_prefs (vault_id, file_id, play_count, skip_count, last_played_ms,
                 updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (vault_id, file_id) DO UPDATE SET
                 play_count = play_count + excluded.play_count,
                 skip_count = skip_count + excluded.skip_count,
                 last_played_ms = CASE
                     WHEN excluded.last_played_ms IS NULL THEN last_played_ms
                     WHEN last_played_ms IS NULL THEN excluded.last_played_ms
                     ELSE MAX(last_played_ms, excluded.last_played_ms) END,
                 updated_ms = excluded.updated_ms",
        )?
        .execute(params![e.vault_id, e.file_id, plays, skips, last, now_ms()])?;
        out.accepted += 1;
        let key = (e.vault_id.clone(), e.file_id.clone());
        if !touched.contains(&key) {
            touched.push(key);
        }
    }
    if out.accepted > 0 {
        tx.execute(
            "DELETE FROM play_events WHERE id <=
                 (SELECT id FROM play_events ORDER BY id DESC LIMIT 1 OFFSET ?1)",
            [MAX_PLAY_EVENTS],
        )?;
    }
    for (v, f) in &touched {
        if let Some(p) = prefs(&tx, v, f)? {
            out.files.push(p);
        }
    }
    tx.commit()?;
    Ok(out)
}

// ------------------------------------------------------------------ radio

/// A radio queue from `seed`: other tracks scored by a shared artist (3),
/// a shared genre (2) and the era (1: years within five of each other),
/// best first with a deterministic shuffle among equals (seeded by the
/// seed's id, so the same seed gives the same queue), at most a fifth of
/// the queue (and at least two tracks) from any one album before the
/// others had their turn, without the seed, tracks marked skip, or a
/// second copy of the same recording (same content, or same title and
/// artist). Tracks sharing nothing come last, so the queue keeps going.
pub fn radio(
    c: &Connection,
    seed: &Song,
    limit: usize,
    local_only: bool,
) -> rusqlite::Result<Vec<Song>> {
    let local = local_clause(local_only);
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SONG_COLS},
             (CASE WHEN m.artist = ?3 COLLATE NOCASE OR m.album_artist = ?4 COLLATE NOCASE
                   THEN 3 ELSE 0 END)
           + (CASE WHEN ?5 != '' AND m.genre = ?5 COLLATE NOCASE THEN 2 ELSE 0 END)
           + (CASE WHEN ?6 IS NOT NULL AND m.year BETWEEN ?6 - 5 AND ?6 + 5 THEN 1 ELSE 0 END)
             AS score
         FROM {SONG_FROM}
         WHERE m.kind = 'audio' AND NOT (m.vault_id = ?1 AND m.file_id = ?2)
           AND COALESCE(p.skip, 0) = 0 AND m.content_hash != ?7{local}
         ORDER BY score DESC, m.rowid LIMIT ?8"
    ))?;
    let mut scored: Vec<(f64, Song)> = stmt
        .query_map(
            params![
                seed.vault_id,
                seed.file_id,
                seed.artist,
                seed.album_artist,
                seed.genre,
                seed.year,
                seed.content_hash,
                RADIO_CANDIDATES
            ],
            |r| Ok((r.get::<_, i64>(24)? as f64, song(r)?)),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Variety among equals: a stable pseudo-random fraction per track.
    for (score, s) in &mut scored {
        let mut h = blake3::Hasher::new();
        h.update(seed.file_id.as_bytes());
        h.update(s.vault_id.as_bytes());
        h.update(s.file_id.as_bytes());
        let b = h.finalize();
        let n = u32::from_le_bytes([b.as_bytes()[0], b.as_bytes()[1], b.as_bytes()[2], 0]);
        *score += f64::from(n) / f64::from(1u32 << 24) * 0.9;
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));

    let per_album = limit.div_ceil(5).max(2);
    let mut seen_content: HashSet<String> = HashSet::new();
    let mut seen_song: HashSet<(String, String)> = HashSet::new();
    seen_song.insert((seed.title.to_lowercase(), seed.artist.to_lowercase()));
    seen_content.insert(seed.content_hash.clone());
    let mut per_album_count: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Song> = Vec::with_capacity(limit);
    let mut held: Vec<Song> = Vec::new();
    for (_, s) in scored {
        if out.len() >= limit {
            break;
        }
        if !seen_content.insert(s.content_hash.clone())
            || !seen_song.insert((s.title.to_lowercase(), s.artist.to_lowercase()))
        {
            continue;
        }
        let n = per_album_count.entry(s.album_key.clone()).or_default();
        if *n >= per_album {
            held.push(s);
            continue;
        }
        *n += 1;
        out.push(s);
    }
    // Not enough other albums: the held-back tracks fill the queue.
    for s in held {
        if out.len() >= limit {
            break;
        }
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_queries_quote_every_term() {
        assert_eq!(fts_query("abba", None).as_deref(), Some("\"abba\"*"));
        assert_eq!(
            fts_query("  \"a\" OR b* NEAR(", None).as_deref(),
            Some("\"a\"* AND \"OR\"* AND \"b*\"* AND \"NEAR(\"*")
        );
        assert_eq!(fts_query("\" * ( ) -", None), None);
        assert_eq!(
            fts_query("x", Some("artist")).as_deref(),
            Some("{artist} : \"x\"*")
        );
    }
}
