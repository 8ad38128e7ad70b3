//! The policy engine (spec/agent-hub-api.md "Policies"): the owner's rules
//! for room traffic. A policy matches on metadata only — sender device,
//! room, size in bytes, message type, the sender's rate, the time of day —
//! never on content (the relay has none). Enabled policies are tried by
//! ascending `priority` (then age); the first that matches decides:
//! `allow`, `block`, `hold` (for the owner's approval) or `notify` (deliver
//! and tell the owner). No match: allow.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::{HubError, HubResult, new_id, parse_id};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

pub const NOT_FOUND: &str = "Policy not found";
/// Policies a tenant may have.
pub const MAX_POLICIES: i64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allow,
    Block,
    Hold,
    Notify,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Block => "block",
            Action::Hold => "hold",
            Action::Notify => "notify",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "allow" => Action::Allow,
            "block" => Action::Block,
            "hold" => Action::Hold,
            "notify" => Action::Notify,
            _ => return None,
        })
    }
}

/// More than `max_messages` room messages from the sender within the last
/// `window_seconds` (this one counted) matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub max_messages: u32,
    pub window_seconds: u32,
}

/// `start` ≤ time of day (UTC) < `end`, both `HH:MM`; a window past
/// midnight (`22:00`-`06:00`) wraps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    pub start: String,
    pub end: String,
}

/// Every condition present must match; none present matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_device_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_types: Option<Vec<String>>,
    /// The ciphertext is at least this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size_bytes: Option<u64>,
    /// The ciphertext is at most this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_of_day: Option<TimeWindow>,
}

fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl Conditions {
    /// Validate and canonicalise (ids lowercase).
    pub fn check(mut self) -> HubResult<Self> {
        let bad = |m: &str| Err(HubError::BadRequest(m.to_owned()));
        for ids in [&mut self.sender_device_ids, &mut self.room_ids]
            .into_iter()
            .flatten()
        {
            if ids.is_empty() || ids.len() > 100 {
                return bad("id lists hold 1-100 UUIDs");
            }
            let mut out = Vec::new();
            for id in ids.iter() {
                match parse_id(id) {
                    Some(i) => out.push(i),
                    None => return bad("sender_device_ids and room_ids must be UUIDs"),
                }
            }
            *ids = out;
        }
        if let Some(types) = &self.message_types
            && (types.is_empty()
                || types.len() > 20
                || types.iter().any(|t| t.is_empty() || t.len() > 64))
        {
            return bad("message_types holds 1-20 names of 1-64 characters");
        }
        if let (Some(a), Some(b)) = (self.min_size_bytes, self.max_size_bytes)
            && a > b
        {
            return bad("min_size_bytes is larger than max_size_bytes");
        }
        if let Some(r) = &self.rate
            && (r.max_messages == 0
                || r.max_messages > 100_000
                || r.window_seconds == 0
                || r.window_seconds > 86_400)
        {
            return bad("rate needs max_messages 1-100000 and window_seconds 1-86400");
        }
        if let Some(t) = &self.time_of_day
            && (minutes(&t.start).is_none() || minutes(&t.end).is_none() || t.start == t.end)
        {
            return bad("time_of_day needs start and end as different HH:MM (UTC)");
        }
        Ok(self)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub action: Action,
    pub enabled: bool,
    pub priority: i64,
    pub conditions: Conditions,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str =
    "id, name, description, action, enabled, priority, conditions, created_ms, updated_ms";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Policy> {
    let action: String = r.get(3)?;
    let conditions: String = r.get(6)?;
    Ok(Policy {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        action: Action::parse(&action).unwrap_or(Action::Hold),
        enabled: r.get(4)?,
        priority: r.get(5)?,
        conditions: serde_json::from_str(&conditions).unwrap_or_default(),
        created_at: rfc3339(r.get(7)?),
        updated_at: rfc3339(r.get(8)?),
    })
}

/// A message's metadata, all the engine may look at.
#[derive(Debug, Clone)]
pub struct Meta {
    pub sender_device_id: String,
    pub room_id: String,
    pub size_bytes: u64,
    pub message_type: String,
    /// Minutes since midnight UTC.
    pub minute_of_day: u32,
}

impl Meta {
    /// The minute of day of a Unix time in ms (UTC).
    pub fn minute_at(ms: i64) -> u32 {
        (ms.rem_euclid(86_400_000) / 60_000) as u32
    }
}

/// What the engine decided, and which policy said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub action: Action,
    pub policy_id: Option<String>,
    pub policy_name: Option<String>,
}

impl Verdict {
    fn allow() -> Self {
        Verdict {
            action: Action::Allow,
            policy_id: None,
            policy_name: None,
        }
    }
}

/// Whether `c` matches; `sent_within(window_s)` counts the sender's room
/// messages in the last `window_s` seconds before this one.
pub fn matches(c: &Conditions, m: &Meta, sent_within: &mut dyn FnMut(u32) -> u64) -> bool {
    if let Some(ids) = &c.sender_device_ids
        && !ids.contains(&m.sender_device_id)
    {
        return false;
    }
    if let Some(ids) = &c.room_ids
        && !ids.contains(&m.room_id)
    {
        return false;
    }
    if let Some(types) = &c.message_types
        && !types.contains(&m.message_type)
    {
        return false;
    }
    if c.min_size_bytes.is_some_and(|n| m.size_bytes < n) {
        return false;
    }
    if c.max_size_bytes.is_some_and(|n| m.size_bytes > n) {
        return false;
    }
    if let Some(t) = &c.time_of_day {
        let (Some(a), Some(b)) = (minutes(&t.start), minutes(&t.end)) else {
            return false;
        };
        let now = m.minute_of_day;
        let inside = if a < b {
            a <= now && now < b
        } else {
            now >= a || now < b
        };
        if !inside {
            return false;
        }
    }
    if let Some(r) = &c.rate
        && sent_within(r.window_seconds) < u64::from(r.max_messages)
    {
        return false;
    }
    true
}

/// The first enabled policy (by priority, then age) that matches decides.
pub fn evaluate(policies: &[Policy], m: &Meta, sent_within: &mut dyn FnMut(u32) -> u64) -> Verdict {
    let mut ordered: Vec<&Policy> = policies.iter().filter(|p| p.enabled).collect();
    ordered.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then(a.created_at.cmp(&b.created_at))
    });
    for p in ordered {
        if matches(&p.conditions, m, sent_within) {
            return Verdict {
                action: p.action,
                policy_id: Some(p.id.clone()),
                policy_name: Some(p.name.clone()),
            };
        }
    }
    Verdict::allow()
}

/// Evaluate the tenant's policies for a message (reads the rate counts).
pub async fn verdict(catalog: &Catalog, tenant: &str, m: Meta) -> HubResult<Verdict> {
    let policies = list(catalog, tenant).await?;
    if !policies.iter().any(|p| p.enabled) {
        return Ok(Verdict::allow());
    }
    let now = now_ms();
    Ok(catalog
        .read(move |conn| {
            let mut err = None;
            let mut count = |window: u32| match super::rooms::sent_since(
                conn,
                &m.sender_device_id,
                now - i64::from(window) * 1000,
            ) {
                Ok(n) => n,
                Err(e) => {
                    err = Some(e);
                    0
                }
            };
            let v = evaluate(&policies, &m, &mut count);
            match err {
                Some(e) => Err(e),
                None => Ok(v),
            }
        })
        .await?)
}

/// What `POST /policies` asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub action: Action,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Lower runs first (0-10000, default 100).
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub conditions: Option<Conditions>,
}

/// What `PATCH /policies/{id}` may change (conditions are replaced whole).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub action: Option<Action>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub conditions: Option<Conditions>,
}

fn check_name(n: &str) -> HubResult<String> {
    let n = n.trim();
    if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(HubError::BadRequest(
            "name must be 1-100 characters without control characters".into(),
        ));
    }
    Ok(n.to_owned())
}

