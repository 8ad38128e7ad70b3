//! Webhooks: when a message waits in the queue of a device that is not
//! connected, the hub POSTs a content-free notice to the device's webhook URL
//! (`PATCH /devices/{id}/webhook` or `/devices/self/webhook`), so a sleeping
//! agent knows to connect and pull. The notice says only that something
//! waits: `{"event": "message_pending", "device_id", "pending"}`. At most one
//! per device every 30 s; 5 s timeout; redirects not followed; failures are
//! logged without the URL (it may hold a secret).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use holdfast_core::hub::{devices, queue};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// The least time between two notices to one device.
const EVERY: Duration = Duration::from_secs(30);
const TIMEOUT: Duration = Duration::from_secs(5);

/// Watch the hub's `agent_pending` events (published by `Live::nudge` for a
/// device with no open socket) until `cancel`.
pub async fn run(state: AppState, cancel: CancellationToken) {
    let mut events = state.hub.core.events.subscribe();
    let Ok(client) = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    else {
        tracing::error!("webhooks are off: no HTTP client");
        return;
    };
    let mut last: HashMap<String, Instant> = HashMap::new();
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => return,
            e = events.recv() => e,
        };
        let event = match event {
            Ok(e) => e,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        if event["type"] != "agent_pending" {
            continue;
        }
        let Some(device) = event["device_id"].as_str() else {
            continue;
        };
        if last.get(device).is_some_and(|t| t.elapsed() < EVERY) {
            continue;
        }
        let catalog = &state.hub.core.catalog;
        let Ok(Some(d)) = devices::get(catalog, device).await else {
            continue;
        };
        let Some(url) = d.webhook_url.clone() else {
            continue;
        };
        if d.status != devices::ACTIVE {
            continue;
        }
        last.retain(|_, t| t.elapsed() < EVERY);
        last.insert(d.id.clone(), Instant::now());
        let pending = queue::pending(catalog, &d.id).await.unwrap_or(0);
        let client = client.clone();
        tokio::spawn(async move {
            let body = json!({"event": "message_pending", "device_id": d.id, "pending": pending});
            match client.post(url).json(&body).send().await {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => tracing::info!(device = %d.id, status = %r.status(), "webhook refused"),
                Err(e) => {
                    tracing::info!(device = %d.id, "webhook unreachable: {}", e.without_url())
                }
            }
        });
    }
}
