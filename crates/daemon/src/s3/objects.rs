//! PutObject, GetObject, HeadObject and CopyObject. A PUT streams through
//! the same ingest as a REST upload (chunked, sealed, deduplicated, within
//! the quota), hashed on the way for its ETag and checksum; it is recorded
//! only once those check out.

use std::collections::BTreeMap;

use holdfast_core::s3::meta::recorder;
use holdfast_core::s3::{ContentHeaders, ObjectChecksum, ObjectMeta};
use holdfast_core::vaults::{FileVersion, Parents, origin};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::checksum::{self, Algo, Tap, Wanted};
use super::view::{self, ObjectView};
use super::{errors, names};
use crate::state::AppState;

/// What a client said about a body it sends.
pub struct BodyClaims<'a> {
    pub headers: &'a axum::http::HeaderMap,
    pub content_length: Option<i64>,
    pub content_md5: Option<&'a str>,
    pub wanted: Option<Wanted>,
    pub trailers: Option<s3s::TrailingHeaders>,
}

impl BodyClaims<'_> {
    /// The decoded length: aws-chunked bodies announce it separately.
    pub fn length(&self) -> Option<u64> {
        if let Some(v) = self.headers.get("x-amz-decoded-content-length") {
            return v.to_str().ok().and_then(|s| s.parse().ok());
        }
        let chunked = self
            .headers
            .get("x-amz-content-sha256")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("STREAMING-"));
        if chunked {
            return None;
        }
        self.content_length.and_then(|n| u64::try_from(n).ok())
    }
}

/// Ingest `body` as the new version of `path`, checking it against the
/// client's claims before it is recorded, with the S3 metadata `meta`
/// makes from its digests (in the same transaction).
pub async fn store(
    state: &AppState,
    vault_id: &str,
    path: &str,
    body: Option<StreamingBlob>,
    claims: BodyClaims<'_>,
    meta: impl FnOnce(&checksum::Digests) -> ObjectMeta,
) -> S3Result<(FileVersion, ObjectMeta)> {
    if let Some(len) = claims.length() {
        state
            .vaults
            .check_upload_fits(vault_id, path, len)
            .await
            .map_err(errors::vault)?;
    }
    let tap = Tap::new(claims.wanted.as_ref().map(|w| w.algo));
    let body = body.unwrap_or_else(|| {
        StreamingBlob::wrap(futures_util::stream::empty::<
            Result<axum::body::Bytes, std::io::Error>,
        >())
    });
    let reader = tokio_util::io::StreamReader::new(tap.wrap(body));
    let pending = match state.vaults.begin_upload(vault_id, path, reader).await {
        Ok(p) => p,
        Err(e) => return Err(tap.failure().unwrap_or_else(|| errors::vault(e))),
    };
    let digests = tap.finish();
    let trailers = claims.trailers.as_ref().and_then(|t| t.take());
    if let Err(e) = checksum::verify(
        &digests,
        claims.length(),
        claims.content_md5,
        claims.wanted.as_ref(),
        trailers.as_ref(),
    ) {
        state.vaults.abandon_upload(pending).await;
        return Err(e);
    }
    let meta = meta(&digests);
    let v = state
        .vaults
        .finish_upload(
            pending,
            Parents::Heads,
            origin::UPLOAD,
            Some(recorder(meta.clone())),
        )
        .await
        .map_err(errors::vault)?;
    view::announce(state, &v);
    Ok((v, meta))
}

/// `x-amz-meta-*` names are case-insensitive: keep them lower-case.
pub fn user_meta(m: Option<Metadata>) -> S3Result<BTreeMap<String, String>> {
    let m: BTreeMap<String, String> = m
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let size: usize = m.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > 2048 {
        return Err(s3_error!(
            MetadataTooLarge,
            "user metadata is limited to 2 KB"
        ));
    }
    Ok(m)
}

