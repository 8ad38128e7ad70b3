//! Conversations: one per (owner device, agent device), made when an agent
//! activates or an owner device registers, each in its own conversation
//! group. Stored messages are the ciphertext the relay saw, for history.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::{HubError, HubResult, new_id};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    pub id: String,
    pub conversation_group_id: String,
    pub owner_device_id: String,
    pub agent_device_id: String,
    pub created_at: String,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: r.get(0)?,
        conversation_group_id: r.get(1)?,
        owner_device_id: r.get(2)?,
        agent_device_id: r.get(3)?,
        created_at: rfc3339(r.get(4)?),
    })
}

const COLUMNS: &str = "id, conversation_group_id, owner_device_id, agent_device_id, created_ms";

/// Link every active agent of the tenant with every owner device (both are
/// idempotent: existing conversations stay). Returns the tenant's count.
pub async fn relink(catalog: &Catalog, tenant: &str) -> HubResult<usize> {
    let tenant = tenant.to_owned();
    Ok(catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let pairs: Vec<(String, String)> = {
                let mut st = tx.prepare(
                    "SELECT o.id, a.id FROM hub_devices o JOIN hub_devices a
                       ON a.tenant_id = o.tenant_id
                     WHERE o.tenant_id = ?1 AND o.kind = 'owner' AND a.kind = 'agent'
                       AND o.deleted_ms IS NULL AND a.deleted_ms IS NULL
                       AND o.status = 'ACTIVE' AND a.status IN ('ACTIVE', 'SUSPENDED')
                       AND NOT EXISTS (SELECT 1 FROM hub_conversations c
                           WHERE c.owner_device_id = o.id AND c.agent_device_id = a.id)",
                )?;
                st.query_map([&tenant], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?
            };
            for (owner, agent) in &pairs {
                tx.execute(
                    "INSERT INTO hub_conversations (id, tenant_id, conversation_group_id,
                         owner_device_id, agent_device_id, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![new_id(), tenant, new_id(), owner, agent, now_ms()],
                )?;
            }
            let n: i64 = tx.query_row(
                "SELECT COUNT(*) FROM hub_conversations WHERE tenant_id = ?1",
                [&tenant],
                |r| r.get(0),
            )?;
            tx.commit()?;
            Ok(n as usize)
        })
        .await?)
}

pub async fn list(catalog: &Catalog, tenant: &str) -> HubResult<Vec<Conversation>> {
    let tenant = tenant.to_owned();
    Ok(catalog
        .read(move |conn| {
            let mut st = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM hub_conversations WHERE tenant_id = ?1 ORDER BY created_ms, id"
            ))?;
            st.query_map([tenant], from_row)?.collect()
        })
        .await?)
}

pub async fn get(catalog: &Catalog, tenant: &str, id: &str) -> HubResult<Conversation> {
    let (tenant, id) = (tenant.to_owned(), id.to_owned());
    catalog
        .read(move |conn| {
            conn.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM hub_conversations WHERE tenant_id = ?1 AND id = ?2"
                ),
                params![tenant, id],
                from_row,
            )
            .optional()
        })
        .await?
        .ok_or_else(|| HubError::NotFound("Conversation not found".into()))
}

/// The conversation between an owner device and an agent, if linked.
pub async fn between(
    catalog: &Catalog,
    owner: &str,
    agent: &str,
) -> HubResult<Option<Conversation>> {
    let (owner, agent) = (owner.to_owned(), agent.to_owned());
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM hub_conversations
                     WHERE owner_device_id = ?1 AND agent_device_id = ?2"
                ),
                params![owner, agent],
                from_row,
            )
            .optional()
        })
        .await?)
}

/// The conversations a device takes part in.
pub async fn of_device(catalog: &Catalog, device: &str) -> HubResult<Vec<String>> {
    let device = device.to_owned();
    Ok(catalog
        .read(move |conn| {
            let mut st = conn.prepare(
                "SELECT id FROM hub_conversations WHERE owner_device_id = ?1 OR agent_device_id = ?1",
            )?;
            st.query_map([device], |r| r.get(0))?.collect()
        })
        .await?)
}

/// A message stored by `POST /conversations/{id}/messages` (opaque blobs).
pub struct Stored {
    pub conversation_id: String,
    pub tenant_id: String,
    pub sender_device_id: String,
    pub header_blob: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub message_type: String,
    pub topic_id: Option<String>,
}

pub async fn store(catalog: &Catalog, m: Stored) -> HubResult<Value> {
    if m.ciphertext.is_empty() || m.ciphertext.len() > 256 * 1024 || m.header_blob.len() > 16 * 1024
    {
        return Err(HubError::BadRequest(
            "ciphertext must be 1 byte to 256 KiB and header_blob at most 16 KiB".into(),
        ));
    }
    let id = new_id();
    let created = now_ms();
    let row_id = id.clone();
    let conv = m.conversation_id.clone();
    catalog
        .write(move |conn| {
            conn.execute(
                "INSERT INTO hub_messages (id, tenant_id, conversation_id, sender_device_id,
                     message_type, header_blob, ciphertext, topic_id, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    row_id,
                    m.tenant_id,
                    m.conversation_id,
                    m.sender_device_id,
                    m.message_type,
                    m.header_blob,
                    m.ciphertext,
                    m.topic_id,
                    created
                ],
            )
        })
        .await?;
    Ok(json!({"id": id, "conversation_id": conv, "created_at": rfc3339(created)}))
}

/// Stored messages of conversations, oldest first, after `since_ms`.
pub async fn messages(
    catalog: &Catalog,
    conversations: Vec<String>,
    since_ms: Option<i64>,
    limit: usize,
    topic_id: Option<String>,
) -> HubResult<Vec<Value>> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(catalog
        .read(move |conn| {
            let mut out = Vec::new();
            let mut st = conn.prepare(
                "SELECT id, conversation_id, group_id, sender_device_id, message_type, header_blob,
                        ciphertext, topic_id, client_message_id, epoch, created_ms
                 FROM hub_messages WHERE conversation_id = ?1 AND created_ms > ?2
                   AND (?3 IS NULL OR topic_id = ?3)
                 ORDER BY created_ms, id LIMIT ?4",
            )?;
            for c in &conversations {
                let rows = st.query_map(
                    params![c, since_ms.unwrap_or(-1), topic_id, limit as i64],
                    |r| {
                        let header: Option<Vec<u8>> = r.get(5)?;
                        let ct: Vec<u8> = r.get(6)?;
                        let created: i64 = r.get(10)?;
                        Ok((
                            created,
                            json!({
                                "id": r.get::<_, String>(0)?,
                                "conversation_id": r.get::<_, String>(1)?,
                                "group_id": r.get::<_, Option<String>>(2)?,
                                "sender_device_id": r.get::<_, String>(3)?,
                                "message_type": r.get::<_, String>(4)?,
                                "header_blob": header.map(|h| b64.encode(h)),
                                "ciphertext": b64.encode(ct),
                                "topic_id": r.get::<_, Option<String>>(7)?,
                                "client_message_id": r.get::<_, Option<String>>(8)?,
                                "epoch": r.get::<_, Option<i64>>(9)?,
                                "created_at": rfc3339(created),
                                "created_ms": created,
                            }),
                        ))
                    },
                )?;
                for row in rows {
                    out.push(row?);
                }
            }
            out.sort_by_key(|(t, _)| *t);
            out.truncate(limit);
            Ok(out.into_iter().map(|(_, v)| v).collect())
        })
        .await?)
}
