//! Hub identities: an agent device's public name on this hub,
//! `did:hub:<name>`, reachable as the hub address `<name>@<hub host>`. The
//! identity's id is the device's `hub_id` (§8.3), its DID document carries
//! the device's Ed25519 identity key (a `JsonWebKey2020` verification
//! method), and its trust tier rises from `unverified` to `certified` only
//! when every certification check on the hub's own records passes:
//!
//! - `device_active`: the device is ACTIVE (the owner approved it and it
//!   activated with a signature under its identity key);
//! - `identity_key_valid`: the identity key is a valid Ed25519 point;
//! - `proof_of_possession`: enrolment carried a proof of possession that
//!   verifies under that key (kept as the device row; a device without one
//!   never got a row), and activation was signed within the allowed skew;
//! - `key_package_published`: at least one unexpired, unconsumed KeyPackage
//!   whose signature key is the identity key is on the hub;
//! - `seen_recently`: the device connected within the last 7 days.
//!
//! A failed check leaves (or puts back) the tier at `unverified`.

use base64::Engine;
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::devices::{self, Device};
use super::{HubError, HubResult, proof};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

pub const UNVERIFIED: &str = "unverified";
pub const CERTIFIED: &str = "certified";
/// How recently a device must have been seen to be certified.
pub const SEEN_WITHIN_MS: i64 = 7 * 86_400_000;

#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    /// The device's `hub_id`.
    pub id: String,
    pub hub_id: String,
    pub tenant_id: String,
    pub device_id: String,
    pub name: String,
    pub did: String,
    pub display_name: String,
    pub peer_reach_enabled: bool,
    pub trust_tier: String,
    pub checks: Option<Value>,
    pub certified_at: Option<String>,
    pub created_at: String,
}

const COLUMNS: &str = "id, tenant_id, device_id, name, display_name, peer_reach, trust_tier,
     checks, certified_ms, created_ms";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Identity> {
    let id: String = r.get(0)?;
    let name: String = r.get(3)?;
    let checks: Option<String> = r.get(7)?;
    let certified: Option<i64> = r.get(8)?;
    Ok(Identity {
        hub_id: id.clone(),
        id,
        tenant_id: r.get(1)?,
        device_id: r.get(2)?,
        did: format!("did:hub:{name}"),
        name,
        display_name: r.get(4)?,
        peer_reach_enabled: r.get(5)?,
        trust_tier: r.get(6)?,
        checks: checks.and_then(|c| serde_json::from_str(&c).ok()),
        certified_at: certified.map(rfc3339),
        created_at: rfc3339(r.get(9)?),
    })
}

/// A valid identity name: 3-32 of `a-z 0-9 -`, starting and ending with a
/// letter or digit. Returns the lowercased name.
pub fn valid_name(name: &str) -> Option<String> {
    let n = name.trim().to_ascii_lowercase();
    let ok = (3..=32).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !n.starts_with('-')
        && !n.ends_with('-');
    ok.then_some(n)
}

/// What the owner registers.
pub struct NewIdentity {
    pub device_id: String,
    pub name: String,
    pub display_name: Option<String>,
    pub peer_reach_enabled: bool,
}

/// Register a hub identity for one of the tenant's agent devices.
pub async fn register(catalog: &Catalog, tenant: &str, new: NewIdentity) -> HubResult<Identity> {
    let name = valid_name(&new.name).ok_or_else(|| {
        HubError::BadRequest(
            "name must be 3-32 characters of a-z, 0-9 and '-', not starting or ending with '-'"
                .into(),
        )
    })?;
    let display = match new.display_name.map(|d| d.trim().to_owned()) {
        Some(d) if d.chars().count() > 80 => {
            return Err(HubError::BadRequest(
                "display_name must be at most 80 characters".into(),
            ));
        }
        Some(d) if !d.is_empty() => Some(d),
        _ => None,
    };
    let device = devices::get_in(catalog, tenant, &new.device_id).await?;
    if device.device_type != "agent" {
        return Err(HubError::BadRequest(
            "only agent devices get hub identities".into(),
        ));
    }
    if matches!(device.status.as_str(), devices::REVOKED | devices::REJECTED) {
        return Err(HubError::Conflict("Device is revoked or rejected".into()));
    }
    let display = display.unwrap_or_else(|| device.name.clone());
    let (t, d, n, id) = (
        tenant.to_owned(),
        device.id.clone(),
        name.clone(),
        device.hub_id.clone(),
    );
    let reach = new.peer_reach_enabled;
    let outcome = catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let taken: Option<String> = tx
                .query_row(
                    "SELECT device_id FROM hub_identities WHERE name = ?1 OR device_id = ?2",
                    params![n, d],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(owner) = taken {
                return Ok(Err(HubError::Conflict(if owner == d {
                    "This device already has a hub identity".into()
                } else {
                    "That name is taken".into()
                })));
            }
            tx.execute(
                "INSERT INTO hub_identities (id, tenant_id, device_id, name, display_name,
                     peer_reach, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, t, d, n, display, reach, now_ms()],
            )?;
            tx.commit()?;
            Ok(Ok(()))
        })
        .await?;
    outcome?;
    get(catalog, tenant, &device.hub_id).await
}

