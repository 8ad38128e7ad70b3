//! Telemetry ingest (§9.1): spans an agent reports about itself, stored as
//! given (bounded) and deduplicated on (trace_id, span_id) so a batch re-sent
//! after a lost answer is not counted twice. Each span's name, start and end
//! (ISO-8601 with offset, or OTLP `*_unix_nano`) and status code are read out
//! at ingest so the owner's queries ([`spans`], [`summary`]) filter and
//! aggregate in SQL.

use rusqlite::params;
use serde_json::Value;

use super::{HubError, HubResult};
use crate::catalog::Catalog;
use crate::time::now_ms;

pub const MAX_SPANS: usize = 1000;
pub const MAX_SPAN_BYTES: usize = 16 * 1024;

fn hex_id(v: &Value, len: usize) -> Option<String> {
    let s = v.as_str()?;
    (s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// Store the spans; returns how many were new.
pub async fn ingest(
    catalog: &Catalog,
    tenant: &str,
    device: &str,
    spans: Vec<Value>,
) -> HubResult<usize> {
    if spans.len() > MAX_SPANS {
        return Err(HubError::BadRequest(format!(
            "at most {MAX_SPANS} spans per batch"
        )));
    }
    let mut rows = Vec::with_capacity(spans.len());
    for s in spans {
        let (Some(trace), Some(span)) = (hex_id(&s["trace_id"], 32), hex_id(&s["span_id"], 16))
        else {
            return Err(HubError::BadRequest(
                "each span needs a 32-hex trace_id and a 16-hex span_id".into(),
            ));
        };
        let body = s.to_string();
        if body.len() > MAX_SPAN_BYTES {
            return Err(HubError::BadRequest("span too large".into()));
        }
        rows.push((trace, span, body));
    }
    let (tenant, device) = (tenant.to_owned(), device.to_owned());
    Ok(catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let mut n = 0;
            for (trace, span, body) in rows {
                n += tx.execute(
                    &format!(
                        "INSERT OR IGNORE INTO hub_telemetry (trace_id, span_id, tenant_id, device_id,
                             body, created_ms, name, start_ms, end_ms, status_code)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6,
                             CASE WHEN json_type(?5, '$.name') = 'text'
                                  THEN substr(json_extract(?5, '$.name'), 1, 200) END,
                             {}, {},
                             CASE WHEN json_type(?5, '$.status.code') = 'integer'
                                  THEN json_extract(?5, '$.status.code') END)",
                        time_sql("start"),
                        time_sql("end")
                    ),
                    params![trace, span, tenant, device, body, now_ms()],
                )?;
            }
            tx.commit()?;
            Ok(n)
        })
        .await?)
}

/// SQL for a span time in ms: `<which>_time` as ISO-8601 text, else
/// `<which>_time_unix_nano` as an integer; NULL when neither reads.
fn time_sql(which: &str) -> String {
    format!(
        "CASE WHEN json_type(?5, '$.{which}_time') = 'text'
              THEN CAST(ROUND((julianday(json_extract(?5, '$.{which}_time')) - 2440587.5)
                              * 86400000.0) AS INTEGER)
              WHEN json_type(?5, '$.{which}_time_unix_nano') = 'integer'
              THEN json_extract(?5, '$.{which}_time_unix_nano') / 1000000 END"
    )
}

/// The most spans one query answers.
pub const MAX_LIMIT: usize = 1000;
/// The most spans a summary reads (the newest in its window).
pub const SUMMARY_SPANS: usize = 100_000;
/// The most time buckets a summary answers.
pub const MAX_BUCKETS: i64 = 500;

/// A span's time as the queries use it: its start, else when it arrived.
const T: &str = "COALESCE(start_ms, created_ms)";

