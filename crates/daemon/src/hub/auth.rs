//! Who is calling the hub: the daemon owner (the REST owner bearer, in the
//! tenant named by `X-Tenant-Id`, else the default one) or an enrolled
//! device (its device JWT). A device's standing is read from its row on
//! every call: suspended → 401, revoked or not yet active → 403, deleted →
//! 401 (§3.3).

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use holdfast_core::hub::apikeys;
use holdfast_core::hub::devices::{self, Device};
use holdfast_core::hub::{parse_id, tenants};

use super::error::HubApiError;
use crate::http::bearer;
use crate::state::AppState;

/// The daemon owner, acting in one tenant.
pub struct Owner {
    pub tenant: String,
}

/// An enrolled, ACTIVE device: its JWT as the bearer, or an API key
/// (`X-API-Key` or as the bearer) standing for the key's device.
pub struct DeviceAuth {
    pub device: Device,
}

fn token(headers: &HeaderMap) -> Result<Option<&str>, HubApiError> {
    bearer::bearer(headers)
        .map_err(|_| HubApiError::unauthorized("Authorization must be `Bearer <token>`"))
}

/// A device's credential: the bearer, else `X-API-Key`.
fn device_credential(headers: &HeaderMap) -> Result<Option<&str>, HubApiError> {
    if let Some(t) = token(headers)? {
        return Ok(Some(t));
    }
    match headers.get("x-api-key") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.trim()))
            .map_err(|_| HubApiError::unauthorized("Invalid API key")),
    }
}

/// Whether a bearer is the owner's (a REST session token, compared in
/// constant time by `Auth`).
pub fn is_owner(state: &AppState, token: &str) -> bool {
    state.auth.verify_bearer(token)
}

impl FromRequestParts<AppState> for Owner {
    type Rejection = HubApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HubApiError> {
        let t =
            token(&parts.headers)?.ok_or_else(|| HubApiError::unauthorized("Not authenticated"))?;
        if !is_owner(state, t) {
            return Err(HubApiError::unauthorized("Invalid or expired token"));
        }
        let tenant = match parts.headers.get("x-tenant-id") {
            None => state.hub.core.default_tenant.clone(),
            Some(v) => {
                let id =
                    v.to_str().ok().and_then(parse_id).ok_or_else(|| {
                        HubApiError::bad_request("X-Tenant-Id must be a tenant UUID")
                    })?;
                if !tenants::exists(&state.hub.core.catalog, &id).await? {
                    return Err(HubApiError::forbidden("Unknown tenant"));
                }
                id
            }
        };
        Ok(Owner { tenant })
    }
}

/// The device behind a device JWT or an API key (`av_agent_sk_…`, as
/// `X-API-Key` or the socket's `?token=`), whatever its status.
pub async fn device_of_token(state: &AppState, token: &str) -> Result<Device, HubApiError> {
    if apikeys::looks_like_key(token) {
        return match apikeys::device_of_key(&state.hub.core.catalog, token).await? {
            Some(d) => Ok(d),
            None => Err(HubApiError::unauthorized("Invalid API key")),
        };
    }
    let claims = state.hub.core.tokens.verify(token)?;
    match devices::get(&state.hub.core.catalog, &claims.sub).await? {
        Some(d) if d.tenant_id == claims.tid => Ok(d),
        _ => Err(HubApiError::unauthorized("Device not found")),
    }
}

/// Map a device's status to the answer a device-JWT call gets.
pub fn require_active(d: Device) -> Result<Device, HubApiError> {
    match d.status.as_str() {
        devices::ACTIVE => Ok(d),
        devices::SUSPENDED => Err(HubApiError::unauthorized("Device is suspended")),
        devices::REVOKED => Err(HubApiError::forbidden("Device has been revoked")),
        _ => Err(HubApiError::forbidden("Device is not active")),
    }
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = HubApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HubApiError> {
        let t = device_credential(&parts.headers)?
            .ok_or_else(|| HubApiError::unauthorized("Not authenticated"))?;
        let device = require_active(device_of_token(state, t).await?)?;
        if let Err(wait) = state.hub.limits.device_calls.check(&device.id) {
            return Err(HubApiError::rate_limited(wait));
        }
        Ok(DeviceAuth { device })
    }
}

/// The `device_id` a device names must be its own.
pub fn same_device(auth: &DeviceAuth, named: Option<&str>) -> Result<(), HubApiError> {
    match named {
        Some(id) if parse_id(id).as_deref() != Some(auth.device.id.as_str()) => {
            Err(HubApiError::forbidden("device_id does not match the token"))
        }
        _ => Ok(()),
    }
}

/// Either kind of caller, for the routes both the owner and devices use
/// (`GET /rooms`, `/a2a/channels`, `/hub/identities`, attachments…). A
/// bearer that is the owner's acts in its tenant; any other credential must
/// be an ACTIVE device's JWT or API key.
// One per request, moved not copied: boxing the device would only add an
// allocation.
#[allow(clippy::large_enum_variant)]
pub enum Caller {
    Owner { tenant: String },
    Device(Device),
}

impl Caller {
    pub fn tenant(&self) -> &str {
        match self {
            Caller::Owner { tenant } => tenant,
            Caller::Device(d) => &d.tenant_id,
        }
    }

    /// The calling device, when a device is calling.
    pub fn device(&self) -> Option<&Device> {
        match self {
            Caller::Owner { .. } => None,
            Caller::Device(d) => Some(d),
        }
    }

    /// 403 unless the owner is calling (for owner-only actions on shared routes).
    pub fn owner_tenant(&self) -> Result<&str, HubApiError> {
        match self {
            Caller::Owner { tenant } => Ok(tenant),
            Caller::Device(_) => Err(HubApiError::forbidden("Only the owner may do this")),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = HubApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HubApiError> {
        let owner = match token(&parts.headers)? {
            Some(t) => is_owner(state, t),
            None => false,
        };
        if owner {
            let Owner { tenant } = Owner::from_request_parts(parts, state).await?;
            return Ok(Caller::Owner { tenant });
        }
        let DeviceAuth { device } = DeviceAuth::from_request_parts(parts, state).await?;
        Ok(Caller::Device(device))
    }
}

/// The owner on a route devices also reach: a device's credential is
/// refused with 403 (it is valid, just not allowed here), before any body
/// is read.
pub struct OwnerOnly {
    pub tenant: String,
}

impl FromRequestParts<AppState> for OwnerOnly {
    type Rejection = HubApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HubApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        Ok(OwnerOnly {
            tenant: caller.owner_tenant()?.to_owned(),
        })
    }
}
