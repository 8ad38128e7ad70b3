//! The owner's operational views of the hub: push token registration (no
//! push service: delivery is reported unavailable), an agent's telemetry
//! spans and their summary, the dashboard's recent activity and the hub's
//! audit events.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use holdfast_core::hub::{activity, devices, parse_id, push, telemetry};
use holdfast_core::time::now_ms;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HubJson;
use super::auth::Owner;
use super::error::{HubApiError, HubApiResult};
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(push_register))
        .routes(routes!(push_test))
        .routes(routes!(telemetry_spans))
        .routes(routes!(telemetry_summary))
        .routes(routes!(dashboard_activity))
        .routes(routes!(audit_events))
}

fn ms(field: &str, v: Option<&str>) -> HubApiResult<Option<i64>> {
    match v {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| HubApiError::bad_request(format!("{field} must be ms since epoch"))),
    }
}

fn limit(v: Option<&str>, default: usize, max: usize) -> HubApiResult<usize> {
    match v {
        None | Some("") => Ok(default),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| HubApiError::bad_request(format!("limit must be 1-{max}"))),
    }
}

#[derive(Deserialize, ToSchema)]
struct PushRegister {
    /// An Expo push token, `ExponentPushToken[…]`.
    #[serde(default, alias = "push_token", alias = "expo_push_token")]
    token: Option<String>,
    /// The owner's device the token belongs to (one of the tenant's owner devices).
    #[serde(default)]
    device_id: Option<String>,
    /// ios, android or web.
    #[serde(default)]
    platform: Option<String>,
}

/// Store an Expo push token. No push service is configured on a
/// self-hosted hub, so the answer says `delivery: "unavailable"`.
#[utoipa::path(post, path = "/api/v1/push/register", tag = "push", request_body = PushRegister,
    security(("owner" = [])),
    responses((status = 201, description = "Stored: {id, token, platform, device_id, delivery: \"unavailable\", detail}"),
        (status = 200, description = "Already stored (refreshed)"),
        (status = 400, description = "Not an Expo push token, or a bad platform"),
        (status = 401, description = "Not the owner"),
        (status = 404, description = "device_id is not one of the tenant's owner devices")))]
async fn push_register(
    State(state): State<AppState>,
    owner: Owner,
    HubJson(body): HubJson<PushRegister>,
) -> HubApiResult<(StatusCode, Json<Value>)> {
    let token = body
        .token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| HubApiError::bad_request("token is required"))?;
    let device = match body.device_id.as_deref() {
        None => None,
        Some(id) => {
            let id = parse_id(id).ok_or_else(|| HubApiError::not_found(devices::NOT_FOUND))?;
            let d = devices::get_in(&state.hub.core.catalog, &owner.tenant, &id).await?;
            if d.device_type != "owner" {
                return Err(HubApiError::not_found(devices::NOT_FOUND));
            }
            Some(d.id)
        }
    };
    let (row, created) = push::register(
        &state.hub.core.catalog,
        &owner.tenant,
        device,
        token,
        body.platform,
    )
    .await?;
    if created {
        state
            .audit
            .record(
                "hub_push_registered",
                json!({"push_token_id": row.id, "tenant_id": row.tenant_id}),
            )
            .await;
    }
    let mut v = serde_json::to_value(&row).unwrap_or(Value::Null);
    v["detail"] = Value::from(push::UNAVAILABLE);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(v)))
}

/// Send a test notification to the tenant's push tokens: always 503, as
/// no push service is configured (409 when no token is registered).
#[utoipa::path(post, path = "/api/v1/push/test", tag = "push", security(("owner" = [])),
    responses((status = 503, description = "No push service is configured"),
        (status = 401, description = "Not the owner"),
        (status = 409, description = "No push token is registered")))]
async fn push_test(State(state): State<AppState>, owner: Owner) -> HubApiResult<Json<Value>> {
    push::send(&state.hub.core.catalog, &owner.tenant).await?;
    Ok(Json(json!({"sent": 0})))
}

/// The agent behind a `hub_id` in the owner's tenant (404 otherwise).
async fn agent_of(state: &AppState, owner: &Owner, hub_id: &str) -> HubApiResult<devices::Device> {
    let nf = || HubApiError::not_found("Agent not found");
    let h = parse_id(hub_id).ok_or_else(nf)?;
    let id = devices::by_hub_id(&state.hub.core.catalog, &h)
        .await?
        .ok_or_else(nf)?;
    devices::get_in(&state.hub.core.catalog, &owner.tenant, &id)
        .await
        .map_err(|_| nf())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SpanQuery {
    /// Spans starting at or after this time (ms since epoch).
    since: Option<String>,
    /// Spans starting before this time (ms since epoch).
    until: Option<String>,
    /// At most this many (1-1000, default 200).
    limit: Option<String>,
}

/// An agent's telemetry spans, newest first, each with `start_ms`,
/// `end_ms`, `duration_ms` and `received_at_ms` added.
#[utoipa::path(get, path = "/api/v1/telemetry/{hub_id}", tag = "telemetry",
    params(("hub_id" = String, Path), SpanQuery), security(("owner" = [])),
    responses((status = 200, description = "Array of spans"),
        (status = 400, description = "Bad since/until/limit"),
        (status = 401, description = "Not the owner"),
        (status = 404, description = "No such agent in the tenant")))]
