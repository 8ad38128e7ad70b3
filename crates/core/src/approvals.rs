//! The approval broker: one queue of requests waiting for the user (link,
//! authenticate, sign; later device enrolment and more). The desktop popups,
//! the web UI, the REST API and the CLI all answer this same queue.
//!
//! Rules: ids are random 128-bit; each answer settles exactly one request;
//! per app at most one request is open (shown) and five more wait behind it,
//! beyond which callers are told to retry later; a request not answered by its
//! deadline times out, and the deadline counts from when the request reaches
//! the screen (a queued one waits its turn first); locking the identity denies everything pending; a
//! request whose caller went away is withdrawn.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{oneshot, watch};

use crate::events::EventBus;
use crate::time::now_ms;

/// How long a prompt waits for the user.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Waiting requests per app, besides the open one.
pub const MAX_QUEUED_PER_APP: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    Link,
    Auth,
    Sign,
    /// An agent device enrolled on the hub and waits for the owner.
    DeviceEnrolment,
    /// A policy held a room message for the owner's approval.
    HeldMessage,
    /// An agent asks the owner to decide something (hub decisions).
    Decision,
    /// An A2A channel between hub identities waits for the owner.
    A2aChannel,
    /// A coding agent asks to run a tool (Bash, Write, …) in its workspace.
    ToolCall,
    /// A coding agent asks the owner a question with options.
    AgentQuestion,
}

impl ApprovalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalKind::Link => "link",
            ApprovalKind::Auth => "auth",
            ApprovalKind::Sign => "sign",
            ApprovalKind::DeviceEnrolment => "device_enrolment",
            ApprovalKind::HeldMessage => "held_message",
            ApprovalKind::Decision => "decision",
            ApprovalKind::A2aChannel => "a2a_channel",
            ApprovalKind::ToolCall => "tool_call",
            ApprovalKind::AgentQuestion => "agent_question",
        }
    }
}

/// Where the name a prompt shows comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameSource {
    /// The name the app was registered under (by the user, or at its first
    /// approved link).
    Registered,
    /// The requesting program's executable, as the OS reports it.
    Program,
    /// The browser origin the request came from.
    Origin,
    /// Nothing Holdfast knows: an unregistered client_id, or nothing at all.
    #[default]
    Unverified,
}

/// Who is asking, as shown to the user.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Requester {
    /// The name to show: the registered app's name, else the program or
    /// origin, else an "Unverified app" label with the client_id. Never
    /// what the caller claims alone.
    pub app_name: String,
    /// Where `app_name` comes from.
    pub name_source: NameSource,
    /// The name the caller sent, when it differs from `app_name`: shown
    /// only as what the app calls itself.
    pub claimed_name: Option<String>,
    pub client_id: Option<String>,
    /// The app proved itself with its app token; otherwise it is identified
    /// only by what it claims (client_id, Origin) and its executable.
    pub verified: bool,
    /// The browser origin the request came from, if any.
    pub origin: Option<String>,
    /// The app is not registered yet (approving a link registers it).
    pub unregistered: bool,
    /// The app holds a live link to the identity (false: never linked, or
    /// every link was revoked).
    pub linked: bool,
    pub pid: Option<u32>,
    pub exe: Option<String>,
}

impl Requester {
    /// Requests are limited per app: by client_id, else by name.
    fn app_key(&self) -> String {
        self.client_id
            .clone()
            .unwrap_or_else(|| format!("name:{}", self.app_name))
    }
}

