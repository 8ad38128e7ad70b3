//! Device JWTs (§1.2): HS256 under a secret made on first start and kept in
//! the catalog. Long-lived (180 days, well above the clients' 30-day renewal
//! window); issuing a new one never revokes the old. A device's standing is
//! checked on every use against its row, so revocation needs no token list.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{HubError, HubResult};
use crate::catalog::Catalog;
use crate::identity::crypto::random_bytes;

/// How long a device JWT lives.
pub const LIFETIME_S: i64 = 180 * 86_400;
/// How long after expiry `/auth/reissue` still renews a token.
pub const REISSUE_GRACE_S: i64 = 30 * 86_400;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The device id.
    pub sub: String,
    /// The tenant id.
    pub tid: String,
    pub iat: i64,
    pub exp: i64,
    /// Always "device": owner bearers are not JWTs.
    pub typ: String,
    /// Random: two tokens issued in the same second still differ.
    #[serde(default)]
    pub jti: String,
}

pub struct Tokens {
    secret: Zeroizing<Vec<u8>>,
}

impl Tokens {
    pub async fn load(catalog: &Catalog) -> HubResult<Self> {
        let secret = catalog
            .write(|conn| {
                let found: Option<Vec<u8>> = conn
                    .query_row(
                        "SELECT value FROM hub_meta WHERE key = 'jwt_secret'",
                        [],
                        |r| r.get(0),
                    )
                    .ok();
                if let Some(s) = found {
                    return Ok(s);
                }
                let s = random_bytes::<32>().to_vec();
                conn.execute(
                    "INSERT INTO hub_meta (key, value) VALUES ('jwt_secret', ?1)",
                    [&s],
                )?;
                Ok(s)
            })
            .await?;
        Ok(Self {
            secret: Zeroizing::new(secret),
        })
    }

    /// A fresh token for a device.
    pub fn issue(&self, device_id: &str, tenant_id: &str) -> String {
        let now = crate::time::now_ms() / 1000;
        let claims = Claims {
            sub: device_id.to_owned(),
            tid: tenant_id.to_owned(),
            iat: now,
            exp: now + LIFETIME_S,
            typ: "device".into(),
            jti: hex::encode(random_bytes::<12>()),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.secret),
        )
        .expect("HS256 encoding of plain claims cannot fail")
    }

    /// The claims of a correctly signed, unexpired token.
    pub fn verify(&self, token: &str) -> HubResult<Claims> {
        self.decode(token, 0)
    }

    /// Like [`verify`](Self::verify), also accepting a token expired for
    /// less than the reissue grace period.
    pub fn verify_for_reissue(&self, token: &str) -> HubResult<Claims> {
        self.decode(token, REISSUE_GRACE_S as u64)
    }

    fn decode(&self, token: &str, leeway_s: u64) -> HubResult<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = leeway_s;
        v.set_required_spec_claims(&["exp", "sub"]);
        let data =
            jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.secret), &v)
                .map_err(|_| HubError::Unauthorized("Invalid or expired token".into()))?;
        if data.claims.typ != "device" {
            return Err(HubError::Unauthorized("Invalid or expired token".into()));
        }
        Ok(data.claims)
    }
}
