//! The owner's answer to an enrolment: each PENDING device raises a request
//! in the one approvals queue (popup, web UI, REST, CLI) showing its name,
//! platform and fingerprint. Allow → APPROVED, deny → REJECTED; a prompt
//! nobody answered leaves the device PENDING, to be approved from the
//! Agents page. Answering on the hub (PATCH approve/revoke) withdraws it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::task::AbortHandle;

use super::Hub;
use super::devices::{self, Device};
use crate::approvals::{
    ApprovalError, ApprovalKind, Approvals, NameSource, NewApproval, Requester,
};

#[derive(Clone, Default)]
pub struct Prompts {
    open: Arc<Mutex<HashMap<String, AbortHandle>>>,
}

impl Prompts {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, AbortHandle>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Withdraw the device's prompt, if one is on screen.
    pub fn withdraw(&self, device: &str) {
        if let Some(h) = self.map().remove(device) {
            h.abort();
        }
    }

    /// Ask the owner about a PENDING device (once at a time per device).
    pub fn raise(&self, hub: Hub, approvals: Arc<Approvals>, device: Device, timeout: Duration) {
        let mut map = self.map();
        if map.contains_key(&device.id) {
            return;
        }
        let prompts = self.clone();
        let id = device.id.clone();
        let task = tokio::spawn(async move {
            let outcome = approvals
                .request(NewApproval {
                    kind: ApprovalKind::DeviceEnrolment,
                    requester: Requester {
                        app_name: device.name.clone(),
                        name_source: NameSource::Unverified,
                        client_id: Some(format!("hub-device:{}", device.id)),
                        ..Requester::default()
                    },
                    reason: Some(format!(
                        "A {} agent used one of your invites. Its fingerprint is {}.",
                        device.platform.as_deref().unwrap_or("new"),
                        device.fingerprint
                    )),
                    details: json!({
                        "device_id": device.id,
                        "name": device.name,
                        "platform": device.platform,
                        "fingerprint": device.fingerprint,
                        "tenant_id": device.tenant_id,
                    }),
                    grant_allowed: false,
                    timeout,
                })
                .await;
            prompts.map().remove(&device.id);
            let result = match outcome {
                Ok(_) => devices::approve(&hub.catalog, &device.tenant_id, &device.id).await,
                Err(ApprovalError::Denied) => {
                    devices::reject(&hub.catalog, &device.tenant_id, &device.id).await
                }
                Err(_) => return,
            };
            match result {
                Ok(d) => hub.announce_device(&d),
                Err(e) => tracing::warn!("recording the enrolment answer failed: {e}"),
            }
        });
        map.insert(id, task.abort_handle());
    }

    /// Raise prompts for every PENDING device (at start).
    pub async fn raise_all(&self, hub: &Hub, approvals: &Arc<Approvals>, timeout: Duration) {
        let tenants = match super::tenants::list(&hub.catalog).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("listing hub tenants failed: {e}");
                return;
            }
        };
        for t in tenants {
            if let Ok(list) = devices::list(&hub.catalog, &t.id).await {
                for d in list.into_iter().filter(|d| d.status == devices::PENDING) {
                    self.raise(hub.clone(), approvals.clone(), d, timeout);
                }
            }
        }
    }
}