async fn telemetry_spans(
    State(state): State<AppState>,
    owner: Owner,
    Path(hub_id): Path<String>,
    Query(q): Query<SpanQuery>,
) -> HubApiResult<Json<Value>> {
    let since = ms("since", q.since.as_deref())?;
    let until = ms("until", q.until.as_deref())?;
    let limit = limit(q.limit.as_deref(), 200, telemetry::MAX_LIMIT)?;
    let agent = agent_of(&state, &owner, &hub_id).await?;
    let rows = telemetry::spans(&state.hub.core.catalog, &agent.id, since, until, limit).await?;
    Ok(Json(Value::Array(rows)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SummaryQuery {
    /// Window start (ms since epoch; default 24 hours before `until`).
    since: Option<String>,
    /// Window end (ms since epoch; default now).
    until: Option<String>,
    /// Bucket width in ms (at least 60000; default: at most 48 buckets).
    bucket_ms: Option<String>,
}

/// Aggregates over an agent's spans in a window: total, errors, error
/// rate, p50/p95 duration, per span name and per time bucket.
#[utoipa::path(get, path = "/api/v1/telemetry/{hub_id}/summary", tag = "telemetry",
    params(("hub_id" = String, Path), SummaryQuery), security(("owner" = [])),
    responses((status = 200, description = "{total, errors, error_rate, p50_ms, p95_ms, by_name, buckets, …}"),
        (status = 400, description = "Bad window or bucket"),
        (status = 401, description = "Not the owner"),
        (status = 404, description = "No such agent in the tenant")))]
async fn telemetry_summary(
    State(state): State<AppState>,
    owner: Owner,
    Path(hub_id): Path<String>,
    Query(q): Query<SummaryQuery>,
) -> HubApiResult<Json<Value>> {
    let until = ms("until", q.until.as_deref())?.unwrap_or_else(now_ms);
    let since = ms("since", q.since.as_deref())?.unwrap_or(until - DAY_MS);
    if since >= until {
        return Err(HubApiError::bad_request("since must be before until"));
    }
    if until - since > 366 * DAY_MS {
        return Err(HubApiError::bad_request("the window is at most 366 days"));
    }
    let bucket = match ms("bucket_ms", q.bucket_ms.as_deref())? {
        None => telemetry::auto_bucket(until - since),
        Some(b) if b >= 60_000 && (until - since) / b < telemetry::MAX_BUCKETS => b,
        Some(_) => {
            return Err(HubApiError::bad_request(format!(
                "bucket_ms must be at least 60000 and cut the window into fewer than {} buckets",
                telemetry::MAX_BUCKETS
            )));
        }
    };
    let agent = agent_of(&state, &owner, &hub_id).await?;
    let mut v =
        telemetry::summary(&state.hub.core.catalog, &agent.id, since, until, bucket).await?;
    v["hub_id"] = Value::from(agent.hub_id);
    v["device_id"] = Value::from(agent.id);
    Ok(Json(v))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ActivityQuery {
    /// Since this time (ms since epoch; default 24 hours ago).
    since: Option<String>,
    /// At most this many items (1-500, default 50).
    limit: Option<String>,
}

/// Recent activity of the tenant: counts since `since` (spans, errors,
/// messages, enrolments, decisions, agents) and the newest items (spans,
/// enrolments, decisions), newest first.
#[utoipa::path(get, path = "/api/v1/dashboard/activity", tag = "dashboard", params(ActivityQuery),
    security(("owner" = [])),
    responses((status = 200, description = "{since_ms, counts, items}"),
        (status = 400, description = "Bad since or limit"),
        (status = 401, description = "Not the owner")))]
async fn dashboard_activity(
    State(state): State<AppState>,
    owner: Owner,
    Query(q): Query<ActivityQuery>,
) -> HubApiResult<Json<Value>> {
    let since = ms("since", q.since.as_deref())?.unwrap_or_else(|| now_ms() - DAY_MS);
    let limit = limit(q.limit.as_deref(), 50, activity::MAX_LIMIT)?;
    let online = state.hub.core.live.online();
    Ok(Json(
        activity::dashboard(&state.hub.core.catalog, &owner.tenant, online, since, limit).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// One event type, e.g. `hub_device_enrolled` (must start with `hub_`).
    kind: Option<String>,
    /// At or after this time (ms since epoch).
    since: Option<String>,
    /// Older than the event with this id (paging).
    before_id: Option<String>,
    /// At most this many (1-500, default 100).
    limit: Option<String>,
}

/// The hub's events in the daemon's audit log (types `hub_*`) that concern
/// the caller's tenant, newest first: `[{id, ts_ms, type, details}]`.
#[utoipa::path(get, path = "/api/v1/audit/events", tag = "audit", params(AuditQuery),
    security(("owner" = [])),
    responses((status = 200, description = "Array of events"),
        (status = 400, description = "Bad kind, since, before_id or limit"),
        (status = 401, description = "Not the owner")))]
async fn audit_events(
    State(state): State<AppState>,
    owner: Owner,
    Query(q): Query<AuditQuery>,
) -> HubApiResult<Json<Value>> {
    let kind = match q.kind.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(k)
            if k.starts_with("hub_")
                && k.len() <= 64
                && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            Some(k.to_owned())
        }
        Some(_) => {
            return Err(HubApiError::bad_request(
                "kind must be a hub event type (hub_…)",
            ));
        }
    };
    let since = ms("since", q.since.as_deref())?.unwrap_or(0);
    let before = ms("before_id", q.before_id.as_deref())?;
    let limit = limit(q.limit.as_deref(), 100, activity::MAX_LIMIT)?;
    let rows = activity::audit_events(
        &state.hub.core.catalog,
        &owner.tenant,
        kind,
        since,
        before,
        limit,
    )
    .await?;
    Ok(Json(serde_json::to_value(rows).unwrap_or(Value::Null)))
}
