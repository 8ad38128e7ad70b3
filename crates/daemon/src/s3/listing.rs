//! ListObjectsV2, ListObjects (v1) and ListObjectVersions over a vault's
//! files, in S3's order (UTF-8 bytes), with prefix, delimiter (common
//! prefixes), markers/continuation, max-keys and `encoding-type=url`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use holdfast_core::vaults::{FileVersion, VaultError};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::view::{self, ObjectView};
use super::{errors, names};
use crate::state::AppState;

const MAX_KEYS: i32 = 1000;

/// What `encoding-type=url` leaves alone (as S3 does, `/` stays).
const KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

struct Encode(bool);

impl Encode {
    fn new(t: Option<&EncodingType>) -> S3Result<Self> {
        match t.map(|t| t.as_str()) {
            None => Ok(Self(false)),
            Some(t) if t.eq_ignore_ascii_case("url") => Ok(Self(true)),
            Some(_) => Err(s3_error!(
                InvalidArgument,
                "Invalid Encoding Method specified in Request"
            )),
        }
    }

    fn s(&self, v: &str) -> String {
        if self.0 {
            utf8_percent_encode(v, KEEP).to_string()
        } else {
            v.to_owned()
        }
    }

    fn opt(&self, v: Option<String>) -> Option<String> {
        v.map(|v| self.s(&v))
    }
}

fn max_keys(m: Option<i32>) -> S3Result<usize> {
    match m {
        Some(n) if n < 0 => Err(s3_error!(InvalidArgument, "max-keys must be at least 0")),
        Some(n) => Ok(n.min(MAX_KEYS) as usize),
        None => Ok(MAX_KEYS as usize),
    }
}

/// Files (current heads, or with tombstones) whose key starts with
/// `prefix`, by key.
async fn files(
    state: &AppState,
    vault_id: &str,
    prefix: &str,
    include_deleted: bool,
) -> S3Result<Vec<(String, FileVersion)>> {
    let root = names::listing_root(prefix);
    let root = holdfast_core::vaults::paths::normalize_prefix(&root).unwrap_or_else(|_| "/".into());
    let list = match state.vaults.listing(vault_id, &root, include_deleted).await {
        Ok(l) => l,
        Err(VaultError::FileNotFound) => Vec::new(),
        Err(e) => return Err(errors::vault(e)),
    };
    Ok(list
        .into_iter()
        .map(|(v, _)| (names::key(&v.path), v))
        .filter(|(k, _)| k.starts_with(prefix))
        .collect())
}

/// One page: the keys and common prefixes after `marker`, and whether more
/// remain. Each common prefix counts as one entry.
struct Page<T> {
    items: Vec<(String, T)>,
    prefixes: Vec<String>,
    truncated: bool,
    /// The last key or prefix returned (the next marker).
    last: Option<String>,
}

fn page<T>(
    all: Vec<(String, T)>,
    prefix: &str,
    delimiter: Option<&str>,
    marker: Option<&str>,
    max: usize,
) -> Page<T> {
    let mut out = Page {
        items: Vec::new(),
        prefixes: Vec::new(),
        truncated: false,
        last: None,
    };
    let delimiter = delimiter.filter(|d| !d.is_empty());
    for (key, item) in all {
        if let Some(m) = marker {
            let under_marker_prefix =
                delimiter.is_some_and(|d| m.ends_with(d)) && key.starts_with(m);
            if key.as_str() <= m || under_marker_prefix {
                continue;
            }
        }
        let common = delimiter.and_then(|d| {
            key[prefix.len()..]
                .find(d)
                .map(|i| key[..prefix.len() + i + d.len()].to_owned())
        });
        if let Some(cp) = &common
            && out.prefixes.last() == Some(cp)
        {
            continue;
        }
        if out.items.len() + out.prefixes.len() == max {
            out.truncated = true;
            break;
        }
        match common {
            Some(cp) => {
                out.last = Some(cp.clone());
                out.prefixes.push(cp);
            }
            None => {
                out.last = Some(key.clone());
                out.items.push((key, item));
            }
        }
    }
    out
}

