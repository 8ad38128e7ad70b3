//! holdfast-desktop: the tray application. It runs the daemon in this
//! process (on Tauri's tokio runtime), keeps a tray icon that shows the lock
//! and pending-request state, and opens windows that are all pages of the
//! daemon's own web UI: the unlock window, approval popups and the main
//! window, each signed in with a fresh bootstrap ticket. Everything else
//! lives in the daemon, reachable over REST; this crate stays thin.

mod session;
mod tray;
mod windows;

use std::sync::Arc;

use tauri::{Manager, RunEvent};

pub use session::Session;

/// Parse `--data-dir DIR` (or `HOLDFAST_DATA_DIR`): several instances, and
/// the desktop test, use their own data dirs.
fn data_dir_arg() -> Option<std::path::PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--data-dir" {
            return args.next().map(Into::into);
        }
    }
    std::env::var_os("HOLDFAST_DATA_DIR").map(Into::into)
}

pub fn run() {
    let app = tauri::Builder::default()
        // First: a second launch only focuses the running one.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            windows::open_main(app);
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            let session = tauri::async_runtime::block_on(Session::start(data_dir_arg()))?;
            let session = Arc::new(session);
            app.manage(session.clone());
            tray::build(app.handle(), &session)?;
            tauri::async_runtime::spawn(tray::follow(app.handle().clone(), session.clone()));
            if !session.is_unlocked() {
                windows::open_unlock(app.handle());
            }
            Ok(())
        })
        .build(tauri::generate_context!("../tauri.conf.json"))
        .unwrap_or_else(|e| {
            eprintln!("holdfast-desktop: cannot start: {e}");
            std::process::exit(1);
        });
    app.run(|app, event| {
        // Closing the last window keeps the tray app (and the daemon) running;
        // only Quit (an explicit exit code) ends it.
        if let RunEvent::ExitRequested {
            api, code: None, ..
        } = &event
        {
            api.prevent_exit();
        }
        if let RunEvent::Exit = event
            && let Some(session) = app.try_state::<Arc<Session>>()
        {
            tauri::async_runtime::block_on(session.shutdown());
        }
    });
}
