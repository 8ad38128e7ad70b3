//! S3 admin over REST (`/s3/...`): the gateway's access keys, their grants
//! on buckets, and the listener switch the web UI flips. Keys and grants are
//! kept by `holdfast_core::s3::S3Keys`; these routes work while the listener
//! is off, so keys can be provisioned before it starts. A secret leaves the
//! daemon once, in the answer that mints it; it is never listed, audited or
//! logged.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use holdfast_core::identity::IdentityError;
use holdfast_core::s3::{Grant, KeyInfo, MintedKey, S3Error};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::api::error::{ApiError, ApiResult, ErrorBody};
use crate::api::extract::{ApiJson, ApiJsonOrEmpty};
use crate::s3::ListenerStatus;
use crate::state::AppState;

/// Longest access-key id a path or body may name (minted ones are 20).
const MAX_KEY_ID: usize = 128;

impl From<S3Error> for ApiError {
    fn from(e: S3Error) -> Self {
        let m = e.to_string();
        match e {
            S3Error::NoSuchAccessKey | S3Error::NoSuchGrant | S3Error::NoSuchUpload => {
                Self::not_found(m)
            }
            S3Error::Invalid(_) => Self::bad_request(m),
            // Secrets are sealed under the identity: the same 403 the vault
            // routes answer while Holdfast is locked.
            S3Error::Identity(IdentityError::Locked | IdentityError::NeverUnlocked) => {
                Self::forbidden("Holdfast is locked: S3 secrets are unavailable until you unlock")
            }
            S3Error::Identity(i) => i.into(),
            S3Error::Vault(v) => v.into(),
            S3Error::Catalog(c) => c.into(),
        }
    }
}

/// An access key as listed: never its secret.
#[derive(Serialize, ToSchema)]
pub struct KeyJson {
    pub access_key_id: String,
    pub name: Option<String>,
    pub created_ms: i64,
    /// When a request last signed with it (to the minute), if ever.
    pub last_used_ms: Option<i64>,
}

impl From<KeyInfo> for KeyJson {
    fn from(k: KeyInfo) -> Self {
        Self {
            access_key_id: k.access_key_id,
            name: k.name,
            created_ms: k.created_ms,
            last_used_ms: k.last_used_ms,
        }
    }
}

/// A key just minted: the only answer that carries its secret.
#[derive(Serialize, ToSchema)]
pub struct MintedKeyJson {
    pub access_key_id: String,
    /// Shown once; Holdfast cannot show it again.
    pub secret_access_key: String,
    pub name: Option<String>,
    pub created_ms: i64,
}

