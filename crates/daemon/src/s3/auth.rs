//! SigV4 secrets come from our key store: `s3s` asks for the secret of the
//! access key a request names and checks the signature itself.

use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};

use super::errors;
use crate::state::AppState;

pub struct KeyStoreAuth(pub AppState);

#[async_trait::async_trait]
impl S3Auth for KeyStoreAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.s3.keys.secret(access_key).await {
            Ok(secret) => Ok(SecretKey::from(secret.as_str())),
            Err(holdfast_core::s3::S3Error::NoSuchAccessKey) => Err(s3_error!(InvalidAccessKeyId)),
            Err(e) => Err(errors::store(e)),
        }
    }
}
