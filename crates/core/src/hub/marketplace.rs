//! Marketplace listings: a workspace offers one of the tenant's agents for
//! others to find. A listing moves `draft → published ⇄ paused`, and any of
//! those → `delisted`, which is final; any other move is 409. Fields are
//! bounded and checked; a `price` is descriptive metadata only: this
//! self-hosted hub takes no payments, and every listing says so in
//! `payments`.
//!
//! Visibility: published listings are visible to every workspace of the
//! tenant; drafts, paused and delisted ones only to their own workspace.
//! Changes need the `admin` or `owner` role in the listing's workspace.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{HubError, HubResult, new_id, parse_id};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

pub const DRAFT: &str = "draft";
pub const PUBLISHED: &str = "published";
pub const PAUSED: &str = "paused";
pub const DELISTED: &str = "delisted";

/// Listings one tenant may hold at most.
pub const MAX_LISTINGS: i64 = 1000;

/// What every listing says about money.
pub const PAYMENTS_NOTE: &str = "Payments are not supported on this self-hosted hub: a price is descriptive only, and nothing is charged or paid through it.";

/// The descriptive fields of a listing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The agent offered: a hub id (or device id) of this tenant.
    #[serde(default)]
    pub agent_hub_id: Option<String>,
    #[serde(default)]
    pub price: Option<Price>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// In the currency's minor unit (cents), 0-1 000 000 000.
    pub amount: i64,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
    /// What the amount is for, e.g. `hour`, `task`.
    #[serde(default)]
    pub unit: Option<String>,
}

/// The fields a PATCH may name; absent ones stay.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    pub title: Option<String>,
    #[serde(default, with = "double")]
    pub description: Option<Option<String>>,
    #[serde(default, with = "double")]
    pub category: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    #[serde(default, with = "double")]
    pub agent_hub_id: Option<Option<String>>,
    #[serde(default, with = "double")]
    pub price: Option<Option<Price>>,
}

/// `null` → Some(None) (clear), absent → None (keep).
mod double {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub id: String,
    pub tenant_id: String,
    pub workspace_id: String,
    pub status: String,
    #[serde(flatten)]
    pub fields: Fields,
    pub payments: Value,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
}

fn bad(m: impl Into<String>) -> HubError {
    HubError::BadRequest(m.into())
}

fn text(v: Option<String>, what: &str, max: usize) -> HubResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) if s.chars().count() > max => Err(bad(format!("{what} is over {max} characters"))),
        Some(s) => Ok(Some(s.trim().to_owned())),
    }
}

/// Check and normalise fields; `agent_hub_id` must name a device of `tenant`.
async fn check(catalog: &Catalog, tenant: &str, mut f: Fields) -> HubResult<Fields> {
    let title = f.title.trim();
    if title.is_empty() || title.chars().count() > 120 || title.chars().any(char::is_control) {
        return Err(bad(
            "title must be 1-120 characters without control characters",
        ));
    }
    f.title = title.to_owned();
    f.description = text(f.description, "description", 4000)?;
    f.category = text(f.category, "category", 50)?;
    if f.tags.len() > 10 {
        return Err(bad("at most 10 tags"));
    }
    for t in &mut f.tags {
        let s = t.trim().to_lowercase();
        if s.is_empty() || s.chars().count() > 30 || s.chars().any(char::is_control) {
            return Err(bad("each tag must be 1-30 characters"));
        }
        *t = s;
    }
    if let Some(p) = &mut f.price {
        if !(0..=1_000_000_000).contains(&p.amount) {
            return Err(bad("price.amount must be 0-1000000000 (minor units)"));
        }
        let c = p.currency.trim().to_uppercase();
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad("price.currency must be a 3-letter ISO 4217 code"));
        }
        p.currency = c;
        p.unit = text(p.unit.take(), "price.unit", 20)?;
    }
    if let Some(h) = f.agent_hub_id.take() {
        let h = parse_id(&h).ok_or_else(|| bad("agent_hub_id must be a hub id (UUID)"))?;
        let (t, h2) = (tenant.to_owned(), h.clone());
        let found: Option<String> = catalog
            .read(move |c| {
                c.query_row(
                    "SELECT hub_id FROM hub_devices WHERE tenant_id = ?1
                       AND (hub_id = ?2 OR id = ?2) AND deleted_ms IS NULL LIMIT 1",
                    params![t, h2],
                    |r| r.get(0),
                )
                .optional()
            })
            .await?;
        f.agent_hub_id =
            Some(found.ok_or_else(|| bad("agent_hub_id is not an agent of this tenant"))?);
    }
    Ok(f)
}

