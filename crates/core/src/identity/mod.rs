//! The identity vault: the user's master key and Ed25519 agent key, locked
//! behind a passphrase. States: uninitialized → locked ⇄ unlocked.
//!
//! The master key is random; the recovery phrase is its BIP39 encoding, and
//! every other key (agent signing key, backup keys) is derived from it, so
//! the phrase alone restores the identity on a new device. The passphrase
//! only wraps the master key. Locking drops the master and signing keys but
//! keeps the backup root for the rest of the process, as the IPC spec's
//! "backups work while locked (after first unlock in session)" requires.

pub mod agent_key;
pub mod crypto;
pub mod keyring;
mod store;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, Signer, SigningKey};
use tokio::sync::watch;
use zeroize::Zeroizing;

use crate::catalog::{Catalog, CatalogError};
use crate::time::now_ms;
pub use agent_key::{AgentKeyError, AgentPubKey};
use crypto::{KdfParams, Key};
pub use store::Profile;

/// Passphrases shorter than this are refused.
pub const MIN_PASSPHRASE_CHARS: usize = 8;
pub const MAX_PASSPHRASE_BYTES: usize = 1024;
/// Failed unlocks allowed before backoff starts.
const FREE_FAILURES: u32 = 3;
const MAX_BACKOFF: Duration = Duration::from_secs(300);

const AD_MASTER: &[u8] = b"holdfast/master-key/v1";
const PURPOSE_AGENT: &str = "holdfast/agent-key/v1";
const PURPOSE_BACKUPS: &str = "holdfast/backups/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LockState {
    Uninitialized,
    Locked,
    Unlocked,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the identity is not set up yet")]
    Uninitialized,
    #[error("the identity already exists")]
    AlreadyInitialized,
    #[error("the vault is locked")]
    Locked,
    #[error("the vault has not been unlocked since Holdfast started")]
    NeverUnlocked,
    #[error("wrong passphrase")]
    WrongPassphrase { retry_after_ms: u64 },
    #[error("too many failed attempts; try again in {} s", retry_after_ms.div_ceil(1000))]
    Backoff { retry_after_ms: u64 },
    #[error("that recovery phrase is not valid")]
    BadPhrase,
    #[error("that recovery phrase belongs to another identity")]
    WrongPhrase,
    #[error("{0}")]
    WeakPassphrase(String),
    #[error("refusing to sign: the payload has the shape of a link attestation")]
    LinkShapedPayload,
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("key derivation failed: {0}")]
    Kdf(String),
    #[error("stored identity is damaged: {0}")]
    Corrupt(String),
}

/// What `init` hands back once: the phrase is never shown again.
pub struct Created {
    pub agent_pub_key: AgentPubKey,
    pub recovery_phrase: Zeroizing<String>,
}

struct Unlocked {
    master: Key,
    signing: SigningKey,
}

struct State {
    stored: Option<store::Stored>,
    unlocked: Option<Unlocked>,
    /// Survives lock: derived at first unlock, dropped at exit.
    backup_root: Option<Key>,
    last_activity: Instant,
    failures: u32,
    retry_at: Option<Instant>,
}

pub struct Identity {
    catalog: Catalog,
    state: Mutex<State>,
    changes: watch::Sender<LockState>,
    auto_lock_after: Option<Duration>,
}

