//! The tray icon and its menu: Open Holdfast, Lock/Unlock, "N requests
//! waiting", the mesh ("2 devices connected", "Syncing…"), "N agents
//! online" (the hub's agents with a live socket), Pause sync,
//! Start at login, Quit. The icon shows locked,
//! unlocked, or requests waiting; `follow` keeps it true to the daemon's
//! events and opens a popup for each new approval request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use holdfast_core::hub::devices;
use holdfast_core::vaults::VaultPatch;
use serde_json::Value;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_autostart::ManagerExt;

use crate::{Session, windows};

const TRAY_ID: &str = "holdfast";

/// The menu entries whose text or check mark changes.
struct Items {
    lock: MenuItem<Wry>,
    pending: MenuItem<Wry>,
    mesh: MenuItem<Wry>,
    agents: MenuItem<Wry>,
    /// Agents online, as last counted by `follow`.
    agents_online: AtomicUsize,
    pause: CheckMenuItem<Wry>,
    /// The icon shown, so it is decoded and set only when it changes.
    shown: std::sync::Mutex<Option<Look>>,
}

/// Which icon the tray shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    Locked,
    Unlocked,
    Waiting,
}

pub fn look(unlocked: bool, pending: usize) -> Look {
    match (unlocked, pending) {
        (_, n) if n > 0 => Look::Waiting,
        (true, _) => Look::Unlocked,
        (false, _) => Look::Locked,
    }
}

/// The mesh entry's text: offline, how many devices, syncing.
pub fn mesh_label(online: bool, peers: usize, syncing: bool) -> String {
    match (online, peers, syncing) {
        (false, _, _) => "Not connected to a network".into(),
        (true, _, true) => "Syncing…".into(),
        (true, 0, _) => "Looking for your devices…".into(),
        (true, 1, _) => "1 device connected".into(),
        (true, n, _) => format!("{n} devices connected"),
    }
}

/// The agents entry's text.
pub fn agents_label(n: usize) -> String {
    match n {
        0 => "No agents online".into(),
        1 => "1 agent online".into(),
        n => format!("{n} agents online"),
    }
}

/// The queue entry's text.
pub fn pending_label(n: usize) -> String {
    match n {
        0 => "No requests waiting".into(),
        1 => "1 request waiting".into(),
        n => format!("{n} requests waiting"),
    }
}

fn icon(look: Look) -> Image<'static> {
    let bytes: &[u8] = match look {
        Look::Locked => include_bytes!("../../icons/tray-locked.png"),
        Look::Unlocked => include_bytes!("../../icons/tray-unlocked.png"),
        Look::Waiting => include_bytes!("../../icons/tray-waiting.png"),
    };
    Image::from_bytes(bytes).expect("tray icons are valid PNGs")
}

pub fn build(app: &AppHandle, session: &Session) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Holdfast", true, None::<&str>)?;
    let lock = MenuItem::with_id(app, "lock", "Lock", true, None::<&str>)?;
    let pending = MenuItem::with_id(app, "pending", pending_label(0), false, None::<&str>)?;
    let mesh = MenuItem::with_id(app, "mesh", mesh_label(false, 0, false), true, None::<&str>)?;
    let agents = MenuItem::with_id(app, "agents", agents_label(0), true, None::<&str>)?;
    let pause = CheckMenuItem::with_id(
        app,
        "pause",
        "Pause sync",
        true,
        sync_paused(session),
        None::<&str>,
    )?;
    let login_start = app.autolaunch().is_enabled().unwrap_or(false);
    let autostart = CheckMenuItem::with_id(
        app,
        "autostart",
        "Start at login",
        true,
        login_start,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, "quit", "Quit Holdfast", true, None::<&str>)?;
    let sep = || PredefinedMenuItem::separator(app);
    let menu = Menu::with_items(
        app,
        &[
            &open,
            &lock,
            &pending,
            &mesh,
            &agents,
            &sep()?,
            &pause,
            &autostart,
            &sep()?,
            &quit,
        ],
    )?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(Look::Locked))
        .tooltip("Holdfast")
        .menu(&menu)
        .on_menu_event(on_menu)
        .build(app)?;
    app.manage(Items {
        lock,
        pending,
        mesh,
        agents,
        agents_online: AtomicUsize::new(0),
        pause,
        shown: std::sync::Mutex::new(Some(Look::Locked)),
    });
    refresh(app, session);
    Ok(())
}

fn on_menu(app: &AppHandle, event: MenuEvent) {
    let session = app.state::<Arc<Session>>().inner().clone();
    match event.id().as_ref() {
        "open" => windows::open_main(app),
        "pending" => windows::open_route(app, "/approvals"),
        "mesh" => windows::open_route(app, "/network"),
        "agents" => windows::open_route(app, "/agents"),
        "lock" if session.is_unlocked() => session.state().identity.lock(),
        "lock" => windows::open_unlock(app),
        "pause" => {
            let paused = app.state::<Items>().pause.is_checked().unwrap_or(false);
            tauri::async_runtime::spawn(pause_sync(session, paused));
        }
        "autostart" => {
            let auto = app.autolaunch();
            let result = if auto.is_enabled().unwrap_or(false) {
                auto.disable()
            } else {
                auto.enable()
            };
            if let Err(e) = result {
                tracing::warn!("start at login: {e}");
            }
        }
        "quit" => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                session.shutdown().await;
                app.exit(0);
            });
        }
        _ => {}
    }
}

