//! The MLS client of a hub device: the owner's own device inside the daemon
//! (and the end-to-end tests' agent) use it to publish KeyPackages, found
//! groups, join from Welcomes, and encrypt and decrypt application messages.
//!
//! It wraps `mls-rs` with the RustCrypto provider on ciphersuite 1
//! (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519), basic credentials whose
//! identity is the device's UUID string, and the device's Ed25519 identity
//! key as the MLS signature key (device protocol §2.1, §5). Group state lives
//! in an [`MlsStateStore`] the caller provides (the owner's store seals it in
//! the catalog), so a new [`MlsClient`] over the same store after a restart
//! keeps working in its groups. KeyPackage private keys stay in memory, as
//! the protocol expects (§5.1: the pool is republished at every start).
//!
//! [`key_package_identity`] reads the fixed prefix of a KeyPackage (§5) for
//! the hub server's publish check, without going through `mls-rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use mls_rs::client_builder::{
    BaseConfig, WithCryptoProvider, WithGroupStateStorage, WithIdentityProvider,
};
use mls_rs::crypto::{SignaturePublicKey, SignatureSecretKey};
use mls_rs::error::IntoAnyError;
use mls_rs::group::{CommitOutput, ReceivedMessage};
use mls_rs::identity::basic::{BasicCredential, BasicIdentityProvider};
use mls_rs::identity::{Credential, SigningIdentity};
use mls_rs::{
    CipherSuite, Client, ExtensionList, Group, GroupStateStorage, MlsMessage, WireFormat,
};
use mls_rs_crypto_rustcrypto::RustCryptoProvider;
use zeroize::Zeroizing;

/// Opaque persisted MLS state blobs (one per group: its state and the few
/// prior epochs kept for late messages). Keys are ASCII strings starting
/// with `mls/group/`.
pub trait MlsStateStore: Send + Sync + 'static {
    fn load(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>>;
    fn save(&self, key: &str, value: &[u8]) -> anyhow::Result<()>;
    fn delete(&self, key: &str) -> anyhow::Result<()>;
}

/// An [`MlsStateStore`] in memory, for tests and for clients that need no
/// persistence.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryStore {
    /// The keys currently held (sorted), for tests.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = lock(&self.entries).keys().cloned().collect();
        keys.sort();
        keys
    }
}

impl MlsStateStore for MemoryStore {
    fn load(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(lock(&self.entries).get(key).cloned())
    }
    fn save(&self, key: &str, value: &[u8]) -> anyhow::Result<()> {
        lock(&self.entries).insert(key.to_owned(), value.to_vec());
        Ok(())
    }
    fn delete(&self, key: &str) -> anyhow::Result<()> {
        lock(&self.entries).remove(key);
        Ok(())
    }
}

/// Errors of the MLS wrapper. Messages never carry key material.
#[derive(Debug, thiserror::Error)]
pub enum MlsError {
    /// Input that is not what the protocol allows (bad bytes, wrong wire
    /// format, wrong suite, lengths).
    #[error("malformed MLS input: {0}")]
    Malformed(String),
    /// No local state for this group.
    #[error("unknown MLS group {0}")]
    UnknownGroup(String),
    /// A group with this id already has local state.
    #[error("MLS group {0} already exists")]
    GroupExists(String),
    /// An argument the caller passed is invalid.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// mls-rs refused the operation (bad signature, wrong epoch, unknown
    /// KeyPackage, decryption failure, ...).
    #[error("MLS operation failed: {0}")]
    Protocol(String),
    /// The state store failed.
    #[error("MLS state store failed: {0}")]
    Storage(String),
}

impl From<mls_rs::error::MlsError> for MlsError {
    fn from(e: mls_rs::error::MlsError) -> Self {
        MlsError::Protocol(e.to_string())
    }
}

/// What an inbound MLS message turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A decrypted application message. `sender` is the sender's credential
    /// identity (its device UUID); `epoch` the group's epoch after processing.
    Application {
        plaintext: Vec<u8>,
        sender: String,
        epoch: u64,
    },
    /// A commit was applied; `epoch` is the new epoch.
    Commit { epoch: u64 },
    /// Anything else (proposals, ...): accepted, nothing to show.
    Other,
}

/// The output of [`MlsClient::found_group`].
#[derive(Debug, Clone)]
pub struct Founded {
    /// MLSMessage bytes of the epoch-1 commit (for `mls_commit`).
    pub commit: Vec<u8>,
    /// MLSMessage bytes of the Welcome for all added members (for `mls_welcome`).
    pub welcome: Vec<u8>,
    /// The epoch the commit produced (1).
    pub epoch: u64,
}

