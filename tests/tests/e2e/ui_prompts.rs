//! Approval prompts that tell the truth: a registered app is named by its
//! registered name whatever it calls itself in a request, the claim travels
//! only as `claimed_name`, the audit log records the registered name; an
//! unknown app is shown as unverified. Also the audit log's paging and the
//! data page's summary (not an export). The browser half is
//! `tests/ui/prompts.mjs`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::harness::TestDaemon;
use crate::ipc::{agent_key, ipc_error, ready};
use crate::ui::{artifacts, run_browser_script_with};

const FAKE: &str = "Your Bank (official)";

/// Register and link `notes_sync` as "Notes Sync", as a real client does:
/// a link request the user approves. Returns the app token.
async fn register_notes_sync(d: &TestDaemon, t: &str) -> String {
    let req = d.ipc_post(
        "/link-identity",
        json!({"app_name": "Notes Sync", "client_id": "notes_sync",
               "app_agent_pub_key": agent_key([0x11; 32])}),
    );
    let answer = d.answer(t, "link", json!({"decision": "allow"}));
    let (resp, prompt) = tokio::join!(req, answer);
    // Not known yet: shown as unverified, its name only as a claim.
    assert_eq!(
        prompt["requester"]["app_name"],
        "Unverified app (notes_sync)"
    );
    assert_eq!(prompt["requester"]["name_source"], "unverified");
    assert_eq!(prompt["requester"]["claimed_name"], "Notes Sync");
    assert_eq!(prompt["requester"]["unregistered"], true);
    assert_eq!(prompt["requester"]["linked"], false);
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["app_token"].as_str().unwrap().to_owned()
}

/// The newest audit event of `kind`.
async fn last_audit(d: &TestDaemon, t: &str, kind: &str) -> Value {
    let list: Value = d
        .get_auth(&format!("/audit?types={kind}&limit=1"), t)
        .await
        .json()
        .await
        .unwrap();
    list[0].clone()
}

#[tokio::test]
async fn prompts_and_audit_name_the_registered_app_not_its_claim() {
    let (d, t) = ready().await;
    register_notes_sync(&d, &t).await;
    let first = last_audit(&d, &t, "link").await;
    assert_eq!(first["details"]["app_name"], "Notes Sync");
    assert_eq!(first["details"]["new_app"], true);

    // The registered client asks to link another key, calling itself a bank.
    let req = d.ipc_post(
        "/link-identity",
        json!({"app_name": FAKE, "client_id": "notes_sync",
               "app_agent_pub_key": agent_key([0x12; 32]), "reason": "Sync"}),
    );
    let answer = d.answer(&t, "link", json!({"decision": "allow"}));
    let (resp, prompt) = tokio::join!(req, answer);
    assert_eq!(resp.status(), 200);
    let who = &prompt["requester"];
    assert_eq!(who["app_name"], "Notes Sync", "{prompt}");
    assert_eq!(who["name_source"], "registered");
    assert_eq!(who["claimed_name"], FAKE);
    assert_eq!(who["client_id"], "notes_sync");
    assert_eq!(who["unregistered"], false);
    assert_eq!(who["linked"], true);
    #[cfg(target_os = "linux")]
    assert_eq!(who["pid"], std::process::id());

    // The audit log names the registered app; the claim is marked as such.
    let approval = last_audit(&d, &t, "approval").await;
    assert_eq!(approval["details"]["app_name"], "Notes Sync");
    assert_eq!(approval["details"]["claimed_name"], FAKE);
    assert_eq!(approval["details"]["outcome"], "allowed");
    let link = last_audit(&d, &t, "link").await;
    assert_eq!(link["details"]["app_name"], "Notes Sync");
    assert_eq!(link["details"]["claimed_name"], FAKE);
    assert_eq!(link["details"]["new_app"], false);
    // The app keeps its name; the new link is recorded under it.
    let apps: Value = d.get_auth("/apps", &t).await.json().await.unwrap();
    assert_eq!(apps[0]["name"], "Notes Sync");
    let links: Value = d.get_auth("/links", &t).await.json().await.unwrap();
    assert!(
        links
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["app_name"] == "Notes Sync"),
        "{links}"
    );

    // Sign-in requests too, and a denial is recorded as one.
    let req = d.ipc_post(
        "/authenticate",
        json!({"app_name": FAKE, "client_id": "notes_sync"}),
    );
    let answer = d.answer(&t, "auth", json!({"decision": "deny"}));
    let (resp, prompt) = tokio::join!(req, answer);
    assert_eq!(ipc_error(resp).await, (403, "user_denied".into()));
    assert_eq!(prompt["requester"]["app_name"], "Notes Sync");
    assert_eq!(prompt["requester"]["claimed_name"], FAKE);
    let approval = last_audit(&d, &t, "approval").await;
    assert_eq!(approval["details"]["app_name"], "Notes Sync");
    assert_eq!(approval["details"]["outcome"], "denied");

    // A client that calls itself by its registered name has no claim to show.
    let req = d.ipc_post(
        "/authenticate",
        json!({"app_name": "Notes Sync", "client_id": "notes_sync"}),
    );
    let answer = d.answer(&t, "auth", json!({"decision": "allow"}));
    let (resp, prompt) = tokio::join!(req, answer);
    assert_eq!(resp.status(), 200);
    assert!(prompt["requester"]["claimed_name"].is_null(), "{prompt}");
    let auth = last_audit(&d, &t, "authenticate").await;
    assert_eq!(auth["details"]["app_name"], "Notes Sync");
    assert!(auth["details"].get("claimed_name").is_none(), "{auth}");

    // An app Holdfast never saw is unverified, whatever it claims.
    let req = d.ipc_post(
        "/authenticate",
        json!({"app_name": FAKE, "client_id": "stranger"}),
    );
    let answer = d.answer(&t, "auth", json!({"decision": "deny"}));
    let (_, prompt) = tokio::join!(req, answer);
    assert_eq!(prompt["requester"]["app_name"], "Unverified app (stranger)");
    assert_eq!(prompt["requester"]["name_source"], "unverified");
    assert_eq!(prompt["requester"]["claimed_name"], FAKE);
    assert_eq!(prompt["requester"]["unregistered"], true);
    let approval = last_audit(&d, &t, "approval").await;
    assert_eq!(approval["details"]["app_name"], "Unverified app (stranger)");
    assert_eq!(approval["details"]["claimed_name"], FAKE);
}

