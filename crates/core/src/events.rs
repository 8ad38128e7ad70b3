//! The event bus: one broadcast channel of JSON envelopes (`{"type":…,
//! "ts_ms":…, …}`) that every live view (SSE now, WebSockets and the desktop
//! shell later) subscribes to. Publishing never blocks: a slow subscriber
//! misses events and is told how many.

use serde_json::{Map, Value};
use tokio::sync::broadcast;

use crate::time::now_ms;

/// Events a subscriber may fall behind by before it misses some.
const CAPACITY: usize = 1024;

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Value>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
        }
    }

    /// Publish an event of `kind`; `fields` (an object) are merged into the
    /// envelope next to `type` and `ts_ms`.
    pub fn publish(&self, kind: &str, fields: Value) {
        let mut envelope = match fields {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => {
                let mut m = Map::new();
                m.insert("data".into(), other);
                m
            }
        };
        envelope.insert("type".into(), Value::String(kind.to_owned()));
        envelope.insert("ts_ms".into(), Value::from(now_ms()));
        // No subscribers is fine: nobody is watching.
        let _ = self.tx.send(Value::Object(envelope));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Value> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn envelopes_carry_type_time_and_fields() {
        let bus = EventBus::new();
        let mut rx = bus.subscribe();
        bus.publish("file_added", json!({"path": "/a"}));
        let e = rx.recv().await.unwrap();
        assert_eq!(e["type"], "file_added");
        assert_eq!(e["path"], "/a");
        assert!(e["ts_ms"].as_i64().unwrap() > 0);
        // The type cannot be overridden by a field.
        bus.publish("x", json!({"type": "y"}));
        assert_eq!(rx.recv().await.unwrap()["type"], "x");
    }

    #[tokio::test]
    async fn slow_subscribers_learn_what_they_missed() {
        let bus = EventBus::new();
        let mut rx = bus.subscribe();
        for i in 0..(CAPACITY + 10) {
            bus.publish("n", json!({"i": i}));
        }
        assert!(matches!(
            rx.recv().await,
            Err(broadcast::error::RecvError::Lagged(10))
        ));
    }
}
