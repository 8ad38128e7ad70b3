//! Sealed blocks on disk, named by the BLAKE3 of their bytes and fanned out
//! by hash prefix (`ab/cd/abcd…`). Reads verify the hash.
//!
//! Writing is two steps so many blocks share one durability barrier:
//! [`BlockStore::stage`] writes a block to a temporary file (no fsync), and
//! [`BlockStore::settle`] fsyncs a batch of them in parallel, renames each
//! into place and fsyncs their directories. Only settled blocks carry their
//! final name, and only fully synced bytes are renamed, so a crash leaves a
//! block either whole or absent; callers settle before the catalog commit
//! that names the blocks, so the catalog never points at a missing block.

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
        let staged = self.stage(id, bytes)?;
        self.settle(vec![staged])
    }

    /// Write `bytes` (whose id must be `id`) to a temporary file, without
    /// waiting for the disk; [`BlockStore::settle`] makes it durable under
    /// its name. A block already present is not rewritten (settling it
    /// still syncs its directory, in case its writer has not yet).
    pub fn stage(&self, id: &BlockId, bytes: &[u8]) -> io::Result<Staged> {
        debug_assert_eq!(&BlockId::of(bytes), id);
        let dest = self.path(id);
        if dest.exists() {
            return Ok(Staged {
                tmp: None,
                dest,
                len: 0,
            });
        }
        let mut tmp = tempfile::NamedTempFile::new_in(self.root.join("tmp"))?;
        tmp.write_all(bytes)?;
        Ok(Staged {
            tmp: Some(tmp.into_temp_path()),
            dest,
            len: bytes.len() as u64,
        })
    }

    /// The barrier: fsync every staged block's bytes (in parallel, so the
    /// file system can fold them into few journal commits), rename each
    /// into place, then fsync the directories that gained names.
    pub fn settle(&self, staged: Vec<Staged>) -> io::Result<()> {
        let files: Vec<&Path> = staged.iter().filter_map(|s| s.tmp.as_deref()).collect();
        in_parallel(&files, |p| fs::File::open(p)?.sync_data())?;
        let mut dirs = std::collections::BTreeSet::new();
        for s in staged {
            let leaf = s.dest.parent().expect("block paths have parents");
            if let Some(tmp) = s.tmp {
                if !leaf.is_dir() {
                    fs::create_dir_all(leaf)?;
                    // New fan-out directories: their names are in their
                    // parents.
                    let parent = leaf.parent().expect("fan-out has two levels");
                    dirs.insert(parent.to_owned());
                    dirs.insert(self.root.clone());
                }
                tmp.persist(&s.dest).map_err(|e| e.error)?;
            }
            dirs.insert(leaf.to_owned());
        }
        let dirs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
        in_parallel(&dirs, |d| fsutil::sync_dir(d))
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

    /// Ask the kernel to start reading a block into the page cache, so a
    /// download's next blocks come off the disk while this one is opened.
    /// A hint: errors are ignored, and it is a no-op off Linux.
    pub fn prefetch(&self, id: &BlockId) {
        #[cfg(target_os = "linux")]
        if let Ok(f) = fs::File::open(self.path(id)) {
            use std::os::fd::AsRawFd;
            // SAFETY: a valid open descriptor; fadvise only reads its args.
            unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_WILLNEED) };
        }
        #[cfg(not(target_os = "linux"))]
        let _ = id;
    }

    /// A block's bytes as stored, unverified: for sending to a peer, which
    /// checks every block against its id itself (so the sender does not
    /// hash each block twice over).
    pub fn read_unverified(&self, id: &BlockId) -> io::Result<Vec<u8>> {
        fs::read(self.path(id))
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

/// A block written by [`BlockStore::stage`], not yet durable. Dropping it
/// unsettled removes its temporary file.
pub struct Staged {
    tmp: Option<tempfile::TempPath>,
    dest: PathBuf,
    len: u64,
}

impl Staged {
    /// Whether this block was not in the store yet (it was written).
    pub fn is_new(&self) -> bool {
        self.tmp.is_some()
    }

    /// Bytes written (0 for a block already present).
    pub fn bytes(&self) -> u64 {
        self.len
    }
}

/// Threads that wait on fsyncs at once: the disk, not the CPU, is the
/// limit, and concurrent fsyncs share journal commits.
const SYNC_THREADS: usize = 8;

/// Run `f` on every item, on up to [`SYNC_THREADS`] threads.
fn in_parallel<T: Sync>(items: &[T], f: impl Fn(&T) -> io::Result<()> + Sync) -> io::Result<()> {
    if items.len() <= 1 {
        return items.iter().try_for_each(&f);
    }
    let per = items.len().div_ceil(SYNC_THREADS);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|part| s.spawn(|| part.iter().try_for_each(&f)))
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err(io::Error::other("sync thread panicked")))
        })
    })
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
        // Staged blocks are invisible until settled, and vanish if dropped.
        let (a, b) = (b"first".to_vec(), b"second".to_vec());
        let (ia, ib) = (BlockId::of(&a), BlockId::of(&b));
        let sa = store.stage(&ia, &a).unwrap();
        let sb = store.stage(&ib, &b).unwrap();
        assert!(!store.has(&ia) && !store.has(&ib));
        drop(sb);
        store
            .settle(vec![sa, store.stage(&ia, &a).unwrap()])
            .unwrap();
        assert_eq!(store.get(&ia).unwrap(), a);
        assert!(!store.has(&ib));
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        store.delete(&ia).unwrap();
        fs::write(dir.path().join("tmp/half-written"), b"x").unwrap();
        assert_eq!(store.collect_leftovers().unwrap(), 1);
        assert_eq!(BlockId::parse(&id.to_hex()), Some(id));
        assert_eq!(BlockId::parse("zz"), None);
    }
}
