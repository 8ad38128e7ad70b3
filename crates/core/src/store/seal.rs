//! Sealing chunks under a vault key: AES-256-GCM-SIV (chosen by measurement
//! on this machine's AES-NI, see `benches/block_pipeline.rs`; and misuse-
//! resistant, which a derived nonce wants). The nonce is a keyed BLAKE3 of
//! the plaintext, so equal chunks seal equally within a vault and dedup,
//! while another vault (another key) seals them differently. The block id is
//! the BLAKE3 of the sealed bytes.
//!
//! Sealed format: `0x01` ‖ nonce (12) ‖ ciphertext+tag.

use aes_gcm_siv::aead::{Aead, AeadInPlace, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use zeroize::Zeroizing;

use super::blocks::BlockId;
use crate::identity::crypto;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const AAD: &[u8] = b"holdfast/block/v1";

/// A vault's chunk keys, derived from its vault key.
pub struct ChunkKeys {
    cipher: Aes256GcmSiv,
    nonce_key: Zeroizing<[u8; 32]>,
}

impl ChunkKeys {
    pub fn new(vault_key: &[u8; 32]) -> Self {
        let enc = crypto::derive(vault_key, "holdfast/vault/chunk-encryption/v1");
        let nonce_key = crypto::derive(vault_key, "holdfast/vault/chunk-nonce/v1");
        Self {
            cipher: Aes256GcmSiv::new(enc.as_ref().into()),
            nonce_key,
        }
    }

    /// Seal a chunk: its block id and sealed bytes.
    pub fn seal(&self, plain: &[u8]) -> (BlockId, Vec<u8>) {
        let mac = blake3::keyed_hash(&self.nonce_key, plain);
        let nonce = &mac.as_bytes()[..NONCE_LEN];
        // One buffer, encrypted in place: no second copy of the chunk.
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + plain.len() + 16);
        sealed.push(VERSION);
        sealed.extend_from_slice(nonce);
        sealed.extend_from_slice(plain);
        let tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(nonce), AAD, &mut sealed[1 + NONCE_LEN..])
            .expect("AES-GCM-SIV encryption of an in-memory chunk cannot fail");
        sealed.extend_from_slice(&tag);
        (BlockId::of(&sealed), sealed)
    }

    /// Open sealed bytes; None if they are not ours or were altered.
    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return None;
        }
        let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: AAD })
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_chunks_seal_equally_within_a_vault_only() {
        let a = ChunkKeys::new(&[1; 32]);
        let b = ChunkKeys::new(&[2; 32]);
        let (id1, s1) = a.seal(b"same bytes");
        let (id2, s2) = a.seal(b"same bytes");
        assert_eq!((id1, &s1), (id2, &s2));
        let (id3, _) = b.seal(b"same bytes");
        assert_ne!(id1, id3);
        assert_ne!(a.seal(b"other bytes").0, id1);
        assert!(!s1.windows(10).any(|w| w == b"same bytes"));
    }

    #[test]
    fn open_checks_key_and_integrity() {
        let a = ChunkKeys::new(&[1; 32]);
        let (_, mut sealed) = a.seal(b"hello");
        assert_eq!(a.open(&sealed).unwrap(), b"hello");
        assert!(ChunkKeys::new(&[2; 32]).open(&sealed).is_none());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(a.open(&sealed).is_none());
        assert!(a.open(&[]).is_none());
        assert!(a.open(&[9; 40]).is_none());
    }
}
