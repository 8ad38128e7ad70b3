//! What an agent proves at enrolment and activation (§2): possession of its
//! Ed25519 identity key, and a signed, fresh, domain-separated activation;
//! and the fingerprint the owner compares on the approval card (§2.2).

use blake2::digest::consts::U8;
use blake2::{Blake2b, Digest};
use ed25519_dalek::{Signature, VerifyingKey};

/// The activation message's domain tag (§2.3).
pub const ACTIVATION_TAG: &[u8] = b"agentvault:activate:v1:";
/// How far `signed_at` may be from the hub's clock, in seconds.
pub const ACTIVATION_SKEW_S: i64 = 300;

/// Hex of any case to bytes of exactly `N`.
pub fn hex_exact<const N: usize>(s: &str) -> Option<[u8; N]> {
    let bytes = hex::decode(s.trim()).ok()?;
    bytes.try_into().ok()
}

/// BLAKE2b-64 of the key as eight `:`-joined lowercase hex bytes.
pub fn fingerprint(identity_key: &[u8; 32]) -> String {
    let digest = Blake2b::<U8>::digest(identity_key);
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A valid Ed25519 public key, or None.
pub fn verifying_key(identity_key: &[u8; 32]) -> Option<VerifyingKey> {
    VerifyingKey::from_bytes(identity_key).ok()
}

/// Whether 32 bytes are a valid Ed25519 public key.
pub fn verifying_key_ok(identity_key: &[u8; 32]) -> bool {
    verifying_key(identity_key).is_some()
}

/// The enrolment proof: a signature by the key over its own 32 bytes.
pub fn proof_of_possession_ok(identity_key: &[u8; 32], signature: &[u8; 64]) -> bool {
    verifying_key(identity_key).is_some_and(|k| {
        k.verify_strict(identity_key, &Signature::from_bytes(signature))
            .is_ok()
    })
}

/// The 47-byte activation message of a device at `signed_at` (Unix s).
pub fn activation_message(device_id: &uuid::Uuid, signed_at: u64) -> Vec<u8> {
    let mut m = Vec::with_capacity(47);
    m.extend_from_slice(ACTIVATION_TAG);
    m.extend_from_slice(device_id.as_bytes());
    m.extend_from_slice(&signed_at.to_be_bytes());
    m
}

/// Whether the activation signature verifies under the enrolled key.
pub fn activation_ok(
    identity_key: &[u8; 32],
    device_id: &uuid::Uuid,
    signed_at: u64,
    signature: &[u8; 64],
) -> bool {
    let message = activation_message(device_id, signed_at);
    verifying_key(identity_key).is_some_and(|k| {
        k.verify_strict(&message, &Signature::from_bytes(signature))
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The protocol's worked example (§2.5).
    #[test]
    fn worked_example() {
        let pk: [u8; 32] =
            hex_exact("8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c").unwrap();
        assert_eq!(fingerprint(&pk), "89:6c:70:17:04:cf:48:4e");
        let pop: [u8; 64] = hex_exact("141844f27d26126461f359e91d473fc9e550f8e0a7982dd66869faefaed84812322e99eb20a2cb774e93735f1ab0b0c6d78c4d42f456e2ff4fcb15bd5183b80a").unwrap();
        assert!(proof_of_possession_ok(&pk, &pop));
        let mut bad = pop;
        bad[0] ^= 1;
        assert!(!proof_of_possession_ok(&pk, &bad));

        let id = uuid::Uuid::parse_str("00112233-4455-6677-8899-aabbccddeeff").unwrap();
        assert_eq!(
            hex::encode(activation_message(&id, 1_700_000_000)),
            "6167656e747661756c743a61637469766174653a76313a00112233445566778899aabbccddeeff000000006553f100"
        );
        let sig: [u8; 64] = hex_exact("5a392e583a1e4e0aee1fbd20a6ba01ed07e93dbf74501726f6739e5db18d4980015e8d6217f06d8c230434eabde907ee28919b3a00a033617586aa3657e0340b").unwrap();
        assert!(activation_ok(&pk, &id, 1_700_000_000, &sig));
        assert!(!activation_ok(&pk, &id, 1_700_000_001, &sig));
        // The activation signature never passes as an enrolment proof.
        assert!(!proof_of_possession_ok(&pk, &sig));
    }
}
