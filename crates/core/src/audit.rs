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

    /// Every event, oldest first, for export.
    pub async fn all(&self) -> Result<Vec<AuditEvent>, CatalogError> {
        self.list(0, None, RING_SIZE as usize).await
    }

    /// Events at or after `since_ms`, optionally of the given types, oldest
    /// first, at most `limit`.
    pub async fn list(
        &self,
        since_ms: i64,
        types: Option<Vec<String>>,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, CatalogError> {
        self.catalog
            .read(move |c| {
                let mut stmt = c.prepare(
                    "SELECT id, ts_ms, type, details FROM audit WHERE ts_ms >= ?1 ORDER BY id",
                )?;
                let rows = stmt.query_map([since_ms], |r| {
                    Ok(AuditEvent {
                        id: r.get(0)?,
                        ts_ms: r.get(1)?,
                        kind: r.get(2)?,
                        details: serde_json::from_str(&r.get::<_, String>(3)?)
                            .unwrap_or(Value::Null),
                    })
                })?;
                let mut out = Vec::new();
                for row in rows {
                    let e = row?;
                    if types.as_ref().is_none_or(|t| t.contains(&e.kind)) {
                        out.push(e);
                        if out.len() >= limit {
                            break;
                        }
                    }
                }
                Ok(out)
            })
            .await
    }
}
