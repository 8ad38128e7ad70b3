//! `GET /events/stream`: the event bus as Server-Sent Events. Accepts
//! `?token=` (EventSource cannot set headers). Starts with a `: connected`
//! comment, sends `: keepalive` every 20 s, and ends when the daemon shuts
//! down.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::Value;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_util::sync::CancellationToken;

use crate::api::error::ErrorBody;
use crate::state::AppState;

pub const KEEPALIVE: Duration = Duration::from_secs(20);

/// Live events: every envelope has a `type` (also the SSE `event:` name).
#[utoipa::path(get, path = "/events/stream", tag = "system",
    security(("bearer" = [])),
    params(("token" = Option<String>, Query, description = "Bearer, for EventSource")),
    responses(
        (status = 200, description = "text/event-stream of {type, ts_ms, …} envelopes", content_type = "text/event-stream"),
        (status = 401, body = ErrorBody),
    ))]
pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let connected = Event::default().comment("connected");
    sse_from(connected, state.events.subscribe(), state.shutdown.clone())
}

/// A broadcast channel of `{type, …}` envelopes as SSE: `first`, then each
/// envelope named by its `type`, a `lagged` event when this client fell
/// behind, keepalives, and the end when the daemon shuts down.
pub fn sse_from(
    first: Event,
    rx: broadcast::Receiver<Value>,
    shutdown: CancellationToken,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let live = BroadcastStream::new(rx).map(|item| {
        Ok(match item {
            Ok(envelope) => {
                let kind = envelope["type"].as_str().unwrap_or("event").to_owned();
                Event::default().event(kind).data(envelope.to_string())
            }
            Err(BroadcastStreamRecvError::Lagged(missed)) => Event::default()
                .event("lagged")
                .data(serde_json::json!({ "type": "lagged", "missed": missed }).to_string()),
        })
    });
    Sse::new(
        stream::once(async { Ok(first) })
            .chain(live)
            .take_until(shutdown.cancelled_owned()),
    )
    .keep_alive(KeepAlive::new().interval(KEEPALIVE).text("keepalive"))
}