/// The output of [`MlsClient::add_members`].
#[derive(Debug, Clone)]
pub struct Added {
    /// MLSMessage bytes of the commit.
    pub commit: Vec<u8>,
    /// MLSMessage bytes of the Welcome for the added members.
    pub welcome: Vec<u8>,
    /// The epoch the commit produced.
    pub epoch: u64,
}

const SUITE: CipherSuite = CipherSuite::CURVE25519_AES128;
/// Prior epochs kept per group, so messages sent just before a commit still decrypt.
const EPOCH_RETENTION: usize = 3;
const KEY_PREFIX: &str = "mls/group/";

type Config = WithIdentityProvider<
    BasicIdentityProvider,
    WithCryptoProvider<RustCryptoProvider, WithGroupStateStorage<StoreAdapter, BaseConfig>>,
>;

/// One device's MLS client. Cheap to clone; clones share KeyPackages and a
/// lock that serialises operations (each loads the group from the store,
/// works, and writes it back, all in a few milliseconds). Keep one client
/// per device per process and clone it: two separate clients over one
/// store do not share that lock, and each holds only its own KeyPackages.
/// KeyPackages last a year (mls-rs's default lifetime).
#[derive(Clone)]
pub struct MlsClient {
    inner: Arc<Inner>,
}

struct Inner {
    device_id: String,
    client: Client<Config>,
    store: Arc<dyn MlsStateStore>,
    op: Mutex<()>,
}

impl std::fmt::Debug for MlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlsClient")
            .field("device_id", &self.inner.device_id)
            .finish_non_exhaustive()
    }
}

impl MlsClient {
    /// `device_id` = the canonical lowercase UUID string (the basic
    /// credential identity, UTF-8, 36 bytes); `signing_seed` = the device's
    /// Ed25519 identity seed (also its MLS signature key, §2.1).
    pub fn new(
        device_id: &str,
        signing_seed: &[u8; 32],
        store: Arc<dyn MlsStateStore>,
    ) -> Result<Self, MlsError> {
        if !is_uuid(device_id) {
            return Err(MlsError::InvalidArgument(
                "device id must be a canonical UUID string".into(),
            ));
        }
        let signing = ed25519_dalek::SigningKey::from_bytes(signing_seed);
        let public = signing.verifying_key().to_bytes();
        let secret = SignatureSecretKey::new(signing.to_keypair_bytes().to_vec());
        let identity = SigningIdentity::new(
            BasicCredential::new(device_id.as_bytes().to_vec()).into_credential(),
            SignaturePublicKey::new(public.to_vec()),
        );
        let client = Client::builder()
            .group_state_storage(StoreAdapter {
                store: store.clone(),
            })
            .crypto_provider(RustCryptoProvider::with_enabled_cipher_suites(vec![SUITE]))
            .identity_provider(BasicIdentityProvider::new())
            .signing_identity(identity, secret, SUITE)
            .build();
        Ok(MlsClient {
            inner: Arc::new(Inner {
                device_id: device_id.to_owned(),
                client,
                store,
                op: Mutex::new(()),
            }),
        })
    }

    /// This client's device id (its credential identity).
    pub fn device_id(&self) -> &str {
        &self.inner.device_id
    }

    /// A fresh MLSMessage-wrapped KeyPackage (bytes); its private keys stay
    /// in this client's memory (shared by its clones) until a Welcome uses it.
    pub fn key_package(&self) -> Result<Vec<u8>, MlsError> {
        let _op = lock(&self.inner.op);
        let message = self.inner.client.generate_key_package_message(
            ExtensionList::default(),
            ExtensionList::default(),
            None,
        )?;
        Ok(message.to_bytes()?)
    }

    /// Found group `group_id` (the hub's group UUID; the MLS group id is its
    /// 36 UTF-8 bytes, §7.1) and add the members of `key_packages`: returns
    /// the commit (epoch 1) and the Welcome. The founder's state is written
    /// to the store only once both are built and the commit is applied
    /// locally; if the hub then refuses the commit, call
    /// [`MlsClient::delete_group`] before founding again.
    pub fn found_group(
        &self,
        group_id: &str,
        key_packages: &[Vec<u8>],
    ) -> Result<Founded, MlsError> {
        if !is_uuid(group_id) {
            return Err(MlsError::InvalidArgument(
                "group id must be a canonical UUID string".into(),
            ));
        }
        if key_packages.is_empty() {
            return Err(MlsError::InvalidArgument("no KeyPackages to add".into()));
        }
        let _op = lock(&self.inner.op);
        let mls_id = group_id.as_bytes().to_vec();
        if self
            .inner
            .store
            .load(&state_key(&mls_id))
            .map_err(storage)?
            .is_some()
        {
            return Err(MlsError::GroupExists(group_id.to_owned()));
        }
        let mut group = self.inner.client.create_group_with_id(
            mls_id,
            ExtensionList::default(),
            ExtensionList::default(),
            None,
        )?;
        let added = commit_adds(&mut group, key_packages)?;
        Ok(Founded {
            commit: added.commit,
            welcome: added.welcome,
            epoch: added.epoch,
        })
    }