pub fn expires_string(t: Option<Timestamp>) -> Option<String> {
    let mut out = Vec::new();
    t?.format(TimestampFormat::HttpDate, &mut out).ok()?;
    String::from_utf8(out).ok()
}

fn expires_of(h: &ContentHeaders) -> Option<Timestamp> {
    Timestamp::parse(TimestampFormat::HttpDate, h.expires.as_deref()?).ok()
}

/// The checksum of one body as S3 reports it (a whole-object value).
pub fn full_object(sum: Option<(Algo, String)>) -> Option<ObjectChecksum> {
    sum.map(|(a, value)| ObjectChecksum {
        algorithm: a.name().to_owned(),
        value,
        kind: "FULL_OBJECT".to_owned(),
    })
}

pub fn checksum_fields(c: &Option<ObjectChecksum>) -> (Checksum, Option<ChecksumType>) {
    let mut out = Checksum::default();
    let Some(c) = c else {
        return (out, None);
    };
    let v = Some(c.value.clone());
    match Algo::parse(&c.algorithm) {
        Some(Algo::Crc32) => out.checksum_crc32 = v,
        Some(Algo::Crc32c) => out.checksum_crc32c = v,
        Some(Algo::Crc64Nvme) => out.checksum_crc64nvme = v,
        Some(Algo::Sha1) => out.checksum_sha1 = v,
        Some(Algo::Sha256) => out.checksum_sha256 = v,
        None => {}
    }
    (out, Some(ChecksumType::from(c.kind.clone())))
}

pub async fn put(
    state: &AppState,
    req: S3Request<PutObjectInput>,
) -> S3Result<S3Response<PutObjectOutput>> {
    let S3Request {
        input,
        headers,
        trailing_headers,
        ..
    } = req;
    let vault = names::vault(state, &input.bucket).await?;
    let path = names::path(&input.key)?;
    view::check_write(
        state,
        &vault.id,
        &path,
        input.if_match.as_ref(),
        input.if_none_match.as_ref(),
    )
    .await?;
    let meta_headers = ContentHeaders {
        content_type: input.content_type.clone(),
        content_encoding: input.content_encoding.clone(),
        content_disposition: input.content_disposition.clone(),
        content_language: input.content_language.clone(),
        cache_control: input.cache_control.clone(),
        expires: expires_string(input.expires.clone()),
    };
    let user = user_meta(input.metadata.clone())?;
    let claims = BodyClaims {
        headers: &headers,
        content_length: input.content_length,
        content_md5: input.content_md5.as_deref(),
        wanted: checksum::wanted(&headers, input.checksum_algorithm.as_ref())?,
        trailers: trailing_headers,
    };
    let (v, meta) = store(state, &vault.id, &path, input.body, claims, |d| {
        ObjectMeta {
            etag: d.md5_hex(),
            headers: meta_headers,
            user_meta: user,
            checksum: d.checksum.clone().map(|(a, value)| ObjectChecksum {
                algorithm: a.name().to_owned(),
                value,
                kind: "FULL_OBJECT".to_owned(),
            }),
            part_sizes: Vec::new(),
        }
    })
    .await?;
    let (sums, kind) = checksum_fields(&meta.checksum);
    let versioned = view::versioning_on(state, &vault.id).await?;
    Ok(S3Response::new(PutObjectOutput {
        e_tag: Some(ETag::Strong(meta.etag)),
        checksum_crc32: sums.checksum_crc32,
        checksum_crc32c: sums.checksum_crc32c,
        checksum_crc64nvme: sums.checksum_crc64nvme,
        checksum_sha1: sums.checksum_sha1,
        checksum_sha256: sums.checksum_sha256,
        checksum_type: kind,
        size: Some(v.size as i64),
        version_id: versioned.then(|| v.id.clone()),
        ..Default::default()
    }))
}

