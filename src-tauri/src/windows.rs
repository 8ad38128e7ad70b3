//! Holdfast's windows. Each is a page of the daemon's web UI opened with a
//! fresh bootstrap ticket: the unlock window, one always-on-top popup per
//! approval request, and the main window. Asking again for an open window
//! only raises it.

use std::sync::Arc;

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_notification::NotificationExt;

use crate::Session;

struct Spec<'a> {
    label: &'a str,
    route: &'a str,
    title: &'a str,
    size: (f64, f64),
    on_top: bool,
}

fn show<R: Runtime>(app: &AppHandle<R>, spec: Spec<'_>) -> tauri::Result<()> {
    if let Some(w) = app.get_webview_window(spec.label) {
        w.show()?;
        w.unminimize()?;
        return w.set_focus();
    }
    let session = app.state::<Arc<Session>>();
    let url = session
        .page(spec.route)
        .parse()
        .map_err(|e| tauri::Error::Anyhow(anyhow::anyhow!("bad page URL: {e}")))?;
    WebviewWindowBuilder::new(app, spec.label, WebviewUrl::External(url))
        .title(spec.title)
        .inner_size(spec.size.0, spec.size.1)
        .min_inner_size(360.0, 420.0)
        .always_on_top(spec.on_top)
        .center()
        .focused(true)
        .build()?;
    Ok(())
}

pub fn open_main<R: Runtime>(app: &AppHandle<R>) {
    open_route(app, "/home");
}

/// The main window, at a page of the web UI (e.g. `/approvals`).
pub fn open_route<R: Runtime>(app: &AppHandle<R>, route: &str) {
    if let Some(w) = app.get_webview_window("main") {
        let session = app.state::<Arc<Session>>();
        if let Ok(url) = session.page(route).parse() {
            let _ = w.navigate(url);
        }
    }
    let spec = Spec {
        label: "main",
        route,
        title: "Holdfast",
        size: (1100.0, 760.0),
        on_top: false,
    };
    if let Err(e) = show(app, spec) {
        tracing::error!("cannot open the main window: {e}");
    }
}

/// First run: create the passphrase; later: unlock.
pub fn open_unlock<R: Runtime>(app: &AppHandle<R>) {
    let spec = Spec {
        label: "unlock",
        route: "/unlock",
        title: "Unlock Holdfast",
        size: (480.0, 680.0),
        on_top: false,
    };
    if let Err(e) = show(app, spec) {
        tracing::error!("cannot open the unlock window: {e}");
    }
}

fn approval_label(id: &str) -> String {
    format!("approval-{id}")
}

/// A popup for one approval request. When no window can be raised, a
/// desktop notification leads to the queue instead.
pub fn open_approval<R: Runtime>(app: &AppHandle<R>, id: &str, app_name: &str) {
    if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return;
    }
    let label = approval_label(id);
    let route = format!("/popup/{id}");
    let spec = Spec {
        label: &label,
        route: &route,
        title: "Holdfast: a request needs you",
        size: (460.0, 620.0),
        on_top: true,
    };
    if let Err(e) = show(app, spec) {
        tracing::warn!("cannot raise the approval window ({e}); notifying instead");
        let _ = app
            .notification()
            .builder()
            .title("Holdfast")
            .body(format!(
                "{app_name} is asking for your approval. Open Holdfast to answer."
            ))
            .show();
    }
}

/// The request was answered (or expired): its popup goes away.
pub fn close_approval<R: Runtime>(app: &AppHandle<R>, id: &str) {
    if let Some(w) = app.get_webview_window(&approval_label(id)) {
        let _ = w.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::test::{mock_builder, mock_context, noop_assets};

    /// A mock app holding a real daemon (temporary data dir, port 0).
    fn app() -> (tauri::App<tauri::test::MockRuntime>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.yaml"),
            "api:\n  bind: 127.0.0.1:0\nipc:\n  bind: 127.0.0.1:0\n",
        )
        .unwrap();
        let session = tauri::async_runtime::block_on(Session::start(Some(dir.path().into())))
            .expect("the daemon starts");
        let app = mock_builder()
            .manage(Arc::new(session))
            .build(mock_context(noop_assets()))
            .unwrap();
        (app, dir)
    }

    #[test]
    fn windows_are_web_ui_pages_signed_in_with_fresh_tickets() {
        let (app, _dir) = app();
        let h = app.handle();
        open_unlock(h);
        let w = h.get_webview_window("unlock").expect("unlock window");
        let url = w.url().unwrap();
        assert_eq!(url.host_str(), Some("127.0.0.1"));
        assert_eq!(url.fragment(), Some("/unlock"));
        let ticket = url
            .query_pairs()
            .find(|(k, _)| k == "bootstrap")
            .map(|(_, v)| v.into_owned())
            .expect("a bootstrap ticket");
        // Asking again raises the same window.
        open_unlock(h);
        assert_eq!(h.webview_windows().len(), 1);

        // The ticket is real: the daemon trades it for a bearer, once.
        let session = h.state::<Arc<Session>>();
        let auth = &session.state().auth;
        assert!(tauri::async_runtime::block_on(auth.exchange_ticket(&ticket)).is_ok());
        assert!(tauri::async_runtime::block_on(auth.exchange_ticket(&ticket)).is_err());

        // One popup per request; ids that are not plain hex are refused.
        open_approval(h, "0123abcd", "Chess");
        let popup = h.get_webview_window("approval-0123abcd").expect("popup");
        assert_eq!(popup.url().unwrap().fragment(), Some("/popup/0123abcd"));
        open_approval(h, "../evil", "Chess");
        assert_eq!(h.webview_windows().len(), 2);
        close_approval(h, "0123abcd");

        open_route(h, "/approvals");
        let main = h.get_webview_window("main").expect("main window");
        assert_eq!(main.url().unwrap().fragment(), Some("/approvals"));
        tauri::async_runtime::block_on(session.shutdown());
    }
}
