//! The web UI: the static files of `ui/`, embedded in the binary at build
//! time and served at `/` under a strict Content-Security-Policy (no inline
//! script or style, nothing from other origins). The UI is one more client
//! of `/api/v1`; nothing here knows its pages.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

#[derive(rust_embed::Embed)]
#[folder = "../../ui/"]
struct Assets;

/// What the UI's pages may load and talk to: only this origin.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; \
    manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One route per embedded file (no wildcard, so unknown API paths keep
/// their JSON 404), and `/` for the index.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new().route(
        "/",
        get(|h: HeaderMap| async move { serve("index.html", &h) }),
    );
    for file in Assets::iter() {
        let name = file.to_string();
        if name.starts_with("api/") {
            continue;
        }
        let path = format!("/{name}");
        router = router.route(
            &path,
            get(move |h: HeaderMap| async move { serve(&name, &h) }),
        );
    }
    router
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "webmanifest" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn serve(name: &str, request: &HeaderMap) -> Response {
    let Some(file) = Assets::get(name) else {
        return crate::api::ApiError::not_found("no such page").into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let mut headers = HeaderMap::new();
    let h = &mut headers;
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Revalidate every time: the files change with the binary.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("hex is ASCII"),
    );
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, file.data.into_owned()).into_response()
}
