//! Random bearer secrets and how they are kept: only a SHA-256 of a secret is
//! ever stored, lookups go by a short id derived from that hash, and the full
//! hash is compared in constant time so response timing reveals nothing.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A freshly minted secret: 32 random bytes as 64 lowercase hex characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    hex::encode(bytes)
}

/// The stored form of a secret.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretHash(pub [u8; 32]);

impl SecretHash {
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// Lookup key: the first 8 bytes of the hash, in hex. Knowing it does not
    /// help forge the secret; the full hash is still compared.
    pub fn id(&self) -> String {
        hex::encode(&self.0[..8])
    }

    /// Constant-time equality of two hashes.
    pub fn matches(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretHash({}…)", self.id())
    }
}

/// Constant-time comparison of two presented strings (e.g. an admin token).
pub fn ct_str_eq(a: &str, b: &str) -> bool {
    SecretHash::of(a).matches(&SecretHash::of(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn hashes_match_only_their_secret() {
        let h = SecretHash::of("abc");
        assert!(h.matches(&SecretHash::of("abc")));
        assert!(!h.matches(&SecretHash::of("abd")));
        assert_eq!(h.id().len(), 16);
        assert!(ct_str_eq("x", "x"));
        assert!(!ct_str_eq("x", "y"));
    }
}
