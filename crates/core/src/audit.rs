//! The audit log: security-relevant events (links, authentications,
//! signatures, backups, revocations, unlocks…) in a bounded ring in the
//! catalog. Details never hold secrets or backup contents.

use serde::Serialize;
use serde_json::Value;

use crate::catalog::{Catalog, CatalogError};
use crate::events::EventBus;
use crate::time::now_ms;

/// Events kept; older ones are dropped as new ones arrive.
pub const RING_SIZE: i64 = 10_000;

#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub ts_ms: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub details: Value,
}

#[derive(Clone)]
pub struct Audit {
    catalog: Catalog,
    events: EventBus,
}

impl Audit {
    /// Every recorded event is also published on `events` (as `audit`).
    pub fn new(catalog: Catalog, events: EventBus) -> Self {
        Self { catalog, events }
    }

    /// Append an event (durable when this returns). Failures are logged, not
    /// raised: auditing must not break the action it records.
    pub async fn record(&self, kind: &str, details: Value) {
        self.events.publish(
            "audit",
            serde_json::json!({ "audit_type": kind, "details": details.clone() }),
        );
        let kind = kind.to_owned();
        let details = details.to_string();
        let result = self
            .catalog
            .write(move |c| {
                let tx = c.transaction()?;
                tx.execute(
                    "INSERT INTO audit (ts_ms, type, details) VALUES (?1, ?2, ?3)",
                    rusqlite::params![now_ms(), kind, details],
                )?;
                let newest = tx.last_insert_rowid();
                tx.execute("DELETE FROM audit WHERE id <= ?1", [newest - RING_SIZE])?;
                tx.commit()
            })
            .await;
        if let Err(e) = result {
            tracing::error!("audit write failed: {e}");
        }
    }

    /// Events at or after `since_ms` (and, with `before_id`, with smaller
    /// ids: the next page back), optionally of the given types, newest
    /// first, at most `limit`: the most recent window, as a log is read.
    pub async fn list(
        &self,
        since_ms: i64,
        before_id: Option<i64>,
        types: Option<Vec<String>>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, CatalogError> {
        self.catalog
            .read(move |c| {
                let types = types.map(|t| serde_json::to_string(&t).expect("strings serialise"));
                let mut stmt = c.prepare(
                    "SELECT id, ts_ms, type, details FROM audit
                     WHERE ts_ms >= ?1 AND (?2 IS NULL OR type IN (SELECT value FROM json_each(?2)))
                       AND id < ?4
                     ORDER BY id DESC LIMIT ?3",
                )?;
                stmt.query_map(
                    rusqlite::params![since_ms, types, limit as i64, before_id.unwrap_or(i64::MAX)],
                    event_from_row,
                )?
                .collect()
            })
            .await
    }

    /// Up to `limit` events with ids above `after_id`, oldest first: one page
    /// of an export, so it streams without holding the whole ring.
    pub async fn page(&self, after_id: i64, limit: usize) -> Result<Vec<AuditEvent>, CatalogError> {
        self.catalog
            .read(move |c| {
                let mut stmt = c.prepare(
                    "SELECT id, ts_ms, type, details FROM audit WHERE id > ?1 ORDER BY id LIMIT ?2",
                )?;
                stmt.query_map(rusqlite::params![after_id, limit as i64], event_from_row)?
                    .collect()
            })
            .await
    }
}

fn event_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEvent> {
    Ok(AuditEvent {
        id: r.get(0)?,
        ts_ms: r.get(1)?,
        kind: r.get(2)?,
        details: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or(Value::Null),
    })
}
