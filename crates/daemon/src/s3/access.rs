//! Grants, checked before any operation runs: each operation needs `read`,
//! `write` or `delete` on its bucket (`*` covers every bucket; creating a
//! bucket needs `write` on `*`). A key with no grant for a bucket gets
//! AccessDenied for everything in it, listing included; ListBuckets shows
//! only the buckets a key has some grant on. CopyObject and UploadPartCopy
//! also need `read` on their source, checked where the source is known.

use holdfast_core::s3::Op;
use holdfast_core::s3::keys::allows;
use s3s::access::{S3Access, S3AccessContext};
use s3s::path::S3Path;
use s3s::{S3Result, s3_error};

use super::errors;
use crate::state::AppState;

pub struct Grants(pub AppState);

/// What class of operation `op` is; `None` for ListBuckets (always
/// allowed, filtered by grants).
pub fn op_class(op: &str) -> Option<Op> {
    Some(match op {
        "ListBuckets" => return None,
        "HeadBucket"
        | "GetBucketLocation"
        | "GetBucketVersioning"
        | "ListObjects"
        | "ListObjectsV2"
        | "ListObjectVersions"
        | "ListMultipartUploads"
        | "GetObject"
        | "HeadObject"
        | "ListParts"
        | "GetObjectAttributes" => Op::Read,
        "DeleteObject" | "DeleteObjects" | "DeleteBucket" => Op::Delete,
        _ => Op::Write,
    })
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Read => "read",
        Op::Write => "write",
        Op::Delete => "delete",
    }
}

/// Whether the key `access_key` may do `op` on `bucket`.
pub async fn check(state: &AppState, access_key: &str, bucket: &str, op: Op) -> S3Result<()> {
    let grants = state
        .s3
        .keys
        .grants_of(access_key)
        .await
        .map_err(errors::store)?;
    let mut names = vec![bucket.to_owned()];
    if let Some((id, alias)) = state.vaults.s3_names(bucket).await.map_err(errors::vault)? {
        names.push(id);
        names.extend(alias);
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    if allows(&grants, &names, op) {
        Ok(())
    } else {
        Err(s3_error!(
            AccessDenied,
            "this access key has no {} grant on this bucket",
            op_name(op)
        ))
    }
}

#[async_trait::async_trait]
impl S3Access for Grants {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(creds) = cx.credentials() else {
            return Err(s3_error!(
                AccessDenied,
                "anonymous access is not allowed: sign requests with a Holdfast S3 key"
            ));
        };
        let key = creds.access_key.clone();
        let op = cx.s3_op().name();
        let Some(class) = op_class(op) else {
            return Ok(());
        };
        match cx.s3_path() {
            S3Path::Root => Ok(()),
            S3Path::Bucket { .. } if op == "CreateBucket" => {
                let grants = self
                    .0
                    .s3
                    .keys
                    .grants_of(&key)
                    .await
                    .map_err(errors::store)?;
                if allows(&grants, &[], Op::Write) {
                    Ok(())
                } else {
                    Err(s3_error!(
                        AccessDenied,
                        "creating buckets needs a write grant on every bucket ('*')"
                    ))
                }
            }
            S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => {
                check(&self.0, &key, bucket, class).await
            }
        }
    }
}