fn check_description(d: Option<String>) -> HubResult<Option<String>> {
    match d {
        Some(d) if d.chars().count() > 1000 => Err(HubError::BadRequest(
            "description must be at most 1000 characters".into(),
        )),
        Some(d) if d.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn check_priority(p: Option<i64>) -> HubResult<Option<i64>> {
    match p {
        Some(n) if !(0..=10_000).contains(&n) => {
            Err(HubError::BadRequest("priority must be 0-10000".into()))
        }
        other => Ok(other),
    }
}

pub async fn create(catalog: &Catalog, tenant: &str, p: NewPolicy) -> HubResult<Policy> {
    let name = check_name(&p.name)?;
    let description = check_description(p.description)?;
    let priority = check_priority(p.priority)?.unwrap_or(100);
    let conditions = p.conditions.unwrap_or_default().check()?;
    let cond = serde_json::to_string(&conditions).unwrap_or_else(|_| "{}".into());
    let (t, id) = (tenant.to_owned(), new_id());
    let action = p.action.as_str();
    let enabled = p.enabled.unwrap_or(true);
    catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let n: i64 = tx.query_row(
                "SELECT COUNT(*) FROM hub_policies WHERE tenant_id = ?1",
                [&t],
                |r| r.get(0),
            )?;
            if n >= MAX_POLICIES {
                return Ok(Err(HubError::Conflict(format!(
                    "a tenant has at most {MAX_POLICIES} policies"
                ))));
            }
            let now = now_ms();
            tx.execute(
                "INSERT INTO hub_policies (id, tenant_id, name, description, action, enabled,
                     priority, conditions, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                params![
                    id,
                    t,
                    name,
                    description,
                    action,
                    enabled,
                    priority,
                    cond,
                    now
                ],
            )?;
            let p = tx.query_row(
                &format!("SELECT {COLUMNS} FROM hub_policies WHERE id = ?1"),
                [&id],
                from_row,
            )?;
            tx.commit()?;
            Ok(Ok(p))
        })
        .await?
}

pub async fn list(catalog: &Catalog, tenant: &str) -> HubResult<Vec<Policy>> {
    let t = tenant.to_owned();
    Ok(catalog
        .read(move |conn| {
            let mut st = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM hub_policies WHERE tenant_id = ?1
                 ORDER BY priority, created_ms, id"
            ))?;
            st.query_map([t], from_row)?.collect()
        })
        .await?)
}

pub async fn get(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Policy> {
    let (t, i) = (tenant.to_owned(), id.to_owned());
    catalog
        .read(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM hub_policies WHERE tenant_id = ?1 AND id = ?2"),
                params![t, i],
                from_row,
            )
            .optional()
        })
        .await?
        .ok_or_else(|| HubError::NotFound(NOT_FOUND.into()))
}

pub async fn update(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
    p: PolicyPatch,
) -> HubResult<Policy> {
    let mut cur = get(catalog, tenant, id).await?;
    if let Some(n) = &p.name {
        cur.name = check_name(n)?;
    }
    if p.description.is_some() {
        cur.description = check_description(p.description)?;
    }
    if let Some(a) = p.action {
        cur.action = a;
    }
    if let Some(e) = p.enabled {
        cur.enabled = e;
    }
    if let Some(n) = check_priority(p.priority)? {
        cur.priority = n;
    }
    if let Some(c) = p.conditions {
        cur.conditions = c.check()?;
    }
    let cond = serde_json::to_string(&cur.conditions).unwrap_or_else(|_| "{}".into());
    let (t, i) = (tenant.to_owned(), id.to_owned());
    let c2 = cur.clone();
    catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_policies SET name = ?3, description = ?4, action = ?5, enabled = ?6,
                     priority = ?7, conditions = ?8, updated_ms = ?9
                 WHERE tenant_id = ?1 AND id = ?2",
                params![
                    t,
                    i,
                    c2.name,
                    c2.description,
                    c2.action.as_str(),
                    c2.enabled,
                    c2.priority,
                    cond,
                    now_ms()
                ],
            )
        })
        .await?;
    get(catalog, tenant, id).await
}

