//! The owner's views across the hub: the dashboard's recent activity (agents'
//! telemetry spans, enrolments and decisions, with message counts; message
//! contents are ciphertext and never shown) and the hub's part of the
//! daemon's one audit ring, attributed to tenants by the ids its events
//! name (`tenant_id`, else the `device_id` or `invite_id`'s tenant).

use rusqlite::params;
use serde_json::{Value, json};

use super::HubResult;
use crate::audit::AuditEvent;
use crate::catalog::Catalog;

pub const MAX_LIMIT: usize = 500;

/// The tenant an audit event belongs to, as SQL over `details`.
const TENANT_OF_EVENT: &str = "CASE WHEN json_type(details, '$.tenant_id') IS NOT NULL
         THEN json_extract(details, '$.tenant_id') = ?1
         ELSE json_extract(details, '$.device_id') IN (SELECT id FROM hub_devices WHERE tenant_id = ?1)
           OR json_extract(details, '$.invite_id') IN (SELECT id FROM hub_invites WHERE tenant_id = ?1)
         END";

/// Hub audit events (`hub_*`) of `tenant`, newest first.
pub async fn audit_events(
    catalog: &Catalog,
    tenant: &str,
    kind: Option<String>,
    since_ms: i64,
    before_id: Option<i64>,
    limit: usize,
) -> HubResult<Vec<AuditEvent>> {
    let t = tenant.to_owned();
    Ok(catalog
        .read(move |c| {
            let mut st = c.prepare(&format!(
                "SELECT id, ts_ms, type, details FROM audit
                 WHERE type LIKE 'hub\\_%' ESCAPE '\\' AND ts_ms >= ?2
                   AND (?3 IS NULL OR type = ?3) AND (?4 IS NULL OR id < ?4)
                   AND ({TENANT_OF_EVENT})
                 ORDER BY id DESC LIMIT ?5"
            ))?;
            st.query_map(params![t, since_ms, kind, before_id, limit as i64], |r| {
                Ok(AuditEvent {
                    id: r.get(0)?,
                    ts_ms: r.get(1)?,
                    kind: r.get(2)?,
                    details: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or(Value::Null),
                })
            })?
            .collect()
        })
        .await?)
}

/// The dashboard: counts since `since_ms` and the newest `limit` items.
pub async fn dashboard(
    catalog: &Catalog,
    tenant: &str,
    online: Vec<String>,
    since_ms: i64,
    limit: usize,
) -> HubResult<Value> {
    let t = tenant.to_owned();
    catalog
        .read(move |c| {
            let count = |sql: &str| -> rusqlite::Result<i64> {
                c.query_row(sql, params![t, since_ms], |r| r.get(0))
            };
            let spans = count(
                "SELECT COUNT(*) FROM hub_telemetry WHERE tenant_id = ?1 AND created_ms >= ?2",
            )?;
            let errors = count(
                "SELECT COUNT(*) FROM hub_telemetry WHERE tenant_id = ?1 AND created_ms >= ?2
                 AND status_code = 2",
            )?;
            let messages = count(
                "SELECT COUNT(*) FROM hub_messages WHERE tenant_id = ?1 AND created_ms >= ?2",
            )?;
            let enrolments = count(
                "SELECT COUNT(*) FROM hub_devices WHERE tenant_id = ?1 AND created_ms >= ?2
                 AND kind = 'agent'",
            )?;
            let decisions = count(
                "SELECT COUNT(*) FROM hub_decisions WHERE tenant_id = ?1 AND created_ms >= ?2",
            )?;
            let pending: i64 = c.query_row(
                "SELECT COUNT(*) FROM hub_decisions WHERE tenant_id = ?1 AND status = 'pending'",
                [&t],
                |r| r.get(0),
            )?;
            let mut st = c.prepare(
                "SELECT id, status FROM hub_devices WHERE tenant_id = ?1 AND kind = 'agent'
                 AND deleted_ms IS NULL",
            )?;
            let agents: Vec<(String, String)> = st
                .query_map([&t], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let active = agents.iter().filter(|(_, s)| s == "ACTIVE").count();
            let on = agents.iter().filter(|(id, _)| online.contains(id)).count();

            let mut items: Vec<(i64, Value)> = Vec::new();
            let mut st = c.prepare(
                "SELECT s.trace_id, s.span_id, s.device_id, d.name, d.hub_id, s.name,
                        COALESCE(s.start_ms, s.created_ms), s.end_ms - s.start_ms, s.status_code
                 FROM hub_telemetry s LEFT JOIN hub_devices d ON d.id = s.device_id
                 WHERE s.tenant_id = ?1 AND s.created_ms >= ?2
                 ORDER BY s.created_ms DESC LIMIT ?3",
            )?;
            for row in st.query_map(params![t, since_ms, limit as i64], |r| {
                let ts: i64 = r.get(6)?;
                Ok((
                    ts,
                    json!({
                        "type": "span", "ts_ms": ts,
                        "trace_id": r.get::<_, String>(0)?, "span_id": r.get::<_, String>(1)?,
                        "device_id": r.get::<_, String>(2)?, "agent_name": r.get::<_, Option<String>>(3)?,
                        "hub_id": r.get::<_, Option<String>>(4)?, "name": r.get::<_, Option<String>>(5)?,
                        "duration_ms": r.get::<_, Option<i64>>(7)?,
                        "status_code": r.get::<_, Option<i64>>(8)?,
                    }),
                ))
            })? {
                items.push(row?);
            }
            let mut st = c.prepare(
                "SELECT id, name, platform, status, created_ms FROM hub_devices
                 WHERE tenant_id = ?1 AND kind = 'agent' AND created_ms >= ?2
                 ORDER BY created_ms DESC LIMIT ?3",
            )?;
            for row in st.query_map(params![t, since_ms, limit as i64], |r| {
                let ts: i64 = r.get(4)?;
                Ok((
                    ts,
                    json!({
                        "type": "enrolment", "ts_ms": ts, "device_id": r.get::<_, String>(0)?,
                        "agent_name": r.get::<_, String>(1)?,
                        "platform": r.get::<_, Option<String>>(2)?,
                        "status": r.get::<_, String>(3)?,
                    }),
                ))
            })? {
                items.push(row?);
            }
            let mut st = c.prepare(
                "SELECT x.id, x.title, x.status, x.created_ms, x.requester_device_id, d.name
                 FROM hub_decisions x LEFT JOIN hub_devices d ON d.id = x.requester_device_id
                 WHERE x.tenant_id = ?1 AND x.created_ms >= ?2
                 ORDER BY x.created_ms DESC LIMIT ?3",
            )?;
            for row in st.query_map(params![t, since_ms, limit as i64], |r| {
                let ts: i64 = r.get(3)?;
                Ok((
                    ts,
                    json!({
                        "type": "decision", "ts_ms": ts, "decision_id": r.get::<_, String>(0)?,
                        "title": r.get::<_, String>(1)?, "status": r.get::<_, String>(2)?,
                        "device_id": r.get::<_, Option<String>>(4)?,
                        "agent_name": r.get::<_, Option<String>>(5)?,
                    }),
                ))
            })? {
                items.push(row?);
            }
            items.sort_by_key(|b| std::cmp::Reverse(b.0));
            items.truncate(limit);
            Ok(json!({
                "since_ms": since_ms,
                "counts": {
                    "spans": spans, "errors": errors, "messages": messages,
                    "enrolments": enrolments, "decisions": decisions,
                    "decisions_pending": pending,
                    "agents": agents.len(), "agents_active": active, "agents_online": on,
                },
                "items": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
            }))
        })
        .await
        .map_err(Into::into)
}
