//! Multipart uploads. Each part streams through the vault's ingest into
//! durable blocks as it arrives (nothing is buffered whole); completing the
//! upload records one version naming the chosen parts' blocks in order, so
//! the object is not copied again. ETags are `md5(part md5s)-N`; part
//! checksums combine into a COMPOSITE or FULL_OBJECT checksum as the upload
//! asked. Uploads left unfinished expire after a week.

use holdfast_core::s3::meta::recorder;
use holdfast_core::s3::uploads::UploadMeta;
use holdfast_core::s3::{ContentHeaders, ObjectChecksum, ObjectMeta, Upload};
use holdfast_core::vaults::origin;
use s3s::crypto::{Checksum as _, Md5};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::checksum::{self, Algo, Tap, Wanted};
use super::objects::{
    BodyClaims, checksum_fields, copy_source, expires_string, full_object, read_body, user_meta,
};
use super::{errors, names, view};
use crate::state::AppState;

/// S3's limits: parts 1..=10000, each but the last at least 5 MiB.
const MAX_PART: i32 = 10_000;
const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

fn default_kind(algo: Algo) -> &'static str {
    if algo == Algo::Crc64Nvme {
        "FULL_OBJECT"
    } else {
        "COMPOSITE"
    }
}

async fn upload_of(
    state: &AppState,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> S3Result<(String, Upload)> {
    let vault = names::vault(state, bucket).await?;
    let path = names::path(key)?;
    let upload = state
        .s3
        .uploads
        .get(&vault.id, &path, upload_id)
        .await
        .map_err(errors::store)?;
    Ok((path, upload))
}

pub async fn create(
    state: &AppState,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let input = req.input;
    let vault = names::vault(state, &input.bucket).await?;
    let path = names::path(&input.key)?;
    let algo = input
        .checksum_algorithm
        .as_ref()
        .map(Algo::from_dto)
        .transpose()?;
    let kind = match (&input.checksum_type, algo) {
        (Some(t), Some(a)) => {
            let t = t.as_str().to_ascii_uppercase();
            if t == "FULL_OBJECT" && !a.is_crc() {
                return Err(s3_error!(
                    InvalidRequest,
                    "FULL_OBJECT checksums need a CRC algorithm"
                ));
            }
            if t != "FULL_OBJECT" && t != "COMPOSITE" {
                return Err(s3_error!(
                    InvalidRequest,
                    "checksum type is FULL_OBJECT or COMPOSITE"
                ));
            }
            if t == "COMPOSITE" && a == Algo::Crc64Nvme {
                return Err(s3_error!(
                    InvalidRequest,
                    "CRC64NVME checksums are FULL_OBJECT only"
                ));
            }
            Some(t)
        }
        (Some(_), None) => {
            return Err(s3_error!(
                InvalidRequest,
                "a checksum type needs a checksum algorithm"
            ));
        }
        (None, Some(a)) => Some(default_kind(a).to_owned()),
        (None, None) => None,
    };
    // The vault must be writable now, not only at completion.
    state
        .vaults
        .check_upload_fits(&vault.id, &path, 0)
        .await
        .map_err(errors::vault)?;
    let meta = UploadMeta {
        headers: ContentHeaders {
            content_type: input.content_type,
            content_encoding: input.content_encoding,
            content_disposition: input.content_disposition,
            content_language: input.content_language,
            cache_control: input.cache_control,
            expires: expires_string(input.expires),
        },
        user_meta: user_meta(input.metadata)?,
        checksum_algorithm: algo.map(|a| a.name().to_owned()),
        checksum_type: kind.clone(),
    };
    let upload = state
        .s3
        .uploads
        .create(&vault.id, &path, meta)
        .await
        .map_err(errors::store)?;
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(upload.upload_id),
        checksum_algorithm: algo.map(|a| ChecksumAlgorithm::from(a.name().to_owned())),
        checksum_type: kind.map(ChecksumType::from),
        ..Default::default()
    }))
}

fn part_number(n: i32) -> S3Result<i32> {
    if (1..=MAX_PART).contains(&n) {
        Ok(n)
    } else {
        Err(s3_error!(
            InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive"
        ))
    }
}

