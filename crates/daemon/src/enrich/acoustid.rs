//! AcoustID lookups: a fingerprinted track's recording, title, artist and
//! album from AcoustID's web service (`GET {base}/lookup?client=KEY&meta=
//! recordings+releasegroups&duration=S&fingerprint=FP`). Only with a key
//! set in `/settings`; without one the result says so and nothing is sent.
//! The best match is kept per content hash in `media_acoustid` and shown in
//! `meta`; it never overwrites tags (the owner applies it with `PUT meta`).
//!
//! A background worker looks up fingerprinted tracks that have no lookup
//! yet, a few per second at most (AcoustID asks for no more than three),
//! and starts over when the key or URL changes: lookups that ended without
//! a key or in an error are tried again with the new settings.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use holdfast_core::Catalog;
use holdfast_core::events::EventBus;
use holdfast_core::settings::{Service, Settings};
use holdfast_core::time::now_ms;
use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;

use super::{LookupError, client, get_json};

pub const SERVICE: &str = "AcoustID";
/// Time between two requests to the service (AcoustID allows 3/s).
const GAP: Duration = Duration::from_millis(350);
/// Failed lookups are tried again after this long.
const RETRY_ERRORS_MS: i64 = 60 * 60 * 1000;
/// Lookups per round of the worker.
const BATCH: i64 = 32;
/// Longest text kept from an answer's field.
const MAX_TEXT: usize = 512;

/// Statuses of a lookup (`media_acoustid.status`).
pub mod status {
    pub const MATCHED: &str = "matched";
    pub const NO_MATCH: &str = "no_match";
    pub const NO_KEY: &str = "no_key";
    pub const ERROR: &str = "error";
    pub const PENDING: &str = "pending";
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: &'static str,
    /// The best match: `{"recording_id","title","artist","album","score"}`.
    pub result: Option<Value>,
    pub message: Option<String>,
}

static LAST_REQUEST: LazyLock<Mutex<Option<Instant>>> = LazyLock::new(|| Mutex::new(None));
static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Ask the worker to look for tracks to look up.
pub fn nudge() {
    WAKE.notify_one();
}

/// Look `fingerprint` (of a track `duration_s` long) up at `svc`.
pub async fn lookup(
    http: &reqwest::Client,
    svc: &Service,
    fingerprint: &str,
    duration_s: u32,
) -> Outcome {
    let Some(key) = svc.api_key.as_deref() else {
        return Outcome {
            status: status::NO_KEY,
            result: None,
            message: Some(LookupError::NoKey(SERVICE).to_string()),
        };
    };
    {
        // One request at a time, spaced out, across the worker and routes.
        let mut last = LAST_REQUEST.lock().await;
        if let Some(t) = *last {
            let since = t.elapsed();
            if since < GAP {
                tokio::time::sleep(GAP - since).await;
            }
        }
        *last = Some(Instant::now());
    }
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client", key)
        .append_pair("meta", "recordings releasegroups")
        .append_pair("duration", &duration_s.max(1).to_string())
        .append_pair("fingerprint", fingerprint)
        .finish();
    let req = http.get(format!("{}/lookup?{query}", svc.base_url));
    let answer = match get_json(SERVICE, req).await {
        Ok(v) => v,
        Err(e) => {
            return Outcome {
                status: status::ERROR,
                result: None,
                message: Some(e.to_string()),
            };
        }
    };
    read_answer(&answer, key)
}

fn text(v: &Value) -> Option<String> {
    let s = v.as_str()?.trim();
    (!s.is_empty()).then(|| s.chars().take(MAX_TEXT).collect())
}