fn payments() -> Value {
    json!({"supported": false, "detail": PAYMENTS_NOTE})
}

type RowData = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
);

fn from_row(r: RowData) -> Listing {
    let (id, tenant_id, workspace_id, body, status, created, updated, published) = r;
    Listing {
        id,
        tenant_id,
        workspace_id,
        status,
        fields: serde_json::from_str(&body).unwrap_or_default(),
        payments: payments(),
        created_at: rfc3339(created),
        updated_at: rfc3339(updated),
        published_at: published.map(rfc3339),
    }
}

const COLUMNS: &str =
    "id, tenant_id, workspace_id, body, status, created_ms, updated_ms, published_ms";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RowData> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

/// A new draft listing of `workspace` (in `tenant`).
pub async fn create(
    catalog: &Catalog,
    tenant: &str,
    workspace: &str,
    fields: Fields,
) -> HubResult<Listing> {
    let fields = check(catalog, tenant, fields).await?;
    let id = new_id();
    let now = now_ms();
    let body = serde_json::to_string(&fields).unwrap_or_default();
    let (i, t, w) = (id.clone(), tenant.to_owned(), workspace.to_owned());
    catalog
        .write(move |c| {
            let tx = c.transaction()?;
            let n: i64 = tx.query_row(
                "SELECT COUNT(*) FROM hub_listings WHERE tenant_id = ?1",
                [&t],
                |r| r.get(0),
            )?;
            if n >= MAX_LISTINGS {
                return Ok(Err(HubError::Conflict(format!(
                    "a tenant has at most {MAX_LISTINGS} listings"
                ))));
            }
            tx.execute(
                "INSERT INTO hub_listings (id, tenant_id, workspace_id, body, status, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, 'draft', ?5, ?5)",
                params![i, t, w, body, now],
            )?;
            tx.commit()?;
            Ok(Ok(()))
        })
        .await??;
    load(catalog, tenant, &id)
        .await?
        .ok_or_else(|| HubError::NotFound("Listing not found".into()))
}

async fn load(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Option<Listing>> {
    let Some(id) = parse_id(id) else {
        return Ok(None);
    };
    let t = tenant.to_owned();
    let row = catalog
        .read(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM hub_listings WHERE id = ?1 AND tenant_id = ?2"),
                params![id, t],
                read_row,
            )
            .optional()
        })
        .await?;
    Ok(row.map(from_row))
}

/// A listing as `workspace` may see it: published ones of the tenant, and
/// any of its own; 404 otherwise.
pub async fn get(catalog: &Catalog, tenant: &str, workspace: &str, id: &str) -> HubResult<Listing> {
    match load(catalog, tenant, id).await? {
        Some(l) if l.status == PUBLISHED || l.workspace_id == workspace => Ok(l),
        _ => Err(HubError::NotFound("Listing not found".into())),
    }
}

/// One of `workspace`'s own listings, for a change; 404 otherwise.
async fn own(catalog: &Catalog, tenant: &str, workspace: &str, id: &str) -> HubResult<Listing> {
    match load(catalog, tenant, id).await? {
        Some(l) if l.workspace_id == workspace => Ok(l),
        _ => Err(HubError::NotFound("Listing not found".into())),
    }
}

/// Search filters.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Case-insensitive words all found in the title, description or tags.
    pub q: Option<String>,
    pub category: Option<String>,
    /// None: published listings of the tenant. Some(status or `all`): the
    /// caller's own workspace's listings in that status.
    pub status: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

