//! Trust scores: a 0-100 score per agent identity (a device's `hub_id`),
//! computed only from the hub's own records, never from message content
//! (which the hub cannot read). The formula is in docs/hub.md:
//!
//! | component | weight | from |
//! |---|---|---|
//! | delivery | 0.35 | 100 × (D+1)/(D+X+1): D rows acknowledged, X dead-lettered (5 nacks) |
//! | policy   | 0.25 | 100 − 10 per policy hit (audit `hub_policy_hit`), at least 0 |
//! | standing | 0.20 | 100 − 25 per suspension; at most 25 while suspended |
//! | tenure   | 0.10 | 100 × age in days / 30, at most 100 |
//! | activity | 0.10 | seen within 24 h 100, within 7 days 50, else 0 |
//!
//! The score is the weighted sum, rounded; a revoked or rejected device
//! scores 0. Tiers: `trusted` ≥ 80, `established` ≥ 60, `provisional` ≥ 40,
//! else `untrusted`. Each computation appends a history row, at most one an
//! hour unless the score changed; rows older than the tenant's
//! `trust_history_days` are dropped.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::{HubError, HubResult, devices, parse_id, settings};
use crate::catalog::Catalog;
use crate::time::{now_ms, rfc3339};

/// The audit kind the policy engine records for each hit.
pub const POLICY_HIT: &str = "hub_policy_hit";

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

pub const W_DELIVERY: f64 = 0.35;
pub const W_POLICY: f64 = 0.25;
pub const W_STANDING: f64 = 0.20;
pub const W_TENURE: f64 = 0.10;
pub const W_ACTIVITY: f64 = 0.10;

/// The raw records one score is computed from.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub status: String,
    pub delivered: i64,
    pub dead_lettered: i64,
    pub nacks: i64,
    pub policy_hits: i64,
    pub suspensions: i64,
    pub revocations: i64,
    pub created_ms: i64,
    pub last_seen_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Score {
    pub hub_id: String,
    pub device_id: String,
    pub name: String,
    pub score: i64,
    pub tier: &'static str,
    pub components: Value,
    pub computed_at: String,
}

pub fn tier(score: i64, status: &str) -> &'static str {
    if status == devices::REVOKED || status == devices::REJECTED {
        return "revoked";
    }
    match score {
        80.. => "trusted",
        60..80 => "established",
        40..60 => "provisional",
        _ => "untrusted",
    }
}

/// The score and its components from `inputs` at `now`.
pub fn compute(i: &Inputs, now: i64) -> (i64, Value) {
    let delivery = 100.0 * (i.delivered + 1) as f64 / (i.delivered + i.dead_lettered + 1) as f64;
    let policy = (100 - 10 * i.policy_hits).max(0) as f64;
    let mut standing = (100 - 25 * i.suspensions).max(0);
    if i.status == devices::SUSPENDED {
        standing = standing.min(25);
    }
    let standing = standing as f64;
    let age_days = ((now - i.created_ms).max(0) as f64) / DAY_MS as f64;
    let tenure = (100.0 * age_days / 30.0).min(100.0);
    let activity = match i.last_seen_ms {
        Some(t) if now - t <= DAY_MS => 100.0,
        Some(t) if now - t <= 7 * DAY_MS => 50.0,
        _ => 0.0,
    };
    let sum = W_DELIVERY * delivery
        + W_POLICY * policy
        + W_STANDING * standing
        + W_TENURE * tenure
        + W_ACTIVITY * activity;
    let revoked = i.status == devices::REVOKED || i.status == devices::REJECTED;
    let score = if revoked {
        0
    } else {
        (sum.round() as i64).clamp(0, 100)
    };
    let components = json!({
        "delivery": {"score": delivery.round() as i64, "weight": W_DELIVERY,
            "delivered": i.delivered, "dead_lettered": i.dead_lettered, "nacks": i.nacks},
        "policy": {"score": policy as i64, "weight": W_POLICY, "hits": i.policy_hits},
        "standing": {"score": standing as i64, "weight": W_STANDING, "status": i.status,
            "suspensions": i.suspensions, "revocations": i.revocations},
        "tenure": {"score": tenure.round() as i64, "weight": W_TENURE,
            "age_days": (age_days * 10.0).floor() / 10.0},
        "activity": {"score": activity as i64, "weight": W_ACTIVITY,
            "last_seen_at": i.last_seen_ms.map(rfc3339)},
    });
    (score, components)
}

