//! Saved networks (swarm key + bootstrap list) and the invites this node
//! minted, in the catalog. At most one network is active: the daemon
//! connects to it at start and after `connect`.

use rusqlite::OptionalExtension;
use serde::Serialize;

use super::MeshError;
use crate::catalog::Catalog;
use crate::time::now_ms;

/// Bootstrap entries kept per network at most.
pub const MAX_BOOTSTRAP: usize = 64;

#[derive(Debug, Clone, Serialize)]
pub struct Network {
    pub id: String,
    pub name: String,
    #[serde(skip)]
    pub psk: String,
    pub bootstrap: Vec<String>,
    pub active: bool,
    pub created_ms: i64,
}

#[derive(Clone)]
pub struct Networks {
    catalog: Catalog,
}

/// An invite as its minter lists it (never its URL: that holds the key).
#[derive(Debug, Clone, Serialize)]
pub struct Invite {
    pub id: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub revoked: bool,
}

/// What checking an invite found.
#[derive(Debug, PartialEq)]
pub enum InviteCheck {
    Valid,
    Expired,
    Revoked,
    Unknown,
}

pub fn validate_name(name: &str) -> Result<String, MeshError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(MeshError::Invalid(
            "network name must be 1-64 printable characters".into(),
        ));
    }
    Ok(name.to_owned())
}

