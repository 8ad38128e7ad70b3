//! Sealing chunks under a vault key. The nonce is a keyed BLAKE3 of the
//! plaintext (a synthetic IV), so equal chunks seal equally within a vault
//! and dedup, while another vault (another key) seals them differently. The
//! block id is the BLAKE3 of the sealed bytes.
//!
//! Two formats, told apart by their first byte; new blocks are format 2,
//! and format 1 blocks keep opening, so no vault becomes unreadable:
//! - `0x01` ‖ nonce (12) ‖ ciphertext+tag: AES-256-GCM-SIV (RustCrypto).
//! - `0x02` ‖ nonce (12) ‖ ciphertext+tag: AES-256-GCM (`ring`, whose
//!   VAES/VPCLMULQDQ code runs several times faster here; see
//!   `benches/block_pipeline.rs` and ARCHITECTURE.md). Its own key, derived
//!   under another label, so no key serves two modes.
//!
//! GCM needs distinct nonces for distinct plaintexts; a 96-bit PRF output
//! collides with probability about n²/2⁹⁷ for n chunks (2⁻³³ at 2³² chunks).

use aes_gcm_siv::aead::{AeadInPlace, KeyInit};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, UnboundKey};
use zeroize::Zeroizing;

use super::blocks::BlockId;
use crate::identity::crypto;

const SIV: u8 = 1;
const GCM: u8 = 2;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER: usize = 1 + NONCE_LEN;
const AAD_V1: &[u8] = b"holdfast/block/v1";
const AAD_V2: &[u8] = b"holdfast/block/v2";

/// A vault's chunk keys, derived from its vault key.
pub struct ChunkKeys {
    siv: Aes256GcmSiv,
    gcm: LessSafeKey,
    nonce_key: Zeroizing<[u8; 32]>,
}

impl ChunkKeys {
    pub fn new(vault_key: &[u8; 32]) -> Self {
        let siv = crypto::derive(vault_key, "holdfast/vault/chunk-encryption/v1");
        let gcm = crypto::derive(vault_key, "holdfast/vault/chunk-encryption/v2-aes-gcm");
        let nonce_key = crypto::derive(vault_key, "holdfast/vault/chunk-nonce/v1");
        Self {
            siv: Aes256GcmSiv::new(siv.as_ref().into()),
            gcm: LessSafeKey::new(
                UnboundKey::new(&AES_256_GCM, gcm.as_ref()).expect("32-byte AES-256 key"),
            ),
            nonce_key,
        }
    }