impl Identity {
    /// Load the stored identity (if any); starts locked.
    pub async fn load(
        catalog: Catalog,
        auto_lock_after: Option<Duration>,
    ) -> Result<Self, IdentityError> {
        let stored = store::load(&catalog).await?;
        let initial = if stored.is_some() {
            LockState::Locked
        } else {
            LockState::Uninitialized
        };
        Ok(Self {
            catalog,
            state: Mutex::new(State {
                stored,
                unlocked: None,
                backup_root: None,
                last_activity: Instant::now(),
                failures: 0,
                retry_at: None,
            }),
            changes: watch::channel(initial).0,
            auto_lock_after,
        })
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn state(&self) -> LockState {
        let s = self.lock_state();
        match (&s.stored, &s.unlocked) {
            (None, _) => LockState::Uninitialized,
            (Some(_), None) => LockState::Locked,
            (Some(_), Some(_)) => LockState::Unlocked,
        }
    }

    /// Changes of [`LockState`], for the approval broker and the shell.
    pub fn subscribe(&self) -> watch::Receiver<LockState> {
        self.changes.subscribe()
    }

    fn publish(&self) {
        self.changes.send_replace(self.state());
    }

    /// The agent key, known (and shown) even while locked.
    pub fn agent_pub_key(&self) -> Option<AgentPubKey> {
        self.lock_state().stored.as_ref().map(|s| s.agent_pub_key)
    }

    /// Create the identity. Errors if one exists.
    pub async fn init(&self, passphrase: &str) -> Result<Created, IdentityError> {
        check_passphrase(passphrase)?;
        if self.lock_state().stored.is_some() {
            return Err(IdentityError::AlreadyInitialized);
        }
        let master = crypto::random_key();
        let phrase = phrase_of(&master);
        let agent_pub_key = self.install(master, passphrase).await?;
        tracing::info!(%agent_pub_key, "identity created");
        Ok(Created {
            agent_pub_key,
            recovery_phrase: phrase,
        })
    }

    /// Restore from the recovery phrase and set a new passphrase. On an
    /// existing identity the phrase must be that identity's.
    pub async fn recover(
        &self,
        phrase: &str,
        new_passphrase: &str,
    ) -> Result<AgentPubKey, IdentityError> {
        check_passphrase(new_passphrase)?;
        let master = master_of_phrase(phrase)?;
        let agent = agent_key_of(&master).1;
        if let Some(existing) = self.agent_pub_key()
            && existing != agent
        {
            return Err(IdentityError::WrongPhrase);
        }
        let key = self.install(master, new_passphrase).await?;
        tracing::info!(agent_pub_key = %key, "identity recovered from its phrase");
        Ok(key)
    }

    /// Wrap `master` under `passphrase`, store it, and unlock with it.
    async fn install(&self, master: Key, passphrase: &str) -> Result<AgentPubKey, IdentityError> {
        let kdf = KdfParams::fresh();
        let wrapping = derive_blocking(kdf.clone(), passphrase.to_owned()).await?;
        let wrapped = crypto::seal(&wrapping, master.as_ref(), AD_MASTER);
        let (signing, agent_pub_key) = agent_key_of(&master);
        let stored = store::Stored {
            kdf,
            wrapped_master: wrapped,
            agent_pub_key,
            created_ms: now_ms(),
        };
        store::save(&self.catalog, &stored).await?;
        {
            let mut s = self.lock_state();
            s.stored = Some(stored);
            s.backup_root = Some(crypto::derive(&master, PURPOSE_BACKUPS));
            s.unlocked = Some(Unlocked { master, signing });
            s.failures = 0;
            s.retry_at = None;
            s.last_activity = Instant::now();
        }
        self.publish();
        Ok(agent_pub_key)
    }

    /// Unlock with the passphrase. Failures back off exponentially after a
    /// few free tries; attempts during a backoff are refused unchecked.
    pub async fn unlock(&self, passphrase: &str) -> Result<(), IdentityError> {
        let stored = {
            let s = self.lock_state();
            if let Some(at) = s.retry_at {
                let now = Instant::now();
                if at > now {
                    return Err(IdentityError::Backoff {
                        retry_after_ms: (at - now).as_millis() as u64,
                    });
                }
            }
            s.stored.clone().ok_or(IdentityError::Uninitialized)?
        };
        if passphrase.len() > MAX_PASSPHRASE_BYTES {
            return Err(self.failed_unlock());
        }
        let master = self.unwrap_master(&stored, passphrase).await?;
        self.unlock_with_master(master)
    }

    /// The master key behind `passphrase`; a wrong one counts as a failure.
    async fn unwrap_master(
        &self,
        stored: &store::Stored,
        passphrase: &str,
    ) -> Result<Key, IdentityError> {
        let wrapping = derive_blocking(stored.kdf.clone(), passphrase.to_owned()).await?;
        let Some(master) = crypto::open(&wrapping, &stored.wrapped_master, AD_MASTER) else {
            return Err(self.failed_unlock());
        };
        let master: [u8; 32] = master
            .as_slice()
            .try_into()
            .map_err(|_| IdentityError::Corrupt("master key length".into()))?;
        Ok(Zeroizing::new(master))
    }

    /// Unlock with the master key itself (from the OS keyring).
    pub fn unlock_with_master(&self, master: Key) -> Result<(), IdentityError> {
        let (signing, agent) = agent_key_of(&master);
        {
            let mut s = self.lock_state();
            let stored = s.stored.as_ref().ok_or(IdentityError::Uninitialized)?;
            if stored.agent_pub_key != agent {
                return Err(IdentityError::Corrupt(
                    "key does not match this identity".into(),
                ));
            }
            s.backup_root = Some(crypto::derive(&master, PURPOSE_BACKUPS));
            s.unlocked = Some(Unlocked { master, signing });
            s.failures = 0;
            s.retry_at = None;
            s.last_activity = Instant::now();
        }
        tracing::info!("identity unlocked");
        self.publish();
        Ok(())
    }

    fn failed_unlock(&self) -> IdentityError {
        let mut s = self.lock_state();
        s.failures += 1;
        let retry_after = backoff_after(s.failures);
        s.retry_at = (!retry_after.is_zero()).then(|| Instant::now() + retry_after);
        tracing::info!(failures = s.failures, "unlock refused: wrong passphrase");
        IdentityError::WrongPassphrase {
            retry_after_ms: retry_after.as_millis() as u64,
        }
    }

    /// Drop the signing and master keys. Backup keys stay for the session.
    pub fn lock(&self) {
        let was = self.lock_state().unlocked.take().is_some();
        if was {
            tracing::info!("identity locked");
            self.publish();
        }
    }

    /// Replace the passphrase (the identity must be unlocked, and the old
    /// passphrase right).
    pub async fn change_passphrase(&self, old: &str, new: &str) -> Result<(), IdentityError> {
        check_passphrase(new)?;
        let stored = self
            .lock_state()
            .stored
            .clone()
            .ok_or(IdentityError::Uninitialized)?;
        let master = self.unwrap_master(&stored, old).await?;
        self.install(master, new).await?;
        tracing::info!("passphrase changed");
        Ok(())
    }

    /// The master key, for "remember on this device". Unlocked only.
    pub fn master_key(&self) -> Result<Key, IdentityError> {
        let s = self.lock_state();
        s.unlocked
            .as_ref()
            .map(|u| u.master.clone())
            .ok_or(IdentityError::Locked)
    }

    /// Note user activity, postponing auto-lock.
    pub fn touch(&self) {
        self.lock_state().last_activity = Instant::now();
    }

    /// Sign `bytes` with the agent key. Refuses link-shaped payloads.
    pub fn sign(&self, bytes: &[u8]) -> Result<(AgentPubKey, Signature), IdentityError> {
        if agent_key::looks_like_link_payload(bytes) {
            return Err(IdentityError::LinkShapedPayload);
        }
        self.sign_unchecked(bytes)
    }

    /// Sign the link attestation for `app_key`: the sorted 78-byte payload.
    pub fn sign_link(
        &self,
        app_key: &AgentPubKey,
    ) -> Result<(AgentPubKey, Signature), IdentityError> {
        let ours = self.agent_pub_key().ok_or(IdentityError::Uninitialized)?;
        self.sign_unchecked(&agent_key::link_payload(&ours, app_key))
    }

    fn sign_unchecked(&self, bytes: &[u8]) -> Result<(AgentPubKey, Signature), IdentityError> {
        let mut s = self.lock_state();
        s.last_activity = Instant::now();
        let agent = s
            .stored
            .as_ref()
            .ok_or(IdentityError::Uninitialized)?
            .agent_pub_key;
        let unlocked = s.unlocked.as_ref().ok_or(IdentityError::Locked)?;
        Ok((agent, unlocked.signing.sign(bytes)))
    }

    /// The key that wraps vault keys. Unlocked only: vault content is not
    /// readable while the identity is locked.
    pub fn vault_wrap_key(&self) -> Result<Key, IdentityError> {
        let s = self.lock_state();
        let unlocked = s.unlocked.as_ref().ok_or(if s.stored.is_none() {
            IdentityError::Uninitialized
        } else {
            IdentityError::Locked
        })?;
        Ok(crypto::derive(&unlocked.master, "holdfast/vaults/wrap/v1"))
    }

    /// A key for one purpose (e.g. sealing S3 secrets), derived from the
    /// master key. Unlocked only, like vault content.
    pub fn purpose_key(&self, purpose: &str) -> Result<Key, IdentityError> {
        let s = self.lock_state();
        let unlocked = s.unlocked.as_ref().ok_or(if s.stored.is_none() {
            IdentityError::Uninitialized
        } else {
            IdentityError::Locked
        })?;
        Ok(crypto::derive(&unlocked.master, purpose))
    }

    /// The backup key of one app. Works while locked after a first unlock.
    pub fn backup_key(&self, client_id: &str) -> Result<Key, IdentityError> {
        let s = self.lock_state();
        if s.stored.is_none() {
            return Err(IdentityError::Uninitialized);
        }
        let root = s.backup_root.as_ref().ok_or(IdentityError::NeverUnlocked)?;
        Ok(crypto::derive(root, &format!("app:{client_id}")))
    }

    pub async fn profile(&self) -> Result<Profile, IdentityError> {
        Ok(store::load_profile(&self.catalog).await?)
    }

    pub async fn set_profile(&self, profile: Profile) -> Result<(), IdentityError> {
        store::save_profile(&self.catalog, profile).await?;
        Ok(())
    }

    /// Lock after the configured idle time, until cancelled.
    pub async fn run_auto_lock(&self, cancel: tokio_util::sync::CancellationToken) {
        let Some(idle) = self.auto_lock_after else {
            return;
        };
        let tick = (idle / 4).clamp(Duration::from_millis(200), Duration::from_secs(15));
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(tick) => {}
            }
            let idle_for = self.lock_state().last_activity.elapsed();
            if idle_for >= idle && self.state() == LockState::Unlocked {
                tracing::info!("auto-lock after {} s idle", idle.as_secs());
                self.lock();
            }
        }
    }
}