impl From<MintedKey> for MintedKeyJson {
    fn from(k: MintedKey) -> Self {
        Self {
            access_key_id: k.access_key_id,
            secret_access_key: k.secret_access_key,
            name: k.name,
            created_ms: k.created_ms,
        }
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct MintKey {
    /// A label for people (at most 100 characters); optional.
    pub name: Option<String>,
}

/// A grant: what one key may do on one bucket.
#[derive(Serialize, ToSchema)]
pub struct GrantJson {
    pub key_id: String,
    /// A bucket name (a vault's S3 alias), a vault id, or `*` for every bucket.
    pub bucket: String,
    /// Some of `read`, `write`, `delete`.
    pub ops: Vec<String>,
}

impl From<Grant> for GrantJson {
    fn from(g: Grant) -> Self {
        Self {
            key_id: g.key_id,
            bucket: g.bucket,
            ops: g
                .ops
                .iter()
                .map(|op| {
                    serde_json::to_value(op)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetGrant {
    pub key_id: String,
    /// A bucket name (a vault's S3 alias), a vault id, or `*`.
    pub bucket: String,
    /// One or more of `read`, `write`, `delete`; replaces the grant's ops.
    pub ops: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRef {
    pub key_id: String,
    pub bucket: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListenerSwitch {
    /// Start (true) or stop (false) the S3 listener; remembered across restarts.
    pub enabled: bool,
}

/// A vault as the S3 gateway names it.
#[derive(Serialize, ToSchema)]
pub struct BucketJson {
    pub vault_id: String,
    /// The vault's name, for people.
    pub name: String,
    /// Its S3 bucket name, if one is set (`PUT /vaults/{id}/s3-alias`).
    pub alias: Option<String>,
}

fn no_store() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h
}

fn check_key_id(id: &str) -> ApiResult<()> {
    if id.is_empty() || id.len() > MAX_KEY_ID {
        return Err(ApiError::bad_request(format!(
            "key_id: 1-{MAX_KEY_ID} characters"
        )));
    }
    Ok(())
}

/// Every access key (ids, names, dates; never a secret).
#[utoipa::path(get, path = "/s3/keys", tag = "s3", security(("bearer" = [])),
    responses((status = 200, body = Vec<KeyJson>), (status = 401, body = ErrorBody)))]
pub async fn list_keys(State(state): State<AppState>) -> ApiResult<Json<Vec<KeyJson>>> {
    let keys = state.s3.keys.list().await?;
    Ok(Json(keys.into_iter().map(Into::into).collect()))
}

/// Mint an access key. The secret is in this answer only.
#[utoipa::path(post, path = "/s3/keys", tag = "s3", security(("bearer" = [])),
    request_body(content = MintKey, description = "Optional: no body or `{}` mints an unnamed key"),
    responses((status = 201, body = MintedKeyJson),
              (status = 400, description = "Bad name, or already 1000 keys", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 403, description = "Holdfast is locked", body = ErrorBody),
              (status = 409, description = "The identity is not set up yet", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn mint_key(
    State(state): State<AppState>,
    ApiJsonOrEmpty(req): ApiJsonOrEmpty<MintKey>,
) -> ApiResult<(StatusCode, HeaderMap, Json<MintedKeyJson>)> {
    let name = req
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    let key = state.s3.keys.mint(name).await?;
    state
        .audit
        .record(
            "s3_key_minted",
            json!({"access_key_id": key.access_key_id, "name": key.name}),
        )
        .await;
    Ok((StatusCode::CREATED, no_store(), Json(key.into())))
}

/// Revoke an access key and its grants.
#[utoipa::path(delete, path = "/s3/keys/{key_id}", tag = "s3", security(("bearer" = [])),
    params(("key_id" = String, Path)),
    responses((status = 204, description = "Revoked"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Path(key_id): Path<String>,
) -> ApiResult<StatusCode> {
    if key_id.len() > MAX_KEY_ID {
        return Err(S3Error::NoSuchAccessKey.into());
    }
    state.s3.keys.revoke(&key_id).await?;
    state
        .audit
        .record("s3_key_revoked", json!({"access_key_id": key_id}))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Every grant: which key may do what on which bucket.
#[utoipa::path(get, path = "/s3/permissions", tag = "s3", security(("bearer" = [])),
    responses((status = 200, body = Vec<GrantJson>), (status = 401, body = ErrorBody)))]
pub async fn list_grants(State(state): State<AppState>) -> ApiResult<Json<Vec<GrantJson>>> {
    let grants = state.s3.keys.grants().await?;
    Ok(Json(grants.into_iter().map(Into::into).collect()))
}

/// Set (create or replace) the grant of a key on a bucket.
#[utoipa::path(put, path = "/s3/permissions", tag = "s3", security(("bearer" = [])),
    request_body = SetGrant,
    responses((status = 200, body = GrantJson),
              (status = 400, description = "Bad bucket, unknown or no ops", body = ErrorBody),
              (status = 401, body = ErrorBody),
              (status = 404, description = "No such access key", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn set_grant(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SetGrant>,
) -> ApiResult<Json<GrantJson>> {
    check_key_id(&req.key_id)?;
    if req.ops.len() > 16 {
        return Err(ApiError::bad_request("ops: at most read, write, delete"));
    }
    let grant = state
        .s3
        .keys
        .grant(&req.key_id, &req.bucket, &req.ops)
        .await?;
    let out = GrantJson::from(grant);
    state
        .audit
        .record(
            "s3_grant_set",
            json!({"access_key_id": out.key_id, "bucket": out.bucket, "ops": out.ops}),
        )
        .await;
    Ok(Json(out))
}

/// Remove the grant of a key on a bucket.
#[utoipa::path(delete, path = "/s3/permissions", tag = "s3", security(("bearer" = [])),
    request_body = GrantRef,
    responses((status = 204, description = "Removed"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, description = "No such grant", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn remove_grant(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<GrantRef>,
) -> ApiResult<StatusCode> {
    check_key_id(&req.key_id)?;
    if req.bucket.is_empty() || req.bucket.len() > 255 {
        return Err(ApiError::bad_request("bucket: 1-255 characters"));
    }
    state.s3.keys.revoke_grant(&req.key_id, &req.bucket).await?;
    state
        .audit
        .record(
            "s3_grant_removed",
            json!({"access_key_id": req.key_id, "bucket": req.bucket}),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Vaults as buckets: what a grant may name (the alias, else the vault id).
#[utoipa::path(get, path = "/s3/buckets", tag = "s3", security(("bearer" = [])),
    responses((status = 200, body = Vec<BucketJson>), (status = 401, body = ErrorBody)))]
pub async fn buckets(State(state): State<AppState>) -> ApiResult<Json<Vec<BucketJson>>> {
    let mut out = Vec::new();
    for v in state.vaults.list().await? {
        let alias = state.vaults.s3_alias(&v.id).await?;
        out.push(BucketJson {
            vault_id: v.id,
            name: v.name,
            alias,
        });
    }
    Ok(Json(out))
}

/// Whether the S3 listener runs, and where clients reach it.
#[utoipa::path(get, path = "/s3/listener", tag = "s3", security(("bearer" = [])),
    responses((status = 200, body = ListenerStatus), (status = 401, body = ErrorBody)))]
pub async fn listener(State(state): State<AppState>) -> Json<ListenerStatus> {
    Json(state.s3.gateway.status())
}

/// Start or stop the S3 listener now; the choice outlives restarts and wins
/// over `s3.enabled` in config.yaml.
#[utoipa::path(put, path = "/s3/listener", tag = "s3", security(("bearer" = [])),
    request_body = ListenerSwitch,
    responses((status = 200, body = ListenerStatus),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 409, description = "Cannot listen on s3.bind (e.g. the port is in use)", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn set_listener(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ListenerSwitch>,
) -> ApiResult<Json<ListenerStatus>> {
    let was = state.s3.gateway.status().enabled;
    let status = state
        .s3
        .gateway
        .set_enabled(state.clone(), req.enabled)
        .await
        .map_err(|e| {
            let m = format!("{e:#}");
            // `serve::bind` says "cannot listen on ADDR for the S3 gateway: …".
            if m.starts_with("cannot listen on") {
                tracing::warn!("{m}");
                ApiError::new(StatusCode::CONFLICT, m)
            } else {
                ApiError::internal(m)
            }
        })?;
    if was != status.enabled {
        state
            .audit
            .record(
                if status.enabled {
                    "s3_listener_started"
                } else {
                    "s3_listener_stopped"
                },
                json!({"bind": status.bind, "endpoint_url": status.endpoint_url}),
            )
            .await;
    }
    Ok(Json(status))
}
