//! Bearer sessions: hashes in the catalog so they survive a restart, mirrored
//! in memory so checking a bearer on every request costs no I/O.

use std::collections::HashMap;
use std::sync::RwLock;

use super::{AuthError, IssuedToken};
use crate::catalog::{Catalog, CatalogError};
use crate::secret::{self, SecretHash};
use crate::time::now_ms;

/// Bearers live 24 hours.
pub const SESSION_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

struct Session {
    hash: SecretHash,
    expires_at_ms: i64,
}

pub struct Sessions {
    by_id: RwLock<HashMap<String, Session>>,
}

impl Sessions {
    /// Load unexpired sessions, deleting expired ones.
    pub async fn load(catalog: &Catalog) -> Result<Self, CatalogError> {
        let now = now_ms();
        let rows = catalog
            .write(move |c| {
                c.execute("DELETE FROM auth_sessions WHERE expires_at_ms <= ?1", [now])?;
                let mut stmt =
                    c.prepare("SELECT id, token_hash, expires_at_ms FROM auth_sessions")?;
                let rows = stmt.query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get(2)?))
                })?;
                rows.collect::<rusqlite::Result<Vec<(String, Vec<u8>, i64)>>>()
            })
            .await?;
        let by_id = rows
            .into_iter()
            .filter_map(|(id, hash, expires_at_ms)| {
                let hash: [u8; 32] = hash.try_into().ok()?;
                Some((
                    id,
                    Session {
                        hash: SecretHash(hash),
                        expires_at_ms,
                    },
                ))
            })
            .collect();
        Ok(Self {
            by_id: RwLock::new(by_id),
        })
    }

    /// Mint a session, durable before the token is handed out.
    pub async fn issue(&self, catalog: &Catalog) -> Result<IssuedToken, AuthError> {
        let token = secret::random_token();
        let hash = SecretHash::of(&token);
        let id = hash.id();
        let now = now_ms();
        let expires_at_ms = now + SESSION_LIFETIME_MS;
        let row = (id.clone(), hash.0.to_vec());
        catalog
            .write(move |c| {
                c.execute("DELETE FROM auth_sessions WHERE expires_at_ms <= ?1", [now])?;
                c.execute(
                    "INSERT INTO auth_sessions (id, token_hash, created_ms, expires_at_ms)
                     VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![row.0, row.1, now, expires_at_ms],
                )
            })
            .await?;
        let mut map = self.by_id.write().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.expires_at_ms > now);
        map.insert(
            id,
            Session {
                hash,
                expires_at_ms,
            },
        );
        Ok(IssuedToken {
            token,
            expires_at_ms,
        })
    }

    pub fn verify(&self, presented: &SecretHash, now: i64) -> bool {
        let map = self.by_id.read().unwrap_or_else(|p| p.into_inner());
        map.get(&presented.id())
            .is_some_and(|s| s.hash.matches(presented) && s.expires_at_ms > now)
    }

    pub async fn revoke(&self, catalog: &Catalog, presented: &SecretHash) -> Result<(), AuthError> {
        let id = presented.id();
        let known = {
            let mut map = self.by_id.write().unwrap_or_else(|p| p.into_inner());
            match map.get(&id) {
                Some(s) if s.hash.matches(presented) => map.remove(&id).is_some(),
                _ => false,
            }
        };
        if known {
            catalog
                .write(move |c| c.execute("DELETE FROM auth_sessions WHERE id = ?1", [id]))
                .await?;
        }
        Ok(())
    }

    pub async fn revoke_all(&self, catalog: &Catalog) -> Result<(), AuthError> {
        catalog
            .write(|c| c.execute("DELETE FROM auth_sessions", []))
            .await?;
        self.by_id
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        Ok(())
    }
}
