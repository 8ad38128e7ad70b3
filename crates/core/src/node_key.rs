//! The per-device node key: an Ed25519 keypair created on first start whose
//! libp2p PeerId (`12D3KooW…`) names this device on the mesh. It is separate
//! from the user's agent key, which belongs to the person, not the device.

use std::io;
use std::path::Path;

use libp2p_identity::{Keypair, PeerId};

use crate::fsutil::{self, Mode};

/// Load the key at `path`, creating it (mode 0600) if absent.
pub fn load_or_create(path: &Path) -> io::Result<Keypair> {
    match std::fs::read(path) {
        Ok(bytes) => Keypair::from_protobuf_encoding(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a node key: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let key = Keypair::generate_ed25519();
            let bytes = key
                .to_protobuf_encoding()
                .map_err(|e| io::Error::other(e.to_string()))?;
            fsutil::write_atomic(path, &bytes, Mode::Private)?;
            tracing::info!(peer_id = %PeerId::from(key.public()), "created node key");
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.key");
        let a = load_or_create(&path).unwrap();
        let b = load_or_create(&path).unwrap();
        let id = PeerId::from(a.public());
        assert_eq!(id, PeerId::from(b.public()));
        assert!(id.to_string().starts_with("12D3KooW"));
    }

    #[test]
    fn garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.key");
        std::fs::write(&path, b"garbage").unwrap();
        assert!(load_or_create(&path).is_err());
    }
}
