//! Core errors in S3's words. Quota overruns answer `403 QuotaExceeded`
//! (not retried by SDKs, and the code and message reach the user as is);
//! a locked Holdfast answers `503 ServiceUnavailable` (it is transient:
//! clients back off and retry while the user unlocks).

use holdfast_core::identity::IdentityError;
use holdfast_core::s3::S3Error as StoreError;
use holdfast_core::vaults::VaultError;
use s3s::{S3Error, S3ErrorCode, s3_error};

pub fn quota_exceeded(hard_quota: u64, would_be_size: u64) -> S3Error {
    let mut e = S3Error::with_message(
        S3ErrorCode::Custom("QuotaExceeded".into()),
        format!(
            "the bucket's vault is over its hard quota: {would_be_size} bytes would exceed {hard_quota}"
        ),
    );
    e.set_status_code(axum::http::StatusCode::FORBIDDEN);
    e
}

pub fn locked() -> S3Error {
    s3_error!(
        ServiceUnavailable,
        "Holdfast is locked: unlock it on this computer to use the S3 gateway"
    )
}

pub fn internal(what: &str, e: impl std::fmt::Display) -> S3Error {
    tracing::error!("S3 {what}: {e}");
    s3_error!(InternalError, "internal error; see the Holdfast log")
}

pub fn vault(e: VaultError) -> S3Error {
    match e {
        VaultError::NotFound => s3_error!(NoSuchBucket),
        VaultError::FileNotFound => s3_error!(NoSuchKey),
        VaultError::VersionNotFound => s3_error!(NoSuchVersion),
        VaultError::Quota {
            hard_quota,
            would_be_size,
            ..
        } => quota_exceeded(hard_quota, would_be_size),
        VaultError::NameTaken => s3_error!(BucketAlreadyOwnedByYou),
        VaultError::Invalid(m) | VaultError::PathClash(m) => {
            S3Error::with_message(S3ErrorCode::InvalidArgument, m)
        }
        VaultError::TargetExists => s3_error!(InvalidArgument, "a file exists at that key"),
        VaultError::NoConflict => s3_error!(InvalidArgument, "no conflict"),
        VaultError::ReadOnly => s3_error!(AccessDenied, "this bucket's vault is read-only"),
        VaultError::VaultLocked => s3_error!(
            AccessDenied,
            "this bucket's vault is locked by its own password; unlock it in Holdfast"
        ),
        VaultError::WrongPassword => s3_error!(AccessDenied),
        VaultError::Identity(i) => identity(i),
        e @ (VaultError::Block(_)
        | VaultError::Catalog(_)
        | VaultError::Io(_)
        | VaultError::Corrupt(_)) => internal("storage", e),
    }
}

pub fn identity(e: IdentityError) -> S3Error {
    match e {
        IdentityError::Locked | IdentityError::NeverUnlocked | IdentityError::Uninitialized => {
            locked()
        }
        e => internal("identity", e),
    }
}

pub fn store(e: StoreError) -> S3Error {
    match e {
        StoreError::NoSuchUpload => s3_error!(NoSuchUpload),
        StoreError::NoSuchAccessKey => s3_error!(InvalidAccessKeyId),
        StoreError::NoSuchGrant => s3_error!(AccessDenied),
        StoreError::Invalid(m) => S3Error::with_message(S3ErrorCode::InvalidArgument, m),
        StoreError::Identity(i) => identity(i),
        StoreError::Vault(v) => vault(v),
        e @ StoreError::Catalog(_) => internal("catalog", e),
    }
}