/// The checksum a part carries, which must be the upload's algorithm.
fn part_wanted(upload: &Upload, wanted: Option<Wanted>) -> S3Result<Option<Wanted>> {
    let upload_algo = upload
        .meta
        .checksum_algorithm
        .as_deref()
        .and_then(Algo::parse);
    match (wanted, upload_algo) {
        (Some(w), Some(a)) if w.algo != a => Err(s3_error!(
            InvalidRequest,
            "the part's checksum algorithm differs from the upload's ({})",
            a.name()
        )),
        (Some(w), _) => Ok(Some(w)),
        (None, Some(a)) => Ok(Some(Wanted {
            algo: a,
            value: None,
            trailer: false,
        })),
        (None, None) => Ok(None),
    }
}

/// Stream one part into the store and record it; answers (md5 hex, checksum).
async fn store_part(
    state: &AppState,
    upload: &Upload,
    path: &str,
    n: i32,
    body: Option<StreamingBlob>,
    claims: BodyClaims<'_>,
) -> S3Result<(String, Option<(Algo, String)>)> {
    let tap = Tap::new(claims.wanted.as_ref().map(|w| w.algo));
    let body = body.unwrap_or_else(|| {
        StreamingBlob::wrap(futures_util::stream::empty::<
            Result<axum::body::Bytes, std::io::Error>,
        >())
    });
    let reader = tokio_util::io::StreamReader::new(tap.wrap(body));
    let stored = match state
        .vaults
        .store_blocks(&upload.vault_id, path, reader)
        .await
    {
        Ok(s) => s,
        Err(e) => return Err(tap.failure().unwrap_or_else(|| errors::vault(e))),
    };
    let d = tap.finish();
    let trailers = claims.trailers.as_ref().and_then(|t| t.take());
    // On a mismatch the stored blocks are unpinned and left to GC.
    checksum::verify(
        &d,
        claims.length(),
        claims.content_md5,
        claims.wanted.as_ref(),
        trailers.as_ref(),
    )?;
    let md5 = d.md5_hex();
    state
        .s3
        .uploads
        .put_part(
            &upload.upload_id,
            n,
            stored,
            &md5,
            d.checksum.as_ref().map(|(_, v)| v.clone()),
        )
        .await
        .map_err(errors::store)?;
    Ok((md5, d.checksum))
}

pub async fn upload_part(
    state: &AppState,
    req: S3Request<UploadPartInput>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let S3Request {
        input,
        headers,
        trailing_headers,
        ..
    } = req;
    let n = part_number(input.part_number)?;
    let (path, upload) = upload_of(state, &input.bucket, &input.key, &input.upload_id).await?;
    let wanted = part_wanted(
        &upload,
        checksum::wanted(&headers, input.checksum_algorithm.as_ref())?,
    )?;
    let claims = BodyClaims {
        headers: &headers,
        content_length: input.content_length,
        content_md5: input.content_md5.as_deref(),
        wanted,
        trailers: trailing_headers,
    };
    let (md5, sum) = store_part(state, &upload, &path, n, input.body, claims).await?;
    let sum = full_object(sum);
    let (sums, _) = checksum_fields(&sum);
    Ok(S3Response::new(UploadPartOutput {
        e_tag: Some(ETag::Strong(md5)),
        checksum_crc32: sums.checksum_crc32,
        checksum_crc32c: sums.checksum_crc32c,
        checksum_crc64nvme: sums.checksum_crc64nvme,
        checksum_sha1: sums.checksum_sha1,
        checksum_sha256: sums.checksum_sha256,
        ..Default::default()
    }))
}

/// `bytes=a-b` of a copy source (both ends given, as S3 requires).
fn copy_range(r: Option<&str>, size: u64) -> S3Result<(u64, u64)> {
    let Some(r) = r else {
        return Ok((0, size));
    };
    let bad = || {
        s3_error!(
            InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last"
        )
    };
    let (a, b) = r
        .trim()
        .strip_prefix("bytes=")
        .and_then(|s| s.split_once('-'))
        .ok_or_else(bad)?;
    let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if a > b || b >= size {
        return Err(s3_error!(
            InvalidRange,
            "the copy source range is not satisfiable"
        ));
    }
    Ok((a, b + 1))
}