/// The device behind `hub_id` (its hub id, or its own id) in `tenant`.
async fn resolve(catalog: &Catalog, tenant: &str, hub_id: &str) -> HubResult<devices::Device> {
    let not_found = || HubError::NotFound("Agent not found".into());
    let h = parse_id(hub_id).ok_or_else(not_found)?;
    let t = tenant.to_owned();
    let id: Option<String> = catalog
        .read(move |c| {
            c.query_row(
                "SELECT id FROM hub_devices WHERE tenant_id = ?1 AND (hub_id = ?2 OR id = ?2)
                   AND deleted_ms IS NULL ORDER BY hub_id = ?2 DESC LIMIT 1",
                params![t, h],
                |r| r.get(0),
            )
            .optional()
        })
        .await?;
    let id = id.ok_or_else(not_found)?;
    devices::get_in(catalog, tenant, &id)
        .await
        .map_err(|_| not_found())
}

async fn inputs(catalog: &Catalog, d: &devices::Device) -> HubResult<Inputs> {
    let (id, hub, tenant) = (d.id.clone(), d.hub_id.clone(), d.tenant_id.clone());
    let status = d.status.clone();
    let last_seen_ms = d.last_seen_ms;
    Ok(catalog
        .read(move |c| {
            let (delivered, dead_lettered, nacks): (i64, i64, i64) = c
                .query_row(
                    "SELECT delivered, dead_lettered, nacks FROM hub_delivery_stats
                     WHERE device_id = ?1",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?
                .unwrap_or((0, 0, 0));
            let (suspensions, revocations): (i64, i64) = c.query_row(
                "SELECT COALESCE(SUM(new_status = 'SUSPENDED'), 0),
                        COALESCE(SUM(new_status = 'REVOKED'), 0)
                 FROM hub_device_status_log WHERE device_id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let policy_hits: i64 = c.query_row(
                "SELECT COUNT(*) FROM audit WHERE type = ?1
                   AND json_extract(details, '$.tenant_id') = ?2
                   AND (json_extract(details, '$.hub_id') = ?3
                        OR json_extract(details, '$.device_id') = ?4)",
                params![POLICY_HIT, tenant, hub, id],
                |r| r.get(0),
            )?;
            let created_ms: i64 = c.query_row(
                "SELECT created_ms FROM hub_devices WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )?;
            Ok(Inputs {
                status,
                delivered,
                dead_lettered,
                nacks,
                policy_hits,
                suspensions,
                revocations,
                created_ms,
                last_seen_ms,
            })
        })
        .await?)
}

/// Compute the score of `hub_id` in `tenant` now (404 for an unknown or
/// another tenant's identity) and append it to the history.
pub async fn score(catalog: &Catalog, tenant: &str, hub_id: &str) -> HubResult<Score> {
    let d = resolve(catalog, tenant, hub_id).await?;
    let i = inputs(catalog, &d).await?;
    let now = now_ms();
    let (score, components) = compute(&i, now);
    let tier = tier(score, &i.status);
    let keep_days = settings::get(catalog, tenant).await?.trust_history_days;
    let (t, h, c) = (tenant.to_owned(), d.hub_id.clone(), components.to_string());
    catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let last: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT score, computed_ms FROM hub_trust_history
                     WHERE tenant_id = ?1 AND hub_id = ?2 ORDER BY id DESC LIMIT 1",
                    params![t, h],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let due = match last {
                None => true,
                Some((s, at)) => s != score || now - at >= HOUR_MS,
            };
            if due {
                tx.execute(
                    "INSERT INTO hub_trust_history (tenant_id, hub_id, score, tier, components, computed_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![t, h, score, tier, c, now],
                )?;
            }
            tx.execute(
                "DELETE FROM hub_trust_history WHERE tenant_id = ?1 AND hub_id = ?2 AND computed_ms < ?3",
                params![t, h, now - keep_days * DAY_MS],
            )?;
            tx.commit()
        })
        .await?;
    Ok(Score {
        hub_id: d.hub_id,
        device_id: d.id,
        name: d.name,
        score,
        tier,
        components,
        computed_at: rfc3339(now),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    pub score: i64,
    pub tier: String,
    pub components: Value,
    pub computed_at: String,
    pub computed_ms: i64,
}

/// The identity's hub id and its newest `limit` history rows, oldest
/// first (404 as for [`score`]).
pub async fn history(
    catalog: &Catalog,
    tenant: &str,
    hub_id: &str,
    limit: usize,
) -> HubResult<(String, Vec<HistoryRow>)> {
    let d = resolve(catalog, tenant, hub_id).await?;
    let (t, h) = (tenant.to_owned(), d.hub_id.clone());
    let mut rows: Vec<HistoryRow> = catalog
        .read(move |c| {
            let mut st = c.prepare(
                "SELECT score, tier, components, computed_ms FROM hub_trust_history
                 WHERE tenant_id = ?1 AND hub_id = ?2 ORDER BY id DESC LIMIT ?3",
            )?;
            st.query_map(params![t, h, limit as i64], |r| {
                let comp: String = r.get(2)?;
                let ms: i64 = r.get(3)?;
                Ok(HistoryRow {
                    score: r.get(0)?,
                    tier: r.get(1)?,
                    components: serde_json::from_str(&comp).unwrap_or(Value::Null),
                    computed_at: rfc3339(ms),
                    computed_ms: ms,
                })
            })?
            .collect()
        })
        .await?;
    rows.reverse();
    Ok((d.hub_id, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_the_documented_formula() {
        let now = 1_000 * DAY_MS;
        let fresh = Inputs {
            status: devices::ACTIVE.into(),
            created_ms: now,
            last_seen_ms: Some(now),
            ..Default::default()
        };
        // 0.35·100 + 0.25·100 + 0.2·100 + 0.1·0 + 0.1·100 = 90
        assert_eq!(compute(&fresh, now).0, 90);
        let old = Inputs {
            created_ms: now - 60 * DAY_MS,
            delivered: 9,
            dead_lettered: 10,
            policy_hits: 3,
            suspensions: 1,
            ..fresh.clone()
        };
        // delivery 50, policy 70, standing 75, tenure 100, activity 100
        let (s, c) = compute(&old, now);
        assert_eq!(c["delivery"]["score"], 50);
        assert_eq!(
            s,
            (0.35f64 * 50.0 + 0.25 * 70.0 + 0.2 * 75.0 + 10.0 + 10.0).round() as i64
        );
        let revoked = Inputs {
            status: devices::REVOKED.into(),
            ..fresh
        };
        assert_eq!(compute(&revoked, now).0, 0);
        assert_eq!(tier(0, devices::REVOKED), "revoked");
        assert_eq!(tier(90, devices::ACTIVE), "trusted");
    }
}

#[cfg(test)]
mod record_tests {
    //! The score from real records: queue rows acked and dead-lettered
    //! through the queue's own functions, status changes through the
    //! device rules, policy hits through the audit ring's `record`.
    use super::*;
    use crate::audit::Audit;
    use crate::events::EventBus;
    use crate::hub::{Hub, queue, tenants};

    async fn agent(catalog: &Catalog, tenant: &str) -> (String, String) {
        let (id, hub) = (crate::hub::new_id(), crate::hub::new_id());
        let (i, h, t) = (id.clone(), hub.clone(), tenant.to_owned());
        catalog
            .write(move |c| {
                c.execute(
                    "INSERT INTO hub_devices (id, tenant_id, kind, name, identity_key, fingerprint,
                         status, hub_id, created_ms, updated_ms, last_seen_ms)
                     VALUES (?1, ?2, 'agent', 'bot', x'00', 'fp', 'ACTIVE', ?3, ?4, ?4, ?4)",
                    params![i, t, h, now_ms()],
                )
            })
            .await
            .unwrap();
        (id, hub)
    }

    async fn enqueue(catalog: &Catalog, device: &str, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for _ in 0..n {
            let row = queue::Row::new(device, "application", "sender", "g", b"x", "m");
            ids.push(row.queue_id.clone());
            let r = row.clone();
            catalog.write(move |c| r.insert(c)).await.unwrap();
        }
        ids
    }

    #[tokio::test]
    async fn delivery_revocations_and_policy_hits_move_the_score() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(&dir.path().join("c.sqlite")).unwrap();
        let events = EventBus::new();
        let hub = Hub::open(catalog.clone(), events.clone()).await.unwrap();
        let audit = Audit::new(catalog.clone(), events);
        let tenant = hub.default_tenant.clone();
        let (device, hub_id) = agent(&catalog, &tenant).await;

        let first = score(&catalog, &tenant, &hub_id).await.unwrap();
        assert_eq!(first.components["delivery"]["delivered"], 0);
        assert_eq!(first.components["delivery"]["score"], 100);

        // Three acknowledged, one dead-lettered after five nacks.
        let ids = enqueue(&catalog, &device, 4).await;
        queue::ack(&catalog, &device, ids[..3].to_vec())
            .await
            .unwrap();
        for _ in 0..queue::MAX_NACKS {
            queue::nack(&catalog, &device, vec![ids[3].clone()])
                .await
                .unwrap();
        }
        assert_eq!(queue::pending(&catalog, &device).await.unwrap(), 0);
        // Two policy hits for this identity, one for another tenant's.
        for t in [&tenant, &tenant, &"other".to_owned()] {
            audit
                .record(
                    POLICY_HIT,
                    serde_json::json!({"tenant_id": t, "device_id": device, "hub_id": hub_id,
                        "policy_id": "p", "action": "block", "room_id": null}),
                )
                .await;
        }
        devices::suspend(&catalog, &tenant, &device).await.unwrap();
        devices::resume(&catalog, &tenant, &device).await.unwrap();
        let s = score(&catalog, &tenant, &hub_id).await.unwrap();
        let c = &s.components;
        assert_eq!(c["delivery"]["delivered"], 3);
        assert_eq!(c["delivery"]["dead_lettered"], 1);
        assert_eq!(c["delivery"]["nacks"], 5);
        assert_eq!(c["delivery"]["score"], 80); // 100 × 4/5
        assert_eq!(c["policy"]["hits"], 2);
        assert_eq!(c["policy"]["score"], 80);
        assert_eq!(c["standing"]["suspensions"], 1);
        assert_eq!(c["standing"]["score"], 75);
        assert!(s.score < first.score, "{} < {}", s.score, first.score);

        // The device id names the same identity; a second read in the same
        // hour with the same score adds no row.
        let again = score(&catalog, &tenant, &device).await.unwrap();
        assert_eq!(again.score, s.score);
        let (h, rows) = history(&catalog, &tenant, &hub_id, 100).await.unwrap();
        assert_eq!(h, hub_id);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].score, s.score);

        devices::revoke(&catalog, &tenant, &device).await.unwrap();
        let r = score(&catalog, &tenant, &hub_id).await.unwrap();
        assert_eq!((r.score, r.tier), (0, "revoked"));
        assert_eq!(r.components["standing"]["revocations"], 1);
        assert_eq!(
            history(&catalog, &tenant, &hub_id, 100)
                .await
                .unwrap()
                .1
                .len(),
            3
        );

        // Another tenant sees nothing of it.
        let other = tenants::create(&catalog, "Other").await.unwrap();
        assert!(matches!(
            score(&catalog, &other.id, &hub_id).await,
            Err(HubError::NotFound(_))
        ));
        assert!(matches!(
            history(&catalog, &other.id, &hub_id, 10).await,
            Err(HubError::NotFound(_))
        ));
    }
}
