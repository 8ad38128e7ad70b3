//! Who is connected: one outbound channel per device (a WebSocket, or the
//! owner's in-process device). A second connection for a device replaces the
//! first, which is told to close with 4001 (§4.6). Presence changes are
//! announced on the event bus (`agent_presence`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::events::EventBus;

/// What a connection is asked to do.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// Send `{"event": …, "data": …}`.
    Frame(Value),
    /// Close with this code and reason.
    Close(u16, &'static str),
}

struct Conn {
    serial: u64,
    tx: mpsc::UnboundedSender<Outbound>,
}

#[derive(Clone)]
pub struct Live {
    inner: Arc<Mutex<HashMap<String, Conn>>>,
    serial: Arc<AtomicU64>,
    events: EventBus,
}

/// A registration; dropping it does not unregister (call [`Live::leave`]).
pub struct Registration {
    pub serial: u64,
    pub rx: mpsc::UnboundedReceiver<Outbound>,
}

pub fn frame(event: &str, data: Value) -> Outbound {
    Outbound::Frame(json!({ "event": event, "data": data }))
}

impl Live {
    pub fn new(events: EventBus) -> Self {
        Self {
            inner: Default::default(),
            serial: Default::default(),
            events,
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Conn>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register the device's new connection, replacing an older one.
    pub fn join(&self, device: &str) -> Registration {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed) + 1;
        let (tx, rx) = mpsc::unbounded_channel();
        let old = self.map().insert(device.to_owned(), Conn { serial, tx });
        match old {
            Some(old) => {
                let _ = old.tx.send(Outbound::Close(4001, "session replaced"));
            }
            None => self.announce(device, true),
        }
        Registration { serial, rx }
    }

    /// Forget the connection `serial` of the device, if it is still current.
    pub fn leave(&self, device: &str, serial: u64) {
        let mut map = self.map();
        if map.get(device).is_some_and(|c| c.serial == serial) {
            map.remove(device);
            drop(map);
            self.announce(device, false);
        }
    }

    fn announce(&self, device: &str, online: bool) {
        self.events.publish(
            "agent_presence",
            json!({ "device_id": device, "online": online }),
        );
    }

    /// Send to the device's connection; false when it has none.
    pub fn send(&self, device: &str, out: Outbound) -> bool {
        let map = self.map();
        match map.get(device) {
            Some(c) => c.tx.send(out).is_ok(),
            None => false,
        }
    }

    /// Tell the device to pull its queue (§6.1). A device with no open
    /// socket is announced as `agent_pending` instead (its webhook, if any,
    /// is called by the daemon).
    pub fn nudge(&self, device: &str, count: usize) -> bool {
        let sent = self.send(device, frame("mls_delivery", json!({ "count": count })));
        if !sent {
            self.events
                .publish("agent_pending", json!({ "device_id": device }));
        }
        sent
    }

    /// Close the device's connection (revoked: 4403; suspended: 1008).
    pub fn close(&self, device: &str, code: u16, reason: &'static str) {
        self.send(device, Outbound::Close(code, reason));
    }

    pub fn is_online(&self, device: &str) -> bool {
        self.map().contains_key(device)
    }

    /// The devices connected now.
    pub fn online(&self) -> Vec<String> {
        self.map().keys().cloned().collect()
    }
}