pub async fn upload_part_copy(
    state: &AppState,
    req: S3Request<UploadPartCopyInput>,
) -> S3Result<S3Response<UploadPartCopyOutput>> {
    let access_key = req.credentials.as_ref().map(|c| c.access_key.clone());
    let input = req.input;
    let n = part_number(input.part_number)?;
    let (path, upload) = upload_of(state, &input.bucket, &input.key, &input.upload_id).await?;
    let src = copy_source(
        state,
        access_key.as_deref(),
        &input.copy_source,
        (
            input.copy_source_if_match.as_ref(),
            input.copy_source_if_none_match.as_ref(),
            input.copy_source_if_modified_since.as_ref(),
            input.copy_source_if_unmodified_since.as_ref(),
        ),
    )
    .await?;
    let (start, end) = copy_range(input.copy_source_range.as_deref(), src.v.size)?;
    let body = read_body(state, &src.v, start, end).await?;
    let headers = axum::http::HeaderMap::new();
    let claims = BodyClaims {
        headers: &headers,
        content_length: Some((end - start) as i64),
        content_md5: None,
        wanted: part_wanted(&upload, None)?,
        trailers: None,
    };
    let (md5, sum) = store_part(state, &upload, &path, n, Some(body), claims).await?;
    let sum = full_object(sum);
    let (sums, _) = checksum_fields(&sum);
    Ok(S3Response::new(UploadPartCopyOutput {
        copy_part_result: Some(CopyPartResult {
            e_tag: Some(ETag::Strong(md5)),
            last_modified: Some(view::timestamp(holdfast_core::time::now_ms())),
            checksum_crc32: sums.checksum_crc32,
            checksum_crc32c: sums.checksum_crc32c,
            checksum_crc64nvme: sums.checksum_crc64nvme,
            checksum_sha1: sums.checksum_sha1,
            checksum_sha256: sums.checksum_sha256,
        }),
        copy_source_version_id: Some(src.v.id.clone()),
        ..Default::default()
    }))
}

pub async fn list_parts(
    state: &AppState,
    req: S3Request<ListPartsInput>,
) -> S3Result<S3Response<ListPartsOutput>> {
    let input = req.input;
    let (_, upload) = upload_of(state, &input.bucket, &input.key, &input.upload_id).await?;
    let max = input.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
    let after = input.part_number_marker.unwrap_or(0);
    let parts = state
        .s3
        .uploads
        .parts(&upload.upload_id)
        .await
        .map_err(errors::store)?;
    let rest: Vec<_> = parts
        .into_iter()
        .filter(|p| p.part_number > after)
        .collect();
    let truncated = rest.len() > max;
    let algo = upload.meta.checksum_algorithm.clone();
    let out: Vec<Part> = rest
        .into_iter()
        .take(max)
        .map(|p| {
            let sum = p
                .checksum
                .clone()
                .zip(algo.clone())
                .map(|(value, algorithm)| ObjectChecksum {
                    algorithm,
                    value,
                    kind: "FULL_OBJECT".to_owned(),
                });
            let (sums, _) = checksum_fields(&sum);
            Part {
                part_number: Some(p.part_number),
                size: Some(p.size as i64),
                e_tag: Some(ETag::Strong(p.etag)),
                last_modified: Some(view::timestamp(p.created_ms)),
                checksum_crc32: sums.checksum_crc32,
                checksum_crc32c: sums.checksum_crc32c,
                checksum_crc64nvme: sums.checksum_crc64nvme,
                checksum_sha1: sums.checksum_sha1,
                checksum_sha256: sums.checksum_sha256,
            }
        })
        .collect();
    let next = truncated
        .then(|| out.last().and_then(|p| p.part_number))
        .flatten();
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(upload.upload_id),
        parts: Some(out),
        max_parts: Some(max as i32),
        part_number_marker: input.part_number_marker,
        next_part_number_marker: next,
        is_truncated: Some(truncated),
        checksum_algorithm: upload.meta.checksum_algorithm.map(ChecksumAlgorithm::from),
        checksum_type: upload.meta.checksum_type.map(ChecksumType::from),
        ..Default::default()
    }))
}

/// The value a completed part names for `algo`.
fn named_checksum(p: &CompletedPart, algo: Algo) -> Option<&str> {
    match algo {
        Algo::Crc32 => p.checksum_crc32.as_deref(),
        Algo::Crc32c => p.checksum_crc32c.as_deref(),
        Algo::Crc64Nvme => p.checksum_crc64nvme.as_deref(),
        Algo::Sha1 => p.checksum_sha1.as_deref(),
        Algo::Sha256 => p.checksum_sha256.as_deref(),
    }
}