pub struct NewApproval {
    pub kind: ApprovalKind,
    pub requester: Requester,
    pub reason: Option<String>,
    /// What will happen if allowed, for the prompt (e.g. a signing preview).
    pub details: Value,
    /// Whether "remember for …" may be offered.
    pub grant_allowed: bool,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApprovalView {
    pub id: String,
    pub kind: ApprovalKind,
    pub requester: Requester,
    pub reason: Option<String>,
    pub details: Value,
    pub grant_allowed: bool,
    pub created_ms: i64,
    /// How long the user has once the request is on screen.
    pub timeout_ms: i64,
    /// When it reached the screen; null while queued.
    pub opened_ms: Option<i64>,
    /// `opened_ms + timeout_ms`; null while queued.
    pub deadline_ms: Option<i64>,
    /// `open` (on screen) or `queued` (behind another request of the same app).
    pub state: &'static str,
}

impl ApprovalView {
    fn open_now(&mut self) {
        let now = now_ms();
        self.state = "open";
        self.opened_ms = Some(now);
        self.deadline_ms = Some(now + self.timeout_ms);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow {
        remember_s: Option<u64>,
        /// For a link: the profile scopes the user chose to share.
        scopes: Option<Vec<String>>,
        /// For a link from an app Holdfast does not know yet: the name the
        /// user registers it under, instead of the name it claimed.
        app_name: Option<String>,
    },
    Deny,
}

impl Decision {
    /// Allow, with nothing remembered and no scopes chosen.
    pub fn allow() -> Self {
        Decision::Allow {
            remember_s: None,
            scopes: None,
            app_name: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    #[error("the user denied the request")]
    Denied,
    #[error("nobody answered in time")]
    Timeout,
    #[error("the vault was locked while the request waited")]
    Locked,
    #[error("too many requests waiting for this app; retry in {retry_after_s} s")]
    Busy { retry_after_s: u64 },
    #[error("no such pending request")]
    NotFound,
}

enum Outcome {
    Decided(Decision),
    Locked,
}

struct Pending {
    view: ApprovalView,
    app_key: String,
    tx: Option<oneshot::Sender<Outcome>>,
    /// Tells a queued request's caller that its deadline has started.
    opened: Option<oneshot::Sender<()>>,
}

#[derive(Default)]
pub struct Approvals {
    pending: Mutex<VecDeque<Pending>>,
    count: watch::Sender<usize>,
    events: EventBus,
}

impl Approvals {
    /// A broker that announces requests and answers on `events`.
    pub fn new(events: EventBus) -> Arc<Self> {
        Arc::new(Self {
            events,
            ..Self::default()
        })
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The number of pending requests, as it changes (tray badge, UI).
    pub fn subscribe(&self) -> watch::Receiver<usize> {
        self.count.subscribe()
    }

    fn publish_count(&self, len: usize) {
        self.count.send_replace(len);
    }

    /// Ask the user and wait for the answer, the deadline or a lock.
    pub async fn request(self: &Arc<Self>, new: NewApproval) -> Result<Decision, ApprovalError> {
        self.request_as(Self::new_id(), new).await
    }

    /// A fresh request id (random 128-bit, hex).
    pub fn new_id() -> String {
        hex::encode(crate::identity::crypto::random_bytes::<16>())
    }

    /// [`Self::request`] under an id the caller chose with [`Self::new_id`],
    /// for callers that keep state about the request while it waits.
    pub async fn request_as(
        self: &Arc<Self>,
        id: String,
        new: NewApproval,
    ) -> Result<Decision, ApprovalError> {
        let app_key = new.requester.app_key();
        let created_ms = now_ms();
        let (tx, mut rx) = oneshot::channel();
        let (opened_tx, opened_rx) = oneshot::channel();
        let queued;
        {
            let mut q = self.queue();
            let same_app: Vec<&Pending> = q.iter().filter(|p| p.app_key == app_key).collect();
            if same_app.len() > MAX_QUEUED_PER_APP {
                let soonest = same_app
                    .iter()
                    .filter_map(|p| p.view.deadline_ms)
                    .min()
                    .unwrap_or(created_ms);
                let retry_after_s = ((soonest - created_ms).max(1000) as u64).div_ceil(1000);
                return Err(ApprovalError::Busy { retry_after_s });
            }
            queued = !same_app.is_empty();
            self.events.publish(
                "approval_requested",
                serde_json::json!({
                    "id": id,
                    "kind": new.kind,
                    "app_name": new.requester.app_name,
                    "claimed_name": new.requester.claimed_name,
                }),
            );
            let mut view = ApprovalView {
                id: id.clone(),
                kind: new.kind,
                requester: new.requester,
                reason: new.reason,
                details: new.details,
                grant_allowed: new.grant_allowed,
                created_ms,
                timeout_ms: new.timeout.as_millis() as i64,
                opened_ms: None,
                deadline_ms: None,
                state: "queued",
            };
            if !queued {
                view.open_now();
            }
            q.push_back(Pending {
                view,
                app_key,
                tx: Some(tx),
                opened: queued.then_some(opened_tx),
            });
            self.publish_count(q.len());
        }
        // Withdraws the request however this future ends (answer, timeout,
        // or the caller dropping it because its client disconnected); the
        // announced outcome says which.
        let mut guard = Withdraw {
            broker: self.clone(),
            id: id.clone(),
            outcome: Resolution::Withdrawn,
        };
        if queued {
            // Wait for the turn on screen (or an answer, or a lock) before
            // the deadline starts.
            tokio::select! {
                outcome = &mut rx => return Self::settle(outcome, &mut guard),
                _ = opened_rx => {}
            }
        }
        match tokio::time::timeout(new.timeout, rx).await {
            Ok(outcome) => Self::settle(outcome, &mut guard),
            Err(_) => {
                guard.outcome = Resolution::Timeout;
                Err(ApprovalError::Timeout)
            }
        }
    }

    fn settle(
        outcome: Result<Outcome, oneshot::error::RecvError>,
        guard: &mut Withdraw,
    ) -> Result<Decision, ApprovalError> {
        match outcome {
            Ok(Outcome::Decided(Decision::Deny)) => Err(ApprovalError::Denied),
            Ok(Outcome::Decided(d)) => Ok(d),
            Ok(Outcome::Locked) | Err(_) => {
                guard.outcome = Resolution::Locked;
                Err(ApprovalError::Locked)
            }
        }
    }

    pub fn list(&self) -> Vec<ApprovalView> {
        self.queue().iter().map(|p| p.view.clone()).collect()
    }

    pub fn get(&self, id: &str) -> Option<ApprovalView> {
        self.queue()
            .iter()
            .find(|p| p.view.id == id)
            .map(|p| p.view.clone())
    }

    /// Answer one request.
    pub fn answer(&self, id: &str, decision: Decision) -> Result<ApprovalView, ApprovalError> {
        let mut q = self.queue();
        let p = q
            .iter_mut()
            .find(|p| p.view.id == id)
            .ok_or(ApprovalError::NotFound)?;
        let tx = p.tx.take().ok_or(ApprovalError::NotFound)?;
        let view = p.view.clone();
        let resolution = match decision {
            Decision::Allow { .. } => Resolution::Allowed,
            Decision::Deny => Resolution::Denied,
        };
        let _ = tx.send(Outcome::Decided(decision));
        // Gone from the queue as the answer returns, not when the waiting
        // request gets round to it.
        self.remove_locked(&mut q, id, resolution);
        Ok(view)
    }

    /// Deny everything pending because the vault locked.
    pub fn deny_all_locked(&self) {
        let mut q = self.queue();
        for p in q.iter_mut() {
            if let Some(tx) = p.tx.take() {
                let _ = tx.send(Outcome::Locked);
            }
        }
    }

    fn withdraw(&self, id: &str, resolution: Resolution) {
        let mut q = self.queue();
        self.remove_locked(&mut q, id, resolution);
    }

    /// Remove a request (if still queued) and bring the app's next forward.
    fn remove_locked(&self, q: &mut VecDeque<Pending>, id: &str, resolution: Resolution) {
        let Some(pos) = q.iter().position(|p| p.view.id == id) else {
            return;
        };
        let removed = q.remove(pos).expect("position is in range");
        self.events.publish(
            "approval_resolved",
            serde_json::json!({
                "id": id,
                "kind": removed.view.kind,
                "app_name": removed.view.requester.app_name,
                "outcome": resolution,
            }),
        );
        // The next request of the same app comes to the front.
        if removed.view.state == "open"
            && let Some(next) = q.iter_mut().find(|p| p.app_key == removed.app_key)
        {
            next.view.open_now();
            if let Some(opened) = next.opened.take() {
                let _ = opened.send(());
            }
            self.events.publish(
                "approval_opened",
                serde_json::json!({ "id": next.view.id, "kind": next.view.kind }),
            );
        }
        self.publish_count(q.len());
    }
}

/// How a request left the queue, as `approval_resolved` announces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The user allowed it.
    Allowed,
    /// The user denied it.
    Denied,
    /// Nobody answered by the deadline: denied.
    Timeout,
    /// The identity locked while it waited: denied.
    Locked,
    /// The app went away (disconnected) before an answer.
    Withdrawn,
}

struct Withdraw {
    broker: Arc<Approvals>,
    id: String,
    outcome: Resolution,
}

impl Drop for Withdraw {
    fn drop(&mut self) {
        self.broker.withdraw(&self.id, self.outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(kind: ApprovalKind, app: &str, timeout_ms: u64) -> NewApproval {
        NewApproval {
            kind,
            requester: Requester {
                app_name: app.into(),
                client_id: Some(app.into()),
                ..Default::default()
            },
            reason: None,
            details: Value::Null,
            grant_allowed: false,
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    async fn wait_for_len(b: &Approvals, n: usize) {
        let mut rx = b.subscribe();
        tokio::time::timeout(Duration::from_secs(5), rx.wait_for(|l| *l == n))
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn each_answer_settles_exactly_one_request() {
        let b = Approvals::new(EventBus::new());
        let (b1, b2) = (b.clone(), b.clone());
        let t1 = tokio::spawn(async move { b1.request(ask(ApprovalKind::Sign, "a", 5000)).await });
        let t2 = tokio::spawn(async move { b2.request(ask(ApprovalKind::Sign, "a", 5000)).await });
        wait_for_len(&b, 2).await;
        let list = b.list();
        assert_eq!(list[0].state, "open");
        assert_eq!(list[1].state, "queued");
        assert_eq!(list[0].id.len(), 32);
        b.answer(&list[0].id, Decision::allow()).unwrap();
        assert_eq!(
            b.list().len(),
            1,
            "answered requests leave the queue at once"
        );
        assert_eq!(b.list()[0].state, "open", "the next one comes to the front");
        assert!(b.list()[0].deadline_ms.is_some());
        b.answer(&list[1].id, Decision::Deny).unwrap();
        let r = [t1.await.unwrap(), t2.await.unwrap()];
        assert!(r.contains(&Ok(Decision::allow())));
        assert!(r.contains(&Err(ApprovalError::Denied)));
        assert!(matches!(
            b.answer(&list[0].id, Decision::Deny),
            Err(ApprovalError::NotFound)
        ));
    }

    #[tokio::test]
    async fn floods_are_refused_per_app() {
        let b = Approvals::new(EventBus::new());
        let mut tasks = Vec::new();
        for _ in 0..=MAX_QUEUED_PER_APP {
            let b = b.clone();
            tasks.push(tokio::spawn(async move {
                b.request(ask(ApprovalKind::Sign, "a", 5000)).await
            }));
        }
        wait_for_len(&b, MAX_QUEUED_PER_APP + 1).await;
        assert!(matches!(
            b.request(ask(ApprovalKind::Sign, "a", 5000)).await,
            Err(ApprovalError::Busy { .. })
        ));
        // Another app is not affected.
        let other = b.clone();
        let t =
            tokio::spawn(async move { other.request(ask(ApprovalKind::Auth, "b", 5000)).await });
        wait_for_len(&b, MAX_QUEUED_PER_APP + 2).await;
        b.deny_all_locked();
        assert_eq!(t.await.unwrap(), Err(ApprovalError::Locked));
        for t in tasks {
            assert_eq!(t.await.unwrap(), Err(ApprovalError::Locked));
        }
        wait_for_len(&b, 0).await;
    }

    #[tokio::test]
    async fn requests_and_resolutions_are_announced() {
        let bus = EventBus::new();
        let mut rx = bus.subscribe();
        let b = Approvals::new(bus);
        assert_eq!(
            b.request(ask(ApprovalKind::Auth, "a", 10)).await,
            Err(ApprovalError::Timeout)
        );
        let first = rx.recv().await.unwrap();
        assert_eq!(first["type"], "approval_requested");
        assert_eq!(first["kind"], "auth");
        let second = rx.recv().await.unwrap();
        assert_eq!(second["type"], "approval_resolved");
        assert_eq!(second["id"], first["id"]);
        assert_eq!(second["outcome"], "timeout");
    }

    #[tokio::test]
    async fn a_queued_request_gets_its_whole_time_once_on_screen() {
        let b = Approvals::new(EventBus::new());
        let (b1, b2) = (b.clone(), b.clone());
        let first =
            tokio::spawn(async move { b1.request(ask(ApprovalKind::Sign, "a", 600)).await });
        wait_for_len(&b, 1).await;
        let second =
            tokio::spawn(async move { b2.request(ask(ApprovalKind::Sign, "a", 600)).await });
        wait_for_len(&b, 2).await;
        let first_created = b.list()[0].created_ms;
        let queued = b.list()[1].clone();
        assert_eq!(queued.state, "queued");
        assert_eq!(queued.deadline_ms, None, "no deadline while queued");
        // The first times out unanswered; only then does the second's clock start.
        assert_eq!(first.await.unwrap(), Err(ApprovalError::Timeout));
        let shown = b
            .get(&queued.id)
            .expect("still pending after the first timed out");
        assert_eq!(shown.state, "open");
        let opened = shown.opened_ms.unwrap();
        assert!(opened >= first_created + 600, "opened when the first left");
        assert_eq!(shown.deadline_ms, Some(opened + 600));
        b.answer(&queued.id, Decision::allow()).unwrap();
        assert_eq!(second.await.unwrap(), Ok(Decision::allow()));
    }

    #[tokio::test]
    async fn timeouts_and_dropped_callers_withdraw() {
        let bus = EventBus::new();
        let mut rx = bus.subscribe();
        let b = Approvals::new(bus);
        assert_eq!(
            b.request(ask(ApprovalKind::Auth, "a", 50)).await,
            Err(ApprovalError::Timeout)
        );
        assert!(b.list().is_empty());
        let b2 = b.clone();
        let t = tokio::spawn(async move { b2.request(ask(ApprovalKind::Auth, "a", 5000)).await });
        wait_for_len(&b, 1).await;
        t.abort();
        wait_for_len(&b, 0).await;
        let outcomes: Vec<Value> = std::iter::from_fn(|| rx.try_recv().ok())
            .filter(|e| e["type"] == "approval_resolved")
            .map(|e| e["outcome"].clone())
            .collect();
        assert_eq!(outcomes, ["timeout", "withdrawn"]);
    }

    #[tokio::test]
    async fn answers_are_announced_as_what_was_answered() {
        let bus = EventBus::new();
        let mut rx = bus.subscribe();
        let b = Approvals::new(bus);
        for (decision, said) in [(Decision::allow(), "allowed"), (Decision::Deny, "denied")] {
            let b2 = b.clone();
            let t =
                tokio::spawn(async move { b2.request(ask(ApprovalKind::Sign, "a", 5000)).await });
            wait_for_len(&b, 1).await;
            b.answer(&b.list()[0].id, decision).unwrap();
            let _ = t.await.unwrap();
            let resolved = std::iter::from_fn(|| rx.try_recv().ok())
                .find(|e| e["type"] == "approval_resolved")
                .unwrap();
            assert_eq!(resolved["outcome"], said);
        }
    }
}
