//! The owner-bearer gate in front of every protected route. The bearer comes
//! from `Authorization: Bearer …`, or from `?token=` on the few routes the
//! spec lists for browser primitives that cannot set headers.

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use crate::http::bearer;
use crate::state::AppState;

/// Routes that accept `?token=` (the spec's table), as route templates; a
/// trailing `/` matches any deeper route. Parameter names do not matter.
const QUERY_TOKEN_ROUTES: &[&str] = &[
    "/api/v1/calls/events",
    "/api/v1/events/stream",
    "/api/v1/sessions/{}/events",
    "/api/v1/sessions/{}/files",
    "/api/v1/audit/export",
    "/api/v1/diagnostics/reports/{}",
    "/api/v1/calls/{}/media",
    "/api/v1/rooms/{}/stream",
    "/api/v1/vaults/{}/stream/",
    "/api/v1/vaults/{}/cover/",
    "/api/v1/vaults/{}/subtitle/",
];

pub async fn require_bearer(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // Run in-process for a mesh device holding an agent instance's access
    // key (already checked); no network client can set an extension.
    if req
        .extensions()
        .get::<crate::agents::remote::MeshCaller>()
        .is_some()
    {
        return Ok(next.run(req).await);
    }
    let token = match bearer_from_headers(req.headers())? {
        Some(token) => token.to_owned(),
        None => {
            let from_query = query_token(req.uri().query());
            match from_query {
                Some(token) if matched.is_some_and(|m| accepts_query_token(m.as_str())) => token,
                Some(_) => {
                    return Err(ApiError::unauthorized(
                        "this route does not accept ?token=; send Authorization: Bearer",
                    ));
                }
                None => return Err(ApiError::unauthorized("missing bearer token")),
            }
        }
    };
    if !state.auth.verify_bearer(&token) {
        return Err(ApiError::unauthorized("invalid or expired bearer token"));
    }
    Ok(next.run(req).await)
}

/// The REST reading of [`http::bearer::bearer`]: malformed headers are 401.
pub fn bearer_from_headers(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    bearer::bearer(headers)
        .map_err(|_| ApiError::unauthorized("Authorization must be `Bearer <token>`"))
}

fn query_token(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

fn accepts_query_token(template: &str) -> bool {
    let route = normalize(template);
    QUERY_TOKEN_ROUTES.iter().any(|allowed| {
        if allowed.ends_with('/') {
            route.starts_with(allowed)
        } else {
            route == *allowed
        }
    })
}

/// Replace every `{param}` with `{}` so templates compare by shape.
fn normalize(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut in_param = false;
    for c in template.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_token_allowlist() {
        assert!(accepts_query_token("/api/v1/events/stream"));
        assert!(accepts_query_token("/api/v1/audit/export"));
        assert!(accepts_query_token("/api/v1/sessions/{sid}/events"));
        assert!(accepts_query_token(
            "/api/v1/vaults/{vault_id}/stream/{*path}"
        ));
        assert!(accepts_query_token("/api/v1/rooms/{room_id}/stream"));
        assert!(accepts_query_token("/api/v1/diagnostics/reports/{id}"));
        assert!(!accepts_query_token("/api/v1/diagnostics/reports"));
        assert!(!accepts_query_token("/api/v1/whoami"));
        assert!(!accepts_query_token("/api/v1/system/metrics"));
        assert!(!accepts_query_token(
            "/api/v1/vaults/{vault_id}/download/{*path}"
        ));
        assert!(!accepts_query_token("/api/v1/events/stream/extra"));
    }

    #[test]
    fn query_token_is_decoded() {
        assert_eq!(query_token(Some("a=1&token=ab%63")), Some("abc".into()));
        assert_eq!(query_token(Some("a=1")), None);
        assert_eq!(query_token(None), None);
    }
}