    /// Add members to an existing group from their KeyPackages: returns the
    /// commit and the Welcome. The local state moves to the new epoch at
    /// once (the hub's refusal must be handled by rejoining).
    pub fn add_members(&self, group_id: &str, key_packages: &[Vec<u8>]) -> Result<Added, MlsError> {
        if key_packages.is_empty() {
            return Err(MlsError::InvalidArgument("no KeyPackages to add".into()));
        }
        let _op = lock(&self.inner.op);
        let mut group = self.load(group_id)?;
        commit_adds(&mut group, key_packages)
    }

    /// Re-admit a member that lost its state (§7.4): one commit removes its
    /// current leaves (same credential identity as the KeyPackage) and adds
    /// it from the fresh KeyPackage. Returns the commit and its Welcome.
    pub fn readmit(&self, group_id: &str, key_package: &[u8]) -> Result<Added, MlsError> {
        let (_, identity) = key_package_identity(key_package)?;
        let message = decode_message(key_package)?;
        if message.wire_format() != WireFormat::KeyPackage {
            return Err(MlsError::Malformed("not a KeyPackage".into()));
        }
        let _op = lock(&self.inner.op);
        let mut group = self.load(group_id)?;
        let stale: Vec<u32> = group
            .roster()
            .members_iter()
            .filter(|m| credential_identity(&m.signing_identity.credential) == identity)
            .map(|m| m.index)
            .collect();
        let mut builder = group.commit_builder();
        for index in stale {
            builder = builder.remove_member(index)?;
        }
        let output = builder.add_member(message)?.build()?;
        finish_commit(&mut group, output)
    }

    /// Remove the members whose credential identity is one of `device_ids`
    /// (all their leaves) in one commit: its bytes and the epoch it produced.
    pub fn remove_members(
        &self,
        group_id: &str,
        device_ids: &[String],
    ) -> Result<(Vec<u8>, u64), MlsError> {
        let _op = lock(&self.inner.op);
        let mut group = self.load(group_id)?;
        let gone: Vec<u32> = group
            .roster()
            .members_iter()
            .filter(|m| device_ids.contains(&credential_identity(&m.signing_identity.credential)))
            .map(|m| m.index)
            .collect();
        if gone.is_empty() {
            return Err(MlsError::InvalidArgument("no such member".into()));
        }
        let mut builder = group.commit_builder();
        for index in gone {
            builder = builder.remove_member(index)?;
        }
        let output = builder.build()?;
        let commit = output.commit_message.to_bytes()?;
        group.apply_pending_commit()?;
        group.write_to_storage()?;
        Ok((commit, group.current_epoch()))
    }

    /// Join from a Welcome (MLSMessage bytes); returns the group id string
    /// derived per §7.1 (36 bytes as is, 16 as a UUID, else hex) and the
    /// epoch. An earlier local state for the same group is replaced.
    pub fn join(&self, welcome: &[u8]) -> Result<(String, u64), MlsError> {
        let message = decode_message(welcome)?;
        if message.wire_format() != WireFormat::Welcome {
            return Err(MlsError::Malformed("not a Welcome".into()));
        }
        let _op = lock(&self.inner.op);
        let (mut group, _info) = self.inner.client.join_group(None, &message, None)?;
        group.write_to_storage()?;
        Ok((group_id_string(group.group_id()), group.current_epoch()))
    }

    /// Encrypt an application message in `group_id`; returns the
    /// MLSMessage bytes and the epoch it was sent in.
    pub fn encrypt(&self, group_id: &str, plaintext: &[u8]) -> Result<(Vec<u8>, u64), MlsError> {
        let _op = lock(&self.inner.op);
        let mut group = self.load(group_id)?;
        let message = group.encrypt_application_message(plaintext, Vec::new())?;
        group.write_to_storage()?;
        Ok((message.to_bytes()?, group.current_epoch()))
    }

