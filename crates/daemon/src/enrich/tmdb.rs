//! TMDB lookups for video files: a film or show searched by the title and
//! year its file name gives, or a chosen TMDB id's details. Used only with
//! the owner's key (`/settings`): a v3 API key goes as `api_key=`, a v4 read
//! token (a JWT) as `Authorization: Bearer`. Without a key nothing is sent
//! and the result says so. Results go to `media_video_meta`; the owner's
//! override (`media_video_overrides`) is never touched by a lookup.

use holdfast_core::catalog::{Catalog, CatalogError};
use holdfast_core::media::video::{self, Match, MediaType, Parsed, status};
use holdfast_core::settings::{Service, Settings};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{LookupError, client, get_json};

const SERVICE: &str = "TMDB";
/// Files retried per settings change.
const RETRY_BATCH: usize = 500;

fn request(svc: &Service, path: &str, query: &[(&str, String)]) -> reqwest::RequestBuilder {
    let key = svc.api_key.as_deref().unwrap_or_default();
    let mut url = match reqwest::Url::parse(&format!("{}{path}", svc.base_url)) {
        Ok(u) => u,
        // The base URL is validated by `/settings`; this cannot really happen.
        Err(_) => reqwest::Url::parse("http://invalid.invalid/").expect("valid"),
    };
    let mut pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if !is_read_token(key) {
        pairs.push(("api_key", key));
    }
    if !pairs.is_empty() {
        url.query_pairs_mut().extend_pairs(pairs);
    }
    let req = client().get(url).header("Accept", "application/json");
    if is_read_token(key) {
        req.bearer_auth(key)
    } else {
        req
    }
}

/// A v4 read access token (a JWT) rather than a v3 API key.
fn is_read_token(key: &str) -> bool {
    key.starts_with("eyJ")
}

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(video::MAX_PLOT_CHARS).collect())
}

