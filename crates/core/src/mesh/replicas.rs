//! Vaults this node holds for the network without their key: sealed
//! manifests and sealed blocks, stored and served as they came. Nothing
//! here can be opened on this node; the catalog learns only ids, block ids
//! and sizes.

use super::MeshError;
use crate::catalog::Catalog;
use crate::store::BlockId;
use crate::time::now_ms;
use crate::vaults::remote::SealedVersion;

#[derive(Clone)]
pub struct Replicas {
    catalog: Catalog,
}

#[derive(Debug, Clone)]
pub struct ReplicaVault {
    pub id: String,
    pub rf_target: u32,
    pub versions: u64,
    pub sealed_bytes: u64,
    pub created_ms: i64,
}

impl Replicas {
    pub fn new(catalog: Catalog) -> Self {
        Self { catalog }
    }

    pub async fn list(&self) -> Result<Vec<ReplicaVault>, MeshError> {
        Ok(self
            .catalog
            .read(|c| {
                let mut s = c.prepare(
                    "SELECT r.id, r.rf_target, r.created_ms,
                        (SELECT COUNT(*) FROM replica_manifests m WHERE m.vault_id = r.id),
                        (SELECT COALESCE(SUM(sealed_bytes), 0) FROM replica_manifests m WHERE m.vault_id = r.id)
                     FROM replica_vaults r ORDER BY r.created_ms",
                )?;
                s.query_map([], |r| {
                    Ok(ReplicaVault {
                        id: r.get(0)?,
                        rf_target: r.get(1)?,
                        created_ms: r.get(2)?,
                        versions: r.get::<_, i64>(3)? as u64,
                        sealed_bytes: r.get::<_, i64>(4)? as u64,
                    })
                })?
                .collect()
            })
            .await?)
    }

    pub async fn holds(&self, vault_id: &str) -> Result<bool, MeshError> {
        let id = vault_id.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                c.prepare_cached("SELECT 1 FROM replica_vaults WHERE id = ?1")?
                    .exists([id])
            })
            .await?)
    }

    /// Start holding a vault (or update its target).
    pub async fn adopt(&self, vault_id: &str, rf_target: u32) -> Result<(), MeshError> {
        let id = vault_id.to_owned();
        self.catalog
            .write(move |c| {
                c.execute(
                    "INSERT INTO replica_vaults (id, rf_target, created_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (id) DO UPDATE SET rf_target = ?2",
                    rusqlite::params![id, rf_target.clamp(1, 16), now_ms()],
                )
            })
            .await?;
        Ok(())
    }

    /// Stop holding a vault (its blocks go at the next garbage collection).
    pub async fn forget(&self, vault_id: &str) -> Result<(), MeshError> {
        let id = vault_id.to_owned();
        self.catalog
            .write(move |c| c.execute("DELETE FROM replica_vaults WHERE id = ?1", [id]))
            .await?;
        Ok(())
    }

    pub async fn version_ids(&self, vault_id: &str) -> Result<Vec<String>, MeshError> {
        let id = vault_id.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare_cached(
                    "SELECT version_id FROM replica_manifests WHERE vault_id = ?1",
                )?;
                s.query_map([id], |r| r.get(0))?.collect()
            })
            .await?)
    }

    pub async fn manifests(
        &self,
        vault_id: &str,
        ids: Vec<String>,
    ) -> Result<Vec<SealedVersion>, MeshError> {
        let vid = vault_id.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare_cached(
                    "SELECT blocks, sealed, sealed_bytes FROM replica_manifests
                     WHERE vault_id = ?1 AND version_id = ?2",
                )?;
                let mut out = Vec::new();
                for id in ids {
                    let row = s.query_row([&vid, &id], |r| {
                        Ok((
                            r.get::<_, Vec<u8>>(0)?,
                            r.get::<_, Vec<u8>>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    });
                    match row {
                        Ok((blocks, sealed, bytes)) => out.push(SealedVersion {
                            id,
                            blocks: blocks
                                .chunks_exact(32)
                                .map(|b| BlockId(b.try_into().expect("32")))
                                .collect(),
                            sealed_bytes: bytes as u64,
                            sealed,
                        }),
                        Err(rusqlite::Error::QueryReturnedNoRows) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(out)
            })
            .await?)
    }

    /// Keep manifests whose blocks are all here (the caller fetched them).
    pub async fn store(
        &self,
        vault_id: &str,
        items: Vec<SealedVersion>,
    ) -> Result<usize, MeshError> {
        let vid = vault_id.to_owned();
        Ok(self
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                let mut n = 0;
                for m in items {
                    let blob: Vec<u8> = m.blocks.iter().flat_map(|b| b.0).collect();
                    n += tx
                        .prepare_cached(
                            "INSERT OR IGNORE INTO replica_manifests (vault_id, version_id, blocks, sealed, sealed_bytes)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                        )?
                        .execute(rusqlite::params![vid, m.id, blob, m.sealed, m.sealed_bytes as i64])?;
                }
                tx.commit()?;
                Ok(n)
            })
            .await?)
    }
}
