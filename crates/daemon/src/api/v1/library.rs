//! The music library over REST (spec "Library (music)"): artists, albums,
//! songs, genres, search, per-track prefs, play events and radio, across
//! every trusted vault. Answers use the media contract's Song, Album and
//! Artist shapes (`holdfast_core::media::library`). `fully_local=true`
//! hides rows this node does not hold every block of. Every parameter is
//! validated and bounded; a bad one answers 400 `{"error"}`, an unknown
//! artist, album or file 404.

use axum::Json;
use axum::extract::{Path, State};
use holdfast_core::media::library::{self, AlbumSort, PlayEvent, PlayKind, SongQuery, SongSort};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::IntoParams;

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// Rows in one page at most.
const MAX_LIMIT: i64 = 1000;
/// Offsets beyond this are refused (no library is that large).
const MAX_OFFSET: i64 = 1_000_000_000;
/// Default page size of the artist and album lists.
const DEFAULT_GRID_LIMIT: i64 = 1000;
/// Default page size of the song list.
const DEFAULT_SONG_LIMIT: i64 = 100;
/// Default number of songs (and albums, artists) a search returns.
const DEFAULT_SEARCH_LIMIT: i64 = 50;
/// Longest artist name or filter value accepted.
const MAX_NAME_CHARS: usize = 512;
/// Events one `POST /play-events` may carry.
const MAX_EVENTS: usize = 1000;
/// Radio queue length: at most and by default.
const MAX_RADIO: i64 = 200;
const DEFAULT_RADIO: i64 = 50;
/// Files reported in a `library_plays` event.
const MAX_EVENT_FILES: usize = 100;

fn limit(v: Option<i64>, default: i64, max: i64) -> ApiResult<i64> {
    let n = v.unwrap_or(default);
    if !(1..=max).contains(&n) {
        return Err(ApiError::bad_request(format!("limit must be 1-{max}")));
    }
    Ok(n)
}

fn offset(v: Option<i64>) -> ApiResult<i64> {
    let n = v.unwrap_or(0);
    if !(0..=MAX_OFFSET).contains(&n) {
        return Err(ApiError::bad_request(format!(
            "offset must be 0-{MAX_OFFSET}"
        )));
    }
    Ok(n)
}

fn order(v: Option<&str>, default_desc: bool) -> ApiResult<bool> {
    match v {
        None => Ok(default_desc),
        Some("asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(_) => Err(ApiError::bad_request("order must be asc or desc")),
    }
}

/// A name given in a path or a filter: 1-512 characters, no control ones.
fn name(field: &str, v: &str) -> ApiResult<String> {
    let n = v.chars().count();
    if n == 0 || n > MAX_NAME_CHARS || v.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "{field} must be 1-{MAX_NAME_CHARS} characters without control characters"
        )));
    }
    Ok(v.to_owned())
}

fn album_key(v: &str) -> ApiResult<String> {
    if v.len() != 24
        || !v
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ApiError::bad_request(
            "album key must be 24 lowercase hex characters",
        ));
    }
    Ok(v.to_owned())
}

fn file_id(v: &str) -> ApiResult<String> {
    if v.len() != 32
        || !v
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ApiError::bad_request(
            "file_id must be 32 lowercase hex characters",
        ));
    }
    Ok(v.to_owned())
}

fn vault_id(v: &str) -> ApiResult<String> {
    if v.is_empty()
        || v.len() > 128
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::bad_request("vault_id is not a vault id"));
    }
    Ok(v.to_owned())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only rows this node holds every block of.
    pub fully_local: Option<bool>,
    /// Page size, 1-1000 (default 1000).
    pub limit: Option<i64>,
    /// Rows skipped, ≥ 0 (default 0).
    pub offset: Option<i64>,
}

/// Artists (by track artist, grouped case-insensitively), A to Z, with
/// track and album counts and one album's cover.
#[utoipa::path(get, path = "/library/artists", tag = "library", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = r#"{"artists":[Artist],"total"}"#, body = Object),
              (status = 400, body = ErrorBody)))]
