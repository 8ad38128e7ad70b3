//! Attachments over HTTP: `POST /api/v1/attachments/upload` takes the
//! client-encrypted bytes (the raw body, or the `file` part of a
//! multipart/form-data body) from the owner or an ACTIVE device;
//! `GET /api/v1/attachments/{blob_id}` answers them as stored
//! (application/octet-stream) to those [`attachments::may_read`] allows.
//! Devices may name themselves with `?device_id=` (§8.4 of the device
//! protocol); naming another device is refused with 403.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use holdfast_core::hub::{attachments, parse_id};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Caller;
use super::error::{HubApiError, HubApiResult};
use crate::state::AppState;

/// Room for multipart framing around the largest file.
const MULTIPART_SLACK: usize = 64 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(download))
}

fn too_large(limits: attachments::Limits) -> HubApiError {
    HubApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("attachments are at most {} bytes", limits.max_bytes),
    )
}

fn bounded_text(v: Option<&str>, max: usize) -> Option<String> {
    v.map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= max && !s.chars().any(char::is_control))
        .map(str::to_owned)
}

/// Upload client-encrypted bytes; answers the blob's id and the URL to
/// fetch it from.
#[utoipa::path(post, path = "/api/v1/attachments/upload", tag = "attachments",
    security(("owner" = []), ("device" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The encrypted bytes, or multipart/form-data with a `file` part"),
    responses((status = 201, description = "{blob_id, blob_url, size, content_hash, created_at}"),
        (status = 400, description = "Empty body or malformed multipart"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Device not active"),
        (status = 413, description = "Over the size limit or the tenant's quota")))]
async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match store_upload(state, caller, headers, body).await {
        Ok(created) => created.into_response(),
        Err(e) => {
            // A body refused unread leaves the connection unusable.
            let close = e.status == StatusCode::PAYLOAD_TOO_LARGE;
            let mut res = e.into_response();
            if close {
                res.headers_mut().insert(
                    header::CONNECTION,
                    header::HeaderValue::from_static("close"),
                );
            }
            res
        }
    }
}

async fn store_upload(
    state: AppState,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let limits = state.hub.attachments;
    let max = limits.max_bytes as usize + MULTIPART_SLACK;
    if headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > max as u64)
    {
        return Err(too_large(limits));
    }
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| too_large(limits))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (data, meta) = if let Some(boundary) = multipart_boundary(content_type) {
        let part = multipart_file(&bytes, &boundary).ok_or_else(|| {
            HubApiError::bad_request("multipart body has no `file` part (or is malformed)")
        })?;
        let meta = attachments::Meta {
            content_type: bounded_text(part.content_type.as_deref(), 100),
            file_name: bounded_text(part.file_name.as_deref(), 255),
        };
        (part.data.to_vec(), meta)
    } else {
        let meta = attachments::Meta {
            content_type: bounded_text(Some(content_type), 100),
            file_name: bounded_text(
                headers.get("x-file-name").and_then(|v| v.to_str().ok()),
                255,
            ),
        };
        (bytes.to_vec(), meta)
    };
    let uploader = caller.device().map(|d| d.id.clone());
    let a = attachments::store(
        &state.hub.core.catalog,
        &state.vaults,
        limits,
        caller.tenant(),
        uploader.as_deref(),
        data,
        meta,
    )
    .await?;
    state
        .audit
        .record(
            "hub_attachment_uploaded",
            json!({"blob_id": a.blob_id, "tenant_id": a.tenant_id, "device_id": a.uploader_device_id,
                   "size": a.size}),
        )
        .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "blob_id": a.blob_id,
            "blob_url": format!("/api/v1/attachments/{}", a.blob_id),
            "size": a.size,
            "content_hash": a.content_hash,
            "content_type": a.content_type,
            "file_name": a.file_name,
            "created_at": a.created_at,
        })),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DownloadQuery {
    /// The asking device (§8.4); must be the token's own.
    device_id: Option<String>,
}

/// The stored (encrypted) bytes of an attachment.
#[utoipa::path(get, path = "/api/v1/attachments/{blob_id}", tag = "attachments",
    security(("owner" = []), ("device" = [])),
    params(("blob_id" = String, Path), DownloadQuery),
    responses((status = 200, description = "The raw ciphertext", content_type = "application/octet-stream"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Another device's device_id, or a device that may not read it"),
        (status = 404, description = "No such attachment in the caller's tenant")))]
async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(blob): Path<String>,
    Query(q): Query<DownloadQuery>,
) -> HubApiResult<Response> {
    if let (Caller::Device(d), Some(named)) = (&caller, q.device_id.as_deref())
        && parse_id(named).as_deref() != Some(d.id.as_str())
    {
        return Err(HubApiError::forbidden("device_id does not match the token"));
    }
    let id = parse_id(&blob).ok_or_else(|| HubApiError::not_found(attachments::NOT_FOUND))?;
    let a = attachments::get(&state.hub.core.catalog, caller.tenant(), &id).await?;
    if let Caller::Device(d) = &caller
        && !attachments::may_read(&state.hub.core.catalog, &a, d).await?
    {
        return Err(HubApiError::forbidden(
            "this device may not read the attachment",
        ));
    }
    let bytes = attachments::read(&state.vaults, &a).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.bin\"", a.blob_id),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The boundary of a multipart/form-data Content-Type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    if !parts
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

struct Part<'a> {
    data: &'a [u8],
    file_name: Option<String>,
    content_type: Option<String>,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The part named `file` (else the first part with a filename) of a
/// multipart/form-data body.
fn multipart_file<'a>(body: &'a [u8], boundary: &str) -> Option<Part<'a>> {
    let delim = format!("--{boundary}").into_bytes();
    let next_delim = format!("\r\n--{boundary}").into_bytes();
    let mut pos = find(body, &delim, 0)? + delim.len();
    let mut fallback = None;
    loop {
        // After a delimiter: "--" ends the body, else CRLF and headers.
        if body.get(pos..pos + 2)? == b"--" {
            return fallback;
        }
        let head_start = pos + 2;
        let head_end = find(body, b"\r\n\r\n", head_start)?;
        let head = std::str::from_utf8(&body[head_start..head_end]).ok()?;
        let data_start = head_end + 4;
        let data_end = find(body, &next_delim, data_start)?;
        let (mut name, mut file_name, mut content_type) = (None, None, None);
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                for attr in v.split(';') {
                    if let Some((a, val)) = attr.split_once('=') {
                        let val = val.trim().trim_matches('"').to_owned();
                        match a.trim() {
                            "name" => name = Some(val),
                            "filename" => file_name = Some(val),
                            _ => {}
                        }
                    }
                }
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(v.trim().to_owned());
            }
        }
        let part = Part {
            data: &body[data_start..data_end],
            file_name: file_name.clone(),
            content_type,
        };
        if name.as_deref() == Some("file") {
            return Some(part);
        }
        if fallback.is_none() && file_name.is_some() {
            fallback = Some(part);
        }
        pos = data_end + next_delim.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_file_part() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n{}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\r\n\x02\r\n--XyZ--\r\n";
        let b = multipart_boundary("multipart/form-data; boundary=XyZ").unwrap();
        let p = multipart_file(body, &b).unwrap();
        assert_eq!(p.data, b"\x00\x01\r\n\x02");
        assert_eq!(p.file_name.as_deref(), Some("a.bin"));
        assert!(multipart_file(b"--XyZ\r\nnope", &b).is_none());
        assert!(multipart_boundary("application/octet-stream").is_none());
    }
}
