//! Enrichment lookups against outside services (AcoustID for audio, TMDB for
//! video), used only when the owner has set the service's API key in
//! `/settings`. One HTTP client shape serves them all: a timeout, no
//! redirects, answers read up to a bound, and errors that never carry the
//! request URL (it holds the API key).

pub mod acoustid;
pub mod tmdb;

use std::time::Duration;

/// How long one lookup may take.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// Largest answer read from a service.
pub const MAX_ANSWER_BYTES: usize = 2 * 1024 * 1024;

/// Why a lookup gave no answer, in words safe to show and log.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("no API key is set for {0}: add one in Settings")]
    NoKey(&'static str),
    #[error("{0} could not be reached")]
    Unreachable(&'static str),
    #[error("{service} answered {status}")]
    Status { service: &'static str, status: u16 },
    #[error("{0} answered something unreadable")]
    BadAnswer(&'static str),
}

/// The client every lookup uses.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Holdfast/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a plain HTTP client builds")
}

/// Send `req` to `service` and read its JSON answer (bounded). The request
/// URL is stripped from every error, since its query may hold the key.
pub async fn get_json(
    service: &'static str,
    req: reqwest::RequestBuilder,
) -> Result<serde_json::Value, LookupError> {
    let mut resp = req
        .send()
        .await
        .map_err(|_| LookupError::Unreachable(service))?;
    let status = resp.status();
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|_| LookupError::Unreachable(service))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(LookupError::BadAnswer(service));
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(LookupError::Status {
            service,
            status: status.as_u16(),
        });
    }
    serde_json::from_slice(&body).map_err(|_| LookupError::BadAnswer(service))
}
