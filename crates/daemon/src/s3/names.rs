//! Buckets are vaults (named by their S3 alias, else their id) and object
//! keys are file paths without the leading `/`. A key Holdfast cannot hold
//! as a path unchanged (empty segments, `.`/`..`, a trailing `/`, control
//! characters) is refused rather than silently renamed.

use holdfast_core::vaults::Vault;
use holdfast_core::vaults::paths;
use s3s::{S3Error, S3Result, s3_error};

use super::errors;
use crate::state::AppState;

/// The vault behind a bucket name.
pub async fn vault(state: &AppState, bucket: &str) -> S3Result<Vault> {
    if bucket.len() > 255 {
        return Err(s3_error!(NoSuchBucket));
    }
    state.vaults.by_s3_name(bucket).await.map_err(errors::vault)
}

/// The file path an object key names.
pub fn path(key: &str) -> S3Result<String> {
    if key.len() > 1024 {
        return Err(s3_error!(KeyTooLongError));
    }
    let want = format!("/{key}");
    match paths::normalize(key) {
        Ok(p) if p == want => Ok(p),
        Ok(_) => Err(S3Error::with_message(
            s3s::S3ErrorCode::InvalidArgument,
            "Holdfast keeps objects as files: a key may not start or end with '/' or contain '//'",
        )),
        Err(m) => Err(S3Error::with_message(s3s::S3ErrorCode::InvalidArgument, m)),
    }
}

/// The object key of a file path.
pub fn key(path: &str) -> String {
    path.strip_prefix('/').unwrap_or(path).to_owned()
}

/// A key prefix as a path prefix for listing: the directory that holds
/// every key starting with it (listing then filters by the exact prefix).
pub fn listing_root(prefix: &str) -> String {
    match prefix.rfind('/') {
        Some(i) => format!("/{}", &prefix[..i]),
        None => "/".to_owned(),
    }
}
