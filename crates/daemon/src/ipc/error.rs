//! The IPC surface's one error type, in the spec's shape:
//! `{"success":false,"error":"<code>","message":"…"}`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use holdfast_core::approvals::ApprovalError;
use holdfast_core::apps::AppError;
use holdfast_core::backups::BackupError;
use holdfast_core::identity::IdentityError;

#[derive(Serialize, ToSchema)]
pub struct IpcErrorBody {
    /// Always false.
    pub success: bool,
    /// A stable code: vault_locked, user_denied, invalid_client_id, missing_client_id, app_not_found,
    /// timeout, invalid_request, missing_app_token, invalid_app_token, forbidden_origin, forbidden_host,
    /// forbidden_user, too_many_requests, not_found, payload_too_large, quota_exceeded, …
    pub error: String,
    pub message: String,
}

#[derive(Debug)]
pub struct IpcError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after_s: Option<u64>,
}

impl IpcError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn locked() -> Self {
        Self::new(StatusCode::FORBIDDEN, "vault_locked", "the vault is locked")
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!("IPC internal error: {err}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error; see the vault's log",
        )
    }
}

impl IntoResponse for IpcError {
    fn into_response(self) -> Response {
        let body = IpcErrorBody {
            success: false,
            error: self.code.to_owned(),
            message: self.message,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        response
    }
}

impl From<IdentityError> for IpcError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Locked | IdentityError::NeverUnlocked => {
                Self::new(StatusCode::FORBIDDEN, "vault_locked", e.to_string())
            }
            IdentityError::Uninitialized => Self::new(
                StatusCode::FORBIDDEN,
                "vault_locked",
                "the vault is not set up yet",
            ),
            IdentityError::LinkShapedPayload => Self::invalid(e.to_string()),
            other => Self::internal(other),
        }
    }
}

impl From<ApprovalError> for IpcError {
    fn from(e: ApprovalError) -> Self {
        match e {
            ApprovalError::Denied => Self::new(StatusCode::FORBIDDEN, "user_denied", e.to_string()),
            ApprovalError::Timeout => {
                Self::new(StatusCode::REQUEST_TIMEOUT, "timeout", e.to_string())
            }
            ApprovalError::Locked => {
                Self::new(StatusCode::FORBIDDEN, "vault_locked", e.to_string())
            }
            ApprovalError::Busy { retry_after_s } => Self {
                retry_after_s: Some(retry_after_s),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_requests",
                    e.to_string(),
                )
            },
            ApprovalError::NotFound => Self::internal(e),
        }
    }
}

impl From<AppError> for IpcError {
    fn from(e: AppError) -> Self {
        let m = e.to_string();
        match e {
            AppError::MissingClientId => Self::new(StatusCode::BAD_REQUEST, "missing_client_id", m),
            AppError::UnknownClientId => Self::new(StatusCode::BAD_REQUEST, "invalid_client_id", m),
            AppError::MissingToken => Self::new(StatusCode::UNAUTHORIZED, "missing_app_token", m),
            AppError::BadToken => Self::new(StatusCode::UNAUTHORIZED, "invalid_app_token", m),
            AppError::Invalid(_) => Self::invalid(m),
            AppError::NotFound => Self::new(StatusCode::NOT_FOUND, "app_not_found", m),
            AppError::Exists => Self::invalid(m),
            AppError::Catalog(c) => Self::internal(c),
        }
    }
}

impl From<BackupError> for IpcError {
    fn from(e: BackupError) -> Self {
        let m = e.to_string();
        match e {
            BackupError::TooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", m)
            }
            BackupError::QuotaExceeded { .. } => {
                Self::new(StatusCode::INSUFFICIENT_STORAGE, "quota_exceeded", m)
            }
            BackupError::NotFound => Self::new(StatusCode::NOT_FOUND, "not_found", m),
            BackupError::BadLabel(_) => Self::invalid(m),
            BackupError::Corrupt | BackupError::Catalog(_) => Self::internal(m),
        }
    }
}

impl From<JsonRejection> for IpcError {
    fn from(r: JsonRejection) -> Self {
        match &r {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                r.body_text(),
            ),
            JsonRejection::BytesRejection(_) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    r.body_text(),
                )
            }
            _ => Self::invalid(r.body_text()),
        }
    }
}

impl From<QueryRejection> for IpcError {
    fn from(r: QueryRejection) -> Self {
        Self::invalid(r.body_text())
    }
}

pub type IpcResult<T> = Result<T, IpcError>;
