//! Raising an approval for an IPC request: who is asking (app, whether it is
//! registered or legacy, which executable), and waiting for the answer.

use holdfast_core::approvals::{self, ApprovalKind, Decision, NewApproval, Requester};
use serde_json::Value;

use super::error::IpcResult;
use super::guard::PeerSocket;
use crate::state::AppState;

pub struct Ask<'a> {
    pub kind: ApprovalKind,
    pub app_name: &'a str,
    pub client_id: Option<&'a str>,
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
    let requester = Requester {
        app_name: ask.app_name.to_owned(),
        client_id: ask.client_id.map(str::to_owned),
        legacy: app.as_ref().is_some_and(|a| a.legacy),
        unregistered: ask.client_id.is_some() && app.is_none(),
        pid: process.as_ref().and_then(|p| p.pid),
        exe: process.and_then(|p| p.exe),
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
                "app_name": ask.app_name,
                "client_id": ask.client_id,
                "outcome": outcome,
            }),
        )
        .await;
    Ok(decision?)
}
