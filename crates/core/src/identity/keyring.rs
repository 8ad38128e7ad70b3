//! "Remember on this device": the master key in the OS credential store, so
//! the vault unlocks without the passphrase at the next start. On Linux the
//! Secret Service (GNOME Keyring, KWallet) is preferred because it persists;
//! the kernel keyutils store is the fallback (it forgets at logout or reboot).
//! macOS and Windows use their native stores. Where none answers (servers,
//! CI) every call says so and the daemon asks for the passphrase.
//!
//! The store is chosen once per process by probing it: a read of an absent
//! item (which cannot raise an unlock prompt) for the desktop stores, a
//! write, read and delete for the kernel keyring, which cannot prompt but can
//! refuse writes. Entries are built from the chosen store directly, so the
//! process-wide `keyring_core` default store is left alone.
//!
//! Every store call runs on a short-lived thread outside any tokio context:
//! the Secret Service store drives D-Bus through zbus's own tokio runtime and
//! would panic if blocked on from inside another runtime.
//!
//! The key is kept as base64 text: KWallet only holds UTF-8 secrets.

use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroizing;

const SERVICE: &str = "holdfast";
/// The account the probes use; no key is ever stored under it.
const PROBE_ACCOUNT: &str = "probe";

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// No credential store is usable on this machine/session.
    #[error("no OS keyring is available: {0}")]
    Unavailable(String),
    #[error("keyring error: {0}")]
    Other(String),
}

/// A handle on the credential slot for one data directory. `account`
/// distinguishes several daemons on one machine.
pub struct RememberedKey {
    account: String,
}

struct Backend {
    store: Arc<CredentialStore>,
    name: &'static str,
    /// Build a throwaway entry before each real one (see [`Backend::entry`]).
    warm_up: bool,
}

/// The chosen store, or why there is none.
static BACKEND: OnceLock<Result<Backend, String>> = OnceLock::new();

impl RememberedKey {
    /// Service name "holdfast", the given account. Does not touch the store yet.
    pub fn new(account: &str) -> Self {
        Self {
            account: account.to_owned(),
        }
    }

    /// Store the key (replacing any previous one).
    pub fn store(&self, key: &[u8; 32]) -> Result<(), KeyringError> {
        let encoded = Zeroizing::new(STANDARD.encode(key));
        self.with_entry(|entry| entry.set_secret(encoded.as_bytes()).map_err(failure))
    }

    /// The stored key, `Ok(None)` if nothing is stored.
    pub fn load(&self) -> Result<Option<Zeroizing<[u8; 32]>>, KeyringError> {
        self.with_entry(|entry| match entry.get_secret() {
            Ok(secret) => decode_key(&Zeroizing::new(secret)).map(Some),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(failure(e)),
        })
    }

    /// Remove any stored key; `Ok(())` if there was none.
    pub fn forget(&self) -> Result<(), KeyringError> {
        self.with_entry(|entry| match entry.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(failure(e)),
        })
    }

    /// Which store is in use ("secret-service", "keyutils", "macos-keychain",
    /// "windows-credential-manager"), or None if none is usable. The first
    /// call probes the stores and may block for a few seconds.
    pub fn backend() -> Option<&'static str> {
        backend().ok().map(|b| b.name)
    }

    /// Run `op` on this slot's entry, built on the thread that uses it.
    fn with_entry<T: Send>(
        &self,
        op: impl FnOnce(&Entry) -> Result<T, KeyringError> + Send,
    ) -> Result<T, KeyringError> {
        let backend = backend()?;
        off_runtime(|| op(&backend.entry(&self.account).map_err(failure)?))
    }
}

impl Backend {
    /// The entry of `account`. Call it on the thread that will use it.
    ///
    /// keyutils: building an entry looks up the calling thread's session
    /// keyring without creating one, then links the persistent keyring into
    /// the session keyring, which does create one. On a thread that started
    /// without a session keyring (a daemon outside a login session) the
    /// first entry is therefore bound to the user-session keyring, which the
    /// thread no longer possesses, and every call on it fails with "access
    /// denied". A throwaway build first gives the thread its session keyring.
    fn entry(&self, account: &str) -> keyring_core::Result<Entry> {
        if self.warm_up {
            drop(self.store.build(SERVICE, PROBE_ACCOUNT, None)?);
        }
        self.store.build(SERVICE, account, None)
    }
}

