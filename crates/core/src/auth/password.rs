//! The web UI password: Argon2id, stored as a PHC string in `settings`.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use super::AuthError;
use crate::catalog::{Catalog, CatalogError};

const SETTING_KEY: &str = "auth.password_phc";

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_BYTES: usize = 1024;

pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "password must be at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "password must be at most {MAX_PASSWORD_BYTES} bytes"
        ));
    }
    Ok(())
}

pub async fn hash(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || {
        let mut salt_bytes = [0u8; 16];
        getrandom::fill(&mut salt_bytes).map_err(|e| AuthError::Hash(e.to_string()))?;
        let salt =
            SaltString::encode_b64(&salt_bytes).map_err(|e| AuthError::Hash(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| AuthError::Hash(e.to_string()))?
}

pub async fn verify(password: String, phc: String) -> Result<bool, AuthError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc).map_err(|e| AuthError::Hash(e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| AuthError::Hash(e.to_string()))?
}

pub async fn load_hash(catalog: &Catalog) -> Result<Option<String>, CatalogError> {
    catalog
        .read(|c| {
            use rusqlite::OptionalExtension;
            c.query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [SETTING_KEY],
                |r| r.get(0),
            )
            .optional()
        })
        .await
}

pub async fn store_hash(catalog: &Catalog, phc: String) -> Result<(), CatalogError> {
    catalog
        .write(move |c| {
            c.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [SETTING_KEY, &phc],
            )
            .map(|_| ())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let phc = hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), phc.clone()).await.unwrap());
        assert!(!verify("wrong horse".into(), phc).await.unwrap());
    }

    #[test]
    fn strength_bounds() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("long enough").is_ok());
        assert!(check_strength(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }
}
