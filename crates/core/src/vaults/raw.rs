//! Opaque bytes kept as blocks outside any vault: the hub's attachments,
//! which clients encrypt themselves (the hub never holds their key, so there
//! is nothing to seal them under). They are cut with the same
//! content-defined chunking as vault files, so an identical upload reuses
//! every block already stored. The caller records the block ids where
//! garbage collection counts them (`hub_attachments`) before it drops the
//! pins this returns.

use super::gc::BlockPins;
use super::{VaultError, Vaults};
use crate::store::BlockId;
use crate::store::chunking::{AVG_CHUNK, MAX_CHUNK, MIN_CHUNK};

impl Vaults {
    /// Store `bytes` durably as blocks; returns their ids in order and pins
    /// that keep garbage collection off them until dropped.
    pub async fn store_opaque(
        &self,
        bytes: Vec<u8>,
    ) -> Result<(Vec<BlockId>, BlockPins), VaultError> {
        let bytes = std::sync::Arc::new(bytes);
        let cut = bytes.clone();
        let ranges: Vec<(usize, usize)> = tokio::task::spawn_blocking(move || {
            fastcdc::v2020::FastCDC::new(&cut, MIN_CHUNK, AVG_CHUNK, MAX_CHUNK)
                .map(|c| (c.offset, c.length))
                .collect()
        })
        .await
        .map_err(|e| VaultError::Io(std::io::Error::other(e)))?;
        let ids: Vec<BlockId> = ranges
            .iter()
            .map(|&(o, l)| BlockId::of(&bytes[o..o + l]))
            .collect();
        // Pinned before looking for them, so a block found present stays.
        let pins = self.pin_blocks(&ids);
        let (store, list) = (self.blocks.clone(), ids.clone());
        tokio::task::spawn_blocking(move || {
            let mut staged = Vec::with_capacity(list.len());
            for (id, &(o, l)) in list.iter().zip(&ranges) {
                staged.push(store.stage(id, &bytes[o..o + l])?);
            }
            store.settle(staged)
        })
        .await
        .map_err(|e| VaultError::Io(std::io::Error::other(e)))??;
        Ok((ids, pins))
    }

    /// The bytes of blocks stored by [`Vaults::store_opaque`], verified.
    pub async fn read_opaque(&self, ids: Vec<BlockId>) -> Result<Vec<u8>, VaultError> {
        let store = self.blocks.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for id in &ids {
                out.extend_from_slice(&store.get(id)?);
            }
            Ok(out)
        })
        .await
        .map_err(|e| VaultError::Io(std::io::Error::other(e)))?
    }
}
