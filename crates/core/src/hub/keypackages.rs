//! The MLS KeyPackage pool (§5): agents publish, founders claim one per
//! device, single use. The hub reads only the fixed prefix of a package to
//! check that its signature key is the device's enrolled identity key and
//! its credential names the device, so a stolen token cannot slip another
//! key into the device's groups.

use rusqlite::params;

use super::{HubError, HubResult};
use crate::catalog::Catalog;
use crate::time::now_ms;

/// Unconsumed packages kept per device; older ones are evicted.
pub const POOL: i64 = 10;
/// How long a package may be served.
pub const TTL_MS: i64 = 14 * 86_400_000;
/// Largest package accepted.
pub const MAX_BYTES: usize = 16 * 1024;

/// (signature key, credential identity) from the package's fixed prefix:
/// MLSMessage v1 / mls_key_package / KeyPackage v1 / suite 1, then
/// init_key, encryption_key and signature_key (32 bytes each), a basic
/// credential and its identity.
pub fn identity_of(kp: &[u8]) -> Option<([u8; 32], String)> {
    if kp.len() < 110 || kp[0..8] != [0, 1, 0, 5, 0, 1, 0, 1] {
        return None;
    }
    for off in [8, 41, 74] {
        if kp[off] != 0x20 {
            return None;
        }
    }
    let sig: [u8; 32] = kp[75..107].try_into().ok()?;
    if kp[107..109] != [0, 1] {
        return None;
    }
    let len = kp[109] as usize;
    if len >= 0x40 {
        // A longer identity would need a two-byte varint: not a device id.
        return None;
    }
    let ident = kp.get(110..110 + len)?;
    Some((sig, String::from_utf8(ident.to_vec()).ok()?))
}

/// Store a published package after the §5.1 checks; evict the oldest
/// beyond the pool size. Returns the package's id.
pub async fn publish(
    catalog: &Catalog,
    device: &str,
    identity_key: &[u8; 32],
    kp: Vec<u8>,
) -> HubResult<i64> {
    if kp.len() > MAX_BYTES {
        return Err(HubError::BadRequest("key_package too large".into()));
    }
    let (sig, ident) = identity_of(&kp).ok_or_else(|| {
        HubError::BadRequest("key_package is not an MLS KeyPackage of cipher suite 1".into())
    })?;
    if &sig != identity_key {
        return Err(HubError::BadRequest(
            "key_package signature key is not this device's identity key".into(),
        ));
    }
    if ident != device {
        return Err(HubError::BadRequest(
            "key_package credential does not name this device".into(),
        ));
    }
    let device = device.to_owned();
    Ok(catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let now = now_ms();
            tx.execute(
                "INSERT INTO hub_key_packages (device_id, body, created_ms, expires_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![device, kp, now, now + TTL_MS],
            )?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "DELETE FROM hub_key_packages WHERE device_id = ?1 AND consumed_ms IS NULL
                 AND id NOT IN (SELECT id FROM hub_key_packages WHERE device_id = ?1
                     AND consumed_ms IS NULL ORDER BY id DESC LIMIT ?2)",
                params![device, POOL],
            )?;
            // Consumed ones are kept a day for diagnosis, then dropped.
            tx.execute(
                "DELETE FROM hub_key_packages WHERE consumed_ms < ?1",
                [now - 86_400_000],
            )?;
            tx.commit()?;
            Ok(id)
        })
        .await?)
}

/// Unconsumed packages still valid `within_s` seconds from now.
pub async fn count(catalog: &Catalog, device: &str, within_s: i64) -> HubResult<i64> {
    let device = device.to_owned();
    let horizon = now_ms() + within_s.max(0).saturating_mul(1000);
    Ok(catalog
        .read(move |conn| {
            conn.query_row(
                "SELECT COUNT(*) FROM hub_key_packages WHERE device_id = ?1
                 AND consumed_ms IS NULL AND expires_ms > ?2",
                params![device, horizon],
                |r| r.get(0),
            )
        })
        .await?)
}

/// Claim the newest valid package of each device (of `tenant`); claimed
/// packages are never served again.
pub async fn claim(
    catalog: &Catalog,
    tenant: &str,
    devices: Vec<String>,
) -> HubResult<Vec<(String, Vec<u8>)>> {
    if devices.len() > 100 {
        return Err(HubError::BadRequest("at most 100 device_ids".into()));
    }
    let tenant = tenant.to_owned();
    Ok(catalog
        .write(move |conn| {
            let tx = conn.transaction()?;
            let now = now_ms();
            let mut out = Vec::new();
            for d in devices {
                let found: Option<(i64, Vec<u8>)> = tx
                    .query_row(
                        "SELECT k.id, k.body FROM hub_key_packages k
                         JOIN hub_devices d ON d.id = k.device_id
                         WHERE k.device_id = ?1 AND d.tenant_id = ?2 AND d.deleted_ms IS NULL
                           AND d.status IN ('ACTIVE', 'APPROVED')
                           AND k.consumed_ms IS NULL AND k.expires_ms > ?3
                         ORDER BY k.id DESC LIMIT 1",
                        params![d, tenant, now],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .ok();
                if let Some((id, body)) = found {
                    tx.execute(
                        "UPDATE hub_key_packages SET consumed_ms = ?2 WHERE id = ?1",
                        params![id, now],
                    )?;
                    out.push((d, body));
                }
            }
            tx.commit()?;
            Ok(out)
        })
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_checked() {
        assert!(identity_of(&[]).is_none());
        let mut kp = vec![0, 1, 0, 5, 0, 1, 0, 1];
        for fill in [1u8, 2, 3] {
            kp.push(0x20);
            kp.extend([fill; 32]);
        }
        kp.extend([0, 1, 36]);
        kp.extend(b"00112233-4455-6677-8899-aabbccddeeff");
        let (sig, id) = identity_of(&kp).unwrap();
        assert_eq!(sig, [3; 32]);
        assert_eq!(id, "00112233-4455-6677-8899-aabbccddeeff");
        kp[7] = 2; // another cipher suite
        assert!(identity_of(&kp).is_none());
    }
}
