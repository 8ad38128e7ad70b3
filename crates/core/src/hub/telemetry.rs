//! Telemetry ingest (§9.1): spans an agent reports about itself, stored as
//! given (bounded) and deduplicated on (trace_id, span_id) so a batch re-sent
//! after a lost answer is not counted twice. Queries come in part 2.

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
                    "INSERT OR IGNORE INTO hub_telemetry (trace_id, span_id, tenant_id, device_id,
                         body, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![trace, span, tenant, device, body, now_ms()],
                )?;
            }
            tx.commit()?;
            Ok(n)
        })
        .await?)
}
