//! "Remember on this device": the master key in the OS credential store, so
//! the vault unlocks without the passphrase at the next start. On Linux the
//! Secret Service (GNOME Keyring, KWallet) is preferred because it persists;
//! the kernel keyutils store is the fallback (it lasts until logout or
//! reboot). macOS and Windows use their native stores. Where none answers
//! (servers, CI) every call says so and the daemon asks for the passphrase.
//!
//! Store calls are blocking and some stores run their own async runtime, so
//! each call runs on a short-lived thread outside any tokio context.

use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroizing;

const SERVICE: &str = "holdfast";

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// No credential store is usable on this machine/session.
    #[error("no OS keyring is available: {0}")]
    Unavailable(String),
    #[error("keyring error: {0}")]
    Other(String),
}

/// The credential slot of one data directory.
pub struct RememberedKey {
    account: String,
}

struct Backend {
    store: Arc<CredentialStore>,
    name: &'static str,
}

static BACKEND: OnceLock<Result<Backend, String>> = OnceLock::new();

/// Run `f` on a fresh thread, away from any tokio runtime.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("keyring thread panicked"))
}

fn backend() -> Result<&'static Backend, KeyringError> {
    BACKEND
        .get_or_init(|| off_runtime(choose))
        .as_ref()
        .map_err(|e| KeyringError::Unavailable(e.clone()))
}

/// A store works if a probe secret can be written, read back and removed
/// (some sandboxes let a keyring be read but not written).
fn answers(store: &Arc<CredentialStore>) -> Result<(), String> {
    let entry = store
        .build(SERVICE, "probe", None)
        .map_err(|e| e.to_string())?;
    entry.set_secret(b"probe").map_err(|e| e.to_string())?;
    let back = entry.get_secret().map_err(|e| e.to_string())?;
    let _ = entry.delete_credential();
    if back != b"probe" {
        return Err("the store returned another secret than written".into());
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn choose() -> Result<Backend, String> {
    let secret_service = zbus_secret_service_keyring_store::Store::new()
        .map_err(|e| e.to_string())
        .and_then(|s| {
            let s: Arc<CredentialStore> = s;
            answers(&s).map(|()| s)
        });
    let why_not_ss = match secret_service {
        Ok(store) => {
            return Ok(Backend {
                store,
                name: "secret-service",
            });
        }
        Err(e) => e,
    };
    let keyutils = linux_keyutils_keyring_store::Store::new()
        .map_err(|e| e.to_string())
        .and_then(|s| {
            let s: Arc<CredentialStore> = s;
            answers(&s).map(|()| s)
        });
    match keyutils {
        Ok(store) => {
            tracing::info!(
                "no Secret Service ({why_not_ss}); remembered keys use the kernel keyring and last until logout"
            );
            Ok(Backend {
                store,
                name: "keyutils",
            })
        }
        Err(e) => Err(format!("Secret Service: {why_not_ss}; keyutils: {e}")),
    }
}

#[cfg(target_os = "macos")]
fn choose() -> Result<Backend, String> {
    let store: Arc<CredentialStore> =
        apple_native_keyring_store::keychain::Store::new().map_err(|e| e.to_string())?;
    Ok(Backend {
        store,
        name: "macos-keychain",
    })
}

#[cfg(windows)]
fn choose() -> Result<Backend, String> {
    let store: Arc<CredentialStore> =
        windows_native_keyring_store::Store::new().map_err(|e| e.to_string())?;
    Ok(Backend {
        store,
        name: "windows-credential-manager",
    })
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn choose() -> Result<Backend, String> {
    Err("no credential store on this platform".into())
}

impl RememberedKey {
    pub fn new(account: &str) -> Self {
        Self {
            account: account.to_owned(),
        }
    }

    fn entry(&self) -> Result<Entry, KeyringError> {
        backend()?
            .store
            .build(SERVICE, &self.account, None)
            .map_err(|e| KeyringError::Other(e.to_string()))
    }

    /// Store the key, replacing any previous one.
    pub fn store(&self, key: &[u8; 32]) -> Result<(), KeyringError> {
        let encoded = Zeroizing::new(STANDARD.encode(key));
        off_runtime(|| {
            self.entry()?
                .set_secret(encoded.as_bytes())
                .map_err(|e| KeyringError::Other(e.to_string()))
        })
    }

    /// The stored key; `Ok(None)` if nothing is stored.
    pub fn load(&self) -> Result<Option<Zeroizing<[u8; 32]>>, KeyringError> {
        off_runtime(|| match self.entry()?.get_secret() {
            Ok(secret) => {
                let secret = Zeroizing::new(secret);
                let bytes = Zeroizing::new(
                    STANDARD
                        .decode(secret.as_slice())
                        .map_err(|_| KeyringError::Other("stored key is not base64".into()))?,
                );
                let key: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| KeyringError::Other("stored key has the wrong length".into()))?;
                Ok(Some(Zeroizing::new(key)))
            }
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(KeyringError::Other(e.to_string())),
        })
    }

    /// Remove any stored key.
    pub fn forget(&self) -> Result<(), KeyringError> {
        off_runtime(|| match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(KeyringError::Other(e.to_string())),
        })
    }

    /// The store in use, or None where none is usable.
    pub fn backend() -> Option<&'static str> {
        backend().ok().map(|b| b.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unique(name: &str) -> RememberedKey {
        RememberedKey::new(&format!(
            "test-{name}-{}",
            hex::encode(super::super::crypto::random_bytes::<8>())
        ))
    }

    #[test]
    fn round_trip_or_honest_unavailability() {
        let slot = unique("roundtrip");
        let key = super::super::crypto::random_bytes::<32>();
        if RememberedKey::backend().is_none() {
            assert!(matches!(
                slot.store(&key),
                Err(KeyringError::Unavailable(_))
            ));
            assert!(matches!(slot.load(), Err(KeyringError::Unavailable(_))));
            return;
        }
        assert!(slot.load().unwrap().is_none());
        slot.store(&key).unwrap();
        assert_eq!(*slot.load().unwrap().unwrap(), key);
        slot.forget().unwrap();
        assert!(slot.load().unwrap().is_none());
        slot.forget().unwrap();
    }
}
