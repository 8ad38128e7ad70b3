//! The folder watcher: `notify` (inotify, FSEvents, ReadDirectoryChangesW)
//! turns file-system events into vault paths for the worker. Reads are
//! dropped (the scanner's own reads would wake it); a lost or overflowing
//! event stream asks for a full rescan.

use std::path::{Path, PathBuf};

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;

use super::Msg;
use super::scan::{IGNORE_FILE, TEMP_PREFIX, vault_path};

pub(super) fn start(root: &Path, tx: UnboundedSender<Msg>) -> notify::Result<RecommendedWatcher> {
    let owned: PathBuf = root.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let event = match res {
            Ok(e) => e,
            Err(_) => {
                let _ = tx.send(Msg::Rescan);
                return;
            }
        };
        if event.need_rescan() {
            let _ = tx.send(Msg::Rescan);
            return;
        }
        if let EventKind::Access(a) = event.kind
            && a != AccessKind::Close(AccessMode::Write)
        {
            return;
        }
        for p in &event.paths {
            let Some(vp) = vault_path(&owned, p) else {
                continue;
            };
            let name = vp.rsplit('/').next().unwrap_or("");
            let msg = if vp == "/" || vp == format!("/{IGNORE_FILE}") {
                // The rules may have changed: look at everything again.
                Msg::Rescan
            } else if name.starts_with(TEMP_PREFIX) {
                continue;
            } else {
                Msg::Path(vp)
            };
            let _ = tx.send(msg);
        }
    })?;
    watcher.watch(root, RecursiveMode::Recursive)?;
    Ok(watcher)
}
