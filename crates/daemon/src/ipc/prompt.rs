//! Raising an approval for an IPC request: who is asking (app, whether it
//! proved itself with its token or only claims a client_id, its browser
//! origin, which executable), and waiting for the answer.
//!
//! The prompt names the app by what Holdfast knows: the registered app's
//! name, else the program's executable or the browser origin, else an
//! "Unverified app" label with the client_id. The name the caller sends is
//! only a claim: it travels as `claimed_name` when it differs, and is shown
//! (and audited) as such.

use holdfast_core::approvals::{self, ApprovalKind, Decision, NameSource, NewApproval, Requester};
use holdfast_core::apps::App;
use serde_json::Value;

use super::error::IpcResult;
use super::guard::PeerSocket;
use crate::state::AppState;

pub struct Ask<'a> {
    pub kind: ApprovalKind,
    /// The name the app gives (a claim); `None` when the request names no
    /// app.
    pub app_name: Option<&'a str>,
    pub client_id: Option<&'a str>,
    /// The app proved itself with its app token.
    pub verified: bool,
    pub origin: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub details: Value,
    pub grant_allowed: bool,
}

/// Who the user was told is asking: what the audit log records.
#[derive(Debug, Clone)]
pub struct Named {
    /// The trusted name (see the module comment).
    pub app_name: String,
    /// What the caller called itself, when that differs.
    pub claimed_name: Option<String>,
}

impl Named {
    /// The naming fields of an audit record: `app_name` is the trusted
    /// name, `claimed_name` only present when the caller claimed another.
    pub fn audit_fields(&self, details: &mut Value) {
        if let Value::Object(m) = details {
            m.insert("app_name".into(), Value::from(self.app_name.clone()));
            if let Some(c) = &self.claimed_name {
                m.insert("claimed_name".into(), Value::from(c.clone()));
            }
        }
    }
}

/// The trusted name for a requester, and where it comes from.
pub fn trusted_name(
    app: Option<&App>,
    client_id: Option<&str>,
    exe: Option<&str>,
    origin: Option<&str>,
) -> (String, NameSource) {
    if let Some(app) = app {
        return (app.name.clone(), NameSource::Registered);
    }
    if let Some(id) = client_id {
        return (format!("Unverified app ({id})"), NameSource::Unverified);
    }
    if let Some(name) = exe
        .and_then(|e| std::path::Path::new(e).file_name())
        .map(|n| n.to_string_lossy().into_owned())
    {
        return (name, NameSource::Program);
    }
    if let Some(origin) = origin {
        return (origin.to_owned(), NameSource::Origin);
    }
    ("An unidentified program".to_owned(), NameSource::Unverified)
}

/// Ask the user; returns the answer and the names the prompt showed.
pub async fn ask(state: &AppState, peer: PeerSocket, ask: Ask<'_>) -> IpcResult<(Decision, Named)> {
    let app = match ask.client_id {
        Some(id) => state.apps.get(id).await?,
        None => None,
    };
    let linked = match &app {
        Some(app) => state
            .apps
            .links()
            .await?
            .iter()
            .any(|l| l.client_id == app.client_id),
        None => false,
    };
    let process = peer.process().await;
    let exe = process.as_ref().and_then(|p| p.exe.clone());
    let (app_name, name_source) =
        trusted_name(app.as_ref(), ask.client_id, exe.as_deref(), ask.origin);
    let claimed_name = ask.app_name.filter(|c| *c != app_name).map(str::to_owned);
    let named = Named {
        app_name: app_name.clone(),
        claimed_name: claimed_name.clone(),
    };
    let requester = Requester {
        app_name,
        name_source,
        claimed_name,
        client_id: ask.client_id.map(str::to_owned),
        verified: ask.verified,
        origin: ask.origin.map(str::to_owned),
        unregistered: ask.client_id.is_some() && app.is_none(),
        linked,
        pid: process.as_ref().and_then(|p| p.pid),
        exe,
    };
    let decision = state
        .approvals
        .request(NewApproval {
            kind: ask.kind,
            requester,
            reason: ask.reason.map(str::to_owned),
            details: ask.details,
            grant_allowed: ask.grant_allowed,
            timeout: state.node.approval_timeout,
        })
        .await;
    let outcome = match &decision {
        Ok(Decision::Allow { .. }) => "allowed",
        Ok(Decision::Deny) => "denied",
        Err(e) => match e {
            approvals::ApprovalError::Timeout => "timeout",
            approvals::ApprovalError::Locked => "locked",
            approvals::ApprovalError::Busy { .. } => "busy",
            _ => "denied",
        },
    };
    let mut record = serde_json::json!({
        "kind": ask.kind.as_str(),
        "client_id": ask.client_id,
        "outcome": outcome,
    });
    named.audit_fields(&mut record);
    state.audit.record("approval", record).await;
    Ok((decision?, named))
}