pub async fn artists(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    let limit = limit(q.limit, DEFAULT_GRID_LIMIT, MAX_LIMIT)?;
    let offset = offset(q.offset)?;
    let local = q.fully_local.unwrap_or(false);
    let page = state
        .media
        .catalog
        .read(move |c| library::artists(c, local, limit, offset))
        .await?;
    Ok(Json(json!({"artists": page.items, "total": page.total})))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocalQuery {
    /// Only rows this node holds every block of.
    pub fully_local: Option<bool>,
}

/// One artist (name URL-encoded, matched case-insensitively): their songs
/// (by album year, album, disc, track) and the albums those are on.
#[utoipa::path(get, path = "/library/artists/{name}", tag = "library", security(("bearer" = [])),
    params(("name" = String, Path, description = "artist name"), LocalQuery),
    responses((status = 200, description = r#"{"name","track_count","albums":[Album],"songs":[Song]}"#, body = Object),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn artist(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<LocalQuery>,
) -> ApiResult<Json<Value>> {
    let n = name("artist name", &raw)?;
    let local = q.fully_local.unwrap_or(false);
    let found = state
        .media
        .catalog
        .read(move |c| library::artist(c, &n, local))
        .await?;
    let Some((name, albums, songs)) = found else {
        return Err(ApiError::not_found("no such artist"));
    };
    Ok(Json(json!({
        "name": name, "track_count": songs.len(), "albums": albums, "songs": songs
    })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlbumsQuery {
    /// `title`, `artist`, `year` or `recent` (newest added first; default `title`).
    pub sort: Option<String>,
    /// `asc` or `desc` (default: `desc` for year and recent, else `asc`).
    pub order: Option<String>,
    /// Only rows this node holds every block of.
    pub fully_local: Option<bool>,
    /// Page size, 1-1000 (default 1000).
    pub limit: Option<i64>,
    /// Albums skipped, ≥ 0.
    pub offset: Option<i64>,
}

/// The album grid: albums grouped by album key (album artist + title).
#[utoipa::path(get, path = "/library/albums", tag = "library", security(("bearer" = [])),
    params(AlbumsQuery),
    responses((status = 200, description = r#"{"albums":[Album],"total"}"#, body = Object),
              (status = 400, body = ErrorBody)))]
pub async fn albums(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AlbumsQuery>,
) -> ApiResult<Json<Value>> {
    let sort = match q.sort.as_deref() {
        None => AlbumSort::Title,
        Some(s) => AlbumSort::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "sort must be one of {}",
                AlbumSort::NAMES.join(", ")
            ))
        })?,
    };
    let desc = order(q.order.as_deref(), sort.default_desc())?;
    let limit = limit(q.limit, DEFAULT_GRID_LIMIT, MAX_LIMIT)?;
    let offset = offset(q.offset)?;
    let local = q.fully_local.unwrap_or(false);
    let page = state
        .media
        .catalog
        .read(move |c| library::albums(c, sort, desc, local, limit, offset))
        .await?;
    Ok(Json(json!({"albums": page.items, "total": page.total})))
}