/// The byte span a GET or HEAD reads: a `partNumber`, a `Range`, or all.
fn span(o: &ObjectView, part: Option<i32>, range: Option<&Range>) -> S3Result<(u64, u64, bool)> {
    let size = o.v.size;
    if let Some(n) = part {
        let sizes = if o.meta.part_sizes.is_empty() {
            vec![size]
        } else {
            o.meta.part_sizes.clone()
        };
        let i = usize::try_from(n - 1)
            .ok()
            .filter(|i| *i < sizes.len())
            .ok_or_else(|| s3_error!(InvalidPart, "no such part"))?;
        let start: u64 = sizes[..i].iter().sum();
        return Ok((start, start + sizes[i], sizes.len() > 1));
    }
    match range {
        None => Ok((0, size, false)),
        Some(r) => match r.check(size) {
            Ok(r) => Ok((r.start, r.end, true)),
            Err(_) => Err(s3_error!(
                InvalidRange,
                "the requested range is not satisfiable"
            )),
        },
    }
}

pub async fn get(
    state: &AppState,
    req: S3Request<GetObjectInput>,
) -> S3Result<S3Response<GetObjectOutput>> {
    let input = req.input;
    let vault = names::vault(state, &input.bucket).await?;
    let path = names::path(&input.key)?;
    let o = view::find(state, &vault.id, &path, input.version_id.as_deref()).await?;
    view::check_read(
        &o,
        input.if_match.as_ref(),
        input.if_none_match.as_ref(),
        input.if_modified_since.as_ref(),
        input.if_unmodified_since.as_ref(),
    )?;
    let (start, end, partial) = span(&o, input.part_number, input.range.as_ref())?;
    let body = read_body(state, &o.v, start, end).await?;
    let whole = !partial;
    let (sums, kind) = if whole && checksum_mode(input.checksum_mode.as_ref()) {
        checksum_fields(&o.meta.checksum)
    } else {
        (Checksum::default(), None)
    };
    let versioned = view::versioning_on(state, &vault.id).await?;
    let h = &o.meta.headers;
    Ok(S3Response::new(GetObjectOutput {
        body: Some(body),
        accept_ranges: Some("bytes".to_owned()),
        content_length: Some((end - start) as i64),
        content_range: partial.then(|| format!("bytes {start}-{}/{}", end.max(1) - 1, o.v.size)),
        content_type: Some(
            input
                .response_content_type
                .unwrap_or_else(|| o.content_type()),
        ),
        content_encoding: input
            .response_content_encoding
            .or_else(|| h.content_encoding.clone()),
        content_disposition: input
            .response_content_disposition
            .or_else(|| h.content_disposition.clone()),
        content_language: input
            .response_content_language
            .or_else(|| h.content_language.clone()),
        cache_control: input
            .response_cache_control
            .or_else(|| h.cache_control.clone()),
        expires: input.response_expires.or_else(|| expires_of(h)),
        e_tag: Some(o.e_tag()),
        last_modified: Some(o.last_modified()),
        metadata: (!o.meta.user_meta.is_empty())
            .then(|| o.meta.user_meta.clone().into_iter().collect()),
        parts_count: (input.part_number.is_some() && !o.meta.part_sizes.is_empty())
            .then_some(o.meta.part_sizes.len() as i32),
        checksum_crc32: sums.checksum_crc32,
        checksum_crc32c: sums.checksum_crc32c,
        checksum_crc64nvme: sums.checksum_crc64nvme,
        checksum_sha1: sums.checksum_sha1,
        checksum_sha256: sums.checksum_sha256,
        checksum_type: kind,
        version_id: versioned.then(|| o.v.id.clone()),
        ..Default::default()
    }))
}

fn checksum_mode(m: Option<&ChecksumMode>) -> bool {
    m.is_some_and(|m| m.as_str().eq_ignore_ascii_case("ENABLED"))
}