/// The best match in a lookup answer (highest score with a titled recording).
fn read_answer(answer: &Value, key: &str) -> Outcome {
    if answer["status"] != "ok" {
        let why = text(&answer["error"]["message"])
            .map(|m| m.replace(key, "…"))
            .unwrap_or_else(|| "no reason given".into());
        return Outcome {
            status: status::ERROR,
            result: None,
            message: Some(format!("{SERVICE} refused the lookup: {why}")),
        };
    }
    let mut results: Vec<&Value> = answer["results"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    results.sort_by(|a, b| {
        let (a, b) = (a["score"].as_f64(), b["score"].as_f64());
        b.unwrap_or(0.0).total_cmp(&a.unwrap_or(0.0))
    });
    for r in results {
        let Some(recordings) = r["recordings"].as_array() else {
            continue;
        };
        for rec in recordings {
            let Some(title) = text(&rec["title"]) else {
                continue;
            };
            let artist = rec["artists"].as_array().map(|artists| {
                let mut s = String::new();
                for (i, a) in artists.iter().enumerate() {
                    s.push_str(a["name"].as_str().unwrap_or(""));
                    match a["joinphrase"].as_str() {
                        Some(j) => s.push_str(j),
                        None if i + 1 < artists.len() => s.push_str(", "),
                        None => {}
                    }
                }
                s.trim().chars().take(MAX_TEXT).collect::<String>()
            });
            let album = rec["releasegroups"]
                .as_array()
                .and_then(|g| g.iter().find_map(|g| text(&g["title"])));
            return Outcome {
                status: status::MATCHED,
                result: Some(json!({
                    "recording_id": text(&rec["id"]),
                    "title": title,
                    "artist": artist.filter(|a| !a.is_empty()),
                    "album": album,
                    "score": r["score"].as_f64(),
                })),
                message: None,
            };
        }
    }
    Outcome {
        status: status::NO_MATCH,
        result: None,
        message: Some(format!("{SERVICE} knows no recording for this fingerprint")),
    }
}

/// Record a lookup's outcome for `content_hash`.
pub async fn store(catalog: &Catalog, content_hash: &str, o: &Outcome) -> anyhow::Result<()> {
    let (hash, status, result, message) = (
        content_hash.to_owned(),
        o.status,
        o.result.as_ref().map(Value::to_string),
        o.message.clone(),
    );
    catalog
        .write(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO media_acoustid (content_hash, status, result, message, looked_up_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![hash, status, result, message, now_ms()],
            )
        })
        .await?;
    Ok(())
}

/// A stored lookup: (status, result, message).
pub async fn load(
    catalog: &Catalog,
    content_hash: &str,
) -> anyhow::Result<Option<(String, Option<Value>, Option<String>)>> {
    let hash = content_hash.to_owned();
    Ok(catalog
        .read(move |c| {
            c.query_row(
                "SELECT status, result, message FROM media_acoustid WHERE content_hash = ?1",
                [hash],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?
                            .and_then(|s| serde_json::from_str(&s).ok()),
                        r.get::<_, Option<String>>(2)?,
                    ))
                },
            )
            .optional()
        })
        .await?)
}

