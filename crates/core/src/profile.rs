//! The node's profile as its owner edits it (REST `/profile`): display name,
//! avatar, push endpoint, metered link, country. The display name and the
//! avatar are the identity's profile columns (`profile.display_name` and
//! `profile.picture`, migration 0002), shared with the IPC profile scopes, so
//! there is one name and one picture; the rest are columns added by 0011.
//!
//! Every change publishes `profile_changed` on the event bus, and
//! [`Profile::public`] answers what the mesh may tell peers from memory, so
//! the node gossip can re-read it on each event without touching the catalog.

use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::catalog::{Catalog, CatalogError};
use crate::events::EventBus;

/// Longest display name, in characters (after trimming).
pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
/// Largest avatar, as a whole `data:` URL.
pub const MAX_AVATAR_BYTES: usize = 256 * 1024;
/// Longest push endpoint URL.
pub const MAX_PUSH_ENDPOINT_CHARS: usize = 2048;
/// The image types an avatar may have.
pub const AVATAR_TYPES: [&str; 4] = ["png", "jpeg", "webp", "gif"];

/// The event published after every change.
pub const CHANGED_EVENT: &str = "profile_changed";

/// The whole profile, as `GET /profile` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NodeProfile {
    pub display_name: Option<String>,
    /// A `data:image/…;base64,…` URL.
    pub avatar: Option<String>,
    /// An http(s) URL push notifications are POSTed to.
    pub push_endpoint: Option<String>,
    /// Whether this node's network link is metered (the mesh moves less).
    pub metered: bool,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

/// What the mesh may tell peers about this node (no push endpoint: it may
/// hold a token).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicProfile {
    pub display_name: Option<String>,
    pub avatar: Option<String>,
    pub country: Option<String>,
}

impl From<&NodeProfile> for PublicProfile {
    fn from(p: &NodeProfile) -> Self {
        Self {
            display_name: p.display_name.clone(),
            avatar: p.avatar.clone(),
            country: p.country.clone(),
        }
    }
}

/// A partial update: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub display_name: Option<Option<String>>,
    pub avatar: Option<Option<String>>,
    pub push_endpoint: Option<Option<String>>,
    pub metered: Option<bool>,
    pub country: Option<Option<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// A field failed validation; the message names it.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// The profile service: the catalog row plus an in-memory copy of its public
/// part.
#[derive(Clone)]
pub struct Profile {
    catalog: Catalog,
    events: EventBus,
    public: Arc<RwLock<Arc<PublicProfile>>>,
}

impl Profile {
    /// Read the stored profile once, so [`Profile::public`] is ready.
    pub async fn load(catalog: Catalog, events: EventBus) -> Result<Self, CatalogError> {
        let current = read(&catalog).await?;
        Ok(Self {
            catalog,
            events,
            public: Arc::new(RwLock::new(Arc::new(PublicProfile::from(&current)))),
        })
    }

    /// What peers may see, from memory: cheap enough to call on every gossip
    /// round. Up to date after every change made through this service or
    /// followed by [`Profile::refresh`].
    pub fn public(&self) -> Arc<PublicProfile> {
        self.public
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub async fn get(&self) -> Result<NodeProfile, CatalogError> {
        read(&self.catalog).await
    }

    /// Validate and apply `update` in one transaction; publishes
    /// `profile_changed` when anything changed. Returns the new profile.
    pub async fn update(&self, update: ProfileUpdate) -> Result<NodeProfile, ProfileError> {
        let update = validate(update)?;
        let (before, after) = self
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                let before = select(&tx)?;
                let mut after = before.clone();
                if let Some(v) = update.display_name {
                    after.display_name = v;
                }
                if let Some(v) = update.avatar {
                    after.avatar = v;
                }
                if let Some(v) = update.push_endpoint {
                    after.push_endpoint = v;
                }
                if let Some(v) = update.metered {
                    after.metered = v;
                }
                if let Some(v) = update.country {
                    after.country = v;
                }
                if after != before {
                    // `username` is the IPC profile's own; left as it is.
                    tx.execute(
                        "INSERT INTO profile (id, display_name, picture, push_endpoint, metered, country)
                         VALUES (1, ?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
                             picture = excluded.picture, push_endpoint = excluded.push_endpoint,
                             metered = excluded.metered, country = excluded.country",
                        rusqlite::params![
                            after.display_name,
                            after.avatar,
                            after.push_endpoint,
                            after.metered,
                            after.country
                        ],
                    )?;
                }
                tx.commit()?;
                Ok((before, after))
            })
            .await?;
        if after != before {
            self.set_public(&after);
            self.events.publish(CHANGED_EVENT, serde_json::Value::Null);
        }
        Ok(after)
    }