pub async fn delete(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<()> {
    let (t, i) = (tenant.to_owned(), id.to_owned());
    let n = catalog
        .write(move |conn| {
            conn.execute(
                "DELETE FROM hub_policies WHERE tenant_id = ?1 AND id = ?2",
                params![t, i],
            )
        })
        .await?;
    if n == 0 {
        return Err(HubError::NotFound(NOT_FOUND.into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(id: &str, action: Action, priority: i64, c: Conditions) -> Policy {
        Policy {
            id: id.into(),
            name: id.into(),
            description: None,
            action,
            enabled: true,
            priority,
            conditions: c,
            created_at: "2026-01-01T00:00:00.000Z".into(),
            updated_at: String::new(),
        }
    }

    fn meta() -> Meta {
        Meta {
            sender_device_id: "s".into(),
            room_id: "r".into(),
            size_bytes: 100,
            message_type: "text".into(),
            minute_of_day: 23 * 60,
        }
    }

    #[test]
    fn first_enabled_match_by_priority_decides_and_no_match_allows() {
        let size = Conditions {
            min_size_bytes: Some(50),
            ..Default::default()
        };
        let mut p = vec![
            policy("late", Action::Block, 10, size.clone()),
            policy("early", Action::Hold, 1, size.clone()),
        ];
        let v = evaluate(&p, &meta(), &mut |_| 0);
        assert_eq!(v.action, Action::Hold);
        assert_eq!(v.policy_id.as_deref(), Some("early"));
        p[1].enabled = false;
        assert_eq!(evaluate(&p, &meta(), &mut |_| 0).action, Action::Block);
        p[0].conditions.max_size_bytes = Some(99);
        assert_eq!(evaluate(&p, &meta(), &mut |_| 0), Verdict::allow());
    }

    #[test]
    fn every_condition_looks_at_metadata_only() {
        let m = meta();
        let yes = |c: Conditions| matches(&c, &m, &mut |_| 0);
        assert!(yes(Conditions::default()));
        assert!(yes(Conditions {
            sender_device_ids: Some(vec!["s".into()]),
            room_ids: Some(vec!["r".into()]),
            message_types: Some(vec!["text".into()]),
            ..Default::default()
        }));
        assert!(!yes(Conditions {
            sender_device_ids: Some(vec!["x".into()]),
            ..Default::default()
        }));
        assert!(!yes(Conditions {
            message_types: Some(vec!["file".into()]),
            ..Default::default()
        }));
        let window = |a: &str, b: &str| Conditions {
            time_of_day: Some(TimeWindow {
                start: a.into(),
                end: b.into(),
            }),
            ..Default::default()
        };
        assert!(yes(window("22:00", "06:00")));
        assert!(!yes(window("08:00", "18:00")));
        assert!(yes(window("23:00", "23:01")));
        let rate = Conditions {
            rate: Some(Rate {
                max_messages: 3,
                window_seconds: 60,
            }),
            ..Default::default()
        };
        assert!(!matches(&rate, &m, &mut |_| 2));
        assert!(matches(&rate, &m, &mut |w| if w == 60 { 3 } else { 0 }));
    }

    #[test]
    fn conditions_are_validated() {
        let bad = [
            Conditions {
                room_ids: Some(vec!["nope".into()]),
                ..Default::default()
            },
            Conditions {
                min_size_bytes: Some(10),
                max_size_bytes: Some(5),
                ..Default::default()
            },
            Conditions {
                time_of_day: Some(TimeWindow {
                    start: "25:00".into(),
                    end: "01:00".into(),
                }),
                ..Default::default()
            },
            Conditions {
                rate: Some(Rate {
                    max_messages: 0,
                    window_seconds: 10,
                }),
                ..Default::default()
            },
        ];
        for c in bad {
            assert!(c.check().is_err());
        }
    }
}