async fn objects_of(state: &AppState, items: Vec<(String, FileVersion)>) -> S3Result<Vec<Object>> {
    let ids = items.iter().map(|(_, v)| v.id.clone()).collect();
    let mut metas = state
        .s3
        .objects
        .get_many(ids)
        .await
        .map_err(errors::store)?;
    Ok(items
        .into_iter()
        .map(|(key, v)| {
            let meta = metas.remove(&v.id);
            let o = ObjectView::new(v, meta);
            let (algo, kind) = match &o.meta.checksum {
                Some(c) => (
                    Some(vec![ChecksumAlgorithm::from(c.algorithm.clone())]),
                    Some(ChecksumType::from(c.kind.clone())),
                ),
                None => (None, None),
            };
            Object {
                key: Some(key),
                e_tag: Some(o.e_tag()),
                last_modified: Some(o.last_modified()),
                size: Some(o.v.size as i64),
                storage_class: Some(ObjectStorageClass::from_static(
                    ObjectStorageClass::STANDARD,
                )),
                checksum_algorithm: algo,
                checksum_type: kind,
                owner: None,
                restore_status: None,
            }
        })
        .collect())
}

fn prefixes(p: Vec<String>, enc: &Encode) -> Option<Vec<CommonPrefix>> {
    (!p.is_empty()).then(|| {
        p.into_iter()
            .map(|p| CommonPrefix {
                prefix: Some(enc.s(&p)),
            })
            .collect()
    })
}

pub async fn list_v2(
    state: &AppState,
    req: S3Request<ListObjectsV2Input>,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    let input = req.input;
    let vault = names::vault(state, &input.bucket).await?;
    let enc = Encode::new(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let marker = match &input.continuation_token {
        Some(t) => Some(
            B64.decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    s3_error!(
                        InvalidArgument,
                        "The continuation token provided is incorrect"
                    )
                })?,
        ),
        None => input.start_after.clone(),
    };
    let all = files(state, &vault.id, &prefix, false).await?;
    let p = page(
        all,
        &prefix,
        input.delimiter.as_deref(),
        marker.as_deref(),
        max,
    );
    let count = (p.items.len() + p.prefixes.len()) as i32;
    let next = p
        .truncated
        .then(|| p.last.as_ref().map(|l| B64.encode(l)))
        .flatten();
    let mut contents = objects_of(state, p.items).await?;
    for o in &mut contents {
        o.key = enc.opt(o.key.take());
    }
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(input.bucket),
        prefix: Some(enc.s(&prefix)),
        max_keys: Some(max as i32),
        key_count: Some(count),
        continuation_token: input.continuation_token,
        next_continuation_token: next,
        is_truncated: Some(p.truncated),
        contents: Some(contents),
        common_prefixes: prefixes(p.prefixes, &enc),
        delimiter: enc.opt(input.delimiter),
        encoding_type: input.encoding_type,
        start_after: enc.opt(input.start_after),
        ..Default::default()
    }))
}