/// A TMDB search result or details answer as a [`Match`].
fn to_match(v: &Value, media_type: MediaType) -> Option<Match> {
    let id = v["id"].as_i64()?;
    let (title_key, date_key) = match media_type {
        MediaType::Movie => ("title", "release_date"),
        MediaType::Tv => ("name", "first_air_date"),
    };
    let title = text(&v[title_key]).or_else(|| text(&v["original_title"]))?;
    let year = v[date_key]
        .as_str()
        .and_then(|d| d.get(..4))
        .and_then(|y| y.parse().ok());
    let poster_path = text(&v["poster_path"]).filter(|p| {
        p.starts_with('/')
            && p.len() < 200
            && p[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    });
    Some(Match {
        tmdb_id: Some(id),
        media_type: Some(media_type),
        title: title.chars().take(video::MAX_TITLE_CHARS).collect(),
        year,
        plot: text(&v["overview"]),
        poster_path,
    })
}

/// Search TMDB for what `parsed` names; its best (first) result.
pub async fn search(svc: &Service, parsed: &Parsed) -> Result<Option<Match>, LookupError> {
    if svc.api_key.is_none() {
        return Err(LookupError::NoKey(SERVICE));
    }
    let (path, year_param) = match parsed.media_type {
        MediaType::Movie => ("/search/movie", "year"),
        MediaType::Tv => ("/search/tv", "first_air_date_year"),
    };
    let mut query = vec![("query", parsed.title.clone())];
    if let Some(y) = parsed.year {
        query.push((year_param, y.to_string()));
    }
    let answer = get_json(SERVICE, request(svc, path, &query)).await?;
    let results = answer["results"]
        .as_array()
        .ok_or(LookupError::BadAnswer(SERVICE))?;
    Ok(results.iter().find_map(|r| to_match(r, parsed.media_type)))
}

/// The details of TMDB id `id`.
pub async fn details(svc: &Service, media_type: MediaType, id: i64) -> Result<Match, LookupError> {
    if svc.api_key.is_none() {
        return Err(LookupError::NoKey(SERVICE));
    }
    let path = format!("/{}/{id}", media_type.as_str());
    let answer = get_json(SERVICE, request(svc, &path, &[])).await?;
    to_match(&answer, media_type).ok_or(LookupError::BadAnswer(SERVICE))
}

/// Look `path` up from its name with the settings in force and store the
/// result (a missing key or a failure is stored too, with its message).
pub async fn lookup_and_store(
    catalog: &Catalog,
    settings: &Settings,
    vault_id: &str,
    path: &str,
) -> Result<(), CatalogError> {
    let parsed = video::parse_name(path);
    let svc = settings.current().tmdb;
    let (st, found, message) = match search(&svc, &parsed).await {
        Ok(Some(m)) => (status::MATCHED, Some(m), None),
        Ok(None) => (
            status::NO_MATCH,
            None,
            Some(format!(
                "TMDB knows nothing called \"{}\"{}",
                parsed.title,
                parsed
                    .year
                    .map(|y| format!(" from {y}"))
                    .unwrap_or_default()
            )),
        ),
        Err(e @ LookupError::NoKey(_)) => (status::NO_KEY, None, Some(e.to_string())),
        Err(e) => (status::ERROR, None, Some(e.to_string())),
    };
    if st == status::ERROR {
        tracing::info!(
            vault_id,
            "TMDB lookup failed: {}",
            message.as_deref().unwrap_or("")
        );
    }
    let (vid, p) = (vault_id.to_owned(), path.to_owned());
    catalog
        .write(move |c| {
            video::store_lookup(c, &vid, &p, &parsed, st, found.as_ref(), message.as_deref())
        })
        .await
}

/// Retry lookups that ended without a key or in an error whenever the TMDB
/// settings change (a key was added, the URL fixed). Ends with `shutdown`.
pub fn spawn_retries(catalog: Catalog, settings: Settings, shutdown: CancellationToken) {
    let mut rx = settings.subscribe();
    tokio::spawn(async move {
        let mut seen = rx.borrow_and_update().tmdb.clone();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = rx.changed() => if changed.is_err() { return },
            }
            let now = rx.borrow_and_update().tmdb.clone();
            if now == seen {
                continue;
            }
            seen = now;
            let todo = catalog
                .read(|c| {
                    video::lookups_with_status(c, &[status::NO_KEY, status::ERROR], RETRY_BATCH)
                })
                .await
                .unwrap_or_default();
            for (vault_id, path) in todo {
                if shutdown.is_cancelled() {
                    return;
                }
                if let Err(e) = lookup_and_store(&catalog, &settings, &vault_id, &path).await {
                    tracing::warn!("storing a TMDB lookup failed: {e}");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_become_matches() {
        let m = to_match(
            &json!({"id": 603, "title": "The Matrix", "release_date": "1999-03-30",
                    "overview": "Neo.", "poster_path": "/abc.jpg"}),
            MediaType::Movie,
        )
        .unwrap();
        assert_eq!(m.title, "The Matrix");
        assert_eq!(m.year, Some(1999));
        assert_eq!(m.poster_path.as_deref(), Some("/abc.jpg"));
        let m = to_match(
            &json!({"id": 1, "name": "Show", "first_air_date": "", "poster_path": "/../x"}),
            MediaType::Tv,
        )
        .unwrap();
        assert_eq!((m.year, m.poster_path), (None, None));
        assert!(to_match(&json!({"title": "no id"}), MediaType::Movie).is_none());
    }

    #[test]
    fn keys_travel_by_their_kind() {
        let svc = |k: &str| Service {
            api_key: Some(k.into()),
            base_url: "http://127.0.0.1:9/3".into(),
        };
        let r = request(&svc("v3key"), "/search/movie", &[("query", "A B".into())])
            .build()
            .unwrap();
        assert_eq!(
            r.url().as_str(),
            "http://127.0.0.1:9/3/search/movie?query=A+B&api_key=v3key"
        );
        assert!(r.headers().get("authorization").is_none());
        let r = request(&svc("eyJhbGciOi.x.y"), "/movie/603", &[])
            .build()
            .unwrap();
        assert_eq!(r.url().as_str(), "http://127.0.0.1:9/3/movie/603");
        assert_eq!(r.headers()["authorization"], "Bearer eyJhbGciOi.x.y");
    }
}
