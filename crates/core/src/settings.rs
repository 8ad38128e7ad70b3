//! Runtime settings the owner edits over REST (`GET/PUT /settings`): the
//! enrichment services' API keys and base URLs. Kept in the catalog
//! (`runtime_settings`, migration 0020); every change is published on a
//! watch channel so the enrichment workers pick new keys up at once. API keys
//! are never shown back whole: [`Settings::view`] masks them.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::catalog::{Catalog, CatalogError};
use crate::time::now_ms;

pub const DEFAULT_ACOUSTID_URL: &str = "https://api.acoustid.org/v2";
pub const DEFAULT_TMDB_URL: &str = "https://api.themoviedb.org/3";
/// Longest API key accepted (TMDB's v4 read tokens are JWTs of ~250 chars).
pub const MAX_KEY_CHARS: usize = 1024;
pub const MAX_URL_CHARS: usize = 512;

/// One lookup service: its key (absent: lookups say so) and where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub api_key: Option<String>,
    pub base_url: String,
}

/// The settings in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub acoustid: Service,
    pub tmdb: Service,
    /// Compute audio fingerprints while analysing (they cost a decode).
    pub fingerprint_audio: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A field failed validation; the message names it.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// What a field is, for validation and for the view.
#[derive(Clone, Copy)]
enum Field {
    Secret,
    Url(&'static str),
    Bool(bool),
}

const FIELDS: &[(&str, Field)] = &[
    ("acoustid_api_key", Field::Secret),
    ("acoustid_base_url", Field::Url(DEFAULT_ACOUSTID_URL)),
    ("tmdb_api_key", Field::Secret),
    ("tmdb_base_url", Field::Url(DEFAULT_TMDB_URL)),
    ("fingerprint_audio", Field::Bool(true)),
];

#[derive(Clone)]
pub struct Settings {
    catalog: Catalog,
    tx: watch::Sender<Snapshot>,
}

impl Settings {
    /// Load what the catalog holds.
    pub async fn load(catalog: Catalog) -> Result<Self, SettingsError> {
        let stored = read_all(&catalog).await?;
        let (tx, _) = watch::channel(snapshot(&stored));
        Ok(Self { catalog, tx })
    }

    pub fn current(&self) -> Snapshot {
        self.tx.borrow().clone()
    }

    /// Changes, for workers that restart when their keys change.
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.tx.subscribe()
    }

    /// The settings as `GET /settings` shows them: keys masked.
    pub async fn view(&self) -> Result<Value, SettingsError> {
        let stored = read_all(&self.catalog).await?;
        Ok(view(&stored))
    }

    /// Apply a partial update: fields left out stay; `null` or `""` clears
    /// a key or restores a URL's default; a key sent back exactly as
    /// [`Settings::view`] masked it stays as it is. `*_set` fields (read-only)
    /// are accepted and ignored so a client may send back what it read.
    /// Returns the new view and the names of the fields that changed.
    pub async fn update(
        &self,
        patch: Map<String, Value>,
    ) -> Result<(Value, Vec<String>), SettingsError> {
        let mut stored = read_all(&self.catalog).await?;
        let mut writes: Vec<(String, Option<String>)> = Vec::new();
        for (name, value) in &patch {
            if let Some(base) = name.strip_suffix("_set")
                && matches!(field(base), Some(Field::Secret))
            {
                continue;
            }
            let kind = field(name)
                .ok_or_else(|| SettingsError::Invalid(format!("{name}: not a setting")))?;
            let new = validate(name, kind, value, stored.get(name.as_str()))?;
            if new.as_deref() != stored.get(name.as_str()).map(String::as_str) {
                writes.push((name.clone(), new));
            }
        }
        if !writes.is_empty() {
            let rows = writes.clone();
            self.catalog
                .write(move |c| {
                    let tx = c.transaction()?;
                    for (k, v) in &rows {
                        match v {
                            Some(v) => tx.execute(
                                "INSERT INTO runtime_settings (key, value, updated_ms) VALUES (?1, ?2, ?3)
                                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms",
                                rusqlite::params![k, v, now_ms()],
                            )?,
                            None => tx.execute("DELETE FROM runtime_settings WHERE key = ?1", [k])?,
                        };
                    }
                    tx.commit()
                })
                .await?;
            for (k, v) in &writes {
                match v {
                    Some(v) => stored.insert(k.clone(), v.clone()),
                    None => stored.remove(k),
                };
            }
            self.tx.send_replace(snapshot(&stored));
        }
        let changed = writes.into_iter().map(|(k, _)| k).collect();
        Ok((view(&stored), changed))
    }
}

