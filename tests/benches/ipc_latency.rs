//! IPC latency under concurrent load: p50/p99 and requests per second of
//! `GET /status` and `GET /link-status` against a real daemon process on
//! loopback (one keep-alive connection per worker, like an SDK's client).
//!
//! Run: `cargo bench -p holdfast-tests --bench ipc_latency`
//! (env `BENCH_SECONDS`, `BENCH_CONCURRENCY` to change the load).

#[path = "../tests/e2e/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::time::{Duration, Instant};

use serde_json::json;

use harness::TestDaemon;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn load(d: &TestDaemon, path: &str, seconds: u64, workers: u64) -> (Vec<Duration>, f64) {
    let url = d.ipc_url(path);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let resp = client.get(&url).send().await.unwrap();
                assert_eq!(resp.status(), 200);
                resp.bytes().await.unwrap();
                samples.push(t.elapsed());
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rps = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (all, rps)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let seconds = env_or("BENCH_SECONDS", 5);
    let workers = env_or("BENCH_CONCURRENCY", 16);
    let d = TestDaemon::start().await;
    let t = d.owner_token().await;
    d.init_identity(&t).await;
    // A linked app, so /link-status answers from a real row.
    let app_key = "uhCAk29vb29vb29vb29vb29vb29vb29vb29vb29vb29vb29uTp5Iv";
    let req = d.ipc_post(
        "/link-identity",
        json!({"app_name": "Bench", "client_id": "bench", "app_agent_pub_key": app_key}),
    );
    let (resp, _) = tokio::join!(req, d.answer(&t, "link", json!({"decision": "allow"})));
    assert_eq!(resp.status(), 200);

    println!(
        "IPC latency, {workers} concurrent keep-alive clients, {seconds} s per route, debug={}",
        cfg!(debug_assertions)
    );
    for path in [
        &format!("/link-status?client_id=bench&app_agent_pub_key={app_key}"),
        "/status",
    ] {
        // Warm up connections and caches.
        load(&d, path, 1, workers).await;
        let (samples, rps) = load(&d, path, seconds, workers).await;
        let name = path.split('?').next().unwrap();
        println!(
            "{name:<14} requests={:<7} rps={rps:>8.0}  p50={:.3} ms  p99={:.3} ms  max={:.3} ms",
            samples.len(),
            pct(&samples, 0.50),
            pct(&samples, 0.99),
            pct(&samples, 1.0),
        );
    }
}