fn backend() -> Result<&'static Backend, KeyringError> {
    BACKEND
        .get_or_init(|| {
            let chosen = off_runtime(|| Ok(choose())).unwrap_or_else(|e| Err(e.to_string()));
            if let Err(why) = &chosen {
                tracing::info!("no OS keyring ({why}); the passphrase is needed at each start");
            }
            chosen
        })
        .as_ref()
        .map_err(|why| KeyringError::Unavailable(why.clone()))
}

/// Run `f` on a fresh thread, away from any tokio runtime.
fn off_runtime<T: Send>(
    f: impl FnOnce() -> Result<T, KeyringError> + Send,
) -> Result<T, KeyringError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("holdfast-keyring".into())
            .spawn_scoped(scope, f)
            .map_err(|e| KeyringError::Other(format!("cannot start a keyring thread: {e}")))?
            .join()
            .map_err(|_| KeyringError::Other("the keyring call failed unexpectedly".into()))?
    })
}

/// Whether the store answers: reading an account that is never written
/// must give "no entry". Reading a missing item never prompts to unlock.
fn read_probe(backend: &Backend) -> Result<(), String> {
    let entry = backend.entry(PROBE_ACCOUNT).map_err(|e| e.to_string())?;
    match entry.get_secret() {
        Ok(secret) => {
            drop(Zeroizing::new(secret));
            Ok(())
        }
        Err(keyring_core::Error::NoEntry) => Ok(()),
        Err(e) => Err(failure(e).to_string()),
    }
}