/// One album and its tracklist in disc, track, title order.
#[utoipa::path(get, path = "/library/albums/{key}", tag = "library", security(("bearer" = [])),
    params(("key" = String, Path, description = "album key (24 hex)"), LocalQuery),
    responses((status = 200, description = r#"Album + "songs":[Song]"#, body = Object),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn album(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    ApiQuery(q): ApiQuery<LocalQuery>,
) -> ApiResult<Json<Value>> {
    let key = album_key(&raw)?;
    let local = q.fully_local.unwrap_or(false);
    let found = state
        .media
        .catalog
        .read(move |c| library::album_detail(c, &key, local))
        .await?;
    let Some((album, songs)) = found else {
        return Err(ApiError::not_found("no such album"));
    };
    let mut v = serde_json::to_value(album).map_err(ApiError::internal)?;
    v["songs"] = serde_json::to_value(songs).map_err(ApiError::internal)?;
    Ok(Json(v))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SongsQuery {
    /// `title`, `artist`, `album`, `year`, `added`, `plays` or `duration` (default `title`).
    pub sort: Option<String>,
    /// `asc` or `desc` (default: `desc` for added and plays, else `asc`).
    pub order: Option<String>,
    /// Page size, 1-1000 (default 100).
    pub limit: Option<i64>,
    /// Songs skipped, ≥ 0.
    pub offset: Option<i64>,
    /// Only rows this node holds every block of.
    pub fully_local: Option<bool>,
    /// Only this genre (case-insensitive).
    pub genre: Option<String>,
    /// Only tracks whose artist or album artist is this (case-insensitive).
    pub artist: Option<String>,
    /// Only this album.
    pub album_key: Option<String>,
}

/// The flat song list, sorted and paged.
#[utoipa::path(get, path = "/library/songs", tag = "library", security(("bearer" = [])),
    params(SongsQuery),
    responses((status = 200, description = r#"{"songs":[Song],"total","offset","limit"}"#, body = Object),
              (status = 400, body = ErrorBody)))]
pub async fn songs(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SongsQuery>,
) -> ApiResult<Json<Value>> {
    let sort = match q.sort.as_deref() {
        None => SongSort::Title,
        Some(s) => SongSort::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "sort must be one of {}",
                SongSort::NAMES.join(", ")
            ))
        })?,
    };
    let query = SongQuery {
        sort,
        desc: order(q.order.as_deref(), sort.default_desc())?,
        limit: limit(q.limit, DEFAULT_SONG_LIMIT, MAX_LIMIT)?,
        offset: offset(q.offset)?,
        local_only: q.fully_local.unwrap_or(false),
        genre: q.genre.as_deref().map(|g| name("genre", g)).transpose()?,
        artist: q.artist.as_deref().map(|a| name("artist", a)).transpose()?,
        album_key: q.album_key.as_deref().map(album_key).transpose()?,
    };
    let (limit, offset) = (query.limit, query.offset);
    let page = state
        .media
        .catalog
        .read(move |c| library::songs(c, &query))
        .await?;
    Ok(Json(json!({
        "songs": page.items, "total": page.total, "offset": offset, "limit": limit
    })))
}

/// Genres and their track counts, most tracks first (tracks without a
/// genre are left out).
#[utoipa::path(get, path = "/library/genres", tag = "library", security(("bearer" = [])),
    params(LocalQuery),
    responses((status = 200, description = r#"{"genres":[{"name","track_count"}]}"#, body = Object),
              (status = 400, body = ErrorBody)))]
pub async fn genres(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<LocalQuery>,
) -> ApiResult<Json<Value>> {
    let local = q.fully_local.unwrap_or(false);
    let genres = state
        .media
        .catalog
        .read(move |c| library::genres(c, local))
        .await?;
    Ok(Json(json!({ "genres": genres })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to look for, 1-200 characters: every word must match the start
    /// of a word of the title, artist, album or genre (accents ignored).
    pub q: Option<String>,
    /// Songs (and albums, artists) at most, 1-1000 (default 50).
    pub limit: Option<i64>,
    /// Only rows this node holds every block of.
    pub fully_local: Option<bool>,
}

/// Full-text search (SQLite FTS5, prefix match on each word; what is typed
/// is never FTS5 syntax).
#[utoipa::path(get, path = "/library/search", tag = "library", security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, description = r#"{"q","songs":[Song],"albums":[Album],"artists":[Artist]}"#, body = Object),
              (status = 400, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(sq): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Value>> {
    let q = sq.q.unwrap_or_default();
    let n = q.chars().count();
    if n == 0 || n > library::MAX_QUERY_CHARS || q.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "q must be 1-{} characters without control characters",
            library::MAX_QUERY_CHARS
        )));
    }
    let limit = limit(sq.limit, DEFAULT_SEARCH_LIMIT, MAX_LIMIT)?;
    let local = sq.fully_local.unwrap_or(false);
    let qq = q.clone();
    let r = state
        .media
        .catalog
        .read(move |c| library::search(c, &qq, limit, local))
        .await?;
    Ok(Json(json!({
        "q": q, "songs": r.songs, "albums": r.albums, "artists": r.artists
    })))
}