fn whole_checksum(i: &CompleteMultipartUploadInput, algo: Algo) -> Option<&str> {
    match algo {
        Algo::Crc32 => i.checksum_crc32.as_deref(),
        Algo::Crc32c => i.checksum_crc32c.as_deref(),
        Algo::Crc64Nvme => i.checksum_crc64nvme.as_deref(),
        Algo::Sha1 => i.checksum_sha1.as_deref(),
        Algo::Sha256 => i.checksum_sha256.as_deref(),
    }
}

pub async fn complete(
    state: &AppState,
    req: S3Request<CompleteMultipartUploadInput>,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let input = req.input;
    let vault = names::vault(state, &input.bucket).await?;
    let (path, upload) = upload_of(state, &input.bucket, &input.key, &input.upload_id).await?;
    view::check_write(
        state,
        &vault.id,
        &path,
        input.if_match.as_ref(),
        input.if_none_match.as_ref(),
    )
    .await?;
    let chosen = input
        .multipart_upload
        .as_ref()
        .and_then(|m| m.parts.as_ref())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| s3_error!(MalformedXML, "You must specify at least one part"))?;
    let stored = state
        .s3
        .uploads
        .parts(&upload.upload_id)
        .await
        .map_err(errors::store)?;
    let algo = upload
        .meta
        .checksum_algorithm
        .as_deref()
        .and_then(Algo::parse);
    let numbers: Vec<i32> = chosen
        .iter()
        .map(|c| {
            c.part_number
                .ok_or_else(|| s3_error!(InvalidPart, "a part has no number"))
        })
        .collect::<S3Result<_>>()?;
    if numbers.windows(2).any(|w| w[0] >= w[1]) {
        return Err(s3_error!(
            InvalidPartOrder,
            "The list of parts was not in ascending order. Parts must be ordered by part number."
        ));
    }
    let (mut ids, mut sizes, mut part_sizes) = (Vec::new(), Vec::new(), Vec::new());
    let (mut md5s, mut sums) = (Vec::new(), Vec::new());
    for (i, c) in chosen.iter().enumerate() {
        let n = numbers[i];
        let p = stored
            .iter()
            .find(|p| p.part_number == n)
            .ok_or_else(|| s3_error!(InvalidPart, "part {} was not uploaded", n))?;
        if let Some(e) = &c.e_tag
            && e.value() != p.etag
        {
            return Err(s3_error!(InvalidPart, "part {}'s ETag does not match", n));
        }
        if let Some(a) = algo
            && let Some(named) = named_checksum(c, a)
            && Some(named) != p.checksum.as_deref()
        {
            return Err(s3_error!(
                InvalidPart,
                "part {}'s checksum does not match",
                n
            ));
        }
        ids.extend(p.ids.iter().copied());
        sizes.extend(p.sizes.iter().copied());
        part_sizes.push(p.size);
        md5s.extend(hex::decode(&p.etag).map_err(|_| s3_error!(InternalError))?);
        sums.push((p.checksum.clone().unwrap_or_default(), p.size));
    }
    // Every part but the last is at least 5 MiB (checked once all exist).
    if part_sizes[..part_sizes.len() - 1]
        .iter()
        .any(|s| *s < MIN_PART_BYTES)
    {
        return Err(s3_error!(
            EntityTooSmall,
            "Your proposed upload is smaller than the minimum allowed object size."
        ));
    }
    let total: u64 = part_sizes.iter().sum();
    if let Some(n) = input.mpu_object_size
        && u64::try_from(n).ok() != Some(total)
    {
        return Err(s3_error!(
            InvalidRequest,
            "x-amz-mp-object-size does not match the parts"
        ));
    }
    let mut h = Md5::new();
    h.update(&md5s);
    let etag = format!("{}-{}", hex::encode(h.finalize()), chosen.len());
    let checksum = match algo {
        Some(a) if sums.iter().all(|(s, _)| !s.is_empty()) => {
            let full = upload.meta.checksum_type.as_deref() == Some("FULL_OBJECT");
            let value = checksum::combine(a, full, &sums)?;
            if let Some(claimed) = whole_checksum(&input, a)
                && claimed.split('-').next() != value.split('-').next()
            {
                return Err(s3_error!(
                    BadDigest,
                    "the object's checksum does not match its parts"
                ));
            }
            Some(ObjectChecksum {
                algorithm: a.name().to_owned(),
                value,
                kind: if full { "FULL_OBJECT" } else { "COMPOSITE" }.to_owned(),
            })
        }
        _ => None,
    };
    let meta = ObjectMeta {
        etag: etag.clone(),
        headers: upload.meta.headers.clone(),
        user_meta: upload.meta.user_meta.clone(),
        checksum,
        part_sizes,
    };
    // Reading the parts back for the content hash takes a while for big
    // objects: s3s keeps the connection alive meanwhile.
    let (state, bucket, key, vault_id) = (state.clone(), input.bucket, input.key, vault.id);
    let future = async move {
        let v = state
            .vaults
            .commit_blocks(
                &vault_id,
                &path,
                ids,
                sizes,
                origin::UPLOAD,
                Some(recorder(meta.clone())),
            )
            .await
            .map_err(errors::vault)?;
        view::announce(&state, &v);
        state
            .s3
            .uploads
            .finish(&upload.upload_id)
            .await
            .map_err(errors::store)?;
        let (sums, kind) = checksum_fields(&meta.checksum);
        let versioned = view::versioning_on(&state, &vault_id).await?;
        Ok(CompleteMultipartUploadOutput {
            bucket: Some(bucket.clone()),
            key: Some(key.clone()),
            e_tag: Some(ETag::Strong(etag)),
            location: Some(format!("/{bucket}/{key}")),
            checksum_crc32: sums.checksum_crc32,
            checksum_crc32c: sums.checksum_crc32c,
            checksum_crc64nvme: sums.checksum_crc64nvme,
            checksum_sha1: sums.checksum_sha1,
            checksum_sha256: sums.checksum_sha256,
            checksum_type: kind,
            version_id: versioned.then_some(v.id),
            ..Default::default()
        })
    };
    Ok(S3Response::new(CompleteMultipartUploadOutput {
        future: Some(Box::pin(future)),
        ..Default::default()
    }))
}