/// Whether folder sync is paused now: every folder-backed vault (at least
/// one) has its `sync_paused` flag.
fn sync_paused(session: &Session) -> bool {
    let vaults = tauri::async_runtime::block_on(session.state().vaults.list()).unwrap_or_default();
    let mut folders = vaults.iter().filter(|v| v.folder.is_some()).peekable();
    folders.peek().is_some() && folders.all(|v| v.sync_paused)
}

/// Pause (or resume) folder sync of every folder-backed vault.
async fn pause_sync(session: Arc<Session>, paused: bool) {
    let state = session.state();
    let Ok(vaults) = state.vaults.list().await else {
        return;
    };
    for v in vaults.into_iter().filter(|v| v.folder.is_some()) {
        let patch = VaultPatch {
            sync_paused: Some(paused),
            ..VaultPatch::default()
        };
        if state.vaults.patch(&v.id, patch).await.is_ok() {
            let _ = state.folders.refresh(&v.id).await;
        }
    }
}

fn refresh(app: &AppHandle, session: &Session) {
    let (unlocked, pending) = (session.is_unlocked(), session.pending());
    let now = look(unlocked, pending);
    let changed = app.try_state::<Items>().is_none_or(|items| {
        let mut shown = items.shown.lock().unwrap_or_else(|p| p.into_inner());
        shown.replace(now) != Some(now)
    });
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        if changed {
            let _ = tray.set_icon(Some(icon(now)));
        }
        let tip = match (unlocked, pending) {
            (_, n) if n > 0 => format!("Holdfast: {}", pending_label(n).to_lowercase()),
            (true, _) => "Holdfast: unlocked".into(),
            (false, _) => "Holdfast: locked".into(),
        };
        let _ = tray.set_tooltip(Some(tip));
    }
    if let Some(items) = app.try_state::<Items>() {
        let _ = items
            .lock
            .set_text(if unlocked { "Lock" } else { "Unlock…" });
        let _ = items.pending.set_text(pending_label(pending));
        let _ = items.pending.set_enabled(pending > 0);
        let (online, peers, syncing) = session.state().mesh.activity();
        let _ = items.mesh.set_text(mesh_label(online, peers, syncing));
        let agents = items.agents_online.load(Ordering::Relaxed);
        let _ = items.agents.set_text(agents_label(agents));
    }
}

/// Count the hub's agents with a live socket (the Agents page's "online";
/// the owner's own device is no agent) and keep the number for `refresh`.
async fn recount_agents(app: &AppHandle, session: &Session) {
    let hub = &session.state().hub.core;
    let all = devices::list(&hub.catalog, &hub.default_tenant)
        .await
        .unwrap_or_default();
    let online = |d: &devices::Device| d.device_type == "agent" && hub.live.is_online(&d.id);
    let n = all.iter().filter(|d| online(d)).count();
    if let Some(items) = app.try_state::<Items>() {
        items.agents_online.store(n, Ordering::Relaxed);
    }
}

/// Follow the daemon's events for as long as the app runs.
pub async fn follow(app: AppHandle, session: Arc<Session>) {
    let mut events = session.state().events.subscribe();
    recount_agents(&app, &session).await;
    refresh(&app, &session);
    loop {
        let event: Value = match events.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Value::Null,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        let id = event["id"].as_str().unwrap_or("");
        match event["type"].as_str().unwrap_or("") {
            "approval_requested" => {
                windows::open_approval(&app, id, event["app_name"].as_str().unwrap_or("An app"))
            }
            "approval_resolved" => windows::close_approval(&app, id),
            "identity_state" if session.is_unlocked() => {
                if let Some(w) = app.get_webview_window("unlock") {
                    let _ = w.close();
                }
            }
            "identity_state" => {}
            "peer_connected" | "peer_disconnected" | "network_changed" | "replication_progress" => {
            }
            "agent_presence" | "agent_device" => recount_agents(&app, &session).await,
            // A missed stretch of events: look at everything again.
            _ if event.is_null() => recount_agents(&app, &session).await,
            // File and vault events (thousands during a folder scan) do
            // not change the tray.
            _ => continue,
        }
        refresh(&app, &session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icon_follows_lock_and_queue() {
        assert_eq!(look(false, 0), Look::Locked);
        assert_eq!(look(true, 0), Look::Unlocked);
        assert_eq!(look(true, 2), Look::Waiting);
        assert_eq!(look(false, 1), Look::Waiting);
        assert_eq!(pending_label(0), "No requests waiting");
        assert_eq!(pending_label(1), "1 request waiting");
        assert_eq!(pending_label(12), "12 requests waiting");
        assert_eq!(mesh_label(false, 3, true), "Not connected to a network");
        assert_eq!(mesh_label(true, 0, false), "Looking for your devices…");
        assert_eq!(mesh_label(true, 1, false), "1 device connected");
        assert_eq!(mesh_label(true, 2, true), "Syncing…");
        assert_eq!(agents_label(0), "No agents online");
        assert_eq!(agents_label(1), "1 agent online");
        assert_eq!(agents_label(3), "3 agents online");
    }

    #[test]
    fn tray_icons_decode() {
        for l in [Look::Locked, Look::Unlocked, Look::Waiting] {
            let i = icon(l);
            assert!(i.width() >= 32 && i.width() == i.height());
        }
    }
}