    /// Re-read the row after someone else wrote it (the identity's
    /// `PUT /identity/profile`); publishes `profile_changed` when the public
    /// part changed.
    pub async fn refresh(&self) -> Result<(), CatalogError> {
        let current = read(&self.catalog).await?;
        if *self.public() != PublicProfile::from(&current) {
            self.set_public(&current);
            self.events.publish(CHANGED_EVENT, serde_json::Value::Null);
        }
        Ok(())
    }

    fn set_public(&self, p: &NodeProfile) {
        *self.public.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(PublicProfile::from(p));
    }
}

async fn read(catalog: &Catalog) -> Result<NodeProfile, CatalogError> {
    catalog.read(select).await
}

fn select(c: &rusqlite::Connection) -> rusqlite::Result<NodeProfile> {
    c.query_row(
        "SELECT display_name, picture, push_endpoint, metered, country FROM profile WHERE id = 1",
        [],
        |r| {
            Ok(NodeProfile {
                display_name: r.get(0)?,
                avatar: r.get(1)?,
                push_endpoint: r.get(2)?,
                metered: r.get(3)?,
                country: r.get(4)?,
            })
        },
    )
    .optional()
    .map(Option::unwrap_or_default)
}

/// Check every field present; the display name comes back trimmed.
pub fn validate(mut u: ProfileUpdate) -> Result<ProfileUpdate, ProfileError> {
    let invalid = ProfileError::Invalid;
    if let Some(Some(name)) = &mut u.display_name {
        let trimmed = name.trim().to_owned();
        let chars = trimmed.chars().count();
        if chars == 0 || chars > MAX_DISPLAY_NAME_CHARS {
            return Err(invalid(format!(
                "display_name: 1 to {MAX_DISPLAY_NAME_CHARS} characters (or null to clear)"
            )));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(invalid("display_name: no control characters".into()));
        }
        *name = trimmed;
    }
    if let Some(Some(avatar)) = &u.avatar {
        check_avatar(avatar).map_err(|m| invalid(format!("avatar: {m}")))?;
    }
    if let Some(Some(url)) = &u.push_endpoint {
        check_push_endpoint(url).map_err(|m| invalid(format!("push_endpoint: {m}")))?;
    }
    if let Some(Some(country)) = &u.country
        && !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(invalid(
            "country: an ISO 3166-1 alpha-2 code, two uppercase letters (or null)".into(),
        ));
    }
    Ok(u)
}

fn check_avatar(avatar: &str) -> Result<(), String> {
    if avatar.len() > MAX_AVATAR_BYTES {
        return Err(format!("at most {MAX_AVATAR_BYTES} bytes"));
    }
    let payload = AVATAR_TYPES
        .iter()
        .find_map(|t| avatar.strip_prefix(&format!("data:image/{t};base64,")))
        .ok_or_else(|| "must be a data:image/(png|jpeg|webp|gif);base64,… URL".to_owned())?;
    match STANDARD.decode(payload) {
        Ok(bytes) if !bytes.is_empty() => Ok(()),
        _ => Err("the data after base64, is not valid base64 image data".into()),
    }
}

/// An absolute http(s) URL with a host, no spaces or control characters.
/// (The daemon parses it fully before sending to it.)
fn check_push_endpoint(url: &str) -> Result<(), String> {
    const SHAPE: &str = "must be an http:// or https:// URL";
    if url.chars().count() > MAX_PUSH_ENDPOINT_CHARS {
        return Err(format!("at most {MAX_PUSH_ENDPOINT_CHARS} characters"));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("{SHAPE}, without spaces"));
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| SHAPE.to_owned())?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("{SHAPE} with a host"));
    }
    Ok(())
}

