//! Buckets are vaults: ListBuckets shows the vaults a key has a grant on
//! (by alias, else id), CreateBucket makes a vault whose alias is the
//! bucket name, DeleteBucket removes an empty one. Versioning is on unless
//! a client suspends it (Holdfast keeps history either way; suspended
//! buckets stop naming version ids).

use holdfast_core::s3::keys::sees;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::{errors, names, view};
use crate::state::AppState;

/// The region S3 clients are told; any region signs the same here.
pub const REGION: &str = "us-east-1";

pub async fn list(
    state: &AppState,
    req: S3Request<ListBucketsInput>,
) -> S3Result<S3Response<ListBucketsOutput>> {
    let key = req
        .credentials
        .as_ref()
        .map(|c| c.access_key.clone())
        .ok_or_else(|| s3_error!(AccessDenied))?;
    let grants = state.s3.keys.grants_of(&key).await.map_err(errors::store)?;
    let aliases = state.vaults.s3_aliases().await.map_err(errors::vault)?;
    let mut buckets = Vec::new();
    for v in state.vaults.list().await.map_err(errors::vault)? {
        let alias = aliases.get(&v.id);
        let mut names = vec![v.id.as_str()];
        if let Some(a) = alias {
            names.push(a.as_str());
        }
        if !sees(&grants, &names) {
            continue;
        }
        let name = alias.cloned().unwrap_or_else(|| v.id.clone());
        if req
            .input
            .prefix
            .as_deref()
            .is_some_and(|p| !name.starts_with(p))
        {
            continue;
        }
        buckets.push(Bucket {
            name: Some(name),
            creation_date: Some(view::timestamp(v.created_ms)),
            bucket_region: Some(REGION.to_owned()),
        });
    }
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(buckets),
        owner: Some(Owner {
            display_name: Some("holdfast".to_owned()),
            id: Some(state.node.peer_id.to_string()),
        }),
        prefix: req.input.prefix,
        ..Default::default()
    }))
}

pub async fn head(
    state: &AppState,
    req: S3Request<HeadBucketInput>,
) -> S3Result<S3Response<HeadBucketOutput>> {
    names::vault(state, &req.input.bucket).await?;
    Ok(S3Response::new(HeadBucketOutput {
        bucket_region: Some(REGION.to_owned()),
        ..Default::default()
    }))
}

pub async fn create(
    state: &AppState,
    req: S3Request<CreateBucketInput>,
) -> S3Result<S3Response<CreateBucketOutput>> {
    let name = req.input.bucket;
    if holdfast_core::vaults::validate_s3_alias(&name).is_err() {
        return Err(s3_error!(
            InvalidBucketName,
            "bucket names are 3-63 of a-z, 0-9, '-', '.'"
        ));
    }
    if names::vault(state, &name).await.is_ok() {
        return Err(s3_error!(BucketAlreadyOwnedByYou));
    }
    let vault = state
        .vaults
        .create(&name, None, None)
        .await
        .map_err(errors::vault)?;
    if let Err(e) = state.vaults.set_s3_alias(&vault.id, Some(&name)).await {
        let _ = state.vaults.delete(&vault.id).await;
        return Err(errors::vault(e));
    }
    state.events.publish(
        "vault_created",
        serde_json::json!({"vault_id": vault.id, "name": vault.name, "cause": "s3"}),
    );
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{name}")),
    }))
}

pub async fn delete(
    state: &AppState,
    req: S3Request<DeleteBucketInput>,
) -> S3Result<S3Response<DeleteBucketOutput>> {
    let vault = names::vault(state, &req.input.bucket).await?;
    let live = state
        .vaults
        .files(&vault.id, "/", false)
        .await
        .map_err(errors::vault)?;
    let uploads = state
        .s3
        .uploads
        .list(&vault.id)
        .await
        .map_err(errors::store)?;
    if !live.is_empty() || !uploads.is_empty() {
        return Err(s3_error!(
            BucketNotEmpty,
            "The bucket you tried to delete is not empty"
        ));
    }
    state
        .vaults
        .delete(&vault.id)
        .await
        .map_err(errors::vault)?;
    state.events.publish(
        "vault_deleted",
        serde_json::json!({"vault_id": vault.id, "cause": "s3"}),
    );
    Ok(S3Response::new(DeleteBucketOutput {}))
}

pub async fn location(
    state: &AppState,
    req: S3Request<GetBucketLocationInput>,
) -> S3Result<S3Response<GetBucketLocationOutput>> {
    names::vault(state, &req.input.bucket).await?;
    // us-east-1 is answered as an empty constraint, as S3 does.
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint: None,
    }))
}

pub async fn get_versioning(
    state: &AppState,
    req: S3Request<GetBucketVersioningInput>,
) -> S3Result<S3Response<GetBucketVersioningOutput>> {
    let vault = names::vault(state, &req.input.bucket).await?;
    let status = state
        .s3
        .objects
        .versioning(&vault.id)
        .await
        .map_err(errors::store)?;
    Ok(S3Response::new(GetBucketVersioningOutput {
        status: Some(BucketVersioningStatus::from(status)),
        mfa_delete: None,
    }))
}

pub async fn put_versioning(
    state: &AppState,
    req: S3Request<PutBucketVersioningInput>,
) -> S3Result<S3Response<PutBucketVersioningOutput>> {
    let vault = names::vault(state, &req.input.bucket).await?;
    let status = req
        .input
        .versioning_configuration
        .status
        .as_ref()
        .map(|s| s.as_str().to_owned())
        .ok_or_else(|| s3_error!(MalformedXML, "VersioningConfiguration needs a Status"))?;
    if status != "Enabled" && status != "Suspended" {
        return Err(s3_error!(
            IllegalVersioningConfigurationException,
            "Status is Enabled or Suspended"
        ));
    }
    if req.input.versioning_configuration.mfa_delete.is_some() {
        return Err(s3_error!(NotImplemented, "MFA delete"));
    }
    state
        .s3
        .objects
        .set_versioning(&vault.id, &status)
        .await
        .map_err(errors::store)?;
    Ok(S3Response::new(PutBucketVersioningOutput {}))
}