/// Spans of one device, newest first, `since_ms <= start < until_ms`.
pub async fn spans(
    catalog: &Catalog,
    device: &str,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    limit: usize,
) -> HubResult<Vec<Value>> {
    let d = device.to_owned();
    let rows: Vec<(String, i64, Option<i64>, Option<i64>)> = catalog
        .read(move |c| {
            let mut st = c.prepare(&format!(
                "SELECT body, created_ms, {T}, end_ms FROM hub_telemetry
                 WHERE device_id = ?1 AND {T} >= ?2 AND {T} < ?3
                 ORDER BY {T} DESC, span_id LIMIT ?4"
            ))?;
            st.query_map(
                rusqlite::params![
                    d,
                    since_ms.unwrap_or(i64::MIN),
                    until_ms.unwrap_or(i64::MAX),
                    limit as i64
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?
            .collect()
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|(body, received, start, end)| {
            let mut v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert("received_at_ms".into(), received.into());
                o.insert("start_ms".into(), start.into());
                o.insert("end_ms".into(), end.into());
                o.insert(
                    "duration_ms".into(),
                    match (start, end) {
                        (Some(s), Some(e)) if e >= s => (e - s).into(),
                        _ => Value::Null,
                    },
                );
            }
            v
        })
        .collect())
}

fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// A bucket width that cuts `span_ms` into at most 48 buckets.
pub fn auto_bucket(span_ms: i64) -> i64 {
    const STEPS: [i64; 8] = [
        60_000,
        300_000,
        900_000,
        3_600_000,
        3 * 3_600_000,
        6 * 3_600_000,
        86_400_000,
        7 * 86_400_000,
    ];
    STEPS
        .iter()
        .copied()
        .find(|b| span_ms / b <= 48)
        .unwrap_or(7 * 86_400_000)
}

/// (name, time, duration, status code) of one span.
type SummaryRow = (Option<String>, i64, Option<i64>, Option<i64>);

/// Aggregates over one device's spans in `[since_ms, until_ms)`: counts,
/// error rate (status code 2), p50/p95 duration, per span name and per
/// time bucket of `bucket_ms`.
pub async fn summary(
    catalog: &Catalog,
    device: &str,
    since_ms: i64,
    until_ms: i64,
    bucket_ms: i64,
) -> HubResult<Value> {
    let d = device.to_owned();
    let rows: Vec<SummaryRow> = catalog
        .read(move |c| {
            let mut st = c.prepare(&format!(
                "SELECT name, {T}, end_ms - start_ms, status_code FROM hub_telemetry
                 WHERE device_id = ?1 AND {T} >= ?2 AND {T} < ?3
                 ORDER BY {T} DESC LIMIT ?4"
            ))?;
            st.query_map(
                rusqlite::params![d, since_ms, until_ms, SUMMARY_SPANS as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?
            .collect()
        })
        .await?;
    let truncated = rows.len() >= SUMMARY_SPANS;
    let is_error = |code: &Option<i64>| *code == Some(2);
    let mut durations: Vec<i64> = Vec::new();
    let mut by_name: std::collections::BTreeMap<String, (u64, u64, Vec<i64>)> = Default::default();
    let n_buckets = ((until_ms - since_ms) / bucket_ms + 1).clamp(1, MAX_BUCKETS) as usize;
    let mut buckets = vec![(0u64, 0u64); n_buckets];
    let mut errors = 0u64;
    for (name, t, dur, code) in &rows {
        let err = is_error(code);
        errors += u64::from(err);
        let dur = dur.filter(|d| *d >= 0);
        if let Some(d) = dur {
            durations.push(d);
        }
        let e = by_name
            .entry(name.clone().unwrap_or_else(|| "(unnamed)".into()))
            .or_default();
        e.0 += 1;
        e.1 += u64::from(err);
        if let Some(d) = dur {
            e.2.push(d);
        }
        let i = (((t - since_ms) / bucket_ms) as usize).min(n_buckets - 1);
        buckets[i].0 += 1;
        buckets[i].1 += u64::from(err);
    }
    durations.sort_unstable();
    let total = rows.len() as u64;
    let rate = |e: u64, n: u64| if n == 0 { 0.0 } else { e as f64 / n as f64 };
    let mut names: Vec<Value> = by_name
        .into_iter()
        .map(|(name, (n, e, mut ds))| {
            ds.sort_unstable();
            serde_json::json!({
                "name": name, "count": n, "errors": e, "error_rate": rate(e, n),
                "p50_ms": percentile(&ds, 50.0), "p95_ms": percentile(&ds, 95.0),
            })
        })
        .collect();
    names.sort_by(|a, b| b["count"].as_u64().cmp(&a["count"].as_u64()));
    Ok(serde_json::json!({
        "since_ms": since_ms,
        "until_ms": until_ms,
        "bucket_ms": bucket_ms,
        "total": total,
        "errors": errors,
        "error_rate": rate(errors, total),
        "p50_ms": percentile(&durations, 50.0),
        "p95_ms": percentile(&durations, 95.0),
        "truncated": truncated,
        "by_name": names,
        "buckets": buckets.iter().enumerate().map(|(i, (n, e))| serde_json::json!({
            "start_ms": since_ms + i as i64 * bucket_ms, "count": n, "errors": e,
        })).collect::<Vec<_>>(),
    }))
}