/// Whether the store keeps what it is given. Only for stores that cannot
/// prompt: reading a missing item may succeed where writing fails.
#[cfg(target_os = "linux")]
fn write_probe(backend: &Backend) -> Result<(), String> {
    const PROBE: &[u8] = b"probe";
    let entry = backend.entry(PROBE_ACCOUNT).map_err(|e| e.to_string())?;
    entry
        .set_secret(PROBE)
        .map_err(|e| failure(e).to_string())?;
    let back = entry.get_secret().map_err(|e| failure(e).to_string());
    entry
        .delete_credential()
        .map_err(|e| failure(e).to_string())?;
    if back? != PROBE {
        return Err("the store gave back another secret than it was given".into());
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn choose() -> Result<Backend, String> {
    let why_not_ss = match linux::secret_service() {
        Ok(backend) => return Ok(backend),
        Err(e) => e,
    };
    let keyutils = linux_keyutils_keyring_store::Store::new()
        .map_err(|e| e.to_string())
        .and_then(|store| {
            let backend = Backend {
                store,
                name: "keyutils",
                warm_up: true,
            };
            write_probe(&backend).map(|()| backend)
        });
    match keyutils {
        Ok(backend) => {
            tracing::info!(
                "no Secret Service ({why_not_ss}); remembered keys use the kernel keyring, \
                 which forgets them at logout or reboot"
            );
            Ok(backend)
        }
        Err(e) => Err(format!("Secret Service: {why_not_ss}; kernel keyring: {e}")),
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::sync::mpsc::{self, RecvTimeoutError};
    use std::time::Duration;

    use super::{Backend, read_probe};

    /// How long the Secret Service may take to answer (D-Bus may have to
    /// start it). Past this the kernel keyring is used instead.
    const ANSWER_WITHIN: Duration = Duration::from_secs(5);

    /// Connect to the Secret Service and probe it, within `ANSWER_WITHIN`.
    /// A probe that hangs is left behind on its own thread.
    pub(super) fn secret_service() -> Result<Backend, String> {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
            && std::env::var_os("XDG_RUNTIME_DIR").is_none()
        {
            return Err("no D-Bus session".into());
        }
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("holdfast-keyring-probe".into())
            .spawn(move || {
                let answer = zbus_secret_service_keyring_store::Store::new()
                    .map_err(|e| e.to_string())
                    .and_then(|store| {
                        let backend = Backend {
                            store,
                            name: "secret-service",
                            warm_up: false,
                        };
                        read_probe(&backend).map(|()| backend)
                    });
                let _ = tx.send(answer);
            })
            .map_err(|e| format!("cannot start a probe thread: {e}"))?;
        match rx.recv_timeout(ANSWER_WITHIN) {
            Ok(answer) => answer,
            Err(RecvTimeoutError::Timeout) => {
                Err(format!("no answer within {} s", ANSWER_WITHIN.as_secs()))
            }
            Err(RecvTimeoutError::Disconnected) => Err("the probe failed unexpectedly".into()),
        }
    }
}

#[cfg(target_os = "macos")]
fn choose() -> Result<Backend, String> {
    let backend = Backend {
        store: apple_native_keyring_store::keychain::Store::new().map_err(|e| e.to_string())?,
        name: "macos-keychain",
        warm_up: false,
    };
    read_probe(&backend)?;
    Ok(backend)
}

#[cfg(windows)]
fn choose() -> Result<Backend, String> {
    let backend = Backend {
        store: windows_native_keyring_store::Store::new().map_err(|e| e.to_string())?,
        name: "windows-credential-manager",
        warm_up: false,
    };
    read_probe(&backend)?;
    Ok(backend)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn choose() -> Result<Backend, String> {
    Err("no credential store is supported on this platform".into())
}

/// A store error as ours. Errors that carry the stored bytes have them wiped
/// and are described without them.
fn failure(e: keyring_core::Error) -> KeyringError {
    match e {
        keyring_core::Error::BadEncoding(raw) | keyring_core::Error::BadDataFormat(raw, _) => {
            drop(Zeroizing::new(raw));
            KeyringError::Other("the stored secret is malformed".into())
        }
        other => KeyringError::Other(other.to_string()),
    }
}

/// The key from its stored base64 text.
fn decode_key(stored: &[u8]) -> Result<Zeroizing<[u8; 32]>, KeyringError> {
    let malformed = || KeyringError::Other("the stored key is malformed".into());
    // Room for the decoder's length estimate (33 for 44 characters).
    let mut buf = Zeroizing::new([0u8; 48]);
    let len = STANDARD
        .decode_slice(stored, buf.as_mut_slice())
        .map_err(|_| malformed())?;
    let bytes = buf.get(..len).ok_or_else(malformed)?;
    let key: [u8; 32] = bytes.try_into().map_err(|_| malformed())?;
    Ok(Zeroizing::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::crypto::random_bytes;

    fn unique_slot(name: &str) -> RememberedKey {
        RememberedKey::new(&format!("test-{name}-{}", hex::encode(random_bytes::<8>())))
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn round_trip_or_honest_unavailability() {
        let slot = unique_slot("roundtrip");
        let key = random_bytes::<32>();
        if RememberedKey::backend().is_none() {
            assert!(matches!(
                slot.store(&key),
                Err(KeyringError::Unavailable(_))
            ));
            assert!(matches!(slot.load(), Err(KeyringError::Unavailable(_))));
            assert!(matches!(slot.forget(), Err(KeyringError::Unavailable(_))));
            return;
        }
        slot.store(&key).unwrap();
        assert_eq!(*slot.load().unwrap().unwrap(), key);
        let other = random_bytes::<32>();
        slot.store(&other).unwrap();
        assert_eq!(*slot.load().unwrap().unwrap(), other);
        slot.forget().unwrap();
        assert!(slot.load().unwrap().is_none());
        slot.forget().unwrap();
    }

    #[test]
    fn never_used_account_holds_nothing() {
        if RememberedKey::backend().is_none() {
            return;
        }
        let slot = unique_slot("unused");
        assert!(slot.load().unwrap().is_none());
        slot.forget().unwrap();
    }

    #[test]
    fn stored_text_decodes_only_to_32_bytes() {
        let key = random_bytes::<32>();
        let text = STANDARD.encode(key);
        assert_eq!(*decode_key(text.as_bytes()).unwrap(), key);
        for bad in [
            STANDARD.encode([7u8; 31]),
            STANDARD.encode([7u8; 33]),
            STANDARD.encode([7u8; 40]),
            "not base64!".to_owned(),
            String::new(),
        ] {
            assert!(matches!(
                decode_key(bad.as_bytes()),
                Err(KeyringError::Other(_))
            ));
        }
    }

    #[test]
    fn calls_from_inside_a_runtime_do_not_panic() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let slot = unique_slot("in-runtime");
        let loaded = rt.block_on(async { slot.load() });
        assert!(matches!(
            loaded,
            Ok(None) | Err(KeyringError::Unavailable(_))
        ));
    }
}
