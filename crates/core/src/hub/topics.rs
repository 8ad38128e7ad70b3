//! Topics: named threads within a conversation group (the owner's
//! conversations with one agent). Each group has a default topic, made on
//! first use, which can be renamed but never archived; messages name their
//! topic by `topic_id` and the history filters on it.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::{HubError, HubResult, new_id};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

/// The default topic's name until someone renames it.
pub const DEFAULT_NAME: &str = "General";
pub const MAX_NAME: usize = 80;
/// Topics per group, archived ones included.
pub const MAX_PER_GROUP: i64 = 200;

#[derive(Debug, Clone, Serialize)]
pub struct Topic {
    pub id: String,
    pub group_id: String,
    pub name: String,
    pub is_default: bool,
    /// active | archived
    pub status: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub archived_at: Option<String>,
}

const COLUMNS: &str =
    "id, conversation_group_id, name, is_default, created_ms, updated_ms, archived_ms";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Topic> {
    let archived: Option<i64> = r.get(6)?;
    Ok(Topic {
        id: r.get(0)?,
        group_id: r.get(1)?,
        name: r.get(2)?,
        is_default: r.get(3)?,
        status: if archived.is_some() {
            "archived"
        } else {
            "active"
        },
        created_at: rfc3339(r.get(4)?),
        updated_at: rfc3339(r.get(5)?),
        archived_at: archived.map(rfc3339),
    })
}

fn clean_name(name: &str) -> HubResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(HubError::BadRequest(format!(
            "name must be 1-{MAX_NAME} printable characters"
        )));
    }
    Ok(name.to_owned())
}

/// 404 unless the conversation group is one of the tenant's.
async fn ensure_group(catalog: &Catalog, tenant: &str, group: &str) -> HubResult<()> {
    let (t, g) = (tenant.to_owned(), group.to_owned());
    let found: Option<i64> = catalog
        .read(move |conn| {
            conn.query_row(
                "SELECT 1 FROM hub_conversations WHERE tenant_id = ?1
                     AND conversation_group_id = ?2 LIMIT 1",
                params![t, g],
                |r| r.get(0),
            )
            .optional()
        })
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| HubError::NotFound("Conversation group not found".into()))
}

/// The group's topics, oldest first, the default one made if missing.
pub async fn list(catalog: &Catalog, tenant: &str, group: &str) -> HubResult<Vec<Topic>> {
    ensure_group(catalog, tenant, group).await?;
    let (t, g) = (tenant.to_owned(), group.to_owned());
    Ok(catalog
        .write(move |conn| {
            let now = now_ms();
            conn.execute(
                "INSERT OR IGNORE INTO hub_topics (id, tenant_id, conversation_group_id, name,
                     is_default, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
                params![new_id(), t, g, DEFAULT_NAME, now],
            )?;
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM hub_topics WHERE tenant_id = ?1
                     AND conversation_group_id = ?2 ORDER BY is_default DESC, created_ms, id"
            ))?;
            stmt.query_map(params![t, g], from_row)?.collect()
        })
        .await?)
}

pub async fn create(catalog: &Catalog, tenant: &str, group: &str, name: &str) -> HubResult<Topic> {
    let name = clean_name(name)?;
    // Listing makes the default topic first, so a new one is never the default.
    let existing = list(catalog, tenant, group).await?;
    if existing.len() as i64 >= MAX_PER_GROUP {
        return Err(HubError::Conflict(format!(
            "A conversation group has at most {MAX_PER_GROUP} topics"
        )));
    }
    if existing
        .iter()
        .any(|t| t.status == "active" && t.name.eq_ignore_ascii_case(&name))
    {
        return Err(HubError::Conflict(
            "A topic with this name already exists".into(),
        ));
    }
    let (t, g, id) = (tenant.to_owned(), group.to_owned(), new_id());
    let row = id.clone();
    catalog
        .write(move |conn| {
            let now = now_ms();
            conn.execute(
                "INSERT INTO hub_topics (id, tenant_id, conversation_group_id, name, is_default,
                     created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5)",
                params![row, t, g, name, now],
            )
        })
        .await?;
    get(catalog, tenant, &id).await
}

pub async fn get(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Topic> {
    let (t, i) = (tenant.to_owned(), id.to_owned());
    catalog
        .read(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM hub_topics WHERE tenant_id = ?1 AND id = ?2"),
                params![t, i],
                from_row,
            )
            .optional()
        })
        .await?
        .ok_or_else(|| HubError::NotFound("Topic not found".into()))
}

pub async fn rename(catalog: &Catalog, tenant: &str, id: &str, name: &str) -> HubResult<Topic> {
    let name = clean_name(name)?;
    let topic = get(catalog, tenant, id).await?;
    let siblings = list(catalog, tenant, &topic.group_id).await?;
    if siblings
        .iter()
        .any(|s| s.id != topic.id && s.status == "active" && s.name.eq_ignore_ascii_case(&name))
    {
        return Err(HubError::Conflict(
            "A topic with this name already exists".into(),
        ));
    }
    let i = id.to_owned();
    catalog
        .write(move |conn| {
            conn.execute(
                "UPDATE hub_topics SET name = ?2, updated_ms = ?3 WHERE id = ?1",
                params![i, name, now_ms()],
            )
        })
        .await?;
    get(catalog, tenant, id).await
}

/// Archive a topic; the default one stays (400), archiving twice is a no-op.
pub async fn archive(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Topic> {
    let topic = get(catalog, tenant, id).await?;
    if topic.is_default {
        return Err(HubError::BadRequest(
            "Cannot archive the default topic".into(),
        ));
    }
    if topic.status == "archived" {
        return Ok(topic);
    }
    let i = id.to_owned();
    catalog
        .write(move |conn| {
            let now = now_ms();
            conn.execute(
                "UPDATE hub_topics SET archived_ms = ?2, updated_ms = ?2 WHERE id = ?1",
                params![i, now],
            )
        })
        .await?;
    get(catalog, tenant, id).await
}
