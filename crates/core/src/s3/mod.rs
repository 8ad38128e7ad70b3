//! What the S3 gateway keeps beyond vaults and files: access keys and
//! grants, the S3 view of each version (ETag, content headers, user
//! metadata, checksums), per-bucket versioning, and multipart uploads in
//! progress. The protocol itself lives in the daemon (on `s3s`); buckets
//! are vaults and objects are files, so everything written here has
//! history, dedup, quotas and replication like any other file.

pub mod keys;
pub mod meta;
pub mod uploads;

pub use keys::{Grant, KeyInfo, MintedKey, Op, S3Keys};
pub use meta::{ContentHeaders, ObjectChecksum, ObjectMeta, S3Objects};
pub use uploads::{Part, Upload, Uploads};

use crate::catalog::CatalogError;
use crate::identity::IdentityError;
use crate::vaults::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("no such access key")]
    NoSuchAccessKey,
    #[error("no such grant")]
    NoSuchGrant,
    #[error("no such multipart upload")]
    NoSuchUpload,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

const LISTENER_SETTING: &str = "s3.enabled";

/// The listener switch saved from the admin API, if it was ever used (it
/// wins over `config.yaml`).
pub async fn saved_listener_choice(catalog: &crate::Catalog) -> Result<Option<bool>, S3Error> {
    use rusqlite::OptionalExtension;
    let v: Option<String> = catalog
        .read(|c| {
            c.query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [LISTENER_SETTING],
                |r| r.get(0),
            )
            .optional()
        })
        .await?;
    Ok(v.map(|v| v == "true"))
}

pub async fn save_listener_choice(catalog: &crate::Catalog, on: bool) -> Result<(), S3Error> {
    let value = if on { "true" } else { "false" };
    catalog
        .write(move |c| {
            c.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [LISTENER_SETTING, value],
            )
        })
        .await?;
    Ok(())
}