/// A track's prefs and counters (defaults when never set).
#[utoipa::path(get, path = "/library/prefs/{vault_id}/{file_id}", tag = "library", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("file_id" = String, Path, description = "32 lowercase hex")),
    responses((status = 200, description = r#"{"vault_id","file_id","rating","skip","play_count","skip_count","last_played_ms"}"#, body = Object),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_prefs(
    State(state): State<AppState>,
    Path((vid, fid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (vid, fid) = (vault_id(&vid)?, file_id(&fid)?);
    let p = state
        .media
        .catalog
        .read(move |c| library::prefs(c, &vid, &fid))
        .await?
        .ok_or_else(|| ApiError::not_found("no such file in the library"))?;
    Ok(Json(serde_json::to_value(p).map_err(ApiError::internal)?))
}

/// Set a track's rating (0-5, `null` clears it) and skip flag (left out
/// of radio); fields left out stay.
#[utoipa::path(put, path = "/library/prefs/{vault_id}/{file_id}", tag = "library", security(("bearer" = [])),
    params(("vault_id" = String, Path), ("file_id" = String, Path, description = "32 lowercase hex")),
    request_body(content = Object, description = r#"{"rating":0-5|null,"skip":bool}, both optional"#),
    responses((status = 200, description = "the prefs, as GET answers", body = Object),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_prefs(
    State(state): State<AppState>,
    Path((vid, fid)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let (vid, fid) = (vault_id(&vid)?, file_id(&fid)?);
    let mut rating = None;
    let mut skip = None;
    for (k, v) in &body {
        match k.as_str() {
            "rating" => {
                rating = Some(match v {
                    Value::Null => None,
                    Value::Number(n) => match n.as_u64() {
                        Some(r) if r <= 5 => Some(r as u8),
                        _ => return Err(ApiError::bad_request("rating must be 0-5 or null")),
                    },
                    _ => return Err(ApiError::bad_request("rating must be 0-5 or null")),
                })
            }
            "skip" => {
                skip = Some(
                    v.as_bool()
                        .ok_or_else(|| ApiError::bad_request("skip must be true or false"))?,
                )
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "{other}: not a pref (rating, skip)"
                )));
            }
        }
    }
    let p = state
        .media
        .catalog
        .write(move |c| library::set_prefs(c, &vid, &fid, rating, skip))
        .await?
        .ok_or_else(|| ApiError::not_found("no such file in the library"))?;
    Ok(Json(serde_json::to_value(p).map_err(ApiError::internal)?))
}

fn play_event(v: &Value, now: i64) -> ApiResult<PlayEvent> {
    let o = v
        .as_object()
        .ok_or_else(|| ApiError::bad_request("each event must be an object"))?;
    for k in o.keys() {
        if !["vault_id", "file_id", "kind", "position_ms", "ts_ms"].contains(&k.as_str()) {
            return Err(ApiError::bad_request(format!(
                "{k}: not an event field (vault_id, file_id, kind, position_ms, ts_ms)"
            )));
        }
    }
    let text = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request(format!("{k} is required (a string)")))
    };
    let kind = match text("kind")? {
        "play" => PlayKind::Play,
        "skip" => PlayKind::Skip,
        _ => return Err(ApiError::bad_request("kind must be play or skip")),
    };
    let ms = |k: &str, max: i64| -> ApiResult<Option<i64>> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_i64() {
                Some(n) if (0..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::bad_request(format!("{k} must be 0-{max}"))),
            },
        }
    };
    // No event from the future (a minute of clock skew allowed).
    let ts_ms = ms("ts_ms", now + 60_000)?.unwrap_or(now);
    Ok(PlayEvent {
        vault_id: vault_id(text("vault_id")?)?,
        file_id: file_id(text("file_id")?)?,
        kind,
        position_ms: ms("position_ms", 7 * 24 * 3_600_000)?,
        ts_ms,
    })
}