    /// Seal a chunk (format 2): its block id and sealed bytes.
    pub fn seal(&self, plain: &[u8]) -> (BlockId, Vec<u8>) {
        let (nonce, mut sealed) = self.frame(GCM, plain);
        let tag = self
            .gcm
            .seal_in_place_separate_tag(
                ring::aead::Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD_V2),
                &mut sealed[HEADER..],
            )
            .expect("AES-GCM encryption of an in-memory chunk cannot fail");
        sealed.extend_from_slice(tag.as_ref());
        (BlockId::of(&sealed), sealed)
    }

    /// Seal a chunk in the old format 1 (AES-256-GCM-SIV): for tests and
    /// the benchmark that compares the two.
    #[doc(hidden)]
    pub fn seal_v1(&self, plain: &[u8]) -> (BlockId, Vec<u8>) {
        let (nonce, mut sealed) = self.frame(SIV, plain);
        let tag = self
            .siv
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), AAD_V1, &mut sealed[HEADER..])
            .expect("AES-GCM-SIV encryption of an in-memory chunk cannot fail");
        sealed.extend_from_slice(&tag);
        (BlockId::of(&sealed), sealed)
    }

    /// One buffer (format byte, synthetic nonce, plaintext to encrypt in
    /// place, room for the tag): no second copy of the chunk.
    fn frame(&self, format: u8, plain: &[u8]) -> ([u8; NONCE_LEN], Vec<u8>) {
        let mac = blake3::keyed_hash(&self.nonce_key, plain);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&mac.as_bytes()[..NONCE_LEN]);
        let mut sealed = Vec::with_capacity(HEADER + plain.len() + TAG_LEN);
        sealed.push(format);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plain);
        (nonce, sealed)
    }

    /// Open sealed bytes in place, returning the plaintext's range within
    /// them; None if they are not ours or were altered.
    pub fn open_in_place(&self, sealed: &mut [u8]) -> Option<std::ops::Range<usize>> {
        if sealed.len() < HEADER + TAG_LEN {
            return None;
        }
        let (head, body) = sealed.split_at_mut(HEADER);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&head[1..]);
        let plain_len = body.len() - TAG_LEN;
        match head[0] {
            GCM => {
                self.gcm
                    .open_in_place(
                        ring::aead::Nonce::assume_unique_for_key(nonce),
                        Aad::from(AAD_V2),
                        body,
                    )
                    .ok()?;
            }
            SIV => {
                let (ct, tag) = body.split_at_mut(plain_len);
                self.siv
                    .decrypt_in_place_detached(
                        Nonce::from_slice(&nonce),
                        AAD_V1,
                        ct,
                        aes_gcm_siv::Tag::from_slice(tag),
                    )
                    .ok()?;
            }
            _ => return None,
        }
        Some(HEADER..HEADER + plain_len)
    }

    /// Open sealed bytes; None if they are not ours or were altered.
    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        let mut buf = sealed.to_vec();
        let range = self.open_in_place(&mut buf)?;
        buf.truncate(range.end);
        buf.drain(..range.start);
        Some(buf)
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
        assert_eq!(s1[0], GCM);
        let (id3, _) = b.seal(b"same bytes");
        assert_ne!(id1, id3);
        assert_ne!(a.seal(b"other bytes").0, id1);
        assert!(!s1.windows(10).any(|w| w == b"same bytes"));
    }

    #[test]
    fn open_checks_key_and_integrity() {
        let a = ChunkKeys::new(&[1; 32]);
        for seal in [ChunkKeys::seal, ChunkKeys::seal_v1] {
            let (_, mut sealed) = seal(&a, b"hello");
            assert_eq!(a.open(&sealed).unwrap(), b"hello");
            assert!(ChunkKeys::new(&[2; 32]).open(&sealed).is_none());
            let last = sealed.len() - 1;
            sealed[last] ^= 1;
            assert!(a.open(&sealed).is_none());
        }
        assert!(a.open(&[]).is_none());
        assert!(a.open(&[9; 40]).is_none());
        // The format byte is authenticated too: a v1 block relabelled v2
        // (or the reverse) does not open.
        let (_, mut sealed) = a.seal_v1(b"hello");
        sealed[0] = GCM;
        assert!(a.open(&sealed).is_none());
        let (_, mut sealed) = a.seal(b"hello");
        sealed[0] = SIV;
        assert!(a.open(&sealed).is_none());
    }

    #[test]
    fn format_1_blocks_written_before_the_switch_still_open() {
        // A block the format-1 code sealed before the switch (vault key
        // [7; 32]): existing vaults stay readable.
        let a = ChunkKeys::new(&[7; 32]);
        let v1 = hex::decode(V1_FIXTURE).unwrap();
        assert_eq!(a.open(&v1).unwrap(), b"written by v1");
        assert_eq!(a.seal_v1(b"written by v1").1, v1);
        let (_, v2) = a.seal(b"written by v1");
        assert_eq!(v2[0], GCM);
        assert_ne!(v1, v2, "the two formats give different block ids");
    }

    /// Printed by the pre-switch seal.rs (`git show
    /// 50ee8bf:crates/core/src/store/seal.rs`) run on its own.
    const V1_FIXTURE: &str =
        "011c1543d59fe16d0d5560cc26ec6220096eead418253909a0c487073add697c8145a55ef13435b3a79d";
}
