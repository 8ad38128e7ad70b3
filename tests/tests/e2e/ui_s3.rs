//! The web UI's S3 page in a real browser (`tests/ui/s3.mjs`), at 1280 and
//! 390 px: loading, empty, the listener switch, minting (refused while
//! locked; the secret shown once and copied), permissions added, changed
//! and removed, revoking, the error state, and offline once the daemon
//! really stops.

use serde_json::{Value, json};

use crate::harness::{PASSPHRASE, TestDaemon, loopback_config};
use crate::ui::{artifacts, run_browser_script_with};

#[tokio::test]
async fn ui_s3_page_in_every_state() {
    let config = format!("{}s3:\n  bind: 127.0.0.1:0\n", loopback_config());
    let mut d = TestDaemon::start_with_config(&config).await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    let v: Value = d
        .post_auth("/vaults", &t, json!({"name": "Photos"}))
        .await
        .json()
        .await
        .unwrap();
    let vid = v["id"].as_str().unwrap();
    let r = d
        .put_auth(
            &format!("/vaults/{vid}/s3-alias"),
            &t,
            json!({"alias": "photos"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let pid = d.pid().to_string();
    run_browser_script_with(
        &d,
        "s3.mjs",
        &[("HOLDFAST_PID", &pid), ("HOLDFAST_PASSPHRASE", PASSPHRASE)],
    )
    .await;
    for shot in [
        "s3-loading",
        "s3-locked",
        "s3-empty",
        "s3-minted",
        "s3-grants",
        "s3-error",
        "s3-offline",
    ] {
        for width in [390, 1280] {
            assert!(
                artifacts().join(format!("{shot}-{width}.png")).is_file(),
                "{shot}-{width}.png"
            );
        }
    }
    // The script stopped the daemon with SIGTERM: it shut down cleanly.
    assert!(d.wait_exit().await.success());
}