/// Record plays and skips: each bumps the track's play or skip count (and
/// last played time); at most 1000 events a request, the newest 100,000
/// kept. Events for files the library does not have are skipped (counted
/// in `skipped`, not an error). Emits `library_plays`.
#[utoipa::path(post, path = "/play-events", tag = "library", security(("bearer" = [])),
    request_body(content = Object, description = r#"{"events":[{"vault_id","file_id","kind":"play"|"skip","position_ms"?,"ts_ms"?}]}, a bare array of events, or one event"#),
    responses((status = 200, description = r#"{"accepted":n,"skipped":n}"#, body = Object),
              (status = 400, body = ErrorBody)))]
pub async fn play_events(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let list: Vec<Value> = match body {
        Value::Array(a) => a,
        Value::Object(mut o) if o.contains_key("events") => {
            if o.len() != 1 {
                return Err(ApiError::bad_request("a batch has only \"events\""));
            }
            match o.remove("events") {
                Some(Value::Array(a)) => a,
                _ => return Err(ApiError::bad_request("events must be an array")),
            }
        }
        o @ Value::Object(_) => vec![o],
        _ => return Err(ApiError::bad_request("expected events")),
    };
    if list.len() > MAX_EVENTS {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_EVENTS} events a request"
        )));
    }
    let now = holdfast_core::time::now_ms();
    let events = list
        .iter()
        .map(|v| play_event(v, now))
        .collect::<ApiResult<Vec<_>>>()?;
    let done = state
        .media
        .catalog
        .write(move |c| library::record_plays(c, &events))
        .await?;
    if done.accepted > 0 {
        let files: Vec<_> = done.files.iter().take(MAX_EVENT_FILES).collect();
        state.events.publish(
            "library_plays",
            json!({"accepted": done.accepted, "files": files}),
        );
    }
    Ok(Json(
        json!({"accepted": done.accepted, "skipped": done.skipped}),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RadioQuery {
    /// Only tracks this node holds every block of.
    pub only_local: Option<bool>,
}

/// A radio queue from a seed track: tracks sharing its artist, genre or
/// era (year within ±5) first, with some deterministic variety; never the
/// seed, tracks marked skip, or a second copy of one recording.
#[utoipa::path(post, path = "/library/radio", tag = "library", security(("bearer" = [])),
    params(RadioQuery),
    request_body(content = Object, description = r#"{"vault_id","file_id","limit"?:1-200} or {"seed":{"vault_id","file_id"},"limit"?}"#),
    responses((status = 200, description = r#"{"seed":Song,"songs":[Song]}"#, body = Object),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn radio(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RadioQuery>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    for k in body.keys() {
        if !["vault_id", "file_id", "seed", "limit"].contains(&k.as_str()) {
            return Err(ApiError::bad_request(format!(
                "{k}: not a radio field (vault_id, file_id, seed, limit)"
            )));
        }
    }
    let seed = match body.get("seed") {
        Some(Value::Object(s)) => s,
        Some(_) => return Err(ApiError::bad_request("seed must be an object")),
        None => &body,
    };
    let field = |k: &str| {
        seed.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request(format!("{k} is required (a string)")))
    };
    let vid = vault_id(field("vault_id")?)?;
    let fid = file_id(field("file_id")?)?;
    let lim = match body.get("limit") {
        None | Some(Value::Null) => DEFAULT_RADIO,
        Some(v) => v
            .as_i64()
            .filter(|n| (1..=MAX_RADIO).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("limit must be 1-{MAX_RADIO}")))?,
    };
    let local = q.only_local.unwrap_or(false);
    let found = state
        .media
        .catalog
        .read(move |c| {
            let Some(seed) = library::song_by_id(c, &vid, &fid)? else {
                return Ok(None);
            };
            let songs = library::radio(c, &seed, lim as usize, local)?;
            Ok(Some((seed, songs)))
        })
        .await?;
    let Some((seed, songs)) = found else {
        return Err(ApiError::not_found("no such file in the library"));
    };
    Ok(Json(json!({"seed": seed, "songs": songs})))
}
