//! A blocking `Read + Seek` view of one file version, for parsers that seek
//! (tag readers, decoders): blocks are opened on demand and only the current
//! one is kept, so reading a file's tags costs the blocks that hold them,
//! not the whole file.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

use crate::store::BlockStore;
use crate::store::blocks::BlockId;
use crate::store::seal::ChunkKeys;

use super::{FileVersion, VaultError, Vaults};

pub struct VersionReader {
    keys: Arc<ChunkKeys>,
    store: BlockStore,
    /// (block, plaintext offset of its first byte, plaintext length).
    blocks: Vec<(BlockId, u64, u64)>,
    size: u64,
    pos: u64,
    /// The open block: its index and plaintext.
    current: Option<(usize, Vec<u8>)>,
}

impl Vaults {
    /// A seekable reader of `version` (the vault must be readable: unlocked).
    /// Missing blocks surface as read errors, not here.
    pub async fn reader(&self, version: &FileVersion) -> Result<VersionReader, VaultError> {
        let keys = self.keys(&version.vault_id).await?;
        let mut blocks = Vec::with_capacity(version.blocks.len());
        let mut offset = 0u64;
        for (hexid, size) in version.blocks.iter().zip(&version.block_sizes) {
            let id = BlockId::parse(hexid).ok_or_else(|| VaultError::Corrupt("block id".into()))?;
            blocks.push((id, offset, *size));
            offset += size;
        }
        Ok(VersionReader {
            keys,
            store: self.blocks.clone(),
            blocks,
            size: offset,
            pos: 0,
            current: None,
        })
    }
}

impl VersionReader {
    pub fn len(&self) -> u64 {
        self.size
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The index of the block holding byte `pos` (`pos < size`).
    fn block_at(&self, pos: u64) -> usize {
        self.blocks
            .partition_point(|(_, start, len)| start + len <= pos)
    }

    fn open(&mut self, i: usize) -> io::Result<&[u8]> {
        if self.current.as_ref().map(|(j, _)| *j) != Some(i) {
            let (id, _, len) = self.blocks[i];
            let mut buf = self.store.get(&id).map_err(io::Error::other)?;
            let plain = self
                .keys
                .open_in_place(&mut buf)
                .ok_or_else(|| io::Error::other(format!("block {} does not open", id.to_hex())))?;
            if (plain.len() as u64) < len {
                return Err(io::Error::other("block shorter than its manifest says"));
            }
            buf.truncate(plain.start + len as usize);
            buf.drain(..plain.start);
            self.current = Some((i, buf));
        }
        Ok(&self.current.as_ref().expect("just opened").1)
    }
}

impl Read for VersionReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.size || out.is_empty() {
            return Ok(0);
        }
        let i = self.block_at(self.pos);
        let start = self.blocks[i].1;
        let pos = self.pos;
        let block = self.open(i)?;
        let from = (pos - start) as usize;
        let n = out.len().min(block.len() - from);
        out[..n].copy_from_slice(&block[from..from + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for VersionReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}
