//! The durable per-device delivery queue (§6): every MLS artefact addressed
//! to a device is stored here before anyone is told, and stays until that
//! device acknowledges it. At-least-once; the same `message_id` on the row
//! and on any live frame, so clients drop duplicates.

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{HubError, HubResult, new_id};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

/// A row's routing fields, passed through as the sender gave them.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Linkage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a2a_channel_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    /// The sender's hub address, on A2A traffic (§8.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_hub_address: Option<String>,
}

/// One queued artefact for one device.
#[derive(Debug, Clone)]
pub struct Row {
    pub queue_id: String,
    pub device_id: String,
    /// welcome | commit | application
    pub message_type: &'static str,
    /// What the sender called it (e.g. "text"), for live frames.
    pub sender_type: Option<String>,
    pub sender_device_id: String,
    pub group_id: String,
    pub payload: Vec<u8>,
    pub message_id: String,
    pub client_message_id: Option<String>,
    pub epoch: Option<i64>,
    pub linkage: Linkage,
    pub created_at: String,
}

impl Row {
    pub fn new(
        device_id: &str,
        message_type: &'static str,
        sender: &str,
        group_id: &str,
        payload: &[u8],
        message_id: &str,
    ) -> Self {
        Self {
            queue_id: new_id(),
            device_id: device_id.to_owned(),
            message_type,
            sender_type: None,
            sender_device_id: sender.to_owned(),
            group_id: group_id.to_owned(),
            payload: payload.to_vec(),
            message_id: message_id.to_owned(),
            client_message_id: None,
            epoch: None,
            linkage: Linkage::default(),
            created_at: rfc3339(now_ms()),
        }
    }

    /// The common fields of rows and live frames.
    fn fields(&self) -> Map<String, Value> {
        let mut m = match serde_json::to_value(&self.linkage) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        m.insert(
            "sender_device_id".into(),
            self.sender_device_id.clone().into(),
        );
        m.insert("group_id".into(), self.group_id.clone().into());
        m.insert("payload".into(), hex::encode(&self.payload).into());
        m.insert("message_id".into(), self.message_id.clone().into());
        m.insert(
            "client_message_id".into(),
            self.client_message_id.clone().into(),
        );
        m.insert("created_at".into(), self.created_at.clone().into());
        if let Some(e) = self.epoch {
            m.insert("epoch".into(), e.into());
        }
        m
    }

    /// The row as `GET /mls/delivery` lists it.
    pub fn to_json(&self) -> Value {
        let mut m = self.fields();
        m.insert("queue_id".into(), self.queue_id.clone().into());
        m.insert("message_type".into(), self.message_type.into());
        Value::Object(m)
    }

    /// The live frame's `data`: the row without `queue_id`, with the
    /// sender's own message type (§7.2, §7.3).
    pub fn live_data(&self) -> Value {
        let mut m = self.fields();
        let kind = match self.message_type {
            "commit" => "commit".to_owned(),
            _ => self.sender_type.clone().unwrap_or_else(|| "text".into()),
        };
        m.insert("message_type".into(), kind.into());
        Value::Object(m)
    }

    pub(super) fn insert(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute(
            "INSERT INTO hub_queue (queue_id, device_id, message_type, sender_device_id, group_id,
                 payload, message_id, client_message_id, epoch, linkage, created_at, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                self.queue_id,
                self.device_id,
                self.message_type,
                self.sender_device_id,
                self.group_id,
                self.payload,
                self.message_id,
                self.client_message_id,
                self.epoch,
                serde_json::to_string(&self.linkage).unwrap_or_else(|_| "{}".into()),
                self.created_at,
                now_ms(),
            ],
        )?;
        Ok(())
    }
}

/// Rows one pull returns at most; the hub nudges again after the ack.
pub const PAGE: usize = 500;
/// Nacks after which a row is dropped (dead-lettered).
pub const MAX_NACKS: i64 = 5;

/// The device's unacknowledged rows, oldest first.
pub async fn pull(catalog: &Catalog, device: &str) -> HubResult<Vec<Row>> {
    let device = device.to_owned();
    Ok(catalog
        .read(move |conn| {
            let mut st = conn.prepare(
                "SELECT queue_id, device_id, message_type, sender_device_id, group_id, payload,
                        message_id, client_message_id, epoch, linkage, created_at
                 FROM hub_queue WHERE device_id = ?1 ORDER BY seq LIMIT ?2",
            )?;
            st.query_map(params![device, PAGE as i64], |r| {
                let kind: String = r.get(2)?;
                let linkage: String = r.get(9)?;
                Ok(Row {
                    queue_id: r.get(0)?,
                    device_id: r.get(1)?,
                    message_type: match kind.as_str() {
                        "welcome" => "welcome",
                        "commit" => "commit",
                        _ => "application",
                    },
                    sender_type: None,
                    sender_device_id: r.get(3)?,
                    group_id: r.get(4)?,
                    payload: r.get(5)?,
                    message_id: r.get(6)?,
                    client_message_id: r.get(7)?,
                    epoch: r.get(8)?,
                    linkage: serde_json::from_str(&linkage).unwrap_or_default(),
                    created_at: r.get(10)?,
                })
            })?
            .collect()
        })
        .await?)
}

/// Delete the device's rows among `ids`; unknown ids are ignored. Returns
/// how many went, and whether rows remain.
pub async fn ack(catalog: &Catalog, device: &str, ids: Vec<String>) -> HubResult<(usize, bool)> {
    if ids.len() > 5000 {
        return Err(HubError::BadRequest(
            "at most 5000 queue_ids per ack".into(),
        ));
    }
    let device = device.to_owned();
    Ok(catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let mut n = 0;
            {
                let mut st =
                    tx.prepare("DELETE FROM hub_queue WHERE queue_id = ?1 AND device_id = ?2")?;
                for id in &ids {
                    n += st.execute(params![id, device])?;
                }
            }
            let left: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM hub_queue WHERE device_id = ?1)",
                [&device],
                |r| r.get(0),
            )?;
            tx.commit()?;
            Ok((n, left))
        })
        .await?)
}

/// Count a failed attempt on each row; rows past [`MAX_NACKS`] are dropped.
pub async fn nack(catalog: &Catalog, device: &str, ids: Vec<String>) -> HubResult<usize> {
    if ids.len() > 5000 {
        return Err(HubError::BadRequest(
            "at most 5000 queue_ids per nack".into(),
        ));
    }
    let device = device.to_owned();
    Ok(catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let mut n = 0;
            for id in &ids {
                n += tx.execute(
                    "UPDATE hub_queue SET nacks = nacks + 1 WHERE queue_id = ?1 AND device_id = ?2",
                    params![id, device],
                )?;
            }
            tx.execute(
                "DELETE FROM hub_queue WHERE device_id = ?1 AND nacks >= ?2",
                params![device, MAX_NACKS],
            )?;
            tx.commit()?;
            Ok(n)
        })
        .await?)
}

/// How many rows wait for the device.
pub async fn pending(catalog: &Catalog, device: &str) -> HubResult<i64> {
    let device = device.to_owned();
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                "SELECT COUNT(*) FROM hub_queue WHERE device_id = ?1",
                [device],
                |r| r.get(0),
            )
        })
        .await?)
}

/// Whether the device still holds an unacknowledged Welcome for the group
/// ("Welcome first", §7.4).
pub(super) fn welcome_pending(
    conn: &Connection,
    device: &str,
    group: &str,
) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM hub_queue WHERE device_id = ?1 AND group_id = ?2
             AND message_type = 'welcome')",
        params![device, group],
        |r| r.get(0),
    )
}
