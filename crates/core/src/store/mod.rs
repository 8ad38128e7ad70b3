//! The encrypted, content-addressed block store under every vault.
//!
//! A file is cut into chunks by content-defined chunking ([`chunking`]), each
//! chunk is sealed under its vault's key ([`seal`]), and the sealed bytes are
//! stored once under the BLAKE3 hash of the ciphertext ([`blocks`]). Equal
//! plaintext in one vault seals to equal ciphertext (the nonce is a keyed
//! hash of the plaintext), so it is stored once; block ids reveal nothing to
//! a peer without the key; plaintext never reaches the block directory.

pub mod blocks;
pub mod chunking;
pub mod seal;

pub use blocks::{BlockId, BlockStore};
