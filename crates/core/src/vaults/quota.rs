//! Hard quotas: what a vault would hold after a write. Uploads check while
//! they stream; a client that says its size up front (`Content-Length`) is
//! refused before a byte is read, with the full `would_be_size`.

use super::{Vault, VaultError, Vaults};

impl Vaults {
    /// Bytes the vault holds apart from the live version of `path` (which a
    /// new upload replaces). Zero without a quota: only a vault with one pays
    /// for the sum.
    pub(crate) async fn quota_base(&self, vault: &Vault, path: &str) -> Result<u64, VaultError> {
        if vault.hard_quota.is_none() {
            return Ok(0);
        }
        let replaced = self.head(&vault.id, path).await.ok().filter(|v| !v.deleted);
        Ok(self.used_bytes(&vault.id).await? - replaced.map_or(0, |v| v.size))
    }

    /// Would an upload of `size` bytes to `path` pass the vault's hard quota?
    /// Checks the vault is writable too, so a refusal comes before the body.
    pub async fn check_upload_fits(
        &self,
        vault_id: &str,
        path: &str,
        size: u64,
    ) -> Result<(), VaultError> {
        let vault = self.writable(vault_id).await?;
        let Some(quota) = vault.hard_quota else {
            return Ok(());
        };
        let would_be_size = self.quota_base(&vault, path).await? + size;
        if would_be_size > quota {
            return Err(VaultError::Quota {
                vault_id: vault.id,
                hard_quota: quota,
                would_be_size,
            });
        }
        Ok(())
    }
}
