//! Decisions: an agent (or the owner) asks the owner to decide something;
//! the question waits in the one approvals queue (popup, web UI, REST, CLI)
//! as a `decision` request and on the Decisions page. The owner approves,
//! denies or defers it. Approve and deny are final and are told to the
//! asking agent (`decision_resolved` on its socket). Defer takes it out of
//! the popup and leaves it on the Decisions page (status `deferred`) until
//! the owner approves or denies it there; it is not asked again.
//! Allow/Deny in the queue resolve it the same way, once. A prompt nobody
//! answers (or that a lock withdrew) leaves it pending; unlocking asks again.

use super::prompts::PromptSet;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::live::frame;
use super::{Hub, HubError, HubResult, new_id};
use crate::approvals::{ApprovalKind, Approvals, NameSource, NewApproval, Requester};
use crate::audit::Audit;
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

pub const NOT_FOUND: &str = "Decision not found";
pub const PENDING: &str = "pending";
pub const DEFERRED: &str = "deferred";
pub const APPROVED: &str = "approved";
pub const DENIED: &str = "denied";

pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 4000;
pub const MAX_OPTIONS: usize = 10;
pub const MAX_OPTION: usize = 100;
pub const MAX_CONTEXT_BYTES: usize = 8 * 1024;
pub const MAX_NOTE: usize = 1000;
/// Open (pending or deferred) decisions a tenant may hold.
pub const MAX_OPEN: i64 = 500;

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub id: String,
    pub tenant_id: String,
    /// The asking device; None when the owner asked.
    pub requester_device_id: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub options: Vec<String>,
    pub context: Option<Value>,
    /// pending, deferred, approved or denied.
    pub status: String,
    pub note: Option<String>,
    /// The option chosen with an approval, if any.
    pub option: Option<String>,
    pub created_at: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub resolved_at: Option<String>,
    pub resolved_ms: Option<i64>,
}

const COLUMNS: &str = "id, tenant_id, requester_device_id, title, description, options, context,
     status, note, option, created_ms, updated_ms, resolved_ms";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Decision> {
    let options: String = r.get(5)?;
    let context: Option<String> = r.get(6)?;
    let created_ms: i64 = r.get(10)?;
    let resolved_ms: Option<i64> = r.get(12)?;
    Ok(Decision {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        requester_device_id: r.get(2)?,
        title: r.get(3)?,
        description: r.get(4)?,
        options: serde_json::from_str(&options).unwrap_or_default(),
        context: context.and_then(|c| serde_json::from_str(&c).ok()),
        status: r.get(7)?,
        note: r.get(8)?,
        option: r.get(9)?,
        created_at: rfc3339(created_ms),
        created_ms,
        updated_ms: r.get(11)?,
        resolved_at: resolved_ms.map(rfc3339),
        resolved_ms,
    })
}

/// A question as asked.
#[derive(Debug, Clone, Default)]
pub struct NewDecision {
    pub title: String,
    pub description: Option<String>,
    pub options: Vec<String>,
    pub context: Option<Value>,
}

fn printable(s: &str, allow_newlines: bool) -> bool {
    s.chars()
        .all(|c| !c.is_control() || (allow_newlines && (c == '\n' || c == '\t')))
}

fn validate(n: NewDecision) -> HubResult<NewDecision> {
    let title = n.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > MAX_TITLE || !printable(&title, false) {
        return Err(HubError::BadRequest(format!(
            "title must be 1-{MAX_TITLE} printable characters"
        )));
    }
    let description = n
        .description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION || !printable(d, true))
    {
        return Err(HubError::BadRequest(format!(
            "description must be at most {MAX_DESCRIPTION} characters"
        )));
    }
    if n.options.len() > MAX_OPTIONS {
        return Err(HubError::BadRequest(format!(
            "at most {MAX_OPTIONS} options"
        )));
    }
    let mut options = Vec::with_capacity(n.options.len());
    for o in n.options {
        let o = o.trim().to_owned();
        if o.is_empty() || o.chars().count() > MAX_OPTION || !printable(&o, false) {
            return Err(HubError::BadRequest(format!(
                "each option must be 1-{MAX_OPTION} printable characters"
            )));
        }
        if options.contains(&o) {
            return Err(HubError::BadRequest("options must differ".into()));
        }
        options.push(o);
    }
    if let Some(c) = &n.context {
        if !c.is_object() {
            return Err(HubError::BadRequest("context must be a JSON object".into()));
        }
        if c.to_string().len() > MAX_CONTEXT_BYTES {
            return Err(HubError::BadRequest(format!(
                "context must be at most {MAX_CONTEXT_BYTES} bytes of JSON"
            )));
        }
    }
    Ok(NewDecision {
        title,
        description,
        options,
        context: n.context,
    })
}