pub async fn list_v1(
    state: &AppState,
    req: S3Request<ListObjectsInput>,
) -> S3Result<S3Response<ListObjectsOutput>> {
    let input = req.input;
    let vault = names::vault(state, &input.bucket).await?;
    let enc = Encode::new(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let all = files(state, &vault.id, &prefix, false).await?;
    let p = page(
        all,
        &prefix,
        input.delimiter.as_deref(),
        input.marker.as_deref(),
        max,
    );
    // NextMarker is returned only with a delimiter, as S3 does.
    let next = (p.truncated && input.delimiter.is_some())
        .then(|| p.last.clone())
        .flatten();
    let mut contents = objects_of(state, p.items).await?;
    for o in &mut contents {
        o.key = enc.opt(o.key.take());
    }
    Ok(S3Response::new(ListObjectsOutput {
        name: Some(input.bucket),
        prefix: Some(enc.s(&prefix)),
        marker: Some(enc.s(input.marker.as_deref().unwrap_or_default())),
        max_keys: Some(max as i32),
        is_truncated: Some(p.truncated),
        contents: Some(contents),
        common_prefixes: prefixes(p.prefixes, &enc),
        delimiter: enc.opt(input.delimiter),
        next_marker: enc.opt(next),
        encoding_type: input.encoding_type,
        ..Default::default()
    }))
}

pub async fn list_versions(
    state: &AppState,
    req: S3Request<ListObjectVersionsInput>,
) -> S3Result<S3Response<ListObjectVersionsOutput>> {
    let input = req.input;
    let vault = names::vault(state, &input.bucket).await?;
    let enc = Encode::new(input.encoding_type.as_ref())?;
    let max = max_keys(input.max_keys)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let versioned = view::versioning_on(state, &vault.id).await?;
    // Every version of every key, newest first within a key.
    let mut all: Vec<(String, (FileVersion, bool))> = Vec::new();
    for (key, head) in files(state, &vault.id, &prefix, true).await? {
        let history = if versioned {
            state
                .vaults
                .history(&vault.id, &head.path)
                .await
                .map_err(errors::vault)?
        } else {
            vec![head]
        };
        for (i, v) in history.into_iter().enumerate() {
            all.push((key.clone(), (v, i == 0)));
        }
    }
    // Resume after (key-marker, version-id-marker).
    if let Some(km) = input.key_marker.as_deref().filter(|k| !k.is_empty()) {
        let vm = input.version_id_marker.as_deref().filter(|v| !v.is_empty());
        let start = match vm {
            Some(vm) => all
                .iter()
                .position(|(k, (v, _))| k == km && v.id == vm)
                .map_or(all.len(), |i| i + 1),
            None => all
                .iter()
                .position(|(k, _)| k.as_str() > km)
                .unwrap_or(all.len()),
        };
        all.drain(..start);
    }
    let total = all.len();
    let mut taken: Vec<(String, (FileVersion, bool))> = Vec::new();
    let mut cps: Vec<String> = Vec::new();
    let delimiter = input.delimiter.as_deref().filter(|d| !d.is_empty());
    let mut consumed = 0;
    for (key, item) in all {
        let cp = delimiter.and_then(|d| {
            key[prefix.len()..]
                .find(d)
                .map(|i| key[..prefix.len() + i + d.len()].to_owned())
        });
        if let Some(cp) = &cp
            && cps.last() == Some(cp)
        {
            consumed += 1;
            continue;
        }
        if taken.len() + cps.len() == max {
            break;
        }
        consumed += 1;
        match cp {
            Some(cp) => cps.push(cp),
            None => taken.push((key, item)),
        }
    }
    let truncated = consumed < total;
    let (next_key, next_version) = match taken.last() {
        Some((k, (v, _))) if truncated => (Some(k.clone()), Some(v.id.clone())),
        _ => (None, None),
    };
    let ids = taken.iter().map(|(_, (v, _))| v.id.clone()).collect();
    let mut metas = state
        .s3
        .objects
        .get_many(ids)
        .await
        .map_err(errors::store)?;
    let (mut versions, mut markers) = (Vec::new(), Vec::new());
    for (key, (v, latest)) in taken {
        let version_id = Some(if versioned {
            v.id.clone()
        } else {
            "null".to_owned()
        });
        if v.deleted {
            markers.push(DeleteMarkerEntry {
                key: Some(enc.s(&key)),
                version_id,
                is_latest: Some(latest),
                last_modified: Some(view::timestamp(v.created_ms)),
                owner: None,
            });
            continue;
        }
        let meta = metas.remove(&v.id);
        let o = ObjectView::new(v, meta);
        versions.push(ObjectVersion {
            key: Some(enc.s(&key)),
            version_id,
            is_latest: Some(latest),
            e_tag: Some(o.e_tag()),
            last_modified: Some(o.last_modified()),
            size: Some(o.v.size as i64),
            storage_class: Some(ObjectVersionStorageClass::from_static(
                ObjectVersionStorageClass::STANDARD,
            )),
            ..Default::default()
        });
    }
    Ok(S3Response::new(ListObjectVersionsOutput {
        name: Some(input.bucket),
        prefix: Some(enc.s(&prefix)),
        key_marker: Some(input.key_marker.unwrap_or_default()),
        version_id_marker: Some(input.version_id_marker.unwrap_or_default()),
        max_keys: Some(max as i32),
        is_truncated: Some(truncated),
        next_key_marker: enc.opt(next_key),
        next_version_id_marker: next_version,
        versions: Some(versions),
        delete_markers: (!markers.is_empty()).then_some(markers),
        common_prefixes: prefixes(cps, &enc),
        delimiter: enc.opt(input.delimiter),
        encoding_type: input.encoding_type,
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<(String, ())> {
        list.iter().map(|k| ((*k).to_owned(), ())).collect()
    }

    #[test]
    fn delimiter_groups_and_pages_resume_after_a_prefix() {
        let all = keys(&["a/1", "a/2", "b", "c/x/1", "d"]);
        let p = page(all.clone(), "", Some("/"), None, 2);
        assert_eq!(p.prefixes, vec!["a/"]);
        assert_eq!(p.items.len(), 1);
        assert!(p.truncated);
        let p2 = page(all, "", Some("/"), p.last.as_deref(), 2);
        assert_eq!(p2.prefixes, vec!["c/"]);
        assert_eq!(
            p2.items.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            vec!["d"]
        );
        assert!(!p2.truncated);
    }

    #[test]
    fn max_keys_zero_is_an_empty_untruncated_page_only_when_nothing_is_left() {
        let p = page(keys(&["a"]), "", None, None, 0);
        assert!(p.items.is_empty() && p.truncated);
    }
}
