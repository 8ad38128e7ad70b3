//! Per-app backups kept for local apps (`/backup*` on IPC). Each backup is
//! JSON sealed with XChaCha20-Poly1305 under the app's own key (HKDF from the
//! master key) with the client_id and label as associated data, so one app's
//! key opens nothing of another's and a row moved to another label fails to
//! open. Unlabeled backups are rotating snapshots (ten kept); labeled ones
//! overwrite in place and never rotate. Every change is one SQLite
//! transaction, so a crash leaves either the old or the new state.

pub mod canonical;

use rusqlite::OptionalExtension;
use serde::Serialize;
use serde_json::Value;

use crate::catalog::{Catalog, CatalogError};
use crate::identity::crypto;
use crate::time::now_ms;
use canonical::Summary;

/// Largest single backup (its JSON, serialised).
pub const MAX_BACKUP_BYTES: usize = 10 * 1024 * 1024;
/// Largest total per app.
pub const MAX_APP_BYTES: u64 = 50 * 1024 * 1024;
/// Unlabeled snapshots kept per app.
pub const MAX_SNAPSHOTS: i64 = 10;
/// The label that addresses an app's newest backup.
pub const LATEST: &str = "latest";

#[derive(Debug, Clone, Serialize)]
pub struct BackupMeta {
    pub client_id: String,
    pub app_name: String,
    pub label: String,
    pub labeled: bool,
    pub content_type: String,
    pub created_ms: i64,
    pub data_size: u64,
    pub summary: Option<Summary>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backup is {size} bytes; the limit is {MAX_BACKUP_BYTES}")]
    TooLarge { size: usize },
    #[error("this app's backups would take {would_be} bytes; the limit is {MAX_APP_BYTES}")]
    QuotaExceeded { would_be: u64 },
    #[error("no such backup")]
    NotFound,
    #[error("{0}")]
    BadLabel(String),
    #[error("stored backup cannot be opened (damaged, or not this identity's)")]
    Corrupt,
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

pub struct NewBackup<'a> {
    pub client_id: &'a str,
    pub app_name: &'a str,
    pub content_type: &'a str,
    pub label: Option<&'a str>,
    pub data: &'a Value,
}

#[derive(Clone)]
pub struct Backups {
    catalog: Catalog,
}

fn aad(client_id: &str, label: &str) -> Vec<u8> {
    format!("holdfast/backup/v1\0{client_id}\0{label}").into_bytes()
}

pub fn validate_label(label: &str) -> Result<(), BackupError> {
    if label.is_empty()
        || label.len() > 128
        || !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    {
        return Err(BackupError::BadLabel(
            "label must be 1-128 characters of letters, digits, '-', '_', '.', ':'".into(),
        ));
    }
    Ok(())
}

const META_COLUMNS: &str =
    "client_id, app_name, label, labeled, content_type, created_ms, data_size, summary";

fn meta_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BackupMeta> {
    Ok(BackupMeta {
        client_id: r.get(0)?,
        app_name: r.get(1)?,
        label: r.get(2)?,
        labeled: r.get(3)?,
        content_type: r.get(4)?,
        created_ms: r.get(5)?,
        data_size: r.get::<_, i64>(6)? as u64,
        summary: r
            .get::<_, Option<String>>(7)?
            .and_then(|s| serde_json::from_str(&s).ok()),
    })
}

impl Backups {
    pub fn new(catalog: Catalog) -> Self {
        Self { catalog }
    }