/// The tenant's identities, oldest first.
pub async fn list(catalog: &Catalog, tenant: &str) -> HubResult<Vec<Identity>> {
    let tenant = tenant.to_owned();
    Ok(catalog
        .read(move |conn| {
            let mut st = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM hub_identities WHERE tenant_id = ?1 ORDER BY created_ms, id"
            ))?;
            st.query_map([tenant], from_row)?.collect()
        })
        .await?)
}

/// An identity of `tenant`, or 404.
pub async fn get(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Identity> {
    match find(catalog, "id", id).await? {
        Some(i) if i.tenant_id == tenant => Ok(i),
        _ => Err(HubError::NotFound("Identity not found".into())),
    }
}

async fn find(catalog: &Catalog, column: &'static str, value: &str) -> HubResult<Option<Identity>> {
    let v = value.to_owned();
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM hub_identities WHERE {column} = ?1"),
                [v],
                from_row,
            )
            .optional()
        })
        .await?)
}

/// By name (any tenant: names are unique on the hub).
pub async fn by_name(catalog: &Catalog, name: &str) -> HubResult<Option<Identity>> {
    find(catalog, "name", &name.to_ascii_lowercase()).await
}

/// The identity of a device, if it has one.
pub async fn of_device(catalog: &Catalog, device: &str) -> HubResult<Option<Identity>> {
    find(catalog, "device_id", device).await
}

/// The hub address of a name on the hub at `host`.
pub fn address(name: &str, host: &str) -> String {
    format!("{name}@{host}")
}

/// A parsed hub address: `name@host`, `name`, `did:hub:name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub name: String,
    /// None: this hub.
    pub host: Option<String>,
}

/// Parse a hub address; None when it cannot be one.
pub fn parse_address(s: &str) -> Option<Address> {
    let s = s.trim();
    if s.is_empty() || s.len() > 300 {
        return None;
    }
    let s = s.strip_prefix("did:hub:").unwrap_or(s);
    let (name, host) = match s.split_once('@') {
        Some((n, h)) => (n, Some(h.to_ascii_lowercase())),
        None => (s, None),
    };
    if let Some(h) = &host
        && (h.is_empty()
            || !h
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
    {
        return None;
    }
    // A part-1 address `did:hub:<hub_id>` names a device's hub id.
    if let Some(id) = super::parse_id(name) {
        return Some(Address { name: id, host });
    }
    Some(Address {
        name: valid_name(name)?,
        host,
    })
}

/// The public view: what resolve and search reveal.
pub fn public(i: &Identity, host: &str) -> Value {
    json!({
        "hub_id": i.id, "did": i.did, "name": i.name, "display_name": i.display_name,
        "hub_address": address(&i.name, host), "trust_tier": i.trust_tier,
    })
}

/// The W3C DID document of an identity: its Ed25519 identity key as a
/// JsonWebKey2020 method, and the hub as its service endpoint.
pub fn did_document(i: &Identity, identity_key: &[u8; 32], hub_url: &str) -> Value {
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(identity_key);
    let key_id = format!("{}#key-1", i.did);
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": i.did,
        "verificationMethod": [{
            "id": key_id, "type": "JsonWebKey2020", "controller": i.did,
            "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": x},
        }],
        "authentication": [key_id],
        "assertionMethod": [key_id],
        "service": [{"id": format!("{}#hub", i.did), "type": "AgentHub", "serviceEndpoint": hub_url}],
    })
}

