//! Read-only views of a vault: analytics (what takes the space, and how it
//! grew), the S3 alias, and whether a version's blocks are all held here.

use serde::Serialize;

use super::{FileVersion, VaultError, Vaults};
use crate::store::BlockId;

#[derive(Debug, Serialize)]
pub struct Analytics {
    /// By file extension, largest total first (at most 20).
    pub top_types: Vec<TypeUsage>,
    /// Largest live files (at most 20).
    pub top_consumers: Vec<Consumer>,
    /// Per day (UTC midnight, ms): bytes and versions added.
    pub history: Vec<DayUsage>,
}

#[derive(Debug, Serialize)]
pub struct TypeUsage {
    pub extension: String,
    pub files: u64,
    pub bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct Consumer {
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct DayUsage {
    pub day_ms: i64,
    pub bytes_added: u64,
    pub versions: u64,
}

const DAY_MS: i64 = 86_400_000;

fn extension(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or("");
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() && ext.len() <= 16 => {
            ext.to_lowercase()
        }
        _ => "(none)".into(),
    }
}

/// S3 bucket naming: 3-63 of lowercase letters, digits, `-`, `.`, starting
/// and ending with a letter or digit.
pub fn validate_alias(alias: &str) -> Result<(), VaultError> {
    let ok = (3..=63).contains(&alias.len())
        && alias
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && alias.as_bytes()[0].is_ascii_alphanumeric()
        && alias.as_bytes()[alias.len() - 1].is_ascii_alphanumeric()
        && !alias.contains("..");
    if ok {
        Ok(())
    } else {
        Err(VaultError::Invalid(
            "alias must be an S3 bucket name: 3-63 of a-z, 0-9, '-', '.'".into(),
        ))
    }
}

impl Vaults {
    pub async fn analytics(&self, vault_id: &str) -> Result<Analytics, VaultError> {
        let live = self.files(vault_id, "/", false).await?;
        let mut types: std::collections::HashMap<String, (u64, u64)> = Default::default();
        for f in &live {
            let e = types.entry(extension(&f.path)).or_default();
            e.0 += 1;
            e.1 += f.size;
        }
        let mut top_types: Vec<TypeUsage> = types
            .into_iter()
            .map(|(extension, (files, bytes))| TypeUsage {
                extension,
                files,
                bytes,
            })
            .collect();
        top_types.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.extension.cmp(&b.extension)));
        top_types.truncate(20);
        let mut top_consumers: Vec<Consumer> = live
            .iter()
            .map(|f| Consumer {
                path: f.path.clone(),
                bytes: f.size,
            })
            .collect();
        top_consumers.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
        top_consumers.truncate(20);
        let vid = vault_id.to_owned();
        let history = self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(
                    "SELECT (created_ms / ?2) * ?2 AS day, SUM(size), COUNT(*) FROM versions
                     WHERE vault_id = ?1 AND deleted = 0 GROUP BY day ORDER BY day",
                )?;
                s.query_map(rusqlite::params![vid, DAY_MS], |r| {
                    Ok(DayUsage {
                        day_ms: r.get(0)?,
                        bytes_added: r.get::<_, i64>(1)? as u64,
                        versions: r.get::<_, i64>(2)? as u64,
                    })
                })?
                .collect()
            })
            .await?;
        Ok(Analytics {
            top_types,
            top_consumers,
            history,
        })
    }

    pub async fn s3_alias(&self, vault_id: &str) -> Result<Option<String>, VaultError> {
        self.settings(vault_id).await?;
        let vid = vault_id.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                c.query_row("SELECT s3_alias FROM vaults WHERE id = ?1", [vid], |r| {
                    r.get(0)
                })
            })
            .await?)
    }

    /// Every vault's bucket alias, by vault id (vaults without one absent).
    pub async fn s3_aliases(
        &self,
    ) -> Result<std::collections::HashMap<String, String>, VaultError> {
        Ok(self
            .catalog
            .read(|c| {
                let mut s =
                    c.prepare("SELECT id, s3_alias FROM vaults WHERE s3_alias IS NOT NULL")?;
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
            })
            .await?)
    }

    /// The id and alias of the vault an S3 bucket name means, if any (one
    /// query: grants are checked against both on every S3 request).
    pub async fn s3_names(
        &self,
        bucket: &str,
    ) -> Result<Option<(String, Option<String>)>, VaultError> {
        let b = bucket.to_owned();
        Ok(self
            .catalog
            .read(move |c| {
                use rusqlite::OptionalExtension;
                c.query_row(
                    "SELECT id, s3_alias FROM vaults WHERE s3_alias = ?1
                     UNION ALL SELECT id, s3_alias FROM vaults WHERE id = ?1 LIMIT 1",
                    [b],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
            })
            .await?)
    }

    /// The vault an S3 bucket name means: by alias, else by id (without
    /// its byte and file counts).
    pub async fn by_s3_name(&self, bucket: &str) -> Result<super::Vault, VaultError> {
        // One query, settings only: the counts cost a pass over every file,
        // and S3 asks this on every request. An alias wins over an id.
        let sql = super::select_vaults(
            false,
            "WHERE v.s3_alias = ?1 OR v.id = ?1 ORDER BY v.s3_alias IS NOT ?1 LIMIT 1",
        );
        let b = bucket.to_owned();
        self.catalog
            .read(move |c| {
                use rusqlite::OptionalExtension;
                c.query_row(&sql, [b], super::vault_from_row).optional()
            })
            .await?
            .ok_or(VaultError::NotFound)
    }

    /// Set (or with None clear) the bucket alias; unique across vaults.
    pub async fn set_s3_alias(
        &self,
        vault_id: &str,
        alias: Option<&str>,
    ) -> Result<(), VaultError> {
        if let Some(a) = alias {
            validate_alias(a)?;
        }
        self.get(vault_id).await?;
        let (vid, a) = (vault_id.to_owned(), alias.map(str::to_owned));
        let result = self
            .catalog
            .write(move |c| {
                c.execute(
                    "UPDATE vaults SET s3_alias = ?2 WHERE id = ?1",
                    rusqlite::params![vid, a],
                )
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(crate::catalog::CatalogError::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(VaultError::NameTaken)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether every block of `version` is held on this node.
    pub async fn is_local(&self, version: &FileVersion) -> Result<bool, VaultError> {
        let ids: Vec<BlockId> = version
            .blocks
            .iter()
            .filter_map(|h| BlockId::parse(h))
            .collect();
        let store = self.blocks.clone();
        tokio::task::spawn_blocking(move || ids.iter().all(|id| store.has(id)))
            .await
            .map_err(|e| VaultError::Io(std::io::Error::other(e)))
    }

    /// The heads of a path that is in conflict (two or more of them).
    async fn conflicted_heads(
        &self,
        vault_id: &str,
        path: &str,
    ) -> Result<Vec<FileVersion>, VaultError> {
        let heads = self.heads(vault_id, path).await?;
        match heads.len() {
            0 => Err(VaultError::FileNotFound),
            1 => Err(VaultError::NoConflict),
            _ => Ok(heads),
        }
    }

    /// Pick the surviving content of a conflicted path: a new version whose
    /// parents are all current heads.
    pub async fn resolve_conflict(
        &self,
        vault_id: &str,
        path: &str,
        content_hash: &str,
    ) -> Result<FileVersion, VaultError> {
        self.writable(vault_id).await?;
        let heads = self.conflicted_heads(vault_id, path).await?;
        let winner = heads
            .into_iter()
            .find(|h| h.content_hash == content_hash)
            .ok_or(VaultError::VersionNotFound)?;
        let new = super::files::NewVersion::copy_of(&winner, super::files::origin::RESOLVE)?;
        // Picking a side never fails for quota: both are already stored.
        self.commit(vault_id, path, new, super::files::Parents::Heads, None)
            .await
    }

    /// Resolve a conflict to `content_hash` and keep the other side too,
    /// under `copy_path` (or, with `None`, a name next to the original
    /// that says where it came from, see [`conflict_copy_path`]). One
    /// catalog transaction records both; the copy reuses the other side's
    /// blocks. Answers (the resolved head, the copy).
    pub async fn resolve_keep_both(
        &self,
        vault_id: &str,
        path: &str,
        content_hash: &str,
        copy_path: Option<&str>,
    ) -> Result<(FileVersion, FileVersion), VaultError> {
        let vault = self.writable(vault_id).await?;
        let heads = self.conflicted_heads(vault_id, path).await?;
        let winner = heads
            .iter()
            .find(|h| h.content_hash == content_hash)
            .ok_or(VaultError::VersionNotFound)?
            .clone();
        // The other side: the newest live head with other content.
        let other = heads
            .iter()
            .find(|h| !h.deleted && h.content_hash != winner.content_hash)
            .ok_or_else(|| {
                VaultError::Invalid("the other side is a deletion: there is nothing to keep".into())
            })?
            .clone();
        let copy = match copy_path {
            Some(p) => {
                if p == path {
                    return Err(VaultError::Invalid(
                        "keep_both_as must differ from the file's own path".into(),
                    ));
                }
                if self.is_live(vault_id, p).await? {
                    return Err(VaultError::TargetExists);
                }
                p.to_owned()
            }
            None => {
                let mut n = 1;
                loop {
                    let p = conflict_copy_path(path, &other, n);
                    if !self.is_live(vault_id, &p).await? {
                        break p;
                    }
                    n += 1;
                    if n > 100 {
                        return Err(VaultError::TargetExists);
                    }
                }
            }
        };
        let job = |p: &str, new, quota| super::group::Job {
            vault_id: vault_id.to_owned(),
            path: p.to_owned(),
            new,
            parents: super::files::Parents::Heads,
            quota,
            staged: Vec::new(),
            pins: None,
        };
        let jobs = vec![
            job(
                path,
                super::files::NewVersion::copy_of(&winner, super::files::origin::RESOLVE)?,
                None,
            ),
            // The copy adds a live file: it must fit the quota.
            job(
                &copy,
                super::files::NewVersion::copy_of(&other, super::files::origin::KEEP_BOTH)?,
                vault.hard_quota,
            ),
        ];
        match self.commit_together(jobs).await? {
            Ok(ids) => Ok((
                self.version_by_id(&ids[0]).await?,
                self.version_by_id(&ids[1]).await?,
            )),
            Err((hard_quota, would_be_size)) => Err(VaultError::Quota {
                vault_id: vault_id.to_owned(),
                hard_quota,
                would_be_size,
            }),
        }
    }

    /// Whether `path` is a live file (its newest head is not a tombstone).
    async fn is_live(&self, vault_id: &str, path: &str) -> Result<bool, VaultError> {
        Ok(self
            .heads(vault_id, path)
            .await?
            .first()
            .is_some_and(|h| !h.deleted))
    }
}

/// Who made a version, in words for a file name: the folder on this
/// computer, or the web (the API: web UI, apps, another device).
fn made_by(v: &FileVersion) -> &'static str {
    match v.origin.as_deref() {
        Some(super::files::origin::FOLDER) => "this computer",
        _ => "the web",
    }
}

/// The name a kept other side gets, next to the original:
/// `/a/plan.txt` → `/a/plan (conflict from the web 2026-12-06).txt`
/// (the date the other side was made, UTC; `n` > 1 adds a number).
pub fn conflict_copy_path(path: &str, other: &FileVersion, n: u32) -> String {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    let number = if n > 1 {
        format!(" {n}")
    } else {
        String::new()
    };
    format!(
        "{dir}/{stem} (conflict from {} {}{number}){ext}",
        made_by(other),
        utc_date(other.created_ms)
    )
}

/// `YYYY-MM-DD` of a Unix time in ms (UTC), from the civil calendar.
fn utc_date(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    // Howard Hinnant's days_from_civil, inverted.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_copy_names() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_796_515_200_000), "2026-12-06");
        assert_eq!(utc_date(951_782_400_000), "2000-02-29");
        let v = |origin: Option<&str>| FileVersion {
            id: String::new(),
            vault_id: String::new(),
            path: String::new(),
            content_hash: String::new(),
            size: 0,
            blocks: Vec::new(),
            block_sizes: Vec::new(),
            parents: Vec::new(),
            deleted: false,
            created_ms: 1_796_515_200_000,
            origin: origin.map(str::to_owned),
        };
        assert_eq!(
            conflict_copy_path("/a/plan.txt", &v(Some("upload")), 1),
            "/a/plan (conflict from the web 2026-12-06).txt"
        );
        assert_eq!(
            conflict_copy_path("/README", &v(Some("folder")), 2),
            "/README (conflict from this computer 2026-12-06 2)"
        );
        assert_eq!(
            conflict_copy_path("/.env", &v(None), 1),
            "/.env (conflict from the web 2026-12-06)"
        );
    }

    #[test]
    fn extensions_and_aliases() {
        assert_eq!(extension("/a/B.JPG"), "jpg");
        assert_eq!(extension("/a/.bashrc"), "(none)");
        assert_eq!(extension("/a/noext"), "(none)");
        assert!(validate_alias("photos-2026").is_ok());
        for bad in ["ab", "Photos", "-x-y", "a..b", "x_y", &"a".repeat(64)] {
            assert!(validate_alias(bad).is_err(), "{bad}");
        }
    }
}
