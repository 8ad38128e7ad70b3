//! Tenant settings: a small set of known keys, each validated and bounded.
//! `PATCH /settings` merges the keys it names; an unknown key is refused
//! (400) rather than stored, so a typo never looks accepted. Every key here
//! changes what the hub does:
//! - `marketplace_enabled`: off → the marketplace routes answer 403.
//! - `trust_history_days` (1-3650): trust history rows older than this are
//!   dropped when a score is computed.
//! - `default_workspace_role` (`member` or `viewer`): the role a workspace
//!   member gets when the create request names none.
//! - `scan_rules`: the rule set devices read with `GET /scan-rules`
//!   ([`super::scan_rules`]); replacing it with a different set bumps its
//!   version.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::scan_rules::{self, ScanRule};
use super::{HubError, HubResult};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub marketplace_enabled: bool,
    pub trust_history_days: i64,
    pub default_workspace_role: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            marketplace_enabled: true,
            trust_history_days: 90,
            default_workspace_role: "member".into(),
        }
    }
}

/// Keys a PATCH may name.
pub const KEYS: &[&str] = &[
    "marketplace_enabled",
    "trust_history_days",
    "default_workspace_role",
    "scan_rules",
];

struct Stored {
    settings: Settings,
    rules: Vec<ScanRule>,
    version: i64,
    rules_ms: Option<i64>,
    updated_ms: Option<i64>,
}

async fn load(catalog: &Catalog, tenant: &str) -> HubResult<Stored> {
    let t = tenant.to_owned();
    let row: Option<(String, String, i64, Option<i64>, i64)> = catalog
        .read(move |c| {
            c.query_row(
                "SELECT settings, scan_rules, scan_rules_version, scan_rules_ms, updated_ms
                 FROM hub_tenant_settings WHERE tenant_id = ?1",
                [t],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
        })
        .await?;
    Ok(match row {
        None => Stored {
            settings: Settings::default(),
            rules: Vec::new(),
            version: 0,
            rules_ms: None,
            updated_ms: None,
        },
        Some((s, r, v, rm, u)) => Stored {
            settings: serde_json::from_str(&s).unwrap_or_default(),
            rules: serde_json::from_str(&r).unwrap_or_default(),
            version: v,
            rules_ms: rm,
            updated_ms: Some(u),
        },
    })
}

/// The tenant's settings (defaults until first changed).
pub async fn get(catalog: &Catalog, tenant: &str) -> HubResult<Settings> {
    Ok(load(catalog, tenant).await?.settings)
}

/// The stored rule set, its version and when it last changed.
pub async fn stored_rules(
    catalog: &Catalog,
    tenant: &str,
) -> HubResult<(Vec<ScanRule>, i64, Option<i64>)> {
    let s = load(catalog, tenant).await?;
    Ok((s.rules, s.version, s.rules_ms))
}

/// The settings document `GET /settings` answers.
pub async fn view(catalog: &Catalog, tenant: &str) -> HubResult<Value> {
    let s = load(catalog, tenant).await?;
    Ok(render(tenant, &s))
}

fn render(tenant: &str, s: &Stored) -> Value {
    json!({
        "tenant_id": tenant,
        "marketplace_enabled": s.settings.marketplace_enabled,
        "trust_history_days": s.settings.trust_history_days,
        "default_workspace_role": s.settings.default_workspace_role,
        "scan_rules": s.rules,
        "scan_rules_version": s.version,
        "scan_rules_etag": scan_rules::etag(s.version, &s.rules),
        "updated_at": s.updated_ms.map(rfc3339),
    })
}

fn bad(m: impl Into<String>) -> HubError {
    HubError::BadRequest(m.into())
}

/// Merge the known keys of `patch` into the tenant's settings. Unknown keys,
/// wrong types and out-of-range values are 400 and change nothing.
pub async fn patch(catalog: &Catalog, tenant: &str, patch: &Value) -> HubResult<Value> {
    let Value::Object(fields) = patch else {
        return Err(bad("the body must be a JSON object of settings"));
    };
    if fields.is_empty() {
        return Err(bad(format!("name at least one of: {}", KEYS.join(", "))));
    }
    if let Some(k) = fields.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown setting {k:?}; known: {}",
            KEYS.join(", ")
        )));
    }
    let mut s = load(catalog, tenant).await?;
    apply(&mut s.settings, fields)?;
    let new_rules = match fields.get("scan_rules") {
        Some(v) => Some(scan_rules::validate(v)?),
        None => None,
    };
    let now = now_ms();
    if let Some(rules) = new_rules
        && rules != s.rules
    {
        s.rules = rules;
        s.version += 1;
        s.rules_ms = Some(now);
    }
    s.updated_ms = Some(now);
    let t = tenant.to_owned();
    let settings = serde_json::to_string(&s.settings).unwrap_or_else(|_| "{}".into());
    let rules = serde_json::to_string(&s.rules).unwrap_or_else(|_| "[]".into());
    let (version, rules_ms) = (s.version, s.rules_ms);
    catalog
        .write(move |c| {
            c.execute(
                "INSERT INTO hub_tenant_settings
                     (tenant_id, settings, scan_rules, scan_rules_version, scan_rules_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (tenant_id) DO UPDATE SET settings = excluded.settings,
                     scan_rules = excluded.scan_rules,
                     scan_rules_version = excluded.scan_rules_version,
                     scan_rules_ms = excluded.scan_rules_ms, updated_ms = excluded.updated_ms",
                params![t, settings, rules, version, rules_ms, now],
            )
        })
        .await?;
    Ok(render(tenant, &s))
}

fn apply(s: &mut Settings, fields: &Map<String, Value>) -> HubResult<()> {
    if let Some(v) = fields.get("marketplace_enabled") {
        s.marketplace_enabled = v
            .as_bool()
            .ok_or_else(|| bad("marketplace_enabled must be true or false"))?;
    }
    if let Some(v) = fields.get("trust_history_days") {
        s.trust_history_days = v
            .as_i64()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| bad("trust_history_days must be a whole number from 1 to 3650"))?;
    }
    if let Some(v) = fields.get("default_workspace_role") {
        s.default_workspace_role = v
            .as_str()
            .filter(|r| ["member", "viewer"].contains(r))
            .ok_or_else(|| bad("default_workspace_role must be member or viewer"))?
            .to_owned();
    }
    Ok(())
}
