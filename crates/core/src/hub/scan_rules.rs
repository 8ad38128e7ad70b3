//! Scan rules: the patterns agent clients check their own traffic against
//! before encrypting it (the hub never sees plaintext, so scanning is the
//! client's job; the hub only hands out the rule set). The owner edits the
//! set through tenant settings (`PATCH /settings {"scan_rules": […]}`);
//! devices read it with `GET /scan-rules`. Every change bumps the version;
//! the ETag names the version and the content, so a client can poll with
//! `If-None-Match`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{HubError, HubResult, settings};
use crate::catalog::Catalog;
use crate::time::rfc3339;

/// Rules in one set at most.
pub const MAX_RULES: usize = 100;
/// Longest pattern, in characters.
pub const MAX_PATTERN: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRule {
    /// A short stable name: 1-64 of `a-z 0-9 _ -`.
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `keyword` (case-insensitive substring) or `regex`.
    pub kind: String,
    pub pattern: String,
    /// `block`, `warn` or `redact`.
    pub action: String,
    /// `outbound`, `inbound` or `both` (default both).
    #[serde(default = "both")]
    pub scope: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn both() -> String {
    "both".into()
}

fn yes() -> bool {
    true
}

const KINDS: &[&str] = &["keyword", "regex"];
const ACTIONS: &[&str] = &["block", "warn", "redact"];
const SCOPES: &[&str] = &["outbound", "inbound", "both"];

fn bad(m: impl Into<String>) -> HubError {
    HubError::BadRequest(m.into())
}

/// Parse and check a whole rule set (the `scan_rules` value of a settings
/// PATCH): bounded, ids unique, regexes compile (Rust `regex` syntax, the
/// common subset clients' engines share).
pub fn validate(v: &Value) -> HubResult<Vec<ScanRule>> {
    let Value::Array(items) = v else {
        return Err(bad("scan_rules must be an array of rules"));
    };
    if items.len() > MAX_RULES {
        return Err(bad(format!("at most {MAX_RULES} scan rules")));
    }
    let mut out: Vec<ScanRule> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let r: ScanRule = serde_json::from_value(item.clone())
            .map_err(|e| bad(format!("scan_rules[{i}]: {e}")))?;
        let id_ok = !r.id.is_empty()
            && r.id.len() <= 64
            && r.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !id_ok {
            return Err(bad(format!(
                "scan_rules[{i}].id must be 1-64 of a-z, 0-9, _ and -"
            )));
        }
        if out.iter().any(|o| o.id == r.id) {
            return Err(bad(format!("scan_rules[{i}].id {} is repeated", r.id)));
        }
        if r.description
            .as_deref()
            .is_some_and(|d| d.chars().count() > 500)
        {
            return Err(bad(format!(
                "scan_rules[{i}].description is over 500 characters"
            )));
        }
        if !KINDS.contains(&r.kind.as_str()) {
            return Err(bad(format!(
                "scan_rules[{i}].kind must be keyword or regex"
            )));
        }
        if !ACTIONS.contains(&r.action.as_str()) {
            return Err(bad(format!(
                "scan_rules[{i}].action must be block, warn or redact"
            )));
        }
        if !SCOPES.contains(&r.scope.as_str()) {
            return Err(bad(format!(
                "scan_rules[{i}].scope must be outbound, inbound or both"
            )));
        }
        let n = r.pattern.chars().count();
        if n == 0 || n > MAX_PATTERN {
            return Err(bad(format!(
                "scan_rules[{i}].pattern must be 1-{MAX_PATTERN} characters"
            )));
        }
        if r.kind == "regex"
            && regex::RegexBuilder::new(&r.pattern)
                .size_limit(1 << 20)
                .build()
                .is_err()
        {
            return Err(bad(format!("scan_rules[{i}].pattern is not a valid regex")));
        }
        out.push(r);
    }
    Ok(out)
}

/// The current rule set of a tenant, as devices read it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSet {
    pub version: i64,
    pub etag: String,
    pub rules: Vec<ScanRule>,
    pub updated_at: Option<String>,
}

/// A strong ETag over the version and the rules.
pub fn etag(version: i64, rules: &[ScanRule]) -> String {
    let body = serde_json::to_vec(rules).unwrap_or_default();
    let digest = Sha256::digest(&body);
    format!("\"v{version}-{}\"", hex::encode(&digest[..8]))
}

pub async fn current(catalog: &Catalog, tenant: &str) -> HubResult<RuleSet> {
    let (rules, version, at) = settings::stored_rules(catalog, tenant).await?;
    Ok(RuleSet {
        etag: etag(version, &rules),
        version,
        rules,
        updated_at: at.map(rfc3339),
    })
}