/// Record a new pending decision.
pub async fn create(
    catalog: &Catalog,
    tenant: &str,
    requester: Option<&str>,
    new: NewDecision,
) -> HubResult<Decision> {
    let n = validate(new)?;
    let (id, t, r) = (new_id(), tenant.to_owned(), requester.map(str::to_owned));
    let row_id = id.clone();
    let room = catalog
        .write(move |c| {
            let tx = c.transaction()?;
            let open: i64 = tx.query_row(
                "SELECT COUNT(*) FROM hub_decisions WHERE tenant_id = ?1
                 AND status IN ('pending', 'deferred')",
                [&t],
                |r| r.get(0),
            )?;
            if open >= MAX_OPEN {
                return Ok(false);
            }
            let now = now_ms();
            tx.execute(
                "INSERT INTO hub_decisions (id, tenant_id, requester_device_id, title, description,
                     options, context, status, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?8)",
                params![
                    row_id,
                    t,
                    r,
                    n.title,
                    n.description,
                    Value::from(n.options).to_string(),
                    n.context.map(|c| c.to_string()),
                    now
                ],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await?;
    if !room {
        return Err(HubError::Conflict(format!(
            "{MAX_OPEN} decisions are already waiting; resolve some first"
        )));
    }
    get(catalog, tenant, &id).await
}

/// One decision of `tenant`, or 404.
pub async fn get(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Decision> {
    let (t, i) = (tenant.to_owned(), id.to_owned());
    catalog
        .read(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM hub_decisions WHERE id = ?1 AND tenant_id = ?2"),
                params![i, t],
                from_row,
            )
            .optional()
        })
        .await?
        .ok_or_else(|| HubError::NotFound(NOT_FOUND.into()))
}

/// Which decisions a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Pending and deferred (the default).
    Open,
    Pending,
    Deferred,
    /// Approved and denied, most recently resolved first.
    Resolved,
    All,
}

impl Filter {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => Self::Open,
            "pending" => Self::Pending,
            "deferred" => Self::Deferred,
            "resolved" => Self::Resolved,
            "all" => Self::All,
            _ => return None,
        })
    }

    fn sql(self) -> &'static str {
        match self {
            Self::Open => "status IN ('pending', 'deferred') ORDER BY created_ms DESC, id",
            Self::Pending => "status = 'pending' ORDER BY created_ms DESC, id",
            Self::Deferred => "status = 'deferred' ORDER BY created_ms DESC, id",
            Self::Resolved => "status IN ('approved', 'denied') ORDER BY resolved_ms DESC, id",
            Self::All => "1 ORDER BY created_ms DESC, id",
        }
    }
}

/// Decisions of `tenant` (a device sees only those it asked), at most `limit`.
pub async fn list(
    catalog: &Catalog,
    tenant: &str,
    requester: Option<&str>,
    filter: Filter,
    limit: usize,
) -> HubResult<Vec<Decision>> {
    let (t, r) = (tenant.to_owned(), requester.map(str::to_owned));
    Ok(catalog
        .read(move |c| {
            let mut st = c.prepare(&format!(
                "SELECT {COLUMNS} FROM hub_decisions WHERE tenant_id = ?1
                 AND (?2 IS NULL OR requester_device_id = ?2) AND {} LIMIT ?3",
                filter.sql()
            ))?;
            st.query_map(params![t, r, limit as i64], from_row)?
                .collect()
        })
        .await?)
}

/// The owner's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Approve,
    Deny,
    Defer,
}

impl Resolution {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "approve" => Self::Approve,
            "deny" => Self::Deny,
            "defer" => Self::Defer,
            _ => return None,
        })
    }
}

/// Move a decision on: approve or deny an open one, defer a pending one.
/// 404 unknown, 409 already resolved (or deferring a deferred one), 400 an
/// option it did not offer.
pub async fn resolve(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
    resolution: Resolution,
    note: Option<String>,
    option: Option<String>,
) -> HubResult<Decision> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE || !printable(n, true))
    {
        return Err(HubError::BadRequest(format!(
            "note must be at most {MAX_NOTE} characters"
        )));
    }
    let current = get(catalog, tenant, id).await?;
    if let Some(o) = &option {
        if resolution != Resolution::Approve {
            return Err(HubError::BadRequest(
                "an option is chosen only when approving".into(),
            ));
        }
        if !current.options.contains(o) {
            return Err(HubError::BadRequest(
                "option is not one of the decision's options".into(),
            ));
        }
    }
    let (from, to): (&'static str, &'static str) = match resolution {
        Resolution::Approve => ("('pending', 'deferred')", APPROVED),
        Resolution::Deny => ("('pending', 'deferred')", DENIED),
        Resolution::Defer => ("('pending')", DEFERRED),
    };
    let (t, i) = (tenant.to_owned(), id.to_owned());
    let changed = catalog
        .write(move |c| {
            let now = now_ms();
            let resolved = (to != DEFERRED).then_some(now);
            c.execute(
                &format!(
                    "UPDATE hub_decisions SET status = ?3, note = COALESCE(?4, note), option = ?5,
                         updated_ms = ?6, resolved_ms = ?7
                     WHERE id = ?1 AND tenant_id = ?2 AND status IN {from}"
                ),
                params![i, t, to, note, option, now, resolved],
            )
        })
        .await?;
    if changed == 0 {
        let d = get(catalog, tenant, id).await?;
        return Err(HubError::Conflict(format!(
            "the decision is already {}",
            d.status
        )));
    }
    get(catalog, tenant, id).await
}