/// `scheme://host[:port]` of a URL: what may be logged about a push endpoint
/// (its path and query may hold a token).
pub fn endpoint_origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("?", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> (tempfile::TempDir, Catalog) {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("c.sqlite")).unwrap();
        (dir, cat)
    }

    #[tokio::test]
    async fn updates_are_partial_keep_the_username_and_announce_changes() {
        let (_dir, cat) = catalog();
        let events = EventBus::new();
        let mut rx = events.subscribe();
        cat.write(|c| {
            c.execute(
                "INSERT INTO profile (id, display_name, username) VALUES (1, 'Old', 'ann')",
                [],
            )
        })
        .await
        .unwrap();
        let p = Profile::load(cat.clone(), events).await.unwrap();
        assert_eq!(p.public().display_name.as_deref(), Some("Old"));

        let after = p
            .update(ProfileUpdate {
                display_name: Some(Some("  Ann  ".into())),
                country: Some(Some("FR".into())),
                metered: Some(true),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(after.display_name.as_deref(), Some("Ann"));
        assert!(after.metered);
        assert_eq!(rx.recv().await.unwrap()["type"], CHANGED_EVENT);
        assert_eq!(p.public().country.as_deref(), Some("FR"));
        let (name, username): (String, String) = cat
            .read(|c| {
                c.query_row(
                    "SELECT display_name, username FROM profile WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
            })
            .await
            .unwrap();
        assert_eq!((name.as_str(), username.as_str()), ("Ann", "ann"));

        // Nothing changed: no event.
        p.update(ProfileUpdate {
            metered: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
        assert!(rx.try_recv().is_err());

        // Cleared.
        let after = p
            .update(ProfileUpdate {
                country: Some(None),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(after.country, None);
        assert_eq!(after.display_name.as_deref(), Some("Ann"));
    }

    #[test]
    fn validation_names_the_field() {
        let bad = |u: ProfileUpdate, field: &str| match validate(u) {
            Err(ProfileError::Invalid(m)) => assert!(m.starts_with(field), "{m}"),
            other => panic!("{field}: {other:?}"),
        };
        let name = |s: &str| ProfileUpdate {
            display_name: Some(Some(s.into())),
            ..Default::default()
        };
        bad(name("   "), "display_name");
        bad(name(&"x".repeat(65)), "display_name");
        bad(name("a\u{7}b"), "display_name");
        assert!(validate(name(&"é".repeat(64))).is_ok());
        let avatar = |s: &str| ProfileUpdate {
            avatar: Some(Some(s.into())),
            ..Default::default()
        };
        bad(avatar("data:image/svg+xml;base64,PHN2Zz4="), "avatar");
        bad(avatar("data:image/png;base64,!!!"), "avatar");
        bad(
            avatar(&format!(
                "data:image/png;base64,{}",
                "A".repeat(MAX_AVATAR_BYTES)
            )),
            "avatar",
        );
        assert!(validate(avatar("data:image/png;base64,iVBORw0KGgo=")).is_ok());
        let push = |s: &str| ProfileUpdate {
            push_endpoint: Some(Some(s.into())),
            ..Default::default()
        };
        bad(push("ftp://x/"), "push_endpoint");
        bad(push("https:///path"), "push_endpoint");
        bad(push("https://a b/"), "push_endpoint");
        bad(
            push(&format!("https://h/{}", "a".repeat(2048))),
            "push_endpoint",
        );
        assert!(validate(push("https://push.example/u/1?token=t")).is_ok());
        let country = |s: &str| ProfileUpdate {
            country: Some(Some(s.into())),
            ..Default::default()
        };
        bad(country("fr"), "country");
        bad(country("FRA"), "country");
        assert!(validate(country("DE")).is_ok());
    }

    #[test]
    fn origins_leave_out_path_query_and_credentials() {
        assert_eq!(
            endpoint_origin("https://u:p@push.example:8443/t/abc?token=s"),
            "https://push.example:8443"
        );
        assert_eq!(endpoint_origin("http://h?x=1"), "http://h");
    }
}