/// Check and normalise multiaddrs (bounded count, each must parse).
pub fn validate_addrs(addrs: &[String]) -> Result<Vec<String>, MeshError> {
    if addrs.len() > MAX_BOOTSTRAP {
        return Err(MeshError::Invalid(format!(
            "at most {MAX_BOOTSTRAP} bootstrap addresses"
        )));
    }
    addrs
        .iter()
        .map(|a| {
            let a = a.trim();
            a.parse::<libp2p::Multiaddr>()
                .map(|m| m.to_string())
                .map_err(|e| MeshError::Invalid(format!("{:?} is not a multiaddr ({e})", short(a))))
        })
        .collect()
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Network> {
    Ok(Network {
        id: r.get(0)?,
        name: r.get(1)?,
        psk: r.get(2)?,
        bootstrap: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
        active: r.get(4)?,
        created_ms: r.get(5)?,
    })
}

const COLS: &str = "id, name, psk, bootstrap, active, created_ms";

impl Networks {
    pub fn new(catalog: Catalog) -> Self {
        Self { catalog }
    }

    pub async fn list(&self) -> Result<Vec<Network>, MeshError> {
        Ok(self
            .catalog
            .read(|c| {
                let mut s =
                    c.prepare(&format!("SELECT {COLS} FROM networks ORDER BY created_ms"))?;
                s.query_map([], from_row)?.collect()
            })
            .await?)
    }

    pub async fn get(&self, id: &str) -> Result<Network, MeshError> {
        let id = id.to_owned();
        self.catalog
            .read(move |c| {
                c.query_row(
                    &format!("SELECT {COLS} FROM networks WHERE id = ?1"),
                    [id],
                    from_row,
                )
                .optional()
            })
            .await?
            .ok_or(MeshError::NoSuchNetwork)
    }

    pub async fn active(&self) -> Result<Option<Network>, MeshError> {
        Ok(self
            .catalog
            .read(|c| {
                c.query_row(
                    &format!("SELECT {COLS} FROM networks WHERE active = 1"),
                    [],
                    from_row,
                )
                .optional()
            })
            .await?)
    }

    /// Save a network (or, for a known id, take the new key and merge the
    /// bootstrap list: joining twice refreshes instead of failing).
    pub async fn upsert(
        &self,
        id: &str,
        name: &str,
        psk: &str,
        bootstrap: Vec<String>,
    ) -> Result<Network, MeshError> {
        let (id2, name, psk) = (id.to_owned(), validate_name(name)?, psk.to_owned());
        let bootstrap = validate_addrs(&bootstrap)?;
        self.catalog
            .write(move |c| {
                let tx = c.transaction()?;
                let old: Option<String> = tx
                    .query_row(
                        "SELECT bootstrap FROM networks WHERE id = ?1",
                        [&id2],
                        |r| r.get(0),
                    )
                    .optional()?;
                let mut merged: Vec<String> = old
                    .and_then(|o| serde_json::from_str(&o).ok())
                    .unwrap_or_default();
                for a in bootstrap {
                    if !merged.contains(&a) {
                        merged.push(a);
                    }
                }
                merged.truncate(MAX_BOOTSTRAP);
                let list = serde_json::to_string(&merged).expect("strings serialise");
                tx.execute(
                    "INSERT INTO networks (id, name, psk, bootstrap, active, created_ms)
                     VALUES (?1, ?2, ?3, ?4, 0, ?5)
                     ON CONFLICT (id) DO UPDATE SET psk = ?3, bootstrap = ?4",
                    rusqlite::params![id2, name, psk, list, now_ms()],
                )?;
                tx.commit()
            })
            .await?;
        self.get(id).await
    }

    pub async fn delete(&self, id: &str) -> Result<(), MeshError> {
        let id = id.to_owned();
        let n = self
            .catalog
            .write(move |c| c.execute("DELETE FROM networks WHERE id = ?1", [id]))
            .await?;
        if n == 0 {
            return Err(MeshError::NoSuchNetwork);
        }
        Ok(())
    }

    /// Make `id` the one active network (`None`: none).
    pub async fn set_active(&self, id: Option<&str>) -> Result<(), MeshError> {
        let id = id.map(str::to_owned);
        self.catalog
            .write(move |c| {
                let tx = c.transaction()?;
                tx.execute("UPDATE networks SET active = 0 WHERE active = 1", [])?;
                if let Some(id) = id {
                    tx.execute("UPDATE networks SET active = 1 WHERE id = ?1", [id])?;
                }
                tx.commit()
            })
            .await?;
        Ok(())
    }

    /// Replace the bootstrap list (`append`: add to it instead).
    pub async fn set_bootstrap(
        &self,
        id: &str,
        addrs: &[String],
        append: bool,
    ) -> Result<Network, MeshError> {
        let mut list = if append {
            self.get(id).await?.bootstrap
        } else {
            Vec::new()
        };
        for a in validate_addrs(addrs)? {
            if !list.contains(&a) {
                list.push(a);
            }
        }
        if list.len() > MAX_BOOTSTRAP {
            return Err(MeshError::Invalid(format!(
                "at most {MAX_BOOTSTRAP} bootstrap addresses"
            )));
        }
        let (id2, json) = (
            id.to_owned(),
            serde_json::to_string(&list).expect("strings"),
        );
        let n = self
            .catalog
            .write(move |c| {
                c.execute(
                    "UPDATE networks SET bootstrap = ?2 WHERE id = ?1",
                    [id2, json],
                )
            })
            .await?;
        if n == 0 {
            return Err(MeshError::NoSuchNetwork);
        }
        self.get(id).await
    }

    /// Keep `peer`'s current addresses in the network's bootstrap list
    /// (replacing its older ones), so the next start dials it.
    pub async fn remember_member(
        &self,
        id: &str,
        peer: &libp2p::PeerId,
        addrs: &[libp2p::Multiaddr],
    ) -> Result<(), MeshError> {
        let mut list = self.get(id).await?.bootstrap;
        let suffix = format!("/p2p/{peer}");
        let fresh: Vec<String> = addrs
            .iter()
            .take(4)
            .map(|a| a.clone().with_p2p(*peer).unwrap_or_else(|a| a).to_string())
            .collect();
        let before = list.clone();
        list.retain(|a| !a.ends_with(&suffix) || fresh.contains(a));
        for a in fresh {
            if !list.contains(&a) {
                list.push(a);
            }
        }
        // Keep the newest entries when the list is full.
        let excess = list.len().saturating_sub(MAX_BOOTSTRAP);
        list.drain(..excess);
        if list != before {
            let (id, json) = (
                id.to_owned(),
                serde_json::to_string(&list).expect("strings"),
            );
            self.catalog
                .write(move |c| {
                    c.execute(
                        "UPDATE networks SET bootstrap = ?2 WHERE id = ?1",
                        [id, json],
                    )
                })
                .await?;
        }
        Ok(())
    }

    pub async fn set_psk(&self, id: &str, psk: &str) -> Result<(), MeshError> {
        let (id, psk) = (id.to_owned(), psk.to_owned());
        let n = self
            .catalog
            .write(move |c| c.execute("UPDATE networks SET psk = ?2 WHERE id = ?1", [id, psk]))
            .await?;
        if n == 0 {
            return Err(MeshError::NoSuchNetwork);
        }
        Ok(())
    }

    /// Record a new invite valid for `ttl_ms`.
    pub async fn mint_invite(
        &self,
        network_id: &str,
        ttl_ms: i64,
    ) -> Result<(String, i64), MeshError> {
        let id = hex::encode(crate::identity::crypto::random_bytes::<16>());
        let now = now_ms();
        let expires = now.saturating_add(ttl_ms);
        let (i, n) = (id.clone(), network_id.to_owned());
        self.catalog
            .write(move |c| {
                // Invites long expired are of no use to anyone: drop them.
                c.execute(
                    "DELETE FROM network_invites WHERE expires_ms < ?1",
                    [now - 30 * 86_400_000],
                )?;
                c.execute(
                    "INSERT INTO network_invites (id, network_id, expires_ms, revoked, created_ms)
                     VALUES (?1, ?2, ?3, 0, ?4)",
                    rusqlite::params![i, n, expires, now],
                )
            })
            .await?;
        Ok((id, expires))
    }

    /// Revoke an invite of network `network_id`; false if there is none.
    pub async fn revoke_invite(
        &self,
        network_id: &str,
        invite_id: &str,
    ) -> Result<bool, MeshError> {
        let (n, id) = (network_id.to_owned(), invite_id.to_owned());
        Ok(self
            .catalog
            .write(move |c| {
                c.execute(
                    "UPDATE network_invites SET revoked = 1 WHERE id = ?1 AND network_id = ?2",
                    [id, n],
                )
            })
            .await?
            > 0)
    }

    /// The invites of a network this node minted, newest first.
    pub async fn invites(&self, network_id: &str) -> Result<Vec<Invite>, MeshError> {
        let n = network_id.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(
                    "SELECT id, created_ms, expires_ms, revoked FROM network_invites
                     WHERE network_id = ?1 ORDER BY created_ms DESC LIMIT 200",
                )?;
                s.query_map([n], |r| {
                    Ok(Invite {
                        id: r.get(0)?,
                        created_ms: r.get(1)?,
                        expires_ms: r.get(2)?,
                        revoked: r.get(3)?,
                    })
                })?
                .collect()
            })
            .await?)
    }

    pub async fn check_invite(
        &self,
        network_id: &str,
        invite_id: &str,
    ) -> Result<InviteCheck, MeshError> {
        let (n, i) = (network_id.to_owned(), invite_id.to_owned());
        let row: Option<(i64, bool)> = self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT expires_ms, revoked FROM network_invites WHERE id = ?1 AND network_id = ?2",
                    [i, n],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
            })
            .await?;
        Ok(match row {
            None => InviteCheck::Unknown,
            Some((_, true)) => InviteCheck::Revoked,
            Some((e, _)) if e < now_ms() => InviteCheck::Expired,
            Some(_) => InviteCheck::Valid,
        })
    }
}
