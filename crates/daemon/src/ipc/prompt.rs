//! Raising an approval for an IPC request: who is asking (app, whether it
//! proved itself with its token or only claims a client_id, its browser
//! origin, which executable), and waiting for the answer.

use holdfast_core::approvals::{self, ApprovalKind, Decision, NewApproval, Requester};
use serde_json::Value;

use super::error::IpcResult;
use super::guard::PeerSocket;
use crate::state::AppState;

pub struct Ask<'a> {
    pub kind: ApprovalKind,
    /// The name the app gives; `None` when the request names no app (the
    /// prompt then names the program).
    pub app_name: Option<&'a str>,
    pub client_id: Option<&'a str>,
    /// The app proved itself with its app token.
    pub verified: bool,
    pub origin: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub details: Value,
    pub grant_allowed: bool,
}

pub async fn ask(state: &AppState, peer: PeerSocket, ask: Ask<'_>) -> IpcResult<Decision> {
    let app = match ask.client_id {
        Some(id) => state.apps.get(id).await?,
        None => None,
    };
    let process = peer.process().await;
    let exe = process.as_ref().and_then(|p| p.exe.clone());
    let app_name = match (ask.app_name, &app) {
        (Some(name), _) => name.to_owned(),
        (None, Some(app)) => app.name.clone(),
        (None, None) => exe
            .as_deref()
            .and_then(|e| std::path::Path::new(e).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .or_else(|| ask.origin.map(str::to_owned))
            .unwrap_or_else(|| "An unidentified program".to_owned()),
    };
    let requester = Requester {
        app_name: app_name.clone(),
        client_id: ask.client_id.map(str::to_owned),
        verified: ask.verified,
        origin: ask.origin.map(str::to_owned),
        unregistered: ask.client_id.is_some() && app.is_none(),
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
    state
        .audit
        .record(
            "approval",
            serde_json::json!({
                "kind": ask.kind.as_str(),
                "app_name": app_name,
                "client_id": ask.client_id,
                "outcome": outcome,
            }),
        )
        .await;
    Ok(decision?)
}