pub async fn head(
    state: &AppState,
    req: S3Request<HeadObjectInput>,
) -> S3Result<S3Response<HeadObjectOutput>> {
    let input = req.input;
    let vault = names::vault(state, &input.bucket).await?;
    let path = names::path(&input.key)?;
    let o = view::find(state, &vault.id, &path, input.version_id.as_deref()).await?;
    view::check_read(
        &o,
        input.if_match.as_ref(),
        input.if_none_match.as_ref(),
        input.if_modified_since.as_ref(),
        input.if_unmodified_since.as_ref(),
    )?;
    let (start, end, partial) = span(&o, input.part_number, input.range.as_ref())?;
    let (sums, kind) = if !partial && checksum_mode(input.checksum_mode.as_ref()) {
        checksum_fields(&o.meta.checksum)
    } else {
        (Checksum::default(), None)
    };
    let versioned = view::versioning_on(state, &vault.id).await?;
    let h = &o.meta.headers;
    Ok(S3Response::new(HeadObjectOutput {
        accept_ranges: Some("bytes".to_owned()),
        content_length: Some((end - start) as i64),
        content_type: Some(o.content_type()),
        content_encoding: h.content_encoding.clone(),
        content_disposition: h.content_disposition.clone(),
        content_language: h.content_language.clone(),
        cache_control: h.cache_control.clone(),
        expires: expires_of(h),
        e_tag: Some(o.e_tag()),
        last_modified: Some(o.last_modified()),
        metadata: (!o.meta.user_meta.is_empty())
            .then(|| o.meta.user_meta.clone().into_iter().collect()),
        parts_count: (input.part_number.is_some() && !o.meta.part_sizes.is_empty())
            .then_some(o.meta.part_sizes.len() as i32),
        checksum_crc32: sums.checksum_crc32,
        checksum_crc32c: sums.checksum_crc32c,
        checksum_crc64nvme: sums.checksum_crc64nvme,
        checksum_sha1: sums.checksum_sha1,
        checksum_sha256: sums.checksum_sha256,
        checksum_type: kind,
        version_id: versioned.then(|| o.v.id.clone()),
        ..Default::default()
    }))
}

/// The source of a CopyObject or UploadPartCopy, after checking the key
/// may read it and its `x-amz-copy-source-if-*` conditions.
pub async fn copy_source(
    state: &AppState,
    access_key: Option<&str>,
    source: &CopySource,
    conditions: (
        Option<&ETagCondition>,
        Option<&ETagCondition>,
        Option<&Timestamp>,
        Option<&Timestamp>,
    ),
) -> S3Result<ObjectView> {
    let CopySource::Bucket {
        bucket,
        key,
        version_id,
    } = source
    else {
        return Err(s3_error!(NotImplemented, "access point copy sources"));
    };
    let key_id = access_key.ok_or_else(|| s3_error!(AccessDenied))?;
    super::access::check(state, key_id, bucket, holdfast_core::s3::Op::Read).await?;
    let vault = names::vault(state, bucket).await?;
    let path = names::path(key)?;
    let o = view::find(state, &vault.id, &path, version_id.as_deref()).await?;
    let (if_match, if_none_match, if_modified, if_unmodified) = conditions;
    match view::check_read(&o, if_match, if_none_match, if_modified, if_unmodified) {
        Err(e) if *e.code() == s3s::S3ErrorCode::NotModified => {
            Err(s3_error!(PreconditionFailed, "copy source not modified"))
        }
        other => other.map(|()| o),
    }
}

/// The bytes `[start, end)` of a version, as a body to ingest elsewhere.
pub async fn read_body(
    state: &AppState,
    v: &FileVersion,
    start: u64,
    end: u64,
) -> S3Result<StreamingBlob> {
    if !state.vaults.is_local(v).await.map_err(errors::vault)? {
        state.mesh.fetch_missing(v).await.map_err(|e| {
            s3_error!(
                ServiceUnavailable,
                "the source's blocks cannot be reached: {e}"
            )
        })?;
    }
    let plan = state
        .vaults
        .read_plan(v, start, end)
        .await
        .map_err(errors::vault)?;
    Ok(StreamingBlob::wrap(crate::http::content::plan_body(plan)))
}

