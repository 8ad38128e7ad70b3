//! Agent keys as the ecosystem writes them: HoloHash AgentPubKey strings,
//! `u` + base64url(no pad) of `84 20 24` ‖ 32-byte Ed25519 key ‖ 4-byte
//! location, where the location is the 16-byte unkeyed BLAKE2b of the key
//! folded by XOR into 4 bytes. Parsing checks length, prefix and location and
//! never panics. Also: the 78-byte link payload, and how to recognise one so
//! general-purpose signing can refuse to forge a link.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use blake2::Blake2bVar;
use blake2::digest::{Update, VariableOutput};

pub const PREFIX: [u8; 3] = [0x84, 0x20, 0x24];
/// Prefix, key, location.
pub const RAW_LEN: usize = 39;
/// Two raw keys, sorted and concatenated.
pub const LINK_PAYLOAD_LEN: usize = 2 * RAW_LEN;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentPubKey([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentKeyError {
    #[error("agent key must start with 'u'")]
    NotU,
    #[error("agent key is not base64url")]
    Encoding,
    #[error("agent key must be 39 bytes")]
    Length,
    #[error("agent key has the wrong prefix")]
    Prefix,
    #[error("agent key location checksum does not match")]
    Location,
}

impl AgentPubKey {
    pub fn from_bytes(key: [u8; 32]) -> Self {
        Self(key)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Prefix ‖ key ‖ location.
    pub fn raw(&self) -> [u8; RAW_LEN] {
        let mut out = [0u8; RAW_LEN];
        out[..3].copy_from_slice(&PREFIX);
        out[3..35].copy_from_slice(&self.0);
        out[35..].copy_from_slice(&location(&self.0));
        out
    }

    pub fn from_raw(raw: &[u8]) -> Result<Self, AgentKeyError> {
        if raw.len() != RAW_LEN {
            return Err(AgentKeyError::Length);
        }
        if raw[..3] != PREFIX {
            return Err(AgentKeyError::Prefix);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&raw[3..35]);
        if raw[35..] != location(&key) {
            return Err(AgentKeyError::Location);
        }
        Ok(Self(key))
    }

    pub fn parse(s: &str) -> Result<Self, AgentKeyError> {
        let body = s.strip_prefix('u').ok_or(AgentKeyError::NotU)?;
        // 39 bytes encode to 52 characters; refuse anything else before decoding.
        if body.len() != 52 {
            return Err(AgentKeyError::Length);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| AgentKeyError::Encoding)?;
        Self::from_raw(&raw)
    }
}

impl std::fmt::Display for AgentPubKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "u{}", URL_SAFE_NO_PAD.encode(self.raw()))
    }
}

impl std::fmt::Debug for AgentPubKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AgentPubKey({self})")
    }
}

fn location(key: &[u8; 32]) -> [u8; 4] {
    let mut hasher = Blake2bVar::new(16).expect("16 is a valid BLAKE2b output size");
    hasher.update(key);
    let mut hash = [0u8; 16];
    hasher
        .finalize_variable(&mut hash)
        .expect("buffer matches output size");
    let mut out = [0u8; 4];
    for (i, b) in hash.iter().enumerate() {
        out[i % 4] ^= b;
    }
    out
}

/// The bytes a link attestation signs: both raw keys, sorted bytewise.
pub fn link_payload(a: &AgentPubKey, b: &AgentPubKey) -> [u8; LINK_PAYLOAD_LEN] {
    let (ra, rb) = (a.raw(), b.raw());
    let (first, second) = if ra <= rb { (ra, rb) } else { (rb, ra) };
    let mut out = [0u8; LINK_PAYLOAD_LEN];
    out[..RAW_LEN].copy_from_slice(&first);
    out[RAW_LEN..].copy_from_slice(&second);
    out
}

/// Whether `bytes` could be taken for a link attestation: 78 bytes made of
/// two valid raw agent keys. Such payloads are signed only by the link flow.
pub fn looks_like_link_payload(bytes: &[u8]) -> bool {
    bytes.len() == LINK_PAYLOAD_LEN
        && AgentPubKey::from_raw(&bytes[..RAW_LEN]).is_ok()
        && AgentPubKey::from_raw(&bytes[RAW_LEN..]).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_vectors() {
        let k = AgentPubKey::from_bytes([0xdb; 32]);
        assert_eq!(
            k.to_string(),
            "uhCAk29vb29vb29vb29vb29vb29vb29vb29vb29vb29vb29uTp5Iv"
        );
        let z = AgentPubKey::from_bytes([0; 32]);
        assert_eq!(
            z.to_string(),
            "uhCAkAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACZ9h_C"
        );
        assert_eq!(AgentPubKey::parse(&k.to_string()).unwrap(), k);
        assert_eq!(AgentPubKey::parse(&z.to_string()).unwrap(), z);
    }

    #[test]
    fn parsing_rejects_bad_input_without_panicking() {
        let good = AgentPubKey::from_bytes([7; 32]).to_string();
        assert_eq!(AgentPubKey::parse(&good[1..]), Err(AgentKeyError::NotU));
        assert_eq!(AgentPubKey::parse("u"), Err(AgentKeyError::Length));
        assert_eq!(
            AgentPubKey::parse(&format!("{good}A")),
            Err(AgentKeyError::Length)
        );
        let mut bad_char = good.clone();
        bad_char.replace_range(10..11, "!");
        assert_eq!(AgentPubKey::parse(&bad_char), Err(AgentKeyError::Encoding));
        // Flip one bit of the key: the location no longer matches.
        let mut raw = AgentPubKey::from_bytes([7; 32]).raw();
        raw[10] ^= 1;
        let s = format!("u{}", URL_SAFE_NO_PAD.encode(raw));
        assert_eq!(AgentPubKey::parse(&s), Err(AgentKeyError::Location));
        let mut raw = AgentPubKey::from_bytes([7; 32]).raw();
        raw[0] = 0x85;
        let s = format!("u{}", URL_SAFE_NO_PAD.encode(raw));
        assert_eq!(AgentPubKey::parse(&s), Err(AgentKeyError::Prefix));
        for junk in ["", "ü", "u\u{0}", &"u".repeat(10_000), "uhCAk"] {
            assert!(AgentPubKey::parse(junk).is_err());
        }
    }

    #[test]
    fn link_payload_is_sorted_and_recognised() {
        let a = AgentPubKey::from_bytes([1; 32]);
        let b = AgentPubKey::from_bytes([2; 32]);
        let p = link_payload(&a, &b);
        assert_eq!(p, link_payload(&b, &a));
        assert_eq!(&p[..RAW_LEN], &a.raw());
        assert!(looks_like_link_payload(&p));
        assert!(!looks_like_link_payload(&p[..77]));
        assert!(!looks_like_link_payload(&[0u8; 78]));
    }
}
