//! Password-protected vaults: a second lock on one vault, on top of the
//! identity's. The vault key is sealed under an Argon2id key from the
//! vault's password, and that under the identity's vault-wrapping key, so
//! neither the password nor the identity alone opens it. Unlocked keys live
//! in memory for the session; locking the vault or the identity drops them.

use super::{Vault, VaultError, Vaults, to_key, unwrap_material, wrap_key};
use crate::identity::crypto::{self, KdfParams};

const AD_PASSWORD: &str = "holdfast/vault-password/v1";

fn password_ad(id: &str) -> Vec<u8> {
    format!("{AD_PASSWORD}\0{id}").into_bytes()
}

fn validate_password(p: &str) -> Result<(), VaultError> {
    if p.chars().count() < 8 || p.len() > 1024 {
        return Err(VaultError::Invalid(
            "a vault password must be 8 to 1024 characters".into(),
        ));
    }
    Ok(())
}

async fn derive(kdf: KdfParams, password: &str) -> Result<crypto::Key, VaultError> {
    kdf.derive_blocking(zeroize::Zeroizing::new(password.to_owned()))
        .await
        .map_err(|e| VaultError::Corrupt(format!("vault password parameters: {e}")))
}

impl Vaults {
    /// Lock a vault. Its first lock needs a password, which becomes the
    /// vault's password.
    pub async fn lock(&self, id: &str, password: Option<&str>) -> Result<Vault, VaultError> {
        let v = self.get(id).await?;
        if !v.password_protected {
            let password = password.ok_or_else(|| {
                VaultError::Invalid("this vault has no password yet: send one to set it".into())
            })?;
            self.set_password(id, Some(password)).await?;
        }
        self.unlocked_keys().remove(id);
        self.get(id).await
    }

    /// Set, change or (with `None`) remove a vault's password. The vault
    /// must be open: a locked one first needs its current password.
    pub async fn set_password(&self, id: &str, password: Option<&str>) -> Result<(), VaultError> {
        if let Some(p) = password {
            validate_password(p)?;
        }
        let key = self.plain_key(id).await?;
        let wrap = self.identity.vault_wrap_key()?;
        let (material, kdf_json) = match password {
            Some(p) => {
                let kdf = KdfParams::fresh();
                let json = serde_json::to_string(&kdf).expect("params serialise");
                let pw_key = derive(kdf, p).await?;
                (
                    crypto::seal(&pw_key, key.as_ref(), &password_ad(id)),
                    Some(json),
                )
            }
            None => (key.to_vec(), None),
        };
        let wrapped = wrap_key(&wrap, id, &material);
        let vid = id.to_owned();
        self.catalog
            .write(move |c| {
                c.execute(
                    "UPDATE vaults SET wrapped_key = ?2, password_kdf = ?3 WHERE id = ?1",
                    rusqlite::params![vid, wrapped, kdf_json],
                )
            })
            .await?;
        let mut unlocked = self.unlocked_keys();
        match password {
            Some(_) => unlocked.insert(id.to_owned(), key),
            None => unlocked.remove(id),
        };
        Ok(())
    }

    /// Try `password` against every locked password vault; answers the ids
    /// it opened. None opening (while some are locked) is `WrongPassword`.
    pub async fn unlock(&self, password: &str) -> Result<Vec<String>, VaultError> {
        let wrap = self.identity.vault_wrap_key()?;
        let rows: Vec<(String, Vec<u8>, String)> = self
            .catalog
            .read(|c| {
                let mut s = c.prepare(
                    "SELECT id, wrapped_key, password_kdf FROM vaults
                     WHERE password_kdf IS NOT NULL ORDER BY name",
                )?;
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .await?;
        let locked: Vec<_> = {
            let unlocked = self.unlocked_keys();
            rows.into_iter()
                .filter(|(id, ..)| !unlocked.contains_key(id))
                .collect()
        };
        if locked.is_empty() {
            return Ok(Vec::new());
        }
        let mut opened = Vec::new();
        for (id, wrapped, kdf) in locked {
            let kdf: KdfParams = serde_json::from_str(&kdf)
                .map_err(|_| VaultError::Corrupt("vault password parameters".into()))?;
            let material = unwrap_material(&wrap, &id, &wrapped)?;
            let pw_key = derive(kdf, password).await?;
            if let Some(key) = crypto::open(&pw_key, &material, &password_ad(&id)) {
                self.unlocked_keys().insert(id.clone(), to_key(&key)?);
                opened.push(id);
            }
        }
        if opened.is_empty() {
            return Err(VaultError::WrongPassword);
        }
        Ok(opened)
    }
}

impl Vaults {
    /// Whether a password vault's key is open in this session.
    pub fn password_unlocked(&self, id: &str) -> bool {
        self.unlocked_keys().contains_key(id)
    }
}
