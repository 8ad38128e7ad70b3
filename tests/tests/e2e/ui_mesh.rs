//! Browser tests of the mesh parts of the vault pages
//! (`tests/ui/replicas.mjs`): the devices that keep a vault, the share
//! link, and joining a shared vault, alone and with a second device.

use serde_json::json;

use crate::mesh::{Node, wait_for};
use crate::ui::run_browser_script_with;

#[tokio::test]
async fn a_vault_alone_says_how_to_add_a_device() {
    let a = Node::start().await;
    let vid = a.create_vault("Alone", 1).await;
    run_browser_script_with(
        &a.d,
        "replicas.mjs",
        &[("HOLDFAST_VAULT", &vid), ("HOLDFAST_DEVICES", "1")],
    )
    .await;
}

#[tokio::test]
async fn a_vault_on_two_devices_lists_both_and_shares() {
    let (a, b) = tokio::join!(Node::start(), Node::start());
    let net = a.create_network().await;
    b.join_network(&a.invite(&net).await).await;
    a.wait_connected(&b.peer_id().await).await;
    let vid = a.create_vault("Together", 2).await;
    a.put(&vid, "/hello.txt", b"hello").await;
    a.share_and_join(&vid, &[&b]).await;
    b.wait_file(&vid, "/hello.txt", b"hello").await;
    wait_for("both in step", || async {
        a.get(&format!("/vaults/{vid}/info")).await["rf_in_sync"] == json!(2)
    })
    .await;
    run_browser_script_with(
        &a.d,
        "replicas.mjs",
        &[("HOLDFAST_VAULT", &vid), ("HOLDFAST_DEVICES", "2")],
    )
    .await;
}
