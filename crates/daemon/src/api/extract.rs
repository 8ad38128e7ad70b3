//! Extractors whose rejections speak the API's error shape.

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;

use super::error::ApiError;

/// `Json<T>` whose failures (bad JSON, wrong content type, too large) answer
/// `{"error":…}`. Writes must say `Content-Type: application/json`.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `Query<T>` answering 400 `{"error":…}` on bad parameters.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);