#[tokio::test]
async fn sign_prompts_tell_text_from_blind_bytes() {
    let (d, t) = ready().await;
    let token = register_notes_sync(&d, &t).await;
    for (bytes, printable) in [
        (b"Pay 10 EUR to Alice".to_vec(), true),
        (vec![0, 159, 146, 150, 1, 2, 3], false),
        ("pay \u{202e}ecilA".as_bytes().to_vec(), false),
    ] {
        let req = d.ipc_post_as(
            "/sign",
            &token,
            json!({"type": "bytes", "bytes": STANDARD.encode(&bytes)}),
        );
        let answer = d.answer(&t, "sign", json!({"decision": "deny"}));
        let (_, prompt) = tokio::join!(req, answer);
        assert_eq!(prompt["requester"]["app_name"], "Notes Sync");
        assert_eq!(prompt["details"]["printable"], printable, "{prompt}");
        assert_eq!(prompt["details"]["hex"], hex(&bytes));
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn audit_pages_back_with_before_id_and_the_data_summary_is_not_an_export() {
    let (d, t) = ready().await;
    for i in 0..7 {
        let resp = d
            .post_auth(
                "/apps",
                &t,
                json!({"client_id": format!("app_{i}"), "name": format!("App {i}")}),
            )
            .await;
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    }
    let page = |q: String| {
        let d = &d;
        let t = &t;
        async move {
            let v: Value = d
                .get_auth(&format!("/audit?types=app_registered&limit=3{q}"), t)
                .await
                .json()
                .await
                .unwrap();
            v.as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    let first = page(String::new()).await;
    assert_eq!(first.len(), 3);
    let second = page(format!("&before_id={}", first[2])).await;
    let third = page(format!("&before_id={}", second[2])).await;
    let mut all = [first, second, third.clone()].concat();
    assert_eq!(third.len(), 1, "7 events: 3 + 3 + 1");
    assert!(all.windows(2).all(|w| w[0] > w[1]), "newest first: {all:?}");
    all.dedup();
    assert_eq!(all.len(), 7);

    // Looking at the data page reads the summary: not an export.
    let resp = d.get_auth("/backups/export?summary=true", &t).await;
    assert_eq!(resp.status(), 200);
    let exports: Value = d
        .get_auth("/audit?types=export", &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(exports.as_array().unwrap().len(), 0);
    let resp = d.get_auth("/backups/export", &t).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(last_audit(&d, &t, "export").await["type"], "export");
}

/// The prompts in a real browser: the popup and the Approvals page name the
/// registered app, show its claim only on the marked line, the text to sign
/// and the blind-signing warning; the Activity page groups by day and pages.
#[tokio::test]
async fn browser_prompts_show_the_registered_name_and_what_is_signed() {
    let (d, t) = ready().await;
    let token = register_notes_sync(&d, &t).await;
    // A vault, named on the Activity page's second page.
    let resp = d.post_auth("/vaults", &t, json!({"name": "Photos"})).await;
    assert!(resp.status().is_success());
    // Enough events for a second page of the Activity log (50 a page).
    for i in 0..55 {
        let resp = d
            .post_auth(
                "/apps",
                &t,
                json!({"client_id": format!("filler_{i}"), "name": format!("Filler {i}")}),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    let spawn_post = |path: &str, body: Value, bearer: Option<String>| {
        let url = d.ipc_url(path);
        let http = d.http.clone();
        tokio::spawn(async move {
            let mut req = http.post(url).json(&body);
            if let Some(b) = bearer {
                req = req.bearer_auth(b);
            }
            req.send().await.unwrap().status().as_u16()
        })
    };
    // The lying link request: the script opens its popup and denies it.
    let link = spawn_post(
        "/link-identity",
        json!({"app_name": FAKE, "client_id": "notes_sync",
               "app_agent_pub_key": agent_key([0x13; 32]), "reason": "Sync your notes"}),
        None,
    );
    let linked = d.next_approval(&t, "link").await;
    // The same app, proving itself with its token, asks to sign: it may be
    // remembered (it waits behind the link request).
    let sign_app = spawn_post(
        "/sign",
        json!({"type": "bytes", "bytes": STANDARD.encode("note 42"), "client_id": "notes_sync"}),
        Some(token.clone()),
    );
    // Two sign requests from a program that names no app: one text, one
    // binary (the second waits behind the first); and an unknown app.
    let text = "Transfer 25 EUR to Alice Example for the shared flat's electricity bill of November, \
                reference FLAT-2026-11, from the joint account ending 4821. This line is long on \
                purpose so that it has to wrap on a phone.";
    let sign_text = spawn_post(
        "/sign",
        json!({"type": "bytes", "bytes": STANDARD.encode(text), "reason": "Pay the bill"}),
        None,
    );
    d.next_approval(&t, "sign").await;
    let blind: Vec<u8> = (0u8..=255).rev().chain(0u8..64).collect();
    let sign_blind = spawn_post(
        "/sign",
        json!({"type": "bytes", "bytes": STANDARD.encode(&blind)}),
        None,
    );
    let stranger = spawn_post(
        "/authenticate",
        json!({"app_name": FAKE, "client_id": "stranger"}),
        None,
    );
    eventually_pending(&d, &t, 5).await;

    run_browser_script_with(
        &d,
        "prompts.mjs",
        &[
            ("LINK_ID", linked["id"].as_str().unwrap()),
            ("SIGN_TEXT", text),
        ],
    )
    .await;

    // What the browser answered reached the apps.
    assert_eq!(link.await.unwrap(), 403, "denied in the popup");
    assert_eq!(sign_text.await.unwrap(), 200, "allowed on the page");
    assert_eq!(sign_blind.await.unwrap(), 403, "denied on the page");
    assert_eq!(stranger.await.unwrap(), 403, "denied on the page");
    assert_eq!(sign_app.await.unwrap(), 403, "denied after a failed answer");
    let grants: Value = d.get_auth("/grants", &t).await.json().await.unwrap();
    assert_eq!(
        grants.as_array().unwrap().len(),
        0,
        "nothing was remembered"
    );
    let denied = last_audit(&d, &t, "link").await;
    assert_ne!(denied["details"]["claimed_name"], FAKE, "no link was made");
    for shot in [
        "popup-390",
        "popup-1280",
        "popup-answered",
        "approvals-390",
        "approvals-1280",
        "activity-390",
        "activity-1280",
        "activity-older",
    ] {
        assert!(
            artifacts().join(format!("{shot}.png")).is_file(),
            "{shot}.png"
        );
    }
}

/// Wait until `n` requests are pending.
async fn eventually_pending(d: &TestDaemon, t: &str, n: usize) {
    crate::harness::eventually("the requests to be pending", || async {
        let list: Value = d.get_auth("/approvals", t).await.json().await.unwrap();
        (list.as_array().unwrap().len() == n).then_some(())
    })
    .await;
}

/// A popup whose request ends unanswered says how: withdrawn by the app,
/// or (after turning urgent) timed out and denied.
#[tokio::test]
async fn browser_popup_says_withdrawn_and_timed_out() {
    let config = format!(
        "{}identity:\n  approval_timeout_seconds: 18\n",
        crate::harness::loopback_config()
    );
    let d = TestDaemon::start_with_config(&config).await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let ipc = d.ipc_url("");
    run_browser_script_with(
        &d,
        "prompts_deadline.mjs",
        &[("IPC_URL", ipc.trim_end_matches('/'))],
    )
    .await;
    let outcomes: Value = d
        .get_auth("/audit?types=approval", &t)
        .await
        .json()
        .await
        .unwrap();
    let outcomes: Vec<&str> = outcomes
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["details"]["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes[0], "timeout");
    assert!(artifacts().join("popup-urgent-390.png").is_file());
}

/// A new app can be named by the user when its link is approved, so a
/// claimed name never becomes the registered one unless the user keeps it.
/// The name is only for an app not registered yet, and only on a link.
#[tokio::test]
async fn the_user_names_a_new_app_when_approving_its_link() {
    let (d, t) = ready().await;
    let link = |client_id: &'static str, key: u8| {
        d.ipc_post(
            "/link-identity",
            json!({"app_name": FAKE, "client_id": client_id,
                   "app_agent_pub_key": agent_key([key; 32])}),
        )
    };

    // Bad names and the wrong kind of request are refused, the request stays.
    let pending = tokio::spawn({
        let http = d.http.clone();
        let url = d.ipc_url("/link-identity");
        async move {
            http.post(url)
                .json(&json!({"app_name": FAKE, "client_id": "new_notes",
                              "app_agent_pub_key": agent_key([0x21; 32])}))
                .send()
                .await
                .unwrap()
        }
    });
    let prompt = d.next_approval(&t, "link").await;
    let id = prompt["id"].as_str().unwrap();
    for bad in [json!("  "), json!("x".repeat(500)), json!("tab\there")] {
        let resp = d
            .post_auth(
                &format!("/approvals/{id}"),
                &t,
                json!({"decision": "allow", "app_name": bad}),
            )
            .await;
        crate::harness::assert_error(resp, 400).await;
    }
    let resp = d
        .post_auth(
            &format!("/approvals/{id}"),
            &t,
            json!({"decision": "allow", "app_name": "  My notes  "}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(pending.await.unwrap().status(), 200);
    let apps: Value = d.get_auth("/apps", &t).await.json().await.unwrap();
    let app = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["client_id"] == "new_notes")
        .unwrap();
    assert_eq!(app["name"], "My notes", "{app}");
    let audit = last_audit(&d, &t, "link").await;
    assert_eq!(audit["details"]["app_name"], "My notes");
    assert_eq!(audit["details"]["claimed_name"], FAKE);

    // A registered app keeps its name: naming it in the prompt is refused.
    let req = link("new_notes", 0x22);
    let naming = async {
        let a = d.next_approval(&t, "link").await;
        let resp = d
            .post_auth(
                &format!("/approvals/{}", a["id"].as_str().unwrap()),
                &t,
                json!({"decision": "allow", "app_name": "Renamed"}),
            )
            .await;
        crate::harness::assert_error(resp, 400).await;
        d.post_auth(
            &format!("/approvals/{}", a["id"].as_str().unwrap()),
            &t,
            json!({"decision": "deny"}),
        )
        .await
    };
    let (resp, denied) = tokio::join!(req, naming);
    assert_eq!(denied.status(), 200);
    assert_eq!(ipc_error(resp).await.0, 403);
    let apps: Value = d.get_auth("/apps", &t).await.json().await.unwrap();
    assert!(
        apps.as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "My notes")
    );
}