pub async fn search(
    catalog: &Catalog,
    tenant: &str,
    workspace: &str,
    s: Search,
) -> HubResult<Vec<Listing>> {
    if let Some(st) = &s.status
        && ![DRAFT, PUBLISHED, PAUSED, DELISTED, "all"].contains(&st.as_str())
    {
        return Err(bad(
            "status must be draft, published, paused, delisted or all",
        ));
    }
    let (t, w, status) = (tenant.to_owned(), workspace.to_owned(), s.status.clone());
    let rows: Vec<RowData> = catalog
        .read(move |c| {
            let mut st = c.prepare(&format!(
                "SELECT {COLUMNS} FROM hub_listings WHERE tenant_id = ?1
                   AND (CASE WHEN ?3 IS NULL THEN status = 'published'
                             ELSE workspace_id = ?2 AND (?3 = 'all' OR status = ?3) END)
                 ORDER BY updated_ms DESC, id"
            ))?;
            st.query_map(params![t, w, status], read_row)?.collect()
        })
        .await?;
    let words: Vec<String> =
        s.q.as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
    let category = s.category.map(|c| c.to_lowercase());
    Ok(rows
        .into_iter()
        .map(from_row)
        .filter(|l| {
            let hay = format!(
                "{} {} {}",
                l.fields.title,
                l.fields.description.as_deref().unwrap_or(""),
                l.fields.tags.join(" ")
            )
            .to_lowercase();
            words.iter().all(|w| hay.contains(w))
                && category.as_ref().is_none_or(|c| {
                    l.fields.category.as_deref().map(str::to_lowercase).as_ref() == Some(c)
                })
        })
        .skip(s.offset)
        .take(s.limit)
        .collect())
}

/// Change the fields of one of `workspace`'s listings (409 once delisted).
pub async fn update(
    catalog: &Catalog,
    tenant: &str,
    workspace: &str,
    id: &str,
    p: Patch,
) -> HubResult<Listing> {
    let l = own(catalog, tenant, workspace, id).await?;
    if l.status == DELISTED {
        return Err(HubError::Conflict(
            "A delisted listing cannot change".into(),
        ));
    }
    let mut f = l.fields.clone();
    if let Some(t) = p.title {
        f.title = t;
    }
    if let Some(d) = p.description {
        f.description = d;
    }
    if let Some(c) = p.category {
        f.category = c;
    }
    if let Some(t) = p.tags {
        f.tags = t;
    }
    if let Some(h) = p.agent_hub_id {
        f.agent_hub_id = h;
    }
    if let Some(pr) = p.price {
        f.price = pr;
    }
    let f = check(catalog, tenant, f).await?;
    let body = serde_json::to_string(&f).unwrap_or_default();
    let (i, st) = (l.id.clone(), l.status.clone());
    let changed = catalog
        .write(move |c| {
            c.execute(
                "UPDATE hub_listings SET body = ?2, updated_ms = ?3 WHERE id = ?1 AND status = ?4",
                params![i, body, now_ms(), st],
            )
        })
        .await?;
    if changed == 0 {
        return Err(HubError::Conflict(
            "The listing changed meanwhile; retry".into(),
        ));
    }
    own(catalog, tenant, workspace, id).await
}

/// `publish`, `pause` or `delist` one of `workspace`'s listings; 409 when
/// the listing's status does not allow it.
pub async fn transition(
    catalog: &Catalog,
    tenant: &str,
    workspace: &str,
    id: &str,
    action: &str,
) -> HubResult<Listing> {
    let (from, to): (&[&str], &str) = match action {
        "publish" => (&[DRAFT, PAUSED], PUBLISHED),
        "pause" => (&[PUBLISHED], PAUSED),
        "delist" => (&[DRAFT, PUBLISHED, PAUSED], DELISTED),
        _ => return Err(bad("unknown action")),
    };
    let l = own(catalog, tenant, workspace, id).await?;
    if !from.contains(&l.status.as_str()) {
        return Err(HubError::Conflict(format!(
            "A {} listing cannot be {}",
            l.status,
            match action {
                "publish" => "published",
                "pause" => "paused",
                _ => "delisted",
            }
        )));
    }
    if to == PUBLISHED && l.fields.description.is_none() {
        return Err(HubError::Conflict(
            "A listing needs a description before it is published".into(),
        ));
    }
    let (i, st) = (l.id.clone(), l.status.clone());
    let changed = catalog
        .write(move |c| {
            let now = now_ms();
            c.execute(
                "UPDATE hub_listings SET status = ?2, updated_ms = ?3,
                     published_ms = CASE WHEN ?2 = 'published' AND published_ms IS NULL
                                         THEN ?3 ELSE published_ms END
                 WHERE id = ?1 AND status = ?4",
                params![i, to, now, st],
            )
        })
        .await?;
    if changed == 0 {
        return Err(HubError::Conflict(
            "The listing changed meanwhile; retry".into(),
        ));
    }
    own(catalog, tenant, workspace, id).await
}
