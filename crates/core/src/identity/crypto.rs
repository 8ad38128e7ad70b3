//! The identity's key handling: the passphrase stretches (Argon2id, its
//! parameters stored beside the result) into a key that wraps the random
//! master key; everything else is derived from the master key by HKDF with a
//! purpose label, so the recovery phrase alone restores all of it. Sealing is
//! XChaCha20-Poly1305 with random nonces and associated data naming what the
//! ciphertext is for.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

pub type Key = Zeroizing<[u8; 32]>;

const NONCE_LEN: usize = 24;

/// Argon2id parameters, stored with the wrapped key so they can grow later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
    pub salt_hex: String,
}

impl KdfParams {
    /// 64 MiB, 3 passes: about a third of a second here, once per unlock.
    pub fn fresh() -> Self {
        Self {
            m_kib: 64 * 1024,
            t: 3,
            p: 1,
            salt_hex: hex::encode(random_bytes::<16>()),
        }
    }

    /// `derive` on the blocking pool: Argon2id takes a third of a second
    /// and must not hold up the async runtime.
    pub async fn derive_blocking(self, passphrase: Zeroizing<String>) -> Result<Key, String> {
        tokio::task::spawn_blocking(move || self.derive(&passphrase))
            .await
            .map_err(|e| e.to_string())?
    }

    pub fn derive(&self, passphrase: &str) -> Result<Key, String> {
        let salt = hex::decode(&self.salt_hex).map_err(|e| e.to_string())?;
        let params =
            Params::new(self.m_kib, self.t, self.p, Some(32)).map_err(|e| e.to_string())?;
        let mut out = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), &salt, out.as_mut())
            .map_err(|e| e.to_string())?;
        Ok(out)
    }
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the OS random source failed");
    b
}

pub fn random_key() -> Key {
    Zeroizing::new(random_bytes::<32>())
}

/// A subkey of `root` for one purpose.
pub fn derive(root: &[u8; 32], purpose: &str) -> Key {
    let mut out = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, root)
        .expand(purpose.as_bytes(), out.as_mut())
        .expect("32 bytes is a valid HKDF output length");
    out
}

/// nonce ‖ ciphertext of `plain`, bound to `aad`.
pub fn seal(key: &[u8; 32], plain: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce = random_bytes::<NONCE_LEN>();
    let ct = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
        .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory input");
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

/// Inverse of [`seal`]; None if the key, the data or the aad is wrong.
pub fn open(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    XChaCha20Poly1305::new(key.into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .ok()
        .map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_aad_binding() {
        let k = random_key();
        let sealed = seal(&k, b"secret", b"ctx-a");
        assert_eq!(open(&k, &sealed, b"ctx-a").unwrap().as_slice(), b"secret");
        assert!(open(&k, &sealed, b"ctx-b").is_none());
        assert!(open(&random_key(), &sealed, b"ctx-a").is_none());
        assert!(open(&k, &sealed[..10], b"ctx-a").is_none());
    }

    #[test]
    fn kdf_is_deterministic_per_salt() {
        let p = KdfParams {
            m_kib: 1024,
            t: 1,
            p: 1,
            salt_hex: "00112233445566778899aabbccddeeff".into(),
        };
        assert_eq!(*p.derive("pw").unwrap(), *p.derive("pw").unwrap());
        assert_ne!(*p.derive("pw").unwrap(), *p.derive("pw2").unwrap());
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let root = [9u8; 32];
        assert_ne!(*derive(&root, "a"), *derive(&root, "b"));
        assert_eq!(*derive(&root, "a"), *derive(&root, "a"));
    }
}