fn check_passphrase(p: &str) -> Result<(), IdentityError> {
    if p.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(IdentityError::WeakPassphrase(format!(
            "passphrase must be at least {MIN_PASSPHRASE_CHARS} characters"
        )));
    }
    if p.len() > MAX_PASSPHRASE_BYTES {
        return Err(IdentityError::WeakPassphrase(format!(
            "passphrase must be at most {MAX_PASSPHRASE_BYTES} bytes"
        )));
    }
    Ok(())
}

/// No delay for the first few failures, then 1 s, 2 s, 4 s … up to 5 min.
fn backoff_after(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let exp = (failures - FREE_FAILURES).min(16);
    Duration::from_secs(1u64 << exp).min(MAX_BACKOFF)
}

async fn derive_blocking(kdf: KdfParams, passphrase: String) -> Result<Key, IdentityError> {
    kdf.derive_blocking(Zeroizing::new(passphrase))
        .await
        .map_err(IdentityError::Kdf)
}

fn agent_key_of(master: &[u8; 32]) -> (SigningKey, AgentPubKey) {
    let seed = crypto::derive(master, PURPOSE_AGENT);
    let signing = SigningKey::from_bytes(&seed);
    let public = AgentPubKey::from_bytes(signing.verifying_key().to_bytes());
    (signing, public)
}

/// The 24-word BIP39 phrase encoding the master key.
fn phrase_of(master: &[u8; 32]) -> Zeroizing<String> {
    let m = bip39::Mnemonic::from_entropy(master).expect("32 bytes is valid BIP39 entropy");
    Zeroizing::new(m.to_string())
}

fn master_of_phrase(phrase: &str) -> Result<Key, IdentityError> {
    let normalized = phrase
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let m = bip39::Mnemonic::parse_normalized(&normalized).map_err(|_| IdentityError::BadPhrase)?;
    let entropy = Zeroizing::new(m.to_entropy());
    let master: [u8; 32] = entropy
        .as_slice()
        .try_into()
        .map_err(|_| IdentityError::BadPhrase)?;
    Ok(Zeroizing::new(master))
}

#[cfg(test)]
mod tests;