    /// Store a backup under `key` (the app's backup key).
    pub async fn put(&self, key: &[u8; 32], new: NewBackup<'_>) -> Result<BackupMeta, BackupError> {
        if let Some(label) = new.label {
            validate_label(label)?;
            if label == LATEST {
                return Err(BackupError::BadLabel("\"latest\" is reserved".into()));
            }
        }
        let plain =
            zeroize::Zeroizing::new(serde_json::to_vec(new.data).expect("JSON values serialise"));
        if plain.len() > MAX_BACKUP_BYTES {
            return Err(BackupError::TooLarge { size: plain.len() });
        }
        let created_ms = now_ms();
        let label = match new.label {
            Some(l) => l.to_owned(),
            None => self.free_snapshot_label(new.client_id, created_ms).await?,
        };
        let meta = BackupMeta {
            client_id: new.client_id.to_owned(),
            app_name: new.app_name.to_owned(),
            label: label.clone(),
            labeled: new.label.is_some(),
            content_type: new.content_type.to_owned(),
            created_ms,
            data_size: plain.len() as u64,
            summary: canonical::summarize(new.data),
        };
        let sealed = crypto::seal(key, &plain, &aad(new.client_id, &label));
        let m = meta.clone();
        let summary = m
            .summary
            .as_ref()
            .map(|s| serde_json::to_string(s).expect("summary serialises"));
        let outcome = self
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                let total: i64 = tx.query_row(
                    "SELECT COALESCE(SUM(data_size), 0) FROM backups WHERE client_id = ?1 AND label != ?2",
                    [&m.client_id, &m.label],
                    |r| r.get(0),
                )?;
                let snapshots: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM backups WHERE client_id = ?1 AND labeled = 0",
                    [&m.client_id],
                    |r| r.get(0),
                )?;
                // The snapshot that rotation will drop no longer counts.
                let oldest: Option<(String, i64)> = if !m.labeled && snapshots >= MAX_SNAPSHOTS {
                    tx.query_row(
                        "SELECT label, data_size FROM backups WHERE client_id = ?1 AND labeled = 0
                         ORDER BY created_ms ASC, label ASC LIMIT 1",
                        [&m.client_id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?
                } else {
                    None
                };
                let would_be = (total - oldest.as_ref().map_or(0, |o| o.1)) as u64 + m.data_size;
                if would_be > MAX_APP_BYTES {
                    return Ok(Err(would_be));
                }
                if let Some((old_label, _)) = &oldest {
                    tx.execute(
                        "DELETE FROM backups WHERE client_id = ?1 AND label = ?2",
                        [&m.client_id, old_label],
                    )?;
                }
                tx.execute(
                    &format!(
                        "INSERT INTO backups ({META_COLUMNS}, sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                         ON CONFLICT (client_id, label) DO UPDATE SET app_name = excluded.app_name,
                           content_type = excluded.content_type, created_ms = excluded.created_ms,
                           data_size = excluded.data_size, summary = excluded.summary, sealed = excluded.sealed"
                    ),
                    rusqlite::params![
                        m.client_id,
                        m.app_name,
                        m.label,
                        m.labeled,
                        m.content_type,
                        m.created_ms,
                        m.data_size as i64,
                        summary,
                        sealed
                    ],
                )?;
                tx.commit()?;
                Ok(Ok(()))
            })
            .await?;
        outcome.map_err(|would_be| BackupError::QuotaExceeded { would_be })?;
        Ok(meta)
    }

    /// `backup-<seconds>`, with a `-N` suffix when that second is taken.
    async fn free_snapshot_label(
        &self,
        client_id: &str,
        created_ms: i64,
    ) -> Result<String, BackupError> {
        let base = format!("backup-{}", created_ms / 1000);
        let (client, b) = (client_id.to_owned(), base.clone());
        let taken: Vec<String> = self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(
                    "SELECT label FROM backups WHERE client_id = ?1 AND (label = ?2 OR label LIKE ?2 || '-%')",
                )?;
                s.query_map([client, b], |r| r.get(0))?.collect()
            })
            .await?;
        if !taken.contains(&base) {
            return Ok(base);
        }
        let mut n = 2;
        while taken.contains(&format!("{base}-{n}")) {
            n += 1;
        }
        Ok(format!("{base}-{n}"))
    }

    /// Backups of one app (or of all), newest first.
    pub async fn list(&self, client_id: Option<&str>) -> Result<Vec<BackupMeta>, BackupError> {
        let client = client_id.map(str::to_owned);
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(&format!(
                    "SELECT {META_COLUMNS} FROM backups WHERE (?1 IS NULL OR client_id = ?1)
                     ORDER BY created_ms DESC, label DESC"
                ))?;
                s.query_map([client], meta_from_row)?.collect()
            })
            .await?)
    }

    /// The label a request means: `None` and `"latest"` name the newest.
    async fn resolve(&self, client_id: &str, label: Option<&str>) -> Result<String, BackupError> {
        match label {
            None | Some(LATEST) => self
                .list(Some(client_id))
                .await?
                .into_iter()
                .next()
                .map(|m| m.label)
                .ok_or(BackupError::NotFound),
            Some(l) => {
                validate_label(l)?;
                Ok(l.to_owned())
            }
        }
    }

    /// Decrypt one backup.
    pub async fn get(
        &self,
        key: &[u8; 32],
        client_id: &str,
        label: Option<&str>,
    ) -> Result<(BackupMeta, Value), BackupError> {
        let label = self.resolve(client_id, label).await?;
        let (client, l) = (client_id.to_owned(), label.clone());
        let row = self
            .catalog
            .read(move |c| {
                c.query_row(
                    &format!("SELECT {META_COLUMNS}, sealed FROM backups WHERE client_id = ?1 AND label = ?2"),
                    [client, l],
                    |r| Ok((meta_from_row(r)?, r.get::<_, Vec<u8>>(8)?)),
                )
                .optional()
            })
            .await?;
        let (meta, sealed) = row.ok_or(BackupError::NotFound)?;
        let plain =
            crypto::open(key, &sealed, &aad(client_id, &label)).ok_or(BackupError::Corrupt)?;
        let data = serde_json::from_slice(&plain).map_err(|_| BackupError::Corrupt)?;
        Ok((meta, data))
    }

    pub async fn delete(
        &self,
        client_id: &str,
        label: Option<&str>,
    ) -> Result<String, BackupError> {
        let label = self.resolve(client_id, label).await?;
        let (client, l) = (client_id.to_owned(), label.clone());
        let n = self
            .catalog
            .write(move |c| {
                c.execute(
                    "DELETE FROM backups WHERE client_id = ?1 AND label = ?2",
                    [client, l],
                )
            })
            .await?;
        if n == 0 {
            return Err(BackupError::NotFound);
        }
        Ok(label)
    }
}

#[cfg(test)]
mod tests;