    /// Process an inbound MLS message (application or commit) for the group.
    pub fn process(&self, group_id: &str, message: &[u8]) -> Result<Received, MlsError> {
        let message = decode_message(message)?;
        match message.wire_format() {
            WireFormat::PublicMessage | WireFormat::PrivateMessage => {}
            _ => return Err(MlsError::Malformed("not a group message".into())),
        }
        let _op = lock(&self.inner.op);
        let mut group = self.load(group_id)?;
        if message.group_id().is_some_and(|id| id != group.group_id()) {
            return Err(MlsError::Malformed("message is for another group".into()));
        }
        let received = group.process_incoming_message(message)?;
        group.write_to_storage()?;
        let epoch = group.current_epoch();
        Ok(match received {
            ReceivedMessage::ApplicationMessage(app) => {
                let sender = group
                    .member_at_index(app.sender_index)
                    .map(|m| credential_identity(&m.signing_identity.credential))
                    .unwrap_or_default();
                Received::Application {
                    plaintext: app.data().to_vec(),
                    sender,
                    epoch,
                }
            }
            ReceivedMessage::Commit(_) => Received::Commit { epoch },
            _ => Received::Other,
        })
    }

    /// The group's current local epoch, or `None` without local state.
    pub fn epoch(&self, group_id: &str) -> Result<Option<u64>, MlsError> {
        let _op = lock(&self.inner.op);
        match self.load(group_id) {
            Ok(group) => Ok(Some(group.current_epoch())),
            Err(MlsError::UnknownGroup(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The credential identities (device ids) of the group's members.
    pub fn members(&self, group_id: &str) -> Result<Vec<String>, MlsError> {
        let _op = lock(&self.inner.op);
        let group = self.load(group_id)?;
        Ok(group
            .roster()
            .members_iter()
            .map(|m| credential_identity(&m.signing_identity.credential))
            .collect())
    }

    /// Forget the local state of a group (after a refused founding commit,
    /// or before rejoining). A no-op for an unknown group.
    pub fn delete_group(&self, group_id: &str) -> Result<(), MlsError> {
        let _op = lock(&self.inner.op);
        for id in candidate_ids(group_id) {
            self.inner.store.delete(&state_key(&id)).map_err(storage)?;
        }
        Ok(())
    }

    /// Load a group by its §7.1 string: the string's own bytes (36-byte UUID
    /// ids), else the 16 bytes of a UUID, else hex.
    fn load(&self, group_id: &str) -> Result<Group<Config>, MlsError> {
        for id in candidate_ids(group_id) {
            if self
                .inner
                .store
                .load(&state_key(&id))
                .map_err(storage)?
                .is_some()
            {
                return Ok(self.inner.client.load_group(&id)?);
            }
        }
        Err(MlsError::UnknownGroup(group_id.to_owned()))
    }
}

fn commit_adds(group: &mut Group<Config>, key_packages: &[Vec<u8>]) -> Result<Added, MlsError> {
    let mut builder = group.commit_builder();
    for kp in key_packages {
        let message = decode_message(kp)?;
        if message.wire_format() != WireFormat::KeyPackage {
            return Err(MlsError::Malformed("not a KeyPackage".into()));
        }
        builder = builder.add_member(message)?;
    }
    let output = builder.build()?;
    finish_commit(group, output)
}

/// Apply a built commit locally and persist; its commit and Welcome bytes.
fn finish_commit(group: &mut Group<Config>, output: CommitOutput) -> Result<Added, MlsError> {
    let welcome = output
        .welcome_messages
        .first()
        .ok_or_else(|| MlsError::Protocol("commit produced no Welcome".into()))?
        .to_bytes()?;
    let commit = output.commit_message.to_bytes()?;
    group.apply_pending_commit()?;
    group.write_to_storage()?;
    Ok(Added {
        commit,
        welcome,
        epoch: group.current_epoch(),
    })
}

fn decode_message(bytes: &[u8]) -> Result<MlsMessage, MlsError> {
    MlsMessage::from_bytes(bytes).map_err(|e| MlsError::Malformed(e.to_string()))
}

fn credential_identity(credential: &Credential) -> String {
    match credential {
        Credential::Basic(basic) => String::from_utf8_lossy(basic.identifier()).into_owned(),
        _ => String::new(),
    }
}

fn storage(e: anyhow::Error) -> MlsError {
    MlsError::Storage(format!("{e:#}"))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn state_key(mls_group_id: &[u8]) -> String {
    format!("{KEY_PREFIX}{}", hex::encode(mls_group_id))
}

/// The MLS group ids a §7.1 group id string may stand for, most likely first.
fn candidate_ids(group_id: &str) -> Vec<Vec<u8>> {
    let mut ids = vec![group_id.as_bytes().to_vec()];
    if is_uuid(group_id) {
        if let Ok(raw) = hex::decode(group_id.replace('-', "")) {
            ids.push(raw);
        }
    } else if let Ok(raw) = hex::decode(group_id) {
        ids.push(raw);
    }
    ids
}

/// A UUID in canonical hyphenated form (8-4-4-4-12 hex digits, any case).
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The group id string the device protocol derives from an MLS group id
/// (§7.1): 36 bytes are a UUID string used as is, 16 bytes a binary UUID
/// written canonically, any other length lowercase hex.
pub fn group_id_string(mls_group_id: &[u8]) -> String {
    match mls_group_id.len() {
        36 => match std::str::from_utf8(mls_group_id) {
            Ok(s) => s.to_owned(),
            Err(_) => hex::encode(mls_group_id),
        },
        16 => {
            let h = hex::encode(mls_group_id);
            format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            )
        }
        _ => hex::encode(mls_group_id),
    }
}

/// Read the fixed prefix of a (hex-decoded) MLSMessage-wrapped KeyPackage
/// (§5 table): the leaf's 32-byte Ed25519 signature key and its basic
/// credential identity (a 36-byte UUID string). Anything else (wrong
/// version, wire format, suite, credential type or lengths, a non-UUID
/// identity) is an error. The hub server uses it for the §5.1 check; it
/// reads only the prefix and does not verify the package's signature.
pub fn key_package_identity(kp: &[u8]) -> Result<([u8; 32], String), MlsError> {
    fn bad(what: &str) -> MlsError {
        MlsError::Malformed(format!("KeyPackage: {what}"))
    }
    const PREFIX: usize = 109 + 1 + 36;
    if kp.len() < PREFIX {
        return Err(bad("too short"));
    }
    let u16_at = |at: usize| u16::from_be_bytes([kp[at], kp[at + 1]]);
    if u16_at(0) != 1 {
        return Err(bad("protocol version is not MLS 1.0"));
    }
    if u16_at(2) != 5 {
        return Err(bad("wire format is not mls_key_package"));
    }
    if u16_at(4) != 1 {
        return Err(bad("KeyPackage version is not MLS 1.0"));
    }
    if u16_at(6) != 1 {
        return Err(bad("cipher suite is not 1"));
    }
    for (at, what) in [
        (8, "init_key"),
        (41, "encryption_key"),
        (74, "signature_key"),
    ] {
        if kp[at] != 0x20 {
            return Err(bad(&format!("{what} is not 32 bytes")));
        }
    }
    if u16_at(107) != 1 {
        return Err(bad("credential is not basic"));
    }
    if kp[109] != 0x24 {
        return Err(bad("identity is not 36 bytes"));
    }
    let identity = std::str::from_utf8(&kp[110..146]).map_err(|_| bad("identity is not UTF-8"))?;
    if !is_uuid(identity) {
        return Err(bad("identity is not a UUID"));
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&kp[75..107]);
    Ok((key, identity.to_owned()))
}

/// mls-rs group state storage over an [`MlsStateStore`]: one blob per group
/// holding the state and the retained prior epochs, written in one `save`.
#[derive(Clone)]
struct StoreAdapter {
    store: Arc<dyn MlsStateStore>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct StoreError(String);

impl IntoAnyError for StoreError {
    fn into_dyn_error(self) -> Result<Box<dyn std::error::Error + Send + Sync>, Self> {
        Ok(Box::new(self))
    }
}

/// The decoded group blob: state, then (epoch id, data) records ascending.
struct GroupBlob {
    state: Vec<u8>,
    epochs: Vec<(u64, Vec<u8>)>,
}

const BLOB_VERSION: u8 = 1;

impl GroupBlob {
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(
            self.state.len() + self.epochs.iter().map(|e| e.1.len() + 12).sum::<usize>() + 9,
        ));
        out.push(BLOB_VERSION);
        out.extend_from_slice(&(self.state.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.state);
        out.extend_from_slice(&(self.epochs.len() as u32).to_be_bytes());
        for (id, data) in &self.epochs {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let mut r = Reader(bytes);
        if r.take(1)? != [BLOB_VERSION] {
            return Err(StoreError("unknown MLS group blob version".into()));
        }
        let len = r.u32()? as usize;
        let state = r.take(len)?.to_vec();
        let count = r.u32()? as usize;
        let mut epochs = Vec::new();
        for _ in 0..count {
            let id = u64::from_be_bytes(r.take(8)?.try_into().expect("8 bytes"));
            let len = r.u32()? as usize;
            epochs.push((id, r.take(len)?.to_vec()));
        }
        if !r.0.is_empty() {
            return Err(StoreError("trailing bytes in MLS group blob".into()));
        }
        Ok(GroupBlob { state, epochs })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.0.len() < n {
            return Err(StoreError("truncated MLS group blob".into()));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn u32(&mut self) -> Result<u32, StoreError> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
}

impl StoreAdapter {
    fn blob(&self, group_id: &[u8]) -> Result<Option<GroupBlob>, StoreError> {
        let raw = self
            .store
            .load(&state_key(group_id))
            .map_err(|e| StoreError(format!("{e:#}")))?;
        match raw {
            Some(raw) => {
                let raw = Zeroizing::new(raw);
                GroupBlob::decode(&raw).map(Some)
            }
            None => Ok(None),
        }
    }
}

impl GroupStateStorage for StoreAdapter {
    type Error = StoreError;

    fn state(&self, group_id: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, Self::Error> {
        Ok(self.blob(group_id)?.map(|b| Zeroizing::new(b.state)))
    }

    fn epoch(
        &self,
        group_id: &[u8],
        epoch_id: u64,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, Self::Error> {
        Ok(self.blob(group_id)?.and_then(|b| {
            b.epochs
                .into_iter()
                .find(|(id, _)| *id == epoch_id)
                .map(|(_, data)| Zeroizing::new(data))
        }))
    }

    fn write(
        &mut self,
        state: mls_rs_core::group::GroupState,
        epoch_inserts: Vec<mls_rs_core::group::EpochRecord>,
        epoch_updates: Vec<mls_rs_core::group::EpochRecord>,
    ) -> Result<(), Self::Error> {
        let mut epochs = self.blob(&state.id)?.map(|b| b.epochs).unwrap_or_default();
        for update in epoch_updates {
            if let Some(slot) = epochs.iter_mut().find(|(id, _)| *id == update.id) {
                slot.1 = update.data.to_vec();
            }
        }
        for insert in epoch_inserts {
            epochs.retain(|(id, _)| *id != insert.id);
            epochs.push((insert.id, insert.data.to_vec()));
        }
        epochs.sort_by_key(|(id, _)| *id);
        if epochs.len() > EPOCH_RETENTION {
            epochs.drain(..epochs.len() - EPOCH_RETENTION);
        }
        let blob = GroupBlob {
            state: state.data.to_vec(),
            epochs,
        }
        .encode();
        self.store
            .save(&state_key(&state.id), &blob)
            .map_err(|e| StoreError(format!("{e:#}")))
    }

    fn max_epoch_id(&self, group_id: &[u8]) -> Result<Option<u64>, Self::Error> {
        Ok(self
            .blob(group_id)?
            .and_then(|b| b.epochs.last().map(|(id, _)| *id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "0a0b0c0d-0000-4000-8000-000000000001";
    const AGENT: &str = "00112233-4455-6677-8899-aabbccddeeff";
    const GROUP: &str = "5e1f3c2a-7b8d-4e9f-a012-3456789abcde";

    fn client(id: &str, seed: u8, store: &Arc<MemoryStore>) -> MlsClient {
        let store: Arc<dyn MlsStateStore> = store.clone();
        MlsClient::new(id, &[seed; 32], store).unwrap()
    }

    fn application(r: Received) -> (Vec<u8>, String, u64) {
        match r {
            Received::Application {
                plaintext,
                sender,
                epoch,
            } => (plaintext, sender, epoch),
            other => panic!("expected an application message, got {other:?}"),
        }
    }

    #[test]
    fn found_join_exchange_and_restart() {
        let owner_store = Arc::new(MemoryStore::default());
        let agent_store = Arc::new(MemoryStore::default());
        let owner = client(OWNER, 7, &owner_store);
        let agent = client(AGENT, 1, &agent_store);

        let kp = agent.key_package().unwrap();
        assert_eq!(owner.epoch(GROUP).unwrap(), None);
        let founded = owner.found_group(GROUP, &[kp]).unwrap();
        assert_eq!(founded.epoch, 1);
        assert_eq!(owner.epoch(GROUP).unwrap(), Some(1));
        // The commit names the group by its 36-byte UUID string (§7.1).
        let commit = MlsMessage::from_bytes(&founded.commit).unwrap();
        assert_eq!(commit.group_id(), Some(GROUP.as_bytes()));
        assert!(matches!(
            owner.found_group(GROUP, &[agent.key_package().unwrap()]),
            Err(MlsError::GroupExists(_))
        ));

        let (group_id, epoch) = agent.join(&founded.welcome).unwrap();
        assert_eq!(group_id, GROUP);
        assert_eq!(epoch, 1);
        let mut members = agent.members(GROUP).unwrap();
        members.sort();
        assert_eq!(members, vec![AGENT.to_owned(), OWNER.to_owned()]);

        // Owner → agent and agent → owner.
        let (ct, e) = owner.encrypt(GROUP, b"hello agent").unwrap();
        assert_eq!(e, 1);
        let (pt, sender, e) = application(agent.process(GROUP, &ct).unwrap());
        assert_eq!(
            (pt.as_slice(), sender.as_str(), e),
            (&b"hello agent"[..], OWNER, 1)
        );
        let (ct, _) = agent.encrypt(GROUP, "hi owner ✓".as_bytes()).unwrap();
        let (pt, sender, _) = application(owner.process(GROUP, &ct).unwrap());
        assert_eq!(
            (pt.as_slice(), sender.as_str()),
            ("hi owner ✓".as_bytes(), AGENT)
        );
        // A ciphertext cannot be decrypted twice.
        assert!(owner.process(GROUP, &ct).is_err());

        // The owner restarts: a new client over the same store keeps going.
        drop(owner);
        assert_eq!(owner_store.keys(), vec![state_key(GROUP.as_bytes())]);
        let owner = client(OWNER, 7, &owner_store);
        assert_eq!(owner.epoch(GROUP).unwrap(), Some(1));
        let (ct, _) = agent.encrypt(GROUP, b"after restart").unwrap();
        let (pt, sender, _) = application(owner.process(GROUP, &ct).unwrap());
        assert_eq!(
            (pt.as_slice(), sender.as_str()),
            (&b"after restart"[..], AGENT)
        );
        let (ct, _) = owner.encrypt(GROUP, b"still here").unwrap();
        let (pt, _, _) = application(agent.process(GROUP, &ct).unwrap());
        assert_eq!(pt, b"still here");

        // A third device is added: the agent applies the commit, the newcomer joins.
        let third_store = Arc::new(MemoryStore::default());
        let third_id = "99999999-8888-4777-8666-555555555555";
        let third = client(third_id, 9, &third_store);
        let (late, _) = owner.encrypt(GROUP, b"sent before the commit").unwrap();
        let added = owner
            .add_members(GROUP, &[third.key_package().unwrap()])
            .unwrap();
        assert_eq!(added.epoch, 2);
        assert_eq!(
            agent.process(GROUP, &added.commit).unwrap(),
            Received::Commit { epoch: 2 }
        );
        // A message from the previous epoch still decrypts after the commit.
        let (pt, _, e) = application(agent.process(GROUP, &late).unwrap());
        assert_eq!((pt.as_slice(), e), (&b"sent before the commit"[..], 2));
        assert_eq!(third.join(&added.welcome).unwrap(), (GROUP.to_owned(), 2));
        let (ct, e) = third.encrypt(GROUP, b"three").unwrap();
        assert_eq!(e, 2);
        assert_eq!(application(agent.process(GROUP, &ct).unwrap()).1, third_id);
        assert_eq!(application(owner.process(GROUP, &ct).unwrap()).0, b"three");

        // Forgetting the group removes its state.
        owner.delete_group(GROUP).unwrap();
        assert_eq!(owner.epoch(GROUP).unwrap(), None);
        assert!(owner_store.keys().is_empty());
        assert!(matches!(
            owner.encrypt(GROUP, b"x"),
            Err(MlsError::UnknownGroup(_))
        ));
    }

    #[test]
    fn key_package_prefix_matches_the_spec() {
        let store = Arc::new(MemoryStore::default());
        let agent = client(AGENT, 1, &store);
        let kp = agent.key_package().unwrap();
        // §2.5: the public key of the all-0x01 seed.
        let expected =
            hex::decode("8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c")
                .unwrap();
        let (key, identity) = key_package_identity(&kp).unwrap();
        assert_eq!(key.as_slice(), expected.as_slice());
        assert_eq!(identity, AGENT);
        // The §5 offsets, byte by byte.
        assert_eq!(&kp[0..8], &[0, 1, 0, 5, 0, 1, 0, 1]);
        assert_eq!((kp[8], kp[41], kp[74]), (0x20, 0x20, 0x20));
        assert_eq!(&kp[75..107], expected.as_slice());
        assert_eq!(&kp[107..110], &[0, 1, 0x24]);
        assert_eq!(&kp[110..146], AGENT.as_bytes());
        // Two packages share the signature key but not the HPKE keys.
        let kp2 = agent.key_package().unwrap();
        assert_eq!(&kp2[75..107], expected.as_slice());
        assert_ne!(&kp2[9..41], &kp[9..41]);

        // Each field checked.
        for (at, value) in [
            (1, 2),
            (3, 1),
            (5, 2),
            (7, 3),
            (8, 0x21),
            (41, 0x1f),
            (74, 0),
            (108, 2),
            (109, 0x23),
            (110, b'x'),
        ] {
            let mut bad = kp.clone();
            bad[at] = value;
            assert!(key_package_identity(&bad).is_err(), "byte {at} = {value}");
        }
        for len in [0, 1, 8, 74, 107, 145] {
            assert!(key_package_identity(&kp[..len]).is_err(), "length {len}");
        }
    }

    #[test]
    fn hostile_input_is_an_error() {
        let store = Arc::new(MemoryStore::default());
        let owner = client(OWNER, 7, &store);
        let agent = client(AGENT, 1, &Arc::new(MemoryStore::default()));
        let garbage: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![0, 1, 0, 5],
            vec![0xff; 200],
            b"not mls at all".to_vec(),
        ];
        for g in &garbage {
            assert!(key_package_identity(g).is_err());
            assert!(owner.join(g).is_err());
            assert!(owner.process(GROUP, g).is_err());
            assert!(owner.found_group(GROUP, std::slice::from_ref(g)).is_err());
        }
        assert_eq!(
            owner.epoch(GROUP).unwrap(),
            None,
            "a failed founding leaves no state"
        );
        // A KeyPackage is not a Welcome, a Welcome is not a group message.
        let kp = agent.key_package().unwrap();
        assert!(owner.join(&kp).is_err());
        let founded = owner.found_group(GROUP, std::slice::from_ref(&kp)).unwrap();
        assert!(owner.process(GROUP, &founded.welcome).is_err());
        // Truncations of real messages fail cleanly.
        for cut in [1, 10, founded.welcome.len() / 2, founded.welcome.len() - 1] {
            assert!(agent.join(&founded.welcome[..cut]).is_err());
        }
        let (ct, _) = owner.encrypt(GROUP, b"x").unwrap();
        assert!(agent.join(&founded.welcome).is_ok());
        for cut in [1, ct.len() / 2, ct.len() - 1] {
            assert!(agent.process(GROUP, &ct[..cut]).is_err());
        }
        let mut flipped = ct.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(agent.process(GROUP, &flipped).is_err());
        assert!(MlsClient::new("not-a-uuid", &[1; 32], store.clone()).is_err());
        assert!(owner.found_group("not-a-uuid", &[kp]).is_err());
        // Corrupt state blobs are errors, not panics.
        store
            .save(&state_key(GROUP.as_bytes()), &[1, 0, 0])
            .unwrap();
        assert!(owner.encrypt(GROUP, b"x").is_err());
    }

    /// Every single-byte corruption (and truncation) of real KeyPackages,
    /// Welcomes, commits and ciphertexts is handled without a panic.
    #[test]
    fn corrupted_messages_never_panic() {
        let owner = client(OWNER, 7, &Arc::new(MemoryStore::default()));
        let agent_store = Arc::new(MemoryStore::default());
        let agent = client(AGENT, 1, &agent_store);
        let kp = agent.key_package().unwrap();
        let founded = owner
            .found_group(GROUP, &[agent.key_package().unwrap()])
            .unwrap();
        let (ct, _) = owner.encrypt(GROUP, b"payload").unwrap();
        let third = client(
            "99999999-8888-4777-8666-555555555555",
            9,
            &Arc::new(MemoryStore::default()),
        );
        let added = owner
            .add_members(GROUP, &[third.key_package().unwrap()])
            .unwrap();
        agent.join(&founded.welcome).unwrap();
        let snapshot = agent_store
            .load(&state_key(GROUP.as_bytes()))
            .unwrap()
            .unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for bytes in [&kp, &founded.welcome, &added.commit, &ct] {
            for i in 0..200 {
                let mut bad = bytes.clone();
                let at = (next() as usize) % bad.len();
                bad[at] ^= (next() as u8) | 1;
                if i % 4 == 0 {
                    bad.truncate((next() as usize) % bad.len());
                }
                let _ = key_package_identity(&bad);
                let _ = owner.found_group("6e1f3c2a-7b8d-4e9f-a012-3456789abcde", &[bad.clone()]);
                let _ = owner.delete_group("6e1f3c2a-7b8d-4e9f-a012-3456789abcde");
                let _ = third.join(&bad);
                let _ = agent.process(GROUP, &bad);
                // Undo anything a corrupted message could have applied.
                agent_store
                    .save(&state_key(GROUP.as_bytes()), &snapshot)
                    .unwrap();
            }
        }
        // The untouched messages still work afterwards.
        assert_eq!(
            agent.process(GROUP, &added.commit).unwrap(),
            Received::Commit { epoch: 2 }
        );
    }

    #[test]
    fn client_is_shareable_across_tasks() {
        fn shareable<T: Send + Sync + Clone + 'static>() {}
        shareable::<MlsClient>();
    }

    #[test]
    fn group_id_strings() {
        assert_eq!(group_id_string(GROUP.as_bytes()), GROUP);
        let raw = hex::decode("00112233445566778899aabbccddeeff").unwrap();
        assert_eq!(group_id_string(&raw), AGENT);
        assert_eq!(group_id_string(&[0xab, 0x01]), "ab01");
        assert_eq!(group_id_string(&[0xff; 36]), "ff".repeat(36));
    }
}