/// Look up the stored fingerprint of `content_hash` now and record the
/// outcome (nothing happens when it has no fingerprint).
pub async fn lookup_and_store(
    catalog: &Catalog,
    settings: &Settings,
    content_hash: &str,
) -> anyhow::Result<Option<Outcome>> {
    let hash = content_hash.to_owned();
    let fp: Option<(String, u32)> = catalog
        .read(move |c| {
            c.query_row(
                "SELECT fingerprint, COALESCE((duration_ms + 500) / 1000, fp_duration_s, 0)
                 FROM media_analysis WHERE content_hash = ?1 AND fingerprint IS NOT NULL",
                [hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .await?;
    let Some((fingerprint, duration)) = fp else {
        return Ok(None);
    };
    let svc = settings.current().acoustid;
    let outcome = lookup(&client(), &svc, &fingerprint, duration).await;
    store(catalog, content_hash, &outcome).await?;
    Ok(Some(outcome))
}

/// Start the lookup worker; it ends with `shutdown`.
pub fn spawn(catalog: Catalog, settings: Settings, events: EventBus, shutdown: CancellationToken) {
    tokio::spawn(run(catalog, settings, events, shutdown));
}

async fn run(catalog: Catalog, settings: Settings, events: EventBus, shutdown: CancellationToken) {
    let http = client();
    let mut rx = settings.subscribe();
    let mut bus = events.subscribe();
    let mut current = rx.borrow_and_update().acoustid.clone();
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        // New key or URL: what failed for want of them is tried again.
        {
            let svc = rx.borrow_and_update().acoustid.clone();
            if svc != current {
                current = svc;
                let r = catalog
                    .write(|c| {
                        c.execute(
                            "DELETE FROM media_acoustid WHERE status IN ('no_key', 'error')",
                            [],
                        )
                    })
                    .await;
                if let Err(e) = r {
                    tracing::warn!("acoustid: cannot reset lookups: {e}");
                }
            }
        }
        let due = match candidates(&catalog).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!("acoustid: cannot list tracks to look up: {e}");
                Vec::new()
            }
        };
        let mut interrupted = false;
        for (hash, fingerprint, duration) in &due {
            if rx.has_changed().unwrap_or(false) {
                interrupted = true;
                break;
            }
            let outcome = tokio::select! {
                _ = shutdown.cancelled() => return,
                o = lookup(&http, &current, fingerprint, *duration) => o,
            };
            if let Err(e) = store(&catalog, hash, &outcome).await {
                tracing::warn!("acoustid: cannot record a lookup: {e}");
            }
        }
        if interrupted || due.len() as i64 == BATCH {
            continue;
        }
        // Wait for news: new settings, new fingerprints, or the clock.
        let sleep = tokio::time::sleep(Duration::from_secs(30));
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                r = rx.changed() => {
                    if r.is_err() {
                        return;
                    }
                    break;
                }
                _ = WAKE.notified() => break,
                _ = &mut sleep => break,
                ev = bus.recv() => match ev {
                    Ok(ev) if ev.get("type").and_then(Value::as_str) == Some("library_changed") => break,
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }
}

/// Fingerprinted tracks of the library without a (current) lookup.
async fn candidates(catalog: &Catalog) -> anyhow::Result<Vec<(String, String, u32)>> {
    let retry_before = now_ms() - RETRY_ERRORS_MS;
    Ok(catalog
        .read(move |c| {
            let mut stmt = c.prepare(
                "SELECT a.content_hash, a.fingerprint,
                        COALESCE((a.duration_ms + 500) / 1000, a.fp_duration_s, 0)
                 FROM media_analysis a LEFT JOIN media_acoustid l ON l.content_hash = a.content_hash
                 WHERE a.fingerprint IS NOT NULL
                   AND (l.content_hash IS NULL OR (l.status = 'error' AND l.looked_up_ms < ?1))
                   AND EXISTS (SELECT 1 FROM media_files f WHERE f.content_hash = a.content_hash)
                 LIMIT ?2",
            )?;
            stmt.query_map(params![retry_before, BATCH], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect()
        })
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_titled_recording_wins() {
        let answer = json!({"status": "ok", "results": [
            {"id": "a", "score": 0.5, "recordings": [{"id": "r1", "title": "Low"}]},
            {"id": "b", "score": 0.9},
            {"id": "c", "score": 0.8, "recordings": [{"id": "r2", "title": "High",
                "artists": [{"name": "X", "joinphrase": " feat. "}, {"name": "Y"}],
                "releasegroups": [{"title": "Album"}]}]},
        ]});
        let o = read_answer(&answer, "k");
        assert_eq!(o.status, status::MATCHED);
        let r = o.result.unwrap();
        assert_eq!(r["recording_id"], "r2");
        assert_eq!(r["artist"], "X feat. Y");
        assert_eq!(r["album"], "Album");
        assert_eq!(r["score"], 0.8);
        let o = read_answer(&json!({"status": "ok", "results": []}), "k");
        assert_eq!(o.status, status::NO_MATCH);
        let o = read_answer(
            &json!({"status": "error", "error": {"code": 4, "message": "invalid API key secret-k"}}),
            "secret-k",
        );
        assert_eq!(o.status, status::ERROR);
        assert!(!o.message.unwrap().contains("secret-k"));
    }
}
