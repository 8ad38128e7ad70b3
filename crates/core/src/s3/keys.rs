//! S3 access keys and their grants. The gateway checks SigV4, which needs
//! the secret itself, so secrets are kept sealed under the identity
//! (unlocked only, like vault content) rather than hashed. Grants name a
//! bucket (a vault's S3 alias or id, or `*` for every bucket) and a set of
//! operations.

use std::collections::BTreeSet;

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::S3Error;
use crate::Catalog;
use crate::identity::Identity;
use crate::identity::crypto;
use crate::time::now_ms;

const PURPOSE: &str = "holdfast/s3/keys/v1";
/// Keys one node keeps at most: a bound on what a hostile caller can make.
const MAX_KEYS: i64 = 1000;
const MAX_GRANTS: i64 = 10_000;

/// One operation class a grant allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Read,
    Write,
    Delete,
}

impl Op {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }
}

/// A key as listed (never with its secret).
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub access_key_id: String,
    pub name: Option<String>,
    pub created_ms: i64,
    pub last_used_ms: Option<i64>,
}

/// A key just minted: the only time its secret is shown.
#[derive(Serialize)]
pub struct MintedKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub name: Option<String>,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub key_id: String,
    pub bucket: String,
    pub ops: BTreeSet<Op>,
}

#[derive(Clone)]
pub struct S3Keys {
    catalog: Catalog,
    identity: std::sync::Arc<Identity>,
    /// When each key's `last_used_ms` was last written: at most once a
    /// minute, off the request's path, so signing checks never wait on the
    /// catalog's writer.
    noted: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, i64>>>,
    /// Grants by key, read once: every S3 request checks them, and they
    /// change only through this type (which forgets them then).
    cached: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<Grant>>>>,
    /// Sealed secrets by key id, read once.
    sealed: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>>,
}

