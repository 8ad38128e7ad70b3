//! Persistence of the identity row and the profile.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::AgentPubKey;
use super::crypto::KdfParams;
use crate::catalog::{Catalog, CatalogError};

#[derive(Clone)]
pub struct Stored {
    pub kdf: KdfParams,
    pub wrapped_master: Vec<u8>,
    pub agent_pub_key: AgentPubKey,
    pub created_ms: i64,
}

/// The user's public profile; apps see fields only within their scopes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub display_name: Option<String>,
    pub username: Option<String>,
    /// A `data:image/…` URL.
    pub profile_picture: Option<String>,
}

pub async fn load(catalog: &Catalog) -> Result<Option<Stored>, CatalogError> {
    let row = catalog
        .read(|c| {
            c.query_row(
                "SELECT kdf, wrapped_master, agent_pub_key, created_ms FROM identity WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()
        })
        .await?;
    let Some((kdf, wrapped_master, key, created_ms)) = row else {
        return Ok(None);
    };
    let damaged = |what: &str| {
        CatalogError::Sqlite(rusqlite::Error::InvalidColumnType(
            0,
            format!("identity.{what}"),
            rusqlite::types::Type::Text,
        ))
    };
    Ok(Some(Stored {
        kdf: serde_json::from_str(&kdf).map_err(|_| damaged("kdf"))?,
        wrapped_master,
        agent_pub_key: AgentPubKey::parse(&key).map_err(|_| damaged("agent_pub_key"))?,
        created_ms,
    }))
}

pub async fn save(catalog: &Catalog, s: &Stored) -> Result<(), CatalogError> {
    let kdf = serde_json::to_string(&s.kdf).expect("KdfParams serialise");
    let wrapped = s.wrapped_master.clone();
    let key = s.agent_pub_key.to_string();
    let created = s.created_ms;
    catalog
        .write(move |c| {
            c.execute(
                "INSERT INTO identity (id, kdf, wrapped_master, agent_pub_key, created_ms)
                 VALUES (1, ?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET kdf = excluded.kdf,
                     wrapped_master = excluded.wrapped_master,
                     agent_pub_key = excluded.agent_pub_key",
                rusqlite::params![kdf, wrapped, key, created],
            )
            .map(|_| ())
        })
        .await
}

pub async fn load_profile(catalog: &Catalog) -> Result<Profile, CatalogError> {
    catalog
        .read(|c| {
            c.query_row(
                "SELECT display_name, username, picture FROM profile WHERE id = 1",
                [],
                |r| {
                    Ok(Profile {
                        display_name: r.get(0)?,
                        username: r.get(1)?,
                        profile_picture: r.get(2)?,
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
        })
        .await
}

pub async fn save_profile(catalog: &Catalog, p: Profile) -> Result<(), CatalogError> {
    catalog
        .write(move |c| {
            c.execute(
                "INSERT INTO profile (id, display_name, username, picture) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
                     username = excluded.username, picture = excluded.picture",
                rusqlite::params![p.display_name, p.username, p.profile_picture],
            )
            .map(|_| ())
        })
        .await
}
