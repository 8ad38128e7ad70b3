//! Secrets never reach the logs.

use serde_json::json;

use crate::harness::{PASSWORD, TestDaemon, files_under, logged_in};

#[tokio::test]
async fn passwords_tokens_and_tickets_stay_out_of_the_logs() {
    let d = TestDaemon::start().await;
    let admin = d.admin_token();
    let token = d.owner_token().await;
    d.post_json("/auth/login", json!({"password": "wrong password guess"}))
        .await;
    d.get(&format!("/whoami?token={token}")).await;
    let ticket = d.cli_ticket();
    let second = d.exchange_ticket(&ticket).await;
    d.http
        .post(d.url("/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    let (status, dir) = d.stop().await;
    assert!(status.success());
    let logs = files_under(&dir.path().join("logs"), ".log");
    assert!(!logs.is_empty(), "a log file is written in the data dir");
    let all = logged_in(dir.path());
    assert!(
        all.contains("POST /api/v1/auth/login"),
        "access log present"
    );
    for secret in [
        PASSWORD,
        "wrong password guess",
        &admin,
        &token,
        &ticket,
        &second,
    ] {
        assert!(!all.contains(secret), "a secret reached the logs");
    }
}