pub async fn copy(
    state: &AppState,
    req: S3Request<CopyObjectInput>,
) -> S3Result<S3Response<CopyObjectOutput>> {
    let access_key = req.credentials.as_ref().map(|c| c.access_key.clone());
    let input = req.input;
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
    let vault = names::vault(state, &input.bucket).await?;
    let path = names::path(&input.key)?;
    let replace = input
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str().eq_ignore_ascii_case("REPLACE"));
    if !replace && src.v.vault_id == vault.id && src.v.path == path {
        return Err(s3_error!(
            InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata."
        ));
    }
    let meta = if replace {
        ObjectMeta {
            etag: String::new(),
            headers: ContentHeaders {
                content_type: input.content_type.clone(),
                content_encoding: input.content_encoding.clone(),
                content_disposition: input.content_disposition.clone(),
                content_language: input.content_language.clone(),
                cache_control: input.cache_control.clone(),
                expires: expires_string(input.expires.clone()),
            },
            user_meta: user_meta(input.metadata.clone())?,
            checksum: None,
            part_sizes: Vec::new(),
        }
    } else {
        src.meta.clone()
    };
    // Same vault: the new version names the same blocks. Another vault
    // has another key, so the bytes are read and sealed again.
    let (v, meta) = if src.v.vault_id == vault.id {
        let meta = ObjectMeta {
            etag: src.meta.etag.clone(),
            checksum: src.meta.checksum.clone(),
            part_sizes: src.meta.part_sizes.clone(),
            ..meta
        };
        let v = state
            .vaults
            .copy_version(&src.v, &path, origin::UPLOAD, Some(recorder(meta.clone())))
            .await
            .map_err(errors::vault)?;
        view::announce(state, &v);
        (v, meta)
    } else {
        let body = read_body(state, &src.v, 0, src.v.size).await?;
        let headers = axum::http::HeaderMap::new();
        let claims = BodyClaims {
            headers: &headers,
            content_length: Some(src.v.size as i64),
            content_md5: None,
            wanted: src
                .meta
                .checksum
                .as_ref()
                .filter(|c| c.kind == "FULL_OBJECT")
                .and_then(|c| Algo::parse(&c.algorithm))
                .map(|algo| Wanted {
                    algo,
                    value: None,
                    trailer: false,
                }),
            trailers: None,
        };
        store(state, &vault.id, &path, Some(body), claims, |d| {
            ObjectMeta {
                // A multipart ETag or a derived one stays what it was.
                etag: if src.from_s3 && src.meta.part_sizes.is_empty() {
                    d.md5_hex()
                } else {
                    src.meta.etag.clone()
                },
                checksum: d
                    .checksum
                    .clone()
                    .map(|(a, value)| ObjectChecksum {
                        algorithm: a.name().to_owned(),
                        value,
                        kind: "FULL_OBJECT".to_owned(),
                    })
                    .or(src.meta.checksum.clone()),
                part_sizes: src.meta.part_sizes.clone(),
                ..meta
            }
        })
        .await?
    };
    let etag = meta.etag.clone();
    let (sums, kind) = checksum_fields(&meta.checksum);
    let versioned = view::versioning_on(state, &vault.id).await?;
    Ok(S3Response::new(CopyObjectOutput {
        copy_object_result: Some(CopyObjectResult {
            e_tag: Some(ETag::Strong(etag)),
            last_modified: Some(view::timestamp(v.created_ms)),
            checksum_crc32: sums.checksum_crc32,
            checksum_crc32c: sums.checksum_crc32c,
            checksum_crc64nvme: sums.checksum_crc64nvme,
            checksum_sha1: sums.checksum_sha1,
            checksum_sha256: sums.checksum_sha256,
            checksum_type: kind,
        }),
        copy_source_version_id: Some(src.v.id.clone()),
        version_id: versioned.then(|| v.id.clone()),
        ..Default::default()
    }))
}
