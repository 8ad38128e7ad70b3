//! Tenant settings (spec "Settings", owner only), the scan rule set devices
//! read (spec "Scan Rules"), and the unauthenticated facts about this hub:
//! its terms, its (absent) billing, its capabilities.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use holdfast_core::hub::{scan_rules, settings};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::{DeviceAuth, Owner};
use super::error::HubApiResult;
use crate::api::openapi::Document;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, patch_settings))
        .routes(routes!(get_scan_rules))
        .routes(routes!(terms))
        .routes(routes!(billing_plans))
        .routes(routes!(capabilities))
}

/// The tenant's settings (defaults until changed), with its scan rule set
/// and that set's version and ETag.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("owner" = [])),
    responses((status = 200, description = "{tenant_id, marketplace_enabled, trust_history_days, default_workspace_role, scan_rules, scan_rules_version, scan_rules_etag, updated_at}"),
        (status = 401, description = "Not the owner"), (status = 403, description = "Unknown tenant")))]
async fn get_settings(State(state): State<AppState>, owner: Owner) -> HubApiResult<Json<Value>> {
    Ok(Json(
        settings::view(&state.hub.core.catalog, &owner.tenant).await?,
    ))
}

/// Merge the named settings: `marketplace_enabled` (bool),
/// `trust_history_days` (1-3650), `default_workspace_role` (`member` or
/// `viewer`), `scan_rules` (the whole set, at most 100 rules). Unknown keys
/// and bad values are 400 and change nothing.
#[utoipa::path(patch, path = "/api/v1/settings", tag = "settings", security(("owner" = [])),
    request_body(content = Value, description = "An object of known keys"),
    responses((status = 200, description = "The settings after the change"), (status = 400, description = "Unknown key or bad value"),
        (status = 401, description = "Not the owner")))]
async fn patch_settings(
    State(state): State<AppState>,
    owner: Owner,
    HubJson(body): HubJson<Value>,
) -> HubApiResult<Json<Value>> {
    let v = settings::patch(&state.hub.core.catalog, &owner.tenant, &body).await?;
    let keys: Vec<&String> = body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    state
        .audit
        .record(
            "hub_settings_changed",
            json!({"tenant_id": owner.tenant, "keys": keys, "scan_rules_version": v["scan_rules_version"]}),
        )
        .await;
    Ok(Json(v))
}

/// The current scan rule set of the caller's tenant. Clients scan their
/// own plaintext with it before encrypting; `If-None-Match` with the last
/// ETag answers 304 while the set is unchanged.
#[utoipa::path(get, path = "/api/v1/scan-rules", tag = "settings", security(("device" = []), ("api_key" = [])),
    params(("If-None-Match" = Option<String>, Header)),
    responses((status = 200, description = "{version, etag, rules, updated_at}"), (status = 304, description = "Unchanged"),
        (status = 401, description = "Not a device"), (status = 403, description = "Revoked device")))]
async fn get_scan_rules(
    State(state): State<AppState>,
    auth: DeviceAuth,
    headers: HeaderMap,
) -> HubApiResult<Response> {
    let set = scan_rules::current(&state.hub.core.catalog, &auth.device.tenant_id).await?;
    let etag = set.etag.clone();
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok(([(header::ETAG, etag)], Json(json!(set))).into_response())
}

/// The version of the terms below; bump it when their text changes.
const TERMS_VERSION: &str = "2026-12-01";

const TERMS: &str = "This agent hub runs inside Holdfast on its owner's own machine. \
The owner operates it, for themselves and the agents they enrol; there is no provider \
between you and the owner. The hub relays end-to-end encrypted (MLS) messages and stores \
ciphertext, public keys and handshake material only; it cannot read message content. \
It keeps the records it needs to work: devices and their status, delivery queues until \
acknowledged, audit events, telemetry an agent chooses to send, and scores computed from \
those records. The owner can see and delete them. Agents may be suspended or revoked by \
the owner at any time. No payments are taken and no fees are charged through this hub. \
The software is provided as is, without warranty.";

/// This hub's terms of service.
#[utoipa::path(get, path = "/api/v1/legal/terms", tag = "info",
    responses((status = 200, description = "{version, effective_date, operator, text}")))]
async fn terms() -> Json<Value> {
    Json(json!({
        "version": TERMS_VERSION,
        "effective_date": TERMS_VERSION,
        "operator": "the owner of this Holdfast installation (self-hosted)",
        "text": TERMS,
    }))
}

/// Billing plans: none. This hub is self-hosted and takes no payments.
#[utoipa::path(get, path = "/api/v1/billing/plans", tag = "info",
    responses((status = 200, description = "{billing_supported: false, plans: [], detail}")))]
async fn billing_plans() -> Json<Value> {
    Json(json!({
        "billing_supported": false,
        "payments_supported": false,
        "plans": [],
        "detail": "This hub is self-hosted inside Holdfast: there are no plans, fees or \
                   payments. Every feature it offers is available to its owner.",
    }))
}

/// What this hub offers: its protocol facts and the route groups it serves
/// (read from its own OpenAPI document, so the list is always the truth).
#[utoipa::path(get, path = "/api/v1/capabilities", tag = "info",
    responses((status = 200, description = "{hub, version, self_hosted, zero_knowledge, auth, mls, limits, features, billing, payments}")))]
async fn capabilities(Extension(doc): Extension<Arc<Document>>) -> Json<Value> {
    let doc: Value = serde_json::from_str(&doc.json).unwrap_or(Value::Null);
    let mut groups: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, ops) in paths {
            for (method, op) in ops.as_object().into_iter().flatten() {
                if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    continue;
                }
                let tag = op["tags"][0].as_str().unwrap_or("other").to_owned();
                groups
                    .entry(tag)
                    .or_default()
                    .push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    for routes in groups.values_mut() {
        routes.sort();
    }
    Json(json!({
        "hub": "holdfast",
        "version": env!("CARGO_PKG_VERSION"),
        "self_hosted": true,
        "zero_knowledge": true,
        "auth": ["owner_bearer", "device_jwt"],
        "mls": {"ciphersuites": [1], "delivery": "per-device queue, at-least-once", "max_message_bytes": 256 * 1024},
        "limits": {
            "enroll_per_ip_per_10_min": 5,
            "socket_messages_per_minute": 60,
            "device_calls_per_minute": 600,
            "max_body_bytes": super::BODY_LIMIT,
        },
        "features": groups.keys().collect::<Vec<_>>(),
        "routes": groups,
        "billing": false,
        "payments": false,
    }))
}