/// Tell the asking agent, the live views and the audit ring what happened.
pub async fn announce(hub: &Hub, audit: &Audit, d: &Decision, via: &str) {
    let data = json!({
        "decision_id": d.id, "id": d.id, "status": d.status,
        "resolution": match d.status.as_str() {
            APPROVED => "approve", DENIED => "deny", _ => "defer",
        },
        "note": d.note, "option": d.option, "title": d.title,
    });
    if let Some(dev) = &d.requester_device_id {
        let event = if d.status == DEFERRED {
            "decision_deferred"
        } else {
            "decision_resolved"
        };
        hub.live.send(dev, frame(event, data.clone()));
    }
    hub.events.publish(
        "hub_decision",
        json!({"id": d.id, "status": d.status, "tenant_id": d.tenant_id}),
    );
    audit
        .record(
            "hub_decision_resolved",
            json!({
                "decision_id": d.id, "tenant_id": d.tenant_id, "status": d.status,
                "device_id": d.requester_device_id, "via": via,
            }),
        )
        .await;
}

/// Decision prompts on screen, by decision id.
#[derive(Clone, Default)]
pub struct Prompts(PromptSet);

impl Prompts {
    /// Withdraw the decision's prompt, if one is on screen.
    pub fn withdraw(&self, id: &str) {
        self.0.withdraw(id);
    }

    /// Put a pending decision in the approvals queue (once at a time).
    pub fn raise(
        &self,
        hub: Hub,
        approvals: Arc<Approvals>,
        audit: Audit,
        d: Decision,
        asker: String,
        timeout: Duration,
    ) {
        if d.status != PENDING {
            return;
        }
        let request = NewApproval {
            kind: ApprovalKind::Decision,
            requester: Requester {
                app_name: asker.clone(),
                name_source: NameSource::Unverified,
                client_id: Some(match &d.requester_device_id {
                    Some(dev) => format!("hub-device:{dev}"),
                    None => "hub-owner".into(),
                }),
                ..Requester::default()
            },
            reason: Some(format!("{asker} asks you to decide: {}", d.title)),
            details: json!({
                "decision_id": d.id,
                "title": d.title,
                "description": d.description,
                "options": d.options,
                "context": d.context,
                "device_id": d.requester_device_id,
                "requester": asker,
                "tenant_id": d.tenant_id,
            }),
            grant_allowed: false,
            timeout,
        };
        // Unanswered, locked or the queue is full: it stays pending.
        self.0.ask(
            d.id.clone(),
            approvals,
            request,
            move |allowed| async move {
                let resolution = if allowed {
                    Resolution::Approve
                } else {
                    Resolution::Deny
                };
                match resolve(&hub.catalog, &d.tenant_id, &d.id, resolution, None, None).await {
                    Ok(done) => announce(&hub, &audit, &done, "approvals").await,
                    Err(e) => tracing::info!("decision {} was answered already: {e}", d.id),
                }
            },
        );
    }

    /// Ask again about every pending decision (after an unlock).
    pub async fn raise_all(
        &self,
        hub: &Hub,
        approvals: &Arc<Approvals>,
        audit: &Audit,
        timeout: Duration,
    ) {
        let tenants = match super::tenants::list(&hub.catalog).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("listing hub tenants failed: {e}");
                return;
            }
        };
        for t in tenants {
            let Ok(list) = list(
                &hub.catalog,
                &t.id,
                None,
                Filter::Pending,
                MAX_OPEN as usize,
            )
            .await
            else {
                continue;
            };
            for d in list {
                let asker = asker_name(&hub.catalog, &d).await;
                self.raise(
                    hub.clone(),
                    approvals.clone(),
                    audit.clone(),
                    d,
                    asker,
                    timeout,
                );
            }
        }
    }
}

/// The name a prompt shows for who asked.
pub async fn asker_name(catalog: &Catalog, d: &Decision) -> String {
    match &d.requester_device_id {
        None => "You".into(),
        Some(dev) => match super::devices::get(catalog, dev).await {
            Ok(Some(device)) => device.name,
            _ => "An agent".into(),
        },
    }
}