/// Search names and display names (public; at most `limit` hits).
pub async fn search(catalog: &Catalog, query: &str, limit: usize) -> HubResult<Vec<Identity>> {
    let q = query.trim().to_lowercase();
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let limit = limit.clamp(1, 50) as i64;
    Ok(catalog
        .read(move |conn| {
            let mut st = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM hub_identities
                 WHERE name LIKE ?1 ESCAPE '\\' OR lower(display_name) LIKE ?1 ESCAPE '\\'
                 ORDER BY name LIMIT ?2"
            ))?;
            st.query_map(params![pattern, limit], from_row)?.collect()
        })
        .await?)
}

/// One certification check's result.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

/// Run the checks on the hub's own records; upgrade the tier when all
/// pass, put it back to `unverified` otherwise.
pub async fn certify(
    catalog: &Catalog,
    tenant: &str,
    id: &str,
) -> HubResult<(Identity, Vec<Check>)> {
    let identity = get(catalog, tenant, id).await?;
    let device: Option<Device> = devices::get(catalog, &identity.device_id).await?;
    let mut checks = Vec::new();
    let Some(device) = device else {
        checks.push(Check {
            name: "device_active",
            passed: false,
            detail: "the device was deleted".into(),
        });
        return finish(catalog, tenant, identity, checks).await;
    };
    checks.push(Check {
        name: "device_active",
        passed: device.status == devices::ACTIVE,
        detail: format!("device status is {}", device.status),
    });
    let key_ok = proof::verifying_key_ok(&device.identity_key);
    checks.push(Check {
        name: "identity_key_valid",
        passed: key_ok,
        detail: if key_ok {
            format!("Ed25519 key, fingerprint {}", device.fingerprint)
        } else {
            "the identity key is not a valid Ed25519 point".into()
        },
    });
    let activated = device.status == devices::ACTIVE || device.status == devices::SUSPENDED;
    checks.push(Check {
        name: "proof_of_possession",
        passed: activated && key_ok,
        detail: if activated {
            "enrolment proof and activation signature verified under the identity key".into()
        } else {
            "the device has not activated with a signature yet".into()
        },
    });
    let kps = super::keypackages::count(catalog, &device.id, 0).await?;
    checks.push(Check {
        name: "key_package_published",
        passed: kps > 0,
        detail: format!("{kps} unconsumed KeyPackage(s) signed by the identity key"),
    });
    let recent = device
        .last_seen_ms
        .is_some_and(|s| now_ms() - s <= SEEN_WITHIN_MS);
    checks.push(Check {
        name: "seen_recently",
        passed: recent,
        detail: match device.last_seen_ms {
            Some(s) => format!("last seen {}", rfc3339(s)),
            None => "never connected".into(),
        },
    });
    finish(catalog, tenant, identity, checks).await
}

async fn finish(
    catalog: &Catalog,
    tenant: &str,
    identity: Identity,
    checks: Vec<Check>,
) -> HubResult<(Identity, Vec<Check>)> {
    let all = checks.iter().all(|c| c.passed);
    let tier = if all { CERTIFIED } else { UNVERIFIED };
    let body = serde_json::to_string(&checks).unwrap_or_else(|_| "[]".into());
    let id = identity.id.clone();
    catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_identities SET trust_tier = ?2, checks = ?3,
                     certified_ms = CASE WHEN ?4 THEN ?5 ELSE certified_ms END WHERE id = ?1",
                params![id, tier, body, all, now_ms()],
            )
        })
        .await?;
    Ok((get(catalog, tenant, &identity.id).await?, checks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses() {
        assert_eq!(valid_name("Alice-1").as_deref(), Some("alice-1"));
        assert!(valid_name("ab").is_none());
        assert!(valid_name("-abc").is_none());
        assert!(valid_name("a_bc").is_none());
        assert_eq!(
            parse_address("did:hub:bob@127.0.0.1:8090"),
            Some(Address {
                name: "bob".into(),
                host: Some("127.0.0.1:8090".into())
            })
        );
        assert_eq!(parse_address("bob").unwrap().host, None);
        assert!(parse_address("bob@").is_none());
        assert!(parse_address("bob@ho st").is_none());
    }
}
