//! The hub surface's one error type: every failure leaves as
//! `{"detail":"message"}` (spec/agent-hub-api.md), 429s with `Retry-After`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use holdfast_core::hub::HubError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct DetailBody {
    pub detail: String,
}

#[derive(Debug)]
pub struct HubApiError {
    pub status: StatusCode,
    pub detail: String,
    pub retry_after_s: Option<u64>,
}

pub type HubApiResult<T> = Result<T, HubApiError>;

impl HubApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            retry_after_s: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn rate_limited(retry_after_s: u64) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            detail: "Rate limit exceeded".into(),
            retry_after_s: Some(retry_after_s.max(1)),
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!("hub internal error: {err}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; see the daemon log",
        )
    }
}

impl From<HubError> for HubApiError {
    fn from(e: HubError) -> Self {
        match e {
            HubError::BadRequest(m) => Self::bad_request(m),
            HubError::Unauthorized(m) => Self::unauthorized(m),
            HubError::Forbidden(m) => Self::forbidden(m),
            HubError::NotFound(m) => Self::not_found(m),
            HubError::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            HubError::Unavailable(m) => Self::new(StatusCode::SERVICE_UNAVAILABLE, m),
            HubError::TooLarge(m) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, m),
            HubError::Catalog(c) => Self::internal(c),
        }
    }
}

impl From<JsonRejection> for HubApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/json",
            ),
            JsonRejection::BytesRejection(_) => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
            }
            other => Self::new(StatusCode::UNPROCESSABLE_ENTITY, other.body_text()),
        }
    }
}

impl From<QueryRejection> for HubApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

impl IntoResponse for HubApiError {
    fn into_response(self) -> Response {
        let mut res = (
            self.status,
            Json(DetailBody {
                detail: self.detail,
            }),
        )
            .into_response();
        if let Some(s) = self.retry_after_s {
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(s));
        }
        res
    }
}
