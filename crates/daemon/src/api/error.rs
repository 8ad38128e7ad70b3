//! The REST surface's one error type. Every failure leaves as
//! `{"error":"message"}` with its status; internal details go to the log only.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use holdfast_core::auth::AuthError;
use holdfast_core::catalog::CatalogError;

/// The wire shape of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Extra top-level fields next to `error` (e.g. the 507 quota details).
    pub extra: Option<Map<String, Value>>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            extra: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// A failure that is ours, not the client's: logged in full, answered vaguely.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {err}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; see the daemon log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = self.extra.unwrap_or_default();
        body.insert("error".into(), Value::String(self.message));
        let mut response = (self.status, Json(Value::Object(body))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::NoPassword => Self::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            AuthError::WrongPassword | AuthError::BadTicket | AuthError::BadAdminToken => {
                Self::unauthorized(e.to_string())
            }
            AuthError::WeakPassword(m) => Self::bad_request(m),
            AuthError::Catalog(_) | AuthError::Hash(_) => Self::internal(e),
        }
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        Self::internal(e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        // The spec answers 400 for malformed JSON and missing fields alike;
        // axum's 422 for type errors is folded into it.
        let status = match &r {
            JsonRejection::JsonDataError(_) | JsonRejection::JsonSyntaxError(_) => {
                StatusCode::BAD_REQUEST
            }
            other => other.status(),
        };
        Self::new(status, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<holdfast_core::identity::IdentityError> for ApiError {
    fn from(e: holdfast_core::identity::IdentityError) -> Self {
        use holdfast_core::identity::IdentityError as E;
        let m = e.to_string();
        match e {
            E::Uninitialized | E::AlreadyInitialized => Self::new(StatusCode::CONFLICT, m),
            E::Locked | E::NeverUnlocked => Self::forbidden(m),
            // A wrong identity or vault password is 403, not 401: clients
            // read 401 as "your session is gone, log in again".
            E::WrongPassphrase { retry_after_ms } => {
                let mut err = Self::forbidden(m);
                let mut extra = Map::new();
                extra.insert("retry_after_ms".into(), retry_after_ms.into());
                err.extra = Some(extra);
                err
            }
            E::Backoff { retry_after_ms } => {
                let mut err = Self::new(StatusCode::TOO_MANY_REQUESTS, m);
                let mut extra = Map::new();
                extra.insert("retry_after_ms".into(), retry_after_ms.into());
                err.extra = Some(extra);
                err
            }
            E::BadPhrase | E::WeakPassphrase(_) | E::LinkShapedPayload => Self::bad_request(m),
            E::WrongPhrase => Self::forbidden(m),
            E::Catalog(_) | E::Kdf(_) | E::Corrupt(_) => Self::internal(m),
        }
    }
}

impl From<holdfast_core::apps::AppError> for ApiError {
    fn from(e: holdfast_core::apps::AppError) -> Self {
        use holdfast_core::apps::AppError as E;
        let m = e.to_string();
        match e {
            E::MissingClientId | E::UnknownClientId | E::Invalid(_) => Self::bad_request(m),
            E::MissingToken | E::BadToken => Self::unauthorized(m),
            E::Exists => Self::new(StatusCode::CONFLICT, m),
            E::NotFound => Self::not_found(m),
            E::Catalog(c) => Self::internal(c),
        }
    }
}

impl From<holdfast_core::approvals::ApprovalError> for ApiError {
    fn from(e: holdfast_core::approvals::ApprovalError) -> Self {
        Self::not_found(e.to_string())
    }
}

impl From<holdfast_core::backups::BackupError> for ApiError {
    fn from(e: holdfast_core::backups::BackupError) -> Self {
        use holdfast_core::backups::BackupError as E;
        let m = e.to_string();
        match e {
            E::NotFound => Self::not_found(m),
            E::BadLabel(_) => Self::bad_request(m),
            E::TooLarge { .. } => Self::new(StatusCode::PAYLOAD_TOO_LARGE, m),
            E::QuotaExceeded { .. } => Self::new(StatusCode::INSUFFICIENT_STORAGE, m),
            E::Corrupt | E::Catalog(_) => Self::internal(m),
        }
    }
}

impl From<holdfast_core::vaults::VaultError> for ApiError {
    fn from(e: holdfast_core::vaults::VaultError) -> Self {
        use holdfast_core::identity::IdentityError;
        use holdfast_core::vaults::VaultError as E;
        let m = e.to_string();
        match e {
            E::NotFound | E::FileNotFound | E::VersionNotFound => Self::not_found(m),
            E::NameTaken | E::NoConflict | E::TargetExists | E::PathClash(_) => {
                Self::new(StatusCode::CONFLICT, m)
            }
            E::VaultLocked | E::ReadOnly => Self::forbidden(m),
            E::WrongPassword => Self::forbidden(m),
            E::Invalid(_) => Self::bad_request(m),
            E::Quota {
                vault_id,
                hard_quota,
                would_be_size,
            } => {
                let mut extra = Map::new();
                extra.insert("vault_id".into(), vault_id.into());
                extra.insert("hard_quota".into(), hard_quota.into());
                extra.insert("would_be_size".into(), would_be_size.into());
                Self {
                    status: StatusCode::INSUFFICIENT_STORAGE,
                    message: m,
                    extra: Some(extra),
                }
            }
            E::Identity(
                IdentityError::Locked | IdentityError::NeverUnlocked | IdentityError::Uninitialized,
            ) => {
                Self::forbidden("Holdfast is locked: vault content is unavailable until you unlock")
            }
            E::Identity(_) | E::Block(_) | E::Catalog(_) | E::Io(_) | E::Corrupt(_) => {
                Self::internal(m)
            }
        }
    }
}

impl From<holdfast_core::diagnostics::DiagnosticsError> for ApiError {
    fn from(e: holdfast_core::diagnostics::DiagnosticsError) -> Self {
        use holdfast_core::diagnostics::DiagnosticsError as E;
        match e {
            E::Unavailable(detail) => {
                tracing::warn!("diagnostics reports unavailable: {detail}");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no writable reports directory; see the daemon log",
                )
            }
            E::BadId => Self::bad_request("not a report id"),
            E::NotFound => Self::not_found("no such report"),
            E::Io(_) => Self::internal(e),
        }
    }
}

impl From<holdfast_core::mesh::MeshError> for ApiError {
    fn from(e: holdfast_core::mesh::MeshError) -> Self {
        use holdfast_core::mesh::MeshError as E;
        let m = e.to_string();
        match e {
            E::Invalid(_) => Self::bad_request(m),
            E::NoSuchNetwork | E::NoSuchNode => Self::not_found(m),
            E::Offline => Self::new(StatusCode::SERVICE_UNAVAILABLE, m),
            E::Conflict(_) => Self::new(StatusCode::CONFLICT, m),
            E::Gone(_) => Self::new(StatusCode::GONE, m),
            E::Refused(_) => Self::forbidden(m),
            E::Unreachable(_) => Self::new(StatusCode::BAD_GATEWAY, m),
            E::Vault(v) => v.into(),
            E::Start(_) | E::Catalog(_) => Self::internal(m),
        }
    }
}

impl From<holdfast_core::media::MediaError> for ApiError {
    fn from(e: holdfast_core::media::MediaError) -> Self {
        use holdfast_core::media::MediaError;
        match e {
            MediaError::NotFound => Self::not_found("no such file"),
            MediaError::NotMedia => Self::bad_request("not an audio or video file"),
            MediaError::Invalid(m) => Self::bad_request(m),
            MediaError::Vault(e) => e.into(),
            MediaError::Catalog(e) => e.into(),
        }
    }
}

impl From<holdfast_core::settings::SettingsError> for ApiError {
    fn from(e: holdfast_core::settings::SettingsError) -> Self {
        use holdfast_core::settings::SettingsError;
        match e {
            SettingsError::Invalid(m) => Self::bad_request(m),
            SettingsError::Catalog(e) => e.into(),
        }
    }
}
