//! Sealed blocks on disk, named by the BLAKE3 of their bytes and fanned out
//! by hash prefix (`ab/cd/abcd…`). A block is written to a temporary file,
//! fsynced, renamed into place and its directory fsynced before `put`
//! returns, so a catalog commit that follows never points at a missing or
//! torn block. Reads verify the hash.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::fsutil;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockId(pub [u8; 32]);

impl BlockId {
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn parse(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Self(out))
    }
}

impl std::fmt::Debug for BlockId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlockId({})", &self.to_hex()[..16])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("block {0} is missing")]
    Missing(String),
    #[error("block {0} is damaged (its bytes no longer match its id)")]
    Damaged(String),
    #[error("block store: {0}")]
    Io(#[from] io::Error),
}

/// Blocking; callers run it on the blocking pool.
#[derive(Clone)]
pub struct BlockStore {
    root: PathBuf,
}

impl BlockStore {
    pub fn open(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root.join("tmp"))?;
        Ok(Self {
            root: root.to_owned(),
        })
    }

    fn path(&self, id: &BlockId) -> PathBuf {
        let hex = id.to_hex();
        self.root.join(&hex[..2]).join(&hex[2..4]).join(hex)
    }

    pub fn has(&self, id: &BlockId) -> bool {
        self.path(id).exists()
    }

    /// Store `bytes` (whose id must be `id`) durably. Present blocks are
    /// not rewritten.
    pub fn put(&self, id: &BlockId, bytes: &[u8]) -> io::Result<()> {
        debug_assert_eq!(&BlockId::of(bytes), id);
        let path = self.path(id);
        if path.exists() {
            return Ok(());
        }
        let dir = path.parent().expect("block paths have parents");
        fs::create_dir_all(dir)?;
        let tmp = tempfile::NamedTempFile::new_in(self.root.join("tmp"))?;
        tmp.as_file().write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        fsutil::sync_dir(dir)
    }

    /// Read a block, verifying it.
    pub fn get(&self, id: &BlockId) -> Result<Vec<u8>, BlockError> {
        let bytes = match fs::read(self.path(id)) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlockError::Missing(id.to_hex()));
            }
            Err(e) => return Err(e.into()),
        };
        if BlockId::of(&bytes) != *id {
            return Err(BlockError::Damaged(id.to_hex()));
        }
        Ok(bytes)
    }

    /// Stored size of a block, if present.
    pub fn size(&self, id: &BlockId) -> Option<u64> {
        fs::metadata(self.path(id)).ok().map(|m| m.len())
    }

    pub fn delete(&self, id: &BlockId) -> io::Result<()> {
        match fs::remove_file(self.path(id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Remove temporary files a crash left behind (call at start-up).
    pub fn collect_leftovers(&self) -> io::Result<usize> {
        let mut n = 0;
        for entry in fs::read_dir(self.root.join("tmp"))? {
            fs::remove_file(entry?.path())?;
            n += 1;
        }
        Ok(n)
    }

    /// Every stored block id (for fsck and garbage collection).
    pub fn ids(&self) -> io::Result<Vec<BlockId>> {
        let mut out = Vec::new();
        for a in fs::read_dir(&self.root)? {
            let a = a?;
            if a.file_name() == "tmp" || !a.file_type()?.is_dir() {
                continue;
            }
            for b in fs::read_dir(a.path())? {
                for f in fs::read_dir(b?.path())? {
                    if let Some(id) = f?.file_name().to_str().and_then(BlockId::parse) {
                        out.push(id);
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_verify_and_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlockStore::open(dir.path()).unwrap();
        let bytes = b"sealed bytes".to_vec();
        let id = BlockId::of(&bytes);
        assert!(!store.has(&id));
        assert!(matches!(store.get(&id), Err(BlockError::Missing(_))));
        store.put(&id, &bytes).unwrap();
        store.put(&id, &bytes).unwrap();
        assert_eq!(store.get(&id).unwrap(), bytes);
        assert_eq!(store.ids().unwrap(), vec![id]);
        // Bit rot is detected.
        fs::write(store.path(&id), b"sealed bytez").unwrap();
        assert!(matches!(store.get(&id), Err(BlockError::Damaged(_))));
        store.delete(&id).unwrap();
        store.delete(&id).unwrap();
        assert!(store.ids().unwrap().is_empty());
        fs::write(dir.path().join("tmp/half-written"), b"x").unwrap();
        assert_eq!(store.collect_leftovers().unwrap(), 1);
        assert_eq!(BlockId::parse(&id.to_hex()), Some(id));
        assert_eq!(BlockId::parse("zz"), None);
    }
}