fn field(name: &str) -> Option<Field> {
    FIELDS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// The stored form of `value` for setting `name`, or `None` to remove it.
fn validate(
    name: &str,
    kind: Field,
    value: &Value,
    current: Option<&String>,
) -> Result<Option<String>, SettingsError> {
    let bad = |why: &str| SettingsError::Invalid(format!("{name}: {why}"));
    match kind {
        Field::Bool(_) => match value {
            Value::Bool(b) => Ok(Some(b.to_string())),
            Value::Null => Ok(None),
            _ => Err(bad("must be true or false")),
        },
        Field::Secret => {
            let s = match value {
                Value::Null => return Ok(None),
                Value::String(s) => s.trim(),
                _ => return Err(bad("must be a string or null")),
            };
            if s.is_empty() {
                return Ok(None);
            }
            if current.is_some_and(|c| mask(c) == s) {
                return Ok(current.cloned());
            }
            if s.chars().count() > MAX_KEY_CHARS {
                return Err(bad(&format!("at most {MAX_KEY_CHARS} characters")));
            }
            if !s.chars().all(|c| c.is_ascii_graphic()) {
                return Err(bad("printable ASCII without spaces"));
            }
            Ok(Some(s.to_owned()))
        }
        Field::Url(_) => {
            let s = match value {
                Value::Null => return Ok(None),
                Value::String(s) => s.trim(),
                _ => return Err(bad("must be a string or null")),
            };
            if s.is_empty() {
                return Ok(None);
            }
            check_base_url(name, s).map(Some)
        }
    }
}

/// A service base URL as stored: http(s), a host, no credentials, query or
/// fragment, no trailing slash. Also used for agent providers' base URLs.
pub fn check_base_url(name: &str, s: &str) -> Result<String, SettingsError> {
    let bad = |why: &str| SettingsError::Invalid(format!("{name}: {why}"));
    if s.len() > MAX_URL_CHARS {
        return Err(bad(&format!("at most {MAX_URL_CHARS} characters")));
    }
    let url = url::Url::parse(s).map_err(|_| bad("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("an http:// or https:// URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials do not belong in the URL; use the API key"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a base URL without query or fragment"));
    }
    Ok(s.trim_end_matches('/').to_owned())
}

/// A key as it may be shown: its last four characters when it is long
/// enough for that to give nothing away.
pub fn mask(key: &str) -> String {
    let n = key.chars().count();
    if n >= 16 {
        let tail: String = key.chars().skip(n - 4).collect();
        format!("••••{tail}")
    } else {
        "••••".to_owned()
    }
}

fn view(stored: &HashMap<String, String>) -> Value {
    let mut out = Map::new();
    for (name, kind) in FIELDS {
        let value = stored.get(*name);
        match kind {
            Field::Secret => {
                out.insert(
                    (*name).into(),
                    value.map(|k| json!(mask(k))).unwrap_or(Value::Null),
                );
                out.insert(format!("{name}_set"), json!(value.is_some()));
            }
            Field::Url(default) => {
                out.insert(
                    (*name).into(),
                    json!(value.map(String::as_str).unwrap_or(default)),
                );
            }
            Field::Bool(default) => {
                out.insert(
                    (*name).into(),
                    json!(value.map(|v| v == "true").unwrap_or(*default)),
                );
            }
        }
    }
    Value::Object(out)
}

fn snapshot(stored: &HashMap<String, String>) -> Snapshot {
    let url = |name: &str, default: &str| {
        stored
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    };
    Snapshot {
        acoustid: Service {
            api_key: stored.get("acoustid_api_key").cloned(),
            base_url: url("acoustid_base_url", DEFAULT_ACOUSTID_URL),
        },
        tmdb: Service {
            api_key: stored.get("tmdb_api_key").cloned(),
            base_url: url("tmdb_base_url", DEFAULT_TMDB_URL),
        },
        fingerprint_audio: stored.get("fingerprint_audio").is_none_or(|v| v == "true"),
    }
}

async fn read_all(catalog: &Catalog) -> Result<HashMap<String, String>, CatalogError> {
    catalog
        .read(|c| {
            let mut stmt = c.prepare("SELECT key, value FROM runtime_settings")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<HashMap<_, _>>>()
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_show_at_most_the_last_four() {
        assert_eq!(mask("short"), "••••");
        assert_eq!(mask("0123456789abcdefWXYZ"), "••••WXYZ");
    }

    #[test]
    fn urls_must_be_plain_http_bases() {
        let url = Field::Url(DEFAULT_TMDB_URL);
        for bad in [
            "ftp://x",
            "not a url",
            "http://u:p@host/",
            "http://h/?q=1",
            "file:///etc",
        ] {
            assert!(validate("u", url, &json!(bad), None).is_err(), "{bad}");
        }
        assert_eq!(
            validate("u", url, &json!("http://127.0.0.1:9/api/"), None).unwrap(),
            Some("http://127.0.0.1:9/api".into())
        );
    }

    #[test]
    fn a_masked_key_sent_back_keeps_the_key() {
        let key = "0123456789abcdefWXYZ".to_owned();
        let kept = validate("k", Field::Secret, &json!(mask(&key)), Some(&key)).unwrap();
        assert_eq!(kept, Some(key));
        assert_eq!(
            validate("k", Field::Secret, &json!(""), None).unwrap(),
            None
        );
        assert!(validate("k", Field::Secret, &json!("has space"), None).is_err());
    }
}
