//! DeleteObject and DeleteObjects. Without a version id a delete records a
//! tombstone (S3's delete marker; history keeps the content). With one it
//! removes that version for good, and the one before it becomes current
//! again, as S3 does.

use holdfast_core::vaults::VaultError;
use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result, s3_error};

use super::{errors, names, view};
use crate::state::AppState;

/// DeleteObjects takes at most this many keys per request, as S3 does.
const MAX_KEYS_PER_DELETE: usize = 1000;

struct Outcome {
    delete_marker: bool,
    version_id: Option<String>,
}

async fn delete_one(
    state: &AppState,
    vault_id: &str,
    key: &str,
    version_id: Option<&str>,
    if_match: Option<&ETagCondition>,
    versioned: bool,
) -> S3Result<Outcome> {
    let path = names::path(key)?;
    if let Some(id) = version_id.filter(|id| *id != "null") {
        let history = match state.vaults.history(vault_id, &path).await {
            Ok(h) => h,
            Err(VaultError::FileNotFound) => Vec::new(),
            Err(e) => return Err(errors::vault(e)),
        };
        let marker = history
            .iter()
            .find(|v| v.id == id)
            .is_some_and(|v| v.deleted);
        state
            .vaults
            .purge_version(vault_id, &path, id)
            .await
            .map_err(errors::vault)?;
        view::announce_path(state, vault_id, &path).await;
        return Ok(Outcome {
            delete_marker: marker,
            version_id: Some(id.to_owned()),
        });
    }
    if let Some(c) = if_match {
        view::check_write(state, vault_id, &path, Some(c), None).await?;
    }
    match state.vaults.delete_file(vault_id, &path).await {
        Ok(tomb) => {
            view::announce(state, &tomb);
            Ok(Outcome {
                delete_marker: versioned,
                version_id: versioned.then_some(tomb.id),
            })
        }
        // Deleting what is not there succeeds, as in S3.
        Err(VaultError::FileNotFound) => Ok(Outcome {
            delete_marker: false,
            version_id: None,
        }),
        Err(e) => Err(errors::vault(e)),
    }
}

pub async fn delete(
    state: &AppState,
    req: S3Request<DeleteObjectInput>,
) -> S3Result<S3Response<DeleteObjectOutput>> {
    let input = req.input;
    let vault = names::vault(state, &input.bucket).await?;
    let versioned = view::versioning_on(state, &vault.id).await?;
    let out = delete_one(
        state,
        &vault.id,
        &input.key,
        input.version_id.as_deref(),
        input.if_match.as_ref(),
        versioned,
    )
    .await?;
    Ok(S3Response::new(DeleteObjectOutput {
        delete_marker: out.delete_marker.then_some(true),
        version_id: out.version_id,
        ..Default::default()
    }))
}

fn error_entry(key: &str, version_id: Option<String>, e: &S3Error) -> Error {
    Error {
        code: Some(e.code().as_str().to_owned()),
        key: Some(key.to_owned()),
        message: e.message().map(str::to_owned),
        version_id,
    }
}

pub async fn delete_many(
    state: &AppState,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    let input = req.input;
    if input.delete.objects.len() > MAX_KEYS_PER_DELETE {
        return Err(s3_error!(
            MalformedXML,
            "DeleteObjects takes at most {} keys per request",
            MAX_KEYS_PER_DELETE
        ));
    }
    let vault = names::vault(state, &input.bucket).await?;
    let versioned = view::versioning_on(state, &vault.id).await?;
    let quiet = input.delete.quiet.unwrap_or(false);
    let (mut deleted, mut failed) = (Vec::new(), Vec::new());
    for o in input.delete.objects {
        match delete_one(
            state,
            &vault.id,
            &o.key,
            o.version_id.as_deref(),
            o.e_tag
                .as_ref()
                .map(|e| ETagCondition::ETag(e.clone()))
                .as_ref(),
            versioned,
        )
        .await
        {
            Ok(out) if !quiet => deleted.push(DeletedObject {
                key: Some(o.key),
                delete_marker: out.delete_marker.then_some(true),
                delete_marker_version_id: out
                    .delete_marker
                    .then(|| out.version_id.clone())
                    .flatten(),
                version_id: o.version_id,
            }),
            Ok(_) => {}
            Err(e) => failed.push(error_entry(&o.key, o.version_id, &e)),
        }
    }
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: (!failed.is_empty()).then_some(failed),
        ..Default::default()
    }))
}
