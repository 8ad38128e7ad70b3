//! Removing one version for good (S3's DeleteObject with a version id).
//! If it was a head, its parents that still exist become heads again, so
//! the file shows what it was before that version; a file whose every
//! version is purged is gone. Its blocks are freed by the next garbage
//! collection. Other devices keep their copy until their own retention.

use super::{VaultError, Vaults};

impl Vaults {
    /// Purge version `version_id` of `path`. Answers whether it existed.
    pub async fn purge_version(
        &self,
        vault_id: &str,
        path: &str,
        version_id: &str,
    ) -> Result<bool, VaultError> {
        self.writable(vault_id).await?;
        let (vid, p, id) = (vault_id.to_owned(), path.to_owned(), version_id.to_owned());
        Ok(self
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                let parents: Option<String> = {
                    use rusqlite::OptionalExtension;
                    tx.query_row(
                        "SELECT parents FROM versions WHERE id = ?1 AND vault_id = ?2 AND path = ?3",
                        [&id, &vid, &p],
                        |r| r.get(0),
                    )
                    .optional()?
                };
                let Some(parents) = parents else {
                    return Ok(false);
                };
                let was_head = tx.execute(
                    "DELETE FROM heads WHERE vault_id = ?1 AND path = ?2 AND version_id = ?3",
                    [&vid, &p, &id],
                )? > 0;
                if was_head {
                    let parents: Vec<String> = serde_json::from_str(&parents).unwrap_or_default();
                    for parent in parents {
                        tx.execute(
                            "INSERT OR IGNORE INTO heads (vault_id, path, version_id)
                             SELECT vault_id, path, id FROM versions
                             WHERE id = ?1 AND vault_id = ?2 AND path = ?3",
                            [&parent, &vid, &p],
                        )?;
                    }
                }
                tx.execute("DELETE FROM versions WHERE id = ?1", [&id])?;
                tx.commit()?;
                Ok(true)
            })
            .await?)
    }
}
