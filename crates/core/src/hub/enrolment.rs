//! The owner's answer to an enrolment: each PENDING device raises a request
//! in the one approvals queue (popup, web UI, REST, CLI) showing its name,
//! platform and fingerprint. Allow → APPROVED, deny → REJECTED; a prompt
//! nobody answered leaves the device PENDING, to be approved from the
//! Agents page. Answering on the hub (PATCH approve/revoke) withdraws it.

use super::prompts::PromptSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::Hub;
use super::devices::{self, Device};
use crate::approvals::{ApprovalKind, Approvals, NameSource, NewApproval, Requester};

#[derive(Clone, Default)]
pub struct Prompts(PromptSet);

impl Prompts {
    /// Withdraw the device's prompt, if one is on screen.
    pub fn withdraw(&self, device: &str) {
        self.0.withdraw(device);
    }

    /// Ask the owner about a PENDING device (once at a time per device).
    pub fn raise(&self, hub: Hub, approvals: Arc<Approvals>, device: Device, timeout: Duration) {
        let request = NewApproval {
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
        };
        self.0.ask(
            device.id.clone(),
            approvals,
            request,
            move |allowed| async move {
                let (catalog, tenant, id) = (&hub.catalog, &device.tenant_id, &device.id);
                let result = if allowed {
                    devices::approve(catalog, tenant, id).await
                } else {
                    devices::reject(catalog, tenant, id).await
                };
                match result {
                    Ok(d) => hub.announce_device(&d),
                    Err(e) => tracing::warn!("recording the enrolment answer failed: {e}"),
                }
            },
        );
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
