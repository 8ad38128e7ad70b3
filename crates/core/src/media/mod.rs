//! Media: the audio and video files of trusted vaults seen as a music and
//! film library. Tags, covers and fingerprints are read locally from the
//! files' bytes, once per content hash ([`analysis`]); the library rows
//! ([`index`]) join them with the owner's overrides; the [`worker`] keeps
//! both in step with the vaults in the background, never in an upload's way.
//! All of it is derived data (migration 0020) and can be rebuilt.

pub mod analysis;
pub mod fingerprint;
pub mod index;
pub mod library;
pub mod probe;
pub mod sidecars;
pub mod subtitles;
pub mod tags;
pub mod video;
pub mod worker;

use std::sync::Arc;

use crate::catalog::{Catalog, CatalogError};
use crate::events::EventBus;
use crate::identity::Identity;
use crate::settings::Settings;
use crate::vaults::{VaultError, Vaults};

pub use worker::RescanStatus;

/// What a file is to the library, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Audio,
    Video,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }
}

const AUDIO: &[&str] = &[
    "mp3", "flac", "ogg", "oga", "opus", "m4a", "m4b", "aac", "wav", "aif", "aiff", "wv", "ape",
    "mpc",
];
const VIDEO: &[&str] = &["mp4", "m4v", "mkv", "webm", "mov", "avi", "ogv"];

/// The kind of the file at `path`, or `None` when it is not media.
pub fn kind_of(path: &str) -> Option<MediaKind> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let (_, ext) = name.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    if AUDIO.contains(&ext.as_str()) {
        Some(MediaKind::Audio)
    } else if VIDEO.contains(&ext.as_str()) {
        Some(MediaKind::Video)
    } else {
        None
    }
}

/// The library's stable id of a file: 128 bits of BLAKE3 over vault and path,
/// so prefs and play counts follow the path across new versions.
pub fn file_id(vault_id: &str, path: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(vault_id.as_bytes());
    h.update(&[0]);
    h.update(path.as_bytes());
    hex::encode(&h.finalize().as_bytes()[..16])
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("no such file")]
    NotFound,
    #[error("not an audio or video file")]
    NotMedia,
    /// A field failed validation; the message names it.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// The media service: the worker's handle and the catalog it writes.
#[derive(Clone)]
pub struct Media {
    pub catalog: Catalog,
    pub vaults: Vaults,
    pub events: EventBus,
    pub settings: Settings,
    worker: Arc<worker::Handle>,
}

impl Media {
    /// Start the background worker; it ends with `shutdown`.
    pub fn start(
        catalog: Catalog,
        vaults: Vaults,
        identity: Arc<Identity>,
        events: EventBus,
        settings: Settings,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Self {
        let worker = worker::Handle::spawn(worker::Deps {
            catalog: catalog.clone(),
            vaults: vaults.clone(),
            identity,
            events: events.clone(),
            settings: settings.clone(),
            shutdown,
        });
        Self {
            catalog,
            vaults,
            events,
            settings,
            worker,
        }
    }

    /// Ask the worker to look at the vaults again soon.
    pub fn nudge(&self) {
        self.worker.nudge();
    }

    /// Re-read every audio file of `vault_id` in the background.
    pub async fn rescan(&self, vault_id: &str) -> Result<RescanStatus, MediaError> {
        self.vaults.get(vault_id).await?;
        self.worker.rescan(vault_id).await
    }

    /// Progress of the last rescan of `vault_id`.
    pub fn rescan_status(&self, vault_id: &str) -> RescanStatus {
        self.worker.status(vault_id)
    }

    /// Re-read the files with these content hashes (drop what was found).
    pub async fn reanalyse(&self, hashes: Vec<String>) -> Result<(), MediaError> {
        self.worker.forget(hashes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_extension() {
        assert_eq!(kind_of("/a/b.MP3"), Some(MediaKind::Audio));
        assert_eq!(kind_of("/film.mkv"), Some(MediaKind::Video));
        assert_eq!(kind_of("/notes.txt"), None);
        assert_eq!(kind_of("/mp3"), None);
        assert_eq!(kind_of("/dir.mp3/readme"), None);
    }

    #[test]
    fn file_ids_are_stable_and_distinct() {
        assert_eq!(file_id("v", "/a.mp3"), file_id("v", "/a.mp3"));
        assert_ne!(file_id("v", "/a.mp3"), file_id("w", "/a.mp3"));
        assert_eq!(file_id("v", "/a.mp3").len(), 32);
    }
}