pub async fn abort(
    state: &AppState,
    req: S3Request<AbortMultipartUploadInput>,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    let input = req.input;
    let (_, upload) = upload_of(state, &input.bucket, &input.key, &input.upload_id).await?;
    state
        .s3
        .uploads
        .finish(&upload.upload_id)
        .await
        .map_err(errors::store)?;
    Ok(S3Response::new(AbortMultipartUploadOutput::default()))
}

pub async fn list_uploads(
    state: &AppState,
    req: S3Request<ListMultipartUploadsInput>,
) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
    let input = req.input;
    let vault = names::vault(state, &input.bucket).await?;
    let max = input.max_uploads.unwrap_or(1000).clamp(0, 1000) as usize;
    let prefix = input.prefix.clone().unwrap_or_default();
    let (km, um) = (
        input.key_marker.clone().unwrap_or_default(),
        input.upload_id_marker.clone(),
    );
    let all = state
        .s3
        .uploads
        .list(&vault.id)
        .await
        .map_err(errors::store)?;
    let rest: Vec<Upload> = all
        .into_iter()
        .filter(|u| names::key(&u.key).starts_with(&prefix))
        .filter(|u| {
            let k = names::key(&u.key);
            km.is_empty()
                || k > km
                || (k == km && um.as_deref().is_some_and(|m| u.upload_id.as_str() > m))
        })
        .collect();
    let truncated = rest.len() > max;
    let page: Vec<Upload> = rest.into_iter().take(max).collect();
    let (next_key, next_id) = match page.last() {
        Some(u) if truncated => (Some(names::key(&u.key)), Some(u.upload_id.clone())),
        _ => (None, None),
    };
    let uploads = page
        .into_iter()
        .map(|u| MultipartUpload {
            key: Some(names::key(&u.key)),
            upload_id: Some(u.upload_id),
            initiated: Some(view::timestamp(u.created_ms)),
            checksum_algorithm: u.meta.checksum_algorithm.map(ChecksumAlgorithm::from),
            checksum_type: u.meta.checksum_type.map(ChecksumType::from),
            storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
            ..Default::default()
        })
        .collect();
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(input.bucket),
        prefix: input.prefix,
        key_marker: input.key_marker,
        upload_id_marker: input.upload_id_marker,
        next_key_marker: next_key,
        next_upload_id_marker: next_id,
        max_uploads: Some(max as i32),
        is_truncated: Some(truncated),
        uploads: Some(uploads),
        delimiter: input.delimiter,
        ..Default::default()
    }))
}
