//! Push tokens: the owner's phone registers an Expo push token so that it
//! could be woken for new messages. Holdfast is self-hosted and has no push
//! service configured, so tokens are stored (bounded, validated) and every
//! attempt to send answers that delivery is unavailable: never a pretended
//! success.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{HubError, HubResult, new_id};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

/// What every record and every send says about delivery.
pub const DELIVERY: &str = "unavailable";
pub const UNAVAILABLE: &str =
    "No push service is configured on this hub: push notifications cannot be delivered";
/// Tokens one tenant may hold (the oldest is replaced beyond it).
pub const MAX_TOKENS: usize = 50;
pub const PLATFORMS: [&str; 3] = ["ios", "android", "web"];

#[derive(Debug, Clone, Serialize)]
pub struct PushToken {
    pub id: String,
    pub tenant_id: String,
    pub device_id: Option<String>,
    pub token: String,
    pub platform: Option<String>,
    pub delivery: &'static str,
    pub created_at: String,
    pub updated_at: String,
}

/// An Expo push token: `ExponentPushToken[…]` or `ExpoPushToken[…]`, the
/// inside 1-200 URL-safe characters.
pub fn valid_token(t: &str) -> bool {
    let inner = t
        .strip_prefix("ExponentPushToken[")
        .or_else(|| t.strip_prefix("ExpoPushToken["))
        .and_then(|r| r.strip_suffix(']'));
    inner.is_some_and(|i| {
        !i.is_empty()
            && i.len() <= 200
            && i.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    })
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PushToken> {
    Ok(PushToken {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        device_id: r.get(2)?,
        token: r.get(3)?,
        platform: r.get(4)?,
        delivery: DELIVERY,
        created_at: rfc3339(r.get(5)?),
        updated_at: rfc3339(r.get(6)?),
    })
}

/// Store (or refresh) a token; true when it is new.
pub async fn register(
    catalog: &Catalog,
    tenant: &str,
    device: Option<String>,
    token: &str,
    platform: Option<String>,
) -> HubResult<(PushToken, bool)> {
    if !valid_token(token) {
        return Err(HubError::BadRequest(
            "token must be an Expo push token (ExponentPushToken[…])".into(),
        ));
    }
    if platform.as_deref().is_some_and(|p| !PLATFORMS.contains(&p)) {
        return Err(HubError::BadRequest(
            "platform must be ios, android or web".into(),
        ));
    }
    let (t, tok) = (tenant.to_owned(), token.to_owned());
    let (row, created) = catalog
        .write(move |c| {
            let tx = c.transaction()?;
            let now = now_ms();
            let existing: Option<String> = tx
                .query_row(
                    "SELECT id FROM hub_push_tokens WHERE tenant_id = ?1 AND token = ?2",
                    params![t, tok],
                    |r| r.get(0),
                )
                .optional()?;
            let (id, created) = match existing {
                Some(id) => {
                    tx.execute(
                        "UPDATE hub_push_tokens SET device_id = ?2, platform = ?3, updated_ms = ?4
                         WHERE id = ?1",
                        params![id, device, platform, now],
                    )?;
                    (id, false)
                }
                None => {
                    let id = new_id();
                    tx.execute(
                        "INSERT INTO hub_push_tokens (id, tenant_id, device_id, token, platform,
                             created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                        params![id, t, device, tok, platform, now],
                    )?;
                    // Bounded: the least recently registered go first.
                    tx.execute(
                        "DELETE FROM hub_push_tokens WHERE tenant_id = ?1 AND id NOT IN (
                             SELECT id FROM hub_push_tokens WHERE tenant_id = ?1
                             ORDER BY updated_ms DESC, id LIMIT ?2)",
                        params![t, MAX_TOKENS as i64],
                    )?;
                    (id, true)
                }
            };
            let row = tx.query_row(
                "SELECT id, tenant_id, device_id, token, platform, created_ms, updated_ms
                 FROM hub_push_tokens WHERE id = ?1",
                [&id],
                from_row,
            )?;
            tx.commit()?;
            Ok((row, created))
        })
        .await?;
    Ok((row, created))
}

/// The tenant's tokens, newest first.
pub async fn list(catalog: &Catalog, tenant: &str) -> HubResult<Vec<PushToken>> {
    let t = tenant.to_owned();
    Ok(catalog
        .read(move |c| {
            let mut st = c.prepare(
                "SELECT id, tenant_id, device_id, token, platform, created_ms, updated_ms
                 FROM hub_push_tokens WHERE tenant_id = ?1 ORDER BY updated_ms DESC, id",
            )?;
            st.query_map([t], from_row)?.collect()
        })
        .await?)
}

/// Send a notification: there is no push service, so this always answers
/// [`HubError::Unavailable`] (after checking there is someone to send to).
pub async fn send(catalog: &Catalog, tenant: &str) -> HubResult<()> {
    if list(catalog, tenant).await?.is_empty() {
        return Err(HubError::Conflict("no push token is registered".into()));
    }
    Err(HubError::Unavailable(UNAVAILABLE.into()))
}