/// Random characters from `alphabet`, by rejection sampling (no bias).
fn random_chars(n: usize, alphabet: &[u8]) -> String {
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in crypto::random_bytes::<64>() {
            if (b as usize) < limit && out.len() < n {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A bucket a grant may name: `*`, or what S3 and vault ids allow.
pub fn valid_grant_bucket(b: &str) -> bool {
    b == "*"
        || (!b.is_empty()
            && b.len() <= 255
            && b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_')))
}

impl S3Keys {
    pub fn new(catalog: Catalog, identity: std::sync::Arc<Identity>) -> Self {
        Self {
            catalog,
            identity,
            noted: Default::default(),
            cached: Default::default(),
            sealed: Default::default(),
        }
    }

    fn seal_key(&self) -> Result<crypto::Key, S3Error> {
        Ok(self.identity.purpose_key(PURPOSE)?)
    }

    /// Mint a key: `HF` + 18 characters, and a 40-character secret.
    pub async fn mint(&self, name: Option<String>) -> Result<MintedKey, S3Error> {
        if let Some(n) = &name
            && (n.chars().count() > 100 || n.chars().any(char::is_control))
        {
            return Err(S3Error::Invalid(
                "name: at most 100 characters, no control characters".into(),
            ));
        }
        let key = self.seal_key()?;
        let access_key_id = format!("HF{}", random_chars(18, UPPER));
        let secret = Zeroizing::new(random_chars(40, SECRET));
        let sealed = crypto::seal(&key, secret.as_bytes(), access_key_id.as_bytes());
        let created_ms = now_ms();
        let (id, n) = (access_key_id.clone(), name.clone());
        let inserted = self
            .catalog
            .write(move |c| {
                let count: i64 = c.query_row("SELECT COUNT(*) FROM s3_keys", [], |r| r.get(0))?;
                if count >= MAX_KEYS {
                    return Ok(false);
                }
                c.execute(
                    "INSERT INTO s3_keys (access_key_id, secret_sealed, name, created_ms) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![id, sealed, n, created_ms],
                )?;
                Ok(true)
            })
            .await?;
        if !inserted {
            return Err(S3Error::Invalid(format!(
                "at most {MAX_KEYS} access keys; revoke some first"
            )));
        }
        Ok(MintedKey {
            access_key_id,
            secret_access_key: secret.to_string(),
            name,
            created_ms,
        })
    }

    pub async fn list(&self) -> Result<Vec<KeyInfo>, S3Error> {
        Ok(self
            .catalog
            .read(|c| {
                let mut s = c.prepare(
                    "SELECT access_key_id, name, created_ms, last_used_ms FROM s3_keys ORDER BY created_ms, access_key_id",
                )?;
                s.query_map([], |r| {
                    Ok(KeyInfo {
                        access_key_id: r.get(0)?,
                        name: r.get(1)?,
                        created_ms: r.get(2)?,
                        last_used_ms: r.get(3)?,
                    })
                })?
                .collect()
            })
            .await?)
    }

    /// Revoke a key and its grants.
    pub async fn revoke(&self, access_key_id: &str) -> Result<(), S3Error> {
        let id = access_key_id.to_owned();
        let n = self
            .catalog
            .write(move |c| c.execute("DELETE FROM s3_keys WHERE access_key_id = ?1", [id]))
            .await?;
        self.forget();
        if n == 0 {
            return Err(S3Error::NoSuchAccessKey);
        }
        Ok(())
    }

    /// The secret of a key, for checking a signature. Notes the use.
    pub async fn secret(&self, access_key_id: &str) -> Result<Zeroizing<String>, S3Error> {
        if access_key_id.len() > 128 {
            return Err(S3Error::NoSuchAccessKey);
        }
        let key = self.seal_key()?;
        let sealed = self.sealed_secret(access_key_id).await?;
        let plain = crypto::open(&key, &sealed, access_key_id.as_bytes())
            .ok_or_else(|| S3Error::Invalid("the key's stored secret does not open".into()))?;
        let secret = String::from_utf8(plain.to_vec())
            .map_err(|_| S3Error::Invalid("the key's stored secret is damaged".into()))?;
        self.note_use(access_key_id);
        Ok(Zeroizing::new(secret))
    }

    /// The sealed secret of a key, from memory after the first read (it is
    /// useless without the identity; revoking forgets it).
    async fn sealed_secret(&self, access_key_id: &str) -> Result<Vec<u8>, S3Error> {
        let known = self
            .sealed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(access_key_id)
            .cloned();
        if let Some(s) = known {
            return Ok(s);
        }
        let id = access_key_id.to_owned();
        let sealed: Option<Vec<u8>> = self
            .catalog
            .read(move |c| {
                c.query_row(
                    "SELECT secret_sealed FROM s3_keys WHERE access_key_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()
            })
            .await?;
        let sealed = sealed.ok_or(S3Error::NoSuchAccessKey)?;
        let mut map = self.sealed.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 2 * MAX_KEYS as usize {
            map.clear();
        }
        map.insert(access_key_id.to_owned(), sealed.clone());
        Ok(sealed)
    }

    /// Record that a key was used (to the minute), in the background.
    fn note_use(&self, access_key_id: &str) {
        let now = now_ms();
        {
            let mut noted = self.noted.lock().unwrap_or_else(|p| p.into_inner());
            if noted.get(access_key_id).is_some_and(|t| now - t < 60_000) {
                return;
            }
            if noted.len() > 2 * MAX_KEYS as usize {
                noted.clear();
            }
            noted.insert(access_key_id.to_owned(), now);
        }
        let (catalog, id) = (self.catalog.clone(), access_key_id.to_owned());
        tokio::spawn(async move {
            let _ = catalog
                .write(move |c| {
                    c.execute(
                        "UPDATE s3_keys SET last_used_ms = ?2 WHERE access_key_id = ?1",
                        rusqlite::params![id, now],
                    )
                })
                .await;
        });
    }

    pub async fn grants(&self) -> Result<Vec<Grant>, S3Error> {
        self.grants_where(None).await
    }

    /// The grants of one key.
    pub async fn grants_of(&self, key_id: &str) -> Result<Vec<Grant>, S3Error> {
        if let Some(g) = self.cache().get(key_id) {
            return Ok(g.clone());
        }
        let grants = self.grants_where(Some(key_id.to_owned())).await?;
        let mut cache = self.cache();
        if cache.len() > 2 * MAX_KEYS as usize {
            cache.clear();
        }
        cache.insert(key_id.to_owned(), grants.clone());
        Ok(grants)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Vec<Grant>>> {
        self.cached.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forget cached grants and secrets (after any change to keys or grants).
    fn forget(&self) {
        self.cache().clear();
        self.sealed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    async fn grants_where(&self, key: Option<String>) -> Result<Vec<Grant>, S3Error> {
        Ok(self
            .catalog
            .read(move |c| {
                let mut s = c.prepare(
                    "SELECT access_key_id, bucket, ops FROM s3_grants
                     WHERE ?1 IS NULL OR access_key_id = ?1 ORDER BY access_key_id, bucket",
                )?;
                s.query_map([key], |r| {
                    let ops: String = r.get(2)?;
                    Ok(Grant {
                        key_id: r.get(0)?,
                        bucket: r.get(1)?,
                        ops: serde_json::from_str(&ops).unwrap_or_default(),
                    })
                })?
                .collect()
            })
            .await?)
    }

    /// Set (replace) the grant of `key_id` on `bucket`.
    pub async fn grant(
        &self,
        key_id: &str,
        bucket: &str,
        ops: &[String],
    ) -> Result<Grant, S3Error> {
        if !valid_grant_bucket(bucket) {
            return Err(S3Error::Invalid(
                "bucket: '*', or a bucket name or vault id (letters, digits, '.', '-', '_')".into(),
            ));
        }
        let mut set = BTreeSet::new();
        for op in ops {
            set.insert(Op::parse(op).ok_or_else(|| {
                S3Error::Invalid(format!(
                    "ops: unknown operation {op:?} (read, write, delete)"
                ))
            })?);
        }
        if set.is_empty() {
            return Err(S3Error::Invalid(
                "ops: name at least one of read, write, delete (DELETE removes a grant)".into(),
            ));
        }
        let json = serde_json::to_string(&set).expect("ops serialise");
        let (k, b) = (key_id.to_owned(), bucket.to_owned());
        let outcome = self
            .catalog
            .write(move |c| {
                let exists: bool = c.query_row(
                    "SELECT EXISTS (SELECT 1 FROM s3_keys WHERE access_key_id = ?1)",
                    [&k],
                    |r| r.get(0),
                )?;
                if !exists {
                    return Ok(Err(S3Error::NoSuchAccessKey));
                }
                let count: i64 = c.query_row("SELECT COUNT(*) FROM s3_grants", [], |r| r.get(0))?;
                if count >= MAX_GRANTS {
                    return Ok(Err(S3Error::Invalid(format!(
                        "at most {MAX_GRANTS} grants"
                    ))));
                }
                c.execute(
                    "INSERT INTO s3_grants (access_key_id, bucket, ops) VALUES (?1, ?2, ?3)
                     ON CONFLICT (access_key_id, bucket) DO UPDATE SET ops = excluded.ops",
                    rusqlite::params![k, b, json],
                )?;
                Ok(Ok(()))
            })
            .await?;
        self.forget();
        outcome?;
        Ok(Grant {
            key_id: key_id.to_owned(),
            bucket: bucket.to_owned(),
            ops: set,
        })
    }

    /// Remove the grant of `key_id` on `bucket`.
    pub async fn revoke_grant(&self, key_id: &str, bucket: &str) -> Result<(), S3Error> {
        let (k, b) = (key_id.to_owned(), bucket.to_owned());
        let n = self
            .catalog
            .write(move |c| {
                c.execute(
                    "DELETE FROM s3_grants WHERE access_key_id = ?1 AND bucket = ?2",
                    [k, b],
                )
            })
            .await?;
        self.forget();
        if n == 0 {
            return Err(S3Error::NoSuchGrant);
        }
        Ok(())
    }
}

/// Whether `grants` allow `op` on a bucket known by these names (its alias
/// and its id).
pub fn allows(grants: &[Grant], names: &[&str], op: Op) -> bool {
    grants
        .iter()
        .any(|g| g.ops.contains(&op) && (g.bucket == "*" || names.contains(&g.bucket.as_str())))
}

/// Whether any grant names this bucket at all (listing buckets shows only these).
pub fn sees(grants: &[Grant], names: &[&str]) -> bool {
    grants
        .iter()
        .any(|g| g.bucket == "*" || names.contains(&g.bucket.as_str()))
}
